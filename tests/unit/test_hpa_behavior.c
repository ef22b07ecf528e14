/*
 * test_hpa_behavior.c - the HorizontalPodAutoscaler's behavior rules
 * (stabilization windows, Pods/Percent policies, the scale events they
 * count) against Kubernetes' own cases, each row named after the test of
 * pkg/controller/podautoscaler/horizontal_test.go it mirrors; the numbers
 * are theirs.  The replica calculator's cases are in test_hpa_algo.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/controllers/hpa_algo.h"
#include "tests/unit/unit.h"

#define NOW  1800000000000LL /* ms */
#define MINS 60000LL

/* Kubernetes' TestStabilizeRecommendationWithBehaviors. */
static void test_stabilize_behavior(void)
{
	static const struct {
		const char *name;
		struct hpa_rec recs[4];
		size_t nrecs;
		int32_t current, desired, up_s, down_s, want;
		int32_t want_recs[4];
		size_t want_len; /* 0: not checked */
	} rows[] = {
	    {"simple scale down stabilization",
	     {{4, NOW - 2 * MINS}, {5, NOW - MINS}},
	     2,
	     100,
	     3,
	     0,
	     180,
	     5,
	     {4, 5, 3},
	     3},
	    {"simple scale up stabilization",
	     {{4, NOW - 2 * MINS}, {5, NOW - MINS}},
	     2,
	     1,
	     7,
	     300,
	     0,
	     4,
	     {4, 5, 7},
	     3},
	    {"no scale down stabilization",
	     {{1, NOW - 2 * MINS}, {2, NOW - MINS}},
	     2,
	     100,
	     3,
	     300,
	     0,
	     3,
	     {1, 2, 3},
	     3},
	    {"no scale up stabilization",
	     {{4, NOW - 2 * MINS}, {5, NOW - MINS}},
	     2,
	     1,
	     3,
	     0,
	     300,
	     3,
	     {4, 5, 3},
	     3},
	    {"no scale down stabilization, reuse recommendation element",
	     {{10, NOW - 10 * MINS}, {9, NOW - 9 * MINS}},
	     2,
	     100,
	     3,
	     0,
	     0,
	     3,
	     {10, 3},
	     2},
	    {"no scale up stabilization, reuse recommendation element",
	     {{10, NOW - 10 * MINS}, {9, NOW - 9 * MINS}},
	     2,
	     1,
	     100,
	     0,
	     0,
	     100,
	     {10, 100},
	     2},
	    {"scale down stabilization, reuse one of obsolete recommendation element",
	     {{10, NOW - 10 * MINS}, {4, NOW - MINS}, {5, NOW - 2 * MINS}, {9, NOW - 9 * MINS}},
	     4,
	     100,
	     3,
	     0,
	     180,
	     5,
	     {10, 4, 5, 3},
	     4},
	    {"scale up stabilization, reuse one of obsolete recommendation element",
	     {{10, NOW - 100 * MINS}, {6, NOW - MINS}, {5, NOW - 2 * MINS}, {9, NOW - 3 * MINS}},
	     4,
	     1,
	     100,
	     300,
	     0,
	     5,
	     {100, 6, 5, 9},
	     4},
	    {"scale up and down stabilization, do not scale up when prenormalized rec goes down",
	     {{2, NOW - 100 * MINS}, {3, NOW - 3 * MINS}},
	     2,
	     2,
	     1,
	     300,
	     300,
	     2,
	     {0},
	     0},
	    {"scale up and down stabilization, do not scale down when prenormalized rec goes up",
	     {{2, NOW - 100 * MINS}, {1, NOW - 3 * MINS}},
	     2,
	     2,
	     3,
	     300,
	     300,
	     2,
	     {0},
	     0},
	};
	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
		struct hpa_state s = {0};
		s.recs = calloc(8, sizeof(*s.recs));
		s.caprecs = 8;
		memcpy(s.recs, rows[k].recs, sizeof(rows[k].recs));
		s.nrecs = rows[k].nrecs;
		struct hpa_behavior b;
		hpa_rules_default_up(&b.up);
		hpa_rules_default_down(&b.down);
		b.up.window_s = rows[k].up_s;
		b.down.window_s = rows[k].down_s;
		const char *reason, *msg;
		int32_t got = hpa_stabilize(&s, &b, 5 * MINS, rows[k].current, rows[k].desired, NOW,
					    &reason, &msg);
		bool ok = got == rows[k].want;
		if (rows[k].want_len) {
			ok = ok && s.nrecs == rows[k].want_len;
			for (size_t i = 0; ok && i < s.nrecs; i++)
				ok = s.recs[i].replicas == rows[k].want_recs[i];
		}
		printf("  %-80s %s (%d)\n", rows[k].name, ok ? "ok" : "FAIL", got);
		CHECK(ok);
		hpa_state_clear(&s);
	}
}

/* Kubernetes' generateScalingRules(pods, podsPeriod, percent, percentPeriod, window). */
static struct hpa_rules rules(int32_t pods, int32_t pods_s, int32_t pct, int32_t pct_s, int32_t win)
{
	struct hpa_rules r = {.window_s = win, .select = HPA_SELECT_MAX};
	if (pods)
		r.pol[r.npol++] = (struct hpa_policy){false, pods, pods_s};
	if (pct)
		r.pol[r.npol++] = (struct hpa_policy){true, pct, pct_s};
	return r;
}

/* Kubernetes' generateEventsUniformDistribution over 120 s. */
static void events(struct hpa_state *s, int dir, const int *raw, int n)
{
	double seg = 120.0 / n;
	for (int i = 0; i < n; i++) {
		int64_t ago = (int64_t)(120.0 - seg * (i + 1) + seg / 2);
		s->ev[dir] = realloc(s->ev[dir], (s->nev[dir] + 1) * sizeof(*s->ev[dir]));
		s->ev[dir][s->nev[dir]++] =
		    (struct hpa_scale_event){raw[i], NOW - ago * 1000, false};
		s->capev[dir] = s->nev[dir];
	}
}

struct rate_row {
	const char *name;
	int up_ev[4], nup, down_ev[4], ndown;
	int32_t min, max;
	bool up_set, down_set;
	struct hpa_rules up, down;
	int32_t current, desired, want;
	const char *cond;
};

#define R(...) rules(__VA_ARGS__)

static void test_scaling_with_rules(void)
{
	const struct rate_row rows[] = {
	    {"prenormalized desired replicas within range",
	     {0},
	     0,
	     {0},
	     0,
	     3,
	     8,
	     false,
	     false,
	     {0},
	     {0},
	     5,
	     7,
	     7,
	     "DesiredWithinRange"},
	    {"prenormalized desired replicas < minReplicas",
	     {0},
	     0,
	     {0},
	     0,
	     2,
	     8,
	     false,
	     false,
	     {0},
	     {0},
	     3,
	     1,
	     2,
	     "TooFewReplicas"},
	    {"prenormalized desired replicas within range when minReplicas is 0",
	     {0},
	     0,
	     {0},
	     0,
	     0,
	     10,
	     false,
	     false,
	     {0},
	     {0},
	     1,
	     0,
	     0,
	     "DesiredWithinRange"},
	    {"maxReplicas is the limit because maxReplicas < scaleUpLimit",
	     {0},
	     0,
	     {0},
	     0,
	     1,
	     10,
	     false,
	     false,
	     {0},
	     {0},
	     20,
	     1000,
	     10,
	     "TooManyReplicas"},
	    {"desired replica count is more than the maximum replica count",
	     {0},
	     0,
	     {0},
	     0,
	     100,
	     150,
	     false,
	     false,
	     {0},
	     {0},
	     100,
	     1000,
	     150,
	     "TooManyReplicas"},
	    {"scaleUpLimit is the limit because scaleUpLimit < maxReplicas with user policies",
	     {0},
	     0,
	     {0},
	     0,
	     1,
	     2000,
	     true,
	     false,
	     R(0, 0, 1, 60, 0),
	     {0},
	     3,
	     1000,
	     4,
	     "ScaleUpLimit"},
	    {"scaleDownLimit is the limit because scaleDownLimit > minReplicas with user defined "
	     "policies",
	     {0},
	     0,
	     {0},
	     0,
	     3,
	     2000,
	     false,
	     true,
	     {0},
	     R(20, 60, 0, 0, 0),
	     1000,
	     3,
	     980,
	     "ScaleDownLimit"},
	    {"scaleUp with default behavior",
	     {0},
	     0,
	     {0},
	     0,
	     1,
	     1000,
	     false,
	     false,
	     {0},
	     {0},
	     10,
	     50,
	     20,
	     "ScaleUpLimit"},
	    {"scaleUp with pods policy larger than percent policy",
	     {0},
	     0,
	     {0},
	     0,
	     1,
	     1000,
	     true,
	     false,
	     R(100, 60, 100, 60, 0),
	     {0},
	     10,
	     500,
	     110,
	     "ScaleUpLimit"},
	    {"scaleUp with percent policy larger than pods policy",
	     {0},
	     0,
	     {0},
	     0,
	     1,
	     1000,
	     true,
	     false,
	     R(2, 60, 100, 60, 0),
	     {0},
	     10,
	     500,
	     20,
	     "ScaleUpLimit"},
	    {"scaleUp with pod policy limitation",
	     {0},
	     0,
	     {0},
	     0,
	     1,
	     1000,
	     true,
	     false,
	     R(30, 60, 0, 0, 0),
	     {0},
	     10,
	     50,
	     40,
	     "ScaleUpLimit"},
	    {"scaleUp with percent policy limitation",
	     {0},
	     0,
	     {0},
	     0,
	     1,
	     1000,
	     true,
	     false,
	     R(0, 0, 200, 60, 0),
	     {0},
	     10,
	     50,
	     30,
	     "ScaleUpLimit"},
	    {"scaleDown with percent policy larger than pod policy",
	     {0},
	     0,
	     {0},
	     0,
	     1,
	     1000,
	     false,
	     true,
	     {0},
	     R(20, 60, 1, 60, 300),
	     100,
	     2,
	     80,
	     "ScaleDownLimit"},
	    {"scaleDown with pod policy larger than percent policy",
	     {0},
	     0,
	     {0},
	     0,
	     1,
	     1000,
	     false,
	     true,
	     {0},
	     R(2, 60, 1, 60, 300),
	     100,
	     2,
	     98,
	     "ScaleDownLimit"},
	    {"scaleDown with spec MinReplicas limitation with large percent policy",
	     {0},
	     0,
	     {0},
	     0,
	     5,
	     1000,
	     false,
	     true,
	     {0},
	     R(0, 0, 100, 60, 300),
	     10,
	     2,
	     5,
	     "TooFewReplicas"},
	    {"scaleDown with pod policy limitation",
	     {0},
	     0,
	     {0},
	     0,
	     1,
	     1000,
	     false,
	     true,
	     {0},
	     R(5, 60, 0, 0, 300),
	     10,
	     2,
	     5,
	     "ScaleDownLimit"},
	    {"scaleDown with percent policy limitation",
	     {0},
	     0,
	     {0},
	     0,
	     1,
	     1000,
	     false,
	     true,
	     {0},
	     R(0, 0, 50, 60, 300),
	     10,
	     5,
	     5,
	     "DesiredWithinRange"},
	    {"scaleUp with currentReplicas limitation with rate.PeriodSeconds with a lot of recent "
	     "scale up events",
	     {1, 5, 9},
	     3,
	     {0},
	     0,
	     1,
	     1000,
	     true,
	     false,
	     R(5, 120, 0, 0, 0),
	     {0},
	     100,
	     500,
	     100,
	     "ScaleUpLimit"},
	    {"scaleUp with pod policy and previous scale up events",
	     {1, 5, 9},
	     3,
	     {0},
	     0,
	     1,
	     1000,
	     true,
	     false,
	     R(150, 120, 0, 0, 0),
	     {0},
	     100,
	     500,
	     235,
	     "ScaleUpLimit"},
	    {"scaleUp with percent policy and previous scale up events",
	     {1, 5, 9},
	     3,
	     {0},
	     0,
	     1,
	     1000,
	     true,
	     false,
	     R(0, 0, 200, 120, 0),
	     {0},
	     100,
	     500,
	     255,
	     "ScaleUpLimit"},
	    {"scaleUp with percent policy and previous scale up and down events",
	     {4},
	     1,
	     {2},
	     1,
	     1,
	     1000,
	     true,
	     false,
	     R(0, 0, 300, 300, 0),
	     {0},
	     6,
	     24,
	     16,
	     "ScaleUpLimit"},
	    {"scaleDown with pod policy limitation and previous events",
	     {0},
	     0,
	     {1, 5, 9},
	     3,
	     1,
	     1000,
	     false,
	     true,
	     {0},
	     R(5, 120, 0, 0, 300),
	     100,
	     2,
	     100,
	     "ScaleDownLimit"},
	    {"scaleDown with percent policy limitation and previous events",
	     {0},
	     0,
	     {2, 4, 6},
	     3,
	     1,
	     1000,
	     false,
	     true,
	     {0},
	     R(0, 0, 50, 120, 300),
	     100,
	     0,
	     56,
	     "ScaleDownLimit"},
	    {"scaleDown with percent policy and previous scale up and down events",
	     {2},
	     1,
	     {4},
	     1,
	     1,
	     1000,
	     false,
	     true,
	     {0},
	     R(0, 0, 50, 180, 0),
	     10,
	     1,
	     6,
	     "ScaleDownLimit"},
	    {"scaleDown with previous events preventing further scale down",
	     {0},
	     0,
	     {10, 10, 10},
	     3,
	     1,
	     1000,
	     false,
	     true,
	     {0},
	     R(0, 0, 10, 120, 300),
	     100,
	     0,
	     100,
	     "ScaleDownLimit"},
	    {"scaleDown with with previous events still allowing more scale down",
	     {0},
	     0,
	     {10, 10, 10},
	     3,
	     1,
	     1000,
	     false,
	     true,
	     {0},
	     R(0, 0, 1000, 120, 300),
	     10,
	     5,
	     5,
	     "DesiredWithinRange"},
	    {"check 'outdated' flag for events for one behavior for up",
	     {8, 12, 9, 11},
	     4,
	     {0},
	     0,
	     1,
	     1000,
	     true,
	     false,
	     R(1000, 60, 0, 0, 0),
	     {0},
	     100,
	     200,
	     200,
	     "DesiredWithinRange"},
	};
	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
		const struct rate_row *r = &rows[k];
		struct hpa_behavior b;
		hpa_rules_default_up(&b.up);
		hpa_rules_default_down(&b.down);
		if (r->up_set)
			b.up = r->up;
		if (r->down_set)
			b.down = r->down;
		struct hpa_state s = {0};
		events(&s, 0, r->up_ev, r->nup);
		events(&s, 1, r->down_ev, r->ndown);
		const char *reason = "", *msg = "";
		int32_t got = hpa_limit_rate(&s, &b, r->current, r->desired, r->min, r->max, NOW,
					     &reason, &msg);
		bool ok = got == r->want && !strcmp(reason, r->cond);
		printf("  %-90.90s %s (%d %s)\n", r->name, ok ? "ok" : "FAIL", got, reason);
		CHECK(ok);
		hpa_state_clear(&s);
	}
}

/* Kubernetes' TestStoreScaleEvents, two rows. */
static void test_store_scale_events(void)
{
	struct hpa_behavior b;
	hpa_rules_default_down(&b.down);
	b.up = rules(10, 60, 100, 30, 0);
	struct hpa_state s = {0};
	const int raw[] = {8, 6, 7, 9};
	const int64_t ago[] = {29, 59, 61, 61};
	for (int i = 0; i < 4; i++) {
		events(&s, 0, &raw[i], 1);
		s.ev[0][i].ts_ms = NOW - ago[i] * 1000;
	}
	/* "replace one entry, use policies with different periods" */
	hpa_store_scale_event(&s, &b, 10, 15, NOW);
	CHECK(s.nev[0] == 4 && s.ev[0][0].change == 8 && s.ev[0][1].change == 6);
	CHECK(s.ev[0][2].change == 7 && s.ev[0][2].outdated);
	CHECK(s.ev[0][3].change == 5 && !s.ev[0][3].outdated);
	hpa_state_clear(&s);
	/* "empty entries with default behavior": no behavior, nothing kept */
	hpa_store_scale_event(&s, NULL, 10, 15, NOW);
	CHECK(s.nev[0] == 0);
	/* a scale-down goes to the down events */
	hpa_store_scale_event(&s, &b, 10, 7, NOW);
	CHECK(s.nev[1] == 1 && s.ev[1][0].change == 3);
	hpa_state_clear(&s);
}

/* A whole normalization with behavior: the conditions it reports. */
static void test_normalize_behavior(void)
{
	struct hpa_behavior b;
	hpa_rules_default_up(&b.up);
	hpa_rules_default_down(&b.down);
	b.down.window_s = 60;
	struct hpa_state s = {0};
	struct hpa_norm n;
	hpa_record_initial(&s, 4, NOW - 30000);
	/* down from 4 to 1 within the window: held at 4 */
	hpa_normalize(&s, &b, 5 * MINS, 4, 1, 1, 4, NOW, &n);
	CHECK(n.replicas == 4 && !strcmp(n.able_reason, "ScaleDownStabilized"));
	/* after the window: down to 1 (100 % per 15 s allows it) */
	hpa_normalize(&s, &b, 5 * MINS, 4, 1, 1, 4, NOW + 61000, &n);
	CHECK(n.replicas == 1 && !strcmp(n.able_reason, "ReadyForNewScale"));
	CHECK(!n.limited && !strcmp(n.limit_reason, "DesiredWithinRange"));
	/* selectPolicy Disabled: no scale-down at all */
	b.down.select = HPA_SELECT_DISABLED;
	hpa_normalize(&s, &b, 5 * MINS, 4, 1, 1, 4, NOW + 10 * MINS, &n);
	CHECK(n.replicas == 4 && n.limited && !strcmp(n.limit_reason, "ScaleDownLimit"));
	/* selectPolicy Min: the smaller change of Pods 1 and Percent 50 */
	b.down.select = HPA_SELECT_MIN;
	b.down.pol[0] = (struct hpa_policy){false, 1, 60};
	b.down.pol[1] = (struct hpa_policy){true, 50, 60};
	b.down.npol = 2;
	hpa_normalize(&s, &b, 5 * MINS, 10, 1, 1, 10, NOW + 20 * MINS, &n);
	CHECK(n.replicas == 9);
	b.down.select = HPA_SELECT_MAX;
	hpa_normalize(&s, &b, 5 * MINS, 10, 1, 1, 10, NOW + 30 * MINS, &n);
	CHECK(n.replicas == 5);
	hpa_state_clear(&s);
}

int main(void)
{
	RUN(test_stabilize_behavior);
	RUN(test_scaling_with_rules);
	RUN(test_store_scale_events);
	RUN(test_normalize_behavior);
	return unit_done();
}
