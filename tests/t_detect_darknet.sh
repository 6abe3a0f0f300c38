# t_detect_darknet.sh - detect run's boxes against Debian's darknet.
#
# For yolov3-tiny, yolov2-tiny (letterboxed, [yolo] and [region] heads) and
# yolov1-tiny (stretched, [detection] head) with random weights
# (scripts/darknet-weights, objectness calibrated so that a few dozen boxes
# pass), `darknet detector valid` and `detect run -t 0.005` run on the same
# PNG photographs (PNG: both decode the same pixels; darknet reads images
# with OpenCV).  darknet writes, per class, "IMAGE SCORE XMIN YMIN XMAX
# YMAX" with VOC's +1 and its clipping to [1, size]; every box of either
# side must have its partner in the other: same image, class, score within
# 2e-4, corners within 0.02 pixels.  Only a box whose score lies within
# 2e-4 of the threshold may be on one side alone, and a pair of boxes
# with scores equal to 1e-5 that overlap may be kept in the opposite
# order (one on each side).
# darknet's `detector valid` runs its per-class NMS (do_nms_sort, 0.45)
# at threshold 0.005 and loads four images at a time, so the list has four.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
PY=/usr/bin/python3
bin=$PWD/$BUILD/bin/detect
cfgdir=/usr/share/darknet/cfg
photos=/usr/share/darknet/data
if ! command -v darknet >/dev/null 2>&1 || [ ! -f $cfgdir/yolov3-tiny.cfg ]; then
	echo "SKIP detect-darknet: Debian's darknet is not installed (scripts/deps installs it)"
	exit 0
fi
if ! $PY -c 'import numpy, cv2' 2>/dev/null; then
	echo "SKIP detect-darknet: Debian's python3-opencv and python3-numpy are needed to make the test's weights"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Two photographs as PNG at their own size (letterboxed: not square), and
# two square crops for yolov1, which darknet's valid letterboxes while
# detect stretches: the same on a square image.
$PY - "$photos" "$tmp" <<'PYEOF' || { echo "FAIL detect-darknet: could not make the test images"; exit 0; }
import sys, cv2
src, out = sys.argv[1], sys.argv[2]
for name in ("dog", "person", "horses", "eagle"):
    im = cv2.imread("%s/%s.jpg" % (src, name))
    cv2.imwrite("%s/%s.png" % (out, name), im)
    s = min(im.shape[:2])
    cv2.imwrite("%s/sq_%s.png" % (out, name), cv2.resize(im[:s, :s], (448, 448), interpolation=cv2.INTER_AREA))
PYEOF

compare() { # NAME CLASSES DARKNET_RESULTS_DIR OURS_TXT
	$PY - "$@" "$tmp" <<'PYEOF'
import sys, glob, os, cv2
name, classes, resdir, ours_path, tmp = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
size = {}
def dims(img):
    if img not in size:
        h, w = cv2.imread("%s/%s.png" % (tmp, img)).shape[:2]
        size[img] = (w, h)
    return size[img]
theirs = []
for c in range(classes):
    for line in open("%s/comp4_det_test_c%d.txt" % (resdir, c)):
        img, s, x1, y1, x2, y2 = line.split()
        theirs.append((img, c, float(s), float(x1), float(y1), float(x2), float(y2)))
ours = []
for line in open(ours_path):
    path, c, s, x, y, w, h = line.split()
    img = os.path.splitext(os.path.basename(path))[0]
    x, y, w, h = float(x), float(y), float(w), float(h)
    ours.append((img, int(c), float(s), x, y, x + w, y + h))
# darknet's corners in detect's terms: darknet adds VOC's 1 and clips the
# near corner below at 1 and the far one above at the size; detect clips
# both to [0, size].  A far corner darknet clipped (== size) says only that
# detect's lies within the last pixel.
def as_ours(t):
    img, c, s, x1, y1, x2, y2 = t
    W, H = dims(img)
    cl = lambda v, hi: min(max(v, 0.0), hi)
    return (img, c, s, cl(x1 - 1, W), cl(y1 - 1, H), cl(x2 - 1, W), cl(y2 - 1, H),
            x2 >= W, y2 >= H)
theirs = [as_ours(t) for t in theirs]
thresh, tol_s, tol_px = 0.005, 2e-4, 0.02
def close(a, b):
    if a[0] != b[0] or a[1] != b[1] or abs(a[2] - b[2]) > tol_s:
        return False
    for i in range(3, 7):
        lo = max(a[i], b[i]) - (1 + tol_px if i >= 5 and (len(a) > 7 and a[i + 2] or len(b) > 7 and b[i + 2]) else tol_px)
        if min(a[i], b[i]) < lo:
            return False
    return True
def unmatched(xs, ys):
    by = {}
    for b in ys:
        by.setdefault((b[0], b[1]), []).append(b)
    bad = []
    for a in xs:
        left = by.get((a[0], a[1]), [])
        for i, b in enumerate(left):
            if close(a, b):
                del left[i]
                break
        else:
            if a[2] > thresh + tol_s:
                bad.append(a)
    return bad
miss, extra = unmatched(theirs, ours), unmatched(ours, theirs)
# Two overlapping boxes whose scores agree to 1e-5 may be kept in the
# opposite order by the two NMS runs: the float sums of the two forwards
# differ in their last bits, and a cell of the letterbox's gray band ties
# with its neighbour.  Such a pair, one box on each side, is an NMS swap,
# not a wrong box.
def iou(a, b):
    ix = max(0.0, min(a[5], b[5]) - max(a[3], b[3]))
    iy = max(0.0, min(a[6], b[6]) - max(a[4], b[4]))
    inter = ix * iy
    union = (a[5] - a[3]) * (a[6] - a[4]) + (b[5] - b[3]) * (b[6] - b[4]) - inter
    return inter / union if union > 0 else 0.0
swaps = 0
for a in list(miss):
    for b in extra:
        if a[:2] == b[:2] and abs(a[2] - b[2]) <= 1e-5 and iou(a, b) > 0.45:
            miss.remove(a)
            extra.remove(b)
            swaps += 1
            break
if not theirs:
    print("FAIL detect-darknet %s: darknet found no boxes: the test's weights do not exercise the head" % name)
elif miss or extra:
    print("FAIL detect-darknet %s: of darknet's %d boxes %d have no partner in detect's %d (first: %s), "
          "%d of detect's none in darknet's (first: %s)" % (name, len(theirs), len(miss), len(ours),
          miss[:1], len(extra), extra[:1]))
else:
    print("PASS detect-darknet %s: %d boxes, each equal to darknet's (score within %g, corners within %g px; "
          "%d NMS swaps of equal scores)" % (name, len(theirs), tol_s, tol_px, swaps))
PYEOF
}

for model in yolov3-tiny yolov2-tiny yolov1-tiny; do
	cfg=$cfgdir/$model.cfg
	classes=$(sed -n 's/^classes *= *//p' "$cfg" | head -n 1)
	case $model in
	yolov1-tiny) imgs="sq_dog sq_person sq_horses sq_eagle"; calib=(--obj-bias 1) ;;
	*) imgs="dog person horses eagle"; calib=(--boxes 3 --cls-gain 4 --image "$tmp/dog.png") ;;
	esac
	d=$tmp/$model
	mkdir -p "$d/res"
	if ! scripts/darknet-weights --obj-gain 40 "${calib[@]}" "$cfg" "$d/w.weights" >"$d/err" 2>&1; then
		echo "FAIL detect-darknet $model: scripts/darknet-weights failed: $(tail -n 1 "$d/err")"
		continue
	fi
	: >"$d/names"
	for i in $(seq 0 $((classes - 1))); do echo "c$i" >>"$d/names"; done
	for i in $imgs; do echo "$tmp/$i.png"; done >"$d/list"
	printf 'classes=%s\nvalid=%s\nnames=%s\nresults=%s\n' "$classes" "$d/list" \
		"$d/names" "$d/res" >"$d/data"
	if ! (cd "$d" && QT_QPA_PLATFORM=offscreen timeout 300 darknet detector valid \
		"$d/data" "$cfg" "$d/w.weights" >"$d/dn.log" 2>&1); then
		echo "FAIL detect-darknet $model: darknet failed: $(tail -n 1 "$d/dn.log")"
		continue
	fi
	# shellcheck disable=SC2086
	if ! "$bin" run -q -c "$cfg" -w "$d/w.weights" -t 0.005 \
		$(for i in $imgs; do echo "$tmp/$i.png"; done) >"$d/ours" 2>"$d/err"; then
		echo "FAIL detect-darknet $model: detect run failed: $(tail -n 1 "$d/err")"
		continue
	fi
	compare "$model" "$classes" "$d/res" "$d/ours"
done
