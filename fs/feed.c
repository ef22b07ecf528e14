/*
 * feed.c - append-only in-memory text files.  See feed.h.
 */
#include "fs/feed.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "engine/clock.h"
#include "engine/log.h"
#include "engine/mem.h"

/* Changes the refusals' feed walks through at most; beyond, it lists. */
#define FEED_SYNC_WALK_MAX 4096

struct feed {
	pthread_mutex_t lock; /* guards text, mtime_ns */
	struct buf text;
	size_t cap;	/* lock: the text's bound now ... */
	size_t cap_max; /* ... and at most (feed_new's) */
	int64_t mtime_ns;

	/* The refusals' feed (feed_keep_refusals) follows the store: */
	struct api *keep;
	pthread_mutex_t sync_lock; /* guards the two below; taken before lock */
	int64_t kept_rev;	   /* the store's revision read up to */
	char last[24];		   /* the newest line's name in the store */
	uint64_t unkept;	   /* api_refusals_unkept's sequence read up to */

	struct api *api; /* events follower, if started */
	pthread_t thread;
	bool running;
	bool stop; /* atomic */
};

struct feed *feed_new(size_t cap)
{
	struct feed *f = xcalloc(1, sizeof(*f));
	pthread_mutex_init(&f->lock, NULL);
	pthread_mutex_init(&f->sync_lock, NULL);
	f->cap = f->cap_max = cap;
	f->mtime_ns = wall_ns();
	return f;
}

void feed_free(struct feed *f)
{
	if (!f)
		return;
	feed_stop_events(f);
	buf_free(&f->text);
	pthread_mutex_destroy(&f->lock);
	pthread_mutex_destroy(&f->sync_lock);
	free(f);
}

void feed_append(struct feed *f, const char *line)
{
	size_t n = strlen(line);
	pthread_mutex_lock(&f->lock);
	if (f->text.len + n + 1 > f->cap && f->text.len > 0) {
		/* Drop the oldest lines: what the new line needs, and a 64th of
		 * the cap more so that a full feed is not moved at every line. */
		size_t cut = f->text.len + n + 1 - f->cap + f->cap / 64;
		if (cut > f->text.len)
			cut = f->text.len;
		char *nl = memchr(f->text.s + cut - 1, '\n', f->text.len - cut + 1);
		cut = nl ? (size_t)(nl - f->text.s) + 1 : f->text.len;
		memmove(f->text.s, f->text.s + cut, f->text.len - cut);
		f->text.len -= cut;
		f->text.s[f->text.len] = '\0';
	}
	buf_add(&f->text, line, n);
	if (n == 0 || line[n - 1] != '\n')
		buf_add(&f->text, "\n", 1);
	f->mtime_ns = wall_ns();
	pthread_mutex_unlock(&f->lock);
}

/* Appends lines (n, each freed) and frees the array. */
static void append_lines(struct feed *f, char **lines, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		feed_append(f, lines[i]);
		free(lines[i]);
	}
	free(lines);
}

/* Appends the refusals the store got since the last sync: from its watch,
 * or, when the watch has forgotten that far back, from its list. */
static void feed_sync(struct feed *f)
{
	if (!f->keep)
		return;
	pthread_mutex_lock(&f->sync_lock);
	struct store_event evs[256];
	while (api_rev(f->keep) != f->kept_rev) {
		/* Far behind (thousands of other changes since the last look, as
		 * after a burst of pods): the list of the few refusals kept is
		 * far cheaper than every change since, which may have to be read
		 * back from the store's log. */
		int got = api_rev(f->keep) - f->kept_rev > FEED_SYNC_WALK_MAX
			      ? -ERANGE
			      : api_watch(f->keep, f->kept_rev, evs, 256, 0, NULL);
		if (got == -ERANGE) {
			f->kept_rev = api_rev(f->keep);
			char **lines;
			size_t n = api_refusals_since(f->keep, f->last, &lines, f->last);
			append_lines(f, lines, n);
			break;
		}
		if (got <= 0)
			break;
		for (int i = 0; i < got; i++) {
			f->kept_rev = evs[i].rv;
			const struct sobj *o = evs[i].obj;
			if (evs[i].type == STORE_DELETED || strcmp(o->kind, API_REFUSAL_KIND) ||
			    strcmp(o->name, f->last) <= 0)
				continue;
			const char *line = json_string_value(json_object_get(o->obj, "line"));
			if (line)
				feed_append(f, line);
			snprintf(f->last, sizeof(f->last), "%s", o->name);
		}
		store_events_free(evs, (size_t)got);
	}
	/* and those the store could not keep (etcd unavailable) */
	char **lines;
	size_t n = api_refusals_unkept(f->keep, &f->unkept, &lines);
	append_lines(f, lines, n);
	pthread_mutex_unlock(&f->sync_lock);
}

void feed_keep_refusals(struct feed *f, struct api *a)
{
	pthread_mutex_lock(&f->sync_lock);
	f->kept_rev = api_rev(a);
	char **lines;
	size_t n = api_refusals_since(a, NULL, &lines, f->last);
	append_lines(f, lines, n);
	f->keep = a;
	pthread_mutex_unlock(&f->sync_lock);
}

size_t feed_size(struct feed *f)
{
	feed_sync(f);
	pthread_mutex_lock(&f->lock);
	size_t n = f->text.len;
	pthread_mutex_unlock(&f->lock);
	return n;
}

int64_t feed_mtime_ns(struct feed *f)
{
	feed_sync(f);
	pthread_mutex_lock(&f->lock);
	int64_t t = f->mtime_ns;
	pthread_mutex_unlock(&f->lock);
	return t;
}

size_t feed_read(struct feed *f, off_t off, char *out, size_t n)
{
	feed_sync(f);
	size_t got = 0;
	pthread_mutex_lock(&f->lock);
	if (off >= 0 && (size_t)off < f->text.len) {
		got = f->text.len - (size_t)off;
		if (got > n)
			got = n;
		memcpy(out, f->text.s + off, got);
	}
	pthread_mutex_unlock(&f->lock);
	return got;
}

char *feed_dup(struct feed *f, size_t *len)
{
	feed_sync(f);
	pthread_mutex_lock(&f->lock);
	char *s = xstrndup(f->text.s ? f->text.s : "", f->text.len);
	*len = f->text.len;
	pthread_mutex_unlock(&f->lock);
	return s;
}

/* Events */

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "";
}

void feed_event_line(const json_t *ev, struct buf *out)
{
	const json_t *io = json_object_get(ev, "involvedObject");
	const char *ts = jstr(ev, "lastTimestamp");
	if (!*ts)
		ts = jstr(ev, "eventTime");
	char kind[64];
	snprintf(kind, sizeof(kind), "%s", jstr(io, "kind"));
	for (char *c = kind; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	const char *ns = jstr(io, "namespace");
	buf_printf(out, "%s %s %s ", *ts ? ts : "-",
		   *jstr(ev, "type") ? jstr(ev, "type") : "Normal",
		   *jstr(ev, "reason") ? jstr(ev, "reason") : "-");
	if (*ns && strcmp(ns, "default"))
		buf_printf(out, "%s/", ns);
	buf_printf(out, "%s/%s ", kind, jstr(io, "name"));
	/* One line per event: newlines in a message become spaces. */
	for (const char *m = jstr(ev, "message"); *m; m++)
		buf_add(out, *m == '\n' ? " " : m, 1);
	int64_t count = json_integer_value(json_object_get(ev, "count"));
	if (count > 1)
		buf_printf(out, " (x%lld)", (long long)count);
	buf_add(out, "\n", 1);
}

static int cmp_event_time(const void *a, const void *b)
{
	const struct sobj *x = *(struct sobj *const *)a, *y = *(struct sobj *const *)b;
	int c = strcmp(jstr(x->obj, "lastTimestamp"), jstr(y->obj, "lastTimestamp"));
	if (c)
		return c;
	return x->rv < y->rv ? -1 : x->rv > y->rv;
}

/* The events feed's cap for `live` Events in the store (see feed.h). */
static void events_cap(struct feed *f, long live)
{
	size_t cap = live > 0 ? (size_t)live * FEED_EVENT_BYTES : 0;
	if (cap < FEED_EVENTS_MIN)
		cap = FEED_EVENTS_MIN;
	pthread_mutex_lock(&f->lock);
	f->cap = cap < f->cap_max ? cap : f->cap_max;
	pthread_mutex_unlock(&f->lock);
}

static void *follow_main(void *arg)
{
	struct feed *f = arg;
	int64_t rev = api_rev(f->api);
	struct sobj **v;
	int n = api_list(f->api, KIND_EVENT, NULL, NULL, &v, NULL);
	long live = n > 0 ? n : 0; /* Events in the store */
	events_cap(f, live);
	if (n > 0) {
		qsort(v, (size_t)n, sizeof(*v), cmp_event_time);
		struct buf b = {0};
		for (int i = 0; i < n; i++)
			feed_event_line(v[i]->obj, &b);
		if (b.len)
			feed_append(f, b.s);
		buf_free(&b);
		sobj_list_free(v, (size_t)n);
	}
	struct store_event evs[256];
	while (!__atomic_load_n(&f->stop, __ATOMIC_ACQUIRE)) {
		int got = api_watch(f->api, rev, evs, 256, 500, NULL);
		if (got == -ERANGE) {
			rev = api_rev(f->api);
			continue;
		}
		if (got <= 0)
			continue;
		struct buf b = {0};
		long was = live;
		for (int i = 0; i < got; i++) {
			rev = evs[i].rv;
			if (strcmp(evs[i].obj->kind, "Event"))
				continue;
			live += evs[i].type == STORE_ADDED     ? 1
				: evs[i].type == STORE_DELETED ? -1
							       : 0;
			if (evs[i].type != STORE_DELETED)
				feed_event_line(evs[i].obj->obj, &b);
		}
		if (live != was)
			events_cap(f, live);
		if (b.len)
			feed_append(f, b.s);
		buf_free(&b);
		store_events_free(evs, (size_t)got);
	}
	return NULL;
}

int feed_follow_events(struct feed *f, struct api *a, struct err **e)
{
	f->api = a;
	f->stop = false;
	int r = pthread_create(&f->thread, NULL, follow_main, f);
	if (r)
		return err_make(e, r, "starting the events feed: %s", strerror(r));
	f->running = true;
	return 0;
}

void feed_stop_events(struct feed *f)
{
	if (!f->running)
		return;
	__atomic_store_n(&f->stop, true, __ATOMIC_RELEASE);
	pthread_join(f->thread, NULL);
	f->running = false;
}
