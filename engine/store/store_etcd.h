/*
 * store_etcd.h - what the etcd backend's files share (store_etcd.c: keys,
 * values, transactions, fencing, sync; store_etcd_watch.c: the index fed
 * by etcd's watch, the event ring, compaction); not an interface.
 *
 * Locks: the commit role (st->committing, as on SQLite) before idx_lock
 * before ev_mu; fence_mu and sync_mu are leaves.
 */
#ifndef CFS_STORE_ETCD_H
#define CFS_STORE_ETCD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/store/etcd.h"
#include "engine/store/store_int.h"

#define ESTORE_MAX_OPS	     128	     /* etcd's --max-txn-ops default */
#define ESTORE_MAX_BYTES     (1536 * 1024)   /* etcd's --max-request-bytes default */
#define ESTORE_RING_CAP	     16384	     /* events kept for store_watch */
#define ESTORE_KEEP_REVS     10000	     /* history kept at compaction */
#define ESTORE_COMPACT_EVERY (5 * 60 * 1000) /* ms between compactions */
#define ESTORE_TRIES	     32		     /* runs of a txn function on conflicts */
#define ESTORE_WAIT_MS	     10000	     /* waiting for the index to catch up */
#define ESTORE_PAGE	     1000	     /* keys per range at load */

struct estore {
	struct etcd *c;
	char *prefix; /* "PREFIX/" */
	size_t plen;  /* its length */
	char *pend;   /* the end of the prefix's range ("PREFIX0") */
	int max_ops;  /* ops (and compares) per txn */
	size_t max_bytes;

	/* the index's feed: ev_mu guards the ring and the watch's state */
	pthread_mutex_t ev_mu;
	pthread_cond_t ev_cond;	  /* ev_mu: the index moved, or closing */
	struct store_event *ring; /* ev_mu: the newest events, a circle */
	size_t ring_head, ring_n; /* ev_mu: the oldest one's slot; how many */
	size_t ring_bytes;	  /* ev_mu: store_history_size() of those */
	int64_t *ring_at;	  /* ev_mu: per slot, mono_ms() when it came */
	int64_t floor;		  /* ev_mu: events at or below are not all kept */
	bool closing;		  /* ev_mu: watchers return 0, the thread ends */
	bool woken;		  /* ev_mu: store_wake_watchers was called */
	bool watch_dead;	  /* ev_mu: the watch ended: restart (relist if compacted) */
	bool relist;		  /* ev_mu: its start was compacted */
	int watch_err;		  /* ev_mu: why it ended, for messages */
	int active;		  /* ev_mu: threads inside estore_watch */
	struct etcd_watch *watch; /* the running watch (the keeper thread's) */
	pthread_t keeper;	  /* restarts the watch, compacts */
	int64_t last_compact_ms;  /* keeper only */

	/* fencing */
	pthread_mutex_t fence_mu;
	char *fence_key;   /* fence_mu: NULL: fenced threads can't write */
	int64_t fence_rev; /* fence_mu: its create revision */
	bool fence_on;	   /* fence_mu: store_fence_set was called */

	/* store_sync: one read for the callers that queued meanwhile */
	pthread_mutex_t sync_mu;
	pthread_cond_t sync_cond;
	bool sync_busy;
	uint64_t sync_started, sync_done;
	int sync_rc;
	int64_t sync_rev;
	char *sync_msg;
};

/* Testing knobs (store.h has the SQLite ones) */
extern int estore_compact_every_ms_for_test; /* > 0: instead of ESTORE_COMPACT_EVERY */
extern int64_t estore_keep_revs_for_test;    /* > 0: instead of ESTORE_KEEP_REVS */
/* As if etcd had compacted the watch's start: the store relists. */
void estore_relist_for_test(struct store *st);

/* store_etcd.c */
char *estore_key(struct estore *es, const char *kind, const char *ns, const char *name,
		 size_t *len);
/* KIND, NS and NAME (new strings) of an object's key; false if the key is
 * not an object's (e.g. the election's PREFIX/leader/NAME). */
bool estore_key_split(struct estore *es, const struct etcd_kv *kv, char **kind, char **ns,
		      char **name);
/* The object a key-value holds, as the index keeps it, or NULL (not an
 * object's key, or corrupt: logged). */
struct sobj *estore_kv_sobj(struct estore *es, const struct etcd_kv *kv);
/* Waits until the index shows revision rev: 0, or -ETIMEDOUT after ms. */
int estore_wait_rev(struct store *st, int64_t rev, int ms, struct err **e);

/* store_etcd_watch.c */
/* Fills the index from a range of the prefix and starts the watch and its
 * keeper thread. */
int estore_feed_start(struct store *st, struct err **e);
void estore_feed_stop(struct store *st);

#endif
