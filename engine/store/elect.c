/*
 * elect.c - see elect.h.
 *
 * Two threads: the runner campaigns, renews the lease and watches the key;
 * the watchdog ends a term whose lease was not renewed in time, even while
 * the runner waits for etcd.  el->role serializes what a term does to the
 * store and the callbacks (winning, losing); el->mu guards the state.
 */
#include "engine/store/elect.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clock.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/store/etcd.h"

#define ELECT_RETRY_MS 1000 /* after an error talking to etcd */

struct elect {
	struct elect_opts o;
	char *key, *name;
	size_t klen;
	struct etcd *c;
	int64_t ttl_ms;

	pthread_mutex_t role; /* winning and losing, one at a time */
	pthread_mutex_t mu;   /* guards the rest */
	pthread_cond_t cv;    /* stop, a vacant key, a new deadline */
	bool stop;
	bool leading;
	int terms;	     /* terms won; the current one's number while leading */
	int64_t valid_until; /* mono ms: leading ends then unless renewed */
	int64_t lease;	     /* the lease of the current term (0: none) */
	int64_t create_rev;  /* the key's create revision in this term */
	bool vacant;	     /* the watch saw the key deleted */
	pthread_mutex_t say; /* one holder report at a time */
	uint64_t said;	     /* holder reports made (guarded by say) */
	pthread_t runner, watchdog;
	bool runner_on, watchdog_on;
};

static bool stopping(struct elect *el)
{
	pthread_mutex_lock(&el->mu);
	bool s = el->stop;
	pthread_mutex_unlock(&el->mu);
	return s;
}

/* Reports the holder; with only_if, only when no report came since *only_if. */
static void say_holder_if(struct elect *el, const char *name, const uint64_t *only_if)
{
	pthread_mutex_lock(&el->say);
	if (!only_if || el->said == *only_if) {
		el->said++;
		if (el->o.holder)
			el->o.holder(el->o.arg, name);
	}
	pthread_mutex_unlock(&el->say);
}

static void say_holder(struct elect *el, const char *name)
{
	say_holder_if(el, name, NULL);
}

static uint64_t said(struct elect *el)
{
	pthread_mutex_lock(&el->say);
	uint64_t n = el->said;
	pthread_mutex_unlock(&el->say);
	return n;
}

/* Sleeps ms on el->cv unless stopping; false when stopping. */
static bool nap(struct elect *el, int64_t ms)
{
	struct timespec dl = mono_deadline(ms);
	pthread_mutex_lock(&el->mu);
	while (!el->stop && !el->vacant)
		if (pthread_cond_timedwait(&el->cv, &el->mu, &dl) == ETIMEDOUT)
			break;
	bool go = !el->stop;
	pthread_mutex_unlock(&el->mu);
	return go;
}

static void revoke(struct elect *el, int64_t lease)
{
	struct err *e = NULL;
	if (lease && etcd_lease_revoke(el->c, lease, &e) < 0 && e && e->code != ENOENT)
		log_debug("elect", "revoking lease %lld: %s", (long long)lease, e->msg);
	err_free(e);
}

/*
 * Ends term `term` if it is still the current one: the fence closes first
 * (no fenced write commits from here on), then lose() stops the loops,
 * then the lease is revoked so that the key goes at once.
 */
static void lost(struct elect *el, int term, const char *why)
{
	pthread_mutex_lock(&el->role);
	pthread_mutex_lock(&el->mu);
	bool mine = el->leading && el->terms == term;
	int64_t lease = el->lease;
	uint64_t seen = 0;
	if (mine) {
		el->leading = false;
		el->lease = 0;
		/* the runner campaigns only after this: a holder it finds
		 * while lose() runs must not be overwritten below */
		seen = said(el);
	}
	pthread_mutex_unlock(&el->mu);
	if (mine) {
		store_fence_set(el->o.st, NULL, 0);
		log_warn("elect", "%s: no longer the leader: %s", el->name, why);
		el->o.lose(el->o.arg);
		say_holder_if(el, NULL, &seen);
	}
	pthread_mutex_unlock(&el->role);
	if (mine)
		revoke(el, lease);
}

/* Won with lease and the key's create revision: fence, sync, lead(). */
static void won(struct elect *el, int64_t lease, int64_t create_rev, int64_t t0)
{
	pthread_mutex_lock(&el->role);
	store_fence_set(el->o.st, el->key, create_rev);
	struct err *e = NULL;
	int r = store_sync(el->o.st, &e);
	if (r < 0) {
		log_warn("elect", "%s: won, but cannot catch up with etcd (%s): resigning",
			 el->name, e ? e->msg : "?");
		err_free(e);
		store_fence_set(el->o.st, NULL, 0);
		pthread_mutex_unlock(&el->role);
		revoke(el, lease);
		return;
	}
	pthread_mutex_lock(&el->mu);
	el->leading = true;
	el->terms++;
	el->lease = lease;
	el->create_rev = create_rev;
	el->valid_until = t0 + el->ttl_ms * 2 / 3;
	int term = el->terms;
	pthread_cond_broadcast(&el->cv);
	pthread_mutex_unlock(&el->mu);
	log_info("elect", "%s leads (key %s, revision %lld, lease %llds)", el->name, el->key,
		 (long long)create_rev, (long long)(el->ttl_ms / 1000));
	say_holder(el, el->name);
	r = el->o.lead(el->o.arg);
	pthread_mutex_unlock(&el->role);
	if (r < 0)
		lost(el, term, "could not start the leader's loops");
}

/*
 * One try: 1 when this server now leads; 0 when another does (*from: the
 * revision to watch the key from); < 0 on an error talking to etcd.
 */
static int campaign(struct elect *el, int64_t *from)
{
	struct err *e = NULL;
	struct etcd_kv *kvs = NULL;
	size_t n = 0;
	bool more;
	int64_t hdr = 0, lease = 0;
	struct etcd_range rg = {.key = el->key, .key_len = el->klen};
	int r = etcd_get(el->c, &rg, &kvs, &n, &more, &hdr, &e);
	if (r == 0 && n == 0) {
		int64_t t0 = mono_ms();
		r = etcd_lease_grant(el->c, el->ttl_ms / 1000, &lease, &e);
		struct etcd_cmp cmp = {
		    .key = el->key, .key_len = el->klen, .target = ETCD_CMP_VERSION, .op = ETCD_EQ};
		struct etcd_op put = {ETCD_PUT, el->key,	  el->klen,
				      el->name, strlen(el->name), lease};
		struct etcd_op get = {ETCD_RANGE, el->key, el->klen, NULL, 0, 0};
		struct etcd_txn_res res = {0};
		if (r == 0)
			r = etcd_txn(el->c, &cmp, 1, &put, 1, &get, 1, &res, &e);
		if (r == 0 && res.succeeded && !stopping(el)) {
			int64_t crev = res.rev;
			etcd_txn_res_free(&res);
			won(el, lease, crev, t0);
			return 1;
		}
		revoke(el, lease);
		if (r == 0 && res.n)
			say_holder(el, res.kvs[0].value);
		hdr = res.rev;
		etcd_txn_res_free(&res);
	} else if (r == 0) {
		say_holder(el, kvs[0].value);
	}
	etcd_kvs_free(kvs, n);
	if (r < 0) {
		log_debug("elect", "campaign: %s", e ? e->msg : "?");
		err_free(e);
		return r;
	}
	*from = hdr + 1;
	return 0;
}

static void on_key(void *arg, const struct etcd_event *evs, size_t n, int64_t rev,
		   int64_t compacted, int err)
{
	struct elect *el = arg;
	for (size_t i = 0; i < n; i++)
		if (evs[i].type == ETCD_EV_PUT)
			say_holder(el, evs[i].kv.value);
	bool gone = compacted > 0 || err < 0 || (n && evs[n - 1].type == ETCD_EV_DELETE);
	if (!gone)
		return;
	if (n && evs[n - 1].type == ETCD_EV_DELETE)
		say_holder(el, NULL);
	pthread_mutex_lock(&el->mu);
	el->vacant = true;
	pthread_cond_broadcast(&el->cv);
	pthread_mutex_unlock(&el->mu);
}

/* Another server leads: waits until its key goes (or a while passes). */
static void follow(struct elect *el, int64_t from)
{
	struct etcd_range rg = {.key = el->key, .key_len = el->klen};
	struct etcd_watch *w = NULL;
	struct err *e = NULL;
	pthread_mutex_lock(&el->mu);
	el->vacant = false;
	pthread_mutex_unlock(&el->mu);
	if (etcd_watch_start(el->c, &rg, from, on_key, el, &w, &e) < 0) {
		log_debug("elect", "watching %s: %s", el->key, e ? e->msg : "?");
		err_free(e);
		nap(el, ELECT_RETRY_MS);
		return;
	}
	nap(el, el->ttl_ms > 5000 ? el->ttl_ms : 5000);
	etcd_watch_stop(w);
	pthread_mutex_lock(&el->mu);
	el->vacant = false;
	pthread_mutex_unlock(&el->mu);
}

/* One renewal of term: keep-alive, then the key still ours.  0: renewed
 * (or a passing error); < 0: the term is over. */
static int renew(struct elect *el, int term, int64_t lease, int64_t create_rev)
{
	struct err *e = NULL;
	int64_t t0 = mono_ms(), ttl = 0;
	int r = etcd_lease_keepalive(el->c, lease, &ttl, &e);
	if (r == -ENOENT || (r == 0 && ttl <= 0)) {
		err_free(e);
		lost(el, term, "the lease expired");
		return -1;
	}
	struct etcd_kv *kvs = NULL;
	size_t n = 0;
	bool more;
	struct etcd_range rg = {.key = el->key, .key_len = el->klen};
	if (r == 0)
		r = etcd_get(el->c, &rg, &kvs, &n, &more, NULL, &e);
	bool ours = r < 0 || (n == 1 && kvs[0].create_rev == create_rev);
	etcd_kvs_free(kvs, n);
	if (!ours) {
		err_free(e);
		lost(el, term, "the key is no longer ours");
		return -1;
	}
	if (r < 0) {
		log_warn("elect", "%s: renewing the lease: %s", el->name, e ? e->msg : "?");
		err_free(e);
		return 0;
	}
	pthread_mutex_lock(&el->mu);
	if (el->leading && el->terms == term)
		el->valid_until = t0 + el->ttl_ms * 2 / 3;
	pthread_mutex_unlock(&el->mu);
	return 0;
}

/* While this server leads: renews every ttl/3 until the term ends. */
static void hold(struct elect *el)
{
	for (;;) {
		pthread_mutex_lock(&el->mu);
		bool on = el->leading && !el->stop;
		int term = el->terms;
		int64_t lease = el->lease, crev = el->create_rev;
		pthread_mutex_unlock(&el->mu);
		if (!on || !nap(el, el->ttl_ms / 3))
			return;
		pthread_mutex_lock(&el->mu);
		on = el->leading && el->terms == term;
		pthread_mutex_unlock(&el->mu);
		if (!on || renew(el, term, lease, crev) < 0)
			return;
	}
}

static void *runner_main(void *arg)
{
	struct elect *el = arg;
	bool told = false;
	for (;;) {
		if (stopping(el))
			break;
		int64_t from = 0;
		int r = campaign(el, &from);
		if (r < 0 && !told)
			log_warn("elect", "%s: cannot reach etcd to campaign; retrying", el->name);
		told = r < 0;
		if (r == 1)
			hold(el);
		else if (r == 0)
			follow(el, from);
		else
			nap(el, ELECT_RETRY_MS);
	}
	return NULL;
}

static void *watchdog_main(void *arg)
{
	struct elect *el = arg;
	pthread_mutex_lock(&el->mu);
	while (!el->stop) {
		int64_t now = mono_ms();
		if (el->leading && now >= el->valid_until) {
			int term = el->terms;
			pthread_mutex_unlock(&el->mu);
			lost(el, term, "the lease could not be renewed in time");
			pthread_mutex_lock(&el->mu);
			continue;
		}
		int64_t wait = el->leading ? el->valid_until - now : 1000;
		struct timespec dl = mono_deadline(wait > 0 ? wait : 1);
		pthread_cond_timedwait(&el->cv, &el->mu, &dl);
	}
	pthread_mutex_unlock(&el->mu);
	return NULL;
}

int elect_start(const struct elect_opts *o, struct elect **out, struct err **e)
{
	struct etcd *c = store_etcd(o->st);
	if (!c)
		return err_make(e, EINVAL, "leader election: the store is not on etcd");
	if (!o->key || !*o->key || !o->name || !*o->name || !o->lead || !o->lose)
		return err_make(e, EINVAL, "leader election: a key, a name and callbacks");
	struct elect *el = xcalloc(1, sizeof(*el));
	el->o = *o;
	el->c = c;
	el->key = xstrdup(o->key);
	el->klen = strlen(el->key);
	el->name = xstrdup(o->name);
	int lease_s = o->lease_s > 0 ? o->lease_s : ELECT_LEASE_DEFAULT_S;
	el->ttl_ms = (int64_t)(lease_s < 2 ? 2 : lease_s) * 1000;
	pthread_mutex_init(&el->role, NULL);
	pthread_mutex_init(&el->mu, NULL);
	pthread_mutex_init(&el->say, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&el->cv, &ca);
	pthread_condattr_destroy(&ca);
	store_fence_set(o->st, NULL, 0); /* fenced writes wait for a win */
	int r = pthread_create(&el->watchdog, NULL, watchdog_main, el);
	el->watchdog_on = r == 0;
	if (r == 0) {
		r = pthread_create(&el->runner, NULL, runner_main, el);
		el->runner_on = r == 0;
	}
	if (r) {
		elect_stop(el);
		return err_make(e, r, "leader election: starting a thread: %s", strerror(r));
	}
	log_info("elect", "%s campaigning for %s (lease %ds)", el->name, el->key, lease_s);
	*out = el;
	return 0;
}

void elect_stop(struct elect *el)
{
	if (!el)
		return;
	pthread_mutex_lock(&el->mu);
	el->stop = true;
	int term = el->terms;
	pthread_cond_broadcast(&el->cv);
	pthread_mutex_unlock(&el->mu);
	if (el->runner_on)
		pthread_join(el->runner, NULL);
	if (el->watchdog_on)
		pthread_join(el->watchdog, NULL);
	lost(el, term, "stopping");
	pthread_mutex_destroy(&el->role);
	pthread_mutex_destroy(&el->mu);
	pthread_mutex_destroy(&el->say);
	pthread_cond_destroy(&el->cv);
	free(el->key);
	free(el->name);
	free(el);
}

bool elect_leading(struct elect *el)
{
	pthread_mutex_lock(&el->mu);
	bool r = el->leading;
	pthread_mutex_unlock(&el->mu);
	return r;
}

int elect_terms(struct elect *el)
{
	pthread_mutex_lock(&el->mu);
	int r = el->terms;
	pthread_mutex_unlock(&el->mu);
	return r;
}
