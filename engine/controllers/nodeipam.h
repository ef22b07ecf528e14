/*
 * nodeipam.h - the node IPAM controller: gives each node its own pod
 * network, a subnet of the cluster CIDR, as kube-controller-manager's
 * range allocator does (--allocate-node-cidrs).
 *
 *     $ clusterfs server --cluster-cidr 10.88.0.0/16 --node-cidr-mask-size 24
 *     $ grep podCIDR: /cluster/nodes/a.yaml /cluster/nodes/b.yaml
 *     /cluster/nodes/a.yaml:  podCIDR: 10.88.0.0/24
 *     /cluster/nodes/b.yaml:  podCIDR: 10.88.1.0/24
 *
 * The cluster CIDR is cut into subnets of mask_size bits (256 /24s of a
 * /16).  For each Node:
 *
 *   - without spec.podCIDR: it gets the lowest free subnet, written as
 *     spec.podCIDR and spec.podCIDRs ([podCIDR]); once set, a podCIDR
 *     never changes (the validation refuses a change, as Kubernetes'
 *     does), so its agent may build its pod network on it.
 *   - with a podCIDR it registered with: kept, and its subnets marked
 *     used, when it lies in the cluster CIDR and overlaps no other node's;
 *     otherwise a Warning event (PodCIDROutOfRange, PodCIDROverlap) and a
 *     log line.  Either way nothing it covers is given to another node:
 *     a subnet is free only when no node's podCIDR covers it, so two
 *     nodes' pod networks never overlap through this controller.
 *   - when no subnet is free: a Warning event CIDRNotAvailable on the
 *     node; it is tried again as soon as a subnet is freed.
 *   - deleted: its subnets are free again (the lowest free is given
 *     first, so a new node may get a deleted one's subnet).
 *
 * Hollow nodes (label type: hollow, runtime/hollow) are skipped: they run
 * no pods on a network (their pod IPs are made up), and thousands of them
 * would exhaust any range; their heartbeats cost this controller nothing
 * but a label lookup.
 *
 * Level-based and restart-safe: the used subnets are not stored but
 * rebuilt from the podCIDRs of the Nodes in the store at every
 * (re)start and informer resync, before anything is allocated.
 *
 * Threads: a ctrl (informer + one worker); the allocator belongs to the
 * worker.
 */
#ifndef CFS_NODEIPAM_H
#define CFS_NODEIPAM_H

#include <stdbool.h>

#include "engine/api/api.h"

#define NODEIPAM_DEFAULT_CIDR "10.88.0.0/16"
#define NODEIPAM_DEFAULT_MASK 24

struct nodeipam_opts {
	const char *cluster_cidr; /* IPv4; NULL: NODEIPAM_DEFAULT_CIDR */
	int mask_size;		  /* the nodes' prefix length; <= 0: NODEIPAM_DEFAULT_MASK */
};

struct nodeipam;

/*
 * Checks o (NULL: the defaults): the cluster CIDR an IPv4 A.B.C.D/N with N
 * in 8..30, the mask size in N+1..30 and at most N+16 (65,536 subnets).
 * 0, or -EINVAL with *e naming the flag (--cluster-cidr,
 * --node-cidr-mask-size).
 */
int nodeipam_check_opts(const struct nodeipam_opts *o, struct err **e);

/* Starts the controller on a (borrowed; must outlive it).  0 and *out, or
 * a negative errno with *e. */
int nodeipam_start(struct api *a, const struct nodeipam_opts *o, struct nodeipam **out,
		   struct err **e);

/* Stops it (after the sync in progress) and frees it.  NULL is fine. */
void nodeipam_stop(struct nodeipam *n);

/* Whether IPv4 CIDR inner lies within IPv4 CIDR outer (both A.B.C.D/N).
 * False when either does not parse. */
bool nodeipam_cidr_within(const char *inner, const char *outer);

#endif
