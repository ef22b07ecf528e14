/*
 * pb.h - decoding Kubernetes' protobuf request bodies
 * (application/vnd.kubernetes.protobuf), which kubectl 1.32's typed client
 * sends for `kubectl create deployment|service|configmap|namespace`,
 * `kubectl run`, `kubectl expose`, `kubectl drain` (the Eviction), ...
 *
 * A body is the envelope "k8s\0" and a runtime.Unknown message: typeMeta
 * {apiVersion 1, kind 2}, raw 2 (the object's own message).  The object
 * is decoded into the JSON Kubernetes would have received by one decoder
 * driven by the schema (engine/valid/schema.h: names, types, references)
 * and by the field numbers of pb_numbers.c, the only wire facts kept here.
 *
 * Zero values: Kubernetes' generated messages send every field that is no
 * pointer in Go, zero or not; such a zero ("", 0, false, a zero Time) is
 * dropped as JSON's omitempty drops it, while a pointer field's (PBN_PTR:
 * replicas, ...) is kept.  Messages are kept even when empty ({}), as Go's
 * JSON encoder keeps structs.  A field number the tables do not know is
 * skipped (as protobuf readers do) and reported to the caller, as an
 * unknown field of a JSON body is, for fieldValidation.  Fields the schema
 * leaves undescribed (SCH_ANY) are decoded only when empty; otherwise the
 * body is refused (-ENOTSUP: send JSON).  Pure; thread-safe.
 */
#ifndef CFS_HTTP_PB_H
#define CFS_HTTP_PB_H

#include <jansson.h>
#include <stddef.h>

#include "engine/err.h"
#include "engine/valid/schema.h"

/* Called with each unknown field's path: "spec.template.spec.containers[0]
 * (protobuf field 99)". */
typedef void (*pb_unknown_fn)(void *arg, const char *path);

/* Decodes body into *out (a new object with apiVersion and kind); unknown
 * fields go to fn (may be NULL).  0, or -EINVAL (malformed) or -ENOTSUP (a
 * kind or field not decoded) with *e. */
int pb_decode_object(const char *body, size_t len, json_t **out, pb_unknown_fn fn, void *arg,
		     struct err **e);

/* Decodes one message of the definition named def (no envelope) into *out. */
int pb_decode_message(const void *buf, size_t len, const char *def, json_t **out, pb_unknown_fn fn,
		      void *arg, struct err **e);

/* --- pb_numbers.c: the field numbers ------------------------------------- */

#define PBN_PTR	      0x1  /* a pointer in Go: its zero value is sent on purpose, kept */
#define PBN_INLINE    0x2  /* a message inline in JSON: its fields are the parent's */
#define PBN_MICROTIME 0x4  /* a string in the schema, a meta/v1 MicroTime on the wire */
#define PBN_RAW	      0x8  /* any value: a message {raw 1} holding JSON (RawExtension, FieldsV1) */
#define PBN_BYTES     0x10 /* bytes on the wire, base64 in JSON (binaryData's values) */

struct pb_num {
	const char *field; /* the schema's field name; NULL for PBN_INLINE */
	int num;
	unsigned flags;
	const char *inl; /* PBN_INLINE: the inline message's table */
};

struct pb_nums {
	const char *def;	   /* a definition's name, as the schema names it */
	const struct pb_num *nums; /* ended by a row with num 0 */
};

/* The numbers of definition def, or NULL. */
const struct pb_nums *pb_numbers(const char *def);
/* All tables: pb_numbers_at(0 ..) until NULL (for the tests). */
const struct pb_nums *pb_numbers_at(size_t i);
/* The schema's definition named name, or one the schema lacks (policy/v1
 * Eviction), or NULL. */
const struct sch_def *pb_schema_def(const char *name);

#endif
