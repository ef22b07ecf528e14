/*
 * kubelet.c - what every kubelet writes the same way (see kubelet.h).
 */
#include "runtime/kubelet/kubelet.h"
#include "runtime/kubelet/kserver.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "engine/obj.h"
#include "engine/valid/valid.h"

json_t *kubelet_find_condition(const json_t *conds, const char *type)
{
	size_t i;
	json_t *c;
	json_array_foreach(conds, i, c)
	{
		const char *t = json_string_value(json_object_get(c, "type"));
		if (t && !strcmp(t, type))
			return c;
	}
	return NULL;
}

const char *kubelet_transition_time(const json_t *old, const char *value, const char *now)
{
	const char *st = json_string_value(json_object_get(old, "status"));
	const char *lt = json_string_value(json_object_get(old, "lastTransitionTime"));
	return st && lt && !strcmp(st, value) ? lt : now;
}

json_t *kubelet_node_status(const struct kubelet_node *n, const json_t *old, const char *now)
{
	static const struct {
		const char *type, *status, *reason, *message;
	} conds[] = {
	    {"MemoryPressure", "False", "KubeletHasSufficientMemory",
	     "kubelet has sufficient memory available"},
	    {"DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"},
	    {"PIDPressure", "False", "KubeletHasSufficientPID",
	     "kubelet has sufficient PID available"},
	    {"Ready", "True", "KubeletReady", "kubelet is posting ready status"},
	};
	const size_t nconds = sizeof(conds) / sizeof(conds[0]);
	json_t *s = json_is_object(old) ? json_deep_copy(old) : json_object();
	json_t *oldc = json_object_get(s, "conditions");
	json_t *cv = json_array();
	size_t i;
	json_t *c;
	json_array_foreach(oldc, i, c)
	{
		const char *t = json_string_value(json_object_get(c, "type"));
		bool ours = false;
		for (size_t j = 0; t && j < nconds; j++)
			ours |= !strcmp(t, conds[j].type);
		if (!ours)
			json_array_append(cv, c);
	}
	for (size_t j = 0; j < nconds; j++) {
		const char *lt = kubelet_transition_time(
		    kubelet_find_condition(oldc, conds[j].type), conds[j].status, now);
		json_array_append_new(
		    cv, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", conds[j].type, "status",
				  conds[j].status, "lastHeartbeatTime", now, "lastTransitionTime",
				  lt, "reason", conds[j].reason, "message", conds[j].message));
	}
	json_object_set_new(s, "conditions", cv);
	json_t *res =
	    json_pack("{s:s, s:s, s:s}", "cpu", n->cpu, "memory", n->memory, "pods", n->pods);
	json_object_set(s, "capacity", res);
	json_object_set_new(s, "allocatable", res);
	json_object_set_new(s, "addresses",
			    json_pack("[{s:s, s:s}, {s:s, s:s}]", "type", "InternalIP", "address",
				      n->ip, "type", "Hostname", "address", n->name));
	int port;
	const char *ca;
	kserver_config(&port, &ca);
	json_object_set_new(
	    s, "daemonEndpoints",
	    json_pack("{s:{s:i}}", "kubeletEndpoint", "Port", port > 0 ? port : 10250));
	json_object_set_new(s, "nodeInfo",
			    json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
				      "machineID", n->machine_id, "systemUUID", n->machine_id,
				      "bootID", n->boot_id, "kernelVersion", n->kernel, "osImage",
				      n->os_image, "containerRuntimeVersion", n->runtime,
				      "kubeletVersion", n->kubelet, "kubeProxyVersion", "",
				      "operatingSystem", "linux", "architecture", n->arch));
	return s;
}

/* A quantity of a resource list, in milli-units; 0 when absent or bad. */
static int64_t qty(const json_t *list, const char *name)
{
	int64_t m = 0;
	json_t *q = json_object_get(list, name);
	if (!q || quantity_parse(q, &m, NULL) < 0)
		return 0;
	return m;
}

const char *kubelet_pod_qos(const json_t *pod)
{
	static const char *const lists[] = {"spec.containers", "spec.initContainers"};
	static const char *const res[] = {"cpu", "memory"};
	bool any = false, guaranteed = true;
	for (size_t l = 0; l < 2; l++) {
		size_t i;
		json_t *c;
		json_array_foreach(obj_at(pod, lists[l]), i, c)
		{
			json_t *lim = obj_at(c, "resources.limits");
			json_t *req = obj_at(c, "resources.requests");
			for (size_t r = 0; r < 2; r++) {
				int64_t lq = qty(lim, res[r]), rq = qty(req, res[r]);
				any |= lq > 0 || rq > 0;
				if (lq <= 0 || (rq > 0 && rq != lq))
					guaranteed = false;
			}
		}
	}
	if (!any)
		return "BestEffort";
	return guaranteed ? "Guaranteed" : "Burstable";
}

bool kubelet_node_meta_ok(const json_t *node, const struct kubelet_node_meta *m)
{
	const json_t *have = obj_at(node, "metadata.labels");
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)m->labels, k, v)
	{
		if (!json_equal(json_object_get(have, k), v))
			return false;
	}
	const char *cidr = obj_str(node, "spec.podCIDR");
	return !m->pod_cidr || (cidr && !strcmp(cidr, m->pod_cidr));
}

int kubelet_node_patch(json_t *node, void *arg, struct err **e)
{
	const struct kubelet_node_meta *m = arg;
	json_t *md = json_object_get(node, "metadata");
	json_t *labels = json_object_get(md, "labels");
	if (!json_is_object(labels)) {
		labels = json_object();
		json_object_set_new(md, "labels", labels);
	}
	json_object_update(labels, (json_t *)m->labels);
	if (m->pod_cidr) {
		json_t *spec = json_object_get(node, "spec");
		if (!json_is_object(spec)) {
			spec = json_object();
			json_object_set_new(node, "spec", spec);
		}
		json_object_set_new(spec, "podCIDR", json_string(m->pod_cidr));
		json_object_set_new(spec, "podCIDRs", json_pack("[s]", m->pod_cidr));
	}
	return 0;
}
