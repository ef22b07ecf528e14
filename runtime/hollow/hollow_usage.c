/*
 * hollow_usage.c - hollow nodes' synthetic usage reports (see
 * hollow_usage.h).
 *
 * Every period the thread lists the pods and the ConfigMaps named
 * hollow-usage (one list each), groups the running pods of our nodes by
 * node and sends each node one report: its pods, each with one container
 * per spec.containers entry sharing the pod's usage (the first gets the
 * remainder), and the node itself as the sum of its pods; a node of ours
 * without running pods (one list of the Nodes) reports itself idle.
 */
#include "runtime/hollow/hollow_usage.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clock.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"

#define HU_PERIOD_MS 10000
#define HU_KEY_MAX   384 /* "NS/KEY" */

struct hollow_usage {
	struct apic *c;
	hollow_owns_fn owns;
	void *arg;
	int64_t period_ms;
	pthread_t th;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop; /* lock */
};

int64_t hollow_usage_period_ms(void)
{
	const char *s = getenv("CFS_METRICS_PERIOD_MS");
	long long v = s ? atoll(s) : 0;
	return v > 0 ? v : HU_PERIOD_MS;
}

int hollow_usage_parse(const char *s, struct api_usage *u)
{
	_cleanup_free_ char *copy = xstrdup(s ? s : "");
	char *save = NULL;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		t += strspn(t, " \t\n");
		char *eq = strchr(t, '=');
		if (!eq)
			return -EINVAL;
		*eq = '\0';
		char *v = eq + 1;
		v[strcspn(v, " \t\n")] = '\0';
		int r = !strcmp(t, "cpu")      ? api_cpu_parse(v, &u->cpu_nano)
			: !strcmp(t, "memory") ? api_mem_parse(v, &u->mem_bytes)
					       : -EINVAL;
		if (r < 0)
			return r;
	}
	return 0;
}

/* The usage of pod: its namespace's hollow-usage (cms: NS -> ConfigMap
 * object) for its app label, else "default", else 1m / 1Mi.  Each value
 * is parsed once a pass (cache: "NS/KEY" -> [cpu, memory]). */
static struct api_usage pod_usage(const json_t *cms, json_t *cache, const json_t *pod)
{
	struct api_usage u = {1000000, 1 << 20};
	const char *ns = obj_str(pod, "metadata.namespace");
	const json_t *data = obj_at(json_object_get(cms, ns), "data");
	const char *key = obj_str(obj_at(pod, "metadata.labels"), "app");
	const char *v = key ? obj_str(data, key) : NULL;
	if (!v) {
		key = "default";
		v = obj_str(data, key);
	}
	if (!v)
		return u;
	char ck[HU_KEY_MAX];
	snprintf(ck, sizeof(ck), "%s/%s", ns, key);
	json_t *hit = json_object_get(cache, ck);
	if (hit)
		return (struct api_usage){json_integer_value(json_array_get(hit, 0)),
					  json_integer_value(json_array_get(hit, 1))};
	if (hollow_usage_parse(v, &u) < 0) {
		log_debug("hollow", "pod %s: bad %s value \"%s\"", obj_str(pod, "metadata.name"),
			  HOLLOW_USAGE_CONFIGMAP, v);
		u = (struct api_usage){1000000, 1 << 20};
	}
	json_object_set_new(cache, ck,
			    json_pack("[I, I]", (json_int_t)u.cpu_nano, (json_int_t)u.mem_bytes));
	return u;
}

/* The pod's entry of a report, its usage shared by its containers. */
static json_t *pod_entry(const json_t *pod, const struct api_usage *u, const char *ts,
			 const char *win)
{
	const json_t *spec = obj_at(pod, "spec.containers");
	size_t n = json_array_size(spec) ? json_array_size(spec) : 1;
	json_t *ctrs = json_array();
	for (size_t i = 0; i < n; i++) {
		struct api_usage c = {u->cpu_nano / (int64_t)n, u->mem_bytes / (int64_t)n};
		if (i == 0) {
			c.cpu_nano += u->cpu_nano % (int64_t)n;
			c.mem_bytes += u->mem_bytes % (int64_t)n;
		}
		const char *name = obj_str(json_array_get(spec, i), "name");
		json_array_append_new(ctrs, json_pack("{s:s, s:o}", "name", name ? name : "main",
						      "usage", api_usage_json(&c)));
	}
	const char *uid = obj_str(pod, "metadata.uid");
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "namespace",
			 obj_str(pod, "metadata.namespace"), "name", obj_str(pod, "metadata.name"),
			 "uid", uid ? uid : "", "timestamp", ts, "window", win, "containers", ctrs);
}

/* ConfigMaps named hollow-usage, by namespace (a new object). */
static json_t *configmaps(struct apic *c)
{
	json_t *cms = json_object();
	struct sobj **v;
	const struct apic_sel sel = {.fields = "metadata.name=" HOLLOW_USAGE_CONFIGMAP};
	int n = apic_list(c, KIND_CONFIGMAP, &sel, &v, NULL);
	for (int i = 0; i < n; i++)
		json_object_set(cms, v[i]->ns, v[i]->obj);
	if (n >= 0)
		sobj_list_free(v, (size_t)n);
	return cms;
}

/* node's report in reps (node -> report), made empty if new. */
static json_t *report_of(json_t *reps, const char *node, const char *ts, const char *win)
{
	json_t *rep = json_object_get(reps, node);
	if (!rep) {
		rep = json_pack("{s:[], s:{s:s, s:s}, s:[I, I]}", "pods", "node", "timestamp", ts,
				"window", win, "sum", (json_int_t)0, (json_int_t)0);
		json_object_set_new(reps, node, rep);
	}
	return rep;
}

/* Adds pod's entry to its node's report in reps. */
static void add_pod(json_t *reps, const char *node, json_t *entry, const struct api_usage *u,
		    const char *ts, const char *win)
{
	json_t *rep = report_of(reps, node, ts, win);
	json_array_append_new(json_object_get(rep, "pods"), entry);
	json_t *sum = json_object_get(rep, "sum");
	json_t *cpu = json_array_get(sum, 0), *mem = json_array_get(sum, 1);
	json_integer_set(cpu, json_integer_value(cpu) + u->cpu_nano);
	json_integer_set(mem, json_integer_value(mem) + u->mem_bytes);
}

/* The node's usage from the sum of its pods' (the "sum" add_pod keeps). */
static void finish(json_t *rep)
{
	json_t *sum = json_object_get(rep, "sum");
	struct api_usage u = {json_integer_value(json_array_get(sum, 0)),
			      json_integer_value(json_array_get(sum, 1))};
	json_object_set_new(json_object_get(rep, "node"), "usage", api_usage_json(&u));
	json_object_del(rep, "sum");
}

int hollow_usage_report_once(struct apic *c, hollow_owns_fn owns, void *arg, int64_t period_ms)
{
	char ts[32], win[24];
	api_timestamp(ts);
	api_window_format((int32_t)period_ms, win);
	struct sobj **v;
	int n = apic_list(c, KIND_POD, NULL, &v, NULL);
	if (n < 0)
		return n;
	json_t *cms = configmaps(c), *cache = json_object();
	json_t *reps = json_object();
	for (int i = 0; i < n; i++) {
		const json_t *pod = v[i]->obj;
		const char *node = obj_str(pod, "spec.nodeName");
		const char *phase = obj_str(pod, "status.phase");
		if (!node || !phase || strcmp(phase, "Running") || !owns(arg, node))
			continue;
		struct api_usage u = pod_usage(cms, cache, pod);
		add_pod(reps, node, pod_entry(pod, &u, ts, win), &u, ts, win);
	}
	sobj_list_free(v, (size_t)n);
	json_decref(cms);
	json_decref(cache);
	/* Our nodes without running pods report themselves idle (and so drop
	 * the pods they reported before at once). */
	n = apic_list(c, KIND_NODE, NULL, &v, NULL);
	for (int i = 0; i < n; i++)
		if (owns(arg, v[i]->name))
			report_of(reps, v[i]->name, ts, win);
	if (n >= 0)
		sobj_list_free(v, (size_t)n);
	int sent = 0;
	const char *node;
	json_t *rep;
	json_object_foreach(reps, node, rep)
	{
		struct err *e = NULL;
		finish(rep);
		if (apic_metrics_report(c, node, rep, &e) < 0)
			log_debug("hollow", "node %s: metrics report: %s", node, e ? e->msg : "?");
		else
			sent++;
		err_free(e);
	}
	json_decref(reps);
	return sent;
}

static void *usage_main(void *arg)
{
	struct hollow_usage *h = arg;
	pthread_mutex_lock(&h->lock);
	while (!h->stop) {
		struct timespec due = mono_deadline(h->period_ms);
		while (!h->stop)
			if (pthread_cond_timedwait(&h->cond, &h->lock, &due) == ETIMEDOUT)
				break;
		if (h->stop)
			break;
		pthread_mutex_unlock(&h->lock);
		hollow_usage_report_once(h->c, h->owns, h->arg, h->period_ms);
		pthread_mutex_lock(&h->lock);
	}
	pthread_mutex_unlock(&h->lock);
	return NULL;
}

struct hollow_usage *hollow_usage_start(struct apic *c, hollow_owns_fn owns, void *arg)
{
	struct hollow_usage *h = xcalloc(1, sizeof(*h));
	h->c = c;
	h->owns = owns;
	h->arg = arg;
	h->period_ms = hollow_usage_period_ms();
	pthread_mutex_init(&h->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->cond, &ca);
	pthread_condattr_destroy(&ca);
	int r = pthread_create(&h->th, NULL, usage_main, h);
	if (r) {
		log_warn("hollow", "no usage reports: starting a thread: %s", strerror(r));
		pthread_mutex_destroy(&h->lock);
		pthread_cond_destroy(&h->cond);
		free(h);
		return NULL;
	}
	return h;
}

void hollow_usage_stop(struct hollow_usage *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->stop = true;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
	pthread_join(h->th, NULL);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->cond);
	free(h);
}
