/*
 * patch.c - PATCH of an object, of its status and of its scale, with the
 * four patch types Kubernetes serves, chosen by Content-Type:
 *
 *     application/merge-patch+json           RFC 7386
 *     application/json-patch+json            RFC 6902
 *     application/strategic-merge-patch+json Kubernetes' strategic merge
 *     application/apply-patch+yaml           server-side apply (fieldManager=
 *                                            required, force=true|false)
 *
 * anything else is 415.  The algorithms are engine/valid/patch.h's; this
 * file decodes, routes and answers.  The patch is applied inside the
 * store transaction that writes the result (api_patch_ex), so nothing can
 * change the object in between and no retry is needed; a patch carrying
 * metadata.resourceVersion is a precondition (409 when the object is at
 * another revision).  The main resource ignores status; the status
 * subresource writes only status; the scale subresource patches an
 * autoscaling/v1 Scale made from the object and writes its spec.replicas.
 * Server-side apply of a missing object creates it (201).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "engine/api/api_patch.h"
#include "engine/mem.h"
#include "engine/valid/hpa.h"
#include "engine/valid/codec.h"
#include "engine/valid/patch.h"
#include "engine/valid/schema.h"
#include "http/http_int.h"
#include "http/status.h"
#include "http/write.h"

enum ptype { P_MERGE, P_JSON, P_STRATEGIC, P_APPLY };

struct pctx {
	struct http_req *rq;
	const struct route *rt;
	enum ptype type;
	json_t *patch;
	struct patch_apply_opts ssa;
	json_t *conflicts; /* server-side apply conflicts */
	bool scale;
	bool alt; /* the route's version is not the stored one (http_alt_version) */
	const struct sch_def *def;   /* what is patched: the kind's, or a Scale's */
	struct patch_apply_opts upd; /* the manager of an update */
	char manager[128];
};

static int media_type(const char *ct, enum ptype *t)
{
	static const struct {
		const char *name;
		enum ptype t;
	} types[] = {
	    {"application/merge-patch+json", P_MERGE},
	    {"application/json-patch+json", P_JSON},
	    {"application/strategic-merge-patch+json", P_STRATEGIC},
	    {"application/apply-patch+yaml", P_APPLY},
	};
	size_t n = ct ? strcspn(ct, "; ") : 0;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (n == strlen(types[i].name) && !strncasecmp(ct, types[i].name, n)) {
			*t = types[i].t;
			return 0;
		}
	}
	return -1;
}

static int run_patch(struct pctx *c, const json_t *cur, json_t **out, struct err **e)
{
	switch (c->type) {
	case P_MERGE:
		*out = patch_merge(cur, c->patch);
		return 0;
	case P_JSON:
		return patch_json(cur, c->patch, out, e);
	case P_STRATEGIC:
		return patch_strategic(c->def, cur, c->patch, out, e);
	case P_APPLY:
		return patch_apply(cur, c->patch, &c->ssa, out, &c->conflicts, e);
	}
	return -EINVAL;
}

/* The patched object must still be the one the URL names. */
static int check_identity(const struct pctx *c, const json_t *before, const json_t *after,
			  struct err **e)
{
	json_t *bmd = json_object_get(before, "metadata"),
	       *amd = json_object_get(after, "metadata");
	const char *rv = json_string_value(json_object_get(amd, "resourceVersion"));
	const char *cur = json_string_value(json_object_get(bmd, "resourceVersion"));
	if (rv && cur && strcmp(rv, cur))
		return err_make(e, EBUSY,
				"Operation cannot be fulfilled on %s \"%s\": the object has been "
				"modified; please apply your changes to the latest version and try "
				"again",
				c->rt->kind->plural, c->rt->name);
	const char *uid = json_string_value(json_object_get(amd, "uid"));
	const char *cuid = json_string_value(json_object_get(bmd, "uid"));
	if (uid && cuid && strcmp(uid, cuid))
		return err_make(
		    e, EBUSY,
		    "Precondition failed: UID in precondition: %s, UID in object meta: %s", uid,
		    cuid);
	const char *name = json_string_value(json_object_get(amd, "name"));
	if (!json_is_object(after) || !name || strcmp(name, c->rt->name))
		return err_make(
		    e, EBADMSG,
		    "the name of the object (%s) does not match the name on the URL (%s)",
		    name ? name : "", c->rt->name);
	const char *ns = json_string_value(json_object_get(amd, "namespace"));
	if (c->rt->kind->namespaced && ns && strcmp(ns, c->rt->ns))
		return err_make(e, EBADMSG,
				"the namespace of the object (%s) does not match the namespace on "
				"the URL (%s)",
				ns, c->rt->ns);
	return 0;
}

/* An update (not an apply) takes the fields it changed (managedFields). */
static void record_update(const struct pctx *c, const json_t *before, json_t *obj)
{
	if (c->type == P_APPLY)
		return;
	json_t *mf = patch_managed_update(before, obj, &c->upd);
	json_t *md = json_object_get(obj, "metadata");
	if (json_array_size(mf))
		json_object_set_new(md, "managedFields", mf);
	else {
		json_object_del(md, "managedFields");
		json_decref(mf);
	}
}

static int mutate(json_t *obj, void *arg, struct err **e)
{
	struct pctx *c = arg;
	json_t *before = json_deep_copy(obj);
	json_t *cur = c->scale ? wr_scale_of(obj) : c->alt ? hpa_to_v1(obj) : json_incref(obj);
	json_t *res = NULL;
	int r = run_patch(c, cur, &res, e);
	if (r == 0)
		r = check_identity(c, cur, res, e);
	if (r == 0 && c->scale) {
		json_t *rep = json_object_get(json_object_get(res, "spec"), "replicas");
		if (!json_is_integer(rep) || json_integer_value(rep) < 0)
			r = err_make(e, EINVAL,
				     "Scale.autoscaling \"%s\" is invalid: spec.replicas: Invalid "
				     "value: must be greater than or equal to 0",
				     c->rt->name);
		else
			json_object_set(json_object_get(obj, "spec"), "replicas", rep);
	} else if (r == 0) {
		if (c->alt)
			hpa_to_v2(res);
		json_t *av = json_incref(json_object_get(obj, "apiVersion"));
		json_t *kind = json_incref(json_object_get(obj, "kind"));
		json_object_clear(obj);
		json_object_update(obj, res);
		json_object_set_new(obj, "apiVersion", av);
		json_object_set_new(obj, "kind", kind);
	}
	if (r == 0)
		record_update(c, before, obj);
	json_decref(before);
	json_decref(res);
	json_decref(cur);
	return r;
}

/* The error answer: conflicts of an apply get their causes. */
static void fail(struct http_resp *rs, const struct pctx *c, struct err *e)
{
	int code = e ? e->code : EIO;
	if (code == EBADMSG) {
		wr_fail(c->rq, rs, EINVAL, 400, "BadRequest", "%s", e->msg);
		return;
	}
	json_t *st = status_from_err(e, c->rt->kind, c->rt->name);
	if (code == EBUSY && c->conflicts) {
		json_t *causes = json_array();
		struct buf b = {0};
		buf_printf(&b, "Apply failed with %zu conflict%s:", json_array_size(c->conflicts),
			   json_array_size(c->conflicts) == 1 ? "" : "s");
		for (size_t i = 0; i < json_array_size(c->conflicts); i++) {
			json_t *x = json_array_get(c->conflicts, i);
			const char *f = json_string_value(json_object_get(x, "field"));
			const char *m = json_string_value(json_object_get(x, "manager"));
			char *msg = xasprintf("conflict with \"%s\"", m ? m : "");
			json_array_append_new(causes, json_pack("{s:s, s:s, s:s}", "type",
								"FieldManagerConflict", "message",
								msg, "field", f ? f : ""));
			buf_printf(&b, " %s: %s", msg, f ? f : "");
			free(msg);
		}
		json_object_set_new(st, "message", json_string(b.s));
		buf_free(&b);
		json_t *d = json_object_get(st, "details");
		if (!json_is_object(d)) {
			d = json_object();
			json_object_set_new(st, "details", d);
		}
		json_object_set_new(d, "causes", causes);
	}
	wr_refuse(c->rq, rs, code, st);
}

/* The object as answered: with apiVersion and kind (or its Scale). */
static void answer(struct http_resp *rs, const struct pctx *c, int code, struct sobj *o)
{
	json_t *j;
	if (c->scale) {
		j = wr_scale_of(o->obj);
	} else {
		j = json_deep_copy(o->obj);
		json_object_set_new(j, "apiVersion", json_string(c->rt->kind->api_version));
		json_object_set_new(j, "kind", json_string(c->rt->kind->kind));
	}
	http_resp_json(rs, code, j);
}

static int set_managed(json_t *obj, void *arg, struct err **e)
{
	(void)e;
	json_object_set(json_object_get(obj, "metadata"), "managedFields", arg);
	return 0;
}

/* Server-side apply of an object that does not exist: create it, then
 * record its managedFields (a create takes none from the user). */
static int apply_create(struct http_req *rq, struct pctx *c, struct sobj **o, struct err **e)
{
	json_t *obj = NULL;
	int r = patch_apply(NULL, c->patch, &c->ssa, &obj, NULL, e);
	if (r == 0) {
		json_t *md = json_object_get(obj, "metadata");
		json_object_set_new(md, "name", json_string(c->rt->name));
		if (c->rt->kind->namespaced)
			json_object_set_new(md, "namespace", json_string(c->rt->ns));
		json_object_set_new(obj, "apiVersion", json_string(c->rt->kind->api_version));
		json_object_set_new(obj, "kind", json_string(c->rt->kind->kind));
		r = api_create(rq->api, obj, NULL, e);
	}
	if (r == 0) {
		json_t *mf = json_object_get(json_object_get(obj, "metadata"), "managedFields");
		r = api_patch_ex(rq->api, c->rt->kind, c->rt->ns, c->rt->name, set_managed, mf, 0,
				 o, e);
	}
	json_decref(obj);
	return r;
}

static bool exists(struct api *a, const struct kind_info *k, const char *ns, const char *name)
{
	struct sobj *o = api_get(a, k, ns, name);
	sobj_unref(o);
	return o != NULL;
}

/* The write: a server-side apply of a missing object creates it; one
 * that finds it created meanwhile (or deleted meanwhile) tries again. */
static void write_patch(struct http_req *rq, struct http_resp *rs, struct pctx *c, int flags)
{
	const struct route *rt = c->rt;
	const char *ns = rt->kind->namespaced ? rt->ns : NULL;
	bool may_create = c->type == P_APPLY && !c->scale && !flags;
	for (int attempt = 0;; attempt++) {
		_cleanup_err_ struct err *e = NULL;
		struct sobj *o = NULL;
		bool create = may_create && !exists(rq->api, rt->kind, ns, rt->name);
		int r = create ? apply_create(rq, c, &o, &e)
			       : api_patch_ex(rq->api, rt->kind, ns, rt->name, mutate, c, flags, &o,
					      &e);
		if (attempt < 3 && may_create && r == (create ? -EEXIST : -ENOENT))
			continue;
		if (r < 0)
			fail(rs, c, e);
		else
			answer(rs, c, create ? 201 : 200, o);
		sobj_unref(o);
		return;
	}
}

/* Decodes the body as the type says: YAML (one document) for an apply,
 * JSON otherwise.  0, or -1 with the answer set. */
static int decode(struct http_req *rq, struct http_resp *rs, struct pctx *c)
{
	if (!rq->body || !rq->body_len) {
		wr_fail(rq, rs, EINVAL, 400, "BadRequest", "the patch is empty");
		return -1;
	}
	if (c->type == P_APPLY) {
		_cleanup_err_ struct err *e = NULL;
		json_t **docs = NULL;
		size_t n = 0;
		if (codec_decode(rq->body, rq->body_len, &docs, &n, &e) < 0 || n != 1) {
			wr_fail(rq, rs, e && e->code == EFBIG ? EFBIG : EINVAL,
				e && e->code == EFBIG ? 413 : 400,
				e && e->code == EFBIG ? "RequestEntityTooLarge" : "BadRequest",
				"error decoding the applied configuration: %s",
				e ? e->msg : "expected exactly one document");
			codec_docs_free(docs, n);
			return -1;
		}
		c->patch = json_incref(docs[0]);
		codec_docs_free(docs, n);
	} else {
		json_error_t je;
		c->patch = json_loadb(rq->body, rq->body_len, JSON_DECODE_ANY, &je);
		if (!c->patch) {
			wr_fail(rq, rs, EINVAL, 400, "BadRequest",
				"error decoding the patch: %s (line %d)", je.text, je.line);
			return -1;
		}
	}
	bool want_array = c->type == P_JSON;
	if (want_array ? !json_is_array(c->patch) : !json_is_object(c->patch)) {
		wr_fail(rq, rs, EINVAL, 400, "BadRequest", "the patch must be a JSON %s",
			want_array ? "list of operations" : "object");
		return -1;
	}
	return 0;
}

/* fieldManager= and force= of an apply; the kind must be the URL's. */
static int apply_opts(struct http_req *rq, struct http_resp *rs, struct pctx *c, char now[32])
{
	const char *fm = http_query(rq, "fieldManager");
	const char *force = http_query(rq, "force");
	if (!fm || !*fm) {
		wr_fail(rq, rs, EINVAL, 400, "BadRequest",
			"PATCH, application/apply-patch+yaml: fieldManager is required");
		return -1;
	}
	const char *kind = json_string_value(json_object_get(c->patch, "kind"));
	const char *av = json_string_value(json_object_get(c->patch, "apiVersion"));
	if ((kind && strcmp(kind, c->rt->kind->kind)) ||
	    (av && strcmp(av, c->rt->kind->api_version))) {
		wr_fail(rq, rs, EINVAL, 400, "BadRequest",
			"the applied configuration is a %s %s, the URL names a %s %s", av ? av : "",
			kind ? kind : "", c->rt->kind->api_version, c->rt->kind->kind);
		return -1;
	}
	api_timestamp(now);
	c->ssa.manager = fm;
	c->ssa.api_version = c->rt->kind->api_version;
	c->ssa.now = now;
	c->ssa.force = force && (!strcmp(force, "true") || !strcmp(force, "1"));
	c->ssa.def = c->def;
	return 0;
}

/* The manager of an update: fieldManager=, or the User-Agent's program
 * (up to its '/'), as Kubernetes names it. */
static void update_opts(struct http_req *rq, struct pctx *c, char now[32])
{
	const char *fm = http_query(rq, "fieldManager");
	const char *ua = http_header(rq, "User-Agent");
	if (fm && *fm)
		snprintf(c->manager, sizeof(c->manager), "%s", fm);
	else if (ua && *ua)
		snprintf(c->manager, sizeof(c->manager), "%.*s", (int)strcspn(ua, "/"), ua);
	else
		snprintf(c->manager, sizeof(c->manager), "unknown");
	api_timestamp(now);
	c->upd.manager = c->manager;
	c->upd.api_version = c->rt->kind->api_version;
	c->upd.now = now;
	c->upd.def = schema_for_kind(c->rt->kind, false);
}

/* dryRun=All: the patch applied to a snapshot, nothing written. */
static void dry_run(struct http_req *rq, struct http_resp *rs, struct pctx *c)
{
	const struct route *rt = &rq->rt;
	_cleanup_err_ struct err *e = NULL;
	struct sobj *o = api_get(rq->api, rt->kind, rt->kind->namespaced ? rt->ns : NULL, rt->name);
	if (!o) {
		wr_refuse(rq, rs, ENOENT, status_not_found(rt->kind, rt->name));
		return;
	}
	json_t *obj = json_deep_copy(o->obj);
	int r = mutate(obj, c, &e);
	if (r < 0) {
		json_decref(obj);
		fail(rs, c, e);
	} else {
		struct sobj *n = sobj_new(o->kind, o->ns, o->name, obj, o->rv, o->user_rv, 0);
		answer(rs, c, 200, n);
		sobj_unref(n);
	}
	sobj_unref(o);
}

void h_patch(struct http_req *rq, struct http_resp *rs)
{
	const struct route *rt = &rq->rt;
	struct pctx c = {.rq = rq, .rt = rt};
	char now[32];
	if (media_type(http_header(rq, "Content-Type"), &c.type) < 0) {
		wr_fail(rq, rs, EINVAL, 415, "UnsupportedMediaType",
			"the body of the request was in an unknown format - accepted media types "
			"include: application/json-patch+json, application/merge-patch+json, "
			"application/apply-patch+yaml, application/strategic-merge-patch+json");
		return;
	}
	c.scale = !strcmp(rt->sub, "scale");
	c.def = c.scale ? schema_by_gvk("autoscaling", "v1", "Scale")
			: schema_for_kind(rt->kind, false);
	c.alt = !c.scale && http_alt_version(rq);
	if (c.alt)
		c.def = schema_by_gvk(c.def->group, rt->version, rt->kind->kind);
	update_opts(rq, &c, now);
	if (c.scale && rt->kind != KIND_DEPLOYMENT && rt->kind != KIND_REPLICASET) {
		wr_fail(rq, rs, ENOENT, 404, "NotFound",
			"the server could not find the requested resource");
		return;
	}
	if (decode(rq, rs, &c) < 0 || (c.type == P_APPLY && apply_opts(rq, rs, &c, now) < 0)) {
		json_decref(c.patch);
		return;
	}
	const char *dry = http_query(rq, "dryRun");
	if (dry && *dry)
		dry_run(rq, rs, &c);
	else
		write_patch(rq, rs, &c, !strcmp(rt->sub, "status") ? API_PATCH_STATUS : 0);
	json_decref(c.conflicts);
	json_decref(c.patch);
}
