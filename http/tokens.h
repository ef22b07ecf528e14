/*
 * tokens.h - users' bearer tokens: DATA_DIR/tokens.
 *
 * A user's token maps to a Unix user and its groups, so that a request
 * made with it is authorized by the same rules as that user's own
 * filesystem calls (the namespace owner, group and mode: engine/api).
 *
 * The file is kube-apiserver's static token file (--token-auth-file), one
 * user a line, CSV:
 *
 *     TOKEN,USER,UID[,"GROUP1,GROUP2,..."]
 *
 * TOKEN is the token itself, or "sha256:" and its SHA-256 in hex (what
 * `clusterfs token issue` writes, so the file holds no usable secret).
 * USER is a Unix user name; UID is its number (or empty: looked up).  The
 * caller's uid is USER's (or UID's, for a user the machine does not know),
 * its gid and supplementary gids USER's Unix groups (getgrouplist) plus
 * every listed GROUP that names a Unix group; GROUPs are also the
 * caller's Kubernetes groups ("system:masters" makes it root).  Blank
 * lines and lines starting with '#' are skipped; a line that cannot be
 * read is skipped with a warning in the log naming its line number.
 *
 * The server reads the file again whenever it changes (checked by stat at
 * each request with a token it does not know as the admin's or a node's),
 * so an issued token works at once and a revoked one is refused at once.
 */
#ifndef CFS_HTTP_TOKENS_H
#define CFS_HTTP_TOKENS_H

#include "engine/api/api.h"
#include "engine/err.h"

struct tokens;

/* The users' tokens of data_dir (the file may be missing: none). */
struct tokens *tokens_open(const char *data_dir, struct api *root);
void tokens_free(struct tokens *t);

/* The view of the api for token's user, or NULL: not a user's token.
 * Views live as long as t (a stream may outlive its request). */
struct api *tokens_caller(struct tokens *t, const char *token);

/* `clusterfs token issue USER [GROUP...]`: a new random token for the Unix
 * user (or numeric uid) user, written hashed to data_dir/tokens; *token
 * (malloc'd) is the token, shown once.  -ENOENT: no such user. */
int tokens_issue(const char *data_dir, const char *user, char *const *groups, size_t ngroups,
		 char **token, struct err **e);

/* Removes every token of user from data_dir/tokens: 0, or -ENOENT when it
 * has none. */
int tokens_revoke(const char *data_dir, const char *user, struct err **e);

#endif
