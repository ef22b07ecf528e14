/*
 * http.c - the HTTPS server: lifecycle, authentication, dispatch.
 *
 * Owns the libmicrohttpd daemon, the PKI material it serves with, and the
 * dispatch table.  libmicrohttpd runs a small pool of threads with internal
 * polling (epoll); each request is read whole (up to HTTP_BODY_MAX, more is
 * 413) into a struct conn_state, then authenticated (auth.h: rq->api
 * becomes the caller's view of the API), routed (route.h), authorized
 * (api_authorize with the request's verb and resource: 403 before the
 * handler) and handed to the handler the table names.  Handlers run on the pool's
 * threads and must not block for long; a long-lived response (a watch, a
 * log follow) is a stream (http_resp.stream) sent chunked: stream.h,
 * whose connections are suspended while they have nothing to send, so
 * that thousands of idle watches hold no thread; the daemon allows
 * suspend/resume, admits the watch bound (watch.c) plus CONN_SPARE
 * connections, and stops only after the stream hub has ended and resumed
 * every stream.
 */
#include "http/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/log.h"
#include "engine/mem.h"
#include "http/auth.h"
#include "http/http_int.h"
#include "http/pki.h"
#include "http/status.h"
#include "http/stream.h"

#define POOL_THREADS   4
#define CONN_SPARE     1024 /* connections beyond the watch bound */
#define CONN_TIMEOUT_S 60
#define MAX_WATCHES    4096	   /* CFS_HTTP_MAX_WATCHES overrides (tests) */
#define BOOKMARK_MS    60000	   /* CFS_HTTP_BOOKMARK_MS overrides (tests) */
#define STREAM_BLOCK   (8 * 1024)  /* a stream chunk at most (from the connection pool) */
#define CONN_MEMORY    (24 * 1024) /* per connection: headers and a chunk */

struct http {
	struct api *api;
	struct MHD_Daemon *d;
	struct pki *pki;
	struct auth *auth; /* who a request is (auth.h) */
	int port;
	char *kubeconfig;
	char *address;
	char *logs_dir; /* DATA_DIR/logs: containers' logs (engine/podlog.h) */
	struct stream_hub *streams;
	struct watch_feed *feed;
	int max_watches;
};

typedef void (*handler_fn)(struct http_req *rq, struct http_resp *rs);

/* The dispatch table: the first row matching the route's type, the method
 * and the subresource ("*": any, "": none) handles the request. */
static const struct {
	enum route_type type;
	const char *method;
	const char *sub;
	handler_fn fn;
} routes[] = {
    /* discovery.c */
    {ROUTE_VERSION, "GET", "", h_version},
    {ROUTE_API, "GET", "", h_api},
    {ROUTE_APIS, "GET", "", h_apis},
    {ROUTE_GROUP, "GET", "", h_group},
    {ROUTE_GROUP_VERSION, "GET", "", h_group_version},
    /* openapi.c */
    {ROUTE_OPENAPI_V2, "GET", "", h_openapi_v2},
    {ROUTE_OPENAPI_V3, "GET", "", h_openapi_v3},

    /* write.c: create, replace, delete, scale, status, eviction */
    {ROUTE_COLLECTION, "POST", "", h_create},
    {ROUTE_COLLECTION, "DELETE", "", h_delete_collection},
    {ROUTE_OBJECT, "PUT", "", h_replace},
    {ROUTE_OBJECT, "DELETE", "", h_delete},
    {ROUTE_OBJECT, "GET", "scale", h_scale_get},
    {ROUTE_OBJECT, "PUT", "scale", h_scale_put},
    {ROUTE_OBJECT, "PUT", "status", h_status_put},
    {ROUTE_OBJECT, "POST", "eviction", h_evict},

    /* patch.c */
    {ROUTE_OBJECT, "PATCH", "", h_patch},
    {ROUTE_OBJECT, "PATCH", "status", h_patch},
    {ROUTE_OBJECT, "PATCH", "scale", h_patch},

    /* exec.c: exec and portforward (connection upgrades) */
    {ROUTE_OBJECT, "GET", "exec", h_exec},
    {ROUTE_OBJECT, "POST", "exec", h_exec},
    {ROUTE_OBJECT, "GET", "portforward", h_portforward},
    {ROUTE_OBJECT, "POST", "portforward", h_portforward},

    /* log.c */
    {ROUTE_OBJECT, "GET", "log", h_log},

    /* read.c (after the more specific rows above) */
    {ROUTE_COLLECTION, "GET", "", h_list},
    {ROUTE_OBJECT, "GET", "", h_get},
    {ROUTE_OBJECT, "GET", "status", h_get},
};

/* Per request: the body as it arrives. */
struct conn_state {
	struct buf body;
	bool too_big;
};

const char *http_query(const struct http_req *rq, const char *key)
{
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *http_header(const struct http_req *rq, const char *name)
{
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const char *http_server_address(const struct http *h)
{
	return h->address;
}

const char *http_logs_dir(const struct http *h)
{
	return h->logs_dir;
}

struct watch_feed *http_watch_feed(const struct http *h)
{
	return h->feed;
}

struct stream_hub *http_stream_hub(const struct http *h)
{
	return h->streams;
}

/* A positive integer from the environment, or def. */
static int env_int(const char *name, int def)
{
	const char *v = getenv(name);
	long n = v ? strtol(v, NULL, 10) : 0;
	return n > 0 && n < 1000000000 ? (int)n : def;
}

/* Raises the soft limit on open files (up to the hard one) so that the
 * connection limit can be reached: every connection is a descriptor. */
static void raise_nofile(rlim_t want)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_warn("http", "cannot raise the open files limit to %llu",
			 (unsigned long long)want);
}

/* The stream hub and the watch feed, before the daemon serves. */
static int start_streams(struct http *h, struct err **e)
{
	h->max_watches = env_int("CFS_HTTP_MAX_WATCHES", MAX_WATCHES);
	raise_nofile((rlim_t)(h->max_watches + 2 * CONN_SPARE));
	int rc = stream_hub_new(&h->streams);
	if (rc == 0)
		rc = watch_feed_start(h->api, h->streams, h->max_watches,
				      env_int("CFS_HTTP_BOOKMARK_MS", BOOKMARK_MS), &h->feed);
	if (rc < 0)
		return err_make(e, -rc, "https: cannot start the watch threads");
	return 0;
}

void http_resp_json(struct http_resp *rs, int code, json_t *j)
{
	free(rs->body);
	rs->code = code;
	rs->ctype = "application/json";
	rs->body = json_dumps(j, JSON_COMPACT);
	rs->len = rs->body ? strlen(rs->body) : 0;
	json_decref(j);
}

void http_resp_status(struct http_resp *rs, json_t *status)
{
	http_resp_json(rs, status_code(status), status);
}

void http_fail(struct http_resp *rs, int code, const char *reason, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	http_resp_status(rs, status_new(code, reason, msg));
	free(msg);
}

/* The verb of a request on a kind, as Kubernetes' authorizers name it. */
static const char *request_verb(const struct http_req *rq)
{
	const char *m = rq->method, *sub = rq->rt.sub;
	if (!strcmp(sub, "exec") || !strcmp(sub, "portforward") || !strcmp(sub, "eviction"))
		return "create";
	if (rq->rt.type == ROUTE_COLLECTION) {
		const char *w = http_query(rq, "watch");
		if (!strcmp(m, "GET"))
			return w && (!strcmp(w, "true") || !strcmp(w, "1")) ? "watch" : "list";
		return !strcmp(m, "POST") ? "create" : "deletecollection";
	}
	static const char *const verbs[][2] = {
	    {"GET", "get"}, {"PUT", "update"}, {"PATCH", "patch"}, {"DELETE", "delete"}};
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (!strcmp(m, verbs[i][0]))
			return verbs[i][1];
	return "create";
}

/* 0 when the caller may make the request (one on a kind), else 403 in rs. */
static int authorize(struct http_req *rq, struct http_resp *rs)
{
	if (rq->rt.type != ROUTE_COLLECTION && rq->rt.type != ROUTE_OBJECT)
		return 0; /* discovery and OpenAPI: any caller */
	struct api_request ar = {request_verb(rq), rq->rt.kind, rq->rt.ns, rq->rt.name, rq->rt.sub};
	struct err *e = NULL;
	if (api_authorize(rq->api, &ar, &e) == 0)
		return 0;
	http_resp_status(rs, status_from_err(e, rq->rt.kind, rq->rt.name));
	if (strcmp(ar.verb, "get") && strcmp(ar.verb, "list") && strcmp(ar.verb, "watch")) {
		char *what = xasprintf("%s %s", rq->method, rq->path);
		api_refused(rq->srv->api, what, EACCES, e->msg);
		free(what);
	}
	err_free(e);
	return -EACCES;
}

/* Runs fn, the API's warnings (Pod Security's warn mode) becoming Warning
 * headers: 299 - "text", quotes escaped, as Kubernetes sends them. */
static void run_handler(handler_fn fn, struct http_req *rq, struct http_resp *rs)
{
	struct api_warnings w = {0};
	api_warnings_collect(&w);
	fn(rq, rs);
	api_warnings_collect(NULL);
	for (size_t i = 0; i < w.n; i++) {
		struct buf b = {0};
		if (rs->warnings)
			buf_printf(&b, "%s\n", rs->warnings);
		buf_puts(&b, "299 - \"");
		for (const char *c = w.v[i]; *c; c++) {
			if (*c == '"' || *c == '\\')
				buf_puts(&b, "\\");
			buf_add(&b, c, 1);
		}
		buf_puts(&b, "\"");
		free(rs->warnings);
		rs->warnings = buf_steal(&b, NULL);
	}
	api_warnings_free(&w);
}

static handler_fn find_handler(const struct route *rt, const char *method, bool *path_ok)
{
	*path_ok = false;
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (routes[i].type != rt->type ||
		    (strcmp(routes[i].sub, "*") && strcmp(routes[i].sub, rt->sub)))
			continue;
		*path_ok = true;
		if (!strcmp(routes[i].method, method))
			return routes[i].fn;
	}
	return NULL;
}

/* Authenticates, routes and runs the handler; fills rs. */
static void dispatch(struct http *h, struct http_req *rq, struct http_resp *rs)
{
	if (route_parse(rq->path, &rq->rt) == 0 && rq->rt.type == ROUTE_HEALTH) {
		rs->code = 200;
		rs->ctype = "text/plain; charset=utf-8";
		rs->body = xstrdup("ok");
		rs->len = 2;
		return;
	}
	if (auth_serve(h->auth, rq, rs))
		return; /* the anonymous /cacerts and join */
	rq->api = auth_caller(h->auth, http_header(rq, "Authorization"));
	if (!rq->api) {
		http_fail(rs, 401, "Unauthorized", "Unauthorized");
		return;
	}
	if (metrics_serve(rq, rs))
		return;
	if (route_parse(rq->path, &rq->rt) < 0) {
		http_fail(rs, 404, "NotFound", "the server could not find the requested resource");
		return;
	}
	if (authorize(rq, rs) < 0)
		return;
	bool path_ok;
	handler_fn fn = find_handler(&rq->rt, rq->method, &path_ok);
	if (fn) {
		run_handler(fn, rq, rs);
		http_convert_resp(rq, rs);
	} else if (path_ok)
		http_fail(rs, 405, "MethodNotAllowed",
			  "the server does not allow this method on the requested resource");
	else
		http_fail(rs, 404, "NotFound", "the server could not find the requested resource");
}

static void resp_stream_free(void *cls)
{
	struct http_resp *rs = cls;
	if (rs->stream_free)
		rs->stream_free(rs->stream_arg);
	free(rs);
}

static ssize_t resp_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct http_resp *rs = cls;
	return rs->stream(rs->stream_arg, pos, buf, max);
}

static enum MHD_Result send_resp(struct MHD_Connection *c, struct http_resp *rs)
{
	struct MHD_Response *r;
	if (rs->queued)
		return rs->queued > 0 ? MHD_YES : MHD_NO;
	if (rs->stream) {
		struct http_resp *keep = xmalloc(sizeof(*keep));
		*keep = *rs;
		r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK,
						      resp_stream_read, keep, resp_stream_free);
	} else {
		r = MHD_create_response_from_buffer(rs->len, rs->body, MHD_RESPMEM_MUST_FREE);
		rs->body = NULL;
	}
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rs->ctype);
	MHD_add_response_header(r, "Cache-Control", "no-cache, private");
	for (char *w = rs->warnings, *nl; w && *w; w = nl ? nl + 1 : w + strlen(w)) {
		nl = strchr(w, '\n');
		if (nl)
			*nl = '\0';
		MHD_add_response_header(r, "Warning", w);
	}
	free(rs->warnings);
	rs->warnings = NULL;
	enum MHD_Result ok = MHD_queue_response(c, (unsigned)rs->code, r);
	MHD_destroy_response(r);
	return ok;
}

/* 413, recorded as a refused write (api_refused) as every refusal is. */
static void too_large(struct http *h, struct http_resp *rs, const char *method, const char *url)
{
	http_fail(rs, 413, "RequestEntityTooLarge", "the request body is larger than %d bytes",
		  HTTP_BODY_MAX);
	char *path = xasprintf("%s %s", method, url);
	char *msg = xasprintf("the request body is larger than %d bytes", HTTP_BODY_MAX);
	api_refused(h->api, path, EFBIG, msg);
	free(msg);
	free(path);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct http *h = cls;
	struct conn_state *cs = *con_cls;
	if (!cs) {
		*con_cls = xcalloc(1, sizeof(*cs));
		/* A declared length over the limit is refused before reading it. */
		const char *cl =
		    MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > HTTP_BODY_MAX) {
			struct http_resp rs = {0};
			too_large(h, &rs, method, url);
			return send_resp(c, &rs);
		}
		return MHD_YES;
	}
	if (*upload_size) {
		if (cs->body.len + *upload_size > HTTP_BODY_MAX)
			cs->too_big = true;
		else
			buf_add(&cs->body, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	struct http_req rq = {.srv = h, .api = h->api, .conn = c, .method = method, .path = url};
	struct http_resp rs = {0};
	if (cs->body.len) {
		rq.body = cs->body.s;
		rq.body_len = cs->body.len;
	}
	if (cs->too_big)
		too_large(h, &rs, method, url);
	else
		dispatch(h, &rq, &rs);
	log_debug("http", "%s %s: %d", method, url, rs.code);
	enum MHD_Result ok = send_resp(c, &rs);
	free(rs.body);
	return ok;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct conn_state *cs = *con_cls;
	if (cs) {
		buf_free(&cs->body);
		free(cs);
		*con_cls = NULL;
	}
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	vsnprintf(line, sizeof(line), fmt, ap);
	line[strcspn(line, "\n")] = '\0';
	log_debug("http", "%s", line);
}

/* Parses "ADDR:PORT" or "[V6]:PORT" into sa.  -EINVAL if malformed. */
static int parse_listen(const char *s, struct sockaddr_storage *sa, bool *v6, struct err **e)
{
	char host[64];
	const char *colon = strrchr(s, ':');
	const char *h0 = s, *h1 = colon;
	if (colon && s[0] == '[' && colon > s && colon[-1] == ']') {
		h0 = s + 1;
		h1 = colon - 1;
	}
	char *end = NULL;
	long port = colon ? strtol(colon + 1, &end, 10) : -1;
	if (!colon || !colon[1] || *end || port < 0 || port > 65535 ||
	    h1 - h0 >= (long)sizeof(host))
		return err_make(e, EINVAL, "--listen %s: want ADDR:PORT", s);
	memcpy(host, h0, (size_t)(h1 - h0));
	host[h1 - h0] = '\0';
	memset(sa, 0, sizeof(*sa));
	struct sockaddr_in *a4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)sa;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		*v6 = false;
	} else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		*v6 = true;
	} else {
		return err_make(e, EINVAL, "--listen %s: \"%s\" is not an IP address", s, host);
	}
	return 0;
}

static int start_daemon(struct http *h, const char *listen, struct err **e)
{
	struct sockaddr_storage sa;
	bool v6 = false;
	if (parse_listen(listen, &sa, &v6, e) < 0)
		return -EINVAL;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TLS |
			 MHD_ALLOW_SUSPEND_RESUME | MHD_ALLOW_UPGRADE | MHD_USE_ERROR_LOG |
			 (v6 ? MHD_USE_IPv6 : 0);
	h->d = MHD_start_daemon(
	    flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
	    MHD_OPTION_HTTPS_MEM_KEY, pki_key_pem(h->pki), MHD_OPTION_HTTPS_MEM_CERT,
	    pki_cert_pem(h->pki), MHD_OPTION_THREAD_POOL_SIZE, (unsigned)POOL_THREADS,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)(h->max_watches + CONN_SPARE),
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY, MHD_OPTION_NOTIFY_COMPLETED,
	    on_completed, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h, MHD_OPTION_END);
	if (!h->d)
		return err_make(
		    e, EADDRINUSE,
		    "https: cannot listen on %s (in use, or not an address of this host)", listen);
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = di ? di->port : 0;
	return 0;
}

int http_start(const struct http_opts *o, struct http **out, struct err **e)
{
	struct http *h = xcalloc(1, sizeof(*h));
	h->api = o->api;
	if (pki_ensure(o->data_dir, o->sans, o->nsans, &h->pki, e) < 0)
		goto fail;
	if (auth_open(o->data_dir, h->api, pki_token(h->pki), pki_ca_pem(h->pki), &h->auth, e) < 0)
		goto fail;
	if (start_streams(h, e) < 0)
		goto fail;
	if (start_daemon(h, o->listen ? o->listen : HTTP_DEFAULT_LISTEN, e) < 0)
		goto fail;
	h->address = xasprintf("https://127.0.0.1:%d", h->port);
	h->kubeconfig = xasprintf("%s/kubeconfig", o->data_dir);
	h->logs_dir = xasprintf("%s/logs", o->data_dir);
	if (pki_write_kubeconfig(h->pki, h->kubeconfig, h->address, e) < 0)
		goto fail;
	*out = h;
	return 0;
fail:
	http_stop(h);
	return e && *e ? -(*e)->code : -EIO;
}

int http_port(const struct http *h)
{
	return h->port;
}

const char *http_kubeconfig(const struct http *h)
{
	return h->kubeconfig;
}

void http_stop(struct http *h)
{
	if (!h)
		return;
	exec_stop_all();	      /* upgraded sessions end first */
	stream_hub_close(h->streams); /* no connection may stay suspended */
	if (h->d)
		MHD_stop_daemon(h->d);
	watch_feed_stop(h->feed);
	stream_hub_free(h->streams);
	auth_free(h->auth); /* the views, after every stream that used one */
	pki_free(h->pki);
	free(h->kubeconfig);
	free(h->logs_dir);
	free(h->address);
	free(h);
}
