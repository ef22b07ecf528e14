/*
 * api_metrics.h - resource usage of pods and nodes, as the node agents
 * measure it: the API layer's side of metrics.k8s.io.
 *
 * Like metrics-server, the server keeps only the latest sample of each
 * pod and node, in memory, never in the store: usage is a measurement,
 * not desired state, and a restarted server has it again within one
 * report period.  Agents (and hollow nodes) report; the faces (the
 * filesystem's usage files and /cluster/top, the HTTP API's
 * metrics.k8s.io/v1beta1) and the HorizontalPodAutoscaler controller
 * read.  Every rule (who may report what, how old a sample may be before
 * it is dropped) lives here once.
 *
 * Units are metrics-server's: CPU in nanocores, as a rate over the
 * sample's window; memory as the working set in bytes (usage less the
 * inactive file cache), as the kubelet's resource metrics have them.
 *
 * Thread-safe.
 */
#ifndef CFS_API_METRICS_H
#define CFS_API_METRICS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"

struct api;

struct api_usage {
	int64_t cpu_nano;  /* nanocores: 1e9 is one core busy for the whole window */
	int64_t mem_bytes; /* working set */
};

/* One pod's latest sample: the sum of its containers. */
struct api_pod_usage {
	int64_t ts_ms;	   /* wall-clock ms at the end of the window */
	int32_t window_ms; /* what the CPU rate was measured over */
	struct api_usage total;
};

/*
 * A node's report of itself and of the pods it runs, as JSON:
 *
 *   {"node":  {"timestamp": "RFC3339", "window": "10s",
 *              "usage": {"cpu": "250m", "memory": "120Mi"}},
 *    "pods": [{"namespace": "default", "name": "web-1", "uid": "...",
 *              "timestamp": "...", "window": "10s",
 *              "containers": [{"name": "app",
 *                              "usage": {"cpu": "1234567n", "memory": "5Mi"}}]}]}
 *
 * Quantities as Kubernetes writes them; "node" and a pod's "uid" may be
 * left out (a sample with a uid is not shown for another pod of the same
 * name).  A node may report only itself and
 * pods bound to it (api_as callers; the root api may report anything).
 * A report replaces what that node reported before: its pods that are not
 * in it are dropped.  0, or -EINVAL (malformed) / -EPERM with *e.
 */
int api_metrics_report(struct api *a, const char *node, const json_t *report, struct err **e);

/* The latest sample of a pod: 0, or -ENOENT when there is none (never
 * reported, older than the expiry, or the pod is gone). */
int api_pod_usage(struct api *a, const char *ns, const char *name, struct api_pod_usage *out);

/*
 * metrics.k8s.io/v1beta1 objects, for the faces: 0 and *out (a new
 * PodMetrics / NodeMetrics, the caller's), or -ENOENT.  The lists return
 * a new JSON array of them (ns NULL: every namespace; selector: a label
 * selector in api_list's syntax, NULL: all), or NULL with *e.
 */
int api_pod_metrics(struct api *a, const char *ns, const char *name, json_t **out);
int api_node_metrics(struct api *a, const char *name, json_t **out);
json_t *api_pod_metrics_list(struct api *a, const char *ns, const char *selector, struct err **e);
json_t *api_node_metrics_list(struct api *a, const char *selector, struct err **e);

/*
 * Quantities, as metrics.k8s.io writes them, for the reporters and the
 * faces.  api_cpu_parse: "1234567n", "5u", "250m", "1.5" into nanocores;
 * api_mem_parse: "5Mi", "1234Ki", "1G", "100" into bytes; 0 or -EINVAL.
 * api_usage_parse: a usage object {"cpu": Q, "memory": Q}; 0 or -EINVAL.
 * api_usage_json: a new usage object, cpu "NNNn", memory "NNNKi" (plain
 * bytes when not a whole number of KiB).  api_window_format: a window as
 * Go writes a duration ("10s", "1.5s", "500ms").
 */
int api_cpu_parse(const char *s, int64_t *nano);
int api_mem_parse(const char *s, int64_t *bytes);
int api_usage_parse(const json_t *usage, struct api_usage *out);
json_t *api_usage_json(const struct api_usage *u);
void api_window_format(int32_t ms, char out[24]);

#endif
