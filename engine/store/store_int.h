/*
 * store_int.h - what the store's files share (store.c: SQLite, batches,
 * group commit; store_index.c: objects and the in-memory index); not an
 * interface.  Locks as documented on struct store.
 */
#ifndef CFS_STORE_INT_H
#define CFS_STORE_INT_H

#include <pthread.h>
#include <sqlite3.h>

#include "engine/hmap.h"
#include "engine/obj.h"
#include "engine/store/store.h"
#include "engine/store/watch.h"

/* Statements prepared once on the write connection. */
enum {
	S_BEGIN,
	S_COMMIT,
	S_ROLLBACK,
	S_SAVEPOINT,
	S_RELEASE,
	S_ROLLBACK_TO,
	S_UPSERT,
	S_DELETE,
	S_LOG,
	S_META,
	S_COMPACT,
	S_COUNT
};

/* One store_update() call waiting in the queue or running in a batch. */
struct req {
	struct req *next;
	store_txn_fn fn;
	void *arg;
	int rc;		 /* fn's result, then the batch's if it failed */
	bool ran;	 /* fn was called */
	bool done;	 /* q_mu: the batch is over; rc and err are final */
	struct err *err; /* fn's error, or the batch's */
	bool fenced;	 /* etcd: the caller's thread is fenced (store_fence_thread) */
	bool over;	 /* etcd: the leader is done with it (done follows under q_mu) */
	int tries;	 /* etcd: runs that met a conflict */
};

/* The index: kind -> struct kindidx -> ns -> struct nsidx -> name -> sobj. */
struct kindidx {
	struct hmap nss;	 /* ns -> struct nsidx * */
	size_t n;		 /* objects of the kind, in every namespace */
	size_t cls[OBJ_CLASSES]; /* of those, by obj_class() */
};

struct nsidx {
	struct hmap names; /* name -> struct sobj * (a reference) */
};

/* The objects whose ownerReferences name one uid (borrowed from the index),
 * and where each is in v, so that an update of one of a ReplicaSet's 30,000
 * pods is not a search of them all. */
struct deplist {
	struct sobj **v;
	size_t n, cap;
	struct hmap at; /* "%p" of v[i] -> (void *)(i + 1) */
};

/*
 * Lock order: the commit role (`committing`, one leader at a time) before
 * idx_lock before the watch feed's lock.  q_mu is a leaf, never held with
 * another.
 */
struct store {
	char *path;

	/* Only the leader of the running batch touches these. */
	sqlite3 *wdb;
	sqlite3_stmt *ws[S_COUNT];
	int64_t next_rev;  /* the last revision handed out */
	int64_t compacted; /* log rows up to this revision are deleted */

	pthread_mutex_t q_mu;
	pthread_cond_t q_cond;	      /* q_mu: a batch ended */
	struct req *q_head, **q_tail; /* q_mu: requests for the next batch */
	bool committing;	      /* q_mu: a leader holds the commit role */
	bool closing;		      /* q_mu: store_close has begun */

	pthread_rwlock_t idx_lock;
	struct hmap kinds;  /* idx_lock: kind -> struct kindidx * */
	struct hmap owners; /* idx_lock: owner uid -> struct deplist * */
	struct hmap mtimes; /* idx_lock: "KIND/NS" -> int64_t * (last change, ns) */
	int64_t rev;	    /* written under idx_lock (exclusive), read atomically */

	struct watch *watch; /* the event feed; see watch.h for its locks */

	/* Space (store_space.c); only the leader of a batch touches these,
	 * but quota, which store_set_quota writes atomically. */
	int64_t quota;	      /* bytes of used pages allowed; 0: none */
	int64_t page_size;    /* SQLite's */
	sqlite3_stmt *s_used; /* pages in use */
	char *reserve_path;   /* PATH.reserve: disk kept back for deletes */
	bool reserve_held;    /* the reserve file is in place, full size */
	bool tight;	      /* a put was refused since the last batch */

	struct estore *etcd; /* the etcd backend (store_etcd.c); NULL: SQLite */
	struct ckpt *ckpt;   /* the checkpoint thread (store_ckpt.c), or NULL */
};

/* WAL checkpoints on a thread of their own, off the commits (store_ckpt.c);
 * start after the store opened, stop before its write connection closes. */
void store_ckpt_start(struct store *st);
void store_ckpt_stop(struct store *st);

/* A batch's writes, visible to its own txn functions before they commit. */
struct store_txn {
	struct store *st;
	struct hmap done;      /* okey -> sobj * or TOMB: earlier requests' writes */
	struct hmap cur;       /* the same for the running request */
	struct hmap groups;    /* "k:KIND/NS", "o:UID" -> hmap set of okeys
				* written in the batch: lets list and dependents find
				* the batch's objects without scanning the overlay */
	struct store_event *w; /* every write of the batch in revision order */
	size_t nw, wcap;
	int failed;	      /* the running request's first failure */
	struct err *fail_err; /* its message */
	struct etx *et;	      /* etcd: compares and operations; NULL on SQLite */
};

/* The overlay value of a deleted key in a batch (never a real object). */
extern char store_tomb_mark;
#define TOMB ((struct sobj *)&store_tomb_mark)

/* Objects and the index (store_index.c); index calls need idx_lock. */
void sobj_unref_void(void *o);
int sobj_cmp(const void *a, const void *b);
json_t *owner_refs(json_t *obj);
const char *owner_uid(json_t *refs, size_t i);
bool owned_by(const struct sobj *o, const char *uid);
char *okey(const char *kind, const char *ns, const char *name);
/* a, b and c in one new string (keys made at every put: no printf). */
char *store_cat(const char *a, const char *b, const char *c);
int64_t store_now_ns(void);
void idx_put(struct store *st, struct sobj *o);
/* The indexed object kind/ns/name (borrowed), or NULL. */
struct sobj *idx_peek(struct store *st, const char *kind, const char *ns, const char *name);
void idx_del(struct store *st, const char *kind, const char *ns, const char *name);
void kindidx_free(void *p);
void deplist_free(void *p);
size_t idx_list(struct store *st, const char *kind, const char *ns, struct sobj ***out);
size_t idx_dependents(struct store *st, const char *uid, struct sobj ***out);

/*
 * Sharing (store_intern.c): obj (taken) with each of its subtrees replaced
 * by an equal one already in the store's objects, when there is one; a
 * copy when the caller still shares obj.  Call before obj is frozen in a
 * sobj.  NULL only when obj is NULL or a copy failed.  Thread-safe.
 */
json_t *store_intern(json_t *obj);
size_t store_intern_count(void); /* distinct values held, for tests */
/* Each open store holds the table; when the last one closes it is emptied. */
void store_intern_hold(void);
void store_intern_release(void);
/* Sets up the memory store_intern copies values into (once; store_open). */
void store_slab_init(void);
size_t store_slab_bytes(void); /* in use there, for tests */
/* Gives back to the system the slab's chunks whose blocks are all free
 * (when there are at least 16 of them); the bytes given back.  The
 * trimmer calls it after a sweep; tests too. */
size_t store_slab_release(void);
size_t store_slab_given_back(void); /* bytes, since the start: for tests */
/* Between these, this thread's jansson allocations go to the slab: for a
 * node that is made once and kept, without looking it up (unique). */
void store_slab_begin(void);
void store_slab_end(void);
/* The text the store keeps of v (store_text.c): exactly what
 * json_dumps(v, JSON_COMPACT) gives (malloc'd; NULL where it fails),
 * made faster. */
char *store_text(const json_t *v);
/* A batch of writes was applied (no lock held): after a burst, gives the
 * memory glibc kept back to the system (malloc_trim). */
void store_trim_note(size_t writes);

/* The overlay (store.c), shared with the etcd backend. */
void txn_record(struct store_txn *tx, const char *key, enum store_event_type type, int64_t rv,
		struct sobj *o, struct sobj *state);
void txn_truncate(struct store_txn *tx, size_t nw);
void txn_free(struct store_txn *tx);
int txn_fail(struct store_txn *tx, int rc, struct err **le, struct err **e);
/* SQLite: writes o (taken) as the new state with its JSON text (taken;
 * NULL: it could not be encoded): the rows, then the batch's record. */
int64_t txn_write(struct store_txn *tx, struct sobj *o, enum store_event_type type, char *text,
		  struct err **e);
/* The store whose txn function this thread is running, to catch re-entry. */
extern __thread struct store *tls_txn_store;

/*
 * The etcd backend (store_etcd.c, store_etcd_watch.c): store.c's public
 * functions hand over to these when st->etcd is set.
 */
void estore_close(struct store *st);
int estore_update(struct store *st, store_txn_fn fn, void *arg, struct err **e);
/* store_txn_get found o (NULL: absent) in the index: a compare to make */
void estore_txn_read(struct store_txn *tx, const char *kind, const char *ns, const char *name,
		     const struct sobj *o);
/* A list of kind in ns (NULL: all) read at index revision rev: the txn
 * compares that no key of that range changed after rev (a create or an
 * update; a compare cannot see a delete, which frees rather than takes). */
void estore_txn_list_read(struct store_txn *tx, const char *kind, const char *ns, int64_t rev);
int64_t estore_txn_put(struct store_txn *tx, const char *kind, const char *ns, const char *name,
		       json_t *obj, bool user_change, struct err **e);
int64_t estore_txn_delete(struct store_txn *tx, const char *kind, const char *ns, const char *name,
			  struct err **e);
int estore_watch(struct store *st, int64_t after, struct store_event *evs, size_t max,
		 int timeout_ms, struct err **e);
void estore_wake_watchers(struct store *st);
size_t estore_history_len(struct store *st);

/* Space: the disk reserve and the quota (store_space.c). */
int space_open(struct store *st, struct err **e);
void space_close(struct store *st);
/* Before a batch: gives the reserve back when the disk is nearly full,
 * takes it again when there is room. */
void space_batch_start(struct store *st);
/* Before a put of about add bytes: -ENOSPC when over the quota or the
 * disk is short of room (deletes are never checked). */
int space_check_put(struct store *st, size_t add, struct err **e);
/* Log revisions to keep when compacting: fewer while space is tight. */
int64_t space_log_keep(struct store *st, int64_t keep);

#endif
