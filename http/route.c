/* route.c - see route.h. */
#include "http/route.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine/valid/hpa.h"

#define MAX_SEGS 10

struct segs {
	int n;
	const char *s[MAX_SEGS];
	size_t len[MAX_SEGS];
};

/* Splits path on '/', skipping empty segments.  -ENOENT if too many. */
static int split(const char *path, struct segs *sg)
{
	sg->n = 0;
	const char *p = path;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		const char *q = strchrnul(p, '/');
		if (sg->n == MAX_SEGS || q - p >= ROUTE_SEG_MAX)
			return -ENOENT;
		sg->s[sg->n] = p;
		sg->len[sg->n++] = (size_t)(q - p);
		p = q;
	}
	return 0;
}

static bool seg_is(const struct segs *sg, int i, const char *word)
{
	return i < sg->n && sg->len[i] == strlen(word) && !memcmp(sg->s[i], word, sg->len[i]);
}

static int seg_copy(const struct segs *sg, int i, char *out, size_t size)
{
	if (sg->len[i] >= size)
		return -ENOENT;
	memcpy(out, sg->s[i], sg->len[i]);
	out[sg->len[i]] = '\0';
	return 0;
}

void route_api_version(const struct route *r, char out[96])
{
	if (r->group[0])
		snprintf(out, 96, "%s/%s", r->group, r->version);
	else
		snprintf(out, 96, "%s", r->version);
}

/* True when some kind is served in group/version. */
const char *const route_extra_groups[] = {"policy", NULL};

static bool extra_group(const char *group)
{
	for (size_t i = 0; route_extra_groups[i]; i++)
		if (!strcmp(route_extra_groups[i], group))
			return true;
	return false;
}

static bool group_version_known(const struct route *r)
{
	char av[96];
	route_api_version(r, av);
	if (extra_group(r->group) && !strcmp(r->version, "v1"))
		return true;
	for (int i = 0; i < kind_count; i++)
		if (!strcmp(kind_table[i].api_version, av) || hpa_alt_version(&kind_table[i], av))
			return true;
	return false;
}

static bool group_known(const char *group)
{
	if (extra_group(group))
		return true;
	size_t n = strlen(group);
	for (int i = 0; i < kind_count; i++) {
		const char *av = kind_table[i].api_version;
		if (!strncmp(av, group, n) && av[n] == '/')
			return true;
	}
	return false;
}

/* The resource part, from segment i on: PLURAL[/NAME[/SUB]]. */
static int parse_resource(const struct segs *sg, int i, bool in_ns, struct route *r)
{
	char plural[64];
	if (seg_copy(sg, i, plural, sizeof(plural)) < 0)
		return -ENOENT;
	const struct kind_info *k = kind_by_plural(plural);
	char av[96];
	route_api_version(r, av);
	if (!k || (strcmp(k->api_version, av) && !hpa_alt_version(k, av)) ||
	    (in_ns && !k->namespaced))
		return -ENOENT;
	r->kind = k;
	int rest = sg->n - i - 1;
	if (rest == 0) {
		r->type = ROUTE_COLLECTION;
		return 0;
	}
	/* A namespaced kind by name needs its namespace. */
	if (k->namespaced && !in_ns)
		return -ENOENT;
	if (rest > 2 || seg_copy(sg, i + 1, r->name, sizeof(r->name)) < 0)
		return -ENOENT;
	if (rest == 2 && seg_copy(sg, i + 2, r->sub, sizeof(r->sub)) < 0)
		return -ENOENT;
	r->type = ROUTE_OBJECT;
	return 0;
}

/* After /api/v1 or /apis/G/V, from segment i on. */
static int parse_group_version(const struct segs *sg, int i, struct route *r)
{
	if (!group_version_known(r))
		return -ENOENT;
	if (i == sg->n) {
		r->type = ROUTE_GROUP_VERSION;
		return 0;
	}
	/* namespaces/NS/PLURAL...; namespaces/NAME/status is the Namespace's. */
	bool ns_sub =
	    !r->group[0] && (seg_is(sg, i + 2, "status") || seg_is(sg, i + 2, "finalize"));
	if (seg_is(sg, i, "namespaces") && sg->n - i >= 3 && !ns_sub) {
		if (seg_copy(sg, i + 1, r->ns, sizeof(r->ns)) < 0)
			return -ENOENT;
		return parse_resource(sg, i + 2, true, r);
	}
	return parse_resource(sg, i, false, r);
}

/* /openapi/v2, /openapi/v3[/api/v1 | /apis/GROUP/VERSION]. */
static int parse_openapi(const struct segs *sg, struct route *r)
{
	if (sg->n == 2 && seg_is(sg, 1, "v2")) {
		r->type = ROUTE_OPENAPI_V2;
		return 0;
	}
	if (!seg_is(sg, 1, "v3"))
		return -ENOENT;
	r->type = ROUTE_OPENAPI_V3;
	if (sg->n == 2)
		return 0;
	if (sg->n == 4 && seg_is(sg, 2, "api"))
		return seg_copy(sg, 3, r->version, sizeof(r->version));
	if (sg->n == 5 && seg_is(sg, 2, "apis") && seg_copy(sg, 3, r->group, sizeof(r->group)) == 0)
		return seg_copy(sg, 4, r->version, sizeof(r->version));
	return -ENOENT;
}

int route_parse(const char *path, struct route *r)
{
	memset(r, 0, sizeof(*r));
	struct segs sg;
	if (split(path, &sg) < 0 || sg.n == 0)
		return -ENOENT;
	if (sg.n == 1 &&
	    (seg_is(&sg, 0, "healthz") || seg_is(&sg, 0, "readyz") || seg_is(&sg, 0, "livez"))) {
		r->type = ROUTE_HEALTH;
		return 0;
	}
	if (sg.n == 1 && seg_is(&sg, 0, "version")) {
		r->type = ROUTE_VERSION;
		return 0;
	}
	if (seg_is(&sg, 0, "openapi"))
		return parse_openapi(&sg, r);
	if (seg_is(&sg, 0, "api")) {
		if (sg.n == 1) {
			r->type = ROUTE_API;
			return 0;
		}
		if (seg_copy(&sg, 1, r->version, sizeof(r->version)) < 0)
			return -ENOENT;
		return parse_group_version(&sg, 2, r);
	}
	if (!seg_is(&sg, 0, "apis"))
		return -ENOENT;
	if (sg.n == 1) {
		r->type = ROUTE_APIS;
		return 0;
	}
	if (seg_copy(&sg, 1, r->group, sizeof(r->group)) < 0 || !group_known(r->group))
		return -ENOENT;
	if (sg.n == 2) {
		r->type = ROUTE_GROUP;
		return 0;
	}
	if (seg_copy(&sg, 2, r->version, sizeof(r->version)) < 0)
		return -ENOENT;
	return parse_group_version(&sg, 3, r);
}
