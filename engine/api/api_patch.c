/*
 * api_patch.c - api_patch_ex(): read-modify-write with flags and the
 * stored result (see api_patch.h).
 */
#include "engine/api/api_patch.h"

#include <errno.h>

#include "engine/api/api_int.h"
#include "engine/valid/valid.h"

struct patch_ex {
	struct api *api;
	const struct kind_info *k;
	const char *ns, *name;
	api_mutate_fn mutate;
	void *arg;
	int flags;
	struct sobj *out;
	char *warning; /* Pod Security's warn mode (api_psa.c) */
};

/* The status the callback made, written alone. */
static int put_status(struct store_txn *tx, struct sobj *old, json_t *obj, struct err **e)
{
	json_t *st = json_object_get(obj, "status");
	if (json_equal(st, json_object_get(old->obj, "status")))
		return 0;
	json_t *n = json_deep_copy(old->obj);
	if (json_is_object(st))
		json_object_set(n, "status", st);
	else
		json_object_del(n, "status");
	int64_t rv = store_txn_put(tx, old->kind, old->ns, old->name, n, false, e);
	return rv < 0 ? (int)rv : 1;
}

static int patch_ex_txn(struct store_txn *tx, void *varg, struct err **e)
{
	struct patch_ex *p = varg;
	const char *ns = api_scope_ns(p->k, p->ns);
	struct sobj *old = store_txn_get(tx, p->k->kind, ns, p->name);
	if (!old)
		return err_make(e, ENOENT, "%s \"%s\" not found", p->k->kind, p->name);
	json_t *obj = json_deep_copy(old->obj);
	int r = p->mutate(obj, p->arg, e);
	if (r >= 0 && (p->flags & API_PATCH_STATUS)) {
		r = put_status(tx, old, obj, e);
		json_decref(obj);
	} else if (r >= 0) {
		valid_default(obj, p->k);
		r = valid_object(obj, p->k, e);
		free(p->warning);
		p->warning = r >= 0 ? api_psa_warning(tx, p->api, p->k, old->obj, obj) : NULL;
		if (r >= 0)
			r = api_put_update(tx, p->api, p->k, old, obj, e);
		else
			json_decref(obj);
	} else {
		json_decref(obj);
	}
	sobj_unref(old);
	if (r >= 0)
		p->out = store_txn_get(tx, p->k->kind, ns, p->name);
	return r;
}

int api_patch_ex(struct api *a, const struct kind_info *k, const char *ns, const char *name,
		 api_mutate_fn mutate, void *arg, int flags, struct sobj **out, struct err **e)
{
	struct patch_ex p = {a, k, ns ? ns : "", name, mutate, arg, flags, NULL, NULL};
	int r = api_check(a, "patch", k, ns, name, flags & API_PATCH_STATUS ? "status" : NULL, e);
	if (r == 0)
		r = store_update(a->st, patch_ex_txn, &p, e);
	if (r > 0)
		api_psa_emit(a, k, ns ? ns : "", name, p.warning);
	else
		free(p.warning);
	if (r >= 0 && out)
		*out = p.out;
	else
		sobj_unref(p.out);
	return r;
}
