/*
 * test_api_metrics.c - the API layer's usage table (engine/api/api_metrics.c):
 * quantities, a report and its replacement, the PodMetrics / NodeMetrics
 * shapes, label selectors, expiry, pods gone or moved, and who may report
 * what (a node only itself and the pods bound to it).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/api/api_metrics.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "engine/valid/codec.h"
#include "tests/unit/env.h"
#include "tests/unit/unit.h"

static json_t *load(const char *yaml)
{
	json_t **docs;
	size_t n;
	if (codec_decode(yaml, strlen(yaml), &docs, &n, NULL) < 0 || n != 1)
		return NULL;
	json_t *o = json_incref(docs[0]);
	codec_docs_free(docs, n);
	return o;
}

static int create(const char *yaml)
{
	json_t *o = load(yaml);
	int r = o ? api_create(api, o, NULL, NULL) : -999;
	json_decref(o);
	return r;
}

static void pod(const char *name, const char *node, const char *app)
{
	char *y = xasprintf("kind: Pod\nmetadata: {name: %s, labels: {app: %s}}\nspec: {nodeName: "
			    "%s, containers: [{name: c, image: busybox}]}\n",
			    name, app, node);
	CHECK(create(y) == 0);
	free(y);
}

static struct api *node_view(const char *name)
{
	static const char *const groups[] = {"system:nodes", "system:authenticated", NULL};
	char *user = xasprintf("system:node:%s", name);
	struct api_who w = {
	    .user = user, .uid = (uid_t)-1, .gid = (gid_t)-1, .groups = groups, .node = name};
	struct api *v = api_as(api, &w);
	free(user);
	return v;
}

/* A report of pods "NAME:CPU:MEM ..." (quantities), window win, with the
 * node's own usage when node_cpu is not NULL. */
static json_t *report(const char *pods, const char *win, const char *node_cpu)
{
	json_t *list = json_array();
	char *copy = xstrdup(pods), *save = NULL;
	for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		char name[64], cpu[32], mem[32];
		if (sscanf(t, "%63[^:]:%31[^:]:%31s", name, cpu, mem) != 3)
			continue;
		json_array_append_new(list,
				      json_pack("{s:s, s:s, s:s, s:s, s:[{s:s, s:{s:s, s:s}}]}",
						"namespace", "default", "name", name, "timestamp",
						"2026-12-07T10:00:00Z", "window", win, "containers",
						"name", "c", "usage", "cpu", cpu, "memory", mem));
	}
	free(copy);
	json_t *r = json_pack("{s:o}", "pods", list);
	if (node_cpu)
		json_object_set_new(r, "node",
				    json_pack("{s:s, s:s, s:{s:s, s:s}}", "timestamp",
					      "2026-12-07T10:00:00Z", "window", win, "usage", "cpu",
					      node_cpu, "memory", "1Gi"));
	return r;
}

static int msend(struct api *a, const char *node, const char *pods, const char *win,
		 const char *node_cpu, struct err **e)
{
	json_t *r = report(pods, win, node_cpu);
	int ret = api_metrics_report(a, node, r, e);
	json_decref(r);
	return ret;
}

static int64_t cpu_of(const char *name)
{
	struct api_pod_usage u;
	int r = api_pod_usage(api, "default", name, &u);
	return r == 0 ? u.total.cpu_nano : r;
}

static void test_quantities(void)
{
	int64_t v;
	CHECK(api_cpu_parse("1234567n", &v) == 0 && v == 1234567);
	CHECK(api_cpu_parse("5u", &v) == 0 && v == 5000);
	CHECK(api_cpu_parse("250m", &v) == 0 && v == 250000000);
	CHECK(api_cpu_parse("1.5", &v) == 0 && v == 1500000000);
	CHECK(api_cpu_parse("x", &v) == -EINVAL);
	CHECK(api_cpu_parse("-5n", &v) == -EINVAL);
	CHECK(api_mem_parse("5Mi", &v) == 0 && v == 5 * 1024 * 1024);
	CHECK(api_mem_parse("1234Ki", &v) == 0 && v == 1234 * 1024);
	CHECK(api_mem_parse("1G", &v) == 0 && v == 1000000000);
	CHECK(api_mem_parse("100", &v) == 0 && v == 100);
	json_t *j = api_usage_json(&(struct api_usage){250000000, 3 * 1024 * 1024});
	CHECK(!strcmp(obj_str(j, "cpu"), "250000000n") && !strcmp(obj_str(j, "memory"), "3072Ki"));
	json_decref(j);
	j = api_usage_json(&(struct api_usage){1, 1000});
	CHECK(!strcmp(obj_str(j, "memory"), "1000"));
	json_decref(j);
	char w[24];
	api_window_format(10000, w);
	CHECK(!strcmp(w, "10s"));
	api_window_format(1500, w);
	CHECK(!strcmp(w, "1.5s"));
	api_window_format(20064, w);
	CHECK(!strcmp(w, "20.064s"));
	api_window_format(1050, w);
	CHECK(!strcmp(w, "1.05s"));
	api_window_format(500, w);
	CHECK(!strcmp(w, "500ms"));
}

static void test_report_and_read(void)
{
	CHECK(cpu_of("a") == -ENOENT);
	CHECK(msend(api, "n1", "a:250m:10Mi b:5000000n:1Ki", "10s", "1500m", NULL) == 0);
	CHECK(cpu_of("a") == 250000000);
	CHECK(cpu_of("b") == 5000000);
	json_t *pm;
	CHECK(api_pod_metrics(api, "default", "a", &pm) == 0);
	CHECK(!strcmp(obj_str(pm, "kind"), "PodMetrics"));
	CHECK(!strcmp(obj_str(pm, "apiVersion"), "metrics.k8s.io/v1beta1"));
	CHECK(!strcmp(obj_str(pm, "metadata.namespace"), "default"));
	CHECK(!strcmp(obj_str(pm, "metadata.labels.app"), "web"));
	CHECK(obj_str(pm, "metadata.creationTimestamp"));
	CHECK(!strcmp(obj_str(pm, "timestamp"), "2026-12-07T10:00:00Z"));
	CHECK(!strcmp(obj_str(pm, "window"), "10s"));
	json_t *c = json_array_get(json_object_get(pm, "containers"), 0);
	CHECK(!strcmp(obj_str(c, "name"), "c"));
	CHECK(!strcmp(obj_str(c, "usage.cpu"), "250000000n"));
	CHECK(!strcmp(obj_str(c, "usage.memory"), "10240Ki"));
	json_decref(pm);
	json_t *nm;
	CHECK(api_node_metrics(api, "n1", &nm) == 0);
	CHECK(!strcmp(obj_str(nm, "kind"), "NodeMetrics"));
	CHECK(!strcmp(obj_str(nm, "usage.cpu"), "1500000000n"));
	CHECK(!strcmp(obj_str(nm, "usage.memory"), "1048576Ki"));
	json_decref(nm);
	CHECK(api_node_metrics(api, "n2", &nm) == -ENOENT);
	CHECK(api_node_metrics(api, "nope", &nm) == -ENOENT);
}

static void test_lists_and_selectors(void)
{
	json_t *l = api_pod_metrics_list(api, NULL, NULL, NULL);
	CHECK(json_array_size(l) == 2);
	json_decref(l);
	l = api_pod_metrics_list(api, "default", "app=web", NULL);
	CHECK(json_array_size(l) == 1 &&
	      !strcmp(obj_str(json_array_get(l, 0), "metadata.name"), "a"));
	json_decref(l);
	l = api_pod_metrics_list(api, "kube-system", NULL, NULL);
	CHECK(l && json_array_size(l) == 0);
	json_decref(l);
	struct err *e = NULL;
	CHECK(api_pod_metrics_list(api, NULL, "a in (", &e) == NULL && e);
	err_free(e);
	l = api_node_metrics_list(api, NULL, NULL);
	CHECK(json_array_size(l) == 1);
	json_decref(l);
}

/* A node's new report replaces its last: pods it left out are gone. */
static void test_replace(void)
{
	CHECK(msend(api, "n1", "a:100m:1Mi", "10s", NULL, NULL) == 0);
	CHECK(cpu_of("a") == 100000000);
	CHECK(cpu_of("b") == -ENOENT);
	json_t *nm;
	CHECK(api_node_metrics(api, "n1", &nm) == -ENOENT); /* no node usage this time */
	/* A malformed report changes nothing. */
	json_t *bad = json_pack("{s:[{s:s, s:s, s:s, s:[{s:s, s:{s:s, s:s}}]}]}", "pods",
				"namespace", "default", "name", "a", "window", "10s", "containers",
				"name", "c", "usage", "cpu", "lots", "memory", "1Mi");
	struct err *e = NULL;
	CHECK(api_metrics_report(api, "n1", bad, &e) == -EINVAL && e);
	err_free(e);
	json_decref(bad);
	CHECK(cpu_of("a") == 100000000);
}

/* A sample of a pod that is gone, or bound elsewhere now, is not shown. */
static void test_gone(void)
{
	CHECK(msend(api, "n1", "a:100m:1Mi b:1m:1Mi", "10s", NULL, NULL) == 0);
	CHECK(cpu_of("b") == 1000000);
	CHECK(api_delete_opts(api, KIND_POD, "default", "b", 0, NULL) == 1);
	CHECK(cpu_of("b") == -ENOENT);
	pod("b", "n2", "db"); /* again, on n2: n1's old sample is not its */
	CHECK(cpu_of("b") == -ENOENT);
	json_t *l = api_pod_metrics_list(api, NULL, NULL, NULL);
	CHECK(json_array_size(l) == 1);
	json_decref(l);
}

/* A sample naming a uid belongs to that pod only, not to a new pod of
 * the same name. */
static void test_uid(void)
{
	struct sobj *o = api_get(api, KIND_POD, "default", "a");
	CHECK(o != NULL);
	const char *uids[] = {o ? obj_str(o->obj, "metadata.uid") : "", "not-the-pods"};
	for (int i = 0; i < 2; i++) {
		json_t *r =
		    json_pack("{s:[{s:s, s:s, s:s, s:s, s:[{s:s, s:{s:s, s:s}}]}]}", "pods",
			      "namespace", "default", "name", "a", "uid", uids[i], "window", "10s",
			      "containers", "name", "c", "usage", "cpu", "9m", "memory", "1Mi");
		CHECK(api_metrics_report(api, "n1", r, NULL) == 0);
		json_decref(r);
		CHECK(cpu_of("a") == (i == 0 ? 9000000 : -ENOENT));
	}
	sobj_unref(o);
}

static void test_authz(void)
{
	struct api *n1 = node_view("n1");
	struct err *e = NULL;
	CHECK(msend(n1, "n1", "a:300m:1Mi", "10s", "1", NULL) == 0);
	CHECK(cpu_of("a") == 300000000);
	CHECK(msend(n1, "n2", "b:1m:1Mi", "10s", NULL, &e) == -EPERM && e);
	CHECK(e && strstr(e->msg, "system:node:n1"));
	err_free(e);
	e = NULL;
	/* b is n2's: n1 may not report it, and the whole report is refused */
	CHECK(msend(n1, "n1", "a:1m:1Mi b:1m:1Mi", "10s", NULL, &e) == -EPERM && e);
	CHECK(e && strstr(e->msg, "bound to it"));
	err_free(e);
	CHECK(cpu_of("a") == 300000000);
	/* a pod gone meanwhile is skipped, not refused */
	CHECK(msend(n1, "n1", "a:2m:1Mi ghost:1m:1Mi", "10s", NULL, NULL) == 0);
	CHECK(cpu_of("a") == 2000000);
	/* a user is not a node */
	struct api_who w = {.user = "alice", .uid = 1000, .gid = 1000};
	struct api *alice = api_as(api, &w);
	e = NULL;
	CHECK(msend(alice, "n1", "a:1m:1Mi", "10s", NULL, &e) == -EPERM);
	err_free(e);
	/* alice reads what the namespace lets her read: default is 0755 */
	struct api_pod_usage u;
	CHECK(api_pod_usage(alice, "default", "a", &u) == 0);
	api_free(alice);
	api_free(n1);
}

static void test_expiry(void)
{
	CHECK(msend(api, "n1", "a:7m:1Mi", "1s", "1", NULL) == 0);
	CHECK(cpu_of("a") == 7000000);
	sleep(2);
	CHECK(cpu_of("a") == 7000000);
	sleep(2); /* past 3 windows of at least 1 s */
	CHECK(cpu_of("a") == -ENOENT);
	json_t *nm;
	CHECK(api_node_metrics(api, "n1", &nm) == -ENOENT);
	json_t *l = api_pod_metrics_list(api, NULL, NULL, NULL);
	CHECK(json_array_size(l) == 0);
	json_decref(l);
}

int main(void)
{
	env_up("api-metrics");
	CHECK(create("kind: Node\nmetadata: {name: n1}\n") == 0);
	CHECK(create("kind: Node\nmetadata: {name: n2}\n") == 0);
	pod("a", "n1", "web");
	pod("b", "n1", "db");
	RUN(test_quantities);
	RUN(test_report_and_read);
	RUN(test_lists_and_selectors);
	RUN(test_replace);
	RUN(test_gone);
	RUN(test_uid);
	RUN(test_authz);
	RUN(test_expiry);
	env_down();
	return unit_done();
}
