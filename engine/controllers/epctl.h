/*
 * epctl.h - the endpoints controller: keeps the Endpoints of every
 * Service that has a selector equal to the pods it selects, as
 * Kubernetes' endpoints controller does.
 *
 *     $ cat /cluster/services/web/endpoints
 *     10.100.0.1:8080
 *     10.100.0.2:8080
 *     $ echo 1 > /cluster/deployments/web/replicas; cat /cluster/services/web/endpoints
 *     10.100.0.1:8080
 *
 * What it writes: an Endpoints named like the Service, in its namespace,
 * owned by it (ownerReferences: it goes when the Service goes), with the
 * Service's labels.  Its subsets list the pods of the namespace that the
 * selector matches, that have a podIP, and that are neither terminating
 * nor finished: Ready ones in addresses, the others in notReadyAddresses
 * (all in addresses with spec.publishNotReadyAddresses), each with ip,
 * nodeName and a targetRef to the pod.  Each service port's targetPort is
 * resolved per pod: a number as it is, a name through the pod's
 * containers[].ports[] (same name and protocol); a pod that lacks the name
 * gives no endpoint for that port.  Pods serving the same set of ports
 * share a subset.  A Service without a selector is left alone: its
 * Endpoints are the user's.
 *
 * When: a pod's change (phase, readiness, IP, labels, deletion) and a
 * Service's change are noted on the informer thread; the Services
 * concerned sync after EPCTL_GATHER_MS, so a burst of pod changes costs one
 * sync per Service.  A sync writes only when the Endpoints would change.
 *
 * Threads: the informer thread owns the pod -> services map (no lock);
 * workers only read through the API.
 */
#ifndef CFS_EPCTL_H
#define CFS_EPCTL_H

#include "engine/api/api.h"

#define EPCTL_GATHER_MS 3 /* pod changes gathered into one sync per Service */

struct epctl;

/* Starts the controller on a (borrowed).  0 and *out, or -errno with *e. */
int epctl_start(struct api *a, struct epctl **out, struct err **e);
/* Stops it (after the syncs in progress).  NULL is fine. */
void epctl_stop(struct epctl *c);

/*
 * The Endpoints subsets that svc's selector gives over pods (n of them,
 * any pods of its namespace: those the selector does not match are
 * skipped), as a new JSON array (caller decrefs).  Pure: for the
 * controller and its tests.
 */
json_t *epctl_subsets(const json_t *svc, struct sobj *const *pods, size_t n);

#endif
