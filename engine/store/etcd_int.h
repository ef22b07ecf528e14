/*
 * etcd_int.h - what etcd.c (requests, failover) and etcd_watch.c (watch
 * streams) share; no one else includes it.
 *
 * Locking: c->lock guards cur; the endpoint list and
 * the options never change after etcd_open.
 */
#ifndef CFS_ETCD_INT_H
#define CFS_ETCD_INT_H

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>

#include "engine/curlpool.h"
#include "engine/store/etcd.h"

#define ETCD_POOL_MAX	16   /* idle easy handles kept (each keeps its connections) */
#define ETCD_CONNECT_MS 2000 /* at most, per endpoint */

/* gRPC metadata, as etcd's own client sends it: a member with no leader
 * answers "no leader" at once (instead of timing out) and ends watches. */
#define ETCD_NEED_LEADER "Grpc-Metadata-hasleader: true"

struct etcd {
	char **eps; /* "http(s)://HOST:PORT", no trailing slash */
	int neps;
	char *ca_file, *cert_file, *key_file;
	int timeout_ms;

	pthread_mutex_t lock;
	int cur;	      /* the endpoint that last answered (lock) */
	struct curlpool pool; /* idle handles, keeping their connections */
};

/* The endpoint to try first; marks i as the one that answered. */
int etcd_cur(struct etcd *c);
void etcd_set_cur(struct etcd *c, int i);

/* Sets the options every request to endpoint i shares: URL (ep + path),
 * timeouts, TLS files, TCP keep-alive, no signals. */
void etcd_setup(struct etcd *c, CURL *h, int i, const char *path);

/*
 * POSTs body (taken) to path on each endpoint in turn, from the current
 * one, until one answers; *out is the answer (the "result" of a stream's
 * one answer; also set, or NULL, on error).  write: a failure after the
 * request was sent ends the call with -ETIMEDOUT (it may have been
 * applied).  Errors as etcd.h says.
 */
int etcd_call(struct etcd *c, const char *path, json_t *body, bool write, json_t **out,
	      struct err **e);

/* A JSON string with the base64 of p[0..n). */
json_t *etcd_jb64(const void *p, size_t n);
/* An int64 that the gateway writes as a string ("123") or a number; 0 if absent. */
int64_t etcd_jint(const json_t *o, const char *name);
/* One mvccpb.KeyValue object into kv (owned by kv); -EIO if malformed. */
int etcd_kv_parse(const json_t *o, struct etcd_kv *kv, struct err **e);

/* An error answer of the gateway ({"error": "...", "code": N} or, on
 * streams, {"error": {"grpc_code": N, "message": "..."}}): its message
 * (borrowed from j) and gRPC code; NULL if j is not an error. */
const char *etcd_jerror(const json_t *j, int *code);
/* An error that means this member cannot serve now (no leader, not
 * enough members, overloaded): the next endpoint may. */
bool etcd_err_transient(const char *msg, int code);

#endif
