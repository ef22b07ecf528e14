/*
 * userns.c - see userns.h.
 */
#include "runtime/kubelet/userns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/mem.h"
#include "runtime/kubelet/oci.h"
#include "runtime/sys.h"

#define MAX_RANGES 65535 /* base = k * 65536, 1 <= k <= 65535 */

static pthread_mutex_t alloc_lock = PTHREAD_MUTEX_INITIALIZER;

uint32_t userns_read(const char *pod_dir)
{
	_cleanup_free_ char *path = xasprintf("%s/userns", pod_dir);
	FILE *f = fopen(path, "re");
	unsigned long v = 0;
	if (f && fscanf(f, "%lu", &v) != 1)
		v = 0;
	if (f)
		fclose(f);
	return v % OCI_USERNS_SIZE || v / OCI_USERNS_SIZE > MAX_RANGES ? 0 : (uint32_t)v;
}

int userns_alloc(const char *pods_dir, const char *pod_dir, uint32_t *base, struct err **e)
{
	uint8_t *used = xcalloc(MAX_RANGES + 1, 1);
	struct dirent *de;
	int r = 0;

	pthread_mutex_lock(&alloc_lock);
	DIR *d = opendir(pods_dir);
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		_cleanup_free_ char *p = xasprintf("%s/%s", pods_dir, de->d_name);
		used[userns_read(p) / OCI_USERNS_SIZE] = 1;
	}
	if (d)
		closedir(d);
	size_t k = 1;
	while (k <= MAX_RANGES && used[k])
		k++;
	if (k > MAX_RANGES) {
		r = err_make(e, ENOSPC, "user namespaces: all %d ranges are taken", MAX_RANGES);
	} else {
		*base = (uint32_t)k * OCI_USERNS_SIZE;
		_cleanup_free_ char *path = xasprintf("%s/userns", pod_dir);
		_cleanup_free_ char *text = xasprintf("%u\n", *base);
		r = write_atomic(path, text, e);
	}
	pthread_mutex_unlock(&alloc_lock);
	free(used);
	return r;
}

/* A user namespace mapping 0..65535 to base (uid and gid), as an fd: a
 * child made in it holds it while the maps are written and it is opened. */
static int userns_fd(uint32_t base, struct err **e)
{
	int pipefd[2];
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return err_make(e, errno, "userns: pipe: %s", strerror(errno));
	pid_t pid = fork();
	if (pid < 0) {
		close(pipefd[0]), close(pipefd[1]);
		return err_make(e, errno, "userns: fork: %s", strerror(errno));
	}
	if (pid == 0) {
		char c;
		close(pipefd[1]);
		if (unshare(CLONE_NEWUSER) < 0)
			_exit(1);
		/* wait until the parent has opened the namespace (EOF) */
		while (read(pipefd[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(pipefd[0]);
	int fd = -1, r = 0;
	char map[64], path[64];
	snprintf(map, sizeof(map), "0 %u %d\n", base, OCI_USERNS_SIZE);
	/* the child unshares at once: wait for its namespace to differ */
	for (int i = 0; i < 2000 && fd < 0; i++) {
		struct stat a, b;
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
		if (stat(path, &a) == 0 && stat("/proc/self/ns/user", &b) == 0 &&
		    a.st_ino != b.st_ino)
			fd = open(path, O_RDONLY | O_CLOEXEC);
		else
			usleep(500);
	}
	const char *files[] = {"uid_map", "gid_map"};
	for (size_t i = 0; i < 2 && fd >= 0 && r == 0; i++) {
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, files[i]);
		int mfd = open(path, O_WRONLY | O_CLOEXEC);
		if (mfd < 0 || write(mfd, map, strlen(map)) != (ssize_t)strlen(map))
			r = err_make(e, errno ? errno : EIO, "userns: %s: %s", path,
				     strerror(errno ? errno : EIO));
		if (mfd >= 0)
			close(mfd);
	}
	if (fd < 0 && r == 0)
		r = err_make(e, EIO, "userns: the child's namespace did not appear");
	close(pipefd[1]);
	waitpid(pid, NULL, 0);
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		return r;
	}
	return fd;
}

/* An idmapped, read-only clone of layer at target. */
static int idmap_one(const char *layer, const char *target, int ns, struct err **e)
{
	struct mount_attr attr = {.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY |
					      MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID,
				  .userns_fd = (uint64_t)ns};
	int fd = open_tree(AT_FDCWD, layer, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (fd < 0)
		return err_make(e, errno, "userns: open_tree %s: %s", layer, strerror(errno));
	int r = 0;
	if (mkdir(target, 0700) < 0 && errno != EEXIST)
		r = err_make(e, errno, "userns: mkdir %s: %s", target, strerror(errno));
	else if (mount_setattr(fd, "", AT_EMPTY_PATH, &attr, sizeof(attr)) < 0)
		r = err_make(e, errno, "userns: idmap %s: %s", layer, strerror(errno));
	else if (move_mount(fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
		r = err_make(e, errno, "userns: mount %s: %s", target, strerror(errno));
	close(fd);
	return r;
}

int userns_mount_layers(const struct image_info *info, uint32_t base, const char *dir,
			char **lowerdir, struct err **e)
{
	*lowerdir = NULL;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return err_make(e, errno, "userns: mkdir %s: %s", dir, strerror(errno));
	int ns = userns_fd(base, e);
	if (ns < 0)
		return ns;
	struct buf b = {0};
	int r = 0;
	buf_puts(&b, "");
	for (size_t i = info->n_layers; i > 0 && r == 0; i--) {
		_cleanup_free_ char *t = xasprintf("%s/%zu", dir, info->n_layers - i);
		r = idmap_one(info->layers[i - 1], t, ns, e);
		buf_printf(&b, "%s%s", i == info->n_layers ? "" : ":", t);
	}
	close(ns);
	if (r < 0) {
		buf_free(&b);
		return r;
	}
	*lowerdir = buf_steal(&b, NULL);
	return 0;
}

int userns_view(const char *view, const char *rootfs, uint32_t base, struct err **e)
{
	_cleanup_free_ char *target = xasprintf("%s/rootfs", view);
	if ((mkdir("/run/clusterfs", 0755) < 0 && errno != EEXIST) ||
	    (mkdir(USERNS_VIEW_DIR, 0711) < 0 && errno != EEXIST) ||
	    (mkdir(view, 0700) < 0 && errno != EEXIST) ||
	    (mkdir(target, 0700) < 0 && errno != EEXIST))
		return err_make(e, errno, "userns: mkdir %s: %s", target, strerror(errno));
	if (chown(view, base, base) < 0)
		return err_make(e, errno, "userns: chown %s: %s", view, strerror(errno));
	if (mount(rootfs, target, NULL, MS_BIND, NULL) < 0)
		return err_make(e, errno, "userns: bind %s: %s", target, strerror(errno));
	return 0;
}

/* In the child: joins pid's net and ipc namespaces and writes each
 * sysctl.  Its exit status: 0, or the errno of the first failure. */
static int sysctls_child(pid_t pid, const json_t *sysctls)
{
	const char *ns[] = {"net", "ipc"};
	const char *name;
	json_t *v;
	for (size_t i = 0; i < 2; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns[i]);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, 0) < 0)
			return errno;
		close(fd);
	}
	json_object_foreach((json_t *)sysctls, name, v)
	{
		char path[320];
		int n = snprintf(path, sizeof(path), "/proc/sys/%s", name);
		for (char *p = path + 10; n > 0 && *p; p++)
			*p = *p == '.' ? '/' : *p;
		const char *val = json_string_value(v);
		int fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, val, strlen(val)) < 0)
			return errno ? errno : EIO;
		close(fd);
	}
	return 0;
}

int userns_sysctls(pid_t pid, const json_t *sysctls, struct err **e)
{
	if (!json_object_size(sysctls))
		return 0;
	pid_t c = fork();
	if (c < 0)
		return err_make(e, errno, "sysctls: fork: %s", strerror(errno));
	if (c == 0)
		_exit(sysctls_child(pid, sysctls));
	int st = 0;
	while (waitpid(c, &st, 0) < 0 && errno == EINTR)
		;
	int r = WIFEXITED(st) ? WEXITSTATUS(st) : EIO;
	if (r)
		return err_make(e, r, "sysctls in the pod's namespaces: %s", strerror(r));
	return 0;
}
