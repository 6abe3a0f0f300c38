# t_nn_torch.sh - the training engine's layers and optimizers against
# PyTorch (Debian's python3-torch for /usr/bin/python3), layer by layer.
#
# test_nn writes random inputs and weights together with this library's
# outputs and gradients to one weight file (test_nn torch FILE); the
# Python side reads it with scripts/nkw.py, runs torch.nn.RNN, LSTM, GRU,
# layer_norm, cross_entropy, torch.optim.AdamW and SGD on the same
# numbers, and compares.  Without torch (or numpy) the checks are SKIPped.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
PY=/usr/bin/python3
bin=$PWD/$BUILD/tests/test_nn
if [ ! -x "$bin" ]; then
	echo "FAIL nn-torch: $bin not built"
	exit 0
fi
if ! [ -x $PY ] || ! $PY -c 'import numpy, torch' 2>/dev/null; then
	echo "SKIP nn-torch: Debian's python3-torch is not installed (scripts/deps installs it)"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! "$bin" torch "$tmp/nn.nkw"; then
	echo "FAIL nn-torch: test_nn could not write its data"
	exit 0
fi
$PY - "$tmp/nn.nkw" <<'EOF'
import sys
sys.path.insert(0, "scripts")
import numpy as np
import torch
import nkw

torch.set_num_threads(1)
f = nkw.load(sys.argv[1])
t = {k: torch.from_numpy(np.array(v)) for k, v in f.tensors.items()}

def report(name, pairs, tol):
    worst, where = 0.0, ""
    for label, got, want in pairs:
        got = np.asarray(got, dtype=np.float64)
        want = want.detach().double().numpy() if torch.is_tensor(want) else np.asarray(want, dtype=np.float64)
        if got.shape != want.shape:
            print("FAIL %s: %s has shape %s, torch %s" % (name, label, got.shape, want.shape))
            return
        err = float(np.max(np.abs(got - want)) / (1.0 + np.max(np.abs(want))))
        if err > worst:
            worst, where = err, label
    if worst > tol:
        print("FAIL %s: %s differs from torch by %.3g (relative to its scale)" % (name, where, worst))
    else:
        print("PASS %s: %d outputs and gradients within %.1g of torch (worst %.2g)"
              % (name, len(pairs), tol, worst))

for cell, G in (("rnn", 1), ("lstm", 4), ("gru", 3)):
    p = lambda k: t["%s.%s" % (cell, k)]
    T, B, I = p("x").shape
    H = p("h0").shape[1]
    mod = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](I, H)
    with torch.no_grad():
        mod.weight_ih_l0.copy_(p("w_ih"))
        mod.weight_hh_l0.copy_(p("w_hh"))
        mod.bias_ih_l0.copy_(p("b_ih"))
        mod.bias_hh_l0.copy_(p("b_hh"))
    x = p("x").clone().requires_grad_(True)
    h0 = p("h0").clone().unsqueeze(0).requires_grad_(True)
    if cell == "lstm":
        c0 = p("c0").clone().unsqueeze(0).requires_grad_(True)
        y, (hn, cn) = mod(x, (h0, c0))
    else:
        y, hn = mod(x, h0)
    (y * p("R")).sum().backward()
    pairs = [("h", p("h"), y), ("dx", p("dx"), x.grad), ("dh0", p("dh0"), h0.grad[0]),
             ("dw_ih", p("dw_ih"), mod.weight_ih_l0.grad),
             ("dw_hh", p("dw_hh"), mod.weight_hh_l0.grad),
             ("db_ih", p("db_ih"), mod.bias_ih_l0.grad),
             ("db_hh", p("db_hh"), mod.bias_hh_l0.grad)]
    if cell == "lstm":
        pairs += [("c_last", p("c_last"), cn[0]), ("dc0", p("dc0"), c0.grad[0])]
    report("%s-torch" % cell, pairs, 1e-5)

x = t["ln.in"].clone().requires_grad_(True)
w = t["ln.w"].clone().requires_grad_(True)
b = t["ln.b"].clone().requires_grad_(True)
y = torch.nn.functional.layer_norm(x, (x.shape[1],), w, b, eps=1e-5)
(y * t["ln.R"]).sum().backward()
report("layernorm-torch", [("out", t["ln.out"], y), ("din", t["ln.din"], x.grad),
                           ("dw", t["ln.dw"], w.grad), ("db", t["ln.db"], b.grad)], 1e-5)

lg = t["xent.logits"].clone().requires_grad_(True)
loss = torch.nn.functional.cross_entropy(lg, t["xent.targets"].long())
loss.backward()
report("softmax-xent-torch", [("loss", f.meta["xent.loss"], loss),
                              ("dlogits", t["xent.dlogits"], lg.grad)], 1e-6)

pa = t["opt.p0"].clone().requires_grad_(True)
ps = t["opt.p0"].clone().requires_grad_(True)
adamw = torch.optim.AdamW([pa], lr=1e-2, betas=(0.9, 0.99), eps=1e-8, weight_decay=0.1)
sgd = torch.optim.SGD([ps], lr=1e-1, momentum=0.9, weight_decay=0.01)
for s in range(3):
    pa.grad = t["opt.grads"][s].clone()
    ps.grad = t["opt.grads"][s].clone()
    adamw.step()
    sgd.step()
report("adamw-torch", [("params after 3 steps", t["opt.adamw"], pa)], 1e-6)
report("sgd-momentum-torch", [("params after 3 steps", t["opt.sgd"], ps)], 1e-6)
EOF
