/*
 * api.c - validation, defaulting, server metadata, concurrency checks and
 * cascading deletes on top of the store.  See api.h.
 *
 * Every public call is one store_update(): the check and the write happen
 * in the same transaction, so two writers can never both pass a check that
 * only one of them should.
 */
#include "engine/api/api.h"
#include "engine/api/api_int.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <uuid/uuid.h>

#include "engine/log.h"
#include "engine/mem.h"
#include "engine/valid/valid.h"

/* Small helpers */

void api_timestamp(char out[32])
{
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * A random (version 4) UUID.  The random bytes come from the kernel
 * (getrandom) 4 KiB at a time, kept per thread: libuuid asked for 16
 * bytes a call and mixed them with its own generator, about 9,000
 * instructions and a system call for each pod and each Event.  A forked
 * child drops what it inherited (it would repeat its parent's).
 */
static __thread unsigned char uid_pool[4096];
static __thread size_t uid_left;
static pthread_once_t uid_once = PTHREAD_ONCE_INIT;

static void uid_forked(void)
{
	uid_left = 0;
}

static void uid_init(void)
{
	pthread_atfork(NULL, NULL, uid_forked);
}

void api_new_uid(char out[37])
{
	pthread_once(&uid_once, uid_init);
	if (uid_left < 16) {
		if (getrandom(uid_pool, sizeof(uid_pool), 0) != (ssize_t)sizeof(uid_pool)) {
			uuid_t u;
			uuid_generate(u);
			uuid_unparse_lower(u, out);
			return;
		}
		uid_left = sizeof(uid_pool);
	}
	unsigned char *u = uid_pool + sizeof(uid_pool) - uid_left;
	uid_left -= 16;
	u[6] = (unsigned char)((u[6] & 0x0f) | 0x40); /* version 4 */
	u[8] = (unsigned char)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	uuid_unparse_lower(u, out);
}

const char *api_jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

json_t *api_meta_of(json_t *obj)
{
	json_t *m = json_object_get(obj, "metadata");
	if (!json_is_object(m)) {
		m = json_object();
		json_object_set_new(obj, "metadata", m);
	}
	return m;
}

const char *api_obj_name(const json_t *obj)
{
	return api_jstr(json_object_get(obj, "metadata"), "name");
}

const char *api_obj_ns(const json_t *obj)
{
	return api_jstr(json_object_get(obj, "metadata"), "namespace");
}

/* Compares two objects ignoring metadata and status: does the spec differ? */
static bool spec_differs(const json_t *a, const json_t *b)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)a, key, v)
	{
		if (!strcmp(key, "metadata") || !strcmp(key, "status"))
			continue;
		if (!json_equal(v, json_object_get(b, key)))
			return true;
	}
	json_object_foreach((json_t *)b, key, v)
	{
		if (!strcmp(key, "metadata") || !strcmp(key, "status"))
			continue;
		if (!json_object_get(a, key))
			return true;
	}
	return false;
}

/* Puts apiVersion, kind, metadata first and status last, as kubectl shows. */
static json_t *canonical_order(json_t *obj)
{
	static const char *const first[] = {"apiVersion", "kind", "metadata"};
	json_t *out = json_object();
	for (size_t i = 0; i < 3; i++) {
		json_t *v = json_object_get(obj, first[i]);
		if (v)
			json_object_set(out, first[i], v);
	}
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v)
	{
		if (!json_object_get(out, key) && strcmp(key, "status"))
			json_object_set(out, key, v);
	}
	v = json_object_get(obj, "status");
	if (v)
		json_object_set(out, "status", v);
	json_decref(obj);
	return out;
}

const char *api_scope_ns(const struct kind_info *k, const char *ns)
{
	return k->namespaced ? ns : "";
}

/* Preparing user documents (no store access) */

struct prepared {
	const struct kind_info *k;
	json_t *obj; /* defaulted, validated */
	char *ns;    /* "" for cluster-scoped */
	char *name;
	int64_t want_rv; /* metadata.resourceVersion the user carried, or 0 */
	char *want_uid;
	char *warning; /* Pod Security's warn mode, once written (api_psa.c) */
};

static void prepared_free(struct prepared *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		json_decref(p[i].obj);
		free(p[i].ns);
		free(p[i].name);
		free(p[i].want_uid);
		free(p[i].warning);
	}
	free(p);
}

/*
 * The kind of a user's document: its own "kind" (which must agree with the
 * target's folder, if any), else the folder's, filled in.  Fills in a
 * missing apiVersion.  Returns 0 with *out, or -EINVAL.
 */
static int prepare_kind(json_t *obj, const struct api_target *t, const struct kind_info **out,
			struct err **e)
{
	const struct kind_info *want = t ? t->kind : NULL, *k;
	const char *kind = api_jstr(obj, "kind");
	if (kind) {
		k = kind_by_kind(kind);
		if (want && k != want)
			return err_make(e, EINVAL, "kind %s does not belong in %s/ (want %s)", kind,
					want->plural, want->kind);
		if (!k)
			return err_make(e, EINVAL, "unknown kind \"%s\"", kind);
	} else if (want && !json_object_get(obj, "kind")) {
		k = want;
		json_object_set_new(obj, "kind", json_string(k->kind));
	} else {
		return err_make(e, EINVAL, "the manifest has no kind");
	}
	if (!k->in_fs && k != KIND_EVENT)
		return err_make(e, EINVAL, "kind %s cannot be written", k->kind);
	if (!json_object_get(obj, "apiVersion"))
		json_object_set_new(obj, "apiVersion", json_string(k->api_version));
	*out = k;
	return 0;
}

/* metadata.name: a string, the target's name when it has one (filled in
 * when missing).  md is obj's metadata. */
static int prepare_name(json_t *md, const struct kind_info *k, const struct api_target *t,
			struct err **e)
{
	json_t *jname = json_object_get(md, "name");
	if (jname && !json_is_string(jname))
		return err_make(e, EINVAL, "%s: metadata.name must be a string", k->kind);
	if (!t || !t->name)
		return 0;
	if (!jname)
		json_object_set_new(md, "name", json_string(t->name));
	else if (strcmp(json_string_value(jname), t->name))
		return err_make(e, EINVAL,
				"%s \"%s\": metadata.name does not match the file name \"%s\"",
				k->kind, json_string_value(jname), t->name);
	return 0;
}

/* metadata.namespace: for a namespaced kind, the target's namespace (or
 * "default") when missing, and no other than the target's; for a
 * cluster-scoped one, none (an empty one is dropped). */
static int prepare_namespace(json_t *obj, json_t *md, const struct kind_info *k,
			     const struct api_target *t, struct err **e)
{
	json_t *jns = json_object_get(md, "namespace");
	if (jns && !json_is_string(jns))
		return err_make(e, EINVAL, "%s: metadata.namespace must be a string", k->kind);
	const char *ns = jns ? json_string_value(jns) : NULL;
	const char *name = api_obj_name(obj) ? api_obj_name(obj) : "";
	if (k->namespaced) {
		if (t && t->ns && ns && *ns && strcmp(ns, t->ns))
			return err_make(e, EINVAL,
					"%s \"%s\": metadata.namespace \"%s\" does not match the "
					"folder's namespace \"%s\"",
					k->kind, name, ns, t->ns);
		if (!ns || !*ns)
			json_object_set_new(md, "namespace",
					    json_string(t && t->ns ? t->ns : "default"));
	} else if (ns && *ns) {
		return err_make(e, EINVAL,
				"%s \"%s\": is not namespaced, but metadata.namespace is \"%s\"",
				k->kind, name, ns);
	} else if (ns) {
		json_object_del(md, "namespace");
	}
	return 0;
}

/* Keeps in p what the user carried from an earlier read, for the conflict
 * check (resourceVersion, uid), then drops the server-owned fields, which
 * are never taken from the user. */
static int prepare_server_fields(json_t *obj, json_t *md, const struct kind_info *k,
				 struct prepared *p, struct err **e)
{
	static const char *const server_fields[] = {
	    "uid",	  "resourceVersion",   "creationTimestamp",
	    "generation", "deletionTimestamp", "managedFields",
	    "selfLink"};
	p->want_rv = 0;
	p->want_uid = NULL;
	json_t *jrv = json_object_get(md, "resourceVersion");
	if (jrv) {
		const char *s = json_string_value(jrv);
		char *end = NULL;
		long long rv = s ? strtoll(s, &end, 10) : json_integer_value(jrv);
		if ((s && (!*s || *end)) || (!s && !json_is_integer(jrv)) || rv <= 0)
			return err_make(e, EINVAL, "%s: metadata.resourceVersion: Invalid value",
					k->kind);
		p->want_rv = rv;
	}
	if (json_is_string(json_object_get(md, "uid")))
		p->want_uid = xstrdup(api_jstr(md, "uid"));
	for (size_t i = 0; i < sizeof(server_fields) / sizeof(server_fields[0]); i++)
		json_object_del(md, server_fields[i]);
	json_object_del(obj, "status");
	return 0;
}

/* The steps of prepare on obj (a copy it owns): kind, metadata, server
 * fields, defaults and validation.  Returns 0 with *out, or -errno. */
static int prepare_steps(json_t *obj, const struct api_target *t, struct prepared *p,
			 const struct kind_info **out, struct err **e)
{
	const struct kind_info *k = NULL;
	int r = prepare_kind(obj, t, &k, e);
	if (r < 0)
		return r;
	json_t *md = json_object_get(obj, "metadata");
	if (md && !json_is_object(md))
		return err_make(e, EINVAL, "%s: metadata must be a mapping", k->kind);
	md = api_meta_of(obj);
	r = prepare_name(md, k, t, e);
	if (r == 0)
		r = prepare_namespace(obj, md, k, t, e);
	if (r == 0)
		r = prepare_server_fields(obj, md, k, p, e);
	if (r < 0)
		return r;
	valid_default(obj, k);
	r = valid_object(obj, k, e);
	if (r < 0) {
		free(p->want_uid);
		p->want_uid = NULL;
		return r;
	}
	*out = k;
	return 0;
}

/*
 * Turns a user's document into what would be stored: fills kind, name and
 * namespace from the target, checks they agree, drops server-owned fields,
 * defaults and validates.
 */
static int prepare(const json_t *doc, const struct api_target *t, struct prepared *p,
		   struct err **e)
{
	if (!json_is_object(doc))
		return err_make(e, EINVAL, "a manifest must be a mapping (got a %s)",
				json_is_array(doc) ? "sequence" : "scalar");
	json_t *obj = json_deep_copy(doc);
	const struct kind_info *k = NULL;
	int r = prepare_steps(obj, t, p, &k, e);
	if (r < 0) {
		json_decref(obj);
		return r;
	}
	p->k = k;
	p->obj = obj;
	p->name = xstrdup(api_obj_name(obj));
	p->ns = xstrdup(api_scope_ns(k, api_obj_ns(obj) ? api_obj_ns(obj) : ""));
	return 0;
}

/* Writing prepared objects inside a transaction */

int api_check_namespace(struct store_txn *tx, const struct kind_info *k, const char *ns,
			const char *name, struct err **e)
{
	if (!k->namespaced)
		return 0;
	struct sobj *n = store_txn_get(tx, "Namespace", "", ns);
	if (!n)
		return err_make(e, ENOENT, "%s \"%s\": namespace \"%s\" not found", k->kind, name,
				ns);
	bool terminating =
	    json_object_get(json_object_get(n->obj, "metadata"), "deletionTimestamp");
	sobj_unref(n);
	if (terminating)
		return err_make(
		    e, EPERM,
		    "%s \"%s\": unable to create new content in namespace \"%s\" because it "
		    "is being terminated",
		    k->kind, name, ns);
	return 0;
}

/* Sets server metadata on a new object and writes it. */
/*
 * Admission for a new Pod, as Kubernetes' DefaultTolerationSeconds plugin
 * does: tolerate not-ready and unreachable nodes (NoExecute) for
 * a->default_toleration_s seconds unless the pod says otherwise.
 */
static void admit_pod(const struct api *a, json_t *pod)
{
	json_t *spec = json_object_get(pod, "spec");
	if (!json_is_object(spec))
		return;
	json_t *tol = json_object_get(spec, "tolerations");
	if (!json_is_array(tol)) {
		tol = json_array();
		json_object_set_new(spec, "tolerations", tol);
	}
	static const char *const keys[] = {"node.kubernetes.io/not-ready",
					   "node.kubernetes.io/unreachable"};
	for (size_t k = 0; k < 2; k++) {
		bool have = false;
		size_t i;
		json_t *t;
		json_array_foreach(tol, i, t)
		{
			const char *key = api_jstr(t, "key"), *eff = api_jstr(t, "effect");
			if ((key && !strcmp(key, keys[k]) &&
			     (!eff || !*eff || !strcmp(eff, "NoExecute"))) ||
			    (!key && json_is_string(json_object_get(t, "operator")) &&
			     !strcmp(api_jstr(t, "operator"), "Exists")))
				have = true;
		}
		if (!have)
			json_array_append_new(tol, json_pack("{s:s, s:s, s:s, s:I}", "key", keys[k],
							     "operator", "Exists", "effect",
							     "NoExecute", "tolerationSeconds",
							     (json_int_t)a->default_toleration_s));
	}
}

json_t *api_new_fill(const struct api *a, const struct kind_info *k, json_t *obj, bool keep_status)
{
	json_t *md = api_meta_of(obj);
	char uid[37], ts[32];
	api_new_uid(uid);
	api_timestamp(ts);
	json_object_set_new(md, "uid", json_string(uid));
	json_object_set_new(md, "creationTimestamp", json_string(ts));
	json_object_set_new(md, "generation", json_integer(1));
	if (!keep_status)
		json_object_del(obj, "status");
	if (k == KIND_POD && a)
		admit_pod(a, obj);
	if ((k == KIND_NAMESPACE || k == KIND_POD) &&
	    !json_is_object(json_object_get(obj, "status"))) {
		json_t *st = json_object();
		json_object_set_new(st, "phase",
				    json_string(k == KIND_NAMESPACE ? "Active" : "Pending"));
		json_object_set_new(obj, "status", st);
	}
	return canonical_order(obj);
}

int64_t api_put_filled(struct store_txn *tx, const struct api *a, const struct kind_info *k,
		       json_t *obj, bool admitted, struct err **e)
{
	if (!admitted && (k == KIND_SERVICE || k == KIND_POD || k == KIND_NAMESPACE)) {
		int r = k == KIND_SERVICE ? api_admit_service(tx, a, NULL, obj, e)
					  : api_psa_admit(tx, a, k, NULL, obj, e);
		if (r < 0) {
			json_decref(obj);
			return r;
		}
	}
	const char *ns = api_scope_ns(k, api_obj_ns(obj) ? api_obj_ns(obj) : "");
	char *name = xstrdup(api_obj_name(obj));
	char *nsd = xstrdup(ns);
	int64_t rv = store_txn_put(tx, k->kind, nsd, name, obj, true, e);
	free(name);
	free(nsd);
	return rv;
}

int64_t api_put_new(struct store_txn *tx, const struct api *a, const struct kind_info *k,
		    json_t *obj, bool keep_status, struct err **e)
{
	return api_put_filled(tx, a, k, api_new_fill(a, k, obj, keep_status), false, e);
}

/*
 * Writes new (owned) as the next state of old, a user change: keeps server
 * metadata and status, bumps generation when the spec changed.  Returns 1 if
 * written, 0 if nothing changed.
 */
int api_put_update(struct store_txn *tx, const struct api *a, const struct kind_info *k,
		   struct sobj *old, json_t *new, struct err **e)
{
	/* Fields the server set that a user's manifest may not carry. */
	static const char *const carried[][2] = {{"Pod", "nodeName"},
						 {"Service", "clusterIP"},
						 {"Service", "clusterIPs"},
						 {"Node", "podCIDR"},
						 {"Node", "podCIDRs"}};
	for (size_t i = 0; i < sizeof(carried) / sizeof(carried[0]); i++) {
		json_t *ospec = json_object_get(old->obj, "spec"),
		       *nspec = json_object_get(new, "spec");
		json_t *v = json_object_get(ospec, carried[i][1]);
		json_t *nv = json_object_get(nspec, carried[i][1]);
		if (!strcmp(k->kind, carried[i][0]) && v && json_is_object(nspec) &&
		    (!nv || (json_is_string(nv) && !*json_string_value(nv))))
			json_object_set(nspec, carried[i][1], v);
	}
	/* Annotations the controllers keep (deployment.kubernetes.io/...) survive
	 * a user's manifest that does not carry them, as kubectl apply's merge
	 * would keep them. */
	json_t *oann = json_object_get(json_object_get(old->obj, "metadata"), "annotations");
	const char *akey;
	json_t *aval;
	json_object_foreach(oann, akey, aval)
	{
		if (strncmp(akey, "deployment.kubernetes.io/", 25))
			continue;
		json_t *nmd = api_meta_of(new);
		json_t *nann = json_object_get(nmd, "annotations");
		if (!json_is_object(nann)) {
			nann = json_object();
			json_object_set_new(nmd, "annotations", nann);
		}
		if (!json_object_get(nann, akey))
			json_object_set(nann, akey, aval);
	}
	int r = valid_update(old->obj, new, k, e);
	if (r >= 0 && k == KIND_SERVICE)
		r = api_admit_service(tx, a, old, new, e);
	if (r >= 0)
		r = api_psa_admit(tx, a, k, old->obj, new, e);
	if (r < 0) {
		json_decref(new);
		return r;
	}
	json_t *omd = json_object_get(old->obj, "metadata");
	json_t *md = api_meta_of(new);
	static const char *const keep[] = {"uid", "creationTimestamp", "deletionTimestamp"};
	for (size_t i = 0; i < 3; i++) {
		json_t *v = json_object_get(omd, keep[i]);
		if (v)
			json_object_set(md, keep[i], v);
		else
			json_object_del(md, keep[i]);
	}
	/* Field ownership (server-side apply) survives a write that does not
	 * manage it, as a filesystem write or a client-side apply. */
	json_t *mf = json_object_get(omd, "managedFields");
	if (mf && !json_object_get(md, "managedFields"))
		json_object_set(md, "managedFields", mf);
	int64_t gen = json_integer_value(json_object_get(omd, "generation"));
	if (gen <= 0)
		gen = 1;
	if (spec_differs(old->obj, new))
		gen++;
	json_object_set_new(md, "generation", json_integer(gen));
	json_object_set(md, "resourceVersion", json_object_get(omd, "resourceVersion"));
	json_t *st = json_object_get(old->obj, "status");
	if (st)
		json_object_set(new, "status", st);
	else
		json_object_del(new, "status");
	new = canonical_order(new);
	if (json_equal(new, old->obj)) {
		json_decref(new);
		return 0;
	}
	int64_t rv = store_txn_put(tx, old->kind, old->ns, old->name, new, true, e);
	return rv < 0 ? (int)rv : 1;
}

static int apply_one(struct store_txn *tx, struct api *a, struct prepared *p, struct err **e)
{
	struct sobj *old = store_txn_get(tx, p->k->kind, p->ns, p->name);
	free(p->warning);
	p->warning = api_psa_warning(tx, a, p->k, old ? old->obj : NULL, p->obj);
	if (!old) {
		int r = api_check_namespace(tx, p->k, p->ns, p->name, e);
		if (r < 0)
			return r;
		int64_t rv = api_put_new(tx, a, p->k, json_deep_copy(p->obj), false, e);
		return rv < 0 ? (int)rv : 1;
	}
	int r;
	if (p->want_uid &&
	    strcmp(p->want_uid, api_jstr(json_object_get(old->obj, "metadata"), "uid"))) {
		r = err_make(e, EBUSY,
			     "%s \"%s\": conflict: the object was deleted and created again since "
			     "you read it; read it again and reapply",
			     p->k->kind, p->name);
	} else if (p->want_rv && p->want_rv != old->rv &&
		   (p->want_rv < old->user_rv || p->want_rv > old->rv)) {
		r = err_make(
		    e, EBUSY,
		    "%s \"%s\": conflict: the object has been modified (resourceVersion %" PRId64
		    " is older than its last change at %" PRId64 "); read it again and reapply",
		    p->k->kind, p->name, p->want_rv, old->user_rv);
	} else {
		r = api_put_update(tx, a, p->k, old, json_deep_copy(p->obj), e);
	}
	sobj_unref(old);
	return r;
}

struct apply_arg {
	struct api *api;
	struct prepared *p;
	size_t n;
};

static int describe(struct err **e, size_t n, size_t i, const struct prepared *p)
{
	if (n <= 1)
		return e && *e ? -(*e)->code : -EIO;
	if (p && p->k)
		return err_wrap(e, "document %zu (%s %s%s%s)", i + 1, p->k->kind, p->ns,
				*p->ns ? "/" : "", p->name);
	return err_wrap(e, "document %zu", i + 1);
}

static int apply_txn(struct store_txn *tx, void *varg, struct err **e)
{
	struct apply_arg *a = varg;
	int changed = 0;
	for (size_t i = 0; i < a->n; i++) {
		int r = apply_one(tx, a->api, &a->p[i], e);
		if (r < 0)
			return describe(e, a->n, i, &a->p[i]);
		changed += r;
	}
	return changed;
}

int api_apply(struct api *a, json_t *const *docs, size_t ndocs, const struct api_target *t,
	      struct err **e)
{
	if (ndocs == 0)
		return err_make(e, EINVAL, "the manifest is empty");
	struct prepared *p = xcalloc(ndocs, sizeof(*p));
	for (size_t i = 0; i < ndocs; i++) {
		int r = prepare(docs[i], t, &p[i], e);
		if (r < 0) {
			describe(e, ndocs, i, NULL);
			prepared_free(p, ndocs);
			return r;
		}
	}
	for (size_t i = 0; a->who && i < ndocs; i++) {
		struct sobj *o = store_get(a->st, p[i].k->kind, p[i].ns, p[i].name);
		int r = api_check(a, o ? "update" : "create", p[i].k, p[i].ns, p[i].name, NULL, e);
		sobj_unref(o);
		if (r < 0) {
			prepared_free(p, ndocs);
			return r;
		}
	}
	struct apply_arg arg = {a, p, ndocs};
	int r = store_update(a->st, apply_txn, &arg, e);
	for (size_t i = 0; r >= 0 && i < ndocs; i++) {
		api_psa_emit(a, p[i].k, p[i].ns, p[i].name, p[i].warning);
		p[i].warning = NULL;
	}
	prepared_free(p, ndocs);
	return r;
}

/* Create (for components: status kept as given) */

struct create_arg {
	struct api *api;
	const struct kind_info *k;
	json_t *obj;
	struct sobj *out;
	char *warning;
};

static int create_txn(struct store_txn *tx, void *varg, struct err **e)
{
	struct create_arg *c = varg;
	sobj_unref(STEAL_POINTER(&c->out)); /* from an earlier run (etcd) */
	const char *ns = api_scope_ns(c->k, api_obj_ns(c->obj) ? api_obj_ns(c->obj) : "");
	const char *name = api_obj_name(c->obj);
	struct sobj *old = store_txn_get(tx, c->k->kind, ns, name);
	if (old) {
		sobj_unref(old);
		return err_make(e, EEXIST, "%s \"%s\" already exists", c->k->kind, name);
	}
	int r = api_check_namespace(tx, c->k, ns, name, e);
	if (r < 0)
		return r;
	free(c->warning);
	c->warning = api_psa_warning(tx, c->api, c->k, NULL, c->obj);
	int64_t rv = api_put_new(tx, c->api, c->k, json_deep_copy(c->obj), true, e);
	if (rv < 0)
		return (int)rv;
	c->out = store_txn_get(tx, c->k->kind, ns, name);
	return 0;
}

int api_create(struct api *a, const json_t *obj, struct sobj **out, struct err **e)
{
	struct prepared p = {0};
	json_t *status = json_object_get(obj, "status");
	int r = prepare(obj, NULL, &p, e);
	if (r < 0)
		return r;
	if (status)
		json_object_set(p.obj, "status", status);
	struct create_arg c = {a, p.k, p.obj, NULL, NULL};
	r = api_check(a, "create", p.k, p.ns, p.name, NULL, e);
	if (r == 0)
		r = store_update(a->st, create_txn, &c, e);
	if (r >= 0)
		api_psa_emit(a, p.k, p.ns, p.name, c.warning);
	else
		free(c.warning);
	json_decref(p.obj);
	free(p.ns);
	free(p.name);
	free(p.want_uid);
	if (r >= 0 && out)
		*out = c.out;
	else
		sobj_unref(c.out);
	return r < 0 ? r : 0;
}

/* Patch: read-modify-write of the user's intent */

struct patch_arg {
	struct api *api;
	const struct kind_info *k;
	const char *ns, *name;
	api_mutate_fn mutate;
	void *arg;
};

static int patch_txn(struct store_txn *tx, void *varg, struct err **e)
{
	struct patch_arg *pa = varg;
	struct sobj *old = store_txn_get(tx, pa->k->kind, api_scope_ns(pa->k, pa->ns), pa->name);
	if (!old)
		return err_make(e, ENOENT, "%s \"%s\" not found", pa->k->kind, pa->name);
	json_t *obj = json_deep_copy(old->obj);
	int r = pa->mutate(obj, pa->arg, e);
	if (r >= 0) {
		valid_default(obj, pa->k);
		r = valid_object(obj, pa->k, e);
	}
	if (r < 0) {
		json_decref(obj);
		sobj_unref(old);
		return r;
	}
	r = api_put_update(tx, pa->api, pa->k, old, obj, e);
	sobj_unref(old);
	return r;
}

int api_patch(struct api *a, const struct kind_info *k, const char *ns, const char *name,
	      api_mutate_fn mutate, void *arg, struct err **e)
{
	struct patch_arg pa = {a, k, ns, name, mutate, arg};
	int r = api_check(a, "patch", k, ns, name, NULL, e);
	return r < 0 ? r : store_update(a->st, patch_txn, &pa, e);
}

/* Status */

struct status_arg {
	const struct kind_info *k;
	const char *ns, *name;
	const json_t *status;
};

static int status_txn(struct store_txn *tx, void *varg, struct err **e)
{
	struct status_arg *sa = varg;
	struct sobj *old = store_txn_get(tx, sa->k->kind, api_scope_ns(sa->k, sa->ns), sa->name);
	if (!old)
		return err_make(e, ENOENT, "%s \"%s\" not found", sa->k->kind, sa->name);
	if (json_equal(json_object_get(old->obj, "status"), (json_t *)sa->status)) {
		sobj_unref(old);
		return 0;
	}
	json_t *obj = json_deep_copy(old->obj);
	json_object_set_new(obj, "status", json_deep_copy(sa->status));
	int64_t rv = store_txn_put(tx, old->kind, old->ns, old->name, obj, false, e);
	sobj_unref(old);
	return rv < 0 ? (int)rv : 1;
}

int api_update_status(struct api *a, const struct kind_info *k, const char *ns, const char *name,
		      const json_t *status, struct err **e)
{
	if (!json_is_object(status))
		return err_make(e, EINVAL, "%s \"%s\": status must be a mapping", k->kind, name);
	struct status_arg sa = {k, ns, name, status};
	int r = api_check(a, "update", k, ns, name, "status", e);
	return r < 0 ? r : store_update(a->st, status_txn, &sa, e);
}

/* Annotations by controllers */

struct annotate_arg {
	const struct kind_info *k;
	const char *ns, *name, *key, *value;
};

static int annotate_txn(struct store_txn *tx, void *varg, struct err **e)
{
	struct annotate_arg *aa = varg;
	struct sobj *old = store_txn_get(tx, aa->k->kind, api_scope_ns(aa->k, aa->ns), aa->name);
	if (!old)
		return err_make(e, ENOENT, "%s \"%s\" not found", aa->k->kind, aa->name);
	json_t *ann = json_object_get(json_object_get(old->obj, "metadata"), "annotations");
	const char *have = api_jstr(ann, aa->key);
	if ((!have && !aa->value) || (have && aa->value && !strcmp(have, aa->value))) {
		sobj_unref(old);
		return 0;
	}
	json_t *obj = json_deep_copy(old->obj);
	json_t *md = api_meta_of(obj);
	json_t *nann = json_object_get(md, "annotations");
	if (!json_is_object(nann)) {
		nann = json_object();
		json_object_set_new(md, "annotations", nann);
	}
	if (aa->value)
		json_object_set_new(nann, aa->key, json_string(aa->value));
	else
		json_object_del(nann, aa->key);
	int64_t rv = store_txn_put(tx, old->kind, old->ns, old->name, obj, false, e);
	sobj_unref(old);
	return rv < 0 ? (int)rv : 1;
}

int api_annotate(struct api *a, const struct kind_info *k, const char *ns, const char *name,
		 const char *key, const char *value, struct err **e)
{
	struct annotate_arg aa = {k, ns, name, key, value};
	int r = api_check(a, "patch", k, ns, name, NULL, e);
	return r < 0 ? r : store_update(a->st, annotate_txn, &aa, e);
}

/* Reads */

struct sobj *api_get(struct api *a, const struct kind_info *k, const char *ns, const char *name)
{
	if (api_check(a, "get", k, ns, name, NULL, NULL) < 0) {
		errno = EACCES;
		return NULL;
	}
	return store_get(a->st, k->kind, api_scope_ns(k, ns ? ns : ""), name);
}

size_t api_dependents(struct api *a, const char *uid, struct sobj ***out)
{
	return store_dependents_any(a->st, uid, out);
}

/* Lifecycle */

/* The namespaces that exist from the start: default, and kube-node-lease
 * (the nodes' heartbeat Leases), made again at each start if deleted. */
static int ensure_default_txn(struct store_txn *tx, void *arg, struct err **e)
{
	static const char *const names[] = {"default", NODE_LEASE_NS};
	int made = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		struct sobj *o = store_txn_get(tx, "Namespace", "", names[i]);
		if (o) {
			sobj_unref(o);
			continue;
		}
		json_t *ns = json_pack("{s:s, s:s, s:{s:s, s:{s:s}}, s:{s:[s]}}", "apiVersion",
				       "v1", "kind", "Namespace", "metadata", "name", names[i],
				       "labels", "kubernetes.io/metadata.name", names[i], "spec",
				       "finalizers", "kubernetes");
		int64_t rv = api_put_new(tx, NULL, KIND_NAMESPACE, ns, false, e);
		if (rv < 0)
			return (int)rv;
		made++;
	}
	return made;
}

int api_new(struct store *st, struct api **out, struct err **e)
{
	struct api *a = xcalloc(1, sizeof(*a));
	a->st = st;
	a->root = a;
	a->default_toleration_s = 300;
	a->psa_default = (struct psa_policy){PSA_BASELINE, PSA_LATEST};
	svc_cidr_parse(SVC_DEFAULT_CIDR, &a->svc_cidr, NULL);
	int r = store_update(st, ensure_default_txn, NULL, e);
	if (r < 0) {
		free(a);
		return err_wrap(e, "creating namespaces default and kube-node-lease");
	}
	r = api_events_start(a, e);
	if (r < 0) {
		free(a);
		return r;
	}
	api_metrics_init(a);
	*out = a;
	return 0;
}

void api_free(struct api *a)
{
	if (!a)
		return;
	if (a->root != a) {
		api_view_free(a);
		return;
	}
	api_events_stop(a);
	free(a->leader);
	api_refusals_unkept_free(a);
	api_metrics_free(a);
	free(a);
}

int api_watch(struct api *a, int64_t after, struct store_event *evs, size_t max, int timeout_ms,
	      struct err **e)
{
	return store_watch(a->st, after, evs, max, timeout_ms, e);
}

int api_count(struct api *a, const struct kind_info *k, size_t cls[OBJ_CLASSES], struct err **e)
{
	if (api_caller_is_root(a))
		return (int)store_count(a->st, k->kind, cls);
	struct sobj **l;
	int n = api_list(a, k, NULL, NULL, &l, e);
	if (n < 0)
		return n;
	if (cls) {
		memset(cls, 0, OBJ_CLASSES * sizeof(*cls));
		for (int i = 0; i < n; i++)
			cls[obj_class(l[i]->kind, l[i]->obj)]++;
	}
	if (n > 0)
		sobj_list_free(l, (size_t)n);
	return n;
}

int64_t api_rev(struct api *a)
{
	return store_rev(a->st);
}

void api_set_default_toleration(struct api *a, int seconds)
{
	a->default_toleration_s = seconds;
}
