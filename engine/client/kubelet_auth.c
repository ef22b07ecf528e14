/*
 * kubelet_auth.c - see kubelet_auth.h.  GnuTLS: the CA key signs with
 * SHA-256 (ECDSA P-256 for clusterfs's CA), the certificate's public key
 * checks it.
 */
#include "engine/client/kubelet_auth.h"

#include <errno.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mem.h"

#define TOKEN_PREFIX "Bearer cfs-kubelet.v1."

struct kubelet_signer {
	gnutls_privkey_t key;
};

int kubelet_signer_open(const char *ca_key_file, struct kubelet_signer **out, struct err **e)
{
	char *pem = file_slurp(ca_key_file);
	if (!pem)
		return err_make(e, errno, "%s: %s", ca_key_file, strerror(errno));
	struct kubelet_signer *s = xcalloc(1, sizeof(*s));
	gnutls_datum_t d = {(unsigned char *)pem, (unsigned)strlen(pem)};
	int rc = gnutls_privkey_init(&s->key);
	if (rc >= 0)
		rc = gnutls_privkey_import_x509_raw(s->key, &d, GNUTLS_X509_FMT_PEM, NULL, 0);
	free(pem);
	if (rc < 0) {
		kubelet_signer_free(s);
		return err_make(e, EINVAL, "%s: %s", ca_key_file, gnutls_strerror(rc));
	}
	*out = s;
	return 0;
}

void kubelet_signer_free(struct kubelet_signer *s)
{
	if (!s)
		return;
	if (s->key)
		gnutls_privkey_deinit(s->key);
	free(s);
}

static char *message(const char *node, long long t)
{
	return xasprintf("clusterfs-kubelet/v1\n%s\n%lld", node, t);
}

char *kubelet_auth_sign(struct kubelet_signer *s, const char *node, time_t now)
{
	char *msg = message(node, (long long)now);
	gnutls_datum_t d = {(unsigned char *)msg, (unsigned)strlen(msg)}, sig = {0}, b64 = {0};
	char *out = NULL;
	if (gnutls_privkey_sign_data(s->key, GNUTLS_DIG_SHA256, 0, &d, &sig) >= 0 &&
	    gnutls_base64_encode2(&sig, &b64) >= 0)
		out = xasprintf("%s%lld.%.*s", TOKEN_PREFIX, (long long)now, (int)b64.size,
				(char *)b64.data);
	gnutls_free(sig.data);
	gnutls_free(b64.data);
	free(msg);
	return out;
}

/* The CA certificate's public key, or NULL. */
static gnutls_pubkey_t ca_pubkey(const char *ca_pem, gnutls_pk_algorithm_t *pk)
{
	gnutls_x509_crt_t crt;
	gnutls_pubkey_t key = NULL;
	if (gnutls_x509_crt_init(&crt) < 0)
		return NULL;
	gnutls_datum_t d = {(unsigned char *)ca_pem, (unsigned)strlen(ca_pem)};
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) >= 0 &&
	    gnutls_pubkey_init(&key) >= 0 && gnutls_pubkey_import_x509(key, crt, 0) < 0) {
		gnutls_pubkey_deinit(key);
		key = NULL;
	}
	if (key)
		*pk = (gnutls_pk_algorithm_t)gnutls_x509_crt_get_pk_algorithm(crt, NULL);
	gnutls_x509_crt_deinit(crt);
	return key;
}

int kubelet_auth_verify(const char *ca_pem, const char *node, const char *header, time_t now)
{
	if (!ca_pem || !header || strncmp(header, TOKEN_PREFIX, strlen(TOKEN_PREFIX)))
		return -EACCES;
	const char *p = header + strlen(TOKEN_PREFIX);
	char *end;
	long long t = strtoll(p, &end, 10);
	if (end == p || *end != '.' || t < (long long)now - KUBELET_AUTH_SKEW_S ||
	    t > (long long)now + KUBELET_AUTH_SKEW_S)
		return -EACCES;
	gnutls_datum_t b64 = {(unsigned char *)end + 1, (unsigned)strlen(end + 1)}, sig = {0};
	if (gnutls_base64_decode2(&b64, &sig) < 0)
		return -EACCES;
	gnutls_pk_algorithm_t pk = GNUTLS_PK_UNKNOWN;
	gnutls_pubkey_t key = ca_pubkey(ca_pem, &pk);
	char *msg = message(node, t);
	gnutls_datum_t d = {(unsigned char *)msg, (unsigned)strlen(msg)};
	int r = key && gnutls_pubkey_verify_data2(key, gnutls_pk_to_sign(pk, GNUTLS_DIG_SHA256), 0,
						  &d, &sig) >= 0
		    ? 0
		    : -EACCES;
	free(msg);
	gnutls_free(sig.data);
	if (key)
		gnutls_pubkey_deinit(key);
	return r;
}

char *kubelet_key_pin(const char *cert_pem)
{
	gnutls_x509_crt_t crt;
	if (gnutls_x509_crt_init(&crt) < 0)
		return NULL;
	gnutls_datum_t d = {(unsigned char *)cert_pem, (unsigned)strlen(cert_pem)}, der = {0},
		       b64 = {0};
	gnutls_pubkey_t key = NULL;
	char *out = NULL;
	unsigned char h[32];
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) >= 0 &&
	    gnutls_pubkey_init(&key) >= 0 && gnutls_pubkey_import_x509(key, crt, 0) >= 0 &&
	    gnutls_pubkey_export2(key, GNUTLS_X509_FMT_DER, &der) >= 0 &&
	    gnutls_hash_fast(GNUTLS_DIG_SHA256, der.data, der.size, h) >= 0) {
		gnutls_datum_t hd = {h, sizeof(h)};
		if (gnutls_base64_encode2(&hd, &b64) >= 0)
			out = xasprintf("sha256//%.*s", (int)b64.size, (char *)b64.data);
	}
	gnutls_free(der.data);
	gnutls_free(b64.data);
	if (key)
		gnutls_pubkey_deinit(key);
	gnutls_x509_crt_deinit(crt);
	return out;
}
