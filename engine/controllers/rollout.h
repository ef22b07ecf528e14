/*
 * rollout.h - the arithmetic of a Deployment's rollout, apart from any I/O:
 * how far the new ReplicaSet may grow and the old ones shrink in one
 * reconcile step, as Kubernetes' deployment controller decides it
 * (NewRSNewReplicas, reconcileOldReplicaSets, cleanupUnhealthyReplicas,
 * scaleDownOldReplicaSetsForRollingUpdate, rolloutRecreate,
 * cleanupDeployment).  deployctl.c reads the ReplicaSets, calls these and
 * writes what they decided; the unit tests call them with made-up states.
 *
 *     replicas 10, maxSurge 1, maxUnavailable 0, old RS at 10 (all available):
 *     step 1: new 0 -> 1            (11 pods at most)
 *     step 2: new pod available: old 10 -> 9
 *     step 3: new 1 -> 2 ... until new 10, old 0
 *
 * One refinement over Kubernetes, which counts only specs: a ReplicaSet
 * being scaled down counts its pods that still exist (max of spec.replicas
 * and status.replicas) toward the surge, and at most spec.replicas of its
 * available pods toward availability.  So the bounds hold for the pods that
 * exist at every moment, not only for the specs, however late the
 * ReplicaSet controller catches up.
 *
 * Pure functions, no state: thread-safe.  None can fail except
 * rollout_resolve (a malformed int-or-percent).
 */
#ifndef CFS_ROLLOUT_H
#define CFS_ROLLOUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"

/* What a step needs to know of one ReplicaSet, and what it decides. */
struct rollout_rs {
	int64_t revision;  /* deployment.kubernetes.io/revision */
	int64_t created;   /* creationTimestamp (seconds): old ones scale down oldest first */
	int64_t replicas;  /* spec.replicas */
	int64_t actual;	   /* status.replicas: live pods */
	int64_t available; /* status.availableReplicas */
	bool exists;	   /* false: the new ReplicaSet, not created yet */
	int64_t to;	   /* out: spec.replicas after the step (starts as replicas) */
	void *ref;	   /* the caller's */
};

/* A Deployment's numbers, resolved. */
struct rollout_params {
	int64_t replicas;	 /* spec.replicas */
	int64_t max_surge;	 /* pods above replicas, resolved */
	int64_t max_unavailable; /* pods below replicas, resolved (MaxUnavailable) */
};

/*
 * Resolves maxSurge (rounded up) and maxUnavailable (rounded down), each an
 * int or "N%" of replicas (NULL: "25%"), as ResolveFenceposts does: when
 * both come to 0, maxUnavailable is 1; maxUnavailable is at most replicas.
 * -EINVAL with *e for a malformed value.
 */
int rollout_resolve(const json_t *max_surge, const json_t *max_unavailable, int64_t replicas,
		    struct rollout_params *out, struct err **e);

/* Pods of a ReplicaSet that may still exist: max(spec.replicas, status.replicas). */
int64_t rollout_pods(const struct rollout_rs *rs);

/* Available pods a ReplicaSet will keep: min(spec.replicas, status.availableReplicas). */
int64_t rollout_available(const struct rollout_rs *rs);

/*
 * NewRSNewReplicas for RollingUpdate: the size the new ReplicaSet nw may
 * take now, given every ReplicaSet (nw among them or not): at most
 * replicas + maxSurge pods in all, never above replicas.
 */
int64_t rollout_new_replicas(const struct rollout_params *p, const struct rollout_rs *nw,
			     const struct rollout_rs *old, size_t nold);

/*
 * cleanupUnhealthyReplicas: scales down (sets ->to) the old ReplicaSets'
 * unavailable pods, oldest ReplicaSet first, at most max_cleanup in all.
 * old must be sorted oldest first.  Returns how many were scaled down.
 */
int64_t rollout_cleanup_unhealthy(struct rollout_rs *old, size_t nold, int64_t max_cleanup);

/*
 * scaleDownOldReplicaSetsForRollingUpdate: scales down old ReplicaSets
 * (oldest first) by as many pods as are available above
 * replicas - maxUnavailable.  Returns how many were scaled down.
 */
int64_t rollout_scale_down_old(const struct rollout_params *p, const struct rollout_rs *nw,
			       struct rollout_rs *old, size_t nold);

/*
 * One step of RollingUpdate (reconcileNewReplicaSet, then, if that changed
 * nothing, reconcileOldReplicaSets).  Sets ->to of nw and of old (sorted
 * oldest first).  Returns the number of ReplicaSets whose size changed: 0
 * means the rollout is as far as it can go until pods become available.
 */
int rollout_rolling_step(const struct rollout_params *p, struct rollout_rs *nw,
			 struct rollout_rs *old, size_t nold);

/* What a Recreate step does. */
enum rollout_recreate {
	ROLLOUT_SCALE_DOWN_OLD, /* ->to of the old ones set to 0 */
	ROLLOUT_WAIT_OLD_PODS,	/* old pods still exist (terminating): wait */
	ROLLOUT_SCALE_UP_NEW,	/* nw->to = replicas (create nw if !exists) */
	ROLLOUT_DONE,		/* nothing to do */
};

/* One step of Recreate: every old pod gone before any new one starts.
 * old_pods_exist: a pod of an old ReplicaSet still exists (even terminating). */
enum rollout_recreate rollout_recreate_step(const struct rollout_params *p, struct rollout_rs *nw,
					    struct rollout_rs *old, size_t nold,
					    bool old_pods_exist);

/*
 * cleanupDeployment: which old ReplicaSets to delete so that at most limit
 * remain, lowest revision first, sparing any with pods or a size.  old in
 * any order.  Writes indexes into del (room for nold) and returns their count.
 */
size_t rollout_prune(const struct rollout_rs *old, size_t nold, int64_t limit, size_t *del);

/* Sorts ReplicaSets oldest first (creation time, then revision). */
void rollout_sort_oldest_first(struct rollout_rs *rs, size_t n);

#endif
