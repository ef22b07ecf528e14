/* test_http_table.c - Table cells (http/table.h): human durations, the pod
 * STATUS / READY / RESTARTS logic of Kubernetes' printer, every kind's
 * columns and cells, the Accept header and includeObject. */
#include <jansson.h>

#include "http/table.h"
#include "tests/unit/unit.h"

#define NOW 1800000000 /* 2027-01-15T08:00:00Z */

static json_t *J(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, 0, &err);
	if (!j)
		fprintf(stderr, "  bad JSON in test: %s: %s\n", err.text, text);
	return j;
}

static bool dur_is(int64_t secs, const char *want)
{
	char out[32];
	table_duration(secs, out);
	if (strcmp(out, want))
		fprintf(stderr, "  duration %lld: %s, want %s\n", (long long)secs, out, want);
	return !strcmp(out, want);
}

static void test_duration(void)
{
	CHECK(dur_is(-5, "<invalid>"));
	CHECK(dur_is(-1, "0s"));
	CHECK(dur_is(0, "0s"));
	CHECK(dur_is(119, "119s"));
	CHECK(dur_is(120, "2m"));
	CHECK(dur_is(310, "5m10s"));
	CHECK(dur_is(600, "10m"));
	CHECK(dur_is(179 * 60 + 59, "179m"));
	CHECK(dur_is(3 * 3600, "3h"));
	CHECK(dur_is(3 * 3600 + 25 * 60, "3h25m"));
	CHECK(dur_is(30 * 3600, "30h"));
	CHECK(dur_is(50 * 3600, "2d2h"));
	CHECK(dur_is(72 * 3600, "3d"));
	CHECK(dur_is(40 * 86400, "40d"));
	CHECK(dur_is(3 * 365 * 86400 + 10 * 86400, "3y10d"));
	CHECK(dur_is(9 * 365 * 86400, "9y"));
	CHECK(table_parse_time("2027-01-15T08:00:00Z") == NOW);
	CHECK(table_parse_time("2027-01-15T07:59:00.123456Z") == NOW - 60);
	CHECK(table_parse_time("") == -1 && table_parse_time(NULL) == -1);
}

/* The pod's cells, checked against want_ready / want_status / want_restarts. */
static bool pod_is(const char *pod, const char *ready, const char *status, const char *restarts)
{
	json_t *j = J(pod);
	struct table_pod_cells c;
	table_pod_cells(j, NOW, &c);
	json_decref(j);
	bool ok =
	    !strcmp(c.ready, ready) && !strcmp(c.status, status) && !strcmp(c.restarts, restarts);
	if (!ok)
		fprintf(stderr, "  pod cells %s | %s | %s, want %s | %s | %s\n", c.ready, c.status,
			c.restarts, ready, status, restarts);
	return ok;
}

#define SPEC1 "\"spec\":{\"containers\":[{\"name\":\"a\"}]}"
#define SPEC2 "\"spec\":{\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]}"

static void test_pod_basic(void)
{
	CHECK(pod_is("{" SPEC1 ",\"status\":{\"phase\":\"Pending\"}}", "0/1", "Pending", "0"));
	CHECK(pod_is("{" SPEC1
		     ",\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":"
		     "\"a\",\"ready\":true,\"state\":{\"running\":{}},\"restartCount\":0}]}}",
		     "1/1", "Running", "0"));
	/* a container waiting: its reason */
	CHECK(
	    pod_is("{" SPEC1 ",\"status\":{\"phase\":\"Pending\",\"containerStatuses\":[{"
		   "\"name\":\"a\",\"state\":{\"waiting\":{\"reason\":\"ContainerCreating\"}}}]}}",
		   "0/1", "ContainerCreating", "0"));
	/* the pod's own reason beats its phase */
	CHECK(pod_is("{" SPEC1 ",\"status\":{\"phase\":\"Failed\",\"reason\":\"Evicted\"}}", "0/1",
		     "Evicted", "0"));
	/* a gated pod */
	CHECK(pod_is("{" SPEC1 ",\"status\":{\"phase\":\"Pending\",\"conditions\":[{\"type\":"
		     "\"PodScheduled\",\"status\":\"False\",\"reason\":\"SchedulingGated\"}]}}",
		     "0/1", "SchedulingGated", "0"));
}

static void test_pod_restarts(void)
{
	/* CrashLoopBackOff with 3 restarts, the last ended 2 minutes ago */
	CHECK(pod_is("{" SPEC1 ",\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{"
		     "\"name\":\"a\",\"restartCount\":3,\"state\":{\"waiting\":{\"reason\":"
		     "\"CrashLoopBackOff\"}},\"lastState\":{\"terminated\":{\"exitCode\":1,"
		     "\"finishedAt\":\"2027-01-15T07:58:00Z\"}}}]}}",
		     "0/1", "CrashLoopBackOff", "3 (2m ago)"));
	/* Completed, Error, signals and exit codes of terminated containers */
	CHECK(pod_is("{" SPEC1 ",\"status\":{\"phase\":\"Succeeded\",\"containerStatuses\":[{"
		     "\"name\":\"a\",\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":"
		     "\"Completed\"}}}]}}",
		     "0/1", "Completed", "0"));
	CHECK(
	    pod_is("{" SPEC1 ",\"status\":{\"phase\":\"Failed\",\"containerStatuses\":[{"
		   "\"name\":\"a\",\"state\":{\"terminated\":{\"exitCode\":137,\"signal\":9}}}]}}",
		   "0/1", "Signal:9", "0"));
	CHECK(pod_is("{" SPEC1 ",\"status\":{\"phase\":\"Failed\",\"containerStatuses\":[{"
		     "\"name\":\"a\",\"state\":{\"terminated\":{\"exitCode\":2}}}]}}",
		     "0/1", "ExitCode:2", "0"));
	/* one container Completed while another still runs: Running (Ready) or NotReady */
	const char *mixed =
	    "{" SPEC2 ",\"status\":{\"phase\":\"Running\",%s\"containerStatuses\":"
	    "[{\"name\":\"a\",\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":"
	    "\"Completed\"}}},{\"name\":\"b\",\"ready\":true,\"state\":{\"running\":"
	    "{}}}]}}";
	char buf[1024];
	snprintf(buf, sizeof(buf), mixed,
		 "\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}],");
	CHECK(pod_is(buf, "1/2", "Running", "0"));
	snprintf(buf, sizeof(buf), mixed, "");
	CHECK(pod_is(buf, "1/2", "NotReady", "0"));
	/* restarts of two containers add up; the later finish is shown */
	CHECK(pod_is("{" SPEC2 ",\"status\":{\"phase\":\"Running\",\"containerStatuses\":["
		     "{\"name\":\"a\",\"ready\":true,\"state\":{\"running\":{}},\"restartCount\":1,"
		     "\"lastState\":{\"terminated\":{\"finishedAt\":\"2027-01-15T06:00:00Z\"}}},"
		     "{\"name\":\"b\",\"ready\":true,\"state\":{\"running\":{}},\"restartCount\":2,"
		     "\"lastState\":{\"terminated\":{\"finishedAt\":\"2027-01-15T07:55:00Z\"}}}]}}",
		     "2/2", "Running", "3 (5m ago)"));
}

static void test_pod_init(void)
{
	const char *spec = "\"spec\":{\"initContainers\":[{\"name\":\"i1\"},{\"name\":\"i2\"}],"
			   "\"containers\":[{\"name\":\"a\"}]}";
	char buf[1024];
	/* the first init container done, the second running: Init:1/2 */
	snprintf(buf, sizeof(buf),
		 "{%s,\"status\":{\"phase\":\"Pending\",\"initContainerStatuses\":[{\"name\":"
		 "\"i1\",\"state\":{\"terminated\":{\"exitCode\":0}}},{\"name\":\"i2\",\"state\":"
		 "{\"running\":{}}}],\"containerStatuses\":[{\"name\":\"a\",\"state\":{\"waiting\":"
		 "{\"reason\":\"PodInitializing\"}}}]}}",
		 spec);
	CHECK(pod_is(buf, "0/1", "Init:1/2", "0"));
	/* an init container crash-looping */
	snprintf(
	    buf, sizeof(buf),
	    "{%s,\"status\":{\"phase\":\"Pending\",\"initContainerStatuses\":[{\"name\":"
	    "\"i1\",\"restartCount\":4,\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\"}"
	    "}}]}}",
	    spec);
	CHECK(pod_is(buf, "0/1", "Init:CrashLoopBackOff", "4"));
	/* an init container failed */
	snprintf(buf, sizeof(buf),
		 "{%s,\"status\":{\"phase\":\"Pending\",\"initContainerStatuses\":[{\"name\":"
		 "\"i1\",\"state\":{\"terminated\":{\"exitCode\":3}}}]}}",
		 spec);
	CHECK(pod_is(buf, "0/1", "Init:ExitCode:3", "0"));
	/* waiting on PodInitializing: Init:0/2 */
	snprintf(buf, sizeof(buf),
		 "{%s,\"status\":{\"phase\":\"Pending\",\"initContainerStatuses\":[{\"name\":"
		 "\"i1\",\"state\":{\"waiting\":{\"reason\":\"PodInitializing\"}}}]}}",
		 spec);
	CHECK(pod_is(buf, "0/1", "Init:0/2", "0"));
	/* a sidecar (restartPolicy Always) counts as a container */
	CHECK(
	    pod_is("{\"spec\":{\"initContainers\":[{\"name\":\"s\",\"restartPolicy\":\"Always\"}],"
		   "\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Running\","
		   "\"conditions\":[{\"type\":\"Initialized\",\"status\":\"True\"}],"
		   "\"initContainerStatuses\":[{\"name\":\"s\",\"started\":true,\"ready\":true,"
		   "\"state\":{\"running\":{}}}],\"containerStatuses\":[{\"name\":\"a\",\"ready\":"
		   "true,\"state\":{\"running\":{}}}]}}",
		   "2/2", "Running", "0"));
}

static void test_pod_terminating(void)
{
	CHECK(pod_is("{\"metadata\":{\"deletionTimestamp\":\"2027-01-15T07:59:00Z\"}," SPEC1
		     ",\"status\":{\"phase\":\"Running\",\"containerStatuses\":[{\"name\":\"a\","
		     "\"ready\":true,\"state\":{\"running\":{}}}]}}",
		     "1/1", "Terminating", "0"));
	CHECK(pod_is("{\"metadata\":{\"deletionTimestamp\":\"2027-01-15T07:59:00Z\"}," SPEC1
		     ",\"status\":{\"phase\":\"Running\",\"reason\":\"NodeLost\"}}",
		     "0/1", "Unknown", "0"));
	/* a finished pod being deleted keeps its status */
	CHECK(pod_is("{\"metadata\":{\"deletionTimestamp\":\"2027-01-15T07:59:00Z\"}," SPEC1
		     ",\"status\":{\"phase\":\"Succeeded\"}}",
		     "0/1", "Succeeded", "0"));
}

/* The cells of obj (kind k) as one compact JSON string. */
static char *cells_of(const struct kind_info *k, const char *obj)
{
	json_t *o = J(obj);
	json_t *row = table_row(k, o, TABLE_INCLUDE_NONE, NOW);
	char *s = json_dumps(json_object_get(row, "cells"), JSON_COMPACT);
	CHECK(json_object_get(row, "object") == NULL);
	json_decref(row);
	json_decref(o);
	return s;
}

static bool cells_are(const struct kind_info *k, const char *obj, const char *want)
{
	char *s = cells_of(k, obj);
	bool ok = s && !strcmp(s, want);
	if (!ok)
		fprintf(stderr, "  %s cells %s\n  want        %s\n", k->kind, s, want);
	free(s);
	return ok;
}

#define META(n) "\"metadata\":{\"name\":\"" n "\",\"creationTimestamp\":\"2027-01-15T07:55:00Z\"}"

static void test_kinds(void)
{
	CHECK(cells_are(
	    KIND_DEPLOYMENT,
	    "{" META("web") ",\"spec\":{\"replicas\":3,\"selector\":{\"matchLabels\":{"
			    "\"app\":\"web\"},\"matchExpressions\":[{\"key\":\"env\","
			    "\"operator\":\"In\",\"values\":[\"b\",\"a\"]}]},\"template\":"
			    "{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i:1\"},"
			    "{\"name\":\"d\",\"image\":\"j\"}]}}},\"status\":{"
			    "\"readyReplicas\":2,\"updatedReplicas\":3,"
			    "\"availableReplicas\":2}}",
	    "[\"web\",\"2/3\",3,2,\"5m\",\"c,d\",\"i:1,j\",\"app=web,env in (a,b)\"]"));
	CHECK(cells_are(KIND_REPLICASET,
			"{" META("web-1") ",\"spec\":{\"replicas\":2},\"status\":{\"replicas\":2}}",
			"[\"web-1\",2,2,0,\"5m\",\"\",\"\",\"<none>\"]"));
	CHECK(cells_are(KIND_SERVICE,
			"{" META("s") ",\"spec\":{\"clusterIP\":\"10.96.0.9\",\"ports\":[{\"port\":"
				      "80},{\"port\":53,\"protocol\":\"UDP\",\"nodePort\":30053}],"
				      "\"selector\":{\"b\":\"2\",\"a\":\"1\"}}}",
			"[\"s\",\"ClusterIP\",\"10.96.0.9\",\"<none>\",\"80/TCP,53:30053/UDP\","
			"\"5m\",\"a=1,b=2\"]"));
	CHECK(cells_are(KIND_SERVICE,
			"{" META("lb") ",\"spec\":{\"type\":\"LoadBalancer\",\"clusterIPs\":["
				       "\"10.96.0.2\"]}}",
			"[\"lb\",\"LoadBalancer\",\"10.96.0.2\",\"<pending>\",\"<none>\",\"5m\","
			"\"<none>\"]"));
	CHECK(cells_are(KIND_ENDPOINTS,
			"{" META("s") ",\"subsets\":[{\"addresses\":[{\"ip\":\"10.0.0.1\"},{\"ip\":"
				      "\"10.0.0.2\"}],\"ports\":[{\"port\":80},{\"port\":81}]}]}",
			"[\"s\",\"10.0.0.1:80,10.0.0.2:80,10.0.0.1:81 + 1 more...\",\"5m\"]"));
	CHECK(cells_are(KIND_ENDPOINTS, "{" META("e") "}", "[\"e\",\"<none>\",\"5m\"]"));
	CHECK(cells_are(KIND_CONFIGMAP, "{" META("c") ",\"data\":{\"a\":\"1\",\"b\":\"2\"}}",
			"[\"c\",2,\"5m\"]"));
	CHECK(cells_are(KIND_NAMESPACE, "{" META("default") ",\"status\":{\"phase\":\"Active\"}}",
			"[\"default\",\"Active\",\"5m\"]"));
	/* kubectl get hpa: NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE */
	CHECK(
	    cells_are(KIND_HPA,
		      "{" META("web") ",\"spec\":{\"scaleTargetRef\":{\"kind\":\"Deployment\","
				      "\"name\":\"web\"},\"minReplicas\":1,\"maxReplicas\":4,"
				      "\"metrics\":[{\"type\":\"Resource\",\"resource\":{\"name\":"
				      "\"cpu\",\"target\":{\"type\":\"Utilization\","
				      "\"averageUtilization\":50}}}]},\"status\":{"
				      "\"currentReplicas\":2,\"currentMetrics\":[{\"type\":"
				      "\"Resource\",\"resource\":{\"name\":\"cpu\",\"current\":{"
				      "\"averageUtilization\":250}}}]}}",
		      "[\"web\",\"Deployment/web\",\"cpu: 250%/50%\",\"1\",4,2,\"5m\"]"));
	CHECK(cells_are(KIND_HPA,
			"{" META("w") ",\"spec\":{\"scaleTargetRef\":{\"kind\":\"ReplicaSet\","
				      "\"name\":\"r\"},\"maxReplicas\":3}}",
			"[\"w\",\"ReplicaSet/r\",\"<none>\",\"<unset>\",3,0,\"5m\"]"));
}

static void test_node_event(void)
{
	CHECK(cells_are(
	    KIND_NODE,
	    "{\"metadata\":{\"name\":\"n1\",\"creationTimestamp\":\"2027-01-15T07:55:00Z\","
	    "\"labels\":{\"node-role.kubernetes.io/control-plane\":\"\",\"kubernetes.io/role\":"
	    "\"db\"}},\"spec\":{\"unschedulable\":true},\"status\":{\"conditions\":[{\"type\":"
	    "\"Ready\",\"status\":\"False\"}],\"addresses\":[{\"type\":\"InternalIP\",\"address\":"
	    "\"10.1.1.1\"}],\"nodeInfo\":{\"kubeletVersion\":\"v1.32.0\"}}}",
	    "[\"n1\",\"NotReady,SchedulingDisabled\",\"control-plane,db\",\"5m\",\"v1.32.0\","
	    "\"10.1.1.1\",\"<none>\",\"<unknown>\",\"<unknown>\",\"<unknown>\"]"));
	CHECK(cells_are(KIND_NODE, "{\"metadata\":{\"name\":\"n2\"}}",
			"[\"n2\",\"Unknown\",\"<none>\",\"<unknown>\",\"\",\"<none>\",\"<none>\","
			"\"<unknown>\",\"<unknown>\",\"<unknown>\"]"));
	CHECK(cells_are(KIND_EVENT,
			"{\"metadata\":{\"name\":\"p.1\"},\"type\":\"Warning\",\"reason\":"
			"\"BackOff\",\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"p\"},"
			"\"source\":{\"component\":\"kubelet\",\"host\":\"n1\"},\"message\":"
			"\" back-off \\n\",\"firstTimestamp\":\"2027-01-15T07:00:00Z\","
			"\"lastTimestamp\":\"2027-01-15T07:59:30Z\",\"count\":7}",
			"[\"30s\",\"Warning\",\"BackOff\",\"pod/p\",\"\",\"kubelet, n1\","
			"\"back-off\",\"60m\",7,\"p.1\"]"));
}

static void test_table_object(void)
{
	CHECK(table_accept("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as="
			   "Table;v=v1beta1;g=meta.k8s.io,application/json") != NULL);
	CHECK(!strcmp(table_accept("application/json;as=Table;v=v1;g=meta.k8s.io"), "v1"));
	CHECK(
	    !strcmp(table_accept("application/json;g=meta.k8s.io;v=v1beta1;as=Table"), "v1beta1"));
	CHECK(table_accept("application/json") == NULL && table_accept(NULL) == NULL);
	CHECK(table_accept("application/json;as=Table;v=v2;g=meta.k8s.io") == NULL);
	CHECK(table_include_parse(NULL) == TABLE_INCLUDE_METADATA);
	CHECK(table_include_parse("Object") == TABLE_INCLUDE_OBJECT);
	CHECK(table_include_parse("None") == TABLE_INCLUDE_NONE);

	json_t *pod = J("{\"metadata\":{\"name\":\"p\",\"managedFields\":[{}]},\"spec\":{}}");
	json_t *rows = json_array();
	json_array_append_new(rows, table_row(KIND_POD, pod, TABLE_INCLUDE_METADATA, NOW));
	json_array_append_new(rows, table_row(KIND_POD, pod, TABLE_INCLUDE_OBJECT, NOW));
	json_t *t = table_new("v1", KIND_POD, true, "42", rows);
	CHECK(!strcmp(json_string_value(json_object_get(t, "apiVersion")), "meta.k8s.io/v1"));
	CHECK(!strcmp(json_string_value(json_object_get(t, "kind")), "Table"));
	json_t *cols = json_object_get(t, "columnDefinitions");
	CHECK(json_array_size(cols) == 9);
	const char *names[] = {"Name", "Ready", "Status", "Restarts", "Age"};
	for (int i = 0; i < 5; i++)
		CHECK(!strcmp(
		    json_string_value(json_object_get(json_array_get(cols, (size_t)i), "name")),
		    names[i]));
	CHECK(json_integer_value(json_object_get(json_array_get(cols, 5), "priority")) == 1);
	json_t *o0 = json_object_get(json_array_get(rows, 0), "object");
	CHECK(!strcmp(json_string_value(json_object_get(o0, "kind")), "PartialObjectMetadata"));
	CHECK(!json_object_get(json_object_get(o0, "metadata"), "managedFields"));
	json_t *o1 = json_object_get(json_array_get(rows, 1), "object");
	CHECK(!strcmp(json_string_value(json_object_get(o1, "kind")), "Pod"));
	CHECK(json_object_get(o1, "spec") != NULL);
	json_decref(t);
	json_t *t2 = table_new("v1beta1", KIND_POD, false, NULL, json_array());
	CHECK(json_array_size(json_object_get(t2, "columnDefinitions")) == 0);
	json_decref(t2);
	json_decref(pod);
}

int main(void)
{
	RUN(test_duration);
	RUN(test_pod_basic);
	RUN(test_pod_restarts);
	RUN(test_pod_init);
	RUN(test_pod_terminating);
	RUN(test_kinds);
	RUN(test_node_event);
	RUN(test_table_object);
	return unit_done();
}
