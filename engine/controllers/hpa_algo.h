/*
 * hpa_algo.h - the HorizontalPodAutoscaler's arithmetic, as Kubernetes'
 * pkg/controller/podautoscaler has it (replica_calculator.go and the
 * normalization of horizontal.go), with no I/O: the controller (hpactl.c)
 * reads the objects and the samples and hands them in, the unit table
 * (tests/unit/test_hpa_algo.c) hands in Kubernetes' own cases.
 *
 *     struct hpa_calc c;
 *     hpa_resource_replicas(&params, 3, &spec, pods, 3, now_ms, &c, why, sizeof(why));
 *     // c.replicas == 5 for usage 300m/500m/700m of 1-core requests, target 30 %
 *
 * Units: every value is a milli-value (Kubernetes' MilliValue): CPU in
 * millicores, memory in thousandths of a byte.  Times are wall-clock
 * milliseconds, passed in (now_ms), so a test controls the clock.
 *
 * State kept between syncs (struct hpa_state: the recommendations of the
 * stabilization windows and the scale events the policies count) belongs
 * to one HPA; the caller keeps one per HPA and serializes its use.
 * Nothing here takes a lock or allocates except the state's arrays.
 */
#ifndef CFS_HPA_ALGO_H
#define CFS_HPA_ALGO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Kubernetes' defaults (kube-controller-manager flags). */
#define HPA_DEFAULT_TOLERANCE	 0.1
#define HPA_DEFAULT_SYNC_MS	 15000
#define HPA_DEFAULT_DOWNSCALE_MS 300000 /* --horizontal-pod-autoscaler-downscale-stabilization */
#define HPA_DEFAULT_CPU_INIT_MS	 300000 /* --horizontal-pod-autoscaler-cpu-initialization-period */
#define HPA_DEFAULT_READINESS_DELAY_MS                                                             \
	30000 /* --horizontal-pod-autoscaler-initial-readiness-delay */

struct hpa_params {
	double tolerance;
	int64_t cpu_init_ms;
	int64_t readiness_delay_ms;
};

/* One pod of the target, as the replica calculator sees it. */
struct hpa_pod {
	bool deleted;	  /* metadata.deletionTimestamp set */
	bool failed;	  /* phase Failed */
	bool pending;	  /* phase Pending */
	bool has_ready;	  /* a Ready condition exists (and status.startTime) */
	bool ready;	  /* its status is True */
	int64_t ready_ms; /* its lastTransitionTime */
	int64_t start_ms; /* status.startTime */
	bool has_sample;  /* a usage sample of this pod exists */
	int64_t ts_ms;	  /* the sample's end */
	int64_t window_ms;
	int64_t value;	 /* the sample: milli-value */
	int64_t request; /* the pod's request of the resource (sum of containers); < 0: a
			    container has none */
};

enum hpa_resource { HPA_CPU, HPA_MEMORY };
enum hpa_target { HPA_UTILIZATION, HPA_AVERAGE_VALUE };

/* A Resource metric of spec.metrics. */
struct hpa_metric {
	enum hpa_resource res;
	enum hpa_target type;
	int64_t target; /* percent (Utilization) or milli-value (AverageValue) */
};

/* What one metric proposes. */
struct hpa_calc {
	int32_t replicas;
	int32_t utilization; /* percent of requests (Utilization) */
	int64_t average;     /* the average usage per pod, milli-value */
};

const char *hpa_resource_name(enum hpa_resource r); /* "cpu", "memory" */

/*
 * Kubernetes' GetResourceReplicas (Utilization) or GetRawResourceReplicas
 * (AverageValue) for current replicas over pods.  0 and *out, or -1 with
 * why (Kubernetes' words: "missing request for cpu", "did not receive
 * metrics for targeted pods (pods might be unready)", ...).
 */
int hpa_resource_replicas(const struct hpa_params *p, int32_t current, const struct hpa_metric *m,
			  const struct hpa_pod *pods, size_t n, int64_t now_ms,
			  struct hpa_calc *out, char *why, size_t whylen);

/*
 * Several metrics: the largest proposal wins.  ok[i] false marks a metric
 * that failed.  Returns the index of the winning metric (its proposal in
 * *replicas), or -1 when every metric failed or when some failed and the
 * others propose fewer than spec_replicas (Kubernetes does not scale down
 * on partial information).
 */
int hpa_combine(const bool *ok, const int32_t *proposals, size_t n, int32_t spec_replicas,
		int32_t *replicas);

/* behavior */

enum hpa_select { HPA_SELECT_MAX, HPA_SELECT_MIN, HPA_SELECT_DISABLED };
#define HPA_MAX_POLICIES 10

struct hpa_policy {
	bool percent; /* type Percent; else Pods */
	int32_t value;
	int32_t period_s;
};

struct hpa_rules {
	int32_t window_s; /* stabilizationWindowSeconds; < 0: unset (scale-down: the flag's) */
	enum hpa_select select;
	struct hpa_policy pol[HPA_MAX_POLICIES];
	int npol;
};

struct hpa_behavior {
	struct hpa_rules up, down;
};

/* Kubernetes' defaults for a behavior's missing halves (GenerateHPAScaleUpRules
 * / ...DownRules): up: window 0, Max of 4 pods and 100 % per 15 s; down:
 * window unset, Max of 100 % per 15 s. */
void hpa_rules_default_up(struct hpa_rules *r);
void hpa_rules_default_down(struct hpa_rules *r);

/* The history of one HPA. */
struct hpa_rec {
	int32_t replicas;
	int64_t ts_ms;
};
struct hpa_scale_event {
	int32_t change;
	int64_t ts_ms;
	bool outdated;
};
struct hpa_state {
	struct hpa_rec *recs;
	size_t nrecs, caprecs;
	struct hpa_scale_event *ev[2]; /* 0: scale-up events, 1: scale-down */
	size_t nev[2], capev[2];
};

void hpa_state_clear(struct hpa_state *s); /* frees the arrays; s reusable */
/* Kubernetes' recordInitialRecommendation: the first sync remembers current. */
void hpa_record_initial(struct hpa_state *s, int32_t current, int64_t now_ms);

/* The outcome of normalization: the replicas and the two conditions it sets. */
struct hpa_norm {
	int32_t replicas;
	const char *able_reason; /* AbleToScale (True): ScaleDownStabilized, ScaleUpStabilized,
				    ReadyForNewScale */
	const char *able_msg;
	bool limited;		  /* ScalingLimited's status */
	const char *limit_reason; /* TooFewReplicas, TooManyReplicas, ScaleUpLimit,
				     ScaleDownLimit, DesiredWithinRange */
	const char *limit_msg;
};

/*
 * Kubernetes' normalizeDesiredReplicas (b NULL: the downscale window
 * down_ms, min/max and the scale-up limit max(2 x current, 4)) or
 * normalizeDesiredReplicasWithBehaviors (b: its stabilization windows and
 * policies; a scale-down window < 0 takes down_ms).  Records desired in
 * the recommendations.  Can't fail.
 */
void hpa_normalize(struct hpa_state *s, const struct hpa_behavior *b, int64_t down_ms,
		   int32_t current, int32_t desired, int32_t min, int32_t max, int64_t now_ms,
		   struct hpa_norm *out);

/* The parts, for the table: stabilization with behavior, and the rate limits. */
int32_t hpa_stabilize(struct hpa_state *s, const struct hpa_behavior *b, int64_t down_ms,
		      int32_t current, int32_t desired, int64_t now_ms, const char **reason,
		      const char **msg);
int32_t hpa_limit_rate(const struct hpa_state *s, const struct hpa_behavior *b, int32_t current,
		       int32_t desired, int32_t min, int32_t max, int64_t now_ms,
		       const char **reason, const char **msg);

/* Kubernetes' storeScaleEvent: with a behavior, remembers a rescale from
 * prev to next for the policies' periods (reusing an outdated slot). */
void hpa_store_scale_event(struct hpa_state *s, const struct hpa_behavior *b, int32_t prev,
			   int32_t next, int64_t now_ms);

#endif
