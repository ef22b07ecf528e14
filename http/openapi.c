/*
 * openapi.c - see openapi.h: the documents built from the schema tables,
 * the paths of every kind, and the handlers that serve them (cached).
 *
 * v2 and v3 share one generator; they differ in where definitions live
 * (#/definitions/ or #/components/schemas/), in how a reference carries
 * a description (a sibling in v2, allOf in v3, as Kubernetes writes them),
 * and in how parameters, bodies and responses are written.
 */
#include "http/openapi.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/kind.h"
#include "engine/valid/hpa.h"
#include "engine/valid/schema.h"
#include "http/http_int.h"

#define QUANTITY     "io.k8s.apimachinery.pkg.api.resource.Quantity"
#define INT_OR_STR   "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
#define PB_MIME	     "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
#define SERVER_TITLE "clusterfs"

struct gen {
	bool v3;
	const char *refp; /* "#/definitions/" or "#/components/schemas/" */
};

static json_t *ref(const struct gen *g, const char *name)
{
	char *s = xasprintf("%s%s", g->refp, name);
	json_t *j = json_pack("{s:s}", "$ref", s);
	free(s);
	return j;
}

/* The schema of a value of type t (ref: the definition of an object). */
static json_t *type_schema(const struct gen *g, enum sch_type t, const char *r)
{
	switch (t) {
	case SCH_STRING:
		return json_pack("{s:s}", "type", "string");
	case SCH_INT32:
		return json_pack("{s:s,s:s}", "type", "integer", "format", "int32");
	case SCH_INT64:
		return json_pack("{s:s,s:s}", "type", "integer", "format", "int64");
	case SCH_BOOL:
		return json_pack("{s:s}", "type", "boolean");
	case SCH_NUMBER:
		return json_pack("{s:s,s:s}", "type", "number", "format", "double");
	case SCH_TIME:
		return json_pack("{s:s,s:s}", "type", "string", "format", "date-time");
	case SCH_QUANTITY:
		return ref(g, QUANTITY);
	case SCH_INT_OR_STRING:
		return ref(g, INT_OR_STR);
	case SCH_OBJECT:
		return ref(g, r);
	case SCH_ANY:
	default:
		return g->v3 ? json_pack("{s:b}", "x-kubernetes-preserve-unknown-fields", 1)
			     : json_object();
	}
}

/* A reference with a description: a sibling in v2, allOf in v3. */
static json_t *described(const struct gen *g, json_t *s, const char *doc)
{
	if (g->v3 && json_object_get(s, "$ref")) {
		json_t *w = json_pack("{s:[o]}", "allOf", s);
		json_object_set_new(w, "description", json_string(doc));
		return w;
	}
	json_object_set_new(s, "description", json_string(doc));
	return s;
}

static json_t *strings(const char *const *v)
{
	json_t *a = json_array();
	for (; v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

/* How a patch merges the field, as Kubernetes' extensions say it (from the
 * schema's merge keys and flags, the rule the strategic merge patch and
 * server-side apply follow): a list merged by keys is an associative list
 * whose first key is the merge key; a set; a map whose keys a patch may
 * retain. */
static void patch_extensions(json_t *s, const struct sch_field *f)
{
	const char *how = NULL;
	if (f->type == SCH_ARRAY && f->mkeys) {
		json_object_set_new(s, "x-kubernetes-patch-merge-key", json_string(f->mkeys[0]));
		json_object_set_new(s, "x-kubernetes-list-type", json_string("map"));
		json_object_set_new(s, "x-kubernetes-list-map-keys", strings(f->mkeys));
		how = f->flags & SCH_RETAIN ? "merge,retainKeys" : "merge";
	} else if (f->type == SCH_ARRAY && (f->flags & SCH_SET)) {
		json_object_set_new(s, "x-kubernetes-list-type", json_string("set"));
		how = "merge";
	} else if (f->type == SCH_OBJECT && (f->flags & SCH_RETAIN)) {
		how = "retainKeys";
	}
	if (how)
		json_object_set_new(s, "x-kubernetes-patch-strategy", json_string(how));
}

static json_t *field_schema(const struct gen *g, const struct sch_field *f)
{
	json_t *s;
	if (f->type == SCH_ARRAY) {
		s = json_pack("{s:s,s:o}", "type", "array", "items",
			      type_schema(g, f->item, f->ref));
	} else if (f->type == SCH_MAP) {
		s = json_pack("{s:s,s:o}", "type", "object", "additionalProperties",
			      type_schema(g, f->item, f->ref));
	} else {
		s = type_schema(g, f->type, f->ref);
	}
	if (f->enums)
		json_object_set_new(s, "enum", strings(f->enums));
	s = described(g, s, f->doc);
	patch_extensions(s, f);
	return s;
}

static json_t *gvk_list(const struct sch_def *d)
{
	return json_pack("[{s:s,s:s,s:s}]", "group", d->group, "kind", d->kind, "version",
			 d->version);
}

static json_t *def_schema(const struct gen *g, const struct sch_def *d)
{
	json_t *props = json_object(), *req = json_array();
	for (size_t i = 0; i < d->nfields; i++) {
		const struct sch_field *f = &d->fields[i];
		json_object_set_new(props, f->name, field_schema(g, f));
		if (f->flags & SCH_REQUIRED)
			json_array_append_new(req, json_string(f->name));
	}
	json_t *s = json_pack("{s:s,s:s,s:o}", "description", d->doc, "type", "object",
			      "properties", props);
	if (json_array_size(req))
		json_object_set(s, "required", req);
	json_decref(req);
	if (d->kind)
		json_object_set_new(s, "x-kubernetes-group-version-kind", gvk_list(d));
	return s;
}

static json_t *definitions(const struct gen *g)
{
	json_t *defs = json_object();
	for (size_t i = 0; i < schema_count(); i++)
		json_object_set_new(defs, schema_at(i)->name, def_schema(g, schema_at(i)));
	/* As Kubernetes writes them: strings in v2, unions in v3. */
	const char *qdoc = "A quantity: 100m, 1, 1.5, 128Mi, 1G, 2e3.";
	const char *idoc = "An integer or a string.";
	if (g->v3) {
		json_object_set_new(defs, QUANTITY,
				    json_pack("{s:s,s:[{s:s},{s:s}]}", "description", qdoc, "oneOf",
					      "type", "string", "type", "number"));
		json_object_set_new(defs, INT_OR_STR,
				    json_pack("{s:s,s:s,s:[{s:s},{s:s}]}", "description", idoc,
					      "format", "int-or-string", "oneOf", "type", "integer",
					      "type", "string"));
	} else {
		json_object_set_new(defs, QUANTITY,
				    json_pack("{s:s,s:s}", "description", qdoc, "type", "string"));
		json_object_set_new(defs, INT_OR_STR,
				    json_pack("{s:s,s:s,s:s}", "description", idoc, "type",
					      "string", "format", "int-or-string"));
	}
	return defs;
}

/* --- paths ---------------------------------------------------------------- */

enum action { A_GET, A_LIST, A_CREATE, A_UPDATE, A_PATCH, A_DELETE, A_DELETECOLL };
static const char *const action_methods[] = {"get",   "get",	"post",	 "put",
					     "patch", "delete", "delete"};
static const char *const action_k8s[] = {"get",	  "list",   "create",	       "update",
					 "patch", "delete", "deletecollection"};

static json_t *param(const struct gen *g, const char *name, const char *in, const char *type,
		     const char *doc)
{
	json_t *p = json_pack("{s:s,s:s,s:s}", "name", name, "in", in, "description", doc);
	if (!strcmp(in, "path"))
		json_object_set_new(p, "required", json_true());
	if (g->v3)
		json_object_set_new(p, "schema", json_pack("{s:s}", "type", type));
	else
		json_object_set_new(p, "type", json_string(type));
	return p;
}

static void query_params(const struct gen *g, json_t *ps, enum action a)
{
	if (a == A_CREATE || a == A_UPDATE || a == A_PATCH) {
		json_array_append_new(ps, param(g, "dryRun", "query", "string",
						"All: check the request but do not persist it."));
		json_array_append_new(ps, param(g, "fieldManager", "query", "string",
						"The name of the actor making the change."));
		json_array_append_new(
		    ps, param(g, "fieldValidation", "query", "string",
			      "What to do with unknown or duplicate fields: Ignore, Warn or "
			      "Strict."));
	}
	if (a == A_PATCH)
		json_array_append_new(ps, param(g, "force", "query", "boolean",
						"Apply: take fields over from other managers."));
	if (a == A_LIST) {
		static const char *const lq[][3] = {
		    {"labelSelector", "string", "Only objects whose labels match."},
		    {"fieldSelector", "string", "Only objects whose fields match."},
		    {"watch", "boolean", "Stream changes instead of listing."},
		    {"resourceVersion", "string", "The revision to list or watch from."},
		    {"limit", "integer", "At most this many objects."},
		    {"continue", "string", "Continue a limited list."},
		    {"timeoutSeconds", "integer", "End a watch after this many seconds."},
		};
		for (size_t i = 0; i < sizeof(lq) / sizeof(lq[0]); i++)
			json_array_append_new(ps, param(g, lq[i][0], "query", lq[i][1], lq[i][2]));
	}
	if (a == A_DELETE || a == A_DELETECOLL) {
		json_array_append_new(ps, param(g, "gracePeriodSeconds", "query", "integer",
						"Seconds before the object is deleted."));
		json_array_append_new(ps, param(g, "propagationPolicy", "query", "string",
						"Background, Foreground or Orphan dependents."));
	}
}

/* One operation on body kind d (the response's too; Status for deletes). */
static json_t *operation(const struct gen *g, enum action a, const struct sch_def *d,
			 const char *opid, bool in_ns, bool by_name)
{
	json_t *ps = json_array();
	if (by_name)
		json_array_append_new(ps, param(g, "name", "path", "string", "The object's name."));
	if (in_ns)
		json_array_append_new(
		    ps, param(g, "namespace", "path", "string", "The object's namespace."));
	query_params(g, ps, a);
	const char *out = a == A_LIST ? NULL : d->name;
	char list_name[160];
	if (a == A_LIST) {
		snprintf(list_name, sizeof(list_name), "%sList", d->name);
		out = list_name;
	}
	if (a == A_DELETECOLL)
		out = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";
	json_t *resp_schema = ref(g, out);
	json_t *op = json_pack("{s:s,s:s,s:s}", "description", opid, "operationId", opid,
			       "x-kubernetes-action", action_k8s[a]);
	json_object_set_new(
	    op, "x-kubernetes-group-version-kind",
	    json_pack("{s:s,s:s,s:s}", "group", d->group, "kind", d->kind, "version", d->version));
	bool body = a == A_CREATE || a == A_UPDATE || a == A_PATCH;
	const char *body_type =
	    a == A_PATCH ? "io.k8s.apimachinery.pkg.apis.meta.v1.Patch" : d->name;
	if (g->v3) {
		json_object_set_new(op, "responses",
				    json_pack("{s:{s:s,s:{s:{s:o}}}}", "200", "description", "OK",
					      "content", "application/json", "schema",
					      resp_schema));
		if (body)
			json_object_set_new(
			    op, "requestBody",
			    json_pack("{s:{s:{s:o}},s:b}", "content", "application/json", "schema",
				      a == A_PATCH ? json_object() : ref(g, body_type), "required",
				      1));
	} else {
		json_object_set_new(
		    op, "responses",
		    json_pack("{s:{s:s,s:o}}", "200", "description", "OK", "schema", resp_schema));
		if (body)
			json_array_append_new(
			    ps, json_pack("{s:s,s:s,s:b,s:o}", "name", "body", "in", "body",
					  "required", 1, "schema",
					  a == A_PATCH ? json_pack("{s:s}", "type", "object")
						       : ref(g, body_type)));
		json_object_set_new(op, "consumes", json_pack("[s]", "application/json"));
		json_object_set_new(op, "produces", json_pack("[s]", "application/json"));
	}
	json_object_set_new(op, "parameters", ps);
	return op;
}

/* Operation ids as Kubernetes makes them: readCoreV1NamespacedPod,
 * listAppsV1DeploymentForAllNamespaces, patchAppsV1NamespacedDeploymentScale. */
static char *op_id(enum action a, const struct kind_info *k, const char *sub, bool all_ns)
{
	static const char *const verb[] = {"read",  "list",   "create",		 "replace",
					   "patch", "delete", "deleteCollection"};
	const char *slash = strchr(k->api_version, '/');
	char *gv = slash ? xstrdup(k->api_version) : xasprintf("core/%s", k->api_version);
	char *v = strchr(gv, '/');
	*v++ = '\0';
	gv[0] = (char)(gv[0] - 'a' + 'A');
	v[0] = (char)(v[0] - 'a' + 'A');
	const char *scope = k->namespaced && !all_ns ? "Namespaced" : "";
	const char *S = !sub ? "" : !strcmp(sub, "scale") ? "Scale" : "Status";
	char *id = xasprintf("%s%s%s%s%s%s%s", verb[a], gv, v, scope, k->kind,
			     all_ns ? "ForAllNamespaces" : "", S);
	free(gv);
	return id;
}

static void put_op(const struct gen *g, json_t *item, enum action a, const struct kind_info *k,
		   const struct sch_def *d, const char *sub, bool all_ns, bool by_name)
{
	char *id = op_id(a, k, sub, all_ns);
	json_object_set_new(item, action_methods[a],
			    operation(g, a, d, id, k->namespaced && !all_ns, by_name));
	free(id);
}

/* The paths of kind k, added to paths. */
static void kind_paths(const struct gen *g, json_t *paths, const struct kind_info *k,
		       const char *subs)
{
	const struct sch_def *d = schema_for_kind(k, false);
	const struct sch_def *scale = schema_by_gvk("autoscaling", "v1", "Scale");
	if (!d)
		return;
	char base[128], coll[256];
	snprintf(base, sizeof(base), "%s%s", strchr(k->api_version, '/') ? "/apis/" : "/api/",
		 k->api_version);
	if (k->namespaced)
		snprintf(coll, sizeof(coll), "%s/namespaces/{namespace}/%s", base, k->plural);
	else
		snprintf(coll, sizeof(coll), "%s/%s", base, k->plural);
	json_t *c = json_object();
	put_op(g, c, A_LIST, k, d, NULL, false, false);
	put_op(g, c, A_CREATE, k, d, NULL, false, false);
	put_op(g, c, A_DELETECOLL, k, d, NULL, false, false);
	json_object_set_new(paths, coll, c);

	char *one = xasprintf("%s/{name}", coll);
	json_t *o = json_object();
	for (enum action a = A_GET; a <= A_DELETE; a++)
		if (a != A_LIST && a != A_CREATE)
			put_op(g, o, a, k, d, NULL, false, true);
	json_object_set_new(paths, one, o);

	for (const char *s = subs; s && *s;) {
		size_t n = strcspn(s, " ");
		char sub[16];
		snprintf(sub, sizeof(sub), "%.*s", (int)n, s);
		s += n + (s[n] == ' ');
		char *p = xasprintf("%s/%s", one, sub);
		json_t *si = json_object();
		put_op(g, si, A_GET, k, !strcmp(sub, "scale") ? scale : d, sub, false, true);
		put_op(g, si, A_UPDATE, k, !strcmp(sub, "scale") ? scale : d, sub, false, true);
		put_op(g, si, A_PATCH, k, !strcmp(sub, "scale") ? scale : d, sub, false, true);
		json_object_set_new(paths, p, si);
		free(p);
	}
	free(one);
	if (k->namespaced) {
		char *all = xasprintf("%s/%s", base, k->plural);
		json_t *ai = json_object();
		put_op(g, ai, A_LIST, k, d, NULL, true, false);
		json_object_set_new(paths, all, ai);
		free(all);
	}
}

/* The subresources served as status or scale. */
static const char *kind_subs(const struct kind_info *k)
{
	if (k == KIND_DEPLOYMENT || k == KIND_REPLICASET)
		return "status scale";
	if (k == KIND_POD || k == KIND_SERVICE || k == KIND_NODE || k == KIND_NAMESPACE ||
	    k == KIND_HPA)
		return "status";
	return "";
}

/* The paths of every kind served in api_version (NULL: all). */
static json_t *all_paths(const struct gen *g, const char *api_version)
{
	json_t *paths = json_object();
	for (int i = 0; i < kind_count; i++) {
		const struct kind_info *k = &kind_table[i];
		if (!api_version || !strcmp(k->api_version, api_version))
			kind_paths(g, paths, k, kind_subs(k));
		/* served by conversion too: the same kind in that version */
		struct kind_info alt = *k;
		alt.api_version = HPA_V1;
		if (hpa_alt_version(k, HPA_V1) && (!api_version || !strcmp(api_version, HPA_V1)))
			kind_paths(g, paths, &alt, kind_subs(k));
	}
	return paths;
}

static json_t *build_v2(void)
{
	struct gen g = {false, "#/definitions/"};
	return json_pack("{s:s,s:{s:s,s:s},s:o,s:o}", "swagger", "2.0", "info", "title",
			 SERVER_TITLE, "version", "v1.30.0", "paths", all_paths(&g, NULL),
			 "definitions", definitions(&g));
}

static json_t *build_v3(const char *api_version)
{
	struct gen g = {true, "#/components/schemas/"};
	return json_pack("{s:s,s:{s:s,s:s},s:o,s:{s:o}}", "openapi", "3.0.0", "info", "title",
			 SERVER_TITLE, "version", "v1.30.0", "paths", all_paths(&g, api_version),
			 "components", "schemas", definitions(&g));
}

json_t *openapi_v2(void)
{
	return build_v2();
}

/* "v1" -> "api/v1", "apps/v1" -> "apis/apps/v1" */
static char *index_key(const char *api_version)
{
	return xasprintf("%s/%s", strchr(api_version, '/') ? "apis" : "api", api_version);
}

json_t *openapi_v3(const char *group, const char *version)
{
	char av[96];
	snprintf(av, sizeof(av), "%s%s%s", group, group[0] ? "/" : "", version);
	for (int i = 0; i < kind_count; i++)
		if (!strcmp(kind_table[i].api_version, av) || hpa_alt_version(&kind_table[i], av))
			return build_v3(av);
	return NULL;
}

/* --- the cache ------------------------------------------------------------ */

#define GV_MAX 8

struct blob {
	char *s;
	size_t len;
	char hash[17]; /* FNV-1a 64 of the bytes, hex */
};

static struct {
	struct blob v2_json, v2_pb, index;
	int ngv;
	char gv[GV_MAX][96]; /* "v1", "apps/v1" */
	struct blob v3[GV_MAX];
} cache;
static pthread_once_t cache_once = PTHREAD_ONCE_INIT;

static void blob_set(struct blob *b, char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	b->s = s;
	b->len = len;
	snprintf(b->hash, sizeof(b->hash), "%016llX", (unsigned long long)h);
}

static void blob_json(struct blob *b, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	blob_set(b, s, s ? strlen(s) : 0);
	json_decref(j);
}

/* The group-versions served: each kind's, then autoscaling/v1 (served by
 * conversion); i from 0 to kind_count. */
static const char *served_version(int i)
{
	return i < kind_count ? kind_table[i].api_version : HPA_V1;
}

json_t *openapi_v3_index(void)
{
	json_t *paths = json_object();
	for (int i = 0; i <= kind_count; i++) {
		const char *av = served_version(i);
		char *key = index_key(av);
		if (!json_object_get(paths, key)) {
			json_t *doc = build_v3(av);
			struct blob b;
			blob_json(&b, doc);
			char *url = xasprintf("/openapi/v3/%s?hash=%s", key, b.hash);
			json_object_set_new(paths, key,
					    json_pack("{s:s}", "serverRelativeURL", url));
			free(url);
			free(b.s);
		}
		free(key);
	}
	return json_pack("{s:o}", "paths", paths);
}

static void cache_build(void)
{
	json_t *v2 = build_v2();
	struct buf pb = {0};
	openapi_v2_protobuf(v2, &pb);
	size_t n;
	char *s = buf_steal(&pb, &n);
	blob_set(&cache.v2_pb, s, n);
	blob_json(&cache.v2_json, v2);
	for (int i = 0; i <= kind_count && cache.ngv < GV_MAX; i++) {
		const char *av = served_version(i);
		int j;
		for (j = 0; j < cache.ngv && strcmp(cache.gv[j], av); j++)
			;
		if (j < cache.ngv)
			continue;
		snprintf(cache.gv[j], sizeof(cache.gv[j]), "%s", av);
		blob_json(&cache.v3[j], build_v3(av));
		cache.ngv++;
	}
	blob_json(&cache.index, openapi_v3_index());
}

static void serve_blob(struct http_req *rq, struct http_resp *rs, const struct blob *b,
		       const char *ctype)
{
	if (!b->s) {
		http_fail(rs, 500, "InternalError", "the OpenAPI document could not be built");
		return;
	}
	rs->code = 200;
	rs->ctype = ctype;
	rs->body = xmalloc(b->len + 1);
	memcpy(rs->body, b->s, b->len);
	rs->body[b->len] = '\0';
	rs->len = b->len;
}

void h_openapi_v2(struct http_req *rq, struct http_resp *rs)
{
	pthread_once(&cache_once, cache_build);
	const char *accept = http_header(rq, "Accept");
	if (accept && strstr(accept, "protobuf"))
		serve_blob(rq, rs, &cache.v2_pb, PB_MIME);
	else
		serve_blob(rq, rs, &cache.v2_json, "application/json");
}

void h_openapi_v3(struct http_req *rq, struct http_resp *rs)
{
	pthread_once(&cache_once, cache_build);
	if (!rq->rt.version[0]) {
		serve_blob(rq, rs, &cache.index, "application/json");
		return;
	}
	char av[96];
	route_api_version(&rq->rt, av);
	for (int i = 0; i < cache.ngv; i++)
		if (!strcmp(cache.gv[i], av)) {
			serve_blob(rq, rs, &cache.v3[i], "application/json");
			return;
		}
	http_fail(rs, 404, "NotFound", "the server could not find the requested resource");
}
