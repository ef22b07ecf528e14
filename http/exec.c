/*
 * exec.c - pods/NAME/exec and pods/NAME/portforward: the streaming
 * subresources, over a connection upgrade.
 *
 *     $ kubectl exec web -- ls /
 *     GET /api/v1/namespaces/default/pods/web/exec?command=ls&command=%2F&stdout=true&stderr=true
 *     Upgrade: websocket            Sec-WebSocket-Protocol: v5.channel.k8s.io, v4...
 *     (kubectl 1.27: POST, Upgrade: SPDY/3.1, X-Stream-Protocol-Version: v4.channel.k8s.io)
 *
 * Over WebSocket (kubectl 1.30+), every binary message starts with its
 * channel: 0 stdin, 1 stdout, 2 stderr, 3 the final Status (the exit
 * code in details.causes, reason ExitCode), 4 terminal resize ({"Width",
 * "Height"}); v5 adds 255 [channel]: that channel is closed (stdin's EOF).
 * Over SPDY, the client opens one stream per channel, its "streamtype"
 * header naming it (error, stdin, stdout, stderr, resize).
 * Port-forward speaks SPDY: per connection the client opens an "error"
 * and a "data" stream with the same "requestid" and a "port"; kubectl
 * 1.31+ tunnels those SPDY frames inside WebSocket binary messages
 * (subprotocol SPDY/3.1+portforward.k8s.io).
 *
 * The session (engine/api/api_exec.h) is started before the upgrade, so
 * that an error is an ordinary Status response.  After the 101,
 * libmicrohttpd hands over a socket and a detached thread of this module
 * relays between it and the session until either ends.
 */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engine/api/api_exec.h"
#include "engine/kind.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/sobj.h"
#include "http/http_int.h"
#include "http/spdy.h"
#include "http/status.h"
#include "http/ws.h"

#define ARGV_MAX	  128
#define PFWD_MAX	  16
#define CHUNK		  (32 * 1024)
#define LINGER_MS	  3000
#define STDIN_PENDING_MAX (1 << 20) /* then the client is not read */

/* Relays running, and whether the server is stopping (exec_stop_all). */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t live_cond = PTHREAD_COND_INITIALIZER;
static int live;
static bool stopping;

enum chan { CH_IN, CH_OUT, CH_ERR, CH_STATUS, CH_RESIZE, CH_N };

struct pf_stream {
	uint32_t data_id, err_id;
	char reqid[32];
	int port;
	int fd; /* -1: not connected (yet) */
	bool fin_sent;
	struct buf pend; /* from the client, not written yet (from off) */
	size_t off;
	bool fin_in; /* the client ended its side: shut ours after pend */
};

struct relay {
	int sock;
	struct MHD_UpgradeResponseHandle *urh;
	bool ws;	  /* WebSocket framing outside */
	bool spdy;	  /* SPDY frames (raw, or tunneled in WebSocket) */
	int ws_ver;	  /* exec over WebSocket: channel protocol 4 or 5 */
	bool portforward; /* else exec */
	struct api_exec_sess *sess;
	struct api *api;
	char ns[ROUTE_SEG_MAX], pod[ROUTE_SEG_MAX];
	char *cmdline; /* for the exit status message */

	struct buf in;	  /* bytes from the client not parsed yet */
	struct buf sp_in; /* tunneled SPDY bytes not parsed yet */
	struct ws_msg msg;
	struct spdy_z z;
	bool z_ok;
	uint32_t sid[CH_N]; /* exec over SPDY: the stream of each channel */
	struct buf resize;  /* SPDY resize stream: JSON objects back to back */
	struct buf pend;    /* stdin not written yet (from pend_off) */
	size_t pend_off;
	bool in_eof; /* the client ended stdin */
	struct pf_stream pf[PFWD_MAX];
	size_t npf;
	bool want[CH_N]; /* exec over SPDY: the streams to wait for */
	bool gone;
};

/* Drops the first off bytes of b. */
static void buf_drop(struct buf *b, size_t off)
{
	if (off >= b->len) {
		buf_free(b);
		return;
	}
	if (off) {
		memmove(b->s, b->s + off, b->len - off);
		b->len -= off;
		b->s[b->len] = '\0';
	}
}

/* ---- sending ---- */

static void write_all(struct relay *r, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0 && !r->gone) {
		ssize_t w = send(r->sock, c, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			r->gone = true;
			break;
		}
		c += w;
		n -= (size_t)w;
	}
}

static void send_ws(struct relay *r, int opcode, const void *p, size_t n)
{
	struct buf b = {0};
	ws_frame(&b, opcode, true, NULL, p, n);
	write_all(r, b.s, b.len);
	buf_free(&b);
}

/* SPDY bytes to the client: as they are, or in a binary message. */
static void send_spdy(struct relay *r, struct buf *b)
{
	if (r->ws)
		send_ws(r, WS_BINARY, b->s, b->len);
	else
		write_all(r, b->s, b->len);
	buf_free(b);
}

/* Data on an exec channel. */
static void send_chan(struct relay *r, enum chan ch, const void *p, size_t n, bool fin)
{
	if (r->spdy) {
		if (!r->sid[ch])
			return;
		struct buf b = {0};
		spdy_data(&b, r->sid[ch], fin ? SPDY_FLAG_FIN : 0, p, n);
		send_spdy(r, &b);
		return;
	}
	struct buf b = {0};
	uint8_t c = (uint8_t)ch;
	buf_add(&b, &c, 1);
	if (n)
		buf_add(&b, p, n);
	send_ws(r, WS_BINARY, b.s, b.len);
	buf_free(&b);
}

/* The final Status of an exec: Success, or the exit code. */
static void send_exit(struct relay *r, int code, const char *failure)
{
	json_t *st;
	if (failure) {
		st = status_new(500, "InternalError", failure);
	} else if (code == 0) {
		st = json_pack("{s:{},s:s}", "metadata", "status", "Success");
	} else {
		char num[16], *msg = xasprintf("command terminated with non-zero exit code: error "
					       "executing command [%s], exit code %d",
					       r->cmdline, code);
		snprintf(num, sizeof(num), "%d", code);
		st = json_pack("{s:{},s:s,s:s,s:s,s:{s:[{s:s,s:s}]}}", "metadata", "status",
			       "Failure", "message", msg, "reason", "NonZeroExitCode", "details",
			       "causes", "reason", "ExitCode", "message", num);
		free(msg);
	}
	char *s = json_dumps(st, JSON_COMPACT);
	json_decref(st);
	send_chan(r, CH_STATUS, s, strlen(s), false);
	free(s);
}

/* ---- input: exec ---- */

/* Writes what stdin has pending, without blocking; closes stdin when
 * the client ended it and all is written, or when the command is gone. */
static void flush_stdin(struct relay *r)
{
	int *in = r->sess ? &r->sess->in : NULL;
	while (in && *in >= 0 && r->pend_off < r->pend.len) {
		ssize_t w = write(*in, r->pend.s + r->pend_off, r->pend.len - r->pend_off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		if (w <= 0) {
			r->in_eof = true;
			break;
		}
		r->pend_off += (size_t)w;
	}
	if (r->pend_off >= r->pend.len || !in || *in < 0) {
		buf_free(&r->pend);
		r->pend_off = 0;
	}
	if (in && *in >= 0 && r->in_eof && !r->pend.len) {
		close(*in);
		*in = -1;
	}
}

static void close_stdin(struct relay *r)
{
	r->in_eof = true;
	flush_stdin(r);
}

static void to_stdin(struct relay *r, const void *p, size_t n)
{
	if (!r->sess || r->sess->in < 0 || r->in_eof)
		return;
	buf_add(&r->pend, p, n);
	flush_stdin(r);
}

static void do_resize(struct relay *r, const json_t *j)
{
	json_int_t w = json_integer_value(json_object_get(j, "Width"));
	json_int_t h = json_integer_value(json_object_get(j, "Height"));
	if (r->sess && w > 0 && h > 0 && w < 65536 && h < 65536)
		r->sess->ops->resize(r->sess, (unsigned)w, (unsigned)h);
}

/* SPDY's resize stream: JSON objects one after another. */
static void resize_bytes(struct relay *r, const void *p, size_t n)
{
	buf_add(&r->resize, p, n);
	size_t off = 0;
	while (off < r->resize.len) {
		json_error_t je;
		json_t *j =
		    json_loadb(r->resize.s + off, r->resize.len - off, JSON_DISABLE_EOF_CHECK, &je);
		if (!j)
			break;
		do_resize(r, j);
		json_decref(j);
		off += (size_t)je.position;
	}
	buf_drop(&r->resize, off);
	if (r->resize.len > 4096)
		buf_free(&r->resize);
}

/* A whole WebSocket data message of the exec channel protocol. */
static void ws_exec_message(struct relay *r, const uint8_t *p, size_t n)
{
	if (n < 1)
		return;
	if (p[0] == CH_IN) {
		to_stdin(r, p + 1, n - 1);
	} else if (p[0] == CH_RESIZE) {
		json_t *j = json_loadb((const char *)p + 1, n - 1, 0, NULL);
		do_resize(r, j);
		json_decref(j);
	} else if (p[0] == 255 && n >= 2 && p[1] == CH_IN) {
		close_stdin(r);
	}
}

/* ---- input: SPDY ---- */

static struct pf_stream *pf_find(struct relay *r, uint32_t id, bool *is_data)
{
	for (size_t i = 0; i < r->npf; i++) {
		if (r->pf[i].data_id == id || r->pf[i].err_id == id) {
			*is_data = r->pf[i].data_id == id;
			return &r->pf[i];
		}
	}
	return NULL;
}

static void pf_close(struct relay *r, struct pf_stream *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->fin_sent = true;
	buf_free(&s->pend);
	s->off = 0;
}

/* Writes what s has pending to its connection, without blocking. */
static void pf_flush(struct pf_stream *s)
{
	while (s->fd >= 0 && s->off < s->pend.len) {
		ssize_t w = write(s->fd, s->pend.s + s->off, s->pend.len - s->off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		if (w <= 0) {
			s->off = s->pend.len; /* the peer is gone: drop it */
			break;
		}
		s->off += (size_t)w;
	}
	buf_free(&s->pend);
	s->off = 0;
	if (s->fd >= 0 && s->fin_in)
		shutdown(s->fd, SHUT_WR);
}

/* Both streams of a port-forward request are there: connect. */
static void pf_connect(struct relay *r, struct pf_stream *s)
{
	struct err *e = NULL;
	if (api_portforward(r->api, r->ns, r->pod, s->port, &s->fd, &e) == 0) {
		fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
		return;
	}
	s->fd = -1;
	const char *m = e ? e->msg : "port-forward failed";
	struct buf b = {0};
	spdy_data(&b, s->err_id, SPDY_FLAG_FIN, m, strlen(m));
	spdy_data(&b, s->data_id, SPDY_FLAG_FIN, NULL, 0);
	send_spdy(r, &b);
	s->fin_sent = true;
	err_free(e);
}

/* A new port-forward stream: pairs it with its request's other one. */
static void pf_stream_new(struct relay *r, uint32_t id, const struct spdy_headers *h)
{
	const char *type = spdy_header(h, "streamtype"), *port = spdy_header(h, "port");
	const char *req = spdy_header(h, "requestid");
	if (!type || !port)
		return;
	struct pf_stream *s = NULL;
	for (size_t i = 0; i < r->npf && req; i++)
		if (!strcmp(r->pf[i].reqid, req))
			s = &r->pf[i];
	if (!s) {
		if (r->npf == PFWD_MAX) { /* reuse a finished one */
			for (size_t i = 0; i < r->npf && !s; i++)
				if (r->pf[i].fd < 0 && r->pf[i].fin_sent)
					s = &r->pf[i];
			if (!s)
				return;
		} else {
			s = &r->pf[r->npf++];
		}
		*s = (struct pf_stream){.fd = -1, .port = atoi(port)};
		snprintf(s->reqid, sizeof(s->reqid), "%s", req ? req : "");
	}
	if (!strcmp(type, "data"))
		s->data_id = id;
	else if (!strcmp(type, "error"))
		s->err_id = id;
	if (s->data_id && s->err_id && s->fd < 0 && !s->fin_sent)
		pf_connect(r, s);
}

static void syn_stream(struct relay *r, const struct spdy_frame *f)
{
	struct spdy_headers h;
	if (spdy_headers_decode(&r->z, f->data, f->len, &h) < 0) {
		spdy_headers_free(&h);
		r->gone = true;
		return;
	}
	struct buf b = {0};
	spdy_syn_reply(&r->z, &b, f->stream, 0, NULL);
	send_spdy(r, &b);
	const char *type = spdy_header(&h, "streamtype");
	static const char *const names[CH_N] = {"stdin", "stdout", "stderr", "error", "resize"};
	if (r->portforward) {
		pf_stream_new(r, f->stream, &h);
	} else {
		for (int c = 0; type && c < CH_N; c++)
			if (!strcmp(type, names[c]))
				r->sid[c] = f->stream;
	}
	spdy_headers_free(&h);
}

static void spdy_data_in(struct relay *r, const struct spdy_frame *f)
{
	bool fin = f->flags & SPDY_FLAG_FIN, is_data;
	if (!r->portforward) {
		if (f->stream && f->stream == r->sid[CH_IN]) {
			to_stdin(r, f->data, f->len);
			if (fin)
				close_stdin(r);
		} else if (f->stream && f->stream == r->sid[CH_RESIZE]) {
			resize_bytes(r, f->data, f->len);
		}
		return;
	}
	struct pf_stream *s = pf_find(r, f->stream, &is_data);
	if (!s || !is_data || s->fd < 0)
		return;
	buf_add(&s->pend, f->data, f->len);
	s->fin_in = s->fin_in || fin;
	pf_flush(s);
}

static void spdy_frame_in(struct relay *r, const struct spdy_frame *f)
{
	struct buf b = {0};
	bool is_data;
	struct pf_stream *s;
	switch (f->type) {
	case SPDY_SYN_STREAM:
		syn_stream(r, f);
		break;
	case SPDY_DATA:
		spdy_data_in(r, f);
		break;
	case SPDY_PING:
		spdy_ping(&b, f->value);
		send_spdy(r, &b);
		break;
	case SPDY_GOAWAY:
		r->gone = true;
		break;
	case SPDY_RST_STREAM:
		if (r->portforward && (s = pf_find(r, f->stream, &is_data)) && is_data)
			pf_close(r, s);
		break;
	default:
		break;
	}
}

/* Parses what SPDY bytes b holds. */
static void spdy_bytes(struct relay *r, struct buf *b)
{
	size_t off = 0;
	struct spdy_frame f;
	ssize_t n = 0;
	while (!r->gone &&
	       (n = spdy_parse((uint8_t *)b->s + off, b->len - off, WS_FRAME_MAX, &f)) > 0) {
		spdy_frame_in(r, &f);
		off += (size_t)n;
	}
	if (n < 0)
		r->gone = true;
	buf_drop(b, off);
}

/* Parses what WebSocket bytes r->in holds. */
static void ws_bytes(struct relay *r)
{
	size_t off = 0;
	struct ws_frame f;
	ssize_t n = 0;
	while (!r->gone &&
	       (n = ws_parse((uint8_t *)r->in.s + off, r->in.len - off, WS_FRAME_MAX, &f)) > 0) {
		off += (size_t)n;
		if (f.opcode == WS_CLOSE) {
			send_ws(r, WS_CLOSE, f.payload, f.len >= 2 ? 2 : 0);
			r->gone = true;
		} else if (f.opcode == WS_PING) {
			send_ws(r, WS_PONG, f.payload, f.len);
		} else if (f.opcode != WS_PONG) {
			int m = ws_msg_add(&r->msg, &f, WS_FRAME_MAX);
			if (m < 0)
				r->gone = true;
			if (m == 1 && r->spdy) {
				buf_add(&r->sp_in, r->msg.data.s, r->msg.data.len);
				spdy_bytes(r, &r->sp_in);
			} else if (m == 1) {
				ws_exec_message(r, (uint8_t *)r->msg.data.s, r->msg.data.len);
			}
			if (m == 1)
				ws_msg_reset(&r->msg);
		}
	}
	if (n < 0)
		r->gone = true;
	buf_drop(&r->in, off);
}

/* ---- the relay ---- */

/* Reads what the client sent: false when it is gone. */
static bool client_read(struct relay *r)
{
	char b[CHUNK];
	ssize_t n = recv(r->sock, b, sizeof(b), 0);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	buf_add(&r->in, b, (size_t)n);
	if (r->ws)
		ws_bytes(r);
	else
		spdy_bytes(r, &r->in);
	return !r->gone;
}

/* Moves what fd has to channel ch; false at its end. */
static bool pump(struct relay *r, int *fd, enum chan ch)
{
	char b[CHUNK];
	ssize_t n = read(*fd, b, sizeof(b));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0) { /* EOF, or EIO: the terminal's last process left */
		close(*fd);
		*fd = -1;
		return false;
	}
	send_chan(r, ch, b, (size_t)n, false);
	return true;
}

static void pf_pump(struct relay *r, struct pf_stream *s)
{
	char b[CHUNK];
	ssize_t n = read(s->fd, b, sizeof(b));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	struct buf o = {0};
	if (n > 0) {
		spdy_data(&o, s->data_id, 0, b, (size_t)n);
	} else {
		spdy_data(&o, s->data_id, SPDY_FLAG_FIN, NULL, 0);
		spdy_data(&o, s->err_id, SPDY_FLAG_FIN, NULL, 0);
		pf_close(r, s);
	}
	send_spdy(r, &o);
}

/* Whether exec output can be sent now: over SPDY, once the client has
 * opened every stream it will (it starts reading only then). */
static bool out_ready(struct relay *r)
{
	for (int c = 0; r->spdy && c < CH_N; c++)
		if (r->want[c] && !r->sid[c])
			return false;
	return true;
}

/* One round: poll, then move what is there.  False when done. */
static bool relay_step(struct relay *r)
{
	struct pollfd p[3 + PFWD_MAX];
	int n = 0, at_out = -1, at_err = -1, at_in = -1, at_pf[PFWD_MAX];
	size_t npf = r->npf; /* reading from the client may add streams */
	bool full = r->pend.len - r->pend_off >= STDIN_PENDING_MAX;
	for (size_t i = 0; i < npf; i++)
		full = full || r->pf[i].pend.len - r->pf[i].off >= STDIN_PENDING_MAX;
	p[n++] = (struct pollfd){.fd = r->sock, .events = full ? 0 : POLLIN};
	if (!r->portforward && r->sess->in >= 0 && r->pend.len)
		at_in = n, p[n++] = (struct pollfd){.fd = r->sess->in, .events = POLLOUT};
	if (!r->portforward && r->sess->out >= 0 && out_ready(r))
		at_out = n, p[n++] = (struct pollfd){.fd = r->sess->out, .events = POLLIN};
	if (!r->portforward && r->sess->err >= 0 && out_ready(r))
		at_err = n, p[n++] = (struct pollfd){.fd = r->sess->err, .events = POLLIN};
	for (size_t i = 0; i < npf; i++) {
		at_pf[i] = -1;
		if (r->pf[i].fd >= 0)
			at_pf[i] = n,
			p[n++] =
			    (struct pollfd){.fd = r->pf[i].fd,
					    .events = POLLIN | (r->pf[i].pend.len ? POLLOUT : 0)};
	}
	if (poll(p, (nfds_t)n, 1000) < 0)
		return errno == EINTR;
	pthread_mutex_lock(&live_lock);
	if (stopping)
		r->gone = true;
	pthread_mutex_unlock(&live_lock);
	if (r->gone)
		return false;
	if (at_in >= 0 && p[at_in].revents)
		flush_stdin(r);
	if (p[0].revents && !client_read(r))
		return false;
	if (at_out >= 0 && p[at_out].revents)
		pump(r, &r->sess->out, CH_OUT);
	if (at_err >= 0 && p[at_err].revents)
		pump(r, &r->sess->err, CH_ERR);
	for (size_t i = 0; i < npf; i++)
		if (at_pf[i] >= 0 && (p[at_pf[i]].revents & POLLOUT))
			pf_flush(&r->pf[i]);
	for (size_t i = 0; i < npf; i++)
		if (at_pf[i] >= 0 && (p[at_pf[i]].revents & ~POLLOUT) && r->pf[i].fd >= 0)
			pf_pump(r, &r->pf[i]);
	return !r->gone && (r->portforward || r->sess->out >= 0 || r->sess->err >= 0);
}

/* Waits (a while) for the client to close after the last frames. */
static void linger(struct relay *r)
{
	struct pollfd p = {.fd = r->sock, .events = POLLIN};
	while (!r->gone && poll(&p, 1, LINGER_MS) > 0 && client_read(r))
		;
}

/* The end of an exec: the status, the streams closed. */
static void exec_finish(struct relay *r)
{
	int code = 0;
	struct err *e = NULL;
	if (r->gone) {
		r->sess->ops->kill(r->sess);
		r->sess->ops->wait(r->sess, &code, NULL);
		return;
	}
	int rc = r->sess->ops->wait(r->sess, &code, &e);
	send_exit(r, code, rc < 0 ? e->msg : NULL);
	err_free(e);
	if (r->spdy) {
		for (int c = 0; c < CH_N; c++)
			if (r->sid[c] && c != CH_IN)
				send_chan(r, (enum chan)c, NULL, 0, true);
	} else {
		uint8_t normal[2] = {0x03, 0xe8}; /* 1000 */
		send_ws(r, WS_CLOSE, normal, 2);
	}
	linger(r);
}

static void relay_free(struct relay *r)
{
	if (r->sess)
		r->sess->ops->free(r->sess);
	for (size_t i = 0; i < r->npf; i++)
		pf_close(r, &r->pf[i]);
	if (r->z_ok)
		spdy_z_free(&r->z);
	buf_free(&r->in);
	buf_free(&r->sp_in);
	buf_free(&r->resize);
	buf_free(&r->pend);
	ws_msg_reset(&r->msg);
	free(r->cmdline);
	free(r);
}

static void *relay_main(void *arg)
{
	struct relay *r = arg;
	if (r->ws && r->in.len)
		ws_bytes(r);
	else if (r->in.len)
		spdy_bytes(r, &r->in);
	while (!r->gone && relay_step(r))
		;
	if (!r->portforward)
		exec_finish(r);
	log_debug("http", "%s/%s: %s ended", r->ns, r->pod,
		  r->portforward ? "port-forward" : "exec");
	MHD_upgrade_action(r->urh, MHD_UPGRADE_ACTION_CLOSE);
	relay_free(r);
	pthread_mutex_lock(&live_lock);
	live--;
	pthread_cond_broadcast(&live_cond);
	pthread_mutex_unlock(&live_lock);
	return NULL;
}

void exec_stop_all(void)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&live_lock);
	stopping = true;
	while (live > 0 && pthread_cond_timedwait(&live_cond, &live_lock, &until) == 0)
		;
	if (live > 0)
		log_warn("http", "%d exec or port-forward sessions did not end", live);
	stopping = false;
	pthread_mutex_unlock(&live_lock);
}

static void on_upgrade(void *cls, struct MHD_Connection *c, void *con_cls, const char *extra,
		       size_t extra_n, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	struct relay *r = cls;
	r->sock = sock;
	r->urh = urh;
	fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) & ~O_NONBLOCK);
	if (extra_n)
		buf_add(&r->in, extra, extra_n);
	pthread_t t;
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	pthread_mutex_lock(&live_lock);
	live++;
	pthread_mutex_unlock(&live_lock);
	if (pthread_create(&t, &a, relay_main, r)) {
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		relay_free(r);
		pthread_mutex_lock(&live_lock);
		live--;
		pthread_mutex_unlock(&live_lock);
	}
	pthread_attr_destroy(&a);
}

/* ---- the requests ---- */

struct vals {
	const char *key;
	const char **v;
	size_t n, max;
};

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key,
			       const char *value)
{
	struct vals *vs = cls;
	if (key && value && !strcasecmp(key, vs->key) && vs->n < vs->max)
		vs->v[vs->n++] = value;
	return MHD_YES;
}

/* Every value of a repeated query parameter or header. */
static size_t values(struct http_req *rq, enum MHD_ValueKind kind, const char *key,
		     const char **out, size_t max)
{
	struct vals vs = {.key = key, .v = out, .max = max};
	MHD_get_connection_values(rq->conn, kind, collect, &vs);
	return vs.n;
}

/* Whether the comma-separated list s holds word (case-insensitive). */
static bool list_has(const char *s, const char *word)
{
	size_t wl = strlen(word);
	while (s && *s) {
		while (*s == ' ' || *s == ',')
			s++;
		size_t l = strcspn(s, ",");
		size_t t = l;
		while (t > 0 && s[t - 1] == ' ')
			t--;
		if (t == wl && !strncasecmp(s, word, wl))
			return true;
		s += l;
	}
	return false;
}

/* The protocol the client offers that we speak (NULL: none), and into r
 * how to frame it. */
static const char *negotiate(struct http_req *rq, struct relay *r, bool pf)
{
	const char *up = http_header(rq, "Upgrade");
	const char *offers[16];
	if (up && !strcasecmp(up, "websocket")) {
		size_t n = values(rq, MHD_HEADER_KIND, "Sec-WebSocket-Protocol", offers, 16);
		static const char *const ex[] = {"v5.channel.k8s.io", "v4.channel.k8s.io"};
		static const char *const fw[] = {"SPDY/3.1+portforward.k8s.io"};
		const char *const *want = pf ? fw : ex;
		for (size_t w = 0; w < (pf ? 1u : 2u); w++)
			for (size_t i = 0; i < n; i++)
				if (list_has(offers[i], want[w])) {
					r->ws = true;
					r->spdy = pf;
					r->ws_ver = w == 0 ? 5 : 4;
					return want[w];
				}
		return NULL;
	}
	if (!up || strncasecmp(up, "SPDY/3.1", 8))
		return NULL;
	size_t n = values(rq, MHD_HEADER_KIND, "X-Stream-Protocol-Version", offers, 16);
	const char *want = pf ? "portforward.k8s.io" : "v4.channel.k8s.io";
	for (size_t i = 0; i < n; i++)
		if (list_has(offers[i], want)) {
			r->spdy = true;
			return want;
		}
	return NULL;
}

/* Queues the 101 that hands the connection to r. */
static void upgrade(struct http_req *rq, struct http_resp *rs, struct relay *r, const char *proto)
{
	struct MHD_Response *m = MHD_create_response_for_upgrade(on_upgrade, r);
	if (!m) {
		relay_free(r);
		http_fail(rs, 500, "InternalError", "cannot upgrade the connection");
		return;
	}
	/* libmicrohttpd adds "Connection: Upgrade" itself */
	if (r->ws) {
		char acc[29];
		const char *key = http_header(rq, "Sec-WebSocket-Key");
		ws_accept_key(key ? key : "", acc);
		MHD_add_response_header(m, "Upgrade", "websocket");
		MHD_add_response_header(m, "Sec-WebSocket-Accept", acc);
		MHD_add_response_header(m, "Sec-WebSocket-Protocol", proto);
	} else {
		MHD_add_response_header(m, "Upgrade", "SPDY/3.1");
		MHD_add_response_header(m, "X-Stream-Protocol-Version", proto);
	}
	rs->queued =
	    MHD_queue_response(rq->conn, MHD_HTTP_SWITCHING_PROTOCOLS, m) == MHD_YES ? 1 : -1;
	MHD_destroy_response(m);
	if (rs->queued < 0)
		relay_free(r); /* on_upgrade will not be called */
}

static bool flag(struct http_req *rq, const char *key)
{
	const char *v = http_query(rq, key);
	return v && (!strcasecmp(v, "true") || !strcmp(v, "1"));
}

/* The response for an API error of exec or port-forward. */
static void fail_err(struct http_resp *rs, const struct route *rt, struct err *e)
{
	if (e && e->code == ENOENT) {
		http_resp_status(rs, status_not_found(rt->kind, rt->name));
		return;
	}
	int code = !e || e->code == EHOSTUNREACH || e->code == EIO ? 500 : 400;
	http_fail(rs, code, code == 500 ? "InternalError" : "BadRequest", "%s",
		  e ? e->msg : "failed");
}

static struct relay *relay_new(struct http_req *rq)
{
	struct relay *r = xcalloc(1, sizeof(*r));
	r->sock = -1;
	r->api = rq->api;
	snprintf(r->ns, sizeof(r->ns), "%s", rq->rt.ns);
	snprintf(r->pod, sizeof(r->pod), "%s", rq->rt.name);
	return r;
}

void h_exec(struct http_req *rq, struct http_resp *rs)
{
	if (rq->rt.kind != KIND_POD) {
		http_fail(rs, 404, "NotFound", "the server could not find the requested resource");
		return;
	}
	struct relay *r = relay_new(rq);
	const char *proto = negotiate(rq, r, false);
	if (!proto) {
		relay_free(r);
		http_fail(rs, 400, "BadRequest",
			  "Upgrade request required (websocket with v5.channel.k8s.io or "
			  "v4.channel.k8s.io, or SPDY/3.1 with v4.channel.k8s.io)");
		return;
	}
	const char *argv[ARGV_MAX + 1] = {0};
	size_t argc = values(rq, MHD_GET_ARGUMENT_KIND, "command", argv, ARGV_MAX);
	struct buf cl = {0};
	for (size_t i = 0; i < argc; i++)
		buf_printf(&cl, "%s%s", i ? " " : "", argv[i]);
	r->cmdline = buf_steal(&cl, NULL);
	struct api_exec_opts o = {.ns = rq->rt.ns,
				  .pod = rq->rt.name,
				  .container = http_query(rq, "container"),
				  .argv = (char *const *)argv,
				  .tty = flag(rq, "tty"),
				  .in = flag(rq, "stdin"),
				  .out = flag(rq, "stdout"),
				  .err = flag(rq, "stderr")};
	o.err = o.err && !o.tty;
	bool want[CH_N] = {o.in, o.out, o.err, true, o.tty};
	memcpy(r->want, want, sizeof(want));
	if (!o.in && !o.out && !o.err) {
		relay_free(r);
		http_fail(rs, 400, "BadRequest",
			  "you must specify at least 1 of stdin, stdout, stderr");
		return;
	}
	struct err *e = NULL;
	if (api_exec_start(rq->api, &o, &r->sess, &e) < 0) {
		relay_free(r);
		fail_err(rs, &rq->rt, e);
		err_free(e);
		return;
	}
	if (r->sess->in >= 0)
		fcntl(r->sess->in, F_SETFL, fcntl(r->sess->in, F_GETFL) | O_NONBLOCK);
	if (r->spdy && spdy_z_init(&r->z) == 0)
		r->z_ok = true;
	upgrade(rq, rs, r, proto);
}

void h_portforward(struct http_req *rq, struct http_resp *rs)
{
	if (rq->rt.kind != KIND_POD) {
		http_fail(rs, 404, "NotFound", "the server could not find the requested resource");
		return;
	}
	struct relay *r = relay_new(rq);
	r->portforward = true;
	const char *proto = negotiate(rq, r, true);
	if (!proto) {
		relay_free(r);
		http_fail(rs, 400, "BadRequest",
			  "Upgrade request required (SPDY/3.1 with portforward.k8s.io, or "
			  "websocket with SPDY/3.1+portforward.k8s.io)");
		return;
	}
	struct sobj *pod = api_get(rq->api, KIND_POD, rq->rt.ns, rq->rt.name);
	if (!pod) {
		relay_free(r);
		http_resp_status(rs, status_not_found(rq->rt.kind, rq->rt.name));
		return;
	}
	sobj_unref(pod);
	if (spdy_z_init(&r->z) == 0)
		r->z_ok = true;
	upgrade(rq, rs, r, proto);
}
