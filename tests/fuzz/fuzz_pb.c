/*
 * fuzz_pb.c - the HTTP API's protobuf request bodies (http/pb.h:
 * pb_decode_object), which kubectl's typed client sends for create,
 * expose, drain, ...: a binary format read by hand, so the first to fuzz.
 *
 * The input is a whole body ("k8s\0" and a runtime.Unknown).  Properties:
 * a failure says why; a success is an object with the envelope's
 * apiVersion and kind that JSON can carry (every string UTF-8), and every
 * unknown field reported has a path; metadata's times are RFC 3339 UTC
 * ("2024-05-01T10:00:00Z").
 */
#include <errno.h>
#include <jansson.h>

#include "engine/err.h"
#include "http/pb.h"
#include "tests/fuzz/fuzz.h"

static void check_time(const json_t *t)
{
	if (!t)
		return;
	const char *s = json_string_value(t);
	unsigned y, mo, d, h, mi, sec;
	char z;
	FUZZ_CHECK(s && strlen(s) == 20);
	FUZZ_CHECK(sscanf(s, "%4u-%2u-%2uT%2u:%2u:%2u%c", &y, &mo, &d, &h, &mi, &sec, &z) == 7);
	FUZZ_CHECK(mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60 && sec < 61);
	FUZZ_CHECK(z == 'Z');
}

static void on_unknown(void *arg, const char *path)
{
	FUZZ_CHECK(path && path[0]);
	(*(int *)arg)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *obj = NULL;
	struct err *e = NULL;
	int unknown = 0;
	int r = pb_decode_object((const char *)data, size, &obj, on_unknown, &unknown, &e);
	if (r < 0) {
		FUZZ_CHECK((r == -EINVAL || r == -ENOTSUP) && e && e->msg);
		err_free(e);
		return 0;
	}
	FUZZ_CHECK(json_is_object(obj));
	FUZZ_CHECK(json_is_string(json_object_get(obj, "apiVersion")));
	FUZZ_CHECK(json_is_string(json_object_get(obj, "kind")));
	json_t *meta = json_object_get(obj, "metadata");
	check_time(json_object_get(meta, "creationTimestamp"));
	check_time(json_object_get(meta, "deletionTimestamp"));
	char *s = json_dumps(obj, JSON_COMPACT);
	FUZZ_CHECK(s);
	free(s);
	json_decref(obj);
	return 0;
}
