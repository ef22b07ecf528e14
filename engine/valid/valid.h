/*
 * valid.h - validation and defaulting of objects, per kind, as the
 * Kubernetes API server does them.
 *
 * Inputs are decoded manifests (jansson values).  Validation checks what a
 * user wrote; defaulting fills in what Kubernetes fills in.  Both work on
 * the whole object; neither looks at the store.  Unknown fields are kept
 * (schema_unknown, schema.h, names them).
 * Fields that matter but that clusterfs does not support yet are refused
 * with a message saying so.
 *
 * Error messages name the object and the field path as Kubernetes does:
 *     Deployment "web": spec.replicas: Invalid value: -1: must be greater than or equal to 0
 *
 * Thread-safe: no shared state.
 */
#ifndef CFS_VALID_H
#define CFS_VALID_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/err.h"
#include "engine/kind.h"

/*
 * Fills in defaults in place (obj must be a mapping of kind k):
 *   Deployment: spec.replicas 1, strategy RollingUpdate maxSurge/maxUnavailable
 *     "25%", revisionHistoryLimit 10, progressDeadlineSeconds 600,
 *     minReadySeconds 0; the pod template's defaults.
 *   ReplicaSet: spec.replicas 1; the pod template's defaults.
 *   Pod (and templates): restartPolicy Always, terminationGracePeriodSeconds
 *     30, dnsPolicy ClusterFirst, schedulerName default-scheduler,
 *     securityContext {}; containers: imagePullPolicy (Always for :latest or
 *     no tag, else IfNotPresent), terminationMessagePath, terminationMessagePolicy,
 *     ports[].protocol TCP; probes' timeoutSeconds 1, periodSeconds 10,
 *     successThreshold 1, failureThreshold 3.
 *   Service: type ClusterIP, sessionAffinity None, ports[].protocol TCP,
 *     ports[].targetPort = port.
 *   Endpoints: subsets[].ports[].protocol TCP.
 *   Namespace: spec.finalizers ["kubernetes"] and status.phase Active are left
 *     to the API layer; labels kubernetes.io/metadata.name = name.
 *   HorizontalPodAutoscaler: an autoscaling/v1 object is first converted to
 *     autoscaling/v2 (hpa.h); minReplicas 1; no metrics: CPU at 80%; a
 *     behavior's missing rules as Kubernetes' (valid_hpa.c).
 * Can't fail.
 */
void valid_default(json_t *obj, const struct kind_info *k);

/*
 * Validates a defaulted object of kind k: apiVersion and kind, metadata
 * (name per the kind's rule, namespace, labels, annotations), and the
 * spec: types, required fields, ranges (replicas >= 0, ports 1-65535,
 * containerPort, resource quantities, selector matches template labels,
 * unique container and port names, ...).  Returns 0, or -EINVAL with a
 * message.
 */
int valid_object(const json_t *obj, const struct kind_info *k, struct err **e);

/*
 * Validates an update of old into new (both defaulted and valid): immutable
 * fields such as a Deployment's or ReplicaSet's spec.selector, a Service's
 * clusterIP, a Pod's spec other than container images.  Returns 0 or -EINVAL.
 */
int valid_update(const json_t *old, const json_t *new, const struct kind_info *k, struct err **e);

/* Name rules; 0 or -EINVAL with a message naming what is wrong. */
int valid_name(const char *name, enum kind_name_rule rule, struct err **e);
int valid_label_key(const char *key, struct err **e);
int valid_label_value(const char *value, struct err **e);

/*
 * Parses a Kubernetes resource quantity ("100m", "1", "1.5", "128Mi",
 * "1G", "2e3").  *milli receives the value times 1000, rounded up.
 * Returns 0 or -EINVAL.  Accepts a JSON integer or real as well as a string.
 */
int quantity_parse(const json_t *q, int64_t *milli, struct err **e);

/*
 * Parses an int-or-percent value (maxSurge, maxUnavailable) against total:
 * ints as they are, "25%" as total * 25 / 100 rounded up when round_up,
 * else down.  Returns 0 or -EINVAL.
 */
int intorpercent(const json_t *v, int64_t total, bool round_up, int64_t *out, struct err **e);

#endif
