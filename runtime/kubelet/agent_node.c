/*
 * agent_node.c - the node agent's heartbeat: its Lease, renewed every
 * heartbeat, and its Node's status, written when it changes (see
 * agent_int.h), as a kubelet does since node leases (KEP 589).
 *
 *     $ kubectl -n kube-node-lease get lease node1 -o yaml
 *     spec:
 *       holderIdentity: node1
 *       leaseDurationSeconds: 40
 *       renewTime: "2026-12-07T09:10:11.123456Z"
 *
 * The node lifecycle controller takes the newer of the Lease's renewTime
 * and the Ready condition's lastHeartbeatTime, so that a Node whose status
 * does not change is written once a minute (status_every_s) and not every
 * heartbeat: the Lease is small and has no watchers but the controller.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "engine/clock.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "runtime/kubelet/agent_int.h"

#define STATUS_EVERY_S 60

/* Now as a MicroTime: "2026-12-07T09:10:11.123456Z". */
static void micro_time(char out[40])
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	gmtime_r(&tv.tv_sec, &tm);
	char s[24];
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 40, "%s.%06ldZ", s, (long)tv.tv_usec);
}

struct lease_arg {
	const char *holder;
	int duration_s;
	const char *now;
};

/* api_patch's function: holds and renews the Lease. */
static int lease_renew(json_t *lease, void *arg, struct err **e)
{
	const struct lease_arg *a = arg;
	json_t *spec = json_object_get(lease, "spec");
	if (!json_is_object(spec)) {
		spec = json_object();
		json_object_set_new(lease, "spec", spec);
	}
	const char *holder = json_string_value(json_object_get(spec, "holderIdentity"));
	if (!holder || strcmp(holder, a->holder)) {
		json_object_set_new(spec, "holderIdentity", json_string(a->holder));
		json_object_set_new(spec, "acquireTime", json_string(a->now));
	}
	json_object_set_new(spec, "leaseDurationSeconds", json_integer(a->duration_s));
	json_object_set_new(spec, "renewTime", json_string(a->now));
	(void)e;
	return 0;
}

/* Renews kube-node-lease/NODE, creating it when absent. */
static void renew_lease(struct agent *ag)
{
	char now[40];
	micro_time(now);
	/* as long as the node grace the heartbeat period was derived from */
	struct lease_arg a = {ag->node, ag->o.heartbeat_s * 4, now};
	struct err *e = NULL;
	int r = apic_patch(ag->c, KIND_LEASE, NODE_LEASE_NS, ag->node, lease_renew, &a, &e);
	if (r == -ENOENT) {
		err_free(STEAL_POINTER(&e));
		json_t *doc = json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:i, s:s, s:s}}",
					"apiVersion", "coordination.k8s.io/v1", "kind", "Lease",
					"metadata", "name", ag->node, "namespace", NODE_LEASE_NS,
					"spec", "holderIdentity", ag->node, "leaseDurationSeconds",
					a.duration_s, "acquireTime", now, "renewTime", now);
		int res = 0;
		r = apic_create_many(ag->c, &doc, 1, &res);
		json_decref(doc);
		if (r >= 0 && res < 0 && res != -EEXIST)
			r = res;
		if (r < 0)
			r = err_make(&e, -r, "%s", strerror(-r));
	}
	if (r < 0 && r != -ENOTCONN) /* an unreachable server is logged by the client */
		log_warn("agent", "renewing lease %s/%s: %s", NODE_LEASE_NS, ag->node,
			 e ? e->msg : strerror(-r));
	err_free(e);
}

/* A copy of a Node status without the conditions' heartbeat times. */
static json_t *status_sans_beats(const json_t *st)
{
	json_t *c = json_is_object(st) ? json_deep_copy(st) : json_object();
	size_t i;
	json_t *cond;
	json_array_foreach(json_object_get(c, "conditions"), i, cond)
	    json_object_del(cond, "lastHeartbeatTime");
	return c;
}

/* True when old and now differ in more than the heartbeat times. */
static bool status_changed(const json_t *old, const json_t *now)
{
	json_t *a = status_sans_beats(old), *b = status_sans_beats(now);
	bool same = json_equal(a, b);
	json_decref(a);
	json_decref(b);
	return !same;
}

void agent_heartbeat(struct agent *ag)
{
	renew_lease(ag);
	agent_image_gc_tick(ag);
	struct sobj *o = NULL;
	struct err *e = NULL;
	int r = apic_get(ag->c, KIND_NODE, NULL, ag->node, &o, &e);
	if (r < 0 && r != -ENOENT) {
		if (r != -ENOTCONN)
			log_warn("agent", "heartbeat: %s", e ? e->msg : strerror(-r));
		err_free(e);
		return;
	}
	err_free(STEAL_POINTER(&e));
	if (!o) {
		/* deleted by someone: register again, as a kubelet does */
		if (agent_register_node(ag, &e) < 0)
			log_warn("agent", "%s", e->msg);
		else
			ag->status_at = mono_ms();
		err_free(e);
		return;
	}
	int every_s = ag->o.status_every_s > 0 ? ag->o.status_every_s : STATUS_EVERY_S;
	const json_t *old = obj_at(o->obj, "status");
	json_t *st = agent_node_status(ag, old);
	if (status_changed(old, st) || !ag->status_at ||
	    mono_ms() - ag->status_at >= (int64_t)every_s * 1000) {
		struct api_status s = {KIND_NODE, NULL, ag->node, obj_str(o->obj, "metadata.uid"),
				       st,	  false};
		int res = 0;
		r = apic_status_many(ag->c, &s, 1, &res);
		if (r >= 0 && res >= 0)
			ag->status_at = mono_ms();
		else if ((r < 0 ? r : res) != -ENOTCONN)
			log_warn("agent", "heartbeat: %s", strerror(r < 0 ? -r : -res));
	}
	json_decref(st);
	sobj_unref(o);
}
