/*
 * pb.c - protobuf request bodies.  See pb.h.
 *
 * Field numbers are those of Kubernetes' generated.proto for each message
 * (k8s.io/apimachinery meta/v1 and runtime, k8s.io/api core/v1).  Wire
 * types: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32.
 */
#include "http/pb.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "engine/mem.h"
#include "engine/obj.h"

enum pb_type {
	PB_STRING,
	PB_BYTES, /* base64 in JSON */
	PB_INT,
	PB_BOOL,
	PB_MSG,
	PB_MAP_STRING, /* map<string, string> */
	PB_MAP_BYTES,  /* map<string, bytes>: values base64 */
	PB_TIME,       /* meta/v1 Time {seconds 1, nanos 2}: RFC 3339 */
};

struct pb_msg;
struct pb_field {
	int num;
	const char *name;
	enum pb_type type;
	bool repeated;
	const struct pb_msg *msg; /* PB_MSG */
};
struct pb_msg {
	const char *name;
	const struct pb_field *fields;
};

static const struct pb_msg owner_ref = {
    "OwnerReference", (const struct pb_field[]){{1, "kind", PB_STRING, false, NULL},
						{3, "name", PB_STRING, false, NULL},
						{4, "uid", PB_STRING, false, NULL},
						{5, "apiVersion", PB_STRING, false, NULL},
						{6, "controller", PB_BOOL, false, NULL},
						{7, "blockOwnerDeletion", PB_BOOL, false, NULL},
						{0}}};

static const struct pb_msg object_meta = {
    "ObjectMeta", (const struct pb_field[]){{1, "name", PB_STRING, false, NULL},
					    {2, "generateName", PB_STRING, false, NULL},
					    {3, "namespace", PB_STRING, false, NULL},
					    {4, "selfLink", PB_STRING, false, NULL},
					    {5, "uid", PB_STRING, false, NULL},
					    {6, "resourceVersion", PB_STRING, false, NULL},
					    {7, "generation", PB_INT, false, NULL},
					    {8, "creationTimestamp", PB_TIME, false, NULL},
					    {9, "deletionTimestamp", PB_TIME, false, NULL},
					    {10, "deletionGracePeriodSeconds", PB_INT, false, NULL},
					    {11, "labels", PB_MAP_STRING, false, NULL},
					    {12, "annotations", PB_MAP_STRING, false, NULL},
					    {13, "ownerReferences", PB_MSG, true, &owner_ref},
					    {14, "finalizers", PB_STRING, true, NULL},
					    {0}}};

static const struct pb_msg configmap = {
    "ConfigMap", (const struct pb_field[]){{1, "metadata", PB_MSG, false, &object_meta},
					   {2, "data", PB_MAP_STRING, false, NULL},
					   {3, "binaryData", PB_MAP_BYTES, false, NULL},
					   {4, "immutable", PB_BOOL, false, NULL},
					   {0}}};

static const struct pb_msg namespace_spec = {
    "NamespaceSpec", (const struct pb_field[]){{1, "finalizers", PB_STRING, true, NULL}, {0}}};
static const struct pb_msg namespace_status = {
    "NamespaceStatus", (const struct pb_field[]){{1, "phase", PB_STRING, false, NULL}, {0}}};

static const struct pb_msg namespace = {
    "Namespace", (const struct pb_field[]){{1, "metadata", PB_MSG, false, &object_meta},
					   {2, "spec", PB_MSG, false, &namespace_spec},
					   {3, "status", PB_MSG, false, &namespace_status},
					   {0}}};

/* The objects decoded, by apiVersion and kind. */
static const struct {
	const char *api_version, *kind;
	const struct pb_msg *msg;
} kinds[] = {
    {"v1", "ConfigMap", &configmap},
    {"v1", "Namespace", &namespace},
};

struct rd {
	const uint8_t *p, *end;
};

static int varint(struct rd *r, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64 && r->p < r->end; shift += 7) {
		uint8_t b = *r->p++;
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return 0;
	}
	return -1;
}

/* Reads one field's key and, for wire type 2, its bytes (*sub). */
static int next_field(struct rd *r, int *num, int *wire, uint64_t *v, struct rd *sub)
{
	uint64_t key;
	if (varint(r, &key) < 0 || key >> 3 == 0 || key >> 3 > 1000000)
		return -1;
	*num = (int)(key >> 3);
	*wire = (int)(key & 7);
	switch (*wire) {
	case 0:
		return varint(r, v);
	case 1:
	case 5: {
		size_t n = *wire == 1 ? 8 : 4;
		if ((size_t)(r->end - r->p) < n)
			return -1;
		*v = 0;
		memcpy(v, r->p, n); /* little-endian hosts */
		r->p += n;
		return 0;
	}
	case 2:
		if (varint(r, v) < 0 || *v > (uint64_t)(r->end - r->p))
			return -1;
		sub->p = r->p;
		sub->end = r->p + *v;
		r->p += *v;
		return 0;
	default:
		return -1;
	}
}

static json_t *str_of(const struct rd *s)
{
	return json_stringn((const char *)s->p, (size_t)(s->end - s->p));
}

static json_t *b64_of(const struct rd *s)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = (size_t)(s->end - s->p);
	char *out = xmalloc(4 * ((n + 2) / 3) + 1), *o = out;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)s->p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)s->p[i + 1] << 8;
		if (i + 2 < n)
			v |= s->p[i + 2];
		*o++ = tab[(v >> 18) & 63];
		*o++ = tab[(v >> 12) & 63];
		*o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? tab[v & 63] : '=';
	}
	*o = '\0';
	json_t *j = json_string(out);
	free(out);
	return j;
}

static int decode_msg(struct rd r, const struct pb_msg *m, int depth, json_t **out, struct err **e);

/* A map entry {key 1, value 2} into obj. */
static int map_entry(struct rd r, bool bytes, json_t *obj, struct err **e)
{
	int num, wire;
	uint64_t v;
	struct rd sub, key = {0}, val = {0};
	while (r.p < r.end) {
		if (next_field(&r, &num, &wire, &v, &sub) < 0 || wire != 2)
			return err_make(e, EINVAL, "protobuf: a malformed map entry");
		if (num == 1)
			key = sub;
		else if (num == 2)
			val = sub;
	}
	char *k = key.p ? xstrndup((const char *)key.p, (size_t)(key.end - key.p)) : xstrdup("");
	json_t *jv = bytes ? b64_of(&val) : str_of(&val);
	int r2 = jv ? 0 : err_make(e, EINVAL, "protobuf: a map value is not UTF-8");
	if (jv)
		json_object_set_new(obj, k, jv);
	free(k);
	return r2;
}

static json_t *time_of(struct rd r)
{
	int num, wire;
	uint64_t v, secs = 0;
	struct rd sub;
	while (r.p < r.end && next_field(&r, &num, &wire, &v, &sub) == 0)
		if (num == 1 && wire == 0)
			secs = v;
	if ((int64_t)secs <= 0)
		return NULL; /* Go's zero time, as an unset Time is sent */
	char ts[32];
	obj_format_time((time_t)secs, ts);
	return json_string(ts);
}

/* The value of field f from its wire form. */
static int field_value(const struct pb_field *f, int wire, uint64_t v, struct rd sub, int depth,
		       json_t **out, struct err **e)
{
	bool lenfield =
	    f->type == PB_STRING || f->type == PB_BYTES || f->type == PB_MSG || f->type == PB_TIME;
	if (lenfield != (wire == 2))
		return err_make(e, EINVAL, "protobuf: field %s has the wrong wire type", f->name);
	switch (f->type) {
	case PB_STRING:
		*out = str_of(&sub);
		return *out ? 0 : err_make(e, EINVAL, "protobuf: %s is not UTF-8", f->name);
	case PB_BYTES:
		*out = b64_of(&sub);
		return 0;
	case PB_INT:
		*out = json_integer((json_int_t)v);
		return 0;
	case PB_BOOL:
		*out = json_boolean(v != 0);
		return 0;
	case PB_TIME:
		*out = time_of(sub);
		return 0;
	case PB_MSG:
		return decode_msg(sub, f->msg, depth + 1, out, e);
	default:
		return err_make(e, EINVAL, "protobuf: field %s", f->name);
	}
}

/* A zero value (or none): "", 0, false, {}. */
static bool empty(const json_t *v)
{
	return !v || (json_is_string(v) && !json_string_length(v)) ||
	       (json_is_integer(v) && !json_integer_value(v)) || json_is_false(v) ||
	       (json_is_object(v) && !json_object_size(v));
}

static int decode_msg(struct rd r, const struct pb_msg *m, int depth, json_t **out, struct err **e)
{
	if (depth > 32)
		return err_make(e, EINVAL, "protobuf: nested too deep");
	json_t *obj = json_object();
	while (r.p < r.end) {
		int num, wire;
		uint64_t v;
		struct rd sub = {0};
		if (next_field(&r, &num, &wire, &v, &sub) < 0) {
			json_decref(obj);
			return err_make(e, EINVAL, "protobuf: a malformed %s", m->name);
		}
		const struct pb_field *f = m->fields;
		while (f->num && f->num != num)
			f++;
		if (!f->num) {
			json_decref(obj);
			return err_make(e, ENOTSUP, "protobuf: field %d of %s is not decoded", num,
					m->name);
		}
		int rc;
		if (f->type == PB_MAP_STRING || f->type == PB_MAP_BYTES) {
			json_t *map = json_object_get(obj, f->name);
			if (!map)
				json_object_set_new(obj, f->name, map = json_object());
			rc = wire == 2 ? map_entry(sub, f->type == PB_MAP_BYTES, map, e)
				       : err_make(e, EINVAL, "protobuf: a malformed map");
		} else {
			json_t *val = NULL;
			rc = field_value(f, wire, v, sub, depth, &val, e);
			if (rc >= 0 && !f->repeated && empty(val)) {
				/* Go sends its zero values: as JSON's omitempty, no field */
				json_decref(val);
			} else if (rc >= 0 && f->repeated) {
				json_t *arr = json_object_get(obj, f->name);
				if (!arr)
					json_object_set_new(obj, f->name, arr = json_array());
				json_array_append_new(arr, val);
			} else if (rc >= 0) {
				json_object_set_new(obj, f->name, val);
			}
		}
		if (rc < 0) {
			json_decref(obj);
			return rc;
		}
	}
	*out = obj;
	return 0;
}

int pb_decode_object(const char *body, size_t len, json_t **out, struct err **e)
{
	if (len < 4 || memcmp(body, "k8s\0", 4))
		return err_make(e, EINVAL, "protobuf: the body does not start with \"k8s\\0\"");
	struct rd r = {(const uint8_t *)body + 4, (const uint8_t *)body + len};
	struct rd raw = {0}, tm = {0};
	int num, wire;
	uint64_t v;
	struct rd sub;
	while (r.p < r.end) {
		if (next_field(&r, &num, &wire, &v, &sub) < 0)
			return err_make(e, EINVAL, "protobuf: a malformed envelope");
		if (num == 1 && wire == 2)
			tm = sub;
		else if (num == 2 && wire == 2)
			raw = sub;
	}
	char av[128] = "", kind[128] = "";
	while (tm.p && tm.p < tm.end) {
		if (next_field(&tm, &num, &wire, &v, &sub) < 0 || wire != 2)
			return err_make(e, EINVAL, "protobuf: a malformed typeMeta");
		size_t n = (size_t)(sub.end - sub.p);
		char *dst = num == 1 ? av : num == 2 ? kind : NULL;
		if (dst && n < sizeof(av)) {
			memcpy(dst, sub.p, n);
			dst[n] = '\0';
		}
	}
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(kinds[i].api_version, av) || strcmp(kinds[i].kind, kind))
			continue;
		int rc = decode_msg(raw.p ? raw : (struct rd){0}, kinds[i].msg, 0, out, e);
		if (rc < 0)
			return rc;
		json_object_set_new(*out, "apiVersion", json_string(av));
		json_object_set_new(*out, "kind", json_string(kind));
		return 0;
	}
	return err_make(e, ENOTSUP,
			"protobuf bodies of %s %s are not decoded yet: send JSON or YAML",
			*av ? av : "?", *kind ? kind : "?");
}
