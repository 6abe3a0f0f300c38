# t_bert_torch.sh - BERT's attention, encoder layer and whole MLM model
# against PyTorch (Debian's python3-torch for /usr/bin/python3).
#
# test_bert writes random weights and inputs with this library's outputs
# and gradients to one weight file (test_bert torch FILE);
# scripts/bert_torch.py runs nn.MultiheadAttention,
# nn.TransformerEncoderLayer and the whole model in torch on the same
# numbers and compares.  Without torch (or numpy) the checks are SKIPped.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
PY=/usr/bin/python3
bin=$PWD/$BUILD/tests/test_bert
if [ ! -x "$bin" ]; then
	echo "FAIL bert-torch: $bin not built"
	exit 0
fi
if ! [ -x $PY ] || ! $PY -c 'import numpy, torch' 2>/dev/null; then
	echo "SKIP bert-torch: Debian's python3-torch is not installed (scripts/deps installs it)"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! "$bin" torch "$tmp/bert.nkw"; then
	echo "FAIL bert-torch: test_bert could not write its data"
	exit 0
fi
out=$($PY scripts/bert_torch.py "$tmp/bert.nkw" 2>&1)
rc=$?
printf '%s\n' "$out"
if [ $rc -ne 0 ]; then
	echo "FAIL bert-torch: scripts/bert_torch.py exited $rc"
	printf '%s\n' "$out" | tail -n 5 | sed 's/^/    /'
fi
