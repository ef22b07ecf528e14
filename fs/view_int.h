/*
 * view_int.h - what the parts of the view (view*.c) share, private to them.
 *
 * A field (struct vfield) is one file or folder inside KIND/NAME/: how it
 * renders, lists, writes.  The tables of each kind are in view_fields.c.
 */
#ifndef CFS_VIEW_INT_H
#define CFS_VIEW_INT_H

#include "fs/view.h"

typedef void (*render_fn)(struct view *v, const struct sobj *o, const char *key, struct buf *out);
typedef int (*write_fn)(struct view *v, const struct vpath *p, const char *data, size_t len,
			struct err **e);
typedef void (*list_fn)(struct view *v, const struct sobj *o, struct vdir *out);
typedef bool (*has_fn)(struct view *v, const struct sobj *o, const char *key);

struct vfield {
	const char *name;
	mode_t mode; /* S_IFREG|0444, S_IFREG|0644 or S_IFDIR|0755 */
	render_fn render;
	write_fn write;		  /* rw files */
	list_fn list;		  /* folders: their keys */
	has_fn has;		  /* folders: is KEY one of them now? (NULL: any name) */
	const struct vfield *sub; /* folders whose KEYs are folders: the files in KEY/ */
	int log;		  /* 0, or 1 + enum podlog_role: a container's live log */
	bool own; /* rendered from its object alone: the kernel may cache it (view_cacheable) */
};

#define RO  (S_IFREG | 0444)
#define RW  (S_IFREG | 0644)
#define DIR (S_IFDIR | 0755)

/* Where a view_read of a log stops (bigger logs are read live). */
#define LOG_READ_MAX (16 * 1024 * 1024)

/* The names of the root files, by enum rootfile. */
extern const char *const view_rootfile_names[RF_COUNT];

/* The fields of kind k (a NULL-named entry ends them), or NULL. */
const struct vfield *vf_fields_of(const struct kind_info *k);

/* The file p names inside a field: FIELD, FIELD/KEY or FIELD/KEY/FILE. */
const struct vfield *vf_file_of(const struct vpath *p);

/* A one-value file's write of a whole number (data as written, spaces and
 * a newline allowed) into the object's field path ("spec.replicas"), when
 * min <= it <= INT32_MAX; the API checks the rest.  0, or -EINVAL (with
 * the file named in the message) or the API's error. */
int vf_write_int(struct view *v, const struct vpath *p, const char *path, int64_t min,
		 const char *data, size_t len, struct err **e);

/* NAME/events: the object's events, one a line (view_fields.c). */
void vf_render_events(struct view *v, const struct sobj *o, const char *key, struct buf *out);

/* view_usage.c: pods/NAME/usage, nodes/NAME/usage and /cluster/top. */
void view_usage_pod(struct view *v, const struct sobj *o, const char *key, struct buf *out);
void view_usage_node(struct view *v, const struct sobj *o, const char *key, struct buf *out);
void view_usage_top(struct view *v, struct buf *out);

/* rm secrets/NAME/KEY: removes data[KEY]. */
int view_secret_key_remove(struct view *v, const struct vpath *p, struct err **e);

/* Is p (a V_FIELD) a folder: FIELD/ or FIELD/KEY/? */
bool vf_is_dir(const struct vpath *p);

/* Does p's KEY, if any, exist in o now? */
bool vf_key_exists(struct view *v, const struct vpath *p, const struct sobj *o);

/* The object p names, now (the caller unrefs it), or NULL. */
struct sobj *view_object_get(struct view *v, const struct vpath *p);

/* Appends the YAML of o to out, from the cache when o's revision is there. */
void view_object_yaml(struct view *v, const struct sobj *o, struct buf *out);

/* The folder of the log file p names (p is one: vf_file_of(p)->log); the
 * caller frees it.  NULL when there is none. */
char *view_log_dir(struct view *v, const struct vpath *p, const struct sobj *o);

/* Applies every document of data (a YAML stream), those naming no
 * namespace into ns, as `kubectl apply -n NS -f`; one naming another
 * namespace is refused.  What api_apply returns. */
int view_apply_in(struct view *v, const char *ns, const char *data, size_t len, struct err **e);

#endif
