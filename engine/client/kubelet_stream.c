/*
 * kubelet_stream.c - exec and port-forward through a node agent's
 * endpoint (runtime/kubelet/kserver.h): libcurl connects (TLS, the
 * agent's key pinned) with CURLOPT_CONNECT_ONLY, we write the upgrade
 * request ourselves and then relay, in one thread per session, between
 * the connection (frames of kstream.h for exec, raw for port-forward)
 * and socketpairs whose other ends the caller holds.
 *
 * curl's handle is used by that thread only.  Before each poll() the
 * relay reads the connection until curl says EAGAIN, so no TLS record is
 * left decrypted in a buffer poll() cannot see.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/client/kstream.h"
#include "engine/client/kubelet_client_int.h"
#include "engine/mem.h"

#define HEAD_MAX	   16384
#define UPGRADE_TIMEOUT_MS 30000

struct kconn {
	CURL *c;
	curl_socket_t sock;
	struct buf rx; /* received, not yet used */
};

static void kconn_close(struct kconn *k)
{
	if (k->c)
		curl_easy_cleanup(k->c);
	buf_free(&k->rx);
	k->c = NULL;
}

static int send_all(struct kconn *k, const void *p, size_t n)
{
	const char *s = p;
	while (n) {
		size_t sent = 0;
		CURLcode r = curl_easy_send(k->c, s, n, &sent);
		if (r == CURLE_AGAIN) {
			struct pollfd pf = {k->sock, POLLOUT, 0};
			poll(&pf, 1, 1000);
			continue;
		}
		if (r != CURLE_OK)
			return -1;
		s += sent;
		n -= sent;
	}
	return 0;
}

/* Reads what there is into k->rx: 1 some, 0 none now, -1 at the end. */
static int drain(struct kconn *k)
{
	int got = 0;
	for (;;) {
		char buf[65536];
		size_t n = 0;
		CURLcode r = curl_easy_recv(k->c, buf, sizeof(buf), &n);
		if (r == CURLE_AGAIN)
			return got;
		if (r != CURLE_OK || n == 0)
			return -1;
		buf_add(&k->rx, buf, n);
		got = 1;
	}
}

static void consume(struct buf *b, size_t n)
{
	memmove(b->s, b->s + n, b->len - n);
	b->len -= n;
}

/* The answer to the upgrade: 0 on 101 (rx keeps what followed), else
 * -errno with the agent's message. */
static int read_head(struct kconn *k, const char *node, struct err **e)
{
	char *end = NULL;
	for (int waited = 0; !end && waited < UPGRADE_TIMEOUT_MS;) {
		int r = drain(k);
		if (k->rx.len) {
			buf_add(&k->rx, "", 1);
			k->rx.len--;
			end = strstr(k->rx.s, "\r\n\r\n");
		}
		if (end || r < 0 || k->rx.len > HEAD_MAX)
			break;
		struct pollfd pf = {k->sock, POLLIN, 0};
		poll(&pf, 1, 200);
		waited += 200;
	}
	if (!end)
		return err_make(e, EIO, "node %s: no answer from its agent", node);
	int code = 0;
	sscanf(k->rx.s, "HTTP/1.%*d %d", &code);
	size_t head = (size_t)(end - k->rx.s) + 4;
	if (code == 101) {
		consume(&k->rx, head);
		return 0;
	}
	long long clen = 0;
	const char *cl = strcasestr(k->rx.s, "\r\nContent-Length:");
	if (cl)
		clen = atoll(cl + 17);
	for (int i = 0; i < 50 && (long long)(k->rx.len - head) < clen && drain(k) >= 0; i++) {
		struct pollfd pf = {k->sock, POLLIN, 0};
		poll(&pf, 1, 100);
	}
	size_t n = k->rx.len - head < (size_t)clen ? k->rx.len - head : (size_t)clen;
	int en = code == 400 ? EINVAL : code == 404 ? ENOENT : code == 401 ? EACCES : EIO;
	return err_make(e, en, "%.*s", (int)n,
			n	      ? k->rx.s + head
			: code == 401 ? "the agent refused us"
				      : "agent error");
}

/* Connects to rn's agent and upgrades path to proto. */
static int kconn_open(struct rnode *rn, const char *path, const char *proto, struct kconn *k,
		      struct err **e)
{
	memset(k, 0, sizeof(*k));
	k->c = curl_easy_init();
	char *url = xasprintf("%s/", rn->base);
	curl_easy_setopt(k->c, CURLOPT_URL, url);
	curl_easy_setopt(k->c, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(k->c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(k->c, CURLOPT_SSL_VERIFYPEER, 0L); /* self-signed: the key is pinned */
	curl_easy_setopt(k->c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(k->c, CURLOPT_PINNEDPUBLICKEY, rn->pin);
	curl_easy_setopt(k->c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
	CURLcode cr = curl_easy_perform(k->c);
	free(url);
	if (cr != CURLE_OK ||
	    curl_easy_getinfo(k->c, CURLINFO_ACTIVESOCKET, &k->sock) != CURLE_OK) {
		kconn_close(k);
		return err_make(e, EHOSTUNREACH, "error dialing backend: node %s: %s", rn->node,
				curl_easy_strerror(cr));
	}
	char *tok = kubelet_client_auth(rn);
	char *req = xasprintf("GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nConnection: "
			      "Upgrade\r\nUpgrade: %s\r\n\r\n",
			      path, rn->node, tok ? tok : "", proto);
	int r = send_all(k, req, strlen(req));
	free(req);
	free(tok);
	if (r < 0)
		r = err_make(e, EIO, "node %s: the agent closed the connection", rn->node);
	else
		r = read_head(k, rn->node, e);
	if (r < 0)
		kconn_close(k);
	return r;
}

static int send_frame(struct kconn *k, int ch, const void *p, size_t n)
{
	unsigned char h[KS_HDR];
	ks_pack(h, ch, (uint32_t)n);
	return send_all(k, h, KS_HDR) < 0 || (n && send_all(k, p, n) < 0) ? -1 : 0;
}

/* Writes to a closed peer fail with EPIPE in this thread, not a signal. */
static void block_sigpipe(void)
{
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &m, NULL);
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Exec */

struct xsess {
	struct api_exec_sess s;
	struct kconn k;
	int in_peer, out_peer, err_peer; /* the relay's ends */
	int ctl[2];			 /* frames from resize and kill */
	pthread_t th;
	bool joined;
	int code; /* -1: the connection was lost */
};

/* Hands the whole frames in rx to the caller's fds: 1 at the exit. */
static int deliver(struct xsess *x)
{
	struct buf *b = &x->k.rx;
	while (b->len >= KS_HDR) {
		uint32_t n = ks_len((unsigned char *)b->s);
		if (b->len < KS_HDR + (size_t)n)
			return 0;
		int ch = (unsigned char)b->s[0];
		const char *p = b->s + KS_HDR;
		if (ch == KS_STDOUT && x->out_peer >= 0 && write_all(x->out_peer, p, n) < 0) {
			close(x->out_peer);
			x->out_peer = -1;
		} else if (ch == KS_STDERR && x->err_peer >= 0 &&
			   write_all(x->err_peer, p, n) < 0) {
			close(x->err_peer);
			x->err_peer = -1;
		} else if (ch == KS_EXIT) {
			x->code = atoi(p < b->s + b->len ? p : "1");
			return 1;
		}
		consume(b, KS_HDR + n);
	}
	return 0;
}

/* Stdin from the caller: false when the connection failed. */
static bool pass_stdin(struct xsess *x)
{
	char buf[65536];
	ssize_t n = read(x->in_peer, buf, sizeof(buf));
	if (n < 0 && errno == EINTR)
		return true;
	if (n > 0)
		return send_frame(&x->k, KS_STDIN, buf, (size_t)n) == 0;
	close(x->in_peer);
	x->in_peer = -1;
	return send_frame(&x->k, KS_EOF, NULL, 0) == 0;
}

static void *exec_main(void *arg)
{
	block_sigpipe();
	struct xsess *x = arg;
	x->code = -1;
	for (;;) {
		int d = drain(&x->k);
		/* rx may hold a partial frame: deliver is safe to repeat */
		if (deliver(x) == 1 || d < 0)
			break;
		struct pollfd p[3] = {
		    {x->k.sock, POLLIN, 0}, {x->ctl[0], POLLIN, 0}, {x->in_peer, POLLIN, 0}};
		if (poll(p, 3, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents) {
			char c[64];
			ssize_t n = read(x->ctl[0], c, sizeof(c));
			if (n > 0 && send_all(&x->k, c, (size_t)n) < 0)
				break;
		}
		if (p[2].revents && !pass_stdin(x))
			break;
	}
	if (x->out_peer >= 0)
		close(x->out_peer);
	if (x->err_peer >= 0)
		close(x->err_peer);
	if (x->in_peer >= 0)
		close(x->in_peer);
	x->out_peer = x->err_peer = x->in_peer = -1;
	kconn_close(&x->k);
	return NULL;
}

static int xs_wait(struct api_exec_sess *s, int *code, struct err **e)
{
	struct xsess *x = (struct xsess *)s;
	if (!x->joined) {
		pthread_join(x->th, NULL);
		x->joined = true;
	}
	if (x->code < 0)
		return err_make(e, EIO, "lost the connection to the node's agent");
	*code = x->code;
	return 0;
}

static void ctl_frame(struct xsess *x, int ch, const char *p)
{
	unsigned char f[64];
	size_t n = strlen(p);
	ks_pack(f, ch, (uint32_t)n);
	memcpy(f + KS_HDR, p, n);
	if (write(x->ctl[1], f, KS_HDR + n) < 0) {
		/* the relay ended: nothing to tell */
	}
}

static void xs_resize(struct api_exec_sess *s, unsigned w, unsigned h)
{
	char p[32];
	snprintf(p, sizeof(p), "%u %u", w, h);
	ctl_frame((struct xsess *)s, KS_RESIZE, p);
}

static void xs_kill(struct api_exec_sess *s)
{
	ctl_frame((struct xsess *)s, KS_KILL, "");
}

static void xs_free(struct api_exec_sess *s)
{
	struct xsess *x = (struct xsess *)s;
	if (!x->joined) {
		xs_kill(s);
		pthread_join(x->th, NULL);
	}
	int fds[] = {s->in, s->out, s->err, x->ctl[0], x->ctl[1]};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(x);
}

static const struct api_exec_sess_ops xs_ops = {xs_wait, xs_resize, xs_kill, xs_free};

/* A socketpair: *mine the caller's end, *peer the relay's; or both -1. */
static int pair(bool want, int *mine, int *peer)
{
	int sv[2] = {-1, -1};
	if (want && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	*mine = sv[0];
	*peer = sv[1];
	return 0;
}

/* The request path of o (caller frees). */
static char *exec_path(CURL *c, const struct api_exec_opts *o)
{
	struct buf b = {0};
	char *ns = curl_easy_escape(c, o->ns, 0), *pod = curl_easy_escape(c, o->pod, 0);
	buf_printf(&b, "/exec/%s/%s?ns=%s&pod=%s&tty=%d&in=%d&out=%d&err=%d", o->uid, o->container,
		   ns, pod, o->tty, o->in, o->out, o->err && !o->tty);
	curl_free(ns);
	curl_free(pod);
	for (size_t i = 0; o->argv[i]; i++) {
		char *a = curl_easy_escape(c, o->argv[i], 0);
		buf_printf(&b, "&cmd=%s", a);
		curl_free(a);
	}
	return b.s;
}

int kubelet_remote_exec(void *arg, const struct api_exec_opts *o, struct api_exec_sess **out,
			struct err **e)
{
	struct rnode *rn = arg;
	struct xsess *x = xcalloc(1, sizeof(*x));
	x->s.ops = &xs_ops;
	x->s.in = x->s.out = x->s.err = x->in_peer = x->out_peer = x->err_peer = -1;
	x->ctl[0] = x->ctl[1] = -1;
	CURL *tmp = curl_easy_init();
	char *path = exec_path(tmp, o);
	curl_easy_cleanup(tmp);
	int r = kconn_open(rn, path, "cfs-exec", &x->k, e);
	free(path);
	if (r == 0 && (pair(o->in, &x->s.in, &x->in_peer) < 0 ||
		       pair(o->out || o->tty, &x->s.out, &x->out_peer) < 0 ||
		       pair(o->err && !o->tty, &x->s.err, &x->err_peer) < 0 ||
		       pipe2(x->ctl, O_CLOEXEC | O_NONBLOCK) < 0))
		r = err_make(e, errno, "exec: %s", strerror(errno));
	if (r == 0 && pthread_create(&x->th, NULL, exec_main, x))
		r = err_make(e, EAGAIN, "exec: no thread");
	if (r < 0) {
		kconn_close(&x->k);
		int fds[] = {x->s.in,	  x->s.out,    x->s.err,  x->in_peer,
			     x->out_peer, x->err_peer, x->ctl[0], x->ctl[1]};
		for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
			if (fds[i] >= 0)
				close(fds[i]);
		free(x);
		return r;
	}
	*out = &x->s;
	return 0;
}

/* Port-forward */

struct pfrelay {
	struct kconn k;
	int fd; /* the relay's end of the caller's socketpair */
};

static void *pf_main(void *arg)
{
	block_sigpipe();
	struct pfrelay *r = arg;
	char buf[65536];
	bool up = true; /* the caller still sends */
	for (;;) {
		int d = drain(&r->k);
		if (r->k.rx.len && write_all(r->fd, r->k.rx.s, r->k.rx.len) < 0)
			break;
		r->k.rx.len = 0;
		if (d < 0)
			break;
		struct pollfd p[2] = {{r->k.sock, POLLIN, 0}, {up ? r->fd : -1, POLLIN, 0}};
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents) {
			/* At the caller's end of sending, the answer still comes
			 * back until the pod's end closes or the caller's end is
			 * closed whole (a write fails). */
			ssize_t n = read(r->fd, buf, sizeof(buf));
			if (n <= 0)
				up = false;
			else if (send_all(&r->k, buf, (size_t)n) < 0)
				break;
		}
	}
	close(r->fd);
	kconn_close(&r->k);
	free(r);
	return NULL;
}

int kubelet_remote_portforward(void *arg, const char *ns, const char *pod, const char *uid,
			       int port, int *fd, struct err **e)
{
	struct rnode *rn = arg;
	struct pfrelay *r = xcalloc(1, sizeof(*r));
	CURL *tmp = curl_easy_init();
	char *ens = curl_easy_escape(tmp, ns, 0), *epod = curl_easy_escape(tmp, pod, 0);
	char *path = xasprintf("/portforward/%s?ns=%s&pod=%s&port=%d", uid, ens, epod, port);
	curl_free(ens);
	curl_free(epod);
	curl_easy_cleanup(tmp);
	int sv[2] = {-1, -1};
	int rc = kconn_open(rn, path, "cfs-portforward", &r->k, e);
	free(path);
	if (rc == 0 && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		rc = err_make(e, errno, "port-forward: %s", strerror(errno));
	r->fd = sv[1];
	pthread_t t;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (rc == 0 && pthread_create(&t, &a, pf_main, r))
		rc = err_make(e, EAGAIN, "port-forward: no thread");
	pthread_attr_destroy(&a);
	if (rc < 0) {
		if (sv[0] >= 0)
			close(sv[0]), close(sv[1]);
		kconn_close(&r->k);
		free(r);
		return rc;
	}
	*fd = sv[0];
	return 0;
}
