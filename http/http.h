/*
 * http.h - the Kubernetes-compatible HTTPS API: a second face on the
 * engine, beside the filesystem.
 *
 * http_start() makes or reuses the PKI and kubeconfig (pki.h), then serves
 * HTTPS with libmicrohttpd on its own threads (a small pool with internal
 * polling, a connection limit and an idle timeout) until http_stop().
 * Every request but /healthz, /readyz, /livez, /cacerts and the join
 * needs a bearer token: the admin's, or a node's credential (auth.h); each
 * request is served through the API's view for its caller, and authorized
 * there (engine/api/api.h, "Callers").  What is served: route.h; the
 * handlers: http_int.h.
 *
 * main.c is the only user of this header; nothing in the engine knows of it.
 */
#ifndef CFS_HTTP_H
#define CFS_HTTP_H

#include <stddef.h>

#include "engine/api/api.h"
#include "engine/err.h"

#define HTTP_DEFAULT_LISTEN "0.0.0.0:6443"

struct http_opts {
	struct api *api;	 /* borrowed; must outlive the server */
	const char *data_dir;	 /* pki/ and kubeconfig go here */
	const char *listen;	 /* "ADDR:PORT", "[V6ADDR]:PORT"; port 0 picks a free one */
	const char *const *sans; /* extra subject alternative names (--tls-san) */
	size_t nsans;
};

struct http;

/* Starts serving.  0 and *out, or a negative errno with *e (nothing left running). */
int http_start(const struct http_opts *o, struct http **out, struct err **e);

/* The port it listens on (the one picked, for port 0). */
int http_port(const struct http *h);

/* The kubeconfig's path (owned by h). */
const char *http_kubeconfig(const struct http *h);

/* Stops accepting, finishes or closes connections, frees.  NULL is fine. */
void http_stop(struct http *h);

#endif
