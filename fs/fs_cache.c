/*
 * fs_cache.c - what the kernel may cache, and telling it what changed.
 *
 * On SQLite (one server: every change passes through this process), the
 * kernel keeps what has not changed: the attributes and entries of the
 * kind folders, of NAME/ and NAME.yaml and of the files rendered from
 * their object alone (view_cacheable), and those files' pages across
 * opens (fs_file.c: keep_cache).  Everything else is as before: attributes
 * never cached, direct I/O.  On etcd (other servers write too) nothing new
 * is cached.
 *
 * The notifier (an informer on its own thread) follows every change the
 * store commits, whoever made it (a file, the HTTP API, a controller), and
 * invalidates in the kernel the attributes and pages of each inode that
 * shows the changed object: every path of it the kernel holds (NAME.yaml,
 * NAME/, the files inside, through namespaces/default/ too), found by the
 * object's key in the inode table (node_inos_of), and the attributes of
 * its kind folder (its listing too when an object came or went).  A
 * change of a Namespace (its owner and mode show on everything in it)
 * invalidates every inode.  It then publishes the revision it is done
 * with.
 *
 * Ordering: a request that committed a change (a write, a flush, a rename,
 * an unlink...) waits, before it replies, until the notifier is done with
 * the store's revision (fs_settle), so that when close() (or write(), or
 * rename()) returns, no inode the kernel holds shows the old state; and an
 * open waits for the same before it answers, so that a change made by the
 * HTTP API or a controller that returned before the open is seen too.  The
 * notifier only invalidates inodes (attributes and pages): the kernel
 * takes no directory or inode lock for that, only page locks, which a
 * request being answered on another thread (a read) holds; so a request
 * that waits for it (holding its directory's lock in an unlink or rename)
 * cannot deadlock it.  Directory entries of deleted objects are dropped by
 * a second thread (the entry thread): that takes the directory's lock, and
 * no request waits for it.
 *
 * Files open for writing: with atomic O_TRUNC an open with O_TRUNC makes
 * the kernel empty its inode (size 0, pages dropped) for every reader,
 * though nothing is applied before the write (or close).  So with the
 * cache atomic O_TRUNC is off: the kernel sends the truncation as a
 * SETATTR by name, which empties the opener's handle (fs_open_trunc) and
 * answers the object's size, so the kernel keeps the pages.  And while a
 * file is open for writing (node_writers), its attributes are given with
 * no timeout: each read asks again.
 *
 * Races with replies in flight: a reply with attributes (a lookup, a
 * getattr) rendered before a change and installed after its invalidation
 * would stay.  The kernel drops attributes from a reply sent before an
 * invalidation of an inode it has; for an inode it does not have yet (a
 * first lookup in flight), the invalidation fails with ENOENT while the
 * inode's lookup count (taken before rendering) is not zero: the notifier
 * then tries again until it succeeds, or the count is zero, or 100 ms.
 */
#include "fs/fs_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/client/informer.h"
#include "engine/log.h"
#include "fs/node.h"

#define SETTLE_MAX_MS 5000 /* a settle waits at most this long (a warning) */
#define RETRY_MAX_MS  100  /* the notifier retries a failed invalidation so long */

bool fs_okey(const struct vpath *vp, char *out, size_t n)
{
	if (!vp->k)
		return false;
	switch (vp->type) {
	case V_KINDDIR:
		snprintf(out, n, "%s/%s/", vp->k->kind, vp->ns);
		return true;
	case V_OBJYAML:
	case V_OBJDIR:
	case V_FIELD:
		snprintf(out, n, "%s/%s/%s", vp->k->kind, vp->ns, vp->name);
		return true;
	default:
		return false;
	}
}

uint64_t fs_ref_path(struct fs *fs, const char *path)
{
	struct vpath vp;
	char key[600];
	bool keyed = view_parse(path, &vp) == 0 && fs_okey(&vp, key, sizeof(key));
	return node_ref(fs->nodes, path, keyed ? key : NULL);
}

double fs_attr_timeout(const struct fs *fs, const struct resolved *r)
{
	if (r->scratch || r->pending || r->parse_err || r->writing)
		return 0;
	if (r->vp.type == V_ROOT)
		return FIXED_TIMEOUT; /* the mount point's never change */
	if (!fs->cache)
		return 0;
	if (r->vp.type == V_KINDDIR)
		return CACHE_TIMEOUT;
	if (r->vp.k == KIND_NAMESPACE)
		return 0;
	return view_cacheable(&r->vp) ? CACHE_TIMEOUT : 0;
}

double fs_entry_timeout(const struct fs *fs, const struct resolved *r)
{
	if (r->scratch || r->pending || r->parse_err)
		return 0;
	switch (r->vp.type) {
	case V_ROOT:
	case V_ROOTFILE:
	case V_KINDDIR:
		return FIXED_TIMEOUT;
	case V_FIELD:
		if (!r->vp.key[0])
			return FIXED_TIMEOUT;
		return fs->cache && view_cacheable(&r->vp) ? CACHE_TIMEOUT : 0;
	case V_OBJDIR:
		/*
		 * Every operation on an inode re-resolves its path against the
		 * store, so a cached NAME/ entry can never show stale content;
		 * caching it spares path walks a LOOKUP.  Deletions drop it
		 * (the entry thread).  Namespaces are excluded: mkdir must
		 * always reach us.
		 */
		if (r->vp.k == KIND_NAMESPACE)
			return 0;
		return fs->cache ? CACHE_TIMEOUT : OBJDIR_TIMEOUT;
	case V_OBJYAML:
		return fs->cache && view_cacheable(&r->vp) ? CACHE_TIMEOUT : 0;
	default:
		return 0;
	}
}

/* Waiting for the notifier */

static void publish(struct fs *fs, int64_t rev)
{
	pthread_mutex_lock(&fs->cache_lock);
	if (rev > fs->done_rev)
		__atomic_store_n(&fs->done_rev, rev, __ATOMIC_RELEASE);
	if (fs->settlers)
		pthread_cond_broadcast(&fs->cache_cond);
	pthread_mutex_unlock(&fs->cache_lock);
}

void fs_writer(struct fs *fs, struct handle *h, int delta)
{
	if (!fs->cache || !view_cacheable_file(&h->vp) || h->writer == (delta > 0))
		return;
	node_writers(fs->nodes, h->path, delta);
	h->writer = delta > 0;
}

void fs_settle(struct fs *fs)
{
	if (!fs->cache)
		return;
	int64_t want = api_rev(fs->view.api);
	if (__atomic_load_n(&fs->done_rev, __ATOMIC_ACQUIRE) >= want)
		return;
	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += SETTLE_MAX_MS / 1000;
	pthread_mutex_lock(&fs->cache_lock);
	fs->settlers++;
	while (fs->done_rev < want && !fs->cache_stop) {
		if (pthread_cond_timedwait(&fs->cache_cond, &fs->cache_lock, &dl) == ETIMEDOUT) {
			log_warn("fs",
				 "the kernel's cache is not invalidated up to revision %lld "
				 "after %d ms (at %lld); going on",
				 (long long)want, SETTLE_MAX_MS, (long long)fs->done_rev);
			break;
		}
	}
	fs->settlers--;
	pthread_mutex_unlock(&fs->cache_lock);
}

/* The notifier */

static int64_t ms_since(const struct timespec *t0)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Invalidates the attributes (and, off >= 0, the pages) of each inode. */
static void inval_inos(struct fs *fs, const uint64_t *inos, size_t n, off_t off)
{
	struct timespec t0;
	bool timed = false;
	for (size_t i = 0; i < n; i++) {
		int r;
		while ((r = fuse_lowlevel_notify_inval_inode(fs->se, inos[i], off, 0)) == -ENOENT &&
		       node_lookups(fs->nodes, inos[i]) > 0) {
			/* an entry reply in flight: the kernel has no inode yet */
			if (!timed) {
				clock_gettime(CLOCK_MONOTONIC, &t0);
				timed = true;
			}
			if (ms_since(&t0) >= RETRY_MAX_MS)
				break;
			struct timespec nap = {0, 20000};
			nanosleep(&nap, NULL);
		}
	}
}

static void inval_key(struct fs *fs, const char *key, off_t off)
{
	uint64_t *inos;
	size_t n = node_inos_of(fs->nodes, key, &inos);
	inval_inos(fs, inos, n, off);
	free(inos);
}

static void inval_all(struct fs *fs)
{
	uint64_t *inos;
	size_t n = node_all_inos(fs->nodes, &inos);
	inval_inos(fs, inos, n, 0);
	free(inos);
}

/* The folder of o's kind in its namespace, as the fs names it ("" if none). */
static void kind_dir(const struct kind_info *k, const char *ns, bool alias, char *out, size_t n)
{
	if (!k->namespaced)
		snprintf(out, n, "%s", alias ? "" : k->plural);
	else if (!strcmp(ns, "default") && !alias)
		snprintf(out, n, "%s", k->plural);
	else
		snprintf(out, n, "namespaces/%s/%s", ns, k->plural);
}

static void notify_event(void *arg, const struct store_event *ev)
{
	struct fs *fs = arg;
	const struct kind_info *k = kind_by_kind(ev->obj->kind);
	if (fs->cache && !fs->no_inval && k && k->in_fs && fs->se) {
		char key[600];
		if (k == KIND_NAMESPACE) {
			inval_all(fs);
		} else {
			snprintf(key, sizeof(key), "%s/%s/%s", k->kind, ev->obj->ns, ev->obj->name);
			inval_key(fs, key, 0);
			/* the folder's mtime; its listing when a name came or went */
			snprintf(key, sizeof(key), "%s/%s/", k->kind, ev->obj->ns);
			inval_key(fs, key, ev->type == STORE_MODIFIED ? -1 : 0);
		}
	}
	/* A deleted object's cached entries go (the entry thread). */
	if (ev->type == STORE_DELETED && k && k->in_fs && k != KIND_NAMESPACE) {
		for (int alias = 0; alias < 2; alias++) {
			char dir[600], path[900];
			kind_dir(k, ev->obj->ns, alias, dir, sizeof(dir));
			if (!*dir || (alias && strcmp(ev->obj->ns, "default")))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, ev->obj->name);
			fs_queue_inval(fs, path);
			if (fs->cache) {
				snprintf(path, sizeof(path), "%s/%s.yaml", dir, ev->obj->name);
				fs_queue_inval(fs, path);
			}
		}
	}
	publish(fs, ev->rv);
}

/* At start and after a gap: everything may have changed. */
static void notify_resync(void *arg)
{
	struct fs *fs = arg;
	int64_t rev = api_rev(fs->view.api);
	if (fs->cache && !fs->no_inval && fs->se)
		inval_all(fs);
	publish(fs, rev);
}

/* The entry thread */

struct inval {
	char *path;
	struct inval *next;
};

void fs_queue_inval(struct fs *fs, const char *path)
{
	struct inval *i = xcalloc(1, sizeof(*i));
	i->path = xstrdup(path);
	pthread_mutex_lock(&fs->inval_lock);
	i->next = fs->invals;
	fs->invals = i;
	pthread_cond_signal(&fs->inval_cond);
	pthread_mutex_unlock(&fs->inval_lock);
}

/* Sends the entry invalidations of l (and frees it). */
static void send_invals(struct fs *fs, struct inval *l, bool send)
{
	for (struct inval *next; l; l = next) {
		next = l->next;
		const char *name = strrchr(l->path, '/');
		name = name ? name + 1 : l->path;
		char *dir = xstrndup(l->path, (size_t)(name - l->path) - (name > l->path));
		uint64_t parent = node_find(fs->nodes, dir);
		if (send && parent && fs->se)
			fuse_lowlevel_notify_inval_entry(fs->se, parent, name, strlen(name));
		free(dir);
		free(l->path);
		free(l);
	}
}

static void *entry_main(void *arg)
{
	struct fs *fs = arg;
	pthread_mutex_lock(&fs->inval_lock);
	while (!fs->inval_stop) {
		if (!fs->invals) {
			pthread_cond_wait(&fs->inval_cond, &fs->inval_lock);
			continue;
		}
		struct inval *l = fs->invals;
		fs->invals = NULL;
		pthread_mutex_unlock(&fs->inval_lock);
		send_invals(fs, l, true);
		pthread_mutex_lock(&fs->inval_lock);
	}
	pthread_mutex_unlock(&fs->inval_lock);
	return NULL;
}

/* Starting and stopping */

void fs_cache_init(struct fs *fs)
{
	pthread_mutex_init(&fs->cache_lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&fs->cache_cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&fs->inval_lock, NULL);
	pthread_cond_init(&fs->inval_cond, NULL);
	/* CFS_FS_NO_CACHE: as on etcd (benchmarks compare); CFS_TEST_NO_INVAL:
	 * cache but never invalidate (shows that t_cache.sh can fail). */
	fs->cache = !strcmp(api_store_kind(fs->view.api), "sqlite") && !getenv("CFS_FS_NO_CACHE");
	fs->no_inval = getenv("CFS_TEST_NO_INVAL") != NULL;
}

int fs_cache_start(struct fs *fs, struct err **e)
{
	int r = pthread_create(&fs->inval_thread, NULL, entry_main, fs);
	if (r)
		return err_make(e, r, "starting the fs entry thread: %s", strerror(r));
	fs->inval_running = true;
	static const struct informer_ops nops = {notify_resync, notify_event, NULL, 500};
	return informer_start(fs->view.api, "fs-notifier", &nops, fs, &fs->notifier, e);
}

void fs_cache_stop(struct fs *fs)
{
	informer_stop(fs->notifier);
	fs->notifier = NULL;
	pthread_mutex_lock(&fs->cache_lock);
	fs->cache_stop = true;
	pthread_cond_broadcast(&fs->cache_cond);
	pthread_mutex_unlock(&fs->cache_lock);
	if (fs->inval_running) {
		pthread_mutex_lock(&fs->inval_lock);
		fs->inval_stop = true;
		pthread_cond_signal(&fs->inval_cond);
		pthread_mutex_unlock(&fs->inval_lock);
		pthread_join(fs->inval_thread, NULL);
		fs->inval_running = false;
	}
}

void fs_cache_free(struct fs *fs)
{
	pthread_mutex_lock(&fs->inval_lock);
	struct inval *l = fs->invals;
	fs->invals = NULL;
	pthread_mutex_unlock(&fs->inval_lock);
	send_invals(fs, l, false);
	pthread_mutex_destroy(&fs->inval_lock);
	pthread_cond_destroy(&fs->inval_cond);
	pthread_mutex_destroy(&fs->cache_lock);
	pthread_cond_destroy(&fs->cache_cond);
}
