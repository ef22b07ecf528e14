/*
 * fs_caller.c - who a request comes from, and what the files show of it.
 *
 * The mount enforces modes (default_permissions): the kernel checks each
 * access against the owner, group and mode getattr gives, and the API
 * checks again every call a request makes, through the caller's view
 * (api_as: uid, gid and supplementary groups of the FUSE request), so the
 * filesystem and the HTTP API obey one rule (api.h, "Callers").
 *
 * What a path shows (fs_perm_stat): what lies in a namespace (the top-level
 * kind folders are namespace default's; namespaces/NS/...) is owned by the
 * namespace's owner and group, with the namespace's bits applied to the
 * file's own: r where the namespace grants r, w where it grants w and the
 * file is writable, x on folders where r or x; secrets' files have no bits
 * for "other".  namespaces/NS itself shows the namespace's owner, group and
 * mode (setgid included), and chmod, chown and chgrp on it change them
 * (api_ns_chmod, api_ns_chown).  The rest (the root, its files, nodes/,
 * namespaces/, NS.yaml) is root's; the apply file is writable by all (the
 * API judges each document).  A change of a namespace invalidates every
 * attribute the kernel caches (fs_cache.c) before the chmod returns, so it
 * shows at once everywhere below.
 *
 * Views are cached per thread (libfuse's workers), a few callers each,
 * freed when the thread ends: a view is never shared across threads, so
 * it is never freed under a request.  Open files that apply later (flush,
 * release: the kernel sends release without a caller) keep their own view.
 */
#include "fs/fs_int.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>

#define CACHE_N	   4   /* callers per thread */
#define GROUPS_MAX 256 /* supplementary groups looked at */

struct cached {
	struct api *v;
	uid_t uid;
	gid_t gid;
	size_t ngids;
	gid_t *gids;
};

struct tcache {
	struct api *root;
	struct cached c[CACHE_N];
	size_t next; /* the slot to reuse */
};

static pthread_key_t tkey;
static pthread_once_t tonce = PTHREAD_ONCE_INIT;

static void cached_clear(struct cached *c)
{
	if (c->v)
		api_free(c->v);
	free(c->gids);
	memset(c, 0, sizeof(*c));
}

static void tcache_free(void *p)
{
	struct tcache *t = p;
	for (size_t i = 0; i < CACHE_N; i++)
		cached_clear(&t->c[i]);
	free(t);
}

static void tkey_make(void)
{
	pthread_key_create(&tkey, tcache_free);
}

/* A new view of root for uid, gid, gids. */
static struct api *view_for(struct api *root, uid_t uid, gid_t gid, const gid_t *gids, size_t n)
{
	char buf[1024], num[32];
	struct passwd pw, *pwr = NULL;
	getpwuid_r(uid, &pw, buf, sizeof(buf), &pwr);
	snprintf(num, sizeof(num), "%lu", (unsigned long)uid);
	struct api_who w = {
	    .user = pwr ? pwr->pw_name : num, .uid = uid, .gid = gid, .gids = gids, .ngids = n};
	return api_as(root, &w);
}

/* The request's caller: uid, gid, and *n supplementary groups in g. */
static void req_caller(fuse_req_t req, uid_t *uid, gid_t *gid, gid_t *g, size_t *n)
{
	const struct fuse_ctx *c = fuse_req_ctx(req);
	*uid = c->uid;
	*gid = c->gid;
	int got = c->uid ? fuse_req_getgroups(req, GROUPS_MAX, g) : 0;
	*n = got < 0 ? 0 : got > GROUPS_MAX ? GROUPS_MAX : (size_t)got;
}

struct api *fs_as(fuse_req_t req)
{
	struct fs *fs = fs_of(req);
	uid_t uid;
	gid_t gid, g[GROUPS_MAX];
	size_t n;
	req_caller(req, &uid, &gid, g, &n);
	if (uid == 0) {
		view_set_caller(NULL);
		return fs->view.api;
	}
	pthread_once(&tonce, tkey_make);
	struct tcache *t = pthread_getspecific(tkey);
	if (!t) {
		t = xcalloc(1, sizeof(*t));
		pthread_setspecific(tkey, t);
	}
	if (t->root != fs->view.api) {
		for (size_t i = 0; i < CACHE_N; i++)
			cached_clear(&t->c[i]);
		t->root = fs->view.api;
	}
	for (size_t i = 0; i < CACHE_N; i++) {
		struct cached *c = &t->c[i];
		if (c->v && c->uid == uid && c->gid == gid && c->ngids == n &&
		    (!n || !memcmp(c->gids, g, n * sizeof(*g)))) {
			view_set_caller(c->v);
			return c->v;
		}
	}
	struct cached *c = &t->c[t->next];
	t->next = (t->next + 1) % CACHE_N;
	cached_clear(c);
	c->v = view_for(fs->view.api, uid, gid, g, n);
	c->uid = uid;
	c->gid = gid;
	c->ngids = n;
	c->gids = n ? xmalloc(n * sizeof(*g)) : NULL;
	if (n)
		memcpy(c->gids, g, n * sizeof(*g));
	view_set_caller(c->v);
	return c->v;
}

void fs_as_end(void)
{
	view_set_caller(NULL);
}

struct api *fs_as_own(fuse_req_t req)
{
	struct api *c = view_caller(); /* set by fs_as for this request */
	return c ? api_as(c, api_caller(c)) : NULL;
}

void fs_caller_ids(uid_t *uid, gid_t *gid)
{
	struct api *c = view_caller();
	const struct api_who *w = c ? api_caller(c) : NULL;
	if (!w) {
		*uid = 0;
		*gid = 0;
		return;
	}
	*uid = w->uid == (uid_t)-1 ? 0 : w->uid;
	*gid = w->gid == (gid_t)-1 ? 0 : w->gid;
}

/* Attributes */

/* A namespace's bits applied to a file's (or folder's) own: per class, r
 * where both grant r, w where both grant w, x on folders where the
 * namespace grants r or x; secrets: nothing for other. */
static mode_t derive(mode_t own, mode_t ns, bool dir, bool secret)
{
	mode_t out = 0;
	for (int shift = 6; shift >= 0; shift -= 3) {
		mode_t b = (ns >> shift) & 7, m = 0;
		if ((b & 4) && (own & 0400))
			m |= 4;
		if ((b & 2) && (own & 0200))
			m |= 2;
		if (dir && (b & 5))
			m |= 1;
		if (secret && shift == 0)
			m = 0;
		out |= m << shift;
	}
	return out;
}

/* The namespace p lies in, or NULL (root's); *self when p is
 * namespaces/NS itself. */
static const char *ns_of(const struct vpath *p, bool *self)
{
	*self = false;
	if (p->type == V_ROOT || p->type == V_ROOTFILE || !p->k)
		return NULL;
	if (p->k == KIND_NAMESPACE) {
		*self = p->type == V_OBJDIR;
		bool inside = p->type == V_OBJDIR || p->type == V_FIELD || p->type == V_OTHER;
		return inside ? p->name : NULL;
	}
	if (!p->k->namespaced)
		return NULL;
	return p->ns[0] ? p->ns : "default";
}

void fs_perm_stat(struct fs *fs, const struct vpath *p, struct stat *st)
{
	st->st_uid = 0;
	st->st_gid = 0;
	if (p->type == V_ROOTFILE && p->rootfile == RF_APPLY) {
		st->st_mode = S_IFREG | 0222; /* anyone: the API judges each document */
		return;
	}
	bool self;
	const char *ns = ns_of(p, &self);
	if (!ns)
		return;
	struct api_ns_perm perm;
	api_ns_perm(fs->view.api, ns, &perm);
	st->st_uid = perm.uid;
	st->st_gid = perm.gid;
	if (self) {
		st->st_mode = S_IFDIR | (perm.mode & 02777);
		return;
	}
	bool secret = p->k && !strcmp(p->k->kind, "Secret");
	st->st_mode = (st->st_mode & S_IFMT) |
		      derive(st->st_mode & 0777, perm.mode, S_ISDIR(st->st_mode), secret);
}

/* chmod, chown, chgrp of namespaces/NS: 0, or an errno replied (and
 * reported); *done when p was one. */
int fs_perm_setattr(fuse_req_t req, const char *path, const struct vpath *p,
		    const struct stat *attr, int to_set, bool *done)
{
	bool self;
	const char *ns = ns_of(p, &self);
	*done = false;
	if (!ns || !self ||
	    !(to_set & (FUSE_SET_ATTR_MODE | FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)))
		return 0;
	*done = true;
	struct api *as = fs_as(req);
	struct err *err = NULL;
	int r = 0;
	if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))
		r = api_ns_chown(as, ns, (to_set & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1,
				 (to_set & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1, &err);
	if (r == 0 && (to_set & FUSE_SET_ATTR_MODE))
		r = api_ns_chmod(as, ns, attr->st_mode & 07777, &err);
	fs_as_end();
	if (r < 0) {
		/* chmod and chown say EPERM when the caller may not */
		int code = r == -EACCES ? EPERM : -r;
		if (err)
			err->code = code;
		reply_refusal(req, path, p, err, code);
		err_free(err);
		return code;
	}
	return 0;
}
