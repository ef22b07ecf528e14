/*
 * sched.c - the scheduler service: an informer keeps the cache and the
 * queue of pending pods; a scheduling thread binds them in batches.
 *
 * It exists so that pods created by the thousand start in seconds: the
 * algorithm (sched_plugins.c) decides for one pod in microseconds, and
 * what costs is the store, so a batch of up to SCHED_BATCH_PODS pods is
 * decided under the lock, then bound in one transaction without it.
 *
 * Each pod the informer has seen has a record, keyed "ns/name":
 *
 *   IDLE      not bound and not ours to schedule (other scheduler, deleting)
 *   INCOMING  in s->incoming: arrived in the informer's current batch of
 *             events; moved to s->active when the batch ends, so that the
 *             scheduling thread takes whole batches, not pods one by one
 *   ACTIVE    in s->active, waiting its turn (FIFO by arrival)
 *   UNSCHED   in s->unsched, fitted nowhere at attempt_ns, ordered by it
 *   INFLIGHT  taken by the scheduling thread, in a batch picked or being
 *             bound by the binding thread; if assumed, node >= 0
 *   BOUND     spec.nodeName seen, or our binding succeeded
 *
 * A record's requests are on node `node` (or on none, -1).  Only
 * set_node() moves them (and a re-parse swaps old requests for new on the
 * same node), so every path - assume, binding confirmed by the watch,
 * binding refused, pod finished, pod deleted, resync - counts a pod
 * exactly once.  The scheduling thread does
 * not keep record pointers across a binding (the informer may free them):
 * it looks the key up again and checks the record's id.
 */
#include "engine/clock.h"
#include "engine/sched/sched.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/hmap.h"
#include "engine/client/informer.h"
#include "engine/log.h"
#include "engine/mem.h"

#define NSEC	       1000000000LL
#define RETRY_SOON_NS  (1 * NSEC)  /* after a change, unschedulable pods older than this retry */
#define RETRY_EVERY_NS (10 * NSEC) /* and every pod retries at least this often */
#define HOLD_NS	       (1 * NSEC)  /* pause after a failed bind transaction */
#define IDLE_MS	       200	   /* the informer's idle callback period */

enum rec_state { REC_IDLE, REC_INCOMING, REC_ACTIVE, REC_UNSCHED, REC_INFLIGHT, REC_BOUND };

struct rec {
	struct rec *prev, *next; /* in s->incoming, s->active or s->unsched */
	struct sched_pod *pod;	 /* parsed at its last user change */
	uint64_t id;		 /* unique for the scheduler's life */
	enum rec_state state;
	int node;	    /* cache index its requests are on, or -1 */
	bool deleting;	    /* metadata.deletionTimestamp, as last seen */
	int64_t user_rv;    /* sobj.user_rv the pod was parsed at */
	int64_t attempt_ns; /* last attempt that found no node */
	char *last_msg;	    /* last Unschedulable message written, or NULL */
};

struct rec_list {
	struct rec *head, *tail;
	size_t n;
};

struct sched {
	struct api *api;
	struct informer *inf;
	pthread_t thread;

	pthread_mutex_t lock;	  /* guards everything below */
	pthread_cond_t cond;	  /* work for the scheduling thread, or stop */
	pthread_cond_t bind_cond; /* a batch handed over to the binding thread, or stop */
	pthread_t binder;
	struct batch *handoff; /* picked, waiting for the binding thread */
	bool binding;	       /* the binding thread is binding a batch */
	struct sched_cache *cache;
	struct hmap recs; /* "ns/name" -> struct rec */
	struct rec_list incoming, active, unsched;
	uint64_t next_id;
	int64_t change_ns; /* last change that may let unschedulable pods fit */
	int64_t hold_until;
	bool stop;
	struct sched_stats stats;
};

static const char *jstr(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* --- records and queues (under s->lock) ---------------------------------- */

static void list_append(struct rec_list *l, struct rec *r)
{
	r->next = NULL;
	r->prev = l->tail;
	if (l->tail)
		l->tail->next = r;
	else
		l->head = r;
	l->tail = r;
	l->n++;
}

static void list_prepend(struct rec_list *l, struct rec *r)
{
	r->prev = NULL;
	r->next = l->head;
	if (l->head)
		l->head->prev = r;
	else
		l->tail = r;
	l->head = r;
	l->n++;
}

static void list_remove(struct rec_list *l, struct rec *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		l->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		l->tail = r->prev;
	r->prev = r->next = NULL;
	l->n--;
}

/* Takes r out of whichever queue it is in; it becomes IDLE. */
static void unqueue(struct sched *s, struct rec *r)
{
	if (r->state == REC_INCOMING)
		list_remove(&s->incoming, r);
	else if (r->state == REC_ACTIVE)
		list_remove(&s->active, r);
	else if (r->state == REC_UNSCHED)
		list_remove(&s->unsched, r);
	else
		return;
	r->state = REC_IDLE;
}

static void enqueue(struct sched *s, struct rec *r)
{
	list_append(&s->incoming, r);
	r->state = REC_INCOMING;
}

/* Appends the incoming pods to the active queue, in order. */
static void admit_incoming(struct sched *s)
{
	struct rec_list *in = &s->incoming, *a = &s->active;

	if (!in->n)
		return;
	for (struct rec *r = in->head; r; r = r->next)
		r->state = REC_ACTIVE;
	if (a->tail) {
		a->tail->next = in->head;
		in->head->prev = a->tail;
	} else {
		a->head = in->head;
	}
	a->tail = in->tail;
	a->n += in->n;
	*in = (struct rec_list){0};
}

static void park_unschedulable(struct sched *s, struct rec *r, int64_t now)
{
	r->attempt_ns = now;
	list_append(&s->unsched, r);
	r->state = REC_UNSCHED;
}

/* Moves r's requests to node idx (-1: none).  Freed capacity is a
 * change that may let unschedulable pods fit. */
static void set_node(struct sched *s, struct rec *r, int idx)
{
	if (r->node == idx)
		return;
	if (r->node >= 0) {
		sched_cache_remove_pod(s->cache, r->pod, r->node);
		s->change_ns = mono_ns();
	}
	if (idx >= 0)
		sched_cache_add_pod(s->cache, r->pod, idx);
	r->node = idx;
}

static void rec_free(void *v)
{
	struct rec *r = v;
	sched_pod_free(r->pod);
	free(r->last_msg);
	free(r);
}

static void rec_drop(struct sched *s, struct rec *r)
{
	unqueue(s, r);
	set_node(s, r, -1);
	hmap_del(&s->recs, r->pod->key);
	rec_free(r);
}

/* May this pod be scheduled by us now? */
static bool wanted(const struct rec *r)
{
	return r->pod->ours && !r->deleting && !r->pod->finished;
}

/* --- informer callbacks -------------------------------------------------- */

/* A Pod was added or changed: refresh its record and where it counts. */
static void pod_changed(struct sched *s, const struct sobj *o)
{
	const json_t *md = json_object_get(o->obj, "metadata");
	const char *uid = jstr(md, "uid");
	char key[512];

	snprintf(key, sizeof(key), "%s/%s", o->ns, o->name);
	struct rec *r = hmap_get(&s->recs, key);
	if (r && (!uid || strcmp(uid, r->pod->uid))) {
		rec_drop(s, r); /* deleted and created again under the same name */
		r = NULL;
	}

	/* Parse at user changes only: binding and status writes are not. */
	struct sched_pod *p = NULL;
	if (!r || r->user_rv != o->user_rv) {
		struct err *err = NULL;
		if (sched_pod_parse(o->obj, &p, &err) < 0) {
			log_warn("sched", "%s: %s", key, err ? err->msg : "unreadable");
			err_free(err);
			if (!r)
				return;
		}
	}
	if (p && strcmp(p->key, key)) { /* records are keyed as the store names them */
		free(p->key);
		free(p->ns);
		p->key = xstrdup(key);
		p->ns = xstrdup(o->ns);
	}
	if (!r) {
		r = xcalloc(1, sizeof(*r));
		r->pod = p;
		r->id = ++s->next_id;
		r->node = -1;
		r->state = REC_IDLE;
		r->user_rv = o->user_rv;
		if (p->unsched_msg)
			r->last_msg = xstrdup(p->unsched_msg);
		hmap_set(&s->recs, p->key, r);
	} else if (p) { /* same node, new requests: not freed capacity */
		if (r->node >= 0) {
			sched_cache_remove_pod(s->cache, r->pod, r->node);
			sched_cache_add_pod(s->cache, p, r->node);
		}
		sched_pod_free(r->pod);
		r->pod = p;
		r->user_rv = o->user_rv;
		if (r->state == REC_UNSCHED)
			unqueue(s, r); /* its constraints changed: try again now */
	}

	/* Fields that change without a user change. */
	const json_t *status = json_object_get(o->obj, "status");
	const char *phase = jstr(status, "phase");
	const char *node = jstr(json_object_get(o->obj, "spec"), "nodeName");
	r->pod->finished = phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"));
	r->deleting = json_object_get(md, "deletionTimestamp") != NULL;

	if (node && *node) {
		unqueue(s, r);
		set_node(s, r, r->pod->finished ? -1 : sched_cache_index(s->cache, node));
		r->state = REC_BOUND;
		return;
	}
	switch (r->state) {
	case REC_IDLE:
		if (wanted(r))
			enqueue(s, r);
		break;
	case REC_INCOMING:
	case REC_ACTIVE:
	case REC_UNSCHED:
		if (!wanted(r))
			unqueue(s, r);
		break;
	case REC_INFLIGHT: /* the scheduling thread settles it */
	case REC_BOUND:	   /* spec.nodeName does not go away */
		break;
	}
}

static void pod_deleted(struct sched *s, const struct sobj *o)
{
	const char *uid = jstr(json_object_get(o->obj, "metadata"), "uid");
	char key[512];

	snprintf(key, sizeof(key), "%s/%s", o->ns, o->name);
	struct rec *r = hmap_get(&s->recs, key);
	if (r && uid && !strcmp(uid, r->pod->uid))
		rec_drop(s, r);
}

static void node_changed(struct sched *s, const struct sobj *o, bool deleted)
{
	struct sched_node *n;
	struct err *err = NULL;

	if (deleted) {
		sched_cache_del_node(s->cache, o->name);
		return;
	}
	if (sched_node_parse(o->obj, &n, &err) < 0) {
		log_warn("sched", "%s", err ? err->msg : "unreadable node");
		err_free(err);
		return;
	}
	if (sched_cache_put_node(s->cache, n))
		s->change_ns = mono_ns();
}

static void on_event(void *arg, const struct store_event *ev)
{
	struct sched *s = arg;
	const struct sobj *o = ev->obj;
	bool pod = !strcmp(o->kind, "Pod");

	if (!pod && strcmp(o->kind, "Node"))
		return;
	int64_t t0 = mono_ns();
	pthread_mutex_lock(&s->lock);
	if (!pod)
		node_changed(s, o, ev->type == STORE_DELETED);
	else if (ev->type == STORE_DELETED)
		pod_deleted(s, o);
	else
		pod_changed(s, o);
	s->stats.informer_ns += (uint64_t)(mono_ns() - t0);
	pthread_mutex_unlock(&s->lock);
}

/* After each batch of events: its pods join the queue, and the
 * scheduling thread wakes if there is work. */
static void on_idle(void *arg)
{
	struct sched *s = arg;

	pthread_mutex_lock(&s->lock);
	bool kick = s->incoming.n > 0;
	admit_incoming(s);
	if (kick || (s->unsched.n && s->unsched.head->attempt_ns < s->change_ns))
		pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

/* Start, and after the watch fell behind: rebuild everything from a list. */
static void on_resync(void *arg)
{
	struct sched *s = arg;
	struct sobj **nodes = NULL, **pods = NULL;
	int64_t t0 = mono_ns();
	int nn = api_list(s->api, KIND_NODE, NULL, NULL, &nodes, NULL);
	int np = api_list(s->api, KIND_POD, NULL, NULL, &pods, NULL);

	pthread_mutex_lock(&s->lock);
	s->incoming = (struct rec_list){0};
	s->active = (struct rec_list){0};
	s->unsched = (struct rec_list){0};
	hmap_clear(&s->recs, rec_free);
	sched_cache_free(s->cache);
	s->cache = sched_cache_new((uint64_t)t0 ^ ((uint64_t)getpid() << 32));
	for (int i = 0; i < nn; i++)
		node_changed(s, nodes[i], false);
	for (int i = 0; i < np; i++)
		pod_changed(s, pods[i]);
	admit_incoming(s);
	s->change_ns = mono_ns();
	s->stats.informer_ns += (uint64_t)(mono_ns() - t0);
	size_t pending = s->active.n;
	pthread_cond_signal(&s->cond);
	pthread_mutex_unlock(&s->lock);
	log_info("sched", "resync: %d nodes, %d pods, %zu pending", nn, np, pending);
	sobj_list_free(nodes, nn > 0 ? (size_t)nn : 0);
	sobj_list_free(pods, np > 0 ? (size_t)np : 0);
}

/* --- the scheduling thread ----------------------------------------------- */

/* A pod picked a node, for api_bind_many and after: copies, since the
 * record may be freed while the lock is dropped. */
struct bind_item {
	uint64_t id;
	char *ns, *name, *uid, *node, *key;
	bool ok;
};

/* A pod that fits nowhere with a new message. */
struct status_item {
	char *ns, *name, *uid, *msg;
};

/*
 * status with PodScheduled set to False/Unschedulable/msg, as a new
 * object, keeping every other field (and lastTransitionTime if it was
 * False already); NULL when it says exactly that already.
 */
static json_t *unschedulable_status(const json_t *obj, const char *msg, const char *ts)
{
	json_t *status = json_object_get(obj, "status");
	json_t *conds, *c, *found = NULL;
	size_t i;

	status = json_is_object(status) ? json_deep_copy(status) : json_object();
	conds = json_object_get(status, "conditions");
	if (!json_is_array(conds)) {
		conds = json_array();
		json_object_set_new(status, "conditions", conds);
	}
	json_array_foreach(conds, i, c)
	{
		const char *type = jstr(c, "type");
		if (type && !strcmp(type, "PodScheduled")) {
			found = c;
			break;
		}
	}
	if (!found) {
		found = json_object();
		json_object_set_new(found, "type", json_string("PodScheduled"));
		json_array_append_new(conds, found);
	}
	const char *st = jstr(found, "status"), *reason = jstr(found, "reason");
	const char *m = jstr(found, "message");
	bool was_false = st && !strcmp(st, "False");
	if (was_false && reason && !strcmp(reason, "Unschedulable") && m && !strcmp(m, msg)) {
		json_decref(status);
		return NULL;
	}
	json_object_set_new(found, "status", json_string("False"));
	json_object_set_new(found, "lastProbeTime", json_null());
	if (!was_false || !json_object_get(found, "lastTransitionTime"))
		json_object_set_new(found, "lastTransitionTime", json_string(ts));
	json_object_set_new(found, "reason", json_string("Unschedulable"));
	json_object_set_new(found, "message", json_string(msg));
	return status;
}

/* Writes PodScheduled=False for pods still pending, and their
 * FailedScheduling events.  Without s->lock. */
static void write_unschedulable(struct sched *s, struct status_item *it, size_t n)
{
	struct api_status *st = xcalloc(n + 1, sizeof(*st));
	json_t **docs = xcalloc(n + 1, sizeof(*docs));
	size_t m = 0;
	char ts[32];

	api_timestamp(ts);
	for (size_t i = 0; i < n; i++) {
		struct sobj *o = api_get(s->api, KIND_POD, it[i].ns, it[i].name);
		const char *uid = o ? jstr(json_object_get(o->obj, "metadata"), "uid") : NULL;
		const char *node = o ? jstr(json_object_get(o->obj, "spec"), "nodeName") : NULL;
		if (o && uid && !strcmp(uid, it[i].uid) && !(node && *node)) {
			json_t *status = unschedulable_status(o->obj, it[i].msg, ts);
			if (status) {
				docs[m] = status;
				st[m] = (struct api_status){KIND_POD,  it[i].ns, it[i].name,
							    it[i].uid, status,	 false};
				m++;
			}
			api_event(s->api, "Warning", "FailedScheduling", "Pod", it[i].ns,
				  it[i].name, "%s", it[i].msg);
		}
		sobj_unref(o);
	}
	if (m && api_status_many(s->api, st, m, NULL) < 0)
		log_warn("sched", "writing Unschedulable conditions of %zu pods failed", m);
	for (size_t i = 0; i < m; i++)
		json_decref(docs[i]);
	free(docs);
	free(st);
}

/* Settles the batch's bindings: results[i] for bi[i], or all failed when
 * txn < 0 (nothing was written).  Under s->lock. */
static void settle(struct sched *s, struct bind_item *bi, size_t n, const int *results, int txn)
{
	int64_t now = mono_ns();

	for (size_t j = n; j-- > 0;) { /* backwards: requeued pods keep their order */
		int rc = txn < 0 ? txn : results[j];
		bi[j].ok = rc == 0;
		if (rc == 0)
			s->stats.bound++;
		else if (txn >= 0)
			s->stats.bind_failures++;
		struct rec *r = hmap_get(&s->recs, bi[j].key);
		if (!r || r->id != bi[j].id)
			continue; /* deleted, or resynced, meanwhile */
		if (r->state != REC_INFLIGHT)
			continue; /* the watch already told where it is */
		if (rc == 0) {
			r->state = REC_BOUND;
			continue;
		}
		if (txn >= 0)
			log_debug("sched", "binding %s to %s: %s", bi[j].key, bi[j].node,
				  strerror(-rc));
		set_node(s, r, -1);
		r->state = REC_IDLE;
		if (txn < 0) {
			list_prepend(&s->active, r);
			r->state = REC_ACTIVE;
		} else if (wanted(r)) {
			park_unschedulable(s, r, now); /* the watch will say why */
		}
	}
	if (txn < 0)
		s->hold_until = now + HOLD_NS;
}

static void free_items(struct bind_item *bi, size_t nb, struct status_item *si, size_t ns)
{
	for (size_t i = 0; i < nb; i++) {
		free(bi[i].ns);
		free(bi[i].name);
		free(bi[i].uid);
		free(bi[i].node);
		free(bi[i].key);
	}
	for (size_t i = 0; i < ns; i++) {
		free(si[i].ns);
		free(si[i].name);
		free(si[i].uid);
		free(si[i].msg);
	}
	free(bi);
	free(si);
}

/* A batch picked by the scheduling thread, bound by the binding thread. */
struct batch {
	struct bind_item *bi;
	struct status_item *si;
	size_t nb, ns;
};

/*
 * Picks a node for up to SCHED_BATCH_PODS active pods, assuming each at
 * once (the next pod, and the next batch, see its requests).  Under
 * s->lock.
 */
static struct batch *pick_batch(struct sched *s)
{
	int64_t t0 = mono_ns();
	size_t cap = s->active.n < SCHED_BATCH_PODS ? s->active.n : SCHED_BATCH_PODS;
	struct batch *b = xcalloc(1, sizeof(*b));
	b->bi = xcalloc(cap, sizeof(*b->bi));
	b->si = xcalloc(cap, sizeof(*b->si));

	for (size_t k = 0; k < cap; k++) {
		struct rec *r = s->active.head;
		char *msg = NULL;
		list_remove(&s->active, r);
		int idx = sched_cache_pick(s->cache, r->pod, &msg);
		if (idx >= 0) {
			set_node(s, r, idx);
			r->state = REC_INFLIGHT;
			b->bi[b->nb++] = (struct bind_item){
			    r->id,
			    xstrdup(r->pod->ns),
			    xstrdup(r->pod->name),
			    xstrdup(r->pod->uid),
			    xstrdup(sched_cache_node(s->cache, idx)->name),
			    xstrdup(r->pod->key),
			    false,
			};
			continue;
		}
		s->stats.unschedulable++;
		park_unschedulable(s, r, t0);
		if (r->last_msg && !strcmp(r->last_msg, msg)) {
			free(msg);
			continue;
		}
		free(r->last_msg);
		r->last_msg = xstrdup(msg);
		b->si[b->ns++] = (struct status_item){xstrdup(r->pod->ns), xstrdup(r->pod->name),
						      xstrdup(r->pod->uid), msg};
	}
	int64_t t1 = mono_ns();
	s->stats.pick_ns += (uint64_t)(t1 - t0);
	s->stats.busy_ns += (uint64_t)(t1 - t0);
	return b;
}

/*
 * Binds a picked batch in one transaction, settles it (a refused binding
 * un-assumes its pod), records the events and writes the Unschedulable
 * conditions.  On the binding thread, without s->lock.
 */
static void bind_batch(struct sched *s, struct batch *b)
{
	int64_t t1 = mono_ns();
	int *results = xcalloc(b->nb + 1, sizeof(int)), txn = 0;
	if (b->nb) {
		struct api_binding *ab = xcalloc(b->nb, sizeof(*ab));
		for (size_t i = 0; i < b->nb; i++)
			ab[i] = (struct api_binding){b->bi[i].ns, b->bi[i].name, b->bi[i].uid,
						     b->bi[i].node};
		txn = api_bind_many(s->api, ab, b->nb, results);
		free(ab);
	}
	int64_t t2 = mono_ns();

	pthread_mutex_lock(&s->lock);
	s->stats.bind_ns += (uint64_t)(t2 - t1);
	if (b->nb)
		s->stats.batches++;
	settle(s, b->bi, b->nb, results, txn);
	pthread_mutex_unlock(&s->lock);
	free(results);

	for (size_t i = 0; i < b->nb; i++)
		if (b->bi[i].ok)
			api_event(s->api, "Normal", "Scheduled", "Pod", b->bi[i].ns, b->bi[i].name,
				  "Successfully assigned %s/%s to %s", b->bi[i].ns, b->bi[i].name,
				  b->bi[i].node);
	int64_t t3 = mono_ns();
	if (b->ns)
		write_unschedulable(s, b->si, b->ns);
	int64_t t4 = mono_ns();
	free_items(b->bi, b->nb, b->si, b->ns);
	free(b);

	pthread_mutex_lock(&s->lock);
	s->stats.status_ns += (uint64_t)(t4 - t3);
	s->stats.busy_ns += (uint64_t)(t4 - t1);
	pthread_mutex_unlock(&s->lock);
}

/*
 * The binding thread: takes each batch the scheduling thread hands over
 * (s->handoff) and binds it, so that the next batch is picked while this
 * one commits.  At stop, it binds what was handed over first.
 */
static void *binder_main(void *arg)
{
	struct sched *s = arg;

	api_fence_thread(true);
	pthread_mutex_lock(&s->lock);
	for (;;) {
		struct batch *b = s->handoff;
		if (!b) {
			if (s->stop)
				break;
			pthread_cond_wait(&s->bind_cond, &s->lock);
			continue;
		}
		s->handoff = NULL;
		s->binding = true;
		pthread_cond_broadcast(&s->cond); /* the slot is free */
		pthread_mutex_unlock(&s->lock);
		bind_batch(s, b);
		pthread_mutex_lock(&s->lock);
		s->binding = false;
		pthread_cond_broadcast(&s->cond);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/*
 * Moves unschedulable pods whose time has come to the active queue: those
 * that failed before the last change and at least RETRY_SOON_NS ago, and
 * any that failed RETRY_EVERY_NS ago.  s->unsched is ordered by attempt,
 * so they are a prefix.  Returns when the next one is due (0: none).
 */
static int64_t requeue_due(struct sched *s, int64_t now)
{
	struct rec *r;

	while ((r = s->unsched.head)) {
		bool changed = r->attempt_ns < s->change_ns;
		int64_t due = r->attempt_ns + (changed ? RETRY_SOON_NS : RETRY_EVERY_NS);
		if (due > now)
			return due;
		list_remove(&s->unsched, r);
		list_append(&s->active, r);
		r->state = REC_ACTIVE;
	}
	return 0;
}

static void wait_until(struct sched *s, int64_t deadline)
{
	struct timespec ts = {deadline / NSEC, deadline % NSEC};
	pthread_cond_timedwait(&s->cond, &s->lock, &ts);
}

/*
 * The scheduling thread: picks a batch as soon as the binding thread took
 * the previous one, so at most two batches are out (one committing, one
 * waiting), their pods assumed on their nodes.
 */
static void *sched_main(void *arg)
{
	struct sched *s = arg;

	pthread_mutex_lock(&s->lock);
	while (!s->stop) {
		int64_t now = mono_ns();
		if (now < s->hold_until) {
			wait_until(s, s->hold_until);
			continue;
		}
		int64_t due = requeue_due(s, now);
		if (s->handoff) {
			wait_until(s, now + RETRY_EVERY_NS);
			continue;
		}
		if (s->active.n) {
			s->handoff = pick_batch(s);
			pthread_cond_signal(&s->bind_cond);
			continue;
		}
		wait_until(s, due ? due : now + RETRY_EVERY_NS);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* --- lifetime ------------------------------------------------------------ */

static void sched_free(struct sched *s)
{
	hmap_clear(&s->recs, rec_free);
	sched_cache_free(s->cache);
	pthread_cond_destroy(&s->cond);
	pthread_cond_destroy(&s->bind_cond);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

/* Stops the scheduling thread, then the binding thread (nthreads: how
 * many of them run), and frees s. */
static void stop_threads(struct sched *s, int nthreads)
{
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_broadcast(&s->cond);
	pthread_cond_broadcast(&s->bind_cond);
	pthread_mutex_unlock(&s->lock);
	if (nthreads > 0)
		pthread_join(s->thread, NULL);
	if (nthreads > 1)
		pthread_join(s->binder, NULL);
	sched_free(s);
}

int sched_start(struct api *a, struct sched **out, struct err **e)
{
	struct sched *s = xcalloc(1, sizeof(*s));
	pthread_condattr_t ca;
	int r;

	s->api = a;
	s->cache = sched_cache_new((uint64_t)mono_ns());
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_cond_init(&s->bind_cond, &ca);
	pthread_condattr_destroy(&ca);
	if ((r = pthread_create(&s->thread, NULL, sched_main, s))) {
		stop_threads(s, 0);
		return err_make(e, r, "scheduler: starting its thread: %s", strerror(r));
	}
	if ((r = pthread_create(&s->binder, NULL, binder_main, s))) {
		stop_threads(s, 1);
		return err_make(e, r, "scheduler: starting its binding thread: %s", strerror(r));
	}
	const struct informer_ops ops = {
	    .resync = on_resync,
	    .event = on_event,
	    .idle = on_idle,
	    .idle_ms = IDLE_MS,
	};
	if ((r = informer_start(a, "scheduler", &ops, s, &s->inf, e)) < 0) {
		stop_threads(s, 2);
		return r;
	}
	*out = s;
	return 0;
}

void sched_stop(struct sched *s)
{
	if (!s)
		return;
	informer_stop(s->inf);
	stop_threads(s, 2);
}

void sched_stats(struct sched *s, struct sched_stats *out)
{
	pthread_mutex_lock(&s->lock);
	*out = s->stats;
	out->pending = s->incoming.n + s->active.n + s->unsched.n;
	pthread_mutex_unlock(&s->lock);
}
