/* tokens.c - users' bearer tokens (DATA_DIR/tokens).  See tokens.h. */
#include "http/tokens.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
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
#include "http/pki.h"

#define HASH_PREFIX "sha256:"
#define MAX_GIDS    256

struct tokens {
	struct api *root;
	char *path;
	pthread_mutex_t lock; /* guards what follows */
	struct hmap users;    /* token hash -> view (struct api *) */
	struct api **old;     /* views of earlier readings, freed with t */
	size_t nold;
	struct stat st; /* the file as last read (st_ino 0: missing) */
};

/* One line of the file */

struct line {
	char *token, *user, *uid;
	char **groups; /* NULL-ended */
};

static void line_free(struct line *l)
{
	for (size_t i = 0; l->groups && l->groups[i]; i++)
		free(l->groups[i]);
	free(l->groups);
	free(l->token);
	free(l->user);
	free(l->uid);
}

static char *field_trim(const char *s, size_t n)
{
	while (n && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"')
		s++, n -= 2;
	return xstrndup(s, n);
}

/* Splits "TOKEN,USER,UID[,GROUPS]": 0, or -1 when a field is missing. */
static int line_parse(const char *s, struct line *l)
{
	memset(l, 0, sizeof(*l));
	const char *c1 = strchr(s, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
	if (!c2)
		return -1;
	const char *c3 = strchr(c2 + 1, ',');
	l->token = field_trim(s, c1 - s);
	l->user = field_trim(c1 + 1, c2 - c1 - 1);
	l->uid = field_trim(c2 + 1, c3 ? (size_t)(c3 - c2 - 1) : strlen(c2 + 1));
	char *gs = c3 ? field_trim(c3 + 1, strlen(c3 + 1)) : xstrdup("");
	size_t n = 0;
	l->groups = xcalloc(strlen(gs) / 2 + 2, sizeof(char *));
	for (char *p = gs, *save = NULL, *g; (g = strtok_r(p, ",", &save)); p = NULL) {
		char *t = field_trim(g, strlen(g));
		if (*t)
			l->groups[n++] = t;
		else
			free(t);
	}
	free(gs);
	return *l->token && *l->user ? 0 : -1;
}

/* Who a line is */

static bool all_digits(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

/* The Unix user of a line: 0 and *uid, *gid, gids; -ENOENT when neither
 * USER nor UID is known. */
static int line_unix(const struct line *l, uid_t *uid, gid_t *gid, gid_t *gids, int *ngids)
{
	struct passwd pw, *p = NULL;
	char buf[4096];
	getpwnam_r(l->user, &pw, buf, sizeof(buf), &p);
	if (!p && all_digits(l->uid))
		getpwuid_r((uid_t)strtoul(l->uid, NULL, 10), &pw, buf, sizeof(buf), &p);
	if (p) {
		*uid = p->pw_uid;
		*gid = p->pw_gid;
		int n = MAX_GIDS - 64;
		if (getgrouplist(p->pw_name, p->pw_gid, gids, &n) < 0)
			n = 0;
		*ngids = n;
		return 0;
	}
	if (!all_digits(l->uid))
		return -ENOENT;
	*uid = (uid_t)strtoul(l->uid, NULL, 10);
	*gid = (gid_t)-1;
	*ngids = 0;
	return 0;
}

/* The view for one line, or NULL (logged) when it names nobody. */
static struct api *line_view(struct api *root, const struct line *l, const char *path, int lineno)
{
	gid_t gids[MAX_GIDS];
	int ngids = 0;
	uid_t uid;
	gid_t gid;
	if (line_unix(l, &uid, &gid, gids, &ngids) < 0) {
		log_warn("http",
			 "%s:%d: user \"%s\" is not a Unix user and has no numeric uid: "
			 "line skipped",
			 path, lineno, l->user);
		return NULL;
	}
	for (size_t i = 0; l->groups[i] && ngids < MAX_GIDS; i++) {
		struct group gr, *g = NULL;
		char buf[4096];
		if (getgrnam_r(l->groups[i], &gr, buf, sizeof(buf), &g) == 0 && g)
			gids[ngids++] = g->gr_gid;
	}
	struct api_who w = {.user = l->user,
			    .uid = uid,
			    .gid = gid,
			    .gids = gids,
			    .ngids = (size_t)ngids,
			    .groups = (const char *const *)l->groups};
	return api_as(root, &w);
}

/* The hash a line's token is kept under (hex, 64 digits), or -1. */
static int line_hash(const char *token, char out[65])
{
	if (!strncmp(token, HASH_PREFIX, strlen(HASH_PREFIX))) {
		const char *h = token + strlen(HASH_PREFIX);
		if (strlen(h) != 64 || strspn(h, "0123456789abcdef") != 64)
			return -1;
		memcpy(out, h, 65);
		return 0;
	}
	join_sha256_hex(token, strlen(token), out);
	return 0;
}

/* Reading the file */

static void load_line(struct tokens *t, char *s, int lineno)
{
	struct line l;
	char hash[65];
	if (line_parse(s, &l) < 0 || line_hash(l.token, hash) < 0) {
		log_warn("http", "%s:%d: not TOKEN,USER,UID[,\"GROUPS\"]: line skipped", t->path,
			 lineno);
	} else {
		struct api *v = line_view(t->root, &l, t->path, lineno);
		if (v && (v = hmap_set(&t->users, hash, v)))
			api_free(v); /* a repeated token: the last line wins */
	}
	line_free(&l);
}

/* Keeps the views of the last reading for streams that may still use
 * them, and empties the map. */
static void retire_all(struct tokens *t)
{
	struct hmap_iter it = {0};
	for (struct hmap_ent *en; (en = hmap_next(&t->users, &it));) {
		t->old = xrealloc(t->old, (t->nold + 1) * sizeof(*t->old));
		t->old[t->nold++] = en->val;
	}
	hmap_clear(&t->users, NULL);
}

static void view_free(void *v)
{
	api_free(v);
}

/* Reads the file again if it changed (t->lock held). */
static void refresh(struct tokens *t)
{
	struct stat st;
	if (stat(t->path, &st) < 0)
		memset(&st, 0, sizeof(st));
	if (st.st_ino == t->st.st_ino && st.st_size == t->st.st_size &&
	    st.st_mtim.tv_sec == t->st.st_mtim.tv_sec &&
	    st.st_mtim.tv_nsec == t->st.st_mtim.tv_nsec)
		return;
	t->st = st;
	retire_all(t);
	if (st.st_ino && (st.st_mode & 077))
		log_warn("http", "%s: readable by others (mode %03o): tokens should be 0600",
			 t->path, st.st_mode & 0777);
	_cleanup_free_ char *text = st.st_ino ? pki_read_file(t->path) : NULL;
	int lineno = 0;
	for (char *s = text, *nl; s && *s; s = nl ? nl + 1 : s + strlen(s)) {
		nl = strchr(s, '\n');
		if (nl)
			*nl = '\0';
		lineno++;
		size_t lead = strspn(s, " \t\r");
		if (s[lead] && s[lead] != '#')
			load_line(t, s, lineno);
	}
}

struct tokens *tokens_open(const char *data_dir, struct api *root)
{
	struct tokens *t = xcalloc(1, sizeof(*t));
	t->root = root;
	t->path = xasprintf("%s/tokens", data_dir);
	pthread_mutex_init(&t->lock, NULL);
	return t;
}

void tokens_free(struct tokens *t)
{
	if (!t)
		return;
	hmap_clear(&t->users, view_free);
	for (size_t i = 0; i < t->nold; i++)
		api_free(t->old[i]);
	free(t->old);
	pthread_mutex_destroy(&t->lock);
	free(t->path);
	free(t);
}

struct api *tokens_caller(struct tokens *t, const char *token)
{
	char hash[65];
	join_sha256_hex(token, strlen(token), hash);
	pthread_mutex_lock(&t->lock);
	refresh(t);
	struct api *v = hmap_get(&t->users, hash);
	pthread_mutex_unlock(&t->lock);
	return v;
}

/* Issuing and revoking */

/* Rewrites data_dir/tokens under a lock: drops user's lines, then appends
 * add (NULL: nothing).  0, -ENOENT (nothing dropped, nothing added). */
static int rewrite(const char *data_dir, const char *user, const char *add, struct err **e)
{
	_cleanup_free_ char *path = xasprintf("%s/tokens", data_dir);
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
	bool dropped = false;
	for (char *s = old, *nl; s && *s; s = nl ? nl + 1 : s + strlen(s)) {
		nl = strchr(s, '\n');
		size_t len = nl ? (size_t)(nl - s) : strlen(s);
		_cleanup_free_ char *copy = xstrndup(s, len);
		struct line l;
		bool mine = line_parse(copy, &l) == 0 && !strcmp(l.user, user);
		line_free(&l);
		dropped |= mine;
		if (!mine) {
			buf_add(&out, s, len);
			buf_add(&out, "\n", 1);
		}
	}
	if (add)
		buf_puts(&out, add);
	buf_add(&out, "", 0);
	int r = !add && !dropped ? err_make(e, ENOENT, "user %s has no token in %s", user, path)
				 : pki_write_file(path, out.s, e);
	buf_free(&out);
	close(lfd);
	return r;
}

int tokens_issue(const char *data_dir, const char *user, char *const *groups, size_t ngroups,
		 char **token, struct err **e)
{
	struct passwd pw, *p = NULL;
	char buf[4096];
	getpwnam_r(user, &pw, buf, sizeof(buf), &p);
	if (!p && all_digits(user))
		getpwuid_r((uid_t)strtoul(user, NULL, 10), &pw, buf, sizeof(buf), &p);
	if (!p && !all_digits(user))
		return err_make(e, ENOENT, "%s: no such Unix user", user);
	if (strpbrk(user, ",\"\n"))
		return err_make(e, EINVAL, "%s: a user name has no ',', '\"' or newline", user);
	struct buf gs = {0};
	for (size_t i = 0; i < ngroups; i++) {
		if (strpbrk(groups[i], ",\"\n"))
			return buf_free(&gs),
			       err_make(e, EINVAL, "group %s: no ',', '\"' or newline", groups[i]);
		buf_printf(&gs, "%s%s", i ? "," : "", groups[i]);
	}
	buf_add(&gs, "", 0);
	char secret[65], hash[65];
	if (join_random_hex(secret, e) < 0)
		return buf_free(&gs), -EIO;
	char *tok = xasprintf("cfsu1.%s", secret);
	join_sha256_hex(tok, strlen(tok), hash);
	char uid[32] = "";
	if (p)
		snprintf(uid, sizeof(uid), "%u", (unsigned)p->pw_uid);
	else
		snprintf(uid, sizeof(uid), "%s", user);
	char *line =
	    xasprintf(HASH_PREFIX "%s,%s,%s,\"%s\"\n", hash, p ? p->pw_name : user, uid, gs.s);
	buf_free(&gs);
	int r = rewrite(data_dir, p ? p->pw_name : user, line, e);
	free(line);
	if (r == 0)
		*token = tok;
	else
		free(tok);
	return r;
}

int tokens_revoke(const char *data_dir, const char *user, struct err **e)
{
	return rewrite(data_dir, user, NULL, e);
}
