/*
 * sched_plugins.c - the scheduling algorithm: Kubernetes' filter and score
 * plugins over the structs sched_parse.c makes, and the cache that picks a
 * node for one pod.  See sched.h.
 *
 * It lives apart from the service (sched.c) because none of it has
 * threads, locks or a store: every plugin is a pure function of (pod,
 * node), so each is table-tested from inline JSON, and the hot loop -
 * thousands of pods times a thousand nodes - reads only integers and a
 * few short arrays, never JSON, and allocates nothing.
 */
#include "engine/sched/sched.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/hmap.h"
#include "engine/mem.h"
#include "engine/sched/sched_int.h"
#include "engine/valid/valid.h"

/* --- filter plugins ------------------------------------------------------ */

const char *sched_reason_text(unsigned bit)
{
	switch (bit) {
	case SCHED_R_UNSCHEDULABLE:
		return "node(s) were unschedulable";
	case SCHED_R_NODE_NAME:
		return "node(s) didn't match the requested node name";
	case SCHED_R_TAINT:
		return "node(s) had untolerated taint";
	case SCHED_R_AFFINITY:
		return "node(s) didn't match Pod's node affinity/selector";
	case SCHED_R_PODS:
		return "Too many pods";
	case SCHED_R_CPU:
		return "Insufficient cpu";
	case SCHED_R_MEMORY:
		return "Insufficient memory";
	}
	return "unknown reason";
}

bool sched_tolerates(const struct sched_toleration *t, const struct sched_taint *taint)
{
	if (t->effect && t->effect != taint->effect)
		return false;
	if (*t->key && strcmp(t->key, taint->key))
		return false;
	return t->exists || !strcmp(t->value, taint->value);
}

unsigned sched_filter_unschedulable(const struct sched_pod *p, const struct sched_node *n)
{
	return n->unschedulable && !p->tol_unsched ? SCHED_R_UNSCHEDULABLE : 0;
}

unsigned sched_filter_node_name(const struct sched_pod *p, const struct sched_node *n)
{
	return p->node_name && strcmp(p->node_name, n->name) ? SCHED_R_NODE_NAME : 0;
}

unsigned sched_filter_taints(const struct sched_pod *p, const struct sched_node *n, int *taint)
{
	for (size_t i = 0; i < n->ntaints; i++) {
		const struct sched_taint *t = &n->taints[i];
		if ((t->effect & (SCHED_NO_SCHEDULE | SCHED_NO_EXECUTE)) &&
		    !sched_pod_tolerates(p, t)) {
			if (taint)
				*taint = (int)i;
			return SCHED_R_TAINT;
		}
	}
	return 0;
}

static const char *node_label(const struct sched_node *n, const char *key)
{
	for (size_t i = 0; i < n->nlabels; i++)
		if (!strcmp(n->labels[i].key, key))
			return n->labels[i].value;
	return NULL;
}

static bool in_values(const struct sched_req *r, const char *v)
{
	for (size_t i = 0; i < r->nvalues; i++)
		if (!strcmp(r->values[i], v))
			return true;
	return false;
}

static bool req_matches(const struct sched_req *r, const struct sched_node *n)
{
	const char *v = r->field ? n->name : node_label(n, r->key);
	int64_t x;

	switch (r->op) {
	case SCHED_IN:
		return v && in_values(r, v);
	case SCHED_NOT_IN:
		return !v || !in_values(r, v);
	case SCHED_EXISTS:
		return v != NULL;
	case SCHED_DOES_NOT_EXIST:
		return v == NULL;
	case SCHED_GT:
		return sched_parse_int(v, &x) && x > r->num;
	case SCHED_LT:
		return sched_parse_int(v, &x) && x < r->num;
	}
	return false;
}

static bool term_matches(const struct sched_term *t, const struct sched_node *n)
{
	if (!t->nreqs)
		return false;
	for (size_t i = 0; i < t->nreqs; i++)
		if (!req_matches(&t->reqs[i], n))
			return false;
	return true;
}

unsigned sched_filter_affinity(const struct sched_pod *p, const struct sched_node *n)
{
	for (size_t i = 0; i < p->nselector; i++) {
		const char *v = node_label(n, p->selector[i].key);
		if (!v || strcmp(v, p->selector[i].value))
			return SCHED_R_AFFINITY;
	}
	if (!p->nterms)
		return 0;
	for (size_t i = 0; i < p->nterms; i++)
		if (term_matches(&p->terms[i], n))
			return 0;
	return SCHED_R_AFFINITY;
}

unsigned sched_filter_fit(const struct sched_pod *p, const struct sched_node *n)
{
	unsigned r = 0;

	if (n->npods + 1 > n->alloc_pods)
		r |= SCHED_R_PODS;
	if (p->req.cpu > 0 && p->req.cpu > n->alloc.cpu - n->used.cpu)
		r |= SCHED_R_CPU;
	if (p->req.mem > 0 && p->req.mem > n->alloc.mem - n->used.mem)
		r |= SCHED_R_MEMORY;
	return r;
}

unsigned sched_filter(const struct sched_pod *p, const struct sched_node *n, int *taint)
{
	unsigned r;

	if ((r = sched_filter_unschedulable(p, n)) || (r = sched_filter_node_name(p, n)) ||
	    (r = sched_filter_taints(p, n, taint)) || (r = sched_filter_affinity(p, n)))
		return r;
	return sched_filter_fit(p, n);
}

/* The same verdict as sched_filter() == 0, cheapest and likeliest first. */
static inline bool feasible(const struct sched_pod *p, const struct sched_node *n)
{
	if (n->npods >= n->alloc_pods ||
	    (p->req.cpu > 0 && p->req.cpu > n->alloc.cpu - n->used.cpu) ||
	    (p->req.mem > 0 && p->req.mem > n->alloc.mem - n->used.mem))
		return false;
	if (n->unschedulable && !p->tol_unsched)
		return false;
	if (n->ntaints && sched_filter_taints(p, n, NULL))
		return false;
	if (p->node_name && strcmp(p->node_name, n->name))
		return false;
	return !(p->nselector || p->nterms) || !sched_filter_affinity(p, n);
}

/* --- FitError ------------------------------------------------------------ */

void sched_diag_init(struct sched_diag *d, int nnodes)
{
	memset(d, 0, sizeof(*d));
	d->nnodes = nnodes;
}

/* Counts one more node for text (borrowed; copied when new). */
static void diag_count(struct sched_diag *d, const char *text)
{
	for (size_t i = 0; i < d->n; i++) {
		if (!strcmp(d->r[i].text, text)) {
			d->r[i].count++;
			return;
		}
	}
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 8;
		d->r = xrealloc(d->r, d->cap * sizeof(*d->r));
	}
	d->r[d->n++] = (struct sched_diag_reason){xstrdup(text), 1};
}

void sched_diag_add(struct sched_diag *d, const struct sched_node *n, unsigned reasons, int taint)
{
	char text[600];

	for (unsigned bit = 1; bit <= SCHED_R_MEMORY; bit <<= 1) {
		if (!(reasons & bit))
			continue;
		if (bit != SCHED_R_TAINT || taint < 0 || (size_t)taint >= n->ntaints) {
			diag_count(d, sched_reason_text(bit));
			continue;
		}
		/* Keys and values are short (253 and 63 bytes): no allocation. */
		const struct sched_taint *t = &n->taints[taint];
		int len = snprintf(text, sizeof(text), "%s {%s: %s}", sched_reason_text(bit),
				   t->key, t->value);
		if (len >= 0 && (size_t)len < sizeof(text)) {
			diag_count(d, text);
		} else {
			char *long_text =
			    xasprintf("%s {%s: %s}", sched_reason_text(bit), t->key, t->value);
			diag_count(d, long_text);
			free(long_text);
		}
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *sched_diag_message(const struct sched_diag *d)
{
	struct buf b = {0};
	char **parts;

	if (d->nnodes == 0)
		return xstrdup("no nodes available to schedule pods");
	buf_printf(&b, "0/%d nodes are available:", d->nnodes);
	if (!d->n)
		return buf_steal(&b, NULL);
	parts = xcalloc(d->n, sizeof(*parts));
	for (size_t i = 0; i < d->n; i++)
		parts[i] = xasprintf("%d %s", d->r[i].count, d->r[i].text);
	qsort(parts, d->n, sizeof(*parts), cmp_str);
	for (size_t i = 0; i < d->n; i++) {
		buf_printf(&b, "%s%s", i ? ", " : " ", parts[i]);
		free(parts[i]);
	}
	free(parts);
	buf_puts(&b, ".");
	return buf_steal(&b, NULL);
}

void sched_diag_free(struct sched_diag *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->r[i].text);
	free(d->r);
	memset(d, 0, sizeof(*d));
}

/* --- score plugins ------------------------------------------------------- */

static int least_requested(int64_t requested, int64_t capacity)
{
	if (capacity <= 0 || requested > capacity)
		return 0;
	return (int)((capacity - requested) * SCHED_MAX_SCORE / capacity);
}

int sched_score_least(const struct sched_pod *p, const struct sched_node *n)
{
	return (least_requested(n->used_nz.cpu + p->nz.cpu, n->alloc.cpu) +
		least_requested(n->used_nz.mem + p->nz.mem, n->alloc.mem)) /
	       2;
}

int sched_score_balanced(const struct sched_pod *p, const struct sched_node *n)
{
	double f[2];
	int k = 0;

	if (!p->req.cpu && !p->req.mem)
		return 0; /* best effort: Kubernetes skips the plugin */
	if (n->alloc.cpu > 0)
		f[k++] = (double)(n->used.cpu + p->req.cpu) / (double)n->alloc.cpu;
	if (n->alloc.mem > 0)
		f[k++] = (double)(n->used.mem + p->req.mem) / (double)n->alloc.mem;
	if (k < 2)
		return SCHED_MAX_SCORE;
	for (int i = 0; i < 2; i++)
		if (f[i] > 1)
			f[i] = 1;
	double std = f[0] > f[1] ? (f[0] - f[1]) / 2 : (f[1] - f[0]) / 2;
	return (int)((1 - std) * SCHED_MAX_SCORE);
}

int sched_prefer_taints(const struct sched_pod *p, const struct sched_node *n)
{
	int count = 0;

	for (size_t i = 0; i < n->ntaints; i++)
		if (n->taints[i].effect == SCHED_PREFER_NO_SCHEDULE &&
		    !sched_pod_tolerates(p, &n->taints[i]))
			count++;
	return count;
}

int sched_normalize_reverse(int64_t v, int64_t max)
{
	if (max <= 0)
		return SCHED_MAX_SCORE;
	return SCHED_MAX_SCORE - (int)(SCHED_MAX_SCORE * v / max);
}

/* --- the cache ----------------------------------------------------------- */

/* An owner's pods per node, indexed like the cache's nodes. */
struct owner {
	int *count;
	size_t len;   /* entries of count */
	int64_t pods; /* sum of count; the owner is freed at 0 */
};

struct sched_cache {
	struct sched_node **nodes; /* by index; indices are never reused */
	size_t n, cap;
	struct hmap by_name; /* node name -> struct sched_node */
	struct hmap owners;  /* controller uid -> struct owner */

	int *live; /* indices of candidate nodes, rebuilt when live_dirty */
	size_t nlive;
	bool live_dirty;
	size_t next_start; /* where the next search starts, as kube-scheduler's */
	int pct;	   /* percentageOfNodesToScore; 0 adaptive */
	uint64_t rng;

	/* Scratch for pick(), nodes-sized: feasible nodes and their raw scores. */
	int *f_idx, *f_base, *f_spread, *f_taint;
	size_t scratch_cap;
};

struct sched_cache *sched_cache_new(uint64_t seed)
{
	struct sched_cache *c = xcalloc(1, sizeof(*c));
	c->rng = seed ? seed : 0x9e3779b97f4a7c15ull;
	return c;
}

static void free_owner(void *v)
{
	struct owner *o = v;
	free(o->count);
	free(o);
}

void sched_cache_free(struct sched_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		sched_node_free(c->nodes[i]);
	free(c->nodes);
	hmap_clear(&c->by_name, NULL);
	hmap_clear(&c->owners, free_owner);
	free(c->live);
	free(c->f_idx);
	free(c->f_base);
	free(c->f_spread);
	free(c->f_taint);
	free(c);
}

static int append_node(struct sched_cache *c, struct sched_node *n)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? 2 * c->cap : 64;
		c->nodes = xrealloc(c->nodes, c->cap * sizeof(*c->nodes));
	}
	n->idx = (int)c->n;
	c->nodes[c->n++] = n;
	hmap_set(&c->by_name, n->name, n);
	c->live_dirty = true;
	return n->idx;
}

static bool same_labels(const struct sched_label *a, size_t na, const struct sched_label *b,
			size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i].key, b[i].key) || strcmp(a[i].value, b[i].value))
			return false;
	return true;
}

/* Does anything a plugin reads differ? */
static bool same_node(const struct sched_node *a, const struct sched_node *b)
{
	if (a->alloc.cpu != b->alloc.cpu || a->alloc.mem != b->alloc.mem ||
	    a->alloc_pods != b->alloc_pods || a->unschedulable != b->unschedulable ||
	    a->ntaints != b->ntaints || !same_labels(a->labels, a->nlabels, b->labels, b->nlabels))
		return false;
	for (size_t i = 0; i < a->ntaints; i++)
		if (a->taints[i].effect != b->taints[i].effect ||
		    strcmp(a->taints[i].key, b->taints[i].key) ||
		    strcmp(a->taints[i].value, b->taints[i].value))
			return false;
	return true;
}

bool sched_cache_put_node(struct sched_cache *c, struct sched_node *n)
{
	struct sched_node *old = hmap_get(&c->by_name, n->name);

	n->present = true;
	if (!old) {
		append_node(c, n);
		return true;
	}
	bool changed = !old->present || !same_node(old, n);
	if (!old->present)
		c->live_dirty = true;
	n->used = old->used;
	n->used_nz = old->used_nz;
	n->npods = old->npods;
	n->idx = old->idx;
	c->nodes[n->idx] = n;
	hmap_set(&c->by_name, n->name, n);
	sched_node_free(old);
	return changed;
}

void sched_cache_del_node(struct sched_cache *c, const char *name)
{
	struct sched_node *n = hmap_get(&c->by_name, name);

	if (n && n->present) {
		n->present = false;
		c->live_dirty = true;
	}
}

int sched_cache_index(struct sched_cache *c, const char *name)
{
	struct sched_node *n = hmap_get(&c->by_name, name);

	if (n)
		return n->idx;
	n = xcalloc(1, sizeof(*n));
	n->name = xstrdup(name);
	n->taints = xcalloc(1, sizeof(*n->taints));
	return append_node(c, n);
}

struct sched_node *sched_cache_node(const struct sched_cache *c, int idx)
{
	return idx >= 0 && (size_t)idx < c->n ? c->nodes[idx] : NULL;
}

static void rebuild_live(struct sched_cache *c)
{
	if (c->scratch_cap < c->n) {
		c->scratch_cap = c->cap;
		c->live = xrealloc(c->live, c->scratch_cap * sizeof(int));
		c->f_idx = xrealloc(c->f_idx, c->scratch_cap * sizeof(int));
		c->f_base = xrealloc(c->f_base, c->scratch_cap * sizeof(int));
		c->f_spread = xrealloc(c->f_spread, c->scratch_cap * sizeof(int));
		c->f_taint = xrealloc(c->f_taint, c->scratch_cap * sizeof(int));
	}
	c->nlive = 0;
	for (size_t i = 0; i < c->n; i++)
		if (c->nodes[i]->present)
			c->live[c->nlive++] = (int)i;
	c->live_dirty = false;
}

size_t sched_cache_nodes(const struct sched_cache *c)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n; i++)
		n += c->nodes[i]->present;
	return n;
}

void sched_cache_add_pod(struct sched_cache *c, const struct sched_pod *p, int idx)
{
	struct sched_node *n = c->nodes[idx];

	n->used.cpu += p->req.cpu;
	n->used.mem += p->req.mem;
	n->used_nz.cpu += p->nz.cpu;
	n->used_nz.mem += p->nz.mem;
	n->npods++;
	if (!p->owner)
		return;
	struct owner *o = hmap_get(&c->owners, p->owner);
	if (!o) {
		o = xcalloc(1, sizeof(*o));
		hmap_set(&c->owners, p->owner, o);
	}
	if ((size_t)idx >= o->len) {
		size_t len = c->cap > (size_t)idx ? c->cap : (size_t)idx + 1;
		o->count = xrealloc(o->count, len * sizeof(int));
		memset(o->count + o->len, 0, (len - o->len) * sizeof(int));
		o->len = len;
	}
	o->count[idx]++;
	o->pods++;
}

void sched_cache_remove_pod(struct sched_cache *c, const struct sched_pod *p, int idx)
{
	struct sched_node *n = c->nodes[idx];

	n->used.cpu -= p->req.cpu;
	n->used.mem -= p->req.mem;
	n->used_nz.cpu -= p->nz.cpu;
	n->used_nz.mem -= p->nz.mem;
	n->npods--;
	if (!p->owner)
		return;
	struct owner *o = hmap_get(&c->owners, p->owner);
	if (!o || (size_t)idx >= o->len)
		return;
	o->count[idx]--;
	if (--o->pods == 0)
		free_owner(hmap_del(&c->owners, p->owner));
}

int sched_cache_siblings(const struct sched_cache *c, const char *owner, int idx)
{
	const struct owner *o = owner ? hmap_get(&c->owners, owner) : NULL;
	return o && idx >= 0 && (size_t)idx < o->len ? o->count[idx] : 0;
}

void sched_cache_set_percentage(struct sched_cache *c, int pct)
{
	c->pct = pct < 0 ? 0 : pct > 100 ? 100 : pct;
}

/* How many feasible nodes to find before scoring (kube-scheduler's
 * numFeasibleNodesToFind). */
static size_t nodes_to_find(const struct sched_cache *c, size_t all)
{
	if (all < 100)
		return all;
	int64_t pct = c->pct;
	if (!pct) {
		pct = 50 - (int64_t)all / 125;
		if (pct < 5)
			pct = 5;
	}
	size_t n = all * (size_t)pct / 100;
	return n < 100 ? 100 : n;
}

static uint64_t next_rand(struct sched_cache *c)
{
	/* xorshift64* */
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return c->rng * 0x2545f4914f6cdd1dull;
}

/* Every candidate's reasons, for the FitError message. */
static char *fit_error(const struct sched_cache *c, const struct sched_pod *p)
{
	struct sched_diag d;

	sched_diag_init(&d, (int)c->nlive);
	for (size_t i = 0; i < c->nlive; i++) {
		const struct sched_node *n = c->nodes[c->live[i]];
		int taint = -1;
		unsigned r = sched_filter(p, n, &taint);
		if (r)
			sched_diag_add(&d, n, r, taint);
	}
	char *msg = sched_diag_message(&d);
	sched_diag_free(&d);
	return msg;
}

int sched_cache_pick(struct sched_cache *c, const struct sched_pod *p, char **msg)
{
	if (c->live_dirty)
		rebuild_live(c);
	size_t all = c->nlive, want = nodes_to_find(c, all), nf = 0, i;
	if (!all) {
		*msg = fit_error(c, p);
		return -1;
	}
	const struct owner *o = p->owner ? hmap_get(&c->owners, p->owner) : NULL;
	int max_spread = 0, max_taint = 0;
	size_t start = c->next_start % all;

	/* Filter, from where the last search stopped, until enough fit. */
	for (i = 0; i < all && nf < want; i++) {
		size_t k = start + i < all ? start + i : start + i - all;
		int idx = c->live[k];
		const struct sched_node *n = c->nodes[idx];
		if (!feasible(p, n))
			continue;
		int spread = o && (size_t)idx < o->len ? o->count[idx] : 0;
		int taints = n->nprefer ? sched_prefer_taints(p, n) : 0;
		c->f_idx[nf] = idx;
		c->f_base[nf] = sched_score_least(p, n) + sched_score_balanced(p, n);
		c->f_spread[nf] = spread;
		c->f_taint[nf] = taints;
		if (spread > max_spread)
			max_spread = spread;
		if (taints > max_taint)
			max_taint = taints;
		nf++;
	}
	c->next_start = (start + i) % all;
	if (!nf) {
		*msg = fit_error(c, p);
		return -1;
	}

	/* Score; the best wins, a random one among equals (reservoir sampling). */
	int best = -1, best_score = -1;
	uint64_t ties = 0;
	for (size_t j = 0; j < nf; j++) {
		int score = c->f_base[j] + sched_normalize_reverse(c->f_taint[j], max_taint);
		if (o)
			score += sched_normalize_reverse(c->f_spread[j], max_spread);
		if (score > best_score) {
			best_score = score;
			best = c->f_idx[j];
			ties = 1;
		} else if (score == best_score && next_rand(c) % ++ties == 0) {
			best = c->f_idx[j];
		}
	}
	return best;
}
