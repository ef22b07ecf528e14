/*
 * registry_auth.c - the pure parts of the registry client: credentials
 * from docker config JSON, WWW-Authenticate challenges, references split
 * for the API and the endpoints to try.  See registry.h.
 */
#include "runtime/image/registry.h"

#include <errno.h>
#include <jansson.h>
#include <nettle/base64.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/mem.h"
#include "engine/obj.h"

struct registry_creds {
	json_t *auths;	   /* host key -> {"username","password"} (decoded) */
	char *user, *pass; /* for every host, or NULL */
};

/* "user:pass" base64 -> the two halves (heap), or -EINVAL. */
static int auth_decode(const char *b64, char **user, char **pass)
{
	size_t n = strlen(b64), len = BASE64_DECODE_LENGTH(n);
	_cleanup_free_ char *buf = xmalloc(len + 1);
	struct base64_decode_ctx ctx;
	base64_decode_init(&ctx);
	if (!base64_decode_update(&ctx, &len, (uint8_t *)buf, n, b64) || !base64_decode_final(&ctx))
		return -EINVAL;
	buf[len] = '\0';
	char *colon = strchr(buf, ':');
	if (!colon || memchr(buf, '\0', len))
		return -EINVAL;
	*colon = '\0';
	*user = xstrdup(buf);
	*pass = xstrdup(colon + 1);
	return 0;
}

/* The host part of a config key: "https://index.docker.io/v1/" ->
 * "index.docker.io", "ghcr.io" -> "ghcr.io". */
static char *key_host(const char *key)
{
	const char *p = strstr(key, "://");
	p = p ? p + 3 : key;
	size_t n = strcspn(p, "/");
	char *h = xmalloc(n + 1);
	memcpy(h, p, n);
	h[n] = '\0';
	return h;
}

int registry_creds_parse(const char *json, size_t len, struct registry_creds **out, struct err **e)
{
	json_error_t je;
	_cleanup_json_ json_t *root = json_loadb(json, len, 0, &je);
	if (!json_is_object(root))
		return err_make(e, EINVAL, "docker config: not a JSON object");
	json_t *auths = json_object_get(root, "auths");
	if (!auths)
		auths = root; /* the older .dockercfg form */
	if (!json_is_object(auths))
		return err_make(e, EINVAL, "docker config: auths is not an object");
	struct registry_creds *c = xcalloc(1, sizeof(*c));
	c->auths = json_object();
	const char *key;
	json_t *v;
	json_object_foreach(auths, key, v)
	{
		const char *a = json_string_value(json_object_get(v, "auth"));
		const char *u = json_string_value(json_object_get(v, "username"));
		const char *p = json_string_value(json_object_get(v, "password"));
		_cleanup_free_ char *du = NULL, *dp = NULL;
		if (a && *a && auth_decode(a, &du, &dp) < 0) {
			registry_creds_free(c);
			return err_make(e, EINVAL,
					"docker config: %s: auth is not base64 USER:PASSWORD", key);
		}
		if (du)
			u = du, p = dp;
		if (!u || !p)
			continue;
		_cleanup_free_ char *h = key_host(key);
		json_object_set_new(c->auths, h,
				    json_pack("{s:s, s:s}", "username", u, "password", p));
	}
	*out = c;
	return 0;
}

int registry_creds_basic(const char *user_pass, struct registry_creds **out, struct err **e)
{
	const char *colon = strchr(user_pass, ':');
	if (!colon || colon == user_pass)
		return err_make(e, EINVAL, "credentials must be USER:PASSWORD");
	struct registry_creds *c = xcalloc(1, sizeof(*c));
	c->auths = json_object();
	c->user = xstrndup(user_pass, colon - user_pass);
	c->pass = xstrdup(colon + 1);
	*out = c;
	return 0;
}

void registry_creds_merge(struct registry_creds *a, const struct registry_creds *b)
{
	const char *key;
	json_t *v;
	json_object_foreach(b->auths, key, v)
	{
		if (!json_object_get(a->auths, key))
			json_object_set(a->auths, key, v);
	}
	if (!a->user && b->user) {
		a->user = xstrdup(b->user);
		a->pass = xstrdup(b->pass);
	}
}

bool registry_creds_lookup(const struct registry_creds *c, const char *host, const char **user,
			   const char **pass)
{
	if (!c)
		return false;
	json_t *v = json_object_get(c->auths, host);
	if (!v && !strcmp(host, "docker.io")) {
		static const char *const aliases[] = {"index.docker.io", "registry-1.docker.io",
						      "registry.hub.docker.com"};
		for (size_t i = 0; !v && i < sizeof(aliases) / sizeof(aliases[0]); i++)
			v = json_object_get(c->auths, aliases[i]);
	}
	if (v) {
		*user = json_string_value(json_object_get(v, "username"));
		*pass = json_string_value(json_object_get(v, "password"));
		return true;
	}
	if (c->user) {
		*user = c->user;
		*pass = c->pass;
		return true;
	}
	return false;
}

void registry_creds_free(struct registry_creds *c)
{
	if (!c)
		return;
	json_decref(c->auths);
	free(c->user);
	free(c->pass);
	free(c);
}

/* ---- WWW-Authenticate ---- */

/* Bearer realm="https://auth.docker.io/token",service="registry.docker.io",
 * scope="repository:library/busybox:pull" (values quoted or bare; a
 * quoted value may hold commas and backslash escapes). */
int registry_challenge_parse(const char *h, struct registry_challenge *out)
{
	memset(out, 0, sizeof(*out));
	h += strspn(h, " \t");
	size_t n = strcspn(h, " \t");
	if (n == 0)
		return -EINVAL;
	out->scheme = xstrndup(h, n);
	const char *p = h + n;
	while (*p) {
		p += strspn(p, " \t,");
		size_t kn = strcspn(p, "= \t,");
		if (!kn || p[kn] != '=')
			break;
		const char *k = p;
		p += kn + 1;
		char *val = xmalloc(strlen(p) + 1), *w = val;
		if (*p == '"') {
			for (p++; *p && *p != '"'; p++)
				*w++ = (*p == '\\' && p[1]) ? *++p : *p;
			if (*p == '"')
				p++;
		} else {
			while (*p && *p != ',' && *p != ' ' && *p != '\t')
				*w++ = *p++;
		}
		*w = '\0';
		char **slot = !strncasecmp(k, "realm", kn) && kn == 5	  ? &out->realm
			      : !strncasecmp(k, "service", kn) && kn == 7 ? &out->service
			      : !strncasecmp(k, "scope", kn) && kn == 5	  ? &out->scope
									  : NULL;
		if (slot && !*slot)
			*slot = val;
		else
			free(val);
	}
	return 0;
}

void registry_challenge_free(struct registry_challenge *c)
{
	free(c->scheme);
	free(c->realm);
	free(c->service);
	free(c->scope);
	memset(c, 0, sizeof(*c));
}

/* ---- References and endpoints ---- */

int registry_ref_split(const char *ref, struct registry_ref *out, struct err **e)
{
	char norm[IMAGE_REF_MAX];
	int r = image_normalize(ref, norm, sizeof(norm), e);
	if (r < 0)
		return r;
	char *slash = strchr(norm, '/');
	char *at = strchr(norm, '@');
	char *sep = at ? at : strrchr(norm, ':');
	if (!slash || !sep || sep < slash)
		return err_make(e, EINVAL, "image %s: no repository", ref);
	*sep = '\0';
	*slash = '\0';
	if (strlen(norm) >= sizeof(out->host))
		return err_make(e, ENAMETOOLONG, "image %s: registry name too long", ref);
	memcpy(out->host, norm, strlen(norm) + 1);
	snprintf(out->repo, sizeof(out->repo), "%s", slash + 1);
	snprintf(out->reference, sizeof(out->reference), "%s", sep + 1);
	return 0;
}

static bool listed(const char *const *v, size_t n, const char *host)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], host))
			return true;
	return false;
}

char *registry_endpoint(const struct registry_conf *conf, const char *host, int i)
{
	static const struct registry_conf none;
	if (!conf)
		conf = &none;
	if (!strcmp(host, "docker.io")) {
		for (size_t m = 0; m < conf->n_mirrors; m++) {
			const char *eq = strchr(conf->mirrors[m], '=');
			if (!eq || strncmp(conf->mirrors[m], "docker.io=", 10))
				continue;
			if (i-- == 0) {
				char *u = xstrdup(eq + 1);
				size_t n = strlen(u);
				while (n && u[n - 1] == '/')
					u[--n] = '\0';
				return u;
			}
		}
	}
	if (i != 0)
		return NULL;
	const char *real = strcmp(host, "docker.io") ? host : "registry-1.docker.io";
	bool plain = listed(conf->insecure, conf->n_insecure, host);
	if (!plain && strchr(host, ':')) {
		/* "HOST" listed also covers HOST:PORT */
		_cleanup_free_ char *bare = xstrndup(host, strchr(host, ':') - host);
		plain = listed(conf->insecure, conf->n_insecure, bare);
	}
	return xasprintf("%s://%s", plain ? "http" : "https", real);
}
