/* auth.c - who a request is, and the join of nodes.  See auth.h. */
#include "http/auth.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/client/join.h"
#include "engine/hmap.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "http/http_int.h"
#include "http/pki.h"
#include "http/tokens.h"

struct auth {
	struct api *root;
	const char *admin, *ca_pem;
	char *token_path;     /* DATA_DIR/node-token */
	char *creds_path;     /* DATA_DIR/node-credentials */
	pthread_mutex_t lock; /* guards what follows */
	struct hmap creds;    /* credential hash -> node name (char *) */
	struct stat creds_st; /* the file as last read (st_ino 0: never) */
	struct hmap views;    /* node name -> its view (struct api *) */
	struct tokens *users; /* DATA_DIR/tokens */
};

/* The node-token file */

/* The join token in path, checked: 0 and *hash, *secret, or -EINVAL. */
static int token_read(const char *path, char hash[65], char secret[65])
{
	_cleanup_free_ char *t = pki_read_file(path);
	return t ? join_token_parse(t, hash, secret, NULL) : -ENOENT;
}

static int token_write(const char *path, const char *ca_pem, const char *secret, char **token,
		       struct err **e)
{
	char *t = join_token_make(ca_pem, secret);
	char *line = xasprintf("%s\n", t);
	int r = pki_write_file(path, line, e);
	free(line);
	if (r == 0 && token)
		*token = t;
	else
		free(t);
	return r;
}

/* Makes path's token if it is missing, or names another CA. */
static int token_ensure(const char *path, const char *ca_pem, struct err **e)
{
	char hash[65], secret[65], want[65];
	join_sha256_hex(ca_pem, strlen(ca_pem), want);
	if (token_read(path, hash, secret) == 0) {
		if (!strcmp(hash, want))
			return 0;
		log_info("http", "%s: the CA changed; the join token now names it", path);
	} else if (join_random_hex(secret, e) < 0) {
		return -EIO;
	}
	return token_write(path, ca_pem, secret, NULL, e);
}

int auth_token_rotate(const char *data_dir, char **token, struct err **e)
{
	_cleanup_free_ char *ca_path = xasprintf("%s/pki/ca.crt", data_dir);
	_cleanup_free_ char *ca = pki_read_file(ca_path);
	if (!ca)
		return err_make(e, errno, "%s: %s (has a server run with --data-dir %s?)", ca_path,
				strerror(errno), data_dir);
	char secret[65];
	if (join_random_hex(secret, e) < 0)
		return -EIO;
	_cleanup_free_ char *path = xasprintf("%s/node-token", data_dir);
	return token_write(path, ca, secret, token, e);
}

/* The node-credentials file */

/* Reads path into m (hash -> node); a missing file is empty. */
static void creds_load(const char *path, struct hmap *m)
{
	hmap_clear(m, free);
	_cleanup_free_ char *t = pki_read_file(path);
	for (char *line = t, *nl; line && *line; line = nl ? nl + 1 : line + strlen(line)) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *sp = strchr(line, ' ');
		if (sp && strlen(sp + 1) == 64) {
			*sp = '\0';
			free(hmap_set(m, sp + 1, xstrdup(line)));
		}
	}
}

/*
 * Sets node's credential hash in path (hash NULL: removes it), under an
 * exclusive lock on path.lock so that a join and a revoke do not lose each
 * other's change.  0, -ENOENT (nothing to remove) or a negative errno.
 */
static int creds_set(const char *path, const char *node, const char *hash, struct err **e)
{
	_cleanup_free_ char *lpath = xasprintf("%s.lock", path);
	int lfd = open(lpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lfd < 0 || flock(lfd, LOCK_EX) < 0) {
		int err = errno;
		if (lfd >= 0)
			close(lfd);
		return err_make(e, err, "%s: %s", lpath, strerror(err));
	}
	_cleanup_free_ char *old = pki_read_file(path);
	struct buf out = {0};
	bool had = false;
	size_t nlen = strlen(node);
	for (char *line = old, *nl; line && *line; line = nl ? nl + 1 : line + strlen(line)) {
		nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);
		if (len > nlen && line[nlen] == ' ' && !strncmp(line, node, nlen)) {
			had = true;
			continue;
		}
		buf_add(&out, line, len);
		buf_add(&out, "\n", 1);
	}
	if (hash) {
		buf_add(&out, node, nlen);
		buf_add(&out, " ", 1);
		buf_add(&out, hash, strlen(hash));
		buf_add(&out, "\n", 1);
	}
	buf_add(&out, "", 0);
	int r = !hash && !had ? err_make(e, ENOENT, "node %s has no credential", node)
			      : pki_write_file(path, out.s, e);
	buf_free(&out);
	close(lfd);
	return r;
}

int auth_node_revoke(const char *data_dir, const char *node, struct err **e)
{
	_cleanup_free_ char *path = xasprintf("%s/node-credentials", data_dir);
	return creds_set(path, node, NULL, e);
}

/* Authentication */

int auth_open(const char *data_dir, struct api *root, const char *admin_token, const char *ca_pem,
	      struct auth **out, struct err **e)
{
	struct auth *a = xcalloc(1, sizeof(*a));
	a->root = root;
	a->admin = admin_token;
	a->ca_pem = ca_pem;
	a->token_path = xasprintf("%s/node-token", data_dir);
	a->creds_path = xasprintf("%s/node-credentials", data_dir);
	pthread_mutex_init(&a->lock, NULL);
	a->users = tokens_open(data_dir, root);
	int r = token_ensure(a->token_path, ca_pem, e);
	if (r < 0) {
		auth_free(a);
		return r;
	}
	log_info("http", "nodes join with the token in %s (clusterfs agent --token)",
		 a->token_path);
	*out = a;
	return 0;
}

static void view_free(void *v)
{
	api_free(v);
}

void auth_free(struct auth *a)
{
	if (!a)
		return;
	hmap_clear(&a->creds, free);
	hmap_clear(&a->views, view_free);
	tokens_free(a->users);
	pthread_mutex_destroy(&a->lock);
	free(a->token_path);
	free(a->creds_path);
	free(a);
}

/* Reads the credentials again if the file changed (a->lock held). */
static void creds_refresh(struct auth *a)
{
	struct stat st;
	if (stat(a->creds_path, &st) < 0)
		memset(&st, 0, sizeof(st));
	if (st.st_ino == a->creds_st.st_ino && st.st_size == a->creds_st.st_size &&
	    st.st_mtim.tv_sec == a->creds_st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == a->creds_st.st_mtim.tv_nsec && st.st_ino)
		return;
	creds_load(a->creds_path, &a->creds);
	a->creds_st = st;
}

/* The view of node (a->lock held). */
static struct api *node_view(struct auth *a, const char *node)
{
	struct api *v = hmap_get(&a->views, node);
	if (v)
		return v;
	static const char *const groups[] = {"system:nodes", "system:authenticated", NULL};
	char *user = xasprintf("system:node:%s", node);
	struct api_who w = {
	    .user = user, .uid = (uid_t)-1, .gid = (gid_t)-1, .groups = groups, .node = node};
	v = api_as(a->root, &w);
	free(user);
	hmap_set(&a->views, node, v);
	return v;
}

/* The bearer token of an Authorization header, or NULL. */
static const char *bearer(const char *h)
{
	if (!h || strncasecmp(h, "Bearer ", 7))
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return h;
}

struct api *auth_caller(struct auth *a, const char *authorization)
{
	const char *tok = bearer(authorization);
	if (!tok)
		return NULL;
	if (join_secret_equal(tok, a->admin))
		return a->root;
	if (strncmp(tok, JOIN_CRED_PREFIX, strlen(JOIN_CRED_PREFIX)))
		return tokens_caller(a->users, tok);
	char hash[65];
	join_sha256_hex(tok, strlen(tok), hash);
	pthread_mutex_lock(&a->lock);
	creds_refresh(a);
	const char *node = hmap_get(&a->creds, hash);
	struct api *v = node ? node_view(a, node) : NULL;
	pthread_mutex_unlock(&a->lock);
	return v;
}

/* The anonymous routes */

/* The secret a join request carries (the bare secret or the whole token). */
static bool join_secret_ok(struct auth *a, const char *tok)
{
	char hash[65], secret[65], given_h[65], given[65];
	if (!tok || token_read(a->token_path, hash, secret) < 0)
		return false;
	if (join_token_parse(tok, given_h, given, NULL) == 0)
		tok = given;
	return join_secret_equal(tok, secret);
}

static void join_node(struct auth *a, struct http_req *rq, struct http_resp *rs)
{
	if (!join_secret_ok(a, bearer(http_header(rq, "Authorization")))) {
		http_fail(rs, 401, "Unauthorized",
			  "the join token was refused: it is not this server's, or it was "
			  "rotated (clusterfs token rotate); use the server's DATA_DIR/node-token");
		return;
	}
	json_t *body = rq->body ? json_loads(rq->body, 0, NULL) : NULL;
	const char *node = json_string_value(json_object_get(body, "node"));
	if (!node || !join_node_name_ok(node)) {
		http_fail(rs, 422, "Invalid",
			  "the join request must name the node ({\"node\": NAME}, a DNS-1123 "
			  "subdomain: lower-case letters, digits, '-' and '.')");
		json_decref(body);
		return;
	}
	char secret[65], hash[65];
	struct err *e = NULL;
	char *cred = NULL;
	if (join_random_hex(secret, &e) == 0) {
		cred = xasprintf("%s%s", JOIN_CRED_PREFIX, secret);
		join_sha256_hex(cred, strlen(cred), hash);
		pthread_mutex_lock(&a->lock);
		if (creds_set(a->creds_path, node, hash, &e) == 0)
			creds_refresh(a);
		pthread_mutex_unlock(&a->lock);
	}
	if (e) {
		http_fail(rs, 500, "InternalError", "issuing a credential for node %s: %s", node,
			  e->msg);
	} else {
		log_info("http", "node %s joined: credential issued", node);
		http_resp_json(rs, 200,
			       json_pack("{s:s, s:s, s:s, s:s}", "apiVersion", "clusterfs.io/v1",
					 "kind", "NodeCredential", "node", node, "token", cred));
	}
	err_free(e);
	free(cred);
	json_decref(body);
}

int auth_serve(struct auth *a, struct http_req *rq, struct http_resp *rs)
{
	size_t n = strcspn(rq->path, "?");
	while (n > 1 && rq->path[n - 1] == '/')
		n--;
	bool ca = n == strlen(JOIN_CA_PATH) && !strncmp(rq->path, JOIN_CA_PATH, n);
	bool join = n == strlen(JOIN_PATH) && !strncmp(rq->path, JOIN_PATH, n);
	if (!ca && !join)
		return 0;
	if (ca && !strcmp(rq->method, "GET")) {
		rs->code = 200;
		rs->ctype = "application/x-pem-file";
		rs->body = xstrdup(a->ca_pem);
		rs->len = strlen(rs->body);
	} else if (join && !strcmp(rq->method, "POST")) {
		join_node(a, rq, rs);
	} else {
		http_fail(rs, 405, "MethodNotAllowed",
			  "the server does not allow this method on the requested resource");
	}
	return 1;
}
