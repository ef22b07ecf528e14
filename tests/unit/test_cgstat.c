/*
 * test_cgstat.c - reading cgroup usage (runtime/kubelet/cgstat.c) from
 * fixtures in a temporary directory: cgroup v1 (cpuacct alone and
 * cpu,cpuacct), v2, the working set, the children of a pod's cgroup, the
 * machine from /proc files, container names, and the rate arithmetic.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/mem.h"
#include "runtime/kubelet/cgstat.h"
#include "tests/unit/unit.h"

static char root[] = "/tmp/cfs-test-cgstat.XXXXXX";

static void put(const char *rel, const char *text)
{
	char *path = xasprintf("%s/%s", root, rel);
	char *cmd = xasprintf("mkdir -p \"$(dirname %s)\"", path);
	CHECK(system(cmd) == 0);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	free(cmd);
	free(path);
}

static void test_v1(void)
{
	put("cpuacct/cfs/podU/abc-app-0/cpuacct.usage", "5123456789\n");
	put("memory/cfs/podU/abc-app-0/memory.usage_in_bytes", "10485760\n");
	put("memory/cfs/podU/abc-app-0/memory.stat",
	    "cache 4096\nrss 8192\ninactive_file 999\ntotal_cache 4096\n"
	    "total_inactive_file 2097152\n");
	struct cg_sample s;
	CHECK(!cgstat_is_v2(root));
	CHECK(cgstat_read(root, false, "/cfs/podU/abc-app-0", &s) == 0);
	CHECK(s.cpu_ns == 5123456789LL);
	CHECK(s.mem_bytes == 10485760 - 2097152); /* total_, not the local inactive_file */
	CHECK(cgstat_read(root, false, "/cfs/podU/gone", &s) == -ENOENT);
}

/* cpu and cpuacct mounted together, and more inactive cache than usage. */
static void test_v1_joint(void)
{
	put("cpu,cpuacct/j/c/cpuacct.usage", "42\n");
	put("memory/j/c/memory.usage_in_bytes", "1000\n");
	put("memory/j/c/memory.stat", "total_inactive_file 5000\n");
	struct cg_sample s;
	CHECK(cgstat_read(root, false, "/j/c", &s) == 0);
	CHECK(s.cpu_ns == 42 && s.mem_bytes == 0);
}

static void test_v2(void)
{
	char *v2 = xasprintf("%s/v2", root);
	put("v2/cgroup.controllers", "cpu memory pids\n");
	put("v2/cfs/podU/abc-web-1/cpu.stat", "usage_usec 2500000\nuser_usec 2000000\n"
					      "system_usec 500000\n");
	put("v2/cfs/podU/abc-web-1/memory.current", "8388608\n");
	put("v2/cfs/podU/abc-web-1/memory.stat", "anon 4096\nfile 8192\nactive_file 10\n"
						 "inactive_file 1048576\n");
	struct cg_sample s;
	CHECK(cgstat_is_v2(v2));
	CHECK(cgstat_read(v2, true, "/cfs/podU/abc-web-1", &s) == 0);
	CHECK(s.cpu_ns == 2500000000LL);
	CHECK(s.mem_bytes == 8388608 - 1048576);
	char **kids;
	size_t n = cgstat_children(v2, true, "/cfs/podU", &kids);
	CHECK(n == 1 && !strcmp(kids[0], "abc-web-1"));
	for (size_t i = 0; i < n; i++)
		free(kids[i]);
	free(kids);
	CHECK(cgstat_children(v2, true, "/cfs/podNone", &kids) == 0 && !kids);
	free(v2);
}

static void test_children_v1(void)
{
	put("cpuacct/cfs/podU/abc-side-0/cpuacct.usage", "1\n");
	char **kids;
	size_t n = cgstat_children(root, false, "/cfs/podU", &kids);
	CHECK(n == 2);
	bool app = false, side = false;
	for (size_t i = 0; i < n; i++) {
		app |= !strcmp(kids[i], "abc-app-0");
		side |= !strcmp(kids[i], "abc-side-0");
		free(kids[i]);
	}
	free(kids);
	CHECK(app && side);
}

static void test_ctr_name(void)
{
	char name[64];
	const char *uid = "9f1c2e3d-887a-4b5c-9d0e-123456789abc";
	/* the uid's first 12 characters hold a '-' of their own */
	CHECK(cgstat_ctr_name("9f1c2e3d-887-app-0", uid, name, sizeof(name)) == 0 &&
	      !strcmp(name, "app"));
	CHECK(cgstat_ctr_name("9f1c2e3d-887-my-side-car-12", uid, name, sizeof(name)) == 0 &&
	      !strcmp(name, "my-side-car"));
	CHECK(cgstat_ctr_name("short-app-1", "short", name, sizeof(name)) == 0 &&
	      !strcmp(name, "app"));
	CHECK(cgstat_ctr_name("nodash", uid, name, sizeof(name)) == -EINVAL);
	CHECK(cgstat_ctr_name("0123456789ab-app-0", uid, name, sizeof(name)) == -EINVAL);
	CHECK(cgstat_ctr_name("9f1c2e3d-887-app-x", uid, name, sizeof(name)) == -EINVAL);
	CHECK(cgstat_ctr_name("9f1c2e3d-887--0", uid, name, sizeof(name)) == -EINVAL);
	CHECK(cgstat_ctr_name("9f1c2e3d-887-0", uid, name, sizeof(name)) == -EINVAL);
	CHECK(cgstat_ctr_name("9f1c2e3d-887-averylongname-0", uid, name, 5) == -EINVAL);
}

static void test_rate(void)
{
	/* half a core over 10 s */
	CHECK(cgstat_rate(1000000000LL, 6000000000LL, 10000000000LL) == 500000000);
	/* two cores busy for 30 s: no overflow */
	CHECK(cgstat_rate(0, 60000000000LL, 30000000000LL) == 2000000000);
	/* a day of CPU on 64 cores in one window */
	CHECK(cgstat_rate(0, 64LL * 86400 * 1000000000, 86400LL * 1000000000) == 64000000000LL);
	CHECK(cgstat_rate(5, 4, 1000) == 0); /* counter went back */
	CHECK(cgstat_rate(0, 100, 0) == 0);  /* no time passed */
	CHECK(cgstat_rate(0, 100, -5) == 0);
	CHECK(cgstat_rate(7, 7, 1000000000) == 0);
}

static void test_host(void)
{
	put("proc/stat", "cpu  100 20 30 4000 50 6 7 8 0 0\ncpu0 50 10 15 2000 25 3 3 4 0 0\n"
			 "intr 1 2 3\n");
	put("proc/meminfo", "MemTotal:       16000000 kB\nMemFree:         1000000 kB\n"
			    "MemAvailable:   12000000 kB\nHugePages_Total:       0\n");
	char *proc = xasprintf("%s/proc", root);
	struct cg_sample s;
	CHECK(cgstat_host(proc, &s) == 0);
	long hz = sysconf(_SC_CLK_TCK);
	/* user nice system irq softirq steal; not idle nor iowait */
	CHECK(s.cpu_ns == (100 + 20 + 30 + 6 + 7 + 8) * (1000000000LL / hz));
	CHECK(s.mem_bytes == 4000000LL * 1024);
	put("proc/meminfo", "MemTotal: 10 kB\n");
	CHECK(cgstat_host(proc, &s) == -EINVAL);
	free(proc);
	CHECK(cgstat_host("/nonexistent", &s) == -ENOENT);
	/* and the real machine answers */
	CHECK(cgstat_host("/proc", &s) == 0 && s.cpu_ns > 0 && s.mem_bytes > 0);
}

int main(void)
{
	if (!mkdtemp(root)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_v1);
	RUN(test_v1_joint);
	RUN(test_v2);
	RUN(test_children_v1);
	RUN(test_ctr_name);
	RUN(test_rate);
	RUN(test_host);
	char *cmd = xasprintf("rm -rf %s", root);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", root);
	free(cmd);
	return unit_done();
}
