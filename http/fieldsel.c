/* fieldsel.c - see fieldsel.h. */
#include "http/fieldsel.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "engine/mem.h"

#define MAX_REQS 16

struct req {
	const char *path; /* dotted JSON path */
	bool neg;
	char *value;
};

struct fieldsel {
	int n;
	struct req r[MAX_REQS];
};

/* Field label -> JSON path, per kind (kind -1: every kind). */
static const struct {
	int kind;
	const char *label, *path;
} fields[] = {
    {-1, "metadata.name", "metadata.name"},
    {-1, "metadata.namespace", "metadata.namespace"},
    {KI_POD, "spec.nodeName", "spec.nodeName"},
    {KI_POD, "status.phase", "status.phase"},
    {KI_POD, "spec.restartPolicy", "spec.restartPolicy"},
    {KI_POD, "spec.schedulerName", "spec.schedulerName"},
    {KI_POD, "spec.serviceAccountName", "spec.serviceAccountName"},
    {KI_POD, "status.podIP", "status.podIP"},
    {KI_POD, "status.nominatedNodeName", "status.nominatedNodeName"},
    {KI_EVENT, "involvedObject.kind", "involvedObject.kind"},
    {KI_EVENT, "involvedObject.namespace", "involvedObject.namespace"},
    {KI_EVENT, "involvedObject.name", "involvedObject.name"},
    {KI_EVENT, "involvedObject.uid", "involvedObject.uid"},
    {KI_EVENT, "involvedObject.apiVersion", "involvedObject.apiVersion"},
    {KI_EVENT, "involvedObject.resourceVersion", "involvedObject.resourceVersion"},
    {KI_EVENT, "involvedObject.fieldPath", "involvedObject.fieldPath"},
    {KI_EVENT, "reason", "reason"},
    {KI_EVENT, "reportingComponent", "reportingComponent"},
    {KI_EVENT, "source", "source.component"},
    {KI_EVENT, "type", "type"},
    {KI_NODE, "spec.unschedulable", "spec.unschedulable"},
    {KI_NAMESPACE, "status.phase", "status.phase"},
    {KI_REPLICASET, "status.replicas", "status.replicas"},
};

static const char *field_path(const struct kind_info *k, const char *label, size_t n)
{
	int id = (int)(k - kind_table);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if ((fields[i].kind < 0 || fields[i].kind == id) && strlen(fields[i].label) == n &&
		    !strncmp(fields[i].label, label, n))
			return fields[i].path;
	return NULL;
}

/* Reads a value up to an unescaped ',' into a new string; advances *s. */
static char *read_value(const char **s)
{
	struct buf b = {0};
	const char *p = *s;
	for (; *p && *p != ','; p++) {
		if (*p == '\\' && p[1])
			p++;
		buf_add(&b, p, 1);
	}
	buf_add(&b, "", 0);
	*s = p;
	return buf_steal(&b, NULL);
}

static int parse_req(const struct kind_info *k, const char **s, struct req *r, struct err **e)
{
	const char *p = *s;
	size_t n = strcspn(p, "=!,");
	size_t lab = n;
	while (lab && p[lab - 1] == ' ')
		lab--;
	if (p[n] == '!' && p[n + 1] == '=') {
		r->neg = true;
		p += n + 2;
	} else if (p[n] == '=') {
		p += n + (p[n + 1] == '=' ? 2 : 1);
	} else {
		return err_make(e, EINVAL, "invalid selector: '%.*s'; can't understand '%.*s'",
				(int)strlen(*s), *s, (int)n, *s);
	}
	r->path = field_path(k, *s, lab);
	if (!r->path)
		return err_make(e, EINVAL, "field label not supported: %.*s", (int)lab, *s);
	r->value = read_value(&p);
	*s = p;
	return 0;
}

int fieldsel_parse(const struct kind_info *k, const char *s, struct fieldsel **out, struct err **e)
{
	*out = NULL;
	if (!s || !*s)
		return 0;
	struct fieldsel *fs = xcalloc(1, sizeof(*fs));
	const char *p = s;
	while (*p) {
		if (fs->n == MAX_REQS) {
			fieldsel_free(fs);
			return err_make(e, EINVAL, "field selector %s: too many requirements", s);
		}
		if (parse_req(k, &p, &fs->r[fs->n], e) < 0) {
			fieldsel_free(fs);
			return -EINVAL;
		}
		fs->n++;
		if (*p == ',')
			p++;
	}
	*out = fs;
	return 0;
}

/* The field at a dotted path as text ("" when absent). */
static void field_text(const json_t *obj, const char *path, char *out, size_t size)
{
	const json_t *v = obj;
	char key[128];
	while (v && *path) {
		size_t n = strcspn(path, ".");
		snprintf(key, sizeof(key), "%.*s", (int)n, path);
		v = json_object_get(v, key);
		path += n + (path[n] == '.');
	}
	if (json_is_string(v))
		snprintf(out, size, "%s", json_string_value(v));
	else if (json_is_boolean(v))
		snprintf(out, size, "%s", json_is_true(v) ? "true" : "false");
	else if (json_is_integer(v))
		snprintf(out, size, "%lld", (long long)json_integer_value(v));
	else
		out[0] = '\0';
}

bool fieldsel_matches(const struct fieldsel *fs, const json_t *obj)
{
	if (!fs)
		return true;
	char text[512];
	for (int i = 0; i < fs->n; i++) {
		field_text(obj, fs->r[i].path, text, sizeof(text));
		if ((strcmp(text, fs->r[i].value) == 0) == fs->r[i].neg)
			return false;
	}
	return true;
}

void fieldsel_free(struct fieldsel *fs)
{
	if (!fs)
		return;
	for (int i = 0; i < fs->n; i++)
		free(fs->r[i].value);
	free(fs);
}
