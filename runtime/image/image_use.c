/*
 * image_use.c - which pods use which images (image.h, "Users"): the
 * records DATA_DIR/pods/UID/images that the node agent writes and that
 * `clusterfs image ls|rm` and the image GC read.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "runtime/image/image.h"
#include "runtime/image/image_int.h"

#define USES_FILE     "images"
#define USES_FILE_MAX (256 * 1024)

/* DATA_DIR/pods, from the store's root DATA_DIR/images. */
static char *pods_dir(const struct image_store *s)
{
	size_t n = strlen(s->root) - strlen("/images");
	return xasprintf("%.*s/pods", (int)n, s->root);
}

static bool safe_uid(const char *uid)
{
	if (!uid || !*uid || strlen(uid) > 128 || uid[0] == '.')
		return false;
	return strchr(uid, '/') == NULL;
}

/* The record's JSON text for pod and its images. */
static char *record_text(const char *pod, const char *const *refs, const char *const *digests,
			 size_t n)
{
	_cleanup_json_ json_t *imgs = json_array();
	for (size_t i = 0; i < n; i++) {
		char name[IMAGE_REF_MAX];
		if (!refs[i] || image_normalize(refs[i], name, sizeof(name), NULL) < 0)
			continue;
		json_t *it = json_pack("{s:s}", "ref", name);
		if (digests && digests[i] && *digests[i])
			json_object_set_new(it, "digest", json_string(digests[i]));
		json_array_append_new(imgs, it);
	}
	_cleanup_json_ json_t *rec = json_pack("{s:s, s:O}", "pod", pod, "images", imgs);
	return json_dumps(rec, JSON_SORT_KEYS | JSON_COMPACT);
}

/* The file's text (its first USES_FILE_MAX bytes), or NULL.  The buffer
 * is the file's size: a record is some 200 bytes, and a 256 KiB buffer
 * for each pod's start would be carved from the heap of the thread that
 * asks (glibc serves such sizes from it once a larger block was freed)
 * and leave it fragmented. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "re");
	struct stat st;
	if (!f)
		return NULL;
	size_t want = fstat(fileno(f), &st) == 0 && st.st_size > 0 ? (size_t)st.st_size : 0;
	if (want > USES_FILE_MAX)
		want = USES_FILE_MAX;
	char *buf = xmalloc(want + 1);
	size_t n = fread(buf, 1, want, f);
	fclose(f);
	buf[n] = 0;
	return buf;
}

int image_uses_record(struct image_store *s, const char *uid, const char *pod,
		      const char *const *refs, const char *const *digests, size_t n, struct err **e)
{
	if (!safe_uid(uid))
		return err_make(e, EINVAL, "image uses: bad pod uid");
	_cleanup_free_ char *pods = pods_dir(s);
	_cleanup_free_ char *dir = xasprintf("%s/%s", pods, uid);
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, USES_FILE);
	_cleanup_free_ char *text = record_text(pod, refs, digests, n);
	_cleanup_free_ char *old = slurp(path);
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return err_make(e, ENOENT, "image uses of %s: %s: no such directory", pod, dir);
	if (old && !strcmp(old, text))
		return 0;
	_cleanup_free_ char *tmp = image_tmp_name(path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	size_t len = strlen(text);
	if (fd < 0 || write(fd, text, len) != (ssize_t)len || rename(tmp, path) < 0) {
		int r = err_make(e, errno ? errno : EIO, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
		return r;
	}
	close(fd);
	/* a new or changed record: these images are in use as of now */
	return image_touch(s, refs, n, 0, e);
}

/* Appends the uses the record file of uid holds to *out. */
static void read_record(const char *pods, const char *uid, struct image_use **out, size_t *n,
			size_t *cap)
{
	_cleanup_free_ char *path = xasprintf("%s/%s/%s", pods, uid, USES_FILE);
	_cleanup_free_ char *text = slurp(path);
	_cleanup_json_ json_t *rec = text ? json_loads(text, 0, NULL) : NULL;
	const char *pod = json_string_value(json_object_get(rec, "pod"));
	json_t *it;
	size_t i;
	if (text && !pod)
		log_warn("image", "%s: not an image use record", path);
	if (!pod)
		return;
	json_array_foreach(json_object_get(rec, "images"), i, it)
	{
		const char *ref = json_string_value(json_object_get(it, "ref"));
		const char *d = json_string_value(json_object_get(it, "digest"));
		if (!ref)
			continue;
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			*out = xrealloc(*out, *cap * sizeof(**out));
		}
		struct image_use *u = &(*out)[(*n)++];
		memset(u, 0, sizeof(*u));
		u->uid = xstrdup(uid);
		u->pod = xstrdup(pod);
		u->ref = xstrdup(ref);
		snprintf(u->digest, sizeof(u->digest), "%s", d ? d : "");
	}
}

int image_uses(struct image_store *s, struct image_use **out, size_t *n, struct err **e)
{
	_cleanup_free_ char *pods = pods_dir(s);
	size_t cap = 0;
	*out = NULL;
	*n = 0;
	DIR *d = opendir(pods);
	if (!d)
		return errno == ENOENT ? 0 : err_make(e, errno, "%s: %s", pods, strerror(errno));
	struct dirent *de;
	while ((de = readdir(d)))
		if (safe_uid(de->d_name))
			read_record(pods, de->d_name, out, n, &cap);
	closedir(d);
	return 0;
}

void image_uses_free(struct image_use *u, size_t n)
{
	for (size_t i = 0; u && i < n; i++) {
		free(u[i].uid);
		free(u[i].pod);
		free(u[i].ref);
	}
	free(u);
}

bool image_use_matches(const struct image_use *u, const char *ref, const char *digest)
{
	if (!strcmp(u->ref, ref))
		return true;
	/* the pod names it by digest: "repo@sha256:X" uses "repo:TAG" of X */
	const char *at = strchr(u->ref, '@');
	size_t rl = at ? (size_t)(at - u->ref) : 0;
	return at && digest && !strncmp(ref, u->ref, rl) && ref[rl] == ':' &&
	       !strcmp(at + 1, digest);
}

/* Adds pod to the list *v (*n) unless it is there. */
static void add_pod(char ***v, size_t *n, const char *pod)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i], pod))
			return;
	*v = xrealloc(*v, (*n + 2) * sizeof(**v));
	(*v)[(*n)++] = xstrdup(pod);
	(*v)[*n] = NULL;
}

void image_entries_users(struct image_entry *list, size_t n, const struct image_use *uses,
			 size_t n_uses)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n_uses; j++)
			if (image_use_matches(&uses[j], list[i].ref, list[i].digest))
				add_pod(&list[i].used_by, &list[i].n_used_by, uses[j].pod);
}

int image_users_of(struct image_store *s, const char *ref, char ***pods, size_t *n, struct err **e)
{
	char name[IMAGE_REF_MAX];
	struct image_record rec;
	struct image_use *uses = NULL;
	size_t nu = 0;
	*pods = NULL;
	*n = 0;
	int r;
	if ((r = image_normalize(ref, name, sizeof(name), e)) < 0)
		return r;
	bool known = image_lookup(s, name, &rec, NULL) == 0;
	if ((r = image_uses(s, &uses, &nu, e)) < 0)
		return r;
	for (size_t j = 0; j < nu; j++)
		if (image_use_matches(&uses[j], name, known ? rec.digest : NULL))
			add_pod(pods, n, uses[j].pod);
	image_uses_free(uses, nu);
	return 0;
}
