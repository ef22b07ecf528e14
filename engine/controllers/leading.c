/*
 * leading.c - see leading.h.
 */
#include "engine/controllers/leading.h"

#include <pthread.h>
#include <stdlib.h>

#include "engine/controllers/deployctl.h"
#include "engine/controllers/epctl.h"
#include "engine/controllers/rsctl.h"
#include "engine/log.h"
#include "engine/mem.h"

struct leading {
	struct leading_opts o;
	pthread_mutex_t lock; /* one start or stop at a time; guards below */
	bool running;
	int starts;
	struct deployctl *dc;
	struct rsctl *rc;
	struct epctl *ep;
	struct gc *gc;
	struct hpactl *hpa;
	struct nodelife *nl;
	struct nodeipam *ipam;
	void *extra;
	struct api_elect *elect; /* leading_elect's */
};

int leading_new(const struct leading_opts *o, struct leading **out, struct err **e)
{
	int r = nodeipam_check_opts(&o->nodeipam, e);
	if (r < 0)
		return r;
	struct leading *l = xcalloc(1, sizeof(*l));
	l->o = *o;
	pthread_mutex_init(&l->lock, NULL);
	*out = l;
	return 0;
}

/* One loop's stop, run on a thread of its own: each waits for its
 * informer's next wake-up (up to a second), so they wait together. */
struct stopper {
	void (*stop)(void *);
	void *h;
	pthread_t t;
	bool on;
};

static void *stopper_main(void *arg)
{
	struct stopper *s = arg;
	s->stop(s->h);
	return NULL;
}

static void stop_deployctl(void *h)
{
	deployctl_stop(h);
}
static void stop_rsctl(void *h)
{
	rsctl_stop(h);
}
static void stop_epctl(void *h)
{
	epctl_stop(h);
}
static void stop_hpactl(void *h)
{
	hpactl_stop(h);
}
static void stop_gc(void *h)
{
	gc_stop(h);
}
static void stop_nodelife(void *h)
{
	nodelife_stop(h);
}
static void stop_nodeipam(void *h)
{
	nodeipam_stop(h);
}

/* Stops what runs, all at once.  Under l->lock. */
static void stop_locked(struct leading *l)
{
	struct stopper s[] = {
	    {l->o.extra_stop, l->extra, 0, false}, {stop_nodeipam, l->ipam, 0, false},
	    {stop_nodelife, l->nl, 0, false},	   {stop_gc, l->gc, 0, false},
	    {stop_hpactl, l->hpa, 0, false},	   {stop_epctl, l->ep, 0, false},
	    {stop_rsctl, l->rc, 0, false},	   {stop_deployctl, l->dc, 0, false},
	};
	size_t n = sizeof(s) / sizeof(s[0]);
	for (size_t i = 0; i < n; i++)
		if (s[i].h && s[i].stop)
			s[i].on = pthread_create(&s[i].t, NULL, stopper_main, &s[i]) == 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i].on)
			pthread_join(s[i].t, NULL);
		else if (s[i].h && s[i].stop)
			s[i].stop(s[i].h); /* no thread: here */
	}
	l->extra = NULL;
	l->ipam = NULL;
	l->nl = NULL;
	l->gc = NULL;
	l->hpa = NULL;
	l->ep = NULL;
	l->rc = NULL;
	l->dc = NULL;
	l->running = false;
}

int leading_start(struct leading *l, struct err **e)
{
	pthread_mutex_lock(&l->lock);
	if (l->running) {
		pthread_mutex_unlock(&l->lock);
		return 0;
	}
	struct api *a = l->o.api;
	int r;
	if ((r = deployctl_start(a, &l->dc, e)) < 0 || (r = rsctl_start(a, &l->rc, e)) < 0 ||
	    (r = epctl_start(a, &l->ep, e)) < 0 || (r = gc_start(a, &l->o.gc, &l->gc, e)) < 0 ||
	    (r = hpactl_start(a, &l->o.hpa, &l->hpa, e)) < 0 ||
	    (r = nodelife_start(a, &l->o.nodelife, &l->nl, e)) < 0 ||
	    (r = nodeipam_start(a, &l->o.nodeipam, &l->ipam, e)) < 0 ||
	    (l->o.extra_start && (r = l->o.extra_start(a, &l->extra, e)) < 0)) {
		stop_locked(l);
		pthread_mutex_unlock(&l->lock);
		return r;
	}
	l->running = true;
	l->starts++;
	pthread_mutex_unlock(&l->lock);
	log_info("leading", "controllers, scheduler, node lifecycle and GC started");
	return 0;
}

void leading_stop(struct leading *l)
{
	pthread_mutex_lock(&l->lock);
	bool was = l->running;
	stop_locked(l);
	pthread_mutex_unlock(&l->lock);
	if (was)
		log_info("leading", "controllers, scheduler, node lifecycle and GC stopped");
}

bool leading_running(struct leading *l)
{
	pthread_mutex_lock(&l->lock);
	bool r = l->running;
	pthread_mutex_unlock(&l->lock);
	return r;
}

int leading_starts(struct leading *l)
{
	pthread_mutex_lock(&l->lock);
	int n = l->starts;
	pthread_mutex_unlock(&l->lock);
	return n;
}

static int on_lead(void *arg)
{
	struct leading *l = arg;
	struct err *e = NULL;
	int r = leading_start(l, &e);
	if (r < 0)
		log_error("leading", "starting the controllers: %s", e ? e->msg : "?");
	err_free(e);
	return r;
}

static void on_lose(void *arg)
{
	leading_stop(arg);
}

int leading_elect(struct leading *l, const char *name, const char *key, int lease_s, struct err **e)
{
	struct api_elect_opts o = {name, key, lease_s, on_lead, on_lose, l};
	return api_elect_start(l->o.api, &o, &l->elect, e);
}

void leading_free(struct leading *l)
{
	if (!l)
		return;
	api_elect_stop(l->elect);
	leading_stop(l);
	pthread_mutex_destroy(&l->lock);
	free(l);
}
