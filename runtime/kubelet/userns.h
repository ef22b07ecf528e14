/*
 * userns.h - user namespaces for pods with `hostUsers: false`: root in
 * the container is not root on the host.
 *
 *     $ cat /var/lib/clusterfs/pods/9f1c2e.../userns
 *     131072
 *     $ cat /proc/4790/uid_map          (a container of that pod)
 *              0     131072      65536
 *
 * Each such pod gets 65536 host ids of its own, from BASE = k * 65536
 * with k >= 1 (as Kubernetes allocates them: the first 65536 ids stay
 * the host's), the lowest k no other pod under PODS holds; the choice is
 * recorded in PODS/UID/userns, so that an agent restart keeps it and
 * never hands it out twice.  Its containers run in a user namespace of
 * their own mapping 0..65535 to BASE.. (uid and gid; oci_spec.userns_base).
 *
 * The image layers are root's on the host, so the rootfs is an overlay of
 * idmapped mounts of them (open_tree + mount_setattr(MOUNT_ATTR_IDMAP),
 * read-only, one per layer under the attempt's dir): a file the image
 * gives to 0 is the container's root's, at no cost but a few system calls
 * per layer, whatever the image's size (no copy, no chown).  The upper
 * layer and the pod's volumes are chowned to BASE.
 */
#ifndef CFS_USERNS_H
#define CFS_USERNS_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/err.h"
#include "runtime/image/image.h"

/* Picks the pod's base and records it in pod_dir/userns (pod_dir is
 * PODS/UID, made already).  0 and *base, or a negative errno (-ENOSPC
 * when every range is taken). */
int userns_alloc(const char *pods_dir, const char *pod_dir, uint32_t *base, struct err **e);

/* The base recorded in pod_dir, or 0 when none (the host's users). */
uint32_t userns_read(const char *pod_dir);

/*
 * Mounts each of info's layers, idmapped to base (host 0 seen as base),
 * read-only, at dir/0, dir/1 ... (dir made here) and returns in *lowerdir
 * the overlay's lowerdir (top-most first, as image_info_lowerdir).  On
 * failure, what was mounted stays for the caller to unmount (everything
 * under dir).  0 or a negative errno.
 */
int userns_mount_layers(const struct image_info *info, uint32_t base, const char *dir,
			char **lowerdir, struct err **e);

/* Where runc, as the container's root, finds a userns container's rootfs:
 * VIEW/rootfs, a bind of the overlay, VIEW (0700) the container root's. */
#define USERNS_VIEW_DIR "/run/clusterfs/userns"

/* Makes view (0700, owned by base) in USERNS_VIEW_DIR (0711) and binds
 * rootfs on view/rootfs.  0 or a negative errno. */
int userns_view(const char *view, const char *rootfs, uint32_t base, struct err **e);

/* Sets sysctls ({"NAME": "VALUE"}, names with dots; oci_sysctls) in the
 * net and ipc namespaces of pid (the pod's pause process), from a child
 * that joins them: a user namespace cannot (those namespaces are the host
 * users').  0 or a negative errno. */
int userns_sysctls(pid_t pid, const json_t *sysctls, struct err **e);

#endif
