/*
 * test_pause.c - unit tests of pause_kill (runtime/kubelet/pause.h): a
 * child it kills is reaped every time, not left a zombie (a race between
 * the child's death and the check of its start time left one now and
 * then: the "logrelay zombies" of the soak were pause processes, which run
 * from clusterfs-logrelay); a pid that is now another process's (its start
 * time differs) is neither killed nor reaped; a process that is not our
 * child is waited for until its own parent reaps it.
 *
 * The children are plain forks that wait for a signal: pause_kill's
 * contract names only a pid and its start time.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/kubelet/pause.h"
#include "tests/unit/unit.h"

#define ROUNDS 160

static void *idle(void *arg)
{
	for (;;)
		pause();
	return arg;
}

/* A child that waits to be killed, holding mib MiB of memory (so that its
 * end takes a while), with a second thread when mib > 0: then its main
 * thread may read as a zombie while the other one still frees the memory
 * and it cannot be reaped yet, which is when the old pause_kill gave up on
 * it.  Its start time in *start. */
static pid_t child_new(int mib, uint64_t *start)
{
	int p[2];
	if (pipe(p) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		size_t n = (size_t)mib << 20;
		char *m = n ? malloc(n) : NULL;
		if (m)
			memset(m, 1, n);
		pthread_t t;
		if (mib > 0 && pthread_create(&t, NULL, idle, NULL) != 0)
			_exit(1);
		close(p[0]);
		close(p[1]);
		for (;;)
			pause();
	}
	close(p[1]);
	char c;
	(void)!read(p[0], &c, 1); /* until it is ready */
	close(p[0]);
	*start = pid > 0 ? proc_start_time(pid) : 0;
	return pid;
}

/* Is pid a child of ours still to be reaped (running or a zombie)?  Reaps
 * a zombie it finds, so that the next round starts clean. */
static bool unreaped(pid_t pid)
{
	return waitpid(pid, NULL, WNOHANG) == pid || kill(pid, 0) == 0;
}

/* Every child killed is reaped: none left a zombie. */
static void test_kill_reaps(void)
{
	int left = 0, failed = 0;
	for (int i = 0; i < ROUNDS; i++) {
		uint64_t start;
		pid_t pid = child_new(i % 2 ? 128 : 0, &start);
		if (pid <= 0 || !start) {
			CHECK(pid > 0 && start);
			return;
		}
		failed += pause_kill(pid, start) != 0;
		if (unreaped(pid)) {
			left++;
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
	}
	printf("  %d children killed: %d failed, %d left unreaped\n", ROUNDS, failed, left);
	CHECK(failed == 0);
	CHECK(left == 0);
}

/* A pid whose start time is not the one given is another process: left
 * alone, alive or a zombie (not ours to reap). */
static void test_other_process(void)
{
	uint64_t start;
	pid_t pid = child_new(0, &start);
	CHECK(pid > 0 && start);
	if (pid <= 0)
		return;
	CHECK(pause_kill(pid, start + 1) == 0);
	CHECK(kill(pid, 0) == 0); /* not killed */
	kill(pid, SIGKILL);
	for (int i = 0; i < 500 && proc_start_time(pid); i++)
		usleep(2000); /* until it is a zombie */
	CHECK(pause_kill(pid, start + 1) == 0);
	CHECK(waitpid(pid, NULL, WNOHANG) == pid); /* still ours to reap */
}

/* Not our child (a grandchild, whose parent reaps it): killed, and
 * pause_kill returns once it is gone. */
static void test_not_a_child(void)
{
	int p[2];
	CHECK(pipe(p) == 0);
	pid_t mid = fork();
	if (mid == 0) {
		close(p[0]);
		uint64_t start;
		pid_t g = child_new(0, &start);
		(void)!write(p[1], &g, sizeof(g));
		(void)!write(p[1], &start, sizeof(start));
		waitpid(g, NULL, 0);
		_exit(0);
	}
	close(p[1]);
	pid_t g = 0;
	uint64_t start = 0;
	CHECK(read(p[0], &g, sizeof(g)) == sizeof(g));
	CHECK(read(p[0], &start, sizeof(start)) == sizeof(start));
	close(p[0]);
	CHECK(g > 0 && start);
	if (g > 0 && start) {
		CHECK(pause_kill(g, start) == 0);
		CHECK(!pause_alive(g, start));
	}
	CHECK(waitpid(mid, NULL, 0) == mid);
}

int main(void)
{
	RUN(test_kill_reaps);
	RUN(test_other_process);
	RUN(test_not_a_child);
	return unit_done();
}
