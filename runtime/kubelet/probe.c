/*
 * probe.c - container probes: exec through runc, tcpSocket and httpGet on
 * plain sockets with a deadline, and the prober workers' schedule and
 * thresholds.  See probe.h for the contract.
 *
 * Every network wait is a poll() on the socket and on an optional cancel
 * fd (a prober's eventfd, written by prober_stop), with what is left of
 * the attempt's deadline as timeout; nothing blocks in connect(), send()
 * or recv().  Messages follow the wording of the kubelet (Go's net/http
 * and net errors) so that events read the same as on a real cluster.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engine/clock.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "runtime/kubelet/probe.h"

#define PROBE_STACK	 (256 * 1024)
#define PROBE_USER_AGENT "kube-probe/1.30"
#define PROBE_MAX_ARGS	 50   /* oci_exec's limit */
#define PROBE_MSG	 512  /* a worker's message buffer */
#define STATUS_LINE_MAX	 1024 /* bytes read while looking for the status line */

/* ---- Small helpers ---- */

/* Writes the reason into msg (when there is room) and returns PROBE_FAIL. */
static enum probe_result fail(char *msg, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum probe_result fail(char *msg, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (len) {
		va_start(ap, fmt);
		vsnprintf(msg, len, fmt, ap);
		va_end(ap);
	}
	return PROBE_FAIL;
}

/* strerror(err) the way Go prints syscall errors: "connection refused". */
static const char *errstr(int err, char buf[64])
{
	char tmp[64];

	snprintf(buf, 64, "%s", strerror_r(err, tmp, sizeof(tmp)));
	if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
		buf[0] = (char)(buf[0] - 'A' + 'a');
	return buf;
}

/* An integer field of the probe: v when min <= v, else dflt; at most max. */
static int64_t param(const json_t *probe, const char *key, int64_t dflt, int64_t min, int64_t max)
{
	int64_t v = obj_int(probe, key, dflt);
	if (v < min)
		v = dflt;
	return v > max ? max : v;
}

/* timeoutSeconds in ms, within what oci_exec takes. */
static int timeout_ms(const json_t *probe)
{
	return (int)param(probe, "timeoutSeconds", 1, 1, INT_MAX / 1000) * 1000;
}

/* Runs fn(arg) in a new joinable thread with a small stack and every
 * signal blocked (signals are the agent's main thread's business). */
static int spawn(pthread_t *th, void *(*fn)(void *), void *arg)
{
	pthread_attr_t attr;
	sigset_t all, old;
	int r;

	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, PROBE_STACK);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(th, &attr, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	return -r;
}

/* The handler object of a probe (exec, httpGet, tcpSocket), or NULL. */
static const json_t *handler(const json_t *probe, const char **which)
{
	static const char *const names[] = {"exec", "httpGet", "tcpSocket", NULL};
	json_t *h;

	for (size_t i = 0; names[i]; i++) {
		h = json_object_get(probe, names[i]);
		if (json_is_object(h)) {
			*which = names[i];
			return h;
		}
	}
	*which = NULL;
	return NULL;
}

/* True when the probe talks to the network (and so to a namespace). */
static bool is_network(const json_t *probe)
{
	const char *which;
	return handler(probe, &which) && strcmp(which, "exec") != 0;
}

/* ---- exec ---- */

static enum probe_result exec_probe(const json_t *x, const json_t *probe,
				    const struct probe_target *t, char *msg, size_t len)
{
	json_t *cmd = json_object_get(x, "command"), *a;
	char *argv[PROBE_MAX_ARGS + 1];
	struct buf joined = {0};
	struct err *e = NULL;
	size_t i, n = json_array_size(cmd);
	int code = -1, r;
	enum probe_result res = PROBE_FAIL;

	if (n == 0 || n > PROBE_MAX_ARGS)
		return fail(msg, len, "exec probe: command must have 1 to %d words",
			    PROBE_MAX_ARGS);
	json_array_foreach(cmd, i, a)
	{
		if (!json_is_string(a))
			return fail(msg, len, "exec probe: command[%zu] is not a string", i);
		argv[i] = (char *)json_string_value(a);
		buf_printf(&joined, "%s%s", i ? " " : "", argv[i]);
	}
	argv[n] = NULL;
	if (!t->rt || !t->container_id || !*t->container_id) {
		fail(msg, len, "exec probe: no container to run \"%s\" in", joined.s);
		goto out;
	}
	r = oci_exec(t->rt, t->container_id, argv, timeout_ms(probe), &code, &e);
	if (r == -ETIMEDOUT)
		fail(msg, len, "command \"%s\" timed out", joined.s);
	else if (r < 0)
		fail(msg, len, "%s", e ? e->msg : "runc exec failed");
	else if (code != 0)
		fail(msg, len, "command \"%s\" exited with code %d", joined.s, code);
	else
		res = PROBE_OK;
out:
	err_free(e);
	buf_free(&joined);
	return res;
}

/* ---- Addresses and connections ---- */

/* Where a network probe goes. */
struct dest {
	struct sockaddr_storage sa;
	socklen_t salen;
	char hostport[300]; /* "10.0.0.5:8080", "[fd00::5]:8080", for messages */
};

/*
 * The port of h (an httpGet or tcpSocket): a number, or the name of one of
 * ctr's ports.  Returns 1..65535, or -1 with the reason in msg.
 */
static int resolve_port(const json_t *h, const json_t *ctr, char *msg, size_t len)
{
	json_t *port = json_object_get(h, "port"), *p;
	const char *name, *end;
	int64_t n = -1;
	size_t i;

	if (json_is_integer(port)) {
		n = json_integer_value(port);
	} else if (json_is_string(port)) {
		name = json_string_value(port);
		json_array_foreach(json_object_get(ctr, "ports"), i, p)
		{
			const char *pn = obj_str(p, "name");
			if (pn && !strcmp(pn, name)) {
				n = obj_int(p, "containerPort", -1);
				break;
			}
		}
		if (n == -1) {
			errno = 0;
			n = strtoll(name, (char **)&end, 10);
			if (!*name || *end || errno) {
				fail(msg, len, "port %s not found", name);
				return -1;
			}
		}
	} else {
		fail(msg, len, "probe has no port");
		return -1;
	}
	if (n < 1 || n > 65535) {
		fail(msg, len, "invalid port number: %lld", (long long)n);
		return -1;
	}
	return (int)n;
}

/* Resolves host:port into d.  0, or -1 with the reason in msg. */
static int resolve(const char *host, int port, struct dest *d, char *msg, size_t len)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV},
			*res = NULL;
	char serv[8];
	int r;

	snprintf(serv, sizeof(serv), "%d", port);
	snprintf(d->hostport, sizeof(d->hostport), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host,
		 port);
	r = getaddrinfo(host, serv, &hints, &res);
	if (r == EAI_NONAME) {
		hints.ai_flags = AI_NUMERICSERV;
		r = getaddrinfo(host, serv, &hints, &res);
	}
	if (r != 0 || !res) {
		fail(msg, len, "dial tcp: lookup %s: %s", host,
		     r == EAI_NONAME ? "no such host" : gai_strerror(r));
		return -1;
	}
	memcpy(&d->sa, res->ai_addr, res->ai_addrlen);
	d->salen = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/*
 * Waits until fd is ready for events ev: 0, -ETIMEDOUT once the deadline
 * (monotonic ms) passes, -ECANCELED when cancel_fd (if >= 0) is readable.
 */
static int wait_fd(int fd, short ev, int64_t deadline, int cancel_fd)
{
	struct pollfd pf[2] = {{.fd = fd, .events = ev}, {.fd = cancel_fd, .events = POLLIN}};
	int64_t left;
	int r;

	for (;;) {
		left = deadline - mono_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		r = poll(pf, cancel_fd >= 0 ? 2 : 1, left > INT_MAX ? INT_MAX : (int)left);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0 && cancel_fd >= 0 && pf[1].revents)
			return -ECANCELED;
		if (r > 0 && pf[0].revents)
			return 0;
	}
}

/*
 * Connects a TCP socket to d before the deadline.  Returns the socket
 * (non-blocking), or a negative errno with msg "dial tcp H:P: ...".
 */
static int dial(const struct dest *d, int64_t deadline, int cancel_fd, char *msg, size_t len)
{
	char eb[64];
	socklen_t sl = sizeof(int);
	int fd, r, err = 0;

	fd = socket(d->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = errno;
		fail(msg, len, "dial tcp %s: socket: %s", d->hostport, errstr(err, eb));
		return -err;
	}
	if (connect(fd, (const struct sockaddr *)&d->sa, d->salen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		err = errno;
		goto failed;
	}
	r = wait_fd(fd, POLLOUT, deadline, cancel_fd);
	if (r == -ETIMEDOUT || r == -ECANCELED) {
		fail(msg, len, "dial tcp %s: %s", d->hostport,
		     r == -ETIMEDOUT ? "i/o timeout" : "operation was canceled");
		close(fd);
		return r;
	}
	if (r < 0)
		err = -r;
	else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
		err = errno;
	if (!err)
		return fd;
failed:
	fail(msg, len, "dial tcp %s: connect: %s", d->hostport, errstr(err, eb));
	close(fd);
	return -err;
}

/* ---- httpGet ---- */

/* True when s holds a byte that would break a request line or header. */
static bool has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

/* The value of header name among the probe's httpHeaders, or NULL. */
static const char *custom_header(const json_t *hdrs, const char *name)
{
	json_t *h;
	size_t i;

	json_array_foreach(hdrs, i, h)
	{
		const char *n = obj_str(h, "name");
		if (n && !strcasecmp(n, name))
			return obj_str(h, "value") ? obj_str(h, "value") : "";
	}
	return NULL;
}

/* Builds the request into b.  0, or -1 with the reason in msg. */
static int http_request(struct buf *b, const json_t *h, const char *path, const struct dest *d,
			char *msg, size_t len)
{
	static const char *const defaults[] = {"Host", "User-Agent", "Accept"};
	const char *values[] = {d->hostport, PROBE_USER_AGENT, "*/*"};
	json_t *hdrs = json_object_get(h, "httpHeaders"), *hd;
	size_t i;

	if (has_ctl(path)) {
		fail(msg, len, "httpGet path %s: control character", path);
		return -1;
	}
	buf_printf(b, "GET %s%s HTTP/1.1\r\n", *path == '/' ? "" : "/", path);
	for (i = 0; i < 3; i++)
		if (!custom_header(hdrs, defaults[i]))
			buf_printf(b, "%s: %s\r\n", defaults[i], values[i]);
	json_array_foreach(hdrs, i, hd)
	{
		const char *n = obj_str(hd, "name"), *v = obj_str(hd, "value");
		if (!v)
			v = "";
		if (!n || !*n || has_ctl(n) || strchr(n, ':') || strchr(n, ' ') || has_ctl(v)) {
			fail(msg, len, "httpGet httpHeaders[%zu]: invalid header", i);
			return -1;
		}
		if (!strcasecmp(n, "Connection"))
			continue;
		buf_printf(b, "%s: %s\r\n", n, v);
	}
	buf_puts(b, "Connection: close\r\n\r\n");
	return 0;
}

/* Parses "HTTP/1.1 200 OK": the code, or -1. */
static int status_code(const char *line)
{
	if (strncmp(line, "HTTP/", 5) != 0)
		return -1;
	const char *sp = strchr(line, ' ');
	if (!sp || sp[1] < '1' || sp[1] > '9' || sp[2] < '0' || sp[2] > '9' || sp[3] < '0' ||
	    sp[3] > '9' || (sp[4] != ' ' && sp[4] != '\0'))
		return -1;
	return (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
}

static enum probe_result http_get(const json_t *h, const struct dest *d, int64_t deadline,
				  int cancel_fd, char *msg, size_t len)
{
	const char *path = obj_str(h, "path"), *scheme = obj_str(h, "scheme");
	char url[600], resp[STATUS_LINE_MAX + 1], eb[64], *eol;
	struct buf req = {0};
	size_t sent = 0, got = 0;
	ssize_t n;
	int fd = -1, r, code;
	enum probe_result res = PROBE_FAIL;

	if (!path || !*path)
		path = "/";
	if (scheme && strcasecmp(scheme, "HTTP") != 0)
		return fail(msg, len, "httpGet scheme %s is not supported", scheme);
	snprintf(url, sizeof(url), "http://%s%s%s", d->hostport, *path == '/' ? "" : "/", path);
	if (http_request(&req, h, path, d, msg, len) < 0)
		goto out;

	char dmsg[PROBE_MSG];
	fd = dial(d, deadline, cancel_fd, dmsg, sizeof(dmsg));
	if (fd < 0) {
		fail(msg, len, "Get \"%s\": %s", url, dmsg);
		goto out;
	}
	while (sent < req.len) {
		n = send(fd, req.s + sent, req.len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			sent += (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			fail(msg, len, "Get \"%s\": write tcp %s: %s", url, d->hostport,
			     errstr(errno, eb));
			goto out;
		}
		if ((r = wait_fd(fd, POLLOUT, deadline, cancel_fd)) < 0)
			goto waited;
	}
	for (;;) {
		resp[got] = '\0';
		if ((eol = strstr(resp, "\r\n")) || got == STATUS_LINE_MAX)
			break;
		n = recv(fd, resp + got, STATUS_LINE_MAX - got, MSG_DONTWAIT);
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (n == 0) {
			if (got == 0) {
				fail(msg, len, "Get \"%s\": EOF", url);
				goto out;
			}
			break;
		}
		if (errno != EAGAIN && errno != EINTR) {
			fail(msg, len, "Get \"%s\": read tcp %s: %s", url, d->hostport,
			     errstr(errno, eb));
			goto out;
		}
		if ((r = wait_fd(fd, POLLIN, deadline, cancel_fd)) < 0)
			goto waited;
	}
	if (eol)
		*eol = '\0';
	code = status_code(resp);
	if (code < 0)
		fail(msg, len, "Get \"%s\": malformed HTTP response \"%.60s\"", url, resp);
	else if (code < 200 || code >= 400)
		fail(msg, len, "HTTP probe failed with statuscode: %d", code);
	else
		res = PROBE_OK;
	goto out;

waited:
	if (r == -ETIMEDOUT)
		fail(msg, len,
		     "Get \"%s\": context deadline exceeded (Client.Timeout exceeded while "
		     "awaiting headers)",
		     url);
	else if (r == -ECANCELED)
		fail(msg, len, "Get \"%s\": context canceled", url);
	else
		fail(msg, len, "Get \"%s\": poll: %s", url, errstr(-r, eb));
out:
	if (fd >= 0)
		close(fd);
	buf_free(&req);
	return res;
}

/* ---- One attempt, in the current thread's namespaces ---- */

static enum probe_result run_probe(const json_t *probe, const json_t *ctr,
				   const struct probe_target *t, int cancel_fd, char *msg,
				   size_t len)
{
	const char *which, *host;
	const json_t *h = handler(probe, &which);
	struct dest d;
	int port, fd;
	int64_t deadline;

	if (len)
		msg[0] = '\0';
	if (!h)
		return fail(msg, len,
			    json_object_get(probe, "grpc") ? "gRPC probes are not supported"
							   : "probe has no handler");
	if (!strcmp(which, "exec"))
		return exec_probe(h, probe, t, msg, len);

	deadline = mono_ms() + timeout_ms(probe);
	if ((port = resolve_port(h, ctr, msg, len)) < 0)
		return PROBE_FAIL;
	host = obj_str(h, "host");
	if (!host || !*host)
		host = t->pod_ip && *t->pod_ip ? t->pod_ip : "127.0.0.1";
	if (resolve(host, port, &d, msg, len) < 0)
		return PROBE_FAIL;
	if (!strcmp(which, "httpGet"))
		return http_get(h, &d, deadline, cancel_fd, msg, len);
	if ((fd = dial(&d, deadline, cancel_fd, msg, len)) < 0)
		return PROBE_FAIL;
	close(fd);
	return PROBE_OK;
}

/* Opens /proc/PID/ns/net: an fd, or a negative errno (-ESRCH for a gone
 * process) with the reason in msg. */
static int open_netns(pid_t pid, char *msg, size_t len)
{
	char path[48], eb[64];
	int fd, err;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	err = errno == ENOENT ? ESRCH : errno;
	fail(msg, len, "open %s: %s", path, errstr(errno, eb));
	return -err;
}

/* An attempt in another network namespace, run by a helper thread. */
struct ns_attempt {
	const json_t *probe, *ctr;
	const struct probe_target *t;
	int ns_fd;
	char *msg;
	size_t len;
	enum probe_result res;
};

static void *ns_attempt_main(void *arg)
{
	struct ns_attempt *a = arg;
	char eb[64];

	if (setns(a->ns_fd, CLONE_NEWNET) < 0)
		a->res = fail(a->msg, a->len, "setns /proc/%d/ns/net: %s", (int)a->t->netns_pid,
			      errstr(errno, eb));
	else
		a->res = run_probe(a->probe, a->ctr, a->t, -1, a->msg, a->len);
	return NULL;
}

enum probe_result probe_once(const json_t *probe, const json_t *container,
			     const struct probe_target *t, char *msg, size_t msglen)
{
	struct ns_attempt a = {probe, container, t, -1, msg, msglen, PROBE_FAIL};
	pthread_t th;
	char eb[64];
	int r;

	if (!t->netns_pid || !is_network(probe))
		return run_probe(probe, container, t, -1, msg, msglen);
	if ((a.ns_fd = open_netns(t->netns_pid, msg, msglen)) < 0)
		return PROBE_FAIL;
	if ((r = spawn(&th, ns_attempt_main, &a)) < 0)
		fail(msg, msglen, "probe thread: %s", errstr(-r, eb));
	else
		pthread_join(th, NULL);
	close(a.ns_fd);
	return a.res;
}

const char *probe_kind_name(enum probe_kind kind)
{
	switch (kind) {
	case PROBE_LIVENESS:
		return "Liveness";
	case PROBE_READINESS:
		return "Readiness";
	case PROBE_STARTUP:
		return "Startup";
	}
	return "?";
}

/* ---- Prober workers ---- */

/*
 * One worker.  Lock order: lock is a leaf (nothing else is taken under
 * it, and the callback runs without it).
 */
struct prober {
	pthread_t thread;
	enum probe_kind kind;
	json_t *probe, *container; /* private copies, read by the worker only */
	struct probe_target t;	   /* its strings are the two below */
	char *container_id, *pod_ip;
	probe_cb cb;
	void *arg;
	int ns_fd;     /* the namespace the worker enters, or -1 */
	int cancel_fd; /* eventfd, readable once prober_stop has begun */

	pthread_mutex_t lock;
	pthread_cond_t cond; /* CLOCK_MONOTONIC; signalled on each change below */
	bool stopping;	     /* guarded by lock */
	bool ready;	     /* guarded by lock: the worker is set up */
	int setup_err;	     /* guarded by lock: errno of setns, when ready */
};

/*
 * Sleeps until deadline (monotonic ms; INT64_MAX: for ever) unless
 * prober_stop comes first.  Returns true when the worker is to stop.
 */
static bool sleep_until(struct prober *p, int64_t deadline)
{
	struct timespec ts = {.tv_sec = deadline / 1000, .tv_nsec = (deadline % 1000) * 1000000};
	bool stop;

	pthread_mutex_lock(&p->lock);
	while (!p->stopping) {
		if (deadline == INT64_MAX)
			pthread_cond_wait(&p->cond, &p->lock);
		else if (pthread_cond_timedwait(&p->cond, &p->lock, &ts) == ETIMEDOUT)
			break;
	}
	stop = p->stopping;
	pthread_mutex_unlock(&p->lock);
	return stop;
}

static void *prober_main(void *arg)
{
	struct prober *p = arg;
	int64_t period = param(p->probe, "periodSeconds", 10, 1, INT32_MAX) * 1000;
	int64_t delay = param(p->probe, "initialDelaySeconds", 0, 0, INT32_MAX) * 1000;
	int64_t succ = param(p->probe, "successThreshold", 1, 1, INT32_MAX);
	int64_t fails = param(p->probe, "failureThreshold", 3, 1, INT32_MAX);
	int64_t next, now, run = 0;
	bool result = p->kind == PROBE_LIVENESS, decided = false, last = false, hold = false, ok;
	char msg[PROBE_MSG];
	int err = 0;

	if (p->ns_fd >= 0 && setns(p->ns_fd, CLONE_NEWNET) < 0)
		err = errno;
	pthread_mutex_lock(&p->lock);
	p->ready = true;
	p->setup_err = err;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	if (err)
		return NULL;

	next = mono_ms() + delay;
	while (!sleep_until(p, hold ? INT64_MAX : next)) {
		ok = run_probe(p->probe, p->container, &p->t, p->cancel_fd, msg, sizeof(msg)) ==
		     PROBE_OK;
		now = mono_ms();
		next += period;
		if (next <= now) /* the attempt overran: the next tick */
			next += ((now - next) / period + 1) * period;

		if (run > 0 && ok == last) {
			run++;
		} else {
			last = ok;
			run = 1;
		}
		if (run < (ok ? succ : fails))
			continue;
		if (!decided || ok != result) {
			decided = true;
			result = ok;
			pthread_mutex_lock(&p->lock);
			bool stop = p->stopping;
			pthread_mutex_unlock(&p->lock);
			if (stop)
				break;
			p->cb(p->arg, p->kind, ok, msg);
		}
		/* a failed liveness or startup probe means a restart, and a
		 * started container needs no more startup probes */
		if ((!ok && p->kind != PROBE_READINESS) || (ok && p->kind == PROBE_STARTUP))
			hold = true;
	}
	return NULL;
}

static void prober_free(struct prober *p)
{
	if (p->ns_fd >= 0)
		close(p->ns_fd);
	if (p->cancel_fd >= 0)
		close(p->cancel_fd);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	json_decref(p->probe);
	json_decref(p->container);
	free(p->container_id);
	free(p->pod_ip);
	free(p);
}

int prober_start(const json_t *probe, const json_t *container, enum probe_kind kind,
		 const struct probe_target *t, probe_cb cb, void *arg, struct prober **out,
		 struct err **e)
{
	const char *kname = probe_kind_name(kind), *which;
	struct prober *p;
	pthread_condattr_t ca;
	char msg[PROBE_MSG], eb[64];
	int r;

	*out = NULL;
	if (!json_is_object(probe) || !handler(probe, &which))
		return err_make(e, EINVAL, "%s probe: no exec, httpGet or tcpSocket handler",
				kname);

	p = xcalloc(1, sizeof(*p));
	p->kind = kind;
	p->probe = json_deep_copy(probe);
	p->container = container ? json_deep_copy(container) : NULL;
	p->container_id = t->container_id ? xstrdup(t->container_id) : NULL;
	p->pod_ip = t->pod_ip ? xstrdup(t->pod_ip) : NULL;
	p->t = (struct probe_target){.rt = t->rt,
				     .container_id = p->container_id,
				     .netns_pid = t->netns_pid,
				     .pod_ip = p->pod_ip};
	p->cb = cb;
	p->arg = arg;
	p->ns_fd = -1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);

	p->cancel_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->cancel_fd < 0) {
		r = err_make(e, errno, "%s probe: eventfd: %s", kname, errstr(errno, eb));
		goto failed;
	}
	if (t->netns_pid > 0 && strcmp(which, "exec") != 0) {
		p->ns_fd = open_netns(t->netns_pid, msg, sizeof(msg));
		if (p->ns_fd < 0) {
			r = err_make(e, -p->ns_fd, "%s probe: %s", kname, msg);
			goto failed;
		}
	}
	if ((r = spawn(&p->thread, prober_main, p)) < 0) {
		r = err_make(e, -r, "%s probe: pthread_create: %s", kname, errstr(-r, eb));
		goto failed;
	}
	pthread_mutex_lock(&p->lock);
	while (!p->ready)
		pthread_cond_wait(&p->cond, &p->lock);
	r = p->setup_err;
	pthread_mutex_unlock(&p->lock);
	if (r) {
		pthread_join(p->thread, NULL);
		r = err_make(e, r, "%s probe: setns /proc/%d/ns/net: %s", kname, (int)t->netns_pid,
			     errstr(r, eb));
		goto failed;
	}
	*out = p;
	return 0;

failed:
	prober_free(p);
	return r;
}

void prober_stop(struct prober *p)
{
	uint64_t one = 1;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	if (write(p->cancel_fd, &one, sizeof(one)) < 0) {
		/* cannot happen (an eventfd far from overflow); the worker
		 * then finishes its attempt before it sees the flag */
	}
	pthread_join(p->thread, NULL);
	prober_free(p);
}
