/* wfile.c - the weight-file container: see wfile.h and nnkit-wfile(5).
 *
 * Layout (all integers little-endian; every byte is described in the man
 * page):
 *
 *	0   fixed header, 48 bytes (nk_wf_magic, version, flags, sizes, counts, CRC)
 *	48  metadata entries, then tensor entries, then zero padding up to
 *	    header_size (a multiple of 64)
 *	H   data: data_size bytes as stored (zlib stream when compressed);
 *	    raw, each tensor at a 64-aligned offset, zero padding between
 *	H+D u32 CRC32 of bytes 0 .. H+D-1
 *
 * This file holds the container in memory: building it, looking things
 * up, freeing it.  wfile_write.c writes it, wfile_read.c reads and checks
 * it.
 *
 * The reader trusts nothing: the fixed header has its own CRC so that its
 * sizes can be believed; every size is checked against the bytes present
 * and against caps before anything is allocated; the layout must be the
 * one the writer makes (so a file has exactly one valid form).
 */
#include "formats/wfile.h"
#include "formats/wfile_impl.h"
#include "core/base.h"
#include "core/hash.h"
#include "core/io.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

const char nk_wf_magic[4] = {'N', 'K', 'W', 'F'}; /* NK_WFILE_MAGIC */

/* The file's dtype codes are enum nk_dtype's values, frozen: renumbering
 * the enum would make old files read as the wrong type. */
_Static_assert(NK_F32 == 0 && NK_I32 == 1 && NK_U8 == 2 && NK_F64 == 3 &&
		       NK_I64 == 4 && NK_I16 == 5,
	       "dtype codes are part of the file format");
_Static_assert(NK_WFILE_MAX_DIMS == NK_MAX_DIMS, "one dimension limit");
/* Names and sizes come from tensor.c's table, guarded there by a
 * _Static_assert on NK_DTYPE_COUNT: one table for memory and file. */

static const char *const meta_type_names[] = {
	[NK_WMETA_INT] = "int",   [NK_WMETA_FLOAT] = "float",
	[NK_WMETA_STR] = "str",   [NK_WMETA_INTS] = "ints",
	[NK_WMETA_FLOATS] = "floats",
};
_Static_assert(sizeof meta_type_names / sizeof meta_type_names[0] ==
		       NK_WMETA_TYPE_COUNT,
	       "every metadata type needs a name");

const char *nk_wfile_dtype_name(int dtype)
{
	return nk_dtype_name(dtype);
}

const char *nk_wfile_meta_type_name(int type)
{
	return type >= 0 && type < NK_WMETA_TYPE_COUNT ? meta_type_names[type]
						       : NULL;
}

static const char *wname(const nk_wfile *w)
{
	return w->name ? w->name : "(unsaved weights)";
}

/* ---- name index --------------------------------------------------------- */

/* Entries are nk_wmeta or nk_wtensor, whose first member is the name. */
static const char *name_at(const void *base, size_t stride, size_t i)
{
	return *(const char *const *)((const char *)base + i * stride);
}

/* Position of `name`, or SIZE_MAX. */
size_t nk_wf_index_find(const nk_idtab *ix, const void *base, size_t stride,
			const char *name)
{
	nk_idprobe p = nk_idtab_probe(ix, nk_fnv1a_str(name));
	for (uint32_t i; (i = nk_idtab_next(ix, &p)) != NK_IDTAB_END;)
		if (strcmp(name_at(base, stride, i), name) == 0)
			return i;
	return SIZE_MAX;
}

int nk_wf_index_put(nk_idtab *ix, const void *base, size_t stride, size_t i)
{
	return nk_idtab_put(ix, nk_fnv1a_str(name_at(base, stride, i)),
			    (uint32_t)i);
}

/* ---- building ------------------------------------------------------------ */

nk_wfile *nk_wfile_create(void)
{
	return nk_calloc(1, sizeof(nk_wfile));
}

static void meta_clear_value(nk_wmeta *m)
{
	if (m->type == NK_WMETA_STR)
		free((void *)m->v.s);
	else if (m->type == NK_WMETA_INTS)
		free((void *)m->v.ints);
	else if (m->type == NK_WMETA_FLOATS)
		free((void *)m->v.floats);
	m->v.s = NULL;
}

/* The first control byte (below 0x20, or 0x7f) in a name, or -1: names
 * stay on one line in listings and cannot smuggle terminal escapes into
 * messages. */
int nk_wf_control_byte(const unsigned char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] == 0x7f)
			return s[i];
	return -1;
}

/* Checks a key or tensor name: 1..255 bytes, no control characters. */
static int check_name(const char *what, const char *name)
{
	if (!name || !name[0])
		return nk_error(NK_EINVAL, "%s name is empty", what);
	size_t n = strlen(name);
	if (n > NK_WFILE_NAME_MAX)
		return nk_error(NK_EINVAL, "%s name '%.40s...' is %zu bytes "
				"(at most %d)", what, name, n,
				NK_WFILE_NAME_MAX);
	int c = nk_wf_control_byte((const unsigned char *)name, n);
	if (c >= 0)
		return nk_error(NK_EINVAL, "%s name holds control byte 0x%02x",
				what, c);
	return NK_OK;
}

/* The entry for `key`, created empty (type -1) when absent. */
static nk_wmeta *meta_slot(nk_wfile *w, const char *key)
{
	if (check_name("metadata key", key))
		return NULL;
	size_t i = nk_wf_index_find(&w->meta_ix, w->meta, sizeof *w->meta, key);
	if (i != SIZE_MAX) {
		meta_clear_value(&w->meta[i]);
		return &w->meta[i];
	}
	if (w->n_meta >= MAX_META) {
		nk_error(NK_ERANGE, "more than %zu metadata keys", MAX_META);
		return NULL;
	}
	if (nk_grow((void **)&w->meta, &w->cap_meta, w->n_meta + 1,
		    sizeof *w->meta))
		return NULL;
	char *k = nk_strdup(key);
	if (!k)
		return NULL;
	nk_wmeta *m = &w->meta[w->n_meta];
	memset(m, 0, sizeof *m);
	m->key = k;
	m->type = -1;
	if (nk_wf_index_put(&w->meta_ix, w->meta, sizeof *w->meta, w->n_meta)) {
		free(k);
		return NULL;
	}
	w->n_meta++;
	return m;
}

int nk_wfile_set_str(nk_wfile *w, const char *key, const char *s)
{
	if (!s)
		return nk_error(NK_EINVAL, "metadata '%s': NULL string",
				key ? key : "");
	size_t n = strlen(s);
	if (n > HEADER_MAX)
		return nk_error(NK_ERANGE, "metadata '%s': string of %zu bytes "
				"is too long", key ? key : "", n);
	char *copy = nk_strdup(s);
	if (!copy)
		return NK_ENOMEM;
	nk_wmeta *m = meta_slot(w, key);
	if (!m) {
		free(copy);
		return NK_EINVAL;
	}
	m->type = NK_WMETA_STR;
	m->count = n;
	m->v.s = copy;
	return NK_OK;
}

int nk_wfile_set_int(nk_wfile *w, const char *key, int64_t v)
{
	nk_wmeta *m = meta_slot(w, key);
	if (!m)
		return NK_EINVAL;
	m->type = NK_WMETA_INT;
	m->count = 1;
	m->v.i = v;
	return NK_OK;
}

int nk_wfile_set_float(nk_wfile *w, const char *key, double v)
{
	nk_wmeta *m = meta_slot(w, key);
	if (!m)
		return NK_EINVAL;
	m->type = NK_WMETA_FLOAT;
	m->count = 1;
	m->v.f = v;
	return NK_OK;
}

static int set_array(nk_wfile *w, const char *key, int type, const void *v,
		     size_t n)
{
	if (n > HEADER_MAX / 8)
		return nk_error(NK_ERANGE, "metadata '%s': array of %zu "
				"values is too long", key ? key : "", n);
	if (n && !v)
		return nk_error(NK_EINVAL, "metadata '%s': NULL array",
				key ? key : "");
	void *copy = nk_malloc(n * 8);
	if (!copy)
		return NK_ENOMEM;
	if (n)
		memcpy(copy, v, n * 8);
	nk_wmeta *m = meta_slot(w, key);
	if (!m) {
		free(copy);
		return NK_EINVAL;
	}
	m->type = type;
	m->count = n;
	if (type == NK_WMETA_INTS)
		m->v.ints = copy;
	else
		m->v.floats = copy;
	return NK_OK;
}

int nk_wfile_set_ints(nk_wfile *w, const char *key, const int64_t *v,
		      size_t n)
{
	return set_array(w, key, NK_WMETA_INTS, v, n);
}

int nk_wfile_set_floats(nk_wfile *w, const char *key, const double *v,
			size_t n)
{
	return set_array(w, key, NK_WMETA_FLOATS, v, n);
}

/* Elements and bytes of a shape, or NK_ERANGE (no message: the callers
 * say whose shape).  numpy's rule, so that nkw.py can make every array
 * this accepts: the product of the non-zero dimensions times the element
 * size is below 2^63; a zero dimension makes the tensor empty. */
int nk_wf_shape_bytes(int dtype, int ndim, const uint64_t *ne, size_t *nelem,
		      size_t *nbytes)
{
	uint64_t b = nk_dtype_size(dtype);
	int empty = 0;
	for (int d = 0; d < ndim; d++) {
		if (ne[d] == 0)
			empty = 1;
		else if (__builtin_mul_overflow(b, ne[d], &b))
			return NK_ERANGE;
	}
	if (b > (uint64_t)INT64_MAX || b > SIZE_MAX)
		return NK_ERANGE;
	*nelem = empty ? 0 : (size_t)(b / nk_dtype_size(dtype));
	*nbytes = empty ? 0 : (size_t)b;
	return NK_OK;
}

int nk_wfile_add(nk_wfile *w, const char *name, int dtype, int ndim,
		 const int64_t *shape, const void *data)
{
	if (check_name("tensor", name))
		return NK_EINVAL;
	if (!nk_wfile_dtype_name(dtype))
		return nk_error(NK_EINVAL, "tensor '%s': unknown dtype %d",
				name, dtype);
	if (ndim < 0 || ndim > NK_WFILE_MAX_DIMS)
		return nk_error(NK_EINVAL, "tensor '%s': %d dimensions "
				"(at most %d)", name, ndim, NK_WFILE_MAX_DIMS);
	if (ndim && !shape)
		return nk_error(NK_EINVAL, "tensor '%s': NULL shape", name);
	uint64_t ne[NK_WFILE_MAX_DIMS];
	for (int d = 0; d < ndim; d++) {
		if (shape[d] < 0)
			return nk_error(NK_EINVAL, "tensor '%s': dimension %d "
					"is %lld", name, d,
					(long long)shape[d]);
		ne[d] = (uint64_t)shape[d];
	}
	size_t nelem, nbytes;
	if (nk_wf_shape_bytes(dtype, ndim, ne, &nelem, &nbytes))
		return nk_error(NK_ERANGE, "tensor '%s': shape too large "
				"(2^63 bytes or more)", name);
	if (nbytes && !data)
		return nk_error(NK_EINVAL, "tensor '%s': NULL data for %zu "
				"bytes", name, nbytes);
	if (nk_wf_index_find(&w->tensor_ix, w->tensors, sizeof *w->tensors, name) !=
	    SIZE_MAX)
		return nk_error(NK_EINVAL, "tensor '%s' added twice", name);
	if (w->n_tensors >= MAX_TENSORS)
		return nk_error(NK_ERANGE, "more than %zu tensors", MAX_TENSORS);
	if (nk_grow((void **)&w->tensors, &w->cap_tensors, w->n_tensors + 1,
		    sizeof *w->tensors))
		return NK_ENOMEM;
	char *copy = nk_strdup(name);
	if (!copy)
		return NK_ENOMEM;
	nk_wtensor *t = &w->tensors[w->n_tensors];
	memset(t, 0, sizeof *t);
	t->name = copy;
	t->dtype = dtype;
	t->ndim = ndim;
	for (int d = 0; d < ndim; d++)
		t->ne[d] = shape[d];
	t->nelem = nelem;
	t->nbytes = nbytes;
	t->data = data;
	int rc = nk_wf_index_put(&w->tensor_ix, w->tensors, sizeof *w->tensors,
			   w->n_tensors);
	if (rc) {
		free(copy);
		return rc;
	}
	w->n_tensors++;
	return NK_OK;
}

const char *nk_wfile_name(const nk_wfile *w)
{
	return wname(w);
}

/* ---- lookups ---------------------------------------------------------------- */

const nk_wmeta *nk_wfile_meta(const nk_wfile *w, const char *key)
{
	size_t i = nk_wf_index_find(&w->meta_ix, w->meta, sizeof *w->meta, key);
	return i == SIZE_MAX ? NULL : &w->meta[i];
}

static const nk_wmeta *get_typed(const nk_wfile *w, const char *key,
				 int type, int *rc)
{
	const nk_wmeta *m = nk_wfile_meta(w, key);
	if (!m) {
		*rc = nk_error(NK_ENOTFOUND, "%s: no metadata '%s'", wname(w),
			       key);
		return NULL;
	}
	if (m->type != type &&
	    !(type == NK_WMETA_FLOAT && m->type == NK_WMETA_INT)) {
		*rc = nk_error(NK_EFORMAT, "%s: metadata '%s' is %s, expected "
			       "%s", wname(w), key, meta_type_names[m->type],
			       meta_type_names[type]);
		return NULL;
	}
	*rc = NK_OK;
	return m;
}

int nk_wfile_get_str(const nk_wfile *w, const char *key, const char **s)
{
	int rc;
	const nk_wmeta *m = get_typed(w, key, NK_WMETA_STR, &rc);
	if (m)
		*s = m->v.s;
	return rc;
}

int nk_wfile_get_int(const nk_wfile *w, const char *key, int64_t *v)
{
	int rc;
	const nk_wmeta *m = get_typed(w, key, NK_WMETA_INT, &rc);
	if (m)
		*v = m->v.i;
	return rc;
}

int nk_wfile_check_schema(const nk_wfile *w, const char *what,
			  int64_t oldest, int64_t newest, int64_t *version)
{
	int64_t v = 1;
	if (nk_wfile_meta(w, NK_WFILE_SCHEMA_KEY) &&
	    nk_wfile_get_int(w, NK_WFILE_SCHEMA_KEY, &v))
		return NK_EFORMAT;
	if (version)
		*version = v;
	if (v > newest)
		return nk_error(NK_EVERSION, "%s: %s schema %lld is newer than "
				"this nnkit reads (%lld); upgrade nnkit",
				wname(w), what, (long long)v, (long long)newest);
	if (v < oldest)
		return nk_error(NK_EVERSION, "%s: %s schema %lld is older than "
				"this nnkit reads (%lld); make the file again "
				"from its source", wname(w), what, (long long)v,
				(long long)oldest);
	return NK_OK;
}

int nk_wfile_get_float(const nk_wfile *w, const char *key, double *v)
{
	int rc;
	const nk_wmeta *m = get_typed(w, key, NK_WMETA_FLOAT, &rc);
	if (m)
		*v = m->type == NK_WMETA_INT ? (double)m->v.i : m->v.f;
	return rc;
}

int nk_wfile_get_ints(const nk_wfile *w, const char *key, const int64_t **v,
		      size_t *n)
{
	int rc;
	const nk_wmeta *m = get_typed(w, key, NK_WMETA_INTS, &rc);
	if (m) {
		*v = m->v.ints;
		*n = m->count;
	}
	return rc;
}

int nk_wfile_get_floats(const nk_wfile *w, const char *key, const double **v,
			size_t *n)
{
	int rc;
	const nk_wmeta *m = get_typed(w, key, NK_WMETA_FLOATS, &rc);
	if (m) {
		*v = m->v.floats;
		*n = m->count;
	}
	return rc;
}

const nk_wtensor *nk_wfile_tensor(const nk_wfile *w, const char *name)
{
	size_t i = nk_wf_index_find(&w->tensor_ix, w->tensors, sizeof *w->tensors,
			      name);
	if (i == SIZE_MAX) {
		nk_error(NK_ENOTFOUND, "%s: no tensor '%s'", wname(w), name);
		return NULL;
	}
	return &w->tensors[i];
}

/* "(256,128)"; -1 prints as "*". */
static void format_shape(char *buf, size_t cap, int ndim, const int64_t *ne)
{
	size_t n = (size_t)snprintf(buf, cap, "(");
	for (int d = 0; d < ndim && n < cap; d++) {
		if (ne[d] < 0)
			n += (size_t)snprintf(buf + n, cap - n, "%s*",
					      d ? "," : "");
		else
			n += (size_t)snprintf(buf + n, cap - n, "%s%lld",
					      d ? "," : "", (long long)ne[d]);
	}
	if (n < cap)
		snprintf(buf + n, cap - n, ")");
}

const nk_wtensor *nk_wfile_expect(const nk_wfile *w, const char *name,
				  int dtype, int ndim, const int64_t *shape)
{
	const nk_wtensor *t = nk_wfile_tensor(w, name);
	if (!t)
		return NULL;
	if (t->dtype != dtype) {
		const char *want = nk_wfile_dtype_name(dtype);
		nk_error(NK_EFORMAT, "%s: tensor '%s' is %s, expected %s",
			 wname(w), name, nk_dtype_name(t->dtype),
			 want ? want : "an unknown dtype");
		return NULL;
	}
	int ok = t->ndim == ndim;
	for (int d = 0; ok && d < ndim; d++)
		ok = shape[d] < 0 || shape[d] == t->ne[d];
	if (!ok) {
		char have[8 * 24], want[8 * 24];
		format_shape(have, sizeof have, t->ndim, t->ne);
		format_shape(want, sizeof want,
			     ndim < 0 ? 0
				      : ndim > NK_WFILE_MAX_DIMS ? NK_WFILE_MAX_DIMS
								 : ndim,
			     shape);
		nk_error(NK_EFORMAT, "%s: tensor '%s' has shape %s, expected %s",
			 wname(w), name, have, want);
		return NULL;
	}
	return t;
}

size_t nk_wfile_n_meta(const nk_wfile *w)
{
	return w->n_meta;
}

const nk_wmeta *nk_wfile_meta_at(const nk_wfile *w, size_t i)
{
	return i < w->n_meta ? &w->meta[i] : NULL;
}

size_t nk_wfile_n_tensors(const nk_wfile *w)
{
	return w->n_tensors;
}

const nk_wtensor *nk_wfile_tensor_at(const nk_wfile *w, size_t i)
{
	return i < w->n_tensors ? &w->tensors[i] : NULL;
}

void nk_wfile_free(nk_wfile *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n_meta; i++) {
		meta_clear_value(&w->meta[i]);
		free((void *)w->meta[i].key);
	}
	for (size_t i = 0; i < w->n_tensors; i++)
		free((void *)w->tensors[i].name);
	free(w->meta);
	free(w->tensors);
	nk_idtab_free(&w->meta_ix);
	nk_idtab_free(&w->tensor_ix);
	nk_input_free(&w->in);
	nk_free_aligned(w->owned);
	free(w->name);
	free(w);
}

int nk_wtensor_view(const nk_wtensor *w, nk_tensor *t)
{
	_Static_assert(NK_WFILE_MAX_DIMS <= NK_MAX_DIMS,
		       "a stored tensor fits the compute view");
	return nk_tensor_wrap(t, (void *)w->data, w->dtype, w->ndim, w->ne);
}
