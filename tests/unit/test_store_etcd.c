/*
 * test_store_etcd.c - unit tests of the store on etcd (store_etcd.c)
 * against a real etcd that the test starts on free loopback ports and
 * kills at the end: reads and writes, revisions (etcd's), atomic updates
 * and rollback, two stores on one etcd (two servers), conflicts between
 * them, watch of whole revisions and its resume, -ERANGE for a revision
 * older than the feed, etcd's history compacted by the store, fencing,
 * Secrets sealed, size limits, and reopening.
 *
 * Each test works under its own key prefix.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/clock.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/store/etcd.h"
#include "engine/store/store.h"
#include "engine/store/store_etcd.h"
#include "tests/unit/etcd_member.h"
#include "tests/unit/unit.h"

static char tmpdir[] = "/tmp/test_store_etcd.XXXXXX";
static char etcd_url[64];

/* Etcd */

static struct etcd_member em;

/* Starts etcd (again on the same ports and data dir after the first time). */
static bool etcd_start(void)
{
	if (!em.name)
		etcd_member_init(&em, tmpdir, "etcd");
	snprintf(etcd_url, sizeof(etcd_url), "%s", em.url);
	etcd_member_start(&em, NULL);
	return etcd_member_ready(&em, 15000);
}

static void etcd_stop(void)
{
	etcd_member_kill(&em);
}

/* Helpers */

static struct store *open_prefix(const char *prefix)
{
	struct store *st = NULL;
	_cleanup_err_ struct err *e = NULL;
	int rc = store_open_etcd(&(struct etcd_opts){.endpoints = etcd_url}, prefix, &st, &e);
	if (rc)
		fprintf(stderr, "  store_open_etcd: %s\n", e ? e->msg : "?");
	CHECK(rc == 0 && st);
	return st;
}

static json_t *mkobj(const char *name, int i, const char *owner)
{
	json_t *refs = json_array();
	if (owner)
		json_array_append_new(refs, json_pack("{s:s}", "uid", owner));
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
	a->rv = store_txn_put(tx, a->kind, a->ns, a->name, json_deep_copy(a->obj), a->user, e);
	return a->rv < 0 ? (int)a->rv : 0;
}

static int del_fn(struct store_txn *tx, void *arg, struct err **e)
{
	struct put_arg *a = arg;
	a->rv = store_txn_delete(tx, a->kind, a->ns, a->name, e);
	return a->rv < 0 ? (int)a->rv : 0;
}

/* Puts obj (taken) as kind/ns/name in its own update; 0 or -errno. */
static int put(struct store *st, const char *kind, const char *ns, const char *name, json_t *obj,
	       bool user, struct err **e)
{
	struct put_arg a = {kind, ns, name, obj, user, 0};
	int rc = store_update(st, put_fn, &a, e);
	json_decref(obj);
	return rc;
}

static int del(struct store *st, const char *kind, const char *ns, const char *name)
{
	struct put_arg a = {kind, ns, name, NULL, false, 0};
	return store_update(st, del_fn, &a, NULL);
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

/* Tests */

static void test_put_get_list_delete(void)
{
	struct store *st = open_prefix("/t1");
	if (!st)
		return;
	int64_t r0 = store_rev(st);
	CHECK(put(st, "Pod", "default", "a", mkobj("a", 1, "U1"), true, NULL) == 0);
	CHECK(put(st, "Pod", "default", "b", mkobj("b", 2, "U1"), true, NULL) == 0);
	CHECK(put(st, "Node", "", "n1", mkobj("n1", 3, NULL), false, NULL) == 0);
	CHECK(store_rev(st) > r0);
	struct sobj *a = store_get(st, "Pod", "default", "a");
	CHECK(a && spec_i(a) == 1 && a->rv > r0 && obj_rv(a) == a->rv && a->user_rv == a->rv);
	CHECK(a && a->mtime_ns > 0 && store_mtime(st, "Pod", "default") >= a->mtime_ns);
	struct sobj **v;
	size_t n = store_list(st, "Pod", "default", &v);
	CHECK(n == 2 && !strcmp(v[0]->name, "a") && !strcmp(v[1]->name, "b"));
	sobj_list_free(v, n);
	n = store_dependents(st, "U1", &v);
	CHECK(n == 2);
	sobj_list_free(v, n);
	struct sobj *nd = store_get(st, "Node", "", "n1");
	CHECK(nd && nd->user_rv == 0);
	sobj_unref(nd);
	/* a status write keeps user_rv */
	CHECK(put(st, "Pod", "default", "a", mkobj("a", 5, "U1"), false, NULL) == 0);
	struct sobj *a2 = store_get(st, "Pod", "default", "a");
	CHECK(a && a2 && a2->rv > a->rv && a2->user_rv == a->rv && spec_i(a2) == 5);
	sobj_unref(a2);
	sobj_unref(a);
	CHECK(del(st, "Pod", "default", "b") == 0);
	CHECK(del(st, "Pod", "default", "b") == -ENOENT);
	CHECK(!store_get(st, "Pod", "default", "b"));
	n = store_dependents(st, "U1", &v);
	CHECK(n == 1);
	sobj_list_free(v, n);
	store_close(st);
}

/* Writes x and y, then fails: nothing of it may show. */
static int fail_fn(struct store_txn *tx, void *arg, struct err **e)
{
	store_txn_put(tx, "Pod", "default", "x", mkobj("x", 1, NULL), true, e);
	store_txn_put(tx, "Pod", "default", "y", mkobj("y", 1, NULL), true, e);
	struct sobj *x = store_txn_get(tx, "Pod", "default", "x");
	bool seen = x != NULL;
	sobj_unref(x);
	return seen ? err_make(e, EINVAL, "no") : err_make(e, EIO, "own write not seen");
}

static int two_fn(struct store_txn *tx, void *arg, struct err **e)
{
	int64_t r1 = store_txn_put(tx, "Pod", "default", "x", mkobj("x", 2, NULL), true, e);
	int64_t r2 = store_txn_put(tx, "Pod", "default", "y", mkobj("y", 2, NULL), true, e);
	return r1 < 0 ? (int)r1 : r2 < 0 ? (int)r2 : 0;
}

static void test_atomic_rollback(void)
{
	struct store *st = open_prefix("/t2");
	if (!st)
		return;
	_cleanup_err_ struct err *e = NULL;
	CHECK(store_update(st, fail_fn, NULL, &e) == -EINVAL);
	CHECK(!store_get(st, "Pod", "default", "x") && !store_get(st, "Pod", "default", "y"));
	CHECK(store_update(st, two_fn, NULL, NULL) == 0);
	struct sobj *x = store_get(st, "Pod", "default", "x"),
		    *y = store_get(st, "Pod", "default", "y");
	CHECK(x && y && x->rv == y->rv); /* one txn, one revision */
	sobj_unref(x);
	sobj_unref(y);
	/* a failed commit applies nothing */
	store_fail_commit_for_test = 1;
	int rc = put(st, "Pod", "default", "z", mkobj("z", 1, NULL), true, NULL);
	CHECK(rc == -EIO && !store_get(st, "Pod", "default", "z"));
	/* an object over etcd's request limit: refused at once */
	json_t *big = mkobj("big", 1, NULL);
	char *s = xmalloc(2 * 1024 * 1024);
	memset(s, 'a', 2 * 1024 * 1024 - 1);
	s[2 * 1024 * 1024 - 1] = '\0';
	json_object_set_new(big, "data", json_string(s));
	free(s);
	err_free(STEAL_POINTER(&e));
	int64_t t0 = mono_ms();
	CHECK(put(st, "Pod", "default", "big", big, true, &e) == -E2BIG);
	CHECK(mono_ms() - t0 < 3000 && e && strstr(e->msg, "limit"));
	store_close(st);
}

/* Two servers on one etcd */

struct inc_arg {
	struct store *st;
	int n;
};

static int inc_fn(struct store_txn *tx, void *arg, struct err **e)
{
	struct sobj *o = store_txn_get(tx, "ConfigMap", "default", "counter");
	int i = o ? spec_i(o) : 0;
	sobj_unref(o);
	int64_t rv = store_txn_put(tx, "ConfigMap", "default", "counter",
				   mkobj("counter", i + 1, NULL), true, e);
	return rv < 0 ? (int)rv : 0;
}

static void *inc_thread(void *p)
{
	struct inc_arg *a = p;
	for (int i = 0; i < a->n; i++) {
		_cleanup_err_ struct err *e = NULL;
		int rc = store_update(a->st, inc_fn, NULL, &e);
		if (rc < 0)
			fprintf(stderr, "  inc: %s\n", e ? e->msg : "?");
		CHECK(rc == 0);
	}
	return NULL;
}

static void test_two_stores(void)
{
	struct store *a = open_prefix("/t3"), *b = open_prefix("/t3");
	if (!a || !b)
		return;
	CHECK(put(a, "Pod", "default", "p", mkobj("p", 7, NULL), true, NULL) == 0);
	CHECK(store_sync(b, NULL) == 0);
	struct sobj *p = store_get(b, "Pod", "default", "p");
	CHECK(p && spec_i(p) == 7);
	sobj_unref(p);
	/* 4 threads on each store add 1 to one counter 25 times each */
	pthread_t th[8];
	struct inc_arg args[8];
	for (int i = 0; i < 8; i++) {
		args[i] = (struct inc_arg){i % 2 ? a : b, 25};
		pthread_create(&th[i], NULL, inc_thread, &args[i]);
	}
	for (int i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	CHECK(store_sync(a, NULL) == 0 && store_sync(b, NULL) == 0);
	struct sobj *ca = store_get(a, "ConfigMap", "default", "counter"),
		    *cb = store_get(b, "ConfigMap", "default", "counter");
	CHECK(ca && cb && spec_i(ca) == 200 && spec_i(cb) == 200 && ca->rv == cb->rv);
	sobj_unref(ca);
	sobj_unref(cb);
	store_close(a);
	store_close(b);
}

/*
 * Lists in a txn are guarded: threads on two stores each take the next free
 * number (one more than the largest in use, as a cluster IP allocator takes
 * a free address) under names of their own; every number is taken once.
 */
struct alloc_arg {
	struct store *st;
	int id;
};

static int alloc_fn(struct store_txn *tx, void *arg, struct err **e)
{
	struct alloc_arg *a = arg;
	struct sobj **v = NULL;
	size_t n = store_txn_list(tx, "Service", "alloc", &v);
	int max = 0;
	for (size_t i = 0; i < n; i++)
		max = spec_i(v[i]) > max ? spec_i(v[i]) : max;
	sobj_list_free(v, n);
	char name[32];
	snprintf(name, sizeof(name), "s-%d-%d", a->id, max + 1);
	return store_txn_put(tx, "Service", "alloc", name, mkobj(name, max + 1, NULL), true, e) < 0
		   ? -EIO
		   : 0;
}

static void *alloc_thread(void *p)
{
	for (int i = 0; i < 10; i++) {
		_cleanup_err_ struct err *e = NULL;
		CHECK(store_update(((struct alloc_arg *)p)->st, alloc_fn, p, &e) == 0);
	}
	return NULL;
}

static void test_list_guarded(void)
{
	struct store *a = open_prefix("/t11"), *b = open_prefix("/t11");
	if (!a || !b)
		return;
	pthread_t th[8];
	struct alloc_arg args[8];
	for (int i = 0; i < 8; i++) {
		args[i] = (struct alloc_arg){i % 2 ? a : b, i};
		pthread_create(&th[i], NULL, alloc_thread, &args[i]);
	}
	for (int i = 0; i < 8; i++)
		pthread_join(th[i], NULL);
	CHECK(store_sync(a, NULL) == 0);
	struct sobj **v = NULL;
	size_t n = store_list(a, "Service", "alloc", &v);
	bool seen[81] = {false}, unique = n == 80;
	for (size_t i = 0; i < n; i++) {
		int k = spec_i(v[i]);
		unique = unique && k >= 1 && k <= 80 && !seen[k];
		if (k >= 1 && k <= 80)
			seen[k] = true;
	}
	CHECK(unique);
	sobj_list_free(v, n);
	store_close(a);
	store_close(b);
}

/* Watch */

static int three_fn(struct store_txn *tx, void *arg, struct err **e)
{
	for (int i = 0; i < 3; i++) {
		char name[8];
		snprintf(name, sizeof(name), "w%d", i);
		if (store_txn_put(tx, "Pod", "default", name, mkobj(name, i, NULL), true, e) < 0)
			return -EIO;
	}
	return 0;
}

static void test_watch(void)
{
	struct store *st = open_prefix("/t4");
	if (!st)
		return;
	int64_t r0 = store_rev(st);
	struct store_event evs[8];
	CHECK(store_watch(st, r0, evs, 8, 0, NULL) == 0);
	CHECK(store_update(st, three_fn, NULL, NULL) == 0);
	CHECK(put(st, "Pod", "default", "w0", mkobj("w0", 9, NULL), false, NULL) == 0);
	CHECK(del(st, "Pod", "default", "w1") == 0);
	int n = store_watch(st, r0, evs, 8, 1000, NULL);
	CHECK(n == 5);
	if (n == 5) {
		CHECK(evs[0].type == STORE_ADDED && evs[0].rv == evs[2].rv && evs[0].rv > r0);
		CHECK(evs[3].type == STORE_MODIFIED && evs[3].rv > evs[2].rv);
		CHECK(evs[4].type == STORE_DELETED && evs[4].rv > evs[3].rv &&
		      !strcmp(evs[4].obj->name, "w1") && evs[4].obj->rv == evs[0].rv);
		store_events_free(evs, 5);
		/* whole revisions: two slots can't hold the first one */
		CHECK(store_watch(st, r0, evs, 2, 0, NULL) == -ERANGE);
		/* resume after the first revision */
		int m = store_watch(st, evs[2].rv, evs, 8, 0, NULL);
		CHECK(m == 2);
		store_events_free(evs, m > 0 ? (size_t)m : 0);
	}
	/* a watcher from before this store's feed relists */
	struct store *b = open_prefix("/t4");
	CHECK(b && store_watch(b, r0, evs, 8, 0, NULL) == -ERANGE);
	/* a wait returns as soon as a change comes */
	CHECK(b && store_watch(b, store_rev(b), evs, 8, 0, NULL) == 0);
	store_close(b);
	store_close(st);
}

/* The ring is bounded in bytes too: older events are a relist. */
static void test_history_bytes(void)
{
	store_history_bytes_for_test = 2000;
	struct store *st = open_prefix("/t4b");
	if (!st)
		return;
	int64_t r0 = store_rev(st), rv[40];
	char name[16];
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "h%d", i);
		CHECK(put(st, "Pod", "default", name, mkobj(name, i, NULL), false, NULL) == 0);
		rv[i] = store_rev(st);
	}
	struct store_event evs[40];
	CHECK(store_watch(st, r0, evs, 40, 1000, NULL) == -ERANGE);
	int n = store_watch(st, rv[36], evs, 40, 1000, NULL);
	CHECK(n == 3);
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "h%d", 37 + i);
		CHECK(evs[i].rv == rv[37 + i] && !strcmp(evs[i].obj->name, name) &&
		      spec_i(evs[i].obj) == 37 + i && evs[i].obj->size > 0);
	}
	store_events_free(evs, n > 0 ? (size_t)n : 0);
	store_close(st);
	store_history_bytes_for_test = 0;
}

/* Past STORE_HISTORY_MIN events only a window of fresh ones is kept: an
 * older start is a relist. */
static void test_history_fresh(void)
{
	store_history_fresh_ms_for_test = 600000;
	struct store *st = open_prefix("/t4f");
	if (!st)
		return;
	int64_t r0 = store_rev(st);
	enum { N = STORE_HISTORY_MIN + 100 };
	char name[16];
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		CHECK(put(st, "Pod", "default", name, mkobj(name, i, NULL), false, NULL) == 0);
	}
	CHECK(store_history_len(st) == N);
	store_history_fresh_ms_for_test = 50;
	usleep(120 * 1000);
	CHECK(put(st, "Pod", "default", "f-last", mkobj("f-last", 0, NULL), false, NULL) == 0);
	CHECK(store_history_len(st) == STORE_HISTORY_MIN);
	struct store_event evs[8];
	CHECK(store_watch(st, r0, evs, 8, 1000, NULL) == -ERANGE);
	int n = store_watch(st, store_rev(st) - 1, evs, 8, 1000, NULL);
	CHECK(n == 1 && !strcmp(evs[0].obj->name, "f-last"));
	store_events_free(evs, n > 0 ? (size_t)n : 0);
	store_close(st);
	store_history_fresh_ms_for_test = 0;
}

/* Compaction of etcd's history by the store */

static void test_compaction(void)
{
	estore_compact_every_ms_for_test = 300;
	estore_keep_revs_for_test = 5;
	struct store *st = open_prefix("/t5");
	if (!st)
		return;
	int64_t r0 = store_rev(st);
	for (int i = 0; i < 20; i++)
		CHECK(put(st, "Pod", "default", "c", mkobj("c", i, NULL), true, NULL) == 0);
	struct etcd *c = store_etcd(st);
	bool compacted = false;
	for (int64_t until = mono_ms() + 5000; !compacted && mono_ms() < until;) {
		struct etcd_kv *kvs = NULL;
		size_t n = 0;
		int rc =
		    etcd_get(c, &(struct etcd_range){.key = "/t5/", .key_len = 4, .rev = r0 + 1},
			     &kvs, &n, NULL, NULL, NULL);
		etcd_kvs_free(kvs, n);
		compacted = rc == -ERANGE;
		if (!compacted)
			usleep(100 * 1000);
	}
	CHECK(compacted);
	struct sobj *o = store_get(st, "Pod", "default", "c");
	CHECK(o && spec_i(o) == 19);
	sobj_unref(o);
	store_close(st);
	estore_compact_every_ms_for_test = 0;
	estore_keep_revs_for_test = 0;
}

/* Fencing */

struct fence_arg {
	struct store *st;
	int rc;
	char msg[256];
};

static void *fenced_put(void *p)
{
	struct fence_arg *a = p;
	store_fence_thread(true);
	_cleanup_err_ struct err *e = NULL;
	a->rc = put(a->st, "Pod", "default", "f", mkobj("f", 1, NULL), true, &e);
	snprintf(a->msg, sizeof(a->msg), "%s", e ? e->msg : "");
	return NULL;
}

static int fenced(struct store *st, struct fence_arg *a)
{
	pthread_t t;
	a->st = st;
	pthread_create(&t, NULL, fenced_put, a);
	pthread_join(t, NULL);
	return a->rc;
}

static int64_t create_key(struct etcd *c, const char *key)
{
	struct etcd_op op = {ETCD_PUT, key, strlen(key), "me", 2, 0};
	struct etcd_txn_res res = {0};
	CHECK(etcd_txn(c, NULL, 0, &op, 1, NULL, 0, &res, NULL) == 0);
	int64_t rev = res.rev;
	etcd_txn_res_free(&res);
	return rev;
}

static void test_fencing(void)
{
	struct store *st = open_prefix("/t6");
	if (!st)
		return;
	struct fence_arg a;
	CHECK(fenced(st, &a) == 0); /* no fence set: nothing fenced */
	const char *key = "/t6/leader/controllers";
	int64_t crev = create_key(store_etcd(st), key);
	store_fence_set(st, key, crev);
	CHECK(fenced(st, &a) == 0);
	/* someone else holds the key now */
	struct etcd_op d = {ETCD_DELETE, key, strlen(key), NULL, 0, 0};
	struct etcd_txn_res res = {0};
	CHECK(etcd_txn(store_etcd(st), NULL, 0, &d, 1, NULL, 0, &res, NULL) == 0);
	etcd_txn_res_free(&res);
	create_key(store_etcd(st), key);
	CHECK(fenced(st, &a) == -EPERM && strstr(a.msg, "no longer leads"));
	CHECK(put(st, "Pod", "default", "g", mkobj("g", 1, NULL), true, NULL) == 0);
	store_fence_set(st, NULL, 0);
	CHECK(fenced(st, &a) == -EPERM);
	struct sobj *f = store_get(st, "Pod", "default", "f");
	CHECK(f && spec_i(f) == 1);
	sobj_unref(f);
	store_close(st);
}

/* Secrets sealed, and everything back after reopening */

static void test_seal_reopen(void)
{
	CHECK(store_crypt_key("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", NULL) == 0);
	struct store *st = open_prefix("/t7");
	if (!st)
		return;
	json_t *sec = mkobj("s", 1, NULL);
	json_object_set_new(sec, "data", json_pack("{s:s}", "password", "aHVudGVyMg=="));
	CHECK(put(st, "Secret", "default", "s", sec, true, NULL) == 0);
	for (int i = 0; i < 50; i++) {
		char name[16];
		snprintf(name, sizeof(name), "p%02d", i);
		CHECK(put(st, "Pod", "ns1", name, mkobj(name, i, NULL), true, NULL) == 0);
	}
	struct etcd_kv *kvs = NULL;
	size_t n = 0;
	const char *k = "/t7/Secret/default/s";
	CHECK(etcd_get(store_etcd(st), &(struct etcd_range){.key = k, .key_len = strlen(k)}, &kvs,
		       &n, NULL, NULL, NULL) == 0);
	CHECK(n == 1 && strstr(kvs[0].value, "k8s:enc:aesgcm:v1:") &&
	      !strstr(kvs[0].value, "aHVudGVyMg"));
	etcd_kvs_free(kvs, n);
	int64_t rev = store_rev(st);
	struct sobj *before = store_get(st, "Pod", "ns1", "p07");
	store_close(st);
	st = open_prefix("/t7");
	if (!st)
		return;
	CHECK(store_rev(st) >= rev);
	struct sobj **v;
	n = store_list(st, "Pod", "ns1", &v);
	CHECK(n == 50);
	sobj_list_free(v, n);
	struct sobj *after = store_get(st, "Pod", "ns1", "p07");
	CHECK(before && after && after->rv == before->rv && after->user_rv == before->user_rv &&
	      after->mtime_ns == before->mtime_ns && json_equal(after->obj, before->obj));
	sobj_unref(before);
	sobj_unref(after);
	struct sobj *s = store_get(st, "Secret", "default", "s");
	CHECK(s && !strcmp(json_string_value(
			       json_object_get(json_object_get(s->obj, "data"), "password")),
			   "aHVudGVyMg=="));
	sobj_unref(s);
	store_close(st);
}

/* Commits per second with 1 and 8 writers (printed; group commit) */

struct bench_arg {
	struct store *st;
	int id, n;
};

static void *bench_thread(void *p)
{
	struct bench_arg *a = p;
	for (int i = 0; i < a->n; i++) {
		char name[32];
		snprintf(name, sizeof(name), "b%d-%d", a->id, i);
		CHECK(put(a->st, "ConfigMap", "bench", name, mkobj(name, i, NULL), true, NULL) ==
		      0);
	}
	return NULL;
}

static void test_bench(void)
{
	struct store *st = open_prefix("/tb");
	if (!st)
		return;
	for (int threads = 1; threads <= 8; threads *= 8) {
		pthread_t th[8];
		struct bench_arg args[8];
		uint64_t b0 = __atomic_load_n(&store_batches_for_test, __ATOMIC_RELAXED);
		int64_t t0 = mono_ms();
		for (int i = 0; i < threads; i++) {
			args[i] = (struct bench_arg){st, threads * 10 + i, 1600 / 8};
			pthread_create(&th[i], NULL, bench_thread, &args[i]);
		}
		for (int i = 0; i < threads; i++)
			pthread_join(th[i], NULL);
		int64_t ms = mono_ms() - t0;
		uint64_t nb = __atomic_load_n(&store_batches_for_test, __ATOMIC_RELAXED) - b0;
		printf("  %d writer(s): %d commits in %lld ms, %.0f/s, %llu etcd txns\n", threads,
		       threads * 200, (long long)ms, threads * 200 * 1000.0 / (double)(ms ? ms : 1),
		       (unsigned long long)nb);
	}
	store_close(st);
}

/* A watch whose start was compacted: the store relists */

static void test_relist(void)
{
	struct store *a = open_prefix("/t9"), *b = open_prefix("/t9");
	if (!a || !b)
		return;
	CHECK(put(a, "Pod", "default", "x", mkobj("x", 1, NULL), true, NULL) == 0);
	CHECK(store_sync(b, NULL) == 0);
	int64_t r = store_rev(b);
	struct store_event evs[4];
	CHECK(store_watch(b, r, evs, 4, 0, NULL) == 0);
	CHECK(del(a, "Pod", "default", "x") == 0);
	CHECK(put(a, "Pod", "default", "y", mkobj("y", 2, NULL), true, NULL) == 0);
	CHECK(store_sync(b, NULL) == 0);
	estore_relist_for_test(b); /* its listing is past r */
	int rc = 0;
	for (int64_t until = mono_ms() + 10000; rc != -ERANGE && mono_ms() < until;) {
		rc = store_watch(b, r, evs, 4, 100, NULL);
		if (rc > 0)
			store_events_free(evs, (size_t)rc);
	}
	CHECK(rc == -ERANGE); /* watchers from before the relist relist too */
	CHECK(put(a, "Pod", "default", "z", mkobj("z", 3, NULL), true, NULL) == 0);
	CHECK(store_sync(b, NULL) == 0);
	struct sobj *x = store_get(b, "Pod", "default", "x"),
		    *y = store_get(b, "Pod", "default", "y"),
		    *z = store_get(b, "Pod", "default", "z");
	CHECK(!x && y && z); /* the listing, and the watch after it */
	sobj_unref(x);
	sobj_unref(y);
	sobj_unref(z);
	store_close(a);
	store_close(b);
}

/* etcd down: writes fail with EIO; back: everything goes on */

static void test_etcd_down(void)
{
	struct store *a = open_prefix("/t8"), *b = open_prefix("/t8");
	if (!a || !b)
		return;
	CHECK(put(a, "Pod", "default", "before", mkobj("before", 1, NULL), true, NULL) == 0);
	etcd_stop();
	_cleanup_err_ struct err *e = NULL;
	int64_t t0 = mono_ms();
	int rc = put(a, "Pod", "default", "down", mkobj("down", 1, NULL), true, &e);
	CHECK(rc == -EIO && e && e->msg[0]);
	CHECK(mono_ms() - t0 < 20000);
	if (e)
		printf("  while etcd is down: %s\n", e->msg);
	err_free(STEAL_POINTER(&e));
	CHECK(store_sync(a, &e) < 0 && e);
	CHECK(!store_get(a, "Pod", "default", "down"));
	struct sobj *o = store_get(a, "Pod", "default", "before"); /* reads go on */
	CHECK(o != NULL);
	sobj_unref(o);
	CHECK(etcd_start());
	rc = -1;
	for (int64_t until = mono_ms() + 15000; rc && mono_ms() < until;)
		rc = put(a, "Pod", "default", "after", mkobj("after", 2, NULL), true, NULL);
	CHECK(rc == 0);
	/* b's watch came back too */
	CHECK(put(a, "Pod", "default", "after2", mkobj("after2", 3, NULL), true, NULL) == 0);
	bool seen = false;
	for (int64_t until = mono_ms() + 15000; !seen && mono_ms() < until;) {
		store_sync(b, NULL);
		o = store_get(b, "Pod", "default", "after2");
		seen = o != NULL;
		sobj_unref(o);
	}
	CHECK(seen);
	store_close(a);
	store_close(b);
}

int main(void)
{
	log_level = LOG_WARN;
	if (access(ETCD_BIN, X_OK) != 0) {
		unit_skip("no " ETCD_BIN " (Debian's etcd-server)");
		return unit_done();
	}
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	if (!etcd_start()) {
		fprintf(stderr, "etcd did not start (see %s/etcd.log)\n", tmpdir);
		etcd_stop();
		return 1;
	}
	RUN(test_put_get_list_delete);
	RUN(test_atomic_rollback);
	RUN(test_two_stores);
	RUN(test_list_guarded);
	RUN(test_watch);
	RUN(test_history_bytes);
	RUN(test_history_fresh);
	RUN(test_compaction);
	RUN(test_fencing);
	RUN(test_seal_reopen);
	RUN(test_relist);
	RUN(test_bench);
	RUN(test_etcd_down);
	etcd_stop();
	char *rm = xasprintf("rm -rf %s", tmpdir);
	if (system(rm) != 0)
		fprintf(stderr, "can't remove %s\n", tmpdir);
	free(rm);
	return unit_done();
}
