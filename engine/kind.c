/* kind.c - see kind.h. */
#include "engine/kind.h"

#include <string.h>

/* In enum kind_id order: the KIND_* handles index this table. */
const struct kind_info kind_table[] = {
    {"Namespace", "namespaces", "v1", false, true, NAME_DNS1123_LABEL},
    {"Deployment", "deployments", "apps/v1", true, true, NAME_DNS1123_SUBDOMAIN},
    {"ReplicaSet", "replicasets", "apps/v1", true, true, NAME_DNS1123_SUBDOMAIN},
    {"Pod", "pods", "v1", true, true, NAME_DNS1123_SUBDOMAIN},
    {"Service", "services", "v1", true, true, NAME_DNS1035_LABEL},
    {"Endpoints", "endpoints", "v1", true, true, NAME_DNS1123_SUBDOMAIN},
    {"ConfigMap", "configmaps", "v1", true, true, NAME_DNS1123_SUBDOMAIN},
    {"Node", "nodes", "v1", false, true, NAME_DNS1123_SUBDOMAIN},
    {"Event", "events", "v1", true, false, NAME_DNS1123_SUBDOMAIN},
    /* nodes' heartbeats (kube-node-lease/NODE), as Kubernetes has them */
    {"Lease", "leases", "coordination.k8s.io/v1", true, true, NAME_DNS1123_SUBDOMAIN},
    {"Secret", "secrets", "v1", true, true, NAME_DNS1123_SUBDOMAIN},
    /* stored as autoscaling/v2; autoscaling/v1 is served by conversion */
    {"HorizontalPodAutoscaler", "horizontalpodautoscalers", "autoscaling/v2", true, true,
     NAME_DNS1123_SUBDOMAIN},
};
const int kind_count = sizeof(kind_table) / sizeof(kind_table[0]);
_Static_assert(sizeof(kind_table) / sizeof(kind_table[0]) == KI_COUNT,
	       "kind_table and enum kind_id differ");

const struct kind_info *kind_by_kind(const char *kind)
{
	for (int i = 0; i < kind_count; i++)
		if (strcmp(kind_table[i].kind, kind) == 0)
			return &kind_table[i];
	return NULL;
}

const struct kind_info *kind_by_plural(const char *plural)
{
	for (int i = 0; i < kind_count; i++)
		if (strcmp(kind_table[i].plural, plural) == 0)
			return &kind_table[i];
	return NULL;
}
