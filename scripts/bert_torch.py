#!/usr/bin/python3
"""bert_torch.py - check nnkit's BERT engine against PyTorch.

    /usr/bin/python3 scripts/bert_torch.py FILE

FILE is what `test_bert torch FILE` writes: random weights and inputs with
the C library's outputs and gradients.  Three checks, one PASS/FAIL line
each (tests/t_bert_torch.sh runs this):
  (a) the fused in-projection, attention with a key padding mask and the
      output projection against nn.MultiheadAttention;
  (b) one encoder layer against nn.TransformerEncoderLayer (post-norm,
      GELU, no dropout);
  (c) the whole MLM model (embeddings, 2 layers, gathered head with the
      tied output embedding), its logits, loss and every parameter's
      gradient, with GELU in its erf and tanh forms, and with ALiBi's
      distance penalty (an additive attention mask per head).
Padded query positions are not compared: the C code leaves them zero,
torch computes them, and no valid position depends on them.
"""
import importlib.util
import os
import sys

import numpy as np
import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0] if "/" in __file__ else ".")
import nkw  # noqa: E402

# ALiBi's mask as the benchmark's model builds it (torch-bert.py).
_spec = importlib.util.spec_from_file_location(
    "torch_bert", os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch-bert.py"))
_torch_bert = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_torch_bert)
alibi_mask = _torch_bert.alibi_mask

torch.set_num_threads(1)
F = torch.nn.functional


def report(name, pairs, tol):
    worst, where, worst_abs = 0.0, "", 0.0
    for label, got, want in pairs:
        got = np.asarray(got, dtype=np.float64)
        want = want.detach().double().numpy() if torch.is_tensor(want) else np.asarray(want, dtype=np.float64)
        if got.shape != want.shape:
            print("FAIL %s: %s has shape %s, torch %s" % (name, label, got.shape, want.shape))
            return False
        diff = float(np.max(np.abs(got - want))) if got.size else 0.0
        err = diff / (1e-30 + float(np.max(np.abs(want))) if want.size else 1.0)
        if got.size and float(np.max(np.abs(want))) == 0:
            err = diff
        worst_abs = max(worst_abs, diff)
        if err > worst:
            worst, where = err, label
    if worst > tol:
        print("FAIL %s: %s differs from torch by %.3g of its largest magnitude" % (name, where, worst))
        return False
    print("PASS %s: %d outputs and gradients within %.0e of torch (worst relative %.2g in %s, "
          "max abs %.2g)" % (name, len(pairs), tol, worst, where, worst_abs))
    return True


def valid_rows(lengths, T):
    return torch.arange(T)[None, :] < torch.as_tensor(lengths)[:, None]


def main(path):
    f = nkw.load(path)
    t = {k: torch.from_numpy(np.array(v)) for k, v in f.tensors.items()}
    meta = f.meta

    # (a) nn.MultiheadAttention, batch_first, in_proj = qkv_w
    x = t["mha.x"].clone().requires_grad_(True)
    B, T, H = x.shape
    A = 4
    mha = torch.nn.MultiheadAttention(H, A, dropout=0.0, batch_first=True)
    with torch.no_grad():
        mha.in_proj_weight.copy_(t["mha.qkv_w"])
        mha.in_proj_bias.copy_(t["mha.qkv_b"])
        mha.out_proj.weight.copy_(t["mha.proj_w"])
        mha.out_proj.bias.copy_(t["mha.proj_b"])
    valid = valid_rows(t["mha.lengths"], T)
    y, _ = mha(x, x, x, key_padding_mask=~valid, need_weights=False)
    (y * t["mha.R"]).sum().backward()
    report("bert-mha-torch", [
        ("y", t["mha.y"][valid], y[valid]),
        ("dx", t["mha.dx"], x.grad),
        ("dqkv_w", t["mha.dqkv_w"], mha.in_proj_weight.grad),
        ("dqkv_b", t["mha.dqkv_b"], mha.in_proj_bias.grad),
        ("dproj_w", t["mha.dproj_w"], mha.out_proj.weight.grad),
        ("dproj_b", t["mha.dproj_b"], mha.out_proj.bias.grad)], 1e-5)

    L, H, A, FF = meta["L"], meta["H"], meta["A"], meta["FF"]
    eps = meta["ln_eps"]
    ids = t["batch.ids"].long()
    types = t["batch.types"].long()
    lengths = t["batch.lengths"]
    mpos = t["batch.mpos"].long()
    labels = t["batch.mlabel"].long()
    B, T = ids.shape
    valid = valid_rows(lengths, T)

    def encoder_layer(prefix, activation):
        layer = torch.nn.TransformerEncoderLayer(
            H, A, FF, dropout=0.0, activation=activation, layer_norm_eps=eps,
            batch_first=True, norm_first=False)
        w = lambda k: t[prefix + k]
        with torch.no_grad():
            layer.self_attn.in_proj_weight.copy_(w("qkv_w"))
            layer.self_attn.in_proj_bias.copy_(w("qkv_b"))
            layer.self_attn.out_proj.weight.copy_(w("proj_w"))
            layer.self_attn.out_proj.bias.copy_(w("proj_b"))
            layer.norm1.weight.copy_(w("ln1_w"))
            layer.norm1.bias.copy_(w("ln1_b"))
            layer.linear1.weight.copy_(w("ff1_w"))
            layer.linear1.bias.copy_(w("ff1_b"))
            layer.linear2.weight.copy_(w("ff2_w"))
            layer.linear2.bias.copy_(w("ff2_b"))
            layer.norm2.weight.copy_(w("ln2_w"))
            layer.norm2.bias.copy_(w("ln2_b"))
        layer.train()
        return layer

    def layer_grads(layer):
        return {"qkv_w": layer.self_attn.in_proj_weight, "qkv_b": layer.self_attn.in_proj_bias,
                "proj_w": layer.self_attn.out_proj.weight, "proj_b": layer.self_attn.out_proj.bias,
                "ln1_w": layer.norm1.weight, "ln1_b": layer.norm1.bias,
                "ff1_w": layer.linear1.weight, "ff1_b": layer.linear1.bias,
                "ff2_w": layer.linear2.weight, "ff2_b": layer.linear2.bias,
                "ln2_w": layer.norm2.weight, "ln2_b": layer.norm2.bias}

    # (b) one encoder layer
    layer = encoder_layer("model.layer.0.", "gelu")
    x = t["enc.x"].clone().requires_grad_(True)
    y = layer(x, src_key_padding_mask=~valid)
    (y * t["enc.R"]).sum().backward()
    pairs = [("y", t["enc.y"][valid], y[valid]), ("dx", t["enc.dx"], x.grad)]
    for k, p in layer_grads(layer).items():
        pairs.append(("d" + k, t["enc.grad." + k], p.grad))
    report("bert-encoder-layer-torch", pairs, 1e-5)

    # (c) the whole model: erf, tanh, and erf with ALiBi
    for pre, gelu in (("", "none"), ("tanh.", "tanh"), ("alibi.", "none")):
        bias = alibi_mask(B, A, T) if pre == "alibi." else None
        act = (lambda v: F.gelu(v, approximate=gelu))
        P = {k[len(pre) + 6:]: t[k].clone().requires_grad_(True)
             for k in t if k.startswith(pre + "model.")}
        layers = [encoder_layer(pre + "model.layer.%d." % l, act) for l in range(L)]
        emb = P["wte"][ids] + P["wtt"][types] + P["wpe"][torch.arange(T)][None]
        h = F.layer_norm(emb, (H,), P["ln_emb_w"], P["ln_emb_b"], eps)
        for layer in layers:
            h = layer(h, src_mask=bias, src_key_padding_mask=~valid)
        g = h.reshape(-1, H)[mpos]
        d = act(F.linear(g, P["mlm_w"], P["mlm_b"]))
        d = F.layer_norm(d, (H,), P["mlm_ln_w"], P["mlm_ln_b"], eps)
        logits = F.linear(d, P["wte"], P["mlm_bias"])
        loss = F.cross_entropy(logits, labels)
        loss.backward()
        pairs = [("loss", meta[pre + "loss"], loss),
                 ("summed eval loss", meta[pre + "lsum"], loss * len(labels)),
                 ("logits", t[pre + "logits"], logits)]
        for k, p in P.items():
            if k.startswith("layer."):
                continue
            pairs.append(("d" + k, t[pre + "grad." + k], p.grad))
        for l, layer in enumerate(layers):
            for k, p in layer_grads(layer).items():
                name = "layer.%d.%s" % (l, k)
                pairs.append(("d" + name, t[pre + "grad." + name], p.grad))
        report("bert-model-%s-torch" % (pre[:-1] or "erf"), pairs, 1e-4)


if __name__ == "__main__":
    main(sys.argv[1])
