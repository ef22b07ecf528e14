/*
 * test_hollow.c - hollow nodes against a real store and API in a temporary
 * dir: registration (capacity, labels, Ready), take-over, pods bound to a
 * hollow node becoming Running with container statuses, QoS classes,
 * terminating pods finalized, pause and revival, and a burst of pods
 * written in a few batches.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/api/api.h"
#include "engine/hmap.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "runtime/hollow/hollow.h"
#include "tests/unit/env.h"
#include "tests/unit/unit.h"

static void up(void)
{
	env_up("hollow");
}

static void down(void)
{
	env_down();
}

static struct sobj *node(const char *name)
{
	return api_get(api, K("Node"), NULL, name);
}

static struct sobj *pod(const char *name)
{
	return api_get(api, K("Pod"), "default", name);
}

static bool str_is(const json_t *o, const char *path, const char *want)
{
	const char *s = obj_str(o, path);
	return s && !strcmp(s, want);
}

static bool pod_phase(const char *name, const char *phase)
{
	struct sobj *o = pod(name);
	bool r = o && str_is(o->obj, "status.phase", phase);
	sobj_unref(o);
	return r;
}

static bool pod_gone(const char *name)
{
	struct sobj *o = pod(name);
	sobj_unref(o);
	return !o;
}

/* The Ready condition's lastHeartbeatTime of node name, as a time. */
static time_t heartbeat_of(const char *name)
{
	struct sobj *o = node(name);
	time_t t = o ? obj_time(obj_str(obj_condition(o->obj, "Ready"), "lastHeartbeatTime")) : -1;
	sobj_unref(o);
	return t;
}

/* Creates pod name bound to node (NULL: unbound) with containers (JSON). */
static int make_pod(const char *name, const char *node_name, const char *containers)
{
	char *text = xasprintf("{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": "
			       "{\"name\": \"%s\"}, \"spec\": {%s%s%s \"containers\": %s}}",
			       name, node_name ? "\"nodeName\": \"" : "",
			       node_name ? node_name : "", node_name ? "\"," : "",
			       containers ? containers
					  : "[{\"name\": \"app\", \"image\": \"busybox:1.36\"}]");
	json_t *doc = json_loads(text, 0, NULL);
	free(text);
	struct err *e = NULL;
	int r = doc ? api_create(api, doc, NULL, &e) : -EINVAL;
	if (r < 0)
		fprintf(stderr, "  make_pod %s: %s\n", name, e ? e->msg : "bad JSON");
	err_free(e);
	json_decref(doc);
	return r;
}

static int set_paused(json_t *obj, void *arg, struct err **e)
{
	json_t *md = json_object_get(obj, "metadata");
	json_t *ann = json_object_get(md, "annotations");
	if (!json_is_object(ann)) {
		ann = json_object();
		json_object_set_new(md, "annotations", ann);
	}
	if (arg)
		json_object_set_new(ann, HOLLOW_PAUSED_ANNOTATION, json_string("true"));
	else
		json_object_del(ann, HOLLOW_PAUSED_ANNOTATION);
	return 0;
}

static void pause_node(const char *name, bool paused)
{
	CHECK(api_patch(api, K("Node"), NULL, name, set_paused, paused ? "" : NULL, NULL) >= 0);
}

static const struct hollow_opts fast = {.heartbeat_s = 1, .gather_ms = 2};

static void test_register(void)
{
	up();
	struct hollow *h = NULL;
	struct err *e = NULL;
	CHECK(hollow_start(apic, 3, &fast, &h, &e) == 0);
	struct sobj **v;
	int n = api_list(api, K("Node"), NULL, "type=hollow", &v, NULL);
	CHECK(n == 3);
	sobj_list_free(v, (size_t)n);
	struct sobj *o = node("hollow-2");
	CHECK(o != NULL);
	if (o) {
		const json_t *x = o->obj;
		json_t *labels = obj_at(x, "metadata.labels");
		CHECK(!strcmp(json_string_value(json_object_get(labels, "kubernetes.io/hostname")),
			      "hollow-2"));
		CHECK(!strcmp(json_string_value(json_object_get(labels, "kubernetes.io/os")),
			      "linux"));
		CHECK(str_is(x, "status.capacity.cpu", "4"));
		CHECK(str_is(x, "status.capacity.memory", "16Gi"));
		CHECK(str_is(x, "status.capacity.pods", "110"));
		CHECK(str_is(x, "status.allocatable.memory", "16Gi"));
		json_t *ready = obj_condition(x, "Ready");
		CHECK(str_is(ready, "status", "True"));
		CHECK(str_is(ready, "reason", "KubeletReady"));
		CHECK(obj_time(obj_str(ready, "lastHeartbeatTime")) > 0);
		CHECK(obj_time(obj_str(ready, "lastTransitionTime")) > 0);
		CHECK(str_is(obj_condition(x, "MemoryPressure"), "status", "False"));
		CHECK(str_is(obj_condition(x, "DiskPressure"), "status", "False"));
		CHECK(str_is(obj_condition(x, "PIDPressure"), "status", "False"));
		json_t *addr = json_array_get(obj_at(x, "status.addresses"), 0);
		CHECK(str_is(addr, "type", "InternalIP") && str_is(addr, "address", "10.200.0.2"));
		CHECK(str_is(x, "status.nodeInfo.kubeletVersion", "clusterfs-hollow"));
		CHECK(str_is(x, "status.nodeInfo.architecture", "amd64"));
		CHECK(str_is(x, "status.nodeInfo.operatingSystem", "linux"));
	}
	sobj_unref(o);
	o = node("hollow-4"); /* negative control: only n nodes */
	CHECK(o == NULL);
	sobj_unref(o);
	hollow_stop(h);
	err_free(e);
	down();
}

static void test_takeover(void)
{
	up();
	/* hollow-1 exists already, without the labels; a restart keeps its uid. */
	json_t *pre = json_pack("{s:s, s:s, s:{s:s, s:{s:s}}}", "apiVersion", "v1", "kind", "Node",
				"metadata", "name", "hollow-1", "labels", "rack", "r7");
	struct sobj *made = NULL;
	CHECK(api_create(api, pre, &made, NULL) == 0);
	json_decref(pre);
	struct hollow *h = NULL;
	CHECK(hollow_start(apic, 2, &fast, &h, NULL) == 0);
	struct sobj *o = node("hollow-1");
	CHECK(o && made &&
	      !strcmp(obj_str(o->obj, "metadata.uid"), obj_str(made->obj, "metadata.uid")));
	CHECK(o &&
	      !strcmp(json_string_value(json_object_get(obj_at(o->obj, "metadata.labels"), "type")),
		      "hollow"));
	CHECK(o &&
	      !strcmp(json_string_value(json_object_get(obj_at(o->obj, "metadata.labels"), "rack")),
		      "r7"));
	sobj_unref(o);
	/* It reports status at once. */
	CHECK(WAIT_FOR(heartbeat_of("hollow-1") > 0, 2000));
	hollow_stop(h);
	struct sobj *o2 = node("hollow-2");
	CHECK(hollow_start(apic, 2, &fast, &h, NULL) == 0);
	struct sobj *o3 = node("hollow-2");
	CHECK(o2 && o3 &&
	      !strcmp(obj_str(o2->obj, "metadata.uid"), obj_str(o3->obj, "metadata.uid")));
	sobj_unref(o2);
	sobj_unref(o3);
	sobj_unref(made);
	hollow_stop(h);
	down();
}

static void test_pod_runs(void)
{
	up();
	struct hollow *h = NULL;
	CHECK(hollow_start(apic, 3, &fast, &h, NULL) == 0);
	CHECK(make_pod("web", "hollow-2",
		       "[{\"name\": \"web\", \"image\": \"nginx:1.25\"},"
		       " {\"name\": \"a-side\", \"image\": \"busybox:1.36\"}]") == 0);
	CHECK(make_pod("elsewhere", "real-node", NULL) == 0);
	CHECK(make_pod("unbound", NULL, NULL) == 0);
	CHECK(WAIT_FOR(pod_phase("web", "Running"), 3000));
	struct sobj *o = pod("web");
	if (o) {
		const json_t *x = o->obj;
		json_t *conds = obj_at(x, "status.conditions");
		static const char *const order[] = {"Initialized", "Ready", "ContainersReady",
						    "PodScheduled"};
		CHECK(json_array_size(conds) == 4);
		for (size_t i = 0; i < 4; i++) {
			json_t *c = json_array_get(conds, i);
			CHECK(str_is(c, "type", order[i]) && str_is(c, "status", "True"));
		}
		CHECK(str_is(x, "status.hostIP", "10.200.0.2"));
		const char *ip = obj_str(x, "status.podIP");
		CHECK(ip && !strncmp(ip, "10.100.", 7));
		CHECK(obj_time(obj_str(x, "status.startTime")) > 0);
		CHECK(str_is(x, "status.qosClass", "BestEffort"));
		json_t *cs = obj_at(x, "status.containerStatuses");
		CHECK(json_array_size(cs) == 2);
		json_t *c0 = json_array_get(cs, 0), *c1 = json_array_get(cs, 1);
		CHECK(str_is(c0, "name", "a-side")); /* sorted by name */
		CHECK(str_is(c1, "name", "web"));
		CHECK(json_is_true(json_object_get(c1, "ready")));
		CHECK(json_is_true(json_object_get(c1, "started")));
		CHECK(json_integer_value(json_object_get(c1, "restartCount")) == 0 &&
		      json_is_integer(json_object_get(c1, "restartCount")));
		CHECK(str_is(c1, "image", "nginx:1.25"));
		CHECK(str_is(c1, "imageID", "hollow://nginx:1.25"));
		CHECK(str_is(c1, "containerID", "hollow://web/web"));
		CHECK(obj_time(obj_str(c1, "state.running.startedAt")) > 0);
	}
	sobj_unref(o);
	/* negative controls: pods not on a hollow node are left alone */
	CHECK(pod_phase("elsewhere", "Pending"));
	CHECK(pod_phase("unbound", "Pending"));
	hollow_stop(h);
	down();
}

static void test_qos_and_ips(void)
{
	up();
	struct hollow *h = NULL;
	CHECK(hollow_start(apic, 2, &fast, &h, NULL) == 0);
	CHECK(make_pod("g", "hollow-1",
		       "[{\"name\": \"c\", \"image\": \"x:1\", \"resources\": {\"limits\": "
		       "{\"cpu\": \"500m\", \"memory\": \"128Mi\"}}}]") == 0);
	CHECK(make_pod("b", "hollow-1",
		       "[{\"name\": \"c\", \"image\": \"x:1\", \"resources\": {\"requests\": "
		       "{\"cpu\": \"100m\"}}}]") == 0);
	CHECK(make_pod("b2", "hollow-2",
		       "[{\"name\": \"c\", \"image\": \"x:1\", \"resources\": {\"limits\": "
		       "{\"cpu\": \"1\", \"memory\": \"1Gi\"}, \"requests\": {\"cpu\": \"0.5\", "
		       "\"memory\": \"1Gi\"}}}]") == 0);
	CHECK(WAIT_FOR(pod_phase("g", "Running") && pod_phase("b", "Running") &&
			   pod_phase("b2", "Running"),
		       3000));
	struct sobj *g = pod("g"), *b = pod("b"), *b2 = pod("b2");
	CHECK(g && str_is(g->obj, "status.qosClass", "Guaranteed"));
	CHECK(b && str_is(b->obj, "status.qosClass", "Burstable"));
	CHECK(b2 && str_is(b2->obj, "status.qosClass", "Burstable"));
	const char *ig = g ? obj_str(g->obj, "status.podIP") : NULL;
	const char *ib = b ? obj_str(b->obj, "status.podIP") : NULL;
	const char *ib2 = b2 ? obj_str(b2->obj, "status.podIP") : NULL;
	CHECK(ig && ib && ib2 && strcmp(ig, ib) && strcmp(ib, ib2) && strcmp(ig, ib2));
	CHECK(b2 && str_is(b2->obj, "status.hostIP", "10.200.0.2"));
	sobj_unref(g);
	sobj_unref(b);
	sobj_unref(b2);
	hollow_stop(h);
	down();
}

static void test_terminating_finalized(void)
{
	up();
	struct hollow *h = NULL;
	CHECK(hollow_start(apic, 2, &fast, &h, NULL) == 0);
	CHECK(make_pod("doomed", "hollow-1", NULL) == 0);
	CHECK(make_pod("kept", "hollow-1", NULL) == 0);
	CHECK(WAIT_FOR(pod_phase("doomed", "Running"), 3000));
	/* graceful: the node is Ready, so the API only marks the pod ... */
	struct err *e = NULL;
	CHECK(api_delete_opts(api, K("Pod"), "default", "doomed", 30, &e) >= 0);
	/* ... and the hollow kubelet finalizes it */
	CHECK(WAIT_FOR(pod_gone("doomed"), 3000));
	CHECK(!pod_gone("kept"));
	err_free(e);
	hollow_stop(h);
	down();
}

static void test_pause_and_revive(void)
{
	up();
	struct hollow *h = NULL;
	CHECK(hollow_start(apic, 3, &fast, &h, NULL) == 0);
	pause_node("hollow-3", true);
	usleep(100 * 1000);
	time_t paused_hb = heartbeat_of("hollow-3"), live_hb = heartbeat_of("hollow-1");
	CHECK(make_pod("waiting", "hollow-3", NULL) == 0);
	sleep(3); /* three heartbeat periods */
	CHECK(heartbeat_of("hollow-3") == paused_hb);
	CHECK(heartbeat_of("hollow-1") > live_hb); /* positive control */
	CHECK(pod_phase("waiting", "Pending"));
	pause_node("hollow-3", false);
	CHECK(WAIT_FOR(heartbeat_of("hollow-3") > paused_hb, 1500));
	CHECK(WAIT_FOR(pod_phase("waiting", "Running"), 2000));
	hollow_stop(h);
	down();
}

static void test_burst(void)
{
	up();
	enum { NODES = 100, PODS = 3000 };
	struct hollow *h = NULL;
	struct hollow_opts o = {.heartbeat_s = 5};
	CHECK(hollow_start(apic, NODES, &o, &h, NULL) == 0);
	json_t **docs = xcalloc(PODS, sizeof(json_t *));
	for (int i = 0; i < PODS; i++) {
		char name[32], nn[32];
		snprintf(name, sizeof(name), "p-%d", i);
		hollow_node_name(1 + i % NODES, nn);
		docs[i] = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:[{s:s, s:s}]}}",
				    "apiVersion", "v1", "kind", "Pod", "metadata", "name", name,
				    "namespace", "default", "spec", "nodeName", nn, "containers",
				    "name", "c", "image", "busybox:1.36");
	}
	uint64_t b0 = __atomic_load_n(&store_batches_for_test, __ATOMIC_SEQ_CST);
	CHECK(api_create_many(api, docs, PODS, NULL) == PODS);
	int running = 0;
	for (int tries = 0; tries < 800 && running < PODS; tries++) {
		usleep(10000);
		struct sobj **v;
		int n = api_list(api, K("Pod"), "default", NULL, &v, NULL);
		running = 0;
		for (int i = 0; i < n; i++)
			running += str_is(v[i]->obj, "status.phase", "Running");
		sobj_list_free(v, (size_t)n);
	}
	uint64_t batches = __atomic_load_n(&store_batches_for_test, __ATOMIC_SEQ_CST) - b0;
	CHECK(running == PODS);
	printf("  %d pods on %d nodes Running; %llu store batches\n", running, NODES,
	       (unsigned long long)batches);
	CHECK(batches < 200); /* no per-pod transaction */
	/* every pod IP is unique */
	struct sobj **v;
	int n = api_list(api, K("Pod"), "default", NULL, &v, NULL);
	struct hmap seen = {0};
	int dup = 0;
	for (int i = 0; i < n; i++) {
		const char *ip = obj_str(v[i]->obj, "status.podIP");
		if (ip && hmap_set(&seen, ip, (void *)1))
			dup++;
	}
	CHECK(dup == 0 && hmap_len(&seen) == PODS);
	hmap_clear(&seen, NULL);
	sobj_list_free(v, (size_t)n);
	for (int i = 0; i < PODS; i++)
		json_decref(docs[i]);
	free(docs);
	hollow_stop(h);
	down();
}

/* Prefixes: several servers' hollow nodes have names of their own. */
static void test_prefix(void)
{
	char *p = hollow_prefix_for(NULL, NULL);
	CHECK(!strcmp(p, "hollow"));
	free(p);
	p = hollow_prefix_for(NULL, "CP-1.example.com");
	CHECK(!strcmp(p, "hollow-cp-1-example-com"));
	CHECK(hollow_prefix_check(p, NULL) == 0);
	free(p);
	p = hollow_prefix_for(NULL, "a-very-long-server-name-indeed-x");
	CHECK(strlen(p) <= HOLLOW_PREFIX_MAX && hollow_prefix_check(p, NULL) == 0);
	free(p);
	p = hollow_prefix_for("edge", "cp-1");
	CHECK(!strcmp(p, "edge"));
	free(p);
	CHECK(hollow_prefix_check("Bad", NULL) == -EINVAL);
	CHECK(hollow_prefix_check("-x", NULL) == -EINVAL);
	CHECK(hollow_prefix_check("", NULL) == -EINVAL);
	struct hollow_opts o = {.prefix = "no_good"};
	struct hollow *h = NULL;
	CHECK(hollow_start(NULL, 1, &o, &h, NULL) == -EINVAL && !h);
}

int main(void)
{
	RUN(test_prefix);
	RUN(test_register);
	RUN(test_takeover);
	RUN(test_pod_runs);
	RUN(test_qos_and_ips);
	RUN(test_terminating_finalized);
	RUN(test_pause_and_revive);
	RUN(test_burst);
	return unit_done();
}
