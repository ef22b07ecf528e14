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
 *     PODS/UID/userns                         hostUsers: false: the
 *                                             pod's id range (userns.h)
 *     PODS/UID/volumes/NAME/                  an emptyDir volume (0777;
 *                                             group fsGroup, setgid; a
 *                                             tmpfs for medium: Memory)
 *     PODS/UID/C/                             container C's bundle:
 *         rootfs/                             overlay of the image layers
 *         ATTEMPT/upper, ATTEMPT/work         that attempt's writable layer
 *         ATTEMPT/lower/N                     userns: idmapped layers
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
#include <stdint.h>
#include <sys/types.h>

#include "engine/err.h"
#include "runtime/image/image.h"
#include "runtime/kubelet/oci.h"

/* ---- Environment ---- */

/* What the pod functions work with; the caller owns all of it and keeps it
 * alive while they run. */
struct pod_env {
	struct image_store *images;
	struct oci_runtime *rt;
	const char *pods_dir;	   /* DATA_DIR/pods; made if missing */
	const char *logs_dir;	   /* DATA_DIR/logs; made if missing */
	const char *cgroup_parent; /* "/clusterfs": containers' cgroups go
				      below it, in the pod's (podcg.h);
				      NULL: runc's default */
	int64_t pids_limit;	   /* the pod cgroup's pids.max; <= 0: none */
};

/* ---- The sandbox ---- */

/* Fields are for reading; the functions below change them. */
struct pod_sandbox {
	char *uid;	      /* the pod's metadata.uid */
	char *ns;	      /* metadata.namespace */
	char *name;	      /* metadata.name */
	char *dir;	      /* PODS/UID */
	pid_t pid;	      /* the pause process (pause.h) */
	uint64_t start;	      /* its start time, against pid reuse */
	bool made_dir;	      /* dir is this sandbox's (so removal may drop it) */
	bool adopted;	      /* found after an agent restart: not our child */
	uint32_t userns_base; /* hostUsers: false: the host id of the
				 containers' root (oci_spec.userns_base); 0:
				 the host's user namespace */
};

/*
 * Makes PODS/UID with hostname, hosts and resolv.conf, starts the pod's
 * pause process (new net, ipc and uts namespaces; hostname the pod's name)
 * and records it in PODS/UID/sandbox.  Returns 0 and *out (free with
 * pod_sandbox_free after pod_sandbox_remove), or a negative errno with *e
 * and *out NULL, having undone what it did: -EINVAL for a pod without a
 * valid uid or name, -EEXIST when PODS/UID/sandbox exists (an agent
 * restart must adopt it instead), else the errno of a failed step.
 */
int pod_sandbox_create(const struct pod_env *env, const json_t *pod, struct pod_sandbox **out,
		       struct err **e);

/*
 * Rewrites the pod's /etc/hosts with its address ip (NULL: none yet) and,
 * when resolv is not NULL, its /etc/resolv.conf, in place (the agent does
 * it once, before the containers start, which bind-mount the files).
 */
int pod_sandbox_set_net(const struct pod_sandbox *sb, const char *ip, const char *resolv,
			struct err **e);

/* The sandbox recorded in PODS/UID, as a previous agent left it (alive or
 * not: see pod_sandbox_alive).  0, or -ENOENT / -EINVAL with *e. */
int pod_sandbox_adopt(const struct pod_env *env, const char *uid, struct pod_sandbox **out,
		      struct err **e);

/* The uids of every PODS/UID directory, into *uids (*n; free each and the
 * array).  0 or a negative errno. */
int pod_sandbox_list(const struct pod_env *env, char ***uids, size_t *n);

/* True while the pause process runs. */
bool pod_sandbox_alive(const struct pod_sandbox *sb);

/*
 * Kills the pause process and unmounts every mount under PODS/UID (its
 * containers' rootfs), keeping the files.  The pod's containers must have
 * been stopped first.  Returns 0, or the first error while still doing
 * every other step.  NULL is fine.
 */
int pod_sandbox_stop(const struct pod_env *env, struct pod_sandbox *sb, struct err **e);

/* pod_sandbox_stop, then removes PODS/UID entirely. */
int pod_sandbox_remove(const struct pod_env *env, struct pod_sandbox *sb, struct err **e);

/* Frees sb's memory only; touches nothing on the host.  NULL is fine. */
void pod_sandbox_free(struct pod_sandbox *sb);

/* Removes LOGS/UID, the logs of every container of a pod that is gone. */
int pod_logs_remove(const struct pod_env *env, const char *uid);

/* ---- Containers ---- */

struct pod_container {
	char *name;	     /* the container's name in the pod */
	int attempt;	     /* 0 for the first run, then restarts */
	char *id;	     /* runc id */
	char *dir;	     /* PODS/UID/NAME: the bundle */
	char *rootfs;	     /* PODS/UID/NAME/rootfs */
	char *attempt_dir;   /* PODS/UID/NAME/ATTEMPT: upper and work */
	char *log;	     /* LOGS/UID/NAME/ATTEMPT.log */
	char *cgroup;	     /* CGROUP_PARENT/podUID/ID, or NULL */
	char *view;	     /* hostUsers: false: /run/clusterfs/userns/ID, where
				runc (as the container's root) finds the rootfs,
				the data dir being root's alone; else NULL */
	pid_t pid;	     /* the init on the host; 0 before it runs */
	uint64_t start_time; /* of pid, when adopted */
	bool mounted, created, reaped;
	bool adopted;  /* found after an agent restart: not our child */
	int exit_code; /* when reaped: exit status, or 128 + signal; -1
			  when unknown (it ended while adopted) */
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

/*
 * The container attempt `attempt` of `container` that runc knows in sb (a
 * previous agent's): running (pid set; not our child, so its exit code
 * will be unknown) or stopped (reaped, exit_code -1).  0, -ENOENT when runc
 * does not know it.
 */
int pod_container_adopt(const struct pod_env *env, const struct pod_sandbox *sb,
			const char *container, int attempt, struct pod_container **out,
			struct err **e);

/* True while c's init runs (for a child: until it is reaped). */
bool pod_container_alive(const struct pod_container *c);

/* True when the kernel's OOM killer killed a process of c's cgroup; ask
 * before pod_container_remove (runc delete drops the cgroup). */
bool pod_container_oom_killed(const struct pod_container *c);

#endif
