# t_pyramid_opencv.sh - pyramid against its peers: OpenCV (python3-opencv)
# for pyrDown/pyrUp byte for byte and INTER_AREA for the scale pyramid,
# PyTorch (python3-torch) for spatial pyramid pooling.  A peer that is not
# installed gives SKIP lines, never PASS.
#
# Images are made here (random and smooth, odd sizes down to 1x1), plus
# real photographs when present: Debian's darknet package ships some in
# /usr/share/darknet/data, and ../shared/data/bccd/JPEGImages has more.
# JPEGs are decoded once by pyramid itself and written as PNG, so that
# both sides start from the same pixels; jpeg-decode-opencv checks that
# those are cv2.imread's (both use libjpeg-turbo).
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
PY=/usr/bin/python3
bin=$PWD/$BUILD/bin/pyramid
if [ ! -x "$bin" ]; then
	echo "FAIL pyramid-peers: $bin not built"
	exit 0
fi
if ! [ -x $PY ] || ! $PY -c 'import numpy, cv2' 2>/dev/null; then
	echo "SKIP pyramid-opencv: Debian's python3-opencv is not installed (scripts/deps installs it)"
	have_cv=0
else
	have_cv=1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Without any peer: the Laplacian round trip through the weight file is
# lossless, and a run that fails leaves none of its outputs behind.
lossless=1
for size in "1 1" "2 3" "37 23" "64 48" "101 67"; do
	set -- $size
	{ printf 'P6\n%d %d\n255\n' "$1" "$2"; head -c $(($1 * $2 * 3)) /dev/urandom; } >"$tmp/rt.ppm"
	"$bin" -q -n 1 -o "$tmp/rt.png" "$tmp/rt.ppm" &&
		"$bin" -q laplacian -t "$tmp/rt.nkw" -o "$tmp/rt-%d.png" -M "$tmp/rt-m.png" "$tmp/rt.ppm" &&
		"$bin" -q reconstruct -o "$tmp/back.png" "$tmp/rt.nkw" &&
		cmp -s "$tmp/rt.png" "$tmp/back.png" || lossless=0
done
if [ $lossless = 1 ]; then
	echo "PASS laplacian-round-trip: reconstruct gives back the exact image (5 sizes, 1x1 to 101x67)"
else
	echo "FAIL laplacian-round-trip: reconstruct differs from the original"
fi
mkdir "$tmp/out"
# The mosaic's directory does not exist: the level images, written
# first, must not remain.
"$bin" -q -n 3 -o "$tmp/out/lv-%d.png" -M "$tmp/out/missing/m.png" -t "$tmp/out/t.nkw" \
	"$tmp/rt.ppm" 2>"$tmp/err"
rc=$?
if [ $rc = 1 ] && [ -z "$(ls -A "$tmp/out")" ] && grep -q missing "$tmp/err"; then
	echo "PASS no-partial-outputs: a failed run leaves no level images behind"
else
	echo "FAIL no-partial-outputs: exit $rc, left: $(ls -A "$tmp/out" | tr '\n' ' ')"
fi
# A truncated binary PNM (stb read the missing pixels from uninitialised
# memory and exited 0): exit 1, the bytes missing named, nothing written.
printf 'P5\n2 2\n255\nab' >"$tmp/short.pgm"
"$bin" -q -n 1 -o "$tmp/out/short.png" "$tmp/short.pgm" 2>"$tmp/err"
rc=$?
if [ $rc = 1 ] && [ -z "$(ls -A "$tmp/out")" ] && grep -q 'short.pgm: truncated pnm image: 2 of 4 pixel bytes missing' "$tmp/err"; then
	echo "PASS truncated-pnm: refused with the bytes missing, no output written"
else
	echo "FAIL truncated-pnm: exit $rc, left: $(ls -A "$tmp/out" | tr '\n' ' '), said: $(cat "$tmp/err")"
fi
"$bin" -q -n 3 -o "$tmp/out/lv-%d.png" -M "$tmp/out/m.jpg" -t "$tmp/out/t.nkw" "$tmp/rt.ppm"
if [ "$(ls "$tmp/out" | tr '\n' ' ')" = "lv-0.png lv-1.png lv-2.png m.jpg t.nkw " ]; then
	echo "PASS all-outputs: levels, mosaic and tensor file all written"
else
	echo "FAIL all-outputs: got $(ls -A "$tmp/out" | tr '\n' ' ')"
fi

photos=""
for f in /usr/share/darknet/data/dog.jpg /usr/share/darknet/data/horses.jpg \
	 /usr/share/darknet/data/eagle.jpg ../shared/data/bccd/JPEGImages/BloodImage_00000.jpg \
	 ../shared/data/bccd/JPEGImages/BloodImage_00001.jpg; do
	[ -f "$f" ] && photos="$photos $f"
done

if [ $have_cv = 1 ]; then
	$PY - "$bin" "$tmp" $photos <<'EOF'
import os, subprocess, sys
import numpy as np, cv2
bin, tmp, photos = sys.argv[1], sys.argv[2], sys.argv[3:]
rng = np.random.default_rng(6)

def run(*args):
    p = subprocess.run([bin, "-q", *args], capture_output=True)
    if p.returncode != 0:
        raise RuntimeError("pyramid %s: %s" % (" ".join(args), p.stderr.decode()))

def read(path):
    return cv2.imread(path, cv2.IMREAD_UNCHANGED)

def images():
    sizes = [(1, 1), (2, 3), (3, 2), (1, 7), (7, 1), (2, 2), (17, 13),
             (13, 17), (33, 65), (640, 480), (641, 479)]
    for w, h in sizes:
        for c in (1, 3, 4):
            img = rng.integers(0, 256, (h, w, c), dtype=np.uint8)
            yield "random %dx%dx%d" % (w, h, c), img[:, :, 0] if c == 1 else img
    y, x = np.mgrid[0:97, 0:131]
    smooth = (127.5 + 127.5 * np.sin(x / 9.0) * np.cos(y / 13.0)).astype(np.uint8)
    yield "smooth 131x97", smooth
    yield "smooth 131x97x3", np.dstack([smooth, smooth[::-1], smooth[:, ::-1]])
    for i, f in enumerate(photos):
        png = os.path.join(tmp, "photo%d.png" % i)
        run("-n", "1", "-o", png, f)
        yield "photo " + f, read(png)

def report(name, bad, detail):
    print(("FAIL %s: %s" % (name, detail)) if bad else ("PASS %s: %s" % (name, detail)))

# JPEG decoding: libjpeg-turbo with cv2.imread's settings, byte for byte.
bad, first = 0, ""
for i, f in enumerate(photos):
    png = os.path.join(tmp, "jd%d.png" % i)
    run("-n", "1", "-o", png, f)
    got, ref = read(png), cv2.imread(f)
    if got is None or got.shape != ref.shape or not np.array_equal(got, ref):
        bad, first = bad + 1, first or f
if photos:
    report("jpeg-decode-opencv", bad, ("%s differs from cv2.imread" % first) if bad else
           "%d photographs decoded exactly as cv2.imread decodes them" % len(photos))

# pyrDown: every level of a 6-level chain (fewer when the image is 1x1 sooner).
bad, checks, first = 0, 0, ""
photo_levels = 0
for name, img in images():
    src = os.path.join(tmp, "in.png")
    cv2.imwrite(src, img)
    h, w = img.shape[:2]
    n, m = 1, max(w, h)
    while m > 1 and n < 6:
        m, n = (m + 1) // 2, n + 1
    run("-n", str(n), "-o", os.path.join(tmp, "d%d.png"), src)
    ref = img
    for i in range(n):
        if i:
            ref = cv2.pyrDown(ref)
        got = read(os.path.join(tmp, "d%d.png" % i))
        checks += 1
        if name.startswith("photo"):
            photo_levels += 1
        if got.shape != ref.shape or not np.array_equal(got, ref):
            bad += 1
            first = first or "%s level %d differs" % (name, i)
report("pyrdown-opencv", bad,
       first or "%d levels byte-identical to cv2.pyrDown (%d from %d photographs)"
       % (checks, photo_levels, len(photos)))
if not photos:
    print("SKIP pyrdown-opencv-photos: no darknet sample images (apt-get install darknet) "
          "and no ../shared/data/bccd")

# pyrUp: the default size, and the odd sizes that OpenCV 4.6 computes
# consistently (it mishandles a 2h-1 last row and, with several channels,
# a 2w+1 last column; see pyramid(1)).
bad, checks, first = 0, 0, ""
for name, img in images():
    if name.startswith("photo"):
        continue
    src = os.path.join(tmp, "in.png")
    cv2.imwrite(src, img)
    h, w = img.shape[:2]
    c = 1 if img.ndim == 2 else img.shape[2]
    sizes = [(2 * w, 2 * h), (2 * w - 1, 2 * h), (2 * w, 2 * h + 1)]
    if c == 1 and w > 1:
        sizes.append((2 * w + 1, 2 * h))
    for dw, dh in sizes:
        run("up", "-S", "%dx%d" % (dw, dh), "-o", os.path.join(tmp, "u.png"), src)
        ref = cv2.pyrUp(img, dstsize=(dw, dh))
        got = read(os.path.join(tmp, "u.png"))
        checks += 1
        if got.shape != ref.shape or not np.array_equal(got, ref):
            bad += 1
            first = first or "%s to %dx%d differs" % (name, dw, dh)
report("pyrup-opencv", bad, first or "%d results byte-identical to cv2.pyrUp" % checks)

# Laplacian bands at even sizes, where cv2.pyrUp's default size applies:
# L0 = G0 - pyrUp(G1) as int16.
img = rng.integers(0, 256, (64, 96, 3), dtype=np.uint8)
src = os.path.join(tmp, "lap.png")
cv2.imwrite(src, img)
run("laplacian", "-n", "3", "-o", os.path.join(tmp, "l%d.png"), src)
g1 = cv2.pyrDown(img)
l0 = img.astype(np.int16) - cv2.pyrUp(g1).astype(np.int16)
view = np.clip(l0 + 128, 0, 255).astype(np.uint8)
got = read(os.path.join(tmp, "l0.png"))
report("laplacian-opencv", not np.array_equal(got, view),
       "band 0 (offset by 128) equals G0 - cv2.pyrUp(cv2.pyrDown(G0))")

# The scale pyramid against cv2.resize INTER_AREA at the same sizes, equal
# to the byte: factor 0.5 (OpenCV's integer-factor path when a side
# halves exactly, its general path at odd sizes), 0.709 and 0.75.
for factor in ("0.5", "0.709", "0.75"):
    bad, levels, values, first = 0, 0, 0, ""
    for name, img in images():
        h, w = img.shape[:2]
        if min(w, h) < 24:
            continue
        src = os.path.join(tmp, "in.png")
        cv2.imwrite(src, img)
        p = subprocess.run([bin, "scale", "-F", factor, "-m", "12", "-o",
                            os.path.join(tmp, "s%d.png"), src], capture_output=True)
        if p.returncode:
            bad, first = bad + 1, "%s: exit %d" % (name, p.returncode)
            continue
        sizes = [tuple(map(int, l.split()[2].split("x")))
                 for l in p.stderr.decode().splitlines() if l.startswith("level")]
        for i, (lw, lh) in enumerate(sizes):
            ref = cv2.resize(img, (lw, lh), interpolation=cv2.INTER_AREA)
            got = read(os.path.join(tmp, "s%d.png" % i))
            levels, values = levels + 1, values + ref.size
            if got.shape != ref.shape or not np.array_equal(got, ref):
                bad += 1
                n = int((got != ref).sum()) if got.shape == ref.shape else -1
                first = first or "%s level %d (%dx%d): %d of %d values differ" % (
                    name, i, lw, lh, n, ref.size)
    report("scale-inter-area-%s" % factor, bad or not levels,
           first or "%d levels, %d values, all equal to cv2.resize INTER_AREA"
           % (levels, values))
EOF
fi

if ! $PY -c 'import torch' 2>/dev/null; then
	echo "SKIP spp-torch: Debian's python3-torch is not installed (scripts/deps installs it)"
	exit 0
fi
$PY - "$bin" "$tmp" <<'EOF'
import os, subprocess, sys, math
import numpy as np, torch, zlib, struct
bin, tmp = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(7)
torch.set_num_threads(1)

def png(path, img):
    # A minimal PNG writer, so this part needs no OpenCV.
    h, w, c = img.shape
    ct = {1: 0, 2: 4, 3: 2, 4: 6}[c]
    raw = b"".join(b"\0" + img[y].tobytes() for y in range(h))
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, ct, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))

def spp_bins(a, n):
    s, k = a // n, -(-a // n)
    if s == 0:
        return [(i * a // n, i * a // n + 1) for i in range(n)]
    return [(i * s, a if i == n - 1 else min(i * s + k, a)) for i in range(n)]

def adaptive_bins(a, n):
    return [(i * a // n, -(-(i + 1) * a // n)) for i in range(n)]

levels = [4, 2, 1]
bad, checks, first = 0, 0, ""
for (w, h) in [(8, 8), (16, 12), (5, 5), (20, 13), (13, 9), (64, 48), (4, 4), (1, 1), (3, 2)]:
    agree = all(spp_bins(a, n) == adaptive_bins(a, n) for a in (w, h) for n in levels)
    if not agree:
        continue
    img = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    path = os.path.join(tmp, "spp.png")
    png(path, img)
    x = torch.from_numpy(img.astype(np.float32)).permute(2, 0, 1).unsqueeze(0)
    for avg in (False, True):
        pool = torch.nn.functional.adaptive_avg_pool2d if avg else torch.nn.functional.adaptive_max_pool2d
        ref = torch.cat([pool(x, n).flatten(1) for n in levels], 1).numpy()[0]
        args = [bin, "spp", "-l", "4,2,1"] + (["-a"] if avg else []) + [path]
        out = subprocess.run(args, capture_output=True, text=True)
        got = np.array([float(v) for v in out.stdout.split()], dtype=np.float32)
        checks += 1
        if out.returncode or got.shape != ref.shape or np.abs(got - ref).max() > 1e-4:
            bad += 1
            first = first or "%dx%d %s differs" % (w, h, "avg" if avg else "max")
print(("FAIL spp-torch: " + first) if bad else
      "PASS spp-torch: %d maps equal torch adaptive_max/avg_pool2d where the bins agree" % checks)
EOF
