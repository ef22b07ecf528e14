/*
 * status.h - Kubernetes Status objects: every error the HTTP API answers.
 *
 * Maps the engine's errors (struct err: errno + message) to Kubernetes'
 * HTTP codes and reasons, and builds the Status body:
 *
 *     {"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",
 *      "message":"pods \"web\" not found","reason":"NotFound",
 *      "details":{"name":"web","kind":"pods"},"code":404}
 *
 * The errno mapping (status_of_errno) is the one place that decides it:
 * ENOENT 404 NotFound, EEXIST 409 AlreadyExists, EBUSY/ESTALE 409 Conflict,
 * EINVAL 422 Invalid, EPERM/EACCES 403 Forbidden, EFBIG 413
 * RequestEntityTooLarge, ERANGE 410 Expired (a compacted watch revision),
 * EAGAIN 429 TooManyRequests; anything else 500 InternalError.
 * Pure functions; thread-safe.
 */
#ifndef CFS_HTTP_STATUS_H
#define CFS_HTTP_STATUS_H

#include <jansson.h>

#include "engine/err.h"
#include "engine/kind.h"

/* The HTTP code and Kubernetes reason for a positive errno. */
int status_of_errno(int err, const char **reason);

/* A Failure Status (new reference) with code, reason and message. */
json_t *status_new(int code, const char *reason, const char *msg);

/* Adds details {name, group, kind: the resource's plural} to st; returns st.
 * k or name may be NULL. */
json_t *status_details(json_t *st, const struct kind_info *k, const char *name);

/* A Status for an engine error about kind k / name (either may be NULL). */
json_t *status_from_err(const struct err *e, const struct kind_info *k, const char *name);

/* 404 NotFound: `pods "web" not found`, with details. */
json_t *status_not_found(const struct kind_info *k, const char *name);

/* The code of a Status object (500 if it has none). */
int status_code(const json_t *st);

#endif
