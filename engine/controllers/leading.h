/*
 * leading.h - the loops that only the leading server runs: the Deployment,
 * ReplicaSet and Endpoints controllers, the garbage collector, node
 * lifecycle, node IPAM, the HorizontalPodAutoscaler controller and the
 * scheduler, started together when this
 * server becomes the leader and stopped together when it stops leading
 * (engine/store/elect.h), as often as that happens.  With one server (the
 * SQLite store) they are started once and run until the server stops.
 *
 *     struct leading *l;
 *     leading_new(&(struct leading_opts){.api = api, ...}, &l, &e);
 *     leading_start(l, &e);   // won the election
 *     leading_stop(l);        // lost it: every loop stopped, all joined
 *     leading_free(l);
 *
 * Every thread the loops write from marks itself with api_fence_thread()
 * (their own code does it), so that on etcd a write of a server that lost
 * the lease fails instead of racing the new leader's.
 *
 * The scheduler lives in engine/sched, which this layer may not include:
 * the caller hands its start and stop in (main.c), as an "extra" loop
 * started after the controllers and stopped before them.
 *
 * Threads: leading_start and leading_stop may be called from any thread
 * (one at a time is enforced); they do nothing when the loops already run
 * or are already stopped.
 */
#ifndef CFS_LEADING_H
#define CFS_LEADING_H

#include <stdbool.h>

#include "engine/api/api.h"
#include "engine/controllers/gc.h"
#include "engine/controllers/hpactl.h"
#include "engine/controllers/nodeipam.h"
#include "engine/controllers/nodelife.h"

struct leading_opts {
	struct api *api; /* borrowed: outlives the loops */
	struct nodelife_opts nodelife;
	struct nodeipam_opts nodeipam;
	struct gc_opts gc;
	struct hpactl_opts hpa; /* zero: Kubernetes' defaults */
	/* A loop of another layer (the scheduler); NULL: none.  start returns
	 * 0 and *h, or a negative errno with *e. */
	int (*extra_start)(struct api *a, void **h, struct err **e);
	void (*extra_stop)(void *h);
};

struct leading;

/* Checks the options (node IPAM's) and makes the unit, loops stopped.
 * 0, or -EINVAL with *e. */
int leading_new(const struct leading_opts *o, struct leading **out, struct err **e);

/* Starts every loop unless they run.  0, or a negative errno with *e (then
 * none runs). */
int leading_start(struct leading *l, struct err **e);

/* Stops every loop (after the syncs in progress) unless they are stopped. */
void leading_stop(struct leading *l);

/* Whether the loops run now. */
bool leading_running(struct leading *l);

/* How many times the loops were started (for tests and logs). */
int leading_starts(struct leading *l);

/*
 * Starts and stops the loops as this server leads or stops leading
 * (api_elect_start: on SQLite it leads at once), as name, with the
 * election's key and lease (etcd).  0, or a negative errno with *e.
 */
int leading_elect(struct leading *l, const char *name, const char *key, int lease_s,
		  struct err **e);

/* Stops the election (a leader hands over), the loops, and frees the
 * unit.  NULL is fine. */
void leading_free(struct leading *l);

#endif
