/*
 * cni.h - plugging pod network namespaces in with the standard CNI plugins,
 * the way a kubelet's container runtime does.
 *
 *     $ cat /var/lib/clusterfs/cni/net.conflist      (written by cni_open)
 *     {"cniVersion": "1.0.0", "name": "cfs0", "plugins": [
 *       {"type": "bridge", "bridge": "cfs0", "isGateway": true, "ipMasq": false,
 *        "hairpinMode": true, "ipam": {"type": "host-local", ... "10.88.0.0/16"}},
 *       {"type": "portmap", "capabilities": {"portMappings": true}}]}
 *     $ ls /var/lib/clusterfs/cni/results/
 *     3f2a...-uid.json                             (one per pod, from ADD)
 *
 * The plugins are Debian's containernetworking-plugins (/usr/lib/cni),
 * run as the CNI spec (1.0.0) says: one process per plugin and command,
 * CNI_COMMAND / CNI_CONTAINERID / CNI_NETNS / CNI_IFNAME / CNI_ARGS /
 * CNI_PATH in the environment, the network config on stdin, the result or
 * an error ({code, msg, details}) on stdout.  A pod gets:
 *
 *   - the `loopback` plugin on "lo" (a network of its own, as the kubelet
 *     has it), unless the caller brings lo up itself (cni_opts.lo_up);
 *   - the conflist on "eth0": `bridge` (with `host-local` IPAM: an address
 *     of the pod CIDR, the gateway .1 on the bridge, a default route)
 *     then `portmap` (hostPorts), each plugin fed the previous one's
 *     result as prevResult.  An ADD without hostPorts skips portmap (it
 *     would only hand its prevResult back): one process less per pod;
 *     CHECK and DEL run it as always.  With cni_opts.native, ADD does the
 *     bridge plugin's part (and host-local's) in the calling process
 *     (veth.h), leaving what the plugins would, so that their CHECK and
 *     DEL work on it: two processes less per pod.
 *
 * The bridge does not masquerade (ipMasq false): a pod's packets keep its
 * address on their way to pods of other nodes.  What leaves the cluster's
 * pod range is masqueraded by one rule of the proxy's nftables table
 * (proxy.h, proxy_opts.pod_cidr), as flannel and kube-proxy do it.
 * cni_open removes the per-pod masquerade rules an earlier version's
 * bridge (ipMasq true) left for this network.
 *
 * The final ADD result is cached in DATA/cni/results/POD.json: CHECK and
 * DEL give it to the plugins as prevResult (the spec wants it), and a
 * restarted agent reads a pod's address from it (cni_get_ip) instead of
 * allocating a new one.  DEL runs the conflist in reverse order and removes
 * the cache file; it works when the namespace is gone and is idempotent.
 *
 * The network's name is the bridge's name, so that two clusterfs instances
 * (two data dirs, two bridges) never share IPAM state or iptables chains.
 * The node must forward IPv4: cni_open sets net.ipv4.ip_forward to 1 (the
 * bridge plugin with isGateway would too).
 *
 * Errors: -ENOENT (a plugin binary or a cached result is missing, an
 * unknown container), -EAGAIN (a plugin's "try again later", code 11),
 * -ETIMEDOUT (a plugin ran past 10 s; it has been killed), -EINVAL (bad
 * arguments), else -EIO with the plugin's message.
 *
 * Threads: a struct cni is immutable after cni_open; every function may be
 * called from any thread, concurrently, for different pods (host-local
 * locks its own store).  Calls for one pod must not overlap: the caller
 * serialises them (the agent works on one pod in one worker at a time).
 * The plugins run as child processes waited for by pid (never
 * waitpid(-1)), in the calling thread's network namespace.
 */
#ifndef CFS_CNI_H
#define CFS_CNI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"

struct cni;

struct cni_opts {
	const char *data_dir;	/* conflist at DATA/cni/net.conflist, host-local state
				   in DATA/cni/ipam, cached results in DATA/cni/results */
	const char *pod_cidr;	/* IPv4, prefix /8 to /30: "10.88.0.0/16" */
	const char *bridge;	/* bridge and network name, 1-15 of [A-Za-z0-9_.-];
				   callers derive a unique one per data dir */
	const char *plugin_dir; /* NULL: /usr/lib/cni */
	int mtu;		/* the pods' interfaces' MTU (routes_pod_mtu for a VXLAN
				   network); 0: the plugin's default */
	bool lo_up;		/* the caller brings each namespace's "lo" up itself
				   (the agent's pause process does): no loopback
				   plugin run */
	bool native;		/* ADD does the bridge plugin's work (with host-local's
				   address store) in this process: veth.h; CHECK
				   and DEL still run the plugins */
};

/* A hostPort, given to portmap as runtimeConfig.portMappings. */
struct cni_port {
	int host_port;
	int container_port;
	const char *protocol; /* "tcp", "udp" or "sctp"; NULL: "tcp" */
	const char *host_ip;  /* NULL: every address */
};

/*
 * Checks the plugins (bridge, host-local, loopback, portmap) are there,
 * makes DATA/cni/{ipam,results}, writes DATA/cni/net.conflist (via .tmp
 * and rename) and sets net.ipv4.ip_forward.  Returns 0 and *out (free
 * with cni_close), -EINVAL for bad options, -ENOENT without a plugin, or
 * the errno of a failed mkdir/write.
 */
int cni_open(const struct cni_opts *o, struct cni **out, struct err **e);

/* Frees c.  Leaves the network as it is (pods keep their addresses). */
void cni_close(struct cni *c);

/* The node's address on the bridge, the pod CIDR's first one: "10.88.0.1".
 * Lent; valid until cni_close.  Can't fail. */
const char *cni_gateway(const struct cni *c);

/* The bridge's name, as in cni_opts.  Lent. */
const char *cni_bridge(const struct cni *c);

/*
 * Plugs the network namespace netns_path (e.g. "/proc/PAUSE_PID/ns/net")
 * in for pod_id (the CNI container id: 1-250 of [A-Za-z0-9_.-], the pod's
 * UID will do): loopback ADD on "lo", then the conflist ADD on "eth0" with
 * CNI_ARGS IgnoreUnknown=1;K8S_POD_NAMESPACE;K8S_POD_NAME;
 * K8S_POD_INFRA_CONTAINER_ID.  Caches the result and writes the pod's
 * address (no prefix length: "10.88.0.7") into ip.  When a plugin fails,
 * what the earlier ones did is undone (conflist DEL) before returning the
 * error.  Adding a pod that has a cached result fails with -EEXIST: DEL
 * it first, or read its address with cni_get_ip.
 */
int cni_add(struct cni *c, const char *pod_id, const char *netns_path, const char *k8s_ns,
	    const char *k8s_name, char ip[64], struct err **e);

/* cni_add with hostPorts (n_ports of them; portmap's DNAT rules). */
int cni_add_ports(struct cni *c, const char *pod_id, const char *netns_path, const char *k8s_ns,
		  const char *k8s_name, const struct cni_port *ports, size_t n_ports, char ip[64],
		  struct err **e);

/* The conflist CHECK with the cached result: 0 when every plugin finds the
 * pod's network as ADD left it; -ENOENT without a cached result, else the
 * plugin's error. */
int cni_check(struct cni *c, const char *pod_id, const char *netns_path, struct err **e);

/*
 * The conflist DEL in reverse order (portmap, then bridge, which frees the
 * address), with the cached result as prevResult when there is one; then
 * removes the cache.  netns_path NULL or "" when the namespace is gone
 * (the plugins then still free the address).  The caller must make sure a
 * /proc/PID/ns/net path still is the pod's (pause_alive): DEL removes eth0
 * from whatever namespace it is given.  When the namespace is gone, the
 * pod's masquerade rules (which bridge 1.1.1 only removes while the
 * namespace exists) are removed here.  Idempotent: 0 for a pod never
 * added or already deleted.
 */
int cni_del(struct cni *c, const char *pod_id, const char *netns_path, struct err **e);

/* The address cached for pod_id by its ADD ("10.88.0.7") into ip: 0, or
 * -ENOENT when there is none.  For a restarted agent re-adopting a pod. */
int cni_get_ip(struct cni *c, const char *pod_id, char ip[64]);

/*
 * For `clusterfs reset`: deletes the bridge link, the masquerade and
 * hostPort rules of the network named bridge, DATA/cni/ipam,
 * DATA/cni/results and the conflist.  Idempotent: 0 when there was
 * nothing; else the first error (it goes on with the other steps).
 */
int cni_reset(const char *data_dir, const char *bridge, struct err **e);

#endif
