/*
 * podtrace.h - a per-step trace of pod starts, for the benchmark.
 *
 *     $ CFS_POD_TRACE=1 clusterfs server ...         # DATA_DIR/podtrace.log
 *     $ CFS_POD_TRACE=/tmp/t.log clusterfs server ...
 *     $ cat /var/lib/clusterfs/podtrace.log
 *     81234567890 default/web-5d4f-abcde seen
 *     81234571022 default/web-5d4f-abcde sync
 *     ...
 *
 * One line per step of a pod's start: CLOCK_MONOTONIC in microseconds
 * (Python's time.monotonic() reads the same clock), the pod's
 * NAMESPACE/NAME and the step.  The steps, in order: seen (the agent's
 * informer hands it a pod bound to the node), sync (a worker starts the
 * pod's first pass), got (the pod read from the API), pause (the sandbox
 * process runs: netns, ipc, uts), cni (the network is plugged in), bundle
 * (rootfs mounted and config.json written), create (runc create
 * returned), start (runc start returned), posted (the status that says
 * Running is committed).  tests/bench/bench_runtime.sh prints the median
 * of each step over the pods of a run.
 *
 * Off (one load and a branch per call) unless CFS_POD_TRACE is set when
 * podtrace_open runs.  Lines are written with one write(2) each on an
 * O_APPEND file, so threads never interleave within a line.
 */
#ifndef CFS_PODTRACE_H
#define CFS_PODTRACE_H

#include <stdbool.h>

/* Reads CFS_POD_TRACE: "1" traces to DATA_DIR/podtrace.log, a path to
 * that path; unset or "0": off.  Call once, before the agent's threads. */
void podtrace_open(const char *data_dir);
void podtrace_close(void);
bool podtrace_on(void);
/* One line: now, ns/name, step.  Nothing when off. */
void podtrace(const char *ns, const char *name, const char *step);

#endif
