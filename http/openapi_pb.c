/*
 * openapi_pb.c - a Swagger 2.0 document (JSON, as openapi.c builds it)
 * written as gnostic's openapi.v2.Document protobuf message, which is
 * what kubectl asks /openapi/v2 for.
 *
 * A small protobuf writer: varints and length-delimited fields, a nested
 * message being written to its own buffer first so that its length is
 * known.  Only the parts of the message the generator uses are written.
 * Field numbers are those of gnostic's openapiv2/OpenAPIv2.proto.
 * Vendor extensions and enum values are gnostic Any messages whose yaml
 * field holds the value; the value is written as JSON, which is YAML.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/openapi.h"

enum { WIRE_VARINT = 0, WIRE_LEN = 2 };

/* Document */
enum { DOC_SWAGGER = 1, DOC_INFO = 2, DOC_PATHS = 8, DOC_DEFINITIONS = 9 };
/* Info */
enum { INFO_TITLE = 1, INFO_VERSION = 2 };
/* Paths, NamedPathItem, Definitions and Properties (NamedSchema), NamedAny, Any */
enum { PATHS_PATH = 2, NAMED_NAME = 1, NAMED_VALUE = 2, ADDITIONAL = 1, ANY_YAML = 2 };
/* PathItem */
enum { PI_GET = 2, PI_PUT = 3, PI_POST = 4, PI_DELETE = 5, PI_PATCH = 8 };
/* Operation */
enum {
	OP_DESCRIPTION = 3,
	OP_ID = 5,
	OP_PRODUCES = 6,
	OP_CONSUMES = 7,
	OP_PARAMETERS = 8,
	OP_RESPONSES = 9,
	OP_EXTENSION = 13,
};
/* ParametersItem.parameter, Parameter.{body,non_body}, NonBodyParameter.{query,path} */
enum { PITEM_PARAM = 1, PARAM_BODY = 1, PARAM_NONBODY = 2, NB_QUERY = 3, NB_PATH = 4 };
/* BodyParameter */
enum { BODY_DESCRIPTION = 1, BODY_NAME = 2, BODY_IN = 3, BODY_REQUIRED = 4, BODY_SCHEMA = 5 };
/* Query and PathParameterSubSchema (type: 6 for query, 5 for path) */
enum { SUB_REQUIRED = 1, SUB_IN = 2, SUB_DESCRIPTION = 3, SUB_NAME = 4 };
/* Responses, NamedResponseValue, ResponseValue, Response, SchemaItem */
enum { RESPS_CODE = 1, RV_RESPONSE = 1, RESP_DESCRIPTION = 1, RESP_SCHEMA = 2, SI_SCHEMA = 1 };
/* Schema */
enum {
	SC_REF = 1,
	SC_FORMAT = 2,
	SC_DESCRIPTION = 4,
	SC_REQUIRED = 19,
	SC_ENUM = 20,
	SC_ADDITIONAL = 21,
	SC_TYPE = 22,
	SC_ITEMS = 23,
	SC_PROPERTIES = 25,
	SC_EXTENSION = 31,
};
/* AdditionalPropertiesItem, TypeItem, ItemsItem */
enum { AP_SCHEMA = 1, AP_BOOL = 2, TYPE_VALUE = 1, ITEMS_SCHEMA = 1 };

static void varint(struct buf *b, uint64_t v)
{
	unsigned char c[10];
	size_t n = 0;
	do {
		c[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v)
			c[n] |= 0x80;
		n++;
	} while (v);
	buf_add(b, c, n);
}

static void tag(struct buf *b, int field, int wire)
{
	varint(b, ((uint64_t)field << 3) | (uint64_t)wire);
}

static void put_bytes(struct buf *b, int field, const void *p, size_t n)
{
	tag(b, field, WIRE_LEN);
	varint(b, n);
	buf_add(b, p, n);
}

static void put_str(struct buf *b, int field, const char *s)
{
	if (s && *s)
		put_bytes(b, field, s, strlen(s));
}

static void put_bool(struct buf *b, int field, bool v)
{
	if (v) {
		tag(b, field, WIRE_VARINT);
		varint(b, 1);
	}
}

/* Writes sub (a finished message) as field of b, and frees it. */
static void put_msg(struct buf *b, int field, struct buf *sub)
{
	put_bytes(b, field, sub->s ? sub->s : "", sub->len);
	buf_free(sub);
	memset(sub, 0, sizeof(*sub));
}

static void put_jstr(struct buf *b, int field, const json_t *o, const char *key)
{
	put_str(b, field, json_string_value(json_object_get(o, key)));
}

/* An Any whose yaml is v (as JSON). */
static void put_any(struct buf *b, int field, const json_t *v)
{
	struct buf any = {0};
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	put_str(&any, ANY_YAML, s);
	free(s);
	put_msg(b, field, &any);
}

/* A NamedAny: name and an Any of v. */
static void put_named_any(struct buf *b, int field, const char *name, const json_t *v)
{
	struct buf na = {0};
	put_str(&na, NAMED_NAME, name);
	put_any(&na, NAMED_VALUE, v);
	put_msg(b, field, &na);
}

static void schema(struct buf *b, const json_t *s);

static void put_schema(struct buf *b, int field, const json_t *s)
{
	struct buf sub = {0};
	schema(&sub, s);
	put_msg(b, field, &sub);
}

/* A NamedSchema: name and a Schema. */
static void put_named_schema(struct buf *b, int field, const char *name, const json_t *s)
{
	struct buf ns = {0};
	put_str(&ns, NAMED_NAME, name);
	put_schema(&ns, NAMED_VALUE, s);
	put_msg(b, field, &ns);
}

static void schema_lists(struct buf *b, const json_t *s)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(s, "required"), i, v)
	    put_str(b, SC_REQUIRED, json_string_value(v));
	json_array_foreach(json_object_get(s, "enum"), i, v) put_any(b, SC_ENUM, v);
	const json_t *ap = json_object_get(s, "additionalProperties");
	if (ap) {
		struct buf item = {0};
		if (json_is_object(ap))
			put_schema(&item, AP_SCHEMA, ap);
		else {
			tag(&item, AP_BOOL, WIRE_VARINT);
			varint(&item, json_is_true(ap));
		}
		put_msg(b, SC_ADDITIONAL, &item);
	}
}

static void schema(struct buf *b, const json_t *s)
{
	put_jstr(b, SC_REF, s, "$ref");
	put_jstr(b, SC_FORMAT, s, "format");
	put_jstr(b, SC_DESCRIPTION, s, "description");
	schema_lists(b, s);
	const char *type = json_string_value(json_object_get(s, "type"));
	if (type) {
		struct buf t = {0};
		put_str(&t, TYPE_VALUE, type);
		put_msg(b, SC_TYPE, &t);
	}
	const json_t *items = json_object_get(s, "items");
	if (items) {
		struct buf it = {0};
		put_schema(&it, ITEMS_SCHEMA, items);
		put_msg(b, SC_ITEMS, &it);
	}
	const json_t *props = json_object_get(s, "properties");
	if (props) {
		struct buf p = {0};
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)props, k, v) put_named_schema(&p, ADDITIONAL, k, v);
		put_msg(b, SC_PROPERTIES, &p);
	}
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)s, k, v) if (!strncmp(k, "x-", 2))
	    put_named_any(b, SC_EXTENSION, k, v);
}

/* One parameter (a ParametersItem). */
static void parameter(struct buf *b, const json_t *p)
{
	struct buf inner = {0}, par = {0}, item = {0};
	const char *in = json_string_value(json_object_get(p, "in"));
	bool required = json_is_true(json_object_get(p, "required"));
	if (in && !strcmp(in, "body")) {
		put_jstr(&inner, BODY_DESCRIPTION, p, "description");
		put_jstr(&inner, BODY_NAME, p, "name");
		put_str(&inner, BODY_IN, in);
		put_bool(&inner, BODY_REQUIRED, required);
		put_schema(&inner, BODY_SCHEMA, json_object_get(p, "schema"));
		put_msg(&par, PARAM_BODY, &inner);
	} else {
		bool path = in && !strcmp(in, "path");
		struct buf sub = {0};
		put_bool(&sub, SUB_REQUIRED, required);
		put_str(&sub, SUB_IN, in);
		put_jstr(&sub, SUB_DESCRIPTION, p, "description");
		put_jstr(&sub, SUB_NAME, p, "name");
		put_jstr(&sub, path ? 5 : 6, p, "type");
		put_msg(&inner, path ? NB_PATH : NB_QUERY, &sub);
		put_msg(&par, PARAM_NONBODY, &inner);
	}
	put_msg(&item, PITEM_PARAM, &par);
	put_msg(b, OP_PARAMETERS, &item);
}

static void responses(struct buf *b, const json_t *rs)
{
	struct buf all = {0};
	const char *code;
	json_t *r;
	json_object_foreach((json_t *)rs, code, r)
	{
		struct buf resp = {0}, rv = {0}, named = {0};
		put_jstr(&resp, RESP_DESCRIPTION, r, "description");
		if (json_object_get(r, "schema")) {
			struct buf si = {0};
			put_schema(&si, SI_SCHEMA, json_object_get(r, "schema"));
			put_msg(&resp, RESP_SCHEMA, &si);
		}
		put_msg(&rv, RV_RESPONSE, &resp);
		put_str(&named, NAMED_NAME, code);
		put_msg(&named, NAMED_VALUE, &rv);
		put_msg(&all, RESPS_CODE, &named);
	}
	put_msg(b, OP_RESPONSES, &all);
}

static void operation(struct buf *b, int field, const json_t *op)
{
	struct buf o = {0};
	size_t i;
	json_t *v;
	const char *k;
	put_jstr(&o, OP_DESCRIPTION, op, "description");
	put_jstr(&o, OP_ID, op, "operationId");
	json_array_foreach(json_object_get(op, "produces"), i, v)
	    put_str(&o, OP_PRODUCES, json_string_value(v));
	json_array_foreach(json_object_get(op, "consumes"), i, v)
	    put_str(&o, OP_CONSUMES, json_string_value(v));
	json_array_foreach(json_object_get(op, "parameters"), i, v) parameter(&o, v);
	responses(&o, json_object_get(op, "responses"));
	json_object_foreach((json_t *)op, k, v) if (!strncmp(k, "x-", 2))
	    put_named_any(&o, OP_EXTENSION, k, v);
	put_msg(b, field, &o);
}

static void path_item(struct buf *b, const json_t *pi)
{
	static const struct {
		const char *method;
		int field;
	} ops[] = {{"get", PI_GET},
		   {"put", PI_PUT},
		   {"post", PI_POST},
		   {"delete", PI_DELETE},
		   {"patch", PI_PATCH}};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		const json_t *op = json_object_get(pi, ops[i].method);
		if (op)
			operation(b, ops[i].field, op);
	}
}

void openapi_v2_protobuf(const json_t *doc, struct buf *out)
{
	struct buf info = {0}, paths = {0}, defs = {0};
	const char *k;
	json_t *v;

	put_jstr(out, DOC_SWAGGER, doc, "swagger");
	put_jstr(&info, INFO_TITLE, json_object_get(doc, "info"), "title");
	put_jstr(&info, INFO_VERSION, json_object_get(doc, "info"), "version");
	put_msg(out, DOC_INFO, &info);
	json_object_foreach(json_object_get(doc, "paths"), k, v)
	{
		struct buf named = {0}, item = {0};
		put_str(&named, NAMED_NAME, k);
		path_item(&item, v);
		put_msg(&named, NAMED_VALUE, &item);
		put_msg(&paths, PATHS_PATH, &named);
	}
	put_msg(out, DOC_PATHS, &paths);
	json_object_foreach(json_object_get(doc, "definitions"), k, v)
	    put_named_schema(&defs, ADDITIONAL, k, v);
	put_msg(out, DOC_DEFINITIONS, &defs);
}
