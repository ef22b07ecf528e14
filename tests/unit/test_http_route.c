/* test_http_route.c - route_parse (http/route.h), field selectors
 * (http/fieldsel.h) and the errno -> Status mapping (http/status.h). */
#include <errno.h>

#include "http/fieldsel.h"
#include "http/route.h"
#include "http/status.h"
#include "tests/unit/unit.h"

static void test_fixed_paths(void)
{
	struct route r;
	CHECK(route_parse("/healthz", &r) == 0 && r.type == ROUTE_HEALTH);
	CHECK(route_parse("/livez", &r) == 0 && r.type == ROUTE_HEALTH);
	CHECK(route_parse("/readyz/", &r) == 0 && r.type == ROUTE_HEALTH);
	CHECK(route_parse("/version", &r) == 0 && r.type == ROUTE_VERSION);
	CHECK(route_parse("/api", &r) == 0 && r.type == ROUTE_API);
	CHECK(route_parse("/apis", &r) == 0 && r.type == ROUTE_APIS);
	CHECK(route_parse("/apis/apps", &r) == 0 && r.type == ROUTE_GROUP);
	CHECK(!strcmp(r.group, "apps"));
	CHECK(route_parse("/api/v1", &r) == 0 && r.type == ROUTE_GROUP_VERSION);
	CHECK(!strcmp(r.version, "v1") && !r.group[0]);
	CHECK(route_parse("/apis/apps/v1/", &r) == 0 && r.type == ROUTE_GROUP_VERSION);
	char av[96];
	route_api_version(&r, av);
	CHECK(!strcmp(av, "apps/v1"));
}

static void test_resources(void)
{
	struct route r;
	CHECK(route_parse("/api/v1/namespaces/default/pods", &r) == 0);
	CHECK(r.type == ROUTE_COLLECTION && r.kind == KIND_POD && !strcmp(r.ns, "default"));
	CHECK(route_parse("/api/v1/pods", &r) == 0);
	CHECK(r.type == ROUTE_COLLECTION && r.kind == KIND_POD && !r.ns[0]);
	CHECK(route_parse("/api/v1/namespaces/web/pods/p1/log", &r) == 0);
	CHECK(r.type == ROUTE_OBJECT && !strcmp(r.name, "p1") && !strcmp(r.sub, "log"));
	CHECK(!strcmp(r.ns, "web"));
	CHECK(route_parse("/apis/apps/v1/namespaces/default/deployments/web/scale", &r) == 0);
	CHECK(r.kind == KIND_DEPLOYMENT && !strcmp(r.sub, "scale") && !strcmp(r.name, "web"));
	CHECK(route_parse("/apis/apps/v1/replicasets", &r) == 0 && r.kind == KIND_REPLICASET);
	CHECK(route_parse("/api/v1/nodes/n1", &r) == 0);
	CHECK(r.type == ROUTE_OBJECT && r.kind == KIND_NODE && !r.ns[0] && !r.sub[0]);
	CHECK(route_parse("/api/v1/nodes/n1/status", &r) == 0 && !strcmp(r.sub, "status"));
	CHECK(route_parse("/api/v1/namespaces", &r) == 0);
	CHECK(r.type == ROUTE_COLLECTION && r.kind == KIND_NAMESPACE);
	CHECK(route_parse("/api/v1/namespaces/kube-system", &r) == 0);
	CHECK(r.type == ROUTE_OBJECT && r.kind == KIND_NAMESPACE);
	CHECK(!strcmp(r.name, "kube-system") && !r.ns[0]);
	CHECK(route_parse("/api/v1/namespaces/x/status", &r) == 0);
	CHECK(r.kind == KIND_NAMESPACE && !strcmp(r.name, "x") && !strcmp(r.sub, "status"));
	CHECK(route_parse("/api/v1/namespaces/x/finalize", &r) == 0 && !strcmp(r.sub, "finalize"));
	CHECK(route_parse("/api/v1/namespaces/default/events", &r) == 0 && r.kind == KIND_EVENT);
	CHECK(route_parse("/api/v1/namespaces/default/configmaps/c", &r) == 0);
	CHECK(r.kind == KIND_CONFIGMAP);
	/* HorizontalPodAutoscalers: stored as autoscaling/v2, served as v1 too */
	CHECK(route_parse("/apis/autoscaling/v2/namespaces/d/horizontalpodautoscalers/h", &r) == 0);
	CHECK(r.kind == KIND_HPA && !strcmp(r.version, "v2") && r.type == ROUTE_OBJECT);
	CHECK(route_parse("/apis/autoscaling/v1/namespaces/d/horizontalpodautoscalers/h/status",
			  &r) == 0);
	CHECK(r.kind == KIND_HPA && !strcmp(r.version, "v1") && !strcmp(r.sub, "status"));
	CHECK(route_parse("/apis/autoscaling/v1", &r) == 0 && r.type == ROUTE_GROUP_VERSION);
}

static void test_refused(void)
{
	struct route r;
	const char *bad[] = {
	    "/",
	    "",
	    "/foo",
	    "/api/v2",
	    "/api/v1/deployments",			     /* wrong group */
	    "/apis/apps/v1/pods",			     /* wrong group */
	    "/apis/batch/v1",				     /* unknown group */
	    "/apis/apps/v2",				     /* unknown version */
	    "/apis/autoscaling/v2beta2",		     /* not served */
	    "/apis/autoscaling/v1/namespaces/d/deployments", /* only HPAs in v1 */
	    "/api/v1/widgets",				     /* unknown resource */
	    "/api/v1/pods/p1",		  /* a namespaced kind by name needs its namespace */
	    "/api/v1/namespaces/d/nodes", /* cluster-scoped kind in a namespace */
	    "/api/v1/namespaces/d/pods/p/log/extra",
	    "/api/v1/namespaces/d/pods/p/a/b/c/d/e/f/g",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = route_parse(bad[i], &r);
		if (rc != -ENOENT)
			fprintf(stderr, "  route_parse(\"%s\") = %d\n", bad[i], rc);
		CHECK(rc == -ENOENT);
	}
	char long_name[400];
	memset(long_name, 'a', sizeof(long_name));
	memcpy(long_name, "/api/v1/nodes/", 14);
	long_name[sizeof(long_name) - 1] = '\0';
	CHECK(route_parse(long_name, &r) == -ENOENT);
}

static void test_fieldsel(void)
{
	json_t *pod =
	    json_pack("{s:{s:s, s:s}, s:{s:s}, s:{s:s}}", "metadata", "name", "p1", "namespace",
		      "default", "spec", "nodeName", "n1", "status", "phase", "Running");
	struct fieldsel *fs = NULL;
	struct err *e = NULL;
	CHECK(fieldsel_parse(KIND_POD, "spec.nodeName=n1,status.phase!=Pending", &fs, &e) == 0);
	CHECK(fieldsel_matches(fs, pod));
	fieldsel_free(fs);
	CHECK(fieldsel_parse(KIND_POD, "metadata.name==p2", &fs, &e) == 0);
	CHECK(!fieldsel_matches(fs, pod));
	fieldsel_free(fs);
	CHECK(fieldsel_parse(KIND_POD, "status.podIP=", &fs, &e) == 0);
	CHECK(fieldsel_matches(fs, pod));
	fieldsel_free(fs);
	CHECK(fieldsel_parse(KIND_POD, "", &fs, &e) == 0 && fs == NULL);
	CHECK(fieldsel_parse(KIND_POD, "spec.bogus=x", &fs, &e) == -EINVAL);
	CHECK(e && strstr(e->msg, "field label not supported: spec.bogus"));
	CHECK(fieldsel_parse(KIND_NODE, "spec.nodeName=x", &fs, &e) == -EINVAL);
	CHECK(fieldsel_parse(KIND_POD, "nonsense", &fs, &e) == -EINVAL);
	json_t *node =
	    json_pack("{s:{s:s}, s:{s:b}}", "metadata", "name", "n1", "spec", "unschedulable", 1);
	CHECK(fieldsel_parse(KIND_NODE, "spec.unschedulable=true", &fs, &e) == 0);
	CHECK(fieldsel_matches(fs, node));
	fieldsel_free(fs);
	json_t *ev = json_pack("{s:{s:s, s:s}}", "involvedObject", "kind", "Pod", "name", "p1");
	CHECK(fieldsel_parse(KIND_EVENT, "involvedObject.kind=Pod,involvedObject.name=p1", &fs,
			     &e) == 0);
	CHECK(fieldsel_matches(fs, ev));
	fieldsel_free(fs);
	err_free(e);
	json_decref(pod);
	json_decref(node);
	json_decref(ev);
}

static void test_status(void)
{
	const char *reason;
	CHECK(status_of_errno(ENOENT, &reason) == 404 && !strcmp(reason, "NotFound"));
	CHECK(status_of_errno(EEXIST, &reason) == 409 && !strcmp(reason, "AlreadyExists"));
	CHECK(status_of_errno(EBUSY, &reason) == 409 && !strcmp(reason, "Conflict"));
	CHECK(status_of_errno(EINVAL, &reason) == 422 && !strcmp(reason, "Invalid"));
	CHECK(status_of_errno(EPERM, &reason) == 403 && !strcmp(reason, "Forbidden"));
	CHECK(status_of_errno(EFBIG, &reason) == 413);
	CHECK(status_of_errno(EIO, &reason) == 503 && !strcmp(reason, "ServiceUnavailable"));
	CHECK(status_of_errno(ENOMEM, &reason) == 500 && !strcmp(reason, "InternalError"));
	json_t *st = status_not_found(KIND_DEPLOYMENT, "web");
	CHECK(status_code(st) == 404);
	CHECK(!strcmp(json_string_value(json_object_get(st, "kind")), "Status"));
	CHECK(!strcmp(json_string_value(json_object_get(st, "message")),
		      "deployments \"web\" not found"));
	json_t *d = json_object_get(st, "details");
	CHECK(!strcmp(json_string_value(json_object_get(d, "name")), "web"));
	CHECK(!strcmp(json_string_value(json_object_get(d, "kind")), "deployments"));
	CHECK(!strcmp(json_string_value(json_object_get(d, "group")), "apps"));
	json_decref(st);
	struct err *e = NULL;
	err_make(&e, EINVAL, "pod p: spec.containers: required");
	st = status_from_err(e, KIND_POD, "p");
	CHECK(status_code(st) == 422);
	CHECK(!strcmp(json_string_value(json_object_get(st, "reason")), "Invalid"));
	json_decref(st);
	err_free(e);
}

int main(void)
{
	RUN(test_fixed_paths);
	RUN(test_resources);
	RUN(test_refused);
	RUN(test_fieldsel);
	RUN(test_status);
	return unit_done();
}
