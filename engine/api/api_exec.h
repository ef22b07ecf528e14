/*
 * api_exec.h - running a command in a pod's container, and reaching a
 * port of a pod, on whichever node runs the pod.
 *
 *     kubectl exec web -- ls        kubectl port-forward web 8080:80
 *           |                                 |
 *     a face (http/exec.c)  --  api_exec_start / api_portforward
 *           |                                 |
 *     the provider the node agent registered for spec.nodeName
 *     (runtime/kubelet/exec.c: runc exec, setns + connect)
 *
 * The engine only finds the pod, checks the container and names the
 * node: a node agent registers one provider per node name (a const
 * vtable and an argument); the face never knows the runtime.  A session
 * is the provider's, but stands alone once started (fds and a process):
 * it stays valid after its provider unregistered.
 *
 * Threads: all functions may be called from any thread.  Unregister waits
 * for calls into that provider in progress.
 */
#ifndef CFS_API_EXEC_H
#define CFS_API_EXEC_H

#include <stdbool.h>

#include "engine/api/api.h"
#include "engine/err.h"
#include "engine/podlog.h"

struct api_exec_opts {
	const char *ns, *pod, *uid; /* the pod */
	const char *container;	    /* its name in the pod (never NULL) */
	char *const *argv;	    /* NULL-ended, at least one */
	bool tty;		    /* a terminal: out is its master, no err */
	bool in, out, err;	    /* which streams the caller wants */
};

struct api_exec_sess;

struct api_exec_sess_ops {
	/* Waits for the command's end (after out and err reached EOF, or
	 * at once after kill): 0 and its exit code (128 + signal). */
	int (*wait)(struct api_exec_sess *s, int *exit_code, struct err **e);
	/* The terminal's size (tty only). */
	void (*resize)(struct api_exec_sess *s, unsigned width, unsigned height);
	/* Ends the command (SIGKILL). */
	void (*kill)(struct api_exec_sess *s);
	/* Frees s, closing its fds that are still open (after wait). */
	void (*free)(struct api_exec_sess *s);
};

/* A running command.  The caller may close in (stdin's EOF) and set it
 * to -1; out and err are the caller's to read (-1: none). */
struct api_exec_sess {
	int in, out, err;
	const struct api_exec_sess_ops *ops;
};

struct api_exec_provider {
	int (*exec)(void *arg, const struct api_exec_opts *o, struct api_exec_sess **out,
		    struct err **e);
	/* A connected socket to 127.0.0.1:port in the pod's network. */
	int (*portforward)(void *arg, const char *ns, const char *pod, const char *uid, int port,
			   int *fd, struct err **e);
	/* Logs kept away from this machine (a remote node's; NULL: in the
	 * files under the server's DATA_DIR/logs, read directly): a reader
	 * (never NULL) of container ctr of the pod with uid, standing alone
	 * once made, and the size and mtime of that log (-ENOENT: none). */
	struct podlog *(*log_open)(void *arg, const char *uid, const char *ctr,
				   enum podlog_role role);
	int (*log_stat)(void *arg, const char *uid, const char *ctr, enum podlog_role role,
			struct stat *st);
};

/* The provider registered for node, or NULL (to tell one's own apart). */
const struct api_exec_provider *api_exec_provider_of(struct api *a, const char *node);

/*
 * Where the logs of container ctr of pod are, for podlog_open and the
 * other podlog.h calls (caller frees): the folder under logs_dir
 * (podlog_dir_new) when the pod's node keeps them here, or a name for the
 * provider of the pod's node (PODLOG_REMOTE_PREFIX) when it has log_open.
 * NULL as podlog_dir_new.
 */
char *api_podlog_dir(struct api *a, const char *logs_dir, const json_t *pod, const char *ctr);

/* Registers p (static) for node; replaces an earlier one of that name. */
void api_exec_register(struct api *a, const char *node, const struct api_exec_provider *p,
		       void *arg);
/* Drops node's provider, after calls into it in progress returned. */
void api_exec_unregister(struct api *a, const char *node);

/*
 * Starts o->argv in the container of pod ns/name (container NULL or "":
 * the pod's only container).  0 and *s; else -ENOENT (no such pod),
 * -EINVAL (a bad container, no command: the apiserver's 400s), -EAGAIN
 * (the pod is not on a node yet, or not running), -EHOSTUNREACH (no agent
 * serves the pod's node), or the provider's errno; with *e.
 */
int api_exec_start(struct api *a, const struct api_exec_opts *o, struct api_exec_sess **s,
		   struct err **e);

/*
 * The container of pod (an object named name) a request means: want when
 * it is one of the pod's containers or init containers, else the pod's
 * only container when want is NULL or "".  0 and *ctr (borrowed from pod
 * or want); -EINVAL with the apiserver's wording ("container X is not
 * valid for pod P", "a container name must be specified for pod P,
 * choose one of: [a b]").  For exec, attach and logs alike.
 */
int api_pod_container(const json_t *pod, const char *name, const char *want, const char **ctr,
		      struct err **e);

/* A connected socket to the pod's port (1..65535), or as above. */
int api_portforward(struct api *a, const char *ns, const char *pod, int port, int *fd,
		    struct err **e);

#endif
