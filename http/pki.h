/*
 * pki.h - the server's TLS material and the admin credentials.
 *
 * In DATA_DIR/pki/ (mode 0700), files mode 0600:
 *     ca.crt ca.key          a self-signed CA (ECDSA P-256, 10 years)
 *     server.crt server.key  the serving certificate, signed by the CA, with
 *                            the SANs of pki_sans() (1 year)
 *     token                  the admin bearer token (32 random bytes, hex)
 * made with GnuTLS's x509 API on first start and reused after; the serving
 * certificate is made again when a wanted SAN is missing from it or it
 * expires within 30 days.  DATA_DIR/kubeconfig (0600) names the server,
 * embeds the CA and carries the token, in a context named "clusterfs".
 *
 * A struct pki is immutable once made; thread-safe to read.
 */
#ifndef CFS_HTTP_PKI_H
#define CFS_HTTP_PKI_H

#include <stddef.h>

#include "engine/err.h"

struct pki;

/* Loads or makes the PKI in data_dir/pki with the extra SANs (DNS names or
 * IP addresses).  0 and *out, or a negative errno with *e. */
int pki_ensure(const char *data_dir, const char *const *sans, size_t nsans, struct pki **out,
	       struct err **e);
void pki_free(struct pki *p);

const char *pki_token(const struct pki *p);
const char *pki_ca_pem(const struct pki *p);
const char *pki_cert_pem(const struct pki *p);
const char *pki_key_pem(const struct pki *p);

/* The SANs a serving certificate must have: every address of the host,
 * "localhost", "127.0.0.1" and extra.  *out: a NULL-terminated array of
 * malloc'd strings (free each and the array); returns the count. */
size_t pki_sans(const char *const *extra, size_t nextra, char ***out);

/* True when the PEM certificate names host (a DNS name or an IP address). */
int pki_cert_has_san(const char *cert_pem, const char *host);

/* Writes the kubeconfig (mode 0600, atomically) for server ("https://..."). */
int pki_write_kubeconfig(const struct pki *p, const char *path, const char *server, struct err **e);

/* A file's whole content, NUL-terminated (malloc'd), or NULL (errno set). */
char *pki_read_file(const char *path);

/* Writes data to path, mode 0600, through a temporary file, fsync and
 * rename.  0, or a negative errno with *e. */
int pki_write_file(const char *path, const char *data, struct err **e);

#endif
