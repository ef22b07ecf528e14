/*
 * fuzz_codec.c - the YAML/JSON decoder (engine/valid/codec.h) and its
 * round trip.
 *
 * The input is a YAML stream, as a user writes into /cluster or PUTs over
 * HTTP.  When it decodes, every document must come back equal (values,
 * types and key order; NaN equals NaN) from both renderings:
 * codec_yaml()'s block YAML, and jansson's JSON, which is YAML too.  A
 * rendering may only fail to decode for being over CODEC_MAX_BYTES (aliases
 * expanded can make it bigger than its source).
 *
 * JSON holding a character libyaml, a YAML 1.1 reader, refuses to see
 * raw (DEL, the C1 controls, U+FFFE, U+FFFF) or reads as a line break
 * (NEL, U+2028, U+2029: folded to a space) is not read back: JSON leaves
 * them unescaped, and libyaml takes them so even inside a quoted scalar,
 * where YAML 1.2 keeps them as they are.  Nor is \uXXXX\uXXXX (a
 * surrogate pair, JSON's escape for characters past U+FFFF) written:
 * libyaml refuses it too, as it refuses a key over 1024 characters in a
 * flow mapping (its limit on a simple key).  These are known limits of
 * the decoder (docs/security.md), not checked here.
 */
#include <errno.h>
#include <jansson.h>
#include <math.h>

#include "engine/err.h"
#include "engine/valid/codec.h"
#include "tests/fuzz/fuzz.h"

static int same(const json_t *a, const json_t *b)
{
	if (json_typeof(a) != json_typeof(b))
		return 0;
	switch (json_typeof(a)) {
	case JSON_OBJECT: {
		if (json_object_size(a) != json_object_size(b))
			return 0;
		void *ia = json_object_iter((json_t *)a), *ib = json_object_iter((json_t *)b);
		for (; ia && ib; ia = json_object_iter_next((json_t *)a, ia),
				 ib = json_object_iter_next((json_t *)b, ib)) {
			if (strcmp(json_object_iter_key(ia), json_object_iter_key(ib)) ||
			    !same(json_object_iter_value(ia), json_object_iter_value(ib)))
				return 0;
		}
		return !ia && !ib;
	}
	case JSON_ARRAY:
		if (json_array_size(a) != json_array_size(b))
			return 0;
		for (size_t i = 0; i < json_array_size(a); i++)
			if (!same(json_array_get(a, i), json_array_get(b, i)))
				return 0;
		return 1;
	case JSON_STRING:
		return json_string_length(a) == json_string_length(b) &&
		       !memcmp(json_string_value(a), json_string_value(b), json_string_length(a));
	case JSON_INTEGER:
		return json_integer_value(a) == json_integer_value(b);
	case JSON_REAL: {
		double x = json_real_value(a), y = json_real_value(b);
		return (isnan(x) && isnan(y)) || x == y;
	}
	default:
		return 1;
	}
}

/* Does JSON text hold a character libyaml refuses or folds when raw? */
static int yaml11_differs(const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p == 0x7f || (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) ||
		    (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) ||
		    (p[0] == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf)))
			return 1;
	}
	return 0;
}

/* Has v a key that JSON would spell in more than libyaml's 1024
 * characters of a simple key? */
static int long_key(const json_t *v)
{
	const char *k;
	json_t *x;
	size_t i;
	if (json_is_array(v))
		json_array_foreach(v, i, x) if (long_key(x)) return 1;
	if (json_is_object(v))
		json_object_foreach((json_t *)v, k, x)
		{
			json_t *ks = json_string(k);
			char *spelt = json_dumps(ks, JSON_ENCODE_ANY);
			size_t n = spelt ? strlen(spelt) : 0;
			free(spelt);
			json_decref(ks);
			if (n > 1000 || long_key(x))
				return 1;
		}
	return 0;
}

/* text (a rendering of doc) decodes to exactly doc. */
static void check_reads_back(const json_t *doc, const char *text, size_t len, const char *how)
{
	json_t **docs = NULL;
	size_t n = 0;
	struct err *e = NULL;
	int r = codec_decode(text, len, &docs, &n, &e);
	if (r == -EFBIG || (r < 0 && len > CODEC_MAX_BYTES)) {
		err_free(e);
		return;
	}
	if (r < 0 || n != 1 || !same(doc, docs[0])) {
		fprintf(stderr, "%s rendering does not read back (%s):\n%.*s\n", how,
			r < 0	 ? e->msg
			: n != 1 ? "document count"
				 : "value differs",
			(int)(len > 4096 ? 4096 : len), text);
		abort();
	}
	codec_docs_free(docs, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t **docs = NULL;
	size_t n = 0;
	struct err *e = NULL;
	if (codec_decode((const char *)data, size, &docs, &n, &e) < 0) {
		FUZZ_CHECK(e && e->msg && n == 0);
		err_free(e);
		return 0;
	}
	FUZZ_CHECK(n <= CODEC_MAX_DOCS);
	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(docs[i] && !json_is_null(docs[i]));
		size_t len = 0;
		char *y = codec_yaml(docs[i], &len);
		FUZZ_CHECK(y && strlen(y) == len);
		check_reads_back(docs[i], y, len, "YAML");
		free(y);
		char *j = json_dumps(docs[i], JSON_ENCODE_ANY | JSON_COMPACT);
		/* NULL: NaN or infinity, which JSON cannot say */
		if (j && !yaml11_differs(j) && !long_key(docs[i]))
			check_reads_back(docs[i], j, strlen(j), "JSON");
		free(j);
	}
	codec_docs_free(docs, n);
	return 0;
}
