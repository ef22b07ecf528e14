/*
 * informer.h - a watch loop on its own thread, the way controllers and
 * node agents learn of changes: first a resync (the component reads what
 * it needs), then every change after the revision the resync saw, in
 * order.  If the watch falls so far behind that the store has compacted
 * its revision, or loses a stream it cannot resume, the informer resyncs
 * again; no change is ever missed.
 *
 * informer_start() follows the in-process API and every kind (controllers,
 * the scheduler, the filesystem); informer_start_apic() follows an API
 * client (apic.h: in-process or over HTTP) for the kinds named, the way a
 * node agent does.  While the server cannot be reached the informer
 * retries with back-off (logged once per outage) and resyncs only once it
 * watches again.
 *
 * Callbacks run on the informer's thread, one at a time.  They should only
 * note the change (enqueue a key) and return: never block on the store.
 */
#ifndef CFS_INFORMER_H
#define CFS_INFORMER_H

#include "engine/api/api.h"
#include "engine/client/apic.h"

struct informer_ops {
	/* Called at start and after a gap: re-read everything. */
	void (*resync)(void *arg);
	/* Called for each change (ev->obj is borrowed for the call). */
	void (*event)(void *arg, const struct store_event *ev);
	/* Optional: called after each batch of events, and every idle_ms. */
	void (*idle)(void *arg);
	int idle_ms;
};

struct informer;

int informer_start(struct api *a, const char *name, const struct informer_ops *ops, void *arg,
		   struct informer **out, struct err **e);
/* Over an API client (borrowed; must outlive the informer), for what sp
 * names (NULL: every kind). */
int informer_start_apic(struct apic *c, const char *name, const struct apic_watch_spec *sp,
			const struct informer_ops *ops, void *arg, struct informer **out,
			struct err **e);
/* Stops the thread (waits for the callback in progress).  NULL is fine. */
void informer_stop(struct informer *inf);

#endif
