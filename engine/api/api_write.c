/*
 * api_write.c - what a face needs for Kubernetes' write verbs beyond
 * api_create/api_apply/api_delete: generated names, deletes that orphan
 * dependents, and the one log line of a refused write.  See api.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "engine/api/api.h"
#include "engine/api/api_int.h"
#include "engine/log.h"
#include "engine/mem.h"

int api_generate_name(json_t *obj, struct err **e)
{
	json_t *md = json_object_get(obj, "metadata");
	const char *name = api_jstr(md, "name");
	const char *gen = api_jstr(md, "generateName");
	if ((name && *name) || !gen || !*gen)
		return 0;
	/* Kubernetes' alphabet: no vowels, no look-alike digits. */
	static const char alnum[] = "bcdfghjklmnpqrstvwxz2456789";
	unsigned char rnd[5];
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return err_make(e, EIO, "generating a name: %s", strerror(errno));
	size_t n = strlen(gen);
	if (n > 58)
		n = 58; /* the suffix must fit in a 63-character name */
	char out[64];
	memcpy(out, gen, n);
	for (size_t i = 0; i < sizeof(rnd); i++)
		out[n + i] = alnum[rnd[i] % (sizeof(alnum) - 1)];
	out[n + sizeof(rnd)] = '\0';
	json_object_set_new(md, "name", json_string(out));
	return 0;
}

struct orphan_arg {
	const struct kind_info *k;
	const char *ns, *name;
	int grace;
};

/* A copy of dep without the ownerReferences that name uid. */
static json_t *without_owner(const json_t *dep, const char *uid)
{
	json_t *c = json_deep_copy(dep);
	json_t *md = api_meta_of(c);
	json_t *refs = json_object_get(md, "ownerReferences"), *keep = json_array();
	size_t i;
	json_t *r;
	json_array_foreach(refs, i, r)
	{
		const char *u = api_jstr(r, "uid");
		if (!u || strcmp(u, uid))
			json_array_append(keep, r);
	}
	if (json_array_size(keep))
		json_object_set_new(md, "ownerReferences", keep);
	else {
		json_decref(keep);
		json_object_del(md, "ownerReferences");
	}
	return c;
}

static int orphan_txn(struct store_txn *tx, void *varg, struct err **e)
{
	struct orphan_arg *d = varg;
	const char *ns = api_scope_ns(d->k, d->ns);
	struct sobj *o = store_txn_get(tx, d->k->kind, ns, d->name);
	if (!o)
		return err_make(e, ENOENT, "%s \"%s\" not found", d->k->kind, d->name);
	const char *uid = api_jstr(json_object_get(o->obj, "metadata"), "uid");
	struct sobj **deps = NULL;
	size_t n = uid ? store_txn_dependents(tx, uid, &deps) : 0;
	int64_t rv = 0;
	for (size_t i = 0; i < n && rv >= 0; i++)
		rv = store_txn_put(tx, deps[i]->kind, deps[i]->ns, deps[i]->name,
				   without_owner(deps[i]->obj, uid), false, e);
	sobj_list_free(deps, n);
	int r = rv < 0 ? (int)rv : 0;
	if (r >= 0) {
		/* The dependents no longer name it: only the object goes. */
		r = api_delete_tree(tx, o, d->grace, 0, e);
	}
	sobj_unref(o);
	return r;
}

int api_delete_orphan(struct api *a, const struct kind_info *k, const char *ns, const char *name,
		      int grace, struct err **e)
{
	if (k == KIND_NAMESPACE)
		return api_delete_opts(a, k, ns, name, grace, e);
	struct orphan_arg d = {k, ns, name, grace};
	int r = api_check(a, "delete", k, ns, name, NULL, e);
	return r < 0 ? r : store_update(a->st, orphan_txn, &d, e);
}

/*
 * Foreground deletion: dependents first; an object whose dependents are
 * not all gone yet (pods stopping on their nodes) stays, marked with
 * deletionTimestamp and the finalizer foregroundDeletion.  Returns the
 * number of objects deleted or marked.
 */
static int mark_foreground(struct store_txn *tx, struct sobj *o, struct err **e)
{
	json_t *md = json_object_get(o->obj, "metadata");
	json_t *fin = json_object_get(md, "finalizers");
	size_t i;
	json_t *f;
	json_array_foreach(fin, i, f) if (json_is_string(f) &&
					  !strcmp(json_string_value(f), API_FOREGROUND)) return 1;
	json_t *obj = json_deep_copy(o->obj);
	json_t *nmd = api_meta_of(obj);
	if (!json_object_get(nmd, "deletionTimestamp")) {
		char ts[32];
		api_timestamp(ts);
		json_object_set_new(nmd, "deletionTimestamp", json_string(ts));
	}
	json_t *nfin = json_object_get(nmd, "finalizers");
	if (!json_is_array(nfin)) {
		nfin = json_array();
		json_object_set_new(nmd, "finalizers", nfin);
	}
	json_array_append_new(nfin, json_string(API_FOREGROUND));
	int64_t rv = store_txn_put(tx, o->kind, o->ns, o->name, obj, false, e);
	return rv < 0 ? (int)rv : 1;
}

static int foreground_tree(struct store_txn *tx, struct sobj *o, int grace, int depth,
			   struct err **e)
{
	const char *uid = api_jstr(json_object_get(o->obj, "metadata"), "uid");
	struct sobj **deps = NULL;
	size_t n = uid && depth < 16 ? store_txn_dependents(tx, uid, &deps) : 0;
	int count = 0, r = 0;
	for (size_t i = 0; i < n && r >= 0; i++)
		count += (r = foreground_tree(tx, deps[i], grace, depth + 1, e)) > 0 ? r : 0;
	sobj_list_free(deps, n);
	if (r < 0)
		return r;
	struct sobj *still = store_txn_get(tx, o->kind, o->ns, o->name);
	if (!still)
		return count; /* reached twice through two owners */
	n = uid ? store_txn_dependents(tx, uid, &deps) : 0;
	sobj_list_free(deps, n);
	r = n ? mark_foreground(tx, still, e) : api_delete_tree(tx, still, grace, depth, e);
	sobj_unref(still);
	return r < 0 ? r : count + r;
}

static int foreground_txn(struct store_txn *tx, void *varg, struct err **e)
{
	struct orphan_arg *d = varg;
	struct sobj *o = store_txn_get(tx, d->k->kind, api_scope_ns(d->k, d->ns), d->name);
	if (!o)
		return err_make(e, ENOENT, "%s \"%s\" not found", d->k->kind, d->name);
	int r = foreground_tree(tx, o, d->grace, 0, e);
	sobj_unref(o);
	return r;
}

int api_delete_foreground(struct api *a, const struct kind_info *k, const char *ns,
			  const char *name, int grace, struct err **e)
{
	if (k == KIND_NAMESPACE)
		return api_delete_opts(a, k, ns, name, grace, e);
	struct orphan_arg d = {k, ns, name, grace};
	int r = api_check(a, "delete", k, ns, name, NULL, e);
	return r < 0 ? r : store_update(a->st, foreground_txn, &d, e);
}

int api_refused(struct api *a, const char *face_path, int err, const char *msg)
{
	char ts[32];
	api_timestamp(ts);
	const char *ename = strerrorname_np(err);
	char *line = xasprintf("%s %s: %s: %s", ts, face_path, ename ? ename : "E?", msg);
	/* One line per refusal: a message's newlines become spaces. */
	for (char *c = line; *c; c++)
		if (*c == '\n')
			*c = ' ';
	struct err *e = NULL;
	int r = api_refusal_record(a, line, &e);
	if (r < 0) {
		log_warn("api", "keeping a refused write (%s): %s", line, e ? e->msg : "?");
		api_refusal_unkept_add(a, line); /* this server's errors log shows it */
	} else {
		log_info("api", "refused %s", line + strlen(ts) + 1);
	}
	err_free(e);
	free(line);
	return r;
}

size_t api_refusals_since(struct api *a, const char *after, char ***out, char last[24])
{
	struct sobj **v;
	size_t n = store_list(a->st, API_REFUSAL_KIND, "", &v), m = 0;
	char **lines = xcalloc(n ? n : 1, sizeof(*lines));
	for (size_t i = 0; i < n; i++) {
		if (after && strcmp(v[i]->name, after) <= 0)
			continue;
		const char *s = json_string_value(json_object_get(v[i]->obj, "line"));
		if (s)
			lines[m++] = xstrdup(s);
		snprintf(last, 24, "%s", v[i]->name);
	}
	sobj_list_free(v, n);
	*out = lines;
	return m;
}
