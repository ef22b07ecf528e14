/*
 * fuzz_image.c - the parsers of an image's own JSON (runtime/image): an
 * OCI index (index.json, or a nested index blob), a manifest, a config,
 * and the image references they carry.
 *
 * The input is one JSON document, taken as each of those in turn, the way
 * image_import() and image_resolve() read them: pick_manifest() narrows an
 * index (with no tag, with "latest", and with the first descriptor's
 * ref.name), blob_kind() tells an index from a manifest, desc_parse() reads
 * every descriptor (manifests, config, layers), image_layer_comp() each
 * layer's media type, and image_normalize() each ref.name annotation and
 * the input itself as a reference.  Properties: a picked descriptor is one
 * of the index's; a parsed digest is 64 lower-case hex digits and a size is
 * not negative; a normalised reference normalises to itself.
 */
#include <errno.h>
#include <jansson.h>

#include "engine/err.h"
#include "runtime/image/image.h"
#include "runtime/image/image_int.h"
#include "tests/fuzz/fuzz.h"

#define REF_NAME "org.opencontainers.image.ref.name"

static void check_ref(const char *ref)
{
	char out[IMAGE_REF_MAX], again[IMAGE_REF_MAX];
	struct err *e = NULL;
	if (image_normalize(ref, out, sizeof(out), &e) < 0) {
		FUZZ_CHECK(e && e->msg);
		err_free(e);
		return;
	}
	FUZZ_CHECK(strlen(out) < sizeof(out));
	FUZZ_CHECK(image_normalize(out, again, sizeof(again), NULL) == 0);
	FUZZ_CHECK(!strcmp(out, again));
}

static void check_desc(json_t *desc)
{
	char hex[65];
	int64_t size = -1;
	struct err *e = NULL;
	if (desc_parse(desc, hex, &size, &e) < 0) {
		FUZZ_CHECK(e && e->msg);
		err_free(e);
		return;
	}
	FUZZ_CHECK(size >= 0 && strlen(hex) == 64 && strspn(hex, "0123456789abcdef") == 64);
	const char *rn =
	    json_string_value(json_object_get(json_object_get(desc, "annotations"), REF_NAME));
	if (rn)
		check_ref(rn);
}

static int in_array(json_t *a, json_t *x)
{
	for (size_t i = 0; i < json_array_size(a); i++)
		if (json_array_get(a, i) == x)
			return 1;
	return 0;
}

/* As image_import reads an index: narrowed by tag, then read as a blob. */
static void as_index(json_t *v, const char *tag)
{
	json_t *desc = NULL;
	struct err *e = NULL;
	int r = pick_manifest(v, tag, &desc, &e);
	if (r < 0) {
		FUZZ_CHECK((r == -EINVAL || r == -ENOENT) && e && e->msg);
		err_free(e);
		return;
	}
	FUZZ_CHECK(in_array(json_object_get(v, "manifests"), desc));
	check_desc(desc);
	int k = blob_kind(desc, v);
	FUZZ_CHECK(k == 'i' || k == 'm' || k == 0);
}

/* As image_import and image_resolve read a manifest and its config. */
static void as_manifest(json_t *v)
{
	json_t *l;
	size_t i;
	check_desc(json_object_get(v, "config"));
	json_array_foreach(json_object_get(v, "layers"), i, l)
	{
		check_desc(l);
		enum comp c = image_layer_comp(json_string_value(json_object_get(l, "mediaType")));
		FUZZ_CHECK(c >= COMP_NONE && c <= COMP_UNKNOWN);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	if (size < IMAGE_REF_MAX + 16)
		check_ref(s);
	free(s);
	json_t *v = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
	if (!v)
		return 0;
	as_index(v, NULL);
	as_index(v, "latest");
	json_t *first = json_array_get(json_object_get(v, "manifests"), 0);
	const char *rn =
	    json_string_value(json_object_get(json_object_get(first, "annotations"), REF_NAME));
	if (rn) {
		char *tag = strdup(rn);
		as_index(v, tag);
		free(tag);
	}
	as_manifest(v);
	json_t *d;
	size_t i;
	json_array_foreach(json_object_get(v, "manifests"), i, d) check_desc(d);
	json_decref(v);
	return 0;
}
