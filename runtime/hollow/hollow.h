/*
 * hollow.h - hollow nodes: simulated kubelets, like Kubernetes' kubemark.
 *
 * A scheduler, a node lifecycle controller or a load test needs nodes that
 * behave like real ones without running containers.  hollow_start()
 * registers Nodes hollow-1 ... hollow-N and then acts as their kubelets,
 * through the API only, the way the real node agent will:
 *
 *   - Registration: missing Nodes are created in one batch, with labels
 *     (kubernetes.io/hostname, kubernetes.io/os: linux, type: hollow),
 *     capacity and allocatable {cpu 4, memory 16Gi, pods 110}, conditions
 *     (MemoryPressure, DiskPressure, PIDPressure False; Ready True),
 *     addresses (InternalIP 10.200.X.Y from the index) and nodeInfo.
 *     Nodes that exist already are taken over.
 *   - Heartbeat: every heartbeat_s seconds, the status of every live node
 *     is posted in one batch (Ready=True, lastHeartbeatTime now).
 *   - Pods: a pod bound to a hollow node is "started" at once: phase
 *     Running, conditions Initialized/Ready/ContainersReady/PodScheduled
 *     True, hostIP, a unique podIP (10.100.0.1 upwards), startTime,
 *     qosClass and a running containerStatus per container.  Pods are
 *     gathered for a few milliseconds and written in one batch.
 *   - Readiness: a pod annotated hollow.clusterfs.io/ready: "false" (in its
 *     template, for a Deployment) is started Running but its Ready and
 *     ContainersReady conditions stay False, as if its readiness probe
 *     never passed: what a rollout of a broken image looks like.
 *   - Deletion: a pod marked for deletion (metadata.deletionTimestamp) on a
 *     hollow node is deleted with grace 0, in batches.
 *   - Failure: a Node annotated hollow.clusterfs.io/paused: "true" acts as
 *     a dead kubelet: no heartbeats, its pods are left alone.  Removing the
 *     annotation revives it (a heartbeat at once, then the pods it missed).
 *
 * Work per pod is constant (hash lookups; no per-pod transaction): 1,000
 * nodes and 30,000 pods arriving in bursts cost about ten status batches.
 *
 * Threads: an informer thread notes pod and node changes; a worker thread
 * writes pod batches; a heartbeat thread posts node status.  One mutex in
 * struct hollow guards the shared state (see hollow.c); it is never held
 * across an API call.  hollow_start/hollow_stop are not to be called
 * concurrently on the same object.
 */
#ifndef CFS_HOLLOW_H
#define CFS_HOLLOW_H

#include "engine/client/apic.h"

#define HOLLOW_PAUSED_ANNOTATION "hollow.clusterfs.io/paused"
#define HOLLOW_READY_ANNOTATION	 "hollow.clusterfs.io/ready"

struct hollow_opts {
	int heartbeat_s;    /* seconds between heartbeats; <= 0: 10 */
	int gather_ms;	    /* how long to gather pod changes into a batch; <= 0: 5 */
	const char *prefix; /* the nodes are PREFIX-1..N; NULL: "hollow" */
};

#define HOLLOW_PREFIX_MAX 24 /* characters of a prefix */

/*
 * The prefix of a server's hollow nodes (--hollow-prefix, else from
 * --server-name when several servers may share the store): given, or
 * "hollow-" and server_name in lower case with every character that is
 * not a letter or a digit as '-' (at most HOLLOW_PREFIX_MAX characters),
 * or "hollow" when both are NULL.  A new string.
 */
char *hollow_prefix_for(const char *given, const char *server_name);

/* 0 if p can name nodes (lower-case letters, digits and '-', starting and
 * ending with a letter or digit, at most HOLLOW_PREFIX_MAX), else -EINVAL
 * with *e. */
int hollow_prefix_check(const char *p, struct err **e);

struct hollow;

/*
 * Registers or takes over n hollow nodes (1 <= n <= 65000) named
 * PREFIX-1..PREFIX-n (o->prefix) on a (borrowed;
 * must outlive the hollow) and starts their threads.  o may be NULL for
 * the defaults.  Returns 0 and *out, or a negative errno with *e when the
 * nodes could not be registered (nothing is left running then).
 */
int hollow_start(struct apic *c, int n, const struct hollow_opts *o, struct hollow **out,
		 struct err **e);

/* Stops the threads (after the batch in progress) and frees h.  The Nodes
 * stay; they go stale like nodes whose kubelet stopped.  NULL is fine. */
void hollow_stop(struct hollow *h);

/* True when pod is annotated hollow.clusterfs.io/ready: "false". */
bool hollow_pod_never_ready(const json_t *pod);

/* The name of node i (1-based) into out: "hollow-7".  Can't fail. */
void hollow_node_name(int i, char out[32]);

#endif
