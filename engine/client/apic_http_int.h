/*
 * apic_http_int.h - the HTTP API client's insides, shared by apic_http.c
 * (requests, reads, writes, events) and apic_http_watch.c (watches).
 */
#ifndef CFS_APIC_HTTP_INT_H
#define CFS_APIC_HTTP_INT_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdbool.h>

#include "engine/client/apic_int.h"
#include "engine/curlpool.h"
#include "engine/hmap.h"
#include "engine/mem.h"

#define APIC_POOL_MAX	   8	 /* idle easy handles kept (each keeps its connections) */
#define APIC_RETRY_MS	   250	 /* watch reconnects: 250 ms doubling ... */
#define APIC_RETRY_MAX_MS  8000	 /* ... to 8 s */
#define APIC_STALL_MS	   90000 /* a watch silent this long is dead (keep-alives: 30 s) */
#define APIC_EV_QUEUE_MAX  1000	 /* events waiting to be sent; dropped beyond */
#define APIC_EV_SEEN_MAX   2000	 /* repeats remembered; cleared when full */
#define APIC_PATCH_RETRIES 10

struct http_event;

struct apic_http {
	struct apic base;
	char *names;	/* the servers as given ("URL[,URL...]"), for apic_name */
	char **servers; /* each URL, no trailing '/' */
	size_t nservers;
	size_t cur; /* lock: the server requests go to; the next when it fails */
	char *ca_file, *auth;
	int timeout_ms;

	pthread_mutex_t lock;
	struct curlpool pool; /* idle handles, keeping their connections */
	bool down;	      /* lock: the last request found no server */

	/* the event sender */
	pthread_t ev_thread;
	bool ev_on;
	pthread_cond_t ev_cond;
	struct http_event *ev_head, **ev_tail; /* lock */
	size_t ev_len;			       /* lock */
	bool ev_stop;			       /* lock */
	struct hmap ev_seen;		       /* sender: key -> "NAME COUNT" */
};

/* An answer: the HTTP code and the body parsed (NULL if not JSON). */
struct http_answer {
	long code;
	json_t *body;
};

/* Sets up an easy handle for one request of c (TLS, token, timeouts). */
void apic_http_setup(struct apic_http *c, CURL *h, const char *url);

/* Notes whether the server answered: logs once when it stops and once
 * when it comes back. */
void apic_http_reached(struct apic_http *c, bool ok, const char *why);

/* "URL[,URL...]" into its URLs (trailing '/' cut): 0 and *out (free each
 * and the array), or -EINVAL with *e when one is not http(s)://. */
int apic_http_split(const char *list, char ***out, size_t *n, struct err **e);

/* The server requests go to now (a copy), and its index. */
char *apic_http_current(struct apic_http *c, size_t *idx);

/* Server idx did not answer: unless another request moved on already,
 * requests go to the next one (logged).  True when there is another. */
bool apic_http_failover(struct apic_http *c, size_t idx, const char *why);

/* One request: method, path ("/api/v1/..." with query), a JSON body (or
 * NULL) of content type ctype (NULL: application/json).  0 with *a (free
 * a->body), or -ENOTCONN with *e when no answer came. */
int apic_http_do(struct apic_http *c, const char *method, const char *path, const char *ctype,
		 const json_t *body, struct http_answer *a, struct err **e);

/* The errno of an answer that is not a success (0 for 2xx), with *e
 * carrying the server's message. */
int apic_http_errno(const struct http_answer *a, const char *what, struct err **e);

/* The collection path of kind k in ns ("" or NULL: all / cluster-scoped). */
char *apic_http_path(const struct kind_info *k, const char *ns, const char *name, const char *sub);

/* A snapshot of obj (taken), as the store's: kind from k, rv from
 * metadata.resourceVersion. */
struct sobj *apic_http_sobj(const struct kind_info *k, json_t *obj);

/* The store's revision now (a list's resourceVersion).  0 and *rev, or a
 * negative errno. */
int apic_http_rev(struct apic_http *c, int64_t *rev, struct err **e);

/* apic_http_watch.c */
int apic_http_watch_open(struct apic *ac, const struct apic_watch_spec *sp, struct apic_watch **out,
			 struct err **e);

#endif
