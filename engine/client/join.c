/*
 * join.c - the agent's side of the join, over HTTPS with libcurl.  See
 * join.h.  The CA is fetched once without verification and trusted only
 * when its SHA-256 is the token's; every later request verifies the
 * server with it.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/client/apic_http_int.h"
#include "engine/client/join.h"
#include "engine/clock.h"
#include "engine/log.h"
#include "engine/mem.h"

#define CONNECT_TIMEOUT_S 5
#define REQUEST_TIMEOUT_S 20

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void join_result_free(struct join_result *r)
{
	free(r->ca_path);
	free(r->token);
	r->ca_path = r->token = NULL;
}

/* Files */

/* Writes data to path (mode 0600) through a temporary file and rename. */
static int save(const char *path, const char *data, struct err **e)
{
	_cleanup_free_ char *tmp = xasprintf("%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t len = strlen(data), off = 0;
	while (fd >= 0 && off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w < 0)
			break;
		off += (size_t)w;
	}
	if (fd < 0 || off < len || fchmod(fd, 0600) < 0 || fsync(fd) < 0 || close(fd) < 0 ||
	    rename(tmp, path) < 0) {
		int err = errno;
		if (fd >= 0 && off < len)
			close(fd);
		unlink(tmp);
		return err_make(e, EIO, "%s: %s", path, strerror(err));
	}
	return 0;
}

/* HTTP */

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;
	if (b->len + size * n > 1024 * 1024)
		return 0; /* nothing this talk expects is that large */
	buf_add(b, p, size * n);
	return size * n;
}

/* The errno a libcurl failure stands for: the server unreachable (or not
 * answering) is -EAGAIN, a server that its CA does not vouch for -EPERM. */
static int curl_errno(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_SSL_CONNECT_ERROR:
		return EAGAIN;
	case CURLE_PEER_FAILED_VERIFICATION:
		return EPERM;
	default:
		return EIO;
	}
}

/*
 * One request: GET (body NULL) or POST of a JSON body, verifying the server
 * with ca_path (NULL: not at all).  0 and *code, *out; or a negative errno
 * (curl_errno) with *e.
 */
static int request(const char *url, const char *ca_path, const char *bearer, const char *body,
		   long *code, struct buf *out, struct err **e)
{
	pthread_once(&curl_once, curl_init_once);
	CURL *c = curl_easy_init();
	if (!c)
		return err_make(e, ENOMEM, "%s: cannot start libcurl", url);
	struct curl_slist *h = NULL;
	_cleanup_free_ char *auth = bearer ? xasprintf("Authorization: Bearer %s", bearer) : NULL;
	if (auth)
		h = curl_slist_append(h, auth);
	h = curl_slist_append(h, "Content-Type: application/json");
	h = curl_slist_append(h, "Accept: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)REQUEST_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, ca_path ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, ca_path ? 2L : 0L);
	if (ca_path)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca_path);
	if (body)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	CURLcode rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, code);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	buf_add(out, "", 0);
	if (rc != CURLE_OK)
		return err_make(e, curl_errno(rc), "%s: %s", url, curl_easy_strerror(rc));
	return 0;
}

/* The message of a Status body, or the body itself. */
static char *status_message(const struct buf *b)
{
	json_t *j = json_loads(b->s ? b->s : "", 0, NULL);
	const char *m = json_string_value(json_object_get(j, "message"));
	char *s = xstrdup(m ? m : (b->s ? b->s : ""));
	json_decref(j);
	return s;
}

/* The steps */

/* Fetches the CA without verification and checks it against hash. */
static int fetch_ca(const char *server, const char *hash, const char *ca_path, struct err **e)
{
	_cleanup_free_ char *url = xasprintf("%s%s", server, JOIN_CA_PATH);
	struct buf b = {0};
	long code = 0;
	int r = request(url, NULL, NULL, NULL, &code, &b, e);
	if (r == 0 && code != 200)
		r = err_make(e, code >= 500 ? EAGAIN : EIO, "%s: HTTP %ld", url, code);
	char got[65];
	if (r == 0) {
		join_sha256_hex(b.s, b.len, got);
		if (strcmp(got, hash))
			r = err_make(e, EPERM,
				     "the server's CA does not match the token's hash: wrong "
				     "server or token (%s has CA sha256 %s)",
				     server, got);
	}
	if (r == 0)
		r = save(ca_path, b.s, e);
	buf_free(&b);
	return r;
}

/* Exchanges the secret for node's credential (*cred, malloc'd). */
static int fetch_cred(const char *server, const char *ca_path, const char *secret, const char *node,
		      char **cred, struct err **e)
{
	_cleanup_free_ char *url = xasprintf("%s%s", server, JOIN_PATH);
	json_t *req = json_pack("{s:s}", "node", node);
	_cleanup_free_ char *body = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	struct buf b = {0};
	long code = 0;
	int r = request(url, ca_path, secret, body, &code, &b, e);
	if (r == -EPERM)
		err_wrap(e, "the server's certificate is not signed by the CA it served");
	if (r == 0 && code != 200) {
		_cleanup_free_ char *msg = status_message(&b);
		if (code == 401)
			r = err_make(e, EACCES, "the server refused the join token: %s", msg);
		else
			r = err_make(e, code >= 500 ? EAGAIN : EIO, "%s: HTTP %ld: %s", url, code,
				     msg);
	}
	if (r == 0) {
		json_t *j = json_loads(b.s, 0, NULL);
		const char *t = json_string_value(json_object_get(j, "token"));
		if (t && !strncmp(t, JOIN_CRED_PREFIX, strlen(JOIN_CRED_PREFIX)))
			*cred = xstrdup(t);
		else
			r = err_make(e, EIO, "%s: the answer carries no credential", url);
		json_decref(j);
	}
	buf_free(&b);
	return r;
}

/* The saved credential, if it was issued for node by a CA of hash. */
static bool saved(const char *dir, const char *node, const char *hash, struct join_result *out)
{
	_cleanup_free_ char *ca_path = xasprintf("%s/ca.crt", dir);
	_cleanup_free_ char *ca = file_slurp(ca_path);
	_cleanup_free_ char *tok = xasprintf("%s/token", dir);
	char *t = file_slurp(tok);
	_cleanup_free_ char *np = xasprintf("%s/node", dir);
	_cleanup_free_ char *n = file_slurp(np);
	char got[65] = "";
	if (ca)
		join_sha256_hex(ca, strlen(ca), got);
	if (t)
		t[strcspn(t, "\r\n")] = '\0';
	if (n)
		n[strcspn(n, "\r\n")] = '\0';
	if (!ca || !t || !*t || !n || strcmp(n, node) || strcmp(got, hash)) {
		free(t);
		return false;
	}
	out->ca_path = STEAL_POINTER(&ca_path);
	out->token = t;
	return true;
}

int join(const char *server_url, const char *token, const char *node_name, const char *data_dir,
	 struct join_result *out, struct err **e)
{
	char hash[65], secret[65];
	memset(out, 0, sizeof(*out));
	if (join_token_parse(token, hash, secret, e) < 0)
		return -EINVAL;
	if (!join_node_name_ok(node_name))
		return err_make(e, EINVAL, "node name \"%s\" is not a DNS-1123 subdomain",
				node_name);
	_cleanup_free_ char *dir = xasprintf("%s/join", data_dir);
	if (mkdir(data_dir, 0700) < 0 && errno != EEXIST)
		return err_make(e, EIO, "%s: %s", data_dir, strerror(errno));
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return err_make(e, EIO, "%s: %s", dir, strerror(errno));
	if (saved(dir, node_name, hash, out))
		return 0;
	/* A URL's trailing '/' would double the paths' own. */
	_cleanup_free_ char *server = xstrdup(server_url);
	for (size_t n = strlen(server); n && server[n - 1] == '/'; n--)
		server[n - 1] = '\0';
	_cleanup_free_ char *ca_path = xasprintf("%s/ca.crt", dir);
	char *cred = NULL;
	int r = fetch_ca(server, hash, ca_path, e);
	if (r == 0)
		r = fetch_cred(server, ca_path, secret, node_name, &cred, e);
	_cleanup_free_ char *tok_path = xasprintf("%s/token", dir);
	_cleanup_free_ char *node_path = xasprintf("%s/node", dir);
	_cleanup_free_ char *line = cred ? xasprintf("%s\n", cred) : NULL;
	_cleanup_free_ char *nline = xasprintf("%s\n", node_name);
	if (r == 0 && (save(tok_path, line, e) < 0 || save(node_path, nline, e) < 0))
		r = -EIO;
	if (r < 0) {
		free(cred);
		return r;
	}
	log_info("join", "joined %s as node %s", server, node_name);
	out->ca_path = STEAL_POINTER(&ca_path);
	out->token = cred;
	return 0;
}

int join_forget(const char *data_dir)
{
	_cleanup_free_ char *p = xasprintf("%s/join/token", data_dir);
	return unlink(p) < 0 && errno != ENOENT ? -errno : 0;
}

/* Waits before the next round of join_retry: false when it is over (out
 * of time or stopped); *wait doubles up to max_wait_ms. */
static bool join_wait(int64_t start, long total_ms, int *wait, int max_wait_ms,
		      const volatile bool *stop, struct err **e)
{
	int64_t left = total_ms < 0 ? *wait : start + total_ms - mono_ms();
	if (left <= 0 || (stop && *stop))
		return false;
	int w = left < *wait ? (int)left : *wait;
	log_warn("join", "%s (retrying in %d ms)", e && *e ? (*e)->msg : "unreachable", w);
	for (int64_t until = mono_ms() + w; mono_ms() < until && !(stop && *stop);) {
		struct timespec ts = {0, 50 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	*wait = *wait * 2 > max_wait_ms ? max_wait_ms : *wait * 2;
	return !(stop && *stop);
}

int join_retry(const char *server_url, const char *token, const char *node_name,
	       const char *data_dir, int max_wait_ms, long total_ms, const volatile bool *stop,
	       struct join_result *out, struct err **e)
{
	int64_t start = mono_ms();
	int wait = 1000;
	char **urls = NULL;
	size_t nurls = 0;
	int r = apic_http_split(server_url, &urls, &nurls, e);
	for (size_t i = 0; r == 0 || r == -EAGAIN; i++) {
		r = join(urls[i % nurls], token, node_name, data_dir, out, e);
		if (r != -EAGAIN || (stop && *stop))
			break;
		/* each server once, then a pause */
		if ((i + 1) % nurls == 0 &&
		    !join_wait(start, total_ms, &wait, max_wait_ms, stop, e))
			break;
		err_free(STEAL_POINTER(e));
	}
	for (size_t i = 0; i < nurls; i++)
		free(urls[i]);
	free(urls);
	return r;
}
