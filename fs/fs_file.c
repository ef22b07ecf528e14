/*
 * fs_file.c - open files: a handle per open, a snapshot (or the live feed,
 * or a container's log file read by offset) for readers, a buffer for
 * writers applied at flush/fsync (a manifest) or at write() (a one-value
 * file), and scratch files for editors.
 */
#include "fs/fs_int.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>

#include "engine/valid/codec.h"
#include "fs/feed.h"
#include "fs/node.h"

/* Files */

static struct handle *handle_new(struct fs *fs, enum htype type, const char *path,
				 const struct vpath *vp)
{
	struct handle *h = xcalloc(1, sizeof(*h));
	pthread_mutex_lock(&fs->handles_lock);
	h->next = fs->handles;
	if (h->next)
		h->next->prev = h;
	fs->handles = h;
	pthread_mutex_unlock(&fs->handles_lock);
	h->type = type;
	h->path = xstrdup(path);
	if (vp)
		h->vp = *vp;
	pthread_mutex_init(&h->lock, NULL);
	return h;
}

void handle_free(struct fs *fs, struct handle *h)
{
	fs_handle_unadmit(fs, h);
	fs_writer(fs, h, -1);
	pthread_mutex_lock(&fs->handles_lock);
	if (h->prev)
		h->prev->next = h->next;
	else
		fs->handles = h->next;
	if (h->next)
		h->next->prev = h->prev;
	pthread_mutex_unlock(&fs->handles_lock);
	buf_free(&h->data);
	podlog_free(h->log);
	if (h->as)
		api_free(h->as);
	pthread_mutex_destroy(&h->lock);
	free(h->path);
	free(h);
}

static size_t max_size(size_t a, size_t b)
{
	return a > b ? a : b;
}

/* Empties the scratch file at path (an open with O_TRUNC). */
static void scratch_truncate(struct fs *fs, const char *path)
{
	pthread_mutex_lock(&fs->scratch_lock);
	struct scratch *s = scratch_find(fs, path);
	if (s) {
		s->data.len = 0;
		scratch_charge(fs, s, 0, NULL);
		s->mtime_ns = fs_now_ns();
	}
	pthread_mutex_unlock(&fs->scratch_lock);
}

/* Is p a file whose every write() is applied at once (a one-value file)?
 * Manifests (NAME.yaml, apply, namespaces/NS/apply) are applied at close. */
static bool one_value(const struct vpath *p)
{
	return p->type == V_FIELD && p->k != KIND_NAMESPACE;
}

static void open_as(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
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
	int acc = fi->flags & O_ACCMODE;
	struct handle *h;
	char *logdir = NULL;
	enum podlog_role role;
	int lr;
	if (S_ISDIR(st.st_mode)) {
		fuse_reply_err(req, EISDIR);
		free(path);
		return;
	}
	if (r.scratch) {
		h = handle_new(fs, H_SCRATCH, path, &r.vp);
		if (fi->flags & O_TRUNC)
			scratch_truncate(fs, path);
	} else if (r.pending) {
		/* A second open of a file being created: share nothing, apply on its own close. */
		h = handle_new(fs, H_WRITE, path, &r.vp);
		h->dirty = (fi->flags & O_TRUNC) != 0;
		h->tid = fuse_req_ctx(req)->pid;
	} else if (acc != O_RDONLY) {
		if (!view_writable(&r.vp)) {
			struct err *err = NULL;
			err_make(&err, EROFS, "read-only file");
			reply_refusal(req, path, &r.vp, err, EROFS);
			err_free(err);
			free(path);
			return;
		}
		h = handle_new(fs, H_WRITE, path, &r.vp);
		h->oneval = one_value(&r.vp);
		h->tid = fuse_req_ctx(req)->pid;
		fs_writer(fs, h, +1);
		if (fi->flags & O_TRUNC) {
			h->dirty = r.vp.type == V_OBJYAML;
		} else if (r.vp.type != V_ROOTFILE) {
			view_read(&fs->view, &r.vp, &h->data);
		}
	} else if ((st.st_mode & 0444) == 0) {
		/* apply, namespaces/NS/apply: write-only */
		fuse_reply_err(req, EACCES);
		free(path);
		return;
	} else if (r.vp.type == V_ROOTFILE &&
		   (r.vp.rootfile == RF_EVENTS || r.vp.rootfile == RF_ERRORS)) {
		h = handle_new(fs, H_FEED, path, &r.vp);
	} else if ((lr = view_log(&fs->view, &r.vp, &logdir, &role)) != 0) {
		if (lr < 0) {
			fuse_reply_err(req, ENOENT);
			free(path);
			return;
		}
		/* Read live by offset: nothing is copied at open. */
		h = handle_new(fs, H_LOG, path, &r.vp);
		h->log = podlog_open(logdir, role);
		free(logdir);
	} else if (view_is_stream(&r.vp)) {
		h = handle_new(fs, H_STREAM, path, &r.vp);
		fs_stream_open(fs, h);
	} else if (fs->cache && view_cacheable_file(&r.vp)) {
		/* Rendered at read() time, into the page cache (fs_cache.c). */
		h = handle_new(fs, H_CACHED, path, &r.vp);
	} else {
		h = handle_new(fs, H_SNAPSHOT, path, &r.vp);
		if (view_read(&fs->view, &r.vp, &h->data) < 0) {
			handle_free(fs, h);
			fuse_reply_err(req, ENOENT);
			free(path);
			return;
		}
	}
	if (!fs_handle_admit(req, h, acc != O_RDONLY)) {
		free(path);
		return;
	}
	if (h->type == H_WRITE)
		h->as = fs_as_own(req);
	fi->fh = (uintptr_t)h;
	fi->direct_io = h->type != H_CACHED;
	fi->keep_cache = h->type == H_CACHED;
	fi->nonseekable = h->type == H_STREAM;
	/* Only a write handle has anything to do at close: spare readers the
	 * FLUSH round trip (FOPEN_NOFLUSH). */
	fi->noflush = h->type != H_WRITE;
	if (fuse_reply_open(req, fi) != 0)
		handle_free(fs, h);
	free(path);
}

/* Refuses a create at path, which is nothing a file can be made as. */
static void refuse_create(fuse_req_t req, const char *path, const struct resolved *r)
{
	struct err *err = NULL;

	if (r->parse_err == 0 && r->vp.type == V_OTHER)
		err_make(&err, EACCES, "no such field of %s; the files here are fixed",
			 r->vp.k ? r->vp.k->kind : "this object");
	else if (r->parse_err == 0 && r->vp.type == V_FIELD && !view_writable(&r->vp))
		err_make(&err, EACCES, "no file can be made here; the files here are fixed");
	else
		err_make(&err, r->parse_err == 0 ? ENOENT : EACCES,
			 r->parse_err == 0 ? "no such object" : "no file can be made here");
	reply_refusal(req, path, r->parse_err == 0 ? &r->vp : NULL, err, EACCES);
	err_free(err);
}

/* A create of a new secrets/NAME/KEY adds the key, empty, for the create to
 * open (*exists then set).  -1 when refused (replied), else 0. */
static int new_secret_key(fuse_req_t req, struct fs *fs, const char *path, struct resolved *r,
			  struct stat *st, int flags, bool *exists)
{
	struct err *err = NULL;
	if (r->parse_err || r->vp.type != V_FIELD || r->vp.k != KIND_SECRET ||
	    !view_writable(&r->vp) || (flags & O_EXCL))
		return 0;
	if (view_write(&fs->view, &r->vp, "", 0, &err) < 0) {
		reply_refusal(req, path, &r->vp, err, EACCES);
		err_free(err);
		return -1;
	}
	*exists = fs_resolve(fs, path, r, st) == 0;
	return 0;
}

static void create_as(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	char *dir = node_path(fs->nodes, parent);
	if (!dir) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	char *path = fs_join(dir, name);
	struct resolved r;
	struct stat st;
	struct handle *h = NULL;
	struct err *err = NULL;
	uid_t uid = fuse_req_ctx(req)->uid;
	bool exists = fs_resolve(fs, path, &r, &st) == 0;
	/* the handle is counted first: nothing is made for a refused create */
	bool charged = fs_bounds_charge(fs->bounds, uid, FB_HANDLES, 1, &err) == 0;
	if (!charged) {
		reply_refusal(req, path, r.parse_err == 0 ? &r.vp : NULL, err, EMFILE);
		goto out;
	}
	if (!exists && new_secret_key(req, fs, path, &r, &st, fi->flags, &exists) < 0)
		goto out;
	if (exists && (fi->flags & O_EXCL)) {
		fuse_reply_err(req, EEXIST);
		goto out;
	}
	if (exists) {
		/* Raced with a create: open what is there. */
		if (S_ISDIR(st.st_mode)) {
			fuse_reply_err(req, EISDIR);
			goto out;
		}
		if (r.scratch) {
			h = handle_new(fs, H_SCRATCH, path, &r.vp);
		} else if (!view_writable(&r.vp)) {
			err_make(&err, EROFS, "read-only file");
			reply_refusal(req, path, &r.vp, err, EROFS);
			goto out;
		} else {
			h = handle_new(fs, H_WRITE, path, &r.vp);
			h->oneval = one_value(&r.vp);
			fs_writer(fs, h, +1);
			h->dirty = r.vp.type == V_OBJYAML && (fi->flags & O_TRUNC);
			if (!(fi->flags & O_TRUNC))
				view_read(&fs->view, &r.vp, &h->data);
		}
	} else if (r.parse_err == 0 && r.vp.type == V_OBJYAML) {
		/* A new manifest: applied when it is closed. */
		struct vpath dirvp;
		struct stat dst;
		if (view_parse(dir, &dirvp) < 0 || view_stat(&fs->view, &dirvp, &dst) < 0) {
			fuse_reply_err(req, ENOENT);
			goto out;
		}
		h = handle_new(fs, H_WRITE, path, &r.vp);
		h->created = true;
		h->dirty = true;
		node_pending(fs->nodes, path, +1, 0);
		fs_set_shadow(fs, NULL, path);
		r.pending = true;
		memset(&st, 0, sizeof(st));
		st.st_mode = S_IFREG | 0644;
		st.st_nlink = 1;
		st.st_mtim.tv_sec = time(NULL);
		fs_perm_stat(fs, &r.vp, &st);
	} else if (r.parse_err == 0 && r.vp.scratch_ok &&
		   (r.vp.type == V_OTHER || r.vp.type == V_OBJDIR || r.vp.type == V_FIELD)) {
		if (scratch_new(fs, path, mode, NULL, 0, uid, &err) < 0) {
			reply_refusal(req, path, &r.vp, err, EMFILE);
			goto out;
		}
		scratch_stat(fs, path, &st);
		r.scratch = true;
		h = handle_new(fs, H_SCRATCH, path, &r.vp);
	} else {
		refuse_create(req, path, &r);
		goto out;
	}
	struct fuse_entry_param ep = {.ino = fs_ref_path(fs, path), .generation = 1, .attr = st};
	ep.attr.st_ino = ep.ino; /* entry and attribute timeouts 0: never cached */
	if (h->type == H_WRITE)
		h->as = fs_as_own(req);
	fs_handle_attach(fs, h, uid);
	charged = false; /* h carries it now */
	fi->fh = (uintptr_t)h;
	fi->direct_io = 1;
	fs_settle(fs);
	if (fuse_reply_create(req, &ep, fi) != 0) {
		node_forget(fs->nodes, ep.ino, 1);
		if (h->created)
			node_pending(fs->nodes, path, -1, 0);
		handle_free(fs, h);
	}
out:
	if (charged)
		fs_bounds_release(fs->bounds, uid, FB_HANDLES, 1);
	err_free(err);
	free(path);
	free(dir);
}

/*
 * A read-only open of a cacheable file (fs_cache.c): checks that it is
 * there for the caller and replies keep_cache, rendering nothing (read()
 * renders, when the page cache lacks it).  False when it is another case
 * (nothing replied).
 */
static bool open_cached(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	if (!fs->cache || (fi->flags & (O_ACCMODE | O_TRUNC)) != O_RDONLY)
		return false;
	char *path = node_path(fs->nodes, ino);
	struct vpath vp;
	bool ok = path && view_parse(path, &vp) == 0 && view_cacheable_file(&vp) &&
		  !node_is_pending(fs->nodes, path, NULL) &&
		  !(vp.type == V_OBJYAML && scratch_shadowed(fs, path));
	if (!ok) {
		free(path);
		return false;
	}
	fs_as(req);
	int e = view_exists(&fs->view, &vp);
	fs_as_end();
	if (e < 0) {
		free(path);
		return false; /* the long way says why */
	}
	struct handle *h = handle_new(fs, H_CACHED, path, &vp);
	free(path);
	fi->fh = (uintptr_t)h;
	fi->keep_cache = 1;
	fi->noflush = 1;
	if (fuse_reply_open(req, fi) != 0)
		handle_free(fs, h);
	return true;
}

bool fs_open_trunc(fuse_req_t req, const char *path)
{
	struct fs *fs = fs_of(req);
	pid_t tid = fuse_req_ctx(req)->pid;
	struct handle *h = NULL;
	if (!fs->cache)
		return false;
	pthread_mutex_lock(&fs->handles_lock);
	for (h = fs->handles; h; h = h->next) /* newest first */
		if (h->type == H_WRITE && h->tid == tid && !h->trunc_seen && !h->written &&
		    !strcmp(h->path, path))
			break;
	if (h) {
		pthread_mutex_lock(&h->lock);
		h->trunc_seen = true;
		fs_buf_resize(&h->data, 0);
		h->dirty = h->vp.type == V_OBJYAML;
		pthread_mutex_unlock(&h->lock);
	}
	pthread_mutex_unlock(&fs->handles_lock);
	return h != NULL;
}

/* Opening, as the caller (fs_caller.c). */
void fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	bool reading = (fi->flags & O_ACCMODE) != O_WRONLY;
	/* others' writes too (etcd; with the cache, SQLite: nothing to do) */
	int err = fs->cache ? 0 : fs_read_sync_ino(fs, ino, reading);
	if (err) {
		fuse_reply_err(req, err);
		return;
	}
	/* whatever was committed before this open is invalidated */
	if (reading)
		fs_settle(fs);
	if (open_cached(req, ino, fi))
		return;
	FS_AS(req, open_as(req, ino, fi));
}

void fs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	       struct fuse_file_info *fi)
{
	FS_AS(req, create_as(req, parent, name, mode, fi));
}

void fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;
	if (h->type == H_STREAM) {
		fs_stream_read(req, h, size, off, (fi->flags & O_NONBLOCK) != 0);
		return;
	}
	if (h->type == H_FEED) {
		char *buf = xmalloc(size);
		struct feed *f = h->vp.rootfile == RF_EVENTS ? fs->view.events : fs->view.errors;
		size_t n = feed_read(f, off, buf, size);
		fuse_reply_buf(req, buf, n);
		free(buf);
		return;
	}
	if (h->type == H_LOG) {
		char *buf = xmalloc(size);
		pthread_mutex_lock(&h->lock);
		ssize_t n = podlog_read(h->log, off, buf, size);
		pthread_mutex_unlock(&h->lock);
		if (n < 0)
			fuse_reply_err(req, (int)-n);
		else
			fuse_reply_buf(req, buf, (size_t)n);
		free(buf);
		return;
	}
	if (h->type == H_SCRATCH) {
		pthread_mutex_lock(&fs->scratch_lock);
		struct scratch *s = scratch_find(fs, h->path);
		size_t n = 0;
		char *buf = NULL;
		if (s && off >= 0 && (size_t)off < s->data.len) {
			n = s->data.len - (size_t)off;
			if (n > size)
				n = size;
			buf = xmalloc(n);
			memcpy(buf, s->data.s + off, n);
		}
		pthread_mutex_unlock(&fs->scratch_lock);
		fuse_reply_buf(req, buf, n);
		free(buf);
		return;
	}
	/* Copy, unlock, then reply: once the reply is out, the reader may close
	 * the file and a RELEASE on another thread may free h. */
	pthread_mutex_lock(&h->lock);
	/* Rendered now, not at open: what goes into the page cache must be
	 * no older than the last invalidation (fs_cache.c). */
	if (h->type == H_CACHED && view_read_since(&fs->view, &h->vp, &h->rv, &h->data) < 0) {
		pthread_mutex_unlock(&h->lock);
		fuse_reply_err(req, ENOENT);
		return;
	}
	size_t n = 0;
	char *copy = NULL;
	if (off >= 0 && (size_t)off < h->data.len) {
		n = h->data.len - (size_t)off;
		if (n > size)
			n = size;
		copy = xmalloc(n);
		memcpy(copy, h->data.s + off, n);
	}
	pthread_mutex_unlock(&h->lock);
	fuse_reply_buf(req, copy, n);
	free(copy);
}

/*
 * Applies a write handle's content.  Returns 0 or an errno (reported).  A
 * flush with nothing written since open applies nothing: the shell's
 * `cat f > NAME.yaml` opens, dup2()s and closes its own descriptor (a
 * flush) before cat writes a byte.  A handle never written but opened to
 * replace (O_TRUNC, a new file) is applied at release: an empty manifest.
 */
static int apply_handle(struct fs *fs, struct handle *h, bool release)
{
	pthread_mutex_lock(&h->lock);
	if (!h->dirty || h->failed || (!release && !h->written)) {
		pthread_mutex_unlock(&h->lock);
		return 0;
	}
	struct err *err = NULL;
	view_set_caller(h->as); /* as whoever opened it (release has no caller) */
	int r = view_write(&fs->view, &h->vp, h->data.s ? h->data.s : "", h->data.len, &err);
	view_set_caller(NULL);
	h->dirty = false;
	pthread_mutex_unlock(&h->lock);
	if (r >= 0) {
		struct stat st;
		/* A new file applied under its manifest's name: the written
		 * name is not there; the kernel must not keep it. */
		if (h->created && h->vp.type == V_OBJYAML && view_stat(&fs->view, &h->vp, &st) < 0)
			fs_queue_inval(fs, h->path);
		return 0;
	}
	int code = err ? err->code : EIO;
	fs_report(fs, h->path, &h->vp, code, err ? err->msg : strerror(code));
	err_free(err);
	return code;
}

void fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
	      struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;
	if (fi->flags & O_APPEND) {
		if (h->type == H_SCRATCH) {
			pthread_mutex_lock(&fs->scratch_lock);
			struct scratch *s = scratch_find(fs, h->path);
			off = s ? (off_t)s->data.len : 0;
			pthread_mutex_unlock(&fs->scratch_lock);
		} else {
			off = (off_t)h->data.len;
		}
	}
	if (h->type == H_SCRATCH) {
		pthread_mutex_lock(&fs->scratch_lock);
		struct scratch *s = scratch_find(fs, h->path);
		int code = 0;
		struct err *err = NULL;
		if (!s)
			code = ENOENT;
		else if ((size_t)off + size > SCRATCH_MAX)
			code = EFBIG;
		else if (scratch_charge(fs, s, max_size(s->data.len, (size_t)off + size), &err) < 0)
			code = err->code;
		else {
			fs_buf_write_at(&s->data, (size_t)off, buf, size);
			s->mtime_ns = fs_now_ns();
		}
		pthread_mutex_unlock(&fs->scratch_lock);
		if (err)
			reply_refusal(req, h->path, &h->vp, err, code);
		else if (code)
			fuse_reply_err(req, code);
		else
			fuse_reply_write(req, size);
		err_free(err);
		return;
	}
	if (h->type != H_WRITE) {
		fuse_reply_err(req, EBADF);
		return;
	}
	pthread_mutex_lock(&h->lock);
	if ((size_t)off + size > CODEC_MAX_BYTES) {
		h->failed = true;
		pthread_mutex_unlock(&h->lock);
		struct err *err = NULL;
		err_make(&err, EFBIG, "a manifest may be at most %d bytes", CODEC_MAX_BYTES);
		reply_refusal(req, h->path, &h->vp, err, EFBIG);
		err_free(err);
		return;
	}
	struct err *err = NULL;
	if (h->counted && fs_bounds_resize(fs->bounds, h->uid, &h->charged,
					   max_size(h->data.len, (size_t)off + size), &err) < 0) {
		h->failed = true;
		pthread_mutex_unlock(&h->lock);
		reply_refusal(req, h->path, &h->vp, err, ENOSPC);
		err_free(err);
		return;
	}
	fs_buf_write_at(&h->data, (size_t)off, buf, size);
	h->dirty = true;
	h->written = true;
	if (h->created)
		node_pending(fs->nodes, h->path, 0, h->data.len);
	pthread_mutex_unlock(&h->lock);
	if (h->oneval) {
		int code = apply_handle(fs, h, false);
		if (code) {
			pthread_mutex_lock(&h->lock);
			h->failed = true;
			pthread_mutex_unlock(&h->lock);
			fuse_reply_err(req, code);
			return;
		}
		fs_settle(fs); /* invalidated before write() returns */
	}
	fuse_reply_write(req, size);
}

void fs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;
	int code = h->type == H_WRITE ? apply_handle(fs_of(req), h, false) : 0;
	if (h->type == H_WRITE)
		fs_settle(fs_of(req)); /* invalidated before close() returns */
	fuse_reply_err(req, code);
}

void fs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	fs_flush(req, ino, fi);
}

void fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs *fs = fs_of(req);
	struct handle *h = (struct handle *)(uintptr_t)fi->fh;
	if (h->type == H_WRITE)
		apply_handle(fs, h, true);
	if (h->type == H_STREAM)
		fs_stream_release(fs, h);
	if (h->created)
		node_pending(fs->nodes, h->path, -1, 0);
	handle_free(fs, h);
	fuse_reply_err(req, 0);
}
