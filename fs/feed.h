/*
 * feed.h - an append-only text file in memory, read by offset: the
 * backing of /cluster/errors and /cluster/events.
 *
 * Lines are only ever appended, so a reader's offset stays valid and the
 * size only grows (what `tail -f` on FUSE needs: it polls stat).  When the
 * text passes its cap, the oldest whole lines are dropped (what the new
 * line needs and a 64th of the cap more, so a full feed keeps between
 * 63/64 of its cap and all of it), and the file shrinks: tail reports a
 * truncation and reads on.  The errors feed follows the refusals kept
 * in the store (feed_keep_refusals), so that it shows every face's and
 * survives a restart.
 *
 * Thread-safe: one mutex per feed (a leaf lock).
 */
#ifndef CFS_FEED_H
#define CFS_FEED_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/api/api.h"
#include "engine/mem.h"

struct feed;

struct feed *feed_new(size_t cap);
void feed_free(struct feed *f);

/* Appends one line (a newline is added if missing). Can't fail. */
void feed_append(struct feed *f, const char *line);

/*
 * Makes f the log of refused writes kept in the store (api_refused(), by
 * any face): appends the lines kept there (oldest first), and from then on
 * follows the store: each read of f (size, mtime, read, dup) first appends
 * the lines recorded since, so a refusal recorded by any face is in f when
 * its call returns.  Lines the store could not keep (api_refusals_unkept:
 * etcd unavailable) are appended too, from this server's memory.  Call
 * once, before f is shared.
 */
void feed_keep_refusals(struct feed *f, struct api *a);
size_t feed_size(struct feed *f);
int64_t feed_mtime_ns(struct feed *f);
/* Copies up to n bytes from off into out; returns the count (0 at the end). */
size_t feed_read(struct feed *f, off_t off, char *out, size_t n);
/* A copy of the whole text (caller frees). */
char *feed_dup(struct feed *f, size_t *len);

/*
 * Formats Event objects as lines of /cluster/events:
 *     2026-11-26T01:07:11Z Normal Scheduled pod/web-7d4b9-x2bqz Successfully assigned ...
 * Namespaced objects outside "default" are named NS/kind/name.
 */
void feed_event_line(const json_t *ev, struct buf *out);

/*
 * Starts a thread that fills f with every Event: those stored now, oldest
 * first, then each one added or updated.  feed_stop_events() ends it.
 * The thread also bounds the text by the Events the store holds: at most
 * FEED_EVENT_BYTES for each (at least FEED_EVENTS_MIN, at most the cap
 * feed_new was given), so that the feed does not grow when pods come and
 * go and their Events expire (a 30,000-pod burst still keeps every line).
 */
#define FEED_EVENT_BYTES 256
#define FEED_EVENTS_MIN	 (512u << 10)
int feed_follow_events(struct feed *f, struct api *a, struct err **e);
void feed_stop_events(struct feed *f);

#endif
