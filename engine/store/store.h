/*
 * store.h - the durable object store: SQLite in WAL mode, an in-memory
 * index of every object, a global revision, group commit, and watch.
 *
 * The store is the only truth.  Every object lives in SQLite (table
 * `objects`) and every change is appended to a change log (table `log`)
 * under a global, monotonically increasing revision that is also the
 * object's metadata.resourceVersion.  An in-memory index holds the latest
 * committed state of every object, so reads never touch SQLite; it is
 * rebuilt from SQLite at open.
 *
 * Writes: store_update() runs a caller's function inside a write
 * transaction.  Concurrent callers are batched into one SQLite transaction
 * (group commit); each caller's function runs under its own SAVEPOINT, so
 * a failing function discards only its own writes.  store_update() returns
 * only after the batch's COMMIT is on disk (synchronous=FULL), and after
 * the index shows the new state (read-after-write for the caller).
 *
 * Objects: a `struct sobj` (engine/sobj.h) is an immutable, reference-
 * counted snapshot.  Its json `obj` is frozen: never modify it
 * (json_deep_copy it to change).  Watch events are struct store_event,
 * also in engine/sobj.h.
 *
 * Watch: every committed change is an event (ADDED, MODIFIED, DELETED)
 * with its revision.  store_watch() returns the events after a revision,
 * in revision order, without gaps or duplicates, from memory for recent
 * ones and from the log table for older ones, across restarts.  The log is
 * compacted to the newest STORE_LOG_KEEP revisions; a watcher asking for
 * a compacted revision gets -ERANGE and must relist (Kubernetes' 410 Gone).
 *
 * Threads: every function is thread-safe.  Lock order: the commit lock
 * (one batch at a time) before the index lock (rwlock).  Callers' txn
 * functions run with the commit lock held: they must not call
 * store_update() (deadlock) and should not block.
 */
#ifndef CFS_STORE_H
#define CFS_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"
#include "engine/obj.h"
#include "engine/sobj.h"

#define STORE_LOG_KEEP 1000000 /* revisions of change log kept */

/*
 * The watch history in memory (the ring of recent events that watchers
 * read without SQLite or etcd) is bounded in bytes as well as in events:
 * the JSON encodings of the objects its events hold add up to at most
 * STORE_HISTORY_BYTES.  Older events come from the log table on SQLite;
 * on etcd asking for them is -ERANGE (a relist).
 */
#define STORE_HISTORY_BYTES (16 * 1024 * 1024)
extern size_t store_history_bytes_for_test; /* > 0: this bound instead */
/*
 * And in time, as kube-apiserver's watch cache keeps a window of fresh
 * events: beyond its newest STORE_HISTORY_MIN events, the history drops
 * those published more than STORE_HISTORY_FRESH_MS ago, as new ones
 * come.  A burst keeps up to the bounds above; a calm cluster keeps a
 * short history, so the memory it holds does not depend on how long the
 * server has been up.
 */
#define STORE_HISTORY_MIN      1024
#define STORE_HISTORY_FRESH_MS 75000
extern int64_t store_history_fresh_ms_for_test; /* > 0: this window instead */
/* The bytes an object counts for in the history. */
size_t store_history_size(const struct sobj *o);
/* Events published before this mono_ms() are stale (past the window). */
int64_t store_history_stale_before(int64_t now);

/*
 * Space (store_space.c).  Deletes always work, so that users can free
 * space: puts are refused with -ENOSPC when the disk holding the store has
 * less than STORE_DISK_LOW bytes free, or when the database would pass the
 * quota (store_set_quota, --store-quota), with a message that says which.
 * A reserve file PATH.reserve of STORE_DISK_RESERVE bytes keeps room for
 * deletes against other programs filling the disk; after a refusal the
 * log keeps only STORE_TIGHT_LOG_KEEP revisions, so that deletes shrink
 * the usage (watchers further behind relist).
 */
#define STORE_DISK_RESERVE   (8 * 1024 * 1024)
#define STORE_DISK_LOW	     (8 * 1024 * 1024)
#define STORE_TIGHT_LOG_KEEP 16
#define STORE_QUOTA_MIN	     (1024 * 1024)

struct store;
struct store_txn;

/* Opening and closing */

/*
 * Opens (creating if missing) the store at path (a file, e.g.
 * DATA_DIR/state.db), sets WAL and synchronous=FULL, and loads the index.
 * Returns 0 and *out, or a negative errno with *e.
 */
int store_open(const char *path, struct store **out, struct err **e);
/* Waits for a batch in flight, then closes.  NULL is fine. */
void store_close(struct store *st);

/*
 * Sets the quota on the database's pages in use: bytes is a number with
 * an optional K, M, G or T suffix (powers of 1024; Ki, Mi, ... too), at
 * least STORE_QUOTA_MIN, or 0 for none.  -EINVAL with a message when it
 * is not.
 */
int store_set_quota(struct store *st, const char *bytes, struct err **e);

/* The newest committed revision (0 for an empty store). */
int64_t store_rev(struct store *st);

/* Reads of committed state: no SQLite, no blocking on commits. */

/* A reference to the object, or NULL when there is none.  Caller unrefs. */
struct sobj *store_get(struct store *st, const char *kind, const char *ns, const char *name);

/*
 * Every object of kind in namespace ns (ns NULL: in every namespace),
 * sorted by namespace then name.  *out is a new array of references (free
 * with sobj_list_free); returns the count.  Can't fail.
 */
size_t store_list(struct store *st, const char *kind, const char *ns, struct sobj ***out);

/*
 * How many objects of kind there are (every namespace) and, when cls is
 * not NULL, how many in each class of obj_class() (engine/obj.h).  Counted
 * as the index changes: no walk over the objects.  Can't fail.
 */
size_t store_count(struct store *st, const char *kind, size_t cls[OBJ_CLASSES]);

/* How many events the watch history holds in memory now. */
size_t store_history_len(struct store *st);

/* When an object of kind in ns last changed, as far as this process has
 * seen (ns since the epoch; 0: none since open).  Cheap.  Can't fail. */
int64_t store_mtime(struct store *st, const char *kind, const char *ns);

/* The same in no particular order: cheaper for large sets. */
size_t store_dependents_any(struct store *st, const char *uid, struct sobj ***out);

/* Every object whose metadata.ownerReferences names uid, any kind. */
size_t store_dependents(struct store *st, const char *uid, struct sobj ***out);

/* Writes */

typedef int (*store_txn_fn)(struct store_txn *tx, void *arg, struct err **e);

/*
 * Runs fn(tx, arg, e) in a write transaction and makes what it wrote
 * durable.  If fn returns < 0, its writes are discarded and that value is
 * returned with fn's *e.  If the commit itself fails (disk full, I/O
 * error) nothing of the batch is applied and a negative errno is returned.
 * Returns >= 0 (fn's return value) once the writes are on disk and in the
 * index.
 */
int store_update(struct store *st, store_txn_fn fn, void *arg, struct err **e);

/* Inside fn: reads see the batch's own earlier writes. */
struct sobj *store_txn_get(struct store_txn *tx, const char *kind, const char *ns,
			   const char *name);
size_t store_txn_list(struct store_txn *tx, const char *kind, const char *ns, struct sobj ***out);
size_t store_txn_dependents(struct store_txn *tx, const char *uid, struct sobj ***out);

/*
 * Writes obj (stolen: the store owns it and freezes it) as kind/ns/name.
 * Sets obj's metadata.resourceVersion to the new revision, which it
 * returns (> 0).  user_change marks a write of the user's intent (spec,
 * labels) as opposed to a status write; it sets user_rv.  Returns a
 * negative errno on SQLite failure.
 */
int64_t store_txn_put(struct store_txn *tx, const char *kind, const char *ns, const char *name,
		      json_t *obj, bool user_change, struct err **e);

/*
 * Prepared puts: the costly part of a put made on the writer's own thread,
 * before store_update, so that the batch's one thread only stores it.
 * store_prepare takes obj (a new state of kind/ns/name, as for
 * store_txn_put) and makes it what the store keeps (shared values,
 * frozen) and, on SQLite, its JSON text with a mark where the
 * resourceVersion goes; NULL when obj is not an object with a metadata
 * object (then store_txn_put says why).  store_txn_put_prep writes it as
 * store_txn_put would write obj: the revision is put into the text at
 * the commit, the object read back is the same.  It keeps p (a txn
 * function may run again on etcd): free it after store_update.
 */
struct store_prep;
struct store_prep *store_prepare(struct store *st, const char *kind, const char *ns,
				 const char *name, json_t *obj);
int64_t store_txn_put_prep(struct store_txn *tx, const struct store_prep *p, bool user_change,
			   struct err **e);
void store_prep_free(struct store_prep *p); /* NULL is fine */
/* The object p will store (borrowed; frozen on SQLite: its values are the
 * store's shared ones), for a caller that would otherwise keep a copy of
 * what it gave store_prepare: its metadata.resourceVersion is a place
 * holder until the commit. */
json_t *store_prep_obj(const struct store_prep *p);

/* Deletes kind/ns/name; -ENOENT if absent.  Returns the revision. */
int64_t store_txn_delete(struct store_txn *tx, const char *kind, const char *ns, const char *name,
			 struct err **e);

/* Watch */

/*
 * Fills evs with up to max events of revisions > after, oldest first.
 * Waits up to timeout_ms (0: don't wait, -1: forever) for the first one.
 * Returns the count (0 on timeout or after store_close has begun),
 * or -ERANGE when events after `after` have been compacted away.
 * Free the events with store_events_free (engine/sobj.h).
 */
int store_watch(struct store *st, int64_t after, struct store_event *evs, size_t max,
		int timeout_ms, struct err **e);
void store_events_free(struct store_event *evs, size_t n);

/* Wakes every store_watch() waiter (they return 0); used at shutdown. */
void store_wake_watchers(struct store *st);

/*
 * The etcd backend (store_etcd.c, issue 15).  The same interface over
 * etcd: every object is a key PREFIX/KIND/NS/NAME (NS empty for cluster-
 * scoped kinds) holding its JSON (sealed as above for Secrets); the
 * revision is etcd's and is the resourceVersion (the objects of one
 * store_update() share it); the index is filled by a range at open and kept
 * by a watch, so that it also shows the changes of other servers.
 * store_update() is one etcd transaction comparing the mod revision of
 * every key the function read or wrote; when another writer got there
 * first, the function runs again on the newer state (at most a few times:
 * then -EAGAIN).  It returns once etcd committed (a quorum) and the index
 * shows the change.  The store compacts etcd's history itself.
 */
struct etcd;
struct etcd_opts;
int store_open_etcd(const struct etcd_opts *o, const char *prefix, struct store **out,
		    struct err **e);
/* The etcd client of an etcd store (for the leader election); NULL on SQLite. */
struct etcd *store_etcd(struct store *st);

/*
 * How many objects one store_update() should write at most: SIZE_MAX on
 * SQLite; on etcd a share of its transaction limit (--max-txn-ops), so
 * that callers with many independent writes split them.
 */
size_t store_max_writes(struct store *st);

/*
 * Consistent reads across servers: waits until the index shows every change
 * etcd committed before the call (one quorum read of etcd's revision;
 * concurrent callers share one).  0, or -EIO/-ETIMEDOUT with *e when etcd
 * cannot say (the index may then be stale).  Always 0 at once on SQLite.
 */
int store_sync(struct store *st, struct err **e);

/*
 * Fencing (issue 15): the writes of a thread marked with
 * store_fence_thread(true) (the controllers', the scheduler's) commit only
 * while the election key `key` still has create revision create_rev, that
 * is while this server leads; otherwise they fail with -EPERM ("no longer
 * the leader").  store_fence_set(st, NULL, 0) fences every such write.
 * Without a call to store_fence_set, and always on SQLite, nothing is fenced.
 */
void store_fence_set(struct store *st, const char *key, int64_t create_rev);
void store_fence_thread(bool on);

/* Testing: knobs for the unit test, never set in the daemon */

extern int store_fail_commit_for_test;	 /* the next N COMMITs fail with -EIO */
extern int64_t store_log_keep_for_test;	 /* > 0: keep this many revisions, not STORE_LOG_KEEP */
extern uint64_t store_batches_for_test;	 /* batches run so far (read with __atomic_load_n) */
extern int64_t store_disk_free_for_test; /* >= 0: the free disk space the store sees */

/*
 * Encryption at rest (store_crypt.c).  With a key (32 bytes, base64, as in
 * Kubernetes' EncryptionConfiguration aesgcm provider), the rows of kind
 * Secret (objects and log) are written AES-256-GCM encrypted, the text
 * starting "k8s:enc:aesgcm:v1:"; rows are read back transparently, sealed
 * or not.  Without a key rows are written as JSON, and a sealed row does
 * not open (the store reports it corrupt).  Set the key once, before
 * store_open; it is process-wide.  0 or -EINVAL (or the file's errno).
 */
int store_crypt_key(const char *b64, struct err **e);
int store_crypt_key_file(const char *path, struct err **e);
/* text (malloc'd, taken) sealed for the row KIND/NS/NAME when it is to be
 * (a Secret, a key set), else text itself. */
char *store_seal(const char *kind, const char *ns, const char *name, char *text);
/* The object a row's text holds (sealed or not), or NULL. */
json_t *store_unseal(const char *kind, const char *ns, const char *name, const char *text);

#endif
