/*
 * hpactl.h - the HorizontalPodAutoscaler controller: scales a Deployment
 * or ReplicaSet to keep its pods' CPU or memory at a target, with
 * Kubernetes' algorithm (hpa_algo.h).
 *
 *     $ kubectl autoscale deployment web --cpu-percent=50 --min=1 --max=4
 *     $ cat /cluster/events | grep SuccessfulRescale
 *     ... Normal SuccessfulRescale HorizontalPodAutoscaler/web New size: 4; reason:
 *         cpu resource utilization (percentage of request) above target
 *
 * Every HPA is synced once per sync period and when its spec changes
 * (metadata.generation passes status.observedGeneration).  A sync reads
 * the target's scale (spec.replicas, spec.selector), its pods and each
 * pod's latest usage sample, computes the desired replicas, writes the
 * target's spec.replicas when they differ (so a manual `echo 2 > replicas`
 * is corrected at the next sync, as in Kubernetes), and writes the HPA's
 * status only when it changed.  Events: SuccessfulRescale, FailedRescale,
 * FailedGetScale, FailedGetResourceMetric, FailedComputeMetricsReplicas.
 *
 * State: per HPA, the recommendations of the stabilization windows and the
 * scale events the policies count, in memory (as Kubernetes keeps them),
 * dropped when the HPA is deleted or replaced.  A new leader starts empty.
 *
 * Cost: the worker thread's CPU time per sync is counted (hpactl_stats);
 * with CFS_HPA_STATS_MS=N in the environment it is also logged every N ms
 * ("hpa stats: ..."), for tests/bench/bench_hpa.sh.
 *
 * Threads: one worker syncs (the work queue's), the informer thread only
 * enqueues.  hpactl_start/stop from the leading unit.
 */
#ifndef CFS_HPACTL_H
#define CFS_HPACTL_H

#include <stdint.h>

#include "engine/api/api.h"
#include "engine/api/api_metrics.h"

/* A metrics source: a pod's latest sample, 0 or -ENOENT (api_pod_usage's contract). */
typedef int (*hpactl_usage_fn)(void *arg, struct api *a, const char *ns, const char *name,
			       struct api_pod_usage *out);

/* Zero fields take Kubernetes' defaults; an explicit zero is stored as -1
 * (hpactl_opts_add does). */
struct hpactl_opts {
	int64_t sync_ms;	    /* 0: 15 s */
	double tolerance;	    /* 0: 0.1 */
	int64_t downscale_ms;	    /* 0: 5 min (behavior without a scale-down window) */
	int64_t cpu_init_ms;	    /* 0: 5 min */
	int64_t readiness_delay_ms; /* 0: 30 s */
	hpactl_usage_fn usage;	    /* NULL: api_pod_usage */
	void *usage_arg;
};

/* kube-controller-manager's flags, for main.c's getopt_long table. */
#define HPACTL_OPT_FIRST 0x140
#define HPACTL_LONGOPTS                                                                            \
	{"horizontal-pod-autoscaler-sync-period", required_argument, NULL, 0x140},                 \
	    {"horizontal-pod-autoscaler-tolerance", required_argument, NULL, 0x141},               \
	    {"horizontal-pod-autoscaler-downscale-stabilization", required_argument, NULL, 0x142}, \
	    {"horizontal-pod-autoscaler-cpu-initialization-period", required_argument, NULL,       \
	     0x143},                                                                               \
	{                                                                                          \
		"horizontal-pod-autoscaler-initial-readiness-delay", required_argument, NULL,      \
		    0x144                                                                          \
	}

#define HPACTL_USAGE                                                                               \
	"  --horizontal-pod-autoscaler-sync-period D\n"                                            \
	"                   how often each HorizontalPodAutoscaler is synced (15s)\n"              \
	"  --horizontal-pod-autoscaler-tolerance R\n"                                              \
	"                   the usage ratio's distance from 1 that moves nothing (0.1)\n"          \
	"  --horizontal-pod-autoscaler-downscale-stabilization D\n"                                \
	"                   scale-down window of HPAs without behavior (5m0s)\n"                   \
	"  --horizontal-pod-autoscaler-cpu-initialization-period D\n"                              \
	"                   how long after its start a pod's CPU sample may be skipped (5m0s)\n"   \
	"  --horizontal-pod-autoscaler-initial-readiness-delay D\n"                                \
	"                   how long after its start a pod's readiness may still change (30s)\n"

/* Takes getopt's opt and its argument when it is one of HPACTL_LONGOPTS:
 * 1 (taken), 0 (not ours), -1 (bad value; the reason is printed).
 * Durations as Kubernetes writes them: "15s", "5m0s", "300ms", "1h". */
int hpactl_opts_add(struct hpactl_opts *o, int opt, const char *arg);

struct hpactl;

int hpactl_start(struct api *a, const struct hpactl_opts *o, struct hpactl **out, struct err **e);
/* Stops the controller (after the sync in progress) and frees its state.  NULL is fine. */
void hpactl_stop(struct hpactl *h);

/* Syncs done, the time they took (thread CPU, ns), and the HPAs with state. */
struct hpactl_stats {
	uint64_t syncs;
	uint64_t cpu_ns;
	uint64_t hpas;
};
void hpactl_stats(struct hpactl *h, struct hpactl_stats *out);

/* Parses a Go-style duration into ms: 0 or -1. */
int hpactl_duration(const char *s, int64_t *ms);

#endif
