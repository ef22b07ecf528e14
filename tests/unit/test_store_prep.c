/*
 * test_store_prep.c - puts prepared before the transaction
 * (store_prepare, store_txn_put_prep): the rows they write (object and
 * log) are byte for byte the rows a plain store_txn_put of the same object
 * writes, with the revision in place; the object read back (from the index
 * and after reopening) is the same; an object holding the mark's text
 * still gets its own revision; user_rv follows user_change; a bad object
 * is not prepared; an object the caller holds is left as it was; a
 * function run twice (as on etcd) reuses the prep.
 */
#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "engine/log.h"
#include "engine/mem.h"
#include "engine/store/store.h"
#include "tests/unit/unit.h"

static char tmpdir[] = "/tmp/test_store_prep.XXXXXX";

static struct store *open_at(const char *path)
{
	struct store *st = NULL;
	_cleanup_err_ struct err *e = NULL;
	CHECK(store_open(path, &st, &e) == 0 && st);
	return st;
}

struct put_arg {
	const char *name;
	json_t *obj;		    /* plain put (taken) */
	const struct store_prep *p; /* or prepared */
	bool user;
	int64_t rv;
};

static int put_fn(struct store_txn *tx, void *arg, struct err **e)
{
	struct put_arg *a = arg;
	if (a->p)
		a->rv = store_txn_put_prep(tx, a->p, a->user, e);
	else
		a->rv = store_txn_put(tx, "Pod", "ns", a->name, a->obj, a->user, e);
	return a->rv < 0 ? (int)a->rv : 0;
}

static json_t *pod(const char *name, const char *extra)
{
	return json_pack("{s:s,s:{s:s,s:s,s:s,s:{s:s}},s:{s:s,s:[{s:s}]}}", "kind", "Pod",
			 "metadata", "name", name, "namespace", "ns", "resourceVersion", "7",
			 "labels", "app", extra, "spec", "nodeName", "n1", "containers", "image",
			 "busybox");
}

/* The data column of the row of table for name (objects) or rv (log). */
static char *row_text(const char *path, const char *sql, const char *name, int64_t rv)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	char *out = NULL;
	CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK);
	if (name)
		sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(s, 1, rv);
	if (sqlite3_step(s) == SQLITE_ROW)
		out = xstrdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	sqlite3_close(db);
	return out;
}

/* Puts obj as name, prepared or not; returns the revision. */
static int64_t put(struct store *st, const char *name, json_t *obj, bool prep, bool user)
{
	struct put_arg a = {name, NULL, NULL, user, 0};
	struct store_prep *p = NULL;
	if (prep) {
		p = store_prepare(st, "Pod", "ns", name, obj);
		CHECK(p);
		a.p = p;
	} else {
		a.obj = obj;
	}
	_cleanup_err_ struct err *e = NULL;
	CHECK(store_update(st, put_fn, &a, &e) == 0);
	store_prep_free(p);
	return a.rv;
}

/* The text the object row of name holds, with its revision replaced by "R". */
static char *text_norev(const char *path, const char *name, int64_t rv)
{
	char *t = row_text(path, "SELECT data FROM objects WHERE name = ?1", name, 0);
	CHECK(t);
	char *rvs = xasprintf("\"resourceVersion\":\"%" PRId64 "\"", rv);
	char *at = strstr(t, rvs);
	CHECK(at);
	char *out = xasprintf("%.*sR%s", (int)(at - t), t, at + strlen(rvs));
	free(rvs);
	free(t);
	return out;
}

static void test_same_rows(void)
{
	char *path = xasprintf("%s/db1", tmpdir);
	struct store *st = open_at(path);
	int64_t r1 = put(st, "plain", pod("plain", "web"), false, false);
	int64_t r2 = put(st, "prep", pod("plain", "web"), true, false);
	CHECK(r1 > 0 && r2 == r1 + 1);
	/* the same content but the revision (the names differ only in the key) */
	char *a = text_norev(path, "plain", r1), *b = text_norev(path, "prep", r2);
	CHECK(!strcmp(a, b));
	free(a);
	free(b);
	/* the text is the encoding of what the index holds, log row the same */
	struct sobj *o = store_get(st, "Pod", "ns", "prep");
	CHECK(o && o->rv == r2);
	char *enc = json_dumps(o->obj, JSON_COMPACT);
	char *row = row_text(path, "SELECT data FROM objects WHERE name = ?1", "prep", 0);
	char *log = row_text(path, "SELECT data FROM log WHERE rv = ?1", NULL, r2);
	CHECK(enc && row && log && !strcmp(enc, row) && !strcmp(enc, log));
	CHECK(o->size == strlen(enc));
	const char *rvs = json_string_value(
	    json_object_get(json_object_get(o->obj, "metadata"), "resourceVersion"));
	char want[24];
	snprintf(want, sizeof(want), "%" PRId64, r2);
	CHECK(rvs && !strcmp(rvs, want));
	free(enc);
	free(row);
	free(log);
	/* read back after reopening: the same object */
	json_t *before = json_incref(o->obj);
	sobj_unref(o);
	store_close(st);
	st = open_at(path);
	o = store_get(st, "Pod", "ns", "prep");
	CHECK(o && o->rv == r2 && json_equal(o->obj, before));
	json_decref(before);
	sobj_unref(o);
	store_close(st);
	free(path);
}

static void test_mark_in_object_and_user_rv(void)
{
	char *path = xasprintf("%s/db2", tmpdir);
	struct store *st = open_at(path);
	/* a value that is the mark's own text: the text is made at the commit */
	int64_t r1 = put(st, "odd", pod("odd", "@cfs:rv@"), true, true);
	struct sobj *o = store_get(st, "Pod", "ns", "odd");
	CHECK(o && o->rv == r1 && o->user_rv == r1);
	char *enc = json_dumps(o->obj, JSON_COMPACT);
	char *row = row_text(path, "SELECT data FROM objects WHERE name = ?1", "odd", 0);
	CHECK(enc && row && !strcmp(enc, row) && strstr(row, "\"app\":\"@cfs:rv@\""));
	free(enc);
	free(row);
	sobj_unref(o);
	/* a status-like write keeps user_rv */
	int64_t r2 = put(st, "odd", pod("odd", "x"), true, false);
	o = store_get(st, "Pod", "ns", "odd");
	CHECK(o && o->rv == r2 && o->user_rv == r1);
	sobj_unref(o);
	/* an object the caller still holds is not changed */
	json_t *mine = pod("held", "web"), *copy = json_deep_copy(mine);
	struct store_prep *p = store_prepare(st, "Pod", "ns", "held", json_incref(mine));
	CHECK(p && json_equal(mine, copy));
	struct put_arg a = {"held", NULL, p, false, 0};
	_cleanup_err_ struct err *e = NULL;
	CHECK(store_update(st, put_fn, &a, &e) == 0 && a.rv > r2);
	CHECK(json_equal(mine, copy));
	store_prep_free(p);
	json_decref(mine);
	json_decref(copy);
	/* not an object with a metadata object: not prepared */
	CHECK(!store_prepare(st, "Pod", "ns", "bad", json_pack("{s:i}", "metadata", 1)));
	CHECK(!store_prepare(st, "Pod", "ns", "bad", json_string("x")));
	store_close(st);
	free(path);
}

struct twice_arg {
	const struct store_prep *p;
	int64_t rv[2];
};

/* Two puts of the same prep in one function, as a rerun would make. */
static int twice_fn(struct store_txn *tx, void *arg, struct err **e)
{
	struct twice_arg *a = arg;
	for (int i = 0; i < 2; i++)
		if ((a->rv[i] = store_txn_put_prep(tx, a->p, false, e)) < 0)
			return (int)a->rv[i];
	return 0;
}

static void test_reuse(void)
{
	char *path = xasprintf("%s/db3", tmpdir);
	struct store *st = open_at(path);
	struct store_prep *p = store_prepare(st, "Pod", "ns", "again", pod("again", "web"));
	struct twice_arg a = {p, {0, 0}};
	_cleanup_err_ struct err *e = NULL;
	CHECK(store_update(st, twice_fn, &a, &e) == 0);
	CHECK(a.rv[0] > 0 && a.rv[1] == a.rv[0] + 1);
	struct sobj *o = store_get(st, "Pod", "ns", "again");
	CHECK(o && o->rv == a.rv[1]);
	char *enc = json_dumps(o->obj, JSON_COMPACT);
	char *log = row_text(path, "SELECT data FROM log WHERE rv = ?1", NULL, a.rv[0]);
	char want[64];
	snprintf(want, sizeof(want), "\"resourceVersion\":\"%" PRId64 "\"", a.rv[0]);
	CHECK(enc && log && strstr(log, want) && !strstr(enc, want));
	free(enc);
	free(log);
	sobj_unref(o);
	store_prep_free(p);
	store_close(st);
	free(path);
}

int main(void)
{
	log_level = LOG_WARN;
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_same_rows);
	RUN(test_mark_in_object_and_user_rv);
	RUN(test_reuse);
	char *cmd = xasprintf("rm -rf %s", tmpdir);
	CHECK(system(cmd) == 0);
	free(cmd);
	return unit_done();
}
