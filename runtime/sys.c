/*
 * sys.c - see sys.h.
 */
#include "runtime/sys.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "engine/mem.h"

int write_atomic(const char *path, const char *text, struct err **e)
{
	_cleanup_free_ char *tmp = xasprintf("%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_make(e, errno, "create %s: %s", tmp, strerror(errno));
	size_t n = strlen(text), off = 0;
	int err = 0;
	while (off < n && !err) {
		ssize_t w = write(fd, text + off, n - off);
		if (w < 0 && errno != EINTR)
			err = errno;
		else if (w > 0)
			off += (size_t)w;
	}
	if (close(fd) < 0 && !err)
		err = errno;
	if (!err && rename(tmp, path) < 0)
		err = errno;
	if (err) {
		unlink(tmp);
		return err_make(e, err, "write %s: %s", path, strerror(err));
	}
	return 0;
}

char *fd_slurp(int fd)
{
	struct buf b = {0};
	char chunk[4096];
	ssize_t n;
	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0 || (n < 0 && errno == EINTR))
		buf_add(&b, chunk, n > 0 ? (size_t)n : 0);
	while (b.len && isspace((unsigned char)b.s[b.len - 1]))
		b.s[--b.len] = '\0';
	return buf_steal(&b, NULL);
}

int mkdir_p(const char *path, mode_t mode, struct err **e)
{
	if (!path || !*path)
		return err_make(e, EINVAL, "mkdir: empty path");
	_cleanup_free_ char *p = xstrdup(path);
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST)
			return err_make(e, errno, "mkdir %s: %s", p, strerror(errno));
		if (!(*s = c))
			return 0;
	}
}

static __thread int rm_first_err; /* the first errno of the current walk */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	bool dir = flag == FTW_DP || flag == FTW_D || flag == FTW_DNR;
	int r = dir ? rmdir(path) : unlink(path);
	/* a directory left non-empty says nothing more than its entry did */
	if (r < 0 && errno != ENOENT && errno != ENOTEMPTY && !rm_first_err)
		rm_first_err = errno;
	return 0;
}

int rm_rf(const char *path, struct err **e)
{
	struct stat st;
	rm_first_err = 0;
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	if (lstat(path, &st) < 0 && errno == ENOENT)
		return 0;
	if (rm_first_err)
		return err_make(e, rm_first_err, "remove %s: %s", path, strerror(rm_first_err));
	return err_make(e, EBUSY, "remove %s: still there (a mount in it?)", path);
}

pid_t pid_file_read(const char *path)
{
	FILE *f = path ? fopen(path, "re") : NULL;
	int pid = 0;
	if (f && fscanf(f, "%d", &pid) != 1)
		pid = 0;
	if (f)
		fclose(f);
	return pid > 1 ? pid : 0;
}

void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

bool ipv4_canon(const char *in, char out[INET_ADDRSTRLEN])
{
	struct in_addr a;
	return in && inet_pton(AF_INET, in, &a) == 1 &&
	       inet_ntop(AF_INET, &a, out, INET_ADDRSTRLEN);
}
