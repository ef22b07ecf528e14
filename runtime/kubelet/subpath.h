/*
 * subpath.h - a volumeMount's subPath, as the kubelet mounts it.
 *
 * The path is resolved by the kernel without leaving the volume (openat2
 * RESOLVE_BENEATH: a symlink that is absolute or climbs out of it is
 * refused, as the kubelet refuses a subPath outside the volume), so that a
 * link a container wrote in an emptyDir never reaches the host's files;
 * the file or folder found is opened, and that very object bind-mounted
 * at a staging path of the container's attempt, which runc then mounts.  What
 * a subPath shows is fixed when the container starts: a later change of
 * a configMap or secret volume swaps its ..data link, not the file
 * mounted (as in Kubernetes; a restarted container gets the new one).
 *
 * The staging mount lives under the attempt's folder, which
 * pod_container_remove unmounts before removing it.
 */
#ifndef CFS_SUBPATH_H
#define CFS_SUBPATH_H

#include <jansson.h>
#include <stdbool.h>

#include "engine/err.h"

/* Bind-mounts voldir/sub (resolved beneath voldir; its missing folders
 * made when create, as for an emptyDir, owned as voldir is) at target (a
 * file or folder made to match).  0, or < 0 with *e. */
int subpath_mount(const char *voldir, const char *sub, bool create, const char *target,
		  struct err **e);

/* subPathExpr expanded as the kubelet does: $(VAR) from the container's
 * env (a literal value) or extra_env ("K=V": valueFrom, envFrom), $$ as
 * $, an unknown $(VAR) left as it is.  malloc'd. */
char *subpath_expand(const char *expr, const json_t *ctr, const char *const *extra_env);

#endif
