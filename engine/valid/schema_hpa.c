/*
 * schema_hpa.c - the schema of the HorizontalPodAutoscaler: autoscaling/v2,
 * the version stored, and autoscaling/v1, served by conversion (hpa.h), as
 * valid_hpa.c accepts them.
 */
#include "engine/valid/schema_int.h"

static const char *const e_source[] = {"ContainerResource", "External", "Object", "Pods",
				       "Resource",	    NULL};
static const char *const e_target[] = {"AverageValue", "Utilization", "Value", NULL};
static const char *const e_select[] = {"Disabled", "Max", "Min", NULL};
static const char *const e_policy[] = {"Percent", "Pods", NULL};

/* --- autoscaling/v2: spec ------------------------------------------------- */

static const struct sch_field hpa[] = {
    OBJ_META,
    FO("spec", ASCL2 "HorizontalPodAutoscalerSpec",
       "What to scale, between which bounds, on which metrics."),
    FO("status", ASCL2 "HorizontalPodAutoscalerStatus",
       "What the autoscaler last observed and did. Read-only."),
};

static const struct sch_field hpa_spec[] = {
    FOR("scaleTargetRef", ASCL2 "CrossVersionObjectReference",
	"The object to scale: a Deployment or a ReplicaSet (anything with a scale "
	"subresource)."),
    FI("minReplicas", "The fewest replicas it scales down to (default 1)."),
    FIR("maxReplicas", "The most replicas it scales up to; not below minReplicas."),
    FA("metrics", ASCL2 "MetricSpec",
       "What the replica count follows; the largest proposal wins (default: CPU at 80% of "
       "requests)."),
    FO("behavior", ASCL2 "HorizontalPodAutoscalerBehavior",
       "How fast it scales up and down (default: Kubernetes' policies)."),
};

static const struct sch_field xref[] = {
    FSR("kind", "The kind of the object: Deployment, ReplicaSet."),
    FSR("name", "The name of the object, in the autoscaler's namespace."),
    FS("apiVersion", "The API version of the object: apps/v1."),
};

static const struct sch_field metric_spec[] = {
    FER("type", e_source, "Which source: Resource, ContainerResource, Pods, Object or External."),
    FO("resource", ASCL2 "ResourceMetricSource",
       "A resource (cpu, memory) of the pods, averaged over them."),
    FO("containerResource", ASCL2 "ContainerResourceMetricSource",
       "A resource of one container of the pods, averaged over them."),
    FO("pods", ASCL2 "PodsMetricSource", "A metric of each pod, averaged over them."),
    FO("object", ASCL2 "ObjectMetricSource", "A metric of one other object."),
    FO("external", ASCL2 "ExternalMetricSource", "A metric from outside the cluster."),
};

static const struct sch_field res_src[] = {
    FSR("name", "The resource: cpu or memory."),
    FOR("target", ASCL2 "MetricTarget", "The value to hold it at."),
};

static const struct sch_field cres_src[] = {
    FSR("name", "The resource: cpu or memory."),
    FSR("container", "The container whose usage counts."),
    FOR("target", ASCL2 "MetricTarget", "The value to hold it at."),
};

static const struct sch_field pods_src[] = {
    FOR("metric", ASCL2 "MetricIdentifier", "The metric."),
    FOR("target", ASCL2 "MetricTarget", "The value to hold it at (AverageValue)."),
};

static const struct sch_field obj_src[] = {
    FOR("describedObject", ASCL2 "CrossVersionObjectReference", "The object measured."),
    FOR("metric", ASCL2 "MetricIdentifier", "The metric."),
    FOR("target", ASCL2 "MetricTarget", "The value to hold it at (Value or AverageValue)."),
};

static const struct sch_field ext_src[] = {
    FOR("metric", ASCL2 "MetricIdentifier", "The metric."),
    FOR("target", ASCL2 "MetricTarget", "The value to hold it at (Value or AverageValue)."),
};

static const struct sch_field metric_id[] = {
    FSR("name", "The metric's name."),
    FO("selector", META "LabelSelector", "Which series of the metric (labels)."),
};

static const struct sch_field metric_target[] = {
    FER("type", e_target, "Utilization, Value or AverageValue."),
    FQ("value", "The value of the metric (Value)."),
    FQ("averageValue", "The value of the metric averaged over the pods (AverageValue)."),
    FI("averageUtilization",
       "Percent of the pods' requests of the resource, averaged over them (Utilization)."),
};

static const struct sch_field behavior[] = {
    FO("scaleUp", ASCL2 "HPAScalingRules",
       "Scaling up (default: no stabilization; 4 pods or 100% each 15 s, the larger)."),
    FO("scaleDown", ASCL2 "HPAScalingRules",
       "Scaling down (default: 300 s stabilization; 100% each 15 s)."),
};

static const struct sch_field rules[] = {
    FI("stabilizationWindowSeconds",
       "Seconds of past proposals considered: the safest is taken (0 to 3600)."),
    FE("selectPolicy", e_select, "Which policy wins: Max (the default), Min, or Disabled."),
    FA("policies", ASCL2 "HPAScalingPolicy", "How much may change per period."),
    FQ("tolerance", "The relative gap to the target ignored (default 10%)."),
};

static const struct sch_field policy[] = {
    FER("type", e_policy, "Pods (a number of pods) or Percent (of the current replicas)."),
    FIR("value", "How many pods, or what percent; greater than zero."),
    FIR("periodSeconds", "The period the change is measured over (1 to 1800)."),
};

/* --- autoscaling/v2: status ----------------------------------------------- */

static const struct sch_field hpa_status[] = {
    FL("observedGeneration", "The generation the status reflects."),
    FT("lastScaleTime", "When the autoscaler last changed the replica count."),
    FI("currentReplicas", "The replicas the target has."),
    FIR("desiredReplicas", "The replicas the autoscaler last wanted."),
    FA("currentMetrics", ASCL2 "MetricStatus", "The metrics as last read."),
    FAK("conditions", ASCL2 "HorizontalPodAutoscalerCondition", schema_k_type,
	"AbleToScale, ScalingActive, ScalingLimited."),
};

static const struct sch_field metric_status[] = {
    FER("type", e_source, "Which source."),
    FO("resource", ASCL2 "ResourceMetricStatus", "A resource of the pods."),
    FO("containerResource", ASCL2 "ContainerResourceMetricStatus", "A resource of one container."),
    FO("pods", ASCL2 "PodsMetricStatus", "A metric of each pod."),
    FO("object", ASCL2 "ObjectMetricStatus", "A metric of one object."),
    FO("external", ASCL2 "ExternalMetricStatus", "A metric from outside."),
};

static const struct sch_field res_status[] = {
    FSR("name", "The resource."),
    FOR("current", ASCL2 "MetricValueStatus", "Its value now."),
};

static const struct sch_field cres_status[] = {
    FSR("name", "The resource."),
    FSR("container", "The container."),
    FOR("current", ASCL2 "MetricValueStatus", "Its value now."),
};

static const struct sch_field pods_status[] = {
    FOR("metric", ASCL2 "MetricIdentifier", "The metric."),
    FOR("current", ASCL2 "MetricValueStatus", "Its value now."),
};

static const struct sch_field obj_status[] = {
    FOR("metric", ASCL2 "MetricIdentifier", "The metric."),
    FOR("current", ASCL2 "MetricValueStatus", "Its value now."),
    FOR("describedObject", ASCL2 "CrossVersionObjectReference", "The object measured."),
};

static const struct sch_field ext_status[] = {
    FOR("metric", ASCL2 "MetricIdentifier", "The metric."),
    FOR("current", ASCL2 "MetricValueStatus", "Its value now."),
};

static const struct sch_field value_status[] = {
    FQ("value", "The value."),
    FQ("averageValue", "The value averaged over the pods."),
    FI("averageUtilization", "Percent of the pods' requests, averaged over them."),
};

static const struct sch_field hpa_cond[] = {
    FSR("type", "AbleToScale, ScalingActive or ScalingLimited."),
    FSR("status", "True, False or Unknown."),
    FT("lastTransitionTime", "When it last changed."),
    FS("reason", "Why, in a CamelCase word."),
    FS("message", "Why, in words."),
};

/* --- autoscaling/v1 ------------------------------------------------------- */

static const struct sch_field hpa1[] = {
    OBJ_META,
    FO("spec", ASCL "HorizontalPodAutoscalerSpec", "What to scale, between which bounds."),
    FO("status", ASCL "HorizontalPodAutoscalerStatus", "What the autoscaler last observed."),
};

static const struct sch_field hpa1_spec[] = {
    FOR("scaleTargetRef", ASCL "CrossVersionObjectReference", "The object to scale."),
    FI("minReplicas", "The fewest replicas (default 1)."),
    FIR("maxReplicas", "The most replicas."),
    FI("targetCPUUtilizationPercentage",
       "The CPU use to hold, in percent of the pods' requests (default 80)."),
};

static const struct sch_field hpa1_status[] = {
    FL("observedGeneration", "The generation the status reflects."),
    FT("lastScaleTime", "When the autoscaler last changed the replica count."),
    FIR("currentReplicas", "The replicas the target has."),
    FIR("desiredReplicas", "The replicas the autoscaler last wanted."),
    FI("currentCPUUtilizationPercentage", "The CPU use now, in percent of the requests."),
};

#define LIST_OF(name, of, what)                                                                    \
	static const struct sch_field name[] = {LIST_META, FAR("items", of, what)}
LIST_OF(hpa_list, ASCL2 "HorizontalPodAutoscaler", "The autoscalers.");
LIST_OF(hpa1_list, ASCL "HorizontalPodAutoscaler", "The autoscalers.");

const struct sch_def schema_hpa_defs[] = {
    KIND(ASCL2 "HorizontalPodAutoscaler", "Scales a workload's replicas to follow its metrics.",
	 hpa, "autoscaling", "v2", "HorizontalPodAutoscaler"),
    KIND(ASCL2 "HorizontalPodAutoscalerList", "A list of autoscalers.", hpa_list, "autoscaling",
	 "v2", "HorizontalPodAutoscalerList"),
    DEF(ASCL2 "HorizontalPodAutoscalerSpec", "An autoscaler's desired behaviour.", hpa_spec),
    DEF(ASCL2 "CrossVersionObjectReference", "A reference to an object.", xref),
    DEF(ASCL2 "MetricSpec", "One metric to scale on.", metric_spec),
    DEF(ASCL2 "ResourceMetricSource", "A resource of the pods.", res_src),
    DEF(ASCL2 "ContainerResourceMetricSource", "A resource of a container.", cres_src),
    DEF(ASCL2 "PodsMetricSource", "A metric of each pod.", pods_src),
    DEF(ASCL2 "ObjectMetricSource", "A metric of an object.", obj_src),
    DEF(ASCL2 "ExternalMetricSource", "A metric from outside the cluster.", ext_src),
    DEF(ASCL2 "MetricIdentifier", "A metric's name and selector.", metric_id),
    DEF(ASCL2 "MetricTarget", "The value a metric is held at.", metric_target),
    DEF(ASCL2 "HorizontalPodAutoscalerBehavior", "How fast to scale.", behavior),
    DEF(ASCL2 "HPAScalingRules", "The rules of one direction.", rules),
    DEF(ASCL2 "HPAScalingPolicy", "A bound on the change per period.", policy),
    DEF(ASCL2 "HorizontalPodAutoscalerStatus", "An autoscaler's observed state.", hpa_status),
    DEF(ASCL2 "MetricStatus", "One metric as last read.", metric_status),
    DEF(ASCL2 "ResourceMetricStatus", "A resource of the pods.", res_status),
    DEF(ASCL2 "ContainerResourceMetricStatus", "A resource of a container.", cres_status),
    DEF(ASCL2 "PodsMetricStatus", "A metric of each pod.", pods_status),
    DEF(ASCL2 "ObjectMetricStatus", "A metric of an object.", obj_status),
    DEF(ASCL2 "ExternalMetricStatus", "A metric from outside.", ext_status),
    DEF(ASCL2 "MetricValueStatus", "A metric's value.", value_status),
    DEF(ASCL2 "HorizontalPodAutoscalerCondition", "A condition of an autoscaler.", hpa_cond),
    KIND(ASCL "HorizontalPodAutoscaler", "Scales a workload's replicas on its CPU use.", hpa1,
	 "autoscaling", "v1", "HorizontalPodAutoscaler"),
    KIND(ASCL "HorizontalPodAutoscalerList", "A list of autoscalers.", hpa1_list, "autoscaling",
	 "v1", "HorizontalPodAutoscalerList"),
    DEF(ASCL "HorizontalPodAutoscalerSpec", "An autoscaler's desired behaviour.", hpa1_spec),
    DEF(ASCL "HorizontalPodAutoscalerStatus", "An autoscaler's observed state.", hpa1_status),
    DEF(ASCL "CrossVersionObjectReference", "A reference to an object.", xref),
};
const size_t schema_hpa_ndefs = NELEM(schema_hpa_defs);
