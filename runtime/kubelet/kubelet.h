/*
 * kubelet.h - what every kubelet writes the same way: the real node agent
 * (agent.h) and the hollow nodes (hollow.h) both post these.
 *
 *   - Node status: capacity and allocatable, the four standard conditions
 *     (MemoryPressure, DiskPressure, PIDPressure False; Ready True) with
 *     lastHeartbeatTime now and lastTransitionTime kept while a status
 *     does not change, addresses and nodeInfo.  Conditions others set are
 *     kept.
 *   - A pod's QoS class, as Kubernetes computes it.
 */
#ifndef CFS_KUBELET_H
#define CFS_KUBELET_H

#include <jansson.h>
#include <stdbool.h>

#include "engine/err.h"

/* What differs from node to node. */
struct kubelet_node {
	const char *name;
	const char *ip;		  /* InternalIP */
	const char *cpu, *memory; /* capacity = allocatable: "2", "24Gi" */
	const char *pods;	  /* "110" */
	const char *kernel, *os_image, *runtime, *kubelet, *arch;
	const char *machine_id, *boot_id;
};

/*
 * The status a kubelet posts for node n: old (may be NULL) with capacity,
 * allocatable, conditions, addresses, daemonEndpoints and nodeInfo
 * replaced; other fields kept.  Returns a new value.  Can't fail.
 */
json_t *kubelet_node_status(const struct kubelet_node *n, const json_t *old, const char *now);

/* The condition of type in conds (an array of conditions), or NULL. */
json_t *kubelet_find_condition(const json_t *conds, const char *type);

/* lastTransitionTime for a condition that now has status value: old's
 * (may be NULL) if the value did not change, else now. */
const char *kubelet_transition_time(const json_t *old, const char *value, const char *now);

/*
 * The pod's QoS class: BestEffort when no container (init containers
 * included) requests or limits cpu or memory; Guaranteed when every
 * container limits both and requests (defaulted to the limits) what it
 * limits; else Burstable.
 */
const char *kubelet_pod_qos(const json_t *pod);

/* What a kubelet sets on a Node it takes over (api_patch's arg for
 * kubelet_node_patch). */
struct kubelet_node_meta {
	const json_t *labels; /* merged into metadata.labels */
	const char *pod_cidr; /* spec.podCIDR and podCIDRs; NULL: left alone */
};

/* True when the Node already has every label and the pod CIDR of m. */
bool kubelet_node_meta_ok(const json_t *node, const struct kubelet_node_meta *m);

/* api_patch's function: applies arg (a struct kubelet_node_meta *). */
int kubelet_node_patch(json_t *node, void *arg, struct err **e);

#endif
