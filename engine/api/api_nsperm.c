/*
 * api_nsperm.c - a namespace's owner, group and mode (api.h, "Namespace
 * ownership"): read from its annotations, judged as Unix judges a folder's
 * permissions, and changed by chown and chmod with Unix's rules.  The
 * authorizer (api_authz.c) applies them to every call of a view.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/api/api.h"
#include "engine/api/api_int.h"
#include "engine/mem.h"

/* A numeric annotation: its value, or def when absent or not a number
 * below max. */
static unsigned long ann_num(const json_t *ann, const char *key, int base, unsigned long max,
			     unsigned long def)
{
	const char *s = api_jstr(ann, key);
	if (!s || !*s)
		return def;
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, base);
	if (errno || *end || *s == '-' || v > max)
		return def;
	return v;
}

void api_ns_perm_of(const json_t *ns_obj, struct api_ns_perm *out)
{
	const json_t *ann = json_object_get(json_object_get(ns_obj, "metadata"), "annotations");
	out->uid = (uid_t)ann_num(ann, API_NS_OWNER, 10, 0xfffffffeul, 0);
	out->gid = (gid_t)ann_num(ann, API_NS_GROUP, 10, 0xfffffffeul, 0);
	out->mode = (mode_t)ann_num(ann, API_NS_MODE, 8, 07777, API_NS_DEFAULT_MODE) & 02777;
}

int api_ns_perm(struct api *a, const char *ns, struct api_ns_perm *out)
{
	struct sobj *o = ns && *ns ? store_get(a->st, "Namespace", "", ns) : NULL;
	if (!o) {
		*out = (struct api_ns_perm){0, 0, API_NS_DEFAULT_MODE};
		return -ENOENT;
	}
	api_ns_perm_of(o->obj, out);
	sobj_unref(o);
	return 0;
}

static bool has_gid(const struct api_who *w, gid_t g)
{
	if (w->gid == g && w->gid != (gid_t)-1)
		return true;
	for (size_t i = 0; i < w->ngids; i++)
		if (w->gids[i] == g)
			return true;
	return false;
}

bool api_ns_grants(const struct api_who *w, const struct api_ns_perm *p, int want, bool secret)
{
	int bits;
	if (w->uid != (uid_t)-1 && w->uid == p->uid)
		bits = (int)(p->mode >> 6) & 7;
	else if (has_gid(w, p->gid))
		bits = (int)(p->mode >> 3) & 7;
	else if (secret)
		return false;
	else
		bits = (int)p->mode & 7;
	return (bits & want) == want;
}

/* Chown and chmod */

struct perm_arg {
	const struct api_who *who; /* the caller */
	bool root;
	uid_t uid; /* chown: new owner, or -1 */
	gid_t gid; /* chown: new group, or -1 */
	int mode;  /* chmod: the new mode, or -1 */
	const char *ns;
};

static void set_ann(json_t *obj, const char *key, const char *fmt, unsigned long v)
{
	json_t *md = api_meta_of(obj);
	json_t *ann = json_object_get(md, "annotations");
	if (!json_is_object(ann)) {
		ann = json_object();
		json_object_set_new(md, "annotations", ann);
	}
	char buf[32];
	snprintf(buf, sizeof(buf), fmt, v);
	json_object_set_new(ann, key, json_string(buf));
}

/* Kubernetes' Forbidden wording, for a patch of the namespace. */
static int refuse(const struct perm_arg *pa, const char *what, struct err **e)
{
	return err_make(e, EACCES,
			"namespaces \"%s\" is forbidden: User \"%s\" cannot patch resource "
			"\"namespaces\" in API group \"\" at the cluster scope: %s",
			pa->ns, pa->who->user, what);
}

/* Runs inside the namespace's patch transaction: judged on the current
 * ownership. */
static int perm_mutate(json_t *obj, void *arg, struct err **e)
{
	struct perm_arg *pa = arg;
	struct api_ns_perm cur;
	api_ns_perm_of(obj, &cur);
	bool owner = pa->who->uid != (uid_t)-1 && pa->who->uid == cur.uid;
	if (pa->mode >= 0) {
		if (!pa->root && !owner)
			return refuse(pa, "only its owner or root may change its mode", e);
		mode_t m = (mode_t)pa->mode & 02777;
		if (!pa->root && !has_gid(pa->who, cur.gid))
			m &= ~(mode_t)02000;
		set_ann(obj, API_NS_MODE, "%04lo", m);
		return 0;
	}
	if (pa->uid != (uid_t)-1 && pa->uid != cur.uid && !pa->root)
		return refuse(pa, "only root may change its owner", e);
	if (pa->gid != (gid_t)-1 && pa->gid != cur.gid && !pa->root &&
	    (!owner || !has_gid(pa->who, pa->gid)))
		return refuse(pa,
			      "only root, or its owner to a group of their own, may change "
			      "its group",
			      e);
	if (pa->uid != (uid_t)-1)
		set_ann(obj, API_NS_OWNER, "%lu", pa->uid);
	if (pa->gid != (gid_t)-1)
		set_ann(obj, API_NS_GROUP, "%lu", pa->gid);
	return 0;
}

static int perm_change(struct api *a, struct perm_arg *pa, struct err **e)
{
	pa->who = api_caller(a);
	pa->root = api_caller_is_root(a);
	if (pa->who->node)
		return refuse(pa, "a node may not change a namespace's owner, group or mode", e);
	int r = api_patch(a->root, KIND_NAMESPACE, "", pa->ns, perm_mutate, pa, e);
	return r < 0 ? r : 0;
}

int api_ns_chown(struct api *a, const char *ns, uid_t uid, gid_t gid, struct err **e)
{
	struct perm_arg pa = {.uid = uid, .gid = gid, .mode = -1, .ns = ns};
	return perm_change(a, &pa, e);
}

int api_ns_chmod(struct api *a, const char *ns, mode_t mode, struct err **e)
{
	struct perm_arg pa = {
	    .uid = (uid_t)-1, .gid = (gid_t)-1, .mode = (int)(mode & 07777), .ns = ns};
	return perm_change(a, &pa, e);
}

/* "alice:dev mode 2770", names where the system knows them. */
char *api_ns_perm_text(const struct api_ns_perm *p)
{
	char ub[1024], gb[1024], un[32], gn[32];
	struct passwd pw, *pwr = NULL;
	struct group gr, *grr = NULL;
	getpwuid_r(p->uid, &pw, ub, sizeof(ub), &pwr);
	getgrgid_r(p->gid, &gr, gb, sizeof(gb), &grr);
	snprintf(un, sizeof(un), "%lu", (unsigned long)p->uid);
	snprintf(gn, sizeof(gn), "%lu", (unsigned long)p->gid);
	return xasprintf("%s:%s mode %04lo", pwr ? pwr->pw_name : un, grr ? grr->gr_name : gn,
			 (unsigned long)p->mode);
}
