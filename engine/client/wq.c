/*
 * wq.c - the controllers' work queue (see wq.h).
 *
 * Each key the queue knows has one struct item in a map, holding all of
 * its state: on the ready list or not, processing or not, dirty (added
 * while processing), a pending delayed add (its place in a binary heap
 * ordered by due time), and its failure count.  An item is freed as soon
 * as none of these holds, so the map is as large as the live keys.
 *
 * Invariants, under q->mu:
 *   - ready and dirty are never both true; dirty implies processing.
 *   - an item in the heap is neither ready nor dirty: an add that makes
 *     it ready or dirty takes it out of the heap first, and an add_after
 *     of a ready or dirty item does nothing.
 *
 * No thread of its own: a getter with nothing ready sleeps on the one
 * condition variable until the earliest due time, its own timeout, or a
 * signal, and moves due items to the ready list itself.
 */
#include "engine/client/wq.h"

#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "engine/clock.h"
#include "engine/hmap.h"
#include "engine/log.h"
#include "engine/mem.h"

#define NO_TIMER     SIZE_MAX
#define BACKOFF_BASE 5LL		 /* ms, client-go's default base delay */
#define BACKOFF_MAX  1000000LL		 /* ms (1000 s), its default cap */
#define BUCKET_QPS   10			 /* token bucket refill rate */
#define BUCKET_BURST 100		 /* and size */
#define TOKEN_MS     (1000 / BUCKET_QPS) /* ms to earn one token */
#define MAX_DELAY    (INT64_MAX / 4)	 /* keeps now + delay from overflowing */
#define TEST_POLL_MS 10			 /* getters' poll period under a test clock */

struct item {
	char *key;
	struct item *next; /* on the ready list */
	bool ready;	   /* on the ready list */
	bool processing;   /* handed out by wq_get, no wq_done yet */
	bool dirty;	   /* added while processing: ready at wq_done */
	size_t hidx;	   /* index in q->heap, or NO_TIMER */
	int64_t due;	   /* with hidx: when it becomes ready (queue clock, ms) */
	uint64_t seq;	   /* with hidx: breaks ties in due, oldest first */
	int failures;	   /* counted by wq_add_rate_limited, reset by wq_forget */
};

struct wq {
	char *name;
	pthread_mutex_t mu;
	pthread_cond_t cond;	/* mu: a key became ready, the earliest due moved, or shutdown */
	struct hmap items;	/* mu: key -> struct item */
	struct item *head;	/* mu: ready list, FIFO */
	struct item *tail;	/* mu */
	size_t nready;		/* mu: items on the ready list */
	struct item **heap;	/* mu: delayed items, min-heap on (due, seq) */
	size_t nheap, capheap;	/* mu */
	uint64_t seq;		/* mu: next timer's seq */
	int64_t credit;		/* mu: token bucket, in ms of refill (TOKEN_MS per token) */
	int64_t credit_at;	/* mu: queue clock when credit was last brought up to date */
	bool shut;		/* mu */
	int64_t (*clock)(void); /* mu: test clock, or NULL for CLOCK_MONOTONIC */
};

/* The clock delays are measured on. */
static int64_t now_ms(struct wq *q)
{
	return q->clock ? q->clock() : mono_ms();
}

/* Timer heap */

static bool heap_less(const struct item *a, const struct item *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void heap_put(struct wq *q, size_t i, struct item *it)
{
	q->heap[i] = it;
	it->hidx = i;
}

static void sift_up(struct wq *q, size_t i)
{
	struct item *it = q->heap[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!heap_less(it, q->heap[parent]))
			break;
		heap_put(q, i, q->heap[parent]);
		i = parent;
	}
	heap_put(q, i, it);
}

static void sift_down(struct wq *q, size_t i)
{
	struct item *it = q->heap[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= q->nheap)
			break;
		if (c + 1 < q->nheap && heap_less(q->heap[c + 1], q->heap[c]))
			c++;
		if (!heap_less(q->heap[c], it))
			break;
		heap_put(q, i, q->heap[c]);
		i = c;
	}
	heap_put(q, i, it);
}

static void heap_push(struct wq *q, struct item *it)
{
	if (q->nheap == q->capheap) {
		q->capheap = q->capheap ? 2 * q->capheap : 16;
		q->heap = xrealloc(q->heap, q->capheap * sizeof(*q->heap));
	}
	heap_put(q, q->nheap++, it);
	sift_up(q, it->hidx);
}

/* Takes it, which is in the heap, out of it. */
static void heap_remove(struct wq *q, struct item *it)
{
	size_t i = it->hidx;
	struct item *last = q->heap[--q->nheap];
	it->hidx = NO_TIMER;
	if (last == it)
		return;
	heap_put(q, i, last);
	sift_up(q, i);
	sift_down(q, last->hidx);
}

/* Items */

/* key's item, made when absent and create is true; else NULL. */
static struct item *item_find(struct wq *q, const char *key, bool create)
{
	struct item *it = hmap_get(&q->items, key);
	if (it || !create)
		return it;
	it = xcalloc(1, sizeof(*it));
	it->key = xstrdup(key);
	it->hidx = NO_TIMER;
	hmap_set(&q->items, key, it);
	return it;
}

static void item_free(void *p)
{
	struct item *it = p;
	free(it->key);
	free(it);
}

/* Forgets it when it holds no state any more. */
static void item_release(struct wq *q, struct item *it)
{
	if (it->ready || it->processing || it->hidx != NO_TIMER || it->failures)
		return;
	hmap_del(&q->items, it->key);
	item_free(it);
}

/*
 * Makes it ready, or dirty when it is processing; nothing when it is one
 * of those already.  it is not in the heap.
 */
static void make_ready(struct wq *q, struct item *it)
{
	if (it->ready || it->dirty)
		return;
	if (it->processing) {
		it->dirty = true;
		return;
	}
	it->ready = true;
	it->next = NULL;
	if (q->tail)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->nready++;
	pthread_cond_signal(&q->cond); /* one getter per ready key */
}

/* Moves every delayed item due at or before now to the ready list. */
static void promote(struct wq *q, int64_t now)
{
	while (q->nheap && q->heap[0]->due <= now) {
		struct item *it = q->heap[0];
		heap_remove(q, it);
		make_ready(q, it);
	}
}

/* Hands out the head of the ready list: a new copy of its key. */
static char *take(struct wq *q)
{
	struct item *it = q->head;
	q->head = it->next;
	if (!q->head)
		q->tail = NULL;
	q->nready--;
	it->next = NULL;
	it->ready = false;
	it->processing = true;
	return xstrdup(it->key);
}

/* wq_add under q->mu: a pending delayed add gives way to this one. */
static void add_locked(struct wq *q, struct item *it)
{
	if (it->hidx != NO_TIMER)
		heap_remove(q, it);
	make_ready(q, it);
}

/* wq_add_after under q->mu, for it (which may be new: the caller releases it). */
static void add_after_locked(struct wq *q, struct item *it, int64_t delay_ms)
{
	if (delay_ms <= 0) {
		add_locked(q, it);
		return;
	}
	if (it->ready || it->dirty)
		return;
	if (delay_ms > MAX_DELAY)
		delay_ms = MAX_DELAY;
	int64_t due = now_ms(q) + delay_ms;
	if (it->hidx != NO_TIMER) {
		if (it->due <= due)
			return;
		it->due = due;
		sift_up(q, it->hidx);
	} else {
		it->due = due;
		it->seq = q->seq++;
		heap_push(q, it);
	}
	if (it->hidx == 0) /* a new earliest: sleeping getters recompute */
		pthread_cond_broadcast(&q->cond);
}

/* Per-key exponential backoff before the failures-th retry. */
static int64_t backoff_ms(int failures)
{
	if (failures >= 30)
		return BACKOFF_MAX;
	int64_t d = BACKOFF_BASE << failures;
	return d < BACKOFF_MAX ? d : BACKOFF_MAX;
}

/*
 * Takes one token from the bucket, which may go into debt, and returns
 * how long the taker waits for it: 0 while the burst lasts, then one
 * token's worth of time more for each taker after it.
 */
static int64_t bucket_take(struct wq *q)
{
	int64_t now = now_ms(q);
	if (now > q->credit_at) {
		q->credit += now - q->credit_at;
		if (q->credit > BUCKET_BURST * TOKEN_MS)
			q->credit = BUCKET_BURST * TOKEN_MS;
		q->credit_at = now;
	}
	q->credit -= TOKEN_MS;
	return q->credit >= 0 ? 0 : -q->credit;
}

/* Lifetime */

struct wq *wq_new(const char *name)
{
	struct wq *q = xcalloc(1, sizeof(*q));
	pthread_condattr_t ca;

	q->name = xstrdup(name);
	pthread_mutex_init(&q->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->cond, &ca);
	pthread_condattr_destroy(&ca);
	q->credit = BUCKET_BURST * TOKEN_MS;
	q->credit_at = mono_ms();
	return q;
}

void wq_free(struct wq *q)
{
	if (!q)
		return;
	hmap_clear(&q->items, item_free);
	free(q->heap);
	pthread_cond_destroy(&q->cond);
	pthread_mutex_destroy(&q->mu);
	free(q->name);
	free(q);
}

void wq_shutdown(struct wq *q)
{
	pthread_mutex_lock(&q->mu);
	if (!q->shut)
		log_debug("wq", "%s: shut down with %zu ready, %zu delayed", q->name, q->nready,
			  q->nheap);
	q->shut = true;
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->mu);
}

bool wq_is_shutdown(struct wq *q)
{
	pthread_mutex_lock(&q->mu);
	bool shut = q->shut;
	pthread_mutex_unlock(&q->mu);
	return shut;
}

/* Adding */

void wq_add(struct wq *q, const char *key)
{
	pthread_mutex_lock(&q->mu);
	if (!q->shut)
		add_locked(q, item_find(q, key, true));
	pthread_mutex_unlock(&q->mu);
}

void wq_add_after(struct wq *q, const char *key, int64_t delay_ms)
{
	pthread_mutex_lock(&q->mu);
	if (!q->shut) {
		struct item *it = item_find(q, key, true);
		add_after_locked(q, it, delay_ms);
		item_release(q, it); /* a no-op add of a new key leaves nothing */
	}
	pthread_mutex_unlock(&q->mu);
}

void wq_add_rate_limited(struct wq *q, const char *key)
{
	pthread_mutex_lock(&q->mu);
	if (!q->shut) {
		struct item *it = item_find(q, key, true);
		int64_t delay = backoff_ms(it->failures);
		int64_t wait = bucket_take(q);
		if (it->failures < INT_MAX)
			it->failures++;
		add_after_locked(q, it, delay > wait ? delay : wait);
	}
	pthread_mutex_unlock(&q->mu);
}

void wq_forget(struct wq *q, const char *key)
{
	pthread_mutex_lock(&q->mu);
	struct item *it = item_find(q, key, false);
	if (it) {
		it->failures = 0;
		item_release(q, it);
	}
	pthread_mutex_unlock(&q->mu);
}

int wq_retries(struct wq *q, const char *key)
{
	pthread_mutex_lock(&q->mu);
	struct item *it = item_find(q, key, false);
	int n = it ? it->failures : 0;
	pthread_mutex_unlock(&q->mu);
	return n;
}

/* Processing */

/*
 * Sleeps on q->cond until CLOCK_MONOTONIC reads wake_ms, or without a
 * limit when wake_ms < 0.  Spurious returns are fine: the caller loops.
 */
static void wait_until(struct wq *q, int64_t wake_ms)
{
	if (wake_ms < 0) {
		pthread_cond_wait(&q->cond, &q->mu);
		return;
	}
	struct timespec ts = {.tv_sec = wake_ms / 1000, .tv_nsec = (wake_ms % 1000) * 1000000};
	pthread_cond_timedwait(&q->cond, &q->mu, &ts);
}

/* wq_get (timeout_ms < 0) and wq_get_timeout. */
static char *get(struct wq *q, int timeout_ms)
{
	char *key = NULL;

	pthread_mutex_lock(&q->mu);
	int64_t end = timeout_ms >= 0 ? mono_ms() + timeout_ms : -1;
	while (!q->shut) {
		int64_t now = now_ms(q);
		promote(q, now);
		if (q->head) {
			key = take(q);
			break;
		}
		int64_t rnow = mono_ms();
		if (end >= 0 && rnow >= end)
			break;
		int64_t wake = end;
		if (q->nheap) {
			int64_t t = q->clock ? rnow + TEST_POLL_MS : rnow + (q->heap[0]->due - now);
			if (wake < 0 || t < wake)
				wake = t;
		}
		wait_until(q, wake);
	}
	pthread_mutex_unlock(&q->mu);
	return key;
}

char *wq_get(struct wq *q)
{
	return get(q, -1);
}

char *wq_get_timeout(struct wq *q, int timeout_ms)
{
	return get(q, timeout_ms < 0 ? 0 : timeout_ms);
}

void wq_done(struct wq *q, const char *key)
{
	pthread_mutex_lock(&q->mu);
	struct item *it = item_find(q, key, false);
	if (!it || !it->processing) {
		log_warn("wq", "%s: done with %s, which is not being processed", q->name, key);
	} else {
		it->processing = false;
		if (it->dirty) {
			it->dirty = false;
			make_ready(q, it);
		}
		item_release(q, it);
	}
	pthread_mutex_unlock(&q->mu);
}

size_t wq_len(struct wq *q)
{
	pthread_mutex_lock(&q->mu);
	promote(q, now_ms(q));
	size_t n = q->nready;
	pthread_mutex_unlock(&q->mu);
	return n;
}

/* Tests */

void wq_set_clock_for_test(struct wq *q, int64_t (*now)(void))
{
	pthread_mutex_lock(&q->mu);
	q->clock = now;
	q->credit_at = now_ms(q);
	pthread_cond_broadcast(&q->cond);
	pthread_mutex_unlock(&q->mu);
}
