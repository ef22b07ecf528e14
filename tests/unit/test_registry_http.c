/*
 * test_registry_http.c - registry_pull() against a small registry served
 * by libmicrohttpd on 127.0.0.1 in this process: the Bearer token flow
 * (a 401 challenge, a token fetched with basic credentials, the request
 * repeated), blobs sent through a redirect, four threads pulling one
 * reference at once (one manifest, one token and one blob request), a
 * partial blob continued with a Range request, a wrong password refused
 * as "unauthorized", an unknown tag "manifest unknown", a blob longer
 * than its descriptor refused.  Needs root (the
 * store keeps file owners).
 */
#include <archive.h>
#include <errno.h>
#include <archive_entry.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <nettle/base16.h>
#include <nettle/sha2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "engine/mem.h"
#include "runtime/image/registry.h"
#include "runtime/sys.h"
#include "tests/unit/unit.h"

struct blob {
	char hex[65];
	char *data;
	size_t len;
};
static struct blob layer, config, manifest, short_manifest;
static int port;
static atomic_int n_token, n_manifest, n_layer, n_range;
static char *tmp;

static void blob_set(struct blob *b, char *data, size_t len)
{
	struct sha256_ctx c;
	uint8_t md[SHA256_DIGEST_SIZE];
	sha256_init(&c);
	sha256_update(&c, len, (uint8_t *)data);
	sha256_digest(&c, sizeof(md), md);
	base16_encode_update(b->hex, sizeof(md), md);
	b->hex[64] = '\0';
	b->data = data;
	b->len = len;
}

/* A one-file tar layer, its config and an OCI manifest. */
static void make_image(void)
{
	size_t cap = 64 * 1024, used = 0;
	char *buf = xmalloc(cap);
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	archive_write_open_memory(a, buf, cap, &used);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, "hello");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, 6);
	archive_write_header(a, e);
	archive_write_data(a, "hello\n", 6);
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
	blob_set(&layer, buf, used);
	char *cfg = xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":"
			      "[\"/hello\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":["
			      "\"sha256:%s\"]}}",
			      layer.hex);
	blob_set(&config, cfg, strlen(cfg));
	char *man = xasprintf(
	    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
	    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":"
	    "\"sha256:%s\",\"size\":%zu},\"layers\":[{\"mediaType\":\"application/"
	    "vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:%s\",\"size\":%zu}]}",
	    config.hex, config.len, layer.hex, layer.len);
	blob_set(&manifest, man, strlen(man));
	/* the same layer, its size understated */
	man = xasprintf(
	    "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
	    "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":"
	    "\"sha256:%s\",\"size\":%zu},\"layers\":[{\"mediaType\":\"application/"
	    "vnd.oci.image.layer.v1.tar\",\"digest\":\"sha256:%s\",\"size\":%zu}]}",
	    config.hex, config.len, layer.hex, layer.len - 10);
	blob_set(&short_manifest, man, strlen(man));
}

static enum MHD_Result reply(struct MHD_Connection *c, int status, const char *body, size_t len,
			     const char *h, const char *v)
{
	struct MHD_Response *r =
	    MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (h)
		MHD_add_response_header(r, h, v);
	enum MHD_Result ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result serve(void *cls, struct MHD_Connection *c, const char *url,
			     const char *method, const char *version, const char *upload,
			     size_t *upload_len, void **ctx)
{
	const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	if (!strcmp(url, "/token")) {
		n_token++;
		/* alice:pw */
		if (!auth || strcmp(auth, "Basic YWxpY2U6cHc="))
			return reply(c, 401, "{}", 2, NULL, NULL);
		return reply(c, 200, "{\"token\":\"tok123\"}", 18, NULL, NULL);
	}
	if (!strncmp(url, "/storage/", 9)) { /* where blobs are redirected */
		struct blob *b = !strcmp(url + 9, layer.hex)	? &layer
				 : !strcmp(url + 9, config.hex) ? &config
								: NULL;
		if (!b)
			return reply(c, 404, "", 0, NULL, NULL);
		if (b == &layer)
			n_layer++;
		const char *range = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Range");
		long from = 0;
		if (range && sscanf(range, "bytes=%ld-", &from) == 1 && from > 0 &&
		    (size_t)from < b->len) {
			n_range++;
			return reply(c, 206, b->data + from, b->len - from, NULL, NULL);
		}
		return reply(c, 200, b->data, b->len, NULL, NULL);
	}
	if (!auth || strcmp(auth, "Bearer tok123")) {
		char *ch = xasprintf("Bearer realm=\"http://127.0.0.1:%d/token\",service=\"test\","
				     "scope=\"repository:app:pull\"",
				     port);
		static const char un[] = "{\"errors\":[{\"code\":\"UNAUTHORIZED\","
					 "\"message\":\"authentication required\"}]}";
		enum MHD_Result r = reply(c, 401, un, strlen(un), "WWW-Authenticate", ch);
		free(ch);
		return r;
	}
	if (!strcmp(url, "/v2/app/manifests/1") || !strcmp(url, "/v2/app/manifests/2")) {
		n_manifest++;
		usleep(200 * 1000); /* long enough for the other threads to queue */
		return reply(c, 200, manifest.data, manifest.len, "Content-Type",
			     "application/vnd.oci.image.manifest.v1+json");
	}
	if (!strcmp(url, "/v2/app/manifests/short"))
		return reply(c, 200, short_manifest.data, short_manifest.len, NULL, NULL);
	if (!strncmp(url, "/v2/app/blobs/sha256:", 21)) {
		char *loc = xasprintf("http://127.0.0.1:%d/storage/%s", port, url + 21);
		enum MHD_Result r = reply(c, 307, "", 0, "Location", loc);
		free(loc);
		return r;
	}
	const char *unk = "{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest "
			  "unknown\"}]}";
	return reply(c, 404, unk, strlen(unk), NULL, NULL);
}

static struct image_store *store;
static struct registry_creds *creds;
static struct registry_conf conf;
static char host[64];

static void *pull_thread(void *arg)
{
	struct pull_info *info = arg;
	char *ref = xasprintf("%s/app:1", host);
	struct err *e = NULL;
	if (registry_pull(store, ref, creds, &conf, info, &e) < 0) {
		fprintf(stderr, "  pull: %s\n", e->msg);
		info->size = -1;
	}
	err_free(e);
	free(ref);
	return NULL;
}

struct cpull {
	const struct registry_creds *creds;
	int delay_ms, rc;
	struct pull_info info;
};

static void *creds_thread(void *arg)
{
	struct cpull *p = arg;
	char *ref = xasprintf("%s/app:1", host);
	struct err *e = NULL;
	usleep((useconds_t)p->delay_ms * 1000);
	p->rc = registry_pull(store, ref, p->creds, &conf, &p->info, &e);
	err_free(e);
	free(ref);
	return NULL;
}

/* A pull with wrong credentials (or none) that starts while a pull with
 * good ones of the same reference runs is not merged into it: refused. */
static void test_creds_apart(void)
{
	struct registry_creds *bad = NULL;
	CHECK(registry_creds_basic("alice:nope", &bad, NULL) == 0);
	struct cpull p[3] = {{.creds = creds}, {.creds = bad, .delay_ms = 60}, {.delay_ms = 60}};
	pthread_t t[3];
	int before = n_manifest;
	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, creds_thread, &p[i]);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	CHECK(p[0].rc == 0);
	CHECK(p[1].rc == -EACCES);
	CHECK(p[2].rc == -EACCES);
	CHECK(n_manifest == before + 1);
	int64_t freed;
	char *ref = xasprintf("%s/app:1", host);
	CHECK(image_remove(store, ref, &freed, NULL) == 0); /* as test_too_long expects */
	free(ref);
	registry_creds_free(bad);
}

static void test_concurrent_pulls(void)
{
	struct pull_info info[4];
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, pull_thread, &info[i]);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	int64_t total = 0;
	for (int i = 0; i < 4; i++) {
		CHECK(info[i].size == (int64_t)(manifest.len + config.len + layer.len));
		CHECK(!strncmp(info[i].digest, "sha256:", 7) &&
		      !strcmp(info[i].digest + 7, manifest.hex));
		total += info[i].downloaded;
	}
	CHECK(total == (int64_t)(manifest.len + config.len + layer.len));
	CHECK(n_manifest == 1);
	CHECK(n_token == 1);
	CHECK(n_layer == 1);
	struct image_info *ii = NULL;
	char *ref = xasprintf("%s/app:1", host);
	CHECK(image_resolve(store, ref, &ii, NULL) == 0);
	CHECK(ii && ii->n_layers == 1);
	if (ii) {
		char *f = xasprintf("%s/hello", ii->layers[0]);
		CHECK(access(f, F_OK) == 0);
		free(f);
	}
	image_info_free(ii);
	/* refs.json says where it came from */
	struct image_record rec;
	CHECK(image_lookup(store, ref, &rec, NULL) == 0 && rec.origin == IMAGE_PULLED &&
	      rec.added > 0 && rec.last_used == 0 && !strcmp(rec.digest + 7, manifest.hex));
	free(ref);
}

static void test_resume(void)
{
	int64_t freed;
	char *ref = xasprintf("%s/app:1", host);
	CHECK(image_remove(store, ref, &freed, NULL) == 0);
	free(ref);
	char *part = xasprintf("%s/data/images/blobs/sha256/%s.partial", tmp, layer.hex);
	FILE *f = fopen(part, "w");
	CHECK(f && fwrite(layer.data, 1, layer.len / 2, f) == layer.len / 2);
	if (f)
		fclose(f);
	struct pull_info info;
	ref = xasprintf("%s/app:2", host);
	struct err *e = NULL;
	CHECK(registry_pull(store, ref, creds, &conf, &info, &e) == 0);
	CHECK(n_range == 1);
	CHECK(info.downloaded == (int64_t)(manifest.len + config.len + layer.len - layer.len / 2));
	CHECK(access(part, F_OK) < 0);
	err_free(e);
	free(ref);
	free(part);
}

static void test_refusals(void)
{
	struct registry_creds *bad = NULL;
	struct pull_info info;
	struct err *e = NULL;
	char *ref = xasprintf("%s/app:1", host);
	CHECK(registry_creds_basic("alice:nope", &bad, NULL) == 0);
	CHECK(registry_pull(store, ref, bad, &conf, &info, &e) == -EACCES);
	CHECK(e && strstr(e->msg, "unauthorized"));
	CHECK(registry_pull(store, ref, NULL, &conf, &info, &e) == -EACCES);
	free(ref);
	ref = xasprintf("%s/app:nosuch", host);
	CHECK(registry_pull(store, ref, creds, &conf, &info, &e) == -ENOENT);
	CHECK(e && strstr(e->msg, "manifest unknown"));
	free(ref);
	CHECK(registry_pull(store, "127.0.0.1:1/app:1", creds, &conf, &info, &e) == -EHOSTUNREACH);
	err_free(e);
	registry_creds_free(bad);
}

/* A blob longer than its descriptor says is cut off and refused. */
static void test_too_long(void)
{
	int64_t freed;
	char *ref = xasprintf("%s/app:2", host);
	CHECK(image_remove(store, ref, &freed, NULL) == 0);
	free(ref);
	struct pull_info info;
	struct err *e = NULL;
	ref = xasprintf("%s/app:short", host);
	CHECK(registry_pull(store, ref, creds, &conf, &info, &e) == -EINVAL);
	CHECK(e && strstr(e->msg, "larger than its descriptor"));
	char *blob = xasprintf("%s/data/images/blobs/sha256/%s", tmp, layer.hex);
	char *part = xasprintf("%s.partial", blob);
	CHECK(access(blob, F_OK) < 0 && access(part, F_OK) < 0);
	free(blob);
	free(part);
	free(ref);
	err_free(e);
}

int main(void)
{
	char tmpl[] = "/tmp/cfs-test-registry.XXXXXX";
	tmp = xstrdup(mkdtemp(tmpl));
	make_image();
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct MHD_Daemon *d =
	    MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0,
			     NULL, NULL, serve, NULL, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "MHD_start_daemon failed\n");
		return 1;
	}
	port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
	snprintf(host, sizeof(host), "127.0.0.1:%d", port);
	static const char *insecure[2];
	insecure[0] = host;
	insecure[1] = "127.0.0.1:1";
	conf.insecure = insecure;
	conf.n_insecure = 2;
	char *dd = xasprintf("%s/data", tmp);
	if (image_store_open(dd, &store, NULL) < 0)
		return 1;
	registry_creds_basic("alice:pw", &creds, NULL);

	RUN(test_concurrent_pulls);
	RUN(test_resume);
	RUN(test_refusals);
	RUN(test_creds_apart);
	RUN(test_too_long);

	registry_creds_free(creds);
	image_store_close(store);
	MHD_stop_daemon(d);
	rm_rf(tmp, NULL);
	free(dd);
	free(tmp);
	return unit_done();
}
