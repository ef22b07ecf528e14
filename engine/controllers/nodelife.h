/*
 * nodelife.h - the node lifecycle controller: node health, taints,
 * taint-based eviction and pod garbage collection of lost nodes.  (Drain
 * is an API operation: api_node_drain().)
 *
 * Kubernetes learns that a node is gone only by its silence: its kubelet
 * stops posting status.  This module is that part of kube-controller-
 * manager.  Every period it looks at each Node:
 *
 *   - Health: a node's last heartbeat is the newer of its Lease's
 *     renewTime (coordination.k8s.io/v1, kube-node-lease/NODE, which an
 *     agent renews every few seconds) and its Ready condition's
 *     lastHeartbeatTime (its status posts, which hollow nodes make); so an
 *     agent that renews only its Lease, and posts status on change, stays
 *     Ready.  When that is older than
 *     grace_s (node-monitor-grace-period), Ready and the pressure
 *     conditions become Unknown ("Kubelet stopped posting node status.",
 *     reason NodeStatusUnknown), with a NodeNotReady event, and the pods
 *     on the node stop being Ready.
 *   - Taints: Ready Unknown gives node.kubernetes.io/unreachable (NoExecute
 *     and NoSchedule), Ready False gives node.kubernetes.io/not-ready, Ready
 *     True removes both; spec.unschedulable gives
 *     node.kubernetes.io/unschedulable:NoSchedule.  Taints carry timeAdded.
 *   - Eviction: a pod bound to a node with NoExecute taints is deleted
 *     (default grace; the API deletes at once on a node that is not Ready)
 *     as soon as one taint is not tolerated, or once the smallest
 *     tolerationSeconds of the tolerations that match a taint has passed
 *     since that taint's timeAdded; a toleration without tolerationSeconds
 *     tolerates forever.  Each eviction records TaintManagerEviction.
 *   - Lost nodes: when a Node is deleted, its pods are deleted (grace 0);
 *     at start, pods bound to nodes that do not exist are too.
 *
 * Nodes and their Leases are listed once per period (the Leases hashed by
 * name).  A deleted Node's Lease is deleted.
 *
 * Node status goes in one api_status_many per period, evictions in one
 * api_delete_many; taints change by api_patch per node whose taints change.
 * Pods are listed only in periods that need them (a node with NoExecute
 * taints, a node that just went not-ready, a node deleted).
 *
 * Threads: nodelife_start() runs an informer (node deletions) and one
 * monitor thread; struct nodelife's lock guards only what the two share.
 */
#ifndef CFS_NODELIFE_H
#define CFS_NODELIFE_H

#include <stdint.h>

#include "engine/api/api.h"

struct nodelife_opts {
	int grace_s;   /* node-monitor-grace-period; <= 0: 40 */
	int period_ms; /* monitor period; <= 0: 1000 */
	/* The clock, in ms since the epoch; NULL: the real one.  Tests. */
	int64_t (*now_ms)(void);
};

struct nodelife;

/*
 * Starts the controller on a (borrowed; must outlive it).  o may be NULL
 * for the defaults.  Returns 0 and *out, or a negative errno with *e.
 */
int nodelife_start(struct api *a, const struct nodelife_opts *o, struct nodelife **out,
		   struct err **e);

/* Stops the informer and the monitor (after the period in progress) and
 * frees nl.  NULL is fine. */
void nodelife_stop(struct nodelife *nl);

#endif
