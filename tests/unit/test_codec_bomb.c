/*
 * test_codec_bomb.c - the YAML decoder's byte budget: 1 MiB alias bombs
 * of every shape (long strings, wide, deep, many small aliases, aliased
 * keys, many mid-size anchors) are refused with EFBIG and a reason, each
 * in well under a second with the process's peak RSS growing by less
 * than 64 MiB; input without aliases up to the size limit is never
 * refused by the budget; and a jansson allocation that fails at any
 * point of a decode makes the decode fail, never a shortened document.
 *
 * Timing bounds are stretched by UNIT_TIME_SCALE=N (valgrind, ASan).
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine/mem.h"
#include "engine/valid/codec.h"
#include "tests/unit/unit.h"

#define BOMB_BYTES (1024 * 1024 - 4096) /* just under CODEC_MAX_BYTES */

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double time_scale(void)
{
	const char *s = getenv("UNIT_TIME_SCALE");
	return s && atof(s) > 0 ? atof(s) : 1;
}

/* The process's resident set in KiB: now (VmRSS) or its peak (VmHWM). */
static long rss_kib(const char *field)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, field, strlen(field)))
			v = atol(line + strlen(field) + 1);
	fclose(f);
	return v;
}

/* Resets VmHWM to the current RSS (Linux 4.0 and later). */
static void reset_peak(void)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");

	if (f) {
		fputs("5", f);
		fclose(f);
	}
}

/* A Pod manifest's head, the bomb going in its annotations. */
static void head(struct buf *b)
{
	buf_puts(b, "apiVersion: v1\nkind: Pod\nmetadata:\n  name: bomb\n  annotations:\n");
}

/* Appends `unit` until b holds about BOMB_BYTES, then `tail`. */
static void fill(struct buf *b, const char *unit, const char *tail)
{
	while (b->len + strlen(unit) + strlen(tail) < BOMB_BYTES)
		buf_puts(b, unit);
	buf_puts(b, tail);
}

/* A 256 KiB string anchored, then aliased as often as 1 MiB holds. */
static char *bomb_long(void)
{
	struct buf b = {0};

	head(&b);
	buf_puts(&b, "    a: &a \"");
	for (int i = 0; i < 256 * 1024; i++)
		buf_add(&b, "x", 1);
	buf_puts(&b, "\"\n    b: [*a");
	fill(&b, ", *a", "]\n");
	return buf_steal(&b, NULL);
}

/* Billion laughs: nine levels of nine, then the top aliased on and on. */
static char *bomb_wide(void)
{
	struct buf b = {0};

	head(&b);
	buf_puts(&b, "    l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
	for (int i = 1; i < 9; i++) {
		buf_printf(&b, "    l%d: &l%d [", i, i);
		for (int j = 0; j < 9; j++)
			buf_printf(&b, "%s*l%d", j ? ", " : "", i - 1);
		buf_puts(&b, "]\n");
	}
	buf_puts(&b, "    top: [*l8");
	fill(&b, ", *l8", "]\n");
	return buf_steal(&b, NULL);
}

/* Each level two aliases of the one before, 60 levels (depth < 100). */
static char *bomb_deep(void)
{
	struct buf b = {0};

	head(&b);
	buf_puts(&b, "    d0: &d0 [xxxxxxxx]\n");
	for (int i = 1; i < 60; i++)
		buf_printf(&b, "    d%d: &d%d [*d%d, *d%d]\n", i, i, i - 1, i - 1);
	fill(&b, "#", "\n");
	return buf_steal(&b, NULL);
}

/* One short scalar, aliased a quarter of a million times. */
static char *bomb_small(void)
{
	struct buf b = {0};

	head(&b);
	buf_puts(&b, "    a: &a x\n    b: [*a");
	fill(&b, ",*a", "]\n");
	return buf_steal(&b, NULL);
}

/* A 64 KiB key, aliased as the key of many one-entry mappings. */
static char *bomb_keys(void)
{
	struct buf b = {0};

	head(&b);
	buf_puts(&b, "    k: [&k ");
	for (int i = 0; i < 64 * 1024; i++)
		buf_add(&b, "k", 1);
	buf_puts(&b, "]\n    m: [{*k : 1}");
	fill(&b, ", {*k : 1}", "]\n");
	return buf_steal(&b, NULL);
}

/* A thousand 512-byte anchors, each aliased ten times. */
static char *bomb_many(void)
{
	struct buf b = {0};
	char s[513];

	memset(s, 'm', 512);
	s[512] = '\0';
	head(&b);
	for (int i = 0; i < 1000; i++) {
		buf_printf(&b, "    a%d: &a%d %s\n", i, i, s);
		buf_printf(&b, "    b%d: [", i);
		for (int j = 0; j < 10; j++)
			buf_printf(&b, "%s*a%d", j ? ", " : "", i);
		buf_puts(&b, "]\n");
	}
	return buf_steal(&b, NULL);
}

/* Decodes a bomb: refused with EFBIG and a reason, fast, small. */
static void refused(const char *name, char *s, const char *reason)
{
	size_t len = strlen(s);
	json_t **docs = NULL;
	size_t n = 0;
	struct err *e = NULL;

	reset_peak();
	long rss0 = rss_kib("VmRSS:");
	double t0 = now_ms();
	int r = codec_decode(s, len, &docs, &n, &e);
	double ms = now_ms() - t0;
	long grew = rss_kib("VmHWM:") - rss0;

	printf("  %-6s %7zu bytes: %s in %.1f ms, peak RSS +%ld KiB: %s\n", name, len,
	       r == -EFBIG ? "refused" : "NOT refused", ms, grew, e ? e->msg : "(no error)");
	CHECK(r == -EFBIG);
	CHECK(e && strstr(e->msg, reason));
	CHECK(ms < 1000 * time_scale());
	CHECK(grew < 64 * 1024);
	if (r == 0)
		codec_docs_free(docs, n);
	err_free(e);
	free(s);
}

static void test_bombs(void)
{
	refused("long", bomb_long(), "aliases expand past");
	refused("wide", bomb_wide(), "alias"); /* nodes or bytes, whichever first */
	refused("deep", bomb_deep(), "alias");
	refused("small", bomb_small(), "too many nodes");
	refused("keys", bomb_keys(), "aliases expand past");
	refused("many", bomb_many(), "aliases expand past");
}

/* Decodes s; 0 and one document, or the negative errno. */
static int decode1(const char *s, size_t len, json_t **out)
{
	json_t **docs;
	size_t n;
	int r = codec_decode(s, len, &docs, &n, NULL);

	*out = NULL;
	if (r < 0)
		return r;
	if (n == 1)
		*out = json_incref(docs[0]);
	codec_docs_free(docs, n);
	return n == 1 ? 0 : -EPROTO;
}

/* Input without aliases is never refused by the budget: 1 MiB of the
 * densest shapes (one-character values, flow mappings of keys only). */
static void test_no_alias_within_budget(void)
{
	static const char *const shapes[][3] = {
	    {"[", "a,", "a]"},
	    {"- ", "x\n- ", "x\n"},
	    {"[", "[],", "[]]"},
	    {"[", "{a: b},", "{}]"},
	};
	json_t *v;

	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		struct buf b = {0};
		buf_puts(&b, shapes[i][0]);
		/* as many values as the node limit allows, or the size limit */
		size_t unit = strlen(shapes[i][1]);
		size_t count = CODEC_MAX_NODES / 3;
		if (count * unit > CODEC_MAX_BYTES - 64)
			count = (CODEC_MAX_BYTES - 64) / unit;
		for (size_t j = 0; j < count; j++)
			buf_puts(&b, shapes[i][1]);
		buf_puts(&b, shapes[i][2]);
		CHECK(decode1(b.s, b.len, &v) == 0);
		json_decref(v);
		buf_free(&b);
	}
	/* a flow mapping of keys only (null values): two values per key */
	struct buf m = {0};
	buf_puts(&m, "{");
	for (int j = 0; j < CODEC_MAX_NODES / 2 - 2; j++)
		buf_printf(&m, "%x,", j);
	buf_puts(&m, "z}");
	CHECK(decode1(m.s, m.len, &v) == 0);
	json_decref(v);
	buf_free(&m);
	/* a long string without aliases, the size limit's worth */
	struct buf b = {0};
	buf_puts(&b, "s: ");
	while (b.len < CODEC_MAX_BYTES - 8)
		buf_add(&b, "y", 1);
	CHECK(decode1(b.s, b.len, &v) == 0);
	json_decref(v);
	buf_free(&b);
}

/* Aliases within the budget are accepted: a 4 KiB string aliased so
 * that the copies come just under 4x the input + the slack. */
static void test_alias_within_budget(void)
{
	struct buf b = {0};
	json_t *v;

	buf_puts(&b, "a: &a ");
	for (int i = 0; i < 4096; i++)
		buf_add(&b, "z", 1);
	buf_puts(&b, "\nb: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n");
	CHECK(decode1(b.s, b.len, &v) == 0);
	CHECK(json_array_size(json_object_get(v, "b")) == 14);
	json_decref(v);
	buf_free(&b);
}

/* ---- allocation failures ---- */

static long alloc_left = -1; /* allocations that succeed; -1: all */

static void *failing_malloc(size_t n)
{
	if (alloc_left == 0)
		return NULL;
	if (alloc_left > 0)
		alloc_left--;
	return malloc(n);
}

/*
 * Fails jansson's k-th allocation of a decode, for every k up to the
 * number the decode makes: each either fails with ENOMEM or (when the
 * failed allocation was not needed) gives the whole document.
 */
static void test_alloc_failure(void)
{
	static const char doc[] =
	    "kind: Pod\nmetadata: &m {name: a, labels: {x: \"1\", y: 2}}\n"
	    "spec:\n  containers:\n  - {name: c, image: busybox, args: [a, b]}\n"
	    "  copy: *m\n  list: [1, 2.5, true, null, ~, 0x1f, .inf, *m]\n";
	json_t *want, *got;
	int failed = 0, whole = 0, bad = 0;

	CHECK(decode1(doc, sizeof(doc) - 1, &want) == 0);
	json_set_alloc_funcs(failing_malloc, free);
	for (long k = 0; k < 2000; k++) {
		alloc_left = k;
		int r = decode1(doc, sizeof(doc) - 1, &got);
		bool done = alloc_left > 0; /* the decode needed fewer than k */
		alloc_left = -1;
		if (r == -ENOMEM)
			failed++;
		else if (r == 0 && json_equal(got, want))
			whole++;
		else
			bad++;
		json_decref(got);
		if (done)
			break;
	}
	json_set_alloc_funcs(malloc, free);
	printf("  %d decodes failed with ENOMEM, %d whole, %d wrong\n", failed, whole, bad);
	CHECK(failed > 20);
	CHECK(whole >= 1);
	CHECK(bad == 0);
	json_decref(want);
}

int main(void)
{
	RUN(test_bombs);
	RUN(test_no_alias_within_budget);
	RUN(test_alias_within_budget);
	RUN(test_alloc_failure);
	return unit_done();
}
