/*
 * test_probe.c - container probes against real sockets: tcpSocket on a
 * listening and a closed port, httpGet against a small HTTP server thread
 * (status codes, headers sent, a server that never answers), named ports,
 * a probe inside another network namespace (a forked child's), the
 * prober workers' thresholds, initial delay, stop and startup hold, and
 * exec probes in a runc container (root, runc and /bin/busybox required;
 * without them, as without root for the namespace test, a failure unless
 * CFS_ALLOW_SKIP=1).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/mem.h"
#include "runtime/kubelet/probe.h"
#include "tests/unit/unit.h"

/* ---- helpers ---- */

static json_t *js(const char *text)
{
	json_error_t je;
	json_t *j = json_loads(text, 0, &je);
	if (!j)
		fprintf(stderr, "  bad test JSON: %s: %s\n", je.text, text);
	return j;
}

/* A probe from a printf format (JSON). */
static json_t *probe_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static json_t *probe_fmt(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	json_t *j = js(s);
	free(s);
	return j;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A TCP socket on 127.0.0.1 (port 0: any), listening when listening;
 * its port in *port. */
static int tcp_socket(int want, bool listening, int *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)want),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || (listening && listen(fd, 16) < 0)) {
		close(fd);
		return -1;
	}
	getsockname(fd, (struct sockaddr *)&a, &sl);
	*port = ntohs(a.sin_port);
	return fd;
}

/* A port of 127.0.0.1 nothing listens on (bound then closed). */
static int closed_port(void)
{
	int port = 0, fd = tcp_socket(0, false, &port);
	close(fd);
	return port;
}

static const struct probe_target local = {0};

/* ---- a tiny HTTP server ---- */

enum route { RT_OK, RT_BAD, RT_MOVED, RT_HANG, RT_FLIP, RT_BARE, RT_JUNK, RT_OTHER, RT_COUNT };

static struct {
	int lfd, port;
	pthread_t th;
	pthread_mutex_t lock;
	int hits[RT_COUNT];  /* requests per route */
	char last[2048];     /* the last request's head */
	int hung[64], nhung; /* /hang connections, never answered */
	bool flip_ok;	     /* what /flip answers: 200 or 503 */
} srv = {.lock = PTHREAD_MUTEX_INITIALIZER};

static enum route route_of(const char *req)
{
	static const char *const lines[] = {"GET /ok ",	  "GET /bad ",	"GET /moved ", "GET /hang ",
					    "GET /flip ", "GET /bare ", "GET /junk "};
	for (int i = 0; i < RT_OTHER; i++)
		if (!strncmp(req, lines[i], strlen(lines[i])))
			return (enum route)i;
	return RT_OTHER;
}

static void *srv_main(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept4(srv.lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL; /* shut down */
		}
		struct timeval tv = {.tv_sec = 2};
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		char req[2048];
		size_t got = 0;
		ssize_t n;
		req[0] = '\0';
		while (!strstr(req, "\r\n\r\n") && got < sizeof(req) - 1 &&
		       (n = recv(fd, req + got, sizeof(req) - 1 - got, 0)) > 0) {
			got += (size_t)n;
			req[got] = '\0';
		}
		enum route r = route_of(req);
		pthread_mutex_lock(&srv.lock);
		srv.hits[r]++;
		snprintf(srv.last, sizeof(srv.last), "%s", req);
		bool flip_ok = srv.flip_ok;
		if (r == RT_HANG && srv.nhung < 64) {
			srv.hung[srv.nhung++] = fd;
			pthread_mutex_unlock(&srv.lock);
			continue;
		}
		pthread_mutex_unlock(&srv.lock);
		const char *resp = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
		if (r == RT_OK || (r == RT_FLIP && flip_ok))
			resp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
		else if (r == RT_BAD)
			resp = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n";
		else if (r == RT_MOVED)
			resp = "HTTP/1.1 301 Moved Permanently\r\nLocation: /ok\r\n\r\n";
		else if (r == RT_FLIP)
			resp = "HTTP/1.1 503 Service Unavailable\r\n\r\n";
		else if (r == RT_BARE)
			resp = "HTTP/1.0 204"; /* no reason phrase, no CRLF: then EOF */
		else if (r == RT_JUNK)
			resp = "hello\r\n";
		if (send(fd, resp, strlen(resp), MSG_NOSIGNAL) < 0)
			perror("  server send");
		close(fd);
	}
}

static bool srv_start(void)
{
	srv.lfd = tcp_socket(0, true, &srv.port);
	return srv.lfd >= 0 && pthread_create(&srv.th, NULL, srv_main, NULL) == 0;
}

static void srv_stop(void)
{
	shutdown(srv.lfd, SHUT_RDWR); /* wakes accept() */
	pthread_join(srv.th, NULL);
	close(srv.lfd);
	for (int i = 0; i < srv.nhung; i++)
		close(srv.hung[i]);
}

static int hits(enum route r)
{
	pthread_mutex_lock(&srv.lock);
	int n = srv.hits[r];
	pthread_mutex_unlock(&srv.lock);
	return n;
}

/* The last request's head, copied. */
static char *last_request(void)
{
	pthread_mutex_lock(&srv.lock);
	char *s = xstrdup(srv.last);
	pthread_mutex_unlock(&srv.lock);
	return s;
}

/* ---- tcpSocket ---- */

static void test_tcp(void)
{
	char msg[256], want[128];
	int port, lfd = tcp_socket(0, true, &port);
	json_t *p = probe_fmt("{\"tcpSocket\":{\"port\":%d},\"timeoutSeconds\":30}", port);

	CHECK(probe_once(p, NULL, &local, msg, sizeof(msg)) == PROBE_OK && !strcmp(msg, ""));
	close(lfd);

	/* nothing listens: refused at once, not at the 30 s timeout */
	int64_t t0 = now_ms();
	CHECK(probe_once(p, NULL, &local, msg, sizeof(msg)) == PROBE_FAIL);
	int64_t took = now_ms() - t0;
	snprintf(want, sizeof(want), "dial tcp 127.0.0.1:%d: connect: connection refused", port);
	CHECK(!strcmp(msg, want) && took < 10000);
	printf("  closed port, %lld ms: %s\n", (long long)took, msg);
	json_decref(p);

	/* the pod IP is the default host; tcpSocket.host overrides it */
	lfd = tcp_socket(0, true, &port);
	struct probe_target t = {.pod_ip = "127.0.0.2"};
	p = probe_fmt("{\"tcpSocket\":{\"port\":%d}}", port);
	CHECK(probe_once(p, NULL, &t, msg, sizeof(msg)) == PROBE_FAIL && strstr(msg, "127.0.0.2:"));
	json_decref(p);
	p = probe_fmt("{\"tcpSocket\":{\"port\":%d,\"host\":\"127.0.0.1\"}}", port);
	CHECK(probe_once(p, NULL, &t, msg, sizeof(msg)) == PROBE_OK);
	json_decref(p);
	close(lfd);
}

/* ---- httpGet ---- */

/* probe_once of httpGet path on the test server, with extra JSON fields. */
static enum probe_result http(const char *path, const char *extra, char *msg, size_t len)
{
	json_t *p = probe_fmt("{\"httpGet\":{\"path\":\"%s\",\"port\":%d%s},\"timeoutSeconds\":1}",
			      path, srv.port, extra);
	enum probe_result r = probe_once(p, NULL, &local, msg, len);
	json_decref(p);
	return r;
}

static void test_http_status(void)
{
	char msg[256], want[128], *req;

	CHECK(http("/ok", "", msg, sizeof(msg)) == PROBE_OK && !*msg);
	req = last_request();
	snprintf(want, sizeof(want), "Host: 127.0.0.1:%d\r\n", srv.port);
	CHECK(!strncmp(req, "GET /ok HTTP/1.1\r\n", 18) && strstr(req, want) &&
	      strstr(req, "User-Agent: kube-probe/1.30\r\n") && strstr(req, "Accept: */*\r\n") &&
	      strstr(req, "Connection: close\r\n"));
	free(req);

	CHECK(http("/bad", "", msg, sizeof(msg)) == PROBE_FAIL &&
	      !strcmp(msg, "HTTP probe failed with statuscode: 500"));
	CHECK(http("/moved", "", msg, sizeof(msg)) == PROBE_OK);
	CHECK(hits(RT_OK) == 1); /* a 3xx is a success; not followed */
	CHECK(http("/bare", "", msg, sizeof(msg)) == PROBE_OK);
	CHECK(http("/junk", "", msg, sizeof(msg)) == PROBE_FAIL &&
	      strstr(msg, "malformed HTTP response \"hello\""));
	CHECK(http("/nowhere", "", msg, sizeof(msg)) == PROBE_FAIL &&
	      !strcmp(msg, "HTTP probe failed with statuscode: 404"));

	/* no path: "/" */
	json_t *p = probe_fmt("{\"httpGet\":{\"port\":%d}}", srv.port);
	CHECK(probe_once(p, NULL, &local, msg, sizeof(msg)) == PROBE_FAIL);
	req = last_request();
	CHECK(!strncmp(req, "GET / HTTP/1.1\r\n", 16));
	free(req);
	json_decref(p);

	/* HTTPS is not spoken */
	CHECK(http("/ok", ",\"scheme\":\"HTTPS\"", msg, sizeof(msg)) == PROBE_FAIL &&
	      strstr(msg, "HTTPS"));

	/* refused: Go's wording */
	int port = closed_port();
	p = probe_fmt("{\"httpGet\":{\"path\":\"/healthz\",\"port\":%d}}", port);
	CHECK(probe_once(p, NULL, &local, msg, sizeof(msg)) == PROBE_FAIL);
	snprintf(want, sizeof(want),
		 "Get \"http://127.0.0.1:%d/healthz\": dial tcp 127.0.0.1:%d: connect: "
		 "connection refused",
		 port, port);
	CHECK(!strcmp(msg, want));
	printf("  %s\n", msg);
	json_decref(p);
}

static void test_http_headers(void)
{
	char msg[256], *req;

	CHECK(http("/ok",
		   ",\"httpHeaders\":[{\"name\":\"X-Probe\",\"value\":\"yes\"},"
		   "{\"name\":\"Host\",\"value\":\"web.example\"},"
		   "{\"name\":\"X-Empty\"}]",
		   msg, sizeof(msg)) == PROBE_OK);
	req = last_request();
	CHECK(strstr(req, "\r\nX-Probe: yes\r\n") && strstr(req, "\r\nHost: web.example\r\n") &&
	      strstr(req, "\r\nX-Empty: \r\n"));
	CHECK(!strstr(req, "Host: 127.0.0.1")); /* replaced, not doubled */
	CHECK(strstr(req, "User-Agent: kube-probe/1.30"));
	free(req);

	/* a header value that would split the request is refused, not sent */
	int before = hits(RT_OK);
	CHECK(http("/ok", ",\"httpHeaders\":[{\"name\":\"X-A\",\"value\":\"1\\r\\nX-B: 2\"}]", msg,
		   sizeof(msg)) == PROBE_FAIL);
	CHECK(hits(RT_OK) == before);
}

static void test_http_timeout(void)
{
	char msg[256];
	int64_t t0 = now_ms();

	CHECK(http("/hang", "", msg, sizeof(msg)) == PROBE_FAIL);
	int64_t took = now_ms() - t0;
	CHECK(took >= 950 && took < 10000); /* the server never answers */
	CHECK(strstr(msg, "context deadline exceeded") && strstr(msg, "/hang"));
	CHECK(hits(RT_HANG) == 1); /* it did reach the server */
	printf("  no answer, %lld ms: %s\n", (long long)took, msg);
}

/* ---- named ports ---- */

static void test_named_port(void)
{
	char msg[256];
	json_t *ctr = probe_fmt("{\"name\":\"web\",\"ports\":[{\"name\":\"metrics\","
				"\"containerPort\":9}, {\"name\":\"http\",\"containerPort\":%d}]}",
				srv.port);
	json_t *p = js("{\"httpGet\":{\"path\":\"/ok\",\"port\":\"http\"}}");

	CHECK(probe_once(p, ctr, &local, msg, sizeof(msg)) == PROBE_OK);
	json_decref(p);

	p = js("{\"tcpSocket\":{\"port\":\"admin\"}}");
	CHECK(probe_once(p, ctr, &local, msg, sizeof(msg)) == PROBE_FAIL &&
	      !strcmp(msg, "port admin not found"));
	json_decref(p);
	/* no container: no names */
	p = js("{\"tcpSocket\":{\"port\":\"http\"}}");
	CHECK(probe_once(p, NULL, &local, msg, sizeof(msg)) == PROBE_FAIL &&
	      !strcmp(msg, "port http not found"));
	json_decref(p);
	json_decref(ctr);
}

/* ---- network namespaces ---- */

static char *netns_of(const char *path)
{
	char buf[64];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	return xstrdup(buf);
}

/* What a prober's callback saw, from the prober's thread. */
struct seen {
	pthread_mutex_t lock;
	int n;
	bool ok[8];
	int64_t at[8];
	char msg[8][256];
	char *thread_ns; /* netns of the thread that called back, first call */
};

static void on_result(void *arg, enum probe_kind kind, bool ok, const char *msg)
{
	struct seen *s = arg;
	(void)kind;
	pthread_mutex_lock(&s->lock);
	if (!s->thread_ns)
		s->thread_ns = netns_of("/proc/thread-self/ns/net");
	if (s->n < 8) {
		s->ok[s->n] = ok;
		s->at[s->n] = now_ms();
		snprintf(s->msg[s->n], sizeof(s->msg[0]), "%s", msg);
	}
	s->n++;
	pthread_mutex_unlock(&s->lock);
}

static int seen_n(struct seen *s)
{
	pthread_mutex_lock(&s->lock);
	int n = s->n;
	pthread_mutex_unlock(&s->lock);
	return n;
}

/* Waits up to ms for s to have n calls. */
static bool wait_seen(struct seen *s, int n, int ms)
{
	int64_t end = now_ms() + ms;
	while (seen_n(s) < n && now_ms() < end)
		usleep(5000);
	return seen_n(s) >= n;
}

#define SEEN_INIT                                                                                  \
	{                                                                                          \
		.lock = PTHREAD_MUTEX_INITIALIZER                                                  \
	}

/*
 * A child in a new network namespace with lo up and 127.0.0.1:*port
 * listening; it exits when *ctl (a pipe's write end) is closed.  Returns
 * its pid, or -1.
 */
static pid_t netns_child(int *port, int *ctl)
{
	int go[2], back[2];
	if (pipe2(go, O_CLOEXEC) < 0 || pipe2(back, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		char c;
		int p = 0, s;
		struct ifreq ifr = {0};
		close(go[1]);
		close(back[0]);
		if (unshare(CLONE_NEWNET) < 0)
			_exit(1);
		s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
		if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
			_exit(2);
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			_exit(3);
		if (tcp_socket(0, true, &p) < 0)
			_exit(4);
		if (write(back[1], &p, sizeof(p)) != sizeof(p))
			_exit(5);
		while (read(go[0], &c, 1) > 0) /* until the parent closes */
			;
		_exit(0);
	}
	close(go[0]);
	close(back[1]);
	if (pid < 0 || read(back[0], port, sizeof(*port)) != sizeof(*port)) {
		close(go[1]);
		close(back[0]);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		return -1;
	}
	close(back[0]);
	*ctl = go[1];
	return pid;
}

static void test_netns(void)
{
	char msg[256], path[64];
	int port = 0, ctl = -1;

	if (geteuid() != 0) {
		unit_skip("test_netns needs root (CAP_SYS_ADMIN for unshare and setns)");
		return;
	}
	pid_t pid = netns_child(&port, &ctl);
	CHECK(pid > 0);
	if (pid <= 0)
		return;
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	char *host_ns = netns_of("/proc/thread-self/ns/net"), *pod_ns = netns_of(path);
	CHECK(strcmp(host_ns, pod_ns) != 0);

	json_t *p = probe_fmt("{\"tcpSocket\":{\"port\":%d},\"periodSeconds\":1}", port);
	struct probe_target in_pod = {.netns_pid = pid};

	/* the port is open in the pod's namespace only (negative control first) */
	CHECK(probe_once(p, NULL, &local, msg, sizeof(msg)) == PROBE_FAIL &&
	      strstr(msg, "connection refused"));
	CHECK(probe_once(p, NULL, &in_pod, msg, sizeof(msg)) == PROBE_OK);
	/* and this thread is still in its own */
	char *after = netns_of("/proc/thread-self/ns/net");
	CHECK(!strcmp(after, host_ns));
	free(after);

	/* a prober's thread moves into the namespace; the rest stay */
	struct seen s = SEEN_INIT;
	struct prober *pr = NULL;
	struct err *e = NULL;
	CHECK(prober_start(p, NULL, PROBE_READINESS, &in_pod, on_result, &s, &pr, &e) == 0);
	CHECK(wait_seen(&s, 1, 10000) && s.ok[0]);
	prober_stop(pr);
	CHECK(s.thread_ns && !strcmp(s.thread_ns, pod_ns));
	after = netns_of("/proc/thread-self/ns/net");
	char *process_ns = netns_of("/proc/self/ns/net");
	CHECK(!strcmp(after, host_ns) && !strcmp(process_ns, host_ns));
	printf("  pod netns %s, prober thread %s, test thread %s\n", pod_ns,
	       s.thread_ns ? s.thread_ns : "?", after);
	free(after);
	free(process_ns);
	free(s.thread_ns);

	/* the namespace goes with its last process: nothing left behind */
	close(ctl);
	int st = -1;
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);

	/* a gone process: refused at start, a failure once */
	CHECK(prober_start(p, NULL, PROBE_READINESS, &in_pod, on_result, &s, &pr, &e) == -ESRCH &&
	      !pr && e && strstr(e->msg, path));
	err_free(e);
	CHECK(probe_once(p, NULL, &in_pod, msg, sizeof(msg)) == PROBE_FAIL && strstr(msg, path));
	json_decref(p);
	free(host_ns);
	free(pod_ns);
}

/* ---- prober workers ---- */

static void test_prober_thresholds(void)
{
	/* three workers at once, period 1 s, to keep the test short */
	struct seen live = SEEN_INIT, ready = SEEN_INIT, start = SEEN_INIT;
	struct prober *pl = NULL, *pr = NULL, *ps = NULL;
	json_t *bad = probe_fmt("{\"httpGet\":{\"path\":\"/bad\",\"port\":%d},\"periodSeconds\":1,"
				"\"failureThreshold\":3}",
				srv.port);
	json_t *flip =
	    probe_fmt("{\"httpGet\":{\"path\":\"/flip\",\"port\":%d},"
		      "\"periodSeconds\":1,\"successThreshold\":2,\"failureThreshold\":1}",
		      srv.port);
	json_t *ok =
	    probe_fmt("{\"httpGet\":{\"path\":\"/ok\",\"port\":%d},\"periodSeconds\":1}", srv.port);
	int ok0 = hits(RT_OK), bad0 = hits(RT_BAD);

	pthread_mutex_lock(&srv.lock);
	srv.flip_ok = false;
	pthread_mutex_unlock(&srv.lock);
	int64_t t0 = now_ms();
	CHECK(prober_start(bad, NULL, PROBE_LIVENESS, &local, on_result, &live, &pl, NULL) == 0);
	CHECK(prober_start(flip, NULL, PROBE_READINESS, &local, on_result, &ready, &pr, NULL) == 0);
	CHECK(prober_start(ok, NULL, PROBE_STARTUP, &local, on_result, &start, &ps, NULL) == 0);
	json_decref(ok); /* the probers hold copies */

	/* readiness: the first attempt fails; with failureThreshold 1 that is
	 * its first result, reported although it equals the initial one */
	CHECK(wait_seen(&ready, 1, 10000) && !ready.ok[0] && strstr(ready.msg[0], "503"));
	/* startup: succeeds at once */
	CHECK(wait_seen(&start, 1, 10000) && start.ok[0] && !strcmp(start.msg[0], ""));
	/* /flip answers 200 from the next attempt (t = 1) on */
	pthread_mutex_lock(&srv.lock);
	srv.flip_ok = true;
	pthread_mutex_unlock(&srv.lock);

	/* readiness: ready after two successes (t = 1, t = 2), not after one.
	 * The lower bounds are the thresholds times the period; the upper
	 * ones are only ceilings (a loaded machine is late, never early). */
	CHECK(wait_seen(&ready, 2, 15000) && ready.ok[1]);
	int64_t ready_at = ready.at[1] - t0;
	CHECK(ready_at >= 1900 && ready_at < 15000);
	/* liveness: the third failure (t = 2) is the first result: it stops
	 * probing after its result, so three hits and one result mean that
	 * the first two failures were not reported */
	CHECK(wait_seen(&live, 1, 15000) && !live.ok[0] &&
	      !strcmp(live.msg[0], "HTTP probe failed with statuscode: 500"));
	int64_t dead_at = live.at[0] - t0;
	CHECK(dead_at >= 1900 && dead_at < 15000 && hits(RT_BAD) - bad0 == 3);

	pthread_mutex_lock(&srv.lock);
	srv.flip_ok = false;
	pthread_mutex_unlock(&srv.lock);
	/* readiness: one failure (t = 3) is enough to be unready again */
	CHECK(wait_seen(&ready, 3, 15000) && !ready.ok[2]);
	/* more than a period later: liveness and startup would have probed
	 * again by now (a wait for nothing to happen, not a synchronisation) */
	usleep(1500 * 1000);

	/* liveness stopped probing after its failure, startup after its
	 * success; each was reported once */
	CHECK(hits(RT_BAD) - bad0 == 3 && seen_n(&live) == 1);
	CHECK(hits(RT_OK) - ok0 == 1 && seen_n(&start) == 1);
	CHECK(seen_n(&ready) == 3);
	printf("  readiness false/true/false, ready at %lld ms; liveness failed at %lld ms; "
	       "startup probed once\n",
	       (long long)ready_at, (long long)dead_at);

	int64_t t1 = now_ms();
	prober_stop(pl);
	prober_stop(pr);
	prober_stop(ps);
	CHECK(now_ms() - t1 < 1000); /* at once, not at the next period */
	json_decref(bad);
	json_decref(flip);
	free(live.thread_ns);
	free(ready.thread_ns);
	free(start.thread_ns);
}

static void test_prober_delay_and_stop(void)
{
	struct seen s = SEEN_INIT, none = SEEN_INIT;
	struct prober *p = NULL;
	json_t *probe = probe_fmt("{\"httpGet\":{\"path\":\"/ok\",\"port\":%d},"
				  "\"initialDelaySeconds\":1,\"periodSeconds\":10}",
				  srv.port);

	/* initialDelaySeconds 1: the first result comes after a second */
	int64_t t0 = now_ms();
	CHECK(prober_start(probe, NULL, PROBE_READINESS, &local, on_result, &s, &p, NULL) == 0);
	json_decref(probe);
	CHECK(wait_seen(&s, 1, 9000) && s.ok[0]);
	int64_t first = s.at[0] - t0;
	CHECK(first >= 950 && first < 9000); /* after the delay, before the period */

	/* stop wakes the 10 s wait at once */
	int64_t t1 = now_ms();
	prober_stop(p);
	int64_t stop_ms = now_ms() - t1;
	CHECK(stop_ms < 5000);

	/* ... and the initial delay */
	probe = probe_fmt("{\"tcpSocket\":{\"port\":%d},\"initialDelaySeconds\":10}", srv.port);
	CHECK(prober_start(probe, NULL, PROBE_LIVENESS, &local, on_result, &none, &p, NULL) == 0);
	json_decref(probe);
	usleep(20 * 1000);
	t1 = now_ms();
	prober_stop(p);
	CHECK(now_ms() - t1 < 5000 && seen_n(&none) == 0);

	/* ... and an attempt in progress (a server that never answers) */
	probe = probe_fmt("{\"httpGet\":{\"path\":\"/hang\",\"port\":%d},\"timeoutSeconds\":5}",
			  srv.port);
	int hang0 = hits(RT_HANG);
	CHECK(prober_start(probe, NULL, PROBE_LIVENESS, &local, on_result, &none, &p, NULL) == 0);
	json_decref(probe);
	for (int i = 0; i < 2000 && hits(RT_HANG) == hang0; i++)
		usleep(5000);
	CHECK(hits(RT_HANG) == hang0 + 1);
	t1 = now_ms();
	prober_stop(p);
	int64_t stop_busy = now_ms() - t1;
	CHECK(stop_busy < 4000 && seen_n(&none) == 0); /* not at the 5 s timeout */
	prober_stop(NULL);

	/* a probe without a handler is refused */
	struct err *e = NULL;
	probe = js("{\"periodSeconds\":1}");
	CHECK(prober_start(probe, NULL, PROBE_LIVENESS, &local, on_result, &none, &p, &e) ==
		  -EINVAL &&
	      !p && e && strstr(e->msg, "Liveness probe"));
	err_free(e);
	json_decref(probe);
	free(s.thread_ns);
	free(none.thread_ns);
	printf("  first result after %lld ms; stop took %lld ms idle, %lld ms mid-attempt\n",
	       (long long)first, (long long)stop_ms, (long long)stop_busy);
}

/* ---- exec, in a runc container ---- */

static char tmp[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP || flag == FTW_D)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

/* TMP/c/rootfs with busybox; 0, or -1. */
static int make_rootfs(char *rootfs, size_t len)
{
	static const char *const links[] = {"sh", "sleep", "true", "false"};
	char path[256], chunk[65536];
	ssize_t n;

	snprintf(rootfs, len, "%s/c/rootfs", tmp);
	for (const char *const *d =
		 (const char *const[]){"/c", "/c/rootfs", "/c/rootfs/bin", "/c/rootfs/proc",
				       "/c/rootfs/dev", "/c/rootfs/sys", "/c/rootfs/tmp", NULL};
	     *d; d++) {
		snprintf(path, sizeof(path), "%s%s", tmp, *d);
		mkdir(path, 0755);
	}
	snprintf(path, sizeof(path), "%s/bin/busybox", rootfs);
	int in = open("/bin/busybox", O_RDONLY | O_CLOEXEC);
	int out = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0755);
	while (in >= 0 && out >= 0 && (n = read(in, chunk, sizeof(chunk))) > 0)
		if (write(out, chunk, (size_t)n) != n)
			break;
	close(in);
	close(out);
	if (in < 0 || out < 0)
		return -1;
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		snprintf(path, sizeof(path), "%s/bin/%s", rootfs, links[i]);
		symlink("busybox", path);
	}
	return 0;
}

static void test_exec(void)
{
	struct oci_runtime *rt = NULL;
	struct err *e = NULL;
	char rootfs[128], path[256], cg[64], id[32], msg[256];

	if (geteuid() != 0 || access("/bin/busybox", X_OK) < 0) {
		unit_skip("test_exec needs root, runc and /bin/busybox (busybox-static)");
		return;
	}
	snprintf(tmp, sizeof(tmp), "/tmp/test_probe.XXXXXX");
	CHECK(mkdtemp(tmp) != NULL);
	snprintf(path, sizeof(path), "%s/runc", tmp);
	if (make_rootfs(rootfs, sizeof(rootfs)) < 0 || oci_runtime_new(path, &rt, &e) < 0) {
		unit_skip(e ? e->msg : "test_exec: no rootfs");
		err_free(e);
		nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
		return;
	}

	/* a container that sleeps */
	json_t *pod =
	    js("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
	       "\"namespace\":\"default\",\"uid\":\"u-probe\"},\"spec\":{\"containers\":"
	       "[{\"name\":\"c\",\"image\":\"busybox\",\"command\":[\"sleep\",\"100\"]}]}}");
	snprintf(cg, sizeof(cg), "/test_probe-%d", (int)getpid());
	snprintf(id, sizeof(id), "probe-%d", (int)getpid());
	struct oci_spec spec = {.rootfs = rootfs,
				.pod = pod,
				.container = json_array_get(
				    json_object_get(json_object_get(pod, "spec"), "containers"), 0),
				.cgroups_path = cg};
	json_t *config = oci_config(&spec, &e);
	struct oci_state st = {0};
	snprintf(path, sizeof(path), "%s/c", tmp);
	int rc = config ? oci_create(rt, id, path, config, NULL, &e) : -EINVAL;
	if (rc == 0)
		rc = oci_state(rt, id, &st, &e);
	if (rc == 0)
		rc = oci_start(rt, id, &e);
	if (rc < 0)
		fprintf(stderr, "  container: %s\n", e ? e->msg : "?");
	CHECK(rc == 0 && st.pid > 0);
	err_free(e), e = NULL;

	struct probe_target t = {.rt = rt, .container_id = id};
	json_t *p = js("{\"exec\":{\"command\":[\"true\"]},\"timeoutSeconds\":1}");
	CHECK(probe_once(p, NULL, &t, msg, sizeof(msg)) == PROBE_OK && !*msg);
	json_decref(p);

	p = js("{\"exec\":{\"command\":[\"false\"]}}");
	CHECK(probe_once(p, NULL, &t, msg, sizeof(msg)) == PROBE_FAIL &&
	      !strcmp(msg, "command \"false\" exited with code 1"));
	json_decref(p);

	p = js("{\"exec\":{\"command\":[\"sleep\",\"30\"]},\"timeoutSeconds\":1}");
	int64_t t0 = now_ms();
	CHECK(probe_once(p, NULL, &t, msg, sizeof(msg)) == PROBE_FAIL);
	int64_t took = now_ms() - t0;
	CHECK(!strcmp(msg, "command \"sleep 30\" timed out") && took >= 950 && took < 20000);
	printf("  sleep 30 with timeoutSeconds 1: %lld ms: %s\n", (long long)took, msg);
	json_decref(p);

	/* netns_pid does not matter to exec */
	p = js("{\"exec\":{\"command\":[\"sh\",\"-c\",\"exit 0\"]}}");
	t.netns_pid = 99999999;
	CHECK(probe_once(p, NULL, &t, msg, sizeof(msg)) == PROBE_OK);
	t.netns_pid = 0;
	json_decref(p);

	/* runc's errors are failures with its message */
	p = js("{\"exec\":{\"command\":[\"true\"]}}");
	t.container_id = "no-such-container";
	CHECK(probe_once(p, NULL, &t, msg, sizeof(msg)) == PROBE_FAIL && *msg);
	printf("  unknown container: %s\n", msg);
	t.container_id = id;

	/* a prober copies the target's strings */
	struct seen s = SEEN_INIT;
	struct prober *pr = NULL;
	char *idcopy = xstrdup(id);
	struct probe_target t2 = {.rt = rt, .container_id = idcopy};
	CHECK(prober_start(p, NULL, PROBE_STARTUP, &t2, on_result, &s, &pr, NULL) == 0);
	memset(idcopy, 'x', strlen(idcopy));
	free(idcopy);
	CHECK(wait_seen(&s, 1, 10000) && s.ok[0]);
	prober_stop(pr);
	free(s.thread_ns);
	json_decref(p);

	/* clean up: kill, reap, delete */
	CHECK(oci_kill(rt, id, SIGKILL, NULL) == 0);
	int code = -1;
	CHECK(st.pid > 0 && oci_wait_exit(st.pid, &code) == 0 && code == 137);
	CHECK(oci_delete(rt, id, true, NULL) == 0);
	json_decref(config);
	json_decref(pod);
	oci_runtime_free(rt);
	nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	CHECK(access(tmp, F_OK) < 0);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	/* container inits are reparented to us when runc create exits */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (!srv_start()) {
		fprintf(stderr, "test_probe: cannot listen on 127.0.0.1\n");
		return 1;
	}
	int64_t t0 = now_ms();
	RUN(test_netns); /* first: it forks, best before other threads */
	RUN(test_tcp);
	RUN(test_http_status);
	RUN(test_http_headers);
	RUN(test_http_timeout);
	RUN(test_named_port);
	RUN(test_prober_thresholds);
	RUN(test_prober_delay_and_stop);
	RUN(test_exec);
	srv_stop();
	printf("  all: %lld ms\n", (long long)(now_ms() - t0));
	return unit_done();
}
