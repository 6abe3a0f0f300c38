# t_conv_torch.sh - the convolutional layers against PyTorch (Debian's
# python3-torch for /usr/bin/python3), forward and backward, and darknet's
# reorg against OpenCV's darknet importer (python3-opencv).
#
# test_conv writes random inputs and weights together with this library's
# outputs and gradients to one weight file (test_conv torch FILE); the
# Python side reads it with scripts/nkw.py, runs conv2d (strides, padding,
# groups), batch_norm (train with the running-statistics update, and
# eval), max_pool2d, avg_pool2d (count_include_pad=False), nearest
# interpolate, leaky_relu, relu, sigmoid, mish and silu on the same numbers
# with autograd for the gradients of sum(out * R), and compares.  darknet's
# size=2 stride=1 maxpool is max_pool2d of the input padded with -inf on
# the right and bottom.  Without torch (or numpy) the checks are SKIPped;
# without cv2 the reorg check is.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
PY=/usr/bin/python3
bin=$PWD/$BUILD/tests/test_conv
if [ ! -x "$bin" ]; then
	echo "FAIL conv-torch: $bin not built"
	exit 0
fi
if ! [ -x $PY ] || ! $PY -c 'import numpy, torch' 2>/dev/null; then
	echo "SKIP conv-torch: Debian's python3-torch is not installed (scripts/deps installs it)"
	echo "SKIP reorg-opencv: Debian's python3-torch and python3-opencv are not installed"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! "$bin" torch "$tmp/conv.nkw"; then
	echo "FAIL conv-torch: test_conv could not write its data"
	exit 0
fi
$PY - "$tmp/conv.nkw" "$tmp" <<'PYEOF'
import os
import sys
sys.path.insert(0, "scripts")
import numpy as np
import torch
import torch.nn.functional as F
import nkw

torch.set_num_threads(1)
f = nkw.load(sys.argv[1])
t = {k: torch.from_numpy(np.array(v)).double() for k, v in f.tensors.items()}

def report(name, pairs, tol):
    worst, where = 0.0, ""
    for label, got, want in pairs:
        got = np.asarray(got, dtype=np.float64)
        want = want.detach().double().numpy() if torch.is_tensor(want) else np.asarray(want, dtype=np.float64)
        if got.shape != want.shape:
            print("FAIL %s: %s has shape %s, torch %s" % (name, label, got.shape, want.shape))
            return
        err = float(np.max(np.abs(got - want)) / (1.0 + np.max(np.abs(want))))
        if not err <= worst:
            worst, where = err, label
    if not worst <= tol:
        print("FAIL %s: %s differs from torch by %.3g (relative to its scale)" % (name, where, worst))
    else:
        print("PASS %s: %d outputs and gradients within %.1g of torch (worst %.2g)"
              % (name, len(pairs), tol, worst))

def leaf(k):
    return t[k].clone().requires_grad_(True)

# Torch computes in double here: the reference is the exact function of
# the float inputs, and our float results must be within tol of it.
pairs = []
for i in range(f.meta["nconv"]):
    p = "conv%d." % i
    stride, pad, groups = f.meta[p + "shape"]
    x, w, b = leaf(p + "in"), leaf(p + "w"), leaf(p + "b")
    y = F.conv2d(x, w, b, stride=stride, padding=pad, groups=groups)
    (y * t[p + "R"]).sum().backward()
    pairs += [(p + "out", t[p + "out"], y), (p + "din", t[p + "din"], x.grad),
              (p + "dw", t[p + "dw"], w.grad), (p + "db", t[p + "db"], b.grad)]
report("conv2d-torch", pairs, 1e-5)

x, g, b = leaf("bn.in"), leaf("bn.scale"), leaf("bn.bias")
rm, rv = t["bn.rm0"].clone(), t["bn.rv0"].clone()
y = F.batch_norm(x, rm, rv, g, b, training=True, momentum=0.1, eps=1e-5)
(y * t["bn.R"]).sum().backward()
ev = F.batch_norm(t["bn.in"], rm, rv, t["bn.scale"], t["bn.bias"], training=False, eps=1e-5)
report("batchnorm-torch", [("out", t["bn.out"], y), ("running_mean", t["bn.rm"], rm),
                           ("running_var", t["bn.rv"], rv), ("din", t["bn.din"], x.grad),
                           ("dscale", t["bn.dscale"], g.grad), ("dbias", t["bn.dbias"], b.grad),
                           ("eval out", t["bn.eval"], ev)], 1e-5)

pairs = []
for name in ("max0", "max1", "maxdk", "avg0", "avg1"):
    k, s, pad = f.meta[name + ".shape"]
    x = leaf(name + ".in")
    if name == "maxdk":
        y = F.max_pool2d(F.pad(x, (0, k - 1, 0, k - 1), value=-float("inf")), k, s)
    elif name.startswith("max"):
        y = F.max_pool2d(x, k, s, pad)
    else:
        y = F.avg_pool2d(x, k, s, pad, count_include_pad=False)
    (y * t[name + ".R"]).sum().backward()
    pairs += [(name + " out", t[name + ".out"], y), (name + " din", t[name + ".din"], x.grad)]
report("pool-torch", pairs, 1e-6)

x = leaf("up.in")
y = F.interpolate(x, scale_factor=2, mode="nearest")
(y * t["up.R"]).sum().backward()
report("upsample-torch", [("out", t["up.out"], y), ("din", t["up.din"], x.grad)], 1e-6)

fns = {"leaky": lambda v: F.leaky_relu(v, 0.1), "relu": F.relu, "logistic": torch.sigmoid,
       "mish": F.mish, "silu": F.silu}
pairs = []
for name, fn in fns.items():
    x = leaf(name + ".in")
    y = fn(x)
    (y * t[name + ".R"]).sum().backward()
    pairs += [(name + " out", t[name + ".out"], y), (name + " din", t[name + ".din"], x.grad)]
report("activations-torch", pairs, 2e-6)

try:
    import cv2
except ImportError:
    cv2 = None
if cv2 is None:
    print("SKIP reorg-opencv: Debian's python3-opencv is not installed")
else:
    x = f.tensors["reorg.in"]
    cfg = os.path.join(sys.argv[2], "reorg.cfg")
    with open(cfg, "w") as fp:
        fp.write("[net]\nbatch=1\nchannels=%d\nheight=%d\nwidth=%d\n\n[reorg]\nstride=2\n" % x.shape[1:])
    net = cv2.dnn.readNetFromDarknet(cfg)
    net.setInput(np.ascontiguousarray(x, dtype=np.float32))
    want = net.forward()
    got = f.tensors["reorg.out"]
    if want.shape != got.shape:
        print("FAIL reorg-opencv: shape %s, OpenCV %s" % (got.shape, want.shape))
    elif not np.array_equal(got, want):
        print("FAIL reorg-opencv: %d of %d elements differ from OpenCV's ReorgLayer"
              % (int(np.sum(got != want)), got.size))
    else:
        print("PASS reorg-opencv: darknet's reorg equals OpenCV's ReorgLayer (%d elements)" % got.size)
PYEOF
