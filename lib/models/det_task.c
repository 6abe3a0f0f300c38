/* det_task.c - a detector's training step, validation and checkpoint
 * state behind nk_train_task (det_task.h). */
#include "models/det_task.h"
#include "core/base.h"
#include "core/dist.h"
#include "core/rng.h"
#include "formats/wfile.h"
#include "models/det_arch.h"
#include "models/det_centernet.h"
#include "models/det_grid.h"
#include "vision/boxes.h"
#include "vision/det_eval.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

nk_det_task_config nk_det_task_default(void)
{
	return (nk_det_task_config){8, nk_augment_train(), .005f, .45f, 1, 0,
				    NULL, NULL};
}

static size_t objects_of(const nk_imcache *c, int i)
{
	return c->first[i + 1] - c->first[i];
}

static size_t most_objects(const nk_imcache *c)
{
	size_t m = 0;
	for (int i = 0; c && i < c->n; i++)
		if (objects_of(c, i) > m)
			m = objects_of(c, i);
	return m;
}

int nk_det_task_init(nk_det_task *t, nk_darknet *net,
		     const nk_imcache *train, const nk_imcache *val,
		     const nk_detset *valset, const nk_det_task_config *cfg)
{
	memset(t, 0, sizeof *t);
	const nk_dn_layer *h = net->n ? &net->l[net->n - 1] : NULL;
	/* The cfg is the user's file: name it, and the layer that is last. */
	const char *cfg_name = net->cfg.name ? net->cfg.name : "the network";
	if (!h)
		return nk_error(NK_EINVAL, "%s: no layers: detector training "
				"needs a last layer [grid] or [centernet]",
				cfg_name);
	if (h->type != NK_DN_GRID && h->type != NK_DN_CENTERNET)
		return nk_error(NK_EINVAL, "%s:%d: the last layer is [%s]: "
				"detector training needs [grid] or [centernet] "
				"there", cfg_name, h->line,
				nk_dn_type_name(h->type));
	if (!train || train->n < 1)
		return nk_error(NK_EINVAL, "detector training: no training "
				"images");
	if (cfg->batch < 1 || cfg->batch > 4096)
		return nk_error(NK_EINVAL, "detector training: batch %d (1..4096)",
				cfg->batch);
	if (val && (!valset || valset->nimages != val->n))
		return nk_error(NK_EINVAL, "detector training: the validation "
				"images and their set differ");
	t->net = net;
	t->train = train, t->val = val, t->valset = valset;
	t->cfg = *cfg;
	t->head = net->n - 1;
	t->nparts = h->type == NK_DN_GRID ? 4 : 3;
	for (int i = 0; i < net->n; i++) {
		const nk_dn_layer *l = &net->l[i];
		if (l->type == NK_DN_CENTERNET && i != t->head)
			return nk_error(NK_EINVAL, "detector training: a "
					"[centernet] layer must be the last");
		if (l->type != NK_DN_GRID && i != t->head)
			continue;
		if (l->type != h->type || l->classes != h->classes)
			return nk_error(NK_EINVAL, "detector training: layer %d "
					"is a head unlike the last", i);
		if (t->nheads == NK_DET_MAX_LEVELS)
			return nk_error(NK_EINVAL, "detector training: more "
					"than %d [grid] layers",
					NK_DET_MAX_LEVELS);
		t->heads[t->nheads++] = i;
	}
	t->val_map = NAN;
	size_t m1 = most_objects(train), m2 = most_objects(val);
	t->maxobj = (m1 > m2 ? m1 : m2) + 1;
	int B = cfg->batch, share = B;
	t->rank = nk_dist_rank();
	t->nranks = nk_dist_size();
	if (t->nranks > 1) {
		size_t lo, hi;
		if (B < t->nranks)
			return nk_error(NK_EINVAL, "detector training: a batch "
					"of %d images cannot be shared by %d "
					"ranks", B, t->nranks);
		for (int i = 0; i < net->n; i++)
			if (net->l[i].type == NK_DN_DROPOUT)
				return nk_error(NK_EINVAL, "detector training: "
						"layer %d is dropout, whose "
						"masks are drawn over the "
						"whole batch: not on several "
						"ranks", i);
		/* The training activations for this rank's share only. */
		nk_dist_share((size_t)B, t->rank, t->nranks, &lo, &hi);
		share = (int)(hi - lo);
	}
	int rc = nk_dn_train_init(&t->tr, net, share);
	if (rc)
		return rc;
	t->tr.sync = t->nranks > 1;
	t->in = nk_malloc((size_t)B * net->inputs * sizeof *t->in);
	t->abox = nk_malloc((size_t)B * t->maxobj * sizeof *t->abox);
	t->tg = nk_malloc((size_t)B * t->maxobj * sizeof *t->tg);
	t->gt = nk_malloc((size_t)B * sizeof *t->gt);
	t->ngt = nk_malloc((size_t)B * sizeof *t->ngt);
	t->order = nk_malloc((size_t)train->n * sizeof *t->order);
	if (val)
		t->val_ap = nk_calloc((size_t)valset->nclasses + 1,
				      sizeof *t->val_ap);
	if (!t->in || !t->abox || !t->tg || !t->gt || !t->ngt || !t->order ||
	    (val && !t->val_ap)) {
		nk_det_task_free(t);
		return NK_ENOMEM;
	}
	for (int b = 0; b < B; b++)
		t->gt[b] = t->tg + (size_t)b * t->maxobj;
	return NK_OK;
}

void nk_det_task_free(nk_det_task *t)
{
	nk_dn_train_free(&t->tr);
	free(t->in);
	free(t->abox);
	free(t->tg);
	free(t->gt);
	free(t->ngt);
	free(t->order);
	free(t->val_ap);
	memset(t, 0, sizeof *t);
}

void nk_det_task_randomize(nk_det_task *t, uint64_t seed)
{
	nk_dn_train_randomize(&t->tr, seed);
	/* Each head's convolution starts small (CenterNet's heads: normal,
	 * deviation 0.001; here 0.01) so the first steps see the priors. */
	for (int k = 0; k < t->nheads; k++) {
		int last = t->heads[k] - 1;
		const nk_dn_layer *l = &t->net->l[last];
		nk_dn_tlayer *tl = &t->tr.tl[last];
		if (l->type != NK_DN_CONV)
			continue;
		float sd = sqrtf(2.f / (float)((size_t)(l->c / l->groups) *
					       l->size * l->size));
		for (size_t k = 0; k < l->nweight; k++)
			tl->w[k] *= .01f / sd;
		if (t->net->l[t->head].type == NK_DN_CENTERNET)
			for (int c = 0; c < t->net->l[t->head].classes; c++)
				tl->b[c] = NK_CENTERNET_HM_BIAS;
	}
	nk_dn_train_push(&t->tr);
}

/* The epoch's order: a permutation drawn from the seed and the epoch. */
static void shuffle(nk_det_task *t)
{
	nk_rng r;
	nk_rng_seed(&r, t->cfg.seed, 2 + (uint64_t)t->epoch);
	for (int i = 0; i < t->train->n; i++)
		t->order[i] = (uint32_t)i;
	nk_rng_shuffle_u32(&r, t->order, (uint64_t)t->train->n);
}

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* Samples for images idx[0..B): network input and targets; image b's
 * augmentation is seeded by its place b0 + b in the global batch. */
static int samples(nk_det_task *t, const nk_imcache *c, const int *idx,
		   int B, const nk_augment_config *aug, uint64_t seed, int b0)
{
	const nk_darknet *net = t->net;
	int rc = NK_OK;
#pragma omp parallel for schedule(dynamic) if (B > 1)
	for (int b = 0; b < B; b++) {
		int i = idx[b], n = 0;
		nk_aug_box *ab = t->abox + (size_t)b * t->maxobj;
		int r = nk_augment(t->in + (size_t)b * net->inputs, ab, &n,
				   &c->images[i], c->objects + c->first[i],
				   (int)objects_of(c, i), net->w, net->h, aug,
				   mix(seed + (uint64_t)(b0 + b)));
		if (r) {
#pragma omp critical
			rc = r;
			continue;
		}
		nk_det_target *tg = t->tg + (size_t)b * t->maxobj;
		for (int k = 0; k < n; k++)
			tg[k] = (nk_det_target){ab[k].cls, ab[k].cx, ab[k].cy,
						ab[k].w, ab[k].h};
		t->ngt[b] = n;
	}
	return rc;
}

/* One head's loss on out (B images); dout may be NULL.  parts[] adds;
 * CenterNet's normalisers (heatmap peaks, objects) into cnt[2]. */
static double head_loss(nk_det_task *t, int i, float *dout, const float *out,
			int B, double *parts, double *cnt)
{
	const nk_dn_layer *h = &t->net->l[i];
	if (h->type == NK_DN_GRID) {
		nk_grid_shape s = {h->h, h->w, h->num, h->classes, t->net->w,
				   t->net->h, 1, h->min_size, h->max_size};
		nk_grid_loss_parts p;
		double loss = nk_grid_loss(dout, out, B, &s, t->gt, t->ngt, &p);
		parts[0] += p.coord, parts[1] += p.obj, parts[2] += p.noobj,
		parts[3] += p.cls;
		return loss;
	}
	nk_centernet_shape s = {h->classes, t->net->w, t->net->h,
				t->net->w / h->w};
	nk_centernet_loss_parts p;
	double loss = nk_centernet_loss(dout, out, B, &s, t->gt, t->ngt, &p);
	parts[0] += p.hm, parts[1] += p.wh, parts[2] += p.off;
	cnt[0] = p.num_pos, cnt[1] = p.objects;
	return loss;
}

/* Every head's loss, summed (each level's is the mean per image, as a
 * single level's), after the training forward (train: their gradients
 * given) or the inference one.  NaN with the error recorded. */
static double heads_loss(nk_det_task *t, int train, int B, double *parts,
			 double *cnt)
{
	double loss = 0;
	memset(parts, 0, 4 * sizeof *parts);
	cnt[0] = cnt[1] = 0;
	for (int k = 0; k < t->nheads; k++) {
		int i = t->heads[k];
		float *dout = train ? nk_dn_train_dout(&t->tr, i) : NULL;
		const float *out = train ? nk_dn_train_out(&t->tr, i)
					 : nk_darknet_output(t->net, i);
		loss += head_loss(t, i, dout, out, B, parts, cnt);
	}
	return loss;
}

static void scale(float *v, size_t n, float f)
{
	if (f != 1.0f)
		for (size_t k = 0; k < n; k++)
			v[k] *= f;
}

/* Several ranks: the loss of this share's nb images (loss, parts, CenterNet's
 * counts cnt) made the global batch's, as one process normalises it, on
 * every rank; the heads' douts scaled to N times this share's part of
 * the global loss's gradient (see det_task.h). */
static int global_loss(nk_det_task *t, int nb, double *loss, double *parts,
		       const double *cnt)
{
	int N = t->nranks, B = t->cfg.batch;
	const nk_dn_layer *h = &t->net->l[t->head];
	if (h->type == NK_DN_GRID) {
		/* Every level's loss is a mean per image. */
		double s[5] = {*loss * nb, parts[0] * nb, parts[1] * nb,
			       parts[2] * nb, parts[3] * nb};
		int rc = nk_dist_sum_f64(s, 5);
		if (rc)
			return rc;
		*loss = s[0] / B;
		for (int k = 0; k < 4; k++)
			parts[k] = s[k + 1] / B;
		float f = (float)((double)N * nb / B);
		for (int k = 0; k < t->nheads; k++)
			scale(nk_dn_train_dout(&t->tr, t->heads[k]),
			      t->net->l[t->heads[k]].outputs * (size_t)nb, f);
		return NK_OK;
	}
	/* CenterNet: the heatmap's focal loss over the batch's peaks, the
	 * sizes' and offsets' L1 over 2 * objects + 1e-4. */
	double norm = cnt[0] > 0 ? cnt[0] : 1, den = 2 * cnt[1] + 1e-4;
	double s[5] = {cnt[0], cnt[1], parts[0] * norm, parts[1] * den,
		       parts[2] * den};
	int rc = nk_dist_sum_f64(s, 5);
	if (rc)
		return rc;
	double gnorm = s[0] > 0 ? s[0] : 1, gden = 2 * s[1] + 1e-4;
	parts[0] = s[2] / gnorm, parts[1] = s[3] / gden, parts[2] = s[4] / gden;
	*loss = parts[0] + parts[1] + parts[2];
	float fh = (float)(N * norm / gnorm), fr = (float)(N * den / gden);
	size_t C = (size_t)h->classes, plane = h->outputs / (C + 4);
	float *d = nk_dn_train_dout(&t->tr, t->head);
	for (int b = 0; b < nb; b++) {
		float *db = d + (size_t)b * h->outputs;
		scale(db, C * plane, fh);
		scale(db + C * plane, 4 * plane, fr);
	}
	return NK_OK;
}

static int task_step(void *ctx, uint64_t seed, double *loss)
{
	nk_det_task *t = ctx;
	int B = t->cfg.batch, idx[4096];
	/* Every rank draws the global batch; it keeps images [lo, hi). */
	for (int b = 0; b < B; b++) {
		if (t->pos == 0 || t->pos >= t->train->n) {
			if (t->pos >= t->train->n)
				t->epoch++;
			t->pos = 0;
			shuffle(t);
		}
		idx[b] = (int)t->order[t->pos++];
	}
	size_t lo = 0, hi = (size_t)B;
	if (t->nranks > 1)
		nk_dist_share((size_t)B, t->rank, t->nranks, &lo, &hi);
	int nb = (int)(hi - lo);
	int rc = samples(t, t->train, idx + lo, nb, &t->cfg.aug, seed, (int)lo);
	if (t->nranks > 1)
		rc = nk_dist_agree(rc);
	if (rc || (rc = nk_dn_train_forward(&t->tr, t->in, nb, seed)))
		return rc;
	double parts[4], cnt[2];
	*loss = heads_loss(t, 1, nb, parts, cnt);
	rc = isnan(*loss) && nk_last_error()[0] ? NK_EINVAL : NK_OK;
	if (t->nranks > 1 && !(rc = nk_dist_agree(rc)))
		rc = global_loss(t, nb, loss, parts, cnt);
	if (rc)
		return rc;
	memset(t->tr.grads, 0, t->tr.n * sizeof *t->tr.grads);
	if ((rc = nk_dn_train_backward(&t->tr, t->in, nb)))
		return rc;
	for (int k = 0; k < 4; k++)
		t->part_sum[k] += parts[k];
	t->part_steps++;
	return NK_OK;
}

/* Image i's detections through the inference forward already run (as
 * batch image b), into dt in the original image's pixels. */
static int detections(nk_det_task *t, nk_detset *dt, int i, int b)
{
	const nk_image *im = &t->val->images[i];
	nk_detection *d;
	nk_box_hit *hits;
	int n, nh, rc;
	if ((rc = nk_darknet_boxes(t->net, b, im->w, im->h,
				   t->cfg.eval_thresh, .5f, 0, &d, &n)))
		return rc;
	nk_nms_per_class(d, n, t->cfg.nms);
	rc = nk_box_hits(d, n, im->w, im->h, 0, &hits, &nh);
	nk_darknet_free_boxes(d, n);
	float sx = t->val->sx[i], sy = t->val->sy[i];
	for (int k = 0; !rc && k < nh; k++) {
		nk_box_hit *h = &hits[k];
		nk_det_object o = {i, h->cls, h->x / sx, h->y / sy, h->w / sx,
				   h->h / sy, h->score, 0, (int64_t)dt->nobjects + 1,
				   0, 0};
		o.area = o.w * o.h;
		rc = nk_detset_add_object(dt, &o);
	}
	free(hits);
	return rc;
}

int nk_det_task_validate(nk_det_task *t, double *loss, double *map,
			 double *ap)
{
	*loss = *map = NAN;
	if (!t->val)
		return NK_OK;
	nk_dn_train_push(&t->tr);
	nk_augment_config plain = nk_augment_val();
	nk_detset dt = {0};
	const nk_detset *gt = t->valset;
	int rc = NK_OK, B = t->cfg.batch, idx[4096];
	for (int i = 0; !rc && i < gt->nimages; i++) {
		int at;
		rc = nk_detset_add_image(&dt, gt->images[i].file,
					 gt->images[i].name, gt->images[i].id,
					 gt->images[i].width,
					 gt->images[i].height, &at);
	}
	double sum = 0;
	for (int i0 = 0; !rc && i0 < t->val->n; i0 += B) {
		int nb = t->val->n - i0 < B ? t->val->n - i0 : B;
		for (int b = 0; b < nb; b++)
			idx[b] = i0 + b;
		double parts[4];
		if ((rc = samples(t, t->val, idx, nb, &plain, 0, 0)) ||
		    (rc = nk_darknet_forward(t->net, t->in, nb)))
			break;
		/* grid's loss is per image, CenterNet's per batch (over its
		 * objects): weighting by the batch's images gives the mean for
		 * grid and a comparable figure for CenterNet. */
		double cnt[2];
		sum += nb * heads_loss(t, 0, nb, parts, cnt);
		for (int b = 0; !rc && b < nb; b++)
			rc = detections(t, &dt, i0 + b, b);
	}
	double *aps = NULL;
	if (!rc && !(aps = nk_malloc((size_t)gt->nclasses * sizeof *aps)))
		rc = NK_ENOMEM;
	if (!rc && !(rc = nk_detset_sort(&dt)) &&
	    !(rc = nk_voc_evaluate(aps, map, gt, &dt, .5, 0))) {
		*loss = sum / t->val->n;
		if (ap)
			memcpy(ap, aps, (size_t)gt->nclasses * sizeof *ap);
		memcpy(t->val_ap, aps, (size_t)gt->nclasses * sizeof *aps);
		t->val_map = *map;
		t->evaluated = 1;
	}
	free(aps);
	nk_detset_free(&dt);
	return rc;
}

static int task_evaluate(void *ctx, double *loss)
{
	double map;
	return nk_det_task_validate(ctx, loss, &map, NULL);
}

static int task_log(void *ctx, int evaluated, char *buf, size_t n)
{
	nk_det_task *t = ctx;
	size_t at = 0;
	double steps = t->part_steps ? (double)t->part_steps : 1;
	for (int k = 0; k < t->nparts; k++)
		at += (size_t)snprintf(buf + at, n - at, "%.6g,",
				       t->part_sum[k] / steps);
	if (evaluated && t->evaluated)
		snprintf(buf + at, n - at, "%.4f", t->val_map);
	memset(t->part_sum, 0, sizeof t->part_sum);
	t->part_steps = 0;
	return NK_OK;
}

/* The augmentation's numbers in det_aug's order (det_task.h). */
#define AUG_FIELDS 9

static void aug_fields(const nk_augment_config *a, double *v)
{
	const float f[AUG_FIELDS] = {a->flip_h, a->flip_v, a->scale_min,
				     a->scale_max, a->aspect, a->translate,
				     a->hue, a->saturation, a->exposure};
	for (int i = 0; i < AUG_FIELDS; i++)
		v[i] = f[i];
}

/* The class names, one a line (allocated).  A name is a line of a names
 * file or an XML or JSON string: one with a newline inside, which only
 * JSON can spell, would blur the line between two names. */
static char *joined_names(const char *const *names, int n)
{
	size_t len = 1;
	for (int k = 0; k < n; k++)
		len += strlen(names[k]) + 1;
	char *s = nk_malloc(len), *at = s;
	if (!s)
		return NULL;
	*at = 0;
	for (int k = 0; k < n; k++)
		at += sprintf(at, "%s%s", k ? "\n" : "", names[k]);
	return s;
}

static int save_settings(const nk_det_task *t, nk_wfile *w)
{
	const nk_det_task_config *c = &t->cfg;
	double aug[AUG_FIELDS], ev[2] = {c->eval_thresh, c->nms};
	aug_fields(&c->aug, aug);
	int rc;
	if ((rc = nk_wfile_set_int(w, "det_seed", (int64_t)c->seed)) ||
	    (rc = nk_wfile_set_int(w, "det_batch", c->batch)) ||
	    (rc = nk_wfile_set_int(w, "det_aug_mode", c->aug.mode)) ||
	    (rc = nk_wfile_set_floats(w, "det_aug", aug, AUG_FIELDS)) ||
	    (rc = nk_wfile_set_floats(w, "det_eval", ev, 2)) ||
	    (rc = nk_wfile_set_int(w, "det_max_side", c->max_side)) ||
	    (c->arch && (rc = nk_det_arch_save(c->arch, w))))
		return rc;
	if (c->names) {
		char *s = joined_names(c->names, t->net->l[t->head].classes);
		if (!s)
			return NK_ENOMEM;
		rc = nk_wfile_set_str(w, "det_classes", s);
		free(s);
	}
	return rc;
}

int nk_det_task_config_load(nk_det_task_config *cfg, const nk_wfile *f)
{
	int64_t seed, batch, mode, side;
	const double *aug, *ev;
	size_t na, ne;
	if (nk_wfile_get_int(f, "det_seed", &seed) ||
	    nk_wfile_get_int(f, "det_batch", &batch) ||
	    nk_wfile_get_int(f, "det_aug_mode", &mode) ||
	    nk_wfile_get_floats(f, "det_aug", &aug, &na) ||
	    nk_wfile_get_floats(f, "det_eval", &ev, &ne) ||
	    nk_wfile_get_int(f, "det_max_side", &side))
		/* An older detect's checkpoint recorded neither the
		 * augmentation nor max_side: it cannot be continued alike. */
		return nk_train_cannot_resume(f);
	if (na != AUG_FIELDS || ne != 2 || batch < 1 || batch > 4096 ||
	    (mode != NK_AUG_LETTERBOX && mode != NK_AUG_CROP) || side < 0 ||
	    side > 65536)
		return nk_error(NK_EFORMAT, "%s: cannot resume: the detector "
				"training's settings are out of range",
				nk_wfile_name(f));
	*cfg = nk_det_task_default();
	cfg->batch = (int)batch;
	cfg->seed = (uint64_t)seed;
	cfg->aug = (nk_augment_config){
		.mode = (int)mode, .flip_h = (float)aug[0],
		.flip_v = (float)aug[1], .scale_min = (float)aug[2],
		.scale_max = (float)aug[3], .aspect = (float)aug[4],
		.translate = (float)aug[5], .hue = (float)aug[6],
		.saturation = (float)aug[7], .exposure = (float)aug[8]};
	cfg->eval_thresh = (float)ev[0];
	cfg->nms = (float)ev[1];
	cfg->max_side = (int)side;
	return NK_OK;
}

/* joined's names as "a, b, c" into buf, cut with "..." where long. */
static void shown_names(char *buf, size_t size, const char *joined)
{
	size_t at = 0;
	const char *p = joined;
	for (; *p && at + 8 < size; p++) {
		if (*p == '\n') {
			buf[at++] = ',';
			buf[at++] = ' ';
		} else {
			buf[at++] = *p;
		}
	}
	strcpy(buf + at, *p ? "..." : "");
}

int nk_det_task_check_classes(const nk_wfile *f, const char *const *names,
			      int n, const char *data)
{
	const char *saved;
	if (nk_wfile_get_str(f, "det_classes", &saved))
		return nk_train_cannot_resume(f);
	char *want = joined_names(names, n);
	if (!want)
		return NK_ENOMEM;
	int same = strcmp(saved, want) == 0;
	free(want);
	if (same)
		return NK_OK;
	/* Both lists, as far as the message has room for them. */
	char a[400], b[400];
	shown_names(a, sizeof a, saved);
	want = joined_names(names, n);
	shown_names(b, sizeof b, want ? want : "");
	free(want);
	return nk_error(NK_EFORMAT, "%s: cannot resume: it was trained on the "
			"classes (%s), %s has (%s)", nk_wfile_name(f), a, data, b);
}

static int task_save(void *ctx, nk_wfile *w)
{
	nk_det_task *t = ctx;
	nk_dn_train_push(&t->tr);
	int64_t nps = 4;
	int rc;
	if ((rc = nk_darknet_to_wfile(t->net, w)) ||
	    (rc = nk_wfile_set_int(w, "det_epoch", t->epoch)) ||
	    (rc = nk_wfile_set_int(w, "det_pos", t->pos)) ||
	    (rc = nk_wfile_set_int(w, "det_part_steps", t->part_steps)) ||
	    (rc = save_settings(t, w)))
		return rc;
	/* The parts' sums as exact doubles: a resumed log row equals the
	 * row of a run never stopped. */
	return nk_wfile_add(w, "det.part_sum", NK_F64, 1, &nps, t->part_sum);
}

static int task_restore(void *ctx, const nk_wfile *f)
{
	nk_det_task *t = ctx;
	int64_t ep, pos, ps, four = 4;
	const nk_wtensor *e;
	if (nk_wfile_get_int(f, "det_epoch", &ep) ||
	    nk_wfile_get_int(f, "det_pos", &pos) ||
	    nk_wfile_get_int(f, "det_part_steps", &ps) ||
	    !(e = nk_wfile_expect(f, "det.part_sum", NK_F64, 1, &four)))
		return nk_error(NK_EFORMAT, "the checkpoint lacks the detector "
				"training's state (det_epoch, det_pos)");
	if (ep < 0 || pos < 0 || pos > t->train->n || ps < 0)
		return nk_error(NK_EFORMAT, "the checkpoint's data position "
				"(epoch %lld, image %lld) does not fit %d "
				"training images", (long long)ep, (long long)pos,
				t->train->n);
	t->epoch = ep;
	t->pos = pos;
	t->part_steps = ps;
	memcpy(t->part_sum, e->data, sizeof t->part_sum);
	if (pos > 0)
		shuffle(t);
	nk_dn_train_pull(&t->tr);
	return NK_OK;
}

nk_train_task nk_det_task_bind(nk_det_task *t)
{
	static const char *const cols[] = {"coord,obj,noobj,cls,val_map50",
					   "hm,wh,off,val_map50"};
	return (nk_train_task){
		.ctx = t,
		.params = t->tr.params,
		.grads = t->tr.grads,
		.numel = t->tr.n,
		.ndecay = t->tr.ndecay,
		.step = task_step,
		.evaluate = t->val ? task_evaluate : NULL,
		.save = task_save,
		.restore = task_restore,
		.log_columns = cols[t->nparts == 3],
		.log_values = task_log,
		/* Every rank weighs 1: its gradient is N times its part of
		 * the global batch's (global_loss). */
		.sharded = 1,
	};
}
