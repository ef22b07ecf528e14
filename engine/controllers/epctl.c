/*
 * epctl.c - the endpoints controller.  See epctl.h.
 */
#include "engine/controllers/epctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/controllers/ctrl.h"
#include "engine/hmap.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "engine/api/svc.h"

struct epctl {
	struct api *api;
	struct ctrl *ctrl;
	/* "NS/POD" -> the names of the Services whose selector matched the
	 * pod's labels when last seen, '\n'-joined (char *).  Informer thread
	 * only: a label change or a deletion must reach the Services the pod
	 * left, which its new state no longer names. */
	struct hmap pod_svcs;
};

#define HEADLESS_LABEL "service.kubernetes.io/headless"

/* The Service's selector as a LabelSelector, or NULL when it has none. */
static json_t *selector_of(const json_t *svc)
{
	json_t *sel = obj_at(svc, "spec.selector");
	if (!json_is_object(sel) || json_object_size(sel) == 0)
		return NULL;
	return json_pack("{s:O}", "matchLabels", sel);
}

/* Keys: what changed -> which Services to sync */

/* The Services of ns whose selector matches labels, '\n'-joined, or NULL. */
static char *matching_services(struct epctl *c, const char *ns, const json_t *labels)
{
	struct sobj **v;
	int n = api_list(c->api, KIND_SERVICE, ns, NULL, &v, NULL);
	struct buf b = {0};
	for (int i = 0; i < n; i++) {
		json_t *sel = selector_of(v[i]->obj);
		if (sel && api_selector_matches(sel, labels))
			buf_printf(&b, "%s\n", v[i]->name);
		json_decref(sel);
	}
	if (n > 0)
		sobj_list_free(v, (size_t)n);
	return b.len ? buf_steal(&b, NULL) : NULL;
}

static void enqueue_names(struct ctrl *ctl, const char *ns, const char *names)
{
	for (const char *p = names; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char key[512];
		snprintf(key, sizeof(key), "%s/%.*s", ns, (int)len, p);
		ctrl_enqueue_after(ctl, key, EPCTL_GATHER_MS);
		p += len + (nl ? 1 : 0);
	}
}

static void note_pod(struct epctl *c, struct ctrl *ctl, const struct sobj *pod, bool gone)
{
	char key[512];
	snprintf(key, sizeof(key), "%s/%s", pod->ns, pod->name);
	char *now = matching_services(c, pod->ns, obj_at(pod->obj, "metadata.labels"));
	char *before = gone ? hmap_del(&c->pod_svcs, key) : hmap_get(&c->pod_svcs, key);
	enqueue_names(ctl, pod->ns, now);
	if (before && (!now || strcmp(before, now)))
		enqueue_names(ctl, pod->ns, before);
	if (gone) {
		free(before);
		free(now);
	} else if (now) {
		free(hmap_set(&c->pod_svcs, key, now));
	} else {
		free(hmap_del(&c->pod_svcs, key));
	}
}

static void ep_resync(void *arg, struct ctrl *ctl)
{
	struct epctl *c = arg;
	hmap_clear(&c->pod_svcs, free);
	struct sobj **v;
	int n = api_list(c->api, KIND_SERVICE, NULL, NULL, &v, NULL);
	for (int i = 0; i < n; i++)
		ctrl_enqueue_obj(ctl, v[i]);
	if (n > 0)
		sobj_list_free(v, (size_t)n);
	n = api_list(c->api, KIND_POD, NULL, NULL, &v, NULL);
	for (int i = 0; i < n; i++) {
		char *now = matching_services(c, v[i]->ns, obj_at(v[i]->obj, "metadata.labels"));
		if (now) {
			char key[512];
			snprintf(key, sizeof(key), "%s/%s", v[i]->ns, v[i]->name);
			free(hmap_set(&c->pod_svcs, key, now));
		}
	}
	if (n > 0)
		sobj_list_free(v, (size_t)n);
}

static void ep_event(void *arg, struct ctrl *ctl, const struct store_event *ev)
{
	struct epctl *c = arg;
	const char *kind = ev->obj->kind;
	if (!strcmp(kind, "Pod")) {
		note_pod(c, ctl, ev->obj, ev->type == STORE_DELETED);
	} else if (!strcmp(kind, "Service")) {
		ctrl_enqueue_obj(ctl, ev->obj);
	} else if (!strcmp(kind, "Endpoints")) {
		/* Someone else's write over ours is undone; our own is a no-op sync. */
		char key[512];
		snprintf(key, sizeof(key), "%s/%s", ev->obj->ns, ev->obj->name);
		ctrl_enqueue_after(ctl, key, EPCTL_GATHER_MS);
	}
}

/* Subsets */

/* The container port a service port's targetPort names in pod, or 0. */
static int64_t resolve_target(const json_t *pod, const json_t *sport)
{
	json_t *tp = json_object_get(sport, "targetPort");
	if (json_is_integer(tp))
		return json_integer_value(tp);
	if (!json_is_string(tp)) /* defaulting makes it port */
		return obj_int(sport, "port", 0);
	const char *want = json_string_value(tp);
	const char *proto = obj_str(sport, "protocol");
	size_t i, j;
	json_t *ctr, *p;
	json_array_foreach(obj_at(pod, "spec.containers"), i, ctr)
	{
		json_array_foreach(json_object_get(ctr, "ports"), j, p)
		{
			const char *name = obj_str(p, "name"), *pp = obj_str(p, "protocol");
			if (name && !strcmp(name, want) &&
			    !strcmp(pp ? pp : "TCP", proto ? proto : "TCP"))
				return obj_int(p, "containerPort", 0);
		}
	}
	return 0;
}

static json_t *address_of(const json_t *svc, const struct sobj *pod)
{
	const json_t *p = pod->obj;
	json_t *a = json_pack("{s:s}", "ip", obj_str(p, "status.podIP"));
	const char *host = obj_str(p, "spec.hostname"), *sub = obj_str(p, "spec.subdomain");
	if (host && *host && sub && !strcmp(sub, obj_str(svc, "metadata.name")))
		json_object_set_new(a, "hostname", json_string(host));
	const char *node = obj_str(p, "spec.nodeName");
	if (node && *node)
		json_object_set_new(a, "nodeName", json_string(node));
	json_object_set_new(a, "targetRef",
			    json_pack("{s:s, s:s, s:s, s:s?}", "kind", "Pod", "name", pod->name,
				      "namespace", pod->ns, "uid", obj_str(p, "metadata.uid")));
	return a;
}

static int cmp_addr(const void *a, const void *b)
{
	uint32_t x = 0, y = 0;
	svc_ip_parse(obj_str(*(json_t *const *)a, "ip"), &x);
	svc_ip_parse(obj_str(*(json_t *const *)b, "ip"), &y);
	if (x != y)
		return x < y ? -1 : 1;
	const char *nx = obj_str(*(json_t *const *)a, "targetRef.name");
	const char *ny = obj_str(*(json_t *const *)b, "targetRef.name");
	return strcmp(nx ? nx : "", ny ? ny : "");
}

/* Sorts a JSON array of addresses by IP in place. */
static void sort_addresses(json_t *list)
{
	size_t n = json_array_size(list);
	if (n < 2)
		return;
	json_t **v = xcalloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = json_incref(json_array_get(list, i));
	qsort(v, n, sizeof(*v), cmp_addr);
	json_array_clear(list);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, v[i]);
	free(v);
}

/* Whether a pod is one of the Service's endpoints: selected, with an IP,
 * and not finished (nor terminating, unless publishNotReadyAddresses). */
static bool pod_selected(const json_t *p, const json_t *sel, bool publish)
{
	const char *ip = obj_str(p, "status.podIP");
	if (!ip || !*ip || !svc_ip_parse(ip, &(uint32_t){0}) ||
	    !api_selector_matches(sel, obj_at(p, "metadata.labels")))
		return false;
	return !((pod_is_terminating(p) && !publish) || pod_is_finished(p));
}

/*
 * The EndpointPorts the Service's ports (sports) resolve to in pod p, and
 * in key the port set ("NAME/PORT/PROTO," each) that groups pods into
 * subsets.  NULL when the Service has ports and none resolve in this pod.
 */
static json_t *pod_ports(const json_t *p, const json_t *sports, struct buf *key)
{
	json_t *ports = json_array();
	buf_puts(key, "");
	size_t j;
	json_t *sp;
	json_array_foreach(sports, j, sp)
	{
		int64_t port = resolve_target(p, sp);
		if (port <= 0 || port > 65535)
			continue; /* no such named port in this pod */
		const char *name = obj_str(sp, "name"), *proto = obj_str(sp, "protocol");
		json_t *ep = json_pack("{s:I, s:s}", "port", (json_int_t)port, "protocol",
				       proto ? proto : "TCP");
		if (name && *name)
			json_object_set_new(ep, "name", json_string(name));
		json_array_append_new(ports, ep);
		buf_printf(key, "%s/%lld/%s,", name ? name : "", (long long)port,
			   proto ? proto : "TCP");
	}
	if (json_array_size(sports) > 0 && json_array_size(ports) == 0) {
		json_decref(ports);
		return NULL;
	}
	return ports;
}

/* The subset of out for the port set key (groups: key -> its index in out,
 * plus 1), appended with ports if new.  Takes ports. */
static json_t *subset_for(json_t *out, struct hmap *groups, const char *key, json_t *ports)
{
	void *slot = hmap_get(groups, key);
	if (slot) {
		json_decref(ports);
		return json_array_get(out, (size_t)(uintptr_t)slot - 1);
	}
	json_t *ss = json_object();
	json_object_set_new(ss, "addresses", json_array());
	json_object_set_new(ss, "notReadyAddresses", json_array());
	if (json_array_size(ports))
		json_object_set_new(ss, "ports", ports);
	else
		json_decref(ports);
	json_array_append_new(out, ss);
	hmap_set(groups, key, (void *)(uintptr_t)json_array_size(out));
	return ss;
}

/* In each subset, addresses by IP and empty lists dropped, as the API
 * server shows them. */
static void tidy_addresses(json_t *out)
{
	static const char *const lists[] = {"addresses", "notReadyAddresses"};
	size_t i;
	json_t *ss;
	json_array_foreach(out, i, ss)
	{
		for (int l = 0; l < 2; l++) {
			json_t *list = json_object_get(ss, lists[l]);
			if (json_array_size(list) == 0)
				json_object_del(ss, lists[l]);
			else
				sort_addresses(list);
		}
	}
}

/* A subset's first address: its first ready one, else its first not ready. */
static json_t *first_address(const json_t *ss)
{
	json_t *a = json_array_get(json_object_get(ss, "addresses"), 0);
	return a ? a : json_array_get(json_object_get(ss, "notReadyAddresses"), 0);
}

/* Sorts the subsets by their first address (stable: an insertion sort). */
static void sort_subsets(json_t *out)
{
	size_t ns = json_array_size(out);
	if (ns < 2)
		return;
	json_t **v = xcalloc(ns, sizeof(*v));
	for (size_t i = 0; i < ns; i++)
		v[i] = json_incref(json_array_get(out, i));
	for (size_t i = 1; i < ns; i++) {
		json_t *x = v[i];
		size_t j = i;
		while (j > 0) {
			json_t *ax = first_address(x), *ay = first_address(v[j - 1]);
			if (cmp_addr(&ax, &ay) >= 0)
				break;
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
	json_array_clear(out);
	for (size_t i = 0; i < ns; i++)
		json_array_append_new(out, v[i]);
	free(v);
}

json_t *epctl_subsets(const json_t *svc, struct sobj *const *pods, size_t n)
{
	json_t *out = json_array();
	json_t *sel = selector_of(svc);
	if (!sel)
		return out;
	json_t *sports = obj_at(svc, "spec.ports");
	bool publish = json_is_true(obj_at(svc, "spec.publishNotReadyAddresses"));
	/* Port-set key -> index of its subset in out, plus 1. */
	struct hmap groups = {0};
	for (size_t i = 0; i < n; i++) {
		const json_t *p = pods[i]->obj;
		if (!pod_selected(p, sel, publish))
			continue;
		struct buf key = {0};
		json_t *ports = pod_ports(p, sports, &key);
		if (ports) {
			json_t *ss = subset_for(out, &groups, key.s, ports);
			bool ready = publish || pod_is_ready(p);
			json_array_append_new(
			    json_object_get(ss, ready ? "addresses" : "notReadyAddresses"),
			    address_of(svc, pods[i]));
		}
		buf_free(&key);
	}
	hmap_clear(&groups, NULL);
	json_decref(sel);
	/* Stable output: addresses by IP, subsets in the order of their first address. */
	tidy_addresses(out);
	sort_subsets(out);
	return out;
}

/* Sync */

/* The labels the Endpoints carries: the Service's, plus the headless mark. */
static json_t *labels_for(const json_t *svc)
{
	json_t *l = obj_at(svc, "metadata.labels");
	json_t *out = json_is_object(l) ? json_deep_copy(l) : json_object();
	const char *ip = obj_str(svc, "spec.clusterIP");
	if (ip && !strcmp(ip, "None"))
		json_object_set_new(out, HEADLESS_LABEL, json_string(""));
	else
		json_object_del(out, HEADLESS_LABEL);
	return out;
}

struct want {
	json_t *subsets, *labels, *refs;
};

static int ep_mutate(json_t *obj, void *arg, struct err **e)
{
	struct want *w = arg;
	json_t *md = json_object_get(obj, "metadata");
	if (json_array_size(w->subsets))
		json_object_set(obj, "subsets", w->subsets);
	else
		json_object_del(obj, "subsets");
	if (json_object_size(w->labels))
		json_object_set(md, "labels", w->labels);
	else
		json_object_del(md, "labels");
	json_object_set(md, "ownerReferences", w->refs);
	return 0;
}

static bool same_or_empty(const json_t *a, const json_t *b)
{
	size_t na = json_is_array(a)	? json_array_size(a)
		    : json_is_object(a) ? json_object_size(a)
					: 0;
	size_t nb = json_is_array(b)	? json_array_size(b)
		    : json_is_object(b) ? json_object_size(b)
					: 0;
	if (na == 0 || nb == 0)
		return na == nb;
	return json_equal(a, b);
}

static int ep_sync(void *arg, const char *key)
{
	struct epctl *c = arg;
	char ns[256], name[256];
	if (!ctrl_split_key(key, ns, name))
		return 0;
	struct sobj *svc = api_get(c->api, KIND_SERVICE, ns, name);
	struct sobj *ep = api_get(c->api, KIND_ENDPOINTS, ns, name);
	struct err *e = NULL;
	int rc = 0;
	if (!svc) {
		/* Normally gone with the Service (ownerReferences). */
		const char *kind = obj_str(obj_controller_ref(ep ? ep->obj : NULL), "kind");
		if (ep && kind && !strcmp(kind, "Service") &&
		    api_delete(c->api, KIND_ENDPOINTS, ns, name, &e) < 0 && e && e->code != ENOENT)
			rc = -1;
		goto out;
	}
	json_t *sel = selector_of(svc->obj);
	if (!sel)
		goto out; /* no selector: the user's Endpoints */
	json_decref(sel);

	struct sobj **pods;
	int n = api_list(c->api, KIND_POD, ns, NULL, &pods, NULL);
	struct want w = {epctl_subsets(svc->obj, pods, n > 0 ? (size_t)n : 0), labels_for(svc->obj),
			 json_pack("[o]", obj_owner_ref(svc->obj))};
	if (n > 0)
		sobj_list_free(pods, (size_t)n);
	if (ep && same_or_empty(json_object_get(ep->obj, "subsets"), w.subsets) &&
	    same_or_empty(obj_at(ep->obj, "metadata.labels"), w.labels) &&
	    json_equal(obj_at(ep->obj, "metadata.ownerReferences"), w.refs)) {
		/* Nothing to write. */
	} else if (ep) {
		if (api_patch(c->api, KIND_ENDPOINTS, ns, name, ep_mutate, &w, &e) < 0)
			rc = -1;
	} else {
		json_t *obj = json_pack("{s:s, s:s, s:{s:s, s:s}}", "apiVersion", "v1", "kind",
					"Endpoints", "metadata", "name", name, "namespace", ns);
		ep_mutate(obj, &w, NULL);
		if (api_create(c->api, obj, NULL, &e) < 0)
			rc = -1;
		json_decref(obj);
	}
	if (rc < 0)
		log_debug("endpoints", "%s: %s", key, e ? e->msg : "?");
	json_decref(w.subsets);
	json_decref(w.labels);
	json_decref(w.refs);
out:
	err_free(e);
	sobj_unref(svc);
	sobj_unref(ep);
	return rc;
}

int epctl_start(struct api *a, struct epctl **out, struct err **e)
{
	struct epctl *c = xcalloc(1, sizeof(*c));
	c->api = a;
	static const struct ctrl_ops ops = {"endpoints", 2, ep_sync, ep_resync, ep_event};
	int r = ctrl_start(a, &ops, c, &c->ctrl, e);
	if (r < 0) {
		free(c);
		return r;
	}
	*out = c;
	return 0;
}

void epctl_stop(struct epctl *c)
{
	if (!c)
		return;
	ctrl_stop(c->ctrl);
	hmap_clear(&c->pod_svcs, free);
	free(c);
}
