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
 * fd 2 and its index as fd 3.  Not for people.
 */
#include "runtime/kubelet/logrelay.h"

int main(int argc, char **argv)
{
	return logrelay_main(argc, argv);
}
