/*
 * test_node_auth.c - callers and the node authorizer (engine/api/api_authz.c):
 * each rule a node has, allowed and refused, through api_authorize() and
 * through the API's calls on a view (which check the same rules); other
 * users read but do not write; the root and a uid-0 view do everything.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/api/api.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "engine/valid/codec.h"
#include "tests/unit/env.h"
#include "tests/unit/unit.h"

static struct api *n1; /* the view of node n1 */

static json_t *load(const char *yaml)
{
	json_t **docs;
	size_t n;
	if (codec_decode(yaml, strlen(yaml), &docs, &n, NULL) < 0 || n != 1)
		return NULL;
	json_t *o = json_incref(docs[0]);
	codec_docs_free(docs, n);
	return o;
}

static int create_as(struct api *a, const char *yaml, struct err **e)
{
	json_t *o = load(yaml);
	int r = api_create(a, o, NULL, e);
	json_decref(o);
	return r;
}

static struct api *node_view(const char *name)
{
	static const char *const groups[] = {"system:nodes", "system:authenticated", NULL};
	char *user = xasprintf("system:node:%s", name);
	struct api_who w = {
	    .user = user, .uid = (uid_t)-1, .gid = (gid_t)-1, .groups = groups, .node = name};
	struct api *v = api_as(api, &w);
	free(user);
	return v;
}

static void setup(void)
{
	CHECK(create_as(api, "kind: Node\nmetadata: {name: n1}\n", NULL) == 0);
	CHECK(create_as(api, "kind: Node\nmetadata: {name: n2}\n", NULL) == 0);
	const char *pod = "kind: Pod\nmetadata: {name: %s}\nspec: {nodeName: %s, containers: "
			  "[{name: c, image: busybox, env: [{name: X, valueFrom: "
			  "{configMapKeyRef: {name: cm, key: k}}}]}]}\n";
	char *y = xasprintf(pod, "a", "n1");
	CHECK(create_as(api, y, NULL) == 0);
	free(y);
	y = xasprintf(pod, "b", "n2");
	CHECK(create_as(api, y, NULL) == 0);
	free(y);
	CHECK(create_as(api, "kind: ConfigMap\nmetadata: {name: cm}\n", NULL) == 0);
	CHECK(create_as(api, "kind: ConfigMap\nmetadata: {name: unused}\n", NULL) == 0);
	n1 = node_view("n1");
}

/* api_authorize of one request by n1: 0 or -EACCES. */
static int may(const char *verb, const struct kind_info *k, const char *ns, const char *name,
	       const char *sub)
{
	struct api_request r = {verb, k, ns, name, sub};
	return api_authorize(n1, &r, NULL);
}

static void test_node_reads(void)
{
	const struct kind_info *ok[] = {KIND_POD, KIND_SERVICE, KIND_ENDPOINTS, KIND_NODE,
					KIND_NAMESPACE};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		const char *ns = ok[i]->namespaced ? "default" : NULL;
		CHECK(may("get", ok[i], ns, "x", NULL) == 0);
		CHECK(may("list", ok[i], NULL, NULL, NULL) == 0);
		CHECK(may("watch", ok[i], ns, NULL, NULL) == 0);
	}
	CHECK(may("get", KIND_POD, "default", "a", "status") == 0);
	CHECK(may("list", KIND_DEPLOYMENT, NULL, NULL, NULL) == -EACCES);
	CHECK(may("get", KIND_REPLICASET, "default", "x", NULL) == -EACCES);
	CHECK(may("list", KIND_EVENT, "default", NULL, NULL) == -EACCES);
	CHECK(may("get", KIND_POD, "default", "a", "log") == -EACCES);
	/* Through the view. */
	struct sobj **v;
	int n = api_list(n1, KIND_POD, NULL, NULL, &v, NULL);
	CHECK(n == 2);
	if (n > 0)
		sobj_list_free(v, (size_t)n);
	struct err *e = NULL;
	CHECK(api_list(n1, KIND_DEPLOYMENT, NULL, NULL, &v, &e) == -EACCES);
	CHECK(e &&
	      !strcmp(e->msg, "deployments is forbidden: User \"system:node:n1\" cannot list "
			      "resource \"deployments\" in API group \"apps\" at the cluster "
			      "scope: a node may read only pods, services, endpoints, nodes, "
			      "namespaces, leases and the configmaps and secrets its pods use"));
	err_free(e);
	/* ConfigMaps: one by name, only those its pods use */
	struct sobj *o = api_get(n1, KIND_CONFIGMAP, "default", "cm");
	CHECK(o != NULL);
	sobj_unref(o);
	CHECK(api_get(n1, KIND_CONFIGMAP, "default", "unused") == NULL);
	CHECK(may("get", KIND_CONFIGMAP, "default", "unused", NULL) == -EACCES);
	CHECK(may("get", KIND_CONFIGMAP, "other", "cm", NULL) == -EACCES);
	CHECK(may("list", KIND_CONFIGMAP, "default", NULL, NULL) == -EACCES);
	CHECK(may("watch", KIND_CONFIGMAP, NULL, NULL, NULL) == -EACCES);
	CHECK(create_as(api, "kind: ConfigMap\nmetadata: {name: vcm}\n", NULL) == 0);
	CHECK(create_as(api,
			"kind: Pod\nmetadata: {name: v}\nspec: {nodeName: n1, volumes: [{name: "
			"p, configMap: {name: vcm}}], containers: [{name: c, image: busybox}]}\n",
			NULL) == 0);
	CHECK(may("get", KIND_CONFIGMAP, "default", "vcm", NULL) == 0); /* a volume */
	/* Secrets: the same rule (here an imagePullSecret) */
	CHECK(create_as(api,
			"kind: Pod\nmetadata: {name: ps}\nspec: {nodeName: n1, imagePullSecrets: "
			"[{name: pull}], containers: [{name: c, image: busybox}]}\n",
			NULL) == 0);
	CHECK(may("get", KIND_SECRET, "default", "pull", NULL) == 0);
	CHECK(may("get", KIND_SECRET, "default", "other", NULL) == -EACCES);
	CHECK(may("list", KIND_SECRET, "default", NULL, NULL) == -EACCES);
	struct api *n2 = node_view("n2"); /* its pod b uses cm too, in env */
	o = api_get(n2, KIND_CONFIGMAP, "default", "cm");
	CHECK(o != NULL);
	sobj_unref(o);
	api_free(n2);
}

static void test_node_own_node(void)
{
	CHECK(may("patch", KIND_NODE, NULL, "n1", NULL) == 0);
	CHECK(may("update", KIND_NODE, NULL, "n1", "status") == 0);
	CHECK(may("patch", KIND_NODE, NULL, "n1", "status") == 0);
	CHECK(may("create", KIND_NODE, NULL, "n1", NULL) == 0);
	CHECK(may("create", KIND_NODE, NULL, NULL, NULL) == 0); /* name checked on write */
	CHECK(may("patch", KIND_NODE, NULL, "n2", NULL) == -EACCES);
	CHECK(may("update", KIND_NODE, NULL, "n2", "status") == -EACCES);
	CHECK(may("create", KIND_NODE, NULL, "n3", NULL) == -EACCES);
	CHECK(may("delete", KIND_NODE, NULL, "n1", NULL) == -EACCES);
	CHECK(may("delete", KIND_NODE, NULL, "n2", NULL) == -EACCES);
	/* Through the view: its own status, not another's; no new node. */
	json_t *st = json_pack("{s:[{s:s, s:s}]}", "conditions", "type", "Ready", "status", "True");
	CHECK(api_update_status(n1, KIND_NODE, NULL, "n1", st, NULL) >= 0);
	struct err *e = NULL;
	CHECK(api_update_status(n1, KIND_NODE, NULL, "n2", st, &e) == -EACCES);
	CHECK(e && !strcmp(e->msg, "nodes \"n2\" is forbidden: User \"system:node:n1\" cannot "
				   "update resource \"nodes/status\" in API group \"\" at the "
				   "cluster scope: node \"n1\" may change only its own Node"));
	err_free(e);
	json_decref(st);
	CHECK(create_as(n1, "kind: Node\nmetadata: {name: n3}\n", NULL) == -EACCES);
	struct sobj *o = api_get(api, KIND_NODE, NULL, "n3");
	CHECK(o == NULL);
	CHECK(api_annotate(n1, KIND_NODE, NULL, "n1", "k", "v", NULL) >= 0);
	CHECK(api_annotate(n1, KIND_NODE, NULL, "n2", "k", "v", NULL) == -EACCES);
}

static void test_node_lease(void)
{
	CHECK(may("create", KIND_NODE, NULL, "n1", NULL) == 0);
	/* The Lease rule goes by kind name: a stand-in kind_info. */
	struct kind_info lease = {"Lease", "leases", "coordination.k8s.io/v1",
				  true,	   false,    NAME_DNS1123_SUBDOMAIN};
	CHECK(may("get", &lease, "kube-node-lease", "n2", NULL) == 0);
	CHECK(may("update", &lease, "kube-node-lease", "n1", NULL) == 0);
	CHECK(may("patch", &lease, "kube-node-lease", "n1", NULL) == 0);
	CHECK(may("create", &lease, "kube-node-lease", "n1", NULL) == 0);
	CHECK(may("create", &lease, "kube-node-lease", NULL, NULL) == 0);
	CHECK(may("update", &lease, "kube-node-lease", "n2", NULL) == -EACCES);
	CHECK(may("update", &lease, "default", "n1", NULL) == -EACCES);
	CHECK(may("delete", &lease, "kube-node-lease", "n1", NULL) == -EACCES);
	struct api_request r = {"update", &lease, "kube-node-lease", "n2", NULL};
	struct err *e = NULL;
	CHECK(api_authorize(n1, &r, &e) == -EACCES);
	CHECK(e &&
	      !strcmp(e->msg, "leases \"n2\" is forbidden: User \"system:node:n1\" cannot "
			      "update resource \"leases\" in API group \"coordination.k8s.io\" "
			      "in the namespace \"kube-node-lease\": node \"n1\" may change "
			      "only its own Lease (kube-node-lease/n1)"));
	err_free(e);
}

static void test_node_pods(void)
{
	CHECK(may("update", KIND_POD, "default", "a", "status") == 0);
	CHECK(may("patch", KIND_POD, "default", "a", "status") == 0);
	CHECK(may("delete", KIND_POD, "default", "a", NULL) == 0);
	CHECK(may("update", KIND_POD, "default", "b", "status") == -EACCES);
	CHECK(may("delete", KIND_POD, "default", "b", NULL) == -EACCES);
	CHECK(may("update", KIND_POD, "default", "a", NULL) == -EACCES);
	CHECK(may("patch", KIND_POD, "default", "a", NULL) == -EACCES);
	CHECK(may("create", KIND_POD, "default", NULL, NULL) == -EACCES);
	CHECK(may("create", KIND_POD, "default", "a", "eviction") == -EACCES);
	CHECK(may("create", KIND_POD, "default", "a", "exec") == -EACCES);
	CHECK(may("deletecollection", KIND_POD, "default", NULL, NULL) == -EACCES);
	/* Through the view. */
	json_t *st = json_pack("{s:s}", "phase", "Running");
	CHECK(api_update_status(n1, KIND_POD, "default", "a", st, NULL) >= 0);
	struct err *e = NULL;
	CHECK(api_update_status(n1, KIND_POD, "default", "b", st, &e) == -EACCES);
	CHECK(e && strstr(e->msg, "pods \"b\" is forbidden: User \"system:node:n1\" cannot update "
				  "resource \"pods/status\" in API group \"\" in the namespace "
				  "\"default\": pod \"default/b\" is not bound to node \"n1\""));
	err_free(e);
	struct api_status many[] = {{KIND_POD, "default", "a", NULL, st, false},
				    {KIND_POD, "default", "b", NULL, st, false}};
	CHECK(api_status_many(n1, many, 1, NULL) == 1);
	CHECK(api_status_many(n1, many, 2, NULL) == -EACCES);
	json_decref(st);
	CHECK(create_as(n1,
			"kind: Pod\nmetadata: {name: x}\nspec: {containers: [{name: c, "
			"image: busybox}]}\n",
			NULL) == -EACCES);
	CHECK(api_evict(n1, "default", "a", NULL) == -EACCES);
	CHECK(api_delete_opts(n1, KIND_POD, "default", "b", 0, NULL) == -EACCES);
	CHECK(api_delete_opts(n1, KIND_POD, "default", "a", 0, NULL) >= 0);
}

static void test_node_others(void)
{
	CHECK(may("create", KIND_EVENT, "default", NULL, NULL) == 0);
	CHECK(may("patch", KIND_EVENT, "default", "e", NULL) == 0);
	CHECK(may("delete", KIND_EVENT, "default", "e", NULL) == -EACCES);
	CHECK(may("create", KIND_CONFIGMAP, "default", NULL, NULL) == -EACCES);
	CHECK(may("update", KIND_SERVICE, "default", "s", NULL) == -EACCES);
	CHECK(may("create", KIND_DEPLOYMENT, "default", NULL, NULL) == -EACCES);
	CHECK(may("delete", KIND_NAMESPACE, NULL, "default", NULL) == -EACCES);
	CHECK(create_as(n1,
			"kind: Event\nmetadata: {name: ev1}\ninvolvedObject: {kind: Node, "
			"name: n1}\nreason: R\nmessage: m\n",
			NULL) == 0);
	CHECK(create_as(n1, "kind: ConfigMap\nmetadata: {name: cm2}\n", NULL) == -EACCES);
}

static void test_users_and_root(void)
{
	CHECK(!strcmp(api_caller(api)->user, "root") && api_caller(api)->uid == 0);
	CHECK(!strcmp(api_caller(n1)->node, "n1"));
	CHECK(api_as(n1, NULL) == api); /* the root of a view */
	struct api_who alice = {.user = "alice", .uid = 1000, .gid = 1000};
	struct api *va = api_as(api, &alice);
	struct api_request get = {"get", KIND_DEPLOYMENT, "default", "x", NULL};
	struct api_request put = {"update", KIND_CONFIGMAP, "default", "cm", NULL};
	CHECK(api_authorize(va, &get, NULL) == 0);
	CHECK(api_authorize(va, &put, NULL) == -EACCES);
	CHECK(create_as(va, "kind: ConfigMap\nmetadata: {name: cm3}\n", NULL) == -EACCES);
	api_free(va);
	struct api_who r = {.user = "admin", .uid = 0, .gid = 0};
	struct api *vr = api_as(api, &r);
	CHECK(api_authorize(vr, &put, NULL) == 0);
	CHECK(create_as(vr, "kind: ConfigMap\nmetadata: {name: cm3}\n", NULL) == 0);
	api_free(vr);
	/* The root api itself does everything. */
	CHECK(api_authorize(api, &put, NULL) == 0);
}

int main(void)
{
	env_up("node-auth");
	setup();
	RUN(test_node_reads);
	RUN(test_node_own_node);
	RUN(test_node_lease);
	RUN(test_node_pods);
	RUN(test_node_others);
	RUN(test_users_and_root);
	api_free(n1);
	env_down();
	return unit_done();
}
