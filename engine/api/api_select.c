/*
 * api_select.c - label selectors: kubectl's string syntax for listing
 * ("app=web,tier!=db,env in (a,b),!canary") and the LabelSelector objects
 * of Deployments and ReplicaSets (matchLabels, matchExpressions).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine/api/api.h"
#include "engine/api/api_int.h"
#include "engine/mem.h"
#include "engine/valid/valid.h"

/* Label selectors in kubectl's string syntax */

enum sel_op { SEL_EQ, SEL_NE, SEL_EXISTS, SEL_NOT_EXISTS, SEL_IN, SEL_NOTIN };

struct sel_req {
	enum sel_op op;
	char *key;
	char **values;
	size_t nvalues;
};

static void sel_free(struct sel_req *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].key);
		for (size_t j = 0; j < r[i].nvalues; j++)
			free(r[i].values[j]);
		free(r[i].values);
	}
	free(r);
}

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

static char *take_word(const char **sp)
{
	const char *s = skip_ws(*sp), *b = s;
	while (*s && !strchr(" \t,=!()", *s))
		s++;
	*sp = s;
	return s > b ? xstrndup(b, (size_t)(s - b)) : NULL;
}

static int sel_parse(const char *s, struct sel_req **out, size_t *nout, struct err **e)
{
	struct sel_req *v = NULL;
	size_t n = 0;
	s = skip_ws(s);
	while (*s) {
		v = xrealloc(v, (n + 1) * sizeof(*v));
		struct sel_req *r = &v[n++];
		memset(r, 0, sizeof(*r));
		s = skip_ws(s);
		if (*s == '!') {
			s++;
			r->op = SEL_NOT_EXISTS;
			r->key = take_word(&s);
		} else {
			r->key = take_word(&s);
			s = skip_ws(s);
			if (!strncmp(s, "==", 2) || *s == '=' || !strncmp(s, "!=", 2)) {
				r->op = *s == '!' ? SEL_NE : SEL_EQ;
				s += (*s == '!' || s[1] == '=') ? 2 : 1;
				char *val = take_word(&s);
				r->values = xmalloc(sizeof(char *));
				r->values[0] = val ? val : xstrdup("");
				r->nvalues = 1;
			} else if (!strncmp(s, "in", 2) || !strncmp(s, "notin", 5)) {
				r->op = s[0] == 'i' ? SEL_IN : SEL_NOTIN;
				s = skip_ws(s + (r->op == SEL_IN ? 2 : 5));
				if (*s != '(')
					goto bad;
				s++;
				for (;;) {
					char *val = take_word(&s);
					if (!val)
						goto bad;
					r->values =
					    xrealloc(r->values, (r->nvalues + 1) * sizeof(char *));
					r->values[r->nvalues++] = val;
					s = skip_ws(s);
					if (*s == ',') {
						s++;
						continue;
					}
					if (*s != ')')
						goto bad;
					s++;
					break;
				}
			} else {
				r->op = SEL_EXISTS;
			}
		}
		if (!r->key || valid_label_key(r->key, NULL) < 0)
			goto bad;
		s = skip_ws(s);
		if (*s == ',')
			s = skip_ws(s + 1);
		else if (*s)
			goto bad;
	}
	*out = v;
	*nout = n;
	return 0;
bad:
	sel_free(v, n);
	return err_make(e, EINVAL, "invalid label selector near \"%s\"", s);
}

static bool sel_match(const struct sel_req *r, size_t n, const json_t *labels)
{
	for (size_t i = 0; i < n; i++) {
		const char *val = json_string_value(json_object_get(labels, r[i].key));
		bool in = false;
		for (size_t j = 0; val && j < r[i].nvalues; j++)
			in = in || !strcmp(val, r[i].values[j]);
		switch (r[i].op) {
		case SEL_EQ:
		case SEL_IN:
			if (!in)
				return false;
			break;
		case SEL_NE:
		case SEL_NOTIN:
			if (in)
				return false;
			break;
		case SEL_EXISTS:
			if (!val)
				return false;
			break;
		case SEL_NOT_EXISTS:
			if (val)
				return false;
			break;
		}
	}
	return true;
}

/* A list across all namespaces by a caller who is not root keeps the
 * objects of namespaces they may read (api.h, "Callers"); objects come
 * grouped by namespace, so one answer serves a run of them. */
struct ns_memo {
	bool filter, have;
	char ns[256];
	bool ok;
};

static bool readable(struct api *a, const struct kind_info *k, struct ns_memo *m, const char *ns)
{
	if (!m->filter)
		return true;
	if (!m->have || strcmp(m->ns, ns)) {
		m->have = true;
		snprintf(m->ns, sizeof(m->ns), "%s", ns);
		m->ok = api_may_read(a, k, ns);
	}
	return m->ok;
}

int api_list(struct api *a, const struct kind_info *k, const char *ns, const char *selector,
	     struct sobj ***out, struct err **e)
{
	struct sel_req *reqs = NULL;
	size_t nreqs = 0;
	int rc = api_check(a, "list", k, ns, NULL, NULL, e);
	if (rc < 0)
		return rc;
	if (selector && *selector) {
		int r = sel_parse(selector, &reqs, &nreqs, e);
		if (r < 0)
			return r;
	}
	struct sobj **v;
	size_t n =
	    store_list(a->st, k->kind, ns && k->namespaced ? ns : (k->namespaced ? NULL : ""), &v);
	size_t kept = 0;
	struct ns_memo memo = {.filter = k->namespaced && !ns && !api_caller_is_root(a)};
	for (size_t i = 0; i < n; i++) {
		const json_t *labels =
		    json_object_get(json_object_get(v[i]->obj, "metadata"), "labels");
		if (sel_match(reqs, nreqs, labels) && readable(a, k, &memo, v[i]->ns))
			v[kept++] = v[i];
		else
			sobj_unref(v[i]);
	}
	sel_free(reqs, nreqs);
	if (kept == 0) {
		free(v);
		v = NULL;
	}
	*out = v;
	return (int)kept;
}

bool api_selector_matches(const json_t *sel, const json_t *labels)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)json_object_get(sel, "matchLabels"), key, v)
	{
		const char *have = json_string_value(json_object_get(labels, key));
		if (!have || !json_is_string(v) || strcmp(have, json_string_value(v)))
			return false;
	}
	size_t i;
	json_t *ex;
	json_array_foreach(json_object_get(sel, "matchExpressions"), i, ex)
	{
		const char *k = api_jstr(ex, "key"), *op = api_jstr(ex, "operator");
		if (!k || !op)
			return false;
		const char *have = json_string_value(json_object_get(labels, k));
		bool in = false;
		size_t j;
		json_t *val;
		json_array_foreach(json_object_get(ex, "values"), j, val)
		{
			if (have && json_is_string(val) && !strcmp(have, json_string_value(val)))
				in = true;
		}
		if (!strcmp(op, "In") && !in)
			return false;
		if (!strcmp(op, "NotIn") && in)
			return false;
		if (!strcmp(op, "Exists") && !have)
			return false;
		if (!strcmp(op, "DoesNotExist") && have)
			return false;
	}
	return true;
}

int64_t api_kind_mtime(struct api *a, const struct kind_info *k, const char *ns)
{
	return store_mtime(a->st, k->kind, api_scope_ns(k, ns ? ns : ""));
}

struct api_labelsel {
	struct sel_req *reqs;
	size_t n;
};

int api_labelsel_parse(const char *s, struct api_labelsel **out, struct err **e)
{
	*out = NULL;
	if (!s || !*s)
		return 0;
	struct api_labelsel *ls = xcalloc(1, sizeof(*ls));
	int r = sel_parse(s, &ls->reqs, &ls->n, e);
	if (r < 0) {
		free(ls);
		return r;
	}
	*out = ls;
	return 0;
}

bool api_labelsel_matches(const struct api_labelsel *ls, const json_t *labels)
{
	return !ls || sel_match(ls->reqs, ls->n, labels);
}

void api_labelsel_free(struct api_labelsel *ls)
{
	if (ls)
		sel_free(ls->reqs, ls->n);
	free(ls);
}
