/*
 * ws.c - see ws.h.  Frame layout (RFC 6455, 5.2): a byte of FIN, three
 * reserved bits and the opcode; a byte of MASK and a 7-bit length (126:
 * a 16-bit length follows, 127: a 64-bit one); the 4-byte masking key
 * when MASK; the payload, XORed with the key byte by byte.
 */
#include "http/ws.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

static void base64(const uint8_t *in, size_t n, char *out)
{
	static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = al[(v >> 18) & 63];
		out[o++] = al[(v >> 12) & 63];
		out[o++] = i + 1 < n ? al[(v >> 6) & 63] : '=';
		out[o++] = i + 2 < n ? al[v & 63] : '=';
	}
	out[o] = '\0';
}

void ws_accept_key(const char *key, char out[29])
{
	struct buf b = {0};
	buf_puts(&b, key);
	buf_puts(&b, ws_guid);
	uint8_t sum[20];
	gnutls_hash_fast(GNUTLS_DIG_SHA1, b.s, b.len, sum);
	buf_free(&b);
	base64(sum, sizeof(sum), out);
}

void ws_frame(struct buf *b, int opcode, bool fin, const uint8_t *mask, const void *payload,
	      size_t n)
{
	uint8_t h[14];
	size_t hl = 2;
	h[0] = (uint8_t)((fin ? 0x80 : 0) | (opcode & 0x0f));
	uint8_t m = mask ? 0x80 : 0;
	if (n < 126) {
		h[1] = (uint8_t)(m | n);
	} else if (n <= 0xffff) {
		h[1] = m | 126;
		h[2] = (uint8_t)(n >> 8);
		h[3] = (uint8_t)n;
		hl = 4;
	} else {
		h[1] = m | 127;
		for (int i = 0; i < 8; i++)
			h[2 + i] = (uint8_t)((uint64_t)n >> (56 - 8 * i));
		hl = 10;
	}
	if (mask) {
		memcpy(h + hl, mask, 4);
		hl += 4;
	}
	buf_add(b, h, hl);
	size_t at = b->len;
	if (n)
		buf_add(b, payload, n);
	for (size_t i = 0; mask && i < n; i++)
		((uint8_t *)b->s)[at + i] ^= mask[i & 3];
}

ssize_t ws_parse(uint8_t *p, size_t n, size_t max, struct ws_frame *f)
{
	if (n < 2)
		return 0;
	if (p[0] & 0x70)
		return -1; /* reserved bits: no extension was agreed */
	f->fin = p[0] & 0x80;
	f->opcode = p[0] & 0x0f;
	f->masked = p[1] & 0x80;
	uint64_t len = p[1] & 0x7f;
	size_t hl = 2;
	if (len == 126) {
		if (n < 4)
			return 0;
		len = (uint64_t)p[2] << 8 | p[3];
		hl = 4;
	} else if (len == 127) {
		if (n < 10)
			return 0;
		len = 0;
		for (int i = 0; i < 8; i++)
			len = len << 8 | p[2 + i];
		hl = 10;
	}
	if ((f->opcode & 0x8) && (len > 125 || !f->fin))
		return -1; /* control frames are short and whole */
	if ((f->opcode > WS_BINARY && f->opcode < WS_CLOSE) || f->opcode > WS_PONG)
		return -1;
	if (len > max)
		return -1;
	const uint8_t *mask = p + hl;
	if (f->masked)
		hl += 4;
	if (n < hl + len)
		return 0;
	f->payload = p + hl;
	f->len = (size_t)len;
	for (size_t i = 0; f->masked && i < f->len; i++)
		f->payload[i] ^= mask[i & 3];
	return (ssize_t)(hl + len);
}

int ws_msg_add(struct ws_msg *m, const struct ws_frame *f, size_t max)
{
	if (f->opcode == WS_CONT ? !m->opcode : m->opcode != 0)
		return -1;
	if (f->opcode != WS_CONT)
		m->opcode = f->opcode;
	if (m->data.len + f->len > max)
		return -1;
	if (f->len)
		buf_add(&m->data, f->payload, f->len);
	return f->fin ? 1 : 0;
}

void ws_msg_reset(struct ws_msg *m)
{
	buf_free(&m->data);
	m->opcode = 0;
}
