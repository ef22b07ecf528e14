/*
 * proc.h - the one way clusterfs starts a process: runc, the CNI plugins
 * and the tools they need, dnsmasq, a pod's pause process.
 *
 * Every child gets a clean signal state (no signal blocked, every handler
 * back to its default) and exactly the fds 0..nfd-1 the caller describes,
 * none other; optionally a session of its own, so that a Ctrl-C at the
 * server's terminal does not reach it.
 *
 *   proc_run    runs a program to its end: optional stdin text, captured
 *               stdout/stderr, a deadline at which it is killed and reaped.
 *   proc_start  starts one and returns: a long-running child (dnsmasq,
 *               pause) that its caller supervises and reaps (proc_wait).
 *
 *     struct proc p = {.argv = argv, .in = "{}", .timeout_ms = 10000,
 *                      .io = {[1] = PROC_CAPTURE, [2] = PROC_CAPTURE}};
 *     if (proc_run(&p, &e) == 0 && proc_exit_code(p.status) == 0)
 *             use(p.out[1]);
 *     proc_free(&p);
 *
 * Children are waited for by pid, never waitpid(-1): other modules' children
 * are left alone.
 */
#ifndef CFS_RUNTIME_PROC_H
#define CFS_RUNTIME_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "engine/err.h"

#define PROC_FDS 4 /* the most fds a child gets: stdin, stdout, stderr and one more */

/* What one of the child's fds is.  The zero value is /dev/null. */
enum proc_io {
	PROC_NULL = 0, /* /dev/null */
	PROC_CAPTURE,  /* a memfd, read into out[i] when the child has ended */
	PROC_FD,       /* the caller's fd[i] */
	PROC_INHERIT,  /* whatever the server has there */
};

struct proc {
	const char *path;  /* the executable; NULL: argv[0] */
	char *const *argv; /* NULL-ended */
	char *const *envp; /* NULL: the server's environment */
	const char *name;  /* for messages; NULL: path */
	const char *in;	   /* stdin text (then io[0] is ignored), or NULL */
	int nfd;	   /* the child's fds are 0..nfd-1; 0 means 3 */
	enum proc_io io[PROC_FDS];
	int fd[PROC_FDS]; /* for PROC_FD */
	bool setsid;	  /* a session of its own */

	/* proc_run: the deadline (<= 0: none) and what happens at it.
	 * on_timeout runs first (when set) and returns how many ms the child
	 * gets to end by itself (0: none); then it is killed (SIGKILL). */
	int timeout_ms;
	int (*on_timeout)(struct proc *p);
	void *arg; /* for on_timeout */

	/* results */
	pid_t pid;
	int status;	     /* the waitpid() status (proc_run) */
	char *out[PROC_FDS]; /* what each PROC_CAPTURE fd held, trailing space trimmed */
	int cap[PROC_FDS];   /* internal: the capture memfds, + 1 (0: none) */
	int pidfd;	     /* internal: + 1 (0: none) */
};

/* Starts p (p->pid set) and returns: 0, or the errno of a failed spawn
 * with *e.  The caller reaps the child (proc_wait) and calls proc_free. */
int proc_start(struct proc *p, struct err **e);

/* Runs p to its end.  0 when it ended by itself (p->status and the
 * captures in p->out set); -ETIMEDOUT when the deadline came (it has been
 * killed and reaped); else the errno of a failed spawn or wait; with *e.
 * The caller calls proc_free in every case. */
int proc_run(struct proc *p, struct err **e);

/* Frees p's captures and closes what proc_start left open. */
void proc_free(struct proc *p);

/* Reaps our child pid within timeout_ms (0: look once; < 0: forever):
 * 0 (with *status when status is not NULL), -ETIMEDOUT, or -errno of
 * waitpid (-ECHILD: not our child, or reaped already). */
int proc_wait(pid_t pid, int timeout_ms, int *status);

/* The exit code of a waitpid status as Kubernetes reports it: the code,
 * or 128 + the signal that ended it. */
int proc_exit_code(int status);

#endif
