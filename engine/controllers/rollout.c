/*
 * rollout.c - the arithmetic of a Deployment's rollout.  See rollout.h.
 */
#include "engine/controllers/rollout.h"

#include <errno.h>
#include <stdlib.h>

#include "engine/mem.h"
#include "engine/valid/valid.h"

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

static int64_t max64(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

int rollout_resolve(const json_t *max_surge, const json_t *max_unavailable, int64_t replicas,
		    struct rollout_params *out, struct err **e)
{
	json_t *dflt = json_string("25%");
	int64_t s = 0, u = 0;
	int r = intorpercent(max_surge ? max_surge : dflt, replicas, true, &s, e);
	if (r == 0)
		r = intorpercent(max_unavailable ? max_unavailable : dflt, replicas, false, &u, e);
	json_decref(dflt);
	if (r < 0)
		return r;
	if (s == 0 && u == 0)
		u = 1;
	if (u > replicas)
		u = replicas;
	out->replicas = replicas;
	out->max_surge = s;
	out->max_unavailable = u;
	return 0;
}

int64_t rollout_pods(const struct rollout_rs *rs)
{
	return max64(rs->replicas, rs->actual);
}

int64_t rollout_available(const struct rollout_rs *rs)
{
	return min64(rs->replicas, rs->available);
}

int64_t rollout_new_replicas(const struct rollout_params *p, const struct rollout_rs *nw,
			     const struct rollout_rs *old, size_t nold)
{
	int64_t current = rollout_pods(nw);
	for (size_t i = 0; i < nold; i++)
		current += rollout_pods(&old[i]);
	int64_t max_total = p->replicas + p->max_surge;
	if (current >= max_total)
		return nw->replicas;
	int64_t up = min64(max_total - current, p->replicas - nw->replicas);
	return nw->replicas + max64(up, 0);
}

int64_t rollout_cleanup_unhealthy(struct rollout_rs *old, size_t nold, int64_t max_cleanup)
{
	int64_t total = 0;
	for (size_t i = 0; i < nold && total < max_cleanup; i++) {
		struct rollout_rs *rs = &old[i];
		int64_t unhealthy = rs->to - rollout_available(rs);
		if (rs->to == 0 || unhealthy <= 0)
			continue;
		int64_t down = min64(max_cleanup - total, unhealthy);
		rs->to -= down;
		total += down;
	}
	return total;
}

int64_t rollout_scale_down_old(const struct rollout_params *p, const struct rollout_rs *nw,
			       struct rollout_rs *old, size_t nold)
{
	int64_t min_available = p->replicas - p->max_unavailable;
	int64_t available = rollout_available(nw);
	for (size_t i = 0; i < nold; i++)
		available += min64(old[i].to, old[i].available);
	if (available <= min_available)
		return 0;
	int64_t want = available - min_available, total = 0;
	for (size_t i = 0; i < nold && total < want; i++) {
		if (old[i].to == 0)
			continue;
		int64_t down = min64(old[i].to, want - total);
		old[i].to -= down;
		total += down;
	}
	return total;
}

/* reconcileOldReplicaSets.  Returns pods scaled down. */
static int64_t reconcile_old(const struct rollout_params *p, const struct rollout_rs *nw,
			     struct rollout_rs *old, size_t nold)
{
	int64_t old_pods = 0, all_pods = rollout_pods(nw);
	for (size_t i = 0; i < nold; i++) {
		old_pods += old[i].replicas;
		all_pods += rollout_pods(&old[i]);
	}
	if (old_pods == 0)
		return 0;
	int64_t min_available = p->replicas - p->max_unavailable;
	int64_t new_unavailable = nw->to - rollout_available(nw);
	int64_t max_down = all_pods - min_available - max64(new_unavailable, 0);
	if (max_down <= 0)
		return 0;
	int64_t cleaned = rollout_cleanup_unhealthy(old, nold, max_down);
	return cleaned + rollout_scale_down_old(p, nw, old, nold);
}

int rollout_rolling_step(const struct rollout_params *p, struct rollout_rs *nw,
			 struct rollout_rs *old, size_t nold)
{
	nw->to = nw->replicas;
	for (size_t i = 0; i < nold; i++)
		old[i].to = old[i].replicas;
	/* reconcileNewReplicaSet */
	if (nw->replicas > p->replicas)
		nw->to = p->replicas;
	else if (nw->replicas < p->replicas)
		nw->to = rollout_new_replicas(p, nw, old, nold);
	if (nw->to != nw->replicas)
		return 1;
	reconcile_old(p, nw, old, nold);
	int changed = 0;
	for (size_t i = 0; i < nold; i++)
		changed += old[i].to != old[i].replicas;
	return changed;
}

enum rollout_recreate rollout_recreate_step(const struct rollout_params *p, struct rollout_rs *nw,
					    struct rollout_rs *old, size_t nold,
					    bool old_pods_exist)
{
	nw->to = nw->replicas;
	bool down = false;
	for (size_t i = 0; i < nold; i++) {
		old[i].to = 0;
		down |= old[i].replicas > 0;
	}
	if (down)
		return ROLLOUT_SCALE_DOWN_OLD;
	if (old_pods_exist)
		return ROLLOUT_WAIT_OLD_PODS;
	if (!nw->exists || nw->replicas != p->replicas) {
		nw->to = p->replicas;
		return ROLLOUT_SCALE_UP_NEW;
	}
	return ROLLOUT_DONE;
}

size_t rollout_prune(const struct rollout_rs *old, size_t nold, int64_t limit, size_t *del)
{
	if (limit < 0 || (int64_t)nold <= limit)
		return 0;
	size_t *idx = xcalloc(nold ? nold : 1, sizeof(*idx));
	for (size_t i = 0; i < nold; i++)
		idx[i] = i;
	/* By revision, lowest first (insertion sort: qsort has no context). */
	for (size_t i = 1; i < nold; i++) {
		size_t x = idx[i], j = i;
		while (j > 0 && old[idx[j - 1]].revision > old[x].revision) {
			idx[j] = idx[j - 1];
			j--;
		}
		idx[j] = x;
	}
	size_t diff = nold - (size_t)limit, n = 0;
	for (size_t i = 0; i < diff; i++) {
		const struct rollout_rs *rs = &old[idx[i]];
		if (rs->replicas != 0 || rs->actual != 0)
			continue;
		del[n++] = idx[i];
	}
	free(idx);
	return n;
}

static int cmp_oldest(const void *a, const void *b)
{
	const struct rollout_rs *x = a, *y = b;
	if (x->created != y->created)
		return x->created < y->created ? -1 : 1;
	return x->revision < y->revision ? -1 : x->revision > y->revision;
}

void rollout_sort_oldest_first(struct rollout_rs *rs, size_t n)
{
	qsort(rs, n, sizeof(*rs), cmp_oldest);
}
