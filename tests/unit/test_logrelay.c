/*
 * test_logrelay.c - unit tests of runtime/kubelet/logrelay: the relay's
 * loop (run in a child) appends both pipes' bytes as they come and one
 * index record per line start, with the stream and a time between the
 * write and the read; partial lines; resuming a file that ends mid-line
 * and a torn index; its own copy-truncate rotation; and the relay as the
 * agent starts it (this binary re-run as "logrelay LOG"), reaped once it
 * ends.
 *
 * With CFS_LOGRELAY_BENCH=1 it also measures a relay started the two ways
 * a server could: forked from a process of the server's size (only
 * async-signal-safe calls in the child) and exec'd (posix_spawn of the
 * binary's logrelay mode): the start's time and the relay's memory while
 * its parent lives and once it is gone.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/clock.h"
#include "engine/mem.h"
#include "engine/podlog.h"
#include "runtime/kubelet/logrelay.h"
#include "runtime/proc.h"
#include "tests/unit/unit.h"

static char *base;

static char *slurp(const char *path, size_t *len)
{
	struct buf b = {0};
	int fd = open(path, O_RDONLY);
	char chunk[4096];
	ssize_t n;
	while (fd >= 0 && (n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_add(&b, chunk, (size_t)n);
	if (fd >= 0)
		close(fd);
	buf_add(&b, "", 1);
	*len = b.len - 1;
	return b.s;
}

/* The records of an index file into recs (at most max); how many. */
static size_t read_recs(const char *path, struct podlog_rec *recs, size_t max)
{
	size_t len, n = 0;
	char *raw = slurp(path, &len);
	for (; n < max && (n + 1) * PODLOG_REC_SIZE <= len; n++)
		podlog_rec_unpack((unsigned char *)raw + n * PODLOG_REC_SIZE, &recs[n]);
	free(raw);
	return n;
}

struct child {
	pid_t pid;
	int out_w, err_w;
	char *log, *idx;
};

/* Runs logrelay_run in a forked child on fresh pipes, for log name. */
static struct child relay_fork(const char *name, off_t max)
{
	struct child c = {0};
	c.log = xasprintf("%s/%s.log", base, name);
	c.idx = podlog_index_path(c.log);
	int po[2], pe[2];
	if (pipe(po) < 0 || pipe(pe) < 0)
		exit(1);
	int log = open(c.log, O_RDWR | O_CREAT | O_APPEND, 0640);
	int idx = open(c.idx, O_WRONLY | O_CREAT | O_APPEND, 0640);
	c.pid = fork();
	if (c.pid == 0) {
		close(po[1]), close(pe[1]);
		_exit(logrelay_run(po[0], pe[0], log, idx, c.log, max));
	}
	close(po[0]), close(pe[0]), close(log), close(idx);
	c.out_w = po[1];
	c.err_w = pe[1];
	return c;
}

static int child_end(struct child *c)
{
	if (c->out_w >= 0)
		close(c->out_w);
	if (c->err_w >= 0)
		close(c->err_w);
	int st = -1;
	waitpid(c->pid, &st, 0);
	free(c->log);
	free(c->idx);
	return st;
}

static void put(int fd, const char *s)
{
	if (write(fd, s, strlen(s)) != (ssize_t)strlen(s))
		exit(1);
	usleep(30000); /* one read of the relay per write */
}

static void test_relay(void)
{
	struct child c = relay_fork("basic", 0);
	int64_t t0 = wall_ns();
	put(c.out_w, "one\ntw");
	put(c.out_w, "o\n");
	put(c.err_w, "err-1\n");
	put(c.out_w, "part");
	put(c.err_w, " mid\n"); /* a line start is the file's, not the stream's */
	put(c.out_w, "three\nfour\n");
	int64_t t1 = wall_ns();
	char *log = xstrdup(c.log), *idx = xstrdup(c.idx);
	int st = child_end(&c);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	size_t len;
	char *text = slurp(log, &len);
	CHECK(!strcmp(text, "one\ntwo\nerr-1\npart mid\nthree\nfour\n"));
	struct podlog_rec r[16];
	size_t n = read_recs(idx, r, 16);
	CHECK(n == 6);
	off_t want[] = {0, 4, 8, 14, 23, 29};
	int streams[] = {0, 0, 1, 0, 0, 0};
	for (size_t i = 0; i < n && i < 6; i++) {
		CHECK(r[i].off == want[i]);
		CHECK(r[i].stream == streams[i]);
		CHECK(r[i].ns >= t0 && r[i].ns <= t1);
		CHECK(i == 0 || r[i].ns >= r[i - 1].ns);
	}
	CHECK(n == 6 && r[4].ns == r[5].ns); /* one read: one time */
	CHECK(n == 6 && r[1].ns < r[2].ns);
	free(text);
	free(log);
	free(idx);
}

/* A log that ends mid-line and an index with a torn last record: the
 * relay goes on with that line and cuts the torn record. */
static void test_resume(void)
{
	char *log = xasprintf("%s/resume.log", base), *idx = podlog_index_path(log);
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	CHECK(write(fd, "old\nhalf", 8) == 8);
	close(fd);
	unsigned char raw[2 * PODLOG_REC_SIZE];
	podlog_rec_pack(&(struct podlog_rec){.off = 0, .ns = 1}, raw);
	podlog_rec_pack(&(struct podlog_rec){.off = 4, .ns = 2}, raw + PODLOG_REC_SIZE);
	fd = open(idx, O_WRONLY | O_CREAT | O_TRUNC, 0640);
	CHECK(write(fd, raw, PODLOG_REC_SIZE + 5) == PODLOG_REC_SIZE + 5);
	close(fd);
	struct child c = relay_fork("resume", 0);
	put(c.out_w, "-done\nnext\n");
	child_end(&c);
	size_t len;
	char *text = slurp(log, &len);
	CHECK(!strcmp(text, "old\nhalf-done\nnext\n"));
	struct podlog_rec r[8];
	size_t n = read_recs(idx, r, 8);
	CHECK(n == 2 && r[0].ns == 1 && r[1].off == 14);
	free(text);
	free(log);
	free(idx);
}

/* Past max bytes: LOG.1 has what was written, the log and its index are
 * emptied, and the next line is at 0. */
static void test_rotate(void)
{
	struct child c = relay_fork("rot", 10);
	char *log = xstrdup(c.log), *idx = xstrdup(c.idx);
	char *old = xasprintf("%s.1", log);
	put(c.out_w, "0123456\n");
	put(c.out_w, "789\n"); /* 12 > 10: rotated */
	put(c.out_w, "after\n");
	child_end(&c);
	size_t len;
	char *a = slurp(old, &len), *b = slurp(log, &len);
	CHECK(!strcmp(a, "0123456\n789\n"));
	CHECK(!strcmp(b, "after\n"));
	struct podlog_rec r[8];
	CHECK(read_recs(idx, r, 8) == 1 && r[0].off == 0);
	free(a);
	free(b);
	free(old);
	free(log);
	free(idx);
}

/* Waits up to 3 s for pid to be gone (not even a zombie). */
#define WAIT_GONE(pid)                                                                             \
	({                                                                                         \
		bool gone_ = false;                                                                \
		for (int i_ = 0; i_ < 300 && !gone_; i_++, usleep(10000))                          \
			gone_ = kill((pid), 0) < 0 && errno == ESRCH;                              \
		gone_;                                                                             \
	})

/* As the agent starts it: exec'd, its own session, reaped when it ends. */
static void test_start(void)
{
	char *log = xasprintf("%s/start.log", base);
	int ow = -1;
	pid_t pid = 0;
	struct err *e = NULL;
	CHECK(!logrelay_available()); /* a test program has no relay mode... */
	logrelay_use_self();	      /* ...until it says so (main runs it) */
	CHECK(logrelay_available());
	CHECK(logrelay_start(log, &ow, &pid, &e) == 0);
	if (pid <= 0) {
		err_free(e);
		free(log);
		return;
	}
	CHECK(getsid(pid) == pid);
	CHECK(write(ow, "hello\n", 6) == 6);
	CHECK(write(ow, "oops\n", 5) == 5);
	close(ow);
	/* reaped by the module's thread: gone, not a zombie */
	CHECK(WAIT_GONE(pid));
	size_t len;
	char *text = slurp(log, &len);
	CHECK(!strcmp(text, "hello\noops\n"));
	char *idx = podlog_index_path(log);
	struct podlog_rec r[4];
	CHECK(read_recs(idx, r, 4) == 2 && r[1].off == 6);
	free(text);
	free(idx);
	free(log);
	/* a log that cannot be opened: an error, no process */
	CHECK(logrelay_start("/nonexistent/dir/0.log", &ow, &pid, &e) == -ENOENT);
	err_free(e);
}

/* ---- CFS_LOGRELAY_BENCH=MB [EXE] ---- */

/* Field name (kB) of /proc/pid/smaps_rollup, or -1. */
static long smaps_kb(pid_t pid, const char *name)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	size_t len;
	char *t = slurp(path, &len), *p = t;
	long v = -1;
	size_t n = strlen(name);
	while (p && *p) {
		if (!strncmp(p, name, n) && p[n] == ':')
			v = strtol(p + n + 1, NULL, 10);
		p = strchr(p, '\n');
		p = p ? p + 1 : NULL;
	}
	free(t);
	return v;
}

/* The relay forked: only async-signal-safe calls in the child. */
static pid_t spawn_fork(const int fds[4], const char *log)
{
	pid_t pid = fork();
	if (pid == 0) {
		setsid();
		int hi[4];
		for (int i = 0; i < 4; i++)
			hi[i] = fcntl(fds[i], F_DUPFD, 10);
		for (int i = 0; i < 4; i++)
			dup2(hi[i], i);
		close_range(4, ~0U, 0);
		struct sigaction ign = {.sa_handler = SIG_IGN};
		sigaction(SIGHUP, &ign, NULL);
		sigaction(SIGINT, &ign, NULL);
		sigaction(SIGPIPE, &ign, NULL);
		_exit(logrelay_run(0, 1, 2, 3, log, LOGRELAY_MAX_BYTES));
	}
	return pid;
}

/* The relay exec'd, as logrelay_start runs it. */
static pid_t spawn_exec(const int fds[4], const char *log, const char *exe)
{
	char *argv[] = {"clusterfs", "logrelay", (char *)log, NULL}, *envp[] = {NULL};
	struct proc p = {.path = exe,
			 .argv = argv,
			 .envp = envp,
			 .nfd = 4,
			 .io = {PROC_FD, PROC_FD, PROC_FD, PROC_FD},
			 .fd = {fds[0], fds[1], fds[2], fds[3]},
			 .setsid = true};
	struct err *e = NULL;
	if (proc_start(&p, &e) < 0) {
		fprintf(stderr, "spawn: %s\n", e->msg);
		_exit(1);
	}
	pid_t pid = p.pid;
	proc_free(&p);
	return pid;
}

struct bench_run {
	double spawn_ms, ready_ms;
	long rss, pss, uss, anon;     /* kB, its parent alive */
	long uss_orphan, anon_orphan; /* kB, its parent gone */
};

static void bench_uss(pid_t r, long *uss, long *anon)
{
	*uss = smaps_kb(r, "Private_Clean") + smaps_kb(r, "Private_Dirty");
	*anon = smaps_kb(r, "Anonymous");
}

/* One relay started by a child of mb MiB (touched), as a server would. */
static void bench_one(bool forked, size_t mb, const char *exe, struct bench_run *out)
{
	char *log = xasprintf("%s/bench.log", base), *idx = podlog_index_path(log);
	int po[2], pe[2], rep[2], go[2];
	if (pipe(po) || pipe(pe) || pipe(rep) || pipe(go))
		exit(1);
	int fds[4] = {po[0], pe[0], open(log, O_RDWR | O_CREAT | O_APPEND, 0640),
		      open(idx, O_WRONLY | O_CREAT | O_APPEND, 0640)};
	pid_t server = fork();
	if (server == 0) {
		char *mem = malloc(mb << 20);
		memset(mem, 1, mb << 20);
		int64_t t0 = mono_ns();
		pid_t r = forked ? spawn_fork(fds, log) : spawn_exec(fds, log, exe);
		int64_t msg[3] = {r, mono_ns() - t0, t0};
		if (write(po[1], "ready?\n", 7) != 7)
			_exit(1);
		char c;
		if (write(rep[1], msg, sizeof(msg)) != sizeof(msg) || read(go[0], &c, 1) != 1)
			_exit(1);
		_exit(mem[mb] == 1 ? 0 : 1);
	}
	for (int i = 0; i < 4; i++)
		close(fds[i]);
	int64_t msg[3];
	if (read(rep[0], msg, sizeof(msg)) != sizeof(msg))
		exit(1);
	pid_t r = (pid_t)msg[0];
	out->spawn_ms = (double)msg[1] / 1e6;
	struct stat st = {0};
	while (stat(log, &st) == 0 && st.st_size == 0)
		usleep(50);
	/* from the spawn's start to its first line in the log */
	out->ready_ms = (double)(mono_ns() - msg[2]) / 1e6;
	out->rss = smaps_kb(r, "Rss");
	out->pss = smaps_kb(r, "Pss");
	bench_uss(r, &out->uss, &out->anon);
	if (write(go[1], "x", 1) != 1)
		exit(1);
	waitpid(server, NULL, 0);
	usleep(50000);
	bench_uss(r, &out->uss_orphan, &out->anon_orphan);
	close(po[1]), close(pe[1]);
	WAIT_GONE(r);
	close(po[0]), close(pe[0]), close(rep[0]), close(rep[1]), close(go[0]), close(go[1]);
	unlink(log), unlink(idx);
	free(log), free(idx);
}

static void bench(const char *exe)
{
	size_t mb = (size_t)atoi(getenv("CFS_LOGRELAY_BENCH"));
	mb = mb ? mb : 40;
	exe = exe ? exe : "/proc/self/exe";
	printf("# log relay: started from a %zu MiB process (10 runs each; kB from smaps_rollup)\n",
	       mb);
	printf("# %-6s %9s %9s %7s %7s %7s %7s %13s\n", "mode", "spawn ms", "ready ms", "Rss",
	       "Pss", "USS", "Anon", "USS orphaned");
	for (int forked = 1; forked >= 0; forked--) {
		struct bench_run sum = {0}, one;
		for (int i = 0; i < 10; i++) {
			bench_one(forked, mb, exe, &one);
			sum.spawn_ms += one.spawn_ms / 10, sum.ready_ms += one.ready_ms / 10;
		}
		printf("# %-6s %9.3f %9.3f %7ld %7ld %7ld %7ld %13ld\n", forked ? "fork" : "exec",
		       sum.spawn_ms, sum.ready_ms, one.rss, one.pss, one.uss, one.anon,
		       one.uss_orphan);
	}
}

int main(int argc, char **argv)
{
	/* logrelay_start runs /proc/self/exe logrelay LOG: this binary */
	if (argc == 3 && !strcmp(argv[1], "logrelay"))
		return logrelay_main(argc, argv);
	base = xstrdup("/tmp/cfs-test-logrelay.XXXXXX");
	if (!mkdtemp(base)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_relay);
	RUN(test_resume);
	RUN(test_rotate);
	RUN(test_start);
	if (getenv("CFS_LOGRELAY_BENCH"))
		bench(argc > 1 ? argv[1] : NULL);
	char *rm = xasprintf("rm -rf '%s'", base);
	if (system(rm) != 0)
		fprintf(stderr, "could not remove %s\n", base);
	free(rm);
	free(base);
	return unit_done();
}
