/*
 * codec.c - YAML <-> jansson values, see codec.h.
 *
 * Decoding walks libyaml's event stream, not its document loader: the
 * loader builds the whole node graph before we could look at it, while
 * events let every limit be checked as the input is read.  A stack of
 * open collections, never deeper than CODEC_MAX_DEPTH, receives each
 * value as it completes.  An alias inserts a deep copy of the anchored
 * value, charged in full against CODEC_MAX_NODES and the byte budget
 * before it is made, so alias bombs stop early whatever their shape (wide,
 * deep, long strings, many small aliases), and no two places in a decoded
 * document share a jansson value (callers mutate documents, e.g. when
 * defaulting).  The byte budget counts CODEC_NODE_BYTES per value plus the
 * bytes of every string and key, aliases expanded: YAML needs at least two
 * bytes of input per value, so input without aliases stays under 2.5x its
 * size, and only aliases can reach CODEC_EXPAND_RATIO x the input plus
 * CODEC_EXPAND_SLACK.  Every allocation jansson can fail (it returns NULL)
 * is checked: the decode fails with ENOMEM, never a shorter document.
 *
 * Encoding feeds libyaml's emitter one event per value and chooses each
 * string's style itself: plain only when a reader would get the same
 * string back, both under the YAML 1.2 core schema used here and under
 * the YAML 1.1 rules that other tools still apply (yes, on, 0755, ...).
 * libyaml then falls back to quoting on its own when its analysis finds
 * plain style unsafe, so the two checks only add up.
 *
 * Infinities and NaN (.inf, -.Inf, .nan, and reals too large for a
 * double such as 1e999) cannot be held by jansson; they decode to
 * strings with their source text, which encode quoted.
 */
#include "engine/valid/codec.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "engine/log.h"
#include "engine/mem.h"

#define CORE_TAG(name) "tag:yaml.org,2002:" name

/* ---- UTF-8 ---- */

/*
 * Returns the length (1 to 4) of the well-formed UTF-8 sequence at p,
 * which has n > 0 bytes left, or 0 when it is malformed: a stray or
 * overlong byte, a surrogate, a code point above U+10FFFF, cut short.
 */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned int c = p[0], cp, min;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f, min = 0x80;
	else if ((c & 0xf0) == 0xe0)
		len = 3, cp = c & 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07, min = 0x10000;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Returns the offset of the first malformed sequence in s, or n. */
static size_t utf8_check(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, l;

	while (i < n && (l = utf8_seq(p + i, n - i)))
		i += l;
	return i;
}

/* Returns a copy of s with each malformed byte replaced by U+FFFD. */
static char *utf8_fix(const char *s, size_t n, size_t *outlen)
{
	struct buf b = {0};
	size_t i = 0, l;

	while (i < n) {
		l = utf8_seq((const unsigned char *)s + i, n - i);
		if (l)
			buf_add(&b, s + i, l), i += l;
		else
			buf_puts(&b, "\xef\xbf\xbd"), i++;
	}
	return buf_steal(&b, outlen);
}

/* ---- scalar resolution (YAML 1.2 core schema) ---- */

enum stype { ST_STR, ST_NULL, ST_BOOL, ST_INT, ST_FLOAT };

/* True when s is one of the words of the NULL-terminated list. */
static bool word_in(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return true;
	return false;
}

static const char *const null_words[] = {"", "~", "null", "Null", "NULL", NULL};
static const char *const true_words[] = {"true", "True", "TRUE", NULL};
static const char *const false_words[] = {"false", "False", "FALSE", NULL};

/* Returns 1 for true, 0 for false, -1 for neither. */
static int bool_word(const char *s)
{
	return word_in(s, true_words) ? 1 : word_in(s, false_words) ? 0 : -1;
}

#define DIGITS "0123456789"

/* [-+]?[0-9]+ | 0o[0-7]+ | 0x[0-9a-fA-F]+ */
static bool int_syntax(const char *s, size_t n)
{
	if (n > 2 && s[0] == '0' && s[1] == 'o')
		return strspn(s + 2, "01234567") == n - 2;
	if (n > 2 && s[0] == '0' && s[1] == 'x')
		return strspn(s + 2, DIGITS "abcdefABCDEF") == n - 2;
	if (*s == '-' || *s == '+')
		s++, n--;
	return n > 0 && strspn(s, DIGITS) == n;
}

/* [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? */
static bool float_syntax(const char *s)
{
	size_t k;

	if (*s == '-' || *s == '+')
		s++;
	if (*s == '.') {
		if (!(k = strspn(s + 1, DIGITS)))
			return false;
		s += 1 + k;
	} else {
		if (!(k = strspn(s, DIGITS)))
			return false;
		s += k;
		if (*s == '.')
			s += 1 + strspn(s + 1, DIGITS);
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '-' || *s == '+')
			s++;
		if (!(k = strspn(s, DIGITS)))
			return false;
		s += k;
	}
	return *s == '\0';
}

/* [-+]?\.(inf|Inf|INF) | \.(nan|NaN|NAN) */
static bool inf_nan(const char *s)
{
	static const char *const infs[] = {".inf", ".Inf", ".INF", NULL};
	static const char *const nans[] = {".nan", ".NaN", ".NAN", NULL};

	return word_in(s + (*s == '-' || *s == '+'), infs) || word_in(s, nans);
}

/* The type a plain scalar's text s (n bytes, NUL-terminated) resolves to. */
static enum stype plain_type(const char *s, size_t n)
{
	if (word_in(s, null_words))
		return ST_NULL;
	if (bool_word(s) >= 0)
		return ST_BOOL;
	if (int_syntax(s, n))
		return ST_INT;
	if (float_syntax(s) || inf_nan(s))
		return ST_FLOAT;
	return ST_STR;
}

/* A real from text, or the text itself when no double can hold it. */
static json_t *real_or_text(double x, const char *s, size_t n)
{
	return isfinite(x) ? json_real(x) : json_stringn(s, n);
}

/* The value of s, which int_syntax() accepted: an integer, or a real
 * when it overflows int64 (a string when it overflows a double, too). */
static json_t *make_int(const char *s, size_t n)
{
	int base = 10;
	const char *p = s;

	if (n > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x'))
		base = s[1] == 'o' ? 8 : 16, p = s + 2;
	/* YAML 1.1's octal, as Kubernetes reads manifests: defaultMode: 0644
	 * is 420 (a leading zero, then octal digits only) */
	const char *d = s + (*s == '-' || *s == '+');
	if (base == 10 && d[0] == '0' && d[1] && strspn(d, "01234567") == strlen(d)) {
		errno = 0;
		long long v = strtoll(s, NULL, 8);
		if (errno != ERANGE)
			return json_integer(v);
	}
	errno = 0;
	if (base == 10) {
		long long v = strtoll(p, NULL, 10);
		if (errno != ERANGE)
			return json_integer(v);
		return real_or_text(strtod(s, NULL), s, n);
	}
	unsigned long long u = strtoull(p, NULL, base);
	if (errno != ERANGE && u <= INT64_MAX)
		return json_integer((json_int_t)u);
	double x = 0;
	for (; *p; p++)
		x = x * base + (*p <= '9' ? *p - '0' : (*p | 0x20) - 'a' + 10);
	return real_or_text(x, s, n);
}

/* The value of s, which float_syntax() or inf_nan() accepted. */
static json_t *make_float(const char *s, size_t n)
{
	if (inf_nan(s))
		return json_stringn(s, n);
	return real_or_text(strtod(s, NULL), s, n);
}

/* ---- decoding ---- */

struct frame {
	json_t *val;   /* the open object or array */
	char *key;     /* object: a key whose value is still to come */
	char *anchor;  /* registered when the collection closes, or NULL */
	size_t nodes0; /* dec.nodes before this collection was counted */
	size_t bytes0; /* dec.bytes likewise */
	int height;    /* nesting of val so far: 1 + the deepest child's */
};

struct anchor {
	json_t *val;  /* a reference, only ever deep-copied out */
	char *text;   /* a scalar's source text, usable as a key; else NULL */
	size_t nodes; /* values val stands for */
	size_t bytes; /* their cost against the byte budget */
	int height;   /* its nesting: 0 for a scalar */
};

struct dec {
	yaml_parser_t parser;
	struct err **e;
	struct frame stack[CODEC_MAX_DEPTH];
	int depth;	   /* open collections on the stack */
	size_t nodes;	   /* values produced in this stream, aliases expanded */
	size_t bytes;	   /* their cost, see the top of this file */
	size_t budget;	   /* the most bytes may reach */
	json_t *root;	   /* the current document's value, once complete */
	json_t *anchor_ix; /* anchor name -> index into anchors */
	struct anchor *anchors;
	size_t nanchors, capanchors;
	json_t **docs;
	size_t ndocs, capdocs;
};

/* Sets an -EINVAL error at mark m (0-based in libyaml, 1-based shown). */
__attribute__((format(printf, 3, 4))) static int fail_at(struct dec *d, const yaml_mark_t *m,
							 const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = xstrdup(fmt);
	va_end(ap);
	int r = err_make(d->e, EINVAL, "yaml: line %zu column %zu: %s", m->line + 1, m->column + 1,
			 msg);
	free(msg);
	return r;
}

/* Line and column (1-based, in characters) of byte offset off of buf. */
static void offset_pos(const char *buf, size_t off, size_t *line, size_t *col)
{
	*line = 1, *col = 1;
	for (size_t i = 0; i < off; i++) {
		if (buf[i] == '\n')
			(*line)++, *col = 1;
		else if ((buf[i] & 0xc0) != 0x80)
			(*col)++;
	}
}

/* Turns libyaml's failure into an error: "yaml: line L column C: ...". */
static int parser_fail(struct dec *d, const char *buf, size_t len)
{
	yaml_parser_t *p = &d->parser;
	size_t line, col;

	if (p->error == YAML_MEMORY_ERROR)
		return err_make(d->e, ENOMEM, "yaml: out of memory");
	if (p->error == YAML_READER_ERROR) {
		offset_pos(buf, p->problem_offset < len ? p->problem_offset : len, &line, &col);
	} else {
		line = p->problem_mark.line + 1;
		col = p->problem_mark.column + 1;
	}
	return err_make(d->e, EINVAL, "yaml: line %zu column %zu: %s%s%s%s", line, col,
			p->problem ? p->problem : "malformed input", p->context ? " (" : "",
			p->context ? p->context : "", p->context ? ")" : "");
}

/* Counts n more values costing bytes against CODEC_MAX_NODES and the
 * byte budget: past either is -EFBIG, before anything is made. */
static int charge(struct dec *d, const yaml_mark_t *m, size_t n, size_t bytes)
{
	if (bytes > d->budget - d->bytes)
		return err_make(d->e, EFBIG,
				"yaml: line %zu column %zu: aliases expand past %zu bytes "
				"(%dx the input + %d)",
				m->line + 1, m->column + 1, d->budget, CODEC_EXPAND_RATIO,
				CODEC_EXPAND_SLACK);
	if (n > CODEC_MAX_NODES - d->nodes)
		return err_make(d->e, EFBIG,
				"yaml: line %zu column %zu: too many nodes (alias expansion?), "
				"limit %d",
				m->line + 1, m->column + 1, CODEC_MAX_NODES);
	d->nodes += n;
	d->bytes += bytes;
	return 0;
}

static int no_memory(struct dec *d)
{
	return err_make(d->e, ENOMEM, "yaml: out of memory");
}

/* True when the next value read is a key of the open object. */
static bool expecting_key(const struct dec *d)
{
	return d->depth > 0 && json_is_object(d->stack[d->depth - 1].val) &&
	       !d->stack[d->depth - 1].key;
}

/* Records s (n bytes) as the open object's next key. */
static int set_key(struct dec *d, const yaml_mark_t *m, const char *s, size_t n)
{
	struct frame *f = &d->stack[d->depth - 1];

	if (json_object_get(f->val, s))
		return fail_at(d, m, "duplicate key \"%.64s\"", s);
	f->key = xstrndup(s, n);
	return 0;
}

/* Puts the complete value v (stolen; NULL when making it failed) of
 * nesting height where it belongs. */
static int put(struct dec *d, json_t *v, int height)
{
	int r;

	if (!v)
		return no_memory(d);
	if (d->depth == 0) {
		d->root = v;
		return 0;
	}
	struct frame *f = &d->stack[d->depth - 1];
	if (json_is_array(f->val)) {
		r = json_array_append_new(f->val, v);
	} else {
		r = json_object_set_new(f->val, f->key, v);
		free(f->key);
		f->key = NULL;
	}
	if (r < 0)
		return no_memory(d);
	if (height + 1 > f->height)
		f->height = height + 1;
	return 0;
}

/* Remembers v (a new reference is taken) under the anchor name. */
static int anchor_set(struct dec *d, const char *name, json_t *v, const char *text, size_t nodes,
		      size_t bytes, int height)
{
	if (d->nanchors == d->capanchors) {
		d->capanchors = d->capanchors ? 2 * d->capanchors : 16;
		d->anchors = xrealloc(d->anchors, d->capanchors * sizeof(*d->anchors));
	}
	struct anchor *a = &d->anchors[d->nanchors];
	a->val = json_incref(v);
	a->text = text ? xstrdup(text) : NULL;
	a->nodes = nodes;
	a->bytes = bytes;
	a->height = height;
	if (json_object_set_new(d->anchor_ix, name, json_integer((json_int_t)d->nanchors++)) < 0)
		return no_memory(d);
	return 0;
}

/* Anchors are scoped to one document. */
static void anchors_clear(struct dec *d)
{
	for (size_t i = 0; i < d->nanchors; i++) {
		json_decref(d->anchors[i].val);
		free(d->anchors[i].text);
	}
	d->nanchors = 0;
	json_object_clear(d->anchor_ix);
}

/* The type a tag asks for: !!str (and the non-specific "!"), !!null,
 * !!bool, !!int, !!float; -1 for any other tag, which is ignored. */
static int tag_type(const char *tag)
{
	static const char *const tags[] = {
	    [ST_STR] = CORE_TAG("str"),	    [ST_NULL] = CORE_TAG("null"),
	    [ST_BOOL] = CORE_TAG("bool"),   [ST_INT] = CORE_TAG("int"),
	    [ST_FLOAT] = CORE_TAG("float"),
	};

	if (!strcmp(tag, "!"))
		return ST_STR;
	for (int t = 0; t < (int)(sizeof(tags) / sizeof(tags[0])); t++)
		if (!strcmp(tag, tags[t]))
			return t;
	return -1;
}

/*
 * Makes the value of a scalar event in *out.  Untagged (or with a tag we
 * ignore), plain text resolves by the core schema and quoted text is a
 * string; a core tag asks for its type, and text that is not of it fails.
 */
static int resolve(struct dec *d, const yaml_event_t *ev, json_t **out)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	enum stype t = plain_type(s, n);
	int want = tag ? tag_type(tag) : -1;
	bool forced = want >= 0;

	*out = NULL;
	if (want < 0)
		want = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? (int)t : ST_STR;
	else if (want != ST_STR && want != (int)t && !(want == ST_FLOAT && t == ST_INT))
		goto bad;
	switch (want) {
	case ST_NULL:
		*out = json_null();
		break;
	case ST_BOOL:
		*out = json_boolean(bool_word(s));
		break;
	case ST_INT:
		*out = make_int(s, n);
		if (forced && !json_is_integer(*out))
			goto bad; /* !!int past int64 */
		break;
	case ST_FLOAT:
		*out = t == ST_INT ? make_int(s, n) : make_float(s, n);
		if (json_is_integer(*out)) {
			json_t *i = *out;
			*out = json_real((double)json_integer_value(i));
			json_decref(i);
		}
		break;
	default:
		*out = json_stringn(s, n);
		break;
	}
	return *out ? 0 : no_memory(d);
bad:
	json_decref(*out);
	*out = NULL;
	return fail_at(d, &ev->start_mark, "cannot read \"%.64s\" as %s", s, tag);
}

static int on_scalar(struct dec *d, const yaml_event_t *ev)
{
	const char *s = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	const char *anchor = (const char *)ev->data.scalar.anchor;
	json_t *v;
	int r;

	if (memchr(s, '\0', n))
		return fail_at(d, &ev->start_mark, "NUL character in a scalar");
	if ((r = charge(d, &ev->start_mark, 1, CODEC_NODE_BYTES + n)) < 0)
		return r;
	if (expecting_key(d) && !anchor)
		return set_key(d, &ev->start_mark, s, n);
	if ((r = resolve(d, ev, &v)) < 0)
		return r;
	if (anchor && (r = anchor_set(d, anchor, v, s, 1, CODEC_NODE_BYTES + n, 0)) < 0) {
		json_decref(v);
		return r;
	}
	if (expecting_key(d)) {
		json_decref(v);
		return set_key(d, &ev->start_mark, s, n);
	}
	return put(d, v, 0);
}

static int on_alias(struct dec *d, const yaml_event_t *ev)
{
	const yaml_mark_t *m = &ev->start_mark;
	const char *name = (const char *)ev->data.alias.anchor;
	json_t *ix = json_object_get(d->anchor_ix, name);
	int r;

	if (!ix)
		return fail_at(d, m, "unknown alias \"%.64s\"", name);
	struct anchor *a = &d->anchors[json_integer_value(ix)];
	if (expecting_key(d)) {
		if (!a->text)
			return fail_at(d, m, "mapping key must be a scalar");
		if ((r = charge(d, m, 1, a->bytes)) < 0)
			return r;
		return set_key(d, m, a->text, strlen(a->text));
	}
	if (d->depth + a->height > CODEC_MAX_DEPTH)
		return fail_at(d, m, "nesting deeper than %d", CODEC_MAX_DEPTH);
	if ((r = charge(d, m, a->nodes, a->bytes)) < 0)
		return r;
	return put(d, json_deep_copy(a->val), a->height);
}

static int on_start(struct dec *d, const yaml_event_t *ev, bool map, const yaml_char_t *anchor)
{
	const yaml_mark_t *m = &ev->start_mark;
	size_t nodes0 = d->nodes, bytes0 = d->bytes;
	int r;

	if (expecting_key(d))
		return fail_at(d, m, "mapping key must be a scalar");
	if (d->depth == CODEC_MAX_DEPTH)
		return fail_at(d, m, "nesting deeper than %d", CODEC_MAX_DEPTH);
	if ((r = charge(d, m, 1, CODEC_NODE_BYTES)) < 0)
		return r;
	json_t *v = map ? json_object() : json_array();
	if (!v)
		return no_memory(d);
	struct frame *f = &d->stack[d->depth++];
	f->val = v;
	f->key = NULL;
	f->anchor = anchor ? xstrdup((const char *)anchor) : NULL;
	f->nodes0 = nodes0;
	f->bytes0 = bytes0;
	f->height = 1;
	return 0;
}

static int on_end(struct dec *d)
{
	struct frame *f = &d->stack[--d->depth];
	int r = 0;

	if (f->anchor)
		r = anchor_set(d, f->anchor, f->val, NULL, d->nodes - f->nodes0,
			       d->bytes - f->bytes0, f->height);
	free(f->anchor);
	free(f->key);
	if (r < 0) {
		json_decref(f->val);
		return r;
	}
	return put(d, f->val, f->height);
}

static int on_doc_end(struct dec *d, const yaml_event_t *ev)
{
	json_t *v = d->root;

	d->root = NULL;
	anchors_clear(d);
	if (!v || json_is_null(v)) {
		json_decref(v);
		return 0;
	}
	if (d->ndocs == CODEC_MAX_DOCS) {
		json_decref(v);
		return fail_at(d, &ev->start_mark, "more than %d documents", CODEC_MAX_DOCS);
	}
	if (d->ndocs == d->capdocs) {
		d->capdocs = d->capdocs ? 2 * d->capdocs : 4;
		d->docs = xrealloc(d->docs, d->capdocs * sizeof(*d->docs));
	}
	d->docs[d->ndocs++] = v;
	return 0;
}

static int on_event(struct dec *d, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		return on_scalar(d, ev);
	case YAML_ALIAS_EVENT:
		return on_alias(d, ev);
	case YAML_SEQUENCE_START_EVENT:
		return on_start(d, ev, false, ev->data.sequence_start.anchor);
	case YAML_MAPPING_START_EVENT:
		return on_start(d, ev, true, ev->data.mapping_start.anchor);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return on_end(d);
	case YAML_DOCUMENT_END_EVENT:
		return on_doc_end(d, ev);
	default:
		return 0;
	}
}

/* Frees what d holds; its documents too unless they were handed out. */
static void dec_free(struct dec *d)
{
	while (d->depth > 0) {
		struct frame *f = &d->stack[--d->depth];
		json_decref(f->val);
		free(f->key);
		free(f->anchor);
	}
	json_decref(d->root);
	anchors_clear(d);
	json_decref(d->anchor_ix);
	free(d->anchors);
	codec_docs_free(d->docs, d->ndocs);
	yaml_parser_delete(&d->parser);
	free(d);
}

int codec_decode(const char *buf, size_t len, json_t ***docs, size_t *ndocs, struct err **e)
{
	yaml_event_t ev;
	size_t bad, line, col;
	int r = 0;

	*docs = NULL;
	*ndocs = 0;
	if (len > CODEC_MAX_BYTES)
		return err_make(e, EFBIG, "yaml: input is %zu bytes, more than the limit of %d",
				len, CODEC_MAX_BYTES);
	const char *nul = len ? memchr(buf, '\0', len) : NULL;
	if (nul) {
		offset_pos(buf, (size_t)(nul - buf), &line, &col);
		return err_make(e, EINVAL, "yaml: line %zu column %zu: NUL byte in input", line,
				col);
	}
	if (len > 0 && (bad = utf8_check(buf, len)) < len) {
		offset_pos(buf, bad, &line, &col);
		return err_make(e, EINVAL, "yaml: line %zu column %zu: invalid UTF-8", line, col);
	}

	struct dec *d = xcalloc(1, sizeof(*d));
	if (!yaml_parser_initialize(&d->parser)) {
		free(d);
		return err_make(e, ENOMEM, "yaml: out of memory");
	}
	d->e = e;
	d->budget = CODEC_EXPAND_RATIO * len + CODEC_EXPAND_SLACK;
	d->anchor_ix = json_object();
	if (!d->anchor_ix) {
		yaml_parser_delete(&d->parser);
		free(d);
		return err_make(e, ENOMEM, "yaml: out of memory");
	}
	yaml_parser_set_input_string(&d->parser, (const unsigned char *)(len ? buf : ""), len);
	yaml_parser_set_encoding(&d->parser, YAML_UTF8_ENCODING);
	for (;;) {
		if (!yaml_parser_parse(&d->parser, &ev)) {
			r = parser_fail(d, buf, len);
			break;
		}
		r = on_event(d, &ev);
		yaml_event_type_t type = ev.type;
		yaml_event_delete(&ev);
		if (r < 0 || type == YAML_STREAM_END_EVENT)
			break;
	}
	if (r == 0) {
		*docs = d->ndocs ? d->docs : xmalloc(sizeof(**docs));
		*ndocs = d->ndocs;
		if (d->ndocs)
			d->docs = NULL, d->ndocs = 0;
	}
	dec_free(d);
	return r;
}

void codec_docs_free(json_t **docs, size_t ndocs)
{
	for (size_t i = 0; i < ndocs; i++)
		json_decref(docs[i]);
	free(docs);
}

/* ---- encoding ---- */

/* Bytes that force double quotes: C0 and C1 controls other than a
 * newline, DEL, the BOM, and U+2028/U+2029 (line breaks to YAML 1.1). */
static bool has_special(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < n; i++) {
		if ((p[i] < 0x20 && p[i] != '\n') || p[i] == 0x7f)
			return true;
		if (p[i] == 0xc2 && i + 1 < n && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
			return true;
		if (i + 2 < n && ((p[i] == 0xe2 && p[i + 1] == 0x80 && (p[i + 2] & 0xfe) == 0xa8) ||
				  (p[i] == 0xef && p[i + 1] == 0xbb && p[i + 2] == 0xbf)))
			return true;
	}
	return false;
}

/* True when YAML 1.1 readers (or a 1.1 timestamp/number guess) would
 * take plain s for something other than a string. */
static bool yaml11_special(const char *s, size_t n)
{
	static const char *const words[] = {"y",    "n",     "yes",  "no", "on", "off",
					    "true", "false", "null", "~",  "=",	 "<<"};
	const char *p = s + (*s == '-' || *s == '+');

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (!strcasecmp(s, words[i]))
			return true;
	/* ints and floats in any base, with _ and : (sexagesimal), 0755, .5 */
	if ((*p >= '0' && *p <= '9') || *p == '.')
		if (strspn(p, DIGITS "abcdefABCDEFxXoObB_:.+-") == strlen(p))
			return true;
	if (*p == '.' && (!strcasecmp(p + 1, "inf") || !strcasecmp(p + 1, "nan")))
		return true;
	/* timestamps: 2001-12-14... */
	return n >= 5 && strspn(s, DIGITS) == 4 && s[4] == '-';
}

/* True when s (n > 0 bytes, no newline or control) reads back as itself
 * when written plain. */
static bool plain_ok(const char *s, size_t n)
{
	if (s[0] == ' ' || s[n - 1] == ' ' || s[n - 1] == ':')
		return false;
	if (strchr("-?:,[]{}#&*!|>'\"%@`", s[0]))
		return false;
	for (size_t i = 0; i + 1 < n; i++)
		if ((s[i] == ':' && s[i + 1] == ' ') || (s[i] == ' ' && s[i + 1] == '#'))
			return false;
	return plain_type(s, n) == ST_STR && !yaml11_special(s, n);
}

/* True when s (with a newline) can be a literal block scalar. */
static bool literal_ok(const char *s, size_t n)
{
	return s[0] != ' ' && s[n - 1] != ' ' && !memmem(s, n, " \n", 2);
}

static yaml_scalar_style_t string_style(const char *s, size_t n)
{
	if (n == 0 || has_special(s, n))
		return YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	if (memchr(s, '\n', n))
		return literal_ok(s, n) ? YAML_LITERAL_SCALAR_STYLE
					: YAML_DOUBLE_QUOTED_SCALAR_STYLE;
	return plain_ok(s, n) ? YAML_PLAIN_SCALAR_STYLE : YAML_DOUBLE_QUOTED_SCALAR_STYLE;
}

/*
 * Writes x with the fewest significant digits that read back as x, in
 * positional form for everyday magnitudes, and always as a real: 1000.0
 * not 1e+03, 1.0e+20 not 1e+20.
 */
static void format_real(double x, char *out, size_t size)
{
	int prec, exp;

	for (prec = 1; prec < 17; prec++) {
		snprintf(out, size, "%.*e", prec - 1, x);
		if (strtod(out, NULL) == x)
			break;
	}
	snprintf(out, size, "%.*e", prec - 1, x);
	char *ex = strchr(out, 'e');
	if (!ex)
		return; /* %e always has one; keeps the compiler content */
	exp = atoi(ex + 1);
	if (exp >= -4 && exp < 17) {
		snprintf(out, size, "%.*f", prec - 1 - exp > 0 ? prec - 1 - exp : 1, x);
	} else if (prec == 1) {
		/* "1e+20" has no point: make it "1.0e+20" */
		memmove(ex + 2, ex, strlen(ex) + 1);
		memcpy(ex, ".0", 2);
	}
}

static int write_buf(void *data, unsigned char *p, size_t n)
{
	buf_add(data, p, n);
	return 1;
}

/* Emits ev; libyaml fails only on memory or on our own bug. */
static void emit(yaml_emitter_t *em, yaml_event_t *ev)
{
	if (!yaml_emitter_emit(em, ev)) {
		log_error("codec", "yaml emitter: %s", em->problem ? em->problem : "out of memory");
		abort();
	}
}

static void emit_scalar(yaml_emitter_t *em, const char *s, size_t n, yaml_scalar_style_t style)
{
	yaml_event_t ev;

	if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)s, (int)n, 1, 1, style)) {
		log_error("codec", "yaml emitter: out of memory");
		abort();
	}
	emit(em, &ev);
}

static void emit_string(yaml_emitter_t *em, const char *s, size_t n)
{
	_cleanup_free_ char *fixed = NULL;

	/* jansson strings are UTF-8 unless made with a _nocheck call */
	if (utf8_check(s, n) < n)
		s = fixed = utf8_fix(s, n, &n);
	emit_scalar(em, s, n, string_style(s, n));
}

static void emit_value(yaml_emitter_t *em, json_t *v)
{
	yaml_event_t ev;
	char num[48];

	switch (json_typeof(v)) {
	case JSON_OBJECT:
		yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
						    json_object_size(v) ? YAML_BLOCK_MAPPING_STYLE
									: YAML_FLOW_MAPPING_STYLE);
		emit(em, &ev);
		for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
			emit_string(em, json_object_iter_key(it), json_object_iter_key_len(it));
			emit_value(em, json_object_iter_value(it));
		}
		yaml_mapping_end_event_initialize(&ev);
		emit(em, &ev);
		break;
	case JSON_ARRAY:
		yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
						     json_array_size(v) ? YAML_BLOCK_SEQUENCE_STYLE
									: YAML_FLOW_SEQUENCE_STYLE);
		emit(em, &ev);
		for (size_t i = 0; i < json_array_size(v); i++)
			emit_value(em, json_array_get(v, i));
		yaml_sequence_end_event_initialize(&ev);
		emit(em, &ev);
		break;
	case JSON_STRING:
		emit_string(em, json_string_value(v), json_string_length(v));
		break;
	default:
		if (json_is_integer(v))
			snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		else if (json_is_real(v))
			format_real(json_real_value(v), num, sizeof(num));
		else
			strcpy(num, json_is_true(v) ? "true" : json_is_false(v) ? "false" : "null");
		emit_scalar(em, num, strlen(num), YAML_PLAIN_SCALAR_STYLE);
		break;
	}
}

char *codec_yaml(const json_t *v, size_t *len)
{
	struct buf b = {0};
	yaml_emitter_t em;
	yaml_event_t ev;

	if (!yaml_emitter_initialize(&em)) {
		log_error("codec", "yaml emitter: out of memory");
		abort();
	}
	yaml_emitter_set_output(&em, write_buf, &b);
	yaml_emitter_set_indent(&em, 2);
	yaml_emitter_set_width(&em, -1);
	yaml_emitter_set_unicode(&em, 1);
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	emit(&em, &ev);
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	emit(&em, &ev);
	/* emitting only reads v; jansson's iteration wants non-const */
	emit_value(&em, v ? (json_t *)v : json_null());
	yaml_document_end_event_initialize(&ev, 1);
	emit(&em, &ev);
	yaml_stream_end_event_initialize(&ev);
	emit(&em, &ev);
	yaml_emitter_delete(&em);
	/* libyaml ends the stream with "..." after a |+ scalar; at the end of
	 * the stream the marker changes nothing, so drop it */
	if (b.len >= 5 && !memcmp(b.s + b.len - 5, "\n...\n", 5))
		b.s[b.len -= 4] = '\0';
	return buf_steal(&b, len);
}
