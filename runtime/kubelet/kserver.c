/*
 * kserver.c - see kserver.h.  libmicrohttpd with GnuTLS, a thread per
 * connection (few: the control plane's readers); each request opens the
 * log it names (engine/podlog.h) and answers from it at once.
 */
#include "runtime/kubelet/kserver_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "engine/client/kubelet_auth.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/podlog.h"

#define READ_MAX  (1024 * 1024)
#define TIMES_MAX (4 * 1024 * 1024)

static int cfg_port;
static char *cfg_ca;

void kserver_configure(int port, const char *ca_file)
{
	cfg_port = port;
	free(cfg_ca);
	cfg_ca = ca_file ? xstrdup(ca_file) : NULL;
}

void kserver_config(int *port, const char **ca_file)
{
	*port = cfg_port;
	*ca_file = cfg_ca;
}

static int spit(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	chmod(path, 0600);
	int ok = fputs(data, f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -EIO;
}

static char *datum_dup(gnutls_datum_t *d)
{
	char *s = xasprintf("%.*s", (int)d->size, (char *)d->data);
	gnutls_free(d->data);
	return s;
}

/* A new ECDSA P-256 key and a self-signed certificate for ip (10 years). */
static int make_cert(const char *node, const char *ip, char **cert, char **key)
{
	gnutls_x509_privkey_t k = NULL;
	gnutls_x509_crt_t c = NULL;
	gnutls_datum_t d = {0};
	unsigned char serial[16], kid[64], addr[16];
	size_t kidlen = sizeof(kid);
	gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial));
	serial[0] &= 0x7f;
	time_t now = time(NULL);
	int rc;
	if ((rc = gnutls_x509_privkey_init(&k)) < 0 ||
	    (rc = gnutls_x509_privkey_generate(
		 k, GNUTLS_PK_ECDSA, GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0 ||
	    (rc = gnutls_x509_crt_init(&c)) < 0 || (rc = gnutls_x509_crt_set_version(c, 3)) < 0 ||
	    (rc = gnutls_x509_crt_set_serial(c, serial, sizeof(serial))) < 0 ||
	    (rc = gnutls_x509_crt_set_activation_time(c, now - 3600)) < 0 ||
	    (rc = gnutls_x509_crt_set_expiration_time(c, now + 3650L * 86400)) < 0 ||
	    (rc = gnutls_x509_crt_set_key(c, k)) < 0 ||
	    (rc = gnutls_x509_crt_set_dn_by_oid(c, GNUTLS_OID_X520_COMMON_NAME, 0, node,
						(unsigned)strlen(node))) < 0 ||
	    (rc = gnutls_x509_crt_get_key_id(c, 0, kid, &kidlen)) < 0 ||
	    (rc = gnutls_x509_crt_set_subject_key_id(c, kid, kidlen)) < 0)
		goto out;
	if (inet_pton(AF_INET, ip, addr) == 1)
		gnutls_x509_crt_set_subject_alt_name(c, GNUTLS_SAN_IPADDRESS, addr, 4,
						     GNUTLS_FSAN_APPEND);
	if ((rc = gnutls_x509_crt_sign2(c, c, k, GNUTLS_DIG_SHA256, 0)) < 0 ||
	    (rc = gnutls_x509_crt_export2(c, GNUTLS_X509_FMT_PEM, &d)) < 0)
		goto out;
	*cert = datum_dup(&d);
	if ((rc = gnutls_x509_privkey_export2(k, GNUTLS_X509_FMT_PEM, &d)) < 0) {
		free(*cert);
		goto out;
	}
	*key = datum_dup(&d);
out:
	if (c)
		gnutls_x509_crt_deinit(c);
	if (k)
		gnutls_x509_privkey_deinit(k);
	return rc < 0 ? -EINVAL : 0;
}

/* Loads DATA_DIR/kubelet/serving.{crt,key}, or makes them. */
static int ensure_cert(struct kserver *k, const struct kserver_opts *o, struct err **e)
{
	char *dir = xasprintf("%s/kubelet", o->data_dir);
	char *cp = xasprintf("%s/serving.crt", dir), *kp = xasprintf("%s/serving.key", dir);
	int r = 0;
	k->cert = file_slurp(cp);
	k->key = file_slurp(kp);
	if (!k->cert || !k->key) {
		free(k->cert);
		free(k->key);
		k->cert = k->key = NULL;
		mkdir(dir, 0700);
		r = make_cert(o->node, o->ip, &k->cert, &k->key);
		if (r == 0 && ((r = spit(kp, k->key)) < 0 || (r = spit(cp, k->cert)) < 0))
			err_make(e, -r, "%s: %s", dir, strerror(-r));
		else if (r < 0)
			err_make(e, EINVAL, "kubelet: cannot make a serving certificate");
	}
	free(dir);
	free(cp);
	free(kp);
	if (r == 0 && !(k->pin = kubelet_key_pin(k->cert)))
		r = err_make(e, EINVAL, "kubelet: a bad serving certificate in %s", o->data_dir);
	return r;
}

static enum MHD_Result answer(struct MHD_Connection *c, unsigned code, struct buf *body,
			      struct podlog *l, const char *extra_name, const char *extra)
{
	size_t len = body ? body->len : 0;
	struct MHD_Response *r = MHD_create_response_from_buffer(
	    len, body && body->s ? body->s : (void *)"",
	    body && body->s ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (body)
		body->s = NULL;
	char v[32];
	if (l) {
		snprintf(v, sizeof(v), "%lld", (long long)podlog_size(l));
		MHD_add_response_header(r, "X-Size", v);
		snprintf(v, sizeof(v), "%d", podlog_attempt(l));
		MHD_add_response_header(r, "X-Attempt", v);
	}
	if (extra_name)
		MHD_add_response_header(r, extra_name, extra);
	MHD_add_response_header(r, "Content-Type", "application/octet-stream");
	enum MHD_Result res = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return res;
}

enum MHD_Result kserver_answer(struct MHD_Connection *c, unsigned code, struct buf *body)
{
	return answer(c, code, body, NULL, NULL, NULL);
}

static long long qnum(struct MHD_Connection *c, const char *key)
{
	const char *s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
	return s ? strtoll(s, NULL, 10) : 0;
}

/* "OFF NS STREAM\n" for the line at off and each line starting in off..off+n. */
static void times(struct podlog *l, off_t off, size_t n, struct buf *out)
{
	char *chunk = xmalloc(65536);
	int st;
	int64_t t = podlog_line_time(l, off, &st);
	buf_printf(out, "%lld %" PRId64 " %d\n", (long long)off, t, st);
	for (size_t done = 0; done < n;) {
		ssize_t got = podlog_read(l, off + (off_t)done, chunk, 65536);
		if (got <= 0)
			break;
		for (ssize_t i = 0; i < got; i++) {
			off_t at = off + (off_t)done + i + 1;
			if (chunk[i] == '\n' && at < off + (off_t)n && at < podlog_size(l)) {
				t = podlog_line_time(l, at, &st);
				buf_printf(out, "%lld %" PRId64 " %d\n", (long long)at, t, st);
			}
		}
		done += (size_t)got;
	}
	free(chunk);
}

/* GET /podlog/UID/CTR?... */
static enum MHD_Result serve_log(struct kserver *k, struct MHD_Connection *c, const char *path)
{
	char uid[256], ctr[256];
	if (sscanf(path, "%255[^/]/%255[^/]", uid, ctr) != 2)
		return answer(c, 404, NULL, NULL, NULL, NULL);
	_cleanup_free_ char *dir = podlog_dir_new(k->logs_dir, uid, ctr);
	if (!dir)
		return answer(c, 404, NULL, NULL, NULL, NULL);
	const char *role = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "role");
	const char *op = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "op");
	struct podlog *l =
	    podlog_open(dir, role && !strcmp(role, "previous") ? PODLOG_PREVIOUS : PODLOG_CURRENT);
	struct buf b = {0};
	char v[32] = "", *extra = NULL;
	long long off = qnum(c, "off"), n = qnum(c, "n");
	off = off < 0 ? 0 : off;
	if (op && !strcmp(op, "read")) {
		n = n < 0 ? 0 : n > READ_MAX ? READ_MAX : n;
		b.s = xmalloc((size_t)n + 1);
		ssize_t got = podlog_read(l, (off_t)off, b.s, (size_t)n);
		b.len = got > 0 ? (size_t)got : 0;
	} else if (op && !strcmp(op, "times")) {
		times(l, (off_t)off, (size_t)(n < 0 ? 0 : n > TIMES_MAX ? TIMES_MAX : n), &b);
	} else if (op && !strcmp(op, "since")) {
		snprintf(v, sizeof(v), "%lld", (long long)podlog_since(l, (int64_t)qnum(c, "ns")));
		extra = "X-Since";
	} else if (op && !strcmp(op, "stat")) {
		struct stat st;
		if (podlog_stat(
			dir, role && !strcmp(role, "previous") ? PODLOG_PREVIOUS : PODLOG_CURRENT,
			&st) == 0)
			snprintf(v, sizeof(v), "%lld",
				 (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec);
		else
			snprintf(v, sizeof(v), "-1");
		extra = "X-Mtime";
	} else {
		podlog_free(l);
		return answer(c, 400, NULL, NULL, NULL, NULL);
	}
	if (!b.len) {
		free(b.s);
		b.s = NULL;
	}
	enum MHD_Result r = answer(c, 200, &b, l, extra, v);
	podlog_free(l);
	return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct kserver *k = cls;
	static int first;
	if (!*con_cls) {
		*con_cls = &first;
		return MHD_YES;
	}
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	if (kubelet_auth_verify(k->ca_pem, k->node, auth, time(NULL)) < 0) {
		struct buf b = {0};
		buf_printf(&b, "Unauthorized\n");
		return answer(c, 401, &b, NULL, NULL, NULL);
	}
	if (strcmp(method, "GET"))
		return answer(c, 405, NULL, NULL, NULL, NULL);
	if (!strncmp(url, "/podlog/", 8))
		return serve_log(k, c, url + 8);
	if (!strncmp(url, "/exec/", 6) || !strncmp(url, "/portforward/", 13))
		return kserver_stream(k, c, url);
	return answer(c, 404, NULL, NULL, NULL, NULL);
}

int kserver_start(const struct kserver_opts *o, struct kserver **out, struct err **e)
{
	struct kserver *k = xcalloc(1, sizeof(*k));
	k->node = xstrdup(o->node);
	k->logs_dir = xstrdup(o->logs_dir);
	k->port = o->port > 0 ? o->port : 10250;
	k->p = o->provider;
	k->parg = o->provider_arg;
	if (!(k->ca_pem = file_slurp(o->ca_file))) {
		err_make(e, errno, "%s: %s", o->ca_file, strerror(errno));
		goto fail;
	}
	if (ensure_cert(k, o, e) < 0)
		goto fail;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)k->port)};
	if (inet_pton(AF_INET, o->ip, &sa.sin_addr) != 1) {
		err_make(e, EINVAL, "kubelet: node address %s is not IPv4", o->ip);
		goto fail;
	}
	k->d = MHD_start_daemon(MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
				    MHD_USE_TLS | MHD_ALLOW_UPGRADE,
				0, NULL, NULL, on_request, k, MHD_OPTION_SOCK_ADDR,
				(struct sockaddr *)&sa, MHD_OPTION_HTTPS_MEM_KEY, k->key,
				MHD_OPTION_HTTPS_MEM_CERT, k->cert, MHD_OPTION_CONNECTION_TIMEOUT,
				(unsigned)120, MHD_OPTION_END);
	if (!k->d) {
		err_make(e, EADDRINUSE, "kubelet: cannot listen on %s:%d", o->ip, k->port);
		goto fail;
	}
	*out = k;
	return 0;
fail:
	kserver_stop(k);
	return -1;
}

const char *kserver_pin(const struct kserver *k)
{
	return k->pin;
}

int kserver_port(const struct kserver *k)
{
	return k->port;
}

void kserver_stop(struct kserver *k)
{
	if (!k)
		return;
	if (k->d)
		MHD_stop_daemon(k->d);
	free(k->node);
	free(k->logs_dir);
	free(k->ca_pem);
	free(k->cert);
	free(k->key);
	free(k->pin);
	free(k);
}
