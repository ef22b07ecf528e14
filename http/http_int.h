/*
 * http_int.h - what the HTTP modules share: a request, a response, and
 * the handlers the dispatch table in http.c names.
 *
 * A handler runs on one of the server's threads and fills a struct
 * http_resp: a whole body (http_resp_json, http_resp_status), or a
 * stream (stream callback; for watches and logs: the body is produced
 * chunk by chunk, see http_resp.stream).  Handlers may block briefly on
 * the API; they must not keep pointers into the request after returning.
 *
 * Adding a route: give route.h a type if the path is new, write a handler
 * (void fn(struct http_req *, struct http_resp *)) declared here, and add
 * a row {route type, method, subresource, handler} to the table in http.c.
 */
#ifndef CFS_HTTP_INT_H
#define CFS_HTTP_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/api/api.h"
#include "http/route.h"

/* Largest request body accepted (as Kubernetes: 3 MiB); more is 413. */
#define HTTP_BODY_MAX (3 * 1024 * 1024)

struct http;
struct MHD_Connection;

struct http_req {
	struct http *srv;
	struct api *api;
	struct MHD_Connection *conn;
	const char *method; /* "GET", "POST", ... */
	const char *path;
	struct route rt;
	const char *body; /* the request body, NUL-terminated (NULL: none) */
	size_t body_len;
};

/*
 * A streamed body: called with a buffer of max bytes to fill; returns
 * the bytes written (> 0), 0 to be called again later, or -1 at the end
 * of the stream (as libmicrohttpd's content reader; sent chunked).
 */
typedef ssize_t (*http_stream_fn)(void *arg, uint64_t pos, char *buf, size_t max);

struct http_resp {
	int code;
	const char *ctype; /* static string */
	char *body;	   /* malloc'd, owned */
	size_t len;
	http_stream_fn stream; /* non-NULL: stream the body instead */
	void *stream_arg;
	void (*stream_free)(void *arg);
	char *warnings; /* malloc'd: Warning header values, one a line (or NULL) */
	int queued;	/* the handler queued its own response (exec.c: an upgrade):
			   1 done, -1 failed; the rest is then ignored */
};

/* The query parameter key (URL-decoded), or NULL. */
const char *http_query(const struct http_req *rq, const char *key);
/* The request header name, or NULL. */
const char *http_header(const struct http_req *rq, const char *name);

/* Sets the response to j serialized as JSON (j is stolen). */
void http_resp_json(struct http_resp *rs, int code, json_t *j);
/* Sets the response to a Status object (stolen); the code is its code. */
void http_resp_status(struct http_resp *rs, json_t *status);
/* A Status built from code, reason and a printf message. */
void http_fail(struct http_resp *rs, int code, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* "https://ADDR:PORT" of the server as a client should name it. */
const char *http_server_address(const struct http *h);
/* Where containers' logs are (DATA_DIR/logs; engine/podlog.h). */
const char *http_logs_dir(const struct http *h);

/* discovery.c */
/* convert.c: a kind served in another version than it is stored in
 * (autoscaling/v1 HorizontalPodAutoscalers, engine/valid/hpa.h).
 * http_alt_version: whether rq names one.  http_served: obj (stolen; an
 * object of rq's kind as stored, or a list of them) as rq's version shows
 * it.  http_convert_resp: the same for a JSON body already in rs. */
bool http_alt_version(const struct http_req *rq);
json_t *http_served(const struct http_req *rq, json_t *obj);
void http_convert_resp(const struct http_req *rq, struct http_resp *rs);

void h_version(struct http_req *rq, struct http_resp *rs);
void h_api(struct http_req *rq, struct http_resp *rs);
void h_apis(struct http_req *rq, struct http_resp *rs);
void h_group(struct http_req *rq, struct http_resp *rs);
void h_group_version(struct http_req *rq, struct http_resp *rs);

/* read.c */
void h_get(struct http_req *rq, struct http_resp *rs);
void h_list(struct http_req *rq, struct http_resp *rs);

/* table.c: see table.h (a library, no handler) */

/* watch.c: ?watch=true on a collection (h_list hands it over) */
void h_watch(struct http_req *rq, struct http_resp *rs);
/* The feed thread that wakes watches when the store moves; at most max
 * watches at once, a BOOKMARK every bookmark_ms where asked. */
struct watch_feed;
struct stream_hub;
int watch_feed_start(struct api *a, struct stream_hub *hub, int max, int bookmark_ms,
		     struct watch_feed **out);
void watch_feed_stop(struct watch_feed *f);
/* The server's feed and stream hub (http.c). */
struct watch_feed *http_watch_feed(const struct http *h);
struct stream_hub *http_stream_hub(const struct http *h);

/* openapi.c */
void h_openapi_v2(struct http_req *rq, struct http_resp *rs);
void h_openapi_v3(struct http_req *rq, struct http_resp *rs);

/* write.c */
void h_create(struct http_req *rq, struct http_resp *rs);
void h_replace(struct http_req *rq, struct http_resp *rs);
void h_delete(struct http_req *rq, struct http_resp *rs);
void h_delete_collection(struct http_req *rq, struct http_resp *rs);
/* write_sub.c */
void h_scale_get(struct http_req *rq, struct http_resp *rs);
void h_scale_put(struct http_req *rq, struct http_resp *rs);
void h_status_put(struct http_req *rq, struct http_resp *rs);
void h_evict(struct http_req *rq, struct http_resp *rs);

/* patch.c */
void h_patch(struct http_req *rq, struct http_resp *rs);

/* exec.c */
void h_exec(struct http_req *rq, struct http_resp *rs);
void h_portforward(struct http_req *rq, struct http_resp *rs);
/* Ends every exec and port-forward session (http_stop, before the daemon
 * stops); waits up to 5 s for them. */
void exec_stop_all(void);

/* metrics.c: metrics.k8s.io/v1beta1 (PodMetrics, NodeMetrics) and the
 * node agents' reports.  metrics_serve: true when the path is metrics.k8s.io's
 * (rs filled), false for any other path.  metrics_api_group: the group's
 * entry of /apis (a new object). */
bool metrics_serve(struct http_req *rq, struct http_resp *rs);
json_t *metrics_api_group(void);

/* log.c */
void h_log(struct http_req *rq, struct http_resp *rs);

#endif
