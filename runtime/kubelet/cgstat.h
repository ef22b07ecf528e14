/*
 * cgstat.h - what a cgroup has used, read from its files: the sampling
 * half of the node agent's resource metrics (agent_metrics.c), kept pure
 * (a root directory and a path in, numbers out) so that fixtures in a
 * temporary directory test it.
 *
 *     $ cat /sys/fs/cgroup/cpuacct/clusterfs/pod9f1c.../9f1c...-app-0/cpuacct.usage   (v1)
 *     5123456789
 *     $ grep usage_usec /sys/fs/cgroup/clusterfs/pod9f1c.../9f1c...-app-0/cpu.stat    (v2)
 *     usage_usec 5123456
 *
 * CPU is the cumulative time the cgroup ran (ns), made a rate between two
 * samples (cgstat_rate); memory is the working set, as the kubelet and
 * cAdvisor have it: usage less the inactive file cache (v1
 * memory.usage_in_bytes less memory.stat's total_inactive_file; v2
 * memory.current less inactive_file), never below zero.
 *
 * No state; thread-safe.
 */
#ifndef CFS_CGSTAT_H
#define CFS_CGSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cg_sample {
	int64_t cpu_ns;	   /* cumulative CPU time */
	int64_t mem_bytes; /* working set */
};

/* Is the cgroup filesystem at root ("/sys/fs/cgroup") v2 (unified)? */
bool cgstat_is_v2(const char *root);

/*
 * The usage of cgroup cg ("/clusterfs/podUID/ID", below each hierarchy's
 * root) under root: v1 reads ROOT/cpuacct/CG (or ROOT/cpu,cpuacct/CG) and
 * ROOT/memory/CG; v2 reads ROOT/CG.  0, or a negative errno (-ENOENT: no
 * such cgroup, the container is gone).
 */
int cgstat_read(const char *root, bool v2, const char *cg, struct cg_sample *out);

/* The child cgroups of cg (the directories in its CPU hierarchy), as new
 * strings in *out (free each and the array).  Their count, 0 when cg does
 * not exist. */
size_t cgstat_children(const char *root, bool v2, const char *cg, char ***out);

/* Nanocores used between two cumulative samples dt_ns apart: 1e9 is one
 * core busy for the whole window.  0 when dt_ns <= 0 or the counter went
 * back (a new cgroup of the same name). */
int64_t cgstat_rate(int64_t prev_ns, int64_t cur_ns, int64_t dt_ns);

/*
 * The machine, as the node's own usage: CPU time busy on every CPU from
 * PROC/stat's "cpu" line (user, nice, system, irq, softirq, steal), in ns;
 * memory as MemTotal less MemAvailable from PROC/meminfo.  proc is
 * "/proc" (a fixture directory in tests).  0 or a negative errno.
 */
int cgstat_host(const char *proc, struct cg_sample *out);

/* The container name of a container cgroup's directory name
 * "UIDPREFIX-NAME-ATTEMPT" (UIDPREFIX: the first CGSTAT_UID_PREFIX
 * characters of the pod's uid, as pod.c names runc containers) into out
 * (size bytes): 0, or -EINVAL when it is not of that shape. */
#define CGSTAT_UID_PREFIX 12
int cgstat_ctr_name(const char *dir, const char *uid, char *out, size_t size);

#endif
