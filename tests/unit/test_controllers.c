/*
 * test_controllers.c - the Deployment and ReplicaSet controllers' syncs and
 * the garbage collector, against a real store and API in a temporary dir
 * (no scheduler, no nodes: the pods stay Pending, which is all these syncs
 * look at).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/api/api.h"
#include "engine/store/store.h"
#include "engine/valid/codec.h"
#include "engine/controllers/deployctl.h"
#include "engine/controllers/gc.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "engine/controllers/rsctl.h"
#include "tests/unit/apply.h"
#include "tests/unit/unit.h"

static char dir[] = "/tmp/cfs-test-ctl.XXXXXX";
static struct store *st;
static struct api *api;
static struct deployctl *dc;
static struct rsctl *rc;

static const struct kind_info *K(const char *kind)
{
	return kind_by_kind(kind);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Live (not terminating) pods owned by the ReplicaSet named rs, or by any
 * ReplicaSet when rs is NULL. */
static int count_pods(const char *rs)
{
	struct sobj **v;
	int n = api_list(api, K("Pod"), "default", NULL, &v, NULL);
	int c = 0;
	for (int i = 0; i < n; i++) {
		const char *owner = obj_str(obj_controller_ref(v[i]->obj), "name");
		if (!pod_is_terminating(v[i]->obj) && owner && (!rs || !strcmp(owner, rs)))
			c++;
	}
	if (n > 0)
		sobj_list_free(v, (size_t)n);
	return c;
}

/* The ReplicaSets of the Deployment web, newest revision last. */
static int list_rs(struct sobj ***out)
{
	return api_list(api, K("ReplicaSet"), "default", "app=web", out, NULL);
}

static bool wait_for(bool (*cond)(void *), void *arg, int ms)
{
	int64_t end = now_ms() + ms;
	while (now_ms() < end) {
		if (cond(arg))
			return true;
		usleep(20000);
	}
	return cond(arg);
}

static bool pods_are(void *arg)
{
	return count_pods(NULL) == *(int *)arg;
}

static const char web[] = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"
			  "spec:\n  replicas: 3\n  selector: {matchLabels: {app: web}}\n"
			  "  template:\n    metadata: {labels: {app: web}}\n"
			  "    spec: {containers: [{name: c, image: 'busybox:1.36'}]}\n";

static void test_template_hash(void)
{
	json_t *a = json_pack("{s:{s:{s:s}}, s:{s:[{s:s, s:s}]}}", "metadata", "labels", "app",
			      "web", "spec", "containers", "name", "c", "image", "busybox:1.36");
	json_t *b = json_deep_copy(a);
	char ha[16], hb[16], hc[16], hd[16];
	deployctl_template_hash(a, 0, ha);
	deployctl_template_hash(b, 0, hb);
	CHECK(!strcmp(ha, hb));				 /* stable */
	CHECK(strspn(ha, rsctl_alphabet) == strlen(ha)); /* Kubernetes' alphabet */
	deployctl_template_hash(a, 1, hc);
	CHECK(strcmp(ha, hc) != 0); /* the collision count changes it */
	json_object_set_new(
	    json_array_get(json_object_get(json_object_get(b, "spec"), "containers"), 0), "image",
	    json_string("busybox:1.37"));
	deployctl_template_hash(b, 0, hd);
	CHECK(strcmp(ha, hd) != 0); /* the template changes it */
	json_decref(a);
	json_decref(b);
}

static void test_deployment_makes_rs_and_pods(void)
{
	CHECK(apply_yaml(api, web) == 1);
	int three = 3;
	CHECK(wait_for(pods_are, &three, 5000));
	struct sobj **v;
	int n = list_rs(&v);
	CHECK(n == 1);
	if (n == 1) {
		const char *hash = json_string_value(
		    json_object_get(obj_at(v[0]->obj, "metadata.labels"), "pod-template-hash"));
		char want[300];
		snprintf(want, sizeof(want), "web-%s", hash ? hash : "?");
		CHECK(hash && !strcmp(v[0]->name, want));
		CHECK(obj_controller_ref(v[0]->obj) != NULL);
		const char *rev =
		    json_string_value(json_object_get(obj_at(v[0]->obj, "metadata.annotations"),
						      "deployment.kubernetes.io/revision"));
		CHECK(rev && !strcmp(rev, "1"));
		CHECK(count_pods(v[0]->name) == 3);
		/* the pods are named RS-XXXXX */
		struct sobj **pods;
		int np = api_list(api, K("Pod"), "default", NULL, &pods, NULL);
		for (int i = 0; i < np; i++) {
			size_t l = strlen(v[0]->name);
			CHECK(!strncmp(pods[i]->name, v[0]->name, l) && pods[i]->name[l] == '-' &&
			      strlen(pods[i]->name + l + 1) == 5);
		}
		if (np > 0)
			sobj_list_free(pods, (size_t)np);
	}
	if (n > 0)
		sobj_list_free(v, (size_t)n);
}

static int set_replicas(json_t *obj, void *arg, struct err **e)
{
	json_object_set_new(json_object_get(obj, "spec"), "replicas", json_integer(*(int *)arg));
	return 0;
}

/* Deployment web's status says *arg replicas, all updated, and Available. */
static bool status_follows(void *arg)
{
	int n = *(int *)arg;
	struct sobj *d = api_get(api, K("Deployment"), "default", "web");
	bool ok = d && obj_int(d->obj, "status.replicas", -1) == n &&
		  obj_int(d->obj, "status.updatedReplicas", -1) == n &&
		  obj_condition(d->obj, "Available") != NULL;
	sobj_unref(d);
	return ok;
}

static void test_scale_and_heal(void)
{
	int n = 5;
	CHECK(api_patch(api, K("Deployment"), "default", "web", set_replicas, &n, NULL) == 1);
	CHECK(wait_for(pods_are, &n, 5000));
	n = 2;
	CHECK(api_patch(api, K("Deployment"), "default", "web", set_replicas, &n, NULL) == 1);
	CHECK(wait_for(pods_are, &n, 5000));
	/* a deleted pod is replaced */
	struct sobj **pods;
	int np = api_list(api, K("Pod"), "default", NULL, &pods, NULL);
	CHECK(np == 2);
	if (np > 0) {
		char *gone = xstrdup(pods[0]->name);
		CHECK(api_delete(api, K("Pod"), "default", gone, NULL) == 1);
		CHECK(wait_for(pods_are, &n, 5000));
		struct sobj *again = api_get(api, K("Pod"), "default", gone);
		CHECK(again == NULL);
		sobj_unref(again);
		free(gone);
		sobj_list_free(pods, (size_t)np);
	}
	/* the status follows */
	CHECK(wait_for(status_follows, &n, 10000));
}

struct rs_state {
	int want_rs, want_live;
};

static bool rollout_done(void *arg)
{
	struct rs_state *s = arg;
	struct sobj **v;
	int n = list_rs(&v);
	int live = 0;
	for (int i = 0; i < n; i++)
		live += obj_int(v[i]->obj, "spec.replicas", 0) > 0;
	if (n > 0)
		sobj_list_free(v, (size_t)n);
	return n == s->want_rs && live == s->want_live;
}

static void test_template_change(void)
{
	char *v2 = xstrdup(web);
	memcpy(strstr(v2, "busybox:1.36"), "busybox:1.37", 12);
	char *p = strstr(v2, "replicas: 3");
	memcpy(p, "replicas: 2", 11);
	/* No nodes here: pods never become available, so a rolling update could
	 * not go on (see test_rollout.c); Recreate needs no availability. */
	char *v2r =
	    xasprintf("%.*s  strategy: {type: Recreate}\n%s", (int)(p - v2 + 12), v2, p + 12);
	free(v2);
	v2 = v2r;
	CHECK(apply_yaml(api, v2) == 1);
	struct rs_state s = {2, 1};
	CHECK(wait_for(rollout_done, &s, 5000));
	struct sobj *d = api_get(api, K("Deployment"), "default", "web");
	const char *rev = json_string_value(json_object_get(obj_at(d->obj, "metadata.annotations"),
							    "deployment.kubernetes.io/revision"));
	CHECK(rev && !strcmp(rev, "2"));
	sobj_unref(d);
	int two = 2;
	CHECK(wait_for(pods_are, &two, 5000));
	free(v2);
}

static void test_gc(void)
{
	/* a pod whose owner uid exists nowhere */
	const char *orphan =
	    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: orphan\n"
	    "  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: gone, "
	    "uid: 00000000-0000-0000-0000-000000000000}]\n"
	    "spec: {containers: [{name: c, image: busybox}]}\n";
	CHECK(apply_yaml(api, orphan) == 1);
	CHECK(gc_sweep(api, 3600) >= 1);
	struct sobj *o = api_get(api, K("Pod"), "default", "orphan");
	CHECK(o == NULL);
	sobj_unref(o);
	/* cascading delete of the Deployment */
	CHECK(api_delete(api, K("Deployment"), "default", "web", NULL) >= 3);
	struct sobj **v;
	CHECK(list_rs(&v) == 0);
	CHECK(count_pods(NULL) == 0);
}

/* Events two minutes old: kept (an hour's time to live) while the object
 * they are about is there or unknown, deleted once it is gone (a minute). */
static void test_gc_events(void)
{
	char old[32];
	time_t t = time(NULL) - 120;
	strftime(old, sizeof(old), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	CHECK(apply_yaml(api, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: here}\n") == 1);
	struct sobj *cm = api_get(api, K("ConfigMap"), "default", "here");
	const char *uid = cm ? obj_str(cm->obj, "metadata.uid") : NULL;
	CHECK(uid != NULL);
	static const char ev[] = "apiVersion: v1\nkind: Event\nmetadata: {name: %s}\n"
				 "involvedObject: {kind: ConfigMap, name: %s%s%s}\n"
				 "reason: R\nmessage: m\nlastTimestamp: '%s'\n---\n";
	char *y = xstrdup("");
	const char *evs[][3] = {{"ev-here", "here", uid ? uid : "x"},
				{"ev-gone", "gone", "11111111-1111-1111-1111-111111111111"},
				{"ev-nouid", "gone", NULL}};
	for (size_t i = 0; i < 3; i++) {
		char *d = xasprintf(ev, evs[i][0], evs[i][1], evs[i][2] ? ", uid: " : "",
				    evs[i][2] ? evs[i][2] : "", old);
		char *n = xasprintf("%s%s", y, d);
		free(y);
		free(d);
		y = n;
	}
	CHECK(apply_yaml(api, y) == 3);
	free(y);
	sobj_unref(cm);
	gc_sweep(api, 3600);
	const char *want[] = {"ev-here", NULL, "ev-nouid"};
	for (size_t i = 0; i < 3; i++) {
		struct sobj *o = api_get(api, K("Event"), "default", evs[i][0]);
		CHECK((o != NULL) == (want[i] != NULL));
		sobj_unref(o);
	}
}

/* A namespace deleted while a pod in it is stopping on a Ready node stays,
 * Terminating, until the pod is gone; then the gc removes it. */
static void test_namespace_terminating(void)
{
	CHECK(apply_yaml(api, "apiVersion: v1\nkind: Namespace\nmetadata: {name: going}\n") == 1);
	json_t *node = json_pack("{s:s, s:s, s:{s:s}, s:{s:[{s:s, s:s}]}}", "apiVersion", "v1",
				 "kind", "Node", "metadata", "name", "n1", "status", "conditions",
				 "type", "Ready", "status", "True");
	CHECK(api_create(api, node, NULL, NULL) == 0);
	json_decref(node);
	CHECK(apply_yaml(api,
			 "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: going}\n"
			 "spec: {nodeName: n1, containers: [{name: c, image: busybox}]}\n") == 1);
	CHECK(apply_yaml(
		  api,
		  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: going}\n") == 1);
	CHECK(api_delete(api, K("Namespace"), "", "going", NULL) >= 2);
	struct sobj *ns = api_get(api, K("Namespace"), "", "going");
	CHECK(ns != NULL);
	CHECK(ns && !strcmp(obj_str(ns->obj, "status.phase"), "Terminating"));
	CHECK(ns && obj_at(ns->obj, "metadata.deletionTimestamp") != NULL);
	sobj_unref(ns);
	CHECK(api_get(api, K("ConfigMap"), "going", "c") == NULL);
	CHECK(
	    apply_yaml(
		api, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d, namespace: going}\n") ==
	    -EPERM);
	CHECK(gc_namespaces(api) == 1);
	ns = api_get(api, K("Namespace"), "", "going");
	CHECK(ns != NULL); /* the pod is still stopping */
	sobj_unref(ns);
	CHECK(api_delete_opts(api, K("Pod"), "going", "p", 0, NULL) == 1); /* its node is done */
	CHECK(gc_namespaces(api) == 1);
	CHECK(api_get(api, K("Namespace"), "", "going") == NULL);
	CHECK(gc_namespaces(api) == 0);
	CHECK(api_delete(api, K("Node"), "", "n1", NULL) == 1);
}

/* Foreground deletion: an owner whose pods are still stopping on a Ready
 * node stays (deletionTimestamp, finalizer foregroundDeletion), as does
 * each owner between; the gc removes them once the pods are gone.  With
 * nothing left to wait for, everything goes at once. */
static void test_foreground_delete(void)
{
	json_t *node = json_pack("{s:s, s:s, s:{s:s}, s:{s:[{s:s, s:s}]}}", "apiVersion", "v1",
				 "kind", "Node", "metadata", "name", "n1", "status", "conditions",
				 "type", "Ready", "status", "True");
	CHECK(api_create(api, node, NULL, NULL) == 0);
	json_decref(node);
	CHECK(apply_yaml(api, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: top}\n") == 1);
	struct sobj *top = api_get(api, K("ConfigMap"), "default", "top");
	const char *uid = top ? obj_str(top->obj, "metadata.uid") : "x";
	char *y = xasprintf(
	    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: mid\n"
	    "  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: top, uid: %s}]\n",
	    uid);
	CHECK(apply_yaml(api, y) == 1);
	free(y);
	struct sobj *mid = api_get(api, K("ConfigMap"), "default", "mid");
	uid = mid ? obj_str(mid->obj, "metadata.uid") : "x";
	y = xasprintf("apiVersion: v1\nkind: Pod\nmetadata:\n  name: fg\n"
		      "  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: mid, uid: %s}]\n"
		      "spec: {nodeName: n1, containers: [{name: c, image: busybox}]}\n",
		      uid);
	CHECK(apply_yaml(api, y) == 1);
	free(y);
	CHECK(api_delete_foreground(api, K("ConfigMap"), "default", "top", -1, NULL) == 3);
	struct sobj *o = api_get(api, K("ConfigMap"), "default", "top");
	json_t *fin = o ? obj_at(o->obj, "metadata.finalizers") : NULL;
	CHECK(o && obj_at(o->obj, "metadata.deletionTimestamp") && json_array_size(fin) == 1 &&
	      !strcmp(json_string_value(json_array_get(fin, 0)) ?: "", API_FOREGROUND));
	sobj_unref(o);
	o = api_get(api, K("ConfigMap"), "default", "mid");
	CHECK(o && obj_at(o->obj, "metadata.deletionTimestamp"));
	sobj_unref(o);
	o = api_get(api, K("Pod"), "default", "fg");
	CHECK(o && obj_at(o->obj, "metadata.deletionTimestamp")); /* stopping */
	sobj_unref(o);
	CHECK(gc_foreground(api) == 2); /* both wait */
	o = api_get(api, K("ConfigMap"), "default", "top");
	CHECK(o != NULL);
	sobj_unref(o);
	CHECK(api_delete_opts(api, K("Pod"), "default", "fg", 0, NULL) == 1);
	CHECK(gc_foreground(api) >= 1);
	CHECK(gc_foreground(api) == 0);
	CHECK(api_get(api, K("ConfigMap"), "default", "mid") == NULL);
	CHECK(api_get(api, K("ConfigMap"), "default", "top") == NULL);
	sobj_unref(top);
	sobj_unref(mid);
	/* nothing to wait for: at once */
	CHECK(apply_yaml(api, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: alone}\n") == 1);
	CHECK(api_delete_foreground(api, K("ConfigMap"), "default", "alone", -1, NULL) == 1);
	CHECK(api_get(api, K("ConfigMap"), "default", "alone") == NULL);
	CHECK(api_delete(api, K("Node"), "", "n1", NULL) == 1);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	char *db = xasprintf("%s/state.db", dir);
	struct err *e = NULL;
	if (store_open(db, &st, &e) < 0 || api_new(st, &api, &e) < 0 ||
	    deployctl_start(api, &dc, &e) < 0 || rsctl_start(api, &rc, &e) < 0) {
		fprintf(stderr, "setup: %s\n", e ? e->msg : "?");
		return 1;
	}
	RUN(test_template_hash);
	RUN(test_deployment_makes_rs_and_pods);
	RUN(test_scale_and_heal);
	RUN(test_template_change);
	RUN(test_gc);
	RUN(test_gc_events);
	RUN(test_namespace_terminating);
	RUN(test_foreground_delete);
	store_wake_watchers(st);
	deployctl_stop(dc);
	rsctl_stop(rc);
	api_free(api);
	store_close(st);
	char *cmd = xasprintf("rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", dir);
	free(cmd);
	free(db);
	return unit_done();
}
