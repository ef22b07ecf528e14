/*
 * agent_status.c - what the node agent reports of a pod (its phase,
 * conditions and container statuses, as the kubelet computes them), and
 * the environment it resolves for a container (valueFrom, envFrom).
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine/b64.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "engine/valid/valid.h"
#include "runtime/kubelet/agent_int.h"
#include "runtime/net/dns.h"
#include "runtime/image/image.h"
#include "runtime/kubelet/kubelet.h"

void agent_timestamp(char out[32])
{
	api_timestamp(out);
}

/* ---- container statuses ---- */

/* "docker.io/library/busybox@sha256:..." for the spec's image. */
static char *image_id(const char *image, const char *digest)
{
	char ref[IMAGE_REF_MAX];
	if (!*digest)
		return xstrdup("");
	if (!image || image_normalize(image, ref, sizeof(ref), NULL) < 0)
		return xstrdup(digest);
	char *at = strchr(ref, '@');
	char *colon = strrchr(ref, ':');
	char *slash = strrchr(ref, '/');
	if (at)
		*at = 0;
	else if (colon && (!slash || colon > slash))
		*colon = 0;
	return xasprintf("%s@%s", ref, digest);
}

static json_t *ctr_status(struct apod *ap, struct actr *c, const json_t *spec)
{
	json_t *state;
	switch (c->st) {
	case CS_RUNNING:
		state = json_pack("{s:{s:s}}", "running", "startedAt", c->started_at);
		break;
	case CS_TERMINATED: {
		json_t *t = json_pack("{s:i, s:s, s:s, s:s}", "exitCode", c->exit_code, "reason",
				      c->reason ? c->reason : "Error", "startedAt", c->started_at,
				      "finishedAt", c->finished_at);
		if (c->message && *c->message)
			json_object_set_new(t, "message", json_string(c->message));
		if (*c->cid)
			json_object_set_new(t, "containerID", json_string(c->cid));
		state = json_pack("{s:o}", "terminated", t);
		break;
	}
	default: {
		json_t *w =
		    json_pack("{s:s}", "reason", c->reason ? c->reason : "ContainerCreating");
		if (c->message && *c->message)
			json_object_set_new(w, "message", json_string(c->message));
		state = json_pack("{s:o}", "waiting", w);
	}
	}
	const char *image = obj_str(spec, "image");
	pthread_mutex_lock(&ap->lock);
	bool ready = c->st == CS_RUNNING && c->ready && c->started;
	bool started = c->st == CS_RUNNING && c->started;
	pthread_mutex_unlock(&ap->lock);
	char *iid = image_id(image, c->image_id);
	json_t *s =
	    json_pack("{s:s, s:o, s:o, s:b, s:i, s:s, s:s, s:b}", "name", c->name, "state", state,
		      "lastState",
		      c->last_term ? json_pack("{s:O}", "terminated", c->last_term) : json_object(),
		      "ready", ready, "restartCount", c->restarts, "image", image ? image : "",
		      "imageID", iid, "started", started);
	free(iid);
	if (*c->cid)
		json_object_set_new(s, "containerID", json_string(c->cid));
	return s;
}

static int by_name(const void *a, const void *b)
{
	const char *x = obj_str(*(json_t *const *)a, "name");
	const char *y = obj_str(*(json_t *const *)b, "name");
	return strcmp(x ? x : "", y ? y : "");
}

/* ---- phase and conditions ---- */

/* The kubelet's getPhase. */
static const char *phase(const struct apod *ap, const json_t *pod)
{
	const char *policy = obj_str(pod, "spec.restartPolicy");
	policy = policy ? policy : "Always";
	if (ap->fail_reason)
		return "Failed"; /* rejected or evicted */
	bool pending_init = false;
	for (size_t i = 0; i < ap->ninit; i++) {
		const struct actr *c = &ap->c[i];
		if (c->st == CS_TERMINATED && c->exit_code != 0 && !strcmp(policy, "Never"))
			return "Failed";
		if (!(c->st == CS_TERMINATED && c->exit_code == 0))
			pending_init = true;
	}
	int running = 0, waiting = 0, stopped = 0, succeeded = 0;
	for (size_t i = ap->ninit; i < ap->nc; i++) {
		const struct actr *c = &ap->c[i];
		if (c->st == CS_RUNNING) {
			running++;
		} else if (c->st == CS_TERMINATED) {
			stopped++;
			succeeded += c->exit_code == 0;
		} else if (c->last_term) {
			stopped++;
		} else {
			waiting++;
		}
	}
	if (pending_init || waiting > 0)
		return "Pending";
	if (running > 0)
		return "Running";
	if (stopped > 0) {
		if (!strcmp(policy, "Always"))
			return "Running";
		if (stopped == succeeded)
			return "Succeeded";
		if (!strcmp(policy, "Never"))
			return "Failed";
		return "Running";
	}
	return "Pending";
}

/* "[a b]" of the containers from..to for which pick() is false. */
static char *names_not(const struct apod *ap, size_t from, size_t to,
		       bool (*pick)(const struct apod *, const struct actr *))
{
	struct buf b = {0};
	buf_puts(&b, "[");
	bool first = true;
	for (size_t i = from; i < to; i++) {
		if (pick(ap, &ap->c[i]))
			continue;
		buf_printf(&b, "%s%s", first ? "" : " ", ap->c[i].name);
		first = false;
	}
	buf_puts(&b, "]");
	return buf_steal(&b, NULL);
}

static bool is_ready(const struct apod *ap, const struct actr *c)
{
	(void)ap;
	return c->st == CS_RUNNING && c->ready && c->started;
}

static bool is_inited(const struct apod *ap, const struct actr *c)
{
	(void)ap;
	return c->st == CS_TERMINATED && c->exit_code == 0;
}

static json_t *condition(const json_t *oldc, const char *type, bool ok, const char *reason,
			 const char *message, const char *now)
{
	const char *v = ok ? "True" : "False";
	json_t *c = json_pack("{s:s, s:s, s:n, s:s}", "type", type, "status", v, "lastProbeTime",
			      "lastTransitionTime",
			      kubelet_transition_time(kubelet_find_condition(oldc, type), v, now));
	if (reason)
		json_object_set_new(c, "reason", json_string(reason));
	if (message)
		json_object_set_new(c, "message", json_string(message));
	return c;
}

json_t *agent_pod_status(struct agent *ag, struct apod *ap, const json_t *pod)
{
	const json_t *old = obj_at(pod, "status");
	json_t *s = json_is_object(old) ? json_deep_copy(old) : json_object();
	json_t *oldc = json_object_get(old, "conditions");
	char now[32];
	agent_timestamp(now);
	const char *ph = phase(ap, pod);
	bool done = !strcmp(ph, "Succeeded") || !strcmp(ph, "Failed");

	pthread_mutex_lock(&ap->lock);
	char *unready = names_not(ap, ap->ninit, ap->nc, is_ready);
	pthread_mutex_unlock(&ap->lock);
	char *uninit = names_not(ap, 0, ap->ninit, is_inited);
	bool all_ready = !strcmp(unready, "[]") && !done;
	bool inited = !strcmp(uninit, "[]") || done;
	char *msg_ready = xasprintf("containers with unready status: %s", unready);
	char *msg_init = xasprintf("containers with incomplete status: %s", uninit);
	const char *why = done ? "PodCompleted" : "ContainersNotReady";

	json_t *cv = json_array();
	json_array_append_new(
	    cv, condition(oldc, "PodReadyToStartContainers", ap->sb && !done, NULL, NULL, now));
	json_array_append_new(cv, condition(oldc, "Initialized", inited,
					    done     ? "PodCompleted"
					    : inited ? NULL
						     : "ContainersNotInitialized",
					    inited ? NULL : msg_init, now));
	json_array_append_new(cv, condition(oldc, "Ready", all_ready, all_ready ? NULL : why,
					    all_ready || done ? NULL : msg_ready, now));
	json_array_append_new(cv,
			      condition(oldc, "ContainersReady", all_ready, all_ready ? NULL : why,
					all_ready || done ? NULL : msg_ready, now));
	json_array_append_new(cv, condition(oldc, "PodScheduled", true, NULL, NULL, now));
	size_t i;
	json_t *c;
	json_array_foreach(oldc, i, c)
	{
		const char *t = obj_str(c, "type");
		if (t && strcmp(t, "PodReadyToStartContainers") && strcmp(t, "Initialized") &&
		    strcmp(t, "Ready") && strcmp(t, "ContainersReady") && strcmp(t, "PodScheduled"))
			json_array_append(cv, c);
	}
	free(unready);
	free(uninit);
	free(msg_ready);
	free(msg_init);

	json_object_set_new(s, "phase", json_string(ph));
	if (ap->fail_reason) {
		json_object_set_new(s, "reason", json_string(ap->fail_reason));
		json_object_set_new(s, "message", json_string(ap->fail_msg));
	}
	json_object_set_new(s, "conditions", cv);
	json_object_set_new(s, "hostIP", json_string(ag->node_ip));
	json_object_set_new(s, "hostIPs", json_pack("[{s:s}]", "ip", ag->node_ip));
	if (*ap->start_time)
		json_object_set_new(s, "startTime", json_string(ap->start_time));
	if (ap->pod_ip[0]) {
		json_object_set_new(s, "podIP", json_string(ap->pod_ip));
		json_object_set_new(s, "podIPs", json_pack("[{s:s}]", "ip", ap->pod_ip));
	} else {
		json_object_del(s, "podIP");
		json_object_del(s, "podIPs");
	}
	json_object_set_new(s, "qosClass", json_string(kubelet_pod_qos(pod)));

	size_t nreg = ap->nc - ap->ninit;
	json_t **v = xcalloc(nreg + 1, sizeof(json_t *));
	for (size_t k = 0; k < nreg; k++) {
		struct actr *x = &ap->c[ap->ninit + k];
		v[k] = ctr_status(ap, x, json_array_get(obj_at(pod, "spec.containers"), k));
	}
	qsort(v, nreg, sizeof(json_t *), by_name);
	json_t *arr = json_array();
	for (size_t k = 0; k < nreg; k++)
		json_array_append_new(arr, v[k]);
	free(v);
	json_object_set_new(s, "containerStatuses", arr);
	if (ap->ninit) {
		arr = json_array();
		for (size_t k = 0; k < ap->ninit; k++)
			json_array_append_new(
			    arr, ctr_status(ap, &ap->c[k],
					    json_array_get(obj_at(pod, "spec.initContainers"), k)));
		json_object_set_new(s, "initContainerStatuses", arr);
	}
	return s;
}

/* ---- the environment ---- */

static void env_add(char ***v, size_t *n, const char *name, const char *value)
{
	*v = xrealloc(*v, (*n + 2) * sizeof(char *));
	(*v)[(*n)++] = xasprintf("%s=%s", name, value ? value : "");
	(*v)[*n] = NULL;
}

void agent_env_free(char **env)
{
	for (size_t i = 0; env && env[i]; i++)
		free(env[i]);
	free(env);
}

/* ConfigMap or Secret (k) ns/name; *r set (and NULL) when it is missing and
 * not optional, or not reached. */
static struct sobj *source_get(struct agent *ag, const struct kind_info *k, const char *ns,
			       const char *name, bool optional, struct err **e, int *r)
{
	struct sobj *o = NULL;
	const char *what = k == KIND_SECRET ? "secret" : "configmap";
	int g = name ? apic_get(ag->c, k, ns, name, &o, NULL) : -ENOENT;
	if (g < 0 && g != -ENOENT) /* not reached: try again later, optional or not */
		*r = err_make(e, -g, "%s \"%s\": %s", what, name, strerror(-g));
	else if (!o && !optional)
		*r = err_make(e, ENOENT, "%s \"%s\" not found", what, name ? name : "");
	return o;
}

/* data[key] of a ConfigMap, or of a Secret decoded (malloc'd), or NULL. */
static char *source_value(const struct sobj *o, const char *key)
{
	const char *v = json_string_value(json_object_get(obj_at(o ? o->obj : NULL, "data"), key));
	size_t n;
	if (!v)
		return NULL;
	return strcmp(o->kind, "Secret") ? xstrdup(v) : b64_decode(v, &n);
}

/* metadata.labels['k'] style: the value in map at 'k', or NULL. */
static const char *subscript(const json_t *pod, const char *path, const char *field)
{
	size_t n = strlen(field);
	if (strncmp(path, field, n) || path[n] != '[')
		return NULL;
	const char *k = path + n + 1;
	char q = *k;
	if (q != '\'' && q != '"')
		return NULL;
	const char *end = strchr(k + 1, q);
	if (!end)
		return NULL;
	char key[320];
	snprintf(key, sizeof(key), "%.*s", (int)(end - k - 1), k + 1);
	return json_string_value(json_object_get(obj_at(pod, field), key));
}

char *agent_field_ref(struct agent *ag, struct apod *ap, const json_t *pod, const char *path)
{
	if (!strcmp(path, "status.podIP") || !strcmp(path, "status.podIPs"))
		return xstrdup(ap->pod_ip);
	static const char *const direct[] = {"metadata.name",
					     "metadata.namespace",
					     "metadata.uid",
					     "spec.nodeName",
					     "spec.serviceAccountName",
					     "status.podIP",
					     NULL};
	for (size_t i = 0; direct[i]; i++)
		if (!strcmp(path, direct[i])) {
			const char *v = obj_str(pod, path);
			return xstrdup(v ? v : "");
		}
	if (!strcmp(path, "status.hostIP") || !strcmp(path, "status.hostIPs"))
		return xstrdup(ag->node_ip);
	if (!strcmp(path, "status.podIPs")) {
		const char *v = obj_str(pod, "status.podIP");
		return xstrdup(v ? v : "");
	}
	const char *v = subscript(pod, path, "metadata.labels");
	if (!v)
		v = subscript(pod, path, "metadata.annotations");
	return xstrdup(v ? v : "");
}

/* limits.cpu and the like, over divisor, rounded up as Kubernetes does. */
char *agent_resource_ref(const json_t *pod, const json_t *ctr, const json_t *ref)
{
	const char *cname = obj_str(ref, "containerName");
	if (cname && *cname) {
		size_t i;
		json_t *x;
		json_array_foreach(obj_at(pod, "spec.containers"), i, x)
		{
			const char *n = obj_str(x, "name");
			if (n && !strcmp(n, cname))
				ctr = x;
		}
	}
	const char *res = obj_str(ref, "resource");
	res = res ? res : "";
	bool cpu = strstr(res, "cpu") != NULL;
	int64_t v = 0, div = 1000;
	json_t *q = obj_at(ctr, "resources");
	const char *dot = strchr(res, '.');
	if (dot) {
		char list[16];
		snprintf(list, sizeof(list), "%.*s", (int)(dot - res), res);
		json_t *x = json_object_get(json_object_get(q, list), dot + 1);
		if (x)
			quantity_parse(x, &v, NULL);
	}
	if (v <= 0 && !strncmp(res, "limits.", 7)) {
		/* no limit: the node's allocatable */
		if (cpu) {
			long n = sysconf(_SC_NPROCESSORS_ONLN);
			v = (n > 0 ? n : 1) * 1000;
		} else {
			v = (int64_t)sysconf(_SC_PHYS_PAGES) * sysconf(_SC_PAGESIZE) * 1000;
		}
	}
	json_t *d = json_object_get(ref, "divisor");
	if (d)
		quantity_parse(d, &div, NULL);
	if (div <= 0)
		div = 1000;
	int64_t out = v / div + (v % div ? 1 : 0);
	return xasprintf("%lld", (long long)out);
}

/* Kubernetes' variables for the Services of namespace ns, into v. */
static void service_env(struct agent *ag, const char *ns, char ***v, size_t *n)
{
	struct sobj **list;
	int m = apic_list(ag->c, KIND_SERVICE, &(struct apic_sel){.ns = ns}, &list, NULL);
	if (m <= 0)
		return;
	const json_t **objs = xcalloc((size_t)m, sizeof(*objs));
	for (int i = 0; i < m; i++)
		objs[i] = list[i]->obj;
	char **env = svc_env((const json_t *const *)objs, (size_t)m);
	for (size_t i = 0; env && env[i]; i++) {
		char *eq = strchr(env[i], '=');
		if (!eq)
			continue;
		*eq = 0;
		env_add(v, n, env[i], eq + 1);
		*eq = '=';
	}
	svc_env_free(env);
	free(objs);
	sobj_list_free(list, (size_t)m);
}

int agent_container_env(struct agent *ag, struct apod *ap, const json_t *pod, const json_t *ctr,
			char ***out, struct err **e)
{
	const char *ns = obj_str(pod, "metadata.namespace");
	char **v = NULL;
	size_t n = 0;
	int r = 0;
	size_t i;
	json_t *x;
	*out = NULL;
	if (!json_is_false(obj_at(pod, "spec.enableServiceLinks")))
		service_env(ag, ns, &v, &n);
	json_array_foreach(obj_at(ctr, "envFrom"), i, x)
	{
		json_t *ref = json_object_get(x, "configMapRef");
		const struct kind_info *k = KIND_CONFIGMAP;
		if (!ref && (ref = json_object_get(x, "secretRef")))
			k = KIND_SECRET;
		if (!ref)
			continue;
		const char *prefix = obj_str(x, "prefix");
		struct sobj *cm = source_get(ag, k, ns, obj_str(ref, "name"),
					     json_is_true(json_object_get(ref, "optional")), e, &r);
		if (r < 0)
			goto fail;
		const char *key;
		json_t *val;
		json_object_foreach(obj_at(cm ? cm->obj : NULL, "data"), key, val)
		{
			char *name = xasprintf("%s%s", prefix ? prefix : "", key);
			char *text = source_value(cm, key);
			env_add(&v, &n, name, text ? text : "");
			free(text);
			free(name);
		}
		sobj_unref(cm);
	}
	json_array_foreach(obj_at(ctr, "env"), i, x)
	{
		const char *name = obj_str(x, "name");
		json_t *vf = json_object_get(x, "valueFrom");
		if (!name || !vf)
			continue;
		json_t *ref;
		const struct kind_info *sk = KIND_CONFIGMAP;
		if (!(ref = json_object_get(vf, "configMapKeyRef")) &&
		    (ref = json_object_get(vf, "secretKeyRef")))
			sk = KIND_SECRET;
		if (ref) {
			bool optional = json_is_true(json_object_get(ref, "optional"));
			const char *cmname = obj_str(ref, "name"), *key = obj_str(ref, "key");
			struct sobj *cm = source_get(ag, sk, ns, cmname, optional, e, &r);
			if (r < 0)
				goto fail;
			char *val = source_value(cm, key ? key : "");
			if (!val && cm && !optional) {
				r = err_make(e, ENOENT, "couldn't find key %s in %s %s/%s",
					     key ? key : "", sk->kind, ns, cmname);
				sobj_unref(cm);
				goto fail;
			}
			if (val)
				env_add(&v, &n, name, val);
			free(val);
			sobj_unref(cm);
		} else if ((ref = json_object_get(vf, "fieldRef"))) {
			const char *path = obj_str(ref, "fieldPath");
			char *val = agent_field_ref(ag, ap, pod, path ? path : "");
			env_add(&v, &n, name, val);
			free(val);
		} else if ((ref = json_object_get(vf, "resourceFieldRef"))) {
			char *val = agent_resource_ref(pod, ctr, ref);
			env_add(&v, &n, name, val);
			free(val);
		}
	}
	*out = v;
	return 0;
fail:
	agent_env_free(v);
	return r;
}
