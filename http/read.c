/*
 * read.c - GET of one object and LIST of a kind, as Kubernetes answers
 * them.
 *
 * An object is served as stored (with apiVersion and kind set); a list is
 * e.g. {"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":
 * REV},"items":[...]} where REV is the store's revision read before the
 * list, so that a watch from it misses nothing.  labelSelector goes to
 * api_list() (kubectl -l syntax), fieldSelector to fieldsel.h.  An Accept
 * header asking for a Table (as kubectl get does) gets a meta.k8s.io Table
 * of the same objects instead (table.h); ?watch=true goes to watch.c.
 * Without resourceVersion both read the latest state: they sync with etcd
 * first (read_synced).
 * Runs on the server's threads; stateless.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/mem.h"
#include "http/fieldsel.h"
#include "http/http_int.h"
#include "http/status.h"
#include "http/table.h"

/* The Table version the request's Accept header asks for, or NULL. */
static const char *want_table(const struct http_req *rq)
{
	return table_accept(http_header(rq, "Accept"));
}

/* A Table of the n objects of v (those fs matches) at revision rv. */
static json_t *as_table(const struct http_req *rq, const char *version, struct sobj **v, size_t n,
			const struct fieldsel *fs, const char *rv)
{
	enum table_include inc = table_include_parse(http_query(rq, "includeObject"));
	int64_t now = (int64_t)time(NULL);
	json_t *rows = json_array();
	for (size_t i = 0; i < n; i++)
		if (fieldsel_matches(fs, v[i]->obj))
			json_array_append_new(rows, table_row(rq->rt.kind, v[i]->obj, inc, now));
	return table_new(version, rq->rt.kind, true, rv, rows);
}

/* obj (frozen) with apiVersion and kind, as a new reference. */
static json_t *with_type(const struct kind_info *k, json_t *obj)
{
	const char *av = json_string_value(json_object_get(obj, "apiVersion"));
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	if (av && kind && !strcmp(av, k->api_version) && !strcmp(kind, k->kind))
		return json_incref(obj);
	json_t *c = json_copy(obj);
	json_object_set_new(c, "apiVersion", json_string(k->api_version));
	json_object_set_new(c, "kind", json_string(k->kind));
	return c;
}

/*
 * The API's rule for reads while etcd has no quorum (api_read_sync): a
 * GET or LIST without resourceVersion reads the latest state, so it syncs
 * with etcd first and fails with 503 ServiceUnavailable when it can't;
 * resourceVersion=0 is served from this server's copy at once, and
 * another resourceVersion from it when it is that new.  False: answered.
 */
static bool read_synced(struct http_req *rq, struct http_resp *rs)
{
	int64_t min_rev;
	enum api_read how = api_read_of_rv(http_query(rq, "resourceVersion"), &min_rev);
	_cleanup_err_ struct err *e = NULL;
	char *what = xasprintf("%s %s", rq->method, rq->path);
	int r = api_read_sync(rq->api, how, min_rev, what, &e);
	free(what);
	if (r == 0)
		return true;
	http_resp_status(rs, status_from_err(e, rq->rt.kind, rq->rt.name));
	return false;
}

void h_get(struct http_req *rq, struct http_resp *rs)
{
	const struct route *rt = &rq->rt;
	if (!read_synced(rq, rs))
		return;
	struct sobj *o = api_get(rq->api, rt->kind, rt->kind->namespaced ? rt->ns : NULL, rt->name);
	if (!o) {
		http_resp_status(rs, status_not_found(rt->kind, rt->name));
		return;
	}
	const char *tv = want_table(rq);
	char rv[32];
	snprintf(rv, sizeof(rv), "%lld", (long long)o->rv);
	http_resp_json(rs, 200,
		       tv ? as_table(rq, tv, &o, 1, NULL, rv) : with_type(rt->kind, o->obj));
	sobj_unref(o);
}

static json_t *list_object(const struct kind_info *k, int64_t rev, json_t *items)
{
	char kind[64], rv[32];
	snprintf(kind, sizeof(kind), "%sList", k->kind);
	snprintf(rv, sizeof(rv), "%lld", (long long)rev);
	return json_pack("{s:s, s:s, s:{s:s}, s:o}", "kind", kind, "apiVersion", k->api_version,
			 "metadata", "resourceVersion", rv, "items", items);
}

void h_list(struct http_req *rq, struct http_resp *rs)
{
	const struct route *rt = &rq->rt;
	_cleanup_err_ struct err *e = NULL;
	struct fieldsel *fs = NULL;
	const char *watch = http_query(rq, "watch");
	if (watch && (!strcmp(watch, "true") || !strcmp(watch, "1"))) {
		h_watch(rq, rs);
		return;
	}
	if (fieldsel_parse(rt->kind, http_query(rq, "fieldSelector"), &fs, &e) < 0) {
		http_fail(rs, 400, "BadRequest", "%s", e->msg);
		return;
	}
	if (!read_synced(rq, rs)) {
		fieldsel_free(fs);
		return;
	}
	int64_t rev = api_rev(rq->api);
	struct sobj **v = NULL;
	const char *ns = rt->kind->namespaced && rt->ns[0] ? rt->ns : NULL;
	int n = api_list(rq->api, rt->kind, ns, http_query(rq, "labelSelector"), &v, &e);
	if (n < 0) {
		fieldsel_free(fs);
		http_fail(rs, 400, "BadRequest", "%s", e ? e->msg : "bad label selector");
		return;
	}
	const char *tv = want_table(rq);
	if (tv) {
		char rvs[32];
		snprintf(rvs, sizeof(rvs), "%lld", (long long)rev);
		http_resp_json(rs, 200, as_table(rq, tv, v, (size_t)n, fs, rvs));
		sobj_list_free(v, (size_t)n);
		fieldsel_free(fs);
		return;
	}
	json_t *items = json_array();
	for (int i = 0; i < n; i++)
		if (fieldsel_matches(fs, v[i]->obj))
			json_array_append_new(items, with_type(rt->kind, v[i]->obj));
	sobj_list_free(v, (size_t)n);
	fieldsel_free(fs);
	http_resp_json(rs, 200, list_object(rt->kind, rev, items));
}
