/*
 * table.h - meta.k8s.io Table responses: what `kubectl get` prints.
 *
 * kubectl asks for a Table in its Accept header
 * ("application/json;as=Table;v=v1;g=meta.k8s.io", then v1beta1, then
 * plain JSON); the server answers the columns Kubernetes' own printers
 * define for each kind (pods: Name Ready Status Restarts Age, and the
 * priority-1 columns -o wide shows: IP Node "Nominated Node" "Readiness
 * Gates"), one row of cells per object, each row carrying the object as
 * ?includeObject asks: Metadata (the default: a PartialObjectMetadata),
 * Object (the whole object) or None.
 *
 * Cells are computed as the apiserver computes them: ages are strings
 * ("5m", "2d3h": Kubernetes' human durations) relative to the `now` given;
 * a pod's STATUS is the reason logic of Kubernetes' printer (Init:1/2,
 * CrashLoopBackOff, Completed, Terminating, ...) and RESTARTS reads
 * "3 (2m ago)" after a restart.  Pure functions of their arguments;
 * thread-safe.
 */
#ifndef CFS_HTTP_TABLE_H
#define CFS_HTTP_TABLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/kind.h"

enum table_include { TABLE_INCLUDE_METADATA, TABLE_INCLUDE_OBJECT, TABLE_INCLUDE_NONE };

/* The Table version an Accept header asks for first ("v1", "v1beta1"),
 * or NULL when it asks for no Table. */
const char *table_accept(const char *accept);

/* ?includeObject= ("None", "Object", "Metadata"; NULL or other: Metadata). */
enum table_include table_include_parse(const char *s);

/* The column definitions of kind k (a new array). */
json_t *table_columns(const struct kind_info *k);

/* One row for obj of kind k at time now (seconds since the epoch). */
json_t *table_row(const struct kind_info *k, const json_t *obj, enum table_include inc,
		  int64_t now);

/* A Table (version "v1" or "v1beta1") of rows (stolen), with column
 * definitions when headers, metadata.resourceVersion rv (NULL: none). */
json_t *table_new(const char *version, const struct kind_info *k, bool headers, const char *rv,
		  json_t *rows);

/* Kubernetes' human duration of secs ("45s", "5m10s", "3h", "2d4h"). */
void table_duration(int64_t secs, char out[32]);

/* "2026-11-26T01:07:11Z" (fractions allowed) as seconds, or -1. */
int64_t table_parse_time(const char *s);

/* A pod's READY ("1/2"), STATUS and RESTARTS cells at time now. */
struct table_pod_cells {
	char ready[32];
	char status[128];
	char restarts[64];
};
void table_pod_cells(const json_t *pod, int64_t now, struct table_pod_cells *out);

#endif
