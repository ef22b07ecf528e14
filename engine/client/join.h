/*
 * join.h - how a node agent joins the cluster: the join token's format
 * (join_token.c; the server writes it, the agent reads it) and the agent's
 * side of the join (join.c, over HTTPS with libcurl).
 *
 * The join token (DATA_DIR/node-token on the server, mode 0600):
 *
 *     cfs1.<CA hash: 64 hex>.<secret: 64 hex>
 *
 * The CA hash is the SHA-256 of the server's CA certificate exactly as the
 * server serves it, anonymously, at GET /cacerts (PEM), so that
 * `curl -sk https://SERVER/cacerts | sha256sum` shows it; the secret is 32
 * random bytes.  The token alone is enough for a secure join (as k3s's and
 * kubeadm's are):
 *
 *  1. the agent fetches /cacerts without verifying the server, hashes what
 *     it got and compares it with the token's hash: a mismatch is a wrong
 *     server (or a wrong token), and the join stops there;
 *  2. from then on it verifies the server with that CA, and asks for its
 *     node's credential: POST /v1-clusterfs/join, "Authorization: Bearer
 *     SECRET" (the whole token is accepted too), body {"node": "NAME"};
 *     the answer is {"kind": "NodeCredential", "node": NAME, "token":
 *     CREDENTIAL}.  A wrong (or rotated) secret is 401.
 *  3. The credential (cfsn1.<64 hex>) is the node's bearer token: the
 *     server knows it as user system:node:NAME, group system:nodes (the
 *     node authorizer's rules, engine/api/api.h).  The server keeps only
 *     its SHA-256 (DATA_DIR/node-credentials, 0600).  Joining again under
 *     the same name issues a new credential and the old one stops working
 *     (the server cannot give the old one back); an agent that still has
 *     its saved credential does not join again.
 */
#ifndef CFS_CLIENT_JOIN_H
#define CFS_CLIENT_JOIN_H

#include <stdbool.h>
#include <stddef.h>

#include "engine/err.h"

#define JOIN_TOKEN_PREFIX "cfs1."
#define JOIN_CRED_PREFIX  "cfsn1."
#define JOIN_PATH	  "/v1-clusterfs/join"
#define JOIN_CA_PATH	  "/cacerts"

/* The SHA-256 of data as 64 lowercase hex digits. */
void join_sha256_hex(const void *data, size_t n, char out[65]);

/* A new random secret: 64 hex digits.  0, or -EIO with *e. */
int join_random_hex(char out[65], struct err **e);

/* The join token for a CA (its PEM, as served) and a secret (malloc'd). */
char *join_token_make(const char *ca_pem, const char *secret);

/* Splits a join token into its CA hash and secret.  0, or -EINVAL with *e
 * saying what is wrong with it. */
int join_token_parse(const char *token, char ca_hash[65], char secret[65], struct err **e);

/* Compares two strings in time that depends only on their lengths. */
bool join_secret_equal(const char *a, const char *b);

/* True when name may name a node (a DNS-1123 subdomain). */
bool join_node_name_ok(const char *name);

/*
 * The agent's side.  Where the agent keeps what it got, in its data dir
 * (mode 0600 files):  DATA_DIR/join/ca.crt (the pinned CA) and
 * DATA_DIR/join/token (its credential, one line) and DATA_DIR/join/node
 * (the node name it was issued for).
 */
struct join_result {
	char *ca_path; /* the CA file to verify the server with (malloc'd) */
	char *token;   /* the node's bearer token (malloc'd) */
};
void join_result_free(struct join_result *r);

/*
 * Joins server_url ("https://HOST:PORT") with the join token as node_name,
 * keeping what it gets in data_dir; on a later start the saved CA and
 * credential are reused (no request is made) when they were issued for the
 * same node name and the same CA hash.  0 and *out, or:
 *   -EINVAL  the token is malformed
 *   -EPERM   the server's CA does not match the token's hash
 *   -EACCES  the join secret was refused (wrong or rotated token)
 *   -EAGAIN  the server could not be reached (or answered 5xx): retry
 *   -EIO     anything else (a file that cannot be written, ...)
 * with *e saying so.
 */
int join(const char *server_url, const char *token, const char *node_name, const char *data_dir,
	 struct join_result *out, struct err **e);

/* Forgets the saved credential (not the CA), so that the next join() asks
 * for a new one: for an agent whose credential the server refuses (401:
 * revoked).  0 or a negative errno. */
int join_forget(const char *data_dir);

/*
 * join() again while it returns -EAGAIN, waiting 1 s, then doubling up to
 * max_wait_ms between attempts, for at most total_ms in all (< 0: for
 * ever) or until *stop becomes true (stop may be NULL).  Each retry is
 * logged.  Returns what the last join() returned.
 */
int join_retry(const char *server_url, const char *token, const char *node_name,
	       const char *data_dir, int max_wait_ms, long total_ms, const volatile bool *stop,
	       struct join_result *out, struct err **e);

#endif
