/*
 * ws.h - WebSocket framing (RFC 6455), as the streaming endpoints need it:
 * the handshake's accept key, frames built (unmasked, as a server sends
 * them; masked, for tests and clients) and parsed (a client's frames are
 * masked; the payload is unmasked in place), and messages put together
 * from fragments.  Pure byte work, no I/O.
 *
 *     struct ws_frame f;
 *     ssize_t n = ws_parse(p, len, WS_FRAME_MAX, &f);   // 0: need more
 */
#ifndef CFS_HTTP_WS_H
#define CFS_HTTP_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/mem.h"

enum {
	WS_CONT = 0x0,
	WS_TEXT = 0x1,
	WS_BINARY = 0x2,
	WS_CLOSE = 0x8,
	WS_PING = 0x9,
	WS_PONG = 0xa,
};

#define WS_FRAME_MAX (1 << 20) /* the largest payload accepted */

/* Sec-WebSocket-Accept for the client's Sec-WebSocket-Key: base64 of the
 * SHA-1 of the key and the RFC's GUID (28 characters and a NUL). */
void ws_accept_key(const char *key, char out[29]);

/* Appends one frame to b; mask: 4 bytes (a client's frame) or NULL. */
void ws_frame(struct buf *b, int opcode, bool fin, const uint8_t *mask, const void *payload,
	      size_t n);

struct ws_frame {
	int opcode;
	bool fin;
	bool masked;
	uint8_t *payload; /* points into the parsed bytes */
	size_t len;
};

/* Parses the frame at p (n bytes there): the bytes it takes (> 0), its
 * payload unmasked in place; 0 when more bytes are needed; -1 when it is
 * malformed (reserved bits, a bad control frame) or longer than max. */
ssize_t ws_parse(uint8_t *p, size_t n, size_t max, struct ws_frame *f);

/* Reassembles data messages from frames (control frames are not given). */
struct ws_msg {
	struct buf data;
	int opcode; /* of the message being built; 0: none */
};

/* Adds f: 1 when a message is complete (opcode, data: the caller takes
 * it and calls ws_msg_reset), 0 when more frames are needed, -1 on a
 * continuation without a start, a start inside a message, or more than
 * max bytes in all. */
int ws_msg_add(struct ws_msg *m, const struct ws_frame *f, size_t max);
void ws_msg_reset(struct ws_msg *m);

#endif
