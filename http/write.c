/*
 * write.c - the write verbs on objects, as Kubernetes answers them:
 * POST on a collection (create), PUT on an object (replace), DELETE on an
 * object or a collection; and the steps the write verbs share (write.h):
 * bodies in JSON or YAML, refusals as Status objects recorded in the
 * refused writes' log (api_refused: /cluster/errors shows them), unknown
 * fields (fieldValidation), dry runs.  The subresources (scale, status,
 * eviction) are in write_sub.c.
 *
 * Everything goes through the engine's API as the filesystem's writes do:
 * create is api_create (status dropped: a user's create states intent),
 * replace is api_apply with the path as its target (the same conflict
 * rule as the filesystem: a resourceVersion older than the object's last
 * change by a user is 409), delete is api_delete_opts,
 * api_delete_orphan or api_delete_foreground.  Stateless; runs on the server's threads.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/mem.h"
#include "engine/obj.h"
#include "engine/valid/codec.h"
#include "engine/valid/schema.h"
#include "engine/valid/valid.h"
#include "http/pb.h"
#include "http/status.h"
#include "http/write.h"

#define UNKNOWN_MAX 16

/* Refusals */

void wr_refuse(struct http_req *rq, struct http_resp *rs, int err, json_t *st)
{
	char *path = xasprintf("%s %s", rq->method, rq->path);
	const char *msg = json_string_value(json_object_get(st, "message"));
	api_refused(rq->api, path, err, msg ? msg : "refused");
	free(path);
	http_resp_status(rs, st);
}

void wr_fail(struct http_req *rq, struct http_resp *rs, int err, int code, const char *reason,
	     const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	wr_refuse(rq, rs, err, status_new(code, reason, msg));
	free(msg);
}

/* Kubernetes' cause reason for a field error's wording. */
static const char *cause_reason(const char *detail)
{
	static const char *const map[][2] = {
	    {"Required value", "FieldValueRequired"},
	    {"Unsupported value", "FieldValueNotSupported"},
	    {"Forbidden", "FieldValueForbidden"},
	    {"Duplicate value", "FieldValueDuplicate"},
	    {"Not found", "FieldValueNotFound"},
	    {"Too long", "FieldValueTooLong"},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strncmp(detail, map[i][0], strlen(map[i][0])))
			return map[i][1];
	return "FieldValueInvalid";
}

/*
 * A 422 Invalid Status from an engine message `KIND "NAME": FIELD: DETAIL`
 * as Kubernetes words it: `KIND.GROUP "NAME" is invalid: FIELD: DETAIL`,
 * details.causes [{reason, message: DETAIL, field: FIELD}].  NULL when the
 * message names no field.
 */
static json_t *invalid_status(const struct kind_info *k, const char *msg, const char *name)
{
	const char *q = strstr(msg, "\": ");
	if (!q)
		return NULL;
	const char *field = q + 3, *sep = strstr(field, ": ");
	if (!sep || sep == field || memchr(field, ' ', (size_t)(sep - field)))
		return NULL;
	char *f = xstrndup(field, (size_t)(sep - field));
	const char *detail = sep + 2;
	const char *slash = strchr(k->api_version, '/');
	char *kmsg =
	    xasprintf("%s%s%.*s \"%s\" is invalid: %s", k->kind, slash ? "." : "",
		      slash ? (int)(slash - k->api_version) : 0, k->api_version, name, field);
	json_t *st = status_details(status_new(422, "Invalid", kmsg), k, name);
	json_object_set_new(json_object_get(st, "details"), "causes",
			    json_pack("[{s:s, s:s, s:s}]", "reason", cause_reason(detail),
				      "message", detail, "field", f));
	free(f);
	free(kmsg);
	return st;
}

void wr_fail_err(struct http_req *rq, struct http_resp *rs, const struct err *e, const char *name)
{
	const struct kind_info *k = rq->rt.kind;
	int err = e ? e->code : EIO;
	json_t *st = NULL;
	if (err == EINVAL && e && e->msg && k)
		st = invalid_status(k, e->msg, name ? name : "");
	if ((err == EBUSY || err == EEXIST) && k && name) {
		/* Kubernetes' words, which clients look for. */
		const char *slash = strchr(k->api_version, '/');
		char *res = xasprintf("%s%s%.*s", k->plural, slash ? "." : "",
				      slash ? (int)(slash - k->api_version) : 0, k->api_version);
		char *m =
		    err == EEXIST
			? xasprintf("%s \"%s\" already exists", res, name)
			: xasprintf("Operation cannot be fulfilled on %s \"%s\": the object has "
				    "been modified; please apply your changes to the latest "
				    "version and try again",
				    res, name);
		st = status_details(
		    status_new(409, err == EEXIST ? "AlreadyExists" : "Conflict", m), k, name);
		free(res);
		free(m);
	}
	if (!st)
		st = status_from_err(e, k, name);
	/* The log keeps the engine's wording, as the filesystem's refusals. */
	char *path = xasprintf("%s %s", rq->method, rq->path);
	api_refused(rq->api, path, err, e && e->msg ? e->msg : "refused");
	free(path);
	http_resp_status(rs, st);
}

/* Bodies */

void wr_ctype(struct http_req *rq, char out[96])
{
	const char *ct = http_header(rq, "Content-Type");
	size_t n = ct ? strcspn(ct, "; ") : 0;
	if (n > 95)
		n = 95;
	memcpy(out, ct ? ct : "", n);
	out[n] = '\0';
}

static bool ctype_in(const char *ct, const char *const *list)
{
	for (; list && *list; list++)
		if (!strcasecmp(ct, *list))
			return true;
	return false;
}

/* Adds a Warning header value (RFC 7234 form, as Kubernetes sends). */
static void add_warning(struct http_resp *rs, const char *text)
{
	char *w = xasprintf("299 - \"%s\"", text);
	if (rs->warnings) {
		char *both = xasprintf("%s\n%s", rs->warnings, w);
		free(rs->warnings);
		free(w);
		w = both;
	}
	rs->warnings = w;
}

struct unknown {
	struct http_resp *rs;
	bool strict;
	size_t n;
	struct buf b; /* Strict: the message */
};

/* schema_unknown's callback: one unknown field at path. */
static void unknown_field(void *arg, const char *path)
{
	struct unknown *u = arg;
	if (u->n++ >= UNKNOWN_MAX)
		return;
	if (u->strict) {
		buf_printf(&u->b, "%sunknown field \"%s\"", u->n > 1 ? ", " : "", path);
	} else {
		char *t = xasprintf("unknown field \\\"%s\\\"", path);
		add_warning(u->rs, t);
		free(t);
	}
}

/* A protobuf body (kubectl 1.32's typed client), decoded by pb.h; its
 * unknown field numbers are refused or warned about here (fieldValidation),
 * as the JSON's unknown fields are by check_fields. */
static int pb_body(struct http_req *rq, struct http_resp *rs, json_t **out)
{
	_cleanup_err_ struct err *e = NULL;
	const char *fv = http_query(rq, "fieldValidation");
	bool ignore = fv && !strcasecmp(fv, "Ignore");
	struct unknown u = {.rs = rs, .strict = fv && !strcasecmp(fv, "Strict")};
	int rc = -1;
	if (!rq->body || pb_decode_object(rq->body, rq->body_len, out,
					  ignore ? NULL : unknown_field, &u, &e) < 0) {
		if (e && e->code == EINVAL)
			wr_fail(rq, rs, EINVAL, 400, "BadRequest", "%s", e->msg);
		else
			wr_fail(rq, rs, ENOTSUP, 415, "UnsupportedMediaType", "%s",
				e ? e->msg : "the request has no body");
	} else if (u.strict && u.n) {
		wr_fail(rq, rs, EINVAL, 400, "BadRequest", "strict decoding error: %s", u.b.s);
		json_decref(*out);
		*out = NULL;
	} else {
		rc = 0;
	}
	buf_free(&u.b);
	return rc;
}

int wr_body(struct http_req *rq, struct http_resp *rs, const char *const *ctypes, json_t **out)
{
	static const char *const plain[] = {"application/json", "application/yaml",
					    "application/x-yaml", "text/yaml", NULL};
	char ct[96];
	wr_ctype(rq, ct);
	if (!strcmp(ct, "application/vnd.kubernetes.protobuf") && !ctypes)
		return pb_body(rq, rs, out);
	if (*ct && !ctype_in(ct, plain) && !ctype_in(ct, ctypes)) {
		wr_fail(rq, rs, ENOTSUP, 415, "UnsupportedMediaType",
			"the body of the request was in an unknown format (%s) - accepted media "
			"types include: application/json, application/yaml",
			ct);
		return -1;
	}
	if (!rq->body || !rq->body_len) {
		wr_fail(rq, rs, EINVAL, 400, "BadRequest", "the request has no body");
		return -1;
	}
	json_t **docs = NULL;
	size_t n = 0;
	_cleanup_err_ struct err *e = NULL;
	if (codec_decode(rq->body, rq->body_len, &docs, &n, &e) < 0) {
		if (e && e->code == EFBIG)
			wr_fail(rq, rs, EFBIG, 413, "RequestEntityTooLarge", "%s", e->msg);
		else
			wr_fail(rq, rs, EINVAL, 400, "BadRequest", "the body is malformed: %s",
				e ? e->msg : "?");
		return -1;
	}
	bool array_ok = !strcasecmp(ct, "application/json-patch+json");
	if (n != 1 || !(json_is_object(docs[0]) || (array_ok && json_is_array(docs[0])))) {
		wr_fail(rq, rs, EINVAL, 400, "BadRequest",
			"the body must be one object (got %zu document%s%s)", n, n == 1 ? "" : "s",
			n == 1 ? ", not a mapping" : "");
		codec_docs_free(docs, n);
		return -1;
	}
	*out = json_incref(docs[0]);
	codec_docs_free(docs, n);
	return 0;
}

bool wr_dry_run(struct http_req *rq)
{
	const char *d = http_query(rq, "dryRun");
	return d && !strcmp(d, "All");
}

json_t *wr_typed(const struct kind_info *k, const json_t *obj)
{
	json_t *c = json_copy((json_t *)obj);
	json_object_set_new(c, "apiVersion", json_string(k->api_version));
	json_object_set_new(c, "kind", json_string(k->kind));
	return c;
}

/*
 * Kubernetes' fieldValidation: unknown fields of obj are refused (Strict:
 * 400 naming them, -1), or warned about (Warn, the default: a Warning
 * header each), or ignored (Ignore).  0 to go on.
 */
static int check_fields(struct http_req *rq, struct http_resp *rs, const json_t *obj)
{
	const char *fv = http_query(rq, "fieldValidation");
	if (fv && !strcasecmp(fv, "Ignore"))
		return 0;
	bool strict = fv && !strcasecmp(fv, "Strict");
	if (fv && !strict && strcasecmp(fv, "Warn")) {
		wr_fail(rq, rs, EINVAL, 400, "BadRequest",
			"fieldValidation must be Ignore, Warn or Strict (got \"%s\")", fv);
		return -1;
	}
	struct unknown u = {.rs = rs, .strict = strict};
	const struct sch_def *d = schema_for_kind(rq->rt.kind, false);
	if (d && http_alt_version(rq))
		d = schema_by_gvk(d->group, rq->rt.version, d->kind);
	size_t n = d ? schema_unknown(obj, d, unknown_field, &u) : 0;
	int r = 0;
	if (strict && n) {
		wr_fail(rq, rs, EINVAL, 400, "BadRequest", "strict decoding error: %s", u.b.s);
		r = -1;
	}
	buf_free(&u.b);
	return r;
}

/*
 * Checks the body against the path: kind and apiVersion (filled in when
 * absent), namespace (filled in; another is 400), and for an object's path
 * its name (another is 400).  Then unknown fields.  0, or -1 answered.
 */
static int check_target(struct http_req *rq, struct http_resp *rs, json_t *obj)
{
	const struct route *rt = &rq->rt;
	const struct kind_info *k = rt->kind;
	char av[96];
	route_api_version(rt, av);
	const char *kind = obj_str(obj, "kind"), *bav = obj_str(obj, "apiVersion");
	if ((kind && strcmp(kind, k->kind)) || (bav && strcmp(bav, av))) {
		wr_fail(rq, rs, EINVAL, 400, "BadRequest",
			"the API version in the data (%s) or the kind (%s) does not match the "
			"expected %s %s",
			bav ? bav : "none", kind ? kind : "none", av, k->kind);
		return -1;
	}
	if (!json_is_object(json_object_get(obj, "metadata")))
		json_object_set_new(obj, "metadata", json_object());
	json_t *md = json_object_get(obj, "metadata");
	const char *ns = obj_str(md, "namespace");
	if (k->namespaced && rt->ns[0]) {
		if (ns && *ns && strcmp(ns, rt->ns)) {
			wr_fail(rq, rs, EINVAL, 400, "BadRequest",
				"the namespace of the provided object (%s) does not match the "
				"namespace sent on the request (%s)",
				ns, rt->ns);
			return -1;
		}
		json_object_set_new(md, "namespace", json_string(rt->ns));
	}
	const char *name = obj_str(md, "name");
	if (rt->type == ROUTE_OBJECT && name && strcmp(name, rt->name)) {
		wr_fail(rq, rs, EINVAL, 400, "BadRequest",
			"the name of the object (%s) does not match the name on the URL (%s)", name,
			rt->name);
		return -1;
	}
	if (rt->type == ROUTE_OBJECT && !name)
		json_object_set_new(md, "name", json_string(rt->name));
	if (!kind)
		json_object_set_new(obj, "kind", json_string(k->kind));
	if (!bav)
		json_object_set_new(obj, "apiVersion", json_string(av));
	return check_fields(rq, rs, obj);
}

static const char *ns_of(const struct route *rt)
{
	return rt->kind->namespaced ? rt->ns : NULL;
}

/* Validates obj as a write of it would (defaults included, in place),
 * against old when it replaces one: what a dry run answers.  0 or -EINVAL. */
static int dry_validate(const struct kind_info *k, json_t *obj, const json_t *old, struct err **e)
{
	valid_default(obj, k);
	int r = valid_object(obj, k, e);
	if (r >= 0 && old)
		r = valid_update(old, obj, k, e);
	return r;
}

/* POST .../PLURAL: 201 with the object created. */
void h_create(struct http_req *rq, struct http_resp *rs)
{
	const struct kind_info *k = rq->rt.kind;
	if (k->namespaced && !rq->rt.ns[0]) {
		wr_fail(rq, rs, EINVAL, 400, "BadRequest",
			"a %s is created in a namespace: POST to .../namespaces/NS/%s", k->kind,
			k->plural);
		return;
	}
	json_t *obj = NULL;
	if (wr_body(rq, rs, NULL, &obj) < 0)
		return;
	_cleanup_err_ struct err *e = NULL;
	if (check_target(rq, rs, obj) < 0 || api_generate_name(obj, &e) < 0) {
		if (e)
			wr_fail_err(rq, rs, e, NULL);
		json_decref(obj);
		return;
	}
	json_object_del(obj, "status");
	const char *name = obj_str(json_object_get(obj, "metadata"), "name");
	struct sobj *out = NULL;
	if (wr_dry_run(rq)) {
		out = name ? api_get(rq->api, k, ns_of(&rq->rt), name) : NULL;
		if (out) {
			sobj_unref(out);
			err_make(&e, EEXIST, "%s \"%s\" already exists", k->kind, name);
		} else if (dry_validate(k, obj, NULL, &e) >= 0) {
			http_resp_json(rs, 201, wr_typed(k, obj));
		}
	} else if (api_create(rq->api, obj, &out, &e) >= 0) {
		http_resp_json(rs, 201, wr_typed(k, out->obj));
		sobj_unref(out);
	}
	if (e)
		wr_fail_err(rq, rs, e, name);
	json_decref(obj);
}

/* PUT .../PLURAL/NAME: 200 with the object replaced; 404 if there is none. */
void h_replace(struct http_req *rq, struct http_resp *rs)
{
	const struct route *rt = &rq->rt;
	json_t *obj = NULL;
	if (wr_body(rq, rs, NULL, &obj) < 0)
		return;
	if (check_target(rq, rs, obj) < 0) {
		json_decref(obj);
		return;
	}
	_cleanup_err_ struct err *e = NULL;
	struct sobj *old = api_get(rq->api, rt->kind, ns_of(rt), rt->name);
	if (!old) {
		wr_refuse(rq, rs, ENOENT, status_not_found(rt->kind, rt->name));
		json_decref(obj);
		return;
	}
	struct api_target t = {rt->kind, rt->kind->namespaced ? rt->ns : NULL, rt->name};
	if (wr_dry_run(rq)) {
		json_object_del(obj, "status");
		if (dry_validate(rt->kind, obj, old->obj, &e) >= 0)
			http_resp_json(rs, 200, wr_typed(rt->kind, obj));
	} else if (api_apply(rq->api, &obj, 1, &t, &e) >= 0) {
		struct sobj *now = api_get(rq->api, rt->kind, ns_of(rt), rt->name);
		if (now)
			http_resp_json(rs, 200, wr_typed(rt->kind, now->obj));
		else
			http_resp_status(rs, status_not_found(rt->kind, rt->name));
		sobj_unref(now);
	}
	if (e)
		wr_fail_err(rq, rs, e, rt->name);
	sobj_unref(old);
	json_decref(obj);
}

/* DeleteOptions, from the query or the body. */
struct del_opts {
	int grace; /* -1: the object's own */
	bool orphan, foreground;
	bool dry;
	const char *uid; /* preconditions.uid, or NULL */
};

/* Reads the options; 0, or -1 answered (a bad body or value). */
static int delete_options(struct http_req *rq, struct http_resp *rs, struct del_opts *o,
			  json_t **body)
{
	*o = (struct del_opts){.grace = -1, .dry = wr_dry_run(rq)};
	const char *pp = http_query(rq, "propagationPolicy");
	const char *gs = http_query(rq, "gracePeriodSeconds");
	/* JSON, YAML or protobuf (kubectl drain without eviction: pb.h) */
	if (rq->body && rq->body_len) {
		if (wr_body(rq, rs, NULL, body) < 0)
			return -1;
		if (obj_str(*body, "propagationPolicy"))
			pp = obj_str(*body, "propagationPolicy");
		json_t *g = json_object_get(*body, "gracePeriodSeconds");
		if (json_is_integer(g))
			o->grace = (int)json_integer_value(g);
		json_t *dr = json_object_get(*body, "dryRun");
		o->dry |= json_is_array(dr) && json_array_size(dr) > 0;
		o->uid = obj_str(*body, "preconditions.uid");
		json_t *orph = json_object_get(*body, "orphanDependents");
		if (json_is_true(orph) && !pp)
			pp = "Orphan";
	}
	if (gs) {
		char *end;
		long g = strtol(gs, &end, 10);
		if (*end || end == gs || g < 0) {
			wr_fail(rq, rs, EINVAL, 400, "BadRequest",
				"gracePeriodSeconds must be a whole number >= 0 (got \"%s\")", gs);
			return -1;
		}
		o->grace = (int)g;
	}
	if (pp && strcmp(pp, "Orphan") && strcmp(pp, "Background") && strcmp(pp, "Foreground")) {
		wr_fail(rq, rs, EINVAL, 400, "BadRequest",
			"propagationPolicy must be Orphan, Background or Foreground (got \"%s\")",
			pp);
		return -1;
	}
	o->orphan = pp && !strcmp(pp, "Orphan");
	o->foreground = pp && !strcmp(pp, "Foreground");
	return 0;
}

/* Deletes one object: 0, or a negative errno with *e. */
static int delete_one(struct http_req *rq, const struct kind_info *k, const char *ns,
		      const char *name, const struct del_opts *o, struct err **e)
{
	if (o->dry)
		return 0;
	if (o->orphan)
		return api_delete_orphan(rq->api, k, ns, name, o->grace, e);
	if (o->foreground)
		return api_delete_foreground(rq->api, k, ns, name, o->grace, e);
	return api_delete_opts(rq->api, k, ns, name, o->grace, e);
}

/* The answer to a delete: the object while it is still going (marked for
 * its node agent), else a Status Success naming it. */
static json_t *deleted_answer(struct http_req *rq, const struct kind_info *k, const char *ns,
			      const char *name, bool dry, const json_t *was)
{
	struct sobj *now = api_get(rq->api, k, ns, name);
	json_t *ans;
	if (now &&
	    (dry || json_object_get(json_object_get(now->obj, "metadata"), "deletionTimestamp")))
		ans = wr_typed(k, now->obj);
	else {
		ans = status_details(json_pack("{s:s, s:s, s:{}, s:s}", "kind", "Status",
					       "apiVersion", "v1", "metadata", "status", "Success"),
				     k, name);
		json_t *uid = json_object_get(json_object_get(was, "metadata"), "uid");
		if (uid)
			json_object_set(json_object_get(ans, "details"), "uid", uid);
	}
	sobj_unref(now);
	return ans;
}

/* DELETE .../PLURAL/NAME */
void h_delete(struct http_req *rq, struct http_resp *rs)
{
	const struct route *rt = &rq->rt;
	struct del_opts o;
	json_t *body = NULL;
	if (delete_options(rq, rs, &o, &body) < 0)
		return;
	struct sobj *old = api_get(rq->api, rt->kind, ns_of(rt), rt->name);
	_cleanup_err_ struct err *e = NULL;
	if (!old) {
		wr_refuse(rq, rs, ENOENT, status_not_found(rt->kind, rt->name));
	} else if (o.uid && strcmp(o.uid, obj_str(old->obj, "metadata.uid") ?: "")) {
		err_make(&e, EBUSY, "%s \"%s\": precondition failed: uid is %s, not %s",
			 rt->kind->kind, rt->name, obj_str(old->obj, "metadata.uid") ?: "none",
			 o.uid);
		wr_fail_err(rq, rs, e, rt->name);
	} else if (delete_one(rq, rt->kind, ns_of(rt), rt->name, &o, &e) < 0) {
		wr_fail_err(rq, rs, e, rt->name);
	} else {
		http_resp_json(rs, 200,
			       deleted_answer(rq, rt->kind, ns_of(rt), rt->name, o.dry, old->obj));
	}
	sobj_unref(old);
	json_decref(body);
}

/* DELETE .../PLURAL?labelSelector=...: deletes each object listed; 200 with
 * the list of those deleted.  The first failure stops it (answered). */
void h_delete_collection(struct http_req *rq, struct http_resp *rs)
{
	const struct route *rt = &rq->rt;
	struct del_opts o;
	json_t *body = NULL;
	if (delete_options(rq, rs, &o, &body) < 0)
		return;
	json_decref(body);
	_cleanup_err_ struct err *e = NULL;
	struct sobj **v = NULL;
	const char *ns = rt->kind->namespaced && rt->ns[0] ? rt->ns : NULL;
	int n = api_list(rq->api, rt->kind, ns, http_query(rq, "labelSelector"), &v, &e);
	if (n < 0) {
		wr_fail(rq, rs, EINVAL, 400, "BadRequest", "%s", e ? e->msg : "bad label selector");
		return;
	}
	json_t *items = json_array();
	for (int i = 0; i < n && !e; i++) {
		if (rt->kind == KIND_NAMESPACE && !strcmp(v[i]->name, "default"))
			continue;
		const char *ons = rt->kind->namespaced ? v[i]->ns : NULL;
		int r = delete_one(rq, rt->kind, ons, v[i]->name, &o, &e);
		if (r >= 0)
			json_array_append_new(items, wr_typed(rt->kind, v[i]->obj));
		else if (r == -ENOENT) {
			err_free(e); /* gone meanwhile */
			e = NULL;
		} else
			wr_fail_err(rq, rs, e, v[i]->name);
	}
	sobj_list_free(v, (size_t)n);
	if (e) {
		json_decref(items);
		return;
	}
	char kind[64];
	snprintf(kind, sizeof(kind), "%sList", rt->kind->kind);
	http_resp_json(rs, 200,
		       json_pack("{s:s, s:s, s:{}, s:o}", "kind", kind, "apiVersion",
				 rt->kind->api_version, "metadata", "items", items));
}
