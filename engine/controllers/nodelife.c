/*
 * nodelife.c - the node lifecycle controller (see nodelife.h).
 *
 * One monitor thread does all the work, one period at a time, from a fresh
 * list of Nodes: it is level-based, so a missed period or a restart loses
 * nothing.  The informer only tells it about deleted Nodes (their pods
 * are to go) and about resyncs (look for orphaned pods).
 *
 * Within a period: decide each node's health and wanted taints from the
 * list; write the Unknown statuses (one batch); patch the taints that
 * differ (one call per such node); then, only if some node needs it, list
 * the pods once and evict, mark not ready and collect orphans, in batches.
 */
#include "engine/controllers/nodelife.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/clock.h"
#include "engine/hmap.h"
#include "engine/client/informer.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"

#define NL_BATCH 4096 /* objects per status or delete batch */
#define NL_MARK	 ((void *)1)

#define TAINT_UNREACHABLE   "node.kubernetes.io/unreachable"
#define TAINT_NOT_READY	    "node.kubernetes.io/not-ready"
#define TAINT_UNSCHEDULABLE "node.kubernetes.io/unschedulable"

static const char msg_stopped[] = "Kubelet stopped posting node status.";
static const char msg_never[] = "Kubelet never posted node status.";

/*
 * The lock guards stop, kick, gc_all and gone, which the informer thread
 * sets; everything else belongs to the monitor thread.  The lock is a leaf:
 * never held across an API call.
 */
struct nodelife {
	struct api *api;
	int grace_s, period_ms;
	int64_t (*now_ms)(void);

	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stop;	  /* lock */
	bool kick;	  /* lock: run a period now */
	bool gc_all;	  /* lock: delete pods bound to nodes that do not exist */
	struct hmap gone; /* lock: names of deleted Nodes whose pods are to go */

	struct hmap last_ready; /* monitor: node -> its Ready status last period ('T','F','U') */
	struct hmap first_seen; /* monitor: taint without timeAdded -> int64_t * first seen, ms */
	struct informer *inf;
	pthread_t thread;
	bool thread_on;
};

/* Per node, for one period */
struct nstate {
	struct sobj *o;
	char ready;	/* 'T', 'F' or 'U' after this period's update */
	bool noexec;	/* final taints include a NoExecute one */
	json_t *taints; /* the node's taints after this period (owned), or NULL */
};

static bool streq(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

/* Node health */

static char ready_char(const char *status)
{
	return streq(status, "True") ? 'T' : streq(status, "False") ? 'F' : 'U';
}

/* When the node was last heard of, in ms: the newer of the Ready
 * condition's lastHeartbeatTime (or the Node's creation when it never
 * posted status) and lease_ms, its Lease's renewTime (0: none).  *never
 * is set when it never posted status. */
static int64_t heartbeat_ms(const json_t *node, int64_t lease_ms, bool *never)
{
	json_t *ready = obj_condition(node, "Ready");
	time_t t = obj_time(json_string_value(json_object_get(ready, "lastHeartbeatTime")));
	*never = !ready;
	if (t < 0)
		t = obj_time(obj_str(node, "metadata.creationTimestamp"));
	int64_t ms = t < 0 ? 0 : (int64_t)t * 1000;
	return lease_ms > ms ? lease_ms : ms;
}

/*
 * The status of a node whose kubelet went silent: Ready and the pressure
 * conditions Unknown (added when missing), heartbeats kept.  Returns a new
 * value, or NULL when the node shows that already.
 */
static json_t *unknown_status(const json_t *node, bool never, const char *now)
{
	static const char *const types[] = {"MemoryPressure", "DiskPressure", "PIDPressure",
					    "Ready"};
	const json_t *old = obj_at(node, "status");
	json_t *s = json_is_object(old) ? json_deep_copy(old) : json_object();
	json_t *conds = json_object_get(s, "conditions");
	if (!json_is_array(conds)) {
		conds = json_array();
		json_object_set_new(s, "conditions", conds);
	}
	bool changed = false;
	for (size_t j = 0; j < sizeof(types) / sizeof(types[0]); j++) {
		json_t *c = NULL, *x;
		size_t i;
		json_array_foreach(conds, i, x)
		{
			if (streq(json_string_value(json_object_get(x, "type")), types[j]))
				c = x;
		}
		if (c && streq(json_string_value(json_object_get(c, "status")), "Unknown"))
			continue;
		if (!c) {
			c = json_pack("{s:s}", "type", types[j]);
			json_array_append_new(conds, c);
		}
		json_object_set_new(c, "status", json_string("Unknown"));
		json_object_set_new(
		    c, "reason",
		    json_string(never ? "NodeStatusNeverUpdated" : "NodeStatusUnknown"));
		json_object_set_new(c, "message", json_string(never ? msg_never : msg_stopped));
		json_object_set_new(c, "lastTransitionTime", json_string(now));
		if (!json_object_get(c, "lastHeartbeatTime"))
			json_object_set_new(c, "lastHeartbeatTime", json_string(now));
		changed = true;
	}
	if (!changed) {
		json_decref(s);
		return NULL;
	}
	return s;
}

/* Taints */

struct taint_want {
	bool unreachable, not_ready, unschedulable;
	const char *now;
};

static const struct {
	const char *key, *effect;
} managed[] = {
    {TAINT_UNREACHABLE, "NoExecute"},	 {TAINT_UNREACHABLE, "NoSchedule"},
    {TAINT_NOT_READY, "NoExecute"},	 {TAINT_NOT_READY, "NoSchedule"},
    {TAINT_UNSCHEDULABLE, "NoSchedule"},
};
#define NMANAGED (sizeof(managed) / sizeof(managed[0]))

static bool wanted(const struct taint_want *w, size_t m)
{
	const char *k = managed[m].key;
	return (w->unreachable && !strcmp(k, TAINT_UNREACHABLE)) ||
	       (w->not_ready && !strcmp(k, TAINT_NOT_READY)) ||
	       (w->unschedulable && !strcmp(k, TAINT_UNSCHEDULABLE));
}

/* Which managed taint t is, or -1. */
static int managed_index(const json_t *t)
{
	const char *k = json_string_value(json_object_get(t, "key"));
	const char *eff = json_string_value(json_object_get(t, "effect"));
	for (size_t m = 0; m < NMANAGED; m++)
		if (streq(k, managed[m].key) && streq(eff, managed[m].effect))
			return (int)m;
	return -1;
}

/*
 * An api_mutate_fn: makes node's spec.taints hold the managed taints arg
 * wants (new ones with timeAdded now; present ones as they are) and none
 * it does not want.  Other taints are kept in place.  Can't fail.
 */
static int apply_taints(json_t *node, void *arg, struct err **e)
{
	const struct taint_want *w = arg;
	json_t *spec = json_object_get(node, "spec");
	json_t *old = json_object_get(spec, "taints");
	json_t *nv = json_array();
	bool have[NMANAGED] = {false};
	size_t i;
	json_t *t;
	json_array_foreach(old, i, t)
	{
		int m = managed_index(t);
		if (m >= 0 && (!wanted(w, (size_t)m) || have[m]))
			continue;
		if (m >= 0)
			have[m] = true;
		json_array_append(nv, t);
	}
	for (size_t m = 0; m < NMANAGED; m++)
		if (wanted(w, m) && !have[m])
			json_array_append_new(
			    nv, json_pack("{s:s, s:s, s:s}", "key", managed[m].key, "effect",
					  managed[m].effect, "timeAdded", w->now));
	if (!json_array_size(nv) && !json_is_array(old)) {
		json_decref(nv);
		return 0;
	}
	if (!json_is_object(spec)) {
		spec = json_object();
		json_object_set_new(node, "spec", spec);
	}
	json_object_set_new(spec, "taints", nv);
	return 0;
}

/* Taint-based eviction */

/* Kubernetes' ToleratesTaint. */
static bool tolerates(const json_t *tol, const json_t *taint)
{
	const char *te = json_string_value(json_object_get(tol, "effect"));
	const char *tk = json_string_value(json_object_get(tol, "key"));
	const char *op = json_string_value(json_object_get(tol, "operator"));
	if (te && *te && !streq(te, json_string_value(json_object_get(taint, "effect"))))
		return false;
	if (tk && *tk && !streq(tk, json_string_value(json_object_get(taint, "key"))))
		return false;
	if (streq(op, "Exists"))
		return true;
	if (op && *op && strcmp(op, "Equal"))
		return false;
	const char *tv = json_string_value(json_object_get(tol, "value"));
	const char *xv = json_string_value(json_object_get(taint, "value"));
	return !strcmp(tv ? tv : "", xv ? xv : "");
}

/* When taint t of node was added, in ms: its timeAdded, or when this
 * controller first saw it. */
static int64_t taint_added_ms(struct nodelife *nl, struct hmap *seen, const char *node,
			      const json_t *t, int64_t now)
{
	time_t ta = obj_time(json_string_value(json_object_get(t, "timeAdded")));
	if (ta >= 0)
		return (int64_t)ta * 1000;
	char *key =
	    xasprintf("%s\x1f%s\x1f%s", node, json_string_value(json_object_get(t, "key")) ?: "",
		      json_string_value(json_object_get(t, "effect")) ?: "");
	int64_t *v = hmap_get(seen, key);
	if (!v) {
		v = xmalloc(sizeof(*v));
		int64_t *prev = hmap_del(&nl->first_seen, key);
		*v = prev ? *prev : now;
		free(prev);
		hmap_set(seen, key, v);
	}
	free(key);
	return *v;
}

/*
 * When the pod must leave a node with these taints, in ms: INT64_MIN when
 * a NoExecute taint is not tolerated, INT64_MAX when every one is tolerated
 * forever, else the earliest timeAdded + smallest matching tolerationSeconds.
 */
static int64_t eviction_due(struct nodelife *nl, struct hmap *seen, const char *node,
			    const json_t *taints, const json_t *pod, int64_t now)
{
	const json_t *tols = obj_at(pod, "spec.tolerations");
	int64_t due = INT64_MAX;
	size_t i, j;
	json_t *t, *tol;
	json_array_foreach(taints, i, t)
	{
		if (!streq(json_string_value(json_object_get(t, "effect")), "NoExecute"))
			continue;
		bool matched = false;
		int64_t secs = INT64_MAX;
		json_array_foreach(tols, j, tol)
		{
			if (!tolerates(tol, t))
				continue;
			matched = true;
			json_t *s = json_object_get(tol, "tolerationSeconds");
			if (json_is_integer(s)) {
				int64_t v = json_integer_value(s);
				v = v < 0 ? 0 : v;
				secs = v < secs ? v : secs;
			}
		}
		if (!matched)
			return INT64_MIN;
		if (secs == INT64_MAX)
			continue;
		int64_t at = taint_added_ms(nl, seen, node, t, now) + secs * 1000;
		due = at < due ? at : due;
	}
	return due;
}

/* Batched writes */

struct refs {
	struct api_ref *v;
	size_t n, cap;
};

static void refs_add(struct refs *r, const struct kind_info *k, const struct sobj *o)
{
	if (r->n == r->cap) {
		r->cap = r->cap ? 2 * r->cap : 64;
		r->v = xrealloc(r->v, r->cap * sizeof(*r->v));
	}
	r->v[r->n++] = (struct api_ref){k, o->ns, o->name, obj_str(o->obj, "metadata.uid")};
}

/* Deletes r's objects in batches; results (r->n of them) get each one's. */
static void delete_refs(struct api *a, const struct refs *r, int grace, int *results,
			const char *what)
{
	for (size_t at = 0; at < r->n; at += NL_BATCH) {
		size_t n = r->n - at < NL_BATCH ? r->n - at : NL_BATCH;
		int rc = api_delete_many(a, r->v + at, n, grace, results + at);
		if (rc < 0) {
			log_warn("nodelife", "%s: deleting %zu pods: %s", what, n, strerror(-rc));
			for (size_t i = 0; i < n; i++)
				results[at + i] = rc;
		}
	}
}

struct statuses {
	struct api_status *v;
	size_t n, cap;
};

static void statuses_add(struct statuses *s, const struct kind_info *k, const struct sobj *o,
			 json_t *status)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 64;
		s->v = xrealloc(s->v, s->cap * sizeof(*s->v));
	}
	s->v[s->n++] =
	    (struct api_status){k, o->ns, o->name, obj_str(o->obj, "metadata.uid"), status, false};
}

/* Writes the statuses in batches and frees them. */
static void statuses_flush(struct api *a, struct statuses *s, const char *what)
{
	for (size_t at = 0; at < s->n; at += NL_BATCH) {
		size_t n = s->n - at < NL_BATCH ? s->n - at : NL_BATCH;
		int rc = api_status_many(a, s->v + at, n, NULL);
		if (rc < 0)
			log_warn("nodelife", "%s of %zu objects: %s", what, n, strerror(-rc));
	}
	for (size_t i = 0; i < s->n; i++)
		json_decref((json_t *)s->v[i].status);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

/* A copy of pod's status with the Ready condition False, or NULL if it is not True. */
static json_t *not_ready_status(const json_t *pod, const char *now)
{
	if (!obj_condition_true(pod, "Ready"))
		return NULL;
	json_t *s = json_deep_copy(obj_at(pod, "status"));
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(s, "conditions"), i, c)
	{
		if (streq(json_string_value(json_object_get(c, "type")), "Ready")) {
			json_object_set_new(c, "status", json_string("False"));
			json_object_set_new(c, "lastTransitionTime", json_string(now));
		}
	}
	return s;
}

/* The monitor */

/* A period's view of the nodes: name -> struct nstate *, and the renewTime
 * of each node's Lease: name -> int64_t * in ms (one list per period). */
struct view {
	struct sobj **nodes;
	int n;
	struct nstate *st;
	struct hmap by_name;
	struct hmap lease_ms;
	int64_t *renewed; /* the values lease_ms points into */
};

/* Fills v->lease_ms from one list of the Leases in kube-node-lease. */
static void list_leases(struct nodelife *nl, struct view *v)
{
	struct sobj **l;
	int n = api_list(nl->api, KIND_LEASE, NODE_LEASE_NS, NULL, &l, NULL);
	if (n <= 0)
		return;
	v->renewed = xcalloc((size_t)n, sizeof(*v->renewed));
	for (int i = 0; i < n; i++) {
		time_t t = obj_time(obj_str(l[i]->obj, "spec.renewTime"));
		if (t < 0)
			continue;
		v->renewed[i] = (int64_t)t * 1000;
		hmap_set(&v->lease_ms, l[i]->name, &v->renewed[i]);
	}
	sobj_list_free(l, (size_t)n);
}

/* The renewTime of node's Lease in ms, or 0. */
static int64_t lease_of(struct view *v, const char *node)
{
	int64_t *ms = hmap_get(&v->lease_ms, node);
	return ms ? *ms : 0;
}

/*
 * Decides node i's health and taints, queuing its Unknown status on
 * statuses.  Returns true when its taints are to be patched (*w says how).
 */
static bool judge_node(struct nodelife *nl, struct view *v, int i, int64_t now, const char *ts,
		       struct statuses *statuses, struct taint_want *w)
{
	struct nstate *ns = &v->st[i];
	const json_t *node = ns->o->obj;
	const char *name = ns->o->name;
	char before =
	    ready_char(json_string_value(json_object_get(obj_condition(node, "Ready"), "status")));
	bool never;
	int64_t hb = heartbeat_ms(node, lease_of(v, name), &never);
	ns->ready = before;
	if (now - hb > (int64_t)nl->grace_s * 1000) {
		json_t *s = unknown_status(node, never, ts);
		if (s) {
			statuses_add(statuses, KIND_NODE, ns->o, s);
			ns->ready = 'U';
			log_info("nodelife", "%s: no heartbeat for %" PRId64 "s: Unknown", name,
				 (now - hb) / 1000);
		}
	}
	void *last = hmap_get(&nl->last_ready, name);
	char prev = last ? (char)(uintptr_t)last : before;
	if ((prev == 'T' && ns->ready != 'T') || (ns->ready == 'U' && before != 'U'))
		api_event(nl->api, "Normal", "NodeNotReady", "Node", "", name,
			  "Node %s status is now: NodeNotReady", name);
	if (prev != 'T' && ns->ready == 'T' && last)
		log_info("nodelife", "%s: Ready again", name);

	*w = (struct taint_want){.unreachable = ns->ready == 'U',
				 .not_ready = ns->ready == 'F',
				 .unschedulable = json_is_true(obj_at(node, "spec.unschedulable")),
				 .now = ts};
	json_t *copy = json_object(); /* the spec is all apply_taints needs */
	if (json_is_object(json_object_get(node, "spec")))
		json_object_set_new(copy, "spec", json_deep_copy(json_object_get(node, "spec")));
	apply_taints(copy, w, NULL);
	ns->taints = json_incref(obj_at(copy, "spec.taints"));
	json_decref(copy);
	json_t *old = obj_at(node, "spec.taints");
	size_t i2;
	json_t *t;
	json_array_foreach(ns->taints, i2, t)
	{
		ns->noexec |= streq(json_string_value(json_object_get(t, "effect")), "NoExecute");
	}
	if (!old && !ns->taints)
		return false;
	return !old || !ns->taints || !json_equal(old, ns->taints);
}

/*
 * The pods pass: evicts pods that do not tolerate their node's NoExecute
 * taints (long enough), marks pods on not-ready nodes not Ready, and
 * deletes pods of deleted nodes (all orphans when gc_all).
 */
static void pods_pass(struct nodelife *nl, struct view *v, struct hmap *gone, bool gc_all,
		      int64_t now, const char *ts)
{
	struct sobj **pods;
	int n = api_list(nl->api, KIND_POD, NULL, NULL, &pods, NULL);
	if (n < 0)
		return;
	struct refs evict = {0}, orphans = {0};
	struct statuses unready = {0};
	struct hmap seen = {0};
	for (int i = 0; i < n; i++) {
		const json_t *pod = pods[i]->obj;
		const char *node = obj_str(pod, "spec.nodeName");
		if (!node || !*node)
			continue;
		struct nstate *ns = hmap_get(&v->by_name, node);
		if (!ns) {
			if (gc_all || hmap_get(gone, node))
				refs_add(&orphans, KIND_POD, pods[i]);
			continue;
		}
		if (pod_is_terminating(pod))
			continue;
		if (ns->noexec && eviction_due(nl, &seen, node, ns->taints, pod, now) <= now) {
			refs_add(&evict, KIND_POD, pods[i]);
			continue;
		}
		json_t *s = ns->ready != 'T' ? not_ready_status(pod, ts) : NULL;
		if (s)
			statuses_add(&unready, KIND_POD, pods[i], s);
	}
	hmap_clear(&nl->first_seen, free);
	nl->first_seen = seen;

	int *res = xcalloc(evict.n + orphans.n + 1, sizeof(int));
	delete_refs(nl->api, &evict, -1, res, "taint eviction");
	for (size_t i = 0; i < evict.n; i++) {
		if (res[i] < 0)
			continue;
		const struct api_ref *r = &evict.v[i];
		log_info("nodelife", "evicting pod %s/%s", r->ns, r->name);
		api_event(nl->api, "Normal", "TaintManagerEviction", "Pod", r->ns, r->name,
			  "Marking for deletion Pod %s/%s", r->ns, r->name);
	}
	delete_refs(nl->api, &orphans, 0, res, "pod gc");
	for (size_t i = 0; i < orphans.n; i++)
		if (res[i] >= 0)
			log_info("nodelife", "deleted pod %s/%s of lost node", orphans.v[i].ns,
				 orphans.v[i].name);
	statuses_flush(nl->api, &unready, "marking pods not ready");
	free(res);
	free(evict.v);
	free(orphans.v);
	sobj_list_free(pods, (size_t)n);
}

/* Deletes the Leases of deleted Nodes (a node agent's Lease is owned by
 * its Node, and the garbage collector would get there too, later). */
static void delete_leases(struct nodelife *nl, struct hmap *gone)
{
	struct hmap_iter it = {0};
	struct hmap_ent *ent;
	while ((ent = hmap_next(gone, &it))) {
		struct err *e = NULL;
		if (api_delete(nl->api, KIND_LEASE, NODE_LEASE_NS, ent->key, &e) < 0 &&
		    (!e || e->code != ENOENT))
			log_warn("nodelife", "%s: deleting its lease: %s", ent->key,
				 e ? e->msg : "?");
		err_free(e);
	}
}

static void format_ms(int64_t ms, char out[32])
{
	obj_format_time((time_t)(ms / 1000), out);
}

/* One period of the monitor. */
static void period(struct nodelife *nl)
{
	int64_t now = nl->now_ms();
	char ts[32];
	format_ms(now, ts);

	pthread_mutex_lock(&nl->lock);
	struct hmap gone = nl->gone;
	memset(&nl->gone, 0, sizeof(nl->gone));
	bool gc_all = nl->gc_all;
	nl->gc_all = false;
	pthread_mutex_unlock(&nl->lock);

	struct view v = {0};
	v.n = api_list(nl->api, KIND_NODE, NULL, NULL, &v.nodes, NULL);
	if (v.n < 0)
		v.n = 0;
	list_leases(nl, &v);
	v.st = xcalloc((size_t)v.n + 1, sizeof(*v.st));
	struct statuses statuses = {0};
	struct taint_want *want = xcalloc((size_t)v.n + 1, sizeof(*want));
	bool *patch = xcalloc((size_t)v.n + 1, sizeof(bool));
	bool need_pods = gc_all || hmap_len(&gone);
	for (int i = 0; i < v.n; i++) {
		v.st[i].o = v.nodes[i];
		hmap_set(&v.by_name, v.nodes[i]->name, &v.st[i]);
		patch[i] = judge_node(nl, &v, i, now, ts, &statuses, &want[i]);
		need_pods |= v.st[i].noexec || v.st[i].ready != 'T';
	}
	statuses_flush(nl->api, &statuses, "node status");
	for (int i = 0; i < v.n; i++) {
		if (!patch[i])
			continue;
		struct err *e = NULL;
		const char *name = v.nodes[i]->name;
		if (api_patch(nl->api, KIND_NODE, NULL, name, apply_taints, &want[i], &e) < 0 &&
		    (!e || e->code != ENOENT))
			log_warn("nodelife", "%s: setting taints: %s", name, e ? e->msg : "?");
		err_free(e);
	}

	struct hmap last = {0};
	for (int i = 0; i < v.n; i++)
		hmap_set(&last, v.nodes[i]->name, (void *)(uintptr_t)v.st[i].ready);
	hmap_clear(&nl->last_ready, NULL);
	nl->last_ready = last;

	if (need_pods)
		pods_pass(nl, &v, &gone, gc_all, now, ts);
	else
		hmap_clear(&nl->first_seen, free);

	for (int i = 0; i < v.n; i++)
		json_decref(v.st[i].taints);
	hmap_clear(&v.by_name, NULL);
	hmap_clear(&v.lease_ms, NULL);
	free(v.renewed);
	delete_leases(nl, &gone);
	hmap_clear(&gone, NULL);
	if (v.nodes)
		sobj_list_free(v.nodes, (size_t)v.n);
	free(v.st);
	free(want);
	free(patch);
}

static void *monitor_main(void *arg)
{
	struct nodelife *nl = arg;
	api_fence_thread(true); /* the leader's writes (leading.h) */
	pthread_mutex_lock(&nl->lock);
	while (!nl->stop) {
		nl->kick = false;
		pthread_mutex_unlock(&nl->lock);
		period(nl);
		pthread_mutex_lock(&nl->lock);
		struct timespec due = mono_deadline(nl->period_ms);
		while (!nl->stop && !nl->kick)
			if (pthread_cond_timedwait(&nl->wake, &nl->lock, &due) == ETIMEDOUT)
				break;
	}
	pthread_mutex_unlock(&nl->lock);
	return NULL;
}

/* Informer callbacks: note, wake, return. */

static void on_event(void *arg, const struct store_event *ev)
{
	struct nodelife *nl = arg;
	if (ev->type != STORE_DELETED || strcmp(ev->obj->kind, "Node"))
		return;
	pthread_mutex_lock(&nl->lock);
	hmap_set(&nl->gone, ev->obj->name, NL_MARK);
	nl->kick = true;
	pthread_cond_signal(&nl->wake);
	pthread_mutex_unlock(&nl->lock);
}

static void on_resync(void *arg)
{
	struct nodelife *nl = arg;
	pthread_mutex_lock(&nl->lock);
	nl->gc_all = true;
	nl->kick = true;
	pthread_cond_signal(&nl->wake);
	pthread_mutex_unlock(&nl->lock);
}

/* Lifecycle */

int nodelife_start(struct api *a, const struct nodelife_opts *o, struct nodelife **out,
		   struct err **e)
{
	struct nodelife *nl = xcalloc(1, sizeof(*nl));
	nl->api = a;
	nl->grace_s = o && o->grace_s > 0 ? o->grace_s : 40;
	nl->period_ms = o && o->period_ms > 0 ? o->period_ms : 1000;
	nl->now_ms = o && o->now_ms ? o->now_ms : wall_ms;
	nl->gc_all = true;
	pthread_mutex_init(&nl->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&nl->wake, &ca);
	pthread_condattr_destroy(&ca);

	static const struct informer_ops ops = {
	    .resync = on_resync, .event = on_event, .idle_ms = 250 /* how soon a stop is seen */};
	int r = informer_start(a, "nodelife", &ops, nl, &nl->inf, e);
	if (r == 0) {
		r = pthread_create(&nl->thread, NULL, monitor_main, nl);
		nl->thread_on = r == 0;
		if (r)
			r = err_make(e, r, "node lifecycle: starting a thread: %s", strerror(r));
	}
	if (r < 0) {
		nodelife_stop(nl);
		return r;
	}
	log_info("nodelife", "monitoring nodes every %dms (grace %ds)", nl->period_ms, nl->grace_s);
	*out = nl;
	return 0;
}

void nodelife_stop(struct nodelife *nl)
{
	if (!nl)
		return;
	informer_stop(nl->inf);
	pthread_mutex_lock(&nl->lock);
	nl->stop = true;
	pthread_cond_signal(&nl->wake);
	pthread_mutex_unlock(&nl->lock);
	if (nl->thread_on)
		pthread_join(nl->thread, NULL);
	hmap_clear(&nl->gone, NULL);
	hmap_clear(&nl->last_ready, NULL);
	hmap_clear(&nl->first_seen, free);
	pthread_mutex_destroy(&nl->lock);
	pthread_cond_destroy(&nl->wake);
	free(nl);
}
