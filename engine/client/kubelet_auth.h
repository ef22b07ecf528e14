/*
 * kubelet_auth.h - how a node agent's endpoint (runtime/kubelet/kserver.h)
 * and the control plane trust each other.
 *
 *   agent -> server: the agent makes a self-signed key and certificate
 *   in DATA_DIR/kubelet/ at first start and publishes the sha256 of its
 *   public key (curl's "sha256//BASE64" form) in its Node's annotation
 *   KUBELET_PIN_ANNOTATION; only the node itself (and the admin) may
 *   write its Node (the node authorizer), so the server pins that key
 *   (CURLOPT_PINNEDPUBLICKEY) when it connects.
 *
 *   server -> agent: every request carries
 *       Authorization: Bearer cfs-kubelet.v1.TIME.SIG
 *   SIG (base64) being the cluster CA's signature (its private key is
 *   only the server's, DATA_DIR/pki/ca.key) over
 *   "clusterfs-kubelet/v1\nNODE\nTIME"; the agent checks it with the CA
 *   it already trusts for the API (the same it pinned at join), that NODE
 *   is its own (a token for one node is worthless to another) and that
 *   TIME (unix seconds) is within KUBELET_AUTH_SKEW_S of its clock.  No
 *   secret is ever stored in the API, so other nodes learn nothing they
 *   could use; a token can only be replayed to the same node within the
 *   window, and only by someone who broke the TLS session it came in.
 *
 * Thread-safe.
 */
#ifndef CFS_KUBELET_AUTH_H
#define CFS_KUBELET_AUTH_H

#include <time.h>

#include "engine/err.h"

#define KUBELET_PIN_ANNOTATION	"kubelet.clusterfs.io/serving-key-sha256"
#define KUBELET_PORT_ANNOTATION "kubelet.clusterfs.io/port"
#define KUBELET_AUTH_SKEW_S	300

struct kubelet_signer;

/* Loads the CA's private key (PEM file).  0 and *out, or -errno with *e. */
int kubelet_signer_open(const char *ca_key_file, struct kubelet_signer **out, struct err **e);
void kubelet_signer_free(struct kubelet_signer *s);
/* The header value "Bearer cfs-kubelet.v1..." for node at now (caller
 * frees), or NULL. */
char *kubelet_auth_sign(struct kubelet_signer *s, const char *node, time_t now);

/* Checks an Authorization header value against the CA (PEM) for node at
 * now: 0, or -EACCES. */
int kubelet_auth_verify(const char *ca_pem, const char *node, const char *header, time_t now);

/* The pin of a PEM certificate's public key: "sha256//BASE64" (caller
 * frees), or NULL. */
char *kubelet_key_pin(const char *cert_pem);

#endif
