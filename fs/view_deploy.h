/*
 * view_deploy.h - the rollout files of a Deployment's folder, for view.c's
 * field table and the streaming reader of fs_stream.c:
 *
 *     $ cat /cluster/deployments/web/revision
 *     3
 *     $ ls /cluster/deployments/web/history
 *     1.yaml  2.yaml  3.yaml
 *     $ echo 1 > /cluster/deployments/web/rollback     # kubectl rollout undo --to-revision=1
 *     $ echo > /cluster/deployments/web/rollback       # kubectl rollout undo
 *     $ cat /cluster/deployments/web/rollout           # kubectl rollout status
 *     Waiting for deployment "web" rollout to finish: 1 out of 4 new replicas have been updated...
 *     ...
 *     deployment "web" successfully rolled out
 *
 * Like view.c: no state, every answer computed from the API when asked.
 * Thread-safe.
 */
#ifndef CFS_VIEW_DEPLOY_H
#define CFS_VIEW_DEPLOY_H

#include <jansson.h>
#include <stdbool.h>

#include "fs/view.h"

/* history/: REV.yaml for each revision the Deployment's ReplicaSets keep. */
void vd_history_list(struct view *v, const struct sobj *o, struct vdir *out);
/* history/REV.yaml: the revision, its ReplicaSet, change cause and pod template. */
void vd_history_render(struct view *v, const struct sobj *o, const char *key, struct buf *out);
/* True when history/KEY exists now. */
bool vd_history_has(struct view *v, const struct sobj *o, const char *key);

/* rollback: reads empty; a write of REV, or of an empty line (echo > rollback),
 * rolls back (a bare truncation, `: > rollback`, does nothing: shells close
 * a dup of the file before writing, which must not apply). */
void vd_rollback_render(struct view *v, const struct sobj *o, const char *key, struct buf *out);
int vd_rollback_write(struct view *v, const struct vpath *p, const char *data, size_t len,
		      struct err **e);

/* rollout: the kubectl rollout status line of now (a snapshot). */
void vd_rollout_render(struct view *v, const struct sobj *o, const char *key, struct buf *out);

/* Where a rollout stands, from the Deployment alone (as kubectl sees it). */
enum vd_rollout {
	VD_ROLLING, /* a "Waiting for ..." line */
	VD_DONE,    /* "deployment "NAME" successfully rolled out" */
	VD_FAILED,  /* the progress deadline passed (the line says so) */
};

/* Appends to out the line kubectl rollout status would print for dep now. */
enum vd_rollout vd_rollout_line(const json_t *dep, struct buf *out);

#endif
