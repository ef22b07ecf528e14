/*
 * test_secret.c - the Secret kind: validation and defaults
 * (engine/valid/valid_secret.c), updates, base64 (engine/b64.c).
 */
#include <unistd.h>

#include "engine/b64.h"
#include "engine/store/store.h"
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

/* --- encryption at rest (engine/store/store_crypt.c) --------------------- */

static int put_secret(struct store_txn *tx, void *arg, struct err **e)
{
	json_t *o = json_pack("{s:s,s:s,s:{s:s},s:{s:s}}", "apiVersion", "v1", "kind", "Secret",
			      "metadata", "name", "db", "data", "password", (const char *)arg);
	int64_t rv = store_txn_put(tx, "Secret", "default", "db", o, true, e);
	return rv < 0 ? (int)rv : 0;
}

/* Does file path hold the bytes of s? */
static bool file_has(const char *path, const char *s)
{
	char *text = NULL;
	size_t n = 0;
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	struct buf b = {0};
	char chunk[65536];
	size_t got;
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, got);
	fclose(f);
	text = b.s;
	n = b.len;
	bool has = text && memmem(text, n, s, strlen(s)) != NULL;
	buf_free(&b);
	return has;
}

static void test_encryption(void)
{
	char dir[] = "/tmp/test_secret.XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	char *db = xasprintf("%s/state.db", dir), *wal = xasprintf("%s-wal", db);
	const char *val = "aHVudGVyMi1zM2NyZXQ="; /* hunter2-s3cret */
	struct store *st = NULL;
	_cleanup_err_ struct err *e = NULL;

	CHECK(store_crypt_key("c2hvcnQ=", &e) == -EINVAL); /* "short" */
	err_free(e);
	e = NULL;
	/* 32 bytes: "0123456789abcdef0123456789abcdef" */
	CHECK(store_crypt_key("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", &e) == 0);
	CHECK(store_open(db, &st, &e) == 0);
	CHECK(store_update(st, put_secret, (void *)val, &e) == 0);
	struct sobj *o = store_get(st, "Secret", "default", "db");
	CHECK(o && !strcmp(json_string_value(
			       json_object_get(json_object_get(o->obj, "data"), "password")),
			   val));
	sobj_unref(o);
	store_close(st);
	CHECK(!file_has(db, val) && !file_has(wal, val));
	CHECK(!file_has(db, "\"password\"") && !file_has(wal, "\"password\""));
	CHECK(file_has(db, "k8s:enc:aesgcm:v1:") || file_has(wal, "k8s:enc:aesgcm:v1:"));
	/* read back transparently */
	st = NULL;
	CHECK(store_open(db, &st, &e) == 0);
	o = st ? store_get(st, "Secret", "default", "db") : NULL;
	CHECK(o && !strcmp(json_string_value(
			       json_object_get(json_object_get(o->obj, "data"), "password")),
			   val));
	sobj_unref(o);
	store_close(st);
	/* another key: the row does not open */
	CHECK(store_crypt_key("YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY=", &e) == 0);
	st = NULL;
	CHECK(store_open(db, &st, &e) < 0);
	store_close(st);
	char *cmd = xasprintf("rm -rf %s", dir);
	CHECK(system(cmd) == 0);
	free(cmd);
	free(db);
	free(wal);
}

int main(void)
{
	RUN(test_validation);
	RUN(test_defaults);
	RUN(test_update);
	RUN(test_b64);
	RUN(test_encryption);
	return unit_done();
}
