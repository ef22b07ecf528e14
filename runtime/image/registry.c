/*
 * registry.c - the registry client: the OCI distribution API over libcurl,
 * blobs streamed into the store and checked, pulls of one reference done
 * once.  See registry.h.
 */
#include "runtime/image/registry.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <nettle/base16.h>
#include <nettle/sha2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "runtime/image/image_int.h"
#include "runtime/sys.h"

#define ACCEPT_MANIFESTS                                                                           \
	"Accept: application/vnd.oci.image.index.v1+json, "                                        \
	"application/vnd.oci.image.manifest.v1+json, "                                             \
	"application/vnd.docker.distribution.manifest.list.v2+json, "                              \
	"application/vnd.docker.distribution.manifest.v2+json"
#define MANIFEST_MAX (4 << 20) /* bytes of a manifest or index */
#define ERRBODY_MAX  (64 << 10)
#define NESTING_MAX  4

/* One pull's connection to one endpoint of a registry. */
struct conn {
	CURL *h;
	const struct registry_conf *conf;
	struct registry_ref ref;
	char *base;		 /* "https://host:port" */
	const char *user, *pass; /* NULL: anonymous */
	char *token;		 /* a bearer token once obtained */
	bool basic;		 /* the registry asked for Basic */
	int64_t downloaded;
};

/* One response: its status, the headers we use, and the body either in
 * memory (manifests, tokens, error bodies) or appended to fd. */
struct resp {
	CURL *h;
	long status;
	char *www_auth;
	char *mem;
	size_t len, max;
	int fd;	       /* -1: body to mem */
	int64_t have;  /* bytes already in fd (a resumed blob) */
	int64_t limit; /* the most fd may hold */
	struct sha256_ctx *sha;
	bool failed;   /* a write failed, or the body passed its limit */
	bool started;  /* fd got the first bytes of this response */
	bool too_long; /* fd would have passed limit */
};

static void resp_reset(struct resp *r)
{
	free(r->www_auth);
	free(r->mem);
	r->www_auth = r->mem = NULL;
	r->len = 0;
	r->status = 0;
	r->failed = false;
	r->started = false;
	r->too_long = false;
}

static size_t on_header(char *buf, size_t size, size_t n, void *arg)
{
	struct resp *r = arg;
	size_t len = size * n;
	if (len > 5 && !strncmp(buf, "HTTP/", 5)) {
		free(r->www_auth);
		r->www_auth = NULL;
	} else if (len > 17 && !strncasecmp(buf, "WWW-Authenticate:", 17)) {
		size_t v = len - 17;
		while (v && (buf[17 + v - 1] == '\r' || buf[17 + v - 1] == '\n'))
			v--;
		free(r->www_auth);
		r->www_auth = xstrndup(buf + 17, v);
	}
	return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *arg)
{
	struct resp *r = arg;
	size_t len = size * n;
	long st = 0;
	curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &st);
	if (r->fd >= 0 && (st == 200 || st == 206)) {
		if (st == 200 && r->have > 0 && !r->started) { /* the server ignored our Range */
			if (ftruncate(r->fd, 0) < 0 || lseek(r->fd, 0, SEEK_SET) < 0)
				return 0;
			sha256_init(r->sha);
			r->have = 0;
		}
		if (r->have + (int64_t)len > r->limit) {
			r->failed = r->too_long = true;
			return 0;
		}
		r->started = true;
		sha256_update(r->sha, len, (const uint8_t *)buf);
		for (size_t off = 0; off < len;) {
			ssize_t w = write(r->fd, buf + off, len - off);
			if (w < 0) {
				r->failed = true;
				return 0;
			}
			off += w;
		}
		r->have += len;
		return len;
	}
	size_t max = r->fd >= 0 ? ERRBODY_MAX : r->max;
	if (r->len + len > max) {
		r->failed = true;
		return 0;
	}
	r->mem = xrealloc(r->mem, r->len + len + 1);
	memcpy(r->mem + r->len, buf, len);
	r->len += len;
	r->mem[r->len] = '\0';
	return len;
}

/* The host[:port] of a base URL, for the certs dir. */
static const char *url_host(const char *url, char *buf, size_t n)
{
	const char *p = strstr(url, "://");
	p = p ? p + 3 : url;
	snprintf(buf, n, "%.*s", (int)strcspn(p, "/"), p);
	return buf;
}

/* The TLS files for the endpoint: CERTS_DIR/HOST:PORT/{ca.crt,client.cert,client.key}. */
static void tls_setup(struct conn *c, const char *url)
{
	char host[256];
	const char *dir = c->conf && c->conf->certs_dir ? c->conf->certs_dir : REGISTRY_CERTS_DIR;
	url_host(url, host, sizeof(host));
	_cleanup_free_ char *ca = xasprintf("%s/%s/ca.crt", dir, host);
	_cleanup_free_ char *cert = xasprintf("%s/%s/client.cert", dir, host);
	_cleanup_free_ char *key = xasprintf("%s/%s/client.key", dir, host);
	if (access(ca, R_OK) == 0)
		curl_easy_setopt(c->h, CURLOPT_CAINFO, ca);
	if (access(cert, R_OK) == 0 && access(key, R_OK) == 0) {
		curl_easy_setopt(c->h, CURLOPT_SSLCERT, cert);
		curl_easy_setopt(c->h, CURLOPT_SSLKEY, key);
	}
}

/* The words of a failed transfer, as the kubelet's events carry them. */
static int curl_fail(CURLcode cc, const char *ebuf, const char *url, struct err **e)
{
	const char *why = *ebuf ? ebuf : curl_easy_strerror(cc);
	switch (cc) {
	case CURLE_COULDNT_RESOLVE_HOST:
		return err_make(e, EHOSTUNREACH, "%s: no such host (%s)", url, why);
	case CURLE_COULDNT_CONNECT:
		return err_make(e, EHOSTUNREACH, "%s: connection refused (%s)", url, why);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		return err_make(e, EPROTO, "%s: tls: %s", url, why);
	default:
		return err_make(e, EIO, "%s: %s", url, why);
	}
}

/* One GET of url into r.  Returns 0 whatever the HTTP status, or a
 * transfer failure. */
static int get_once(struct conn *c, const char *url, const char *accept, struct resp *r,
		    bool with_auth, struct err **e)
{
	char ebuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hd = NULL;
	_cleanup_free_ char *bearer = NULL;
	_cleanup_free_ char *range = NULL;
	curl_easy_reset(c->h);
	curl_easy_setopt(c->h, CURLOPT_URL, url);
	curl_easy_setopt(c->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->h, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c->h, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(c->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c->h, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c->h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c->h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(c->h, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(c->h, CURLOPT_USERAGENT, "clusterfs");
	curl_easy_setopt(c->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c->h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c->h, CURLOPT_WRITEDATA, r);
	tls_setup(c, url);
	if (accept)
		hd = curl_slist_append(hd, accept);
	if (with_auth && c->token) {
		bearer = xasprintf("Authorization: Bearer %s", c->token);
		hd = curl_slist_append(hd, bearer);
	} else if (with_auth && c->basic && c->user) {
		curl_easy_setopt(c->h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(c->h, CURLOPT_USERNAME, c->user);
		curl_easy_setopt(c->h, CURLOPT_PASSWORD, c->pass);
	}
	if (r->fd >= 0 && r->have > 0) {
		range = xasprintf("%lld-", (long long)r->have);
		curl_easy_setopt(c->h, CURLOPT_RANGE, range);
	}
	curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, hd);
	resp_reset(r);
	r->h = c->h;
	CURLcode cc = curl_easy_perform(c->h);
	curl_slist_free_all(hd);
	curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &r->status);
	if (cc != CURLE_OK)
		return r->too_long ? err_make(e, EINVAL, "%s: larger than its descriptor says", url)
				   : curl_fail(cc, ebuf, url, e);
	return 0;
}

/* The token for a Bearer challenge: GET realm?service=...&scope=... with
 * the basic credentials when there are some. */
static int fetch_token(struct conn *c, const struct registry_challenge *ch, struct err **e)
{
	_cleanup_free_ char *scope =
	    ch->scope ? NULL : xasprintf("repository:%s:pull", c->ref.repo);
	char *es = curl_easy_escape(c->h, ch->scope ? ch->scope : scope, 0);
	char *sv = curl_easy_escape(c->h, ch->service ? ch->service : "", 0);
	_cleanup_free_ char *url = xasprintf("%s%sservice=%s&scope=%s", ch->realm,
					     strchr(ch->realm, '?') ? "&" : "?", sv, es);
	curl_free(es);
	curl_free(sv);
	struct resp r = {.fd = -1, .max = 1 << 20};
	bool was_basic = c->basic;
	c->basic = true; /* the token server takes the user's basic credentials */
	int rc = get_once(c, url, NULL, &r, c->user != NULL, e);
	c->basic = was_basic;
	if (rc == 0 && (r.status == 401 || r.status == 403))
		rc = err_make(e, EACCES,
			      "unauthorized: authentication required (token %s: HTTP %ld)",
			      ch->realm, r.status);
	else if (rc == 0 && r.status != 200)
		rc = err_make(e, EIO, "token %s: HTTP %ld", ch->realm, r.status);
	if (rc == 0) {
		_cleanup_json_ json_t *j = json_loads(r.mem ? r.mem : "", 0, NULL);
		const char *t = json_string_value(json_object_get(j, "token"));
		if (!t)
			t = json_string_value(json_object_get(j, "access_token"));
		if (!t)
			rc = err_make(e, EIO, "token %s: no token in the answer", ch->realm);
		else {
			free(c->token);
			c->token = xstrdup(t);
		}
	}
	resp_reset(&r);
	return rc;
}

/* The registry's reason from an error body {"errors":[{"code","message"}]},
 * in the lower-case words the kubelet shows ("manifest unknown: ..."). */
static char *reason(const struct resp *r)
{
	_cleanup_json_ json_t *j = r->mem ? json_loads(r->mem, 0, NULL) : NULL;
	json_t *e0 = json_array_get(json_object_get(j, "errors"), 0);
	const char *code = json_string_value(json_object_get(e0, "code"));
	const char *msg = json_string_value(json_object_get(e0, "message"));
	if (!code)
		return xasprintf("HTTP %ld", r->status);
	char *s = xasprintf("%s: %s", code, msg ? msg : "");
	for (char *p = s; *p && *p != ':'; p++)
		*p = *p == '_' ? ' ' : (char)tolower((unsigned char)*p);
	return s;
}

/* GET base/v2/REPO/WHAT with the registry's authentication: a 401 answers
 * with a challenge, met once.  A status other than 2xx is an error whose
 * errno says what kind. */
static int api_get(struct conn *c, const char *what, const char *accept, struct resp *r,
		   struct err **e)
{
	_cleanup_free_ char *url = xasprintf("%s/v2/%s/%s", c->base, c->ref.repo, what);
	int rc = get_once(c, url, accept, r, true, e);
	if (rc == 0 && r->status == 401 && r->www_auth && !c->token) {
		struct registry_challenge ch;
		if (registry_challenge_parse(r->www_auth, &ch) == 0) {
			if (!strcasecmp(ch.scheme, "Bearer") && ch.realm)
				rc = fetch_token(c, &ch, e);
			else if (!strcasecmp(ch.scheme, "Basic"))
				c->basic = true;
		}
		registry_challenge_free(&ch);
		if (rc == 0 && (c->token || (c->basic && c->user)))
			rc = get_once(c, url, accept, r, true, e);
	}
	if (rc < 0 || (r->status >= 200 && r->status < 300) || r->status == 416)
		return rc;
	_cleanup_free_ char *why = reason(r);
	if (r->status == 401 || r->status == 403)
		return err_make(e, EACCES, "%s: unauthorized: authentication required (%s)", url,
				why);
	if (r->status == 404)
		return err_make(e, ENOENT, "%s: %s", url,
				strstr(why, "unknown") ? why : "manifest unknown");
	return err_make(e, EIO, "%s: %s", url, why);
}

static void hex_of(struct sha256_ctx *ctx, char hex[65])
{
	uint8_t md[SHA256_DIGEST_SIZE];
	sha256_digest(ctx, sizeof(md), md);
	base16_encode_update(hex, sizeof(md), md);
	hex[64] = '\0';
}

/* Writes a verified blob (a manifest) into the store unless it is there. */
static int blob_put(struct image_store *s, const char *hex, const char *data, size_t len,
		    struct err **e)
{
	_cleanup_free_ char *dst = xasprintf("%s/%s", s->blobs, hex);
	if (access(dst, F_OK) == 0)
		return 0;
	_cleanup_free_ char *tmp = image_tmp_name(dst);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	bool ok = fd >= 0 && write(fd, data, len) == (ssize_t)len && fsync(fd) == 0;
	if (fd >= 0)
		close(fd);
	if (!ok || rename(tmp, dst) < 0) {
		int r = err_make(e, errno ? errno : EIO, "%s: %s", dst, strerror(errno));
		unlink(tmp);
		return r;
	}
	return 0;
}

/* GETs manifests/REFERENCE (a tag or "sha256:HEX"), checks it against the
 * digest it must have (want: hex or NULL) and keeps it in the store.
 * Gives its JSON, digest hex and size. */
static int manifest_fetch(struct conn *c, struct image_store *s, const char *reference,
			  const char *want, json_t **out, char hex[65], int64_t *size,
			  struct err **e)
{
	struct resp r = {.fd = -1, .max = MANIFEST_MAX};
	_cleanup_free_ char *what = xasprintf("manifests/%s", reference);
	int rc = api_get(c, what, ACCEPT_MANIFESTS, &r, e);
	if (rc == 0 && r.status != 200)
		rc = err_make(e, EIO, "manifest %s: HTTP %ld", reference, r.status);
	if (rc == 0) {
		struct sha256_ctx ctx;
		sha256_init(&ctx);
		sha256_update(&ctx, r.len, (const uint8_t *)(r.mem ? r.mem : ""));
		hex_of(&ctx, hex);
		*size = r.len;
		c->downloaded += r.len;
		json_error_t je;
		*out = json_loadb(r.mem ? r.mem : "", r.len, 0, &je);
		if (want && strcmp(want, hex))
			rc = err_make(e, EINVAL, "manifest %s: digest mismatch (got sha256:%s)",
				      reference, hex);
		else if (!json_is_object(*out))
			rc = err_make(e, EINVAL, "manifest %s: not JSON (%s)", reference, je.text);
		else
			rc = blob_put(s, hex, r.mem, r.len, e);
		if (rc < 0) {
			json_decref(*out);
			*out = NULL;
		}
	}
	resp_reset(&r);
	return rc;
}

/* Hashes what fd holds already (a partial blob) into ctx; its size. */
static int64_t rehash(int fd, struct sha256_ctx *ctx)
{
	char buf[64 * 1024];
	int64_t n = 0;
	ssize_t k;
	sha256_init(ctx);
	if (lseek(fd, 0, SEEK_SET) < 0)
		return -1;
	while ((k = read(fd, buf, sizeof(buf))) > 0) {
		sha256_update(ctx, k, (const uint8_t *)buf);
		n += k;
	}
	return k < 0 ? -1 : n;
}

/* Streams the blob desc names into the store: into HEX.partial (flock()ed,
 * so that one pull at a time writes it), continued by Range requests after
 * a broken transfer, checked (size and sha256) and renamed to HEX.  A blob
 * already in the store is not fetched. */
static int blob_fetch(struct conn *c, struct image_store *s, json_t *desc, struct err **e)
{
	char hex[65], got[65];
	int64_t want;
	int rc = desc_parse(desc, hex, &want, e);
	if (rc < 0)
		return rc;
	_cleanup_free_ char *dst = xasprintf("%s/%s", s->blobs, hex);
	_cleanup_free_ char *part = xasprintf("%s.partial", dst);
	if (access(dst, F_OK) == 0)
		return 0;
	_cleanup_fd_ int fd = open(part, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0)
		return err_make(e, errno, "%s: %s", part, strerror(errno));
	if (access(dst, F_OK) == 0) { /* another pull finished it */
		unlink(part);
		return 0;
	}
	struct sha256_ctx ctx;
	_cleanup_free_ char *what = xasprintf("blobs/sha256:%s", hex);
	int tries = c->conf && c->conf->retries > 0 ? c->conf->retries : 3;
	int64_t size = -1; /* what fd holds, all of it hashed into ctx */
	for (int t = 0; t <= tries; t++) {
		int64_t have = rehash(fd, &ctx);
		if (have < 0 || have > want) {
			if (ftruncate(fd, 0) < 0)
				return err_make(e, errno, "%s: %s", part, strerror(errno));
			have = rehash(fd, &ctx);
		}
		struct resp r = {.fd = fd, .have = have, .limit = want, .sha = &ctx};
		size = have;
		if (have == want) /* complete already: only the check is left */
			break;
		if (t > 0)
			log_info("image", "%s: resuming sha256:%s at %lld of %lld bytes",
				 c->ref.repo, hex, (long long)have, (long long)want);
		rc = api_get(c, what, NULL, &r, e);
		c->downloaded += r.have > have ? r.have - have : r.have;
		size = r.have;
		resp_reset(&r);
		if (rc == 0 || rc != -EIO)
			break;
	}
	if (rc == -EINVAL)
		unlink(part);
	if (rc < 0)
		return rc;
	hex_of(&ctx, got);
	if (size != want || strcmp(got, hex)) {
		unlink(part);
		return err_make(e, EINVAL, "blob sha256:%s is corrupt (%s)", hex,
				size != want ? "size differs from its descriptor"
					     : "digest mismatch");
	}
	if (fsync(fd) < 0 || rename(part, dst) < 0)
		return err_make(e, errno, "%s: %s", dst, strerror(errno));
	return 0;
}

/* From the manifest (or index) the reference names down to an image
 * manifest: *man, and the top blob's digest and size in out. */
static int resolve(struct conn *c, struct image_store *s, json_t **man, json_t **top,
		   struct pull_info *out, struct err **e)
{
	const char *rf = c->ref.reference;
	bool by_digest = !strncmp(rf, "sha256:", 7);
	char hex[65];
	int64_t size;
	json_t *cur;
	int rc = manifest_fetch(c, s, rf, by_digest ? rf + 7 : NULL, &cur, hex, &size, e);
	if (rc < 0)
		return rc;
	*top = json_incref(cur);
	snprintf(out->digest, sizeof(out->digest), "sha256:%s", hex);
	out->size = size;
	for (int depth = 0;; depth++) {
		int kind = blob_kind(NULL, cur);
		if (kind == 'm') {
			*man = cur;
			return 0;
		}
		json_t *d;
		rc = kind != 'i'	    ? err_make(e, EINVAL,
						       "sha256:%s: neither an image manifest nor an index "
								  "(Docker schema 1 is not supported)",
						       hex)
		     : depth >= NESTING_MAX ? err_make(e, EINVAL, "indexes nested too deep")
					    : pick_manifest(cur, NULL, &d, e);
		int64_t dsize;
		if (rc == 0 && (rc = desc_parse(d, hex, &dsize, e)) == 0) {
			_cleanup_free_ char *dref = xasprintf("sha256:%s", hex);
			json_t *next = NULL;
			rc = manifest_fetch(c, s, dref, hex, &next, hex, &size, e);
			json_decref(cur);
			cur = next;
			out->size += size;
		}
		if (rc < 0) {
			json_decref(cur);
			json_decref(*top);
			return rc;
		}
	}
}

/* An OCI layout in a temporary dir whose index.json names the top blob
 * (already in the store): image_import() takes it from there. */
static int layout_write(struct image_store *s, json_t *top, const char *digest, int64_t size,
			char **dir, struct err **e)
{
	_cleanup_free_ char *base = xasprintf("%s/pull", s->tmp);
	*dir = image_tmp_name(base);
	const char *mt = json_string_value(json_object_get(top, "mediaType"));
	if (!mt)
		mt = blob_kind(NULL, top) == 'i' ? "application/vnd.oci.image.index.v1+json"
						 : "application/vnd.oci.image.manifest.v1+json";
	_cleanup_json_ json_t *index =
	    json_pack("{s:i, s:[{s:s, s:s, s:I}]}", "schemaVersion", 2, "manifests", "mediaType",
		      mt, "digest", digest, "size", (json_int_t)size);
	_cleanup_free_ char *lp = xasprintf("%s/oci-layout", *dir);
	_cleanup_free_ char *ip = xasprintf("%s/index.json", *dir);
	if (mkdir(*dir, 0700) < 0 || json_dump_file(index, ip, 0) < 0)
		return err_make(e, errno ? errno : EIO, "%s: %s", *dir, strerror(errno));
	FILE *f = fopen(lp, "w");
	if (!f || fputs("{\"imageLayoutVersion\": \"1.0.0\"}\n", f) < 0 || fclose(f) != 0)
		return err_make(e, errno ? errno : EIO, "%s: %s", lp, strerror(errno));
	return 0;
}

/* The pull from one endpoint (c->base). */
static int pull_from(struct conn *c, struct image_store *s, const char *name, struct pull_info *out,
		     struct err **e)
{
	_cleanup_json_ json_t *man = NULL, *top = NULL;
	int rc = resolve(c, s, &man, &top, out, e);
	if (rc < 0)
		return rc;
	json_t *layers = json_object_get(man, "layers"), *l;
	size_t i;
	if (!json_is_array(layers))
		return err_make(e, EINVAL, "manifest without a layers list");
	/* sizes first: the top blob's size alone goes into index.json */
	char hex[65];
	int64_t sz;
	if ((rc = desc_parse(json_object_get(man, "config"), hex, &sz, e)) < 0)
		return err_wrap(e, "config");
	out->size += sz;
	json_array_foreach(layers, i, l)
	{
		if ((rc = desc_parse(l, hex, &sz, e)) < 0)
			return rc;
		out->size += sz;
		const char *mt = json_string_value(json_object_get(l, "mediaType"));
		if (image_layer_comp(mt) == COMP_UNKNOWN)
			return err_make(e, EINVAL, "layer %zu: unsupported media type '%s'", i + 1,
					mt ? mt : "(none)");
	}
	if ((rc = blob_fetch(c, s, json_object_get(man, "config"), e)) < 0)
		return err_wrap(e, "config");
	json_array_foreach(layers, i, l)
	{
		if ((rc = blob_fetch(c, s, l, e)) < 0)
			return err_wrap(e, "layer %zu", i + 1);
	}
	/* the top blob's own size, for index.json: a manifest's, or an index's */
	_cleanup_free_ char *dir = NULL;
	const char *top_hex = out->digest + 7;
	_cleanup_free_ char *tpath = xasprintf("%s/%s", s->blobs, top_hex);
	struct stat st;
	if (stat(tpath, &st) < 0)
		return err_make(e, errno, "%s: %s", tpath, strerror(errno));
	rc = layout_write(s, top, out->digest, st.st_size, &dir, e);
	if (rc == 0)
		rc = image_import_origin(s, dir, name, IMAGE_PULLED, e);
	if (dir)
		image_rm_logged(dir);
	return rc;
}

/* The pull itself, by the one thread that does it. */
static int pull_leader(struct image_store *s, const char *name, const struct registry_creds *creds,
		       const struct registry_conf *conf, struct pull_info *out, struct err **e)
{
	struct conn c = {.conf = conf};
	int rc = registry_ref_split(name, &c.ref, e);
	if (rc < 0)
		return rc;
	if (!registry_creds_lookup(creds, c.ref.host, &c.user, &c.pass))
		c.user = c.pass = NULL;
	c.h = curl_easy_init();
	if (!c.h)
		return err_make(e, ENOMEM, "curl_easy_init failed");
	rc = -ENOENT;
	for (int i = 0; (c.base = registry_endpoint(conf, c.ref.host, i)); i++) {
		char *next = registry_endpoint(conf, c.ref.host, i + 1);
		bool last = !next;
		free(next);
		free(c.token);
		c.token = NULL;
		c.basic = false;
		struct err *ie = NULL;
		rc = pull_from(&c, s, name, out, &ie);
		free(c.base);
		if (rc == 0 || last || rc == -EINVAL) {
			if (ie && e) {
				err_free(*e);
				*e = ie;
			} else {
				err_free(ie);
			}
			break;
		}
		log_info("image", "%s: mirror failed, trying the next: %s", name, ie->msg);
		err_free(ie);
	}
	free(c.token);
	curl_easy_cleanup(c.h);
	out->downloaded = c.downloaded;
	return rc;
}

/* ---- One pull per reference and credentials at a time ---- */

struct inflight {
	struct inflight *next;
	const struct image_store *s;
	char ref[IMAGE_REF_MAX];
	uint64_t key; /* creds_key() of the credentials it uses */
	int refs;     /* the leader and its waiters */
	bool done;
	int rc;
	struct err *err;
	struct pull_info info;
};

static pthread_mutex_t fl_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fl_cond = PTHREAD_COND_INITIALIZER;
static struct inflight *fl_head;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Drops one reference to f (fl_mu held); the last frees it. */
static void inflight_put(struct inflight *f)
{
	if (--f->refs == 0) {
		err_free(f->err);
		free(f);
	}
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fnv(uint64_t *h, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		*h = (*h ^ *p) * 1099511628211ULL;
	*h = (*h ^ 0xff) * 1099511628211ULL; /* the end, so "ab","c" != "a","bc" */
}

/* Tells apart the credentials a pull of name (normalised: HOST/...) would
 * use: a hash of its host's user and password, 0 for none.  Pulls with
 * different credentials are never merged: one's refusal (or success) says
 * nothing of the other's. */
static uint64_t creds_key(const struct registry_creds *creds, const char *name)
{
	char host[256];
	const char *slash = strchr(name, '/'), *user, *pass;
	snprintf(host, sizeof(host), "%.*s", slash ? (int)(slash - name) : 0, name);
	if (!creds || !registry_creds_lookup(creds, host, &user, &pass))
		return 0;
	uint64_t h = 1469598103934665603ULL;
	fnv(&h, user ? user : "");
	fnv(&h, pass ? pass : "");
	return h ? h : 1;
}

int registry_pull(struct image_store *s, const char *ref, const struct registry_creds *creds,
		  const struct registry_conf *conf, struct pull_info *out, struct err **e)
{
	char name[IMAGE_REF_MAX];
	double t0 = now();
	memset(out, 0, sizeof(*out));
	if (image_normalize(ref, name, sizeof(name), e) < 0)
		return err_wrap(e, "pull");
	pthread_once(&curl_once, curl_init_once);
	uint64_t key = creds_key(creds, name);
	pthread_mutex_lock(&fl_mu);
	struct inflight *w = fl_head;
	while (w && (w->s != s || w->key != key || strcmp(w->ref, name)))
		w = w->next;
	if (w) { /* the same pull under way: its result is ours */
		w->refs++;
		while (!w->done)
			pthread_cond_wait(&fl_cond, &fl_mu);
		int rc = w->rc;
		*out = w->info;
		out->downloaded = 0;
		if (rc < 0 && w->err)
			err_make(e, w->err->code, "%s", w->err->msg);
		inflight_put(w);
		pthread_mutex_unlock(&fl_mu);
		out->seconds = now() - t0;
		return rc;
	}
	struct inflight *f = xcalloc(1, sizeof(*f));
	f->s = s;
	snprintf(f->ref, sizeof(f->ref), "%s", name);
	f->key = key;
	f->refs = 1;
	f->next = fl_head;
	fl_head = f;
	pthread_mutex_unlock(&fl_mu);

	struct err *le = NULL;
	int rc = pull_leader(s, name, creds, conf, out, &le);
	out->seconds = now() - t0;
	if (rc < 0)
		err_wrap(&le, "failed to pull image \"%s\"", name);
	else
		log_info("image", "%s: pulled %s, %lld bytes (%lld downloaded) in %.3fs", name,
			 out->digest, (long long)out->size, (long long)out->downloaded,
			 out->seconds);

	pthread_mutex_lock(&fl_mu);
	for (struct inflight **pp = &fl_head; *pp; pp = &(*pp)->next)
		if (*pp == f) {
			*pp = f->next;
			break;
		}
	f->done = true;
	f->rc = rc;
	f->info = *out;
	if (le)
		f->err = le->code ? (err_make(&f->err, le->code, "%s", le->msg), f->err) : NULL;
	pthread_cond_broadcast(&fl_cond);
	inflight_put(f);
	pthread_mutex_unlock(&fl_mu);
	if (e && le) {
		err_free(*e);
		*e = le;
	} else {
		err_free(le);
	}
	return rc;
}
