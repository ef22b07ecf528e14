/*
 * pb.c - protobuf request bodies.  See pb.h.
 *
 * One decoder for every message: a field's number leads, through the
 * definition's table (pb_numbers.c), to its name, and the name, through
 * the schema, to its type and, for a message, its definition.  Wire
 * types: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32.  The types
 * of apimachinery with their own messages: resource.Quantity {string 1},
 * intstr.IntOrString {type 1 (0 int, 1 string), intVal 2, strVal 3},
 * meta/v1 Time and MicroTime {seconds 1, nanos 2}, RawExtension and
 * FieldsV1 {raw 1}; maps are repeated entries {key 1, value 2}.
 */
#include "http/pb.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/mem.h"
#include "engine/obj.h"

#define UNKNOWN_MAX 16
#define DEPTH_MAX   40

struct rd {
	const uint8_t *p, *end;
};

/* One decoding: where it is (for unknown fields' paths) and what it found. */
struct ctx {
	struct err **e;
	char *unknown[UNKNOWN_MAX];
	size_t nunknown;
	size_t len;
	char path[512];
};

/* What one field carries on the wire. */
struct wire {
	int type; /* 0, 1, 2, 5 */
	uint64_t v;
	struct rd sub; /* type 2 */
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

/* Reads one field: its number and value. */
static int next_field(struct rd *r, int *num, struct wire *w)
{
	uint64_t key;
	if (varint(r, &key) < 0 || key >> 3 == 0 || key >> 3 > 536870911)
		return -1;
	*num = (int)(key >> 3);
	w->type = (int)(key & 7);
	switch (w->type) {
	case 0:
		return varint(r, &w->v);
	case 1:
	case 5: {
		size_t n = w->type == 1 ? 8 : 4;
		if ((size_t)(r->end - r->p) < n)
			return -1;
		w->v = 0;
		for (size_t i = 0; i < n; i++)
			w->v |= (uint64_t)r->p[i] << (8 * i);
		r->p += n;
		return 0;
	}
	case 2:
		if (varint(r, &w->v) < 0 || w->v > (uint64_t)(r->end - r->p))
			return -1;
		w->sub.p = r->p;
		w->sub.end = r->p + w->v;
		r->p += w->v;
		return 0;
	default:
		return -1;
	}
}

static json_t *str_of(const struct rd *s)
{
	return json_stringn(s->p ? (const char *)s->p : "", (size_t)(s->end - s->p));
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

/* --- where the decoding is ------------------------------------------------ */

static size_t push(struct ctx *c, const char *name, long idx)
{
	size_t mark = c->len, room = sizeof(c->path) - c->len;
	int n = name ? snprintf(c->path + c->len, room, c->len ? ".%s" : "%s", name)
		     : snprintf(c->path + c->len, room, "[%ld]", idx);
	if (n > 0)
		c->len = (size_t)n < room ? c->len + (size_t)n : sizeof(c->path) - 1;
	return mark;
}

static void pop(struct ctx *c, size_t mark)
{
	c->len = mark;
	c->path[mark] = '\0';
}

static void unknown(struct ctx *c, int num)
{
	if (c->nunknown < UNKNOWN_MAX)
		c->unknown[c->nunknown++] =
		    xasprintf("%s%s(protobuf field %d)", c->path, c->len ? " " : "", num);
}

static int fail(struct ctx *c, int code, const char *what)
{
	return err_make(c->e, code, "protobuf: %s%s%s", c->len ? c->path : "", c->len ? ": " : "",
			what);
}

/* --- apimachinery's own messages ------------------------------------------ */

/* Time and MicroTime: RFC 3339, or NULL for Go's zero time and for a
 * time past 9999-12-31T23:59:59Z, which RFC 3339 (and Go's JSON) cannot
 * write either. */
static json_t *time_of(struct rd r)
{
	int num;
	struct wire w;
	uint64_t secs = 0;
	while (r.p < r.end && next_field(&r, &num, &w) == 0)
		if (num == 1 && w.type == 0)
			secs = w.v;
	if ((int64_t)secs <= 0 || secs > 253402300799)
		return NULL;
	char ts[32];
	obj_format_time((time_t)secs, ts);
	return json_string(ts);
}

/* Quantity {string 1}; IntOrString {type 1, intVal 2, strVal 3}. */
static json_t *quantity_or_intstr(struct rd r, bool intstr)
{
	int num;
	struct wire w;
	uint64_t type = 0, ival = 0;
	struct rd s = {0};
	while (r.p < r.end && next_field(&r, &num, &w) == 0) {
		if (!intstr && num == 1 && w.type == 2)
			s = w.sub;
		else if (intstr && num == 1 && w.type == 0)
			type = w.v;
		else if (intstr && num == 2 && w.type == 0)
			ival = w.v;
		else if (intstr && num == 3 && w.type == 2)
			s = w.sub;
	}
	if (intstr && type == 0)
		return json_integer((json_int_t)(int32_t)ival);
	return str_of(&s);
}

/* RawExtension and FieldsV1 {raw 1}: the JSON they hold. */
static json_t *raw_of(struct rd r)
{
	int num;
	struct wire w;
	struct rd raw = {0};
	while (r.p < r.end && next_field(&r, &num, &w) == 0)
		if (num == 1 && w.type == 2)
			raw = w.sub;
	if (!raw.p || raw.p == raw.end)
		return json_object();
	return json_loadb((const char *)raw.p, (size_t)(raw.end - raw.p), JSON_DECODE_ANY, NULL);
}

/* --- values by the schema's types ----------------------------------------- */

static int decode_into(struct ctx *c, struct rd r, const struct sch_def *d,
		       const struct pb_nums *nums, json_t *obj, int depth);

static int wire_of(enum sch_type t)
{
	switch (t) {
	case SCH_INT32:
	case SCH_INT64:
	case SCH_BOOL:
		return 0;
	case SCH_NUMBER:
		return 1;
	default:
		return 2;
	}
}

/* A message of field f's definition. */
static int nested(struct ctx *c, const struct sch_field *f, struct rd sub, int depth, json_t **out)
{
	const struct sch_def *d = pb_schema_def(f->ref);
	const struct pb_nums *nums = pb_numbers(f->ref);
	if (!d || !nums)
		return fail(c, ENOTSUP, "this message is not decoded: send JSON");
	*out = json_object();
	int rc = decode_into(c, sub, d, nums, *out, depth + 1);
	if (rc < 0) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

/* One value (an element, for lists and maps) of type t of field f. */
static int value_of(struct ctx *c, const struct sch_field *f, enum sch_type t, unsigned flags,
		    const struct wire *w, int depth, json_t **out)
{
	*out = NULL;
	if (w->type != wire_of(t) && !(flags & PBN_MICROTIME))
		return fail(c, EINVAL, "the wrong wire type");
	switch (t) {
	case SCH_STRING:
		if (flags & PBN_MICROTIME)
			*out = w->type == 2 ? time_of(w->sub) : NULL;
		else
			*out = flags & PBN_BYTES ? b64_of(&w->sub) : str_of(&w->sub);
		return *out || (flags & PBN_MICROTIME) ? 0 : fail(c, EINVAL, "not UTF-8");
	case SCH_INT32:
		*out = json_integer((json_int_t)(int32_t)w->v);
		return 0;
	case SCH_INT64:
		*out = json_integer((json_int_t)(int64_t)w->v);
		return 0;
	case SCH_BOOL:
		*out = json_boolean(w->v != 0);
		return 0;
	case SCH_NUMBER: {
		double dv;
		memcpy(&dv, &w->v, sizeof(dv));
		*out = json_real(dv);
		return 0;
	}
	case SCH_TIME:
		*out = time_of(w->sub);
		return 0;
	case SCH_QUANTITY:
	case SCH_INT_OR_STRING:
		*out = quantity_or_intstr(w->sub, t == SCH_INT_OR_STRING);
		return *out ? 0 : fail(c, EINVAL, "not UTF-8");
	case SCH_OBJECT:
		return nested(c, f, w->sub, depth, out);
	case SCH_ANY:
		if (flags & PBN_RAW) {
			*out = raw_of(w->sub);
			return *out ? 0 : fail(c, EINVAL, "its raw value is not JSON");
		}
		if (w->sub.p != w->sub.end)
			return fail(c, ENOTSUP,
				    "this field is not decoded from protobuf: send JSON");
		*out = json_object();
		return 0;
	default:
		return fail(c, EINVAL, "a field of no wire form");
	}
}

/* A zero value as Go's omitempty drops it ("", 0, false, none). */
static bool zero(const json_t *v)
{
	return !v || (json_is_string(v) && !json_string_length(v)) ||
	       (json_is_integer(v) && !json_integer_value(v)) || json_is_false(v) ||
	       (json_is_real(v) && json_real_value(v) == 0);
}

/* A map entry {key 1, value 2} into map. */
static int map_entry(struct ctx *c, const struct sch_field *f, unsigned flags, struct rd r,
		     json_t *map, int depth)
{
	static const uint8_t none[1];
	int num;
	struct wire w, val = {.type = wire_of(f->item), .sub = {none, none}};
	struct rd key = {0};
	while (r.p < r.end) {
		if (next_field(&r, &num, &w) < 0)
			return fail(c, EINVAL, "a malformed map entry");
		if (num == 1 && w.type == 2)
			key = w.sub;
		else if (num == 2)
			val = w;
	}
	char *k = key.p ? xstrndup((const char *)key.p, (size_t)(key.end - key.p)) : xstrdup("");
	size_t mark = push(c, k, 0);
	json_t *jv = NULL;
	int rc = value_of(c, f, f->item, flags & ~PBN_MICROTIME, &val, depth, &jv);
	pop(c, mark);
	if (rc >= 0 && json_object_set_new(map, k, jv ? jv : json_string("")) < 0)
		rc = fail(c, EINVAL, "a map key is not UTF-8");
	free(k);
	return rc;
}

/* A list's element, or several (packed varints). */
static int list_elems(struct ctx *c, const struct sch_field *f, unsigned flags,
		      const struct wire *w, json_t *arr, int depth)
{
	if (w->type == 2 && wire_of(f->item) == 0) {
		struct rd r = w->sub;
		struct wire e = {.type = 0};
		while (r.p < r.end) {
			if (varint(&r, &e.v) < 0)
				return fail(c, EINVAL, "a malformed packed list");
			json_t *jv = NULL;
			int rc = value_of(c, f, f->item, flags, &e, depth, &jv);
			if (rc < 0)
				return rc;
			json_array_append_new(arr, jv);
		}
		return 0;
	}
	size_t mark = push(c, NULL, (long)json_array_size(arr));
	json_t *jv = NULL;
	int rc = value_of(c, f, f->item, flags, w, depth, &jv);
	pop(c, mark);
	if (rc >= 0)
		json_array_append_new(arr, jv ? jv : json_null());
	return rc;
}

/* Field f of obj from one occurrence on the wire. */
static int field(struct ctx *c, const struct sch_field *f, unsigned flags, const struct wire *w,
		 json_t *obj, int depth)
{
	json_t *have = json_object_get(obj, f->name);
	if (f->type == SCH_ARRAY || f->type == SCH_MAP) {
		if (!have) {
			have = f->type == SCH_ARRAY ? json_array() : json_object();
			json_object_set_new(obj, f->name, have);
		}
		size_t mark = push(c, f->name, 0);
		int rc = f->type == SCH_ARRAY ? list_elems(c, f, flags, w, have, depth)
			 : w->type == 2	      ? map_entry(c, f, flags, w->sub, have, depth)
					      : fail(c, EINVAL, "a malformed map");
		pop(c, mark);
		return rc;
	}
	size_t mark = push(c, f->name, 0);
	json_t *v = NULL;
	int rc = value_of(c, f, f->type, flags, w, depth, &v);
	pop(c, mark);
	if (rc < 0)
		return rc;
	if (!v || (zero(v) && !(flags & PBN_PTR))) {
		json_decref(v); /* Go sent its zero value: as JSON's omitempty, none */
	} else if (json_is_object(v) && json_is_object(have)) {
		json_object_update(have, v); /* a message sent in parts */
		json_decref(v);
	} else {
		json_object_set_new(obj, f->name, v);
	}
	return 0;
}

static int decode_into(struct ctx *c, struct rd r, const struct sch_def *d,
		       const struct pb_nums *nums, json_t *obj, int depth)
{
	if (depth > DEPTH_MAX)
		return fail(c, EINVAL, "nested too deep");
	while (r.p < r.end) {
		int num;
		struct wire w = {0};
		if (next_field(&r, &num, &w) < 0)
			return fail(c, EINVAL, "a malformed message");
		const struct pb_num *n = nums->nums;
		while (n->num && n->num != num)
			n++;
		int rc = 0;
		if (!n->num) {
			unknown(c, num);
		} else if (n->flags & PBN_INLINE) {
			const struct pb_nums *in = pb_numbers(n->inl);
			rc = w.type == 2 && in ? decode_into(c, w.sub, d, in, obj, depth + 1)
					       : fail(c, EINVAL, "a malformed inline message");
		} else {
			const struct sch_field *f = schema_field(d, n->field);
			if (f)
				rc = field(c, f, n->flags, &w, obj, depth);
			else
				unknown(c, num); /* numbered, but not in the schema */
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* --- entry points --------------------------------------------------------- */

static void ctx_done(struct ctx *c, int rc, pb_unknown_fn fn, void *arg)
{
	for (size_t i = 0; i < c->nunknown; i++) {
		if (rc >= 0 && fn)
			fn(arg, c->unknown[i]);
		free(c->unknown[i]);
	}
}

int pb_decode_message(const void *buf, size_t len, const char *def, json_t **out, pb_unknown_fn fn,
		      void *arg, struct err **e)
{
	const struct sch_def *d = pb_schema_def(def);
	const struct pb_nums *nums = pb_numbers(def);
	if (!d || !nums)
		return err_make(e, ENOTSUP, "protobuf bodies of %s are not decoded: send JSON",
				def ? def : "?");
	static const uint8_t none[1];
	struct ctx c = {.e = e};
	struct rd r = {buf ? buf : none, (const uint8_t *)(buf ? buf : none) + len};
	json_t *obj = json_object();
	int rc = decode_into(&c, r, d, nums, obj, 0);
	ctx_done(&c, rc, fn, arg);
	if (rc < 0)
		json_decref(obj);
	else
		*out = obj;
	return rc;
}

/* The definition of the envelope's apiVersion and kind, or NULL. */
static const struct sch_def *def_of(const char *av, const char *kind)
{
	char group[128] = "";
	const char *slash = strchr(av, '/'), *version = av;
	if (slash && (size_t)(slash - av) < sizeof(group)) {
		memcpy(group, av, (size_t)(slash - av));
		group[slash - av] = '\0';
		version = slash + 1;
	}
	const struct sch_def *d = schema_by_gvk(group, version, kind);
	if (!d && !strcmp(kind, "DeleteOptions")) /* v1 or meta.k8s.io/v1 */
		d = schema_def("io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions");
	if (!d && !strcmp(group, "policy") && !strcmp(version, "v1") && !strcmp(kind, "Eviction"))
		d = pb_schema_def("io.k8s.api.policy.v1.Eviction");
	return d;
}

/* Copies a typeMeta string (at most 127 bytes) into dst. */
static void tm_copy(char dst[128], const struct rd *s)
{
	size_t n = (size_t)(s->end - s->p);
	if (n < 128) {
		memcpy(dst, s->p, n);
		dst[n] = '\0';
	}
}

int pb_decode_object(const char *body, size_t len, json_t **out, pb_unknown_fn fn, void *arg,
		     struct err **e)
{
	if (len < 4 || memcmp(body, "k8s\0", 4))
		return err_make(e, EINVAL, "protobuf: the body does not start with \"k8s\\0\"");
	struct rd r = {(const uint8_t *)body + 4, (const uint8_t *)body + len};
	struct rd raw = {0}, tm = {0};
	int num;
	struct wire w;
	while (r.p < r.end) {
		if (next_field(&r, &num, &w) < 0)
			return err_make(e, EINVAL, "protobuf: a malformed envelope");
		if (num == 1 && w.type == 2)
			tm = w.sub;
		else if (num == 2 && w.type == 2)
			raw = w.sub;
	}
	char av[128] = "", kind[128] = "";
	while (tm.p && tm.p < tm.end) {
		if (next_field(&tm, &num, &w) < 0 || w.type != 2)
			return err_make(e, EINVAL, "protobuf: a malformed typeMeta");
		if (num == 1 || num == 2)
			tm_copy(num == 1 ? av : kind, &w.sub);
	}
	const struct sch_def *d = def_of(av, kind);
	if (!d)
		return err_make(e, ENOTSUP,
				"protobuf bodies of %s %s are not decoded: send JSON or YAML",
				*av ? av : "?", *kind ? kind : "?");
	/* DeleteOptions takes any apiVersion: it must be text to be kept. */
	json_t *jav = json_string(av), *jkind = json_string(kind);
	if (!jav || !jkind) {
		json_decref(jav);
		json_decref(jkind);
		return err_make(e, EINVAL, "protobuf: a typeMeta that is not UTF-8");
	}
	int rc = pb_decode_message(raw.p, raw.p ? (size_t)(raw.end - raw.p) : 0, d->name, out, fn,
				   arg, e);
	if (rc < 0) {
		json_decref(jav);
		json_decref(jkind);
		return rc;
	}
	json_object_set_new(*out, "apiVersion", jav);
	json_object_set_new(*out, "kind", jkind);
	return 0;
}
