/*
 * agent_metrics.c - the node agent's resource metrics: every period (10 s;
 * CFS_METRICS_PERIOD_MS for tests) it samples each container cgroup of
 * every pod it runs and the machine (cgstat.h), turns CPU time into a rate
 * against the previous sample, and sends one report through the API client
 * (apic_metrics_report), as the kubelet's resource metrics feed
 * metrics-server.
 *
 * A container's cgroup is PARENT/podUID/ID (pod.h); the pod's usage is the
 * sum of its containers (the pause process lives outside the pod's
 * cgroup).  A container first seen has no rate yet: its pod is reported
 * from the second sample on.  Previous samples are keyed "UID/ID" and
 * dropped once the cgroup is gone.
 *
 * One thread, which alone touches struct agent_metrics (but for stop,
 * under its lock).  It copies the pod table's names under ag->lock and
 * reads cgroups and calls the API with no lock held.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/api/api_metrics.h"
#include "engine/clock.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "runtime/kubelet/agent_int.h"
#include "runtime/kubelet/cgstat.h"
#include "runtime/kubelet/podcg.h"

#define CG_ROOT		  "/sys/fs/cgroup"
#define METRICS_PERIOD_MS 10000
#define METRICS_CTR_MAX	  64

struct prev {
	int64_t cpu_ns, at_ns;
	uint64_t gen; /* the tick that last saw it */
};

struct agent_metrics {
	struct agent *ag;
	int64_t period_ms;
	bool v2;
	pthread_t th;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop; /* lock */

	/* the thread's own */
	struct hmap prev; /* "UID/ID" -> struct prev * */
	struct prev host;
	uint64_t gen;
	int64_t last_ns; /* mono ns of the previous tick; 0: none */
	bool failing;	 /* the last report failed (logged once) */
};

/* A pod of ours, as the pod table names it (copies). */
struct mpod {
	char *uid, *ns, *name;
};

static size_t pods_copy(struct agent *ag, struct mpod **out)
{
	pthread_mutex_lock(&ag->lock);
	size_t n = hmap_len(&ag->pods), i = 0;
	*out = xcalloc(n ? n : 1, sizeof(**out));
	struct hmap_iter it = {0};
	struct hmap_ent *ent;
	while ((ent = hmap_next(&ag->pods, &it)) && i < n) {
		struct apod *ap = ent->val;
		(*out)[i++] = (struct mpod){xstrdup(ap->uid), xstrdup(ap->ns), xstrdup(ap->name)};
	}
	pthread_mutex_unlock(&ag->lock);
	return i;
}

static void pods_free(struct mpod *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].uid);
		free(v[i].ns);
		free(v[i].name);
	}
	free(v);
}

/* The CPU rate of key's cumulative sample cpu_ns at now, against its
 * previous sample: 0 and *rate, or -1 when it is new (remembered). */
static int rate_of(struct agent_metrics *m, const char *key, int64_t cpu_ns, int64_t now,
		   int64_t *rate)
{
	struct prev *p = hmap_get(&m->prev, key);
	int r = -1;
	if (p) {
		*rate = cgstat_rate(p->cpu_ns, cpu_ns, now - p->at_ns);
		r = 0;
	} else {
		p = xcalloc(1, sizeof(*p));
		hmap_set(&m->prev, key, p);
	}
	*p = (struct prev){cpu_ns, now, m->gen};
	return r;
}

/* Adds usage u of container name to ctrs (summing instances of one name). */
static void ctr_add(json_t *sums, const char *name, const struct api_usage *u)
{
	json_t *s = json_object_get(sums, name);
	if (!s) {
		s = json_pack("{s:I, s:I}", "cpu", (json_int_t)0, "mem", (json_int_t)0);
		json_object_set_new(sums, name, s);
	}
	json_object_set_new(
	    s, "cpu", json_integer(json_integer_value(json_object_get(s, "cpu")) + u->cpu_nano));
	json_object_set_new(
	    s, "mem", json_integer(json_integer_value(json_object_get(s, "mem")) + u->mem_bytes));
}

/* The pod's entry of the report, or NULL when no container has a rate yet. */
static json_t *pod_entry(struct agent_metrics *m, const struct mpod *p, int64_t now, const char *ts,
			 const char *win)
{
	_cleanup_free_ char *cg = podcg_path(m->ag->o.cgroup_parent, p->uid);
	char **dirs;
	size_t n = cgstat_children(CG_ROOT, m->v2, cg, &dirs);
	json_t *sums = json_object();
	for (size_t i = 0; i < n; i++) {
		char name[64], key[512];
		struct cg_sample s;
		_cleanup_free_ char *path = xasprintf("%s/%s", cg, dirs[i]);
		snprintf(key, sizeof(key), "%s/%s", p->uid, dirs[i]);
		struct api_usage u;
		if (cgstat_ctr_name(dirs[i], p->uid, name, sizeof(name)) == 0 &&
		    cgstat_read(CG_ROOT, m->v2, path, &s) == 0 &&
		    rate_of(m, key, s.cpu_ns, now, &u.cpu_nano) == 0) {
			u.mem_bytes = s.mem_bytes;
			ctr_add(sums, name, &u);
		}
		free(dirs[i]);
	}
	free(dirs);
	if (!json_object_size(sums) || json_object_size(sums) > METRICS_CTR_MAX) {
		json_decref(sums);
		return NULL;
	}
	json_t *ctrs = json_array();
	const char *name;
	json_t *s;
	json_object_foreach(sums, name, s)
	{
		struct api_usage u = {json_integer_value(json_object_get(s, "cpu")),
				      json_integer_value(json_object_get(s, "mem"))};
		json_array_append_new(
		    ctrs, json_pack("{s:s, s:o}", "name", name, "usage", api_usage_json(&u)));
	}
	json_decref(sums);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "namespace", p->ns, "name", p->name,
			 "uid", p->uid, "timestamp", ts, "window", win, "containers", ctrs);
}

/* The machine's entry, or NULL on the first sample (or when /proc fails). */
static json_t *node_entry(struct agent_metrics *m, int64_t now, const char *ts, const char *win)
{
	struct cg_sample s;
	if (cgstat_host("/proc", &s) < 0)
		return NULL;
	struct prev old = m->host;
	m->host = (struct prev){s.cpu_ns, now, m->gen};
	if (!old.at_ns)
		return NULL;
	struct api_usage u = {cgstat_rate(old.cpu_ns, s.cpu_ns, now - old.at_ns), s.mem_bytes};
	return json_pack("{s:s, s:s, s:o}", "timestamp", ts, "window", win, "usage",
			 api_usage_json(&u));
}

/* Forgets the previous samples of cgroups not seen this tick. */
static void prev_prune(struct agent_metrics *m)
{
	struct hmap_iter it = {0};
	struct hmap_ent *ent;
	char **gone = NULL;
	size_t n = 0;
	while ((ent = hmap_next(&m->prev, &it)))
		if (((struct prev *)ent->val)->gen != m->gen) {
			gone = xrealloc(gone, (n + 1) * sizeof(char *));
			gone[n++] = xstrdup(ent->key);
		}
	for (size_t i = 0; i < n; i++) {
		free(hmap_del(&m->prev, gone[i]));
		free(gone[i]);
	}
	free(gone);
}

static void report(struct agent_metrics *m, json_t *rep)
{
	struct err *e = NULL;
	int r = apic_metrics_report(m->ag->c, m->ag->node, rep, &e);
	if (r < 0 && !m->failing)
		log_warn("agent", "node %s: metrics report: %s", m->ag->node,
			 e ? e->msg : strerror(-r));
	else if (r == 0 && m->failing)
		log_info("agent", "node %s: metrics reports go through again", m->ag->node);
	m->failing = r < 0;
	err_free(e);
}

/* One sample of everything, and its report. */
static void tick(struct agent_metrics *m)
{
	int64_t now = mono_ns();
	m->gen++;
	char ts[32], win[24];
	api_timestamp(ts);
	int64_t win_ms = m->last_ns ? (now - m->last_ns) / 1000000 : m->period_ms;
	api_window_format((int32_t)(win_ms > 0 ? win_ms : 1), win);
	m->last_ns = now;
	struct mpod *pods;
	size_t n = pods_copy(m->ag, &pods);
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *p = pod_entry(m, &pods[i], now, ts, win);
		if (p)
			json_array_append_new(list, p);
	}
	pods_free(pods, n);
	prev_prune(m);
	json_t *rep = json_pack("{s:o}", "pods", list);
	json_t *node = node_entry(m, now, ts, win);
	if (node)
		json_object_set_new(rep, "node", node);
	if (node || json_array_size(list))
		report(m, rep);
	json_decref(rep);
}

static void *metrics_main(void *arg)
{
	struct agent_metrics *m = arg;
	pthread_mutex_lock(&m->lock);
	while (!m->stop) {
		pthread_mutex_unlock(&m->lock);
		tick(m);
		pthread_mutex_lock(&m->lock);
		struct timespec due = mono_deadline(m->period_ms);
		while (!m->stop)
			if (pthread_cond_timedwait(&m->cond, &m->lock, &due) == ETIMEDOUT)
				break;
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

static int64_t period_ms(void)
{
	const char *s = getenv("CFS_METRICS_PERIOD_MS");
	long long v = s ? atoll(s) : 0;
	if (v > 0)
		log_info("agent", "metrics every %lld ms (CFS_METRICS_PERIOD_MS)", v);
	return v > 0 ? v : METRICS_PERIOD_MS;
}

void agent_metrics_start(struct agent *ag)
{
	struct agent_metrics *m = xcalloc(1, sizeof(*m));
	m->ag = ag;
	m->period_ms = period_ms();
	m->v2 = cgstat_is_v2(CG_ROOT);
	pthread_mutex_init(&m->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cond, &ca);
	pthread_condattr_destroy(&ca);
	int r = pthread_create(&m->th, NULL, metrics_main, m);
	if (r) {
		log_warn("agent", "node %s: no metrics: starting a thread: %s", ag->node,
			 strerror(r));
		pthread_mutex_destroy(&m->lock);
		pthread_cond_destroy(&m->cond);
		free(m);
		return;
	}
	ag->metrics = m;
}

void agent_metrics_stop(struct agent *ag)
{
	struct agent_metrics *m = ag->metrics;
	if (!m)
		return;
	pthread_mutex_lock(&m->lock);
	m->stop = true;
	pthread_cond_broadcast(&m->cond);
	pthread_mutex_unlock(&m->lock);
	pthread_join(m->th, NULL);
	hmap_clear(&m->prev, free);
	pthread_mutex_destroy(&m->lock);
	pthread_cond_destroy(&m->cond);
	free(m);
	ag->metrics = NULL;
}
