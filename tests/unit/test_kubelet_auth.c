/* test_kubelet_auth.c - the tokens the server signs for a node agent's
 * endpoint (engine/client/kubelet_auth.h): a token verifies for its node
 * and time only, with the CA that signed it only, tampered never; key
 * pins in curl's form. */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "engine/client/kubelet_auth.h"
#include "engine/mem.h"
#include "http/pki.h"
#include "tests/unit/unit.h"

static char dir[64], dir2[64];
static struct pki *pki, *other;

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/cfs-kauth-XXXXXX");
	snprintf(dir2, sizeof(dir2), "/tmp/cfs-kauth-XXXXXX");
	if (!mkdtemp(dir) || !mkdtemp(dir2) || pki_ensure(dir, NULL, 0, &pki, NULL) < 0 ||
	    pki_ensure(dir2, NULL, 0, &other, NULL) < 0) {
		fprintf(stderr, "cannot make the PKIs\n");
		exit(1);
	}
}

static struct kubelet_signer *signer_of(const char *d)
{
	char *key = xasprintf("%s/pki/ca.key", d);
	struct kubelet_signer *s = NULL;
	CHECK(kubelet_signer_open(key, &s, NULL) == 0);
	free(key);
	return s;
}

static void test_sign_verify(void)
{
	struct kubelet_signer *s = signer_of(dir);
	time_t now = time(NULL);
	char *t = kubelet_auth_sign(s, "n1", now);
	CHECK(t && !strncmp(t, "Bearer cfs-kubelet.v1.", 22));
	CHECK(kubelet_auth_verify(pki_ca_pem(pki), "n1", t, now) == 0);
	CHECK(kubelet_auth_verify(pki_ca_pem(pki), "n1", t, now + 60) == 0);
	/* another node, too late or too early, another CA */
	CHECK(kubelet_auth_verify(pki_ca_pem(pki), "n2", t, now) == -EACCES);
	CHECK(kubelet_auth_verify(pki_ca_pem(pki), "n1", t, now + KUBELET_AUTH_SKEW_S + 1) ==
	      -EACCES);
	CHECK(kubelet_auth_verify(pki_ca_pem(pki), "n1", t, now - KUBELET_AUTH_SKEW_S - 1) ==
	      -EACCES);
	CHECK(kubelet_auth_verify(pki_ca_pem(other), "n1", t, now) == -EACCES);
	/* a changed time keeps the signature of the old one: refused */
	char *forged =
	    xasprintf("Bearer cfs-kubelet.v1.%lld%s", (long long)now + 1, strchr(t + 22, '.'));
	CHECK(kubelet_auth_verify(pki_ca_pem(pki), "n1", forged, now) == -EACCES);
	CHECK(kubelet_auth_verify(pki_ca_pem(pki), "n1", NULL, now) == -EACCES);
	CHECK(kubelet_auth_verify(pki_ca_pem(pki), "n1", "Bearer admin", now) == -EACCES);
	CHECK(kubelet_auth_verify(pki_ca_pem(pki), "n1", "Bearer cfs-kubelet.v1.x.y", now) ==
	      -EACCES);
	free(forged);
	free(t);
	kubelet_signer_free(s);
}

static void test_pin(void)
{
	char *a = kubelet_key_pin(pki_cert_pem(pki)), *b = kubelet_key_pin(pki_ca_pem(pki));
	CHECK(a && !strncmp(a, "sha256//", 8) && strlen(a) == 8 + 44);
	CHECK(b && strcmp(a, b));
	CHECK(kubelet_key_pin("not a certificate") == NULL);
	free(a);
	free(b);
}

int main(void)
{
	setup();
	RUN(test_sign_verify);
	RUN(test_pin);
	pki_free(pki);
	pki_free(other);
	char *rm = xasprintf("rm -rf %s %s", dir, dir2);
	CHECK(system(rm) == 0);
	free(rm);
	return unit_done();
}
