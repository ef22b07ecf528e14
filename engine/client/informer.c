/*
 * informer.c - see informer.h.
 */
#include "engine/client/informer.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "engine/log.h"
#include "engine/mem.h"

#define INFORMER_BATCH	    512
#define INFORMER_RETRY_MS   250
#define INFORMER_RETRY_MAX  5000
#define INFORMER_NAP_STEPMS 50

struct informer {
	struct apic *c;
	struct apic *owned; /* informer_start's local client */
	struct apic_watch_spec sp;
	const struct kind_info **kinds;
	char *pod_fields;
	char *name;
	struct informer_ops ops;
	void *arg;
	pthread_t thread;
	bool stop; /* atomic: set by informer_stop, read by the thread */
};

static bool stopping(struct informer *inf)
{
	return __atomic_load_n(&inf->stop, __ATOMIC_ACQUIRE);
}

/* Sleeps ms, waking early when the informer stops. */
static void nap(struct informer *inf, int ms)
{
	for (int left = ms; left > 0 && !stopping(inf); left -= INFORMER_NAP_STEPMS) {
		int step = left < INFORMER_NAP_STEPMS ? left : INFORMER_NAP_STEPMS;
		struct timespec ts = {0, (long)step * 1000000L};
		nanosleep(&ts, NULL);
	}
}

/* Opens the watch, retrying with back-off until it opens or we stop. */
static struct apic_watch *open_watch(struct informer *inf)
{
	int delay = INFORMER_RETRY_MS;
	bool told = false;
	while (!stopping(inf)) {
		struct apic_watch *w = NULL;
		struct err *e = NULL;
		int r = apic_watch_open(inf->c, &inf->sp, &w, &e);
		if (r == 0) {
			if (told)
				log_info("informer", "%s: watching again", inf->name);
			return w;
		}
		if (!told)
			log_warn("informer", "%s: cannot watch (%s); retrying", inf->name,
				 e ? e->msg : strerror(-r));
		told = true;
		err_free(e);
		nap(inf, delay);
		delay = delay * 2 > INFORMER_RETRY_MAX ? INFORMER_RETRY_MAX : delay * 2;
	}
	return NULL;
}

static void *informer_main(void *varg)
{
	struct informer *inf = varg;
	struct apic_watch *w = open_watch(inf);
	if (!w)
		return NULL;
	struct store_event *evs = xcalloc(INFORMER_BATCH, sizeof(*evs));
	if (inf->ops.resync)
		inf->ops.resync(inf->arg);
	int wait = inf->ops.idle_ms > 0 ? inf->ops.idle_ms : 1000;
	while (!stopping(inf)) {
		int n = apic_watch_next(w, evs, INFORMER_BATCH, wait);
		if (n == -ERANGE) {
			log_warn("informer", "%s: changes may have been missed; resyncing",
				 inf->name);
			if (inf->ops.resync)
				inf->ops.resync(inf->arg);
			continue;
		}
		for (int i = 0; i < n && !stopping(inf); i++)
			if (inf->ops.event)
				inf->ops.event(inf->arg, &evs[i]);
		if (n > 0)
			store_events_free(evs, (size_t)n);
		else if (n < 0)
			nap(inf, INFORMER_RETRY_MS);
		if (inf->ops.idle && !stopping(inf))
			inf->ops.idle(inf->arg);
	}
	free(evs);
	apic_watch_close(w);
	return NULL;
}

static void informer_free(struct informer *inf)
{
	apic_free(inf->owned);
	free(inf->kinds);
	free(inf->pod_fields);
	free(inf->name);
	free(inf);
}

int informer_start_apic(struct apic *c, const char *name, const struct apic_watch_spec *sp,
			const struct informer_ops *ops, void *arg, struct informer **out,
			struct err **e)
{
	struct informer *inf = xcalloc(1, sizeof(*inf));
	inf->c = c;
	inf->name = xstrdup(name);
	inf->ops = *ops;
	inf->arg = arg;
	if (sp && sp->nkinds) {
		inf->kinds = xcalloc(sp->nkinds, sizeof(*inf->kinds));
		memcpy(inf->kinds, sp->kinds, sp->nkinds * sizeof(*inf->kinds));
		inf->sp.kinds = inf->kinds;
		inf->sp.nkinds = sp->nkinds;
	}
	if (sp && sp->pod_fields)
		inf->pod_fields = xstrdup(sp->pod_fields);
	inf->sp.pod_fields = inf->pod_fields;
	int r = pthread_create(&inf->thread, NULL, informer_main, inf);
	if (r) {
		informer_free(inf);
		return err_make(e, r, "starting informer %s: %s", name, strerror(r));
	}
	*out = inf;
	return 0;
}

int informer_start(struct api *a, const char *name, const struct informer_ops *ops, void *arg,
		   struct informer **out, struct err **e)
{
	struct apic *c = apic_local_new(a);
	int r = informer_start_apic(c, name, NULL, ops, arg, out, e);
	if (r < 0)
		apic_free(c);
	else
		(*out)->owned = c;
	return r;
}

void informer_stop(struct informer *inf)
{
	if (!inf)
		return;
	__atomic_store_n(&inf->stop, true, __ATOMIC_RELEASE);
	pthread_join(inf->thread, NULL);
	informer_free(inf);
}
