/* test_darknet_train.c - training a darknet network (models/darknet_train.h):
 * every parameter gradient against central finite differences on a cfg
 * with every layer type, the same bits on 1 and 2 threads, push/pull,
 * and the eval forward against nk_darknet_forward's folded inference.
 *
 *   test_darknet_train              the unit tests
 *   test_darknet_train torch FILE   writes the network, an input, and this
 *                                   library's outputs, gradients and
 *                                   running statistics after one step to
 *                                   FILE (.nkw) for
 *                                   tests/t_darknet_train_torch.sh
 *   test_darknet_train bench [B] [S] [REPS] [FILE]  images/s of a
 *                                   training step on a tiny-yolo-like
 *                                   backbone at S x S (its .nkw to FILE,
 *                                   for scripts/bench-darknet-train)
 */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <time.h>

#include "check.h"
#include "core/base.h"
#include "core/rng.h"
#include "formats/wfile.h"
#include "models/darknet.h"
#include "models/darknet_train.h"
#include "nn/optim.h"
#include "nn/pool.h"

/* Every trainable layer type, smooth activations where finite
 * differences cross no kink but one leaky, dropout with a fixed seed,
 * outputs recomputed in backward for leaky, mish and logistic,
 * darknet's size-2 stride-1 maxpool, groups, a shortcut with alpha and
 * beta and one between sizes (darknet's steps: 8x4x4 onto 5x2x2), reorg,
 * upsample with a scale, route, and a [cost] head whose
 * gradient the caller gives. */
static const char fd_cfg[] =
	"[net]\nheight=8\nwidth=8\nchannels=3\n"
	"[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
	"[maxpool]\nsize=2\nstride=2\n"
	"[convolutional]\nbatch_normalize=1\nfilters=8\nsize=3\nstride=1\npad=1\ngroups=2\nactivation=mish\n"
	"[maxpool]\nsize=2\nstride=1\n"
	"[dropout]\nprobability=.3\n"
	"[shortcut]\nfrom=-4\nalpha=.5\nbeta=2\nactivation=silu\n"
	"[reorg]\nstride=2\n"
	"[convolutional]\nfilters=8\nsize=1\nstride=1\npad=1\nactivation=logistic\n"
	"[upsample]\nstride=2\nscale=.5\n"
	"[route]\nlayers=-1,5\n"
	"[convolutional]\nbatch_normalize=1\nfilters=6\nsize=3\nstride=2\npad=1\nactivation=silu\n"
	"[convolutional]\nbatch_normalize=1\nfilters=5\nsize=1\nstride=1\npad=1\nactivation=logistic\n"
	"[shortcut]\nfrom=1\nalpha=1.5\nbeta=-.5\nactivation=leaky\n"
	"[avgpool]\n"
	"[connected]\noutput=3\nactivation=linear\n"
	"[cost]\n";

/* A tiny-yolo-like backbone for threads, speed and memory. */
static const char yolo_cfg[] =
	"[convolutional]\nbatch_normalize=1\nfilters=16\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
	"[maxpool]\nsize=2\nstride=2\n"
	"[convolutional]\nbatch_normalize=1\nfilters=32\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
	"[maxpool]\nsize=2\nstride=2\n"
	"[convolutional]\nbatch_normalize=1\nfilters=64\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
	"[maxpool]\nsize=2\nstride=2\n"
	"[convolutional]\nbatch_normalize=1\nfilters=128\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
	"[maxpool]\nsize=2\nstride=2\n"
	"[convolutional]\nbatch_normalize=1\nfilters=256\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
	"[maxpool]\nsize=2\nstride=2\n"
	"[convolutional]\nbatch_normalize=1\nfilters=512\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
	"[maxpool]\nsize=2\nstride=1\n"
	"[convolutional]\nbatch_normalize=1\nfilters=1024\nsize=3\nstride=1\npad=1\nactivation=leaky\n"
	"[convolutional]\nbatch_normalize=1\nfilters=256\nsize=1\nstride=1\npad=1\nactivation=leaky\n"
	"[convolutional]\nfilters=40\nsize=1\nstride=1\npad=1\nactivation=linear\n";

static int build(nk_darknet *net, const char *text)
{
	nk_dncfg c;
	if (nk_dncfg_parse(&c, text, strlen(text), "test.cfg"))
		return -1;
	return nk_darknet_build(net, &c);
}

/* yolo_cfg under a [net] of S x S. */
static int build_yolo(nk_darknet *net, int S)
{
	char *text = malloc(sizeof yolo_cfg + 64);
	snprintf(text, sizeof yolo_cfg + 64, "[net]\nheight=%d\nwidth=%d\n"
		 "channels=3\n%s", S, S, yolo_cfg);
	int rc = build(net, text);
	free(text);
	return rc;
}

static float *rnd(nk_rng *r, size_t n, float scale)
{
	float *p = malloc((n ? n : 1) * sizeof *p);
	for (size_t i = 0; i < n; i++)
		p[i] = (nk_rng_float(r) * 2 - 1) * scale;
	return p;
}

/* Random trainable parameters, non-trivial running statistics. */
static void randomize(nk_dn_train *t, uint64_t seed)
{
	nk_rng r;
	nk_rng_seed(&r, seed, 7);
	nk_dn_train_randomize(t, seed);
	for (size_t i = t->ndecay; i < t->n; i++)
		t->params[i] = (nk_rng_float(&r) * 2 - 1) * .5f +
			       (nk_rng_float(&r) < .5f ? 1 : 0);
	for (int i = 0; i < t->net->n; i++) {
		nk_dn_layer *l = &t->net->l[i];
		for (int f = 0; l->bn && f < l->filters; f++) {
			l->bn_mean[f] = (nk_rng_float(&r) - .5f) * .2f;
			l->bn_var[f] = .5f + nk_rng_float(&r);
		}
	}
}

/* Loss: sum of squares of the last layer's output, in double. */
static double loss_of(nk_dn_train *t, const float *in, int B)
{
	nk_dn_train_forward(t, in, B, 42);
	int last = t->net->n - 1;
	const float *o = nk_dn_train_out(t, last);
	double s = 0;
	for (size_t i = 0; i < t->net->l[last].outputs * (size_t)B; i++)
		s += (double)o[i] * o[i];
	return s;
}

static void step(nk_dn_train *t, const float *in, int B, uint64_t seed)
{
	int last = t->net->n - 1;
	nk_dn_train_forward(t, in, B, seed);
	const float *o = nk_dn_train_out(t, last);
	float *d = nk_dn_train_dout(t, last);
	for (size_t i = 0; i < t->net->l[last].outputs * (size_t)B; i++)
		d[i] = 2 * o[i];
	nk_dn_train_backward(t, in, B);
}

TEST(finite_differences)
{
	nk_darknet net;
	nk_dn_train t;
	int B = 2;
	CHECK(build(&net, fd_cfg) == 0);
	CHECK(nk_dn_train_init(&t, &net, B) == 0);
	if (check_group_failed)
		return;
	randomize(&t, 1);
	nk_rng r;
	nk_rng_seed(&r, 2, 0);
	float *in = rnd(&r, net.inputs * B, 1);
	memset(t.grads, 0, t.n * sizeof *t.grads);
	step(&t, in, B, 42);
	/* Outputs recomputed in backward (read by a max-pool or avgpool:
	 * leaky, mish, logistic), and those a convolution reads, kept;
	 * gradients shared but the heads'. */
	CHECK(!t.tl[0].keep && !t.tl[2].keep && !t.tl[11].keep);
	CHECK(t.tl[10].keep && t.tl[1].keep && t.tl[7].keep);
	CHECK(!nk_dn_train_out(&t, 0) && !nk_dn_train_dout(&t, 0));
	CHECK(!t.tl[1].own && t.tl[net.n - 1].own);
	/* dropout dropped some, kept some */
	const float *m = t.tl[4].mask;
	int zeros = 0;
	for (size_t i = 0; i < net.l[4].outputs * B; i++)
		zeros += m[i] == 0;
	CHECK(zeros > 0 && zeros < (int)(net.l[4].outputs * B) / 2);
	float *g = malloc(t.n * sizeof *g);
	memcpy(g, t.grads, t.n * sizeof *g);
	double worst = 0, gmax = 0;
	size_t bad = 0, where = 0, tried = 0;
	for (size_t i = 0; i < t.n; i++)
		if (fabsf(g[i]) > gmax)
			gmax = fabsf(g[i]);
	/* Every bias and scale, a stride through the weights. */
	for (size_t i = 0; i < t.n; i += i < t.ndecay ? 7 : 1) {
		float p0 = t.params[i], h = 3e-3f;
		t.params[i] = p0 + h;
		double lp = loss_of(&t, in, B);
		t.params[i] = p0 - h;
		double lm = loss_of(&t, in, B);
		t.params[i] = p0;
		double fd = (lp - lm) / (2.0 * ((double)(p0 + h) - p0));
		double err = fabs(fd - g[i]) / (fabs(fd) + fabs(g[i]) + 1e-2 * gmax);
		tried++;
		if (err > 2e-2)
			bad++;
		if (err > worst)
			worst = err, where = i;
	}
	/* A step of 3e-3 (1e-2 leaves 5 of 287 off by 2-5% from the
	 * curvature of mish and silu); a max-pool tie or the leaky kink may
	 * still catch one or two. */
	CHECK_MSG(bad <= 2, "%zu of %zu parameters off, worst %.3g at "
		  "%zu (analytic %g)", bad, tried, worst, where, g[where]);
	CHECK(gmax > 0);
	free(g);
	free(in);
	nk_dn_train_free(&t);
	nk_darknet_free(&net);
}

/* Gradients for one step with the given threads. */
static void grads_at(int threads, float **g, float **o, size_t *n,
		     size_t *no)
{
	nk_darknet net;
	nk_dn_train t;
	int B = 2;
	omp_set_num_threads(threads);
	build_yolo(&net, 64);
	nk_dn_train_init(&t, &net, B);
	randomize(&t, 3);
	nk_rng r;
	nk_rng_seed(&r, 4, 0);
	float *in = rnd(&r, net.inputs * B, 1);
	step(&t, in, B, 5);
	int last = net.n - 1;
	*n = t.n + 2 * (size_t)net.l[0].filters;
	*no = net.l[last].outputs * B;
	*g = malloc(*n * sizeof **g);
	memcpy(*g, t.grads, t.n * sizeof **g);
	memcpy(*g + t.n, net.l[0].bn_mean, net.l[0].filters * sizeof **g);
	memcpy(*g + t.n + net.l[0].filters, net.l[0].bn_var,
	       net.l[0].filters * sizeof **g);
	*o = malloc(*no * sizeof **o);
	memcpy(*o, nk_dn_train_out(&t, last), *no * sizeof **o);
	free(in);
	nk_dn_train_free(&t);
	nk_darknet_free(&net);
}

TEST(threads_same_bits)
{
	int max = omp_get_max_threads();
	float *g1, *o1, *g2, *o2;
	size_t n1, n2, no1, no2;
	grads_at(1, &g1, &o1, &n1, &no1);
	grads_at(2, &g2, &o2, &n2, &no2);
	omp_set_num_threads(max);
	CHECK(n1 == n2 && no1 == no2);
	CHECK(memcmp(o1, o2, no1 * sizeof *o1) == 0);
	CHECK(memcmp(g1, g2, n1 * sizeof *g1) == 0);
	double s = 0;
	for (size_t i = 0; i < n1; i++)
		s += fabs(g1[i]);
	CHECK(s > 0);
	free(g1), free(g2), free(o1), free(o2);
}

TEST(push_pull)
{
	nk_darknet net;
	nk_dn_train t;
	CHECK(build(&net, fd_cfg) == 0);
	CHECK(nk_dn_train_init(&t, &net, 1) == 0);
	if (check_group_failed)
		return;
	randomize(&t, 9);
	float *keep = malloc(t.n * sizeof *keep);
	memcpy(keep, t.params, t.n * sizeof *keep);
	nk_dn_train_push(&t);
	/* file order: layer 0's bias first, its weight after 4 vectors */
	CHECK(net.params[0] == t.tl[0].b[0]);
	CHECK(net.l[0].weight[5] == t.params[5]);
	CHECK(net.l[0].bn_scale[3] == t.tl[0].s[3]);
	memset(t.params, 0, t.n * sizeof *t.params);
	nk_dn_train_pull(&t);
	CHECK(memcmp(keep, t.params, t.n * sizeof *keep) == 0);
	/* block: weights first */
	size_t nw = 0;
	for (int i = 0; i < net.n; i++)
		if (net.l[i].type == NK_DN_CONV || net.l[i].type == NK_DN_CONNECTED)
			nw += net.l[i].nweight;
	CHECK(t.ndecay == nw);
	CHECK(t.tl[0].w == t.params && t.tl[0].b == t.params + nw);
	free(keep);
	nk_dn_train_free(&t);
	nk_darknet_free(&net);
}

TEST(eval_equals_inference)
{
	nk_darknet net;
	nk_dn_train t;
	int B = 2;
	CHECK(build_yolo(&net, 64) == 0);
	CHECK(nk_dn_train_init(&t, &net, B) == 0);
	if (check_group_failed)
		return;
	randomize(&t, 11);
	nk_rng r;
	nk_rng_seed(&r, 12, 0);
	float *in = rnd(&r, net.inputs * B, 1);
	CHECK(nk_darknet_forward(&net, in, B) == 0); /* folds once */
	for (int k = 0; k < 3; k++)                   /* running stats move */
		nk_dn_train_forward(&t, in, B, k);
	CHECK(net.folded == 0);
	nk_dn_train_push(&t);
	CHECK(nk_dn_train_eval(&t, in, B) == 0);
	CHECK(nk_dn_train_backward(&t, in, B) != 0); /* refused after eval */
	CHECK(nk_darknet_forward(&net, in, B) == 0);
	int last = net.n - 1;
	/* Winograd and packed plans against im2col: measured 1.2e-6. */
	const float *a = nk_dn_train_out(&t, last), *b = nk_darknet_output(&net, last);
	double err = 0, scale = 0;
	for (size_t i = 0; i < net.l[last].outputs * B; i++) {
		double d = fabs((double)a[i] - b[i]);
		if (d > err)
			err = d;
		if (fabs(b[i]) > scale)
			scale = fabs(b[i]);
	}
	CHECK_MSG(err <= 1e-5 * scale && scale > 0, "eval and inference "
		  "differ by %g (scale %g)", err, scale);
	free(in);
	nk_dn_train_free(&t);
	nk_darknet_free(&net);
}

/* The 2x2 max-pools' own loop against nk_maxpool_forward, ties (values
 * on a coarse grid) and an odd side (the stride-1 windows hanging over)
 * included. */
TEST(maxpool_fast_path)
{
	static const char cfg[] = "[net]\nheight=7\nwidth=7\nchannels=3\n"
		"[maxpool]\nsize=2\nstride=1\n"
		"[maxpool]\nsize=2\nstride=2\n"  /* 7 -> 4: the general loop */
		"[maxpool]\nsize=2\nstride=2\n"  /* 4 -> 2 */
		"[maxpool]\nsize=2\nstride=1\n";
	nk_darknet net;
	nk_dn_train t;
	int B = 2;
	CHECK(build(&net, cfg) == 0);
	CHECK(nk_dn_train_init(&t, &net, B) == 0);
	if (check_group_failed)
		return;
	nk_rng r;
	nk_rng_seed(&r, 5, 0);
	float *in = rnd(&r, net.inputs * B, 1);
	for (size_t i = 0; i < net.inputs * B; i++)
		in[i] = roundf(in[i] * 2) / 2;
	CHECK(nk_dn_train_forward(&t, in, B, 0) == 0);
	for (int i = 0; i < net.n; i++) {
		const nk_dn_layer *l = &net.l[i];
		size_t n = l->outputs * B;
		float *o = malloc(n * sizeof *o);
		int32_t *am = malloc(n * sizeof *am);
		nk_pool_shape s = {l->c, l->h, l->w, l->out_h, l->out_w, 2,
				   l->stride, l->pad / 2};
		nk_maxpool_forward(o, am, i ? t.tl[i - 1].out : in, B, &s);
		CHECK(memcmp(o, t.tl[i].out, n * sizeof *o) == 0);
		CHECK(memcmp(am, t.tl[i].argmax, n * sizeof *am) == 0);
		free(o);
		free(am);
	}
	free(in);
	nk_dn_train_free(&t);
	nk_darknet_free(&net);
}

/* The block as an optimizer sees it: AdamW with decay on the first
 * ndecay floats, none on the rest (two states stepping together), over a
 * few steps the loss falls. */
TEST(adamw_descends)
{
	nk_darknet net;
	nk_dn_train t;
	int B = 2;
	CHECK(build(&net, fd_cfg) == 0);
	CHECK(nk_dn_train_init(&t, &net, B) == 0);
	if (check_group_failed)
		return;
	randomize(&t, 31);
	nk_rng r;
	nk_rng_seed(&r, 32, 0);
	float *in = rnd(&r, net.inputs * B, 1);
	nk_adam wd, nowd;
	CHECK(nk_adam_init(&wd, t.ndecay, 1e-2f, .9f, .999f, 1e-8f, 5e-4f) == 0);
	CHECK(nk_adam_init(&nowd, t.n - t.ndecay, 1e-2f, .9f, .999f, 1e-8f, 0) == 0);
	double first = loss_of(&t, in, B), l = first;
	for (int k = 0; k < 30; k++) {
		memset(t.grads, 0, t.n * sizeof *t.grads);
		step(&t, in, B, 100 + k);
		nk_adam_step(&wd, t.params, t.grads, 1e-2f);
		nk_adam_step(&nowd, t.params + t.ndecay, t.grads + t.ndecay, 1e-2f);
	}
	l = loss_of(&t, in, B);
	CHECK_MSG(l < .2 * first, "loss %g -> %g in 30 steps", first, l);
	nk_adam_free(&wd);
	nk_adam_free(&nowd);
	free(in);
	nk_dn_train_free(&t);
	nk_darknet_free(&net);
}

TEST(errors)
{
	nk_darknet net;
	nk_dn_train t;
	CHECK(build(&net, fd_cfg) == 0);
	CHECK(nk_dn_train_init(&t, &net, 0) == NK_EINVAL);
	CHECK(nk_dn_train_init(&t, &net, 2) == 0);
	float in[3 * 8 * 8 * 3] = {0};
	CHECK(nk_dn_train_backward(&t, in, 2) == NK_EINVAL); /* no forward */
	CHECK(nk_dn_train_forward(&t, in, 3, 0) == NK_EINVAL);
	CHECK(nk_dn_train_forward(&t, in, 2, 0) == 0);
	CHECK(nk_dn_train_backward(&t, in, 1) == NK_EINVAL);
	CHECK(nk_dn_train_out(&t, net.n) == NULL);
	nk_dn_train_free(&t);
	nk_darknet_free(&net);
}

static int torch_dump(const char *path)
{
	nk_darknet net;
	nk_dn_train t;
	int B = 2;
	if (build(&net, fd_cfg) || nk_dn_train_init(&t, &net, B)) {
		fprintf(stderr, "test_darknet_train: %s\n", nk_last_error());
		return 1;
	}
	randomize(&t, 21);
	nk_dn_train_push(&t);
	/* No dropout in torch: probability 0 keeps every element. */
	t.tl[4].prob = 0;
	nk_wfile *w = nk_wfile_create();
	nk_wfile *after = nk_wfile_create();
	/* The tensors before the step (copied: the step moves the stats). */
	float *before = malloc(net.nparams * sizeof *before);
	memcpy(before, net.params, net.nparams * sizeof *before);
	nk_rng r;
	nk_rng_seed(&r, 22, 0);
	float *in = rnd(&r, net.inputs * B, 1);
	step(&t, in, B, 1);
	int last = net.n - 1;
	nk_wfile_set_float(w, "momentum", t.momentum);
	nk_wfile_set_float(w, "eps", t.eps);
	nk_wfile_add(w, "input", NK_F32, 4, (int64_t[]){B, net.c, net.h, net.w}, in);
	nk_wfile_add(w, "out", NK_F32, 2,
		     (int64_t[]){B, (int64_t)net.l[last].outputs},
		     nk_dn_train_out(&t, last));
	/* Gradients and running statistics under the tensors' names. */
	float *gblock = calloc(net.nparams, sizeof *gblock);
	nk_darknet gnet = net;  /* shallow: point a copy at gblock */
	gnet.l = malloc(net.n * sizeof *gnet.l);
	memcpy(gnet.l, net.l, net.n * sizeof *gnet.l);
	gnet.params = gblock;
	for (int i = 0; i < net.n; i++) {
		nk_dn_layer *l = &gnet.l[i];
		nk_dn_tlayer *tl = &t.tl[i];
		if (!tl->w)
			continue;
		size_t o = (size_t)(l->bias - net.params);
		l->bias = gblock + o;
		l->weight = gblock + (l->weight - net.params);
		memcpy(l->bias, tl->gb, l->filters * sizeof(float));
		memcpy(l->weight, tl->gw, l->nweight * sizeof(float));
		if (l->bn) {
			l->bn_scale = gblock + (l->bn_scale - net.params);
			l->bn_mean = gblock + (l->bn_mean - net.params);
			l->bn_var = gblock + (l->bn_var - net.params);
			memcpy(l->bn_scale, tl->gs, l->filters * sizeof(float));
			/* the running statistics after the step */
			memcpy(l->bn_mean, net.l[i].bn_mean, l->filters * sizeof(float));
			memcpy(l->bn_var, net.l[i].bn_var, l->filters * sizeof(float));
		}
	}
	memcpy(net.params, before, net.nparams * sizeof *before);
	int rc = nk_darknet_to_wfile(&net, w) || nk_darknet_to_wfile(&gnet, after);
	for (size_t i = 0; !rc && i < nk_wfile_n_tensors(after); i++) {
		const nk_wtensor *x = nk_wfile_tensor_at(after, i);
		char name[96];
		snprintf(name, sizeof name, "after.%s", x->name);
		rc = nk_wfile_add(w, name, NK_F32, x->ndim, x->ne, x->data);
	}
	if (!rc)
		rc = nk_wfile_write(w, path, 0);
	if (rc)
		fprintf(stderr, "test_darknet_train: %s\n", nk_last_error());
	nk_wfile_free(w);
	nk_wfile_free(after);
	free(gnet.l);
	free(gblock);
	free(before);
	free(in);
	nk_dn_train_free(&t);
	nk_darknet_free(&net);
	return rc ? 1 : 0;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int bench(int B, int S, int reps, const char *save)
{
	nk_darknet net;
	nk_dn_train t;
	if (build_yolo(&net, S) || nk_dn_train_init(&t, &net, B)) {
		fprintf(stderr, "test_darknet_train: %s\n", nk_last_error());
		return 1;
	}
	nk_dn_train_randomize(&t, 1);
	nk_dn_train_push(&t);
	if (save && nk_darknet_save_nkw(&net, save)) {
		fprintf(stderr, "test_darknet_train: %s\n", nk_last_error());
		return 1;
	}
	nk_rng r;
	nk_rng_seed(&r, 2, 0);
	float *in = rnd(&r, net.inputs * B, 1);
	printf("backbone %dx%d, batch %d: %zu parameters, activations %.1f MiB\n",
	       S, S, B, t.n, t.act_bytes / 1048576.0);
	step(&t, in, B, 0); /* warm */
	double f = 0, b = 0;
	for (int k = 0; k < reps; k++) {
		double t0 = now();
		nk_dn_train_forward(&t, in, B, k);
		double t1 = now();
		float *d = nk_dn_train_dout(&t, net.n - 1);
		const float *o = nk_dn_train_out(&t, net.n - 1);
		for (size_t i = 0; i < net.l[net.n - 1].outputs * B; i++)
			d[i] = o[i] * 1e-3f;
		nk_dn_train_backward(&t, in, B);
		double t2 = now();
		f += t1 - t0, b += t2 - t1;
	}
	printf("nnkit threads %d: forward %.3f s, backward %.3f s, %.2f images/s\n",
	       omp_get_max_threads(), f / reps, b / reps, reps * B / (f + b));
	free(in);
	nk_dn_train_free(&t);
	nk_darknet_free(&net);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "torch") == 0)
		return torch_dump(argv[2]);
	if (argc >= 2 && strcmp(argv[1], "bench") == 0)
		return bench(argc > 2 ? atoi(argv[2]) : 8,
			     argc > 3 ? atoi(argv[3]) : 416,
			     argc > 4 ? atoi(argv[4]) : 3,
			     argc > 5 ? argv[5] : NULL);
	RUN(finite_differences);
	RUN(threads_same_bits);
	RUN(push_pull);
	RUN(eval_equals_inference);
	RUN(maxpool_fast_path);
	RUN(adamw_descends);
	RUN(errors);
	return nk_test_exit();
}
