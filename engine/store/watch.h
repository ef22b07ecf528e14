/*
 * watch.h - the store's event feed, private to engine/store.c.
 *
 * store.c hands every committed batch to watch_publish(); store_watch()
 * is watch_read().  The feed keeps the newest WATCH_RING_CAP events in a
 * ring in memory and reads older ones from the store's `log` table
 * through its own read-only SQLite connection, so that a watcher resuming
 * from an old revision never waits on the writer.
 *
 * Revisions are gapless (store.c guarantees it), so the ring is indexed
 * by revision, and a log read whose first row is not the revision asked
 * for means the log was compacted: -ERANGE.
 *
 * Threads: every function is thread-safe.  Locks: w_mu (ring, waiting)
 * and r_mu (the read connection), never held together.  store.c calls
 * watch_publish() with its index lock held: index lock before w_mu.
 */
#ifndef CFS_WATCH_H
#define CFS_WATCH_H

#include <stdint.h>

#include "engine/store/store.h"

#define WATCH_RING_CAP 16384 /* events kept in memory; a power of two */

struct watch;

/*
 * Opens the feed of the store database at path, whose newest committed
 * revision is rev.  Returns 0 and *out, or a negative errno with *e.
 */
int watch_open(const char *path, int64_t rev, struct watch **out, struct err **e);

/* Wakes every waiter, waits until none is left inside, frees.  NULL is fine. */
void watch_close(struct watch *w);

/*
 * Appends n events of one committed batch (their revisions follow the
 * last published one), taking their references (evs[i].obj becomes NULL),
 * forgets events at or below the compacted revision, and wakes waiters.
 */
void watch_publish(struct watch *w, struct store_event *evs, size_t n, int64_t compacted);

/* store_watch() and store_wake_watchers(), see store.h. */
int watch_read(struct watch *w, int64_t after, struct store_event *evs, size_t max, int timeout_ms,
	       struct err **e);
void watch_wake(struct watch *w);
/* The events the ring holds. */
size_t watch_len(struct watch *w);

/* Shared with store.c */

/* The errno closest to an SQLite result code. */
int store_sql_errno(int rc);

#endif
