/* coco.c - COCO ground truth and results; see coco.h. */
#include "formats/coco.h"
#include "formats/json.h"
#include "core/base.h"
#include "core/io.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- ids ------------------------------------------------------------------ */

/* An integer id, as a number or (image_id in results) a string. */
static int json_id(nk_json *j, int64_t *v)
{
	double d;
	if (nk_json_number(j, &d))
		return NK_EFORMAT;
	if (!(d >= -9e15 && d <= 9e15) || d != (double)(int64_t)d)
		return nk_json_fail(j, "expected an integer id");
	*v = (int64_t)d;
	return 0;
}


static int key_is(const char *key, size_t klen, const char *want)
{
	return strlen(want) == klen && memcmp(key, want, klen) == 0;
}

struct bbox_ctx {
	double v[4];
	int n;
};

static int bbox_elem(void *ctx, nk_json *j)
{
	struct bbox_ctx *b = ctx;
	if (b->n == 4)
		return nk_json_fail(j, "bbox has more than 4 numbers");
	return nk_json_number(j, &b->v[b->n++]);
}

static int json_bbox(nk_json *j, double *v)
{
	struct bbox_ctx b = { .n = 0 };
	if (nk_json_array(j, bbox_elem, &b))
		return NK_EFORMAT;
	if (b.n != 4)
		return nk_json_fail(j, "bbox needs 4 numbers");
	memcpy(v, b.v, sizeof b.v);
	if (!(v[2] >= 0 && v[3] >= 0))
		return nk_json_fail(j, "bbox with a negative size");
	return 0;
}

/* ---- one record: every field any of the arrays has --------------------- */

struct rec {
	int64_t id, image_id, category_id;
	char *str_image_id;             /* results: a string image_id */
	char *file_name, *name;
	double bbox[4], area, score, width, height;
	int iscrowd;
	unsigned have;                  /* bits of what was present */
	const char *where;              /* the record's start, for messages */
};
enum { H_ID = 1, H_IMG = 2, H_CAT = 4, H_BBOX = 8, H_AREA = 16,
       H_SCORE = 32, H_FILE = 64, H_NAME = 128 };

static int rec_member(void *ctx, nk_json *j, const char *key, size_t klen)
{
	struct rec *r = ctx;
	size_t n;
	nk_json_ws(j);
	if (key_is(key, klen, "id")) {
		r->have |= H_ID;
		return json_id(j, &r->id);
	}
	if (key_is(key, klen, "image_id")) {
		r->have |= H_IMG;
		if (j->p < j->end && *j->p == '"') {
			free(r->str_image_id);
			r->str_image_id = NULL;
			return nk_json_string(j, &r->str_image_id, &n);
		}
		return json_id(j, &r->image_id);
	}
	if (key_is(key, klen, "category_id")) {
		r->have |= H_CAT;
		return json_id(j, &r->category_id);
	}
	if (key_is(key, klen, "bbox")) {
		r->have |= H_BBOX;
		return json_bbox(j, r->bbox);
	}
	if (key_is(key, klen, "area") && j->p < j->end && *j->p != 'n') {
		r->have |= H_AREA;
		return nk_json_number(j, &r->area);
	}
	if (key_is(key, klen, "score")) {
		r->have |= H_SCORE;
		return nk_json_number(j, &r->score);
	}
	if (key_is(key, klen, "iscrowd") && j->p < j->end && *j->p != 'n') {
		double d;
		if (nk_json_number(j, &d))
			return NK_EFORMAT;
		r->iscrowd = d != 0;
		return 0;
	}
	if (key_is(key, klen, "width") && j->p < j->end && *j->p != 'n')
		return nk_json_number(j, &r->width);
	if (key_is(key, klen, "height") && j->p < j->end && *j->p != 'n')
		return nk_json_number(j, &r->height);
	if (key_is(key, klen, "file_name")) {
		r->have |= H_FILE;
		free(r->file_name);
		r->file_name = NULL;
		return nk_json_string(j, &r->file_name, &n);
	}
	if (key_is(key, klen, "name")) {
		r->have |= H_NAME;
		free(r->name);
		r->name = NULL;
		return nk_json_string(j, &r->name, &n);
	}
	return nk_json_skip(j, 2);
}

static void rec_free(struct rec *r)
{
	free(r->str_image_id);
	free(r->file_name);
	free(r->name);
}

struct recs {
	struct rec *r;
	size_t n, cap;
};

static int recs_elem(void *ctx, nk_json *j)
{
	struct recs *rs = ctx;
	if (nk_grow((void **)&rs->r, &rs->cap, rs->n + 1, sizeof *rs->r))
		return NK_ENOMEM;
	struct rec *r = &rs->r[rs->n++];
	memset(r, 0, sizeof *r);
	nk_json_ws(j);
	r->where = (const char *)j->p;
	return nk_json_object(j, rec_member, r);
}

static void recs_free(struct recs *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		rec_free(&rs->r[i]);
	free(rs->r);
}

/* Reports at a record's position. */
static int rec_fail(nk_json *j, const struct rec *r, const char *what)
{
	j->p = (const unsigned char *)r->where;
	return nk_json_fail(j, what);
}

/* ---- ids to indices ----------------------------------------------------- */

struct idx {
	int64_t id;
	int index;
};

static int idx_cmp(const void *a, const void *b)
{
	const struct idx *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int idx_find(const struct idx *t, int n, int64_t id)
{
	struct idx k = { id, 0 };
	const struct idx *h = bsearch(&k, t, (size_t)n, sizeof *t, idx_cmp);
	return h ? h->index : -1;
}

static struct idx *image_index(const nk_detset *s)
{
	struct idx *t = nk_reallocarray(NULL, (size_t)s->nimages + 1, sizeof *t);
	if (!t)
		return NULL;
	for (int i = 0; i < s->nimages; i++)
		t[i] = (struct idx){ s->images[i].id, i };
	qsort(t, (size_t)s->nimages, sizeof *t, idx_cmp);
	return t;
}

static struct idx *class_index(const nk_detset *s)
{
	struct idx *t = nk_reallocarray(NULL, (size_t)s->nclasses + 1, sizeof *t);
	if (!t)
		return NULL;
	for (int i = 0; i < s->nclasses; i++)
		t[i] = (struct idx){ nk_detset_class_id(s, i), i };
	qsort(t, (size_t)s->nclasses, sizeof *t, idx_cmp);
	return t;
}

/* ---- ground truth ------------------------------------------------------ */

struct gt_ctx {
	struct recs images, anns, cats;
};

static int gt_member(void *ctx, nk_json *j, const char *key, size_t klen)
{
	struct gt_ctx *g = ctx;
	if (key_is(key, klen, "images"))
		return nk_json_array(j, recs_elem, &g->images);
	if (key_is(key, klen, "annotations"))
		return nk_json_array(j, recs_elem, &g->anns);
	if (key_is(key, klen, "categories"))
		return nk_json_array(j, recs_elem, &g->cats);
	return nk_json_skip(j, 1);
}

static int cat_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int build_gt(nk_detset *s, struct gt_ctx *g, nk_json *j)
{
	int rc;
	for (size_t i = 0; i < g->images.n; i++) {
		struct rec *r = &g->images.r[i];
		if (!(r->have & H_ID))
			return rec_fail(j, r, "image without an id");
		const char *fn = r->have & H_FILE ? r->file_name : "";
		if (!(r->width >= 0 && r->width <= 1e6 && r->height >= 0 &&
		      r->height <= 1e6))
			return rec_fail(j, r, "image size out of range");
		if ((rc = nk_detset_add_image(s, fn, fn, r->id, (int)r->width,
					      (int)r->height, NULL)))
			return rc;
	}
	/* categories by id: COCOeval sorts catIds */
	if (g->cats.n)
		qsort(g->cats.r, g->cats.n, sizeof *g->cats.r, cat_cmp);
	if (g->cats.n > (size_t)INT32_MAX / 2)
		return nk_error(NK_ERANGE, "too many categories");
	s->names = nk_calloc(g->cats.n + 1, sizeof *s->names);
	s->class_ids = nk_calloc(g->cats.n + 1, sizeof *s->class_ids);
	if (!s->names || !s->class_ids)
		return NK_ENOMEM;
	for (size_t i = 0; i < g->cats.n; i++) {
		struct rec *r = &g->cats.r[i];
		if (!(r->have & H_ID))
			return rec_fail(j, r, "category without an id");
		if (i && g->cats.r[i - 1].id == r->id)
			return rec_fail(j, r, "two categories with one id");
		char buf[32];
		snprintf(buf, sizeof buf, "%lld", (long long)r->id);
		if (!(s->names[i] = nk_strdup(r->have & H_NAME ? r->name : buf)))
			return NK_ENOMEM;
		s->class_ids[i] = r->id;
		s->nclasses = (int)i + 1;
	}
	struct idx *it = image_index(s), *ct = class_index(s);
	rc = NK_ENOMEM;
	if (!it || !ct)
		goto out;
	for (int i = 1; i < s->nimages; i++)
		if (it[i].id == it[i - 1].id) {
			rc = rec_fail(j, &g->images.r[it[i].index],
				      "two images with one id");
			goto out;
		}
	for (size_t i = 0; i < g->anns.n; i++) {
		struct rec *r = &g->anns.r[i];
		if ((r->have & (H_IMG | H_CAT | H_BBOX)) != (H_IMG | H_CAT | H_BBOX) ||
		    r->str_image_id) {
			rc = rec_fail(j, r, "annotation needs image_id, "
				      "category_id and bbox");
			goto out;
		}
		int im = idx_find(it, s->nimages, r->image_id);
		int c = idx_find(ct, s->nclasses, r->category_id);
		if (im < 0 || c < 0) {
			rc = rec_fail(j, r, im < 0 ? "annotation of an unknown "
				      "image_id" : "annotation of an unknown "
				      "category_id");
			goto out;
		}
		nk_det_object o = {
			.image = im, .cls = c, .x = (float)r->bbox[0],
			.y = (float)r->bbox[1], .w = (float)r->bbox[2],
			.h = (float)r->bbox[3], .score = 1,
			.area = (float)(r->have & H_AREA ? r->area :
					r->bbox[2] * r->bbox[3]),
			.id = r->have & H_ID ? r->id : (int64_t)i + 1,
			.crowd = (unsigned char)r->iscrowd,
		};
		if ((rc = nk_detset_add_object(s, &o)))
			goto out;
	}
	rc = nk_detset_sort(s);
out:
	free(it);
	free(ct);
	return rc;
}

int nk_coco_parse(nk_detset *s, const char *data, size_t size,
		  const char *file)
{
	memset(s, 0, sizeof *s);
	nk_json j = { (const unsigned char *)data,
		      (const unsigned char *)data + size,
		      (const unsigned char *)data, file };
	struct gt_ctx g = { 0 };
	int rc = nk_json_object(&j, gt_member, &g);
	if (!rc) {
		nk_json_ws(&j);
		if (j.p != j.end)
			rc = nk_json_fail(&j, "bytes after the JSON value");
	}
	if (!rc)
		rc = build_gt(s, &g, &j);
	recs_free(&g.images);
	recs_free(&g.anns);
	recs_free(&g.cats);
	if (rc)
		nk_detset_free(s);
	return rc;
}

/* ---- results ----------------------------------------------------------- */

int nk_coco_results_parse(nk_detset *pred, const nk_detset *gt,
			  const char *data, size_t size, const char *file)
{
	memset(pred, 0, sizeof *pred);
	nk_json j = { (const unsigned char *)data,
		      (const unsigned char *)data + size,
		      (const unsigned char *)data, file };
	struct recs rs = { 0 };
	struct idx *it = image_index(gt), *ct = class_index(gt);
	int rc = NK_ENOMEM;
	if (!it || !ct)
		goto out;
	if ((rc = nk_json_array(&j, recs_elem, &rs)))
		goto out;
	nk_json_ws(&j);
	if (j.p != j.end) {
		rc = nk_json_fail(&j, "bytes after the JSON value");
		goto out;
	}
	for (size_t i = 0; i < rs.n; i++) {
		struct rec *r = &rs.r[i];
		if ((r->have & (H_IMG | H_CAT | H_BBOX | H_SCORE)) !=
		    (H_IMG | H_CAT | H_BBOX | H_SCORE)) {
			rc = rec_fail(&j, r, "a result needs image_id, "
				      "category_id, bbox and score");
			goto out;
		}
		int im = r->str_image_id ?
			 nk_detset_find_image(gt, r->str_image_id) :
			 idx_find(it, gt->nimages, r->image_id);
		int c = idx_find(ct, gt->nclasses, r->category_id);
		if (im < 0 || c < 0) {
			rc = rec_fail(&j, r, im < 0 ? "image_id not in the "
				      "ground truth" : "category_id not in the "
				      "ground truth");
			goto out;
		}
		nk_det_object o = {
			.image = im, .cls = c, .x = (float)r->bbox[0],
			.y = (float)r->bbox[1], .w = (float)r->bbox[2],
			.h = (float)r->bbox[3], .score = (float)r->score,
			.area = (float)(r->bbox[2] * r->bbox[3]),
			.id = (int64_t)i + 1,
		};
		if ((rc = nk_detset_add_object(pred, &o)))
			goto out;
	}
	rc = 0;
out:
	free(it);
	free(ct);
	recs_free(&rs);
	if (rc)
		nk_detset_free(pred);
	return rc;
}

static int load(const char *path, nk_input *in)
{
	return nk_input_load(in, path, (size_t)1 << 31);
}

int nk_coco_read(nk_detset *s, const char *path)
{
	nk_input in;
	memset(s, 0, sizeof *s);
	int rc = load(path, &in);
	if (rc)
		return rc;
	rc = nk_coco_parse(s, (const char *)in.data, in.size, in.name);
	nk_input_free(&in);
	return rc;
}

int nk_coco_results_read(nk_detset *pred, const nk_detset *gt,
			 const char *path)
{
	nk_input in;
	memset(pred, 0, sizeof *pred);
	int rc = load(path, &in);
	if (rc)
		return rc;
	rc = nk_coco_results_parse(pred, gt, (const char *)in.data, in.size,
				   in.name);
	nk_input_free(&in);
	return rc;
}
