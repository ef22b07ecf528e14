/*
 * view_render.c - the content of readable files, rendered from the API now,
 * and the NAME.yaml cache.  See view.h.
 */
#include "fs/view.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "engine/api/api_exec.h"
#include "engine/obj.h"
#include "engine/valid/codec.h"
#include "fs/container.h"
#include "fs/view_int.h"

/* Rendering */

struct sobj *view_object_get(struct view *v, const struct vpath *p)
{
	return api_get(view_api(v), p->k, p->ns, p->name);
}

/* The file p names inside a field: FIELD, FIELD/KEY or FIELD/KEY/FILE. */
const struct vfield *vf_file_of(const struct vpath *p)
{
	return p->sub ? p->sub : p->field;
}

/* Is p (a V_FIELD) a folder: FIELD/ or FIELD/KEY/? */
bool vf_is_dir(const struct vpath *p)
{
	if (!S_ISDIR(p->field->mode))
		return false;
	return !p->key[0] || (p->field->sub && !p->sub);
}

/* Does p's KEY, if any, exist in o now? */
bool vf_key_exists(struct view *v, const struct vpath *p, const struct sobj *o)
{
	return !p->key[0] || !p->field->has || p->field->has(v, o, p->key);
}

/* The folder of the log file p names (p is one: vf_file_of(p)->log), or NULL. */
char *view_log_dir(struct view *v, const struct vpath *p, const struct sobj *o)
{
	const char *c = p->sub ? p->key : container_first(o->obj);
	return api_podlog_dir(v->api, v->logs_dir, o->obj, c);
}

int view_log(struct view *v, const struct vpath *p, char **dir, enum podlog_role *role)
{
	if (p->type != V_FIELD || !vf_file_of(p)->log)
		return 0;
	struct sobj *o = view_object_get(v, p);
	if (!o)
		return -ENOENT;
	if (!vf_key_exists(v, p, o)) {
		sobj_unref(o);
		return -ENOENT;
	}
	*dir = view_log_dir(v, p, o);
	*role = (enum podlog_role)(vf_file_of(p)->log - 1);
	sobj_unref(o);
	return 1;
}

static const char readme_text[] =
    "clusterfs: a Kubernetes-style cluster you drive with files.\n"
    "\n"
    "  status        cluster summary: nodes, pods by phase, warnings\n"
    "  apply         write any YAML here (several documents, any kinds) to apply it\n"
    "  errors        the latest refused writes (and failed reads), newest last: time, path, "
    "reason\n"
    "  events        cluster events, one a line; tail -f follows\n"
    "  top           CPU and memory of every pod, as kubectl top pods -A\n"
    "  deployments/ replicasets/ pods/ services/ endpoints/ configmaps/ secrets/\n"
    "                objects of namespace \"default\"; other namespaces are\n"
    "                under namespaces/NS/ (with their own apply and events);\n"
    "                nodes/ are cluster-wide\n"
    "\n"
    "Each object is NAME.yaml (the whole object; write it to create or\n"
    "update, rm it to delete) and NAME/ (one value a file, for scripts).\n"
    "\n"
    "  cp web.yaml /cluster/deployments/           create or update (the object's\n"
    "                                              name is its metadata.name)\n"
    "  echo 5 > /cluster/deployments/web/replicas  scale\n"
    "  sed -i 's/nginx:1.25/nginx:1.26/' /cluster/deployments/web.yaml\n"
    "  tail -f /cluster/pods/NAME/logs             follow a pod's log\n"
    "  mkdir /cluster/namespaces/prod              new namespace\n"
    "  rm /cluster/deployments/web.yaml            delete, with its pods\n"
    "  cat /cluster/errors                         why a write was refused\n";

/* The README, its examples under the real mount point. */
static void put_readme(const struct view *v, struct buf *out)
{
	const char *m = v->mount ? v->mount : "/cluster";
	for (const char *s = readme_text, *hit; *s; s = hit + 8) {
		hit = strstr(s, "/cluster");
		if (!hit) {
			buf_puts(out, s);
			return;
		}
		buf_add(out, s, (size_t)(hit - s));
		buf_puts(out, m);
	}
}

/* Counts come from api_count: kept by the store as objects change, so
 * that a read costs the same at 30,000 pods as at 3. */
static void render_status(struct view *v, struct buf *out)
{
	size_t cls[OBJ_CLASSES];
	int n = api_count(v->api, KIND_NODE, cls, NULL);
	buf_printf(out, "nodes:        %zu ready, %zu not ready\n", n > 0 ? cls[1] : 0,
		   n > 0 ? (size_t)n - cls[1] : 0);

	static const char *const phases[] = {"Pending", "Running", "Succeeded", "Failed",
					     "Unknown"};
	n = api_count(v->api, KIND_POD, cls, NULL);
	buf_printf(out, "pods:         %d (", n > 0 ? n : 0);
	for (int j = 0; j < 5; j++)
		buf_printf(out, "%s%zu %s", j ? ", " : "", n > 0 ? cls[j] : 0, phases[j]);
	buf_puts(out, ")\n");

	n = api_count(v->api, KIND_DEPLOYMENT, cls, NULL);
	buf_printf(out, "deployments:  %d (%zu fully available)\n", n > 0 ? n : 0,
		   n > 0 ? cls[1] : 0);
	static const struct kind_info *const others[] = {KIND_REPLICASET, KIND_SERVICE,
							 KIND_CONFIGMAP, KIND_NAMESPACE};
	static const char *const labels[] = {
	    "replicasets: ", "services:    ", "configmaps:  ", "namespaces:  "};
	for (int j = 0; j < 4; j++) {
		n = api_count(v->api, others[j], NULL, NULL);
		buf_printf(out, "%s %d\n", labels[j], n > 0 ? n : 0);
	}
	buf_printf(out, "revision:     %" PRId64 "\n", api_rev(v->api));
	int64_t stale = api_stale(v->api, NULL);
	buf_printf(out, "store:        %s", api_store_kind(v->api));
	if (stale) {
		char hms[16];
		time_t t = (time_t)(stale / 1000000000);
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(hms, sizeof(hms), "%H:%M:%S", &tm);
		buf_printf(out, " (unavailable: reads may be stale since %s UTC; cat errors)", hms);
	}
	buf_puts(out, "\n");
	char *leader = api_leader(v->api);
	buf_printf(out, "leader:       %s\n", leader ? leader : "none");
	free(leader);
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
			put_readme(v, out);
			return 0;
		case RF_STATUS: {
			int64_t rev = api_rev(v->api);
			size_t errs = feed_size(v->errors);
			uint64_t lseq = api_leader_seq(v->api);
			pthread_mutex_lock(&v->status_lock);
			uint64_t sseq = api_stale_seq(v->api);
			if (!v->status_text || v->status_rev != rev || v->status_errs != errs ||
			    v->status_leader != lseq || v->status_stale != sseq) {
				pthread_mutex_unlock(&v->status_lock);
				struct buf b = {0};
				render_status(v, &b);
				char *text = buf_steal(&b, NULL);
				pthread_mutex_lock(&v->status_lock);
				free(v->status_text);
				v->status_text = text;
				v->status_rev = rev;
				v->status_errs = errs;
				v->status_leader = lseq;
				v->status_stale = sseq;
			}
			buf_puts(out, v->status_text);
			pthread_mutex_unlock(&v->status_lock);
			return 0;
		}
		case RF_APPLY:
			return 0;
		case RF_TOP:
			view_usage_top(v, out);
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
		struct sobj *o = view_object_get(v, p);
		if (!o)
			return -ENOENT;
		view_object_yaml(v, o, out);
		sobj_unref(o);
		return 0;
	}
	case V_FIELD: {
		if (vf_is_dir(p))
			return -EISDIR;
		struct sobj *o = view_object_get(v, p);
		if (!o)
			return -ENOENT;
		int r = 0;
		if (!vf_key_exists(v, p, o)) {
			r = -ENOENT;
		} else if (vf_file_of(p)->log) {
			char *dir = view_log_dir(v, p, o);
			r = podlog_read_all(dir, (enum podlog_role)(vf_file_of(p)->log - 1),
					    LOG_READ_MAX, out);
			free(dir);
		} else {
			vf_file_of(p)->render(v, o, p->key, out);
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
/* After as many new entries as the cache holds (at least this many), those
 * of objects gone or changed since are dropped (amortized: at most two
 * lookups per entry added): stat of NAME.yaml in a folder whose pods come
 * and go cached a text for each of them up to YAML_CACHE_MAX (issue 16,
 * no growth). */
#define YAML_CACHE_SWEEP 1024

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

/* Drops the entries whose object is gone or at another revision.  Under
 * yaml_lock. */
static void yaml_sweep(struct view *v)
{
	struct hmap keep = {0};
	struct hmap_iter it = {0};
	struct hmap_ent *ent;
	while ((ent = hmap_next(&v->yaml_cache, &it))) {
		struct yaml_entry *y = ent->val;
		char kind[64];
		const char *ns = strchr(ent->key, '/');
		const char *name = ns ? strchr(ns + 1, '/') : NULL;
		const struct kind_info *k = NULL;
		if (name && (size_t)(ns - ent->key) < sizeof(kind)) {
			snprintf(kind, sizeof(kind), "%.*s", (int)(ns - ent->key), ent->key);
			k = kind_by_kind(kind);
		}
		char *nsc = k ? xstrndup(ns + 1, (size_t)(name - ns - 1)) : NULL;
		struct sobj *o = k ? api_get(v->api, k, nsc, name + 1) : NULL;
		if (o && o->rv == y->rv)
			hmap_set(&keep, ent->key, y);
		else
			yaml_entry_free(y);
		sobj_unref(o);
		free(nsc);
	}
	hmap_clear(&v->yaml_cache, NULL);
	v->yaml_cache = keep;
}

/* Appends the YAML of o to out, from the cache when o's revision is there. */
void view_object_yaml(struct view *v, const struct sobj *o, struct buf *out)
{
	static size_t added; /* entries added since the last sweep (atomic) */
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
	size_t since = __atomic_add_fetch(&added, 1, __ATOMIC_RELAXED);
	if (since >= YAML_CACHE_SWEEP && since >= hmap_len(&v->yaml_cache)) {
		yaml_sweep(v);
		__atomic_store_n(&added, 0, __ATOMIC_RELAXED);
	}
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
