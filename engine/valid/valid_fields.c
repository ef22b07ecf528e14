/*
 * valid_fields.c - the fields each kind has, to name the unknown ones a
 * manifest carries (valid_unknown_fields, valid.h).
 *
 * One table per object shape (ObjectMeta, PodSpec, Container, each kind's
 * top level and spec).  The walk goes as deep as the tables: the top
 * level, metadata, spec, a pod template's metadata and spec, and every
 * container (containers, initContainers).  Below that nothing is checked,
 * so a field there is never reported.  status is not checked (a write
 * ignores it).
 */
#include <stdio.h>
#include <string.h>

#include "engine/mem.h"
#include "engine/valid/valid.h"

static const char *const object_meta[] = {"name",
					  "generateName",
					  "namespace",
					  "selfLink",
					  "uid",
					  "resourceVersion",
					  "generation",
					  "creationTimestamp",
					  "deletionTimestamp",
					  "deletionGracePeriodSeconds",
					  "labels",
					  "annotations",
					  "ownerReferences",
					  "finalizers",
					  "managedFields",
					  NULL};

static const char *const pod_spec[] = {"volumes",
				       "initContainers",
				       "containers",
				       "ephemeralContainers",
				       "restartPolicy",
				       "terminationGracePeriodSeconds",
				       "activeDeadlineSeconds",
				       "dnsPolicy",
				       "nodeSelector",
				       "serviceAccountName",
				       "serviceAccount",
				       "automountServiceAccountToken",
				       "nodeName",
				       "hostNetwork",
				       "hostPID",
				       "hostIPC",
				       "shareProcessNamespace",
				       "securityContext",
				       "imagePullSecrets",
				       "hostname",
				       "subdomain",
				       "affinity",
				       "schedulerName",
				       "tolerations",
				       "hostAliases",
				       "priorityClassName",
				       "priority",
				       "dnsConfig",
				       "readinessGates",
				       "runtimeClassName",
				       "enableServiceLinks",
				       "preemptionPolicy",
				       "overhead",
				       "topologySpreadConstraints",
				       "setHostnameAsFQDN",
				       "os",
				       "hostUsers",
				       "schedulingGates",
				       "resourceClaims",
				       NULL};

static const char *const container[] = {"name",
					"image",
					"command",
					"args",
					"workingDir",
					"ports",
					"envFrom",
					"env",
					"resources",
					"resizePolicy",
					"restartPolicy",
					"volumeMounts",
					"volumeDevices",
					"livenessProbe",
					"readinessProbe",
					"startupProbe",
					"lifecycle",
					"terminationMessagePath",
					"terminationMessagePolicy",
					"imagePullPolicy",
					"securityContext",
					"stdin",
					"stdinOnce",
					"tty",
					NULL};

static const char *const deployment_spec[] = {"replicas",
					      "selector",
					      "template",
					      "strategy",
					      "minReadySeconds",
					      "revisionHistoryLimit",
					      "paused",
					      "progressDeadlineSeconds",
					      NULL};

static const char *const replicaset_spec[] = {"replicas", "minReadySeconds", "selector", "template",
					      NULL};

static const char *const service_spec[] = {"ports",
					   "selector",
					   "clusterIP",
					   "clusterIPs",
					   "type",
					   "externalIPs",
					   "sessionAffinity",
					   "loadBalancerIP",
					   "loadBalancerSourceRanges",
					   "externalName",
					   "externalTrafficPolicy",
					   "healthCheckNodePort",
					   "publishNotReadyAddresses",
					   "sessionAffinityConfig",
					   "ipFamilies",
					   "ipFamilyPolicy",
					   "allocateLoadBalancerNodePorts",
					   "loadBalancerClass",
					   "internalTrafficPolicy",
					   "trafficDistribution",
					   NULL};

static const char *const node_spec[] = {"podCIDR", "podCIDRs",	   "providerID", "unschedulable",
					"taints",  "configSource", "externalID", NULL};

static const char *const namespace_spec[] = {"finalizers", NULL};

static const char *const with_spec[] = {"apiVersion", "kind", "metadata", "spec", "status", NULL};
static const char *const endpoints_top[] = {"apiVersion", "kind", "metadata", "subsets", NULL};
static const char *const configmap_top[] = {"apiVersion", "kind",      "metadata", "data",
					    "binaryData", "immutable", NULL};
static const char *const event_top[] = {"apiVersion",
					"kind",
					"metadata",
					"involvedObject",
					"reason",
					"message",
					"source",
					"firstTimestamp",
					"lastTimestamp",
					"count",
					"type",
					"eventTime",
					"series",
					"action",
					"related",
					"reportingComponent",
					"reportingInstance",
					NULL};

struct walk {
	char **out;
	size_t max, n;
};

static bool known(const char *const *fields, const char *key)
{
	for (; *fields; fields++)
		if (!strcmp(*fields, key))
			return true;
	return false;
}

/* Reports the keys of m (a mapping at path, "" at the top) not in fields. */
static void check(struct walk *w, const json_t *m, const char *path, const char *const *fields)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)m, key, v)
	{
		if (known(fields, key))
			continue;
		if (w->n < w->max)
			w->out[w->n] = *path ? xasprintf("%s.%s", path, key) : xstrdup(key);
		w->n++;
	}
}

static void check_containers(struct walk *w, const json_t *spec, const char *path,
			     const char *field)
{
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(spec, field), i, c)
	{
		if (!json_is_object(c))
			continue;
		char *p = xasprintf("%s.%s[%zu]", path, field, i);
		check(w, c, p, container);
		free(p);
	}
}

static void check_pod_spec(struct walk *w, const json_t *spec, const char *path)
{
	if (!json_is_object(spec))
		return;
	check(w, spec, path, pod_spec);
	check_containers(w, spec, path, "containers");
	check_containers(w, spec, path, "initContainers");
}

static void check_template(struct walk *w, const json_t *spec)
{
	const json_t *t = json_object_get(spec, "template");
	if (!json_is_object(t))
		return;
	static const char *const template[] = {"metadata", "spec", NULL};
	check(w, t, "spec.template", template);
	if (json_is_object(json_object_get(t, "metadata")))
		check(w, json_object_get(t, "metadata"), "spec.template.metadata", object_meta);
	check_pod_spec(w, json_object_get(t, "spec"), "spec.template.spec");
}

size_t valid_unknown_fields(const json_t *obj, const struct kind_info *k, char **out, size_t max)
{
	struct walk w = {out, max, 0};
	if (!json_is_object(obj) || !k)
		return 0;
	const char *const *top = with_spec;
	if (k == KIND_ENDPOINTS)
		top = endpoints_top;
	else if (k == KIND_CONFIGMAP)
		top = configmap_top;
	else if (k == KIND_EVENT)
		top = event_top;
	check(&w, obj, "", top);
	if (json_is_object(json_object_get(obj, "metadata")))
		check(&w, json_object_get(obj, "metadata"), "metadata", object_meta);
	const json_t *spec = json_object_get(obj, "spec");
	if (!json_is_object(spec) || top != with_spec)
		return w.n;
	if (k == KIND_POD) {
		check_pod_spec(&w, spec, "spec");
	} else if (k == KIND_DEPLOYMENT || k == KIND_REPLICASET) {
		check(&w, spec, "spec", k == KIND_DEPLOYMENT ? deployment_spec : replicaset_spec);
		check_template(&w, spec);
	} else if (k == KIND_SERVICE) {
		check(&w, spec, "spec", service_spec);
	} else if (k == KIND_NODE) {
		check(&w, spec, "spec", node_spec);
	} else if (k == KIND_NAMESPACE) {
		check(&w, spec, "spec", namespace_spec);
	}
	return w.n;
}
