/*
 * write_sub.c - the subresources' writes: scale (GET and PUT; PATCH is
 * patch.c's) for Deployments and ReplicaSets as autoscaling/v1 Scale;
 * status (PUT); and a pod's eviction
 * (POST, policy/v1 Eviction: api_evict, 201 with a Status Success; there
 * are no PodDisruptionBudgets, so never 429; its body, JSON or protobuf
 * as kubectl drain sends it, must name the URL's pod).  Stateless.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine/mem.h"
#include "engine/obj.h"
#include "engine/valid/hpa.h"
#include "http/status.h"
#include "http/write.h"

static bool scalable(const struct kind_info *k)
{
	return k == KIND_DEPLOYMENT || k == KIND_REPLICASET;
}

/* matchLabels (and matchExpressions' In/NotIn/Exists) as a label selector string. */
static void selector_string(const json_t *sel, struct buf *b)
{
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(sel, "matchLabels"), key, v)
	    buf_printf(b, "%s%s=%s", b->len ? "," : "", key, json_string_value(v) ?: "");
	size_t i, j;
	json_t *x, *val;
	json_array_foreach(json_object_get(sel, "matchExpressions"), i, x)
	{
		const char *k = obj_str(x, "key") ?: "", *op = obj_str(x, "operator") ?: "";
		buf_printf(b, "%s", b->len ? "," : "");
		if (!strcmp(op, "Exists")) {
			buf_printf(b, "%s", k);
			continue;
		}
		if (!strcmp(op, "DoesNotExist")) {
			buf_printf(b, "!%s", k);
			continue;
		}
		buf_printf(b, "%s %s (", k, !strcmp(op, "NotIn") ? "notin" : "in");
		json_array_foreach(json_object_get(x, "values"), j, val)
		    buf_printf(b, "%s%s", j ? "," : "", json_string_value(val) ?: "");
		buf_puts(b, ")");
	}
}

json_t *wr_scale_of(const json_t *o)
{
	json_t *md = json_object_get(o, "metadata");
	json_t *smd = json_object();
	static const char *const keep[] = {"name", "namespace", "uid", "resourceVersion",
					   "creationTimestamp"};
	for (size_t i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if (json_object_get(md, keep[i]))
			json_object_set(smd, keep[i], json_object_get(md, keep[i]));
	struct buf sel = {0};
	selector_string(json_object_get(json_object_get(o, "spec"), "selector"), &sel);
	json_t *s =
	    json_pack("{s:s, s:s, s:o, s:{s:I}, s:{s:I, s:s}}", "kind", "Scale", "apiVersion",
		      "autoscaling/v1", "metadata", smd, "spec", "replicas",
		      (json_int_t)obj_int(o, "spec.replicas", 1), "status", "replicas",
		      (json_int_t)obj_int(o, "status.replicas", 0), "selector", sel.s ? sel.s : "");
	buf_free(&sel);
	return s;
}

/* 404 unless the route names a scalable kind; then the object, or NULL answered. */
static struct sobj *scale_target(struct http_req *rq, struct http_resp *rs, bool write)
{
	const struct route *rt = &rq->rt;
	if (!scalable(rt->kind)) {
		json_t *st =
		    status_new(404, "NotFound", "the server could not find the requested resource");
		if (write)
			wr_refuse(rq, rs, ENOENT, st);
		else
			http_resp_status(rs, st);
		return NULL;
	}
	struct sobj *o = api_get(rq->api, rt->kind, rt->ns, rt->name);
	if (!o) {
		json_t *st = status_not_found(rt->kind, rt->name);
		if (write)
			wr_refuse(rq, rs, ENOENT, st);
		else
			http_resp_status(rs, st);
	}
	return o;
}

/* GET .../deployments/NAME/scale */
void h_scale_get(struct http_req *rq, struct http_resp *rs)
{
	struct sobj *o = scale_target(rq, rs, false);
	if (!o)
		return;
	http_resp_json(rs, 200, wr_scale_of(o->obj));
	sobj_unref(o);
}

static int set_replicas(json_t *obj, void *arg, struct err **e)
{
	json_t *spec = json_object_get(obj, "spec");
	if (!json_is_object(spec))
		json_object_set_new(obj, "spec", spec = json_object());
	json_object_set_new(spec, "replicas", json_integer(*(json_int_t *)arg));
	return 0;
}

/* Sets spec.replicas (api_patch: validated as any user change) and answers the Scale. */
static void scale_to(struct http_req *rq, struct http_resp *rs, json_int_t n, const char *want_rv)
{
	const struct route *rt = &rq->rt;
	_cleanup_err_ struct err *e = NULL;
	struct sobj *o = scale_target(rq, rs, true);
	if (!o)
		return;
	if (want_rv && *want_rv && strcmp(want_rv, obj_str(o->obj, "metadata.resourceVersion"))) {
		err_make(&e, EBUSY,
			 "%s \"%s\": conflict: the Scale's resourceVersion %s is not the "
			 "current one; read it again",
			 rt->kind->kind, rt->name, want_rv);
		wr_fail_err(rq, rs, e, rt->name);
	} else if (wr_dry_run(rq)) {
		json_t *s = wr_scale_of(o->obj);
		json_object_set_new(json_object_get(s, "spec"), "replicas", json_integer(n));
		http_resp_json(rs, 200, s);
	} else if (api_patch(rq->api, rt->kind, rt->ns, rt->name, set_replicas, &n, &e) < 0) {
		wr_fail_err(rq, rs, e, rt->name);
	} else {
		struct sobj *now = api_get(rq->api, rt->kind, rt->ns, rt->name);
		http_resp_json(rs, 200, wr_scale_of(now ? now->obj : o->obj));
		sobj_unref(now);
	}
	sobj_unref(o);
}

/* spec.replicas of a Scale body, or -1 answered. */
static json_int_t replicas_of(struct http_req *rq, struct http_resp *rs, const json_t *spec)
{
	json_t *r = json_object_get(spec, "replicas");
	if (!json_is_integer(r) || json_integer_value(r) < 0) {
		wr_fail(
		    rq, rs, EINVAL, 422, "Invalid",
		    "Scale.autoscaling \"%s\" is invalid: spec.replicas: Invalid value: must be "
		    "a whole number >= 0",
		    rq->rt.name);
		return -1;
	}
	return json_integer_value(r);
}

/* PUT .../scale: a Scale body. */
void h_scale_put(struct http_req *rq, struct http_resp *rs)
{
	json_t *body = NULL;
	if (wr_body(rq, rs, NULL, &body) < 0)
		return;
	const char *kind = obj_str(body, "kind");
	json_int_t n = -1;
	if (kind && strcmp(kind, "Scale"))
		wr_fail(rq, rs, EINVAL, 400, "BadRequest", "the body must be a Scale (got a %s)",
			kind);
	else if ((n = replicas_of(rq, rs, json_object_get(body, "spec"))) >= 0)
		scale_to(rq, rs, n, obj_str(body, "metadata.resourceVersion"));
	json_decref(body);
}

/* PUT .../NAME/status: the body's status replaces the object's. */
void h_status_put(struct http_req *rq, struct http_resp *rs)
{
	const struct route *rt = &rq->rt;
	const char *ns = rt->kind->namespaced ? rt->ns : NULL;
	json_t *body = NULL;
	if (wr_body(rq, rs, NULL, &body) < 0)
		return;
	if (http_alt_version(rq) && json_is_object(body)) { /* a v1 status: stored as v2 */
		json_object_set_new(body, "apiVersion", json_string(HPA_V1));
		hpa_to_v2(body);
	}
	_cleanup_err_ struct err *e = NULL;
	const char *kind = obj_str(body, "kind"), *name = obj_str(body, "metadata.name");
	json_t *status = json_object_get(body, "status");
	struct sobj *o = api_get(rq->api, rt->kind, ns, rt->name);
	if ((kind && strcmp(kind, rt->kind->kind)) || (name && strcmp(name, rt->name)))
		wr_fail(rq, rs, EINVAL, 400, "BadRequest",
			"the body names %s \"%s\", not %s \"%s\" as the URL", kind ? kind : "?",
			name ? name : "?", rt->kind->kind, rt->name);
	else if (!o)
		wr_refuse(rq, rs, ENOENT, status_not_found(rt->kind, rt->name));
	else if (!json_is_object(status))
		wr_fail(rq, rs, EINVAL, 422, "Invalid",
			"%s \"%s\" is invalid: status: Required value: a mapping", rt->kind->kind,
			rt->name);
	else if (wr_dry_run(rq))
		http_resp_json(rs, 200, wr_typed(rt->kind, o->obj));
	else if (api_update_status(rq->api, rt->kind, ns, rt->name, status, &e) < 0)
		wr_fail_err(rq, rs, e, rt->name);
	else {
		struct sobj *now = api_get(rq->api, rt->kind, ns, rt->name);
		http_resp_json(rs, 200, wr_typed(rt->kind, now ? now->obj : o->obj));
		sobj_unref(now);
	}
	sobj_unref(o);
	json_decref(body);
}

static bool pod_exists(struct http_req *rq, const struct route *rt)
{
	struct sobj *o = api_get(rq->api, rt->kind, rt->ns, rt->name);
	sobj_unref(o);
	return o != NULL;
}

/* POST .../pods/NAME/eviction: 201 with a Status Success. */
void h_evict(struct http_req *rq, struct http_resp *rs)
{
	const struct route *rt = &rq->rt;
	if (rt->kind != KIND_POD) {
		wr_refuse(rq, rs, ENOENT,
			  status_new(404, "NotFound",
				     "the server could not find the requested resource"));
		return;
	}
	/* JSON, YAML or protobuf (kubectl drain: pb.h decodes the Eviction) */
	json_t *body = NULL;
	if (rq->body && rq->body_len && wr_body(rq, rs, NULL, &body) < 0)
		return;
	const char *kind = obj_str(body, "kind"), *name = obj_str(body, "metadata.name");
	_cleanup_err_ struct err *e = NULL;
	if ((kind && strcmp(kind, "Eviction")) || (name && strcmp(name, rt->name)))
		wr_fail(rq, rs, EINVAL, 400, "BadRequest",
			"the body must be an Eviction of pod \"%s\"", rt->name);
	else if (wr_dry_run(rq) && !pod_exists(rq, rt))
		wr_refuse(rq, rs, ENOENT, status_not_found(rt->kind, rt->name));
	else if (!wr_dry_run(rq) && api_evict(rq->api, rt->ns, rt->name, &e) < 0)
		wr_fail_err(rq, rs, e, rt->name);
	else
		http_resp_json(rs, 201,
			       json_pack("{s:s, s:s, s:{}, s:s, s:i}", "kind", "Status",
					 "apiVersion", "v1", "metadata", "status", "Success",
					 "code", 201));
	json_decref(body);
}
