/*
 * convert.c - a kind served in a version other than the one it is stored
 * in: HorizontalPodAutoscalers under /apis/autoscaling/v1/ (stored as
 * autoscaling/v2; engine/valid/hpa.h converts).  Writes need nothing here:
 * the API converts a v1 body when it defaults it.  Reads go through
 * http_convert_resp once the handler has answered, watches through
 * http_served per event, patches through http_served before they apply.
 * Stateless; thread-safe.
 */
#include <string.h>

#include "engine/valid/hpa.h"
#include "http/http_int.h"

bool http_alt_version(const struct http_req *rq)
{
	char av[96];
	if (!rq->rt.kind || (rq->rt.type != ROUTE_COLLECTION && rq->rt.type != ROUTE_OBJECT))
		return false;
	route_api_version(&rq->rt, av);
	return hpa_alt_version(rq->rt.kind, av);
}

/* One object of the route's kind, as the route's version has it. */
static json_t *served_one(const struct http_req *rq, json_t *obj)
{
	json_t *v = hpa_to_v1(obj);
	json_decref(obj);
	return v;
}

json_t *http_served(const struct http_req *rq, json_t *obj)
{
	if (!http_alt_version(rq) || !json_is_object(obj))
		return obj;
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const char *want = rq->rt.kind->kind;
	size_t n = strlen(want);
	if (kind && !strcmp(kind, want))
		return served_one(rq, obj);
	if (kind && !strcmp(kind, "Table")) { /* ?includeObject=Object: the rows' objects */
		json_t *rows = json_object_get(obj, "rows"), *row;
		size_t i;
		json_array_foreach(rows, i, row)
		{
			json_t *o = json_object_get(row, "object");
			const char *ok = json_string_value(json_object_get(o, "kind"));
			if (ok && !strcmp(ok, want))
				json_object_set_new(row, "object", hpa_to_v1(o));
		}
		return obj;
	}
	json_t *items = json_object_get(obj, "items");
	if (!kind || strncmp(kind, want, n) || strcmp(kind + n, "List") || !json_is_array(items))
		return obj;
	char av[96];
	route_api_version(&rq->rt, av);
	json_object_set_new(obj, "apiVersion", json_string(av));
	for (size_t i = 0; i < json_array_size(items); i++)
		json_array_set_new(items, i, hpa_to_v1(json_array_get(items, i)));
	return obj;
}

void http_convert_resp(const struct http_req *rq, struct http_resp *rs)
{
	if (!http_alt_version(rq) || rs->stream || !rs->body || !rs->ctype ||
	    strcmp(rs->ctype, "application/json") || rs->code >= 300)
		return;
	json_t *j = json_loadb(rs->body, rs->len, 0, NULL);
	if (!j)
		return;
	http_resp_json(rs, rs->code, http_served(rq, j));
}
