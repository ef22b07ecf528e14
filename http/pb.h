/*
 * pb.h - decoding Kubernetes' protobuf request bodies
 * (application/vnd.kubernetes.protobuf), which kubectl 1.32's typed client
 * sends for `kubectl create namespace`, `kubectl create configmap`, ...
 *
 * A body is the envelope "k8s\0" and a runtime.Unknown message: typeMeta
 * {apiVersion, kind}, raw (the object's own message).  The object is
 * decoded with a field table per message (pb.c) into the JSON Kubernetes
 * would have received.  Only the kinds the tables describe are decoded
 * (ConfigMap, Namespace); a field the tables do not know is refused
 * rather than dropped.  Pure; thread-safe.
 */
#ifndef CFS_HTTP_PB_H
#define CFS_HTTP_PB_H

#include <jansson.h>
#include <stddef.h>

#include "engine/err.h"

/* Decodes body into *out (a new object with apiVersion and kind).  0, or
 * -EINVAL (malformed) or -ENOTSUP (a kind or field not decoded) with *e. */
int pb_decode_object(const char *body, size_t len, json_t **out, struct err **e);

#endif
