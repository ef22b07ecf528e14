/*
 * bench_apply.c - durable applies per second through the filesystem.
 *
 *     $ build/bench/bench_apply -w 1,8 -t 3 -r 5 /cluster/configmaps
 *     apply create w=1 run 1: 3321 applies in 3.00 s = 1106.7/s (p50 0.85 ms, p99 2.39 ms), ...
 *     ...
 *     result apply_create_w8 1477 applies/s
 *
 * Each writer (a thread) writes small ConfigMap manifests, each to its own
 * file: open(O_WRONLY|O_CREAT|O_TRUNC), write, close.  On clusterfs a
 * manifest is applied when its file is flushed, and close() returning 0
 * means the object is committed to disk, so every successful close counts
 * as one durable apply.  A run lasts a fixed time; the figure is the median
 * rate over the runs.  After each run the writers remove their files (each
 * rm is a durable delete, timed for information) so that every run starts
 * from the same folder.
 *
 * Modes:
 *   default  create: every write names a new object, bench-W-I.yaml
 *   -u       update: each writer rewrites its own 4 objects with new data
 *   -s       fsync each file before close: the peer loop on a plain
 *            directory (ext4), where close alone would not be durable
 *
 * After each create run the folder is listed: it must show exactly as
 * many of the benchmark's objects as applies succeeded.  The exit status
 * is 1 if any apply failed or that count differs.
 *
 * Figures go to stdout as "result LABEL_MODE_wN VALUE applies/s" (and
 * LABEL_MODE_wN_p50 in ms, LABEL_delete_wN in deletes/s).
 */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "tests/bench/bench.h"

#define PROG	    "bench_apply"
#define UPDATE_SET  4 /* objects per writer in the update mode */
#define MAX_WRITERS 256

static int exit_code; /* 1 once an apply failed or a count did not match */

struct config {
	const char *dir;    /* the folder written to */
	const char *label;  /* result key prefix */
	const char *prefix; /* object name prefix */
	double seconds;	    /* length of one run */
	int runs;
	bool update;
	bool fsync;
};

struct writer {
	const struct config *cfg;
	int id;
	pthread_barrier_t *start;
	int64_t deadline_ns; /* set by the main thread before the barrier */
	/* results, owned by this writer until joined */
	long done, failed;
	int first_errno;
	int64_t end_ns;
	struct samples lat_ms;
	long created; /* create mode: files bench-W-0 .. bench-W-(created-1) may exist */
};

/* The path of writer w's object number i.  Can't fail. */
static void obj_path(const struct config *c, int w, long i, char *out, size_t cap)
{
	if (c->update)
		snprintf(out, cap, "%s/%s-%d-u%ld.yaml", c->dir, c->prefix, w, i);
	else
		snprintf(out, cap, "%s/%s-%d-%ld.yaml", c->dir, c->prefix, w, i);
}

/* A small ConfigMap manifest for object i of writer w, version seq. */
static int manifest(const struct config *c, int w, long i, long seq, char *out, size_t cap)
{
	return snprintf(out, cap,
			"apiVersion: v1\n"
			"kind: ConfigMap\n"
			"metadata:\n"
			"  name: %s-%d-%s%ld\n"
			"data:\n"
			"  writer: \"%d\"\n"
			"  seq: \"%ld\"\n",
			c->prefix, w, c->update ? "u" : "", i, w, seq);
}

/*
 * One apply: open, write, (fsync), close.  Returns 0 when close succeeded,
 * else the errno of the first failing call.
 */
static int apply_one(const struct config *c, const char *path, const char *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return errno;
	int err = 0;
	if (bench_write_all(fd, buf, len) < 0)
		err = errno;
	if (!err && c->fsync && fsync(fd) < 0)
		err = errno;
	if (close(fd) < 0 && !err)
		err = errno;
	return err;
}

/* The writer thread: applies until the deadline, counting successes. */
static void *writer_main(void *arg)
{
	struct writer *w = arg;
	const struct config *c = w->cfg;
	char path[4096], buf[512];
	pthread_barrier_wait(w->start);
	for (long i = 0;; i++) {
		int64_t t0 = bench_ns();
		if (t0 >= w->deadline_ns)
			break;
		long obj = c->update ? i % UPDATE_SET : i;
		obj_path(c, w->id, obj, path, sizeof(path));
		int len = manifest(c, w->id, obj, i, buf, sizeof(buf));
		int err = apply_one(c, path, buf, (size_t)len);
		int64_t t1 = bench_ns();
		if (!c->update)
			w->created = i + 1;
		if (err) {
			if (!w->failed++)
				w->first_errno = err;
			continue;
		}
		w->done++;
		samples_add(&w->lat_ms, (double)(t1 - t0) / 1e6);
	}
	w->end_ns = bench_ns();
	return NULL;
}

/*
 * Counts the files of this benchmark (PREFIX-W-I.yaml, create mode) that
 * dir lists now: after a run it must equal the successful applies.
 */
static long count_listed(const struct config *c)
{
	DIR *d = opendir(c->dir);
	if (!d)
		bench_die(PROG, "opendir %s: %s", c->dir, strerror(errno));
	size_t pl = strlen(c->prefix);
	long n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *s = de->d_name;
		if (strncmp(s, c->prefix, pl) || s[pl] != '-')
			continue;
		s += pl + 1;
		size_t a = strspn(s, "0123456789");
		size_t b = a && s[a] == '-' ? strspn(s + a + 1, "0123456789") : 0;
		if (b && !strcmp(s + a + 1 + b, ".yaml"))
			n++;
	}
	closedir(d);
	return n;
}

/* Removes writer w's files; returns how many were removed. */
static long writer_cleanup(struct writer *w)
{
	const struct config *c = w->cfg;
	char path[4096];
	long n = c->update ? UPDATE_SET : w->created, removed = 0;
	for (long i = 0; i < n; i++) {
		obj_path(c, w->id, i, path, sizeof(path));
		if (unlink(path) == 0)
			removed++;
		else if (errno != ENOENT)
			fprintf(stderr, PROG ": rm %s: %s\n", path, strerror(errno));
	}
	return removed;
}

/* Thread body of cleanup_all: removes one writer's files, count in done. */
static void *cleanup_main(void *arg)
{
	struct writer *w = arg;
	w->done = writer_cleanup(w);
	return NULL;
}

/* Runs cleanup of every writer in parallel; returns deletes per second. */
static double cleanup_all(struct writer *ws, int n)
{
	pthread_t tid[MAX_WRITERS];
	int64_t t0 = bench_ns();
	for (int i = 0; i < n; i++)
		if (pthread_create(&tid[i], NULL, cleanup_main, &ws[i]) != 0)
			bench_die(PROG, "pthread_create failed");
	long removed = 0;
	for (int i = 0; i < n; i++) {
		pthread_join(tid[i], NULL);
		removed += ws[i].done;
	}
	double s = (double)(bench_ns() - t0) / 1e9;
	return s > 0 ? (double)removed / s : 0;
}

/* Creates the update mode's objects before a timed run. */
static void prepare_update(const struct config *c, int writers)
{
	char path[4096], buf[512];
	for (int w = 0; w < writers; w++) {
		for (long i = 0; i < UPDATE_SET; i++) {
			obj_path(c, w, i, path, sizeof(path));
			int len = manifest(c, w, i, -1, buf, sizeof(buf));
			int err = apply_one(c, path, buf, (size_t)len);
			if (err)
				bench_die(PROG, "creating %s: %s", path, strerror(err));
		}
	}
}

/*
 * One timed run with n writers.  Returns the rate (applies/s) and adds
 * every apply's latency to lat; *del_rate gets the cleanup's deletes/s.
 */
static double run_once(const struct config *c, int n, int run, struct samples *lat,
		       double *del_rate)
{
	struct writer ws[MAX_WRITERS];
	pthread_t tid[MAX_WRITERS];
	pthread_barrier_t start;
	if (c->update)
		prepare_update(c, n);
	pthread_barrier_init(&start, NULL, (unsigned)n + 1);
	memset(ws, 0, sizeof(ws));
	for (int i = 0; i < n; i++) {
		ws[i].cfg = c;
		ws[i].id = i;
		ws[i].start = &start;
		if (pthread_create(&tid[i], NULL, writer_main, &ws[i]) != 0)
			bench_die(PROG, "pthread_create failed");
	}
	int64_t t0 = bench_ns();
	for (int i = 0; i < n; i++)
		ws[i].deadline_ns = t0 + (int64_t)(c->seconds * 1e9);
	pthread_barrier_wait(&start);
	t0 = bench_ns();
	long done = 0, failed = 0;
	int first_errno = 0;
	int64_t end = t0;
	for (int i = 0; i < n; i++) {
		pthread_join(tid[i], NULL);
		done += ws[i].done;
		failed += ws[i].failed;
		if (!first_errno)
			first_errno = ws[i].first_errno;
		if (ws[i].end_ns > end)
			end = ws[i].end_ns;
	}
	pthread_barrier_destroy(&start);
	double secs = (double)(end - t0) / 1e9;
	double rate = secs > 0 ? (double)done / secs : 0;
	struct samples runlat = {0};
	for (int i = 0; i < n; i++) {
		samples_merge(&runlat, &ws[i].lat_ms);
		samples_free(&ws[i].lat_ms);
	}
	if (failed)
		exit_code = 1;
	samples_merge(lat, &runlat);
	samples_sort(&runlat);
	printf("%s %s w=%d run %d: %ld applies in %.2f s = %.1f/s (p50 %.2f ms, p99 %.2f ms), "
	       "%ld failed%s%s\n",
	       c->label, c->update ? "update" : "create", n, run, done, secs, rate,
	       samples_pct(&runlat, 50), samples_pct(&runlat, 99), failed,
	       failed ? ": first error " : "", failed ? strerror(first_errno) : "");
	fflush(stdout);
	samples_free(&runlat);
	if (!c->update) {
		long listed = count_listed(c);
		if (listed != done) {
			printf("%s: WARNING: %ld applies succeeded but the folder lists %ld\n",
			       c->label, done, listed);
			exit_code = 1;
		}
	}
	*del_rate = cleanup_all(ws, n);
	return rate;
}

/* Every run for n writers; prints the median rate as a result line. */
static void bench_writers(const struct config *c, int n)
{
	struct samples rates = {0}, lat = {0}, dels = {0};
	for (int r = 1; r <= c->runs; r++) {
		double del;
		samples_add(&rates, run_once(c, n, r, &lat, &del));
		samples_add(&dels, del);
	}
	samples_sort(&rates);
	samples_sort(&lat);
	samples_sort(&dels);
	const char *mode = c->update ? "update" : "create";
	char key[256];
	printf("%s %s w=%d: median %.1f applies/s (min %.1f, max %.1f over %d runs); "
	       "latency p50 %.2f ms p90 %.2f ms p99 %.2f ms\n",
	       c->label, mode, n, samples_pct(&rates, 50), rates.v[0], rates.v[rates.n - 1],
	       c->runs, samples_pct(&lat, 50), samples_pct(&lat, 90), samples_pct(&lat, 99));
	snprintf(key, sizeof(key), "%s_%s_w%d", c->label, mode, n);
	bench_result(key, samples_pct(&rates, 50), "applies/s");
	snprintf(key, sizeof(key), "%s_%s_w%d_p50", c->label, mode, n);
	bench_result(key, samples_pct(&lat, 50), "ms");
	if (!c->update) {
		snprintf(key, sizeof(key), "%s_delete_w%d", c->label, n);
		bench_result(key, samples_pct(&dels, 50), "deletes/s");
	}
	samples_free(&rates);
	samples_free(&lat);
	samples_free(&dels);
}

/* Prints the usage on stderr and exits 2. */
static void usage(void)
{
	fputs("usage: " PROG " [-w N[,N...]] [-t SECONDS] [-r RUNS] [-u] [-s] [-l LABEL]\n"
	      "                   [-p PREFIX] DIR\n"
	      "  DIR   a configmaps folder of a clusterfs mount (or, with -s, any directory)\n"
	      "  -w    writer counts to measure (default 1,8)\n"
	      "  -t    seconds per run (default 3)     -r  runs per figure (default 3)\n"
	      "  -u    update mode: rewrite 4 objects per writer instead of creating\n"
	      "  -s    fsync each file before close (the plain-filesystem peer)\n"
	      "  -l    label of the result lines (default apply)\n"
	      "  -p    object name prefix (default bench)\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	struct config c = {.label = "apply", .prefix = "bench", .seconds = 3, .runs = 3};
	const char *wlist = "1,8";
	int opt;
	while ((opt = getopt(argc, argv, "w:t:r:usl:p:h")) != -1) {
		switch (opt) {
		case 'w':
			wlist = optarg;
			break;
		case 't':
			c.seconds = atof(optarg);
			break;
		case 'r':
			c.runs = atoi(optarg);
			break;
		case 'u':
			c.update = true;
			break;
		case 's':
			c.fsync = true;
			break;
		case 'l':
			c.label = optarg;
			break;
		case 'p':
			c.prefix = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc - 1 || c.seconds <= 0 || c.runs < 1)
		usage();
	c.dir = argv[optind];
	struct stat st;
	if (stat(c.dir, &st) < 0 || !S_ISDIR(st.st_mode))
		bench_die(PROG, "%s: not a directory", c.dir);
	for (const char *s = wlist; *s;) {
		char *end;
		long n = strtol(s, &end, 10);
		if (end == s || n < 1 || n > MAX_WRITERS)
			bench_die(PROG, "-w: want writer counts from 1 to %d, got \"%s\"",
				  MAX_WRITERS, wlist);
		if (*end && *end != ',')
			bench_die(PROG, "-w: bad list \"%s\"", wlist);
		bench_writers(&c, (int)n);
		s = *end == ',' ? end + 1 : end;
	}
	return exit_code;
}
