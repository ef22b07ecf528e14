/*
 * container.h - a pod's containers as pods/NAME/containers/ shows them:
 * their names, their entries in the pod's status, and the text of
 * containers/C/status and containers/C/restarts.
 *
 *     $ ls /cluster/pods/web-x2bqz/containers
 *     init-db  web
 *     $ cat /cluster/pods/web-x2bqz/containers/web/status
 *     state: waiting: CrashLoopBackOff: back-off 20s restarting failed container=web pod=web-x2bqz
 *     ready: false
 *     restarts: 3
 *     last: terminated: Error (exit code 1)
 *     image: busybox:latest
 *
 * The status text is one "key: value" a line, always the same five keys
 * in the same order, so that `grep '^state: running'` and `sed -n
 * 's/^restarts: //p'` work:
 *
 *     state: running [since TIME]
 *          | waiting[: REASON][: MESSAGE]
 *          | terminated[: REASON] (exit code N)[: MESSAGE]
 *          | unknown                  (no status reported for it yet)
 *     ready: true | false
 *     restarts: N
 *     last: the same forms as state, for lastState; "none" if empty
 *     image: the image it runs (status.image, else the spec's)
 *
 * Messages are made one line (newlines and tabs become spaces).
 *
 * Pure functions of a Pod object (borrowed, never changed); thread-safe.
 */
#ifndef CFS_CONTAINER_H
#define CFS_CONTAINER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "engine/mem.h"

/* The i-th container's name, spec.initContainers first, then
 * spec.containers; NULL past the last. */
const char *container_name_at(const json_t *pod, size_t i);

/* The name of spec.containers[0] (what pods/NAME/logs shows), or NULL. */
const char *container_first(const json_t *pod);

/* True when name is one of pod's containers (init or not). */
bool container_exists(const json_t *pod, const char *name);

/* name's entry of status.initContainerStatuses or status.containerStatuses,
 * or NULL. */
const json_t *container_status(const json_t *pod, const char *name);

/* Appends containers/NAME/status (the format above) to out.  Can't fail. */
void container_render_status(const json_t *pod, const char *name, struct buf *out);

/* Appends containers/NAME/restarts: restartCount and a newline ("0" when
 * unreported).  Can't fail. */
void container_render_restarts(const json_t *pod, const char *name, struct buf *out);

#endif
