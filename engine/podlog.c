/*
 * podlog.c - containers' log files, found by attempt and read live.  See
 * podlog.h.
 *
 *     $ printf 'one\n' > DATA/logs/UID/web/0.log
 *     $ printf 'two\n' > DATA/logs/UID/web/1.log
 *     $ cat /cluster/pods/p/containers/web/logs /cluster/pods/p/containers/web/logs.previous
 *     two
 *     one
 */
#include "engine/podlog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Locating */

/* A name that is exactly one path component. */
static bool one_component(const char *s)
{
	return s && *s && strcmp(s, ".") && strcmp(s, "..") && !strchr(s, '/');
}

char *podlog_dir_new(const char *logs_dir, const char *uid, const char *container)
{
	if (!logs_dir || !one_component(uid) || !one_component(container))
		return NULL;
	return xasprintf("%s/%s/%s", logs_dir, uid, container);
}

/* The attempt number of a name "ATTEMPT.log", or -1 for any other name
 * (ATTEMPT.log.1, leading zeros, signs, numbers past INT_MAX). */
static int attempt_of(const char *name)
{
	size_t digits = strspn(name, "0123456789");
	if (digits == 0 || digits > 9 || strcmp(name + digits, ".log"))
		return -1;
	if (digits > 1 && name[0] == '0')
		return -1;
	return (int)strtol(name, NULL, 10);
}

int podlog_pick(const char *dir, enum podlog_role role)
{
	DIR *d = dir ? opendir(dir) : NULL;
	if (!d)
		return -1;
	int top = -1, second = -1;
	struct dirent *de;
	while ((de = readdir(d))) {
		int a = attempt_of(de->d_name);
		if (a > top) {
			second = top;
			top = a;
		} else if (a > second && a != top) {
			second = a;
		}
	}
	closedir(d);
	return role == PODLOG_CURRENT ? top : second;
}

static char *attempt_path(const char *dir, int attempt)
{
	return xasprintf("%s/%d.log", dir, attempt);
}

int podlog_stat(const char *dir, enum podlog_role role, struct stat *st)
{
	int a = podlog_pick(dir, role);
	if (a < 0)
		return -ENOENT;
	char *path = attempt_path(dir, a);
	int r = stat(path, st) < 0 ? -errno : 0;
	free(path);
	if (r == 0 && !S_ISREG(st->st_mode))
		r = -ENOENT;
	return r;
}

int podlog_read_all(const char *dir, enum podlog_role role, size_t cap, struct buf *out)
{
	struct podlog *l = podlog_open(dir, role);
	struct buf b = {0};
	char chunk[65536];
	ssize_t n;
	off_t off = 0;
	while ((n = podlog_read(l, off, chunk, sizeof(chunk))) > 0 && b.len <= cap) {
		buf_add(&b, chunk, (size_t)n);
		off += n;
	}
	podlog_free(l);
	int r = n < 0 ? (int)n : b.len > cap ? -EFBIG : 0;
	if (r == 0 && b.len)
		buf_add(out, b.s, b.len);
	buf_free(&b);
	return r;
}

/* Readers */

struct podlog {
	char *dir;
	enum podlog_role role;
	int fd;	     /* -1: no file yet */
	int attempt; /* of fd; -1 with it */
	dev_t dev;   /* of fd: a file made anew under the same name is another */
	ino_t ino;
	struct timespec dir_mtime; /* of dir when it was last looked at */
};

/* dir's mtime now, zero if it is missing. */
static struct timespec dir_mtime_of(const char *dir)
{
	struct stat st;
	if (stat(dir, &st) < 0)
		return (struct timespec){0, 0};
	return st.st_mtim;
}

/* Points l at the file its role names now, if that is not the one it has.
 * Returns true when it moved. */
static bool podlog_refresh(struct podlog *l)
{
	/* Taken before the scan: a change during it makes a later mtime. */
	l->dir_mtime = dir_mtime_of(l->dir);
	int a = podlog_pick(l->dir, l->role);
	struct stat st;
	char *path = a >= 0 ? attempt_path(l->dir, a) : NULL;
	if (path && stat(path, &st) < 0)
		a = -1;
	bool same = a == l->attempt && (a < 0 || (st.st_dev == l->dev && st.st_ino == l->ino));
	if (same) {
		free(path);
		return false;
	}
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	l->attempt = -1;
	if (a >= 0) {
		l->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (l->fd >= 0 && fstat(l->fd, &st) == 0 && S_ISREG(st.st_mode)) {
			l->attempt = a;
			l->dev = st.st_dev;
			l->ino = st.st_ino;
		} else if (l->fd >= 0) {
			close(l->fd);
			l->fd = -1;
		}
	}
	free(path);
	return true;
}

struct podlog *podlog_open(const char *dir, enum podlog_role role)
{
	struct podlog *l = xcalloc(1, sizeof(*l));
	l->dir = dir ? xstrdup(dir) : NULL;
	l->role = role;
	l->fd = -1;
	l->attempt = -1;
	if (l->dir)
		podlog_refresh(l);
	return l;
}

static ssize_t pread_full(int fd, char *out, size_t n, off_t off)
{
	if (fd < 0)
		return 0;
	ssize_t r;
	do
		r = pread(fd, out, n, off);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

ssize_t podlog_read(struct podlog *l, off_t off, char *out, size_t n)
{
	if (off < 0)
		return -EINVAL;
	if (!l->dir)
		return 0;
	/*
	 * Every read serves the file the role names now, as stat does (tail
	 * seeks back to 0 when the size shrank, and must then read the new
	 * file).  A new or removed attempt changes the folder's mtime; a
	 * change within one tick of the clock may not, so the end of the
	 * file is a second cue to look.
	 */
	struct timespec m = dir_mtime_of(l->dir);
	if (m.tv_sec != l->dir_mtime.tv_sec || m.tv_nsec != l->dir_mtime.tv_nsec)
		podlog_refresh(l);
	ssize_t r = pread_full(l->fd, out, n, off);
	if (r == 0 && podlog_refresh(l))
		r = pread_full(l->fd, out, n, off);
	return r;
}

int podlog_attempt(const struct podlog *l)
{
	return l->attempt;
}

void podlog_free(struct podlog *l)
{
	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd);
	free(l->dir);
	free(l);
}
