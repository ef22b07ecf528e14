/*
 * view.c - the tree of /cluster, computed from the API.  See view.h.
 *
 *     $ ls /cluster
 *     README  apply  configmaps  deployments  errors  events  namespaces
 *     nodes  pods  replicasets  services  status
 *     $ ls /cluster/deployments
 *     web  web.yaml
 *     $ cat /cluster/deployments/web/replicas
 *     3
 */
#include "fs/view.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/valid/codec.h"
#include "engine/log.h"
#include "engine/controllers/nodelife.h"
#include "engine/obj.h"
#include "fs/container.h"
#include "fs/podlog.h"
#include "fs/view_deploy.h"
#include "fs/view_svc.h"

/* Fields: the files inside NAME/ */

typedef void (*render_fn)(struct view *v, const struct sobj *o, const char *key, struct buf *out);
typedef int (*write_fn)(struct view *v, const struct vpath *p, const char *data, size_t len,
			struct err **e);
typedef void (*list_fn)(struct view *v, const struct sobj *o, struct vdir *out);
typedef bool (*has_fn)(struct view *v, const struct sobj *o, const char *key);

struct vfield {
	const char *name;
	mode_t mode;     /* S_IFREG|0444, S_IFREG|0644 or S_IFDIR|0755 */
	render_fn render;
	write_fn write;  /* rw files */
	list_fn list;    /* folders: their keys */
	has_fn has;      /* folders: is KEY one of them now? (NULL: any name) */
	const struct vfield *sub; /* folders whose KEYs are folders: the files in KEY/ */
	int log;         /* 0, or 1 + enum podlog_role: a container's live log */
};

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
	int n = api_list(v->api, KIND_POD, node ? NULL : o->ns, NULL, &pods, NULL);
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

static void r_events(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	struct sobj **evs;
	int n = api_list(v->api, KIND_EVENT, *o->ns ? o->ns : "default", NULL, &evs,
			 NULL);
	if (n <= 0)
		return;
	size_t kept = 0;
	for (int i = 0; i < n; i++) {
		const json_t *io = json_object_get(evs[i]->obj, "involvedObject");
		const char *k = json_string_value(json_object_get(io, "kind"));
		const char *nm = json_string_value(json_object_get(io, "name"));
		if (k && nm && !strcmp(k, o->kind) && !strcmp(nm, o->name))
			evs[kept++] = evs[i];
		else
			sobj_unref(evs[i]);
	}
	qsort(evs, kept, sizeof(*evs), cmp_events);
	for (size_t i = 0; i < kept; i++)
		feed_event_line(evs[i]->obj, out);
	sobj_list_free(evs, kept);
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
	json_t *value;    /* borrowed */
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

static int w_replicas(struct view *v, const struct vpath *p, const char *data, size_t len,
		      struct err **e)
{
	int64_t n = 0;
	char what[300];
	snprintf(what, sizeof(what), "%s \"%s\": replicas", p->k->kind, p->name);
	int r = parse_int_value(data, len, what, &n, e);
	if (r < 0)
		return r;
	if (n < 0 || n > INT32_MAX)
		return err_make(e, EINVAL, "%s: Invalid value: %" PRId64 ": must be between 0 and %d",
				what, n, INT32_MAX);
	json_t *val = json_integer(n);
	struct set_arg a = { "spec.replicas", val };
	r = api_patch(v->api, p->k, p->ns, p->name, set_mutate, &a, e);
	json_decref(val);
	return r;
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
	struct set_arg a = { "spec.unschedulable", on ? json_true() : NULL };
	return api_patch(v->api, p->k, p->ns, p->name, set_mutate, &a, e);
}

/* drain reads 1 once the node is cordoned and holds no pods. */
static void r_drain(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	bool drained = json_is_true(obj_at(o->obj, "spec.unschedulable"));
	if (drained) {
		struct buf pods = { 0 };
		r_pods(v, o, NULL, &pods);
		drained = pods.len == 0;
		buf_free(&pods);
	}
	buf_puts(out, drained ? "1\n" : "0\n");
}

static int w_drain(struct view *v, const struct vpath *p, const char *data, size_t len,
		   struct err **e)
{
	int64_t n = 0;
	char what[300];
	snprintf(what, sizeof(what), "Node \"%s\": drain", p->name);
	int r = parse_int_value(data, len, what, &n, e);
	if (r < 0)
		return r;
	if (n != 1)
		return err_make(e, EINVAL, "%s: write 1 to cordon the node and evict its pods (got %lld)",
				what, (long long)n);
	r = nodelife_drain(v->api, p->name, e);
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
	json_object_set(data, a->key, a->value);
	return 0;
}

static int w_data_key(struct view *v, const struct vpath *p, const char *data, size_t len,
		      struct err **e)
{
	json_t *val = json_stringn(data, len);
	if (!val)
		return err_make(e, EINVAL, "ConfigMap \"%s\": data.%s: the value is not UTF-8 text",
				p->name, p->key);
	struct data_arg a = { p->key, val };
	int r = api_patch(v->api, p->k, p->ns, p->name, data_mutate, &a, e);
	json_decref(val);
	return r;
}

#define RO (S_IFREG | 0444)
#define RW (S_IFREG | 0644)
#define DIR (S_IFDIR | 0755)

static const struct vfield deployment_fields[] = {
	{ .name = "replicas", .mode = RW, .render = r_replicas, .write = w_replicas },
	{ .name = "status", .mode = RO, .render = r_status },
	{ .name = "revision", .mode = RO, .render = r_revision },
	{ .name = "history",
	  .mode = DIR,
	  .render = vd_history_render,
	  .list = vd_history_list,
	  .has = vd_history_has },
	{ .name = "rollback", .mode = RW, .render = vd_rollback_render, .write = vd_rollback_write },
	{ .name = "rollout", .mode = RO, .render = vd_rollout_render },
	{ .name = "pods", .mode = RO, .render = r_pods },
	{ .name = "events", .mode = RO, .render = r_events },
	{ .name = NULL },
};

static const struct vfield replicaset_fields[] = {
	{ .name = "replicas", .mode = RW, .render = r_replicas, .write = w_replicas },
	{ .name = "status", .mode = RO, .render = r_status },
	{ .name = "pods", .mode = RO, .render = r_pods },
	{ .name = "events", .mode = RO, .render = r_events },
	{ .name = NULL },
};

/* The files of pods/NAME/containers/C/ (the key is C). */
static const struct vfield container_files[] = {
	{ .name = "logs", .mode = RO, .log = 1 + PODLOG_CURRENT },
	{ .name = "logs.previous", .mode = RO, .log = 1 + PODLOG_PREVIOUS },
	{ .name = "status", .mode = RO, .render = r_ctr_status },
	{ .name = "restarts", .mode = RO, .render = r_ctr_restarts },
	{ .name = NULL },
};

static const struct vfield pod_fields[] = {
	{ .name = "phase", .mode = RO, .render = r_phase },
	{ .name = "node", .mode = RO, .render = r_node },
	{ .name = "ip", .mode = RO, .render = r_ip },
	{ .name = "status", .mode = RO, .render = r_status },
	{ .name = "logs", .mode = RO, .log = 1 + PODLOG_CURRENT }, /* spec.containers[0] */
	{ .name = "containers",
	  .mode = DIR,
	  .list = l_containers,
	  .has = has_container,
	  .sub = container_files },
	{ .name = "events", .mode = RO, .render = r_events },
	{ .name = NULL },
};

static const struct vfield service_fields[] = {
	{ .name = "clusterip", .mode = RO, .render = view_svc_clusterip },
	{ .name = "endpoints", .mode = RO, .render = view_svc_endpoints },
	{ .name = "status", .mode = RO, .render = view_svc_status },
	{ .name = "events", .mode = RO, .render = r_events },
	{ .name = NULL },
};

static const struct vfield node_fields[] = {
	{ .name = "status", .mode = RO, .render = r_status },
	{ .name = "capacity", .mode = RO, .render = r_capacity },
	{ .name = "allocatable", .mode = RO, .render = r_allocatable },
	{ .name = "pods", .mode = RO, .render = r_pods },
	{ .name = "unschedulable", .mode = RW, .render = r_unschedulable, .write = w_unschedulable },
	{ .name = "drain", .mode = RW, .render = r_drain, .write = w_drain },
	{ .name = "events", .mode = RO, .render = r_events },
	{ .name = NULL },
};

static const struct vfield configmap_fields[] = {
	{ .name = "data",
	  .mode = DIR,
	  .render = r_data_key,
	  .write = w_data_key,
	  .list = l_data,
	  .has = has_data_key },
	{ .name = "events", .mode = RO, .render = r_events },
	{ .name = NULL },
};

static const struct vfield namespace_fields[] = {
	{ .name = "status", .mode = RO, .render = r_ns_phase },
	{ .name = NULL },
};

static const struct vfield *fields_of(const struct kind_info *k)
{
	static const struct {
		const char *kind;
		const struct vfield *f;
	} t[] = {
		{ "Deployment", deployment_fields }, { "ReplicaSet", replicaset_fields },
		{ "Pod", pod_fields },               { "Service", service_fields },
		{ "Node", node_fields },             { "ConfigMap", configmap_fields },
		{ "Namespace", namespace_fields },
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

/* Directory listings */

void vdir_add(struct vdir *d, const char *name, mode_t mode)
{
	d->v = xrealloc(d->v, (d->n + 1) * sizeof(*d->v));
	d->v[d->n].name = xstrdup(name);
	d->v[d->n].mode = mode;
	d->n++;
}

void vdir_free(struct vdir *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].name);
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

/* Path parsing */

static const char *const rootfile_names[RF_COUNT] = { "README", "status", "apply", "errors",
						      "events" };

bool view_is_scratch_name(const char *name, bool in_kind_dir)
{
	size_t n = strlen(name);
	if (n == 0)
		return false;
	if (name[0] == '.' || name[0] == '#' || name[n - 1] == '~' || name[n - 1] == '#')
		return true;
	if (strspn(name, "0123456789") == n) /* vim's 4913 probe */
		return true;
	if (n == 9 && !strncmp(name, "sed", 3)) /* sed -i: sedXXXXXX */
		return true;
	static const char *const suffixes[] = { ".swp", ".swx", ".tmp", ".bak", ".orig", ".new" };
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t sl = strlen(suffixes[i]);
		if (n > sl && !strcmp(name + n - sl, suffixes[i]))
			return true;
	}
	/* In a kind folder, anything that is not NAME.yaml is scratch. */
	return in_kind_dir && !(n > 5 && !strcmp(name + n - 5, ".yaml"));
}

static int copy_name(char *dst, size_t cap, const char *src, size_t n)
{
	if (n == 0 || n >= cap)
		return -ENOENT;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

int view_parse(const char *path, struct vpath *p)
{
	memset(p, 0, sizeof(*p));
	p->type = V_ROOT;
	const char *s = path;
	while (*s) {
		const char *slash = strchr(s, '/');
		size_t n = slash ? (size_t)(slash - s) : strlen(s);
		char comp[256];
		if (copy_name(comp, sizeof(comp), s, n) < 0)
			return -ENOENT;
		s += n + (slash ? 1 : 0);
		bool last = !*s;
		switch (p->type) {
		case V_ROOT:
			for (int i = 0; i < RF_COUNT; i++) {
				if (!strcmp(comp, rootfile_names[i])) {
					p->type = V_ROOTFILE;
					p->rootfile = (enum rootfile)i;
				}
			}
			if (p->type == V_ROOTFILE)
				break;
			p->k = kind_by_plural(comp);
			if (!p->k || !p->k->in_fs)
				return -ENOENT;
			p->type = V_KINDDIR;
			strcpy(p->ns, p->k->namespaced ? "default" : "");
			break;
		case V_KINDDIR: {
			p->scratch_ok = true;
			if (n > 5 && !strcmp(comp + n - 5, ".yaml") && comp[0] != '.') {
				p->type = V_OBJYAML;
				comp[n - 5] = '\0';
			} else {
				p->type = V_OBJDIR;
			}
			strcpy(p->name, comp);
			if (p->k == KIND_NAMESPACE)
				strcpy(p->ns, "");
			break;
		}
		case V_OBJDIR: {
			p->scratch_ok = view_is_scratch_name(comp, false);
			if (p->k == KIND_NAMESPACE) {
				const struct kind_info *k2 = kind_by_plural(comp);
				if (k2 && k2->in_fs && k2->namespaced) {
					p->type = V_KINDDIR;
					p->k = k2;
					snprintf(p->ns, sizeof(p->ns), "%s", p->name);
					p->name[0] = '\0';
					p->scratch_ok = false;
					break;
				}
			}
			const struct vfield *f = fields_of(p->k);
			for (; f && f->name; f++)
				if (!strcmp(f->name, comp))
					break;
			if (f && f->name) {
				p->type = V_FIELD;
				p->field = f;
				p->scratch_ok = false;
			} else {
				p->type = V_OTHER;
			}
			break;
		}
		case V_FIELD: {
			if (!S_ISDIR(p->field->mode) || p->sub)
				return -ENOENT;
			if (!p->key[0]) {
				strcpy(p->key, comp);
				p->scratch_ok = !p->field->sub && view_is_scratch_name(comp, false);
				break;
			}
			const struct vfield *f = p->field->sub;
			for (; f && f->name; f++)
				if (!strcmp(f->name, comp))
					break;
			if (!f || !f->name)
				return -ENOENT;
			p->sub = f;
			p->scratch_ok = false;
			break;
		}
		default:
			return -ENOENT;
		}
		if (p->type == V_ROOTFILE && !last)
			return -ENOENT;
		if (p->type == V_OTHER && !last)
			return -ENOENT;
		if (p->type == V_OBJYAML && !last)
			return -ENOENT;
	}
	return 0;
}

/* Rendering */

static struct sobj *object_of(struct view *v, const struct vpath *p)
{
	return api_get(v->api, p->k, p->ns, p->name);
}

#define LOG_READ_MAX (16 * 1024 * 1024) /* view_read of a log: renames to scratch */

/* The file p names inside a field: FIELD, FIELD/KEY or FIELD/KEY/FILE. */
static const struct vfield *file_of(const struct vpath *p)
{
	return p->sub ? p->sub : p->field;
}

/* Is p (a V_FIELD) a folder: FIELD/ or FIELD/KEY/? */
static bool field_is_dir(const struct vpath *p)
{
	if (!S_ISDIR(p->field->mode))
		return false;
	return !p->key[0] || (p->field->sub && !p->sub);
}

/* Does p's KEY, if any, exist in o now? */
static bool key_exists(struct view *v, const struct vpath *p, const struct sobj *o)
{
	return !p->key[0] || !p->field->has || p->field->has(v, o, p->key);
}

/* The folder of the log file p names (p is one: file_of(p)->log), or NULL. */
static char *log_dir_of(struct view *v, const struct vpath *p, const struct sobj *o)
{
	const char *c = p->sub ? p->key : container_first(o->obj);
	return podlog_dir_new(v->logs_dir, obj_str(o->obj, "metadata.uid"), c);
}

int view_log(struct view *v, const struct vpath *p, char **dir, enum podlog_role *role)
{
	if (p->type != V_FIELD || !file_of(p)->log)
		return 0;
	struct sobj *o = object_of(v, p);
	if (!o)
		return -ENOENT;
	if (!key_exists(v, p, o)) {
		sobj_unref(o);
		return -ENOENT;
	}
	*dir = log_dir_of(v, p, o);
	*role = (enum podlog_role)(file_of(p)->log - 1);
	sobj_unref(o);
	return 1;
}

static void object_yaml(struct view *v, const struct sobj *o, struct buf *out);

static const char readme_text[] =
	"clusterfs: a Kubernetes-style cluster you drive with files.\n"
	"\n"
	"  status        cluster summary: nodes, pods by phase, warnings\n"
	"  apply         write any YAML here (several documents, any kinds) to apply it\n"
	"  errors        the latest refused writes, newest last: time, path, reason\n"
	"  events        cluster events, one a line; tail -f follows\n"
	"  deployments/ replicasets/ pods/ services/ endpoints/ configmaps/\n"
	"                objects of namespace \"default\"; other namespaces are\n"
	"                under namespaces/NS/; nodes/ are cluster-wide\n"
	"\n"
	"Each object is NAME.yaml (the whole object; write it to create or\n"
	"update, rm it to delete) and NAME/ (one value a file, for scripts).\n"
	"\n"
	"  cp web.yaml /cluster/deployments/           create or update\n"
	"  echo 5 > /cluster/deployments/web/replicas  scale\n"
	"  sed -i 's/nginx:1.25/nginx:1.26/' /cluster/deployments/web.yaml\n"
	"  tail -f /cluster/pods/NAME/logs             follow a pod's log\n"
	"  mkdir /cluster/namespaces/prod              new namespace\n"
	"  rm /cluster/deployments/web.yaml            delete, with its pods\n"
	"  cat /cluster/errors                         why a write was refused\n";

static bool node_ready(const json_t *node)
{
	size_t i;
	json_t *c;
	json_array_foreach(obj_at(node, "status.conditions"), i, c)
	{
		const char *t = json_string_value(json_object_get(c, "type"));
		const char *s = json_string_value(json_object_get(c, "status"));
		if (t && s && !strcmp(t, "Ready"))
			return !strcmp(s, "True");
	}
	return false;
}

static void render_status(struct view *v, struct buf *out)
{
	struct sobj **l;
	int n = api_list(v->api, KIND_NODE, NULL, NULL, &l, NULL);
	int ready = 0;
	for (int i = 0; i < n; i++)
		ready += node_ready(l[i]->obj);
	buf_printf(out, "nodes:        %d ready, %d not ready\n", ready, n - ready);
	if (n > 0)
		sobj_list_free(l, (size_t)n);

	static const char *const phases[] = { "Pending", "Running", "Succeeded", "Failed",
					      "Unknown" };
	int counts[5] = { 0 };
	n = api_list(v->api, KIND_POD, NULL, NULL, &l, NULL);
	for (int i = 0; i < n; i++) {
		const char *ph = json_string_value(obj_at(l[i]->obj, "status.phase"));
		int j = 0;
		while (j < 4 && (!ph || strcmp(ph, phases[j])))
			j++;
		counts[ph ? j : 0]++;
	}
	buf_printf(out, "pods:         %d (", n > 0 ? n : 0);
	for (int j = 0; j < 5; j++)
		buf_printf(out, "%s%d %s", j ? ", " : "", counts[j], phases[j]);
	buf_puts(out, ")\n");
	if (n > 0)
		sobj_list_free(l, (size_t)n);

	n = api_list(v->api, KIND_DEPLOYMENT, NULL, NULL, &l, NULL);
	int avail = 0;
	for (int i = 0; i < n; i++) {
		int64_t want = json_integer_value(obj_at(l[i]->obj, "spec.replicas"));
		int64_t have = json_integer_value(obj_at(l[i]->obj, "status.availableReplicas"));
		avail += have >= want;
	}
	buf_printf(out, "deployments:  %d (%d fully available)\n", n > 0 ? n : 0, avail);
	if (n > 0)
		sobj_list_free(l, (size_t)n);
	static const char *const others[] = { "ReplicaSet", "Service", "ConfigMap", "Namespace" };
	static const char *const labels[] = { "replicasets: ", "services:    ", "configmaps:  ",
					      "namespaces:  " };
	for (int j = 0; j < 4; j++) {
		n = api_list(v->api, kind_by_kind(others[j]), NULL, NULL, &l, NULL);
		buf_printf(out, "%s %d\n", labels[j], n > 0 ? n : 0);
		if (n > 0)
			sobj_list_free(l, (size_t)n);
	}
	buf_printf(out, "revision:     %" PRId64 "\n", api_rev(v->api));
	size_t elen;
	char *errs = feed_dup(v->errors, &elen);
	if (elen == 0) {
		buf_puts(out, "warnings:     none\n");
	} else {
		int lines = 0;
		for (size_t i = 0; i < elen; i++)
			lines += errs[i] == '\n';
		char *last = errs + elen - 1;
		while (last > errs && last[-1] != '\n')
			last--;
		buf_printf(out, "warnings:     %d refused write%s (cat errors); last: %s", lines,
			   lines == 1 ? "" : "s", last);
	}
	free(errs);
}

int view_read(struct view *v, const struct vpath *p, struct buf *out)
{
	switch (p->type) {
	case V_ROOTFILE:
		switch (p->rootfile) {
		case RF_README:
			buf_puts(out, readme_text);
			return 0;
		case RF_STATUS: {
			int64_t rev = api_rev(v->api);
			size_t errs = feed_size(v->errors);
			pthread_mutex_lock(&v->status_lock);
			if (!v->status_text || v->status_rev != rev || v->status_errs != errs) {
				pthread_mutex_unlock(&v->status_lock);
				struct buf b = { 0 };
				render_status(v, &b);
				char *text = buf_steal(&b, NULL);
				pthread_mutex_lock(&v->status_lock);
				free(v->status_text);
				v->status_text = text;
				v->status_rev = rev;
				v->status_errs = errs;
			}
			buf_puts(out, v->status_text);
			pthread_mutex_unlock(&v->status_lock);
			return 0;
		}
		case RF_APPLY:
			return 0;
		case RF_ERRORS:
		case RF_EVENTS: {
			size_t n;
			char *s = feed_dup(p->rootfile == RF_ERRORS ? v->errors : v->events, &n);
			buf_add(out, s, n);
			free(s);
			return 0;
		}
		default:
			return -ENOENT;
		}
	case V_OBJYAML: {
		struct sobj *o = object_of(v, p);
		if (!o)
			return -ENOENT;
		object_yaml(v, o, out);
		sobj_unref(o);
		return 0;
	}
	case V_FIELD: {
		if (field_is_dir(p))
			return -EISDIR;
		struct sobj *o = object_of(v, p);
		if (!o)
			return -ENOENT;
		int r = 0;
		if (!key_exists(v, p, o)) {
			r = -ENOENT;
		} else if (file_of(p)->log) {
			char *dir = log_dir_of(v, p, o);
			r = podlog_read_all(dir, (enum podlog_role)(file_of(p)->log - 1), LOG_READ_MAX,
					    out);
			free(dir);
		} else {
			file_of(p)->render(v, o, p->key, out);
		}
		sobj_unref(o);
		return r;
	}
	default:
		return -EISDIR;
	}
}

/* NAME.yaml texts, cached by revision */

#define YAML_CACHE_MAX 20000 /* entries; cleared when full */

struct yaml_entry {
	int64_t rv;
	char *text;
	size_t len;
};

static void yaml_entry_free(void *p)
{
	struct yaml_entry *y = p;
	free(y->text);
	free(y);
}

/* Appends the YAML of o to out, from the cache when o's revision is there. */
static void object_yaml(struct view *v, const struct sobj *o, struct buf *out)
{
	char *key = xasprintf("%s/%s/%s", o->kind, o->ns, o->name);
	pthread_mutex_lock(&v->yaml_lock);
	struct yaml_entry *y = hmap_get(&v->yaml_cache, key);
	if (y && y->rv == o->rv) {
		buf_add(out, y->text, y->len);
		pthread_mutex_unlock(&v->yaml_lock);
		free(key);
		return;
	}
	pthread_mutex_unlock(&v->yaml_lock);
	size_t len;
	char *text = codec_yaml(o->obj, &len);
	buf_add(out, text, len);
	struct yaml_entry *n = xmalloc(sizeof(*n));
	n->rv = o->rv;
	n->text = text;
	n->len = len;
	pthread_mutex_lock(&v->yaml_lock);
	if (hmap_len(&v->yaml_cache) >= YAML_CACHE_MAX)
		hmap_clear(&v->yaml_cache, yaml_entry_free);
	struct yaml_entry *old = hmap_set(&v->yaml_cache, key, n);
	pthread_mutex_unlock(&v->yaml_lock);
	if (old)
		yaml_entry_free(old);
	free(key);
}

void view_free_caches(struct view *v)
{
	hmap_clear(&v->yaml_cache, yaml_entry_free);
	free(v->status_text);
	v->status_text = NULL;
}

/* Stat */

static void fill(struct stat *st, mode_t mode, size_t size, int64_t mtime_ns)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = mode;
	st->st_nlink = S_ISDIR(mode) ? 2 : 1;
	st->st_size = (off_t)size;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((size + 511) / 512);
	st->st_mtim.tv_sec = mtime_ns / 1000000000;
	st->st_mtim.tv_nsec = mtime_ns % 1000000000;
	st->st_ctim = st->st_mtim;
	st->st_atim = st->st_mtim;
}

static int64_t kinddir_mtime(struct view *v, const struct vpath *p)
{
	int64_t t = store_mtime(api_store(v->api), p->k->kind, p->k->namespaced ? p->ns : "");
	return t > v->start_ns ? t : v->start_ns;
}

int view_stat(struct view *v, const struct vpath *p, struct stat *st)
{
	struct buf b = { 0 };
	switch (p->type) {
	case V_ROOT:
		fill(st, DIR, 0, v->start_ns);
		return 0;
	case V_ROOTFILE:
		switch (p->rootfile) {
		case RF_APPLY:
			fill(st, S_IFREG | 0200, 0, v->start_ns);
			return 0;
		case RF_ERRORS:
			fill(st, RO, feed_size(v->errors), feed_mtime_ns(v->errors));
			return 0;
		case RF_EVENTS:
			fill(st, RO, feed_size(v->events), feed_mtime_ns(v->events));
			return 0;
		default:
			view_read(v, p, &b);
			fill(st, RO, b.len, p->rootfile == RF_STATUS ? feed_mtime_ns(v->events) : v->start_ns);
			if (p->rootfile == RF_STATUS) {
				struct timespec ts;
				clock_gettime(CLOCK_REALTIME, &ts);
				st->st_mtim = ts;
			}
			buf_free(&b);
			return 0;
		}
	case V_KINDDIR:
		if (p->k->namespaced && strcmp(p->ns, "default")) {
			struct sobj *ns = api_get(v->api, KIND_NAMESPACE, "", p->ns);
			if (!ns)
				return -ENOENT;
			sobj_unref(ns);
		}
		fill(st, DIR, 0, kinddir_mtime(v, p));
		return 0;
	case V_OBJYAML:
	case V_OBJDIR:
	case V_FIELD: {
		struct sobj *o = object_of(v, p);
		if (!o)
			return -ENOENT;
		int r = 0;
		struct stat ls;
		if (p->type == V_OBJDIR) {
			fill(st, DIR, 0, o->mtime_ns);
		} else if (p->type == V_OBJYAML) {
			object_yaml(v, o, &b);
			fill(st, RW, b.len, o->mtime_ns);
		} else if (!key_exists(v, p, o)) {
			r = -ENOENT;
		} else if (field_is_dir(p)) {
			fill(st, DIR, 0, o->mtime_ns);
		} else if (file_of(p)->log) {
			/* The real file's size and mtime: tail -f polls them. */
			char *dir = log_dir_of(v, p, o);
			if (podlog_stat(dir, (enum podlog_role)(file_of(p)->log - 1), &ls) == 0)
				fill(st, RO, (size_t)ls.st_size,
				     (int64_t)ls.st_mtim.tv_sec * 1000000000 + ls.st_mtim.tv_nsec);
			else
				fill(st, RO, 0, o->mtime_ns);
			free(dir);
		} else {
			file_of(p)->render(v, o, p->key, &b);
			mode_t mode = p->sub	 ? p->sub->mode
				      : p->key[0] ? (p->field->write ? RW : RO)
						  : p->field->mode;
			fill(st, mode, b.len, o->mtime_ns);
		}
		buf_free(&b);
		sobj_unref(o);
		return r;
	}
	default:
		return -ENOENT;
	}
}

bool view_writable(const struct vpath *p)
{
	switch (p->type) {
	case V_OBJYAML:
		return true;
	case V_ROOTFILE:
		return p->rootfile == RF_APPLY;
	case V_FIELD:
		return !field_is_dir(p) && file_of(p)->write;
	default:
		return false;
	}
}

/* Writes */

static int write_manifest(struct view *v, const struct vpath *p, const char *data, size_t len,
			  struct err **e)
{
	json_t **docs;
	size_t n;
	int r = codec_decode(data, len, &docs, &n, e);
	if (r < 0)
		return r;
	if (p->type == V_OBJYAML) {
		if (n > 1) {
			codec_docs_free(docs, n);
			return err_make(e, EINVAL,
					"%s.yaml holds one object, got %zu documents (write several to /cluster/apply)",
					p->name, n);
		}
		struct api_target t = { p->k, p->ns, p->name };
		r = api_apply(v->api, docs, n, &t, e);
	} else {
		r = api_apply(v->api, docs, n, NULL, e);
	}
	codec_docs_free(docs, n);
	return r;
}

int view_write(struct view *v, const struct vpath *p, const char *data, size_t len, struct err **e)
{
	if (!view_writable(p))
		return err_make(e, EROFS, "read-only file");
	if (len > CODEC_MAX_BYTES)
		return err_make(e, EFBIG, "a manifest may be at most %d bytes (got %zu)",
				CODEC_MAX_BYTES, len);
	if (p->type == V_FIELD)
		return file_of(p)->write(v, p, data, len, e);
	return write_manifest(v, p, data, len, e);
}

/* Listing */

int view_list(struct view *v, const struct vpath *p, struct vdir *out)
{
	switch (p->type) {
	case V_ROOT:
		for (int i = 0; i < RF_COUNT; i++)
			vdir_add(out, rootfile_names[i], i == RF_APPLY ? S_IFREG | 0200 : RO);
		for (int i = 0; i < kind_count; i++)
			if (kind_table[i].in_fs)
				vdir_add(out, kind_table[i].plural, DIR);
		return 0;
	case V_KINDDIR: {
		struct sobj **l;
		size_t n = store_list(api_store(v->api), p->k->kind, p->k->namespaced ? p->ns : "",
				      &l);
		for (size_t i = 0; i < n; i++) {
			char name[300];
			snprintf(name, sizeof(name), "%s.yaml", l[i]->name);
			vdir_add(out, l[i]->name, DIR);
			vdir_add(out, name, RW);
		}
		sobj_list_free(l, n);
		return 0;
	}
	case V_OBJDIR: {
		struct sobj *o = object_of(v, p);
		if (!o)
			return -ENOENT;
		for (const struct vfield *f = fields_of(p->k); f && f->name; f++)
			vdir_add(out, f->name, f->mode);
		if (p->k == KIND_NAMESPACE)
			for (int i = 0; i < kind_count; i++)
				if (kind_table[i].in_fs && kind_table[i].namespaced)
					vdir_add(out, kind_table[i].plural, DIR);
		sobj_unref(o);
		return 0;
	}
	case V_FIELD: {
		if (!field_is_dir(p))
			return -ENOTDIR;
		struct sobj *o = object_of(v, p);
		if (!o)
			return -ENOENT;
		int r = 0;
		if (!key_exists(v, p, o))
			r = -ENOENT;
		else if (p->key[0])
			for (const struct vfield *f = p->field->sub; f->name; f++)
				vdir_add(out, f->name, f->mode);
		else
			p->field->list(v, o, out);
		sobj_unref(o);
		return r;
	}
	default:
		return -ENOTDIR;
	}
}

/* Deleting and creating */

int view_unlink(struct view *v, const struct vpath *p, struct err **e)
{
	if (p->type == V_OBJYAML) {
		int r = api_delete(v->api, p->k, p->ns, p->name, e);
		return r < 0 ? r : 0;
	}
	if (p->type == V_OBJDIR || (p->type == V_FIELD && field_is_dir(p)))
		return err_make(e, EISDIR, "is a directory");
	if (p->type == V_FIELD && p->key[0] && !p->sub)
		return err_make(e, EPERM, "%s \"%s\": remove a data key by editing %s.yaml",
				p->k->kind, p->name, p->name);
	return err_make(e, EPERM, "this file cannot be removed");
}

int view_rmdir(struct view *v, const struct vpath *p, struct err **e)
{
	if (p->type != V_OBJDIR) {
		if (p->type == V_OBJYAML || p->type == V_ROOTFILE ||
		    (p->type == V_FIELD && !field_is_dir(p)))
			return err_make(e, ENOTDIR, "not a directory");
		return err_make(e, EPERM, "this folder cannot be removed");
	}
	int r = api_delete(v->api, p->k, p->ns, p->name, e);
	return r < 0 ? r : 0;
}

int view_mkdir(struct view *v, const struct vpath *p, struct err **e)
{
	if (p->type != V_OBJDIR || p->k != KIND_NAMESPACE)
		return err_make(e, EPERM,
				"only namespaces are made with mkdir; create other objects by writing NAME.yaml");
	struct sobj *o = object_of(v, p);
	if (o) {
		sobj_unref(o);
		return err_make(e, EEXIST, "namespace \"%s\" already exists", p->name);
	}
	json_t *ns = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Namespace",
			       "metadata", "name", p->name);
	struct api_target t = { KIND_NAMESPACE, NULL, p->name };
	int r = api_apply(v->api, &ns, 1, &t, e);
	json_decref(ns);
	return r < 0 ? r : 0;
}
