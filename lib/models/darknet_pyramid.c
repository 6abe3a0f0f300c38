/* darknet_pyramid.c - a network at other input sizes, and the test-time
 * image pyramid over them (darknet_pyramid.h). */
#include "models/darknet_pyramid.h"
#include "core/base.h"
#include "vision/letterbox.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

static double seconds(void)
{
#ifdef _OPENMP
	return omp_get_wtime();
#else
	return 0;
#endif
}

/* Sets [net]'s key to v (the cfg's own entry, rewritten). */
static int set_net_key(nk_dncfg *c, const char *key, int v)
{
	nk_dncfg_section *s = &c->sec[0];
	char buf[32];
	snprintf(buf, sizeof buf, "%d", v);
	for (int i = 0; i < s->nkv; i++)
		if (strcmp(s->kv[i].key, key) == 0) {
			/* key and value share one block (darknet_cfg.c) */
			size_t kl = strlen(key) + 1, vl = strlen(buf) + 1;
			char *d = nk_malloc(kl + vl);
			if (!d)
				return NK_ENOMEM;
			memcpy(d, key, kl);
			memcpy(d + kl, buf, vl);
			free(s->kv[i].key);
			s->kv[i].key = d;
			s->kv[i].val = d + kl;
			return NK_OK;
		}
	return nk_error(NK_EINVAL, "%s: [net] has no %s=", c->name, key);
}

int nk_darknet_sized(nk_darknet *dst, const nk_darknet *src, int w, int h)
{
	memset(dst, 0, sizeof *dst);
	if (!src->params)
		return nk_error(NK_EINVAL, "resizing a network: its parameters "
				"were let go");
	nk_dncfg c;
	int rc = nk_dncfg_parse(&c, src->cfg.text, src->cfg.size,
				src->cfg.name);
	if (rc)
		return rc;
	if (c.nsec < 1 || (rc = set_net_key(&c, "width", w)) ||
	    (rc = set_net_key(&c, "height", h))) {
		nk_dncfg_free(&c);
		return rc ? rc : NK_EINVAL;
	}
	if ((rc = nk_darknet_build(dst, &c)))
		return rc;
	if (dst->nparams != src->nparams) {
		nk_darknet_free(dst);
		return nk_error(NK_EINVAL, "%s: at %dx%d the network has %zu "
				"parameters, not %zu: it only runs at its own "
				"size", src->cfg.name, w, h, dst->nparams,
				src->nparams);
	}
	memcpy(dst->params, src->params, src->nparams * sizeof *src->params);
	dst->hdr = src->hdr;
	return NK_OK;
}

int nk_dn_pyramid_init(nk_dn_pyramid *p, const nk_darknet *base,
		       float factor, int min_side)
{
	memset(p, 0, sizeof *p);
	if (!(factor > 0 && factor < 1) || min_side < 1)
		return nk_error(NK_EINVAL, "image pyramid: factor %g (0..1), "
				"smallest side %d", factor, min_side);
	p->base = base;
	p->factor = factor;
	p->min_side = min_side;
	return NK_OK;
}

void nk_dn_pyramid_free(nk_dn_pyramid *p)
{
	for (int i = 0; i < p->nlv; i++) {
		nk_darknet_free(&p->lv[i].net);
		nk_free_aligned(p->lv[i].in);
	}
	free(p->lv);
	memset(p, 0, sizeof *p);
}

/* The network for a w x h input, built on first use. */
static int level(nk_dn_pyramid *p, int w, int h, nk_dn_level **out)
{
	for (int i = 0; i < p->nlv; i++)
		if (p->lv[i].w == w && p->lv[i].h == h) {
			*out = &p->lv[i];
			return NK_OK;
		}
	nk_dn_level *lv = nk_reallocarray(p->lv, (size_t)p->nlv + 1,
					  sizeof *lv);
	if (!lv)
		return NK_ENOMEM;
	p->lv = lv;
	nk_dn_level *l = &lv[p->nlv];
	memset(l, 0, sizeof *l);
	int rc = nk_darknet_sized(&l->net, p->base, w, h);
	if (rc)
		return rc;
	if (!(l->in = nk_malloc_aligned((size_t)3 * w * h * sizeof(float)))) {
		nk_darknet_free(&l->net);
		return NK_ENOMEM;
	}
	l->w = w, l->h = h;
	p->nlv++;
	*out = l;
	return NK_OK;
}

int nk_dn_pyramid_detect(nk_dn_pyramid *p, const nk_image *im, float thresh,
			 nk_detection **dets, int *n)
{
	enum { MAXLV = NK_DN_PYRAMID_MAX_LEVELS };
	nk_detection *got[MAXLV];
	int cnt[MAXLV], nl = 0, total = 0, rc = NK_OK;
	*dets = NULL;
	*n = 0;
	int longer = im->w > im->h ? im->w : im->h, pw = 0, ph = 0;
	for (double s = 1; nl < MAXLV && (nl == 0 || longer * s >= p->min_side);
	     s *= p->factor) {
		int w = ((int)ceil(im->w * s) + 31) / 32 * 32;
		int h = ((int)ceil(im->h * s) + 31) / 32 * 32;
		if (w == pw && h == ph)
			continue; /* rounded to the size just run */
		pw = w, ph = h;
		nk_dn_level *l;
		if ((rc = level(p, w, h, &l)) ||
		    (rc = nk_letterbox_input(l->in, im, w, h)))
			break;
		double t0 = seconds();
		if ((rc = nk_darknet_forward(&l->net, l->in, 1)))
			break;
		p->forward_s += seconds() - t0;
		if ((rc = nk_darknet_boxes(&l->net, 0, im->w, im->h, thresh,
					   .5f, 0, &got[nl], &cnt[nl])))
			break;
		total += cnt[nl++];
	}
	p->levels = nl;
	int C = nk_darknet_classes(p->base);
	nk_detection *d = NULL;
	size_t bytes = (size_t)total * (sizeof *d + (size_t)C * sizeof(float));
	if (!rc && total && !(d = nk_calloc(1, bytes)))
		rc = NK_ENOMEM;
	if (!rc && total) {
		/* One block, as nk_darknet_boxes makes it: the detections,
		 * then their probabilities. */
		float *prob = (float *)(d + total);
		int at = 0;
		for (int k = 0; k < nl; k++)
			for (int i = 0; i < cnt[k]; i++, at++) {
				d[at] = got[k][i];
				d[at].prob = prob + (size_t)at * C;
				d[at].classes = C;
				memcpy(d[at].prob, got[k][i].prob,
				       (size_t)got[k][i].classes * sizeof(float));
			}
		*dets = d;
		*n = total;
	}
	for (int k = 0; k < nl; k++)
		nk_darknet_free_boxes(got[k], cnt[k]);
	return rc;
}
