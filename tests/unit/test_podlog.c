/*
 * test_podlog.c - unit tests of engine/podlog: which ATTEMPT.log is current
 * and previous (rotated parts and odd names ignored), stat of a missing
 * log, a reader that sees appends and truncation at once, moves to a new
 * attempt (after a restart, at the end of its file or at any offset), and
 * to a file made anew; read_all's cap; folder names that are refused;
 * the line-time index: its format, times by offset, the since search.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/mem.h"
#include "engine/podlog.h"
#include "tests/unit/unit.h"

static char *base;

/* Writes text as dir/name (mode "w" or "a"). */
static void put(const char *dir, const char *name, const char *mode, const char *text)
{
	char *p = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(p, mode);
	if (!f) {
		perror(p);
		exit(1);
	}
	fputs(text, f);
	fclose(f);
	free(p);
}

/* A fresh folder of attempts. */
static char *fresh(const char *name)
{
	char *d = xasprintf("%s/%s", base, name);
	if (mkdir(d, 0755) < 0) {
		perror(d);
		exit(1);
	}
	return d;
}

/* What l reads from off, as a string (caller frees). */
static char *read_at(struct podlog *l, off_t off)
{
	static char b[4096];
	ssize_t n = podlog_read(l, off, b, sizeof(b) - 1);
	b[n > 0 ? n : 0] = '\0';
	return n < 0 ? xstrdup("<error>") : xstrdup(b);
}

#define CHECK_READ(l, off, want)                                                                   \
	do {                                                                                       \
		char *got_ = read_at((l), (off));                                                  \
		CHECK(!strcmp(got_, (want)));                                                      \
		if (strcmp(got_, (want)))                                                          \
			fprintf(stderr, "    read %s, want %s\n", got_, (want));                   \
		free(got_);                                                                        \
	} while (0)

static void test_pick(void)
{
	char *d = fresh("pick");
	CHECK(podlog_pick(d, PODLOG_CURRENT) == -1);
	CHECK(podlog_pick(d, PODLOG_PREVIOUS) == -1);
	put(d, "0.log", "w", "a");
	CHECK(podlog_pick(d, PODLOG_CURRENT) == 0);
	CHECK(podlog_pick(d, PODLOG_PREVIOUS) == -1);
	put(d, "10.log", "w", "b");
	put(d, "9.log", "w", "c");
	put(d, "10.log.1", "w", "rotated");
	put(d, "11.log.1", "w", "rotated, no 11.log");
	put(d, "012.log", "w", "leading zero");
	put(d, "13.txt", "w", "not a log");
	put(d, "-14.log", "w", "sign");
	put(d, "9999999999.log", "w", "past INT_MAX");
	CHECK(podlog_pick(d, PODLOG_CURRENT) == 10);
	CHECK(podlog_pick(d, PODLOG_PREVIOUS) == 9);
	CHECK(podlog_pick("/nonexistent/dir", PODLOG_CURRENT) == -1);
	CHECK(podlog_pick(NULL, PODLOG_CURRENT) == -1);
	free(d);
}

static void test_stat(void)
{
	char *d = fresh("stat");
	struct stat st;
	CHECK(podlog_stat(d, PODLOG_CURRENT, &st) == -ENOENT);
	CHECK(podlog_stat(NULL, PODLOG_CURRENT, &st) == -ENOENT);
	put(d, "0.log", "w", "12345");
	put(d, "1.log", "w", "1234567");
	CHECK(podlog_stat(d, PODLOG_CURRENT, &st) == 0 && st.st_size == 7);
	CHECK(podlog_stat(d, PODLOG_PREVIOUS, &st) == 0 && st.st_size == 5);
	free(d);
}

static void test_dir_new(void)
{
	char *p = podlog_dir_new("/d/logs", "u-1", "web");
	CHECK(p && !strcmp(p, "/d/logs/u-1/web"));
	free(p);
	CHECK(!podlog_dir_new(NULL, "u", "web"));
	CHECK(!podlog_dir_new("/d", NULL, "web"));
	CHECK(!podlog_dir_new("/d", "", "web"));
	CHECK(!podlog_dir_new("/d", "u", ".."));
	CHECK(!podlog_dir_new("/d", "..", "web"));
	CHECK(!podlog_dir_new("/d", "u", "a/b"));
	CHECK(!podlog_dir_new("/d", "u", "."));
}

/* Appends and truncation show at once through an open reader. */
static void test_live(void)
{
	char *d = fresh("live");
	struct podlog *l = podlog_open(d, PODLOG_CURRENT);
	CHECK(podlog_attempt(l) == -1);
	CHECK_READ(l, 0, ""); /* nothing yet: empty, not an error */
	put(d, "0.log", "w", "one\n");
	CHECK_READ(l, 0, "one\n"); /* appeared after the open */
	CHECK(podlog_attempt(l) == 0);
	put(d, "0.log", "a", "two\n");
	CHECK_READ(l, 4, "two\n");
	CHECK_READ(l, 8, "");
	put(d, "0.log", "w", "x\n"); /* copy-truncate */
	CHECK_READ(l, 8, "");
	CHECK_READ(l, 0, "x\n");
	CHECK(podlog_attempt(l) == 0);
	char neg[4];
	CHECK(podlog_read(l, -1, neg, sizeof(neg)) == -EINVAL);
	podlog_free(l);
	free(d);
}

/* A restart makes a new attempt: the reader moves to it, at the end of the
 * old file or at any offset; logs.previous moves too. */
static void test_restart(void)
{
	char *d = fresh("restart");
	put(d, "0.log", "w", "attempt zero, long\n");
	struct podlog *cur = podlog_open(d, PODLOG_CURRENT);
	struct podlog *prev = podlog_open(d, PODLOG_PREVIOUS);
	CHECK_READ(cur, 0, "attempt zero, long\n");
	CHECK_READ(prev, 0, "");
	CHECK(podlog_attempt(prev) == -1);
	usleep(20000); /* a later folder mtime */
	put(d, "1.log", "w", "one\n");
	CHECK_READ(cur, 0, "one\n"); /* tail after "file truncated": from 0 */
	CHECK(podlog_attempt(cur) == 1);
	CHECK_READ(prev, 0, "attempt zero, long\n");
	CHECK(podlog_attempt(prev) == 0);
	podlog_free(cur);
	podlog_free(prev);

	/* At the end of the old file, even when the folder's mtime did not
	 * move (set it back by hand). */
	cur = podlog_open(d, PODLOG_CURRENT);
	struct stat ds;
	stat(d, &ds);
	CHECK_READ(cur, 4, "");
	put(d, "2.log", "w", "attempt two\n");
	struct timespec ts[2] = {ds.st_atim, ds.st_mtim};
	utimensat(AT_FDCWD, d, ts, 0);
	CHECK_READ(cur, 4, "mpt two\n");
	CHECK(podlog_attempt(cur) == 2);

	/* A file made anew under the same name is another file. */
	char *p2 = xasprintf("%s/2.log", d);
	unlink(p2);
	put(d, "2.log", "w", "recreated\n");
	CHECK_READ(cur, 0, "recreated\n");
	free(p2);
	podlog_free(cur);
	free(d);
}

static void test_read_all(void)
{
	char *d = fresh("all");
	struct buf b = {0};
	CHECK(podlog_read_all(d, PODLOG_CURRENT, 100, &b) == 0 && b.len == 0);
	put(d, "0.log", "w", "0123456789");
	CHECK(podlog_read_all(d, PODLOG_CURRENT, 100, &b) == 0 && b.len == 10);
	CHECK(b.s && !strcmp(b.s, "0123456789"));
	buf_free(&b);
	CHECK(podlog_read_all(d, PODLOG_CURRENT, 9, &b) == -EFBIG && b.len == 0);
	CHECK(podlog_read_all(d, PODLOG_CURRENT, 10, &b) == 0 && b.len == 10);
	buf_free(&b);
	free(d);
}

/* Writes an index of n records (line i at offs[i], time ns[i]) as dir/name. */
static void put_index(const char *dir, const char *name, const off_t *offs, const int64_t *ns,
		      size_t n)
{
	char *p = xasprintf("%s/%s", dir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	for (size_t i = 0; i < n; i++) {
		unsigned char raw[PODLOG_REC_SIZE];
		struct podlog_rec r = {.off = offs[i], .ns = ns[i], .stream = (int)(i % 2)};
		podlog_rec_pack(&r, raw);
		if (write(fd, raw, sizeof(raw)) != (ssize_t)sizeof(raw))
			exit(1);
	}
	close(fd);
	free(p);
}

static void test_index_format(void)
{
	struct podlog_rec r = {.off = ((off_t)1 << 40) + 7, .ns = 1796630665717317610, .stream = 1},
			  back;
	unsigned char raw[PODLOG_REC_SIZE];
	podlog_rec_pack(&r, raw);
	podlog_rec_unpack(raw, &back);
	CHECK(back.off == r.off && back.ns == r.ns && back.stream == 1);
	char *ip = podlog_index_path("/d/logs/u/web/12.log");
	CHECK(!strcmp(ip, "/d/logs/u/web/12.idx"));
	free(ip);
	char t[PODLOG_TIME_LEN + 1];
	podlog_time_format(0, t);
	CHECK(!strcmp(t, "1970-01-01T00:00:00.000000000Z"));
	podlog_time_format(1796630665717317610, t);
	CHECK(!strcmp(t, "2026-12-07T08:04:25.717317610Z"));
	podlog_time_format(1000000000LL * 86400 * 366 + 5, t); /* 1971-01-02 */
	CHECK(!strcmp(t, "1971-01-02T00:00:00.000000005Z"));
}

/* "a\nbb\nccc\n..." : line i is i + 1 letters and '\n', written at second
 * 100 + i (lines 3 and 4 in the same second). */
static void test_line_times(void)
{
	char *d = fresh("times");
	put(d, "0.log", "w", "a\nbb\nccc\ndddd\neeeee\nffffff");
	off_t offs[] = {0, 2, 5, 9, 14, 20};
	int64_t ns[] = {100e9, 101e9, 102e9, 103e9, 103e9, 105e9};
	put_index(d, "0.idx", offs, ns, 6);
	struct podlog *l = podlog_open(d, PODLOG_CURRENT);
	int stream = -1;
	CHECK(podlog_line_time(l, 0, &stream) == (int64_t)100e9 && stream == 0);
	CHECK(podlog_line_time(l, 5, &stream) == (int64_t)102e9 && stream == 0);
	CHECK(podlog_line_time(l, 9, &stream) == (int64_t)103e9 && stream == 1);
	CHECK(podlog_line_time(l, 7, NULL) == (int64_t)102e9); /* mid-line: its start's */
	CHECK(podlog_line_time(l, 20, NULL) == (int64_t)105e9);
	CHECK(podlog_line_time(l, 2, NULL) == (int64_t)101e9); /* backwards */
	/* since: the first line at or after */
	CHECK(podlog_since(l, 0) == 0);
	CHECK(podlog_since(l, 100e9) == 0);
	CHECK(podlog_since(l, 100e9 + 1) == 2);
	CHECK(podlog_since(l, 103e9) == 9); /* the first of two in that second */
	CHECK(podlog_since(l, 104e9) == 20);
	CHECK(podlog_since(l, 106e9) == 26); /* none: the size */
	podlog_free(l);
	free(d);
}

/* Many lines: lookups in order read the index on; one far ahead, and
 * records appended after the reader read the index, are found. */
static void test_line_times_many(void)
{
	char *d = fresh("many");
	enum { N = 1000 };
	static off_t offs[N + 1];
	static int64_t ns[N + 1];
	struct buf text = {0};
	for (int i = 0; i <= N; i++) {
		offs[i] = (off_t)text.len;
		ns[i] = (int64_t)(1000 + i) * 1000000;
		char line[32];
		int n = snprintf(line, sizeof(line), "line %d\n", i);
		buf_add(&text, line, (size_t)n);
	}
	char *p = xasprintf("%s/0.log", d);
	FILE *f = fopen(p, "w");
	fwrite(text.s, 1, text.len, f);
	fclose(f);
	put_index(d, "0.idx", offs, ns, N);
	struct podlog *l = podlog_open(d, PODLOG_CURRENT);
	int bad = 0;
	for (int i = 0; i < N; i++)
		bad += podlog_line_time(l, offs[i], NULL) != ns[i];
	CHECK(bad == 0);
	CHECK(podlog_line_time(l, offs[3], NULL) == ns[3]);
	CHECK(podlog_line_time(l, offs[999], NULL) == ns[999]);
	CHECK(podlog_since(l, ns[500]) == offs[500]);
	CHECK(podlog_since(l, ns[500] - 1) == offs[500]);
	CHECK(podlog_since(l, ns[N - 1] + 1) == (off_t)text.len);
	/* the last line gets its record now */
	put_index(d, "0.idx", offs, ns, N + 1);
	CHECK(podlog_line_time(l, offs[N], NULL) == ns[N]);
	podlog_free(l);
	free(p);
	buf_free(&text);
	free(d);
}

/* No index (a log written before the relay): the file's mtime. */
static void test_line_times_none(void)
{
	char *d = fresh("noidx");
	put(d, "0.log", "w", "x\ny\n");
	char *p = xasprintf("%s/0.log", d);
	struct timespec tv[2] = {{.tv_sec = 200}, {.tv_sec = 200}};
	CHECK(utimensat(AT_FDCWD, p, tv, 0) == 0);
	struct podlog *l = podlog_open(d, PODLOG_CURRENT);
	CHECK(podlog_line_time(l, 2, NULL) == (int64_t)200e9);
	CHECK(podlog_since(l, 100e9) == 0);
	CHECK(podlog_since(l, 300e9) == 4);
	CHECK(podlog_size(l) == 4);
	podlog_free(l);
	free(p);
	free(d);
}

int main(void)
{
	base = xstrdup("/tmp/cfs-test-podlog.XXXXXX");
	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_pick);
	RUN(test_stat);
	RUN(test_dir_new);
	RUN(test_live);
	RUN(test_restart);
	RUN(test_read_all);
	RUN(test_index_format);
	RUN(test_line_times);
	RUN(test_line_times_many);
	RUN(test_line_times_none);
	char *rm = xasprintf("rm -rf '%s'", base);
	if (system(rm) != 0)
		fprintf(stderr, "could not remove %s\n", base);
	free(rm);
	free(base);
	return unit_done();
}
