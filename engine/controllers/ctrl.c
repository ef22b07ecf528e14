/*
 * ctrl.c - see ctrl.h.
 */
#include "engine/controllers/ctrl.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "engine/client/informer.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/client/wq.h"

struct ctrl {
	struct api *api;
	struct ctrl_ops ops;
	void *arg;
	struct wq *q;
	struct informer *inf;
	pthread_t *threads;
	int nthreads;
};

static void on_resync(void *arg)
{
	struct ctrl *c = arg;
	if (c->ops.resync)
		c->ops.resync(c->arg, c);
}

static void on_event(void *arg, const struct store_event *ev)
{
	struct ctrl *c = arg;
	if (c->ops.event)
		c->ops.event(c->arg, c, ev);
}

static void *worker_main(void *arg)
{
	struct ctrl *c = arg;
	api_fence_thread(true); /* the leader's writes (leading.h) */
	for (;;) {
		char *key = wq_get(c->q);
		if (!key)
			break;
		int r = c->ops.sync(c->arg, key);
		if (r < 0) {
			log_debug(c->ops.name, "%s: sync failed, retry %d", key,
				  wq_retries(c->q, key) + 1);
			wq_add_rate_limited(c->q, key);
		} else {
			wq_forget(c->q, key);
			if (r > 0)
				wq_add_after(c->q, key, r);
		}
		wq_done(c->q, key);
		free(key);
	}
	return NULL;
}

int ctrl_start(struct api *a, const struct ctrl_ops *ops, void *arg, struct ctrl **out,
	       struct err **e)
{
	struct ctrl *c = xcalloc(1, sizeof(*c));
	c->api = a;
	c->ops = *ops;
	c->arg = arg;
	c->q = wq_new(ops->name);
	c->nthreads = ops->workers > 0 ? ops->workers : 1;
	c->threads = xcalloc((size_t)c->nthreads, sizeof(pthread_t));
	for (int i = 0; i < c->nthreads; i++)
		pthread_create(&c->threads[i], NULL, worker_main, c);
	struct informer_ops io = {on_resync, on_event, NULL, 1000};
	int r = informer_start(a, ops->name, &io, c, &c->inf, e);
	if (r < 0) {
		ctrl_stop(c);
		return r;
	}
	*out = c;
	return 0;
}

void ctrl_stop(struct ctrl *c)
{
	if (!c)
		return;
	informer_stop(c->inf);
	wq_shutdown(c->q);
	for (int i = 0; i < c->nthreads; i++)
		pthread_join(c->threads[i], NULL);
	wq_free(c->q);
	free(c->threads);
	free(c);
}

void ctrl_enqueue(struct ctrl *c, const char *key)
{
	wq_add(c->q, key);
}

void ctrl_enqueue_after(struct ctrl *c, const char *key, int64_t ms)
{
	wq_add_after(c->q, key, ms);
}

bool ctrl_split_key(const char *key, char ns[256], char name[256])
{
	const char *slash = strchr(key, '/');
	if (!slash || (size_t)(slash - key) >= 256 || strlen(slash + 1) >= 256)
		return false;
	snprintf(ns, 256, "%.*s", (int)(slash - key), key);
	snprintf(name, 256, "%s", slash + 1);
	return true;
}

void ctrl_enqueue_obj(struct ctrl *c, const struct sobj *o)
{
	char key[512];
	snprintf(key, sizeof(key), "%s/%s", o->ns, o->name);
	wq_add(c->q, key);
}
