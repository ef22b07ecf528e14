/*
 * ctrl.h - the controller pattern: informer -> work queue -> sync(key).
 *
 * A controller gives three callbacks.  resync() and event() run on the
 * informer's thread and only enqueue keys ("NS/NAME") of the objects the
 * controller owns; sync(key) runs on a worker thread, re-reads the current
 * state through the API and makes one step toward the desired state.  The
 * queue never runs one key on two workers at once and de-duplicates; a
 * failed sync is retried with exponential backoff; sync can ask to be run
 * again later (a condition that time will change).  Because resync enqueues
 * every key at start, a restart loses no work.
 */
#ifndef CFS_CTRL_H
#define CFS_CTRL_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/api/api.h"

struct ctrl;

struct ctrl_ops {
	const char *name;
	int workers; /* threads running sync (>= 1) */
	/* Returns < 0 to retry with backoff, > 0 to run again after that many
	 * milliseconds, 0 when done. */
	int (*sync)(void *arg, const char *key);
	void (*resync)(void *arg, struct ctrl *c);
	void (*event)(void *arg, struct ctrl *c, const struct store_event *ev);
};

int ctrl_start(struct api *a, const struct ctrl_ops *ops, void *arg, struct ctrl **out,
	       struct err **e);
/* Stops the informer and the workers (after their current sync).  NULL is fine. */
void ctrl_stop(struct ctrl *c);

void ctrl_enqueue(struct ctrl *c, const char *key);
void ctrl_enqueue_after(struct ctrl *c, const char *key, int64_t ms);
/* Splits a key "NS/NAME" into ns and name (each 256 bytes).  False if malformed. */
bool ctrl_split_key(const char *key, char ns[256], char name[256]);

/* Enqueues "NS/NAME" of obj. */
void ctrl_enqueue_obj(struct ctrl *c, const struct sobj *o);

/* The longest a sync asks to wait before it runs again (10 minutes): a
 * deadline further off is simply looked at again then. */
#define CTRL_REQUEUE_MAX_MS 600000

/* What sync returns to run again after ms (0 or less: done), capped at
 * CTRL_REQUEUE_MAX_MS. */
static inline int ctrl_requeue_after(int64_t ms)
{
	return ms > 0 ? (int)(ms > CTRL_REQUEUE_MAX_MS ? CTRL_REQUEUE_MAX_MS : ms) : 0;
}

#endif
