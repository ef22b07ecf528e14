/*
 * api_lead.c - what the API knows of several servers (api.h): the leader's
 * name for the faces, and the fencing of the leader's loops' writes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "engine/api/api.h"
#include "engine/api/api_int.h"
#include "engine/mem.h"
#include "engine/store/elect.h"
#include "engine/store/store.h"

static pthread_mutex_t lead_lock = PTHREAD_MUTEX_INITIALIZER; /* every api's leader */

void api_fence_thread(bool on)
{
	store_fence_thread(on);
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

int api_sync(struct api *a, struct err **e)
{
	struct err *mine = NULL;
	int r = store_sync(a->st, e ? e : &mine);
	err_free(mine);
	return r;
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
