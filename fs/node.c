/*
 * node.c - the inode table.  See node.h.
 *
 * Inode numbers are slot indexes (+1) into a growing array, so ino -> node
 * is an array access; path -> node is a chained hash table.  Freed slots
 * are reused; a FUSE generation number is not needed because a reused
 * number always names a path the kernel has forgotten.
 */
#include "fs/node.h"

#include <pthread.h>
#include <string.h>

#include "engine/mem.h"

struct node {
	char *path;
	char *okey; /* the object (or kind folder) it shows, or NULL: node_ref */
	uint64_t ino;
	uint64_t nlookup;
	int pending;   /* open create-handles not yet applied */
	int writers;   /* open write handles (node_writers) */
	bool unhashed; /* replaced by a rename: keeps its path, found by ino only */
	size_t pending_size;
	struct node *hnext; /* hash chain */
	struct node *onext; /* chain of obuckets, by okey */
};

struct node_table {
	pthread_mutex_t lock; /* guards everything below */
	struct node **slots;  /* slots[ino - 1] */
	size_t nslots;
	uint64_t *free_inos;
	size_t nfree;
	struct node **buckets;
	struct node **obuckets; /* nodes with an okey, by okey */
	size_t nbuckets;	/* of both */
	size_t count;
	int writers, pending; /* the sums of the nodes' (atomic reads: a quick "none") */
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ull;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

static void rehash(struct node_table *t)
{
	size_t nb = t->nbuckets * 2;
	struct node **b = xcalloc(nb, sizeof(*b)), **ob = xcalloc(nb, sizeof(*ob));
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct node *n = t->buckets[i], *next;
		for (; n; n = next) {
			next = n->hnext;
			size_t h = hash_str(n->path) & (nb - 1);
			n->hnext = b[h];
			b[h] = n;
		}
		for (n = t->obuckets[i]; n; n = next) {
			next = n->onext;
			size_t h = hash_str(n->okey) & (nb - 1);
			n->onext = ob[h];
			ob[h] = n;
		}
	}
	free(t->buckets);
	free(t->obuckets);
	t->buckets = b;
	t->obuckets = ob;
	t->nbuckets = nb;
}

/* Takes n out of obuckets and drops its okey. */
static void unkey(struct node_table *t, struct node *n)
{
	if (!n->okey)
		return;
	struct node **pp = &t->obuckets[hash_str(n->okey) & (t->nbuckets - 1)];
	while (*pp != n)
		pp = &(*pp)->onext;
	*pp = n->onext;
	free(n->okey);
	n->okey = NULL;
}

/* Files n under okey (NULL: under none). */
static void set_key(struct node_table *t, struct node *n, const char *okey)
{
	if (n->okey && okey && !strcmp(n->okey, okey))
		return;
	unkey(t, n);
	if (!okey)
		return;
	n->okey = xstrdup(okey);
	size_t h = hash_str(okey) & (t->nbuckets - 1);
	n->onext = t->obuckets[h];
	t->obuckets[h] = n;
}

static struct node *find(struct node_table *t, const char *path)
{
	struct node *n = t->buckets[hash_str(path) & (t->nbuckets - 1)];
	while (n && strcmp(n->path, path))
		n = n->hnext;
	return n;
}

static struct node *insert(struct node_table *t, const char *path)
{
	struct node *n = xcalloc(1, sizeof(*n));
	n->path = xstrdup(path);
	if (t->nfree) {
		n->ino = t->free_inos[--t->nfree];
	} else {
		t->slots = xrealloc(t->slots, (t->nslots + 1) * sizeof(*t->slots));
		n->ino = ++t->nslots;
	}
	t->slots[n->ino - 1] = n;
	if (++t->count > t->nbuckets)
		rehash(t);
	size_t h = hash_str(path) & (t->nbuckets - 1);
	n->hnext = t->buckets[h];
	t->buckets[h] = n;
	return n;
}

static void unhash(struct node_table *t, struct node *n);

static void remove_node(struct node_table *t, struct node *n)
{
	unhash(t, n);
	unkey(t, n);
	t->slots[n->ino - 1] = NULL;
	t->free_inos = xrealloc(t->free_inos, (t->nfree + 1) * sizeof(uint64_t));
	t->free_inos[t->nfree++] = n->ino;
	t->count--;
	free(n->path);
	free(n);
}

struct node_table *node_table_new(void)
{
	struct node_table *t = xcalloc(1, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	t->nbuckets = 1024;
	t->buckets = xcalloc(t->nbuckets, sizeof(*t->buckets));
	t->obuckets = xcalloc(t->nbuckets, sizeof(*t->obuckets));
	struct node *root = insert(t, "");
	root->nlookup = 1; /* held forever */
	return t;
}

void node_table_free(struct node_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nslots; i++) {
		if (t->slots[i]) {
			free(t->slots[i]->okey);
			free(t->slots[i]->path);
			free(t->slots[i]);
		}
	}
	free(t->slots);
	free(t->free_inos);
	free(t->buckets);
	free(t->obuckets);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

uint64_t node_ref(struct node_table *t, const char *path, const char *okey)
{
	pthread_mutex_lock(&t->lock);
	struct node *n = find(t, path);
	if (!n)
		n = insert(t, path);
	n->nlookup++;
	set_key(t, n, okey);
	uint64_t ino = n->ino;
	pthread_mutex_unlock(&t->lock);
	return ino;
}

void node_forget(struct node_table *t, uint64_t ino, uint64_t count)
{
	pthread_mutex_lock(&t->lock);
	if (ino > 1 && ino <= t->nslots && t->slots[ino - 1]) {
		struct node *n = t->slots[ino - 1];
		n->nlookup = n->nlookup > count ? n->nlookup - count : 0;
		if (n->nlookup == 0 && n->pending == 0 && n->writers == 0)
			remove_node(t, n);
	}
	pthread_mutex_unlock(&t->lock);
}

static void unhash(struct node_table *t, struct node *n)
{
	if (n->unhashed)
		return;
	struct node **pp = &t->buckets[hash_str(n->path) & (t->nbuckets - 1)];
	while (*pp != n)
		pp = &(*pp)->hnext;
	*pp = n->hnext;
}

static void rehash_node(struct node_table *t, struct node *n, char *path)
{
	unhash(t, n);
	free(n->path);
	n->path = path;
	size_t h = hash_str(path) & (t->nbuckets - 1);
	n->hnext = t->buckets[h];
	t->buckets[h] = n;
}

void node_rename(struct node_table *t, const char *src, const char *dst, const char *okey)
{
	pthread_mutex_lock(&t->lock);
	struct node *old = find(t, dst);
	struct node *n = find(t, src);
	if (old && old != n) {
		/* Still named dst for who holds it (an open racing the rename
		 * reads what dst is now), but no longer found by name. */
		unhash(t, old);
		old->unhashed = true;
	}
	if (n && n->ino != 1) {
		rehash_node(t, n, xstrdup(dst));
		set_key(t, n, okey);
	}
	pthread_mutex_unlock(&t->lock);
}

uint64_t node_find(struct node_table *t, const char *path)
{
	pthread_mutex_lock(&t->lock);
	struct node *n = find(t, path);
	uint64_t ino = n ? n->ino : 0;
	pthread_mutex_unlock(&t->lock);
	return ino;
}

char *node_path(struct node_table *t, uint64_t ino)
{
	char *p = NULL;
	pthread_mutex_lock(&t->lock);
	if (ino >= 1 && ino <= t->nslots && t->slots[ino - 1])
		p = xstrdup(t->slots[ino - 1]->path);
	pthread_mutex_unlock(&t->lock);
	return p;
}

void node_pending(struct node_table *t, const char *path, int delta, size_t size)
{
	pthread_mutex_lock(&t->lock);
	struct node *n = find(t, path);
	if (!n && delta > 0)
		n = insert(t, path);
	if (n) {
		int before = n->pending;
		n->pending += delta;
		n->pending_size = size;
		if (n->pending < 0)
			n->pending = 0;
		__atomic_add_fetch(&t->pending, n->pending - before, __ATOMIC_RELEASE);
		if (n->pending == 0 && n->nlookup == 0 && n->writers == 0 && n->ino != 1)
			remove_node(t, n);
	}
	pthread_mutex_unlock(&t->lock);
}

bool node_is_pending(struct node_table *t, const char *path, size_t *size)
{
	if (__atomic_load_n(&t->pending, __ATOMIC_ACQUIRE) == 0)
		return false;
	pthread_mutex_lock(&t->lock);
	struct node *n = find(t, path);
	bool p = n && n->pending > 0;
	if (p && size)
		*size = n->pending_size;
	pthread_mutex_unlock(&t->lock);
	return p;
}

size_t node_inos_of(struct node_table *t, const char *okey, uint64_t **out)
{
	size_t n = 0, cap = 0;
	*out = NULL;
	pthread_mutex_lock(&t->lock);
	for (struct node *x = t->obuckets[hash_str(okey) & (t->nbuckets - 1)]; x; x = x->onext) {
		if (strcmp(x->okey, okey))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 8;
			*out = xrealloc(*out, cap * sizeof(**out));
		}
		(*out)[n++] = x->ino;
	}
	pthread_mutex_unlock(&t->lock);
	return n;
}

size_t node_all_inos(struct node_table *t, uint64_t **out)
{
	pthread_mutex_lock(&t->lock);
	*out = xcalloc(t->count + 1, sizeof(**out));
	size_t n = 0;
	for (size_t i = 0; i < t->nslots; i++)
		if (t->slots[i])
			(*out)[n++] = t->slots[i]->ino;
	pthread_mutex_unlock(&t->lock);
	return n;
}

uint64_t node_lookups(struct node_table *t, uint64_t ino)
{
	pthread_mutex_lock(&t->lock);
	uint64_t n =
	    ino >= 1 && ino <= t->nslots && t->slots[ino - 1] ? t->slots[ino - 1]->nlookup : 0;
	pthread_mutex_unlock(&t->lock);
	return n;
}

void node_writers(struct node_table *t, const char *path, int delta)
{
	pthread_mutex_lock(&t->lock);
	struct node *n = find(t, path);
	if (!n && delta > 0)
		n = insert(t, path);
	if (n) {
		int before = n->writers;
		n->writers += delta;
		if (n->writers < 0)
			n->writers = 0;
		__atomic_add_fetch(&t->writers, n->writers - before, __ATOMIC_RELEASE);
		if (n->pending == 0 && n->nlookup == 0 && n->writers == 0 && n->ino != 1)
			remove_node(t, n);
	}
	pthread_mutex_unlock(&t->lock);
}

bool node_has_writers(struct node_table *t, const char *path)
{
	if (__atomic_load_n(&t->writers, __ATOMIC_ACQUIRE) == 0)
		return false;
	pthread_mutex_lock(&t->lock);
	struct node *n = find(t, path);
	bool w = n && n->writers > 0;
	pthread_mutex_unlock(&t->lock);
	return w;
}
