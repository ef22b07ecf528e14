/*
 * patch.c - JSON merge patch, JSON patch and strategic merge patch (see
 * patch.h).  Server-side apply is in patch_apply.c.
 */
#include "engine/valid/patch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mem.h"

/* --- list strategies -------------------------------------------------- */

enum patch_list patch_list_strategy(const struct sch_field *f, const char *const **keys)
{
	if (keys)
		*keys = NULL;
	if (!f || f->type != SCH_ARRAY)
		return PATCH_LIST_ATOMIC;
	if (f->mkeys) {
		if (keys)
			*keys = f->mkeys;
		return PATCH_LIST_KEYED;
	}
	return f->flags & SCH_SET ? PATCH_LIST_SET : PATCH_LIST_ATOMIC;
}

bool patch_equal(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return json_number_value(a) == json_number_value(b);
	if (json_is_array(a) && json_is_array(b)) {
		if (json_array_size(a) != json_array_size(b))
			return false;
		for (size_t i = 0; i < json_array_size(a); i++)
			if (!patch_equal(json_array_get(a, i), json_array_get(b, i)))
				return false;
		return true;
	}
	if (json_is_object(a) && json_is_object(b)) {
		if (json_object_size(a) != json_object_size(b))
			return false;
		const char *k;
		json_t *v;
		json_object_foreach((json_t *)a, k, v)
		{
			if (!patch_equal(v, json_object_get(b, k)))
				return false;
		}
		return true;
	}
	return json_equal((json_t *)a, (json_t *)b);
}

/* --- RFC 7386 ---------------------------------------------------------- */

json_t *patch_merge(const json_t *doc, const json_t *patch)
{
	if (!json_is_object(patch))
		return json_deep_copy(patch);
	json_t *out = json_is_object(doc) ? json_deep_copy(doc) : json_object();
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)patch, k, v)
	{
		if (json_is_null(v)) {
			json_object_del(out, k);
			continue;
		}
		json_object_set_new(out, k, patch_merge(json_object_get(out, k), v));
	}
	return out;
}

/* --- RFC 6902 ---------------------------------------------------------- */

/* A JSON pointer split into unescaped tokens. */
struct ptr {
	char **tok;
	size_t n;
};

static void ptr_free(struct ptr *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->tok[i]);
	free(p->tok);
	p->tok = NULL;
	p->n = 0;
}

static int ptr_parse(const char *s, struct ptr *p, struct err **e)
{
	p->tok = NULL;
	p->n = 0;
	if (!*s)
		return 0;
	if (*s != '/')
		return err_make(e, EBADMSG, "JSON pointer \"%s\" does not start with '/'", s);
	while (*s == '/') {
		s++;
		size_t len = strcspn(s, "/");
		char *t = xmalloc(len + 1), *w = t;
		for (size_t i = 0; i < len; i++) {
			if (s[i] == '~' && i + 1 < len && (s[i + 1] == '0' || s[i + 1] == '1')) {
				*w++ = s[i + 1] == '0' ? '~' : '/';
				i++;
			} else if (s[i] == '~') {
				free(t);
				ptr_free(p);
				return err_make(e, EBADMSG, "JSON pointer: a bad escape in \"%s\"",
						s);
			} else {
				*w++ = s[i];
			}
		}
		*w = 0;
		p->tok = xrealloc(p->tok, (p->n + 1) * sizeof(char *));
		p->tok[p->n++] = t;
		s += len;
	}
	return 0;
}

/* An array index token: digits without a leading zero; -1 if not. */
static long arr_index(const char *t)
{
	if (!*t || (t[0] == '0' && t[1]) || strspn(t, "0123456789") != strlen(t) || strlen(t) > 9)
		return -1;
	return strtol(t, NULL, 10);
}

/* The value at tokens [0, n) of root, or NULL. */
static json_t *ptr_get(json_t *root, const struct ptr *p, size_t n)
{
	json_t *cur = root;
	for (size_t i = 0; i < n && cur; i++) {
		if (json_is_object(cur)) {
			cur = json_object_get(cur, p->tok[i]);
		} else if (json_is_array(cur)) {
			long ix = arr_index(p->tok[i]);
			cur = ix < 0 ? NULL : json_array_get(cur, (size_t)ix);
		} else {
			cur = NULL;
		}
	}
	return cur;
}

/* Adds v (stolen) at p in *root. */
static int op_add(json_t **root, const struct ptr *p, json_t *v, const char *path, struct err **e)
{
	if (p->n == 0) {
		json_decref(*root);
		*root = v;
		return 0;
	}
	json_t *parent = ptr_get(*root, p, p->n - 1);
	const char *last = p->tok[p->n - 1];
	if (json_is_object(parent)) {
		json_object_set_new(parent, last, v);
		return 0;
	}
	if (json_is_array(parent)) {
		if (!strcmp(last, "-")) {
			json_array_append_new(parent, v);
			return 0;
		}
		long ix = arr_index(last);
		if (ix >= 0 && (size_t)ix <= json_array_size(parent)) {
			json_array_insert_new(parent, (size_t)ix, v);
			return 0;
		}
	}
	json_decref(v);
	return err_make(e, EINVAL, "add operation does not apply: doc is missing path: \"%s\"",
			path);
}

/* Removes the value at p (not the root); *old (if non-NULL) gets it. */
static int op_remove(json_t *root, const struct ptr *p, const char *path, json_t **old,
		     struct err **e)
{
	json_t *parent = p->n ? ptr_get(root, p, p->n - 1) : NULL;
	json_t *v = p->n ? ptr_get(root, p, p->n) : NULL;
	if (!v)
		return err_make(e, EINVAL,
				"remove operation does not apply: doc is missing path: \"%s\"",
				path);
	if (old)
		*old = json_incref(v);
	if (json_is_object(parent))
		json_object_del(parent, p->tok[p->n - 1]);
	else
		json_array_remove(parent, (size_t)arr_index(p->tok[p->n - 1]));
	return 0;
}

static int op_test(json_t *root, const struct ptr *p, const json_t *want, const char *path,
		   struct err **e)
{
	json_t *v = ptr_get(root, p, p->n);
	if (!v)
		return err_make(e, EINVAL, "testing value %s failed: the path is not there", path);
	if (!patch_equal(v, want))
		return err_make(e, EINVAL, "testing value %s failed", path);
	return 0;
}

/* move and copy: from must exist; move may not go into its own child. */
static int op_move_copy(json_t **root, const struct ptr *p, const char *from, bool move,
			const char *path, struct err **e)
{
	struct ptr f;
	int r = ptr_parse(from, &f, e);
	if (r < 0)
		return r;
	size_t flen = strlen(from);
	if (move && !strncmp(path, from, flen) && path[flen] == '/') {
		ptr_free(&f);
		return err_make(e, EINVAL, "move operation: \"%s\" is a child of \"%s\"", path,
				from);
	}
	json_t *v = ptr_get(*root, &f, f.n);
	if (!v) {
		ptr_free(&f);
		return err_make(e, EINVAL,
				"%s operation does not apply: doc is missing from path: "
				"\"%s\"",
				move ? "move" : "copy", from);
	}
	if (move && f.n) {
		json_t *old = NULL;
		r = op_remove(*root, &f, from, &old, e);
		if (r == 0)
			r = op_add(root, p, old, path, e);
	} else {
		r = op_add(root, p, json_deep_copy(v), path, e);
	}
	ptr_free(&f);
	return r;
}

static int json_op(json_t **root, const json_t *op, size_t i, struct err **e)
{
	const char *name = json_string_value(json_object_get(op, "op"));
	const char *path = json_string_value(json_object_get(op, "path"));
	json_t *value = json_object_get(op, "value");
	const char *from = json_string_value(json_object_get(op, "from"));
	if (!json_is_object(op) || !name || !path)
		return err_make(e, EBADMSG, "operation %zu: needs \"op\" and \"path\"", i);
	bool needs_value =
	    !strcmp(name, "add") || !strcmp(name, "replace") || !strcmp(name, "test");
	if (needs_value && !value)
		return err_make(e, EBADMSG, "operation %zu (%s): missing \"value\"", i, name);
	if ((!strcmp(name, "move") || !strcmp(name, "copy")) && !from)
		return err_make(e, EBADMSG, "operation %zu (%s): missing \"from\"", i, name);
	struct ptr p;
	int r = ptr_parse(path, &p, e);
	if (r < 0)
		return r;
	if (!strcmp(name, "add")) {
		r = op_add(root, &p, json_deep_copy(value), path, e);
	} else if (!strcmp(name, "remove")) {
		r = p.n ? op_remove(*root, &p, path, NULL, e)
			: err_make(e, EINVAL, "remove operation: cannot remove the document");
	} else if (!strcmp(name, "replace")) {
		if (!ptr_get(*root, &p, p.n))
			r = err_make(e, EINVAL,
				     "replace operation does not apply: doc is missing key: %s",
				     path);
		else if (p.n)
			r = op_remove(*root, &p, path, NULL, e);
		if (r == 0)
			r = op_add(root, &p, json_deep_copy(value), path, e);
	} else if (!strcmp(name, "move") || !strcmp(name, "copy")) {
		r = op_move_copy(root, &p, from, name[0] == 'm', path, e);
	} else if (!strcmp(name, "test")) {
		r = op_test(*root, &p, value, path, e);
	} else {
		r = err_make(e, EBADMSG, "operation %zu: unknown op \"%s\"", i, name);
	}
	ptr_free(&p);
	return r;
}

int patch_json(const json_t *doc, const json_t *ops, json_t **out, struct err **e)
{
	if (!json_is_array(ops))
		return err_make(e, EBADMSG, "a JSON patch must be a list of operations");
	json_t *root = json_deep_copy(doc);
	for (size_t i = 0; i < json_array_size(ops); i++) {
		int r = json_op(&root, json_array_get(ops, i), i, e);
		if (r < 0) {
			json_decref(root);
			return r;
		}
	}
	*out = root;
	return 0;
}

/* --- strategic merge --------------------------------------------------- */

/*
 * The merge walks the schema alongside the JSON: each map comes with the
 * definition that describes it (NULL: not described, its lists atomic),
 * each field with its row (schema_field), which gives the field's list
 * strategy and, through schema_field_def, the definition of its value or
 * of its list's elements.
 */

static int smp_map(json_t *dst, const json_t *patch, const struct sch_def *d, const char *ctx,
		   struct err **e);

/* A patch value made into a stored value: directives applied to nothing.
 * sub: the definition of the value (a map) or of its elements (a list). */
static json_t *smp_fresh(const json_t *pv, const struct sch_def *sub, const char *field,
			 struct err **e, int *r);

static bool is_directive(const char *k)
{
	return k[0] == '$';
}

/* The index in list of the element whose key equals that of el (key NULL:
 * that equals el), or -1. */
static long find_keyed(const json_t *list, const char *key, const json_t *el)
{
	json_t *want = key && json_is_object(el) ? json_object_get(el, key) : (json_t *)el;
	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *x = json_array_get(list, i);
		json_t *have = key ? json_object_get(x, key) : x;
		if (want && have && patch_equal(want, have))
			return (long)i;
	}
	return -1;
}

/* A list's elements with directives stripped (and {"$patch":...} dropped). */
static json_t *smp_strip_list(const json_t *pl, const struct sch_def *sub, const char *field,
			      struct err **e, int *r)
{
	json_t *out = json_array();
	for (size_t i = 0; i < json_array_size(pl) && *r == 0; i++) {
		json_t *pe = json_array_get(pl, i);
		if (json_is_object(pe) && json_object_get(pe, "$patch"))
			continue;
		json_t *v = smp_fresh(pe, sub, field, e, r);
		if (v)
			json_array_append_new(out, v);
	}
	return out;
}

static json_t *smp_fresh(const json_t *pv, const struct sch_def *sub, const char *field,
			 struct err **e, int *r)
{
	if (json_is_object(pv)) {
		json_t *m = json_object();
		int d = smp_map(m, pv, sub, field, e);
		if (d < 0)
			*r = d;
		if (d != 0) {
			json_decref(m);
			return NULL;
		}
		return m;
	}
	if (json_is_array(pv))
		return smp_strip_list(pv, sub, field, e, r);
	return json_deep_copy(pv);
}

/* Merges the patch list pl into the list dst (a mutable array) by key;
 * sub describes the elements. */
static int smp_keyed(json_t *dst, const json_t *pl, const struct sch_def *sub, const char *field,
		     const char *key, struct err **e)
{
	for (size_t i = 0; i < json_array_size(pl); i++) {
		json_t *pe = json_array_get(pl, i);
		/* A key must be a scalar: a null one would delete itself, one
		 * holding directives lose them, and the element never match
		 * and be added anew at each patch. */
		json_t *kv = json_object_get(pe, key);
		if (!json_is_object(pe) ||
		    !(json_is_string(kv) || json_is_number(kv) || json_is_boolean(kv)))
			return err_make(e, EBADMSG,
					"%s: a list element does not contain its merge key \"%s\" "
					"(a string, number or boolean)",
					field, key);
		const char *d = json_string_value(json_object_get(pe, "$patch"));
		long at = find_keyed(dst, key, pe);
		if (d && !strcmp(d, "delete")) {
			while ((at = find_keyed(dst, key, pe)) >= 0)
				json_array_remove(dst, (size_t)at);
			continue;
		}
		if (d && strcmp(d, "merge"))
			return err_make(e, EBADMSG,
					"%s: unknown list element directive \"$patch\": "
					"\"%s\"",
					field, d);
		if (at >= 0) {
			int r = smp_map(json_array_get(dst, (size_t)at), pe, sub, field, e);
			if (r < 0)
				return r;
			if (r == 1)
				json_array_remove(dst, (size_t)at);
			continue;
		}
		int r = 0;
		json_t *v = smp_fresh(pe, sub, field, e, &r);
		if (r < 0) {
			json_decref(v);
			return r;
		}
		if (v)
			json_array_append_new(dst, v);
	}
	return 0;
}

/* The new value of the list field `field` (schema row f, or NULL). */
static json_t *smp_list(const json_t *dst, const json_t *pl, const struct sch_field *f,
			const char *field, struct err **e, int *r)
{
	const struct sch_def *sub = schema_field_def(f);
	for (size_t i = 0; i < json_array_size(pl); i++) {
		json_t *pe = json_array_get(pl, i);
		const char *d = json_string_value(json_object_get(pe, "$patch"));
		if (d && !strcmp(d, "replace"))
			return smp_strip_list(pl, sub, field, e, r);
	}
	const char *const *keys;
	enum patch_list how = patch_list_strategy(f, &keys);
	if (how == PATCH_LIST_ATOMIC || !json_is_array(dst))
		return smp_strip_list(pl, sub, field, e, r);
	json_t *out = json_deep_copy(dst);
	if (how == PATCH_LIST_KEYED) {
		*r = smp_keyed(out, pl, sub, field, keys[0], e);
	} else {
		for (size_t i = 0; i < json_array_size(pl); i++)
			if (find_keyed(out, NULL, json_array_get(pl, i)) < 0)
				json_array_append(out, json_array_get(pl, i));
	}
	if (*r < 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* Interleaves the ordered listed elements (mine) with the others (rest,
 * in their order): an other goes first when the live list had it before
 * the listed element it is compared with.  Both keep their own order. */
static json_t *interleave(const json_t *mine, const json_t *rest, const json_t *live,
			  const char *key)
{
	json_t *out = json_array();
	size_t i = 0, j = 0;
	while (i < json_array_size(rest) || j < json_array_size(mine)) {
		bool take_rest = j >= json_array_size(mine);
		if (!take_rest && i < json_array_size(rest)) {
			long li = find_keyed(live, key, json_array_get(rest, i));
			long mi = find_keyed(live, key, json_array_get(mine, j));
			take_rest = li >= 0 && mi >= 0 && li < mi;
		}
		json_array_append(out, take_rest ? json_array_get(rest, i++)
						 : json_array_get(mine, j++));
	}
	return out;
}

/* $setElementOrder/FIELD: the listed elements in that order; the others
 * keep their place relative to them as far as the live list (before the
 * patch) tells. */
static int smp_order(json_t *dst, const char *field, const json_t *order, const struct sch_field *f,
		     const json_t *live, struct err **e)
{
	json_t *list = json_object_get(dst, field);
	if (!json_is_array(order))
		return err_make(e, EBADMSG, "$setElementOrder/%s must be a list", field);
	const char *const *keys;
	if (!json_is_array(list) || patch_list_strategy(f, &keys) == PATCH_LIST_ATOMIC)
		return 0;
	const char *key = keys ? keys[0] : NULL;
	json_t *mine = json_array(), *rest = json_deep_copy(list);
	for (size_t i = 0; i < json_array_size(order); i++) {
		json_t *o = json_array_get(order, i);
		if (key && (!json_is_object(o) || !json_object_get(o, key))) {
			json_decref(mine);
			json_decref(rest);
			return err_make(e, EBADMSG, "$setElementOrder/%s: an element lacks \"%s\"",
					field, key);
		}
		long at = find_keyed(rest, key, o);
		if (at >= 0) {
			json_array_append(mine, json_array_get(rest, (size_t)at));
			json_array_remove(rest, (size_t)at);
		}
	}
	json_object_set_new(dst, field, interleave(mine, rest, live, key));
	json_decref(mine);
	json_decref(rest);
	return 0;
}

/* The map-level directives: $patch (1: delete this map) and $retainKeys. */
static int smp_map_directives(json_t *dst, const json_t *patch, const char *ctx, struct err **e)
{
	json_t *jd = json_object_get(patch, "$patch");
	const char *d = json_string_value(jd);
	if (jd && (!d || (strcmp(d, "replace") && strcmp(d, "delete") && strcmp(d, "merge"))))
		return err_make(e, EBADMSG, "%s: unknown directive \"$patch\": %s",
				*ctx ? ctx : "the object", d ? d : "(not a string)");
	if (d && !strcmp(d, "delete"))
		return 1;
	if (d && !strcmp(d, "replace"))
		json_object_clear(dst);
	json_t *keep = json_object_get(patch, "$retainKeys");
	if (!keep)
		return 0;
	if (!json_is_array(keep))
		return err_make(e, EBADMSG, "%s: $retainKeys must be a list", ctx);
	const char *k;
	json_t *v, *tmp;
	json_object_foreach_safe(dst, tmp, k, v)
	{
		bool kept = false;
		for (size_t i = 0; i < json_array_size(keep); i++)
			if (!json_is_string(json_array_get(keep, i)))
				return err_make(e, EBADMSG, "%s: $retainKeys: not a string", ctx);
			else if (!strcmp(json_string_value(json_array_get(keep, i)), k))
				kept = true;
		if (!kept)
			json_object_del(dst, k);
	}
	return 0;
}

/* $deleteFromPrimitiveList/FIELD: removes those values from dst[FIELD]. */
static int smp_delete_from(json_t *dst, const char *field, const json_t *vals, struct err **e)
{
	if (!json_is_array(vals))
		return err_make(e, EBADMSG, "$deleteFromPrimitiveList/%s must be a list", field);
	json_t *list = json_object_get(dst, field);
	for (size_t i = 0; json_is_array(list) && i < json_array_size(vals); i++) {
		long at;
		while ((at = find_keyed(list, NULL, json_array_get(vals, i))) >= 0)
			json_array_remove(list, (size_t)at);
	}
	return 0;
}

/* One field of the patch into dst, a map described by d. */
static int smp_field(json_t *dst, const char *k, const json_t *pv, const struct sch_def *d,
		     struct err **e)
{
	json_t *dv = json_object_get(dst, k);
	const struct sch_field *f = schema_field(d, k);
	const struct sch_def *sub = schema_field_def(f);
	int r = 0;
	if (json_is_null(pv)) {
		json_object_del(dst, k);
		return 0;
	}
	if (json_is_object(pv) && json_is_object(dv)) {
		r = smp_map(dv, pv, sub, k, e);
		if (r == 1)
			json_object_del(dst, k);
		return r < 0 ? r : 0;
	}
	json_t *nv =
	    json_is_array(pv) ? smp_list(dv, pv, f, k, e, &r) : smp_fresh(pv, sub, k, e, &r);
	if (r < 0) {
		json_decref(nv); /* a list stripped up to the failing element */
		return r;
	}
	if (nv)
		json_object_set_new(dst, k, nv);
	else
		json_object_del(dst, k);
	return 0;
}

/* Merges patch into dst (a mutable object, described by d) in place;
 * 1: delete dst. */
static int smp_map(json_t *dst, const json_t *patch, const struct sch_def *d, const char *ctx,
		   struct err **e)
{
	int r = smp_map_directives(dst, patch, ctx, e);
	if (r != 0)
		return r;
	const char *k;
	json_t *pv, *live = NULL;
	static const char del[] = "$deleteFromPrimitiveList/", ord[] = "$setElementOrder/";
	json_object_foreach((json_t *)patch, k, pv)
	{
		if (!live && !strncmp(k, ord, sizeof(ord) - 1))
			live = json_deep_copy(dst); /* the order before the patch */
	}
	json_object_foreach((json_t *)patch, k, pv)
	{
		if (r < 0)
			break;
		if (!strncmp(k, del, sizeof(del) - 1))
			r = smp_delete_from(dst, k + sizeof(del) - 1, pv, e);
		else if (!is_directive(k))
			r = smp_field(dst, k, pv, d, e);
	}
	json_object_foreach((json_t *)patch, k, pv)
	{
		const char *field = k + sizeof(ord) - 1;
		if (r >= 0 && !strncmp(k, ord, sizeof(ord) - 1))
			r = smp_order(dst, field, pv, schema_field(d, field),
				      json_object_get(live, field), e);
	}
	json_decref(live);
	return r < 0 ? r : 0;
}

int patch_strategic(const struct sch_def *d, const json_t *doc, const json_t *patch, json_t **out,
		    struct err **e)
{
	if (!json_is_object(patch))
		return err_make(e, EINVAL, "a strategic merge patch must be a mapping");
	json_t *dst = json_is_object(doc) ? json_deep_copy(doc) : json_object();
	int r = smp_map(dst, patch, d, "", e);
	if (r < 0) {
		json_decref(dst);
		return r;
	}
	if (r == 1)
		json_object_clear(dst);
	*out = dst;
	return 0;
}
