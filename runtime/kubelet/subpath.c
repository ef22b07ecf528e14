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
#include "engine/obj.h"
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

/* The value of variable name (n bytes) for the container: its env's
 * literal value, else the last of extra_env ("K=V"); NULL if unknown. */
static const char *env_value(const char *name, size_t n, const json_t *ctr,
			     const char *const *extra_env)
{
	size_t i;
	json_t *ev;
	json_array_foreach(obj_at(ctr, "env"), i, ev)
	{
		const char *k = obj_str(ev, "name"), *v = obj_str(ev, "value");
		if (k && v && strlen(k) == n && !strncmp(k, name, n))
			return v;
	}
	const char *found = NULL;
	for (size_t j = 0; extra_env && extra_env[j]; j++)
		if (!strncmp(extra_env[j], name, n) && extra_env[j][n] == '=')
			found = extra_env[j] + n + 1;
	return found;
}

char *subpath_expand(const char *expr, const json_t *ctr, const char *const *extra_env)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	for (const char *p = expr; *p; p++) {
		const char *end = p[0] == '$' && p[1] == '(' ? strchr(p + 2, ')') : NULL;
		const char *v =
		    end ? env_value(p + 2, (size_t)(end - p - 2), ctr, extra_env) : NULL;
		if (p[0] == '$' && p[1] == '$') {
			fputc('$', f);
			p++;
		} else if (v) {
			fputs(v, f);
			p = end;
		} else {
			fputc(*p, f);
		}
	}
	fclose(f);
	return out;
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
