/*
 * routes.h - the pod network across nodes: every peer node's pod range
 * made reachable from this node, as flannel's host-gw and vxlan backends
 * do.
 *
 *     $ ip route show proto 207                           (mode host-gw)
 *     10.244.2.0/24 via 10.99.0.12 dev eth0
 *     10.244.3.0/24 via 10.99.0.13 dev eth0
 *
 *     $ ip route show proto 207                           (mode vxlan)
 *     10.244.2.0/24 via 10.244.2.0 dev cfs-vx onlink
 *     $ ip neigh show dev cfs-vx
 *     10.244.2.0 lladdr 0a:cf:0a:63:00:0c PERMANENT
 *     $ bridge fdb show dev cfs-vx
 *     0a:cf:0a:63:00:0c dst 10.99.0.12 self permanent
 *
 * A peer is a node name, its node IP and its pod CIDR (spec.podCIDR).
 *
 *   host-gw  a route to the peer's pod CIDR via its node IP: the nodes
 *            must share a link (the kernel refuses a gateway that is not
 *            on one: "Nexthop has invalid gateway").
 *   vxlan    a VXLAN device of our own (VNI 1, UDP 8472 by default, the
 *            Linux and flannel port; no learning) on the device that holds
 *            the node IP, its MTU that device's less 50 (the VXLAN header),
 *            its MAC derived from the node IP (0a:cf and the address's four
 *            bytes: every node knows every peer's MAC without publishing
 *            it), its address the node's pod network address /32 (so that
 *            the node itself can reach remote pods, and be answered).  Per
 *            peer: a permanent FDB entry (peer MAC -> peer node IP), a
 *            permanent neighbour (peer pod network address -> peer MAC) and
 *            an onlink route to the peer's pod CIDR via that address.
 *            Works across any IP path between the nodes.
 *
 * Packets keep their pod source addresses on the way (nothing here
 * translates them; the masquerade of pod traffic leaving the cluster's
 * pod range is the proxy's, runtime/net/proxy.h).
 *
 * What is ours: routes of protocol 207 (ROUTES_PROTO, `proto 207`) in the
 * node's network namespace, and the VXLAN device by its name with its
 * neighbour and FDB entries.  One clusterfs node per network namespace.
 *
 * routes_sync is level-based and idempotent: it reads what the kernel
 * holds (`ip -j`, `bridge -j`), compares it with what the peers call for,
 * and changes only the difference (one `bridge -batch` and one `ip -batch`
 * at most, and in vxlan mode one for the device when it differs); a peer
 * no longer listed loses its route, neighbour and FDB entry, and something
 * removed behind our back (the VXLAN device too) comes back at the next
 * sync.  A sync that changes nothing runs only the listings (3 to 6 `ip`
 * and `bridge` runs, ~10 ms).  Nothing is kept in memory between syncs
 * but the options.
 *
 * Why iproute2 and not netlink: routes change when nodes come and go (a
 * few per minute at most), where a fork/exec (~2 ms) does not count; `ip`
 * and `bridge` are required already (the CNI plugins' hosts run them), and
 * their JSON output and batch input give a read-compare-write loop in a
 * few hundred lines that can be replayed by hand (`ip route show proto
 * 207`), where raw rtnetlink (link, address, route, neighbour and FDB
 * messages with their attributes) would take several times the code.
 *
 * Threads: a struct routes serialises its callers with its own mutex.
 * IPv4 only.  Needs CAP_NET_ADMIN; sets net.ipv4.ip_forward to 1.
 */
#ifndef CFS_ROUTES_H
#define CFS_ROUTES_H

#include <jansson.h>
#include <stddef.h>

#include "engine/err.h"

#define ROUTES_PROTO	   207	       /* the rtnetlink protocol of our routes */
#define ROUTES_VXLAN_DEV   "cfs-vxlan" /* the default VXLAN device name */
#define ROUTES_VXLAN_VNI   1
#define ROUTES_VXLAN_PORT  8472
#define ROUTES_VXLAN_EXTRA 50 /* the VXLAN encapsulation's bytes (IPv4) */

enum routes_mode {
	ROUTES_HOST_GW = 0,
	ROUTES_VXLAN,
};

struct routes_opts {
	enum routes_mode mode;
	const char *node_ip;   /* this node's address: "10.99.0.11" */
	const char *pod_cidr;  /* this node's pod range: "10.244.1.0/24" */
	const char *vxlan_dev; /* NULL: ROUTES_VXLAN_DEV; 1-15 of [A-Za-z0-9_.-] */
	int vxlan_vni;	       /* 0: ROUTES_VXLAN_VNI */
	int vxlan_port;	       /* 0: ROUTES_VXLAN_PORT */
};

/* A peer node.  The strings are the caller's. */
struct routes_peer {
	const char *name;     /* for messages */
	const char *node_ip;  /* "10.99.0.12" */
	const char *pod_cidr; /* "10.244.2.0/24" */
};

struct routes;

/*
 * A Kubernetes Node as a peer: metadata.name, spec.podCIDR and the first
 * status.addresses entry of type InternalIP (the agent's --node-ip).  The
 * strings are node's (valid while it is).  0, or -ENOENT when one of the
 * three is missing (a node without a pod CIDR yet, a hollow node): such a
 * node is no peer.  Can't fail otherwise; the values are checked by
 * routes_sync.
 */
int routes_peer_from_node(const json_t *node, struct routes_peer *p);

/* "host-gw" or "vxlan" into *m: 0, or -EINVAL.  Can't fail otherwise. */
int routes_mode_parse(const char *s, enum routes_mode *m);

/* The mode's name: "host-gw" or "vxlan".  Static. */
const char *routes_mode_name(enum routes_mode m);

/*
 * Checks the options, sets net.ipv4.ip_forward and makes the node's side
 * ready: in vxlan mode the device (created, or remade when its VNI, port,
 * local address or underlying device differ); in host-gw mode a VXLAN
 * device of ours left by an earlier vxlan run is deleted.  Peers' routes
 * are left as they are until the first routes_sync.  Returns 0 and *out,
 * -EINVAL for bad options, -ENOENT when no device holds node_ip (vxlan),
 * or -EIO with the tool's message.
 */
int routes_open(const struct routes_opts *o, struct routes **out, struct err **e);

/*
 * Makes the kernel hold the routes (and in vxlan mode the neighbour and
 * FDB entries) of exactly these peers.  A peer with this node's IP or pod
 * CIDR is this node and is skipped; so is a second peer with a pod CIDR
 * already given.  A peer with a bad address or CIDR is skipped and the
 * others synced: the call then returns -EINVAL naming it.  Otherwise 0,
 * or -EIO with the tool's message (e.g. host-gw to a gateway not on a
 * shared link).  peers may be NULL when n is 0: every peer route goes.
 */
int routes_sync(struct routes *r, const struct routes_peer *peers, size_t n, struct err **e);

/* The MTU a pod's interface should have: the node device's, less
 * ROUTES_VXLAN_EXTRA in vxlan mode.  Can't fail. */
int routes_pod_mtu(const struct routes *r);

/* Frees r.  The routes stay (a restarted agent keeps the network up, as
 * kube-proxy's rules stay); routes_reset removes them.  NULL is fine. */
void routes_close(struct routes *r);

/*
 * For `clusterfs reset` and tests: removes every route of protocol
 * ROUTES_PROTO of this network namespace and the VXLAN device vxlan_dev
 * (NULL: ROUTES_VXLAN_DEV) with its neighbour and FDB entries.
 * Idempotent: 0 when there was nothing; -EINVAL for a bad name, else
 * -EIO with the tool's message.
 */
int routes_reset(const char *vxlan_dev, struct err **e);

#endif
