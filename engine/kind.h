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
	NAME_DNS1123_LABEL,     /* lower alnum, '-', <= 63 */
	NAME_DNS1035_LABEL,     /* as above, starts with a letter */
};

struct kind_info {
	const char *kind;          /* "Deployment" */
	const char *plural;        /* "deployments": the folder name */
	const char *api_version;   /* "apps/v1": what we accept and show */
	bool namespaced;
	bool in_fs;                /* has a kind folder under /cluster */
	enum kind_name_rule name_rule;
};

extern const struct kind_info kind_table[];
extern const int kind_count;

const struct kind_info *kind_by_kind(const char *kind);     /* exact: "Deployment" */
const struct kind_info *kind_by_plural(const char *plural); /* "deployments" */

#define KIND_NAMESPACE (&kind_table[0])

#endif
