/* test_http_pki.c - the HTTP API's PKI (http/pki.h): files and modes, the
 * SANs, the chain, reuse on a second start, a new serving certificate
 * (same CA and token) when a SAN is added, and the kubeconfig. */
#include <gnutls/x509.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "engine/mem.h"
#include "http/pki.h"
#include "tests/unit/unit.h"

static char dir[64];

static int mode_of(const char *name)
{
	char *p = xasprintf("%s/%s", dir, name);
	struct stat st;
	int m = stat(p, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
	free(p);
	return m;
}

/* True when the CA verifies the serving certificate. */
static bool chain_ok(const struct pki *p)
{
	gnutls_x509_crt_t ca, crt;
	gnutls_datum_t a = {(unsigned char *)pki_ca_pem(p), (unsigned)strlen(pki_ca_pem(p))};
	gnutls_datum_t b = {(unsigned char *)pki_cert_pem(p), (unsigned)strlen(pki_cert_pem(p))};
	gnutls_x509_crt_init(&ca);
	gnutls_x509_crt_init(&crt);
	unsigned status = 1;
	if (gnutls_x509_crt_import(ca, &a, GNUTLS_X509_FMT_PEM) >= 0 &&
	    gnutls_x509_crt_import(crt, &b, GNUTLS_X509_FMT_PEM) >= 0)
		if (gnutls_x509_crt_verify(crt, &ca, 1, 0, &status) < 0)
			status = 1;
	gnutls_x509_crt_deinit(ca);
	gnutls_x509_crt_deinit(crt);
	return status == 0;
}

static void test_first_start(void)
{
	const char *extra[] = {"api.example.com", "10.1.2.3"};
	struct pki *p = NULL;
	struct err *e = NULL;
	CHECK(pki_ensure(dir, extra, 2, &p, &e) == 0);
	if (!p)
		return;
	CHECK(mode_of("pki") == 0700);
	CHECK(mode_of("pki/ca.crt") == 0600 && mode_of("pki/ca.key") == 0600);
	CHECK(mode_of("pki/server.crt") == 0600 && mode_of("pki/server.key") == 0600);
	CHECK(mode_of("pki/token") == 0600);
	CHECK(strlen(pki_token(p)) == 64 && strspn(pki_token(p), "0123456789abcdef") == 64);
	CHECK(pki_cert_has_san(pki_cert_pem(p), "localhost"));
	CHECK(pki_cert_has_san(pki_cert_pem(p), "127.0.0.1"));
	CHECK(pki_cert_has_san(pki_cert_pem(p), "api.example.com"));
	CHECK(pki_cert_has_san(pki_cert_pem(p), "10.1.2.3"));
	CHECK(!pki_cert_has_san(pki_cert_pem(p), "other.example.com"));
	CHECK(!pki_cert_has_san(pki_cert_pem(p), "10.1.2.4"));
	char **sans = NULL;
	size_t n = pki_sans(NULL, 0, &sans);
	for (size_t i = 0; i < n; i++) {
		CHECK(pki_cert_has_san(pki_cert_pem(p), sans[i])); /* every host address */
		free(sans[i]);
	}
	free(sans);
	CHECK(chain_ok(p));
	pki_free(p);
	err_free(e);
}

static void test_reuse(void)
{
	const char *extra[] = {"api.example.com", "10.1.2.3"};
	struct pki *p1 = NULL, *p2 = NULL, *p3 = NULL;
	CHECK(pki_ensure(dir, extra, 2, &p1, NULL) == 0);
	CHECK(pki_ensure(dir, extra, 1, &p2, NULL) == 0); /* a subset: nothing new */
	if (!p1 || !p2)
		return;
	CHECK(!strcmp(pki_ca_pem(p1), pki_ca_pem(p2)));
	CHECK(!strcmp(pki_cert_pem(p1), pki_cert_pem(p2)));
	CHECK(!strcmp(pki_key_pem(p1), pki_key_pem(p2)));
	CHECK(!strcmp(pki_token(p1), pki_token(p2)));
	const char *more[] = {"new.example.com"};
	CHECK(pki_ensure(dir, more, 1, &p3, NULL) == 0);
	if (p3) {
		CHECK(!strcmp(pki_ca_pem(p1), pki_ca_pem(p3)));
		CHECK(!strcmp(pki_token(p1), pki_token(p3)));
		CHECK(strcmp(pki_cert_pem(p1), pki_cert_pem(p3)) != 0);
		CHECK(pki_cert_has_san(pki_cert_pem(p3), "new.example.com"));
		CHECK(chain_ok(p3));
	}
	pki_free(p1);
	pki_free(p2);
	pki_free(p3);
}

static void test_kubeconfig(void)
{
	struct pki *p = NULL;
	CHECK(pki_ensure(dir, NULL, 0, &p, NULL) == 0);
	if (!p)
		return;
	char *path = xasprintf("%s/kubeconfig", dir);
	CHECK(pki_write_kubeconfig(p, path, "https://127.0.0.1:6443", NULL) == 0);
	CHECK(mode_of("kubeconfig") == 0600);
	FILE *f = fopen(path, "r");
	char text[8192] = "";
	if (f) {
		size_t n = fread(text, 1, sizeof(text) - 1, f);
		text[n] = '\0';
		fclose(f);
	}
	CHECK(strstr(text, "server: https://127.0.0.1:6443\n"));
	CHECK(strstr(text, "certificate-authority-data: LS0tLS1CRUdJTi")); /* "-----BEGIN" */
	CHECK(strstr(text, pki_token(p)));
	CHECK(strstr(text, "current-context: clusterfs\n"));
	free(path);
	pki_free(p);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/test_http_pki.XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	RUN(test_first_start);
	RUN(test_reuse);
	RUN(test_kubeconfig);
	char *cmd = xasprintf("rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(cmd);
	return unit_done();
}
