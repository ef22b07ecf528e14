/*
 * store_etcd_watch.c - the etcd backend's feed (see store_etcd.c): the
 * index filled by a paged range over the prefix, then kept by a watch
 * from the next revision; the ring of recent events that store_watch()
 * reads; the keeper thread that restarts a watch that ended (relisting
 * when etcd compacted its start away) and compacts etcd's history.
 *
 * Revisions on etcd have gaps (other keys, leases, other prefixes) and
 * the events of one txn share one: the ring holds events in revision
 * order, and store_watch() hands out whole revisions only, so that a
 * watcher resuming "after R" misses nothing.  `floor` is the revision at
 * or below which events may be missing (the index's load, the oldest
 * event pushed out of the ring): asking for events after an older one is
 * -ERANGE, a relist (410 for HTTP clients).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clock.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/store/store_etcd.h"

#define LOAD_TRIES 5

/* Loading */

struct objv {
	struct sobj **v;
	size_t n, cap;
};

static void objv_push(struct objv *v, struct sobj *o)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 256;
		v->v = xrealloc(v->v, v->cap * sizeof(*v->v));
	}
	v->v[v->n++] = o;
}

/* Every object under the prefix at one revision (*rev), page by page. */
static int load_once(struct store *st, struct objv *out, int64_t *rev, struct err **e)
{
	struct estore *es = st->etcd;
	char *from = xstrdup(es->prefix);
	size_t from_len = es->plen;
	int64_t at = 0;
	int rc = 0;
	for (bool more = true; more && !rc;) {
		struct etcd_range r = {from, from_len,	  es->pend, strlen(es->pend),
				       at,   ESTORE_PAGE, false};
		struct etcd_kv *kvs = NULL;
		size_t n = 0;
		int64_t hdr = 0;
		more = false;
		rc = etcd_get(es->c, &r, &kvs, &n, &more, &hdr, e);
		if (rc)
			break;
		if (!at)
			at = hdr;
		for (size_t i = 0; i < n; i++) {
			struct sobj *o = estore_kv_sobj(es, &kvs[i]);
			if (o)
				objv_push(out, o);
		}
		if (more && n) { /* the next page starts just after the last key */
			free(from);
			from_len = kvs[n - 1].key_len + 1;
			from = xmalloc(from_len);
			memcpy(from, kvs[n - 1].key, from_len - 1);
			from[from_len - 1] = '\0';
		}
		more = more && n;
		etcd_kvs_free(kvs, n);
	}
	free(from);
	*rev = at;
	return rc;
}

/* The same, again when etcd compacted the revision under the pages. */
static int load(struct store *st, struct objv *out, int64_t *rev, struct err **e)
{
	int rc = -ERANGE;
	struct err *le = NULL;
	for (int i = 0; i < LOAD_TRIES && rc == -ERANGE; i++) {
		for (size_t j = 0; j < out->n; j++)
			sobj_unref(out->v[j]);
		out->n = 0;
		err_free(STEAL_POINTER(&le));
		rc = load_once(st, out, rev, &le);
	}
	if (rc && e) {
		err_free(*e);
		*e = le;
	} else {
		err_free(le);
	}
	return rc;
}

/* Drops the ring's events (under ev_mu). */
static void ring_clear(struct estore *es)
{
	for (size_t i = 0; i < es->ring_n; i++) {
		struct store_event *ev = &es->ring[(es->ring_head + i) % ESTORE_RING_CAP];
		sobj_unref(STEAL_POINTER(&ev->obj));
	}
	es->ring_head = es->ring_n = 0;
	es->ring_bytes = 0;
}

/*
 * Makes the objects of v (their references taken) the index, at revision
 * rev; the ring starts over there (older watchers relist).
 */
static void index_replace(struct store *st, struct objv *v, int64_t rev)
{
	struct estore *es = st->etcd;
	int64_t now = store_now_ns();
	pthread_rwlock_wrlock(&st->idx_lock);
	hmap_clear(&st->kinds, kindidx_free);
	hmap_clear(&st->owners, deplist_free);
	struct hmap_iter it = {0};
	for (struct hmap_ent *ent; (ent = hmap_next(&st->mtimes, &it));)
		*(int64_t *)ent->val = now; /* deletes in the gap changed the folders */
	for (size_t i = 0; i < v->n; i++)
		idx_put(st, v->v[i]);
	v->n = 0;
	__atomic_store_n(&st->rev, rev, __ATOMIC_RELEASE);
	pthread_mutex_lock(&es->ev_mu);
	ring_clear(es);
	es->floor = rev;
	pthread_cond_broadcast(&es->ev_cond);
	pthread_mutex_unlock(&es->ev_mu);
	pthread_rwlock_unlock(&st->idx_lock);
}

/* The watch */

/* Applies one event to the index (idx_lock held); fills *out or false. */
static bool apply_event(struct store *st, const struct etcd_event *ev, struct store_event *out)
{
	struct estore *es = st->etcd;
	if (ev->type == ETCD_EV_PUT) {
		struct sobj *o = estore_kv_sobj(es, &ev->kv);
		if (!o)
			return false;
		bool had = idx_peek(st, o->kind, o->ns, o->name) != NULL;
		idx_put(st, sobj_ref(o));
		*out = (struct store_event){had ? STORE_MODIFIED : STORE_ADDED, ev->kv.mod_rev, o};
		return true;
	}
	char *kind, *ns, *name;
	if (!estore_key_split(es, &ev->kv, &kind, &ns, &name))
		return false;
	struct sobj *prev = sobj_ref(idx_peek(st, kind, ns, name));
	if (prev) {
		idx_del(st, kind, ns, name);
		*out = (struct store_event){STORE_DELETED, ev->kv.mod_rev, prev};
	}
	free(kind);
	free(ns);
	free(name);
	return prev != NULL;
}

/* Drops the ring's oldest event (under ev_mu); the floor follows. */
static void ring_pop(struct estore *es)
{
	struct store_event *old = &es->ring[es->ring_head];
	if (old->rv > es->floor)
		es->floor = old->rv;
	es->ring_bytes -= store_history_size(old->obj);
	sobj_unref(STEAL_POINTER(&old->obj));
	es->ring_head = (es->ring_head + 1) % ESTORE_RING_CAP;
	es->ring_n--;
}

/* Appends an event to the ring (under ev_mu), taking its reference; the
 * oldest go past ESTORE_RING_CAP events or STORE_HISTORY_BYTES, and
 * past STORE_HISTORY_MIN events those older than the window go. */
static void ring_push(struct estore *es, struct store_event *ev)
{
	size_t max =
	    store_history_bytes_for_test ? store_history_bytes_for_test : STORE_HISTORY_BYTES;
	size_t sz = store_history_size(ev->obj);
	if (es->ring_n == ESTORE_RING_CAP)
		ring_pop(es);
	while (es->ring_n && es->ring_bytes + sz > max)
		ring_pop(es);
	int64_t now = mono_ms(), stale = store_history_stale_before(now);
	es->ring[(es->ring_head + es->ring_n) % ESTORE_RING_CAP] = *ev;
	es->ring_at[(es->ring_head + es->ring_n) % ESTORE_RING_CAP] = now;
	es->ring_n++;
	es->ring_bytes += sz;
	ev->obj = NULL;
	while (es->ring_n > STORE_HISTORY_MIN && es->ring_at[es->ring_head] < stale)
		ring_pop(es);
}

static void watch_ended(struct estore *es, int64_t compacted, int err)
{
	pthread_mutex_lock(&es->ev_mu);
	es->watch_dead = true;
	es->relist = es->relist || compacted > 0;
	es->watch_err = err;
	pthread_cond_broadcast(&es->ev_cond);
	pthread_mutex_unlock(&es->ev_mu);
}

void estore_relist_for_test(struct store *st)
{
	watch_ended(st->etcd, 1, 0);
}

static void on_watch(void *arg, const struct etcd_event *evs, size_t n, int64_t rev,
		     int64_t compacted, int err)
{
	struct store *st = arg;
	struct estore *es = st->etcd;
	if (compacted > 0 || err < 0) {
		if (compacted > 0)
			log_warn("store",
				 "%s: the watch's revision was compacted (up to %" PRId64
				 "); relisting",
				 st->path, compacted);
		watch_ended(es, compacted, err);
		return;
	}
	struct store_event *out = xmalloc((n ? n : 1) * sizeof(*out));
	size_t m = 0;
	pthread_rwlock_wrlock(&st->idx_lock);
	for (size_t i = 0; i < n; i++)
		m += apply_event(st, &evs[i], &out[m]);
	int64_t to = n ? evs[n - 1].kv.mod_rev : rev;
	if (to > store_rev(st))
		__atomic_store_n(&st->rev, to, __ATOMIC_RELEASE);
	pthread_mutex_lock(&es->ev_mu);
	for (size_t i = 0; i < m; i++)
		ring_push(es, &out[i]);
	pthread_cond_broadcast(&es->ev_cond);
	pthread_mutex_unlock(&es->ev_mu);
	pthread_rwlock_unlock(&st->idx_lock);
	free(out);
	store_trim_note(n);
}

static int watch_from(struct store *st, int64_t start, struct err **e)
{
	struct estore *es = st->etcd;
	struct etcd_range r = {es->prefix, es->plen, es->pend, strlen(es->pend), 0, 0, false};
	return etcd_watch_start(es->c, &r, start, on_watch, st, &es->watch, e);
}

/* The keeper thread */

/* Loads the index again and watches from there. */
static int relist(struct store *st, struct err **e)
{
	struct objv v = {0};
	int64_t rev = 0;
	int rc = load(st, &v, &rev, e);
	if (!rc) {
		index_replace(st, &v, rev);
		log_info("store", "%s: relisted at revision %" PRId64, st->path, rev);
	}
	for (size_t i = 0; i < v.n; i++)
		sobj_unref(v.v[i]);
	free(v.v);
	return rc;
}

/* Compacts etcd's history to the newest revisions kept, when it is time. */
static void compact(struct store *st)
{
	struct estore *es = st->etcd;
	int64_t every = estore_compact_every_ms_for_test > 0 ? estore_compact_every_ms_for_test
							     : ESTORE_COMPACT_EVERY;
	int64_t now = mono_ns() / 1000000;
	if (!es->last_compact_ms)
		es->last_compact_ms = now;
	if (now - es->last_compact_ms < every)
		return;
	es->last_compact_ms = now;
	int64_t keep = estore_keep_revs_for_test > 0 ? estore_keep_revs_for_test : ESTORE_KEEP_REVS;
	int64_t to = store_rev(st) - keep;
	if (to <= 0)
		return;
	_cleanup_err_ struct err *e = NULL;
	int rc = etcd_compact(es->c, to, &e);
	if (rc == 0)
		log_info("store", "%s: compacted etcd's history up to revision %" PRId64, st->path,
			 to);
	else if (rc != -ERANGE) /* -ERANGE: another server got there first */
		log_warn("store", "%s: compaction: %s", st->path, e ? e->msg : "?");
}

/* Restarts the watch (relist: from a new listing).  0 or a negative errno. */
static int restart(struct store *st, bool again)
{
	struct estore *es = st->etcd;
	etcd_watch_stop(es->watch);
	es->watch = NULL;
	_cleanup_err_ struct err *e = NULL;
	int rc = again ? relist(st, &e) : 0;
	if (!rc)
		rc = watch_from(st, store_rev(st) + 1, &e);
	if (rc)
		log_warn("store", "%s: can't restart the watch: %s", st->path, e ? e->msg : "?");
	return rc;
}

static void *keeper(void *arg)
{
	struct store *st = arg;
	struct estore *es = st->etcd;
	pthread_mutex_lock(&es->ev_mu);
	while (!es->closing) {
		if (es->watch_dead) {
			bool again = es->relist;
			es->watch_dead = es->relist = false;
			pthread_mutex_unlock(&es->ev_mu);
			int rc = restart(st, again);
			pthread_mutex_lock(&es->ev_mu);
			if (rc) {
				es->watch_dead = true;
				es->relist = es->relist || again || rc == -ERANGE;
				struct timespec d = mono_deadline(1000);
				pthread_cond_timedwait(&es->ev_cond, &es->ev_mu, &d);
			}
			continue;
		}
		pthread_mutex_unlock(&es->ev_mu);
		compact(st);
		pthread_mutex_lock(&es->ev_mu);
		struct timespec d = mono_deadline(500);
		if (!es->closing && !es->watch_dead)
			pthread_cond_timedwait(&es->ev_cond, &es->ev_mu, &d);
	}
	pthread_mutex_unlock(&es->ev_mu);
	etcd_watch_stop(es->watch);
	es->watch = NULL;
	return NULL;
}

int estore_feed_start(struct store *st, struct err **e)
{
	struct estore *es = st->etcd;
	struct objv v = {0};
	int64_t rev = 0;
	int rc = load(st, &v, &rev, e);
	if (!rc) {
		index_replace(st, &v, rev);
		rc = watch_from(st, rev + 1, e);
	}
	for (size_t i = 0; i < v.n; i++)
		sobj_unref(v.v[i]);
	free(v.v);
	if (!rc && pthread_create(&es->keeper, NULL, keeper, st)) {
		etcd_watch_stop(es->watch);
		es->watch = NULL;
		rc = err_make(e, EAGAIN, "can't start the store's watch keeper");
	}
	return rc;
}

void estore_feed_stop(struct store *st)
{
	struct estore *es = st->etcd;
	pthread_mutex_lock(&es->ev_mu);
	es->closing = true;
	pthread_cond_broadcast(&es->ev_cond);
	while (es->active)
		pthread_cond_wait(&es->ev_cond, &es->ev_mu);
	pthread_mutex_unlock(&es->ev_mu);
	pthread_join(es->keeper, NULL);
	pthread_mutex_lock(&es->ev_mu);
	ring_clear(es);
	pthread_mutex_unlock(&es->ev_mu);
}

/* store_watch */

static struct store_event *ring_at(struct estore *es, size_t i)
{
	return &es->ring[(es->ring_head + i) % ESTORE_RING_CAP];
}

/* The first event of the ring after revision after (ring_n: none). */
static size_t ring_find(struct estore *es, int64_t after)
{
	size_t lo = 0, hi = es->ring_n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ring_at(es, mid)->rv <= after)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Copies whole revisions from i, at most max events (under ev_mu). */
static int ring_copy(struct store *st, size_t i, struct store_event *evs, size_t max,
		     struct err **e)
{
	struct estore *es = st->etcd;
	size_t n = 0;
	while (i + n < es->ring_n && n < max)
		n++;
	/* do not end inside a revision */
	while (n && i + n < es->ring_n && ring_at(es, i + n)->rv == ring_at(es, i + n - 1)->rv)
		n--;
	if (!n)
		return err_make(e, ERANGE,
				"%s: revision %" PRId64 " has more events than the %zu asked for; "
				"relist",
				st->path, ring_at(es, i)->rv, max);
	for (size_t j = 0; j < n; j++) {
		struct store_event *ev = ring_at(es, i + j);
		evs[j] = (struct store_event){ev->type, ev->rv, sobj_ref(ev->obj)};
	}
	return (int)n;
}

int estore_watch(struct store *st, int64_t after, struct store_event *evs, size_t max,
		 int timeout_ms, struct err **e)
{
	struct estore *es = st->etcd;
	struct timespec deadline = {0};
	if (timeout_ms > 0)
		deadline = mono_deadline(timeout_ms);
	if (after < 0)
		after = 0;
	if (max > INT32_MAX)
		max = INT32_MAX;
	int n = 0;
	bool expired = false;
	pthread_mutex_lock(&es->ev_mu);
	es->active++;
	while (max && !es->closing && !es->woken) {
		if (after < es->floor) {
			n = err_make(e, ERANGE, "%s: revision %" PRId64 " is too old; relist",
				     st->path, after);
			break;
		}
		size_t i = ring_find(es, after);
		if (i < es->ring_n) {
			n = ring_copy(st, i, evs, max, e);
			break;
		}
		if (timeout_ms == 0 || expired)
			break;
		if (timeout_ms < 0)
			pthread_cond_wait(&es->ev_cond, &es->ev_mu);
		else if (pthread_cond_timedwait(&es->ev_cond, &es->ev_mu, &deadline) == ETIMEDOUT)
			expired = true;
	}
	if (!--es->active)
		pthread_cond_broadcast(&es->ev_cond);
	pthread_mutex_unlock(&es->ev_mu);
	return n;
}

size_t estore_history_len(struct store *st)
{
	struct estore *es = st->etcd;
	pthread_mutex_lock(&es->ev_mu);
	size_t n = es->ring_n;
	pthread_mutex_unlock(&es->ev_mu);
	return n;
}

void estore_wake_watchers(struct store *st)
{
	struct estore *es = st->etcd;
	pthread_mutex_lock(&es->ev_mu);
	es->woken = true;
	pthread_cond_broadcast(&es->ev_cond);
	pthread_mutex_unlock(&es->ev_mu);
}
