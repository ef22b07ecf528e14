/*
 * nodenet.h - the pod network across nodes, fed from the API: this node's
 * routes (routes.h) to every other node's pod range, kept in step with
 * the Nodes.
 *
 *     $ ip route show proto 207
 *     10.244.2.0/24 via 172.30.88.12 dev eth0
 *     10.244.3.0/24 via 172.30.88.13 dev eth0
 *
 * The node agent opens it once its Node has a pod CIDR, before the CNI
 * network (whose MTU is nodenet_pod_mtu's), and starts it once the Node is
 * registered.  An informer follows the Nodes through the agent's API client
 * (the same for the local agent of `clusterfs server` and a remote
 * `clusterfs agent`); one thread lists them and calls routes_sync with
 * every Node that is a peer (routes_peer_from_node: a pod CIDR and an
 * InternalIP; hollow nodes have no pod CIDR and are none) when a peer
 * appears, changes or goes, and every resync period whatever happened
 * (a route removed by hand comes back).  A Node deleted loses its route at
 * once; one that is only NotReady keeps it (its pods may still answer).
 *
 * Threads: the informer and the sync thread; the functions are called from
 * one thread (the agent's start and stop).
 */
#ifndef CFS_NODENET_H
#define CFS_NODENET_H

#include "engine/client/apic.h"
#include "engine/err.h"
#include "runtime/net/routes.h"

struct nodenet_opts {
	enum routes_mode mode;
	const char *node;     /* this node's name (its own Node is no peer) */
	const char *node_ip;  /* this node's address */
	const char *pod_cidr; /* this node's pod range */
	int resync_ms;	      /* <= 0: NODENET_RESYNC_MS */
};

#define NODENET_RESYNC_MS 30000

struct nodenet;

/* routes_open with these options: 0 and *out, or a negative errno with *e. */
int nodenet_open(const struct nodenet_opts *o, struct nodenet **out, struct err **e);

/* The MTU pods' interfaces get (routes_pod_mtu).  Can't fail. */
int nodenet_pod_mtu(const struct nodenet *n);

/* Follows the Nodes through c (borrowed; must outlive n) and syncs the
 * routes.  0, or a negative errno with *e (nothing started). */
int nodenet_start(struct nodenet *n, struct apic *c, struct err **e);

/* Stops the threads and frees n; the routes stay (routes_close).  NULL ok. */
void nodenet_close(struct nodenet *n);

#endif
