/*
 * image_refs.c - refs.json, the store's table of references (image.h):
 *
 *     {"docker.io/library/busybox:1.36": {"digest": "sha256:1e45...",
 *       "origin": "imported", "added": 1796000000, "last_used": 1796000300}}
 *
 * origin is "pulled" (from a registry) or "imported" (from a file); added
 * is when the reference was last set (Unix seconds), last_used when a pod
 * last started a container of it or was seen using it (absent: never).
 * The first format, "REF": "sha256:...", is still read: such a reference
 * counts as imported, added and last used at time 0 (the oldest of all);
 * it is written in the new form at the next change of refs.json.
 *
 * Every change is a read-modify-write under the store's mutex and the
 * flock on refs.lock (the CLI and a server may share a store), written to
 * a temporary file, synced and renamed into place.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "engine/mem.h"
#include "engine/obj.h"
#include "runtime/image/image.h"
#include "runtime/image/image_int.h"
#include "runtime/sys.h"

#define ORIGIN_PULLED	"pulled"
#define ORIGIN_IMPORTED "imported"

const char *image_ref_digest(json_t *v)
{
	const char *d = json_is_object(v) ? json_string_value(json_object_get(v, "digest"))
					  : json_string_value(v);
	if (!d || strncmp(d, "sha256:", 7) || !is_hex64(d + 7))
		return NULL;
	return d;
}

int image_ref_record(json_t *v, struct image_record *out)
{
	const char *d = image_ref_digest(v);
	memset(out, 0, sizeof(*out));
	if (!d)
		return -1;
	snprintf(out->digest, sizeof(out->digest), "%s", d);
	out->origin = IMAGE_IMPORTED;
	if (!json_is_object(v))
		return 0;
	const char *o = json_string_value(json_object_get(v, "origin"));
	if (o && !strcmp(o, ORIGIN_PULLED))
		out->origin = IMAGE_PULLED;
	out->added = json_integer_value(json_object_get(v, "added"));
	out->last_used = json_integer_value(json_object_get(v, "last_used"));
	return 0;
}

json_t *image_refs_find(json_t *refs, const char *name, const char **key)
{
	json_t *v = json_object_get(refs, name);
	const char *at = strchr(name, '@');
	if (key)
		*key = name;
	if (v || !at)
		return v;
	const char *k;
	size_t rl = at - name;
	json_object_foreach(refs, k, v)
	{
		const char *d = image_ref_digest(v);
		if (!strncmp(k, name, rl) && k[rl] == ':' && d && !strcmp(d, at + 1)) {
			if (key)
				*key = k;
			return v;
		}
	}
	return NULL;
}

int image_refs_read(struct image_store *s, json_t **out, struct err **e)
{
	if (access(s->refs, F_OK) < 0 && errno == ENOENT) {
		*out = json_object();
		return 0;
	}
	json_error_t je;
	*out = json_load_file(s->refs, 0, &je);
	if (!*out)
		return err_make(e, errno == ENOENT || errno == EACCES ? errno : EINVAL,
				"%s: line %d: %s", s->refs, je.line, je.text);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return err_make(e, EINVAL, "%s: not a JSON object", s->refs);
	}
	return 0;
}

/* refs.json changed by fn (which returns < 0 to fail, 0 when it changed
 * nothing: nothing written, 1 when it did), under the mutex and refs.lock. */
static int refs_update(struct image_store *s, int (*fn)(json_t *, void *, struct err **), void *arg,
		       struct err **e)
{
	pthread_mutex_lock(&s->mu);
	int r = 0;
	_cleanup_fd_ int lock = open(s->lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	_cleanup_json_ json_t *refs = NULL;
	_cleanup_free_ char *tmp = image_tmp_name(s->refs);
	if (lock < 0 || flock(lock, LOCK_EX) < 0) {
		r = err_make(e, errno, "%s: %s", s->lock, strerror(errno));
		goto out;
	}
	if ((r = image_refs_read(s, &refs, e)) < 0 || (r = fn(refs, arg, e)) <= 0)
		goto out;
	r = 0;
	errno = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || json_dumpfd(refs, fd, JSON_INDENT(2) | JSON_SORT_KEYS) < 0 ||
	    write(fd, "\n", 1) != 1 || fsync(fd) < 0 || rename(tmp, s->refs) < 0) {
		r = err_make(e, errno ? errno : EIO, "%s: %s", s->refs,
			     strerror(errno ? errno : EIO));
		unlink(tmp);
	}
	if (fd >= 0)
		close(fd);
out:
	pthread_mutex_unlock(&s->mu);
	return r;
}

struct set_arg {
	const char *ref, *digest;
	enum image_origin origin;
};

static int set_fn(json_t *refs, void *arg, struct err **e)
{
	struct set_arg *a = arg;
	json_t *old = json_object_get(refs, a->ref);
	if (!a->digest) {
		if (json_object_del(refs, a->ref) < 0)
			return err_make(e, ENOENT, "image %s: no such image", a->ref);
		return 1;
	}
	json_t *v = json_pack("{s:s, s:s, s:I}", "digest", a->digest, "origin",
			      a->origin == IMAGE_PULLED ? ORIGIN_PULLED : ORIGIN_IMPORTED, "added",
			      (json_int_t)time(NULL));
	json_t *lu = json_object_get(old, "last_used");
	if (json_is_integer(lu))
		json_object_set(v, "last_used", lu);
	json_object_set_new(refs, a->ref, v);
	return 1;
}

int image_refs_set(struct image_store *s, const char *ref, const char *digest,
		   enum image_origin origin, struct err **e)
{
	struct set_arg a = {ref, digest, origin};
	return refs_update(s, set_fn, &a, e);
}

int image_lookup(struct image_store *s, const char *ref, struct image_record *out, struct err **e)
{
	char name[IMAGE_REF_MAX];
	_cleanup_json_ json_t *refs = NULL;
	int r;
	if ((r = image_normalize(ref, name, sizeof(name), e)) < 0 ||
	    (r = image_refs_read(s, &refs, e)) < 0)
		return err_wrap(e, "image %s", ref);
	if (image_ref_record(image_refs_find(refs, name, NULL), out) < 0)
		return err_make(e, ENOENT, "image %s: not in the store", name);
	return 0;
}

struct touch_arg {
	const char *const *refs;
	size_t n;
	int64_t now;
};

static int touch_fn(json_t *refs, void *arg, struct err **e)
{
	(void)e;
	struct touch_arg *a = arg;
	int changed = 0;
	for (size_t i = 0; i < a->n; i++) {
		char name[IMAGE_REF_MAX];
		const char *key;
		if (image_normalize(a->refs[i], name, sizeof(name), NULL) < 0)
			continue;
		json_t *v = image_refs_find(refs, name, &key);
		struct image_record rec;
		if (image_ref_record(v, &rec) < 0 || rec.last_used >= a->now)
			continue;
		if (!json_is_object(v)) { /* the first format: made an object */
			char k[IMAGE_REF_MAX];
			snprintf(k, sizeof(k), "%s", key);
			v = json_pack("{s:s, s:s, s:I}", "digest", rec.digest, "origin",
				      ORIGIN_IMPORTED, "added", (json_int_t)0);
			json_object_set_new(refs, k, v);
		}
		json_object_set_new(v, "last_used", json_integer(a->now));
		changed = 1;
	}
	return changed;
}

int image_touch(struct image_store *s, const char *const *refs, size_t n, int64_t now,
		struct err **e)
{
	struct touch_arg a = {refs, n, now ? now : (int64_t)time(NULL)};
	return refs_update(s, touch_fn, &a, e);
}
