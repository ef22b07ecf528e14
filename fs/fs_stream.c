/*
 * fs_stream.c - files whose reads wait for news: deployments/NAME/rollout,
 * which reads like `kubectl rollout status`.
 *
 *     $ sed -i 's/busybox:1.36/busybox:1.37/' /cluster/deployments/web.yaml
 *     $ cat /cluster/deployments/web/rollout
 *     Waiting for deployment "web" rollout to finish: 1 out of 4 new replicas have been updated...
 *     Waiting for deployment "web" rollout to finish: 2 out of 4 new replicas have been updated...
 *     ...
 *     Waiting for deployment "web" rollout to finish: 1 old replicas are pending termination...
 *     deployment "web" successfully rolled out
 *     $ echo $?
 *     0
 *
 * An open stream file keeps the text shown so far in its handle; a line is
 * added whenever the Deployment's rollout line changes.  A read past that
 * text is not answered at once: the request is parked (no libfuse worker
 * waits, no lock is held) and answered from the watcher (an informer on
 * its own thread) when a line is added, as libfuse's example/poll.c
 * answers from a thread of its own.  When the rollout completes the next
 * read past the text gets EOF; when it fails (ProgressDeadlineExceeded),
 * the error line is shown and the next read fails with ETIMEDOUT; a
 * deleted Deployment fails it with ENOENT.  Neither is a refused write:
 * nothing goes to the errors file (a read changes nothing to report).
 * An interrupted reader (Ctrl-C) gets EINTR at once.  A reader that opened
 * the file O_NONBLOCK (grep -r, find's readers do) never waits: it gets the
 * text there is, then EOF, so that searching the tree never hangs.
 *
 * Locks: streams->lock guards the lists of stream handles and parked
 * reads; it is taken before a handle's lock and never held across a reply
 * or an API call.
 */
#include "fs/fs_int.h"

#include <errno.h>
#include <string.h>

#include "engine/client/informer.h"
#include "engine/log.h"
#include "fs/feed.h"
#include "fs/view_deploy.h"

#define STREAM_IDLE_MS 1000 /* parked reads are re-checked this often too */

struct sh {
	struct handle *h;
	struct sh *next;
};

struct waiter {
	fuse_req_t req;
	struct handle *h;
	size_t size;
	off_t off;
	/* the answer, once settled (see stream_take) */
	int r;
	char *buf;
	size_t n;
	struct waiter *next;
};

struct fs_streams {
	struct fs *fs;
	struct informer *inf;
	pthread_mutex_t lock;	/* guards handles and waiters */
	struct sh *handles;	/* open stream handles */
	struct waiter *waiters; /* parked reads */
};

/* Brings h's text up to dep (NULL: the Deployment is gone).  Takes h->lock. */
static void stream_update(struct handle *h, const json_t *dep)
{
	pthread_mutex_lock(&h->lock);
	if (h->stream_end == 0) {
		if (!dep) {
			h->stream_end = ENOENT;
		} else {
			struct buf line = {0};
			enum vd_rollout st = vd_rollout_line(dep, &line);
			size_t last = h->stream_last;
			bool same = h->data.len - last == line.len &&
				    !memcmp(h->data.s + last, line.s, line.len);
			if (!same) {
				h->stream_last = h->data.len;
				buf_add(&h->data, line.s, line.len);
			}
			if (st == VD_DONE)
				h->stream_end = -1;
			else if (st == VD_FAILED)
				h->stream_end = ETIMEDOUT;
			buf_free(&line);
		}
	}
	pthread_mutex_unlock(&h->lock);
}

/*
 * What a read of size at off gets now: 1 with *buf, *n (n 0: EOF), a
 * negative errno, or 0 when it has to wait.
 */
static int stream_take(struct handle *h, size_t size, off_t off, char **buf, size_t *n)
{
	int r = 0;
	*buf = NULL;
	*n = 0;
	pthread_mutex_lock(&h->lock);
	if (off >= 0 && (size_t)off < h->data.len) {
		*n = h->data.len - (size_t)off < size ? h->data.len - (size_t)off : size;
		*buf = xmalloc(*n ? *n : 1);
		memcpy(*buf, h->data.s + off, *n);
		r = 1;
	} else if (h->stream_end < 0) {
		r = 1;
	} else if (h->stream_end > 0) {
		r = -h->stream_end;
	}
	pthread_mutex_unlock(&h->lock);
	return r;
}

/* Answers a read that stream_take settled.  No lock held. */
static void stream_reply(fuse_req_t req, int r, char *buf, size_t n)
{
	if (r < 0)
		fuse_reply_err(req, -r);
	else
		fuse_reply_buf(req, buf, n);
	free(buf);
}

/* A parked read's interrupt (Ctrl-C): answered EINTR if still parked.
 * Runs on a libfuse thread, with the request kept alive by libfuse. */
static void stream_interrupt(fuse_req_t req, void *arg)
{
	struct fs_streams *s = arg;
	struct waiter *w = NULL;
	pthread_mutex_lock(&s->lock);
	for (struct waiter **pp = &s->waiters; *pp; pp = &(*pp)->next) {
		if ((*pp)->req == req) {
			w = *pp;
			*pp = w->next;
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (w) {
		fuse_reply_err(req, EINTR);
		free(w);
	}
}

/* Brings the handles of ns/name up to dep (NULL: gone) and answers the
 * parked reads that can be answered now. */
static void stream_news(struct fs_streams *s, const char *ns, const char *name, const json_t *dep)
{
	struct waiter *ready = NULL;
	pthread_mutex_lock(&s->lock);
	for (struct sh *e = s->handles; e; e = e->next)
		if (!strcmp(e->h->vp.ns, ns) && !strcmp(e->h->vp.name, name))
			stream_update(e->h, dep);
	for (struct waiter **pp = &s->waiters; *pp;) {
		struct waiter *w = *pp;
		if (strcmp(w->h->vp.ns, ns) || strcmp(w->h->vp.name, name)) {
			pp = &w->next;
			continue;
		}
		w->r = stream_take(w->h, w->size, w->off, &w->buf, &w->n);
		if (w->r == 0) {
			pp = &w->next;
			continue;
		}
		*pp = w->next;
		w->next = ready;
		ready = w;
	}
	pthread_mutex_unlock(&s->lock);
	while (ready) {
		struct waiter *w = ready;
		ready = w->next;
		stream_reply(w->req, w->r, w->buf, w->n);
		free(w);
	}
}

/* The watcher: Deployment changes */

static void on_event(void *arg, const struct store_event *ev)
{
	struct fs_streams *s = arg;
	if (strcmp(ev->obj->kind, "Deployment"))
		return;
	bool any = false;
	pthread_mutex_lock(&s->lock);
	for (struct sh *e = s->handles; e && !any; e = e->next)
		any = !strcmp(e->h->vp.ns, ev->obj->ns) && !strcmp(e->h->vp.name, ev->obj->name);
	pthread_mutex_unlock(&s->lock);
	if (any)
		stream_news(s, ev->obj->ns, ev->obj->name,
			    ev->type == STORE_DELETED ? NULL : ev->obj->obj);
}

/* Every idle_ms and after a resync: re-read the Deployments that parked
 * reads wait on (a safety net; events carry the news). */
static void on_idle(void *arg)
{
	struct fs_streams *s = arg;
	char(*keys)[2][256] = NULL;
	size_t n = 0;
	pthread_mutex_lock(&s->lock);
	for (struct waiter *w = s->waiters; w; w = w->next) {
		keys = xrealloc(keys, (n + 1) * sizeof(*keys));
		snprintf(keys[n][0], 256, "%s", w->h->vp.ns);
		snprintf(keys[n][1], 256, "%s", w->h->vp.name);
		n++;
	}
	pthread_mutex_unlock(&s->lock);
	for (size_t i = 0; i < n; i++) {
		struct sobj *d = api_get(s->fs->view.api, KIND_DEPLOYMENT, keys[i][0], keys[i][1]);
		stream_news(s, keys[i][0], keys[i][1], d ? d->obj : NULL);
		sobj_unref(d);
	}
	free(keys);
}

/* Interface (fs_int.h) */

int fs_streams_start(struct fs *fs, struct err **e)
{
	struct fs_streams *s = xcalloc(1, sizeof(*s));
	s->fs = fs;
	pthread_mutex_init(&s->lock, NULL);
	static const struct informer_ops ops = {on_idle, on_event, on_idle, STREAM_IDLE_MS};
	int r = informer_start(fs->view.api, "fs-streams", &ops, s, &s->inf, e);
	if (r < 0) {
		pthread_mutex_destroy(&s->lock);
		free(s);
		return r;
	}
	fs->streams = s;
	return 0;
}

void fs_streams_stop(struct fs *fs)
{
	struct fs_streams *s = fs->streams;
	if (!s)
		return;
	informer_stop(s->inf);
	pthread_mutex_lock(&s->lock);
	struct waiter *w = s->waiters;
	s->waiters = NULL;
	while (s->handles) {
		struct sh *e = s->handles;
		s->handles = e->next;
		free(e);
	}
	pthread_mutex_unlock(&s->lock);
	while (w) {
		struct waiter *next = w->next;
		fuse_reply_err(w->req, EINTR);
		free(w);
		w = next;
	}
	pthread_mutex_destroy(&s->lock);
	free(s);
	fs->streams = NULL;
}

void fs_stream_open(struct fs *fs, struct handle *h)
{
	struct fs_streams *s = fs->streams;
	struct sobj *d = api_get(fs->view.api, h->vp.k, h->vp.ns, h->vp.name);
	stream_update(h, d ? d->obj : NULL);
	sobj_unref(d);
	struct sh *e = xcalloc(1, sizeof(*e));
	e->h = h;
	pthread_mutex_lock(&s->lock);
	e->next = s->handles;
	s->handles = e;
	pthread_mutex_unlock(&s->lock);
}

void fs_stream_read(fuse_req_t req, struct handle *h, size_t size, off_t off, bool nonblock)
{
	struct fs *fs = fs_of(req);
	struct fs_streams *s = fs->streams;
	char *buf;
	size_t n;
	int r = stream_take(h, size, off, &buf, &n);
	if (r == 0) {
		/* Nothing new in the text: look at the Deployment now. */
		struct sobj *d = api_get(fs->view.api, h->vp.k, h->vp.ns, h->vp.name);
		stream_update(h, d ? d->obj : NULL);
		sobj_unref(d);
		r = stream_take(h, size, off, &buf, &n);
	}
	if (r == 0 && nonblock) {
		/* O_NONBLOCK (grep -r opens files so): what there is, then EOF. */
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	if (r != 0) {
		if (nonblock && r < 0)
			r = 1; /* the text shows the failure; no error for a snapshot reader */
		stream_reply(req, r, buf, n);
		return;
	}
	/* Park it.  The interrupt function first: once the request is on the
	 * list another thread may answer (and free) it. */
	fuse_req_interrupt_func(req, stream_interrupt, s);
	pthread_mutex_lock(&s->lock);
	if (fuse_req_interrupted(req)) {
		pthread_mutex_unlock(&s->lock);
		fuse_reply_err(req, EINTR);
		return;
	}
	r = stream_take(h, size, off, &buf, &n); /* news meanwhile? */
	if (r != 0) {
		pthread_mutex_unlock(&s->lock);
		stream_reply(req, r, buf, n);
		return;
	}
	struct waiter *w = xcalloc(1, sizeof(*w));
	w->req = req;
	w->h = h;
	w->size = size;
	w->off = off;
	w->next = s->waiters;
	s->waiters = w;
	pthread_mutex_unlock(&s->lock);
}

void fs_stream_release(struct fs *fs, struct handle *h)
{
	struct fs_streams *s = fs->streams;
	if (!s)
		return;
	struct waiter *orphans = NULL;
	pthread_mutex_lock(&s->lock);
	for (struct sh **pp = &s->handles; *pp; pp = &(*pp)->next) {
		if ((*pp)->h == h) {
			struct sh *e = *pp;
			*pp = e->next;
			free(e);
			break;
		}
	}
	/* The kernel releases a file only when no read of it is in flight;
	 * answer any left anyway rather than leak them. */
	for (struct waiter **pp = &s->waiters; *pp;) {
		struct waiter *w = *pp;
		if (w->h == h) {
			*pp = w->next;
			w->next = orphans;
			orphans = w;
		} else {
			pp = &w->next;
		}
	}
	pthread_mutex_unlock(&s->lock);
	while (orphans) {
		struct waiter *w = orphans;
		orphans = w->next;
		fuse_reply_err(w->req, EINTR);
		free(w);
	}
}
