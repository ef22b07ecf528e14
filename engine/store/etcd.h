/*
 * etcd.h - a client of etcd's v3 API through its JSON gateway (HTTP/1.1,
 * libcurl): the store's second backend (store_etcd.c) and the servers'
 * leader election (engine/store/elect.c) use it.
 *
 *     struct etcd *c;
 *     etcd_open(&(struct etcd_opts){.endpoints = "http://127.0.0.1:2379"}, &c, &e);
 *     struct etcd_op put = {ETCD_PUT, "/k", 2, "v", 1, 0};
 *     etcd_txn(c, NULL, 0, &put, 1, NULL, 0, &res, &e);
 *
 * Keys and values are byte strings (pointer and length); the gateway's
 * base64 is this file's business.  Revisions are etcd's (int64).
 *
 * Endpoints: every request goes to the endpoint that last answered; one
 * that cannot be reached (connect refused, timeout) or answers that it has
 * no leader (or not enough members, or is overloaded) is left for the
 * next, in turn, until each has been tried once for this request; every
 * request asks for a leader (as etcd's own client does), so a member that
 * lost its quorum says so at once.  A write (a txn with a PUT or DELETE,
 * a compaction) is never sent twice: one that failed after
 * it was sent (a timeout, the connection cut) may have been applied, and
 * ends with -ETIMEDOUT; the next request starts at the next endpoint.
 * Connections are kept alive between requests (a small pool of libcurl
 * handles, each keeping its connections).  TLS: https:// endpoints, the
 * server verified against ca_file, a client certificate if given.
 *
 * Errors (negative errno, with *e saying which endpoint and what it said):
 * -EIO: no endpoint could serve the request (no quorum, all down; the
 *  message names each endpoint and what it said); -ETIMEDOUT: the request
 *  timed out on every endpoint, or a write's outcome is unknown (above);
 * -ERANGE: a read or watch at a compacted revision; -E2BIG: the request
 * is over etcd's size limit (--max-request-bytes, 1.5 MiB by default) or
 * has too many operations (--max-txn-ops, 128); -ENOENT: an unknown lease;
 * -EINVAL: etcd refused the request as malformed (a future revision, the
 * same key twice in a txn); -ENOSPC: etcd's database is full (its NOSPACE
 * alarm); -EACCES: etcd's authentication refused the request.
 *
 * Threads: every function is thread-safe; a watch runs on a thread of its
 * own and calls its callback there.
 */
#ifndef CFS_ETCD_H
#define CFS_ETCD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"

struct etcd;

struct etcd_opts {
	const char *endpoints; /* "http(s)://HOST:PORT[,...]" */
	const char *ca_file;   /* PEM CA to verify etcd's TLS; NULL: system's */
	const char *cert_file; /* client certificate (PEM); NULL: none */
	const char *key_file;  /* its key */
	int timeout_ms;	       /* per request and endpoint; 0: 5000 */
};

int etcd_open(const struct etcd_opts *o, struct etcd **out, struct err **e);
/* NULL is fine.  Stops no watch: stop c's watches first. */
void etcd_close(struct etcd *c);

/* One key-value as etcd returns it; the strings are NUL-terminated too. */
struct etcd_kv {
	char *key;
	size_t key_len;
	char *value;
	size_t value_len;
	int64_t create_rev, mod_rev, version, lease;
};
void etcd_kvs_free(struct etcd_kv *kvs, size_t n);

/*
 * Range: the keys in [key, end) (end NULL: key alone; "\0" of length 1:
 * every key >= key), at revision rev (0: the newest), at most limit of them
 * (0: all), in key order.  *kvs (free with etcd_kvs_free) and *n; *more
 * when limit cut the answer short; *hdr_rev the store's revision the read
 * saw (more and hdr_rev may be NULL).  count_only: *n is the number of
 * keys and *kvs NULL.  Linearizable (a quorum read).
 */
struct etcd_range {
	const char *key;
	size_t key_len;
	const char *end;
	size_t end_len;
	int64_t rev;
	int64_t limit;
	bool count_only;
};
int etcd_get(struct etcd *c, const struct etcd_range *r, struct etcd_kv **kvs, size_t *n,
	     bool *more, int64_t *hdr_rev, struct err **e);

/* Transactions */

enum etcd_cmp_target {
	ETCD_CMP_VERSION,
	ETCD_CMP_CREATE,
	ETCD_CMP_MOD,
	ETCD_CMP_VALUE,
	ETCD_CMP_LEASE
};
enum etcd_cmp_op { ETCD_EQ, ETCD_NE, ETCD_LT, ETCD_GT };
struct etcd_cmp {
	const char *key;
	size_t key_len;
	enum etcd_cmp_target target;
	enum etcd_cmp_op op;
	int64_t num;	   /* VERSION, CREATE, MOD, LEASE */
	const char *value; /* VALUE */
	size_t value_len;
	const char *range_end; /* non-NULL: every key in [key, range_end) */
	size_t range_end_len;
};

enum etcd_op_type { ETCD_PUT, ETCD_DELETE, ETCD_RANGE };
struct etcd_op {
	enum etcd_op_type type;
	const char *key;
	size_t key_len;
	const char *value; /* PUT */
	size_t value_len;
	int64_t lease; /* PUT: 0 none */
};

struct etcd_txn_res {
	bool succeeded; /* the compares held: the success ops ran */
	int64_t rev;	/* the header's revision: the txn's own when it wrote */
	/* one per ETCD_RANGE op of the branch that ran, in order: the key's
	 * key-value, or for an absent key its key, "" and version 0 */
	struct etcd_kv *kvs;
	size_t n;
};
void etcd_txn_res_free(struct etcd_txn_res *r);

/*
 * All compares hold -> the success ops, else the failure ops, atomically.
 * Returns 0 (whichever branch ran) and *res, or a negative errno.  A
 * request that may or may not have been applied (a timeout after sending)
 * returns -ETIMEDOUT: the caller finds out by reading.
 */
int etcd_txn(struct etcd *c, const struct etcd_cmp *cmps, size_t ncmp, const struct etcd_op *ok,
	     size_t nok, const struct etcd_op *fail, size_t nfail, struct etcd_txn_res *res,
	     struct err **e);

/* Compacts the history up to rev (physical: waits until it is applied). */
int etcd_compact(struct etcd *c, int64_t rev, struct err **e);

/* Leases */

/* A lease of ttl seconds: *id (> 0). */
int etcd_lease_grant(struct etcd *c, int64_t ttl, int64_t *id, struct err **e);
/* One keep-alive: *ttl left (0 or -ENOENT: the lease expired). */
int etcd_lease_keepalive(struct etcd *c, int64_t id, int64_t *ttl, struct err **e);
int etcd_lease_revoke(struct etcd *c, int64_t id, struct err **e);

/* Watches */

enum etcd_ev_type { ETCD_EV_PUT, ETCD_EV_DELETE };
struct etcd_event {
	enum etcd_ev_type type;
	struct etcd_kv kv; /* DELETE: key and mod_rev (the delete's) only */
};

/*
 * Called on the watch's thread with the events of one or more whole
 * revisions, in revision order; rev is the last event's revision.  n may
 * be 0: a progress notification, rev is then the store's revision, every
 * change up to it delivered (etcd sends one every
 * --experimental-watch-progress-notify-interval, 10 minutes by default,
 * 1 s in tests/e2e/lib_etcd.sh; and one on a watch from now, with the
 * revision it starts after).
 * The events are the callback's to keep until it returns.  compacted
 * (> 0): the watch's start revision was compacted away up to it; the
 * watch has ended and the caller relists.  err (< 0): the watch ended
 * on an error the client could not recover from (every endpoint failed
 * for longer than the timeout); it is retried by the caller.
 */
typedef void (*etcd_watch_fn)(void *arg, const struct etcd_event *evs, size_t n, int64_t rev,
			      int64_t compacted, int err);

/*
 * Watches [key, end) from revision start (0: from now) on a thread of its
 * own, reconnecting (to the next endpoint) from the revision after the last
 * one delivered.  The stream asks for a leader: a member cut off from the
 * quorum ends it, and the watch moves on.
 */
struct etcd_watch;
int etcd_watch_start(struct etcd *c, const struct etcd_range *r, int64_t start, etcd_watch_fn fn,
		     void *arg, struct etcd_watch **out, struct err **e);
/* Stops it and frees it: when this returns the callback is not running and
 * will not run.  Called once for every watch started, also after the
 * callback was told compacted or err; never from the callback. */
void etcd_watch_stop(struct etcd_watch *w);

/* The endpoint the client is using now ("http://..."), for messages. */
const char *etcd_endpoint(struct etcd *c);

#endif
