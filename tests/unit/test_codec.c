/*
 * test_codec.c - codec_decode() and codec_yaml(): the YAML forms users
 * write, the scalar schema, the limits that keep hostile input cheap,
 * and the round trip decode(yaml(v)) == v.
 *
 * Timing bounds are generous, and stretched under valgrind or by
 * UNIT_TIME_SCALE=N.
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/valid/codec.h"
#include "engine/mem.h"
#include "tests/unit/unit.h"

/* ---- helpers ---- */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A fixed pseudo-random sequence, the same on every run. */
static unsigned int lcg(void)
{
	static unsigned long long x = 88172645463325252ULL;

	x = x * 6364136223846793005ULL + 1442695040888963407ULL;
	return (unsigned int)(x >> 33);
}

/* Decodes s, expecting success and exactly one document: a new reference. */
static json_t *one(const char *s)
{
	json_t **docs;
	size_t n;
	struct err *e = NULL;
	json_t *v = NULL;

	if (codec_decode(s, strlen(s), &docs, &n, &e) < 0) {
		fprintf(stderr, "  decode failed: %s\n", e->msg);
		err_free(e);
		return NULL;
	}
	if (n == 1)
		v = json_incref(docs[0]);
	else
		fprintf(stderr, "  %zu documents, want 1\n", n);
	codec_docs_free(docs, n);
	return v;
}

/* True when YAML y decodes to one document equal to JSON j. */
static bool is(const char *y, const char *j)
{
	json_t *want = json_loads(j, JSON_DECODE_ANY, NULL);
	json_t *got = one(y);
	bool ok = want && got && json_equal(want, got);

	if (!ok && got) {
		char *g = json_dumps(got, JSON_ENCODE_ANY);
		fprintf(stderr, "  %s -> %s, want %s\n", y, g, j);
		free(g);
	}
	json_decref(want);
	json_decref(got);
	return ok;
}

/* True when decoding len bytes at s fails with -code and a message that
 * contains substr. */
static bool fails_n(const char *s, size_t len, int code, const char *substr)
{
	json_t **docs = (json_t **)1;
	size_t n = 1;
	struct err *e = NULL;
	int r = codec_decode(s, len, &docs, &n, &e);
	bool ok = r == -code && e && e->code == code && strstr(e->msg, substr) && !docs && !n;

	if (!ok)
		fprintf(stderr, "  got %d \"%s\", want -%d \"...%s...\"\n", r, e ? e->msg : "",
			code, substr);
	if (r == 0)
		codec_docs_free(docs, n);
	err_free(e);
	return ok;
}

static bool fails(const char *s, int code, const char *substr)
{
	return fails_n(s, strlen(s), code, substr);
}

/* Number of documents s decodes to, or -1. */
static int ndocs(const char *s)
{
	json_t **docs;
	size_t n;

	if (codec_decode(s, strlen(s), &docs, &n, NULL) < 0)
		return -1;
	codec_docs_free(docs, n);
	return (int)n;
}

/* True when codec_yaml(v) decodes back to a value equal to v. */
static bool roundtrip(const json_t *v)
{
	size_t len;
	char *y = codec_yaml(v, &len);
	json_t *back = one(y);
	bool ok = back && json_equal(back, v) && len == strlen(y);

	if (!ok) {
		char *j = json_dumps(v, JSON_ENCODE_ANY);
		fprintf(stderr, "  round trip of %s failed; yaml:\n%s\n", j, y);
		free(j);
	}
	json_decref(back);
	free(y);
	return ok;
}

/* Round-trips s as a sequence item, a mapping value and a mapping key. */
static bool roundtrip_string(const char *s)
{
	json_t *seq = json_pack("[s]", s);
	json_t *val = json_pack("{s:s}", "k", s);
	json_t *key = json_pack("{s:i}", s, 1);
	bool ok = roundtrip(seq) && roundtrip(val) && roundtrip(key);

	json_decref(seq);
	json_decref(val);
	json_decref(key);
	return ok;
}

/* True when codec_yaml(v of JSON j) is exactly text y. */
static bool yaml_is(const char *j, const char *y)
{
	json_t *v = json_loads(j, JSON_DECODE_ANY, NULL);
	char *got = codec_yaml(v, NULL);
	bool ok = strcmp(got, y) == 0;

	if (!ok)
		fprintf(stderr, "  yaml of %s:\n%s---- want:\n%s", j, got, y);
	free(got);
	json_decref(v);
	return ok;
}

static bool contains(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

/* ---- input forms ---- */

static void test_block(void)
{
	CHECK(is("a: 1\n"
		 "b:\n"
		 "  c: x\n"
		 "  d:\n"
		 "  - 1\n"
		 "  - two\n"
		 "  -\n"
		 "    e: f\n"
		 "g: [1]\n",
		 "{\"a\":1,\"b\":{\"c\":\"x\",\"d\":[1,\"two\",{\"e\":\"f\"}]},\"g\":[1]}"));
	CHECK(is("- a\n- - b\n  - c\n", "[\"a\",[\"b\",\"c\"]]"));
	CHECK(is("k:\n", "{\"k\":null}"));
}

static void test_flow(void)
{
	CHECK(is("{a: 1, b: [x, y, {c: d}], e: {}}",
		 "{\"a\":1,\"b\":[\"x\",\"y\",{\"c\":\"d\"}],\"e\":{}}"));
	CHECK(is("[a, [b, [c]], []]", "[\"a\",[\"b\",[\"c\"]],[]]"));
	CHECK(is("[a, b, ]", "[\"a\",\"b\"]"));
}

static void test_json_input(void)
{
	const char *j = "{\"kind\": \"Pod\", \"n\": -3, \"f\": 2.5, \"t\": true, \"z\": null,"
			" \"s\": \"a\\u00e9\\n\\\"\", \"l\": [1, {\"x\": []}]}";

	CHECK(is(j, j));
	CHECK(is("\"just a string\"", "\"just a string\""));
}

static void test_multi_doc(void)
{
	static const char s[] = "a: 1\n---\nb: 2\n...\n---\n- 3\n...\n";
	json_t **docs;
	size_t n;

	CHECK(codec_decode(s, strlen(s), &docs, &n, NULL) == 0);
	CHECK(n == 3);
	if (n == 3) {
		CHECK(json_integer_value(json_object_get(docs[0], "a")) == 1);
		CHECK(json_integer_value(json_object_get(docs[1], "b")) == 2);
		CHECK(json_integer_value(json_array_get(docs[2], 0)) == 3);
	}
	codec_docs_free(docs, n);
	CHECK(ndocs("--- a\n--- b\n--- c\n") == 3);
	CHECK(ndocs("%YAML 1.1\n---\na: 1\n") == 1);
}

static void test_comments(void)
{
	CHECK(is("# head\n"
		 "a: 1 # one\n"
		 "# middle\n"
		 "b: \"x # not a comment\"\n"
		 "c: x#y\n"
		 "d: [1, # in flow\n"
		 "    2]\n",
		 "{\"a\":1,\"b\":\"x # not a comment\",\"c\":\"x#y\",\"d\":[1,2]}"));
}

static void test_empty_docs_skipped(void)
{
	json_t **docs = NULL;
	size_t n = 9;

	CHECK(codec_decode("", 0, &docs, &n, NULL) == 0);
	CHECK(n == 0 && docs != NULL);
	codec_docs_free(docs, n);
	CHECK(ndocs("# only a comment\n") == 0);
	CHECK(ndocs("---\n---\n...\n") == 0);
	CHECK(ndocs("~\n") == 0);
	CHECK(ndocs("null\n--- !!null\n---\n") == 0);
	CHECK(ndocs("---\na: 1\n---\n# nothing\n---\nb: 2\n---\n") == 2);
	/* a document that is the empty string is not null */
	CHECK(ndocs("''\n") == 1);
}

/* ---- scalars ---- */

static void test_null(void)
{
	CHECK(is("- null\n- Null\n- NULL\n- ~\n-\n- nULL\n- 'null'\n- \"~\"\n",
		 "[null,null,null,null,null,\"nULL\",\"null\",\"~\"]"));
	CHECK(is("[null, ~, ]", "[null,null]"));
	CHECK(is("a:\nb: ~\n", "{\"a\":null,\"b\":null}"));
}

static void test_bool(void)
{
	CHECK(is("[true, True, TRUE, false, False, FALSE]", "[true,true,true,false,false,false]"));
	/* YAML 1.1 words are strings under the core schema */
	CHECK(is("[yes, no, on, off, y, n, tRUE, 'true']",
		 "[\"yes\",\"no\",\"on\",\"off\",\"y\",\"n\",\"tRUE\",\"true\"]"));
}

static void test_int(void)
{
	/* 0755 is octal, as in YAML 1.1 and so in Kubernetes (defaultMode) */
	CHECK(is("[0, 12, -12, +12, 0755, 0o17, 0x1F, 0xff, 9223372036854775807, "
		 "-9223372036854775808, 00, 0644, 089]",
		 "[0,12,-12,12,493,15,31,255,9223372036854775807,-9223372036854775808,0,420,89]"));
	/* past int64: a real */
	CHECK(is("[9223372036854775808, 0xFFFFFFFFFFFFFFFFF, 0o7777777777777777777777]",
		 "[9223372036854775808.0, 295147905179352825855.0, 73786976294838206463.0]"));
	/* not integers in the core schema */
	CHECK(is("[1_000, 0b101, 1:20, 0x, 0o8, -0x1, 12abc]",
		 "[\"1_000\",\"0b101\",\"1:20\",\"0x\",\"0o8\",\"-0x1\",\"12abc\"]"));
}

static void test_float(void)
{
	CHECK(is("[1.5, -1.5, +.5, .5, 1., 1e3, 1E-3, 2.5e+2, 0.0, -0.0, 1.0]",
		 "[1.5,-1.5,0.5,0.5,1.0,1000.0,0.001,250.0,0.0,-0.0,1.0]"));
	CHECK(is("[1.2.3, 1e, e3, ., 1.5x, 1e3.5]",
		 "[\"1.2.3\",\"1e\",\"e3\",\".\",\"1.5x\",\"1e3.5\"]"));
}

static void test_inf_nan(void)
{
	/* jansson holds no infinities or NaN: they stay text */
	CHECK(is("[.inf, -.Inf, +.INF, .nan, .NaN, .NAN, 1e999, -1e999]",
		 "[\".inf\",\"-.Inf\",\"+.INF\",\".nan\",\".NaN\",\".NAN\",\"1e999\",\"-1e999\"]"));
	CHECK(is("[.iNf, -.nan]", "[\".iNf\",\"-.nan\"]"));
}

static void test_quoted_vs_plain(void)
{
	CHECK(is("[\"1\", '2', \"true\", 'null', \"\", '', \"1.5\", \"0x10\"]",
		 "[\"1\",\"2\",\"true\",\"null\",\"\",\"\",\"1.5\",\"0x10\"]"));
	CHECK(is("[\"a\\tb\\u263a\\n\", 'it''s', \"\\x41\"]",
		 "[\"a\\tb\\u263a\\n\",\"it's\",\"A\"]"));
	CHECK(is("a: |\n  line 1\n  line 2\nb: >\n  folded\n  text\nc: |-\n  x\nd: |+\n  y\n\n",
		 "{\"a\":\"line 1\\nline 2\\n\",\"b\":\"folded "
		 "text\\n\",\"c\":\"x\",\"d\":\"y\\n\\n\"}"));
	CHECK(is("a: plain  with   spaces\nb: multi\n  line plain\n",
		 "{\"a\":\"plain  with   spaces\",\"b\":\"multi line plain\"}"));
}

static void test_keys_are_strings(void)
{
	CHECK(is("{80: a, true: b, null: c, 1.5: d, ~: e, '': f, 0x1F: g}",
		 "{\"80\":\"a\",\"true\":\"b\",\"null\":\"c\",\"1.5\":\"d\",\"~\":\"e\","
		 "\"\":\"f\",\"0x1F\":\"g\"}"));
	CHECK(is("? complex\n: 1\n", "{\"complex\":1}"));
	/* merge keys are not expanded */
	CHECK(is("a: &x {p: 1}\nb:\n  <<: *x\n  q: 2\n",
		 "{\"a\":{\"p\":1},\"b\":{\"<<\":{\"p\":1},\"q\":2}}"));
}

static void test_tags(void)
{
	CHECK(is("[!!str 1, !!str true, !!str , !!int '12', !!int 0x10, !!float 1, !!float '2.5', "
		 "!!bool 'true', !!null '', !!null ~, !!float .inf]",
		 "[\"1\",\"true\",\"\",12,16,1.0,2.5,true,null,null,\".inf\"]"));
	/* unknown tags keep the untagged value; ! forces a string */
	CHECK(is("[!foo 12, !foo '12', !foo true, ! 12, !!timestamp 2001-12-14, !!map {a: 1}, "
		 "!foo 99999999999999999999]",
		 "[12,\"12\",true,\"12\",\"2001-12-14\",{\"a\":1},99999999999999999999.0]"));
	CHECK(fails("!!int abc", EINVAL, "line 1 column 1: cannot read \"abc\" as"));
	CHECK(fails("a: !!int 1.5", EINVAL, "as tag:yaml.org,2002:int"));
	CHECK(fails("- !!int 99999999999999999999", EINVAL, "cannot read"));
	CHECK(fails("- !!bool yes", EINVAL, "cannot read"));
	CHECK(fails("- !!null 0", EINVAL, "cannot read"));
	CHECK(fails("- !!float x", EINVAL, "cannot read"));
}

/* ---- anchors and aliases ---- */

static void test_anchors(void)
{
	CHECK(is("a: &x {k: [1, 2]}\nb: *x\nc: &s str\nd: *s\ne: [*x, *s]\n",
		 "{\"a\":{\"k\":[1,2]},\"b\":{\"k\":[1,2]},\"c\":\"str\",\"d\":\"str\","
		 "\"e\":[{\"k\":[1,2]},\"str\"]}"));
	/* an alias as a key uses the scalar's text; an anchored key is a value too */
	CHECK(is("- &k 80\n- {*k : x}\n- {&j 7: y, z: *j}\n",
		 "[80,{\"80\":\"x\"},{\"7\":\"y\",\"z\":7}]"));
	/* a redefined anchor means its latest value */
	CHECK(is("[&a 1, *a, &a 2, *a]", "[1,1,2,2]"));
	CHECK(fails("a: *nope\n", EINVAL, "line 1 column 4: unknown alias \"nope\""));
	/* no recursion: an anchor is not defined inside its own node */
	CHECK(fails("a: &r [1, *r]\n", EINVAL, "unknown alias"));
	/* anchors do not reach into later documents */
	CHECK(fails("a: &x 1\n---\nb: *x\n", EINVAL, "unknown alias"));
	CHECK(fails("a: &m {x: 1}\n*m : 2\n", EINVAL, "mapping key must be a scalar"));
}

static void test_alias_copies_independent(void)
{
	json_t *v = one("base: &b {labels: {app: web}, ports: [80]}\ncopy: *b\n");

	CHECK(v != NULL);
	if (!v)
		return;
	json_t *base = json_object_get(v, "base"), *copy = json_object_get(v, "copy");
	CHECK(base != copy);
	CHECK(json_object_get(base, "labels") != json_object_get(copy, "labels"));
	json_object_set_new(json_object_get(copy, "labels"), "tier", json_string("db"));
	json_array_append_new(json_object_get(copy, "ports"), json_integer(443));
	json_object_set_new(copy, "extra", json_true());
	CHECK(json_object_size(json_object_get(base, "labels")) == 1);
	CHECK(json_array_size(json_object_get(base, "ports")) == 1);
	CHECK(json_object_get(base, "extra") == NULL);
	CHECK(json_object_size(json_object_get(copy, "labels")) == 2);
	json_decref(v);
}

/* ---- malformed input ---- */

static void test_duplicate_keys(void)
{
	CHECK(fails("a: 1\nb: 2\na: 3\n", EINVAL, "line 3 column 1: duplicate key \"a\""));
	CHECK(fails("{x: 1, 'x': 2}", EINVAL, "duplicate key"));
	CHECK(fails("{80: 1, \"80\": 2}", EINVAL, "duplicate key"));
	CHECK(fails("- &k a\n- {a: 1, *k : 2}\n", EINVAL, "duplicate key"));
	/* same key in different mappings is fine */
	CHECK(is("[{a: 1}, {a: 2}]", "[{\"a\":1},{\"a\":2}]"));
}

static void test_nonscalar_key(void)
{
	CHECK(fails("? [a, b]\n: 1\n", EINVAL, "line 1 column 3: mapping key must be a scalar"));
	CHECK(fails("{{a: 1}: 2}", EINVAL, "mapping key must be a scalar"));
	CHECK(fails("[a]: 1\n", EINVAL, "mapping key must be a scalar"));
}

static void test_malformed(void)
{
	CHECK(fails("a: 1\n b: 2\n", EINVAL, "yaml: line 2 column 3: mapping values are not"));
	CHECK(fails("a: [1, 2\nb: 3\n", EINVAL, "yaml: line "));
	CHECK(fails("a: \"unterminated\n", EINVAL, "yaml: line 2"));
	CHECK(fails("key: value\n\tbad: tab\n", EINVAL, "yaml: line 2"));
	CHECK(fails("a: b: c\n", EINVAL, "line 1 column 5"));
	CHECK(fails("- a\nb: c\n", EINVAL, "yaml: line 2"));
	CHECK(fails("a: \"\\q\"\n", EINVAL, "unknown escape"));
	/* a control character libyaml refuses: position from the byte offset */
	CHECK(fails("a: 1\nb: x\x01y\n", EINVAL, "yaml: line 2 column 5: control characters"));
}

static void test_nul_byte(void)
{
	static const char s[] = "a: 1\nb: x\0y\n";

	CHECK(fails_n(s, sizeof(s) - 1, EINVAL, "line 2 column 5: NUL byte"));
	CHECK(fails_n("\0", 1, EINVAL, "NUL"));
	/* an escaped NUL would give a string no C caller can hold */
	CHECK(fails("a: \"x\\0y\"\n", EINVAL, "NUL character"));
}

static void test_invalid_utf8(void)
{
	CHECK(fails("a: \xff\n", EINVAL, "line 1 column 4: invalid UTF-8"));
	CHECK(fails("a: h\xc3\xa9\nb: \xc0\xaf\n", EINVAL, "line 2 column 4: invalid UTF-8"));
	CHECK(fails("a: \xed\xa0\x80\n", EINVAL, "invalid UTF-8"));	/* surrogate */
	CHECK(fails("a: \xf4\x90\x80\x80\n", EINVAL, "invalid UTF-8")); /* > U+10FFFF */
	CHECK(fails("a: \xe2\x82", EINVAL, "invalid UTF-8"));		/* cut short */
	CHECK(fails("\xff\xfe"
		    "a\0",
		    EINVAL, "invalid UTF-8"));			/* UTF-16 BOM */
	CHECK(fails("# \xe9t\xe9\n", EINVAL, "invalid UTF-8")); /* latin-1 comment */
	CHECK(is("\xef\xbb\xbf"
		 "a: h\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x98\x80\n",
		 "{\"a\":\"h\\u00e9 \\u2603 \\ud83d\\ude00\"}"));
}

/* ---- limits ---- */

static void test_too_big(void)
{
	size_t n = CODEC_MAX_BYTES + 1;
	char *s = xmalloc(n + 1);
	json_t **docs;
	size_t nd;

	/* a valid document just past the limit, and one just within it */
	memcpy(s, "s: ", 3);
	memset(s + 3, 'x', n - 3);
	s[n] = '\0';
	CHECK(fails_n(s, n, EFBIG, "limit"));
	/* checked before anything is read: a NUL past the limit is not reported */
	s[10] = '\0';
	CHECK(fails_n(s, n, EFBIG, "limit"));
	s[10] = 'x';
	CHECK(codec_decode(s, n - 1, &docs, &nd, NULL) == 0 && nd == 1);
	if (nd == 1)
		CHECK(json_string_length(json_object_get(docs[0], "s")) == n - 4);
	codec_docs_free(docs, nd);
	free(s);
}

static void test_billion_laughs(void)
{
	static const char lol[] = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
				  "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
				  "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
				  "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
				  "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
				  "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
				  "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
				  "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
				  "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
	double t0 = now_ms();

	CHECK(fails(lol, EFBIG, "aliases expand past"));
	double ms = now_ms() - t0;
	printf("  billion laughs refused in %.1f ms\n", ms);
	/* the same shape, small enough, is accepted */
	CHECK(ndocs("a: &a [lol, lol, lol]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n") == 1);
}

/* Builds a string of count copies of unit between head and tail. */
static char *repeat(const char *head, const char *unit, size_t count, const char *tail)
{
	struct buf b = {0};

	buf_puts(&b, head);
	for (size_t i = 0; i < count; i++)
		buf_puts(&b, unit);
	buf_puts(&b, tail);
	return buf_steal(&b, NULL);
}

static void test_deep_flow(void)
{
	char *s = repeat("", "[", 20000, "");
	double t0 = now_ms();

	CHECK(fails(s, EINVAL, "nesting deeper than 100"));
	double ms = now_ms() - t0;
	printf("  20000 nested [ refused in %.1f ms\n", ms);
	free(s);
	s = repeat("", "{a: ", 20000, "");
	CHECK(fails(s, EINVAL, "nesting deeper than 100"));
	free(s);
}

static void test_deep_block(void)
{
	char *s = repeat("", "- ", 20000, "x\n");
	double t0 = now_ms();

	CHECK(fails(s, EINVAL, "nesting deeper than 100"));
	double ms = now_ms() - t0;
	printf("  20000 nested - refused in %.1f ms\n", ms);
	free(s);
}

/* Nested block mappings, one level per line: depth levels deep. */
static char *nested_map(int depth)
{
	struct buf b = {0};

	for (int i = 0; i < depth; i++)
		buf_printf(&b, "%*sk%d:\n", i, "", i);
	buf_printf(&b, "%*sv\n", depth, "");
	return buf_steal(&b, NULL);
}

static void test_depth_at_limit(void)
{
	char *s = repeat("", "[", CODEC_MAX_DEPTH, "");
	char *t = repeat(s, "]", CODEC_MAX_DEPTH, "");
	json_t *v = one(t);

	CHECK(v != NULL);
	if (v) {
		/* and what is accepted is written back the same */
		CHECK(roundtrip(v));
		json_decref(v);
	}
	free(s);
	free(t);
	s = repeat("", "[", CODEC_MAX_DEPTH + 1, "");
	t = repeat(s, "]", CODEC_MAX_DEPTH + 1, "");
	CHECK(fails(t, EINVAL, "nesting deeper than 100"));
	free(s);
	free(t);
	s = repeat("", "- ", CODEC_MAX_DEPTH, "x\n");
	CHECK(ndocs(s) == 1);
	free(s);
	s = repeat("", "- ", CODEC_MAX_DEPTH + 1, "x\n");
	CHECK(fails(s, EINVAL, "nesting deeper"));
	free(s);
	s = nested_map(CODEC_MAX_DEPTH);
	CHECK(ndocs(s) == 1);
	free(s);
	s = nested_map(CODEC_MAX_DEPTH + 1);
	CHECK(fails(s, EINVAL, "nesting deeper"));
	free(s);
}

static void test_alias_depth(void)
{
	/* an alias can't carry a deep value past the limit either */
	char *open = repeat("a: &d ", "[", CODEC_MAX_DEPTH - 1, "");
	char *s = repeat(open, "]", CODEC_MAX_DEPTH - 1, "\nb: *d\n");
	char *t = repeat(open, "]", CODEC_MAX_DEPTH - 1, "\nb: *d\nc: [*d]\n");

	CHECK(ndocs(s) == 1);
	CHECK(fails(t, EINVAL, "nesting deeper than 100"));
	free(open);
	free(s);
	free(t);
}

static void test_node_limit(void)
{
	/* no aliases: 200000 items plus the sequence is one too many */
	char *s = repeat("[", "0,", CODEC_MAX_NODES, "]");
	char *t = repeat("[", "0,", CODEC_MAX_NODES - 1, "]");

	CHECK(fails(s, EFBIG, "too many nodes"));
	CHECK(ndocs(t) == 1);
	free(s);
	free(t);
	/* counted per stream, not per document */
	t = repeat("[", "0,", 999, "0]\n---\n");
	s = repeat("", t, CODEC_MAX_NODES / 1001 + 1, "");
	CHECK(fails(s, EFBIG, "too many nodes"));
	free(s);
	free(t);
}

static void test_doc_limit(void)
{
	char *s = repeat("", "--- 1\n", CODEC_MAX_DOCS, "");
	char *t = repeat("", "--- 1\n", CODEC_MAX_DOCS + 1, "");

	CHECK(ndocs(s) == CODEC_MAX_DOCS);
	CHECK(fails(t, EINVAL, "more than 1000 documents"));
	free(s);
	free(t);
}

/* ---- encoding ---- */

static void test_yaml_style(void)
{
	CHECK(yaml_is("{\"a\":1,\"b\":{\"c\":[1,\"x\",{\"d\":true}],\"e\":{},\"f\":[]},\"g\":null}",
		      "a: 1\n"
		      "b:\n"
		      "  c:\n"
		      "  - 1\n"
		      "  - x\n"
		      "  - d: true\n"
		      "  e: {}\n"
		      "  f: []\n"
		      "g: null\n"));
	/* insertion order, not sorted */
	CHECK(yaml_is("{\"z\":1,\"a\":2,\"m\":3}", "z: 1\na: 2\nm: 3\n"));
	CHECK(yaml_is("{\"80\":\"yes\",\"true\":\"0755\",\"k\":\"\",\"m\":\"null\"}",
		      "\"80\": \"yes\"\n\"true\": \"0755\"\nk: \"\"\nm: \"null\"\n"));
	CHECK(yaml_is("{\"s\":\"line 1\\nline 2\\n\",\"t\":\"x\\ny\"}",
		      "s: |\n  line 1\n  line 2\nt: |-\n  x\n  y\n"));
	/* trailing space on a line: literal would lose it, so quoted */
	CHECK(yaml_is("[\"a \\nb\"]", "- \"a \\nb\"\n"));
	CHECK(yaml_is("[1.0,0.1,1000.0,1e20,-2.5e-7,3]",
		      "- 1.0\n- 0.1\n- 1000.0\n- 1.0e+20\n- -2.5e-07\n- 3\n"));
	CHECK(yaml_is("[\"h\\u00e9llo \\u2603\"]", "- h\xc3\xa9llo \xe2\x98\x83\n"));
	CHECK(yaml_is("\"x\"", "x\n"));
	CHECK(yaml_is("{}", "{}\n"));
	CHECK(yaml_is("[]", "[]\n"));
	/* no "..." after a keep-chomped block at the end */
	CHECK(yaml_is("{\"k\":\"a\\n\\n\"}", "k: |+\n  a\n\n"));

	/* no line wrapping however long */
	char *lng = repeat("", "word ", 200, "end");
	json_t *v = json_pack("{s:s}", "k", lng);
	size_t len;
	char *y = codec_yaml(v, &len);
	CHECK(len == strlen(lng) + 4 && strchr(y, '\n') == y + len - 1);
	free(y);
	json_decref(v);
	free(lng);

	y = codec_yaml(NULL, NULL);
	CHECK(strcmp(y, "null\n") == 0);
	free(y);
}

static void test_yaml_quoting(void)
{
	/* strings that must not be written plain */
	static const char *const quoted[] = {
	    "",	   "null", "Null",  "~",       "true", "False",	   "yes",  "No",    "ON",
	    "off", "y",	   "N",	    "1",       "-1",   "+1",	   "0755", "1_000", "1:20",
	    ".5",  "1e3",  "1.0",   "0x1F",    "0o17", "0b11",	   ".inf", "-.inf", ".NaN",
	    "-",   "?",	   ":",	    " x",      "x ",   "a: b",	   "x #y", "#x",    "@",
	    "%x",  "`x",   "!x",    "&x",      "*x",   "|",	   ">",	   "'",	    "\"",
	    "[",   "]",	   "{",	    "}",       ",",    "a:",	   "=",	   "<<",    "2001-12-14",
	    "...", "---",  "1.2.3", "tab\tin", "\x7f", "\xc2\x85",
	};
	for (size_t i = 0; i < sizeof(quoted) / sizeof(quoted[0]); i++) {
		json_t *v = json_pack("[s]", quoted[i]);
		char *y = codec_yaml(v, NULL);
		bool ok = y[2] == '"' || y[2] == '\'';
		if (!ok)
			fprintf(stderr, "  %s written plain: %s", quoted[i], y);
		CHECK(ok);
		free(y);
		json_decref(v);
	}
	/* and strings that read fine plain stay plain */
	static const char *const plain[] = {
	    "x",   "web", "nginx:1.25",	    "a-b",     "500m",	"64Mi",	 "/healthz", "a b",
	    "x#y", "a:b", "http://x/y?z=1", "héllo ☃", "yesno", "nully", "e3",	     ".git",
	    "25%",
	};
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		json_t *v = json_pack("[s]", plain[i]);
		char *y = codec_yaml(v, NULL);
		bool ok = strncmp(y + 2, plain[i], strlen(plain[i])) == 0;
		if (!ok)
			fprintf(stderr, "  %s not written plain: %s", plain[i], y);
		CHECK(ok);
		free(y);
		json_decref(v);
	}
}

/* ---- round trips ---- */

static void test_roundtrip_strings(void)
{
	static const char *const strs[] = {
	    "yes",
	    "no",
	    "0755",
	    "1e3",
	    "-",
	    " x",
	    "x ",
	    "a: b",
	    "#x",
	    "",
	    "null",
	    "~",
	    "@",
	    "%x",
	    "héllo ☃",
	    "true",
	    "1",
	    "-1.5",
	    ".inf",
	    ".nan",
	    "1e999",
	    "a\nb",
	    "a\nb\n",
	    "a\n\n",
	    "\n",
	    "\n\n",
	    "\nx",
	    " lead\nx",
	    "x\n ",
	    "a \nb",
	    "\ta",
	    "a\tb\n",
	    "\r\n",
	    "a\rb",
	    "\xc2\x85",
	    "\xe2\x80\xa8",
	    "\xef\xbb\xbfx",
	    "\x01",
	    "\x7f",
	    "😀",
	    "a😀\nb",
	    "'",
	    "\"",
	    "'x'",
	    "\"x\"",
	    "\\",
	    "a\\nb",
	    "- x",
	    "? x",
	    ": x",
	    "x:",
	    "x: ",
	    "key: |",
	    "---",
	    "...",
	    "--- x",
	    "... x",
	    "<<",
	    "=",
	    "1:20",
	    "0x",
	    "0o",
	    "2001-12-14",
	    "[a, b]",
	    "{a: b}",
	    "*a",
	    "&a",
	    "!tag",
	    "|",
	    "|-",
	    ">",
	    "a #b",
	    "a# b",
	    "  ",
	    " ",
	    "\t",
	    "x\n  y\n",
	    "  x\n  y",
	    "line\n\n\nline\n\n",
	};
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
		bool ok = roundtrip_string(strs[i]);
		if (!ok)
			fprintf(stderr, "  string #%zu failed\n", i);
		CHECK(ok);
	}
	/* long strings, with and without newlines, long keys */
	char *lng = repeat("", "abcdefghij ", 1000, "z");
	char *lines = repeat("", "a line of text\n", 500, "");
	CHECK(roundtrip_string(lng));
	CHECK(roundtrip_string(lines));
	free(lng);
	free(lines);
}

/* Strings glued from pieces YAML cares about, round-tripped in every
 * position. */
static void test_roundtrip_random_strings(void)
{
	static const char *const piece[] = {
	    "a",  "b", " ", "\n", "-",	 ":",	"#",	"'",	"\"", "?",  "[",	"]",
	    "{",  "}", ",", "&",  "*",	 "!",	"|",	">",	"%",  "@",  "`",	"0",
	    "1",  ".", "e", "+",  "~",	 "\t",	"\\",	"é",	"☃",  "😀",  "y",	"n",
	    "\r", "_", "=", "<",  "---", "...", "null", "true", ": ", " #", "\xc2\x85",
	};
	int bad = 0;

	for (int it = 0; it < 5000; it++) {
		char s[256] = "";
		for (unsigned int i = 0, len = lcg() % 8; i < len; i++)
			strcat(s, piece[lcg() % (sizeof(piece) / sizeof(piece[0]))]);
		if (!roundtrip_string(s) && bad++ < 5)
			fprintf(stderr, "  random string failed: \"%s\"\n", s);
	}
	CHECK(bad == 0);
}

/* Whatever decodes from random token soup must round-trip too. */
static void test_roundtrip_random_docs(void)
{
	static const char *const tok[] = {
	    "a",      "b",	  " ",	  "\n",	  "- ",	  ": ",	  "#",	"'",	 "\"",	  "? ",
	    "[",      "]",	  "{",	  "}",	  ", ",	  "&x ",  "*x", "&y ",	 "*y",	  "!!str ",
	    "!!int ", "!!float ", "! ",	  "|\n",  "|-\n", ">\n",  "0",	"1",	 ".5",	  "1e3",
	    "0x1F",   "~",	  "null", "true", "yes",  "\n  ", "é",	"---\n", "...\n", "<<: ",
	};
	int decoded = 0, bad = 0;

	for (int it = 0; it < 20000; it++) {
		char s[512] = "";
		json_t **docs;
		size_t n;
		for (unsigned int i = 0, len = lcg() % 24; i < len; i++)
			strcat(s, tok[lcg() % (sizeof(tok) / sizeof(tok[0]))]);
		if (codec_decode(s, strlen(s), &docs, &n, NULL) < 0)
			continue;
		decoded++;
		for (size_t i = 0; i < n; i++)
			if (!roundtrip(docs[i]) && bad++ < 5)
				fprintf(stderr, "  from random input: \"%s\"\n", s);
		codec_docs_free(docs, n);
	}
	printf("  %d of 20000 random inputs decoded\n", decoded);
	CHECK(decoded > 1000);
	CHECK(bad == 0);
}

static void test_roundtrip_values(void)
{
	static const char *const vals[] = {
	    "0",
	    "-9223372036854775808",
	    "9223372036854775807",
	    "0.0",
	    "-0.0",
	    "1.0",
	    "0.1",
	    "3.141592653589793",
	    "1e-300",
	    "5e-324",
	    "1.7976931348623157e308",
	    "12345678901234567890.0",
	    "true",
	    "false",
	    "null",
	    "{}",
	    "[]",
	    "[[]]",
	    "[{}]",
	    "{\"a\":{}}",
	    "{\"a\":[[1,2],[3,[4,{\"b\":[]}]]]}",
	    "[null,null]",
	    "{\"a\":null,\"b\":[null]}",
	};
	for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
		json_t *v = json_loads(vals[i], JSON_DECODE_ANY, NULL);
		json_t *seq = json_pack("[O]", v);
		json_t *map = json_pack("{s:O}", "k", v);
		CHECK(v != NULL);
		CHECK(roundtrip(seq));
		CHECK(roundtrip(map));
		if (!json_is_null(v))
			CHECK(roundtrip(v));
		json_decref(v);
		json_decref(seq);
		json_decref(map);
	}
	/* many random-ish reals */
	json_t *arr = json_array();
	double x = 1.0;
	for (int i = 0; i < 2000; i++) {
		x = x * 1.37 + 0.123456789 * (i % 7) - (i % 3 ? 0 : x * 0.9);
		json_array_append_new(arr, json_real(i % 2 ? x : -x / (i + 1)));
	}
	CHECK(roundtrip(arr));
	json_decref(arr);
}

static const char deployment[] = "apiVersion: apps/v1\n"
				 "kind: Deployment\n"
				 "metadata:\n"
				 "  name: web\n"
				 "  namespace: default\n"
				 "  labels:\n"
				 "    app: web\n"
				 "    tier: \"frontend\"\n"
				 "  annotations:\n"
				 "    deployment.kubernetes.io/revision: \"3\"\n"
				 "    note: yes\n"
				 "spec:\n"
				 "  replicas: 3\n"
				 "  selector:\n"
				 "    matchLabels:\n"
				 "      app: web\n"
				 "  strategy:\n"
				 "    type: RollingUpdate\n"
				 "    rollingUpdate:\n"
				 "      maxSurge: 25%\n"
				 "      maxUnavailable: 0\n"
				 "  template:\n"
				 "    metadata:\n"
				 "      labels:\n"
				 "        app: web\n"
				 "    spec:\n"
				 "      containers:\n"
				 "      - name: nginx\n"
				 "        image: nginx:1.25\n"
				 "        args: [\"--port\", \"8080\", \"-v\"]\n"
				 "        command:\n"
				 "          - /bin/sh\n"
				 "          - -c\n"
				 "          - |\n"
				 "            echo starting\n"
				 "            exec nginx -g 'daemon off;'\n"
				 "        ports:\n"
				 "        - containerPort: 8080\n"
				 "          protocol: TCP\n"
				 "        env:\n"
				 "        - name: MODE\n"
				 "          value: \"on\"\n"
				 "        - name: UMASK\n"
				 "          value: \"0755\"\n"
				 "        - name: EMPTY\n"
				 "          value: \"\"\n"
				 "        - name: RATIO\n"
				 "          value: \"1e3\"\n"
				 "        - name: GREETING\n"
				 "          value: h\xc3\xa9llo \xe2\x98\x83\n"
				 "        resources:\n"
				 "          limits: {cpu: 500m, memory: 128Mi}\n"
				 "          requests:\n"
				 "            cpu: 0.25\n"
				 "            memory: 64Mi\n"
				 "        livenessProbe:\n"
				 "          httpGet: {path: /healthz, port: 8080, scheme: HTTP}\n"
				 "          initialDelaySeconds: 5\n"
				 "          periodSeconds: 10\n"
				 "          failureThreshold: 3\n"
				 "        readinessProbe:\n"
				 "          exec:\n"
				 "            command: [cat, /tmp/ready]\n"
				 "      nodeSelector: {}\n"
				 "      tolerations: []\n"
				 "      terminationGracePeriodSeconds: 30\n";

static const char service_and_configmap[] =
    "# two objects in one file\n"
    "apiVersion: v1\n"
    "kind: Service\n"
    "metadata:\n"
    "  name: web\n"
    "spec:\n"
    "  type: ClusterIP\n"
    "  selector: {app: web}\n"
    "  ports:\n"
    "  - name: http\n"
    "    port: 80\n"
    "    targetPort: 8080\n"
    "    protocol: TCP\n"
    "---\n"
    "apiVersion: v1\n"
    "kind: ConfigMap\n"
    "metadata:\n"
    "  name: settings\n"
    "data:\n"
    "  \"80\": port\n"
    "  \"true\": \"false\"\n"
    "  app.properties: |\n"
    "    color=blue\n"
    "    size: large\n"
    "    # a comment inside the file\n"
    "\n"
    "    last=1\n"
    "  trailing.txt: \"ends with spaces   \\nnext  \\n\"\n"
    "  indented.txt: \"  starts indented\\n  and stays\\n\"\n"
    "  nginx.conf: |-\n"
    "    server {\n"
    "      listen 80;\n"
    "    }\n"
    "  script.sh: |+\n"
    "    #!/bin/sh\n"
    "    echo hi\n"
    "\n"
    "  tabbed: \"a\\tb\\n\"\n"
    "  empty: \"\"\n"
    "  nothing:\n"
    "  long: \"" /* one long line */
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    " bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
    " cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc\"\n"
    "...\n";

static void test_roundtrip_manifests(void)
{
	json_t **docs;
	size_t n;
	struct err *e = NULL;

	CHECK(codec_decode(deployment, strlen(deployment), &docs, &n, &e) == 0 && n == 1);
	if (n == 1) {
		json_t *spec = json_object_get(docs[0], "spec");
		json_t *c = json_array_get(
		    json_object_get(json_object_get(json_object_get(spec, "template"), "spec"),
				    "containers"),
		    0);
		CHECK(json_integer_value(json_object_get(spec, "replicas")) == 3);
		CHECK(json_is_real(json_object_get(
		    json_object_get(json_object_get(c, "resources"), "requests"), "cpu")));
		CHECK(strcmp(json_string_value(json_object_get(
				 json_array_get(json_object_get(c, "env"), 1), "value")),
			     "0755") == 0);
		CHECK(roundtrip(docs[0]));
		char *y = codec_yaml(docs[0], NULL);
		CHECK(contains(y, "\n      containers:\n      - name: nginx\n"));
		CHECK(contains(y, "\n          value: \"on\"\n"));
		CHECK(contains(y, "\n          value: \"0755\"\n"));
		CHECK(contains(y, "\n    note: \"yes\"\n"));
		CHECK(contains(y, "\n        - |\n          echo starting\n"));
		CHECK(contains(y, "\n            cpu: 0.25\n"));
		CHECK(contains(y, "\n      nodeSelector: {}\n      tolerations: []\n"));
		CHECK(strncmp(y, "apiVersion: apps/v1\n", 20) == 0);
		free(y);
	}
	codec_docs_free(docs, n);

	CHECK(codec_decode(service_and_configmap, strlen(service_and_configmap), &docs, &n, &e) ==
		  0 &&
	      n == 2);
	if (n == 2) {
		json_t *data = json_object_get(docs[1], "data");
		CHECK(json_integer_value(json_object_get(
			  json_array_get(json_object_get(json_object_get(docs[0], "spec"), "ports"),
					 0),
			  "port")) == 80);
		CHECK(strcmp(json_string_value(json_object_get(data, "80")), "port") == 0);
		CHECK(strcmp(json_string_value(json_object_get(data, "true")), "false") == 0);
		CHECK(strcmp(json_string_value(json_object_get(data, "app.properties")),
			     "color=blue\nsize: large\n# a comment inside the file\n\nlast=1\n") ==
		      0);
		CHECK(strcmp(json_string_value(json_object_get(data, "script.sh")),
			     "#!/bin/sh\necho hi\n\n") == 0);
		CHECK(json_is_null(json_object_get(data, "nothing")));
		CHECK(roundtrip(docs[0]));
		CHECK(roundtrip(docs[1]));
		char *y = codec_yaml(docs[1], NULL);
		CHECK(
		    contains(y, "\n  \"80\": port\n  \"true\": \"false\"\n  app.properties: |\n"));
		free(y);
	}
	codec_docs_free(docs, n);
	err_free(e);
}

int main(void)
{
	RUN(test_block);
	RUN(test_flow);
	RUN(test_json_input);
	RUN(test_multi_doc);
	RUN(test_comments);
	RUN(test_empty_docs_skipped);
	RUN(test_null);
	RUN(test_bool);
	RUN(test_int);
	RUN(test_float);
	RUN(test_inf_nan);
	RUN(test_quoted_vs_plain);
	RUN(test_keys_are_strings);
	RUN(test_tags);
	RUN(test_anchors);
	RUN(test_alias_copies_independent);
	RUN(test_duplicate_keys);
	RUN(test_nonscalar_key);
	RUN(test_malformed);
	RUN(test_nul_byte);
	RUN(test_invalid_utf8);
	RUN(test_too_big);
	RUN(test_billion_laughs);
	RUN(test_deep_flow);
	RUN(test_deep_block);
	RUN(test_depth_at_limit);
	RUN(test_alias_depth);
	RUN(test_node_limit);
	RUN(test_doc_limit);
	RUN(test_yaml_style);
	RUN(test_yaml_quoting);
	RUN(test_roundtrip_strings);
	RUN(test_roundtrip_random_strings);
	RUN(test_roundtrip_random_docs);
	RUN(test_roundtrip_values);
	RUN(test_roundtrip_manifests);
	return unit_done();
}
