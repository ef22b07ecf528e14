/*
 * valid_pod.c - pod specs: their defaults, their validation and what an
 * update may change.  A Pod's spec and the pod template of a Deployment or
 * ReplicaSet are the same structure, checked by the same code; a template
 * must restart Always and may not set activeDeadlineSeconds.  Defaults and
 * the rules of updates are in valid_pod_defaults.c.
 *
 * What clusterfs cannot run yet (host namespaces, host ports, gRPC and
 * HTTPS probes, lifecycle hooks, pod affinity, sidecars, ...) is refused
 * here, by field, so that a manifest never silently loses meaning;
 * volumes are checked in valid_volume.c.  See valid_int.h for the helpers.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "engine/mem.h"
#include "engine/valid/valid.h"
#include "engine/valid/schema.h"
#include "engine/valid/valid_int.h"

/* What one pod's walk remembers: names seen, to find duplicates. */
struct podctx {
	json_t *cnames;	 /* container and init container names: a set */
	json_t *pnames;	 /* container port names across the pod: a set */
	json_t *vols;	 /* volume name -> volume */
	bool tmpl;	 /* a Deployment's or ReplicaSet's template */
	bool host_users; /* spec.hostUsers (true when unset) */
};

const char *const vpod_probe_names[] = {"livenessProbe", "readinessProbe", "startupProbe", NULL};

/* --- containers ----------------------------------------------------------- */

/* A container's ports; names are unique across the pod. */
static int check_ports(struct vc *c, struct podctx *pc, const json_t *ctr)
{
	json_t *l, *p;
	const char *name, *ip, *why;
	int64_t host = 0;
	size_t i;

	TRY(vc_list(c, ctr, "ports", false, &l));
	json_array_foreach(l, i, p)
	{
		size_t mark = vc_push(c, "ports");
		vc_pushi(c, i);
		if (!json_is_object(p))
			return vc_invalid(c, NULL, p, "must be a mapping");
		TRY(vc_int(c, p, "containerPort", true, 1, 65535, NULL));
		TRY(vc_enum(c, p, "protocol", false, schema_enum_protocol, NULL));
		TRY(vc_int(c, p, "hostPort", false, 0, 65535, &host));
		if (host)
			return vc_notsup(c, "hostPort",
					 "%" PRId64 ": clusterfs does not map host ports yet; use "
					 "a NodePort service",
					 host);
		TRY(vc_str(c, p, "hostIP", false, &ip));
		if (ip && *ip && (why = vrule_ipv4(ip)))
			return vc_invalid(c, "hostIP", vget(p, "hostIP"), "%s", why);
		TRY(vc_str(c, p, "name", false, &name));
		if (name && *name) {
			if ((why = vrule_svc_name(name)))
				return vc_invalid(c, "name", vget(p, "name"), "%s", why);
			if (json_object_get(pc->pnames, name))
				return vc_duplicate(c, "name", vget(p, "name"));
			json_object_set_new(pc->pnames, name, json_true());
		}
		vc_pop(c, mark);
	}
	return 0;
}

/* What a fieldRef may name in an environment variable. */
static const char *const env_field_paths[] = {"metadata.name",
					      "metadata.namespace",
					      "metadata.uid",
					      "metadata.labels['KEY']",
					      "metadata.annotations['KEY']",
					      "spec.nodeName",
					      "spec.serviceAccountName",
					      "status.hostIP",
					      "status.hostIPs",
					      "status.podIP",
					      "status.podIPs",
					      NULL};

static const char *const resource_field_names[] = {"limits.cpu",
						   "limits.ephemeral-storage",
						   "limits.memory",
						   "requests.cpu",
						   "requests.ephemeral-storage",
						   "requests.memory",
						   NULL};

/* fieldPath of a fieldRef: a known path, or a label or annotation by key. */
static int check_field_path(struct vc *c, const json_t *ref)
{
	const char *s, *why;

	TRY(vc_str(c, ref, "fieldPath", true, &s));
	json_t *v = vget(ref, "fieldPath");
	for (size_t i = 0; env_field_paths[i]; i++)
		if (!strchr(env_field_paths[i], '[') && strcmp(s, env_field_paths[i]) == 0)
			return 0;
	const char *pre[] = {"metadata.labels['", "metadata.annotations['"};
	for (size_t i = 0; i < 2; i++) {
		size_t pl = strlen(pre[i]), n = strlen(s);

		if (strncmp(s, pre[i], pl) || n < pl + 2 || strcmp(s + n - 2, "']"))
			continue;
		_cleanup_free_ char *key = xstrndup(s + pl, n - pl - 2);
		if ((why = vrule_label_key(key)))
			return vc_invalid(c, "fieldPath", v, "%s", why);
		return 0;
	}
	return vc_unsupported(c, "fieldPath", v, env_field_paths);
}

/* env[].valueFrom: exactly one supported source; c is at it. */
static int check_value_from(struct vc *c, const json_t *vf)
{
	static const char *const kinds[] = {"configMapKeyRef", "secretKeyRef", "fieldRef",
					    "resourceFieldRef"};
	json_t *ref;
	const char *s, *why;
	int n = 0;
	int64_t milli;

	for (size_t i = 0; i < 4; i++)
		n += vget(vf, kinds[i]) != NULL;
	if (n == 0)
		return vc_invalid(c, NULL, vf,
				  "must specify one of: `fieldRef`, `resourceFieldRef`, "
				  "`configMapKeyRef` or `secretKeyRef`");
	if (n > 1)
		return vc_invalid(c, NULL, vf,
				  "may not have more than one field specified at a time");

	size_t at = c->len;
	const char *kr = vget(vf, "secretKeyRef") ? "secretKeyRef" : "configMapKeyRef";
	TRY(vc_map(c, vf, kr, false, &ref));
	if (ref) {
		vc_push(c, kr);
		TRY(vc_dns(c, ref, "name", true, NAME_DNS1123_SUBDOMAIN, NULL));
		TRY(vc_str(c, ref, "key", true, &s));
		if ((why = vrule_config_key(s)))
			return vc_invalid(c, "key", vget(ref, "key"), "%s", why);
		TRY(vc_bool(c, ref, "optional", NULL));
		vc_pop(c, at);
		return 0;
	}
	TRY(vc_map(c, vf, "fieldRef", false, &ref));
	if (ref) {
		static const char *const v1[] = {"v1", NULL};

		vc_push(c, "fieldRef");
		TRY(vc_enum(c, ref, "apiVersion", false, v1, NULL));
		TRY(check_field_path(c, ref));
		vc_pop(c, at);
		return 0;
	}
	TRY(vc_map(c, vf, "resourceFieldRef", true, &ref));
	vc_push(c, "resourceFieldRef");
	TRY(vc_enum(c, ref, "resource", true, resource_field_names, NULL));
	TRY(vc_str(c, ref, "containerName", false, NULL));
	json_t *div = vget(ref, "divisor");
	if (div && (why = vrule_quantity(div, &milli)))
		return vc_invalid(c, "divisor", div, "%s", why);
	if (div && milli <= 0)
		return vc_invalid(c, "divisor", div, "must be greater than 0");
	vc_pop(c, at);
	return 0;
}

/* A container's env: names, and a value or a valueFrom. */
static int check_env(struct vc *c, const json_t *ctr)
{
	json_t *l, *ev, *vf;
	const char *name, *value, *why;
	size_t i;

	TRY(vc_list(c, ctr, "env", false, &l));
	json_array_foreach(l, i, ev)
	{
		size_t mark = vc_push(c, "env");
		vc_pushi(c, i);
		if (!json_is_object(ev))
			return vc_invalid(c, NULL, ev, "must be a mapping");
		TRY(vc_str(c, ev, "name", true, &name));
		if ((why = vrule_env_name(name)))
			return vc_invalid(c, "name", vget(ev, "name"), "%s", why);
		TRY(vc_str(c, ev, "value", false, &value));
		TRY(vc_map(c, ev, "valueFrom", false, &vf));
		if (vf) {
			if (value && *value)
				return vc_forbidden(
				    c, "valueFrom",
				    "may not be specified when `value` is not empty");
			vc_push(c, "valueFrom");
			TRY(check_value_from(c, vf));
		}
		vc_pop(c, mark);
	}
	return 0;
}

/* A container's envFrom: ConfigMaps and Secrets, with an optional prefix. */
static int check_env_from(struct vc *c, const json_t *ctr)
{
	json_t *l, *src, *ref;
	const char *prefix, *why;
	size_t i;

	TRY(vc_list(c, ctr, "envFrom", false, &l));
	json_array_foreach(l, i, src)
	{
		size_t mark = vc_push(c, "envFrom");
		vc_pushi(c, i);
		if (!json_is_object(src))
			return vc_invalid(c, NULL, src, "must be a mapping");
		TRY(vc_str(c, src, "prefix", false, &prefix));
		if (prefix && *prefix && (why = vrule_env_name(prefix)))
			return vc_invalid(c, "prefix", vget(src, "prefix"), "%s", why);
		const char *rk = vget(src, "secretRef") ? "secretRef" : "configMapRef";
		if (vget(src, "secretRef") && vget(src, "configMapRef"))
			return vc_invalid(c, NULL, src,
					  "may not have more than one field specified at a time");
		TRY(vc_map(c, src, rk, false, &ref));
		if (!ref)
			return vc_invalid(c, NULL, src,
					  "must specify one of: `configMapRef` or `secretRef`");
		vc_push(c, rk);
		TRY(vc_dns(c, ref, "name", true, NAME_DNS1123_SUBDOMAIN, NULL));
		TRY(vc_bool(c, ref, "optional", NULL));
		vc_pop(c, mark);
	}
	return 0;
}

/* Extended resources are named with a domain: example.com/foo. */
static bool is_extended_resource(const char *name)
{
	return strchr(name, '/') != NULL;
}

/* resources.limits or resources.requests; c is at resources. */
static int check_resource_list(struct vc *c, const json_t *res, const char *field)
{
	json_t *m, *v;
	const char *k, *why;
	int64_t milli;

	TRY(vc_map(c, res, field, false, &m));
	json_object_foreach(m, k, v)
	{
		_cleanup_json_ json_t *jk = json_string(k);
		size_t mark = vc_push(c, field);
		vc_pushk(c, k);
		if (!strncmp(k, "hugepages-", 10))
			return vc_notsup(c, NULL, "clusterfs does not manage huge pages");
		if (is_extended_resource(k)) {
			if ((why = vrule_label_key(k)))
				return vc_invalid(c, NULL, jk, "%s", why);
		} else if (strcmp(k, "cpu") && strcmp(k, "memory") &&
			   strcmp(k, "ephemeral-storage")) {
			return vc_invalid(c, NULL, jk,
					  "must be a standard resource for containers");
		}
		if ((why = vrule_quantity(v, &milli)))
			return vc_invalid(c, NULL, v, "%s", why);
		if (milli < 0)
			return vc_invalid(c, NULL, v, "must be greater than or equal to 0");
		if (is_extended_resource(k) && milli % 1000)
			return vc_invalid(c, NULL, v, "must be an integer");
		vc_pop(c, mark);
	}
	return 0;
}

/* A container's resources: known names, quantities >= 0, requests
 * within limits. */
static int check_resources(struct vc *c, const json_t *ctr)
{
	json_t *res, *req, *lim;
	const char *k;
	int64_t r, l;

	TRY(vc_map(c, ctr, "resources", false, &res));
	if (!res)
		return 0;
	size_t at = vc_push(c, "resources");
	if (json_array_size(vget(res, "claims")))
		return vc_notsup(c, "claims", "clusterfs has no dynamic resource allocation");
	TRY(check_resource_list(c, res, "limits"));
	TRY(check_resource_list(c, res, "requests"));
	json_object_foreach(vget(res, "requests"), k, req)
	{
		lim = vget(vget(res, "limits"), k);
		if (!lim) {
			if (!is_extended_resource(k))
				continue;
			vc_push(c, "requests");
			vc_pushk(c, k);
			return vc_forbidden(c, NULL,
					    "limit must be set for non overcommitable "
					    "resources");
		}
		vrule_quantity(req, &r);
		vrule_quantity(lim, &l);
		_cleanup_free_ char *ls =
		    json_is_string(lim)
			? xstrdup(json_string_value(lim))
			: json_dumps(lim, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
		size_t mark = vc_push(c, "requests");
		vc_pushk(c, k);
		if (is_extended_resource(k) && r != l)
			return vc_invalid(c, NULL, req, "must be equal to %s limit of %s", k,
					  ls ? ls : "?");
		if (r > l)
			return vc_invalid(c, NULL, req,
					  "must be less than or equal to %s limit of %s", k,
					  ls ? ls : "?");
		vc_pop(c, mark);
	}
	vc_pop(c, at);
	return 0;
}

/* A container's volumeMounts: declared volumes, unique paths, safe subPaths. */
static int check_mounts(struct vc *c, struct podctx *pc, const json_t *ctr)
{
	static const char *const propagation[] = {"Bidirectional", "HostToContainer", "None", NULL};
	json_t *l, *m;
	const char *name, *path, *sub, *expr, *why;
	size_t i;

	TRY(vc_list(c, ctr, "volumeMounts", false, &l));
	json_array_foreach(l, i, m)
	{
		size_t mark = vc_push(c, "volumeMounts");
		vc_pushi(c, i);
		if (!json_is_object(m))
			return vc_invalid(c, NULL, m, "must be a mapping");
		TRY(vc_str(c, m, "name", true, &name));
		if (!json_object_get(pc->vols, name))
			return vc_notfound(c, "name", vget(m, "name"));
		TRY(vc_str(c, m, "mountPath", true, &path));
		for (size_t j = 0; j < i; j++)
			if (json_equal(vget(json_array_get(l, j), "mountPath"),
				       vget(m, "mountPath")))
				return vc_invalid(c, "mountPath", vget(m, "mountPath"),
						  "must be unique");
		TRY(vc_bool(c, m, "readOnly", NULL));
		TRY(vc_str(c, m, "subPath", false, &sub));
		if (sub && *sub && (why = vpod_relpath_rule(sub)))
			return vc_invalid(c, "subPath", vget(m, "subPath"), "%s", why);
		TRY(vc_str(c, m, "subPathExpr", false, &expr));
		if (expr && *expr && sub && *sub)
			return vc_invalid(c, "subPathExpr", vget(m, "subPathExpr"),
					  "subPathExpr and subPath are mutually exclusive");
		if (expr && *expr && (why = vpod_relpath_rule(expr)))
			return vc_invalid(c, "subPathExpr", vget(m, "subPathExpr"), "%s", why);
		TRY(vc_enum(c, m, "mountPropagation", false, propagation, NULL));
		vc_pop(c, mark);
	}
	return 0;
}

/* --- probes --------------------------------------------------------------- */

/* NULL when s is an HTTP header name, else why not. */
static const char *http_header_rule(const char *s)
{
	if (!*s)
		goto bad;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-'))
			goto bad;
	return NULL;
bad:
	return "a valid HTTP header must consist of alphanumeric characters or '-' (e.g. "
	       "'X-Header-Name')";
}

/* A probe's httpGet; c is at it. */
static int check_http_get(struct vc *c, const json_t *h)
{
	static const char *const schemes[] = {"HTTP", "HTTPS", NULL};
	json_t *hdrs, *hd;
	const char *s, *why;
	size_t i;

	TRY(vc_port_or_name(c, h, "port", true));
	TRY(vc_str(c, h, "path", false, NULL));
	TRY(vc_str(c, h, "host", false, NULL));
	TRY(vc_enum(c, h, "scheme", false, schemes, &s));
	if (s && !strcmp(s, "HTTPS"))
		return vc_notsup(c, "scheme",
				 "clusterfs does not run HTTPS probes yet (no TLS client); use "
				 "scheme HTTP, tcpSocket or exec");
	TRY(vc_list(c, h, "httpHeaders", false, &hdrs));
	json_array_foreach(hdrs, i, hd)
	{
		size_t mark = vc_push(c, "httpHeaders");
		vc_pushi(c, i);
		if (!json_is_object(hd))
			return vc_invalid(c, NULL, hd, "must be a mapping");
		TRY(vc_str(c, hd, "name", true, &s));
		if ((why = http_header_rule(s)))
			return vc_invalid(c, "name", vget(hd, "name"), "%s", why);
		TRY(vc_str(c, hd, "value", false, NULL));
		vc_pop(c, mark);
	}
	return 0;
}

/* ctr[which], a probe; c is at the container. */
static int check_probe(struct vc *c, const json_t *ctr, const char *which)
{
	static const char *const handlers[] = {"exec", "httpGet", "tcpSocket", "grpc"};
	json_t *p, *h;
	int64_t n;
	int count = 0;

	TRY(vc_map(c, ctr, which, false, &p));
	if (!p)
		return 0;
	size_t mark = vc_push(c, which);
	for (size_t i = 0; i < 4; i++)
		count += vget(p, handlers[i]) != NULL;
	if (count == 0)
		return vc_required(c, NULL, "must specify a handler type");
	if (count > 1)
		return vc_forbidden(c, NULL, "may not specify more than 1 handler type");
	if (vget(p, "grpc"))
		return vc_notsup(c, "grpc",
				 "clusterfs does not run gRPC probes yet; use exec, "
				 "httpGet or tcpSocket");
	TRY(vc_map(c, p, "exec", false, &h));
	if (h) {
		json_t *cmd;
		size_t m = vc_push(c, "exec");
		TRY(vc_list(c, h, "command", true, &cmd));
		TRY(vc_strlist(c, h, "command"));
		vc_pop(c, m);
	}
	TRY(vc_map(c, p, "httpGet", false, &h));
	if (h) {
		size_t m = vc_push(c, "httpGet");
		TRY(check_http_get(c, h));
		vc_pop(c, m);
	}
	TRY(vc_map(c, p, "tcpSocket", false, &h));
	if (h) {
		size_t m = vc_push(c, "tcpSocket");
		TRY(vc_port_or_name(c, h, "port", true));
		TRY(vc_str(c, h, "host", false, NULL));
		vc_pop(c, m);
	}

	TRY(vc_int(c, p, "initialDelaySeconds", false, 0, INT32_MAX, NULL));
	TRY(vc_int(c, p, "timeoutSeconds", false, 1, INT32_MAX, NULL));
	TRY(vc_int(c, p, "periodSeconds", false, 1, INT32_MAX, NULL));
	TRY(vc_int(c, p, "failureThreshold", false, 1, INT32_MAX, NULL));
	int has = vc_int(c, p, "successThreshold", false, 1, INT32_MAX, &n);
	TRY(has);
	if (has && n != 1 && strcmp(which, "readinessProbe"))
		return vc_invalid(c, "successThreshold", vget(p, "successThreshold"), "must be 1");
	if (vget(p, "terminationGracePeriodSeconds") && !strcmp(which, "readinessProbe"))
		return vc_forbidden(c, "terminationGracePeriodSeconds",
				    "must not be set for readinessProbes");
	TRY(vc_int(c, p, "terminationGracePeriodSeconds", false, 1, INT64_MAX, NULL));
	vc_pop(c, mark);
	return 0;
}

/* securityContext.seccompProfile of a pod or container (sc may be NULL):
 * RuntimeDefault and Unconfined are run; a Localhost profile is not. */
static int check_seccomp(struct vc *c, const json_t *sc)
{
	const char *type = json_string_value(json_object_get(vget(sc, "seccompProfile"), "type"));
	if (!type || !strcmp(type, "RuntimeDefault") || !strcmp(type, "Unconfined"))
		return 0;
	size_t mark = vc_push(c, "securityContext");
	vc_push(c, "seccompProfile");
	int r = vc_notsup(c, "type",
			  "\"%s\": clusterfs runs RuntimeDefault (its default profile) and "
			  "Unconfined only",
			  type);
	vc_pop(c, mark);
	return r;
}

/* One container or init container (init); c is at it. */
static int check_container(struct vc *c, struct podctx *pc, const json_t *ctr, bool init)
{
	static const char *const msg_policies[] = {"FallbackToLogsOnError", "File", NULL};
	static const char *const always[] = {"Always", NULL};
	const char *name, *image;
	json_t *sc;

	if (!json_is_object(ctr))
		return vc_invalid(c, NULL, ctr, "must be a mapping");
	TRY(vc_dns(c, ctr, "name", true, NAME_DNS1123_LABEL, &name));
	if (json_object_get(pc->cnames, name))
		return vc_duplicate(c, "name", vget(ctr, "name"));
	json_object_set_new(pc->cnames, name, json_true());

	TRY(vc_str(c, ctr, "image", true, &image));
	if (strchr(" \t\n\r\f\v", image[0]) || strchr(" \t\n\r\f\v", image[strlen(image) - 1]))
		return vc_invalid(c, "image", vget(ctr, "image"),
				  "must not have leading or trailing whitespace");
	TRY(vc_enum(c, ctr, "imagePullPolicy", false, schema_enum_pull_policy, NULL));
	TRY(vc_strlist(c, ctr, "command"));
	TRY(vc_strlist(c, ctr, "args"));
	TRY(vc_str(c, ctr, "workingDir", false, NULL));
	TRY(check_ports(c, pc, ctr));
	TRY(check_env(c, ctr));
	TRY(check_env_from(c, ctr));
	TRY(check_resources(c, ctr));
	TRY(check_mounts(c, pc, ctr));
	if (vget(ctr, "volumeDevices"))
		return vc_notsup(c, "volumeDevices", "clusterfs has no block volumes");
	if (vget(ctr, "lifecycle"))
		return vc_notsup(c, "lifecycle",
				 "clusterfs does not run postStart and preStop hooks yet");
	for (size_t i = 0; vpod_probe_names[i]; i++) {
		if (init && vget(ctr, vpod_probe_names[i]))
			return vc_forbidden(c, vpod_probe_names[i],
					    "may not be set for init containers");
		TRY(check_probe(c, ctr, vpod_probe_names[i]));
	}
	if (vget(ctr, "restartPolicy")) {
		if (!init)
			return vc_forbidden(c, "restartPolicy",
					    "may only be set for init containers");
		TRY(vc_enum(c, ctr, "restartPolicy", false, always, NULL));
		return vc_notsup(c, "restartPolicy",
				 "\"Always\": clusterfs does not run sidecar containers yet");
	}
	TRY(vc_enum(c, ctr, "terminationMessagePolicy", false, msg_policies, NULL));
	TRY(vc_str(c, ctr, "terminationMessagePath", false, NULL));
	TRY(vc_map(c, ctr, "securityContext", false, &sc));
	TRY(check_seccomp(c, sc));
	TRY(vpod_sec_ctx(c, pc->host_users, sc));
	TRY(vc_bool(c, ctr, "stdin", NULL));
	TRY(vc_bool(c, ctr, "stdinOnce", NULL));
	return vc_bool(c, ctr, "tty", NULL);
}

/* spec[field], a list of containers. */
static int check_containers(struct vc *c, struct podctx *pc, const json_t *spec, const char *field,
			    bool init)
{
	json_t *l, *ctr;
	size_t i;

	TRY(vc_list(c, spec, field, !init, &l));
	json_array_foreach(l, i, ctr)
	{
		size_t mark = vc_push(c, field);
		vc_pushi(c, i);
		TRY(check_container(c, pc, ctr, init));
		vc_pop(c, mark);
	}
	return 0;
}

/* --- scheduling ----------------------------------------------------------- */

/* spec.tolerations, with Kubernetes' rules tying key, operator, value
 * and effect together. */
static int check_tolerations(struct vc *c, const json_t *spec)
{
	static const char *const ops[] = {"Equal", "Exists", NULL};
	static const char *const effects[] = {"NoExecute", "NoSchedule", "PreferNoSchedule", NULL};
	json_t *l, *t;
	const char *key, *op, *value, *effect, *why;
	size_t i;

	TRY(vc_list(c, spec, "tolerations", false, &l));
	json_array_foreach(l, i, t)
	{
		size_t mark = vc_push(c, "tolerations");
		vc_pushi(c, i);
		if (!json_is_object(t))
			return vc_invalid(c, NULL, t, "must be a mapping");
		TRY(vc_str(c, t, "key", false, &key));
		if (key && *key && (why = vrule_label_key(key)))
			return vc_invalid(c, "key", vget(t, "key"), "%s", why);
		TRY(vc_enum(c, t, "operator", false, ops, &op));
		TRY(vc_str(c, t, "value", false, &value));
		TRY(vc_enum(c, t, "effect", false, effects, &effect));
		bool exists = streq(op, "Exists");
		if ((!key || !*key) && !exists)
			return vc_invalid(
			    c, "operator", vget(t, "operator"),
			    "operator must be Exists when `key` is empty, which means "
			    "\"match all values and all keys\"");
		if (exists && value && *value)
			return vc_invalid(c, "operator", vget(t, "operator"),
					  "value must be empty when `operator` is 'Exists'");
		if (!exists && value && (why = vrule_label_value(value)))
			return vc_invalid(c, "value", vget(t, "value"), "%s", why);
		TRY(vc_int(c, t, "tolerationSeconds", false, INT64_MIN, INT64_MAX, NULL));
		if (vget(t, "tolerationSeconds") && !streq(effect, "NoExecute"))
			return vc_invalid(
			    c, "effect", vget(t, "effect"),
			    "effect must be 'NoExecute' when `tolerationSeconds` is set");
		vc_pop(c, mark);
	}
	return 0;
}

/* One NodeSelectorRequirement of matchExpressions (fields: of matchFields). */
static int check_node_requirement(struct vc *c, const json_t *r, bool fields)
{
	static const char *const ops[] = {"DoesNotExist", "Exists", "Gt", "In",
					  "Lt",		  "NotIn",  NULL};
	static const char *const field_ops[] = {"In", "NotIn", NULL};
	static const char *const field_keys[] = {"metadata.name", NULL};
	json_t *values;
	const char *key, *op, *why;

	if (!json_is_object(r))
		return vc_invalid(c, NULL, r, "must be a mapping");
	TRY(vc_str(c, r, "key", true, &key));
	if (fields && strcmp(key, "metadata.name"))
		return vc_unsupported(c, "key", vget(r, "key"), field_keys);
	if (!fields && (why = vrule_label_key(key)))
		return vc_invalid(c, "key", vget(r, "key"), "%s", why);
	TRY(vc_enum(c, r, "operator", true, fields ? field_ops : ops, &op));
	TRY(vc_strlist(c, r, "values"));
	values = vget(r, "values");
	size_t n = json_array_size(values);
	if (fields && n != 1)
		return vc_required(c, "values",
				   "must be only one value when `operator` is 'In' or "
				   "'NotIn' for node field selector");
	if ((streq(op, "In") || streq(op, "NotIn")) && n == 0)
		return vc_required(c, "values",
				   "must be specified when `operator` is 'In' or 'NotIn'");
	if ((streq(op, "Exists") || streq(op, "DoesNotExist")) && n > 0)
		return vc_forbidden(c, "values",
				    "may not be specified when `operator` is 'Exists' or "
				    "'DoesNotExist'");
	if (streq(op, "Gt") || streq(op, "Lt")) {
		const char *s = n == 1 ? json_string_value(json_array_get(values, 0)) : NULL;
		char *end;

		if (n != 1)
			return vc_required(c, "values",
					   "must be specified single value when `operator` is 'Lt' "
					   "or 'Gt'");
		if (!*s || (strtoll(s, &end, 10), *end))
			return vc_invalid(c, "values[0]", json_array_get(values, 0),
					  "must be an integer");
	}
	return 0;
}

/* A NodeSelectorTerm; c is at the term. */
static int check_node_term(struct vc *c, const json_t *term)
{
	static const char *const parts[] = {"matchExpressions", "matchFields"};
	json_t *l, *r;
	size_t i;

	if (!json_is_object(term))
		return vc_invalid(c, NULL, term, "must be a mapping");
	for (int f = 0; f < 2; f++) {
		TRY(vc_list(c, term, parts[f], false, &l));
		json_array_foreach(l, i, r)
		{
			size_t mark = vc_push(c, parts[f]);
			vc_pushi(c, i);
			TRY(check_node_requirement(c, r, f == 1));
			vc_pop(c, mark);
		}
	}
	return 0;
}

/* spec.affinity: node affinity only. */
static int check_affinity(struct vc *c, const json_t *spec)
{
	json_t *aff, *na, *req, *terms, *t, *pref;
	size_t i;

	TRY(vc_map(c, spec, "affinity", false, &aff));
	if (!aff)
		return 0;
	size_t at = vc_push(c, "affinity");
	if (vget(aff, "podAffinity"))
		return vc_notsup(c, "podAffinity",
				 "clusterfs does not schedule by pod affinity yet");
	if (vget(aff, "podAntiAffinity"))
		return vc_notsup(c, "podAntiAffinity",
				 "clusterfs does not schedule by pod anti-affinity yet");
	TRY(vc_map(c, aff, "nodeAffinity", false, &na));
	if (!na) {
		vc_pop(c, at);
		return 0;
	}
	vc_push(c, "nodeAffinity");
	TRY(vc_map(c, na, "requiredDuringSchedulingIgnoredDuringExecution", false, &req));
	if (req) {
		size_t mark = vc_push(c, "requiredDuringSchedulingIgnoredDuringExecution");
		TRY(vc_list(c, req, "nodeSelectorTerms", false, &terms));
		if (json_array_size(terms) == 0)
			return vc_required(c, "nodeSelectorTerms",
					   "must have at least one node selector term");
		json_array_foreach(terms, i, t)
		{
			size_t m = vc_push(c, "nodeSelectorTerms");
			vc_pushi(c, i);
			TRY(check_node_term(c, t));
			vc_pop(c, m);
		}
		vc_pop(c, mark);
	}
	TRY(vc_list(c, na, "preferredDuringSchedulingIgnoredDuringExecution", false, &pref));
	json_array_foreach(pref, i, t)
	{
		json_t *term;
		size_t mark = vc_push(c, "preferredDuringSchedulingIgnoredDuringExecution");

		vc_pushi(c, i);
		if (!json_is_object(t))
			return vc_invalid(c, NULL, t, "must be a mapping");
		TRY(vc_int(c, t, "weight", true, 1, 100, NULL));
		TRY(vc_map(c, t, "preference", true, &term));
		vc_push(c, "preference");
		TRY(check_node_term(c, term));
		vc_pop(c, mark);
	}
	vc_pop(c, at);
	return 0;
}

/* --- the pod spec --------------------------------------------------------- */

/* spec.dnsPolicy and spec.dnsConfig. */
static int check_dns(struct vc *c, const json_t *spec)
{
	static const char *const policies[] = {"ClusterFirst", "ClusterFirstWithHostNet", "Default",
					       "None", NULL};
	json_t *cfg, *l, *v;
	const char *policy, *why;
	size_t i;

	TRY(vc_enum(c, spec, "dnsPolicy", false, policies, &policy));
	TRY(vc_map(c, spec, "dnsConfig", false, &cfg));
	if (streq(policy, "None") && !json_array_size(vget(cfg, "nameservers")))
		return vc_required(c, "dnsConfig.nameservers",
				   "must provide at least one DNS nameserver when `dnsPolicy` is "
				   "None");
	if (!cfg)
		return 0;
	size_t mark = vc_push(c, "dnsConfig");
	TRY(vc_strlist(c, cfg, "nameservers"));
	TRY(vc_strlist(c, cfg, "searches"));
	TRY(vc_list(c, cfg, "options", false, &l));
	l = vget(cfg, "nameservers");
	if (json_array_size(l) > 3)
		return vc_invalid(c, "nameservers", l, "must not have more than 3 nameservers");
	json_array_foreach(l, i, v)
	{
		if ((why = vrule_ipv4(json_string_value(v)))) {
			vc_push(c, "nameservers");
			vc_pushi(c, i);
			return vc_invalid(c, NULL, v, "%s", why);
		}
	}
	if (json_array_size(vget(cfg, "searches")) > 32)
		return vc_invalid(c, "searches", vget(cfg, "searches"),
				  "must not have more than 32 search paths");
	vc_pop(c, mark);
	return 0;
}

int vpod_spec(struct vc *c, const json_t *spec, bool in_template)
{
	static const char *const host_ns[] = {"hostNetwork", "hostPID", "hostIPC"};
	static const char *const restart[] = {"Always", "Never", "OnFailure", NULL};
	static const char *const restart_tmpl[] = {"Always", NULL};
	_cleanup_json_ json_t *cnames = json_object();
	_cleanup_json_ json_t *pnames = json_object();
	_cleanup_json_ json_t *vols = json_object();
	struct podctx pc = {cnames, pnames, vols, in_template,
			    !json_is_false(vget(spec, "hostUsers"))};
	json_t *l, *v;
	size_t i;
	bool on;

	for (i = 0; i < 3; i++) {
		TRY(vc_bool(c, spec, host_ns[i], &on));
		if (on)
			return vc_notsup(
			    c, host_ns[i],
			    "true: clusterfs does not share host namespaces with pods");
	}
	if (json_array_size(vget(spec, "ephemeralContainers")))
		return vc_forbidden(c, "ephemeralContainers", "cannot be set on create");
	if (json_array_size(vget(spec, "topologySpreadConstraints")))
		return vc_notsup(c, "topologySpreadConstraints",
				 "clusterfs does not schedule by topology spread yet");

	TRY(vc_list(c, spec, "volumes", false, &l));
	json_array_foreach(l, i, v)
	{
		size_t mark = vc_push(c, "volumes");
		vc_pushi(c, i);
		TRY(vpod_volume(c, pc.vols, v));
		vc_pop(c, mark);
	}
	TRY(check_containers(c, &pc, spec, "initContainers", true));
	TRY(check_containers(c, &pc, spec, "containers", false));

	TRY(vc_enum(c, spec, "restartPolicy", false, pc.tmpl ? restart_tmpl : restart, NULL));
	TRY(vc_int(c, spec, "terminationGracePeriodSeconds", false, 0, INT64_MAX, NULL));
	if (pc.tmpl && vget(spec, "activeDeadlineSeconds"))
		return vc_forbidden(c, "activeDeadlineSeconds",
				    "activeDeadlineSeconds in a ReplicaSet or Deployment is not "
				    "supported");
	TRY(vc_int(c, spec, "activeDeadlineSeconds", false, 1, INT32_MAX, NULL));
	TRY(check_dns(c, spec));
	TRY(vc_dns(c, spec, "schedulerName", false, NAME_DNS1123_SUBDOMAIN, NULL));
	TRY(vc_dns(c, spec, "nodeName", false, NAME_DNS1123_SUBDOMAIN, NULL));
	TRY(vc_dns(c, spec, "serviceAccountName", false, NAME_DNS1123_SUBDOMAIN, NULL));
	TRY(vc_dns(c, spec, "hostname", false, NAME_DNS1123_LABEL, NULL));
	TRY(vc_dns(c, spec, "subdomain", false, NAME_DNS1123_LABEL, NULL));
	TRY(vc_labels(c, spec, "nodeSelector"));
	TRY(check_tolerations(c, spec));
	TRY(check_affinity(c, spec));
	TRY(vc_map(c, spec, "securityContext", false, &v));
	return check_seccomp(c, v);
}
