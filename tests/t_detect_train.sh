#!/bin/sh
# t_detect_train.sh - detect train learns: on a handful of made-up images
# (red and blue squares on grey, one image without objects, one square
# whose label runs past the image's edge), the loss falls, the model finds
# the squares it was trained on, a resumed run equals an unbroken one, and
# a failed run leaves the model file alone.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
det=$PWD/$BUILD/bin/detect
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ok() { echo "PASS detect-train $1"; }
bad() { echo "FAIL detect-train $1"; }
command -v perl >/dev/null || { echo "SKIP detect-train: perl is needed to draw the images"; exit 0; }

# The set: 96x96 PPM images; each line of $tmp/plan is IMAGE CLASS X Y SIZE
# (a square drawn at X, Y), or IMAGE alone (no objects).  The label of
# s5's blue square claims 12 more pixels past the right edge.
mkdir -p "$tmp/voc/Annotations" "$tmp/voc/JPEGImages" "$tmp/voc/ImageSets/Main"
cat >"$tmp/plan" <<'EOF'
s0 red 10 12 28
s0 blue 54 50 30
s1 blue 8 60 26
s1 red 60 8 24
s2 red 36 36 32
s3 blue 40 10 24
s3 red 12 58 30
s4
s5 blue 70 30 26
s5 red 14 20 22
EOF
perl -e '
	my %obj; my @order;
	open P, "<", "$ARGV[0]/plan" or die;
	while (<P>) { my @f = split; push @order, $f[0] unless exists $obj{$f[0]};
		$obj{$f[0]} ||= []; push @{$obj{$f[0]}}, [@f[1..4]] if @f > 1; }
	my %rgb = (red => [220, 40, 40], blue => [40, 60, 220]);
	for my $id (@order) {
		my @px = map { [128, 128, 128] } 1 .. 96 * 96;
		my $xml = "<annotation><filename>$id.ppm</filename><size><width>96</width>"
			. "<height>96</height><depth>3</depth></size>\n";
		for my $o (@{$obj{$id}}) {
			my ($c, $x, $y, $s) = @$o;
			for my $j ($y .. $y + $s - 1) { for my $i ($x .. $x + $s - 1) {
				$px[$j * 96 + $i] = $rgb{$c} if $i < 96 && $j < 96; } }
			my $x1 = $x + $s; $x1 += 12 if $id eq "s5" && $c eq "blue";
			my $y1 = $y + $s;
			$xml .= "<object><name>$c</name><difficult>0</difficult><bndbox><xmin>$x</xmin>"
				. "<ymin>$y</ymin><xmax>$x1</xmax><ymax>$y1</ymax></bndbox></object>\n";
		}
		open I, ">", "$ARGV[0]/voc/JPEGImages/$id.ppm" or die; binmode I;
		print I "P6\n96 96\n255\n", map { pack("C3", @$_) } @px; close I;
		open X, ">", "$ARGV[0]/voc/Annotations/$id.xml" or die; print X "$xml</annotation>\n"; close X;
	}
	open S, ">", "$ARGV[0]/voc/ImageSets/Main/train.txt" or die; print S map { "$_\n" } @order; close S;
' "$tmp" || { bad "could not draw the images"; exit 0; }
cp "$tmp/voc/ImageSets/Main/train.txt" "$tmp/voc/ImageSets/Main/val.txt"

# Each head: trained on the six, then run on them.  Every square must be
# found (IoU > 0.5 with its box, the right class) and the loss must fall.
for head in centernet yolo; do
	args="--data $tmp/voc --head $head --size 96 --base 8 -b 6 --lr 0.003 --warmup 20 --eval-every 150 --seed 3 -j 1 -q"
	if ! $det train $args --steps 300 -o "$tmp/$head.nkw" --log "$tmp/$head.csv" 2>"$tmp/err"; then
		bad "$head: train failed: $(head -c 300 "$tmp/err")"
		continue
	fi
	# The mean loss of the last 10 steps against the first 10.
	first=$(awk -F, 'NR == 2 { print $2 }' "$tmp/$head.csv")
	last=$(tail -n 1 "$tmp/$head.csv" | cut -d, -f2)
	if awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a / 4) }'; then
		ok "$head: loss falls ($first to $last)"
	else
		bad "$head: loss $first to $last (not under a quarter)"
	fi
	map=$(tail -n 1 "$tmp/$head.csv" | awk -F, '{ print $NF }')
	awk -v m="$map" 'BEGIN { exit !(m >= 0.9) }' && ok "$head: validation mAP@0.5 $map on its own images" ||
		bad "$head: validation mAP@0.5 $map (< 0.9) on its own images"
	$det run -q -m "$tmp/$head.nkw" -t 0.3 "$tmp"/voc/JPEGImages/*.ppm >"$tmp/$head.hits" 2>"$tmp/err" ||
		{ bad "$head: run failed: $(head -c 300 "$tmp/err")"; continue; }
	missed=$(perl -e '
		use List::Util qw(min max);
		my %cls = (blue => 0, red => 1);   # the classes sorted by name
		open H, "<", $ARGV[1]; my @h = map { [split] } <H>;
		open P, "<", $ARGV[0]; my $miss = 0;
		while (<P>) { chomp; my ($id, $c, $x, $y, $s) = split; next unless defined $c && length $c;
			my $w = $s; $w = 96 - $x if $x + $w > 96; my $best = 0;
			for my $d (@h) { next unless $d->[0] =~ /\/\Q$id\E\.ppm$/ && $d->[1] == $cls{$c};
				my ($px, $py, $dw, $dh) = @$d[3..6];
				my $iw = min($x + $w, $px + $dw) - max($x, $px);
				my $ih = min($y + $s, $py + $dh) - max($y, $py);
				next if $iw <= 0 || $ih <= 0;
				my $iou = $iw * $ih / ($w * $s + $dw * $dh - $iw * $ih);
				$best = $iou if $iou > $best; }
			$miss++ if $best <= 0.5; }
		print $miss;' "$tmp/plan" "$tmp/$head.hits")
	[ "$missed" = 0 ] && ok "$head: run -m finds all 9 squares" || bad "$head: run -m missed $missed of 9 squares"
	cp "$tmp/$head.hits" "$tmp/$head.single"
done

# The test-time pyramid (full size 96 and 0.5: 48, padded to 64) still
# finds every square, and level 0 alone is the single-scale run.
if $det run -q -m "$tmp/centernet.nkw" -t 0.3 --pyramid 0.5,40 "$tmp"/voc/JPEGImages/*.ppm >"$tmp/pyr.hits" 2>"$tmp/err" &&
	$det run -q -m "$tmp/centernet.nkw" -t 0.3 --pyramid 0.5,96 "$tmp"/voc/JPEGImages/*.ppm >"$tmp/pyr0.hits" &&
	cmp -s "$tmp/pyr0.hits" "$tmp/centernet.single" && [ "$(wc -l <"$tmp/pyr.hits")" -ge 9 ]; then
	ok "--pyramid: runs two levels; one level equals the plain run"
else
	bad "--pyramid: $(head -c 300 "$tmp/err")"
fi

# Resume: 20 steps then 20 more equal 40 at once (the same weights).
args="--data $tmp/voc --head centernet --size 96 --base 8 -b 3 --eval-every 20 --val-split none -j 2 -q"
if $det train $args --steps 40 -o "$tmp/once.nkw" && $det train $args --steps 20 -o "$tmp/twice.nkw" &&
	$det train $args --steps 40 --resume -o "$tmp/twice.nkw" &&
	$det export -m "$tmp/once.nkw" -o "$tmp/once.weights" && $det export -m "$tmp/twice.nkw" -o "$tmp/twice.weights" &&
	cmp -s "$tmp/once.weights" "$tmp/twice.weights"; then
	ok "resume: 20 + 20 steps equal 40"
else
	bad "resume: 20 + 20 steps differ from 40"
fi

# Resume takes every setting that shapes the run from the checkpoint: a
# run of -b 2 with crops, no augmentation and --max-side, resumed with
# none of them given (the default batch is 8), equals the unbroken one;
# an option given again must agree with the checkpoint (exit 2, file
# untouched); so must the data's classes (exit 1, both lists named) and
# --steps, which must lie above the steps done (exit 2).
small="--data $tmp/voc --head centernet --size 64 --base 4 --val-split none -j 1 -q"
shaped="-b 2 --crop --no-augment --max-side 80 --lr 0.002 --seed 5 --eval-every 3"
if $det train $small $shaped --steps 6 -o "$tmp/s1.nkw" && $det train $small $shaped --steps 3 -o "$tmp/s2.nkw" &&
	$det train --data "$tmp/voc" --val-split none -j 1 -q --steps 6 --resume -o "$tmp/s2.nkw" &&
	$det export -m "$tmp/s1.nkw" -o "$tmp/s1.weights" && $det export -m "$tmp/s2.nkw" -o "$tmp/s2.weights" &&
	cmp -s "$tmp/s1.weights" "$tmp/s2.weights"; then
	ok "resume: -b, --crop, --no-augment, --max-side, --lr, --seed come from the checkpoint"
else
	bad "resume: a run resumed without its options differs from the unbroken one"
fi
cp "$tmp/s2.nkw" "$tmp/s2.keep"
for opt in "-b 8" "--size 96" "--head yolo" "--fpn" "--spp" "--base 8" "--lr 5" "--schedule step" "--seed 9" \
	"--max-side 96" "--eval-every 5" "--warmup 3"; do
	$det train $small --steps 9 --resume -o "$tmp/s2.nkw" $opt 2>"$tmp/err"
	st=$?
	if [ $st = 2 ] && grep -q -- "${opt%% *}: not the setting of the run in $tmp/s2.nkw" "$tmp/err" &&
		cmp -s "$tmp/s2.nkw" "$tmp/s2.keep"; then
		ok "resume: $opt unlike the checkpoint's is a usage error"
	else
		bad "resume: $opt unlike the checkpoint's: exit $st, $(head -c 200 "$tmp/err")"
	fi
done
# The same values again are the run's own: accepted.
if $det train $small $shaped --steps 7 --resume -o "$tmp/s2.nkw" 2>"$tmp/err"; then
	ok "resume: the run's own options given again are accepted"
else
	bad "resume: the run's own options given again: $(head -c 200 "$tmp/err")"
fi
cp "$tmp/s2.nkw" "$tmp/s2.keep"
for steps in 7 3; do
	$det train $small --steps $steps --resume -o "$tmp/s2.nkw" 2>"$tmp/err"
	st=$?
	if [ $st = 2 ] && grep -q -- "--steps $steps: the run in $tmp/s2.nkw has done 7 steps" "$tmp/err" &&
		cmp -s "$tmp/s2.nkw" "$tmp/s2.keep"; then
		ok "resume: --steps $steps, not above the 7 done, is a usage error"
	else
		bad "resume: --steps $steps (7 done): exit $st, $(head -c 200 "$tmp/err")"
	fi
done
$det train $small --resume -o "$tmp/s2.nkw" 2>"$tmp/err"
st=$?
[ $st = 2 ] && grep -q "the run in $tmp/s2.nkw is complete (step 7 of 7)" "$tmp/err" && cmp -s "$tmp/s2.nkw" "$tmp/s2.keep" &&
	ok "resume: a complete run without --steps is a usage error" ||
	bad "resume: a complete run without --steps: exit $st, $(head -c 200 "$tmp/err")"
cp -r "$tmp/voc" "$tmp/renamed"
sed -i 's/>red</>green</' "$tmp"/renamed/Annotations/*.xml
$det train --data "$tmp/renamed" --val-split none -q --steps 9 --resume -o "$tmp/s2.nkw" 2>"$tmp/err"
st=$?
if [ $st = 1 ] && grep -q "s2.nkw: cannot resume: it was trained on the classes (blue, red), $tmp/renamed has (blue, green)" "$tmp/err" &&
	cmp -s "$tmp/s2.nkw" "$tmp/s2.keep"; then
	ok "resume: renamed classes are refused, both lists named"
else
	bad "resume: renamed classes: exit $st, $(head -c 200 "$tmp/err")"
fi
# An unwritable -o is found before the data is read, not after the
# training; a run that fails (here its checkpoint, on a full disk) leaves
# an existing --log as it was.
$det train ${small% -q} --no-progress --steps 2 -o "$tmp/no-such-dir/m.nkw" 2>"$tmp/err"
st=$?
if [ $st = 1 ] && grep -q "no-such-dir/m.nkw: cannot create" "$tmp/err" && ! grep -q "training and" "$tmp/err"; then
	ok "-o in a missing directory: exit 1 before the data is read"
else
	bad "-o in a missing directory: exit $st, $(head -c 200 "$tmp/err")"
fi
echo "an old log" >"$tmp/old.csv"
if [ -w /dev/full ]; then
	if $det train $small --steps 6 --eval-every 3 -o /dev/full --log "$tmp/old.csv" 2>"$tmp/err"; then
		bad "--log: a checkpoint on a full disk was accepted"
	elif [ "$(cat "$tmp/old.csv")" = "an old log" ]; then
		ok "--log: a failed run leaves the existing log alone"
	else
		bad "--log: a failed run changed the existing log"
	fi
else
	echo "SKIP detect-train --log kept: no /dev/full"
fi
# A log of a resumed run is the unbroken run's, the time column aside.
if $det train $small --steps 6 --log-every 1 -o "$tmp/g1.nkw" --log "$tmp/g1.csv" &&
	$det train $small --steps 3 --log-every 1 -o "$tmp/g2.nkw" --log "$tmp/g2.csv" &&
	$det train $small --steps 6 --resume -o "$tmp/g2.nkw" --log "$tmp/g2.csv" &&
	[ "$(cut -d, -f1-3,5- "$tmp/g1.csv")" = "$(cut -d, -f1-3,5- "$tmp/g2.csv")" ] && [ "$(wc -l <"$tmp/g2.csv")" = 7 ]; then
	ok "--log: a resumed run's log equals the unbroken run's"
else
	bad "--log: a resumed run's log differs from the unbroken run's"
fi

# --fpn --levels 3: the exported cfg has three [grid] levels with their
# size ranges, and a few steps train and run (that the levels learn is
# tests/unit/test_det_levels.c's); --levels without --fpn is refused.
if $det train --data "$tmp/voc" --head yolo --fpn --levels 3 --size 96 --base 4 -b 3 --steps 4 \
	--val-split none -j 1 -q -o "$tmp/l3.nkw" 2>"$tmp/err" &&
	$det export -m "$tmp/l3.nkw" -o "$tmp/l3.weights" -C "$tmp/l3.cfg" 2>>"$tmp/err" &&
	[ "$(grep -c '^\[grid\]' "$tmp/l3.cfg")" = 3 ] &&
	[ "$(grep '^m[ia][nx]_size=' "$tmp/l3.cfg" | tr '\n' ' ')" = "min_size=64 min_size=32 max_size=64 min_size=0 max_size=32 " ] &&
	$det run -q -m "$tmp/l3.nkw" -t 0.3 "$tmp/voc/JPEGImages/s0.ppm" >/dev/null 2>>"$tmp/err"; then
	if $det train --data "$tmp/voc" --head yolo --levels 2 --steps 1 -o "$tmp/l0.nkw" 2>/dev/null; then
		bad "--levels without --fpn was accepted"
	else
		ok "--fpn --levels 3: three [grid] levels, 64- 32-64 0-32 px, train and run"
	fi
else
	bad "--fpn --levels 3: $(head -c 300 "$tmp/err")"
fi

# The same set as COCO: annotations/instances_train.json and train/; a
# crowd region is not trained on.  A short run reads it and learns.
mkdir -p "$tmp/coco/annotations" "$tmp/coco/train"
cp "$tmp"/voc/JPEGImages/*.ppm "$tmp/coco/train/"
perl -e '
	my (@img, @ann, %id); my $n = 0;
	open P, "<", $ARGV[0]; while (<P>) { chomp; my ($f, $c, $x, $y, $s) = split;
		unless ($id{$f}) { $id{$f} = scalar(@img) + 1;
			push @img, "{\"id\": $id{$f}, \"file_name\": \"$f.ppm\", \"width\": 96, \"height\": 96}"; }
		next unless defined $c && length $c; $n++;
		my $cat = $c eq "blue" ? 1 : 2;
		push @ann, "{\"id\": $n, \"image_id\": $id{$f}, \"category_id\": $cat, \"bbox\": [$x, $y, $s, $s], \"iscrowd\": 0}"; }
	$n++; push @ann, "{\"id\": $n, \"image_id\": 1, \"category_id\": 2, \"bbox\": [0, 0, 96, 96], \"iscrowd\": 1}";
	print "{\"images\": [", join(",\n", @img), "],\n\"annotations\": [", join(",\n", @ann),
		"],\n\"categories\": [{\"id\": 1, \"name\": \"blue\"}, {\"id\": 2, \"name\": \"red\"}]}\n";
' "$tmp/plan" >"$tmp/coco/annotations/instances_train.json"
if $det train --data "$tmp/coco" --format coco --val-split train --head centernet --size 96 --base 8 -b 6 \
	--lr 0.003 --warmup 20 --eval-every 150 --seed 3 -j 1 -q --steps 150 -o "$tmp/coco.nkw" --log "$tmp/coco.csv" 2>"$tmp/err"; then
	map=$(tail -n 1 "$tmp/coco.csv" | awk -F, '{ print $NF }')
	awk -v m="$map" 'BEGIN { exit !(m >= 0.9) }' && ok "--format coco: validation mAP@0.5 $map" ||
		bad "--format coco: validation mAP@0.5 $map (< 0.9)"
else
	bad "--format coco: $(head -c 300 "$tmp/err")"
fi

# And as YOLO labels (darknet's images/ -> labels/, DIR/train.txt), with
# an image whose label file is missing (no objects) and a label that is
# not five numbers.
mkdir -p "$tmp/yolo/images" "$tmp/yolo/labels"
cp "$tmp"/voc/JPEGImages/*.ppm "$tmp/yolo/images/"
awk 'NF == 5 { c = $2 == "blue" ? 0 : 1; w = $5; if ($1 == "s5" && $2 == "blue") w += 12
	printf "%d %.6f %.6f %.6f %.6f\n", c, ($3 + w / 2) / 96, ($4 + $5 / 2) / 96, w / 96, $5 / 96 > (dir "/" $1 ".txt") }' \
	dir="$tmp/yolo/labels" "$tmp/plan"
ls "$tmp/yolo/images" | sed 's|^|images/|' >"$tmp/yolo/train.txt"
printf 'blue\nred\n' >"$tmp/names"
if $det train --data "$tmp/yolo" --format yolo --names "$tmp/names" --val-split train --head centernet --size 96 \
	--base 8 -b 6 --lr 0.003 --warmup 20 --eval-every 150 --seed 3 -j 1 -q --steps 150 -o "$tmp/yolo.nkw" \
	--log "$tmp/yolo.csv" 2>"$tmp/err"; then
	map=$(tail -n 1 "$tmp/yolo.csv" | awk -F, '{ print $NF }')
	awk -v m="$map" 'BEGIN { exit !(m >= 0.9) }' && ok "--format yolo: validation mAP@0.5 $map" ||
		bad "--format yolo: validation mAP@0.5 $map (< 0.9)"
else
	bad "--format yolo: $(head -c 300 "$tmp/err")"
fi
echo "1 0.5 0.5 0.2" >"$tmp/yolo/labels/s2.txt"
if $det train --data "$tmp/yolo" --format yolo --names "$tmp/names" --steps 1 -o "$tmp/y2.nkw" 2>"$tmp/err"; then
	bad "--format yolo: a four-number label was accepted"
elif grep -q "labels/s2.txt:1: not CLASS CX CY W H" "$tmp/err" && [ ! -e "$tmp/y2.nkw" ]; then
	ok "--format yolo: a bad label is FILE:LINE, nothing written"
else
	bad "--format yolo: a bad label: $(head -c 300 "$tmp/err")"
fi

# A failed run (an annotation that is not XML) leaves the model untouched.
cp "$tmp/once.nkw" "$tmp/keep.nkw"
echo "not xml" >"$tmp/voc/Annotations/s4.xml"
if $det train $args --steps 5 -o "$tmp/once.nkw" 2>"$tmp/err"; then
	bad "a broken annotation was accepted"
elif grep -q "s4.xml:1" "$tmp/err" && cmp -s "$tmp/once.nkw" "$tmp/keep.nkw"; then
	ok "a broken annotation: FILE:LINE, exit 1, model kept"
else
	bad "a broken annotation: $(head -c 200 "$tmp/err")"
fi
