/*
 * fs_int.h - what fs.c (inodes, folders, mounting) and fs_file.c (open
 * files: handles, reads, writes, apply on close) share; not an interface.
 * Locking as in fs.h: scratch_lock guards the scratch list and each
 * scratch file's data, handles_lock the list of open handles, each
 * handle's lock its data; all are leaves.
 */
#ifndef CFS_FS_INT_H
#define CFS_FS_INT_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "engine/mem.h"
#include "fs/fs.h"
#include "engine/podlog.h"
#include "fs/view.h"

#define SCRATCH_MAX    (16 * 1024 * 1024)
#define FIXED_TIMEOUT  3600.0 /* names whose existence never changes on their own */
#define OBJDIR_TIMEOUT 60.0   /* NAME/ folders: dropped by the notifier on deletion */
#define CACHE_TIMEOUT  3600.0 /* what the kernel caches until the notifier says (fs_cache.c) */

/*
 * What callers may hold in the server's memory (fs_bounds.c), per caller
 * uid and for all together: scratch files (EMFILE past the count), files
 * open for writing (EMFILE), and the bytes of scratch files and unsaved
 * writes (ENOSPC).  Enough for editors (vim's swap file and backup, sed
 * -i's temporary, cp --backup) and for tools writing many manifests.
 */
#define FS_MAX_SCRATCH_FILES	   64
#define FS_MAX_SCRATCH_FILES_TOTAL 1024
#define FS_MAX_WRITE_HANDLES	   1024
#define FS_MAX_WRITE_HANDLES_TOTAL 4096
#define FS_MAX_BYTES		   (64 * 1024 * 1024)
#define FS_MAX_BYTES_TOTAL	   (512 * 1024 * 1024)

/* A scratch file: an editor's temporary, held in memory. */
struct scratch {
	char *path;
	struct buf data;
	mode_t mode;
	uid_t uid; /* its maker's: shown by stat, and its bytes are charged to them */
	gid_t gid;
	int64_t mtime_ns;
	char *shadows; /* NAME.yaml renamed onto this file: hidden while it lives */
	size_t charged;
	struct scratch *next;
};

struct fs {
	struct view view;
	struct node_table *nodes;
	char *mountpoint;
	struct fuse_session *se;
	bool mounted;
	struct informer *notifier;  /* invalidates what changed (fs_cache.c) */
	struct fs_streams *streams; /* stream files' readers (fs_stream.c) */

	pthread_mutex_t scratch_lock; /* guards scratch list and each scratch's data */
	struct scratch *scratch;

	/* Open handles, so that a shutdown with files still open frees them. */
	pthread_mutex_t handles_lock; /* guards the list links of every handle */
	struct handle *handles;

	/* The kernel's cache (fs_cache.c): on with SQLite.  done_rev: the
	 * revision the notifier is done with (atomic; written under
	 * cache_lock, which cache_cond goes with). */
	bool cache;
	bool no_inval;		    /* testing: never invalidate (CFS_TEST_NO_INVAL) */
	pthread_mutex_t cache_lock; /* guards the three below */
	pthread_cond_t cache_cond;
	int64_t done_rev;
	int settlers; /* requests waiting in fs_settle */
	bool cache_stop;

	/* Names the kernel must forget (a deleted object's, a new file applied
	 * under another name), sent by the entry thread: never from a handler. */
	pthread_mutex_t inval_lock; /* guards the three below */
	pthread_cond_t inval_cond;
	struct inval *invals;
	bool inval_stop;
	bool inval_running;
	pthread_t inval_thread;

	struct fs_bounds *bounds; /* what callers hold (fs_bounds.c) */
};

/* H_CACHED: a cacheable file read through the page cache (fs_cache.c),
 * rendered at read() time. */
enum htype { H_SNAPSHOT, H_FEED, H_LOG, H_WRITE, H_SCRATCH, H_STREAM, H_CACHED };

struct handle {
	enum htype type;
	char *path;
	struct vpath vp;
	pthread_mutex_t lock; /* guards data, dirty, failed */
	struct buf data;      /* snapshot, or what is being written */
	int64_t rv;	      /* H_CACHED: the object revision data shows (0: none) */
	struct podlog *log;   /* H_LOG: the live log file (podlog.h), under lock */
	struct api *as;	      /* H_WRITE: the opener's view (applies as them); NULL: root */
	bool dirty;	      /* to apply: written, or truncated, since the last apply */
	bool written;	      /* write() or a truncation since open: a flush applies */
	bool failed;	      /* a write was refused: never apply */
	bool created;	      /* made by create(): a pending node */
	bool oneval;	      /* a one-value file: applied at write() */
	bool writer;	      /* counted in node_writers (fs_cache.c) */
	pid_t tid;	      /* H_WRITE: the thread that opened it (fs_open_trunc) */
	bool trunc_seen;      /* its open's O_TRUNC came (fs_open_trunc) */
	bool counted;	      /* charged to uid (fs_handle_admit) */
	uid_t uid;	      /* who opened it */
	size_t charged;	      /* bytes of data charged to uid, under lock */
	/* H_STREAM, under lock: */
	int stream_end;		    /* 0 going on, -1 ended (EOF), else the errno */
	size_t stream_last;	    /* where the last line of data starts */
	struct handle *prev, *next; /* fs->handles, under handles_lock */
};

struct resolved {
	struct vpath vp;
	bool scratch;
	bool pending;
	bool writing; /* open for writing somewhere: attributes not cached */
	int parse_err;
};

int64_t fs_now_ns(void);
struct fs *fs_of(fuse_req_t req);
char *fs_join(const char *dir, const char *name);
void fs_buf_write_at(struct buf *b, size_t off, const char *data, size_t size);
void fs_buf_resize(struct buf *b, size_t n);
char *fs_child_path(struct fs *fs, fuse_ino_t parent, const char *name);

/*
 * Before a read of path (open, opendir, a lookup that found nothing): syncs
 * with the store so that others' writes show (etcd), by the API's one rule
 * (api_read_sync): 0, or EIO when the store can't confirm the latest
 * state and path is an object or a folder of objects being read (the
 * root and its own files, /cluster/status and /cluster/errors among them,
 * stay readable; an open for writing only goes on, its commit says).
 */
int fs_read_sync(struct fs *fs, const char *path, bool reading);
/* The same for an inode. */
int fs_read_sync_ino(struct fs *fs, fuse_ino_t ino, bool reading);

/* Errors: a line in /cluster/errors and a Warning event; reply_refusal also
 * replies the errno. */
void fs_report(struct fs *fs, const char *path, const struct vpath *vp, int code, const char *msg);
void reply_refusal(fuse_req_t req, const char *path, const struct vpath *vp, struct err *err,
		   int fallback);

/* Scratch files (callers of scratch_find hold scratch_lock). */
struct scratch *scratch_find(struct fs *fs, const char *path);
bool scratch_stat(struct fs *fs, const char *path, struct stat *st);
/* Makes (or replaces) a scratch file of uid's; -EMFILE or -ENOSPC past
 * the bounds. */
int scratch_new(struct fs *fs, const char *path, mode_t mode, const char *data, size_t len,
		uid_t uid, struct err **e);
/* Charges s (under scratch_lock) as n bytes long, before it grows or
 * after it shrank; -ENOSPC (nothing changed). */
int scratch_charge(struct fs *fs, struct scratch *s, size_t n, struct err **e);
bool scratch_remove(struct fs *fs, const char *path);
void fs_set_shadow(struct fs *fs, const char *path, const char *shadow);
/* Is path a NAME.yaml moved onto a scratch file (hidden while it lives)? */
bool scratch_shadowed(struct fs *fs, const char *path);

/* Bounds (fs_bounds.c) */
enum fs_bound { FB_HANDLES, FB_FILES, FB_BYTES };
struct fs_bounds *fs_bounds_new(void);
void fs_bounds_free(struct fs_bounds *b);
/* Charges n of what to uid: -EMFILE or -ENOSPC (*e says which bound). */
int fs_bounds_charge(struct fs_bounds *b, uid_t uid, enum fs_bound what, size_t n, struct err **e);
void fs_bounds_release(struct fs_bounds *b, uid_t uid, enum fs_bound what, size_t n);
/* Moves uid's byte charge *charged to n: -ENOSPC (nothing changed). */
int fs_bounds_resize(struct fs_bounds *b, uid_t uid, size_t *charged, size_t n, struct err **e);
/* What uid holds; false when nothing. */
int fs_bounds_usage(struct fs_bounds *b, uid_t uid, size_t *handles, size_t *files, size_t *bytes);
/* A new handle h of req's caller (writer: opened for writing): true, or
 * false after refusing req (a line in errors) and freeing h.  Only write
 * handles (H_WRITE, H_SCRATCH) are counted. */
bool fs_handle_admit(fuse_req_t req, struct handle *h, bool writer);
/* Marks h as uid's, whose one handle is already charged (FB_HANDLES), and
 * charges the bytes h holds. */
void fs_handle_attach(struct fs *fs, struct handle *h, uid_t uid);
/* Gives back what h was charged (handle_free does). */
void fs_handle_unadmit(struct fs *fs, struct handle *h);

/* The kernel's cache (fs_cache.c).  fs_cache_init before mounting (it
 * decides fs->cache), start after, stop before unmounting, free last. */
void fs_cache_init(struct fs *fs);
/* Sets the FUSE module parameters that speed a round trip (fs_kernel.c). */
void fs_kernel_tune(bool wake_here);
void fs_kernel_batch_threads(void);
int fs_cache_start(struct fs *fs, struct err **e);
void fs_cache_stop(struct fs *fs);
void fs_cache_free(struct fs *fs);
/* Queues path's directory entry to be invalidated in the kernel's cache
 * (by the entry thread, soon). */
void fs_queue_inval(struct fs *fs, const char *path);
/* Counts h (a write handle) as a writer of its path (delta 1, before the
 * open is answered), or no longer (-1, at release). */
struct handle;
void fs_writer(struct fs *fs, struct handle *h, int delta);
/* Waits until every change committed so far is invalidated in the kernel
 * (the notifier is done with api_rev()): before replying to a request
 * that changed something, and before an open.  Never from a read. */
void fs_settle(struct fs *fs);
/* The key under which the inodes of vp are filed (node_ref): the object's
 * "KIND/NS/NAME", the kind folder's "KIND/NS/"; false for the rest. */
bool fs_okey(const struct vpath *vp, char *out, size_t n);
/* The inode for path, its lookup count raised, filed under its key: taken
 * before what it shows is rendered, so that the notifier finds it if that
 * changes meanwhile. */
uint64_t fs_ref_path(struct fs *fs, const char *path);
struct resolved;
/* How long the kernel may keep r's attributes, and its entry. */
double fs_attr_timeout(const struct fs *fs, const struct resolved *r);
double fs_entry_timeout(const struct fs *fs, const struct resolved *r);

/* What path is now: 0 and *r, *st; -ENOENT. */
int fs_resolve(struct fs *fs, const char *path, struct resolved *r, struct stat *st);

/* Callers and what the files show of them (fs_caller.c).  fs_as sets the
 * request's caller for the view (view_set_caller) and returns their API
 * view (root's for uid 0); fs_as_end (at the end of the request) puts root
 * back.  fs_as_own (after fs_as): a view of the same caller that the
 * caller owns (api_free it), NULL for root, for open files that apply
 * later.  fs_caller_ids: the current caller's
 * uid and gid (0, 0: root). */
struct api *fs_as(fuse_req_t req);
void fs_as_end(void);
#define FS_AS(req, call)                                                                           \
	do {                                                                                       \
		fs_as(req);                                                                        \
		call;                                                                              \
		fs_as_end();                                                                       \
	} while (0)
struct api *fs_as_own(fuse_req_t req);
void fs_caller_ids(uid_t *uid, gid_t *gid);
/* Owner, group and mode of what p names, from its namespace (st's type and
 * own mode in, the shown ones out). */
void fs_perm_stat(struct fs *fs, const struct vpath *p, struct stat *st);
/* chmod/chown of namespaces/NS through the API: 0 (done or not one:
 * *done says), or the errno replied. */
int fs_perm_setattr(fuse_req_t req, const char *path, const struct vpath *p,
		    const struct stat *attr, int to_set, bool *done);

/* Open files (fs_file.c) */
void handle_free(struct fs *fs, struct handle *h);
void fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
void fs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
	       struct fuse_file_info *fi);
void fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi);
void fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
	      struct fuse_file_info *fi);
void fs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);
/*
 * With the cache the kernel does not pass O_TRUNC to open (no atomic
 * O_TRUNC: it would empty the inode for every reader until the write): the
 * opener's thread then truncates the file by name, without a handle.
 * This empties the newest write handle that thread opened at path, not
 * written yet, as an O_TRUNC open does: true, or false when there is none
 * (a truncate(1): as before).  The size shown stays the object's.
 */
bool fs_open_trunc(fuse_req_t req, const char *path);
void fs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi);
void fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi);

/* Stream files (fs_stream.c): reads that wait for news, answered from a
 * watcher thread.  streams_start after the session exists, stop before
 * unmounting (parked reads get EINTR). */
int fs_streams_start(struct fs *fs, struct err **e);
void fs_streams_stop(struct fs *fs);
/* Seeds h (an H_STREAM handle) with the current line and registers it. */
void fs_stream_open(struct fs *fs, struct handle *h);
/* Answers at once, or parks the read until there is news (never when
 * nonblock: the reader opened with O_NONBLOCK). */
void fs_stream_read(fuse_req_t req, struct handle *h, size_t size, off_t off, bool nonblock);
/* Unregisters h (before handle_free). */
void fs_stream_release(struct fs *fs, struct handle *h);

#endif
