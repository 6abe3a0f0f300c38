# t_augment_opencv.sh - augment's HSV (darknet's rgb_to_hsv, hsv_to_rgb
# and distort_image) against OpenCV's float cvtColor (python3-opencv):
# random RGB in [0,1] plus the corner cases (greys, black, white,
# primaries, ties between channels).  H must equal cv2's H / 360 and S,
# V cv2's within 2e-6, plus what cv2's own epsilon makes: it divides by
# V + FLT_EPSILON (for S) and delta + FLT_EPSILON (for H) where darknet
# divides by V and delta, a relative difference of eps / V and eps /
# delta (large only near black and near grey).  A distortion (hue shift
# wrapped, S and V scaled, clamped) must equal cv2's HSV round trip within
# 1e-5.  A missing peer gives SKIP, never PASS.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
PY=/usr/bin/python3
bin=$PWD/$BUILD/tests/test_augment
if [ ! -x "$bin" ]; then
	echo "FAIL augment-opencv: $bin not built"
	exit 0
fi
if ! [ -x $PY ] || ! $PY -c 'import numpy, cv2' 2>/dev/null; then
	echo "SKIP augment-opencv: Debian's python3-opencv is not installed (scripts/deps installs it)"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$PY - "$bin" "$tmp" <<'PYEOF'
import subprocess, sys
import numpy as np
import cv2

binary, tmp = sys.argv[1], sys.argv[2]
rs = np.random.RandomState(5)
rgb = rs.rand(20000, 3).astype(np.float32)
corners = np.array([[0, 0, 0], [1, 1, 1], [.5, .5, .5], [1, 0, 0],
                    [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1], [1, 0, 1],
                    [.2, .7, .7], [.7, .2, .7], [.7, .7, .2], [1e-7, 0, 0]],
                   np.float32)
rgb = np.concatenate([corners, rgb])
# quantised values as images give (ties between channels are common)
rgb = np.concatenate([rgb, (rs.randint(0, 8, (5000, 3)) / 7).astype(np.float32)])
n = len(rgb)
rgb.T.copy().tofile(f"{tmp}/in.f32")

def run(*args):
    r = subprocess.run([binary, *args], capture_output=True, text=True)
    if r.returncode:
        print(f"FAIL augment-opencv: test_augment {args[0]} exited {r.returncode}")
        sys.exit(0)
    return np.fromfile(args[2], np.float32).reshape(3, n).T

ok = True
img = rgb.reshape(1, n, 3)
ref = cv2.cvtColor(img, cv2.COLOR_RGB2HSV).reshape(n, 3).astype(np.float64)
ref[:, 0] /= 360
got = run("hsv", f"{tmp}/in.f32", f"{tmp}/hsv.f32").astype(np.float64)
# hue is a circle, and undefined where S is 0 (both give 0 there)
dh = np.abs(got[:, 0] - ref[:, 0])
dh = np.minimum(dh, 1 - dh)
dh[ref[:, 1] == 0] = 0
# cv2 divides by V + FLT_EPSILON for S and by delta + FLT_EPSILON for H:
# a relative difference of eps / V and eps / delta, allowed for here
eps = np.finfo(np.float32).eps
delta = rgb.max(1).astype(np.float64) - rgb.min(1)
tol_h = 2e-6 + 2 * eps / np.maximum(delta, eps)
tol_s = 2e-6 + 2 * eps / np.maximum(rgb.max(1).astype(np.float64), eps)
ds = np.abs(got[:, 1] - ref[:, 1])
dv = np.abs(got[:, 2] - ref[:, 2])
bad = (dh > tol_h) | (ds > tol_s) | (dv > 2e-6)
if bad.any():
    i = int(np.argmax(bad))
    print(f"FAIL augment-opencv-hsv: {bad.sum()} of {n} off, e.g. rgb {rgb[i]}: {got[i]} vs {ref[i]}")
    ok = False
else:
    print(f"  H off by {dh.max():.2g} turns, S by {ds.max():.2g}, V by {dv.max():.2g}; "
          f"where delta > 1e-3, H by {dh[delta > 1e-3].max():.2g}, S by {ds[delta > 1e-3].max():.2g}")
    print("PASS augment-opencv-hsv")

for dhue, dsat, dval in [(0, 1, 1), (.1, 1.5, .67), (-.1, .67, 1.5),
                         (.45, 2, 2.5), (-.3, .5, 1.2)]:
    got = run("distort", f"{tmp}/in.f32", f"{tmp}/d.f32", str(dhue),
              str(dsat), str(dval))
    hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)
    hsv[..., 0] = np.mod(hsv[..., 0] + np.float32(dhue * 360), 360)
    hsv[..., 1] *= np.float32(dsat)
    hsv[..., 2] *= np.float32(dval)
    # cv2 takes S above 1 as it is, darknet too; both clamp after
    want = np.clip(cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB), 0, 1).reshape(n, 3)
    d = np.abs(got - want).max()
    if d > 1e-5:
        i = int(np.argmax(np.abs(got - want).max(1)))
        print(f"FAIL augment-opencv-distort: {dhue},{dsat},{dval} off by "
              f"{d:.3g} at rgb {rgb[i]}: {got[i]} vs {want[i]}")
        ok = False
        break
if ok:
    print("PASS augment-opencv-distort")
PYEOF
