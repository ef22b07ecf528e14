/*
 * subpath.c - a volumeMount's subPath: resolved inside the volume, opened,
 * bind-mounted through its descriptor (see subpath.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine/mem.h"
#include "runtime/kubelet/subpath.h"

/* path opened beneath root: -EXDEV if it would leave it. */
static int open_in(int root, const char *path, int flags)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_CLOEXEC),
	    .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	long fd = syscall(SYS_openat2, root, path, &how, sizeof(how));
	return fd < 0 ? -errno : (int)fd;
}

/* Makes the missing folders of sub under root, owned as root is. */
static int make_folders(int root, const char *sub)
{
	struct stat rst;
	if (fstat(root, &rst) < 0)
		return -errno;
	char *p = xstrdup(sub);
	int r = 0;
	for (char *s = p;; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;
		*s = 0;
		int fd = *p ? open_in(root, p, O_PATH | O_DIRECTORY) : -EEXIST;
		if (fd >= 0) {
			close(fd);
		} else if (fd == -ENOENT) {
			char *slash = strrchr(p, '/');
			int parent = slash ? (*slash = 0, open_in(root, p, O_PATH | O_DIRECTORY))
					   : dup(root);
			const char *leaf = slash ? slash + 1 : p;
			if (parent < 0 || mkdirat(parent, leaf, 0777) < 0 ||
			    fchownat(parent, leaf, rst.st_uid, rst.st_gid, AT_SYMLINK_NOFOLLOW) <
				0 ||
			    fchmodat(parent, leaf, 0777 | (rst.st_mode & S_ISGID),
				     AT_SYMLINK_NOFOLLOW) < 0)
				r = parent < 0 ? parent : -errno;
			if (parent >= 0)
				close(parent);
			if (slash)
				*slash = '/';
		}
		if (r < 0 || !(*s = c))
			break;
	}
	free(p);
	return r;
}

int subpath_mount(const char *voldir, const char *sub, bool create, const char *target,
		  struct err **e)
{
	int root = open(voldir, O_PATH | O_DIRECTORY | O_CLOEXEC), fd = -1, r = 0;
	struct stat st;
	if (root < 0)
		return err_make(e, errno, "subPath %s: %s: %s", sub, voldir, strerror(errno));
	if ((!create || (r = make_folders(root, sub)) == 0) &&
	    ((fd = open_in(root, sub, O_PATH)) < 0 || fstat(fd, &st) < 0))
		r = fd < 0 ? fd : -errno;
	if (r < 0) {
		err_make(e, -r, "subPath %s: %s", sub,
			 r == -EXDEV ? "outside the volume (a symlink leads out)" : strerror(-r));
		goto out;
	}
	char *dir = xstrdup(target), *slash = strrchr(dir, '/');
	if (slash) {
		*slash = 0;
		char *cmd = dir; /* the staging folders */
		for (char *s = cmd + 1; (s = strchr(s, '/')); s++) {
			*s = 0;
			mkdir(cmd, 0755);
			*s = '/';
		}
		mkdir(cmd, 0755);
	}
	free(dir);
	umount2(target, MNT_DETACH); /* an earlier start's */
	if (S_ISDIR(st.st_mode))
		mkdir(target, 0755);
	else
		close(open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	char src[64];
	snprintf(src, sizeof(src), "/proc/self/fd/%d", fd);
	if (mount(src, target, NULL, MS_BIND, NULL) < 0) {
		r = -errno;
		err_make(e, errno, "subPath %s: bind mount on %s: %s", sub, target,
			 strerror(errno));
	}
out:
	if (fd >= 0)
		close(fd);
	close(root);
	return r;
}
