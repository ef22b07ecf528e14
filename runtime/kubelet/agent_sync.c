/*
 * agent_sync.c - bringing one pod to its spec, as the kubelet's SyncPod
 * does (see agent.h for the rules).
 *
 * One pass: read the pod; if it is gone, kill and remove everything; if
 * it is being deleted, stop its containers (SIGTERM, SIGKILL once the
 * grace period is over) without waiting in the worker, then remove it and
 * post the final delete; else make sure the sandbox runs, collect exits,
 * run the init containers one after another, then start or restart the
 * containers that need it, and post the status if it changed.  The pass
 * returns how soon it wants the next one (a back-off or a grace period
 * ending); exits and pod changes queue one at once.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/clock.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "runtime/kubelet/agent_int.h"
#include "runtime/net/dns.h"
#include "runtime/image/image.h"
#include "runtime/kubelet/pause.h"
#include "runtime/kubelet/podtrace.h"

/* How often a running pod's secret, configMap, downwardAPI and projected
 * volumes are brought up to date (the kubelet's takes up to its sync period,
 * a minute, plus its cache's TTL; this is sooner). */
#define VOLUME_SYNC_MS 10000

/* Keeps the earliest positive delay in *next. */
static void want(int64_t *next, int64_t delay)
{
	if (delay < 1)
		delay = 1;
	if (*next == 0 || delay < *next)
		*next = delay;
}

static void set_text(char **dst, const char *v)
{
	free(*dst);
	*dst = v ? xstrdup(v) : NULL;
}

void actr_clear(struct actr *c)
{
	agent_probes_stop(c);
	agent_pull_drop(c);
	pod_container_free(c->c);
	free(c->name);
	free(c->reason);
	free(c->message);
	free(c->probe_msg);
	json_decref(c->last_term);
	memset(c, 0, sizeof(*c));
}

/* The spec of container c in pod. */
static const json_t *ctr_spec(const json_t *pod, const struct actr *c)
{
	size_t i;
	json_t *x;
	json_array_foreach(obj_at(pod, c->init ? "spec.initContainers" : "spec.containers"), i, x)
	{
		const char *n = obj_str(x, "name");
		if (n && !strcmp(n, c->name))
			return x;
	}
	return NULL;
}

/* The adopted instance of container name, taken out of ap->adopt. */
static struct pod_container *take_adopted(struct apod *ap, const char *name)
{
	struct pod_container *best = NULL;
	for (size_t i = 0; i < ap->nadopt; i++) {
		struct pod_container *x = ap->adopt[i];
		if (!x || strcmp(x->name, name))
			continue;
		if (!best || x->attempt > best->attempt)
			best = x;
	}
	for (size_t i = 0; i < ap->nadopt; i++)
		if (ap->adopt[i] == best)
			ap->adopt[i] = NULL;
	return best;
}

/* The old status of container name in list (an array), or NULL. */
static const json_t *old_status(const json_t *list, const char *name)
{
	size_t i;
	json_t *c;
	json_array_foreach(list, i, c)
	{
		const char *n = obj_str(c, "name");
		if (n && !strcmp(n, name))
			return c;
	}
	return NULL;
}

/* Takes over an adopted instance: its attempt is its restart count, and
 * the rest comes from the status the previous agent posted. */
static void adopt_into(struct agent *ag, struct apod *ap, struct actr *c, struct pod_container *pc,
		       const json_t *pod)
{
	const json_t *old = old_status(
	    obj_at(pod, c->init ? "status.initContainerStatuses" : "status.containerStatuses"),
	    c->name);
	c->c = pc;
	snprintf(c->cid, sizeof(c->cid), "runc://%s", pc->id);
	c->ran = true;
	c->restarts = pc->attempt;
	const char *t = obj_str(old, "state.running.startedAt");
	snprintf(c->started_at, sizeof(c->started_at), "%s", t ? t : "");
	json_t *lt = obj_at(old, "lastState.terminated");
	if (json_is_object(lt))
		c->last_term = json_deep_copy(lt);
	c->run_since = mono_ms();
	if (pod_container_alive(pc)) {
		c->st = CS_RUNNING;
		c->ready = json_is_true(json_object_get(old, "ready"));
		c->started = !json_is_false(json_object_get(old, "started"));
		const json_t *spec = ctr_spec(pod, c);
		agent_probes_start(ag, ap, c, spec);
	}
	/* a stopped one is collected as an exit of unknown code */
}

/* A container with no instance left (it had ended, or never ran): its
 * restart count and last state come from the posted status, so that the
 * next instance counts on from there. */
static void adopt_counts(struct actr *c, const json_t *pod)
{
	const json_t *old = old_status(
	    obj_at(pod, c->init ? "status.initContainerStatuses" : "status.containerStatuses"),
	    c->name);
	json_t *rc = json_object_get(old, "restartCount");
	json_t *lt = obj_at(old, "lastState.terminated");
	json_t *t = obj_at(old, "state.terminated");
	const char *cid = obj_str(old, "containerID");
	if (json_is_object(t))
		lt = t;
	c->restarts = json_is_integer(rc) ? (int)json_integer_value(rc) : 0;
	c->ran = json_is_object(lt) || c->restarts > 0;
	if (json_is_object(lt))
		c->last_term = json_deep_copy(lt);
	if (cid)
		snprintf(c->cid, sizeof(c->cid), "%s", cid);
	if (json_is_object(t) && c->init &&
	    json_integer_value(json_object_get(t, "exitCode")) == 0) {
		/* an init container that had completed stays completed */
		c->st = CS_TERMINATED;
		c->exit_code = 0;
		c->done = true;
		set_text(&c->reason, "Completed");
	}
}

/* Builds ap->c from the pod's spec (once: a pod's containers never
 * change), matching adopted instances. */
static void build_containers(struct agent *ag, struct apod *ap, const json_t *pod)
{
	const json_t *inits = obj_at(pod, "spec.initContainers");
	const json_t *ctrs = obj_at(pod, "spec.containers");
	ap->ninit = json_array_size(inits);
	ap->nc = ap->ninit + json_array_size(ctrs);
	ap->c = xcalloc(ap->nc ? ap->nc : 1, sizeof(struct actr));
	for (size_t i = 0; i < ap->nc; i++) {
		struct actr *c = &ap->c[i];
		const json_t *spec =
		    i < ap->ninit ? json_array_get(inits, i) : json_array_get(ctrs, i - ap->ninit);
		const char *name = obj_str(spec, "name");
		c->name = xstrdup(name ? name : "");
		c->init = i < ap->ninit;
		c->st = CS_WAITING;
		set_text(&c->reason,
			 c->init || ap->ninit == 0 ? "ContainerCreating" : "PodInitializing");
		struct pod_container *pc = ap->adopted ? take_adopted(ap, c->name) : NULL;
		if (pc)
			adopt_into(ag, ap, c, pc, pod);
		else if (ap->adopted)
			adopt_counts(c, pod);
	}
	/* older attempts the previous agent left, and strays */
	for (size_t i = 0; i < ap->nadopt; i++) {
		if (ap->adopt[i]) {
			pod_container_remove(&ag->env, ap->adopt[i], NULL);
			pod_container_free(ap->adopt[i]);
		}
	}
	free(ap->adopt);
	ap->adopt = NULL;
	ap->nadopt = 0;
	if (ap->adopted) {
		const char *st = obj_str(pod, "status.startTime");
		if (st)
			snprintf(ap->start_time, sizeof(ap->start_time), "%s", st);
	}
	ap->have_spec = true;
}

/* ---- exits ---- */

static const char *restart_policy(const json_t *pod)
{
	const char *p = obj_str(pod, "spec.restartPolicy");
	return p ? p : "Always";
}

/* Whether a container that ended with code restarts under the policy. */
static bool restarts(const json_t *pod, const struct actr *c, int code)
{
	const char *p = restart_policy(pod);
	if (c->init) /* init containers: until they succeed, unless Never */
		return code != 0 && strcmp(p, "Never");
	if (!strcmp(p, "Always"))
		return true;
	if (!strcmp(p, "OnFailure"))
		return code != 0;
	return false;
}

static json_t *terminated(const struct actr *c, const char *cid)
{
	json_t *t = json_pack("{s:i, s:s, s:s, s:s}", "exitCode", c->exit_code, "reason",
			      c->reason ? c->reason : "Error", "startedAt", c->started_at,
			      "finishedAt", c->finished_at);
	if (c->message && *c->message)
		json_object_set_new(t, "message", json_string(c->message));
	if (cid)
		json_object_set_new(t, "containerID", json_string(cid));
	return t;
}

/* Records that c's instance ended with code (-1: unknown), removes it
 * from runc, and decides what comes next. */
static void on_exit_(struct agent *ag, struct apod *ap, struct actr *c, const json_t *pod, int code)
{
	int64_t now = mono_ms();
	bool oom = pod_container_oom_killed(c->c);
	char cid[160];
	snprintf(cid, sizeof(cid), "runc://%s", c->c->id);
	agent_probes_stop(c);
	pthread_mutex_lock(&ap->lock);
	bool live_failed = c->live_failed;
	c->live_failed = false;
	c->ready = false;
	pthread_mutex_unlock(&ap->lock);

	c->exit_code = code < 0 ? 137 : code;
	set_text(&c->reason, oom	 ? "OOMKilled"
			     : code < 0	 ? "ContainerStatusUnknown"
			     : code == 0 ? "Completed"
					 : "Error");
	set_text(&c->message, code < 0	    ? "The container ended while the agent was down; "
					      "its exit code is lost"
			      : live_failed ? "Container failed its liveness probe"
					    : NULL);
	agent_timestamp(c->finished_at);
	if (!*c->started_at)
		snprintf(c->started_at, sizeof(c->started_at), "%s", c->finished_at);
	c->kill_at = 0;
	struct err *e = NULL;
	if (pod_container_remove(&ag->env, c->c, &e) < 0) {
		log_warn("agent", "%s/%s: removing %s: %s", ap->ns, ap->name, c->c->id, e->msg);
		err_free(e);
	}
	pod_container_free(c->c);
	c->c = NULL;
	log_info("agent", "%s/%s: container %s exited %d (%s)", ap->ns, ap->name, c->name, code,
		 c->reason);
	if (oom)
		apic_event(ag->c, "Warning", "OOMKilling", "Pod", ap->ns, ap->name,
			   "Container %s was killed: out of memory", c->name);

	if (now - c->run_since >= AGENT_BACKOFF_RESET_MS)
		c->backoff_ms = 0;
	json_t *term = terminated(c, cid);
	if (!ap->fail_reason && restarts(pod, c, code < 0 ? 137 : code)) {
		json_decref(c->last_term);
		c->last_term = term;
		c->retry_at = now + c->backoff_ms;
		c->st = CS_WAITING;
		set_text(&c->reason, "CrashLoopBackOff");
		set_text(&c->message, NULL);
		c->done = false;
	} else {
		json_decref(term);
		c->st = CS_TERMINATED;
		c->done = true;
	}
}

/* Looks for an exit of c's instance; handles it.  True if one was seen. */
static bool collect_exit(struct agent *ag, struct apod *ap, struct actr *c, const json_t *pod)
{
	if (!c->c)
		return false;
	int code = 0;
	if (!c->c->adopted) {
		if (pod_container_wait(c->c, 0, &code) < 0)
			return false;
	} else if (pod_container_alive(c->c)) {
		return false;
	} else {
		code = -1;
	}
	on_exit_(ag, ap, c, pod, code);
	return true;
}

/* ---- the sandbox and its network ---- */

/* Unplugs the pod's network (CNI DEL) and removes its sandbox. */
static void sandbox_remove(struct agent *ag, struct apod *ap)
{
	struct err *e = NULL;
	bool alive = pod_sandbox_alive(ap->sb);
	char netns[64];
	snprintf(netns, sizeof(netns), "/proc/%d/ns/net", ap->sb ? (int)ap->sb->pid : 0);
	/* a dead sandbox's /proc path could name another process now */
	if (cni_del(ag->cni, ap->uid, alive ? netns : NULL, &e) < 0) {
		log_warn("agent", "%s/%s: network: %s", ap->ns, ap->name, e->msg);
		err_free(e), e = NULL;
	}
	ap->pod_ip[0] = 0;
	agent_volume_unmount(ap);
	if (ap->sb && pod_sandbox_remove(&ag->env, ap->sb, &e) < 0) {
		log_warn("agent", "%s/%s: %s", ap->ns, ap->name, e->msg);
		err_free(e), e = NULL;
	}
	pod_sandbox_free(ap->sb);
	ap->sb = NULL;
}

/* The hostPorts of the pod's containers, for the portmap plugin. */
static size_t host_ports(const json_t *pod, struct cni_port *out, size_t max)
{
	size_t n = 0, i, j;
	json_t *c, *p;
	json_array_foreach(obj_at(pod, "spec.containers"), i, c)
	{
		json_array_foreach(obj_at(c, "ports"), j, p)
		{
			json_t *hp = json_object_get(p, "hostPort");
			if (!json_is_integer(hp) || json_integer_value(hp) <= 0 || n == max)
				continue;
			const char *proto = obj_str(p, "protocol");
			out[n++] = (struct cni_port){
			    .host_port = (int)json_integer_value(hp),
			    .container_port =
				(int)json_integer_value(json_object_get(p, "containerPort")),
			    .protocol = proto && !strcmp(proto, "UDP") ? "udp" : "tcp",
			    .host_ip = obj_str(p, "hostIP")};
		}
	}
	return n;
}

/* Plugs a new sandbox in (CNI ADD) and writes its hosts and resolv.conf. */
static int sandbox_network(struct agent *ag, struct apod *ap, const json_t *pod, struct err **e)
{
	char netns[64];
	snprintf(netns, sizeof(netns), "/proc/%d/ns/net", (int)ap->sb->pid);
	struct cni_port ports[64];
	size_t np = host_ports(pod, ports, 64);
	int r = cni_add_ports(ag->cni, ap->uid, netns, ap->ns, ap->name, ports, np, ap->pod_ip, e);
	if (r == -EEXIST) {
		/* a cached result of an earlier sandbox of this pod: drop it */
		err_free(*e), *e = NULL;
		cni_del(ag->cni, ap->uid, NULL, NULL);
		r = cni_add_ports(ag->cni, ap->uid, netns, ap->ns, ap->name, ports, np, ap->pod_ip,
				  e);
	}
	if (r < 0)
		return err_wrap(e, "network for pod %s", ap->name);
	_cleanup_free_ char *resolv = dns_resolv_conf(ap->ns, cni_gateway(ag->cni));
	return pod_sandbox_set_net(ap->sb, ap->pod_ip, resolv, e);
}

/* ---- stopping ---- */

/* Sends SIGTERM to c (once) and arms its SIGKILL for grace_ms later. */
static void ctr_term(struct agent *ag, struct apod *ap, struct actr *c, int64_t grace_ms)
{
	if (!c->c || c->kill_at)
		return;
	c->kill_at = mono_ms() + (grace_ms > 0 ? grace_ms : 0);
	if (grace_ms > 0) {
		oci_kill(ag->env.rt, c->c->id, SIGTERM, NULL);
		apic_event(ag->c, "Normal", "Killing", "Pod", ap->ns, ap->name,
			   "Stopping container %s", c->name);
	}
}

/* SIGKILL for the containers whose grace is over; the delay until the
 * next one into *next. */
static void ctr_kill_due(struct agent *ag, struct apod *ap, int64_t *next)
{
	int64_t now = mono_ms();
	for (size_t i = 0; i < ap->nc; i++) {
		struct actr *c = &ap->c[i];
		if (!c->c || !c->kill_at)
			continue;
		if (now >= c->kill_at) {
			oci_kill(ag->env.rt, c->c->id, SIGKILL, NULL);
			want(next, 200); /* runc kill can't always reach it at once */
		} else {
			want(next, c->kill_at - now);
		}
	}
}

/* The grace period for a pod being deleted, in seconds. */
static int grace_of(const json_t *pod)
{
	json_t *g = obj_at(pod, "metadata.deletionGracePeriodSeconds");
	if (!json_is_integer(g))
		g = obj_at(pod, "spec.terminationGracePeriodSeconds");
	return json_is_integer(g) && json_integer_value(g) >= 0 ? (int)json_integer_value(g) : 30;
}

void agent_teardown(struct agent *ag, struct apod *ap, int grace_s)
{
	struct err *e = NULL;
	for (size_t i = 0; i < ap->nc; i++) {
		struct actr *c = &ap->c[i];
		agent_probes_stop(c);
		if (!c->c)
			continue;
		pod_container_stop(&ag->env, c->c, grace_s, NULL);
		if (pod_container_remove(&ag->env, c->c, &e) < 0) {
			log_warn("agent", "%s/%s: %s", ap->ns, ap->name, e->msg);
			err_free(e), e = NULL;
		}
		pod_container_free(c->c);
		c->c = NULL;
	}
	for (size_t i = 0; i < ap->nadopt; i++) {
		if (!ap->adopt[i])
			continue;
		pod_container_remove(&ag->env, ap->adopt[i], NULL);
		pod_container_free(ap->adopt[i]);
		ap->adopt[i] = NULL;
	}
	if (ap->sb || ap->pod_ip[0])
		sandbox_remove(ag, ap);
}

/* A pod being deleted: stop without blocking the worker, then remove it
 * and post the final delete.  Returns the delay for the next look. */
static int64_t sync_terminating(struct agent *ag, struct apod *ap, const json_t *pod)
{
	int64_t next = 0;
	if (!ap->stopping) {
		ap->stopping = true;
		int64_t grace = (int64_t)grace_of(pod) * 1000;
		for (size_t i = 0; i < ap->nc; i++) {
			agent_probes_stop(&ap->c[i]);
			ctr_term(ag, ap, &ap->c[i], grace);
		}
	}
	bool alive = false;
	for (size_t i = 0; i < ap->nc; i++) {
		struct actr *c = &ap->c[i];
		if (c->c && !collect_exit(ag, ap, c, pod))
			alive = true;
	}
	if (alive) {
		ctr_kill_due(ag, ap, &next);
		return next;
	}
	agent_teardown(ag, ap, 0);
	if (!ap->finalizing) {
		struct api_ref ref = {KIND_POD, ap->ns, ap->name, ap->uid};
		int res = 0;
		int r = apic_delete_many(ag->c, &ref, 1, 0, &res);
		if (r < 0 || (res < 0 && res != -ENOENT)) {
			log_warn("agent", "%s/%s: final delete: %s", ap->ns, ap->name,
				 strerror(r < 0 ? -r : -res));
			return 1000;
		}
		ap->finalizing = true;
		log_info("agent", "%s/%s: deleted", ap->ns, ap->name);
	}
	return 0;
}

/* ---- starting ---- */

static void wait_reason(struct actr *c, const char *reason, const char *msg)
{
	c->st = CS_WAITING;
	set_text(&c->reason, reason);
	set_text(&c->message, msg);
}

/* True while c waits out its restart back-off (a crash loop then shown
 * as CrashLoopBackOff); adds the wait to *next. */
static bool backing_off(struct apod *ap, struct actr *c, int64_t now, int64_t *next)
{
	if (c->retry_at <= now)
		return false;
	if (c->ran && c->last_term && (!c->reason || strcmp(c->reason, "ImagePullBackOff"))) {
		char msg[512];
		snprintf(msg, sizeof(msg),
			 "back-off %llds restarting failed container=%s pod=%s_%s(%s)",
			 (long long)(c->backoff_ms / 1000), c->name, ap->name, ap->ns, ap->uid);
		wait_reason(c, "CrashLoopBackOff", msg);
	}
	want(next, c->retry_at - now);
	return true;
}

/* c's image in the store: its digest into c->image_id, 0; else the pull
 * failure noted, -1. */
static void config_failed(struct agent *ag, struct apod *ap, struct actr *c, const char *reason,
			  const char *event, const char *fmt, struct err *e, int64_t *next);

static int ctr_image(struct agent *ag, struct apod *ap, struct actr *c, const json_t *pod,
		     const json_t *spec, const char *image, int64_t now, int64_t *next)
{
	if (agent_ctr_pull(ag, ap, c, pod, spec, image, now, next) < 0)
		return -1;
	struct image_info *info = NULL;
	struct err *e = NULL;
	int r = image_resolve(ag->env.images, image, &info, &e);
	if (r < 0) {
		c->image_ok = false;
		agent_pull_failed(ag, ap, c, image, e->msg, now, next);
		err_free(e);
		return -1;
	}
	snprintf(c->image_id, sizeof(c->image_id), "%s", info->digest);
	/* runAsNonRoot against the image's user, as the kubelet checks it */
	r = oci_check_user(pod, spec, info->user, &e);
	image_info_free(info);
	if (r < 0) {
		c->pull_fails = 0;
		config_failed(ag, ap, c, "CreateContainerConfigError", "Failed", "Error: %s", e,
			      next);
		return -1;
	}
	c->pull_fails = 0;
	return 0;
}

/* A configuration c cannot start without is missing (e): c waits with
 * reason, the event once, another look in 2 s. */
static void config_failed(struct agent *ag, struct apod *ap, struct actr *c, const char *reason,
			  const char *event, const char *fmt, struct err *e, int64_t *next)
{
	wait_reason(c, reason, e->msg);
	if (!c->config_error)
		apic_event(ag->c, "Warning", event, "Pod", ap->ns, ap->name, fmt, e->msg);
	c->config_error = true;
	err_free(e);
	want(next, 2000);
}

/* The volumes the agent writes, then the environment (*env): ConfigMaps that must
 * exist.  0, or -1 with the failure noted. */
static int ctr_config(struct agent *ag, struct apod *ap, struct actr *c, const json_t *pod,
		      const json_t *spec, char ***env, int64_t *next)
{
	struct err *e = NULL;
	if (agent_volumes(ag, ap, pod, &e) < 0) {
		config_failed(ag, ap, c, "ContainerCreating", "FailedMount", "%s", e, next);
		return -1;
	}
	if (agent_container_env(ag, ap, pod, spec, env, &e) < 0) {
		config_failed(ag, ap, c, "CreateContainerConfigError", "Failed", "Error: %s", e,
			      next);
		return -1;
	}
	c->config_error = false;
	return 0;
}

/* runc could not run c (a missing command, a bad config): StartError,
 * exit code 128, then a restart after the back-off if the policy says so. */
static void start_failed(struct agent *ag, struct apod *ap, struct actr *c, const json_t *pod,
			 struct err *e, int64_t now, int64_t *next)
{
	log_warn("agent", "%s/%s: container %s: %s", ap->ns, ap->name, c->name, e->msg);
	apic_event(ag->c, "Warning", "Failed", "Pod", ap->ns, ap->name, "Error: %s", e->msg);
	agent_timestamp(c->started_at);
	snprintf(c->finished_at, sizeof(c->finished_at), "%s", c->started_at);
	c->exit_code = 128;
	set_text(&c->reason, "StartError");
	set_text(&c->message, e->msg);
	err_free(e);
	c->run_since = now;
	json_t *term = terminated(c, NULL);
	if (restarts(pod, c, 128)) {
		json_decref(c->last_term);
		c->last_term = term;
		c->retry_at = now + c->backoff_ms;
		wait_reason(c, "CrashLoopBackOff", NULL);
		want(next, c->retry_at - now);
	} else {
		json_decref(term);
		c->st = CS_TERMINATED;
		c->done = true;
	}
}

/* c runs as pc: its state, the watch of its process, its probes. */
static void ctr_running(struct agent *ag, struct apod *ap, struct actr *c, const json_t *spec,
			struct pod_container *pc)
{
	c->c = pc;
	snprintf(c->cid, sizeof(c->cid), "runc://%s", pc->id);
	c->st = CS_RUNNING;
	set_text(&c->reason, NULL);
	set_text(&c->message, NULL);
	agent_timestamp(c->started_at);
	c->run_since = mono_ms();
	c->kill_at = 0;
	pthread_mutex_lock(&ap->lock);
	c->ready = !obj_at(spec, "readinessProbe");
	c->started = !obj_at(spec, "startupProbe");
	c->live_failed = false;
	pthread_mutex_unlock(&ap->lock);
	agent_watch_pid(ag, pc->pid, ap->uid);
	agent_probes_start(ag, ap, c, spec);
	apic_event(ag->c, "Normal", "Started", "Pod", ap->ns, ap->name, "Started container %s",
		   c->name);
}

/* Starts the next instance of c, or notes why not yet.  Adds to *next the
 * time it wants another look. */
static void start_ctr(struct agent *ag, struct apod *ap, struct actr *c, const json_t *pod,
		      int64_t *next)
{
	int64_t now = mono_ms();
	const json_t *spec = ctr_spec(pod, c);
	const char *image = obj_str(spec, "image");
	if (agent_pull_backoff(ag, ap, c, image ? image : "", now, next) ||
	    backing_off(ap, c, now, next))
		return;
	char **env = NULL;
	if (ctr_image(ag, ap, c, pod, spec, image ? image : "", now, next) < 0 ||
	    ctr_config(ag, ap, c, pod, spec, &env, next) < 0)
		return;

	int attempt = c->ran ? c->restarts + 1 : 0;
	struct pod_container *pc = NULL;
	struct err *e = NULL;
	int r = pod_container_start(&ag->env, ap->sb, pod, c->name, (const char **)env, attempt,
				    &pc, &e);
	agent_env_free(env);
	c->image_ok = false;
	c->ran = true;
	c->restarts = attempt;
	if (attempt > 0)
		c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : AGENT_BACKOFF_START_MS;
	if (c->backoff_ms > AGENT_BACKOFF_MAX_MS)
		c->backoff_ms = AGENT_BACKOFF_MAX_MS;
	if (r < 0)
		start_failed(ag, ap, c, pod, e, now, next);
	else
		ctr_running(ag, ap, c, spec, pc);
}

/* ---- the pass ---- */

static bool ctr_succeeded(const struct actr *c)
{
	return c->st == CS_TERMINATED && c->exit_code == 0;
}

/* Posts the status when it differs from what the pod has. */
static void post_status(struct agent *ag, struct apod *ap, const json_t *pod)
{
	json_t *st = agent_pod_status(ag, ap, pod);
	if (json_equal(st, obj_at(pod, "status"))) {
		json_decref(st);
		return;
	}
	struct api_status s = {KIND_POD, ap->ns, ap->name, ap->uid, st, false};
	int res = 0;
	int r = apic_status_many(ag->c, &s, 1, &res);
	if ((r < 0 || (res < 0 && res != -ENOENT)) && (r < 0 ? r : res) != -ENOTCONN)
		log_warn("agent", "%s/%s: status: %s", ap->ns, ap->name,
			 strerror(r < 0 ? -r : -res));
	const char *ph = obj_str(st, "phase"), *was = obj_str(ap->posted, "phase");
	if (r >= 0 && ph && !strcmp(ph, "Running") && (!was || strcmp(was, "Running")))
		podtrace(ap->ns, ap->name, "posted");
	json_decref(ap->posted);
	ap->posted = st;
}

/* Makes sure the sandbox runs; a dead one is replaced, and the
 * containers that ran in it start again.  False when there is none. */
static bool ensure_sandbox(struct agent *ag, struct apod *ap, const json_t *pod, int64_t *next)
{
	if (ap->sb && pod_sandbox_alive(ap->sb))
		return true;
	if (ap->sb) {
		log_warn("agent", "%s/%s: sandbox died: making a new one", ap->ns, ap->name);
		apic_event(ag->c, "Normal", "SandboxChanged", "Pod", ap->ns, ap->name,
			   "Pod sandbox changed, it will be killed and re-created.");
		for (size_t i = 0; i < ap->nc; i++) {
			struct actr *c = &ap->c[i];
			if (c->c) {
				oci_kill(ag->env.rt, c->c->id, SIGKILL, NULL);
				pod_container_wait(c->c, 2000, NULL);
				on_exit_(ag, ap, c, pod, 137);
				c->retry_at = 0;
			}
		}
		sandbox_remove(ag, ap);
	}
	struct err *e = NULL;
	int r = pod_sandbox_create(&ag->env, pod, &ap->sb, &e);
	if (r == -EEXIST) {
		/* a leftover of ours for this uid: clear it and try again */
		err_free(e), e = NULL;
		struct pod_sandbox *old = NULL;
		if (pod_sandbox_adopt(&ag->env, ap->uid, &old, NULL) == 0) {
			pod_sandbox_remove(&ag->env, old, NULL);
			pod_sandbox_free(old);
		}
		r = pod_sandbox_create(&ag->env, pod, &ap->sb, &e);
	}
	if (r == 0)
		podtrace(ap->ns, ap->name, "pause");
	if (r == 0 && (r = sandbox_network(ag, ap, pod, &e)) < 0)
		sandbox_remove(ag, ap);
	if (r == 0)
		podtrace(ap->ns, ap->name, "cni");
	if (r < 0) {
		log_warn("agent", "%s/%s: %s", ap->ns, ap->name, e->msg);
		apic_event(ag->c, "Warning", "FailedCreatePodSandBox", "Pod", ap->ns, ap->name,
			   "Failed to create pod sandbox: %s", e->msg);
		err_free(e);
		want(next, 2000);
		return false;
	}
	agent_watch_pid(ag, ap->sb->pid, ap->uid);
	if (!*ap->start_time)
		agent_timestamp(ap->start_time);
	return true;
}

/* Liveness failures: the container is stopped and restarted. */
static void handle_liveness(struct agent *ag, struct apod *ap, const json_t *pod)
{
	for (size_t i = 0; i < ap->nc; i++) {
		struct actr *c = &ap->c[i];
		pthread_mutex_lock(&ap->lock);
		bool failed = c->live_failed && c->c && !c->kill_at;
		bool swap = c->started && c->probers[2] && c->c;
		pthread_mutex_unlock(&ap->lock);
		if (swap) /* the startup probe passed: liveness and readiness now */
			agent_probes_start(ag, ap, c, ctr_spec(pod, c));
		if (!failed)
			continue;
		const json_t *spec = ctr_spec(pod, c);
		json_t *g = obj_at(spec, "livenessProbe.terminationGracePeriodSeconds");
		if (!json_is_integer(g))
			g = obj_at(pod, "spec.terminationGracePeriodSeconds");
		int64_t grace = json_is_integer(g) ? json_integer_value(g) : 30;
		apic_event(ag->c, "Normal", "Killing", "Pod", ap->ns, ap->name,
			   "Container %s failed liveness probe, will be restarted", c->name);
		ctr_term(ag, ap, c, grace * 1000);
	}
}

/* Whether the pod has reached Succeeded or Failed: nothing runs and
 * nothing will restart. */
static bool pod_done(const struct apod *ap, const json_t *pod)
{
	const char *p = restart_policy(pod);
	if (ap->fail_reason)
		return true; /* evicted: everything stops */
	for (size_t i = 0; i < ap->ninit; i++) {
		const struct actr *c = &ap->c[i];
		if (c->st == CS_TERMINATED && c->exit_code != 0 && !strcmp(p, "Never"))
			return true; /* a failed init container, no restarts */
	}
	if (ap->nc == ap->ninit)
		return false;
	for (size_t i = ap->ninit; i < ap->nc; i++)
		if (!ap->c[i].done)
			return false;
	return true;
}

/* A running pod's secret, configMap, downwardAPI and projected volumes
 * follow their sources (VOLUME_SYNC_MS). */
static void volume_sync(struct agent *ag, struct apod *ap, const json_t *pod, int64_t *next)
{
	struct err *e = NULL;
	if (!ap->sb || !json_array_size(obj_at(pod, "spec.volumes")))
		return;
	agent_volumes(ag, ap, pod, &e);
	err_free(e);
	want(next, VOLUME_SYNC_MS);
}

/* The init containers, one after another, then the containers (none once
 * evicted): those that need a start get one. */
static void start_due(struct agent *ag, struct apod *ap, const json_t *pod, bool evicted,
		      int64_t *next)
{
	bool inits_done = !evicted;
	for (size_t i = 0; i < ap->ninit && !evicted; i++) {
		struct actr *c = &ap->c[i];
		if (ctr_succeeded(c))
			continue;
		inits_done = false;
		if (c->c || c->done)
			break; /* running, or failed for good */
		start_ctr(ag, ap, c, pod, next);
		break;
	}
	if (inits_done)
		for (size_t i = ap->ninit; i < ap->nc; i++) {
			struct actr *c = &ap->c[i];
			if (c->c || c->done)
				continue;
			start_ctr(ag, ap, c, pod, next);
		}
}

/* The pod from the API (the first pass traced: podtrace.h). */
static int pod_get(struct agent *ag, struct apod *ap, struct sobj **o, struct err **e)
{
	if (!ap->have_spec)
		podtrace(ap->ns, ap->name, "sync");
	int r = apic_get(ag->c, KIND_POD, ap->ns, ap->name, o, e);
	if (!ap->have_spec)
		podtrace(ap->ns, ap->name, "got");
	return r;
}

int64_t agent_sync(struct agent *ag, struct apod *ap)
{
	struct sobj *o = NULL;
	struct err *e = NULL;
	int r = pod_get(ag, ap, &o, &e);
	if (r < 0 && r != -ENOENT) {
		/* the server did not answer: nothing is known, nothing changes */
		log_debug("agent", "%s/%s: %s", ap->ns, ap->name, e ? e->msg : strerror(-r));
		err_free(e);
		return 2000;
	}
	err_free(e);
	const json_t *pod = o ? o->obj : NULL;
	const char *uid = obj_str(pod, "metadata.uid");
	const char *node = obj_str(pod, "spec.nodeName");
	if (pod && (!uid || strcmp(uid, ap->uid) || !node || strcmp(node, ag->node)))
		pod = NULL;
	if (!pod) {
		/* gone (or force-deleted): nothing of it may stay */
		agent_teardown(ag, ap, 0);
		pod_logs_remove(&ag->env, ap->uid);
		sobj_unref(o);
		return -1;
	}
	if (!ap->have_spec)
		build_containers(ag, ap, pod);
	int64_t next = 0;
	if (pod_is_terminating(pod)) {
		next = sync_terminating(ag, ap, pod);
		sobj_unref(o);
		return next;
	}
	if (!ap->posted && !ap->terminal && pod_is_finished(pod) && !ap->sb) {
		/* finished before this agent started: its status stands */
		ap->terminal = true;
		sobj_unref(o);
		return 0;
	}
	if (ap->terminal) {
		if (ap->posted)
			post_status(ag, ap, pod);
		sobj_unref(o);
		return 0;
	}

	for (size_t i = 0; i < ap->nc; i++)
		collect_exit(ag, ap, &ap->c[i], pod);
	if (!ap->sb && !agent_pod_admit(ag, ap, pod)) {
		ap->terminal = true; /* rejected: nothing was made */
		post_status(ag, ap, pod);
		sobj_unref(o);
		return 0;
	}
	bool evicted = agent_pod_evict_check(ag, ap, pod, &next);
	if (!evicted && !ensure_sandbox(ag, ap, pod, &next)) {
		post_status(ag, ap, pod);
		sobj_unref(o);
		return next;
	}
	handle_liveness(ag, ap, pod);

	start_due(ag, ap, pod, evicted, &next);
	ctr_kill_due(ag, ap, &next);
	volume_sync(ag, ap, pod, &next);
	/* the images in use (agent_images.c), after the starts: a new pod's
	 * record is written once, with the digests its containers run */
	if (ap->sb)
		agent_images_record(ag, ap, pod);
	if (pod_done(ap, pod)) {
		/* Succeeded or Failed: the sandbox goes, the logs stay */
		for (size_t i = 0; i < ap->nc; i++)
			if (ap->c[i].c) {
				ctr_term(ag, ap, &ap->c[i], 0);
				ctr_kill_due(ag, ap, &next);
			}
		bool any = false;
		for (size_t i = 0; i < ap->nc; i++)
			any |= ap->c[i].c && !collect_exit(ag, ap, &ap->c[i], pod);
		if (!any) {
			ap->terminal = true;
			sandbox_remove(ag, ap);
		}
	}
	post_status(ag, ap, pod);
	sobj_unref(o);
	return next;
}
