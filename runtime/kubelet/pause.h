/*
 * pause.h - the pod sandbox's process: it holds a pod's namespaces.
 *
 *     $ ps -o pid,args -C clusterfs
 *       4711 clusterfs pause web-7d4c9-x2k8p
 *
 * Every pod gets one `clusterfs pause NAME` process, the init of a new
 * network, IPC and UTS namespace (hostname NAME, loopback up).  The pod's
 * containers join those three namespaces through /proc/PID/ns/, and a CNI
 * plugin plugs the network namespace in.  It is what Kubernetes' pause
 * container is, without a runc container around it: spawning it costs a
 * fork and an exec, not a `runc create` (about 50 ms here).  The exec is
 * of clusterfs-logrelay beside clusterfs when it is there (the program is
 * in pause_run.c, libc only: about 1 ms to start, against 7 ms for
 * clusterfs and its 53 shared libraries), else of clusterfs itself.
 *
 * It runs in its own session, so a Ctrl-C at the server's terminal does not
 * reach it, and it outlives the server: a restarted agent adopts it by pid,
 * checked against the process's start time so that a reused pid is never
 * taken for it.  SIGTERM or SIGKILL end it.
 */
#ifndef CFS_PAUSE_H
#define CFS_PAUSE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/err.h"

/* The program: `clusterfs pause HOSTNAME`, started by pause_spawn() with
 * the write end of a pipe as fd 3.  Returns the exit status. */
int pause_main(int argc, char **argv);

/*
 * Starts a pause process for hostname (a DNS label; also its argv, so ps
 * shows it) and waits until its namespaces exist (at most 5 s).  Its only
 * environment is PATH and CLUSTERFS_POD_DIR=dir (the pod's folder: tells
 * whose it is, e.g. to a test's leak check).  Returns 0
 * with *pid (the caller's child: reap it with waitpid after stopping it)
 * and *start (its start time), or a negative errno with *e.
 */
int pause_spawn(const char *hostname, const char *dir, pid_t *pid, uint64_t *start, struct err **e);

/* The start time of pid (clock ticks since boot, /proc/PID/stat field 22),
 * or 0 when there is no such process. */
uint64_t proc_start_time(pid_t pid);

/* True while pid is the process that started at start (not a zombie). */
bool pause_alive(pid_t pid, uint64_t start);

/*
 * Kills the pause process pid (if it is still the one that started at
 * start) with SIGKILL and waits until it is gone: reaped when it is our
 * child, else until its new parent reaped it.  Returns 0, or -ETIMEDOUT
 * after 5 s.
 */
int pause_kill(pid_t pid, uint64_t start);

#endif
