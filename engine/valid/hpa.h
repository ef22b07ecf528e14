/*
 * hpa.h - the HorizontalPodAutoscaler kind's two versions and its words.
 *
 * The store keeps autoscaling/v2 (KIND_HPA).  autoscaling/v1 is served by
 * conversion, as the apiserver does it: a v1 object written by any face is
 * turned into v2 before it is defaulted and checked (valid_default calls
 * hpa_to_v2), and the HTTP face shows v2 objects as v1 under
 * /apis/autoscaling/v1/ (hpa_to_v1).  What v1 cannot express (metrics
 * other than the CPU utilization one, the current metrics, conditions,
 * behavior) rides in annotations, as Kubernetes keeps it, so that a round
 * trip v2 -> v1 -> v2 loses nothing:
 *
 *     autoscaling.alpha.kubernetes.io/metrics          spec.metrics (the rest)
 *     autoscaling.alpha.kubernetes.io/behavior         spec.behavior
 *     autoscaling.alpha.kubernetes.io/current-metrics  status.currentMetrics (all)
 *     autoscaling.alpha.kubernetes.io/conditions       status.conditions
 *
 * Their values are JSON of the v2 shapes (Kubernetes writes v1's own
 * MetricSpec types there, shaped as v2beta1's): a v1 client that reads
 * them sees the v2 fields.
 *
 * hpa_targets writes the TARGETS cell of `kubectl get hpa` ("cpu: 250%/50%",
 * "cpu: <unknown>/50%"), for the HTTP table and the filesystem's status.
 *
 * Pure functions of their arguments; thread-safe.
 */
#ifndef CFS_VALID_HPA_H
#define CFS_VALID_HPA_H

#include <jansson.h>
#include <stdbool.h>

#include "engine/kind.h"

#define HPA_V1 "autoscaling/v1"
#define HPA_V2 "autoscaling/v2"

#define HPA_ANN_METRICS	   "autoscaling.alpha.kubernetes.io/metrics"
#define HPA_ANN_BEHAVIOR   "autoscaling.alpha.kubernetes.io/behavior"
#define HPA_ANN_CURRENT	   "autoscaling.alpha.kubernetes.io/current-metrics"
#define HPA_ANN_CONDITIONS "autoscaling.alpha.kubernetes.io/conditions"

/* Whether kind k is served in api_version ("autoscaling/v1") besides its
 * stored k->api_version: only HorizontalPodAutoscaler's v1. */
bool hpa_alt_version(const struct kind_info *k, const char *api_version);

/* Converts obj in place from autoscaling/v1 to autoscaling/v2 when its
 * apiVersion is autoscaling/v1; anything else is left alone.  Values of the
 * wrong type are carried over for the validation to refuse.  Can't fail. */
void hpa_to_v2(json_t *obj);

/* A new autoscaling/v1 object from the v2 object v2 (not changed). */
json_t *hpa_to_v1(const json_t *v2);

/* The TARGETS cell of a v2 object, as kubectl get hpa prints it (a new
 * string): "cpu: 250%/50%", "memory: 40Mi/100Mi", "<unknown>/10" (pods),
 * "<unknown>/30 (avg)" (an object's or external average); the status's
 * metric at the same place is the current value.  Two metrics joined by
 * ", " then "+ N more...", "<none>" without metrics. */
char *hpa_targets(const json_t *hpa);

#endif
