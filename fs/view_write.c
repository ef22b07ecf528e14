/*
 * view_write.c - writes, deletes and mkdir, turned into API calls.  See view.h.
 */
#include "fs/view.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine/valid/codec.h"
#include "fs/view_int.h"

/* Writes */

static const char *mount_of(const struct view *v)
{
	return v->mount ? v->mount : "/cluster";
}

/* The folder of kind k's objects in namespace ns, relative to the mount. */
static void kind_folder(const struct kind_info *k, const char *ns, char *out, size_t cap)
{
	if (k->namespaced && ns[0] && strcmp(ns, "default"))
		snprintf(out, cap, "namespaces/%s/%s", ns, k->plural);
	else
		snprintf(out, cap, "%s", k->plural);
}

/* Where documents of any kind can be written for namespace ns. */
static void apply_file(const struct view *v, const char *ns, char *out, size_t cap)
{
	if (ns[0] && strcmp(ns, "default"))
		snprintf(out, cap, "%s/namespaces/%s/apply", mount_of(v), ns);
	else
		snprintf(out, cap, "%s/apply", mount_of(v));
}

/* A manifest of another (known) kind in a kind folder: refused, naming the
 * right folder.  Returns 0 when the kind is right (or left to the API). */
static int check_kind(struct view *v, const struct vpath *p, const json_t *doc, struct err **e)
{
	const char *kind = json_string_value(json_object_get(doc, "kind"));
	const struct kind_info *k = kind ? kind_by_kind(kind) : NULL;
	if (!k || k == p->k || !k->in_fs)
		return 0;
	char folder[600], apply[600];
	kind_folder(k, p->ns, folder, sizeof(folder));
	apply_file(v, k->namespaced ? p->ns : "", apply, sizeof(apply));
	return err_make(e, EINVAL,
			"kind %s does not belong in %s/ (want %s): write it to %s/%s/ or to %s",
			kind, p->k->plural, p->k->kind, mount_of(v), folder, apply);
}

/*
 * The name a NAME.yaml manifest is applied under: the file's, unless the
 * manifest names another object and no object has the file's name (a new
 * file: applied under metadata.name, as kubectl apply -f does).  Writing
 * another name into an existing object's file is refused: a rename is not
 * an update.  Sets *other to the manifest's name when it is used.
 */
static int target_name(struct view *v, const struct vpath *p, const json_t *doc, const char **other,
		       struct err **e)
{
	const char *name =
	    json_string_value(json_object_get(json_object_get(doc, "metadata"), "name"));
	*other = NULL;
	if (!name || !strcmp(name, p->name))
		return 0;
	struct sobj *o = view_object_get(v, p);
	if (!o) {
		*other = name;
		return 0;
	}
	sobj_unref(o);
	char folder[600], apply[600];
	kind_folder(p->k, p->ns, folder, sizeof(folder));
	apply_file(v, p->ns, apply, sizeof(apply));
	return err_make(
	    e, EINVAL,
	    "%s \"%s\": metadata.name does not match the file name \"%s\", an existing "
	    "object (a rename is not an update): to create %s \"%s\", cp it as a new file "
	    "into %s/%s/ or write it to %s",
	    p->k->kind, name, p->name, p->k->kind, name, mount_of(v), folder, apply);
}

static int write_object_file(struct view *v, const struct vpath *p, json_t *doc, struct err **e)
{
	const char *other;
	int r = check_kind(v, p, doc, e);
	if (r == 0)
		r = target_name(v, p, doc, &other, e);
	if (r < 0)
		return r;
	struct api_target t = {p->k, p->ns, other ? NULL : p->name};
	r = api_apply(view_api(v), &doc, 1, &t, e);
	if (r >= 0 && other) {
		char folder[600];
		kind_folder(p->k, p->ns, folder, sizeof(folder));
		api_event(view_api(v), "Normal", "Applied", p->k->kind, p->ns, other,
			  "%s/%s.yaml applied as %s", folder, p->name, other);
	}
	return r;
}

static int write_manifest(struct view *v, const struct vpath *p, const char *data, size_t len,
			  struct err **e)
{
	json_t **docs;
	size_t n;
	int r = codec_decode(data, len, &docs, &n, e);
	if (r < 0)
		return r;
	if (p->type == V_OBJYAML && n > 1) {
		r = err_make(
		    e, EINVAL,
		    "%s.yaml holds one object, got %zu documents (write several to %s/apply)",
		    p->name, n, mount_of(v));
	} else if (p->type == V_OBJYAML && n == 1) {
		r = write_object_file(v, p, docs[0], e);
	} else if (p->type == V_OBJYAML) {
		struct api_target t = {p->k, p->ns, p->name};
		r = api_apply(view_api(v), docs, n, &t, e);
	} else {
		r = api_apply(view_api(v), docs, n, NULL, e);
	}
	codec_docs_free(docs, n);
	return r;
}

int view_apply_in(struct view *v, const char *ns, const char *data, size_t len, struct err **e)
{
	json_t **docs;
	size_t n;
	int r = codec_decode(data, len, &docs, &n, e);
	if (r < 0)
		return r;
	struct api_target t = {NULL, ns, NULL};
	r = api_apply(view_api(v), docs, n, &t, e);
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
		int r = api_delete(view_api(v), p->k, p->ns, p->name, e);
		return r < 0 ? r : 0;
	}
	if (p->type == V_OBJDIR || (p->type == V_FIELD && vf_is_dir(p)))
		return err_make(e, EISDIR, "is a directory");
	if (p->type == V_FIELD && p->k == KIND_SECRET && p->key[0]) {
		int r = view_secret_key_remove(v, p, e);
		return r < 0 ? r : 0;
	}
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
	int r = api_delete(view_api(v), p->k, p->ns, p->name, e);
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
	int r = api_apply(view_api(v), &ns, 1, &t, e);
	json_decref(ns);
	return r < 0 ? r : 0;
}
