#!/bin/sh
# t_darknet_forward.sh - the darknet network's every layer output against
# darknet itself.  Debian's darknet package ships libdarknet.so (git
# 61c9d02e, 2018): a small program loads the same cfg and random weights
# (scripts/darknet-weights) into both libraries, runs one random
# image-sized input through network_predict and nk_darknet_forward, and
# compares each layer's output tensor.  yolov1-tiny ([connected] and
# [detection]), yolov2-tiny ([region]), yolov3-tiny (size 2 stride 1
# maxpool, [upsample], [route], [yolo]) and yolov3-spp ([shortcut], SPP's
# 5/9/13 maxpools) -- the last at 320x320 instead of its 608 to stay fast.
# Each passes when no value differs by more than 1e-4 absolute or 1e-5
# relative to the layer's largest magnitude, whichever is larger.
# Without darknet, numpy or a compiler the lines are SKIP, never PASS.
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
DN=/usr/lib/darknet
CFG=/usr/share/darknet/cfg
lib=$PWD/$BUILD/libnk.a
if [ ! -f "$DN/libdarknet.so" ] || [ ! -f "$CFG/yolov3-tiny.cfg" ]; then
	echo "SKIP darknet-forward: Debian's darknet package is not installed (scripts/deps test installs it)"
	exit 0
fi
if ! /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
	echo "SKIP darknet-forward: Debian's python3-numpy (scripts/darknet-weights) is not installed"
	exit 0
fi
if [ ! -f "$lib" ]; then
	echo "FAIL darknet-forward: $lib not built"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
san=
[ -n "${NK_SANITIZED:-}" ] && san="-fsanitize=address,undefined"

cat >"$tmp/f.c" <<'CEOF'
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "darknet.h"

#include "core/base.h"
#include "models/darknet.h"

int main(int argc, char **argv)
{
	const char *name = argv[1], *cfg = argv[2], *weights = argv[3];
	nk_darknet ours;
	if (nk_darknet_load(&ours, cfg, weights)) {
		printf("FAIL darknet-forward %s: %s\n", name, nk_last_error());
		return 0;
	}
	network *dn = load_network((char *)cfg, (char *)weights, 0);
	set_batch_network(dn, 1);
	if (dn->n != ours.n || dn->inputs != (int)ours.inputs) {
		printf("FAIL darknet-forward %s: %d layers, %d inputs in darknet, "
		       "%d and %zu here\n", name, dn->n, dn->inputs, ours.n,
		       ours.inputs);
		return 0;
	}
	float *x = malloc(sizeof *x * ours.inputs);
	unsigned st = 7;
	for (size_t i = 0; i < ours.inputs; i++) {
		st = st * 1103515245u + 12345u;
		x[i] = (float)((st >> 8) & 0xffff) / 65535.f;
	}
	network_predict(dn, x);
	ours.keep_outputs = 1;
	if (nk_darknet_forward(&ours, x, 1)) {
		printf("FAIL darknet-forward %s: %s\n", name, nk_last_error());
		return 0;
	}
	double worst = 0;
	int worst_at = -1;
	for (int i = 0; i < ours.n; i++) {
		const float *a = nk_darknet_output(&ours, i), *b = dn->layers[i].output;
		size_t n = ours.l[i].outputs;
		if ((int)n != dn->layers[i].outputs) {
			printf("FAIL darknet-forward %s: layer %d has %zu outputs, "
			       "darknet's %d\n", name, i, n, dn->layers[i].outputs);
			return 0;
		}
		double big = 0, diff = 0;
		for (size_t k = 0; k < n; k++) {
			if (fabs(b[k]) > big)
				big = fabs(b[k]);
			double d = fabs((double)a[k] - b[k]);
			if (!(d <= diff))
				diff = d;
		}
		double tol = fmax(1e-4, 1e-5 * big);
		if (!(diff <= tol)) {
			printf("FAIL darknet-forward %s: layer %d (%s) differs by %.3g "
			       "(largest magnitude %.3g, allowed %.3g)\n", name, i,
			       nk_dn_type_name(ours.l[i].type), diff, big, tol);
			return 0;
		}
		if (diff / tol > worst) {
			worst = diff / tol;
			worst_at = i;
		}
	}
	printf("PASS darknet-forward %s: %d layer outputs equal to darknet's "
	       "(worst, layer %d, at %.2g of its tolerance)\n", name, ours.n,
	       worst_at, worst);
	nk_darknet_free(&ours);
	free_network(dn);
	free(x);
	return 0;
}
CEOF
if ! cc -std=gnu11 -O2 -fopenmp $san -I"$DN/include" -Ilib -o "$tmp/f" "$tmp/f.c" "$lib" \
	-L"$DN" -Wl,-rpath,"$DN" -ldarknet -lpng -ljpeg -lstb -lutf8proc -lpcre2-8 -lz -lm \
	-lpthread 2>"$tmp/cc.err"; then
	echo "FAIL darknet-forward: the comparison program did not build: $(head -n 3 "$tmp/cc.err")"
	exit 0
fi
for model in yolov1-tiny yolov2-tiny yolov3-tiny yolov3-spp; do
	cfg=$tmp/$model.cfg
	# batch=1, subdivisions=1 (a training cfg's batch would size darknet's
	# buffers for 64 images); yolov3-spp at 320x320.
	sed -e 's/^batch *=.*/batch=1/' -e 's/^subdivisions *=.*/subdivisions=1/' \
		"$CFG/$model.cfg" >"$cfg"
	[ $model = yolov3-spp ] && sed -i -e 's/^width *=.*/width=320/' -e 's/^height *=.*/height=320/' "$cfg"
	if ! scripts/darknet-weights "$cfg" "$tmp/$model.weights" >"$tmp/w.err" 2>&1; then
		echo "FAIL darknet-forward $model: scripts/darknet-weights failed: $(tail -n 1 "$tmp/w.err")"
		continue
	fi
	# darknet's load_network keeps allocations free_network does not
	# release: leaks are not checked here (test_darknet checks ours).
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 OMP_NUM_THREADS=2 "$tmp/f" $model "$cfg" "$tmp/$model.weights" 2>"$tmp/run.err" |
		grep -E '^(PASS|FAIL)' || echo "FAIL darknet-forward $model: the comparison crashed: $(tail -n 2 "$tmp/run.err")"
done
