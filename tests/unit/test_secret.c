/*
 * test_secret.c - the Secret kind: validation and defaults
 * (engine/valid/valid_secret.c), updates, base64 (engine/b64.c).
 */
#include "engine/b64.h"
#include "tests/unit/valid_cases.h"

/* ".dockerconfigjson" values: {"auths":{}} and [1] */
#define DCJ_OK	"eyJhdXRocyI6e319"
#define DCJ_BAD "WzFd"

static const struct vcase secret_cases[] = {
    {"Secret", "{}", NULL},
    {"Secret", "{'data':null}", NULL},
    {"Secret", "{'data':{'password':'s3cret'}}",
     "Secret \"db\": data[password]: Invalid value: \"<secret contents redacted>\": must be "
     "base64 encoded"},
    {"Secret", "{'data':{'n':5}}", "data[n]: Invalid value: \"<secret contents redacted>\""},
    {"Secret", "{'data':{'a b':'eA=='}}", "data: Invalid value: \"a b\": a valid config key"},
    {"Secret", "{'data':{'..x':'eA=='}}", "must not start with '..'"},
    {"Secret", "{'stringData':{'user':'admin'}}", NULL},
    {"Secret", "{'stringData':{'user':5}}", "stringData[user]: Invalid value"},
    {"Secret", "{'stringData':{'a/b':'x'}}", "data: Invalid value: \"a/b\": a valid config key"},
    {"Secret", "{'type':'Opaque','immutable':true}", NULL},
    {"Secret", "{'immutable':'yes'}", "immutable: Invalid value: \"yes\": must be a boolean"},
    {"Secret", "{'type':'example.com/custom'}", NULL},
    {"Secret", "{'type':'kubernetes.io/service-account-token'}", "type: Unsupported value"},
    {"Secret", "{'type':'kubernetes.io/tls'}", "data[tls.crt]: Required value"},
    {"Secret", "{'type':'kubernetes.io/tls','data':{'tls.crt':'eA=='}}",
     "data[tls.key]: Required value"},
    {"Secret", "{'type':'kubernetes.io/tls','data':{'tls.crt':'eA==','tls.key':'eA=='}}", NULL},
    {"Secret", "{'type':'kubernetes.io/basic-auth','data':null}", "data[username]: Required value"},
    {"Secret", "{'type':'kubernetes.io/basic-auth','data':null,'stringData':{'password':'p'}}",
     NULL},
    {"Secret", "{'type':'kubernetes.io/ssh-auth'}", "data[ssh-privatekey]: Required value"},
    {"Secret", "{'type':'kubernetes.io/dockerconfigjson'}",
     "data[.dockerconfigjson]: Required value"},
    {"Secret",
     "{'type':'kubernetes.io/dockerconfigjson','data':{'.dockerconfigjson':'" DCJ_OK "'}}", NULL},
    {"Secret",
     "{'type':'kubernetes.io/dockerconfigjson','data':{'.dockerconfigjson':'" DCJ_BAD "'}}",
     "data[.dockerconfigjson]: Invalid value: \"<secret contents redacted>\""},
    {"Secret", "{'type':'kubernetes.io/dockerconfigjson','stringData':{'.dockerconfigjson':'{x'}}",
     "data[.dockerconfigjson]: Invalid value: \"<secret contents redacted>\": invalid"},
    {"Secret", "{'type':'kubernetes.io/dockercfg'}", "data[.dockercfg]: Required value"},
    {"Secret", "{'type':'kubernetes.io/dockercfg','stringData':{'.dockercfg':'{}'}}", NULL},
};

static void test_validation(void)
{
	RUN_TABLE(secret_cases);
}

/* stringData lands in data, base64-encoded, over data's key; type Opaque. */
static void test_defaults(void)
{
	const struct kind_info *k;
	json_t *o = build("Secret", "{'stringData':{'password':'hunter2','user':'admin'}}", &k);

	valid_default(o, k);
	CHECK(!json_object_get(o, "stringData"));
	CHECK(!strcmp(json_string_value(json_object_get(o, "type")), "Opaque"));
	json_t *d = json_object_get(o, "data");
	CHECK(!strcmp(json_string_value(json_object_get(d, "password")), "aHVudGVyMg=="));
	CHECK(!strcmp(json_string_value(json_object_get(d, "user")), "YWRtaW4="));
	json_decref(o);
}

struct ucase {
	const char *old_patch, *new_patch, *want;
};

static const struct ucase update_cases[] = {
    {"{}", "{'data':{'password':'eA=='}}", NULL},
    {"{}", "{'type':'example.com/x'}",
     "type: Invalid value: \"example.com/x\": field is immutable"},
    {"{'immutable':true}", "{'immutable':true}", NULL},
    {"{'immutable':true}", "{'immutable':true,'data':{'password':'eA=='}}",
     "data: Forbidden: field is immutable when `immutable` is set"},
    {"{'immutable':true}", "{'immutable':false}", "immutable: Forbidden"},
    {"{'immutable':false}", "{'immutable':true,'data':{'x':'eA=='}}", NULL},
};

static void test_update(void)
{
	for (size_t i = 0; i < sizeof(update_cases) / sizeof(update_cases[0]); i++) {
		const struct ucase *t = &update_cases[i];
		const struct kind_info *k;
		_cleanup_err_ struct err *e = NULL;
		json_t *old = build("Secret", t->old_patch, &k);
		json_t *new = build("Secret", t->new_patch, &k);
		valid_default(old, k);
		valid_default(new, k);
		int r = valid_update(old, new, k, &e);
		bool pass = t->want ? r == -EINVAL && e && strstr(e->msg, t->want) : r == 0;
		printf("  %s %s => %s\n", pass ? "ok  " : "FAIL", t->old_patch, t->new_patch);
		if (!pass)
			fprintf(stderr, "    got %d: %s\n", r, e ? e->msg : "");
		CHECK(pass);
		json_decref(old);
		json_decref(new);
	}
}

static void test_b64(void)
{
	static const char *const texts[] = {"", "a", "ab", "abc", "s3cret", "\x01\xff\x00z"};
	size_t lens[] = {0, 1, 2, 3, 6, 4};

	for (size_t i = 0; i < 6; i++) {
		_cleanup_free_ char *enc = b64_encode(texts[i], lens[i]);
		size_t n = 99;
		_cleanup_free_ char *dec = b64_decode(enc, &n);
		CHECK(dec && n == lens[i] && !memcmp(dec, texts[i], n));
		CHECK(b64_len(enc) == (long)lens[i]);
	}
	size_t n;
	CHECK(!b64_decode("abc", &n));
	CHECK(!b64_decode("a$==", &n));
	CHECK(!b64_decode("YQ==\n", &n));
	CHECK(!b64_decode("Y Q=", &n));
}

int main(void)
{
	RUN(test_validation);
	RUN(test_defaults);
	RUN(test_update);
	RUN(test_b64);
	return unit_done();
}
