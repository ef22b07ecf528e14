/*
 * image.c - the local OCI image store (the contract is in image.h; the
 * archives and layers are image_layer.c).
 *
 * How an import goes:
 *
 *   1. An archive is first unpacked into images/tmp/ (only oci-layout,
 *      index.json and blobs/sha256/HEX are taken from it), so that both
 *      kinds of source go through the same layout reader.
 *   2. The layout's index.json names the manifest: narrowed by the tag
 *      annotation when one was given, then by platform; a nested index
 *      (a multi-arch image) is copied in and searched the same way.
 *   3. Manifest, config and layer blobs are copied into blobs/sha256/
 *      while their sha256 and size are checked; a blob the store already
 *      has is not read again.
 *   4. Each layer not yet in layers/ is unpacked by libarchive into a
 *      private temporary dir, which is then renamed into place.  Entry
 *      names are checked here (no absolute names, no ".."), libarchive
 *      refuses to write through symlinks, and OCI whiteouts become
 *      overlayfs ones.
 *   5. Only then is the reference written to refs.json.
 *
 * A failure at any step leaves the references as they were; the blobs
 * already verified stay (they are correct, and a retry reuses them).
 */
#include "runtime/image/image.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <nettle/base16.h>
#include <nettle/sha2.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "runtime/image/image_int.h"
#include "runtime/sys.h"

#define MT_OCI_INDEX	     "application/vnd.oci.image.index.v1+json"
#define MT_OCI_MANIFEST	     "application/vnd.oci.image.manifest.v1+json"
#define MT_DOCKER_LIST	     "application/vnd.docker.distribution.manifest.list.v2+json"
#define MT_DOCKER_MANIFEST   "application/vnd.docker.distribution.manifest.v2+json"
#define ANNOTATION_REF_NAME  "org.opencontainers.image.ref.name"
#define OVERLAY_OPAQUE_XATTR "trusted.overlay.opaque"
#define WHITEOUT_PREFIX	     ".wh."
#define WHITEOUT_OPAQUE	     ".wh..wh..opq"
#define NESTING_MAX	     4 /* indexes within indexes, at most */
#define COPY_BUF	     (128 * 1024)

static atomic_uint tmp_seq;

/* A name for a temporary twin of path that no other thread or process
 * uses: PATH.tmp.PID.N.  The caller frees it. */
char *image_tmp_name(const char *path)
{
	return xasprintf("%s.tmp.%d.%u", path, (int)getpid(), atomic_fetch_add(&tmp_seq, 1));
}

/* rm_rf (runtime/sys.h), a failure logged: the store goes on without it. */
void image_rm_logged(const char *path)
{
	struct err *e = NULL;
	if (rm_rf(path, &e) < 0)
		log_warn("image", "%s", e->msg);
	err_free(e);
}

/* ---- References ---- */

/* The reference grammar of Docker's distribution/reference, as POSIX EREs:
 * a registry host[:port], a path of lower case components separated by
 * ".", "_", "__" or dashes, a tag. */
#define RE_LABEL "([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
#define RE_COMP	 "[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*"
static const char *const ref_res[] = {
    "^" RE_LABEL "(\\." RE_LABEL ")*(:[0-9]+)?$",
    "^" RE_COMP "(/" RE_COMP ")*$",
    "^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$",
};
enum { RE_DOMAIN, RE_PATH, RE_TAG };
static regex_t ref_re[3];
static pthread_once_t ref_re_once = PTHREAD_ONCE_INIT;

static void ref_re_compile(void)
{
	for (int i = 0; i < 3; i++)
		if (regcomp(&ref_re[i], ref_res[i], REG_EXTENDED | REG_NOSUB))
			abort();
}

static bool ref_match(int which, const char *s)
{
	pthread_once(&ref_re_once, ref_re_compile);
	return regexec(&ref_re[which], s, 0, NULL, 0) == 0;
}

int image_normalize(const char *ref, char *out, size_t n, struct err **e)
{
	size_t len = strlen(ref);
	if (len == 0 || len >= IMAGE_REF_MAX)
		return err_make(e, EINVAL, "image reference '%s': empty or too long", ref);
	_cleanup_free_ char *name = xstrdup(ref);
	const char *digest = NULL, *tag = NULL;
	char *at = strchr(name, '@');
	if (at) {
		*at = '\0';
		digest = at + 1;
		if (strncmp(digest, "sha256:", 7) || !is_hex64(digest + 7))
			return err_make(e, EINVAL, "image reference '%s': bad digest", ref);
	}
	char *slash = strrchr(name, '/');
	char *colon = strrchr(slash ? slash : name, ':');
	if (colon) {
		*colon = '\0';
		tag = colon + 1;
		if (!ref_match(RE_TAG, tag))
			return err_make(e, EINVAL, "image reference '%s': bad tag", ref);
	}

	/* The first component is a registry if it looks like a host. */
	const char *domain = "docker.io", *path = name;
	char *first = strchr(name, '/');
	if (first && (memchr(name, '.', first - name) || memchr(name, ':', first - name) ||
		      (first - name == 9 && !strncmp(name, "localhost", 9)))) {
		*first = '\0';
		domain = strcmp(name, "index.docker.io") ? name : "docker.io";
		path = first + 1;
		if (!ref_match(RE_DOMAIN, name))
			return err_make(e, EINVAL, "image reference '%s': bad registry", ref);
	}
	const char *library = !strcmp(domain, "docker.io") && !strchr(path, '/') ? "library/" : "";
	if (!ref_match(RE_PATH, path))
		return err_make(e, EINVAL,
				"image reference '%s': bad repository name (lower case letters, "
				"digits and . _ - only)",
				ref);
	size_t dlen = strlen(domain);
	if (dlen + 1 + strlen(library) + strlen(path) > 255)
		return err_make(e, EINVAL, "image reference '%s': name too long", ref);

	int w;
	if (digest)
		w = snprintf(out, n, "%s/%s%s@%s", domain, library, path, digest);
	else
		w = snprintf(out, n, "%s/%s%s:%s", domain, library, path, tag ? tag : "latest");
	if (w < 0 || (size_t)w >= n)
		return err_make(e, ENAMETOOLONG, "image reference '%s': no room for it", ref);
	return 0;
}

/* ---- JSON files and blobs ---- */

/* Parses the JSON file at path into *out.  -ENOENT if it is missing,
 * -EINVAL if it is not JSON. */
static int json_read(const char *path, json_t **out, struct err **e)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return err_make(e, errno, "%s: %s", path, strerror(errno));
	json_error_t je;
	*out = json_loadf(f, 0, &je);
	fclose(f);
	if (!*out)
		return err_make(e, EINVAL, "%s: line %d: %s", path, je.line, je.text);
	return 0;
}

/* The hex part of a descriptor's digest into hex, and its size.  Only
 * sha256 is known. */
int desc_parse(json_t *desc, char hex[65], int64_t *size, struct err **e)
{
	const char *d = json_string_value(json_object_get(desc, "digest"));
	json_t *sz = json_object_get(desc, "size");
	if (!json_is_object(desc) || !d || !json_is_integer(sz) || json_integer_value(sz) < 0)
		return err_make(e, EINVAL, "descriptor without a digest or size");
	if (strncmp(d, "sha256:", 7) || !is_hex64(d + 7))
		return err_make(e, EINVAL, "digest '%s': only sha256 is supported", d);
	memcpy(hex, d + 7, 65);
	*size = json_integer_value(sz);
	return 0;
}

/*
 * Copies the blob desc names from the layout at src into the store,
 * checking its sha256 and size on the way (a temporary file renamed into
 * place once it proved right).  A blob already in the store is trusted: it
 * was checked when it came in.  hex gets the digest's hex part.
 */
static int blob_copy(struct image_store *s, const char *src, json_t *desc, char hex[65],
		     struct err **e)
{
	int64_t want;
	int r = desc_parse(desc, hex, &want, e);
	if (r < 0)
		return r;
	_cleanup_free_ char *dst = xasprintf("%s/%s", s->blobs, hex);
	if (access(dst, F_OK) == 0)
		return 0;
	_cleanup_free_ char *from = xasprintf("%s/blobs/sha256/%s", src, hex);
	_cleanup_fd_ int in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return err_make(e, errno, "blob sha256:%s: %s", hex, strerror(errno));
	_cleanup_free_ char *tmp = image_tmp_name(dst);
	_cleanup_fd_ int out = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (out < 0)
		return err_make(e, errno, "%s: %s", tmp, strerror(errno));

	struct sha256_ctx ctx;
	sha256_init(&ctx);
	_cleanup_free_ char *buf = xmalloc(COPY_BUF);
	int64_t got = 0;
	ssize_t n;
	while ((n = read(in, buf, COPY_BUF)) > 0) {
		sha256_update(&ctx, n, (const uint8_t *)buf);
		got += n;
		if (got > want)
			break;
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, n - off);
			if (w < 0) {
				r = err_make(e, errno, "%s: %s", tmp, strerror(errno));
				goto fail;
			}
			off += w;
		}
	}
	if (n < 0) {
		r = err_make(e, errno, "blob sha256:%s: %s", hex, strerror(errno));
		goto fail;
	}
	uint8_t md[SHA256_DIGEST_SIZE];
	char got_hex[65];
	sha256_digest(&ctx, sizeof(md), md);
	base16_encode_update(got_hex, sizeof(md), md);
	got_hex[64] = '\0';
	if (got != want || strcmp(got_hex, hex)) {
		r = err_make(e, EINVAL, "blob sha256:%s is corrupt (%s)", hex,
			     got != want ? "size differs from its descriptor" : "digest mismatch");
		goto fail;
	}
	if (fsync(out) < 0 || rename(tmp, dst) < 0) {
		r = err_make(e, errno, "%s: %s", dst, strerror(errno));
		goto fail;
	}
	return 0;
fail:
	unlink(tmp);
	return r;
}

static int blob_json(struct image_store *s, const char *hex, json_t **out, struct err **e)
{
	_cleanup_free_ char *path = xasprintf("%s/%s", s->blobs, hex);
	int r = json_read(path, out, e);
	if (r == 0 && !json_is_object(*out)) {
		json_decref(*out);
		return err_make(e, EINVAL, "blob sha256:%s: not a JSON object", hex);
	}
	return r;
}

/* ---- Manifests ---- */

/* This machine's architecture, in GOARCH spelling as OCI platforms use. */
static const char *native_arch(void)
{
#if defined(__x86_64__)
	return "amd64";
#elif defined(__aarch64__)
	return "arm64";
#else
	return "unknown";
#endif
}

/*
 * The descriptor (borrowed from index) of the image to take: of those
 * whose ref.name annotation is tag (all when tag is NULL), the only one,
 * or the first for linux/<this arch>, or the only one without a platform.
 */
int pick_manifest(json_t *index, const char *tag, json_t **out, struct err **e)
{
	json_t *list = json_object_get(index, "manifests"), *d, *only = NULL, *bare = NULL;
	size_t i, n = 0, n_bare = 0;
	if (!json_is_array(list))
		return err_make(e, EINVAL, "index without a manifests list");
	json_array_foreach(list, i, d)
	{
		const char *rn = json_string_value(
		    json_object_get(json_object_get(d, "annotations"), ANNOTATION_REF_NAME));
		if (tag && (!rn || strcmp(rn, tag)))
			continue;
		n++;
		only = d;
		json_t *p = json_object_get(d, "platform");
		const char *os = json_string_value(json_object_get(p, "os"));
		const char *arch = json_string_value(json_object_get(p, "architecture"));
		if (!p)
			n_bare++, bare = d;
		else if (os && arch && !strcmp(os, "linux") && !strcmp(arch, native_arch())) {
			*out = d;
			return 0;
		}
	}
	if (n == 1 || n_bare == 1) {
		*out = n == 1 ? only : bare;
		return 0;
	}
	if (n == 0)
		return err_make(e, ENOENT,
				tag ? "no image tagged '%s' in the index" : "empty index%s",
				tag ? tag : "");
	if (n_bare > 1)
		return err_make(e, EINVAL, "%zu images in the index; name one as PATH:TAG", n_bare);
	return err_make(e, ENOENT, "no image for linux/%s in the index", native_arch());
}

/* 'i' for an index, 'm' for a manifest, 0 for anything else: by the
 * descriptor's media type, else the blob's, else the blob's shape. */
int blob_kind(json_t *desc, json_t *blob)
{
	const char *mt = json_string_value(json_object_get(desc, "mediaType"));
	if (!mt)
		mt = json_string_value(json_object_get(blob, "mediaType"));
	if (!mt)
		return json_object_get(blob, "manifests") ? 'i'
		       : json_object_get(blob, "layers")  ? 'm'
							  : 0;
	if (!strcmp(mt, MT_OCI_INDEX) || !strcmp(mt, MT_DOCKER_LIST))
		return 'i';
	return !strcmp(mt, MT_OCI_MANIFEST) || !strcmp(mt, MT_DOCKER_MANIFEST) ? 'm' : 0;
}

/* ---- Import ---- */

/*
 * From the layout dir's index.json down to a manifest: copies each index
 * and the manifest into the store, and gives the manifest in *man, its hex
 * digest in hex, every digest passed (indexes, then the manifest) in
 * passed[*n_passed], and the full name the chosen descriptor is annotated
 * with, if any, in *annotated.
 */
static int find_manifest(struct image_store *s, const char *dir, const char *tag, json_t **man,
			 char hex[65], char passed[][65], int *n_passed, char **annotated,
			 struct err **e)
{
	_cleanup_free_ char *lpath = xasprintf("%s/oci-layout", dir);
	_cleanup_free_ char *ipath = xasprintf("%s/index.json", dir);
	_cleanup_json_ json_t *layout = NULL, *index = NULL;
	json_t *desc;
	int r = json_read(lpath, &layout, e);
	if (r < 0)
		return err_wrap(e, "not an OCI image layout");
	if (!json_is_string(json_object_get(layout, "imageLayoutVersion")))
		return err_make(e, EINVAL, "%s: no imageLayoutVersion", lpath);
	if ((r = json_read(ipath, &index, e)) < 0 || (r = pick_manifest(index, tag, &desc, e)) < 0)
		return r;
	const char *an = json_string_value(
	    json_object_get(json_object_get(desc, "annotations"), ANNOTATION_REF_NAME));
	*annotated = an && strchr(an, '/') ? xstrdup(an) : NULL;
	for (*n_passed = 0; *n_passed <= NESTING_MAX;) {
		json_t *blob;
		if ((r = blob_copy(s, dir, desc, hex, e)) < 0 ||
		    (r = blob_json(s, hex, &blob, e)) < 0)
			return r;
		memcpy(passed[(*n_passed)++], hex, 65);
		int kind = blob_kind(desc, blob);
		json_decref(index);
		index = blob;
		if (kind == 'm') {
			*man = STEAL_POINTER(&index);
			return 0;
		}
		if (kind != 'i')
			return err_make(e, EINVAL,
					"blob sha256:%s: neither a manifest nor an index", hex);
		if ((r = pick_manifest(index, NULL, &desc, e)) < 0)
			return r;
	}
	return err_make(e, EINVAL, "indexes nested more than %d deep", NESTING_MAX);
}

/* Imports the image of the layout dir `dir` (narrowed by tag, may be NULL)
 * as name (NULL: from the ref.name annotation). */
static int import_layout(struct image_store *s, const char *dir, const char *tag, const char *name,
			 enum image_origin origin, struct err **e)
{
	_cleanup_json_ json_t *man = NULL, *conf = NULL;
	_cleanup_free_ char *annotated = NULL;
	char hex[65], chex[65], passed[NESTING_MAX + 1][65], norm[IMAGE_REF_MAX];
	int n_passed, r;
	if ((r = find_manifest(s, dir, tag, &man, hex, passed, &n_passed, &annotated, e)) < 0)
		return r;

	/* The name, checked against the digest it may carry. */
	if (!name && !annotated)
		return err_make(e, EINVAL, "no reference given and none annotated in the index");
	if (!name && (r = image_normalize(annotated, norm, sizeof(norm), e)) < 0)
		return r;
	name = name ? name : norm;
	const char *at = strchr(name, '@');
	bool match = !at;
	for (int d = 0; d < n_passed && !match; d++)
		match = !strcmp(at + 8, passed[d]);
	if (!match)
		return err_make(e, EINVAL, "manifest is sha256:%s, not %s", hex, at + 1);

	/* The config, then the layer blobs, then their unpacking. */
	json_t *layers = json_object_get(man, "layers"), *l;
	json_t *diff_ids;
	size_t i, n = json_array_size(layers);
	if (!json_is_array(layers))
		return err_make(e, EINVAL, "manifest sha256:%s: no layers list", hex);
	if ((r = blob_copy(s, dir, json_object_get(man, "config"), chex, e)) < 0 ||
	    (r = blob_json(s, chex, &conf, e)) < 0)
		return err_wrap(e, "config");
	diff_ids = json_object_get(json_object_get(conf, "rootfs"), "diff_ids");
	if (!json_is_array(diff_ids) || json_array_size(diff_ids) != n)
		return err_make(e, EINVAL, "config sha256:%s: %zu diff_ids for %zu layers", chex,
				json_array_size(diff_ids), n);
	char lhex[65];
	json_array_foreach(layers, i, l)
	{
		const char *mt = json_string_value(json_object_get(l, "mediaType"));
		if (image_layer_comp(mt) == COMP_UNKNOWN)
			return err_make(e, EINVAL, "layer %zu: unsupported media type '%s'", i + 1,
					mt ? mt : "(none)");
		if ((r = blob_copy(s, dir, l, lhex, e)) < 0)
			return r;
	}
	struct unpack_budget budget = {s->max_bytes, s->max_entries};
	json_array_foreach(layers, i, l)
	{
		const char *mt = json_string_value(json_object_get(l, "mediaType"));
		const char *did = json_string_value(json_array_get(diff_ids, i));
		memcpy(lhex, json_string_value(json_object_get(l, "digest")) + 7, 65);
		if (!did || strncmp(did, "sha256:", 7) || !is_hex64(did + 7))
			return err_make(e, EINVAL, "config sha256:%s: diff_id %zu is not a sha256",
					chex, i + 1);
		r = image_layer_unpack(s, lhex, image_layer_comp(mt), did + 7, &budget, e);
		if (r < 0)
			return r;
	}

	char digest[IMAGE_DIGEST_MAX];
	snprintf(digest, sizeof(digest), "sha256:%s", hex);
	if ((r = image_refs_set(s, name, digest, origin, e)) < 0)
		return r;
	log_info("image", "%s: %s %s, layers: %zu", name,
		 origin == IMAGE_PULLED ? "pulled" : "imported", digest, n);
	return 0;
}

int image_import(struct image_store *s, const char *source, const char *ref, struct err **e)
{
	return image_import_origin(s, source, ref, IMAGE_IMPORTED, e);
}

int image_import_origin(struct image_store *s, const char *source, const char *ref,
			enum image_origin origin, struct err **e)
{
	char name[IMAGE_REF_MAX];
	if (ref && image_normalize(ref, name, sizeof(name), e) < 0)
		return err_wrap(e, "image import");
	const char *label = ref ? name : source;
	_cleanup_free_ char *path = xstrdup(source);
	const char *tag = NULL;
	struct stat st;
	if (stat(path, &st) < 0) {
		char *colon = strrchr(path, ':');
		if (!colon || strchr(colon, '/') || (*colon = '\0', stat(path, &st) < 0))
			return err_make(e, ENOENT, "image %s: %s: no such file or directory", label,
					source);
		tag = colon + 1;
	}
	int r;
	if (S_ISDIR(st.st_mode)) {
		r = import_layout(s, path, tag, ref ? name : NULL, origin, e);
	} else if (S_ISREG(st.st_mode)) {
		_cleanup_free_ char *dir = NULL;
		r = image_archive_stage(s, path, &dir, e);
		if (r == 0) {
			r = import_layout(s, dir, tag, ref ? name : NULL, origin, e);
			image_rm_logged(dir);
		}
	} else {
		r = err_make(e, EINVAL, "%s: neither a layout dir nor an archive", source);
	}
	return r < 0 ? err_wrap(e, "image %s", label) : 0;
}

/* ---- Lookup ---- */

/* Bytes of the manifest blob hex and of every blob it names. */
static int64_t manifest_size(struct image_store *s, const char *hex, json_t *man)
{
	struct stat st;
	_cleanup_free_ char *path = xasprintf("%s/%s", s->blobs, hex);
	int64_t size = stat(path, &st) == 0 ? st.st_size : 0;
	size += json_integer_value(json_object_get(json_object_get(man, "config"), "size"));
	json_t *l;
	size_t i;
	json_array_foreach(json_object_get(man, "layers"), i, l)
	{
		size += json_integer_value(json_object_get(l, "size"));
	}
	return size;
}

/* A NULL-terminated copy of the strings of the JSON array a, or NULL when
 * a is not an array. */
static char **strv_from_json(json_t *a)
{
	if (!json_is_array(a))
		return NULL;
	char **v = xcalloc(json_array_size(a) + 1, sizeof(*v));
	size_t i, n = 0;
	json_t *x;
	json_array_foreach(a, i, x)
	{
		if (json_is_string(x))
			v[n++] = xstrdup(json_string_value(x));
	}
	return v;
}

static char *str_from_json(json_t *s)
{
	const char *v = json_string_value(s);
	return v && *v ? xstrdup(v) : NULL;
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

int image_resolve(struct image_store *s, const char *ref, struct image_info **out, struct err **e)
{
	char name[IMAGE_REF_MAX];
	_cleanup_json_ json_t *refs = NULL, *man = NULL, *conf = NULL;
	int r;
	if ((r = image_normalize(ref, name, sizeof(name), e)) < 0 ||
	    (r = image_refs_read(s, &refs, e)) < 0)
		return err_wrap(e, "image %s", ref);
	const char *digest = image_ref_digest(image_refs_find(refs, name, NULL));
	if (!digest)
		return err_make(e, ENOENT, "image %s: not imported", name);
	char chex[65];
	int64_t csize;
	if (strncmp(digest, "sha256:", 7) || !is_hex64(digest + 7))
		return err_make(e, EINVAL, "image %s: bad digest in refs.json", name);
	if ((r = blob_json(s, digest + 7, &man, e)) < 0 ||
	    (r = desc_parse(json_object_get(man, "config"), chex, &csize, e)) < 0 ||
	    (r = blob_json(s, chex, &conf, e)) < 0)
		return err_wrap(e, "image %s", name);

	struct image_info *info = xcalloc(1, sizeof(*info));
	info->ref = xstrdup(name);
	snprintf(info->digest, sizeof(info->digest), "%s", digest);
	json_t *layers = json_object_get(man, "layers"), *l;
	size_t i;
	info->layers = xcalloc(json_array_size(layers) + 1, sizeof(char *));
	json_array_foreach(layers, i, l)
	{
		char hex[65];
		int64_t lsize;
		if ((r = desc_parse(l, hex, &lsize, e)) < 0)
			break;
		info->layers[info->n_layers++] = xasprintf("%s/%s", s->layers, hex);
		if (access(info->layers[i], F_OK) < 0) {
			r = err_make(e, ENOENT, "layer %s is missing; import the image again",
				     info->layers[i]);
			break;
		}
	}
	if (r < 0) {
		image_info_free(info);
		return err_wrap(e, "image %s", name);
	}
	info->size = manifest_size(s, digest + 7, man);
	json_t *c = json_object_get(conf, "config");
	info->os = str_from_json(json_object_get(conf, "os"));
	info->architecture = str_from_json(json_object_get(conf, "architecture"));
	info->entrypoint = strv_from_json(json_object_get(c, "Entrypoint"));
	info->cmd = strv_from_json(json_object_get(c, "Cmd"));
	info->env = strv_from_json(json_object_get(c, "Env"));
	info->working_dir = str_from_json(json_object_get(c, "WorkingDir"));
	info->user = str_from_json(json_object_get(c, "User"));
	*out = info;
	return 0;
}

char *image_info_lowerdir(const struct image_info *info)
{
	struct buf b = {0};
	buf_puts(&b, "");
	for (size_t i = info->n_layers; i > 0; i--)
		buf_printf(&b, "%s%s", i == info->n_layers ? "" : ":", info->layers[i - 1]);
	return buf_steal(&b, NULL);
}

void image_info_free(struct image_info *info)
{
	if (!info)
		return;
	free(info->ref);
	strv_free(info->layers);
	free(info->os);
	free(info->architecture);
	strv_free(info->entrypoint);
	strv_free(info->cmd);
	strv_free(info->env);
	free(info->working_dir);
	free(info->user);
	free(info);
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct image_entry *)a)->ref, ((const struct image_entry *)b)->ref);
}

int image_list(struct image_store *s, struct image_entry **out, size_t *n, struct err **e)
{
	_cleanup_json_ json_t *refs = NULL;
	if (image_refs_read(s, &refs, e) < 0)
		return err_wrap(e, "image list");
	struct image_entry *list = xcalloc(json_object_size(refs) + 1, sizeof(*list));
	size_t k = 0;
	const char *name;
	json_t *v;
	json_object_foreach(refs, name, v)
	{
		struct image_record rec;
		if (image_ref_record(v, &rec) < 0)
			continue;
		const char *d = rec.digest;
		struct image_entry *it = &list[k++];
		it->ref = xstrdup(name);
		it->rec = rec;
		snprintf(it->digest, sizeof(it->digest), "%s", d);
		snprintf(it->short_digest, sizeof(it->short_digest), "%.12s", d + 7);
		_cleanup_json_ json_t *man = NULL;
		it->size = blob_json(s, d + 7, &man, NULL) == 0 ? manifest_size(s, d + 7, man) : -1;
	}
	qsort(list, k, sizeof(*list), entry_cmp);
	struct image_use *uses = NULL;
	size_t nu = 0;
	if (image_uses(s, &uses, &nu, NULL) == 0)
		image_entries_users(list, k, uses, nu);
	image_uses_free(uses, nu);
	*out = list;
	*n = k;
	return 0;
}

void image_list_free(struct image_entry *list, size_t n)
{
	for (size_t i = 0; list && i < n; i++) {
		free(list[i].ref);
		for (size_t j = 0; j < list[i].n_used_by; j++)
			free(list[i].used_by[j]);
		free(list[i].used_by);
	}
	free(list);
}

/* ---- The store ---- */

/* Removes the NAME.tmp.PID.N entries of dir whose process is gone. */
static void sweep_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		const char *t = strstr(de->d_name, ".tmp.");
		if (!t)
			continue;
		long pid = strtol(t + 5, NULL, 10);
		if (pid <= 0 || pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		_cleanup_free_ char *p = xasprintf("%s/%s", dir, de->d_name);
		log_info("image", "%s: removing what a dead import left", p);
		image_rm_logged(p);
	}
	if (d)
		closedir(d);
}

int image_store_open(const char *data_dir, struct image_store **out, struct err **e)
{
	char real[PATH_MAX];
	if (mkdir(data_dir, 0700) < 0 && errno != EEXIST)
		return err_make(e, errno, "image store %s: %s", data_dir, strerror(errno));
	if (!realpath(data_dir, real))
		return err_make(e, errno, "image store %s: %s", data_dir, strerror(errno));
	struct image_store *s = xcalloc(1, sizeof(*s));
	s->root = xasprintf("%s/images", real);
	s->blobs = xasprintf("%s/blobs/sha256", s->root);
	s->layers = xasprintf("%s/layers", s->root);
	s->tmp = xasprintf("%s/tmp", s->root);
	s->refs = xasprintf("%s/refs.json", s->root);
	s->lock = xasprintf("%s/refs.lock", s->root);
	pthread_mutex_init(&s->mu, NULL);
	image_store_set_limits(s, IMAGE_MAX_UNPACKED, IMAGE_MAX_ENTRIES);
	_cleanup_free_ char *blobs = xasprintf("%s/blobs", s->root);
	_cleanup_free_ char *diff_ids = xasprintf("%s/diff_ids", s->root);
	const char *dirs[] = {s->root, blobs, s->blobs, s->layers, s->tmp, diff_ids};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if ((mkdir(dirs[i], i == 0 || i == 4 ? 0700 : 0755) < 0 && errno != EEXIST) ||
		    (i == 0 && chmod(dirs[i], 0700) < 0)) {
			/* the layers: root's alone, whatever the data dir's mode */
			int r = err_make(e, errno, "image store %s: %s", dirs[i], strerror(errno));
			image_store_close(s);
			return r;
		}
	sweep_tmp(s->root);
	sweep_tmp(s->blobs);
	sweep_tmp(s->layers);
	sweep_tmp(s->tmp);
	sweep_tmp(diff_ids);
	*out = s;
	return 0;
}

void image_store_set_limits(struct image_store *s, int64_t max_bytes, int64_t max_entries)
{
	s->max_bytes = max_bytes;
	s->max_entries = max_entries;
}

void image_store_close(struct image_store *s)
{
	if (!s)
		return;
	pthread_mutex_destroy(&s->mu);
	free(s->root);
	free(s->blobs);
	free(s->layers);
	free(s->tmp);
	free(s->refs);
	free(s->lock);
	free(s);
}
