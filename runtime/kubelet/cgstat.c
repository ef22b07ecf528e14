/*
 * cgstat.c - reading what a cgroup used (see cgstat.h).
 */
#include "runtime/kubelet/cgstat.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/mem.h"

bool cgstat_is_v2(const char *root)
{
	_cleanup_free_ char *p = xasprintf("%s/cgroup.controllers", root);
	return access(p, F_OK) == 0;
}

/* The first number in file path: 0, or a negative errno. */
static int read_num(const char *path, int64_t *out)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	long long v;
	int n = fscanf(f, "%lld", &v);
	fclose(f);
	if (n != 1)
		return -EINVAL;
	*out = v;
	return 0;
}

/* The value of "key N" in a flat-keyed file (memory.stat, cpu.stat): 0, or
 * -ENOENT when the key (or the file) is missing. */
static int read_key(const char *path, const char *key, int64_t *out)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	char k[128];
	long long v;
	int r = -ENOENT;
	while (fscanf(f, "%127s %lld", k, &v) == 2)
		if (!strcmp(k, key)) {
			*out = v;
			r = 0;
			break;
		}
	fclose(f);
	return r;
}

/* Usage less the inactive file cache, at least 0. */
static int64_t working_set(int64_t usage, int64_t inactive)
{
	return usage > inactive ? usage - inactive : 0;
}

/* The v1 CPU hierarchy's directory: cpuacct alone, or mounted with cpu. */
static char *v1_cpu_dir(const char *root, const char *cg)
{
	char *p = xasprintf("%s/cpuacct%s", root, cg);
	if (access(p, F_OK) == 0)
		return p;
	free(p);
	return xasprintf("%s/cpu,cpuacct%s", root, cg);
}

static int read_v1(const char *root, const char *cg, struct cg_sample *out)
{
	_cleanup_free_ char *cpu = v1_cpu_dir(root, cg);
	_cleanup_free_ char *usage = xasprintf("%s/cpuacct.usage", cpu);
	_cleanup_free_ char *mem = xasprintf("%s/memory%s/memory.usage_in_bytes", root, cg);
	_cleanup_free_ char *stat = xasprintf("%s/memory%s/memory.stat", root, cg);
	int64_t m, inactive = 0;
	int r = read_num(usage, &out->cpu_ns);
	if (r == 0)
		r = read_num(mem, &m);
	if (r < 0)
		return r;
	read_key(stat, "total_inactive_file", &inactive);
	out->mem_bytes = working_set(m, inactive);
	return 0;
}

static int read_v2(const char *root, const char *cg, struct cg_sample *out)
{
	_cleanup_free_ char *cpu = xasprintf("%s%s/cpu.stat", root, cg);
	_cleanup_free_ char *mem = xasprintf("%s%s/memory.current", root, cg);
	_cleanup_free_ char *stat = xasprintf("%s%s/memory.stat", root, cg);
	int64_t usec, m, inactive = 0;
	int r = read_key(cpu, "usage_usec", &usec);
	if (r == 0)
		r = read_num(mem, &m);
	if (r < 0)
		return r;
	read_key(stat, "inactive_file", &inactive);
	out->cpu_ns = usec * 1000;
	out->mem_bytes = working_set(m, inactive);
	return 0;
}

int cgstat_read(const char *root, bool v2, const char *cg, struct cg_sample *out)
{
	*out = (struct cg_sample){0};
	return v2 ? read_v2(root, cg, out) : read_v1(root, cg, out);
}

size_t cgstat_children(const char *root, bool v2, const char *cg, char ***out)
{
	*out = NULL;
	_cleanup_free_ char *dir = v2 ? xasprintf("%s%s", root, cg) : v1_cpu_dir(root, cg);
	DIR *d = opendir(dir);
	if (!d)
		return 0;
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		*out = xrealloc(*out, (n + 1) * sizeof(char *));
		(*out)[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	return n;
}

int64_t cgstat_rate(int64_t prev_ns, int64_t cur_ns, int64_t dt_ns)
{
	if (dt_ns <= 0 || cur_ns < prev_ns)
		return 0;
	/* in two steps: (cur - prev) * 1e9 overflows past ~9 s of CPU */
	__int128 v = (__int128)(cur_ns - prev_ns) * 1000000000 / dt_ns;
	return (int64_t)v;
}

static int host_cpu(const char *proc, int64_t *busy_ns)
{
	_cleanup_free_ char *p = xasprintf("%s/stat", proc);
	FILE *f = fopen(p, "re");
	if (!f)
		return -errno;
	unsigned long long v[8] = {0};
	int n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		       &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n < 4)
		return -EINVAL;
	/* user nice system idle iowait irq softirq steal: all but idle and iowait */
	unsigned long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
	long hz = sysconf(_SC_CLK_TCK);
	*busy_ns = (int64_t)(busy * (1000000000ULL / (unsigned long long)(hz > 0 ? hz : 100)));
	return 0;
}

int cgstat_host(const char *proc, struct cg_sample *out)
{
	*out = (struct cg_sample){0};
	int r = host_cpu(proc, &out->cpu_ns);
	if (r < 0)
		return r;
	_cleanup_free_ char *p = xasprintf("%s/meminfo", proc);
	FILE *f = fopen(p, "re");
	if (!f)
		return -errno;
	char k[64];
	long long v, total = -1, avail = -1;
	while (fscanf(f, "%63s %lld kB ", k, &v) == 2) {
		if (!strcmp(k, "MemTotal:"))
			total = v;
		else if (!strcmp(k, "MemAvailable:"))
			avail = v;
	}
	fclose(f);
	if (total < 0 || avail < 0)
		return -EINVAL;
	out->mem_bytes = working_set(total, avail) * 1024;
	return 0;
}

int cgstat_ctr_name(const char *dir, const char *uid, char *out, size_t size)
{
	size_t pl = strnlen(uid, CGSTAT_UID_PREFIX);
	if (strncmp(dir, uid, pl) || dir[pl] != '-')
		return -EINVAL;
	const char *a = dir + pl, *b = strrchr(dir, '-');
	if (b <= a + 1 || !b[1] || strspn(b + 1, "0123456789") != strlen(b + 1) ||
	    (size_t)(b - a - 1) >= size)
		return -EINVAL;
	memcpy(out, a + 1, (size_t)(b - a - 1));
	out[b - a - 1] = '\0';
	return 0;
}
