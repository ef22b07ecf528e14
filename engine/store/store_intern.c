/*
 * store_intern.c - one copy of each value the store's objects hold
 * (hash-consing of frozen jansson trees).
 *
 * Why: a pod is about 2 KB of JSON but about 17 KB as a jansson tree, and
 * most of it is the same in every pod of a Deployment (containers,
 * tolerations, labels, owner references, conditions) and in every version
 * of one pod (a status write changes a few fields, the watch history
 * holds the older versions).  Objects in the store are frozen (sobj.h), so
 * equal subtrees can be one shared, reference-counted jansson value.
 *
 * How: store_intern() walks a new object bottom-up.  A node's children
 * are made canonical first, so two nodes are equal exactly when they have
 * the same type and scalar value, or the same keys in the same order with
 * the same child pointers: hashing and comparing a node looks at one
 * level only.  The table holds a reference to each canonical node; when it
 * has doubled since the last sweep, nodes only the table still holds
 * (refcount 1) are dropped.
 *
 * Safety: only nodes with a refcount of 1 (the new object's own, reached
 * through nodes that are also its own) are changed, by replacing a child
 * with an equal one; a shared node (refcount > 1: frozen, maybe read by
 * other threads) is looked up as it is and never changed.  jansson's
 * reference counts are atomic.  One mutex guards the table.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "engine/mem.h"
#include "engine/store/store_int.h"

#define INTERN_MIN_CAP	 4096
#define INTERN_MAX_DEPTH 64
#define INTERN_MAX_STR	 4096 /* longer strings stay as they are */

struct ient {
	json_t *v; /* a reference; NULL: empty slot */
	uint64_t h;
};

static struct {
	pthread_mutex_t mu;
	struct ient *t;
	size_t cap;  /* a power of two, or 0 */
	size_t n;    /* entries */
	size_t keep; /* entries after the last sweep */
} tab = {.mu = PTHREAD_MUTEX_INITIALIZER};

static size_t refs(const json_t *v)
{
	return __atomic_load_n(&v->refcount, __ATOMIC_RELAXED);
}

static uint64_t mix(uint64_t h, uint64_t x)
{
	h ^= x + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdULL;
}

static uint64_t hash_bytes(uint64_t h, const char *s, size_t n)
{
	while (n >= 8) {
		uint64_t x;
		memcpy(&x, s, 8);
		h = mix(h, x);
		s += 8;
		n -= 8;
	}
	uint64_t x = 0;
	memcpy(&x, s, n);
	return mix(h, x ^ ((uint64_t)n << 56));
}

/* The hash of v, whose children are canonical (compared by pointer). */
static uint64_t node_hash(json_t *v)
{
	uint64_t h = mix(0x243f6a8885a308d3ULL, (uint64_t)json_typeof(v));
	switch (json_typeof(v)) {
	case JSON_STRING:
		return hash_bytes(h, json_string_value(v), json_string_length(v));
	case JSON_INTEGER:
		return mix(h, (uint64_t)json_integer_value(v));
	case JSON_REAL: {
		double d = json_real_value(v);
		uint64_t x;
		memcpy(&x, &d, 8);
		return mix(h, x);
	}
	case JSON_OBJECT: {
		const char *k;
		json_t *c;
		json_object_foreach(v, k, c) h = mix(hash_bytes(h, k, strlen(k)), (uintptr_t)c);
		return h;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *c;
		json_array_foreach(v, i, c) h = mix(h, (uintptr_t)c);
		return mix(h, json_array_size(v));
	}
	default:
		return h;
	}
}

/* a and b are equal, their children compared by pointer, keys in order. */
static bool node_same(json_t *a, json_t *b)
{
	if (json_typeof(a) != json_typeof(b))
		return false;
	switch (json_typeof(a)) {
	case JSON_STRING:
		return json_string_length(a) == json_string_length(b) &&
		       !memcmp(json_string_value(a), json_string_value(b), json_string_length(a));
	case JSON_INTEGER:
		return json_integer_value(a) == json_integer_value(b);
	case JSON_REAL: {
		double x = json_real_value(a), y = json_real_value(b);
		return !memcmp(&x, &y, sizeof(x));
	}
	case JSON_OBJECT: {
		if (json_object_size(a) != json_object_size(b))
			return false;
		void *i = json_object_iter(a), *j = json_object_iter(b);
		for (; i && j; i = json_object_iter_next(a, i), j = json_object_iter_next(b, j))
			if (json_object_iter_value(i) != json_object_iter_value(j) ||
			    strcmp(json_object_iter_key(i), json_object_iter_key(j)))
				return false;
		return !i && !j;
	}
	case JSON_ARRAY: {
		size_t n = json_array_size(a);
		if (n != json_array_size(b))
			return false;
		for (size_t i = 0; i < n; i++)
			if (json_array_get(a, i) != json_array_get(b, i))
				return false;
		return true;
	}
	default:
		return false;
	}
}

static void tab_put(struct ient *t, size_t cap, json_t *v, uint64_t h)
{
	size_t i = h & (cap - 1);
	while (t[i].v)
		i = (i + 1) & (cap - 1);
	t[i] = (struct ient){v, h};
}

/* Rebuilds the table with room for n entries, keeping those with keep(v). */
static size_t tab_rebuild(size_t want, bool sweep)
{
	size_t cap = INTERN_MIN_CAP;
	while (cap < want * 2)
		cap *= 2;
	struct ient *t = xcalloc(cap, sizeof(*t));
	size_t n = 0, dropped = 0;
	for (size_t i = 0; i < tab.cap; i++) {
		json_t *v = tab.t[i].v;
		if (!v)
			continue;
		if (sweep && refs(v) == 1) {
			json_decref(v); /* may bring its children down to 1 */
			dropped++;
			continue;
		}
		tab_put(t, cap, v, tab.t[i].h);
		n++;
	}
	free(tab.t);
	tab.t = t;
	tab.cap = cap;
	tab.n = n;
	return dropped;
}

/* Drops what only the table holds (a few passes: parents free children). */
static void tab_sweep(void)
{
	for (int pass = 0; pass < 8 && tab_rebuild(tab.n, true); pass++)
		;
	tab.keep = tab.n;
}

/* The canonical node equal to v (borrowed; v itself when it is new). */
static json_t *tab_find(json_t *v)
{
	uint64_t h = node_hash(v);
	if (tab.cap) {
		for (size_t i = h & (tab.cap - 1); tab.t[i].v; i = (i + 1) & (tab.cap - 1))
			if (tab.t[i].h == h && (tab.t[i].v == v || node_same(tab.t[i].v, v)))
				return tab.t[i].v;
	}
	if ((tab.n + 1) * 4 > tab.cap * 3)
		tab_rebuild(tab.n + 1, false);
	tab_put(tab.t, tab.cap, json_incref(v), h);
	tab.n++;
	return v;
}

static bool internable(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
	case JSON_ARRAY:
	case JSON_INTEGER:
	case JSON_REAL:
		return true;
	case JSON_STRING:
		return json_string_length(v) <= INTERN_MAX_STR;
	default:
		return false; /* true, false, null: jansson's own singletons */
	}
}

/* Makes v's children canonical when v is the caller's own (refcount 1). */
static void canon_children(json_t *v, int depth)
{
	if (refs(v) != 1 || depth >= INTERN_MAX_DEPTH)
		return;
	if (json_is_object(v)) {
		for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
			json_t *c = json_object_iter_value(it);
			if (!internable(c))
				continue;
			canon_children(c, depth + 1);
			json_t *k = tab_find(c);
			if (k != c)
				json_object_iter_set(v, it, k);
		}
	} else if (json_is_array(v)) {
		for (size_t i = 0; i < json_array_size(v); i++) {
			json_t *c = json_array_get(v, i);
			if (!internable(c))
				continue;
			canon_children(c, depth + 1);
			json_t *k = tab_find(c);
			if (k != c)
				json_array_set(v, i, k);
		}
	}
}

json_t *store_intern(json_t *obj)
{
	if (!obj)
		return NULL;
	if (refs(obj) != 1) {
		/* shared with the caller: intern a copy of our own */
		json_t *copy = json_deep_copy(obj);
		json_decref(obj);
		obj = copy;
		if (!obj)
			return NULL;
	}
	pthread_mutex_lock(&tab.mu);
	canon_children(obj, 0);
	if (tab.n > 2 * tab.keep + INTERN_MIN_CAP)
		tab_sweep();
	pthread_mutex_unlock(&tab.mu);
	return obj;
}

size_t store_intern_count(void)
{
	pthread_mutex_lock(&tab.mu);
	size_t n = tab.n;
	pthread_mutex_unlock(&tab.mu);
	return n;
}
