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
};

/* The index: kind -> struct kindidx -> ns -> struct nsidx -> name -> sobj. */
struct kindidx {
	struct hmap nss; /* ns -> struct nsidx * */
	size_t n;	 /* objects of the kind, in every namespace */
};

struct nsidx {
	struct hmap names; /* name -> struct sobj * (a reference) */
};

/* The objects whose ownerReferences name one uid (borrowed from the index). */
struct deplist {
	struct sobj **v;
	size_t n, cap;
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
int64_t store_now_ns(void);
void idx_put(struct store *st, struct sobj *o);
void idx_del(struct store *st, const char *kind, const char *ns, const char *name);
void kindidx_free(void *p);
void deplist_free(void *p);
size_t idx_list(struct store *st, const char *kind, const char *ns, struct sobj ***out);
size_t idx_dependents(struct store *st, const char *uid, struct sobj ***out);

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
