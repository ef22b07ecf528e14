/*
 * registry.h - pulling images from registries that speak the OCI
 * distribution API (Docker Hub, GHCR, Harbor, a local registry:2) into
 * the local image store (image.h).
 *
 *     $ clusterfs image pull --creds alice:pw 127.0.0.1:5000/busybox:1
 *     pulled 127.0.0.1:5000/busybox:1 sha256:1e45... 1043456 bytes in 0.412s
 *
 * A pull GETs /v2/NAME/manifests/REF (OCI and Docker v2 schema 2
 * manifests, image indexes and manifest lists; of an index the linux/<this
 * machine's architecture> manifest is taken, as image_import() does), then
 * the config and layer blobs, each streamed into DATA_DIR/images/blobs/
 * with its sha256 computed on the way and checked before it is renamed
 * into place; a blob already there is not fetched again.  A blob whose
 * transfer broke is kept as blobs/sha256/HEX.partial and continued with a
 * Range request (by this pull's retries, or by the next pull).  The image
 * is then recorded by image_import()'s own path, so diff_ids are checked
 * and layers unpacked once, shared with imported images.
 *
 * Authentication: a 401 with "WWW-Authenticate: Bearer realm=..." makes a
 * token request to the realm (with the user's basic credentials when there
 * are some) and the request is retried with the token; "Basic" sends the
 * credentials directly.
 *
 * Transport: HTTPS verified against the system's CAs, or against
 * CERTS_DIR/HOST:PORT/ca.crt when that file exists (Docker's certs.d
 * layout; CERTS_DIR/HOST:PORT/client.cert and client.key are a client
 * certificate).  Plain HTTP only for the hosts listed insecure.  docker.io
 * is reached at registry-1.docker.io, or first through its mirrors.
 *
 * Threads: registry_pull() may be called from any number of threads; pulls
 * of one reference into one store with the same credentials (those for
 * the reference's host: compared by a hash) at once are done once: the
 * first caller downloads, the others wait for it and get its result.
 * Pulls with other credentials (or none) go their own way, so that one
 * caller's refusal or success is never another's.
 */
#ifndef CFS_REGISTRY_H
#define CFS_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"
#include "runtime/image/image.h"

#define REGISTRY_CERTS_DIR "/etc/clusterfs/certs.d"

/* The node's registry configuration (flags of `clusterfs server` and
 * `clusterfs agent`).  Borrowed by registry_pull; all may be NULL/0. */
struct registry_conf {
	const char *certs_dir;	     /* NULL: REGISTRY_CERTS_DIR */
	const char *const *insecure; /* "HOST:PORT" (or "HOST") served over HTTP */
	size_t n_insecure;
	const char *const *mirrors; /* "docker.io=https://mirror.example" */
	size_t n_mirrors;
	int retries; /* of a broken blob transfer, resumed; 0: 3 */
};

/* Credentials: a parsed docker config ({"auths": {HOST: {"auth": b64} |
 * {"username","password"}}}, as a kubernetes.io/dockerconfigjson Secret
 * holds it; the older dockercfg form, the auths object alone, too), or
 * one user:password for every host. */
struct registry_creds;

/* Parses a docker config JSON text (len bytes).  -EINVAL when malformed. */
int registry_creds_parse(const char *json, size_t len, struct registry_creds **out, struct err **e);
/* Credentials for every host: "USER:PASSWORD". -EINVAL without a ':'. */
int registry_creds_basic(const char *user_pass, struct registry_creds **out, struct err **e);
/* Adds every entry of b to a (a's entries win); used to merge a pod's
 * imagePullSecrets with the node's credentials. */
void registry_creds_merge(struct registry_creds *a, const struct registry_creds *b);
/* The user and password for host ("HOST" or "HOST:PORT"; docker.io also
 * matches "https://index.docker.io/v1/" keys, and keys written as URLs
 * match by their host).  Returns true and borrowed strings, or false. */
bool registry_creds_lookup(const struct registry_creds *c, const char *host, const char **user,
			   const char **pass);
void registry_creds_free(struct registry_creds *c);

/* What a pull gives back, for `clusterfs image pull` and the kubelet's
 * "Successfully pulled image ... in 1.234s (image size N bytes)". */
struct pull_info {
	char digest[IMAGE_DIGEST_MAX]; /* of what the registry served for the
					  reference (an index's, for an index) */
	int64_t size;		       /* manifest, config and layers */
	int64_t downloaded;	       /* bytes fetched by this call (0 when
					  it waited for another thread's pull) */
	double seconds;		       /* wall time of the call */
};

/*
 * Pulls ref (normalised as image_normalize() does) into the store and
 * records it, moving the reference if it was there.  creds may be NULL
 * (anonymous).  Returns 0 and *out, or a negative errno with *e whose
 * message carries the registry's reason in the kubelet's words:
 *
 *     -EACCES   "unauthorized: authentication required"
 *     -ENOENT   "manifest unknown" (no such tag or repository)
 *     -EHOSTUNREACH "no such host" / "connection refused"
 *     -EPROTO   TLS failures ("x509: certificate ..." in curl's words)
 *     -EINVAL   a corrupt blob (digest mismatch) or malformed manifest
 *     -EIO      any other HTTP failure ("HTTP 500 ...")
 */
int registry_pull(struct image_store *s, const char *ref, const struct registry_creds *creds,
		  const struct registry_conf *conf, struct pull_info *out, struct err **e);

/* ---- Pure parts, outside for tests/unit/test_registry.c ---- */

/* A WWW-Authenticate challenge: scheme "Bearer" or "Basic" and its
 * parameters (NULL when absent).  The caller frees with
 * registry_challenge_free. */
struct registry_challenge {
	char *scheme, *realm, *service, *scope;
};
int registry_challenge_parse(const char *header, struct registry_challenge *out);
void registry_challenge_free(struct registry_challenge *c);

/* A normalised reference split for the API: host as given ("docker.io",
 * "127.0.0.1:5000"), the repository path and the tag or digest. */
struct registry_ref {
	char host[256];
	char repo[IMAGE_REF_MAX];
	char reference[IMAGE_DIGEST_MAX + 128];
};
int registry_ref_split(const char *ref, struct registry_ref *out, struct err **e);

/* The base URL (scheme://host[:port], no trailing '/') of the i-th
 * endpoint to try for host: mirrors first (docker.io only), then the
 * registry itself (docker.io -> registry-1.docker.io), http:// when host
 * is listed insecure.  NULL past the last.  The caller frees it. */
char *registry_endpoint(const struct registry_conf *conf, const char *host, int i);

#endif
