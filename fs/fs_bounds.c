/*
 * fs_bounds.c - what one caller may hold in the server's memory through
 * the filesystem: editors' scratch files (count and bytes) and open write
 * handles (count, and the bytes their buffers hold), per caller uid and in
 * total.  Past a bound a request is refused, EMFILE for a count and ENOSPC
 * for bytes, with a line in /cluster/errors; the server never allocates
 * for it.  The bounds are in fs_int.h (FS_MAX_*) and docs/security.md.
 *
 * Scratch bytes are charged to the uid that made the file, whoever writes
 * to it later; a write handle's buffer to the uid that opened it.  Each
 * charge is kept with what it was made for (scratch.charged,
 * handle.charged) and given back when that goes away, so the counters
 * never drift.  The lock is a leaf: taken under scratch_lock or a
 * handle's lock, never the other way round.
 */
#include "fs/fs_int.h"

#include <errno.h>
#include <string.h>

struct fs_usage {
	uid_t uid;
	size_t handles, files, bytes;
	struct fs_usage *next;
};

struct fs_bounds {
	pthread_mutex_t lock;
	struct fs_usage *users;
	size_t handles, files, bytes; /* every uid's together */
};

struct fs_bounds *fs_bounds_new(void)
{
	struct fs_bounds *b = xcalloc(1, sizeof(*b));

	pthread_mutex_init(&b->lock, NULL);
	return b;
}

void fs_bounds_free(struct fs_bounds *b)
{
	if (!b)
		return;
	while (b->users) {
		struct fs_usage *u = b->users;
		b->users = u->next;
		free(u);
	}
	pthread_mutex_destroy(&b->lock);
	free(b);
}

static struct fs_usage **usage_find(struct fs_bounds *b, uid_t uid)
{
	struct fs_usage **pp = &b->users;

	while (*pp && (*pp)->uid != uid)
		pp = &(*pp)->next;
	return pp;
}

/* The limit on one counter, per uid and in total, and its errno. */
static const struct {
	size_t per_uid, total;
	int code;
	const char *what;
} limits[] = {
    [FB_HANDLES] = {FS_MAX_WRITE_HANDLES, FS_MAX_WRITE_HANDLES_TOTAL, EMFILE,
		    "files open for writing"},
    [FB_FILES] = {FS_MAX_SCRATCH_FILES, FS_MAX_SCRATCH_FILES_TOTAL, EMFILE, "scratch files"},
    [FB_BYTES] = {FS_MAX_BYTES, FS_MAX_BYTES_TOTAL, ENOSPC,
		  "bytes held in scratch files and unsaved writes"},
};

static size_t *counter(struct fs_usage *u, enum fs_bound what)
{
	return what == FB_HANDLES ? &u->handles : what == FB_FILES ? &u->files : &u->bytes;
}

static size_t *total(struct fs_bounds *b, enum fs_bound what)
{
	return what == FB_HANDLES ? &b->handles : what == FB_FILES ? &b->files : &b->bytes;
}

/* Checks (n > 0) and charges n of what to uid; -EMFILE / -ENOSPC. */
static int charge_locked(struct fs_bounds *b, uid_t uid, enum fs_bound what, size_t n,
			 struct err **e)
{
	struct fs_usage **pp = usage_find(b, uid);
	size_t have = *pp ? *counter(*pp, what) : 0, all = *total(b, what);

	if (have + n > limits[what].per_uid)
		return err_make(e, limits[what].code,
				"uid %u holds %zu %s, the most one user may hold is %zu; close "
				"or remove some",
				(unsigned)uid, have, limits[what].what, limits[what].per_uid);
	if (all + n > limits[what].total)
		return err_make(e, limits[what].code,
				"all users together hold %zu %s, the most the server holds is "
				"%zu; try again later",
				all, limits[what].what, limits[what].total);
	if (!*pp) {
		*pp = xcalloc(1, sizeof(**pp));
		(*pp)->uid = uid;
	}
	*counter(*pp, what) += n;
	*total(b, what) += n;
	return 0;
}

static void release_locked(struct fs_bounds *b, uid_t uid, enum fs_bound what, size_t n)
{
	struct fs_usage **pp = usage_find(b, uid), *u = *pp;

	if (!u)
		return;
	size_t *c = counter(u, what), *t = total(b, what);
	*c -= n < *c ? n : *c;
	*t -= n < *t ? n : *t;
	if (!u->handles && !u->files && !u->bytes) {
		*pp = u->next;
		free(u);
	}
}

int fs_bounds_charge(struct fs_bounds *b, uid_t uid, enum fs_bound what, size_t n, struct err **e)
{
	pthread_mutex_lock(&b->lock);
	int r = charge_locked(b, uid, what, n, e);
	pthread_mutex_unlock(&b->lock);
	return r;
}

void fs_bounds_release(struct fs_bounds *b, uid_t uid, enum fs_bound what, size_t n)
{
	pthread_mutex_lock(&b->lock);
	release_locked(b, uid, what, n);
	pthread_mutex_unlock(&b->lock);
}

int fs_bounds_resize(struct fs_bounds *b, uid_t uid, size_t *charged, size_t n, struct err **e)
{
	int r = 0;

	pthread_mutex_lock(&b->lock);
	if (n > *charged)
		r = charge_locked(b, uid, FB_BYTES, n - *charged, e);
	else
		release_locked(b, uid, FB_BYTES, *charged - n);
	if (r == 0)
		*charged = n;
	pthread_mutex_unlock(&b->lock);
	return r;
}

int fs_bounds_usage(struct fs_bounds *b, uid_t uid, size_t *handles, size_t *files, size_t *bytes)
{
	pthread_mutex_lock(&b->lock);
	struct fs_usage *u = *usage_find(b, uid);
	*handles = u ? u->handles : 0;
	*files = u ? u->files : 0;
	*bytes = u ? u->bytes : 0;
	pthread_mutex_unlock(&b->lock);
	return u != NULL;
}

/* ---- handles ---- */

void fs_handle_attach(struct fs *fs, struct handle *h, uid_t uid)
{
	h->uid = uid;
	h->counted = true;
	pthread_mutex_lock(&h->lock);
	pthread_mutex_lock(&fs->bounds->lock);
	/* what open read in: charged even past the bound, which the next
	 * write then meets */
	struct fs_usage **pp = usage_find(fs->bounds, uid);
	if (*pp && h->data.len) {
		(*pp)->bytes += h->data.len;
		fs->bounds->bytes += h->data.len;
		h->charged = h->data.len;
	}
	pthread_mutex_unlock(&fs->bounds->lock);
	pthread_mutex_unlock(&h->lock);
}

bool fs_handle_admit(fuse_req_t req, struct handle *h, bool writer)
{
	struct fs *fs = fs_of(req);
	struct err *err = NULL;
	uid_t uid = fuse_req_ctx(req)->uid;

	if (!writer || (h->type != H_WRITE && h->type != H_SCRATCH))
		return true;
	int r = fs_bounds_charge(fs->bounds, uid, FB_HANDLES, 1, &err);
	if (r == 0) {
		fs_handle_attach(fs, h, uid);
		return true;
	}
	reply_refusal(req, h->path, &h->vp, err, -r);
	err_free(err);
	handle_free(fs, h);
	return false;
}

void fs_handle_unadmit(struct fs *fs, struct handle *h)
{
	if (!h->counted)
		return;
	fs_bounds_release(fs->bounds, h->uid, FB_HANDLES, 1);
	fs_bounds_release(fs->bounds, h->uid, FB_BYTES, h->charged);
	h->counted = false;
	h->charged = 0;
}
