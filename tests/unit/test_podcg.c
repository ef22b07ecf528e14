/*
 * test_podcg.c - a pod's cgroup on this machine's hierarchies (root
 * required): pids.max set, a second pod beside it, removal of one pod and
 * of all, and no limit asked for: nothing made.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/err.h"
#include "engine/mem.h"
#include "runtime/kubelet/podcg.h"
#include "tests/unit/unit.h"

static char parent[64];
static char root[64]; /* the hierarchy that holds pids.max */

static bool is_dir(const char *rel)
{
	char *p = xasprintf("%s%s", root, rel);
	struct stat st;
	bool r = stat(p, &st) == 0 && S_ISDIR(st.st_mode);
	free(p);
	return r;
}

static long pids_max(const char *uid)
{
	char *p = xasprintf("%s%s/pod%s/pids.max", root, parent, uid);
	FILE *f = fopen(p, "re");
	long v = -1;
	if (f && fscanf(f, "%ld", &v) != 1)
		v = -1;
	if (f)
		fclose(f);
	free(p);
	return v;
}

static void test_create_remove(void)
{
	struct err *e = NULL;
	char *a = xasprintf("%s/poda", parent), *b = xasprintf("%s/podb", parent);

	CHECK(podcg_create(parent, "a", 77, &e) == 0);
	if (e)
		fprintf(stderr, "  %s\n", e->msg);
	CHECK(pids_max("a") == 77);
	CHECK(podcg_create(parent, "b", 5, NULL) == 0 && pids_max("b") == 5);
	CHECK(podcg_create(parent, "a", 78, NULL) == 0 && pids_max("a") == 78); /* again: fine */
	podcg_remove(parent, "a");
	CHECK(!is_dir(a) && is_dir(b));
	/* no limit, or no parent: nothing made */
	CHECK(podcg_create(parent, "c", 0, NULL) == 0 && podcg_create(NULL, "c", 9, NULL) == 0);
	char *c = xasprintf("%s/podc", parent);
	CHECK(!is_dir(c));
	podcg_remove_all(parent);
	CHECK(!is_dir(b) && !is_dir(parent));
	char *path = podcg_path("/clusterfs", "u-1");
	CHECK(!strcmp(path, "/clusterfs/podu-1"));
	free(path);
	free(a);
	free(b);
	free(c);
	err_free(e);
}

int main(void)
{
	if (geteuid() != 0) {
		unit_skip("needs root (cgroups)");
		return unit_done();
	}
	snprintf(parent, sizeof(parent), "/cfs-test-podcg-%d", (int)getpid());
	snprintf(root, sizeof(root), "%s",
		 access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0 ? "/sys/fs/cgroup"
									: "/sys/fs/cgroup/pids");
	RUN(test_create_remove);
	podcg_remove_all(parent);
	return unit_done();
}
