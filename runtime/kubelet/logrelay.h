/*
 * logrelay.h - a container's log relay: the small process that holds the
 * read ends of the container's stdout and stderr pipes, appends what comes
 * to ATTEMPT.log and notes when each line came in ATTEMPT.idx.
 *
 *     $ ps -o pid,ppid,sid,args -C clusterfs
 *       PID  PPID   SID COMMAND
 *      4711     1  4711 clusterfs server ...
 *      4790  4711  4790 clusterfs logrelay /var/lib/clusterfs/logs/UID/web/0.log
 *
 * The log file's bytes are exactly what the container wrote, in the order
 * the relay read them (stdout and stderr interleaved by read), so the
 * filesystem's pods/NAME/logs and its byte offsets are as they were when
 * the container wrote into the file itself.  Beside it, ATTEMPT.idx holds
 * one record per line start (engine/podlog.h: offset, wall-clock ns,
 * stream), written before the line's bytes, so that a reader that sees a
 * line also sees its time: `kubectl logs --timestamps` and `--since`.
 *
 * The relay lives apart from the server: `clusterfs-logrelay PATH`, a
 * small executable of its own (main_logrelay.c: this loop and libc, about
 * 120 kB of memory of its own where `clusterfs logrelay PATH`, the same
 * loop in the server's executable, which the agent runs when there is no
 * clusterfs-logrelay beside it, has 1.6 MB), exec'd (posix_spawn) in a
 * session of its own with only its four fds (0: the container's stdout
 * and stderr pipe, 1: a second stream's pipe, /dev/null from the agent,
 * 2: the log, 3: the index), its cwd "/".  Forked from the
 * server instead, it would keep a copy of the server's memory once the
 * server is gone (docs/benchmarks.md has the figures).
 * A server killed with SIGKILL, stopped or restarted leaves it running,
 * and the container keeps writing into the same file; the next server
 * adopts the container and reads on.  It exits by itself when both pipes
 * are closed, i.e. when the container and everything that inherited its
 * stdout have ended, after writing what was left in them.  SIGHUP, SIGINT
 * and SIGPIPE are ignored; SIGTERM and SIGKILL end it (then the
 * container's next write to a full or closed pipe blocks or fails, as
 * with any log collector).
 *
 * Rotation is the relay's: past LOGRELAY_MAX_BYTES it copies the log to
 * ATTEMPT.log.1 (through ATTEMPT.log.1.tmp and rename) and truncates the
 * log and its index in place (copy-truncate, with nothing lost: the relay
 * is the only writer).  The node's rotator leaves logs that have an index
 * to it.
 *
 * Its parent, while the server lives, is the server: a thread of this
 * module reaps it by pid (a pidfd) when it exits.
 */
#ifndef CFS_LOGRELAY_H
#define CFS_LOGRELAY_H

#include <stdbool.h>
#include <sys/types.h>

#include "engine/err.h"

#define LOGRELAY_MAX_BYTES (10 << 20)		/* rotate past 10 MiB */
#define LOGRELAY_EXE	   "clusterfs-logrelay" /* beside the server's executable */

/*
 * Opens log_path (O_APPEND, created 0640) and its index, makes a pipe and
 * starts the relay on it.  *wfd is the write end (O_CLOEXEC) for the
 * container's stdout and stderr both (one pipe, so that the file has
 * their bytes in the order they were written, as when the container
 * wrote into the file itself; the index's stream is then always
 * PODLOG_STDOUT): give it to runc and close it.  Returns 0 (and *pid when
 * pid is not NULL), or -errno with *e (nothing left open, no process);
 * -ENOEXEC when there is no relay executable (logrelay_available).
 */
int logrelay_start(const char *log_path, int *wfd, pid_t *pid, struct err **e);

/*
 * Is there a relay to run: LOGRELAY_EXE beside our executable, or the
 * one logrelay_set_exe named, or our own executable when
 * logrelay_use_self() said it has the mode (clusterfs's main does).  When
 * there is none (a test program; a clusterfs copied without its relay)
 * the caller writes the log itself, without line times (warned once).
 */
bool logrelay_available(void);

/* The executable to run as the relay, with the arguments `clusterfs
 * logrelay PATH` takes; for tests.  Not thread-safe. */
void logrelay_set_exe(const char *path);

/* Our own executable runs the relay as `EXE logrelay PATH` (main.c). */
void logrelay_use_self(void);

/*
 * The relay's loop: reads out_r and err_r until both are at their end,
 * appending to log_fd (O_APPEND) and index records to idx_fd, rotating
 * past max_bytes (0: never) with log_path's name.  Uses only
 * async-signal-safe calls and no heap, so it can also run in a child
 * forked from a threaded process.  Returns 0, or 1 when poll failed.
 */
int logrelay_run(int out_r, int err_r, int log_fd, int idx_fd, const char *log_path,
		 off_t max_bytes);

/* `clusterfs logrelay PATH` (argc 3) and `clusterfs-logrelay PATH` (argc
 * 2): logrelay_run on fds 0..3.  Not for people. */
int logrelay_main(int argc, char **argv);

#endif
