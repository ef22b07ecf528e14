/*
 * valid.c - validation and defaulting of objects, as the Kubernetes API
 * server does them, so that a manifest written for a real cluster is
 * accepted or refused here for the same reasons and with the same words.
 *
 * This file holds the entry points, metadata, label selectors and every
 * kind but Pod.  Pod specs and pod templates are in valid_pod.c; the walk
 * helpers and value rules (names, labels, quantities, int-or-percent) in
 * valid_rules.c.
 */
#include "engine/b64.h"
#include "engine/valid/valid.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mem.h"
#include "engine/obj.h"
#include "engine/valid/schema.h"
#include "engine/valid/valid_int.h"

/* The API server's limits, in bytes. */
#define ANNOTATIONS_MAX (256 * 1024)
#define CONFIGMAP_MAX	(1024 * 1024)

/* Object or template metadata's annotations: qualified keys, bounded size. */
static int check_annotations(struct vc *c, const json_t *md)
{
	json_t *m, *v;
	const char *k;
	size_t total = 0;

	TRY(vc_strmap(c, md, "annotations"));
	m = vget(md, "annotations");
	json_object_foreach(m, k, v)
	{
		_cleanup_free_ char *lower = xstrdup(k);
		for (char *p = lower; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		const char *why = vrule_label_key(lower);
		if (why) {
			_cleanup_json_ json_t *jk = json_string(k);
			return vc_invalid(c, "annotations", jk, "%s", why);
		}
		total += strlen(k) + strlen(json_string_value(v));
	}
	if (total > ANNOTATIONS_MAX)
		return vc_fail(c, "annotations", "Too long: must have at most %d bytes",
			       ANNOTATIONS_MAX);
	return 0;
}

/* The metadata of a template: labels and annotations only. */
static int check_template_meta(struct vc *c, const json_t *md)
{
	TRY(vc_labels(c, md, "labels"));
	return check_annotations(c, md);
}

/* metadata.ownerReferences: complete references, at most one controller. */
static int check_owner_refs(struct vc *c, const json_t *md)
{
	static const char *const fields[] = {"apiVersion", "kind", "name", "uid"};
	json_t *l, *ref;
	size_t i;
	int controllers = 0;

	TRY(vc_list(c, md, "ownerReferences", false, &l));
	size_t mark = vc_push(c, "ownerReferences");
	json_array_foreach(l, i, ref)
	{
		size_t m = vc_pushi(c, i);
		bool ctl;

		if (!json_is_object(ref))
			return vc_invalid(c, NULL, ref, "must be a mapping");
		for (size_t f = 0; f < 4; f++)
			TRY(vc_str(c, ref, fields[f], true, NULL));
		TRY(vc_bool(c, ref, "controller", &ctl));
		TRY(vc_bool(c, ref, "blockOwnerDeletion", NULL));
		if (ctl && ++controllers > 1) {
			vc_pop(c, mark);
			return vc_invalid(c, "ownerReferences", l,
					  "only one reference can have controller set to true");
		}
		vc_pop(c, m);
	}
	vc_pop(c, mark);
	return 0;
}

/* metadata: name per the kind's rule, namespace, labels, annotations, owners. */
static int check_meta(struct vc *c, const json_t *obj, const struct kind_info *k)
{
	json_t *md;
	const char *name, *ns, *why;

	TRY(vc_map(c, obj, "metadata", false, &md));
	if (!md)
		return vc_required(c, "metadata.name", NULL);
	size_t mark = vc_push(c, "metadata");
	TRY(vc_str(c, md, "name", true, &name));
	why = vrule_path_segment(name);
	if (!why)
		why = vrule_name(name, k->name_rule);
	if (why)
		return vc_invalid(c, "name", vget(md, "name"), "%s", why);

	TRY(vc_str(c, md, "namespace", false, &ns));
	if (ns && *ns) {
		if (!k->namespaced)
			return vc_forbidden(c, "namespace", "not allowed on this type");
		why = vrule_name(ns, NAME_DNS1123_LABEL);
		if (why)
			return vc_invalid(c, "namespace", vget(md, "namespace"), "%s", why);
	}
	TRY(vc_labels(c, md, "labels"));
	TRY(check_annotations(c, md));
	TRY(check_owner_refs(c, md));
	TRY(vc_strlist(c, md, "finalizers"));
	vc_pop(c, mark);
	return 0;
}

/* --- label selectors ------------------------------------------------------ */

static const char *const selector_ops[] = {"In", "NotIn", "Exists", "DoesNotExist", NULL};

/* A LabelSelector: matchLabels and matchExpressions; c is at the selector. */
static int check_label_selector(struct vc *c, const json_t *sel)
{
	json_t *l, *req, *values;
	const char *key, *op, *why;
	size_t i;

	TRY(vc_labels(c, sel, "matchLabels"));
	TRY(vc_list(c, sel, "matchExpressions", false, &l));
	json_array_foreach(l, i, req)
	{
		size_t mark = vc_push(c, "matchExpressions");
		vc_pushi(c, i);
		if (!json_is_object(req))
			return vc_invalid(c, NULL, req, "must be a mapping");
		TRY(vc_str(c, req, "key", true, &key));
		why = vrule_label_key(key);
		if (why)
			return vc_invalid(c, "key", vget(req, "key"), "%s", why);
		TRY(vc_enum(c, req, "operator", true, selector_ops, &op));
		TRY(vc_strlist(c, req, "values"));
		values = vget(req, "values");
		size_t n = json_array_size(values);
		if ((!strcmp(op, "In") || !strcmp(op, "NotIn")) && n == 0)
			return vc_required(c, "values",
					   "must be specified when `operator` is 'In' or 'NotIn'");
		if ((!strcmp(op, "Exists") || !strcmp(op, "DoesNotExist")) && n > 0)
			return vc_forbidden(c, "values",
					    "may not be specified when `operator` is 'Exists' or "
					    "'DoesNotExist'");
		for (size_t j = 0; j < n; j++) {
			json_t *v = json_array_get(values, j);
			why = vrule_label_value(json_string_value(v));
			if (why) {
				vc_push(c, "values");
				vc_pushi(c, j);
				return vc_invalid(c, NULL, v, "%s", why);
			}
		}
		vc_pop(c, mark);
	}
	return 0;
}

/* A selector that would select everything. */
static bool selector_empty(const json_t *sel)
{
	return json_object_size(vget(sel, "matchLabels")) == 0 &&
	       json_array_size(vget(sel, "matchExpressions")) == 0;
}

/* Whether the list of strings values holds s. */
static bool in_values(const json_t *values, const char *s)
{
	json_t *v;
	size_t i;

	json_array_foreach(values, i, v)
	{
		if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
			return true;
	}
	return false;
}

/* Whether a valid LabelSelector matches labels (NULL: no labels). */
static bool selector_matches(const json_t *sel, const json_t *labels)
{
	json_t *want, *req;
	const char *k;
	size_t i;

	json_object_foreach(vget(sel, "matchLabels"), k, want)
	{
		if (!json_equal(want, vget(labels, k)))
			return false;
	}
	json_array_foreach(vget(sel, "matchExpressions"), i, req)
	{
		const char *op = json_string_value(vget(req, "operator"));
		json_t *have = vget(labels, json_string_value(vget(req, "key")));
		const char *hs = json_string_value(have);
		bool ok;

		if (!op)
			return false;
		if (!strcmp(op, "In"))
			ok = hs && in_values(vget(req, "values"), hs);
		else if (!strcmp(op, "NotIn"))
			ok = !hs || !in_values(vget(req, "values"), hs);
		else if (!strcmp(op, "Exists"))
			ok = have != NULL;
		else
			ok = have == NULL;
		if (!ok)
			return false;
	}
	return true;
}

/* --- Deployment and ReplicaSet -------------------------------------------- */

static const char *const strategy_types[] = {"Recreate", "RollingUpdate", NULL};

/* spec.strategy; c is at spec. */
static int check_strategy(struct vc *c, const json_t *spec)
{
	json_t *st, *ru, *surge, *unav;
	const char *type, *why;
	int64_t x, sraw = -1, uraw = -1;
	bool pct;

	TRY(vc_map(c, spec, "strategy", false, &st));
	if (!st)
		return 0;
	size_t mark = vc_push(c, "strategy");
	TRY(vc_enum(c, st, "type", false, strategy_types, &type));
	TRY(vc_map(c, st, "rollingUpdate", false, &ru));
	if (type && !strcmp(type, "Recreate") && ru)
		return vc_forbidden(c, "rollingUpdate",
				    "may not be specified when strategy `type` is 'Recreate'");
	if (!ru) {
		vc_pop(c, mark);
		return 0;
	}
	vc_push(c, "rollingUpdate");
	surge = vget(ru, "maxSurge");
	unav = vget(ru, "maxUnavailable");
	if (surge && (why = vrule_intorpercent(surge, 100, true, &x, &sraw, &pct)))
		return vc_invalid(c, "maxSurge", surge, "%s", why);
	if (unav && (why = vrule_intorpercent(unav, 100, false, &x, &uraw, &pct)))
		return vc_invalid(c, "maxUnavailable", unav, "%s", why);
	if (unav && pct && uraw > 100)
		return vc_invalid(c, "maxUnavailable", unav, "must not be greater than 100%%");
	if (sraw == 0 && uraw == 0)
		return vc_invalid(c, "maxUnavailable", unav, "may not be 0 when `maxSurge` is 0");
	vc_pop(c, mark);
	return 0;
}

/* The spec of a Deployment (deploy) or a ReplicaSet; c is at the root. */
static int check_workload(struct vc *c, const json_t *obj, bool deploy)
{
	json_t *spec, *sel, *tmpl, *tmeta, *tspec;
	int64_t minready = 0, deadline;

	TRY(vc_map(c, obj, "spec", true, &spec));
	size_t root = vc_push(c, "spec");
	TRY(vc_int(c, spec, "replicas", false, 0, INT32_MAX, NULL));
	TRY(vc_int(c, spec, "minReadySeconds", false, 0, INT32_MAX, &minready));

	TRY(vc_map(c, spec, "selector", true, &sel));
	size_t mark = vc_push(c, "selector");
	TRY(check_label_selector(c, sel));
	vc_pop(c, mark);
	if (selector_empty(sel))
		return vc_invalid(c, "selector", sel, "empty selector is invalid for %s",
				  deploy ? "deployment" : "replicaset");

	TRY(vc_map(c, spec, "template", true, &tmpl));
	vc_push(c, "template");
	TRY(vc_map(c, tmpl, "metadata", false, &tmeta));
	if (tmeta) {
		size_t m = vc_push(c, "metadata");
		TRY(check_template_meta(c, tmeta));
		vc_pop(c, m);
	}
	json_t *labels = vget(tmeta, "labels");
	if (!selector_matches(sel, labels)) {
		_cleanup_json_ json_t *none = json_object();
		return vc_invalid(c, "metadata.labels", labels ? labels : none,
				  "selector does not match template labels");
	}
	TRY(vc_map(c, tmpl, "spec", true, &tspec));
	vc_push(c, "spec");
	TRY(vpod_spec(c, tspec, true));
	vc_pop(c, mark); /* back at spec */

	if (!deploy) {
		vc_pop(c, root);
		return 0;
	}
	TRY(check_strategy(c, spec));
	TRY(vc_int(c, spec, "revisionHistoryLimit", false, 0, INT32_MAX, NULL));
	int has = vc_int(c, spec, "progressDeadlineSeconds", false, 0, INT32_MAX, &deadline);
	TRY(has);
	if (has && deadline <= minready)
		return vc_invalid(c, "progressDeadlineSeconds",
				  vget(spec, "progressDeadlineSeconds"),
				  "must be greater than minReadySeconds");
	TRY(vc_bool(c, spec, "paused", NULL));
	vc_pop(c, root);
	return 0;
}

/* --- Service -------------------------------------------------------------- */

static const char *const service_types[] = {"ClusterIP", "ExternalName", "LoadBalancer", "NodePort",
					    NULL};
static const char *const affinities[] = {"ClientIP", "None", NULL};
static const char *const traffic_policies[] = {"Cluster", "Local", NULL};

/* spec.ports[i] of a Service of type `type`; c is at the port. */
static int check_service_port(struct vc *c, const json_t *ports, size_t i, const char *type)
{
	json_t *p = json_array_get(ports, i);
	const char *name, *proto;
	int64_t port = 0, node = 0;

	if (!json_is_object(p))
		return vc_invalid(c, NULL, p, "must be a mapping");
	TRY(vc_dns(c, p, "name", json_array_size(ports) > 1, NAME_DNS1123_LABEL, &name));
	TRY(vc_int(c, p, "port", true, 1, 65535, &port));
	TRY(vc_enum(c, p, "protocol", false, schema_enum_protocol, &proto));
	TRY(vc_port_or_name(c, p, "targetPort", false));
	TRY(vc_int(c, p, "nodePort", false, 0, INT32_MAX, &node));
	if (node) {
		if (strcmp(type, "NodePort") && strcmp(type, "LoadBalancer"))
			return vc_forbidden(c, "nodePort", "may not be used when `type` is '%s'",
					    type);
		if (node < 30000 || node > 32767)
			return vc_invalid(c, "nodePort", vget(p, "nodePort"),
					  "provided port is not in the valid range. The range of "
					  "valid ports is 30000-32767");
	}
	for (size_t j = 0; j < i; j++) {
		json_t *q = json_array_get(ports, j);
		const char *qname = json_string_value(vget(q, "name"));
		const char *qproto = json_string_value(vget(q, "protocol"));

		if (name && qname && !strcmp(name, qname))
			return vc_duplicate(c, "name", vget(p, "name"));
		if (json_integer_value(vget(q, "port")) == port &&
		    !strcmp(qproto ? qproto : "TCP", proto ? proto : "TCP")) {
			_cleanup_json_ json_t *pp =
			    json_sprintf("%" PRId64 "/%s", port, proto ? proto : "TCP");
			return vc_duplicate(c, NULL, pp);
		}
		if (node && json_integer_value(vget(q, "nodePort")) == node)
			return vc_duplicate(c, "nodePort", vget(p, "nodePort"));
	}
	return 0;
}

/* A Service's spec: type, cluster IP, ports, selector, policies. */
static int check_service(struct vc *c, const json_t *obj)
{
	json_t *spec, *ports, *ips;
	const char *type, *ip, *why;
	size_t i;

	TRY(vc_map(c, obj, "spec", true, &spec));
	size_t root = vc_push(c, "spec");
	TRY(vc_enum(c, spec, "type", false, service_types, &type));
	if (!type)
		type = "ClusterIP";
	if (!strcmp(type, "ExternalName"))
		return vc_notsup(c, "type",
				 "\"ExternalName\": clusterfs does not support "
				 "ExternalName services yet");

	TRY(vc_str(c, spec, "clusterIP", false, &ip));
	bool headless = ip && !strcmp(ip, "None");
	if (ip && *ip && !headless && (why = vrule_ipv4(ip)))
		return vc_invalid(c, "clusterIP", vget(spec, "clusterIP"), "%s", why);
	if (headless && strcmp(type, "ClusterIP"))
		return vc_invalid(c, "clusterIP", vget(spec, "clusterIP"),
				  "may not be set to 'None' for %s services", type);
	TRY(vc_strlist(c, spec, "clusterIPs"));
	ips = vget(spec, "clusterIPs");
	if (json_array_size(ips) > 1)
		return vc_notsup(c, "clusterIPs",
				 "clusterfs gives a service one IPv4 cluster IP (no dual stack)");
	if (json_array_size(ips) == 1 && ip && *ip &&
	    strcmp(json_string_value(json_array_get(ips, 0)), ip))
		return vc_invalid(c, "clusterIPs[0]", json_array_get(ips, 0),
				  "must be the same as clusterIP");

	TRY(vc_list(c, spec, "ports", !headless, &ports));
	for (i = 0; i < json_array_size(ports); i++) {
		size_t mark = vc_push(c, "ports");
		vc_pushi(c, i);
		TRY(check_service_port(c, ports, i, type));
		vc_pop(c, mark);
	}
	TRY(vc_labels(c, spec, "selector"));
	TRY(vc_enum(c, spec, "sessionAffinity", false, affinities, NULL));
	TRY(vc_enum(c, spec, "internalTrafficPolicy", false, traffic_policies, NULL));
	TRY(vc_enum(c, spec, "externalTrafficPolicy", false, traffic_policies, NULL));
	if (vget(spec, "externalTrafficPolicy") && strcmp(type, "NodePort") &&
	    strcmp(type, "LoadBalancer"))
		return vc_forbidden(c, "externalTrafficPolicy",
				    "may only be set when `type` is 'NodePort' or 'LoadBalancer'");
	TRY(vc_strlist(c, spec, "externalIPs"));
	json_t *eip;
	json_array_foreach(vget(spec, "externalIPs"), i, eip)
	{
		if ((why = vrule_ipv4(json_string_value(eip)))) {
			vc_push(c, "externalIPs");
			vc_pushi(c, i);
			return vc_invalid(c, NULL, eip, "%s", why);
		}
	}
	vc_pop(c, root);
	return 0;
}

/* --- Endpoints ------------------------------------------------------------ */

/* subsets[i].addresses[j] or .notReadyAddresses[j]; c is at the list. */
static int check_endpoint_address(struct vc *c, const json_t *a)
{
	const char *ip, *why;
	json_t *ref;

	if (!json_is_object(a))
		return vc_invalid(c, NULL, a, "must be a mapping");
	TRY(vc_str(c, a, "ip", true, &ip));
	if ((why = vrule_ipv4(ip)))
		return vc_invalid(c, "ip", vget(a, "ip"), "%s", why);
	if (!strncmp(ip, "127.", 4))
		return vc_invalid(c, "ip", vget(a, "ip"),
				  "may not be in the loopback range (127.0.0.0/8, ::1/128)");
	if (!strncmp(ip, "169.254.", 8))
		return vc_invalid(c, "ip", vget(a, "ip"),
				  "may not be in the link-local range (169.254.0.0/16, fe80::/10)");
	if (!strcmp(ip, "0.0.0.0"))
		return vc_invalid(c, "ip", vget(a, "ip"), "may not be unspecified (0.0.0.0, ::)");
	TRY(vc_dns(c, a, "hostname", false, NAME_DNS1123_LABEL, NULL));
	TRY(vc_str(c, a, "nodeName", false, NULL));
	TRY(vc_map(c, a, "targetRef", false, &ref));
	if (ref) {
		size_t m = vc_push(c, "targetRef");
		TRY(vc_str(c, ref, "kind", false, NULL));
		TRY(vc_str(c, ref, "name", false, NULL));
		TRY(vc_str(c, ref, "namespace", false, NULL));
		TRY(vc_str(c, ref, "uid", false, NULL));
		vc_pop(c, m);
	}
	return 0;
}

/* An Endpoints object: subsets of addresses and the ports they serve. */
static int check_endpoints(struct vc *c, const json_t *obj)
{
	static const char *const lists[] = {"addresses", "notReadyAddresses"};
	json_t *subsets, *ss;
	size_t i;

	TRY(vc_list(c, obj, "subsets", false, &subsets));
	size_t root = vc_push(c, "subsets");
	json_array_foreach(subsets, i, ss)
	{
		size_t m = vc_pushi(c, i);
		json_t *l, *ports, *a;
		size_t j;

		if (!json_is_object(ss))
			return vc_invalid(c, NULL, ss, "must be a mapping");
		for (size_t k = 0; k < 2; k++) {
			TRY(vc_list(c, ss, lists[k], false, &l));
			json_array_foreach(l, j, a)
			{
				size_t m2 = vc_push(c, lists[k]);
				vc_pushi(c, j);
				TRY(check_endpoint_address(c, a));
				vc_pop(c, m2);
			}
		}
		TRY(vc_list(c, ss, "ports", false, &ports));
		json_array_foreach(ports, j, a)
		{
			size_t m2 = vc_push(c, "ports");
			vc_pushi(c, j);
			const char *name;

			if (!json_is_object(a))
				return vc_invalid(c, NULL, a, "must be a mapping");
			TRY(vc_dns(c, a, "name", json_array_size(ports) > 1, NAME_DNS1123_LABEL,
				   &name));
			TRY(vc_int(c, a, "port", true, 1, 65535, NULL));
			TRY(vc_enum(c, a, "protocol", false, schema_enum_protocol, NULL));
			TRY(vc_str(c, a, "appProtocol", false, NULL));
			for (size_t k = 0; k < j && name; k++) {
				const char *other =
				    json_string_value(vget(json_array_get(ports, k), "name"));
				if (other && !strcmp(other, name))
					return vc_duplicate(c, "name", vget(a, "name"));
			}
			vc_pop(c, m2);
		}
		vc_pop(c, m);
	}
	vc_pop(c, root);
	return 0;
}

/* --- ConfigMap ------------------------------------------------------------ */

/* cm[field] ("data" or "binaryData"): valid keys, string values; adds the
 * bytes the values hold to *total. */
static int check_config_keys(struct vc *c, const json_t *cm, const char *field, size_t *total)
{
	json_t *m, *v;
	const char *k, *why;

	TRY(vc_strmap(c, cm, field));
	m = vget(cm, field);
	json_object_foreach(m, k, v)
	{
		_cleanup_json_ json_t *jk = json_string(k);
		const char *s = json_string_value(v);

		if ((why = vrule_config_key(k)))
			return vc_invalid(c, field, jk, "%s", why);
		if (!strcmp(field, "data")) {
			*total += strlen(s);
			continue;
		}
		if (vget(vget(cm, "data"), k))
			return vc_invalid(c, field, jk, "duplicate of key present in data");
		long n = b64_len(s);
		if (n < 0) {
			vc_push(c, field);
			vc_pushk(c, k);
			return vc_invalid(c, NULL, v, "must be base64 encoded");
		}
		*total += (size_t)n;
	}
	return 0;
}

/* A ConfigMap: data and binaryData within 1 MiB, immutable a boolean. */
static int check_configmap(struct vc *c, const json_t *obj)
{
	size_t total = 0;

	TRY(check_config_keys(c, obj, "data", &total));
	TRY(check_config_keys(c, obj, "binaryData", &total));
	if (total > CONFIGMAP_MAX)
		return vc_fail(c, "data", "Too long: must have at most %d bytes", CONFIGMAP_MAX);
	return vc_bool(c, obj, "immutable", NULL);
}

/* --- Node, Namespace, Event ----------------------------------------------- */

static const char *const taint_effects[] = {"NoExecute", "NoSchedule", "PreferNoSchedule", NULL};

/* A Node's spec, which is optional: taints, pod CIDRs, cordon. */
static int check_node(struct vc *c, const json_t *obj)
{
	json_t *spec, *taints, *t;
	const char *key, *val, *effect, *cidr, *why;
	size_t i;

	TRY(vc_map(c, obj, "spec", false, &spec));
	if (!spec)
		return 0;
	size_t root = vc_push(c, "spec");
	TRY(vc_bool(c, spec, "unschedulable", NULL));
	TRY(vc_str(c, spec, "providerID", false, NULL));
	TRY(vc_str(c, spec, "podCIDR", false, &cidr));
	if (cidr && *cidr && (why = vrule_cidr(cidr)))
		return vc_invalid(c, "podCIDR", vget(spec, "podCIDR"), "%s", why);
	TRY(vc_strlist(c, spec, "podCIDRs"));
	json_array_foreach(vget(spec, "podCIDRs"), i, t)
	{
		if ((why = vrule_cidr(json_string_value(t)))) {
			vc_push(c, "podCIDRs");
			vc_pushi(c, i);
			return vc_invalid(c, NULL, t, "%s", why);
		}
	}
	TRY(vc_list(c, spec, "taints", false, &taints));
	json_array_foreach(taints, i, t)
	{
		size_t mark = vc_push(c, "taints");
		vc_pushi(c, i);
		if (!json_is_object(t))
			return vc_invalid(c, NULL, t, "must be a mapping");
		TRY(vc_str(c, t, "key", true, &key));
		if ((why = vrule_label_key(key)))
			return vc_invalid(c, "key", vget(t, "key"), "%s", why);
		TRY(vc_str(c, t, "value", false, &val));
		if (val && (why = vrule_label_value(val)))
			return vc_invalid(c, "value", vget(t, "value"), "%s", why);
		TRY(vc_enum(c, t, "effect", true, taint_effects, &effect));
		TRY(vc_str(c, t, "timeAdded", false, NULL));
		for (size_t j = 0; j < i; j++) {
			json_t *u = json_array_get(taints, j);
			if (json_equal(vget(u, "key"), vget(t, "key")) &&
			    json_equal(vget(u, "effect"), vget(t, "effect")))
				return vc_duplicate(c, NULL, t);
		}
		vc_pop(c, mark);
	}
	vc_pop(c, root);
	return 0;
}

/* A Namespace's spec, which is optional: finalizers. */
static int check_namespace(struct vc *c, const json_t *obj)
{
	json_t *spec, *f;
	size_t i;

	TRY(vc_map(c, obj, "spec", false, &spec));
	if (!spec)
		return 0;
	size_t root = vc_push(c, "spec");
	TRY(vc_strlist(c, spec, "finalizers"));
	json_array_foreach(vget(spec, "finalizers"), i, f)
	{
		const char *s = json_string_value(f);
		const char *why = vrule_label_key(s);

		if (!why && !strchr(s, '/') && strcmp(s, "kubernetes"))
			why = "name is neither a standard finalizer name nor is it fully qualified";
		if (why) {
			vc_push(c, "finalizers");
			vc_pushi(c, i);
			return vc_invalid(c, NULL, f, "%s", why);
		}
	}
	vc_pop(c, root);
	return 0;
}

static const char *const event_types[] = {"Normal", "Warning", NULL};

/* An Event: what it is about, and its reason, message and type. */
static int check_event(struct vc *c, const json_t *obj)
{
	json_t *io;

	TRY(vc_map(c, obj, "involvedObject", true, &io));
	size_t mark = vc_push(c, "involvedObject");
	TRY(vc_str(c, io, "kind", true, NULL));
	TRY(vc_str(c, io, "name", true, NULL));
	TRY(vc_str(c, io, "namespace", false, NULL));
	TRY(vc_str(c, io, "apiVersion", false, NULL));
	TRY(vc_str(c, io, "uid", false, NULL));
	vc_pop(c, mark);
	TRY(vc_str(c, obj, "reason", false, NULL));
	TRY(vc_str(c, obj, "message", false, NULL));
	TRY(vc_enum(c, obj, "type", false, event_types, NULL));
	TRY(vc_int(c, obj, "count", false, 0, INT32_MAX, NULL));
	TRY(vc_str(c, obj, "firstTimestamp", false, NULL));
	TRY(vc_str(c, obj, "lastTimestamp", false, NULL));
	return vc_map(c, obj, "source", false, &io);
}

/* A time a Lease holds (a MicroTime): RFC 3339, when present. */
static int check_micro_time(struct vc *c, const json_t *spec, const char *key)
{
	const char *s;
	TRY(vc_str(c, spec, key, false, &s));
	if (s && obj_time(s) < 0)
		return vc_invalid(c, key, vget(spec, key), "must be an RFC 3339 time");
	return 0;
}

/* A Lease: its spec's holder, duration (> 0), times and transitions (>= 0). */
static int check_lease(struct vc *c, const json_t *obj)
{
	json_t *spec;
	TRY(vc_map(c, obj, "spec", false, &spec));
	if (!spec)
		return 0;
	size_t root = vc_push(c, "spec");
	TRY(vc_str(c, spec, "holderIdentity", false, NULL));
	TRY(vc_int(c, spec, "leaseDurationSeconds", false, 1, INT32_MAX, NULL));
	TRY(vc_int(c, spec, "leaseTransitions", false, 0, INT32_MAX, NULL));
	TRY(check_micro_time(c, spec, "acquireTime"));
	TRY(check_micro_time(c, spec, "renewTime"));
	vc_pop(c, root);
	return 0;
}

/* --- entry points --------------------------------------------------------- */

/* Whether k is the kind named kind. */
static bool is_kind(const struct kind_info *k, const char *kind)
{
	return strcmp(k->kind, kind) == 0;
}

int valid_object(const json_t *obj, const struct kind_info *k, struct err **e)
{
	struct vc c;
	const char *s;

	if (!json_is_object(obj))
		return err_make(e, EINVAL, "%s: the manifest must be a mapping", k->kind);
	vc_init(&c, obj, k, e);

	TRY(vc_str(&c, obj, "apiVersion", true, &s));
	if (strcmp(s, k->api_version))
		return vc_fail(&c, NULL, "unknown apiVersion \"%s\" for %s (want %s)", s, k->kind,
			       k->api_version);
	TRY(vc_str(&c, obj, "kind", true, &s));
	if (strcmp(s, k->kind))
		return vc_fail(&c, NULL, "kind \"%s\" does not match %s", s, k->kind);
	TRY(check_meta(&c, obj, k));

	if (is_kind(k, "Deployment"))
		return check_workload(&c, obj, true);
	if (is_kind(k, "ReplicaSet"))
		return check_workload(&c, obj, false);
	if (is_kind(k, "Pod")) {
		json_t *spec;
		TRY(vc_map(&c, obj, "spec", true, &spec));
		vc_push(&c, "spec");
		return vpod_spec(&c, spec, false);
	}
	if (is_kind(k, "Service"))
		return check_service(&c, obj);
	if (is_kind(k, "ConfigMap"))
		return check_configmap(&c, obj);
	if (is_kind(k, "Secret"))
		return vsecret_check(&c, obj);
	if (is_kind(k, "Endpoints"))
		return check_endpoints(&c, obj);
	if (is_kind(k, "Node"))
		return check_node(&c, obj);
	if (is_kind(k, "Namespace"))
		return check_namespace(&c, obj);
	if (is_kind(k, "Event"))
		return check_event(&c, obj);
	if (is_kind(k, "Lease"))
		return check_lease(&c, obj);
	if (k == KIND_HPA)
		return vhpa_check(&c, obj);
	return 0;
}

/* Defaults of a Deployment's spec (not its template). */
static void default_deployment(json_t *spec)
{
	json_t *st, *ru;

	vdefault(spec, "replicas", json_integer(1));
	vdefault(spec, "revisionHistoryLimit", json_integer(10));
	vdefault(spec, "progressDeadlineSeconds", json_integer(600));
	vdefault(spec, "minReadySeconds", json_integer(0));
	vdefault(spec, "strategy", json_object());
	st = vget(spec, "strategy");
	if (!json_is_object(st))
		return;
	vdefault(st, "type", json_string("RollingUpdate"));
	if (!json_is_string(vget(st, "type")) ||
	    strcmp(json_string_value(vget(st, "type")), "RollingUpdate"))
		return;
	vdefault(st, "rollingUpdate", json_object());
	ru = vget(st, "rollingUpdate");
	if (!json_is_object(ru))
		return;
	vdefault(ru, "maxSurge", json_string("25%"));
	vdefault(ru, "maxUnavailable", json_string("25%"));
}

void valid_default(json_t *obj, const struct kind_info *k)
{
	json_t *spec = vget(obj, "spec");
	json_t *md = vget(obj, "metadata");

	if (!json_is_object(obj) || !k)
		return;
	if (is_kind(k, "Deployment") || is_kind(k, "ReplicaSet")) {
		if (!json_is_object(spec))
			return;
		if (is_kind(k, "Deployment"))
			default_deployment(spec);
		else
			vdefault(spec, "replicas", json_integer(1));
		vpod_default(vget(vget(spec, "template"), "spec"), false);
	} else if (is_kind(k, "Pod")) {
		vpod_default(spec, true);
	} else if (is_kind(k, "Service") && json_is_object(spec)) {
		json_t *p;
		size_t i;

		vdefault(spec, "type", json_string("ClusterIP"));
		vdefault(spec, "sessionAffinity", json_string("None"));
		json_array_foreach(vget(spec, "ports"), i, p)
		{
			if (!json_is_object(p))
				continue;
			vdefault(p, "protocol", json_string("TCP"));
			if (json_is_integer(vget(p, "port")))
				vdefault(p, "targetPort", json_deep_copy(vget(p, "port")));
		}
	} else if (is_kind(k, "Endpoints")) {
		json_t *ss, *p;
		size_t i, j;

		json_array_foreach(vget(obj, "subsets"), i, ss)
		{
			json_array_foreach(vget(ss, "ports"), j, p)
			{
				if (json_is_object(p))
					vdefault(p, "protocol", json_string("TCP"));
			}
		}
	} else if (is_kind(k, "Secret")) {
		vsecret_default(obj);
	} else if (k == KIND_HPA) {
		vhpa_default(obj);
	} else if (is_kind(k, "Namespace") && json_is_object(md) &&
		   json_is_string(vget(md, "name"))) {
		/* Kubernetes keeps this label equal to the name, whatever was written. */
		vdefault(md, "labels", json_object());
		if (json_is_object(vget(md, "labels")))
			json_object_set_new(vget(md, "labels"), "kubernetes.io/metadata.name",
					    json_deep_copy(vget(md, "name")));
	}
}

/* json_equal that takes two absent values as equal. */
static bool same(const json_t *a, const json_t *b)
{
	return (!a && !b) || (a && b && json_equal(a, b));
}

int valid_update(const json_t *old, const json_t *new, const struct kind_info *k, struct err **e)
{
	json_t *os = vget(old, "spec"), *ns = vget(new, "spec");
	struct vc c;

	vc_init(&c, new, k, e);
	if (is_kind(k, "Deployment") || is_kind(k, "ReplicaSet")) {
		vc_push(&c, "spec");
		if (!same(vget(os, "selector"), vget(ns, "selector")))
			return vc_invalid(&c, "selector", vget(ns, "selector"),
					  "field is immutable");
	} else if (is_kind(k, "Service")) {
		const char *oip = json_string_value(vget(os, "clusterIP"));
		const char *nip = json_string_value(vget(ns, "clusterIP"));
		const char *ot = json_string_value(vget(os, "type"));
		const char *nt = json_string_value(vget(ns, "type"));

		vc_push(&c, "spec");
		/* An empty clusterIP keeps the allocated one (the API layer copies it). */
		if (oip && *oip && nip && *nip && strcmp(oip, nip))
			return vc_invalid(&c, "clusterIP", vget(ns, "clusterIP"),
					  "field is immutable");
		if ((ot && !strcmp(ot, "ExternalName")) != (nt && !strcmp(nt, "ExternalName")))
			return vc_invalid(&c, "type", vget(ns, "type"),
					  "may not change to or from ExternalName");
	} else if (is_kind(k, "Pod")) {
		vc_push(&c, "spec");
		return vpod_update(&c, os, ns);
	} else if (is_kind(k, "Node")) {
		/* Set once (by the node IPAM controller or at registration). */
		static const char msg[] = "node updates may not change podCIDR except from \"\" to "
					  "valid";
		const char *oc = json_string_value(vget(os, "podCIDR"));
		vc_push(&c, "spec");
		if (oc && *oc && !same(vget(os, "podCIDR"), vget(ns, "podCIDR")))
			return vc_forbidden(&c, "podCIDR", "%s", msg);
		if (json_array_size(vget(os, "podCIDRs")) &&
		    !same(vget(os, "podCIDRs"), vget(ns, "podCIDRs")))
			return vc_forbidden(&c, "podCIDRs", "%s", msg);
	} else if (is_kind(k, "Secret")) {
		return vsecret_update(&c, old, new);
	} else if (is_kind(k, "ConfigMap") && json_is_true(vget(old, "immutable"))) {
		static const char msg[] = "field is immutable when `immutable` is set";

		if (!json_is_true(vget(new, "immutable")))
			return vc_forbidden(&c, "immutable", "%s", msg);
		if (!same(vget(old, "data"), vget(new, "data")))
			return vc_forbidden(&c, "data", "%s", msg);
		if (!same(vget(old, "binaryData"), vget(new, "binaryData")))
			return vc_forbidden(&c, "binaryData", "%s", msg);
	}
	return 0;
}
