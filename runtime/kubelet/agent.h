/*
 * agent.h - the node agent: the kubelet of the local node.
 *
 *     $ clusterfs server                  # runs one for the machine
 *     $ cat /cluster/nodes/$(hostname)/capacity
 *     cpu: "2"
 *     memory: 24634868Ki
 *     pods: "110"
 *
 * agent_start() registers the Node (capacity and allocatable read from
 * the machine), posts its status every heartbeat, and brings every pod
 * bound to it to its spec with runc (pod.h): a pause process holding the
 * pod's namespaces, then the init containers in order, then the
 * containers.  What it sees goes back through the API only, as a kubelet
 * reports: phase, conditions (PodScheduled, Initialized, ContainersReady,
 * Ready), containerStatuses with state, lastState, ready, started,
 * restartCount, image, imageID and containerID.
 *
 *   - Exits: the agent is its containers' subreaper and watches each init
 *     with a pidfd; exit codes become Completed, Error or OOMKilled (the
 *     container's memory cgroup counted an OOM kill).
 *   - Restarts: restartPolicy Always, OnFailure, Never; the first restart
 *     is at once, the next after 10 s, doubling to 5 min
 *     (CrashLoopBackOff), reset once an instance ran 10 min.
 *   - Images: pulled by imagePullPolicy (agent_pull.c) in a thread of its
 *     own (ContainerCreating meanwhile), with DATA_DIR/config.json as the
 *     node's credentials; a failure is ErrImagePull, then ImagePullBackOff
 *     (10 s doubling to 5 min); Never and absent: ErrImageNeverPull.
 *     Each pod's images are recorded in DATA_DIR/pods/UID/images, and
 *     unused images garbage collected past a disk usage threshold
 *     (agent_images.c, image_gc.h).
 *   - Probes: liveness, readiness and startup (exec, httpGet, tcpSocket).
 *   - Deletion: SIGTERM, SIGKILL after the grace period, then the pod's
 *     files and the final delete (the API waits for it).
 *   - Network: each pod's namespace is plugged into the node's bridge as
 *     the CNI bridge plugin does it, by the server itself (cni.h, veth.h;
 *     CFS_CNI_EXEC=1 in the environment: by the plugins); its address is
 *     status.podIP, its
 *     /etc/hosts and /etc/resolv.conf (the cluster DNS, the Kubernetes
 *     search list) are written before its containers start, and the
 *     Services of its namespace are in its containers' environment.
 *   - Logs: DATA_DIR/logs/UID/CONTAINER/ATTEMPT.log, stdout and stderr,
 *     copied to ATTEMPT.log.1 and truncated past 10 MiB.
 *   - Restarts of the agent: agent_stop() leaves every container running;
 *     agent_start() adopts what it finds (runc's state and DATA_DIR/pods),
 *     keeps restart counts and restarts nothing; what belongs to a pod
 *     that is gone is removed.
 *
 * Threads: an informer, a pool of workers (one pod at a time each), an
 * exit watcher, a heartbeat and a log rotator.
 */
#ifndef CFS_AGENT_H
#define CFS_AGENT_H

#include <stdint.h>

#include "engine/client/apic.h"
#include "engine/err.h"
#include "runtime/image/image_gc.h"
#include "runtime/image/registry.h"
#include "runtime/net/routes.h"

struct agent_opts {
	const char *node_name;	     /* NULL: the host name */
	const char *data_dir;	     /* required */
	int heartbeat_s;	     /* <= 0: 10 */
	int workers;		     /* pods synced at once; <= 0: 8 */
	const char *cgroup_parent;   /* NULL: "/clusterfs" */
	const char *pod_cidr;	     /* registered with; NULL: none, the server gives one */
	const char *node_ip;	     /* NULL: the first address of an interface that is up */
	enum routes_mode route_mode; /* routes to the other nodes' pods (nodenet.h) */
	int status_every_s;	     /* Node status at least this often; <= 0: 60 */
	int64_t pod_pids_limit;	     /* pids.max of each pod's cgroup (podcg.h):
					0: AGENT_POD_PIDS_LIMIT; < 0: none */
	struct registry_conf reg;    /* pulling images (borrowed, as registry.h) */
	struct image_gc_conf gc;     /* image garbage collection (image_gc.h) */
};

/* The pids limit of a pod by default: processes and threads of all its
 * containers together (OpenShift's podPidsLimit; Kubernetes' own default
 * is none). */
#define AGENT_POD_PIDS_LIMIT 4096

/* The pod network's bridge for data_dir: "cfs" and 8 hex digits of a hash
 * of its absolute path, so that two data dirs never share one.  Can't
 * fail. */
void agent_bridge_name(const char *data_dir, char out[16]);

struct agent;

/*
 * Opens the image store and runc state under o->data_dir, registers or
 * takes over the Node, waits until it has a spec.podCIDR (its own, or one
 * the node IPAM controller gives; the pod network's), adopts what a
 * previous agent left and starts the threads.  Returns 0 and *out, or a
 * negative errno with *e (nothing left running): -ENOENT when there is no
 * runc, -ETIMEDOUT when no podCIDR came in 30 s.
 */
int agent_start(struct apic *c, const struct agent_opts *o, struct agent **out, struct err **e);

/* The pod network's gateway on the bridge ("10.88.0.1"), where the cluster
 * DNS listens, and the pod CIDR: the Node's spec.podCIDR. */
const char *agent_dns_ip(const struct agent *ag);
const char *agent_pod_cidr(const struct agent *ag);

/* Stops the threads and frees ag, leaving containers running.  NULL ok. */
void agent_stop(struct agent *ag);

/*
 * `clusterfs reset`: stops and removes every container, pause process,
 * mount and file the agents of data_dir made (no server may run on it).
 * Returns 0, or the first error while still doing the rest.
 */
int agent_reset(const char *data_dir, struct err **e);

#endif
