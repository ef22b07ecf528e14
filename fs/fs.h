/*
 * fs.h - the FUSE layer: /cluster as a mounted filesystem (libfuse 3,
 * low-level API).
 *
 * It owns the mount, the inode table (node.h), open-file handles, scratch
 * files (editors' temporaries, held in memory and never applied) and the
 * errors feed; what files exist and what they hold is the view's (view.h).
 *
 * A manifest is applied when its file is flushed (close); a one-value file
 * when it is written.  A refused write replies an errno and appends a line
 * to /cluster/errors and a Warning event.
 *
 * fs_serve() runs libfuse's multi-threaded loop on the calling thread until
 * SIGINT/SIGTERM or an external unmount.
 */
#ifndef CFS_FS_H
#define CFS_FS_H

#include <stdbool.h>

#include "engine/api/api.h"
#include "engine/err.h"

struct fs;

struct fs_opts {
	const char *mountpoint; /* created if missing; a stale mount is cleared */
	struct api *api;	/* borrowed */
	bool debug;		/* libfuse request tracing */
	const char *data_dir;	/* containers' logs are under DATA_DIR/logs (podlog.h);
				 * NULL: every log reads empty */
	bool wake_here;		/* set the kernel's FUSE wake_here (fs_kernel.c) */
};

int fs_mount(const struct fs_opts *o, struct fs **out, struct err **e);
/* Serves requests until a signal or an unmount; returns 0 or -errno. */
int fs_serve(struct fs *fs);
/* Unmounts (if still mounted) and frees.  NULL is fine. */
void fs_free(struct fs *fs);

/* Clears a dead FUSE mount at path (a crashed server's); 0 if none. */
int fs_clear_stale(const char *path, struct err **e);

#endif
