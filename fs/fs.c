/*
 * fs.c - FUSE request handlers.  See fs.h.
 *
 *     $ cp web.yaml /cluster/deployments/
 *     $ echo 5 > /cluster/deployments/web/replicas
 *     $ echo -1 > /cluster/deployments/web/replicas
 *     bash: echo: write error: Invalid argument
 *     $ tail -1 /cluster/errors
 *     2026-11-26T01:40:02Z /cluster/deployments/web/replicas: EINVAL: Deployment "web": ...
 *
 * Every request is answered exactly once.  What the kernel may cache, and
 * how it is told of changes, is fs_cache.c's: on SQLite, the attributes
 * and entries of kind folders, NAME/, NAME.yaml and the files rendered
 * from their object alone stay in the kernel, and so do those files'
 * pages across opens (keep_cache; rendered at read() time, fs_file.c),
 * until a notifier that follows every store event invalidates exactly the
 * inodes of the object that changed; a request that changed something
 * waits for that before it replies, and an open before it answers, so a
 * read that starts after a write returned sees it.  The other files are
 * served with direct I/O from a snapshot taken at open (or, for the
 * feeds, from the live text; for containers' logs, from the real file by
 * pread), their attributes never cached; on etcd, every file is.
 * Listings answer readdirplus (names with attributes: ls -l).
 */
#include "fs/fs_int.h"

#include <errno.h>
#include <fcntl.h>
#include <fuse_lowlevel.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "engine/clock.h"
#include "engine/valid/codec.h"
#include "engine/client/informer.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "fs/feed.h"
#include "fs/node.h"
#include "fs/view.h"

int64_t fs_now_ns(void)
{
	return wall_ns();
}

struct fs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

char *fs_join(const char *dir, const char *name)
{
	return *dir ? xasprintf("%s/%s", dir, name) : xstrdup(name);
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');
	return s ? s + 1 : path;
}

/* Writes data at off into b, zero-filling a gap, growing as needed. */
void fs_buf_write_at(struct buf *b, size_t off, const char *data, size_t size)
{
	if (off > b->len) {
		char *zero = xcalloc(1, off - b->len);
		buf_add(b, zero, off - b->len);
		free(zero);
	}
	size_t over = b->len - off < size ? b->len - off : size;
	if (over)
		memcpy(b->s + off, data, over);
	if (over < size)
		buf_add(b, data + over, size - over);
}

/* Sets b's length to n, zero-filling when it grows. */
void fs_buf_resize(struct buf *b, size_t n)
{
	if (n > b->len) {
		char *zero = xcalloc(1, n - b->len);
		buf_add(b, zero, n - b->len);
		free(zero);
	}
	b->len = n;
	if (b->s)
		b->s[n] = '\0';
}

/* The path of name in the folder parent, or NULL if parent is unknown. */
char *fs_child_path(struct fs *fs, fuse_ino_t parent, const char *name)
{
	char *dir = node_path(fs->nodes, parent);
	if (!dir)
		return NULL;
	char *path = fs_join(dir, name);
	free(dir);
	return path;
}

/* Errors: a line in /cluster/errors and a Warning event */

void fs_report(struct fs *fs, const char *path, const struct vpath *vp, int code, const char *msg)
{
	char *full = xasprintf("%s/%s", fs->mountpoint, path);
	/* When the store can't keep it, this server's errors log still shows
	 * it (feed_keep_refusals). */
	api_refused(fs->view.api, full, code, msg);
	free(full);
	if (vp && vp->k && vp->name[0] && vp->k->in_fs)
		api_event(fs->view.api, "Warning", "FailedWrite", vp->k->kind, vp->ns, vp->name,
			  "%s: %s", path, msg);
	else
		api_event(fs->view.api, "Warning", "FailedWrite", "Namespace", "",
			  vp && vp->ns[0] ? vp->ns : "default", "%s: %s", path, msg);
}

/* Reads while the store can't be synced (fs_int.h) */

int fs_read_sync(struct fs *fs, const char *path, bool reading)
{
	if (!strcmp(api_store_kind(fs->view.api), "sqlite"))
		return 0; /* always the latest */
	struct vpath vp;
	bool own = view_parse(path, &vp) != 0 || vp.type == V_ROOT || vp.type == V_ROOTFILE;
	if (own || !reading) {
		api_sync(fs->view.api, NULL); /* status then says whether it can */
		return 0;
	}
	char *full = xasprintf("%s/%s", fs->mountpoint, path);
	int r = api_read_sync(fs->view.api, API_READ_LATEST, 0, full, NULL);
	free(full);
	return r < 0 ? EIO : 0;
}

int fs_read_sync_ino(struct fs *fs, fuse_ino_t ino, bool reading)
{
	char *path = node_path(fs->nodes, ino);
	if (!path)
		return 0; /* the handler answers ENOENT */
	int r = fs_read_sync(fs, path, reading);
	free(path);
	return r;
}

/* Replies err's errno after reporting it. */
void reply_refusal(fuse_req_t req, const char *path, const struct vpath *vp, struct err *err,
		   int fallback)
{
	int code = err ? err->code : fallback;
	fs_report(fs_of(req), path, vp, code, err ? err->msg : strerror(code));
	fuse_reply_err(req, code);
}

/* Resolving a path to attributes */

int fs_resolve(struct fs *fs, const char *path, struct resolved *r, struct stat *st)
{
	memset(r, 0, sizeof(*r));
	r->parse_err = view_parse(path, &r->vp);
	size_t psize;
	if (r->parse_err == 0 && node_is_pending(fs->nodes, path, &psize)) {
		if (view_stat(&fs->view, &r->vp, st) < 0) {
			memset(st, 0, sizeof(*st));
			st->st_mode = S_IFREG | 0644;
			st->st_nlink = 1;
			st->st_size = (off_t)psize;
			st->st_mtim.tv_sec = time(NULL);
			st->st_ctim = st->st_atim = st->st_mtim;
		}
		fs_perm_stat(fs, &r->vp, st);
		r->pending = true;
		return 0;
	}
	if (r->parse_err == 0 && !(r->vp.type == V_OBJYAML && scratch_shadowed(fs, path))) {
		int e = view_stat(&fs->view, &r->vp, st);
		if (e == 0) {
			fs_perm_stat(fs, &r->vp, st);
			r->writing = fs->cache && node_has_writers(fs->nodes, path);
			return 0;
		}
	}
	if ((r->parse_err == 0 && r->vp.scratch_ok) && scratch_stat(fs, path, st)) {
		r->scratch = true;
		return 0;
	}
	return -ENOENT;
}

/* Replies the entry of ino (referenced by ref_path), or forgets it. */
static void reply_entry(fuse_req_t req, uint64_t ino, const struct resolved *r,
			const struct stat *st)
{
	struct fs *fs = fs_of(req);
	struct fuse_entry_param ep;
	memset(&ep, 0, sizeof(ep));
	ep.ino = ino;
	ep.generation = 1;
	ep.attr = *st;
	ep.attr.st_ino = ep.ino;
	ep.attr_timeout = fs_attr_timeout(fs, r);
	ep.entry_timeout = fs_entry_timeout(fs, r);
	if (fuse_reply_entry(req, &ep) != 0)
		node_forget(fs->nodes, ep.ino, 1);
}

/* Inode operations */

static void fs_init(void *userdata, struct fuse_conn_info *conn)
{
	struct fs *fs = userdata;
	/* With the cache, an O_TRUNC open must not empty the inode for its
	 * readers: it reaches us as a truncation (fs_open_trunc). */
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC && !fs->cache)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	else
		conn->want &= ~(unsigned)FUSE_CAP_ATOMIC_O_TRUNC;
	conn->want &= ~(unsigned)(FUSE_CAP_WRITEBACK_CACHE | FUSE_CAP_AUTO_INVAL_DATA);
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
	/* ls -l: names with their attributes, when the kernel may keep them */
	if (!fs->cache)
		conn->want &= ~(unsigned)(FUSE_CAP_READDIRPLUS | FUSE_CAP_READDIRPLUS_AUTO);
	conn->max_write = 1024 * 1024;
}

static void fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = fs_of(req);
	char *path = fs_child_path(fs, parent, name);
	if (!path) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	struct resolved r;
	struct stat st;
	uint64_t ino = fs_ref_path(fs, path);
	/* not here: maybe written through another server a moment ago */
	int err = 0;
	if (fs_resolve(fs, path, &r, &st) == 0 ||
	    ((err = fs_read_sync(fs, path, true)) == 0 && fs_resolve(fs, path, &r, &st) == 0)) {
		reply_entry(req, ino, &r, &st);
	} else {
		node_forget(fs->nodes, ino, 1);
		fuse_reply_err(req, err ? err : ENOENT);
	}
	free(path);
}

static void fs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	node_forget(fs_of(req)->nodes, ino, nlookup);
	fuse_reply_none(req);
}

static void fs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		node_forget(fs_of(req)->nodes, forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void fs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	char *path = node_path(fs->nodes, ino);
	struct resolved r;
	struct stat st;
	if (path && fs_resolve(fs, path, &r, &st) == 0) {
		st.st_ino = ino;
		fuse_reply_attr(req, &st, fs_attr_timeout(fs, &r));
	} else {
		fuse_reply_err(req, ENOENT);
	}
	free(path);
}

static void fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	char *path = node_path(fs->nodes, ino);
	struct resolved r;
	struct stat st;
	if (!path || fs_resolve(fs, path, &r, &st) < 0) {
		fuse_reply_err(req, ENOENT);
		free(path);
		return;
	}
	struct handle *h = fi ? (struct handle *)(uintptr_t)fi->fh : NULL;
	if (!h && (to_set & FUSE_SET_ATTR_SIZE) && attr->st_size == 0 && fs_open_trunc(req, path)) {
		st.st_ino = ino; /* an open's O_TRUNC (fs_open_trunc): the size is still st's */
		fuse_reply_attr(req, &st, 0);
		free(path);
		return;
	}
	bool done;
	if (!r.scratch && fs_perm_setattr(req, path, &r.vp, attr, to_set, &done) != 0) {
		free(path);
		return;
	}
	if (done)
		fs_settle(fs);
	if (done && fs_resolve(fs, path, &r, &st) < 0) {
		fuse_reply_err(req, ENOENT);
		free(path);
		return;
	}
	if (r.scratch) {
		pthread_mutex_lock(&fs->scratch_lock);
		struct scratch *s = scratch_find(fs, path);
		if (s && (to_set & FUSE_SET_ATTR_SIZE)) {
			size_t n = (size_t)attr->st_size;
			struct err *err = NULL;
			if (n > SCRATCH_MAX || scratch_charge(fs, s, n, &err) < 0) {
				pthread_mutex_unlock(&fs->scratch_lock);
				reply_refusal(req, path, &r.vp, err, EFBIG);
				err_free(err);
				free(path);
				return;
			}
			fs_buf_resize(&s->data, n);
		}
		if (s && (to_set & FUSE_SET_ATTR_MODE))
			s->mode = attr->st_mode & 07777;
		if (s)
			s->mtime_ns = fs_now_ns();
		pthread_mutex_unlock(&fs->scratch_lock);
		scratch_stat(fs, path, &st);
	} else if (to_set & FUSE_SET_ATTR_SIZE) {
		if (h && h->type == H_WRITE) {
			pthread_mutex_lock(&h->lock);
			size_t n = (size_t)attr->st_size;
			if (n > CODEC_MAX_BYTES + 1) {
				h->failed = true;
				pthread_mutex_unlock(&h->lock);
				reply_refusal(req, path, &r.vp, NULL, EFBIG);
				free(path);
				return;
			}
			fs_buf_resize(&h->data, n);
			h->dirty = true;
			h->written = true;
			st.st_size = (off_t)n;
			pthread_mutex_unlock(&h->lock);
		} else if (!view_writable(&r.vp)) {
			struct err *err = NULL;
			err_make(&err, EROFS, "read-only file");
			reply_refusal(req, path, &r.vp, err, EROFS);
			err_free(err);
			free(path);
			return;
		} else if (attr->st_size != 0 || r.vp.type != V_OBJYAML) {
			/* truncate(1) outside an open file: nothing to apply yet */
		}
	}
	/* chmod and chown of namespaces/NS change the namespace's (above);
	 * elsewhere they and utimes are accepted and change nothing: modes
	 * follow the namespace and writability, times follow the object. */
	st.st_ino = ino;
	fuse_reply_attr(req, &st, 0);
	free(path);
}

static void fs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs sv;
	memset(&sv, 0, sizeof(sv));
	sv.f_bsize = 4096;
	sv.f_frsize = 4096;
	sv.f_namemax = 255;
	sv.f_files = 1000000;
	sv.f_ffree = 1000000;
	fuse_reply_statfs(req, &sv);
}

/* Directories */

struct dirh {
	struct vdir d;
};

/*
 * Drops from a listing of dir the NAME.yaml files renamed onto a scratch
 * name (mv NAME.yaml NAME.yaml~, cp --backup, vim): hidden so that a new
 * NAME.yaml can be created in their place (cp --backup creates it with
 * O_EXCL), they must not be listed either, or ls would show a name that
 * stat cannot find.  The object stays as it is, NAME/ too.
 */
static void hide_shadowed(struct fs *fs, const char *dir, struct vdir *d)
{
	size_t kept = 0;
	for (size_t i = 0; i < d->n; i++) {
		char *p = fs_join(dir, d->v[i].name);
		bool hide = S_ISREG(d->v[i].mode) && scratch_shadowed(fs, p);
		free(p);
		if (hide)
			free(d->v[i].name);
		else
			d->v[kept++] = d->v[i];
	}
	d->n = kept;
}

static void opendir_as(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	char *path = node_path(fs->nodes, ino);
	struct resolved r;
	struct stat st;
	if (!path || fs_resolve(fs, path, &r, &st) < 0) {
		fuse_reply_err(req, ENOENT);
		free(path);
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		fuse_reply_err(req, ENOTDIR);
		free(path);
		return;
	}
	struct dirh *dh = xcalloc(1, sizeof(*dh));
	vdir_add(&dh->d, ".", S_IFDIR);
	vdir_add(&dh->d, "..", S_IFDIR);
	int e = view_list(&fs->view, &r.vp, &dh->d);
	if (e < 0) {
		vdir_free(&dh->d);
		free(dh);
		fuse_reply_err(req, -e);
		free(path);
		return;
	}
	hide_shadowed(fs, path, &dh->d);
	/* Scratch files in this folder. */
	size_t plen = strlen(path);
	pthread_mutex_lock(&fs->scratch_lock);
	for (struct scratch *s = fs->scratch; s; s = s->next) {
		const char *b = base_name(s->path);
		if ((size_t)(b - s->path) == (plen ? plen + 1 : 0) && !strncmp(s->path, path, plen))
			vdir_add(&dh->d, b, S_IFREG | s->mode);
	}
	pthread_mutex_unlock(&fs->scratch_lock);
	fi->fh = (uintptr_t)dh;
	fi->cache_readdir = 0;
	fuse_reply_open(req, fi);
	free(path);
}

static uint64_t fake_ino(const char *name, size_t i)
{
	uint64_t h = 1469598103934665603ull ^ i;
	while (*name)
		h = (h ^ (unsigned char)*name++) * 1099511628211ull;
	return (h >> 1) | 1;
}

static void fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	struct dirh *dh = (struct dirh *)(uintptr_t)fi->fh;
	char *buf = xmalloc(size);
	size_t used = 0;
	for (size_t i = (size_t)off; i < dh->d.n; i++) {
		struct stat st = {0};
		st.st_mode = dh->d.v[i].mode;
		st.st_ino = fake_ino(dh->d.v[i].name, i);
		size_t n = fuse_add_direntry(req, buf + used, size - used, dh->d.v[i].name, &st,
					     (off_t)(i + 1));
		if (n > size - used)
			break;
		used += n;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

/* One entry of a readdirplus reply: its attributes, and an inode
 * referenced for it (0: none; the kernel then only lists the name). */
static void plus_entry(struct fs *fs, const char *dir, const struct ventry *v, size_t i,
		       struct fuse_entry_param *ep)
{
	memset(ep, 0, sizeof(*ep));
	ep->attr.st_mode = v->mode;
	ep->attr.st_ino = fake_ino(v->name, i);
	if (!dir || !strcmp(v->name, ".") || !strcmp(v->name, ".."))
		return;
	char *path = fs_join(dir, v->name);
	uint64_t ino = fs_ref_path(fs, path);
	struct resolved r;
	struct stat st;
	if (fs_resolve(fs, path, &r, &st) == 0) {
		ep->ino = ino;
		ep->generation = 1;
		ep->attr = st;
		ep->attr.st_ino = ino;
		ep->attr_timeout = fs_attr_timeout(fs, &r);
		ep->entry_timeout = fs_entry_timeout(fs, &r);
	} else {
		node_forget(fs->nodes, ino, 1);
	}
	free(path);
}

/*
 * readdir with each entry's attributes (ls -l): the kernel keeps them (as
 * a lookup's), so that the stat of every name that follows asks nothing.
 */
static void fs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct dirh *dh = (struct dirh *)(uintptr_t)fi->fh;
	char *dir = node_path(fs->nodes, ino);
	char *buf = xmalloc(size);
	uint64_t *refs = xcalloc(dh->d.n + 1, sizeof(*refs));
	size_t used = 0, nrefs = 0;
	for (size_t i = (size_t)off; i < dh->d.n; i++) {
		struct fuse_entry_param ep;
		plus_entry(fs, dir, &dh->d.v[i], i, &ep);
		size_t n = fuse_add_direntry_plus(req, buf + used, size - used, dh->d.v[i].name,
						  &ep, (off_t)(i + 1));
		if (n > size - used) {
			if (ep.ino)
				node_forget(fs->nodes, ep.ino, 1);
			break;
		}
		used += n;
		if (ep.ino)
			refs[nrefs++] = ep.ino;
	}
	if (fuse_reply_buf(req, buf, used) != 0)
		for (size_t i = 0; i < nrefs; i++)
			node_forget(fs->nodes, refs[i], 1);
	free(refs);
	free(buf);
	free(dir);
}

static void fs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct dirh *dh = (struct dirh *)(uintptr_t)fi->fh;
	vdir_free(&dh->d);
	free(dh);
	fuse_reply_err(req, 0);
}

static void mkdir_as(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct fs *fs = fs_of(req);
	char *path = fs_child_path(fs, parent, name);
	if (!path) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	struct resolved r;
	struct stat st;
	struct err *err = NULL;
	if (fs_resolve(fs, path, &r, &st) == 0) {
		fuse_reply_err(req, EEXIST);
	} else if (r.parse_err < 0) {
		err_make(&err, EPERM, "no folder can be made here");
		reply_refusal(req, path, NULL, err, EPERM);
	} else if (view_mkdir(&fs->view, &r.vp, &err) < 0) {
		reply_refusal(req, path, &r.vp, err, EIO);
	} else {
		fs_settle(fs);
		uint64_t ino = fs_ref_path(fs, path);
		if (fs_resolve(fs, path, &r, &st) == 0) {
			reply_entry(req, ino, &r, &st);
		} else {
			node_forget(fs->nodes, ino, 1);
			fuse_reply_err(req, EIO);
		}
	}
	err_free(err);
	free(path);
}

static void rmdir_as(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = fs_of(req);
	char *path = fs_child_path(fs, parent, name);
	if (!path) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	struct resolved r;
	struct stat st;
	struct err *err = NULL;
	if (fs_resolve(fs, path, &r, &st) < 0)
		fuse_reply_err(req, ENOENT);
	else if (r.scratch)
		fuse_reply_err(req, ENOTDIR);
	else if (view_rmdir(&fs->view, &r.vp, &err) < 0)
		reply_refusal(req, path, &r.vp, err, EIO);
	else {
		fs_settle(fs);
		fuse_reply_err(req, 0);
	}
	err_free(err);
	free(path);
}

static void unlink_as(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fs *fs = fs_of(req);
	char *path = fs_child_path(fs, parent, name);
	if (!path) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	struct resolved r;
	struct stat st;
	struct err *err = NULL;
	if (fs_resolve(fs, path, &r, &st) < 0)
		fuse_reply_err(req, ENOENT);
	else if (r.scratch)
		fuse_reply_err(req, scratch_remove(fs, path) ? 0 : ENOENT);
	else if (view_unlink(&fs->view, &r.vp, &err) < 0)
		reply_refusal(req, path, &r.vp, err, EIO);
	else {
		fs_settle(fs);
		fuse_reply_err(req, 0);
	}
	err_free(err);
	free(path);
}

/*
 * rename: the editor's save.  A scratch file renamed onto NAME.yaml or a
 * writable field applies its content; NAME.yaml (or any readable file)
 * renamed onto a scratch name leaves a copy there and the object as it is.
 */
static void rename_as(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	struct fs *fs = fs_of(req);
	char *dir = node_path(fs->nodes, parent), *ndir = node_path(fs->nodes, newparent);
	char *src = NULL, *dst = NULL;
	struct err *err = NULL;
	struct resolved rs, rd;
	struct stat ss, sd;
	if (!dir || !ndir) {
		fuse_reply_err(req, ENOENT);
		goto out;
	}
	src = fs_join(dir, name);
	dst = fs_join(ndir, newname);
	if (fs_resolve(fs, src, &rs, &ss) < 0) {
		fuse_reply_err(req, ENOENT);
		goto out;
	}
	bool dst_exists = fs_resolve(fs, dst, &rd, &sd) == 0;
	if (flags & RENAME_EXCHANGE) {
		fuse_reply_err(req, EINVAL);
		goto out;
	}
	if ((flags & RENAME_NOREPLACE) && dst_exists) {
		fuse_reply_err(req, EEXIST);
		goto out;
	}
	if (!strcmp(src, dst)) {
		fuse_reply_err(req, 0);
		goto out;
	}
	if (S_ISDIR(ss.st_mode)) {
		err_make(&err, EPERM, "folders cannot be renamed");
		reply_refusal(req, dst, &rs.vp, err, EPERM);
		goto out;
	}
	if (rd.parse_err < 0) {
		err_make(&err, EACCES, "no file can be made here");
		reply_refusal(req, dst, NULL, err, EACCES);
		goto out;
	}
	bool dst_scratch = rd.scratch || (!dst_exists && rd.vp.scratch_ok &&
					  rd.vp.type != V_OBJYAML && rd.vp.type != V_FIELD);
	if (dst_exists && S_ISDIR(sd.st_mode)) {
		fuse_reply_err(req, EISDIR);
		goto out;
	}
	/* The content being moved. */
	struct buf content = {0};
	if (rs.scratch) {
		pthread_mutex_lock(&fs->scratch_lock);
		struct scratch *s = scratch_find(fs, src);
		if (s && s->data.len)
			buf_add(&content, s->data.s, s->data.len);
		pthread_mutex_unlock(&fs->scratch_lock);
	} else if (view_read(&fs->view, &rs.vp, &content) < 0) {
		buf_free(&content);
		fuse_reply_err(req, EACCES);
		goto out;
	}
	if (dst_scratch && scratch_new(fs, dst, rs.scratch ? ss.st_mode : 0644, content.s,
				       content.len, fuse_req_ctx(req)->uid, &err) < 0) {
		reply_refusal(req, dst, &rd.vp, err, ENOSPC);
	} else if (dst_scratch) {
		if (rs.scratch)
			scratch_remove(fs, src);
		else if (rs.vp.type == V_OBJYAML)
			fs_set_shadow(fs, dst, src); /* the name is free for a new file */
		node_rename(fs->nodes, src, dst, NULL);
		fuse_reply_err(req, 0);
	} else if (!rs.scratch) {
		err_make(&err, EINVAL, "objects cannot be renamed; copy the manifest instead");
		reply_refusal(req, dst, &rd.vp, err, EINVAL);
	} else if (!view_writable(&rd.vp)) {
		err_make(&err, EROFS, "read-only file");
		reply_refusal(req, dst, &rd.vp, err, EROFS);
	} else if (view_write(&fs->view, &rd.vp, content.s ? content.s : "", content.len, &err) <
		   0) {
		reply_refusal(req, dst, &rd.vp, err, EIO);
	} else {
		scratch_remove(fs, src);
		char key[600];
		node_rename(fs->nodes, src, dst, fs_okey(&rd.vp, key, sizeof(key)) ? key : NULL);
		/* Applied under its manifest's name: dst is not there. */
		if (rd.vp.type == V_OBJYAML && view_stat(&fs->view, &rd.vp, &sd) < 0)
			fs_queue_inval(fs, dst);
		fs_settle(fs);
		fuse_reply_err(req, 0);
	}
	buf_free(&content);
out:
	err_free(err);
	free(src);
	free(dst);
	free(dir);
	free(ndir);
}

/* The handlers that act, as their caller (fs_caller.c). */

static void fs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	int err = fs_read_sync_ino(fs_of(req), ino, true); /* others' writes too (etcd) */
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	FS_AS(req, opendir_as(req, ino, fi));
}

static void fs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	FS_AS(req, mkdir_as(req, parent, name, mode));
}

static void fs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	FS_AS(req, rmdir_as(req, parent, name));
}

static void fs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	FS_AS(req, unlink_as(req, parent, name));
}

static void fs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	FS_AS(req, rename_as(req, parent, name, newparent, newname, flags));
}

static const struct fuse_lowlevel_ops fs_ops = {
    .init = fs_init,
    .lookup = fs_lookup,
    .forget = fs_forget,
    .forget_multi = fs_forget_multi,
    .getattr = fs_getattr,
    .setattr = fs_setattr,
    .statfs = fs_statfs,
    .opendir = fs_opendir,
    .readdir = fs_readdir,
    .readdirplus = fs_readdirplus,
    .releasedir = fs_releasedir,
    .mkdir = fs_mkdir,
    .rmdir = fs_rmdir,
    .unlink = fs_unlink,
    .rename = fs_rename,
    .open = fs_open,
    .create = fs_create,
    .read = fs_read,
    .write = fs_write,
    .flush = fs_flush,
    .fsync = fs_fsync,
    .release = fs_release,
};

/* Mounting */

int fs_clear_stale(const char *path, struct err **e)
{
	/* statfs, not stat: the kernel keeps the mount root's attributes, so
	 * only a request that reaches the (dead) server says ENOTCONN */
	struct statfs sf;
	if (statfs(path, &sf) == 0 || errno != ENOTCONN)
		return 0;
	log_warn("fs", "%s: clearing a stale mount left by an earlier crash", path);
	if (umount2(path, MNT_DETACH) < 0)
		return err_make(e, errno, "%s: clearing a stale mount: %s", path, strerror(errno));
	return 0;
}

/* True when path is itself a mount point (its device differs from its parent's). */
static bool is_mount_point(const char *path)
{
	struct stat a, b;
	char *parent = xasprintf("%s/..", path);
	bool m = stat(path, &a) == 0 && stat(parent, &b) == 0 &&
		 (a.st_dev != b.st_dev || a.st_ino == b.st_ino);
	free(parent);
	return m;
}

int fs_mount(const struct fs_opts *o, struct fs **out, struct err **e)
{
	int r = fs_clear_stale(o->mountpoint, e);
	if (r < 0)
		return r;
	if (is_mount_point(o->mountpoint))
		return err_make(e, EBUSY, "%s: something is mounted there already", o->mountpoint);
	if (mkdir(o->mountpoint, 0755) < 0 && errno != EEXIST)
		return err_make(e, errno, "%s: %s", o->mountpoint, strerror(errno));
	char real[PATH_MAX];
	if (!realpath(o->mountpoint, real))
		return err_make(e, errno, "%s: %s", o->mountpoint, strerror(errno));

	struct fs *fs = xcalloc(1, sizeof(*fs));
	fs->mountpoint = xstrdup(real);
	fs->nodes = node_table_new();
	pthread_mutex_init(&fs->scratch_lock, NULL);
	pthread_mutex_init(&fs->handles_lock, NULL);
	fs->bounds = fs_bounds_new();
	fs->view.api = o->api;
	fs->view.mount = fs->mountpoint;
	fs->view.errors = feed_new(256 * 1024);
	feed_keep_refusals(fs->view.errors, o->api);
	fs->view.events = feed_new(16 * 1024 * 1024);
	fs->view.start_ns = fs_now_ns();
	fs->view.logs_dir = o->data_dir ? xasprintf("%s/logs", o->data_dir) : NULL;
	pthread_mutex_init(&fs->view.status_lock, NULL);
	pthread_mutex_init(&fs->view.yaml_lock, NULL);
	fs_cache_init(fs);
	fs_kernel_tune(o->wake_here);
	r = feed_follow_events(fs->view.events, o->api, e);
	if (r < 0) {
		fs_free(fs);
		return r;
	}

	const char *argv[] = {"clusterfs", "-o",
			      "fsname=clusterfs,subtype=clusterfs,allow_other,default_permissions",
			      o->debug ? "-d" : NULL, NULL};
	struct fuse_args args = FUSE_ARGS_INIT(o->debug ? 4 : 3, (char **)argv);
	fs->se = fuse_session_new(&args, &fs_ops, sizeof(fs_ops), fs);
	fuse_opt_free_args(&args);
	if (!fs->se) {
		fs_free(fs);
		return err_make(e, EIO, "fuse: cannot create a session");
	}
	if (fuse_session_mount(fs->se, fs->mountpoint) != 0) {
		int code = errno ? errno : EIO;
		fs_free(fs);
		return err_make(e, code, "%s: cannot mount (is /dev/fuse there? already mounted?)",
				real);
	}
	fs->mounted = true;
	r = fs_cache_start(fs, e);
	if (r == 0)
		r = fs_streams_start(fs, e);
	if (r < 0) {
		fs_free(fs);
		return r;
	}
	log_info("fs", "mounted %s", fs->mountpoint);
	*out = fs;
	return 0;
}

int fs_serve(struct fs *fs)
{
	if (fuse_set_signal_handlers(fs->se) != 0)
		return -EIO;
	fs_kernel_batch_threads();
	struct fuse_loop_config *cfg = fuse_loop_cfg_create();
	fuse_loop_cfg_set_max_threads(cfg, 64);
	fuse_loop_cfg_set_idle_threads(cfg, 16);
	int r = fuse_session_loop_mt(fs->se, cfg);
	fuse_loop_cfg_destroy(cfg);
	fuse_remove_signal_handlers(fs->se);
	return r < 0 ? r : 0;
}

void fs_free(struct fs *fs)
{
	if (!fs)
		return;
	fs_cache_stop(fs);
	fs_streams_stop(fs);
	if (fs->view.events)
		feed_stop_events(fs->view.events);
	if (fs->se) {
		if (fs->mounted) {
			fuse_session_unmount(fs->se);
			log_info("fs", "unmounted %s", fs->mountpoint);
		}
		fuse_session_destroy(fs->se);
	}
	while (fs->scratch) {
		struct scratch *s = fs->scratch;
		fs->scratch = s->next;
		free(s->shadows);
		buf_free(&s->data);
		free(s->path);
		free(s);
	}
	while (fs->handles)
		handle_free(fs, fs->handles);
	pthread_mutex_destroy(&fs->handles_lock);
	fs_bounds_free(fs->bounds);
	fs_cache_free(fs);
	feed_free(fs->view.errors);
	feed_free(fs->view.events);
	view_free_caches(&fs->view);
	free(fs->view.logs_dir);
	pthread_mutex_destroy(&fs->view.status_lock);
	pthread_mutex_destroy(&fs->view.yaml_lock);
	node_table_free(fs->nodes);
	pthread_mutex_destroy(&fs->scratch_lock);
	free(fs->mountpoint);
	free(fs);
}
