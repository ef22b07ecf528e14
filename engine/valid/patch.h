/*
 * patch.h - Kubernetes' patch algorithms as pure JSON transforms: JSON
 * merge patch (RFC 7386), JSON patch (RFC 6902), strategic merge patch
 * (Kubernetes' merge keys and $-directives) and server-side apply's field
 * ownership (metadata.managedFields, FieldsV1).
 *
 * Nothing here reads or writes objects: each function takes the current
 * object and the patch (both borrowed) and makes a new object.  The
 * callers (the HTTP API's PATCH; later the filesystem) write the result
 * through the API.  Errors: -EBADMSG for a malformed patch (the HTTP API
 * answers 400 BadRequest), -EINVAL for a patch that cannot be applied to
 * this object (a failed JSON-patch test, a path that is not there: 422),
 * -EBUSY for server-side apply conflicts (409).  Thread-safe, no state.
 *
 * Strategic merge and server-side apply take each list's strategy from
 * the schema (engine/valid/schema.h, the table the OpenAPI documents
 * kubectl builds its patches from are made of): they walk the schema
 * alongside the JSON, from the definition of the object patched
 * (schema_for_kind(), or NULL: every list atomic).  A list is merged by
 * its merge key where the schema names one (sch_field.mkeys: the first
 * key; server-side apply identifies an element by all of them, as
 * x-kubernetes-list-map-keys says), merged as a set (SCH_SET), or else
 * replaced whole (also any list the schema does not describe); maps are
 * merged recursively and a null value deletes a key.  Directives honoured: "$patch":
 * replace|delete|merge (in a map, and as a list element: {"$patch":"delete", KEY: V} deletes the
 * element, {"$patch":"replace"} replaces the list), "$retainKeys",
 * "$deleteFromPrimitiveList/FIELD", "$setElementOrder/FIELD" (the listed
 * elements in that order; the others keep their relative order and their
 * place before or after listed ones as the list had them before).
 */
#ifndef CFS_PATCH_H
#define CFS_PATCH_H

#include <jansson.h>
#include <stdbool.h>

#include "engine/err.h"
#include "engine/valid/schema.h"

/* How a list field merges, as Kubernetes' patchStrategy/patchMergeKey tags. */
enum patch_list {
	PATCH_LIST_ATOMIC, /* replaced whole (no patchStrategy) */
	PATCH_LIST_KEYED,  /* merged element by element, by a merge key */
	PATCH_LIST_SET,	   /* a list of scalars merged as a set (finalizers) */
};

/*
 * The strategy of a list field as the schema row f describes it (NULL, a
 * field the schema does not know: ATOMIC).  For PATCH_LIST_KEYED *keys
 * (if keys is non-NULL) gets the NULL-ended key fields, the merge key
 * first; else NULL.  E.g. Container's ports -> KEYED {containerPort,
 * protocol}; ServiceSpec's ports -> KEYED {port, protocol}; ObjectMeta's
 * finalizers -> SET; PodSpec's tolerations -> ATOMIC.  Reach a field with
 * schema_field(schema_for_kind(k, false), "spec") ...
 */
enum patch_list patch_list_strategy(const struct sch_field *f, const char *const **keys);

/* RFC 7386.  Can't fail: *out is a new value (the patch itself when it is
 * not an object). */
json_t *patch_merge(const json_t *doc, const json_t *patch);

/* RFC 6902: applies ops (an array of operations) in order, all or nothing.
 * 0 with *out, -EBADMSG (malformed operation), -EINVAL (a path not there,
 * a failed test: *e says which operation). */
int patch_json(const json_t *doc, const json_t *ops, json_t **out, struct err **e);

/* Kubernetes' strategic merge patch of doc, an object the definition d
 * describes (schema_for_kind(); NULL: all lists atomic).  0 with *out,
 * -EBADMSG (bad directive, a list element without its merge key),
 * -EINVAL (patch not a mapping). */
int patch_strategic(const struct sch_def *d, const json_t *doc, const json_t *patch, json_t **out,
		    struct err **e);

/*
 * Server-side apply of config (the manager's whole applied configuration)
 * to live (NULL: the object does not exist yet) by manager.  Fields are
 * owned per manager in metadata.managedFields (operation Apply, FieldsV1);
 * fields the manager applied before and no longer applies are removed
 * unless another manager owns them; applying a field another manager owns
 * with a different value is a conflict: -EBUSY and *conflicts (if
 * non-NULL) gets an array of {"field": ".spec.replicas", "manager": M},
 * unless force, which takes the field over.  api_version is recorded
 * with the manager's entry, now as its time.  def is the definition of
 * the object (schema_for_kind()): its lists' strategies say which
 * elements are owned one by one ("k:{...}", "v:...") and which lists
 * whole; NULL: all lists whole.  0 with *out (the merged object,
 * managedFields updated), -EBUSY, -EBADMSG, -EINVAL.
 */
struct patch_apply_opts {
	const char *manager;
	const char *api_version;
	const char *now;
	bool force;
	const struct sch_def *def;
};
int patch_apply(const json_t *live, const json_t *config, const struct patch_apply_opts *o,
		json_t **out, json_t **conflicts, struct err **e);

/*
 * An update (not an apply) by o->manager from old to new: the fields whose
 * value changed become the manager's (an entry with operation Update,
 * taken from every other manager without conflict, as Kubernetes does),
 * and fields new no longer has leave every manager's set.  Returns the
 * new metadata.managedFields (a new array; entries left empty dropped),
 * made from new's own.  o->force is ignored.
 */
json_t *patch_managed_update(const json_t *old, const json_t *new,
			     const struct patch_apply_opts *o);

/* The FieldsV1 set of config's fields (a new object), as patch_apply
 * records it: {"f:spec":{"f:replicas":{}}, ...}; d as o->def above. */
json_t *patch_fieldset(const struct sch_def *d, const json_t *config);

/* Numbers compare by value (1 == 1.0), everything else as json_equal. */
bool patch_equal(const json_t *a, const json_t *b);

#endif
