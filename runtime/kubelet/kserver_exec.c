/*
 * kserver_exec.c - exec and port-forward on the agent's endpoint
 * (kserver.h): the provider (exec.c) starts the command or connects
 * first, so that a failure is an HTTP error; then a 101 hands the
 * connection to a relay thread (frames of engine/client/kstream.h for
 * exec, raw bytes for port-forward).
 */
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
#include "engine/mem.h"
#include "runtime/kubelet/kserver_int.h"

#define ARGS_MAX  256
#define LINGER_MS 5000

struct krelay {
	struct api_exec_sess *s; /* exec; NULL for port-forward */
	int fd;			 /* port-forward: the connection in the pod */
	MHD_socket sock;
	struct MHD_UpgradeResponseHandle *urh;
};

/* Writes to a closed peer fail with EPIPE in this thread, not a signal. */
static void block_sigpipe(void)
{
	sigset_t m;
	sigemptyset(&m);
	sigaddset(&m, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &m, NULL);
}

static int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, void *p, size_t n)
{
	char *c = p;
	while (n) {
		ssize_t r = read(fd, c, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

static int frame(int sock, int ch, const void *p, size_t n)
{
	unsigned char h[KS_HDR];
	ks_pack(h, ch, (uint32_t)n);
	return write_all(sock, h, KS_HDR) < 0 || write_all(sock, p, n) < 0 ? -1 : 0;
}

/* One frame from the server; -1 at its end. */
static int from_server(struct krelay *r)
{
	unsigned char h[KS_HDR];
	if (read_all(r->sock, h, KS_HDR) < 0)
		return -1;
	uint32_t n = ks_len(h);
	if (n > KS_FRAME_MAX)
		return -1;
	char *p = xmalloc(n + 1);
	int rc = n ? read_all(r->sock, p, n) : 0;
	p[n] = 0;
	unsigned w, hh;
	if (rc == 0 && h[0] == KS_STDIN && r->s->in >= 0 && write_all(r->s->in, p, n) < 0) {
		close(r->s->in);
		r->s->in = -1;
	} else if (rc == 0 && h[0] == KS_EOF && r->s->in >= 0) {
		close(r->s->in);
		r->s->in = -1;
	} else if (rc == 0 && h[0] == KS_RESIZE && sscanf(p, "%u %u", &w, &hh) == 2) {
		r->s->ops->resize(r->s, w, hh);
	} else if (rc == 0 && h[0] == KS_KILL) {
		r->s->ops->kill(r->s);
	}
	free(p);
	return rc;
}

/* Copies what fd has to the server on ch; false at its end. */
static bool to_server(struct krelay *r, int *fd, int ch)
{
	char buf[65536];
	ssize_t n = read(*fd, buf, sizeof(buf));
	if (n < 0 && errno == EINTR)
		return true;
	if (n > 0 && frame(r->sock, ch, buf, (size_t)n) == 0)
		return true;
	close(*fd);
	*fd = -1;
	return false;
}

static void exec_relay(struct krelay *r)
{
	struct api_exec_sess *s = r->s;
	bool peer = true;
	while (s->out >= 0 || s->err >= 0) {
		struct pollfd p[3] = {
		    {peer ? r->sock : -1, POLLIN, 0}, {s->out, POLLIN, 0}, {s->err, POLLIN, 0}};
		if (poll(p, 3, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents && from_server(r) < 0) {
			s->ops->kill(s); /* the server went away */
			peer = false;
		}
		if (p[1].revents)
			to_server(r, &s->out, KS_STDOUT);
		if (p[2].revents)
			to_server(r, &s->err, KS_STDERR);
	}
	int code = -1;
	if (s->ops->wait(s, &code, NULL) < 0)
		code = 1;
	char c[16];
	int n = snprintf(c, sizeof(c), "%d", code);
	if (peer)
		frame(r->sock, KS_EXIT, c, (size_t)n);
	s->ops->free(s);
}

static void pf_relay(struct krelay *r)
{
	char buf[65536];
	bool up = true, down = true;
	while (up || down) {
		struct pollfd p[2] = {{up ? r->sock : -1, POLLIN, 0},
				      {down ? r->fd : -1, POLLIN, 0}};
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents) {
			ssize_t n = read(r->sock, buf, sizeof(buf));
			if (n <= 0 || write_all(r->fd, buf, (size_t)n) < 0) {
				up = false;
				shutdown(r->fd, SHUT_WR);
			}
		}
		if (p[1].revents) {
			ssize_t n = read(r->fd, buf, sizeof(buf));
			if (n <= 0 || write_all(r->sock, buf, (size_t)n) < 0) {
				down = false;
				shutdown(r->sock, SHUT_WR);
			}
		}
	}
	close(r->fd);
}

static void *relay_main(void *arg)
{
	block_sigpipe();
	struct krelay *r = arg;
	if (r->s)
		exec_relay(r);
	else
		pf_relay(r);
	/* libmicrohttpd may drop what is still on its way to TLS when told
	 * to close: end our side and wait for the server to close its own
	 * (it does once it has the exit code), at most LINGER_MS. */
	shutdown(r->sock, SHUT_WR);
	char junk[4096];
	struct pollfd p = {r->sock, POLLIN, 0};
	for (int waited = 0; waited < LINGER_MS; waited += 100)
		if (poll(&p, 1, 100) > 0 && read(r->sock, junk, sizeof(junk)) <= 0)
			break;
	MHD_upgrade_action(r->urh, MHD_UPGRADE_ACTION_CLOSE);
	free(r);
	return NULL;
}

static void on_upgrade(void *cls, struct MHD_Connection *c, void *con_cls, const char *extra,
		       size_t extra_n, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	struct krelay *r = cls;
	r->sock = sock;
	r->urh = urh;
	fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) & ~O_NONBLOCK);
	pthread_t t;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &a, relay_main, r)) {
		if (r->s) {
			r->s->ops->kill(r->s);
			r->s->ops->wait(r->s, &(int){0}, NULL);
			r->s->ops->free(r->s);
		} else {
			close(r->fd);
		}
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		free(r);
	}
	pthread_attr_destroy(&a);
}

static enum MHD_Result upgrade(struct MHD_Connection *c, struct krelay *r, const char *proto)
{
	struct MHD_Response *m = MHD_create_response_for_upgrade(on_upgrade, r);
	MHD_add_response_header(m, "Upgrade", proto);
	enum MHD_Result res = MHD_queue_response(c, MHD_HTTP_SWITCHING_PROTOCOLS, m);
	MHD_destroy_response(m);
	return res;
}

struct args {
	char *v[ARGS_MAX + 1];
	size_t n;
};

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key,
			       const char *value)
{
	struct args *a = cls;
	if (!strcmp(key, "cmd") && value && a->n < ARGS_MAX)
		a->v[a->n++] = (char *)value;
	return MHD_YES;
}

static bool qflag(struct MHD_Connection *c, const char *key)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
	return v && !strcmp(v, "1");
}

static const char *qstr(struct MHD_Connection *c, const char *key)
{
	const char *v = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, key);
	return v ? v : "";
}

static enum MHD_Result fail(struct MHD_Connection *c, unsigned code, struct err *e)
{
	struct buf b = {0};
	buf_printf(&b, "%s", e ? e->msg : "failed");
	err_free(e);
	return kserver_answer(c, code, &b);
}

/* /exec/UID/CTR?ns=&pod=&tty=&in=&out=&err=&cmd=...  and
 * /portforward/UID?ns=&pod=&port= */
enum MHD_Result kserver_stream(struct kserver *k, struct MHD_Connection *c, const char *url)
{
	char uid[256], ctr[256] = "";
	struct err *e = NULL;
	bool pf = !strncmp(url, "/portforward/", 13);
	if (!k->p || sscanf(url + (pf ? 13 : 6), "%255[^/]/%255[^/]", uid, ctr) < 1 ||
	    (!pf && !*ctr))
		return kserver_answer(c, 404, NULL);
	struct krelay *r = xcalloc(1, sizeof(*r));
	r->fd = -1;
	int rc;
	if (pf) {
		rc = k->p->portforward(k->parg, qstr(c, "ns"), qstr(c, "pod"), uid,
				       atoi(qstr(c, "port")), &r->fd, &e);
	} else {
		struct args a = {0};
		MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect, &a);
		struct api_exec_opts o = {.ns = qstr(c, "ns"),
					  .pod = qstr(c, "pod"),
					  .uid = uid,
					  .container = ctr,
					  .argv = a.v,
					  .tty = qflag(c, "tty"),
					  .in = qflag(c, "in"),
					  .out = qflag(c, "out"),
					  .err = qflag(c, "err")};
		rc = a.n ? k->p->exec(k->parg, &o, &r->s, &e)
			 : err_make(&e, EINVAL, "you must specify at least 1 command");
	}
	if (rc < 0) {
		free(r);
		return fail(c, rc == -EINVAL ? 400 : rc == -ENOENT ? 404 : 500, e);
	}
	enum MHD_Result res = upgrade(c, r, pf ? "cfs-portforward" : "cfs-exec");
	if (res != MHD_YES) { /* on_upgrade will not be called */
		if (r->s) {
			r->s->ops->kill(r->s);
			r->s->ops->wait(r->s, &(int){0}, NULL);
			r->s->ops->free(r->s);
		} else {
			close(r->fd);
		}
		free(r);
	}
	return res;
}
