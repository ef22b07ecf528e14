/*
 * test_hollow_usage.c - hollow nodes' synthetic load
 * (runtime/hollow/hollow_usage.c): the value syntax, a pass's reports (one
 * per node, running pods of our nodes only, the ConfigMap's key by app
 * label, then default, then 1m/1Mi; a change followed at the next pass;
 * a pod's usage shared by its containers), and, with CFS_UNIT_BENCH=1, the
 * cost of one pass over 1,000 nodes of 30 pods.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clock.h"
#include "engine/obj.h"
#include "runtime/hollow/hollow_usage.h"
#include "tests/unit/env.h"
#include "tests/unit/unit.h"

static bool owns(void *arg, const char *node)
{
	return !strncmp(node, "h-", 2);
}

/* Creates n running pods NAME-i on nodes h-(i % nodes), with label app. */
static void pods(const char *name, int n, int nodes, const char *app, int ctrs)
{
	json_t **docs = xcalloc((size_t)n, sizeof(json_t *));
	for (int i = 0; i < n; i++) {
		char pn[64], nn[32];
		snprintf(pn, sizeof(pn), "%s-%d", name, i);
		snprintf(nn, sizeof(nn), "h-%d", i % nodes);
		json_t *cs = json_array();
		for (int c = 0; c < ctrs; c++) {
			char cn[16];
			snprintf(cn, sizeof(cn), "c%d", c);
			json_array_append_new(cs,
					      json_pack("{s:s, s:s}", "name", cn, "image", "x"));
		}
		docs[i] = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:{s:s, s:o}, s:{s:s}}",
				    "apiVersion", "v1", "kind", "Pod", "metadata", "name", pn,
				    "namespace", "default", "labels", "app", app, "spec",
				    "nodeName", nn, "containers", cs, "status", "phase", "Running");
	}
	CHECK(api_create_many(api, docs, (size_t)n, NULL) == n);
	for (int i = 0; i < n; i++)
		json_decref(docs[i]);
	free(docs);
}

/* api_create of o (taken). */
static int create(json_t *o)
{
	int r = api_create(api, o, NULL, NULL);
	json_decref(o);
	return r;
}

static int64_t cpu(const char *pod, int64_t *mem)
{
	struct api_pod_usage u;
	int r = api_pod_usage(api, "default", pod, &u);
	if (mem)
		*mem = r == 0 ? u.total.mem_bytes : r;
	return r == 0 ? u.total.cpu_nano : r;
}

static void test_parse(void)
{
	struct api_usage u = {1, 2};
	CHECK(hollow_usage_parse("cpu=200m,memory=50Mi", &u) == 0);
	CHECK(u.cpu_nano == 200000000 && u.mem_bytes == 50 << 20);
	CHECK(hollow_usage_parse(" cpu=1 ", &u) == 0 && u.cpu_nano == 1000000000);
	CHECK(u.mem_bytes == 50 << 20); /* left as it was */
	CHECK(hollow_usage_parse("", &u) == 0);
	CHECK(hollow_usage_parse("cpu", &u) == -EINVAL);
	CHECK(hollow_usage_parse("disk=1", &u) == -EINVAL);
	CHECK(hollow_usage_parse("cpu=lots", &u) == -EINVAL);
}

static void test_reports(void)
{
	pods("web", 4, 2, "web", 2);
	pods("db", 1, 1, "db", 1);
	/* not ours, and not running: no report */
	CHECK(create(json_pack("{s:s, s:s, s:{s:s}, s:{s:s, s:[{s:s, s:s}]}, s:{s:s}}",
			       "apiVersion", "v1", "kind", "Pod", "metadata", "name", "other",
			       "spec", "nodeName", "real-node", "containers", "name", "c", "image",
			       "x", "status", "phase", "Running")) == 0);
	CHECK(hollow_usage_report_once(apic, owns, NULL, 1000) == 2); /* h-0, h-1 */
	int64_t mem;
	CHECK(cpu("web-0", &mem) == 1000000 && mem == 1 << 20); /* no ConfigMap: 1m, 1Mi */
	CHECK(cpu("other", NULL) == -ENOENT);

	CHECK(create(json_pack("{s:s, s:s, s:{s:s}, s:{s:s, s:s}}", "apiVersion", "v1", "kind",
			       "ConfigMap", "metadata", "name", HOLLOW_USAGE_CONFIGMAP, "data",
			       "web", "cpu=201m,memory=50Mi", "default", "cpu=5m")) == 0);
	CHECK(hollow_usage_report_once(apic, owns, NULL, 1000) == 2);
	CHECK(cpu("web-3", &mem) == 201000000 && mem == 50 << 20);
	CHECK(cpu("db-0", &mem) == 5000000 && mem == 1 << 20); /* default's cpu, fallback memory */
	json_t *pm;
	CHECK(api_pod_metrics(api, "default", "web-1", &pm) == 0);
	json_t *cs = json_object_get(pm, "containers");
	CHECK(json_array_size(cs) == 2);
	/* 201m over two containers: the first takes the odd nanocore */
	CHECK(!strcmp(obj_str(json_array_get(cs, 0), "usage.cpu"), "100500000n"));
	CHECK(!strcmp(obj_str(json_array_get(cs, 1), "usage.cpu"), "100500000n"));
	CHECK(!strcmp(obj_str(json_array_get(cs, 1), "name"), "c1"));
	json_decref(pm);
	json_t *nm;
	CHECK(api_node_metrics(api, "h-0", &nm) == -ENOENT); /* no Node object h-0 */
}

/* The node's usage is the sum of its pods'. */
static void test_node_sum(void)
{
	CHECK(create(json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Node",
			       "metadata", "name", "h-1")) == 0);
	CHECK(hollow_usage_report_once(apic, owns, NULL, 1000) == 2);
	json_t *nm;
	CHECK(api_node_metrics(api, "h-1", &nm) == 0);
	/* h-1 runs web-1 and web-3: 2 x 201m, 2 x 50Mi */
	CHECK(nm && !strcmp(obj_str(nm, "usage.cpu"), "402000000n"));
	CHECK(nm && !strcmp(obj_str(nm, "usage.memory"), "102400Ki"));
	json_decref(nm);
	/* a node of ours without pods reports itself idle; another's does not */
	CHECK(create(json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Node",
			       "metadata", "name", "h-7")) == 0);
	CHECK(create(json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Node",
			       "metadata", "name", "real-node")) == 0);
	CHECK(hollow_usage_report_once(apic, owns, NULL, 1000) == 3);
	CHECK(api_node_metrics(api, "h-7", &nm) == 0);
	CHECK(nm && !strcmp(obj_str(nm, "usage.cpu"), "0n"));
	json_decref(nm);
	CHECK(api_node_metrics(api, "real-node", &nm) == -ENOENT);
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* 1,000 nodes x 30 pods: the median of 5 passes, and of 5 reads of
 * every PodMetrics (what kubectl top pods -A and /cluster/top cost), with
 * the 1,000 Node objects there, as hollow nodes have them. */
static void test_bench(void)
{
	if (!getenv("CFS_UNIT_BENCH")) {
		printf("  (the 1,000 x 30 figures skipped; set CFS_UNIT_BENCH=1)\n");
		return;
	}
	enum { NODES = 1000, PER = 30, RUNS = 5 };
	json_t **nodes = xcalloc(NODES, sizeof(json_t *));
	for (int i = 0; i < NODES; i++) {
		char nn[32];
		snprintf(nn, sizeof(nn), "h-%d", i);
		nodes[i] = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Node",
				     "metadata", "name", nn);
	}
	CHECK(api_create_many(api, nodes, NODES, NULL) >= NODES - 2); /* h-1, h-7 exist */
	for (int i = 0; i < NODES; i++)
		json_decref(nodes[i]);
	free(nodes);
	pods("load", NODES * PER, NODES, "load", 1);
	int64_t pass[RUNS], read[RUNS];
	for (int i = 0; i < RUNS; i++) {
		int64_t t0 = mono_ns();
		CHECK(hollow_usage_report_once(apic, owns, NULL, 10000) == NODES);
		int64_t t1 = mono_ns();
		json_t *l = api_pod_metrics_list(api, NULL, NULL, NULL);
		int64_t t2 = mono_ns();
		CHECK(json_array_size(l) >= NODES * PER);
		json_decref(l);
		pass[i] = (t1 - t0) / 1000000;
		read[i] = (t2 - t1) / 1000000;
	}
	qsort(pass, RUNS, sizeof(int64_t), cmp64);
	qsort(read, RUNS, sizeof(int64_t), cmp64);
	printf("  hollow usage: one pass over %d nodes x %d pods: median %" PRId64
	       " ms (min %" PRId64 ", max %" PRId64 "): %d reports a period\n",
	       NODES, PER, pass[RUNS / 2], pass[0], pass[RUNS - 1], NODES);
	printf("  every PodMetrics of %d pods (kubectl top pods -A): median %" PRId64 " ms\n",
	       NODES * PER, read[RUNS / 2]);
}

int main(void)
{
	env_up("hollow-usage");
	RUN(test_parse);
	RUN(test_reports);
	RUN(test_node_sum);
	RUN(test_bench);
	env_down();
	return unit_done();
}
