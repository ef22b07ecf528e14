/*
 * etcd.c - the etcd v3 client's requests (etcd.h): one POST of a JSON body
 * to the gateway (/v3/kv/range, /v3/kv/txn, ...) per call, tried on each
 * endpoint in turn from the one that last answered, on pooled libcurl easy
 * handles that keep their connections.  The watch is in etcd_watch.c.
 *
 * An attempt on one endpoint ends in one of three ways: an answer (200, or
 * an error etcd means: compacted, too large, no such lease, malformed), a
 * failure that the next endpoint may not have (connection refused, a
 * timeout, "no leader", "not enough started members", a 5xx of the
 * gateway), or, for a write, a failure after the request was sent that
 * leaves its outcome unknown: that one ends the call with -ETIMEDOUT, as
 * retrying a write elsewhere could apply it twice.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/b64.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/store/etcd_int.h"

/* ---- JSON helpers ---- */

json_t *etcd_jb64(const void *p, size_t n)
{
	char *s = b64_encode(p, n);
	json_t *j = json_string(s);
	free(s);
	return j;
}

int64_t etcd_jint(const json_t *o, const char *name)
{
	json_t *v = json_object_get(o, name);
	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_string(v))
		return strtoll(json_string_value(v), NULL, 10);
	return 0;
}

/* The bytes of base64 field name of o (absent: empty), NUL-terminated. */
static char *jbytes(const json_t *o, const char *name, size_t *n, bool *bad)
{
	const char *s = json_string_value(json_object_get(o, name));
	char *p = b64_decode(s ? s : "", n);
	if (!p) {
		*bad = true;
		*n = 0;
		return xstrdup("");
	}
	return p;
}

int etcd_kv_parse(const json_t *o, struct etcd_kv *kv, struct err **e)
{
	bool bad = false;
	*kv = (struct etcd_kv){0};
	kv->key = jbytes(o, "key", &kv->key_len, &bad);
	kv->value = jbytes(o, "value", &kv->value_len, &bad);
	kv->create_rev = etcd_jint(o, "create_revision");
	kv->mod_rev = etcd_jint(o, "mod_revision");
	kv->version = etcd_jint(o, "version");
	kv->lease = etcd_jint(o, "lease");
	if (!bad && json_is_object(o))
		return 0;
	free(kv->key);
	free(kv->value);
	*kv = (struct etcd_kv){0};
	return err_make(e, EIO, "etcd: a key-value that is not valid base64 in an answer");
}

void etcd_kvs_free(struct etcd_kv *kvs, size_t n)
{
	for (size_t i = 0; kvs && i < n; i++) {
		free(kvs[i].key);
		free(kvs[i].value);
	}
	free(kvs);
}

const char *etcd_jerror(const json_t *j, int *code)
{
	json_t *er = json_object_get(j, "error");
	if (json_is_string(er) && *json_string_value(er)) {
		json_t *m = json_object_get(j, "message");
		*code = (int)etcd_jint(j, "code");
		return json_is_string(m) ? json_string_value(m) : json_string_value(er);
	}
	if (json_is_object(er)) {
		*code = (int)etcd_jint(er, "grpc_code");
		const char *m = json_string_value(json_object_get(er, "message"));
		return m ? m : "error";
	}
	return NULL;
}

bool etcd_err_transient(const char *msg, int code)
{
	static const char *const words[] = {
	    "no leader",
	    "not enough started members",
	    "unhealthy cluster",
	    "too many requests",
	    "timed out",
	    "leader changed",
	    "server stopped",
	    "not capable",
	    "transport is closing",
	    "connection refused",
	};
	if (code == 14 || code == 4) /* gRPC Unavailable, DeadlineExceeded */
		return true;
	for (size_t i = 0; i < sizeof(words) / sizeof(*words); i++)
		if (strstr(msg, words[i]))
			return true;
	return false;
}

/* A transient error that says the request was not carried out. */
static bool err_not_applied(const char *msg)
{
	return strstr(msg, "no leader") || strstr(msg, "not enough started members") ||
	       strstr(msg, "unhealthy cluster") || strstr(msg, "too many requests");
}

/* The errno of an answer etcd meant (not transient). */
static int answer_errno(const char *msg, int code)
{
	if (strstr(msg, "compacted"))
		return ERANGE;
	if (strstr(msg, "space exceeded")) /* etcd's NOSPACE alarm */
		return ENOSPC;
	if (strstr(msg, "too large") || strstr(msg, "larger than max") ||
	    strstr(msg, "too many operations"))
		return E2BIG;
	if (strstr(msg, "lease not found"))
		return ENOENT;
	if (code == 7 || code == 16) /* gRPC PermissionDenied, Unauthenticated */
		return EACCES;
	if (code == 3 || code == 11)
		return EINVAL;
	return EIO;
}

/* ---- endpoints and handles ---- */

int etcd_cur(struct etcd *c)
{
	pthread_mutex_lock(&c->lock);
	int i = c->cur;
	pthread_mutex_unlock(&c->lock);
	return i;
}

void etcd_set_cur(struct etcd *c, int i)
{
	pthread_mutex_lock(&c->lock);
	c->cur = i;
	pthread_mutex_unlock(&c->lock);
}

const char *etcd_endpoint(struct etcd *c)
{
	return c->eps[etcd_cur(c)];
}

void etcd_setup(struct etcd *c, CURL *h, int i, const char *path)
{
	char *url = xasprintf("%s%s", c->eps[i], path);
	curl_easy_setopt(h, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(c->timeout_ms < ETCD_CONNECT_MS ? c->timeout_ms : ETCD_CONNECT_MS));
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 10L);
	curl_easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 5L);
	curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	if (c->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_file);
	if (c->cert_file)
		curl_easy_setopt(h, CURLOPT_SSLCERT, c->cert_file);
	if (c->key_file)
		curl_easy_setopt(h, CURLOPT_SSLKEY, c->key_file);
}

/* ---- one request ---- */

enum outcome {
	OUT_OK,	     /* *j is the answer */
	OUT_ERR,     /* etcd answered an error it means: err */
	OUT_NEXT,    /* this endpoint cannot serve: try the next */
	OUT_UNKNOWN, /* sent, then failed: a write may have been applied */
};

struct attempt {
	enum outcome out;
	int err;      /* OUT_ERR: the errno */
	bool timeout; /* OUT_NEXT, OUT_UNKNOWN: it was a timeout */
	json_t *j;
	char why[CURL_ERROR_SIZE + 64];
};

static size_t collect(char *p, size_t size, size_t n, void *arg)
{
	buf_add(arg, p, size * n);
	return size * n;
}

/* Sorts an HTTP answer (code, body j) into a->out. */
static void classify(struct attempt *a, long code, json_t *j)
{
	int gcode = 0;
	const char *msg = etcd_jerror(j, &gcode);
	if (code == 200 && j && !msg) {
		json_t *r = json_object_get(j, "result"); /* a stream's one answer */
		a->j = json_incref(r ? r : j);
		a->out = OUT_OK;
		return;
	}
	if (!msg) {
		snprintf(a->why, sizeof(a->why), "HTTP %ld%s", code, j ? "" : " (not JSON)");
		a->out = code >= 500 || code == 429 ? OUT_NEXT : OUT_ERR;
		a->err = EIO;
		return;
	}
	snprintf(a->why, sizeof(a->why), "%s", msg);
	if (etcd_err_transient(msg, gcode)) {
		a->out = err_not_applied(msg) ? OUT_NEXT : OUT_UNKNOWN;
		a->timeout = strstr(msg, "timed out") != NULL;
	} else {
		a->out = OUT_ERR;
		a->err = answer_errno(msg, gcode);
	}
}

/* POSTs data to endpoint i. */
static void attempt(struct etcd *c, int i, const char *path, const char *data, struct attempt *a)
{
	*a = (struct attempt){0};
	CURL *h = curlpool_take(&c->pool);
	struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
	hd = curl_slist_append(hd, ETCD_NEED_LEADER);
	struct buf body = {0};
	char ebuf[CURL_ERROR_SIZE] = "";
	etcd_setup(c, h, i, path);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, data);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(data));
	CURLcode rc = curl_easy_perform(h);
	long code = 0, sent = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(h, CURLINFO_REQUEST_SIZE, &sent);
	curlpool_give(&c->pool, h);
	curl_slist_free_all(hd);
	if (rc != CURLE_OK) {
		snprintf(a->why, sizeof(a->why), "%s", *ebuf ? ebuf : curl_easy_strerror(rc));
		a->timeout = rc == CURLE_OPERATION_TIMEDOUT;
		a->out = sent && rc != CURLE_COULDNT_CONNECT ? OUT_UNKNOWN : OUT_NEXT;
		buf_free(&body);
		return;
	}
	json_t *j = body.len ? json_loadb(body.s, body.len, 0, NULL) : NULL;
	buf_free(&body);
	classify(a, code, j);
	json_decref(j);
}

int etcd_call(struct etcd *c, const char *path, json_t *body, bool write, json_t **out,
	      struct err **e)
{
	_cleanup_free_ char *data = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	*out = NULL;
	int first = etcd_cur(c);
	bool all_timeout = true;
	struct buf why = {0};
	for (int k = 0; k < c->neps; k++) {
		int i = (first + k) % c->neps;
		struct attempt a;
		attempt(c, i, path, data, &a);
		if (a.out == OUT_OK || a.out == OUT_ERR) {
			if (k)
				log_warn("etcd", "%s; %s answered", why.s, c->eps[i]);
			etcd_set_cur(c, i);
			buf_free(&why);
			*out = a.j;
			if (a.out == OUT_ERR)
				return err_make(e, a.err, "etcd %s: %s", c->eps[i], a.why);
			return 0;
		}
		if (a.out == OUT_UNKNOWN && write) {
			buf_free(&why);
			etcd_set_cur(c, (i + 1) % c->neps);
			return err_make(e, ETIMEDOUT,
					"etcd %s: %s: the write may or may not have been applied",
					c->eps[i], a.why);
		}
		all_timeout = all_timeout && a.timeout;
		buf_printf(&why, "%s%s: %s", k ? "; " : "", c->eps[i], a.why);
	}
	etcd_set_cur(c, (first + 1) % c->neps);
	int r = err_make(e, all_timeout ? ETIMEDOUT : EIO, "etcd: no endpoint could serve %s (%s)",
			 path, why.s);
	buf_free(&why);
	return r;
}

/* ---- open and close ---- */

static int add_endpoints(struct etcd *c, const char *list, struct err **e)
{
	_cleanup_free_ char *copy = xstrdup(list ? list : "");
	char *save = NULL;
	for (char *t = strtok_r(copy, ", ", &save); t; t = strtok_r(NULL, ", ", &save)) {
		if (strncmp(t, "http://", 7) && strncmp(t, "https://", 8))
			return err_make(e, EINVAL, "etcd endpoint \"%s\": want http(s)://HOST:PORT",
					t);
		size_t n = strlen(t);
		while (n && t[n - 1] == '/')
			t[--n] = 0;
		c->eps = xrealloc(c->eps, (c->neps + 1) * sizeof(*c->eps));
		c->eps[c->neps++] = xstrdup(t);
	}
	if (!c->neps)
		return err_make(e, EINVAL, "etcd: no endpoint given");
	return 0;
}

static int tls_file(const char *what, const char *path, char **dst, struct err **e)
{
	if (!path)
		return 0;
	if (access(path, R_OK) < 0)
		return err_make(e, errno, "etcd %s %s: %s", what, path, strerror(errno));
	*dst = xstrdup(path);
	return 0;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

int etcd_open(const struct etcd_opts *o, struct etcd **out, struct err **e)
{
	pthread_once(&curl_once, curl_init);
	struct etcd *c = xcalloc(1, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	curlpool_init(&c->pool, ETCD_POOL_MAX);
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 5000;
	int r = add_endpoints(c, o->endpoints, e);
	if (!r)
		r = tls_file("CA file", o->ca_file, &c->ca_file, e);
	if (!r)
		r = tls_file("certificate file", o->cert_file, &c->cert_file, e);
	if (!r)
		r = tls_file("key file", o->key_file, &c->key_file, e);
	if (!r && !c->cert_file != !c->key_file)
		r = err_make(e, EINVAL,
			     "etcd: a client certificate needs its key, and a key "
			     "its certificate");
	if (r < 0) {
		etcd_close(c);
		return r;
	}
	*out = c;
	return 0;
}

void etcd_close(struct etcd *c)
{
	if (!c)
		return;
	curlpool_free(&c->pool);
	for (int i = 0; i < c->neps; i++)
		free(c->eps[i]);
	free(c->eps);
	free(c->ca_file);
	free(c->cert_file);
	free(c->key_file);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* ---- range ---- */

static json_t *range_json(const struct etcd_range *r)
{
	json_t *j = json_object();
	json_object_set_new(j, "key", etcd_jb64(r->key, r->key_len));
	if (r->end)
		json_object_set_new(j, "range_end", etcd_jb64(r->end, r->end_len));
	if (r->rev)
		json_object_set_new(j, "revision", json_integer(r->rev));
	if (r->limit)
		json_object_set_new(j, "limit", json_integer(r->limit));
	if (r->count_only)
		json_object_set_new(j, "count_only", json_true());
	return j;
}

/* The "kvs" of a RangeResponse j into *kvs, *n. */
static int parse_kvs(const json_t *j, struct etcd_kv **kvs, size_t *n, struct err **e)
{
	json_t *a = json_object_get(j, "kvs");
	size_t len = json_array_size(a);
	*kvs = len ? xcalloc(len, sizeof(**kvs)) : NULL;
	*n = 0;
	for (size_t i = 0; i < len; i++) {
		int r = etcd_kv_parse(json_array_get(a, i), &(*kvs)[i], e);
		if (r < 0) {
			etcd_kvs_free(*kvs, i);
			*kvs = NULL;
			return r;
		}
	}
	*n = len;
	return 0;
}

int etcd_get(struct etcd *c, const struct etcd_range *r, struct etcd_kv **kvs, size_t *n,
	     bool *more, int64_t *hdr_rev, struct err **e)
{
	json_t *j;
	*kvs = NULL;
	*n = 0;
	int rc = etcd_call(c, "/v3/kv/range", range_json(r), false, &j, e);
	if (rc < 0) {
		json_decref(j);
		return rc;
	}
	if (more)
		*more = json_is_true(json_object_get(j, "more"));
	if (hdr_rev)
		*hdr_rev = etcd_jint(json_object_get(j, "header"), "revision");
	if (r->count_only) {
		*n = (size_t)etcd_jint(j, "count");
		json_decref(j);
		return 0;
	}
	rc = parse_kvs(j, kvs, n, e);
	json_decref(j);
	return rc;
}
