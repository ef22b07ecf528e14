/*
 * view_fields.c - the files inside NAME/: for each kind, its fields, how each
 * is rendered, listed and written.  See view.h.
 */
#include "fs/view.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "engine/b64.h"
#include "engine/obj.h"
#include "engine/valid/codec.h"
#include "fs/container.h"
#include "fs/view_deploy.h"
#include "fs/view_hpa.h"
#include "fs/view_int.h"
#include "fs/view_svc.h"

/* Fields: the files inside NAME/ */

static void put_scalar(struct buf *out, const json_t *v)
{
	if (json_is_string(v))
		buf_printf(out, "%s\n", json_string_value(v));
	else if (json_is_integer(v))
		buf_printf(out, "%" JSON_INTEGER_FORMAT "\n", json_integer_value(v));
	else if (json_is_true(v))
		buf_puts(out, "true\n");
	else if (json_is_false(v))
		buf_puts(out, "false\n");
	else if (v && !json_is_null(v)) {
		char *s = codec_yaml(v, NULL);
		buf_puts(out, s);
		free(s);
	}
}

static void put_yaml(struct buf *out, const json_t *v)
{
	json_t *empty = NULL;
	if (!v)
		v = empty = json_object();
	char *s = codec_yaml(v, NULL);
	buf_puts(out, s);
	free(s);
	json_decref(empty);
}

static void r_replicas(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	put_scalar(out, obj_at(o->obj, "spec.replicas"));
}

static void r_status(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	put_yaml(out, json_object_get(o->obj, "status"));
}

static void r_revision(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	put_scalar(out, json_object_get(obj_at(o->obj, "metadata.annotations"),
					"deployment.kubernetes.io/revision"));
}

static void r_phase(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	put_scalar(out, obj_at(o->obj, "status.phase"));
}

static void r_node(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	put_scalar(out, obj_at(o->obj, "spec.nodeName"));
}

static void r_ip(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	put_scalar(out, obj_at(o->obj, "status.podIP"));
}

static void r_capacity(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	put_yaml(out, obj_at(o->obj, "status.capacity"));
}

static void r_allocatable(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	put_yaml(out, obj_at(o->obj, "status.allocatable"));
}

static void r_unschedulable(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	buf_puts(out, json_is_true(obj_at(o->obj, "spec.unschedulable")) ? "1\n" : "0\n");
}

static void r_ns_phase(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	put_scalar(out, obj_at(o->obj, "status.phase"));
}

/* Pods selected by a Deployment's or ReplicaSet's selector, or bound to a Node. */
static void r_pods(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	bool node = !strcmp(o->kind, "Node");
	struct sobj **pods;
	int n = api_list(view_api(v), KIND_POD, node ? NULL : o->ns, NULL, &pods, NULL);
	const json_t *sel = obj_at(o->obj, "spec.selector");
	for (int i = 0; i < n; i++) {
		const json_t *p = pods[i]->obj;
		bool match;
		if (node) {
			const char *nn = json_string_value(obj_at(p, "spec.nodeName"));
			match = nn && !strcmp(nn, o->name);
		} else {
			match = json_is_object(sel) && json_object_size(sel) > 0 &&
				api_selector_matches(sel, obj_at(p, "metadata.labels"));
		}
		if (!match)
			continue;
		if (node && strcmp(pods[i]->ns, "default"))
			buf_printf(out, "%s/", pods[i]->ns);
		buf_printf(out, "%s\n", pods[i]->name);
	}
	if (n > 0)
		sobj_list_free(pods, (size_t)n);
}

static int cmp_events(const void *a, const void *b)
{
	const struct sobj *x = *(struct sobj *const *)a, *y = *(struct sobj *const *)b;
	const char *tx = json_string_value(json_object_get(x->obj, "lastTimestamp"));
	const char *ty = json_string_value(json_object_get(y->obj, "lastTimestamp"));
	int c = strcmp(tx ? tx : "", ty ? ty : "");
	return c ? c : (x->rv < y->rv ? -1 : x->rv > y->rv);
}

/* The events of o: those whose involvedObject is o, by uid when the event
 * has one (a predecessor of the same name had another), as kubectl
 * describe shows them. */
static void r_events(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	struct sobj **evs;
	int n = api_list(view_api(v), KIND_EVENT, *o->ns ? o->ns : "default", NULL, &evs, NULL);
	if (n <= 0)
		return;
	const char *uid = obj_str(o->obj, "metadata.uid");
	size_t kept = 0;
	for (int i = 0; i < n; i++) {
		const json_t *io = json_object_get(evs[i]->obj, "involvedObject");
		const char *k = json_string_value(json_object_get(io, "kind"));
		const char *nm = json_string_value(json_object_get(io, "name"));
		const char *eu = json_string_value(json_object_get(io, "uid"));
		if (k && nm && !strcmp(k, o->kind) && !strcmp(nm, o->name) &&
		    (!eu || !uid || !strcmp(eu, uid)))
			evs[kept++] = evs[i];
		else
			sobj_unref(evs[i]);
	}
	qsort(evs, kept, sizeof(*evs), cmp_events);
	for (size_t i = 0; i < kept; i++)
		feed_event_line(evs[i]->obj, out);
	sobj_list_free(evs, kept);
}

/* namespaces/NS/events: every event in NS, oldest first. */
void vf_render_events(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	r_events(v, o, key, out);
}

static void r_ns_events(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	struct sobj **evs;
	int n = api_list(view_api(v), KIND_EVENT, o->name, NULL, &evs, NULL);
	if (n <= 0)
		return;
	qsort(evs, (size_t)n, sizeof(*evs), cmp_events);
	for (int i = 0; i < n; i++)
		feed_event_line(evs[i]->obj, out);
	sobj_list_free(evs, (size_t)n);
}

/* namespaces/NS/apply reads empty (and is write-only, 0200). */
static void r_nothing(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
}

/* namespaces/NS/apply: any documents, as `kubectl apply -n NS -f`: those
 * naming no namespace go to NS; naming another is refused. */
static int w_ns_apply(struct view *v, const struct vpath *p, const char *data, size_t len,
		      struct err **e)
{
	return view_apply_in(v, p->name, data, len, e);
}

static void r_data_key(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	const char *s = json_string_value(json_object_get(json_object_get(o->obj, "data"), key));
	if (s)
		buf_puts(out, s);
}

static void l_data(struct view *v, const struct sobj *o, struct vdir *out)
{
	const char *key;
	json_t *val;
	json_object_foreach(json_object_get(o->obj, "data"), key, val)
	{
		vdir_add(out, key, S_IFREG | 0644);
	}
}

static bool has_data_key(struct view *v, const struct sobj *o, const char *key)
{
	return json_object_get(json_object_get(o->obj, "data"), key) != NULL;
}

/* pods/NAME/containers/: one folder per container, init containers first. */
static void l_containers(struct view *v, const struct sobj *o, struct vdir *out)
{
	const char *name;
	for (size_t i = 0; (name = container_name_at(o->obj, i)); i++)
		vdir_add(out, name, S_IFDIR | 0755);
}

static bool has_container(struct view *v, const struct sobj *o, const char *key)
{
	return container_exists(o->obj, key);
}

static void r_ctr_status(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	container_render_status(o->obj, key, out);
}

static void r_ctr_restarts(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	container_render_restarts(o->obj, key, out);
}

/* Writable fields */

/* Parses a whole one-value write: optional spaces, the value, optional newline. */
static int parse_int_value(const char *data, size_t len, const char *what, int64_t *out,
			   struct err **e)
{
	char tmp[64];
	while (len && (data[len - 1] == '\n' || data[len - 1] == ' ' || data[len - 1] == '\t'))
		len--;
	while (len && (*data == ' ' || *data == '\t'))
		data++, len--;
	if (len == 0 || len >= sizeof(tmp))
		return err_make(e, EINVAL, "%s: want a whole number, got %s", what,
				len ? "a long string" : "nothing");
	memcpy(tmp, data, len);
	tmp[len] = '\0';
	char *end;
	errno = 0;
	long long n = strtoll(tmp, &end, 10);
	if (*end || errno || end == tmp)
		return err_make(e, EINVAL, "%s: want a whole number, got \"%s\"", what, tmp);
	*out = n;
	return 0;
}

struct set_arg {
	const char *path; /* "spec.replicas" */
	json_t *value;	  /* borrowed */
};

static int set_mutate(json_t *obj, void *varg, struct err **e)
{
	struct set_arg *a = varg;
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", a->path);
	json_t *cur = obj;
	char *save, *part = strtok_r(buf, ".", &save);
	while (part) {
		char *next = strtok_r(NULL, ".", &save);
		if (!next) {
			if (a->value)
				json_object_set(cur, part, a->value);
			else
				json_object_del(cur, part);
			return 0;
		}
		json_t *child = json_object_get(cur, part);
		if (!json_is_object(child)) {
			child = json_object();
			json_object_set_new(cur, part, child);
		}
		cur = child;
		part = next;
	}
	return 0;
}

int vf_write_int(struct view *v, const struct vpath *p, const char *path, int64_t min,
		 const char *data, size_t len, struct err **e)
{
	int64_t n = 0;
	char what[300];
	snprintf(what, sizeof(what), "%s \"%s\": %s", p->k->kind, p->name, p->field->name);
	int r = parse_int_value(data, len, what, &n, e);
	if (r < 0)
		return r;
	if (n < min || n > INT32_MAX)
		return err_make(
		    e, EINVAL, "%s: Invalid value: %" PRId64 ": must be between %" PRId64 " and %d",
		    what, n, min, INT32_MAX);
	json_t *val = json_integer(n);
	struct set_arg a = {path, val};
	r = api_patch(view_api(v), p->k, p->ns, p->name, set_mutate, &a, e);
	json_decref(val);
	return r;
}

static int w_replicas(struct view *v, const struct vpath *p, const char *data, size_t len,
		      struct err **e)
{
	return vf_write_int(v, p, "spec.replicas", 0, data, len, e);
}

static int w_unschedulable(struct view *v, const struct vpath *p, const char *data, size_t len,
			   struct err **e)
{
	char tmp[16];
	while (len && (data[len - 1] == '\n' || data[len - 1] == ' '))
		len--;
	if (len >= sizeof(tmp))
		len = sizeof(tmp) - 1;
	memcpy(tmp, data, len);
	tmp[len] = '\0';
	bool on;
	if (!strcmp(tmp, "1") || !strcmp(tmp, "true"))
		on = true;
	else if (!strcmp(tmp, "0") || !strcmp(tmp, "false"))
		on = false;
	else
		return err_make(e, EINVAL, "Node \"%s\": unschedulable: want 1 or 0, got \"%s\"",
				p->name, tmp);
	struct set_arg a = {"spec.unschedulable", on ? json_true() : NULL};
	return api_patch(view_api(v), p->k, p->ns, p->name, set_mutate, &a, e);
}

/* drain reads 1 once the node is cordoned and holds no pods. */
static void r_drain(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	bool drained = json_is_true(obj_at(o->obj, "spec.unschedulable"));
	if (drained) {
		struct buf pods = {0};
		r_pods(v, o, NULL, &pods);
		drained = pods.len == 0;
		buf_free(&pods);
	}
	buf_puts(out, drained ? "1\n" : "0\n");
}

/* "1" drains, "force" drains evicting pods that no controller manages too. */
static int w_drain(struct view *v, const struct vpath *p, const char *data, size_t len,
		   struct err **e)
{
	char what[300];
	snprintf(what, sizeof(what), "Node \"%s\": drain", p->name);
	while (len && (data[len - 1] == '\n' || data[len - 1] == ' ' || data[len - 1] == '\t'))
		len--;
	while (len && (*data == ' ' || *data == '\t'))
		data++, len--;
	bool force = len == 5 && !memcmp(data, "force", 5);
	if (!force && !(len == 1 && data[0] == '1'))
		return err_make(e, EINVAL,
				"%s: write 1 to cordon the node and evict its pods, or force to "
				"evict pods that no controller manages too (got \"%.*s\")",
				what, len > 64 ? 64 : (int)len, data);
	int r = api_node_drain(view_api(v), p->name, force, e);
	if (r == -EBUSY && e && *e) {
		char *why = xstrdup((*e)->msg);
		err_make(e, EBUSY, "%s; write force to evict them anyway", why);
		free(why);
	}
	return r < 0 ? r : 0;
}

struct data_arg {
	const char *key;
	json_t *value;
};

static int data_mutate(json_t *obj, void *varg, struct err **e)
{
	struct data_arg *a = varg;
	json_t *data = json_object_get(obj, "data");
	if (!json_is_object(data)) {
		data = json_object();
		json_object_set_new(obj, "data", data);
	}
	if (a->value)
		json_object_set(data, a->key, a->value);
	else
		json_object_del(data, a->key);
	return 0;
}

static int w_data_key(struct view *v, const struct vpath *p, const char *data, size_t len,
		      struct err **e)
{
	json_t *val = json_stringn(data, len);
	if (!val)
		return err_make(e, EINVAL, "ConfigMap \"%s\": data.%s: the value is not UTF-8 text",
				p->name, p->key);
	struct data_arg a = {p->key, val};
	int r = api_patch(view_api(v), p->k, p->ns, p->name, data_mutate, &a, e);
	json_decref(val);
	return r;
}

/* secrets/NAME/KEY: the decoded value of data[KEY]; a write stores it
 * base64-encoded. */
static void r_secret_key(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	const char *s = json_string_value(json_object_get(json_object_get(o->obj, "data"), key));
	size_t n;
	char *val = s ? b64_decode(s, &n) : NULL;
	if (val)
		buf_add(out, val, n);
	free(val);
}

static int w_secret_key(struct view *v, const struct vpath *p, const char *data, size_t len,
			struct err **e)
{
	char *enc = b64_encode(data, len);
	json_t *val = json_string(enc);
	struct data_arg a = {p->key, val};
	int r = api_patch(view_api(v), p->k, p->ns, p->name, data_mutate, &a, e);
	json_decref(val);
	free(enc);
	return r;
}

int view_secret_key_remove(struct view *v, const struct vpath *p, struct err **e)
{
	struct data_arg a = {p->key, NULL};
	return api_patch(view_api(v), p->k, p->ns, p->name, data_mutate, &a, e);
}

static const struct vfield deployment_fields[] = {
    {.name = "replicas", .mode = RW, .render = r_replicas, .own = true, .write = w_replicas},
    {.name = "status", .mode = RO, .render = r_status, .own = true},
    {.name = "revision", .mode = RO, .render = r_revision, .own = true},
    {.name = "history",
     .mode = DIR,
     .render = vd_history_render,
     .list = vd_history_list,
     .has = vd_history_has},
    {.name = "rollback", .mode = RW, .render = vd_rollback_render, .write = vd_rollback_write},
    {.name = "rollout", .mode = RO, .render = vd_rollout_render},
    {.name = "pods", .mode = RO, .render = r_pods},
    {.name = "events", .mode = RO, .render = r_events},
    {.name = NULL},
};

static const struct vfield replicaset_fields[] = {
    {.name = "replicas", .mode = RW, .render = r_replicas, .own = true, .write = w_replicas},
    {.name = "status", .mode = RO, .render = r_status, .own = true},
    {.name = "pods", .mode = RO, .render = r_pods},
    {.name = "events", .mode = RO, .render = r_events},
    {.name = NULL},
};

/* The files of pods/NAME/containers/C/ (the key is C). */
static const struct vfield container_files[] = {
    {.name = "logs", .mode = RO, .log = 1 + PODLOG_CURRENT},
    {.name = "logs.previous", .mode = RO, .log = 1 + PODLOG_PREVIOUS},
    {.name = "status", .mode = RO, .render = r_ctr_status, .own = true},
    {.name = "restarts", .mode = RO, .render = r_ctr_restarts, .own = true},
    {.name = NULL},
};

static const struct vfield pod_fields[] = {
    {.name = "phase", .mode = RO, .render = r_phase, .own = true},
    {.name = "node", .mode = RO, .render = r_node, .own = true},
    {.name = "ip", .mode = RO, .render = r_ip, .own = true},
    {.name = "status", .mode = RO, .render = r_status, .own = true},
    {.name = "logs", .mode = RO, .log = 1 + PODLOG_CURRENT}, /* spec.containers[0] */
    {.name = "containers",
     .mode = DIR,
     .list = l_containers,
     .has = has_container,
     .sub = container_files,
     .own = true},
    {.name = "events", .mode = RO, .render = r_events},
    {.name = "usage", .mode = RO, .render = view_usage_pod},
    {.name = NULL},
};

static const struct vfield service_fields[] = {
    {.name = "clusterip", .mode = RO, .render = view_svc_clusterip, .own = true},
    {.name = "endpoints", .mode = RO, .render = view_svc_endpoints},
    {.name = "status", .mode = RO, .render = view_svc_status},
    {.name = "events", .mode = RO, .render = r_events},
    {.name = NULL},
};

static const struct vfield node_fields[] = {
    {.name = "status", .mode = RO, .render = r_status, .own = true},
    {.name = "capacity", .mode = RO, .render = r_capacity, .own = true},
    {.name = "allocatable", .mode = RO, .render = r_allocatable, .own = true},
    {.name = "pods", .mode = RO, .render = r_pods},
    {.name = "unschedulable",
     .mode = RW,
     .render = r_unschedulable,
     .own = true,
     .write = w_unschedulable},
    {.name = "drain", .mode = RW, .render = r_drain, .write = w_drain},
    {.name = "events", .mode = RO, .render = r_events},
    {.name = "usage", .mode = RO, .render = view_usage_node},
    {.name = NULL},
};

static const struct vfield configmap_fields[] = {
    {.name = "data",
     .mode = DIR,
     .render = r_data_key,
     .write = w_data_key,
     .own = true,
     .list = l_data,
     .has = has_data_key},
    {.name = "events", .mode = RO, .render = r_events},
    {.name = NULL},
};

/* secrets/NAME/ holds the keys themselves (view_parse maps any name to it). */
static const struct vfield secret_fields[] = {
    {.name = "*",
     .mode = DIR,
     .render = r_secret_key,
     .write = w_secret_key,
     .list = l_data,
     .has = has_data_key},
    {.name = NULL},
};

static const struct vfield namespace_fields[] = {
    {.name = "status", .mode = RO, .render = r_ns_phase, .own = true},
    {.name = "apply", .mode = S_IFREG | 0200, .render = r_nothing, .write = w_ns_apply},
    {.name = "events", .mode = RO, .render = r_ns_events},
    {.name = NULL},
};

const struct vfield *vf_fields_of(const struct kind_info *k)
{
	static const struct {
		const char *kind;
		const struct vfield *f;
	} t[] = {
	    {"Deployment", deployment_fields},
	    {"ReplicaSet", replicaset_fields},
	    {"Pod", pod_fields},
	    {"Service", service_fields},
	    {"Node", node_fields},
	    {"ConfigMap", configmap_fields},
	    {"Namespace", namespace_fields},
	    {"Secret", secret_fields},
	    {"HorizontalPodAutoscaler", view_hpa_fields},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(t[i].kind, k->kind))
			return t[i].f;
	return NULL;
}

/* Does the folder field p name hold p->key now? */
bool view_is_stream(const struct vpath *p)
{
	return p->type == V_FIELD && p->field->render == vd_rollout_render;
}
