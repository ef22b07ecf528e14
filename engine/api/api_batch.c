/*
 * api_batch.c - many independent changes in one transaction, for the
 * components that make changes in bulk: the ReplicaSet controller creating
 * pods, the scheduler binding them, node agents reporting status, evictions.
 * One commit (one fsync) for a whole batch is what lets 30,000 pods start
 * in seconds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/api/api.h"
#include "engine/api/api_int.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/valid/valid.h"

static int uid_mismatch(const struct sobj *o, const char *uid)
{
	if (!uid)
		return 0;
	const char *have = api_jstr(json_object_get(o->obj, "metadata"), "uid");
	return !have || strcmp(have, uid);
}

/*
 * A new object for the next state of a stored (frozen) one: its top level
 * and metadata (where the store writes resourceVersion) are new objects,
 * every other value is the stored one, shared, never to be modified.  A
 * caller replaces the fields it changes instead of editing them in place:
 * a whole pod is not deep-copied to change its status.
 */
static json_t *next_state(const json_t *stored)
{
	json_t *c = json_copy((json_t *)stored);
	json_t *md = json_object_get(c, "metadata");
	if (json_is_object(md))
		json_object_set_new(c, "metadata", json_copy(md));
	return c;
}

/* A new object (or a new empty one) for field f of obj, set in obj. */
static json_t *own_field(json_t *obj, const char *f)
{
	json_t *v = json_object_get(obj, f);
	v = json_is_object(v) ? json_copy(v) : json_object();
	json_object_set_new(obj, f, v);
	return v;
}

/*
 * A next state made and encoded before the transaction (store_prepare),
 * from the committed state base: the transaction writes it when the
 * object is still base, and makes it again otherwise.
 */
struct pre {
	struct sobj *base;
	struct store_prep *p;
};

static void pre_make(struct api *a, struct pre *x, struct sobj *base, json_t *obj)
{
	x->p = store_prepare(a->st, base->kind, base->ns, base->name, obj);
	x->base = x->p ? sobj_ref(base) : NULL;
}

/* Writes x's prepared state if cur is still its base: the revision, or 0
 * when the caller must make the state itself. */
static int64_t pre_put(struct store_txn *tx, const struct pre *x, const struct sobj *cur,
		       bool user_change, struct err **e)
{
	if (!x->p || !x->base || x->base->rv != cur->rv)
		return 0;
	return store_txn_put_prep(tx, x->p, user_change, e);
}

static void pre_free(struct pre *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sobj_unref(v[i].base);
		store_prep_free(v[i].p);
	}
	free(v);
}

/* Create */

struct create_many_arg {
	struct api *a;
	json_t **objs;		   /* prepared: defaulted and valid, or NULL if refused */
	struct store_prep **preps; /* objs[i] encoded before the transaction, or NULL */
	const struct kind_info **kinds;
	size_t n;
	int *results;
	char **why; /* or NULL */
	int ok;
};

static int create_many_txn(struct store_txn *tx, void *varg, struct err **e)
{
	struct create_many_arg *c = varg;
	c->ok = 0; /* on etcd a txn function may run again */
	for (size_t i = 0; i < c->n; i++) {
		if (!c->objs[i])
			continue;
		const struct kind_info *k = c->kinds[i];
		const char *ns =
		    api_scope_ns(k, api_obj_ns(c->objs[i]) ? api_obj_ns(c->objs[i]) : "");
		const char *name = api_obj_name(c->objs[i]);
		struct sobj *old = store_txn_get(tx, k->kind, ns, name);
		if (old) {
			sobj_unref(old);
			c->results[i] = -EEXIST;
			continue;
		}
		if (api_check_namespace(tx, k, ns, name, NULL) < 0) {
			c->results[i] = -ENOENT;
			continue;
		}
		struct err *err = NULL;
		if (api_psa_admit(tx, c->a, k, NULL, c->objs[i], &err) < 0) {
			c->results[i] = -err->code;
			if (c->why) {
				free(c->why[i]);
				c->why[i] = xstrdup(err->msg);
			}
			err_free(err);
			continue;
		}
		/* filled before the transaction; admitted just above, but for
		 * a Service's addresses */
		int64_t rv = c->preps[i] ? store_txn_put_prep(tx, c->preps[i], true, e)
					 : api_put_filled(tx, c->a, k, json_incref(c->objs[i]),
							  k != KIND_SERVICE, e);
		if (rv < 0)
			return (int)rv;
		c->results[i] = 0;
		c->ok++;
	}
	return c->ok;
}

/*
 * *objp (filled) encoded for its create, on the caller's thread.  It is
 * given to store_prepare alone (a value held twice is copied again while
 * its values are made shared), and *objp becomes a reference to the
 * prepared object, which the transaction reads (frozen) for admission;
 * NULL if that failed (out of memory).  Left as it is when not prepared.
 */
static struct store_prep *create_prepare(struct api *a, const struct kind_info *k, json_t **objp)
{
	json_t *obj = *objp;
	const char *ns = api_scope_ns(k, api_obj_ns(obj) ? api_obj_ns(obj) : "");
	const char *name = api_obj_name(obj);
	if (!name || !json_is_object(json_object_get(obj, "metadata")))
		return NULL;
	struct store_prep *p = store_prepare(a->st, k->kind, ns, name, obj);
	*objp = p ? json_incref(store_prep_obj(p)) : NULL;
	return p;
}

int api_create_many(struct api *a, json_t *const *objs, size_t n, int *results)
{
	return api_create_many_ex(a, objs, n, results, NULL);
}

int api_create_many_ex(struct api *a, json_t *const *objs, size_t n, int *results, char **why)
{
	struct create_many_arg c = {a,
				    xcalloc(n, sizeof(json_t *)),
				    xcalloc(n + 1, sizeof(struct store_prep *)),
				    xcalloc(n, sizeof(struct kind_info *)),
				    n,
				    results ? results : xcalloc(n, sizeof(int)),
				    why,
				    0};
	for (size_t i = 0; why && i < n; i++)
		why[i] = NULL;
	for (size_t i = 0; i < n; i++) {
		const char *kind = api_jstr(objs[i], "kind");
		const struct kind_info *k = kind ? kind_by_kind(kind) : NULL;
		json_t *obj = k ? json_deep_copy(objs[i]) : NULL;
		json_t *status = obj ? json_incref(json_object_get(obj, "status")) : NULL;
		if (obj) {
			json_object_del(obj, "status");
			valid_default(obj, k);
		}
		struct err *err = NULL;
		if (!obj || valid_object(obj, k, &err) < 0) {
			log_warn("api", "create: refused %s: %s", kind ? kind : "object",
				 err ? err->msg : "unknown kind");
			c.results[i] = -EINVAL;
			if (why)
				why[i] = xstrdup(err ? err->msg : "unknown kind");
			json_decref(obj);
			json_decref(status);
			err_free(err);
			continue;
		}
		if (status)
			json_object_set_new(obj, "status", status);
		if (api_check(a, "create", k, api_obj_ns(obj), api_obj_name(obj), NULL, NULL) < 0) {
			c.results[i] = -EACCES;
			json_decref(obj);
			continue;
		}
		c.objs[i] = api_new_fill(a, k, obj, true);
		c.kinds[i] = k;
		/* admission changes a Service or a Namespace in the transaction */
		if (k != KIND_SERVICE && k != KIND_NAMESPACE)
			c.preps[i] = create_prepare(a, k, &c.objs[i]);
		if (!c.objs[i])
			c.results[i] = -ENOMEM;
	}
	struct err *err = NULL;
	int r = 0;
	size_t step = store_max_writes(a->st); /* etcd: a txn holds so many */
	for (size_t at = 0; r >= 0 && at < n; at += step) {
		struct create_many_arg s = c;
		s.objs += at;
		s.preps += at;
		s.kinds += at;
		s.results += at;
		s.why = why ? why + at : NULL;
		s.n = n - at < step ? n - at : step;
		r = store_update(a->st, create_many_txn, &s, &err);
		c.ok += r >= 0 ? s.ok : 0;
	}
	if (r < 0) {
		log_warn("api", "create of %zu objects: %s", n, err ? err->msg : "?");
		err_free(err);
	}
	for (size_t i = 0; i < n; i++) {
		json_decref(c.objs[i]);
		store_prep_free(c.preps[i]);
	}
	free(c.objs);
	free(c.preps);
	free(c.kinds);
	if (!results)
		free(c.results);
	return r < 0 ? r : c.ok;
}

/* Bind */

struct bind_arg {
	const struct api_binding *b;
	struct pre *pre; /* each pod's bound state, made before the transaction */
	size_t n;
	int *results;
	int ok;
	char ts[32];
};

static void set_condition(json_t *status, const char *type, const char *value, const char *ts)
{
	/* status is new but its conditions may be the stored ones: a new array */
	json_t *conds = json_object_get(status, "conditions");
	conds = json_is_array(conds) ? json_copy(conds) : json_array();
	json_object_set_new(status, "conditions", conds);
	size_t i;
	json_t *c;
	json_array_foreach(conds, i, c)
	{
		const char *t = api_jstr(c, "type");
		if (t && !strcmp(t, type)) {
			json_array_remove(conds, i);
			break;
		}
	}
	json_array_append_new(conds, json_pack("{s:s, s:s, s:n, s:s}", "type", type, "status",
					       value, "lastProbeTime", "lastTransitionTime", ts));
}

/* 0 if o may be bound as x asks, else why not (a negative errno). */
static int bind_check(const struct sobj *o, const struct api_binding *x)
{
	const char *nn = api_jstr(json_object_get(o->obj, "spec"), "nodeName");
	if (uid_mismatch(o, x->uid))
		return -ESTALE;
	if ((nn && *nn) ||
	    json_object_get(json_object_get(o->obj, "metadata"), "deletionTimestamp"))
		return -EEXIST;
	return 0;
}

/* The state of o bound to node. */
static json_t *bound_state(const struct sobj *o, const char *node, const char *ts)
{
	json_t *obj = next_state(o->obj);
	json_object_set_new(own_field(obj, "spec"), "nodeName", json_string(node));
	set_condition(own_field(obj, "status"), "PodScheduled", "True", ts);
	return obj;
}

static int bind_txn(struct store_txn *tx, void *varg, struct err **e)
{
	struct bind_arg *b = varg;
	b->ok = 0; /* on etcd a txn function may run again */
	for (size_t i = 0; i < b->n; i++) {
		const struct api_binding *x = &b->b[i];
		struct sobj *o = store_txn_get(tx, "Pod", x->ns, x->name);
		if (!o) {
			b->results[i] = -ENOENT;
			continue;
		}
		b->results[i] = bind_check(o, x);
		if (!b->results[i]) {
			int64_t rv = pre_put(tx, &b->pre[i], o, false, e);
			if (rv == 0)
				rv = store_txn_put(tx, "Pod", o->ns, o->name,
						   bound_state(o, x->node, b->ts), false, e);
			if (rv < 0) {
				sobj_unref(o);
				return (int)rv;
			}
			b->ok++;
		}
		sobj_unref(o);
	}
	return b->ok;
}

/* Each pod's bound state made and encoded on this thread. */
static void bind_prepare(struct api *a, struct bind_arg *b)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct api_binding *x = &b->b[i];
		struct sobj *o = store_get(a->st, "Pod", x->ns, x->name);
		if (o && !bind_check(o, x))
			pre_make(a, &b->pre[i], o, bound_state(o, x->node, b->ts));
		sobj_unref(o);
	}
}

int api_bind_many(struct api *a, const struct api_binding *bs, size_t n, int *results)
{
	struct bind_arg b = {bs, xcalloc(n + 1, sizeof(struct pre)),
			     n,	 results ? results : xcalloc(n, sizeof(int)),
			     0,	 ""};
	api_timestamp(b.ts);
	struct err *err = NULL;
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		r = api_check(a, "create", KIND_POD, bs[i].ns, bs[i].name, "binding", &err);
	if (r == 0)
		bind_prepare(a, &b);
	size_t step = store_max_writes(a->st);
	for (size_t at = 0; r >= 0 && at < n; at += step) {
		struct bind_arg s = {bs + at,	     b.pre + at, n - at < step ? n - at : step,
				     b.results + at, 0,		 ""};
		memcpy(s.ts, b.ts, sizeof(s.ts));
		r = store_update(a->st, bind_txn, &s, &err);
		b.ok += r >= 0 ? s.ok : 0;
	}
	if (r < 0) {
		log_warn("api", "binding %zu pods: %s", n, err ? err->msg : "?");
		err_free(err);
	}
	pre_free(b.pre, n);
	if (!results)
		free(b.results);
	return r < 0 ? r : b.ok;
}

/* Status */

struct status_many_arg {
	const struct api_status *s;
	json_t **given;	 /* s[i].status given (api_status.give) and not yet used */
	json_t **copies; /* of each s[i].status, made before the transaction */
	struct pre *pre; /* each object's new state, made then too */
	size_t n;
	int *results;
	int ok;
};

/* The state of o with status st (a reference is taken). */
static json_t *status_state(const struct sobj *o, json_t *st)
{
	json_t *obj = next_state(o->obj);
	json_object_set(obj, "status", st);
	return obj;
}

static int status_many_txn(struct store_txn *tx, void *varg, struct err **e)
{
	struct status_many_arg *m = varg;
	m->ok = 0; /* on etcd a txn function may run again */
	for (size_t i = 0; i < m->n; i++) {
		const struct api_status *x = &m->s[i];
		struct sobj *o = store_txn_get(tx, x->k->kind, api_scope_ns(x->k, x->ns), x->name);
		if (!o) {
			m->results[i] = -ENOENT;
			continue;
		}
		if (uid_mismatch(o, x->uid)) {
			m->results[i] = -ESTALE;
		} else if (!m->copies[i]) {
			m->results[i] = -ENOMEM;
		} else if (json_equal(json_object_get(o->obj, "status"), m->copies[i])) {
			m->results[i] = 0;
			m->ok++;
		} else {
			int64_t rv = pre_put(tx, &m->pre[i], o, false, e);
			if (rv == 0)
				rv = store_txn_put(tx, o->kind, o->ns, o->name,
						   status_state(o, m->copies[i]), false, e);
			if (rv < 0) {
				sobj_unref(o);
				return (int)rv;
			}
			m->results[i] = 0;
			m->ok++;
		}
		sobj_unref(o);
	}
	return m->ok;
}

/*
 * Copies of the statuses and the new states, made on this thread, not in
 * the transaction, which all writers share.  The copy of a status is given
 * to its new state alone, so that store_prepare makes its values shared in
 * place (a copy held twice is copied again, node by node); the copy kept
 * for the transaction is then the prepared state's own status.
 */
static void status_prepare(struct api *a, struct status_many_arg *m)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct api_status *x = &m->s[i];
		bool given = m->given[i] != NULL;
		json_t *copy = given ? m->given[i] : json_deep_copy(x->status);
		m->given[i] = NULL;
		struct sobj *o = store_get(a->st, x->k->kind, api_scope_ns(x->k, x->ns), x->name);
		if (o && copy && !uid_mismatch(o, x->uid) &&
		    !json_equal(json_object_get(o->obj, "status"), copy)) {
			json_t *obj = next_state(o->obj);
			json_object_set_new(obj, "status", copy);
			pre_make(a, &m->pre[i], o, obj);
			copy = m->pre[i].p ? json_object_get(store_prep_obj(m->pre[i].p), "status")
					   : NULL;
			/* (a given status went with the state: none, out of memory) */
			copy = copy ? json_incref(copy) : given ? NULL : json_deep_copy(x->status);
		}
		m->copies[i] = copy;
		sobj_unref(o);
	}
}

int api_status_many(struct api *a, const struct api_status *s, size_t n, int *results)
{
	struct status_many_arg m = {s,
				    xcalloc(n + 1, sizeof(json_t *)),
				    xcalloc(n + 1, sizeof(json_t *)),
				    xcalloc(n + 1, sizeof(struct pre)),
				    n,
				    results ? results : xcalloc(n, sizeof(int)),
				    0};
	for (size_t i = 0; i < n; i++)
		m.given[i] = s[i].give ? (json_t *)s[i].status : NULL;
	struct err *err = NULL;
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		r = api_check(a, "update", s[i].k, s[i].ns, s[i].name, "status", &err);
	if (r == 0)
		status_prepare(a, &m);
	size_t step = store_max_writes(a->st);
	for (size_t at = 0; r >= 0 && at < n; at += step) {
		struct status_many_arg x = {s + at,
					    m.given + at,
					    m.copies + at,
					    m.pre + at,
					    n - at < step ? n - at : step,
					    m.results + at,
					    0};
		r = store_update(a->st, status_many_txn, &x, &err);
		m.ok += r >= 0 ? x.ok : 0;
	}
	for (size_t i = 0; i < n; i++) {
		json_decref(m.copies[i]);
		json_decref(m.given[i]); /* given, not used (refused before) */
	}
	free(m.copies);
	free(m.given);
	pre_free(m.pre, n);
	if (r < 0) {
		log_warn("api", "status of %zu objects: %s", n, err ? err->msg : "?");
		err_free(err);
	}
	if (!results)
		free(m.results);
	return r < 0 ? r : m.ok;
}

/* Delete */

struct delete_many_arg {
	const struct api_ref *r;
	size_t n;
	int grace;
	int *results;
	int ok;
};

static int delete_many_txn(struct store_txn *tx, void *varg, struct err **e)
{
	struct delete_many_arg *d = varg;
	d->ok = 0; /* on etcd a txn function may run again */
	for (size_t i = 0; i < d->n; i++) {
		const struct api_ref *x = &d->r[i];
		struct sobj *o = store_txn_get(tx, x->k->kind, api_scope_ns(x->k, x->ns), x->name);
		if (!o) {
			d->results[i] = -ENOENT;
			continue;
		}
		if (uid_mismatch(o, x->uid)) {
			d->results[i] = -ESTALE;
			sobj_unref(o);
			continue;
		}
		int r = api_delete_tree(tx, o, d->grace, 0, e);
		sobj_unref(o);
		if (r < 0)
			return r;
		d->results[i] = 0;
		d->ok++;
	}
	return d->ok;
}

int api_delete_many(struct api *a, const struct api_ref *refs, size_t n, int grace, int *results)
{
	struct delete_many_arg d = {refs, n, grace, results ? results : xcalloc(n, sizeof(int)), 0};
	struct err *err = NULL;
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		r = api_check(a, "delete", refs[i].k, refs[i].ns, refs[i].name, NULL, &err);
	size_t step = store_max_writes(a->st);
	for (size_t at = 0; r >= 0 && at < n; at += step) {
		struct delete_many_arg x = {refs + at, n - at < step ? n - at : step, grace,
					    d.results + at, 0};
		r = store_update(a->st, delete_many_txn, &x, &err);
		d.ok += r >= 0 ? x.ok : 0;
	}
	if (r < 0) {
		log_warn("api", "deleting %zu objects: %s", n, err ? err->msg : "?");
		err_free(err);
	}
	if (!results)
		free(d.results);
	return r < 0 ? r : d.ok;
}
