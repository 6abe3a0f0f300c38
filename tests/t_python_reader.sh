#!/usr/bin/env bash
# t_python_reader.sh - scripts/nkw.py against the C reader and writer.
#
# The C side is $BUILD/tests/test_wfile --write-sample / --check-sample:
# C writes the sample model (plain and zlib), Python reads every value;
# Python writes it, C checks every value; the plain files must be byte-
# identical.  Python must also reject every truncation and damaged byte
# that C rejects.  Needs Debian's /usr/bin/python3 with numpy, else SKIP.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
PY=/usr/bin/python3
T=$BUILD/tests/test_wfile

if [ ! -x "$PY" ] || ! "$PY" -c 'import numpy' 2>/dev/null; then
	echo "SKIP python-reader: $PY with numpy is not installed"
	exit 0
fi
if [ ! -x "$T" ]; then
	echo "FAIL python-reader: $T is not built"
	exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# check NAME COMMAND...: PASS when the command succeeds, else FAIL with
# its output.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		echo "PASS python-reader-$name"
	else
		echo "FAIL python-reader-$name"
		printf '%s\n' "$out" | head -n 20 | sed 's/^/    /'
	fi
}

cat >"$tmp/t.py" <<'EOF'
import os, struct, sys, zlib
sys.path.insert(0, "scripts")
import numpy as np
import nkw

I64_MIN, I64_MAX = -(1 << 63), (1 << 63) - 1

def sample():
    """The sample model of test_wfile.c, built independently here."""
    meta = {
        "program": "test_wfile", "model": "sample", "n_layers": 3,
        "neg": -5, "lr": 0.001, "eps": 1e-300,
        "sizes": [256, 128, -1, I64_MIN, I64_MAX],
        "betas": [0.9, 0.999, -2.5], "empty": [], "empty_str": "",
        "utf8": "h\u00e9llo w\u00f6rld",
    }
    i = np.arange(24)
    tensors = {
        "emb": (np.arange(12) * 0.5 - 1).astype(np.float32).reshape(3, 4),
        "idx": ((np.arange(5) - 2) * 100000).astype(np.int32),
        "bytes": ((i * 37 + 11) & 255).astype(np.uint8).reshape(2, 3, 4),
        "f64": np.array([[3.141592653589793, -0.0], [1e300, -1e-300]]),
        "i64": np.array([I64_MIN, 0, I64_MAX], dtype=np.int64),
        "scalar": np.array(42.5, dtype=np.float32),
        "empty": np.zeros((0, 5), dtype=np.float32),
        "lstm.0.w": ((i * 3 % 17 - 8) / 4.0).astype(np.float32).reshape(8, 3),
    }
    return meta, tensors

def check(path):
    f = nkw.load(path)
    meta, tensors = sample()
    assert list(f.meta) == list(meta), list(f.meta)
    for k, v in meta.items():
        assert f.meta[k] == v and type(f.meta[k]) == type(v), (k, f.meta[k])
    assert f.meta_types["empty"] == "ints" and f.meta_types["betas"] == "floats"
    assert list(f.tensors) == list(tensors), list(f.tensors)
    for k, v in tensors.items():
        a = f.tensors[k]
        assert a.dtype == v.dtype and a.shape == v.shape, (k, a.dtype, a.shape)
        assert a.tobytes() == v.tobytes(), k
        assert not a.flags.writeable
    assert f.dtypes["bytes"] == "u8"
    assert np.signbit(f.tensors["f64"][0, 1])

def write(path, compress):
    meta, tensors = sample()
    nkw.save(path, meta, tensors, compress=compress == "1")

def rejects(path):
    """Every cut and every byte ^ 0xFF / ^ 0x01 fails with NkwError."""
    good = open(path, "rb").read()
    nkw.loads(good, "good.nkw")
    for k in range(len(good)):
        try:
            nkw.loads(good[:k], "dam.nkw")
        except nkw.NkwError as e:
            assert "dam.nkw: " in str(e) and "truncated" in str(e), (k, e)
        else:
            raise AssertionError("cut at %d passed" % k)
        for mask in (0xFF, 0x01, 0x80):
            b = bytearray(good)
            b[k] ^= mask
            try:
                nkw.loads(bytes(b), "dam.nkw")
            except nkw.NkwError as e:
                assert "dam.nkw: " in str(e), e
            else:
                raise AssertionError("byte %d ^ %#x passed" % (k, mask))
            try:  # behind the CRC: any result but a crash
                nkw.loads(bytes(b), "dam.nkw", check_crc=False)
            except nkw.NkwError:
                pass

def newer(path):
    b = bytearray(open(path, "rb").read())
    b[4] = 2
    struct.pack_into("<I", b, 44, zlib.crc32(bytes(b[:44])))
    open(path, "wb").write(b)
    try:
        nkw.load(path)
    except nkw.NkwError as e:
        want = ("written by a newer nnkit (format version 2, this reads up "
                "to 1); upgrade nnkit")
        assert str(e) == path + ": " + want, e
    else:
        raise AssertionError("version 2 passed")

def bad_save(d):
    """A failing save leaves the old file and no temporary behind."""
    path = os.path.join(d, "keep.nkw")
    write(path, "0")
    before = open(path, "rb").read()
    n = len(os.listdir(d))
    for bad in ({"x": np.zeros(3, dtype=np.float16)},
                {"": np.zeros(3, dtype=np.float32)},
                {"x": np.zeros([1] * 9, dtype=np.float32)}):
        try:
            nkw.save(path, {}, bad)
        except nkw.NkwError:
            pass
        else:
            raise AssertionError("saved %r" % (bad,))
    for meta in ({"k": object()}, {"k": "a\0b"}, {"k": 1 << 63}):
        try:
            nkw.save(path, meta, {})
        except nkw.NkwError:
            pass
        else:
            raise AssertionError("saved %r" % (meta,))
    try:
        nkw.save(os.path.join(d, "no-such-dir", "x.nkw"), {}, {})
    except FileNotFoundError:
        pass
    else:
        raise AssertionError("saved into a missing directory")
    assert open(path, "rb").read() == before
    assert len(os.listdir(d)) == n, os.listdir(d)

def agree(prog, *paths):
    """C and Python give the same verdict and message on every file, with
    the CRC checks and without (zlib's own words may differ by version)."""
    import re, subprocess
    for path in paths:
        for flags in ([], ["--no-crc"]):
            try:
                nkw.loads(open(path, "rb").read(), path, check_crc=not flags)
                py = "ok"
            except nkw.NkwError as e:
                py = str(e)
            c = subprocess.run([prog, "--validate", path] + flags,
                               capture_output=True).stdout
            c = c.decode("utf-8", "surrogateescape").rstrip("\n")
            norm = lambda m: re.sub(r"damaged \(.*\)$", "damaged", m)
            assert norm(c) == norm(py), "%s %s\n  C:      %s\n  Python: %s" % (
                path, flags, c, py)

globals()[sys.argv[1]](*sys.argv[2:])
EOF

py() { "$PY" "$tmp/t.py" "$@"; }

check c-writes-plain "$T" --write-sample "$tmp/c.nkw"
check c-writes-zlib "$T" --write-sample "$tmp/cz.nkw" --compress
check reads-c-plain py check "$tmp/c.nkw"
check reads-c-zlib py check "$tmp/cz.nkw"
check writes-plain py write "$tmp/p.nkw" 0
check writes-zlib py write "$tmp/pz.nkw" 1
check c-reads-python-plain "$T" --check-sample "$tmp/p.nkw"
check c-reads-python-zlib "$T" --check-sample "$tmp/pz.nkw"
check same-bytes-as-c cmp "$tmp/c.nkw" "$tmp/p.nkw"
check rejects-damage-plain py rejects "$tmp/c.nkw"
check rejects-damage-zlib py rejects "$tmp/cz.nkw"
cp "$tmp/c.nkw" "$tmp/v2.nkw"
check newer-version py newer "$tmp/v2.nkw"
check c-rejects-newer sh -c "! '$T' --check-sample '$tmp/v2.nkw' 2>'$tmp/err' &&
	grep -q 'v2.nkw: written by a newer nnkit (format version 2, this reads up to 1); upgrade nnkit' '$tmp/err'"
check agrees-with-c-on-corpus py agree "$T" tests/fuzz/corpus/wfile/* \
	"$tmp/c.nkw" "$tmp/cz.nkw" "$tmp/v2.nkw"
mkdir "$tmp/save"
check failed-save-keeps-file py bad_save "$tmp/save"

# The listing, line by line.
cat >"$tmp/want" <<EOF
$tmp/c.nkw: format 1, 11 metadata, 8 tensors, 512 bytes of data
meta program str test_wfile
meta model str sample
meta n_layers int 3
meta neg int -5
meta lr float 0.001
meta eps float 1e-300
meta sizes ints 256,128,-1,-9223372036854775808,9223372036854775807
meta betas floats 0.9,0.999,-2.5
meta empty ints 
meta empty_str str 
meta utf8 str héllo wörld
tensor emb f32 (3,4)
tensor idx i32 (5)
tensor bytes u8 (2,3,4)
tensor f64 f64 (2,2)
tensor i64 i64 (3)
tensor scalar f32 ()
tensor empty f32 (0,5)
tensor lstm.0.w f32 (8,3)
EOF
check listing sh -c "'$PY' scripts/nkw.py '$tmp/c.nkw' | diff '$tmp/want' -"
head -c 700 "$tmp/c.nkw" >"$tmp/cut.nkw"
check listing-reports-damage sh -c "! '$PY' scripts/nkw.py '$tmp/cut.nkw' '$tmp/c.nkw' >'$tmp/out' 2>'$tmp/err' &&
	grep -q '^nkw.py: $tmp/cut.nkw: truncated: header says 512 bytes of data, file has 188' '$tmp/err' &&
	grep -q '^tensor lstm.0.w f32 (8,3)$' '$tmp/out'"
exit 0
