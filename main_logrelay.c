/*
 * main_logrelay.c - clusterfs-logrelay, a container's log relay
 * (runtime/kubelet/logrelay.h) as a small executable of its own: the
 * relay's loop and libc, nothing else of clusterfs, so that each running
 * container costs little memory.  The agent runs it (from beside its own
 * executable) as
 *
 *     clusterfs-logrelay DATA_DIR/logs/UID/CONTAINER/ATTEMPT.log
 *
 * with the container's stdout and stderr pipes as fds 0 and 1, the log as
 * fd 2 and its index as fd 3.  It is also a pod's pause process
 * (runtime/kubelet/pause.h), which the agent starts from here as
 *
 *     clusterfs pause HOSTNAME
 *
 * for the same reason: a start of this costs a fraction of clusterfs's.
 * Not for people.
 */
#include <string.h>

#include "runtime/kubelet/logrelay.h"
#include "runtime/kubelet/pause.h"

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "pause"))
		return pause_main(argc, argv);
	return logrelay_main(argc, argv);
}
