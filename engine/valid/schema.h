/*
 * schema.h - the shape of every object the API accepts, as a table: for
 * each definition (io.k8s.api.core.v1.Pod, ...ObjectMeta, ...) its known
 * fields, their types, a short description, whether they are required,
 * their allowed values and, for lists merged by key, the merge key.
 *
 * One table, several readers:
 *   - the OpenAPI documents the HTTP face serves (/openapi/v2, /openapi/v3)
 *     are generated from it, so that `kubectl explain` and kubectl's
 *     client-side validation see what the validation accepts;
 *   - schema_unknown() walks a manifest against it and reports each field
 *     no definition names ("spec.containers[0].imagePullPolicyy"): what
 *     fieldValidation=Strict refuses and fieldValidation=Warn warns about;
 *   - the validation (valid*.c) takes some of its allowed values from here
 *     (schema_enum_*), and the unit tests check that every field the
 *     validation accepts appears here;
 *   - the strategic merge patch and server-side apply (patch.h) take each
 *     list's strategy from here, walking from schema_for_kind() with
 *     schema_field() and schema_field_def(): merged by key (sch_field.mkeys:
 *     containers by name, ports by containerPort, volumeMounts by
 *     mountPath, ...), merged as a set (SCH_SET: finalizers) or atomic;
 *     the OpenAPI documents carry the same as Kubernetes' extensions
 *     (x-kubernetes-patch-merge-key, -patch-strategy, -list-type, ...),
 *     which is what kubectl builds its patches from.  The rows follow
 *     Kubernetes' patchMergeKey/patchStrategy and listType tags.
 *
 * A field the validation starts to read needs its row here (schema_pod.c,
 * schema_kinds.c); test_openapi fails otherwise.
 *
 * Definitions are named as Kubernetes names them.  A top-level kind's
 * definition carries its group, version and kind (x-kubernetes-group-
 * version-kind).  Everything is static and constant: thread-safe.
 */
#ifndef CFS_VALID_SCHEMA_H
#define CFS_VALID_SCHEMA_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "engine/kind.h"

enum sch_type {
	SCH_STRING,
	SCH_INT32,
	SCH_INT64,
	SCH_BOOL,
	SCH_NUMBER,	   /* a JSON number (double) */
	SCH_TIME,	   /* string, RFC 3339 date-time */
	SCH_QUANTITY,	   /* "100m", "128Mi" or a number */
	SCH_INT_OR_STRING, /* 80 or "http", 1 or "25%" */
	SCH_OBJECT,	   /* a mapping described by the definition ref */
	SCH_ARRAY,	   /* a list of elements of type item (ref when SCH_OBJECT) */
	SCH_MAP,	   /* string keys to elements of type item (ref when SCH_OBJECT) */
	SCH_ANY,	   /* any JSON value, not walked (FieldsV1, a WatchEvent's object) */
};

#define SCH_REQUIRED 0x1 /* the validation refuses the object without it */
#define SCH_READONLY 0x2 /* set by the system (status, uid, ...) */
/* A list of scalars merged as a set (finalizers, podCIDRs): Kubernetes'
 * patchStrategy=merge without a merge key, x-kubernetes-list-type: set. */
#define SCH_SET 0x4
/* A list merged by key whose elements' keys a patch may retain
 * (patchStrategy=merge,retainKeys: a pod's volumes). */
#define SCH_RETAIN 0x8

struct sch_field {
	const char *name;
	enum sch_type type;
	enum sch_type item;	  /* SCH_ARRAY, SCH_MAP: the elements' type */
	const char *ref;	  /* SCH_OBJECT (or elements SCH_OBJECT): a definition's name */
	const char *doc;	  /* one or two sentences */
	unsigned flags;		  /* SCH_REQUIRED, SCH_READONLY, SCH_SET, SCH_RETAIN */
	const char *const *enums; /* NULL-ended allowed values, or NULL */
	/* SCH_ARRAY merged by key: the NULL-ended key fields, as Kubernetes'
	 * x-kubernetes-list-map-keys; the first is the strategic merge
	 * patch's merge key (patchMergeKey).  NULL: a set when SCH_SET,
	 * else atomic (replaced whole). */
	const char *const *mkeys;
};

struct sch_def {
	const char *name; /* "io.k8s.api.core.v1.Container" */
	const char *doc;
	const struct sch_field *fields;
	size_t nfields;
	/* Top-level kinds (and their lists): group ("" for core), version, kind. */
	const char *group, *version, *kind;
};

/* All definitions, in a stable order: schema_at(0 .. schema_count()-1). */
size_t schema_count(void);
const struct sch_def *schema_at(size_t i);

/* The definition named name ("io.k8s.api.core.v1.Pod"), or NULL. */
const struct sch_def *schema_def(const char *name);
/* The definition of a kind's objects (Pod), or of its lists when list
 * (PodList); NULL for a kind the table does not describe. */
const struct sch_def *schema_for_kind(const struct kind_info *k, bool list);
/* The definition by group, version and kind ("apps", "v1", "Deployment"). */
const struct sch_def *schema_by_gvk(const char *group, const char *version, const char *kind);
/* The field name of d, or NULL. */
const struct sch_field *schema_field(const struct sch_def *d, const char *name);
/* The definition a field (or its elements) is described by, or NULL. */
const struct sch_def *schema_field_def(const struct sch_field *f);

/*
 * Walks obj against definition d and calls fn(arg, path) for each field
 * no definition names, path as Kubernetes prints it ("spec.replicass",
 * "spec.template.spec.containers[0].imagee", "metadata.labels" is a map:
 * its keys are free).  Values of the wrong type are not walked (the
 * validation reports those).  Returns the number of unknown fields found.
 */
typedef void (*schema_unknown_fn)(void *arg, const char *path);
size_t schema_unknown(const json_t *obj, const struct sch_def *d, schema_unknown_fn fn, void *arg);

/*
 * For a face's fieldValidation (Strict refuses, Warn warns): the unknown
 * fields of obj, an object of kind k, as schema_unknown finds them but
 * for the top level's status (a write ignores it).  Up to max paths go to
 * out as new strings the caller frees; returns how many there are (maybe
 * more than max).  0 for a kind the table does not describe.
 */
size_t schema_unknown_fields(const json_t *obj, const struct kind_info *k, char **out, size_t max);

/* Allowed values shared by the validation and the schema (NULL-ended). */
extern const char *const schema_enum_protocol[];    /* SCTP TCP UDP */
extern const char *const schema_enum_pull_policy[]; /* Always IfNotPresent Never */

#endif
