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
 * limitBytes, follow.  Errors are worded as the apiserver words them.
 *
 * follow (`kubectl logs -f`): the text so far (after tailLines), then what
 * the container appends, as a stream (http/stream.h) that holds no server
 * thread: it reads the file on from where it was, looks again every
 * FOLLOW_POLL_MS when there was nothing new (as tail -f polls), and ends
 * when the container is no longer running or the pod is gone, as the
 * kubelet ends it.
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

/* Keeps the last n lines of b (a final line without '\n' counts). */
static void keep_tail(struct buf *b, long long n)
{
	if (n < 0 || !b->len)
		return;
	size_t end = b->len;
	if (b->s[end - 1] == '\n')
		end--;
	size_t start = end;
	long long seen = 0;
	while (start > 0) {
		if (b->s[start - 1] == '\n' && ++seen == n)
			break;
		start--;
	}
	if (n == 0)
		start = b->len;
	memmove(b->s, b->s + start, b->len - start);
	b->len -= start;
}

/* Reads the log the request asks for into out; 0, or -1 with rs set. */
static int read_log(struct http_req *rq, struct http_resp *rs, const struct sobj *pod,
		    const char *ctr, struct buf *out)
{
	bool previous = query_true(rq, "previous");
	enum podlog_role role = previous ? PODLOG_PREVIOUS : PODLOG_CURRENT;
	_cleanup_free_ char *dir =
	    podlog_dir_new(http_logs_dir(rq->srv), obj_str(pod->obj, "metadata.uid"), ctr);
	if (previous && (!dir || podlog_pick(dir, role) < 0)) {
		http_fail(rs, 400, "BadRequest",
			  "previous terminated container \"%s\" in pod \"%s\" not found", ctr,
			  rq->rt.name);
		return -1;
	}
	int r = dir ? podlog_read_all(dir, role, LOG_CAP, out) : 0;
	if (r == -EFBIG) {
		http_fail(rs, 413, "RequestEntityTooLarge",
			  "the log of container %s is over %d bytes: use tailLines or limitBytes",
			  ctr, LOG_CAP);
		return -1;
	}
	if (r < 0 && r != -ENOENT) {
		http_fail(rs, 500, "InternalError", "reading the log of container %s: %s", ctr,
			  strerror(-r));
		return -1;
	}
	return 0;
}

/* One `kubectl logs -f`: what is left of the text so far, then the file. */
struct follow {
	struct api *api;
	char *ns, *pod, *ctr;
	struct buf head; /* the text read at the start (after tailLines) */
	size_t head_off; /* how much of head was sent */
	struct podlog *rd;
	off_t off;	  /* where the file is read on from */
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

static ssize_t follow_fill(void *arg, char *buf, size_t max)
{
	struct follow *f = arg;
	if (f->head_off < f->head.len) {
		size_t n = f->head.len - f->head_off;
		n = n < max ? n : max;
		memcpy(buf, f->head.s + f->head_off, n);
		f->head_off += n;
		return (ssize_t)n;
	}
	ssize_t n = podlog_read(f->rd, f->off, buf, max);
	if (n > 0) {
		f->off += n;
		return n;
	}
	if (n < 0 || !ctr_running(f->api, f->ns, f->pod, f->ctr))
		return -1;
	stream_wake_at(f->s, mono_ms() + FOLLOW_POLL_MS);
	return 0;
}

/* Answers with a follow stream that starts with b (taken) and goes on
 * in the file from off, where the read of b ended. */
static void start_follow(struct http_req *rq, struct http_resp *rs, const struct sobj *pod,
			 const char *ctr, struct buf *b, off_t off)
{
	_cleanup_free_ char *dir =
	    podlog_dir_new(http_logs_dir(rq->srv), obj_str(pod->obj, "metadata.uid"), ctr);
	struct follow *f = xcalloc(1, sizeof(*f));
	f->api = rq->api;
	f->ns = xstrdup(rq->rt.ns);
	f->pod = xstrdup(rq->rt.name);
	f->ctr = xstrdup(ctr);
	f->head = *b;
	*b = (struct buf){0};
	f->rd = podlog_open(dir ? dir : "/nonexistent", PODLOG_CURRENT);
	f->off = off;
	f->s = stream_new(http_stream_hub(rq->srv), rq->conn, NULL, follow_fill, follow_free, f);
	rs->code = 200;
	rs->ctype = "text/plain";
	rs->stream = stream_read;
	rs->stream_arg = f->s;
	rs->stream_free = stream_free;
}

void h_log(struct http_req *rq, struct http_resp *rs)
{
	const struct route *rt = &rq->rt;
	if (rt->kind != KIND_POD) {
		http_fail(rs, 404, "NotFound", "the server could not find the requested resource");
		return;
	}
	static const char *const unkept[] = {"timestamps", "sinceSeconds", "sinceTime"};
	for (size_t i = 0; i < 3; i++) {
		const char *v = http_query(rq, unkept[i]);
		if (v && strcmp(v, "false")) {
			http_fail(rs, 400, "BadRequest",
				  "%s is not supported: the node keeps no time for each log line",
				  unkept[i]);
			return;
		}
	}
	long long tail = query_count(rq, "tailLines"), limit = query_count(rq, "limitBytes");
	if (tail == -2 || limit == -2) {
		http_fail(rs, 400, "BadRequest", "tailLines and limitBytes take a whole number");
		return;
	}
	struct sobj *pod = api_get(rq->api, KIND_POD, rt->ns, rt->name);
	if (!pod) {
		http_resp_status(rs, status_not_found(KIND_POD, rt->name));
		return;
	}
	struct buf b = {0};
	const char *ctr = pick_container(rq, rs, pod->obj);
	if (ctr && read_log(rq, rs, pod, ctr, &b) == 0) {
		off_t end = (off_t)b.len;
		keep_tail(&b, tail);
		if (limit >= 0 && b.len > (size_t)limit)
			b.len = (size_t)limit;
		if (query_true(rq, "follow") && !query_true(rq, "previous") && limit < 0) {
			start_follow(rq, rs, pod, ctr, &b, end);
		} else {
			rs->code = 200;
			rs->ctype = "text/plain";
			rs->body = b.s ? b.s : xstrdup("");
			rs->len = b.len;
			b.s = NULL;
		}
	}
	buf_free(&b);
	sobj_unref(pod);
}
