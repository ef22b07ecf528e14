/*
 * rsctl.h - the ReplicaSet controller: keeps exactly spec.replicas live
 * pods for every ReplicaSet, replacing pods that are deleted or fail, and
 * keeps its status current.
 *
 *     $ echo 5 > /cluster/replicasets/web-7d4b9c8f5/replicas
 *     $ cat /cluster/replicasets/web-7d4b9c8f5/pods | wc -l
 *     5
 *
 * Pods are named RS-XXXXX, owned by the ReplicaSet (controller reference),
 * created and deleted in batches (one transaction each).  Surplus pods are
 * chosen as Kubernetes does: unscheduled before scheduled, pending before
 * running, not ready before ready, newest first.
 */
#ifndef CFS_RSCTL_H
#define CFS_RSCTL_H

#include "engine/api/api.h"

struct rsctl;

int rsctl_start(struct api *a, struct rsctl **out, struct err **e);
void rsctl_stop(struct rsctl *r);

/* The pod name suffix alphabet Kubernetes uses (no vowels, no look-alikes). */
extern const char rsctl_alphabet[];
#define RSCTL_ALPHABET_LEN 27

#endif
