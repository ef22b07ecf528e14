/*
 * valid_secret.c - the Secret kind's defaults and checks, as the API server
 * has them: stringData merged into data (and dropped) on write, type
 * Opaque by default, the keys each well-known type needs, immutable.
 * A value is never shown in a message: "<secret contents redacted>".
 */
#include <stdlib.h>
#include <string.h>

#include "engine/b64.h"
#include "engine/mem.h"
#include "engine/valid/valid_int.h"

#define SECRET_MAX (1024 * 1024)
#define REDACTED   "<secret contents redacted>"

void vsecret_default(json_t *obj)
{
	json_t *sd = vget(obj, "stringData"), *v;
	const char *k;

	vdefault(obj, "type", json_string("Opaque"));
	if (json_is_string(vget(obj, "type")) && !*json_string_value(vget(obj, "type")))
		json_object_set_new(obj, "type", json_string("Opaque"));
	if (!sd) {
		json_object_del(obj, "stringData"); /* a null */
		return;
	}
	if (!json_is_object(sd))
		return;
	json_object_foreach(sd, k, v)
	{
		if (!json_is_string(v))
			return; /* left for the check to refuse */
	}
	vdefault(obj, "data", json_object());
	if (!json_is_object(vget(obj, "data")))
		return;
	json_object_foreach(sd, k, v)
	{
		char *b = b64_encode(json_string_value(v), json_string_length(v));
		json_object_set_new(vget(obj, "data"), k, json_string(b));
		free(b);
	}
	json_object_del(obj, "stringData");
}

/* obj[field] a mapping of config keys to strings (base64 ones for data);
 * adds the decoded size to *total. */
static int check_values(struct vc *c, const json_t *obj, const char *field, size_t *total)
{
	json_t *m = vget(obj, field), *v;
	const char *k, *why;
	_cleanup_json_ json_t *red = json_string(REDACTED);

	if (!m)
		return 0;
	if (!json_is_object(m))
		return vc_invalid(c, field, red, "must be a mapping");
	json_object_foreach(m, k, v)
	{
		_cleanup_json_ json_t *jk = json_string(k);
		long n;

		if ((why = vrule_config_key(k)))
			return vc_invalid(c, field, jk, "%s", why);
		size_t mark = vc_push(c, field);
		vc_pushk(c, k);
		if (!json_is_string(v))
			return vc_invalid(c, NULL, red, "must be a string");
		n = strcmp(field, "data") ? (long)json_string_length(v)
					  : b64_len(json_string_value(v));
		if (n < 0)
			return vc_invalid(c, NULL, red, "must be base64 encoded");
		vc_pop(c, mark);
		*total += (size_t)n;
	}
	return 0;
}

/* data[key] is there (Required value otherwise); *out its decoded bytes. */
static int need_key(struct vc *c, const json_t *obj, const char *key, char **out)
{
	const char *s = json_string_value(vget(vget(obj, "data"), key));
	size_t n, mark;

	if (!s || (out && !(*out = b64_decode(s, &n)))) {
		mark = vc_push(c, "data");
		vc_pushk(c, key);
		int r = vc_required(c, NULL, NULL);
		vc_pop(c, mark);
		return r;
	}
	return 0;
}

/* data[key] holds a JSON mapping (a docker config). */
static int need_json(struct vc *c, const json_t *obj, const char *key, bool auths)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_json_ json_t *j = NULL;
	_cleanup_json_ json_t *red = json_string(REDACTED);
	json_error_t je;

	TRY(need_key(c, obj, key, &text));
	j = json_loads(text, JSON_DECODE_ANY, &je);
	vc_push(c, "data");
	vc_pushk(c, key);
	if (!j)
		return vc_invalid(c, NULL, red, "invalid character in JSON at line %d column %d",
				  je.line, je.column);
	if (!json_is_object(j))
		return vc_invalid(c, NULL, red,
				  "cannot unmarshal into a docker config: not an object");
	if (auths && json_object_get(j, "auths") && !json_is_object(json_object_get(j, "auths")))
		return vc_invalid(c, NULL, red, "auths must be a mapping");
	return 0;
}

int vsecret_check(struct vc *c, const json_t *obj)
{
	static const char msg[] = "clusterfs has no service account tokens";
	size_t total = 0;
	const char *t;

	TRY(check_values(c, obj, "data", &total));
	if (vget(obj, "stringData")) /* left by vsecret_default: not strings */
		TRY(check_values(c, obj, "stringData", &total));
	if (total > SECRET_MAX)
		return vc_fail(c, "data", "Too long: must have at most %d bytes", SECRET_MAX);
	TRY(vc_bool(c, obj, "immutable", NULL));
	TRY(vc_str(c, obj, "type", false, &t));
	if (!t || !strcmp(t, "Opaque"))
		return 0;
	if (!strcmp(t, "kubernetes.io/service-account-token"))
		return vc_notsup(c, "type", msg);
	if (!strcmp(t, "kubernetes.io/dockerconfigjson"))
		return need_json(c, obj, ".dockerconfigjson", true);
	if (!strcmp(t, "kubernetes.io/dockercfg"))
		return need_json(c, obj, ".dockercfg", false);
	if (!strcmp(t, "kubernetes.io/tls")) {
		TRY(need_key(c, obj, "tls.crt", NULL));
		return need_key(c, obj, "tls.key", NULL);
	}
	if (!strcmp(t, "kubernetes.io/ssh-auth"))
		return need_key(c, obj, "ssh-privatekey", NULL);
	if (!strcmp(t, "kubernetes.io/basic-auth") && !vget(vget(obj, "data"), "username") &&
	    !vget(vget(obj, "data"), "password"))
		return need_key(c, obj, "username", NULL);
	return 0;
}

static bool same(const json_t *a, const json_t *b)
{
	return (!a && !b) || (a && b && json_equal(a, b));
}

int vsecret_update(struct vc *c, const json_t *old, const json_t *new)
{
	static const char msg[] = "field is immutable when `immutable` is set";

	if (!same(vget(old, "type"), vget(new, "type")))
		return vc_invalid(c, "type", vget(new, "type"), "field is immutable");
	if (!json_is_true(vget(old, "immutable")))
		return 0;
	if (!json_is_true(vget(new, "immutable")))
		return vc_forbidden(c, "immutable", "%s", msg);
	if (!same(vget(old, "data"), vget(new, "data")))
		return vc_forbidden(c, "data", "%s", msg);
	return 0;
}
