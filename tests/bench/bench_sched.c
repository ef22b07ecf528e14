/*
 * bench_sched.c - the clock of bench_cluster.sh: makes one write into a
 * live clusterfs and times what the control plane does about it, from the
 * outside, without slowing the server down.
 *
 *     $ build/bench/bench_sched run -n 30000 -d bench -k e2e /cluster \
 *           bench.yaml /cluster/deployments/bench.yaml
 *     e2e:  1.0 s  created  1000  bound   512  failed      0  ready   400
 *     ...
 *     result e2e_created_s 31.2 s
 *     result e2e_bound_s 32.0 s
 *     result e2e_running_s 32.4 s
 *     ...
 *     $ build/bench/bench_sched settle -n 30000 /cluster
 *
 * `run` copies SRC into DEST with one open, write and close (the moment
 * before the open is time zero) and then watches three things until N pods
 * are Running:
 *
 *   - /cluster/events, followed from its size at the start like tail -f:
 *     SuccessfulCreate lines count created pods, Scheduled lines count
 *     bindings, FailedScheduling lines count failed attempts (a combined
 *     event's line, "(combined from similar events): ... (xN)", counts
 *     what its N grew by).  Each line
 *     is stamped when this program reads it (the lines' own timestamps
 *     have 1 s resolution), every POLL ms.  Events are recorded after
 *     the fact, so these times are upper bounds of the real ones.
 *   - deployments/NAME/status (-d NAME): readyReplicas, every 100 ms; one
 *     object, cheap to render.
 *   - /cluster/status: the "pods:" line, read only once the Deployment
 *     says N ready (or every 100 ms with -s or without -d).  Rendering it
 *     walks every pod: at 30,000 pods one read costs the server a few
 *     hundred milliseconds of CPU, which a busy poll would steal from the
 *     controllers being measured.  Its "N Running" is the end.
 *
 * The figures: time of the last of N creations, of the first and last of
 * N bindings, of N ready, of N Running (all from time zero, in seconds),
 * the binding rate between the first and the last binding and the rate
 * over the whole interval from the write.  A count that never reaches N
 * prints no figure, and the exit status is 1.
 *
 * `settle` waits (from the start of /cluster/events) until N pods were
 * created and each was found unschedulable once, and /cluster/status
 * shows N Pending: the scheduler has nothing left to do.
 *
 * The events feed drops its oldest half past 16 MiB; if that happens under
 * the reader, the counts are wrong, and it says so and fails.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <sys/stat.h>

#include "tests/bench/bench.h"

#define PROG	     "bench_sched"
#define STATUS_MAX   (64 * 1024)
#define READ_CHUNK   (1024 * 1024)
#define DRAIN_AFTER  5	/* seconds to wait for late events once the pods are Running */
#define COMBINED_MAX 64 /* combined events followed */
#define COMBINED     "(combined from similar events): "

struct opts {
	long n;		    /* pods */
	int timeout_s;	    /* give up after */
	int poll_ms;	    /* events and Deployment status */
	bool poll_status;   /* poll /cluster/status itself */
	const char *deploy; /* deployments/NAME/status to poll, or NULL */
	const char *key;    /* prefix of the result keys */
	const char *mnt;
};

/* The events feed, followed by offset. */
struct follower {
	int fd;
	off_t off;
	char *buf;  /* READ_CHUNK bytes */
	char *line; /* a partial line carried to the next read */
	size_t llen, lcap;
	bool broken; /* the feed shrank under us: counts unreliable */
	struct combined {
		char what[256]; /* "REASON OBJECT" */
		long count;	/* its last (xN) */
	} comb[COMBINED_MAX];
	size_t ncomb;
	long created, bound, failed;
	int64_t t_created, t_first_bound, t_bound, t_failed; /* when the count reached n (or 1) */
};

static int64_t t0;

static double secs(int64_t ns)
{
	return (double)(ns - t0) / 1e9;
}

/*
 * How many occurrences a line (at p: "REASON OBJECT MESSAGE") adds: 1, or
 * for a combined event (the server combines similar events of one object
 * as Kubernetes does: "(combined from similar events): MESSAGE (xN)") what
 * its count N grew by since its last line.
 */
static long occurrences(struct follower *f, const char *p)
{
	const char *obj = strchr(p, ' ');
	const char *msg = obj ? strchr(obj + 1, ' ') : NULL;
	if (!msg || strncmp(msg + 1, COMBINED, strlen(COMBINED)))
		return 1;
	const char *x = strrchr(msg, '(');
	long count = x && !strncmp(x, "(x", 2) ? atol(x + 2) : 1;
	char what[256];
	snprintf(what, sizeof(what), "%.*s", (int)(msg - p), p);
	size_t i = 0;
	while (i < f->ncomb && strcmp(f->comb[i].what, what))
		i++;
	if (i == f->ncomb) {
		if (f->ncomb == COMBINED_MAX)
			bench_die(PROG, "more than %d combined events", COMBINED_MAX);
		snprintf(f->comb[f->ncomb++].what, sizeof(what), "%s", what);
	}
	/* A count that went down is another combined event of the same. */
	long add = count > f->comb[i].count ? count - f->comb[i].count : count;
	f->comb[i].count = count;
	return add;
}

/* Counts one line of the feed, read at time now. */
static void count_line(struct follower *f, const char *line, long n, int64_t now)
{
	/* "TIMESTAMP TYPE REASON OBJECT MESSAGE" */
	const char *p = strchr(line, ' ');
	p = p ? strchr(p + 1, ' ') : NULL;
	if (!p)
		return;
	p++;
	if (!strncmp(p, "SuccessfulCreate ", 17)) {
		long was = f->created;
		f->created += occurrences(f, p);
		if (was < n && f->created >= n)
			f->t_created = now;
	} else if (!strncmp(p, "Scheduled ", 10)) {
		long was = f->bound;
		f->bound += occurrences(f, p);
		if (was < 1 && f->bound >= 1)
			f->t_first_bound = now;
		if (was < n && f->bound >= n)
			f->t_bound = now;
	} else if (!strncmp(p, "FailedScheduling ", 17)) {
		long was = f->failed;
		f->failed += occurrences(f, p);
		if (was < n && f->failed >= n)
			f->t_failed = now;
	}
}

static void follower_open(struct follower *f, const char *mnt, bool from_start)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/events", mnt);
	memset(f, 0, sizeof(*f));
	f->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0)
		bench_die(PROG, "%s: %s", path, strerror(errno));
	struct stat st;
	if (!from_start && fstat(f->fd, &st) == 0)
		f->off = st.st_size;
	f->buf = bench_alloc(READ_CHUNK);
}

/* Reads what the feed has beyond our offset and counts its lines. */
static void follower_drain(struct follower *f, long n)
{
	for (;;) {
		ssize_t r = pread(f->fd, f->buf, READ_CHUNK, f->off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			bench_die(PROG, "reading events: %s", strerror(errno));
		if (r == 0) {
			struct stat st;
			if (fstat(f->fd, &st) == 0 && st.st_size < f->off && !f->broken) {
				fprintf(stderr,
					"%s: the events feed was cut (%lld < %lld bytes);"
					" counts from here on are unreliable\n",
					PROG, (long long)st.st_size, (long long)f->off);
				f->broken = true;
			}
			return;
		}
		int64_t now = bench_ns();
		f->off += r;
		const char *s = f->buf, *end = f->buf + r;
		while (s < end) {
			const char *nl = memchr(s, '\n', (size_t)(end - s));
			size_t len = (size_t)((nl ? nl : end) - s);
			if (f->llen + len + 1 > f->lcap) {
				f->lcap = (f->llen + len + 1) * 2;
				char *l = realloc(f->line, f->lcap);
				if (!l)
					bench_die(PROG, "out of memory");
				f->line = l;
			}
			memcpy(f->line + f->llen, s, len);
			f->llen += len;
			if (!nl)
				break;
			f->line[f->llen] = '\0';
			count_line(f, f->line, n, now);
			f->llen = 0;
			s = nl + 1;
		}
	}
}

/* Reads a small generated file whole into buf (NUL-terminated).  Returns
 * its length, or -1 with errno set. */
static ssize_t slurp(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = 0;
	ssize_t r;
	while (len + 1 < cap && (r = read(fd, buf + len, cap - 1 - len)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	return (ssize_t)len;
}

/* Pods in a phase, from /cluster/status: "pods:  N (a Pending, b Running, ...)".
 * total gets N.  -1 when unreadable. */
static long status_phase(const char *mnt, const char *phase, long *total)
{
	static char buf[STATUS_MAX];
	char path[4096];
	snprintf(path, sizeof(path), "%s/status", mnt);
	if (slurp(path, buf, sizeof(buf)) < 0)
		return -1;
	const char *p = strstr(buf, "\npods:");
	if (!p)
		return -1;
	p += 6;
	*total = strtol(p, NULL, 10);
	const char *eol = strchr(p, '\n');
	size_t plen = strlen(phase);
	for (const char *q = strchr(p, '('); q && (!eol || q < eol); q = strchr(q, ',')) {
		char *end;
		long v = strtol(q + 1, &end, 10);
		if (end[0] == ' ' && !strncmp(end + 1, phase, plen))
			return v;
		q++;
	}
	return -1;
}

/* readyReplicas of deployments/NAME, or -1. */
static long deploy_ready(const char *mnt, const char *name)
{
	char buf[8192], path[4096];
	snprintf(path, sizeof(path), "%s/deployments/%s/status", mnt, name);
	if (slurp(path, buf, sizeof(buf)) < 0)
		return -1;
	const char *p = strstr(buf, "readyReplicas:");
	return p ? strtol(p + 14, NULL, 10) : 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* Copies src into dest: one open, the whole file in one write, close. */
static void write_trigger(const char *src, const char *dest, int64_t *t_done)
{
	int in = open(src, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (in < 0 || fstat(in, &st) < 0)
		bench_die(PROG, "%s: %s", src, strerror(errno));
	char *buf = bench_alloc((size_t)st.st_size);
	if (read(in, buf, (size_t)st.st_size) != st.st_size)
		bench_die(PROG, "%s: short read", src);
	close(in);
	t0 = bench_ns();
	int out = open(dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0)
		bench_die(PROG, "%s: %s", dest, strerror(errno));
	if (bench_write_all(out, buf, (size_t)st.st_size) < 0)
		bench_die(PROG, "writing %s: %s", dest, strerror(errno));
	if (close(out) < 0)
		bench_die(PROG, "writing %s (at close): %s (see errors)", dest, strerror(errno));
	*t_done = bench_ns();
	free(buf);
}

static void progress(const struct opts *o, const struct follower *f, long ready, int64_t now)
{
	printf("%s: %5.1f s  created %6ld  bound %6ld  failed %6ld  ready %6ld\n", o->key,
	       secs(now), f->created, f->bound, f->failed, ready);
	fflush(stdout);
}

static int cmd_run(const struct opts *o, const char *src, const char *dest)
{
	struct follower f;
	follower_open(&f, o->mnt, false);
	int64_t t_written;
	write_trigger(src, dest, &t_written);
	int64_t deadline = t0 + (int64_t)o->timeout_s * 1000000000;
	int64_t next_deploy = t0, next_progress = t0 + 1000000000;
	int64_t t_ready = 0, t_running = 0, t_status_ns = 0;
	long ready = -1, running = -1, total = 0, status_reads = 0;
	bool use_status = o->poll_status || !o->deploy;

	while (!t_running) {
		int64_t now = bench_ns();
		if (now > deadline)
			break;
		follower_drain(&f, o->n);
		now = bench_ns();
		if (!use_status && now >= next_deploy) {
			ready = deploy_ready(o->mnt, o->deploy);
			next_deploy = now + 100000000;
			if (ready >= o->n && !t_ready)
				t_ready = bench_ns();
		}
		if (use_status || t_ready) {
			int64_t a = bench_ns();
			running = status_phase(o->mnt, "Running", &total);
			int64_t b = bench_ns();
			t_status_ns += b - a;
			status_reads++;
			if (running >= o->n)
				t_running = b;
		}
		if (now >= next_progress) {
			progress(o, &f, ready, now);
			next_progress += 1000000000;
		}
		if (!t_running)
			sleep_ms(use_status || t_ready ? 100 : o->poll_ms);
	}
	/* Events are recorded after the fact: give the last ones time to land. */
	int64_t drain_end = bench_ns() + DRAIN_AFTER * 1000000000LL;
	do {
		follower_drain(&f, o->n);
		if (f.bound >= o->n && (f.created >= o->n || f.created == 0))
			break;
		sleep_ms(o->poll_ms);
	} while (bench_ns() < drain_end);
	progress(o, &f, ready, bench_ns());

	char k[256];
#define RESULT(name, v, unit)                                                                      \
	do {                                                                                       \
		snprintf(k, sizeof(k), "%s_%s", o->key, name);                                     \
		bench_result(k, v, unit);                                                          \
	} while (0)
	RESULT("write_ms", (double)(t_written - t0) / 1e6, "ms");
	if (f.t_created)
		RESULT("created_s", secs(f.t_created), "s");
	if (f.t_first_bound)
		RESULT("first_bound_s", secs(f.t_first_bound), "s");
	if (f.t_bound) {
		RESULT("bound_s", secs(f.t_bound), "s");
		RESULT("bind_rate_from_write", (double)o->n / secs(f.t_bound), "pods/s");
		if (f.t_bound > f.t_first_bound)
			RESULT("bind_rate",
			       (double)(o->n - 1) * 1e9 / (double)(f.t_bound - f.t_first_bound),
			       "pods/s");
	}
	if (t_ready)
		RESULT("ready_s", secs(t_ready), "s");
	if (t_running)
		RESULT("running_s", secs(t_running), "s");
	RESULT("status_read_ms",
	       status_reads ? (double)t_status_ns / 1e6 / (double)status_reads : 0, "ms");
#undef RESULT
	printf("%s: %ld of %ld pods Running (status), %ld created, %ld bound, %ld failed attempts"
	       " (events)%s\n",
	       o->key, running, total, f.created, f.bound, f.failed,
	       f.broken ? "; EVENTS FEED CUT" : "");
	return t_running && f.t_bound && !f.broken ? 0 : 1;
}

static int cmd_settle(const struct opts *o)
{
	struct follower f;
	follower_open(&f, o->mnt, true);
	t0 = bench_ns();
	int64_t deadline = t0 + (int64_t)o->timeout_s * 1000000000;
	int64_t next_progress = t0 + 1000000000;
	long pending = -1, total = 0;
	while (bench_ns() < deadline) {
		follower_drain(&f, o->n);
		if (f.created >= o->n && f.failed >= o->n) {
			pending = status_phase(o->mnt, "Pending", &total);
			if (pending >= o->n)
				break;
		}
		if (bench_ns() >= next_progress) {
			progress(o, &f, -1, bench_ns());
			next_progress += 1000000000;
		}
		sleep_ms(100);
	}
	printf("%s: %ld of %ld pods Pending, %ld created, %ld unschedulable after %.1f s%s\n",
	       o->key, pending, total, f.created, f.failed, secs(bench_ns()),
	       f.broken ? "; EVENTS FEED CUT" : "");
	return pending >= o->n && !f.broken ? 0 : 1;
}

static void usage(void)
{
	fputs("usage: bench_sched run [-n PODS] [-t SECONDS] [-p POLL_MS] [-d DEPLOYMENT] [-s]\n"
	      "                       [-k KEY] MOUNT SRC DEST\n"
	      "       bench_sched settle [-n PODS] [-t SECONDS] MOUNT\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	struct opts o = {30000, 120, 20, false, NULL, "sched", NULL};
	if (argc < 2)
		usage();
	const char *cmd = argv[1];
	int c;
	optind = 2;
	while ((c = getopt(argc, argv, "n:t:p:d:sk:")) != -1) {
		switch (c) {
		case 'n':
			o.n = atol(optarg);
			break;
		case 't':
			o.timeout_s = atoi(optarg);
			break;
		case 'p':
			o.poll_ms = atoi(optarg);
			break;
		case 'd':
			o.deploy = optarg;
			break;
		case 's':
			o.poll_status = true;
			break;
		case 'k':
			o.key = optarg;
			break;
		default:
			usage();
		}
	}
	if (o.n <= 0 || o.timeout_s <= 0 || o.poll_ms <= 0)
		usage();
	if (!strcmp(cmd, "run") && argc - optind == 3) {
		o.mnt = argv[optind];
		return cmd_run(&o, argv[optind + 1], argv[optind + 2]);
	}
	if (!strcmp(cmd, "settle") && argc - optind == 1) {
		o.mnt = argv[optind];
		return cmd_settle(&o);
	}
	usage();
}
