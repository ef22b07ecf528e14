/*
 * test_apic.c - the API client (engine/client/apic.h): one suite run
 * against both implementations, in-process (apic_local) and over HTTPS
 * (apic_http, against the http/ face on 127.0.0.1:0 with its CA and
 * token): get, list with label and field selectors, create, patch (with
 * a conflict retried over HTTP), status with a uid, delete, events, and
 * the watch (kinds, a pod field selector, 410 Expired and resync); over
 * HTTP also a server that goes away and comes back (-ENOTCONN, then the
 * watch resumes without losing a change).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/clock.h"
#include "engine/client/apic.h"
#include "engine/client/informer.h"
#include "engine/obj.h"
#include "engine/valid/codec.h"
#include "http/http.h"
#include "tests/unit/env.h"
#include "tests/unit/unit.h"

static struct http *srv;
static int port;
static struct apic *remote;
static struct apic *c; /* the one under test */
static bool over_http;

static void server_up(int want_port)
{
	char listen[32];
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", want_port);
	struct http_opts o = {.api = api, .data_dir = dir, .listen = listen};
	struct err *e = NULL;
	if (http_start(&o, &srv, &e) < 0) {
		fprintf(stderr, "http: %s\n", e ? e->msg : "?");
		exit(1);
	}
	port = http_port(srv);
}

static void up(void)
{
	env_up("apic");
	server_up(0);
	char *tokpath = xasprintf("%s/pki/token", dir), tok[128] = "";
	FILE *f = fopen(tokpath, "r");
	if (!f || !fgets(tok, sizeof(tok), f)) {
		fprintf(stderr, "no token in %s\n", tokpath);
		exit(1);
	}
	fclose(f);
	tok[strcspn(tok, "\n")] = 0;
	char *url = xasprintf("https://127.0.0.1:%d", port);
	char *ca = xasprintf("%s/pki/ca.crt", dir);
	struct apic_http_opts ho = {.server = url, .ca_file = ca, .token = tok, .timeout_ms = 3000};
	struct err *e = NULL;
	if (apic_http_new(&ho, &remote, &e) < 0) {
		fprintf(stderr, "apic_http_new: %s\n", e ? e->msg : "?");
		exit(1);
	}
	free(url);
	free(ca);
	free(tokpath);
}

static void down(void)
{
	apic_free(remote);
	http_stop(srv);
	env_down();
}

static json_t *yaml(const char *text)
{
	json_t **docs;
	size_t n;
	if (codec_decode(text, strlen(text), &docs, &n, NULL) < 0 || n != 1)
		return NULL;
	json_t *d = docs[0];
	free(docs);
	return d;
}

static json_t *cm(const char *name, const char *label)
{
	return json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:{s:s}}", "apiVersion", "v1", "kind",
			 "ConfigMap", "metadata", "name", name, "namespace", "default", "labels",
			 "app", label, "data", "k", "v");
}

static json_t *pod(const char *name, const char *node)
{
	char *t = xasprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: %s, namespace: default}\n"
			    "spec:\n  nodeName: %s\n  containers: [{name: c, image: busybox}]\n",
			    name, node);
	json_t *p = yaml(t);
	free(t);
	return p;
}

static int create(json_t *o)
{
	int res = 0;
	int r = apic_create_many(c, &o, 1, &res);
	if (r < 0 || res < 0)
		fprintf(stderr, "  create %s: %d %d\n", obj_str(o, "metadata.name"), r, res);
	json_decref(o);
	return r < 0 ? r : res;
}

/* ---- the suite, run with c set to each implementation ---- */

static void t_get_list(void)
{
	CHECK(create(cm("a", "x")) == 0);
	CHECK(create(cm("b", "y")) == 0);
	CHECK(create(pod("p1", "n1")) == 0);
	CHECK(create(pod("p2", "n2")) == 0);
	struct sobj *o = NULL;
	CHECK(apic_get(c, KIND_CONFIGMAP, "default", "a", &o, NULL) == 0 && o);
	if (o) {
		CHECK(!strcmp(o->kind, "ConfigMap") && !strcmp(o->ns, "default"));
		CHECK(!strcmp(obj_str(o->obj, "data.k"), "v"));
		CHECK(o->rv > 0 &&
		      o->rv == strtoll(obj_str(o->obj, "metadata.resourceVersion"), NULL, 10));
	}
	sobj_unref(o);
	o = NULL;
	CHECK(apic_get(c, KIND_CONFIGMAP, "default", "nope", &o, NULL) == -ENOENT && !o);
	struct sobj **v;
	int n = apic_list(c, KIND_CONFIGMAP, &(struct apic_sel){.labels = "app=y"}, &v, NULL);
	CHECK(n == 1 && !strcmp(v[0]->name, "b"));
	sobj_list_free(v, n > 0 ? (size_t)n : 0);
	n = apic_list(c, KIND_POD, &(struct apic_sel){.fields = "spec.nodeName=n2"}, &v, NULL);
	CHECK(n == 1 && !strcmp(v[0]->name, "p2"));
	sobj_list_free(v, n > 0 ? (size_t)n : 0);
	n = apic_list(c, KIND_POD, &(struct apic_sel){.ns = "kube-none"}, &v, NULL);
	CHECK(n == 0);
	sobj_list_free(v, n > 0 ? (size_t)n : 0);
	/* a batch: one new, one there already */
	json_t *docs[2] = {cm("c", "x"), cm("a", "x")};
	int res[2] = {1, 1};
	CHECK(apic_create_many(c, docs, 2, res) == 1 && res[0] == 0 && res[1] == -EEXIST);
	json_decref(docs[0]);
	json_decref(docs[1]);
}

static int patch_calls;

static int add_label(json_t *o, void *arg, struct err **e)
{
	patch_calls++;
	if (over_http && patch_calls == 1) /* someone else writes meanwhile */
		CHECK(api_patch(api, KIND_CONFIGMAP, "default", "a", add_label, "other", NULL) ==
		      1);
	json_t *md = json_object_get(o, "metadata");
	json_t *l = json_object_get(md, "labels");
	json_object_set_new(l, arg, json_string("1"));
	return 0;
}

static void t_patch(void)
{
	patch_calls = 0;
	CHECK(apic_patch(c, KIND_CONFIGMAP, "default", "a", add_label, "mine", NULL) == 1);
	CHECK(patch_calls == (over_http ? 3 : 1)); /* the other write, our two tries */
	struct sobj *o = api_get(api, KIND_CONFIGMAP, "default", "a");
	CHECK(o && obj_str(o->obj, "metadata.labels.mine"));
	if (over_http)
		CHECK(o && obj_str(o->obj, "metadata.labels.other"));
	sobj_unref(o);
	CHECK(apic_patch(c, KIND_CONFIGMAP, "default", "nope", add_label, "x", NULL) == -ENOENT);
}

static void t_status_delete(void)
{
	struct sobj *p = api_get(api, KIND_POD, "default", "p1");
	CHECK(p != NULL);
	if (!p)
		return;
	json_t *st = json_pack("{s:s, s:s}", "phase", "Running", "podIP", "10.1.2.3");
	struct api_status s[2] = {
	    {KIND_POD, "default", "p1", obj_str(p->obj, "metadata.uid"), st, false},
	    {KIND_POD, "default", "p2", "not-its-uid", st, false}};
	int res[2] = {1, 1};
	CHECK(apic_status_many(c, s, 2, res) == 1 && res[0] == 0 && res[1] == -ESTALE);
	struct sobj *o = api_get(api, KIND_POD, "default", "p1");
	CHECK(o && !strcmp(obj_str(o->obj, "status.podIP") ?: "", "10.1.2.3"));
	sobj_unref(o);
	/* given statuses: the call takes the reference (written, or refused) */
	json_t *g1 = json_pack("{s:s, s:s}", "phase", "Running", "podIP", "10.1.2.4");
	json_t *g2 = json_pack("{s:s}", "phase", "Running");
	struct api_status g[2] = {
	    {KIND_POD, "default", "p1", obj_str(p->obj, "metadata.uid"), json_incref(g1), true},
	    {KIND_POD, "default", "nope", NULL, json_incref(g2), true}};
	CHECK(apic_status_many(c, g, 2, res) == 1 && res[0] == 0 && res[1] == -ENOENT);
	CHECK(g1->refcount == 1 && g2->refcount == 1);
	json_decref(g1);
	json_decref(g2);
	o = api_get(api, KIND_POD, "default", "p1");
	CHECK(o && !strcmp(obj_str(o->obj, "status.podIP") ?: "", "10.1.2.4"));
	sobj_unref(o);
	json_t *st2 = json_pack("{s:s}", "phase", "Failed");
	CHECK(apic_update_status(c, KIND_POD, "default", "p2", st2, NULL) == 1);
	o = api_get(api, KIND_POD, "default", "p2");
	CHECK(o && !strcmp(obj_str(o->obj, "status.phase") ?: "", "Failed"));
	sobj_unref(o);
	json_decref(st);
	json_decref(st2);
	struct api_ref r[2] = {{KIND_POD, "default", "p1", obj_str(p->obj, "metadata.uid")},
			       {KIND_POD, "default", "gone", NULL}};
	CHECK(apic_delete_many(c, r, 2, 0, res) == 1 && res[0] == 0 && res[1] == -ENOENT);
	o = NULL;
	CHECK(apic_get(c, KIND_POD, "default", "p1", &o, NULL) == -ENOENT);
	sobj_unref(p);
}

static int64_t event_count(const char *reason)
{
	struct sobj **v;
	int n = api_list(api, KIND_EVENT, "default", NULL, &v, NULL);
	int64_t count = 0;
	for (int i = 0; i < n; i++)
		if (!strcmp(obj_str(v[i]->obj, "reason") ?: "", reason))
			count += obj_int(v[i]->obj, "count", 0) * 1000 + 1; /* count, events */
	sobj_list_free(v, n > 0 ? (size_t)n : 0);
	return count;
}

static void t_event(void)
{
	apic_event(c, "Normal", "Tested", "Pod", "default", "p2", "hello %d", 1);
	CHECK(WAIT_FOR(event_count("Tested") == 1001, 3000));
	apic_event(c, "Normal", "Tested", "Pod", "default", "p2", "hello %d", 1);
	CHECK(WAIT_FOR(event_count("Tested") == 2001, 3000)); /* one event, count 2 */
}

/* Reads events until one about name of type comes (within ms); -ERANGE
 * seen is counted in *gaps. */
static bool wait_event(struct apic_watch *w, const char *name, enum store_event_type type, int ms,
		       int *gaps)
{
	struct store_event evs[64];
	int64_t end = mono_ms() + ms;
	bool found = false;
	while (!found && mono_ms() < end) {
		int n = apic_watch_next(w, evs, 64, 100);
		if (n == -ERANGE && gaps)
			(*gaps)++;
		for (int i = 0; i < n; i++)
			if (!strcmp(evs[i].obj->name, name) && evs[i].type == type)
				found = true;
		if (n > 0)
			store_events_free(evs, (size_t)n);
	}
	return found;
}

/* Everything that comes within ms: true if an event about name came. */
static bool any_about(struct apic_watch *w, const char *name, int ms)
{
	struct store_event evs[64];
	int64_t end = mono_ms() + ms;
	bool found = false;
	while (mono_ms() < end) {
		int n = apic_watch_next(w, evs, 64, 50);
		for (int i = 0; i < n; i++)
			found |= !strcmp(evs[i].obj->name, name);
		if (n > 0)
			store_events_free(evs, (size_t)n);
	}
	return found;
}

static void t_watch(void)
{
	static const struct kind_info *const kinds[] = {KIND_POD, KIND_CONFIGMAP};
	struct apic_watch_spec sp = {kinds, 2, "spec.nodeName=n1"};
	struct apic_watch *w = NULL;
	CHECK(apic_watch_open(c, &sp, &w, NULL) == 0 && w);
	if (!w)
		return;
	CHECK(create(cm("w1", "x")) == 0);
	CHECK(wait_event(w, "w1", STORE_ADDED, 3000, NULL));
	CHECK(apic_patch(c, KIND_CONFIGMAP, "default", "w1", add_label, "z", NULL) == 1);
	CHECK(wait_event(w, "w1", STORE_MODIFIED, 3000, NULL));
	CHECK(create(pod("other", "n2")) == 0); /* not ours: filtered */
	CHECK(create(pod("mine", "n1")) == 0);
	CHECK(wait_event(w, "mine", STORE_ADDED, 3000, NULL));
	struct api_ref r = {KIND_CONFIGMAP, "default", "w1", NULL};
	CHECK(apic_delete_many(c, &r, 1, 0, NULL) == 1);
	CHECK(wait_event(w, "w1", STORE_DELETED, 3000, NULL));
	CHECK(create(cm("w2", "x")) == 0);
	CHECK(!any_about(w, "other", 300));
	/* a Service is not watched */
	json_t *svc =
	    yaml("apiVersion: v1\nkind: Service\nmetadata: {name: s1, namespace: default}\n"
		 "spec: {ports: [{port: 80}]}\n");
	CHECK(create(svc) == 0);
	CHECK(!any_about(w, "s1", 300));
	apic_watch_close(w);
}

static int flip(json_t *o, void *arg, struct err **e)
{
	json_object_set_new(json_object_get(o, "data"), "k", json_string(arg));
	return 0;
}

/* The history compacted past where the watch is: -ERANGE, then it goes on. */
static void t_watch_gap(void)
{
	static const struct kind_info *const kinds[] = {KIND_CONFIGMAP};
	struct apic_watch_spec sp = {kinds, 1, NULL};
	struct apic_watch *w = NULL;
	CHECK(apic_watch_open(c, &sp, &w, NULL) == 0 && w);
	if (!w)
		return;
	for (int i = 0; i < 60; i++) {
		char v[16];
		snprintf(v, sizeof(v), "v%d", i);
		CHECK(apic_patch(c, KIND_CONFIGMAP, "default", "c", flip, v, NULL) == 1);
	}
	int gaps = 0;
	struct store_event evs[64];
	int64_t end = mono_ms() + 3000;
	while (!gaps && mono_ms() < end) {
		int n = apic_watch_next(w, evs, 64, 100);
		gaps += n == -ERANGE;
		if (n < 0 && n != -ERANGE)
			fprintf(stderr, "  next: %d\n", n);
		if (n > 0)
			store_events_free(evs, (size_t)n);
	}
	CHECK(gaps == 1);
	CHECK(create(cm("after-gap", "x")) == 0);
	CHECK(wait_event(w, "after-gap", STORE_ADDED, 3000, NULL));
	apic_watch_close(w);
}

static void suite(struct apic *impl, bool http)
{
	c = impl;
	over_http = http;
	printf("-- %s\n", apic_name(c));
	RUN(t_get_list);
	RUN(t_patch);
	RUN(t_status_delete);
	RUN(t_event);
	RUN(t_watch);
	RUN(t_watch_gap);
}

/* Over HTTP: the server goes away and comes back on the same port. */
static void test_server_restart(void)
{
	c = remote;
	static const struct kind_info *const kinds[] = {KIND_CONFIGMAP};
	struct apic_watch_spec sp = {kinds, 1, NULL};
	struct apic_watch *w = NULL;
	CHECK(apic_watch_open(c, &sp, &w, NULL) == 0 && w);
	if (!w)
		return;
	CHECK(!any_about(w, "x", 300)); /* connected */
	http_stop(srv);
	srv = NULL;
	struct sobj *o = NULL;
	CHECK(apic_get(c, KIND_CONFIGMAP, "default", "a", &o, NULL) == -ENOTCONN && !o);
	CHECK(!any_about(w, "x", 500)); /* retrying */
	/* changes while it is away */
	CHECK(api_patch(api, KIND_CONFIGMAP, "default", "a", flip, "while-away", NULL) == 1);
	json_t *d = cm("made-while-away", "x");
	CHECK(api_create(api, d, NULL, NULL) == 0);
	json_decref(d);
	server_up(port);
	int gaps = 0;
	CHECK(wait_event(w, "made-while-away", STORE_ADDED, 15000, &gaps));
	CHECK(gaps == 0); /* resumed, not relisted */
	CHECK(apic_get(c, KIND_CONFIGMAP, "default", "a", &o, NULL) == 0 && o &&
	      !strcmp(obj_str(o->obj, "data.k") ?: "", "while-away"));
	sobj_unref(o);
	apic_watch_close(w);
}

/* Local only: exec registration; over HTTP it is refused clearly. */
static void test_exec_local_only(void)
{
	static const struct api_exec_provider p = {0};
	struct err *e = NULL;
	struct apic *local = apic_local_new(api);
	CHECK(apic_exec_register(local, "n1", &p, NULL, &e) == 0);
	apic_exec_unregister(local, "n1");
	apic_free(local);
	CHECK(apic_exec_register(remote, "n1", &p, NULL, &e) == -ENOTSUP && e &&
	      strstr(e->msg, "not supported"));
	err_free(e);
}

static void test_fields_match(void)
{
	json_t *o =
	    json_pack("{s:{s:s}, s:{s:s}}", "spec", "nodeName", "n1", "status", "phase", "Running");
	CHECK(apic_fields_match(o, NULL) && apic_fields_match(o, ""));
	CHECK(apic_fields_match(o, "spec.nodeName=n1"));
	CHECK(apic_fields_match(o, "spec.nodeName==n1,status.phase!=Failed"));
	CHECK(!apic_fields_match(o, "spec.nodeName=n2"));
	CHECK(!apic_fields_match(o, "spec.nodeName=n1,status.phase=Pending"));
	CHECK(apic_fields_match(o, "spec.missing="));
	json_decref(o);
}

int main(void)
{
	store_log_keep_for_test = 16; /* so that t_watch_gap compacts */
	RUN(test_fields_match);
	up();
	struct apic *local = apic_local_new(api);
	suite(local, false);
	apic_free(local);
	down();
	up();
	suite(remote, true);
	RUN(test_server_restart);
	RUN(test_exec_local_only);
	down();
	return unit_done();
}
