/*
 * api_delete.c - deletes, with cascade along ownerReferences (see api.h:
 * api_delete, api_delete_opts): graceful deletion of pods on Ready nodes,
 * and namespaces that stay Terminating while what is in them stops.
 */
#include <errno.h>
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

int api_delete_opts(struct api *a, const struct kind_info *k, const char *ns, const char *name,
		    int grace, struct err **e)
{
	if (k == KIND_NAMESPACE && !strcmp(name, "default"))
		return err_make(e, EPERM, "namespace \"default\" may not be deleted");
	struct delete_arg d = {k, ns, name, grace};
	int r = api_check(a, "delete", k, ns, name, NULL, e);
	return r < 0 ? r : store_update(a->st, delete_txn, &d, e);
}

int api_delete(struct api *a, const struct kind_info *k, const char *ns, const char *name,
	       struct err **e)
{
	return api_delete_opts(a, k, ns, name, -1, e);
}
