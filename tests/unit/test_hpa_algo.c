/*
 * test_hpa_algo.c - the HorizontalPodAutoscaler's arithmetic against
 * Kubernetes' own cases.  Each row is named after the test of
 * pkg/controller/podautoscaler it mirrors (replica_calculator_test.go,
 * horizontal_test.go); the numbers are theirs.  The behavior rules' cases
 * are in test_hpa_behavior.c.  Kubernetes' calculator
 * tests give each pod two containers with the same request and usage:
 * here a pod has one, which changes no ratio, so the replicas and
 * utilizations are the same.
 */
#include <stdio.h>
#include <string.h>

#include "engine/controllers/hpa_algo.h"
#include "tests/unit/unit.h"

#define NOW  1800000000000LL /* ms */
#define MINS 60000LL
#define MAXP 8

static const struct hpa_params params = {0.1, 5 * MINS, 30000};

/* One replica-calculator case.  Per pod: req (milli, -1: none), level
 * (its sample; -1: none), ready 'T'/'F', phase 'R'unning/'P'ending/'F'ailed,
 * 'D' deleted, start 'c'ool (long started) / 'h'ot (just started). */
struct calc_row {
	const char *name;
	int32_t current;
	int npods;
	int64_t req[MAXP];
	int64_t level[MAXP];
	const char *ready, *phase, *start;
	enum hpa_resource res;
	enum hpa_target type;
	int64_t target;
	int32_t want;	   /* -1: an error */
	int32_t want_util; /* checked when > 0 */
	const char *want_err;
};

static const struct calc_row calc_rows[] = {
    {"TestReplicaCalcScaleUp",
     3,
     3,
     {1000, 1000, 1000},
     {300, 500, 700},
     NULL,
     NULL,
     NULL,
     HPA_CPU,
     HPA_UTILIZATION,
     30,
     5,
     50,
     NULL},
    {"TestReplicaCalcScaleUpUnreadyLessScale",
     3,
     3,
     {1000, 1000, 1000},
     {300, 500, 700},
     "FTT",
     NULL,
     NULL,
     HPA_CPU,
     HPA_UTILIZATION,
     30,
     4,
     60,
     NULL},
    {"TestReplicaCalcScaleUpHotCpuLessScale",
     3,
     3,
     {1000, 1000, 1000},
     {300, 500, 700},
     NULL,
     NULL,
     "hcc",
     HPA_CPU,
     HPA_UTILIZATION,
     30,
     4,
     60,
     NULL},
    {"TestReplicaCalcScaleUpUnreadyNoScale",
     3,
     3,
     {1000, 1000, 1000},
     {400, 500, 700},
     "TFF",
     NULL,
     NULL,
     HPA_CPU,
     HPA_UTILIZATION,
     30,
     3,
     40,
     NULL},
    {"TestReplicaCalcScaleHotCpuNoScale",
     3,
     3,
     {1000, 1000, 1000},
     {400, 500, 700},
     "TFF",
     NULL,
     "chh",
     HPA_CPU,
     HPA_UTILIZATION,
     30,
     3,
     40,
     NULL},
    {"TestReplicaCalcScaleUpIgnoresFailedPods",
     2,
     4,
     {1000, 1000, 1000, 1000},
     {500, 700, -1, -1},
     "TTFF",
     "RRFF",
     NULL,
     HPA_CPU,
     HPA_UTILIZATION,
     30,
     4,
     60,
     NULL},
    {"TestReplicaCalcScaleUpIgnoresDeletionPods",
     2,
     4,
     {1000, 1000, 1000, 1000},
     {500, 700, -1, -1},
     "TTFF",
     "RRDD",
     NULL,
     HPA_CPU,
     HPA_UTILIZATION,
     30,
     4,
     60,
     NULL},
    {"TestReplicaCalcScaleDown",
     5,
     5,
     {1000, 1000, 1000, 1000, 1000},
     {100, 300, 500, 250, 250},
     NULL,
     NULL,
     NULL,
     HPA_CPU,
     HPA_UTILIZATION,
     50,
     3,
     28,
     NULL},
    {"TestReplicaCalcScaleDownIncludeUnreadyPods",
     5,
     5,
     {1000, 1000, 1000, 1000, 1000},
     {100, 300, 500, 250, 250},
     "TTTFF",
     NULL,
     NULL,
     HPA_CPU,
     HPA_UTILIZATION,
     50,
     2,
     30,
     NULL},
    {"TestReplicaCalcScaleDownExcludeUnscheduledPods",
     5,
     5,
     {1000, 1000, 1000, 1000, 1000},
     {100, -1, -1, -1, -1},
     "TFFFF",
     "RPPPP",
     NULL,
     HPA_CPU,
     HPA_UTILIZATION,
     50,
     1,
     10,
     NULL},
    {"TestReplicaCalcScaleDownIgnoreHotCpuPods",
     5,
     5,
     {1000, 1000, 1000, 1000, 1000},
     {100, 300, 500, 250, 250},
     NULL,
     NULL,
     "ccchh",
     HPA_CPU,
     HPA_UTILIZATION,
     50,
     2,
     30,
     NULL},
    {"TestReplicaCalcScaleDownIgnoresFailedPods",
     5,
     7,
     {1000, 1000, 1000, 1000, 1000, 1000, 1000},
     {100, 300, 500, 250, 250, -1, -1},
     "TTTTTFF",
     "RRRRRFF",
     NULL,
     HPA_CPU,
     HPA_UTILIZATION,
     50,
     3,
     28,
     NULL},
    {"TestReplicaCalcScaleDownIgnoresDeletionPods",
     5,
     7,
     {1000, 1000, 1000, 1000, 1000, 1000, 1000},
     {100, 300, 500, 250, 250, -1, -1},
     "TTTTTFF",
     "RRRRRDD",
     NULL,
     HPA_CPU,
     HPA_UTILIZATION,
     50,
     3,
     28,
     NULL},
    {"TestReplicaCalcTolerance",
     3,
     3,
     {900, 1000, 1100},
     {1010, 1030, 1020},
     NULL,
     NULL,
     NULL,
     HPA_CPU,
     HPA_UTILIZATION,
     100,
     3,
     102,
     NULL},
    {"TestReplicaCalcMissingMetrics",
     4,
     4,
     {1000, 1000, 1000, 1000},
     {400, 95, -1, -1},
     NULL,
     NULL,
     NULL,
     HPA_CPU,
     HPA_UTILIZATION,
     100,
     3,
     24,
     NULL},
    {"TestReplicaCalcEmptyMetrics",
     4,
     3,
     {1000, 1000, 1000},
     {-1, -1, -1},
     NULL,
     NULL,
     NULL,
     HPA_CPU,
     HPA_UTILIZATION,
     100,
     -1,
     0,
     "did not receive metrics"},
    {"TestReplicaCalcEmptyCPURequest",
     1,
     1,
     {-1},
     {200},
     NULL,
     NULL,
     NULL,
     HPA_CPU,
     HPA_UTILIZATION,
     100,
     -1,
     0,
     "missing request for cpu"},
    {"TestReplicaCalcMissingMetricsNoChangeEq",
     2,
     2,
     {1000, 1000},
     {1000, -1},
     NULL,
     NULL,
     NULL,
     HPA_CPU,
     HPA_UTILIZATION,
     100,
     2,
     100,
     NULL},
    {"TestReplicaCalcMissingMetricsNoChangeGt",
     2,
     2,
     {1000, 1000},
     {1900, -1},
     NULL,
     NULL,
     NULL,
     HPA_CPU,
     HPA_UTILIZATION,
     100,
     2,
     190,
     NULL},
    {"TestReplicaCalcMissingMetricsNoChangeLt",
     2,
     2,
     {1000, 1000},
     {600, -1},
     NULL,
     NULL,
     NULL,
     HPA_CPU,
     HPA_UTILIZATION,
     100,
     2,
     60,
     NULL},
    {"TestReplicaCalcMissingMetricsUnreadyChange",
     3,
     3,
     {1000, 1000, 1000},
     {100, 450, -1},
     "FTT",
     NULL,
     NULL,
     HPA_CPU,
     HPA_UTILIZATION,
     50,
     3,
     45,
     NULL},
    {"TestReplicaCalcMissingMetricsHotCpuNoChange",
     3,
     3,
     {1000, 1000, 1000},
     {100, 450, -1},
     NULL,
     NULL,
     "hcc",
     HPA_CPU,
     HPA_UTILIZATION,
     50,
     3,
     45,
     NULL},
    {"TestReplicaCalcMissingMetricsUnreadyScaleUp",
     3,
     3,
     {1000, 1000, 1000},
     {100, 2000, -1},
     "FTT",
     NULL,
     NULL,
     HPA_CPU,
     HPA_UTILIZATION,
     50,
     4,
     200,
     NULL},
    {"TestReplicaCalcMissingMetricsHotCpuScaleUp",
     3,
     3,
     {1000, 1000, 1000},
     {100, 2000, -1},
     "FTT",
     NULL,
     "hcc",
     HPA_CPU,
     HPA_UTILIZATION,
     50,
     4,
     200,
     NULL},
    {"TestReplicaCalcMissingMetricsUnreadyScaleDown",
     4,
     4,
     {1000, 1000, 1000, 1000},
     {100, 100, 100, -1},
     "FTTT",
     NULL,
     NULL,
     HPA_CPU,
     HPA_UTILIZATION,
     50,
     3,
     10,
     NULL},
    {"TestReplicaCalcDuringRollingUpdateWithMaxSurge",
     2,
     3,
     {1000, 1000, 1000},
     {100, 100, -1},
     NULL,
     NULL,
     NULL,
     HPA_CPU,
     HPA_UTILIZATION,
     50,
     2,
     10,
     NULL},
    /* The average-value path (calcPlainMetricReplicas), which Kubernetes
     * tests with a pods metric "qps": here memory as an AverageValue. */
    {"TestReplicaCalcScaleUpCM",
     3,
     3,
     {0, 0, 0},
     {20000, 10000, 30000},
     NULL,
     NULL,
     NULL,
     HPA_MEMORY,
     HPA_AVERAGE_VALUE,
     15000,
     4,
     0,
     NULL},
    {"TestReplicaCalcScaleUpCMUnreadyHotCpuNoLessScale",
     3,
     3,
     {0, 0, 0},
     {50000, 10000, 30000},
     "TTF",
     NULL,
     "cch",
     HPA_MEMORY,
     HPA_AVERAGE_VALUE,
     15000,
     6,
     0,
     NULL},
    {"TestReplicaCalcScaleUpCMUnreadyHotCpuScaleWouldScaleDown",
     3,
     3,
     {0, 0, 0},
     {50000, 15000, 30000},
     "FTF",
     NULL,
     "hch",
     HPA_MEMORY,
     HPA_AVERAGE_VALUE,
     15000,
     7,
     0,
     NULL},
    {"TestReplicaCalcScaleDownCM",
     5,
     5,
     {0, 0, 0, 0, 0},
     {12000, 12000, 12000, 12000, 12000},
     NULL,
     NULL,
     NULL,
     HPA_MEMORY,
     HPA_AVERAGE_VALUE,
     20000,
     3,
     0,
     NULL},
    {"TestReplicaCalcToleranceCM",
     3,
     3,
     {0, 0, 0},
     {20000, 21000, 21000},
     NULL,
     NULL,
     NULL,
     HPA_MEMORY,
     HPA_AVERAGE_VALUE,
     20000,
     3,
     0,
     NULL},
};

static void pod_of(const struct calc_row *r, int i, struct hpa_pod *p)
{
	memset(p, 0, sizeof(*p));
	char ready = r->ready ? r->ready[i] : 'T';
	char phase = r->phase ? r->phase[i] : 'R';
	char start = r->start ? r->start[i] : 'c';
	p->start_ms = start == 'h' ? NOW - 10000 : NOW - 10 * MINS;
	p->has_ready = true;
	p->ready = ready == 'T';
	p->ready_ms = p->start_ms; /* as Kubernetes' test pods: ready since they started */
	p->pending = phase == 'P';
	p->failed = phase == 'F';
	p->deleted = phase == 'D';
	p->request = r->req[i];
	p->has_sample = r->level[i] >= 0;
	p->value = r->level[i];
	p->ts_ms = NOW;
	p->window_ms = MINS;
}

static void test_replica_calculator(void)
{
	for (size_t k = 0; k < sizeof(calc_rows) / sizeof(calc_rows[0]); k++) {
		const struct calc_row *r = &calc_rows[k];
		struct hpa_pod pods[MAXP];
		for (int i = 0; i < r->npods; i++)
			pod_of(r, i, &pods[i]);
		struct hpa_metric m = {r->res, r->type, r->target};
		struct hpa_calc c;
		char why[256] = "";
		int rc = hpa_resource_replicas(&params, r->current, &m, pods, (size_t)r->npods, NOW,
					       &c, why, sizeof(why));
		bool ok = r->want < 0 ? rc < 0 && strstr(why, r->want_err)
				      : rc == 0 && c.replicas == r->want &&
					    (r->want_util <= 0 || c.utilization == r->want_util);
		printf("  %-58s %s (replicas %d util %d%s%s)\n", r->name, ok ? "ok" : "FAIL",
		       rc < 0 ? -1 : c.replicas, c.utilization, rc < 0 ? ": " : "",
		       rc < 0 ? why : "");
		CHECK(ok);
	}
}

/* Kubernetes' TestGroupPods, two rows: a ready pod's sample counts during
 * the CPU initialization period only once it covers a window since the pod
 * became ready. */
static void test_group_pods(void)
{
	struct hpa_pod p = {.has_ready = true,
			    .ready = true,
			    .start_ms = NOW - MINS,
			    .ready_ms = NOW - 30000,
			    .has_sample = true,
			    .ts_ms = NOW,
			    .window_ms = 30000,
			    .value = 1,
			    .request = 1};
	struct hpa_metric m = {HPA_CPU, HPA_UTILIZATION, 100};
	struct hpa_calc c;
	char why[256];
	/* "count in a ready pod with fresh metrics during initialization period - CPU" */
	CHECK(hpa_resource_replicas(&params, 1, &m, &p, 1, NOW, &c, why, sizeof(why)) == 0);
	/* "ignore a ready pod without fresh metrics during initialization period - CPU" */
	p.window_ms = MINS;
	CHECK(hpa_resource_replicas(&params, 1, &m, &p, 1, NOW, &c, why, sizeof(why)) < 0);
	/* "count in a ready pod - memory": readiness does not matter for memory */
	m.res = HPA_MEMORY;
	p.ready = false;
	CHECK(hpa_resource_replicas(&params, 1, &m, &p, 1, NOW, &c, why, sizeof(why)) == 0);
}

/* Several metrics (horizontal.go computeReplicasForMetrics). */
static void test_several_metrics(void)
{
	int32_t r = 0;
	/* TestScaleUpOneMetricEmpty: cpu proposes 4 over spec 3, the other fails: scale. */
	bool ok1[] = {true, false};
	int32_t p1[] = {4, 0};
	CHECK(hpa_combine(ok1, p1, 2, 3, &r) == 0 && r == 4);
	/* TestNoScaleDownOneMetricInvalid: cpu proposes 3 under spec 5, the other is
	 * invalid: no scale-down on partial information. */
	int32_t p2[] = {3, 0};
	CHECK(hpa_combine(ok1, p2, 2, 5, &r) < 0);
	/* the largest proposal wins (TestScaleUpTwoMetrics' rule) */
	bool ok3[] = {true, true};
	int32_t p3[] = {4, 6};
	CHECK(hpa_combine(ok3, p3, 2, 3, &r) == 1 && r == 6);
	bool ok4[] = {false, false};
	CHECK(hpa_combine(ok4, p3, 2, 3, &r) < 0);
}

/* Kubernetes' TestNormalizeDesiredReplicas (no behavior, 5 min window). */
static void test_normalize_plain(void)
{
	static const struct {
		const char *name;
		struct hpa_rec recs[4];
		size_t nrecs;
		int32_t desired, want;
		size_t want_len;
	} rows[] = {
	    {"empty log", {{0, 0}}, 0, 5, 5, 1},
	    {"stabilize", {{4, NOW - 2 * MINS}, {5, NOW - MINS}}, 2, 3, 5, 3},
	    {"no stabilize", {{1, NOW - 2 * MINS}, {2, NOW - MINS}}, 2, 3, 3, 3},
	    {"no stabilize - old recommendations",
	     {{10, NOW - 10 * MINS}, {9, NOW - 9 * MINS}},
	     2,
	     3,
	     3,
	     2},
	    {"stabilize - old recommendations",
	     {{10, NOW - 10 * MINS}, {4, NOW - MINS}, {5, NOW - 2 * MINS}, {9, NOW - 9 * MINS}},
	     4,
	     3,
	     5,
	     4},
	};
	for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
		struct hpa_state s = {0};
		s.recs = calloc(8, sizeof(*s.recs));
		s.caprecs = 8;
		memcpy(s.recs, rows[k].recs, sizeof(rows[k].recs));
		s.nrecs = rows[k].nrecs;
		struct hpa_norm n;
		hpa_normalize(&s, NULL, 5 * MINS, 10, rows[k].desired, 1, 20, NOW, &n);
		bool ok = n.replicas == rows[k].want && s.nrecs == rows[k].want_len;
		printf("  TestNormalizeDesiredReplicas %-40s %s\n", rows[k].name,
		       ok ? "ok" : "FAIL");
		CHECK(ok);
		if (rows[k].want != rows[k].desired)
			CHECK(!strcmp(n.able_reason, "ScaleDownStabilized"));
		hpa_state_clear(&s);
	}
	/* TestUpscaleCap's rule: without behavior, at most max(2 x current, 4). */
	struct hpa_state s = {0};
	struct hpa_norm n;
	hpa_normalize(&s, NULL, 5 * MINS, 3, 100, 1, 100, NOW, &n);
	CHECK(n.replicas == 6 && n.limited && !strcmp(n.limit_reason, "ScaleUpLimit"));
	hpa_normalize(&s, NULL, 5 * MINS, 1, 100, 1, 100, NOW, &n);
	CHECK(n.replicas == 4);
	hpa_normalize(&s, NULL, 0, 5, 1, 2, 10, NOW + 1, &n);
	CHECK(n.replicas == 2 && !strcmp(n.limit_reason, "TooFewReplicas"));
	hpa_normalize(&s, NULL, 0, 5, 15, 2, 8, NOW + 2, &n);
	CHECK(n.replicas == 8 && !strcmp(n.limit_reason, "TooManyReplicas"));
	hpa_state_clear(&s);
}

int main(void)
{
	RUN(test_replica_calculator);
	RUN(test_group_pods);
	RUN(test_several_metrics);
	RUN(test_normalize_plain);
	return unit_done();
}
