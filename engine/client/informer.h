/*
 * informer.h - a watch loop on its own thread, the way controllers learn
 * of changes: first a resync (the component reads what it needs with
 * api_list), then every change after the revision the resync saw, in
 * order.  If the watch falls so far behind that the store has compacted
 * its revision, the informer resyncs again; no change is ever missed.
 *
 * Callbacks run on the informer's thread, one at a time.  They should only
 * note the change (enqueue a key) and return: never block on the store.
 */
#ifndef CFS_INFORMER_H
#define CFS_INFORMER_H

#include "engine/api/api.h"

struct informer_ops {
	/* Called at start and after a compaction gap: re-read everything. */
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
/* Stops the thread (waits for the callback in progress).  NULL is fine. */
void informer_stop(struct informer *inf);

#endif
