/*
 * valid_cases.h - the table machinery of the validation tests
 * (test_valid.c, test_valid_pod.c): base objects of each kind, JSON merge
 * patches written with ' for " and ` for ', and RUN_TABLE.
 */
#ifndef CFS_TEST_VALID_CASES_H
#define CFS_TEST_VALID_CASES_H

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mem.h"
#include "engine/valid/valid.h"
#include "tests/unit/unit.h"

static const char *const bases[][2] = {
    {"Deployment", "{'apiVersion':'apps/v1','kind':'Deployment','metadata':{'name':'web'},"
		   "'spec':{'selector':{'matchLabels':{'app':'web'}},'template':{'metadata':"
		   "{'labels':{'app':'web'}},'spec':{'containers':[{'name':'web',"
		   "'image':'nginx:1.25'}]}}}}"},
    {"ReplicaSet", "{'apiVersion':'apps/v1','kind':'ReplicaSet','metadata':{'name':'web-1'},"
		   "'spec':{'selector':{'matchLabels':{'app':'web'}},'template':{'metadata':"
		   "{'labels':{'app':'web'}},'spec':{'containers':[{'name':'web',"
		   "'image':'nginx:1.25'}]}}}}"},
    {"Pod", "{'apiVersion':'v1','kind':'Pod','metadata':{'name':'p'},"
	    "'spec':{'containers':[{'name':'c','image':'busybox:1.36'}]}}"},
    {"Service", "{'apiVersion':'v1','kind':'Service','metadata':{'name':'web'},"
		"'spec':{'selector':{'app':'web'},'ports':[{'port':80}]}}"},
    {"ConfigMap", "{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'cfg'},"
		  "'data':{'a':'b'}}"},
    {"Secret", "{'apiVersion':'v1','kind':'Secret','metadata':{'name':'db'},"
	       "'data':{'password':'czNjcmV0'}}"},
    {"Node", "{'apiVersion':'v1','kind':'Node','metadata':{'name':'node1'}}"},
    {"Namespace", "{'apiVersion':'v1','kind':'Namespace','metadata':{'name':'dev'}}"},
    {"Event", "{'apiVersion':'v1','kind':'Event','metadata':{'name':'p.1','namespace':"
	      "'default'},'involvedObject':{'kind':'Pod','name':'p'},'reason':'Started',"
	      "'message':'Started container c','type':'Normal'}"},
};

/* ' -> " and ` -> ' */
static json_t *load(const char *text)
{
	_cleanup_free_ char *s = xstrdup(text);
	json_error_t je;

	for (char *p = s; *p; p++)
		*p = *p == '\'' ? '"' : *p == '`' ? '\'' : *p;
	json_t *j = json_loads(s, JSON_DECODE_ANY, &je);
	if (!j)
		fprintf(stderr, "  bad test JSON (%s): %s\n", je.text, s);
	return j;
}

/* RFC 7386 merge patch. */
static void merge(json_t *dst, json_t *patch)
{
	const char *k;
	json_t *v;

	json_object_foreach(patch, k, v)
	{
		json_t *d = json_object_get(dst, k);

		if (json_is_null(v))
			json_object_del(dst, k);
		else if (json_is_object(v) && json_is_object(d))
			merge(d, v);
		else
			json_object_set(dst, k, v);
	}
}

/* The base object of kind "Kind[.part]" with patch applied; *k gets the kind. */
static json_t *build(const char *what, const char *patch, const struct kind_info **k)
{
	char kind[32];
	const char *dot = strchr(what, '.');
	size_t n = dot ? (size_t)(dot - what) : strlen(what);
	json_t *obj = NULL, *p, *at;

	snprintf(kind, sizeof(kind), "%.*s", (int)n, what);
	*k = kind_by_kind(kind);
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++)
		if (!strcmp(bases[i][0], kind))
			obj = load(bases[i][1]);
	if (!obj || !*k)
		return NULL;
	p = load(patch);
	at = obj;
	if (dot && !strcmp(dot, ".spec"))
		at = json_object_get(obj, "spec");
	json_t *pod = json_object_get(obj, "spec");
	if (!strcmp(kind, "Deployment") || !strcmp(kind, "ReplicaSet"))
		pod = json_object_get(json_object_get(pod, "template"), "spec");
	if (dot && !strcmp(dot, ".tmpl"))
		at = pod;
	if (dot && !strcmp(dot, ".ctr"))
		at = json_array_get(json_object_get(pod, "containers"), 0);
	if (!p || !at) {
		json_decref(p);
		json_decref(obj);
		return NULL;
	}
	merge(at, p);
	json_decref(p);
	return obj;
}

struct vcase {
	const char *what;  /* "Pod.ctr" */
	const char *patch; /* merge patch, ' for " */
	const char *want;  /* expected message part, or NULL: accepted */
};

/* Builds, defaults, validates; prints the case and whether it went as expected. */
static bool run_case(const struct vcase *t)
{
	const struct kind_info *k;
	_cleanup_err_ struct err *e = NULL;
	json_t *obj = build(t->what, t->patch, &k);
	bool pass;
	int r = -1;

	if (obj) {
		valid_default(obj, k);
		r = valid_object(obj, k, &e);
	}
	if (!t->want)
		pass = obj && r == 0;
	else
		pass = obj && r == -EINVAL && e && strstr(e->msg, t->want);
	printf("  %s %-15s %.60s%s -> %s\n", pass ? "ok  " : "FAIL", t->what, t->patch,
	       strlen(t->patch) > 60 ? "..." : "", t->want ? t->want : "accepted");
	if (!pass)
		fprintf(stderr, "    got %d: %s\n", r, e ? e->msg : "(no message)");
	json_decref(obj);
	return pass;
}

#define RUN_TABLE(tab)                                                                             \
	do {                                                                                       \
		for (size_t i_ = 0; i_ < sizeof(tab) / sizeof(tab[0]); i_++)                       \
			CHECK(run_case(&tab[i_]));                                                 \
	} while (0)

#endif
