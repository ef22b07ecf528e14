/*
 * fuzz_path.c - the filesystem's path parser (fs/view.h: view_parse), which
 * every lookup under the mount goes through, and the scratch-name test.
 *
 * The input is a path relative to the mount point, up to its first NUL (as
 * FUSE hands it over).  Properties of a parse that succeeds: the fields
 * fit the type (a kind folder has an exposed kind, an object a non-empty
 * name without '/', a namespaced kind a namespace, a sub-file a key), and
 * the path rebuilt from them (namespaced kinds under namespaces/NS/)
 * parses to the same thing.
 */
#include <errno.h>

#include "engine/kind.h"
#include "fs/view.h"
#include "fs/view_int.h"
#include "tests/fuzz/fuzz.h"

static int comp_ok(const char *s)
{
	return s[0] && !strchr(s, '/') && strlen(s) < 256;
}

static void check_fields(const struct vpath *p)
{
	FUZZ_CHECK(strlen(p->ns) < sizeof(p->ns) && strlen(p->name) < sizeof(p->name));
	FUZZ_CHECK(!strchr(p->ns, '/'));
	switch (p->type) {
	case V_ROOT:
		FUZZ_CHECK(!p->k);
		break;
	case V_ROOTFILE:
		FUZZ_CHECK(p->rootfile < RF_COUNT);
		break;
	case V_KINDDIR:
		FUZZ_CHECK(p->k && p->k->in_fs && !p->name[0]);
		FUZZ_CHECK(p->k->namespaced ? comp_ok(p->ns) : !p->ns[0]);
		break;
	case V_OBJYAML:
	case V_OBJDIR:
	case V_FIELD:
	case V_OTHER:
		FUZZ_CHECK(p->k && p->k->in_fs && comp_ok(p->name));
		FUZZ_CHECK(p->k->namespaced && p->k != KIND_NAMESPACE ? comp_ok(p->ns) : !p->ns[0]);
		FUZZ_CHECK((p->type == V_FIELD) == (p->field != NULL));
		FUZZ_CHECK(!p->sub || (p->field && comp_ok(p->key)));
		FUZZ_CHECK(!p->key[0] || comp_ok(p->key));
		break;
	default:
		FUZZ_CHECK(!"a type view_parse never gives");
	}
}

/* The path of p, the namespace spelt out; "" for V_OTHER (its own name is
 * not kept). */
static void rebuild(const struct vpath *p, char *out, size_t n)
{
	char kdir[600];
	out[0] = '\0';
	if (p->type == V_ROOT || p->type == V_OTHER)
		return;
	if (p->type == V_ROOTFILE) {
		snprintf(out, n, "%s", view_rootfile_names[p->rootfile]);
		return;
	}
	if (p->k->namespaced && p->k != KIND_NAMESPACE)
		snprintf(kdir, sizeof(kdir), "namespaces/%s/%s", p->ns, p->k->plural);
	else
		snprintf(kdir, sizeof(kdir), "%s", p->k->plural);
	if (p->type == V_KINDDIR)
		snprintf(out, n, "%s", kdir);
	else if (p->type == V_OBJYAML)
		snprintf(out, n, "%s/%s.yaml", kdir, p->name);
	else if (p->type == V_OBJDIR)
		snprintf(out, n, "%s/%s", kdir, p->name);
	else
		snprintf(out, n, "%s/%s/%s%s%s%s%s", kdir, p->name, p->field->name,
			 p->key[0] ? "/" : "", p->key, p->sub ? "/" : "",
			 p->sub ? p->sub->name : "");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = fuzz_cstr(data, size);
	struct vpath p, q;
	int r = view_parse(path, &p);
	FUZZ_CHECK(r == 0 || r == -ENOENT);
	if (r == 0) {
		check_fields(&p);
		char again[2048];
		rebuild(&p, again, sizeof(again));
		if (again[0] || p.type == V_ROOT) {
			FUZZ_CHECK(view_parse(again, &q) == 0);
			FUZZ_CHECK(q.type == p.type && q.k == p.k && q.field == p.field &&
				   q.sub == p.sub && q.rootfile == p.rootfile);
			FUZZ_CHECK(!strcmp(q.ns, p.ns) && !strcmp(q.name, p.name) &&
				   !strcmp(q.key, p.key));
		}
	}
	const char *last = strrchr(path, '/');
	view_is_scratch_name(last ? last + 1 : path, true);
	view_is_scratch_name(last ? last + 1 : path, false);
	free(path);
	return 0;
}
