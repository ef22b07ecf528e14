/*
 * pause.c - the pod sandbox's process (see pause.h).
 */
#include "runtime/kubelet/pause.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/mem.h"
#include "runtime/proc.h"
#include "runtime/sys.h"

#define PAUSE_READY_FD	   3
#define PAUSE_WAIT_MS	   5000
#define PAUSE_HOSTNAME_MAX 63

/* ---- the agent's side ---- */

/* The small executable beside ours that has the pause program too
 * (main_logrelay.c); "" when there is none: then our own. */
#define PAUSE_HELPER "clusterfs-logrelay"
static char helper[PATH_MAX];
static pthread_once_t helper_once = PTHREAD_ONCE_INIT;

static void helper_find(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return;
	self[n] = 0;
	char *slash = strrchr(self, '/');
	if (!slash)
		return;
	*slash = 0;
	int w = snprintf(helper, sizeof(helper), "%s/%s", self, PAUSE_HELPER);
	if (w <= 0 || (size_t)w >= sizeof(helper) || access(helper, X_OK) < 0)
		helper[0] = 0;
}

/* The start time of pid (/proc/PID/stat field 22), a zombie's too, and
 * in *zombie whether it is one (or is being reaped); 0 when there is no
 * such process. */
static uint64_t stat_start(pid_t pid, bool *zombie)
{
	char path[64], text[1024];
	*zombie = false;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	text[n] = 0;
	/* after "(comm)", which may hold spaces: state is field 3 */
	char *p = strrchr(text, ')');
	if (!p || p[1] != ' ')
		return 0;
	*zombie = p[2] == 'Z' || p[2] == 'X';
	p += 2;
	for (int field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	return p ? strtoull(p, NULL, 10) : 0;
}

uint64_t proc_start_time(pid_t pid)
{
	bool zombie;
	uint64_t t = stat_start(pid, &zombie);
	return zombie ? 0 : t;
}

bool pause_alive(pid_t pid, uint64_t start)
{
	return pid > 0 && start && proc_start_time(pid) == start;
}

int pause_spawn(const char *hostname, const char *dir, pid_t *pid, uint64_t *start, struct err **e)
{
	int p[2];
	if (!hostname || !*hostname || strlen(hostname) > PAUSE_HOSTNAME_MAX)
		return err_make(e, EINVAL, "pause: bad hostname");
	if (pipe2(p, O_CLOEXEC) < 0)
		return err_make(e, errno, "pause: pipe: %s", strerror(errno));
	char *argv[] = {"clusterfs", "pause", (char *)hostname, NULL};
	/* its environment names its pod's folder, and nothing else of ours */
	_cleanup_free_ char *tag = xasprintf("CLUSTERFS_POD_DIR=%s", dir ? dir : "");
	char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", tag, NULL};
	/* stdin /dev/null, stdout and stderr the server's, the ready pipe */
	pthread_once(&helper_once, helper_find);
	struct proc sp = {.path = helper[0] ? helper : "/proc/self/exe",
			  .argv = argv,
			  .envp = envp,
			  .name = "pause",
			  .nfd = PAUSE_READY_FD + 1,
			  .io = {PROC_NULL, PROC_INHERIT, PROC_INHERIT, PROC_FD},
			  .fd = {[PAUSE_READY_FD] = p[1]},
			  .setsid = true};
	int rc = proc_start(&sp, e);
	pid_t child = sp.pid;
	proc_free(&sp);
	close(p[1]);
	if (rc < 0) {
		close(p[0]);
		return rc;
	}
	struct pollfd pfd = {.fd = p[0], .events = POLLIN};
	char c = 0;
	int r;
	do
		r = poll(&pfd, 1, PAUSE_WAIT_MS);
	while (r < 0 && errno == EINTR);
	bool ready = r == 1 && read(p[0], &c, 1) == 1 && c == '1';
	close(p[0]);
	if (!ready) {
		kill(child, SIGKILL);
		proc_wait(child, -1, NULL);
		return err_make(e, EIO, "pause %s: its namespaces could not be made (see the log)",
				hostname);
	}
	*pid = child;
	*start = proc_start_time(child);
	return 0;
}

/*
 * Our child is reaped by pid until waitpid says it is ours no more: a
 * look at its state in between would race with its death (it turns into
 * a zombie right after a waitpid that found it running, and was left one
 * for good).  A pid whose start time is not start is another process's
 * (ours was reaped, the number reused): neither killed nor waited for.
 */
int pause_kill(pid_t pid, uint64_t start)
{
	bool zombie;
	if (pid <= 0 || !start || stat_start(pid, &zombie) != start)
		return 0;
	if (!zombie)
		kill(pid, SIGKILL);
	for (int waited = 0; waited < PAUSE_WAIT_MS; waited += 2) {
		pid_t r = waitpid(pid, NULL, WNOHANG);
		if (r == pid)
			return 0;
		/* not our child (adopted): its own parent reaps it */
		if (r < 0 && errno == ECHILD && !pause_alive(pid, start))
			return 0;
		sleep_ms(2);
	}
	return -ETIMEDOUT;
}
