/*
 * agent_int.h - the node agent's insides, shared by agent.c (threads,
 * node, adoption), agent_sync.c (bringing one pod to its spec),
 * agent_status.c (what is reported) and agent_probe.c (probe workers).
 *
 * Ownership and threads.  struct agent's lock guards the pod table and
 * the exit watches.  A struct apod is handled by one worker at a time (the
 * work queue hands out each uid to one worker), which alone changes it,
 * but for the probe results (ready, started, live_failed), which prober
 * threads set under the pod's own lock.  No lock is held across a runc
 * call or an API call.
 */
#ifndef CFS_AGENT_INT_H
#define CFS_AGENT_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/api/api.h"
#include "engine/hmap.h"
#include "engine/client/apic.h"
#include "engine/client/informer.h"
#include "engine/client/wq.h"
#include "runtime/kubelet/agent.h"
#include "runtime/net/cni.h"
#include "runtime/net/nodenet.h"
#include "runtime/kubelet/pod.h"

#define AGENT_BACKOFF_START_MS 10000	  /* CrashLoopBackOff: 10 s ... */
#define AGENT_BACKOFF_MAX_MS   300000	  /* ... doubling to 5 min */
#define AGENT_BACKOFF_RESET_MS 600000	  /* reset after 10 min running */
#define AGENT_LOG_MAX_BYTES    (10 << 20) /* rotate a log at 10 MiB */
#define AGENT_EVICT_CHECK_MS   2000	  /* emptyDir sizeLimit: how often */

struct prober;
struct apull;

enum cstate { CS_WAITING, CS_RUNNING, CS_TERMINATED };

/* One container of a pod (init or regular), as the agent runs it. */
struct actr {
	char *name;
	bool init;
	struct pod_container *c; /* the current instance, until removed */
	int restarts;		 /* restartCount */
	bool ran;		 /* an instance has run (or failed to start) */

	/* what is reported */
	enum cstate st;
	char *reason, *message; /* of the waiting or terminated state */
	int exit_code;
	char started_at[32], finished_at[32];
	char image_id[96]; /* the image's manifest digest */
	char cid[160];	   /* "runc://ID" of the latest instance */
	json_t *last_term; /* lastState.terminated, or NULL */
	bool done;	   /* terminated and not to be restarted */

	/* restarts */
	int64_t backoff_ms;	/* 0: the next restart is immediate */
	int64_t retry_at;	/* monotonic ms: not before (back-off) */
	int64_t run_since;	/* monotonic ms the current instance started */
	int pull_fails;		/* image pulls failed, in a row */
	struct apull *pull;	/* the pull under way (agent_pull.c), or NULL */
	int64_t pull_failed_at; /* monotonic ms of the last failure */
	bool image_ok;		/* the image is checked for the next start */
	int64_t kill_at;	/* being stopped: SIGKILL at this time; 0: not */
	bool config_error;	/* waiting on a ConfigMap (retry soon) */

	/* probes: set by prober threads under apod.lock */
	struct agent *ag; /* for the probers' callbacks */
	struct apod *ap;
	struct prober *probers[3]; /* liveness, readiness, startup */
	bool ready, started, live_failed;
	char *probe_msg;
};

struct apod {
	char *uid, *ns, *name;
	struct pod_sandbox *sb;
	struct actr *c; /* ninit init containers, then the regular ones */
	size_t nc, ninit;
	bool have_spec;		      /* c[] was built from the pod's spec */
	bool adopted;		      /* found at start: take states from the API */
	bool terminal;		      /* Succeeded or Failed: nothing runs any more */
	bool finalizing;	      /* deleting: stopped, the final delete posted */
	bool stopping;		      /* terminating: SIGTERM sent to every container */
	int64_t kill_at;	      /* monotonic ms: SIGKILL what still runs */
	struct pod_container **adopt; /* found at start, until matched */
	size_t nadopt;
	char start_time[32];
	char pod_ip[64];	      /* from CNI; "" before */
	json_t *posted;		      /* the status we last posted (ours) */
	char *fail_reason, *fail_msg; /* rejected or evicted: phase Failed */
	pthread_mutex_t lock;
};

struct agent {
	struct apic *c;
	struct agent_opts o;
	char node[254];
	char node_ip[64];
	struct pod_env env;
	struct image_store *images;
	struct oci_runtime *rt;
	char *pods_dir, *logs_dir, *runc_dir;
	struct cni *cni;
	char bridge[16];
	char pod_cidr[32];   /* the Node's spec.podCIDR, once known */
	struct nodenet *net; /* routes to the other nodes' pods */
	int64_t status_at;   /* heartbeat thread: mono ms of the last Node status written */

	pthread_mutex_t lock;
	struct hmap pods; /* lock: uid -> struct apod * */
	struct wq *q;	  /* uids of pods to sync */

	int epfd;	   /* exit watches: pidfds of containers and sandboxes */
	struct hmap watch; /* lock: "FD" -> uid (char *) */

	struct informer *inf;
	pthread_t *workers, heart, reaper, logrot;
	int nworkers;
	bool heart_on, reaper_on, logrot_on;
	pthread_cond_t beat;
	bool stop;     /* lock */
	int pulls;     /* lock: pull threads running (agent_pull.c), and GC's */
	int64_t gc_at; /* lock: mono ms of the last image GC pass (agent_images.c) */
	bool gc_busy;  /* lock: a pass runs */

	struct agent_metrics *metrics; /* the usage reporter (agent_metrics.c) */
};

/* agent.c */
struct apod *agent_pod_get(struct agent *ag, const char *uid);
void agent_pod_drop(struct agent *ag, struct apod *ap);
void agent_watch_pid(struct agent *ag, pid_t pid, const char *uid);
void agent_sync_later(struct agent *ag, const char *uid, int64_t delay_ms);

/* agent.c: the Node */
json_t *agent_node_status(struct agent *ag, const json_t *old);
int agent_register_node(struct agent *ag, struct err **e);

/* agent_node.c */
/* The heartbeat: renews the node's Lease every time, writes the Node's
 * status when it differs from what the Node holds (heartbeat times
 * aside) or status_every_s has passed, registers the Node again if it
 * was deleted. */
void agent_heartbeat(struct agent *ag);

/* agent_sync.c */
/* Brings the pod with this uid to its spec; returns the delay (ms) after
 * which it wants another look, 0 for none, < 0 to drop the pod. */
int64_t agent_sync(struct agent *ag, struct apod *ap);
/* Stops and removes everything of ap on the host (not its logs). */
void agent_teardown(struct agent *ag, struct apod *ap, int grace_s);
void actr_clear(struct actr *c);

/* agent_status.c */
/* The pod status to post for ap, from pod (the current object).  New value. */
json_t *agent_pod_status(struct agent *ag, struct apod *ap, const json_t *pod);
/* Environment from valueFrom and envFrom of container ctr: "K=V" strings,
 * NULL-ended, into *out (free with agent_env_free), after the Services of
 * the pod's namespace as Kubernetes' service variables (unless
 * enableServiceLinks is false).  0, or -ENOENT with *e
 * (a missing ConfigMap or key: CreateContainerConfigError). */
int agent_container_env(struct agent *ag, struct apod *ap, const json_t *pod, const json_t *ctr,
			char ***out, struct err **e);
void agent_env_free(char **env);
/* The value of a fieldRef's fieldPath (metadata.name, metadata.labels['k'],
 * status.podIP, ...) and of a resourceFieldRef (for container ctr, or
 * the one it names), as env and the downward API give them; malloc'd. */
char *agent_field_ref(struct agent *ag, struct apod *ap, const json_t *pod, const char *path);
char *agent_resource_ref(const json_t *pod, const json_t *ctr, const json_t *ref);
void agent_timestamp(char out[32]);

/* agent_volume.c: the volumes the agent writes (secret, configMap,
 * downwardAPI, projected).  PODS/UID/volumes/NAME holds its files through
 * the ..data link, rewritten (and the link swapped) when what they come
 * from changed; a secret or projected volume is a tmpfs.  0, or < 0 with
 * *e for a missing source or key (not optional): FailedMount.
 * agent_volume_unmount: the tmpfs of the pod's volumes unmounted (before
 * its folder is removed). */
int agent_volumes(struct agent *ag, struct apod *ap, const json_t *pod, struct err **e);
void agent_volume_unmount(struct apod *ap);
/* One file of such a volume; the files of one (hash: FNV-1a of each
 * path, mode and value). */
struct vfile {
	char *path, *val;
	size_t len;
	int mode;
};
struct vfiles {
	struct vfile *v;
	size_t n;
	uint64_t hash;
};
void vfiles_add(struct vfiles *f, const char *path, const char *val, size_t len, int mode);
void vfiles_free(struct vfiles *f);

/* agent_volsrc.c: the files of volume vol into f, *tmpfs set when they
 * belong on a tmpfs.  1, 0 when vol is not written by the agent
 * (emptyDir), or < 0 with *e. */
int agent_volume_files(struct agent *ag, struct apod *ap, const json_t *pod, const json_t *vol,
		       struct vfiles *f, bool *tmpfs, struct err **e);

/* agent_secctx.c */
/* The kubelet's admission of the pod: false (ap->fail_reason set, event
 * posted) for a sysctl outside the safe set: SysctlForbidden. */
bool agent_pod_admit(struct agent *ag, struct apod *ap, const json_t *pod);
/* True (ap->fail_reason set, event posted) when an emptyDir (on disk)
 * holds more than its sizeLimit: Evicted; else asks for another look
 * within AGENT_EVICT_CHECK_MS in *next when there is a limit to watch. */
bool agent_pod_evict_check(struct agent *ag, struct apod *ap, const json_t *pod, int64_t *next);

/* agent_pull.c */
/* c's image by its imagePullPolicy: 0 when it is in the store (go on
 * and resolve it); -1 while a pull runs (ContainerCreating) or after a
 * failure (ErrImagePull, ErrImageNeverPull), the state and events set and
 * the next look asked for in *next. */
int agent_ctr_pull(struct agent *ag, struct apod *ap, struct actr *c, const json_t *pod,
		   const json_t *spec, const char *image, int64_t now, int64_t *next);
/* True while c waits out its image pull back-off: ErrImagePull turns
 * into ImagePullBackOff (event BackOff) a second after the failure. */
bool agent_pull_backoff(struct agent *ag, struct apod *ap, struct actr *c, const char *image,
			int64_t now, int64_t *next);
/* A failed pull (or an unusable image, msg): ErrImagePull, the Failed
 * event, the back-off doubled. */
void agent_pull_failed(struct agent *ag, struct apod *ap, struct actr *c, const char *image,
		       const char *msg, int64_t now, int64_t *next);
/* Lets go of c's pull (the thread finishes on its own). */
void agent_pull_drop(struct actr *c);
/* agent_free: waits for the pull threads to end. */
void agent_pulls_wait(struct agent *ag);

/* agent_images.c */
/* Records which images ap uses (image_uses_record), once its sandbox dir
 * exists: every container's image, with the digest it runs once known. */
void agent_images_record(struct agent *ag, struct apod *ap, const json_t *pod);
/* One image GC pass (unless one runs): the kubelet's log lines, and a
 * FreeDiskSpaceFailed event on the Node when it cannot free enough.
 * agent_image_gc_tick: from the heartbeat, a pass in a thread of its own
 * every IMAGE_GC_PERIOD_MS. */
void agent_image_gc(struct agent *ag);
void agent_image_gc_tick(struct agent *ag);

/* agent_metrics.c: resource usage, sampled from the pods' cgroups and
 * reported every period by a thread of its own (started last, stopped
 * first).  A failure to start is logged: the agent runs without it. */
void agent_metrics_start(struct agent *ag);
void agent_metrics_stop(struct agent *ag);

/* agent_probe.c */
/* Starts c's probers: the startup probe's first; liveness and readiness
 * once it has succeeded (call again then: it swaps them). */
void agent_probes_start(struct agent *ag, struct apod *ap, struct actr *c, const json_t *ctr);
void agent_probes_stop(struct actr *c);

#endif
