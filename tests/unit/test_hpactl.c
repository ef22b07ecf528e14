/*
 * test_hpactl.c - the HorizontalPodAutoscaler controller against a real
 * store and API in a temporary dir, with its metrics source replaced by a
 * table the test sets (hpactl_opts.usage): no nodes, no Deployment
 * controller; the test makes the pods and says what they use.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/api/api.h"
#include "engine/clock.h"
#include "engine/controllers/hpactl.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "engine/store/store.h"
#include "engine/valid/codec.h"
#include "tests/unit/env.h"
#include "tests/unit/unit.h"

static struct hpactl *hc;

/* The usage every pod of app=web reports (millicores); < 0: no sample. */
static volatile int64_t web_cpu_m = 200;

static int fake_usage(void *arg, struct api *a, const char *ns, const char *name,
		      struct api_pod_usage *out)
{
	if (web_cpu_m < 0)
		return -ENOENT;
	out->ts_ms = wall_ms();
	out->window_ms = 10000;
	out->total.cpu_nano = web_cpu_m * 1000000;
	out->total.mem_bytes = 50 << 20;
	return 0;
}

static const char deployment[] = "apiVersion: apps/v1\n"
				 "kind: Deployment\n"
				 "metadata: {name: web}\n"
				 "spec:\n"
				 "  replicas: 2\n"
				 "  selector: {matchLabels: {app: web}}\n"
				 "  template:\n"
				 "    metadata: {labels: {app: web}}\n"
				 "    spec:\n"
				 "      containers:\n"
				 "      - name: app\n"
				 "        image: busybox\n"
				 "        resources: {requests: {cpu: 100m}}\n";

/* A running, long-ready pod of app=web named name (request: cpu or none). */
static void make_pod(const char *name, const char *request)
{
	char *y = xasprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: %s, labels: {app: web}}\n"
			    "spec:\n  containers:\n  - name: app\n    image: busybox\n"
			    "    resources: {requests: {%s}}\n",
			    name, request);
	CHECK(env_apply(y) == 1);
	free(y);
	json_t *s = json_pack("{s:s, s:s, s:[{s:s, s:s, s:s}]}", "phase", "Running", "startTime",
			      "2020-01-01T00:00:00Z", "conditions", "type", "Ready", "status",
			      "True", "lastTransitionTime", "2020-01-01T00:00:10Z");
	CHECK(api_update_status(api, kind_by_kind("Pod"), "default", name, s, NULL) >= 0);
	json_decref(s);
}

static int64_t replicas(void)
{
	struct sobj *d = api_get(api, kind_by_kind("Deployment"), "default", "web");
	int64_t r = d ? obj_int(d->obj, "spec.replicas", -1) : -1;
	sobj_unref(d);
	return r;
}

static bool wait_replicas(int64_t want, int ms)
{
	int64_t end = mono_ms() + ms;
	while (mono_ms() < end) {
		if (replicas() == want)
			return true;
		usleep(20000);
	}
	return replicas() == want;
}

/* A condition of the HPA web: "Status Reason", or "" */
static void hpa_cond(const char *type, char out[128])
{
	struct sobj *h = api_get(api, KIND_HPA, "default", "web");
	const json_t *c = h ? obj_condition(h->obj, type) : NULL;
	snprintf(out, 128, "%s %s", c ? obj_str(c, "status") : "", c ? obj_str(c, "reason") : "");
	if (!c)
		out[0] = 0;
	sobj_unref(h);
}

static bool wait_cond(const char *type, const char *want, int ms)
{
	char got[128];
	int64_t end = mono_ms() + ms;
	do {
		hpa_cond(type, got);
		if (!strcmp(got, want))
			return true;
		usleep(20000);
	} while (mono_ms() < end);
	fprintf(stderr, "  %s: %s, want %s\n", type, got, want);
	return false;
}

/* Whether an Event about the HPA web has reason and a message containing msg. */
static bool has_event(const char *reason, const char *msg)
{
	api_flush_events(api);
	struct sobj **v;
	int n = api_list(api, kind_by_kind("Event"), "default", NULL, &v, NULL);
	bool found = false;
	for (int i = 0; i < n; i++) {
		const char *r = obj_str(v[i]->obj, "reason"), *m = obj_str(v[i]->obj, "message");
		const char *k = obj_str(v[i]->obj, "involvedObject.kind");
		if (r && m && k && !strcmp(k, "HorizontalPodAutoscaler") && !strcmp(r, reason) &&
		    strstr(m, msg))
			found = true;
	}
	if (n > 0)
		sobj_list_free(v, (size_t)n);
	return found;
}

static const char hpa[] =
    "apiVersion: autoscaling/v2\n"
    "kind: HorizontalPodAutoscaler\n"
    "metadata: {name: web}\n"
    "spec:\n"
    "  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n"
    "  minReplicas: 1\n"
    "  maxReplicas: 4\n"
    "  metrics:\n"
    "  - type: Resource\n"
    "    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}\n"
    "  behavior:\n"
    "    scaleDown: {stabilizationWindowSeconds: 1}\n";

/* Load on: 200 % of the request against a 50 % target: up to max 4, with
 * the status, the conditions and the event Kubernetes gives. */
static void test_scale_up(void)
{
	CHECK(env_apply(deployment) == 1);
	make_pod("web-a", "cpu: 100m");
	make_pod("web-b", "cpu: 100m");
	web_cpu_m = 200;
	CHECK(env_apply(hpa) == 1);
	CHECK(wait_replicas(4, 5000));
	CHECK(wait_cond("AbleToScale", "True SucceededRescale", 2000) ||
	      wait_cond("AbleToScale", "True ReadyForNewScale", 100));
	CHECK(wait_cond("ScalingActive", "True ValidMetricFound", 2000));
	CHECK(has_event("SuccessfulRescale", "New size: 4; reason: cpu resource utilization "
					     "(percentage of request) above target"));
	struct sobj *h = api_get(api, KIND_HPA, "default", "web");
	CHECK(h && obj_int(h->obj, "status.desiredReplicas", -1) >= 4);
	json_t *cm = h ? json_array_get(obj_at(h->obj, "status.currentMetrics"), 0) : NULL;
	CHECK(obj_int(cm, "resource.current.averageUtilization", -1) == 200);
	CHECK(obj_str(cm, "resource.current.averageValue") &&
	      !strcmp(obj_str(cm, "resource.current.averageValue"), "200m"));
	CHECK(h && obj_str(h->obj, "status.lastScaleTime"));
	CHECK(h && obj_int(h->obj, "status.observedGeneration", -1) ==
		       obj_int(h->obj, "metadata.generation", -2));
	sobj_unref(h);
}

static int set_two(json_t *obj, void *arg, struct err **e)
{
	json_object_set_new(json_object_get(obj, "spec"), "replicas", json_integer(2));
	return 0;
}

/* A manual scale of an autoscaled Deployment is corrected at the next sync. */
static void test_manual_corrected(void)
{
	CHECK(api_patch(api, kind_by_kind("Deployment"), "default", "web", set_two, NULL, NULL) >=
	      0);
	CHECK(wait_replicas(4, 5000));
}

/* Load off: down to min after the 1 s scale-down window. */
static void test_scale_down(void)
{
	web_cpu_m = 5;
	int64_t t0 = mono_ms();
	CHECK(wait_replicas(1, 8000));
	CHECK(mono_ms() - t0 >= 900); /* held for the stabilization window */
	CHECK(has_event("SuccessfulRescale", "reason: All metrics below target"));
}

/* No samples: no decision, ScalingActive False, the events Kubernetes gives. */
static void test_missing_metrics(void)
{
	web_cpu_m = -1;
	CHECK(wait_cond("ScalingActive", "False FailedGetResourceMetric", 5000));
	CHECK(has_event("FailedComputeMetricsReplicas", "invalid metrics (1 invalid out of 1)"));
	CHECK(replicas() == 1);
	web_cpu_m = 5;
	CHECK(wait_cond("ScalingActive", "True ValidMetricFound", 5000));
}

/* A pod without a CPU request: Utilization cannot be computed. */
static void test_missing_request(void)
{
	make_pod("web-c", "memory: 10Mi");
	CHECK(wait_cond("ScalingActive", "False FailedGetResourceMetric", 5000));
	CHECK(has_event("FailedGetResourceMetric", "missing request for cpu"));
	CHECK(api_delete_opts(api, kind_by_kind("Pod"), "default", "web-c", 0, NULL) >= 0);
	CHECK(wait_cond("ScalingActive", "True ValidMetricFound", 5000));
}

/* Two metrics, the largest proposal wins: CPU is low (5m of 100m against
 * 50 %), memory (50Mi a pod against an average of 20Mi) asks for 5; the
 * limit without behavior, max(2 x 1, 4), and maxReplicas give 4. */
static void test_two_metrics(void)
{
	web_cpu_m = 5;
	CHECK(env_apply(
		  "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\n"
		  "metadata: {name: web}\nspec:\n"
		  "  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n"
		  "  minReplicas: 1\n  maxReplicas: 4\n  metrics:\n"
		  "  - type: Resource\n"
		  "    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}\n"
		  "  - type: Resource\n"
		  "    resource: {name: memory, target: {type: AverageValue, averageValue: "
		  "20Mi}}\n") == 1);
	CHECK(wait_replicas(4, 5000));
	CHECK(has_event("SuccessfulRescale", "New size: 4; reason: memory resource above target"));
	struct sobj *h = api_get(api, KIND_HPA, "default", "web");
	json_t *cm = h ? obj_at(h->obj, "status.currentMetrics") : NULL;
	CHECK(json_array_size(cm) == 2);
	CHECK(obj_str(json_array_get(cm, 1), "resource.current.averageValue") &&
	      !strcmp(obj_str(json_array_get(cm, 1), "resource.current.averageValue"), "52428800"));
	sobj_unref(h);
}

/* A target without a scale subresource: AbleToScale False FailedGetScale;
 * deleting the HPA drops its state. */
static void test_bad_target_and_delete(void)
{
	CHECK(env_apply("apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\n"
			"metadata: {name: web}\nspec:\n"
			"  scaleTargetRef: {apiVersion: apps/v1, kind: StatefulSet, name: web}\n"
			"  minReplicas: 1\n  maxReplicas: 4\n") == 1);
	CHECK(wait_cond("AbleToScale", "False FailedGetScale", 5000));
	struct hpactl_stats s;
	hpactl_stats(hc, &s);
	CHECK(s.hpas == 1 && s.syncs > 0);
	CHECK(api_delete(api, KIND_HPA, "default", "web", NULL) >= 0);
	int64_t end = mono_ms() + 3000;
	do {
		hpactl_stats(hc, &s);
		usleep(20000);
	} while (s.hpas && mono_ms() < end);
	CHECK(s.hpas == 0);
}

static void test_durations(void)
{
	int64_t ms;
	CHECK(hpactl_duration("15s", &ms) == 0 && ms == 15000);
	CHECK(hpactl_duration("5m0s", &ms) == 0 && ms == 300000);
	CHECK(hpactl_duration("300ms", &ms) == 0 && ms == 300);
	CHECK(hpactl_duration("1h", &ms) == 0 && ms == 3600000);
	CHECK(hpactl_duration("0", &ms) == 0 && ms == 0);
	CHECK(hpactl_duration("5", &ms) < 0);
	CHECK(hpactl_duration("", &ms) < 0);
	struct hpactl_opts o = {0};
	CHECK(hpactl_opts_add(&o, HPACTL_OPT_FIRST, "2s") == 1 && o.sync_ms == 2000);
	CHECK(hpactl_opts_add(&o, HPACTL_OPT_FIRST + 1, "0.2") == 1 && o.tolerance == 0.2);
	CHECK(hpactl_opts_add(&o, HPACTL_OPT_FIRST + 2, "0s") == 1 && o.downscale_ms == -1);
	CHECK(hpactl_opts_add(&o, 'x', "1") == 0);
}

int main(void)
{
	env_up("hpa");
	struct err *e = NULL;
	struct hpactl_opts o = {.sync_ms = 200, .usage = fake_usage};
	if (hpactl_start(api, &o, &hc, &e) < 0) {
		fprintf(stderr, "setup: %s\n", e ? e->msg : "?");
		return 1;
	}
	RUN(test_durations);
	RUN(test_scale_up);
	RUN(test_manual_corrected);
	RUN(test_scale_down);
	RUN(test_missing_metrics);
	RUN(test_missing_request);
	RUN(test_two_metrics);
	RUN(test_bad_target_and_delete);
	store_wake_watchers(st);
	hpactl_stop(hc);
	env_down();
	return unit_done();
}
