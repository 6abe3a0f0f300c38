# detect golden cases: args | stdin | stdout | exit [| stderr part]
# The model is tests/cli/data/det-tiny.cfg with det-tiny.weights: every
# cell of its 4x4 grid predicts a 16x16 box (anchor 0: the whole 8x8 input)
# at its centre, objectness 0.5, class 0.  On the 16x8 image (letterboxed
# into 4 rows of the 8: offset 2) cell (col, row) is centred at
# (4 col + 2, 4 row - 2) in the image; darknet's NMS at 0.45 keeps 8 of
# the 16 (neighbours overlap by 0.6, one apart diagonally by 0.39), worked
# out by hand and equal to darknet's do_nms_sort.  Boxes are clipped to
# the image, then printed as X Y W H.
run -q -c tests/cli/data/det-tiny.cfg -w tests/cli/data/det-tiny.weights tests/cli/data/det-16x8.png |  | tests/cli/data/det-16x8.png 0 0.500000 0.000 0.000 10.000 6.000\ntests/cli/data/det-16x8.png 0 0.500000 2.000 0.000 14.000 6.000\ntests/cli/data/det-16x8.png 0 0.500000 0.000 0.000 14.000 8.000\ntests/cli/data/det-16x8.png 0 0.500000 6.000 0.000 10.000 8.000\ntests/cli/data/det-16x8.png 0 0.500000 0.000 0.000 10.000 8.000\ntests/cli/data/det-16x8.png 0 0.500000 2.000 0.000 14.000 8.000\ntests/cli/data/det-16x8.png 0 0.500000 0.000 2.000 14.000 6.000\ntests/cli/data/det-16x8.png 0 0.500000 6.000 2.000 10.000 6.000\n | 0
# Class-agnostic NMS keeps the same 8 here (one class).
run -c tests/cli/data/det-tiny.cfg -w tests/cli/data/det-tiny.weights --agnostic tests/cli/data/det-16x8.png |  | tests/cli/data/det-16x8.png 0 0.500000 0.000 0.000 10.000 6.000\ntests/cli/data/det-16x8.png 0 0.500000 2.000 0.000 14.000 6.000\ntests/cli/data/det-16x8.png 0 0.500000 0.000 0.000 14.000 8.000\ntests/cli/data/det-16x8.png 0 0.500000 6.000 0.000 10.000 8.000\ntests/cli/data/det-16x8.png 0 0.500000 0.000 0.000 10.000 8.000\ntests/cli/data/det-16x8.png 0 0.500000 2.000 0.000 14.000 8.000\ntests/cli/data/det-16x8.png 0 0.500000 0.000 2.000 14.000 6.000\ntests/cli/data/det-16x8.png 0 0.500000 6.000 2.000 10.000 6.000\n | 0 | 1 image, 8 boxes
# Scores are 0.5: a threshold at 0.5 keeps nothing (darknet: score > thresh).
run -c tests/cli/data/det-tiny.cfg -w tests/cli/data/det-tiny.weights -t 0.5 tests/cli/data/det-16x8.png |  |  | 0 | 1 image, 0 boxes
# Names, two images (one forward of two with -b 2), one broken among them.
run -q -c tests/cli/data/det-tiny.cfg -w tests/cli/data/det-tiny.weights --names tests/cli/data/det-names.txt -t 0.4 --nms 0.01 tests/cli/data/det-16x8.png |  | tests/cli/data/det-16x8.png blood cell 0.500000 0.000 0.000 10.000 6.000\n | 0
run -q -c tests/cli/data/det-tiny.cfg -w tests/cli/data/det-tiny.weights -b 2 --nms 0.01 tests/cli/data/det-16x8.png tests/cli/data/pyr-trunc.png tests/cli/data/det-16x8.png |  | tests/cli/data/det-16x8.png 0 0.500000 0.000 0.000 10.000 6.000\ntests/cli/data/det-16x8.png 0 0.500000 0.000 0.000 10.000 6.000\n | 1 | pyr-trunc.png
# COCO results: image_id from the file name, category_id the class index
# + 1 (COCO counts from 1), or with --categories the id of the k-th
# category by id (det-gt-sparse.json: 3 and 7), as eval reads lines.
run -q -c tests/cli/data/det-tiny.cfg -w tests/cli/data/det-tiny.weights --json --nms 0.01 tests/cli/data/det-16x8.png |  | [\n{"image_id": "det-16x8", "category_id": 1, "bbox": [0.000, 0.000, 10.000, 6.000], "score": 0.500000}\n]\n | 0
run -q -c tests/cli/data/det-tiny.cfg -w tests/cli/data/det-tiny.weights --json tests/cli/data/pyr-trunc.png |  | []\n | 1 | pyr-trunc.png
run -q -c tests/cli/data/det-tiny.cfg -w tests/cli/data/det-tiny.weights --json --nms 0.01 --categories tests/cli/data/det-gt-sparse.json tests/cli/data/det-16x8.png |  | [\n{"image_id": "det-16x8", "category_id": 3, "bbox": [0.000, 0.000, 10.000, 6.000], "score": 0.500000}\n]\n | 0
run -q -c tests/cli/data/det-tiny.cfg -w tests/cli/data/det-tiny.weights --categories tests/cli/data/det-gt-sparse.json tests/cli/data/det-16x8.png |  |  | 2 | give --json too
run -q -c tests/cli/data/det-tiny.cfg -w tests/cli/data/det-tiny.weights --json --categories tests/cli/data/deval-gt.json tests/cli/data/det-16x8.png |  |  | 1 | deval-gt.json: 1 categories, the model has 2 classes
# A sliver (100x1 into the 8x8 input: 0 rows in darknet) keeps one row,
# with and without --pyramid; the other images go on either way.
run -q -c tests/cli/data/det-tiny.cfg -w tests/cli/data/det-tiny.weights --nms 0.01 tests/cli/data/det-16x8.png tests/cli/data/det-sliver.ppm |  | tests/cli/data/det-16x8.png 0 0.500000 0.000 0.000 10.000 6.000\ntests/cli/data/det-sliver.ppm 0 0.500000 0.000 0.000 62.500 1.000\n | 0
run -q -c tests/cli/data/det-tiny.cfg -w tests/cli/data/det-tiny.weights --nms 0.01 --pyramid 0.5,4 tests/cli/data/det-sliver.ppm tests/cli/data/det-16x8.png |  | tests/cli/data/det-sliver.ppm 0 0.500000 0.000 0.000 3.906 1.000\ntests/cli/data/det-sliver.ppm 0 0.500000 3.906 0.000 6.250 1.000\ntests/cli/data/det-sliver.ppm 0 0.500000 10.156 0.000 6.250 1.000\ntests/cli/data/det-sliver.ppm 0 0.500000 16.406 0.000 6.250 1.000\ntests/cli/data/det-sliver.ppm 0 0.500000 22.656 0.000 6.250 1.000\ntests/cli/data/det-sliver.ppm 0 0.500000 28.906 0.000 6.250 1.000\ntests/cli/data/det-sliver.ppm 0 0.500000 35.156 0.000 6.250 1.000\ntests/cli/data/det-sliver.ppm 0 0.500000 41.406 0.000 6.250 1.000\ntests/cli/data/det-sliver.ppm 0 0.500000 47.656 0.000 6.250 1.000\ntests/cli/data/det-sliver.ppm 0 0.500000 53.906 0.000 6.250 1.000\ntests/cli/data/det-sliver.ppm 0 0.500000 60.156 0.000 6.250 1.000\ntests/cli/data/det-sliver.ppm 0 0.500000 66.406 0.000 6.250 1.000\ntests/cli/data/det-sliver.ppm 0 0.500000 72.656 0.000 6.250 1.000\ntests/cli/data/det-sliver.ppm 0 0.500000 78.906 0.000 6.250 1.000\ntests/cli/data/det-sliver.ppm 0 0.500000 85.156 0.000 6.250 1.000\ntests/cli/data/det-sliver.ppm 0 0.500000 91.406 0.000 6.250 1.000\ntests/cli/data/det-16x8.png 0 0.500000 0.000 0.000 2.500 2.500\ntests/cli/data/det-16x8.png 0 0.500000 2.500 0.000 4.000 2.500\ntests/cli/data/det-16x8.png 0 0.500000 6.500 0.000 4.000 2.500\ntests/cli/data/det-16x8.png 0 0.500000 10.500 0.000 4.000 2.500\ntests/cli/data/det-16x8.png 0 0.500000 0.000 2.500 2.500 4.000\ntests/cli/data/det-16x8.png 0 0.500000 2.500 2.500 4.000 4.000\ntests/cli/data/det-16x8.png 0 0.500000 6.500 2.500 4.000 4.000\ntests/cli/data/det-16x8.png 0 0.500000 10.500 2.500 4.000 4.000\ntests/cli/data/det-16x8.png 0 0.500000 0.000 6.500 2.500 1.500\ntests/cli/data/det-16x8.png 0 0.500000 2.500 6.500 4.000 1.500\ntests/cli/data/det-16x8.png 0 0.500000 6.500 6.500 4.000 1.500\ntests/cli/data/det-16x8.png 0 0.500000 10.500 6.500 4.000 1.500\n | 0
# Boxes with no height left after clipping are dropped (the 64x32
# level's top row, 4 boxes, was printed with H 0).
run -q -c tests/cli/data/det-tiny.cfg -w tests/cli/data/det-tiny.weights --nms 0.01 --pyramid 0.5,4 tests/cli/data/det-16x8.png |  | tests/cli/data/det-16x8.png 0 0.500000 0.000 0.000 2.500 2.500\ntests/cli/data/det-16x8.png 0 0.500000 2.500 0.000 4.000 2.500\ntests/cli/data/det-16x8.png 0 0.500000 6.500 0.000 4.000 2.500\ntests/cli/data/det-16x8.png 0 0.500000 10.500 0.000 4.000 2.500\ntests/cli/data/det-16x8.png 0 0.500000 0.000 2.500 2.500 4.000\ntests/cli/data/det-16x8.png 0 0.500000 2.500 2.500 4.000 4.000\ntests/cli/data/det-16x8.png 0 0.500000 6.500 2.500 4.000 4.000\ntests/cli/data/det-16x8.png 0 0.500000 10.500 2.500 4.000 4.000\ntests/cli/data/det-16x8.png 0 0.500000 0.000 6.500 2.500 1.500\ntests/cli/data/det-16x8.png 0 0.500000 2.500 6.500 4.000 1.500\ntests/cli/data/det-16x8.png 0 0.500000 6.500 6.500 4.000 1.500\ntests/cli/data/det-16x8.png 0 0.500000 10.500 6.500 4.000 1.500\n | 0
# A blank line in --names is a class without a name: refused with FILE:LINE.
run -q -c tests/cli/data/det-tiny.cfg -w tests/cli/data/det-tiny.weights --names tests/cli/data/det-names-blank.txt tests/cli/data/det-16x8.png |  |  | 1 | det-names-blank.txt:1: empty class name
# A key no layer reads is named (darknet reads it as the default).
run -c tests/cli/data/det-typo.cfg -w tests/cli/data/det-tiny.weights -t 0.6 tests/cli/data/det-16x8.png |  |  | 0 | det-typo.cfg:19: layer 1 [maxpool]: unused key 'strde'
# Usage errors exit 2.
run -w tests/cli/data/det-tiny.weights tests/cli/data/det-16x8.png |  |  | 2 | name the model
run -c tests/cli/data/det-tiny.cfg -w tests/cli/data/det-tiny.weights |  |  | 2 | no image given
run -c tests/cli/data/det-tiny.cfg -w tests/cli/data/det-tiny.weights -t 1.5 tests/cli/data/det-16x8.png |  |  | 2 | -t: '1.5' is not a number in [0, 1]
run -c tests/cli/data/det-tiny.cfg -w tests/cli/data/det-tiny.weights --nms -1 tests/cli/data/det-16x8.png |  |  | 2 | --nms
run -c tests/cli/data/det-tiny.cfg -w tests/cli/data/det-tiny.weights -b 0 tests/cli/data/det-16x8.png |  |  | 2 | -b: '0' is not an integer
run -c tests/cli/data/det-tiny.cfg -w tests/cli/data/det-tiny.weights -o a.png tests/cli/data/det-16x8.png tests/cli/data/det-16x8.png |  |  | 2 | -o draws one image and 2 were given
run -c tests/cli/data/det-tiny.cfg -w tests/cli/data/det-tiny.weights -o a.txt tests/cli/data/det-16x8.png |  |  | 2 | name it .png, .jpg or .jpeg
run -m x.nkw -c tests/cli/data/det-tiny.cfg -w tests/cli/data/det-tiny.weights tests/cli/data/det-16x8.png |  |  | 2 | give one
frobnicate |  |  | 2 | unknown mode 'frobnicate'
import -c tests/cli/data/det-tiny.cfg -o x.nkw |  |  | 2 | -c, -w and -o are all needed
# Runtime errors exit 1 and name the file.
run -c tests/cli/data/det-tiny.cfg -w tests/cli/data/det-tiny.weights --names tests/cli/data/det-names1.txt tests/cli/data/det-16x8.png |  |  | 1 | det-names1.txt: 1 names, the model has 2 classes
run -c tests/cli/data/det-tiny.cfg -w tests/cli/data/det-short.weights tests/cli/data/det-16x8.png |  |  | 1 | det-short.weights
run -c tests/cli/data/det-names.txt -w tests/cli/data/det-tiny.weights tests/cli/data/det-16x8.png |  |  | 1 | det-names.txt:1
run -c tests/cli/data/no-such.cfg -w tests/cli/data/det-tiny.weights tests/cli/data/det-16x8.png |  |  | 1 | no-such.cfg
run -c tests/cli/data/det-tiny.cfg -w tests/cli/data/det-tiny.weights -O tests/cli/data/no-such-dir tests/cli/data/det-16x8.png |  |  | 1 | no-such-dir: No such file or directory
# train: usage errors exit 2, a missing data set 1.
train -o x.nkw |  |  | 2 | --data DIR is required
train --data tests/cli/data/deval-voc |  |  | 2 | -o MODEL.nkw is required
train --data tests/cli/data/deval-voc -o x.nkw --head ssd |  |  | 2 | --head: 'ssd' is not yolo or centernet
train --data tests/cli/data/deval-voc -o x.nkw --size 100 |  |  | 2 | --size 100: a multiple of 32
train --data tests/cli/data/deval-voc -o x.nkw --format yolo |  |  | 2 | --format yolo needs --names FILE
train --data tests/cli/data/deval-voc -o x.nkw --format pascal |  |  | 2 | --format: 'pascal' is not voc, yolo or coco
train --data tests/cli/data/deval-voc -o x.nkw --resume -c tests/cli/data/det-tiny.cfg |  |  | 2 | --resume takes the network from -o
train --data tests/cli/data/no-such-dir -o x.nkw |  |  | 1 | no-such-dir
# -c's cfg is the whole network: options that build one are refused.
train --data tests/cli/data/no-such-dir -o x.nkw -c tests/cli/data/det-tiny.cfg --size 96 |  |  | 2 | --size: -c tests/cli/data/det-tiny.cfg fixes the network
train --data tests/cli/data/no-such-dir -o x.nkw -c tests/cli/data/det-tiny.cfg --head centernet |  |  | 2 | --head: -c tests/cli/data/det-tiny.cfg fixes the network
train --data tests/cli/data/no-such-dir -o x.nkw -c tests/cli/data/det-tiny.cfg --base 8 |  |  | 2 | --base: -c
train --data tests/cli/data/no-such-dir -o x.nkw -c tests/cli/data/det-tiny.cfg --spp |  |  | 2 | --spp: -c
# -o where no file can be made is found before the data is read.
train --data tests/cli/data/no-such-dir -o tests/cli/data/no-such-dir/m.nkw |  |  | 1 | no-such-dir/m.nkw: cannot create
# --resume of a file that is not there: exit 1, naming it.
train --data tests/cli/data/no-such-dir -o tests/cli/data/no-such.nkw --resume |  |  | 1 | no-such.nkw
run -c tests/cli/data/det-tiny.cfg -w tests/cli/data/det-tiny.weights --pyramid 1.5,60 tests/cli/data/det-16x8.png |  |  | 2 | --pyramid: '1.5,60' is not FACTOR,MIN
# Streams are read no further than a file of their kind can be: weights
# as long as the cfg's floats need, names a few MB.
run -q -c tests/cli/data/det-tiny.cfg -w /dev/zero tests/cli/data/det-16x8.png |  |  | 1 | /dev/zero: more than the limit of 
run -q -c tests/cli/data/det-tiny.cfg -w tests/cli/data/det-tiny.weights --names /dev/zero tests/cli/data/det-16x8.png |  |  | 1 | /dev/zero: more than the limit of 16777216 bytes
run -q -c tests/cli/data/det-tiny.cfg -w tests/cli/data/det-tiny.weights --names tests/cli/data tests/cli/data/det-16x8.png |  |  | 1 | tests/cli/data: is a directory
# A class named twice: FILE:LINE of the second.
run -q -c tests/cli/data/det-tiny.cfg -w tests/cli/data/det-tiny.weights --names tests/cli/data/det-names-dup.txt tests/cli/data/det-16x8.png |  |  | 1 | det-names-dup.txt:3: class 'a' listed again, first at line 1
run -q -m tests/cli/data/det-tiny.cfg tests/cli/data/det-16x8.png |  |  | 1 | det-tiny.cfg: not an nnkit weight file (a model file begins with "NKWF")
# A size that would overflow the input count, and darknet's dilation
# (which this network does not run): the key's FILE:LINE.
run -q -c tests/cli/data/det-huge.cfg -w tests/cli/data/det-tiny.weights tests/cli/data/det-16x8.png |  |  | 1 | det-huge.cfg:6: [net]: width=1000000000: more than the limit of 65536
run -q -c tests/cli/data/det-dilation.cfg -w tests/cli/data/det-tiny.weights tests/cli/data/det-16x8.png |  |  | 1 | det-dilation.cfg:16: layer 0 [convolutional]: dilation=2: dilation is not supported
run -q -c tests/cli/data/det-tiny.cfg -w tests/cli/data/det-tiny.weights tests/cli/data/det-neg.ppm |  |  | 1 | det-neg.ppm: corrupt pnm header (the width is '-3', not a whole number)
# A mode's usage error points at the mode's help; getopt names the program.
run --bogus |  |  | 2 | Try 'detect run --help'
run --bogus |  |  | 2 | detect run: unrecognized option '--bogus'
import -c tests/cli/data/det-tiny.cfg |  |  | 2 | Try 'detect import --help'
# YOLO labels are fractions of the image: FILE:LINE of one that is not.
train --data tests/cli/data/det-yolo --format yolo --split bad --val-split none --names tests/cli/data/det-names.txt --steps 1 -q -o x.nkw |  |  | 1 | det-yolo/labels/b.txt:1: CX 1.5 is outside [0, 1]
# A cfg that cannot be trained is named, with its last layer.
train --data tests/cli/data/det-yolo --format yolo --val-split none --names tests/cli/data/det-names.txt -c tests/cli/data/det-tiny.cfg --steps 1 -q -o x.nkw |  |  | 1 | det-tiny.cfg:29: the last layer is [yolo]
