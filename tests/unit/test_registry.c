/*
 * test_registry.c - the pure parts of the registry client: WWW-Authenticate
 * challenges, references split for the API, the endpoints to try (mirrors,
 * insecure hosts), docker config credentials looked up by host, the
 * platform an index gives, and the registry flags.  No network.
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <string.h>

#include "engine/mem.h"
#include "runtime/image/image_cli.h"
#include "runtime/image/image_int.h"
#include "runtime/image/registry.h"
#include "tests/unit/unit.h"

static void test_challenge(void)
{
	struct registry_challenge c;
	CHECK(registry_challenge_parse("Bearer realm=\"https://auth.docker.io/token\","
				       "service=\"registry.docker.io\","
				       "scope=\"repository:library/busybox:pull\"",
				       &c) == 0);
	CHECK(!strcmp(c.scheme, "Bearer"));
	CHECK(c.realm && !strcmp(c.realm, "https://auth.docker.io/token"));
	CHECK(c.service && !strcmp(c.service, "registry.docker.io"));
	CHECK(c.scope && !strcmp(c.scope, "repository:library/busybox:pull"));
	registry_challenge_free(&c);

	/* bare values, spaces, an unknown parameter, commas inside quotes */
	CHECK(registry_challenge_parse(" Bearer  realm=https://r/t , error=\"a,b\","
				       "scope=\"repository:x:pull,push\"",
				       &c) == 0);
	CHECK(c.realm && !strcmp(c.realm, "https://r/t"));
	CHECK(!c.service);
	CHECK(c.scope && !strcmp(c.scope, "repository:x:pull,push"));
	registry_challenge_free(&c);

	CHECK(registry_challenge_parse("Basic realm=\"Registry Realm\"", &c) == 0);
	CHECK(!strcmp(c.scheme, "Basic") && c.realm && !strcmp(c.realm, "Registry Realm"));
	registry_challenge_free(&c);

	CHECK(registry_challenge_parse("   ", &c) == -EINVAL);
	registry_challenge_free(&c);
}

static void test_ref_split(void)
{
	struct registry_ref r;
	CHECK(registry_ref_split("busybox", &r, NULL) == 0);
	CHECK(!strcmp(r.host, "docker.io") && !strcmp(r.repo, "library/busybox") &&
	      !strcmp(r.reference, "latest"));
	CHECK(registry_ref_split("127.0.0.1:5000/a/b:v1", &r, NULL) == 0);
	CHECK(!strcmp(r.host, "127.0.0.1:5000") && !strcmp(r.repo, "a/b") &&
	      !strcmp(r.reference, "v1"));
	const char *d = "sha256:1e4579c772e158cc7de2799a528873d89598b9be1a459de8009476c8128c0179";
	char *ref = xasprintf("ghcr.io/o/app:tag@%s", d);
	CHECK(registry_ref_split(ref, &r, NULL) == 0);
	CHECK(!strcmp(r.host, "ghcr.io") && !strcmp(r.repo, "o/app") && !strcmp(r.reference, d));
	free(ref);
	CHECK(registry_ref_split("localhost:5000/x", &r, NULL) == 0);
	CHECK(!strcmp(r.host, "localhost:5000") && !strcmp(r.reference, "latest"));
	CHECK(registry_ref_split("Bad/Name", &r, NULL) < 0);
}

static void test_endpoints(void)
{
	const char *insecure[] = {"127.0.0.1:5000", "plain.local"};
	const char *mirrors[] = {"docker.io=https://m1.example/", "docker.io=http://m2:5000"};
	struct registry_conf c = {
	    .insecure = insecure, .n_insecure = 2, .mirrors = mirrors, .n_mirrors = 2};
	char *u;
	CHECK((u = registry_endpoint(&c, "docker.io", 0)) && !strcmp(u, "https://m1.example"));
	free(u);
	CHECK((u = registry_endpoint(&c, "docker.io", 1)) && !strcmp(u, "http://m2:5000"));
	free(u);
	CHECK((u = registry_endpoint(&c, "docker.io", 2)) &&
	      !strcmp(u, "https://registry-1.docker.io"));
	free(u);
	CHECK(!registry_endpoint(&c, "docker.io", 3));
	CHECK((u = registry_endpoint(&c, "127.0.0.1:5000", 0)) &&
	      !strcmp(u, "http://127.0.0.1:5000"));
	free(u);
	CHECK(!registry_endpoint(&c, "127.0.0.1:5000", 1));
	CHECK((u = registry_endpoint(&c, "127.0.0.1:5001", 0)) &&
	      !strcmp(u, "https://127.0.0.1:5001"));
	free(u);
	CHECK((u = registry_endpoint(&c, "plain.local:8080", 0)) &&
	      !strcmp(u, "http://plain.local:8080"));
	free(u);
	CHECK((u = registry_endpoint(NULL, "ghcr.io", 0)) && !strcmp(u, "https://ghcr.io"));
	free(u);
}

static void test_creds(void)
{
	/* alice:s3cret, and bob:pw:with:colons */
	const char *cfg = "{\"auths\": {"
			  "\"https://index.docker.io/v1/\": {\"auth\": \"YWxpY2U6czNjcmV0\"},"
			  "\"127.0.0.1:5000\": {\"auth\": \"Ym9iOnB3OndpdGg6Y29sb25z\"},"
			  "\"ghcr.io\": {\"username\": \"carol\", \"password\": \"x\"}}}";
	struct registry_creds *c = NULL;
	const char *u, *p;
	CHECK(registry_creds_parse(cfg, strlen(cfg), &c, NULL) == 0);
	CHECK(registry_creds_lookup(c, "docker.io", &u, &p) && !strcmp(u, "alice") &&
	      !strcmp(p, "s3cret"));
	CHECK(registry_creds_lookup(c, "127.0.0.1:5000", &u, &p) && !strcmp(u, "bob") &&
	      !strcmp(p, "pw:with:colons"));
	CHECK(registry_creds_lookup(c, "ghcr.io", &u, &p) && !strcmp(u, "carol"));
	CHECK(!registry_creds_lookup(c, "127.0.0.1:5001", &u, &p));
	CHECK(!registry_creds_lookup(NULL, "ghcr.io", &u, &p));

	/* the older .dockercfg form: the auths object alone; merging */
	const char *old = "{\"quay.io\": {\"auth\": \"ZGF2ZTpx\"}, \"ghcr.io\": "
			  "{\"auth\": \"ZGF2ZTpx\"}}";
	struct registry_creds *o = NULL;
	CHECK(registry_creds_parse(old, strlen(old), &o, NULL) == 0);
	CHECK(registry_creds_lookup(o, "quay.io", &u, &p) && !strcmp(u, "dave") && !strcmp(p, "q"));
	registry_creds_merge(c, o);
	CHECK(registry_creds_lookup(c, "quay.io", &u, &p) && !strcmp(u, "dave"));
	CHECK(registry_creds_lookup(c, "ghcr.io", &u, &p) && !strcmp(u, "carol"));
	registry_creds_free(o);
	registry_creds_free(c);

	/* malformed */
	CHECK(registry_creds_parse("[1]", 3, &c, NULL) == -EINVAL);
	const char *bad = "{\"auths\": {\"x.io\": {\"auth\": \"bm9jb2xvbg==\"}}}"; /* nocolon */
	CHECK(registry_creds_parse(bad, strlen(bad), &c, NULL) == -EINVAL);

	/* one user for every host */
	CHECK(registry_creds_basic("eve:pw", &c, NULL) == 0);
	CHECK(registry_creds_lookup(c, "any.host:1", &u, &p) && !strcmp(u, "eve") &&
	      !strcmp(p, "pw"));
	registry_creds_free(c);
	CHECK(registry_creds_basic("nocolon", &c, NULL) == -EINVAL);
}

static void test_platform(void)
{
	const char *idx =
	    "{\"manifests\": ["
	    "{\"digest\": \"sha256:aa\", \"platform\": {\"os\": \"linux\", \"architecture\": "
	    "\"arm64\"}},"
	    "{\"digest\": \"sha256:bb\", \"platform\": {\"os\": \"windows\", \"architecture\": "
	    "\"amd64\"}},"
	    "{\"digest\": \"sha256:cc\", \"platform\": {\"os\": \"linux\", \"architecture\": "
	    "\"amd64\"}}]}";
	json_t *j = json_loads(idx, 0, NULL), *d = NULL;
	CHECK(pick_manifest(j, NULL, &d, NULL) == 0);
#if defined(__x86_64__)
	CHECK(d && !strcmp(json_string_value(json_object_get(d, "digest")), "sha256:cc"));
#elif defined(__aarch64__)
	CHECK(d && !strcmp(json_string_value(json_object_get(d, "digest")), "sha256:aa"));
#endif
	json_decref(j);
	j = json_loads("{\"manifests\": [{\"digest\": \"sha256:aa\", \"platform\": {\"os\": "
		       "\"linux\", \"architecture\": \"s390x\"}},"
		       "{\"digest\": \"sha256:bb\", \"platform\": {\"os\": "
		       "\"linux\", \"architecture\": \"ppc64le\"}}]}",
		       0, NULL);
	CHECK(pick_manifest(j, NULL, &d, NULL) == -ENOENT);
	json_decref(j);
}

static void test_flags(void)
{
	struct registry_opts o = {0};
	struct registry_conf c;
	CHECK(registry_opts_add(&o, REGISTRY_OPT_CERTS_DIR, "/x") == 1);
	CHECK(registry_opts_add(&o, REGISTRY_OPT_INSECURE, "h:1") == 1);
	CHECK(registry_opts_add(&o, REGISTRY_OPT_INSECURE, "http://h:1") == -1);
	CHECK(registry_opts_add(&o, REGISTRY_OPT_MIRROR, "docker.io=https://m") == 1);
	CHECK(registry_opts_add(&o, REGISTRY_OPT_MIRROR, "quay.io=https://m") == -1);
	CHECK(registry_opts_add(&o, REGISTRY_OPT_MIRROR, "docker.io=m") == -1);
	CHECK(registry_opts_add(&o, 'd', "x") == 0);
	registry_opts_conf(&o, &c);
	CHECK(!strcmp(c.certs_dir, "/x") && c.n_insecure == 1 && c.n_mirrors == 1);
}

int main(void)
{
	RUN(test_challenge);
	RUN(test_ref_split);
	RUN(test_endpoints);
	RUN(test_creds);
	RUN(test_platform);
	RUN(test_flags);
	return unit_done();
}
