/*
 * schema_kinds.c - the schema of object metadata, label selectors, every
 * kind but Pod (schema_pod.c) and their lists, and the API's own objects
 * (Status, DeleteOptions, WatchEvent, Scale), as valid.c accepts them.
 */
#include "engine/valid/schema_int.h"

const char *const schema_k_name[] = {"name", NULL};
const char *const schema_k_type[] = {"type", NULL};
const char *const schema_k_ip[] = {"ip", NULL};
static const char *const k_uid[] = {"uid", NULL};
static const char *const k_svc_port[] = {"port", "protocol", NULL};

static const char *const e_sel_op[] = {"DoesNotExist", "Exists", "In", "NotIn", NULL};
static const char *const e_strategy[] = {"Recreate", "RollingUpdate", NULL};
static const char *const e_svc_type[] = {"ClusterIP", "ExternalName", "LoadBalancer", "NodePort",
					 NULL};
static const char *const e_affinity[] = {"ClientIP", "None", NULL};
static const char *const e_traffic[] = {"Cluster", "Local", NULL};
static const char *const e_effect[] = {"NoExecute", "NoSchedule", "PreferNoSchedule", NULL};
static const char *const e_event_type[] = {"Normal", "Warning", NULL};
static const char *const e_ns_phase[] = {"Active", "Terminating", NULL};
static const char *const e_propagation[] = {"Background", "Foreground", "Orphan", NULL};

/* --- metadata ------------------------------------------------------------- */

static const struct sch_field object_meta[] = {
    FS("name", "The object's name, unique in its namespace for its kind."),
    FS("generateName", "A prefix to make a unique name from, when name is empty."),
    FS("namespace", "The namespace the object lives in (namespaced kinds only)."),
    FSRO("selfLink", "Deprecated; not set."),
    FSRO("uid", "The object's unique ID, set on create."),
    FSRO("resourceVersion", "The store's revision of the object; opaque to clients."),
    F_("generation", SCH_INT64, 0, NULL, "Counts changes of the object's spec.", SCH_READONLY, NULL,
       NULL),
    FT("creationTimestamp", "When the object was created."),
    FT("deletionTimestamp", "When the object is to be deleted (set by a delete)."),
    FL("deletionGracePeriodSeconds", "The grace period of a pending deletion."),
    FM("labels", "Keys and values that selectors match on."),
    FM("annotations", "Keys and values for tools; not matched on."),
    FAK("ownerReferences", META "OwnerReference", k_uid,
	"The objects this one depends on; at most one is its controller."),
    FASET("finalizers", "What must happen before the object is removed."),
    FA("managedFields", META "ManagedFieldsEntry", "Which manager owns which fields."),
};

static const struct sch_field list_meta[] = {
    FS("selfLink", "Deprecated; not set."),
    FS("resourceVersion", "The revision the list was read at; watch from it."),
    FS("continue", "Set when more items remain to be read."),
    FL("remainingItemCount", "How many items remain."),
};

static const struct sch_field owner_ref[] = {
    FSR("apiVersion", "The owner's API version."),
    FSR("kind", "The owner's kind."),
    FSR("name", "The owner's name."),
    FSR("uid", "The owner's UID."),
    FB("controller", "Whether the owner is the managing controller."),
    FB("blockOwnerDeletion", "Whether a foreground deletion of the owner waits for this one."),
};

static const struct sch_field managed[] = {
    FS("manager", "The field manager."),
    FS("operation", "Apply or Update."),
    FS("apiVersion", "The version the fields are named in."),
    FT("time", "When they were last set."),
    FS("fieldsType", "FieldsV1."),
    FANY("fieldsV1", "The fields, as a set."),
    FS("subresource", "The subresource written, if any."),
};

static const struct sch_field label_sel[] = {
    FM("matchLabels", "Labels an object must have, key: value."),
    FA("matchExpressions", META "LabelSelectorRequirement", "Requirements, ANDed."),
};

static const struct sch_field label_req[] = {
    FSR("key", "The label key."),
    FER("operator", e_sel_op, "In, NotIn, Exists or DoesNotExist."),
    FAS("values", "The values (In, NotIn)."),
};

/* --- the API's objects ---------------------------------------------------- */

static const struct sch_field status[] = {
    LIST_META,
    FS("status", "Success or Failure."),
    FS("message", "What happened, in words."),
    FS("reason", "What happened, in a CamelCase word: NotFound, AlreadyExists, ..."),
    FO("details", META "StatusDetails", "The object concerned, and the causes."),
    FI("code", "The HTTP status code."),
};

static const struct sch_field status_details[] = {
    FS("name", "The object's name."),
    FS("group", "The object's group."),
    FS("kind", "The object's kind."),
    FS("uid", "The object's UID."),
    FA("causes", META "StatusCause", "The problems, one per field."),
    FI("retryAfterSeconds", "When to try again."),
};

static const struct sch_field status_cause[] = {
    FS("reason", "FieldValueInvalid, FieldValueRequired, ..."),
    FS("message", "The problem, in words."),
    FS("field", "The field's path: spec.replicas."),
};

static const struct sch_field delete_opts[] = {
    TYPE_META,
    FL("gracePeriodSeconds", "Seconds before the object is deleted."),
    FO("preconditions", META "Preconditions", "Deleted only if these hold."),
    FB("orphanDependents", "Deprecated: use propagationPolicy."),
    FE("propagationPolicy", e_propagation,
       "What happens to dependents: Background, Foreground or Orphan."),
    FAS("dryRun", "All: check but do not delete."),
};

static const struct sch_field preconditions[] = {
    FS("uid", "The UID the object must have."),
    FS("resourceVersion", "The revision the object must be at."),
};

static const struct sch_field watch_event[] = {
    FSR("type", "ADDED, MODIFIED, DELETED, BOOKMARK or ERROR."),
    F_("object", SCH_ANY, 0, NULL, "The object (a Status for ERROR).", SCH_REQUIRED, NULL, NULL),
};

static const struct sch_field scale[] = {
    OBJ_META,
    FO("spec", ASCL "ScaleSpec", "The desired replicas."),
    FO("status", ASCL "ScaleStatus", "The current replicas."),
};

static const struct sch_field scale_spec[] = {
    FI("replicas", "The desired number of replicas."),
};

static const struct sch_field scale_status[] = {
    FI("replicas", "The current number of replicas."),
    FS("selector", "The label selector of the pods, as a string."),
};

/* --- apps/v1 -------------------------------------------------------------- */

static const struct sch_field deploy[] = {
    OBJ_META,
    FO("spec", APPS "DeploymentSpec", "The desired pods and how to roll them out."),
    FO("status", APPS "DeploymentStatus", "The rollout's progress. Read-only."),
};

static const struct sch_field deploy_spec[] = {
    FI("replicas", "How many pods (default 1)."),
    FOR("selector", META "LabelSelector",
	"Which pods are the deployment's; must match the template's labels. Immutable."),
    FOR("template", CORE "PodTemplateSpec", "The pods to run."),
    F_("strategy", SCH_OBJECT, 0, APPS "DeploymentStrategy",
       "How old pods are replaced by new ones.", SCH_RETAIN, NULL, NULL),
    FI("minReadySeconds", "Seconds a new pod must be ready to count as available."),
    FI("revisionHistoryLimit", "Old ReplicaSets kept for rollback (default 10)."),
    FB("paused", "Whether rollouts are paused."),
    FI("progressDeadlineSeconds",
       "Seconds without progress before the rollout is reported stalled (default 600)."),
};

static const struct sch_field strategy[] = {
    FE("type", e_strategy, "RollingUpdate (the default) or Recreate."),
    FO("rollingUpdate", APPS "RollingUpdateDeployment", "RollingUpdate's parameters."),
};

static const struct sch_field rolling[] = {
    FX("maxUnavailable", "Pods that may be unavailable during the update: a number or a "
			 "percent (default 25%)."),
    FX("maxSurge", "Pods over the desired number during the update: a number or a percent "
		   "(default 25%)."),
};

static const struct sch_field deploy_status[] = {
    FL("observedGeneration", "The generation the status reflects."),
    FI("replicas", "Pods targeted by the deployment."),
    FI("updatedReplicas", "Pods of the current template."),
    FI("readyReplicas", "Ready pods."),
    FI("availableReplicas", "Pods ready for minReadySeconds."),
    FI("unavailableReplicas", "Pods not available."),
    FAK("conditions", APPS "DeploymentCondition", schema_k_type, "Available, Progressing."),
    FI("collisionCount", "Hash collisions of the template."),
};

static const struct sch_field condition[] = {
    FS("type", "The condition."),
    FS("status", "True, False or Unknown."),
    FT("lastUpdateTime", "When it was last updated."),
    FT("lastTransitionTime", "When it last changed."),
    FS("reason", "Why, in a CamelCase word."),
    FS("message", "Why, in words."),
};

static const struct sch_field rs[] = {
    OBJ_META,
    FO("spec", APPS "ReplicaSetSpec", "The desired pods."),
    FO("status", APPS "ReplicaSetStatus", "The pods there are. Read-only."),
};

static const struct sch_field rs_spec[] = {
    FI("replicas", "How many pods (default 1)."),
    FI("minReadySeconds", "Seconds a new pod must be ready to count as available."),
    FOR("selector", META "LabelSelector",
	"Which pods are the ReplicaSet's; must match the template's labels. Immutable."),
    FOR("template", CORE "PodTemplateSpec", "The pods to run."),
};

static const struct sch_field rs_status[] = {
    FI("replicas", "Pods there are."),
    FI("fullyLabeledReplicas", "Pods whose labels match the template's."),
    FI("readyReplicas", "Ready pods."),
    FI("availableReplicas", "Pods ready for minReadySeconds."),
    FL("observedGeneration", "The generation the status reflects."),
    FAK("conditions", APPS "ReplicaSetCondition", schema_k_type, "ReplicaFailure."),
};

/* --- core/v1 -------------------------------------------------------------- */

static const struct sch_field ns[] = {
    OBJ_META,
    FO("spec", CORE "NamespaceSpec", "The namespace's finalizers."),
    FO("status", CORE "NamespaceStatus", "Active or Terminating. Read-only."),
};

static const struct sch_field ns_spec[] = {
    FAS("finalizers", "What must happen before the namespace is removed (kubernetes)."),
};

static const struct sch_field ns_status[] = {
    FE("phase", e_ns_phase, "Active or Terminating."),
    FAKANY("conditions", schema_k_type, "The namespace's conditions."),
};

static const struct sch_field svc[] = {
    OBJ_META,
    FO("spec", CORE "ServiceSpec", "The ports served and the pods that serve them."),
    FO("status", CORE "ServiceStatus", "The load balancer, if any. Read-only."),
};

static const struct sch_field svc_spec[] = {
    FAK("ports", CORE "ServicePort", k_svc_port,
	"The ports served; names are required when there are several."),
    FM("selector", "Labels of the pods that serve it; none: the Endpoints are kept by hand."),
    FS("clusterIP", "The virtual address; set on create, or None for a headless service. "
		    "Immutable."),
    FAS("clusterIPs", "The virtual addresses (one: clusterfs has IPv4 only)."),
    FE("type", e_svc_type, "ClusterIP (the default), NodePort or LoadBalancer."),
    FAS("externalIPs", "Addresses outside the cluster that also reach the service."),
    FE("sessionAffinity", e_affinity, "None (the default) or ClientIP."),
    FANY("sessionAffinityConfig", "ClientIP affinity's timeout."),
    FS("loadBalancerIP", "Deprecated."),
    FAS("loadBalancerSourceRanges", "Addresses allowed through the load balancer."),
    FS("externalName", "ExternalName services (not supported by clusterfs)."),
    FE("externalTrafficPolicy", e_traffic,
       "NodePort and LoadBalancer: Cluster (the default) or Local."),
    FI("healthCheckNodePort", "The health check's node port."),
    FB("publishNotReadyAddresses", "Whether pods that are not ready are served."),
    FAS("ipFamilies", "IPv4."),
    FS("ipFamilyPolicy", "SingleStack."),
    FB("allocateLoadBalancerNodePorts", "Whether LoadBalancer services get node ports."),
    FS("loadBalancerClass", "The load balancer implementation."),
    FE("internalTrafficPolicy", e_traffic, "Cluster (the default) or Local."),
    FS("trafficDistribution", "A preference for how traffic is spread."),
};

static const struct sch_field svc_port[] = {
    FS("name", "The port's name (a DNS label); required when there are several."),
    FE("protocol", schema_enum_protocol, "TCP (the default), UDP or SCTP."),
    FS("appProtocol", "The application protocol."),
    FIR("port", "The port the service serves, 1-65535."),
    FX("targetPort", "The pods' port: a number or a container port's name (default: port)."),
    FI("nodePort", "NodePort and LoadBalancer: the port on every node."),
};

static const struct sch_field svc_status[] = {
    FANY("loadBalancer", "The load balancer's addresses."),
    FAKANY("conditions", schema_k_type, "The service's conditions."),
};

static const struct sch_field ep[] = {
    OBJ_META,
    FA("subsets", CORE "EndpointSubset", "Addresses and the ports they serve."),
};

static const struct sch_field ep_subset[] = {
    FA("addresses", CORE "EndpointAddress", "Ready addresses."),
    FA("notReadyAddresses", CORE "EndpointAddress", "Addresses not ready yet."),
    FA("ports", CORE "EndpointPort", "The ports served at each address."),
};

static const struct sch_field ep_addr[] = {
    FSR("ip", "The address (IPv4)."),
    FS("hostname", "The endpoint's hostname."),
    FS("nodeName", "The node the endpoint is on."),
    FO("targetRef", CORE "ObjectReference", "The pod behind the address."),
};

static const struct sch_field ep_port[] = {
    FS("name", "The port's name; required when there are several."),
    FIR("port", "The port number, 1-65535."),
    FE("protocol", schema_enum_protocol, "TCP (the default), UDP or SCTP."),
    FS("appProtocol", "The application protocol."),
};

static const struct sch_field obj_ref[] = {
    FS("kind", "The object's kind."),
    FS("namespace", "The object's namespace."),
    FS("name", "The object's name."),
    FS("uid", "The object's UID."),
    FS("apiVersion", "The object's API version."),
    FS("resourceVersion", "The object's revision."),
    FS("fieldPath", "A part of the object: spec.containers{web}."),
};

static const struct sch_field cm[] = {
    OBJ_META,
    FM("data", "Keys and their text values."),
    FM("binaryData", "Keys and their base64-encoded binary values."),
    FB("immutable", "Whether the data may no longer change."),
};

static const struct sch_field secret[] = {
    OBJ_META,
    FM("data", "Keys and their base64-encoded values."),
    FM("stringData", "Keys and plain values merged into data on write; never read back."),
    FS("type", "What the data holds (Opaque, kubernetes.io/tls, ...); Opaque by default."),
    FB("immutable", "Whether the data may no longer change."),
};

static const struct sch_field node[] = {
    OBJ_META,
    FO("spec", CORE "NodeSpec", "Whether and how pods may be scheduled to the node."),
    FO("status", CORE "NodeStatus", "The node's state, as its agent reports it. Read-only."),
};

static const struct sch_field node_spec[] = {
    FS("podCIDR", "The range pod addresses on the node come from."),
    FASET("podCIDRs", "The same, as a list."),
    FS("providerID", "The node's ID at its provider."),
    FB("unschedulable", "Whether new pods stay off the node (cordon)."),
    FA("taints", CORE "Taint", "Taints that keep pods that do not tolerate them away."),
    FANY("configSource", "Deprecated."),
    FS("externalID", "Deprecated."),
};

static const struct sch_field taint[] = {
    FSR("key", "The taint's key."),
    FS("value", "The taint's value."),
    FER("effect", e_effect, "NoSchedule, PreferNoSchedule or NoExecute."),
    FT("timeAdded", "When a NoExecute taint was added."),
};

static const struct sch_field node_status[] = {
    FMQ("capacity", "The node's resources."),
    FMQ("allocatable", "The resources pods may use."),
    FS("phase", "Deprecated."),
    FAK("conditions", CORE "NodeCondition", schema_k_type, "Ready, MemoryPressure, ..."),
    FAK("addresses", CORE "NodeAddress", schema_k_type, "InternalIP, Hostname."),
    FANY("daemonEndpoints", "The agent's port."),
    FO("nodeInfo", CORE "NodeSystemInfo", "Versions and IDs."),
    FAANY("images", "Images on the node."),
    FAS("volumesInUse", "Volumes in use."),
    FAANY("volumesAttached", "Volumes attached."),
    FANY("config", "The agent's configuration."),
};

static const struct sch_field node_cond[] = {
    FS("type", "The condition."),
    FS("status", "True, False or Unknown."),
    FT("lastHeartbeatTime", "When it was last reported."),
    FT("lastTransitionTime", "When it last changed."),
    FS("reason", "Why, in a CamelCase word."),
    FS("message", "Why, in words."),
};

static const struct sch_field node_addr[] = {
    FS("type", "InternalIP, ExternalIP or Hostname."),
    FS("address", "The address."),
};

static const struct sch_field node_info[] = {
    FS("machineID", "The machine ID."),
    FS("systemUUID", "The system UUID."),
    FS("bootID", "The boot ID."),
    FS("kernelVersion", "uname -r."),
    FS("osImage", "The OS's name."),
    FS("containerRuntimeVersion", "The runtime and its version."),
    FS("kubeletVersion", "The agent's version."),
    FS("kubeProxyVersion", "The proxy's version."),
    FS("operatingSystem", "linux."),
    FS("architecture", "amd64, arm64, ..."),
};

static const struct sch_field event[] = {
    OBJ_META,
    FOR("involvedObject", CORE "ObjectReference", "The object the event is about."),
    FS("reason", "What happened, in a CamelCase word: Scheduled, Pulled, ..."),
    FS("message", "What happened, in words."),
    FO("source", CORE "EventSource", "Who reported it."),
    FT("firstTimestamp", "When it first happened."),
    FT("lastTimestamp", "When it last happened."),
    FI("count", "How many times it happened."),
    FE("type", e_event_type, "Normal or Warning."),
    FS("eventTime", "When it happened, in microseconds."),
    FANY("series", "The series it is part of."),
    FS("action", "What was done."),
    FO("related", CORE "ObjectReference", "A second object concerned."),
    FS("reportingComponent", "The controller that reported it."),
    FS("reportingInstance", "The instance of the controller."),
};

static const struct sch_field event_src[] = {
    FS("component", "The component: kubelet, scheduler, ..."),
    FS("host", "The node."),
};

static const struct sch_field lease[] = {
    OBJ_META,
    FO("spec", COORD "LeaseSpec", "The lease's holder and its terms."),
};

/* acquireTime and renewTime are MicroTimes: RFC 3339 with microseconds. */
static const struct sch_field lease_spec[] = {
    FS("holderIdentity", "Who holds the lease: a node's name for a node's heartbeat."),
    FI("leaseDurationSeconds", "How long others wait after renewTime before taking it."),
    FS("acquireTime", "When the current holder took the lease (MicroTime)."),
    FS("renewTime", "When the holder last renewed the lease (MicroTime)."),
    FI("leaseTransitions", "How many times the lease changed holders."),
};

#define LIST_OF(name, of, what)                                                                    \
	static const struct sch_field name[] = {LIST_META, FAR("items", of, what)}
LIST_OF(deploy_list, APPS "Deployment", "The deployments.");
LIST_OF(rs_list, APPS "ReplicaSet", "The ReplicaSets.");
LIST_OF(ns_list, CORE "Namespace", "The namespaces.");
LIST_OF(svc_list, CORE "Service", "The services.");
LIST_OF(ep_list, CORE "Endpoints", "The Endpoints.");
LIST_OF(cm_list, CORE "ConfigMap", "The ConfigMaps.");
LIST_OF(secret_list, CORE "Secret", "The Secrets.");
LIST_OF(node_list, CORE "Node", "The nodes.");
LIST_OF(event_list, CORE "Event", "The events.");
LIST_OF(lease_list, COORD "Lease", "The leases.");

const struct sch_def schema_kind_defs[] = {
    DEF(META "ObjectMeta", "What every object has: name, namespace, labels, ...", object_meta),
    DEF(META "ListMeta", "What every list has.", list_meta),
    DEF(META "OwnerReference", "An object this one depends on.", owner_ref),
    DEF(META "ManagedFieldsEntry", "The fields one manager owns.", managed),
    DEF(META "LabelSelector", "A label query; empty selects everything.", label_sel),
    DEF(META "LabelSelectorRequirement", "A requirement on one label.", label_req),
    KIND(META "Status", "The result of a request that returns no object.", status, "", "v1",
	 "Status"),
    DEF(META "StatusDetails", "What a Status is about.", status_details),
    DEF(META "StatusCause", "One problem found.", status_cause),
    KIND(META "DeleteOptions", "Options of a delete.", delete_opts, "", "v1", "DeleteOptions"),
    DEF(META "Preconditions", "What must hold for a delete to proceed.", preconditions),
    KIND(META "WatchEvent", "One event of a watch.", watch_event, "", "v1", "WatchEvent"),
    KIND(ASCL "Scale", "The scale subresource: a workload's replicas.", scale, "autoscaling", "v1",
	 "Scale"),
    DEF(ASCL "ScaleSpec", "The desired replicas.", scale_spec),
    DEF(ASCL "ScaleStatus", "The current replicas.", scale_status),
    KIND(APPS "Deployment", "Declarative updates of pods through ReplicaSets.", deploy, "apps",
	 "v1", "Deployment"),
    KIND(APPS "DeploymentList", "A list of deployments.", deploy_list, "apps", "v1",
	 "DeploymentList"),
    DEF(APPS "DeploymentSpec", "A deployment's desired state.", deploy_spec),
    DEF(APPS "DeploymentStrategy", "How a deployment replaces pods.", strategy),
    DEF(APPS "RollingUpdateDeployment", "A rolling update's bounds.", rolling),
    DEF(APPS "DeploymentStatus", "A deployment's observed state.", deploy_status),
    DEF(APPS "DeploymentCondition", "A condition of a deployment.", condition),
    KIND(APPS "ReplicaSet", "Keeps a number of identical pods running.", rs, "apps", "v1",
	 "ReplicaSet"),
    KIND(APPS "ReplicaSetList", "A list of ReplicaSets.", rs_list, "apps", "v1", "ReplicaSetList"),
    DEF(APPS "ReplicaSetSpec", "A ReplicaSet's desired state.", rs_spec),
    DEF(APPS "ReplicaSetStatus", "A ReplicaSet's observed state.", rs_status),
    DEF(APPS "ReplicaSetCondition", "A condition of a ReplicaSet.", condition),
    KIND(CORE "Namespace", "A scope for names.", ns, "", "v1", "Namespace"),
    KIND(CORE "NamespaceList", "A list of namespaces.", ns_list, "", "v1", "NamespaceList"),
    DEF(CORE "NamespaceSpec", "A namespace's desired state.", ns_spec),
    DEF(CORE "NamespaceStatus", "A namespace's observed state.", ns_status),
    KIND(CORE "Service", "A stable virtual address for a set of pods.", svc, "", "v1", "Service"),
    KIND(CORE "ServiceList", "A list of services.", svc_list, "", "v1", "ServiceList"),
    DEF(CORE "ServiceSpec", "A service's desired state.", svc_spec),
    DEF(CORE "ServicePort", "A port a service serves.", svc_port),
    DEF(CORE "ServiceStatus", "A service's observed state.", svc_status),
    KIND(CORE "Endpoints", "The addresses that serve a service.", ep, "", "v1", "Endpoints"),
    KIND(CORE "EndpointsList", "A list of Endpoints.", ep_list, "", "v1", "EndpointsList"),
    DEF(CORE "EndpointSubset", "Addresses that serve the same ports.", ep_subset),
    DEF(CORE "EndpointAddress", "One address.", ep_addr),
    DEF(CORE "EndpointPort", "One port.", ep_port),
    DEF(CORE "ObjectReference", "A reference to an object.", obj_ref),
    KIND(CORE "ConfigMap", "Configuration data: keys and values.", cm, "", "v1", "ConfigMap"),
    KIND(CORE "ConfigMapList", "A list of ConfigMaps.", cm_list, "", "v1", "ConfigMapList"),
    KIND(CORE "Secret", "Sensitive data: keys and base64 values.", secret, "", "v1", "Secret"),
    KIND(CORE "SecretList", "A list of Secrets.", secret_list, "", "v1", "SecretList"),
    KIND(CORE "Node", "A machine that runs pods.", node, "", "v1", "Node"),
    KIND(CORE "NodeList", "A list of nodes.", node_list, "", "v1", "NodeList"),
    DEF(CORE "NodeSpec", "A node's desired state.", node_spec),
    DEF(CORE "Taint", "A taint: pods that do not tolerate it keep away.", taint),
    DEF(CORE "NodeStatus", "A node's observed state.", node_status),
    DEF(CORE "NodeCondition", "A condition of a node.", node_cond),
    DEF(CORE "NodeAddress", "An address of a node.", node_addr),
    DEF(CORE "NodeSystemInfo", "What a node runs.", node_info),
    KIND(CORE "Event", "A report of something that happened to an object.", event, "", "v1",
	 "Event"),
    KIND(CORE "EventList", "A list of events.", event_list, "", "v1", "EventList"),
    DEF(CORE "EventSource", "Who reported an event.", event_src),
    KIND(COORD "Lease", "A lease: a node's heartbeat, or a lock.", lease, "coordination.k8s.io",
	 "v1", "Lease"),
    KIND(COORD "LeaseList", "A list of leases.", lease_list, "coordination.k8s.io", "v1",
	 "LeaseList"),
    DEF(COORD "LeaseSpec", "A lease's holder and terms.", lease_spec),
};
const size_t schema_kind_ndefs = NELEM(schema_kind_defs);
