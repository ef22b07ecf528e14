/* hmap.c - see hmap.h. */
#include "engine/hmap.h"

#include <string.h>

#include "engine/mem.h"

static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a offset basis */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull; /* FNV prime */
	}
	return h;
}

/* The link that points at key's entry, or at the NULL ending its chain. */
static struct hmap_ent **find(const struct hmap *m, const char *key, uint64_t h)
{
	struct hmap_ent **pp = &m->b[h & (m->nb - 1)];
	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && strcmp((*pp)->key, key) == 0)
			break;
	return pp;
}

static void grow(struct hmap *m)
{
	size_t nb = m->nb ? m->nb * 2 : 16;
	struct hmap_ent **b = xcalloc(nb, sizeof(*b));
	for (size_t i = 0; i < m->nb; i++) {
		struct hmap_ent *e = m->b[i];
		while (e) {
			struct hmap_ent *next = e->next;
			struct hmap_ent **head = &b[e->hash & (nb - 1)];
			e->next = *head;
			*head = e;
			e = next;
		}
	}
	free(m->b);
	m->b = b;
	m->nb = nb;
}

void *hmap_get(const struct hmap *m, const char *key)
{
	if (!m->n)
		return NULL;
	struct hmap_ent *e = *find(m, key, hash_str(key));
	return e ? e->val : NULL;
}

void *hmap_set(struct hmap *m, const char *key, void *val)
{
	uint64_t h = hash_str(key);
	if (m->n) {
		struct hmap_ent *e = *find(m, key, h);
		if (e) {
			void *old = e->val;
			e->val = val;
			return old;
		}
	}
	if (m->n + 1 > m->nb)
		grow(m);
	size_t len = strlen(key);
	struct hmap_ent *e = xmalloc(sizeof(*e) + len + 1);
	memcpy(e->key, key, len + 1);
	e->hash = h;
	e->val = val;
	struct hmap_ent **head = &m->b[h & (m->nb - 1)];
	e->next = *head;
	*head = e;
	m->n++;
	return NULL;
}

void *hmap_del(struct hmap *m, const char *key)
{
	if (!m->n)
		return NULL;
	struct hmap_ent **pp = find(m, key, hash_str(key));
	struct hmap_ent *e = *pp;
	if (!e)
		return NULL;
	void *val = e->val;
	*pp = e->next;
	free(e);
	m->n--;
	return val;
}

struct hmap_ent *hmap_next(const struct hmap *m, struct hmap_iter *it)
{
	if (it->e && it->e->next) {
		it->e = it->e->next;
		return it->e;
	}
	if (it->e)
		it->i++;
	for (; it->i < m->nb; it->i++) {
		if (m->b[it->i]) {
			it->e = m->b[it->i];
			return it->e;
		}
	}
	it->e = NULL;
	return NULL;
}

void hmap_clear(struct hmap *m, void (*free_val)(void *))
{
	for (size_t i = 0; i < m->nb; i++) {
		struct hmap_ent *e = m->b[i];
		while (e) {
			struct hmap_ent *next = e->next;
			if (free_val)
				free_val(e->val);
			free(e);
			e = next;
		}
	}
	free(m->b);
	m->b = NULL;
	m->nb = 0;
	m->n = 0;
}
