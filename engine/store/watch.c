/*
 * watch.c - the store's event feed (see watch.h): a ring of recent events
 * in memory, the log table behind it, and the waiting in between.
 *
 * Split from store.c so that the writer side (index, group commit) and
 * the reader side of watch each fit in one file.
 */
#include "engine/clock.h"
#include "engine/store/watch.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <time.h>

#include "engine/mem.h"

#define RING_MASK (WATCH_RING_CAP - 1)

static const char log_sql[] =
    "SELECT rv, type, kind, ns, name, obj_rv, user_rv, mtime, data FROM log"
    " WHERE rv > ?1 ORDER BY rv LIMIT ?2";

struct ring_ev {
	enum store_event_type type;
	struct sobj *obj; /* a reference, or NULL outside [first, last] */
	int64_t at;	  /* mono_ms() when published */
};

struct watch {
	char *path;

	pthread_mutex_t w_mu;
	pthread_cond_t w_cond;	       /* w_mu: events were published, or wake-up */
	pthread_cond_t w_idle;	       /* w_mu: active dropped to 0 */
	struct ring_ev *ring;	       /* w_mu: the event of revision r is at r & RING_MASK */
	int64_t ring_first, ring_last; /* w_mu: the ring holds [first, last] */
	size_t ring_bytes;	       /* w_mu: store_history_size() of those events */
	bool closing;		       /* w_mu: readers return 0 */
	int active;		       /* w_mu: threads inside watch_read */

	pthread_mutex_t r_mu;
	sqlite3 *rdb;	     /* r_mu: read-only connection */
	sqlite3_stmt *r_log; /* r_mu */
};

/* Moves the start of the ring up to revision first (at most to last + 1). */
static void ring_trim(struct watch *w, int64_t first)
{
	if (first > w->ring_last + 1)
		first = w->ring_last + 1;
	for (; w->ring_first < first; w->ring_first++) {
		struct ring_ev *ev = &w->ring[w->ring_first & RING_MASK];
		if (ev->obj)
			w->ring_bytes -= store_history_size(ev->obj);
		sobj_unref(ev->obj);
		ev->obj = NULL;
	}
}

size_t store_history_bytes_for_test;
int64_t store_history_fresh_ms_for_test;

int64_t store_history_stale_before(int64_t now)
{
	return now - (store_history_fresh_ms_for_test ? store_history_fresh_ms_for_test
						      : STORE_HISTORY_FRESH_MS);
}

size_t store_history_size(const struct sobj *o)
{
	return o->size ? o->size : 1024; /* unknown: a guess */
}

void watch_publish(struct watch *w, struct store_event *evs, size_t n, int64_t compacted)
{
	size_t max =
	    store_history_bytes_for_test ? store_history_bytes_for_test : STORE_HISTORY_BYTES;
	int64_t now = mono_ms(), stale = store_history_stale_before(now);
	pthread_mutex_lock(&w->w_mu);
	for (size_t i = 0; i < n; i++) {
		int64_t rv = evs[i].rv;
		size_t sz = store_history_size(evs[i].obj);
		if (rv != w->ring_last + 1) {
			/* can't happen: revisions are gapless; restart the ring here */
			ring_trim(w, w->ring_last + 1);
			w->ring_first = rv;
		} else if (w->ring_last - w->ring_first + 1 == WATCH_RING_CAP) {
			ring_trim(w, w->ring_first + 1);
		}
		while (w->ring_first <= w->ring_last && w->ring_bytes + sz > max)
			ring_trim(w, w->ring_first + 1);
		w->ring_bytes += sz;
		w->ring[rv & RING_MASK] =
		    (struct ring_ev){evs[i].type, STEAL_POINTER(&evs[i].obj), now};
		w->ring_last = rv;
	}
	while (w->ring_last - w->ring_first + 1 > STORE_HISTORY_MIN &&
	       w->ring[w->ring_first & RING_MASK].at < stale)
		ring_trim(w, w->ring_first + 1);
	ring_trim(w, compacted + 1);
	pthread_cond_broadcast(&w->w_cond);
	pthread_mutex_unlock(&w->w_mu);
}

/* A new sobj from the current row of the log query, or NULL if corrupt. */
static struct sobj *row_sobj(sqlite3_stmt *s)
{
	const char *text = (const char *)sqlite3_column_text(s, 8);
	json_t *obj = store_unseal((const char *)sqlite3_column_text(s, 2),
				   (const char *)sqlite3_column_text(s, 3),
				   (const char *)sqlite3_column_text(s, 4), text);
	if (!json_is_object(obj)) {
		json_decref(obj);
		return NULL;
	}
	return sobj_new((const char *)sqlite3_column_text(s, 2),
			(const char *)sqlite3_column_text(s, 3),
			(const char *)sqlite3_column_text(s, 4), obj, sqlite3_column_int64(s, 5),
			sqlite3_column_int64(s, 6), sqlite3_column_int64(s, 7));
}

static int compacted_err(struct watch *w, int64_t rv, struct err **e)
{
	return err_make(e, ERANGE, "store %s: revision %" PRId64 " was compacted; relist", w->path,
			rv);
}

/*
 * Reads up to max events after `after` from the log table.  The caller
 * knows that revision after + 1 was committed, so a first row other than
 * that one, or none, means it was compacted away.
 */
static int log_read(struct watch *w, int64_t after, struct store_event *evs, size_t max,
		    struct err **e)
{
	pthread_mutex_lock(&w->r_mu);
	sqlite3_stmt *s = w->r_log;
	sqlite3_bind_int64(s, 1, after);
	sqlite3_bind_int64(s, 2, (int64_t)max);
	int n = 0, ret = 0, rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t rv = sqlite3_column_int64(s, 0);
		int type = sqlite3_column_int(s, 1);
		if (rv != after + 1 + n) {
			ret = compacted_err(w, after + 1 + n, e);
			break;
		}
		struct sobj *o = row_sobj(s);
		if (!o || type < STORE_ADDED || type > STORE_DELETED) {
			sobj_unref(o);
			ret = err_make(e, EIO, "store %s: log revision %" PRId64 " is corrupt",
				       w->path, rv);
			break;
		}
		evs[n++] = (struct store_event){.type = type, .rv = rv, .obj = o};
	}
	if (!ret && rc != SQLITE_DONE)
		ret = err_make(e, store_sql_errno(rc), "store %s: log read: %s", w->path,
			       sqlite3_errmsg(w->rdb));
	sqlite3_reset(s);
	pthread_mutex_unlock(&w->r_mu);
	if (!ret && !n)
		ret = compacted_err(w, after + 1, e);
	if (ret) {
		store_events_free(evs, (size_t)n);
		return ret;
	}
	return n;
}

int watch_read(struct watch *w, int64_t after, struct store_event *evs, size_t max, int timeout_ms,
	       struct err **e)
{
	struct timespec deadline = {0};
	if (timeout_ms > 0)
		deadline = mono_deadline(timeout_ms);
	if (after < 0)
		after = 0;
	if (max > INT32_MAX)
		max = INT32_MAX;
	int n = 0;
	bool expired = false;
	pthread_mutex_lock(&w->w_mu);
	w->active++;
	while (max && !w->closing) {
		if (after < w->ring_first - 1) {
			pthread_mutex_unlock(&w->w_mu);
			n = log_read(w, after, evs, max, e);
			pthread_mutex_lock(&w->w_mu);
			break;
		}
		if (after < w->ring_last) {
			for (int64_t rv = after + 1; rv <= w->ring_last && (size_t)n < max; rv++) {
				struct ring_ev *ev = &w->ring[rv & RING_MASK];
				evs[n++] = (struct store_event){ev->type, rv, sobj_ref(ev->obj)};
			}
			break;
		}
		if (timeout_ms == 0 || expired)
			break;
		if (timeout_ms < 0)
			pthread_cond_wait(&w->w_cond, &w->w_mu);
		else if (pthread_cond_timedwait(&w->w_cond, &w->w_mu, &deadline) == ETIMEDOUT)
			expired = true; /* one last look, then 0 */
	}
	if (!--w->active)
		pthread_cond_broadcast(&w->w_idle);
	pthread_mutex_unlock(&w->w_mu);
	return n;
}

size_t watch_len(struct watch *w)
{
	pthread_mutex_lock(&w->w_mu);
	size_t n = (size_t)(w->ring_last - w->ring_first + 1);
	pthread_mutex_unlock(&w->w_mu);
	return n;
}

void watch_wake(struct watch *w)
{
	pthread_mutex_lock(&w->w_mu);
	w->closing = true;
	pthread_cond_broadcast(&w->w_cond);
	pthread_mutex_unlock(&w->w_mu);
}

static void watch_free(struct watch *w)
{
	sqlite3_finalize(w->r_log);
	sqlite3_close(w->rdb);
	ring_trim(w, w->ring_last + 1);
	free(w->ring);
	pthread_mutex_destroy(&w->w_mu);
	pthread_cond_destroy(&w->w_cond);
	pthread_cond_destroy(&w->w_idle);
	pthread_mutex_destroy(&w->r_mu);
	free(w->path);
	free(w);
}

int watch_open(const char *path, int64_t rev, struct watch **out, struct err **e)
{
	struct watch *w = xcalloc(1, sizeof(*w));
	w->path = xstrdup(path);
	w->ring = xcalloc(WATCH_RING_CAP, sizeof(*w->ring));
	w->ring_first = rev + 1;
	w->ring_last = rev;
	pthread_mutex_init(&w->w_mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* timeouts ignore clock steps */
	pthread_cond_init(&w->w_cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&w->w_idle, NULL);
	pthread_mutex_init(&w->r_mu, NULL);

	int rc = sqlite3_open_v2(path, &w->rdb, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_busy_timeout(w->rdb, 5000);
		rc = sqlite3_prepare_v3(w->rdb, log_sql, -1, SQLITE_PREPARE_PERSISTENT, &w->r_log,
					NULL);
	}
	if (rc != SQLITE_OK) {
		int ret = err_make(e, store_sql_errno(rc), "store %s: log reader: %s", path,
				   w->rdb ? sqlite3_errmsg(w->rdb) : sqlite3_errstr(rc));
		watch_free(w);
		return ret;
	}
	*out = w;
	return 0;
}

void watch_close(struct watch *w)
{
	if (!w)
		return;
	watch_wake(w);
	pthread_mutex_lock(&w->w_mu);
	while (w->active)
		pthread_cond_wait(&w->w_idle, &w->w_mu);
	pthread_mutex_unlock(&w->w_mu);
	watch_free(w);
}
