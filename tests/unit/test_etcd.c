/*
 * test_etcd.c - the etcd v3 client (engine/store/etcd.h) against a real
 * etcd 3.4 that the test starts itself: one member on free loopback ports
 * with its data in a temp dir (fast heartbeats, so that leases expire and
 * progress notifications come within a second), killed at the end; then a
 * 3-member cluster for failover.  Covers range (limit, count, old
 * revisions), txn (each compare, both branches), leases (grant, put with
 * a lease, keep-alive, revoke, expiry), compaction (-ERANGE), watch (whole
 * revisions, progress, resume after a restart and on another endpoint,
 * compaction, a prompt stop), endpoint failover (a dead endpoint and a
 * silent one listed first, all dead: -EIO), the size limit (-E2BIG).
 *
 * etcd not installed: skipped (a failure unless CFS_ALLOW_SKIP=1).
 */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/clock.h"
#include "engine/mem.h"
#include "engine/store/etcd.h"
#include "tests/unit/etcd_member.h"
#include "tests/unit/unit.h"

static char *tmp;
static struct etcd_member m1;	 /* the single member */
static struct etcd_member m3[3]; /* the cluster */
static struct etcd_member mt;	 /* a member on TLS */
static char *cluster3;		 /* its --initial-cluster */
static struct etcd *c;		 /* a client of m1 */

static void cleanup(void)
{
	etcd_member_kill(&m1);
	etcd_member_kill(&mt);
	for (int i = 0; i < 3; i++)
		etcd_member_kill(&m3[i]);
	if (tmp) {
		char *cmd = xasprintf("rm -rf %s", tmp);
		if (system(cmd) != 0)
			fprintf(stderr, "cleanup of %s failed\n", tmp);
		free(cmd);
	}
}

/* ---- helpers ---- */

static int put(const char *k, const char *v, int64_t lease, int64_t *rev)
{
	struct etcd_op op = {ETCD_PUT, k, strlen(k), v, strlen(v), lease};
	struct etcd_txn_res res;
	struct err *e = NULL;
	int r = etcd_txn(c, NULL, 0, &op, 1, NULL, 0, &res, &e);
	if (r < 0)
		fprintf(stderr, "  put %s: %s\n", k, e->msg);
	if (rev)
		*rev = res.rev;
	etcd_txn_res_free(&res);
	err_free(e);
	return r;
}

/* The value of k ("" if absent, with *mod 0). */
static char *get1(struct etcd *x, const char *k, int64_t *mod)
{
	struct etcd_kv *kvs;
	size_t n;
	if (etcd_get(x, &(struct etcd_range){.key = k, .key_len = strlen(k)}, &kvs, &n, NULL, NULL,
		     NULL) < 0)
		return xstrdup("?");
	char *v = xstrdup(n ? kvs[0].value : "");
	if (mod)
		*mod = n ? kvs[0].mod_rev : 0;
	etcd_kvs_free(kvs, n);
	return v;
}

static bool val_is(const char *k, const char *want)
{
	char *v = get1(c, k, NULL);
	bool ok = !strcmp(v, want);
	if (!ok)
		fprintf(stderr, "  %s = \"%s\", want \"%s\"\n", k, v, want);
	free(v);
	return ok;
}

/* ---- the tests ---- */

static void test_open(void)
{
	struct etcd *x = NULL;
	struct err *e = NULL;
	CHECK(etcd_open(&(struct etcd_opts){.endpoints = "127.0.0.1:2379"}, &x, &e) == -EINVAL);
	CHECK(e && strstr(e->msg, "127.0.0.1:2379"));
	CHECK(etcd_open(&(struct etcd_opts){.endpoints = ""}, &x, &e) == -EINVAL);
	CHECK(etcd_open(&(struct etcd_opts){.endpoints = "https://h:1", .ca_file = "/nonexistent"},
			&x, &e) == -ENOENT);
	CHECK(e && strstr(e->msg, "/nonexistent"));
	CHECK(
	    etcd_open(&(struct etcd_opts){.endpoints = "https://h:1", .cert_file = "/etc/hostname"},
		      &x, &e) == -EINVAL);
	CHECK(etcd_open(&(struct etcd_opts){.endpoints = " http://a:1/, https://b:2 "}, &x, &e) ==
	      0);
	CHECK(x && !strcmp(etcd_endpoint(x), "http://a:1"));
	etcd_close(x);
	etcd_close(NULL);
	err_free(e);
}

static void test_range(void)
{
	int64_t r1, r2;
	CHECK(put("/r/a", "1", 0, &r1) == 0);
	CHECK(put("/r/b", "2", 0, NULL) == 0);
	CHECK(put("/r/c", "3", 0, NULL) == 0);
	CHECK(put("/r/a", "4", 0, &r2) == 0);
	CHECK(put("/s", "x", 0, NULL) == 0);
	struct etcd_kv *kvs;
	size_t n;
	bool more;
	int64_t hrev;
	struct etcd_range all = {.key = "/r/", .key_len = 3, .end = "/r0", .end_len = 3};
	CHECK(etcd_get(c, &all, &kvs, &n, &more, &hrev, NULL) == 0);
	CHECK(n == 3 && !more && hrev >= r2 + 1);
	CHECK(n == 3 && !strcmp(kvs[0].key, "/r/a") && kvs[0].key_len == 4 &&
	      !strcmp(kvs[0].value, "4") && kvs[0].value_len == 1 && kvs[0].mod_rev == r2 &&
	      kvs[0].create_rev == r1 && kvs[0].version == 2 && !strcmp(kvs[2].key, "/r/c"));
	etcd_kvs_free(kvs, n);
	all.limit = 2;
	CHECK(etcd_get(c, &all, &kvs, &n, &more, NULL, NULL) == 0);
	CHECK(n == 2 && more && !strcmp(kvs[1].key, "/r/b"));
	etcd_kvs_free(kvs, n);
	all.limit = 0;
	all.rev = r1; /* only /r/a existed */
	CHECK(etcd_get(c, &all, &kvs, &n, &more, NULL, NULL) == 0);
	CHECK(n == 1 && !strcmp(kvs[0].value, "1"));
	etcd_kvs_free(kvs, n);
	struct etcd_range cnt = {
	    .key = "/r/", .key_len = 3, .end = "/r0", .end_len = 3, .count_only = true};
	CHECK(etcd_get(c, &cnt, &kvs, &n, NULL, NULL, NULL) == 0 && n == 3 && !kvs);
	struct etcd_range from = {
	    .key = "/r/b", .key_len = 4, .end = "\0", .end_len = 1}; /* every key >= /r/b */
	CHECK(etcd_get(c, &from, &kvs, &n, NULL, NULL, NULL) == 0);
	CHECK(n == 3 && !strcmp(kvs[2].key, "/s"));
	etcd_kvs_free(kvs, n);
	CHECK(etcd_get(c, &(struct etcd_range){.key = "/nope", .key_len = 5}, &kvs, &n, NULL, NULL,
		       NULL) == 0);
	CHECK(n == 0 && !kvs);
	struct err *e = NULL;
	all.rev = hrev + 1000;
	CHECK(etcd_get(c, &all, &kvs, &n, NULL, NULL, &e) == -EINVAL);
	CHECK(e && strstr(e->msg, "future"));
	err_free(e);
}

/* One txn with one compare on /t: true if the success branch ran. */
static bool cmp1(struct etcd_cmp k, int64_t *rev)
{
	k.key = "/t";
	k.key_len = 2;
	struct etcd_op ok = {ETCD_PUT, "/t-ok", 5, "y", 1, 0};
	struct etcd_op no = {.type = ETCD_RANGE, .key = "/t", .key_len = 2};
	struct etcd_txn_res res;
	struct err *e = NULL;
	int r = etcd_txn(c, &k, 1, &ok, 1, &no, 1, &res, &e);
	if (r < 0)
		fprintf(stderr, "  txn: %s\n", e->msg);
	err_free(e);
	bool s = r == 0 && res.succeeded;
	if (r == 0 && !s)
		CHECK(res.n == 1 && !strcmp(res.kvs[0].key, "/t"));
	if (rev)
		*rev = res.rev;
	etcd_txn_res_free(&res);
	return s;
}

static void test_txn(void)
{
	/* absent: version 0, create 0 */
	CHECK(cmp1((struct etcd_cmp){.target = ETCD_CMP_VERSION, .op = ETCD_EQ, .num = 0}, NULL));
	CHECK(cmp1((struct etcd_cmp){.target = ETCD_CMP_CREATE, .op = ETCD_EQ, .num = 0}, NULL));
	int64_t mod;
	CHECK(put("/t", "v1", 0, &mod) == 0);
	CHECK(!cmp1((struct etcd_cmp){.target = ETCD_CMP_VERSION, .op = ETCD_EQ, .num = 0}, NULL));
	CHECK(cmp1((struct etcd_cmp){.target = ETCD_CMP_VERSION, .op = ETCD_GT, .num = 0}, NULL));
	CHECK(cmp1((struct etcd_cmp){.target = ETCD_CMP_MOD, .op = ETCD_EQ, .num = mod}, NULL));
	CHECK(
	    !cmp1((struct etcd_cmp){.target = ETCD_CMP_MOD, .op = ETCD_EQ, .num = mod - 1}, NULL));
	CHECK(cmp1((struct etcd_cmp){.target = ETCD_CMP_MOD, .op = ETCD_NE, .num = mod - 1}, NULL));
	CHECK(cmp1((struct etcd_cmp){.target = ETCD_CMP_MOD, .op = ETCD_LT, .num = mod + 1}, NULL));
	CHECK(cmp1((struct etcd_cmp){.target = ETCD_CMP_CREATE, .op = ETCD_EQ, .num = mod}, NULL));
	CHECK(cmp1(
	    (struct etcd_cmp){
		.target = ETCD_CMP_VALUE, .op = ETCD_EQ, .value = "v1", .value_len = 2},
	    NULL));
	CHECK(!cmp1(
	    (struct etcd_cmp){
		.target = ETCD_CMP_VALUE, .op = ETCD_EQ, .value = "v2", .value_len = 2},
	    NULL));
	CHECK(cmp1((struct etcd_cmp){.target = ETCD_CMP_LEASE, .op = ETCD_EQ, .num = 0}, NULL));
	CHECK(!cmp1((struct etcd_cmp){.target = ETCD_CMP_LEASE, .op = ETCD_GT, .num = 0}, NULL));

	/* several compares, several ops, ranges in order (one absent) */
	struct etcd_cmp k2[] = {
	    {.key = "/t", .key_len = 2, .target = ETCD_CMP_MOD, .op = ETCD_EQ, .num = mod},
	    {.key = "/u", .key_len = 2, .target = ETCD_CMP_VERSION, .op = ETCD_EQ, .num = 0}};
	struct etcd_op ops[] = {{ETCD_PUT, "/u", 2, "", 0, 0},
				{.type = ETCD_RANGE, .key = "/t", .key_len = 2},
				{.type = ETCD_DELETE, .key = "/t-ok", .key_len = 5},
				{.type = ETCD_RANGE, .key = "/absent", .key_len = 7}};
	struct etcd_txn_res res;
	CHECK(etcd_txn(c, k2, 2, ops, 4, NULL, 0, &res, NULL) == 0);
	CHECK(res.succeeded && res.rev > mod && res.n == 2);
	CHECK(res.n == 2 && !strcmp(res.kvs[0].value, "v1") && res.kvs[0].mod_rev == mod &&
	      !strcmp(res.kvs[1].key, "/absent") && res.kvs[1].version == 0);
	int64_t txrev = res.rev;
	etcd_txn_res_free(&res);
	int64_t umod;
	char *u = get1(c, "/u", &umod);
	CHECK(!strcmp(u, "") && umod == txrev); /* an empty value is a value */
	free(u);
	CHECK(val_is("/t-ok", ""));
	/* the same again: /u exists now, the failure branch (no ops) runs */
	CHECK(etcd_txn(c, k2, 2, ops, 4, NULL, 0, &res, NULL) == 0);
	CHECK(!res.succeeded && res.n == 0 && res.rev == txrev);
	etcd_txn_res_free(&res);
	/* binary keys and values */
	struct etcd_op bin = {ETCD_PUT, "/b\0\n", 4, "\0\xff\x01", 3, 0};
	CHECK(etcd_txn(c, NULL, 0, &bin, 1, NULL, 0, &res, NULL) == 0);
	etcd_txn_res_free(&res);
	struct etcd_kv *kvs;
	size_t n;
	CHECK(etcd_get(c, &(struct etcd_range){.key = "/b\0\n", .key_len = 4}, &kvs, &n, NULL, NULL,
		       NULL) == 0);
	CHECK(n == 1 && kvs[0].key_len == 4 && kvs[0].value_len == 3 &&
	      !memcmp(kvs[0].value, "\0\xff\x01", 3));
	etcd_kvs_free(kvs, n);
	/* a malformed txn: the same key twice */
	struct etcd_op dup[] = {{ETCD_PUT, "/d", 2, "1", 1, 0}, {ETCD_PUT, "/d", 2, "2", 1, 0}};
	struct err *e = NULL;
	CHECK(etcd_txn(c, NULL, 0, dup, 2, NULL, 0, &res, &e) == -EINVAL);
	CHECK(e && strstr(e->msg, "duplicate"));
	err_free(e);
}

static void test_lease(void)
{
	int64_t id, ttl;
	struct err *e = NULL;
	CHECK(etcd_lease_grant(c, 30, &id, &e) == 0 && id > 0);
	CHECK(put("/l/a", "x", id, NULL) == 0);
	int64_t mod;
	char *v = get1(c, "/l/a", &mod);
	free(v);
	struct etcd_kv *kvs;
	size_t n;
	CHECK(etcd_get(c, &(struct etcd_range){.key = "/l/a", .key_len = 4}, &kvs, &n, NULL, NULL,
		       NULL) == 0);
	CHECK(n == 1 && kvs[0].lease == id);
	etcd_kvs_free(kvs, n);
	CHECK(etcd_lease_keepalive(c, id, &ttl, &e) == 0 && ttl > 20 && ttl <= 30);
	CHECK(etcd_lease_revoke(c, id, &e) == 0);
	CHECK(val_is("/l/a", ""));
	CHECK(etcd_lease_keepalive(c, id, &ttl, &e) == -ENOENT && ttl == 0);
	CHECK(etcd_lease_revoke(c, id, &e) == -ENOENT);
	CHECK(e && strstr(e->msg, "lease not found"));
	CHECK(put("/l/b", "x", id, NULL) == -ENOENT); /* a put with an unknown lease */

	/* expiry: a 1 s lease (the fast heartbeat allows it) not kept alive */
	CHECK(etcd_lease_grant(c, 1, &id, &e) == 0);
	CHECK(put("/l/c", "x", id, NULL) == 0);
	CHECK(val_is("/l/c", "x"));
	int64_t until = mono_ms() + 5000;
	char *cur = NULL;
	do {
		free(cur);
		usleep(100 * 1000);
		cur = get1(c, "/l/c", NULL);
	} while (*cur && mono_ms() < until);
	CHECK(!*cur);
	free(cur);
	CHECK(etcd_lease_keepalive(c, id, &ttl, NULL) == -ENOENT);
	err_free(e);
}

static void test_too_big(void)
{
	size_t n = 2 * 1024 * 1024;
	char *big = xmalloc(n);
	memset(big, 'x', n);
	struct etcd_op op = {ETCD_PUT, "/big", 4, big, n, 0};
	struct etcd_txn_res res;
	struct err *e = NULL;
	CHECK(etcd_txn(c, NULL, 0, &op, 1, NULL, 0, &res, &e) == -E2BIG);
	CHECK(e && strstr(e->msg, c ? etcd_endpoint(c) : "?"));
	if (e)
		printf("  (%s)\n", e->msg);
	op.value_len = 1600 * 1024; /* over etcd's 1.5 MiB, under gRPC's 2 MiB */
	CHECK(etcd_txn(c, NULL, 0, &op, 1, NULL, 0, &res, &e) == -E2BIG);
	op.value_len = 1000 * 1024;
	CHECK(etcd_txn(c, NULL, 0, &op, 1, NULL, 0, &res, &e) == 0);
	etcd_txn_res_free(&res);
	free(big);
	err_free(e);
}

/* ---- watch ---- */

/* What a watch's callback was given, call by call. */
struct rec {
	pthread_mutex_t lock;
	int calls, progress, errs;
	int64_t compacted, last_rev, progress_rev;
	bool out_of_order, split; /* a revision in two calls; revisions going back */
	struct buf log;		  /* "rev:P/key,D/key;" per call with events */
	int64_t delay_ms;	  /* the callback sleeps this long */
	bool in_cb;
};

static void on_watch(void *arg, const struct etcd_event *evs, size_t n, int64_t rev,
		     int64_t compacted, int err)
{
	struct rec *r = arg;
	pthread_mutex_lock(&r->lock);
	r->in_cb = true;
	r->calls++;
	if (err)
		r->errs++;
	if (compacted)
		r->compacted = compacted;
	if (!n && !compacted && !err) {
		r->progress++;
		r->progress_rev = rev;
	}
	for (size_t i = 0; i < n; i++) {
		int64_t m = evs[i].kv.mod_rev;
		if (m < r->last_rev)
			r->out_of_order = true;
		if (i == 0 && m == r->last_rev)
			r->split = true;
		if (i == 0 || m != evs[i - 1].kv.mod_rev)
			buf_printf(&r->log, "%s%lld:", r->log.len ? ";" : "", (long long)m);
		else
			buf_puts(&r->log, ",");
		buf_printf(&r->log, "%c%s", evs[i].type == ETCD_EV_PUT ? 'P' : 'D', evs[i].kv.key);
		r->last_rev = m;
	}
	if (n && rev != evs[n - 1].kv.mod_rev)
		r->out_of_order = true;
	pthread_mutex_unlock(&r->lock);
	if (r->delay_ms)
		usleep(r->delay_ms * 1000);
	pthread_mutex_lock(&r->lock);
	r->in_cb = false;
	pthread_mutex_unlock(&r->lock);
}

static void rec_init(struct rec *r)
{
	*r = (struct rec){0};
	pthread_mutex_init(&r->lock, NULL);
}

/* Waits up to ms for the log to contain want. */
static bool rec_has(struct rec *r, const char *want, int ms)
{
	int64_t until = mono_ms() + ms;
	for (;;) {
		pthread_mutex_lock(&r->lock);
		bool ok = r->log.s && strstr(r->log.s, want);
		pthread_mutex_unlock(&r->lock);
		if (ok)
			return true;
		if (mono_ms() > until) {
			fprintf(stderr, "  watch log \"%s\", want \"%s\"\n",
				r->log.s ? r->log.s : "", want);
			return false;
		}
		usleep(10 * 1000);
	}
}

/* Polls cond (on r's fields, under its lock) every 10 ms for up to ms. */
#define WAIT_REC(r, cond, ms)                                                                      \
	({                                                                                         \
		int64_t until_ = mono_ms() + (ms);                                                 \
		bool ok_;                                                                          \
		for (;;) {                                                                         \
			pthread_mutex_lock(&(r)->lock);                                            \
			ok_ = (cond);                                                              \
			pthread_mutex_unlock(&(r)->lock);                                          \
			if (ok_ || mono_ms() > until_)                                             \
				break;                                                             \
			usleep(10 * 1000);                                                         \
		}                                                                                  \
		ok_;                                                                               \
	})

static void test_watch(void)
{
	int64_t r0;
	CHECK(put("/w/old", "0", 0, &r0) == 0);
	struct rec r;
	rec_init(&r);
	struct etcd_watch *w = NULL;
	struct etcd_range rg = {.key = "/w/", .key_len = 3, .end = "/w0", .end_len = 3};
	CHECK(etcd_watch_start(c, &rg, r0, on_watch, &r, &w, NULL) == 0);
	/* three keys in one txn: one revision, one call */
	struct etcd_op ops[] = {{ETCD_PUT, "/w/a", 4, "1", 1, 0},
				{ETCD_PUT, "/w/b", 4, "2", 1, 0},
				{.type = ETCD_DELETE, .key = "/w/old", .key_len = 6},
				{ETCD_PUT, "/x", 2, "outside", 7, 0}};
	struct etcd_txn_res res;
	CHECK(etcd_txn(c, NULL, 0, ops, 4, NULL, 0, &res, NULL) == 0);
	char *want =
	    xasprintf("%lld:P/w/old;%lld:P/w/a,P/w/b,D/w/old", (long long)r0, (long long)res.rev);
	CHECK(rec_has(&r, want, 3000));
	free(want);
	etcd_txn_res_free(&res);
	/* progress notifications (every 300 ms here) carry the store's revision */
	int64_t rx;
	CHECK(put("/x", "2", 0, &rx) == 0);
	CHECK(WAIT_REC(&r, r.progress_rev >= rx, 3000));
	CHECK(!r.out_of_order && !r.split && !r.errs && !r.compacted);
	/* stop returns at once, even with nothing coming */
	int64_t t0 = mono_ms();
	etcd_watch_stop(w);
	int64_t took = mono_ms() - t0;
	printf("  stop took %lld ms\n", (long long)took);
	CHECK(took < 200);
	buf_free(&r.log);

	/* from now (start 0): told the revision it starts after, then events */
	rec_init(&r);
	CHECK(etcd_watch_start(c, &rg, 0, on_watch, &r, &w, NULL) == 0);
	CHECK(WAIT_REC(&r, r.progress_rev >= rx, 3000));
	int64_t rc1;
	CHECK(put("/w/c", "3", 0, &rc1) == 0);
	want = xasprintf("%lld:P/w/c", (long long)rc1);
	CHECK(rec_has(&r, want, 3000));
	CHECK(!strstr(r.log.s, "/w/a")); /* nothing from before */
	free(want);
	/* stop while the callback runs: waits for it, and it never runs again */
	r.delay_ms = 300;
	CHECK(put("/w/d", "4", 0, NULL) == 0);
	CHECK(WAIT_REC(&r, r.in_cb && r.log.s && strstr(r.log.s, "/w/d"), 3000));
	etcd_watch_stop(w);
	CHECK(!r.in_cb);
	int calls = r.calls;
	CHECK(put("/w/e", "5", 0, NULL) == 0);
	usleep(100 * 1000);
	CHECK(r.calls == calls);
	buf_free(&r.log);
}

static void test_compact(void)
{
	int64_t r1, r2;
	CHECK(put("/k/a", "1", 0, &r1) == 0);
	CHECK(put("/k/a", "2", 0, &r2) == 0);
	struct err *e = NULL;
	CHECK(etcd_compact(c, r2, &e) == 0);
	struct etcd_kv *kvs;
	size_t n;
	struct etcd_range rg = {.key = "/k/", .key_len = 3, .end = "/k0", .end_len = 3, .rev = r1};
	CHECK(etcd_get(c, &rg, &kvs, &n, NULL, NULL, &e) == -ERANGE);
	CHECK(e && strstr(e->msg, "compacted"));
	rg.rev = r2;
	CHECK(etcd_get(c, &rg, &kvs, &n, NULL, NULL, &e) == 0 && n == 1);
	etcd_kvs_free(kvs, n);
	CHECK(etcd_compact(c, r2, &e) == -ERANGE); /* again */
	/* a watch from a compacted revision: told up to where, and it ends */
	struct rec r;
	rec_init(&r);
	struct etcd_watch *w;
	rg.rev = 0;
	CHECK(etcd_watch_start(c, &rg, r1, on_watch, &r, &w, NULL) == 0);
	CHECK(WAIT_REC(&r, r.compacted, 3000));
	CHECK(r.compacted == r2);
	CHECK(put("/k/b", "3", 0, NULL) == 0);
	usleep(200 * 1000);
	CHECK(r.calls == 1 && !r.log.len);
	etcd_watch_stop(w);
	err_free(e);
}

/* 8 threads share the client: each adds 1 to a counter 25 times, by
 * compare-and-swap on its mod revision, retrying when another won. */
static void *adder(void *arg)
{
	int *fails = arg;
	for (int i = 0; i < 25; i++) {
		for (;;) {
			int64_t mod;
			char *v = get1(c, "/cnt", &mod);
			char nv[32];
			snprintf(nv, sizeof(nv), "%d", atoi(v) + 1);
			free(v);
			struct etcd_cmp k = {.key = "/cnt",
					     .key_len = 4,
					     .target = ETCD_CMP_MOD,
					     .op = ETCD_EQ,
					     .num = mod};
			struct etcd_op op = {ETCD_PUT, "/cnt", 4, nv, strlen(nv), 0};
			struct etcd_txn_res res;
			int r = etcd_txn(c, &k, 1, &op, 1, NULL, 0, &res, NULL);
			bool done = r == 0 && res.succeeded;
			etcd_txn_res_free(&res);
			if (r < 0)
				(*fails)++;
			if (done || r < 0)
				break;
		}
	}
	return NULL;
}

static void test_concurrent(void)
{
	pthread_t t[8];
	int fails[8] = {0};
	int64_t t0 = mono_ms();
	for (int i = 0; i < 8; i++)
		pthread_create(&t[i], NULL, adder, &fails[i]);
	for (int i = 0; i < 8; i++) {
		pthread_join(t[i], NULL);
		CHECK(fails[i] == 0);
	}
	printf("  200 increments by 8 threads in %lld ms\n", (long long)(mono_ms() - t0));
	CHECK(val_is("/cnt", "200"));
}

/* A TCP listener that accepts connections (the kernel's backlog) and
 * never answers: a hung endpoint. */
static int silent_listener(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t n = sizeof(a);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &n) < 0) {
		perror("silent_listener");
		exit(1);
	}
	*port = ntohs(a.sin_port);
	return fd;
}

static void test_failover(void)
{
	int dead = unit_free_port(), hung;
	int lfd = silent_listener(&hung);
	char *eps = xasprintf("http://127.0.0.1:%d,http://127.0.0.1:%d,%s", dead, hung, m1.url);
	struct etcd *x;
	struct err *e = NULL;
	CHECK(etcd_open(&(struct etcd_opts){.endpoints = eps, .timeout_ms = 300}, &x, &e) == 0);
	/* a read goes past the dead one and the hung one (300 ms) */
	int64_t t0 = mono_ms();
	char *v = get1(x, "/r/b", NULL);
	CHECK(!strcmp(v, "2"));
	free(v);
	CHECK(!strcmp(etcd_endpoint(x), m1.url));
	CHECK(mono_ms() - t0 < 2000);
	/* and stays on the one that answered */
	t0 = mono_ms();
	v = get1(x, "/r/b", NULL);
	free(v);
	CHECK(mono_ms() - t0 < 100);
	/* a watch started on the dead endpoint moves on and misses nothing */
	etcd_close(x);
	CHECK(etcd_open(&(struct etcd_opts){.endpoints = eps, .timeout_ms = 300}, &x, &e) == 0);
	struct rec r;
	rec_init(&r);
	struct etcd_watch *w;
	int64_t r0;
	CHECK(put("/f/a", "1", 0, &r0) == 0);
	CHECK(etcd_watch_start(
		  x, &(struct etcd_range){.key = "/f/", .key_len = 3, .end = "/f0", .end_len = 3},
		  r0, on_watch, &r, &w, NULL) == 0);
	char *want = xasprintf("%lld:P/f/a", (long long)r0);
	CHECK(rec_has(&r, want, 5000));
	free(want);
	etcd_watch_stop(w);
	buf_free(&r.log);
	/* a write is not sent twice: the hung endpoint got it, the outcome is unknown */
	etcd_close(x);
	free(eps);
	eps = xasprintf("http://127.0.0.1:%d,%s", hung, m1.url);
	CHECK(etcd_open(&(struct etcd_opts){.endpoints = eps, .timeout_ms = 300}, &x, &e) == 0);
	struct etcd_op op = {ETCD_PUT, "/f/b", 4, "1", 1, 0};
	struct etcd_txn_res res;
	CHECK(etcd_txn(x, NULL, 0, &op, 1, NULL, 0, &res, &e) == -ETIMEDOUT);
	CHECK(e && strstr(e->msg, "may or may not"));
	/* ... and the next one goes to the next endpoint */
	CHECK(etcd_txn(x, NULL, 0, &op, 1, NULL, 0, &res, &e) == 0);
	etcd_txn_res_free(&res);
	etcd_close(x);
	free(eps);
	/* nothing answers: -EIO, naming each endpoint and what it said */
	char deadurl[64];
	snprintf(deadurl, sizeof(deadurl), "http://127.0.0.1:%d", dead);
	eps = xasprintf("%s,http://127.0.0.1:%d", deadurl, hung);
	CHECK(etcd_open(&(struct etcd_opts){.endpoints = eps, .timeout_ms = 300}, &x, &e) == 0);
	struct etcd_kv *kvs;
	size_t n;
	CHECK(etcd_get(x, &(struct etcd_range){.key = "/", .key_len = 1}, &kvs, &n, NULL, NULL,
		       &e) == -EIO);
	if (e)
		printf("  (%s)\n", e->msg);
	CHECK(e && strstr(e->msg, "no endpoint") && strstr(e->msg, deadurl) &&
	      strstr(e->msg, "connect"));
	/* a watch gives up after the timeout with err */
	rec_init(&r);
	CHECK(etcd_watch_start(x, &(struct etcd_range){.key = "/", .key_len = 1}, 0, on_watch, &r,
			       &w, NULL) == 0);
	CHECK(WAIT_REC(&r, r.errs > 0, 5000));
	CHECK(r.errs == 1 && r.calls == 1);
	etcd_watch_stop(w);
	etcd_close(x);
	free(eps);
	close(lfd);
	err_free(e);
}

/* etcd killed and started again: the watch resumes after the last
 * revision it delivered, nothing lost, nothing twice. */
static void test_watch_resume(void)
{
	struct rec r;
	rec_init(&r);
	struct etcd_watch *w;
	int64_t r0, r1, r2;
	CHECK(put("/z/a", "1", 0, &r0) == 0);
	CHECK(etcd_watch_start(
		  c, &(struct etcd_range){.key = "/z/", .key_len = 3, .end = "/z0", .end_len = 3},
		  r0, on_watch, &r, &w, NULL) == 0);
	char *want = xasprintf("%lld:P/z/a", (long long)r0);
	CHECK(rec_has(&r, want, 3000));
	free(want);
	etcd_member_kill(&m1);
	etcd_member_start(&m1, NULL);
	CHECK(etcd_member_ready(&m1, 10000));
	CHECK(put("/z/b", "2", 0, &r1) == 0);
	CHECK(put("/z/c", "3", 0, &r2) == 0);
	want = xasprintf("%lld:P/z/a;%lld:P/z/b;%lld:P/z/c", (long long)r0, (long long)r1,
			 (long long)r2);
	CHECK(rec_has(&r, want, 5000));
	free(want);
	CHECK(!r.out_of_order && !r.split && !r.errs);
	etcd_watch_stop(w);
	buf_free(&r.log);
}

/* Three members: the one the client uses killed, the next request goes
 * to another; two of three down: -EIO; back: served again. */
static void test_cluster3(void)
{
	struct buf ic = {0}, eps = {0};
	for (int i = 0; i < 3; i++) {
		char name[8];
		snprintf(name, sizeof(name), "m%d", i);
		etcd_member_init(&m3[i], tmp, name);
		buf_printf(&ic, "%s%s=http://127.0.0.1:%d", i ? "," : "", name, m3[i].pport);
		buf_printf(&eps, "%s%s", i ? "," : "", m3[i].url);
	}
	cluster3 = ic.s;
	for (int i = 0; i < 3; i++)
		etcd_member_start(&m3[i], cluster3);
	for (int i = 0; i < 3; i++)
		CHECK(etcd_member_ready(&m3[i], 15000));
	struct etcd *x;
	struct err *e = NULL;
	CHECK(etcd_open(&(struct etcd_opts){.endpoints = eps.s, .timeout_ms = 1000}, &x, &e) == 0);
	struct etcd_op op = {ETCD_PUT, "/c3", 3, "1", 1, 0};
	struct etcd_txn_res res;
	CHECK(etcd_txn(x, NULL, 0, &op, 1, NULL, 0, &res, &e) == 0);
	int64_t rev1 = res.rev;
	etcd_txn_res_free(&res);
	int used = 0;
	for (int i = 0; i < 3; i++)
		if (!strcmp(etcd_endpoint(x), m3[i].url))
			used = i;
	/* a watch on that member too */
	struct rec r;
	rec_init(&r);
	struct etcd_watch *w;
	CHECK(etcd_watch_start(x, &(struct etcd_range){.key = "/c3", .key_len = 3}, rev1, on_watch,
			       &r, &w, NULL) == 0);
	char *want = xasprintf("%lld:P/c3", (long long)rev1);
	CHECK(rec_has(&r, want, 3000));
	free(want);
	etcd_member_kill(&m3[used]);
	/* a read goes to another member (waiting for a new leader if need be) */
	int64_t t0 = mono_ms();
	char *v = get1(x, "/c3", NULL);
	CHECK(!strcmp(v, "1"));
	free(v);
	printf("  read: failover from %s to %s in %lld ms\n", m3[used].url, etcd_endpoint(x),
	       (long long)(mono_ms() - t0));
	CHECK(strcmp(etcd_endpoint(x), m3[used].url));
	/* a write too; one sent while the cluster had lost its leader may
	 * time out (-ETIMEDOUT: unknown outcome), as with etcd's own client */
	op.value = "2";
	int rc = -ETIMEDOUT;
	for (int i = 0; i < 3 && rc == -ETIMEDOUT; i++) {
		rc = etcd_txn(x, NULL, 0, &op, 1, NULL, 0, &res, &e);
		if (rc < 0)
			printf("  (%s)\n", e->msg);
	}
	CHECK(rc == 0);
	/* the watch moved to another member and missed nothing */
	want = xasprintf(":P/c3;%lld:P/c3", (long long)res.rev);
	CHECK(rec_has(&r, want, 5000));
	free(want);
	CHECK(!r.out_of_order && !r.split && !r.errs);
	etcd_watch_stop(w);
	buf_free(&r.log);
	etcd_txn_res_free(&res);
	v = get1(x, "/c3", NULL);
	CHECK(!strcmp(v, "2"));
	free(v);
	int other = (used + 1) % 3, third = (used + 2) % 3;
	etcd_member_kill(&m3[other]);
	struct etcd_kv *kvs;
	size_t n;
	CHECK(etcd_get(x, &(struct etcd_range){.key = "/c3", .key_len = 3}, &kvs, &n, NULL, NULL,
		       &e) == -EIO);
	if (e)
		printf("  (%s)\n", e->msg);
	/* once the last one knows it has no leader, it says so at once */
	usleep(500 * 1000);
	t0 = mono_ms();
	CHECK(etcd_txn(x, NULL, 0, &op, 1, NULL, 0, &res, &e) == -EIO);
	CHECK(e && strstr(e->msg, m3[third].url) && strstr(e->msg, "no leader"));
	printf("  a write with no quorum failed in %lld ms (%s)\n", (long long)(mono_ms() - t0),
	       e ? e->msg : "");
	CHECK(mono_ms() - t0 < 500);
	etcd_member_start(&m3[used], cluster3);
	etcd_member_start(&m3[other], cluster3);
	CHECK(etcd_member_ready(&m3[used], 15000));
	v = get1(x, "/c3", NULL);
	CHECK(!strcmp(v, "2"));
	free(v);
	etcd_close(x);
	buf_free(&eps);
	err_free(e);
}

/* TMP/ca.crt and TMP/cert.{crt,key}: a CA and, signed by it, a
 * certificate for 127.0.0.1 good for a server and a client. */
static bool make_certs(void)
{
	char *cmd = xasprintf(
	    "(cd %s && printf "
	    "'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth,clientAuth\\n' "
	    ">ext && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
	    "-keyout ca.key -out ca.crt -days 1 -subj /CN=cfs-test-ca && "
	    "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout cert.key "
	    "-out cert.csr -subj /CN=127.0.0.1 && openssl x509 -req -in cert.csr -CA ca.crt "
	    "-CAkey ca.key -CAcreateserial -out cert.crt -days 1 -extfile ext) >%s/openssl.log "
	    "2>&1",
	    tmp, tmp);
	int rc = system(cmd);
	free(cmd);
	return rc == 0;
}

/* etcd on https with client certificates required: the client verifies it
 * with the CA and shows its certificate; without them it fails clearly. */
static void test_tls(void)
{
	if (access("/usr/bin/openssl", X_OK) < 0) {
		unit_skip("openssl is not installed (Debian's openssl: sh scripts/deps.sh)");
		return;
	}
	CHECK(make_certs());
	mt.tls = true;
	etcd_member_init(&mt, tmp, "tls");
	etcd_member_start(&mt, NULL);
	char *ca = xasprintf("%s/ca.crt", tmp), *cert = xasprintf("%s/cert.crt", tmp),
	     *key = xasprintf("%s/cert.key", tmp);
	struct etcd_opts o = {.endpoints = mt.url,
			      .ca_file = ca,
			      .cert_file = cert,
			      .key_file = key,
			      .timeout_ms = 2000};
	struct etcd *x;
	struct err *e = NULL;
	CHECK(etcd_open(&o, &x, &e) == 0);
	int rc = -1;
	for (int i = 0; i < 100 && rc < 0; i++) { /* until it is up */
		struct etcd_op op = {ETCD_PUT, "/tls", 4, "1", 1, 0};
		struct etcd_txn_res res;
		rc = etcd_txn(x, NULL, 0, &op, 1, NULL, 0, &res, &e);
		etcd_txn_res_free(&res);
		if (rc < 0)
			usleep(100 * 1000);
	}
	CHECK(rc == 0);
	if (rc < 0)
		printf("  (%s)\n", e->msg);
	char *v = get1(x, "/tls", NULL);
	CHECK(!strcmp(v, "1"));
	free(v);
	struct rec r;
	rec_init(&r);
	struct etcd_watch *w;
	CHECK(etcd_watch_start(x, &(struct etcd_range){.key = "/tls", .key_len = 4}, 1, on_watch,
			       &r, &w, NULL) == 0);
	CHECK(rec_has(&r, ":P/tls", 3000));
	etcd_watch_stop(w);
	buf_free(&r.log);
	etcd_close(x);
	/* no client certificate: refused */
	o.cert_file = o.key_file = NULL;
	CHECK(etcd_open(&o, &x, &e) == 0);
	v = get1(x, "/tls", NULL);
	CHECK(!strcmp(v, "?"));
	free(v);
	etcd_close(x);
	/* not the CA: etcd not trusted */
	o.ca_file = "/etc/ssl/certs/ca-certificates.crt";
	o.cert_file = cert;
	o.key_file = key;
	CHECK(etcd_open(&o, &x, &e) == 0);
	struct etcd_kv *kvs;
	size_t n;
	CHECK(etcd_get(x, &(struct etcd_range){.key = "/tls", .key_len = 4}, &kvs, &n, NULL, NULL,
		       &e) == -EIO);
	if (e)
		printf("  (%s)\n", e->msg);
	etcd_close(x);
	etcd_member_kill(&mt);
	free(ca);
	free(cert);
	free(key);
	err_free(e);
}

/* etcd's database full (its NOSPACE alarm): -ENOSPC, not -E2BIG */
static void test_nospace(void)
{
	struct etcd_member ms = {.extra = "--quota-backend-bytes=1000000"};
	etcd_member_init(&ms, tmp, "small");
	etcd_member_start(&ms, NULL);
	CHECK(etcd_member_ready(&ms, 15000));
	struct etcd *x;
	struct err *e = NULL;
	CHECK(etcd_open(&(struct etcd_opts){.endpoints = ms.url}, &x, &e) == 0);
	size_t n = 200 * 1000;
	char *v = xmalloc(n);
	memset(v, 'v', n);
	int rc = 0;
	for (int i = 0; i < 20 && rc == 0; i++) {
		struct etcd_op op = {ETCD_PUT, "/big", 4, v, n, 0};
		struct etcd_txn_res res;
		rc = etcd_txn(x, NULL, 0, &op, 1, NULL, 0, &res, &e);
		etcd_txn_res_free(&res);
	}
	CHECK(rc == -ENOSPC);
	CHECK(e && strstr(e->msg, "space exceeded"));
	etcd_close(x);
	etcd_member_kill(&ms);
	free(v);
	err_free(e);
}

int main(void)
{
	if (access(ETCD_BIN, X_OK) < 0) {
		unit_skip("etcd is not installed (" ETCD_BIN ": Debian's etcd-server)");
		return unit_done();
	}
	tmp = xstrdup("/tmp/cfs-test-etcd.XXXXXX");
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	atexit(cleanup);
	etcd_member_init(&m1, tmp, "one");
	etcd_member_start(&m1, NULL);
	if (!etcd_member_ready(&m1, 15000)) {
		fprintf(stderr, "etcd did not start; its log: %s.log\n", m1.dir);
		return 1;
	}
	struct err *e = NULL;
	if (etcd_open(&(struct etcd_opts){.endpoints = m1.url, .timeout_ms = 3000}, &c, &e) < 0) {
		fprintf(stderr, "etcd_open: %s\n", e->msg);
		return 1;
	}
	int64_t t0 = mono_ms();
	RUN(test_open);
	RUN(test_range);
	RUN(test_txn);
	RUN(test_lease);
	RUN(test_too_big);
	RUN(test_watch);
	RUN(test_compact);
	RUN(test_concurrent);
	RUN(test_failover);
	RUN(test_watch_resume);
	RUN(test_nospace);
	RUN(test_tls);
	RUN(test_cluster3);
	etcd_close(c);
	printf("  (%lld ms in all)\n", (long long)(mono_ms() - t0));
	return unit_done();
}
