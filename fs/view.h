/*
 * view.h - what the filesystem shows: the tree under the mount point
 * (docs/filesystem.md) computed from the API, one path at a time.
 *
 * The view knows the layout (kind folders, NAME.yaml and NAME/, the files
 * inside NAME/, the root files), renders each file's content from the
 * current state of its object, and turns writes into API calls.  It holds
 * no state of its own beyond the two feeds: every answer is computed from
 * the API (containers' logs: from their files, podlog.h) when asked, so
 * nothing it shows can be stale.  The FUSE layer (fs.c) owns inodes,
 * handles and scratch files.
 *
 * Its parts: view_path.c (parsing), view_render.c (reading), view_fields.c
 * (the files inside NAME/ of each kind), view_write.c (writes, deletes),
 * view.c (stat and listing); view_int.h is what they share.
 *
 * Paths are relative to the mount point, without a leading slash:
 * "", "deployments", "deployments/web.yaml", "namespaces/prod/pods/x".
 *
 * Thread-safe: no locks of its own; the API and feeds are thread-safe.
 */
#ifndef CFS_VIEW_H
#define CFS_VIEW_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "engine/api/api.h"
#include "engine/hmap.h"
#include "engine/mem.h"
#include "fs/feed.h"
#include "engine/podlog.h"

enum vtype {
	V_ROOT,
	V_ROOTFILE, /* README, status, apply, errors, events */
	V_KINDDIR,  /* deployments/, namespaces/NS/pods/, nodes/, namespaces/ */
	V_OBJYAML,  /* KIND/NAME.yaml */
	V_OBJDIR,   /* KIND/NAME/ */
	V_FIELD,    /* KIND/NAME/FIELD, KIND/NAME/FIELD/KEY, KIND/NAME/FIELD/KEY/FILE */
	V_OTHER,    /* any other name in a folder that holds scratch files */
};

enum rootfile { RF_README, RF_STATUS, RF_APPLY, RF_ERRORS, RF_EVENTS, RF_TOP, RF_COUNT };

struct vfield;

struct vpath {
	enum vtype type;
	enum rootfile rootfile;
	const struct kind_info *k; /* kind of the folder or object */
	char ns[256];		   /* "" for cluster-scoped kinds */
	char name[256];		   /* object name */
	const struct vfield *field;
	char key[256];		  /* the KEY of FIELD/KEY, or "" */
	const struct vfield *sub; /* the FILE of FIELD/KEY/FILE (pods/NAME/containers/C/logs) */
	bool scratch_ok;	  /* the parent folder may hold scratch files */
};

struct view {
	struct api *api;
	struct feed *errors;
	struct feed *events;
	int64_t start_ns;
	const char *mount; /* the mount point, for messages; NULL: "/cluster" */
	char *logs_dir;	   /* DATA_DIR/logs, where containers' logs are (podlog.h); NULL: none */

	/* /cluster/status walks every object: its text is kept for as long as
	 * nothing it depends on changed (the store's revision and the errors
	 * feed's size), so stat + open + read render it once. */
	pthread_mutex_t status_lock; /* guards the three below */
	int64_t status_rev;
	size_t status_errs;
	uint64_t status_leader; /* api_leader_seq() it was made at */
	uint64_t status_stale;	/* api_stale_seq() it was made at */
	char *status_text;

	/* NAME.yaml texts by object and revision: stat, then open, of the same
	 * version render it once (ls -l, cat).  Exact, since a revision's
	 * object never changes. */
	pthread_mutex_t yaml_lock; /* guards yaml_cache */
	struct hmap yaml_cache;	   /* "KIND/NS/NAME" -> struct yaml_entry * */
};

/* One directory entry. */
struct ventry {
	char *name;
	mode_t mode;
};

struct vdir {
	struct ventry *v;
	size_t n;
};

void vdir_add(struct vdir *d, const char *name, mode_t mode);
void vdir_free(struct vdir *d);

/*
 * Parses path.  Returns 0, or -ENOENT when no such path can exist whatever
 * the state (e.g. "foo" at the root); existence is checked by view_stat.
 */
int view_parse(const char *path, struct vpath *p);

/*
 * Fills st (mode, size, mtime, nlink) for an existing path; -ENOENT when it
 * does not exist now.  V_OTHER never exists here (scratch files are the FUSE
 * layer's).
 */
int view_stat(struct view *v, const struct vpath *p, struct stat *st);

/* The whole content of a readable file, rendered now.  -ENOENT, -EISDIR;
 * -EFBIG for a container log over 16 MiB (read those with view_log). */
int view_read(struct view *v, const struct vpath *p, struct buf *out);

/*
 * Is p a container's live log (pods/NAME/logs, .../containers/C/logs,
 * .../logs.previous)?  Then returns 1 with *dir its folder of attempts (for
 * podlog_open; caller frees; NULL when the pod has no uid or there is no
 * logs dir: an empty log) and *role; 0 when p is another file; -ENOENT
 * when the pod or container does not exist.  Such files are read live
 * from the real file, never through view_read's snapshot.
 */
int view_log(struct view *v, const struct vpath *p, char **dir, enum podlog_role *role);

/*
 * True when what p shows follows from its object alone (NAME.yaml, NAME/,
 * the fields rendered from the object; not Secrets', not files that list
 * other objects, not logs or streams): the kernel may cache its content
 * and attributes as long as the object does not change.
 */
bool view_cacheable(const struct vpath *p);

/* The same, for files only (not NAME/ and field folders). */
bool view_cacheable_file(const struct vpath *p);

/*
 * For a cacheable file p: renders its content into out (emptied first)
 * unless its object's revision is still *rv.  1 rendered (*rv is the new
 * revision), 0 unchanged, -ENOENT (gone).  As root: the open checked.
 */
int view_read_since(struct view *v, const struct vpath *p, int64_t *rv, struct buf *out);

/* For a cacheable file p: 0 when it exists now (the caller may read its
 * object), else -ENOENT.  Renders nothing. */
int view_exists(struct view *v, const struct vpath *p);

/* True when p is a file users may write. */
bool view_writable(const struct vpath *p);

/* True when p is a file read as a stream that ends when its object says
 * so (deployments/NAME/rollout: see fs_stream.c). */
bool view_is_stream(const struct vpath *p);

/*
 * Applies data as the new content of p: NAME.yaml (create or update),
 * apply (any documents), or a writable field.  Returns >= 0, or a negative
 * errno with *e saying why; nothing changes on failure.
 */
int view_write(struct view *v, const struct vpath *p, const char *data, size_t len, struct err **e);

/* Lists a directory (without "." and ".."). */
int view_list(struct view *v, const struct vpath *p, struct vdir *out);

/* rm NAME.yaml, rmdir NAME/ (object and dependents), mkdir namespaces/NS. */
int view_unlink(struct view *v, const struct vpath *p, struct err **e);
int view_rmdir(struct view *v, const struct vpath *p, struct err **e);
int view_mkdir(struct view *v, const struct vpath *p, struct err **e);

/*
 * The caller of the request this thread serves (thread-local): every API
 * call of the view but the status page's goes through view_api(v), their
 * api_as() view, so that the API authorizes it (api.h, "Callers").  The
 * FUSE layer sets it around each request that acts (fs_caller.c); NULL,
 * the default, is root: v->api.
 */
void view_set_caller(struct api *as);
struct api *view_caller(void); /* NULL: root */
struct api *view_api(struct view *v);

/* Frees the view's caches (at unmount). */
void view_free_caches(struct view *v);

/* Does name look like an editor's or tool's temporary file? */
bool view_is_scratch_name(const char *name, bool in_kind_dir);

#endif
