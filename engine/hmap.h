/*
 * hmap.h - a small hash map from C strings to pointers.
 *
 * The store's index needs maps keyed by kind, namespace, name and owner
 * uid, with lookups and updates in constant time; this is the one map
 * type it uses for all of them.  Chained buckets, FNV-1a hashing, and a
 * doubling table that keeps the load factor at or below one.
 *
 * The map copies each key on insert and frees the copy on removal.  It
 * owns no values: the caller frees them (hmap_clear takes a callback for
 * that).  A value is never NULL, so that hmap_get's NULL means "absent".
 *
 * Not thread-safe: the owner of the map serializes access to it.  A
 * zero-filled struct hmap is an empty map; nothing is allocated until the
 * first insert.
 */
#ifndef CFS_HMAP_H
#define CFS_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap_ent {
	struct hmap_ent *next; /* next entry in the same bucket */
	uint64_t hash;
	void *val;
	char key[]; /* the map's own copy */
};

struct hmap {
	struct hmap_ent **b; /* nb bucket heads, or NULL while empty */
	size_t nb;	     /* a power of two, or 0 */
	size_t n;	     /* entries */
};

/* Where an iteration stands; start from a zero-filled one. */
struct hmap_iter {
	size_t i;
	struct hmap_ent *e;
};

/* The value for key, or NULL when absent. */
void *hmap_get(const struct hmap *m, const char *key);

/*
 * Maps key to val (not NULL).  Returns the value it replaced, or NULL
 * when key is new.  Can't fail (allocation failure aborts).
 */
void *hmap_set(struct hmap *m, const char *key, void *val);

/* Removes key; returns its value, or NULL when it was absent. */
void *hmap_del(struct hmap *m, const char *key);

static inline size_t hmap_len(const struct hmap *m)
{
	return m->n;
}

/*
 * The next entry of the map, or NULL at the end.  The map must not be
 * changed during an iteration, except by setting an entry's val.
 */
struct hmap_ent *hmap_next(const struct hmap *m, struct hmap_iter *it);

/* Empties the map, calling free_val (if not NULL) on every value. */
void hmap_clear(struct hmap *m, void (*free_val)(void *));

#endif
