# t_darknet_train_torch.sh - training a darknet network (models/
# darknet_train.h) against PyTorch (Debian's python3-torch).
#
# test_darknet_train torch FILE writes a network with every trainable
# layer type (cfg text and weights as an .nkw), an input batch, and this
# library's training-mode output, every parameter gradient of the loss
# sum(out^2) and the running statistics after the step (tensors
# "after.L*": gradients for weights, biases and scales, running values for
# bn.mean and bn.var).  scripts/darknet_torch.py builds the same network in
# torch (in double precision) from the file; the two must agree to 1e-5
# of each tensor's scale.
# Without torch (or numpy) the check is SKIPped.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
PY=/usr/bin/python3
bin=$PWD/$BUILD/tests/test_darknet_train
if [ ! -x "$bin" ]; then
	echo "FAIL darknet-train-torch: $bin not built"
	exit 0
fi
if ! [ -x $PY ] || ! $PY -c 'import numpy, torch' 2>/dev/null; then
	echo "SKIP darknet-train-torch: Debian's python3-torch is not installed (scripts/deps installs it)"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! "$bin" torch "$tmp/t.nkw"; then
	echo "FAIL darknet-train-torch: test_darknet_train could not write its data"
	exit 0
fi
$PY - "$tmp/t.nkw" <<'PYEOF'
import sys
sys.path.insert(0, "scripts")
import numpy as np
import torch
import nkw
import darknet_torch

torch.set_num_threads(1)
f = nkw.load(sys.argv[1])
net = darknet_torch.Net(f)
x = torch.from_numpy(np.array(f.tensors["input"], dtype=np.float64))
outs = net.forward(x, float(f.meta["momentum"]), float(f.meta["eps"]))
out = outs[-1].reshape(x.shape[0], -1)
(out.double() ** 2).sum().backward()

pairs = [("out", f.tensors["out"], out)]
for k, p in net.p.items():
    got = f.tensors["after." + k]
    want = p if k.endswith((".mean", ".var")) else p.grad
    pairs.append((k + (" running" if k.endswith((".mean", ".var")) else " grad"), got, want))
worst, where = 0.0, ""
for label, got, want in pairs:
    got = np.asarray(got, dtype=np.float64)
    want = want.detach().double().numpy()
    if got.shape != want.shape:
        print("FAIL darknet-train-torch: %s has shape %s, torch %s" % (label, got.shape, want.shape))
        sys.exit(0)
    err = float(np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1e-30))
    if err > worst:
        worst, where = err, label
tol = 1e-5
if worst > tol:
    print("FAIL darknet-train-torch: %s differs from torch by %.3g of its scale" % (where, worst))
else:
    print("PASS darknet-train-torch: output, %d gradients and running statistics within %.0e of torch (worst %.2g, %s)"
          % (len(pairs) - 1, tol, worst, where))
PYEOF
