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
#include <stdatomic.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
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

/* Index records read at once, and kept, by a reader. */
#define IDX_CACHE 128

struct podlog {
	const struct podlog_ops *ops; /* a reader of another source (a remote node); NULL: files */
	void *arg;
	char *dir;
	enum podlog_role role;
	int fd;				    /* -1: no file yet */
	int idx;			    /* fd's index (ATTEMPT.idx), or -1 */
	struct podlog_rec cache[IDX_CACHE]; /* records first .. first + n - 1 */
	size_t cache_first, cache_n, hint;  /* hint: where the last lookup ended */
	int attempt;			    /* of fd; -1 with it */
	dev_t dev; /* of fd: a file made anew under the same name is another */
	ino_t ino;
	struct timespec dir_mtime; /* of dir when it was last looked at */
};

/* Remote sources */

static _Atomic(const struct podlog_remote *) remote_hook;

void podlog_set_remote(const struct podlog_remote *h)
{
	atomic_store(&remote_hook, h);
}

bool podlog_is_remote(const char *dir)
{
	return dir && !strncmp(dir, PODLOG_REMOTE_PREFIX, strlen(PODLOG_REMOTE_PREFIX));
}

/* A reader from the hook when dir names a remote source (an empty one
 * when the hook can't open it); NULL for a local dir. */
static struct podlog *remote_open(const char *dir, enum podlog_role role)
{
	if (!podlog_is_remote(dir))
		return NULL;
	const struct podlog_remote *h = atomic_load(&remote_hook);
	struct podlog *l = h ? h->open(dir + strlen(PODLOG_REMOTE_PREFIX), role) : NULL;
	if (!l) {
		l = xcalloc(1, sizeof(*l));
		l->fd = l->idx = l->attempt = -1;
		l->role = role;
	}
	return l;
}

struct podlog *podlog_custom(const struct podlog_ops *ops, void *arg, enum podlog_role role)
{
	struct podlog *l = xcalloc(1, sizeof(*l));
	l->ops = ops;
	l->arg = arg;
	l->role = role;
	l->fd = l->idx = l->attempt = -1;
	return l;
}

int podlog_pick(const char *dir, enum podlog_role role)
{
	if (podlog_is_remote(dir)) {
		struct podlog *l = remote_open(dir, role);
		int a = l ? podlog_attempt(l) : -1;
		podlog_free(l);
		return a;
	}
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

/* Line times: the index format */

char *podlog_index_path(const char *log_path)
{
	size_t n = strlen(log_path);
	if (n >= 4 && !strcmp(log_path + n - 4, ".log"))
		n -= 4;
	return xasprintf("%.*s.idx", (int)n, log_path);
}

void podlog_time_format(int64_t ns, char out[PODLOG_TIME_LEN + 1])
{
	time_t sec = (time_t)(ns / 1000000000);
	long frac = (long)(ns % 1000000000);
	if (frac < 0)
		sec--, frac += 1000000000;
	struct tm tm;
	if (!gmtime_r(&sec, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
		memset(&tm, 0, sizeof(tm)), tm.tm_year = 70, tm.tm_mday = 1, frac = 0;
	char t[96];
	snprintf(t, sizeof(t), "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
	memcpy(out, t, PODLOG_TIME_LEN);
	out[PODLOG_TIME_LEN] = 0;
}

int podlog_stat(const char *dir, enum podlog_role role, struct stat *st)
{
	if (podlog_is_remote(dir)) {
		const struct podlog_remote *h = atomic_load(&remote_hook);
		return h ? h->stat(dir + strlen(PODLOG_REMOTE_PREFIX), role, st) : -ENOENT;
	}
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
	if (l->idx >= 0)
		close(l->idx);
	l->fd = l->idx = -1;
	l->attempt = -1;
	l->cache_n = 0;
	if (a >= 0) {
		l->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (l->fd >= 0 && fstat(l->fd, &st) == 0 && S_ISREG(st.st_mode)) {
			l->attempt = a;
			l->dev = st.st_dev;
			l->ino = st.st_ino;
			_cleanup_free_ char *ipath = podlog_index_path(path);
			l->idx = open(ipath, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
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
	struct podlog *rl = remote_open(dir, role);
	if (rl)
		return rl;
	struct podlog *l = xcalloc(1, sizeof(*l));
	l->dir = dir ? xstrdup(dir) : NULL;
	l->role = role;
	l->fd = l->idx = -1;
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
	if (l->ops)
		return l->ops->read(l->arg, off, out, n);
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

off_t podlog_size(struct podlog *l)
{
	if (l->ops)
		return l->ops->size(l->arg);
	struct stat st;
	return l->fd >= 0 && fstat(l->fd, &st) == 0 ? st.st_size : 0;
}

/* Line times: the reader's side */

static int64_t mtime_ns(struct podlog *l)
{
	struct stat st;
	if (l->fd < 0 || fstat(l->fd, &st) < 0)
		return 0;
	return (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
}

static size_t idx_count(struct podlog *l)
{
	struct stat st;
	return l->idx >= 0 && fstat(l->idx, &st) == 0 ? (size_t)st.st_size / PODLOG_REC_SIZE : 0;
}

/* Reads up to n records from number first into out; how many. */
static size_t idx_read(struct podlog *l, size_t first, struct podlog_rec *out, size_t n)
{
	unsigned char raw[IDX_CACHE * PODLOG_REC_SIZE];
	n = n < IDX_CACHE ? n : IDX_CACHE;
	ssize_t r =
	    pread_full(l->idx, (char *)raw, n * PODLOG_REC_SIZE, (off_t)(first * PODLOG_REC_SIZE));
	size_t got = r > 0 ? (size_t)r / PODLOG_REC_SIZE : 0;
	for (size_t i = 0; i < got; i++)
		podlog_rec_unpack(raw + i * PODLOG_REC_SIZE, &out[i]);
	return got;
}

/* The number of the first record for which past(record, key) is false,
 * the records being ordered so that past is true for a prefix. */
static size_t idx_search(struct podlog *l, bool (*past)(const struct podlog_rec *, int64_t),
			 int64_t key)
{
	size_t lo = 0, hi = idx_count(l);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct podlog_rec r;
		if (idx_read(l, mid, &r, 1) == 1 && past(&r, key))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool off_at_or_before(const struct podlog_rec *r, int64_t off)
{
	return r->off <= off;
}

static bool earlier_than(const struct podlog_rec *r, int64_t ns)
{
	return r->ns < ns;
}

static void cache_load(struct podlog *l, size_t first)
{
	l->cache_first = first;
	l->cache_n = idx_read(l, first, l->cache, IDX_CACHE);
	l->hint = 0;
}

int64_t podlog_line_time(struct podlog *l, off_t off, int *stream)
{
	if (stream)
		*stream = PODLOG_STDOUT;
	if (l->ops)
		return l->ops->line_time(l->arg, off, stream);
	for (int round = 0; l->idx >= 0 && round < 6; round++) {
		if (!l->cache_n || l->cache[0].off > off) {
			size_t k = idx_search(l, off_at_or_before, off);
			if (k == 0)
				break;
			cache_load(l, k - 1);
			continue;
		}
		size_t i = l->hint < l->cache_n && l->cache[l->hint].off <= off ? l->hint : 0;
		while (i + 1 < l->cache_n && l->cache[i + 1].off <= off)
			i++;
		l->hint = i;
		/* the last one kept: there may be later ones on disk, read on
		 * from it (or search, when it was a whole cache behind) */
		if (i + 1 == l->cache_n && !(l->cache_n == 1 && round > 0)) {
			if (l->cache_n == IDX_CACHE)
				l->cache_n = 0;
			else
				cache_load(l, l->cache_first + i);
			continue;
		}
		if (stream)
			*stream = l->cache[i].stream;
		return l->cache[i].ns;
	}
	return mtime_ns(l);
}

off_t podlog_since(struct podlog *l, int64_t ns)
{
	if (l->ops)
		return l->ops->since(l->arg, ns);
	off_t size = podlog_size(l);
	if (l->idx < 0)
		return mtime_ns(l) >= ns ? 0 : size;
	size_t k = idx_search(l, earlier_than, ns);
	struct podlog_rec r;
	if (idx_read(l, k, &r, 1) != 1 || r.off > size)
		return size;
	return r.off;
}

int podlog_attempt(const struct podlog *l)
{
	return l->ops ? l->ops->attempt(l->arg) : l->attempt;
}

void podlog_free(struct podlog *l)
{
	if (!l)
		return;
	if (l->ops)
		l->ops->free(l->arg);
	if (l->fd >= 0)
		close(l->fd);
	if (l->idx >= 0)
		close(l->idx);
	free(l->dir);
	free(l);
}
