/*
 * test_http_write.c - the protobuf request bodies (http/pb.c): a ConfigMap
 * as kubectl 1.32 encodes it (zero values sent, Go's zero time), decoded
 * to the JSON Kubernetes would have got; a kind not decoded and malformed
 * input refused, a field number not known skipped and reported (more in
 * test_http_pb.c).
 */
#include <errno.h>
#include <string.h>

#include "engine/mem.h"
#include "engine/obj.h"
#include "http/pb.h"
#include "tests/unit/unit.h"

/* Appends a length-delimited field num holding n bytes of s. */
static void ld(struct buf *b, int num, const void *s, size_t n)
{
	unsigned char k = (unsigned char)(num << 3 | 2);
	buf_add(b, (const char *)&k, 1);
	unsigned char len = (unsigned char)n; /* < 128 in these tests */
	buf_add(b, (const char *)&len, 1);
	buf_add(b, s, n);
}

static void lds(struct buf *b, int num, const char *s)
{
	ld(b, num, s, strlen(s));
}

/* The envelope around raw for apiVersion av and kind. */
static void envelope(struct buf *out, const char *av, const char *kind, const struct buf *raw)
{
	struct buf tm = {0};
	lds(&tm, 1, av);
	lds(&tm, 2, kind);
	buf_add(out, "k8s\0", 4);
	ld(out, 1, tm.s, tm.len);
	ld(out, 2, raw->s ? raw->s : "", raw->len);
	buf_free(&tm);
}

static void test_configmap(void)
{
	/* metadata {name: cfg, namespace: "", resourceVersion: "",
	 * creationTimestamp: {seconds: -62135596800}, labels {a: b}} */
	struct buf md = {0}, entry = {0}, ts = {0}, raw = {0}, body = {0}, data = {0};
	lds(&md, 1, "cfg");
	lds(&md, 3, "");
	lds(&md, 6, "");
	unsigned char neg[] = {0x08, 0x80, 0x80, 0xe3, 0xd4, 0x9f, 0xd2, 0xff, 0xff, 0xff, 0x01};
	buf_add(&ts, (const char *)neg, sizeof(neg));
	ld(&md, 8, ts.s, ts.len);
	lds(&entry, 1, "a");
	lds(&entry, 2, "b");
	ld(&md, 11, entry.s, entry.len);
	ld(&raw, 1, md.s, md.len);
	lds(&data, 1, "mode");
	lds(&data, 2, "fast");
	ld(&raw, 2, data.s, data.len);
	envelope(&body, "v1", "ConfigMap", &raw);
	json_t *o = NULL;
	struct err *e = NULL;
	CHECK(pb_decode_object(body.s, body.len, &o, NULL, NULL, &e) == 0);
	CHECK(o && !strcmp(obj_str(o, "kind") ?: "", "ConfigMap"));
	CHECK(o && !strcmp(obj_str(o, "metadata.name") ?: "", "cfg"));
	CHECK(o && !strcmp(obj_str(o, "metadata.labels.a") ?: "", "b"));
	CHECK(o && !strcmp(obj_str(o, "data.mode") ?: "", "fast"));
	/* Zero values are no fields. */
	CHECK(o && !obj_at(o, "metadata.namespace") && !obj_at(o, "metadata.resourceVersion") &&
	      !obj_at(o, "metadata.creationTimestamp"));
	json_decref(o);
	/* Truncated: malformed, not a crash. */
	for (size_t n = 5; n < body.len; n += 3) {
		o = NULL;
		int r = pb_decode_object(body.s, n, &o, NULL, NULL, &e);
		CHECK(r == 0 || r == -EINVAL);
		json_decref(o);
		err_free(e);
		e = NULL;
	}
	buf_free(&md);
	buf_free(&entry);
	buf_free(&ts);
	buf_free(&raw);
	buf_free(&body);
	buf_free(&data);
}

static void count_unknown(void *arg, const char *path)
{
	(void)path;
	(*(size_t *)arg)++;
}

static void test_refused(void)
{
	struct buf raw = {0}, body = {0};
	lds(&raw, 1, "");
	envelope(&body, "v1", "ServiceAccount", &raw);
	json_t *o = NULL;
	struct err *e = NULL;
	CHECK(pb_decode_object(body.s, body.len, &o, NULL, NULL, &e) == -ENOTSUP);
	CHECK(e && strstr(e->msg, "v1 ServiceAccount"));
	err_free(e);
	e = NULL;
	/* A field number the tables do not know: skipped, and reported. */
	buf_free(&body);
	lds(&raw, 9, "x");
	envelope(&body, "v1", "ConfigMap", &raw);
	size_t unknown = 0;
	CHECK(pb_decode_object(body.s, body.len, &o, count_unknown, &unknown, &e) == 0);
	CHECK(unknown == 1);
	json_decref(o);
	o = NULL;
	CHECK(pb_decode_object("{\"a\":1}", 7, &o, NULL, NULL, &e) == -EINVAL);
	err_free(e);
	buf_free(&raw);
	buf_free(&body);
}

int main(void)
{
	RUN(test_configmap);
	RUN(test_refused);
	return unit_done();
}
