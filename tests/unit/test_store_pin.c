/*
 * test_store_pin.c - schema 2: an object's text is kept once, in the log
 * row of its revision.  Compaction keeps the rows objects point at, and a
 * put or delete that moves an object off such a row deletes it; watch
 * resume still finds a compacted revision; a schema 1 data dir (the text
 * in objects too, a log row compacted away) is migrated when opened; an
 * object without its log row is reported corrupt.
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

static char tmpdir[] = "/tmp/test_store_pin.XXXXXX";

static struct store *open_at(const char *path)
{
	struct store *st = NULL;
	_cleanup_err_ struct err *e = NULL;
	CHECK(store_open(path, &st, &e) == 0 && st);
	return st;
}

struct op {
	const char *name;
	json_t *obj; /* NULL: delete */
	int64_t rv;
};

static int op_fn(struct store_txn *tx, void *arg, struct err **e)
{
	struct op *o = arg;
	if (o->obj)
		o->rv = store_txn_put(tx, "Pod", "ns", o->name, o->obj, true, e);
	else
		o->rv = store_txn_delete(tx, "Pod", "ns", o->name, e);
	return o->rv < 0 ? (int)o->rv : 0;
}

static int64_t op(struct store *st, const char *name, int value, bool del)
{
	struct op o = {name, NULL, 0};
	if (!del)
		o.obj = json_pack("{s:s,s:{s:s,s:s},s:{s:i}}", "kind", "Pod", "metadata", "name",
				  name, "namespace", "ns", "spec", "value", value);
	_cleanup_err_ struct err *e = NULL;
	CHECK(store_update(st, op_fn, &o, &e) == 0);
	return o.rv;
}

static int64_t count_sql(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t n = -1;
	CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
	CHECK(sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

static int value_of(struct store *st, const char *name)
{
	struct sobj *o = store_get(st, "Pod", "ns", name);
	int v =
	    o ? (int)json_integer_value(json_object_get(json_object_get(o->obj, "spec"), "value"))
	      : -1;
	sobj_unref(o);
	return v;
}

static void test_pinned(void)
{
	char *path = xasprintf("%s/pin", tmpdir);
	store_log_keep_for_test = 10;
	struct store *st = open_at(path);
	int64_t r_keep = op(st, "keep", 7, false);
	int64_t r_gone = op(st, "gone", 8, false);
	for (int i = 0; i < 100; i++)
		op(st, "a", i, false);
	/* compacted, but for the rows objects point at */
	CHECK(count_sql(path, "SELECT value FROM meta WHERE key = 'compacted'") > r_gone);
	CHECK(count_sql(path, "SELECT count(*) FROM log WHERE rv <= 2") == 2);
	CHECK(count_sql(path, "SELECT count(*) FROM log") <= 14);
	struct store_event ev[16];
	CHECK(store_watch(st, 0, ev, 16, 0, NULL) == -ERANGE);
	store_close(st);

	st = open_at(path); /* the texts are read back from the log */
	CHECK(value_of(st, "keep") == 7 && value_of(st, "gone") == 8 && value_of(st, "a") == 99);
	CHECK(store_watch(st, 0, ev, 16, 0, NULL) == -ERANGE);
	CHECK(store_watch(st, r_keep, ev, 16, 0, NULL) == -ERANGE);
	/* moving off a kept row deletes it */
	op(st, "keep", 9, false);
	op(st, "gone", 0, true);
	CHECK(count_sql(path, "SELECT count(*) FROM log WHERE rv <= 2") == 0);
	CHECK(count_sql(path, "SELECT count(*) FROM objects") == 2);
	store_close(st);
	st = open_at(path);
	CHECK(value_of(st, "keep") == 9 && value_of(st, "gone") == -1 && value_of(st, "a") == 99);
	store_close(st);
	store_log_keep_for_test = 0;
	free(path);
}

/* A schema 1 data dir: objects a (its log row kept) and b (compacted). */
static const char v1_sql[] =
    "PRAGMA journal_mode=WAL;"
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE objects(kind TEXT NOT NULL, ns TEXT NOT NULL,"
    " name TEXT NOT NULL, rv INTEGER NOT NULL, user_rv INTEGER NOT NULL,"
    " mtime INTEGER NOT NULL, data TEXT NOT NULL, UNIQUE(kind, ns, name));"
    "CREATE TABLE log(rv INTEGER PRIMARY KEY, type INTEGER NOT NULL,"
    " kind TEXT NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL, obj_rv INTEGER NOT NULL,"
    " user_rv INTEGER NOT NULL, mtime INTEGER NOT NULL, data TEXT NOT NULL);"
    "INSERT INTO meta VALUES('schema', 1), ('rev', 5), ('compacted', 3);"
    "INSERT INTO objects VALUES('Pod', 'ns', 'b', 2, 2, 1,"
    " '{\"kind\":\"Pod\",\"metadata\":{\"name\":\"b\",\"resourceVersion\":\"2\"}}'),"
    " ('Pod', 'ns', 'a', 5, 4, 1,"
    " '{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"5\"}}');"
    "INSERT INTO log VALUES(4, 1, 'Pod', 'ns', 'a', 4, 4, 1,"
    " '{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"4\"}}'),"
    " (5, 2, 'Pod', 'ns', 'a', 5, 4, 1,"
    " '{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"5\"}}');";

static void test_migrate(void)
{
	char *path = xasprintf("%s/v1", tmpdir);
	sqlite3 *db = NULL;
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, v1_sql, NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);

	struct store *st = open_at(path);
	CHECK(count_sql(path, "SELECT value FROM meta WHERE key = 'schema'") == 2);
	CHECK(count_sql(path, "SELECT count(*) FROM pragma_table_info('objects')"
			      " WHERE name = 'data'") == 0);
	CHECK(count_sql(path, "SELECT count(*) FROM log") == 3);
	CHECK(store_rev(st) == 5);
	struct sobj *o = store_get(st, "Pod", "ns", "b");
	CHECK(o && o->rv == 2 && o->user_rv == 2);
	sobj_unref(o);
	o = store_get(st, "Pod", "ns", "a");
	CHECK(o && o->rv == 5 && o->user_rv == 4);
	sobj_unref(o);
	/* the history: 4 and 5 kept, 3 and before compacted */
	struct store_event ev[4];
	int n = store_watch(st, 3, ev, 4, 0, NULL);
	CHECK(n == 2 && ev[0].rv == 4 && ev[0].type == STORE_ADDED && ev[1].rv == 5);
	store_events_free(ev, n > 0 ? (size_t)n : 0);
	CHECK(store_watch(st, 0, ev, 4, 0, NULL) == -ERANGE);
	/* a put moves b off its row, which compaction kept */
	int64_t rv = op(st, "b", 1, false);
	CHECK(rv == 6 && count_sql(path, "SELECT count(*) FROM log WHERE rv = 2") == 0);
	store_close(st);
	st = open_at(path);
	CHECK(value_of(st, "b") == 1 && store_rev(st) == 6);
	store_close(st);
	/* an object whose log row is gone is corrupt, not silently dropped */
	CHECK(sqlite3_open(path, &db) == SQLITE_OK);
	CHECK(sqlite3_exec(db, "DELETE FROM log WHERE rv = 6", NULL, NULL, NULL) == SQLITE_OK);
	sqlite3_close(db);
	st = NULL;
	_cleanup_err_ struct err *e = NULL;
	CHECK(store_open(path, &st, &e) < 0 && !st && e && strstr(e->msg, "corrupt"));
	free(path);
}

int main(void)
{
	log_level = LOG_WARN;
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_pinned);
	RUN(test_migrate);
	char *cmd = xasprintf("rm -rf %s", tmpdir);
	CHECK(system(cmd) == 0);
	free(cmd);
	return unit_done();
}
