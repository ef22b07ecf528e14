/*
 * sobj.h - what the store hands out and everything above it reads: an
 * object snapshot (struct sobj) and a change event (struct store_event).
 *
 * The store (engine/store/) makes them; the API passes them on; the
 * filesystem, the controllers and the node agents read their fields.  This
 * header lets all of them do so without seeing the store itself.
 *
 * A struct sobj is immutable and reference-counted: its json `obj` is
 * frozen (json_deep_copy it to change it).  Thread-safe: references are
 * counted atomically.
 */
#ifndef CFS_SOBJ_H
#define CFS_SOBJ_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* An immutable snapshot of one object. */
struct sobj {
	int refs;   /* atomic; use sobj_ref/sobj_unref */
	char *kind; /* "Deployment" */
	char *ns;   /* "" for cluster-scoped kinds */
	char *name;
	int64_t rv;	  /* revision of the last write of this object */
	int64_t user_rv;  /* revision of its last write with user_change */
	int64_t mtime_ns; /* wall-clock time (ns since epoch) of that last write */
	json_t *obj;	  /* frozen; metadata.resourceVersion == rv */
	size_t size;	  /* bytes of its JSON text, when its maker knew them; else 0 */
};

/* A new snapshot holding one reference; takes obj, copies the names. */
struct sobj *sobj_new(const char *kind, const char *ns, const char *name, json_t *obj, int64_t rv,
		      int64_t user_rv, int64_t mtime_ns);
struct sobj *sobj_ref(struct sobj *o);
void sobj_unref(struct sobj *o); /* NULL is fine */
void sobj_list_free(struct sobj **v, size_t n);

/* A committed change, as a watch returns it. */
enum store_event_type { STORE_ADDED = 1, STORE_MODIFIED = 2, STORE_DELETED = 3 };

struct store_event {
	enum store_event_type type;
	int64_t rv;	  /* revision of this change */
	struct sobj *obj; /* new state; for DELETED the last state (its rv is the old one) */
};

/* Drops the events' object references (the array itself is the caller's). */
void store_events_free(struct store_event *evs, size_t n);

#endif
