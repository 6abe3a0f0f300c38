/* test_darknet.c - darknet cfg and weights files and the network built
 * from them: parsing with FILE:LINE errors, darknet's defaults, the
 * shapes and parameter counts of Debian's yolo cfgs against what darknet
 * itself prints, .weights and .nkw round trips, count mismatches, and a
 * forward and a decoding checked against hand-computed values.
 *
 * With arguments it is the C side of tests/t_darknet_opencv.sh:
 *	test_darknet random CFG OUT.weights SEED
 * writes small random weights for CFG (batch norm variances in [.5, 1.5],
 * convolution weights scaled by the fan-in so that activations stay near
 * 1 however deep the network is);
 *	test_darknet dump CFG WEIGHTS IN.nkw OUT.nkw
 * runs the tensor "input" (B,C,H,W) of IN.nkw forward and writes every
 * layer's output as "L<i>" (B, outputs) and the yolo/region detections
 * of image 0 (thresh .005, relative, image = network size) as "dets"
 * (n, 5 + classes): x, y, w, h, objectness, probabilities.
 */
#include "check.h"
#include "core/base.h"
#include "formats/darknet_cfg.h"
#include "formats/darknet_weights.h"
#include "formats/wfile.h"
#include "models/darknet.h"

#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <unistd.h>

#define CFGDIR "/usr/share/darknet/cfg"

static char tmpdir[] = "/tmp/test_darknet.XXXXXX";

static char *tmp_path(const char *name)
{
	static char buf[8][512];
	static int k;
	char *p = buf[k++ % 8];
	snprintf(p, sizeof buf[0], "%s/%s", tmpdir, name);
	return p;
}

static unsigned char *slurp(const char *path, size_t *size)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return NULL;
	fseek(fp, 0, SEEK_END);
	long n = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	unsigned char *buf = malloc(n > 0 ? (size_t)n : 1);
	if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	*size = (size_t)n;
	return buf;
}

static int parse(nk_dncfg *c, const char *text)
{
	return nk_dncfg_parse(c, text, strlen(text), "t.cfg");
}

/* Builds a network from text; the cfg is taken over. */
static int build(nk_darknet *net, const char *text)
{
	nk_dncfg c;
	int rc = parse(&c, text);
	return rc ? rc : nk_darknet_build(net, &c);
}

static int has(const char *needle)
{
	return strstr(nk_last_error(), needle) != NULL;
}

TEST(cfg_parse)
{
	const char *t = "# comment\r\n[net]\r\nwidth = 32\r\n; other\n\n"
			"height=16\nhue = .1\n[convolutional]\nfilters=8\n"
			"filters=9\nlayers = -1, 4 ,7\nanchors=1.5,2,  3e1\n";
	nk_dncfg c;
	CHECK(parse(&c, t) == 0);
	CHECK(c.nsec == 2);
	CHECK(strcmp(c.sec[0].type, "net") == 0 && c.sec[0].line == 2);
	CHECK(strcmp(c.sec[1].type, "convolutional") == 0);
	CHECK(c.sec[1].line == 8);
	int v;
	float f;
	CHECK(nk_dncfg_int(&c, 0, "width", 0, &v) == 0 && v == 32);
	CHECK(nk_dncfg_int(&c, 0, "channels", 3, &v) == 0 && v == 3);
	CHECK(nk_dncfg_float(&c, 0, "hue", 0, &f) == 0 && f == .1f);
	/* The first of a repeated key wins, as in darknet. */
	CHECK(nk_dncfg_int(&c, 1, "filters", 0, &v) == 0 && v == 8);
	int *li, n;
	CHECK(nk_dncfg_ints(&c, 1, "layers", &li, &n) == 0 && n == 3 &&
	      li[0] == -1 && li[1] == 4 && li[2] == 7);
	free(li);
	float *lf;
	CHECK(nk_dncfg_floats(&c, 1, "anchors", &lf, &n) == 0 && n == 3 &&
	      lf[0] == 1.5f && lf[2] == 30);
	free(lf);
	CHECK(nk_dncfg_ints(&c, 1, "mask", &li, &n) == 0 && !li && n == 0);
	CHECK(strcmp(nk_dncfg_str(&c, 1, "activation", "logistic"),
		     "logistic") == 0);
	char **lines;
	size_t nl;
	CHECK(nk_dncfg_unused(&c, &lines, &nl) == 0 && nl == 2);
	CHECK(nl == 2 && strcmp(lines[0], "t.cfg:6: [net]: unused key "
				"'height'") == 0);
	CHECK(nl == 2 && strcmp(lines[1], "t.cfg:10: layer 0 "
				"[convolutional]: repeated (ignored) key "
				"'filters'") == 0);
	nk_dncfg_lines_free(lines, nl);
	nk_dncfg_free(&c);
}

TEST(cfg_errors)
{
	static const struct { const char *text, *msg; } bad[] = {
		{"[net]\nwidth\n", "t.cfg:2: expected key=value, not 'width'"},
		{"width=3\n[net]\n", "t.cfg:1: 'width=3' before the first"},
		{"[net]\n[conv\n", "t.cfg:2: a section line is '[name]'"},
		{"[net]\n[]\n", "t.cfg:2: a section line"},
		{"[net]\n=3\n", "t.cfg:2: expected key=value"},
		{"# nothing\n", "t.cfg: no [section]"},
		{"[net]\nw=1\0\n", "t.cfg:2: a NUL byte"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		nk_dncfg c;
		size_t len = strlen(bad[i].text) + (i == 6 ? 2 : 0);
		int rc = nk_dncfg_parse(&c, bad[i].text, len, "t.cfg");
		CHECK_MSG(rc == NK_EFORMAT && has(bad[i].msg), "case %zu: %s",
			  i, nk_last_error());
	}
	/* Malformed values name the key's line and the layer. */
	nk_dncfg c;
	CHECK(parse(&c, "[net]\nwidth=3x\n[maxpool]\n\nsize=2\nstride=1.5\n"
		      "[yolo]\nmask=1,,2\nanchors=1,2,z\n") == 0);
	int v;
	float f;
	CHECK(nk_dncfg_int(&c, 0, "width", 0, &v) == NK_EFORMAT &&
	      has("t.cfg:2: [net]: 'width' is not an integer: '3x'"));
	CHECK(nk_dncfg_int(&c, 1, "stride", 0, &v) == NK_EFORMAT &&
	      has("t.cfg:6: layer 0 [maxpool]: 'stride' is not an integer"));
	CHECK(nk_dncfg_float(&c, 1, "stride", 0, &f) == 0 && f == 1.5f);
	CHECK(nk_dncfg_int(&c, 1, "size", 0, &v) == 0 && v == 2);
	int *li, n;
	float *lf;
	CHECK(nk_dncfg_ints(&c, 2, "mask", &li, &n) == NK_EFORMAT &&
	      has("t.cfg:8: layer 1 [yolo]: item 2 of 'mask' is not an "
		  "integer: ''"));
	CHECK(nk_dncfg_floats(&c, 2, "anchors", &lf, &n) == NK_EFORMAT &&
	      has("t.cfg:9: layer 1 [yolo]: item 3 of 'anchors'"));
	CHECK(nk_dncfg_int(&c, 0, "big", 0, &v) == 0);
	nk_dncfg_free(&c);
	CHECK(parse(&c, "[net]\nw=99999999999\nf=1e99\n") == 0);
	CHECK(nk_dncfg_int(&c, 0, "w", 0, &v) == NK_EFORMAT);
	CHECK(nk_dncfg_float(&c, 0, "f", 0, &f) == NK_EFORMAT);
	nk_dncfg_free(&c);
}

#define NET "[net]\nwidth=8\nheight=6\nchannels=3\n"

TEST(net_defaults)
{
	nk_darknet net;
	CHECK_MSG(build(&net, "[net]\nwidth=8\nheight=8\nchannels=3\n[convolutional]\n[maxpool]\n[conv]\n"
		    "filters=4\nsize=3\npad=1\nstride=2\nactivation=leaky\n"
		    "batch_normalize=1\n[max]\nstride=2\n[upsample]\n"
		    "[route]\nlayers=-1,-3\n[shortcut]\nfrom=-2\n"
		    "[avgpool]\n[connected]\n[softmax]\n") == 0, "%s", nk_last_error());
	if (net.n != 10) {
		CHECK(net.n == 10);
		return;
	}
	const nk_dn_layer *l = net.l;
	/* conv: filters 1, size 1, stride 1, no padding, logistic */
	CHECK(l[0].filters == 1 && l[0].size == 1 && l[0].stride == 1 &&
	      l[0].pad == 0 && l[0].groups == 1 && !l[0].bn &&
	      l[0].act == NK_ACT_LOGISTIC);
	CHECK(l[0].out_w == 8 && l[0].out_h == 8 && l[0].out_c == 1);
	CHECK(l[0].nparams == 1 + 3);
	/* maxpool: stride 1, size = stride, padding = size - 1 */
	CHECK(l[1].stride == 1 && l[1].size == 1 && l[1].pad == 0);
	CHECK(l[1].out_w == 8 && l[1].out_h == 8);
	/* pad=1 means size/2; out = (8 + 2 - 3) / 2 + 1 = 4 */
	CHECK(l[2].pad == 1 && l[2].out_h == 4 && l[2].out_w == 4 &&
	      l[2].act == NK_ACT_LEAKY);
	CHECK(l[2].nparams == 4 * 4 + 4 * 1 * 9);
	/* max stride 2: size 2, padding 1: (4 + 1 - 2) / 2 + 1 = 2 */
	CHECK(l[3].size == 2 && l[3].pad == 1 && l[3].out_h == 2 &&
	      l[3].out_w == 2);
	CHECK(l[4].stride == 2 && l[4].out_h == 4 && l[4].out_w == 4);
	CHECK(l[5].nlayers == 2 && l[5].layers[0] == 4 && l[5].layers[1] == 2);
	CHECK(l[5].out_c == 8 && l[5].out_h == 4);
	CHECK(l[6].from == 4 && l[6].alpha == 1 && l[6].beta == 1 &&
	      l[6].act == NK_ACT_LINEAR && l[6].out_c == 8);
	CHECK(l[7].out_c == 8 && l[7].out_h == 1 && l[7].outputs == 8);
	CHECK(l[8].filters == 1 && l[8].inputs == 8 && l[8].nparams == 9 &&
	      l[8].act == NK_ACT_LOGISTIC);
	CHECK(l[9].groups == 1 && l[9].outputs == 1);
	/* Initial values: bn scale and variance 1, the rest 0. */
	CHECK(l[2].bn_scale[0] == 1 && l[2].bn_var[3] == 1 &&
	      l[2].bn_mean[0] == 0 && l[2].weight[0] == 0);
	CHECK(nk_darknet_file_floats(&net) == 4 + 52 + 9);
	nk_darknet_free(&net);
}

TEST(net_errors)
{
	static const struct { const char *text, *msg; } bad[] = {
		{"[conv]\n", "t.cfg:1: [conv]: the first section must be [net]"},
		{"[net]\nwidth=8\n", "t.cfg:1: [net]: height=0, width=8"},
		{NET, "no layers after [net]"},
		{NET "[convolutional]\n\n[bogus]\n",
		 "t.cfg:7: layer 1 [bogus]: unknown section [bogus]"},
		{NET "[local]\n", "t.cfg:5: layer 0 [local]: darknet's [local]"},
		{NET "[conv]\nsize=9\n",
		 "t.cfg:6: layer 0 [conv]: a 9x9 kernel over a 8x6 input"},
		{NET "[conv]\nfilters=0\n", "t.cfg:5: layer 0 [conv]: filters 0"},
		{NET "[conv]\ngroups=2\n",
		 "t.cfg:6: layer 0 [conv]: groups=2 does not divide"},
		{NET "[conv]\nactivation=loggy\n",
		 "t.cfg:6: layer 0 [conv]: activation 'loggy'"},
		{NET "[maxpool]\nsize=20\npadding=0\n", "t.cfg:6: layer 0 [maxpool]: a 20x20"},
		{NET "[conv]\n[route]\n", "t.cfg:6: layer 1 [route]: a route "
		 "needs layers="},
		{NET "[conv]\n[route]\nlayers=-2\n", "t.cfg:7: layer 1 [route]: "
		 "layers item 1 (-2) names layer -1"},
		{NET "[conv]\n[route]\nlayers=1\n", "names layer 1, not one of 0..0"},
		{NET "[conv]\n[maxpool]\nstride=2\n[route]\nlayers=0,1\n",
		 "t.cfg:9: layer 2 [route]: layer 0's output is 8x6, layer 1's 4x3"},
		{NET "[conv]\n[shortcut]\n", "t.cfg:6: layer 1 [shortcut]: a "
		 "shortcut needs from="},
		{NET "[conv]\n[shortcut]\nfrom=3\n", "from=3 names layer 3"},
		{NET "[reorg]\nstride=4\n", "t.cfg:6: layer 0 [reorg]: stride=4"},
		{NET "[conv]\nfilters=7\n[yolo]\nclasses=2\nmask=0,1\nnum=3\n",
		 "t.cfg:7: layer 1 [yolo]: the layer before gives 8x6x7, this "
		 "head needs 14 channels"},
		{NET "[conv]\nfilters=7\n[yolo]\nmask=0,3\nnum=3\n",
		 "t.cfg:8: layer 1 [yolo]: mask item 2 is 3"},
		{NET "[conv]\nfilters=6\n[yolo]\nclasses=1\nanchors=1,2,3\n",
		 "t.cfg:9: layer 1 [yolo]: 3 anchor values for 1 anchors"},
		{NET "[connected]\noutput=10\n[detection]\ncoords=4\n",
		 "t.cfg:7: layer 1 [detection]: side 7, num 1, classes 1 need "
		 "294 inputs, the layer before gives 10"},
		{NET "[softmax]\n[conv]\n", "t.cfg:6: layer 1 [conv]: the "
		 "layer before does not output an image"},
		{NET "[conv]\nbinary=1\n", "t.cfg:5: layer 0 [conv]: binary"},
		{NET "[upsample]\nstride=-2\n", "t.cfg:6: layer 0 [upsample]: "
		 "stride=-2"},
		{NET "[conv]\nsize=x\n", "t.cfg:6: layer 0 [conv]: 'size' is "
		 "not an integer: 'x'"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		nk_darknet net;
		int rc = build(&net, bad[i].text);
		CHECK_MSG(rc != 0 && has(bad[i].msg), "case %zu: rc %d: %s", i,
			  rc, nk_last_error());
		if (!rc)
			nk_darknet_free(&net);
	}
}

/* The output sizes darknet 2018 prints for each layer (from `darknet
 * partial CFG /dev/null OUT 10000`'s table: i:WxHxC, or i:N for a flat
 * output) and the floats of the .weights file it saves. */
static const struct { const char *name; size_t floats; const char *shapes; }
ref[] = {
	{"yolov1-tiny", 27099950,
	 "0:448x448x16 1:224x224x16 2:224x224x32 3:112x112x32 "
	 "4:112x112x64 5:56x56x64 6:56x56x128 7:28x28x128 8:28x28x256 "
	 "9:14x14x256 10:14x14x512 11:7x7x512 12:7x7x1024 13:7x7x256 "
	 "14:1470"},
	{"yolov2-tiny", 11237145,
	 "0:416x416x16 1:208x208x16 2:208x208x32 3:104x104x32 "
	 "4:104x104x64 5:52x52x64 6:52x52x128 7:26x26x128 8:26x26x256 "
	 "9:13x13x256 10:13x13x512 11:13x13x512 12:13x13x1024 "
	 "13:13x13x512 14:13x13x425"},
	{"yolov3-tiny", 8858734,
	 "0:416x416x16 1:208x208x16 2:208x208x32 3:104x104x32 "
	 "4:104x104x64 5:52x52x64 6:52x52x128 7:26x26x128 8:26x26x256 "
	 "9:13x13x256 10:13x13x512 11:13x13x512 12:13x13x1024 "
	 "13:13x13x256 14:13x13x512 15:13x13x255 18:13x13x128 "
	 "19:26x26x128 21:26x26x256 22:26x26x255"},
	{"yolov3-spp", 63052381,
	 "0:608x608x32 1:304x304x64 2:304x304x32 3:304x304x64 "
	 "4:304x304x64 5:152x152x128 6:152x152x64 7:152x152x128 "
	 "8:152x152x128 9:152x152x64 10:152x152x128 11:152x152x128 "
	 "12:76x76x256 13:76x76x128 14:76x76x256 15:76x76x256 "
	 "16:76x76x128 17:76x76x256 18:76x76x256 19:76x76x128 "
	 "20:76x76x256 21:76x76x256 22:76x76x128 23:76x76x256 "
	 "24:76x76x256 25:76x76x128 26:76x76x256 27:76x76x256 "
	 "28:76x76x128 29:76x76x256 30:76x76x256 31:76x76x128 "
	 "32:76x76x256 33:76x76x256 34:76x76x128 35:76x76x256 "
	 "36:76x76x256 37:38x38x512 38:38x38x256 39:38x38x512 "
	 "40:38x38x512 41:38x38x256 42:38x38x512 43:38x38x512 "
	 "44:38x38x256 45:38x38x512 46:38x38x512 47:38x38x256 "
	 "48:38x38x512 49:38x38x512 50:38x38x256 51:38x38x512 "
	 "52:38x38x512 53:38x38x256 54:38x38x512 55:38x38x512 "
	 "56:38x38x256 57:38x38x512 58:38x38x512 59:38x38x256 "
	 "60:38x38x512 61:38x38x512 62:19x19x1024 63:19x19x512 "
	 "64:19x19x1024 65:19x19x1024 66:19x19x512 67:19x19x1024 "
	 "68:19x19x1024 69:19x19x512 70:19x19x1024 71:19x19x1024 "
	 "72:19x19x512 73:19x19x1024 74:19x19x1024 75:19x19x512 "
	 "76:19x19x1024 77:19x19x512 78:19x19x512 80:19x19x512 "
	 "82:19x19x512 84:19x19x512 85:19x19x1024 86:19x19x512 "
	 "87:19x19x1024 88:19x19x255 91:19x19x256 92:38x38x256 "
	 "94:38x38x256 95:38x38x512 96:38x38x256 97:38x38x512 "
	 "98:38x38x256 99:38x38x512 100:38x38x255 103:38x38x128 "
	 "104:76x76x128 106:76x76x128 107:76x76x256 108:76x76x128 "
	 "109:76x76x256 110:76x76x128 111:76x76x256 112:76x76x255"},
};

TEST(shapes_of_darknet_cfgs)
{
	for (size_t m = 0; m < sizeof ref / sizeof *ref; m++) {
		char path[256];
		snprintf(path, sizeof path, CFGDIR "/%s.cfg", ref[m].name);
		nk_darknet net;
		if (nk_darknet_load_cfg(&net, path)) {
			CHECK_MSG(0, "%s", nk_last_error());
			continue;
		}
		CHECK_MSG(nk_darknet_file_floats(&net) == ref[m].floats,
			  "%s: %zu floats, darknet %zu", ref[m].name,
			  nk_darknet_file_floats(&net), ref[m].floats);
		const char *p = ref[m].shapes;
		int checked = 0;
		while (*p) {
			int i, w, h, c, k;
			if (sscanf(p, "%d:%dx%dx%d%n", &i, &w, &h, &c, &k) == 4) {
				CHECK_MSG(i < net.n && net.l[i].out_w == w &&
					  net.l[i].out_h == h &&
					  net.l[i].out_c == c, "%s layer %d: "
					  "%dx%dx%d, darknet %dx%dx%d",
					  ref[m].name, i, net.l[i].out_w,
					  net.l[i].out_h, net.l[i].out_c, w, h,
					  c);
			} else if (sscanf(p, "%d:%d%n", &i, &w, &k) == 2) {
				CHECK_MSG(i < net.n && net.l[i].outputs ==
					  (size_t)w, "%s layer %d: %zu outputs,"
					  " darknet %d", ref[m].name, i,
					  net.l[i].outputs, w);
			} else {
				CHECK(0);
				break;
			}
			checked++;
			p += k;
			while (*p == ' ')
				p++;
		}
		CHECK(checked > 10);
		/* Every key of Debian's cfgs is one darknet reads. */
		char **lines;
		size_t nl;
		CHECK(nk_dncfg_unused(&net.cfg, &lines, &nl) == 0);
		CHECK_MSG(nl == 0, "%s", nl ? lines[0] : "");
		nk_dncfg_lines_free(lines, nl);
		nk_darknet_free(&net);
	}
}

static uint64_t rng = 88172645463325252ull;
static float frand(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return (float)(rng >> 40) / (float)(1 << 24);
}

/* A .weights file with random floats for the network of `cfg`. */
static int write_random(const char *cfg, const char *path, size_t extra,
			nk_dnw_header h, size_t *count)
{
	nk_darknet net;
	if (nk_darknet_load_cfg(&net, cfg))
		return -1;
	size_t n = nk_darknet_file_floats(&net) + extra;
	nk_darknet_free(&net);
	float *w = malloc(n * sizeof *w);
	for (size_t i = 0; i < n; i++)
		w[i] = frand() * 2 - 1;
	int rc = nk_dnw_write(path, &h, w, n);
	free(w);
	*count = n;
	return rc;
}

TEST(weights_round_trip)
{
	const char *cfg = CFGDIR "/yolov3-tiny.cfg";
	for (int v = 0; v < 2; v++) {
		/* 0.2.0: seen is 8 bytes; 0.1.0: 4 bytes */
		nk_dnw_header h = {0, v ? 1 : 2, 5, v ? 12345 : 1ull << 40};
		size_t n, size, size2;
		CHECK(write_random(cfg, tmp_path("a.weights"), 0, h, &n) == 0);
		unsigned char *a = slurp(tmp_path("a.weights"), &size);
		CHECK(a && size == (v ? 16 : 20) + 4 * n);
		CHECK(a && nk_load_u32le(a + 4) == (uint32_t)h.minor &&
		      nk_load_u32le(a + 8) == 5 &&
		      nk_load_u32le(a + 12) == (uint32_t)h.seen);
		nk_darknet net;
		CHECK(nk_darknet_load(&net, cfg, tmp_path("a.weights")) == 0);
		CHECK(net.hdr.seen == h.seen && net.hdr.minor == h.minor);
		CHECK(nk_darknet_save_weights(&net, tmp_path("b.weights")) == 0);
		unsigned char *b = slurp(tmp_path("b.weights"), &size2);
		CHECK(a && b && size == size2 && memcmp(a, b, size) == 0);
		free(b);
		/* Through the project's weight file and back. */
		CHECK(nk_darknet_save_nkw(&net, tmp_path("n.nkw")) == 0);
		nk_darknet back;
		CHECK(nk_darknet_load_nkw(&back, tmp_path("n.nkw")) == 0);
		CHECK(back.n == net.n && back.nparams == net.nparams &&
		      strcmp(back.cfg.name, cfg) == 0);
		CHECK(nk_darknet_save_weights(&back, tmp_path("c.weights")) == 0);
		b = slurp(tmp_path("c.weights"), &size2);
		CHECK(a && b && size == size2 && memcmp(a, b, size) == 0);
		free(b);
		nk_wfile *f = nk_wfile_read(tmp_path("n.nkw"));
		const nk_wtensor *t = f ? nk_wfile_tensor(f, "L0.conv.weight")
					: NULL;
		CHECK(t && t->ndim == 4 && t->ne[0] == 16 && t->ne[1] == 3 &&
		      t->ne[3] == 3);
		/* Layer 0: 16 biases, then scales, means, variances, weights. */
		CHECK(t && memcmp(t->data, a + (v ? 16 : 20) + 4 * 64,
				  4 * 16 * 27) == 0);
		t = f ? nk_wfile_tensor(f, "L0.bn.var") : NULL;
		CHECK(t && memcmp(t->data, a + (v ? 16 : 20) + 4 * 48, 64) == 0);
		CHECK(f && nk_wfile_tensor(f, "L15.conv.bias") &&
		      !nk_wfile_meta(f, "L15.bn.scale"));
		nk_wfile_free(f);
		nk_darknet_free(&back);
		nk_darknet_free(&net);
		free(a);
	}
}

TEST(weights_count_mismatch)
{
	const char *cfg = CFGDIR "/yolov3-tiny.cfg";
	nk_dnw_header h = {0, 2, 0, 0};
	size_t n;
	nk_darknet net;
	CHECK(nk_darknet_load_cfg(&net, cfg) == 0);
	CHECK(write_random(cfg, tmp_path("long.weights"), 3, h, &n) == 0);
	CHECK(nk_darknet_load_weights(&net, tmp_path("long.weights")) ==
	      NK_EFORMAT);
	CHECK_MSG(has("long.weights: 3 floats left after the last layer with "
		      "weights: the cfg needs 8858734, the file has 8858737"),
		  "%s", nk_last_error());
	/* Short by 1000: the file ends in layer 22 (the last convolution:
	 * 255 biases + 255 * 256 weights). */
	nk_dnw d = {h, calloc(8858734, sizeof(float)), 8858734 - 1000};
	CHECK(nk_darknet_set_weights(&net, &d, "short.weights") == NK_EFORMAT);
	CHECK_MSG(has("short.weights: the file ends in layer 22 "
		      "[convolutional] (line 167), which needs floats "
		      "8793199..8858733: the cfg needs 8858734 floats, the "
		      "file has 8857734"), "%s", nk_last_error());
	d.n = 8858734;
	CHECK(nk_darknet_set_weights(&net, &d, "ok") == 0);
	free(d.w);
	/* Headers: too short, and a tail that is not whole floats. */
	unsigned char buf[24] = {0, 0, 0, 0, 2};
	CHECK(nk_dnw_read_mem(&d, buf, 12, "x") == NK_EFORMAT &&
	      has("x: 12 bytes, shorter than a darknet weights header"));
	CHECK(nk_dnw_read_mem(&d, buf, 18, "x") == NK_EFORMAT &&
	      has("shorter than a version 0.2 header"));
	CHECK(nk_dnw_read_mem(&d, buf, 22, "x") == NK_EFORMAT &&
	      has("x: 2 bytes after the header"));
	CHECK(nk_dnw_read_mem(&d, buf, 24, "x") == 0 && d.n == 1);
	nk_dnw_free(&d);
	nk_darknet_free(&net);
}

/* One convolution with batch norm and leaky, by hand with darknet's
 * normalize_cpu formula, then a shortcut and a route. */
TEST(forward_small)
{
	nk_darknet net;
	CHECK(build(&net, "[net]\nwidth=3\nheight=2\nchannels=2\n"
		    "[convolutional]\nfilters=2\nsize=1\nbatch_normalize=1\n"
		    "activation=leaky\n[shortcut]\nfrom=-1\nalpha=2\nbeta=.5\n"
		    "[route]\nlayers=0,1\n") == 0);
	if (net.n != 3)
		return;
	nk_dn_layer *l = &net.l[0];
	float w[4] = {1, -2, .5, 3}, bias[2] = {.1f, -.2f}, sc[2] = {2, .5f},
	      mu[2] = {.3f, -1}, var[2] = {4, .25f};
	memcpy(l->weight, w, sizeof w);
	memcpy(l->bias, bias, sizeof bias);
	memcpy(l->bn_scale, sc, sizeof sc);
	memcpy(l->bn_mean, mu, sizeof mu);
	memcpy(l->bn_var, var, sizeof var);
	float in[2 * 2 * 6];
	for (int i = 0; i < 24; i++)
		in[i] = frand() * 4 - 2;
	net.keep_outputs = 1;
	CHECK(nk_darknet_forward(&net, in, 2) == 0);
	const float *o0 = nk_darknet_output(&net, 0),
		    *o1 = nk_darknet_output(&net, 1),
		    *o2 = nk_darknet_output(&net, 2);
	double err = 0;
	for (int b = 0; b < 2; b++)
		for (int f = 0; f < 2; f++)
			for (int p = 0; p < 6; p++) {
				const float *x = in + b * 12;
				double y = w[2 * f] * x[p] + w[2 * f + 1] * x[6 + p];
				y = (y - mu[f]) / (sqrt(var[f]) + .000001) * sc[f] +
				    bias[f];
				y = y > 0 ? y : .1 * y;
				size_t k = (size_t)b * 12 + f * 6 + p;
				err = fmax(err, fabs(o0[k] - y));
				err = fmax(err, fabs(o1[k] - 2.5 * y));
				err = fmax(err, fabs(o2[b * 24 + f * 6 + p] - y));
				err = fmax(err, fabs(o2[b * 24 + 12 + f * 6 + p] -
						     2.5 * y));
			}
	CHECK_MSG(err < 1e-5, "max error %g", err);
	nk_darknet_free(&net);
}

/* A yolo head decoded by hand: one 2x2 grid, one anchor of two, two
 * classes, a letterbox for a 200x100 image into the 64x64 network. */
TEST(yolo_decode)
{
	nk_darknet net;
	CHECK(build(&net, "[net]\nwidth=64\nheight=64\nchannels=7\n"
		    "[maxpool]\nsize=32\nstride=32\npadding=0\n"
		    "[yolo]\nmask=1\nnum=2\nclasses=2\nanchors=1,2,16,8\n") == 0);
	if (net.n != 2)
		return;
	float *in = calloc(64 * 64 * 7, sizeof *in);
	/* maxpool over 32x32 blocks: the block's top-left value wins when
	 * the rest are 0 and it is positive; channel e of cell (col, row). */
	float v[7][4] = {
		{0, 1, 0, 0}, {0, 0.5f, 0, 0}, {0, 0.2f, 0, 0}, {0, -0.1f, 0, 0},
		{0, 3, 0, 0}, {0, 1, 0, 0}, {0, 2, 0, 0}};
	for (int e = 0; e < 7; e++)
		for (int cell = 0; cell < 4; cell++) {
			float x = v[e][cell];
			in[e * 4096 + (cell / 2) * 32 * 64 + (cell % 2) * 32] =
				x > 0 ? x : 0;
		}
	CHECK(nk_darknet_forward(&net, in, 1) == 0);
	nk_detection *d;
	int n;
	CHECK(nk_darknet_boxes(&net, 0, 200, 100, .5f, .5f, 1, &d, &n) == 0);
	CHECK(n == 1);
	if (n == 1) {
		double lg = 1 / (1 + exp(-1.0)), obj = 1 / (1 + exp(-3.0));
		/* cell col 1 row 0; x = (1 + lg(1)) / 2 in the network,
		 * letterboxed: new_w 64, new_h 32, y offset 16/64 */
		double x = (1 + lg) / 2, y = (0 + 1 / (1 + exp(-.5))) / 2;
		double w = exp(0.2) * 16 / 64, h = exp(0.0) * 8 / 64;
		y = (y - 16. / 64) / (32. / 64);
		h *= 2;
		CHECK(fabs(d[0].box.x - x) < 1e-6 && fabs(d[0].box.y - y) < 1e-6);
		CHECK(fabs(d[0].box.w - w) < 1e-6 && fabs(d[0].box.h - h) < 1e-6);
		CHECK(fabs(d[0].objectness - obj) < 1e-6);
		double p0 = obj * lg, p1 = obj / (1 + exp(-2.0));
		CHECK(fabs(d[0].prob[0] - p0) < 1e-6 &&
		      fabs(d[0].prob[1] - p1) < 1e-6 && d[0].classes == 2);
	}
	nk_darknet_free_boxes(d, n);
	free(in);
	nk_darknet_free(&net);
}

/* test_darknet random CFG OUT.weights SEED */
static int random_weights(char **argv)
{
	nk_darknet net;
	if (nk_darknet_load_cfg(&net, argv[0])) {
		fprintf(stderr, "test_darknet random: %s\n", nk_last_error());
		return 1;
	}
	rng = strtoull(argv[2], NULL, 10) * 2654435761u + 1;
	for (int i = 0; i < net.n; i++) {
		nk_dn_layer *l = &net.l[i];
		if (!l->nparams)
			continue;
		float a = sqrtf(3.f / (float)(l->nweight / (size_t)l->filters));
		for (size_t k = 0; k < l->nweight; k++)
			l->weight[k] = (frand() * 2 - 1) * a;
		for (int f = 0; f < l->filters; f++) {
			l->bias[f] = (frand() * 2 - 1) * .1f;
			if (l->bn) {
				l->bn_scale[f] = .25f + .5f * frand();
				l->bn_mean[f] = (frand() * 2 - 1) * .1f;
				l->bn_var[f] = .5f + frand();
			}
		}
	}
	int rc = nk_darknet_save_weights(&net, argv[1]);
	if (rc)
		fprintf(stderr, "test_darknet random: %s\n", nk_last_error());
	nk_darknet_free(&net);
	return rc ? 1 : 0;
}

/* test_darknet dump CFG WEIGHTS IN.nkw OUT.nkw */
static int dump(char **argv)
{
	nk_darknet net;
	nk_wfile *in = NULL, *out = NULL;
	nk_detection *d = NULL;
	float *rows = NULL;
	int n = 0, rc = nk_darknet_load(&net, argv[0], argv[1]);
	if (rc)
		goto done;
	const nk_wtensor *t;
	if (!(in = nk_wfile_read(argv[2])) ||
	    !(t = nk_wfile_expect(in, "input", NK_F32, 4, (int64_t[]){-1,
				  net.c, net.h, net.w}))) {
		rc = 1;
		goto done;
	}
	int B = (int)t->ne[0];
	net.keep_outputs = 1;
	if ((rc = nk_darknet_forward(&net, t->data, B)))
		goto done;
	out = nk_wfile_create();
	char names[1024][16];
	for (int i = 0; i < net.n && i < 1024 && !rc; i++) {
		snprintf(names[i], sizeof names[i], "L%d", i);
		rc = nk_wfile_add(out, names[i], NK_F32, 2, (int64_t[]){B,
				  (int64_t)net.l[i].outputs},
				  nk_darknet_output(&net, i));
	}
	if (rc || (rc = nk_darknet_boxes(&net, 0, net.w, net.h, 0, .5f, 1, &d,
					 &n)))
		goto done;
	int C = nk_darknet_classes(&net);
	rows = calloc((size_t)(n ? n : 1) * (5 + C), sizeof *rows);
	for (int i = 0; i < n; i++) {
		float *r = rows + (size_t)i * (5 + C);
		r[0] = d[i].box.x, r[1] = d[i].box.y, r[2] = d[i].box.w;
		r[3] = d[i].box.h, r[4] = d[i].objectness;
		memcpy(r + 5, d[i].prob, (size_t)C * sizeof *r);
	}
	if (!(rc = nk_wfile_add(out, "dets", NK_F32, 2, (int64_t[]){n, 5 + C},
				rows)))
		rc = nk_wfile_write(out, argv[3], 0);
done:
	if (rc)
		fprintf(stderr, "test_darknet dump: %s\n", nk_last_error());
	nk_darknet_free_boxes(d, n);
	free(rows);
	nk_wfile_free(out);
	nk_wfile_free(in);
	nk_darknet_free(&net);
	return rc ? 1 : 0;
}

/* The detections come back as one block that NMS may reorder: a region
 * head lists every cell, so the objectness-0 ones are swapped to the end
 * and dets[0] is no longer the first allocated.  Freeing after NMS must
 * still work (it once freed dets[0].prob, a pointer into the block). */
TEST(boxes_free_after_nms)
{
	nk_darknet net;
	CHECK(build(&net, "[net]\nwidth=4\nheight=4\nchannels=1\n"
		   "[convolutional]\nfilters=7\nsize=1\nstride=1\npad=0\n"
		   "activation=linear\n"
		   "[region]\nanchors=1,1\nclasses=2\ncoords=4\nnum=1\n"
		   "softmax=1\n") == 0);
	/* Objectness from the input: cells with a 0 pixel get logistic(-20). */
	net.l[0].bias[4] = -20;
	for (int i = 0; i < 7; i++)
		net.l[0].weight[i] = i == 4 ? 40 : 0;
	float x[16] = {0, 0, 1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0};
	CHECK(nk_darknet_forward(&net, x, 1) == 0);
	nk_detection *d;
	int n;
	CHECK(nk_darknet_boxes(&net, 0, 4, 4, .1f, .5f, 1, &d, &n) == 0);
	CHECK(n == 16);
	CHECK(d[0].objectness == 0); /* cell 0 is dark: it will move */
	nk_nms_per_class(d, n, .45f);
	CHECK(d[0].objectness > 0);
	nk_darknet_free_boxes(d, n);
	CHECK(nk_darknet_boxes(&net, 0, 4, 4, .1f, .5f, 1, &d, &n) == 0);
	nk_nms_agnostic(d, n, .45f);
	nk_darknet_free_boxes(d, n);
	nk_darknet_free(&net);
}

/* Buffers shared between layers (the default) and every output kept give
 * the heads the same bits, through routes and shortcuts (yolov3-spp's
 * residual blocks, its SPP route of three maxpools and the two upsampled
 * routes); the shared layout is under half the size.  Dropping the
 * parameters keeps the result and refuses to save. */
/* The whole forward (fused convolution and pool, the parallel heads) gives
 * the heads the same bits on 1, 2 and 3 threads: yolov3-tiny and
 * yolov2-tiny at their 416x416, a batch of 3 (one group of images on one
 * thread; groups of 2 and 1 on two; one image a thread on three). */
TEST(threads_same_bits)
{
	const char *cfgs[] = {CFGDIR "/yolov3-tiny.cfg", CFGDIR "/yolov2-tiny.cfg"};
	int keep = omp_get_max_threads();
	for (int c = 0; c < 2; c++) {
		nk_dnw_header h = {0, 2, 0, 0};
		size_t n;
		CHECK(write_random(cfgs[c], tmp_path("t.weights"), 0, h, &n) == 0);
		float *want[64] = {0};
		nk_darknet net;
		if (nk_darknet_load_infer(&net, cfgs[c], tmp_path("t.weights"))) {
			CHECK_MSG(0, "%s", nk_last_error());
			continue;
		}
		CHECK(net.n <= 64);
		size_t nin = net.inputs * 3;
		float *in = malloc(nin * sizeof *in);
		for (size_t k = 0; k < nin; k++)
			in[k] = frand();
		for (int t = 1; t <= 3; t++) {
			omp_set_num_threads(t);
			CHECK(nk_darknet_forward(&net, in, 3) == 0);
			for (int i = 0; i < net.n && i < 64; i++) {
				const float *o = nk_darknet_output(&net, i);
				size_t bytes = net.l[i].outputs * 3 * sizeof *o;
				if (!o || (net.l[i].type != NK_DN_YOLO &&
					   net.l[i].type != NK_DN_REGION))
					continue;
				if (t == 1) {
					want[i] = malloc(bytes);
					memcpy(want[i], o, bytes);
				} else {
					CHECK_MSG(!memcmp(want[i], o, bytes), "%s layer %d: "
						  "%d threads differ from 1", cfgs[c], i, t);
				}
			}
		}
		for (int i = 0; i < 64; i++)
			free(want[i]);
		free(in);
		nk_darknet_free(&net);
	}
	omp_set_num_threads(keep);
}

TEST(buffer_reuse)
{
	const char *cfgs[] = {CFGDIR "/yolov3-tiny.cfg", CFGDIR "/yolov2-tiny.cfg",
			      CFGDIR "/yolov3-spp.cfg"};
	for (int c = 0; c < 3; c++) {
		nk_dnw_header h = {0, 2, 0, 0};
		size_t n;
		CHECK(write_random(cfgs[c], tmp_path("r.weights"), 0, h, &n) == 0);
		nk_darknet net;
		CHECK(nk_darknet_load(&net, cfgs[c], tmp_path("r.weights")) == 0);
		/* Small weights keep the activations finite. */
		for (size_t k = 0; k < net.nparams; k++)
			net.params[k] = net.params[k] * .02f - .01f;
		for (int i = 0; i < net.n; i++)
			if (net.l[i].bn)
				for (int f = 0; f < net.l[i].filters; f++)
					net.l[i].bn_var[f] = 1;
		size_t nin = net.inputs * 2;
		float *in = malloc(nin * sizeof *in);
		for (size_t k = 0; k < nin; k++)
			in[k] = frand();
		net.keep_outputs = 1;
		CHECK(nk_darknet_forward(&net, in, 2) == 0);
		size_t all = 0, heads = 0;
		for (int i = 0; i < net.n; i++)
			all += net.l[i].outputs;
		float **want = calloc((size_t)net.n, sizeof *want);
		for (int i = 0; i < net.n; i++) {
			nk_dn_type t = net.l[i].type;
			if (t != NK_DN_YOLO && t != NK_DN_REGION)
				continue;
			heads += net.l[i].outputs;
			want[i] = malloc(net.l[i].outputs * 2 * sizeof **want);
			memcpy(want[i], nk_darknet_output(&net, i),
			       net.l[i].outputs * 2 * sizeof **want);
		}
		CHECK(heads > 0);
		for (int pass = 0; pass < 2; pass++) {
			net.keep_outputs = 0;
			if (pass)
				CHECK(nk_darknet_drop_params(&net) == 0);
			CHECK(nk_darknet_forward(&net, in, 2) == 0);
			CHECK(nk_darknet_output(&net, 1) == NULL);
			for (int i = 0; i < net.n; i++)
				if (want[i])
					CHECK(memcmp(want[i], nk_darknet_output(&net, i),
						     net.l[i].outputs * 2 *
							     sizeof **want) == 0);
		}
		/* The shared block: the heads plus a few layers' worth. */
		size_t used = 0;
		/* yolov3-tiny's and yolov2-tiny's first convolution runs
		 * fused with its max pool: no buffer of its own */
		CHECK((net.l[0].out == NULL) == (c < 2));
		for (int i = 0; i < net.n; i++) {
			if (!net.l[i].out)
				continue;
			size_t end = (size_t)(net.l[i].out - net.act) +
				     net.l[i].outputs * 2;
			if (end > used)
				used = end;
		}
		CHECK(used < all); /* (B = 2): under half: 0.45, 0.48, 0.20 */
		CHECK(nk_darknet_save_weights(&net, tmp_path("x.weights")) != 0);
		for (int i = 0; i < net.n; i++)
			free(want[i]);
		free(want);
		free(in);
		nk_darknet_free(&net);
	}
}

/* nk_darknet_load_infer plans straight from the mapped file: the heads
 * come out with the bits of an ordinary load, and a file of the wrong
 * length gets the ordinary load's message. */
TEST(load_infer)
{
	const char *cfg = CFGDIR "/yolov3-tiny.cfg";
	nk_dnw_header h = {0, 2, 0, 7};
	size_t n;
	CHECK(write_random(cfg, tmp_path("i.weights"), 0, h, &n) == 0);
	nk_darknet a, b;
	CHECK(nk_darknet_load(&a, cfg, tmp_path("i.weights")) == 0);
	CHECK(nk_darknet_load_infer(&b, cfg, tmp_path("i.weights")) == 0);
	CHECK(b.params_dropped && b.hdr.seen == 7);
	size_t nin = a.inputs;
	float *in = malloc(nin * sizeof *in);
	for (size_t k = 0; k < nin; k++)
		in[k] = frand();
	CHECK(nk_darknet_forward(&a, in, 1) == 0);
	CHECK(nk_darknet_forward(&b, in, 1) == 0);
	for (int i = 0; i < a.n; i++)
		if (a.l[i].type == NK_DN_YOLO)
			CHECK(memcmp(nk_darknet_output(&a, i), nk_darknet_output(&b, i),
				     a.l[i].outputs * sizeof(float)) == 0);
	nk_darknet_free(&a);
	nk_darknet_free(&b);
	free(in);
	for (int extra = -1; extra <= 1; extra += 2) {
		char want[512];
		CHECK(write_random(cfg, tmp_path("j.weights"), extra > 0 ? 3 : 0, h,
				   &n) == 0);
		if (extra < 0)
			CHECK(truncate(tmp_path("j.weights"), 20 + 4 * (off_t)(n - 5)) == 0);
		CHECK(nk_darknet_load(&a, cfg, tmp_path("j.weights")) != 0);
		snprintf(want, sizeof want, "%s", nk_last_error());
		CHECK(nk_darknet_load_infer(&b, cfg, tmp_path("j.weights")) != 0);
		CHECK(strcmp(want, nk_last_error()) == 0);
	}
}

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "dump") == 0)
		return dump(argv + 2);
	if (argc == 5 && strcmp(argv[1], "random") == 0)
		return random_weights(argv + 2);
	if (argc != 1) {
		fprintf(stderr, "usage: test_darknet [random CFG OUT.weights SEED | "
			"dump CFG WEIGHTS IN.nkw OUT.nkw]\n");
		return 2;
	}
	if (!mkdtemp(tmpdir))
		return 1;
	RUN(cfg_parse);
	RUN(cfg_errors);
	RUN(net_defaults);
	RUN(net_errors);
	if (access(CFGDIR "/yolov3-tiny.cfg", R_OK) == 0) {
		RUN(shapes_of_darknet_cfgs);
		RUN(weights_round_trip);
		RUN(weights_count_mismatch);
		RUN(buffer_reuse);
		RUN(threads_same_bits);
		RUN(load_infer);
	} else {
		nk_test_skip("darknet_cfgs", CFGDIR " is not installed (the "
			     "darknet package; scripts/deps test)");
	}
	RUN(forward_small);
	RUN(yolo_decode);
	RUN(boxes_free_after_nms);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
	if (system(cmd))
		return 1;
	return nk_test_exit();
}
