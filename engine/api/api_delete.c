/*
 * api_delete.c - deletes, with cascade along ownerReferences (see api.h:
 * api_delete, api_delete_opts): graceful deletion of pods on Ready nodes,
 * and namespaces that stay Terminating while what is in them stops.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "engine/api/api.h"
#include "engine/api/api_int.h"
#include "engine/mem.h"

struct delete_arg {
	const struct kind_info *k;
	const char *ns, *name;
	int grace;
};

/* Is node name Ready?  Pods on it are deleted gracefully; elsewhere at once. */
static bool node_is_ready(struct store_txn *tx, const char *name)
{
	struct sobj *n = store_txn_get(tx, "Node", "", name);
	bool ready = false;
	size_t i;
	json_t *c;
	if (n)
		json_array_foreach(json_object_get(json_object_get(n->obj, "status"), "conditions"),
				   i, c)
		{
			const char *t = api_jstr(c, "type"), *st = api_jstr(c, "status");
			if (t && st && !strcmp(t, "Ready"))
				ready = !strcmp(st, "True");
		}
	sobj_unref(n);
	return ready;
}

/*
 * Graceful deletion of a pod bound to a ready node: marks it (deletionTimestamp,
 * deletionGracePeriodSeconds) for its node agent to stop and then delete.
 * Returns 1 if marked (or already marked), 0 if the pod must go at once.
 */
static int mark_terminating(struct store_txn *tx, struct sobj *o, int grace, struct err **e)
{
	if (strcmp(o->kind, "Pod") || grace == 0)
		return 0;
	json_t *spec = json_object_get(o->obj, "spec");
	const char *node = api_jstr(spec, "nodeName");
	if (!node || !*node || !node_is_ready(tx, node))
		return 0;
	json_t *md = json_object_get(o->obj, "metadata");
	if (json_object_get(md, "deletionTimestamp"))
		return 1;
	if (grace < 0) {
		json_t *g = json_object_get(spec, "terminationGracePeriodSeconds");
		grace = json_is_integer(g) ? (int)json_integer_value(g) : 30;
	}
	if (grace <= 0)
		return 0;
	json_t *obj = json_deep_copy(o->obj);
	char ts[32];
	api_timestamp(ts);
	json_object_set_new(api_meta_of(obj), "deletionTimestamp", json_string(ts));
	json_object_set_new(api_meta_of(obj), "deletionGracePeriodSeconds", json_integer(grace));
	int64_t rv = store_txn_put(tx, o->kind, o->ns, o->name, obj, true, e);
	return rv < 0 ? (int)rv : 1;
}

int api_delete_tree(struct store_txn *tx, struct sobj *o, int grace, int depth, struct err **e)
{
	int count = 0;
	const char *uid = api_jstr(json_object_get(o->obj, "metadata"), "uid");
	if (uid && depth < 16) {
		struct sobj **deps;
		size_t n = store_txn_dependents(tx, uid, &deps);
		for (size_t i = 0; i < n; i++) {
			int r = api_delete_tree(tx, deps[i], grace, depth + 1, e);
			if (r < 0) {
				sobj_list_free(deps, n);
				return r;
			}
			count += r;
		}
		sobj_list_free(deps, n);
	}
	struct sobj *still = store_txn_get(tx, o->kind, o->ns, o->name);
	if (!still)
		return count; /* reached twice through two owners */
	int marked = mark_terminating(tx, still, grace, e);
	sobj_unref(still);
	if (marked)
		return marked < 0 ? marked : count + 1;
	int64_t rv = store_txn_delete(tx, o->kind, o->ns, o->name, e);
	return rv < 0 ? (int)rv : count + 1;
}

/* Is anything but Events left in namespace ns? */
static bool ns_has_objects(struct store_txn *tx, const char *ns)
{
	for (int i = 0; i < kind_count; i++) {
		if (!kind_table[i].namespaced || &kind_table[i] == KIND_EVENT)
			continue;
		struct sobj **v = NULL;
		size_t n = store_txn_list(tx, kind_table[i].kind, ns, &v);
		sobj_list_free(v, n);
		if (n)
			return true;
	}
	return false;
}

/*
 * A namespace whose objects are still going (pods stopping on their
 * nodes) stays, marked (deletionTimestamp, status.phase Terminating), as
 * in Kubernetes; it is deleted once nothing is left in it (gc.c deletes it
 * again then).  Returns 1.
 */
static int mark_ns_terminating(struct store_txn *tx, struct sobj *o, struct err **e)
{
	json_t *md = json_object_get(o->obj, "metadata");
	const char *phase = api_jstr(json_object_get(o->obj, "status"), "phase");
	if (json_object_get(md, "deletionTimestamp") && phase && !strcmp(phase, "Terminating"))
		return 1;
	json_t *obj = json_deep_copy(o->obj);
	char ts[32];
	api_timestamp(ts);
	if (!json_object_get(md, "deletionTimestamp"))
		json_object_set_new(api_meta_of(obj), "deletionTimestamp", json_string(ts));
	json_object_set_new(obj, "status", json_pack("{s:s}", "phase", "Terminating"));
	int64_t rv = store_txn_put(tx, o->kind, o->ns, o->name, obj, true, e);
	return rv < 0 ? (int)rv : 1;
}

static int delete_txn(struct store_txn *tx, void *varg, struct err **e)
{
	struct delete_arg *d = varg;
	const char *ns = api_scope_ns(d->k, d->ns);
	struct sobj *o = store_txn_get(tx, d->k->kind, ns, d->name);
	if (!o)
		return err_make(e, ENOENT, "%s \"%s\" not found", d->k->kind, d->name);
	int count = 0;
	if (d->k == KIND_NAMESPACE) {
		for (int i = 0; i < kind_count; i++) {
			if (!kind_table[i].namespaced)
				continue;
			struct sobj **v;
			size_t n = store_txn_list(tx, kind_table[i].kind, d->name, &v);
			for (size_t j = 0; j < n; j++) {
				int r = api_delete_tree(tx, v[j], d->grace, 0, e);
				if (r < 0) {
					sobj_list_free(v, n);
					sobj_unref(o);
					return r;
				}
				count += r;
			}
			sobj_list_free(v, n);
		}
	}
	int r = d->k == KIND_NAMESPACE && ns_has_objects(tx, d->name)
		    ? mark_ns_terminating(tx, o, e)
		    : api_delete_tree(tx, o, d->grace, 0, e);
	sobj_unref(o);
	return r < 0 ? r : count + r;
}

/*
 * A cascade larger than one transaction of the store holds (etcd's
 * --max-txn-ops) goes in parts: what is under the object (or in the
 * namespace) first, leaves before their owners, store_max_writes at a
 * time, as Kubernetes' garbage collector deletes dependents apart from
 * their owner; then the object itself.
 */
struct objv {
	struct sobj **v;
	size_t n, cap;
};

static void objv_push(struct objv *v, struct sobj *o)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 64;
		v->v = xrealloc(v->v, v->cap * sizeof(*v->v));
	}
	v->v[v->n++] = o;
}

/* The objects under o, leaves first (references). */
static void tree_under(struct api *a, struct sobj *o, int depth, struct objv *out)
{
	const char *uid = api_jstr(json_object_get(o->obj, "metadata"), "uid");
	struct sobj **deps = NULL;
	size_t n = uid && depth < 16 ? store_dependents_any(a->st, uid, &deps) : 0;
	for (size_t i = 0; i < n; i++) {
		tree_under(a, deps[i], depth + 1, out);
		objv_push(out, deps[i]);
	}
	free(deps);
}

struct part_arg {
	struct sobj **v;
	size_t n;
	int grace;
};

static int part_txn(struct store_txn *tx, void *varg, struct err **e)
{
	struct part_arg *p = varg;
	for (size_t i = 0; i < p->n; i++) {
		struct sobj *o = store_txn_get(tx, p->v[i]->kind, p->v[i]->ns, p->v[i]->name);
		int r = o ? api_delete_tree(tx, o, p->grace, 16, e) : 0; /* 16: itself only */
		sobj_unref(o);
		if (r < 0)
			return r;
	}
	return 0;
}

static int delete_in_parts(struct api *a, const struct delete_arg *d, struct err **e)
{
	struct objv v = {0};
	struct sobj *o = store_get(a->st, d->k->kind, api_scope_ns(d->k, d->ns), d->name);
	for (int i = 0; o && d->k == KIND_NAMESPACE && i < kind_count; i++) {
		struct sobj **in = NULL;
		size_t n = kind_table[i].namespaced
			       ? store_list(a->st, kind_table[i].kind, d->name, &in)
			       : 0;
		for (size_t j = 0; j < n; j++) {
			tree_under(a, in[j], 0, &v);
			objv_push(&v, in[j]);
		}
		free(in);
	}
	if (o && d->k != KIND_NAMESPACE)
		tree_under(a, o, 0, &v);
	sobj_unref(o);
	size_t step = store_max_writes(a->st);
	int r = 0;
	for (size_t at = 0; r >= 0 && at < v.n; at += step) {
		struct part_arg p = {v.v + at, v.n - at < step ? v.n - at : step, d->grace};
		r = store_update(a->st, part_txn, &p, e);
	}
	sobj_list_free(v.v, v.n);
	return r < 0 ? r : store_update(a->st, delete_txn, (void *)d, e);
}

int api_delete_opts(struct api *a, const struct kind_info *k, const char *ns, const char *name,
		    int grace, struct err **e)
{
	if (k == KIND_NAMESPACE && !strcmp(name, "default"))
		return err_make(e, EPERM, "namespace \"default\" may not be deleted");
	struct delete_arg d = {k, ns, name, grace};
	int r = api_check(a, "delete", k, ns, name, NULL, e);
	if (r == 0)
		r = store_update(a->st, delete_txn, &d, e);
	if (r == -E2BIG && store_max_writes(a->st) != SIZE_MAX) /* etcd: too large for one */
		r = delete_in_parts(a, &d, e);
	return r;
}

int api_delete(struct api *a, const struct kind_info *k, const char *ns, const char *name,
	       struct err **e)
{
	return api_delete_opts(a, k, ns, name, -1, e);
}
