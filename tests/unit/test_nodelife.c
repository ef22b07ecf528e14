/*
 * test_nodelife.c - the node lifecycle controller against a real store and
 * API in a temporary dir.  Most tests drive a fake clock over hand-made
 * Nodes, so timings are exact: a silent node goes Unknown and tainted, its
 * pods are evicted at once, after tolerationSeconds, or never; taints go
 * when the node is back; Ready=False, cordon and user NoExecute taints;
 * pods of deleted and missing nodes; drain.  One test runs hollow nodes on
 * the real clock: a paused hollow node is found out and revived.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/api/api.h"
#include "engine/mem.h"
#include "engine/controllers/nodelife.h"
#include "engine/obj.h"
#include "runtime/hollow/hollow.h"
#include "tests/unit/env.h"
#include "tests/unit/unit.h"

static int64_t fake_ms;

static int64_t fake_now(void)
{
	return __atomic_load_n(&fake_ms, __ATOMIC_SEQ_CST);
}

static void set_clock(int64_t ms)
{
	__atomic_store_n(&fake_ms, ms, __ATOMIC_SEQ_CST);
}

/* A whole second near the real time: where fake clocks start. */
static int64_t t0(void)
{
	return (int64_t)time(NULL) * 1000;
}

static void up(void)
{
	env_up("nodelife");
}

static void down(void)
{
	env_down();
}

static bool str_is(const json_t *o, const char *path, const char *want)
{
	const char *s = obj_str(o, path);
	return s && !strcmp(s, want);
}

/* A node status: Ready = ready, heartbeat at ms. */
static json_t *node_status(const char *ready, int64_t ms)
{
	char ts[32];
	obj_format_time((time_t)(ms / 1000), ts);
	return json_pack("{s:[{s:s, s:s, s:s, s:s, s:s}]}", "conditions", "type", "Ready", "status",
			 ready, "reason", "KubeletReady", "lastHeartbeatTime", ts,
			 "lastTransitionTime", ts);
}

static void make_node(const char *name, const char *ready, int64_t hb_ms)
{
	json_t *n = json_pack("{s:s, s:s, s:{s:s}, s:o}", "apiVersion", "v1", "kind", "Node",
			      "metadata", "name", name, "status", node_status(ready, hb_ms));
	struct err *e = NULL;
	CHECK(api_create(api, n, NULL, &e) == 0);
	if (e)
		fprintf(stderr, "  make_node %s: %s\n", name, e->msg);
	err_free(e);
	json_decref(n);
}

static void post_status(const char *name, const char *ready, int64_t hb_ms)
{
	json_t *s = node_status(ready, hb_ms);
	CHECK(api_update_status(api, K("Node"), NULL, name, s, NULL) >= 0);
	json_decref(s);
}

/* Creates a Running, Ready pod bound to node; tolerations is JSON or NULL. */
static void make_pod(const char *name, const char *node, const char *tolerations)
{
	char *text = xasprintf(
	    "{\"apiVersion\": \"v1\", \"kind\": \"Pod\", \"metadata\": {\"name\": \"%s\"},"
	    " \"spec\": {\"nodeName\": \"%s\", %s%s%s \"containers\": [{\"name\": \"c\","
	    " \"image\": \"busybox:1.36\"}]}, \"status\": {\"phase\": \"Running\","
	    " \"conditions\": [{\"type\": \"Ready\", \"status\": \"True\"}]}}",
	    name, node, tolerations ? "\"tolerations\": " : "", tolerations ? tolerations : "",
	    tolerations ? "," : "");
	json_t *doc = json_loads(text, 0, NULL);
	struct err *e = NULL;
	CHECK(doc && api_create(api, doc, NULL, &e) == 0);
	if (e)
		fprintf(stderr, "  make_pod %s: %s\n", name, e->msg);
	err_free(e);
	json_decref(doc);
	free(text);
}

static bool pod_gone(const char *name)
{
	struct sobj *o = api_get(api, K("Pod"), "default", name);
	sobj_unref(o);
	return !o;
}

static bool pod_terminating(const char *name)
{
	struct sobj *o = api_get(api, K("Pod"), "default", name);
	bool r = o && pod_is_terminating(o->obj);
	sobj_unref(o);
	return r;
}

static bool pod_ready(const char *name)
{
	struct sobj *o = api_get(api, K("Pod"), "default", name);
	bool r = o && obj_condition_true(o->obj, "Ready");
	sobj_unref(o);
	return r;
}

static bool node_ready_is(const char *name, const char *status)
{
	struct sobj *o = api_get(api, K("Node"), NULL, name);
	bool r = o && str_is(obj_condition(o->obj, "Ready"), "status", status);
	sobj_unref(o);
	return r;
}

/* Whether node has the taint key:effect; its timeAdded into added (if non-NULL). */
static bool has_taint(const char *name, const char *key, const char *effect, char added[32])
{
	struct sobj *o = api_get(api, K("Node"), NULL, name);
	bool r = false;
	size_t i;
	json_t *t;
	if (o)
		json_array_foreach(obj_at(o->obj, "spec.taints"), i, t)
		{
			if (str_is(t, "key", key) && str_is(t, "effect", effect)) {
				r = true;
				if (added)
					snprintf(added, 32, "%s", obj_str(t, "timeAdded") ?: "");
			}
		}
	sobj_unref(o);
	return r;
}

static size_t taint_count(const char *name)
{
	struct sobj *o = api_get(api, K("Node"), NULL, name);
	size_t n = o ? json_array_size(obj_at(o->obj, "spec.taints")) : 0;
	sobj_unref(o);
	return n;
}

/* How many Events with reason about name there are. */
static int events(const char *reason, const char *name)
{
	api_flush_events(api);
	struct sobj **v;
	int n = api_list(api, K("Event"), NULL, NULL, &v, NULL), found = 0;
	for (int i = 0; i < n; i++)
		found += str_is(v[i]->obj, "reason", reason) &&
			 str_is(v[i]->obj, "involvedObject.name", name);
	sobj_list_free(v, (size_t)n);
	return found;
}

static struct nodelife *start(int grace_s, bool fake)
{
	struct nodelife_opts o = {
	    .grace_s = grace_s, .period_ms = 20, .now_ms = fake ? fake_now : NULL};
	struct nodelife *nl = NULL;
	struct err *e = NULL;
	CHECK(nodelife_start(api, &o, &nl, &e) == 0);
	err_free(e);
	return nl;
}

static const char tol_one[] = "[{\"key\": \"node.kubernetes.io/unreachable\", \"operator\": "
			      "\"Exists\", \"effect\": \"NoExecute\", \"tolerationSeconds\": 1}]";
static const char tol_forever[] = "[{\"key\": \"node.kubernetes.io/unreachable\", "
				  "\"operator\": \"Exists\", \"effect\": \"NoExecute\"}]";

static void test_unreachable_eviction(void)
{
	up();
	int64_t t = t0();
	set_clock(t);
	make_node("n1", "True", t);
	make_node("n2", "True", t);
	api_set_default_toleration(api, 0); /* as good as no toleration */
	make_pod("now", "n1", NULL);
	api_set_default_toleration(api, 300);
	make_pod("one", "n1", tol_one);
	make_pod("forever", "n1", tol_forever);
	make_pod("other", "n2", NULL);
	struct nodelife *nl = start(40, true);

	/* within the grace period nothing happens */
	post_status("n2", "True", t + 40000);
	set_clock(t + 40000);
	usleep(150 * 1000);
	CHECK(node_ready_is("n1", "True") && taint_count("n1") == 0);
	CHECK(!pod_gone("now"));

	/* past it: Unknown, tainted, evicted */
	set_clock(t + 41000);
	CHECK(WAIT_FOR(node_ready_is("n1", "Unknown"), 2000));
	char added[32] = "", want[32];
	obj_format_time((time_t)(t / 1000 + 41), want);
	CHECK(
	    WAIT_FOR(has_taint("n1", "node.kubernetes.io/unreachable", "NoExecute", added), 2000));
	CHECK(!strcmp(added, want));
	CHECK(has_taint("n1", "node.kubernetes.io/unreachable", "NoSchedule", NULL));
	struct sobj *o = api_get(api, K("Node"), NULL, "n1");
	json_t *ready = o ? obj_condition(o->obj, "Ready") : NULL;
	CHECK(str_is(ready, "reason", "NodeStatusUnknown"));
	CHECK(str_is(ready, "message", "Kubelet stopped posting node status."));
	CHECK(str_is(obj_condition(o ? o->obj : NULL, "MemoryPressure"), "status", "Unknown"));
	sobj_unref(o);
	CHECK(WAIT_FOR(pod_gone("now"), 2000));
	CHECK(!pod_gone("one"));
	CHECK(WAIT_FOR(!pod_ready("forever"), 2000)); /* pods on the node stop being Ready */
	CHECK(node_ready_is("n2", "True") && pod_ready("other")); /* n2 is fine */
	CHECK(events("NodeNotReady", "n1") == 1);
	CHECK(events("TaintManagerEviction", "now") == 1);

	/* tolerationSeconds 1: not before the second is up ... */
	set_clock(t + 41900);
	usleep(150 * 1000);
	CHECK(!pod_gone("one"));
	/* ... and then at once */
	set_clock(t + 42000);
	CHECK(WAIT_FOR(pod_gone("one"), 2000));
	CHECK(events("TaintManagerEviction", "one") == 1);
	/* no tolerationSeconds: never */
	post_status("n2", "True", t + 100000);
	set_clock(t + 100000);
	usleep(150 * 1000);
	CHECK(!pod_gone("forever"));
	CHECK(events("TaintManagerEviction", "forever") == 0);

	/* the node is back: taints go */
	post_status("n1", "True", t + 100000);
	CHECK(WAIT_FOR(taint_count("n1") == 0, 2000));
	CHECK(node_ready_is("n1", "True"));
	nodelife_stop(nl);
	down();
}

static void test_not_ready(void)
{
	up();
	int64_t t = t0();
	set_clock(t);
	make_node("sick", "False", t);
	make_node("well", "True", t);
	struct nodelife *nl = start(40, true);
	CHECK(WAIT_FOR(has_taint("sick", "node.kubernetes.io/not-ready", "NoExecute", NULL), 2000));
	CHECK(has_taint("sick", "node.kubernetes.io/not-ready", "NoSchedule", NULL));
	CHECK(!has_taint("sick", "node.kubernetes.io/unreachable", "NoExecute", NULL));
	CHECK(node_ready_is("sick", "False")); /* the kubelet's word stands */
	CHECK(taint_count("well") == 0);
	post_status("sick", "True", t);
	CHECK(WAIT_FOR(taint_count("sick") == 0, 2000));
	nodelife_stop(nl);
	down();
}

static int set_unschedulable(json_t *node, void *arg, struct err **e)
{
	json_t *spec = json_object_get(node, "spec");
	if (!json_is_object(spec)) {
		spec = json_object();
		json_object_set_new(node, "spec", spec);
	}
	json_object_set_new(spec, "unschedulable", json_boolean(arg != NULL));
	return 0;
}

static int add_taint(json_t *node, void *arg, struct err **e)
{
	json_t *spec = json_object_get(node, "spec");
	if (!json_is_object(spec)) {
		spec = json_object();
		json_object_set_new(node, "spec", spec);
	}
	json_t *taints = json_object_get(spec, "taints");
	if (!json_is_array(taints)) {
		taints = json_array();
		json_object_set_new(spec, "taints", taints);
	}
	json_array_append_new(taints, json_loads(arg, 0, NULL));
	return 0;
}

static void test_cordon(void)
{
	up();
	int64_t t = t0();
	set_clock(t);
	make_node("c1", "True", t);
	CHECK(api_patch(api, K("Node"), NULL, "c1", add_taint,
			"{\"key\": \"gpu\", \"value\": \"yes\", \"effect\": \"NoSchedule\"}",
			NULL) >= 0);
	struct nodelife *nl = start(40, true);
	usleep(100 * 1000);
	CHECK(!has_taint("c1", "node.kubernetes.io/unschedulable", "NoSchedule", NULL));
	CHECK(api_patch(api, K("Node"), NULL, "c1", set_unschedulable, "", NULL) >= 0);
	CHECK(WAIT_FOR(has_taint("c1", "node.kubernetes.io/unschedulable", "NoSchedule", NULL),
		       2000));
	CHECK(has_taint("c1", "gpu", "NoSchedule", NULL)); /* others' taints stay */
	CHECK(api_patch(api, K("Node"), NULL, "c1", set_unschedulable, NULL, NULL) >= 0);
	CHECK(WAIT_FOR(!has_taint("c1", "node.kubernetes.io/unschedulable", "NoSchedule", NULL),
		       2000));
	CHECK(has_taint("c1", "gpu", "NoSchedule", NULL) && taint_count("c1") == 1);
	nodelife_stop(nl);
	down();
}

static void test_user_noexecute(void)
{
	up();
	int64_t t = t0();
	set_clock(t);
	make_node("db", "True", t);
	make_pod("intruder", "db", NULL);
	make_pod("welcome", "db",
		 "[{\"key\": \"dedicated\", \"operator\": \"Equal\", \"value\": \"db\","
		 " \"effect\": \"NoExecute\"}]");
	make_pod("wrong-value", "db",
		 "[{\"key\": \"dedicated\", \"operator\": \"Equal\", \"value\": \"web\","
		 " \"effect\": \"NoExecute\"}]");
	struct nodelife *nl = start(40, true);
	CHECK(api_patch(api, K("Node"), NULL, "db", add_taint,
			"{\"key\": \"dedicated\", \"value\": \"db\", \"effect\": \"NoExecute\"}",
			NULL) >= 0);
	/* the node is Ready: eviction is graceful, the pods are marked */
	CHECK(WAIT_FOR(pod_terminating("intruder") && pod_terminating("wrong-value"), 2000));
	post_status("db", "True", t + 3600 * 1000);
	set_clock(t + 3600 * 1000);
	usleep(150 * 1000);
	CHECK(!pod_gone("welcome") && !pod_terminating("welcome"));
	nodelife_stop(nl);
	down();
}

static void test_node_deleted(void)
{
	up();
	int64_t t = t0();
	set_clock(t);
	make_node("gone", "True", t);
	make_node("stays", "True", t);
	make_pod("g1", "gone", NULL);
	make_pod("g2", "gone", NULL);
	make_pod("s1", "stays", NULL);
	struct nodelife *nl = start(40, true);
	usleep(100 * 1000);
	CHECK(!pod_gone("g1"));
	CHECK(api_delete(api, K("Node"), NULL, "gone", NULL) >= 0);
	CHECK(WAIT_FOR(pod_gone("g1") && pod_gone("g2"), 2000));
	CHECK(!pod_gone("s1"));
	nodelife_stop(nl);
	down();
}

static void test_orphans_at_start(void)
{
	up();
	int64_t t = t0();
	set_clock(t);
	make_node("here", "True", t);
	make_pod("orphan", "ghost", NULL);
	make_pod("fine", "here", NULL);
	struct nodelife *nl = start(40, true);
	CHECK(WAIT_FOR(pod_gone("orphan"), 2000));
	CHECK(!pod_gone("fine"));
	nodelife_stop(nl);
	down();
}

static void test_drain(void)
{
	up();
	int64_t t = t0();
	make_node("d1", "True", t);
	make_node("d2", "True", t);
	make_pod("a", "d1", NULL);
	make_pod("b", "d1", NULL);
	make_pod("leaving", "d1", NULL);
	make_pod("c", "d2", NULL);
	CHECK(api_delete_opts(api, K("Pod"), "default", "leaving", 30, NULL) >= 0);
	CHECK(pod_terminating("leaving"));
	struct err *e = NULL;
	CHECK(api_node_drain(api, "d1", true, &e) == 2);
	struct sobj *o = api_get(api, K("Node"), NULL, "d1");
	CHECK(o && json_is_true(obj_at(o->obj, "spec.unschedulable")));
	sobj_unref(o);
	CHECK(pod_terminating("a") && pod_terminating("b")); /* graceful: d1 is Ready */
	CHECK(!pod_terminating("c"));
	CHECK(events("Evicted", "a") == 1);
	CHECK(events("NodeNotSchedulable", "d1") == 1);
	CHECK(api_node_drain(api, "nope", false, &e) == -ENOENT);
	CHECK(e && strstr(e->msg, "nope"));
	err_free(e);
	down();
}

static int pause_fn(json_t *obj, void *arg, struct err **e)
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

/* Real clock, hollow kubelets: heartbeat loss is noticed and healed. */
static void test_hollow_heartbeat_loss(void)
{
	up();
	struct hollow_opts ho = {.heartbeat_s = 1, .gather_ms = 2};
	struct hollow *h = NULL;
	CHECK(hollow_start(apic, 2, &ho, &h, NULL) == 0);
	api_set_default_toleration(api, 0);
	make_pod("quick", "hollow-1", NULL);
	api_set_default_toleration(api, 300);
	make_pod("patient", "hollow-1",
		 "[{\"key\": \"node.kubernetes.io/unreachable\", \"operator\": \"Exists\","
		 " \"effect\": \"NoExecute\", \"tolerationSeconds\": 600}]");
	struct nodelife *nl = start(3, false);
	CHECK(WAIT_FOR(pod_ready("patient"), 2000));
	CHECK(api_patch(api, K("Node"), NULL, "hollow-1", pause_fn, "", NULL) >= 0);
	CHECK(WAIT_FOR(node_ready_is("hollow-1", "Unknown"), 6000));
	CHECK(WAIT_FOR(has_taint("hollow-1", "node.kubernetes.io/unreachable", "NoExecute", NULL),
		       1000));
	CHECK(WAIT_FOR(pod_gone("quick"), 1000));
	CHECK(WAIT_FOR(!pod_ready("patient"), 1000));
	CHECK(node_ready_is("hollow-2", "True") && taint_count("hollow-2") == 0);
	CHECK(api_patch(api, K("Node"), NULL, "hollow-1", pause_fn, NULL, NULL) >= 0);
	CHECK(WAIT_FOR(node_ready_is("hollow-1", "True"), 2000));
	CHECK(WAIT_FOR(taint_count("hollow-1") == 0, 2000));
	CHECK(WAIT_FOR(pod_ready("patient"), 2000)); /* its kubelet reports it again */
	CHECK(!pod_gone("patient"));
	nodelife_stop(nl);
	hollow_stop(h);
	down();
}

/* Creates or renews node's Lease in kube-node-lease: renewTime at ms. */
static void renew_lease(const char *node, int64_t ms)
{
	char ts[40], sec[32];
	obj_format_time((time_t)(ms / 1000), sec);
	snprintf(ts, sizeof(ts), "%.19s.%06dZ", sec, (int)(ms % 1000) * 1000);
	json_t *l = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:i, s:s}}", "apiVersion",
			      "coordination.k8s.io/v1", "kind", "Lease", "metadata", "name", node,
			      "namespace", "kube-node-lease", "spec", "holderIdentity", node,
			      "leaseDurationSeconds", 40, "renewTime", ts);
	struct api_target tg = {K("Lease"), "kube-node-lease", NULL};
	struct err *e = NULL;
	CHECK(api_apply(api, &l, 1, &tg, &e) >= 0);
	if (e)
		fprintf(stderr, "  renew_lease %s: %s\n", node, e->msg);
	err_free(e);
	json_decref(l);
}

static bool lease_exists(const char *node)
{
	struct sobj *o = api_get(api, K("Lease"), "kube-node-lease", node);
	sobj_unref(o);
	return o != NULL;
}

/* A node whose agent renews only its Lease (status posted once) stays
 * Ready; once the Lease too goes stale it goes Unknown; a deleted Node's
 * Lease goes with it. */
static void test_lease_heartbeat(void)
{
	up();
	int64_t t = t0();
	set_clock(t);
	make_node("leased", "True", t);
	make_node("silent", "True", t);
	renew_lease("leased", t);
	struct nodelife *nl = start(40, true);

	/* the status is 60 s old, the Lease 10 s */
	renew_lease("leased", t + 50000);
	set_clock(t + 60000);
	CHECK(WAIT_FOR(node_ready_is("silent", "Unknown"), 2000));
	usleep(100 * 1000);
	CHECK(node_ready_is("leased", "True") && taint_count("leased") == 0);
	/* the Lease is renewed no more: past the grace from its renewTime */
	set_clock(t + 90000);
	usleep(100 * 1000);
	CHECK(node_ready_is("leased", "True"));
	set_clock(t + 91000);
	CHECK(WAIT_FOR(node_ready_is("leased", "Unknown"), 2000));
	CHECK(WAIT_FOR(has_taint("leased", "node.kubernetes.io/unreachable", "NoExecute", NULL),
		       2000));
	/* renewed again, and the status posted: Ready, untainted */
	renew_lease("leased", t + 95000);
	post_status("leased", "True", t + 95000);
	set_clock(t + 96000);
	CHECK(WAIT_FOR(taint_count("leased") == 0, 2000));

	/* a Lease without its Node does no harm; a deleted Node's Lease goes */
	renew_lease("nobody", t + 96000);
	CHECK(api_delete(api, K("Node"), NULL, "leased", NULL) >= 0);
	CHECK(WAIT_FOR(!lease_exists("leased"), 2000));
	CHECK(lease_exists("nobody"));
	nodelife_stop(nl);
	down();
}

int main(void)
{
	RUN(test_unreachable_eviction);
	RUN(test_not_ready);
	RUN(test_cordon);
	RUN(test_user_noexecute);
	RUN(test_node_deleted);
	RUN(test_orphans_at_start);
	RUN(test_drain);
	RUN(test_hollow_heartbeat_loss);
	RUN(test_lease_heartbeat);
	return unit_done();
}
