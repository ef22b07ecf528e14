/*
 * test_store_mem.c - unit tests of what keeps the store small (issue 16):
 * equal values shared between objects and versions (store_intern.c), the
 * slab's empty chunks given back, the watch history bounded in bytes, and the per-class counts that
 * /cluster/status reads instead of walking every object (store_count).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/mem.h"
#include "engine/obj.h"
#include "engine/store/store.h"
#include "engine/store/store_int.h"
#include "tests/unit/unit.h"

static char tmpdir[] = "/tmp/test_store_mem.XXXXXX";
static int dbseq;

static struct store *open_new(void)
{
	char *path = xasprintf("%s/db%d", tmpdir, ++dbseq);
	struct store *st = NULL;
	_cleanup_err_ struct err *e = NULL;
	int rc = store_open(path, &st, &e);
	if (rc)
		fprintf(stderr, "  store_open: %s\n", e ? e->msg : "?");
	CHECK(rc == 0 && st);
	free(path);
	return st;
}

struct put_arg {
	const char *kind, *name;
	json_t *obj; /* NULL: delete */
	int64_t rv;
};

static int put_fn(struct store_txn *tx, void *arg, struct err **e)
{
	struct put_arg *a = arg;
	a->rv = a->obj ? store_txn_put(tx, a->kind, "default", a->name, a->obj, true, e)
		       : store_txn_delete(tx, a->kind, "default", a->name, e);
	return a->rv < 0 ? (int)a->rv : 0;
}

static int64_t put(struct store *st, const char *kind, const char *name, json_t *obj)
{
	struct put_arg a = {kind, name, obj, 0};
	int rc = store_update(st, put_fn, &a, NULL);
	return rc < 0 ? rc : a.rv;
}

/* A pod with a spec every one of them shares, a name and a phase. */
static json_t *pod(const char *name, const char *phase)
{
	json_t *p =
	    json_pack("{s:s, s:{s:s, s:{s:s}}, s:{s:[{s:s, s:s}], s:[s, s]}}", "kind", "Pod",
		      "metadata", "name", name, "labels", "app", "web", "spec", "containers",
		      "name", "main", "image", "busybox:1.36", "args", "sleep", "3600");
	if (phase)
		json_object_set_new(p, "status", json_pack("{s:s}", "phase", phase));
	return p;
}

static void test_shared_values(void)
{
	struct store *st = open_new();
	if (!st)
		return;
	CHECK(put(st, "Pod", "a", pod("a", "Running")) > 0);
	CHECK(put(st, "Pod", "b", pod("b", "Running")) > 0);
	/* the caller keeps a reference: its tree is left as it was */
	json_t *mine = pod("c", "Pending");
	json_t *spec = json_object_get(mine, "spec");
	CHECK(put(st, "Pod", "c", json_incref(mine)) > 0);
	CHECK(json_object_get(mine, "spec") == spec);
	struct sobj *a = store_get(st, "Pod", "default", "a");
	struct sobj *b = store_get(st, "Pod", "default", "b");
	struct sobj *c = store_get(st, "Pod", "default", "c");
	CHECK(a && b && c);
	if (a && b && c) {
		CHECK(json_object_get(a->obj, "spec") == json_object_get(b->obj, "spec"));
		CHECK(json_object_get(a->obj, "spec") == json_object_get(c->obj, "spec"));
		CHECK(json_object_get(a->obj, "status") == json_object_get(b->obj, "status"));
		CHECK(json_object_get(a->obj, "metadata") != json_object_get(b->obj, "metadata"));
		CHECK(!strcmp(obj_str(a->obj, "metadata.name"), "a"));
		CHECK(!strcmp(obj_str(b->obj, "metadata.name"), "b"));
		CHECK(!strcmp(obj_str(c->obj, "status.phase"), "Pending"));
		json_t *want = pod("b", "Running"), *got = json_deep_copy(b->obj);
		json_object_del(json_object_get(got, "metadata"), "resourceVersion");
		CHECK(json_equal(want, got));
		json_decref(want);
		json_decref(got);
		CHECK(a->size > 0 && b->size > 0);
	}
	sobj_unref(a);
	sobj_unref(b);
	sobj_unref(c);
	json_decref(mine);
	store_close(st);
}

/* Values no object holds any more (the history kept short) are dropped
 * from the table. */
static void test_sweep(void)
{
	store_history_bytes_for_test = 4000;
	struct store *st = open_new();
	if (!st)
		return;
	size_t before = store_intern_count();
	enum { N = 20000 };
	char name[32];
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		json_t *o = pod(name, NULL);
		json_object_set_new(o, "status", json_pack("{s:i}", "n", i));
		CHECK(put(st, "Pod", name, o) > 0);
		CHECK(put(st, "Pod", name, NULL) > 0); /* deleted again */
	}
	/* each put left at least 4 values of its own behind */
	size_t after = store_intern_count();
	CHECK(after < before + N / 2);
	store_close(st);
	store_history_bytes_for_test = 0;
}

/* A peak of distinct values, then every object deleted: once the trimmer
 * has swept (after a burst, in its first calm second), the chunks of the
 * slab that held only those values are given back, and serve again (the
 * objects written after read as they were written). */
static void test_slab_release(void)
{
	store_history_bytes_for_test = 4000;
	struct store *st = open_new();
	if (!st)
		return;
	enum { N = 20000, M = 2000 };
	char name[32];
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		json_t *o = pod(name, NULL);
		json_object_set_new(o, "status", json_pack("{s:i, s:s}", "n", i, "ip", name));
		CHECK(put(st, "Pod", name, o) > 0);
	}
	size_t peak = store_slab_bytes(), back0 = store_slab_given_back(), back = back0;
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		CHECK(put(st, "Pod", name, NULL) > 0);
	}
	for (int i = 0; i < 50 && back - back0 < peak / 2; i++) {
		usleep(100000);
		back = store_slab_given_back();
	}
	printf("  slab: %zu KiB at the peak, %zu KiB given back once they were deleted\n",
	       peak >> 10, (back - back0) >> 10);
	CHECK(back - back0 >= peak / 2);
	for (int i = 0; i < M; i++) {
		snprintf(name, sizeof(name), "q%d", i);
		json_t *o = pod(name, "Running");
		json_object_set_new(o, "status", json_pack("{s:i, s:s}", "n", i, "ip", name));
		CHECK(put(st, "Pod", name, o) > 0);
	}
	int bad = 0;
	for (int i = 0; i < M; i++) {
		snprintf(name, sizeof(name), "q%d", i);
		struct sobj *o = store_get(st, "Pod", "default", name);
		json_t *want = pod(name, "Running");
		json_object_set_new(want, "status", json_pack("{s:i, s:s}", "n", i, "ip", name));
		json_t *got = o ? json_deep_copy(o->obj) : NULL;
		if (got)
			json_object_del(json_object_get(got, "metadata"), "resourceVersion");
		bad += !got || !json_equal(want, got);
		json_decref(want);
		json_decref(got);
		sobj_unref(o);
	}
	CHECK(bad == 0);
	store_close(st);
	store_history_bytes_for_test = 0;
}

/* Pages that only free blocks touch are given back while the rest of
 * their chunk is in use, and their blocks serve again, intact. */
static void test_slab_pages(void)
{
	enum { N = 40000, RUN_LEN = 128 };
	static json_t *v[N], *w[N];
	char buf[160];
	store_slab_begin();
	for (int i = 0; i < N; i++) {
		snprintf(buf, sizeof(buf), "%0100d", i);
		v[i] = json_string(buf);
	}
	store_slab_end();
	/* runs of RUN_LEN freed, one of every four runs kept */
	for (int i = 0; i < N; i++)
		if (i / RUN_LEN % 4) {
			json_decref(v[i]);
			v[i] = NULL;
		}
	size_t back = store_slab_release();
	printf("  slab: %zu KiB of pages given back, chunks still in use\n", back >> 10);
	CHECK(back >= 256 * 1024);
	store_slab_begin();
	for (int i = 0; i < N; i++) {
		snprintf(buf, sizeof(buf), "%0100d", N + i);
		w[i] = json_string(buf);
	}
	store_slab_end();
	int bad = 0;
	for (int i = 0; i < N; i++) {
		snprintf(buf, sizeof(buf), "%0100d", i);
		if (v[i])
			bad += strcmp(json_string_value(v[i]), buf) != 0;
		snprintf(buf, sizeof(buf), "%0100d", N + i);
		bad += !w[i] || strcmp(json_string_value(w[i]), buf) != 0;
	}
	CHECK(bad == 0);
	for (int i = 0; i < N; i++) {
		json_decref(v[i]);
		json_decref(w[i]);
	}
	store_slab_release();
}

/* Old events leave the ring by bytes; a watcher still gets all of them. */
static void test_history_bytes(void)
{
	store_history_bytes_for_test = 4000;
	struct store *st = open_new();
	if (!st)
		return;
	enum { N = 200 };
	char name[32];
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		CHECK(put(st, "Pod", name, pod(name, "Running")) == i + 1);
	}
	struct store_event ev[N];
	int n = store_watch(st, 0, ev, N, 0, NULL);
	CHECK(n == N);
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		CHECK(ev[i].rv == i + 1 && !strcmp(ev[i].obj->name, name));
	}
	store_events_free(ev, n > 0 ? (size_t)n : 0);
	n = store_watch(st, N - 3, ev, N, 0, NULL);
	CHECK(n == 3 && ev[0].rv == N - 2);
	store_events_free(ev, n > 0 ? (size_t)n : 0);
	store_close(st);
	store_history_bytes_for_test = 0;
}

/* Past STORE_HISTORY_MIN events, the history keeps only a window of
 * fresh ones; a watcher from further back still gets every event (from
 * the log table). */
static void test_history_fresh(void)
{
	store_history_fresh_ms_for_test = 600000;
	struct store *st = open_new();
	if (!st)
		return;
	enum { N = STORE_HISTORY_MIN + 500 };
	char name[32];
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		CHECK(put(st, "Pod", name, pod(name, "Running")) == i + 1);
	}
	CHECK(store_history_len(st) == N); /* all fresh yet */
	store_history_fresh_ms_for_test = 50;
	usleep(120 * 1000);
	CHECK(put(st, "Pod", "last", pod("last", "Running")) == N + 1);
	CHECK(store_history_len(st) == STORE_HISTORY_MIN);
	static struct store_event ev[N + 1];
	int n = store_watch(st, 0, ev, N + 1, 0, NULL);
	CHECK(n == N + 1);
	for (int i = 0; i < n; i++)
		CHECK(ev[i].rv == i + 1);
	store_events_free(ev, n > 0 ? (size_t)n : 0);
	store_close(st);
	store_history_fresh_ms_for_test = 0;
}

static json_t *node(const char *ready)
{
	return json_pack("{s:{s:[{s:s, s:s}]}}", "status", "conditions", "type", "Ready", "status",
			 ready);
}

static void test_count(void)
{
	struct store *st = open_new();
	if (!st)
		return;
	size_t c[OBJ_CLASSES];
	CHECK(store_count(st, "Pod", c) == 0 && c[0] == 0 && c[1] == 0);
	CHECK(put(st, "Pod", "a", pod("a", NULL)) > 0);
	CHECK(put(st, "Pod", "b", pod("b", "Running")) > 0);
	CHECK(put(st, "Pod", "c", pod("c", "Failed")) > 0);
	CHECK(put(st, "Pod", "d", pod("d", "Lost")) > 0);
	CHECK(store_count(st, "Pod", c) == 4 && c[0] == 1 && c[1] == 1 && c[2] == 0 && c[3] == 1 &&
	      c[4] == 1);
	CHECK(put(st, "Pod", "a", pod("a", "Running")) > 0);
	CHECK(put(st, "Pod", "c", NULL) > 0);
	CHECK(store_count(st, "Pod", c) == 3 && c[0] == 0 && c[1] == 2 && c[3] == 0);
	CHECK(put(st, "Node", "n1", node("True")) > 0);
	CHECK(put(st, "Node", "n2", node("False")) > 0);
	CHECK(store_count(st, "Node", c) == 2 && c[1] == 1);
	CHECK(put(st, "Node", "n2", node("True")) > 0);
	CHECK(store_count(st, "Node", c) == 2 && c[1] == 2);
	json_t *d = json_pack("{s:{s:i}, s:{s:i}}", "spec", "replicas", 3, "status",
			      "availableReplicas", 2);
	CHECK(put(st, "Deployment", "web", d) > 0);
	CHECK(store_count(st, "Deployment", c) == 1 && c[1] == 0);
	CHECK(store_count(st, "Service", NULL) == 0);
	store_close(st);
	/* the counts are rebuilt at open */
	char *path = xasprintf("%s/db%d", tmpdir, dbseq);
	CHECK(store_open(path, &st, NULL) == 0);
	free(path);
	CHECK(store_count(st, "Pod", c) == 3 && c[1] == 2 && c[4] == 1);
	CHECK(store_count(st, "Node", c) == 2 && c[1] == 2);
	store_close(st);
}

int main(void)
{
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_shared_values);
	RUN(test_sweep);
	RUN(test_slab_release);
	RUN(test_slab_pages);
	RUN(test_history_bytes);
	RUN(test_history_fresh);
	RUN(test_count);
	char *cmd = xasprintf("rm -rf %s", tmpdir);
	if (system(cmd)) {
	}
	free(cmd);
	return unit_done();
}
