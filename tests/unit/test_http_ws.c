/* test_http_ws.c - the streaming framings of http/exec.c: WebSocket
 * frames (http/ws.h) and SPDY/3.1 frames and header blocks (http/spdy.h). */
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <zlib.h>

#include "http/spdy.h"
#include "http/ws.h"
#include "tests/unit/unit.h"

static void test_ws_accept(void)
{
	char out[29];
	/* the example of RFC 6455, section 1.3 */
	ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", out);
	CHECK(!strcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
}

static void test_ws_roundtrip(void)
{
	static const uint8_t mask[4] = {0x37, 0xfa, 0x21, 0x3d};
	size_t sizes[] = {0, 5, 125, 126, 65535, 65536, 70000};
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t n = sizes[s];
		char *p = malloc(n + 1);
		for (size_t i = 0; i < n; i++)
			p[i] = (char)('a' + i % 26);
		for (int masked = 0; masked < 2; masked++) {
			struct buf b = {0};
			ws_frame(&b, WS_BINARY, true, masked ? mask : NULL, p, n);
			size_t hl = (n < 126 ? 2 : n <= 0xffff ? 4 : 10) + (masked ? 4 : 0);
			CHECK(b.len == hl + n);
			struct ws_frame f;
			/* short: more needed */
			CHECK(ws_parse((uint8_t *)b.s, b.len - 1 + (n == 0), WS_FRAME_MAX, &f) ==
			      (n == 0 ? (ssize_t)b.len : 0));
			CHECK(ws_parse((uint8_t *)b.s, b.len, WS_FRAME_MAX, &f) == (ssize_t)b.len);
			CHECK(f.opcode == WS_BINARY && f.fin && f.masked == masked);
			CHECK(f.len == n && (n == 0 || !memcmp(f.payload, p, n)));
			buf_free(&b);
		}
		free(p);
	}
	/* the RFC's masked "Hello" */
	uint8_t hello[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58};
	struct ws_frame f;
	CHECK(ws_parse(hello, sizeof(hello), WS_FRAME_MAX, &f) == (ssize_t)sizeof(hello));
	CHECK(f.opcode == WS_TEXT && f.len == 5 && !memcmp(f.payload, "Hello", 5));
}

static void test_ws_bad(void)
{
	struct ws_frame f;
	uint8_t rsv[] = {0xc2, 0x00};		  /* RSV1 set */
	uint8_t longping[] = {0x89, 126, 0, 200}; /* a control frame > 125 */
	uint8_t fragping[] = {0x09, 0x00};	  /* a fragmented control frame */
	uint8_t opcode[] = {0x83, 0x00};	  /* reserved opcode 3 */
	CHECK(ws_parse(rsv, 2, WS_FRAME_MAX, &f) == -1);
	CHECK(ws_parse(longping, 4, WS_FRAME_MAX, &f) == -1);
	CHECK(ws_parse(fragping, 2, WS_FRAME_MAX, &f) == -1);
	CHECK(ws_parse(opcode, 2, WS_FRAME_MAX, &f) == -1);
	struct buf b = {0};
	ws_frame(&b, WS_BINARY, true, NULL, "0123456789", 10);
	CHECK(ws_parse((uint8_t *)b.s, b.len, 9, &f) == -1); /* over max */
	buf_free(&b);
}

static void test_ws_fragments(void)
{
	static const uint8_t mask[4] = {1, 2, 3, 4};
	struct buf b = {0};
	ws_frame(&b, WS_BINARY, false, mask, "\x01hel", 4);
	ws_frame(&b, WS_PING, true, mask, "p", 1); /* control between fragments */
	ws_frame(&b, WS_CONT, false, mask, "lo ", 3);
	ws_frame(&b, WS_CONT, true, mask, "world", 5);
	struct ws_msg m = {0};
	size_t off = 0;
	int done = 0, pings = 0;
	struct ws_frame f;
	ssize_t n;
	while ((n = ws_parse((uint8_t *)b.s + off, b.len - off, WS_FRAME_MAX, &f)) > 0) {
		off += (size_t)n;
		if (f.opcode == WS_PING) {
			pings++;
			continue;
		}
		int r = ws_msg_add(&m, &f, 1024);
		CHECK(r >= 0);
		if (r == 1) {
			done++;
			CHECK(m.opcode == WS_BINARY);
			CHECK(m.data.len == 12 && !memcmp(m.data.s, "\x01hello world", 12));
			ws_msg_reset(&m);
		}
	}
	CHECK(off == b.len && done == 1 && pings == 1);
	/* a continuation with nothing to continue; a new message inside one */
	struct ws_frame cont = {
	    .opcode = WS_CONT, .fin = true, .payload = (uint8_t *)"x", .len = 1};
	CHECK(ws_msg_add(&m, &cont, 1024) == -1);
	struct ws_frame start = {
	    .opcode = WS_TEXT, .fin = false, .payload = (uint8_t *)"x", .len = 1};
	CHECK(ws_msg_add(&m, &start, 1024) == 0);
	CHECK(ws_msg_add(&m, &start, 1024) == -1);
	ws_msg_reset(&m);
	buf_free(&b);
}

static void test_spdy_dictionary(void)
{
	const uint8_t *d = spdy_dictionary();
	uint8_t sum[32];
	char hex[65];
	gnutls_hash_fast(GNUTLS_DIG_SHA256, d, SPDY_DICTIONARY_SIZE, sum);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", sum[i]);
	/* the published dictionary's digest and Adler-32 (its zlib DICTID) */
	CHECK(!strcmp(hex, "51d27341373f923f3cd88e1eb7162aeaa3723d7585ff2399201dc06498407f02"));
	CHECK(adler32(1, d, SPDY_DICTIONARY_SIZE) == 0xe3c6a7c2);
	CHECK(!memcmp(d, "\0\0\0\7options", 11));
}

static void test_spdy_frames(void)
{
	struct spdy_z client, server;
	CHECK(spdy_z_init(&client) == 0 && spdy_z_init(&server) == 0);
	struct buf b = {0};
	const char *kv1[] = {"streamtype", "error", "port", "8080", "requestid", "0", NULL};
	const char *kv2[] = {"streamtype", "data", "port", "8080", "requestid", "0", NULL};
	spdy_syn_stream(&client, &b, 1, 0, kv1);
	spdy_syn_stream(&client, &b, 3, 0, kv2); /* the same zlib stream goes on */
	spdy_data(&b, 3, SPDY_FLAG_FIN, "GET /", 5);
	spdy_ping(&b, 7);
	spdy_rst_stream(&b, 3, 5);
	spdy_goaway(&b, 3, 0);
	size_t off = 0;
	struct spdy_frame f;
	struct spdy_headers h;
	CHECK(spdy_parse((uint8_t *)b.s, 7, SPDY_FRAME_MAX, &f) == 0);
	ssize_t n = spdy_parse((uint8_t *)b.s, b.len, SPDY_FRAME_MAX, &f);
	CHECK(n > 0 && f.type == SPDY_SYN_STREAM && f.stream == 1);
	CHECK(spdy_headers_decode(&server, f.data, f.len, &h) == 0);
	CHECK(h.n == 3 && !strcmp(spdy_header(&h, "streamtype"), "error"));
	CHECK(!strcmp(spdy_header(&h, "port"), "8080") && !spdy_header(&h, "nosuch"));
	spdy_headers_free(&h);
	off += (size_t)n;
	n = spdy_parse((uint8_t *)b.s + off, b.len - off, SPDY_FRAME_MAX, &f);
	CHECK(n > 0 && f.type == SPDY_SYN_STREAM && f.stream == 3);
	CHECK(spdy_headers_decode(&server, f.data, f.len, &h) == 0);
	CHECK(!strcmp(spdy_header(&h, "streamtype"), "data"));
	CHECK(!strcmp(spdy_header(&h, "requestid"), "0"));
	spdy_headers_free(&h);
	off += (size_t)n;
	n = spdy_parse((uint8_t *)b.s + off, b.len - off, SPDY_FRAME_MAX, &f);
	CHECK(n == 13 && f.type == SPDY_DATA && f.stream == 3 && f.flags == SPDY_FLAG_FIN);
	CHECK(f.len == 5 && !memcmp(f.data, "GET /", 5));
	off += (size_t)n;
	n = spdy_parse((uint8_t *)b.s + off, b.len - off, SPDY_FRAME_MAX, &f);
	CHECK(n == 12 && f.type == SPDY_PING && f.value == 7);
	off += (size_t)n;
	n = spdy_parse((uint8_t *)b.s + off, b.len - off, SPDY_FRAME_MAX, &f);
	CHECK(n == 16 && f.type == SPDY_RST_STREAM && f.stream == 3 && f.value == 5);
	off += (size_t)n;
	n = spdy_parse((uint8_t *)b.s + off, b.len - off, SPDY_FRAME_MAX, &f);
	CHECK(n == 16 && f.type == SPDY_GOAWAY && f.stream == 3 && f.value == 0);
	off += (size_t)n;
	CHECK(off == b.len);
	buf_free(&b);

	/* the server's replies, read by the client's inflater */
	spdy_syn_reply(&server, &b, 1, 0, NULL);
	const char *kv[] = {"a", "b", NULL};
	spdy_syn_reply(&server, &b, 3, SPDY_FLAG_FIN, kv);
	n = spdy_parse((uint8_t *)b.s, b.len, SPDY_FRAME_MAX, &f);
	CHECK(n > 0 && f.type == SPDY_SYN_REPLY && f.stream == 1);
	CHECK(spdy_headers_decode(&client, f.data, f.len, &h) == 0 && h.n == 0);
	spdy_headers_free(&h);
	n = spdy_parse((uint8_t *)b.s + n, b.len - (size_t)n, SPDY_FRAME_MAX, &f);
	CHECK(n > 0 && f.type == SPDY_SYN_REPLY && f.stream == 3 && f.flags == SPDY_FLAG_FIN);
	CHECK(spdy_headers_decode(&client, f.data, f.len, &h) == 0 && h.n == 1);
	CHECK(!strcmp(spdy_header(&h, "a"), "b"));
	spdy_headers_free(&h);
	buf_free(&b);
	spdy_z_free(&client);
	spdy_z_free(&server);
}

static void test_spdy_bad(void)
{
	struct spdy_frame f;
	uint8_t v2[] = {0x80, 2, 0, 1, 0, 0, 0, 0}; /* version 2 */
	uint8_t shortrst[] = {0x80, 3, 0, 3, 0, 0, 0, 4, 0, 0, 0, 1};
	uint8_t big[] = {0, 0, 0, 1, 0, 0xff, 0xff, 0xff};
	CHECK(spdy_parse(v2, sizeof(v2), SPDY_FRAME_MAX, &f) == -1);
	CHECK(spdy_parse(shortrst, sizeof(shortrst), SPDY_FRAME_MAX, &f) == -1);
	CHECK(spdy_parse(big, sizeof(big), 1024, &f) == -1);
	struct spdy_z z;
	struct spdy_headers h;
	CHECK(spdy_z_init(&z) == 0);
	CHECK(spdy_headers_decode(&z, (const uint8_t *)"garbage!", 8, &h) < 0);
	spdy_headers_free(&h);
	spdy_z_free(&z);
}

int main(void)
{
	RUN(test_ws_accept);
	RUN(test_ws_roundtrip);
	RUN(test_ws_bad);
	RUN(test_ws_fragments);
	RUN(test_spdy_dictionary);
	RUN(test_spdy_frames);
	RUN(test_spdy_bad);
	return unit_done();
}
