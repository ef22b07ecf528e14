/*
 * store_prep.c - puts prepared on the writer's thread (store.h).
 *
 * Why: every write of a batch runs on the one thread that leads the group
 * commit, one after the other, and most of a put's CPU was not the
 * SQLite insert but making the stored form of the object: sharing its
 * values (store_intern) and its JSON text (json_dumps of the whole pod,
 * at every binding and status change).  Both depend on the object only,
 * not on the batch, but for its resourceVersion: so they are made before
 * store_update, with a mark in place of the revision, and the batch's
 * thread only writes the revision into a copy of the metadata and into
 * the text (a copy around the mark), then inserts the rows.
 *
 * The text with the revision in it is byte for byte what json_dumps of
 * the stored object gives: the mark stands where resourceVersion stands
 * (set in place, as store_txn_put sets it).  A mark found more than once
 * (an object that holds the mark's own text as a value) is not trusted:
 * the text is then made at the commit as before.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mem.h"
#include "engine/store/store_int.h"

#define MARK	 "@cfs:rv@" /* the revision's place holder */
#define MARK_LEN (sizeof(MARK) - 1)

struct store_prep {
	char *kind, *ns, *name;
	json_t *obj; /* frozen, shared values (SQLite); as given (etcd) */
	char *text;  /* SQLite: its JSON with MARK for the revision, or NULL */
	size_t len;  /* of text */
	size_t at;   /* where MARK is in text */
	bool sqlite; /* made for the SQLite backend */
};

/* Where the one MARK (quoted) is in text; false if not exactly once. */
static bool mark_find(const char *text, size_t len, size_t *at)
{
	const char *q = "\"" MARK "\"";
	const char *p = memmem(text, len, q, MARK_LEN + 2);
	if (!p || memmem(p + 1, len - (size_t)(p + 1 - text), q, MARK_LEN + 2))
		return false;
	*at = (size_t)(p + 1 - text);
	return true;
}

struct store_prep *store_prepare(struct store *st, const char *kind, const char *ns,
				 const char *name, json_t *obj)
{
	json_t *md = json_object_get(obj, "metadata");
	if (!json_is_object(obj) || !json_is_object(md)) {
		json_decref(obj);
		return NULL;
	}
	/* SQLite: its top level and metadata made ours to change (the caller
	 * may hold them too); etcd's put encodes at its commit */
	if (!st->etcd && obj->refcount > 1) {
		json_t *c = json_copy(obj);
		json_decref(obj);
		if (!(obj = c))
			return NULL;
		md = json_object_get(obj, "metadata");
	}
	if (!st->etcd && md->refcount > 1) {
		md = json_copy(md);
		json_object_set_new(obj, "metadata", md);
	}
	struct store_prep *p = xcalloc(1, sizeof(*p));
	p->kind = xstrdup(kind);
	p->ns = xstrdup(ns);
	p->name = xstrdup(name);
	p->sqlite = !st->etcd;
	if (!p->sqlite) {
		p->obj = obj;
		return p;
	}
	json_object_set_new(md, "resourceVersion", json_string(MARK));
	/* The metadata (name, uid, revision) is the object's own: its values
	 * are shared, itself never (it is copied at the commit anyway). */
	json_incref(md);
	json_object_set_new(obj, "metadata", json_null());
	p->obj = store_intern(obj);
	md = store_intern(md);
	if (p->obj && md)
		json_object_set_new(p->obj, "metadata", md);
	else
		json_decref(md);
	p->text = p->obj ? store_text(p->obj) : NULL;
	p->len = p->text ? strlen(p->text) : 0;
	if (p->text && !mark_find(p->text, p->len, &p->at)) {
		free(p->text);
		p->text = NULL;
	}
	if (!p->obj) {
		store_prep_free(p);
		return NULL;
	}
	return p;
}

void store_prep_free(struct store_prep *p)
{
	if (!p)
		return;
	json_decref(p->obj);
	free(p->text);
	free(p->kind);
	free(p->ns);
	free(p->name);
	free(p);
}

json_t *store_prep_obj(const struct store_prep *p)
{
	return p->obj;
}

/* A new top level and metadata for p's object, with resourceVersion rvs:
 * made in the store's memory (slab), unique to this version, so not
 * looked up for sharing. */
static json_t *with_rv(const struct store_prep *p, const char *rvs)
{
	store_slab_begin();
	json_t *top = json_copy(p->obj);
	json_t *md = json_copy(json_object_get(p->obj, "metadata"));
	json_t *rv = json_string(rvs);
	store_slab_end();
	if (!top || !md || !rv) {
		json_decref(top);
		json_decref(md);
		json_decref(rv);
		return NULL;
	}
	json_object_set_new(md, "resourceVersion", rv);
	json_object_set_new(top, "metadata", md);
	return top;
}

/* p's text with rvs in MARK's place (malloc'd). */
static char *text_with_rv(const struct store_prep *p, const char *rvs)
{
	size_t n = strlen(rvs), tail = p->len - p->at - MARK_LEN;
	char *t = xmalloc(p->len - MARK_LEN + n + 1);
	memcpy(t, p->text, p->at);
	memcpy(t + p->at, rvs, n);
	memcpy(t + p->at + n, p->text + p->at + MARK_LEN, tail + 1);
	return t;
}

int64_t store_txn_put_prep(struct store_txn *tx, const struct store_prep *p, bool user_change,
			   struct err **e)
{
	struct store *st = tx->st;
	if (!p->sqlite || st->etcd) {
		/* a copy: etcd's put sets resourceVersion in it */
		json_t *obj = json_copy(p->obj);
		if (obj && json_is_object(json_object_get(obj, "metadata")))
			json_object_set_new(obj, "metadata",
					    json_copy(json_object_get(obj, "metadata")));
		return store_txn_put(tx, p->kind, p->ns, p->name, obj, user_change, e);
	}
	struct sobj *prev = store_txn_get(tx, p->kind, p->ns, p->name);
	int64_t rv = st->next_rev + 1;
	char rvs[24];
	snprintf(rvs, sizeof(rvs), "%" PRId64, rv);
	int64_t user_rv = user_change ? rv : prev ? prev->user_rv : 0;
	enum store_event_type type = prev ? STORE_MODIFIED : STORE_ADDED;
	sobj_unref(prev);
	json_t *obj = with_rv(p, rvs); /* its values are already shared */
	if (!obj)
		return err_make(e, ENOMEM, "%s %s/%s: out of memory", p->kind, p->ns, p->name);
	struct sobj *o = sobj_new(p->kind, p->ns, p->name, obj, rv, user_rv, store_now_ns());
	char *text = p->text ? text_with_rv(p, rvs) : store_text(obj);
	if (text)
		text = store_seal(p->kind, p->ns, p->name, text);
	return txn_write(tx, o, type, text, e);
}
