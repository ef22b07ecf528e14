/*
 * stream.c - suspended chunked responses and their wakes (see stream.h).
 *
 * The hub keeps its streams on a doubly linked list under one mutex.  A
 * stream's state: `woken` (a wake came since its fill last started),
 * `suspended` (we suspended the connection and nobody resumed it yet),
 * `suspending` (fill said "nothing now" and the suspend is being done
 * outside the lock).  Only the thread that flips `suspended` from true to
 * false resumes the connection, so it is resumed exactly once per suspend,
 * and a suspended connection is never closed by the library, so the
 * stream cannot be freed under a waker.
 */
#include "http/stream.h"

#include <errno.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "engine/clock.h"
#include "engine/mem.h"

struct stream {
	struct stream *prev, *next;
	struct stream_hub *hub;
	struct MHD_Connection *conn;
	const void *tag;
	stream_fill_fn fill;
	void (*free_arg)(void *);
	void *arg;
	int64_t wake_at;
	int fd; /* the connection's socket, -1 if unknown */
	bool woken, suspended, suspending, gone;
};

struct stream_hub {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct stream *head;
	size_t n;
	bool closing;
	pthread_t timer;
	bool timer_started;
	int64_t next_check; /* when to look for clients gone away */
};

/* With h->mu held: marks s woken; returns true when the caller must
 * resume its connection (after unlocking). */
static bool wake_locked(struct stream *s)
{
	s->woken = true;
	s->wake_at = 0;
	if (!s->suspended)
		return false;
	s->suspended = false;
	return true;
}

void stream_wake(struct stream *s)
{
	pthread_mutex_lock(&s->hub->mu);
	bool resume = wake_locked(s);
	pthread_mutex_unlock(&s->hub->mu);
	if (resume)
		MHD_resume_connection(s->conn);
}

/* Wakes the streams pick() selects, resuming outside the lock. */
static void wake_some(struct stream_hub *h, bool (*pick)(struct stream *, const void *),
		      const void *ctx)
{
	struct MHD_Connection *batch[64];
	bool again = true;
	while (again) {
		size_t n = 0;
		again = false;
		pthread_mutex_lock(&h->mu);
		for (struct stream *s = h->head; s; s = s->next) {
			if (!pick(s, ctx))
				continue;
			if (n == 64) {
				again = true;
				break;
			}
			if (wake_locked(s))
				batch[n++] = s->conn;
		}
		pthread_mutex_unlock(&h->mu);
		for (size_t i = 0; i < n; i++)
			MHD_resume_connection(batch[i]);
	}
}

static bool pick_tag(struct stream *s, const void *tag)
{
	return s->tag == tag && !s->woken;
}

void stream_wake_tag(struct stream_hub *h, const void *tag)
{
	wake_some(h, pick_tag, tag);
}

static bool pick_due(struct stream *s, const void *now)
{
	return s->wake_at && s->wake_at <= *(const int64_t *)now && !s->woken;
}

static bool pick_all(struct stream *s, const void *ctx)
{
	return !s->woken || s->suspended;
}

void stream_wake_at(struct stream *s, int64_t when_ms)
{
	pthread_mutex_lock(&s->hub->mu);
	s->wake_at = when_ms;
	pthread_cond_signal(&s->hub->cv);
	pthread_mutex_unlock(&s->hub->mu);
}

/*
 * With h->mu held: marks suspended streams whose client hung up (the
 * library polls no suspended socket, so it would not notice) as gone and
 * due, so that the timer ends them.  A watch's client sends nothing more
 * after its request: a hang-up is the only thing to see.
 */
static void check_gone(struct stream_hub *h, int64_t now)
{
	struct pollfd pf[256];
	struct stream *who[256];
	struct stream *s = h->head;
	while (s) {
		nfds_t n = 0;
		for (; s && n < 256; s = s->next)
			if (s->suspended && s->fd >= 0 && !s->gone) {
				pf[n] = (struct pollfd){.fd = s->fd, .events = POLLRDHUP};
				who[n++] = s;
			}
		if (n && poll(pf, n, 0) > 0)
			for (nfds_t i = 0; i < n; i++)
				if (pf[i].revents & (POLLRDHUP | POLLHUP | POLLERR)) {
					who[i]->gone = true;
					who[i]->wake_at = now;
				}
	}
}

/* The timer: wakes streams whose time came, checking at least every second. */
static void *timer_main(void *arg)
{
	struct stream_hub *h = arg;
	pthread_mutex_lock(&h->mu);
	while (!h->closing) {
		int64_t now = mono_ms(), next = now + 1000;
		if (now >= h->next_check) {
			check_gone(h, now);
			h->next_check = now + 1000;
		}
		bool due = false;
		for (struct stream *s = h->head; s; s = s->next) {
			if (s->wake_at && s->wake_at <= now)
				due = true;
			else if (s->wake_at && s->wake_at < next)
				next = s->wake_at;
		}
		if (due) {
			pthread_mutex_unlock(&h->mu);
			wake_some(h, pick_due, &now);
			pthread_mutex_lock(&h->mu);
			continue;
		}
		struct timespec ts = mono_deadline(next - now);
		pthread_cond_timedwait(&h->cv, &h->mu, &ts);
	}
	pthread_mutex_unlock(&h->mu);
	return NULL;
}

int stream_hub_new(struct stream_hub **out)
{
	struct stream_hub *h = xcalloc(1, sizeof(*h));
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&h->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&h->mu, NULL);
	int rc = pthread_create(&h->timer, NULL, timer_main, h);
	if (rc) {
		stream_hub_free(h);
		return -rc;
	}
	h->timer_started = true;
	*out = h;
	return 0;
}

void stream_hub_close(struct stream_hub *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->mu);
	h->closing = true;
	pthread_cond_broadcast(&h->cv);
	pthread_mutex_unlock(&h->mu);
	if (h->timer_started)
		pthread_join(h->timer, NULL);
	h->timer_started = false;
	for (int i = 0; i < 200; i++) {
		wake_some(h, pick_all, NULL);
		pthread_mutex_lock(&h->mu);
		size_t n = h->n;
		pthread_mutex_unlock(&h->mu);
		if (!n)
			break;
		usleep(10000);
	}
}

void stream_hub_free(struct stream_hub *h)
{
	if (!h)
		return;
	stream_hub_close(h);
	pthread_mutex_destroy(&h->mu);
	pthread_cond_destroy(&h->cv);
	free(h);
}

struct stream *stream_new(struct stream_hub *h, struct MHD_Connection *conn, const void *tag,
			  stream_fill_fn fill, void (*free_arg)(void *), void *arg)
{
	struct stream *s = xcalloc(1, sizeof(*s));
	s->hub = h;
	s->conn = conn;
	s->tag = tag;
	s->fill = fill;
	s->free_arg = free_arg;
	s->arg = arg;
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	s->fd = ci ? ci->connect_fd : -1;
	pthread_mutex_lock(&h->mu);
	s->next = h->head;
	if (h->head)
		h->head->prev = s;
	h->head = s;
	h->n++;
	pthread_mutex_unlock(&h->mu);
	return s;
}

ssize_t stream_read(void *arg, uint64_t pos, char *buf, size_t max)
{
	struct stream *s = arg;
	struct stream_hub *h = s->hub;
	pthread_mutex_lock(&h->mu);
	bool closing = h->closing || s->gone;
	s->woken = false;
	pthread_mutex_unlock(&h->mu);
	if (closing)
		return MHD_CONTENT_READER_END_OF_STREAM;
	ssize_t n = s->fill(s->arg, buf, max);
	if (n != 0)
		return n < 0 ? MHD_CONTENT_READER_END_OF_STREAM : n;
	pthread_mutex_lock(&h->mu);
	bool woken = s->woken || h->closing;
	s->suspending = !woken;
	pthread_mutex_unlock(&h->mu);
	if (woken)
		return 0; /* asked again at once */
	MHD_suspend_connection(s->conn);
	pthread_mutex_lock(&h->mu);
	s->suspending = false;
	bool resume = s->woken || h->closing;
	s->suspended = !resume;
	pthread_mutex_unlock(&h->mu);
	if (resume)
		MHD_resume_connection(s->conn);
	return 0;
}

void stream_free(void *arg)
{
	struct stream *s = arg;
	struct stream_hub *h = s->hub;
	pthread_mutex_lock(&h->mu);
	if (s->prev)
		s->prev->next = s->next;
	else
		h->head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	h->n--;
	pthread_mutex_unlock(&h->mu);
	if (s->free_arg)
		s->free_arg(s->arg);
	free(s);
}
