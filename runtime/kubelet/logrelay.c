/*
 * logrelay.c - see logrelay.h.  The relay's start from the agent, the
 * thread that reaps it, and `clusterfs logrelay`; its loop is
 * logrelay_run.c.
 */
#include "runtime/kubelet/logrelay.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/log.h"
#include "engine/mem.h"
#include "engine/podlog.h"
#include "runtime/proc.h"

/* ---- the agent's side ---- */

static const char *relay_exe; /* NULL: relay_exe_find's */
static bool self_ok;	      /* /proc/self/exe has the logrelay mode */
static pthread_once_t exe_once = PTHREAD_ONCE_INIT;
static char exe_found[PATH_MAX];

/* LOGRELAY_EXE beside our own executable, when it is there. */
static void relay_exe_find(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash = n > 0 ? memrchr(self, '/', (size_t)n) : NULL;
	if (!slash || (size_t)(slash - self) + sizeof("/" LOGRELAY_EXE) > sizeof(exe_found))
		return;
	memcpy(exe_found, self, (size_t)(slash - self));
	strcpy(exe_found + (slash - self), "/" LOGRELAY_EXE);
	if (access(exe_found, X_OK) < 0)
		exe_found[0] = 0;
}
static pthread_once_t reaper_once = PTHREAD_ONCE_INIT;
static int reaper_ep = -1;

/* Reaps each relay, by pid, when its pidfd says it ended. */
static void *reaper_main(void *arg)
{
	struct epoll_event ev[16];
	for (;;) {
		int n = epoll_wait(reaper_ep, ev, 16, -1);
		for (int i = 0; i < n; i++) {
			pid_t pid = (pid_t)(ev[i].data.u64 >> 32);
			int fd = (int)(ev[i].data.u64 & 0xffffffffu);
			waitpid(pid, NULL, WNOHANG);
			epoll_ctl(reaper_ep, EPOLL_CTL_DEL, fd, NULL);
			close(fd);
		}
		if (n < 0 && errno != EINTR)
			return NULL;
	}
}

static void reaper_init(void)
{
	pthread_t t;
	reaper_ep = epoll_create1(EPOLL_CLOEXEC);
	if (reaper_ep >= 0 && pthread_create(&t, NULL, reaper_main, NULL) == 0)
		pthread_detach(t);
	else if (reaper_ep >= 0)
		close(reaper_ep), reaper_ep = -1;
}

/* Has the reaper wait for pid; a zombie until the server ends if not. */
static void reap_later(pid_t pid)
{
	pthread_once(&reaper_once, reaper_init);
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd < 0 || reaper_ep < 0) {
		if (fd >= 0)
			close(fd);
		log_warn("logrelay", "pid %d will not be reaped: %s", (int)pid,
			 fd < 0 ? strerror(errno) : "no reaper");
		return;
	}
	struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT,
				 .data.u64 = ((uint64_t)pid << 32) | (uint32_t)fd};
	if (epoll_ctl(reaper_ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		close(fd);
}

void logrelay_set_exe(const char *path)
{
	relay_exe = path;
}

void logrelay_use_self(void)
{
	self_ok = true;
}

/* The executable to run, or NULL. */
static const char *relay_exe_get(void)
{
	pthread_once(&exe_once, relay_exe_find);
	if (relay_exe)
		return relay_exe;
	return exe_found[0] ? exe_found : self_ok ? "/proc/self/exe" : NULL;
}

bool logrelay_available(void)
{
	static atomic_bool warned;
	if (relay_exe_get())
		return true;
	if (!atomic_exchange(&warned, true))
		log_warn("logrelay",
			 "no %s beside this executable: container logs are written "
			 "without line times",
			 LOGRELAY_EXE);
	return false;
}

/* Spawns the relay on fds (the pipe's read end, /dev/null for a second
 * stream, log, index); *pid. */
static int relay_spawn(const char *log_path, const int fds[4], pid_t *pid, struct err **e)
{
	const char *exe = relay_exe_get();
	if (!exe)
		return err_make(e, ENOEXEC, "log %s: no %s", log_path, LOGRELAY_EXE);
	char *own[] = {LOGRELAY_EXE, (char *)log_path, NULL};
	char *mode[] = {"clusterfs", "logrelay", (char *)log_path, NULL};
	char **argv = exe == exe_found ? own : mode;
	char *envp[] = {NULL};
	struct proc p = {.path = exe,
			 .argv = argv,
			 .envp = envp,
			 .name = "logrelay",
			 .nfd = 4,
			 .io = {PROC_FD, PROC_NULL, PROC_FD, PROC_FD},
			 .fd = {fds[0], -1, fds[2], fds[3]},
			 .setsid = true};
	int rc = proc_start(&p, e);
	*pid = p.pid;
	proc_free(&p);
	return rc;
}

int logrelay_start(const char *log_path, int *wfd, pid_t *pid, struct err **e)
{
	_cleanup_free_ char *ipath = podlog_index_path(log_path);
	int pp[2] = {-1, -1}, rc = 0;
	/* read-write: the relay reads it back to resume and to rotate */
	const int fl = O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY;
	int log = open(log_path, fl, 0640);
	int idx = log >= 0 ? open(ipath, fl, 0640) : -1;
	if (idx < 0)
		rc = err_make(e, errno, "log %s: %s", log < 0 ? log_path : ipath, strerror(errno));
	else if (pipe2(pp, O_CLOEXEC) < 0)
		rc = err_make(e, errno, "log %s: pipe: %s", log_path, strerror(errno));
	pid_t child = 0;
	if (rc == 0)
		rc = relay_spawn(log_path, (int[4]){pp[0], -1, log, idx}, &child, e);
	int all[] = {pp[0], log, idx, pp[1]};
	for (size_t i = 0; i < 4; i++)
		if (all[i] >= 0 && (rc < 0 || i < 3))
			close(all[i]);
	if (rc < 0)
		return rc;
	reap_later(child);
	*wfd = pp[1];
	if (pid)
		*pid = child;
	return 0;
}
