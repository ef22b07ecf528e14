/*
 * auth.h - who a request is (authentication), and the join of nodes.
 *
 * Bearer tokens the server knows:
 *  - the admin token (pki.h: DATA_DIR/pki/token, in the kubeconfig): the
 *    root api (user "root": everything);
 *  - a node's credential (cfsn1.<hex>, engine/client/join.h), issued by a
 *    join: a view of the api (api_as) for user system:node:NAME, groups
 *    system:nodes and system:authenticated, which the API's node authorizer
 *    restricts.  The server keeps their SHA-256 in DATA_DIR/node-credentials
 *    (0600, "NODE HASH" a line) and reads the file again whenever it changes
 *    (checked by stat at each request with a node credential), so that
 *    `clusterfs token revoke NODE` refuses that node at once;
 *  - a user's token (http/tokens.h: DATA_DIR/tokens): a view for that
 *    Unix user and its groups, which the API authorizes as it does the
 *    user's own filesystem calls;
 *  - no other: anything else is 401.
 *
 * The join token (DATA_DIR/node-token, 0600; format: engine/client/join.h)
 * is written on first start; its secret is read from the file at each join,
 * so that `clusterfs token rotate` refuses the old token at once.  The
 * anonymous routes: GET /cacerts (the CA, PEM) and POST /v1-clusterfs/join.
 *
 * Views are kept, one per node, for the server's life (a watch or a log
 * stream may outlive its request); a revoked node's streams end with their
 * connections, its new requests are 401.  Thread-safe.
 */
#ifndef CFS_HTTP_AUTH_H
#define CFS_HTTP_AUTH_H

#include "engine/api/api.h"
#include "engine/err.h"

struct auth;
struct http_req;
struct http_resp;

/* Opens the server's credentials in data_dir: writes node-token if it is
 * missing (or names another CA: then with the same secret).  admin_token
 * and ca_pem are borrowed and must outlive it.  0 or a negative errno. */
int auth_open(const char *data_dir, struct api *root, const char *admin_token, const char *ca_pem,
	      struct auth **out, struct err **e);
void auth_free(struct auth *a);

/* The api to serve a request with, from its Authorization header: root
 * for the admin token, a node's view for its credential, a user's view for
 * a user's token; NULL: unknown (401). */
struct api *auth_caller(struct auth *a, const char *authorization);

/* The anonymous routes: 1 when path is one (rs filled), else 0. */
int auth_serve(struct auth *a, struct http_req *rq, struct http_resp *rs);

/* `clusterfs token rotate`: a new secret in data_dir/node-token (the CA's
 * hash from data_dir/pki/ca.crt); *token (malloc'd) gets the new token. */
int auth_token_rotate(const char *data_dir, char **token, struct err **e);

/* `clusterfs token revoke NODE`: forgets the node's credential.  -ENOENT
 * when it has none. */
int auth_node_revoke(const char *data_dir, const char *node, struct err **e);

#endif
