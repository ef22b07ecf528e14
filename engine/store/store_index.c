/*
 * store_index.c - the store's memory: immutable object snapshots (struct
 * sobj) and the index of the latest committed state (kind -> namespace ->
 * name, owner uid -> dependents, folder change times) that serves every
 * read without SQLite.  Only the batch leader changes it, under idx_lock.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/clock.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/store/store_int.h"

/* Objects */

void sobj_unref_void(void *o)
{
	if (o != TOMB)
		sobj_unref(o);
}

int sobj_cmp(const void *a, const void *b)
{
	const struct sobj *x = *(struct sobj *const *)a, *y = *(struct sobj *const *)b;
	int c = strcmp(x->kind, y->kind);
	if (!c)
		c = strcmp(x->ns, y->ns);
	if (!c)
		c = strcmp(x->name, y->name);
	return c;
}

json_t *owner_refs(json_t *obj)
{
	json_t *refs = json_object_get(json_object_get(obj, "metadata"), "ownerReferences");
	return json_is_array(refs) ? refs : NULL;
}

const char *owner_uid(json_t *refs, size_t i)
{
	return json_string_value(json_object_get(json_array_get(refs, i), "uid"));
}

bool owned_by(const struct sobj *o, const char *uid)
{
	json_t *refs = owner_refs(o->obj);
	for (size_t i = 0; i < json_array_size(refs); i++) {
		const char *u = owner_uid(refs, i);
		if (u && strcmp(u, uid) == 0)
			return true;
	}
	return false;
}

/* "N:" for N, at the end of buf; returns where it starts. */
static char *len_colon(size_t v, char *end)
{
	*--end = ':';
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

/* An unambiguous map key for kind/ns/name ("LEN:KIND" "LEN:NS" NAME); the
 * caller frees it.  (Made without printf: several a put.) */
char *okey(const char *kind, const char *ns, const char *name)
{
	size_t lk = strlen(kind), ln = strlen(ns), lm = strlen(name);
	char bk[24], bn[24];
	char *pk = len_colon(lk, bk + sizeof(bk)), *pn = len_colon(ln, bn + sizeof(bn));
	size_t nk = (size_t)(bk + sizeof(bk) - pk), nn = (size_t)(bn + sizeof(bn) - pn);
	char *s = xmalloc(nk + lk + nn + ln + lm + 1), *p = s;
	memcpy(p, pk, nk);
	memcpy(p += nk, kind, lk);
	memcpy(p += lk, pn, nn);
	memcpy(p += nn, ns, ln);
	memcpy(p += ln, name, lm + 1);
	return s;
}

char *store_cat(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *s = xmalloc(la + lb + lc + 1);
	memcpy(s, a, la);
	memcpy(s + la, b, lb);
	memcpy(s + la + lb, c, lc + 1);
	return s;
}

int64_t store_now_ns(void)
{
	return wall_ns();
}

/* Index (callers hold idx_lock) */

/* The indexed object kind/ns/name (borrowed), or NULL. */
struct sobj *idx_peek(struct store *st, const char *kind, const char *ns, const char *name)
{
	struct kindidx *k = hmap_get(&st->kinds, kind);
	struct nsidx *n = k ? hmap_get(&k->nss, ns) : NULL;
	return n ? hmap_get(&n->names, name) : NULL;
}

static void ptr_key(const struct sobj *o, char out[24])
{
	snprintf(out, 24, "%p", (const void *)o);
}

/* Does an earlier one of refs' first i name uid? */
static bool uid_before(json_t *refs, size_t i, const char *uid)
{
	for (size_t j = 0; j < i; j++) {
		const char *u = owner_uid(refs, j);
		if (u && !strcmp(u, uid))
			return true;
	}
	return false;
}

static void deps_add(struct store *st, struct sobj *o)
{
	json_t *refs = owner_refs(o->obj);
	char k[24];
	ptr_key(o, k);
	for (size_t i = 0; i < json_array_size(refs); i++) {
		const char *uid = owner_uid(refs, i);
		if (!uid || uid_before(refs, i, uid))
			continue; /* the same owner listed twice */
		struct deplist *d = hmap_get(&st->owners, uid);
		if (!d) {
			d = xcalloc(1, sizeof(*d));
			hmap_set(&st->owners, uid, d);
		} else if (hmap_get(&d->at, k)) {
			continue; /* there already */
		}
		if (d->n == d->cap) {
			d->cap = d->cap ? d->cap * 2 : 4;
			d->v = xrealloc(d->v, d->cap * sizeof(*d->v));
		}
		d->v[d->n++] = o;
		hmap_set(&d->at, k, (void *)(uintptr_t)d->n);
	}
}

static void deps_del(struct store *st, struct sobj *o)
{
	json_t *refs = owner_refs(o->obj);
	char k[24];
	ptr_key(o, k);
	for (size_t i = 0; i < json_array_size(refs); i++) {
		const char *uid = owner_uid(refs, i);
		struct deplist *d = uid ? hmap_get(&st->owners, uid) : NULL;
		uintptr_t at = d ? (uintptr_t)hmap_del(&d->at, k) : 0;
		if (!at)
			continue;
		struct sobj *last = d->v[--d->n];
		if (at - 1 < d->n) { /* the last one fills the hole */
			char lk[24];
			ptr_key(last, lk);
			d->v[at - 1] = last;
			hmap_set(&d->at, lk, (void *)at);
		}
		if (!d->n) {
			hmap_del(&st->owners, uid);
			deplist_free(d);
		}
	}
}

static void touch_folder(struct store *st, const char *kind, const char *ns, int64_t t)
{
	char *key = store_cat(kind, "/", ns);
	int64_t *v = hmap_get(&st->mtimes, key);
	if (!v) {
		v = xcalloc(1, sizeof(*v));
		hmap_set(&st->mtimes, key, v);
	}
	if (t > *v)
		*v = t;
	free(key);
}

/* Makes o (its reference is taken) the indexed state of its key. */
void idx_put(struct store *st, struct sobj *o)
{
	touch_folder(st, o->kind, o->ns, o->mtime_ns);
	struct kindidx *k = hmap_get(&st->kinds, o->kind);
	if (!k) {
		k = xcalloc(1, sizeof(*k));
		hmap_set(&st->kinds, o->kind, k);
	}
	struct nsidx *n = hmap_get(&k->nss, o->ns);
	if (!n) {
		n = xcalloc(1, sizeof(*n));
		hmap_set(&k->nss, o->ns, n);
	}
	struct sobj *old = hmap_set(&n->names, o->name, o);
	if (old) {
		k->cls[obj_class(old->kind, old->obj)]--;
		deps_del(st, old);
		sobj_unref(old);
	} else {
		k->n++;
	}
	k->cls[obj_class(o->kind, o->obj)]++;
	deps_add(st, o);
}

void idx_del(struct store *st, const char *kind, const char *ns, const char *name)
{
	struct kindidx *k = hmap_get(&st->kinds, kind);
	struct nsidx *n = k ? hmap_get(&k->nss, ns) : NULL;
	struct sobj *old = n ? hmap_del(&n->names, name) : NULL;
	if (!old)
		return;
	touch_folder(st, kind, ns, store_now_ns());
	k->n--;
	k->cls[obj_class(old->kind, old->obj)]--;
	if (!hmap_len(&n->names)) {
		hmap_del(&k->nss, ns);
		hmap_clear(&n->names, NULL);
		free(n);
	}
	if (!k->n) {
		hmap_del(&st->kinds, kind);
		hmap_clear(&k->nss, NULL);
		free(k);
	}
	deps_del(st, old);
	sobj_unref(old);
}

static void nsidx_free(void *p)
{
	struct nsidx *n = p;
	hmap_clear(&n->names, sobj_unref_void);
	free(n);
}

void kindidx_free(void *p)
{
	struct kindidx *k = p;
	hmap_clear(&k->nss, nsidx_free);
	free(k);
}

void deplist_free(void *p)
{
	struct deplist *d = p;
	hmap_clear(&d->at, NULL);
	free(d->v);
	free(d);
}

/* Reads of committed state */

int64_t store_rev(struct store *st)
{
	return __atomic_load_n(&st->rev, __ATOMIC_ACQUIRE);
}

struct sobj *store_get(struct store *st, const char *kind, const char *ns, const char *name)
{
	pthread_rwlock_rdlock(&st->idx_lock);
	struct sobj *o = sobj_ref(idx_peek(st, kind, ns, name));
	pthread_rwlock_unlock(&st->idx_lock);
	return o;
}

static size_t add_names(struct nsidx *n, struct sobj **v, size_t i)
{
	struct hmap_iter it = {0};
	for (struct hmap_ent *ent; (ent = hmap_next(&n->names, &it));)
		v[i++] = sobj_ref(ent->val);
	return i;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp((*(struct sobj *const *)a)->name, (*(struct sobj *const *)b)->name);
}

/* The objects of one namespace in a listing. */
struct seg {
	size_t start, n;
	const char *ns;
};

static int cmp_seg(const void *a, const void *b)
{
	return strcmp(((const struct seg *)a)->ns, ((const struct seg *)b)->ns);
}

/*
 * References to kind's objects in ns (NULL: every namespace), sorted by
 * namespace then name; *out is new.  The lock is held only to take the
 * references; each namespace is then sorted by name alone, and the
 * namespaces among themselves, which costs less than one sort on both.
 */
size_t idx_list(struct store *st, const char *kind, const char *ns, struct sobj ***out)
{
	pthread_rwlock_rdlock(&st->idx_lock);
	struct kindidx *k = hmap_get(&st->kinds, kind);
	struct nsidx *n = k && ns ? hmap_get(&k->nss, ns) : NULL;
	size_t cap = !k ? 0 : ns ? (n ? hmap_len(&n->names) : 0) : k->n;
	struct sobj **v = xmalloc(cap * sizeof(*v));
	struct seg one, *segs = &one;
	size_t i = 0, nseg = 0;
	if (n) {
		one.start = 0;
		i = add_names(n, v, 0);
		nseg = 1;
	} else if (k && !ns) {
		segs = xmalloc(hmap_len(&k->nss) * sizeof(*segs));
		struct hmap_iter it = {0};
		for (struct hmap_ent *ent; (ent = hmap_next(&k->nss, &it));) {
			segs[nseg++].start = i;
			i = add_names(ent->val, v, i);
		}
	}
	pthread_rwlock_unlock(&st->idx_lock);
	for (size_t j = 0; j < nseg; j++) {
		segs[j].n = (j + 1 < nseg ? segs[j + 1].start : i) - segs[j].start;
		segs[j].ns = v[segs[j].start]->ns; /* namespaces in the index are never empty */
		qsort(v + segs[j].start, segs[j].n, sizeof(*v), cmp_name);
	}
	if (nseg > 1) {
		qsort(segs, nseg, sizeof(*segs), cmp_seg);
		struct sobj **w = xmalloc(i * sizeof(*w));
		for (size_t j = 0, at = 0; j < nseg; at += segs[j].n, j++)
			memcpy(w + at, v + segs[j].start, segs[j].n * sizeof(*w));
		free(v);
		v = w;
	}
	if (segs != &one)
		free(segs);
	*out = v;
	return i;
}

/* Unsorted references to the dependents of uid; *out is new. */
size_t idx_dependents(struct store *st, const char *uid, struct sobj ***out)
{
	pthread_rwlock_rdlock(&st->idx_lock);
	struct deplist *d = hmap_get(&st->owners, uid);
	size_t n = d ? d->n : 0;
	struct sobj **v = xmalloc(n * sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = sobj_ref(d->v[i]);
	pthread_rwlock_unlock(&st->idx_lock);
	*out = v;
	return n;
}

size_t store_list(struct store *st, const char *kind, const char *ns, struct sobj ***out)
{
	return idx_list(st, kind, ns, out);
}

size_t store_count(struct store *st, const char *kind, size_t cls[OBJ_CLASSES])
{
	pthread_rwlock_rdlock(&st->idx_lock);
	struct kindidx *k = hmap_get(&st->kinds, kind);
	size_t n = k ? k->n : 0;
	if (cls) {
		for (int i = 0; i < OBJ_CLASSES; i++)
			cls[i] = k ? k->cls[i] : 0;
	}
	pthread_rwlock_unlock(&st->idx_lock);
	return n;
}

int64_t store_mtime(struct store *st, const char *kind, const char *ns)
{
	char *key = xasprintf("%s/%s", kind, ns);
	pthread_rwlock_rdlock(&st->idx_lock);
	int64_t *v = hmap_get(&st->mtimes, key);
	int64_t t = v ? *v : 0;
	pthread_rwlock_unlock(&st->idx_lock);
	free(key);
	return t;
}

size_t store_dependents_any(struct store *st, const char *uid, struct sobj ***out)
{
	return idx_dependents(st, uid, out);
}

size_t store_dependents(struct store *st, const char *uid, struct sobj ***out)
{
	size_t n = idx_dependents(st, uid, out);
	qsort(*out, n, sizeof(**out), sobj_cmp);
	return n;
}
