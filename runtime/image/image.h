/*
 * image.h - the node's local store of OCI images.
 *
 *     $ sh scripts/busybox-image.sh /tmp/img
 *     $ clusterfs image import /tmp/img/busybox.tar busybox:1.36
 *     $ clusterfs image ls
 *     REFERENCE                           DIGEST         SIZE
 *     docker.io/library/busybox:1.36      1e4579c772e1   1.0M
 *
 * Images come in as OCI image layouts (a directory with oci-layout,
 * index.json and blobs/) or OCI archives (a tar of such a layout, as
 * `skopeo copy ... oci-archive:` and `podman save --format oci-archive`
 * write them); or from registries (registry.h).  The store lives in
 * DATA_DIR/images/ and owns everything there:
 *
 *     blobs/sha256/HEX   every blob, content-addressed, its digest checked
 *                        as it is copied in
 *     layers/HEX/        each layer blob unpacked once, in overlayfs form
 *                        (whiteouts are 0/0 char devices, opaque dirs carry
 *                        trusted.overlay.opaque=y), shared by every image
 *                        that has it; HEX is the layer blob's digest
 *     diff_ids/HEX       the checked sha256 of layer HEX uncompressed
 *     refs.json          normalised reference -> manifest digest, where
 *                        it came from (pulled or imported), when it was
 *                        set and last used (image_lookup)
 *     refs.lock          flock()ed around refs.json updates, so that the
 *                        CLI and a running server can import together
 *
 * Nothing is ever half-written under a final name: blobs, layers and
 * refs.json are made under NAME.tmp.PID.N and rename()d into place; the
 * leftovers of a dead process are removed by image_store_open().
 * image_remove() and the image GC (image_gc.h) drop the blobs and layers
 * that only the removed images used; blobs left by a tag moved by a pull
 * stay until then.
 *
 * Threads: every function may be called from any thread on the same store.
 * The store's mutex (and refs.lock) guard the read-modify-write of
 * refs.json only; blobs and layers need no lock, since a name, once
 * renamed into place, never changes, and two importers of one layer each
 * unpack into their own temporary dir and the loser drops its copy.
 */
#ifndef CFS_IMAGE_H
#define CFS_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"

/* "sha256:" + 64 hex digits + NUL */
#define IMAGE_DIGEST_MAX 72
/* The longest reference image_normalize() accepts, NUL included. */
#define IMAGE_REF_MAX 512

struct image_store;

/* ---- The store ---- */

/* Opens (creating as needed) the store in DATA_DIR/images/ and removes the
 * temporary files of processes that died while importing.  Returns 0 and
 * *out, or a negative errno with *e when the directories cannot be made. */
int image_store_open(const char *data_dir, struct image_store **out, struct err **e);

/* Frees s.  Imports running on s must have returned.  NULL is fine. */
void image_store_close(struct image_store *s);

/* ---- References ---- */

/* Writes the normalised form of ref into out (n bytes), the way Docker and
 * Kubernetes spell image names:
 *
 *     busybox                        -> docker.io/library/busybox:latest
 *     user/app:v2                    -> docker.io/user/app:v2
 *     registry.k8s.io/busybox:1.27.2 -> registry.k8s.io/busybox:1.27.2
 *     localhost:5000/x               -> localhost:5000/x:latest
 *     busybox@sha256:HEX             -> docker.io/library/busybox@sha256:HEX
 *
 * A first component with a '.' or a ':', or "localhost", is a registry.
 * A reference with a digest keeps the digest and drops any tag.  Returns
 * 0, or -EINVAL for a malformed reference (upper case in the path, a bad
 * tag or digest, empty components) and -ENAMETOOLONG when out is short. */
int image_normalize(const char *ref, char *out, size_t n, struct err **e);

/* ---- Import ---- */

/*
 * What one import may unpack, all of its new layers together: past
 * either, the import fails with -EFBIG before writing more (a tar header
 * declares each file's size, so a gzip bomb is refused at its header).
 * image_store_set_limits() changes them for a store (tests).
 */
#define IMAGE_MAX_UNPACKED (8LL * 1024 * 1024 * 1024) /* bytes of files */
#define IMAGE_MAX_ENTRIES  1000000		      /* tar entries */

void image_store_set_limits(struct image_store *s, int64_t max_bytes, int64_t max_entries);

/*
 * Imports the image at source under the reference ref.  source is an OCI
 * layout directory or an OCI archive file (tar, optionally gzip'ed); a
 * layout holding several images is narrowed with "PATH:TAG", TAG being its
 * org.opencontainers.image.ref.name annotation.  Of an index with several
 * manifests the one for linux and this machine's architecture is taken
 * (or the only one); nested indexes are followed.  ref may be NULL when
 * the chosen manifest's ref.name annotation is a full name ("x/y:tag").
 * If ref has a digest, the manifest must have it.
 *
 * Every blob is copied in and its sha256 and size checked; each layer
 * (tar, tar+gzip or tar+zstd, by media type) is unpacked once, keeping
 * modes (setuid and setgid too, as Docker does), owners (numeric), times,
 * user.* xattrs, symlinks and hard links, and turning OCI whiteouts into
 * overlayfs ones.  Hostile content is neutralised: device nodes are not
 * made, trusted.* and security.* xattrs (file capabilities) are dropped.
 * The sha256 of each uncompressed layer must be the config's
 * rootfs.diff_ids entry; a layer is synced to disk (syncfs) before it is
 * renamed into place.  The reference is recorded only when all of that
 * succeeded; importing a ref again moves it.
 *
 * Fails with -EINVAL for a malformed or corrupt image (digest or diff_id
 * mismatch, an unsupported media type, a layer entry or hard link target
 * that is absolute, has a ".." or goes through a symlink), -EFBIG past the
 * limits above, -ENOENT for a missing source, blob or tag, or the errno of
 * a failed system call; *e names the image.
 */
int image_import(struct image_store *s, const char *source, const char *ref, struct err **e);

/* ---- Lookup ---- */

/* Where a reference came from: a registry (registry_pull, `clusterfs
 * image pull`) or a file (image_import).  A store written before origins
 * were recorded has only imported references. */
enum image_origin { IMAGE_IMPORTED, IMAGE_PULLED };

/* What refs.json holds for one reference. */
struct image_record {
	char digest[IMAGE_DIGEST_MAX]; /* of the manifest */
	enum image_origin origin;
	int64_t added;	   /* Unix seconds it was pulled or imported (0: unknown) */
	int64_t last_used; /* Unix seconds a pod last used it (0: never) */
};

/* The record of ref (normalised first; "name@sha256:X" also finds a tag of
 * name whose manifest is X) without reading the image: 0 and *out, -ENOENT
 * when the store does not have it, -EINVAL for a malformed ref. */
int image_lookup(struct image_store *s, const char *ref, struct image_record *out, struct err **e);

/* Sets the last use of each of the n references (not normalised; those
 * the store lacks are skipped) to now (Unix seconds; 0: the time now),
 * never back in time.  0, or the errno of refs.json's update. */
int image_touch(struct image_store *s, const char *const *refs, size_t n, int64_t now,
		struct err **e);

/* An imported image, as the runtime needs it to build a bundle.  The
 * caller owns it (image_info_free).  String vectors end with NULL; a
 * vector is NULL when the config does not set it. */
struct image_info {
	char *ref;		       /* normalised reference */
	char digest[IMAGE_DIGEST_MAX]; /* of the manifest: "sha256:HEX" */
	char **layers;		       /* n_layers absolute paths of the
					  unpacked layers, base layer
					  first (manifest order) */
	size_t n_layers;
	int64_t size;		 /* bytes of manifest, config and
				    layer blobs */
	char *os, *architecture; /* from the config, or NULL */
	char **entrypoint;	 /* config.Entrypoint */
	char **cmd;		 /* config.Cmd */
	char **env;		 /* config.Env, "K=V" */
	char *working_dir;	 /* config.WorkingDir, or NULL */
	char *user;		 /* config.User, or NULL */
};

/* Looks ref up (normalised first; "name@sha256:X" also finds any tag of
 * name whose manifest is X) and reads its manifest and config.  Returns 0
 * and *out, -ENOENT when ref was never imported (or a layer dir has gone),
 * -EINVAL for a malformed ref or stored blob. */
int image_resolve(struct image_store *s, const char *ref, struct image_info **out, struct err **e);

/* overlayfs wants its lowerdir top layer first: this gives
 * "LAYER_N:...:LAYER_1" for mount(2)'s "lowerdir=" option.  The caller
 * frees it.  Can't fail. */
char *image_info_lowerdir(const struct image_info *info);

void image_info_free(struct image_info *info);

/* One line of `clusterfs image ls`. */
struct image_entry {
	char *ref;		       /* normalised reference */
	char digest[IMAGE_DIGEST_MAX]; /* of the manifest */
	char short_digest[13];	       /* its first 12 hex digits */
	int64_t size;		       /* as image_info.size; -1 when the
					  manifest cannot be read */
	struct image_record rec;       /* origin, added, last_used */
	char **used_by;		       /* "NS/POD" of each pod on the node
					  using it (image_uses), n_used_by */
	size_t n_used_by;
};

/* Lists every reference, sorted by name, into *out (*n entries; the
 * caller frees with image_list_free).  Returns 0, or a negative errno when
 * refs.json cannot be read. */
int image_list(struct image_store *s, struct image_entry **out, size_t *n, struct err **e);

void image_list_free(struct image_entry *list, size_t n);

/* ---- Users ---- */

/*
 * Which pods use which images.  The node agent records each of its pods in
 * DATA_DIR/pods/UID/images, a file that goes with the pod's directory, so
 * that `clusterfs image ls|rm` (the server running or not) and the image
 * GC see the same: {"pod": "NS/NAME", "images": [{"ref": REF, "digest":
 * "sha256:..."}]}, REF normalised, the digest (of the manifest a container
 * of the pod runs) once the image is resolved.  A pod uses a reference of
 * the store when it names it, or names it by digest ("repo@sha256:X" uses
 * "repo:TAG" whose manifest is X); another tag of the same digest is not
 * in use (removing it only untags, as `docker rmi` does).  The digests
 * pods run keep their blobs and layers whatever the references
 * (image_remove, image_gc): a tag moved by a pull does not take the
 * layers from under a running container.
 */
struct image_use {
	char *uid, *pod;	       /* metadata.uid, "NS/NAME" */
	char *ref;		       /* as the pod names it, normalised */
	char digest[IMAGE_DIGEST_MAX]; /* "" before it is resolved */
};

/* Writes the record of pod (uid, "NS/NAME") with its n images (refs not
 * normalised, digests[i] NULL or "" when not known; digests may be NULL),
 * when it differs from the one there, and then marks those images used
 * now (image_touch).  -ENOENT when DATA_DIR/pods/UID does not exist (the
 * record would outlive the pod), else 0 or the errno of the write. */
int image_uses_record(struct image_store *s, const char *uid, const char *pod,
		      const char *const *refs, const char *const *digests, size_t n,
		      struct err **e);

/* Every image use recorded on the node, into *out (*n; free with
 * image_uses_free).  A malformed record is skipped (logged). */
int image_uses(struct image_store *s, struct image_use **out, size_t *n, struct err **e);
void image_uses_free(struct image_use *u, size_t n);

/* True when u is a use of the store's reference ref (normalised) whose
 * manifest is digest (may be NULL), as above. */
bool image_use_matches(const struct image_use *u, const char *ref, const char *digest);

/* The pods ("NS/NAME", each once; NULL-terminated, the caller frees each
 * and the vector) using ref, into *pods (*n). */
int image_users_of(struct image_store *s, const char *ref, char ***pods, size_t *n, struct err **e);

/* ---- Removal ---- */

/* Removes the reference ref and then the blobs, unpacked layers and
 * diff_ids that it used and no other reference uses nor a pod runs (its
 * digest in image_uses: its layers are that container's lower dirs); *freed
 * gets the bytes of blobs removed.  Whether a pod still uses the image is
 * the caller's to check (image_users_of: `clusterfs image rm` refuses it
 * without --force).  An import of the same image
 * running at the same time may lose blobs it had copied in: it then fails
 * and is retried.  Returns 0, -ENOENT for an unknown ref, or the errno of
 * refs.json's update. */
int image_remove(struct image_store *s, const char *ref, int64_t *freed, struct err **e);

#endif
