/*
 * view.c - the tree of /cluster, computed from the API: stat and listing.
 * See view.h; the other parts are view_path.c, view_render.c,
 * view_fields.c and view_write.c.
 *
 *     $ ls /cluster
 *     README  apply  configmaps  deployments  endpoints  errors  events
 *     namespaces  nodes  pods  replicasets  services  status
 *     $ ls /cluster/deployments
 *     web  web.yaml
 *     $ cat /cluster/deployments/web/replicas
 *     3
 */
#include "fs/view.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "engine/clock.h"
#include "fs/view_int.h"

/* The caller */

static __thread struct api *caller;

void view_set_caller(struct api *as)
{
	caller = as;
}

struct api *view_caller(void)
{
	return caller;
}

struct api *view_api(struct view *v)
{
	return caller ? caller : v->api;
}

/* Stat */

static void fill(struct stat *st, mode_t mode, size_t size, int64_t mtime_ns)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = mode;
	st->st_nlink = S_ISDIR(mode) ? 2 : 1;
	st->st_size = (off_t)size;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((size + 511) / 512);
	st->st_mtim.tv_sec = mtime_ns / 1000000000;
	st->st_mtim.tv_nsec = mtime_ns % 1000000000;
	st->st_ctim = st->st_mtim;
	st->st_atim = st->st_mtim;
}

static int64_t kinddir_mtime(struct view *v, const struct vpath *p)
{
	int64_t t = api_kind_mtime(v->api, p->k, p->ns);
	return t > v->start_ns ? t : v->start_ns;
}

int view_stat(struct view *v, const struct vpath *p, struct stat *st)
{
	struct buf b = {0};
	switch (p->type) {
	case V_ROOT:
		fill(st, DIR, 0, v->start_ns);
		return 0;
	case V_ROOTFILE:
		switch (p->rootfile) {
		case RF_APPLY:
			fill(st, S_IFREG | 0200, 0, v->start_ns);
			return 0;
		case RF_ERRORS:
			fill(st, RO, feed_size(v->errors), feed_mtime_ns(v->errors));
			return 0;
		case RF_EVENTS:
			fill(st, RO, feed_size(v->events), feed_mtime_ns(v->events));
			return 0;
		default:
			view_read(v, p, &b);
			fill(st, RO, b.len,
			     p->rootfile == RF_STATUS ? feed_mtime_ns(v->events) : v->start_ns);
			if (p->rootfile == RF_STATUS)
				st->st_mtim = wall_deadline(0);
			buf_free(&b);
			return 0;
		}
	case V_KINDDIR:
		if (p->k->namespaced && strcmp(p->ns, "default")) {
			struct sobj *ns = api_get(view_api(v), KIND_NAMESPACE, "", p->ns);
			if (!ns)
				return -ENOENT;
			sobj_unref(ns);
		}
		fill(st, DIR, 0, kinddir_mtime(v, p));
		return 0;
	case V_OBJYAML:
	case V_OBJDIR:
	case V_FIELD: {
		struct sobj *o = view_object_get(v, p);
		if (!o)
			return -ENOENT;
		int r = 0;
		struct stat ls;
		if (p->type == V_OBJDIR) {
			fill(st, DIR, 0, o->mtime_ns);
		} else if (p->type == V_OBJYAML) {
			view_object_yaml(v, o, &b);
			fill(st, RW, b.len, o->mtime_ns);
		} else if (!vf_key_exists(v, p, o)) {
			r = -ENOENT;
		} else if (vf_is_dir(p)) {
			fill(st, DIR, 0, o->mtime_ns);
		} else if (vf_file_of(p)->log) {
			/* The real file's size and mtime: tail -f polls them. */
			char *dir = view_log_dir(v, p, o);
			if (podlog_stat(dir, (enum podlog_role)(vf_file_of(p)->log - 1), &ls) == 0)
				fill(st, RO, (size_t)ls.st_size,
				     (int64_t)ls.st_mtim.tv_sec * 1000000000 + ls.st_mtim.tv_nsec);
			else
				fill(st, RO, 0, o->mtime_ns);
			free(dir);
		} else {
			vf_file_of(p)->render(v, o, p->key, &b);
			mode_t mode = p->sub	  ? p->sub->mode
				      : p->key[0] ? (p->field->write ? RW : RO)
						  : p->field->mode;
			fill(st, mode, b.len, o->mtime_ns);
		}
		buf_free(&b);
		sobj_unref(o);
		return r;
	}
	default:
		return -ENOENT;
	}
}

bool view_cacheable(const struct vpath *p)
{
	if (!p->k || p->k == KIND_SECRET)
		return false;
	switch (p->type) {
	case V_OBJYAML:
	case V_OBJDIR:
		return true;
	case V_FIELD:
		return vf_is_dir(p) ? !p->field->list || p->field->own
				    : vf_file_of(p)->own && !vf_file_of(p)->log;
	default:
		return false;
	}
}

bool view_cacheable_file(const struct vpath *p)
{
	return view_cacheable(p) && (p->type == V_OBJYAML || (p->type == V_FIELD && !vf_is_dir(p)));
}

/* The content of the cacheable file p as o shows it. */
static void render_own(struct view *v, const struct vpath *p, const struct sobj *o, struct buf *out)
{
	if (p->type == V_OBJYAML)
		view_object_yaml(v, o, out);
	else
		vf_file_of(p)->render(v, o, p->key, out);
}

int view_read_since(struct view *v, const struct vpath *p, int64_t *rv, struct buf *out)
{
	struct api *as = view_caller();
	view_set_caller(NULL);
	struct sobj *o = view_object_get(v, p);
	view_set_caller(as);
	if (!o)
		return -ENOENT;
	int r = 0;
	if (p->type == V_FIELD && !vf_key_exists(v, p, o)) {
		r = -ENOENT;
	} else if (o->rv != *rv) {
		out->len = 0;
		render_own(v, p, o, out);
		*rv = o->rv;
		r = 1;
	}
	sobj_unref(o);
	return r;
}

int view_exists(struct view *v, const struct vpath *p)
{
	struct sobj *o = view_object_get(v, p);
	if (!o)
		return -ENOENT;
	bool ok = p->type != V_FIELD || vf_key_exists(v, p, o);
	sobj_unref(o);
	return ok ? 0 : -ENOENT;
}

bool view_writable(const struct vpath *p)
{
	switch (p->type) {
	case V_OBJYAML:
		return true;
	case V_ROOTFILE:
		return p->rootfile == RF_APPLY;
	case V_FIELD:
		return !vf_is_dir(p) && vf_file_of(p)->write;
	default:
		return false;
	}
}

/* Listing */

int view_list(struct view *v, const struct vpath *p, struct vdir *out)
{
	switch (p->type) {
	case V_ROOT:
		for (int i = 0; i < RF_COUNT; i++)
			vdir_add(out, view_rootfile_names[i], i == RF_APPLY ? S_IFREG | 0200 : RO);
		for (int i = 0; i < kind_count; i++)
			if (kind_table[i].in_fs)
				vdir_add(out, kind_table[i].plural, DIR);
		return 0;
	case V_KINDDIR: {
		struct sobj **l;
		int got = api_list(view_api(v), p->k, p->ns, NULL, &l, NULL);
		size_t n = got > 0 ? (size_t)got : 0;
		for (size_t i = 0; i < n; i++) {
			char name[300];
			snprintf(name, sizeof(name), "%s.yaml", l[i]->name);
			vdir_add(out, l[i]->name, DIR);
			vdir_add(out, name, RW);
		}
		sobj_list_free(l, n);
		return 0;
	}
	case V_OBJDIR: {
		struct sobj *o = view_object_get(v, p);
		if (!o)
			return -ENOENT;
		if (p->k == KIND_SECRET)
			vf_fields_of(p->k)->list(v, o, out); /* its keys */
		else
			for (const struct vfield *f = vf_fields_of(p->k); f && f->name; f++)
				vdir_add(out, f->name, f->mode);
		if (p->k == KIND_NAMESPACE)
			for (int i = 0; i < kind_count; i++)
				if (kind_table[i].in_fs && kind_table[i].namespaced)
					vdir_add(out, kind_table[i].plural, DIR);
		sobj_unref(o);
		return 0;
	}
	case V_FIELD: {
		if (!vf_is_dir(p))
			return -ENOTDIR;
		struct sobj *o = view_object_get(v, p);
		if (!o)
			return -ENOENT;
		int r = 0;
		if (!vf_key_exists(v, p, o))
			r = -ENOENT;
		else if (p->key[0])
			for (const struct vfield *f = p->field->sub; f->name; f++)
				vdir_add(out, f->name, f->mode);
		else
			p->field->list(v, o, out);
		sobj_unref(o);
		return r;
	}
	default:
		return -ENOTDIR;
	}
}
