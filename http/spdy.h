/*
 * spdy.h - SPDY/3.1 framing, as kubectl's SPDY streams (exec before 1.30,
 * port-forward) use it: frames parsed and built, and the name/value
 * header blocks of SYN_STREAM and SYN_REPLY, compressed with zlib on one
 * stream per direction, primed with the protocol's dictionary.  Pure byte
 * work, no I/O.
 *
 *   control frame   1 | version (15) | type (16) | flags (8) | length (24) | payload
 *   data frame      0 | stream id (31)           | flags (8) | length (24) | data
 */
#ifndef CFS_HTTP_SPDY_H
#define CFS_HTTP_SPDY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <zlib.h>

#include "engine/mem.h"

enum {
	SPDY_DATA = 0, /* not a control type: a data frame */
	SPDY_SYN_STREAM = 1,
	SPDY_SYN_REPLY = 2,
	SPDY_RST_STREAM = 3,
	SPDY_SETTINGS = 4,
	SPDY_PING = 6,
	SPDY_GOAWAY = 7,
	SPDY_HEADERS = 8,
	SPDY_WINDOW_UPDATE = 9,
};

#define SPDY_FLAG_FIN	     0x01
#define SPDY_FRAME_MAX	     (1 << 24) /* a 24-bit length */
#define SPDY_HEADERS_MAX     32
#define SPDY_DICTIONARY_SIZE 1423

struct spdy_frame {
	int type; /* SPDY_DATA or a control type */
	uint8_t flags;
	uint32_t stream;     /* data, SYN_*, RST, HEADERS, WINDOW_UPDATE; GOAWAY: last id */
	uint32_t value;	     /* RST / GOAWAY: status; PING: id; WINDOW_UPDATE: delta */
	const uint8_t *data; /* data: the bytes; SYN_*, HEADERS: the header block */
	size_t len;
};

/* Parses the frame at p: the bytes it takes (> 0); 0 when more are
 * needed; -1 when malformed (a control frame of another version, a short
 * payload) or longer than max. */
ssize_t spdy_parse(const uint8_t *p, size_t n, size_t max, struct spdy_frame *f);

/* The header compression of one connection (both directions). */
struct spdy_z {
	z_stream in, out;
	bool in_ok, out_ok;
};
int spdy_z_init(struct spdy_z *z); /* 0, or -ENOMEM */
void spdy_z_free(struct spdy_z *z);

/* A decoded header block: n pairs, strings in raw. */
struct spdy_headers {
	size_t n;
	const char *name[SPDY_HEADERS_MAX], *value[SPDY_HEADERS_MAX];
	struct buf raw;
};
/* Inflates and splits a header block: 0, or -EINVAL (corrupt, too many). */
int spdy_headers_decode(struct spdy_z *z, const uint8_t *p, size_t n, struct spdy_headers *h);
const char *spdy_header(const struct spdy_headers *h, const char *name);
void spdy_headers_free(struct spdy_headers *h);

/* Frames appended to out.  kv: name, value, ..., NULL. */
void spdy_syn_stream(struct spdy_z *z, struct buf *out, uint32_t stream, uint8_t flags,
		     const char *const *kv);
void spdy_syn_reply(struct spdy_z *z, struct buf *out, uint32_t stream, uint8_t flags,
		    const char *const *kv);
void spdy_data(struct buf *out, uint32_t stream, uint8_t flags, const void *p, size_t n);
void spdy_rst_stream(struct buf *out, uint32_t stream, uint32_t status);
void spdy_ping(struct buf *out, uint32_t id);
void spdy_goaway(struct buf *out, uint32_t last, uint32_t status);

/* The dictionary (SPDY_DICTIONARY_SIZE bytes). */
const uint8_t *spdy_dictionary(void);

#endif
