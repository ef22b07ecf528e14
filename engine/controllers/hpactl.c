/*
 * hpactl.c - the HorizontalPodAutoscaler controller.  See hpactl.h.
 *
 * A sync reads as Kubernetes' reconcileAutoscaler: read the spec and the
 * target's scale, compute a proposal per metric (hpa_algo's replica
 * calculator over the pods and their samples), keep the largest, bound it
 * (min/max, stabilization, policies), scale the target, report (status,
 * conditions, events).
 */
#include "engine/controllers/hpactl.h"

#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/clock.h"
#include "engine/controllers/ctrl.h"
#include "engine/controllers/hpa_algo.h"
#include "engine/hmap.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "engine/valid/valid.h"

#define MAX_METRICS  8
#define SNAP_TTL_MS  1000  /* how long a namespace's pod list serves syncs */
#define SNAP_KEEP_MS 60000 /* a list no sync used for this long is dropped */
#define KIND_NAME    "HorizontalPodAutoscaler"

/* The pods of one namespace, listed once for the syncs of a second: at
 * 1,000 HPAs a round of syncs costs one list, not a thousand, and an index
 * by label ("key=value" -> the pods carrying it) finds a selector's pods
 * without a look at every pod. */
struct pod_snap {
	struct sobj **v;
	int n;
	int64_t at_ms;	 /* mono */
	struct hmap idx; /* "key=value" -> struct idx_list */
};

struct idx_list {
	int n, cap;
	int *at; /* indexes into v */
};

/* What the controller keeps of one HPA between syncs. */
struct hpa_memo {
	char uid[64];
	struct hpa_state st;
};

struct hpactl {
	struct api *api;
	struct hpactl_opts o;
	struct hpa_params params;
	struct ctrl *ctrl;
	pthread_mutex_t lock;	/* guards memos (the map, not a memo: one worker uses them) */
	struct hmap memos;	/* "NS/NAME" -> struct hpa_memo */
	struct hmap snaps;	/* ns -> struct pod_snap; the worker's only */
	uint64_t syncs, cpu_ns; /* atomic */
	int64_t stats_every_ms; /* CFS_HPA_STATS_MS: log the cost this often (0: never) */
	int64_t stats_at_ms;	/* the worker's */
	uint64_t stats_syncs, stats_ns; /* at the last log line */
};

/* Options */

int hpactl_duration(const char *s, int64_t *ms)
{
	double total = 0;
	const char *p = s;
	if (!*p)
		return -1;
	while (*p) {
		char *end;
		double v = strtod(p, &end);
		if (end == p || v < 0)
			return -1;
		p = end;
		double unit;
		if (!strncmp(p, "ms", 2)) {
			unit = 1;
			p += 2;
		} else if (*p == 's' || *p == 'm' || *p == 'h') {
			unit = *p == 's' ? 1000 : *p == 'm' ? 60000 : 3600000;
			p++;
		} else if (!*p && v == 0) {
			unit = 0;
		} else {
			return -1;
		}
		total += v * unit;
	}
	*ms = (int64_t)total;
	return 0;
}

int hpactl_opts_add(struct hpactl_opts *o, int opt, const char *arg)
{
	static const char *names[] = {"sync-period", "tolerance", "downscale-stabilization",
				      "cpu-initialization-period", "initial-readiness-delay"};
	if (opt < HPACTL_OPT_FIRST || opt > HPACTL_OPT_FIRST + 4)
		return 0;
	int i = opt - HPACTL_OPT_FIRST;
	int64_t ms = 0;
	if (i == 1) {
		char *end;
		double t = strtod(arg, &end);
		if (*end || end == arg || t < 0) {
			fprintf(stderr,
				"clusterfs: --horizontal-pod-autoscaler-tolerance: want a "
				"ratio such as 0.1, got \"%s\"\n",
				arg);
			return -1;
		}
		o->tolerance = t > 0 ? t : -1;
		return 1;
	}
	if (hpactl_duration(arg, &ms) < 0 || (i == 0 && ms <= 0)) {
		fprintf(stderr,
			"clusterfs: --horizontal-pod-autoscaler-%s: want a duration such as 15s "
			"or 5m0s, got \"%s\"\n",
			names[i], arg);
		return -1;
	}
	*(i == 0   ? &o->sync_ms
	  : i == 2 ? &o->downscale_ms
	  : i == 3 ? &o->cpu_init_ms
		   : &o->readiness_delay_ms) = ms ? ms : -1;
	return 1;
}

/* The spec */

struct mspec {
	bool ok;
	char why[160];	    /* !ok: the reason */
	const char *reason; /* !ok: the condition's reason */
	struct hpa_metric m;
};

struct spec {
	const char *tkind, *tname;
	int32_t min, max;
	size_t nm;
	struct mspec ms[MAX_METRICS];
	bool has_behavior;
	struct hpa_behavior b;
};

static void parse_rules(const json_t *j, struct hpa_rules *r, bool up)
{
	if (up)
		hpa_rules_default_up(r);
	else
		hpa_rules_default_down(r);
	if (!json_is_object(j))
		return;
	json_t *w = json_object_get(j, "stabilizationWindowSeconds");
	if (json_is_integer(w))
		r->window_s = (int32_t)json_integer_value(w);
	const char *sel = obj_str(j, "selectPolicy");
	if (sel)
		r->select = !strcmp(sel, "Min")	       ? HPA_SELECT_MIN
			    : !strcmp(sel, "Disabled") ? HPA_SELECT_DISABLED
						       : HPA_SELECT_MAX;
	json_t *pols = json_object_get(j, "policies");
	if (!json_is_array(pols) || json_array_size(pols) == 0)
		return;
	r->npol = 0;
	size_t i;
	json_t *p;
	json_array_foreach(pols, i, p)
	{
		if (r->npol == HPA_MAX_POLICIES)
			break;
		const char *t = obj_str(p, "type");
		r->pol[r->npol++] =
		    (struct hpa_policy){t && !strcmp(t, "Percent"), (int32_t)obj_int(p, "value", 0),
					(int32_t)obj_int(p, "periodSeconds", 15)};
	}
}

static void parse_metric(const json_t *j, struct mspec *s)
{
	memset(s, 0, sizeof(*s));
	const char *type = obj_str(j, "type");
	if (!type || strcmp(type, "Resource")) {
		bool known =
		    type && (!strcmp(type, "Pods") || !strcmp(type, "Object") ||
			     !strcmp(type, "External") || !strcmp(type, "ContainerResource"));
		s->reason = known ? "FailedGetMetric" : "InvalidMetricSourceType";
		snprintf(s->why, sizeof(s->why),
			 known ? "unable to get metric: %s metrics are not served (only Resource)"
			       : "unknown metric source type \"%s\"",
			 type ? type : "");
		return;
	}
	const char *res = obj_str(j, "resource.name");
	const char *tt = obj_str(j, "resource.target.type");
	s->reason = "FailedGetResourceMetric";
	if (!res || (strcmp(res, "cpu") && strcmp(res, "memory"))) {
		snprintf(s->why, sizeof(s->why), "unable to get metrics for resource %s",
			 res ? res : "");
		return;
	}
	s->m.res = !strcmp(res, "cpu") ? HPA_CPU : HPA_MEMORY;
	if (tt && !strcmp(tt, "AverageValue")) {
		s->m.type = HPA_AVERAGE_VALUE;
		if (quantity_parse(obj_at(j, "resource.target.averageValue"), &s->m.target, NULL) <
		    0) {
			snprintf(s->why, sizeof(s->why), "invalid averageValue for %s", res);
			return;
		}
	} else {
		s->m.type = HPA_UTILIZATION;
		s->m.target = obj_int(j, "resource.target.averageUtilization", 0);
	}
	s->ok = true;
}

static void parse_spec(const json_t *hpa, struct spec *s)
{
	memset(s, 0, sizeof(*s));
	s->tkind = obj_str(hpa, "spec.scaleTargetRef.kind");
	s->tname = obj_str(hpa, "spec.scaleTargetRef.name");
	s->min = (int32_t)obj_int(hpa, "spec.minReplicas", 1);
	s->max = (int32_t)obj_int(hpa, "spec.maxReplicas", 1);
	json_t *ms = obj_at(hpa, "spec.metrics");
	size_t i;
	json_t *m;
	json_array_foreach(ms, i, m)
	{
		if (s->nm < MAX_METRICS)
			parse_metric(m, &s->ms[s->nm++]);
	}
	if (s->nm == 0) /* autoscaling/v2's default: 80 % of the CPU request */
		s->ms[s->nm++] = (struct mspec){.ok = true, .m = {HPA_CPU, HPA_UTILIZATION, 80}};
	json_t *b = obj_at(hpa, "spec.behavior");
	if (json_is_object(b)) {
		s->has_behavior = true;
		parse_rules(json_object_get(b, "scaleUp"), &s->b.up, true);
		parse_rules(json_object_get(b, "scaleDown"), &s->b.down, false);
	}
}

/* The scale target */

struct scale {
	struct sobj *obj;
	const struct kind_info *k;
	int32_t spec;
	const json_t *selector;
};

static int get_scale(struct hpactl *h, const char *ns, const struct spec *s, struct scale *sc,
		     char *why, size_t wl)
{
	memset(sc, 0, sizeof(*sc));
	const char *kind = s->tkind ? s->tkind : "";
	if (!strcmp(kind, "Deployment"))
		sc->k = KIND_DEPLOYMENT;
	else if (!strcmp(kind, "ReplicaSet"))
		sc->k = KIND_REPLICASET;
	else {
		snprintf(why, wl,
			 "no scale subresource for kind \"%s\" (Deployment and ReplicaSet "
			 "have one)",
			 kind);
		return -1;
	}
	sc->obj = s->tname ? api_get(h->api, sc->k, ns, s->tname) : NULL;
	if (!sc->obj) {
		snprintf(why, wl, "%s.apps \"%s\" not found", sc->k->plural,
			 s->tname ? s->tname : "");
		return -1;
	}
	sc->spec = (int32_t)obj_int(sc->obj->obj, "spec.replicas", 1);
	sc->selector = obj_at(sc->obj->obj, "spec.selector");
	return 0;
}

/* Pods and samples */

static int usage_of(struct hpactl *h, const char *ns, const char *name, struct api_pod_usage *u)
{
	if (h->o.usage)
		return h->o.usage(h->o.usage_arg, h->api, ns, name, u);
	return api_pod_usage(h->api, ns, name, u);
}

static void idx_free(void *v)
{
	struct idx_list *l = v;
	free(l->at);
	free(l);
}

static void snap_index(struct pod_snap *s)
{
	for (int i = 0; i < s->n; i++) {
		const char *k;
		json_t *val;
		json_object_foreach(obj_at(s->v[i]->obj, "metadata.labels"), k, val)
		{
			char key[512];
			snprintf(key, sizeof(key), "%s=%s", k, json_string_value(val) ?: "");
			struct idx_list *l = hmap_get(&s->idx, key);
			if (!l) {
				l = xcalloc(1, sizeof(*l));
				hmap_set(&s->idx, key, l);
			}
			if (l->n == l->cap) {
				l->cap = l->cap ? l->cap * 2 : 4;
				l->at = xrealloc(l->at, (size_t)l->cap * sizeof(int));
			}
			l->at[l->n++] = i;
		}
	}
}

static void snap_clear(struct pod_snap *s)
{
	if (s->n > 0)
		sobj_list_free(s->v, (size_t)s->n);
	s->v = NULL;
	s->n = 0;
	hmap_clear(&s->idx, idx_free);
}

static void snap_free(void *v);

/* Drops the lists of namespaces no sync asked for in a minute (their
 * HPAs are gone): they would keep old pods alive. */
static void snap_sweep(struct hpactl *h, int64_t now)
{
	char *gone[16];
	size_t n = 0;
	struct hmap_iter it = {0};
	struct hmap_ent *e;
	while ((e = hmap_next(&h->snaps, &it)) && n < 16)
		if (now - ((struct pod_snap *)e->val)->at_ms > SNAP_KEEP_MS)
			gone[n++] = xstrdup(e->key);
	for (size_t i = 0; i < n; i++) {
		snap_free(hmap_del(&h->snaps, gone[i]));
		free(gone[i]);
	}
}

static const struct pod_snap *snap_of(struct hpactl *h, const char *ns)
{
	int64_t now = mono_ms();
	struct pod_snap *s = hmap_get(&h->snaps, ns);
	if (s && now - s->at_ms < SNAP_TTL_MS)
		return s;
	snap_sweep(h, now); /* may drop s: looked up again */
	s = hmap_get(&h->snaps, ns);
	if (!s) {
		s = xcalloc(1, sizeof(*s));
		hmap_set(&h->snaps, ns, s);
	}
	snap_clear(s);
	s->n = api_list(h->api, KIND_POD, ns, NULL, &s->v, NULL);
	if (s->n < 0)
		s->n = 0;
	snap_index(s);
	s->at_ms = now;
	return s;
}

static void snap_free(void *v)
{
	snap_clear(v);
	free(v);
}

/* The pods of s a selector may match: those with its first matchLabels
 * pair (all when it has none).  *all is set when every pod is a candidate. */
static const struct idx_list *candidates(const struct pod_snap *s, const json_t *selector,
					 bool *all)
{
	const char *k;
	json_t *v;
	*all = false;
	json_object_foreach((json_t *)json_object_get(selector, "matchLabels"), k, v)
	{
		char key[512];
		snprintf(key, sizeof(key), "%s=%s", k, json_string_value(v) ?: "");
		return hmap_get(&s->idx, key); /* NULL: no pod has it */
	}
	*all = true;
	return NULL;
}

/* The sum of the pod's containers' requests of res (milli), or -1 when a
 * container has none. */
static int64_t pod_request(const json_t *pod, enum hpa_resource res)
{
	int64_t sum = 0;
	size_t i;
	json_t *c;
	json_array_foreach(obj_at(pod, "spec.containers"), i, c)
	{
		json_t *q = obj_at(c, res == HPA_CPU ? "resources.requests.cpu"
						     : "resources.requests.memory");
		int64_t v;
		if (!q || quantity_parse(q, &v, NULL) < 0)
			return -1;
		sum += v;
	}
	return sum;
}

static int64_t ms_of(const char *t)
{
	time_t s = t ? obj_time(t) : -1;
	return s < 0 ? -1 : (int64_t)s * 1000;
}

/* The target's pods with their samples, for both resources. */
struct pod_view {
	struct hpa_pod p;
	int64_t cpu, mem; /* samples, milli */
	int64_t req_cpu, req_mem;
};

static size_t pods_of(struct hpactl *h, const char *ns, const json_t *selector,
		      struct pod_view **out)
{
	const struct pod_snap *s = snap_of(h, ns);
	bool all;
	const struct idx_list *c = candidates(s, selector, &all);
	int nc = all ? s->n : c ? c->n : 0;
	struct pod_view *v = xcalloc((size_t)nc + 1, sizeof(*v));
	size_t n = 0;
	for (int j = 0; j < nc; j++) {
		int i = all ? j : c->at[j];
		const json_t *pod = s->v[i]->obj;
		if (!api_selector_matches(selector, obj_at(pod, "metadata.labels")))
			continue;
		struct pod_view *pv = &v[n++];
		const char *phase = obj_str(pod, "status.phase");
		const json_t *rc = obj_condition(pod, "Ready");
		pv->p.deleted = obj_at(pod, "metadata.deletionTimestamp") != NULL;
		pv->p.failed = phase && !strcmp(phase, "Failed");
		pv->p.pending = !phase || !strcmp(phase, "Pending");
		pv->p.start_ms = ms_of(obj_str(pod, "status.startTime"));
		pv->p.has_ready = rc && pv->p.start_ms >= 0;
		pv->p.ready = rc && obj_condition_true(pod, "Ready");
		pv->p.ready_ms = ms_of(obj_str(rc, "lastTransitionTime"));
		pv->req_cpu = pod_request(pod, HPA_CPU);
		pv->req_mem = pod_request(pod, HPA_MEMORY);
		struct api_pod_usage u;
		if (usage_of(h, ns, s->v[i]->name, &u) == 0) {
			pv->p.has_sample = true;
			pv->p.ts_ms = u.ts_ms;
			pv->p.window_ms = u.window_ms;
			pv->cpu = (u.total.cpu_nano + 999999) / 1000000;
			pv->mem = u.total.mem_bytes * 1000;
		}
	}
	*out = v;
	return n;
}

/* The metrics */

/* A milli-value as Kubernetes prints a quantity ("250m", "2", "52428800"). */
static void quantity_str(int64_t milli, char out[32])
{
	if (milli % 1000) {
		snprintf(out, 32, "%" PRId64 "m", milli);
		return;
	}
	int64_t v = milli / 1000;
	const char *suffix[] = {"", "k", "M", "G", "T"};
	int i = 0;
	while (v && v % 1000 == 0 && i < 4) {
		v /= 1000;
		i++;
	}
	snprintf(out, 32, "%" PRId64 "%s", v, suffix[i]);
}

static json_t *metric_status(const struct hpa_metric *m, const struct hpa_calc *c)
{
	char avg[32];
	quantity_str(c->average, avg);
	json_t *cur = json_pack("{s:s}", "averageValue", avg);
	if (m->type == HPA_UTILIZATION)
		json_object_set_new(cur, "averageUtilization", json_integer(c->utilization));
	return json_pack("{s:s, s:{s:s, s:o}}", "type", "Resource", "resource", "name",
			 hpa_resource_name(m->res), "current", cur);
}

/* What the metrics say: computeReplicasForMetrics. */
struct proposal {
	int32_t replicas; /* -1: no decision (an error) */
	char metric[96];  /* the winning metric's name, for the event */
	char err[320];	  /* the first metric's error */
	const char *err_reason;
	json_t *current; /* status.currentMetrics (new) */
};

static void compute_metrics(struct hpactl *h, const struct spec *s, const struct scale *sc,
			    struct pod_view *pv, size_t npods, int64_t now, struct proposal *pr)
{
	bool ok[MAX_METRICS];
	int32_t prop[MAX_METRICS];
	size_t bad = 0;
	struct hpa_pod *pods = xcalloc(npods + 1, sizeof(*pods));
	pr->current = json_array();
	for (size_t i = 0; i < s->nm; i++) {
		const struct mspec *m = &s->ms[i];
		char why[256] = "";
		struct hpa_calc c;
		ok[i] = m->ok;
		if (m->ok) {
			for (size_t k = 0; k < npods; k++) {
				pods[k] = pv[k].p;
				pods[k].value = m->m.res == HPA_CPU ? pv[k].cpu : pv[k].mem;
				pods[k].request =
				    m->m.res == HPA_CPU ? pv[k].req_cpu : pv[k].req_mem;
			}
			ok[i] = hpa_resource_replicas(&h->params, sc->spec, &m->m, pods, npods, now,
						      &c, why, sizeof(why)) == 0;
		}
		if (!ok[i]) {
			if (bad++ == 0) {
				if (m->ok)
					snprintf(
					    pr->err, sizeof(pr->err), "failed to get %s %s: %s",
					    hpa_resource_name(m->m.res),
					    m->m.type == HPA_UTILIZATION ? "utilization" : "usage",
					    why);
				else
					snprintf(pr->err, sizeof(pr->err), "%s", m->why);
				pr->err_reason = m->ok ? "FailedGetResourceMetric" : m->reason;
			}
			continue;
		}
		prop[i] = c.replicas;
		json_array_append_new(pr->current, metric_status(&m->m, &c));
	}
	free(pods);
	int32_t r = 0;
	int w = hpa_combine(ok, prop, s->nm, sc->spec, &r);
	pr->replicas = w < 0 ? -1 : r;
	if (w >= 0)
		snprintf(pr->metric, sizeof(pr->metric), "%s resource%s",
			 hpa_resource_name(s->ms[w].m.res),
			 s->ms[w].m.type == HPA_UTILIZATION ? " utilization (percentage of request)"
							    : "");
}

/* Reporting */

/* Sets a condition of an HPA's status as Kubernetes' setCondition does:
 * lastTransitionTime kept unless the status value changes. */
static void set_cond(json_t *st, const char *type, bool status, const char *reason, const char *fmt,
		     ...) __attribute__((format(printf, 5, 6)));
static void set_cond(json_t *st, const char *type, bool status, const char *reason, const char *fmt,
		     ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_t *conds = json_object_get(st, "conditions");
	if (!json_is_array(conds)) {
		conds = json_array();
		json_object_set_new(st, "conditions", conds);
	}
	json_t *c = NULL, *x;
	size_t i;
	json_array_foreach(conds, i, x)
	{
		const char *t = obj_str(x, "type");
		if (t && !strcmp(t, type))
			c = x;
	}
	if (!c) {
		c = json_pack("{s:s}", "type", type);
		json_array_append_new(conds, c);
	}
	const char *val = status ? "True" : "False";
	const char *old = obj_str(c, "status");
	if (!old || strcmp(old, val) || !obj_str(c, "lastTransitionTime")) {
		char now[32];
		api_timestamp(now);
		json_object_set_new(c, "lastTransitionTime", json_string(now));
	}
	json_object_set_new(c, "status", json_string(val));
	json_object_set_new(c, "reason", json_string(reason));
	json_object_set_new(c, "message", json_string(msg));
}

/* The new status: a copy of the old (its conditions and lastScaleTime). */
static json_t *status_start(const json_t *hpa)
{
	json_t *old = obj_at(hpa, "status");
	json_t *st = json_is_object(old) ? json_deep_copy(old) : json_object();
	json_object_set_new(st, "observedGeneration",
			    json_integer(obj_int(hpa, "metadata.generation", 1)));
	return st;
}

static void status_counts(json_t *st, int32_t current, int32_t desired, json_t *metrics)
{
	json_object_set_new(st, "currentReplicas", json_integer(current));
	json_object_set_new(st, "desiredReplicas", json_integer(desired));
	if (metrics && json_array_size(metrics))
		json_object_set(st, "currentMetrics", metrics);
	else
		json_object_del(st, "currentMetrics");
}

/* Writes st (taken) unless it is what the HPA has. */
static void status_write(struct hpactl *h, const struct sobj *o, json_t *st)
{
	json_t *old = obj_at(o->obj, "status");
	if (!old || !json_equal(old, st)) {
		struct err *e = NULL;
		if (api_update_status(h->api, KIND_HPA, o->ns, o->name, st, &e) < 0)
			log_debug("hpa", "%s/%s: status: %s", o->ns, o->name, e ? e->msg : "?");
		err_free(e);
	}
	json_decref(st);
}

#define EVENT(h, o, type, reason, ...)                                                             \
	api_event((h)->api, type, reason, KIND_NAME, (o)->ns, (o)->name, __VA_ARGS__)

/* Acting */

static int set_replicas(json_t *obj, void *arg, struct err **e)
{
	json_object_set_new(json_object_get(obj, "spec"), "replicas",
			    json_integer(*(int32_t *)arg));
	return 0;
}

/* Scales the target to desired: 0, or -1 (reported). */
static int rescale(struct hpactl *h, const struct sobj *o, const struct scale *sc, int32_t desired,
		   const char *reason, json_t *st)
{
	struct err *e = NULL;
	if (api_patch(h->api, sc->k, o->ns, sc->obj->name, set_replicas, &desired, &e) < 0) {
		const char *msg = e ? e->msg : "?";
		EVENT(h, o, "Warning", "FailedRescale", "New size: %d; reason: %s; error: %s",
		      desired, reason, msg);
		set_cond(st, "AbleToScale", false, "FailedUpdateScale",
			 "the HPA controller was unable to update the target scale: %s", msg);
		err_free(e);
		return -1;
	}
	set_cond(st, "AbleToScale", true, "SucceededRescale",
		 "the HPA controller was able to update the target scale to %d", desired);
	EVENT(h, o, "Normal", "SuccessfulRescale", "New size: %d; reason: %s", desired, reason);
	log_info("hpa", "%s/%s: %s %s from %d to %d (%s)", o->ns, o->name, sc->k->kind,
		 sc->obj->name, sc->spec, desired, reason);
	return 0;
}

/* The desired replicas from the metrics, bounded; -1 when the metrics
 * give no decision (reported in st and as events). */
static int32_t from_metrics(struct hpactl *h, const struct sobj *o, const struct spec *s,
			    const struct scale *sc, struct hpa_memo *m, json_t *st, char *reason,
			    size_t rl, json_t **metrics)
{
	int64_t now = wall_ms();
	struct pod_view *pv;
	size_t n = pods_of(h, o->ns, sc->selector, &pv);
	struct proposal pr = {0};
	compute_metrics(h, s, sc, pv, n, now, &pr);
	free(pv);
	*metrics = pr.current;
	if (pr.replicas < 0) {
		size_t bad = 0;
		for (size_t i = 0; i < s->nm; i++)
			bad += !s->ms[i].ok;
		set_cond(st, "ScalingActive", false, pr.err_reason,
			 "the HPA was unable to compute the replica count: %s", pr.err);
		EVENT(h, o, "Warning", pr.err_reason, "%s", pr.err);
		EVENT(h, o, "Warning", "FailedComputeMetricsReplicas",
		      "invalid metrics (%zu invalid out of %zu), first error is: %s",
		      bad ? bad : s->nm, s->nm, pr.err);
		return -1;
	}
	set_cond(st, "ScalingActive", true, "ValidMetricFound",
		 "the HPA was able to successfully calculate a replica count from %s", pr.metric);
	int32_t want = pr.replicas;
	if (want > sc->spec)
		snprintf(reason, rl, "%s above target", pr.metric);
	else if (want < sc->spec)
		snprintf(reason, rl, "All metrics below target");
	struct hpa_norm nm;
	hpa_normalize(&m->st, s->has_behavior ? &s->b : NULL, h->o.downscale_ms, sc->spec, want,
		      s->min, s->max, now, &nm);
	set_cond(st, "AbleToScale", true, nm.able_reason, "%s", nm.able_msg);
	set_cond(st, "ScalingLimited", nm.limited, nm.limit_reason, "%s", nm.limit_msg);
	return nm.replicas;
}

/* One HPA's reconcile (Kubernetes' reconcileAutoscaler). */
static void reconcile(struct hpactl *h, const struct sobj *o, struct hpa_memo *m)
{
	struct spec s;
	parse_spec(o->obj, &s);
	json_t *st = status_start(o->obj);
	struct scale sc;
	char why[256];
	if (get_scale(h, o->ns, &s, &sc, why, sizeof(why)) < 0) {
		set_cond(st, "AbleToScale", false, "FailedGetScale",
			 "the HPA controller was unable to get the target's current scale: %s",
			 why);
		EVENT(h, o, "Warning", "FailedGetScale", "%s", why);
		status_write(h, o, st);
		return;
	}
	set_cond(st, "AbleToScale", true, "SucceededGetScale",
		 "the HPA controller was able to get the target's current scale");
	hpa_record_initial(&m->st, sc.spec, wall_ms());
	int32_t current = sc.spec, desired = current;
	char reason[160] = "";
	json_t *metrics = NULL;
	bool act = true;
	if (sc.spec == 0 && s.min != 0) {
		set_cond(st, "ScalingActive", false, "ScalingDisabled",
			 "scaling is disabled since the replica count of the target is zero");
		act = false;
	} else if (current > s.max) {
		snprintf(reason, sizeof(reason),
			 "Current number of replicas above Spec.MaxReplicas");
		desired = s.max;
	} else if (current < s.min) {
		snprintf(reason, sizeof(reason),
			 "Current number of replicas below Spec.MinReplicas");
		desired = s.min;
	} else {
		desired = from_metrics(h, o, &s, &sc, m, st, reason, sizeof(reason), &metrics);
		if (desired < 0) {
			status_counts(st, current, current, metrics);
			goto out;
		}
	}
	bool scaled = false;
	if (act && desired != current) {
		if (rescale(h, o, &sc, desired, reason, st) < 0) {
			status_counts(st, current, current, metrics);
			goto out;
		}
		scaled = true;
		hpa_store_scale_event(&m->st, s.has_behavior ? &s.b : NULL, current, desired,
				      wall_ms());
		char now[32];
		api_timestamp(now);
		json_object_set_new(st, "lastScaleTime", json_string(now));
	}
	status_counts(st, current, scaled ? desired : current, metrics);
out:
	json_decref(metrics);
	sobj_unref(sc.obj);
	status_write(h, o, st);
}

/* Keys and state */

static struct hpa_memo *memo_for(struct hpactl *h, const char *key, const struct sobj *o)
{
	const char *uid = obj_str(o->obj, "metadata.uid");
	pthread_mutex_lock(&h->lock);
	struct hpa_memo *m = hmap_get(&h->memos, key);
	if (!m) {
		m = xcalloc(1, sizeof(*m));
		hmap_set(&h->memos, key, m);
	}
	pthread_mutex_unlock(&h->lock);
	if (strcmp(m->uid, uid ? uid : "")) { /* a new HPA of that name */
		hpa_state_clear(&m->st);
		snprintf(m->uid, sizeof(m->uid), "%s", uid ? uid : "");
	}
	return m;
}

static void memo_free(void *v)
{
	struct hpa_memo *m = v;
	hpa_state_clear(&m->st);
	free(m);
}

static void memo_drop(struct hpactl *h, const char *key)
{
	pthread_mutex_lock(&h->lock);
	struct hpa_memo *m = hmap_del(&h->memos, key);
	pthread_mutex_unlock(&h->lock);
	if (m)
		memo_free(m);
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Counts a sync's cost; logs it every CFS_HPA_STATS_MS. */
static void account(struct hpactl *h, uint64_t t0)
{
	uint64_t syncs = __atomic_add_fetch(&h->syncs, 1, __ATOMIC_RELAXED);
	uint64_t ns = __atomic_add_fetch(&h->cpu_ns, thread_cpu_ns() - t0, __ATOMIC_RELAXED);
	int64_t now = mono_ms();
	if (h->stats_every_ms <= 0 || now - h->stats_at_ms < h->stats_every_ms)
		return;
	uint64_t ds = syncs - h->stats_syncs, dn = ns - h->stats_ns;
	pthread_mutex_lock(&h->lock);
	size_t n = hmap_len(&h->memos);
	pthread_mutex_unlock(&h->lock);
	log_info("hpa",
		 "stats: %" PRIu64 " syncs, %" PRIu64 " ns CPU each, %zu HPAs, total %" PRIu64
		 " syncs %" PRIu64 " ns",
		 ds, ds ? dn / ds : 0, n, syncs, ns);
	h->stats_at_ms = now;
	h->stats_syncs = syncs;
	h->stats_ns = ns;
}

static int hpa_sync(void *arg, const char *key)
{
	struct hpactl *h = arg;
	uint64_t t0 = thread_cpu_ns();
	char ns[256], name[256];
	if (!ctrl_split_key(key, ns, name))
		return 0;
	struct sobj *o = api_get(h->api, KIND_HPA, ns, name);
	if (!o) {
		memo_drop(h, key);
		return 0;
	}
	reconcile(h, o, memo_for(h, key, o));
	sobj_unref(o);
	account(h, t0);
	return ctrl_requeue_after(h->o.sync_ms);
}

static void hpa_resync(void *arg, struct ctrl *c)
{
	struct hpactl *h = arg;
	struct sobj **v;
	int n = api_list(h->api, KIND_HPA, NULL, NULL, &v, NULL);
	for (int i = 0; i < n; i++)
		ctrl_enqueue_obj(c, v[i]);
	if (n > 0)
		sobj_list_free(v, (size_t)n);
}

/* An HPA new, deleted, or with a spec the controller has not synced yet
 * (its own status writes are not). */
static void hpa_event(void *arg, struct ctrl *c, const struct store_event *ev)
{
	if (strcmp(ev->obj->kind, KIND_NAME))
		return;
	const json_t *o = ev->obj->obj;
	if (ev->type != STORE_MODIFIED ||
	    obj_int(o, "metadata.generation", 1) != obj_int(o, "status.observedGeneration", -1))
		ctrl_enqueue_obj(c, ev->obj);
}

/* An option's value: 0 the default, < 0 an explicit zero. */
static int64_t pick(int64_t v, int64_t dflt)
{
	return v > 0 ? v : v < 0 ? 0 : dflt;
}

int hpactl_start(struct api *a, const struct hpactl_opts *o, struct hpactl **out, struct err **e)
{
	struct hpactl *h = xcalloc(1, sizeof(*h));
	h->api = a;
	h->o = *o;
	if (h->o.sync_ms <= 0)
		h->o.sync_ms = HPA_DEFAULT_SYNC_MS;
	h->o.downscale_ms = pick(o->downscale_ms, HPA_DEFAULT_DOWNSCALE_MS);
	h->params.tolerance = o->tolerance > 0	 ? o->tolerance
			      : o->tolerance < 0 ? 0
						 : HPA_DEFAULT_TOLERANCE;
	h->params.cpu_init_ms = pick(o->cpu_init_ms, HPA_DEFAULT_CPU_INIT_MS);
	h->params.readiness_delay_ms = pick(o->readiness_delay_ms, HPA_DEFAULT_READINESS_DELAY_MS);
	const char *every = getenv("CFS_HPA_STATS_MS");
	h->stats_every_ms = every ? atoll(every) : 0;
	h->stats_at_ms = mono_ms();
	pthread_mutex_init(&h->lock, NULL);
	static const struct ctrl_ops ops = {"hpa", 1, hpa_sync, hpa_resync, hpa_event};
	int r = ctrl_start(a, &ops, h, &h->ctrl, e);
	if (r < 0) {
		hpactl_stop(h);
		return r;
	}
	*out = h;
	return 0;
}

void hpactl_stop(struct hpactl *h)
{
	if (!h)
		return;
	ctrl_stop(h->ctrl);
	hmap_clear(&h->memos, memo_free);
	hmap_clear(&h->snaps, snap_free);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

void hpactl_stats(struct hpactl *h, struct hpactl_stats *out)
{
	out->syncs = __atomic_load_n(&h->syncs, __ATOMIC_RELAXED);
	out->cpu_ns = __atomic_load_n(&h->cpu_ns, __ATOMIC_RELAXED);
	pthread_mutex_lock(&h->lock);
	out->hpas = hmap_len(&h->memos);
	pthread_mutex_unlock(&h->lock);
}
