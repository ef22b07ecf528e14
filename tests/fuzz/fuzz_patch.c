/*
 * fuzz_patch.c - the bodies of HTTP PATCH (engine/valid/patch.h), applied
 * to a Deployment the way http/patch.c applies them: JSON merge patch,
 * JSON patch, strategic merge patch and server-side apply.
 *
 * The input's first byte picks the type (its value mod 4, in that order);
 * the rest is the body: JSON, or for an apply a YAML document (decoded by
 * codec_decode, as the server does).  Properties: a failure says why with
 * one of the documented codes; a merge patch is idempotent (applied twice,
 * the same object: RFC 7386); an apply by the same manager at the same
 * time, repeated on its own result, changes nothing (or is refused, see
 * apply()).
 */
#include <errno.h>
#include <jansson.h>

#include "engine/err.h"
#include "engine/kind.h"
#include "engine/valid/codec.h"
#include "engine/valid/patch.h"
#include "engine/valid/schema.h"
#include "tests/fuzz/fuzz.h"

static const char live_json[] =
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
    "\"namespace\":\"default\",\"labels\":{\"app\":\"web\"},\"finalizers\":[\"a\",\"b\"],"
    "\"managedFields\":[{\"manager\":\"kubectl\",\"operation\":\"Apply\",\"apiVersion\":"
    "\"apps/v1\",\"time\":\"2024-01-01T00:00:00Z\",\"fieldsType\":\"FieldsV1\",\"fieldsV1\":"
    "{\"f:spec\":{\"f:replicas\":{},\"f:template\":{\"f:spec\":{\"f:containers\":{"
    "\"k:{\\\"name\\\":\\\"c\\\"}\":{\".\":{},\"f:image\":{}}}}}}}}]},"
    "\"spec\":{\"replicas\":2,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{"
    "\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"c\","
    "\"image\":\"busybox\",\"ports\":[{\"containerPort\":80,\"protocol\":\"TCP\"}],\"env\":[{"
    "\"name\":\"A\",\"value\":\"1\"}]},{\"name\":\"d\",\"image\":\"nginx\"}],"
    "\"tolerations\":[{\"key\":\"k\",\"operator\":\"Exists\"}]}}},\"status\":{\"replicas\":2}}";

static void check_err(int r, struct err *e)
{
	FUZZ_CHECK(r == -EBADMSG || r == -EINVAL || r == -EBUSY);
	FUZZ_CHECK(e && e->msg);
	err_free(e);
}

static void merge(const json_t *live, const json_t *patch)
{
	json_t *once = patch_merge(live, patch);
	json_t *twice = patch_merge(once, patch);
	FUZZ_CHECK(once && twice && json_equal(once, twice));
	json_decref(once);
	json_decref(twice);
}

static void apply(const json_t *live, const json_t *config, const struct sch_def *d)
{
	struct patch_apply_opts o = {
	    .manager = "fuzz", .api_version = "apps/v1", .now = "2024-05-01T10:00:00Z", .def = d};
	json_t *out = NULL, *again = NULL, *conflicts = NULL;
	struct err *e = NULL;
	int r = patch_apply(live, config, &o, &out, &conflicts, &e);
	json_decref(conflicts);
	conflicts = NULL;
	if (r < 0) {
		check_err(r, e);
		return;
	}
	FUZZ_CHECK(json_is_object(out));
	/* A new keyed element's own keyed lists are not checked for their
	 * merge keys (as in a strategic merge patch); merged into the
	 * element the first apply made, they are, and refused. */
	r = patch_apply(out, config, &o, &again, &conflicts, &e);
	if (r < 0)
		check_err(r, e);
	else
		FUZZ_CHECK(patch_equal(out, again));
	json_decref(conflicts);
	json_decref(out);
	json_decref(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int type = data[0] % 4;
	const char *body = (const char *)data + 1;
	size_t len = size - 1;
	json_t *live = json_loads(live_json, 0, NULL), *patch = NULL, *out = NULL;
	const struct sch_def *d = schema_for_kind(KIND_DEPLOYMENT, false);
	struct err *e = NULL;
	FUZZ_CHECK(live && d);
	if (type == 3) {
		json_t **docs = NULL;
		size_t n = 0;
		if (codec_decode(body, len, &docs, &n, NULL) == 0 && n == 1 &&
		    json_is_object(docs[0]))
			patch = json_incref(docs[0]);
		codec_docs_free(docs, n);
	} else {
		patch = json_loadb(body, len, JSON_DECODE_ANY, NULL);
	}
	if (patch && type == 0 && json_is_object(patch)) {
		merge(live, patch);
	} else if (patch && type == 1 && json_is_array(patch)) {
		int r = patch_json(live, patch, &out, &e);
		if (r < 0)
			check_err(r, e);
	} else if (patch && type == 2 && json_is_object(patch)) {
		int r = patch_strategic(d, live, patch, &out, &e);
		if (r < 0)
			check_err(r, e);
	} else if (patch && type == 3) {
		apply(live, patch, d);
	}
	json_decref(out);
	json_decref(patch);
	json_decref(live);
	return 0;
}
