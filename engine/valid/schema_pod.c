/*
 * schema_pod.c - the schema of pods and pod templates: PodSpec, Container
 * and everything they hold, as the validation (valid_pod.c) accepts them.
 * Fields Kubernetes has and clusterfs refuses or ignores are listed too
 * (so that a manifest written for a cluster is not told they are unknown),
 * with a description saying so; their insides are not described (FANY).
 */
#include "engine/valid/schema_int.h"

const char *const schema_enum_protocol[] = {"SCTP", "TCP", "UDP", NULL};
const char *const schema_enum_pull_policy[] = {"Always", "IfNotPresent", "Never", NULL};

static const char *const e_restart[] = {"Always", "Never", "OnFailure", NULL};
static const char *const e_dns_policy[] = {"ClusterFirst", "ClusterFirstWithHostNet", "Default",
					   "None", NULL};
static const char *const e_msg_policy[] = {"FallbackToLogsOnError", "File", NULL};
static const char *const e_scheme[] = {"HTTP", "HTTPS", NULL};
static const char *const e_propagation[] = {"Bidirectional", "HostToContainer", "None", NULL};
static const char *const e_tol_op[] = {"Equal", "Exists", NULL};
static const char *const e_effect[] = {"NoExecute", "NoSchedule", "PreferNoSchedule", NULL};
static const char *const e_node_op[] = {"DoesNotExist", "Exists", "Gt", "In", "Lt", "NotIn", NULL};
static const char *const e_seccomp[] = {"Localhost", "RuntimeDefault", "Unconfined", NULL};
static const char *const e_phase[] = {"Failed", "Pending", "Running", "Succeeded", "Unknown", NULL};
static const char *const e_medium[] = {"", "Memory", NULL};

static const char *const k_port[] = {"containerPort", "protocol", NULL};
static const char *const k_mount[] = {"mountPath", NULL};
static const char *const k_device[] = {"devicePath", NULL};
static const char *const k_spread[] = {"topologyKey", "whenUnsatisfiable", NULL};

static const struct sch_field pod[] = {
    OBJ_META,
    FO("spec", CORE "PodSpec", "What the pod runs: its containers, volumes and scheduling."),
    FO("status", CORE "PodStatus",
       "What the pod is doing, as its node reports it. Read-only; set by the system."),
};

static const struct sch_field pod_list[] = {
    LIST_META,
    FAR("items", CORE "Pod", "The pods."),
};

static const struct sch_field template[] = {
    FO("metadata", META "ObjectMeta", "The labels and annotations of the pods made from it."),
    FO("spec", CORE "PodSpec", "The spec of the pods made from it."),
};

static const struct sch_field pod_spec[] = {
    FAKRET("volumes", CORE "Volume", schema_k_name,
	   "Volumes the containers may mount (emptyDir, configMap, secret, downwardAPI and "
	   "projected are supported)."),
    FAK("initContainers", CORE "Container", schema_k_name,
	"Containers run one after the other, each to completion, before the containers start."),
    FAKR("containers", CORE "Container", schema_k_name,
	 "The pod's containers. At least one; names are unique in the pod."),
    FAKANY("ephemeralContainers", schema_k_name, "Debugging containers; cannot be set on create."),
    FE("restartPolicy", e_restart,
       "When containers are restarted: Always (the default), OnFailure or Never. A template "
       "must restart Always."),
    FL("terminationGracePeriodSeconds",
       "Seconds between the stop signal and the kill on deletion (default 30)."),
    FL("activeDeadlineSeconds", "Seconds a pod may run before it is failed (not in templates)."),
    FE("dnsPolicy", e_dns_policy, "How the pod's DNS is set up (default ClusterFirst)."),
    FM("nodeSelector", "Labels a node must have to run the pod."),
    FS("serviceAccountName", "The service account the pod runs as."),
    FS("serviceAccount", "Deprecated alias of serviceAccountName."),
    FB("automountServiceAccountToken", "Whether a service account token is mounted."),
    FS("nodeName", "The node the pod runs on; set by the scheduler, or by hand to skip it."),
    FB("hostNetwork", "Share the host's network namespace (not supported by clusterfs)."),
    FB("hostPID", "Share the host's PID namespace (not supported by clusterfs)."),
    FB("hostIPC", "Share the host's IPC namespace (not supported by clusterfs)."),
    FB("shareProcessNamespace", "One PID namespace for all the pod's containers."),
    FO("securityContext", CORE "PodSecurityContext",
       "Pod-level security attributes and common container settings."),
    FAK("imagePullSecrets", CORE "LocalObjectReference", schema_k_name,
	"Secrets used to pull images."),
    FS("hostname", "The pod's hostname (a DNS label); default: the pod's name."),
    FS("subdomain", "The pod's subdomain: HOSTNAME.SUBDOMAIN.NAMESPACE.svc.DOMAIN."),
    FO("affinity", CORE "Affinity", "Scheduling constraints: node affinity."),
    FS("schedulerName", "The scheduler that places the pod (default-scheduler)."),
    FA("tolerations", CORE "Toleration", "Taints the pod tolerates."),
    FAKANY("hostAliases", schema_k_ip, "Entries added to the pod's /etc/hosts."),
    FS("priorityClassName", "The pod's priority class."),
    FI("priority", "The pod's priority, from its priority class."),
    FO("dnsConfig", CORE "PodDNSConfig", "DNS settings added to those of the dnsPolicy."),
    FAANY("readinessGates", "Extra conditions the pod's readiness waits for."),
    FS("runtimeClassName", "The runtime class the pod runs with."),
    FB("enableServiceLinks", "Whether services' addresses are put into the environment."),
    FS("preemptionPolicy", "Whether the pod may preempt lower-priority pods."),
    FMQ("overhead", "Resources the pod's sandbox uses beyond its containers."),
    FAKANY("topologySpreadConstraints", k_spread,
	   "How pods spread across topology domains (not supported by clusterfs yet)."),
    FB("setHostnameAsFQDN", "Whether the hostname is the pod's fully qualified domain name."),
    FANY("os", "The operating system the pod's containers need."),
    FB("hostUsers", "Whether the pod uses the host's user namespace."),
    FAKANY("schedulingGates", schema_k_name, "Gates that hold the pod back from scheduling."),
    F_("resourceClaims", SCH_ARRAY, SCH_ANY, NULL,
       "Dynamic resource claims (not supported by clusterfs).", SCH_RETAIN, NULL, schema_k_name),
};

static const struct sch_field container[] = {
    FSR("name", "The container's name: a DNS label, unique in the pod. Cannot be updated."),
    FSR("image", "The container image: [REGISTRY/]REPOSITORY[:TAG|@DIGEST]."),
    FAS("command", "The entrypoint; not run in a shell. Default: the image's ENTRYPOINT."),
    FAS("args", "Arguments to the entrypoint. Default: the image's CMD."),
    FS("workingDir", "The working directory; default: the image's."),
    FAK("ports", CORE "ContainerPort", k_port,
	"Ports the container listens on (informational; names are unique in the pod)."),
    FA("envFrom", CORE "EnvFromSource", "Sources of environment variables (ConfigMaps)."),
    FAK("env", CORE "EnvVar", schema_k_name, "Environment variables set in the container."),
    FO("resources", CORE "ResourceRequirements", "Compute resources: requests and limits."),
    FAANY("resizePolicy", "How resources are resized in place."),
    FS("restartPolicy", "Init containers only: Always makes a sidecar (not supported yet)."),
    FAK("volumeMounts", CORE "VolumeMount", k_mount,
	"The pod's volumes mounted into the container."),
    FAKANY("volumeDevices", k_device, "Block devices (not supported by clusterfs)."),
    FO("livenessProbe", CORE "Probe", "Restarts the container when it fails."),
    FO("readinessProbe", CORE "Probe", "Takes the pod out of service endpoints when it fails."),
    FO("startupProbe", CORE "Probe", "Holds the other probes back until it succeeds."),
    FANY("lifecycle", "Hooks run after start and before stop (not supported by clusterfs)."),
    FS("terminationMessagePath", "Where the container writes its termination message."),
    FE("terminationMessagePolicy", e_msg_policy,
       "File, or FallbackToLogsOnError to use the log's tail."),
    FE("imagePullPolicy", schema_enum_pull_policy,
       "Always, IfNotPresent or Never; default Always for :latest or no tag, else "
       "IfNotPresent."),
    FO("securityContext", CORE "SecurityContext", "The container's security attributes."),
    FB("stdin", "Whether the container keeps a stdin open."),
    FB("stdinOnce", "Whether stdin closes after the first attach ends."),
    FB("tty", "Whether the container gets a terminal."),
};

static const struct sch_field container_port[] = {
    FS("name", "An IANA_SVC_NAME, unique in the pod; services may refer to it."),
    FIR("containerPort", "The port number, 1-65535."),
    FE("protocol", schema_enum_protocol, "TCP (the default), UDP or SCTP."),
    FI("hostPort", "A port of the host mapped to it (not supported by clusterfs)."),
    FS("hostIP", "The host address a hostPort binds."),
};

static const struct sch_field env_var[] = {
    FSR("name", "The variable's name."),
    FS("value", "The value; $(VAR) refers to earlier variables."),
    FO("valueFrom", CORE "EnvVarSource", "Where the value comes from, instead of value."),
};

static const struct sch_field env_source[] = {
    FO("fieldRef", CORE "ObjectFieldSelector", "A field of the pod: metadata.name, ..."),
    FO("resourceFieldRef", CORE "ResourceFieldSelector", "A container's limit or request."),
    FO("configMapKeyRef", CORE "ConfigMapKeySelector", "A key of a ConfigMap."),
    FO("secretKeyRef", CORE "SecretKeySelector", "A key of a Secret."),
};

static const struct sch_field field_sel[] = {
    FS("apiVersion", "The version the fieldPath is written in (v1)."),
    FSR("fieldPath", "The field: metadata.name, metadata.namespace, status.podIP, ..."),
};

static const struct sch_field res_sel[] = {
    FS("containerName", "The container; default: this one."),
    FSR("resource", "limits.cpu, limits.memory, requests.cpu, ..."),
    FQ("divisor", "The unit the value is given in (default 1)."),
};

static const struct sch_field cm_key_sel[] = {
    FSR("name", "The ConfigMap's name."),
    FSR("key", "The key."),
    FB("optional", "Whether the ConfigMap or key may be missing."),
};

static const struct sch_field secret_key_sel[] = {
    FSR("name", "The Secret's name."),
    FSR("key", "The key."),
    FB("optional", "Whether the Secret or key may be missing."),
};

static const struct sch_field secret_env[] = {
    FSR("name", "The Secret's name."),
    FB("optional", "Whether the Secret may be missing."),
};

static const struct sch_field secret_volume[] = {
    FSR("secretName", "The Secret's name."),
    FA("items", CORE "KeyToPath", "Keys to project, and their paths; default: all keys."),
    FI("defaultMode", "Mode bits of the files (default 0644)."),
    FB("optional", "Whether the Secret may be missing."),
};

static const struct sch_field env_from[] = {
    FS("prefix", "Prepended to each key to make the variable's name."),
    FO("configMapRef", CORE "ConfigMapEnvSource", "A ConfigMap whose keys become variables."),
    FO("secretRef", CORE "SecretEnvSource", "A Secret whose keys become variables."),
};

static const struct sch_field cm_env[] = {
    FSR("name", "The ConfigMap's name."),
    FB("optional", "Whether the ConfigMap may be missing."),
};

static const struct sch_field resources[] = {
    FMQ("limits", "The most the container may use: cpu, memory, ephemeral-storage."),
    FMQ("requests", "What the container is scheduled for; at most the limits."),
    FAANY("claims", "Dynamic resource claims (not supported by clusterfs)."),
};

static const struct sch_field mount[] = {
    FSR("name", "The volume's name (one of the pod's volumes)."),
    FSR("mountPath", "Where in the container the volume appears; no ':'."),
    FB("readOnly", "Mounted read-only."),
    FS("subPath", "A path within the volume to mount instead of its root."),
    FS("subPathExpr", "As subPath, with $(VAR) expanded from the environment."),
    FE("mountPropagation", e_propagation, "How mounts propagate (None by default)."),
    FS("recursiveReadOnly", "Whether read-only applies to submounts."),
};

static const struct sch_field probe[] = {
    FO("exec", CORE "ExecAction", "A command run in the container; exit 0 is success."),
    FO("httpGet", CORE "HTTPGetAction", "An HTTP GET; 200-399 is success."),
    FO("tcpSocket", CORE "TCPSocketAction", "A TCP connection; open is success."),
    FANY("grpc", "A gRPC health check (not supported by clusterfs)."),
    FI("initialDelaySeconds", "Seconds after the start before the first probe."),
    FI("timeoutSeconds", "Seconds before a probe times out (default 1)."),
    FI("periodSeconds", "Seconds between probes (default 10)."),
    FI("successThreshold", "Successes in a row to pass after a failure (default 1)."),
    FI("failureThreshold", "Failures in a row to fail (default 3)."),
    FL("terminationGracePeriodSeconds", "Grace period when a failed probe kills."),
};

static const struct sch_field exec_action[] = {
    FAS("command", "The command and its arguments; not run in a shell."),
};

static const struct sch_field http_get[] = {
    FS("path", "The path to GET."),
    FXR("port", "The port: a number or a container port's name."),
    FS("host", "The host to connect to; default: the pod's IP."),
    FE("scheme", e_scheme, "HTTP (the default) or HTTPS."),
    FA("httpHeaders", CORE "HTTPHeader", "Headers to send."),
};

static const struct sch_field http_header[] = {
    FSR("name", "The header's name."),
    FS("value", "The header's value."),
};

static const struct sch_field tcp_socket[] = {
    FXR("port", "The port: a number or a container port's name."),
    FS("host", "The host to connect to; default: the pod's IP."),
};

static const struct sch_field caps[] = {
    FAS("add", "Capabilities added."),
    FAS("drop", "Capabilities dropped."),
};

static const struct sch_field seccomp[] = {
    FE("type", e_seccomp, "RuntimeDefault, Unconfined (or Localhost, not supported)."),
    FS("localhostProfile", "A profile file on the node (Localhost)."),
};

static const struct sch_field sec_ctx[] = {
    FO("capabilities", CORE "Capabilities", "Capabilities added and dropped."),
    FB("privileged", "Run privileged."),
    FANY("seLinuxOptions", "SELinux context."),
    FANY("windowsOptions", "Windows settings."),
    FL("runAsUser", "The UID the process runs as."),
    FL("runAsGroup", "The GID the process runs as."),
    FB("runAsNonRoot", "Refuse to run as UID 0."),
    FB("readOnlyRootFilesystem", "Mount the root filesystem read-only."),
    FB("allowPrivilegeEscalation", "Whether a process may gain privileges (no_new_privs)."),
    FS("procMount", "Default or Unmasked /proc."),
    FO("seccompProfile", CORE "SeccompProfile", "The seccomp profile."),
    FANY("appArmorProfile", "The AppArmor profile."),
};

static const struct sch_field pod_sec_ctx[] = {
    FANY("seLinuxOptions", "SELinux context of all containers."),
    FANY("windowsOptions", "Windows settings."),
    FL("runAsUser", "The UID containers run as."),
    FL("runAsGroup", "The GID containers run as."),
    FB("runAsNonRoot", "Refuse to run containers as UID 0."),
    FAI("supplementalGroups", "Extra GIDs of the containers' processes."),
    FS("supplementalGroupsPolicy", "How supplemental groups are computed."),
    FL("fsGroup", "A GID that owns the volumes."),
    FAANY("sysctls", "Namespaced sysctls set in the pod."),
    FS("fsGroupChangePolicy", "When volume ownership is changed: OnRootMismatch or Always."),
    FO("seccompProfile", CORE "SeccompProfile", "The seccomp profile of all containers."),
    FANY("appArmorProfile", "The AppArmor profile of all containers."),
    FS("seLinuxChangePolicy", "How SELinux labels are applied to volumes."),
};

static const struct sch_field volume[] = {
    FSR("name", "The volume's name: a DNS label, unique in the pod."),
    FO("emptyDir", CORE "EmptyDirVolumeSource", "An empty directory that lives as the pod."),
    FO("configMap", CORE "ConfigMapVolumeSource", "A ConfigMap's keys as files."),
    FANY("hostPath", "A host directory (not supported by clusterfs)."),
    FANY("persistentVolumeClaim", "A claim (not supported by clusterfs)."),
    FO("secret", CORE "SecretVolumeSource", "A Secret's keys as files (on a tmpfs)."),
    FANY("nfs", "NFS (not supported by clusterfs)."),
    FANY("downwardAPI", "The pod's fields (name, labels, ...) and resources as files."),
    FANY("projected", "Secrets, ConfigMaps and the pod's fields as files of one volume "
		      "(on a tmpfs)."),
    FANY("csi", "A CSI driver (not supported by clusterfs)."),
    FANY("ephemeral", "A generic ephemeral volume (not supported by clusterfs)."),
    FANY("image", "An image's contents (not supported by clusterfs)."),
    FANY("gitRepo", "Deprecated (not supported by clusterfs)."),
    FANY("iscsi", "Not supported by clusterfs."),
    FANY("glusterfs", "Not supported by clusterfs."),
    FANY("rbd", "Not supported by clusterfs."),
    FANY("flexVolume", "Not supported by clusterfs."),
    FANY("cinder", "Not supported by clusterfs."),
    FANY("cephfs", "Not supported by clusterfs."),
    FANY("flocker", "Not supported by clusterfs."),
    FANY("fc", "Not supported by clusterfs."),
    FANY("azureFile", "Not supported by clusterfs."),
    FANY("azureDisk", "Not supported by clusterfs."),
    FANY("vsphereVolume", "Not supported by clusterfs."),
    FANY("quobyte", "Not supported by clusterfs."),
    FANY("photonPersistentDisk", "Not supported by clusterfs."),
    FANY("portworxVolume", "Not supported by clusterfs."),
    FANY("scaleIO", "Not supported by clusterfs."),
    FANY("storageos", "Not supported by clusterfs."),
    FANY("gcePersistentDisk", "Not supported by clusterfs."),
    FANY("awsElasticBlockStore", "Not supported by clusterfs."),
};

static const struct sch_field empty_dir[] = {
    FE("medium", e_medium, "\"\" (the node's disk) or Memory (a tmpfs)."),
    FQ("sizeLimit", "The most the volume may hold."),
};

static const struct sch_field cm_volume[] = {
    FSR("name", "The ConfigMap's name."),
    FA("items", CORE "KeyToPath", "Keys to project, and their paths; default: all keys."),
    FI("defaultMode", "Mode bits of the files (default 0644)."),
    FB("optional", "Whether the ConfigMap may be missing."),
};

static const struct sch_field key_to_path[] = {
    FSR("key", "The key."),
    FSR("path", "The relative path of the file; no '..'."),
    FI("mode", "Mode bits of the file."),
};

static const struct sch_field local_ref[] = {
    FS("name", "The object's name."),
};

static const struct sch_field toleration[] = {
    FS("key", "The taint key; empty with Exists: every taint."),
    FE("operator", e_tol_op, "Equal (the default) or Exists."),
    FS("value", "The taint value (Equal)."),
    FE("effect", e_effect, "The effect; empty: every effect."),
    FL("tolerationSeconds", "NoExecute: seconds the pod stays after the taint appears."),
};

static const struct sch_field affinity[] = {
    FO("nodeAffinity", CORE "NodeAffinity", "Which nodes the pod may, or prefers to, run on."),
    FANY("podAffinity", "Pods to run near (not supported by clusterfs)."),
    FANY("podAntiAffinity", "Pods to run away from (not supported by clusterfs)."),
};

static const struct sch_field node_affinity[] = {
    FO("requiredDuringSchedulingIgnoredDuringExecution", CORE "NodeSelector",
       "Nodes the pod may run on."),
    FA("preferredDuringSchedulingIgnoredDuringExecution", CORE "PreferredSchedulingTerm",
       "Nodes the pod prefers, with weights."),
};

static const struct sch_field node_selector[] = {
    FAR("nodeSelectorTerms", CORE "NodeSelectorTerm", "Terms, ORed."),
};

static const struct sch_field node_term[] = {
    FA("matchExpressions", CORE "NodeSelectorRequirement", "Requirements on node labels."),
    FA("matchFields", CORE "NodeSelectorRequirement", "Requirements on node fields."),
};

static const struct sch_field node_req[] = {
    FSR("key", "The label key (or metadata.name for matchFields)."),
    FER("operator", e_node_op, "In, NotIn, Exists, DoesNotExist, Gt or Lt."),
    FAS("values", "The values: several for In and NotIn, one for Gt and Lt."),
};

static const struct sch_field preferred_term[] = {
    F_("weight", SCH_INT32, 0, NULL, "1-100.", SCH_REQUIRED, NULL, NULL),
    FOR("preference", CORE "NodeSelectorTerm", "The preferred nodes."),
};

static const struct sch_field dns_config[] = {
    FAS("nameservers", "Extra name servers (at most 3)."),
    FAS("searches", "Extra search domains."),
    FA("options", CORE "PodDNSConfigOption", "resolv.conf options."),
};

static const struct sch_field dns_option[] = {
    FS("name", "The option."),
    FS("value", "Its value."),
};

static const struct sch_field pod_status[] = {
    FE("phase", e_phase, "Pending, Running, Succeeded, Failed or Unknown."),
    FAK("conditions", CORE "PodCondition", schema_k_type,
	"PodScheduled, Initialized, ContainersReady, Ready."),
    FS("message", "Why the pod is in this state."),
    FS("reason", "A CamelCase word for the same."),
    FS("nominatedNodeName", "The node preemption nominated."),
    FS("hostIP", "The address of the pod's node."),
    FAANY("hostIPs", "The addresses of the pod's node."),
    FS("podIP", "The pod's address."),
    FAK("podIPs", CORE "PodIP", schema_k_ip, "The pod's addresses."),
    FT("startTime", "When the node accepted the pod."),
    FA("initContainerStatuses", CORE "ContainerStatus", "The init containers' states."),
    FA("containerStatuses", CORE "ContainerStatus", "The containers' states."),
    FS("qosClass", "Guaranteed, Burstable or BestEffort."),
};

static const struct sch_field pod_ip[] = {
    FS("ip", "An address."),
};

static const struct sch_field pod_cond[] = {
    FS("type", "The condition."),
    FS("status", "True, False or Unknown."),
    FT("lastProbeTime", "When it was last probed."),
    FT("lastTransitionTime", "When it last changed."),
    FS("reason", "Why, in a CamelCase word."),
    FS("message", "Why, in words."),
};

static const struct sch_field ctr_status[] = {
    FS("name", "The container's name."),
    FO("state", CORE "ContainerState", "What it is doing."),
    FO("lastState", CORE "ContainerState", "How its last run ended."),
    F_("ready", SCH_BOOL, 0, NULL, "Whether its readiness probe passes.", 0, NULL, NULL),
    FI("restartCount", "Times it was restarted."),
    FS("image", "The image it runs."),
    FS("imageID", "The image's ID."),
    FS("containerID", "runc://ID."),
    FB("started", "Whether its startup probe passed."),
};

static const struct sch_field ctr_state[] = {
    FO("waiting", CORE "ContainerStateWaiting", "Not running yet."),
    FO("running", CORE "ContainerStateRunning", "Running."),
    FO("terminated", CORE "ContainerStateTerminated", "Ended."),
};

static const struct sch_field st_waiting[] = {
    FS("reason", "Why: ContainerCreating, CrashLoopBackOff, ErrImagePull, ..."),
    FS("message", "Details."),
};

static const struct sch_field st_running[] = {
    FT("startedAt", "When it started."),
};

static const struct sch_field st_term[] = {
    FI("exitCode", "Its exit status."),
    FI("signal", "The signal that ended it."),
    FS("reason", "Completed, Error, OOMKilled, ..."),
    FS("message", "Details."),
    FT("startedAt", "When it started."),
    FT("finishedAt", "When it ended."),
    FS("containerID", "runc://ID."),
};

const struct sch_def schema_pod_defs[] = {
    KIND(CORE "Pod", "A group of containers that run together on one node.", pod, "", "v1", "Pod"),
    KIND(CORE "PodList", "A list of pods.", pod_list, "", "v1", "PodList"),
    DEF(CORE "PodTemplateSpec", "What a pod made from a template looks like.", template),
    DEF(CORE "PodSpec", "A pod's desired state.", pod_spec),
    DEF(CORE "Container", "One container of a pod.", container),
    DEF(CORE "ContainerPort", "A port a container listens on.", container_port),
    DEF(CORE "EnvVar", "An environment variable.", env_var),
    DEF(CORE "EnvVarSource", "Where an environment variable's value comes from.", env_source),
    DEF(CORE "ObjectFieldSelector", "A field of the pod.", field_sel),
    DEF(CORE "ResourceFieldSelector", "A container's resource.", res_sel),
    DEF(CORE "ConfigMapKeySelector", "A key of a ConfigMap.", cm_key_sel),
    DEF(CORE "EnvFromSource", "A source of environment variables.", env_from),
    DEF(CORE "ConfigMapEnvSource", "A ConfigMap whose keys become variables.", cm_env),
    DEF(CORE "ResourceRequirements", "Compute resources of a container.", resources),
    DEF(CORE "VolumeMount", "A volume mounted in a container.", mount),
    DEF(CORE "Probe", "A health check.", probe),
    DEF(CORE "ExecAction", "A command to run.", exec_action),
    DEF(CORE "HTTPGetAction", "An HTTP GET request.", http_get),
    DEF(CORE "HTTPHeader", "An HTTP header.", http_header),
    DEF(CORE "TCPSocketAction", "A TCP connection.", tcp_socket),
    DEF(CORE "Capabilities", "Linux capabilities.", caps),
    DEF(CORE "SeccompProfile", "A seccomp profile.", seccomp),
    DEF(CORE "SecurityContext", "A container's security attributes.", sec_ctx),
    DEF(CORE "PodSecurityContext", "A pod's security attributes.", pod_sec_ctx),
    DEF(CORE "Volume", "A volume: a name and exactly one source.", volume),
    DEF(CORE "EmptyDirVolumeSource", "An empty directory.", empty_dir),
    DEF(CORE "ConfigMapVolumeSource", "A ConfigMap as files.", cm_volume),
    DEF(CORE "SecretKeySelector", "A key of a Secret.", secret_key_sel),
    DEF(CORE "SecretEnvSource", "A Secret whose keys become variables.", secret_env),
    DEF(CORE "SecretVolumeSource", "A Secret as files.", secret_volume),
    DEF(CORE "KeyToPath", "A key and the file it becomes.", key_to_path),
    DEF(CORE "LocalObjectReference", "An object in the same namespace.", local_ref),
    DEF(CORE "Toleration", "A taint the pod tolerates.", toleration),
    DEF(CORE "Affinity", "Scheduling constraints.", affinity),
    DEF(CORE "NodeAffinity", "Node constraints.", node_affinity),
    DEF(CORE "NodeSelector", "Node selector terms, ORed.", node_selector),
    DEF(CORE "NodeSelectorTerm", "Requirements, ANDed.", node_term),
    DEF(CORE "NodeSelectorRequirement", "A requirement on a node label or field.", node_req),
    DEF(CORE "PreferredSchedulingTerm", "A weighted preference.", preferred_term),
    DEF(CORE "PodDNSConfig", "DNS settings.", dns_config),
    DEF(CORE "PodDNSConfigOption", "A resolv.conf option.", dns_option),
    DEF(CORE "PodStatus", "A pod's observed state.", pod_status),
    DEF(CORE "PodIP", "A pod address.", pod_ip),
    DEF(CORE "PodCondition", "A condition of a pod.", pod_cond),
    DEF(CORE "ContainerStatus", "A container's observed state.", ctr_status),
    DEF(CORE "ContainerState", "One of waiting, running, terminated.", ctr_state),
    DEF(CORE "ContainerStateWaiting", "A waiting container.", st_waiting),
    DEF(CORE "ContainerStateRunning", "A running container.", st_running),
    DEF(CORE "ContainerStateTerminated", "An ended container.", st_term),
};
const size_t schema_pod_ndefs = NELEM(schema_pod_defs);
