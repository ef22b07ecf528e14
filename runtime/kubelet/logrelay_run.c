/*
 * logrelay_run.c - the log relay's loop (see logrelay.h): async-signal-safe
 * calls only, no heap, nothing of clusterfs but the index format, so that
 * it also makes the relay's own small executable (main_logrelay.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/podlog.h"
#include "runtime/kubelet/logrelay.h"

#define CHUNK	 16384 /* read from a pipe at once */
#define RECS_MAX 256   /* index records written at once */

/* ---- the relay ---- */

struct relay {
	int log, idx;
	const char *path;
	off_t size;    /* of the log, as the relay wrote it */
	bool at_start; /* the next byte starts a line */
	off_t max;
	char buf[CHUNK];
};

static bool write_all(int fd, const void *p, size_t n)
{
	const char *s = p;
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		s += w;
		n -= (size_t)w;
	}
	return true;
}

/* dst = a + b, within PATH_MAX; false when too long.  (No snprintf: it is
 * not async-signal-safe.) */
static bool cat2(char *dst, const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	if (na + nb >= PATH_MAX)
		return false;
	memcpy(dst, a, na);
	memcpy(dst + na, b, nb + 1);
	return true;
}

/* Copy-truncate: the log to PATH.1 (through PATH.1.tmp), then the log and
 * its index emptied in place.  On a failed copy, nothing is truncated. */
static void relay_rotate(struct relay *r)
{
	char old[PATH_MAX], tmp[PATH_MAX];
	if (!cat2(old, r->path, ".1") || !cat2(tmp, r->path, ".1.tmp"))
		return;
	int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	bool ok = out >= 0;
	for (off_t off = 0; ok && off < r->size;) {
		ssize_t n = pread(r->log, r->buf, sizeof(r->buf), off);
		if (n < 0 && errno == EINTR)
			continue;
		ok = n > 0 && write_all(out, r->buf, (size_t)n);
		off += n > 0 ? n : 0;
	}
	if (out >= 0 && close(out) < 0)
		ok = false;
	if (ok && rename(tmp, old) == 0 && ftruncate(r->log, 0) == 0) {
		if (ftruncate(r->idx, 0) < 0)
			(void)0; /* stale times for the new lines' offsets: nothing better to do */
		r->size = 0;
		r->at_start = true;
		return;
	}
	unlink(tmp);
}

/* One chunk read from stream: its line starts to the index, then the
 * bytes to the log. */
static void relay_chunk(struct relay *r, size_t n, int stream)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct podlog_rec rec = {.ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec,
				 .stream = stream};
	unsigned char recs[RECS_MAX * PODLOG_REC_SIZE];
	size_t k = 0;
	const char *s = r->buf, *p = s;
	if (!r->at_start)
		p = memchr(s, '\n', n), p = p ? p + 1 : s + n;
	while (p < s + n) {
		rec.off = r->size + (p - s);
		podlog_rec_pack(&rec, recs + k++ * PODLOG_REC_SIZE);
		if (k == RECS_MAX)
			write_all(r->idx, recs, k * PODLOG_REC_SIZE), k = 0;
		p = memchr(p, '\n', (size_t)(s + n - p));
		p = p ? p + 1 : s + n;
	}
	if (k)
		write_all(r->idx, recs, k * PODLOG_REC_SIZE);
	if (write_all(r->log, s, n)) {
		r->size += (off_t)n;
	} else {
		struct stat st; /* a short write (a full disk): where the end is now */
		r->size = fstat(r->log, &st) == 0 ? st.st_size : r->size;
	}
	r->at_start = s[n - 1] == '\n';
	if (r->max > 0 && r->size > r->max)
		relay_rotate(r);
}

/* Where the files are now: the log's size and whether it ends a line; a
 * torn last index record (the relay was killed mid-write) cut off. */
static void relay_resume(struct relay *r)
{
	struct stat st;
	char last = '\n';
	r->size = fstat(r->log, &st) == 0 ? st.st_size : 0;
	if (r->size > 0 && pread(r->log, &last, 1, r->size - 1) != 1)
		last = '\n';
	r->at_start = last == '\n';
	if (fstat(r->idx, &st) == 0 && st.st_size % PODLOG_REC_SIZE)
		if (ftruncate(r->idx, st.st_size - st.st_size % PODLOG_REC_SIZE) < 0)
			(void)0; /* records would be misread: nothing better to do */
}

int logrelay_run(int out_r, int err_r, int log_fd, int idx_fd, const char *log_path,
		 off_t max_bytes)
{
	static struct relay r; /* static: the buffer stays off the stack */
	r = (struct relay){.log = log_fd, .idx = idx_fd, .path = log_path, .max = max_bytes};
	relay_resume(&r);
	int fd[2] = {out_r, err_r};
	while (fd[0] >= 0 || fd[1] >= 0) {
		struct pollfd p[2] = {{.fd = fd[0], .events = POLLIN},
				      {.fd = fd[1], .events = POLLIN}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 1;
		}
		for (int s = 0; s < 2; s++) {
			if (fd[s] < 0 || !p[s].revents)
				continue;
			ssize_t n = read(fd[s], r.buf, sizeof(r.buf));
			if (n > 0) {
				relay_chunk(&r, (size_t)n, s);
			} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				close(fd[s]);
				fd[s] = -1;
			}
		}
	}
	return 0;
}

int logrelay_main(int argc, char **argv)
{
	if (!(argc == 2 || (argc == 3 && !strcmp(argv[1], "logrelay"))) || fcntl(3, F_GETFD) < 0)
		return 2;
	const char *path = argv[argc - 1];
	signal(SIGHUP, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	if (path[0] == '/' && chdir("/") < 0)
		return 1;
	return logrelay_run(0, 1, 2, 3, path, LOGRELAY_MAX_BYTES);
}
