/*
 * etcd_watch.c - the etcd client's watch (etcd.h): a streaming POST to the
 * gateway's /v3/watch on a thread of the watch's own, driven by a curl
 * multi handle so that etcd_watch_stop wakes it at once.
 *
 *     POST /v3/watch  {"create_request":{"key":"L2E=","range_end":"L2I=",
 *                      "start_revision":8,"progress_notify":true}}
 *     -> {"result":{"header":{"revision":"7"},"created":true}}
 *        {"result":{"header":{"revision":"9"},"events":[{"kv":{...}},
 *                   {"type":"DELETE","kv":{"key":"L2E=","mod_revision":"9"}}]}}
 *        {"result":{"header":{"revision":"12"}}}                (progress)
 *        {"result":{"canceled":true,"compact_revision":"10"}}   (compacted)
 *
 * One JSON object per line.  etcd sends a revision's events in one
 * response (no "fragment" is asked for), so each response is delivered
 * whole.  The stream asks for a leader ("Grpc-Metadata-hasleader: true",
 * as etcd's own client does), so that a member cut off from the quorum
 * ends it instead of going silent.  A stream that fails or ends is opened
 * again on the next endpoint from the revision after the last one
 * delivered: at once after a stream that worked, then with back-off (100
 * ms doubling to 1 s); after timeout_ms of failures only, the callback
 * gets err = -EIO and the watch ends.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "engine/clock.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/store/etcd_int.h"

#define RETRY_MS     100
#define RETRY_MAX_MS 1000

enum stream_end {
	END_STOP,      /* etcd_watch_stop */
	END_COMPACTED, /* delivered; the watch is over */
	END_FAILED,    /* try again (elsewhere) */
};

struct etcd_watch {
	struct etcd *c;
	char *key, *end;
	size_t key_len, end_len;
	bool has_end;
	etcd_watch_fn fn;
	void *arg;
	pthread_t thread;
	bool running; /* thread was started */
	CURLM *multi;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool stop; /* lock */

	/* the watch thread's own: */
	int64_t next; /* resume at this revision; 0: from now */
	int ep;	      /* the endpoint of the stream */
	bool created; /* this stream was accepted */
	bool got;     /* this stream delivered something */
	bool ended;   /* this stream is over (canceled, compacted, error) */
	int64_t compacted;
	char why[CURL_ERROR_SIZE + 64];
	struct buf line; /* bytes since the last newline */
};

static bool stopped(struct etcd_watch *w)
{
	pthread_mutex_lock(&w->lock);
	bool s = w->stop;
	pthread_mutex_unlock(&w->lock);
	return s;
}

/* ---- one response ---- */

static void deliver_events(struct etcd_watch *w, const json_t *evs)
{
	size_t n = json_array_size(evs), k = 0;
	struct etcd_event *out = xcalloc(n ? n : 1, sizeof(*out));
	for (size_t i = 0; i < n; i++) {
		json_t *ev = json_array_get(evs, i);
		const char *t = json_string_value(json_object_get(ev, "type"));
		struct etcd_event *d = &out[k];
		if (etcd_kv_parse(json_object_get(ev, "kv"), &d->kv, NULL) < 0) {
			snprintf(w->why, sizeof(w->why), "an event that is not valid base64");
			w->ended = true;
			break;
		}
		d->type = t && !strcmp(t, "DELETE") ? ETCD_EV_DELETE : ETCD_EV_PUT;
		if (w->next && d->kv.mod_rev < w->next) { /* seen already */
			free(d->kv.key);
			free(d->kv.value);
			continue;
		}
		k++;
	}
	if (k && !w->ended) {
		int64_t rev = out[k - 1].kv.mod_rev;
		w->fn(w->arg, out, k, rev, 0, 0);
		w->next = rev + 1;
		w->got = true;
	}
	for (size_t i = 0; i < k; i++) {
		free(out[i].kv.key);
		free(out[i].kv.value);
	}
	free(out);
}

/* One line of the stream. */
static void on_response(struct etcd_watch *w, const char *p, size_t n)
{
	json_t *j = json_loadb(p, n, 0, NULL);
	json_t *r = json_object_get(j, "result");
	int code = 0;
	const char *msg = etcd_jerror(j, &code);
	if (msg || !json_is_object(r)) {
		snprintf(w->why, sizeof(w->why), "%s", msg ? msg : "an answer that is not JSON");
		w->ended = true;
		json_decref(j);
		return;
	}
	int64_t hrev = etcd_jint(json_object_get(r, "header"), "revision");
	json_t *evs = json_object_get(r, "events");
	if (json_is_true(json_object_get(r, "canceled"))) {
		w->compacted = etcd_jint(r, "compact_revision");
		const char *why = json_string_value(json_object_get(r, "cancel_reason"));
		snprintf(w->why, sizeof(w->why), "canceled: %s", why ? why : "no reason given");
		w->ended = true;
	} else if (json_is_true(json_object_get(r, "created"))) {
		w->created = true;
		if (!w->next && hrev > 0) { /* from now: now is hrev */
			w->next = hrev + 1;
			w->fn(w->arg, NULL, 0, hrev, 0, 0);
		}
	} else if (json_array_size(evs)) {
		deliver_events(w, evs);
	} else if (w->next && hrev >= w->next - 1) { /* progress: all up to hrev sent */
		w->fn(w->arg, NULL, 0, hrev, 0, 0);
		w->next = hrev + 1;
	}
	json_decref(j);
}

static size_t on_data(char *p, size_t size, size_t n, void *arg)
{
	struct etcd_watch *w = arg;
	size_t len = size * n;
	buf_add(&w->line, p, len);
	size_t start = 0;
	for (size_t i = 0; i < w->line.len && !w->ended; i++) {
		if (w->line.s[i] != '\n')
			continue;
		if (stopped(w))
			return 0;
		if (i > start)
			on_response(w, w->line.s + start, i - start);
		start = i + 1;
	}
	if (w->ended)
		return 0; /* ends the transfer */
	if (start) {
		memmove(w->line.s, w->line.s + start, w->line.len - start + 1);
		w->line.len -= start;
	}
	return len;
}

/* A dead peer is noticed in about 25 s even when etcd sends nothing. */
static int on_socket(void *arg, curl_socket_t fd, curlsocktype purpose)
{
	int cnt = 3, ms = 25000;
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &ms, sizeof(ms));
	return CURL_SOCKOPT_OK;
}

/* ---- one stream ---- */

static char *create_body(struct etcd_watch *w)
{
	json_t *cr = json_object();
	json_object_set_new(cr, "key", etcd_jb64(w->key, w->key_len));
	if (w->has_end)
		json_object_set_new(cr, "range_end", etcd_jb64(w->end, w->end_len));
	if (w->next)
		json_object_set_new(cr, "start_revision", json_integer(w->next));
	json_object_set_new(cr, "progress_notify", json_true());
	json_t *j = json_pack("{s:o}", "create_request", cr);
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return s;
}

/* Runs the transfer until it ends, the watch is stopped or, before etcd
 * accepted it, timeout_ms passed.  Returns curl's result. */
static CURLcode pump(struct etcd_watch *w, CURL *h)
{
	int64_t deadline = mono_ms() + w->c->timeout_ms;
	curl_multi_add_handle(w->multi, h);
	CURLcode rc = CURLE_OK;
	for (;;) {
		int running = 0;
		curl_multi_perform(w->multi, &running);
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(w->multi, &left)))
			if (m->msg == CURLMSG_DONE)
				rc = m->data.result;
		if (!running || stopped(w))
			break;
		if (!w->created && mono_ms() > deadline) {
			rc = CURLE_OPERATION_TIMEDOUT;
			break;
		}
		curl_multi_poll(w->multi, NULL, 0, 1000, NULL);
	}
	curl_multi_remove_handle(w->multi, h);
	return rc;
}

static enum stream_end stream(struct etcd_watch *w)
{
	CURL *h = curl_easy_init();
	if (!h)
		abort();
	_cleanup_free_ char *body = create_body(w);
	struct curl_slist *hd = curl_slist_append(NULL, "Content-Type: application/json");
	hd = curl_slist_append(hd, ETCD_NEED_LEADER);
	char ebuf[CURL_ERROR_SIZE] = "";
	w->created = w->got = w->ended = false;
	w->compacted = 0;
	w->why[0] = 0;
	buf_free(&w->line);
	etcd_setup(w->c, h, w->ep, "/v3/watch");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hd);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, w);
	curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, on_socket);
	CURLcode rc = pump(w, h);
	if (rc == CURLE_OK && !w->ended && w->line.len && !stopped(w)) /* no newline at the end */
		on_response(w, w->line.s, w->line.len);
	long code = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(h);
	curl_slist_free_all(hd);
	if (stopped(w))
		return END_STOP;
	if (w->compacted > 0) {
		w->fn(w->arg, NULL, 0, 0, w->compacted, 0);
		return END_COMPACTED;
	}
	if (!w->why[0] && rc == CURLE_OPERATION_TIMEDOUT && !w->created)
		snprintf(w->why, sizeof(w->why), "no answer within %d ms", w->c->timeout_ms);
	else if (!w->why[0] && rc != CURLE_OK)
		snprintf(w->why, sizeof(w->why), "%s", *ebuf ? ebuf : curl_easy_strerror(rc));
	else if (!w->why[0])
		snprintf(w->why, sizeof(w->why), "the stream ended (HTTP %ld)", code);
	return END_FAILED;
}

/* ---- the thread ---- */

/* Sleeps ms unless stopped first; true if stopped. */
static bool nap(struct etcd_watch *w, int ms)
{
	struct timespec ts = mono_deadline(ms);
	pthread_mutex_lock(&w->lock);
	while (!w->stop && pthread_cond_timedwait(&w->cond, &w->lock, &ts) != ETIMEDOUT)
		;
	bool s = w->stop;
	pthread_mutex_unlock(&w->lock);
	return s;
}

static void *watch_main(void *arg)
{
	struct etcd_watch *w = arg;
	int64_t failing_since = 0;
	int backoff = 0, fails = 0;
	for (;;) {
		enum stream_end end = stream(w);
		if (end != END_FAILED)
			break;
		int64_t now = mono_ms();
		if (w->created || w->got) {
			failing_since = 0;
			backoff = fails = 0;
		} else if (!failing_since) {
			failing_since = now;
		}
		fails++;
		if (failing_since && fails >= w->c->neps &&
		    now - failing_since > w->c->timeout_ms) {
			log_warn("etcd", "watch: %s: %s; giving up", w->c->eps[w->ep], w->why);
			w->fn(w->arg, NULL, 0, 0, 0, -EIO);
			break;
		}
		log_info("etcd", "watch: %s: %s; resuming at revision %lld on %s", w->c->eps[w->ep],
			 w->why, (long long)w->next, w->c->eps[(w->ep + 1) % w->c->neps]);
		w->ep = (w->ep + 1) % w->c->neps;
		if (backoff && nap(w, backoff))
			break;
		backoff = backoff ? backoff * 2 : RETRY_MS;
		if (backoff > RETRY_MAX_MS)
			backoff = RETRY_MAX_MS;
	}
	return NULL;
}

int etcd_watch_start(struct etcd *c, const struct etcd_range *r, int64_t start, etcd_watch_fn fn,
		     void *arg, struct etcd_watch **out, struct err **e)
{
	struct etcd_watch *w = xcalloc(1, sizeof(*w));
	w->c = c;
	w->key = xstrndup(r->key, r->key_len);
	w->key_len = r->key_len;
	w->has_end = r->end != NULL;
	w->end = r->end ? xstrndup(r->end, r->end_len) : NULL;
	w->end_len = r->end_len;
	w->fn = fn;
	w->arg = arg;
	w->next = start;
	w->ep = etcd_cur(c);
	w->multi = curl_multi_init();
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &ca);
	pthread_condattr_destroy(&ca);
	int rc = pthread_create(&w->thread, NULL, watch_main, w);
	if (rc) {
		etcd_watch_stop(w);
		return err_make(e, rc, "etcd watch: cannot start its thread: %s", strerror(rc));
	}
	w->running = true;
	*out = w;
	return 0;
}

void etcd_watch_stop(struct etcd_watch *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	curl_multi_wakeup(w->multi);
	if (w->running)
		pthread_join(w->thread, NULL);
	curl_multi_cleanup(w->multi);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	buf_free(&w->line);
	free(w->key);
	free(w->end);
	free(w);
}
