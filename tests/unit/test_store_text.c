/*
 * test_store_text.c - the store's JSON text (store_text) is byte for byte
 * json_dumps(v, JSON_COMPACT): for a pod as the control plane writes it,
 * every escape (quotes, backslashes, each control byte, a NUL inside a
 * string or a key), integers at their limits, literals, empty and nested
 * containers; for what it leaves to jansson (non-ASCII text, reals, deep
 * nesting, a scalar top level); for each such byte at each place of a
 * longer plain string; and for a few thousand random trees.  Also the
 * store's map keys (okey, store_cat), made without printf.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/log.h"
#include "engine/mem.h"
#include "engine/store/store_int.h"
#include "tests/unit/unit.h"

static bool same(const json_t *v)
{
	char *a = store_text(v);
	char *b = json_dumps(v, JSON_COMPACT);
	bool ok = (!a && !b) || (a && b && !strcmp(a, b));
	if (!ok)
		fprintf(stderr, "store_text: %s\njson_dumps: %s\n", a ? a : "(null)",
			b ? b : "(null)");
	free(a);
	free(b);
	return ok;
}

static void test_pod(void)
{
	json_error_t err;
	json_t *pod = json_loads(
	    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-7d9f-x2\","
	    "\"namespace\":\"default\",\"uid\":\"6b1e\",\"resourceVersion\":\"@cfs:rv@\","
	    "\"labels\":{\"app\":\"web\",\"pod-template-hash\":\"7d9f\"},\"ownerReferences\":"
	    "[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"web-7d9f\","
	    "\"controller\":true,\"blockOwnerDeletion\":true}],\"generation\":1},\"spec\":"
	    "{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\",\"command\":[\"sh\",\"-c\","
	    "\"echo \\\"hi\\\" \\\\ "
	    "/tmp\\n\\ttab\"],\"resources\":{\"requests\":{\"cpu\":\"10m\"}},"
	    "\"ports\":[]}],\"terminationGracePeriodSeconds\":30,\"nodeName\":null,\"x\":{}},"
	    "\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"Ready\",\"status\":"
	    "\"True\",\"lastProbeTime\":null}],\"restartCount\":-1,\"ready\":false}}",
	    0, &err);
	CHECK(pod);
	CHECK(same(pod));
	json_decref(pod);
}

static void test_escapes_and_numbers(void)
{
	char s[160];
	size_t n = 0;
	for (int c = 0; c < 128; c++)
		s[n++] = (char)c; /* NUL, every control byte, quote, backslash, slash, DEL */
	json_t *o = json_object();
	json_object_set_new(o, "all", json_stringn(s, n));
	json_object_setn_new(o, "k\"\\\n\x01\0z", 7, json_string("key escapes"));
	json_object_set_new(o, "", json_string(""));
	json_t *a = json_array();
	json_int_t ints[] = {0, 1, -1, 9, 10, -10, 1234567890123, INT64_MAX, INT64_MIN};
	for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++)
		json_array_append_new(a, json_integer(ints[i]));
	json_array_append_new(a, json_true());
	json_array_append_new(a, json_false());
	json_array_append_new(a, json_null());
	json_array_append_new(a, json_array());
	json_array_append_new(a, json_object());
	json_object_set_new(o, "a", a);
	CHECK(same(o));
	CHECK(same(a)); /* an array at the top */
	json_decref(o);
}

static void test_left_to_jansson(void)
{
	json_t *o = json_pack("{s:s, s:f}", "name", "caf\xc3\xa9", "r", 0.1);
	CHECK(same(o));
	json_object_del(o, "r");
	CHECK(same(o)); /* non-ASCII alone */
	json_object_set_new(o, "name", json_real(1e300));
	CHECK(same(o)); /* a real alone */
	json_decref(o);
	json_t *deep = json_array(), *at = deep;
	for (int i = 0; i < 400; i++) {
		json_t *c = json_array();
		json_array_append_new(at, c);
		at = c;
	}
	CHECK(same(deep));
	json_decref(deep);
	json_t *sc = json_string("x");
	CHECK(same(sc)); /* a scalar: both NULL */
	json_decref(sc);
	json_t *bad = json_stringn_nocheck("\xff\xfe", 2);
	json_t *holder = json_pack("{s:o}", "s", bad);
	CHECK(same(holder)); /* invalid UTF-8: both NULL */
	json_decref(holder);
}

/* One byte that may need an escape at each place of a longer plain
 * string (the plain part is looked at 8 bytes at a time). */
static void test_positions(void)
{
	const char specials[] = {'\x01', '"', '\\', '\x1f', '\x7f', ' ', '/', '\x00', 'z'};
	for (size_t k = 0; k < sizeof(specials); k++)
		for (size_t at = 0; at < 41; at++) {
			char s[41];
			memset(s, 'a', sizeof(s));
			s[at] = specials[k];
			json_t *o = json_object();
			json_object_set_new(o, "s", json_stringn(s, sizeof(s)));
			json_object_setn_new(o, s, at + 1, json_true());
			CHECK(same(o));
			json_decref(o);
		}
}

/* The store's map keys, made without printf, are what printf made. */
static void test_keys(void)
{
	char *k = okey("Pod", "default", "web-1");
	CHECK(!strcmp(k, "3:Pod7:defaultweb-1"));
	free(k);
	k = okey("Namespace", "", "");
	CHECK(!strcmp(k, "9:Namespace0:"));
	free(k);
	char long_ns[1201];
	memset(long_ns, 'n', 1200);
	long_ns[1200] = '\0';
	k = okey("", long_ns, "x");
	char *want = xasprintf("0:1200:%sx", long_ns);
	CHECK(!strcmp(k, want));
	free(want);
	free(k);
	k = store_cat("k:", "Pod", "/");
	CHECK(!strcmp(k, "k:Pod/"));
	free(k);
}

static json_t *random_value(unsigned *seed, int depth)
{
	int t = rand_r(seed) % (depth > 4 ? 5 : 7);
	switch (t) {
	case 0: {
		char s[24];
		size_t n = (size_t)(rand_r(seed) % 24);
		for (size_t i = 0; i < n; i++)
			s[i] = (char)(rand_r(seed) % 128);
		return json_stringn(s, n);
	}
	case 1:
		return json_integer((json_int_t)rand_r(seed) - RAND_MAX / 2);
	case 2:
		return json_true();
	case 3:
		return json_null();
	case 4:
		return json_string("plain");
	case 5: {
		json_t *a = json_array();
		for (int i = rand_r(seed) % 5; i > 0; i--)
			json_array_append_new(a, random_value(seed, depth + 1));
		return a;
	}
	default: {
		json_t *o = json_object();
		for (int i = rand_r(seed) % 5; i > 0; i--) {
			char k[8];
			size_t n = (size_t)(rand_r(seed) % 8);
			for (size_t j = 0; j < n; j++)
				k[j] = (char)(1 + rand_r(seed) % 127);
			json_object_setn_new(o, k, n, random_value(seed, depth + 1));
		}
		return o;
	}
	}
}

static void test_random(void)
{
	unsigned seed = 16;
	for (int i = 0; i < 3000; i++) {
		json_t *o = json_object();
		json_object_set_new(o, "v", random_value(&seed, 0));
		CHECK(same(o));
		json_decref(o);
	}
}

int main(void)
{
	log_level = LOG_WARN;
	RUN(test_pod);
	RUN(test_escapes_and_numbers);
	RUN(test_left_to_jansson);
	RUN(test_positions);
	RUN(test_keys);
	RUN(test_random);
	return unit_done();
}
