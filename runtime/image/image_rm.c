/*
 * image_rm.c - removing a reference from the image store, and the blobs
 * and layers that only it used.  See image_remove() in image.h.
 */
#include "runtime/image/image.h"

#include <errno.h>
#include <ftw.h>
#include <jansson.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "runtime/image/image_int.h"

#define DEPTH_MAX 4

/* Adds to set (hex -> true) every blob of the image whose top blob is hex
 * and that the store holds: indexes, manifests, configs, layers. */
static void closure(struct image_store *s, const char *hex, json_t *set, int depth)
{
	if (!is_hex64(hex) || depth > DEPTH_MAX)
		return;
	json_object_set_new(set, hex, json_true());
	_cleanup_free_ char *path = xasprintf("%s/%s", s->blobs, hex);
	_cleanup_json_ json_t *j = json_load_file(path, 0, NULL);
	int kind = blob_kind(NULL, j);
	json_t *list = kind == 'i' ? json_object_get(j, "manifests") : json_object_get(j, "layers");
	json_t *d;
	size_t i;
	char h[65];
	int64_t size;
	if (kind == 'm' && desc_parse(json_object_get(j, "config"), h, &size, NULL) == 0)
		json_object_set_new(set, h, json_true());
	json_array_foreach(list, i, d)
	{
		if (desc_parse(d, h, &size, NULL) < 0)
			continue;
		if (kind == 'i')
			closure(s, h, set, depth + 1);
		else
			json_object_set_new(set, h, json_true());
	}
}

/* Bytes the files under the layer dir take on disk (nftw's callback). */
static _Thread_local int64_t du_sum;
static int du_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)path, (void)flag, (void)f;
	du_sum += (int64_t)st->st_blocks * 512;
	return 0;
}

static int64_t drop(struct image_store *s, const char *hex, int64_t *layer_bytes)
{
	_cleanup_free_ char *blob = xasprintf("%s/%s", s->blobs, hex);
	_cleanup_free_ char *layer = xasprintf("%s/%s", s->layers, hex);
	_cleanup_free_ char *did = xasprintf("%s/diff_ids/%s", s->root, hex);
	struct stat st;
	int64_t freed = stat(blob, &st) == 0 ? st.st_size : 0;
	if (unlink(blob) < 0 && errno != ENOENT)
		log_warn("image", "%s: %s", blob, strerror(errno));
	if (access(layer, F_OK) == 0) {
		du_sum = 0;
		if (layer_bytes && nftw(layer, du_one, 16, FTW_PHYS) == 0)
			*layer_bytes += du_sum;
		image_rm_logged(layer);
	}
	unlink(did);
	return freed;
}

json_t *image_kept(struct image_store *s, json_t *refs)
{
	json_t *kept = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(refs, k, v)
	{
		const char *d = image_ref_digest(v);
		if (d)
			closure(s, d + 7, kept, 0);
	}
	struct image_use *uses = NULL;
	size_t n = 0;
	if (image_uses(s, &uses, &n, NULL) == 0)
		for (size_t i = 0; i < n; i++)
			if (!strncmp(uses[i].digest, "sha256:", 7))
				closure(s, uses[i].digest + 7, kept, 0);
	image_uses_free(uses, n);
	return kept;
}

void image_closure(struct image_store *s, const char *digest, json_t *set)
{
	if (!strncmp(digest, "sha256:", 7))
		closure(s, digest + 7, set, 0);
}

int64_t image_drop(struct image_store *s, json_t *gone, json_t *kept, int64_t *layer_bytes)
{
	int64_t freed = 0;
	const char *k;
	json_t *v;
	json_object_foreach(gone, k, v)
	{
		if (!json_object_get(kept, k))
			freed += drop(s, k, layer_bytes);
	}
	return freed;
}

int image_remove(struct image_store *s, const char *ref, int64_t *freed, struct err **e)
{
	char name[IMAGE_REF_MAX];
	*freed = 0;
	if (image_normalize(ref, name, sizeof(name), e) < 0)
		return err_wrap(e, "image rm");
	_cleanup_json_ json_t *refs = NULL;
	int r = image_refs_read(s, &refs, e);
	if (r < 0)
		return r;
	const char *d0 = image_ref_digest(json_object_get(refs, name));
	if (!d0)
		return err_make(e, ENOENT, "image %s: no such image", name);
	char digest[IMAGE_DIGEST_MAX];
	memcpy(digest, d0, strlen(d0) + 1);
	_cleanup_json_ json_t *gone = json_object(), *kept = NULL;
	closure(s, digest + 7, gone, 0);
	if ((r = image_refs_set(s, name, NULL, IMAGE_IMPORTED, e)) < 0)
		return r;
	/* what the other references and the pods still use stays */
	json_decref(refs);
	refs = NULL;
	if ((r = image_refs_read(s, &refs, e)) < 0)
		return r;
	kept = image_kept(s, refs);
	*freed = image_drop(s, gone, kept, NULL);
	log_info("image", "%s: removed (%s), %lld bytes of blobs freed", name, digest,
		 (long long)*freed);
	return 0;
}
