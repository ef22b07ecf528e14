/*
 * metrics.c - the Metrics API, metrics.k8s.io/v1beta1, as metrics-server
 * serves it, from the API layer's table of the latest samples
 * (engine/api/api_metrics.h):
 *
 *     $ kubectl top pods -A
 *     NAMESPACE   NAME    CPU(cores)   MEMORY(bytes)
 *     default     burn    498m         1Mi
 *     $ kubectl get --raw /apis/metrics.k8s.io/v1beta1/nodes
 *
 *   GET /apis/metrics.k8s.io                      APIGroup
 *   GET /apis/metrics.k8s.io/v1beta1              APIResourceList
 *   GET .../v1beta1/pods                          PodMetricsList, all namespaces
 *   GET .../v1beta1/namespaces/NS/pods[/NAME]     PodMetricsList, PodMetrics
 *   GET .../v1beta1/nodes[/NAME]                  NodeMetricsList, NodeMetrics
 *   POST .../v1beta1/nodes/NAME/report            a node agent's report
 *
 * Lists take labelSelector.  Reads are authorized as reads of the pods
 * or nodes they show (the API's view filters and refuses); a report as
 * api_metrics_report has it (a node only itself and its pods).
 * Stateless; thread-safe.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/api/api_metrics.h"
#include "engine/mem.h"
#include "http/http_int.h"
#include "http/status.h"

#define MGROUP	 "metrics.k8s.io"
#define MVERSION "v1beta1"
#define MGV	 MGROUP "/" MVERSION

json_t *metrics_api_group(void)
{
	return json_pack("{s:s, s:[{s:s, s:s}], s:{s:s, s:s}}", "name", MGROUP, "versions",
			 "groupVersion", MGV, "version", MVERSION, "preferredVersion",
			 "groupVersion", MGV, "version", MVERSION);
}

static json_t *resource(const char *name, const char *kind, bool namespaced)
{
	return json_pack("{s:s, s:s, s:b, s:s, s:[s, s]}", "name", name, "singularName", "",
			 "namespaced", namespaced, "kind", kind, "verbs", "get", "list");
}

static void resource_list(struct http_resp *rs)
{
	json_t *r = json_pack("[o, o]", resource("nodes", "NodeMetrics", false),
			      resource("pods", "PodMetrics", true));
	http_resp_json(rs, 200,
		       json_pack("{s:s, s:s, s:s, s:o}", "kind", "APIResourceList", "apiVersion",
				 "v1", "groupVersion", MGV, "resources", r));
}

static void fail_err(struct http_resp *rs, int r, struct err *e, const struct kind_info *k,
		     const char *name)
{
	if (e)
		http_resp_status(rs, status_from_err(e, k, name));
	else
		http_fail(rs, 500, "InternalError", "%s", strerror(-r));
	err_free(e);
}

static void not_found(struct http_resp *rs, int r, const char *res, const char *name)
{
	if (r == -EACCES)
		http_fail(rs, 403, "Forbidden", "%s.%s \"%s\" is forbidden", res, MGROUP, name);
	else
		http_fail(rs, 404, "NotFound", "%s.%s \"%s\" not found", res, MGROUP, name);
}

static void list(struct http_req *rq, struct http_resp *rs, bool pods, const char *ns)
{
	struct err *e = NULL;
	const char *sel = http_query(rq, "labelSelector");
	json_t *items = pods ? api_pod_metrics_list(rq->api, ns, sel, &e)
			     : api_node_metrics_list(rq->api, sel, &e);
	if (!items) {
		fail_err(rs, -EINVAL, e, pods ? KIND_POD : KIND_NODE, "");
		return;
	}
	http_resp_json(rs, 200,
		       json_pack("{s:s, s:s, s:{}, s:o}", "kind",
				 pods ? "PodMetricsList" : "NodeMetricsList", "apiVersion", MGV,
				 "metadata", "items", items));
}

static void get(struct http_req *rq, struct http_resp *rs, bool pods, const char *ns,
		const char *name)
{
	json_t *j;
	int r = pods ? api_pod_metrics(rq->api, ns, name, &j) : api_node_metrics(rq->api, name, &j);
	if (r < 0)
		not_found(rs, r, pods ? "podmetrics" : "nodemetrics", name);
	else
		http_resp_json(rs, 200, j);
}

static void post_report(struct http_req *rq, struct http_resp *rs, const char *node)
{
	json_error_t je;
	json_t *rep = rq->body ? json_loadb(rq->body, rq->body_len, 0, &je) : NULL;
	if (!rep) {
		http_fail(rs, 400, "BadRequest", "metrics report: not JSON");
		return;
	}
	struct err *e = NULL;
	int r = api_metrics_report(rq->api, node, rep, &e);
	json_decref(rep);
	if (r < 0) {
		int code = r == -EPERM || r == -EACCES ? 403 : 400;
		http_fail(rs, code, code == 403 ? "Forbidden" : "BadRequest", "%s",
			  e ? e->msg : strerror(-r));
		err_free(e);
		return;
	}
	http_resp_json(rs, 200,
		       json_pack("{s:s, s:s, s:{}, s:s}", "kind", "Status", "apiVersion", "v1",
				 "metadata", "status", "Success"));
}

/* Splits p into at most 8 segments (copies, NUL-ended in buf). */
static int segments(const char *p, char buf[1024], char *seg[8])
{
	if (strlen(p) >= 1024)
		return -1;
	strcpy(buf, p);
	int n = 0;
	for (char *save = NULL, *t = strtok_r(buf, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
		if (n == 8)
			return -1;
		seg[n++] = t;
	}
	return n;
}

/* After /apis/metrics.k8s.io/v1beta1: s[0..n). */
static void serve_version(struct http_req *rq, struct http_resp *rs, char **s, int n)
{
	const char *ns = NULL;
	if (n >= 3 && !strcmp(s[0], "namespaces")) {
		ns = s[1];
		s += 2;
		n -= 2;
		if (strcmp(s[0], "pods"))
			n = -1;
	}
	bool is_get = !strcmp(rq->method, "GET");
	bool report = n == 3 && !ns && !strcmp(s[0], "nodes") && !strcmp(s[2], "report");
	bool pods = n >= 1 && !strcmp(s[0], "pods"), nodes = n >= 1 && !strcmp(s[0], "nodes");
	if (report && !strcmp(rq->method, "POST"))
		post_report(rq, rs, s[1]);
	else if (report || (!is_get && n >= 0 && n <= 2))
		http_fail(rs, 405, "MethodNotAllowed",
			  "the server does not allow this method on the requested resource");
	else if (n == 0)
		resource_list(rs);
	else if (n == 1 && (pods || nodes))
		list(rq, rs, pods, ns);
	else if (n == 2 && ((pods && ns) || (nodes && !ns)))
		get(rq, rs, pods, ns, s[1]);
	else
		http_fail(rs, 404, "NotFound", "the server could not find the requested resource");
}

bool metrics_serve(struct http_req *rq, struct http_resp *rs)
{
	char buf[1024], *s[8];
	int n = segments(rq->path, buf, s);
	if (n < 2 || strcmp(s[0], "apis") || strcmp(s[1], MGROUP))
		return false;
	if (n == 2 && !strcmp(rq->method, "GET")) {
		json_t *g = metrics_api_group();
		json_object_set_new(g, "kind", json_string("APIGroup"));
		json_object_set_new(g, "apiVersion", json_string("v1"));
		http_resp_json(rs, 200, g);
	} else if (n >= 3 && !strcmp(s[2], MVERSION)) {
		serve_version(rq, rs, s + 3, n - 3);
	} else {
		http_fail(rs, 404, "NotFound", "the server could not find the requested resource");
	}
	return true;
}
