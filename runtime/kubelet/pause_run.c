/*
 * pause_run.c - the pause program itself (see pause.h): libc only, so
 * that it links into the small clusterfs-logrelay executable too, whose
 * start costs a fraction of clusterfs's (53 shared libraries).
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/kubelet/pause.h"

#define PAUSE_READY_FD	   3
#define PAUSE_HOSTNAME_MAX 63

/* Brings the loopback interface of the current network namespace up. */
static int loopback_up(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	struct ifreq ifr = {0};
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	int r = ioctl(s, SIOCGIFFLAGS, &ifr);
	if (r == 0) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		r = ioctl(s, SIOCSIFFLAGS, &ifr);
	}
	r = r < 0 ? -errno : 0;
	close(s);
	return r;
}

int pause_main(int argc, char **argv)
{
	if (argc != 3 || strlen(argv[2]) > PAUSE_HOSTNAME_MAX) {
		fprintf(stderr, "usage: clusterfs pause HOSTNAME (started by the node agent)\n");
		return 2;
	}
	const char *host = argv[2];
	if (unshare(CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) < 0) {
		fprintf(stderr, "clusterfs pause: unshare: %s\n", strerror(errno));
		return 1;
	}
	if (sethostname(host, strlen(host)) < 0 || loopback_up() < 0) {
		fprintf(stderr, "clusterfs pause: %s: %s\n", host, strerror(errno));
		return 1;
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	/* the namespaces exist: tell the agent, and keep nothing of its */
	if (write(PAUSE_READY_FD, "1", 1) != 1)
		return 1;
	close(PAUSE_READY_FD);
	int fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0), dup2(fd, 1), dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	if (chdir("/") < 0)
		return 1;
	for (;;) {
		int sig = 0;
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGCHLD) {
			while (waitpid(-1, NULL, WNOHANG) > 0)
				;
			continue;
		}
		if (sig != SIGHUP)
			return 0;
	}
}
