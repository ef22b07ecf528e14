/*
 * discovery.c - what the server serves, as kubectl discovers it: /version,
 * /api (APIVersions), /apis (APIGroupList), /apis/GROUP (APIGroup) and each
 * group-version's APIResourceList.
 *
 * Built from the kind table (engine/kind.h) and the per-kind facts below
 * (short names, categories, subresources), which are what Kubernetes
 * publishes.  The verbs are Kubernetes' own for each resource: what the
 * API will serve when the write and watch handlers are in.  Stateless;
 * thread-safe.
 */
#include <stdio.h>
#include <string.h>

#include "engine/kind.h"
#include "engine/valid/hpa.h"
#include "http/http_int.h"

#define VERSION_MAJOR "1"
#define VERSION_MINOR "30"
#define GIT_VERSION   "v1.30.0-clusterfs"

/* Per kind, in enum kind_id order. */
static const struct {
	const char *short_names; /* space-separated */
	bool all;		 /* in the "all" category */
	const char *subs;	 /* subresources, space-separated */
} facts[] = {
    [KI_NAMESPACE] = {"ns", false, "status finalize"},
    [KI_DEPLOYMENT] = {"deploy", true, "scale status"},
    [KI_REPLICASET] = {"rs", true, "scale status"},
    [KI_POD] = {"po", true, "status log exec eviction attach portforward binding"},
    [KI_SERVICE] = {"svc", true, "status"},
    [KI_ENDPOINTS] = {"ep", false, ""},
    [KI_CONFIGMAP] = {"cm", false, ""},
    [KI_NODE] = {"no", false, "status"},
    [KI_EVENT] = {"ev", false, ""},
    [KI_LEASE] = {"", false, ""},
    [KI_SECRET] = {"", false, ""},
    [KI_HPA] = {"hpa", true, "status"},
};
_Static_assert(sizeof(facts) / sizeof(facts[0]) == KI_COUNT, "facts and enum kind_id differ");

static const char *const verbs_all[] = {
    "create", "delete", "deletecollection", "get", "list", "patch", "update", "watch", NULL};
static const char *const verbs_ns[] = {"create", "delete", "get",   "list",
				       "patch",	 "update", "watch", NULL};

static json_t *str_array(const char *const *v)
{
	json_t *a = json_array();
	for (size_t i = 0; v[i]; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static json_t *words(const char *s)
{
	json_t *a = json_array();
	while (*s) {
		size_t n = strcspn(s, " ");
		if (n)
			json_array_append_new(a, json_stringn(s, n));
		s += n;
		s += strspn(s, " ");
	}
	return a;
}

/* The verbs of a subresource, as Kubernetes lists them. */
static json_t *sub_verbs(const char *sub)
{
	if (!strcmp(sub, "status") || !strcmp(sub, "scale"))
		return words("get patch update");
	if (!strcmp(sub, "log"))
		return words("get");
	if (!strcmp(sub, "exec") || !strcmp(sub, "attach") || !strcmp(sub, "portforward"))
		return words("create get");
	if (!strcmp(sub, "finalize"))
		return words("update");
	return words("create"); /* eviction, binding */
}

static const char *sub_kind(const struct kind_info *k, const char *sub)
{
	if (!strcmp(sub, "scale"))
		return "Scale";
	if (!strcmp(sub, "eviction"))
		return "Eviction";
	if (!strcmp(sub, "binding"))
		return "Binding";
	if (!strcmp(sub, "exec") || !strcmp(sub, "attach"))
		return "PodExecOptions";
	if (!strcmp(sub, "portforward"))
		return "PodPortForwardOptions";
	if (!strcmp(sub, "log"))
		return "Pod";
	return k->kind;
}

static void add_subresources(json_t *list, const struct kind_info *k, const char *subs)
{
	json_t *names = words(subs);
	size_t i;
	json_t *s;
	json_array_foreach(names, i, s)
	{
		const char *sub = json_string_value(s);
		char name[96];
		snprintf(name, sizeof(name), "%s/%s", k->plural, sub);
		json_t *r = json_pack("{s:s, s:s, s:b, s:s, s:o}", "name", name, "singularName", "",
				      "namespaced", k->namespaced, "kind", sub_kind(k, sub),
				      "verbs", sub_verbs(sub));
		/* Subresources of another group's kind say so: kubectl scale reads
		 * autoscaling/v1, and kubectl drain evicts only where
		 * pods/eviction names policy/v1. */
		const char *group = !strcmp(sub, "scale")      ? "autoscaling"
				    : !strcmp(sub, "eviction") ? "policy"
							       : NULL;
		if (group) {
			json_object_set_new(r, "group", json_string(group));
			json_object_set_new(r, "version", json_string("v1"));
		}
		json_array_append_new(list, r);
	}
	json_decref(names);
}

static json_t *resource(const struct kind_info *k, int id)
{
	char singular[64];
	snprintf(singular, sizeof(singular), "%s", k->kind);
	for (char *p = singular; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	json_t *r = json_pack("{s:s, s:s, s:b, s:s, s:o, s:o}", "name", k->plural, "singularName",
			      singular, "namespaced", k->namespaced, "kind", k->kind, "verbs",
			      str_array(id == KI_NAMESPACE ? verbs_ns : verbs_all), "shortNames",
			      words(facts[id].short_names));
	if (facts[id].all)
		json_object_set_new(r, "categories", words("all"));
	return r;
}

void h_group_version(struct http_req *rq, struct http_resp *rs)
{
	char av[96];
	route_api_version(&rq->rt, av);
	json_t *list = json_array();
	for (int i = 0; i < kind_count; i++) {
		const struct kind_info *k = &kind_table[i];
		if (strcmp(k->api_version, av) && !hpa_alt_version(k, av))
			continue;
		json_array_append_new(list, resource(k, i));
		add_subresources(list, k, facts[i].subs);
	}
	http_resp_json(rs, 200,
		       json_pack("{s:s, s:s, s:s, s:o}", "kind", "APIResourceList", "apiVersion",
				 "v1", "groupVersion", av, "resources", list));
}

void h_version(struct http_req *rq, struct http_resp *rs)
{
	http_resp_json(rs, 200,
		       json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "major",
				 VERSION_MAJOR, "minor", VERSION_MINOR, "gitVersion", GIT_VERSION,
				 "gitCommit", "", "gitTreeState", "clean", "buildDate",
				 "2026-01-01T00:00:00Z", "goVersion", "none", "compiler", "gcc",
				 "platform", "linux/amd64"));
}

void h_api(struct http_req *rq, struct http_resp *rs)
{
	const char *addr = http_server_address(rq->srv) + strlen("https://");
	http_resp_json(rs, 200,
		       json_pack("{s:s, s:[s], s:[{s:s, s:s}]}", "kind", "APIVersions", "versions",
				 "v1", "serverAddressByClientCIDRs", "clientCIDR", "0.0.0.0/0",
				 "serverAddress", addr));
}

/* Adds group/version to versions unless it is there. */
static void add_version(json_t *versions, const char *group, const char *version)
{
	char gv[96];
	snprintf(gv, sizeof(gv), "%s/%s", group, version);
	size_t i;
	json_t *v;
	json_array_foreach(versions, i, v)
	{
		if (!strcmp(json_string_value(json_object_get(v, "groupVersion")), gv))
			return;
	}
	json_array_append_new(versions,
			      json_pack("{s:s, s:s}", "groupVersion", gv, "version", version));
}

/* The APIGroup of group: the versions its kinds are stored in, preferred
 * first, then those served by conversion (autoscaling/v1); v1 for a group
 * without kinds. */
static json_t *api_group(const char *group)
{
	json_t *versions = json_array();
	size_t n = strlen(group);
	for (int i = 0; i < kind_count; i++) {
		const char *av = kind_table[i].api_version;
		if (!strncmp(av, group, n) && av[n] == '/')
			add_version(versions, group, av + n + 1);
	}
	for (int i = 0; i < kind_count; i++) {
		char av[96];
		snprintf(av, sizeof(av), "%s/v1", group);
		if (hpa_alt_version(&kind_table[i], av))
			add_version(versions, group, "v1");
	}
	if (!json_array_size(versions))
		add_version(versions, group, "v1");
	return json_pack("{s:s, s:s, s:s, s:o, s:O}", "kind", "APIGroup", "apiVersion", "v1",
			 "name", group, "versions", versions, "preferredVersion",
			 json_array_get(versions, 0));
}

void h_apis(struct http_req *rq, struct http_resp *rs)
{
	json_t *groups = json_array();
	json_t *seen = json_object();
	for (int i = 0; i < kind_count; i++) {
		const char *av = kind_table[i].api_version;
		const char *slash = strchr(av, '/');
		if (!slash)
			continue;
		char group[64];
		snprintf(group, sizeof(group), "%.*s", (int)(slash - av), av);
		if (json_object_get(seen, group))
			continue;
		json_object_set_new(seen, group, json_true());
		json_t *g = api_group(group);
		json_object_del(g, "kind");
		json_object_del(g, "apiVersion");
		json_array_append_new(groups, g);
	}
	json_decref(seen);
	for (size_t i = 0; route_extra_groups[i]; i++) {
		json_t *g = api_group(route_extra_groups[i]);
		json_object_del(g, "kind");
		json_object_del(g, "apiVersion");
		json_array_append_new(groups, g);
	}
	json_array_append_new(groups, metrics_api_group());
	http_resp_json(rs, 200,
		       json_pack("{s:s, s:s, s:o}", "kind", "APIGroupList", "apiVersion", "v1",
				 "groups", groups));
}

void h_group(struct http_req *rq, struct http_resp *rs)
{
	http_resp_json(rs, 200, api_group(rq->rt.group));
}
