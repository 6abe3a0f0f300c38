# t_darknet_opencv.sh - the darknet network against OpenCV's darknet
# importer (cv2.dnn.readNetFromDarknet, python3-opencv): for yolov2-tiny,
# yolov3-tiny and yolov3-spp from Debian's darknet package, at 416x416,
# with small random weights (test_darknet random) and a random batch,
# every layer's output must be within 1e-4 of OpenCV's, and the yolo and
# region heads' decoded boxes (OpenCV's output of those layers) too.  A
# peer that is missing gives SKIP, never PASS.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
PY=/usr/bin/python3
bin=$PWD/$BUILD/tests/test_darknet
CFGDIR=/usr/share/darknet/cfg
if [ ! -x "$bin" ]; then
	echo "FAIL darknet-opencv: $bin not built"
	exit 0
fi
if ! [ -x $PY ] || ! $PY -c 'import numpy, cv2' 2>/dev/null; then
	echo "SKIP darknet-opencv: Debian's python3-opencv is not installed (scripts/deps installs it)"
	exit 0
fi
if ! [ -r $CFGDIR/yolov3-tiny.cfg ]; then
	echo "SKIP darknet-opencv: $CFGDIR is not installed (the darknet package)"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for m in yolov2-tiny:2 yolov3-tiny:2 yolov3-spp:1; do
	name=${m%:*} batch=${m#*:}
	# At 416x416 whatever the cfg says (yolov3-spp's is 608).
	sed 's/^width *=.*/width=416/; s/^height *=.*/height=416/' \
		$CFGDIR/$name.cfg >"$tmp/$name.cfg"
	if ! "$bin" random "$tmp/$name.cfg" "$tmp/$name.weights" 7 2>"$tmp/err"; then
		echo "FAIL darknet-opencv-$name: random weights: $(cat "$tmp/err")"
		continue
	fi
	PYTHONPATH=$PWD/scripts $PY - "$bin" "$tmp" "$name" "$batch" <<'EOF'
import subprocess, sys
import numpy as np
import cv2
import nkw

binary, tmp, name, batch = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
tag = "darknet-opencv-" + name
cfg, weights = f"{tmp}/{name}.cfg", f"{tmp}/{name}.weights"

# The darknet layers, in order, from the cfg's section names.
types = []
for line in open(cfg):
    line = "".join(line.split())
    if line.startswith("[") and line not in ("[net]", "[network]"):
        types.append(line[1:-1])

x = np.random.RandomState(11).rand(batch, 3, 416, 416).astype(np.float32)
nkw.save(f"{tmp}/in.nkw", {"program": "t_darknet_opencv"}, {"input": x})
r = subprocess.run([binary, "dump", cfg, weights, f"{tmp}/in.nkw",
                    f"{tmp}/out.nkw"], capture_output=True, text=True)
if r.returncode:
    print(f"FAIL {tag}: test_darknet dump: {r.stderr.strip()}")
    sys.exit(0)
ours = nkw.load(f"{tmp}/out.nkw").tensors

net = cv2.dnn.readNetFromDarknet(cfg, weights)
net.setInput(x)
names = list(net.getLayerNames())

# OpenCV makes several layers of one darknet layer: a convolution is
# conv_i, bn_i, then its activation; a yolo or region head is permute_i
# then yolo_i / region_i.  Those that follow start no darknet layer.
follow = ("bn_", "leaky_", "relu_", "logistic_", "mish_", "swish_",
          "tanh_", "yolo_", "region_", "detection_out")
groups = []
for n in names:
    if groups and n.startswith(follow):
        groups[-1].append(n)
    else:
        groups.append([n])
# Asking for only the last of each group leaves OpenCV free to fuse the
# rest (3x faster than asking for every layer).
last = [g[-1] for g in groups]
outs = dict(zip(last, net.forward(last)))
if len(groups) != len(types):
    print(f"FAIL {tag}: OpenCV has {len(groups)} layer groups for "
          f"{len(types)} darknet layers")
    sys.exit(0)

worst, worst_at, heads, smallest = 0.0, "", 0, float("inf")
for i, (t, g) in enumerate(zip(types, groups)):
    ref = outs[g[-1]]
    if t in ("yolo", "region"):
        heads += 1
        continue
    a = ours[f"L{i}"].reshape(ref.shape)
    err = float(np.abs(a - ref).max())
    smallest = min(smallest, float(np.abs(ref).max()))
    if err > worst:
        worst, worst_at = err, f"layer {i} [{t}] ({g[-1]})"

# The heads, decoded: OpenCV's rows are cell-major (row, column, anchor):
# x, y, w, h relative to the network input, objectness, then objectness
# times the class probability, zeroed at or below 0.2 by OpenCV.  Ours
# come from nk_darknet_boxes (thresh 0, relative, image = network size)
# in darknet's order: a yolo layer's cell-major, a region's anchor-major.
dets = ours["dets"]
at, box_err, prob_err = 0, 0.0, 0.0
for i, (t, g) in enumerate(zip(types, groups)):
    if t not in ("yolo", "region"):
        continue
    ref = outs[g[-1]]
    ref = (ref[0] if ref.ndim == 3 else ref).reshape(-1, dets.shape[1])
    k = ref.shape[0]
    mine = dets[at:at + k]
    at += k
    if t == "region":
        grid = outs[groups[i - 1][-1]].shape
        num = k // (grid[2] * grid[3])
        mine = mine.reshape(num, -1, mine.shape[1]).transpose(1, 0, 2) \
                   .reshape(k, -1)
    box_err = max(box_err, float(np.abs(mine[:, :5] - ref[:, :5]).max()))
    keep = ref[:, 5:] > 0
    prob_err = max(prob_err,
                   float(np.abs(mine[:, 5:][keep] - ref[:, 5:][keep]).max(initial=0)),
                   float(np.maximum(mine[:, 5:][~keep] - 0.2, 0).max(initial=0)))
if at != dets.shape[0]:
    print(f"FAIL {tag}: {dets.shape[0]} detections, OpenCV's heads have {at}")
elif worst > 1e-4 or box_err > 1e-4 or prob_err > 1e-4:
    print(f"FAIL {tag}: largest difference {worst:.3g} at {worst_at}; "
          f"boxes {box_err:.3g}, probabilities {prob_err:.3g}")
else:
    # A layer whose outputs vanished would agree trivially: say how small
    # the smallest layer's largest output was.
    print(f"PASS {tag}: {len(types)} layers of {batch} image(s) within "
          f"{worst:.2g} of OpenCV (each layer's largest output >= "
          f"{smallest:.2g}), {heads} head(s) decoded within "
          f"{max(box_err, prob_err):.2g}")
EOF
done
