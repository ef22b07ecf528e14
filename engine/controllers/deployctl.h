/*
 * deployctl.h - the Deployment controller: each Deployment owns
 * ReplicaSets named DEPLOY-HASH, one per pod template (HASH from the
 * template, also the pod-template-hash label), scales the current one to
 * spec.replicas and the old ones to zero, numbers revisions, prunes history
 * beyond revisionHistoryLimit, and keeps the Deployment's status and its
 * Available and Progressing conditions current.
 *
 *     $ echo 5 > /cluster/deployments/web/replicas
 *     $ cat /cluster/deployments/web/events
 *     ... Normal ScalingReplicaSet deployment/web Scaled up replica set web-7d4b9c8f5 to 5
 *
 * A template change rolls out as its strategy says (RollingUpdate within
 * maxSurge and maxUnavailable, or Recreate); the arithmetic of one step is
 * rollout.h's.  The Progressing condition turns False with reason
 * ProgressDeadlineExceeded when a rollout makes no progress for
 * progressDeadlineSeconds.  A paused Deployment is not rolled, only scaled
 * (when a single ReplicaSet is active) and observed.
 */
#ifndef CFS_DEPLOYCTL_H
#define CFS_DEPLOYCTL_H

#include <jansson.h>
#include <stdint.h>

#include "engine/api/api.h"

struct deployctl;

int deployctl_start(struct api *a, struct deployctl **out, struct err **e);
void deployctl_stop(struct deployctl *d);

/*
 * The pod-template-hash of a template: FNV-1a (32 bit) over its canonical
 * JSON (sorted keys) and the collision count, written as Kubernetes writes
 * it (decimal digits mapped onto rsctl_alphabet).  out has room for 16.
 */
void deployctl_template_hash(const json_t *template, int64_t collisions, char out[16]);

#endif
