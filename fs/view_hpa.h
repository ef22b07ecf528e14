/*
 * view_hpa.h - the files of horizontalpodautoscalers/NAME/: one value
 * each, for scripts, as deployments' replicas is.
 *
 *     $ cat /cluster/horizontalpodautoscalers/web/target
 *     Deployment/web
 *     $ echo 6 > /cluster/horizontalpodautoscalers/web/max
 *     $ cat /cluster/horizontalpodautoscalers/web/status
 *     reference: Deployment/web
 *     targets: cpu: 120%/50%
 *     replicas: 2 current, 4 desired (min 1, max 6)
 *     ...
 *
 * min, max (rw: spec.minReplicas, spec.maxReplicas; a write is checked by
 * the API's validation as any other), current, desired (status), target,
 * metrics (the TARGETS cell), status (a summary like kubectl describe's),
 * events (SuccessfulRescale, ...).  All but events are rendered from the
 * object alone.  Thread-safe: no state.
 */
#ifndef CFS_VIEW_HPA_H
#define CFS_VIEW_HPA_H

#include "fs/view_int.h"

/* The field table of the kind (NULL-named entry last). */
extern const struct vfield view_hpa_fields[];

#endif
