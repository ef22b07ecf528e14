/*
 * kind.h - the object kinds clusterfs serves, and facts about each.
 *
 * The table is constant; lookups never fail other than by returning NULL.
 */
#ifndef CFS_KIND_H
#define CFS_KIND_H

#include <stdbool.h>

enum kind_name_rule {
	NAME_DNS1123_SUBDOMAIN, /* lower alnum, '-', '.', <= 253 */
	NAME_DNS1123_LABEL,	/* lower alnum, '-', <= 63 */
	NAME_DNS1035_LABEL,	/* as above, starts with a letter */
};

struct kind_info {
	const char *kind;	 /* "Deployment" */
	const char *plural;	 /* "deployments": the folder name */
	const char *api_version; /* "apps/v1": what we accept and show */
	bool namespaced;
	bool in_fs; /* has a kind folder under /cluster */
	enum kind_name_rule name_rule;
};

extern const struct kind_info kind_table[];
extern const int kind_count;

const struct kind_info *kind_by_kind(const char *kind);	    /* exact: "Deployment" */
const struct kind_info *kind_by_plural(const char *plural); /* "deployments" */

/* The built-in kinds, in kind_table order; use the KIND_* handles below
 * rather than looking a built-in kind up by its name. */
enum kind_id {
	KI_NAMESPACE,
	KI_DEPLOYMENT,
	KI_REPLICASET,
	KI_POD,
	KI_SERVICE,
	KI_ENDPOINTS,
	KI_CONFIGMAP,
	KI_NODE,
	KI_EVENT,
	KI_LEASE,
	KI_SECRET,
	KI_HPA,
	KI_COUNT,
};

#define KIND_NAMESPACE	(&kind_table[KI_NAMESPACE])
#define KIND_DEPLOYMENT (&kind_table[KI_DEPLOYMENT])
#define KIND_REPLICASET (&kind_table[KI_REPLICASET])
#define KIND_POD	(&kind_table[KI_POD])
#define KIND_SERVICE	(&kind_table[KI_SERVICE])
#define KIND_ENDPOINTS	(&kind_table[KI_ENDPOINTS])
#define KIND_CONFIGMAP	(&kind_table[KI_CONFIGMAP])
#define KIND_NODE	(&kind_table[KI_NODE])
#define KIND_EVENT	(&kind_table[KI_EVENT])
#define KIND_LEASE	(&kind_table[KI_LEASE])
#define KIND_SECRET	(&kind_table[KI_SECRET])
#define KIND_HPA	(&kind_table[KI_HPA])

/* The namespace of the nodes' heartbeat Leases, one per node, named as the
 * node (kube-node-lease/NODE), as Kubernetes has them; it exists from the
 * start, as default does. */
#define NODE_LEASE_NS "kube-node-lease"

#endif
