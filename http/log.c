/*
 * log.c - GET .../pods/NAME/log: a container's log, as `kubectl logs`
 * reads it.
 *
 *     $ kubectl logs web-7d9c -c nginx --tail=2
 *     GET /api/v1/namespaces/default/pods/web-7d9c/log?container=nginx&tailLines=2
 *
 * The text comes from the files the node agent writes (engine/podlog.h),
 * the same the filesystem's pods/NAME/logs serves.  Query parameters:
 * container (needed when the pod has several), previous, tailLines,
 * limitBytes, follow, timestamps, sinceSeconds, sinceTime.  Errors are
 * worded as the apiserver words them.
 *
 * Line times come from the index beside each log (engine/podlog.h), as
 * the kubelet reads them from its CRI log lines:
 *
 *     $ kubectl logs web-7d9c --timestamps --since=1h --tail=1
 *     2026-12-07T08:01:28.123456789Z GET / 200
 *
 * timestamps prefixes each line with its time (RFC 3339, UTC, 9 digits)
 * and a space; sinceSeconds/sinceTime (whole seconds) start at the first
 * line written at or after that time (a binary search in the index).  As
 * in the kubelet, tailLines is taken first, then since, and limitBytes
 * counts what is sent, timestamps included.
 *
 * follow (`kubectl logs -f`): the text so far (after tailLines and since),
 * then what the container appends, as a stream (http/stream.h) that holds
 * no server thread: it reads the file on from where it was (from its
 * start when it shrank: rotated), looks again every FOLLOW_POLL_MS when
 * there was nothing new (as tail -f polls), and ends when the container
 * is no longer running or the pod is gone, as the kubelet ends it, or
 * when limitBytes have been sent.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/api/api_exec.h"
#include "engine/clock.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "engine/podlog.h"
#include "http/http_int.h"
#include "http/status.h"
#include "http/stream.h"

/* Whole logs larger than this are refused (use limitBytes or tailLines). */
#define LOG_CAP (64 * 1024 * 1024)

/* How often a follow with nothing new looks at its file again. */
#define FOLLOW_POLL_MS 250

/* The container the request names, or the pod's only one; NULL with the
 * response set to the apiserver's 400 when there is none to pick. */
static const char *pick_container(struct http_req *rq, struct http_resp *rs, const json_t *pod)
{
	_cleanup_err_ struct err *e = NULL;
	const char *ctr;
	if (api_pod_container(pod, rq->rt.name, http_query(rq, "container"), &ctr, &e) == 0)
		return ctr;
	http_fail(rs, 400, "BadRequest", "%s", e->msg);
	return NULL;
}

/* A whole non-negative number from the query, or -1 when absent; -2 when
 * present but not a number. */
static long long query_count(struct http_req *rq, const char *key)
{
	const char *s = http_query(rq, key);
	if (!s)
		return -1;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	return (!*s || *end || errno || v < 0) ? -2 : v;
}

static bool query_true(struct http_req *rq, const char *key)
{
	const char *v = http_query(rq, key);
	return v && (!strcmp(v, "true") || !strcmp(v, "1"));
}

/* sinceSeconds or sinceTime as ns since the epoch into *since (INT64_MIN
 * when neither is given); -1 with rs set when malformed. */
static int query_since(struct http_req *rq, struct http_resp *rs, int64_t *since)
{
	*since = INT64_MIN;
	long long secs = query_count(rq, "sinceSeconds");
	const char *t = http_query(rq, "sinceTime");
	if (secs != -1 && t) {
		http_fail(rs, 422, "Invalid",
			  "PodLogOptions \"%s\" is invalid: at most one of `sinceTime` or "
			  "`sinceSeconds` may be specified",
			  rq->rt.name);
		return -1;
	}
	if (secs == -2 || secs == 0) {
		http_fail(rs, 422, "Invalid",
			  "PodLogOptions \"%s\" is invalid: sinceSeconds: Invalid value: must be "
			  "greater than 0",
			  rq->rt.name);
		return -1;
	}
	if (secs > 0) {
		int64_t now = wall_ns();
		*since = secs > now / 1000000000 ? 0 : now - (int64_t)secs * 1000000000;
	} else if (t) {
		time_t sec = obj_time(t); /* whole seconds, as metav1.Time keeps them */
		if (sec == -1) {
			http_fail(rs, 400, "BadRequest",
				  "sinceTime: parsing time \"%s\" as RFC 3339: not one", t);
			return -1;
		}
		*since = (int64_t)sec * 1000000000;
	}
	return 0;
}

/* Where the last n lines of s start (a final line without '\n' counts);
 * 0 for n < 0 (all). */
static size_t tail_start(const char *s, size_t len, long long n)
{
	if (n < 0 || !len)
		return 0;
	if (n == 0)
		return len;
	size_t end = len;
	if (s[end - 1] == '\n')
		end--;
	size_t start = end;
	long long seen = 0;
	while (start > 0) {
		if (s[start - 1] == '\n' && ++seen == n)
			break;
		start--;
	}
	return start;
}

/*
 * Lines as the request wants them: each line (from its first byte on)
 * kept when its time is at or after since, and prefixed with its time
 * and a space when ts, the times from the reader's index.  Text may end
 * mid-line: the next call goes on with that line.
 */
struct emit {
	struct podlog *rd;
	bool ts;
	int64_t since; /* INT64_MIN: every line */
	bool at_start; /* the next byte starts a line */
	bool keep;     /* the line being sent is kept */
};

/* Appends the file's bytes s[0..n) (at offset off) to out, as m says. */
static void emit(struct emit *m, const char *s, size_t n, off_t off, struct buf *out)
{
	if (!m->ts && m->since == INT64_MIN) {
		buf_add(out, s, n);
		return;
	}
	for (size_t i = 0; i < n;) {
		if (m->at_start) {
			int64_t t = podlog_line_time(m->rd, off + (off_t)i, NULL);
			m->keep = t >= m->since;
			if (m->keep && m->ts) {
				char when[PODLOG_TIME_LEN + 1];
				podlog_time_format(t, when);
				buf_add(out, when, PODLOG_TIME_LEN);
				buf_add(out, " ", 1);
			}
		}
		const char *nl = memchr(s + i, '\n', n - i);
		size_t end = nl ? (size_t)(nl - s) + 1 : n;
		if (m->keep)
			buf_add(out, s + i, end - i);
		m->at_start = nl != NULL;
		i = end;
	}
}

/* What the request asks for. */
struct logq {
	bool previous, follow, ts;
	long long tail, limit; /* -1: none */
	int64_t since;	       /* INT64_MIN: none */
};

/* Reads the log the request asks for into out, whole, with rd left open
 * on its file for the times; 0, or -1 with rs set. */
static int read_log(struct http_req *rq, struct http_resp *rs, const char *dir, const char *ctr,
		    const struct logq *q, struct podlog **rd, struct buf *out)
{
	enum podlog_role role = q->previous ? PODLOG_PREVIOUS : PODLOG_CURRENT;
	if (q->previous && (!dir || podlog_pick(dir, role) < 0)) {
		http_fail(rs, 400, "BadRequest",
			  "previous terminated container \"%s\" in pod \"%s\" not found", ctr,
			  rq->rt.name);
		return -1;
	}
	*rd = podlog_open(dir ? dir : NULL, role);
	char chunk[65536];
	ssize_t n;
	while ((n = podlog_read(*rd, (off_t)out->len, chunk, sizeof(chunk))) > 0 &&
	       out->len <= LOG_CAP)
		buf_add(out, chunk, (size_t)n);
	if (out->len > LOG_CAP) {
		http_fail(rs, 413, "RequestEntityTooLarge",
			  "the log of container %s is over %d bytes: use tailLines or limitBytes",
			  ctr, LOG_CAP);
		return -1;
	}
	if (n < 0 && n != -ENOENT) {
		http_fail(rs, 500, "InternalError", "reading the log of container %s: %s", ctr,
			  strerror((int)-n));
		return -1;
	}
	return 0;
}

/* One `kubectl logs -f`: what is left of the text so far, then the file. */
struct follow {
	struct api *api;
	char *ns, *pod, *ctr;
	struct buf head; /* text to send: the start, then each chunk read */
	size_t head_off; /* how much of head was sent */
	struct podlog *rd;
	struct emit m;
	off_t off;	  /* where the file is read on from */
	long long left;	  /* bytes limitBytes still allows; -1: no limit */
	struct stream *s; /* for the timed wake */
};

static void follow_free(void *arg)
{
	struct follow *f = arg;
	podlog_free(f->rd);
	buf_free(&f->head);
	free(f->ns);
	free(f->pod);
	free(f->ctr);
	free(f);
}

/* Is container ctr of the pod running now (its status says so)? */
static bool ctr_running(struct api *api, const char *ns, const char *pod, const char *ctr)
{
	struct sobj *o = api_get(api, KIND_POD, ns, pod);
	if (!o)
		return false;
	bool running = false;
	static const char *const lists[] = {"status.containerStatuses",
					    "status.initContainerStatuses"};
	for (size_t l = 0; l < 2 && !running; l++) {
		size_t i;
		json_t *cs;
		json_array_foreach(obj_at(o->obj, lists[l]), i, cs)
		{
			const char *n = obj_str(cs, "name");
			if (n && !strcmp(n, ctr) && obj_at(cs, "state.running"))
				running = true;
		}
	}
	sobj_unref(o);
	return running;
}

/* Reads what the file has past f->off into f->head (as f->m says): 1 when
 * there is text to send, 0 when nothing new, -1 at the end. */
static int follow_more(struct follow *f)
{
	char raw[16384];
	for (;;) {
		ssize_t n = podlog_read(f->rd, f->off, raw, sizeof(raw));
		if (n > 0) {
			f->head.len = f->head_off = 0;
			emit(&f->m, raw, (size_t)n, f->off, &f->head);
			f->off += n;
			if (f->head.len)
				return 1;
			continue;
		}
		if (n == 0 && podlog_size(f->rd) < f->off) {
			/* truncated (rotated): on from its start */
			f->off = 0;
			f->m.at_start = f->m.keep = true;
			continue;
		}
		if (n < 0 || !ctr_running(f->api, f->ns, f->pod, f->ctr))
			return -1;
		return 0;
	}
}

static ssize_t follow_fill(void *arg, char *buf, size_t max)
{
	struct follow *f = arg;
	if (f->head_off >= f->head.len) {
		if (f->left == 0)
			return -1;
		int r = follow_more(f);
		if (r <= 0) {
			if (r == 0)
				stream_wake_at(f->s, mono_ms() + FOLLOW_POLL_MS);
			return r;
		}
	}
	size_t n = f->head.len - f->head_off;
	n = n < max ? n : max;
	if (f->left >= 0 && (long long)n > f->left)
		n = (size_t)f->left;
	memcpy(buf, f->head.s + f->head_off, n);
	f->head_off += n;
	if (f->left > 0)
		f->left -= (long long)n;
	return (ssize_t)n;
}

/* Answers with a follow stream that starts with b (taken) and goes on in
 * rd's file (taken) from off, where the read of b ended. */
static void start_follow(struct http_req *rq, struct http_resp *rs, const char *ctr,
			 const struct logq *q, struct podlog *rd, struct buf *b, off_t off,
			 bool at_start)
{
	struct follow *f = xcalloc(1, sizeof(*f));
	f->api = rq->api;
	f->ns = xstrdup(rq->rt.ns);
	f->pod = xstrdup(rq->rt.name);
	f->ctr = xstrdup(ctr);
	f->head = *b;
	*b = (struct buf){0};
	f->rd = rd;
	f->m = (struct emit){
	    .rd = rd, .ts = q->ts, .since = q->since, .at_start = at_start, .keep = true};
	f->off = off;
	f->left = q->limit; /* counts the head too */
	f->s = stream_new(http_stream_hub(rq->srv), rq->conn, NULL, follow_fill, follow_free, f);
	rs->code = 200;
	rs->ctype = "text/plain";
	rs->stream = stream_read;
	rs->stream_arg = f->s;
	rs->stream_free = stream_free;
}

/* The query of the request into q: 0, or -1 with rs set. */
static int parse_query(struct http_req *rq, struct http_resp *rs, struct logq *q)
{
	q->previous = query_true(rq, "previous");
	q->follow = query_true(rq, "follow") && !q->previous;
	q->ts = query_true(rq, "timestamps");
	q->tail = query_count(rq, "tailLines");
	q->limit = query_count(rq, "limitBytes");
	if (q->tail == -2 || q->limit == -2) {
		http_fail(rs, 400, "BadRequest", "tailLines and limitBytes take a whole number");
		return -1;
	}
	return query_since(rq, rs, &q->since);
}

/* Answers with the log of ctr (of pod) as q asks. */
static void serve_log(struct http_req *rq, struct http_resp *rs, const struct sobj *pod,
		      const char *ctr, const struct logq *q)
{
	_cleanup_free_ char *dir = api_podlog_dir(rq->api, http_logs_dir(rq->srv), pod->obj, ctr);
	struct podlog *rd = NULL;
	struct buf raw = {0}, b = {0};
	if (read_log(rq, rs, dir, ctr, q, &rd, &raw) < 0)
		goto out;
	size_t start = tail_start(raw.s, raw.len, q->tail);
	if (q->since != INT64_MIN) {
		off_t s = podlog_since(rd, q->since);
		start = s > (off_t)raw.len ? raw.len : (size_t)s > start ? (size_t)s : start;
	}
	struct emit m = {.rd = rd, .ts = q->ts, .since = q->since, .at_start = true, .keep = true};
	emit(&m, raw.s + start, raw.len - start, (off_t)start, &b);
	if (q->follow) {
		bool at_start = !raw.len || raw.s[raw.len - 1] == '\n';
		start_follow(rq, rs, ctr, q, rd, &b, (off_t)raw.len, at_start);
		rd = NULL;
		goto out;
	}
	if (q->limit >= 0 && b.len > (size_t)q->limit)
		b.len = (size_t)q->limit;
	rs->code = 200;
	rs->ctype = "text/plain";
	rs->body = b.s ? b.s : xstrdup("");
	rs->len = b.len;
	b.s = NULL;
out:
	podlog_free(rd);
	buf_free(&raw);
	buf_free(&b);
}

void h_log(struct http_req *rq, struct http_resp *rs)
{
	const struct route *rt = &rq->rt;
	if (rt->kind != KIND_POD) {
		http_fail(rs, 404, "NotFound", "the server could not find the requested resource");
		return;
	}
	struct logq q;
	if (parse_query(rq, rs, &q) < 0)
		return;
	struct sobj *pod = api_get(rq->api, KIND_POD, rt->ns, rt->name);
	if (!pod) {
		http_resp_status(rs, status_not_found(KIND_POD, rt->name));
		return;
	}
	const char *ctr = pick_container(rq, rs, pod->obj);
	if (ctr)
		serve_log(rq, rs, pod, ctr, &q);
	sobj_unref(pod);
}
