/*
 * spdy.c - see spdy.h.  The header compression dictionary is the one the
 * SPDY/3 draft defines: a list of length-prefixed header names and values
 * followed by common status lines, dates and media types; it is built
 * once from the two parts below (its length and digest are checked by the
 * unit test).
 */
#include "http/spdy.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

static const char *const dict_words[] = {"options",
					 "head",
					 "post",
					 "put",
					 "delete",
					 "trace",
					 "accept",
					 "accept-charset",
					 "accept-encoding",
					 "accept-language",
					 "accept-ranges",
					 "age",
					 "allow",
					 "authorization",
					 "cache-control",
					 "connection",
					 "content-base",
					 "content-encoding",
					 "content-language",
					 "content-length",
					 "content-location",
					 "content-md5",
					 "content-range",
					 "content-type",
					 "date",
					 "etag",
					 "expect",
					 "expires",
					 "from",
					 "host",
					 "if-match",
					 "if-modified-since",
					 "if-none-match",
					 "if-range",
					 "if-unmodified-since",
					 "last-modified",
					 "location",
					 "max-forwards",
					 "pragma",
					 "proxy-authenticate",
					 "proxy-authorization",
					 "range",
					 "referer",
					 "retry-after",
					 "server",
					 "te",
					 "trailer",
					 "transfer-encoding",
					 "upgrade",
					 "user-agent",
					 "vary",
					 "via",
					 "warning",
					 "www-authenticate",
					 "method",
					 "get",
					 "status",
					 "200 OK",
					 "version",
					 "HTTP/1.1",
					 "url",
					 "public",
					 "set-cookie",
					 "keep-alive",
					 "origin"};

static const char dict_tail[] =
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504"
    "505203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request"
    "401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented"
    "503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, "
    "Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,"
    "application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age="
    "gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";

static uint8_t dict[SPDY_DICTIONARY_SIZE + 64];
static pthread_once_t dict_once = PTHREAD_ONCE_INIT;

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void dict_build(void)
{
	size_t n = 0;
	for (size_t i = 0; i < sizeof(dict_words) / sizeof(dict_words[0]); i++) {
		size_t l = strlen(dict_words[i]);
		put32(dict + n, (uint32_t)l);
		memcpy(dict + n + 4, dict_words[i], l);
		n += 4 + l;
	}
	memcpy(dict + n, dict_tail, sizeof(dict_tail) - 1);
}

const uint8_t *spdy_dictionary(void)
{
	pthread_once(&dict_once, dict_build);
	return dict;
}

ssize_t spdy_parse(const uint8_t *p, size_t n, size_t max, struct spdy_frame *f)
{
	if (n < 8)
		return 0;
	size_t len = (size_t)p[5] << 16 | (size_t)p[6] << 8 | p[7];
	if (len > max)
		return -1;
	if (n < 8 + len)
		return 0;
	memset(f, 0, sizeof(*f));
	f->flags = p[4];
	const uint8_t *d = p + 8;
	if (!(p[0] & 0x80)) {
		f->type = SPDY_DATA;
		f->stream = get32(p) & 0x7fffffff;
		f->data = d;
		f->len = len;
		return (ssize_t)(8 + len);
	}
	if (((p[0] & 0x7f) << 8 | p[1]) != 3)
		return -1;
	f->type = p[2] << 8 | p[3];
	size_t need = 0, hdr = 0;
	switch (f->type) {
	case SPDY_SYN_STREAM:
		need = hdr = 10;
		break;
	case SPDY_SYN_REPLY:
	case SPDY_HEADERS:
		need = hdr = 4;
		break;
	case SPDY_RST_STREAM:
	case SPDY_GOAWAY:
	case SPDY_WINDOW_UPDATE:
		need = 8;
		break;
	case SPDY_PING:
		need = 4;
		break;
	default:
		break;
	}
	if (len < need)
		return -1;
	if (f->type == SPDY_PING) {
		f->value = get32(d);
	} else if (need) {
		f->stream = get32(d) & 0x7fffffff;
		if (!hdr)
			f->value =
			    get32(d + 4) & (f->type == SPDY_WINDOW_UPDATE ? 0x7fffffff : ~0u);
	}
	f->data = d + hdr;
	f->len = len - hdr;
	return (ssize_t)(8 + len);
}

int spdy_z_init(struct spdy_z *z)
{
	memset(z, 0, sizeof(*z));
	if (inflateInit(&z->in) != Z_OK)
		return -ENOMEM;
	z->in_ok = true;
	if (deflateInit(&z->out, Z_DEFAULT_COMPRESSION) != Z_OK ||
	    deflateSetDictionary(&z->out, spdy_dictionary(), SPDY_DICTIONARY_SIZE) != Z_OK) {
		spdy_z_free(z);
		return -ENOMEM;
	}
	z->out_ok = true;
	return 0;
}

void spdy_z_free(struct spdy_z *z)
{
	if (z->in_ok)
		inflateEnd(&z->in);
	if (z->out_ok)
		deflateEnd(&z->out);
	z->in_ok = z->out_ok = false;
}

/* Inflates all of p[n] into out (sync-flushed by the sender). */
static int inflate_all(struct spdy_z *z, const uint8_t *p, size_t n, struct buf *out)
{
	z->in.next_in = (Bytef *)p;
	z->in.avail_in = (uInt)n;
	uint8_t chunk[4096];
	while (z->in.avail_in > 0) {
		z->in.next_out = chunk;
		z->in.avail_out = sizeof(chunk);
		int r = inflate(&z->in, Z_SYNC_FLUSH);
		if (r == Z_NEED_DICT) {
			if (inflateSetDictionary(&z->in, spdy_dictionary(), SPDY_DICTIONARY_SIZE) !=
			    Z_OK)
				return -EINVAL;
			r = inflate(&z->in, Z_SYNC_FLUSH);
		}
		if (r != Z_OK && r != Z_BUF_ERROR && r != Z_STREAM_END)
			return -EINVAL;
		buf_add(out, chunk, sizeof(chunk) - z->in.avail_out);
		if (out->len > SPDY_FRAME_MAX)
			return -EINVAL;
		if (r == Z_BUF_ERROR && z->in.avail_out == sizeof(chunk))
			break; /* no progress */
	}
	return 0;
}

int spdy_headers_decode(struct spdy_z *z, const uint8_t *p, size_t n, struct spdy_headers *h)
{
	memset(h, 0, sizeof(*h));
	if (inflate_all(z, p, n, &h->raw) < 0 || h->raw.len < 4)
		return -EINVAL;
	/* the pairs are rewritten in place as NUL-ended strings: each length
	 * field (4 bytes) before a string leaves room for the previous NUL */
	uint8_t *b = (uint8_t *)h->raw.s, *end = b + h->raw.len;
	uint32_t count = get32(b);
	if (count > SPDY_HEADERS_MAX)
		return -EINVAL;
	uint8_t *q = b + 4;
	for (uint32_t i = 0; i < count; i++) {
		const char **slot[2] = {&h->name[i], &h->value[i]};
		for (int k = 0; k < 2; k++) {
			if (end - q < 4)
				return -EINVAL;
			uint32_t l = get32(q);
			if ((size_t)(end - q - 4) < l)
				return -EINVAL;
			memmove(q, q + 4, l);
			q[l] = '\0';
			*slot[k] = (const char *)q;
			q += l + 4;
		}
		h->n++;
	}
	return 0;
}

const char *spdy_header(const struct spdy_headers *h, const char *name)
{
	for (size_t i = 0; i < h->n; i++)
		if (!strcasecmp(h->name[i], name))
			return h->value[i];
	return NULL;
}

void spdy_headers_free(struct spdy_headers *h)
{
	buf_free(&h->raw);
	h->n = 0;
}

/* The compressed header block of kv, appended to out. */
static void headers_encode(struct spdy_z *z, const char *const *kv, struct buf *out)
{
	struct buf plain = {0};
	uint8_t n4[4];
	size_t count = 0;
	while (kv && kv[2 * count])
		count++;
	put32(n4, (uint32_t)count);
	buf_add(&plain, n4, 4);
	for (size_t i = 0; i < 2 * count; i++) {
		put32(n4, (uint32_t)strlen(kv[i]));
		buf_add(&plain, n4, 4);
		buf_add(&plain, kv[i], strlen(kv[i]));
	}
	z->out.next_in = (Bytef *)plain.s;
	z->out.avail_in = (uInt)plain.len;
	uint8_t chunk[4096];
	do {
		z->out.next_out = chunk;
		z->out.avail_out = sizeof(chunk);
		deflate(&z->out, Z_SYNC_FLUSH);
		buf_add(out, chunk, sizeof(chunk) - z->out.avail_out);
	} while (z->out.avail_out == 0);
	buf_free(&plain);
}

static void control(struct buf *out, int type, uint8_t flags, const struct buf *payload)
{
	uint8_t h[8] = {0x80, 3, (uint8_t)(type >> 8), (uint8_t)type, flags};
	h[5] = (uint8_t)(payload->len >> 16);
	h[6] = (uint8_t)(payload->len >> 8);
	h[7] = (uint8_t)payload->len;
	buf_add(out, h, 8);
	if (payload->len)
		buf_add(out, payload->s, payload->len);
}

void spdy_syn_stream(struct spdy_z *z, struct buf *out, uint32_t stream, uint8_t flags,
		     const char *const *kv)
{
	struct buf p = {0};
	uint8_t h[10] = {0};
	put32(h, stream & 0x7fffffff);
	buf_add(&p, h, 10);
	headers_encode(z, kv, &p);
	control(out, SPDY_SYN_STREAM, flags, &p);
	buf_free(&p);
}

void spdy_syn_reply(struct spdy_z *z, struct buf *out, uint32_t stream, uint8_t flags,
		    const char *const *kv)
{
	struct buf p = {0};
	uint8_t h[4];
	put32(h, stream & 0x7fffffff);
	buf_add(&p, h, 4);
	headers_encode(z, kv, &p);
	control(out, SPDY_SYN_REPLY, flags, &p);
	buf_free(&p);
}

void spdy_data(struct buf *out, uint32_t stream, uint8_t flags, const void *p, size_t n)
{
	uint8_t h[8];
	put32(h, stream & 0x7fffffff);
	h[4] = flags;
	h[5] = (uint8_t)(n >> 16);
	h[6] = (uint8_t)(n >> 8);
	h[7] = (uint8_t)n;
	buf_add(out, h, 8);
	if (n)
		buf_add(out, p, n);
}

static void control2(struct buf *out, int type, uint32_t a, uint32_t b)
{
	uint8_t v[8];
	put32(v, a);
	put32(v + 4, b);
	struct buf p = {.s = (char *)v, .len = 8};
	control(out, type, 0, &p);
}

void spdy_rst_stream(struct buf *out, uint32_t stream, uint32_t status)
{
	control2(out, SPDY_RST_STREAM, stream & 0x7fffffff, status);
}

void spdy_goaway(struct buf *out, uint32_t last, uint32_t status)
{
	control2(out, SPDY_GOAWAY, last & 0x7fffffff, status);
}

void spdy_ping(struct buf *out, uint32_t id)
{
	uint8_t v[4];
	put32(v, id);
	struct buf p = {.s = (char *)v, .len = 4};
	control(out, SPDY_PING, 0, &p);
}
