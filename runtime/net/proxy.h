/*
 * proxy.h - the kube-proxy role: Services as nftables rules.
 *
 *     $ nft list map ip clusterfs service-ips
 *     table ip clusterfs {
 *         map service-ips {
 *             type ipv4_addr . inet_proto . inet_service : verdict
 *             elements = { 10.96.0.10 . tcp . 80 : goto service-K2ZQ4M7A-default/web/tcp/80 }
 *         }
 *     }
 *     $ nft list chain ip clusterfs service-K2ZQ4M7A-default/web/tcp/80
 *         ip saddr != 10.88.0.0/16 jump mark-for-masquerade
 *         numgen random mod 2 vmap { 0 : goto endpoint-K2ZQ4M7A-tcp/80__10.88.0.5/8080,
 *                                    1 : goto endpoint-K2ZQ4M7A-tcp/80__10.88.0.9/8080 }
 *
 * One nftables table of the ip family, owned by this module and laid out
 * as kube-proxy's nftables mode lays out its own:
 *
 *   base chains   nat-prerouting, nat-output (priority dstnat) jump to
 *                 `services`; nat-postrouting (srcnat) to `masquerading`;
 *                 filter-prerouting, filter-output (dstnat - 10) send new
 *                 connections to `endpoints-check`.
 *   services      ClusterIP . proto . port looked up in the verdict map
 *                 service-ips; to a local address (`fib daddr type local`,
 *                 not 127/8), proto . port in service-nodeports.
 *   endpoints-check  keys of services without a ready endpoint (maps
 *                 no-endpoint-services, no-endpoint-nodeports) go to the
 *                 service's chain, which then holds `reject` (a TCP reset:
 *                 connect() fails at once with ECONNREFUSED); so does any
 *                 other new connection into the cluster CIDR that is no
 *                 known service port (set service-keys).
 *   service-H-NS/NAME/PROTO/PORT   one per service port: marks for
 *                 masquerade what does not come from the pod CIDR, then
 *                 (sessionAffinity ClientIP) the endpoint the client's
 *                 address is remembered for, else `numgen random mod N`
 *                 over the endpoint chains.
 *   external-H-NS/NAME/PROTO/PORT  NodePort traffic: marks for masquerade,
 *                 goes to the service chain.
 *   endpoint-H-PROTO/PORT__IP/TPORT  marks for masquerade when the client
 *                 is the endpoint itself (hairpin), remembers the client in
 *                 the set affinity-H-... (sessionAffinity only), DNATs.
 *   masquerading  masquerades (fully random) packets from the pod CIDR
 *                 to outside it (not multicast): pods reach the world with
 *                 the node's address, and each other with their own (the
 *                 CNI bridge does not masquerade); then packets with mark
 *                 0x4000.
 *
 * H is a hash of "NS/NAME": every chain, set and map element of one
 * service carries it, so that what the table holds can be read back into
 * per-service state after a restart (proxy_open) without any other file.
 *
 * Updates are incremental: proxy_sync_service() sends one nftables
 * transaction (libnftables, in-process: no fork/exec) that touches only
 * that service: its chains whose rules changed are flushed and refilled,
 * chains and sets it no longer needs are deleted, and its map elements are
 * re-added (a no-op when present; one lost to an outside `nft flush`
 * comes back).  The table is never flushed as a whole, and proxy_open()
 * keeps the services found.  Measured: a 3 <-> 2 endpoint change takes
 * ~0.25 ms median, < 1.1 ms p99 (the `nft -f` executable: ~15 ms).
 * An established connection keeps its DNAT (conntrack) when its endpoint
 * leaves; new ones no longer reach it.
 *
 * Host requirements: net.ipv4.ip_forward=1, and bridge-nf-call-iptables=1
 * (br_netfilter) so that the reply of a pod to another pod on the same
 * bridge passes conntrack and is un-DNAT'ed, as kube-proxy requires too.
 * The module sets neither; proxy_open() warns when br_netfilter is off.
 *
 * Threads: every function may be called from any thread; a struct proxy
 * serialises its callers with its own mutex.  IPv4 only.
 */
#ifndef CFS_PROXY_H
#define CFS_PROXY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "engine/err.h"

/* ---- A Service as the proxy sees it ---- */

struct proxy_endpoint {
	char ip[46]; /* IPv4, dotted */
	int port;    /* the pod's port (the resolved targetPort) */
};

struct proxy_port {
	char name[64];		    /* the Service port's name, "" when unnamed */
	char proto[8];		    /* "tcp", "udp" or "sctp" (any case) */
	int port;		    /* the ClusterIP's port */
	int node_port;		    /* 0: none */
	struct proxy_endpoint *eps; /* ready endpoints only */
	size_t neps;
};

struct proxy_service {
	char ns[64];
	char name[254];
	char cluster_ip[46]; /* "" or "None": no ClusterIP rules */
	bool affinity_client_ip;
	int affinity_timeout_s; /* <= 0: 10800, Kubernetes' default */
	struct proxy_port *ports;
	size_t nports;
};

/*
 * Fills *out from a Kubernetes Service and its Endpoints (NULL: none):
 * each Service port gets the ready addresses (subsets[].addresses, IPv4)
 * of the subsets whose port has the same name and protocol, with that
 * port's number.  nodePort only for type NodePort and LoadBalancer;
 * ExternalName services have no ports.  Returns 0, or -EINVAL (a missing
 * name, a port out of range) with *out zeroed.  Free with
 * proxy_service_free().
 */
int proxy_service_from_json(const json_t *service, const json_t *endpoints,
			    struct proxy_service *out);

/* Frees what proxy_service_from_json() allocated (not s itself). */
void proxy_service_free(struct proxy_service *s);

/* ---- The table ---- */

struct proxy;

struct proxy_opts {
	const char *table;	  /* nft table (ip family), e.g. "clusterfs";
				     unique per data dir */
	const char *pod_cidr;	  /* the cluster's pod range, every node's pods
				     (kube-proxy's --cluster-cidr), e.g.
				     "10.88.0.0/16": traffic from outside it to
				     a ClusterIP is masqueraded (NULL: all of
				     it is), and so is traffic from it to
				     outside it (NULL: none) */
	const char *cluster_cidr; /* the service range, e.g. "10.96.0.0/16";
				     new connections into it that match no
				     service port are rejected; NULL: none */
};

/*
 * Creates the table, its maps and base chains if missing and rewrites the
 * fixed chains (one transaction), keeping every service chain and map
 * element already there; then reads the services found back into memory.
 * Returns 0 and *out, -ENOENT without nf_tables, -EINVAL for a bad table
 * name or CIDR, or -EIO with nft's message.
 */
int proxy_open(const struct proxy_opts *o, struct proxy **out, struct err **e);

/*
 * Makes the table hold s and nothing else of the service s->ns/s->name, in
 * one transaction that touches only this service's objects.  A
 * port without endpoints rejects.  Returns 0, -EINVAL (a bad address,
 * protocol, port or name) or -EIO with nft's message; on -EIO the table
 * still holds the service as it was.
 */
int proxy_sync_service(struct proxy *p, const struct proxy_service *s, struct err **e);

/* Removes every rule of ns/name; 0 also when there was none, or -EIO. */
int proxy_delete_service(struct proxy *p, const char *ns, const char *name, struct err **e);

/* The "ns/name" of each service in the table, sorted, in *keys (free each
 * and the array with free()).  Returns 0; can't fail. */
int proxy_list_services(struct proxy *p, char ***keys, size_t *n);

/* Frees p; the rules stay, as kube-proxy leaves them when it exits. */
void proxy_close(struct proxy *p);

/* Deletes the table (for `clusterfs reset`): 0 also when it is missing,
 * -EINVAL for a bad name, or -EIO. */
int proxy_reset(const char *table, struct err **e);

#endif
