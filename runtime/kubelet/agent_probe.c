/*
 * agent_probe.c - the node agent's use of probe workers (probe.h): one
 * per probe of a running container instance, their results turned into
 * the container's ready, started and live_failed, and a sync of the pod.
 */
#include <string.h>

#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "runtime/kubelet/agent_int.h"
#include "runtime/kubelet/probe.h"

static const char *const probe_field[] = {
    [PROBE_LIVENESS] = "livenessProbe",
    [PROBE_READINESS] = "readinessProbe",
    [PROBE_STARTUP] = "startupProbe",
};

/* A prober's result (a prober thread). */
static void on_result(void *arg, enum probe_kind kind, bool ok, const char *msg)
{
	struct actr *c = arg;
	struct apod *ap = c->ap;
	bool changed = false;
	pthread_mutex_lock(&ap->lock);
	switch (kind) {
	case PROBE_READINESS:
		changed = c->ready != ok;
		c->ready = ok;
		break;
	case PROBE_STARTUP:
		changed = true;
		if (ok)
			c->started = true;
		else
			c->live_failed = true; /* restarted, as for liveness */
		break;
	case PROBE_LIVENESS:
		changed = !ok;
		if (!ok)
			c->live_failed = true;
		break;
	}
	if (!ok) {
		free(c->probe_msg);
		c->probe_msg = xstrdup(msg ? msg : "");
	}
	pthread_mutex_unlock(&ap->lock);
	if (!ok)
		apic_event(c->ag->c, "Warning", "Unhealthy", "Pod", ap->ns, ap->name,
			   "%s probe failed: %s", probe_kind_name(kind), msg ? msg : "");
	if (changed)
		wq_add(c->ag->q, ap->uid);
}

static void start_one(struct agent *ag, struct apod *ap, struct actr *c, const json_t *ctr,
		      enum probe_kind kind)
{
	const json_t *probe = obj_at(ctr, probe_field[kind]);
	if (!json_is_object(probe) || c->probers[kind] || !c->c || !ap->sb)
		return;
	struct probe_target t = {
	    .rt = ag->env.rt,
	    .container_id = c->c->id,
	    .netns_pid = ap->sb->pid,
	    .pod_ip = ap->pod_ip,
	};
	struct err *e = NULL;
	if (prober_start(probe, ctr, kind, &t, on_result, c, &c->probers[kind], &e) < 0) {
		log_warn("agent", "%s/%s: container %s: %s probe: %s", ap->ns, ap->name, c->name,
			 probe_kind_name(kind), e->msg);
		err_free(e);
	}
}

void agent_probes_start(struct agent *ag, struct apod *ap, struct actr *c, const json_t *ctr)
{
	c->ag = ag;
	c->ap = ap;
	if (!c->c || c->init)
		return;
	pthread_mutex_lock(&ap->lock);
	bool started = c->started;
	pthread_mutex_unlock(&ap->lock);
	if (!started) {
		start_one(ag, ap, c, ctr, PROBE_STARTUP);
		return;
	}
	if (c->probers[PROBE_STARTUP]) {
		prober_stop(c->probers[PROBE_STARTUP]);
		c->probers[PROBE_STARTUP] = NULL;
	}
	start_one(ag, ap, c, ctr, PROBE_LIVENESS);
	start_one(ag, ap, c, ctr, PROBE_READINESS);
}

void agent_probes_stop(struct actr *c)
{
	for (int k = 0; k < 3; k++) {
		prober_stop(c->probers[k]);
		c->probers[k] = NULL;
	}
}
