/*
 * veth.h - a pod's eth0 on the node's bridge, made in the server with
 * netlink: what the `bridge` CNI plugin with `host-local` IPAM does for an
 * ADD (cni.h), without their two processes.
 *
 *     veth_add(&conf, "9f1c2e...", "/proc/4711/ns/net", &result, &e);
 *     -> 10.88.0.7/16 on eth0 in the pod's namespace, a default route via
 *        10.88.0.1, the host end vethXXXXXXXX on the bridge (hairpin on),
 *        and the address recorded in IPAM_DIR/NET/10.88.0.7
 *
 * It leaves the host exactly as the plugins would, so that the plugins
 * undo it: the address is taken the way host-local takes one (flock on
 * the network folder's file "lock", the first free address after
 * last_reserved_ip.0, a file per address holding "ID\r\nIFNAME"), so
 * that host-local's DEL releases it and ADDs by either never share one;
 * the result is the plugin's (interfaces bridge, host veth and eth0 with
 * their MACs, the address with the gateway, the default route), so that
 * CHECK and DEL of the bridge plugin find what they look for.
 *
 * The pod's side is configured from the calling thread, which enters the
 * pod's network namespace (setns) for it and returns to its own before
 * veth_add returns (it aborts the process if it cannot: a thread left in
 * a pod's namespace would do the server's work there).
 *
 * Errors: what was made is undone; -ENOSPC when the range is full, else
 * the errno of the failed step, with *e.
 */
#ifndef CFS_VETH_H
#define CFS_VETH_H

#include <jansson.h>
#include <netinet/in.h>

#include "engine/err.h"

struct veth_conf {
	const char *bridge;	/* the node's bridge (up, gateway on it) */
	const char *bridge_mac; /* its address, for the result */
	const char *ipam_dir;	/* host-local's dataDir: the network's folder is
				   IPAM_DIR/NET */
	const char *net;	/* the network's name */
	const char *cni_version;
	struct in_addr subnet; /* the pod CIDR: subnet/prefix, gateway its .1 */
	int prefix;
	struct in_addr gateway;
	int mtu; /* 0: the kernel's default */
};

/* Plugs netns_path in as container pod_id's eth0: 0 and *result (the CNI
 * result, a new reference), or a negative errno with *e. */
int veth_add(const struct veth_conf *c, const char *pod_id, const char *netns_path, json_t **result,
	     struct err **e);

#endif
