/*
 * test_valid.c - validation and defaulting (engine/valid.c, valid_pod.c).
 *
 * Most tests are tables: a kind, a JSON merge patch applied to a small
 * valid object of that kind (null deletes a key), and the message expected
 * (NULL: accepted).  Each object is defaulted, then validated, as the API
 * layer does.  To keep the JSON readable it is written with ' for " and
 * ` for '.  The kind may name a part to patch instead of the whole object:
 *   Pod.spec, Pod.ctr (spec.containers[0]), Deployment.spec,
 *   Deployment.tmpl (spec.template.spec), Deployment.ctr (its containers[0]).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mem.h"
#include "engine/valid.h"
#include "tests/unit/unit.h"

static const char *const bases[][2] = {
    {"Deployment", "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},"
		   "'spec':{'selector':{'matchLabels':{'app':'web'}},'template':{'metadata':"
		   "{'labels':{'app':'web'}},'spec':{'containers':[{'name':'web',"
		   "'image':'nginx:1.25'}]}}}}"},
    {"ReplicaSet", "{'apiVersion':'apps/v1','kind':'ReplicaSet','metadata':{'name':'web-1'},"
		   "'spec':{'selector':{'matchLabels':{'app':'web'}},'template':{'metadata':"
		   "{'labels':{'app':'web'}},'spec':{'containers':[{'name':'web',"
		   "'image':'nginx:1.25'}]}}}}"},
    {"Pod", "{'apiVersion':'v1','kind':'Pod','metadata':{'name':'p'},"
	    "'spec':{'containers':[{'name':'c','image':'busybox:1.36'}]}}"},
    {"Service", "{'apiVersion':'v1','kind':'Service','metadata':{'name':'web'},"
		"'spec':{'selector':{'app':'web'},'ports':[{'port':80}]}}"},
    {"ConfigMap", "{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'cfg'},"
		  "'data':{'a':'b'}}"},
    {"Node", "{'apiVersion':'v1','kind':'Node','metadata':{'name':'node1'}}"},
    {"Namespace", "{'apiVersion':'v1','kind':'Namespace','metadata':{'name':'dev'}}"},
    {"Event", "{'apiVersion':'v1','kind':'Event','metadata':{'name':'p.1','namespace':"
	      "'default'},'involvedObject':{'kind':'Pod','name':'p'},'reason':'Started',"
	      "'message':'Started container c','type':'Normal'}"},
};

/* ' -> " and ` -> ' */
static json_t *load(const char *text)
{
	_cleanup_free_ char *s = xstrdup(text);
	json_error_t je;

	for (char *p = s; *p; p++)
		*p = *p == '\'' ? '"' : *p == '`' ? '\'' : *p;
	json_t *j = json_loads(s, JSON_DECODE_ANY, &je);
	if (!j)
		fprintf(stderr, "  bad test JSON (%s): %s\n", je.text, s);
	return j;
}

/* RFC 7386 merge patch. */
static void merge(json_t *dst, json_t *patch)
{
	const char *k;
	json_t *v;

	json_object_foreach(patch, k, v)
	{
		json_t *d = json_object_get(dst, k);

		if (json_is_null(v))
			json_object_del(dst, k);
		else if (json_is_object(v) && json_is_object(d))
			merge(d, v);
		else
			json_object_set(dst, k, v);
	}
}

/* The base object of kind "Kind[.part]" with patch applied; *k gets the kind. */
static json_t *build(const char *what, const char *patch, const struct kind_info **k)
{
	char kind[32];
	const char *dot = strchr(what, '.');
	size_t n = dot ? (size_t)(dot - what) : strlen(what);
	json_t *obj = NULL, *p, *at;

	snprintf(kind, sizeof(kind), "%.*s", (int)n, what);
	*k = kind_by_kind(kind);
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++)
		if (!strcmp(bases[i][0], kind))
			obj = load(bases[i][1]);
	if (!obj || !*k)
		return NULL;
	p = load(patch);
	at = obj;
	if (dot && !strcmp(dot, ".spec"))
		at = json_object_get(obj, "spec");
	json_t *pod = json_object_get(obj, "spec");
	if (!strcmp(kind, "Deployment") || !strcmp(kind, "ReplicaSet"))
		pod = json_object_get(json_object_get(pod, "template"), "spec");
	if (dot && !strcmp(dot, ".tmpl"))
		at = pod;
	if (dot && !strcmp(dot, ".ctr"))
		at = json_array_get(json_object_get(pod, "containers"), 0);
	if (!p || !at) {
		json_decref(p);
		json_decref(obj);
		return NULL;
	}
	merge(at, p);
	json_decref(p);
	return obj;
}

struct vcase {
	const char *what;  /* "Pod.ctr" */
	const char *patch; /* merge patch, ' for " */
	const char *want;  /* expected message part, or NULL: accepted */
};

/* Builds, defaults, validates; prints the case and whether it went as expected. */
static bool run_case(const struct vcase *t)
{
	const struct kind_info *k;
	_cleanup_err_ struct err *e = NULL;
	json_t *obj = build(t->what, t->patch, &k);
	bool pass;
	int r = -1;

	if (obj) {
		valid_default(obj, k);
		r = valid_object(obj, k, &e);
	}
	if (!t->want)
		pass = obj && r == 0;
	else
		pass = obj && r == -EINVAL && e && strstr(e->msg, t->want);
	printf("  %s %-15s %.60s%s -> %s\n", pass ? "ok  " : "FAIL", t->what, t->patch,
	       strlen(t->patch) > 60 ? "..." : "", t->want ? t->want : "accepted");
	if (!pass)
		fprintf(stderr, "    got %d: %s\n", r, e ? e->msg : "(no message)");
	json_decref(obj);
	return pass;
}

#define RUN_TABLE(tab)                                                                             \
	do {                                                                                       \
		for (size_t i_ = 0; i_ < sizeof(tab) / sizeof(tab[0]); i_++)                       \
			CHECK(run_case(&tab[i_]));                                                 \
	} while (0)

/* --- name and label rules ------------------------------------------------- */

static bool name_ok(const char *s, enum kind_name_rule rule, const char *want)
{
	_cleanup_err_ struct err *e = NULL;
	int r = valid_name(s, rule, &e);
	bool pass = want ? r == -EINVAL && e && strstr(e->msg, want) : r == 0;

	printf("  %s name %.40s -> %s\n", pass ? "ok  " : "FAIL", s, want ? want : "accepted");
	if (!pass)
		fprintf(stderr, "    got %d: %s\n", r, e ? e->msg : "");
	return pass;
}

static void test_name_rules(void)
{
	char long254[255], long64[65];

	memset(long254, 'a', 254);
	long254[254] = '\0';
	memset(long64, 'a', 64);
	long64[64] = '\0';

	CHECK(name_ok("web", NAME_DNS1123_SUBDOMAIN, NULL));
	CHECK(name_ok("web-1.example.com", NAME_DNS1123_SUBDOMAIN, NULL));
	CHECK(name_ok("0web", NAME_DNS1123_SUBDOMAIN, NULL));
	CHECK(name_ok("Bad_Name", NAME_DNS1123_SUBDOMAIN,
		      "Invalid value: \"Bad_Name\": a lowercase RFC 1123 subdomain must consist of "
		      "lower case alphanumeric characters, '-' or '.', and must start and end with "
		      "an alphanumeric character"));
	CHECK(name_ok(long254, NAME_DNS1123_SUBDOMAIN, "must be no more than 253 characters"));
	CHECK(name_ok(long254 + 1, NAME_DNS1123_SUBDOMAIN, NULL));
	CHECK(name_ok(".", NAME_DNS1123_SUBDOMAIN, "may not be '.'"));
	CHECK(name_ok("..", NAME_DNS1123_SUBDOMAIN, "may not be '..'"));
	CHECK(name_ok("a/b", NAME_DNS1123_SUBDOMAIN, "may not contain '/'"));
	CHECK(name_ok("-web", NAME_DNS1123_SUBDOMAIN, "RFC 1123 subdomain"));
	CHECK(name_ok("web.", NAME_DNS1123_SUBDOMAIN, "RFC 1123 subdomain"));
	CHECK(name_ok("a..b", NAME_DNS1123_SUBDOMAIN, "RFC 1123 subdomain"));
	CHECK(name_ok("a.-b", NAME_DNS1123_SUBDOMAIN, "RFC 1123 subdomain"));
	CHECK(name_ok("", NAME_DNS1123_SUBDOMAIN, "Required value"));
	CHECK(name_ok("web-1", NAME_DNS1123_LABEL, NULL));
	CHECK(name_ok("web.1", NAME_DNS1123_LABEL, "a lowercase RFC 1123 label must consist"));
	CHECK(name_ok(long64, NAME_DNS1123_LABEL, "must be no more than 63 characters"));
	CHECK(name_ok(long64 + 1, NAME_DNS1123_LABEL, NULL));
	CHECK(name_ok("web", NAME_DNS1035_LABEL, NULL));
	CHECK(name_ok("1web", NAME_DNS1035_LABEL, "a DNS-1035 label must consist"));
	CHECK(name_ok("web-", NAME_DNS1035_LABEL, "a DNS-1035 label must consist"));
}

static bool label_ok(bool key, const char *s, const char *want)
{
	_cleanup_err_ struct err *e = NULL;
	int r = key ? valid_label_key(s, &e) : valid_label_value(s, &e);
	bool pass = want ? r == -EINVAL && e && strstr(e->msg, want) : r == 0;

	printf("  %s label %s %.50s -> %s\n", pass ? "ok  " : "FAIL", key ? "key" : "value", s,
	       want ? want : "accepted");
	if (!pass)
		fprintf(stderr, "    got %d: %s\n", r, e ? e->msg : "");
	return pass;
}

static void test_label_rules(void)
{
	char long64[65];

	memset(long64, 'a', 64);
	long64[64] = '\0';
	CHECK(label_ok(true, "app", NULL));
	CHECK(label_ok(true, "app.kubernetes.io/name", NULL));
	CHECK(label_ok(true, "My_App.v2", NULL));
	CHECK(label_ok(true, "", "name part must be non-empty"));
	CHECK(label_ok(true, "/app", "prefix part must be non-empty"));
	CHECK(label_ok(true, "a/b/c", "a qualified name must consist"));
	CHECK(label_ok(true, "Example.com/app", "prefix part a lowercase RFC 1123 subdomain"));
	CHECK(label_ok(true, "example.com/", "name part must be non-empty"));
	CHECK(label_ok(true, "-app", "name part must consist of alphanumeric characters"));
	CHECK(label_ok(true, "bad key", "name part must consist"));
	CHECK(label_ok(true, long64, "name part must be no more than 63 characters"));
	CHECK(label_ok(false, "", NULL));
	CHECK(label_ok(false, "v1.2_rc-3", NULL));
	CHECK(label_ok(false, "bad value", "a valid label must be an empty string or consist"));
	CHECK(label_ok(false, "x-", "a valid label must be"));
	CHECK(label_ok(false, long64, "must be no more than 63 characters"));
}

/* --- metadata ------------------------------------------------------------- */

static const struct vcase meta_cases[] = {
    {"Deployment", "{}", NULL},
    {"Deployment", "{'apiVersion':'apps/v2'}",
     "Deployment \"web\": unknown apiVersion \"apps/v2\" for Deployment (want apps/v1)"},
    {"Deployment", "{'apiVersion':'extensions/v1beta1'}", "unknown apiVersion"},
    {"Pod", "{'apiVersion':'apps/v1'}", "unknown apiVersion \"apps/v1\" for Pod (want v1)"},
    {"Deployment", "{'apiVersion':null}", "apiVersion: Required value"},
    {"Deployment", "{'kind':'Pod'}", "kind \"Pod\" does not match Deployment"},
    {"Deployment", "{'metadata':'web'}", "metadata: Invalid value: \"web\": must be a mapping"},
    {"Deployment", "{'metadata':{'name':null}}", "Deployment: metadata.name: Required value"},
    {"Deployment", "{'metadata':null}", "metadata.name: Required value"},
    {"Deployment", "{'metadata':{'name':''}}", "metadata.name: Required value"},
    {"Deployment", "{'metadata':{'name':5}}", "metadata.name: Invalid value: 5: must be a string"},
    {"Deployment", "{'metadata':{'name':'Bad_Name'}}",
     "Deployment \"Bad_Name\": metadata.name: Invalid value: \"Bad_Name\": a lowercase RFC "
     "1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
     "start and end with an alphanumeric character"},
    {"Deployment", "{'metadata':{'name':'..'}}",
     "metadata.name: Invalid value: \"..\": may not be '..'"},
    {"Pod", "{'metadata':{'name':'.'}}", "may not be '.'"},
    {"ConfigMap", "{'metadata':{'name':'a/b'}}", "may not contain '/'"},
    {"Deployment", "{'metadata':{'name':'web.v2'}}", NULL},
    {"Service", "{'metadata':{'name':'1web'}}", "a DNS-1035 label must consist"},
    {"Service", "{'metadata':{'name':'web.v2'}}", "a DNS-1035 label"},
    {"Namespace", "{'metadata':{'name':'a.b'}}", "a lowercase RFC 1123 label must consist"},
    {"Deployment", "{'metadata':{'namespace':'dev'}}", NULL},
    {"Deployment", "{'metadata':{'namespace':''}}", NULL},
    {"Deployment", "{'metadata':{'namespace':'Dev'}}",
     "metadata.namespace: Invalid value: \"Dev\": a lowercase RFC 1123 label"},
    {"Node", "{'metadata':{'namespace':'default'}}",
     "metadata.namespace: Forbidden: not allowed on this type"},
    {"Namespace", "{'metadata':{'namespace':''}}", NULL},
    {"Deployment", "{'metadata':{'labels':{'app':'web','tier':'','example.com/x':'y'}}}", NULL},
    {"Deployment", "{'metadata':{'labels':{'version':1}}}",
     "metadata.labels[version]: Invalid value: 1: must be a string"},
    {"Deployment", "{'metadata':{'labels':{'bad key':'x'}}}",
     "metadata.labels: Invalid value: \"bad key\": name part must consist"},
    {"Deployment", "{'metadata':{'labels':{'app':'not ok'}}}",
     "metadata.labels: Invalid value: \"not ok\": a valid label must be"},
    {"Deployment", "{'metadata':{'labels':['app']}}",
     "metadata.labels: Invalid value: [\"app\"]: must be a mapping"},
    {"Deployment", "{'metadata':{'annotations':{'Example.com/Note':'any text at all: ok!'}}}",
     NULL},
    {"Deployment", "{'metadata':{'annotations':{'a b':'x'}}}",
     "metadata.annotations: Invalid value: \"a b\""},
    {"Deployment", "{'metadata':{'annotations':{'n':3}}}",
     "metadata.annotations[n]: Invalid value: 3: must be a string"},
    {"Pod",
     "{'metadata':{'ownerReferences':[{'apiVersion':'apps/v1','kind':'ReplicaSet',"
     "'name':'web-1','uid':'u-1','controller':true}]}}",
     NULL},
    {"Pod",
     "{'metadata':{'ownerReferences':[{'apiVersion':'apps/v1','kind':'ReplicaSet',"
     "'name':'web-1'}]}}",
     "metadata.ownerReferences[0].uid: Required value"},
    {"Pod",
     "{'metadata':{'ownerReferences':[{'apiVersion':'apps/v1','kind':'ReplicaSet',"
     "'name':'web-1','uid':7}]}}",
     "metadata.ownerReferences[0].uid: Invalid value: 7: must be a string"},
    {"Pod",
     "{'metadata':{'ownerReferences':[{'apiVersion':'v1','kind':'A','name':'a',"
     "'uid':'1','controller':true},{'apiVersion':'v1','kind':'B','name':'b','uid':'2',"
     "'controller':true}]}}",
     "only one reference can have controller set to true"},
    {"Pod", "{'metadata':{'ownerReferences':{'name':'x'}}}",
     "metadata.ownerReferences: Invalid value: {\"name\":\"x\"}: must be a list"},
};

static void test_metadata(void)
{
	RUN_TABLE(meta_cases);
}

/* Annotations and ConfigMaps have total size limits. */
static void test_size_limits(void)
{
	const struct kind_info *k = kind_by_kind("Deployment");
	_cleanup_err_ struct err *e = NULL;
	json_t *obj = build("Deployment", "{}", &k);
	size_t n = 256 * 1024;
	char *big = xmalloc(n + 1);

	memset(big, 'x', n);
	big[n] = '\0';
	json_object_set_new(json_object_get(obj, "metadata"), "annotations",
			    json_pack("{ss}", "a", big));
	CHECK(valid_object(obj, k, &e) == -EINVAL && e &&
	      strstr(e->msg, "metadata.annotations: Too long: must have at most 262144 bytes"));
	printf("  annotations of 256 KiB + 1 byte refused: %s\n", e ? e->msg : "(accepted)");
	big[n - 2] = '\0'; /* "a" + value = 262143 bytes */
	json_object_set_new(json_object_get(obj, "metadata"), "annotations",
			    json_pack("{ss}", "a", big));
	CHECK(valid_object(obj, k, &e) == 0);
	json_decref(obj);

	k = kind_by_kind("ConfigMap");
	obj = build("ConfigMap", "{}", &k);
	char *mib = xmalloc(1024 * 1024 + 2);
	memset(mib, 'y', 1024 * 1024 + 1);
	mib[1024 * 1024 + 1] = '\0';
	json_object_set_new(obj, "data", json_pack("{ss}", "k", mib));
	CHECK(valid_object(obj, k, &e) == -EINVAL && e &&
	      strstr(e->msg, "data: Too long: must have at most 1048576 bytes"));
	printf("  ConfigMap data of 1 MiB + 1 byte refused: %s\n", e ? e->msg : "(accepted)");
	mib[1024 * 1024] = '\0';
	json_object_set_new(obj, "data", json_pack("{ss}", "k", mib));
	CHECK(valid_object(obj, k, &e) == 0);
	printf("  ConfigMap data of exactly 1 MiB accepted\n");
	json_decref(obj);
	free(mib);
	free(big);
}

/* --- Deployment and ReplicaSet -------------------------------------------- */

static const struct vcase deployment_cases[] = {
    {"Deployment", "{'spec':null}", "Deployment \"web\": spec: Required value"},
    {"Deployment", "{'spec':[]}", "spec: Invalid value: []: must be a mapping"},
    {"Deployment.spec", "{'replicas':0}", NULL},
    {"Deployment.spec", "{'replicas':3}", NULL},
    {"Deployment.spec", "{'replicas':-1}",
     "Deployment \"web\": spec.replicas: Invalid value: -1: must be greater than or equal to 0"},
    {"Deployment.spec", "{'replicas':'3'}",
     "spec.replicas: Invalid value: \"3\": must be an integer"},
    {"Deployment.spec", "{'replicas':3.5}",
     "spec.replicas: Invalid value: 3.5: must be an integer"},
    {"Deployment.spec", "{'replicas':true}",
     "spec.replicas: Invalid value: true: must be an integer"},
    {"Deployment.spec", "{'replicas':2147483648}",
     "spec.replicas: Invalid value: 2147483648: must be less than or equal to 2147483647"},
    {"Deployment.spec", "{'selector':null}", "spec.selector: Required value"},
    {"Deployment.spec", "{'selector':{'matchLabels':null}}",
     "spec.selector: Invalid value: {}: empty selector is invalid for deployment"},
    {"Deployment.spec", "{'selector':{'matchLabels':null,'matchExpressions':[]}}",
     "empty selector is invalid"},
    {"Deployment.spec",
     "{'selector':{'matchLabels':null,'matchExpressions':[{'key':'app',"
     "'operator':'In','values':['web','api']}]}}",
     NULL},
    {"Deployment.spec",
     "{'selector':{'matchExpressions':[{'key':'tier','operator':'DoesNotExist'}]}}", NULL},
    {"Deployment.spec", "{'selector':{'matchExpressions':[{'key':'app','operator':'Exists'}]}}",
     NULL},
    {"Deployment.spec", "{'selector':{'matchExpressions':[{'key':'app','operator':'Foo'}]}}",
     "spec.selector.matchExpressions[0].operator: Unsupported value: \"Foo\": supported values: "
     "\"In\", \"NotIn\", \"Exists\", \"DoesNotExist\""},
    {"Deployment.spec", "{'selector':{'matchExpressions':[{'key':'app','operator':'In'}]}}",
     "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` "
     "is 'In' or 'NotIn'"},
    {"Deployment.spec",
     "{'selector':{'matchExpressions':[{'key':'app','operator':'Exists','values':['x']}]}}",
     "spec.selector.matchExpressions[0].values: Forbidden: may not be specified when `operator` is "
     "'Exists' or 'DoesNotExist'"},
    {"Deployment.spec",
     "{'selector':{'matchExpressions':[{'key':'app','operator':'In','values':['a b']}]}}",
     "spec.selector.matchExpressions[0].values[0]: Invalid value: \"a b\""},
    {"Deployment.spec", "{'selector':{'matchExpressions':[{'operator':'Exists'}]}}",
     "spec.selector.matchExpressions[0].key: Required value"},
    {"Deployment.spec",
     "{'selector':{'matchExpressions':[{'key':'app','operator':'NotIn','values':['web']}]}}",
     "selector does not match template labels"},
    {"Deployment.spec",
     "{'selector':{'matchExpressions':[{'key':'app','operator':'DoesNotExist'}]}}",
     "selector does not match template labels"},
    {"Deployment.spec", "{'selector':{'matchLabels':{'app':'web','tier':'x'}}}",
     "selector does not match template labels"},
    {"Deployment.spec", "{'template':{'metadata':{'labels':{'app':'api'}}}}",
     "spec.template.metadata.labels: Invalid value: {\"app\":\"api\"}: selector does not match "
     "template labels"},
    {"Deployment.spec", "{'template':{'metadata':null}}",
     "spec.template.metadata.labels: Invalid value: {}: selector does not match template labels"},
    {"Deployment.spec", "{'template':{'metadata':{'labels':{'app':'web','extra':'ok'}}}}", NULL},
    {"Deployment.spec", "{'template':{'metadata':{'labels':{'app':'web','x':'bad value'}}}}",
     "spec.template.metadata.labels: Invalid value: \"bad value\""},
    {"Deployment.spec", "{'template':null}", "spec.template: Required value"},
    {"Deployment.spec", "{'template':{'spec':null}}", "spec.template.spec: Required value"},
    {"Deployment.tmpl", "{'containers':null}", "spec.template.spec.containers: Required value"},
    {"Deployment.tmpl", "{'restartPolicy':'Never'}",
     "spec.template.spec.restartPolicy: Unsupported value: \"Never\": supported values: "
     "\"Always\""},
    {"Deployment.tmpl", "{'restartPolicy':'Always'}", NULL},
    {"Deployment.tmpl", "{'activeDeadlineSeconds':30}",
     "spec.template.spec.activeDeadlineSeconds: Forbidden"},
    {"Deployment.tmpl",
     "{'containers':[{'name':'web','image':'nginx','ports':[{'containerPort':80},"
     "{'containerPort':70000}]}]}",
     "Deployment \"web\": spec.template.spec.containers[0].ports[1].containerPort: Invalid value: "
     "70000: must be between 1 and 65535, inclusive"},
    {"Deployment.spec", "{'minReadySeconds':-1}",
     "spec.minReadySeconds: Invalid value: -1: must be greater than or equal to 0"},
    {"Deployment.spec", "{'minReadySeconds':5}", NULL},
    {"Deployment.spec", "{'revisionHistoryLimit':-1}",
     "spec.revisionHistoryLimit: Invalid value: -1"},
    {"Deployment.spec", "{'revisionHistoryLimit':0}", NULL},
    {"Deployment.spec", "{'progressDeadlineSeconds':5,'minReadySeconds':10}",
     "spec.progressDeadlineSeconds: Invalid value: 5: must be greater than minReadySeconds"},
    {"Deployment.spec", "{'progressDeadlineSeconds':10,'minReadySeconds':10}",
     "must be greater than minReadySeconds"},
    {"Deployment.spec", "{'progressDeadlineSeconds':11,'minReadySeconds':10}", NULL},
    {"Deployment.spec", "{'paused':'yes'}",
     "spec.paused: Invalid value: \"yes\": must be a boolean"},
    {"Deployment.spec", "{'paused':true}", NULL},
    {"Deployment.spec", "{'strategy':{'type':'Recreate'}}", NULL},
    {"Deployment.spec", "{'strategy':{'type':'BlueGreen'}}",
     "spec.strategy.type: Unsupported value: \"BlueGreen\": supported values: \"Recreate\", "
     "\"RollingUpdate\""},
    {"Deployment.spec", "{'strategy':{'type':'Recreate','rollingUpdate':{'maxSurge':1}}}",
     "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is "
     "'Recreate'"},
    {"Deployment.spec", "{'strategy':{'rollingUpdate':{'maxSurge':1,'maxUnavailable':0}}}", NULL},
    {"Deployment.spec", "{'strategy':{'rollingUpdate':{'maxSurge':'200%'}}}", NULL},
    {"Deployment.spec", "{'strategy':{'rollingUpdate':{'maxSurge':'abc'}}}",
     "spec.strategy.rollingUpdate.maxSurge: Invalid value: \"abc\": a valid percent string must "
     "be"},
    {"Deployment.spec", "{'strategy':{'rollingUpdate':{'maxSurge':'5'}}}",
     "a valid percent string"},
    {"Deployment.spec", "{'strategy':{'rollingUpdate':{'maxSurge':-1}}}",
     "spec.strategy.rollingUpdate.maxSurge: Invalid value: -1: must be greater than or equal to 0"},
    {"Deployment.spec", "{'strategy':{'rollingUpdate':{'maxUnavailable':'150%'}}}",
     "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: \"150%\": must not be greater "
     "than 100%"},
    {"Deployment.spec", "{'strategy':{'rollingUpdate':{'maxUnavailable':1.5}}}",
     "must be an integer or a percentage"},
    {"Deployment.spec", "{'strategy':{'rollingUpdate':{'maxSurge':0,'maxUnavailable':0}}}",
     "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` "
     "is 0"},
    {"Deployment.spec", "{'strategy':{'rollingUpdate':{'maxSurge':'0%','maxUnavailable':0}}}",
     "may not be 0 when `maxSurge` is 0"},
    {"ReplicaSet", "{}", NULL},
    {"ReplicaSet.spec", "{'replicas':-2}",
     "ReplicaSet \"web-1\": spec.replicas: Invalid value: -2"},
    {"ReplicaSet.spec", "{'selector':null}", "spec.selector: Required value"},
    {"ReplicaSet.spec", "{'selector':{'matchLabels':null}}",
     "empty selector is invalid for replicaset"},
    {"ReplicaSet.spec", "{'template':{'metadata':{'labels':{'app':'x'}}}}",
     "selector does not match template labels"},
    {"ReplicaSet.tmpl", "{'restartPolicy':'OnFailure'}",
     "spec.template.spec.restartPolicy: Unsupported value"},
    {"ReplicaSet.spec", "{'minReadySeconds':-3}", "spec.minReadySeconds"},
};

static void test_deployment_replicaset(void)
{
	RUN_TABLE(deployment_cases);
}

/* --- pods ----------------------------------------------------------------- */

static const struct vcase container_cases[] = {
    {"Pod.spec", "{'containers':[]}", "Pod \"p\": spec.containers: Required value"},
    {"Pod.spec", "{'containers':null}", "spec.containers: Required value"},
    {"Pod.spec", "{'containers':{'name':'c'}}",
     "spec.containers: Invalid value: {\"name\":\"c\"}: must be a list"},
    {"Pod.spec", "{'containers':['nginx']}",
     "spec.containers[0]: Invalid value: \"nginx\": must be a mapping"},
    {"Pod.ctr", "{'name':null}", "spec.containers[0].name: Required value"},
    {"Pod.ctr", "{'name':'Web'}",
     "spec.containers[0].name: Invalid value: \"Web\": a lowercase RFC 1123 label"},
    {"Pod.spec", "{'containers':[{'name':'a','image':'x'},{'name':'a','image':'y'}]}",
     "spec.containers[1].name: Duplicate value: \"a\""},
    {"Pod.spec", "{'initContainers':[{'name':'c','image':'x'}]}",
     "spec.containers[0].name: Duplicate value: \"c\""},
    {"Pod.spec", "{'initContainers':[{'name':'init','image':'busybox','command':['true']}]}", NULL},
    {"Pod.spec", "{'initContainers':[{'name':'init'}]}",
     "spec.initContainers[0].image: Required value"},
    {"Pod.spec",
     "{'initContainers':[{'name':'init','image':'x','livenessProbe':{'exec':{'command':['true']}}}]"
     "}",
     "spec.initContainers[0].livenessProbe: Forbidden: may not be set for init containers"},
    {"Pod.spec", "{'initContainers':[{'name':'init','image':'x','restartPolicy':'Always'}]}",
     "spec.initContainers[0].restartPolicy: Unsupported value: \"Always\": clusterfs does not run "
     "sidecar containers yet"},
    {"Pod.spec", "{'initContainers':[{'name':'init','image':'x','restartPolicy':'Never'}]}",
     "spec.initContainers[0].restartPolicy: Unsupported value: \"Never\": supported values: "
     "\"Always\""},
    {"Pod.ctr", "{'restartPolicy':'Always'}", "spec.containers[0].restartPolicy: Forbidden"},
    {"Pod.ctr", "{'image':null}", "spec.containers[0].image: Required value"},
    {"Pod.ctr", "{'image':''}", "spec.containers[0].image: Required value"},
    {"Pod.ctr", "{'image':' nginx'}",
     "spec.containers[0].image: Invalid value: \" nginx\": must not have leading or trailing "
     "whitespace"},
    {"Pod.ctr", "{'image':['nginx']}",
     "spec.containers[0].image: Invalid value: [\"nginx\"]: must be a string"},
    {"Pod.ctr", "{'image':'registry.k8s.io/busybox:1.27.2'}", NULL},
    {"Pod.ctr", "{'command':['sh','-c','echo hi'],'args':['x'],'workingDir':'/tmp'}", NULL},
    {"Pod.ctr", "{'command':'sh -c true'}",
     "spec.containers[0].command: Invalid value: \"sh -c true\": must be a list"},
    {"Pod.ctr", "{'args':['a',1]}",
     "spec.containers[0].args[1]: Invalid value: 1: must be a string"},
    {"Pod.ctr", "{'imagePullPolicy':'Sometimes'}",
     "spec.containers[0].imagePullPolicy: Unsupported value: \"Sometimes\": supported values: "
     "\"Always\", \"IfNotPresent\", \"Never\""},
    {"Pod.ctr", "{'imagePullPolicy':'Never'}", NULL},
    {"Pod.ctr", "{'lifecycle':{'preStop':{'exec':{'command':['sleep','5']}}}}",
     "spec.containers[0].lifecycle: Unsupported value: clusterfs does not run postStart and "
     "preStop hooks yet"},
    {"Pod.ctr", "{'volumeDevices':[{'name':'d','devicePath':'/dev/x'}]}",
     "spec.containers[0].volumeDevices: Unsupported value"},
    {"Pod.ctr", "{'terminationMessagePolicy':'Never'}",
     "spec.containers[0].terminationMessagePolicy: Unsupported value"},
    {"Pod.ctr", "{'tty':'yes'}",
     "spec.containers[0].tty: Invalid value: \"yes\": must be a boolean"},
    {"Pod.ctr", "{'securityContext':{'runAsUser':1000},'stdin':true,'tty':true}", NULL},
};

static const struct vcase env_cases[] = {
    {"Pod.ctr",
     "{'env':[{'name':'FOO','value':'bar'},{'name':'my.var-x','value':''},{'name':'EMPTY'}]}",
     NULL},
    {"Pod.ctr", "{'env':[{'name':'1FOO','value':'x'}]}",
     "spec.containers[0].env[0].name: Invalid value: \"1FOO\": a valid environment variable name "
     "must consist"},
    {"Pod.ctr", "{'env':[{'name':'A B'}]}", "a valid environment variable name"},
    {"Pod.ctr", "{'env':[{'name':'..'}]}",
     "spec.containers[0].env[0].name: Invalid value: \"..\": must not be '..'"},
    {"Pod.ctr", "{'env':[{'value':'x'}]}", "spec.containers[0].env[0].name: Required value"},
    {"Pod.ctr", "{'env':[{'name':'N','value':5}]}",
     "spec.containers[0].env[0].value: Invalid value: 5: must be a string"},
    {"Pod.ctr", "{'env':{'FOO':'bar'}}",
     "spec.containers[0].env: Invalid value: {\"FOO\":\"bar\"}: must be a list"},
    {"Pod.ctr",
     "{'env':[{'name':'C','valueFrom':{'configMapKeyRef':{'name':'cfg','key':'log.level'}}}]}",
     NULL},
    {"Pod.ctr",
     "{'env':[{'name':'C','valueFrom':{'configMapKeyRef':{'name':'cfg','key':'k','optional':true}}}"
     "]}",
     NULL},
    {"Pod.ctr", "{'env':[{'name':'C','valueFrom':{'configMapKeyRef':{'name':'cfg'}}}]}",
     "spec.containers[0].env[0].valueFrom.configMapKeyRef.key: Required value"},
    {"Pod.ctr", "{'env':[{'name':'C','valueFrom':{'configMapKeyRef':{'key':'k'}}}]}",
     "spec.containers[0].env[0].valueFrom.configMapKeyRef.name: Required value"},
    {"Pod.ctr", "{'env':[{'name':'C','valueFrom':{'configMapKeyRef':{'name':'cfg','key':'a b'}}}]}",
     "valueFrom.configMapKeyRef.key: Invalid value: \"a b\": a valid config key"},
    {"Pod.ctr",
     "{'env':[{'name':'N','valueFrom':{'fieldRef':{'fieldPath':'metadata.name'}}},"
     "{'name':'IP','valueFrom':{'fieldRef':{'apiVersion':'v1','fieldPath':'status.podIP'}}},"
     "{'name':'L','valueFrom':{'fieldRef':{'fieldPath':'metadata.labels[`app`]'}}},"
     "{'name':'NODE','valueFrom':{'fieldRef':{'fieldPath':'spec.nodeName'}}}]}",
     NULL},
    {"Pod.ctr", "{'env':[{'name':'X','valueFrom':{'fieldRef':{'fieldPath':'spec.containers'}}}]}",
     "spec.containers[0].env[0].valueFrom.fieldRef.fieldPath: Unsupported value: "
     "\"spec.containers\": supported values: \"metadata.name\""},
    {"Pod.ctr",
     "{'env':[{'name':'X','valueFrom':{'fieldRef':{'fieldPath':'metadata.labels[`a b`]'}}}]}",
     "valueFrom.fieldRef.fieldPath: Invalid value"},
    {"Pod.ctr", "{'env':[{'name':'X','valueFrom':{'fieldRef':{}}}]}",
     "valueFrom.fieldRef.fieldPath: Required value"},
    {"Pod.ctr",
     "{'env':[{'name':'X','valueFrom':{'fieldRef':{'apiVersion':'v2','fieldPath':'metadata.name'}}}"
     "]}",
     "valueFrom.fieldRef.apiVersion: Unsupported value: \"v2\""},
    {"Pod.ctr",
     "{'env':[{'name':'M','valueFrom':{'resourceFieldRef':{'resource':'limits.memory','divisor':'"
     "1Mi'}}}]}",
     NULL},
    {"Pod.ctr", "{'env':[{'name':'M','valueFrom':{'resourceFieldRef':{'resource':'limits.gpu'}}}]}",
     "valueFrom.resourceFieldRef.resource: Unsupported value: \"limits.gpu\""},
    {"Pod.ctr",
     "{'env':[{'name':'M','valueFrom':{'resourceFieldRef':{'resource':'limits.cpu','divisor':'0'}}}"
     "]}",
     "valueFrom.resourceFieldRef.divisor: Invalid value: \"0\": must be greater than 0"},
    {"Pod.ctr", "{'env':[{'name':'S','valueFrom':{'secretKeyRef':{'name':'s','key':'k'}}}]}",
     "spec.containers[0].env[0].valueFrom.secretKeyRef: Unsupported value: clusterfs has no "
     "Secrets yet"},
    {"Pod.ctr",
     "{'env':[{'name':'T','valueFrom':{'configMapKeyRef':{'name':'a','key':'b'},"
     "'fieldRef':{'fieldPath':'metadata.name'}}}]}",
     "spec.containers[0].env[0].valueFrom: Invalid value: {\"configMapKeyRef\""},
    {"Pod.ctr",
     "{'env':[{'name':'T','valueFrom':{'configMapKeyRef':{'name':'a','key':'b'},"
     "'fieldRef':{'fieldPath':'metadata.name'}}}]}",
     "may not have more than one field specified at a time"},
    {"Pod.ctr", "{'env':[{'name':'T','valueFrom':{}}]}",
     "spec.containers[0].env[0].valueFrom: Invalid value: {}: must specify one of: "
     "`configMapKeyRef`, `fieldRef` or `resourceFieldRef`"},
    {"Pod.ctr",
     "{'env':[{'name':'T','value':'v','valueFrom':{'fieldRef':{'fieldPath':'metadata.name'}}}]}",
     "spec.containers[0].env[0].valueFrom: Forbidden: may not be specified when `value` is not "
     "empty"},
    {"Pod.ctr",
     "{'envFrom':[{'configMapRef':{'name':'cfg'}},{'prefix':'APP_','configMapRef':{'name':'other','"
     "optional':true}}]}",
     NULL},
    {"Pod.ctr", "{'envFrom':[{'secretRef':{'name':'s'}}]}",
     "spec.containers[0].envFrom[0].secretRef: Unsupported value: clusterfs has no Secrets yet"},
    {"Pod.ctr", "{'envFrom':[{'prefix':'1X','configMapRef':{'name':'cfg'}}]}",
     "spec.containers[0].envFrom[0].prefix: Invalid value: \"1X\""},
    {"Pod.ctr", "{'envFrom':[{'prefix':'X'}]}",
     "spec.containers[0].envFrom[0]: Invalid value: {\"prefix\":\"X\"}: must specify one of: "
     "`configMapRef` or `secretRef`"},
    {"Pod.ctr", "{'envFrom':[{'configMapRef':{}}]}",
     "spec.containers[0].envFrom[0].configMapRef.name: Required value"},
};

static const struct vcase port_cases[] = {
    {"Pod.ctr",
     "{'ports':[{'containerPort':80,'name':'http'},{'containerPort':53,'protocol':'UDP','name':'"
     "dns'}]}",
     NULL},
    {"Pod.ctr", "{'ports':[{'containerPort':70000}]}",
     "Pod \"p\": spec.containers[0].ports[0].containerPort: Invalid value: 70000: must be between "
     "1 and 65535, inclusive"},
    {"Pod.ctr", "{'ports':[{'containerPort':0}]}",
     "spec.containers[0].ports[0].containerPort: Invalid value: 0: must be between 1 and 65535"},
    {"Pod.ctr", "{'ports':[{'name':'http'}]}",
     "spec.containers[0].ports[0].containerPort: Required value"},
    {"Pod.ctr", "{'ports':[{'containerPort':'80'}]}",
     "containerPort: Invalid value: \"80\": must be an integer"},
    {"Pod.ctr", "{'ports':[{'containerPort':80,'name':'verylongportname'}]}",
     "spec.containers[0].ports[0].name: Invalid value: \"verylongportname\": must be no more than "
     "15 characters"},
    {"Pod.ctr", "{'ports':[{'containerPort':80,'name':'HTTP'}]}",
     "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"},
    {"Pod.ctr", "{'ports':[{'containerPort':80,'name':'a--b'}]}",
     "must not contain consecutive hyphens"},
    {"Pod.ctr", "{'ports':[{'containerPort':80,'name':'8080'}]}",
     "must contain at least one letter (a-z)"},
    {"Pod.ctr", "{'ports':[{'containerPort':80,'name':'-web'}]}",
     "must not begin or end with a hyphen"},
    {"Pod.ctr", "{'ports':[{'containerPort':80,'name':'http'},{'containerPort':81,'name':'http'}]}",
     "spec.containers[0].ports[1].name: Duplicate value: \"http\""},
    {"Pod.spec",
     "{'containers':[{'name':'a','image':'x','ports':[{'containerPort':80,'name':'m'}]},"
     "{'name':'b','image':'x','ports':[{'containerPort':81,'name':'m'}]}]}",
     "spec.containers[1].ports[0].name: Duplicate value: \"m\""},
    {"Pod.ctr", "{'ports':[{'containerPort':80,'protocol':'HTTP'}]}",
     "spec.containers[0].ports[0].protocol: Unsupported value: \"HTTP\": supported values: "
     "\"SCTP\", \"TCP\", \"UDP\""},
    {"Pod.ctr", "{'ports':[{'containerPort':80,'hostPort':8080}]}",
     "spec.containers[0].ports[0].hostPort: Unsupported value: 8080: clusterfs does not map host "
     "ports yet"},
    {"Pod.ctr", "{'ports':[{'containerPort':80,'hostPort':0}]}", NULL},
    {"Pod.ctr", "{'ports':[{'containerPort':80,'hostIP':'1.2.3'}]}",
     "ports[0].hostIP: Invalid value: \"1.2.3\": must be a valid IPv4 address"},
};

static const struct vcase resource_cases[] = {
    {"Pod.ctr",
     "{'resources':{'limits':{'cpu':'500m','memory':'128Mi'},'requests':{'cpu':0.25,'memory':'64Mi'"
     "}}}",
     NULL},
    {"Pod.ctr", "{'resources':{'limits':{'cpu':1,'ephemeral-storage':'1Gi'}}}", NULL},
    {"Pod.ctr", "{'resources':{}}", NULL},
    {"Pod.ctr", "{'resources':{'limits':{'cpu':'12x'}}}",
     "spec.containers[0].resources.limits[cpu]: Invalid value: \"12x\": must be a quantity"},
    {"Pod.ctr", "{'resources':{'requests':{'memory':'-1'}}}",
     "spec.containers[0].resources.requests[memory]: Invalid value: \"-1\": must be greater than "
     "or equal to 0"},
    {"Pod.ctr", "{'resources':{'limits':{'cpu':'1'},'requests':{'cpu':'2'}}}",
     "spec.containers[0].resources.requests[cpu]: Invalid value: \"2\": must be less than or equal "
     "to cpu limit of 1"},
    {"Pod.ctr", "{'resources':{'limits':{'memory':'1Gi'},'requests':{'memory':'1025Mi'}}}",
     "must be less than or equal to memory limit of 1Gi"},
    {"Pod.ctr", "{'resources':{'limits':{'memory':'1Gi'},'requests':{'memory':'1024Mi'}}}", NULL},
    {"Pod.ctr", "{'resources':{'limits':{'pods':'1'}}}",
     "spec.containers[0].resources.limits[pods]: Invalid value: \"pods\": must be a standard "
     "resource for containers"},
    {"Pod.ctr", "{'resources':{'limits':{'storage':'1Gi'}}}",
     "must be a standard resource for containers"},
    {"Pod.ctr", "{'resources':{'limits':{'nvidia.com/gpu':1}}}", NULL},
    {"Pod.ctr", "{'resources':{'limits':{'nvidia.com/gpu':'500m'}}}",
     "spec.containers[0].resources.limits[nvidia.com/gpu]: Invalid value: \"500m\": must be an "
     "integer"},
    {"Pod.ctr", "{'resources':{'limits':{'nvidia.com/gpu':2},'requests':{'nvidia.com/gpu':1}}}",
     "resources.requests[nvidia.com/gpu]: Invalid value: 1: must be equal to nvidia.com/gpu limit "
     "of 2"},
    {"Pod.ctr", "{'resources':{'requests':{'example.com/foo':1}}}",
     "resources.requests[example.com/foo]: Forbidden: limit must be set for non overcommitable "
     "resources"},
    {"Pod.ctr", "{'resources':{'limits':{'hugepages-2Mi':'1Gi'}}}",
     "spec.containers[0].resources.limits[hugepages-2Mi]: Unsupported value: clusterfs does not "
     "manage huge pages"},
    {"Pod.ctr", "{'resources':{'claims':[{'name':'gpu'}]}}",
     "spec.containers[0].resources.claims: Unsupported value"},
    {"Pod.ctr", "{'resources':{'limits':['cpu']}}",
     "spec.containers[0].resources.limits: Invalid value: [\"cpu\"]: must be a mapping"},
    {"Pod.ctr", "{'resources':{'limits':{'cpu':true}}}",
     "resources.limits[cpu]: Invalid value: true: must be a quantity"},
};

static const struct vcase probe_cases[] = {
    {"Pod.ctr",
     "{'livenessProbe':{'httpGet':{'path':'/healthz','port':8080},'initialDelaySeconds':3}}", NULL},
    {"Pod.ctr",
     "{'ports':[{'containerPort':80,'name':'http'}],'readinessProbe':{'httpGet':{'port':'http','"
     "scheme':'HTTPS',"
     "'httpHeaders':[{'name':'X-Probe','value':'1'}]}}}",
     NULL},
    {"Pod.ctr",
     "{'startupProbe':{'exec':{'command':['cat','/tmp/"
     "ready']},'failureThreshold':30,'periodSeconds':2}}",
     NULL},
    {"Pod.ctr", "{'livenessProbe':{'tcpSocket':{'port':5432}}}", NULL},
    {"Pod.ctr", "{'livenessProbe':{'httpGet':{'port':'Bad_Port'}}}",
     "spec.containers[0].livenessProbe.httpGet.port: Invalid value: \"Bad_Port\": must contain "
     "only alpha-numeric characters"},
    {"Pod.ctr", "{'livenessProbe':{'httpGet':{'port':0}}}",
     "spec.containers[0].livenessProbe.httpGet.port: Invalid value: 0: must be between 1 and "
     "65535, inclusive"},
    {"Pod.ctr", "{'livenessProbe':{'httpGet':{'path':'/'}}}",
     "spec.containers[0].livenessProbe.httpGet.port: Required value"},
    {"Pod.ctr", "{'livenessProbe':{'httpGet':{'port':80,'scheme':'FTP'}}}",
     "livenessProbe.httpGet.scheme: Unsupported value: \"FTP\": supported values: \"HTTP\", "
     "\"HTTPS\""},
    {"Pod.ctr", "{'livenessProbe':{'httpGet':{'port':80,'httpHeaders':[{'name':'Bad Header'}]}}}",
     "livenessProbe.httpGet.httpHeaders[0].name: Invalid value: \"Bad Header\": a valid HTTP "
     "header"},
    {"Pod.ctr", "{'livenessProbe':{'exec':{}}}",
     "spec.containers[0].livenessProbe.exec.command: Required value"},
    {"Pod.ctr", "{'livenessProbe':{'exec':{'command':[]}}}",
     "livenessProbe.exec.command: Required value"},
    {"Pod.ctr", "{'livenessProbe':{'tcpSocket':{}}}",
     "spec.containers[0].livenessProbe.tcpSocket.port: Required value"},
    {"Pod.ctr", "{'livenessProbe':{'initialDelaySeconds':5}}",
     "spec.containers[0].livenessProbe: Required value: must specify a handler type"},
    {"Pod.ctr", "{'livenessProbe':{'exec':{'command':['true']},'tcpSocket':{'port':80}}}",
     "spec.containers[0].livenessProbe: Forbidden: may not specify more than 1 handler type"},
    {"Pod.ctr", "{'livenessProbe':{'grpc':{'port':9090}}}",
     "spec.containers[0].livenessProbe.grpc: Unsupported value: clusterfs does not run gRPC probes "
     "yet"},
    {"Pod.ctr", "{'livenessProbe':{'exec':{'command':['true']},'successThreshold':2}}",
     "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1"},
    {"Pod.ctr", "{'startupProbe':{'exec':{'command':['true']},'successThreshold':3}}",
     "startupProbe.successThreshold: Invalid value: 3: must be 1"},
    {"Pod.ctr", "{'readinessProbe':{'exec':{'command':['true']},'successThreshold':2}}", NULL},
    {"Pod.ctr", "{'livenessProbe':{'exec':{'command':['true']},'initialDelaySeconds':-1}}",
     "livenessProbe.initialDelaySeconds: Invalid value: -1: must be greater than or equal to 0"},
    {"Pod.ctr", "{'livenessProbe':{'exec':{'command':['true']},'periodSeconds':-5}}",
     "livenessProbe.periodSeconds: Invalid value: -5: must be greater than or equal to 1"},
    {"Pod.ctr", "{'livenessProbe':{'exec':{'command':['true']},'timeoutSeconds':-1}}",
     "livenessProbe.timeoutSeconds: Invalid value: -1"},
    {"Pod.ctr", "{'livenessProbe':{'exec':{'command':['true']},'failureThreshold':'3'}}",
     "livenessProbe.failureThreshold: Invalid value: \"3\": must be an integer"},
    {"Pod.ctr", "{'livenessProbe':{'exec':{'command':['true']},'periodSeconds':0}}",
     NULL}, /* 0 is unset: 10 */
    {"Pod.ctr",
     "{'readinessProbe':{'exec':{'command':['true']},'terminationGracePeriodSeconds':5}}",
     "readinessProbe.terminationGracePeriodSeconds: Forbidden: must not be set for "
     "readinessProbes"},
    {"Pod.ctr", "{'livenessProbe':{'exec':{'command':['true']},'terminationGracePeriodSeconds':5}}",
     NULL},
    {"Pod.ctr", "{'livenessProbe':{'exec':{'command':['true']},'terminationGracePeriodSeconds':0}}",
     "livenessProbe.terminationGracePeriodSeconds: Invalid value: 0: must be greater than or equal "
     "to 1"},
    {"Pod.ctr", "{'livenessProbe':'yes'}",
     "spec.containers[0].livenessProbe: Invalid value: \"yes\": must be a mapping"},
};

static const struct vcase pod_cases[] = {
    {"Pod", "{}", NULL},
    {"Pod", "{'spec':null}", "Pod \"p\": spec: Required value"},
    {"Pod.spec", "{'restartPolicy':'Never'}", NULL},
    {"Pod.spec", "{'restartPolicy':'OnFailure'}", NULL},
    {"Pod.spec", "{'restartPolicy':'Sometimes'}",
     "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", "
     "\"Never\", \"OnFailure\""},
    {"Pod.spec", "{'terminationGracePeriodSeconds':0}", NULL},
    {"Pod.spec", "{'terminationGracePeriodSeconds':-1}",
     "spec.terminationGracePeriodSeconds: Invalid value: -1: must be greater than or equal to 0"},
    {"Pod.spec", "{'activeDeadlineSeconds':30}", NULL},
    {"Pod.spec", "{'activeDeadlineSeconds':0}",
     "spec.activeDeadlineSeconds: Invalid value: 0: must be greater than or equal to 1"},
    {"Pod.spec", "{'nodeSelector':{'disktype':'ssd','kubernetes.io/hostname':'node1'}}", NULL},
    {"Pod.spec", "{'nodeSelector':{'disktype':1}}",
     "spec.nodeSelector[disktype]: Invalid value: 1: must be a string"},
    {"Pod.spec", "{'nodeSelector':{'bad key':'x'}}",
     "spec.nodeSelector: Invalid value: \"bad key\""},
    {"Pod.spec",
     "{'nodeName':'node1','serviceAccountName':'default','hostname':'db-0','subdomain':'db'}",
     NULL},
    {"Pod.spec", "{'nodeName':'Node_1'}", "spec.nodeName: Invalid value: \"Node_1\""},
    {"Pod.spec", "{'schedulerName':'my scheduler'}", "spec.schedulerName: Invalid value"},
    {"Pod.spec", "{'hostNetwork':false,'hostPID':false,'hostIPC':false}", NULL},
    {"Pod.spec", "{'hostNetwork':true}",
     "spec.hostNetwork: Unsupported value: true: clusterfs does not share host namespaces"},
    {"Pod.spec", "{'hostPID':true}", "spec.hostPID: Unsupported value: true"},
    {"Pod.spec", "{'hostIPC':true}", "spec.hostIPC: Unsupported value: true"},
    {"Pod.spec", "{'hostNetwork':'true'}",
     "spec.hostNetwork: Invalid value: \"true\": must be a boolean"},
    {"Pod.spec", "{'dnsPolicy':'Default'}", NULL},
    {"Pod.spec", "{'dnsPolicy':'Google'}", "spec.dnsPolicy: Unsupported value: \"Google\""},
    {"Pod.spec", "{'dnsPolicy':'None'}", "spec.dnsConfig.nameservers: Required value"},
    {"Pod.spec",
     "{'dnsPolicy':'None','dnsConfig':{'nameservers':['1.1.1.1'],'searches':['ns.svc.cluster.local'"
     "]}}",
     NULL},
    {"Pod.spec", "{'dnsConfig':{'nameservers':['dns.google']}}",
     "spec.dnsConfig.nameservers[0]: Invalid value: \"dns.google\": must be a valid IPv4 address"},
    {"Pod.spec", "{'ephemeralContainers':[{'name':'debug','image':'busybox'}]}",
     "spec.ephemeralContainers: Forbidden: cannot be set on create"},
    {"Pod.spec", "{'topologySpreadConstraints':[{'maxSkew':1}]}",
     "spec.topologySpreadConstraints: Unsupported value"},
    {"Pod.spec",
     "{'tolerations':[{'key':'dedicated','operator':'Equal','value':'db','effect':'NoSchedule'},"
     "{'operator':'Exists'},{'key':'node.kubernetes.io/unreachable','operator':'Exists',"
     "'effect':'NoExecute','tolerationSeconds':300}]}",
     NULL},
    {"Pod.spec", "{'tolerations':[{'key':'k','value':'v'}]}", NULL},
    {"Pod.spec", "{'tolerations':[{'key':'k','operator':'Like'}]}",
     "spec.tolerations[0].operator: Unsupported value: \"Like\": supported values: \"Equal\", "
     "\"Exists\""},
    {"Pod.spec", "{'tolerations':[{'key':'k','effect':'NoRun'}]}",
     "spec.tolerations[0].effect: Unsupported value: \"NoRun\": supported values: \"NoExecute\", "
     "\"NoSchedule\", \"PreferNoSchedule\""},
    {"Pod.spec", "{'tolerations':[{'operator':'Equal','value':'v'}]}",
     "spec.tolerations[0].operator: Invalid value: \"Equal\": operator must be Exists when `key` "
     "is empty"},
    {"Pod.spec", "{'tolerations':[{'key':'k','operator':'Exists','value':'v'}]}",
     "spec.tolerations[0].operator: Invalid value: \"Exists\": value must be empty when `operator` "
     "is 'Exists'"},
    {"Pod.spec",
     "{'tolerations':[{'key':'k','operator':'Exists','effect':'NoSchedule','tolerationSeconds':5}]"
     "}",
     "spec.tolerations[0].effect: Invalid value: \"NoSchedule\": effect must be 'NoExecute' when "
     "`tolerationSeconds` is set"},
    {"Pod.spec", "{'tolerations':[{'key':'bad key','operator':'Exists'}]}",
     "spec.tolerations[0].key: Invalid value: \"bad key\""},
    {"Pod.spec", "{'tolerations':[{'key':'k','value':'bad value'}]}",
     "spec.tolerations[0].value: Invalid value: \"bad value\""},
    {"Pod.spec",
     "{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':{'"
     "nodeSelectorTerms':"
     "[{'matchExpressions':[{'key':'disktype','operator':'In','values':['ssd']},"
     "{'key':'cores','operator':'Gt','values':['4']},{'key':'gpu','operator':'DoesNotExist'}]},"
     "{'matchFields':[{'key':'metadata.name','operator':'In','values':['node1']}]}]},"
     "'preferredDuringSchedulingIgnoredDuringExecution':[{'weight':50,'preference':"
     "{'matchExpressions':[{'key':'zone','operator':'NotIn','values':['a']}]}}]}}}",
     NULL},
    {"Pod.spec",
     "{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':{'"
     "nodeSelectorTerms':[]}}}}",
     "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: "
     "Required value: must have at least one node selector term"},
    {"Pod.spec",
     "{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':{'"
     "nodeSelectorTerms':"
     "[{'matchExpressions':[{'key':'cores','operator':'Gt','values':['many']}]}]}}}}",
     "nodeSelectorTerms[0].matchExpressions[0].values[0]: Invalid value: \"many\": must be an "
     "integer"},
    {"Pod.spec",
     "{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':{'"
     "nodeSelectorTerms':"
     "[{'matchExpressions':[{'key':'cores','operator':'Lt','values':['1','2']}]}]}}}}",
     "matchExpressions[0].values: Required value: must be specified single value when `operator` "
     "is 'Lt' or 'Gt'"},
    {"Pod.spec",
     "{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':{'"
     "nodeSelectorTerms':"
     "[{'matchExpressions':[{'key':'zone','operator':'Near','values':['a']}]}]}}}}",
     "matchExpressions[0].operator: Unsupported value: \"Near\""},
    {"Pod.spec",
     "{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':{'"
     "nodeSelectorTerms':"
     "[{'matchExpressions':[{'key':'zone','operator':'In'}]}]}}}}",
     "matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or "
     "'NotIn'"},
    {"Pod.spec",
     "{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':{'"
     "nodeSelectorTerms':"
     "[{'matchExpressions':[{'key':'zone','operator':'Exists','values':['a']}]}]}}}}",
     "matchExpressions[0].values: Forbidden"},
    {"Pod.spec",
     "{'affinity':{'nodeAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':{'"
     "nodeSelectorTerms':"
     "[{'matchFields':[{'key':'metadata.labels','operator':'In','values':['x']}]}]}}}}",
     "matchFields[0].key: Unsupported value: \"metadata.labels\": supported values: "
     "\"metadata.name\""},
    {"Pod.spec",
     "{'affinity':{'nodeAffinity':{'preferredDuringSchedulingIgnoredDuringExecution':[{'weight':0,"
     "'preference':{'matchExpressions':[{'key':'zone','operator':'Exists'}]}}]}}}",
     "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: "
     "Invalid value: 0: must be between 1 and 100, inclusive"},
    {"Pod.spec",
     "{'affinity':{'nodeAffinity':{'preferredDuringSchedulingIgnoredDuringExecution':[{'weight':1}]"
     "}}}",
     "preferredDuringSchedulingIgnoredDuringExecution[0].preference: Required value"},
    {"Pod.spec",
     "{'affinity':{'podAffinity':{'requiredDuringSchedulingIgnoredDuringExecution':[]}}}",
     "spec.affinity.podAffinity: Unsupported value: clusterfs does not schedule by pod affinity "
     "yet"},
    {"Pod.spec", "{'affinity':{'podAntiAffinity':{}}}",
     "spec.affinity.podAntiAffinity: Unsupported value"},
    {"Deployment.tmpl", "{'affinity':{'podAntiAffinity':{}}}",
     "spec.template.spec.affinity.podAntiAffinity: Unsupported value"},
};

static const struct vcase volume_cases[] = {
    {"Pod.spec",
     "{'volumes':[{'name':'scratch','emptyDir':{}},{'name':'cfg','configMap':{'name':'app-config',"
     "'items':[{'key':'app.properties','path':'conf/"
     "app.properties','mode':420}],'defaultMode':292}},"
     "{'name':'ram','emptyDir':{'medium':'Memory','sizeLimit':'64Mi'}}],"
     "'containers':[{'name':'c','image':'x','volumeMounts':[{'name':'scratch','mountPath':'/tmp'},"
     "{'name':'cfg','mountPath':'/etc/app','readOnly':true},{'name':'ram','mountPath':'/"
     "cache','subPath':'a/b'}]}]}",
     NULL},
    {"Pod.spec", "{'volumes':[{'name':'data','hostPath':{'path':'/srv'}}]}",
     "Pod \"p\": spec.volumes[0].hostPath: Unsupported value: clusterfs supports emptyDir and "
     "configMap volumes"},
    {"Pod.spec", "{'volumes':[{'name':'data','persistentVolumeClaim':{'claimName':'pvc'}}]}",
     "spec.volumes[0].persistentVolumeClaim: Unsupported value: clusterfs supports emptyDir and "
     "configMap volumes"},
    {"Pod.spec", "{'volumes':[{'name':'s','secret':{'secretName':'x'}}]}",
     "spec.volumes[0].secret: Unsupported value"},
    {"Pod.spec", "{'volumes':[{'name':'n','nfs':{'server':'x','path':'/'}}]}",
     "spec.volumes[0].nfs: Unsupported value"},
    {"Pod.spec", "{'volumes':[{'name':'d','downwardAPI':{}}]}",
     "spec.volumes[0].downwardAPI: Unsupported value"},
    {"Pod.spec", "{'volumes':[{'name':'p','projected':{'sources':[]}}]}",
     "spec.volumes[0].projected: Unsupported value"},
    {"Pod.spec", "{'volumes':[{'name':'plain'}]}", NULL}, /* defaulted to emptyDir */
    {"Pod.spec", "{'volumes':[{'name':'two','emptyDir':{},'configMap':{'name':'x'}}]}",
     "spec.volumes[0]: Forbidden: may not specify more than 1 volume type"},
    {"Pod.spec", "{'volumes':[{'name':'a','emptyDir':{}},{'name':'a','emptyDir':{}}]}",
     "spec.volumes[1].name: Duplicate value: \"a\""},
    {"Pod.spec", "{'volumes':[{'name':'Data','emptyDir':{}}]}",
     "spec.volumes[0].name: Invalid value: \"Data\": a lowercase RFC 1123 label"},
    {"Pod.spec", "{'volumes':[{'emptyDir':{}}]}", "spec.volumes[0].name: Required value"},
    {"Pod.spec", "{'volumes':[{'name':'e','emptyDir':{'medium':'HugePages'}}]}",
     "spec.volumes[0].emptyDir.medium: Unsupported value: \"HugePages\""},
    {"Pod.spec", "{'volumes':[{'name':'e','emptyDir':{'sizeLimit':'lots'}}]}",
     "spec.volumes[0].emptyDir.sizeLimit: Invalid value: \"lots\""},
    {"Pod.spec", "{'volumes':[{'name':'e','emptyDir':'yes'}]}",
     "spec.volumes[0].emptyDir: Invalid value: \"yes\": must be a mapping"},
    {"Pod.spec", "{'volumes':[{'name':'c','configMap':{}}]}",
     "spec.volumes[0].configMap.name: Required value"},
    {"Pod.spec", "{'volumes':[{'name':'c','configMap':{'name':'x','defaultMode':512}}]}",
     "spec.volumes[0].configMap.defaultMode: Invalid value: 512: must be a number between 0 and "
     "0777 (octal), both inclusive"},
    {"Pod.spec",
     "{'volumes':[{'name':'c','configMap':{'name':'x','items':[{'key':'k','path':'../etc/"
     "passwd'}]}}]}",
     "spec.volumes[0].configMap.items[0].path: Invalid value: \"../etc/passwd\": must not contain "
     "'..'"},
    {"Pod.spec",
     "{'volumes':[{'name':'c','configMap':{'name':'x','items':[{'key':'k','path':'/abs'}]}}]}",
     "must be a relative path"},
    {"Pod.spec", "{'volumes':[{'name':'c','configMap':{'name':'x','items':[{'path':'p'}]}}]}",
     "configMap.items[0].key: Required value"},
    {"Pod.ctr", "{'volumeMounts':[{'name':'data','mountPath':'/data'}]}",
     "spec.containers[0].volumeMounts[0].name: Not found: \"data\""},
    {"Pod.spec",
     "{'volumes':[{'name':'v','emptyDir':{}}],'containers':[{'name':'c','image':'x','volumeMounts':"
     "[{'name':'v'}]}]}",
     "spec.containers[0].volumeMounts[0].mountPath: Required value"},
    {"Pod.spec",
     "{'volumes':[{'name':'v','emptyDir':{}}],'containers':[{'name':'c','image':'x','volumeMounts':"
     "[{'name':'v','mountPath':'/d'},{'name':'v','mountPath':'/d'}]}]}",
     "spec.containers[0].volumeMounts[1].mountPath: Invalid value: \"/d\": must be unique"},
    {"Pod.spec",
     "{'volumes':[{'name':'v','emptyDir':{}}],'containers':[{'name':'c','image':'x','volumeMounts':"
     "[{'name':'v','mountPath':'/d','subPath':'a/../../b'}]}]}",
     "volumeMounts[0].subPath: Invalid value: \"a/../../b\": must not contain '..'"},
    {"Pod.spec",
     "{'volumes':[{'name':'v','emptyDir':{}}],'initContainers':[{'name':'i','image':'x','"
     "volumeMounts':"
     "[{'name':'v','mountPath':'/d'}]}]}",
     NULL},
    {"Deployment.tmpl", "{'volumes':[{'name':'h','hostPath':{'path':'/'}}]}",
     "spec.template.spec.volumes[0].hostPath: Unsupported value: clusterfs supports emptyDir and "
     "configMap volumes"},
};

/* Each error names the right field after many valid siblings were walked. */
static const struct vcase path_cases[] = {
    {"Pod.spec",
     "{'volumes':[{'name':'v','configMap':{'name':'cfg','items':[{'key':'k','path':'p'}]}},"
     "{'name':'e','emptyDir':{'sizeLimit':'1Gi'}}],'containers':[{'name':'c','image':'x',"
     "'ports':[{'containerPort':80,'name':'http'}],'env':[{'name':'A','valueFrom':"
     "{'configMapKeyRef':{'name':'cfg','key':'k'}}},{'name':'B','valueFrom':{'fieldRef':"
     "{'fieldPath':'metadata.name'}}},{'name':'C','valueFrom':{'resourceFieldRef':"
     "{'resource':'limits.cpu'}}}],'envFrom':[{'configMapRef':{'name':'cfg'}}],"
     "'resources':{'limits':{'cpu':'1'},'requests':{'cpu':'1'}},'volumeMounts':"
     "[{'name':'v','mountPath':'/v'}],'livenessProbe':{'httpGet':{'port':80,'httpHeaders':"
     "[{'name':'X','value':'y'}]}},'readinessProbe':{'exec':{'command':['true']}},"
     "'startupProbe':{'tcpSocket':{'port':80}},'tty':'yes'}]}",
     "Pod \"p\": spec.containers[0].tty: Invalid value: \"yes\""},
    {"Pod.spec",
     "{'volumes':[{'name':'e','emptyDir':{}}],'initContainers':[{'name':'i','image':'x'}],"
     "'tolerations':[{'operator':'Exists'}],'affinity':{'nodeAffinity':{"
     "'requiredDuringSchedulingIgnoredDuringExecution':{'nodeSelectorTerms':[{'matchExpressions':"
     "[{'key':'a','operator':'Exists'}]}]},'preferredDuringSchedulingIgnoredDuringExecution':"
     "[{'weight':1,'preference':{'matchExpressions':[{'key':'b','operator':'Exists'}]}}]}},"
     "'dnsConfig':{'nameservers':['1.1.1.1']},'nodeSelector':{'a':'b'},'securityContext':'x'}",
     "Pod \"p\": spec.securityContext: Invalid value: \"x\": must be a mapping"},
    {"Pod.spec", "{'affinity':{},'securityContext':'x'}",
     "Pod \"p\": spec.securityContext: Invalid"},
    {"Deployment",
     "{'metadata':{'labels':{'a':'b'},'annotations':{'c':'d'},'ownerReferences':[]},"
     "'spec':{'strategy':{'type':'RollingUpdate','rollingUpdate':{'maxSurge':1}},'paused':'x'}}",
     "Deployment \"web\": spec.paused: Invalid value"},
    {"ReplicaSet",
     "{'spec':{'template':{'spec':{'volumes':[{'name':'v','emptyDir':{}}]}}},'metadata':{'name':'X'"
     "}}",
     "ReplicaSet \"X\": metadata.name: Invalid value"},
};

static void test_paths(void)
{
	RUN_TABLE(path_cases);
}

static void test_pod_containers(void)
{
	RUN_TABLE(container_cases);
}

static void test_pod_env(void)
{
	RUN_TABLE(env_cases);
}

static void test_pod_ports(void)
{
	RUN_TABLE(port_cases);
}

static void test_pod_resources(void)
{
	RUN_TABLE(resource_cases);
}

static void test_pod_probes(void)
{
	RUN_TABLE(probe_cases);
}

static void test_pod_spec(void)
{
	RUN_TABLE(pod_cases);
}

static void test_pod_volumes(void)
{
	RUN_TABLE(volume_cases);
}

/* --- Service, ConfigMap, Node, Namespace, Event --------------------------- */

static const struct vcase service_cases[] = {
    {"Service", "{}", NULL},
    {"Service", "{'spec':null}", "Service \"web\": spec: Required value"},
    {"Service.spec", "{'ports':[]}", "Service \"web\": spec.ports: Required value"},
    {"Service.spec", "{'ports':null}", "spec.ports: Required value"},
    {"Service.spec", "{'ports':null,'clusterIP':'None'}", NULL},
    {"Service.spec", "{'ports':[{'port':0}]}",
     "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive"},
    {"Service.spec", "{'ports':[{'port':70000}]}", "spec.ports[0].port: Invalid value: 70000"},
    {"Service.spec", "{'ports':[{'targetPort':80}]}", "spec.ports[0].port: Required value"},
    {"Service.spec", "{'ports':[{'port':'80'}]}",
     "spec.ports[0].port: Invalid value: \"80\": must be an integer"},
    {"Service.spec", "{'ports':[{'port':80,'targetPort':'http'}]}", NULL},
    {"Service.spec", "{'ports':[{'port':80,'targetPort':8080}]}", NULL},
    {"Service.spec", "{'ports':[{'port':80,'targetPort':'Bad_Name'}]}",
     "spec.ports[0].targetPort: Invalid value: \"Bad_Name\""},
    {"Service.spec", "{'ports':[{'port':80,'targetPort':70000}]}",
     "spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive"},
    {"Service.spec", "{'ports':[{'port':80,'targetPort':true}]}",
     "spec.ports[0].targetPort: Invalid value: true"},
    {"Service.spec", "{'type':'NodePort','ports':[{'port':80,'nodePort':30080}]}", NULL},
    {"Service.spec", "{'type':'NodePort','ports':[{'port':80}]}", NULL},
    {"Service.spec", "{'type':'LoadBalancer','ports':[{'port':80,'nodePort':32767}]}", NULL},
    {"Service.spec", "{'type':'NodePort','ports':[{'port':80,'nodePort':80}]}",
     "spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range. The "
     "range of valid ports is 30000-32767"},
    {"Service.spec", "{'ports':[{'port':80,'nodePort':30080}]}",
     "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"},
    {"Service.spec",
     "{'type':'NodePort','ports':[{'name':'a','port':80,'nodePort':30080},{'name':'b','port':81,'"
     "nodePort':30080}]}",
     "spec.ports[1].nodePort: Duplicate value: 30080"},
    {"Service.spec", "{'ports':[{'port':80,'protocol':'HTTP'}]}",
     "spec.ports[0].protocol: Unsupported value: \"HTTP\": supported values: \"SCTP\", \"TCP\", "
     "\"UDP\""},
    {"Service.spec",
     "{'ports':[{'port':53,'protocol':'UDP','name':'dns'},{'port':53,'protocol':'TCP','name':'dns-"
     "tcp'}]}",
     NULL},
    {"Service.spec", "{'ports':[{'port':80},{'port':443}]}", "spec.ports[0].name: Required value"},
    {"Service.spec", "{'ports':[{'port':80,'name':'http'},{'port':443,'name':'http'}]}",
     "spec.ports[1].name: Duplicate value: \"http\""},
    {"Service.spec", "{'ports':[{'port':80,'name':'HTTP'}]}",
     "spec.ports[0].name: Invalid value: \"HTTP\": a lowercase RFC 1123 label"},
    {"Service.spec", "{'ports':[{'port':80,'name':'a'},{'port':80,'name':'b'}]}",
     "spec.ports[1]: Duplicate value: \"80/TCP\""},
    {"Service.spec", "{'type':'ExternalName','externalName':'example.com'}",
     "spec.type: Unsupported value: \"ExternalName\": clusterfs does not support ExternalName "
     "services yet"},
    {"Service.spec", "{'type':'Headless'}",
     "spec.type: Unsupported value: \"Headless\": supported values: \"ClusterIP\", "
     "\"ExternalName\", \"LoadBalancer\", \"NodePort\""},
    {"Service.spec", "{'clusterIP':'10.96.0.10'}", NULL},
    {"Service.spec", "{'clusterIP':'10.96.0.10','clusterIPs':['10.96.0.10']}", NULL},
    {"Service.spec", "{'clusterIP':'10.96.0.10','clusterIPs':['10.96.0.11']}",
     "spec.clusterIPs[0]: Invalid value: \"10.96.0.11\": must be the same as clusterIP"},
    {"Service.spec", "{'clusterIP':''}", NULL},
    {"Service.spec", "{'clusterIP':'10.96.0'}",
     "spec.clusterIP: Invalid value: \"10.96.0\": must be a valid IPv4 address"},
    {"Service.spec", "{'clusterIP':'300.1.1.1'}", "must be a valid IPv4 address"},
    {"Service.spec", "{'clusterIP':'10.096.0.1'}", "must be a valid IPv4 address"},
    {"Service.spec", "{'clusterIP':'None','type':'NodePort'}",
     "spec.clusterIP: Invalid value: \"None\": may not be set to 'None' for NodePort services"},
    {"Service.spec", "{'selector':{'app':1}}",
     "spec.selector[app]: Invalid value: 1: must be a string"},
    {"Service.spec", "{'selector':null}", NULL},
    {"Service.spec", "{'sessionAffinity':'ClientIP'}", NULL},
    {"Service.spec", "{'sessionAffinity':'Sticky'}",
     "spec.sessionAffinity: Unsupported value: \"Sticky\": supported values: \"ClientIP\", "
     "\"None\""},
    {"Service.spec", "{'externalTrafficPolicy':'Local'}", "spec.externalTrafficPolicy: Forbidden"},
    {"Service.spec", "{'type':'NodePort','externalTrafficPolicy':'Local'}", NULL},
};

static const struct vcase configmap_cases[] = {
    {"ConfigMap", "{'data':{'app.properties':'a=1\\nb=2\\n','LOG_LEVEL':'debug','-x_y.z':''}}",
     NULL},
    {"ConfigMap", "{'data':null}", NULL},
    {"ConfigMap", "{'data':{'n':5}}",
     "ConfigMap \"cfg\": data[n]: Invalid value: 5: must be a string"},
    {"ConfigMap", "{'data':['a']}", "data: Invalid value: [\"a\"]: must be a mapping"},
    {"ConfigMap", "{'data':{'a b':'x'}}",
     "data: Invalid value: \"a b\": a valid config key must consist of alphanumeric characters, "
     "'-', '_' or '.'"},
    {"ConfigMap", "{'data':{'..':'x'}}", "data: Invalid value: \"..\": must not be '..'"},
    {"ConfigMap", "{'data':{'.':'x'}}", "must not be '.'"},
    {"ConfigMap", "{'data':{'..x':'x'}}", "must not start with '..'"},
    {"ConfigMap", "{'data':{'a/b':'x'}}", "a valid config key"},
    {"ConfigMap", "{'binaryData':{'logo.png':'aGVsbG8='}}", NULL},
    {"ConfigMap", "{'binaryData':{'b':'abc'}}",
     "binaryData[b]: Invalid value: \"abc\": must be base64 encoded"},
    {"ConfigMap", "{'binaryData':{'b':'a$==='}}", "must be base64 encoded"},
    {"ConfigMap", "{'binaryData':{'a':'aGk='}}",
     "binaryData: Invalid value: \"a\": duplicate of key present in data"},
    {"ConfigMap", "{'immutable':true}", NULL},
    {"ConfigMap", "{'immutable':'yes'}", "immutable: Invalid value: \"yes\": must be a boolean"},
};

static const struct vcase node_ns_event_cases[] = {
    {"Node", "{}", NULL},
    {"Node",
     "{'spec':{'unschedulable':true,'podCIDR':'10.244.1.0/24','podCIDRs':['10.244.1.0/"
     "24'],'providerID':'x',"
     "'taints':[{'key':'dedicated','value':'db','effect':'NoSchedule'},{'key':'dedicated','effect':"
     "'NoExecute'}]}}",
     NULL},
    {"Node", "{'spec':{'unschedulable':'yes'}}",
     "Node \"node1\": spec.unschedulable: Invalid value: \"yes\": must be a boolean"},
    {"Node", "{'spec':{'taints':[{'key':'k','effect':'Evict'}]}}",
     "spec.taints[0].effect: Unsupported value: \"Evict\": supported values: \"NoExecute\", "
     "\"NoSchedule\", \"PreferNoSchedule\""},
    {"Node", "{'spec':{'taints':[{'effect':'NoSchedule'}]}}", "spec.taints[0].key: Required value"},
    {"Node", "{'spec':{'taints':[{'key':'k'}]}}", "spec.taints[0].effect: Required value"},
    {"Node", "{'spec':{'taints':[{'key':'k','value':'bad value','effect':'NoSchedule'}]}}",
     "spec.taints[0].value: Invalid value"},
    {"Node",
     "{'spec':{'taints':[{'key':'k','effect':'NoSchedule'},{'key':'k','value':'v','effect':'"
     "NoSchedule'}]}}",
     "spec.taints[1]: Duplicate value"},
    {"Node", "{'spec':{'podCIDR':'10.244.1.0'}}",
     "spec.podCIDR: Invalid value: \"10.244.1.0\": must be a valid IPv4 CIDR"},
    {"Node", "{'spec':{'podCIDR':'10.244.1.0/33'}}", "must be a valid IPv4 CIDR"},
    {"Node", "{'metadata':{'name':'Node1'}}", "metadata.name: Invalid value: \"Node1\""},
    {"Namespace", "{}", NULL},
    {"Namespace", "{'spec':{'finalizers':['kubernetes','example.com/cleanup']}}", NULL},
    {"Namespace", "{'spec':{'finalizers':['cleanup']}}",
     "spec.finalizers[0]: Invalid value: \"cleanup\": name is neither a standard finalizer name "
     "nor is it fully qualified"},
    {"Namespace", "{'spec':{'finalizers':'kubernetes'}}",
     "spec.finalizers: Invalid value: \"kubernetes\": must be a list"},
    {"Namespace", "{'metadata':{'name':'Dev'}}",
     "Namespace \"Dev\": metadata.name: Invalid value: \"Dev\""},
    {"Event", "{}", NULL},
    {"Event", "{'type':'Warning','count':3,'source':{'component':'kubelet'}}", NULL},
    {"Event", "{'involvedObject':null}", "Event \"p.1\": involvedObject: Required value"},
    {"Event", "{'involvedObject':{'name':null}}", "involvedObject.name: Required value"},
    {"Event", "{'involvedObject':{'kind':''}}", "involvedObject.kind: Required value"},
    {"Event", "{'type':'Info'}",
     "type: Unsupported value: \"Info\": supported values: \"Normal\", \"Warning\""},
    {"Event", "{'message':5}", "message: Invalid value: 5: must be a string"},
    {"Event", "{'count':-1}", "count: Invalid value: -1"},
};

static void test_service(void)
{
	RUN_TABLE(service_cases);
}

static void test_configmap(void)
{
	RUN_TABLE(configmap_cases);
}

static void test_node_namespace_event(void)
{
	RUN_TABLE(node_ns_event_cases);
}

/* --- defaults ------------------------------------------------------------- */

/* obj after valid_default equals want (both ' JSON). */
static bool defaults_to(const char *kind, const char *obj_text, const char *want_text)
{
	const struct kind_info *k = kind_by_kind(kind);
	json_t *obj = load(obj_text), *want = load(want_text);
	bool pass;

	valid_default(obj, k);
	pass = obj && want && json_equal(obj, want);
	if (!pass) {
		char *got = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
		char *exp = json_dumps(want, JSON_COMPACT | JSON_SORT_KEYS);
		fprintf(stderr, "    got  %s\n    want %s\n", got, exp);
		free(got);
		free(exp);
	}
	/* Defaulting twice changes nothing more. */
	json_t *again = json_deep_copy(obj);
	valid_default(again, k);
	pass = pass && json_equal(again, obj);
	json_decref(again);
	json_decref(obj);
	json_decref(want);
	return pass;
}

#define POD_DEFAULTS                                                                               \
	"'restartPolicy':'Always','terminationGracePeriodSeconds':30,'dnsPolicy':'ClusterFirst',"  \
	"'schedulerName':'default-scheduler','securityContext':{}"
#define CTR_DEFAULTS                                                                               \
	"'terminationMessagePath':'/dev/termination-log','terminationMessagePolicy':'File'"

static void test_defaults_deployment(void)
{
	printf("  a minimal Deployment gets every default, and nothing else\n");
	CHECK(defaults_to(
	    "Deployment",
	    "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{"
	    "'selector':{'matchLabels':{'app':'web'}},'template':{'metadata':{'labels':{'app':'web'"
	    "}},"
	    "'spec':{'containers':[{'name':'web','image':'nginx:1.25'}]}}}}",
	    "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},'spec':{"
	    "'replicas':1,'revisionHistoryLimit':10,'progressDeadlineSeconds':600,'minReadySeconds'"
	    ":0,"
	    "'strategy':{'type':'RollingUpdate','rollingUpdate':{'maxSurge':'25%','maxUnavailable':"
	    "'25%'}},"
	    "'selector':{'matchLabels':{'app':'web'}},'template':{'metadata':{'labels':{'app':'web'"
	    "}},"
	    "'spec':{" POD_DEFAULTS ",'containers':[{'name':'web','image':'nginx:1.25',"
	    "'imagePullPolicy':'IfNotPresent'," CTR_DEFAULTS "}]}}}}"));

	printf("  user values are kept: replicas 0, maxSurge 1, OnFailure-free template, Never "
	       "pull\n");
	CHECK(defaults_to(
	    "Deployment",
	    "{'spec':{'replicas':0,'revisionHistoryLimit':2,'progressDeadlineSeconds':60,'"
	    "minReadySeconds':5,"
	    "'strategy':{'rollingUpdate':{'maxSurge':1}},'template':{'spec':{'"
	    "terminationGracePeriodSeconds':0,"
	    "'dnsPolicy':'Default','schedulerName':'mine','securityContext':{'runAsUser':1},"
	    "'containers':[{'name':'c','image':'x','imagePullPolicy':'Never','"
	    "terminationMessagePath':'/t',"
	    "'terminationMessagePolicy':'FallbackToLogsOnError'}]}}}}",
	    "{'spec':{'replicas':0,'revisionHistoryLimit':2,'progressDeadlineSeconds':60,'"
	    "minReadySeconds':5,"
	    "'strategy':{'type':'RollingUpdate','rollingUpdate':{'maxSurge':1,'maxUnavailable':'25%"
	    "'}},"
	    "'template':{'spec':{'restartPolicy':'Always','terminationGracePeriodSeconds':0,"
	    "'dnsPolicy':'Default','schedulerName':'mine','securityContext':{'runAsUser':1},"
	    "'containers':[{'name':'c','image':'x','imagePullPolicy':'Never','"
	    "terminationMessagePath':'/t',"
	    "'terminationMessagePolicy':'FallbackToLogsOnError'}]}}}}"));

	printf("  Recreate gets no rollingUpdate\n");
	CHECK(defaults_to(
	    "Deployment", "{'spec':{'strategy':{'type':'Recreate'}}}",
	    "{'spec':{'replicas':1,'revisionHistoryLimit':10,'progressDeadlineSeconds':600,"
	    "'minReadySeconds':0,'strategy':{'type':'Recreate'}}}"));

	printf("  a missing selector is not defaulted (and then refused)\n");
	const struct vcase no_sel = {"Deployment.spec", "{'selector':null}",
				     "spec.selector: Required value"};
	CHECK(run_case(&no_sel));

	printf("  ReplicaSet: replicas 1 and the template's defaults\n");
	CHECK(defaults_to(
	    "ReplicaSet",
	    "{'spec':{'template':{'spec':{'containers':[{'name':'c','image':'busybox'}]}}}}",
	    "{'spec':{'replicas':1,'template':{'spec':{" POD_DEFAULTS ",'containers':[{"
	    "'name':'c','image':'busybox','imagePullPolicy':'Always'," CTR_DEFAULTS "}]}}}}"));

	printf("  no spec, or a spec of the wrong type: nothing to default, no crash\n");
	CHECK(defaults_to("Deployment", "{'kind':'Deployment'}", "{'kind':'Deployment'}"));
	CHECK(defaults_to("Deployment", "{'spec':'x'}", "{'spec':'x'}"));
	CHECK(defaults_to("Pod", "{'spec':{'containers':'x','volumes':[1]}}",
			  "{'spec':{" POD_DEFAULTS ",'containers':'x','volumes':[1]}}"));
	valid_default(NULL, kind_by_kind("Pod"));
}

static void test_defaults_pod(void)
{
	printf(
	    "  containers, init containers, ports, probes, volumes; Pods request their limits\n");
	CHECK(defaults_to(
	    "Pod",
	    "{'spec':{'restartPolicy':'','containers':[{'name':'c','image':'busybox:latest',"
	    "'ports':[{'containerPort':80},{'containerPort':53,'protocol':'UDP'}],"
	    "'resources':{'limits':{'cpu':'1','memory':'1Gi'},'requests':{'cpu':'100m'}},"
	    "'livenessProbe':{'httpGet':{'port':80}},'readinessProbe':{'exec':{'command':['true']},"
	    "'periodSeconds':5,'timeoutSeconds':0}}],"
	    "'initContainers':[{'name':'i','image':'localhost:5000/tools'}],"
	    "'volumes':[{'name':'a'},{'name':'b','configMap':{'name':'cfg'}},{'name':'c','"
	    "configMap':"
	    "{'name':'cfg','defaultMode':256}}]}}",
	    "{'spec':{" POD_DEFAULTS ",'containers':[{'name':'c','image':'busybox:latest',"
	    "'imagePullPolicy':'Always'," CTR_DEFAULTS ","
	    "'ports':[{'containerPort':80,'protocol':'TCP'},{'containerPort':53,'protocol':'UDP'}],"
	    "'resources':{'limits':{'cpu':'1','memory':'1Gi'},'requests':{'cpu':'100m','memory':'"
	    "1Gi'}},"
	    "'livenessProbe':{'httpGet':{'port':80,'path':'/','scheme':'HTTP'},'timeoutSeconds':1,"
	    "'periodSeconds':10,'successThreshold':1,'failureThreshold':3},"
	    "'readinessProbe':{'exec':{'command':['true']},'periodSeconds':5,'timeoutSeconds':1,"
	    "'successThreshold':1,'failureThreshold':3}}],"
	    "'initContainers':[{'name':'i','image':'localhost:5000/"
	    "tools','imagePullPolicy':'Always'," CTR_DEFAULTS "}],"
	    "'volumes':[{'name':'a','emptyDir':{}},{'name':'b','configMap':{'name':'cfg','"
	    "defaultMode':420}},"
	    "{'name':'c','configMap':{'name':'cfg','defaultMode':256}}]}}"));

	printf("  a template does not copy limits into requests (Kubernetes does that for Pods "
	       "only)\n");
	CHECK(defaults_to(
	    "Deployment",
	    "{'spec':{'strategy':{'type':'Recreate'},'replicas':1,'revisionHistoryLimit':10,"
	    "'progressDeadlineSeconds':600,'minReadySeconds':0,'template':{'spec':{"
	    "'containers':[{'name':'c','image':'x:1','resources':{'limits':{'cpu':'1'}}}]}}}}",
	    "{'spec':{'strategy':{'type':'Recreate'},'replicas':1,'revisionHistoryLimit':10,"
	    "'progressDeadlineSeconds':600,'minReadySeconds':0,'template':{'spec':{" POD_DEFAULTS
	    ","
	    "'containers':[{'name':'c','image':'x:1','imagePullPolicy':'IfNotPresent'," CTR_DEFAULTS
	    ","
	    "'resources':{'limits':{'cpu':'1'}}}]}}}}"));

	static const char *const pulls[][2] = {
	    {"nginx", "Always"},
	    {"nginx:latest", "Always"},
	    {"nginx:1.25", "IfNotPresent"},
	    {"localhost:5000/nginx", "Always"},
	    {"localhost:5000/nginx:1.0", "IfNotPresent"},
	    {"nginx@sha256:0123abcd", "IfNotPresent"},
	    {"nginx:latest@sha256:0123abcd", "Always"},
	    {"registry.k8s.io/busybox:1.27.2", "IfNotPresent"},
	    {"example.com/latest", "Always"},
	    {"nginx:latest1", "IfNotPresent"},
	};
	for (size_t i = 0; i < sizeof(pulls) / sizeof(pulls[0]); i++) {
		json_t *spec =
		    json_pack("{s[{ssss}]}", "containers", "name", "c", "image", pulls[i][0]);
		json_t *pod = json_pack("{so}", "spec", spec);
		valid_default(pod, kind_by_kind("Pod"));
		const char *got = json_string_value(json_object_get(
		    json_array_get(json_object_get(spec, "containers"), 0), "imagePullPolicy"));
		bool pass = got && !strcmp(got, pulls[i][1]);
		printf("  %s imagePullPolicy of %s is %s\n", pass ? "ok  " : "FAIL", pulls[i][0],
		       pulls[i][1]);
		CHECK(pass);
		json_decref(pod);
	}
}

static void test_defaults_service_namespace(void)
{
	printf("  Service: type, sessionAffinity, protocol, targetPort = port; user values kept\n");
	CHECK(defaults_to(
	    "Service",
	    "{'spec':{'ports':[{'port':80},{'port':443,'targetPort':'https','protocol':'TCP'},"
	    "{'port':53,'protocol':'UDP','targetPort':5353}]}}",
	    "{'spec':{'type':'ClusterIP','sessionAffinity':'None','ports':[{'port':80,'protocol':'"
	    "TCP',"
	    "'targetPort':80},{'port':443,'targetPort':'https','protocol':'TCP'},{'port':53,"
	    "'protocol':'UDP','targetPort':5353}]}}"));
	CHECK(defaults_to("Service", "{'spec':{'type':'NodePort','sessionAffinity':'ClientIP'}}",
			  "{'spec':{'type':'NodePort','sessionAffinity':'ClientIP'}}"));

	printf("  Namespace: the kubernetes.io/metadata.name label, kept equal to the name\n");
	CHECK(defaults_to(
	    "Namespace", "{'metadata':{'name':'dev'}}",
	    "{'metadata':{'name':'dev','labels':{'kubernetes.io/metadata.name':'dev'}}}"));
	CHECK(defaults_to(
	    "Namespace",
	    "{'metadata':{'name':'dev','labels':{'team':'a','kubernetes.io/metadata.name':'x'}}}",
	    "{'metadata':{'name':'dev','labels':{'team':'a','kubernetes.io/"
	    "metadata.name':'dev'}}}"));
	printf("  ConfigMap, Node, Event: no defaults\n");
	CHECK(defaults_to("ConfigMap", "{'data':{'a':'b'}}", "{'data':{'a':'b'}}"));
	CHECK(defaults_to("Node", "{'metadata':{'name':'n'}}", "{'metadata':{'name':'n'}}"));
}

/* --- real manifests ------------------------------------------------------- */

static const struct vcase real_cases[] = {
    {"Deployment",
     "{'metadata':{'name':'nginx-deployment','labels':{'app':'nginx'}},'spec':{'replicas':3,"
     "'selector':{'matchLabels':{'app':'nginx'}},'template':{'metadata':{'labels':{'app':'nginx'}},"
     "'spec':{'containers':[{'name':'nginx','image':'nginx:1.14.2','ports':[{'containerPort':80}],"
     "'resources':{'requests':{'cpu':'100m','memory':'64Mi'},'limits':{'cpu':'500m','memory':'"
     "128Mi'}},"
     "'readinessProbe':{'httpGet':{'path':'/','port':80},'initialDelaySeconds':5}}]}}}}",
     NULL},
    {"Service",
     "{'metadata':{'name':'my-service','labels':{'app.kubernetes.io/name':'proxy'}},'spec':{"
     "'selector':{'app.kubernetes.io/name':'proxy'},'ports':[{'name':'name-of-service-port',"
     "'protocol':'TCP','port':80,'targetPort':'http-web-svc'}]}}",
     NULL},
    {"ConfigMap",
     "{'metadata':{'name':'game-demo'},'data':{'player_initial_lives':'3',"
     "'ui_properties_file_name':'user-interface.properties','game.properties':"
     "'enemy.types=aliens,monsters\\nplayer.maximum-lives=5\\n','user-interface.properties':"
     "'color.good=purple\\ncolor.bad=yellow\\nallow.textmode=true\\n'}}",
     NULL},
    {"Pod",
     "{'metadata':{'name':'configmap-demo-pod','labels':{'app':'demo'}},'spec':{'containers':[{"
     "'name':'demo','image':'alpine','command':['sleep','3600'],'env':[{'name':'PLAYER_INITIAL_"
     "LIVES',"
     "'valueFrom':{'configMapKeyRef':{'name':'game-demo','key':'player_initial_lives'}}},"
     "{'name':'POD_NAME','valueFrom':{'fieldRef':{'fieldPath':'metadata.name'}}}],"
     "'envFrom':[{'configMapRef':{'name':'game-demo'}}],'ports':[{'name':'http','containerPort':"
     "8080}],"
     "'resources':{'limits':{'cpu':'250m','memory':'64Mi'}},"
     "'livenessProbe':{'httpGet':{'path':'/"
     "healthz','port':'http'},'initialDelaySeconds':3,'periodSeconds':3},"
     "'readinessProbe':{'tcpSocket':{'port':8080},'periodSeconds':5},"
     "'startupProbe':{'exec':{'command':['cat','/tmp/"
     "started']},'failureThreshold':30,'periodSeconds':10},"
     "'volumeMounts':[{'name':'config','mountPath':'/config','readOnly':true}]}],"
     "'volumes':[{'name':'config','configMap':{'name':'game-demo','items':[{'key':'game.properties'"
     ","
     "'path':'game.properties'}]}}],'restartPolicy':'OnFailure','nodeSelector':{'kubernetes.io/"
     "os':'linux'},"
     "'tolerations':[{'key':'node.kubernetes.io/"
     "not-ready','operator':'Exists','effect':'NoExecute',"
     "'tolerationSeconds':300}]}}",
     NULL},
    {"Service",
     "{'metadata':{'name':'web-np'},'spec':{'type':'NodePort','selector':{'app':'web'},'ports':["
     "{'name':'http','port':80,'targetPort':8080,'nodePort':30007},{'name':'https','port':443}]}}",
     NULL},
    {"Service",
     "{'metadata':{'name':'db'},'spec':{'clusterIP':'None','selector':{'app':'db'},'ports':[{'port'"
     ":5432}]}}",
     NULL},
};

static void test_real_manifests(void)
{
	RUN_TABLE(real_cases);

	printf("  unknown fields are kept and accepted; JSON null counts as absent\n");
	const struct vcase extra[] = {
	    {"Deployment", "{'status':{'replicas':3},'spec':{'someFutureField':{'x':1}}}", NULL},
	    {"Pod.ctr", "{'resources':null,'env':null,'ports':null}", NULL},
	};
	RUN_TABLE(extra);

	printf("  a NULL err pointer and non-mapping manifests are handled\n");
	const struct kind_info *k = kind_by_kind("Pod");
	json_t *arr = json_array();
	CHECK(valid_object(arr, k, NULL) == -EINVAL);
	_cleanup_err_ struct err *e = NULL;
	CHECK(valid_object(arr, k, &e) == -EINVAL && e && strstr(e->msg, "must be a mapping"));
	json_decref(arr);
	json_t *obj = build("Pod.ctr", "{'image':null}", &k);
	CHECK(valid_object(obj, k, NULL) == -EINVAL);
	json_decref(obj);
}

/* --- quantities and int-or-percent ---------------------------------------- */

static bool qty(json_t *q, bool ok, int64_t want)
{
	_cleanup_err_ struct err *e = NULL;
	int64_t got = -42;
	int r = quantity_parse(q, &got, &e);
	bool pass = ok ? r == 0 && got == want : r == -EINVAL && e && got == -42;
	char *s = json_dumps(q, JSON_ENCODE_ANY);

	if (ok)
		printf("  %s quantity %s = %" PRId64 "m\n", pass ? "ok  " : "FAIL", s, want);
	else
		printf("  %s quantity %s refused: %s\n", pass ? "ok  " : "FAIL", s,
		       e ? e->msg : "");
	if (!pass)
		fprintf(stderr, "    got r=%d value %" PRId64 "\n", r, got);
	free(s);
	json_decref(q);
	return pass;
}

#define QOK(s, v) CHECK(qty(json_string(s), true, v))
#define QBAD(s)	  CHECK(qty(json_string(s), false, 0))

static void test_quantity(void)
{
	QOK("100m", 100);
	QOK("1", 1000);
	QOK("1.5", 1500);
	QOK("128Mi", 134217728000LL);
	QOK("1e3", 1000000);
	QOK("0.1m", 1);
	QOK("1Ki", 1024000);
	QOK("1Gi", 1073741824000LL);
	QOK("1.5Gi", 1610612736000LL);
	QOK("0.0001Ki", 103); /* 102.4m rounded up */
	QOK("1G", 1000000000000LL);
	QOK("2k", 2000000);
	QOK("500M", 500000000000LL);
	QOK("1T", 1000000000000000LL);
	QOK("1P", 1000000000000000000LL);
	QOK("1n", 1);
	QOK("1u", 1);
	QOK("1500u", 2);
	QOK("1000u", 1);
	QOK("0", 0);
	QOK("0.000", 0);
	QOK("-0", 0);
	QOK("1.0001", 1001);
	QOK("1e-3", 1);
	QOK("1E3", 1000000);
	QOK("1e+3", 1000000);
	QOK("2.5e-1", 250);
	QOK(".5", 500);
	QOK("5.", 5000);
	QOK("+2", 2000);
	QOK("-1", -1000);
	QOK("-1.5", -1500);
	QOK("007", 7000);
	QOK("9223372036854775m", 9223372036854775LL);
	QOK("9223372036854775807n", 9223372036855LL);
	QOK("1e-1000000000", 1);
	QOK("8Pi", 9007199254740992000LL);
	QBAD("12x");
	QBAD("");
	QBAD("Mi");
	QBAD("1.2.3");
	QBAD("1K");
	QBAD("1 Mi");
	QBAD(" 1");
	QBAD("1e");
	QBAD("1ee3");
	QBAD("e3");
	QBAD("1e3.5");
	QBAD("1Mib");
	QBAD("+");
	QBAD(".");
	QBAD("1E"); /* exa: 10^21 milli overflows */
	QBAD("1Ei");
	QBAD("10P"); /* 10^19 milli */
	QBAD("9223372036854775807");
	QBAD("1e100000000000000");
	CHECK(qty(json_integer(2), true, 2000));
	CHECK(qty(json_integer(-3), true, -3000));
	CHECK(qty(json_real(0.5), true, 500));
	CHECK(qty(json_real(0.1), true, 100));
	CHECK(qty(json_real(1e3), true, 1000000));
	CHECK(qty(json_real(0.0001), true, 1));
	CHECK(qty(json_integer(9223372036854775807LL), false, 0));
	CHECK(qty(json_true(), false, 0));
	CHECK(qty(json_object(), false, 0));

	_cleanup_err_ struct err *e = NULL;
	int64_t v;
	json_t *junk = json_string("12x");
	CHECK(quantity_parse(junk, &v, &e) == -EINVAL && e &&
	      strstr(e->msg, "Invalid value: \"12x\": must be a quantity"));
	printf("  message for junk: %s\n", e ? e->msg : "");
	json_decref(junk);
}

static bool iop(json_t *v, int64_t total, bool up, bool ok, int64_t want)
{
	_cleanup_err_ struct err *e = NULL;
	int64_t got = -42;
	int r = intorpercent(v, total, up, &got, &e);
	bool pass = ok ? r == 0 && got == want : r == -EINVAL && e;
	char *s = json_dumps(v, JSON_ENCODE_ANY);

	if (ok)
		printf("  %s %s of %" PRId64 " rounded %s = %" PRId64 "\n", pass ? "ok  " : "FAIL",
		       s, total, up ? "up" : "down", want);
	else
		printf("  %s %s refused: %s\n", pass ? "ok  " : "FAIL", s, e ? e->msg : "");
	if (!pass)
		fprintf(stderr, "    got r=%d value %" PRId64 "\n", r, got);
	free(s);
	json_decref(v);
	return pass;
}

static void test_intorpercent(void)
{
	CHECK(iop(json_integer(5), 10, true, true, 5));
	CHECK(iop(json_integer(0), 10, true, true, 0));
	CHECK(iop(json_integer(50), 10, false, true, 50));
	CHECK(iop(json_string("25%"), 10, true, true, 3));
	CHECK(iop(json_string("25%"), 10, false, true, 2));
	CHECK(iop(json_string("33%"), 10, true, true, 4));
	CHECK(iop(json_string("33%"), 10, false, true, 3));
	CHECK(iop(json_string("25%"), 4, true, true, 1));
	CHECK(iop(json_string("25%"), 4, false, true, 1));
	CHECK(iop(json_string("0%"), 10, true, true, 0));
	CHECK(iop(json_string("100%"), 7, false, true, 7));
	CHECK(iop(json_string("200%"), 3, true, true, 6));
	CHECK(iop(json_string("1%"), 1, true, true, 1));
	CHECK(iop(json_string("1%"), 1, false, true, 0));
	CHECK(iop(json_string("25%"), 0, true, true, 0));
	CHECK(iop(json_integer(-1), 10, true, false, 0));
	CHECK(iop(json_string("abc"), 10, true, false, 0));
	CHECK(iop(json_string("25"), 10, true, false, 0));
	CHECK(iop(json_string("%"), 10, true, false, 0));
	CHECK(iop(json_string("-5%"), 10, true, false, 0));
	CHECK(iop(json_string("1.5%"), 10, true, false, 0));
	CHECK(iop(json_string("25 %"), 10, true, false, 0));
	CHECK(iop(json_real(2.5), 10, true, false, 0));
	CHECK(iop(json_null(), 10, true, false, 0));
	CHECK(iop(json_string("99999999999999999999%"), 10, true, false, 0));
}

/* --- updates -------------------------------------------------------------- */

struct ucase {
	const char *what;
	const char *old_patch;
	const char *new_patch;
	const char *want; /* NULL: allowed */
};

static bool run_update(const struct ucase *t)
{
	const struct kind_info *k;
	_cleanup_err_ struct err *e = NULL;
	json_t *old = build(t->what, t->old_patch, &k);
	json_t *new = build(t->what, t->new_patch, &k);
	bool pass = false;
	int r = -1;

	if (old && new) {
		valid_default(old, k);
		valid_default(new, k);
		if (valid_object(old, k, &e) || valid_object(new, k, &e)) {
			fprintf(stderr, "    test object invalid: %s\n", e ? e->msg : "");
		} else {
			r = valid_update(old, new, k, &e);
			pass = t->want ? r == -EINVAL && e && strstr(e->msg, t->want) : r == 0;
		}
	}
	printf("  %s %-15s %.30s => %.30s -> %s\n", pass ? "ok  " : "FAIL", t->what, t->old_patch,
	       t->new_patch, t->want ? t->want : "allowed");
	if (!pass)
		fprintf(stderr, "    got %d: %s\n", r, e ? e->msg : "(no message)");
	json_decref(old);
	json_decref(new);
	return pass;
}

static const struct ucase update_cases[] = {
    {"Deployment.spec", "{}", "{'replicas':5}", NULL},
    {"Deployment.ctr", "{}", "{'image':'nginx:1.26'}", NULL},
    {"Deployment.spec", "{}",
     "{'selector':{'matchLabels':{'app':'web','v':'2'}},'template':{'metadata':"
     "{'labels':{'app':'web','v':'2'}}}}",
     "Deployment \"web\": spec.selector: Invalid value: "
     "{\"matchLabels\":{\"app\":\"web\",\"v\":\"2\"}}: field is immutable"},
    {"ReplicaSet.spec", "{}",
     "{'selector':{'matchExpressions':[{'key':'app','operator':'In','values':['web']}],'"
     "matchLabels':null}}",
     "spec.selector: Invalid value"},
    {"ReplicaSet.spec", "{}", "{'replicas':0}", NULL},
    {"Service.spec", "{'clusterIP':'10.96.0.10'}", "{'clusterIP':'10.96.0.11'}",
     "Service \"web\": spec.clusterIP: Invalid value: \"10.96.0.11\": field is immutable"},
    {"Service.spec", "{'clusterIP':'10.96.0.10'}", "{'clusterIP':'None'}",
     "spec.clusterIP: Invalid value: \"None\": field is immutable"},
    {"Service.spec", "{}", "{'clusterIP':'10.96.0.10'}", NULL},
    {"Service.spec", "{'clusterIP':'10.96.0.10'}", "{}", NULL},
    {"Service.spec", "{'clusterIP':'10.96.0.10'}",
     "{'clusterIP':'10.96.0.10','ports':[{'port':8080}]}", NULL},
    {"Pod.ctr", "{}", "{'image':'busybox:1.37'}", NULL},
    {"Pod.spec", "{'initContainers':[{'name':'i','image':'a:1'}]}",
     "{'initContainers':[{'name':'i','image':'a:2'}]}", NULL},
    {"Pod.spec", "{}", "{'restartPolicy':'Never'}",
     "Pod \"p\": spec: Forbidden: pod updates may not change fields other than "
     "`spec.containers[*].image`"},
    {"Pod.ctr", "{}", "{'env':[{'name':'A','value':'1'}]}",
     "existing tolerations); spec.containers changed"},
    {"Pod.spec", "{}", "{'restartPolicy':'Never'}",
     "existing tolerations); spec.restartPolicy changed"},
    {"Pod.ctr", "{}", "{'name':'d'}", "spec: Forbidden"},
    {"Pod.spec", "{}",
     "{'containers':[{'name':'c','image':'busybox:1.36'},{'name':'d','image':'x'}]}",
     "spec: Forbidden"},
    {"Pod.spec", "{}", "{'activeDeadlineSeconds':60}", NULL},
    {"Pod.spec", "{'activeDeadlineSeconds':60}", "{'activeDeadlineSeconds':30}", NULL},
    {"Pod.spec", "{'activeDeadlineSeconds':60}", "{'activeDeadlineSeconds':90}",
     "spec.activeDeadlineSeconds: Invalid value: 90: must be less than or equal to previous value"},
    {"Pod.spec", "{'activeDeadlineSeconds':60}", "{'activeDeadlineSeconds':null}",
     "spec.activeDeadlineSeconds: Invalid value: null: must not update from a positive integer to "
     "nil value"},
    {"Pod.spec", "{'tolerations':[{'key':'a','operator':'Exists'}]}",
     "{'tolerations':[{'key':'a','operator':'Exists'},{'key':'b','operator':'Exists'}]}", NULL},
    {"Pod.spec",
     "{'tolerations':[{'key':'a','operator':'Exists','effect':'NoExecute','tolerationSeconds':60}]"
     "}",
     "{'tolerations':[{'key':'a','operator':'Exists','effect':'NoExecute','tolerationSeconds':30}]"
     "}",
     NULL},
    {"Pod.spec", "{'tolerations':[{'key':'a','operator':'Exists'}]}",
     "{'tolerations':[{'key':'b','operator':'Exists'}]}",
     "spec.tolerations: Forbidden: existing toleration can not be modified"},
    {"Pod.spec",
     "{'tolerations':[{'key':'node.kubernetes.io/"
     "not-ready','operator':'Exists','effect':'NoExecute',"
     "'tolerationSeconds':300},{'key':'node.kubernetes.io/unreachable','operator':'Exists',"
     "'effect':'NoExecute','tolerationSeconds':300}]}",
     "{'tolerations':null}", NULL},
    {"Pod.spec",
     "{'tolerations':[{'key':'node.kubernetes.io/"
     "not-ready','operator':'Exists','effect':'NoExecute'}]}",
     "{'tolerations':[{'key':'node.kubernetes.io/"
     "not-ready','operator':'Exists','effect':'NoSchedule'}]}",
     "spec.tolerations: Forbidden"},
    {"Pod.spec", "{}", "{'nodeName':'node1'}",
     "spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`, "
     "`spec.initContainers[*].image`, `spec.activeDeadlineSeconds` or `spec.tolerations` (only "
     "additions to existing tolerations); spec.nodeName changed"},
    {"Pod.spec", "{'nodeName':'node1'}", "{'nodeName':null}",
     "spec: Forbidden: pod updates may not change fields"},
    {"Pod.spec", "{'nodeName':'node1'}", "{'nodeName':'node2'}",
     "spec: Forbidden: pod updates may not change fields"},
    {"Pod", "{}", "{'metadata':{'labels':{'a':'b'}},'status':{'phase':'Running'}}", NULL},
    {"ConfigMap", "{}", "{'data':{'a':'c'}}", NULL},
    {"ConfigMap", "{'immutable':true}", "{'immutable':true,'data':{'a':'c'}}",
     "ConfigMap \"cfg\": data: Forbidden: field is immutable when `immutable` is set"},
    {"ConfigMap", "{'immutable':true}", "{'immutable':false}",
     "immutable: Forbidden: field is immutable when `immutable` is set"},
    {"ConfigMap", "{'immutable':true}", "{'immutable':true,'binaryData':{'x':'aGk='}}",
     "binaryData: Forbidden"},
    {"ConfigMap", "{'immutable':true}", "{'immutable':true,'metadata':{'labels':{'a':'b'}}}", NULL},
    {"Node", "{}", "{'spec':{'unschedulable':true}}", NULL},
};

static void test_update(void)
{
	for (size_t i = 0; i < sizeof(update_cases) / sizeof(update_cases[0]); i++)
		CHECK(run_update(&update_cases[i]));
}

int main(void)
{
	RUN(test_name_rules);
	RUN(test_label_rules);
	RUN(test_metadata);
	RUN(test_size_limits);
	RUN(test_deployment_replicaset);
	RUN(test_paths);
	RUN(test_pod_containers);
	RUN(test_pod_env);
	RUN(test_pod_ports);
	RUN(test_pod_resources);
	RUN(test_pod_probes);
	RUN(test_pod_spec);
	RUN(test_pod_volumes);
	RUN(test_service);
	RUN(test_configmap);
	RUN(test_node_namespace_event);
	RUN(test_defaults_deployment);
	RUN(test_defaults_pod);
	RUN(test_defaults_service_namespace);
	RUN(test_real_manifests);
	RUN(test_quantity);
	RUN(test_intorpercent);
	RUN(test_update);
	return unit_done();
}
