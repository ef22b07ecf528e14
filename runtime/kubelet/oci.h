/*
 * oci.h - the OCI runtime driver: config.json from a Pod, and runc.
 *
 *     $ runc --root /var/lib/clusterfs/runc list
 *     ID                          PID     STATUS    BUNDLE ...
 *     default_web-7d4_sandbox     4711    running   /var/lib/clusterfs/pods/...
 *     default_web-7d4_nginx       4790    running   /var/lib/clusterfs/pods/...
 *
 * Two halves:
 *
 *   - oci_config() turns a Pod, one of its containers and the image's
 *     config into an OCI runtime config.json (runtime-spec 1.0.2), with the
 *     rules the kubelet and containerd apply: command/args against
 *     Entrypoint/Cmd, $(VAR) expansion, env order, workingDir, user,
 *     Docker's default capabilities, masked and read-only paths, resources
 *     into cgroup values, namespaces new or joined, oomScoreAdj by QoS.
 *     It reads only its arguments and, of the host, the cgroup version,
 *     the RAM size and its own CapEff and oom_score_adj.
 *
 *   - oci_create() ... oci_exec() run the `runc` executable (proc_run,
 *     no shell) against one state directory (`runc --root`).  runc's own
 *     error messages are taken from its log (`--log`, JSON, kept in a
 *     memfd) and put in the struct err; the errno says what happened:
 *     -ENOENT (runc does not know the container), -EEXIST (the id is
 *     taken), -ESRCH (not running), -ETIMEDOUT, -EIO (anything else).
 *
 * Exit codes and the subreaper.  `runc create` forks the container's init
 * and exits, so the init is reparented to the nearest ancestor that is a
 * child subreaper.  The node agent must therefore call
 * prctl(PR_SET_CHILD_SUBREAPER, 1) once at start-up; each container init
 * is then the agent's child, and oci_wait_exit(pid) (pid from oci_state()
 * right after oci_create()) collects its exit code.  Rules for the agent:
 *
 *   - reap by pid only (oci_wait_exit, or pidfd_open + poll, then
 *     oci_wait_exit); never waitpid(-1) nor SIGCHLD = SIG_IGN: this driver
 *     waits for its own runc processes by pid, and a catch-all reaper
 *     would steal their statuses;
 *   - a container adopted after an agent restart is not the agent's child
 *     (its old parent died, it went to pid 1 or to an outer subreaper): its
 *     stop is seen through oci_state() ("stopped"), its exit code is lost.
 *
 * Containers are their own pid namespace's init: the kernel drops signals
 * to it for which it has no handler, so SIGTERM to `sleep` does nothing
 * and SIGKILL after the grace period is what stops it.  oci_start()
 * returns when runc has told the init to exec: a signal sent at once may
 * still find runc's init, which dies of it whatever the program would do.
 *
 * Threads: every function may be called from any thread, concurrently,
 * also on the same struct oci_runtime (it holds only constant strings and
 * an atomic counter).  runc serialises operations on one container itself.
 */
#ifndef CFS_OCI_H
#define CFS_OCI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/err.h"

/* ---- Building config.json ---- */

/* A bind mount the caller prepared (an emptyDir volume, a projected file). */
struct oci_mount {
	const char *host_path;	    /* source, absolute */
	const char *container_path; /* destination, absolute */
	bool readonly;
};

/* The namespaces a container may join instead of making its own. */
enum oci_ns { OCI_NS_NET, OCI_NS_IPC, OCI_NS_UTS, OCI_NS_COUNT };

/*
 * Everything oci_config() reads.  Nothing is owned: every pointer is
 * borrowed for the call.  String vectors end with NULL, as in struct
 * image_info (a vector is NULL when the image does not set it).
 */
struct oci_spec {
	const char *rootfs;		/* absolute path of the rootfs; required */
	bool sandbox;			/* the pod's pause container: args from the
					   image only, oomScoreAdj -998, no
					   container resources */
	const json_t *pod;		/* the Pod; required */
	const json_t *container;	/* an entry of spec.containers (or
					   initContainers); required unless sandbox */
	char *const *entrypoint;	/* image config Entrypoint */
	char *const *cmd;		/* image config Cmd */
	char *const *image_env;		/* image config Env, "K=V" */
	const char *working_dir;	/* image config WorkingDir, or NULL */
	const char *image_user;		/* image config User: "UID" or
					   "UID:GID" (names are refused), or NULL */
	const char *hostname;		/* NULL: the pod's metadata.name */
	char *const *extra_env;		/* "K=V" the caller resolved: each env
					   entry with valueFrom (by its name) and
					   envFrom / service variables (the rest) */
	const struct oci_mount *mounts; /* n_mounts bind mounts to add */
	size_t n_mounts;
	const char *ns_path[OCI_NS_COUNT]; /* "/proc/PID/ns/net" ... of the
					      sandbox to join; NULL: new */
	const char *cgroups_path;	   /* linux.cgroupsPath, or NULL */
	const char *hostname_file;	   /* host files bind-mounted on /etc/hostname, */
	const char *hosts_file;		   /* /etc/hosts and /etc/resolv.conf; */
	const char *resolv_file;	   /* NULL: not mounted */
	const char *shm_dir;		   /* the pod's /dev/shm on the host; NULL: a
					      tmpfs of the container's own */
	int64_t node_memory;		   /* bytes, for Burstable oomScoreAdj;
					      0: this machine's RAM */
	uint32_t userns_base;		   /* hostUsers: false: container ids
					      0..OCI_USERNS_SIZE-1 are host ids
					      base..; 0: the host's user namespace */
};

#define OCI_USERNS_SIZE 65536 /* ids mapped per pod, as Kubernetes maps them */

/*
 * Builds the config.json of s (runtime-spec 1.0.2) as a new jansson value
 * the caller owns.  The rules, as the kubelet and containerd apply them:
 *
 *   args     command replaces Entrypoint, args replace Cmd; a command
 *            without args drops Cmd.  $(VAR) in command and args is
 *            expanded from the container's env as Kubernetes defines it
 *            (extra_env and the pod's env, not the image's Env); $$ is a
 *            literal $; an unknown $(VAR) stays as it is.
 *   env      the image's Env (PATH kept, or Docker's default PATH),
 *            HOSTNAME, then extra_env entries not named in the pod's env
 *            (envFrom), then the pod's env in order: value (with $(VAR)
 *            expanded from the entries before it) or, for valueFrom, the
 *            extra_env entry of that name (left out when there is none).
 *            A later name replaces an earlier one in place.  HOME=/root
 *            (uid 0) or / unless set.
 *   cwd      workingDir, else the image's WorkingDir, else "/".
 *   user     runAsUser / runAsGroup (container over pod), else the image's
 *            numeric User, else 0:0 (no /etc/passwd lookup: a named image
 *            User without runAsUser is refused); additionalGids from
 *            supplementalGroups and fsGroup.  runAsNonRoot checked
 *            (oci_check_user: -EPERM).
 *   caps     Docker's default 14 in bounding, effective and permitted
 *            (none ambient or inheritable); securityContext.capabilities
 *            add then drop, "ALL" before single names, so that drop ALL +
 *            add X is X (names with or without CAP_, any case).
 *            privileged: all caps, nothing masked, /sys read-write.
 *            noNewPrivileges unless oci_may_escalate().
 *   mounts   /proc, /dev (tmpfs), /dev/pts, /dev/shm, /dev/mqueue, /sys
 *            (ro), /sys/fs/cgroup (ro), the caller's files and mounts
 *            (nodev; nosuid too unless oci_may_escalate()).
 *   sysctl   the pod's sysctls, the safe set only (oci_check_sysctls:
 *            -EPERM for another).
 *   procMount  Unmasked: no masked or read-only paths; only with
 *            userns_base (hostUsers: false), else -EINVAL.
 *   userns   userns_base != 0: a user namespace of its own mapping
 *            0..65535 to base..base+65535 (uid and gid); as such a
 *            namespace may mount neither the pod's mqueue nor a sysfs
 *            (the pod's ipc and net namespaces belong to the host's
 *            users), no /dev/mqueue and the host's /sys bound read-only
 *            (rro); and no linux.sysctl, for the same reason: the
 *            caller sets them in the pod's namespaces (userns_sysctls).
 *   linux    Docker's maskedPaths and readonlyPaths; resources: memory
 *            limit from limits.memory (and swap the same where the
 *            kernel accounts it), cpu quota/period from limits.cpu
 *            (period 100000, quota >= 1000), cpu shares from requests.cpu
 *            (limits.cpu if no request; milli * 1024 / 1000, >= 2); pid
 *            and mount namespaces new, net/ipc/uts joined or new, cgroup
 *            new on cgroup v2 hosts; a hostname only with a new uts.
 *   oomScoreAdj  by the pod's QoS class: Guaranteed -997, BestEffort
 *            1000, Burstable 1000 - 1000 * memory request / node memory
 *            within [3, 999]; the sandbox -998.  Never below what runc
 *            can set: without CAP_SYS_RESOURCE, the agent's own value.
 *   root     the rootfs, read-only with readOnlyRootFilesystem.
 *
 *   seccomp  RuntimeDefault (seccomp.h): Docker's allow-list, answering
 *            EPERM to the rest (clone with namespace flags, clone3 ENOSYS,
 *            mount, unshare, io_uring, keyctl, bpf, ...), widened by the
 *            effective capabilities as Docker does; none when privileged
 *            or with seccompProfile type Unconfined; Localhost refused.
 *
 * Left out: rlimits (inherited from
 * the agent); AppArmor/SELinux.  Device nodes are runc's defaults (null,
 * zero, full, random, urandom, tty, ptmx), also when privileged.
 *
 * Returns the config, or NULL with *e (-EINVAL: no command at all, a bad
 * quantity or capability, a missing pod/container/rootfs).
 */
json_t *oci_config(const struct oci_spec *s, struct err **e);

/* ---- securityContext: what the kubelet checks before a container ---- */

/* securityContext.FIELD of ctr, else of the pod (the kubelet's merge). */
json_t *oci_sc_get(const json_t *pod, const json_t *ctr, const char *field);

/*
 * runAsNonRoot as the kubelet verifies it: with runAsUser 0, or without
 * runAsUser and an image user that is root (empty, "0", "0:G") or a name,
 * -EPERM with the kubelet's message (its CreateContainerConfigError).
 */
int oci_check_user(const json_t *pod, const json_t *ctr, const char *image_user, struct err **e);

/*
 * The pod's sysctls against Kubernetes' safe set (the kubelet without
 * --allowed-unsafe-sysctls): -EPERM "forbidden sysctl: \"NAME\" not
 * allowlisted" for any other (its SysctlForbidden rejection), -EINVAL
 * for one without a value.
 */
int oci_check_sysctls(const json_t *pod, struct err **e);

/* linux.sysctl of the pod: {"NAME": "VALUE"} (names with '/' normalised). */
json_t *oci_sysctls(const json_t *pod);

/* Whether ctr may gain privileges (no no_new_privs): privileged,
 * allowPrivilegeEscalation true, or CAP_SYS_ADMIN added (unless
 * allowPrivilegeEscalation is false). */
bool oci_may_escalate(const json_t *pod, const json_t *ctr);

/* spec.hostUsers, true when unset. */
bool oci_host_users(const json_t *pod);

/* securityContext.procMount is Unmasked. */
bool oci_proc_unmasked(const json_t *ctr);

/* ---- Running containers with runc ---- */

struct oci_runtime;

/* runc's status names; OCI_UNKNOWN for anything else. */
enum oci_status { OCI_CREATING, OCI_CREATED, OCI_RUNNING, OCI_PAUSED, OCI_STOPPED, OCI_UNKNOWN };

struct oci_state {
	enum oci_status status;
	pid_t pid; /* of the container's init on the host; 0 when stopped */
};

/*
 * Finds `runc` on PATH and makes root_dir (DATA_DIR/runc, runc's --root;
 * mode 0700; its parent must exist) if missing.  Returns 0 and *out (free with oci_runtime_free),
 * -ENOENT when there is no runc, or the errno of mkdir.
 */
int oci_runtime_new(const char *root_dir, struct oci_runtime **out, struct err **e);
void oci_runtime_free(struct oci_runtime *rt);

/*
 * Creates container id (letters, digits, "_+-.", at most 250 bytes) from
 * the bundle dir, which holds the rootfs.  When config is not NULL it is
 * first written to BUNDLE/config.json (via config.json.tmp and rename()).
 * The container's stdout and stderr are a pipe to a log relay
 * (logrelay.h) that appends to stdout_log (created 0640) and notes each
 * line's time beside it (without a relay executable: stdout_log itself,
 * opened O_APPEND; NULL: /dev/null, no relay); its
 * stdin is /dev/null: runc create runs detached with these as its own
 * stdio, and the init inherits them.  So a failed create also leaves
 * runc's error line in that log, which is what a user reading the logs
 * wants.  The init waits for oci_start().  Returns
 * 0, -EEXIST when id is taken, -EINVAL for a bad id, else -EIO with runc's
 * message.
 */
int oci_create(struct oci_runtime *rt, const char *id, const char *bundle, const json_t *config,
	       const char *stdout_log, struct err **e);

/* oci_create, and *pid: the init's pid on the host (from runc's
 * --pid-file, so no `runc state` call is needed). */
int oci_create_pid(struct oci_runtime *rt, const char *id, const char *bundle, const json_t *config,
		   const char *stdout_log, pid_t *pid, struct err **e);

/* oci_create_pid and oci_start in one runc process (`runc run --detach`):
 * the container runs when it returns 0.  On a failure runc has removed
 * what it made, or left a container oci_delete removes. */
int oci_run_pid(struct oci_runtime *rt, const char *id, const char *bundle, const json_t *config,
		const char *stdout_log, pid_t *pid, struct err **e);

/* Runs the created container's process.  0, -ENOENT, or -EIO. */
int oci_start(struct oci_runtime *rt, const char *id, struct err **e);

/* Status and init pid of id.  0, -ENOENT when runc does not know it. */
int oci_state(struct oci_runtime *rt, const char *id, struct oci_state *out, struct err **e);

/* Sends sig to the container's init.  0, -ENOENT, -ESRCH when it is not
 * running. */
int oci_kill(struct oci_runtime *rt, const char *id, int sig, struct err **e);

/* Deletes a stopped (or created) container; force kills a running one
 * first.  Removes runc's state and the container's cgroup; the bundle is
 * the caller's.  0, -ENOENT, or -EIO (e.g. running without force). */
int oci_delete(struct oci_runtime *rt, const char *id, bool force, struct err **e);

/* The ids runc knows, sorted, into *ids (*n of them; free with
 * oci_ids_free).  0, or -EIO with *ids NULL. */
int oci_list(struct oci_runtime *rt, char ***ids, size_t *n, struct err **e);
void oci_ids_free(char **ids, size_t n);

/*
 * Runs argv (argv[0] looked up on the container's PATH) in the running
 * container id, with its config's env, user and capabilities (at most 50
 * args); stdin, stdout and stderr are /dev/null.  Waits at most timeout_ms
 * (<= 0: no limit), then kills the process with SIGKILL and returns
 * -ETIMEDOUT.  Returns 0 and *exit_code (128 + signal when killed), or
 * -ENOENT / -ESRCH / -EIO when runc could not run it (told apart by runc's
 * log, not by its exit status): a failed exec is never an exit code.
 */
int oci_exec(struct oci_runtime *rt, const char *id, char *const argv[], int timeout_ms,
	     int *exit_code, struct err **e);

/*
 * Waits for the container init pid (the caller's child, see above) to
 * exit and reaps it.  *status is its exit code as Kubernetes reports it:
 * the exit status, or 128 + the signal that killed it.  Blocks; retries
 * on EINTR.  Returns 0, or -ECHILD when pid is not a child of this process.
 */
int oci_wait_exit(pid_t pid, int *status);

#endif
