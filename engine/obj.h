/*
 * obj.h - reading and editing Kubernetes objects held as jansson values:
 * dotted-path getters, owner references, conditions, timestamps.  Small
 * pure helpers shared by the controllers, the scheduler and node agents.
 *
 * Getters lend (no reference taken) and return NULL/0/default when a path
 * is missing or of another type.  Thread-safe: no state.
 */
#ifndef CFS_OBJ_H
#define CFS_OBJ_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

static inline void cleanup_jsonp(json_t **j)
{
	json_decref(*j);
}
/* Drops a json_t * local's reference (json_decref) as it leaves scope. */
#define _cleanup_json_ __attribute__((cleanup(cleanup_jsonp)))

/* The value at a dotted path ("spec.template.metadata.labels"), or NULL. */
json_t *obj_at(const json_t *o, const char *path);
const char *obj_str(const json_t *o, const char *path); /* NULL unless a string */
int64_t obj_int(const json_t *o, const char *path, int64_t dflt);

/* The controller owner reference (controller: true), or NULL. */
json_t *obj_controller_ref(const json_t *o);
/* True when o's controller owner has this uid. */
bool obj_controlled_by(const json_t *o, const char *uid);
/* A new ownerReferences entry naming owner as controller. */
json_t *obj_owner_ref(const json_t *owner);

/* The condition of type in o's status.conditions, or NULL. */
json_t *obj_condition(const json_t *o, const char *type);
/* True when that condition's status is "True". */
bool obj_condition_true(const json_t *o, const char *type);
/*
 * Sets a condition in status (a mapping) as Kubernetes does: keeps
 * lastTransitionTime when the status value did not change.  Returns true
 * if anything changed.
 */
bool obj_set_condition(json_t *status, const char *type, const char *value, const char *reason,
		       const char *message, const char *now);

/* Parses RFC 3339 ("2026-11-26T01:07:11Z", fractions and offsets too); -1 if bad. */
time_t obj_time(const char *s);
/* Formats t as Kubernetes does; out has room for 32 bytes. */
void obj_format_time(time_t t, char out[32]);

/*
 * The class /cluster/status counts an object in (one of OBJ_CLASSES): a
 * Pod's phase (0 Pending or none, 1 Running, 2 Succeeded, 3 Failed, 4 any
 * other), a Node's readiness (1: condition Ready is True), a Deployment's
 * availability (1: status.availableReplicas >= spec.replicas); 0 for any
 * other kind.  The store keeps these counts as objects change.
 */
#define OBJ_CLASSES 5
int obj_class(const char *kind, const json_t *o);

/* Pod helpers */
bool pod_is_terminating(const json_t *pod);
bool pod_is_finished(const json_t *pod); /* phase Succeeded or Failed */
bool pod_is_ready(const json_t *pod);

#endif
