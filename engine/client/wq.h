/*
 * wq.h - the controllers' work queue: keys to reconcile, each handed to
 * one worker at a time, with delayed and rate-limited retries.
 *
 * A watch callback only knows that an object changed; the controller's
 * sync(key) re-reads the current state.  So what the queue carries is the
 * key ("default/web"), never an event, and many changes to one object
 * before a worker gets to it collapse into one sync.  The semantics are
 * those of Kubernetes client-go's rate-limited workqueue:
 *
 *   - A key is ready (waiting for a worker), processing (handed out by
 *     wq_get, not yet wq_done), both (added again while processing: it is
 *     "dirty" and becomes ready at wq_done), or absent.  It is never
 *     ready twice, and never handed to two workers at once.
 *   - Ready keys come out in the order they became ready (FIFO).
 *   - A delayed add (wq_add_after, wq_add_rate_limited) waits in a timer
 *     heap; the getters' timed wait moves it to the ready list when due,
 *     so the queue has no thread of its own.  One key has at most one
 *     pending delayed add, at the earliest time anyone asked for.
 *   - wq_add_rate_limited waits the larger of a per-key exponential
 *     backoff (5 ms * 2^failures, at most 1000 s; wq_forget resets it)
 *     and an overall token bucket (10 adds/s, burst 100).
 *
 * A worker's loop:
 *
 *     while ((key = wq_get(q))) {
 *             if (sync(key) < 0)
 *                     wq_add_rate_limited(q, key);
 *             else
 *                     wq_forget(q, key);
 *             wq_done(q, key);
 *             free(key);
 *     }
 *
 * Threads: every function except wq_free is thread-safe.  Locks: one
 * mutex per queue, held only inside these functions and never across a
 * call out of the module, so callers may hold their own locks while
 * calling in (their lock before the queue's).
 */
#ifndef CFS_WQ_H
#define CFS_WQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct wq;

/* Lifetime */

/* A new empty queue; name (copied) appears in its log lines.  Can't fail. */
struct wq *wq_new(const char *name);

/*
 * Frees the queue and every key still in it.  The caller has called
 * wq_shutdown and joined every thread that used the queue.  NULL is fine.
 */
void wq_free(struct wq *q);

/*
 * Makes every wq_get and wq_get_timeout, waiting or future, return NULL
 * at once (even when keys are ready), and every later add a no-op.
 * wq_done still works.  Idempotent; can't fail.
 */
void wq_shutdown(struct wq *q);

/* True once wq_shutdown has been called. */
bool wq_is_shutdown(struct wq *q);

/* Adding */

/*
 * Makes key (copied) ready now, unless it is ready already.  When key is
 * being processed, marks it dirty instead: it becomes ready at wq_done,
 * so the change that caused this add is never lost.  Cancels a pending
 * delayed add of key (now is earlier).  Can't fail.
 */
void wq_add(struct wq *q, const char *key);

/*
 * Makes key ready delay_ms from now (delay_ms <= 0 is wq_add).  When key
 * is already ready or dirty, or already has a delayed add due no later,
 * does nothing: the earliest request wins, and the key is never queued
 * twice.  An earlier request replaces a later pending one.  Can't fail.
 */
void wq_add_after(struct wq *q, const char *key, int64_t delay_ms);

/*
 * A retry after a failed sync: counts one more failure of key and adds it
 * after max(5 ms * 2^(failures before this one), capped at 1000 s; the
 * token bucket's wait), through wq_add_after.  Can't fail.
 */
void wq_add_rate_limited(struct wq *q, const char *key);

/* Resets key's failure count (after a sync that succeeded).  Can't fail. */
void wq_forget(struct wq *q, const char *key);

/* How many failures of key are counted (0 for an unknown key). */
int wq_retries(struct wq *q, const char *key);

/* Processing */

/*
 * Waits until a key is ready and returns it as a new string the caller
 * frees, marking it processing until wq_done.  Returns NULL once the
 * queue is shut down.
 */
char *wq_get(struct wq *q);

/*
 * wq_get waiting at most timeout_ms (0 or less: don't wait).  NULL on
 * timeout or shutdown; wq_is_shutdown tells which.
 */
char *wq_get_timeout(struct wq *q, int timeout_ms);

/*
 * Ends the processing of key, which wq_get returned.  When key was added
 * meanwhile, it becomes ready again.  A key not being processed is a
 * caller bug: logged and ignored.
 */
void wq_done(struct wq *q, const char *key);

/* How many keys are ready (delayed keys that are due included). */
size_t wq_len(struct wq *q);

/* Tests */

/*
 * Replaces the monotonic millisecond clock that delays and the token
 * bucket use (NULL restores the real one); call it before any delayed
 * add, whose due time is on the old clock.  Getters then poll the clock
 * every 10 ms while a delayed key is pending, so that a test moving the
 * clock forward is noticed.  wq_get_timeout's timeout stays in real time.
 */
void wq_set_clock_for_test(struct wq *q, int64_t (*now_ms)(void));

#endif
