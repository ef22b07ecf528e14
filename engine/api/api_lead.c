/*
 * api_lead.c - what the API knows of several servers (api.h): the leader's
 * name for the faces, and the fencing of the leader's loops' writes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/api/api.h"
#include "engine/api/api_int.h"
#include "engine/clock.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/store/elect.h"
#include "engine/store/store.h"

static pthread_mutex_t lead_lock = PTHREAD_MUTEX_INITIALIZER; /* every api's leader */

static __thread bool tls_fenced; /* api_fence_thread's mark */

void api_fence_thread(bool on)
{
	tls_fenced = on;
	store_fence_thread(on);
}

bool api_thread_fenced(void)
{
	return tls_fenced;
}

void api_set_leader(struct api *a, const char *name)
{
	struct api *r = a->root;
	char *copy = name && *name ? xstrdup(name) : NULL;
	pthread_mutex_lock(&lead_lock);
	char *old = r->leader;
	bool same = (!old && !copy) || (old && copy && !strcmp(old, copy));
	r->leader = copy;
	if (!same)
		r->leader_seq++;
	pthread_mutex_unlock(&lead_lock);
	free(old);
}

char *api_leader(struct api *a)
{
	pthread_mutex_lock(&lead_lock);
	char *s = a->root->leader ? xstrdup(a->root->leader) : NULL;
	pthread_mutex_unlock(&lead_lock);
	return s;
}

#define STALE_RETRY_MS 1000 /* a failed sync is not tried again sooner */

/* Under lead_lock: the failure kept from a sync less than STALE_RETRY_MS
 * ago, or 0. */
static int stale_recent(struct api *r, struct err **e)
{
	if (!r->stale_since_ns || mono_ms() - r->stale_at_ms >= STALE_RETRY_MS)
		return 0;
	return err_make(e, r->stale_code, "%s", r->stale_msg ? r->stale_msg : "?");
}

int api_sync(struct api *a, struct err **e)
{
	struct api *r = a->root;
	if (!store_etcd(a->st))
		return 0;
	_cleanup_err_ struct err *mine = NULL;
	pthread_mutex_lock(&lead_lock);
	int rc = stale_recent(r, &mine);
	pthread_mutex_unlock(&lead_lock);
	if (rc == 0)
		rc = store_sync(a->st, &mine);
	pthread_mutex_lock(&lead_lock);
	if (rc == 0 && r->stale_since_ns) {
		log_info("api", "the store answers again: reads are current");
		r->stale_since_ns = 0;
		r->stale_reported = false;
		r->stale_seq++;
	} else if (rc < 0 && mono_ms() - r->stale_at_ms >= STALE_RETRY_MS) {
		if (!r->stale_since_ns) {
			r->stale_since_ns = wall_ns();
			log_warn("api", "can't sync with the store: reads may be stale: %s",
				 mine ? mine->msg : "?");
		}
		r->stale_at_ms = mono_ms();
		r->stale_code = -rc;
		free(r->stale_msg);
		r->stale_msg = xstrdup(mine ? mine->msg : "the store did not answer");
		r->stale_seq++;
	}
	pthread_mutex_unlock(&lead_lock);
	if (rc < 0 && e) {
		err_free(*e);
		*e = STEAL_POINTER(&mine);
	}
	return rc;
}

enum api_read api_read_of_rv(const char *rv, int64_t *min_rev)
{
	*min_rev = 0;
	if (!rv || !*rv)
		return API_READ_LATEST;
	if (!strcmp(rv, "0"))
		return API_READ_CACHED;
	*min_rev = strtoll(rv, NULL, 10);
	return API_READ_AT_LEAST;
}

/* HH:MM:SS UTC of a wall time in ns. */
static void clock_of(int64_t ns, char out[16])
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 16, "%H:%M:%S", &tm);
}

int api_read_sync(struct api *a, enum api_read how, int64_t min_rev, const char *face_path,
		  struct err **e)
{
	if (how == API_READ_CACHED || (how == API_READ_AT_LEAST && api_rev(a) >= min_rev))
		return 0;
	_cleanup_err_ struct err *se = NULL;
	if (api_sync(a, &se) == 0)
		return 0;
	struct api *r = a->root;
	char since[16];
	pthread_mutex_lock(&lead_lock);
	clock_of(r->stale_since_ns ? r->stale_since_ns : wall_ns(), since);
	bool report = face_path && !r->stale_reported;
	r->stale_reported = r->stale_reported || report;
	pthread_mutex_unlock(&lead_lock);
	char *msg = xasprintf("reads fail: the store can't confirm the latest state (no quorum, "
			      "or no etcd member answers), and this server's copy may be stale "
			      "since %s UTC: %s",
			      since, se ? se->msg : "?");
	if (report)
		api_refused(a, face_path, EIO, msg);
	int rc = err_make(e, EIO, "%s", msg);
	free(msg);
	return rc;
}

int64_t api_stale(struct api *a, char **msg)
{
	pthread_mutex_lock(&lead_lock);
	int64_t since = a->root->stale_since_ns;
	if (msg)
		*msg = since && a->root->stale_msg ? xstrdup(a->root->stale_msg) : NULL;
	pthread_mutex_unlock(&lead_lock);
	return since;
}

uint64_t api_stale_seq(struct api *a)
{
	pthread_mutex_lock(&lead_lock);
	uint64_t n = a->root->stale_seq;
	pthread_mutex_unlock(&lead_lock);
	return n;
}

const char *api_store_kind(struct api *a)
{
	return store_etcd(a->st) ? "etcd" : "sqlite";
}

uint64_t api_leader_seq(struct api *a)
{
	pthread_mutex_lock(&lead_lock);
	uint64_t n = a->root->leader_seq;
	pthread_mutex_unlock(&lead_lock);
	return n;
}

struct api_elect {
	struct api *api;
	struct api_elect_opts o;
	struct elect *el; /* NULL: SQLite, leading from the start */
};

static void on_holder(void *arg, const char *name)
{
	struct api_elect *x = arg;
	api_set_leader(x->api, name);
}

static int on_lead(void *arg)
{
	struct api_elect *x = arg;
	return x->o.lead(x->o.arg);
}

static void on_lose(void *arg)
{
	struct api_elect *x = arg;
	x->o.lose(x->o.arg);
}

int api_elect_start(struct api *a, const struct api_elect_opts *o, struct api_elect **out,
		    struct err **e)
{
	struct api_elect *x = xcalloc(1, sizeof(*x));
	x->api = a->root;
	x->o = *o;
	int r;
	if (!store_etcd(a->st)) {
		api_set_leader(a, o->name);
		r = o->lead(o->arg) < 0 ? err_make(e, EIO, "starting the controllers") : 0;
	} else {
		struct elect_opts eo = {.st = a->st,
					.key = o->key,
					.name = o->name,
					.lease_s = o->lease_s,
					.lead = on_lead,
					.lose = on_lose,
					.holder = on_holder,
					.arg = x};
		r = elect_start(&eo, &x->el, e);
	}
	if (r < 0) {
		free(x);
		return r;
	}
	*out = x;
	return 0;
}

void api_elect_stop(struct api_elect *x)
{
	if (!x)
		return;
	if (x->el)
		elect_stop(x->el);
	else
		x->o.lose(x->o.arg);
	free(x);
}
