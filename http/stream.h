/*
 * stream.h - long-lived chunked responses (watches, log follows) that
 * hold no server thread while they have nothing to send.
 *
 * A stream is a fill function and a wake.  libmicrohttpd asks the stream
 * for bytes from one of its pool threads; the stream calls fill, which
 * answers bytes (> 0), the end (-1), or "nothing now" (0).  On "nothing
 * now" the connection is suspended (MHD_suspend_connection, which 0.9.75
 * allows from a content reader) and costs no thread and no polling until
 * something calls stream_wake() (any thread: a watcher that saw the store
 * move, a timer) or the wake time set with stream_wake_at() passes; then
 * the connection is resumed and fill is asked again.  A wake that comes
 * while fill runs is not lost: the connection is then not suspended.
 *
 * A hub owns the streams of one server: a tag lets a caller wake every
 * stream of one sort at once (stream_wake_tag), and one timer thread wakes
 * streams whose wake time passed.  While a connection is suspended the
 * library cannot see its client go away: the timer polls the sockets of
 * suspended streams for a hang-up (POLLRDHUP) every second and ends those
 * streams, so that a dead client's watch does not hold its slot; a fill
 * may also send something now and then (a watch sends a blank line).
 *
 * No libmicrohttpd call is made with the hub's lock held.  Thread-safe.
 */
#ifndef CFS_HTTP_STREAM_H
#define CFS_HTTP_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct MHD_Connection;
struct stream_hub;
struct stream;

/* bytes written (> 0), 0: nothing now (wake me), -1: the end. */
typedef ssize_t (*stream_fill_fn)(void *arg, char *buf, size_t max);

int stream_hub_new(struct stream_hub **out);
/*
 * Ends every stream (their next read is the end of the stream), resumes
 * the suspended ones and waits (up to 2 s) until the library has freed
 * them: call before MHD_stop_daemon, which must not find a connection
 * suspended.  Then stops the timer.  NULL is fine.
 */
void stream_hub_close(struct stream_hub *h);
void stream_hub_free(struct stream_hub *h);

/* A new stream on conn; fill(arg) produces its bytes, free_arg(arg) runs
 * when the library is done with it.  tag: for stream_wake_tag (any
 * pointer, may be NULL). */
struct stream *stream_new(struct stream_hub *h, struct MHD_Connection *conn, const void *tag,
			  stream_fill_fn fill, void (*free_arg)(void *), void *arg);

/* For http_resp.stream / stream_free (s as the argument). */
ssize_t stream_read(void *s, uint64_t pos, char *buf, size_t max);
void stream_free(void *s);

/* Asks for fill to run again soon.  Any thread. */
void stream_wake(struct stream *s);
/* Wakes every stream with this tag. */
void stream_wake_tag(struct stream_hub *h, const void *tag);
/* Wakes s at when_ms (mono_ms(), engine/clock.h; 0: no timed wake).
 * Call from fill. */
void stream_wake_at(struct stream *s, int64_t when_ms);

#endif
