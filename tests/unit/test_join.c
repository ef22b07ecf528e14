/*
 * test_join.c - the join token's format (engine/client/join_token.c), and
 * the join end to end in one process: an HTTPS server (http_start on a
 * free loopback port) writes DATA_DIR/node-token; join() (engine/client/
 * join.c, libcurl) pins its CA and gets a node credential; a CA that is
 * not the token's, a wrong secret and an unreachable server are refused
 * as join.h says; saved credentials are reused; rotate and revoke take
 * effect at once (http/auth.c's auth_caller).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/api/api.h"
#include "engine/client/join.h"
#include "engine/mem.h"
#include "http/auth.h"
#include "http/http.h"
#include "http/pki.h"
#include "tests/unit/env.h"
#include "tests/unit/unit.h"

static struct http *srv;
static char *url, *token;

static int mode_of(const char *path)
{
	struct stat sb;
	return stat(path, &sb) < 0 ? -1 : (int)(sb.st_mode & 0777);
}

static char *file(const char *rel)
{
	char *p = xasprintf("%s/%s", dir, rel);
	char *s = pki_read_file(p);
	free(p);
	return s;
}

static void test_token_format(void)
{
	char h[65], s[65];
	char *t = join_token_make("CA PEM", "0123456789abcdef0123456789abcdef0123456789abcdef0123"
					    "456789abcdef");
	CHECK(join_token_parse(t, h, s, NULL) == 0);
	char want[65];
	join_sha256_hex("CA PEM", 6, want);
	CHECK(!strcmp(h, want) && !strncmp(s, "0123", 4) && strlen(s) == 64);
	char *nl = xasprintf("%s\n", t);
	CHECK(join_token_parse(nl, h, s, NULL) == 0); /* as read from the file */
	free(nl);
	struct err *e = NULL;
	CHECK(join_token_parse("K10abc::server:xyz", h, s, &e) == -EINVAL);
	CHECK(e && strstr(e->msg, "does not start with \"cfs1.\""));
	err_free(STEAL_POINTER(&e));
	char *cut = xstrdup(t);
	cut[strlen(cut) - 1] = '\0';
	CHECK(join_token_parse(cut, h, s, &e) == -EINVAL);
	CHECK(e && strstr(e->msg, "malformed"));
	err_free(STEAL_POINTER(&e));
	cut[10] = 'X';
	CHECK(join_token_parse(cut, h, s, NULL) == -EINVAL);
	free(cut);
	free(t);
	CHECK(join_node_name_ok("n1") && join_node_name_ok("node-1.example"));
	CHECK(!join_node_name_ok("") && !join_node_name_ok("N1") && !join_node_name_ok("-a") &&
	      !join_node_name_ok("a b") && !join_node_name_ok("a/b"));
	CHECK(join_secret_equal("abc", "abc") && !join_secret_equal("abc", "abd") &&
	      !join_secret_equal("abc", "ab"));
}

static void test_server_token(void)
{
	char *p = xasprintf("%s/node-token", dir);
	CHECK(mode_of(p) == 0600);
	free(p);
	char h[65], s[65], want[65];
	CHECK(token && join_token_parse(token, h, s, NULL) == 0);
	char *ca = file("pki/ca.crt");
	join_sha256_hex(ca, strlen(ca), want);
	CHECK(!strcmp(h, want));
	free(ca);
}

static void test_join_ok(void)
{
	char *adir = xasprintf("%s/agent1", dir);
	struct join_result r;
	struct err *e = NULL;
	CHECK(join(url, token, "n1", adir, &r, &e) == 0);
	if (e)
		fprintf(stderr, "join: %s\n", e->msg);
	err_free(STEAL_POINTER(&e));
	CHECK(r.token && !strncmp(r.token, JOIN_CRED_PREFIX, strlen(JOIN_CRED_PREFIX)));
	CHECK(r.ca_path && mode_of(r.ca_path) == 0600);
	char *tp = xasprintf("%s/join/token", adir);
	CHECK(mode_of(tp) == 0600);
	char *cp = xasprintf("%s/node-credentials", dir);
	CHECK(mode_of(cp) == 0600);
	char *creds = pki_read_file(cp);
	CHECK(creds && !strncmp(creds, "n1 ", 3) && !strstr(creds, r.token));
	free(creds);
	/* A later start reuses what was saved: the same credential. */
	struct join_result r2;
	CHECK(join(url, token, "n1", adir, &r2, NULL) == 0);
	CHECK(r.token && r2.token && !strcmp(r.token, r2.token));
	join_result_free(&r2);
	/* Another agent dir under the same name: a new credential. */
	char *adir2 = xasprintf("%s/agent1b", dir);
	CHECK(join(url, token, "n1", adir2, &r2, NULL) == 0);
	CHECK(r.token && r2.token && strcmp(r.token, r2.token));
	join_result_free(&r2);
	join_result_free(&r);
	free(adir2);
	free(cp);
	free(tp);
	free(adir);
}

static void test_join_refused(void)
{
	char *adir = xasprintf("%s/agent2", dir);
	struct join_result r;
	struct err *e = NULL;
	/* Another CA's hash. */
	char *bad = xstrdup(token);
	bad[5] = bad[5] == '0' ? '1' : '0';
	CHECK(join(url, bad, "n2", adir, &r, &e) == -EPERM);
	CHECK(e && strstr(e->msg, "the server's CA does not match the token's hash: wrong server "
				  "or token"));
	err_free(STEAL_POINTER(&e));
	/* The right CA, a wrong secret. */
	strcpy(bad, token);
	size_t n = strlen(bad);
	bad[n - 1] = bad[n - 1] == '0' ? '1' : '0';
	CHECK(join(url, bad, "n2", adir, &r, &e) == -EACCES);
	CHECK(e && strstr(e->msg, "the server refused the join token"));
	err_free(STEAL_POINTER(&e));
	/* A bad node name, a malformed token. */
	CHECK(join(url, token, "No", adir, &r, NULL) == -EINVAL);
	CHECK(join(url, "nonsense", "n2", adir, &r, NULL) == -EINVAL);
	/* Nobody listening: retry, and give up after the time given. */
	CHECK(join("https://127.0.0.1:1", token, "n2", adir, &r, &e) == -EAGAIN);
	err_free(STEAL_POINTER(&e));
	CHECK(join_retry("https://127.0.0.1:1", token, "n2", adir, 2000, 1500, NULL, &r, &e) ==
	      -EAGAIN);
	err_free(STEAL_POINTER(&e));
	free(bad);
	free(adir);
}

static void test_rotate_revoke(void)
{
	char *ca = file("pki/ca.crt");
	struct auth *au = NULL;
	CHECK(auth_open(dir, api, "admin-token", ca, &au, NULL) == 0);
	char *adir = xasprintf("%s/agent3", dir);
	struct join_result r;
	CHECK(join(url, token, "n3", adir, &r, NULL) == 0);
	char *hdr = xasprintf("Bearer %s", r.token ? r.token : "");
	struct api *v = auth_caller(au, hdr);
	CHECK(v && api_caller(v)->node && !strcmp(api_caller(v)->node, "n3"));
	CHECK(v && !strcmp(api_caller(v)->user, "system:node:n3"));
	CHECK(auth_caller(au, "Bearer admin-token") == api);
	CHECK(auth_caller(au, "Bearer cfsn1.nope") == NULL);
	CHECK(auth_caller(au, NULL) == NULL);
	/* Revoked: refused at once; a second revoke has nothing to do. */
	CHECK(auth_node_revoke(dir, "n3", NULL) == 0);
	CHECK(auth_caller(au, hdr) == NULL);
	CHECK(auth_node_revoke(dir, "n3", NULL) == -ENOENT);
	join_result_free(&r);
	/* Rotated: the old token is refused, the new one joins. */
	char *fresh = NULL;
	CHECK(auth_token_rotate(dir, &fresh, NULL) == 0);
	CHECK(fresh && strcmp(fresh, token));
	char *adir4 = xasprintf("%s/agent4", dir);
	CHECK(join(url, token, "n4", adir4, &r, NULL) == -EACCES);
	CHECK(fresh && join(url, fresh, "n4", adir4, &r, NULL) == 0);
	join_result_free(&r);
	free(adir4);
	free(fresh);
	free(hdr);
	free(adir);
	auth_free(au);
	free(ca);
}

int main(void)
{
	env_up("join");
	struct http_opts o = {.api = api, .data_dir = dir, .listen = "127.0.0.1:0"};
	struct err *e = NULL;
	if (http_start(&o, &srv, &e) < 0) {
		fprintf(stderr, "http_start: %s\n", e ? e->msg : "?");
		return 1;
	}
	url = xasprintf("https://127.0.0.1:%d", http_port(srv));
	token = file("node-token");
	if (token)
		token[strcspn(token, "\n")] = '\0';
	RUN(test_token_format);
	RUN(test_server_token);
	RUN(test_join_ok);
	RUN(test_join_refused);
	RUN(test_rotate_revoke);
	http_stop(srv);
	free(token);
	free(url);
	env_down();
	return unit_done();
}
