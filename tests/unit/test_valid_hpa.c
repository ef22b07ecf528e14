/*
 * test_valid_hpa.c - the HorizontalPodAutoscaler kind (engine/valid/hpa.h,
 * valid_hpa.c): Kubernetes' defaults, its validation's refusals in its
 * words, autoscaling/v1 <-> v2 conversion (a round trip loses nothing),
 * the TARGETS cell, and the schema's knowledge of both versions.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/err.h"
#include "engine/kind.h"
#include "engine/mem.h"
#include "engine/valid/hpa.h"
#include "engine/valid/schema.h"
#include "engine/valid/valid.h"
#include "tests/unit/unit.h"

/* ' -> " */
static json_t *load(const char *text)
{
	char *s = xstrdup(text);
	for (char *p = s; *p; p++)
		*p = *p == '\'' ? '"' : *p;
	json_error_t je;
	json_t *j = json_loads(s, 0, &je);
	if (!j)
		fprintf(stderr, "  bad test JSON (%s, col %d)\n", je.text, je.column);
	free(s);
	return j;
}

#define V2_HEAD                                                                                    \
	"{'apiVersion':'autoscaling/"                                                              \
	"v2','kind':'HorizontalPodAutoscaler','metadata':{'name':'web'},"
#define REF "'scaleTargetRef':{'apiVersion':'apps/v1','kind':'Deployment','name':'web'}"

/* Defaults then validates; 0 or the error's message in msg. */
static int check(json_t *obj, char *msg, size_t n)
{
	struct err *e = NULL;
	valid_default(obj, KIND_HPA);
	int r = valid_object(obj, KIND_HPA, &e);
	snprintf(msg, n, "%s", e && e->msg ? e->msg : "");
	err_free(e);
	return r;
}

static const json_t *at(const json_t *o, const char *path)
{
	char key[64];
	while (o && *path) {
		size_t n = strcspn(path, ".");
		snprintf(key, sizeof(key), "%.*s", (int)n, path);
		if (key[0] >= '0' && key[0] <= '9')
			o = json_array_get(o, (size_t)atoi(key));
		else
			o = json_object_get(o, key);
		path += n + (path[n] == '.');
	}
	return o;
}

static json_int_t num(const json_t *o, const char *path)
{
	return json_integer_value(at(o, path));
}

static const char *str(const json_t *o, const char *path)
{
	const char *s = json_string_value(at(o, path));
	return s ? s : "";
}

static void test_defaults(void)
{
	char msg[512];
	json_t *o = load(V2_HEAD "'spec':{" REF ",'maxReplicas':10}}");
	CHECK(check(o, msg, sizeof(msg)) == 0);
	CHECK(num(o, "spec.minReplicas") == 1);
	CHECK(json_array_size(at(o, "spec.metrics")) == 1);
	CHECK(!strcmp(str(o, "spec.metrics.0.type"), "Resource"));
	CHECK(!strcmp(str(o, "spec.metrics.0.resource.name"), "cpu"));
	CHECK(!strcmp(str(o, "spec.metrics.0.resource.target.type"), "Utilization"));
	CHECK(num(o, "spec.metrics.0.resource.target.averageUtilization") == 80);
	CHECK(at(o, "spec.behavior") == NULL); /* only when there is one */
	json_decref(o);

	o = load(V2_HEAD "'spec':{" REF ",'maxReplicas':10,'behavior':{'scaleDown':{"
			 "'stabilizationWindowSeconds':5}}}}");
	CHECK(check(o, msg, sizeof(msg)) == 0);
	CHECK(num(o, "spec.behavior.scaleUp.stabilizationWindowSeconds") == 0);
	CHECK(!strcmp(str(o, "spec.behavior.scaleUp.selectPolicy"), "Max"));
	CHECK(json_array_size(at(o, "spec.behavior.scaleUp.policies")) == 2);
	CHECK(!strcmp(str(o, "spec.behavior.scaleUp.policies.0.type"), "Pods"));
	CHECK(num(o, "spec.behavior.scaleUp.policies.0.value") == 4);
	CHECK(num(o, "spec.behavior.scaleUp.policies.0.periodSeconds") == 15);
	CHECK(!strcmp(str(o, "spec.behavior.scaleUp.policies.1.type"), "Percent"));
	CHECK(num(o, "spec.behavior.scaleUp.policies.1.value") == 100);
	CHECK(num(o, "spec.behavior.scaleDown.stabilizationWindowSeconds") == 5);
	CHECK(!strcmp(str(o, "spec.behavior.scaleDown.selectPolicy"), "Max"));
	CHECK(json_array_size(at(o, "spec.behavior.scaleDown.policies")) == 1);
	CHECK(!strcmp(str(o, "spec.behavior.scaleDown.policies.0.type"), "Percent"));
	CHECK(num(o, "spec.behavior.scaleDown.policies.0.value") == 100);
	json_decref(o);
}

/* Bad specs and the words Kubernetes refuses them with. */
static void test_refusals(void)
{
	static const char *const cases[][2] = {
	    {"'minReplicas':0,'maxReplicas':3",
	     "spec.minReplicas: Invalid value: 0: must be greater than or equal to 1"},
	    {"'maxReplicas':0", "spec.maxReplicas: Invalid value: 0: must be greater than 0"},
	    {"'minReplicas':5,'maxReplicas':3",
	     "spec.maxReplicas: Invalid value: 3: must be greater than or equal to `minReplicas`"},
	    {"'minReplicas':1", "spec.maxReplicas: Required value"},
	    {"'maxReplicas':3,'metrics':[{'type':'Resource','resource':{'name':'cpu','target':{"
	     "'type':'Utilization','averageUtilization':0}}}]",
	     "spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be "
	     "greater than 0"},
	    {"'maxReplicas':3,'metrics':[{'type':'Pods','pods':{'metric':{'name':'qps'},"
	     "'target':{'type':'Utilization','averageUtilization':50}}}]",
	     "spec.metrics[0].pods.target.type: Unsupported value: \"Utilization\""},
	    {"'maxReplicas':3,'metrics':[{'type':'Resource'}]",
	     "spec.metrics[0].resource: Required value: must populate information for the given "
	     "metric source"},
	    {"'maxReplicas':3,'metrics':[{'type':'Bogus'}]",
	     "spec.metrics[0].type: Unsupported value: \"Bogus\""},
	    {"'maxReplicas':3,'behavior':{'scaleUp':{'policies':[{'type':'Pods','value':0,"
	     "'periodSeconds':15}]}}",
	     "spec.behavior.scaleUp.policies[0].value: Invalid value: 0: must be greater than "
	     "zero"},
	    {"'maxReplicas':3,'behavior':{'scaleUp':{'policies':[{'type':'Pods','value':1,"
	     "'periodSeconds':1801}]}}",
	     "spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 1801: must be less "
	     "than or equal to 1800"},
	    {"'maxReplicas':3,'behavior':{'scaleDown':{'stabilizationWindowSeconds':3601}}",
	     "spec.behavior.scaleDown.stabilizationWindowSeconds: Invalid value: 3601: must be "
	     "less than or equal to 3600"},
	    {"'maxReplicas':3,'behavior':{'scaleDown':{'selectPolicy':'Most'}}",
	     "spec.behavior.scaleDown.selectPolicy: Unsupported value: \"Most\""},
	    {"'maxReplicas':3,'behavior':{'scaleDown':{'policies':[]}}",
	     "spec.behavior.scaleDown.policies: Required value: must specify at least one Policy"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[1024], msg[512];
		bool has_ref = strstr(cases[i][0], "scaleTargetRef") != NULL;
		snprintf(text, sizeof(text), V2_HEAD "'spec':{%s%s%s}}", has_ref ? "" : REF,
			 has_ref ? "" : ",", cases[i][0]);
		json_t *o = load(text);
		int r = check(o, msg, sizeof(msg));
		bool ok = r == -EINVAL && strstr(msg, cases[i][1]);
		if (!ok)
			fprintf(stderr, "  case %zu: got %d \"%s\"\n", i, r, msg);
		CHECK(ok);
		json_decref(o);
	}
	/* scaleTargetRef's kind and name are required. */
	char msg[512];
	json_t *o = load(V2_HEAD "'spec':{'scaleTargetRef':{'name':'web'},'maxReplicas':3}}");
	CHECK(check(o, msg, sizeof(msg)) == -EINVAL);
	CHECK(strstr(msg, "spec.scaleTargetRef.kind: Required value") != NULL);
	json_decref(o);
}

/* A v1 object is stored as v2; shown as v1 again, it is what was written. */
static void test_v1_to_v2(void)
{
	char msg[512];
	json_t *o = load("{'apiVersion':'autoscaling/v1','kind':'HorizontalPodAutoscaler',"
			 "'metadata':{'name':'web'},'spec':{" REF ",'minReplicas':2,'maxReplicas':"
			 "5,'targetCPUUtilizationPercentage':50}}");
	CHECK(check(o, msg, sizeof(msg)) == 0);
	CHECK(!strcmp(str(o, "apiVersion"), "autoscaling/v2"));
	CHECK(at(o, "spec.targetCPUUtilizationPercentage") == NULL);
	CHECK(json_array_size(at(o, "spec.metrics")) == 1);
	CHECK(num(o, "spec.metrics.0.resource.target.averageUtilization") == 50);
	json_t *v1 = hpa_to_v1(o);
	CHECK(!strcmp(str(v1, "apiVersion"), "autoscaling/v1"));
	CHECK(num(v1, "spec.targetCPUUtilizationPercentage") == 50);
	CHECK(at(v1, "spec.metrics") == NULL);
	CHECK(at(v1, "metadata.annotations") == NULL);
	json_decref(v1);
	json_decref(o);
	/* Without a target: the v2 default, 80%. */
	o = load("{'apiVersion':'autoscaling/v1','kind':'HorizontalPodAutoscaler','metadata':"
		 "{'name':'web'},'spec':{" REF ",'maxReplicas':5}}");
	CHECK(check(o, msg, sizeof(msg)) == 0);
	CHECK(num(o, "spec.metrics.0.resource.target.averageUtilization") == 80);
	json_decref(o);
}

/* What v1 cannot say goes into annotations and comes back whole. */
static void test_round_trip(void)
{
	json_t *o =
	    load(V2_HEAD
		 "'spec':{" REF ",'minReplicas':1,'maxReplicas':9,'metrics':[{'type':"
		 "'Resource','resource':{'name':'memory','target':{'type':'AverageValue',"
		 "'averageValue':'100Mi'}}},{'type':'Resource','resource':{'name':'cpu','target':"
		 "{'type':'Utilization','averageUtilization':60}}}],'behavior':{'scaleDown':{"
		 "'stabilizationWindowSeconds':10,'selectPolicy':'Max','policies':[{'type':"
		 "'Percent','value':100,'periodSeconds':15}]}}},'status':{'currentReplicas':2,"
		 "'desiredReplicas':3,'currentMetrics':[{'type':'Resource','resource':{'name':"
		 "'cpu','current':{'averageUtilization':120,'averageValue':'120m'}}},{'type':"
		 "'Resource','resource':{'name':'memory','current':{'averageValue':'50Mi'}}}],"
		 "'conditions':[{'type':'AbleToScale','status':'True','reason':"
		 "'SucceededRescale'}]}}");
	json_t *v1 = hpa_to_v1(o);
	CHECK(num(v1, "spec.targetCPUUtilizationPercentage") == 60);
	CHECK(num(v1, "status.currentCPUUtilizationPercentage") == 120);
	CHECK(num(v1, "status.desiredReplicas") == 3);
	const json_t *ann = at(v1, "metadata.annotations");
	CHECK(json_object_get(ann, HPA_ANN_METRICS) && json_object_get(ann, HPA_ANN_BEHAVIOR) &&
	      json_object_get(ann, HPA_ANN_CURRENT) && json_object_get(ann, HPA_ANN_CONDITIONS));
	CHECK(at(v1, "status.conditions") == NULL && at(v1, "spec.behavior") == NULL);
	hpa_to_v2(v1);
	CHECK(at(v1, "metadata.annotations") == NULL);
	/* The order of metrics: the CPU one first after a round trip. */
	CHECK(!strcmp(str(v1, "spec.metrics.0.resource.name"), "cpu"));
	CHECK(!strcmp(str(v1, "spec.metrics.1.resource.name"), "memory"));
	CHECK(json_equal(at(v1, "spec.behavior"), at(o, "spec.behavior")));
	CHECK(json_equal(at(v1, "status.conditions"), at(o, "status.conditions")));
	/* every current metric, the CPU one's raw value too */
	CHECK(json_equal(at(v1, "status.currentMetrics"), at(o, "status.currentMetrics")));
	CHECK(json_equal(at(v1, "spec.scaleTargetRef"), at(o, "spec.scaleTargetRef")));
	json_decref(v1);
	json_decref(o);
}

static void test_targets(void)
{
	json_t *o = load(V2_HEAD "'spec':{" REF ",'maxReplicas':3,'metrics':[{'type':'Resource',"
				 "'resource':{'name':'cpu','target':{'type':'Utilization',"
				 "'averageUtilization':50}}}]}}");
	char *t = hpa_targets(o);
	CHECK(!strcmp(t, "cpu: <unknown>/50%"));
	free(t);
	json_object_set_new(o, "status",
			    load("{'currentMetrics':[{'type':'Resource','resource':{'name':'cpu',"
				 "'current':{'averageUtilization':250,'averageValue':'250m'}}}]}"));
	t = hpa_targets(o);
	CHECK(!strcmp(t, "cpu: 250%/50%"));
	free(t);
	json_array_append_new(json_object_get(json_object_get(o, "spec"), "metrics"),
			      load("{'type':'Resource','resource':{'name':'memory','target':{"
				   "'type':'AverageValue','averageValue':'100Mi'}}}"));
	json_array_append_new(json_object_get(json_object_get(o, "spec"), "metrics"),
			      load("{'type':'Pods','pods':{'metric':{'name':'qps'},'target':{"
				   "'type':'AverageValue','averageValue':'10'}}}"));
	t = hpa_targets(o);
	CHECK(!strcmp(t, "cpu: 250%/50%, memory: <unknown>/100Mi + 1 more..."));
	free(t);
	json_array_append_new(json_object_get(json_object_get(o, "status"), "currentMetrics"),
			      load("{'type':'Resource','resource':{'name':'memory','current':{"
				   "'averageValue':'50Mi'}}}"));
	t = hpa_targets(o);
	CHECK(!strcmp(t, "cpu: 250%/50%, memory: 50Mi/100Mi + 1 more..."));
	free(t);
	json_decref(o);
	o = load(V2_HEAD "'spec':{" REF ",'maxReplicas':3,'metrics':[{'type':'Pods','pods':{"
			 "'metric':{'name':'qps'},'target':{'type':'AverageValue','averageValue':"
			 "'10'}}},{'type':'External','external':{'metric':{'name':'q'},'target':{"
			 "'type':'AverageValue','averageValue':'30'}}}]}}");
	t = hpa_targets(o);
	CHECK(!strcmp(t, "<unknown>/10, <unknown>/30 (avg)"));
	free(t);
	json_decref(o);
}

static void test_schema(void)
{
	CHECK(schema_for_kind(KIND_HPA, false) ==
	      schema_def("io.k8s.api.autoscaling.v2.HorizontalPodAutoscaler"));
	CHECK(schema_for_kind(KIND_HPA, true) != NULL);
	CHECK(schema_by_gvk("autoscaling", "v1", "HorizontalPodAutoscaler") != NULL);
	CHECK(hpa_alt_version(KIND_HPA, "autoscaling/v1"));
	CHECK(!hpa_alt_version(KIND_HPA, "autoscaling/v2"));
	CHECK(!hpa_alt_version(KIND_DEPLOYMENT, "autoscaling/v1"));
	/* A v1 body's fields are known in v1's schema, unknown in v2's. */
	json_t *o = load("{'apiVersion':'autoscaling/v1','kind':'HorizontalPodAutoscaler',"
			 "'metadata':{'name':'web'},'spec':{" REF ",'maxReplicas':5,"
			 "'targetCPUUtilizationPercentage':50,'bogus':1}}");
	char *paths[2] = {NULL, NULL};
	CHECK(schema_unknown_fields(o, KIND_HPA, paths, 2) == 1);
	CHECK(paths[0] && !strcmp(paths[0], "spec.bogus"));
	free(paths[0]);
	free(paths[1]);
	json_decref(o);
}

int main(void)
{
	RUN(test_defaults);
	RUN(test_refusals);
	RUN(test_v1_to_v2);
	RUN(test_round_trip);
	RUN(test_targets);
	RUN(test_schema);
	return unit_done();
}
