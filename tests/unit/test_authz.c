/*
 * test_authz.c - Unix permissions on namespaces as the access control
 * (engine/api/api_authz.c, api_nsperm.c): a table of owner, group and
 * other by read and write by kind (Secret included) through
 * api_authorize(); the same through the API's calls on views; lists across
 * namespaces filtered; chown and chmod by whom Unix allows; cluster-scoped
 * kinds root's; the Forbidden wording.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/api/api.h"
#include "engine/mem.h"
#include "engine/valid/codec.h"
#include "tests/unit/env.h"
#include "tests/unit/unit.h"

/* Secrets come with issue 14; the rule goes by the kind's name. */
static const struct kind_info secret_kind = {"Secret", "secrets", "v1",
					     true,     false,	  NAME_DNS1123_SUBDOMAIN};

static const gid_t dev_gids[] = {2000};
static struct api *alice, *bob, *carol, *nob;

static struct api *user(const char *name, uid_t uid, gid_t gid, const gid_t *gids, size_t n)
{
	struct api_who w = {.user = name, .uid = uid, .gid = gid, .gids = gids, .ngids = n};
	return api_as(api, &w);
}

static int create_as(struct api *a, const char *yaml, struct err **e)
{
	json_t **docs;
	size_t n;
	if (codec_decode(yaml, strlen(yaml), &docs, &n, NULL) < 0 || n != 1)
		return -999;
	int r = api_create(a, docs[0], NULL, e);
	codec_docs_free(docs, n);
	return r;
}

static void setup(void)
{
	CHECK(create_as(api, "kind: Namespace\nmetadata: {name: team-a}\n", NULL) == 0);
	CHECK(create_as(api, "kind: Namespace\nmetadata: {name: team-b}\n", NULL) == 0);
	CHECK(create_as(api, "kind: ConfigMap\nmetadata: {name: c, namespace: team-a}\n", NULL) ==
	      0);
	CHECK(create_as(api, "kind: ConfigMap\nmetadata: {name: c, namespace: team-b}\n", NULL) ==
	      0);
	CHECK(create_as(api, "kind: ConfigMap\nmetadata: {name: c}\n", NULL) == 0);
	alice = user("alice", 1000, 1000, NULL, 0);
	bob = user("bob", 1001, 1001, dev_gids, 1); /* in dev as a supplementary group */
	carol = user("carol", 1002, 2000, NULL, 0); /* dev as her primary group */
	nob = user("nobody", 65534, 65534, NULL, 0);
}

static int may(struct api *a, const char *verb, const struct kind_info *k, const char *ns)
{
	struct api_request r = {verb, k, ns, "x", NULL};
	return api_authorize(a, &r, NULL);
}

/* The table: mode, caller, kind, verb -> allowed. */
static void test_table(void)
{
	struct {
		const char *mode;
		struct api **who;
		const struct kind_info *k;
		const char *verb;
		bool ok;
	} rows[] = {
	    {"0755", &alice, KIND_POD, "get", true},
	    {"0755", &alice, KIND_POD, "create", true},
	    {"0755", &bob, KIND_POD, "list", true},
	    {"0755", &bob, KIND_POD, "delete", false},
	    {"0755", &nob, KIND_POD, "watch", true},
	    {"0755", &nob, KIND_POD, "update", false},
	    {"2770", &alice, KIND_DEPLOYMENT, "patch", true},
	    {"2770", &bob, KIND_DEPLOYMENT, "patch", true},
	    {"2770", &carol, KIND_DEPLOYMENT, "create", true},
	    {"2770", &nob, KIND_DEPLOYMENT, "get", false},
	    {"2770", &nob, KIND_DEPLOYMENT, "create", false},
	    {"0750", &bob, KIND_POD, "get", true},
	    {"0750", &bob, KIND_POD, "create", false},
	    {"0750", &nob, KIND_POD, "list", false},
	    {"0570", &alice, KIND_POD, "get", true},
	    {"0570", &alice, KIND_POD, "create", false},
	    {"0570", &bob, KIND_POD, "create", true}, /* Unix: the owner class only */
	    {"0007", &alice, KIND_POD, "get", false},
	    {"0007", &nob, KIND_POD, "delete", true},
	    {"0755", &alice, &secret_kind, "get", true},
	    {"0755", &bob, &secret_kind, "get", true},
	    {"0755", &nob, &secret_kind, "get", false},
	    {"0777", &nob, &secret_kind, "list", false},
	    {"0777", &nob, &secret_kind, "create", false},
	    {"0750", &carol, &secret_kind, "get", true},
	    {"0700", &carol, &secret_kind, "get", false},
	    {"0777", &nob, KIND_CONFIGMAP, "create", true},
	};
	struct err *e = NULL;
	CHECK(api_ns_chown(api, "team-a", 1000, 2000, &e) == 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		CHECK(api_ns_chmod(api, "team-a", (mode_t)strtoul(rows[i].mode, NULL, 8), &e) == 0);
		int r = may(*rows[i].who, rows[i].verb, rows[i].k, "team-a");
		if (r != (rows[i].ok ? 0 : -EACCES))
			fprintf(stderr, "  row %zu: %s %s %s -> %d\n", i, rows[i].mode,
				api_caller(*rows[i].who)->user, rows[i].verb, r);
		CHECK(r == (rows[i].ok ? 0 : -EACCES));
	}
	/* Logs are a read; exec is a write. */
	CHECK(api_ns_chmod(api, "team-a", 0750, &e) == 0);
	struct api_request log = {"get", KIND_POD, "team-a", "p", "log"};
	struct api_request exec = {"create", KIND_POD, "team-a", "p", "exec"};
	CHECK(api_authorize(bob, &log, NULL) == 0 && api_authorize(nob, &log, NULL) == -EACCES);
	CHECK(api_authorize(bob, &exec, NULL) == -EACCES && api_authorize(alice, &exec, NULL) == 0);
	err_free(e);
}

/* Defaults: root:root 0755 for a namespace with no annotations. */
static void test_defaults_and_cluster(void)
{
	struct api_ns_perm p;
	CHECK(api_ns_perm(api, "team-b", &p) == 0);
	CHECK(p.uid == 0 && p.gid == 0 && p.mode == 0755);
	CHECK(api_ns_perm(api, "nope", &p) == -ENOENT && p.mode == 0755);
	CHECK(may(alice, "get", KIND_CONFIGMAP, "team-b") == 0);
	CHECK(may(alice, "update", KIND_CONFIGMAP, "team-b") == -EACCES);
	CHECK(may(nob, "get", KIND_NODE, NULL) == 0 && may(nob, "list", KIND_NAMESPACE, NULL) == 0);
	CHECK(may(alice, "create", KIND_NAMESPACE, NULL) == -EACCES);
	CHECK(may(alice, "delete", KIND_NAMESPACE, NULL) == -EACCES);
	CHECK(may(alice, "patch", KIND_NODE, NULL) == -EACCES);
	CHECK(may(alice, "deletecollection", KIND_POD, NULL) == -EACCES);
	/* uid 0 is root, whatever the mode */
	struct api *r = user("admin", 0, 0, NULL, 0);
	CHECK(may(r, "delete", KIND_POD, "team-b") == 0);
	api_free(r);
}

/* The calls on views, and lists across namespaces. */
static void test_calls(void)
{
	struct err *e = NULL;
	CHECK(api_ns_chown(api, "team-a", 1000, 2000, &e) == 0);
	CHECK(api_ns_chmod(api, "team-a", 02770, &e) == 0);
	CHECK(create_as(bob, "kind: ConfigMap\nmetadata: {name: d, namespace: team-a}\n", NULL) ==
	      0);
	CHECK(create_as(bob, "kind: ConfigMap\nmetadata: {name: d, namespace: team-b}\n", &e) ==
	      -EACCES);
	CHECK(e && strstr(e->msg, "configmaps \"d\" is forbidden: User \"bob\" cannot create") &&
	      strstr(e->msg, "namespace \"team-b\" is owned by root:root mode 0755"));
	err_free(e);
	e = NULL;
	CHECK(create_as(nob, "kind: ConfigMap\nmetadata: {name: e, namespace: team-a}\n", &e) ==
	      -EACCES);
	CHECK(e && strstr(e->msg, "mode 2770"));
	err_free(e);
	e = NULL;
	CHECK(api_get(nob, KIND_CONFIGMAP, "team-a", "c") == NULL && errno == EACCES);
	CHECK(api_delete(nob, KIND_CONFIGMAP, "team-a", "d", &e) == -EACCES);
	CHECK(api_delete(carol, KIND_CONFIGMAP, "team-a", "d", &e) == 1);
	struct sobj **v;
	int n = api_list(nob, KIND_CONFIGMAP, NULL, NULL, &v, NULL);
	CHECK(n == 2); /* default's and team-b's, not team-a's */
	for (int i = 0; i < n; i++)
		CHECK(strcmp(v[i]->ns, "team-a"));
	sobj_list_free(v, (size_t)(n > 0 ? n : 0));
	CHECK(api_list(nob, KIND_CONFIGMAP, "team-a", NULL, &v, NULL) == -EACCES);
	n = api_list(bob, KIND_CONFIGMAP, NULL, NULL, &v, NULL);
	CHECK(n == 3);
	sobj_list_free(v, (size_t)(n > 0 ? n : 0));
	CHECK(api_may_read(bob, KIND_CONFIGMAP, "team-a") &&
	      !api_may_read(nob, KIND_POD, "team-a"));
	err_free(e);
}

/* chown: root only (the owner may change the group to one of theirs);
 * chmod: owner or root; both kept as annotations. */
static void test_chown_chmod(void)
{
	struct err *e = NULL;
	CHECK(api_ns_chown(api, "team-b", 1000, 3000, &e) == 0);
	CHECK(api_ns_chown(alice, "team-b", 1001, (gid_t)-1, &e) == -EACCES);
	err_free(e);
	e = NULL;
	CHECK(api_ns_chown(bob, "team-b", 1001, 1001, &e) == -EACCES);
	err_free(e);
	e = NULL;
	CHECK(api_ns_chown(alice, "team-b", (uid_t)-1, 2000, &e) == -EACCES); /* not in dev */
	err_free(e);
	e = NULL;
	CHECK(api_ns_chmod(alice, "team-b", 02750, &e) == 0);
	struct api_ns_perm p;
	CHECK(api_ns_perm(api, "team-b", &p) == 0 && p.mode == 0750); /* setgid: not her group */
	CHECK(api_ns_chmod(bob, "team-b", 0777, &e) == -EACCES);
	CHECK(e && strstr(e->msg, "only its owner or root may change its mode"));
	err_free(e);
	e = NULL;
	CHECK(api_ns_chown(api, "team-b", (uid_t)-1, 1000, &e) == 0);
	CHECK(api_ns_chmod(alice, "team-b", 02770, &e) == 0);
	CHECK(api_ns_perm(api, "team-b", &p) == 0 && p.uid == 1000 && p.gid == 1000 &&
	      p.mode == 02770);
	struct sobj *o = api_get(api, KIND_NAMESPACE, "", "team-b");
	const json_t *ann = json_object_get(json_object_get(o->obj, "metadata"), "annotations");
	CHECK(!strcmp(json_string_value(json_object_get(ann, API_NS_OWNER)), "1000"));
	CHECK(!strcmp(json_string_value(json_object_get(ann, API_NS_MODE)), "2770"));
	sobj_unref(o);
	CHECK(api_ns_chmod(api, "nope", 0700, &e) == -ENOENT);
	err_free(e);
	/* A user may not write the annotations as a Namespace update either. */
	e = NULL;
	CHECK(create_as(alice,
			"kind: Namespace\nmetadata: {name: team-c, annotations: "
			"{clusterfs.io/owner: '1000'}}\n",
			&e) == -EACCES);
	err_free(e);
}

/* Unreadable annotations read as the defaults. */
static void test_bad_values(void)
{
	json_t *o = json_pack("{s:{s:{s:s,s:s,s:s}}}", "metadata", "annotations", API_NS_OWNER,
			      "-1", API_NS_GROUP, "x", API_NS_MODE, "99");
	struct api_ns_perm p;
	api_ns_perm_of(o, &p);
	CHECK(p.uid == 0 && p.gid == 0 && p.mode == 0755);
	json_decref(o);
}

int main(void)
{
	env_up("authz");
	setup();
	RUN(test_table);
	RUN(test_defaults_and_cluster);
	RUN(test_calls);
	RUN(test_chown_chmod);
	RUN(test_bad_values);
	api_free(alice);
	api_free(bob);
	api_free(carol);
	api_free(nob);
	env_down();
	return unit_done();
}
