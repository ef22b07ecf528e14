/*
 * api_authz.c - callers and what they may do: views (api_as) and the
 * authorizer every view's call goes through.  See api.h ("Callers").
 *
 * The rules are Kubernetes' where Kubernetes has one: the node rule is
 * its node authorizer (with NodeRestriction's "only its own Node"), and a
 * refusal reads as RBAC's Forbidden message with the rule's reason after
 * it.  A create whose name is not known yet (a face's POST before it reads
 * the body) is checked by kind; the API checks it again with the name
 * when the object is written (api_create(), api_apply()).  Other users
 * are judged by Unix permissions on the namespace (api_nsperm.c), so that
 * the filesystem's modes and the HTTP API's answers are one rule.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/api/api.h"
#include "engine/api/api_int.h"
#include "engine/mem.h"

#define NODE_LEASE_NS "kube-node-lease"

static const char *const root_groups[] = {"system:masters", NULL};
static const struct api_who root_who = {.user = "root", .uid = 0, .gid = 0, .groups = root_groups};

/* Views */

static struct api_who *who_copy(const struct api_who *w)
{
	struct api_who *c = xcalloc(1, sizeof(*c));
	c->user = xstrdup(w->user ? w->user : "");
	c->uid = w->uid;
	c->gid = w->gid;
	if (w->ngids) {
		gid_t *g = xcalloc(w->ngids, sizeof(*g));
		memcpy(g, w->gids, w->ngids * sizeof(*g));
		c->gids = g;
		c->ngids = w->ngids;
	}
	size_t n = 0;
	while (w->groups && w->groups[n])
		n++;
	char **gr = xcalloc(n + 1, sizeof(*gr));
	for (size_t i = 0; i < n; i++)
		gr[i] = xstrdup(w->groups[i]);
	c->groups = (const char *const *)gr;
	c->node = w->node ? xstrdup(w->node) : NULL;
	return c;
}

static void who_free(struct api_who *w)
{
	if (!w)
		return;
	for (size_t i = 0; w->groups && w->groups[i]; i++)
		free((char *)w->groups[i]);
	free((void *)w->groups);
	free((void *)w->gids);
	free((char *)w->user);
	free((char *)w->node);
	free(w);
}

struct api *api_as(struct api *root, const struct api_who *who)
{
	root = root->root;
	if (!who)
		return root;
	struct api *v = xcalloc(1, sizeof(*v));
	v->st = root->st;
	v->root = root;
	v->default_toleration_s = root->default_toleration_s;
	v->svc_cidr = root->svc_cidr;
	v->who = who_copy(who);
	return v;
}

/* api_free() of a view (api.c calls it for a != a->root). */
void api_view_free(struct api *v)
{
	who_free(v->who);
	free(v);
}

const struct api_who *api_caller(const struct api *a)
{
	return a->who ? a->who : &root_who;
}

/* The rules */

static bool in_group(const struct api_who *w, const char *g)
{
	for (size_t i = 0; w->groups && w->groups[i]; i++)
		if (!strcmp(w->groups[i], g))
			return true;
	return false;
}

static bool is_root(const struct api_who *w)
{
	return !w->node && (w->uid == 0 || in_group(w, "system:masters"));
}

static bool verb_is(const char *verb, const char *list)
{
	size_t n = strlen(verb);
	for (const char *p = list; *p;) {
		const char *end = strchr(p, ' ');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == n && !strncmp(p, verb, n))
			return true;
		p += len + (end ? 1 : 0);
	}
	return false;
}

static bool kind_in(const struct kind_info *k, const char *list)
{
	return verb_is(k->kind, list);
}

/* A pod's rule: allowed when it is bound to node (or absent: the call
 * then fails as absent). */
static char *pod_bound(struct api *a, const char *node, const char *ns, const char *name)
{
	struct sobj *o = store_get(a->st, "Pod", ns, name);
	if (!o)
		return NULL;
	const char *bound = api_jstr(json_object_get(o->obj, "spec"), "nodeName");
	char *why = bound && !strcmp(bound, node)
			? NULL
			: xasprintf("pod \"%s/%s\" is not bound to node \"%s\"", ns, name, node);
	sobj_unref(o);
	return why;
}

/* Where a pod names a ConfigMap or a Secret. */
struct ref_fields {
	const char *key_ref;  /* env[].valueFrom.X.name */
	const char *env_ref;  /* envFrom[].X.name */
	const char *vol;      /* volumes[].X.<vol_name> and projected sources[].X.name */
	const char *vol_name; /* "name" or "secretName" */
	const char *plural;   /* in messages */
};

static const struct ref_fields cm_refs = {"configMapKeyRef", "configMapRef", "configMap", "name",
					  "configmaps"};
static const struct ref_fields secret_refs = {"secretKeyRef", "secretRef", "secret", "secretName",
					      "secrets"};

static bool is_name(const char *n, const char *want)
{
	return n && !strcmp(n, want);
}

/* Does a container list (containers, initContainers) name the object in
 * env[].valueFrom or envFrom[]? */
static bool ctrs_use(const json_t *ctrs, const struct ref_fields *f, const char *name)
{
	size_t i, j;
	json_t *c, *x;
	json_array_foreach(ctrs, i, c)
	{
		json_array_foreach(json_object_get(c, "env"), j, x)
		{
			if (is_name(api_jstr(json_object_get(json_object_get(x, "valueFrom"),
							     f->key_ref),
					     "name"),
				    name))
				return true;
		}
		json_array_foreach(json_object_get(c, "envFrom"), j, x)
		{
			if (is_name(api_jstr(json_object_get(x, f->env_ref), "name"), name))
				return true;
		}
	}
	return false;
}

/* Does pod spec use the ConfigMap or Secret (a volume, a projected source,
 * env; a Secret also as an imagePullSecret)? */
static bool pod_uses(const json_t *spec, const struct ref_fields *f, const char *name)
{
	size_t i, j;
	json_t *v, *src;
	json_array_foreach(json_object_get(spec, "volumes"), i, v)
	{
		if (is_name(api_jstr(json_object_get(v, f->vol), f->vol_name), name))
			return true;
		json_array_foreach(json_object_get(json_object_get(v, "projected"), "sources"), j,
				   src)
		{
			if (is_name(api_jstr(json_object_get(src, f->vol), "name"), name))
				return true;
		}
	}
	if (f == &secret_refs)
		json_array_foreach(json_object_get(spec, "imagePullSecrets"), i, v)
		{
			if (is_name(api_jstr(v, "name"), name))
				return true;
		}
	return ctrs_use(json_object_get(spec, "containers"), f, name) ||
	       ctrs_use(json_object_get(spec, "initContainers"), f, name);
}

/* A ConfigMap's or Secret's rule, as Kubernetes' node authorizer has it: a
 * node reads one by name, and only one that a pod bound to it uses. */
static char *object_used(struct api *a, const char *node, const char *verb, const char *ns,
			 const char *name, const struct ref_fields *f)
{
	if (strcmp(verb, "get") || !*name)
		return xasprintf("a node may only get, one by one, the %s its pods use", f->plural);
	struct sobj **v = NULL;
	size_t n = store_list(a->st, "Pod", ns, &v);
	bool used = false;
	for (size_t i = 0; i < n && !used; i++) {
		const json_t *spec = json_object_get(v[i]->obj, "spec");
		const char *bound = api_jstr(spec, "nodeName");
		used = bound && !strcmp(bound, node) && pod_uses(spec, f, name);
	}
	sobj_list_free(v, n);
	return used ? NULL
		    : xasprintf("no pod bound to node \"%s\" uses %.*s \"%s/%s\"", node,
				(int)strlen(f->plural) - 1, f->plural, ns, name);
}

/* NULL when the node may do r, else why not (malloc'd). */
static char *node_denies(struct api *a, const char *node, const struct api_request *r)
{
	const struct kind_info *k = r->kind;
	const char *sub = r->sub ? r->sub : "", *name = r->name ? r->name : "";
	const char *ns = r->ns ? r->ns : "";
	bool write = verb_is(r->verb, "create update patch");
	if (verb_is(r->verb, "get list watch")) {
		if (k == KIND_CONFIGMAP && !*sub)
			return object_used(a, node, r->verb, ns, name, &cm_refs);
		if (!strcmp(k->kind, "Secret") && !*sub)
			return object_used(a, node, r->verb, ns, name, &secret_refs);
		if (kind_in(k, "Pod Service Endpoints Node Namespace Lease") &&
		    (!*sub || !strcmp(sub, "status")))
			return NULL;
		return xasprintf("a node may read only pods, services, endpoints, nodes, "
				 "namespaces, leases and the configmaps and secrets its "
				 "pods use");
	}
	if (k == KIND_NODE && write && (!*sub || !strcmp(sub, "status"))) {
		if (!strcmp(name, node) || (!*name && !strcmp(r->verb, "create")))
			return NULL;
		return xasprintf("node \"%s\" may change only its own Node", node);
	}
	if (!strcmp(k->kind, "Lease") && write && !*sub) {
		if (!strcmp(ns, NODE_LEASE_NS) &&
		    (!strcmp(name, node) || (!*name && !strcmp(r->verb, "create"))))
			return NULL;
		return xasprintf("node \"%s\" may change only its own Lease (%s/%s)", node,
				 NODE_LEASE_NS, node);
	}
	if (k == KIND_EVENT && write && !*sub)
		return NULL;
	if (k == KIND_POD && *name &&
	    ((!strcmp(sub, "status") && verb_is(r->verb, "update patch")) ||
	     (!*sub && !strcmp(r->verb, "delete"))))
		return pod_bound(a, node, ns, name);
	return xasprintf("a node may change only its own Node and Lease, the status of its "
			 "pods, and events");
}

/* NULL when a user who is neither root nor a node may do r, else why not:
 * Unix permissions on the namespace (api.h, "Callers"). */
static char *user_denies(struct api *a, const struct api_who *w, const struct api_request *r)
{
	const struct kind_info *k = r->kind;
	bool read = verb_is(r->verb, "get list watch");
	const char *ns = r->ns && *r->ns ? r->ns : NULL;
	if (!k->namespaced)
		return read ? NULL
			    : xasprintf("only root may change cluster-scoped objects (%s)",
					k->plural);
	if (!ns)
		return read ? NULL /* api_list() and watches keep the readable namespaces */
			    : xasprintf("only root may change %s across all namespaces", k->plural);
	struct api_ns_perm p;
	api_ns_perm(a, ns, &p);
	bool secret = !strcmp(k->kind, "Secret");
	if (api_ns_grants(w, &p, read ? 4 : 2, secret))
		return NULL;
	char *t = api_ns_perm_text(&p);
	char *why = xasprintf("%snamespace \"%s\" is owned by %s",
			      secret ? "secrets are readable only by their namespace's owner and "
				       "group: "
				     : "",
			      ns, t);
	free(t);
	return why;
}

/* Kubernetes' Forbidden message, with why after it. */
static int forbidden(const struct api_who *w, const struct api_request *r, const char *why,
		     struct err **e)
{
	const struct kind_info *k = r->kind;
	const char *slash = strchr(k->api_version, '/');
	int glen = slash ? (int)(slash - k->api_version) : 0;
	const char *sub = r->sub && *r->sub ? r->sub : NULL;
	const char *ns = k->namespaced && r->ns && *r->ns ? r->ns : NULL;
	char *what =
	    r->name && *r->name ? xasprintf("%s \"%s\"", k->plural, r->name) : xstrdup(k->plural);
	char *scope =
	    ns ? xasprintf("in the namespace \"%s\"", ns) : xstrdup("at the cluster scope");
	int rc = err_make(e, EACCES,
			  "%s is forbidden: User \"%s\" cannot %s resource \"%s%s%s\" in API "
			  "group \"%.*s\" %s: %s",
			  what, w->user, r->verb, k->plural, sub ? "/" : "", sub ? sub : "", glen,
			  k->api_version, scope, why);
	free(what);
	free(scope);
	return rc;
}

bool api_caller_is_root(const struct api *a)
{
	return !a->who || is_root(a->who);
}

bool api_may_read(struct api *a, const struct kind_info *k, const char *ns)
{
	struct api_request r = {"get", k, ns, NULL, NULL};
	return api_authorize(a, &r, NULL) == 0;
}

int api_authorize(struct api *a, const struct api_request *r, struct err **e)
{
	const struct api_who *w = a->who;
	if (!w || is_root(w))
		return 0;
	char *why = w->node ? node_denies(a, w->node, r) : user_denies(a, w, r);
	if (!why)
		return 0;
	int rc = forbidden(w, r, why, e);
	free(why);
	return rc;
}

int api_check(struct api *a, const char *verb, const struct kind_info *k, const char *ns,
	      const char *name, const char *sub, struct err **e)
{
	if (!a->who)
		return 0;
	struct api_request r = {verb, k, k->namespaced ? ns : NULL, name, sub};
	return api_authorize(a, &r, e);
}
