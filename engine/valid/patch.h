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
 * Strategic merge: a list field is merged by its merge key where
 * Kubernetes' types declare one (patch_list_strategy), lists without one
 * are replaced whole, maps are merged recursively and a null value
 * deletes a key.  Directives honoured: "$patch": replace|delete|merge (in
 * a map, and as a list element: {"$patch":"delete", KEY: V} deletes the
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

/* How a list field merges, as Kubernetes' patchStrategy/patchMergeKey tags. */
enum patch_list {
	PATCH_LIST_ATOMIC, /* replaced whole (no patchStrategy) */
	PATCH_LIST_KEYED,  /* merged element by element, by a merge key */
	PATCH_LIST_SET,	   /* a list of scalars merged as a set (finalizers) */
};

/*
 * The strategy of the list field `field` inside a map that is itself the
 * value of the field `parent` (for a list element: the list's field; ""
 * at the top).  For PATCH_LIST_KEYED *key gets the merge key.  E.g.
 * ("containers", "ports") -> KEYED containerPort; ("spec", "ports") ->
 * KEYED port (a Service); ("spec", "tolerations") -> ATOMIC.
 */
enum patch_list patch_list_strategy(const char *parent, const char *field, const char **key);

/* RFC 7386.  Can't fail: *out is a new value (the patch itself when it is
 * not an object). */
json_t *patch_merge(const json_t *doc, const json_t *patch);

/* RFC 6902: applies ops (an array of operations) in order, all or nothing.
 * 0 with *out, -EBADMSG (malformed operation), -EINVAL (a path not there,
 * a failed test: *e says which operation). */
int patch_json(const json_t *doc, const json_t *ops, json_t **out, struct err **e);

/* Kubernetes' strategic merge patch.  0 with *out, -EBADMSG (bad directive,
 * a list element without its merge key), -EINVAL (patch not a mapping). */
int patch_strategic(const json_t *doc, const json_t *patch, json_t **out, struct err **e);

/*
 * Server-side apply of config (the manager's whole applied configuration)
 * to live (NULL: the object does not exist yet) by manager.  Fields are
 * owned per manager in metadata.managedFields (operation Apply, FieldsV1);
 * fields the manager applied before and no longer applies are removed
 * unless another manager owns them; applying a field another manager owns
 * with a different value is a conflict: -EBUSY and *conflicts (if
 * non-NULL) gets an array of {"field": ".spec.replicas", "manager": M},
 * unless force, which takes the field over.  api_version is recorded
 * with the manager's entry, now as its time.  0 with *out (the merged
 * object, managedFields updated), -EBUSY, -EBADMSG, -EINVAL.
 */
struct patch_apply_opts {
	const char *manager;
	const char *api_version;
	const char *now;
	bool force;
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
 * records it: {"f:spec":{"f:replicas":{}}, ...}. */
json_t *patch_fieldset(const json_t *config);

/* Numbers compare by value (1 == 1.0), everything else as json_equal. */
bool patch_equal(const json_t *a, const json_t *b);

#endif
