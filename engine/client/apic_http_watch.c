/*
 * apic_http_watch.c - the HTTP client's watch (apic.h): one streaming
 * watch per kind (?watch=1&resourceVersion=R&allowWatchBookmarks=true,
 * pods with the caller's fieldSelector), all driven by one curl multi
 * handle on the caller's thread; WatchEvent lines are parsed as they
 * arrive and queued in the order each stream sent them.
 *
 * Every stream starts at the revision read when the watch opened, and
 * remembers the revision of the last event or bookmark it got.  A stream
 * that ends (the server's timeout) is resumed from there at once; one
 * that breaks (the server went away) is resumed from there with back-off
 * (250 ms doubling to 8 s; the outage logged once); one that is told 410
 * Expired starts again from the revision now and apic_watch_next()
 * answers -ERANGE, so that the caller re-reads everything after that
 * revision.  No change is missed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/clock.h"
#include "engine/client/apic_http_int.h"
#include "engine/log.h"
#include "engine/obj.h"

struct http_watch;

struct hstream {
	struct http_watch *w;
	const struct kind_info *k;
	int64_t rv; /* resume after this revision */
	CURL *h;    /* NULL: not connected */
	struct curl_slist *hd;
	struct buf line; /* what came since the last newline */
	bool gone;	 /* 410: start again from the revision now */
	int64_t retry_at;
	int backoff_ms;
	int64_t last_rx;
	size_t server;	  /* the index of the server it streams from */
	bool failed_over; /* it moved to the next server since it last got data */
	char ebuf[CURL_ERROR_SIZE];
};

struct http_watch {
	struct apic_watch base;
	struct apic_http *c;
	CURLM *multi;
	struct hstream *s;
	size_t ns;
	char *pod_fields;
	struct store_event *q; /* q[qhead..qlen) wait to be handed out */
	size_t qhead, qlen, qcap;
	bool resync; /* answer -ERANGE next */
};

static void push(struct http_watch *w, enum store_event_type type, int64_t rv, struct sobj *o)
{
	if (w->qlen == w->qcap) {
		w->qcap = w->qcap ? w->qcap * 2 : 64;
		w->q = xrealloc(w->q, w->qcap * sizeof(*w->q));
	}
	w->q[w->qlen++] = (struct store_event){type, rv, o};
}

/* One WatchEvent line. */
static void on_line(struct hstream *s, const char *p, size_t n)
{
	json_t *ev = json_loadb(p, n, 0, NULL);
	const char *type = obj_str(ev, "type");
	json_t *obj = json_object_get(ev, "object");
	const char *rvs = obj_str(obj, "metadata.resourceVersion");
	int64_t rv = rvs ? strtoll(rvs, NULL, 10) : 0;
	if (!type || !json_is_object(obj)) {
		if (n)
			log_warn("apic", "watch %s: not a WatchEvent: %.*s", s->k->plural,
				 (int)(n > 200 ? 200 : n), p);
	} else if (!strcmp(type, "ERROR")) {
		if (obj_int(obj, "code", 0) == 410)
			s->gone = true;
		else
			log_warn("apic", "watch %s: %s", s->k->plural,
				 obj_str(obj, "message") ?: "error");
	} else if (!strcmp(type, "BOOKMARK")) {
		if (rv > s->rv)
			s->rv = rv;
	} else {
		enum store_event_type t = !strcmp(type, "ADDED")     ? STORE_ADDED
					  : !strcmp(type, "DELETED") ? STORE_DELETED
								     : STORE_MODIFIED;
		push(s->w, t, rv, apic_http_sobj(s->k, json_incref(obj)));
		if (rv > s->rv)
			s->rv = rv;
	}
	json_decref(ev);
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct hstream *s = arg;
	size_t len = size * n;
	s->last_rx = mono_ms();
	long code = 0;
	curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
	buf_add(&s->line, p, len);
	if (code != 200)
		return len; /* a Status, read at the end */
	s->backoff_ms = 0;
	s->failed_over = false;
	size_t start = 0;
	for (size_t i = 0; i < s->line.len; i++) {
		if (s->line.s[i] != '\n')
			continue;
		if (!s->gone)
			on_line(s, s->line.s + start, i - start);
		start = i + 1;
	}
	if (start) {
		memmove(s->line.s, s->line.s + start, s->line.len - start + 1);
		s->line.len -= start;
	}
	return len;
}

/* A stream that has been silent too long (keep-alives come every 30 s)
 * is dead: abort it. */
static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	struct hstream *s = arg;
	return mono_ms() - s->last_rx > APIC_STALL_MS;
}

static void stream_start(struct http_watch *w, struct hstream *s)
{
	struct buf url = {0};
	char *path = apic_http_path(s->k, NULL, NULL, NULL);
	char *base = apic_http_current(w->c, &s->server);
	buf_printf(&url, "%s%s?watch=1&allowWatchBookmarks=true&resourceVersion=%lld", base, path,
		   (long long)s->rv);
	free(base);
	free(path);
	s->h = curl_easy_init();
	if (w->pod_fields && s->k == KIND_POD) {
		char *x = curl_easy_escape(s->h, w->pod_fields, 0);
		buf_printf(&url, "&fieldSelector=%s", x ? x : "");
		curl_free(x);
	}
	apic_http_setup(w->c, s->h, url.s);
	buf_free(&url);
	s->hd = curl_slist_append(NULL, "Accept: application/json");
	if (w->c->auth)
		s->hd = curl_slist_append(s->hd, w->c->auth);
	s->ebuf[0] = 0;
	buf_free(&s->line);
	s->last_rx = mono_ms();
	curl_easy_setopt(s->h, CURLOPT_HTTPHEADER, s->hd);
	curl_easy_setopt(s->h, CURLOPT_ERRORBUFFER, s->ebuf);
	curl_easy_setopt(s->h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(s->h, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(s->h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(s->h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(s->h, CURLOPT_XFERINFODATA, s);
	curl_easy_setopt(s->h, CURLOPT_PRIVATE, s);
	curl_multi_add_handle(w->multi, s->h);
}

static void stream_drop(struct http_watch *w, struct hstream *s)
{
	if (!s->h)
		return;
	curl_multi_remove_handle(w->multi, s->h);
	curl_easy_cleanup(s->h);
	curl_slist_free_all(s->hd);
	s->h = NULL;
	s->hd = NULL;
}

static void back_off(struct hstream *s)
{
	s->backoff_ms = s->backoff_ms ? s->backoff_ms * 2 : APIC_RETRY_MS;
	if (s->backoff_ms > APIC_RETRY_MAX_MS)
		s->backoff_ms = APIC_RETRY_MAX_MS;
	s->retry_at = mono_ms() + s->backoff_ms;
}

/* The stream ended: resume it, at once or after a back-off. */
static void stream_done(struct http_watch *w, struct hstream *s, CURLcode rc)
{
	long code = 0;
	curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK) {
		const char *why = *s->ebuf ? s->ebuf : curl_easy_strerror(rc);
		if (apic_http_failover(w->c, s->server, why) && !s->failed_over) {
			s->failed_over = true; /* the next server at once, once */
			s->retry_at = 0;
		} else {
			apic_http_reached(w->c, false, why);
			back_off(s);
		}
	} else if (code == 410) {
		s->gone = true;
		s->retry_at = 0;
	} else if (code != 200) {
		json_t *st = json_loadb(s->line.s ? s->line.s : "", s->line.len, 0, NULL);
		if (!s->backoff_ms)
			log_warn("apic", "watch %s: %ld %s; retrying", s->k->plural, code,
				 obj_str(st, "message") ?: "");
		json_decref(st);
		back_off(s);
	} else {
		s->retry_at = 0; /* the server ended it: resume at once */
	}
	stream_drop(w, s);
}

/* Starts the streams that are due; a stream told 410 first reads the
 * revision now (and the caller will be told to re-read everything). */
static int64_t start_due(struct http_watch *w, int64_t wake)
{
	int64_t now = mono_ms();
	for (size_t i = 0; i < w->ns; i++) {
		struct hstream *s = &w->s[i];
		if (s->h)
			continue;
		if (s->retry_at > now) {
			wake = s->retry_at < wake ? s->retry_at : wake;
			continue;
		}
		if (s->gone) {
			int64_t rev;
			if (apic_http_rev(w->c, &rev, NULL) < 0) {
				back_off(s);
				continue;
			}
			s->rv = rev;
			s->gone = false;
			w->resync = true;
		}
		stream_start(w, s);
	}
	return wake;
}

static void run_transfers(struct http_watch *w)
{
	int running = 0, left = 0;
	curl_multi_perform(w->multi, &running);
	CURLMsg *m;
	while ((m = curl_multi_info_read(w->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct hstream *s = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
		if (s)
			stream_done(w, s, m->data.result);
	}
}

static int hw_next(struct apic_watch *aw, struct store_event *evs, size_t max, int timeout_ms)
{
	struct http_watch *w = (struct http_watch *)aw;
	int64_t deadline = mono_ms() + timeout_ms;
	for (;;) {
		if (w->qhead < w->qlen) {
			size_t n = w->qlen - w->qhead < max ? w->qlen - w->qhead : max;
			memcpy(evs, w->q + w->qhead, n * sizeof(*evs));
			w->qhead += n;
			if (w->qhead == w->qlen)
				w->qhead = w->qlen = 0;
			return (int)n;
		}
		if (w->resync) {
			w->resync = false;
			return -ERANGE;
		}
		int64_t wake = start_due(w, deadline);
		if (w->resync)
			continue;
		run_transfers(w);
		if (w->qlen || w->resync)
			continue;
		int64_t now = mono_ms();
		if (now >= deadline)
			return 0;
		int64_t wait = wake - now;
		if (wait > 200)
			wait = 200;
		curl_multi_poll(w->multi, NULL, 0, (int)(wait > 0 ? wait : 0), NULL);
	}
}

static void hw_close(struct apic_watch *aw)
{
	struct http_watch *w = (struct http_watch *)aw;
	for (size_t i = 0; i < w->ns; i++) {
		stream_drop(w, &w->s[i]);
		buf_free(&w->s[i].line);
	}
	store_events_free(w->q + w->qhead, w->qlen - w->qhead);
	free(w->q);
	curl_multi_cleanup(w->multi);
	free(w->s);
	free(w->pod_fields);
	free(w);
}

static const struct apic_watch_ops http_watch_ops = {.next = hw_next, .close = hw_close};

int apic_http_watch_open(struct apic *ac, const struct apic_watch_spec *sp, struct apic_watch **out,
			 struct err **e)
{
	struct apic_http *c = (struct apic_http *)ac;
	int64_t rev;
	int r = apic_http_rev(c, &rev, e);
	if (r < 0)
		return r;
	struct http_watch *w = xcalloc(1, sizeof(*w));
	w->base.ops = &http_watch_ops;
	w->c = c;
	w->multi = curl_multi_init();
	w->pod_fields = sp->pod_fields && *sp->pod_fields ? xstrdup(sp->pod_fields) : NULL;
	size_t n = sp->nkinds ? sp->nkinds : (size_t)KI_COUNT;
	w->s = xcalloc(n, sizeof(*w->s));
	for (size_t i = 0; i < n; i++) {
		const struct kind_info *k = sp->nkinds ? sp->kinds[i] : &kind_table[i];
		if (!sp->nkinds && k == KIND_EVENT)
			continue;
		w->s[w->ns++] = (struct hstream){.w = w, .k = k, .rv = rev};
	}
	*out = &w->base;
	return 0;
}
