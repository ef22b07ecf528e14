/*
 * test_openapi.c - the schema tables (engine/valid/schema.h) and the
 * OpenAPI documents made from them (http/openapi.h): every field the
 * validation names is in the schema; full manifests of every kind, once
 * defaulted, pass both the validation and the unknown-field walk; the
 * protobuf /openapi/v2 decodes (with the small decoder below) into the
 * definitions and the patch operations kubectl looks for; the v3 index
 * and documents; the routes.
 */
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mem.h"
#include "engine/valid/schema.h"
#include "engine/valid/valid.h"
#include "http/openapi.h"
#include "http/route.h"
#include "tests/unit/unit.h"

#define META "io.k8s.apimachinery.pkg.apis.meta.v1."
#define CORE "io.k8s.api.core.v1."
#define APPS "io.k8s.api.apps.v1."

/* --- a tiny protobuf reader ----------------------------------------------- */

struct pb {
	const unsigned char *p, *end;
};

static bool pb_varint(struct pb *r, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; r->p < r->end && shift < 64; shift += 7) {
		unsigned char c = *r->p++;
		*v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80))
			return true;
	}
	return false;
}

/* The next field: its number, and for length-delimited ones the bytes.
 * False at the end or on malformed input (*bad set). */
static bool pb_next(struct pb *r, int *field, struct pb *sub, bool *bad)
{
	uint64_t key, v;
	if (r->p >= r->end)
		return false;
	if (!pb_varint(r, &key))
		return !(*bad = true);
	*field = (int)(key >> 3);
	switch (key & 7) {
	case 0:
		if (!pb_varint(r, &v))
			return !(*bad = true);
		sub->p = sub->end = NULL;
		return true;
	case 2:
		if (!pb_varint(r, &v) || v > (uint64_t)(r->end - r->p))
			return !(*bad = true);
		sub->p = r->p;
		sub->end = r->p + v;
		r->p += v;
		return true;
	default:
		return !(*bad = true);
	}
}

/* The first field number f of msg, as bytes; false if absent. */
static bool pb_get(struct pb msg, int f, struct pb *out)
{
	int field;
	bool bad = false;
	struct pb sub;
	while (pb_next(&msg, &field, &sub, &bad))
		if (field == f) {
			*out = sub;
			return true;
		}
	return false;
}

static bool pb_str_is(struct pb s, const char *want)
{
	return (size_t)(s.end - s.p) == strlen(want) && !memcmp(s.p, want, strlen(want));
}

/* Walks a whole message tree, checking every length is within bounds. */
static bool pb_well_formed(struct pb msg, int depth)
{
	int field;
	bool bad = false;
	struct pb sub;
	while (pb_next(&msg, &field, &sub, &bad))
		;
	return !bad && depth >= 0;
}

/* --- the protobuf document ------------------------------------------------ */

/* Document.definitions (9) -> NamedSchema (1) named name; its Schema. */
static bool pb_definition(struct pb doc, const char *name, struct pb *schema)
{
	struct pb defs, ns, n;
	int field;
	bool bad = false;
	if (!pb_get(doc, 9, &defs))
		return false;
	while (pb_next(&defs, &field, &ns, &bad))
		if (field == 1 && pb_get(ns, 1, &n) && pb_str_is(n, name))
			return pb_get(ns, 2, schema);
	return false;
}

/* Whether Schema s has property name (properties 25 -> NamedSchema 1). */
static bool pb_has_property(struct pb s, const char *name)
{
	struct pb props, ns, n;
	int field;
	bool bad = false;
	if (!pb_get(s, 25, &props))
		return false;
	while (pb_next(&props, &field, &ns, &bad))
		if (field == 1 && pb_get(ns, 1, &n) && pb_str_is(n, name))
			return true;
	return false;
}

/* Whether the operation has a query parameter named name:
 * parameters (8) -> ParametersItem.parameter (1) -> Parameter.non_body (2)
 * -> query_parameter_sub_schema (3) -> name (4). */
static bool pb_op_has_query(struct pb op, const char *name)
{
	struct pb it, p, nb, q, n;
	int field;
	bool bad = false;
	while (pb_next(&op, &field, &it, &bad))
		if (field == 8 && pb_get(it, 1, &p) && pb_get(p, 2, &nb) && pb_get(nb, 3, &q) &&
		    pb_get(q, 4, &n) && pb_str_is(n, name))
			return true;
	return false;
}

/* The yaml of the operation's x-kubernetes-group-version-kind (13). */
static bool pb_op_gvk(struct pb op, char *out, size_t size)
{
	struct pb na, n, any, yaml;
	int field;
	bool bad = false;
	while (pb_next(&op, &field, &na, &bad))
		if (field == 13 && pb_get(na, 1, &n) &&
		    pb_str_is(n, "x-kubernetes-group-version-kind") && pb_get(na, 2, &any) &&
		    pb_get(any, 2, &yaml)) {
			snprintf(out, size, "%.*s", (int)(yaml.end - yaml.p), yaml.p);
			return true;
		}
	return false;
}

/* The patch operations (PathItem 8) of every path: how many, and how many
 * carry fieldValidation and a group-version-kind. */
static void pb_patch_ops(struct pb doc, int *n, int *with_fv, int *with_gvk)
{
	struct pb paths, np, item, op;
	int field;
	bool bad = false;
	char gvk[256];
	*n = *with_fv = *with_gvk = 0;
	if (!pb_get(doc, 8, &paths))
		return;
	while (pb_next(&paths, &field, &np, &bad)) {
		if (field != 2 || !pb_get(np, 2, &item) || !pb_get(item, 8, &op))
			continue;
		(*n)++;
		*with_fv += pb_op_has_query(op, "fieldValidation");
		*with_gvk += pb_op_gvk(op, gvk, sizeof(gvk)) && strstr(gvk, "\"kind\"");
	}
}

static void test_protobuf(void)
{
	json_t *v2 = openapi_v2();
	struct buf b = {0};
	openapi_v2_protobuf(v2, &b);
	CHECK(b.len > 10000);
	struct pb doc = {(const unsigned char *)b.s, (const unsigned char *)b.s + b.len};
	CHECK(pb_well_formed(doc, 0));
	struct pb s;
	CHECK(pb_get(doc, 1, &s) && pb_str_is(s, "2.0"));
	static const char *const defs[] = {
	    "io.k8s.api.core.v1.Pod",	      "io.k8s.api.apps.v1.Deployment",
	    "io.k8s.api.core.v1.Container",   "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
	    "io.k8s.api.core.v1.ConfigMap",   "io.k8s.apimachinery.pkg.apis.meta.v1.Status",
	    "io.k8s.api.autoscaling.v1.Scale"};
	for (size_t i = 0; i < sizeof(defs) / sizeof(defs[0]); i++)
		CHECK(pb_definition(doc, defs[i], &s));
	CHECK(pb_definition(doc, "io.k8s.api.core.v1.Container", &s));
	CHECK(pb_has_property(s, "image") && pb_has_property(s, "volumeMounts"));
	CHECK(!pb_has_property(s, "imagee"));
	/* The definition's type is "object" (TypeItem 22 -> value 1). */
	struct pb t, tv;
	CHECK(pb_get(s, 22, &t) && pb_get(t, 1, &tv) && pb_str_is(tv, "object"));
	/* Every definition and every property of the JSON document is in the
	 * protobuf one. */
	const char *name, *prop;
	json_t *def, *v;
	int defs_missing = 0;
	json_object_foreach(json_object_get(v2, "definitions"), name, def)
	{
		if (!pb_definition(doc, name, &s)) {
			defs_missing++;
			continue;
		}
		json_object_foreach(json_object_get(def, "properties"), prop, v) defs_missing +=
		    !pb_has_property(s, prop);
	}
	CHECK(defs_missing == 0);
	int n, fv, gvk;
	pb_patch_ops(doc, &n, &fv, &gvk);
	CHECK(n >= 17); /* 9 kinds, 6 status and 2 scale subresources */
	CHECK(fv == n);
	CHECK(gvk == n);
	buf_free(&b);
	json_decref(v2);
}

/* --- the JSON documents --------------------------------------------------- */

static void test_v3(void)
{
	json_t *idx = openapi_v3_index();
	json_t *paths = json_object_get(idx, "paths");
	const char *url = json_string_value(
	    json_object_get(json_object_get(paths, "api/v1"), "serverRelativeURL"));
	CHECK(url && !strncmp(url, "/openapi/v3/api/v1?hash=", 24));
	CHECK(json_object_get(paths, "apis/apps/v1") != NULL);
	json_decref(idx);

	json_t *core = openapi_v3("", "v1");
	json_t *schemas = json_object_get(json_object_get(core, "components"), "schemas");
	json_t *pod = json_object_get(schemas, "io.k8s.api.core.v1.Pod");
	json_t *g = json_array_get(json_object_get(pod, "x-kubernetes-group-version-kind"), 0);
	CHECK(g && !strcmp(json_string_value(json_object_get(g, "kind")), "Pod"));
	json_t *patch =
	    json_object_get(json_object_get(json_object_get(core, "paths"),
					    "/api/v1/namespaces/{namespace}/pods/{name}"),
			    "patch");
	CHECK(patch != NULL);
	bool fv = false;
	size_t i;
	json_t *p;
	json_array_foreach(json_object_get(patch, "parameters"), i, p) fv |=
	    !strcmp(json_string_value(json_object_get(p, "name")), "fieldValidation");
	CHECK(fv);
	/* A containers list names its merge key. */
	json_t *ctrs = json_object_get(
	    json_object_get(json_object_get(schemas, "io.k8s.api.core.v1.PodSpec"), "properties"),
	    "containers");
	CHECK(!strcmp(json_string_value(json_object_get(ctrs, "x-kubernetes-patch-merge-key")),
		      "name"));
	CHECK(json_object_get(json_object_get(core, "paths"), "/apis/apps/v1/deployments") == NULL);
	json_decref(core);

	json_t *apps = openapi_v3("apps", "v1");
	CHECK(json_object_get(json_object_get(apps, "paths"),
			      "/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale"));
	json_decref(apps);
	CHECK(openapi_v3("batch", "v1") == NULL);
}

/* Every $ref of the v2 document names a definition. */
static int bad_refs(const json_t *j, const json_t *defs)
{
	int bad = 0;
	const char *k;
	json_t *v;
	size_t i;
	if (json_is_array(j))
		json_array_foreach(j, i, v) bad += bad_refs(v, defs);
	if (!json_is_object(j))
		return bad;
	json_object_foreach((json_t *)j, k, v)
	{
		if (!strcmp(k, "$ref")) {
			const char *r = json_string_value(v);
			if (!r || strncmp(r, "#/definitions/", 14) ||
			    !json_object_get(defs, r + 14)) {
				fprintf(stderr, "  dangling $ref %s\n", r ? r : "?");
				bad++;
			}
		} else {
			bad += bad_refs(v, defs);
		}
	}
	return bad;
}

static void test_v2_refs(void)
{
	json_t *v2 = openapi_v2();
	CHECK(bad_refs(v2, json_object_get(v2, "definitions")) == 0);
	json_decref(v2);
}

/* A property's extension, as a string ("" when missing). */
static const char *ext(const json_t *defs, const char *def, const char *prop, const char *x)
{
	json_t *p =
	    json_object_get(json_object_get(json_object_get(defs, def), "properties"), prop);
	const char *v = json_string_value(json_object_get(p, x));
	return v ? v : "";
}

static const json_t *ext_keys(const json_t *defs, const char *def, const char *prop)
{
	json_t *p =
	    json_object_get(json_object_get(json_object_get(defs, def), "properties"), prop);
	return json_object_get(p, "x-kubernetes-list-map-keys");
}

/* The list strategies the strategic merge patch follows (the schema's)
 * are in both documents as Kubernetes' extensions: kubectl builds its
 * patches from them. */
static void test_patch_extensions(void)
{
	json_t *v2 = openapi_v2(), *v3 = openapi_v3("", "v1"), *apps = openapi_v3("apps", "v1");
	const json_t *d2 = json_object_get(v2, "definitions");
	const json_t *d3 = json_object_get(json_object_get(v3, "components"), "schemas");
	const json_t *da = json_object_get(json_object_get(apps, "components"), "schemas");
	const json_t *docs[] = {d2, d3};
	for (size_t i = 0; i < 2; i++) {
		const json_t *d = docs[i];
		CHECK(!strcmp(ext(d, META "ObjectMeta", "finalizers", "x-kubernetes-list-type"),
			      "set"));
		CHECK(
		    !strcmp(ext(d, META "ObjectMeta", "finalizers", "x-kubernetes-patch-strategy"),
			    "merge"));
		CHECK(!strcmp(
		    ext(d, META "ObjectMeta", "ownerReferences", "x-kubernetes-patch-merge-key"),
		    "uid"));
		CHECK(!strcmp(ext(d, CORE "PodSpec", "volumes", "x-kubernetes-patch-strategy"),
			      "merge,retainKeys"));
		CHECK(!strcmp(ext(d, CORE "PodSpec", "volumes", "x-kubernetes-list-type"), "map"));
		CHECK(!strcmp(ext(d, CORE "PodSpec", "tolerations", "x-kubernetes-patch-strategy"),
			      ""));
		CHECK(!strcmp(ext(d, CORE "Container", "ports", "x-kubernetes-patch-merge-key"),
			      "containerPort"));
		CHECK(json_array_size(ext_keys(d, CORE "Container", "ports")) == 2);
		CHECK(!strcmp(ext(d, CORE "ServiceSpec", "ports", "x-kubernetes-patch-merge-key"),
			      "port"));
		CHECK(!strcmp(ext(d, CORE "PodStatus", "podIPs", "x-kubernetes-patch-merge-key"),
			      "ip"));
		CHECK(
		    !strcmp(ext(d, CORE "NodeSpec", "podCIDRs", "x-kubernetes-list-type"), "set"));
	}
	CHECK(!strcmp(ext(d2, APPS "DeploymentSpec", "strategy", "x-kubernetes-patch-strategy"),
		      "retainKeys"));
	CHECK(!strcmp(ext(da, APPS "DeploymentSpec", "strategy", "x-kubernetes-patch-strategy"),
		      "retainKeys"));
	json_decref(v2);
	json_decref(v3);
	json_decref(apps);
}

/* The schema's list strategies are well formed: keys only on lists, each
 * a field of the elements' definition; sets only of scalars. */
static void test_list_strategies(void)
{
	int bad = 0;
	for (size_t i = 0; i < schema_count(); i++) {
		const struct sch_def *d = schema_at(i);
		for (size_t j = 0; j < d->nfields; j++) {
			const struct sch_field *f = &d->fields[j];
			const struct sch_def *el = schema_field_def(f);
			bool set = f->flags & SCH_SET;
			if ((f->mkeys || set) && f->type != SCH_ARRAY)
				bad++;
			if (set && (f->mkeys || f->item == SCH_OBJECT || f->item == SCH_ANY))
				bad++;
			for (size_t k = 0; f->mkeys && el && f->mkeys[k]; k++)
				if (!schema_field(el, f->mkeys[k])) {
					fprintf(stderr, "  %s.%s: no key %s\n", d->name, f->name,
						f->mkeys[k]);
					bad++;
				}
		}
	}
	CHECK(bad == 0);
}

static void test_routes(void)
{
	struct route r;
	CHECK(route_parse("/openapi/v2", &r) == 0 && r.type == ROUTE_OPENAPI_V2);
	CHECK(route_parse("/openapi/v3", &r) == 0 && r.type == ROUTE_OPENAPI_V3 && !r.version[0]);
	CHECK(route_parse("/openapi/v3/api/v1", &r) == 0 && r.type == ROUTE_OPENAPI_V3 &&
	      !strcmp(r.version, "v1") && !r.group[0]);
	CHECK(route_parse("/openapi/v3/apis/apps/v1", &r) == 0 && !strcmp(r.group, "apps") &&
	      !strcmp(r.version, "v1"));
	CHECK(route_parse("/openapi/v4", &r) < 0);
	CHECK(route_parse("/openapi/v3/apis/apps", &r) < 0);
}

/* --- the schema against the validation ----------------------------------- */

static bool schema_names(const char *name)
{
	for (size_t i = 0; i < schema_count(); i++)
		if (schema_field(schema_at(i), name))
			return true;
	return false;
}

/* Every field name the validation's source reads or defaults is a field of
 * some definition: a new check without its schema row fails here. */
static void test_validator_fields(void)
{
	static const char *const files[] = {"engine/valid/valid.c", "engine/valid/valid_pod.c",
					    "engine/valid/valid_pod_defaults.c",
					    "engine/valid/valid_hpa.c"};
	regex_t re;
	CHECK(regcomp(&re,
		      "(vc_(str|int|map|list|bool|enum|dns|labels|strmap|strlist|port_or_name)"
		      "\\(&?c, [a-z_]+|vget\\([a-z_]+|vdefault\\([a-z_]+|vc_push\\(&?c), "
		      "\"([a-zA-Z]+)\"",
		      REG_EXTENDED) == 0);
	int seen = 0, missing = 0;
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		size_t len;
		_cleanup_free_ char *text = NULL;
		FILE *fp = fopen(files[f], "r");
		if (!fp) {
			unit_skip(
			    "run from the repository's root: the validation's source is read");
			return;
		}
		text = xmalloc(1 << 20);
		len = fread(text, 1, (1 << 20) - 1, fp);
		fclose(fp);
		text[len] = '\0';
		regmatch_t m[4];
		for (const char *p = text; regexec(&re, p, 4, m, 0) == 0; p += m[0].rm_eo) {
			char name[64];
			snprintf(name, sizeof(name), "%.*s", (int)(m[3].rm_eo - m[3].rm_so),
				 p + m[3].rm_so);
			seen++;
			if (!schema_names(name)) {
				fprintf(stderr, "  %s: \"%s\" is in no schema definition\n",
					files[f], name);
				missing++;
			}
		}
	}
	regfree(&re);
	printf("  %d field references checked\n", seen);
	CHECK(seen > 150);
	CHECK(missing == 0);
}

static void print_unknown(void *arg, const char *path)
{
	fprintf(stderr, "  %s: unknown field \"%s\"\n", (const char *)arg, path);
}

/* ' -> " */
static json_t *load(const char *text)
{
	_cleanup_free_ char *s = xstrdup(text);
	for (char *p = s; *p; p++)
		*p = *p == '\'' ? '"' : *p;
	json_error_t je;
	json_t *j = json_loads(s, 0, &je);
	if (!j)
		fprintf(stderr, "  bad test JSON (%s, col %d)\n", je.text, je.column);
	return j;
}

#define META_FULL                                                                                  \
	"'metadata':{'name':'x','namespace':'default','labels':{'a':'b'},'annotations':{'n':"      \
	"'v'},'finalizers':['example.com/f'],'ownerReferences':[{'apiVersion':'v1','kind':"        \
	"'Pod','name':'o','uid':'u1','controller':true,'blockOwnerDeletion':true}]}"
#define CTR_FULL                                                                                   \
	"{'name':'c','image':'busybox:1.36','command':['sh'],'args':['-c','x'],'workingDir':'/',"  \
	"'ports':[{'name':'http','containerPort':80,'protocol':'TCP'}],'env':[{'name':'A',"        \
	"'value':'1'},{'name':'B','valueFrom':{'fieldRef':{'apiVersion':'v1','fieldPath':"         \
	"'metadata.name'}}},{'name':'C','valueFrom':{'configMapKeyRef':{'name':'cm','key':'k',"    \
	"'optional':true}}},{'name':'D','valueFrom':{'resourceFieldRef':{'containerName':'c',"     \
	"'resource':'limits.cpu','divisor':'1m'}}}],'envFrom':[{'prefix':'P_','configMapRef':"     \
	"{'name':'cm','optional':true}}],'resources':{'limits':{'cpu':'1','memory':'64Mi'},"       \
	"'requests':{'cpu':'100m'}},'volumeMounts':[{'name':'v','mountPath':'/v','readOnly':"      \
	"true,'subPath':'s','mountPropagation':'None'}],'livenessProbe':{'exec':{'command':"       \
	"['true']},'initialDelaySeconds':1,'timeoutSeconds':1,'periodSeconds':5,"                  \
	"'failureThreshold':3},'readinessProbe':{'httpGet':{'path':'/','port':'http','scheme':"    \
	"'HTTP','httpHeaders':[{'name':'X','value':'y'}]}},'startupProbe':{'tcpSocket':{'port':"   \
	"80}},'terminationMessagePath':'/dev/termination-log','terminationMessagePolicy':"         \
	"'File','imagePullPolicy':'IfNotPresent','securityContext':{'runAsUser':1000,"             \
	"'runAsNonRoot':true,'readOnlyRootFilesystem':true,'capabilities':{'drop':['ALL']},"       \
	"'seccompProfile':{'type':'RuntimeDefault'}},'stdin':true,'stdinOnce':false,'tty':true}"
#define POD_SPEC_FULL                                                                              \
	"{'volumes':[{'name':'v','emptyDir':{'medium':'Memory','sizeLimit':'1Mi'}},{'name':"       \
	"'w','configMap':{'name':'cm','items':[{'key':'k','path':'p','mode':420}],"                \
	"'defaultMode':420,'optional':true}}],'initContainers':[{'name':'i','image':"              \
	"'busybox:1.36'}],'containers':[" CTR_FULL "],'restartPolicy':'Always',"                   \
	"'terminationGracePeriodSeconds':5,'dnsPolicy':'None','dnsConfig':{'nameservers':"         \
	"['10.0.0.1'],'searches':['a.b'],'options':[{'name':'ndots','value':'2'}]},"               \
	"'nodeSelector':{'k':'v'},'serviceAccountName':'default','hostname':'h','subdomain':"      \
	"'s','schedulerName':'default-scheduler','tolerations':[{'key':'k','operator':'Equal',"    \
	"'value':'v','effect':'NoExecute','tolerationSeconds':5}],'affinity':{'nodeAffinity':"     \
	"{'requiredDuringSchedulingIgnoredDuringExecution':{'nodeSelectorTerms':[{"                \
	"'matchExpressions':[{'key':'k','operator':'In','values':['v']}],'matchFields':[{'key':"   \
	"'metadata.name','operator':'In','values':['n1']}]}]},"                                    \
	"'preferredDuringSchedulingIgnoredDuringExecution':[{'weight':1,'preference':{"            \
	"'matchExpressions':[{'key':'k','operator':'Exists'}]}}]}},'securityContext':{"            \
	"'runAsUser':1000,'fsGroup':2000,'supplementalGroups':[3000],'seccompProfile':{'type':"    \
	"'RuntimeDefault'}}}"
#define SELECTOR_FULL                                                                              \
	"{'matchLabels':{'app':'web'},'matchExpressions':[{'key':'tier','operator':'NotIn',"       \
	"'values':['db']}]}"
#define TEMPLATE_FULL                                                                              \
	"{'metadata':{'labels':{'app':'web'},'annotations':{'a':'b'}},'spec':" POD_SPEC_FULL "}"

static const char *const full[][2] = {
    {"Pod", "{'apiVersion':'v1','kind':'Pod'," META_FULL ",'spec':" POD_SPEC_FULL "}"},
    {"Deployment", "{'apiVersion':'apps/v1','kind':'Deployment'," META_FULL ",'spec':{'replicas':2,"
		   "'selector':" SELECTOR_FULL ",'template':" TEMPLATE_FULL ",'strategy':{'type':"
		   "'RollingUpdate','rollingUpdate':{'maxSurge':1,'maxUnavailable':'25%'}},"
		   "'minReadySeconds':1,'revisionHistoryLimit':3,'paused':false,"
		   "'progressDeadlineSeconds':60}}"},
    {"ReplicaSet", "{'apiVersion':'apps/v1','kind':'ReplicaSet'," META_FULL
		   ",'spec':{'replicas':2,'minReadySeconds':1,'selector':" SELECTOR_FULL
		   ",'template':" TEMPLATE_FULL "}}"},
    {"Service", "{'apiVersion':'v1','kind':'Service'," META_FULL
		",'spec':{'type':'NodePort','ports':[{'name':'http','port':80,'protocol':'TCP',"
		"'targetPort':'http','nodePort':30080},{'name':'b','port':81,'targetPort':81}],"
		"'selector':{'app':'web'},'sessionAffinity':'None','externalTrafficPolicy':"
		"'Cluster','internalTrafficPolicy':'Cluster','externalIPs':['192.0.2.1']}}"},
    {"Endpoints", "{'apiVersion':'v1','kind':'Endpoints'," META_FULL
		  ",'subsets':[{'addresses':[{'ip':'10.244.0.5','hostname':'h','nodeName':'n1',"
		  "'targetRef':{'kind':'Pod','name':'p','namespace':'default','uid':'u'}}],"
		  "'notReadyAddresses':[{'ip':'10.244.0.6'}],'ports':[{'name':'http','port':80,"
		  "'protocol':'TCP','appProtocol':'http'}]}]}"},
    {"ConfigMap", "{'apiVersion':'v1','kind':'ConfigMap'," META_FULL
		  ",'data':{'a':'b'},'binaryData':{'c':'ZA=='},'immutable':false}"},
    {"Node", "{'apiVersion':'v1','kind':'Node','metadata':{'name':'n1','labels':{'a':'b'}},"
	     "'spec':{'unschedulable':true,'providerID':'p','podCIDR':'10.244.1.0/24',"
	     "'podCIDRs':['10.244.1.0/24'],'taints':[{'key':'k','value':'v','effect':"
	     "'NoSchedule','timeAdded':'2024-01-01T00:00:00Z'}]}}"},
    {"Namespace", "{'apiVersion':'v1','kind':'Namespace','metadata':{'name':'dev'},'spec':{"
		  "'finalizers':['kubernetes']}}"},
    {"Event", "{'apiVersion':'v1','kind':'Event'," META_FULL
	      ",'involvedObject':{'kind':'Pod','name':'p','namespace':'default','apiVersion':"
	      "'v1','uid':'u'},'reason':'Started','message':'m','type':'Normal','count':2,"
	      "'firstTimestamp':'2024-01-01T00:00:00Z','lastTimestamp':'2024-01-01T00:00:01Z',"
	      "'source':{'component':'kubelet','host':'n1'}}"},
    {"HorizontalPodAutoscaler",
     "{'apiVersion':'autoscaling/v2','kind':'HorizontalPodAutoscaler'," META_FULL
     ",'spec':{'scaleTargetRef':{'apiVersion':'apps/v1','kind':'Deployment','name':'web'},"
     "'minReplicas':1,'maxReplicas':10,'metrics':[{'type':'Resource','resource':{'name':"
     "'cpu','target':{'type':'Utilization','averageUtilization':50}}},{'type':"
     "'ContainerResource','containerResource':{'name':'memory','container':'app','target':"
     "{'type':'AverageValue','averageValue':'100Mi'}}},{'type':'Pods','pods':{'metric':{"
     "'name':'qps','selector':{'matchLabels':{'a':'b'}}},'target':{'type':'AverageValue',"
     "'averageValue':'1k'}}},{'type':'Object','object':{'describedObject':{'apiVersion':"
     "'v1','kind':'Service','name':'web'},'metric':{'name':'hits'},'target':{'type':"
     "'Value','value':'10k'}}},{'type':'External','external':{'metric':{'name':'queue'},"
     "'target':{'type':'AverageValue','averageValue':'30'}}}],'behavior':{'scaleUp':{"
     "'stabilizationWindowSeconds':0,'selectPolicy':'Max','policies':[{'type':'Pods',"
     "'value':4,'periodSeconds':15}]},'scaleDown':{'stabilizationWindowSeconds':300,"
     "'selectPolicy':'Min','policies':[{'type':'Percent','value':100,'periodSeconds':15}]}}},"
     "'status':{'observedGeneration':1,'lastScaleTime':'2024-01-01T00:00:00Z',"
     "'currentReplicas':2,'desiredReplicas':3,'currentMetrics':[{'type':'Resource',"
     "'resource':{'name':'cpu','current':{'averageUtilization':60,'averageValue':'60m'}}}],"
     "'conditions':[{'type':'AbleToScale','status':'True','lastTransitionTime':"
     "'2024-01-01T00:00:00Z','reason':'SucceededRescale','message':'m'}]}}"},
};

/* Full manifests of every kind, once defaulted, are valid and have no
 * field the schema does not know. */
static void test_full_manifests(void)
{
	for (size_t i = 0; i < sizeof(full) / sizeof(full[0]); i++) {
		const struct kind_info *k = kind_by_kind(full[i][0]);
		json_t *obj = load(full[i][1]);
		CHECK(k && obj);
		if (!k || !obj)
			continue;
		_cleanup_err_ struct err *e = NULL;
		valid_default(obj, k);
		int r = valid_object(obj, k, &e);
		if (r)
			fprintf(stderr, "  %s: %s\n", full[i][0], e ? e->msg : "?");
		CHECK(r == 0);
		const struct sch_def *d = schema_for_kind(k, false);
		CHECK(d != NULL);
		CHECK(schema_unknown(obj, d, print_unknown, (void *)full[i][0]) == 0);
		json_decref(obj);
	}
}

struct seen {
	int n;
	char paths[4][128];
};

static void collect(void *arg, const char *path)
{
	struct seen *s = arg;
	if (s->n < 4)
		snprintf(s->paths[s->n], sizeof(s->paths[0]), "%s", path);
	s->n++;
}

static void test_unknown(void)
{
	json_t *obj = load("{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'w',"
			   "'labels':{'any':'key'},'bogus':1},'spec':{'replicass':2,'template':{"
			   "'spec':{'containers':[{'name':'c','image':'i'},{'name':'d','imagee':"
			   "'i','resources':{'limits':{'nvidia.com/gpu':1}}}]}}},'status':{"
			   "'replicas':1}}");
	struct seen s = {0};
	CHECK(schema_unknown(obj, schema_for_kind(KIND_DEPLOYMENT, false), collect, &s) == 3);
	CHECK(s.n == 3);
	CHECK(!strcmp(s.paths[0], "metadata.bogus"));
	CHECK(!strcmp(s.paths[1], "spec.replicass"));
	CHECK(!strcmp(s.paths[2], "spec.template.spec.containers[1].imagee"));
	/* The same through schema_unknown_fields, which skips the status. */
	char *paths[2] = {NULL, NULL};
	CHECK(schema_unknown_fields(obj, KIND_DEPLOYMENT, paths, 2) == 3);
	CHECK(paths[0] && !strcmp(paths[0], "metadata.bogus"));
	CHECK(paths[1] && !strcmp(paths[1], "spec.replicass"));
	free(paths[0]);
	free(paths[1]);
	json_object_set_new(json_object_get(obj, "status"), "bogus", json_true());
	CHECK(schema_unknown(obj, schema_for_kind(KIND_DEPLOYMENT, false), NULL, NULL) == 4);
	CHECK(schema_unknown_fields(obj, KIND_DEPLOYMENT, paths, 0) == 3);
	json_decref(obj);
	CHECK(schema_for_kind(KIND_POD, true) == schema_def("io.k8s.api.core.v1.PodList"));
	CHECK(schema_by_gvk("autoscaling", "v1", "Scale") != NULL);
	/* Every reference names a definition. */
	for (size_t i = 0; i < schema_count(); i++)
		for (size_t j = 0; j < schema_at(i)->nfields; j++) {
			const struct sch_field *f = &schema_at(i)->fields[j];
			if (f->ref && !schema_field_def(f)) {
				fprintf(stderr, "  %s.%s: no %s\n", schema_at(i)->name, f->name,
					f->ref);
				CHECK(0);
			}
		}
	for (int i = 0; i < kind_count; i++)
		CHECK(schema_for_kind(&kind_table[i], false) &&
		      schema_for_kind(&kind_table[i], true));
}

int main(void)
{
	RUN(test_routes);
	RUN(test_v2_refs);
	RUN(test_protobuf);
	RUN(test_v3);
	RUN(test_patch_extensions);
	RUN(test_list_strategies);
	RUN(test_validator_fields);
	RUN(test_full_manifests);
	RUN(test_unknown);
	return unit_done();
}
