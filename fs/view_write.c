/*
 * view_write.c - writes, deletes and mkdir, turned into API calls.  See view.h.
 */
#include "fs/view.h"

#include <errno.h>

#include "engine/valid/codec.h"
#include "fs/view_int.h"

/* Writes */

static int write_manifest(struct view *v, const struct vpath *p, const char *data, size_t len,
			  struct err **e)
{
	json_t **docs;
	size_t n;
	int r = codec_decode(data, len, &docs, &n, e);
	if (r < 0)
		return r;
	if (p->type == V_OBJYAML) {
		if (n > 1) {
			codec_docs_free(docs, n);
			return err_make(e, EINVAL,
					"%s.yaml holds one object, got %zu documents (write "
					"several to /cluster/apply)",
					p->name, n);
		}
		struct api_target t = {p->k, p->ns, p->name};
		r = api_apply(v->api, docs, n, &t, e);
	} else {
		r = api_apply(v->api, docs, n, NULL, e);
	}
	codec_docs_free(docs, n);
	return r;
}

int view_write(struct view *v, const struct vpath *p, const char *data, size_t len, struct err **e)
{
	if (!view_writable(p))
		return err_make(e, EROFS, "read-only file");
	if (len > CODEC_MAX_BYTES)
		return err_make(e, EFBIG, "a manifest may be at most %d bytes (got %zu)",
				CODEC_MAX_BYTES, len);
	if (p->type == V_FIELD)
		return vf_file_of(p)->write(v, p, data, len, e);
	return write_manifest(v, p, data, len, e);
}

/* Deleting and creating */

int view_unlink(struct view *v, const struct vpath *p, struct err **e)
{
	if (p->type == V_OBJYAML) {
		int r = api_delete(v->api, p->k, p->ns, p->name, e);
		return r < 0 ? r : 0;
	}
	if (p->type == V_OBJDIR || (p->type == V_FIELD && vf_is_dir(p)))
		return err_make(e, EISDIR, "is a directory");
	if (p->type == V_FIELD && p->key[0] && !p->sub)
		return err_make(e, EPERM, "%s \"%s\": remove a data key by editing %s.yaml",
				p->k->kind, p->name, p->name);
	return err_make(e, EPERM, "this file cannot be removed");
}

int view_rmdir(struct view *v, const struct vpath *p, struct err **e)
{
	if (p->type != V_OBJDIR) {
		if (p->type == V_OBJYAML || p->type == V_ROOTFILE ||
		    (p->type == V_FIELD && !vf_is_dir(p)))
			return err_make(e, ENOTDIR, "not a directory");
		return err_make(e, EPERM, "this folder cannot be removed");
	}
	int r = api_delete(v->api, p->k, p->ns, p->name, e);
	return r < 0 ? r : 0;
}

int view_mkdir(struct view *v, const struct vpath *p, struct err **e)
{
	if (p->type != V_OBJDIR || p->k != KIND_NAMESPACE)
		return err_make(e, EPERM,
				"only namespaces are made with mkdir; create other objects by "
				"writing NAME.yaml");
	struct sobj *o = view_object_get(v, p);
	if (o) {
		sobj_unref(o);
		return err_make(e, EEXIST, "namespace \"%s\" already exists", p->name);
	}
	json_t *ns = json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Namespace",
			       "metadata", "name", p->name);
	struct api_target t = {KIND_NAMESPACE, NULL, p->name};
	int r = api_apply(v->api, &ns, 1, &t, e);
	json_decref(ns);
	return r < 0 ? r : 0;
}
