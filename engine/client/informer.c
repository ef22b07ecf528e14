/*
 * informer.c - see informer.h.
 */
#include "engine/client/informer.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "engine/log.h"
#include "engine/mem.h"

#define INFORMER_BATCH 512

struct informer {
	struct api *api;
	char *name;
	struct informer_ops ops;
	void *arg;
	pthread_t thread;
	bool stop; /* atomic: set by informer_stop, read by the thread */
};

static void *informer_main(void *varg)
{
	struct informer *inf = varg;
	struct store_event *evs = xcalloc(INFORMER_BATCH, sizeof(*evs));
	int64_t rev = api_rev(inf->api);
	if (inf->ops.resync)
		inf->ops.resync(inf->arg);
	int wait = inf->ops.idle_ms > 0 ? inf->ops.idle_ms : 1000;
	while (!__atomic_load_n(&inf->stop, __ATOMIC_ACQUIRE)) {
		int n = api_watch(inf->api, rev, evs, INFORMER_BATCH, wait, NULL);
		if (n == -ERANGE) {
			log_warn("informer", "%s: fell behind the store's log; resyncing",
				 inf->name);
			rev = api_rev(inf->api);
			if (inf->ops.resync)
				inf->ops.resync(inf->arg);
			continue;
		}
		for (int i = 0; i < n && !__atomic_load_n(&inf->stop, __ATOMIC_ACQUIRE); i++) {
			rev = evs[i].rv;
			if (inf->ops.event)
				inf->ops.event(inf->arg, &evs[i]);
		}
		if (n > 0)
			store_events_free(evs, (size_t)n);
		if (inf->ops.idle && !__atomic_load_n(&inf->stop, __ATOMIC_ACQUIRE))
			inf->ops.idle(inf->arg);
	}
	free(evs);
	return NULL;
}

int informer_start(struct api *a, const char *name, const struct informer_ops *ops, void *arg,
		   struct informer **out, struct err **e)
{
	struct informer *inf = xcalloc(1, sizeof(*inf));
	inf->api = a;
	inf->name = xstrdup(name);
	inf->ops = *ops;
	inf->arg = arg;
	int r = pthread_create(&inf->thread, NULL, informer_main, inf);
	if (r) {
		free(inf->name);
		free(inf);
		return err_make(e, r, "starting informer %s: %s", name, strerror(r));
	}
	*out = inf;
	return 0;
}

void informer_stop(struct informer *inf)
{
	if (!inf)
		return;
	__atomic_store_n(&inf->stop, true, __ATOMIC_RELEASE);
	pthread_join(inf->thread, NULL);
	free(inf->name);
	free(inf);
}
