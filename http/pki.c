/* pki.c - see pki.h. */
#include "http/pki.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/log.h"
#include "engine/mem.h"

#define DAY	    86400
#define CA_DAYS	    3650
#define SERVER_DAYS 365
#define RENEW_DAYS  30

struct pki {
	char *ca_pem, *ca_key_pem;
	char *cert_pem, *key_pem;
	char token[65];
};

char *pki_read_file(const char *path)
{
	return file_slurp(path);
}

int pki_write_file(const char *path, const char *data, struct err **e)
{
	_cleanup_free_ char *tmp = xasprintf("%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_make(e, errno, "%s: %s", tmp, strerror(errno));
	size_t len = strlen(data), off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0) {
			int err = errno;
			close(fd);
			unlink(tmp);
			return err_make(e, err, "%s: %s", tmp, strerror(err));
		}
		off += (size_t)w;
	}
	if (fchmod(fd, 0600) < 0 || fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
		int err = errno;
		unlink(tmp);
		return err_make(e, err, "%s: %s", path, strerror(err));
	}
	return 0;
}

static int tls_err(struct err **e, const char *what, int rc)
{
	return err_make(e, EIO, "pki: %s: %s", what, gnutls_strerror(rc));
}

static char *datum_str(gnutls_datum_t *d)
{
	char *s = xstrndup((const char *)d->data, d->size);
	gnutls_free(d->data);
	return s;
}

/* Makes an ECDSA P-256 key; *pem gets it as PEM. */
static int gen_key(gnutls_x509_privkey_t *k, char **pem, struct err **e)
{
	int rc = gnutls_x509_privkey_init(k);
	if (rc < 0)
		return tls_err(e, "key", rc);
	rc = gnutls_x509_privkey_generate(*k, GNUTLS_PK_ECDSA,
					  GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
	gnutls_datum_t d = {0};
	if (rc >= 0)
		rc = gnutls_x509_privkey_export2(*k, GNUTLS_X509_FMT_PEM, &d);
	if (rc < 0)
		return tls_err(e, "key", rc);
	*pem = datum_str(&d);
	return 0;
}

/* The fields every certificate here has: version, serial, validity, key, CN. */
static int cert_common(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, const char *cn, int days)
{
	unsigned char serial[16];
	gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial));
	serial[0] &= 0x7f; /* positive */
	time_t now = time(NULL);
	int rc;
	if ((rc = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (rc = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
	    (rc = gnutls_x509_crt_set_activation_time(crt, now - 3600)) < 0 ||
	    (rc = gnutls_x509_crt_set_expiration_time(crt, now + (time_t)days * DAY)) < 0 ||
	    (rc = gnutls_x509_crt_set_key(crt, key)) < 0 ||
	    (rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
						(unsigned)strlen(cn))) < 0)
		return rc;
	unsigned char kid[64];
	size_t kidlen = sizeof(kid);
	if ((rc = gnutls_x509_crt_get_key_id(crt, 0, kid, &kidlen)) < 0)
		return rc;
	return gnutls_x509_crt_set_subject_key_id(crt, kid, kidlen);
}

static int crt_pem(gnutls_x509_crt_t crt, char **pem)
{
	gnutls_datum_t d = {0};
	int rc = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &d);
	if (rc < 0)
		return rc;
	*pem = datum_str(&d);
	return 0;
}

static int make_ca(struct pki *p, struct err **e)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	int rc = gen_key(&key, &p->ca_key_pem, e);
	if (rc < 0)
		goto out;
	if ((rc = gnutls_x509_crt_init(&crt)) < 0 ||
	    (rc = cert_common(crt, key, "clusterfs-ca", CA_DAYS)) < 0 ||
	    (rc = gnutls_x509_crt_set_basic_constraints(crt, 1, -1)) < 0 ||
	    (rc =
		 gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN |
							GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
	    (rc = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0)) < 0 ||
	    (rc = crt_pem(crt, &p->ca_pem)) < 0)
		rc = tls_err(e, "CA certificate", rc);
out:
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return rc < 0 ? rc : 0;
}

static int add_san(gnutls_x509_crt_t crt, const char *name)
{
	unsigned char ip[16];
	if (inet_pton(AF_INET, name, ip) == 1)
		return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, 4,
							    GNUTLS_FSAN_APPEND);
	if (inet_pton(AF_INET6, name, ip) == 1)
		return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, 16,
							    GNUTLS_FSAN_APPEND);
	return gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, name,
						    (unsigned)strlen(name), GNUTLS_FSAN_APPEND);
}

static int import_ca(const struct pki *p, gnutls_x509_crt_t *crt, gnutls_x509_privkey_t *key)
{
	gnutls_datum_t c = {(unsigned char *)p->ca_pem, (unsigned)strlen(p->ca_pem)};
	gnutls_datum_t k = {(unsigned char *)p->ca_key_pem, (unsigned)strlen(p->ca_key_pem)};
	int rc;
	if ((rc = gnutls_x509_crt_init(crt)) < 0 || (rc = gnutls_x509_privkey_init(key)) < 0 ||
	    (rc = gnutls_x509_crt_import(*crt, &c, GNUTLS_X509_FMT_PEM)) < 0 ||
	    (rc = gnutls_x509_privkey_import(*key, &k, GNUTLS_X509_FMT_PEM)) < 0)
		return rc;
	return 0;
}

/* The serving certificate's own fields: usage, purpose, SANs, issuer's key id. */
static int server_fields(gnutls_x509_crt_t crt, gnutls_x509_crt_t ca, char **sans)
{
	int rc;
	if ((rc = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
	    (rc = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE |
							 GNUTLS_KEY_KEY_ENCIPHERMENT)) < 0 ||
	    (rc = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0)
		return rc;
	for (size_t i = 0; sans[i]; i++)
		if ((rc = add_san(crt, sans[i])) < 0)
			return rc;
	unsigned char kid[64];
	size_t kidlen = sizeof(kid);
	if ((rc = gnutls_x509_crt_get_subject_key_id(ca, kid, &kidlen, NULL)) < 0)
		return rc;
	return gnutls_x509_crt_set_authority_key_id(crt, kid, kidlen);
}

static int make_server(struct pki *p, char **sans, struct err **e)
{
	gnutls_x509_crt_t ca = NULL, crt = NULL;
	gnutls_x509_privkey_t ca_key = NULL, key = NULL;
	free(p->key_pem);
	free(p->cert_pem);
	p->key_pem = p->cert_pem = NULL;
	int rc = gen_key(&key, &p->key_pem, e);
	if (rc < 0)
		goto out;
	if ((rc = import_ca(p, &ca, &ca_key)) < 0 || (rc = gnutls_x509_crt_init(&crt)) < 0 ||
	    (rc = cert_common(crt, key, "clusterfs", SERVER_DAYS)) < 0 ||
	    (rc = server_fields(crt, ca, sans)) < 0 ||
	    (rc = gnutls_x509_crt_sign2(crt, ca, ca_key, GNUTLS_DIG_SHA256, 0)) < 0 ||
	    (rc = crt_pem(crt, &p->cert_pem)) < 0)
		rc = tls_err(e, "serving certificate", rc);
out:
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_crt_deinit(ca);
	gnutls_x509_privkey_deinit(key);
	gnutls_x509_privkey_deinit(ca_key);
	return rc < 0 ? rc : 0;
}

int pki_cert_has_san(const char *cert_pem, const char *host)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = {(unsigned char *)cert_pem, (unsigned)strlen(cert_pem)};
	if (gnutls_x509_crt_init(&crt) < 0)
		return 0;
	int ok = 0;
	unsigned char ip[16];
	if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) >= 0) {
		if (inet_pton(AF_INET, host, ip) == 1)
			ok = (int)gnutls_x509_crt_check_ip(crt, ip, 4, 0);
		else if (inet_pton(AF_INET6, host, ip) == 1)
			ok = (int)gnutls_x509_crt_check_ip(crt, ip, 16, 0);
		else
			ok = (int)gnutls_x509_crt_check_hostname2(crt, host, 0);
	}
	gnutls_x509_crt_deinit(crt);
	return ok;
}

/* True when the serving certificate must be made again. */
static bool server_stale(const struct pki *p, char **sans)
{
	if (!p->cert_pem || !p->key_pem)
		return true;
	for (size_t i = 0; sans[i]; i++)
		if (!pki_cert_has_san(p->cert_pem, sans[i])) {
			log_info("http", "serving certificate lacks %s: making a new one", sans[i]);
			return true;
		}
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = {(unsigned char *)p->cert_pem, (unsigned)strlen(p->cert_pem)};
	bool stale = true;
	if (gnutls_x509_crt_init(&crt) >= 0) {
		if (gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM) >= 0)
			stale = gnutls_x509_crt_get_expiration_time(crt) <
				time(NULL) + (time_t)RENEW_DAYS * DAY;
		gnutls_x509_crt_deinit(crt);
	}
	return stale;
}

static void sans_add(char ***v, size_t *n, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i], s))
			return;
	*v = xrealloc(*v, (*n + 2) * sizeof(**v));
	(*v)[(*n)++] = xstrdup(s);
	(*v)[*n] = NULL;
}

size_t pki_sans(const char *const *extra, size_t nextra, char ***out)
{
	char **v = xcalloc(1, sizeof(*v));
	size_t n = 0;
	sans_add(&v, &n, "localhost");
	sans_add(&v, &n, "127.0.0.1");
	struct ifaddrs *ifs = NULL;
	if (getifaddrs(&ifs) == 0) {
		for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
			char a[INET6_ADDRSTRLEN];
			if (!i->ifa_addr || !(i->ifa_flags & IFF_UP))
				continue;
			int fam = i->ifa_addr->sa_family;
			if (fam == AF_INET)
				inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr,
					  a, sizeof(a));
			else if (fam == AF_INET6 &&
				 !IN6_IS_ADDR_LINKLOCAL(
				     &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr))
				inet_ntop(AF_INET6,
					  &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, a,
					  sizeof(a));
			else
				continue;
			sans_add(&v, &n, a);
		}
		freeifaddrs(ifs);
	}
	for (size_t i = 0; i < nextra; i++)
		sans_add(&v, &n, extra[i]);
	*out = v;
	return n;
}

static int load_token(struct pki *p, const char *path, struct err **e)
{
	_cleanup_free_ char *t = pki_read_file(path);
	if (t) {
		t[strcspn(t, " \r\n")] = '\0';
		if (strlen(t) == 64) {
			memcpy(p->token, t, 65);
			return 0;
		}
	}
	unsigned char raw[32];
	int rc = gnutls_rnd(GNUTLS_RND_KEY, raw, sizeof(raw));
	if (rc < 0)
		return tls_err(e, "token", rc);
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(p->token + 2 * i, 3, "%02x", raw[i]);
	char line[66];
	snprintf(line, sizeof(line), "%s\n", p->token);
	return pki_write_file(path, line, e);
}

/* Loads the CA, or makes and writes it (with a new serving certificate). */
static int load_ca(struct pki *p, const char *dir, bool *made, struct err **e)
{
	_cleanup_free_ char *crt = xasprintf("%s/ca.crt", dir);
	_cleanup_free_ char *key = xasprintf("%s/ca.key", dir);
	p->ca_pem = pki_read_file(crt);
	p->ca_key_pem = pki_read_file(key);
	*made = false;
	if (p->ca_pem && p->ca_key_pem)
		return 0;
	free(p->ca_pem);
	free(p->ca_key_pem);
	p->ca_pem = p->ca_key_pem = NULL;
	*made = true;
	if (make_ca(p, e) < 0 || pki_write_file(key, p->ca_key_pem, e) < 0 ||
	    pki_write_file(crt, p->ca_pem, e) < 0)
		return -EIO;
	log_info("http", "made a new CA in %s", dir);
	return 0;
}

static int load_server(struct pki *p, const char *dir, bool force, char **sans, struct err **e)
{
	_cleanup_free_ char *crt = xasprintf("%s/server.crt", dir);
	_cleanup_free_ char *key = xasprintf("%s/server.key", dir);
	p->cert_pem = pki_read_file(crt);
	p->key_pem = pki_read_file(key);
	if (!force && !server_stale(p, sans))
		return 0;
	if (make_server(p, sans, e) < 0 || pki_write_file(key, p->key_pem, e) < 0 ||
	    pki_write_file(crt, p->cert_pem, e) < 0)
		return -EIO;
	return 0;
}

int pki_ensure(const char *data_dir, const char *const *extra, size_t nextra, struct pki **out,
	       struct err **e)
{
	_cleanup_free_ char *dir = xasprintf("%s/pki", data_dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return err_make(e, errno, "%s: %s", dir, strerror(errno));
	if (chmod(dir, 0700) < 0)
		return err_make(e, errno, "%s: %s", dir, strerror(errno));
	struct pki *p = xcalloc(1, sizeof(*p));
	char **sans = NULL;
	pki_sans(extra, nextra, &sans);
	bool made_ca;
	_cleanup_free_ char *tok = xasprintf("%s/token", dir);
	int rc = load_ca(p, dir, &made_ca, e);
	if (rc >= 0)
		rc = load_server(p, dir, made_ca, sans, e);
	if (rc >= 0)
		rc = load_token(p, tok, e);
	for (size_t i = 0; sans[i]; i++)
		free(sans[i]);
	free(sans);
	if (rc < 0) {
		pki_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void pki_free(struct pki *p)
{
	if (!p)
		return;
	free(p->ca_pem);
	free(p->ca_key_pem);
	free(p->cert_pem);
	free(p->key_pem);
	free(p);
}

const char *pki_token(const struct pki *p)
{
	return p->token;
}

const char *pki_ca_pem(const struct pki *p)
{
	return p->ca_pem;
}

const char *pki_cert_pem(const struct pki *p)
{
	return p->cert_pem;
}

const char *pki_key_pem(const struct pki *p)
{
	return p->key_pem;
}

static char *base64(const char *s)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t n = strlen(s);
	char *out = xmalloc(4 * ((n + 2) / 3) + 1), *o = out;
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)u[i] << 16;
		if (i + 1 < n)
			v |= (unsigned)u[i + 1] << 8;
		if (i + 2 < n)
			v |= u[i + 2];
		*o++ = tab[(v >> 18) & 63];
		*o++ = tab[(v >> 12) & 63];
		*o++ = i + 1 < n ? tab[(v >> 6) & 63] : '=';
		*o++ = i + 2 < n ? tab[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

int pki_write_kubeconfig(const struct pki *p, const char *path, const char *server, struct err **e)
{
	_cleanup_free_ char *ca = base64(p->ca_pem);
	_cleanup_free_ char *text = xasprintf("apiVersion: v1\n"
					      "kind: Config\n"
					      "clusters:\n"
					      "- name: clusterfs\n"
					      "  cluster:\n"
					      "    server: %s\n"
					      "    certificate-authority-data: %s\n"
					      "users:\n"
					      "- name: admin\n"
					      "  user:\n"
					      "    token: %s\n"
					      "contexts:\n"
					      "- name: clusterfs\n"
					      "  context:\n"
					      "    cluster: clusterfs\n"
					      "    user: admin\n"
					      "    namespace: default\n"
					      "current-context: clusterfs\n"
					      "preferences: {}\n",
					      server, ca, p->token);
	return pki_write_file(path, text, e);
}
