/*
 * podcg.h - a pod's own cgroup, the parent of its containers' cgroups,
 * where the pod-level limits live (today: the pids limit, as the
 * kubelet's podPidsLimit).
 *
 *     $ cat /sys/fs/cgroup/pids/clusterfs/pod9f1c2e.../pids.max      (v1)
 *     4096
 *     $ ls /sys/fs/cgroup/pids/clusterfs/pod9f1c2e.../
 *     9f1c2e...-web-0/  pids.current  pids.max  ...
 *
 * Layout: PARENT/podUID in each hierarchy (PARENT the agent's cgroup
 * parent, "/clusterfs"); runc makes the containers' PARENT/podUID/ID below
 * it (pod.h).  On cgroup v1 this module makes only the pids hierarchy's
 * directory (runc makes the others, and removes only its leaves); on v2
 * it enables the pids controller down to the pod (cgroup.subtree_control).
 * The pause process stays outside: the pod cgroup holds the containers.
 *
 * Threads: no state; calls for different pods may run at once.
 */
#ifndef CFS_PODCG_H
#define CFS_PODCG_H

#include <stdint.h>

#include "engine/err.h"

/* "PARENT/podUID", the pod's cgroup below a hierarchy's root (the caller
 * frees it). */
char *podcg_path(const char *parent, const char *uid);

/*
 * Makes the pod's cgroup and sets pids.max to pids_max, every process and
 * thread of every container of the pod counted together.  pids_max <= 0 or
 * parent NULL: nothing (no limit).  Returns 0, or a negative errno with *e
 * (no pids controller, a cgroup file that cannot be written): the pod must
 * not start without the limit it was promised.
 */
int podcg_create(const char *parent, const char *uid, int64_t pids_max, struct err **e);

/* Removes the pod's cgroup in every hierarchy (once its containers are
 * deleted: a cgroup still in use stays, EBUSY ignored).  parent or uid
 * NULL: nothing.  Can't fail. */
void podcg_remove(const char *parent, const char *uid);

/* Removes every pod cgroup below parent, then parent itself, where empty
 * (`clusterfs reset`).  Can't fail. */
void podcg_remove_all(const char *parent);

#endif
