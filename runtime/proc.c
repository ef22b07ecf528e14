/*
 * proc.c - see proc.h.  posix_spawn with file actions that place the
 * child's fds, memfds for stdin text and captures, a pidfd to wait on.
 */
#include "runtime/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/clock.h"
#include "engine/mem.h"
#include "runtime/sys.h"

extern char **environ;

#define SRC_FD_MIN 10 /* sources are moved above the child's fds before dup2 */

static const char *name_of(const struct proc *p)
{
	return p->name ? p->name : p->path ? p->path : p->argv[0];
}

/* posix_spawnattr_init on attr, then no signal blocked and every handler
 * at its default (and a session of its own when setsid). */
static void attr_clean(posix_spawnattr_t *attr, bool setsid)
{
	sigset_t none, all;
	posix_spawnattr_init(attr);
	sigemptyset(&none);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	posix_spawnattr_setsigmask(attr, &none);
	posix_spawnattr_setsigdefault(attr, &all);
	posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					   (setsid ? POSIX_SPAWN_SETSID : 0));
}

static int write_all(int fd, const char *s)
{
	size_t n = strlen(s), off = 0;
	while (off < n) {
		ssize_t w = write(fd, s + off, n - off);
		if (w < 0 && errno != EINTR)
			return -errno;
		if (w > 0)
			off += (size_t)w;
	}
	lseek(fd, 0, SEEK_SET);
	return 0;
}

/* A memfd above the child's fds (into p->cap[i]), holding text when not
 * NULL. */
static int make_memfd(struct proc *p, int i, const char *text, struct err **e)
{
	int fd = memfd_create("proc", MFD_CLOEXEC), hi = -1, r = 0;
	if (fd >= 0)
		hi = fcntl(fd, F_DUPFD_CLOEXEC, SRC_FD_MIN);
	if (fd >= 0)
		close(fd);
	if (hi < 0)
		return err_make(e, errno, "%s: memfd: %s", name_of(p), strerror(errno));
	p->cap[i] = hi + 1;
	if (text && (r = write_all(hi, text)) < 0)
		return err_make(e, -r, "%s: stdin: %s", name_of(p), strerror(-r));
	return 0;
}

/* The file actions that give the child its fds 0..nfd-1; src[] holds the
 * caller's fds moved above them (closed by the caller). */
static int place_fds(struct proc *p, int nfd, posix_spawn_file_actions_t *fa, int *src,
		     struct err **e)
{
	int r;
	for (int i = 0; i < nfd; i++) {
		enum proc_io io = i == 0 && p->in ? PROC_CAPTURE : p->io[i];
		if (io == PROC_CAPTURE && (r = make_memfd(p, i, i == 0 ? p->in : NULL, e)) < 0)
			return r;
		if (io == PROC_FD && (src[i] = fcntl(p->fd[i], F_DUPFD_CLOEXEC, SRC_FD_MIN)) < 0)
			return err_make(e, errno, "%s: fd %d: %s", name_of(p), i, strerror(errno));
	}
	for (int i = 0; i < nfd; i++) {
		enum proc_io io = i == 0 && p->in ? PROC_CAPTURE : p->io[i];
		if (io == PROC_CAPTURE)
			posix_spawn_file_actions_adddup2(fa, p->cap[i] - 1, i);
		else if (io == PROC_FD)
			posix_spawn_file_actions_adddup2(fa, src[i], i);
		else if (io == PROC_NULL)
			posix_spawn_file_actions_addopen(fa, i, "/dev/null", O_RDWR, 0);
	}
	posix_spawn_file_actions_addclosefrom_np(fa, nfd);
	return 0;
}

int proc_start(struct proc *p, struct err **e)
{
	int nfd = p->nfd > 0 && p->nfd <= PROC_FDS ? p->nfd : 3, src[PROC_FDS] = {-1, -1, -1, -1};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	const char *path = p->path ? p->path : p->argv[0];

	p->pid = 0;
	posix_spawn_file_actions_init(&fa);
	int rc = place_fds(p, nfd, &fa, src, e);
	if (rc == 0) {
		attr_clean(&attr, p->setsid);
		int err =
		    posix_spawn(&p->pid, path, &fa, &attr, p->argv, p->envp ? p->envp : environ);
		posix_spawnattr_destroy(&attr);
		if (err) {
			p->pid = 0;
			rc = p->name ? err_make(e, err, "%s: spawn %s: %s", p->name, path,
						strerror(err))
				     : err_make(e, err, "%s: spawn: %s", path, strerror(err));
		}
	}
	posix_spawn_file_actions_destroy(&fa);
	for (int i = 0; i < nfd; i++)
		if (src[i] >= 0)
			close(src[i]);
	if (rc == 0) {
		int pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
		p->pidfd = pidfd >= 0 ? pidfd + 1 : 0;
	}
	return rc;
}

/* Waits for child pid until deadline (mono_ms; < 0: forever), on pidfd
 * when there is one (>= 0), else in short sleeps. */
static int wait_until(pid_t pid, int pidfd, int64_t deadline, int *status)
{
	int st;
	for (;;) {
		pid_t w = waitpid(pid, &st, deadline < 0 ? 0 : WNOHANG);
		if (w == pid) {
			if (status)
				*status = st;
			return 0;
		}
		if (w < 0 && errno != EINTR)
			return -errno;
		if (deadline < 0)
			continue;
		int64_t left = deadline - mono_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd pf = {.fd = pidfd, .events = POLLIN};
		int64_t step = pidfd >= 0 ? 1000 : 5;
		poll(&pf, pidfd >= 0, (int)(left < step ? left : step));
	}
}

int proc_wait(pid_t pid, int timeout_ms, int *status)
{
	if (timeout_ms < 0)
		return wait_until(pid, -1, -1, status);
	int pidfd = timeout_ms > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1;
	int rc = wait_until(pid, pidfd, mono_ms() + timeout_ms, status);
	if (pidfd >= 0)
		close(pidfd);
	return rc;
}

/* The deadline came: on_timeout's chance, then SIGKILL, and the reap. */
static int kill_at_deadline(struct proc *p, int64_t t0, struct err **e)
{
	int grace = p->on_timeout ? p->on_timeout(p) : 0;
	if (grace <= 0 || wait_until(p->pid, p->pidfd - 1, mono_ms() + grace, &p->status) < 0) {
		kill(p->pid, SIGKILL);
		wait_until(p->pid, -1, -1, &p->status);
	}
	return err_make(e, ETIMEDOUT, "%s: timed out after %lld ms", name_of(p),
			(long long)(mono_ms() - t0));
}

int proc_run(struct proc *p, struct err **e)
{
	int64_t t0 = mono_ms();
	int rc = proc_start(p, e);
	if (rc < 0)
		return rc;
	rc = wait_until(p->pid, p->pidfd - 1, p->timeout_ms > 0 ? t0 + p->timeout_ms : -1,
			&p->status);
	if (rc == -ETIMEDOUT)
		return kill_at_deadline(p, t0, e);
	if (rc < 0)
		return err_make(e, -rc, "%s: waitpid: %s", name_of(p), strerror(-rc));
	for (int i = 1; i < PROC_FDS; i++)
		if (p->cap[i])
			p->out[i] = fd_slurp(p->cap[i] - 1);
	return 0;
}

void proc_free(struct proc *p)
{
	for (int i = 0; i < PROC_FDS; i++) {
		free(STEAL_POINTER(&p->out[i]));
		if (p->cap[i])
			close(p->cap[i] - 1);
		p->cap[i] = 0;
	}
	if (p->pidfd)
		close(p->pidfd - 1);
	p->pidfd = 0;
}

int proc_exit_code(int status)
{
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
