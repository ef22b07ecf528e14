/*
 * test_api_psa.c - Pod Security admission in the API (engine/api/api_psa.c)
 * against a real store in a temporary dir: enforce refuses with EACCES and
 * Kubernetes' words, namespace labels (and bad ones), warn mode through a
 * collector or as a Warning event, batches (api_create_many_ex) refusing
 * item by item with the reason, updates that change only images, the
 * server default.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/api/api.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "engine/store/store.h"
#include "engine/valid/codec.h"
#include "tests/unit/unit.h"

static char dir[] = "/tmp/cfs-test-api-psa.XXXXXX";
static struct store *st;
static struct api *api;

static int apply(const char *yaml, struct err **e)
{
	json_t **docs;
	size_t n;
	int r = codec_decode(yaml, strlen(yaml), &docs, &n, e);
	if (r < 0)
		return r;
	r = api_apply(api, docs, n, NULL, e);
	codec_docs_free(docs, n);
	return r;
}

#define PRIV_POD(name, ns, image)                                                                  \
	"apiVersion: v1\nkind: Pod\nmetadata: {name: " name ", namespace: " ns "}\n"               \
	"spec:\n  containers:\n  - name: c\n    image: " image "\n"                                \
	"    securityContext: {privileged: true}\n"
#define PRIV_MSG "privileged (container \"c\" must not set securityContext.privileged=true)"

static void test_enforce_default(void)
{
	struct err *e = NULL;
	CHECK(apply(PRIV_POD("p1", "default", "busybox"), &e) == -EACCES);
	CHECK(e && !strcmp(e->msg, "pods \"p1\" is forbidden: violates PodSecurity "
				   "\"baseline:latest\": " PRIV_MSG));
	err_free(e);
	CHECK(api_get(api, KIND_POD, "default", "p1") == NULL);
}

static void test_namespace_labels(void)
{
	struct err *e = NULL;
	CHECK(apply("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bad\n  labels:\n"
		    "    pod-security.kubernetes.io/warn-version: v1\n",
		    &e) == -EINVAL);
	CHECK(e && strstr(e->msg, "Namespace \"bad\": metadata.labels[pod-security.kubernetes.io/"
				  "warn-version]: Invalid value: \"v1\""));
	err_free(e);
	e = NULL;
	CHECK(apply("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: open\n  labels:\n"
		    "    pod-security.kubernetes.io/enforce: privileged\n",
		    &e) == 1);
	CHECK(apply(PRIV_POD("p1", "open", "busybox:1.36"), &e) == 1);
	/* Tightening the label keeps the pod; an update of its labels is not
	 * evaluated again, one of its image is (Kubernetes' "significant"
	 * updates). */
	CHECK(apply("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: open\n  labels:\n"
		    "    pod-security.kubernetes.io/enforce: baseline\n",
		    &e) == 1);
	CHECK(apply("apiVersion: v1\nkind: Pod\nmetadata: {name: p1, namespace: open, labels: "
		    "{a: b}}\nspec:\n  containers:\n  - name: c\n    image: busybox:1.36\n"
		    "    securityContext: {privileged: true}\n",
		    &e) == 1);
	CHECK(apply(PRIV_POD("p1", "open", "busybox:1.37"), &e) == -EACCES);
	CHECK(e && strstr(e->msg, "pods \"p1\" is forbidden"));
	err_free(e);
	e = NULL;
	CHECK(apply(PRIV_POD("p2", "open", "busybox"), &e) == -EACCES);
	err_free(e);
}

static const char priv_deploy[] = "apiVersion: apps/v1\nkind: Deployment\n"
				  "metadata: {name: pd}\n"
				  "spec:\n  selector: {matchLabels: {app: pd}}\n"
				  "  template:\n    metadata: {labels: {app: pd}}\n"
				  "    spec:\n      containers:\n      - name: c\n"
				  "        image: busybox\n"
				  "        securityContext: {privileged: true}\n";

static void test_warn(void)
{
	struct err *e = NULL;
	struct api_warnings w = {0};
	api_warnings_collect(&w);
	CHECK(apply(priv_deploy, &e) == 1);
	api_warnings_collect(NULL);
	CHECK(w.n == 1 &&
	      !strcmp(w.v[0], "would violate PodSecurity \"baseline:latest\": " PRIV_MSG));
	api_warnings_free(&w);
	/* Nothing collects: a Warning event on the object. */
	CHECK(apply("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: pd}\n"
		    "spec:\n  replicas: 2\n  selector: {matchLabels: {app: pd}}\n"
		    "  template:\n    metadata: {labels: {app: pd}}\n"
		    "    spec:\n      containers:\n      - name: c\n        image: busybox\n"
		    "        securityContext: {privileged: true}\n",
		    &e) == 1);
	api_flush_events(api);
	struct sobj **evs;
	int n = api_list(api, KIND_EVENT, "default", NULL, &evs, NULL);
	int found = 0;
	for (int i = 0; i < n; i++)
		found += !strcmp(obj_str(evs[i]->obj, "reason") ?: "", "PodSecurity") &&
			 !strcmp(obj_str(evs[i]->obj, "involvedObject.name") ?: "", "pd") &&
			 strstr(obj_str(evs[i]->obj, "message") ?: "", PRIV_MSG);
	CHECK(found == 1);
	sobj_list_free(evs, n > 0 ? (size_t)n : 0);
	/* A compliant pod warns nothing. */
	api_warnings_collect(&w);
	CHECK(apply("apiVersion: v1\nkind: Pod\nmetadata: {name: ok}\n"
		    "spec:\n  containers:\n  - {name: c, image: busybox}\n",
		    &e) == 1);
	api_warnings_collect(NULL);
	CHECK(w.n == 0);
	err_free(e);
}

static void test_batch(void)
{
	json_t *pods[2];
	struct err *e = NULL;
	json_t **d;
	size_t n;
	const char *y = PRIV_POD(
	    "b1", "default",
	    "busybox") "---\n"
		       "apiVersion: v1\nkind: Pod\nmetadata: {name: b2, namespace: default}\n"
		       "spec:\n  containers:\n  - {name: c, image: busybox}\n";
	CHECK(codec_decode(y, strlen(y), &d, &n, &e) == 0 && n == 2);
	pods[0] = d[0];
	pods[1] = d[1];
	int res[2];
	char *why[2];
	CHECK(api_create_many_ex(api, pods, 2, res, why) == 1);
	CHECK(res[0] == -EACCES && res[1] == 0);
	CHECK(why[0] && strstr(why[0], "pods \"b1\" is forbidden: violates PodSecurity"));
	CHECK(why[1] == NULL);
	free(why[0]);
	codec_docs_free(d, n);
	err_free(e);
}

static void test_default_flag(void)
{
	struct err *e = NULL;
	CHECK(api_set_pod_security_default(api, "strict", &e) == -EINVAL);
	CHECK(e && strstr(e->msg, "must be one of privileged, baseline, restricted"));
	err_free(e);
	e = NULL;
	CHECK(api_set_pod_security_default(api, "restricted:v1.30", &e) == 0);
	CHECK(apply("apiVersion: v1\nkind: Pod\nmetadata: {name: plain}\n"
		    "spec:\n  containers:\n  - {name: c, image: busybox}\n",
		    &e) == -EACCES);
	CHECK(e && strstr(e->msg, "violates PodSecurity \"restricted:v1.30\": "
				  "allowPrivilegeEscalation != false"));
	err_free(e);
	e = NULL;
	CHECK(api_set_pod_security_default(api, "privileged", &e) == 0);
	CHECK(apply(PRIV_POD("p9", "default", "busybox"), &e) == 1);
	err_free(e);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	char *db = xasprintf("%s/state.db", dir);
	struct err *e = NULL;
	if (store_open(db, &st, &e) < 0 || api_new(st, &api, &e) < 0) {
		fprintf(stderr, "setup: %s\n", e ? e->msg : "?");
		return 1;
	}
	RUN(test_enforce_default);
	RUN(test_namespace_labels);
	RUN(test_warn);
	RUN(test_batch);
	RUN(test_default_flag);
	api_free(api);
	store_close(st);
	char *cmd = xasprintf("rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", dir);
	free(cmd);
	free(db);
	return unit_done();
}
