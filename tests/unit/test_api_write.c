/*
 * test_api_write.c - the API additions for the HTTP write verbs
 * (engine/api/api_write.c): generateName, deletes that orphan dependents
 * (in one transaction, the dependents kept without their owner reference),
 * and api_refused (the one wording of a refusal line, read back with
 * api_refusals_since).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/api/api.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "engine/valid/codec.h"
#include "tests/unit/env.h"
#include "tests/unit/unit.h"

static json_t *load(const char *yaml)
{
	json_t **docs;
	size_t n;
	if (codec_decode(yaml, strlen(yaml), &docs, &n, NULL) < 0 || n != 1)
		return NULL;
	json_t *o = json_incref(docs[0]);
	codec_docs_free(docs, n);
	return o;
}

static void test_generate_name(void)
{
	json_t *o = load("apiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: web-}\n");
	CHECK(api_generate_name(o, NULL) == 0);
	const char *n = obj_str(o, "metadata.name");
	CHECK(n && strlen(n) == 9 && !strncmp(n, "web-", 4));
	CHECK(n && strspn(n + 4, "bcdfghjklmnpqrstvwxz2456789") == 5);
	CHECK(api_create(api, o, NULL, NULL) == 0);
	json_decref(o);
	/* A name given wins. */
	o = load("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, generateName: web-}\n");
	CHECK(api_generate_name(o, NULL) == 0 && !strcmp(obj_str(o, "metadata.name"), "x"));
	json_decref(o);
	/* A long prefix is cut so that the name fits. */
	char prefix[101];
	memset(prefix, 'a', 100);
	prefix[100] = '\0';
	char *y = xasprintf("kind: ConfigMap\nmetadata: {generateName: %s}\n", prefix);
	o = load(y);
	CHECK(api_generate_name(o, NULL) == 0);
	const char *long_name = obj_str(o, "metadata.name");
	CHECK(long_name && strlen(long_name) == 63);
	json_decref(o);
	free(y);
}

static void test_delete_orphan(void)
{
	json_t *owner = load("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: owner}\n");
	struct sobj *o = NULL;
	CHECK(api_create(api, owner, &o, NULL) == 0 && o);
	const char *uid = obj_str(o->obj, "metadata.uid");
	char *y =
	    xasprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dep\n"
		      "  ownerReferences:\n  - {apiVersion: v1, kind: ConfigMap, name: owner, "
		      "uid: %s}\n  - {apiVersion: v1, kind: ConfigMap, name: other, uid: u2}\n",
		      uid);
	json_t *dep = load(y);
	CHECK(api_create(api, dep, NULL, NULL) == 0);
	struct err *e = NULL;
	CHECK(api_delete_orphan(api, KIND_CONFIGMAP, "default", "owner", -1, &e) == 1);
	struct sobj *gone = api_get(api, KIND_CONFIGMAP, "default", "owner");
	CHECK(gone == NULL);
	struct sobj *d = api_get(api, KIND_CONFIGMAP, "default", "dep");
	CHECK(d != NULL);
	json_t *refs = d ? obj_at(d->obj, "metadata.ownerReferences") : NULL;
	CHECK(json_array_size(refs) == 1 &&
	      !strcmp(obj_str(json_array_get(refs, 0), "uid") ?: "", "u2"));
	CHECK(api_delete_orphan(api, KIND_CONFIGMAP, "default", "owner", -1, &e) == -ENOENT);
	err_free(e);
	sobj_unref(d);
	sobj_unref(o);
	json_decref(owner);
	json_decref(dep);
	free(y);
}

static void test_refused(void)
{
	char last[24] = "";
	char **lines;
	size_t n0 = api_refusals_since(api, NULL, &lines, last);
	for (size_t i = 0; i < n0; i++)
		free(lines[i]);
	free(lines);
	CHECK(api_refused(api, "POST /api/v1/namespaces/default/pods", EEXIST,
			  "Pod \"web\" already exists\nsecond line") == 0);
	char before[24];
	memcpy(before, last, sizeof(before));
	size_t n = api_refusals_since(api, before, &lines, last);
	CHECK(n == 1);
	CHECK(n == 1 && strstr(lines[0], "Z POST /api/v1/namespaces/default/pods: EEXIST: Pod "
					 "\"web\" already exists second line"));
	CHECK(strcmp(last, before) > 0);
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	/* Nothing newer than the newest. */
	n = api_refusals_since(api, last, &lines, last);
	CHECK(n == 0);
	free(lines);
}

int main(void)
{
	env_up("api-write");
	RUN(test_generate_name);
	RUN(test_delete_orphan);
	RUN(test_refused);
	env_down();
	return unit_done();
}
