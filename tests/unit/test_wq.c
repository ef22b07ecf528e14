/*
 * test_wq.c - unit tests of engine/wq: de-duplication, an add during
 * processing held back until wq_done, FIFO order, delayed adds (order,
 * earliest wins, a blocked getter woken when one comes due), per-key
 * backoff and its cap, the token bucket, wq_forget, wq_get_timeout,
 * shutdown, and a stress run asserting that no key is ever processed by
 * two workers at once and that no add is lost.
 *
 * Delay and backoff tests run on a fake clock that the test moves by
 * hand; only the timeout and wake-up tests sleep, for tens of ms.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/log.h"
#include "engine/client/wq.h"
#include "tests/unit/unit.h"

/* Helpers */

static _Atomic int64_t fake_ms;

static int64_t fake_clock(void)
{
	return atomic_load(&fake_ms);
}

/* A queue on the fake clock, which starts at 1000 ms. */
static struct wq *fake_wq(void)
{
	struct wq *q = wq_new("test");
	atomic_store(&fake_ms, 1000);
	wq_set_clock_for_test(q, fake_clock);
	return q;
}

static void advance(int64_t ms)
{
	atomic_fetch_add(&fake_ms, ms);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Takes a ready key without waiting; true when it is want.  Calls wq_done. */
static bool take_is(struct wq *q, const char *want)
{
	char *k = wq_get_timeout(q, 0);
	bool ok = k && strcmp(k, want) == 0;
	if (k)
		wq_done(q, k);
	free(k);
	return ok;
}

static void shut_free(struct wq *q)
{
	wq_shutdown(q);
	wq_free(q);
}

/* Tests */

static void test_dedupe(void)
{
	struct wq *q = wq_new("test");
	wq_add(q, "default/a");
	wq_add(q, "default/a");
	wq_add(q, "default/b");
	wq_add(q, "default/a");
	CHECK(wq_len(q) == 2);
	CHECK(take_is(q, "default/a"));
	CHECK(take_is(q, "default/b"));
	CHECK(wq_get_timeout(q, 0) == NULL);
	/* once done, the key can be queued again */
	wq_add(q, "default/a");
	CHECK(wq_len(q) == 1);
	CHECK(take_is(q, "default/a"));
	CHECK(wq_len(q) == 0);
	shut_free(q);
}

static void test_add_while_processing(void)
{
	struct wq *q = wq_new("test");
	wq_add(q, "a");
	char *k = wq_get_timeout(q, 0);
	CHECK(k && strcmp(k, "a") == 0);
	wq_add(q, "a");
	wq_add(q, "a");
	CHECK(wq_len(q) == 0); /* held back while processing */
	CHECK(wq_get_timeout(q, 0) == NULL);
	wq_done(q, k);
	free(k);
	CHECK(wq_len(q) == 1); /* and queued once at done */
	CHECK(take_is(q, "a"));
	CHECK(wq_len(q) == 0);
	CHECK(wq_get_timeout(q, 0) == NULL);
	/* negative control: done without an add in between queues nothing */
	wq_add(q, "b");
	CHECK(take_is(q, "b"));
	CHECK(wq_len(q) == 0);
	/* done on a key not being processed is ignored */
	wq_done(q, "b");
	wq_done(q, "never");
	CHECK(wq_len(q) == 0);
	shut_free(q);
}

static void test_fifo(void)
{
	struct wq *q = wq_new("test");
	const char *order[] = {"ns/c", "ns/a", "ns/b", "ns/d"};
	for (int i = 0; i < 4; i++)
		wq_add(q, order[i]);
	wq_add(q, "ns/a"); /* a duplicate keeps its first place */
	for (int i = 0; i < 4; i++)
		CHECK(take_is(q, order[i]));
	CHECK(wq_get_timeout(q, 0) == NULL);
	shut_free(q);
}

static void test_add_after_order(void)
{
	struct wq *q = fake_wq();
	wq_add_after(q, "x", 30);
	wq_add_after(q, "y", 10);
	wq_add_after(q, "z", 20);
	wq_add_after(q, "w", 20); /* same due as z, added later */
	advance(9);
	CHECK(wq_len(q) == 0);
	CHECK(wq_get_timeout(q, 0) == NULL);
	advance(1);
	CHECK(wq_len(q) == 1);
	advance(20);
	CHECK(wq_len(q) == 4);
	CHECK(take_is(q, "y"));
	CHECK(take_is(q, "z"));
	CHECK(take_is(q, "w"));
	CHECK(take_is(q, "x"));
	/* delay 0 is an add now */
	wq_add_after(q, "now", 0);
	CHECK(wq_len(q) == 1);
	CHECK(take_is(q, "now"));
	shut_free(q);
}

static void test_add_after_earliest_wins(void)
{
	struct wq *q = fake_wq();

	/* a later, shorter request wins */
	wq_add_after(q, "k", 100);
	wq_add_after(q, "k", 50);
	advance(49);
	CHECK(wq_len(q) == 0);
	advance(1);
	CHECK(wq_len(q) == 1);
	CHECK(take_is(q, "k"));

	/* a later, longer one is dropped: the key comes once, at the first time */
	wq_add_after(q, "k", 100);
	wq_add_after(q, "k", 200);
	advance(100);
	CHECK(wq_len(q) == 1);
	CHECK(take_is(q, "k"));
	advance(100);
	CHECK(wq_len(q) == 0);

	/* wq_add supersedes a pending delayed add */
	wq_add_after(q, "k", 100);
	wq_add(q, "k");
	CHECK(wq_len(q) == 1);
	CHECK(take_is(q, "k"));
	advance(100);
	CHECK(wq_len(q) == 0);

	/* a delayed add of a ready key does not queue it twice */
	wq_add(q, "k");
	wq_add_after(q, "k", 10);
	advance(10);
	CHECK(wq_len(q) == 1);
	CHECK(take_is(q, "k"));
	advance(10);
	CHECK(wq_len(q) == 0);

	/* coming due while processing: queued at done */
	wq_add(q, "k");
	char *k = wq_get_timeout(q, 0);
	CHECK(k != NULL);
	wq_add_after(q, "k", 10);
	advance(10);
	CHECK(wq_len(q) == 0);
	wq_done(q, "k");
	free(k);
	CHECK(wq_len(q) == 1);
	CHECK(take_is(q, "k"));
	shut_free(q);
}

static void test_backoff_cap_forget(void)
{
	struct wq *q = fake_wq();

	/* 5, 10, 20, 40, 80, 160 ms */
	for (int i = 0; i < 6; i++) {
		int64_t d = 5LL << i;
		wq_add_rate_limited(q, "k");
		CHECK(wq_retries(q, "k") == i + 1);
		advance(d - 1);
		CHECK(wq_len(q) == 0);
		advance(1);
		CHECK(wq_len(q) == 1);
		CHECK(take_is(q, "k"));
	}

	/* failures while a retry is pending count, but keep the earliest retry */
	for (int i = 6; i < 25; i++)
		wq_add_rate_limited(q, "k");
	CHECK(wq_retries(q, "k") == 25);
	advance(5LL << 6);
	CHECK(wq_len(q) == 1);
	CHECK(take_is(q, "k"));

	/* 5 ms * 2^25 is far past the cap: 1000 s */
	wq_add_rate_limited(q, "k");
	advance(999999);
	CHECK(wq_len(q) == 0);
	advance(1);
	CHECK(wq_len(q) == 1);
	CHECK(take_is(q, "k"));
	CHECK(wq_retries(q, "k") == 26);

	/* forget starts over at 5 ms, and the shorter retry replaces a long one */
	wq_add_rate_limited(q, "k");
	wq_forget(q, "k");
	CHECK(wq_retries(q, "k") == 0);
	wq_add_rate_limited(q, "k");
	CHECK(wq_retries(q, "k") == 1);
	advance(4);
	CHECK(wq_len(q) == 0);
	advance(1);
	CHECK(wq_len(q) == 1);
	CHECK(take_is(q, "k"));
	advance(1000000);
	CHECK(wq_len(q) == 0);

	/* keys have their own counts */
	CHECK(wq_retries(q, "other") == 0);
	wq_forget(q, "other");
	wq_forget(q, "k");
	shut_free(q);
}

static void test_token_bucket(void)
{
	struct wq *q = fake_wq();
	char key[32];

	/* 110 first failures at one instant: the burst of 100 go at 5 ms, then one per 100 ms */
	for (int i = 0; i < 110; i++) {
		snprintf(key, sizeof(key), "ns/k%d", i);
		wq_add_rate_limited(q, key);
	}
	advance(5);
	CHECK(wq_len(q) == 100);
	advance(94);
	CHECK(wq_len(q) == 100);
	advance(1);
	CHECK(wq_len(q) == 101);
	advance(99);
	CHECK(wq_len(q) == 101);
	advance(1);
	CHECK(wq_len(q) == 102);
	advance(800);
	CHECK(wq_len(q) == 110);
	for (int i = 0; i < 110; i++) {
		snprintf(key, sizeof(key), "ns/k%d", i);
		CHECK(take_is(q, key));
		wq_forget(q, key);
	}

	/* the bucket refills at 10/s: after 10 s it holds the full burst again */
	advance(10000);
	for (int i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "ns/k%d", i);
		wq_add_rate_limited(q, key);
		wq_forget(q, key);
	}
	advance(5);
	CHECK(wq_len(q) == 100);
	while (wq_len(q))
		free(wq_get_timeout(q, 0)); /* processing at shutdown: wq_free frees them */
	shut_free(q);
}

static void test_get_timeout(void)
{
	struct wq *q = wq_new("test");
	int64_t t0 = mono_ms();
	CHECK(wq_get_timeout(q, 0) == NULL);
	CHECK(mono_ms() - t0 < 20);

	t0 = mono_ms();
	CHECK(wq_get_timeout(q, 50) == NULL);
	int64_t took = mono_ms() - t0;
	CHECK(took >= 49 && took < 1000);
	CHECK(!wq_is_shutdown(q));

	/* a delayed key coming due ends the wait early, on the real clock */
	wq_add_after(q, "d", 30);
	t0 = mono_ms();
	char *k = wq_get_timeout(q, 5000);
	took = mono_ms() - t0;
	CHECK(k && strcmp(k, "d") == 0);
	CHECK(took >= 29 && took < 1000);
	if (k)
		wq_done(q, k);
	free(k);
	shut_free(q);
}

struct getter {
	struct wq *q;
	char *key;
	atomic_bool returned;
};

static void *getter_main(void *arg)
{
	struct getter *g = arg;
	g->key = wq_get(g->q);
	atomic_store(&g->returned, true);
	return NULL;
}

/* Joins t within 2 s; false (a failure, not a hang) when it is still blocked. */
static bool join_2s(pthread_t t)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 2;
	return pthread_timedjoin_np(t, NULL, &ts) == 0;
}

static void test_delayed_wakes_getter(void)
{
	struct getter g = {.q = wq_new("test")};
	pthread_t t;

	/* the getter sleeps with no timer; the new earliest due must wake it */
	pthread_create(&t, NULL, getter_main, &g);
	usleep(20000);
	CHECK(!atomic_load(&g.returned));
	int64_t t0 = mono_ms();
	wq_add_after(g.q, "late", 30);
	bool joined = join_2s(t);
	int64_t took = mono_ms() - t0;
	CHECK(joined);
	if (!joined) {
		wq_shutdown(g.q);
		pthread_join(t, NULL);
	}
	CHECK(g.key && strcmp(g.key, "late") == 0);
	CHECK(took >= 29 && took < 1000);
	if (g.key)
		wq_done(g.q, g.key);
	free(g.key);
	shut_free(g.q);
}

static void test_shutdown(void)
{
	struct getter g = {.q = wq_new("test")};
	pthread_t t;

	wq_add_after(g.q, "far", 3600 * 1000); /* the getter sleeps on a timer */
	pthread_create(&t, NULL, getter_main, &g);
	usleep(50000);
	CHECK(!atomic_load(&g.returned)); /* control: still blocked */
	wq_shutdown(g.q);
	bool joined = join_2s(t);
	CHECK(joined);
	CHECK(g.key == NULL);
	CHECK(wq_is_shutdown(g.q));
	if (joined)
		shut_free(g.q);
	else
		pthread_detach(t); /* still blocked in wq_get: leave it and the queue */

	/* after shutdown: gets return NULL at once even with keys ready, adds are dropped */
	struct wq *q = wq_new("test");
	wq_add(q, "a");
	wq_add(q, "b");
	char *k = wq_get(q);
	CHECK(k && strcmp(k, "a") == 0);
	wq_shutdown(q);
	CHECK(wq_get(q) == NULL);
	CHECK(wq_get_timeout(q, 1000) == NULL);
	wq_add(q, "c");
	wq_add_rate_limited(q, "d");
	CHECK(wq_len(q) == 1);
	CHECK(wq_retries(q, "d") == 0);
	wq_done(q, k); /* still allowed */
	free(k);
	wq_shutdown(q);
	wq_free(q);
}

/* Stress: 4 workers, 2 producers adding 10 keys 1,000 times in all. */

#define NKEYS	 10
#define NADDS	 1000
#define NWORKERS 4

static struct wq *sq;
static atomic_int in_use[NKEYS]; /* 1 while a worker holds the key */
static atomic_int gen[NKEYS];	 /* adds of the key so far */
static atomic_int seen[NKEYS];	 /* gen when a worker last took the key */
static atomic_int overlaps, processed, busy, peak_busy;

static void *worker_main(void *arg)
{
	char *key;
	while ((key = wq_get(sq))) {
		int k = atoi(key + 4);
		int b = atomic_fetch_add(&busy, 1) + 1;
		int p = atomic_load(&peak_busy);
		while (b > p && !atomic_compare_exchange_weak(&peak_busy, &p, b))
			;
		if (atomic_exchange(&in_use[k], 1))
			atomic_fetch_add(&overlaps, 1);
		atomic_store(&seen[k], atomic_load(&gen[k]));
		atomic_fetch_add(&processed, 1);
		usleep(20);
		atomic_store(&in_use[k], 0);
		atomic_fetch_sub(&busy, 1);
		wq_done(sq, key);
		free(key);
	}
	return NULL;
}

static void *producer_main(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	char key[16];
	for (int i = 0; i < NADDS / 2; i++) {
		int k = (int)(rand_r(&seed) % NKEYS);
		snprintf(key, sizeof(key), "key/%d", k);
		atomic_fetch_add(&gen[k], 1);
		wq_add(sq, key);
		if (i % 16 == 0)
			usleep(50);
	}
	return NULL;
}

static bool all_seen(void)
{
	for (int k = 0; k < NKEYS; k++)
		if (atomic_load(&seen[k]) != atomic_load(&gen[k]))
			return false;
	return true;
}

static void test_stress(void)
{
	pthread_t w[NWORKERS], p[2];

	sq = wq_new("stress");
	for (int i = 0; i < NWORKERS; i++)
		pthread_create(&w[i], NULL, worker_main, NULL);
	for (int i = 0; i < 2; i++)
		pthread_create(&p[i], NULL, producer_main, (void *)(uintptr_t)(i + 1));
	for (int i = 0; i < 2; i++)
		pthread_join(p[i], NULL);
	/* every add is followed by a take that saw it */
	for (int i = 0; i < 500 && !(all_seen() && wq_len(sq) == 0); i++)
		usleep(10000);
	CHECK(all_seen());
	wq_shutdown(sq);
	for (int i = 0; i < NWORKERS; i++)
		pthread_join(w[i], NULL);
	int total = 0;
	for (int k = 0; k < NKEYS; k++)
		total += atomic_load(&gen[k]);
	CHECK(total == NADDS);
	CHECK(atomic_load(&overlaps) == 0);
	CHECK(atomic_load(&processed) >= NKEYS && atomic_load(&processed) <= NADDS);
	printf("     stress: %d adds, %d syncs, up to %d workers at once, %d overlaps\n", total,
	       atomic_load(&processed), atomic_load(&peak_busy), atomic_load(&overlaps));
	wq_free(sq);
}

int main(void)
{
	log_level = LOG_ERROR; /* test_add_while_processing provokes a warning */
	RUN(test_dedupe);
	RUN(test_add_while_processing);
	RUN(test_fifo);
	RUN(test_add_after_order);
	RUN(test_add_after_earliest_wins);
	RUN(test_backoff_cap_forget);
	RUN(test_token_bucket);
	RUN(test_get_timeout);
	RUN(test_delayed_wakes_getter);
	RUN(test_shutdown);
	RUN(test_stress);
	return unit_done();
}
