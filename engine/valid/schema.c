/*
 * schema.c - see schema.h: lookups in the tables of schema_pod.c,
 * schema_kinds.c and schema_hpa.c, and the walk that finds unknown fields.
 */
#include "engine/valid/schema.h"

#include <stdio.h>
#include <string.h>

#include "engine/mem.h"
#include "engine/valid/hpa.h"
#include "engine/valid/schema_int.h"

size_t schema_count(void)
{
	return schema_kind_ndefs + schema_pod_ndefs + schema_hpa_ndefs;
}

const struct sch_def *schema_at(size_t i)
{
	if (i < schema_kind_ndefs)
		return &schema_kind_defs[i];
	i -= schema_kind_ndefs;
	if (i < schema_pod_ndefs)
		return &schema_pod_defs[i];
	i -= schema_pod_ndefs;
	return i < schema_hpa_ndefs ? &schema_hpa_defs[i] : NULL;
}

const struct sch_def *schema_def(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < schema_count(); i++)
		if (!strcmp(schema_at(i)->name, name))
			return schema_at(i);
	return NULL;
}

const struct sch_def *schema_by_gvk(const char *group, const char *version, const char *kind)
{
	for (size_t i = 0; i < schema_count(); i++) {
		const struct sch_def *d = schema_at(i);
		if (d->kind && !strcmp(d->kind, kind) && !strcmp(d->group, group) &&
		    !strcmp(d->version, version))
			return d;
	}
	return NULL;
}

const struct sch_def *schema_for_kind(const struct kind_info *k, bool list)
{
	char group[64] = "", kind[80];
	const char *slash = strchr(k->api_version, '/');
	const char *version = k->api_version;
	if (slash && (size_t)(slash - k->api_version) < sizeof(group)) {
		memcpy(group, k->api_version, (size_t)(slash - k->api_version));
		group[slash - k->api_version] = '\0';
		version = slash + 1;
	}
	snprintf(kind, sizeof(kind), "%s%s", k->kind, list ? "List" : "");
	return schema_by_gvk(group, version, kind);
}

const struct sch_field *schema_field(const struct sch_def *d, const char *name)
{
	for (size_t i = 0; d && i < d->nfields; i++)
		if (!strcmp(d->fields[i].name, name))
			return &d->fields[i];
	return NULL;
}

const struct sch_def *schema_field_def(const struct sch_field *f)
{
	return f && f->ref ? schema_def(f->ref) : NULL;
}

/* --- unknown fields ------------------------------------------------------- */

struct walk {
	schema_unknown_fn fn;
	void *arg;
	bool skip_status; /* the top level's status is not walked */
	size_t found;
	size_t len;
	char path[512];
};

/* Appends fmt to the path; returns the length to go back to. */
static size_t push(struct walk *w, const char *fmt, const char *s, size_t i)
{
	size_t mark = w->len;
	int n = s ? snprintf(w->path + w->len, sizeof(w->path) - w->len, fmt, s)
		  : snprintf(w->path + w->len, sizeof(w->path) - w->len, fmt, i);
	if (n > 0)
		w->len =
		    w->len + (size_t)n < sizeof(w->path) ? w->len + (size_t)n : sizeof(w->path) - 1;
	return mark;
}

static void pop(struct walk *w, size_t mark)
{
	w->len = mark;
	w->path[mark] = '\0';
}

static void walk_obj(struct walk *w, const json_t *obj, const struct sch_def *d);

/* One value of field f (an element when elem). */
static void walk_value(struct walk *w, const json_t *v, const struct sch_field *f)
{
	const struct sch_def *sub = schema_field_def(f);
	if (!sub)
		return;
	if (f->type == SCH_OBJECT) {
		walk_obj(w, v, sub);
		return;
	}
	if (f->type != SCH_ARRAY || f->item != SCH_OBJECT || !json_is_array(v))
		return;
	size_t i;
	json_t *e;
	json_array_foreach(v, i, e)
	{
		size_t mark = push(w, "[%zu]", NULL, i);
		walk_obj(w, e, sub);
		pop(w, mark);
	}
}

static void walk_obj(struct walk *w, const json_t *obj, const struct sch_def *d)
{
	const char *key;
	json_t *v;
	if (!json_is_object(obj) || !d)
		return;
	json_object_foreach((json_t *)obj, key, v)
	{
		if (!w->len && w->skip_status && !strcmp(key, "status"))
			continue;
		size_t mark = push(w, w->len ? ".%s" : "%s", key, 0);
		const struct sch_field *f = schema_field(d, key);
		if (!f) {
			w->found++;
			if (w->fn)
				w->fn(w->arg, w->path);
		} else if (!json_is_null(v)) {
			walk_value(w, v, f);
		}
		pop(w, mark);
	}
}

size_t schema_unknown(const json_t *obj, const struct sch_def *d, schema_unknown_fn fn, void *arg)
{
	struct walk w = {.fn = fn, .arg = arg};
	walk_obj(&w, obj, d);
	return w.found;
}

struct collect {
	char **out;
	size_t max, n;
};

static void collect(void *arg, const char *path)
{
	struct collect *c = arg;
	if (c->n < c->max)
		c->out[c->n] = xstrdup(path);
	c->n++;
}

size_t schema_unknown_fields(const json_t *obj, const struct kind_info *k, char **out, size_t max)
{
	const struct sch_def *d = k ? schema_for_kind(k, false) : NULL;
	const char *av = json_string_value(json_object_get(obj, "apiVersion"));
	if (d && av && hpa_alt_version(k, av))
		d = schema_by_gvk(d->group, strchr(av, '/') + 1, k->kind);
	if (!d)
		return 0;
	struct collect c = {out, max, 0};
	struct walk w = {.fn = collect, .arg = &c, .skip_status = true};
	walk_obj(&w, obj, d);
	return w.found;
}
