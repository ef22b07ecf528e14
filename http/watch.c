/*
 * watch.c - ?watch=true on a collection: a chunked stream of WatchEvents,
 * one JSON object a line:
 *
 *     {"type":"ADDED","object":{"kind":"Pod",...}}
 *
 * From ?resourceVersion=N the stream carries every change after N, read
 * from the store's history (api_watch); N older than the retained history
 * is an ERROR event whose object is a 410 Expired Status, as the
 * apiserver answers, so that clients relist.  Without a resourceVersion
 * (or "0") it starts with a synthetic ADDED for each current object.
 * Namespace, labelSelector and fieldSelector filter the events; with a
 * selector an object that stops matching is DELETED and one that starts
 * matching ADDED, as Kubernetes does (which objects the client has is
 * taken from the list at the watch's start).  An Accept asking for a
 * Table makes each event's object a one-row Table (column definitions in
 * the first only).  timeoutSeconds ends the stream; allowWatchBookmarks
 * adds a BOOKMARK now and then.
 *
 * No thread per watch: each is a stream (stream.h) that suspends its
 * connection when it has sent everything; one feed thread follows the
 * store's revision and wakes the streams of the kinds that changed.  The
 * number of watches is bounded (429 TooManyRequests past it).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/clock.h"
#include "engine/hmap.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/valid/hpa.h"
#include "http/fieldsel.h"
#include "http/http_int.h"
#include "http/status.h"
#include "http/stream.h"
#include "http/table.h"

#define FEED_BATCH	  256
#define KEEPALIVE_MS	  30000
#define DEFAULT_TIMEOUT_S 1800

struct watch_feed {
	struct api *api;
	struct stream_hub *hub;
	pthread_t thread;
	volatile int stop;
	int count; /* live watches (atomic) */
	int max;
	int bookmark_ms;
};

/* The feed: wakes the watches of each kind that changed. */
static void *feed_main(void *arg)
{
	struct watch_feed *f = arg;
	struct store_event evs[FEED_BATCH];
	int64_t rev = api_rev(f->api);
	while (!__atomic_load_n(&f->stop, __ATOMIC_RELAXED)) {
		int n = api_watch(f->api, rev, evs, FEED_BATCH, 500, NULL);
		if (n == -ERANGE) {
			rev = api_rev(f->api);
			continue;
		}
		if (n <= 0)
			continue;
		bool changed[KI_COUNT] = {0};
		for (int i = 0; i < n; i++) {
			const struct kind_info *k = kind_by_kind(evs[i].obj->kind);
			long ki = k ? k - kind_table : -1;
			if (ki >= 0 && ki < KI_COUNT)
				changed[ki] = true;
		}
		rev = evs[n - 1].rv;
		store_events_free(evs, (size_t)n);
		for (int i = 0; i < KI_COUNT; i++)
			if (changed[i])
				stream_wake_tag(f->hub, &kind_table[i]);
	}
	return NULL;
}

int watch_feed_start(struct api *a, struct stream_hub *hub, int max, int bookmark_ms,
		     struct watch_feed **out)
{
	struct watch_feed *f = xcalloc(1, sizeof(*f));
	f->api = a;
	f->hub = hub;
	f->max = max;
	f->bookmark_ms = bookmark_ms;
	int rc = pthread_create(&f->thread, NULL, feed_main, f);
	if (rc) {
		free(f);
		return -rc;
	}
	*out = f;
	return 0;
}

void watch_feed_stop(struct watch_feed *f)
{
	if (!f)
		return;
	__atomic_store_n(&f->stop, 1, __ATOMIC_RELAXED);
	pthread_join(f->thread, NULL);
	free(f);
}

/* One watch */

struct watch {
	struct watch_feed *feed;
	struct api *api; /* the caller's (its view lives as long as the server) */
	const struct kind_info *kind;
	char *ns; /* NULL: all */
	struct api_labelsel *ls;
	struct fieldsel *fs;
	struct hmap seen; /* with a selector: "ns/name" the client has */
	bool filtered;
	const char *table; /* Table version, or NULL */
	enum table_include inc;
	bool headers_sent;
	bool alt;	    /* shown in another version than stored (http_alt_version) */
	int64_t rev;	    /* events up to this one are sent */
	struct sobj **init; /* synthetic ADDED still to send */
	size_t ninit, iinit;
	struct buf out;
	size_t off;
	int64_t deadline, next_bookmark, next_keepalive; /* ms; 0: none */
	bool expired, done;
	struct stream *stream;
};

static void watch_free(void *arg)
{
	struct watch *w = arg;
	__atomic_fetch_sub(&w->feed->count, 1, __ATOMIC_RELAXED);
	free(w->ns);
	api_labelsel_free(w->ls);
	fieldsel_free(w->fs);
	hmap_clear(&w->seen, NULL);
	for (size_t i = w->iinit; i < w->ninit; i++)
		sobj_unref(w->init[i]);
	free(w->init);
	buf_free(&w->out);
	free(w);
}

static bool matches(const struct watch *w, const struct sobj *o)
{
	if (w->ns && strcmp(o->ns, w->ns))
		return false;
	/* Only what the caller may read, now (a namespace's mode may change). */
	if (w->kind->namespaced && !api_may_read(w->api, w->kind, o->ns))
		return false;
	const json_t *labels = json_object_get(json_object_get(o->obj, "metadata"), "labels");
	return api_labelsel_matches(w->ls, labels) && fieldsel_matches(w->fs, o->obj);
}

/* The event's object: the object (with apiVersion, kind and rv), or a
 * one-row Table of it. */
static json_t *event_object(struct watch *w, const json_t *obj, int64_t rv)
{
	char rvs[32];
	snprintf(rvs, sizeof(rvs), "%lld", (long long)rv);
	json_t *c = json_copy((json_t *)obj);
	json_object_set_new(c, "apiVersion", json_string(w->kind->api_version));
	json_object_set_new(c, "kind", json_string(w->kind->kind));
	json_t *meta = json_object_get(c, "metadata");
	if (json_is_object(meta)) {
		meta = json_copy(meta);
		json_object_set_new(meta, "resourceVersion", json_string(rvs));
		json_object_set_new(c, "metadata", meta);
	}
	if (!w->table && w->alt) {
		json_t *v = hpa_to_v1(c);
		json_decref(c);
		return v;
	}
	if (!w->table)
		return c;
	json_t *rows = json_array();
	json_array_append_new(rows, table_row(w->kind, c, w->inc, (int64_t)time(NULL)));
	json_decref(c);
	json_t *t = table_new(w->table, w->kind, !w->headers_sent, rvs, rows);
	w->headers_sent = true;
	return t;
}

static void emit(struct watch *w, const char *type, json_t *obj)
{
	json_t *ev = json_pack("{s:s, s:o}", "type", type, "object", obj);
	char *s = json_dumps(ev, JSON_COMPACT);
	json_decref(ev);
	if (s) {
		buf_puts(&w->out, s);
		buf_puts(&w->out, "\n");
	}
	free(s);
}

static void key_of(const struct sobj *o, char *key, size_t n)
{
	snprintf(key, n, "%s/%s", o->ns, o->name);
}

/* One store event through the filters: ADDED / MODIFIED / DELETED or nothing. */
static void on_event(struct watch *w, const struct store_event *ev)
{
	const struct sobj *o = ev->obj;
	if (strcmp(o->kind, w->kind->kind))
		return;
	bool match = matches(w, o);
	const char *type = ev->type == STORE_ADDED	? "ADDED"
			   : ev->type == STORE_MODIFIED ? "MODIFIED"
							: "DELETED";
	if (w->filtered) {
		char key[600];
		key_of(o, key, sizeof(key));
		bool had = hmap_get(&w->seen, key) != NULL;
		if (ev->type == STORE_DELETED || !match) {
			if (!had)
				return;
			hmap_del(&w->seen, key);
			type = "DELETED";
		} else {
			if (!had)
				hmap_set(&w->seen, key, (void *)1);
			type = had && ev->type != STORE_ADDED ? "MODIFIED" : "ADDED";
		}
	} else if (!match) {
		return;
	}
	emit(w, type, event_object(w, o->obj, ev->rv));
}

static void emit_expired(struct watch *w, int64_t rev)
{
	char msg[96];
	snprintf(msg, sizeof(msg), "too old resource version: %lld (%lld)", (long long)rev,
		 (long long)api_rev(w->feed->api));
	emit(w, "ERROR", status_new(410, "Expired", msg));
}

static void emit_bookmark(struct watch *w)
{
	char rvs[32];
	snprintf(rvs, sizeof(rvs), "%lld", (long long)w->rev);
	json_t *o =
	    json_pack("{s:s, s:s, s:{s:s}}", "kind", w->kind->kind, "apiVersion",
		      w->alt ? HPA_V1 : w->kind->api_version, "metadata", "resourceVersion", rvs);
	if (w->table) {
		json_decref(o);
		o = table_new(w->table, w->kind, false, rvs, json_array());
	}
	emit(w, "BOOKMARK", o);
}

/* Appends what there is to send: the initial objects, then new events. */
static void produce(struct watch *w)
{
	while (w->iinit < w->ninit && w->out.len < 256 * 1024) {
		struct sobj *o = w->init[w->iinit++];
		emit(w, "ADDED", event_object(w, o->obj, o->rv));
		sobj_unref(o);
	}
	struct store_event evs[FEED_BATCH];
	while (w->out.len < 256 * 1024) {
		_cleanup_err_ struct err *e = NULL;
		int n = api_watch(w->feed->api, w->rev, evs, FEED_BATCH, 0, &e);
		if (n == -ERANGE) {
			emit_expired(w, w->rev);
			w->expired = true;
			return;
		}
		if (n <= 0)
			return;
		for (int i = 0; i < n; i++)
			on_event(w, &evs[i]);
		w->rev = evs[n - 1].rv;
		store_events_free(evs, (size_t)n);
	}
}

/* Nothing to send: a bookmark or a keep-alive when due, the end at the
 * deadline; else arms the next timed wake. */
static void idle(struct watch *w)
{
	int64_t now = mono_ms();
	if (w->deadline && now >= w->deadline) {
		w->done = true;
		return;
	}
	if (w->next_bookmark && now >= w->next_bookmark) {
		emit_bookmark(w);
		w->next_bookmark = now + w->feed->bookmark_ms;
	} else if (now >= w->next_keepalive) {
		buf_puts(&w->out, "\n"); /* lets a dead client be noticed */
	}
	if (w->out.len)
		w->next_keepalive = now + KEEPALIVE_MS;
	int64_t next = w->next_keepalive;
	if (w->next_bookmark && w->next_bookmark < next)
		next = w->next_bookmark;
	if (w->deadline && w->deadline < next)
		next = w->deadline;
	stream_wake_at(w->stream, next);
}

static ssize_t watch_fill(void *arg, char *buf, size_t max)
{
	struct watch *w = arg;
	if (w->off == w->out.len) {
		buf_free(&w->out);
		w->off = 0;
		if (w->expired || w->done)
			return -1;
		produce(w);
		if (!w->out.len)
			idle(w);
		else
			w->next_keepalive = mono_ms() + KEEPALIVE_MS;
		if (!w->out.len)
			return w->done ? -1 : 0;
	}
	size_t n = w->out.len - w->off < max ? w->out.len - w->off : max;
	memcpy(buf, w->out.s + w->off, n);
	w->off += n;
	return (ssize_t)n;
}

/* Parses the request into w; false (with rs set) on a bad one. */
static bool watch_parse(struct http_req *rq, struct http_resp *rs, struct watch *w)
{
	_cleanup_err_ struct err *e = NULL;
	const struct route *rt = &rq->rt;
	w->kind = rt->kind;
	w->alt = http_alt_version(rq);
	if (rt->kind->namespaced && rt->ns[0])
		w->ns = xstrdup(rt->ns);
	if (api_labelsel_parse(http_query(rq, "labelSelector"), &w->ls, &e) < 0 ||
	    fieldsel_parse(rt->kind, http_query(rq, "fieldSelector"), &w->fs, &e) < 0) {
		http_fail(rs, 400, "BadRequest", "%s", e ? e->msg : "bad selector");
		return false;
	}
	w->filtered = w->ls || w->fs;
	w->table = table_accept(http_header(rq, "Accept"));
	w->inc = table_include_parse(http_query(rq, "includeObject"));
	const char *ts = http_query(rq, "timeoutSeconds");
	long t = ts ? strtol(ts, NULL, 10) : DEFAULT_TIMEOUT_S;
	int64_t now = mono_ms();
	w->deadline = now + (t > 0 ? t : DEFAULT_TIMEOUT_S) * 1000;
	const char *bm = http_query(rq, "allowWatchBookmarks");
	if (bm && (!strcmp(bm, "true") || !strcmp(bm, "1")))
		w->next_bookmark = now + w->feed->bookmark_ms;
	w->next_keepalive = now + KEEPALIVE_MS;
	return true;
}

/* Where the stream starts: after ?resourceVersion, or the current objects
 * as synthetic ADDED events.  The list also seeds what a filtered watch
 * considers the client to have. */
static bool watch_start(struct http_req *rq, struct http_resp *rs, struct watch *w)
{
	const char *rvq = http_query(rq, "resourceVersion");
	char *end = NULL;
	long long rv = rvq && *rvq ? strtoll(rvq, &end, 10) : 0;
	if (rvq && *rvq && (*end || rv < 0)) {
		http_fail(rs, 400, "BadRequest", "invalid resourceVersion \"%s\"", rvq);
		return false;
	}
	bool from_list = rv == 0;
	if (!from_list && !w->filtered) {
		w->rev = rv;
		return true;
	}
	int64_t now_rev = api_rev(rq->api);
	struct sobj **v = NULL;
	int n = api_list(rq->api, w->kind, w->ns, NULL, &v, NULL);
	w->init = xcalloc((size_t)(n > 0 ? n : 0) + 1, sizeof(*w->init));
	for (int i = 0; i < n; i++) {
		if (!matches(w, v[i])) {
			sobj_unref(v[i]);
			continue;
		}
		if (w->filtered) {
			char key[600];
			key_of(v[i], key, sizeof(key));
			hmap_set(&w->seen, key, (void *)1);
		}
		if (from_list)
			w->init[w->ninit++] = v[i];
		else
			sobj_unref(v[i]);
	}
	free(v);
	w->rev = from_list ? now_rev : rv;
	return true;
}

void h_watch(struct http_req *rq, struct http_resp *rs)
{
	struct watch_feed *f = http_watch_feed(rq->srv);
	int live = __atomic_add_fetch(&f->count, 1, __ATOMIC_RELAXED);
	struct watch *w = xcalloc(1, sizeof(*w));
	w->feed = f;
	w->api = rq->api;
	if (live > f->max) {
		char msg[96];
		snprintf(msg, sizeof(msg), "too many watches (at most %d); retry later", f->max);
		json_t *st = status_new(429, "TooManyRequests", msg);
		json_object_set_new(st, "details", json_pack("{s:i}", "retryAfterSeconds", 1));
		http_resp_status(rs, st);
		watch_free(w);
		return;
	}
	if (!watch_parse(rq, rs, w) || !watch_start(rq, rs, w)) {
		watch_free(w);
		return;
	}
	w->stream =
	    stream_new(http_stream_hub(rq->srv), rq->conn, w->kind, watch_fill, watch_free, w);
	rs->code = 200;
	rs->ctype = "application/json";
	rs->stream = stream_read;
	rs->stream_arg = w->stream;
	rs->stream_free = stream_free;
}
