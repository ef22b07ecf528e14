/*
 * apic.h - the API client: how the node runtime (the agent, the Services'
 * node role, hollow nodes) reaches the API, in-process or over HTTP.
 *
 *     struct apic *c = apic_local_new(api);          // clusterfs server
 *     apic_http_new(&(struct apic_http_opts){        // clusterfs agent
 *         .server = "https://10.0.0.1:6443", .ca_file = "ca.crt",
 *         .token = "..."}, &c, &e);
 *     apic_get(c, KIND_POD, "default", "web-1", &o, &e);
 *
 * One small interface with two implementations, so that the local agent
 * of `clusterfs server` and a remote `clusterfs agent` run the same code:
 *
 *   - apic_local_new(): thin calls into engine/api; objects are the
 *     store's own snapshots (no copy), events go to api_event's recorder.
 *   - apic_http_new(): libcurl against the Kubernetes-shaped HTTP API
 *     (docs/http-api.md): one connection pool, timeouts, JSON bodies.
 *     Objects are built from the answers (rv = metadata.resourceVersion,
 *     the store's revision).  A server that cannot be reached is
 *     -ENOTCONN, never a crash or an exit: callers retry later.
 *
 * Only what the runtime needs is here; controllers and faces use api.h.
 * Errors are negative errnos as api.h's (ENOENT, EEXIST, EBUSY, EINVAL,
 * EPERM, ESTALE), plus ENOTCONN (no answer from the server) and ENOTSUP
 * (a local-only operation on a remote client).  Objects returned are
 * frozen struct sobj (engine/sobj.h): never modify them.
 *
 * Thread-safe.
 */
#ifndef CFS_APIC_H
#define CFS_APIC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "engine/api/api.h"
#include "engine/api/api_exec.h"
#include "engine/err.h"

struct apic;

/* In-process: a (borrowed) api that must outlive the client.  Can't fail. */
struct apic *apic_local_new(struct api *a);

/* Over HTTP(S).  Strings are copied. */
struct apic_http_opts {
	/* "https://HOST:PORT" (http:// for tests), or several, comma-separated
	 * (servers of one cluster): a request that gets no answer (no
	 * connection, a timeout) is sent to the next one, and requests keep
	 * going there; a watch stream that breaks reconnects to the next one.
	 * A request that timed out may have been applied by the first. */
	const char *server;
	const char *ca_file; /* PEM CA bundle to verify the server; NULL: system's */
	const char *token;   /* bearer token; NULL: none */
	int timeout_ms;	     /* per request; <= 0: 15000 */
};
int apic_http_new(const struct apic_http_opts *o, struct apic **out, struct err **e);

/* Frees the client (waits for queued events of an HTTP client briefly).  NULL ok. */
void apic_free(struct apic *c);

/* "local", or the server's URL. */
const char *apic_name(const struct apic *c);

/*
 * Reading.  apic_get: 0 and *out (caller unrefs), -ENOENT when absent, or
 * another negative errno (-ENOTCONN: the server did not answer) with *e.
 * Never take an error for "gone".
 */
int apic_get(struct apic *c, const struct kind_info *k, const char *ns, const char *name,
	     struct sobj **out, struct err **e);

/*
 * Objects of kind k in ns (NULL: all namespaces) matching a label selector
 * (api_list's syntax; NULL: all) and a field selector (NULL: all): terms
 * "path=value" or "path!=value" joined by commas, path a dotted field of
 * the object ("spec.nodeName=node-1", "metadata.name", "status.phase").
 * Returns the count (free with sobj_list_free), or a negative errno.
 */
struct apic_sel {
	const char *ns;
	const char *labels;
	const char *fields;
};
int apic_list(struct apic *c, const struct kind_info *k, const struct apic_sel *sel,
	      struct sobj ***out, struct err **e);

/* True when obj matches a field selector in apic_list's syntax (NULL: all). */
bool apic_fields_match(const json_t *obj, const char *fields);

/*
 * Writing, as api.h's calls of the same names do.  The batches return the
 * count of items that succeeded (results[i] gets each item's 0 or negative
 * errno), or a negative errno when nothing could be tried.  Over HTTP a
 * batch is one request per item.
 */
int apic_create_many(struct apic *c, json_t *const *objs, size_t n, int *results);
/* Read-modify-write of one object (api_patch); over HTTP GET, mutate, PUT
 * with the resourceVersion read, again on a conflict.  apic_patch and
 * apic_update_status return 1 when they wrote, 0 when nothing changed. */
int apic_patch(struct apic *c, const struct kind_info *k, const char *ns, const char *name,
	       api_mutate_fn mutate, void *arg, struct err **e);
int apic_update_status(struct apic *c, const struct kind_info *k, const char *ns, const char *name,
		       const json_t *status, struct err **e);
int apic_status_many(struct apic *c, const struct api_status *s, size_t n, int *results);
int apic_delete_many(struct apic *c, const struct api_ref *r, size_t n, int grace, int *results);

/*
 * Records an Event about an object, as api_event(): asynchronous, best
 * effort, a repeat bumps count and lastTimestamp.  Never blocks on the
 * server.
 */
void apic_event(struct apic *c, const char *type, const char *reason, const char *kind,
		const char *ns, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

/*
 * Watching, for the informer (informer.h).  A watch follows the kinds
 * named (nkinds 0: every kind) from the moment apic_watch_open()
 * returns; pods only those matching pod_fields ("spec.nodeName=NODE";
 * NULL: all).  apic_watch_open: 0, or -ENOTCONN and the like (retry).
 * apic_watch_next: the count of events (free with store_events_free),
 * 0 when none came within timeout_ms, or -ERANGE when changes may have
 * been missed (history compacted, the stream lost and not resumable):
 * the caller must then re-read what it follows; the watch goes on by
 * itself from a point before that re-read.  Events of one kind come in
 * revision order; a watched server that goes away is reconnected with
 * back-off, resuming where it stopped.  One thread per watch.
 */
struct apic_watch_spec {
	const struct kind_info *const *kinds;
	size_t nkinds;
	const char *pod_fields;
};
struct apic_watch;
int apic_watch_open(struct apic *c, const struct apic_watch_spec *sp, struct apic_watch **out,
		    struct err **e);
int apic_watch_next(struct apic_watch *w, struct store_event *evs, size_t max, int timeout_ms);
void apic_watch_close(struct apic_watch *w); /* NULL ok */

/*
 * Resource metrics: reports the usage of node and of the pods it runs
 * (api_metrics.h's report, borrowed), as api_metrics_report does: locally
 * that call; over HTTP a POST of the report to
 * /apis/metrics.k8s.io/v1beta1/nodes/NODE/report with the client's
 * credential (a node may report only itself and its pods).  0, or a
 * negative errno with *e.
 */
int apic_metrics_report(struct apic *c, const char *node, const json_t *report, struct err **e);

/*
 * Local only: registers the node's exec/port-forward/logs provider with
 * the API (api_exec.h).  A remote client answers -ENOTSUP with *e: a
 * remote agent serves them on its own endpoint instead
 * (runtime/kubelet/kserver.h), which the server reaches through
 * engine/client/kubelet_client.h.
 */
int apic_exec_register(struct apic *c, const char *node, const struct api_exec_provider *p,
		       void *arg, struct err **e);
void apic_exec_unregister(struct apic *c, const char *node);

#endif
