/*
 * hpa_algo.c - the HorizontalPodAutoscaler's arithmetic.  See hpa_algo.h.
 */
#include "engine/controllers/hpa_algo.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mem.h"

const char *hpa_resource_name(enum hpa_resource r)
{
	return r == HPA_CPU ? "cpu" : "memory";
}

/* ceil and fabs, without libm */
static int64_t ceil_of(double x)
{
	int64_t i = (int64_t)x; /* toward zero: the ceiling of a negative x */
	return (double)i < x ? i + 1 : i;
}

static double abs_of(double x)
{
	return x < 0 ? -x : x;
}

/* The replica calculator */

/* How the calculator counts a pod (Kubernetes' groupPods). */
enum pod_group { G_IGNORED, G_UNREADY, G_MISSING, G_READY };

static enum pod_group group_of(const struct hpa_params *p, const struct hpa_pod *pod,
			       enum hpa_resource res, int64_t now)
{
	if (pod->deleted || pod->failed)
		return G_IGNORED;
	if (pod->pending)
		return G_UNREADY;
	if (!pod->has_sample)
		return G_MISSING;
	if (res != HPA_CPU)
		return G_READY;
	bool unready;
	if (!pod->has_ready)
		unready = true;
	else if (pod->start_ms + p->cpu_init_ms > now)
		/* Still starting: a sample counts once the pod is ready and one
		 * window was measured since it became so. */
		unready = !pod->ready || pod->ts_ms < pod->ready_ms + pod->window_ms;
	else
		/* Unready and never ready since it started. */
		unready = !pod->ready && pod->start_ms + p->readiness_delay_ms > pod->ready_ms;
	return unready ? G_UNREADY : G_READY;
}

/* The metrics the calculator works on: per pod, whether it counts and
 * with which value. */
struct sample_set {
	bool *in;
	int64_t *val;
	size_t n, count;
};

/* Utilization over the counted pods: 0, or -1 with why.  Kubernetes'
 * GetResourceUtilizationRatio, in integers as it does. */
static int utilization_ratio(const struct sample_set *s, const struct hpa_pod *pods, int64_t target,
			     double *ratio, int32_t *util, int64_t *avg, char *why, size_t wl)
{
	int64_t used = 0, req = 0;
	size_t k = 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->in[i]) {
			used += s->val[i];
			req += pods[i].request;
			k++;
		}
	if (req == 0) {
		snprintf(why, wl, "no metrics returned matched known pods");
		return -1;
	}
	*util = (int32_t)(used * 100 / req);
	*ratio = (double)*util / (double)target;
	*avg = used / (int64_t)k;
	return 0;
}

/* An average value: Kubernetes' GetMetricUsageRatio. */
static void average_ratio(const struct sample_set *s, int64_t target, double *ratio, int64_t *avg)
{
	int64_t used = 0;
	size_t k = 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->in[i]) {
			used += s->val[i];
			k++;
		}
	*avg = k ? used / (int64_t)k : 0;
	*ratio = (double)*avg / (double)target;
}

static int ratio_of(const struct sample_set *s, const struct hpa_pod *pods,
		    const struct hpa_metric *m, double *ratio, int32_t *util, int64_t *avg,
		    char *why, size_t wl)
{
	if (m->type == HPA_UTILIZATION)
		return utilization_ratio(s, pods, m->target, ratio, util, avg, why, wl);
	average_ratio(s, m->target, ratio, avg);
	*util = 0;
	return 0;
}

/* Fills the pods without samples in (as 100 % of the request, or of the
 * target if higher, on a scale-down; as 0 on a scale-up) and the unready
 * ones (as 0, on a scale-up). */
static void rebalance(struct sample_set *s, const struct hpa_pod *pods, const enum pod_group *g,
		      const struct hpa_metric *m, double ratio, bool with_unready)
{
	for (size_t i = 0; i < s->n; i++) {
		if (g[i] == G_MISSING) {
			bool util = m->type == HPA_UTILIZATION;
			int64_t v;
			if (ratio < 1.0)
				v = util ? pods[i].request * (m->target > 100 ? m->target : 100) /
					       100
					 : m->target;
			else if (ratio > 1.0 || !util)
				v = 0;
			else
				continue;
			s->in[i] = true;
			s->val[i] = v;
		} else if (g[i] == G_UNREADY && with_unready) {
			s->in[i] = true;
			s->val[i] = 0;
		}
	}
}

static int calc_with(const struct hpa_params *p, int32_t current, const struct hpa_metric *m,
		     const struct hpa_pod *pods, const enum pod_group *g, struct sample_set *s,
		     struct hpa_calc *out, char *why, size_t wl)
{
	size_t ready = 0, unready = 0, missing = 0;
	for (size_t i = 0; i < s->n; i++) {
		s->in[i] = g[i] == G_READY;
		s->val[i] = pods[i].value;
		ready += g[i] == G_READY;
		unready += g[i] == G_UNREADY;
		missing += g[i] == G_MISSING;
	}
	if (ready == 0) {
		snprintf(why, wl,
			 "did not receive metrics for targeted pods (pods might be unready)");
		return -1;
	}
	double ratio;
	if (ratio_of(s, pods, m, &ratio, &out->utilization, &out->average, why, wl) < 0)
		return -1;
	bool up_with_unready = unready > 0 && ratio > 1.0;
	if (!up_with_unready && missing == 0) {
		out->replicas = abs_of(1.0 - ratio) <= p->tolerance
				    ? current
				    : (int32_t)ceil_of(ratio * (double)ready);
		return 0;
	}
	rebalance(s, pods, g, m, ratio, up_with_unready);
	double nr;
	int32_t u2;
	int64_t a2;
	if (ratio_of(s, pods, m, &nr, &u2, &a2, why, wl) < 0)
		return -1;
	out->replicas = current;
	if (abs_of(1.0 - nr) <= p->tolerance || (ratio < 1.0 && nr > 1.0) ||
	    (ratio > 1.0 && nr < 1.0))
		return 0; /* too small a change, or the direction flipped */
	size_t counted = 0;
	for (size_t i = 0; i < s->n; i++)
		counted += s->in[i];
	int32_t want = (int32_t)ceil_of(nr * (double)counted);
	if ((nr < 1.0 && want > current) || (nr > 1.0 && want < current))
		return 0;
	out->replicas = want;
	return 0;
}

int hpa_resource_replicas(const struct hpa_params *p, int32_t current, const struct hpa_metric *m,
			  const struct hpa_pod *pods, size_t n, int64_t now_ms,
			  struct hpa_calc *out, char *why, size_t whylen)
{
	memset(out, 0, sizeof(*out));
	if (n == 0) {
		snprintf(why, whylen,
			 "no pods returned by selector while calculating replica count");
		return -1;
	}
	if (m->target <= 0) {
		snprintf(why, whylen, "invalid target for %s", hpa_resource_name(m->res));
		return -1;
	}
	if (m->type == HPA_UTILIZATION)
		for (size_t i = 0; i < n; i++)
			if (pods[i].request < 0) {
				snprintf(why, whylen, "missing request for %s",
					 hpa_resource_name(m->res));
				return -1;
			}
	enum pod_group *g = xcalloc(n, sizeof(*g));
	struct sample_set s = {xcalloc(n, sizeof(bool)), xcalloc(n, sizeof(int64_t)), n, 0};
	for (size_t i = 0; i < n; i++)
		g[i] = group_of(p, &pods[i], m->res, now_ms);
	int r = calc_with(p, current, m, pods, g, &s, out, why, whylen);
	free(s.in);
	free(s.val);
	free(g);
	return r;
}

int hpa_combine(const bool *ok, const int32_t *proposals, size_t n, int32_t spec_replicas,
		int32_t *replicas)
{
	int best = -1;
	size_t invalid = 0;
	int32_t r = 0;
	for (size_t i = 0; i < n; i++) {
		if (!ok[i]) {
			invalid++;
			continue;
		}
		if (best < 0 || proposals[i] > r) {
			r = proposals[i];
			best = (int)i;
		}
	}
	if (invalid >= n || (invalid > 0 && r < spec_replicas))
		return -1;
	*replicas = r;
	return best;
}

/* Behavior */

void hpa_rules_default_up(struct hpa_rules *r)
{
	memset(r, 0, sizeof(*r));
	r->window_s = 0;
	r->select = HPA_SELECT_MAX;
	r->pol[0] = (struct hpa_policy){false, 4, 15};
	r->pol[1] = (struct hpa_policy){true, 100, 15};
	r->npol = 2;
}

void hpa_rules_default_down(struct hpa_rules *r)
{
	memset(r, 0, sizeof(*r));
	r->window_s = -1;
	r->select = HPA_SELECT_MAX;
	r->pol[0] = (struct hpa_policy){true, 100, 15};
	r->npol = 1;
}

void hpa_state_clear(struct hpa_state *s)
{
	free(s->recs);
	free(s->ev[0]);
	free(s->ev[1]);
	memset(s, 0, sizeof(*s));
}

static void rec_put(struct hpa_state *s, bool reuse, size_t at, int32_t replicas, int64_t now)
{
	if (reuse) {
		s->recs[at] = (struct hpa_rec){replicas, now};
		return;
	}
	if (s->nrecs == s->caprecs) {
		s->caprecs = s->caprecs ? s->caprecs * 2 : 4;
		s->recs = xrealloc(s->recs, s->caprecs * sizeof(*s->recs));
	}
	s->recs[s->nrecs++] = (struct hpa_rec){replicas, now};
}

void hpa_record_initial(struct hpa_state *s, int32_t current, int64_t now_ms)
{
	if (s->nrecs == 0)
		rec_put(s, false, 0, current, now_ms);
}

/* Without behavior: the highest recommendation of the downscale window. */
static int32_t stabilize_plain(struct hpa_state *s, int64_t down_ms, int32_t desired, int64_t now)
{
	int32_t best = desired;
	bool old = false;
	size_t at = 0;
	int64_t cutoff = now - down_ms;
	for (size_t i = 0; i < s->nrecs; i++) {
		if (s->recs[i].ts_ms < cutoff) {
			old = true;
			at = i;
		} else if (s->recs[i].replicas > best) {
			best = s->recs[i].replicas;
		}
	}
	rec_put(s, old, at, desired, now);
	return best;
}

int32_t hpa_stabilize(struct hpa_state *s, const struct hpa_behavior *b, int64_t down_ms,
		      int32_t current, int32_t desired, int64_t now_ms, const char **reason,
		      const char **msg)
{
	int64_t up_cut = now_ms - (int64_t)b->up.window_s * 1000;
	int64_t down_cut =
	    now_ms - (b->down.window_s >= 0 ? (int64_t)b->down.window_s * 1000 : down_ms);
	int32_t up = desired, down = desired;
	bool old = false;
	size_t at = 0;
	for (size_t i = 0; i < s->nrecs; i++) {
		const struct hpa_rec *r = &s->recs[i];
		if (r->ts_ms > up_cut && r->replicas < up)
			up = r->replicas;
		if (r->ts_ms > down_cut && r->replicas > down)
			down = r->replicas;
		if (r->ts_ms < up_cut && r->ts_ms < down_cut) {
			old = true;
			at = i;
		}
	}
	int32_t rec = current;
	if (rec < up)
		rec = up;
	if (rec > down)
		rec = down;
	rec_put(s, old, at, desired, now_ms);
	if (desired >= current) {
		*reason = "ScaleUpStabilized";
		*msg = "recent recommendations were lower than current one, applying the lowest "
		       "recent recommendation";
	} else {
		*reason = "ScaleDownStabilized";
		*msg = "recent recommendations were higher than current one, applying the highest "
		       "recent recommendation";
	}
	return rec;
}

/* The replicas added (up) or removed (down) within the last period_s. */
static int32_t change_in(const struct hpa_state *s, int dir, int32_t period_s, int64_t now)
{
	int64_t cutoff = now - (int64_t)period_s * 1000;
	int32_t sum = 0;
	for (size_t i = 0; i < s->nev[dir]; i++)
		if (s->ev[dir][i].ts_ms > cutoff)
			sum += s->ev[dir][i].change;
	return sum;
}

/* How far the policies of r let the replicas go this period (Kubernetes'
 * calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors). */
static int32_t policy_limit(const struct hpa_state *s, const struct hpa_rules *r, bool up,
			    int32_t current, int64_t now)
{
	if (r->select == HPA_SELECT_DISABLED)
		return current;
	/* Up: Max picks the most replicas; down: Max the largest change, the fewest. */
	bool take_max = up == (r->select == HPA_SELECT_MAX);
	int64_t result = take_max ? INT32_MIN : INT32_MAX;
	for (int i = 0; i < r->npol; i++) {
		const struct hpa_policy *p = &r->pol[i];
		int64_t start = (int64_t)current - change_in(s, 0, p->period_s, now) +
				change_in(s, 1, p->period_s, now);
		int64_t prop;
		if (up)
			prop = p->percent ? ceil_of((double)start * (1 + p->value / 100.0))
					  : start + p->value;
		else
			prop = p->percent ? (int64_t)((double)start * (1 - p->value / 100.0))
					  : start - p->value;
		result =
		    take_max ? (prop > result ? prop : result) : (prop < result ? prop : result);
	}
	if (result > INT32_MAX)
		result = INT32_MAX;
	if (result < INT32_MIN)
		result = INT32_MIN;
	return (int32_t)result;
}

int32_t hpa_limit_rate(const struct hpa_state *s, const struct hpa_behavior *b, int32_t current,
		       int32_t desired, int32_t min, int32_t max, int64_t now_ms,
		       const char **reason, const char **msg)
{
	if (desired > current) {
		int32_t lim = policy_limit(s, &b->up, true, current, now_ms);
		if (lim < current)
			lim = current; /* not further up until old events expire */
		int32_t allowed = max;
		if (allowed > lim) {
			allowed = lim;
			*reason = "ScaleUpLimit";
			*msg = "the desired replica count is increasing faster than the maximum "
			       "scale rate";
		} else {
			*reason = "TooManyReplicas";
			*msg = "the desired replica count is more than the maximum replica count";
		}
		if (desired > allowed)
			return allowed;
	} else if (desired < current) {
		int32_t lim = policy_limit(s, &b->down, false, current, now_ms);
		if (lim > current)
			lim = current;
		int32_t allowed = min;
		if (allowed < lim) {
			allowed = lim;
			*reason = "ScaleDownLimit";
			*msg = "the desired replica count is decreasing faster than the maximum "
			       "scale rate";
		} else {
			*reason = "TooFewReplicas";
			*msg = "the desired replica count is less than the minimum replica count";
		}
		if (desired < allowed)
			return allowed;
	}
	*reason = "DesiredWithinRange";
	*msg = "the desired count is within the acceptable range";
	return desired;
}

/* Without behavior: min, max and the scale-up limit max(2 x current, 4)
 * (Kubernetes' convertDesiredReplicasWithRules). */
static int32_t limit_plain(int32_t current, int32_t desired, int32_t min, int32_t max,
			   const char **reason, const char **msg)
{
	double up = 2.0 * current;
	int32_t up_limit = (int32_t)(up > 4.0 ? up : 4.0);
	int32_t allowed;
	if (max > up_limit) {
		allowed = up_limit;
		*reason = "ScaleUpLimit";
		*msg = "the desired replica count is increasing faster than the maximum scale rate";
	} else {
		allowed = max;
		*reason = "TooManyReplicas";
		*msg = "the desired replica count is more than the maximum replica count";
	}
	if (desired < min) {
		*reason = "TooFewReplicas";
		*msg = "the desired replica count is less than the minimum replica count";
		return min;
	}
	if (desired > allowed)
		return allowed;
	*reason = "DesiredWithinRange";
	*msg = "the desired count is within the acceptable range";
	return desired;
}

void hpa_normalize(struct hpa_state *s, const struct hpa_behavior *b, int64_t down_ms,
		   int32_t current, int32_t desired, int32_t min, int32_t max, int64_t now_ms,
		   struct hpa_norm *out)
{
	int32_t st;
	const char *reason = "ScaleDownStabilized";
	const char *msg = "recent recommendations were higher than current one, applying the "
			  "highest recent recommendation";
	if (b)
		st = hpa_stabilize(s, b, down_ms, current, desired, now_ms, &reason, &msg);
	else
		st = stabilize_plain(s, down_ms, desired, now_ms);
	if (st != desired) {
		out->able_reason = reason;
		out->able_msg = msg;
	} else {
		out->able_reason = "ReadyForNewScale";
		out->able_msg = "recommended size matches current size";
	}
	if (b)
		out->replicas = hpa_limit_rate(s, b, current, st, min, max, now_ms,
					       &out->limit_reason, &out->limit_msg);
	else
		out->replicas =
		    limit_plain(current, st, min, max, &out->limit_reason, &out->limit_msg);
	out->limited = out->replicas != st;
}

void hpa_store_scale_event(struct hpa_state *s, const struct hpa_behavior *b, int32_t prev,
			   int32_t next, int64_t now_ms)
{
	if (!b || prev == next)
		return;
	int dir = next > prev ? 0 : 1;
	const struct hpa_rules *r = dir == 0 ? &b->up : &b->down;
	int32_t longest = 0;
	for (int i = 0; i < r->npol; i++)
		if (r->pol[i].period_s > longest)
			longest = r->pol[i].period_s;
	int64_t cutoff = now_ms - (int64_t)longest * 1000;
	for (size_t i = 0; i < s->nev[dir]; i++)
		if (s->ev[dir][i].ts_ms < cutoff)
			s->ev[dir][i].outdated = true;
	struct hpa_scale_event e = {dir == 0 ? next - prev : prev - next, now_ms, false};
	size_t at = s->nev[dir];
	for (size_t i = 0; i < s->nev[dir]; i++)
		if (s->ev[dir][i].outdated)
			at = i; /* the last outdated slot, as Kubernetes reuses */
	if (at < s->nev[dir]) {
		s->ev[dir][at] = e;
		return;
	}
	if (s->nev[dir] == s->capev[dir]) {
		s->capev[dir] = s->capev[dir] ? s->capev[dir] * 2 : 4;
		s->ev[dir] = xrealloc(s->ev[dir], s->capev[dir] * sizeof(*s->ev[dir]));
	}
	s->ev[dir][s->nev[dir]++] = e;
}
