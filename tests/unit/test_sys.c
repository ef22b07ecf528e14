/*
 * test_sys.c - unit tests of the shared helpers: engine/clock (mono_*,
 * wall_*), runtime/sys (write_atomic, fd_slurp, mkdir_p, rm_rf, sleep_ms,
 * cmp_strp, ipv4_canon, _cleanup_fd_, _cleanup_json_) and runtime/proc
 * (proc_run: argv, environment, stdin text, captured stdout and stderr,
 * exit codes and signals, the deadline's kill and reap, the on_timeout
 * hook; proc_start and proc_wait; the child's fds and signal state).
 *
 * Children are /bin/sh scripts; everything made lives in a fresh temporary
 * folder removed at the end.  An alarm() ends a hang as a failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/clock.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "runtime/proc.h"
#include "runtime/sys.h"
#include "tests/unit/unit.h"

static char tmp[] = "/tmp/test_sys.XXXXXX";

static char *slurp_path(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	char *s = fd_slurp(fd);
	close(fd);
	return s;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* ---- clocks ---- */

static void test_clocks(void)
{
	int64_t m0 = mono_ms(), n0 = mono_ns();
	CHECK(wall_ms() / 1000 - (int64_t)time(NULL) <= 1);
	CHECK((int64_t)time(NULL) - wall_ms() / 1000 <= 1);
	CHECK(wall_ns() / 1000000 - wall_ms() <= 1000);
	sleep_ms(50);
	int64_t m1 = mono_ms(), n1 = mono_ns();
	CHECK(m1 - m0 >= 50 && m1 - m0 < 5000);
	CHECK(n1 - n0 >= 50 * 1000000LL);
	CHECK(n1 / 1000000 - m1 <= 1 && m1 - n1 / 1000000 <= 1);

	/* deadlines: now + ms on their clock, normalised */
	struct timespec d = mono_deadline(1999), w = wall_deadline(250);
	int64_t dms = (int64_t)d.tv_sec * 1000 + d.tv_nsec / 1000000 - mono_ms();
	int64_t wms = (int64_t)w.tv_sec * 1000 + w.tv_nsec / 1000000 - wall_ms();
	CHECK(dms > 1900 && dms <= 1999);
	CHECK(wms > 150 && wms <= 250);
	CHECK(d.tv_nsec >= 0 && d.tv_nsec < 1000000000 && w.tv_nsec < 1000000000);
}

/* ---- files ---- */

static void test_write_atomic(void)
{
	_cleanup_free_ char *path = xasprintf("%s/w.txt", tmp);
	_cleanup_free_ char *tmpname = xasprintf("%s.tmp", path);
	struct err *e = NULL;
	CHECK(write_atomic(path, "first\n", NULL) == 0);
	char *s = slurp_path(path);
	CHECK(s && !strcmp(s, "first"));
	free(s);
	CHECK(write_atomic(path, "", NULL) == 0); /* replaced, even by nothing */
	struct stat st;
	CHECK(stat(path, &st) == 0 && st.st_size == 0 && (st.st_mode & 0777) == 0644);
	CHECK(!exists(tmpname));
	_cleanup_free_ char *bad = xasprintf("%s/no/such/dir/f", tmp);
	CHECK(write_atomic(bad, "x", &e) == -ENOENT);
	CHECK(e && strstr(e->msg, "no/such/dir"));
	err_free(e);
}

static void test_fd_slurp(void)
{
	_cleanup_free_ char *path = xasprintf("%s/s.txt", tmp);
	CHECK(write_atomic(path, "  two words \n\t\n", NULL) == 0);
	_cleanup_fd_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	char c;
	CHECK(read(fd, &c, 1) == 1); /* read from offset 0 whatever the position */
	char *s = fd_slurp(fd);
	CHECK(s && !strcmp(s, "  two words"));
	free(s);
	int p[2];
	CHECK(pipe(p) == 0);
	close(p[1]);
	s = fd_slurp(p[0]); /* nothing: "" */
	CHECK(s && !*s);
	free(s);
	close(p[0]);
}

static void test_mkdir_p(void)
{
	_cleanup_free_ char *deep = xasprintf("%s/a/b/c", tmp);
	_cleanup_free_ char *file = xasprintf("%s/file", tmp);
	_cleanup_free_ char *under = xasprintf("%s/file/x", tmp);
	struct stat st;
	struct err *e = NULL;
	CHECK(mkdir_p(deep, 0700, NULL) == 0);
	CHECK(stat(deep, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);
	CHECK(mkdir_p(deep, 0700, NULL) == 0); /* already there */
	CHECK(write_atomic(file, "x", NULL) == 0);
	CHECK(mkdir_p(under, 0755, &e) == -ENOTDIR);
	CHECK(e && strstr(e->msg, "file/x"));
	err_free(e);
	CHECK(mkdir_p("", 0755, NULL) == -EINVAL);
}

static void test_rm_rf(void)
{
	_cleanup_free_ char *top = xasprintf("%s/rm", tmp);
	_cleanup_free_ char *keep = xasprintf("%s/keep", tmp);
	_cleanup_free_ char *keepf = xasprintf("%s/keep/precious", tmp);
	_cleanup_free_ char *deep = xasprintf("%s/rm/x/y", tmp);
	_cleanup_free_ char *f = xasprintf("%s/rm/x/y/f", tmp);
	_cleanup_free_ char *link = xasprintf("%s/rm/x/link", tmp);
	CHECK(mkdir_p(deep, 0755, NULL) == 0 && mkdir_p(keep, 0755, NULL) == 0);
	CHECK(write_atomic(f, "x", NULL) == 0 && write_atomic(keepf, "y", NULL) == 0);
	CHECK(symlink(keep, link) == 0);
	CHECK(rm_rf(top, NULL) == 0);
	CHECK(!exists(top));
	CHECK(exists(keepf));				  /* the symlink went, not what it named */
	CHECK(rm_rf(top, NULL) == 0);			  /* gone already: success */
	CHECK(rm_rf(keepf, NULL) == 0 && !exists(keepf)); /* a plain file */
}

static void test_small(void)
{
	char *v[] = {"pear", "apple", "fig"};
	qsort(v, 3, sizeof(v[0]), cmp_strp);
	CHECK(!strcmp(v[0], "apple") && !strcmp(v[1], "fig") && !strcmp(v[2], "pear"));
	char out[INET_ADDRSTRLEN] = "";
	CHECK(ipv4_canon("10.0.0.1", out) && !strcmp(out, "10.0.0.1"));
	CHECK(!ipv4_canon("10.0.0", out) && !ipv4_canon("::1", out) && !ipv4_canon(NULL, out));
	CHECK(!ipv4_canon("10.0.0.1 ", out));
	int fd;
	{
		_cleanup_fd_ int inner = open("/dev/null", O_RDONLY | O_CLOEXEC);
		fd = inner;
		CHECK(fcntl(fd, F_GETFD) >= 0);
	}
	CHECK(fcntl(fd, F_GETFD) < 0 && errno == EBADF); /* closed at the scope's end */
	json_t *j = json_object();
	json_incref(j);
	{
		_cleanup_json_ json_t *ref = j;
		CHECK(ref->refcount == 2);
	}
	CHECK(j->refcount == 1);
	json_decref(j);
}

static void test_pid_file_read(void)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/pid", tmp);
	CHECK(pid_file_read(path) == 0); /* missing */
	CHECK(pid_file_read(NULL) == 0);
	static const struct {
		const char *text;
		pid_t want;
	} cases[] = {{"4242\n", 4242}, {"77", 77}, {"1\n", 0}, {"0", 0},
		     {"-5", 0},	       {"x12", 0}, {"", 0}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(write_atomic(path, cases[i].text, NULL) == 0);
		CHECK(pid_file_read(path) == cases[i].want);
	}
}

/* ---- processes ---- */

/* Runs sh -c script with p's other fields; returns proc_run's result. */
static int sh(struct proc *p, const char *script, struct err **e)
{
	static char *argv[4];
	argv[0] = "/bin/sh";
	argv[1] = "-c";
	argv[2] = (char *)script;
	argv[3] = NULL;
	p->argv = argv;
	return proc_run(p, e);
}

#define CAPTURE                                                                                    \
	{                                                                                          \
		[1] = PROC_CAPTURE, [2] = PROC_CAPTURE                                             \
	}

static void test_proc_output_and_status(void)
{
	struct proc p = {.io = CAPTURE};
	CHECK(sh(&p, "echo out; echo err >&2; exit 3", NULL) == 0);
	CHECK(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 3);
	CHECK(proc_exit_code(p.status) == 3);
	CHECK(p.out[1] && !strcmp(p.out[1], "out"));
	CHECK(p.out[2] && !strcmp(p.out[2], "err"));
	proc_free(&p);
	CHECK(!p.out[1] && !p.out[2]);

	struct proc q = {.io = CAPTURE};
	CHECK(sh(&q, "kill -TERM $$", NULL) == 0);
	CHECK(WIFSIGNALED(q.status) && proc_exit_code(q.status) == 128 + SIGTERM);
	proc_free(&q);

	struct proc z = {.io = CAPTURE}; /* true: exit 0 and nothing said */
	CHECK(sh(&z, "true", NULL) == 0 && proc_exit_code(z.status) == 0);
	CHECK(z.out[1] && !*z.out[1]);
	proc_free(&z);
}

static void test_proc_stdin_env(void)
{
	char *envp[] = {"GREETING=hello", NULL};
	struct proc p = {.envp = envp, .in = "line one\nline two\n", .io = CAPTURE};
	CHECK(sh(&p, "read a; read b; echo \"$GREETING:$b:${HOME-unset}\"", NULL) == 0);
	CHECK(p.out[1] && !strcmp(p.out[1], "hello:line two:unset"));
	proc_free(&p);

	struct proc n = {.io = CAPTURE}; /* no stdin text: /dev/null, EOF at once */
	CHECK(sh(&n, "if read a; then echo got; else echo eof; fi", NULL) == 0);
	CHECK(n.out[1] && !strcmp(n.out[1], "eof"));
	proc_free(&n);
}

static void test_proc_timeout(void)
{
	struct err *e = NULL;
	_cleanup_free_ char *pidf = xasprintf("%s/sleeper.pid", tmp);
	_cleanup_free_ char *script = xasprintf("echo $$ > %s; exec sleep 30", pidf);
	struct proc p = {.timeout_ms = 300, .name = "sleeper", .io = CAPTURE};
	int64_t t0 = mono_ms();
	CHECK(sh(&p, script, &e) == -ETIMEDOUT);
	int64_t took = mono_ms() - t0;
	CHECK(took >= 300 && took < 10000);
	CHECK(e && strstr(e->msg, "sleeper: timed out"));
	CHECK(WIFSIGNALED(p.status) && WTERMSIG(p.status) == SIGKILL);
	/* killed and reaped: no such child any more */
	CHECK(waitpid(p.pid, NULL, WNOHANG) < 0 && errno == ECHILD);
	CHECK(kill(p.pid, 0) < 0 && errno == ESRCH);
	err_free(e);
	proc_free(&p);
}

static int ends_it(struct proc *p)
{
	(*(int *)p->arg)++;
	kill(p->pid, SIGTERM); /* it ends by itself within the grace */
	return 5000;
}

static void test_proc_on_timeout(void)
{
	int called = 0;
	struct proc p = {.timeout_ms = 200, .on_timeout = ends_it, .arg = &called};
	CHECK(sh(&p, "exec sleep 30", NULL) == -ETIMEDOUT);
	CHECK(called == 1);
	CHECK(WIFSIGNALED(p.status) && WTERMSIG(p.status) == SIGTERM); /* not SIGKILL */
	proc_free(&p);
}

static void test_proc_spawn_failure(void)
{
	struct err *e = NULL;
	char *argv[] = {"/no/such/program", NULL};
	struct proc p = {.argv = argv, .name = "ghost"};
	CHECK(proc_run(&p, &e) == -ENOENT);
	CHECK(e && strstr(e->msg, "ghost: spawn /no/such/program"));
	CHECK(p.pid == 0);
	err_free(e);
	proc_free(&p);
}

/* The hex mask of field ("SigBlk") in a /proc/PID/status text, or ~0. */
static unsigned long long sig_mask(const char *text, const char *field)
{
	const char *at = text ? strstr(text, field) : NULL;
	return at ? strtoull(at + strlen(field) + 1, NULL, 16) : ~0ULL;
}

/* The child gets exactly fds 0..nfd-1 (PROC_FD ones the caller's), no
 * blocked signal and none ignored that we ignore, and a session when
 * asked. */
static void test_proc_fds_signals(void)
{
	_cleanup_free_ char *path = xasprintf("%s/fd3.txt", tmp);
	_cleanup_fd_ int f = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK(dup2(null, 50) == 50); /* fd 50, not CLOEXEC: must not reach the child */
	close(null);
	sigset_t usr, old;
	sigemptyset(&usr);
	sigaddset(&usr, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &usr, &old);
	signal(SIGUSR2, SIG_IGN);
	struct proc p = {.nfd = 4,
			 .io = {PROC_NULL, PROC_CAPTURE, PROC_CAPTURE, PROC_FD},
			 .fd = {[3] = f},
			 .setsid = true};
	CHECK(sh(&p,
		 "echo to-three >&3; [ -e /proc/$$/fd/50 ] && echo fd50;"
		 "[ -e /proc/$$/fd/3 ] || echo no-fd3; echo sid=$(cut -d' ' -f6 "
		 "/proc/$$/stat)",
		 NULL) == 0);
	/* no shell (which might clear its mask itself): grep's own status */
	char *argv[] = {"/bin/grep", "^Sig", "/proc/self/status", NULL};
	struct proc g = {.argv = argv, .io = CAPTURE};
	CHECK(proc_run(&g, NULL) == 0);
	CHECK(sig_mask(g.out[1], "SigBlk:") == 0);
	CHECK(!(sig_mask(g.out[1], "SigIgn:") & (1ULL << (SIGUSR2 - 1))));
	proc_free(&g);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	signal(SIGUSR2, SIG_DFL);
	close(50);
	CHECK(p.out[1] && !strstr(p.out[1], "fd50") && !strstr(p.out[1], "no-fd3"));
	/* its session is its own: the sid is its pid */
	_cleanup_free_ char *sid = xasprintf("sid=%d", (int)p.pid);
	const char *at = p.out[1] ? strstr(p.out[1], "sid=") : NULL;
	CHECK(at && !strcmp(at, sid));
	char *three = slurp_path(path);
	CHECK(three && !strcmp(three, "to-three"));
	free(three);
	proc_free(&p);
}

static void test_proc_start_wait(void)
{
	int st = 0;
	char *argv[] = {"/bin/sh", "-c", "sleep 0.2; exit 7", NULL};
	struct proc p = {.argv = argv};
	CHECK(proc_start(&p, NULL) == 0 && p.pid > 0);
	pid_t pid = p.pid;
	proc_free(&p);
	CHECK(proc_wait(pid, 0, &st) == -ETIMEDOUT); /* looked once: still running */
	CHECK(proc_wait(pid, 5000, &st) == 0 && proc_exit_code(st) == 7);
	CHECK(proc_wait(pid, 0, &st) == -ECHILD); /* reaped already */

	char *argv2[] = {"/bin/sh", "-c", "exec sleep 30", NULL};
	struct proc q = {.argv = argv2};
	CHECK(proc_start(&q, NULL) == 0);
	CHECK(proc_wait(q.pid, 100, &st) == -ETIMEDOUT);
	kill(q.pid, SIGKILL);
	CHECK(proc_wait(q.pid, -1, &st) == 0 && proc_exit_code(st) == 128 + SIGKILL);
	proc_free(&q);
}

int main(void)
{
	alarm(120);
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_clocks);
	RUN(test_write_atomic);
	RUN(test_fd_slurp);
	RUN(test_mkdir_p);
	RUN(test_rm_rf);
	RUN(test_small);
	RUN(test_pid_file_read);
	RUN(test_proc_output_and_status);
	RUN(test_proc_stdin_env);
	RUN(test_proc_timeout);
	RUN(test_proc_on_timeout);
	RUN(test_proc_spawn_failure);
	RUN(test_proc_fds_signals);
	RUN(test_proc_start_wait);
	CHECK(rm_rf(tmp, NULL) == 0);
	return unit_done();
}
