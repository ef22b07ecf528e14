/*
 * hollow_usage.h - the synthetic load hollow nodes report (hollow.h), so
 * that metrics and autoscaling can be exercised at scale.
 *
 *     $ kubectl create configmap hollow-usage --from-literal=web=cpu=400m,memory=64Mi
 *     $ kubectl top pods -l app=web          # every hollow web pod: 400m, 64Mi
 *
 * Each hollow pod that runs reports, every period, the usage its
 * namespace's ConfigMap hollow-usage gives for the value of its `app`
 * label, else for the key `default`; with neither, cpu 1m and memory
 * 1Mi.  A value is "cpu=Q,memory=Q" (Kubernetes quantities; either may be
 * left out: it keeps the fallback's).  One report per node per period,
 * built from one list of the pods and one of the ConfigMaps: 1,000 nodes
 * of 30 pods cost two lists and 1,000 in-memory reports a period.
 *
 * One thread; the owner (hollow.c) starts and stops it.
 */
#ifndef CFS_HOLLOW_USAGE_H
#define CFS_HOLLOW_USAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/api/api_metrics.h"
#include "engine/client/apic.h"

#define HOLLOW_USAGE_CONFIGMAP "hollow-usage"

/* The report period: CFS_METRICS_PERIOD_MS when set (> 0), else 10 s. */
int64_t hollow_usage_period_ms(void);

/* Parses "cpu=200m,memory=50Mi" over *u (fields absent stay).  0 or -EINVAL. */
int hollow_usage_parse(const char *s, struct api_usage *u);

/* Is node one of the caller's hollow nodes, alive?  Called from the usage thread. */
typedef bool (*hollow_owns_fn)(void *arg, const char *node);

/*
 * One pass, what the thread does each period: lists the pods and the
 * hollow-usage ConfigMaps, and sends each node that owns() running pods
 * one report (window period_ms).  Returns the count of reports sent
 * (failures are logged at debug level), or a negative errno when the
 * pods could not be listed.  Nodes that owns() with no running pod (their
 * Node objects listed) send an empty report: usage 0.
 */
int hollow_usage_report_once(struct apic *c, hollow_owns_fn owns, void *arg, int64_t period_ms);

struct hollow_usage;

/* Starts the reporting thread on c (borrowed).  NULL if it could not start (logged). */
struct hollow_usage *hollow_usage_start(struct apic *c, hollow_owns_fn owns, void *arg);

/* Stops and frees it.  NULL is fine. */
void hollow_usage_stop(struct hollow_usage *u);

#endif
