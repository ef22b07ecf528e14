/*
 * api_metrics.c - the latest usage of each pod and node, in memory (see
 * api_metrics.h).
 *
 * Two maps under one mutex: pods by "NS/NAME" and nodes by name.  A node
 * entry remembers which pod keys its last report held, so that its next
 * report drops the pods it no longer runs.  Every read judges age (by the
 * server's monotonic clock when the report arrived: an agent's clock may
 * be off) and the pod's binding (the pod must exist, readable by the
 * caller, and still be bound to the node that reported it), so that a
 * stale or foreign sample is never shown.  Lock order: the table's lock is
 * a leaf; no store call is made while holding it.
 */
#include "engine/api/api_metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/api/api_int.h"
#include "engine/clock.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "engine/valid/valid.h"

#define MT_KEY_MAX   320  /* "NS/NAME" */
#define MT_EXPIRE_N  3	  /* a sample lives this many windows ... */
#define MT_MIN_WIN   1000 /* ... of at least this many ms each */
#define MT_CTR_MAX   64	  /* containers of a pod kept */
#define MT_NAME_SIZE 254

struct mt_ctr {
	char name[64];
	struct api_usage u;
};

struct mt_pod {
	char node[MT_NAME_SIZE];
	char uid[48]; /* "" when the report named none */
	int64_t ts_ms, recv_ms;
	int32_t window_ms;
	struct api_usage total;
	struct mt_ctr *c;
	size_t nc;
};

struct mt_node {
	int64_t ts_ms, recv_ms;
	int32_t window_ms;
	bool has_usage; /* the report carried the node's own usage */
	struct api_usage u;
	char **pods; /* the keys its last report held */
	size_t npods;
};

struct api_mtab {
	pthread_mutex_t lock;
	struct hmap pods;  /* "NS/NAME" -> struct mt_pod * */
	struct hmap nodes; /* name -> struct mt_node * */
};

/* Quantities */

int api_cpu_parse(const char *s, int64_t *nano)
{
	char *end;
	size_t n = s ? strlen(s) : 0;
	if (n >= 2 && (s[n - 1] == 'n' || s[n - 1] == 'u')) {
		errno = 0;
		long long v = strtoll(s, &end, 10);
		if (errno || end != s + n - 1 || v < 0)
			return -EINVAL;
		*nano = s[n - 1] == 'n' ? v : v * 1000;
		return 0;
	}
	json_t *q = json_string(s ? s : "");
	int64_t milli;
	int r = quantity_parse(q, &milli, NULL);
	json_decref(q);
	if (r < 0 || milli < 0)
		return -EINVAL;
	*nano = milli * 1000000;
	return 0;
}

int api_mem_parse(const char *s, int64_t *bytes)
{
	json_t *q = json_string(s ? s : "");
	int64_t milli;
	int r = quantity_parse(q, &milli, NULL);
	json_decref(q);
	if (r < 0 || milli < 0)
		return -EINVAL;
	*bytes = milli / 1000;
	return 0;
}

int api_usage_parse(const json_t *usage, struct api_usage *out)
{
	const char *cpu = obj_str(usage, "cpu"), *mem = obj_str(usage, "memory");
	if (!cpu || !mem || api_cpu_parse(cpu, &out->cpu_nano) < 0 ||
	    api_mem_parse(mem, &out->mem_bytes) < 0)
		return -EINVAL;
	return 0;
}

json_t *api_usage_json(const struct api_usage *u)
{
	char cpu[32], mem[32];
	snprintf(cpu, sizeof(cpu), "%" PRId64 "n", u->cpu_nano);
	if (u->mem_bytes % 1024 == 0)
		snprintf(mem, sizeof(mem), "%" PRId64 "Ki", u->mem_bytes / 1024);
	else
		snprintf(mem, sizeof(mem), "%" PRId64, u->mem_bytes);
	return json_pack("{s:s, s:s}", "cpu", cpu, "memory", mem);
}

void api_window_format(int32_t ms, char out[24])
{
	if (ms % 1000 == 0)
		snprintf(out, 24, "%ds", ms / 1000);
	else if (ms < 1000)
		snprintf(out, 24, "%dms", ms);
	else { /* as Go's Duration: 1.5s, 20.064s */
		int frac = ms % 1000, digits = 3;
		for (; frac % 10 == 0; frac /= 10)
			digits--;
		snprintf(out, 24, "%d.%0*ds", ms / 1000, digits, frac);
	}
}

/* "10s", "1.5s", "500ms", "1m": milliseconds, or -1. */
static int32_t window_parse(const char *s)
{
	if (!s)
		return -1;
	char *end;
	double v = strtod(s, &end);
	if (end == s || v < 0 || v > 86400)
		return -1;
	if (!strcmp(end, "ms"))
		return (int32_t)v;
	if (!strcmp(end, "s"))
		return (int32_t)(v * 1000);
	if (!strcmp(end, "m"))
		return (int32_t)(v * 60000);
	return -1;
}

static int64_t ts_parse(const char *s)
{
	time_t t = s ? obj_time(s) : 0;
	return t > 0 ? (int64_t)t * 1000 : wall_ms();
}

/* The table */

void api_metrics_init(struct api *a)
{
	a->mtab = xcalloc(1, sizeof(*a->mtab));
	pthread_mutex_init(&a->mtab->lock, NULL);
}

static void pod_free(void *p)
{
	struct mt_pod *mp = p;
	if (mp)
		free(mp->c);
	free(mp);
}

static void node_free(void *p)
{
	struct mt_node *n = p;
	if (!n)
		return;
	for (size_t i = 0; i < n->npods; i++)
		free(n->pods[i]);
	free(n->pods);
	free(n);
}

void api_metrics_free(struct api *a)
{
	if (!a->mtab)
		return;
	hmap_clear(&a->mtab->pods, pod_free);
	hmap_clear(&a->mtab->nodes, node_free);
	pthread_mutex_destroy(&a->mtab->lock);
	free(a->mtab);
	a->mtab = NULL;
}

static struct api_mtab *tab(struct api *a)
{
	return a->root->mtab;
}

static bool expired(int64_t recv_ms, int32_t window_ms, int64_t now)
{
	int64_t w = window_ms > MT_MIN_WIN ? window_ms : MT_MIN_WIN;
	return now - recv_ms > MT_EXPIRE_N * w;
}

/* Reporting */

static int parse_pod(const json_t *jp, struct mt_pod *mp, struct err **e)
{
	const json_t *ctrs = json_object_get(jp, "containers");
	if (!json_is_array(ctrs) || json_array_size(ctrs) > MT_CTR_MAX)
		return err_make(e, EINVAL, "metrics report: pod %s/%s: bad containers",
				obj_str(jp, "namespace"), obj_str(jp, "name"));
	const char *uid = obj_str(jp, "uid");
	snprintf(mp->uid, sizeof(mp->uid), "%s", uid ? uid : "");
	mp->ts_ms = ts_parse(obj_str(jp, "timestamp"));
	mp->window_ms = window_parse(obj_str(jp, "window"));
	if (mp->window_ms < 0)
		return err_make(e, EINVAL, "metrics report: pod %s/%s: bad window",
				obj_str(jp, "namespace"), obj_str(jp, "name"));
	mp->nc = json_array_size(ctrs);
	mp->c = xcalloc(mp->nc ? mp->nc : 1, sizeof(*mp->c));
	size_t i;
	const json_t *jc;
	json_array_foreach(ctrs, i, jc)
	{
		const char *name = obj_str(jc, "name");
		if (!name || strlen(name) >= sizeof(mp->c[i].name) ||
		    api_usage_parse(json_object_get(jc, "usage"), &mp->c[i].u) < 0)
			return err_make(e, EINVAL, "metrics report: pod %s/%s: bad container usage",
					obj_str(jp, "namespace"), obj_str(jp, "name"));
		snprintf(mp->c[i].name, sizeof(mp->c[i].name), "%s", name);
		mp->total.cpu_nano += mp->c[i].u.cpu_nano;
		mp->total.mem_bytes += mp->c[i].u.mem_bytes;
	}
	return 0;
}

/* May a's caller report for node?  0, or -EPERM with *e. */
static int may_report(struct api *a, const char *node, struct err **e)
{
	if (api_caller_is_root(a))
		return 0;
	const struct api_who *w = api_caller(a);
	if (w->node && !strcmp(w->node, node))
		return 0;
	return err_make(e, EPERM,
			"nodes \"%s\" is forbidden: User \"%s\" cannot create resource "
			"\"nodes/metrics\" in API group \"\" at the cluster scope%s",
			node, w->user ? w->user : "",
			w->node ? ": a node may report only itself" : "");
}

/* For a node caller: 1 when ns/name is bound to node, 0 when the pod is
 * gone (skipped), -EPERM when it is another node's. */
static int pod_bound(struct api *a, const char *node, const char *ns, const char *name,
		     struct err **e)
{
	if (api_caller_is_root(a))
		return 1;
	struct sobj *o = api_get(a->root, KIND_POD, ns, name);
	if (!o)
		return 0;
	const char *on = obj_str(o->obj, "spec.nodeName");
	bool ok = on && !strcmp(on, node);
	sobj_unref(o);
	if (ok)
		return 1;
	return err_make(
	    e, EPERM, "pods \"%s\" is forbidden: node \"%s\" may report only the pods bound to it",
	    name, node);
}

/* The new node entry's pods, parsed and checked: keys[i] and v[i]. */
struct parsed {
	char **keys;
	struct mt_pod **v;
	size_t n;
};

static void parsed_free(struct parsed *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->keys[i]);
		pod_free(p->v[i]);
	}
	free(p->keys);
	free(p->v);
}

static int parse_pods(struct api *a, const char *node, const json_t *pods, struct parsed *out,
		      struct err **e)
{
	if (pods && !json_is_array(pods))
		return err_make(e, EINVAL, "metrics report: pods must be a list");
	size_t n = json_array_size(pods);
	out->keys = xcalloc(n ? n : 1, sizeof(char *));
	out->v = xcalloc(n ? n : 1, sizeof(struct mt_pod *));
	size_t i;
	const json_t *jp;
	json_array_foreach(pods, i, jp)
	{
		const char *ns = obj_str(jp, "namespace"), *name = obj_str(jp, "name");
		if (!ns || !name || strlen(ns) + strlen(name) + 2 > MT_KEY_MAX)
			return err_make(e, EINVAL,
					"metrics report: a pod without namespace or name");
		int b = pod_bound(a, node, ns, name, e);
		if (b < 0)
			return b;
		if (b == 0)
			continue;
		struct mt_pod *mp = xcalloc(1, sizeof(*mp));
		snprintf(mp->node, sizeof(mp->node), "%s", node);
		out->keys[out->n] = xasprintf("%s/%s", ns, name);
		out->v[out->n++] = mp;
		int r = parse_pod(jp, mp, e);
		if (r < 0)
			return r;
	}
	return 0;
}

static int parse_node(const json_t *jn, struct mt_node *mn, struct err **e)
{
	if (!jn)
		return 0;
	mn->has_usage = true;
	mn->ts_ms = ts_parse(obj_str(jn, "timestamp"));
	mn->window_ms = window_parse(obj_str(jn, "window"));
	if (mn->window_ms < 0 || api_usage_parse(json_object_get(jn, "usage"), &mn->u) < 0)
		return err_make(e, EINVAL, "metrics report: bad node usage");
	return 0;
}

/* Under the lock: node's report replaces its last one. */
static void install(struct api_mtab *t, const char *node, struct mt_node *mn, struct parsed *p)
{
	struct mt_node *old = hmap_del(&t->nodes, node);
	for (size_t i = 0; old && i < old->npods; i++) {
		struct mt_pod *mp = hmap_get(&t->pods, old->pods[i]);
		if (mp && !strcmp(mp->node, node))
			pod_free(hmap_del(&t->pods, old->pods[i]));
	}
	node_free(old);
	mn->pods = p->keys;
	mn->npods = p->n;
	for (size_t i = 0; i < p->n; i++)
		pod_free(hmap_set(&t->pods, p->keys[i], p->v[i]));
	free(p->v);
	*p = (struct parsed){0};
	hmap_set(&t->nodes, node, mn);
}

int api_metrics_report(struct api *a, const char *node, const json_t *report, struct err **e)
{
	if (!node || !*node || strlen(node) >= MT_NAME_SIZE || !json_is_object(report))
		return err_make(e, EINVAL, "metrics report: no node, or not an object");
	int r = may_report(a, node, e);
	if (r < 0)
		return r;
	struct parsed p = {0};
	struct mt_node *mn = xcalloc(1, sizeof(*mn));
	r = parse_node(json_object_get(report, "node"), mn, e);
	if (r == 0)
		r = parse_pods(a, node, json_object_get(report, "pods"), &p, e);
	if (r < 0) {
		parsed_free(&p);
		node_free(mn);
		return r;
	}
	mn->recv_ms = mono_ms();
	for (size_t i = 0; i < p.n; i++)
		p.v[i]->recv_ms = mn->recv_ms;
	struct api_mtab *t = tab(a);
	pthread_mutex_lock(&t->lock);
	install(t, node, mn, &p);
	pthread_mutex_unlock(&t->lock);
	return 0;
}

/* Reading */

/* A copy of the live sample of pod o (readable by the caller), or NULL. */
static struct mt_pod *pod_sample(struct api *a, const struct sobj *o)
{
	const char *node = obj_str(o->obj, "spec.nodeName");
	const char *uid = obj_str(o->obj, "metadata.uid");
	if (!node)
		return NULL;
	char key[MT_KEY_MAX];
	snprintf(key, sizeof(key), "%s/%s", o->ns, o->name);
	struct api_mtab *t = tab(a);
	struct mt_pod *copy = NULL;
	pthread_mutex_lock(&t->lock);
	struct mt_pod *mp = hmap_get(&t->pods, key);
	if (mp && !strcmp(mp->node, node) && (!mp->uid[0] || (uid && !strcmp(mp->uid, uid))) &&
	    !expired(mp->recv_ms, mp->window_ms, mono_ms())) {
		copy = xmalloc(sizeof(*copy));
		*copy = *mp;
		copy->c = xcalloc(mp->nc ? mp->nc : 1, sizeof(*mp->c));
		memcpy(copy->c, mp->c, mp->nc * sizeof(*mp->c));
	}
	pthread_mutex_unlock(&t->lock);
	return copy;
}

static bool node_sample(struct api *a, const char *name, struct mt_node *out)
{
	struct api_mtab *t = tab(a);
	pthread_mutex_lock(&t->lock);
	struct mt_node *n = hmap_get(&t->nodes, name);
	bool ok = n && n->has_usage && !expired(n->recv_ms, n->window_ms, mono_ms());
	if (ok) {
		*out = *n;
		out->pods = NULL;
		out->npods = 0;
	}
	pthread_mutex_unlock(&t->lock);
	return ok;
}

static int get_errno(void)
{
	return errno == EACCES ? -EACCES : -ENOENT;
}

int api_pod_usage(struct api *a, const char *ns, const char *name, struct api_pod_usage *out)
{
	struct sobj *o = api_get(a, KIND_POD, ns, name);
	if (!o)
		return get_errno();
	struct mt_pod *mp = pod_sample(a, o);
	sobj_unref(o);
	if (!mp)
		return -ENOENT;
	*out = (struct api_pod_usage){mp->ts_ms, mp->window_ms, mp->total};
	pod_free(mp);
	return 0;
}

static json_t *meta(const struct sobj *o, bool ns)
{
	char now[32];
	api_timestamp(now);
	json_t *m = json_pack("{s:s}", "name", o->name);
	if (ns)
		json_object_set_new(m, "namespace", json_string(o->ns));
	json_object_set_new(m, "creationTimestamp", json_string(now));
	const json_t *labels = obj_at(o->obj, "metadata.labels");
	if (json_is_object(labels))
		json_object_set(m, "labels", (json_t *)labels);
	return m;
}

static json_t *sample_head(const char *kind, json_t *m, int64_t ts_ms, int32_t window_ms)
{
	char ts[32], win[24];
	obj_format_time((time_t)(ts_ms / 1000), ts);
	api_window_format(window_ms, win);
	return json_pack("{s:s, s:s, s:o, s:s, s:s}", "kind", kind, "apiVersion",
			 "metrics.k8s.io/v1beta1", "metadata", m, "timestamp", ts, "window", win);
}

static json_t *pod_metrics_of(const struct sobj *o, const struct mt_pod *mp)
{
	json_t *j = sample_head("PodMetrics", meta(o, true), mp->ts_ms, mp->window_ms);
	json_t *ctrs = json_array();
	for (size_t i = 0; i < mp->nc; i++)
		json_array_append_new(ctrs, json_pack("{s:s, s:o}", "name", mp->c[i].name, "usage",
						      api_usage_json(&mp->c[i].u)));
	json_object_set_new(j, "containers", ctrs);
	return j;
}

static json_t *node_metrics_of(const struct sobj *o, const struct mt_node *n)
{
	json_t *j = sample_head("NodeMetrics", meta(o, false), n->ts_ms, n->window_ms);
	json_object_set_new(j, "usage", api_usage_json(&n->u));
	return j;
}

int api_pod_metrics(struct api *a, const char *ns, const char *name, json_t **out)
{
	*out = NULL;
	struct sobj *o = api_get(a, KIND_POD, ns, name);
	if (!o)
		return get_errno();
	struct mt_pod *mp = pod_sample(a, o);
	if (mp)
		*out = pod_metrics_of(o, mp);
	pod_free(mp);
	sobj_unref(o);
	return *out ? 0 : -ENOENT;
}

int api_node_metrics(struct api *a, const char *name, json_t **out)
{
	*out = NULL;
	struct sobj *o = api_get(a, KIND_NODE, NULL, name);
	if (!o)
		return get_errno();
	struct mt_node n;
	if (node_sample(a, name, &n))
		*out = node_metrics_of(o, &n);
	sobj_unref(o);
	return *out ? 0 : -ENOENT;
}

/* Drops what expired: nodes (with their pods) silent for too long. */
static void sweep(struct api *a)
{
	struct api_mtab *t = tab(a);
	int64_t now = mono_ms();
	pthread_mutex_lock(&t->lock);
	struct hmap_iter it = {0};
	struct hmap_ent *ent;
	char **gone = NULL;
	size_t ngone = 0;
	while ((ent = hmap_next(&t->nodes, &it))) {
		struct mt_node *n = ent->val;
		int32_t w = n->window_ms;
		for (size_t i = 0; i < n->npods && !n->has_usage; i++) {
			struct mt_pod *mp = hmap_get(&t->pods, n->pods[i]);
			if (mp && mp->window_ms > w)
				w = mp->window_ms;
		}
		if (expired(n->recv_ms, w, now)) {
			gone = xrealloc(gone, (ngone + 1) * sizeof(char *));
			gone[ngone++] = xstrdup(ent->key);
		}
	}
	struct parsed none = {0};
	for (size_t i = 0; i < ngone; i++) {
		install(t, gone[i], xcalloc(1, sizeof(struct mt_node)), &none);
		node_free(hmap_del(&t->nodes, gone[i]));
		free(gone[i]);
	}
	free(gone);
	pthread_mutex_unlock(&t->lock);
}

json_t *api_pod_metrics_list(struct api *a, const char *ns, const char *selector, struct err **e)
{
	struct sobj **v;
	int n = api_list(a, KIND_POD, ns && *ns ? ns : NULL, selector, &v, e);
	if (n < 0)
		return NULL;
	sweep(a);
	json_t *list = json_array();
	for (int i = 0; i < n; i++) {
		struct mt_pod *mp = pod_sample(a, v[i]);
		if (mp)
			json_array_append_new(list, pod_metrics_of(v[i], mp));
		pod_free(mp);
	}
	sobj_list_free(v, (size_t)n);
	return list;
}

json_t *api_node_metrics_list(struct api *a, const char *selector, struct err **e)
{
	struct sobj **v;
	int n = api_list(a, KIND_NODE, NULL, selector, &v, e);
	if (n < 0)
		return NULL;
	sweep(a);
	json_t *list = json_array();
	for (int i = 0; i < n; i++) {
		struct mt_node s;
		if (node_sample(a, v[i]->name, &s))
			json_array_append_new(list, node_metrics_of(v[i], &s));
	}
	sobj_list_free(v, (size_t)n);
	return list;
}
