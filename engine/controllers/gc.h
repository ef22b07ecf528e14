/*
 * gc.h - the garbage collector: deletes objects whose owners are all gone
 * (an ownerReference to a uid that no longer exists), and Events older
 * than their time to live (one hour, as Kubernetes keeps them; a minute
 * once the object they are about is gone, so that the store does not
 * grow with pods that come and go).
 *
 * Deleting an owner already deletes its dependents in the same transaction
 * (api_delete); this sweep catches what that cannot: dependents created
 * with a stale owner reference.  A thread sweeps every period_s seconds,
 * and every second removes Terminating namespaces left empty and objects
 * in foreground deletion whose dependents are gone.
 */
#ifndef CFS_GC_H
#define CFS_GC_H

#include "engine/api/api.h"

struct gc;

struct gc_opts {
	int period_s;	 /* default 30 */
	int event_ttl_s; /* default 3600 */
};

int gc_start(struct api *a, const struct gc_opts *o, struct gc **out, struct err **e);
void gc_stop(struct gc *g);

/* One sweep now; returns the number of objects deleted.  For tests. */
int gc_sweep(struct api *a, int event_ttl_s);

/* Deletes again each Terminating namespace (removed once empty); returns
 * how many there were.  For tests. */
int gc_namespaces(struct api *a);

/* Deletes again each object in foreground deletion (api_delete_foreground:
 * removed once its dependents are gone); returns how many there were.
 * For tests. */
int gc_foreground(struct api *a);

#endif
