/*
 * store.c - the durable object store (the contract is in store.h).
 *
 * Why it is built this way:
 *
 * SQLite holds the truth in three tables: `objects` (the latest state of
 * each object), `log` (every change, keyed by revision, kept for
 * STORE_LOG_KEEP revisions; a DELETED row holds the object's last state)
 * and `meta` (schema version, current revision, compacted revision).
 *
 * Memory holds a copy of the committed state so that reads never wait on
 * the disk: an index kind -> namespace -> name -> sobj and a reverse index
 * owner uid -> dependents.  Committed events go to the watch feed
 * (watch.c): a ring of the newest ones, the log table for older ones.
 *
 * Writes are group-committed.  store_update() queues a request; the first
 * caller to find no batch in flight becomes the leader, takes the whole
 * queue and runs it as one SQLite transaction, each request under its own
 * SAVEPOINT.  One fsync then covers every caller of the batch.  Requests
 * queued meanwhile wait for the next batch, whose leader is one of them.
 * Only after COMMIT does the leader apply the batch to the index and the
 * watch feed, so nothing uncommitted is ever visible outside the batch.
 *
 * Revisions are handed out in put/delete order.  A request that fails
 * takes its revisions back, and a batch that fails to commit takes back all
 * of its own, so the revisions in the log have no gaps: a watcher can tell
 * a compacted log from the first revision it gets back.
 */
#include "engine/store/store.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/hmap.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/store/watch.h"
#include "engine/store/store_int.h"

#define SCHEMA_VERSION	 1
#define COMPACT_MAX_ROWS 10000 /* log rows deleted per batch at most */
#define BATCH_MAX	 1024  /* requests in one batch at most */
#define BUSY_TIMEOUT_MS	 5000

int store_fail_commit_for_test;
int64_t store_log_keep_for_test;
uint64_t store_batches_for_test;

static const char *const wsql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_SAVEPOINT] = "SAVEPOINT req",
    [S_RELEASE] = "RELEASE req",
    [S_ROLLBACK_TO] = "ROLLBACK TO req",
    [S_UPSERT] = "INSERT INTO objects(kind, ns, name, rv, user_rv, mtime, data)"
		 " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(kind, ns, name) DO UPDATE"
		 " SET rv = excluded.rv, user_rv = excluded.user_rv,"
		 " mtime = excluded.mtime, data = excluded.data",
    [S_DELETE] = "DELETE FROM objects WHERE kind = ?1 AND ns = ?2 AND name = ?3",
    [S_LOG] = "INSERT INTO log(rv, type, kind, ns, name, obj_rv, user_rv, mtime, data)"
	      " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [S_META] = "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)",
    [S_COMPACT] = "DELETE FROM log WHERE rv <= ?1",
};

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL)"
    " WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS objects(kind TEXT NOT NULL, ns TEXT NOT NULL,"
    " name TEXT NOT NULL, rv INTEGER NOT NULL, user_rv INTEGER NOT NULL,"
    " mtime INTEGER NOT NULL, data TEXT NOT NULL, UNIQUE(kind, ns, name));"
    "CREATE TABLE IF NOT EXISTS log(rv INTEGER PRIMARY KEY, type INTEGER NOT NULL,"
    " kind TEXT NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL, obj_rv INTEGER NOT NULL,"
    " user_rv INTEGER NOT NULL, mtime INTEGER NOT NULL, data TEXT NOT NULL);"
    "INSERT OR IGNORE INTO meta(key, value) VALUES('schema', 1);";

/* The store whose txn function this thread is running, to catch re-entry. */
__thread struct store *tls_txn_store;

char store_tomb_mark;

/* SQLite helpers */

int store_sql_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_FULL:
		return ENOSPC;
	case SQLITE_NOMEM:
		return ENOMEM;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return EBUSY;
	case SQLITE_READONLY:
		return EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return EACCES;
	default:
		return EIO;
	}
}

static int sql_err(struct store *st, sqlite3 *db, int rc, struct err **e, const char *what)
{
	return err_make(e, store_sql_errno(rc), "store %s: %s: %s", st->path, what,
			sqlite3_errmsg(db));
}

/* Steps s to the end, ignoring rows, and resets it.  0 or a negative errno. */
static int run(struct store *st, sqlite3_stmt *s, struct err **e, const char *what)
{
	int rc;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		;
	int ret = rc == SQLITE_DONE ? 0 : sql_err(st, sqlite3_db_handle(s), rc, e, what);
	sqlite3_reset(s);
	return ret;
}

static int exec(struct store *st, const char *sql, const char *what, struct err **e)
{
	char *msg = NULL;
	int rc = sqlite3_exec(st->wdb, sql, NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		return 0;
	int ret = err_make(e, store_sql_errno(rc), "store %s: %s: %s", st->path, what,
			   msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return ret;
}

/* The integer the one-row query sql yields into *out. */
static int query_int(struct store *st, sqlite3 *db, const char *sql, int64_t *out, struct err **e)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		return sql_err(st, db, rc, e, sql);
	rc = sqlite3_step(s);
	int ret = 0;
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(s, 0);
	else
		ret = sql_err(st, db, rc, e, sql);
	sqlite3_finalize(s);
	return ret;
}

/* Reads inside a batch: the overlay on top of the index */

/* The batch's own state of key (borrowed; TOMB if deleted), or NULL. */
static struct sobj *ov_peek(struct store_txn *tx, const char *key)
{
	struct sobj *o = hmap_get(&tx->cur, key);
	return o ? o : hmap_get(&tx->done, key);
}

struct sobj *store_txn_get(struct store_txn *tx, const char *kind, const char *ns, const char *name)
{
	if (hmap_len(&tx->cur) || hmap_len(&tx->done)) {
		char *key = okey(kind, ns, name);
		struct sobj *o = ov_peek(tx, key);
		free(key);
		if (o)
			return o == TOMB ? NULL : sobj_ref(o);
	}
	struct sobj *o = store_get(tx->st, kind, ns, name);
	if (tx->et)
		estore_txn_read(tx, kind, ns, name, o);
	return o;
}

struct ov_filter {
	const char *kind, *ns, *uid; /* list: kind and ns (NULL: any); or uid */
};

static bool ov_match(const struct sobj *o, const struct ov_filter *f)
{
	if (f->uid)
		return owned_by(o, f->uid);
	return strcmp(o->kind, f->kind) == 0 && (!f->ns || strcmp(o->ns, f->ns) == 0);
}

static void vec_push(struct sobj ***v, size_t *n, size_t *cap, struct sobj *o)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 16;
		*v = xrealloc(*v, *cap * sizeof(**v));
	}
	(*v)[(*n)++] = o;
}

/*
 * Replaces, in the committed objects v[0..n), every key the batch wrote
 * with the batch's state of it, adds the batch's new objects matching f,
 * and sorts (unless the batch wrote nothing and sorted is set).  Returns
 * the new count; *vp may move.
 */
static size_t ov_merge(struct store_txn *tx, struct sobj ***vp, size_t n, const struct ov_filter *f,
		       bool sorted)
{
	struct sobj **v = *vp;
	size_t m = 0, cap = n;
	if (hmap_len(&tx->cur) || hmap_len(&tx->done)) {
		sorted = false;
		for (size_t i = 0; i < n; i++) {
			char *key = okey(v[i]->kind, v[i]->ns, v[i]->name);
			if (ov_peek(tx, key))
				sobj_unref(v[i]);
			else
				v[m++] = v[i];
			free(key);
		}
		char *g = f->uid ? xasprintf("o:%s", f->uid)
				 : xasprintf("k:%s/%s", f->kind, f->ns ? f->ns : "*");
		struct hmap *set = hmap_get(&tx->groups, g);
		free(g);
		struct hmap_iter it = {0};
		for (struct hmap_ent *ent; set && (ent = hmap_next(set, &it));) {
			struct sobj *o = ov_peek(tx, ent->key);
			if (o && o != TOMB && ov_match(o, f))
				vec_push(&v, &m, &cap, sobj_ref(o));
		}
		n = m;
	}
	if (!sorted)
		qsort(v, n, sizeof(*v), sobj_cmp);
	*vp = v;
	return n;
}

size_t store_txn_list(struct store_txn *tx, const char *kind, const char *ns, struct sobj ***out)
{
	struct ov_filter f = {.kind = kind, .ns = ns};
	if (tx->et) /* the index's revision before the listing */
		estore_txn_list_read(tx, kind, ns, store_rev(tx->st));
	return ov_merge(tx, out, idx_list(tx->st, kind, ns, out), &f, true);
}

size_t store_txn_dependents(struct store_txn *tx, const char *uid, struct sobj ***out)
{
	struct ov_filter f = {.uid = uid};
	return ov_merge(tx, out, idx_dependents(tx->st, uid, out), &f, false);
}

/* Writes inside a batch */

/*
 * Records the running request's first SQLite failure, so that the request
 * is rolled back even if fn carries on; hands the error *le to e.
 */
int txn_fail(struct store_txn *tx, int rc, struct err **le, struct err **e)
{
	if (!tx->failed) {
		tx->failed = rc;
		err_make(&tx->fail_err, (*le)->code, "%s", (*le)->msg);
	}
	if (e) {
		err_free(*e);
		*e = STEAL_POINTER(le);
	} else {
		err_free(STEAL_POINTER(le));
	}
	return rc;
}

static void group_add(struct store_txn *tx, const char *group, const char *key)
{
	struct hmap *set = hmap_get(&tx->groups, group);
	if (!set) {
		set = xcalloc(1, sizeof(*set));
		hmap_set(&tx->groups, group, set);
	}
	if (!hmap_get(set, key))
		hmap_set(set, key, (void *)1);
}

static void group_free(void *v)
{
	struct hmap *set = v;
	hmap_clear(set, NULL);
	free(set);
}

/* Indexes a new state of key by kind/ns and by owner. */
static void txn_index(struct store_txn *tx, const char *key, const struct sobj *o)
{
	char *kind = store_cat("k:", o->kind, "/");
	char *g = store_cat(kind, o->ns, "");
	group_add(tx, g, key);
	free(g);
	g = store_cat(kind, "*", "");
	group_add(tx, g, key);
	free(g);
	free(kind);
	json_t *refs = owner_refs(o->obj);
	for (size_t i = 0; i < json_array_size(refs); i++) {
		const char *u = owner_uid(refs, i);
		if (u) {
			g = store_cat("o:", u, "");
			group_add(tx, g, key);
			free(g);
		}
	}
}

/* Adds a write to the batch; takes o's reference. */
void txn_record(struct store_txn *tx, const char *key, enum store_event_type type, int64_t rv,
		struct sobj *o, struct sobj *state)
{
	if (tx->nw == tx->wcap) {
		tx->wcap = tx->wcap ? tx->wcap * 2 : 16;
		tx->w = xrealloc(tx->w, tx->wcap * sizeof(*tx->w));
	}
	tx->w[tx->nw].type = type;
	tx->w[tx->nw].rv = rv;
	tx->w[tx->nw].obj = o;
	tx->nw++;
	if (state && state != TOMB)
		txn_index(tx, key, state);
	sobj_unref_void(hmap_set(&tx->cur, key, state));
}

/* Inserts the log row of revision rv. */
static int log_row(struct store *st, int64_t rv, enum store_event_type type, const struct sobj *o,
		   const char *text, struct err **e)
{
	sqlite3_stmt *s = st->ws[S_LOG];
	sqlite3_bind_int64(s, 1, rv);
	sqlite3_bind_int(s, 2, type);
	sqlite3_bind_text(s, 3, o->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 4, o->ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 5, o->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 6, o->rv);
	sqlite3_bind_int64(s, 7, o->user_rv);
	sqlite3_bind_int64(s, 8, o->mtime_ns);
	sqlite3_bind_text(s, 9, text, -1, SQLITE_STATIC);
	return run(st, s, e, "log insert");
}

int64_t store_txn_put(struct store_txn *tx, const char *kind, const char *ns, const char *name,
		      json_t *obj, bool user_change, struct err **e)
{
	struct store *st = tx->st;
	if (st->etcd)
		return estore_txn_put(tx, kind, ns, name, obj, user_change, e);
	json_t *md = json_object_get(obj, "metadata");
	if (!json_is_object(obj) || (md && !json_is_object(md))) {
		json_decref(obj);
		return err_make(e, EINVAL, "%s %s/%s: not an object with a metadata object", kind,
				ns, name);
	}
	if (!md) {
		md = json_object();
		json_object_set_new(obj, "metadata", md);
	}
	struct sobj *prev = store_txn_get(tx, kind, ns, name);
	int64_t rv = st->next_rev + 1;
	char rvs[24];
	snprintf(rvs, sizeof(rvs), "%" PRId64, rv);
	json_object_set_new(md, "resourceVersion", json_string(rvs));
	int64_t user_rv = user_change ? rv : prev ? prev->user_rv : 0;
	enum store_event_type type = prev ? STORE_MODIFIED : STORE_ADDED;
	sobj_unref(prev);

	if (!(obj = store_intern(obj)))
		return err_make(e, ENOMEM, "%s %s/%s: out of memory", kind, ns, name);
	struct sobj *o = sobj_new(kind, ns, name, obj, rv, user_rv, store_now_ns());
	char *text = store_text(obj);
	if (text)
		text = store_seal(kind, ns, name, text);
	return txn_write(tx, o, type, text, e);
}

int64_t txn_write(struct store_txn *tx, struct sobj *o, enum store_event_type type, char *text,
		  struct err **e)
{
	struct store *st = tx->st;
	if (!text) {
		int rc =
		    err_make(e, EINVAL, "%s %s/%s: can't encode as JSON", o->kind, o->ns, o->name);
		sobj_unref(o);
		return rc;
	}
	o->size = strlen(text);
	struct err *le = NULL;
	/* the object's row and its log row */
	int rc = space_check_put(st, 2 * o->size + 256, &le);
	if (rc) {
		free(text);
		sobj_unref(o);
		return txn_fail(tx, rc, &le, e);
	}
	sqlite3_stmt *s = st->ws[S_UPSERT];
	sqlite3_bind_text(s, 1, o->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, o->ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, o->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, o->rv);
	sqlite3_bind_int64(s, 5, o->user_rv);
	sqlite3_bind_int64(s, 6, o->mtime_ns);
	sqlite3_bind_text(s, 7, text, (int)o->size, SQLITE_STATIC);
	rc = run(st, s, &le, "object write");
	if (!rc)
		rc = log_row(st, o->rv, type, o, text, &le);
	free(text);
	if (rc) {
		sobj_unref(o);
		return txn_fail(tx, rc, &le, e);
	}
	st->next_rev = o->rv;
	char *key = okey(o->kind, o->ns, o->name);
	txn_record(tx, key, type, o->rv, sobj_ref(o), o);
	free(key);
	return o->rv;
}

int64_t store_txn_delete(struct store_txn *tx, const char *kind, const char *ns, const char *name,
			 struct err **e)
{
	struct store *st = tx->st;
	if (st->etcd)
		return estore_txn_delete(tx, kind, ns, name, e);
	struct sobj *prev = store_txn_get(tx, kind, ns, name);
	if (!prev)
		return err_make(e, ENOENT, "%s %s/%s: not found", kind, ns, name);
	int64_t rv = st->next_rev + 1;
	char *text = store_text(prev->obj);
	if (text)
		text = store_seal(kind, ns, name, text);
	sqlite3_stmt *s = st->ws[S_DELETE];
	sqlite3_bind_text(s, 1, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, name, -1, SQLITE_STATIC);
	struct err *le = NULL;
	int rc = text ? run(st, s, &le, "object delete")
		      : err_make(&le, ENOMEM, "%s %s/%s: can't encode as JSON", kind, ns, name);
	if (!rc)
		rc = log_row(st, rv, STORE_DELETED, prev, text, &le);
	free(text);
	if (rc) {
		sobj_unref(prev);
		return txn_fail(tx, rc, &le, e);
	}
	st->next_rev = rv;
	char *key = okey(kind, ns, name);
	txn_record(tx, key, STORE_DELETED, rv, prev, TOMB);
	free(key);
	return rv;
}

void txn_truncate(struct store_txn *tx, size_t nw)
{
	while (tx->nw > nw)
		sobj_unref(tx->w[--tx->nw].obj);
}

void txn_free(struct store_txn *tx)
{
	txn_truncate(tx, 0);
	free(tx->w);
	hmap_clear(&tx->cur, sobj_unref_void);
	hmap_clear(&tx->done, sobj_unref_void);
	hmap_clear(&tx->groups, group_free);
	err_free(tx->fail_err);
}

/* Group commit */

/*
 * Some failures (disk full, I/O error) make SQLite roll back the whole
 * transaction; the next statement would then run in a transaction of its
 * own, outside the batch.  Checked before going on after a failure.
 */
static int txn_alive(struct store *st, struct err **e)
{
	if (!sqlite3_get_autocommit(st->wdb))
		return 0;
	return err_make(e, EIO, "store %s: transaction rolled back by SQLite", st->path);
}

/*
 * Runs one request under its savepoint.  The request's own failure is
 * left in r; returns a negative errno only when the batch itself is broken
 * (its transaction can't go on).
 */
static int req_run(struct store *st, struct store_txn *tx, struct req *r, struct err **berr)
{
	int64_t rev0 = st->next_rev;
	size_t nw0 = tx->nw;
	int rc = run(st, st->ws[S_SAVEPOINT], berr, "savepoint");
	if (rc)
		return rc;
	tx->failed = 0;
	tls_txn_store = st;
	r->rc = r->fn(tx, r->arg, &r->err);
	tls_txn_store = NULL;
	r->ran = true;
	if (r->rc >= 0 && tx->failed) {
		/* fn went on after a failed write: its writes are incomplete */
		r->rc = tx->failed;
		err_free(r->err);
		r->err = STEAL_POINTER(&tx->fail_err);
	}
	err_free(STEAL_POINTER(&tx->fail_err));
	if (r->rc < 0) {
		rc = run(st, st->ws[S_ROLLBACK_TO], berr, "rollback to savepoint");
		if (!rc)
			rc = run(st, st->ws[S_RELEASE], berr, "release savepoint");
		hmap_clear(&tx->cur, sobj_unref_void);
		txn_truncate(tx, nw0);
		st->next_rev = rev0;
	} else {
		rc = run(st, st->ws[S_RELEASE], berr, "release savepoint");
		struct hmap_iter it = {0};
		for (struct hmap_ent *ent; (ent = hmap_next(&tx->cur, &it));)
			sobj_unref_void(hmap_set(&tx->done, ent->key, ent->val));
		hmap_clear(&tx->cur, NULL);
	}
	return rc ? rc : txn_alive(st, berr);
}

static int meta_set(struct store *st, const char *key, int64_t value, struct err **e)
{
	sqlite3_stmt *s = st->ws[S_META];
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, value);
	return run(st, s, e, "meta write");
}

/*
 * Deletes the oldest log rows past the ones kept, at most COMPACT_MAX_ROWS
 * per batch, once there are more than a slack of them.  Returns the new
 * compacted revision (unchanged when nothing was done).  A failure only
 * postpones compaction, unless it broke the transaction (COMMIT reports
 * that).
 */
static int64_t batch_compact(struct store *st)
{
	int64_t keep = space_log_keep(st, store_log_keep_for_test > 0 ? store_log_keep_for_test
								      : STORE_LOG_KEEP);
	int64_t slack = keep / 8 < 4096 ? keep / 8 : 4096;
	int64_t upto = st->next_rev - keep;
	if (upto - st->compacted <= slack)
		return st->compacted;
	if (upto > st->compacted + COMPACT_MAX_ROWS)
		upto = st->compacted + COMPACT_MAX_ROWS;
	_cleanup_err_ struct err *e = NULL;
	int rc = run(st, st->ws[S_SAVEPOINT], &e, "savepoint");
	if (rc)
		goto fail;
	sqlite3_bind_int64(st->ws[S_COMPACT], 1, upto);
	rc = run(st, st->ws[S_COMPACT], &e, "log compaction");
	if (!rc)
		rc = meta_set(st, "compacted", upto, &e);
	if (rc)
		run(st, st->ws[S_ROLLBACK_TO], NULL, "rollback to savepoint");
	run(st, st->ws[S_RELEASE], NULL, "release savepoint");
	if (rc)
		goto fail;
	return upto;
fail:
	log_warn("store", "%s", e ? e->msg : "log compaction failed");
	return st->compacted;
}

/* COMMIT, or the failure store_fail_commit_for_test asks for. */
static int batch_commit(struct store *st, struct err **e)
{
	int n = __atomic_load_n(&store_fail_commit_for_test, __ATOMIC_RELAXED);
	while (n > 0 && !__atomic_compare_exchange_n(&store_fail_commit_for_test, &n, n - 1, false,
						     __ATOMIC_RELAXED, __ATOMIC_RELAXED))
		;
	if (n > 0)
		return err_make(e, EIO, "store %s: commit: injected failure", st->path);
	return run(st, st->ws[S_COMMIT], e, "commit");
}

/* Makes a committed batch visible: index, revision, ring; wakes watchers. */
static void batch_apply(struct store *st, struct store_txn *tx)
{
	pthread_rwlock_wrlock(&st->idx_lock);
	for (size_t i = 0; i < tx->nw; i++) {
		struct sobj *o = tx->w[i].obj;
		if (tx->w[i].type == STORE_DELETED)
			idx_del(st, o->kind, o->ns, o->name);
		else
			idx_put(st, sobj_ref(o));
	}
	if (tx->nw)
		__atomic_store_n(&st->rev, tx->w[tx->nw - 1].rv, __ATOMIC_RELEASE);
	watch_publish(st->watch, tx->w, tx->nw, st->compacted);
	tx->nw = 0;
	pthread_rwlock_unlock(&st->idx_lock);
}

/* Empties the queue (under q_mu); returns what it held, or NULL. */
static struct req *queue_take(struct store *st)
{
	struct req *q = st->q_head;
	st->q_head = NULL;
	st->q_tail = &st->q_head;
	return q;
}

/*
 * The leader's work: runs the requests of batch as one transaction.
 * Requests queued while the functions run join the batch (appended to the
 * list) until COMMIT begins: with many writers, the callers the previous
 * batch just released come back in time to share this fsync, instead of
 * every other batch carrying only half of them.  Requests queued during
 * COMMIT wait for the next batch.
 */
static void batch_run(struct store *st, struct req *batch)
{
	struct store_txn tx = {.st = st};
	_cleanup_err_ struct err *berr = NULL;
	int64_t compacted = st->compacted;
	__atomic_add_fetch(&store_batches_for_test, 1, __ATOMIC_RELAXED);

	space_batch_start(st);
	int rc = run(st, st->ws[S_BEGIN], &berr, "begin");
	struct req *r = batch, *last = NULL;
	for (size_t n = 0; !rc && n < BATCH_MAX;) {
		for (; r && !rc; last = r, r = r->next, n++)
			rc = req_run(st, &tx, r, &berr);
		if (rc || n >= BATCH_MAX)
			break;
		pthread_mutex_lock(&st->q_mu);
		r = queue_take(st);
		pthread_mutex_unlock(&st->q_mu);
		if (!r)
			break;
		last->next = r;
	}
	if (!rc && tx.nw) {
		compacted = batch_compact(st);
		rc = txn_alive(st, &berr);
		if (!rc)
			rc = meta_set(st, "rev", st->next_rev, &berr);
	}
	if (!rc)
		rc = batch_commit(st, &berr);
	if (rc) {
		if (!sqlite3_get_autocommit(st->wdb))
			run(st, st->ws[S_ROLLBACK], NULL, "rollback");
		st->next_rev = store_rev(st);
		size_t n = 0;
		for (r = batch; r; r = r->next, n++) {
			if (r->ran && r->rc < 0)
				continue; /* it keeps its own error */
			r->rc = rc;
			err_make(&r->err, berr->code, "%s", berr->msg);
		}
		log_error("store", "a batch of %zu updates failed: %s", n, berr->msg);
	} else {
		size_t nw = tx.nw;
		st->compacted = compacted;
		batch_apply(st, &tx);
		store_trim_note(nw);
	}
	txn_free(&tx);
}

int store_update(struct store *st, store_txn_fn fn, void *arg, struct err **e)
{
	if (tls_txn_store == st)
		return err_make(e, EDEADLK, "store %s: store_update called from a txn function",
				st->path);
	if (st->etcd)
		return estore_update(st, fn, arg, e);
	struct req r = {.fn = fn, .arg = arg};
	pthread_mutex_lock(&st->q_mu);
	if (st->closing) {
		pthread_mutex_unlock(&st->q_mu);
		return err_make(e, ESHUTDOWN, "store %s: closing", st->path);
	}
	*st->q_tail = &r;
	st->q_tail = &r.next;
	while (!r.done) {
		if (st->committing) {
			pthread_cond_wait(&st->q_cond, &st->q_mu);
			continue;
		}
		/* r is still queued: lead the batch of everything queued */
		struct req *batch = queue_take(st);
		st->committing = true;
		pthread_mutex_unlock(&st->q_mu);
		batch_run(st, batch);
		pthread_mutex_lock(&st->q_mu);
		while (batch) {
			struct req *next = batch->next;
			batch->done = true; /* its owner may return once we unlock */
			batch = next;
		}
		st->committing = false;
		pthread_cond_broadcast(&st->q_cond);
	}
	pthread_mutex_unlock(&st->q_mu);
	if (r.rc < 0 && e) {
		err_free(*e);
		*e = r.err;
	} else {
		err_free(r.err);
	}
	return r.rc;
}

/* Watch */

int store_watch(struct store *st, int64_t after, struct store_event *evs, size_t max,
		int timeout_ms, struct err **e)
{
	if (st->etcd)
		return estore_watch(st, after, evs, max, timeout_ms, e);
	return watch_read(st->watch, after, evs, max, timeout_ms, e);
}

size_t store_history_len(struct store *st)
{
	return st->etcd ? estore_history_len(st) : watch_len(st->watch);
}

void store_wake_watchers(struct store *st)
{
	if (st->etcd)
		estore_wake_watchers(st);
	else
		watch_wake(st->watch);
}

/* Opening and closing */

/* Frees everything; st has no batch in flight and no watcher. */
static void store_free(struct store *st)
{
	store_ckpt_stop(st);
	watch_close(st->watch);
	space_close(st);
	for (int i = 0; i < S_COUNT; i++)
		sqlite3_finalize(st->ws[i]);
	sqlite3_close(st->wdb);
	hmap_clear(&st->owners, deplist_free);
	hmap_clear(&st->mtimes, free);
	hmap_clear(&st->kinds, kindidx_free);
	pthread_mutex_destroy(&st->q_mu);
	pthread_cond_destroy(&st->q_cond);
	pthread_rwlock_destroy(&st->idx_lock);
	free(st->path);
	free(st);
	store_intern_release();
}

static void store_init_locks(struct store *st)
{
	pthread_mutex_init(&st->q_mu, NULL);
	pthread_cond_init(&st->q_cond, NULL);
	pthread_rwlockattr_t ra;
	pthread_rwlockattr_init(&ra);
	/* a steady stream of readers must not hold the committing thread off */
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&st->idx_lock, &ra);
	pthread_rwlockattr_destroy(&ra);
}

/* Opens the write connection: WAL, synchronous=FULL, schema, statements. */
static int open_writer(struct store *st, struct err **e)
{
	int rc =
	    sqlite3_open_v2(st->path, &st->wdb,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		int code = st->wdb ? sqlite3_system_errno(st->wdb) : 0;
		return err_make(e, code ? code : store_sql_errno(rc), "store %s: open: %s",
				st->path, st->wdb ? sqlite3_errmsg(st->wdb) : sqlite3_errstr(rc));
	}
	sqlite3_busy_timeout(st->wdb, BUSY_TIMEOUT_MS);
	sqlite3_stmt *s;
	const char *mode = NULL;
	if (sqlite3_prepare_v2(st->wdb, "PRAGMA journal_mode=WAL", -1, &s, NULL) != SQLITE_OK)
		return sql_err(st, st->wdb, SQLITE_ERROR, e, "journal_mode");
	if (sqlite3_step(s) == SQLITE_ROW)
		mode = (const char *)sqlite3_column_text(s, 0);
	bool wal = mode && strcmp(mode, "wal") == 0;
	sqlite3_finalize(s);
	if (!wal)
		return err_make(e, EIO, "store %s: can't switch to WAL mode", st->path);
	int64_t sync = 0;
	if ((rc = exec(st, "PRAGMA synchronous=FULL", "synchronous", e)) ||
	    (rc = query_int(st, st->wdb, "PRAGMA synchronous", &sync, e)))
		return rc;
	if (sync != 2) /* FULL: every COMMIT fsyncs the WAL */
		return err_make(e, EIO, "store %s: can't set synchronous=FULL", st->path);
	if ((rc = exec(st, "BEGIN IMMEDIATE", "begin", e)))
		return rc;
	rc = exec(st, schema_sql, "schema", e);
	if (!rc)
		rc = exec(st, "COMMIT", "commit", e);
	if (rc) {
		exec(st, "ROLLBACK", "rollback", NULL);
		return rc;
	}
	int64_t version = 0;
	rc = query_int(st, st->wdb, "SELECT value FROM meta WHERE key = 'schema'", &version, e);
	if (rc)
		return rc;
	if (version != SCHEMA_VERSION)
		return err_make(e, EPROTO, "store %s: schema version %" PRId64 ", want %d",
				st->path, version, SCHEMA_VERSION);
	for (int i = 0; i < S_COUNT; i++) {
		rc = sqlite3_prepare_v3(st->wdb, wsql[i], -1, SQLITE_PREPARE_PERSISTENT, &st->ws[i],
					NULL);
		if (rc != SQLITE_OK)
			return sql_err(st, st->wdb, rc, e, wsql[i]);
	}
	return 0;
}

/* Reads every row of `objects` into the index, and the revisions. */
static int load(struct store *st, struct err **e)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(
	    st->wdb, "SELECT kind, ns, name, rv, user_rv, mtime, data FROM objects", -1, &s, NULL);
	if (rc != SQLITE_OK)
		return sql_err(st, st->wdb, rc, e, "load");
	int ret = 0;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(s, 2);
		json_t *obj = store_unseal((const char *)sqlite3_column_text(s, 0),
					   (const char *)sqlite3_column_text(s, 1), name,
					   (const char *)sqlite3_column_text(s, 6));
		if (!json_is_object(obj)) {
			json_decref(obj);
			ret = err_make(e, EIO, "store %s: object %s is corrupt", st->path, name);
			break;
		}
		struct sobj *o = sobj_new((const char *)sqlite3_column_text(s, 0),
					  (const char *)sqlite3_column_text(s, 1), name,
					  store_intern(obj), sqlite3_column_int64(s, 3),
					  sqlite3_column_int64(s, 4), sqlite3_column_int64(s, 5));
		o->size = (size_t)sqlite3_column_bytes(s, 6);
		idx_put(st, o);
	}
	if (!ret && rc != SQLITE_DONE)
		ret = sql_err(st, st->wdb, rc, e, "load");
	sqlite3_finalize(s);
	if (!ret)
		ret =
		    query_int(st, st->wdb,
			      "SELECT max(coalesce((SELECT value FROM meta WHERE key = 'rev'), 0),"
			      " coalesce((SELECT max(rv) FROM log), 0),"
			      " coalesce((SELECT max(rv) FROM objects), 0))",
			      &st->rev, e);
	if (!ret)
		ret = query_int(
		    st, st->wdb,
		    "SELECT coalesce((SELECT value FROM meta WHERE key = 'compacted'), 0)",
		    &st->compacted, e);
	return ret;
}

int store_open(const char *path, struct store **out, struct err **e)
{
	/* connections are used from several threads, one at a time */
	if (!sqlite3_threadsafe())
		return err_make(e, ENOTSUP, "store %s: SQLite was built without threads", path);
	/* Tests of clients' relist (410 Gone) need a short history. */
	const char *keep = getenv("CFS_STORE_LOG_KEEP_FOR_TEST");
	if (keep && atoll(keep) > 0 && store_log_keep_for_test <= 0)
		store_log_keep_for_test = atoll(keep);
	struct store *st = xcalloc(1, sizeof(*st));
	st->path = xstrdup(path);
	st->q_tail = &st->q_head;
	store_init_locks(st);
	store_intern_hold();
	int rc = open_writer(st, e);
	if (!rc)
		rc = space_open(st, e);
	if (!rc)
		rc = load(st, e);
	if (!rc)
		rc = watch_open(path, st->rev, &st->watch, e);
	if (rc) {
		store_free(st);
		return rc;
	}
	st->next_rev = st->rev;
	store_ckpt_start(st);
	log_info("store", "%s: opened at revision %" PRId64, path, st->rev);
	*out = st;
	return 0;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	if (st->etcd) {
		estore_close(st);
		return;
	}
	pthread_mutex_lock(&st->q_mu);
	st->closing = true;
	while (st->committing || st->q_head)
		pthread_cond_wait(&st->q_cond, &st->q_mu);
	pthread_mutex_unlock(&st->q_mu);
	store_free(st);
}
