/*
 * test_tokens.c - users' bearer tokens (http/tokens.c): the file's lines
 * (plain and hashed tokens, groups, comments, bad lines), the caller each
 * maps to (its Unix uid, gid and groups), issue and revoke taking effect
 * at once, and the issued file holding no usable secret.
 */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/api/api.h"
#include "engine/client/join.h"
#include "engine/kind.h"
#include "engine/mem.h"
#include "http/pki.h"
#include "http/tokens.h"
#include "tests/unit/env.h"
#include "tests/unit/unit.h"

static void put(const char *text)
{
	char *path = xasprintf("%s/tokens", dir);
	CHECK(pki_write_file(path, text, NULL) == 0);
	free(path);
}

static bool has_gid(const struct api_who *w, gid_t g)
{
	for (size_t i = 0; i < w->ngids; i++)
		if (w->gids[i] == g)
			return true;
	return false;
}

static void test_lines(void)
{
	struct passwd *nb = getpwnam("nobody");
	CHECK(nb != NULL);
	put("# users\n"
	    "\n"
	    "plain-secret-1,nobody,,\"root,system:masters-not,daemon\"\n"
	    "not a line\n"
	    "tok-numeric,ghost,4242\n"
	    "tok-nouid,ghost2,\n"
	    "sha256:0000000000000000000000000000000000000000000000000000000000000000,x,1\n");
	struct tokens *t = tokens_open(dir, api);
	struct api *v = tokens_caller(t, "plain-secret-1");
	CHECK(v != NULL);
	if (v && nb) {
		const struct api_who *w = api_caller(v);
		CHECK(!strcmp(w->user, "nobody"));
		CHECK(w->uid == nb->pw_uid);
		CHECK(w->gid == nb->pw_gid);
		CHECK(has_gid(w, 0)); /* the listed Unix group root */
		CHECK(has_gid(w, 1)); /* daemon */
		CHECK(w->groups && w->groups[0] && !strcmp(w->groups[0], "root"));
	}
	v = tokens_caller(t, "tok-numeric");
	CHECK(v && api_caller(v)->uid == 4242);
	CHECK(tokens_caller(t, "tok-nouid") == NULL); /* nobody: skipped */
	CHECK(tokens_caller(t, "not a line") == NULL);
	CHECK(tokens_caller(t, "plain-secret-2") == NULL);
	CHECK(tokens_caller(t, "") == NULL);
	tokens_free(t);
}

/* A user's token is not root: it reads, and a write is refused. */
static void test_not_root(void)
{
	put("u-tok,nobody,,\n"
	    "m-tok,nobody,,system:masters\n");
	struct tokens *t = tokens_open(dir, api);
	struct api_request r = {"create", KIND_NODE, NULL, "n9", NULL};
	struct err *e = NULL;
	CHECK(api_authorize(tokens_caller(t, "u-tok"), &r, &e) == -EACCES);
	CHECK(e && strstr(e->msg, "User \"nobody\" cannot create"));
	err_free(e);
	CHECK(api_authorize(tokens_caller(t, "m-tok"), &r, NULL) == 0);
	tokens_free(t);
}

static void test_issue_revoke(void)
{
	put("");
	struct tokens *t = tokens_open(dir, api);
	char *tok = NULL, *tok2 = NULL;
	char *groups[] = {"daemon"};
	CHECK(tokens_issue(dir, "nobody", groups, 1, &tok, NULL) == 0);
	CHECK(tok && !strncmp(tok, "cfsu1.", 6));
	struct api *v = tok ? tokens_caller(t, tok) : NULL;
	CHECK(v && has_gid(api_caller(v), 1));
	/* the file keeps the hash, never the token, and is 0600 */
	char *path = xasprintf("%s/tokens", dir);
	char *text = pki_read_file(path);
	CHECK(text && tok && !strstr(text, tok) && strstr(text, "sha256:"));
	struct stat sb;
	CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	free(text);
	/* issuing again replaces the user's token */
	CHECK(tokens_issue(dir, "nobody", NULL, 0, &tok2, NULL) == 0);
	CHECK(tok && tokens_caller(t, tok) == NULL);
	CHECK(tok2 && tokens_caller(t, tok2) != NULL);
	CHECK(tokens_revoke(dir, "nobody", NULL) == 0);
	CHECK(tok2 && tokens_caller(t, tok2) == NULL);
	CHECK(tokens_revoke(dir, "nobody", NULL) == -ENOENT);
	CHECK(tokens_issue(dir, "no-such-user-xyz", NULL, 0, &tok, NULL) == -ENOENT);
	free(path);
	free(tok);
	free(tok2);
	tokens_free(t);
}

int main(void)
{
	env_up("tokens");
	RUN(test_lines);
	RUN(test_not_root);
	RUN(test_issue_revoke);
	env_down();
	return unit_done();
}
