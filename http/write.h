/*
 * write.h - what write.c and write_sub.c share (the write verbs' common
 * steps): reading a request body, answering a refusal (recorded by
 * api_refused, so that it shows in /cluster/errors too), checking unknown
 * fields, and the object as served.  Not used outside http/write*.c.
 */
#ifndef CFS_HTTP_WRITE_H
#define CFS_HTTP_WRITE_H

#include <jansson.h>
#include <stdbool.h>

#include "engine/err.h"
#include "http/http_int.h"

/* Answers the Status st (stolen) and records the refusal with errno err. */
void wr_refuse(struct http_req *rq, struct http_resp *rs, int err, json_t *st);
/* wr_refuse of a Status built from code, reason and a printf message. */
void wr_fail(struct http_req *rq, struct http_resp *rs, int err, int code, const char *reason,
	     const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* wr_refuse of an engine error about the route's kind and name (422 with
 * field causes for EINVAL). */
void wr_fail_err(struct http_req *rq, struct http_resp *rs, const struct err *e, const char *name);

/*
 * Decodes the request body (JSON or YAML by Content-Type; none: JSON) into
 * one mapping: *out a new reference.  ctypes (NULL: JSON and YAML) lists
 * the media types accepted besides.  On failure answers (400 malformed,
 * 415 other media types, 413 too large) and returns -1.
 */
int wr_body(struct http_req *rq, struct http_resp *rs, const char *const *ctypes, json_t **out);

/* The body's media type, less parameters, in out (empty: none). */
void wr_ctype(struct http_req *rq, char out[96]);

/* True when the query asks for a dry run (dryRun=All). */
bool wr_dry_run(struct http_req *rq);

/* obj (borrowed) with apiVersion and kind set, as a new reference. */
json_t *wr_typed(const struct kind_info *k, const json_t *obj);

/* The autoscaling/v1 Scale of a Deployment or ReplicaSet (a new reference):
 * its metadata, spec.replicas, status.replicas and status.selector as a
 * label selector string.  For scale's GET, PUT and PATCH alike. */
json_t *wr_scale_of(const json_t *obj);

#endif
