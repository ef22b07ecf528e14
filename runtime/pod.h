/*
 * pod.h - per-pod plumbing for the node agent: a pod's directory, its
 * sandbox ("pause") container, and its containers' bundles under runc.
 *
 *     $ ls /var/lib/clusterfs/pods/9f1c2e.../
 *     hostname  hosts  resolv.conf  sandbox/  volumes/  web/
 *     $ ls /var/lib/clusterfs/pods/9f1c2e.../web
 *     0.log  1.log  1/  config.json  rootfs/
 *
 * Layout, PODS being DATA_DIR/pods and UID the pod's metadata.uid:
 *
 *     PODS/UID/hostname, hosts, resolv.conf   bind-mounted into every
 *                                             container of the pod
 *     PODS/UID/sandbox/                       the sandbox's bundle: rootfs
 *                                             (overlay), upper/, work/
 *     PODS/UID/volumes/NAME/                  an emptyDir volume
 *     PODS/UID/C/                             container C's bundle:
 *         rootfs/                             overlay of the image layers
 *         ATTEMPT/upper, ATTEMPT/work         that attempt's writable layer
 *         ATTEMPT.log                         its stdout and stderr
 *
 * The sandbox is busybox:latest (from the image store; no pause image yet)
 * running `sleep 2147483647` as the init of new net, ipc and uts
 * namespaces, with the pod's name as hostname.  Containers join those
 * three namespaces through /proc/SANDBOXPID/ns/.  runc ids are
 * "UID12-sandbox" and "UID12-C-ATTEMPT" (UID12: the uid's first 12
 * characters).  One attempt of a container runs at a time: the previous
 * one is removed (pod_container_remove) before the next starts; its log
 * stays.
 *
 * Exit codes: the caller must be a child subreaper
 * (prctl(PR_SET_CHILD_SUBREAPER, 1)), so that each container init becomes
 * its child; this module reaps inits by pid only (see oci.h).  A container
 * whose program ignores SIGTERM (any program without a handler, since it
 * is its pid namespace's init: `sleep`, `sh`) ends with 137 after the
 * grace period.
 *
 * Every function accepts a half-built object (what a failed create
 * leaves, or NULL) and does only the undoing that applies, so cleanup
 * paths can call them unconditionally.  The objects hold no lock: one
 * thread at a time per pod (the agent's per-pod worker).  Different pods
 * may be handled from different threads on the same struct pod_env.
 */
#ifndef CFS_POD_H
#define CFS_POD_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "engine/err.h"
#include "runtime/image.h"
#include "runtime/oci.h"

/* ---- Environment ---- */

/* What the pod functions work with; the caller owns all of it and keeps it
 * alive while they run. */
struct pod_env {
	struct image_store *images;
	struct oci_runtime *rt;
	const char *pods_dir; /* DATA_DIR/pods; made if missing */
};

/* ---- The sandbox ---- */

/* Fields are for reading; the functions below change them. */
struct pod_sandbox {
	char *uid;     /* the pod's metadata.uid */
	char *name;    /* metadata.name, the hostname */
	char *dir;     /* PODS/UID */
	char *id;      /* runc id */
	pid_t pid;     /* the sandbox init on the host; 0 before it runs */
	bool made_dir; /* this object made dir (so removal may drop it) */
	bool mounted;  /* sandbox/rootfs is our overlay */
	bool created;  /* runc knows id because we created it */
	bool reaped;   /* pid has been waited for */
	int exit_code; /* when reaped */
};

/*
 * Makes PODS/UID with hostname, hosts and resolv.conf, mounts the sandbox
 * rootfs and creates and starts the sandbox container.  Returns 0 and *out
 * (free with pod_sandbox_free after pod_sandbox_remove), or a negative
 * errno with *e and *out NULL, having undone what it did: -EINVAL for a
 * pod without a valid uid or name, -ENOENT when busybox:latest is not
 * imported, -EEXIST when the pod's sandbox is already mounted or its runc
 * id taken (an agent restart must adopt it instead), else the errno of a
 * failed step.
 */
int pod_sandbox_create(const struct pod_env *env, const json_t *pod, struct pod_sandbox **out,
		       struct err **e);

/*
 * Stops the sandbox (SIGKILL: it does nothing on SIGTERM), deletes it from
 * runc, reaps its init, unmounts every mount left under PODS/UID (its
 * containers' rootfs too) and removes PODS/UID entirely.  The pod's
 * containers must have been stopped first (their namespaces go with it).
 * Returns 0, or the first error while still doing every other step.
 * NULL is fine.
 */
int pod_sandbox_remove(const struct pod_env *env, struct pod_sandbox *sb, struct err **e);

/* Frees sb's memory only; touches nothing on the host.  NULL is fine. */
void pod_sandbox_free(struct pod_sandbox *sb);

/* ---- Containers ---- */

struct pod_container {
	char *name;	   /* the container's name in the pod */
	int attempt;	   /* 0 for the first run, then restarts */
	char *id;	   /* runc id */
	char *dir;	   /* PODS/UID/NAME: the bundle */
	char *rootfs;	   /* PODS/UID/NAME/rootfs */
	char *attempt_dir; /* PODS/UID/NAME/ATTEMPT: upper and work */
	char *log;	   /* PODS/UID/NAME/ATTEMPT.log */
	pid_t pid;	   /* the init on the host; 0 before it runs */
	bool mounted, created, reaped;
	int exit_code; /* when reaped: exit status, or 128 + signal */
};

/*
 * Starts attempt `attempt` of container `container` (a name in
 * spec.containers or spec.initContainers) in sb: resolves its image,
 * mounts the rootfs, makes emptyDir volumes, writes config.json
 * (oci_config, joining the sandbox's net, ipc and uts namespaces) and
 * creates and starts it, stdout and stderr appended to ATTEMPT.log.
 * extra_env ("K=V", NULL-terminated, or NULL) is oci_spec.extra_env.
 * Returns 0 and *out, or a negative errno with *e and *out NULL, having
 * undone what it did (the log stays; a failed runc create writes its
 * error there): -ENOENT "image X not found" when the image is not in the
 * store (the agent's ErrImagePull) or the container is not in the pod,
 * -EINVAL for a bad name, attempt or volume (only emptyDir volumes are
 * supported yet), -EBUSY when the previous attempt's rootfs is still
 * mounted, -EIO with runc's message when it could not run it.
 */
int pod_container_start(const struct pod_env *env, struct pod_sandbox *sb, const json_t *pod,
			const char *container, const char **extra_env, int attempt,
			struct pod_container **out, struct err **e);

/*
 * Waits at most timeout_ms (0: just looks; < 0: no limit) for c's init to
 * exit, and reaps it.  Returns 0 with *exit_code (also in c->exit_code;
 * again on later calls), -ETIMEDOUT while it runs, -ECHILD when it is not
 * this process's child (no subreaper, or adopted) or never ran.
 */
int pod_container_wait(struct pod_container *c, int timeout_ms, int *exit_code);

/*
 * Sends SIGTERM, waits up to grace_s seconds, then SIGKILL and waits (up
 * to 10 s more).  Records the exit code in c.  Returns 0 (also when it had
 * exited already), -ETIMEDOUT when even SIGKILL did not end it, or the
 * error of oci_kill.  NULL or a never-started c is fine.
 */
int pod_container_stop(const struct pod_env *env, struct pod_container *c, int grace_s,
		       struct err **e);

/*
 * Deletes c from runc (force: kills it if it still runs), reaps its init,
 * unmounts its rootfs (lazily if busy) and removes rootfs, the attempt's
 * dir and config.json; ATTEMPT.log stays.  Returns 0, or the first error
 * while still doing every other step.  NULL is fine.
 */
int pod_container_remove(const struct pod_env *env, struct pod_container *c, struct err **e);

/* Frees c's memory only.  NULL is fine. */
void pod_container_free(struct pod_container *c);

#endif
