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
#include "tests/unit/valid_cases.h"

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
	const struct kind_info *k = KIND_DEPLOYMENT;
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

	k = KIND_CONFIGMAP;
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
	valid_default(NULL, KIND_POD);
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
		valid_default(pod, KIND_POD);
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
	const struct kind_info *k = KIND_POD;
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
