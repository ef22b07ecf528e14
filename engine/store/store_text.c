/*
 * store_text.c - the JSON text the store keeps of an object (store_int.h).
 *
 * Why: every put writes its object's text to SQLite, and json_dumps made
 * it at about 60 instructions a byte (a pod is about 2 KB: three puts
 * each, so a quarter of the server's instructions in the control-plane
 * benchmark went to it): jansson decodes each string as UTF-8 code point
 * by code point and writes through a callback into a growing buffer.
 *
 * What: the same bytes as json_dumps(v, JSON_COMPACT), made in one buffer
 * with a byte loop over strings.  What it does not do itself goes to
 * json_dumps, so the text is always jansson's: a byte of 0x80 or above
 * (jansson validates UTF-8 and refuses invalid text), a real (jansson's
 * own formatting), nesting past STORE_TEXT_DEPTH, a top level that is not
 * an object or an array (jansson refuses it without JSON_ENCODE_ANY).
 * tests/unit/test_store_text.c compares the two on every kind of value.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mem.h"
#include "engine/store/store_int.h"

#define STORE_TEXT_DEPTH 256

struct tbuf {
	char *p;
	size_t len, cap;
	bool punt; /* something only json_dumps makes: give up */
};

static void grow(struct tbuf *b, size_t more)
{
	if (b->len + more <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 1024;
	while (cap < b->len + more)
		cap *= 2;
	b->p = xrealloc(b->p, cap);
	b->cap = cap;
}

static void put(struct tbuf *b, const char *s, size_t n)
{
	grow(b, n);
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void putc1(struct tbuf *b, char c)
{
	grow(b, 1);
	b->p[b->len++] = c;
}

#define ONES  0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* Whether any of the 8 bytes of x may need an escape (or is 0x80 and
 * above): the usual bit tricks, (v - ONES) & ~v & HIGHS is not 0 exactly
 * when some byte of v is 0, (x - ONES * k) & ~x & HIGHS when some byte
 * of x is below k (k <= 0x80).  A false alarm only takes the slow loop. */
static bool needs_look(uint64_t x)
{
	uint64_t q = x ^ (ONES * '"'), bs = x ^ (ONES * '\\');
	uint64_t low = (x - ONES * 0x20) & ~x;
	uint64_t quote = (q - ONES) & ~q, slash = (bs - ONES) & ~bs;
	return ((low | quote | slash | x) & HIGHS) != 0;
}

/* How many bytes from s on (up to n) need no escape, 8 at a time. */
static size_t plain_prefix(const char *s, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t x;
		memcpy(&x, s + i, 8);
		if (needs_look(x))
			break;
	}
	return i;
}

/* s (n bytes) quoted and escaped as jansson escapes it by default. */
static void put_string(struct tbuf *b, const char *s, size_t n)
{
	grow(b, n + 2);
	b->p[b->len++] = '"';
	size_t skip = plain_prefix(s, n);
	size_t run = skip; /* bytes that need no escape, not yet copied */
	for (size_t i = skip; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			run++;
			continue;
		}
		if (c >= 0x80) {
			b->punt = true;
			return;
		}
		put(b, s + i - run, run);
		run = 0;
		char esc[8];
		switch (c) {
		case '"':
			put(b, "\\\"", 2);
			break;
		case '\\':
			put(b, "\\\\", 2);
			break;
		case '\b':
			put(b, "\\b", 2);
			break;
		case '\f':
			put(b, "\\f", 2);
			break;
		case '\n':
			put(b, "\\n", 2);
			break;
		case '\r':
			put(b, "\\r", 2);
			break;
		case '\t':
			put(b, "\\t", 2);
			break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04X", c);
			put(b, esc, 6);
		}
	}
	put(b, s + n - run, run);
	putc1(b, '"');
}

static void put_int(struct tbuf *b, json_int_t v)
{
	char d[24];
	size_t i = sizeof(d);
	uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	do {
		d[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		d[--i] = '-';
	put(b, d + i, sizeof(d) - i);
}

static void put_value(struct tbuf *b, const json_t *v, int depth)
{
	if (b->punt || depth > STORE_TEXT_DEPTH) {
		b->punt = true;
		return;
	}
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		putc1(b, '{');
		bool first = true;
		for (void *it = json_object_iter((json_t *)v); it && !b->punt;
		     it = json_object_iter_next((json_t *)v, it)) {
			if (!first)
				putc1(b, ',');
			first = false;
			put_string(b, json_object_iter_key(it), json_object_iter_key_len(it));
			putc1(b, ':');
			put_value(b, json_object_iter_value(it), depth + 1);
		}
		putc1(b, '}');
		return;
	}
	case JSON_ARRAY: {
		putc1(b, '[');
		size_t n = json_array_size(v);
		for (size_t i = 0; i < n && !b->punt; i++) {
			if (i)
				putc1(b, ',');
			put_value(b, json_array_get(v, i), depth + 1);
		}
		putc1(b, ']');
		return;
	}
	case JSON_STRING:
		put_string(b, json_string_value(v), json_string_length(v));
		return;
	case JSON_INTEGER:
		put_int(b, json_integer_value(v));
		return;
	case JSON_TRUE:
		put(b, "true", 4);
		return;
	case JSON_FALSE:
		put(b, "false", 5);
		return;
	case JSON_NULL:
		put(b, "null", 4);
		return;
	default: /* a real */
		b->punt = true;
	}
}

char *store_text(const json_t *v)
{
	if (!json_is_object(v) && !json_is_array(v))
		return json_dumps(v, JSON_COMPACT);
	struct tbuf b = {0};
	put_value(&b, v, 0);
	if (b.punt) {
		free(b.p);
		return json_dumps(v, JSON_COMPACT);
	}
	putc1(&b, '\0');
	/* to its size: texts are kept (the watch history, the index), and the
	 * buffer grew by doubling */
	return b.len < b.cap ? xrealloc(b.p, b.len) : b.p;
}
