/*
 * test_store.c - unit tests of engine/store: reads and writes, revisions,
 * group commit with per-request savepoints, reopening, watch from memory
 * and from the log, compaction, the dependents index, a failed commit,
 * and a process killed in the middle of writing.  Prints commits/s with
 * one and with eight writing threads.
 *
 * Each test works in its own database under a temporary directory that
 * main removes at the end.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/log.h"
#include "engine/mem.h"
#include "engine/store/store.h"
#include "tests/unit/unit.h"

static char tmpdir[] = "/tmp/test_store.XXXXXX";
static int dbseq;

/* Helpers */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A fresh database path in the temporary directory; the caller frees it. */
static char *new_path(void)
{
	return xasprintf("%s/db%d", tmpdir, ++dbseq);
}

static struct store *open_at(const char *path)
{
	struct store *st = NULL;
	_cleanup_err_ struct err *e = NULL;
	int rc = store_open(path, &st, &e);
	if (rc)
		fprintf(stderr, "  store_open: %s\n", e ? e->msg : "?");
	CHECK(rc == 0 && st);
	return st;
}

static json_t *mkobj(const char *name, int i, const char *owner1, const char *owner2)
{
	json_t *refs = json_array();
	if (owner1)
		json_array_append_new(refs, json_pack("{s:s}", "uid", owner1));
	if (owner2)
		json_array_append_new(refs, json_pack("{s:s}", "uid", owner2));
	return json_pack("{s:{s:s,s:o},s:{s:i}}", "metadata", "name", name, "ownerReferences", refs,
			 "spec", "i", i);
}

struct put_arg {
	const char *kind, *ns, *name;
	json_t *obj;
	bool user;
	int64_t rv;
};

static int put_fn(struct store_txn *tx, void *arg, struct err **e)
{
	struct put_arg *a = arg;
	a->rv = store_txn_put(tx, a->kind, a->ns, a->name, a->obj, a->user, e);
	return a->rv < 0 ? (int)a->rv : 0;
}

static int del_fn(struct store_txn *tx, void *arg, struct err **e)
{
	struct put_arg *a = arg;
	a->rv = store_txn_delete(tx, a->kind, a->ns, a->name, e);
	return a->rv < 0 ? (int)a->rv : 0;
}

/* Puts obj as kind/ns/name in its own transaction; the revision or -errno. */
static int64_t put(struct store *st, const char *kind, const char *ns, const char *name,
		   json_t *obj, bool user)
{
	struct put_arg a = {kind, ns, name, obj, user, 0};
	int rc = store_update(st, put_fn, &a, NULL);
	return rc < 0 ? rc : a.rv;
}

static int64_t del(struct store *st, const char *kind, const char *ns, const char *name)
{
	struct put_arg a = {kind, ns, name, NULL, false, 0};
	int rc = store_update(st, del_fn, &a, NULL);
	return rc < 0 ? rc : a.rv;
}

static int64_t obj_rv(const struct sobj *o)
{
	const char *s = json_string_value(
	    json_object_get(json_object_get(o->obj, "metadata"), "resourceVersion"));
	return s ? strtoll(s, NULL, 10) : -1;
}

static int spec_i(const struct sobj *o)
{
	return (int)json_integer_value(json_object_get(json_object_get(o->obj, "spec"), "i"));
}

/* Every event after `after` (none waited for); *out is new.  -errno on failure. */
static int64_t watch_all(struct store *st, int64_t after, struct store_event **out)
{
	size_t n = 0, cap = 0;
	struct store_event *v = NULL;
	for (;;) {
		if (n + 64 > cap) {
			cap = cap ? cap * 2 : 256;
			v = xrealloc(v, cap * sizeof(*v));
		}
		int got = store_watch(st, after, v + n, 64, 0, NULL);
		if (got < 0) {
			store_events_free(v, n);
			free(v);
			*out = NULL;
			return got;
		}
		if (!got)
			break;
		n += (size_t)got;
		after = v[n - 1].rv;
	}
	*out = v;
	return (int64_t)n;
}

static int64_t count_sql(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	int64_t v = -1;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
		if (sqlite3_step(s) == SQLITE_ROW)
			v = sqlite3_column_int64(s, 0);
		sqlite3_finalize(s);
	}
	sqlite3_close(db);
	return v;
}

/* Tests */

static void test_put_get_list_delete(void)
{
	_cleanup_free_ char *path = new_path();
	struct store *st = open_at(path);
	if (!st)
		return;
	CHECK(store_rev(st) == 0);
	CHECK(put(st, "Pod", "default", "b", mkobj("b", 2, NULL, NULL), true) == 1);
	CHECK(put(st, "Pod", "default", "a", mkobj("a", 1, NULL, NULL), true) == 2);
	CHECK(put(st, "Pod", "kube-system", "c", mkobj("c", 3, NULL, NULL), true) == 3);
	CHECK(put(st, "Node", "", "n1", mkobj("n1", 4, NULL, NULL), true) == 4);

	struct sobj *o = store_get(st, "Pod", "default", "a");
	CHECK(o && strcmp(o->name, "a") == 0 && strcmp(o->ns, "default") == 0 && o->rv == 2 &&
	      spec_i(o) == 1 && obj_rv(o) == 2);
	sobj_unref(o);
	CHECK(!store_get(st, "Pod", "default", "zz"));
	CHECK(!store_get(st, "Pod", "nope", "a"));
	CHECK(!store_get(st, "Service", "default", "a"));

	struct sobj **v;
	size_t n = store_list(st, "Pod", "default", &v);
	CHECK(n == 2 && strcmp(v[0]->name, "a") == 0 && strcmp(v[1]->name, "b") == 0);
	sobj_list_free(v, n);
	n = store_list(st, "Pod", NULL, &v);
	CHECK(n == 3 && strcmp(v[0]->name, "a") == 0 && strcmp(v[1]->name, "b") == 0 &&
	      strcmp(v[2]->ns, "kube-system") == 0);
	sobj_list_free(v, n);
	n = store_list(st, "Node", "", &v);
	CHECK(n == 1 && strcmp(v[0]->name, "n1") == 0);
	sobj_list_free(v, n);
	n = store_list(st, "Service", NULL, &v);
	CHECK(n == 0);
	sobj_list_free(v, n);

	CHECK(del(st, "Pod", "default", "b") == 5);
	CHECK(!store_get(st, "Pod", "default", "b"));
	CHECK(del(st, "Pod", "default", "b") == -ENOENT);
	CHECK(store_rev(st) == 5); /* the failed delete took no revision */
	n = store_list(st, "Pod", "default", &v);
	CHECK(n == 1 && strcmp(v[0]->name, "a") == 0);
	sobj_list_free(v, n);
	store_close(st);
}

static int bad_put_fn(struct store_txn *tx, void *arg, struct err **e)
{
	int64_t *rv = arg;
	rv[0] = store_txn_put(tx, "Pod", "default", "x", json_string("not an object"), true, e);
	rv[1] = store_txn_delete(tx, "Pod", "default", "missing", e);
	/* refused input is not a store failure: the request goes on */
	rv[2] = store_txn_put(tx, "Pod", "default", "y", mkobj("y", 1, NULL, NULL), true, e);
	return 0;
}

static void test_bad_input(void)
{
	struct store *st = NULL;
	_cleanup_err_ struct err *e = NULL;
	CHECK(store_open("/nonexistent-dir/state.db", &st, &e) < 0 && !st && e && e->msg[0]);
	_cleanup_free_ char *path = new_path();
	st = open_at(path);
	if (!st)
		return;
	int64_t rv[3];
	CHECK(store_update(st, bad_put_fn, rv, NULL) == 0);
	CHECK(rv[0] == -EINVAL && rv[1] == -ENOENT && rv[2] == 1);
	CHECK(store_rev(st) == 1);
	store_close(st);
}

static void test_revisions(void)
{
	_cleanup_free_ char *path = new_path();
	struct store *st = open_at(path);
	if (!st)
		return;
	int64_t last = 0;
	for (int i = 0; i < 30; i++) {
		char name[16];
		snprintf(name, sizeof(name), "p%d", i % 7);
		int64_t rv = put(st, "Pod", "default", name, mkobj(name, i, NULL, NULL), true);
		CHECK(rv > last);
		struct sobj *o = store_get(st, "Pod", "default", name);
		CHECK(o && o->rv == rv && obj_rv(o) == rv && spec_i(o) == i);
		sobj_unref(o);
		CHECK(store_rev(st) == rv);
		last = rv;
	}
	store_close(st);
}

static void test_user_rv(void)
{
	_cleanup_free_ char *path = new_path();
	struct store *st = open_at(path);
	if (!st)
		return;
	int64_t r1 = put(st, "Pod", "default", "a", mkobj("a", 1, NULL, NULL), true);
	int64_t r2 = put(st, "Pod", "default", "a", mkobj("a", 2, NULL, NULL), false);
	struct sobj *o = store_get(st, "Pod", "default", "a");
	CHECK(o && o->rv == r2 && o->user_rv == r1 && o->mtime_ns > 0);
	int64_t t2 = o ? o->mtime_ns : 0;
	sobj_unref(o);
	int64_t r3 = put(st, "Pod", "default", "a", mkobj("a", 3, NULL, NULL), true);
	o = store_get(st, "Pod", "default", "a");
	CHECK(o && o->rv == r3 && o->user_rv == r3 && o->mtime_ns >= t2);
	sobj_unref(o);
	put(st, "Pod", "default", "s", mkobj("s", 1, NULL, NULL), false);
	o = store_get(st, "Pod", "default", "s");
	CHECK(o && o->user_rv == 0); /* never written with user_change */
	sobj_unref(o);
	store_close(st);
}

struct overlay_arg {
	struct store *st;
	int ok; /* checks that passed */
};

static int overlay_fn(struct store_txn *tx, void *arg, struct err **e)
{
	struct overlay_arg *a = arg;
	int *ok = &a->ok;
	struct sobj **v;
	size_t n;
	*ok = 0;
	if (store_txn_put(tx, "Pod", "default", "a", mkobj("a", 1, NULL, NULL), true, e) < 0)
		return -EIO;
	struct sobj *o = store_txn_get(tx, "Pod", "default", "a");
	*ok += o && spec_i(o) == 1;
	sobj_unref(o);
	o = store_get(a->st, "Pod", "default", "a"); /* not committed yet */
	*ok += !o;
	sobj_unref(o);
	n = store_txn_list(tx, "Pod", "default", &v);
	*ok += n == 2 && strcmp(v[0]->name, "a") == 0 && strcmp(v[1]->name, "old") == 0;
	sobj_list_free(v, n);
	store_txn_delete(tx, "Pod", "default", "old", e);
	o = store_txn_get(tx, "Pod", "default", "old");
	*ok += !o;
	n = store_txn_list(tx, "Pod", NULL, &v);
	*ok += n == 1 && strcmp(v[0]->name, "a") == 0;
	sobj_list_free(v, n);
	store_txn_put(tx, "Pod", "default", "b", mkobj("b", 2, "U", NULL), true, e);
	n = store_txn_dependents(tx, "U", &v);
	*ok += n == 1 && strcmp(v[0]->name, "b") == 0;
	sobj_list_free(v, n);
	return 0;
}

static void test_txn_overlay(void)
{
	_cleanup_free_ char *path = new_path();
	struct store *st = open_at(path);
	if (!st)
		return;
	put(st, "Pod", "default", "old", mkobj("old", 0, "U", NULL), true);
	struct overlay_arg a = {st, 0};
	CHECK(store_update(st, overlay_fn, &a, NULL) == 0);
	CHECK(a.ok == 6);
	struct sobj *o = store_get(st, "Pod", "default", "a");
	CHECK(o && o->rv == 2);
	sobj_unref(o);
	CHECK(!store_get(st, "Pod", "default", "old"));
	struct sobj **v;
	size_t n = store_dependents(st, "U", &v);
	CHECK(n == 1 && strcmp(v[0]->name, "b") == 0 && v[0]->rv == 4);
	sobj_list_free(v, n);
	store_close(st);
}

static int reenter_fn(struct store_txn *tx, void *arg, struct err **e)
{
	return store_update(arg, put_fn, NULL, e);
}

static void test_reentry_refused(void)
{
	_cleanup_free_ char *path = new_path();
	struct store *st = open_at(path);
	if (!st)
		return;
	_cleanup_err_ struct err *e = NULL;
	CHECK(store_update(st, reenter_fn, st, &e) == -EDEADLK && e && e->code == EDEADLK);
	store_close(st);
}

/* Group commit: one batch, one failing request, one committing request */

struct batch_arg {
	struct store *st;
	const char *name;
	int fail;	  /* fn returns -EINVAL after its put */
	int block_ms;	  /* fn sleeps this long (to let others queue) */
	int fail_commits; /* fn arms the commit fault injection */
	int started;	  /* atomic */
	uint64_t batch;	  /* store_batches_for_test seen by fn */
	int64_t rv;
	int rc;
	struct err *err;
	bool saw_other; /* fn saw the object "bad" */
};

static int batch_fn(struct store_txn *tx, void *arg, struct err **e)
{
	struct batch_arg *a = arg;
	__atomic_store_n(&a->started, 1, __ATOMIC_RELEASE);
	a->batch = __atomic_load_n(&store_batches_for_test, __ATOMIC_RELAXED);
	struct sobj *o = store_txn_get(tx, "Pod", "default", "bad");
	a->saw_other = o != NULL;
	sobj_unref(o);
	a->rv =
	    store_txn_put(tx, "Pod", "default", a->name, mkobj(a->name, 1, NULL, NULL), true, e);
	if (a->block_ms)
		usleep((useconds_t)a->block_ms * 1000);
	if (a->fail_commits)
		store_fail_commit_for_test = a->fail_commits;
	if (a->fail)
		return err_make(e, EINVAL, "pod %s: refused by the test", a->name);
	return 0;
}

static void *batch_thread(void *p)
{
	struct batch_arg *a = p;
	a->rc = store_update(a->st, batch_fn, a, &a->err);
	return NULL;
}

static void test_failing_request_in_batch(void)
{
	_cleanup_free_ char *path = new_path();
	struct store *st = open_at(path);
	if (!st)
		return;
	struct batch_arg blk = {.st = st, .name = "blocker", .block_ms = 150};
	struct batch_arg bad = {.st = st, .name = "bad", .fail = 1};
	struct batch_arg good = {.st = st, .name = "good"};
	pthread_t t0, t1, t2;
	pthread_create(&t0, NULL, batch_thread, &blk);
	while (!__atomic_load_n(&blk.started, __ATOMIC_ACQUIRE))
		usleep(1000);
	pthread_create(&t1, NULL, batch_thread, &bad);
	usleep(30000); /* "bad" queues first */
	pthread_create(&t2, NULL, batch_thread, &good);
	pthread_join(t0, NULL);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);

	CHECK(blk.rc == 0 && blk.rv == 1);
	CHECK(bad.rc == -EINVAL && bad.err && strstr(bad.err->msg, "refused"));
	CHECK(good.rc == 0 && !good.err);
	CHECK(bad.batch == good.batch); /* one batch (the blocker's, as late joiners) */
	CHECK(!good.saw_other);		/* the failed request's write was rolled back */
	CHECK(good.rv == 2);		/* and its revision handed out again */
	struct sobj *o = store_get(st, "Pod", "default", "bad");
	CHECK(!o);
	sobj_unref(o);
	o = store_get(st, "Pod", "default", "good");
	CHECK(o && o->rv == 2);
	sobj_unref(o);
	CHECK(count_sql(path, "SELECT count(*) FROM objects WHERE name = 'bad'") == 0);
	CHECK(count_sql(path, "SELECT count(*) FROM log") == 2);
	err_free(bad.err);
	err_free(good.err);
	store_close(st);
}

/* A batch whose commit fails: every request in it fails, nothing is applied. */
static void test_failed_commit_batch(void)
{
	_cleanup_free_ char *path = new_path();
	struct store *st = open_at(path);
	if (!st)
		return;
	int64_t r0 = put(st, "Pod", "default", "x", mkobj("x", 1, NULL, NULL), true);
	struct batch_arg blk = {.st = st, .name = "b0", .block_ms = 100, .fail_commits = 1};
	struct batch_arg a1 = {.st = st, .name = "b1"};
	struct batch_arg a2 = {.st = st, .name = "b2"};
	pthread_t t0, t1, t2;
	pthread_create(&t0, NULL, batch_thread, &blk);
	while (!__atomic_load_n(&blk.started, __ATOMIC_ACQUIRE))
		usleep(1000);
	pthread_create(&t1, NULL, batch_thread, &a1);
	pthread_create(&t2, NULL, batch_thread, &a2);
	pthread_join(t0, NULL);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	CHECK(blk.rc == -EIO && a1.rc == -EIO && a2.rc == -EIO);
	CHECK(a1.err && a1.err->code == EIO && a1.batch == a2.batch && a1.batch == blk.batch);
	CHECK(store_fail_commit_for_test == 0);
	CHECK(store_rev(st) == r0);
	struct sobj **v;
	size_t n = store_list(st, "Pod", NULL, &v);
	CHECK(n == 1);
	sobj_list_free(v, n);
	struct store_event ev[4];
	CHECK(store_watch(st, r0, ev, 4, 0, NULL) == 0);
	CHECK(put(st, "Pod", "default", "y", mkobj("y", 1, NULL, NULL), true) == r0 + 1);
	err_free(blk.err);
	err_free(a1.err);
	err_free(a2.err);
	store_close(st);
}

/* Fault injection: a failed commit leaves the index and the disk as they were. */
static int two_puts_fn(struct store_txn *tx, void *arg, struct err **e)
{
	if (store_txn_put(tx, "Pod", "default", "x", mkobj("x", 2, NULL, NULL), true, e) < 0 ||
	    store_txn_put(tx, "Pod", "default", "y", mkobj("y", 2, NULL, NULL), true, e) < 0 ||
	    store_txn_delete(tx, "Pod", "default", "z", e) < 0)
		return -EIO;
	return 0;
}

static void test_failed_commit(void)
{
	_cleanup_free_ char *path = new_path();
	struct store *st = open_at(path);
	if (!st)
		return;
	put(st, "Pod", "default", "x", mkobj("x", 1, NULL, NULL), true);
	int64_t r0 = put(st, "Pod", "default", "z", mkobj("z", 1, NULL, NULL), true);
	store_fail_commit_for_test = 1;
	_cleanup_err_ struct err *e = NULL;
	CHECK(store_update(st, two_puts_fn, NULL, &e) == -EIO && e && e->code == EIO);
	CHECK(store_rev(st) == r0);
	struct sobj *o = store_get(st, "Pod", "default", "x");
	CHECK(o && o->rv == 1 && spec_i(o) == 1);
	sobj_unref(o);
	o = store_get(st, "Pod", "default", "z");
	CHECK(o != NULL);
	sobj_unref(o);
	CHECK(!store_get(st, "Pod", "default", "y"));
	store_close(st);
	CHECK(count_sql(path, "SELECT count(*) FROM log") == r0);
	CHECK(count_sql(path, "SELECT count(*) FROM objects WHERE name = 'y'") == 0);
	st = open_at(path);
	if (!st)
		return;
	CHECK(store_rev(st) == r0);
	o = store_get(st, "Pod", "default", "x");
	CHECK(o && o->rv == 1);
	sobj_unref(o);
	CHECK(!store_get(st, "Pod", "default", "y"));
	CHECK(put(st, "Pod", "default", "y", mkobj("y", 3, NULL, NULL), true) == r0 + 1);
	store_close(st);
}

/* Many writers */

struct writer_arg {
	struct store *st;
	int id, count;
	int64_t *rvs;
	int failures;
};

static void *writer_thread(void *p)
{
	struct writer_arg *w = p;
	for (int i = 0; i < w->count; i++) {
		char name[32];
		snprintf(name, sizeof(name), "t%d-%d", w->id, i);
		int64_t rv = put(w->st, "Pod", "default", name, mkobj(name, i, NULL, NULL), true);
		if (rv <= 0)
			w->failures++;
		w->rvs[i] = rv;
	}
	return NULL;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

/* nthreads threads each put count objects; returns commits/s. */
static double run_writers(struct store *st, int nthreads, int count, int64_t *rvs, int *failures)
{
	pthread_t t[16];
	struct writer_arg w[16];
	double t0 = now_s();
	for (int i = 0; i < nthreads; i++) {
		w[i] = (struct writer_arg){st, i, count, rvs + (size_t)i * count, 0};
		pthread_create(&t[i], NULL, writer_thread, &w[i]);
	}
	*failures = 0;
	for (int i = 0; i < nthreads; i++) {
		pthread_join(t[i], NULL);
		*failures += w[i].failures;
	}
	return nthreads * count / (now_s() - t0);
}

static void test_concurrent_writers(void)
{
	_cleanup_free_ char *path = new_path();
	struct store *st = open_at(path);
	if (!st)
		return;
	enum { T = 8, N = 500 };
	int64_t *rvs = xcalloc(T * N, sizeof(*rvs));
	int failures;
	uint64_t b0 = __atomic_load_n(&store_batches_for_test, __ATOMIC_RELAXED);
	run_writers(st, T, N, rvs, &failures);
	uint64_t batches = __atomic_load_n(&store_batches_for_test, __ATOMIC_RELAXED) - b0;
	CHECK(failures == 0);
	qsort(rvs, T * N, sizeof(*rvs), cmp_i64);
	bool gapless = true;
	for (int i = 0; i < T * N; i++)
		gapless &= rvs[i] == i + 1;
	CHECK(gapless);
	CHECK(store_rev(st) == T * N);
	struct sobj **v;
	size_t n = store_list(st, "Pod", "default", &v);
	CHECK(n == T * N);
	sobj_list_free(v, n);
	CHECK(count_sql(path, "SELECT count(*) FROM log") == T * N);
	CHECK(count_sql(path, "SELECT max(rv) - min(rv) + 1 FROM log") == T * N);
	CHECK(count_sql(path, "SELECT count(DISTINCT rv) FROM log") == T * N);
	CHECK(count_sql(path, "SELECT value FROM meta WHERE key = 'rev'") == T * N);
	printf("  %d updates from %d threads in %" PRIu64 " batches\n", T * N, T, batches);
	free(rvs);
	store_close(st);
}

static void test_reopen(void)
{
	_cleanup_free_ char *path = new_path();
	struct store *st = open_at(path);
	if (!st)
		return;
	put(st, "Pod", "default", "a", mkobj("a", 1, "U", NULL), true);
	put(st, "Pod", "default", "b", mkobj("b", 2, NULL, NULL), true);
	put(st, "Pod", "default", "a", mkobj("a", 3, "U", NULL), false);
	del(st, "Pod", "default", "b");
	put(st, "Deployment", "web", "d", mkobj("d", 4, NULL, NULL), true);
	del(st, "Deployment", "web", "d"); /* the newest revision is a delete */
	int64_t rev = store_rev(st);
	struct sobj *before = store_get(st, "Pod", "default", "a");
	store_close(st);

	st = open_at(path);
	if (!st) {
		sobj_unref(before);
		return;
	}
	CHECK(store_rev(st) == rev && rev == 6);
	struct sobj *o = store_get(st, "Pod", "default", "a");
	CHECK(o && before && o->rv == before->rv && o->user_rv == before->user_rv &&
	      o->user_rv == 1 && o->mtime_ns == before->mtime_ns && spec_i(o) == 3 &&
	      json_equal(o->obj, before->obj));
	sobj_unref(o);
	sobj_unref(before);
	CHECK(!store_get(st, "Pod", "default", "b"));
	struct sobj **v;
	size_t n = store_list(st, "Deployment", NULL, &v);
	CHECK(n == 0);
	sobj_list_free(v, n);
	n = store_dependents(st, "U", &v);
	CHECK(n == 1 && strcmp(v[0]->name, "a") == 0);
	sobj_list_free(v, n);
	CHECK(put(st, "Pod", "default", "c", mkobj("c", 5, NULL, NULL), true) == rev + 1);
	store_close(st);
}

/* Watch */

/* Writes the sequence the watch tests expect; returns the last revision. */
static int64_t watch_script(struct store *st)
{
	put(st, "Pod", "default", "a", mkobj("a", 1, NULL, NULL), true);  /* 1 ADDED */
	put(st, "Pod", "default", "a", mkobj("a", 2, NULL, NULL), false); /* 2 MODIFIED */
	put(st, "Pod", "default", "b", mkobj("b", 3, NULL, NULL), true);  /* 3 ADDED */
	del(st, "Pod", "default", "a");					  /* 4 DELETED */
	int64_t rv = 0;
	for (int i = 0; i < 196; i++) { /* 5..200 */
		char name[16];
		snprintf(name, sizeof(name), "w%d", i % 10);
		rv = put(st, "Pod", "default", name, mkobj(name, i, NULL, NULL), true);
	}
	return rv;
}

/* Checks that evs are revisions after+1 ... in order, and the script's events. */
static void check_script_events(struct store_event *evs, int64_t n, int64_t after)
{
	bool ordered = true;
	for (int64_t i = 0; i < n; i++)
		ordered &= evs[i].rv == after + 1 + i && evs[i].obj;
	CHECK(ordered);
	if (after == 0 && n >= 4) {
		CHECK(evs[0].type == STORE_ADDED && strcmp(evs[0].obj->name, "a") == 0);
		CHECK(evs[1].type == STORE_MODIFIED && evs[1].obj->rv == 2 &&
		      spec_i(evs[1].obj) == 2);
		CHECK(evs[2].type == STORE_ADDED && strcmp(evs[2].obj->name, "b") == 0);
		/* DELETED carries the last state, with its old revision */
		CHECK(evs[3].type == STORE_DELETED && strcmp(evs[3].obj->name, "a") == 0 &&
		      evs[3].obj->rv == 2 && obj_rv(evs[3].obj) == 2);
	}
	if (n > 0)
		CHECK(obj_rv(evs[n - 1].obj) == evs[n - 1].rv);
}

static void test_watch_from_memory_and_log(void)
{
	_cleanup_free_ char *path = new_path();
	struct store *st = open_at(path);
	if (!st)
		return;
	int64_t last = watch_script(st);
	CHECK(last == 200);
	struct store_event *evs;
	int64_t n = watch_all(st, 0, &evs);
	CHECK(n == 200);
	check_script_events(evs, n, 0);
	store_events_free(evs, (size_t)(n > 0 ? n : 0));
	free(evs);

	n = watch_all(st, 120, &evs); /* resume from the middle */
	CHECK(n == 80);
	check_script_events(evs, n, 120);
	store_events_free(evs, (size_t)(n > 0 ? n : 0));
	free(evs);

	struct store_event ev[8];
	CHECK(store_watch(st, last, ev, 8, 0, NULL) == 0); /* nothing after the newest */
	CHECK(store_watch(st, 195, ev, 3, 0, NULL) == 3 && ev[0].rv == 196 && ev[2].rv == 198);
	store_events_free(ev, 3);
	store_close(st);

	/* After a restart the ring is empty: old events come from the log table */
	st = open_at(path);
	if (!st)
		return;
	n = watch_all(st, 0, &evs);
	CHECK(n == 200);
	check_script_events(evs, n, 0);
	store_events_free(evs, (size_t)(n > 0 ? n : 0));
	free(evs);
	n = watch_all(st, 150, &evs);
	CHECK(n == 50);
	check_script_events(evs, n, 150);
	store_events_free(evs, (size_t)(n > 0 ? n : 0));
	free(evs);
	/* then new events continue from memory, without a gap */
	put(st, "Pod", "default", "new", mkobj("new", 1, NULL, NULL), true);
	n = watch_all(st, 195, &evs);
	CHECK(n == 6 && evs[5].rv == 201 && strcmp(evs[5].obj->name, "new") == 0);
	check_script_events(evs, n, 195);
	store_events_free(evs, (size_t)(n > 0 ? n : 0));
	free(evs);
	store_close(st);
}

struct range_arg {
	int from, to;
};

static int range_fn(struct store_txn *tx, void *arg, struct err **e)
{
	struct range_arg *a = arg;
	for (int i = a->from; i < a->to; i++) {
		char name[16];
		snprintf(name, sizeof(name), "r%d", i % 100);
		if (store_txn_put(tx, "Pod", "default", name, mkobj(name, i, NULL, NULL), true, e) <
		    0)
			return -EIO;
	}
	return 0;
}

/* More events than the ring holds: old ones from the log, then the ring. */
static void test_watch_ring_wrap(void)
{
	_cleanup_free_ char *path = new_path();
	struct store *st = open_at(path);
	if (!st)
		return;
	enum { N = 70000 }; /* > the ring's 65536 */
	for (int i = 0; i < N; i += 5000) {
		struct range_arg a = {i, i + 5000};
		CHECK(store_update(st, range_fn, &a, NULL) == 0);
	}
	CHECK(store_rev(st) == N);
	struct store_event *evs;
	int64_t n = watch_all(st, 0, &evs);
	bool ok = n == N;
	for (int64_t i = 0; ok && i < n; i++)
		ok = evs[i].rv == i + 1 && spec_i(evs[i].obj) == (int)i &&
		     evs[i].type == (i < 100 ? STORE_ADDED : STORE_MODIFIED);
	CHECK(ok);
	store_events_free(evs, (size_t)(n > 0 ? n : 0));
	free(evs);
	struct store_event ev[4];
	CHECK(store_watch(st, 1000, ev, 4, 0, NULL) == 4 && ev[0].rv == 1001 && ev[3].rv == 1004);
	store_events_free(ev, 4);
	CHECK(store_watch(st, N - 2, ev, 4, 0, NULL) == 2 && ev[1].rv == N);
	store_events_free(ev, 2);
	store_close(st);
}

static void test_watch_timeout(void)
{
	_cleanup_free_ char *path = new_path();
	struct store *st = open_at(path);
	if (!st)
		return;
	put(st, "Pod", "default", "a", mkobj("a", 1, NULL, NULL), true);
	struct store_event ev[4];
	double t0 = now_s();
	CHECK(store_watch(st, 1, ev, 4, 150, NULL) == 0);
	double dt = now_s() - t0;
	CHECK(dt >= 0.14 && dt < 2.0);
	t0 = now_s();
	CHECK(store_watch(st, 1, ev, 4, 0, NULL) == 0);
	CHECK(now_s() - t0 < 0.05);
	/* negative control: with an event there, no waiting */
	CHECK(store_watch(st, 0, ev, 4, 150, NULL) == 1 && ev[0].rv == 1);
	store_events_free(ev, 1);
	store_close(st);
}

struct waiter {
	struct store *st;
	int64_t after;
	int timeout_ms;
	int finished; /* atomic */
	int rc;
	struct store_event ev[4];
};

static void *waiter_thread(void *p)
{
	struct waiter *w = p;
	w->rc = store_watch(w->st, w->after, w->ev, 4, w->timeout_ms, NULL);
	__atomic_store_n(&w->finished, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_watch_wakes_on_commit(void)
{
	_cleanup_free_ char *path = new_path();
	struct store *st = open_at(path);
	if (!st)
		return;
	put(st, "Pod", "default", "a", mkobj("a", 1, NULL, NULL), true);
	struct waiter w = {.st = st, .after = 1, .timeout_ms = -1};
	pthread_t t;
	pthread_create(&t, NULL, waiter_thread, &w);
	usleep(100000);
	CHECK(!__atomic_load_n(&w.finished, __ATOMIC_ACQUIRE)); /* it waits while nothing happens */
	put(st, "Pod", "default", "b", mkobj("b", 2, NULL, NULL), true);
	pthread_join(t, NULL);
	CHECK(w.rc == 1 && w.ev[0].rv == 2 && w.ev[0].type == STORE_ADDED &&
	      strcmp(w.ev[0].obj->name, "b") == 0);
	store_events_free(w.ev, w.rc > 0 ? (size_t)w.rc : 0);

	/* a waiter with a long timeout wakes too, and reports the delete */
	struct waiter w2 = {.st = st, .after = 2, .timeout_ms = 10000};
	pthread_create(&t, NULL, waiter_thread, &w2);
	usleep(50000);
	double t0 = now_s();
	del(st, "Pod", "default", "a");
	pthread_join(t, NULL);
	CHECK(w2.rc == 1 && w2.ev[0].rv == 3 && w2.ev[0].type == STORE_DELETED);
	CHECK(now_s() - t0 < 1.0);
	store_events_free(w2.ev, w2.rc > 0 ? (size_t)w2.rc : 0);
	store_close(st);
}

static void test_wake_watchers(void)
{
	_cleanup_free_ char *path = new_path();
	struct store *st = open_at(path);
	if (!st)
		return;
	struct waiter w = {.st = st, .after = 0, .timeout_ms = -1};
	pthread_t t;
	pthread_create(&t, NULL, waiter_thread, &w);
	usleep(100000);
	CHECK(!__atomic_load_n(&w.finished, __ATOMIC_ACQUIRE));
	store_wake_watchers(st);
	pthread_join(t, NULL);
	CHECK(w.rc == 0);
	/* and later watchers don't wait at all */
	struct store_event ev[2];
	double t0 = now_s();
	CHECK(store_watch(st, 0, ev, 2, 5000, NULL) == 0);
	CHECK(now_s() - t0 < 1.0);
	store_close(st);
}

/* store_close wakes a waiter and waits until it has left. */
static void test_close_wakes_watchers(void)
{
	_cleanup_free_ char *path = new_path();
	struct store *st = open_at(path);
	if (!st)
		return;
	struct waiter w = {.st = st, .after = 0, .timeout_ms = -1};
	pthread_t t;
	pthread_create(&t, NULL, waiter_thread, &w);
	usleep(50000);
	store_close(st); /* returns once the waiter has left store_watch */
	pthread_join(t, NULL);
	CHECK(w.rc == 0);
}

static void test_compaction(void)
{
	_cleanup_free_ char *path = new_path();
	store_log_keep_for_test = 10;
	struct store *st = open_at(path);
	if (!st)
		goto out;
	for (int i = 0; i < 100; i++)
		put(st, "Pod", "default", "a", mkobj("a", i, NULL, NULL), true);
	int64_t kept = count_sql(path, "SELECT count(*) FROM log");
	int64_t oldest = count_sql(path, "SELECT min(rv) FROM log");
	CHECK(kept >= 10 && kept <= 12);
	CHECK(count_sql(path, "SELECT max(rv) FROM log") == 100);
	struct store_event ev[16];
	_cleanup_err_ struct err *e = NULL;
	CHECK(store_watch(st, 0, ev, 16, 0, &e) == -ERANGE && e && e->code == ERANGE);
	CHECK(store_watch(st, oldest - 2, ev, 16, 0, NULL) == -ERANGE);
	int n = store_watch(st, oldest - 1, ev, 16, 0, NULL); /* the oldest kept is fine */
	CHECK(n == (int)kept && ev[0].rv == oldest);
	store_events_free(ev, n > 0 ? (size_t)n : 0);
	n = store_watch(st, 95, ev, 16, 0, NULL);
	CHECK(n == 5 && ev[0].rv == 96);
	store_events_free(ev, n > 0 ? (size_t)n : 0);
	store_close(st);

	st = open_at(path); /* and the same from the log table */
	if (!st)
		goto out;
	CHECK(store_watch(st, 0, ev, 16, 0, NULL) == -ERANGE);
	n = store_watch(st, 95, ev, 16, 0, NULL);
	CHECK(n == 5 && ev[0].rv == 96 && ev[4].rv == 100);
	store_events_free(ev, n > 0 ? (size_t)n : 0);
	CHECK(store_rev(st) == 100);
	store_close(st);
out:
	store_log_keep_for_test = 0;
}

static void test_dependents(void)
{
	_cleanup_free_ char *path = new_path();
	struct store *st = open_at(path);
	if (!st)
		return;
	put(st, "Pod", "default", "p1", mkobj("p1", 1, "U1", NULL), true);
	put(st, "Pod", "default", "p2", mkobj("p2", 1, "U1", "U2"), true);
	put(st, "ReplicaSet", "default", "rs", mkobj("rs", 1, "U1", "U1"), true);
	put(st, "Pod", "default", "lone", mkobj("lone", 1, NULL, NULL), true);
	struct sobj **v;
	size_t n = store_dependents(st, "U1", &v);
	CHECK(n == 3 && strcmp(v[0]->kind, "Pod") == 0 && strcmp(v[1]->name, "p2") == 0 &&
	      strcmp(v[2]->kind, "ReplicaSet") == 0);
	sobj_list_free(v, n);
	n = store_dependents(st, "U2", &v);
	CHECK(n == 1 && strcmp(v[0]->name, "p2") == 0);
	sobj_list_free(v, n);
	n = store_dependents(st, "nobody", &v);
	CHECK(n == 0);
	sobj_list_free(v, n);

	put(st, "Pod", "default", "p2", mkobj("p2", 2, "U2", NULL), true); /* drops U1 */
	n = store_dependents(st, "U1", &v);
	CHECK(n == 2 && strcmp(v[0]->name, "p1") == 0 && strcmp(v[1]->name, "rs") == 0);
	sobj_list_free(v, n);
	n = store_dependents(st, "U2", &v);
	CHECK(n == 1 && spec_i(v[0]) == 2); /* the new state */
	sobj_list_free(v, n);

	del(st, "Pod", "default", "p1");
	del(st, "ReplicaSet", "default", "rs");
	n = store_dependents(st, "U1", &v);
	CHECK(n == 0);
	sobj_list_free(v, n);
	store_close(st);

	st = open_at(path);
	if (!st)
		return;
	n = store_dependents(st, "U2", &v);
	CHECK(n == 1 && strcmp(v[0]->name, "p2") == 0);
	sobj_list_free(v, n);
	n = store_dependents(st, "U1", &v);
	CHECK(n == 0);
	sobj_list_free(v, n);
	store_close(st);
}

static int many_fn(struct store_txn *tx, void *arg, struct err **e)
{
	int n = *(int *)arg;
	for (int i = 0; i < n; i++) {
		char name[32];
		snprintf(name, sizeof(name), "pod-%05d", (i * 7919) % n);
		if (store_txn_put(tx, "Pod", "big", name, mkobj(name, i, NULL, NULL), true, e) < 0)
			return -EIO;
	}
	return 0;
}

static void test_list_10000(void)
{
	_cleanup_free_ char *path = new_path();
	struct store *st = open_at(path);
	if (!st)
		return;
	int n = 10000;
	CHECK(store_update(st, many_fn, &n, NULL) == 0);
	put(st, "Pod", "small", "x", mkobj("x", 1, NULL, NULL), true);
	struct sobj **v;
	double t0 = now_s();
	size_t got = store_list(st, "Pod", "big", &v);
	double dt = now_s() - t0;
	bool sorted = got == 10000;
	for (size_t i = 1; sorted && i < got; i++)
		sorted = strcmp(v[i - 1]->name, v[i]->name) < 0;
	CHECK(sorted);
	sobj_list_free(v, got);
	t0 = now_s();
	got = store_list(st, "Pod", "small", &v);
	double dt_small = now_s() - t0;
	CHECK(got == 1);
	sobj_list_free(v, got);
	put(st, "Pod", "a-first", "z", mkobj("z", 1, NULL, NULL), true);
	got = store_list(st, "Pod", NULL, &v); /* every namespace: by namespace, then name */
	sorted = got == 10002 && strcmp(v[0]->ns, "a-first") == 0 &&
		 strcmp(v[got - 1]->ns, "small") == 0;
	for (size_t i = 2; sorted && i < got - 1; i++)
		sorted = strcmp(v[i]->ns, "big") == 0 && strcmp(v[i - 1]->name, v[i]->name) < 0;
	CHECK(sorted);
	sobj_list_free(v, got);
	printf("  list of 10000: %.2f ms; list of 1 beside them: %.3f ms\n", dt * 1e3,
	       dt_small * 1e3);
	CHECK(dt < 0.25); /* catches a quadratic list, even under sanitizers */
	store_close(st);
}

/* Durability: every revision acknowledged before SIGKILL is there after. */
static void child_writer(const char *path, int fd)
{
	struct store *st = NULL;
	if (store_open(path, &st, NULL))
		_exit(2);
	for (int i = 0; i < 1000000; i++) {
		char name[32], line[64];
		snprintf(name, sizeof(name), "k%d", i);
		int64_t rv = put(st, "Pod", "default", name, mkobj(name, i, NULL, NULL), true);
		if (rv <= 0)
			_exit(3);
		int len = snprintf(line, sizeof(line), "%d %" PRId64 "\n", i, rv);
		if (write(fd, line, (size_t)len) != len)
			_exit(4);
	}
	_exit(0);
}

static void test_durability_kill(void)
{
	_cleanup_free_ char *path = new_path();
	int p[2];
	CHECK(pipe(p) == 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		child_writer(path, p[1]);
	}
	close(p[1]);
	FILE *f = fdopen(p[0], "r");
	int acked = 0, idx[4096];
	int64_t rvs[4096];
	while (acked < 300 && fscanf(f, "%d %" SCNd64, &idx[acked], &rvs[acked]) == 2)
		acked++;
	kill(pid, SIGKILL);
	int status;
	waitpid(pid, &status, 0);
	CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	/* acknowledgements already in the pipe count too */
	while (acked < 4096 && fscanf(f, "%d %" SCNd64, &idx[acked], &rvs[acked]) == 2)
		acked++;
	fclose(f);
	CHECK(acked >= 300);

	struct store *st = open_at(path);
	if (!st)
		return;
	int missing = 0;
	for (int i = 0; i < acked; i++) {
		char name[32];
		snprintf(name, sizeof(name), "k%d", idx[i]);
		struct sobj *o = store_get(st, "Pod", "default", name);
		if (!o || o->rv != rvs[i] || spec_i(o) != idx[i])
			missing++;
		sobj_unref(o);
	}
	CHECK(missing == 0);
	CHECK(store_rev(st) >= rvs[acked - 1]);
	/* and the store goes on from where the child stopped */
	int64_t rev = store_rev(st);
	CHECK(put(st, "Pod", "default", "after", mkobj("after", 0, NULL, NULL), true) == rev + 1);
	printf("  %d acknowledged writes before SIGKILL, %" PRId64 " on disk, none lost\n", acked,
	       rev);
	store_close(st);
}

static void test_bench(void)
{
	_cleanup_free_ char *path = new_path();
	struct store *st = open_at(path);
	if (!st)
		return;
	enum { N1 = 2000, T = 8, N8 = 1000 };
	int64_t *rvs = xcalloc(T * N8, sizeof(*rvs));
	int failures;
	double one = run_writers(st, 1, N1, rvs, &failures);
	CHECK(failures == 0);
	uint64_t b0 = __atomic_load_n(&store_batches_for_test, __ATOMIC_RELAXED);
	double eight = run_writers(st, T, N8, rvs, &failures);
	uint64_t b = __atomic_load_n(&store_batches_for_test, __ATOMIC_RELAXED) - b0;
	CHECK(failures == 0);
	printf("  commits/s: 1 thread %.0f, 8 threads %.0f (%.1fx, %.1f updates per batch)\n", one,
	       eight, eight / one, (double)(T * N8) / (double)b);
	free(rvs);
	store_close(st);
}

int main(void)
{
	log_level = LOG_WARN;
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_put_get_list_delete);
	RUN(test_bad_input);
	RUN(test_revisions);
	RUN(test_user_rv);
	RUN(test_txn_overlay);
	RUN(test_reentry_refused);
	RUN(test_failing_request_in_batch);
	RUN(test_failed_commit);
	RUN(test_failed_commit_batch);
	RUN(test_concurrent_writers);
	RUN(test_reopen);
	RUN(test_watch_from_memory_and_log);
	RUN(test_watch_ring_wrap);
	RUN(test_watch_timeout);
	RUN(test_watch_wakes_on_commit);
	RUN(test_wake_watchers);
	RUN(test_close_wakes_watchers);
	RUN(test_compaction);
	RUN(test_dependents);
	RUN(test_list_10000);
	RUN(test_durability_kill);
	RUN(test_bench);
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	free(cmd);
	return unit_done();
}
