/*
 * image_gc.c - image garbage collection (image_gc.h).
 *
 * As the kubelet computes it: usage = 100 - available * 100 / capacity
 * (statvfs of DATA_DIR/images, available as an unprivileged user sees
 * it); at or past high, the bytes to free are capacity * (100 - low) / 100
 * - available.  Every pass marks the images pods use as used now (their
 * last_used, the kubelet's lastUsed).  The candidates are the references no pod uses
 * (image_uses) that were pulled or imported at least min_age ago, sorted
 * by last use (never used: by when they came), oldest first.  First go
 * the blobs and layers nothing needs any more (those of a manifest whose
 * tag a pull moved), then the candidates, each
 * removed like `clusterfs image rm` and what it freed (its blobs and
 * unpacked layers that nothing else needs) counted, until the bytes to
 * free are reached.
 */
#include "runtime/image/image_gc.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "runtime/image/image_int.h"

int64_t image_gc_capacity_for_test = -1, image_gc_available_for_test;

int image_gc_opts_add(struct image_gc_conf *c, int opt, const char *arg)
{
	if (opt != IMAGE_GC_OPT_HIGH && opt != IMAGE_GC_OPT_LOW)
		return 0;
	char *end;
	long v = strtol(arg, &end, 10);
	if (*end || end == arg || v < 0 || v > 100) {
		fprintf(stderr,
			"clusterfs: --image-gc-%s-threshold: a percentage, 0 to 100, got "
			"\"%s\"\n",
			opt == IMAGE_GC_OPT_HIGH ? "high" : "low", arg);
		return -1;
	}
	/* 0 means "the default" in the struct: a 0 given is kept as -1 */
	*(opt == IMAGE_GC_OPT_HIGH ? &c->high : &c->low) = v ? (int)v : -1;
	return 1;
}

static int pct(int v, int def)
{
	return v == 0 ? def : v < 0 ? 0 : v;
}

int image_gc_conf_check(const struct image_gc_conf *c, struct err **e)
{
	int high = pct(c->high, IMAGE_GC_HIGH_DEFAULT), low = pct(c->low, IMAGE_GC_LOW_DEFAULT);
	if (low >= high && high < 100)
		return err_make(e, EINVAL,
				"--image-gc-low-threshold (%d) must be less than "
				"--image-gc-high-threshold (%d)",
				low, high);
	return 0;
}

/* The image disk: capacity and available bytes. */
static int disk(struct image_store *s, int64_t *cap, int64_t *avail, struct err **e)
{
	if (image_gc_capacity_for_test >= 0) {
		*cap = image_gc_capacity_for_test;
		*avail = image_gc_available_for_test;
		return 0;
	}
	struct statvfs v;
	if (statvfs(s->root, &v) < 0)
		return err_make(e, errno, "image gc: %s: %s", s->root, strerror(errno));
	*cap = (int64_t)v.f_blocks * (int64_t)v.f_frsize;
	*avail = (int64_t)v.f_bavail * (int64_t)v.f_frsize;
	return 0;
}

struct cand {
	const char *ref; /* borrowed from the refs object */
	struct image_record rec;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	int64_t lx = x->rec.last_used ? x->rec.last_used : x->rec.added;
	int64_t ly = y->rec.last_used ? y->rec.last_used : y->rec.added;
	if (lx != ly)
		return lx < ly ? -1 : 1;
	if (x->rec.added != y->rec.added)
		return x->rec.added < y->rec.added ? -1 : 1;
	return strcmp(x->ref, y->ref);
}

/* The references of refs no use matches, old enough, LRU first, into
 * *out (*n); the names of those in use into in_use (for image_touch). */
static void candidates(json_t *refs, const struct image_use *uses, size_t nu, int64_t min_age,
		       struct cand **out, size_t *n, const char ***in_use, size_t *n_in_use)
{
	int64_t now = time(NULL);
	const char *k;
	json_t *v;
	*out = xcalloc(json_object_size(refs) + 1, sizeof(**out));
	*in_use = xcalloc(json_object_size(refs) + 1, sizeof(char *));
	*n = *n_in_use = 0;
	json_object_foreach(refs, k, v)
	{
		struct image_record rec;
		if (image_ref_record(v, &rec) < 0)
			continue;
		bool used = false;
		for (size_t i = 0; i < nu && !used; i++)
			used = image_use_matches(&uses[i], k, rec.digest);
		if (used)
			(*in_use)[(*n_in_use)++] = k;
		else if (now - rec.added >= min_age)
			(*out)[(*n)++] = (struct cand){k, rec};
	}
	qsort(*out, *n, sizeof(**out), cand_cmp);
}

/* Removes one candidate; the bytes it freed (0 when it was gone already). */
static int64_t remove_one(struct image_store *s, const struct cand *c)
{
	struct err *e = NULL;
	_cleanup_json_ json_t *gone = json_object(), *refs = NULL, *kept = NULL;
	image_closure(s, c->rec.digest, gone);
	if (image_refs_set(s, c->ref, NULL, IMAGE_IMPORTED, &e) < 0 ||
	    image_refs_read(s, &refs, &e) < 0) {
		log_warn("image", "image gc: %s", e->msg);
		err_free(e);
		return 0;
	}
	kept = image_kept(s, refs);
	int64_t layers = 0;
	int64_t blobs = image_drop(s, gone, kept, &layers);
	char when[32] = "never";
	time_t t = (time_t)c->rec.last_used;
	struct tm tm;
	if (t && gmtime_r(&t, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	log_info("image", "image gc: removed %s (%s, %s, last used %s): %lld bytes freed", c->ref,
		 c->rec.digest, c->rec.origin == IMAGE_PULLED ? "pulled" : "imported", when,
		 (long long)(blobs + layers));
	return blobs + layers;
}

/* Seconds since the blob or unpacked layer hex last changed (its ctime:
 * written or renamed into place); -1 when neither is there. */
static int64_t hex_age(struct image_store *s, const char *hex, int64_t now)
{
	_cleanup_free_ char *blob = xasprintf("%s/%s", s->blobs, hex);
	_cleanup_free_ char *layer = xasprintf("%s/%s", s->layers, hex);
	struct stat st;
	int64_t newest = -1;
	if (stat(blob, &st) == 0)
		newest = st.st_ctime;
	if (lstat(layer, &st) == 0 && st.st_ctime > newest)
		newest = st.st_ctime;
	return newest < 0 ? -1 : now - newest;
}

/* Adds to gone the hex names of dir that kept lacks, old enough. */
static void orphans_in(struct image_store *s, const char *dir, json_t *kept, int64_t age,
		       json_t *gone)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int64_t now = time(NULL);
	while (d && (de = readdir(d))) {
		if (strlen(de->d_name) != 64 || !is_hex64(de->d_name) ||
		    json_object_get(kept, de->d_name) || json_object_get(gone, de->d_name))
			continue;
		int64_t a = hex_age(s, de->d_name, now);
		if (a >= age)
			json_object_set_new(gone, de->d_name, json_true());
	}
	if (d)
		closedir(d);
}

/* The blobs and layers that no reference nor running container needs (a
 * tag moved by a pull leaves its old manifest's), changed at least age
 * seconds ago (a pull writes its blobs before it records the reference):
 * removed, their bytes into r->freed. */
static void orphans(struct image_store *s, json_t *refs, int64_t age, struct image_gc_result *r)
{
	_cleanup_json_ json_t *kept = image_kept(s, refs), *gone = json_object();
	orphans_in(s, s->blobs, kept, age, gone);
	orphans_in(s, s->layers, kept, age, gone);
	if (!json_object_size(gone))
		return;
	int64_t layers = 0, blobs = image_drop(s, gone, kept, &layers);
	log_info("image", "image gc: removed %zu blobs and layers no image uses: %lld bytes freed",
		 json_object_size(gone), (long long)(blobs + layers));
	r->freed += blobs + layers;
}

static int64_t age_of(int64_t v)
{
	return v == 0 ? IMAGE_GC_MIN_AGE_S : v < 0 ? 0 : v;
}

/* The candidates removed, LRU first, until r->freed reaches r->wanted. */
static int collect(struct image_store *s, const struct image_gc_conf *c, struct image_gc_result *r,
		   struct err **e)
{
	_cleanup_json_ json_t *refs = NULL;
	struct image_use *uses = NULL;
	size_t nu = 0, n = 0, n_in_use = 0;
	int rc;
	if ((rc = image_refs_read(s, &refs, e)) < 0 || (rc = image_uses(s, &uses, &nu, e)) < 0)
		return rc;
	struct cand *cands;
	const char **in_use;
	candidates(refs, uses, nu, age_of(c->min_age_s), &cands, &n, &in_use, &n_in_use);
	if (n_in_use) /* the kubelet's lastUsed: now, for those in use */
		image_touch(s, in_use, n_in_use, 0, NULL);
	if (r->wanted > 0)
		orphans(s, refs, age_of(c->orphan_age_s), r);
	for (size_t i = 0; i < n && r->freed < r->wanted; i++) {
		r->freed += remove_one(s, &cands[i]);
		r->removed++;
	}
	free(cands);
	free(in_use);
	image_uses_free(uses, nu);
	return 0;
}

int image_gc(struct image_store *s, const struct image_gc_conf *c, struct image_gc_result *out,
	     struct err **e)
{
	struct image_gc_result r = {0};
	int high = pct(c->high, IMAGE_GC_HIGH_DEFAULT), low = pct(c->low, IMAGE_GC_LOW_DEFAULT);
	int rc = disk(s, &r.capacity, &r.available, e);
	if (rc < 0)
		return rc;
	if (r.capacity <= 0) {
		*out = r;
		return 0;
	}
	r.usage = (int)(100 - r.available * 100 / r.capacity);
	if (r.usage < high || high >= 100) {
		*out = r;
		return collect(s, c, &r, e); /* wanted 0: only marks those in use */
	}
	r.wanted = r.capacity * (100 - low) / 100 - r.available;
	log_info("image", "image gc: disk %d%% used (high %d%%): freeing %lld bytes to reach %d%%",
		 r.usage, high, (long long)r.wanted, low);
	rc = collect(s, c, &r, e);
	if (image_gc_capacity_for_test >= 0)
		image_gc_available_for_test += r.freed;
	*out = r;
	if (rc < 0)
		return rc;
	if (r.freed < r.wanted)
		return err_make(e, ENOSPC,
				"Failed to garbage collect required amount of images. Attempted to "
				"free %lld bytes, but only found %lld bytes eligible to free.",
				(long long)r.wanted, (long long)r.freed);
	log_info("image", "Image garbage collection succeeded: %zu images, %lld bytes freed",
		 r.removed, (long long)r.freed);
	return 0;
}
