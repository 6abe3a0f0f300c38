"""darknet_torch.py - a darknet cfg run in PyTorch from an nnkit weight file
(scripts/nkw.py), for reference tests of the training engine
(tests/t_darknet_train_torch.sh).  Covers the layers a training cfg uses:
convolutional (batch_normalize, groups, pad/padding, activations linear,
leaky, relu, logistic, mish, silu), connected, maxpool (darknet's
padding, size 2 stride 1 included), avgpool, route, shortcut (alpha,
beta, between sizes as darknet's shortcut_cpu), upsample (stride, scale),
reorg (darknet's index order), dropout and cost (identity).  Batch norm trains as PyTorch's.  The
parameters are held in double precision: the reference is then exact to
well below float rounding, and what a comparison shows is our error."""
import numpy as np
import torch
import torch.nn.functional as F


def parse_cfg(text):
    secs = []
    for line in text.splitlines():
        line = line.split("#")[0].strip()
        if not line:
            continue
        if line.startswith("["):
            secs.append((line[1:-1], {}))
        else:
            k, v = line.split("=", 1)
            secs[-1][1][k.strip()] = v.strip()
    return secs


def act(x, name):
    if name == "linear":
        return x
    if name == "leaky":
        return F.leaky_relu(x, 0.1)
    if name == "relu":
        return F.relu(x)
    if name == "logistic":
        return torch.sigmoid(x)
    if name == "mish":
        return x * torch.tanh(F.softplus(x))
    if name in ("silu", "swish"):
        return x * torch.sigmoid(x)
    raise ValueError("activation " + name)


def reorg_index(c, h, w, s):
    """darknet's reorg_cpu(forward=0): out[in_index] = x[out_index]."""
    oc = c // (s * s)
    idx = np.empty(c * h * w, dtype=np.int64)
    for k in range(c):
        c2, off = k % oc, k // oc
        for j in range(h):
            for i in range(w):
                w2, h2 = i * s + off % s, j * s + off // s
                idx[i + w * (j + h * k)] = w2 + w * s * (h2 + h * s * c2)
    return torch.from_numpy(idx)


class Net:
    def __init__(self, f, dtype=np.float64):
        """f: a loaded .nkw (nkw.load) holding darknet_cfg and L*.* tensors;
        the parameters become leaf tensors of `dtype` that require grad."""
        secs = parse_cfg(f.meta["darknet_cfg"])
        self.net, self.layers = secs[0][1], secs[1:]
        self.p = {}
        for k, v in f.tensors.items():
            if k.startswith("L"):
                t = torch.from_numpy(np.array(v, dtype=dtype))
                self.p[k] = t.clone().requires_grad_(not k.endswith((".mean", ".var")))

    def forward(self, x, momentum, eps, training=True):
        outs = []
        for i, (typ, kv) in enumerate(self.layers):
            g = lambda k, d: kv.get(k, d)
            if typ in ("convolutional", "conv"):
                size, stride = int(g("size", 1)), int(g("stride", 1))
                pad = size // 2 if int(g("pad", 0)) else int(g("padding", 0))
                bn = int(g("batch_normalize", 0))
                w, b = self.p["L%d.conv.weight" % i], self.p["L%d.conv.bias" % i]
                y = F.conv2d(x, w, None if bn else b, stride, pad, 1, int(g("groups", 1)))
                if bn:
                    y = F.batch_norm(y, self.p["L%d.bn.mean" % i], self.p["L%d.bn.var" % i],
                                     self.p["L%d.bn.scale" % i], b, training, momentum, eps)
                x = act(y, g("activation", "logistic"))
            elif typ in ("connected", "conn"):
                w, b = self.p["L%d.fc.weight" % i], self.p["L%d.fc.bias" % i]
                x = act(F.linear(x.reshape(x.shape[0], -1), w, b), g("activation", "logistic"))
                x = x.reshape(x.shape[0], -1, 1, 1)
            elif typ in ("maxpool", "max"):
                stride = int(g("stride", 1))
                size = int(g("size", stride))
                pad = int(g("padding", size - 1))
                lo = pad // 2
                x = F.pad(x, (lo, pad - lo, lo, pad - lo), value=-float("inf"))
                x = F.max_pool2d(x, size, stride)
            elif typ in ("avgpool", "avg"):
                x = x.mean(dim=(2, 3), keepdim=True)
            elif typ == "route":
                idx = [int(v) for v in g("layers", "").split(",")]
                x = torch.cat([outs[j if j >= 0 else i + j] for j in idx], 1)
            elif typ == "shortcut":
                j = int(g("from", 0))
                f = outs[j if j >= 0 else i + j]
                a, b = float(g("alpha", 1)), float(g("beta", 1))
                if f.shape == x.shape:
                    x = a * x + b * f
                else:
                    # darknet's shortcut_cpu: the overlap, the larger
                    # side stepped by the ratio of the sides
                    st = max(f.shape[3] // x.shape[3], 1)
                    sa = max(x.shape[3] // f.shape[3], 1)
                    mc = min(f.shape[1], x.shape[1])
                    mh = min(f.shape[2], x.shape[2])
                    mw = min(f.shape[3], x.shape[3])
                    x = x.clone()
                    xo = x[:, :mc, ::sa, ::sa][:, :, :mh, :mw]
                    fa = f[:, :mc, ::st, ::st][:, :, :mh, :mw]
                    x[:, :mc, ::sa, ::sa][:, :, :mh, :mw] = a * xo + b * fa
                x = act(x, g("activation", "linear"))
            elif typ == "upsample":
                s = int(g("stride", 2))
                x = x.repeat_interleave(s, 2).repeat_interleave(s, 3) * float(g("scale", 1))
            elif typ == "reorg":
                s = int(g("stride", 1))
                B, c, h, w = x.shape
                x = x.reshape(B, -1)[:, reorg_index(c, h, w, s)]
                x = x.reshape(B, c * s * s, h // s, w // s)
            elif typ in ("dropout", "cost", "grid", "centernet"):
                pass
            else:
                raise ValueError("layer " + typ)
            outs.append(x)
        return outs
