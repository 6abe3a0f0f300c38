# t_det_heads_torch.sh - the detection heads' targets, losses and gradients
# (models/det_grid.h, models/det_centernet.h) against PyTorch (Debian's
# python3-torch for /usr/bin/python3).
#
# test_det_heads writes random head outputs (a few CenterNet logits at
# +-12, where the sigmoid is clamped) and ground truth -- several objects
# per image, overlapping, across the border, a tiny one of radius 0, one
# wholly outside, two centres in one pixel or one cell, an empty image --
# with this library's heatmaps, losses and gradients.  The Python side
# draws CenterNet's targets with CenterNet's own numpy code
# (src/lib/utils/image.py, datasets/sample/ctdet.py), computes
# _neg_loss and RegL1Loss in torch and their gradient by autograd, and
# writes the grid loss again in torch; each must agree within 1e-5.
# Without torch (or numpy) the checks are SKIPped.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
PY=/usr/bin/python3
bin=$PWD/$BUILD/tests/test_det_heads
if [ ! -x "$bin" ]; then
	echo "FAIL det-heads-torch: $bin not built"
	exit 0
fi
if ! [ -x $PY ] || ! $PY -c 'import numpy, torch' 2>/dev/null; then
	echo "SKIP det-heads-torch: Debian's python3-torch is not installed (scripts/deps installs it)"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! "$bin" torch "$tmp/heads.nkw"; then
	echo "FAIL det-heads-torch: test_det_heads could not write its data"
	exit 0
fi
$PY - "$tmp/heads.nkw" <<'PYEOF'
import math
import sys
sys.path.insert(0, "scripts")
import numpy as np
import torch
import torch.nn.functional as F
import nkw

torch.set_num_threads(1)
f = nkw.load(sys.argv[1])
T, M = f.tensors, f.meta


def report(name, pairs, tol, note=""):
    worst, where = 0.0, ""
    for label, got, want in pairs:
        got = np.asarray(got, dtype=np.float64)
        want = want.detach().double().numpy() if torch.is_tensor(want) else np.asarray(want, dtype=np.float64)
        if got.shape != want.shape:
            print("FAIL %s: %s has shape %s, reference %s" % (name, label, got.shape, want.shape))
            return
        err = float(np.max(np.abs(got - want), initial=0) / (1.0 + np.max(np.abs(want), initial=0)))
        if err > worst:
            worst, where = err, label
    if worst > tol:
        print("FAIL %s: %s differs from the reference by %.3g (relative to its scale)" % (name, where, worst))
    else:
        print("PASS %s: %d values within %.1g of the reference (worst %.2g)%s" % (name, len(pairs), tol, worst, note))


# ---- CenterNet's targets, as xingyizhou/CenterNet writes them ----------
def gaussian_radius(det_size, min_overlap=0.7):
    height, width = det_size
    a1 = 1
    b1 = (height + width)
    c1 = width * height * (1 - min_overlap) / (1 + min_overlap)
    sq1 = np.sqrt(b1 ** 2 - 4 * a1 * c1)
    r1 = (b1 - sq1) / (2 * a1)
    a2 = 4
    b2 = 2 * (height + width)
    c2 = (1 - min_overlap) * width * height
    sq2 = np.sqrt(b2 ** 2 - 4 * a2 * c2)
    r2 = (b2 - sq2) / (2 * a2)
    a3 = 4 * min_overlap
    b3 = -2 * min_overlap * (height + width)
    c3 = (min_overlap - 1) * width * height
    sq3 = np.sqrt(b3 ** 2 - 4 * a3 * c3)
    r3 = (b3 + sq3) / (2 * a3)
    return min(r1, r2, r3)


def gaussian2D(shape, sigma=1):
    m, n = [(ss - 1.) / 2. for ss in shape]
    y, x = np.ogrid[-m:m + 1, -n:n + 1]
    h = np.exp(-(x * x + y * y) / (2 * sigma * sigma))
    h[h < np.finfo(h.dtype).eps * h.max()] = 0
    return h


def draw_umich_gaussian(heatmap, center, radius, k=1):
    diameter = 2 * radius + 1
    gaussian = gaussian2D((diameter, diameter), sigma=diameter / 6)
    x, y = int(center[0]), int(center[1])
    height, width = heatmap.shape[0:2]
    left, right = min(x, radius), min(width - x, radius + 1)
    top, bottom = min(y, radius), min(height - y, radius + 1)
    masked_heatmap = heatmap[y - top:y + bottom, x - left:x + right]
    masked_gaussian = gaussian[radius - top:radius + bottom, radius - left:radius + right]
    if min(masked_gaussian.shape) > 0 and min(masked_heatmap.shape) > 0:
        np.maximum(masked_heatmap, masked_gaussian * k, out=masked_heatmap)
    return heatmap


C, in_w, in_h, stride = M["cn.shape"]
ow, oh = in_w // stride, in_h // stride
out = np.array(T["cn.out"])
B = out.shape[0]
hm = np.zeros((B, C, oh, ow), dtype=np.float32)
objs = [[] for _ in range(B)]
radii = []
half, st = np.float32(0.5), np.float32(stride)
for row in np.array(T["cn.gt"]):
    b, cls = int(row[0]), int(row[1])
    cx, cy, w, h = [np.float32(v) for v in row[2:]]
    # ctdet.py: the box in output pixels, clipped, skipped when empty
    bbox = np.array([cx - w * half, cy - h * half, cx + w * half, cy + h * half], dtype=np.float32) / st
    bbox[[0, 2]] = np.clip(bbox[[0, 2]], 0, ow - 1)
    bbox[[1, 3]] = np.clip(bbox[[1, 3]], 0, oh - 1)
    h, w = bbox[3] - bbox[1], bbox[2] - bbox[0]
    if h > 0 and w > 0:
        radius = gaussian_radius((math.ceil(h), math.ceil(w)))
        radius = max(0, int(radius))
        radii.append(radius)
        ct = np.array([(bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2], dtype=np.float32)
        ct_int = ct.astype(np.int32)
        draw_umich_gaussian(hm[b, cls], ct_int, radius)
        objs[b].append((ct_int[1] * ow + ct_int[0], (1. * w, 1. * h), ct - ct_int))
report("det-heads-centernet-heatmap", [("hm", T["cn.hm"], hm)], 1e-7,
       "; %d objects, radii %s" % (len(radii), sorted(radii)))

# models/losses.py: _neg_loss, RegL1Loss; ctdet's weights 1, 0.1, 1
x = torch.tensor(out, dtype=torch.float64, requires_grad=True)
pred = torch.clamp(x[:, :C].sigmoid(), min=1e-4, max=1 - 1e-4)
gt = torch.from_numpy(hm).double()
pos_inds = gt.eq(1).double()
neg_inds = gt.lt(1).double()
neg_weights = torch.pow(1 - gt, 4)
pos_loss = (torch.log(pred) * torch.pow(1 - pred, 2) * pos_inds).sum()
neg_loss = (torch.log(1 - pred) * torch.pow(pred, 2) * neg_weights * neg_inds).sum()
num_pos = pos_inds.sum()
hm_loss = -neg_loss if num_pos == 0 else -(pos_loss + neg_loss) / num_pos
K = max(1, max(len(o) for o in objs))
ind = torch.zeros(B, K, dtype=torch.long)
mask = torch.zeros(B, K)
wh_t = torch.zeros(B, K, 2, dtype=torch.float64)
reg_t = torch.zeros(B, K, 2, dtype=torch.float64)
for b in range(B):
    for k, (i, wh, reg) in enumerate(objs[b]):
        ind[b, k], mask[b, k] = int(i), 1
        wh_t[b, k] = torch.tensor(np.array(wh, dtype=np.float32).astype(np.float64))
        reg_t[b, k] = torch.tensor(np.array(reg, dtype=np.float32).astype(np.float64))


def reg_l1(feat, target):
    feat = feat.permute(0, 2, 3, 1).contiguous().view(B, -1, 2)
    p = feat.gather(1, ind.unsqueeze(2).expand(B, K, 2))
    m = mask.unsqueeze(2).expand_as(p).double()
    return F.l1_loss(p * m, target * m, reduction="sum") / (m.sum() + 1e-4)


wh_loss = 0.1 * reg_l1(x[:, C:C + 2], wh_t)
off_loss = reg_l1(x[:, C + 2:C + 4], reg_t)
loss = hm_loss + wh_loss + off_loss
loss.backward()
got = M["cn.loss"]
report("det-heads-centernet-loss",
       [("loss", got[0], loss), ("hm", got[1], hm_loss), ("wh", got[2], wh_loss),
        ("off", got[3], off_loss), ("num_pos", M["cn.counts"][0], num_pos),
        ("dout", T["cn.d"], x.grad)], 1e-5)

# ---- the grid head, written again in torch ------------------------------
sh, sw, nb, C, in_w, in_h = M["grid.shape"]
out = np.array(T["grid.out"])
B = out.shape[0]
rows = np.array(T["grid.gt"])


def corners_iou(a, b):
    # a, b: (x, y, w, h) centre and size
    ax0, ax1, ay0, ay1 = a[0] - a[2] / 2, a[0] + a[2] / 2, a[1] - a[3] / 2, a[1] + a[3] / 2
    bx0, bx1, by0, by1 = b[0] - b[2] / 2, b[0] + b[2] / 2, b[1] - b[3] / 2, b[1] + b[3] / 2
    iw = torch.clamp(torch.minimum(ax1, bx1) - torch.maximum(ax0, bx0), min=0)
    ih = torch.clamp(torch.minimum(ay1, by1) - torch.maximum(ay0, by0), min=0)
    i = iw * ih
    return i / (a[2] * a[3] + b[2] * b[3] - i)


def grid_loss(x, rescore):
    s = x.sigmoid()
    coord = obj = noobj = cls = 0
    for b in range(B):
        box = s[b, :nb * 5].view(nb, 5, sh, sw)
        col_i = torch.arange(sw, dtype=torch.float64).view(1, sw)
        row_i = torch.arange(sh, dtype=torch.float64).view(sh, 1)
        px = (col_i + box[:, 0]) / sw
        py = (row_i + box[:, 1]) / sh
        pw, ph = box[:, 2] ** 2, box[:, 3] ** 2
        resp = torch.zeros(nb, sh, sw, dtype=torch.bool)
        for r in rows[rows[:, 0] == b]:
            c = int(r[1])
            fx, fy = np.clip(r[2] / in_w, 0, 1), np.clip(r[3] / in_h, 0, 1)
            gw, gh = np.clip(r[4] / in_w, 0, 1), np.clip(r[5] / in_h, 0, 1)
            if not (gw > 0 and gh > 0):
                continue
            col, row = min(int(fx * sw), sw - 1), min(int(fy * sh), sh - 1)
            g = torch.tensor([fx, fy, gw, gh], dtype=torch.float64)
            best, best_iou, best_rmse = -1, 0.0, math.inf
            for j in range(nb):
                if resp[j, row, col]:
                    continue
                p = torch.stack([px[j, row, col], py[j, row, col], pw[j, row, col], ph[j, row, col]]).detach()
                v = float(corners_iou(p, g))
                rmse = float(torch.sqrt(((p - g) ** 2).sum()))
                if best_iou > 0 or v > 0:
                    if v > best_iou:
                        best, best_iou = j, v
                elif rmse < best_rmse:
                    best, best_rmse = j, rmse
            if best < 0:
                continue
            j = best
            resp[j, row, col] = True
            t = torch.tensor([fx * sw - col, fy * sh - row, math.sqrt(gw), math.sqrt(gh)], dtype=torch.float64)
            coord = coord + 5 * ((box[j, :4, row, col] - t) ** 2).sum()
            if rescore:
                p = torch.stack([px[j, row, col], py[j, row, col], pw[j, row, col], ph[j, row, col]])
                target = corners_iou(p, g).detach()
            else:
                target = 1.0
            obj = obj + (box[j, 4, row, col] - target) ** 2
            logits = x[b, nb * 5:, row, col].unsqueeze(0)
            cls = cls + F.cross_entropy(logits, torch.tensor([c]), reduction="sum")
        noobj = noobj + 0.5 * (box[:, 4][~resp] ** 2).sum()
    parts = [coord / B, obj / B, noobj / B, cls / B]
    return sum(parts), parts


for rescore in (0, 1):
    x = torch.tensor(out, dtype=torch.float64, requires_grad=True)
    loss, parts = grid_loss(x, rescore)
    loss.backward()
    got = M["grid.loss%d" % rescore]
    report("det-heads-grid-loss-rescore%d" % rescore,
           [("loss", got[0], loss)] +
           [(n, got[i + 1], parts[i]) for i, n in enumerate(("coord", "obj", "noobj", "cls"))] +
           [("dout", T["grid.d%d" % rescore], x.grad)], 1e-5)
PYEOF
