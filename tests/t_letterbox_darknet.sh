#!/bin/sh
# t_letterbox_darknet.sh - lib/vision against darknet itself: Debian's
# darknet package (git 61c9d02e, 2018) ships libdarknet.so and darknet.h,
# so a small program here calls both libraries on the same inputs and
# compares bit for bit:
#   - load_image_color of a PNG vs nk_image_planes (v / 255., RGB order)
#   - resize_image and letterbox_image vs nk_darknet_resize and
#     nk_letterbox_input, random images (1x1 to 97x61, up and down) and
#     darknet's photographs at 416x416, 608x608, 448x448, 320x256
#   - box_iou and do_nms_sort vs nk_box_iou and nk_nms_per_class on
#     random detections with many ties and some objectness 0
#   - get_color and draw_box_width vs nk_class_color and nk_draw_rect
# Without darknet (or a compiler) the lines are SKIP, never PASS.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
DN=/usr/lib/darknet
lib=$PWD/$BUILD/libnk.a
if [ ! -f "$DN/libdarknet.so" ] || [ ! -f "$DN/include/darknet.h" ]; then
	echo "SKIP letterbox-darknet: Debian's darknet package is not installed (scripts/deps test installs it)"
	exit 0
fi
if [ ! -f "$lib" ]; then
	echo "FAIL letterbox-darknet: $lib not built"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
san=
[ -n "${NK_SANITIZED:-}" ] && san="-fsanitize=address,undefined"

cat >"$tmp/h.c" <<'EOF'
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "darknet.h"

#include "vision/boxes.h"
#include "vision/draw.h"
#include "vision/image.h"
#include "vision/letterbox.h"

float get_color(int c, int x, int max); /* exported, not in darknet.h */

static unsigned st = 12345;
static unsigned rnd(void) { st = st * 1103515245u + 12345u; return st >> 16; }

static image to_darknet(const nk_image *im)
{
	image d = make_image(im->w, im->h, 3);
	int c = im->c;
	for (int k = 0; k < 3; k++)
		for (int i = 0; i < im->w * im->h; i++)
			d.data[k * im->w * im->h + i] =
				(float)im->data[i * c + (c >= 3 ? k : 0)] / 255.;
	return d;
}

/* Returns the number of differing floats; reports the first. */
static long diff(const char *what, const float *a, const float *b, size_t n)
{
	long bad = 0;
	for (size_t i = 0; i < n; i++)
		if (memcmp(&a[i], &b[i], sizeof(float))) {
			if (!bad)
				fprintf(stderr, "%s: [%zu] nnkit %.9g darknet %.9g\n",
					what, i, a[i], b[i]);
			bad++;
		}
	return bad;
}

static int check_image(const nk_image *im, const char *name, long *nres, long *nlb)
{
	static const int sz[][2] = { { 416, 416 }, { 608, 608 }, { 448, 448 },
				     { 320, 256 }, { 1, 1 }, { 7, 3 }, { 3, 9 } };
	image d = to_darknet(im);
	int bad = 0;
	float *p = malloc(sizeof(float) * 3 * im->w * im->h);
	nk_image_planes(p, im);
	bad |= diff(name, p, d.data, (size_t)3 * im->w * im->h) != 0;
	free(p);
	for (size_t s = 0; s < sizeof sz / sizeof sz[0]; s++) {
		int w = sz[s][0], h = sz[s][1];
		float *o = malloc(sizeof(float) * 3 * w * h);
		if (h > 1) { /* darknet's 1-row resize divides by zero */
			image r = resize_image(d, w, h);
			if (nk_resize_input(o, im, w, h) ||
			    diff(name, o, r.data, (size_t)3 * w * h))
				bad = 1;
			free_image(r);
			++*nres;
		}
		/* darknet's own sizes: where one truncates to 0 it reads
		 * past its buffer (nk_letterbox_size makes it 1). */
		int nw, nh;
		if ((float)w / im->w < (float)h / im->h)
			nw = w, nh = im->h * w / im->w;
		else
			nh = h, nw = im->w * h / im->h;
		if (nh > 1 && nw > 0) {
			image l = letterbox_image(d, w, h);
			if (nk_letterbox_input(o, im, w, h) ||
			    diff(name, o, l.data, (size_t)3 * w * h))
				bad = 1;
			free_image(l);
			++*nlb;
		}
		free(o);
	}
	free_image(d);
	return bad;
}

int main(int argc, char **argv)
{
	const char *tmpdir = argv[1];
	int bad = 0;
	long nres = 0, nlb = 0, nimg = 0;

	/* load_image_color (OpenCV in Debian's build) of our own PNG */
	{
		nk_image im;
		nk_image_alloc(&im, 37, 23, 3);
		for (size_t i = 0; i < nk_image_bytes(&im); i++)
			im.data[i] = rnd();
		char path[4096];
		snprintf(path, sizeof path, "%s/rgb.png", tmpdir);
		nk_image_save(&im, path, 90);
		image d = load_image_color(path, 0, 0);
		float *p = malloc(sizeof(float) * 3 * 37 * 23);
		nk_image_planes(p, &im);
		long n = d.w == 37 && d.h == 23 ? diff("load", p, d.data, 3 * 37 * 23) : 1;
		printf("%s darknet-load-image: %s\n", n ? "FAIL" : "PASS",
		       n ? "nk_image_planes differs from load_image_color"
			 : "nk_image_planes == load_image_color, 37x23 RGB PNG");
		free(p);
		free_image(d);
		nk_image_free(&im);
	}

	/* resize and letterbox: random images, then the photographs */
	for (int t = 0; t < 40; t++) {
		nk_image im;
		int w = 1 + rnd() % 97, h = 1 + rnd() % 61, c = 1 + rnd() % 4;
		if (t < 3)
			w = h = 1 + t;
		nk_image_alloc(&im, w, h, c);
		for (size_t i = 0; i < nk_image_bytes(&im); i++)
			im.data[i] = rnd();
		bad |= check_image(&im, "random", &nres, &nlb);
		nk_image_free(&im);
		nimg++;
	}
	for (int i = 2; i < argc; i++) {
		nk_image im;
		if (nk_image_load(&im, argv[i], NULL))
			continue;
		bad |= check_image(&im, argv[i], &nres, &nlb);
		nk_image_free(&im);
		nimg++;
	}
	printf("%s darknet-resize-letterbox: %ld resize_image and %ld letterbox_image "
	       "outputs of %ld images%s\n", bad ? "FAIL" : "PASS", nres, nlb, nimg,
	       bad ? " differ (first difference on stderr)" : " equal bit for bit");

	/* box_iou and do_nms_sort */
	{
		enum { N = 300, C = 5 };
		static float pn[N][C], pd[N][C];
		static nk_detection nd[N];
		static detection dd[N];
		long iou_bad = 0, nms_bad = 0, npairs = 0;
		for (int r = 0; r < 30; r++) {
			int n = 1 + rnd() % N, classes = 1 + rnd() % C;
			for (int i = 0; i < n; i++) {
				box b = { (rnd() % 1000) / 1000.f, (rnd() % 1000) / 1000.f,
					  (1 + rnd() % 300) / 1000.f, (1 + rnd() % 300) / 1000.f };
				float obj = rnd() % 6 ? (rnd() % 100) / 100.f : 0;
				for (int k = 0; k < classes; k++)
					pn[i][k] = pd[i][k] = rnd() % 3 ? (rnd() % 5) / 8.f : 0;
				nd[i] = (nk_detection){ { b.x, b.y, b.w, b.h }, obj, pn[i], classes, 0 };
				dd[i] = (detection){ b, classes, pd[i], NULL, obj, 0 };
			}
			for (int i = 0; i + 1 < n; i++) {
				float a = nk_box_iou(nd[i].box, nd[i + 1].box);
				float b = box_iou(dd[i].bbox, dd[i + 1].bbox);
				iou_bad += memcmp(&a, &b, sizeof a) != 0;
				npairs++;
			}
			float thresh = r % 2 ? .45f : .3f;
			nk_nms_per_class(nd, n, thresh);
			do_nms_sort(dd, n, classes, thresh);
			for (int i = 0; i < n; i++) {
				if (nd[i].prob - pn[0] != dd[i].prob - pd[0] ||
				    memcmp(nd[i].prob, dd[i].prob, classes * sizeof(float)))
					nms_bad++;
			}
		}
		printf("%s darknet-box-iou: nk_box_iou %s box_iou on %ld random pairs\n",
		       iou_bad ? "FAIL" : "PASS", iou_bad ? "differs from" : "==", npairs);
		printf("%s darknet-nms: %s\n", nms_bad ? "FAIL" : "PASS",
		       nms_bad ? "nk_nms_per_class differs from do_nms_sort (order or probabilities)"
			       : "nk_nms_per_class == do_nms_sort, order and probabilities, 30 random sets with ties");
	}

	/* colours and rectangles */
	{
		long cbad = 0, rbad = 0;
		for (int classes = 1; classes <= 90; classes++)
			for (int cl = 0; cl < classes; cl++) {
				int off = cl * 123457 % classes;
				nk_rgb got = nk_class_color(cl, classes);
				unsigned char want[3];
				for (int k = 0; k < 3; k++)
					want[k] = (unsigned char)(get_color(2 - k, off, classes) * 255);
				cbad += got.r != want[0] || got.g != want[1] || got.b != want[2];
			}
		for (int t = 0; t < 200; t++) {
			int W = 5 + rnd() % 60, H = 5 + rnd() % 60;
			int x1 = rnd() % W, x2 = rnd() % W, y1 = rnd() % H, y2 = rnd() % H;
			int th = 1 + rnd() % 4;
			if (x1 > x2) { int s = x1; x1 = x2; x2 = s; }
			if (y1 > y2) { int s = y1; y1 = y2; y2 = s; }
			/* darknet draws degenerate inner boxes (x1+i > x2-i)
			 * as nothing only by accident of its loops; compare
			 * where every ring is a proper rectangle */
			if (x2 - x1 < 2 * th || y2 - y1 < 2 * th)
				continue;
			image d = make_image(W, H, 3);
			nk_image im;
			nk_image_alloc(&im, W, H, 3);
			nk_rgb col = { 255, 51, 0 };
			draw_box_width(d, x1, y1, x2, y2, th, 1, .2f, 0);
			nk_draw_rect(&im, x1, y1, x2, y2, th, col);
			for (int k = 0; k < 3; k++)
				for (int i = 0; i < W * H; i++)
					rbad += (unsigned char)(d.data[k * W * H + i] * 255) !=
						im.data[i * 3 + k];
			free_image(d);
			nk_image_free(&im);
		}
		printf("%s darknet-colors: %s\n", cbad ? "FAIL" : "PASS",
		       cbad ? "nk_class_color differs from get_color" : "nk_class_color == get_color*255, 1 to 90 classes");
		printf("%s darknet-draw-box: %s\n", rbad ? "FAIL" : "PASS",
		       rbad ? "nk_draw_rect differs from draw_box_width" : "nk_draw_rect == draw_box_width, random boxes inside the image");
	}
	return 0;
}
EOF
# The library's own link line (Makefile's NK_LDLIBS), OpenBLAS when
# libnk.a was built with it.
link() {
	cc -std=gnu11 -O2 -fopenmp $san -I"$DN/include" -Ilib -o "$tmp/h" "$tmp/h.c" "$lib" \
		-L"$DN" -Wl,-rpath,"$DN" -ldarknet -lpng -ljpeg -lstb -lutf8proc -lpcre2-8 -lz -lm "$@" \
		2>"$tmp/cc.err"
}
if ! link && ! link -lopenblas; then
	echo "FAIL letterbox-darknet: the comparison program does not build: $(head -c 300 "$tmp/cc.err")"
	exit 0
fi
photos=
for f in /usr/share/darknet/data/dog.jpg /usr/share/darknet/data/horses.jpg \
	/usr/share/darknet/data/person.jpg /usr/share/darknet/data/eagle.jpg; do
	[ -f "$f" ] && photos="$photos $f"
done
ASAN_OPTIONS=detect_leaks=0 "$tmp/h" "$tmp" $photos 2>"$tmp/err"
rc=$?
if [ $rc -ne 0 ]; then
	echo "FAIL letterbox-darknet: the comparison program exited $rc: $(head -c 300 "$tmp/err")"
fi
grep -v '^IMAGE\|^$' "$tmp/err" | head -5 >&2
exit 0
