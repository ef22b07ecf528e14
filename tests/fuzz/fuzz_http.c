/*
 * fuzz_http.c - what the HTTP API parses of a request's URL: the path
 * (http/route.h: route_parse) and the selectors of its query
 * (?fieldSelector=, http/fieldsel.h; ?labelSelector=, api_labelsel_parse
 * in engine/api/api.h), matched against an object as a list or watch does.
 *
 * The input is up to three lines: the path, the field selector and the
 * label selector (as libmicrohttpd hands them over: decoded, up to a NUL).
 * Properties of a path that parses: the fields fit the type (a kind for a
 * collection or object, a name for an object, a namespace only for a
 * namespaced kind), and the path rebuilt from them parses to the same
 * route.
 */
#include <errno.h>
#include <jansson.h>

#include "engine/api/api.h"
#include "engine/err.h"
#include "engine/kind.h"
#include "http/fieldsel.h"
#include "http/route.h"
#include "tests/fuzz/fuzz.h"

static void rebuild(const struct route *r, char *out, size_t n)
{
	char gv[128];
	if (r->group[0])
		snprintf(gv, sizeof(gv), "/apis/%s/%s", r->group, r->version);
	else
		snprintf(gv, sizeof(gv), "/api/%s", r->version);
	switch (r->type) {
	case ROUTE_VERSION:
		snprintf(out, n, "/version");
		break;
	case ROUTE_API:
		snprintf(out, n, "/api");
		break;
	case ROUTE_APIS:
		snprintf(out, n, "/apis");
		break;
	case ROUTE_GROUP:
		snprintf(out, n, "/apis/%s", r->group);
		break;
	case ROUTE_GROUP_VERSION:
		snprintf(out, n, "%s", gv);
		break;
	case ROUTE_COLLECTION:
	case ROUTE_OBJECT:
		snprintf(out, n, "%s%s%s/%s%s%s%s%s", gv, r->ns[0] ? "/namespaces/" : "", r->ns,
			 r->kind->plural, r->name[0] ? "/" : "", r->name, r->sub[0] ? "/" : "",
			 r->sub);
		break;
	case ROUTE_OPENAPI_V2:
		snprintf(out, n, "/openapi/v2");
		break;
	case ROUTE_OPENAPI_V3:
		snprintf(out, n, "/openapi/v3%s", r->version[0] ? gv : "");
		break;
	default:
		out[0] = '\0';
	}
}

static void check_route(const char *path)
{
	struct route r, q;
	int rc = route_parse(path, &r);
	FUZZ_CHECK(rc == 0 || rc == -ENOENT);
	if (rc < 0)
		return;
	FUZZ_CHECK(r.type < ROUTE_TYPE_COUNT);
	FUZZ_CHECK(!strchr(r.ns, '/') && !strchr(r.name, '/') && !strchr(r.sub, '/'));
	FUZZ_CHECK(!strchr(r.group, '/') && !strchr(r.version, '/'));
	if (r.type == ROUTE_COLLECTION || r.type == ROUTE_OBJECT) {
		FUZZ_CHECK(r.kind && r.version[0]);
		FUZZ_CHECK(!r.ns[0] || r.kind->namespaced);
	} else {
		FUZZ_CHECK(!r.kind && !r.ns[0] && !r.name[0] && !r.sub[0]);
	}
	FUZZ_CHECK((r.type == ROUTE_OBJECT) == (r.name[0] != '\0'));
	FUZZ_CHECK(!r.sub[0] || r.name[0]);
	char av[96];
	route_api_version(&r, av);
	char again[1024];
	rebuild(&r, again, sizeof(again));
	if (!again[0])
		return;
	FUZZ_CHECK(route_parse(again, &q) == 0);
	FUZZ_CHECK(q.type == r.type && q.kind == r.kind && !strcmp(q.group, r.group) &&
		   !strcmp(q.version, r.version) && !strcmp(q.ns, r.ns) &&
		   !strcmp(q.name, r.name) && !strcmp(q.sub, r.sub));
}

static const char object[] =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-1\",\"namespace\":"
    "\"prod\",\"labels\":{\"app\":\"web\",\"tier\":\"front\",\"x.io/y\":\"\"}},\"spec\":{"
    "\"nodeName\":\"node1\",\"restartPolicy\":\"Always\",\"unschedulable\":true},\"status\":{"
    "\"phase\":\"Running\",\"podIP\":\"10.0.0.5\",\"replicas\":3},\"involvedObject\":{\"kind\":"
    "\"Pod\",\"name\":\"web-1\"},\"reason\":\"Started\",\"type\":\"Normal\"}";

static void check_selectors(const struct kind_info *k, const char *field, const char *label)
{
	json_t *obj = json_loads(object, 0, NULL);
	FUZZ_CHECK(obj);
	struct fieldsel *fs = NULL;
	struct err *e = NULL;
	if (fieldsel_parse(k, field, &fs, &e) == 0)
		fieldsel_matches(fs, obj);
	else
		FUZZ_CHECK(e && e->msg);
	fieldsel_free(fs);
	err_free(e);
	e = NULL;
	struct api_labelsel *ls = NULL;
	if (api_labelsel_parse(label, &ls, &e) == 0)
		api_labelsel_matches(ls,
				     json_object_get(json_object_get(obj, "metadata"), "labels"));
	else
		FUZZ_CHECK(e && e->msg);
	api_labelsel_free(ls);
	err_free(e);
	json_decref(obj);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	char *field = strchr(s, '\n'), *label = NULL;
	if (field) {
		*field++ = '\0';
		label = strchr(field, '\n');
		if (label)
			*label++ = '\0';
	}
	check_route(s);
	struct route r;
	const struct kind_info *k = KIND_POD;
	if (route_parse(s, &r) == 0 && r.kind)
		k = r.kind;
	check_selectors(k, field ? field : "", label ? label : "");
	free(s);
	return 0;
}
