/*
 * podcg.c - see podcg.h.
 */
#include "runtime/kubelet/podcg.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/mem.h"

#define CG_ROOT "/sys/fs/cgroup"

static bool cgroup_v2(void)
{
	return access(CG_ROOT "/cgroup.controllers", F_OK) == 0;
}

char *podcg_path(const char *parent, const char *uid)
{
	return xasprintf("%s/pod%s", parent, uid);
}

/* Writes text to a cgroup file (no O_TRUNC: cgroup files take writes
 * whole).  0 or -errno. */
static int cg_write(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, text, strlen(text));
	int r = n < 0 ? -errno : 0;
	close(fd);
	return r;
}

/*
 * Makes root/rel one component at a time; on v2 first enables the pids
 * controller in each directory's parent (runc enables the rest when it
 * makes the containers' cgroups).
 */
static int make_path(const char *root, const char *rel, bool v2, struct err **e)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", root, rel + strspn(rel, "/"));
	char *p = path + strlen(root);

	for (;;) {
		while (*p == '/')
			p++;
		char *slash = strchr(p, '/');
		if (!*p)
			return 0;
		if (slash)
			*slash = '\0';
		if (v2) {
			char *dir = strrchr(path, '/');
			*dir = '\0';
			_cleanup_free_ char *ctl = xasprintf("%s/cgroup.subtree_control", path);
			int r = cg_write(ctl, "+pids");
			*dir = '/';
			if (r < 0)
				return err_make(e, -r, "pod cgroup: %s: +pids: %s", ctl,
						strerror(-r));
		}
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return err_make(e, errno, "pod cgroup: %s: %s", path, strerror(errno));
		if (!slash)
			return 0;
		*slash = '/';
		p = slash + 1;
	}
}

int podcg_create(const char *parent, const char *uid, int64_t pids_max, struct err **e)
{
	if (!parent || !uid || pids_max <= 0)
		return 0;
	bool v2 = cgroup_v2();
	const char *root = v2 ? CG_ROOT : CG_ROOT "/pids";
	_cleanup_free_ char *rel = podcg_path(parent, uid);
	_cleanup_free_ char *max = xasprintf("%s/%s/pids.max", root, rel + strspn(rel, "/"));
	char text[32];
	int r;

	if (!v2 && access(root, F_OK) < 0)
		return err_make(e, ENOENT,
				"pod cgroup: no pids controller at %s (run with --pod-pids-limit "
				"-1 to go without a pids limit)",
				root);
	if ((r = make_path(root, rel, v2, e)) < 0)
		return r;
	snprintf(text, sizeof(text), "%" PRId64, pids_max);
	if ((r = cg_write(max, text)) < 0)
		return err_make(e, -r, "pod cgroup: %s: %s", max, strerror(-r));
	return 0;
}

/* The hierarchies' roots: v2's one, or each v1 hierarchy (every
 * directory under /sys/fs/cgroup), into roots (at most max); their count. */
static size_t hierarchies(char **roots, size_t max)
{
	size_t n = 0;
	if (cgroup_v2()) {
		roots[n++] = xstrdup(CG_ROOT);
		return n;
	}
	DIR *d = opendir(CG_ROOT);
	struct dirent *de;
	while (d && n < max && (de = readdir(d)))
		if (de->d_name[0] != '.' && de->d_type == DT_DIR)
			roots[n++] = xasprintf(CG_ROOT "/%s", de->d_name);
	if (d)
		closedir(d);
	return n;
}

#define MAX_HIER 32

void podcg_remove(const char *parent, const char *uid)
{
	if (!parent || !uid)
		return;
	char *roots[MAX_HIER];
	size_t n = hierarchies(roots, MAX_HIER);
	_cleanup_free_ char *rel = podcg_path(parent, uid);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", roots[i], rel + strspn(rel, "/"));
		rmdir(p);
		free(roots[i]);
	}
}

void podcg_remove_all(const char *parent)
{
	char *roots[MAX_HIER];
	size_t n = hierarchies(roots, MAX_HIER);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *dir =
		    xasprintf("%s/%s", roots[i], parent + strspn(parent, "/"));
		DIR *d = opendir(dir);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			if (de->d_type != DT_DIR || strncmp(de->d_name, "pod", 3))
				continue;
			_cleanup_free_ char *p = xasprintf("%s/%s", dir, de->d_name);
			rmdir(p);
		}
		if (d)
			closedir(d);
		rmdir(dir);
		free(roots[i]);
	}
}
