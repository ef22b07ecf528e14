/*
 * view_path.c - path parsing: which part of the tree a path names.  See view.h.
 */
#include "fs/view.h"

#include <errno.h>
#include <string.h>

#include "fs/view_int.h"

/* Directory listings */

void vdir_add(struct vdir *d, const char *name, mode_t mode)
{
	d->v = xrealloc(d->v, (d->n + 1) * sizeof(*d->v));
	d->v[d->n].name = xstrdup(name);
	d->v[d->n].mode = mode;
	d->n++;
}

void vdir_free(struct vdir *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].name);
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

/* Path parsing */

const char *const view_rootfile_names[RF_COUNT] = {"README", "status", "apply",
						   "errors", "events", "top"};

bool view_is_scratch_name(const char *name, bool in_kind_dir)
{
	size_t n = strlen(name);
	if (n == 0)
		return false;
	if (name[0] == '.' || name[0] == '#' || name[n - 1] == '~' || name[n - 1] == '#')
		return true;
	if (strspn(name, "0123456789") == n) /* vim's 4913 probe */
		return true;
	if (n == 9 && !strncmp(name, "sed", 3)) /* sed -i: sedXXXXXX */
		return true;
	static const char *const suffixes[] = {".swp", ".swx", ".tmp", ".bak", ".orig", ".new"};
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		size_t sl = strlen(suffixes[i]);
		if (n > sl && !strcmp(name + n - sl, suffixes[i]))
			return true;
	}
	/* In a kind folder, anything that is not NAME.yaml is scratch. */
	return in_kind_dir && !(n > 5 && !strcmp(name + n - 5, ".yaml"));
}

static int copy_name(char *dst, size_t cap, const char *src, size_t n)
{
	if (n == 0 || n >= cap)
		return -ENOENT;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

/* secrets/NAME/KEY: any name in NAME/ is a key (true; p set). */
static bool secret_key(struct vpath *p, const char *comp)
{
	if (p->k != KIND_SECRET)
		return false;
	p->type = V_FIELD;
	p->field = vf_fields_of(p->k);
	p->scratch_ok = false;
	snprintf(p->key, sizeof(p->key), "%s", comp);
	return true;
}

int view_parse(const char *path, struct vpath *p)
{
	memset(p, 0, sizeof(*p));
	p->type = V_ROOT;
	const char *s = path;
	while (*s) {
		const char *slash = strchr(s, '/');
		size_t n = slash ? (size_t)(slash - s) : strlen(s);
		char comp[256];
		if (copy_name(comp, sizeof(comp), s, n) < 0)
			return -ENOENT;
		s += n + (slash ? 1 : 0);
		bool last = !*s;
		switch (p->type) {
		case V_ROOT:
			for (int i = 0; i < RF_COUNT; i++) {
				if (!strcmp(comp, view_rootfile_names[i])) {
					p->type = V_ROOTFILE;
					p->rootfile = (enum rootfile)i;
				}
			}
			if (p->type == V_ROOTFILE)
				break;
			p->k = kind_by_plural(comp);
			if (!p->k || !p->k->in_fs)
				return -ENOENT;
			p->type = V_KINDDIR;
			strcpy(p->ns, p->k->namespaced ? "default" : "");
			break;
		case V_KINDDIR: {
			p->scratch_ok = true;
			if (n > 5 && !strcmp(comp + n - 5, ".yaml") && comp[0] != '.') {
				p->type = V_OBJYAML;
				comp[n - 5] = '\0';
			} else {
				p->type = V_OBJDIR;
			}
			strcpy(p->name, comp);
			if (p->k == KIND_NAMESPACE)
				strcpy(p->ns, "");
			break;
		}
		case V_OBJDIR: {
			p->scratch_ok = view_is_scratch_name(comp, false);
			if (p->k == KIND_NAMESPACE) {
				const struct kind_info *k2 = kind_by_plural(comp);
				if (k2 && k2->in_fs && k2->namespaced) {
					p->type = V_KINDDIR;
					p->k = k2;
					snprintf(p->ns, sizeof(p->ns), "%s", p->name);
					p->name[0] = '\0';
					p->scratch_ok = false;
					break;
				}
			}
			const struct vfield *f = vf_fields_of(p->k);
			if (secret_key(p, comp))
				break;
			for (; f && f->name; f++)
				if (!strcmp(f->name, comp))
					break;
			if (f && f->name) {
				p->type = V_FIELD;
				p->field = f;
				p->scratch_ok = false;
			} else {
				p->type = V_OTHER;
			}
			break;
		}
		case V_FIELD: {
			if (!S_ISDIR(p->field->mode) || p->sub)
				return -ENOENT;
			if (!p->key[0]) {
				strcpy(p->key, comp);
				p->scratch_ok = !p->field->sub && view_is_scratch_name(comp, false);
				break;
			}
			const struct vfield *f = p->field->sub;
			for (; f && f->name; f++)
				if (!strcmp(f->name, comp))
					break;
			if (!f || !f->name)
				return -ENOENT;
			p->sub = f;
			p->scratch_ok = false;
			break;
		}
		default:
			return -ENOENT;
		}
		if (p->type == V_ROOTFILE && !last)
			return -ENOENT;
		if (p->type == V_OTHER && !last)
			return -ENOENT;
		if (p->type == V_OBJYAML && !last)
			return -ENOENT;
	}
	return 0;
}
