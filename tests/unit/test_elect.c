/*
 * test_elect.c - leader election (engine/store/elect.h) between two etcd
 * stores on one etcd the test starts (one member on free loopback ports):
 * one leads, the other follows and knows who leads; a fenced thread of
 * the leader writes, and once the key is someone else's its writes fail
 * (-EPERM) and it stops leading; a leader that stops hands over at once;
 * a leader whose etcd hangs (SIGSTOP) stops leading within 2/3 of its
 * lease although its keep-alive has not returned.
 * etcd not installed: skipped (a failure unless CFS_ALLOW_SKIP=1).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "engine/clock.h"
#include "engine/mem.h"
#include "engine/store/elect.h"
#include "engine/store/etcd.h"
#include "engine/store/store.h"
#include "tests/unit/etcd_member.h"
#include "tests/unit/unit.h"

#define KEY	"/te/leader/controllers"
#define LEASE_S 3

static char *tmp, *url;
static struct etcd_member em;

static bool etcd_up(void)
{
	etcd_member_init(&em, tmp, "etcd");
	url = xstrdup(em.url);
	etcd_member_start(&em, NULL);
	return etcd_member_ready(&em, 10000);
}

/* One server: its store, its election, what its callbacks saw. */
struct srv {
	const char *name;
	struct store *st;
	struct elect *el;
	pthread_mutex_t mu;
	int leads, loses;
	char holder[32];
};

static int on_lead(void *arg)
{
	struct srv *s = arg;
	pthread_mutex_lock(&s->mu);
	s->leads++;
	pthread_mutex_unlock(&s->mu);
	return 0;
}

static void on_lose(void *arg)
{
	struct srv *s = arg;
	pthread_mutex_lock(&s->mu);
	s->loses++;
	pthread_mutex_unlock(&s->mu);
}

static void on_holder(void *arg, const char *name)
{
	struct srv *s = arg;
	pthread_mutex_lock(&s->mu);
	snprintf(s->holder, sizeof(s->holder), "%s", name ? name : "");
	pthread_mutex_unlock(&s->mu);
}

static bool holder_is(struct srv *s, const char *name)
{
	pthread_mutex_lock(&s->mu);
	bool r = !strcmp(s->holder, name);
	pthread_mutex_unlock(&s->mu);
	return r;
}

static void srv_open(struct srv *s, const char *name)
{
	memset(s, 0, sizeof(*s));
	s->name = name;
	pthread_mutex_init(&s->mu, NULL);
	struct etcd_opts o = {.endpoints = url};
	struct err *e = NULL;
	if (store_open_etcd(&o, "/te", &s->st, &e) < 0) {
		fprintf(stderr, "store_open_etcd: %s\n", e ? e->msg : "?");
		exit(1);
	}
}

static int srv_elect(struct srv *s)
{
	struct elect_opts o = {.st = s->st,
			       .key = KEY,
			       .name = s->name,
			       .lease_s = LEASE_S,
			       .lead = on_lead,
			       .lose = on_lose,
			       .holder = on_holder,
			       .arg = s};
	struct err *e = NULL;
	int r = elect_start(&o, &s->el, &e);
	err_free(e);
	return r;
}

static bool wait_for(bool (*f)(struct srv *), struct srv *s, int ms)
{
	for (int t = 0; t < ms; t += 20) {
		if (f(s))
			return true;
		usleep(20000);
	}
	return f(s);
}

static bool leading(struct srv *s)
{
	return elect_leading(s->el);
}

static bool not_leading(struct srv *s)
{
	return !elect_leading(s->el);
}

/* A write from a fenced thread (as the controllers' are). */
struct fw {
	struct store *st;
	const char *name;
	int rc;
};

static int put_fn(struct store_txn *tx, void *arg, struct err **e)
{
	struct fw *w = arg;
	json_t *o = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "v1", "kind", "ConfigMap",
			      "metadata", "name", w->name, "namespace", "default");
	int64_t r = store_txn_put(tx, "ConfigMap", "default", w->name, o, true, e);
	return r < 0 ? (int)r : 0;
}

static void *fenced_main(void *arg)
{
	struct fw *w = arg;
	store_fence_thread(true);
	struct err *e = NULL;
	w->rc = store_update(w->st, put_fn, w, &e);
	err_free(e);
	return NULL;
}

static int fenced_write(struct store *st, const char *name)
{
	struct fw w = {st, name, 0};
	pthread_t t;
	pthread_create(&t, NULL, fenced_main, &w);
	pthread_join(t, NULL);
	return w.rc;
}

static struct srv a, b;

static void test_one_leads(void)
{
	CHECK(srv_elect(&a) == 0);
	CHECK(wait_for(leading, &a, 3000));
	CHECK(srv_elect(&b) == 0);
	usleep(500000);
	CHECK(elect_leading(a.el) && !elect_leading(b.el));
	CHECK(a.leads == 1 && b.leads == 0);
	CHECK(holder_is(&a, "a") && holder_is(&b, "a"));
	CHECK(fenced_write(a.st, "by-a") == 0);
	CHECK(fenced_write(b.st, "by-b") == -EPERM); /* b does not lead */
}

/* The key taken from under a (as if its lease had expired): its fenced
 * writes fail at once; it stops leading; b takes over. */
static void test_key_lost(void)
{
	struct etcd *c = store_etcd(a.st);
	struct etcd_op del = {ETCD_DELETE, KEY, strlen(KEY), NULL, 0, 0};
	struct etcd_txn_res res = {0};
	CHECK(etcd_txn(c, NULL, 0, &del, 1, NULL, 0, &res, NULL) == 0);
	etcd_txn_res_free(&res);
	CHECK(wait_for(leading, &b, 3000));
	CHECK(fenced_write(a.st, "by-a-2") == -EPERM);
	CHECK(wait_for(not_leading, &a, LEASE_S * 1000));
	CHECK(a.loses == 1 && b.leads == 1);
	CHECK(fenced_write(b.st, "by-b-2") == 0);
	usleep(300000);
	CHECK(holder_is(&a, "b") && holder_is(&b, "b"));
}

/* b stops: a takes over at once (the lease is revoked, not left to expire). */
static void test_handover(void)
{
	int64_t t0 = mono_ms();
	elect_stop(b.el);
	b.el = NULL;
	CHECK(b.loses == 1);
	CHECK(wait_for(leading, &a, 2000));
	CHECK(mono_ms() - t0 < 1500);
	CHECK(a.leads == 2);
}

/* etcd hangs: a stops leading within 2/3 of the lease though its
 * keep-alive has not come back (the client waits 5 s per request). */
static void test_etcd_hangs(void)
{
	CHECK(elect_leading(a.el));
	int64_t t0 = mono_ms();
	kill(em.pid, SIGSTOP);
	CHECK(wait_for(not_leading, &a, LEASE_S * 1000));
	int64_t took = mono_ms() - t0;
	CHECK(took <= LEASE_S * 1000 * 2 / 3 + 200);
	CHECK(a.loses == 2);
	kill(em.pid, SIGCONT);
	CHECK(wait_for(leading, &a, 15000)); /* and campaigns again */
	CHECK(a.leads == 3);
}

int main(void)
{
	if (access(ETCD_BIN, X_OK) != 0) {
		unit_skip("etcd is not installed (" ETCD_BIN ": Debian's etcd-server)");
		return unit_done();
	}
	tmp = xstrdup("/tmp/cfs-test-elect.XXXXXX");
	if (!mkdtemp(tmp) || !etcd_up()) {
		fprintf(stderr, "etcd did not start (log in %s)\n", tmp);
		etcd_member_kill(&em);
		return 1;
	}
	srv_open(&a, "a");
	srv_open(&b, "b");
	RUN(test_one_leads);
	RUN(test_key_lost);
	RUN(test_handover);
	RUN(test_etcd_hangs);
	elect_stop(a.el);
	elect_stop(b.el);
	store_close(a.st);
	store_close(b.st);
	etcd_member_kill(&em);
	etcd_member_free(&em);
	char *cmd = xasprintf("rm -rf %s", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", tmp);
	free(cmd);
	free(tmp);
	free(url);
	return unit_done();
}
