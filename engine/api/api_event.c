/*
 * api_event.c - the event recorder: Events about objects, written in
 * batches by one thread so that recording an event never waits for a
 * commit, and a burst of thousands (a scale-up, a scheduling wave) costs a
 * few transactions, not thousands.
 *
 * A repeat of the same (object, type, reason, message) bumps the earlier
 * event's count and lastTimestamp, as Kubernetes' recorder does.  Events
 * older than an hour (a minute once their object is gone) are removed by
 * the garbage collector (controllers).
 *
 * Similar events are combined as Kubernetes' EventAggregator does: past
 * EV_AGG_MAX events of one (object, type, reason) with different messages
 * within EV_AGG_WINDOW_S, the next ones become one event, "(combined from
 * similar events): " and the newest message, whose count says how many.
 * A ReplicaSet creating 30,000 pods so records 10 SuccessfulCreate events
 * and one combined one, not 30,000.  Repeats of one event within a batch
 * are written once, with their count.
 *
 * Fencing: an event recorded by one of the leader's loops (a thread marked
 * with api_fence_thread) is written in a batch of such events only, by the
 * recorder marked the same way, so that on etcd it commits only while this
 * server leads, as the loop's own writes do.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/clock.h"
#include "engine/api/api.h"
#include "engine/api/api_int.h"
#include "engine/log.h"
#include "engine/mem.h"

#define EV_QUEUE_MAX	100000 /* dropped (and logged) beyond this */
#define EV_BATCH_MAX	2000
#define EV_SEEN_MAX	4096 /* dedupe memory, cleared when full (client-go's LRU holds 4096) */
#define EV_AGG_MAX	10   /* distinct messages of one kind of event before combining */
#define EV_AGG_WINDOW_S 600  /* ... within this many seconds */
#define EV_AGG_PREFIX	"(combined from similar events): "

/* One (object, type, reason) of the aggregator: the recorder's. */
struct ev_agg {
	int n;		 /* distinct messages recorded in the window */
	int64_t last_ns; /* the last one (wall clock) */
	char *combined;	 /* the name of its combined Event, once made */
};

static void agg_free(void *v)
{
	struct ev_agg *g = v;
	free(g->combined);
	free(g);
}

struct pending_event {
	struct pending_event *next;
	char *key;  /* dedupe key */
	json_t *ev; /* a complete new Event */
	char *ns;
	char *ts;
	int64_t times;		 /* occurrences it stands for (repeats in one batch) */
	char *agg_key;		 /* a combined event's aggregate key, or NULL */
	bool fenced;		 /* recorded by one of the leader's loops (api_fence_thread) */
	struct store_prep *prep; /* ev as a new Event, encoded before the transaction */
	char *prep_uid;		 /* the involved object's uid prep holds, or NULL */
};

static void pending_free(struct pending_event *p)
{
	store_prep_free(p->prep);
	free(p->prep_uid);
	free(p->key);
	free(p->ns);
	free(p->ts);
	free(p->agg_key);
	json_decref(p->ev);
	free(p);
}

struct batch_arg {
	struct api *a;
	struct pending_event *list;
};

/* Sets the uid of p's involved object, as it is now, in p's event (kept
 * from an earlier call), so that an object's events are told from those of
 * a predecessor of the same name.  Returns it, or NULL. */
static const char *involved_uid(struct store_txn *tx, struct pending_event *p)
{
	json_t *io = json_object_get(p->ev, "involvedObject");
	if (api_jstr(io, "uid"))
		return api_jstr(io, "uid");
	const struct kind_info *k = kind_by_kind(api_jstr(io, "kind") ? api_jstr(io, "kind") : "");
	const char *name = api_jstr(io, "name");
	struct sobj *o =
	    k && name ? store_txn_get(tx, k->kind, api_scope_ns(k, p->ns), name) : NULL;
	const char *uid = o ? api_jstr(json_object_get(o->obj, "metadata"), "uid") : NULL;
	if (uid)
		json_object_set_new(io, "uid", json_string(uid));
	sobj_unref(o);
	return api_jstr(io, "uid");
}

/* Writes one event: bump an earlier one, or create it.  Under ev_seen's owner (the recorder). */
static int write_one(struct store_txn *tx, struct api *a, struct pending_event *p, struct err **e)
{
	const char *uid = involved_uid(tx, p);
	const char *prior = hmap_get(&a->ev_seen, p->key);
	if (prior) {
		struct sobj *old = store_txn_get(tx, "Event", p->ns, prior);
		const char *ouid =
		    api_jstr(json_object_get(old ? old->obj : NULL, "involvedObject"), "uid");
		if (old && uid && ouid && strcmp(uid, ouid)) {
			sobj_unref(old); /* about a predecessor of the same name */
			old = NULL;
		}
		if (old) {
			json_t *obj = json_deep_copy(old->obj);
			int64_t count = json_integer_value(json_object_get(obj, "count"));
			json_object_set_new(obj, "count", json_integer(count + p->times));
			json_object_set_new(obj, "lastTimestamp", json_string(p->ts));
			json_object_set(obj, "message", json_object_get(p->ev, "message"));
			int64_t rv = store_txn_put(tx, "Event", old->ns, old->name, obj, false, e);
			sobj_unref(old);
			return rv < 0 ? (int)rv : 0;
		}
	}
	struct sobj *nsobj = store_txn_get(tx, "Namespace", "", p->ns);
	if (!nsobj)
		return 0; /* the namespace is gone: nothing to record */
	sobj_unref(nsobj);
	if (hmap_len(&a->ev_seen) >= EV_SEEN_MAX)
		hmap_clear(&a->ev_seen, free);
	free(hmap_set(&a->ev_seen, p->key, xstrdup(api_obj_name(p->ev))));
	struct ev_agg *g = p->agg_key ? hmap_get(&a->ev_agg, p->agg_key) : NULL;
	if (g) { /* remembered beyond ev_seen's clearing */
		free(g->combined);
		g->combined = xstrdup(api_obj_name(p->ev));
	}
	const char *puid = p->prep_uid;
	if (p->prep && ((!uid && !puid) || (uid && puid && !strcmp(uid, puid)))) {
		int64_t rv = store_txn_put_prep(tx, p->prep, true, e);
		return rv < 0 ? (int)rv : 0;
	}
	if (p->times > 1)
		json_object_set_new(p->ev, "count", json_integer(p->times));
	char *name = xstrdup(api_obj_name(p->ev));
	int64_t rv = store_txn_put(tx, "Event", p->ns, name, json_incref(p->ev), true, e);
	free(name);
	return rv < 0 ? (int)rv : 0;
}

/*
 * Encodes, on the recorder's thread, each event that will likely be
 * written as a new Event (none like it recorded before), with its
 * involved object's uid as it is now; the transaction writes it when it
 * finds that uid too, and makes it again otherwise.
 */
static void prepare_new(struct api *a, struct pending_event *list)
{
	for (struct pending_event *p = list; p; p = p->next) {
		if (hmap_get(&a->ev_seen, p->key) || !api_obj_name(p->ev))
			continue;
		json_t *ev = json_copy(p->ev);
		json_t *io = json_copy(json_object_get(ev, "involvedObject"));
		json_object_set_new(ev, "metadata", json_copy(json_object_get(ev, "metadata")));
		json_object_set_new(ev, "involvedObject", io);
		const char *uid = api_jstr(io, "uid");
		const struct kind_info *k =
		    kind_by_kind(api_jstr(io, "kind") ? api_jstr(io, "kind") : "");
		const char *name = api_jstr(io, "name");
		struct sobj *o = !uid && k && name
				     ? store_get(a->st, k->kind, api_scope_ns(k, p->ns), name)
				     : NULL;
		if (o)
			uid = api_jstr(json_object_get(o->obj, "metadata"), "uid");
		if (uid && !api_jstr(io, "uid"))
			json_object_set_new(io, "uid", json_string(uid));
		p->prep_uid = uid ? xstrdup(uid) : NULL;
		sobj_unref(o);
		if (p->times > 1)
			json_object_set_new(ev, "count", json_integer(p->times));
		p->prep = store_prepare(a->st, "Event", p->ns, api_obj_name(p->ev), ev);
	}
}

static int batch_txn(struct store_txn *tx, void *varg, struct err **e)
{
	struct batch_arg *b = varg;
	for (struct pending_event *p = b->list; p; p = p->next) {
		int r = write_one(tx, b->a, p, e);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * Writes the n events of list in one update; one that etcd finds too large
 * (E2BIG: the events' reads add compares) is written as two halves, and so
 * on, so that no event is lost to a transaction's limits.
 */
static int write_events(struct api *a, struct pending_event *list, size_t n, struct err **e)
{
	struct batch_arg b = {a, list};
	err_free(STEAL_POINTER(e));
	int r = store_update(a->st, batch_txn, &b, e);
	if (r != -E2BIG || n < 2)
		return r;
	struct pending_event *mid = list;
	for (size_t i = 1; i < n / 2; i++)
		mid = mid->next;
	struct pending_event *rest = mid->next;
	mid->next = NULL;
	r = write_events(a, list, n / 2, e);
	if (r >= 0)
		r = write_events(a, rest, n - n / 2, e);
	mid->next = rest;
	return r;
}

/* Aggregation (the recorder's thread) */

static const char *ev_str(const json_t *ev, const char *field)
{
	const char *s = api_jstr(ev, field);
	return s ? s : "";
}

/* Makes p the combined event of its (object, type, reason) when that has
 * had EV_AGG_MAX others with different messages lately. */
static void aggregate(struct api *a, struct pending_event *p, int64_t now)
{
	if (hmap_get(&a->ev_seen, p->key))
		return; /* a repeat: counted on the event it repeats */
	const json_t *io = json_object_get(p->ev, "involvedObject");
	char *ak = xasprintf("%s/%s/%s/%s/%s", ev_str(io, "kind"), p->ns, ev_str(io, "name"),
			     ev_str(p->ev, "type"), ev_str(p->ev, "reason"));
	struct ev_agg *g = hmap_get(&a->ev_agg, ak);
	if (!g) {
		if (hmap_len(&a->ev_agg) >= EV_SEEN_MAX)
			hmap_clear(&a->ev_agg, agg_free);
		g = xcalloc(1, sizeof(*g));
		hmap_set(&a->ev_agg, ak, g);
	}
	if (now - g->last_ns > (int64_t)EV_AGG_WINDOW_S * 1000000000)
		g->n = 0;
	g->last_ns = now;
	if (g->n < EV_AGG_MAX) {
		g->n++;
		free(ak);
		return;
	}
	const char *msg = ev_str(p->ev, "message");
	if (strncmp(msg, EV_AGG_PREFIX, strlen(EV_AGG_PREFIX))) {
		char *m = xasprintf("%s%s", EV_AGG_PREFIX, msg);
		json_object_set_new(p->ev, "message", json_string(m));
		free(m);
	}
	free(p->key);
	p->key = xasprintf("%s/%s", ak, EV_AGG_PREFIX);
	if (g->combined && !hmap_get(&a->ev_seen, p->key))
		hmap_set(&a->ev_seen, p->key, xstrdup(g->combined));
	free(p->agg_key);
	p->agg_key = ak;
}

/*
 * Aggregates the n events of list and merges repeats of one event into
 * the first (its times, the newest message and time); returns how many
 * are left.
 */
static size_t coalesce(struct api *a, struct pending_event *list, size_t n)
{
	int64_t now = wall_ns();
	struct hmap first = {0};
	struct pending_event **link = &list->next;
	aggregate(a, list, now);
	hmap_set(&first, list->key, list);
	while (*link) {
		struct pending_event *p = *link;
		aggregate(a, p, now);
		struct pending_event *f = hmap_get(&first, p->key);
		if (!f) {
			hmap_set(&first, p->key, p);
			link = &p->next;
			continue;
		}
		f->times += p->times;
		json_object_set(f->ev, "message", json_object_get(p->ev, "message"));
		json_object_set(f->ev, "lastTimestamp", json_object_get(p->ev, "lastTimestamp"));
		free(f->ts);
		f->ts = STEAL_POINTER(&p->ts);
		*link = p->next;
		pending_free(p);
		n--;
	}
	hmap_clear(&first, NULL);
	return n;
}

static void *recorder_main(void *arg)
{
	struct api *a = arg;
	pthread_mutex_lock(&a->ev_lock);
	for (;;) {
		while (!a->ev_head && !a->ev_stop)
			pthread_cond_wait(&a->ev_cond, &a->ev_lock);
		if (!a->ev_head && a->ev_stop)
			break;
		/* Take up to EV_BATCH_MAX events, all fenced or none. */
		struct pending_event *list = a->ev_head, *last = list;
		size_t n = 1;
		size_t max = store_max_writes(a->st); /* etcd: a txn holds so many */
		while (last->next && n < EV_BATCH_MAX && n < max &&
		       last->next->fenced == list->fenced) {
			last = last->next;
			n++;
		}
		a->ev_head = last->next;
		if (!a->ev_head)
			a->ev_tail = &a->ev_head;
		last->next = NULL;
		a->ev_len -= n;
		a->ev_busy = true;
		pthread_mutex_unlock(&a->ev_lock);

		struct err *err = NULL;
		/* The leader's loops' events commit only while it leads, as
		 * their other writes (a paused old leader records nothing). */
		api_fence_thread(list->fenced);
		n = coalesce(a, list, n);
		prepare_new(a, list);
		if (write_events(a, list, n, &err) < 0) {
			log_warn("events", "writing %zu events: %s", n, err ? err->msg : "?");
			hmap_clear(&a->ev_seen, free);
			err_free(err);
		}
		while (list) {
			struct pending_event *next = list->next;
			pending_free(list);
			list = next;
		}
		pthread_mutex_lock(&a->ev_lock);
		a->ev_busy = false;
		if (!a->ev_head)
			pthread_cond_broadcast(&a->ev_idle);
	}
	a->ev_busy = false;
	pthread_cond_broadcast(&a->ev_idle);
	pthread_mutex_unlock(&a->ev_lock);
	return NULL;
}

int api_events_start(struct api *a, struct err **e)
{
	pthread_mutex_init(&a->ev_lock, NULL);
	pthread_cond_init(&a->ev_cond, NULL);
	pthread_cond_init(&a->ev_idle, NULL);
	a->ev_tail = &a->ev_head;
	int r = pthread_create(&a->ev_thread, NULL, recorder_main, a);
	if (r)
		return err_make(e, r, "starting the event recorder: %s", strerror(r));
	a->ev_running = true;
	return 0;
}

void api_events_stop(struct api *a)
{
	if (!a->ev_running)
		return;
	pthread_mutex_lock(&a->ev_lock);
	a->ev_stop = true;
	pthread_cond_broadcast(&a->ev_cond);
	pthread_mutex_unlock(&a->ev_lock);
	pthread_join(a->ev_thread, NULL);
	a->ev_running = false;
	while (a->ev_head) {
		struct pending_event *p = a->ev_head;
		a->ev_head = p->next;
		pending_free(p);
	}
	hmap_clear(&a->ev_seen, free);
	hmap_clear(&a->ev_agg, agg_free);
	pthread_cond_destroy(&a->ev_cond);
	pthread_cond_destroy(&a->ev_idle);
	pthread_mutex_destroy(&a->ev_lock);
}

void api_flush_events(struct api *a)
{
	a = a->root; /* a view records through its root */
	pthread_mutex_lock(&a->ev_lock);
	while ((a->ev_head || a->ev_busy) && a->ev_running && !a->ev_stop)
		pthread_cond_wait(&a->ev_idle, &a->ev_lock);
	pthread_mutex_unlock(&a->ev_lock);
}

/* Sets key (a constant: not checked) to a string; false if s is not UTF-8. */
static bool set_str(json_t *o, const char *key, const char *s)
{
	json_t *v = json_string(s);
	return v && json_object_set_new_nocheck(o, key, v) == 0;
}

/* A new Event, its fields in the order kubectl shows them; NULL if a
 * string is not UTF-8.  (Made by hand: json_pack parsed its format and
 * checked each key again, for two Events a pod.) */
static json_t *event_json(const char *evname, const char *evns, const char *uid, const char *ts,
			  const char *kind, const char *ns, const char *name, const char *reason,
			  const char *msg, const char *type)
{
	json_t *ev = json_object(), *md = json_object(), *io = json_object(), *src = json_object();
	bool ok = set_str(ev, "apiVersion", "v1") && set_str(ev, "kind", "Event");
	json_object_set_new_nocheck(ev, "metadata", md);
	ok = ok && set_str(md, "name", evname) && set_str(md, "namespace", evns) &&
	     set_str(md, "uid", uid) && set_str(md, "creationTimestamp", ts);
	json_object_set_new_nocheck(md, "generation", json_integer(1));
	json_object_set_new_nocheck(ev, "involvedObject", io);
	ok = ok && set_str(io, "kind", kind) && (!ns || !*ns || set_str(io, "namespace", ns)) &&
	     set_str(io, "name", name);
	ok = ok && set_str(ev, "reason", reason) && set_str(ev, "message", msg) &&
	     set_str(ev, "type", type);
	json_object_set_new_nocheck(ev, "count", json_integer(1));
	ok = ok && set_str(ev, "firstTimestamp", ts) && set_str(ev, "lastTimestamp", ts);
	json_object_set_new_nocheck(ev, "source", src);
	ok = ok && set_str(src, "component", "clusterfs");
	if (!ok) {
		json_decref(ev);
		return NULL;
	}
	return ev;
}

void api_event(struct api *a, const char *type, const char *reason, const char *kind,
	       const char *ns, const char *name, const char *fmt, ...)
{
	char *msg;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = xstrdup(fmt);
	va_end(ap);
	a = a->root; /* a view records through its root */
	const char *evns = ns && *ns ? ns : "default";
	char ts[32];
	api_timestamp(ts);

	pthread_mutex_lock(&a->ev_lock);
	if (a->ev_len >= EV_QUEUE_MAX || !a->ev_running || a->ev_stop) {
		pthread_mutex_unlock(&a->ev_lock);
		log_warn("events", "dropped %s %s/%s: %s", reason, kind, name, msg);
		free(msg);
		return;
	}
	uint64_t seq = ++a->ev_seq;
	pthread_mutex_unlock(&a->ev_lock);

	char *evname =
	    xasprintf("%.200s.%" PRIx64 "%04" PRIx64, name, (uint64_t)wall_ns(), seq & 0xffff);
	/* Complete here, as api_put_new would make it, so that the recorder's
	 * transaction (which every writer's batch shares) only stores it. */
	char uid[37];
	api_new_uid(uid);
	json_t *ev = event_json(evname, evns, uid, ts, kind, ns, name, reason, msg, type);
	struct pending_event *p = xcalloc(1, sizeof(*p));
	p->key = xasprintf("%s/%s/%s/%s/%s/%s", kind, evns, name, type, reason, msg);
	p->ev = ev;
	p->ns = xstrdup(evns);
	p->ts = xstrdup(ts);
	p->times = 1;
	p->fenced = api_thread_fenced();
	free(evname);
	free(msg);

	pthread_mutex_lock(&a->ev_lock);
	*a->ev_tail = p;
	a->ev_tail = &p->next;
	a->ev_len++;
	pthread_cond_signal(&a->ev_cond);
	pthread_mutex_unlock(&a->ev_lock);
}
