/*
 * test_api.c - the API layer against a real store in a temporary dir:
 * apply (create, update, unchanged), defaults and server metadata,
 * generation, conflicts, all-or-nothing multi-document apply, patch,
 * status, cascading deletes, namespaces, selectors, events; the
 * operations (eviction, drain, rollback) and the kept refused writes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/api/api.h"
#include "engine/store/store.h"
#include "engine/valid/codec.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "tests/unit/unit.h"

static char dir[] = "/tmp/cfs-test-api.XXXXXX";
static struct store *st;
static struct api *api;

static const struct kind_info *K(const char *kind)
{
	return kind_by_kind(kind);
}

/* Applies YAML text; returns api_apply's result, *e set on failure. */
static int apply(const char *yaml, const struct api_target *t, struct err **e)
{
	json_t **docs;
	size_t n;
	int r = codec_decode(yaml, strlen(yaml), &docs, &n, e);
	if (r < 0)
		return r;
	r = api_apply(api, docs, n, t, e);
	codec_docs_free(docs, n);
	return r;
}

static const char *str_at(struct sobj *o, const char *a, const char *b)
{
	return json_string_value(json_object_get(json_object_get(o->obj, a), b));
}

static int64_t gen_of(struct sobj *o)
{
	return json_integer_value(
	    json_object_get(json_object_get(o->obj, "metadata"), "generation"));
}

static const char deploy[] =
    "apiVersion: apps/v1\n"
    "kind: Deployment\n"
    "metadata: {name: web, labels: {tier: front}}\n"
    "spec:\n"
    "  replicas: 3\n"
    "  selector: {matchLabels: {app: web}}\n"
    "  template:\n"
    "    metadata: {labels: {app: web}}\n"
    "    spec:\n"
    "      containers: [{name: web, image: 'busybox:1.36', x-unknown: kept}]\n";

static void test_create_defaults_metadata(void)
{
	struct err *e = NULL;
	CHECK(apply(deploy, NULL, &e) == 1);
	struct sobj *o = api_get(api, K("Deployment"), "default", "web");
	CHECK(o != NULL);
	if (!o)
		return;
	CHECK(str_at(o, "metadata", "uid") && strlen(str_at(o, "metadata", "uid")) == 36);
	CHECK(str_at(o, "metadata", "creationTimestamp") != NULL);
	CHECK(gen_of(o) == 1);
	CHECK(atoll(str_at(o, "metadata", "resourceVersion")) == o->rv);
	json_t *spec = json_object_get(o->obj, "spec");
	CHECK(json_integer_value(json_object_get(spec, "revisionHistoryLimit")) == 10);
	CHECK(json_integer_value(json_object_get(spec, "progressDeadlineSeconds")) == 600);
	const char *surge = json_string_value(json_object_get(
	    json_object_get(json_object_get(spec, "strategy"), "rollingUpdate"), "maxSurge"));
	CHECK(surge && !strcmp(surge, "25%"));
	json_t *tspec = json_object_get(json_object_get(spec, "template"), "spec");
	json_t *c0 = json_array_get(json_object_get(tspec, "containers"), 0);
	CHECK(json_is_string(json_object_get(c0, "x-unknown"))); /* unknown fields kept */
	CHECK(!strcmp(json_string_value(json_object_get(c0, "imagePullPolicy")), "IfNotPresent"));
	sobj_unref(o);
	err_free(e);
}

static void test_update_generation_unchanged(void)
{
	struct err *e = NULL;
	struct sobj *before = api_get(api, K("Deployment"), "default", "web");
	CHECK(apply(deploy, NULL, &e) == 0); /* same again: nothing written */
	struct sobj *same = api_get(api, K("Deployment"), "default", "web");
	CHECK(same->rv == before->rv);
	/* a label change: new revision, same generation */
	char *relabeled = strdup(deploy);
	memcpy(strstr(relabeled, "front"), "backx", 5);
	CHECK(apply(relabeled, NULL, &e) == 1);
	struct sobj *lab = api_get(api, K("Deployment"), "default", "web");
	CHECK(lab->rv > before->rv && gen_of(lab) == 1);
	/* a spec change: generation 2 */
	char *scaled = strdup(relabeled);
	memcpy(strstr(scaled, "replicas: 3"), "replicas: 4", 11);
	CHECK(apply(scaled, NULL, &e) == 1);
	struct sobj *sc = api_get(api, K("Deployment"), "default", "web");
	CHECK(gen_of(sc) == 2);
	CHECK(!strcmp(str_at(sc, "metadata", "uid"), str_at(before, "metadata", "uid")));
	sobj_unref(before);
	sobj_unref(same);
	sobj_unref(lab);
	sobj_unref(sc);
	free(relabeled);
	free(scaled);
	err_free(e);
}

static int set_replicas(json_t *obj, void *arg, struct err **e)
{
	json_object_set_new(json_object_get(obj, "spec"), "replicas", json_integer(*(int *)arg));
	return 0;
}

static void test_conflict(void)
{
	struct err *e = NULL;
	struct sobj *o = api_get(api, K("Deployment"), "default", "web");
	char *stale = codec_yaml(o->obj, NULL);
	/* Status writes since the read are not a conflict. */
	json_t *status = json_pack("{s:i}", "observedGeneration", 2);
	CHECK(api_update_status(api, K("Deployment"), "default", "web", status, &e) == 1);
	json_decref(status);
	char *edited = strdup(stale);
	memcpy(strstr(edited, "replicas: 4"), "replicas: 2", 11);
	CHECK(apply(edited, NULL, &e) == 1);
	/* Now the spec changed after `stale` was read: refused with EBUSY. */
	memcpy(strstr(stale, "replicas: 4"), "replicas: 9", 11);
	CHECK(apply(stale, NULL, &e) == -EBUSY);
	CHECK(e && strstr(e->msg, "modified"));
	struct sobj *now = api_get(api, K("Deployment"), "default", "web");
	CHECK(json_integer_value(json_object_get(json_object_get(now->obj, "spec"), "replicas")) ==
	      2);
	/* status survives a user apply */
	CHECK(json_integer_value(
		  json_object_get(json_object_get(now->obj, "status"), "observedGeneration")) == 2);
	sobj_unref(o);
	sobj_unref(now);
	free(stale);
	free(edited);
	err_free(e);
}

/* A controller's annotation is not a user change: a copy read before it
 * still applies, and the annotation survives the user's manifest. */
static void test_annotate_no_conflict(void)
{
	struct err *e = NULL;
	struct sobj *o = api_get(api, K("Deployment"), "default", "web");
	char *copy = codec_yaml(o->obj, NULL);
	CHECK(api_annotate(api, K("Deployment"), "default", "web",
			   "deployment.kubernetes.io/revision", "7", &e) == 1);
	char *p = strstr(copy, "replicas: 2");
	CHECK(p != NULL);
	if (p)
		memcpy(p, "replicas: 3", 11);
	CHECK(apply(copy, NULL, &e) == 1);
	struct sobj *now = api_get(api, K("Deployment"), "default", "web");
	json_t *ann = json_object_get(json_object_get(now->obj, "metadata"), "annotations");
	const char *rev =
	    json_string_value(json_object_get(ann, "deployment.kubernetes.io/revision"));
	CHECK(rev && !strcmp(rev, "7"));
	CHECK(json_integer_value(json_object_get(json_object_get(now->obj, "spec"), "replicas")) ==
	      3);
	/* put it back to 2 for the tests that follow */
	int two = 2;
	CHECK(api_patch(api, K("Deployment"), "default", "web", set_replicas, &two, &e) == 1);
	sobj_unref(o);
	sobj_unref(now);
	free(copy);
	err_free(e);
}

static void test_patch(void)
{
	struct err *e = NULL;
	int n = 7;
	CHECK(api_patch(api, K("Deployment"), "default", "web", set_replicas, &n, &e) == 1);
	struct sobj *o = api_get(api, K("Deployment"), "default", "web");
	CHECK(json_integer_value(json_object_get(json_object_get(o->obj, "spec"), "replicas")) ==
	      7);
	sobj_unref(o);
	n = -1;
	CHECK(api_patch(api, K("Deployment"), "default", "web", set_replicas, &n, &e) == -EINVAL);
	CHECK(api_patch(api, K("Deployment"), "default", "nope", set_replicas, &n, &e) == -ENOENT);
	err_free(e);
}

static void test_target_checks(void)
{
	struct err *e = NULL;
	struct api_target t = {K("Deployment"), "default", "other"};
	CHECK(apply(deploy, &t, &e) == -EINVAL);
	CHECK(e && strstr(e->msg, "file name"));
	struct api_target ts = {K("Service"), "default", "web"};
	CHECK(apply(deploy, &ts, &e) == -EINVAL);
	CHECK(e && strstr(e->msg, "does not belong"));
	struct api_target tn = {K("Deployment"), "prod", "web"};
	char *withns = xasprintf("%s", deploy);
	char *p = strstr(withns, "name: web,");
	char *moved = xasprintf("%.*snamespace: dev, %s", (int)(p - withns), withns, p);
	CHECK(apply(moved, &tn, &e) == -EINVAL);
	CHECK(e && strstr(e->msg, "namespace"));
	/* A nameless manifest takes the file's name. */
	const char *nameless = "apiVersion: v1\nkind: ConfigMap\ndata: {a: b}\n";
	struct api_target tc = {K("ConfigMap"), "default", "from-file"};
	CHECK(apply(nameless, &tc, &e) == 1);
	struct sobj *o = api_get(api, K("ConfigMap"), "default", "from-file");
	CHECK(o != NULL);
	sobj_unref(o);
	free(withns);
	free(moved);
	err_free(e);
}

static void test_multi_all_or_nothing(void)
{
	struct err *e = NULL;
	const char *docs =
	    "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n"
	    "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c1, namespace: shop}\n"
	    "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\n";
	CHECK(apply(docs, NULL, &e) == -EINVAL);
	CHECK(e && strstr(e->msg, "document 3"));
	CHECK(api_get(api, KIND_NAMESPACE, "", "shop") == NULL);
	const char *good =
	    "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n"
	    "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c1, namespace: shop}\n";
	CHECK(apply(good, NULL, &e) == 2);
	struct sobj *c1 = api_get(api, K("ConfigMap"), "shop", "c1");
	CHECK(c1 != NULL);
	sobj_unref(c1);
	/* a missing namespace */
	const char *orphan =
	    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: nowhere}\n";
	CHECK(apply(orphan, NULL, &e) == -ENOENT);
	err_free(e);
}

static void test_cascade(void)
{
	struct err *e = NULL;
	struct sobj *d = api_get(api, K("Deployment"), "default", "web");
	char *rs = xasprintf(
	    "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: web-1\n"
	    "  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: %s}]\n"
	    "spec:\n  replicas: 1\n  selector: {matchLabels: {app: web}}\n"
	    "  template:\n    metadata: {labels: {app: web}}\n"
	    "    spec: {containers: [{name: c, image: busybox}]}\n",
	    str_at(d, "metadata", "uid"));
	CHECK(apply(rs, NULL, &e) == 1);
	struct sobj *r = api_get(api, K("ReplicaSet"), "default", "web-1");
	char *pod = xasprintf(
	    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web-1-abcde\n"
	    "  labels: {app: web}\n"
	    "  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: %s}]\n"
	    "spec: {containers: [{name: c, image: busybox}]}\n",
	    str_at(r, "metadata", "uid"));
	CHECK(apply(pod, NULL, &e) == 1);
	struct sobj *p = api_get(api, K("Pod"), "default", "web-1-abcde");
	CHECK(p && !strcmp(str_at(p, "status", "phase"), "Pending"));
	CHECK(api_delete(api, K("Deployment"), "default", "web", &e) == 3);
	CHECK(api_get(api, K("ReplicaSet"), "default", "web-1") == NULL);
	CHECK(api_get(api, K("Pod"), "default", "web-1-abcde") == NULL);
	CHECK(api_delete(api, K("Deployment"), "default", "web", &e) == -ENOENT);
	sobj_unref(d);
	sobj_unref(r);
	sobj_unref(p);
	free(rs);
	free(pod);
	err_free(e);
}

static void test_namespace_delete(void)
{
	struct err *e = NULL;
	CHECK(api_delete(api, KIND_NAMESPACE, "", "default", &e) == -EPERM);
	CHECK(api_delete(api, KIND_NAMESPACE, "", "shop", &e) == 2); /* c1 and shop */
	CHECK(api_get(api, K("ConfigMap"), "shop", "c1") == NULL);
	err_free(e);
}

static void test_list_selector(void)
{
	struct err *e = NULL;
	for (int i = 0; i < 4; i++) {
		char *cm = xasprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s%d, "
				     "labels: {n: \"%d\", %s}}\n",
				     i, i, i % 2 ? "odd: \"yes\"" : "even: \"yes\"");
		CHECK(apply(cm, NULL, &e) == 1);
		free(cm);
	}
	struct sobj **v;
	int n = api_list(api, K("ConfigMap"), "default", "odd", &v, &e);
	CHECK(n == 2);
	sobj_list_free(v, (size_t)n);
	n = api_list(api, K("ConfigMap"), "default", "n in (0,3),!odd", &v, &e);
	CHECK(n == 1 && !strcmp(v[0]->name, "s0"));
	sobj_list_free(v, (size_t)n);
	n = api_list(api, K("ConfigMap"), "default", "n!=1,even=yes", &v, &e);
	CHECK(n == 2);
	sobj_list_free(v, (size_t)n);
	CHECK(api_list(api, K("ConfigMap"), "default", "a in (", &v, &e) == -EINVAL);
	json_t *sel =
	    json_pack("{s:{s:s}, s:[{s:s, s:s, s:[s,s]}]}", "matchLabels", "odd", "yes",
		      "matchExpressions", "key", "n", "operator", "In", "values", "1", "2");
	json_t *l1 = json_pack("{s:s, s:s}", "odd", "yes", "n", "1");
	json_t *l3 = json_pack("{s:s, s:s}", "odd", "yes", "n", "3");
	CHECK(api_selector_matches(sel, l1));
	CHECK(!api_selector_matches(sel, l3));
	json_decref(sel);
	json_decref(l1);
	json_decref(l3);
	err_free(e);
}

static void test_events(void)
{
	api_event(api, "Warning", "FailedWrite", "ConfigMap", "default", "s0", "bad %d", 1);
	api_event(api, "Warning", "FailedWrite", "ConfigMap", "default", "s0", "bad %d", 1);
	api_flush_events(api);
	struct sobj **v;
	int n = api_list(api, K("Event"), "default", NULL, &v, NULL);
	int found = 0;
	for (int i = 0; i < n; i++) {
		json_t *io = json_object_get(v[i]->obj, "involvedObject");
		if (!strcmp(json_string_value(json_object_get(io, "name")), "s0")) {
			found++;
			CHECK(json_integer_value(json_object_get(v[i]->obj, "count")) == 2);
		}
	}
	CHECK(found == 1);
	sobj_list_free(v, (size_t)n);
}

/* Similar events of one object: 10 apart, then one combined, counted. */
static void test_events_combined(void)
{
	for (int i = 0; i < 25; i++)
		api_event(api, "Normal", "SuccessfulCreate", "ReplicaSet", "default", "agg",
			  "Created pod: agg-%d", i);
	api_flush_events(api);
	struct sobj **v;
	int n = api_list(api, K("Event"), "default", NULL, &v, NULL);
	int single = 0, combined = 0;
	for (int i = 0; i < n; i++) {
		json_t *io = json_object_get(v[i]->obj, "involvedObject");
		if (strcmp(json_string_value(json_object_get(io, "name")), "agg"))
			continue;
		const char *msg = json_string_value(json_object_get(v[i]->obj, "message"));
		if (!strncmp(msg, "(combined from similar events): Created pod: agg-", 49)) {
			combined++;
			CHECK(json_integer_value(json_object_get(v[i]->obj, "count")) == 15);
			CHECK(!strcmp(msg + 49, "24"));
		} else {
			single++;
		}
	}
	CHECK(single == 10);
	CHECK(combined == 1);
	sobj_list_free(v, (size_t)n);
}

/* Operations: eviction, drain, rollback; the kept refused writes */

static void make_node(const char *name)
{
	json_t *n = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Node", "metadata",
			      "name", name);
	CHECK(api_create(api, n, NULL, NULL) == 0);
	json_decref(n);
}

/* A pod bound to node; owner_uid (or NULL) names a controlling ReplicaSet. */
static void make_bound_pod(const char *name, const char *node, const char *owner_uid)
{
	json_t *p = json_pack("{s:s, s:s, s:{s:s}, s:{s:s, s:[{s:s, s:s}]}}", "apiVersion", "v1",
			      "kind", "Pod", "metadata", "name", name, "spec", "nodeName", node,
			      "containers", "name", "c", "image", "busybox:1.36");
	if (owner_uid)
		json_object_set_new(json_object_get(p, "metadata"), "ownerReferences",
				    json_pack("[{s:s, s:s, s:s, s:s, s:b}]", "apiVersion",
					      "apps/v1", "kind", "ReplicaSet", "name", "rs", "uid",
					      owner_uid, "controller", 1));
	struct err *e = NULL;
	CHECK(api_create(api, p, NULL, &e) == 0);
	if (e)
		fprintf(stderr, "  make_bound_pod %s: %s\n", name, e->msg);
	err_free(e);
	json_decref(p);
}

/* The pod is gone or terminating (evicted). */
static bool evicted(const char *name)
{
	struct sobj *o = api_get(api, K("Pod"), "default", name);
	bool r = !o || pod_is_terminating(o->obj);
	sobj_unref(o);
	return r;
}

static bool cordoned(const char *node)
{
	struct sobj *o = api_get(api, K("Node"), NULL, node);
	bool r = o && json_is_true(obj_at(o->obj, "spec.unschedulable"));
	sobj_unref(o);
	return r;
}

static void test_evict(void)
{
	make_node("ev1");
	make_bound_pod("ev-a", "ev1", NULL);
	struct err *e = NULL;
	CHECK(api_evict(api, "default", "ev-a", &e) == 0);
	CHECK(evicted("ev-a"));
	CHECK(api_evict(api, "default", "ev-none", &e) == -ENOENT && e);
	err_free(e);
}

static void test_drain_refuses_unmanaged(void)
{
	make_node("dr1");
	make_bound_pod("dr-managed", "dr1", "uid-rs-1");
	make_bound_pod("dr-solo", "dr1", NULL);
	make_bound_pod("dr-other", "dr2", NULL); /* another node: not in the way */
	int64_t rev = api_rev(api);
	struct err *e = NULL;
	CHECK(api_node_drain(api, "dr1", false, &e) == -EBUSY);
	printf("  refused: %s\n", e ? e->msg : "?");
	CHECK(e && strstr(e->msg, "default/dr-solo") && !strstr(e->msg, "dr-managed") &&
	      !strstr(e->msg, "dr-other"));
	/* Nothing changed: not cordoned, both pods there. */
	CHECK(api_rev(api) == rev);
	CHECK(!cordoned("dr1"));
	CHECK(!evicted("dr-managed") && !evicted("dr-solo"));
	/* force: cordoned, both evicted. */
	CHECK(api_node_drain(api, "dr1", true, &e) == 2);
	CHECK(cordoned("dr1"));
	CHECK(evicted("dr-managed") && evicted("dr-solo") && !evicted("dr-other"));
	CHECK(api_node_drain(api, "nope", true, &e) == -ENOENT && e && strstr(e->msg, "nope"));
	err_free(e);
}

static void test_drain_managed(void)
{
	make_node("dm1");
	make_bound_pod("dm-a", "dm1", "uid-rs-2");
	make_bound_pod("dm-b", "dm1", "uid-rs-2");
	struct err *e = NULL;
	CHECK(api_node_drain(api, "dm1", false, &e) == 2);
	CHECK(cordoned("dm1"));
	CHECK(evicted("dm-a") && evicted("dm-b"));
	/* Again: nothing left to evict, still cordoned. */
	CHECK(api_node_drain(api, "dm1", false, &e) == 0);
	CHECK(cordoned("dm1"));
	err_free(e);
}

/* A ReplicaSet of Deployment uid at revision rev, running image. */
static void make_revision(const char *dep_uid, int rev, const char *image)
{
	char *rs = xasprintf(
	    "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata:\n  name: roll-%d\n"
	    "  annotations: {deployment.kubernetes.io/revision: \"%d\", "
	    "kubernetes.io/change-cause: \"to %s\"}\n"
	    "  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: roll, uid: %s, "
	    "controller: true}]\n"
	    "spec:\n  replicas: 0\n  selector: {matchLabels: {app: roll}}\n"
	    "  template:\n    metadata: {labels: {app: roll, pod-template-hash: h%d}}\n"
	    "    spec: {containers: [{name: c, image: '%s'}]}\n",
	    rev, rev, image, dep_uid, rev, image);
	struct err *e = NULL;
	CHECK(apply(rs, NULL, &e) == 1);
	err_free(e);
	free(rs);
}

static const char *image_of(struct sobj *d)
{
	return obj_str(json_array_get(obj_at(d->obj, "spec.template.spec.containers"), 0), "image");
}

static void test_rollback(void)
{
	struct err *e = NULL;
	CHECK(apply("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: roll}\n"
		    "spec:\n  selector: {matchLabels: {app: roll}}\n"
		    "  template:\n    metadata: {labels: {app: roll}}\n"
		    "    spec: {containers: [{name: c, image: 'busybox:2'}]}\n",
		    NULL, &e) == 1);
	struct sobj *d = api_get(api, K("Deployment"), "default", "roll");
	const char *uid = d ? obj_str(d->obj, "metadata.uid") : "";
	make_revision(uid, 2, "busybox:2");
	make_revision(uid, 1, "busybox:1");
	CHECK(api_annotate(api, K("Deployment"), "default", "roll",
			   "deployment.kubernetes.io/revision", "2", NULL) >= 0);
	struct sobj **rss;
	size_t n = api_deployment_history(api, uid, &rss);
	CHECK(n == 2 && api_revision(rss[0]->obj) == 1 && api_revision(rss[1]->obj) == 2);
	sobj_list_free(rss, n);
	sobj_unref(d);

	CHECK(api_deployment_rollback(api, "default", "roll", 9, &e) == -ENOENT && e);
	CHECK(api_deployment_rollback(api, "default", "gone", 1, &e) == -ENOENT);
	/* To the current revision: nothing changes. */
	int64_t rev = api_rev(api);
	CHECK(api_deployment_rollback(api, "default", "roll", 2, &e) == 2);
	CHECK(api_rev(api) == rev);
	/* 0: the one before the current (1): its template and change cause. */
	CHECK(api_deployment_rollback(api, "default", "roll", 0, &e) == 1);
	d = api_get(api, K("Deployment"), "default", "roll");
	CHECK(d && image_of(d) && !strcmp(image_of(d), "busybox:1"));
	CHECK(d && !obj_at(d->obj, "spec.template.metadata.labels.pod-template-hash"));
	json_t *ann = d ? obj_at(d->obj, "metadata.annotations") : NULL;
	const char *cause = json_string_value(json_object_get(ann, "kubernetes.io/change-cause"));
	CHECK(cause && !strcmp(cause, "to busybox:1"));
	CHECK(d && gen_of(d) == 2);
	sobj_unref(d);
	err_free(e);
}

static void test_refusals_kept(void)
{
	api_refusals_keep_for_test = 5;
	char bad[] = "line \xff\xfe bad";
	for (int i = 0; i < 7; i++) {
		char *l = xasprintf("refused %d", i);
		CHECK(api_refusal_record(api, i == 6 ? bad : l, NULL) == 0);
		free(l);
	}
	/* Reopened: the newest 5 are there, oldest first. */
	api_free(api);
	store_close(st);
	struct err *e = NULL;
	char *db = xasprintf("%s/state.db", dir);
	CHECK(store_open(db, &st, &e) == 0 && api_new(st, &api, &e) == 0);
	free(db);
	char **lines;
	size_t n = api_refusals(api, &lines);
	CHECK(n == 5);
	CHECK(n == 5 && !strcmp(lines[0], "refused 2") && !strcmp(lines[3], "refused 5"));
	CHECK(n == 5 && !strcmp(lines[4], "line ?? bad"));
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	/* Not a kind of the table: no folder shows them, no manifest names them. */
	CHECK(kind_by_kind(API_REFUSAL_KIND) == NULL);
	api_refusals_keep_for_test = 0;
	err_free(e);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	char *db = xasprintf("%s/state.db", dir);
	struct err *e = NULL;
	if (store_open(db, &st, &e) < 0 || api_new(st, &api, &e) < 0) {
		fprintf(stderr, "setup: %s\n", e ? e->msg : "?");
		return 1;
	}
	RUN(test_create_defaults_metadata);
	RUN(test_update_generation_unchanged);
	RUN(test_conflict);
	RUN(test_annotate_no_conflict);
	RUN(test_patch);
	RUN(test_target_checks);
	RUN(test_multi_all_or_nothing);
	RUN(test_cascade);
	RUN(test_namespace_delete);
	RUN(test_list_selector);
	RUN(test_events);
	RUN(test_events_combined);
	RUN(test_evict);
	RUN(test_drain_refuses_unmanaged);
	RUN(test_drain_managed);
	RUN(test_rollback);
	RUN(test_refusals_kept);
	api_free(api);
	store_close(st);
	char *cmd = xasprintf("rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", dir);
	free(cmd);
	free(db);
	return unit_done();
}
