/*
 * patch_apply.c - server-side apply (see patch.h): field sets in
 * Kubernetes' FieldsV1 encoding, per-manager ownership in
 * metadata.managedFields, conflicts and removals.
 *
 * A field set is a FieldsV1 tree: "f:NAME" for a map field, "k:{KEY}" for
 * an element of a keyed list (its "." child: the element itself), "v:VAL"
 * for a value of a set list; a node without children is a leaf, owned
 * whole.  Paths (arrays of those segments) address values in an object.
 *
 * Updates (patch_managed_update) take the fields they change.  Limits:
 * only the writes that call it (the HTTP API's PATCH) record ownership;
 * other writes (the filesystem's, controllers') record none; a keyed
 * list element's identity is the schema's keys it has (containerPort and
 * protocol for container ports; the merge key is required, a key left
 * out, such as a protocol to be defaulted, is left out of the identity
 * too); maps are never atomic (Kubernetes makes a few, such as label
 * selectors, atomic).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine/mem.h"
#include "engine/valid/patch.h"

/* --- building a field set ------------------------------------------------ */

static json_t *fs_map(const json_t *obj, const struct sch_def *d);

/* The "k:{...}" segment of el, an element of a list keyed by keys: all the
 * keys it has (the merge key first, which it must have); NULL if not. */
static char *key_seg(const json_t *el, const char *const *keys)
{
	if (!json_is_object(el) || !json_object_get(el, keys[0]))
		return NULL;
	json_t *id = json_object();
	for (size_t i = 0; keys[i]; i++)
		if (json_object_get(el, keys[i]))
			json_object_set(id, keys[i], json_object_get(el, keys[i]));
	char *s = json_dumps(id, JSON_COMPACT | JSON_PRESERVE_ORDER);
	char *seg = xasprintf("k:%s", s);
	free(s);
	json_decref(id);
	return seg;
}

/* The field set of v, the value of the field the schema row f describes. */
static json_t *fs_value(const json_t *v, const struct sch_field *f)
{
	const struct sch_def *sub = schema_field_def(f);
	if (json_is_object(v))
		return json_object_size(v) ? fs_map(v, f && f->type == SCH_OBJECT ? sub : NULL)
					   : json_object();
	if (!json_is_array(v))
		return json_object();
	const char *const *keys;
	enum patch_list how = patch_list_strategy(f, &keys);
	if (how == PATCH_LIST_ATOMIC)
		return json_object();
	json_t *set = json_object();
	for (size_t i = 0; i < json_array_size(v); i++) {
		json_t *el = json_array_get(v, i);
		if (how == PATCH_LIST_SET) {
			char *s = json_dumps(el, JSON_COMPACT | JSON_ENCODE_ANY);
			char *seg = xasprintf("v:%s", s ? s : "null");
			json_object_set_new(set, seg, json_object());
			free(seg);
			free(s);
			continue;
		}
		char *seg = key_seg(el, keys);
		if (!seg) {
			json_decref(set);
			return json_object(); /* not keyed after all: owned whole */
		}
		json_t *sub_set = fs_map(el, sub);
		json_object_set_new(sub_set, ".", json_object());
		json_object_set_new(set, seg, sub_set);
		free(seg);
	}
	return set;
}

static json_t *fs_map(const json_t *obj, const struct sch_def *d)
{
	json_t *set = json_object();
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)obj, k, v)
	{
		char *seg = xasprintf("f:%s", k);
		json_object_set_new(set, seg, fs_value(v, schema_field(d, k)));
		free(seg);
	}
	return set;
}

/* The parts of a configuration that are owned: not apiVersion, kind,
 * status, nor the identity and server fields of metadata. */
static json_t *owned_part(const json_t *config)
{
	static const char *const meta_skip[] = {
	    "name",	  "namespace",	       "uid",		"resourceVersion",
	    "generation", "creationTimestamp", "managedFields", "deletionTimestamp",
	    "selfLink"};
	json_t *c = json_deep_copy(config);
	json_object_del(c, "apiVersion");
	json_object_del(c, "kind");
	json_object_del(c, "status");
	json_t *md = json_object_get(c, "metadata");
	for (size_t i = 0; json_is_object(md) && i < sizeof(meta_skip) / sizeof(*meta_skip); i++)
		json_object_del(md, meta_skip[i]);
	if (json_is_object(md) && !json_object_size(md))
		json_object_del(c, "metadata");
	return c;
}

json_t *patch_fieldset(const struct sch_def *d, const json_t *config)
{
	json_t *c = owned_part(config);
	json_t *set = fs_map(c, d);
	json_decref(c);
	return set;
}

/* --- paths ------------------------------------------------------------------ */

/* Appends every leaf path of set (prefix: the path so far) to out. */
static void leaves(const json_t *set, json_t *prefix, json_t *out)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)set, k, v)
	{
		json_t *p = json_copy(prefix);
		json_array_append_new(p, json_string(k));
		if (json_object_size(v))
			leaves(v, p, out);
		else
			json_array_append(out, p);
		json_decref(p);
	}
}

static json_t *set_leaves(const json_t *set)
{
	json_t *out = json_array(), *p = json_array();
	leaves(set, p, out);
	json_decref(p);
	return out;
}

/* The node of set at path (or NULL): the path or something under it is owned. */
static json_t *set_node(const json_t *set, const json_t *path)
{
	json_t *cur = (json_t *)set;
	for (size_t i = 0; cur && i < json_array_size(path); i++)
		cur = json_object_get(cur, json_string_value(json_array_get(path, i)));
	return cur;
}

/* Removes path from set, and the nodes it leaves empty. */
static void set_remove(json_t *set, const json_t *path, size_t from)
{
	const char *seg = json_string_value(json_array_get(path, from));
	json_t *child = json_object_get(set, seg);
	if (!child)
		return;
	if (from + 1 < json_array_size(path)) {
		set_remove(child, path, from + 1);
		if (json_object_size(child))
			return;
	}
	json_object_del(set, seg);
}

/* The index of the element of list a segment "k:{...}" or "v:..." names. */
static long seg_index(const json_t *list, const char *seg)
{
	json_t *id = json_loads(seg + 2, JSON_DECODE_ANY, NULL);
	long at = -1;
	for (size_t i = 0; id && at < 0 && i < json_array_size(list); i++) {
		json_t *el = json_array_get(list, i);
		if (seg[0] == 'v') {
			if (patch_equal(el, id))
				at = (long)i;
			continue;
		}
		bool all = json_is_object(el) && json_is_object(id);
		const char *k;
		json_t *v;
		json_object_foreach(id, k, v)
		{
			if (!json_is_object(el) || !patch_equal(v, json_object_get(el, k)))
				all = false;
		}
		if (all)
			at = (long)i;
	}
	json_decref(id);
	return at;
}

/* The value of obj at the first n segments of path, or NULL. */
static json_t *value_at(const json_t *obj, const json_t *path, size_t n)
{
	json_t *cur = (json_t *)obj;
	for (size_t i = 0; cur && i < n; i++) {
		const char *seg = json_string_value(json_array_get(path, i));
		if (!strcmp(seg, "."))
			continue;
		if (seg[0] == 'f' && json_is_object(cur)) {
			cur = json_object_get(cur, seg + 2);
		} else if ((seg[0] == 'k' || seg[0] == 'v') && json_is_array(cur)) {
			long at = seg_index(cur, seg);
			cur = at < 0 ? NULL : json_array_get(cur, (size_t)at);
		} else {
			cur = NULL;
		}
	}
	return cur;
}

/* Removes the value at path from obj (if there). */
static void value_remove(json_t *obj, const json_t *path)
{
	size_t n = json_array_size(path);
	if (n && !strcmp(json_string_value(json_array_get(path, n - 1)), "."))
		n--;
	if (!n)
		return;
	json_t *parent = value_at(obj, path, n - 1);
	const char *seg = json_string_value(json_array_get(path, n - 1));
	if (seg[0] == 'f' && json_is_object(parent)) {
		json_object_del(parent, seg + 2);
	} else if (json_is_array(parent)) {
		long at = seg_index(parent, seg);
		if (at >= 0)
			json_array_remove(parent, (size_t)at);
	}
}

/* ".spec.template.spec.containers[name=\"web\"].image" */
static char *path_text(const json_t *path)
{
	struct buf b = {0};
	for (size_t i = 0; i < json_array_size(path); i++) {
		const char *seg = json_string_value(json_array_get(path, i));
		if (seg[0] == 'f') {
			buf_printf(&b, ".%s", seg + 2);
		} else if (seg[0] == 'v') {
			buf_printf(&b, "[=%s]", seg + 2);
		} else if (seg[0] == 'k') {
			json_t *id = json_loads(seg + 2, 0, NULL);
			const char *k;
			json_t *v;
			buf_printf(&b, "[");
			bool first = true;
			json_object_foreach(id, k, v)
			{
				char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
				buf_printf(&b, "%s%s=%s", first ? "" : ",", k, s ? s : "");
				free(s);
				first = false;
			}
			buf_printf(&b, "]");
			json_decref(id);
		}
	}
	return buf_steal(&b, NULL);
}

/* --- managers ---------------------------------------------------------------- */

static bool is_mine(const json_t *entry, const char *manager)
{
	const char *m = json_string_value(json_object_get(entry, "manager"));
	const char *op = json_string_value(json_object_get(entry, "operation"));
	return m && !strcmp(m, manager) && (!op || !strcmp(op, "Apply"));
}

/* Checks the applied leaves against the other managers: a leaf another
 * manager owns with a different live value is a conflict, or with force
 * is taken from it.  Returns the number of conflicts. */
static size_t check_conflicts(const json_t *live, const json_t *config, json_t *mf,
			      const json_t *mine, const struct patch_apply_opts *o,
			      json_t *conflicts)
{
	size_t nconf = 0;
	json_t *ls = set_leaves(mine);
	for (size_t i = 0; i < json_array_size(ls); i++) {
		json_t *p = json_array_get(ls, i);
		size_t n = json_array_size(p);
		if (!strcmp(json_string_value(json_array_get(p, n - 1)), "."))
			continue;
		for (size_t j = 0; j < json_array_size(mf); j++) {
			json_t *en = json_array_get(mf, j);
			json_t *set = json_object_get(en, "fieldsV1");
			json_t *theirs = set_node(set, p);
			/* they own only things under p (p an empty map of mine) */
			bool under =
			    theirs && json_object_size(theirs) && !json_object_get(theirs, ".");
			if (is_mine(en, o->manager) || !theirs || under)
				continue;
			json_t *lv = value_at(live, p, n), *cv = value_at(config, p, n);
			if (!lv || (cv && patch_equal(lv, cv)))
				continue;
			if (o->force) {
				set_remove(set, p, 0);
				continue;
			}
			char *t = path_text(p);
			json_array_append_new(conflicts,
					      json_pack("{s:s, s:O}", "field", t, "manager",
							json_object_get(en, "manager")));
			free(t);
			nconf++;
		}
	}
	json_decref(ls);
	return nconf;
}

static bool ends_dot(const json_t *path)
{
	size_t n = json_array_size(path);
	return n && !strcmp(json_string_value(json_array_get(path, n - 1)), ".");
}

/* Whether a manager other than manager owns path or something under it
 * (for an element's ".", anything of the element). */
static bool owned_by_other(const json_t *mf, const json_t *path, const char *manager)
{
	json_t *p = json_copy((json_t *)path);
	if (ends_dot(p))
		json_array_remove(p, json_array_size(p) - 1);
	bool owned = false;
	for (size_t j = 0; j < json_array_size(mf); j++) {
		json_t *en = json_array_get(mf, j);
		if (!is_mine(en, manager) && set_node(json_object_get(en, "fieldsV1"), p))
			owned = true;
	}
	json_decref(p);
	return owned;
}

/* Removes from obj the leaves old has and mine has not, unless another
 * manager owns them (or something under them): whole list elements
 * first, then fields. */
static void remove_dropped(json_t *obj, const json_t *old, const json_t *mine, const json_t *mf,
			   const char *manager)
{
	json_t *ls = set_leaves(old);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < json_array_size(ls); i++) {
			json_t *p = json_array_get(ls, i);
			if (ends_dot(p) != (pass == 0) || set_node(mine, p) ||
			    owned_by_other(mf, p, manager))
				continue;
			value_remove(obj, p);
		}
	}
	json_decref(ls);
}

/* The new managedFields: the others (emptied ones dropped), then mine. */
static json_t *new_managed(const json_t *mf, json_t *mine, const struct patch_apply_opts *o)
{
	json_t *out = json_array();
	for (size_t j = 0; j < json_array_size(mf); j++) {
		json_t *en = json_array_get(mf, j);
		if (is_mine(en, o->manager) || !json_object_size(json_object_get(en, "fieldsV1")))
			continue;
		json_array_append(out, en);
	}
	json_array_append_new(out,
			      json_pack("{s:s, s:s, s:s, s:s, s:s, s:o}", "manager", o->manager,
					"operation", "Apply", "apiVersion", o->api_version, "time",
					o->now, "fieldsType", "FieldsV1", "fieldsV1", mine));
	return out;
}

int patch_apply(const json_t *live, const json_t *config, const struct patch_apply_opts *o,
		json_t **out, json_t **conflicts, struct err **e)
{
	if (!json_is_object(config))
		return err_make(e, EBADMSG, "an applied configuration must be a mapping");
	json_t *base = json_is_object(live) ? json_deep_copy(live) : json_object();
	json_t *md = json_object_get(base, "metadata");
	json_t *mf = json_deep_copy(json_object_get(md, "managedFields"));
	if (!json_is_array(mf)) {
		json_decref(mf);
		mf = json_array();
	}
	json_t *mine = patch_fieldset(o->def, config), *old = json_object();
	for (size_t j = 0; j < json_array_size(mf); j++)
		if (is_mine(json_array_get(mf, j), o->manager))
			json_object_update(old, json_object_get(json_array_get(mf, j), "fieldsV1"));
	json_t *conf = json_array();
	int r = 0;
	if (check_conflicts(base, config, mf, mine, o, conf)) {
		r = err_make(e, EBUSY, "Apply failed with %zu conflict%s", json_array_size(conf),
			     json_array_size(conf) == 1 ? "" : "s");
	} else {
		remove_dropped(base, old, mine, mf, o->manager);
		json_t *c = json_deep_copy(config);
		json_object_del(c, "status");
		r = patch_strategic(o->def, base, c, out, e);
		json_decref(c);
	}
	if (r == 0) {
		json_t *nmd = json_object_get(*out, "metadata");
		if (!json_is_object(nmd)) {
			nmd = json_object();
			json_object_set_new(*out, "metadata", nmd);
		}
		json_object_set_new(nmd, "managedFields", new_managed(mf, json_incref(mine), o));
	}
	if (conflicts && r == -EBUSY)
		*conflicts = json_incref(conf);
	json_decref(conf);
	json_decref(mine);
	json_decref(old);
	json_decref(mf);
	json_decref(base);
	return r;
}

/* --- updates ------------------------------------------------------------------ */

/* Adds path to set (creating the nodes on the way). */
static void set_add(json_t *set, const json_t *path)
{
	json_t *cur = set;
	for (size_t i = 0; i < json_array_size(path); i++) {
		const char *seg = json_string_value(json_array_get(path, i));
		json_t *next = json_object_get(cur, seg);
		if (!next) {
			next = json_object();
			json_object_set_new(cur, seg, next);
		}
		cur = next;
	}
}

/* The paths of new's owned fields whose value differs from old's. */
static json_t *changed_set(const struct sch_def *d, const json_t *old, const json_t *new)
{
	json_t *set = patch_fieldset(d, new), *ls = set_leaves(set), *out = json_object();
	for (size_t i = 0; i < json_array_size(ls); i++) {
		json_t *p = json_array_get(ls, i);
		size_t n = json_array_size(p);
		json_t *ov = value_at(old, p, n), *nv = value_at(new, p, n);
		if (!ov || !patch_equal(ov, nv))
			set_add(out, p);
	}
	json_decref(ls);
	json_decref(set);
	return out;
}

/* Drops from each entry's set the fields obj no longer has, and the
 * fields in taken unless the entry is keep. */
static void prune_sets(json_t *mf, const json_t *obj, const json_t *taken, const json_t *keep)
{
	json_t *tl = set_leaves(taken);
	for (size_t j = 0; j < json_array_size(mf); j++) {
		json_t *en = json_array_get(mf, j);
		json_t *set = json_object_get(en, "fieldsV1");
		if (!json_is_object(set))
			continue;
		json_t *ls = set_leaves(set);
		for (size_t i = 0; i < json_array_size(ls); i++) {
			json_t *p = json_array_get(ls, i);
			if (!value_at(obj, p, json_array_size(p)))
				set_remove(set, p, 0);
		}
		json_decref(ls);
		for (size_t i = 0; en != keep && i < json_array_size(tl); i++)
			set_remove(set, json_array_get(tl, i), 0);
	}
	json_decref(tl);
}

json_t *patch_managed_update(const json_t *old, const json_t *new, const struct patch_apply_opts *o)
{
	json_t *mf =
	    json_deep_copy(json_object_get(json_object_get(new, "metadata"), "managedFields"));
	if (!json_is_array(mf)) {
		json_decref(mf);
		mf = json_array();
	}
	json_t *changed = changed_set(o->def, old, new), *mine = NULL;
	for (size_t j = 0; j < json_array_size(mf); j++) {
		json_t *en = json_array_get(mf, j);
		const char *m = json_string_value(json_object_get(en, "manager"));
		const char *op = json_string_value(json_object_get(en, "operation"));
		if (m && op && !strcmp(m, o->manager) && !strcmp(op, "Update"))
			mine = en;
	}
	if (!mine && json_object_size(changed)) {
		mine = json_pack("{s:s, s:s, s:s, s:s, s:s, s:{}}", "manager", o->manager,
				 "operation", "Update", "apiVersion", o->api_version, "time",
				 o->now, "fieldsType", "FieldsV1", "fieldsV1");
		json_array_append_new(mf, mine);
	}
	if (mine && json_object_size(changed)) {
		json_t *ls = set_leaves(changed);
		for (size_t i = 0; i < json_array_size(ls); i++)
			set_add(json_object_get(mine, "fieldsV1"), json_array_get(ls, i));
		json_decref(ls);
		json_object_set_new(mine, "time", json_string(o->now));
	}
	prune_sets(mf, new, changed, mine);
	json_t *out = json_array();
	for (size_t j = 0; j < json_array_size(mf); j++)
		if (json_object_size(json_object_get(json_array_get(mf, j), "fieldsV1")))
			json_array_append(out, json_array_get(mf, j));
	json_decref(mf);
	json_decref(changed);
	return out;
}
