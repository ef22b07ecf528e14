/*
 * image_int.h - what image.c and image_layer.c share inside the image
 * store; nothing else includes this file (the interface is image.h) but
 * tests/fuzz/fuzz_image.c.
 */
#ifndef CFS_IMAGE_INT_H
#define CFS_IMAGE_INT_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "engine/err.h"
#include "runtime/image/image.h"

/* Lock order: mu, then the flock on refs.lock. */
struct image_store {
	char *root;			/* DATA_DIR/images, a real path (no symlinks) */
	char *blobs;			/* root/blobs/sha256 */
	char *layers;			/* root/layers */
	char *tmp;			/* root/tmp: archives being read */
	char *refs;			/* root/refs.json */
	char *lock;			/* root/refs.lock */
	pthread_mutex_t mu;		/* guards the read-modify-write of refs.json */
	int64_t max_bytes, max_entries; /* what one import may unpack */
};

/* What an import may still unpack (image_layer_unpack charges it). */
struct unpack_budget {
	int64_t bytes, entries;
};

/* True when s is 64 lower-case hex digits (a sha256). */
static inline bool is_hex64(const char *s)
{
	for (int i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[64] == '\0';
}

/* The parsers of image.c that see an image's own JSON, outside it for
 * tests/fuzz/fuzz_image.c.  desc_parse: a descriptor's sha256 hex (hex[65])
 * and size, -EINVAL when it has none.  pick_manifest: the descriptor of
 * index's manifests (borrowed) to import, narrowed by tag (the ref.name
 * annotation; NULL: any), then by platform; -ENOENT or -EINVAL.
 * blob_kind: 'i' (an index), 'm' (a manifest) or 0 for the blob desc
 * names. */
int desc_parse(json_t *desc, char hex[65], int64_t *size, struct err **e);
int pick_manifest(json_t *index, const char *tag, json_t **out, struct err **e);
int blob_kind(json_t *desc, json_t *blob);

/* refs.json (image_refs.c): read (an empty object when absent); one
 * reference set to digest with its origin and the time now or, with digest
 * NULL, removed (-ENOENT when it is not there), under the store's mutex and
 * refs.lock.  image_ref_digest: the digest of an entry of either format,
 * NULL when it has none; image_ref_record: the whole entry (-1: none).
 * image_refs_find: the entry of a normalised name ("repo@sha256:X" also
 * finds a "repo:TAG" whose digest is X), its key in *key (may be NULL). */
int image_refs_read(struct image_store *s, json_t **out, struct err **e);
int image_refs_set(struct image_store *s, const char *ref, const char *digest,
		   enum image_origin origin, struct err **e);
const char *image_ref_digest(json_t *v);
int image_ref_record(json_t *v, struct image_record *out);
json_t *image_refs_find(json_t *refs, const char *name, const char **key);

/* image_use.c: fills each entry's used_by from the uses. */
void image_entries_users(struct image_entry *list, size_t n, const struct image_use *uses,
			 size_t n_uses);

/* image_rm.c: image_kept is the set (hex -> true) of the blobs that the
 * references of refs and the digests pods run (image_uses) need;
 * image_closure adds the blobs of the image whose top blob is digest
 * ("sha256:HEX") to set; image_drop removes each blob of gone that kept
 * lacks, with its unpacked layer and diff_id, and gives the bytes of blobs
 * freed (adding those the layers took on disk to *layer_bytes, if not
 * NULL). */
json_t *image_kept(struct image_store *s, json_t *refs);
void image_closure(struct image_store *s, const char *digest, json_t *set);
int64_t image_drop(struct image_store *s, json_t *gone, json_t *kept, int64_t *layer_bytes);

/* image_import() recording the reference with origin (registry.c: pulled). */
int image_import_origin(struct image_store *s, const char *source, const char *ref,
			enum image_origin origin, struct err **e);

/* A layer's compression, from its media type. */
enum comp { COMP_NONE, COMP_GZIP, COMP_ZSTD, COMP_UNKNOWN };

/* A name for a temporary twin of path that no other thread or process
 * uses: PATH.tmp.PID.N.  The caller frees it. */
char *image_tmp_name(const char *path);
/* rm_rf (runtime/sys.h), a failure logged: the store goes on without it. */
void image_rm_logged(const char *path);

/* Unpacks the OCI archive file into a new directory under s->tmp: *dir,
 * which the caller removes. */
int image_archive_stage(struct image_store *s, const char *file, char **dir, struct err **e);
/* The compression a layer media type says; COMP_UNKNOWN for anything else. */
enum comp image_layer_comp(const char *mt);
/* Makes layers/HEX from the layer blob HEX, unless it is there already,
 * checking that its uncompressed sha256 is diff_id (64 hex digits) and
 * charging what it unpacks to b. */
int image_layer_unpack(struct image_store *s, const char *hex, enum comp comp, const char *diff_id,
		       struct unpack_budget *b, struct err **e);

#endif
