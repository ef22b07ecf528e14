/*
 * podlog.h - containers' log files on disk, as pods/NAME/logs and
 * pods/NAME/containers/C/{logs,logs.previous} serve them: found by attempt
 * number and read live, by offset, from the real file.
 *
 *     $ ls DATA/logs/9f1c2e.../web
 *     0.log  1.log  2.log  2.log.1
 *     $ tail -f /cluster/pods/web-x2bqz/logs          # 2.log, followed
 *     $ cat /cluster/pods/web-x2bqz/containers/web/logs.previous   # 1.log
 *
 * The node's log relay (runtime/kubelet/logrelay.h) writes each attempt
 * (restart) of container C of the pod with uid UID to
 *
 *     LOGS/UID/C/ATTEMPT.log       ATTEMPT = 0, 1, 2 ...
 *     LOGS/UID/C/ATTEMPT.idx       the time of each of its lines (below)
 *     LOGS/UID/C/ATTEMPT.log.1     the rotated older part (not shown)
 *
 * LOGS being DATA_DIR/logs.  The current log is the highest ATTEMPT (while
 * a container waits in CrashLoopBackOff, its last terminated instance, as
 * `kubectl logs` shows), the previous one the next highest (`kubectl logs
 * --previous`).  A missing folder or file is an empty log, never an error:
 * a pod that has not started has written nothing yet.
 *
 * Rotation is copy-truncate: the file shrinks in place.  A reader holds
 * its file open and reads it with pread() at the offset asked, so nothing
 * is copied into memory at open, a reader sees what was appended since
 * (tail -f polls the size and reads on) and a truncation shows as a smaller
 * size (tail says "file truncated" and goes on).
 *
 * An open reader is not pinned to one file: like stat, every read serves
 * the file its role names now, so a restart (a new ATTEMPT.log) moves it
 * to the new file.  An open `tail -f` sees the size drop to the new
 * file's, says "file truncated" and prints the new instance from its
 * start; only if the new instance has already written more than tail had
 * read of the old one when tail next polls (once a second) does it miss
 * that much of the new file's start.  A `cat` running across a restart
 * ends with the new file's tail.  The reader looks for another file when
 * the folder's mtime changed and when it reaches the end of its file.
 *
 * A reader also opens the index of the file it reads (podlog_line_time,
 * podlog_since).
 *
 * Not thread-safe per reader: its owner serializes calls on one reader
 * (the FUSE handle's lock).  The functions without a reader are.
 */
#ifndef CFS_PODLOG_H
#define CFS_PODLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "engine/mem.h"

/*
 * Line times.  Beside each ATTEMPT.log the node's log relay
 * (runtime/kubelet/logrelay.h) keeps ATTEMPT.idx: for each line start in
 * the log, in order, one record of PODLOG_REC_SIZE bytes (the offset, the
 * wall-clock time the relay read it, in ns since the epoch, and the
 * stream).  A record is written before the bytes it points at, so a line
 * that can be read has its time; rotation truncates both files.  A log
 * without an index (written before the relay existed) has the file's
 * mtime as the time of every line.
 */
#define PODLOG_REC_SIZE 16

enum podlog_stream { PODLOG_STDOUT = 0, PODLOG_STDERR = 1 };

struct podlog_rec {
	off_t off;  /* of the line's first byte in the log */
	int64_t ns; /* CLOCK_REALTIME when the relay read it */
	int stream; /* enum podlog_stream */
};

/* The on-disk form: two 64-bit words in the node's byte order (it writes
 * and reads them), offset << 1 | stream and ns.  Inline and
 * async-signal-safe: the relay's own executable has nothing else of
 * clusterfs. */
static inline void podlog_rec_pack(const struct podlog_rec *r, unsigned char out[PODLOG_REC_SIZE])
{
	uint64_t w[2] = {((uint64_t)r->off << 1) | (uint64_t)(r->stream & 1), (uint64_t)r->ns};
	memcpy(out, w, sizeof(w));
}

static inline void podlog_rec_unpack(const unsigned char in[PODLOG_REC_SIZE], struct podlog_rec *r)
{
	uint64_t w[2];
	memcpy(w, in, sizeof(w));
	r->off = (off_t)(w[0] >> 1);
	r->stream = (int)(w[0] & 1);
	r->ns = (int64_t)w[1];
}

/* The index path of a log path: "D/3.log" -> "D/3.idx" (caller frees). */
char *podlog_index_path(const char *log_path);

/* Which of a container's logs. */
enum podlog_role {
	PODLOG_CURRENT,	 /* the highest ATTEMPT.log */
	PODLOG_PREVIOUS, /* the second highest */
};

/* Locating */

/*
 * The folder of container's logs: LOGS/UID/CONTAINER (caller frees), or
 * NULL when logs_dir is NULL or uid or container could name anything but
 * one folder below the other ("", ".", "..", a '/').
 */
char *podlog_dir_new(const char *logs_dir, const char *uid, const char *container);

/* The attempt number role names in dir now, or -1 (no such file). */
int podlog_pick(const char *dir, enum podlog_role role);

/*
 * Size and mtime of the file role names in dir now: 0 and *st, or -ENOENT
 * when there is none (the caller shows an empty file).
 */
int podlog_stat(const char *dir, enum podlog_role role, struct stat *st);

/*
 * Appends the whole file role names in dir to out; none is empty.
 * -EFBIG (and nothing appended) when it is larger than cap; -errno on a
 * read error.  For the rare callers that need the text whole.
 */
int podlog_read_all(const char *dir, enum podlog_role role, size_t cap, struct buf *out);

/* Readers */

struct podlog;

/* A reader of the file role names in dir (copied); opens it if it exists.
 * Can't fail: a missing file reads as empty until it appears. */
struct podlog *podlog_open(const char *dir, enum podlog_role role);

/*
 * Reads up to n bytes at off into out: the count, 0 at the end, or -errno.
 * Reads the file the role names now, moving to it first when that is
 * another one (a new attempt, or a file made anew).
 */
ssize_t podlog_read(struct podlog *l, off_t off, char *out, size_t n);

/* The size of the file being read now (0 when none). */
off_t podlog_size(struct podlog *l);

/*
 * The time (ns since the epoch) of the line that starts at off in the file
 * being read, from its index: the record at off, else the last one before
 * it, else the file's mtime (no index, or none that early); *stream (when
 * not NULL) as recorded, PODLOG_STDOUT when unknown.  Calls at growing
 * offsets read the index on from where the last one stopped.
 */
int64_t podlog_line_time(struct podlog *l, off_t off, int *stream);

/*
 * Where the first line written at or after ns starts in the file being
 * read (a binary search in its index): an offset, the file's size when
 * no line is that recent.  Without an index: 0 when the file's mtime is at
 * or after ns, else its size.
 */
off_t podlog_since(struct podlog *l, int64_t ns);

/* Formats ns as RFC 3339 in UTC with 9 digits of fraction, the kubelet's
 * timestamps (30 bytes and the NUL): 2026-12-07T08:01:28.123456789Z. */
#define PODLOG_TIME_LEN 30
void podlog_time_format(int64_t ns, char out[PODLOG_TIME_LEN + 1]);

/* The attempt being read, or -1 (for tests). */
int podlog_attempt(const struct podlog *l);

/* Closes and frees.  NULL is fine. */
void podlog_free(struct podlog *l);

/*
 * Other sources: a node's logs kept on another machine, read through its
 * agent (engine/client/kubelet_client.h).  A "dir" that starts with
 * PODLOG_REMOTE_PREFIX (made by api_podlog_dir, engine/api/api_exec.h)
 * names one; podlog_open, podlog_pick, podlog_stat and podlog_read_all
 * hand the rest of it to the hook set here, whose readers are made with
 * podlog_custom.  Without a hook such a log reads as empty.
 */
#define PODLOG_REMOTE_PREFIX "kubelet://"

struct podlog_ops {
	ssize_t (*read)(void *arg, off_t off, char *out, size_t n);
	off_t (*size)(void *arg);
	int64_t (*line_time)(void *arg, off_t off, int *stream);
	off_t (*since)(void *arg, int64_t ns);
	int (*attempt)(void *arg);
	void (*free)(void *arg);
};

struct podlog_remote {
	/* A reader (never NULL: an empty one when it can't reach it). */
	struct podlog *(*open)(const char *where, enum podlog_role role);
	int (*stat)(const char *where, enum podlog_role role, struct stat *st);
};

/* Sets (NULL: clears) the hook; h static.  Thread-safe. */
void podlog_set_remote(const struct podlog_remote *h);
bool podlog_is_remote(const char *dir);
/* A reader whose calls go to ops with arg (freed by ops->free). */
struct podlog *podlog_custom(const struct podlog_ops *ops, void *arg, enum podlog_role role);

#endif
