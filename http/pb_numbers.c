/*
 * pb_numbers.c - the protobuf field numbers of every definition the
 * schema (engine/valid/schema.h) describes: the wire facts of Kubernetes'
 * generated.proto files (k8s.io/api core/v1, apps/v1, policy/v1,
 * autoscaling/v1 and v2; k8s.io/apimachinery meta/v1).  Names and types come
 * from the schema; only the numbers, and the few facts the schema has no
 * word for, are here (see pb.h: PBN_*).
 *
 * Every row was checked against the generated.proto files themselves
 * (December 2026): core/v1 and autoscaling/v1 of Kubernetes' tree after
 * 1.35 (fields marked alpha since 1.36), apps/v1 of a tree of 1.34 or
 * later (podReplacementPolicy), policy/v1 Eviction and apimachinery's
 * meta/v1, intstr, resource.Quantity and runtime of v0.26.0.  Kubernetes
 * never renumbers a field: newer messages only add numbers, and those the
 * schema does not describe (PodSpec resources 40, DeploymentStatus
 * terminatingReplicas 9, ...) are skipped and reported as unknown fields.
 *
 * Each row is {field, number, flags, inline table}.  A row with a NULL
 * field and PBN_INLINE names a message embedded inline in JSON (a
 * Volume's VolumeSource, a Probe's ProbeHandler): its own table's fields
 * are the parent definition's.
 */
#include "http/pb.h"

#include <string.h>

#include "engine/valid/schema.h"

#define META  "io.k8s.apimachinery.pkg.apis.meta.v1."
#define CORE  "io.k8s.api.core.v1."
#define APPS  "io.k8s.api.apps.v1."
#define ASCL  "io.k8s.api.autoscaling.v1."
#define ASCL2 "io.k8s.api.autoscaling.v2."
#define PLCY  "io.k8s.api.policy.v1."
#define COORD "io.k8s.api.coordination.v1."
#define MT    PBN_MICROTIME

#define P PBN_PTR
#define N(def, ...)                                                                                \
	{                                                                                          \
		def, (const struct pb_num[])                                                       \
		{                                                                                  \
			__VA_ARGS__,                                                               \
			{                                                                          \
				NULL, 0, 0, NULL                                                   \
			}                                                                          \
		}                                                                                  \
	}
/* apiVersion and kind travel in the envelope; metadata 1, then 2, 3. */
#define OBJ(def, spec, status)                                                                     \
	N(def, {"metadata", 1, 0, NULL}, {spec, 2, 0, NULL}, {status, 3, 0, NULL})
#define LIST(def) N(def, {"metadata", 1, 0, NULL}, {"items", 2, 0, NULL})

/* policy/v1 Eviction, which the schema does not describe (yet): the body
 * of POST .../pods/NAME/eviction (kubectl drain). */
static const struct sch_field eviction_fields[] = {
    {"apiVersion", SCH_STRING, 0, NULL, "The versioned schema: policy/v1.", 0, NULL, NULL},
    {"kind", SCH_STRING, 0, NULL, "Eviction.", 0, NULL, NULL},
    {"metadata", SCH_OBJECT, 0, META "ObjectMeta", "The pod's name and namespace.", 0, NULL, NULL},
    {"deleteOptions", SCH_OBJECT, 0, META "DeleteOptions", "Options of the pod's deletion.", 0,
     NULL, NULL},
};
const struct sch_def pb_eviction_def = {
    PLCY "Eviction", "The eviction of a pod.",
    eviction_fields, sizeof(eviction_fields) / sizeof(eviction_fields[0]),
    "policy",	     "v1",
    "Eviction"};

static const struct pb_nums tables[] = {
    /* meta/v1 */
    N(META "ObjectMeta", {"name", 1, 0, NULL}, {"generateName", 2, 0, NULL},
      {"namespace", 3, 0, NULL}, {"selfLink", 4, 0, NULL}, {"uid", 5, 0, NULL},
      {"resourceVersion", 6, 0, NULL}, {"generation", 7, 0, NULL},
      {"creationTimestamp", 8, 0, NULL}, {"deletionTimestamp", 9, P, NULL},
      {"deletionGracePeriodSeconds", 10, P, NULL}, {"labels", 11, 0, NULL},
      {"annotations", 12, 0, NULL}, {"ownerReferences", 13, 0, NULL}, {"finalizers", 14, 0, NULL},
      {"managedFields", 17, 0, NULL}),
    N(META "ListMeta", {"selfLink", 1, 0, NULL}, {"resourceVersion", 2, 0, NULL},
      {"continue", 3, 0, NULL}, {"remainingItemCount", 4, P, NULL}),
    N(META "OwnerReference", {"kind", 1, 0, NULL}, {"name", 3, 0, NULL}, {"uid", 4, 0, NULL},
      {"apiVersion", 5, 0, NULL}, {"controller", 6, P, NULL}, {"blockOwnerDeletion", 7, P, NULL}),
    N(META "ManagedFieldsEntry", {"manager", 1, 0, NULL}, {"operation", 2, 0, NULL},
      {"apiVersion", 3, 0, NULL}, {"time", 4, P, NULL}, {"fieldsType", 6, 0, NULL},
      {"fieldsV1", 7, P | PBN_RAW, NULL}, {"subresource", 8, 0, NULL}),
    N(META "LabelSelector", {"matchLabels", 1, 0, NULL}, {"matchExpressions", 2, 0, NULL}),
    N(META "LabelSelectorRequirement", {"key", 1, 0, NULL}, {"operator", 2, 0, NULL},
      {"values", 3, 0, NULL}),
    N(META "Status", {"metadata", 1, 0, NULL}, {"status", 2, 0, NULL}, {"message", 3, 0, NULL},
      {"reason", 4, 0, NULL}, {"details", 5, P, NULL}, {"code", 6, 0, NULL}),
    N(META "StatusDetails", {"name", 1, 0, NULL}, {"group", 2, 0, NULL}, {"kind", 3, 0, NULL},
      {"causes", 4, 0, NULL}, {"retryAfterSeconds", 5, 0, NULL}, {"uid", 6, 0, NULL}),
    N(META "StatusCause", {"reason", 1, 0, NULL}, {"message", 2, 0, NULL}, {"field", 3, 0, NULL}),
    N(META "DeleteOptions", {"gracePeriodSeconds", 1, P, NULL}, {"preconditions", 2, P, NULL},
      {"orphanDependents", 3, P, NULL}, {"propagationPolicy", 4, P, NULL}, {"dryRun", 5, 0, NULL}),
    N(META "Preconditions", {"uid", 1, P, NULL}, {"resourceVersion", 2, P, NULL}),
    N(META "WatchEvent", {"type", 1, 0, NULL}, {"object", 2, PBN_RAW, NULL}),
    /* autoscaling/v1: replicas is no pointer in Go, but a Scale to 0 says 0 */
    OBJ(ASCL "Scale", "spec", "status"),
    N(ASCL "ScaleSpec", {"replicas", 1, P, NULL}),
    N(ASCL "ScaleStatus", {"replicas", 1, 0, NULL}, {"selector", 2, 0, NULL}),
    /* HorizontalPodAutoscaler, autoscaling/v1 (kubectl 1.32's autoscale) */
    OBJ(ASCL "HorizontalPodAutoscaler", "spec", "status"),
    LIST(ASCL "HorizontalPodAutoscalerList"),
    N(ASCL "HorizontalPodAutoscalerSpec", {"scaleTargetRef", 1, 0, NULL},
      {"minReplicas", 2, P, NULL}, {"maxReplicas", 3, 0, NULL},
      {"targetCPUUtilizationPercentage", 4, P, NULL}),
    N(ASCL "CrossVersionObjectReference", {"kind", 1, 0, NULL}, {"name", 2, 0, NULL},
      {"apiVersion", 3, 0, NULL}),
    N(ASCL "HorizontalPodAutoscalerStatus", {"observedGeneration", 1, P, NULL},
      {"lastScaleTime", 2, P, NULL}, {"currentReplicas", 3, 0, NULL},
      {"desiredReplicas", 4, 0, NULL}, {"currentCPUUtilizationPercentage", 5, P, NULL}),
    /* autoscaling/v2 */
    OBJ(ASCL2 "HorizontalPodAutoscaler", "spec", "status"),
    LIST(ASCL2 "HorizontalPodAutoscalerList"),
    N(ASCL2 "HorizontalPodAutoscalerSpec", {"scaleTargetRef", 1, 0, NULL},
      {"minReplicas", 2, P, NULL}, {"maxReplicas", 3, 0, NULL}, {"metrics", 4, 0, NULL},
      {"behavior", 5, P, NULL}),
    N(ASCL2 "CrossVersionObjectReference", {"kind", 1, 0, NULL}, {"name", 2, 0, NULL},
      {"apiVersion", 3, 0, NULL}),
    N(ASCL2 "MetricSpec", {"type", 1, 0, NULL}, {"object", 2, P, NULL}, {"pods", 3, P, NULL},
      {"resource", 4, P, NULL}, {"external", 5, P, NULL}, {"containerResource", 7, P, NULL}),
    N(ASCL2 "ResourceMetricSource", {"name", 1, 0, NULL}, {"target", 2, 0, NULL}),
    N(ASCL2 "ContainerResourceMetricSource", {"name", 1, 0, NULL}, {"target", 2, 0, NULL},
      {"container", 3, 0, NULL}),
    N(ASCL2 "PodsMetricSource", {"metric", 1, 0, NULL}, {"target", 2, 0, NULL}),
    N(ASCL2 "ObjectMetricSource", {"describedObject", 1, 0, NULL}, {"target", 2, 0, NULL},
      {"metric", 3, 0, NULL}),
    N(ASCL2 "ExternalMetricSource", {"metric", 1, 0, NULL}, {"target", 2, 0, NULL}),
    N(ASCL2 "MetricIdentifier", {"name", 1, 0, NULL}, {"selector", 2, P, NULL}),
    N(ASCL2 "MetricTarget", {"type", 1, 0, NULL}, {"value", 2, P, NULL},
      {"averageValue", 3, P, NULL}, {"averageUtilization", 4, P, NULL}),
    N(ASCL2 "HorizontalPodAutoscalerBehavior", {"scaleUp", 1, P, NULL}, {"scaleDown", 2, P, NULL}),
    N(ASCL2 "HPAScalingRules", {"selectPolicy", 1, P, NULL}, {"policies", 2, 0, NULL},
      {"stabilizationWindowSeconds", 3, P, NULL}, {"tolerance", 4, P, NULL}),
    N(ASCL2 "HPAScalingPolicy", {"type", 1, 0, NULL}, {"value", 2, 0, NULL},
      {"periodSeconds", 3, 0, NULL}),
    N(ASCL2 "HorizontalPodAutoscalerStatus", {"observedGeneration", 1, P, NULL},
      {"lastScaleTime", 2, P, NULL}, {"currentReplicas", 3, 0, NULL},
      {"desiredReplicas", 4, 0, NULL}, {"currentMetrics", 5, 0, NULL}, {"conditions", 6, 0, NULL}),
    N(ASCL2 "MetricStatus", {"type", 1, 0, NULL}, {"object", 2, P, NULL}, {"pods", 3, P, NULL},
      {"resource", 4, P, NULL}, {"external", 5, P, NULL}, {"containerResource", 7, P, NULL}),
    N(ASCL2 "ResourceMetricStatus", {"name", 1, 0, NULL}, {"current", 2, 0, NULL}),
    N(ASCL2 "ContainerResourceMetricStatus", {"name", 1, 0, NULL}, {"current", 2, 0, NULL},
      {"container", 3, 0, NULL}),
    N(ASCL2 "PodsMetricStatus", {"metric", 1, 0, NULL}, {"current", 2, 0, NULL}),
    N(ASCL2 "ObjectMetricStatus", {"metric", 1, 0, NULL}, {"current", 2, 0, NULL},
      {"describedObject", 3, 0, NULL}),
    N(ASCL2 "ExternalMetricStatus", {"metric", 1, 0, NULL}, {"current", 2, 0, NULL}),
    N(ASCL2 "MetricValueStatus", {"value", 1, P, NULL}, {"averageValue", 2, P, NULL},
      {"averageUtilization", 3, P, NULL}),
    N(ASCL2 "HorizontalPodAutoscalerCondition", {"type", 1, 0, NULL}, {"status", 2, 0, NULL},
      {"lastTransitionTime", 3, 0, NULL}, {"reason", 4, 0, NULL}, {"message", 5, 0, NULL}),
    /* policy/v1 */
    N(PLCY "Eviction", {"metadata", 1, 0, NULL}, {"deleteOptions", 2, P, NULL}),
    /* apps/v1 */
    OBJ(APPS "Deployment", "spec", "status"),
    LIST(APPS "DeploymentList"),
    N(APPS "DeploymentSpec", {"replicas", 1, P, NULL}, {"selector", 2, P, NULL},
      {"template", 3, 0, NULL}, {"strategy", 4, 0, NULL}, {"minReadySeconds", 5, 0, NULL},
      {"revisionHistoryLimit", 6, P, NULL}, {"paused", 7, 0, NULL},
      {"progressDeadlineSeconds", 9, P, NULL}),
    N(APPS "DeploymentStrategy", {"type", 1, 0, NULL}, {"rollingUpdate", 2, P, NULL}),
    N(APPS "RollingUpdateDeployment", {"maxUnavailable", 1, P, NULL}, {"maxSurge", 2, P, NULL}),
    N(APPS "DeploymentStatus", {"observedGeneration", 1, 0, NULL}, {"replicas", 2, 0, NULL},
      {"updatedReplicas", 3, 0, NULL}, {"availableReplicas", 4, 0, NULL},
      {"unavailableReplicas", 5, 0, NULL}, {"conditions", 6, 0, NULL},
      {"readyReplicas", 7, 0, NULL}, {"collisionCount", 8, P, NULL}),
    N(APPS "DeploymentCondition", {"type", 1, 0, NULL}, {"status", 2, 0, NULL},
      {"reason", 4, 0, NULL}, {"message", 5, 0, NULL}, {"lastUpdateTime", 6, 0, NULL},
      {"lastTransitionTime", 7, 0, NULL}),
    OBJ(APPS "ReplicaSet", "spec", "status"),
    LIST(APPS "ReplicaSetList"),
    N(APPS "ReplicaSetSpec", {"replicas", 1, P, NULL}, {"selector", 2, P, NULL},
      {"template", 3, 0, NULL}, {"minReadySeconds", 4, 0, NULL}),
    N(APPS "ReplicaSetStatus", {"replicas", 1, 0, NULL}, {"fullyLabeledReplicas", 2, 0, NULL},
      {"observedGeneration", 3, 0, NULL}, {"readyReplicas", 4, 0, NULL},
      {"availableReplicas", 5, 0, NULL}, {"conditions", 6, 0, NULL}),
    N(APPS "ReplicaSetCondition", {"type", 1, 0, NULL}, {"status", 2, 0, NULL},
      {"lastTransitionTime", 3, 0, NULL}, {"reason", 4, 0, NULL}, {"message", 5, 0, NULL}),
    /* core/v1: the kinds but Pod */
    OBJ(CORE "Namespace", "spec", "status"),
    LIST(CORE "NamespaceList"),
    N(CORE "NamespaceSpec", {"finalizers", 1, 0, NULL}),
    N(CORE "NamespaceStatus", {"phase", 1, 0, NULL}, {"conditions", 2, 0, NULL}),
    OBJ(CORE "Service", "spec", "status"),
    LIST(CORE "ServiceList"),
    N(CORE "ServiceSpec", {"ports", 1, 0, NULL}, {"selector", 2, 0, NULL},
      {"clusterIP", 3, 0, NULL}, {"type", 4, 0, NULL}, {"externalIPs", 5, 0, NULL},
      {"sessionAffinity", 7, 0, NULL}, {"loadBalancerIP", 8, 0, NULL},
      {"loadBalancerSourceRanges", 9, 0, NULL}, {"externalName", 10, 0, NULL},
      {"externalTrafficPolicy", 11, 0, NULL}, {"healthCheckNodePort", 12, 0, NULL},
      {"publishNotReadyAddresses", 13, 0, NULL}, {"sessionAffinityConfig", 14, P, NULL},
      {"ipFamilyPolicy", 17, P, NULL}, {"clusterIPs", 18, 0, NULL}, {"ipFamilies", 19, 0, NULL},
      {"allocateLoadBalancerNodePorts", 20, P, NULL}, {"loadBalancerClass", 21, P, NULL},
      {"internalTrafficPolicy", 22, P, NULL}, {"trafficDistribution", 23, P, NULL}),
    N(CORE "ServicePort", {"name", 1, 0, NULL}, {"protocol", 2, 0, NULL}, {"port", 3, 0, NULL},
      {"targetPort", 4, 0, NULL}, {"nodePort", 5, 0, NULL}, {"appProtocol", 6, P, NULL}),
    N(CORE "ServiceStatus", {"loadBalancer", 1, 0, NULL}, {"conditions", 2, 0, NULL}),
    N(CORE "Endpoints", {"metadata", 1, 0, NULL}, {"subsets", 2, 0, NULL}),
    LIST(CORE "EndpointsList"),
    N(CORE "EndpointSubset", {"addresses", 1, 0, NULL}, {"notReadyAddresses", 2, 0, NULL},
      {"ports", 3, 0, NULL}),
    N(CORE "EndpointAddress", {"ip", 1, 0, NULL}, {"targetRef", 2, P, NULL},
      {"hostname", 3, 0, NULL}, {"nodeName", 4, P, NULL}),
    N(CORE "EndpointPort", {"name", 1, 0, NULL}, {"port", 2, 0, NULL}, {"protocol", 3, 0, NULL},
      {"appProtocol", 4, P, NULL}),
    N(CORE "ObjectReference", {"kind", 1, 0, NULL}, {"namespace", 2, 0, NULL}, {"name", 3, 0, NULL},
      {"uid", 4, 0, NULL}, {"apiVersion", 5, 0, NULL}, {"resourceVersion", 6, 0, NULL},
      {"fieldPath", 7, 0, NULL}),
    N(CORE "ConfigMap", {"metadata", 1, 0, NULL}, {"data", 2, 0, NULL},
      {"binaryData", 3, PBN_BYTES, NULL}, {"immutable", 4, P, NULL}),
    LIST(CORE "ConfigMapList"),
    N(CORE "Secret", {"metadata", 1, 0, NULL}, {"data", 2, PBN_BYTES, NULL}, {"type", 3, P, NULL},
      {"stringData", 4, 0, NULL}, {"immutable", 5, P, NULL}),
    LIST(CORE "SecretList"),
    OBJ(CORE "Node", "spec", "status"),
    LIST(CORE "NodeList"),
    N(CORE "NodeSpec", {"podCIDR", 1, 0, NULL}, {"externalID", 2, 0, NULL},
      {"providerID", 3, 0, NULL}, {"unschedulable", 4, 0, NULL}, {"taints", 5, 0, NULL},
      {"configSource", 6, P, NULL}, {"podCIDRs", 7, 0, NULL}),
    N(CORE "Taint", {"key", 1, 0, NULL}, {"value", 2, 0, NULL}, {"effect", 3, 0, NULL},
      {"timeAdded", 4, P, NULL}),
    N(CORE "NodeStatus", {"capacity", 1, 0, NULL}, {"allocatable", 2, 0, NULL},
      {"phase", 3, 0, NULL}, {"conditions", 4, 0, NULL}, {"addresses", 5, 0, NULL},
      {"daemonEndpoints", 6, 0, NULL}, {"nodeInfo", 7, 0, NULL}, {"images", 8, 0, NULL},
      {"volumesInUse", 9, 0, NULL}, {"volumesAttached", 10, 0, NULL}, {"config", 11, P, NULL}),
    N(CORE "NodeCondition", {"type", 1, 0, NULL}, {"status", 2, 0, NULL},
      {"lastHeartbeatTime", 3, 0, NULL}, {"lastTransitionTime", 4, 0, NULL}, {"reason", 5, 0, NULL},
      {"message", 6, 0, NULL}),
    N(CORE "NodeAddress", {"type", 1, 0, NULL}, {"address", 2, 0, NULL}),
    N(CORE "NodeSystemInfo", {"machineID", 1, 0, NULL}, {"systemUUID", 2, 0, NULL},
      {"bootID", 3, 0, NULL}, {"kernelVersion", 4, 0, NULL}, {"osImage", 5, 0, NULL},
      {"containerRuntimeVersion", 6, 0, NULL}, {"kubeletVersion", 7, 0, NULL},
      {"kubeProxyVersion", 8, 0, NULL}, {"operatingSystem", 9, 0, NULL},
      {"architecture", 10, 0, NULL}),
    N(CORE "Event", {"metadata", 1, 0, NULL}, {"involvedObject", 2, 0, NULL},
      {"reason", 3, 0, NULL}, {"message", 4, 0, NULL}, {"source", 5, 0, NULL},
      {"firstTimestamp", 6, 0, NULL}, {"lastTimestamp", 7, 0, NULL}, {"count", 8, 0, NULL},
      {"type", 9, 0, NULL}, {"eventTime", 10, PBN_MICROTIME, NULL}, {"series", 11, P, NULL},
      {"action", 12, 0, NULL}, {"related", 13, P, NULL}, {"reportingComponent", 14, 0, NULL},
      {"reportingInstance", 15, 0, NULL}),
    LIST(CORE "EventList"),
    N(CORE "EventSource", {"component", 1, 0, NULL}, {"host", 2, 0, NULL}),
    /* coordination/v1 */
    N(COORD "Lease", {"metadata", 1, 0, NULL}, {"spec", 2, 0, NULL}),
    LIST(COORD "LeaseList"),
    N(COORD "LeaseSpec", {"holderIdentity", 1, P, NULL}, {"leaseDurationSeconds", 2, P, NULL},
      {"acquireTime", 3, P | MT, NULL}, {"renewTime", 4, P | MT, NULL},
      {"leaseTransitions", 5, P, NULL}),
    /* core/v1: pods and what they hold */
    OBJ(CORE "Pod", "spec", "status"),
    LIST(CORE "PodList"),
    N(CORE "PodTemplateSpec", {"metadata", 1, 0, NULL}, {"spec", 2, 0, NULL}),
    N(CORE "PodSpec", {"volumes", 1, 0, NULL}, {"containers", 2, 0, NULL},
      {"restartPolicy", 3, 0, NULL}, {"terminationGracePeriodSeconds", 4, P, NULL},
      {"activeDeadlineSeconds", 5, P, NULL}, {"dnsPolicy", 6, 0, NULL},
      {"nodeSelector", 7, 0, NULL}, {"serviceAccountName", 8, 0, NULL},
      {"serviceAccount", 9, 0, NULL}, {"nodeName", 10, 0, NULL}, {"hostNetwork", 11, 0, NULL},
      {"hostPID", 12, 0, NULL}, {"hostIPC", 13, 0, NULL}, {"securityContext", 14, P, NULL},
      {"imagePullSecrets", 15, 0, NULL}, {"hostname", 16, 0, NULL}, {"subdomain", 17, 0, NULL},
      {"affinity", 18, P, NULL}, {"schedulerName", 19, 0, NULL}, {"initContainers", 20, 0, NULL},
      {"automountServiceAccountToken", 21, P, NULL}, {"tolerations", 22, 0, NULL},
      {"hostAliases", 23, 0, NULL}, {"priorityClassName", 24, 0, NULL}, {"priority", 25, P, NULL},
      {"dnsConfig", 26, P, NULL}, {"shareProcessNamespace", 27, P, NULL},
      {"readinessGates", 28, 0, NULL}, {"runtimeClassName", 29, P, NULL},
      {"enableServiceLinks", 30, P, NULL}, {"preemptionPolicy", 31, P, NULL},
      {"overhead", 32, 0, NULL}, {"topologySpreadConstraints", 33, 0, NULL},
      {"ephemeralContainers", 34, 0, NULL}, {"setHostnameAsFQDN", 35, P, NULL}, {"os", 36, P, NULL},
      {"hostUsers", 37, P, NULL}, {"schedulingGates", 38, 0, NULL},
      {"resourceClaims", 39, 0, NULL}),
    N(CORE "Container", {"name", 1, 0, NULL}, {"image", 2, 0, NULL}, {"command", 3, 0, NULL},
      {"args", 4, 0, NULL}, {"workingDir", 5, 0, NULL}, {"ports", 6, 0, NULL}, {"env", 7, 0, NULL},
      {"resources", 8, 0, NULL}, {"volumeMounts", 9, 0, NULL}, {"livenessProbe", 10, P, NULL},
      {"readinessProbe", 11, P, NULL}, {"lifecycle", 12, P, NULL},
      {"terminationMessagePath", 13, 0, NULL}, {"imagePullPolicy", 14, 0, NULL},
      {"securityContext", 15, P, NULL}, {"stdin", 16, 0, NULL}, {"stdinOnce", 17, 0, NULL},
      {"tty", 18, 0, NULL}, {"envFrom", 19, 0, NULL}, {"terminationMessagePolicy", 20, 0, NULL},
      {"volumeDevices", 21, 0, NULL}, {"startupProbe", 22, P, NULL}, {"resizePolicy", 23, 0, NULL},
      {"restartPolicy", 24, P, NULL}),
    N(CORE "ContainerPort", {"name", 1, 0, NULL}, {"hostPort", 2, 0, NULL},
      {"containerPort", 3, 0, NULL}, {"protocol", 4, 0, NULL}, {"hostIP", 5, 0, NULL}),
    N(CORE "EnvVar", {"name", 1, 0, NULL}, {"value", 2, 0, NULL}, {"valueFrom", 3, P, NULL}),
    N(CORE "EnvVarSource", {"fieldRef", 1, P, NULL}, {"resourceFieldRef", 2, P, NULL},
      {"configMapKeyRef", 3, P, NULL}, {"secretKeyRef", 4, P, NULL}),
    N(CORE "ObjectFieldSelector", {"apiVersion", 1, 0, NULL}, {"fieldPath", 2, 0, NULL}),
    N(CORE "ResourceFieldSelector", {"containerName", 1, 0, NULL}, {"resource", 2, 0, NULL},
      {"divisor", 3, 0, NULL}),
    /* LocalObjectReference is inline in JSON: its name is the selector's */
    N(CORE "ConfigMapKeySelector", {NULL, 1, PBN_INLINE, CORE "LocalObjectReference"},
      {"key", 2, 0, NULL}, {"optional", 3, P, NULL}),
    N(CORE "EnvFromSource", {"prefix", 1, 0, NULL}, {"configMapRef", 2, P, NULL},
      {"secretRef", 3, P, NULL}),
    N(CORE "ConfigMapEnvSource", {NULL, 1, PBN_INLINE, CORE "LocalObjectReference"},
      {"optional", 2, P, NULL}),
    N(CORE "SecretKeySelector", {NULL, 1, PBN_INLINE, CORE "LocalObjectReference"},
      {"key", 2, 0, NULL}, {"optional", 3, P, NULL}),
    N(CORE "SecretEnvSource", {NULL, 1, PBN_INLINE, CORE "LocalObjectReference"},
      {"optional", 2, P, NULL}),
    N(CORE "ResourceRequirements", {"limits", 1, 0, NULL}, {"requests", 2, 0, NULL},
      {"claims", 3, 0, NULL}),
    N(CORE "VolumeMount", {"name", 1, 0, NULL}, {"readOnly", 2, 0, NULL}, {"mountPath", 3, 0, NULL},
      {"subPath", 4, 0, NULL}, {"mountPropagation", 5, P, NULL}, {"subPathExpr", 6, 0, NULL},
      {"recursiveReadOnly", 7, P, NULL}),
    N(CORE "Probe", {NULL, 1, PBN_INLINE, CORE "ProbeHandler"}, {"initialDelaySeconds", 2, 0, NULL},
      {"timeoutSeconds", 3, 0, NULL}, {"periodSeconds", 4, 0, NULL},
      {"successThreshold", 5, 0, NULL}, {"failureThreshold", 6, 0, NULL},
      {"terminationGracePeriodSeconds", 7, P, NULL}),
    N(CORE "ProbeHandler", {"exec", 1, P, NULL}, {"httpGet", 2, P, NULL}, {"tcpSocket", 3, P, NULL},
      {"grpc", 4, P, NULL}),
    N(CORE "ExecAction", {"command", 1, 0, NULL}),
    N(CORE "HTTPGetAction", {"path", 1, 0, NULL}, {"port", 2, 0, NULL}, {"host", 3, 0, NULL},
      {"scheme", 4, 0, NULL}, {"httpHeaders", 5, 0, NULL}),
    N(CORE "HTTPHeader", {"name", 1, 0, NULL}, {"value", 2, 0, NULL}),
    N(CORE "TCPSocketAction", {"port", 1, 0, NULL}, {"host", 2, 0, NULL}),
    N(CORE "Capabilities", {"add", 1, 0, NULL}, {"drop", 2, 0, NULL}),
    N(CORE "SeccompProfile", {"type", 1, 0, NULL}, {"localhostProfile", 2, P, NULL}),
    N(CORE "SecurityContext", {"capabilities", 1, P, NULL}, {"privileged", 2, P, NULL},
      {"seLinuxOptions", 3, P, NULL}, {"runAsUser", 4, P, NULL}, {"runAsNonRoot", 5, P, NULL},
      {"readOnlyRootFilesystem", 6, P, NULL}, {"allowPrivilegeEscalation", 7, P, NULL},
      {"runAsGroup", 8, P, NULL}, {"procMount", 9, P, NULL}, {"windowsOptions", 10, P, NULL},
      {"seccompProfile", 11, P, NULL}, {"appArmorProfile", 12, P, NULL}),
    N(CORE "PodSecurityContext", {"seLinuxOptions", 1, P, NULL}, {"runAsUser", 2, P, NULL},
      {"runAsNonRoot", 3, P, NULL}, {"supplementalGroups", 4, 0, NULL}, {"fsGroup", 5, P, NULL},
      {"runAsGroup", 6, P, NULL}, {"sysctls", 7, 0, NULL}, {"windowsOptions", 8, P, NULL},
      {"fsGroupChangePolicy", 9, P, NULL}, {"seccompProfile", 10, P, NULL},
      {"appArmorProfile", 11, P, NULL}, {"supplementalGroupsPolicy", 12, P, NULL},
      {"seLinuxChangePolicy", 13, P, NULL}),
    N(CORE "Volume", {"name", 1, 0, NULL}, {NULL, 2, PBN_INLINE, CORE "VolumeSource"}),
    N(CORE "VolumeSource", {"hostPath", 1, P, NULL}, {"emptyDir", 2, P, NULL},
      {"gcePersistentDisk", 3, P, NULL}, {"awsElasticBlockStore", 4, P, NULL},
      {"gitRepo", 5, P, NULL}, {"secret", 6, P, NULL}, {"nfs", 7, P, NULL}, {"iscsi", 8, P, NULL},
      {"glusterfs", 9, P, NULL}, {"persistentVolumeClaim", 10, P, NULL}, {"rbd", 11, P, NULL},
      {"flexVolume", 12, P, NULL}, {"cinder", 13, P, NULL}, {"cephfs", 14, P, NULL},
      {"flocker", 15, P, NULL}, {"downwardAPI", 16, P, NULL}, {"fc", 17, P, NULL},
      {"azureFile", 18, P, NULL}, {"configMap", 19, P, NULL}, {"vsphereVolume", 20, P, NULL},
      {"quobyte", 21, P, NULL}, {"azureDisk", 22, P, NULL}, {"photonPersistentDisk", 23, P, NULL},
      {"portworxVolume", 24, P, NULL}, {"scaleIO", 25, P, NULL}, {"projected", 26, P, NULL},
      {"storageos", 27, P, NULL}, {"csi", 28, P, NULL}, {"ephemeral", 29, P, NULL},
      {"image", 30, P, NULL}),
    N(CORE "EmptyDirVolumeSource", {"medium", 1, 0, NULL}, {"sizeLimit", 2, P, NULL}),
    N(CORE "ConfigMapVolumeSource", {NULL, 1, PBN_INLINE, CORE "LocalObjectReference"},
      {"items", 2, 0, NULL}, {"defaultMode", 3, P, NULL}, {"optional", 4, P, NULL}),
    N(CORE "SecretVolumeSource", {"secretName", 1, 0, NULL}, {"items", 2, 0, NULL},
      {"defaultMode", 3, P, NULL}, {"optional", 4, P, NULL}),
    N(CORE "KeyToPath", {"key", 1, 0, NULL}, {"path", 2, 0, NULL}, {"mode", 3, P, NULL}),
    N(CORE "LocalObjectReference", {"name", 1, 0, NULL}),
    N(CORE "Toleration", {"key", 1, 0, NULL}, {"operator", 2, 0, NULL}, {"value", 3, 0, NULL},
      {"effect", 4, 0, NULL}, {"tolerationSeconds", 5, P, NULL}),
    N(CORE "Affinity", {"nodeAffinity", 1, P, NULL}, {"podAffinity", 2, P, NULL},
      {"podAntiAffinity", 3, P, NULL}),
    N(CORE "NodeAffinity", {"requiredDuringSchedulingIgnoredDuringExecution", 1, P, NULL},
      {"preferredDuringSchedulingIgnoredDuringExecution", 2, 0, NULL}),
    N(CORE "NodeSelector", {"nodeSelectorTerms", 1, 0, NULL}),
    N(CORE "NodeSelectorTerm", {"matchExpressions", 1, 0, NULL}, {"matchFields", 2, 0, NULL}),
    N(CORE "NodeSelectorRequirement", {"key", 1, 0, NULL}, {"operator", 2, 0, NULL},
      {"values", 3, 0, NULL}),
    N(CORE "PreferredSchedulingTerm", {"weight", 1, 0, NULL}, {"preference", 2, 0, NULL}),
    N(CORE "PodDNSConfig", {"nameservers", 1, 0, NULL}, {"searches", 2, 0, NULL},
      {"options", 3, 0, NULL}),
    N(CORE "PodDNSConfigOption", {"name", 1, 0, NULL}, {"value", 2, P, NULL}),
    N(CORE "PodStatus", {"phase", 1, 0, NULL}, {"conditions", 2, 0, NULL}, {"message", 3, 0, NULL},
      {"reason", 4, 0, NULL}, {"hostIP", 5, 0, NULL}, {"podIP", 6, 0, NULL},
      {"startTime", 7, P, NULL}, {"containerStatuses", 8, 0, NULL}, {"qosClass", 9, 0, NULL},
      {"initContainerStatuses", 10, 0, NULL}, {"nominatedNodeName", 11, 0, NULL},
      {"podIPs", 12, 0, NULL}, {"hostIPs", 16, 0, NULL}),
    N(CORE "PodIP", {"ip", 1, 0, NULL}),
    N(CORE "PodCondition", {"type", 1, 0, NULL}, {"status", 2, 0, NULL},
      {"lastProbeTime", 3, 0, NULL}, {"lastTransitionTime", 4, 0, NULL}, {"reason", 5, 0, NULL},
      {"message", 6, 0, NULL}),
    N(CORE "ContainerStatus", {"name", 1, 0, NULL}, {"state", 2, 0, NULL},
      {"lastState", 3, 0, NULL}, {"ready", 4, 0, NULL}, {"restartCount", 5, 0, NULL},
      {"image", 6, 0, NULL}, {"imageID", 7, 0, NULL}, {"containerID", 8, 0, NULL},
      {"started", 9, P, NULL}),
    N(CORE "ContainerState", {"waiting", 1, P, NULL}, {"running", 2, P, NULL},
      {"terminated", 3, P, NULL}),
    N(CORE "ContainerStateWaiting", {"reason", 1, 0, NULL}, {"message", 2, 0, NULL}),
    N(CORE "ContainerStateRunning", {"startedAt", 1, 0, NULL}),
    N(CORE "ContainerStateTerminated", {"exitCode", 1, 0, NULL}, {"signal", 2, 0, NULL},
      {"reason", 3, 0, NULL}, {"message", 4, 0, NULL}, {"startedAt", 5, 0, NULL},
      {"finishedAt", 6, 0, NULL}, {"containerID", 7, 0, NULL}),
};

const struct pb_nums *pb_numbers(const char *def)
{
	for (size_t i = 0; def && i < sizeof(tables) / sizeof(tables[0]); i++)
		if (!strcmp(tables[i].def, def))
			return &tables[i];
	return NULL;
}

const struct pb_nums *pb_numbers_at(size_t i)
{
	return i < sizeof(tables) / sizeof(tables[0]) ? &tables[i] : NULL;
}

const struct sch_def *pb_schema_def(const char *name)
{
	if (name && !strcmp(name, pb_eviction_def.name))
		return &pb_eviction_def;
	return schema_def(name);
}
