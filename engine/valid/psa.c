/*
 * psa.c - Pod Security Standards: levels, versions, namespace labels, and
 * the evaluation of a pod against a level (the checks: psa_checks.c).
 * See psa.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mem.h"
#include "engine/valid/psa_int.h"

static const char *const level_names[] = {"privileged", "baseline", "restricted"};

const char *psa_level_name(enum psa_level l)
{
	return l <= PSA_RESTRICTED ? level_names[l] : "?";
}

void psa_policy_string(const struct psa_policy *p, char out[32])
{
	if (p->minor == PSA_LATEST)
		snprintf(out, 32, "%s:latest", psa_level_name(p->level));
	else
		snprintf(out, 32, "%s:v1.%d", psa_level_name(p->level), p->minor);
}

static int parse_level(const char *s, enum psa_level *out)
{
	for (int i = 0; i < 3; i++)
		if (s && !strcmp(s, level_names[i])) {
			*out = (enum psa_level)i;
			return 0;
		}
	return -EINVAL;
}

/* "latest" or "v1.N" (N without leading zeros). */
static int parse_version(const char *s, int *minor)
{
	if (s && !strcmp(s, "latest")) {
		*minor = PSA_LATEST;
		return 0;
	}
	if (!s || strncmp(s, "v1.", 3) || !s[3] || (s[3] == '0' && s[4]) || strlen(s) > 8)
		return -EINVAL;
	char *end;
	long n = strtol(s + 3, &end, 10);
	if (*end || n < 0 || s[3] < '0' || s[3] > '9')
		return -EINVAL;
	*minor = (int)n;
	return 0;
}

int psa_parse_policy(const char *s, struct psa_policy *out, struct err **e)
{
	char *copy = xstrdup(s ? s : "");
	char *colon = strchr(copy, ':');
	if (colon)
		*colon = '\0';
	struct psa_policy p = {PSA_BASELINE, PSA_LATEST};
	int r = parse_level(copy, &p.level);
	if (r < 0)
		r = err_make(e, EINVAL,
			     "\"%s\": the level must be one of privileged, baseline, "
			     "restricted",
			     copy);
	else if (colon && parse_version(colon + 1, &p.minor) < 0)
		r = err_make(e, EINVAL,
			     "\"%s\": the version must be \"latest\" or of the form \"v1.x\"",
			     colon + 1);
	free(copy);
	if (r == 0)
		*out = p;
	return r;
}

static int bad_label(struct err **e, const char *key, const json_t *v, const char *why)
{
	const char *s = json_string_value(v);
	return err_make(e, EINVAL,
			"metadata.labels[" PSA_LABEL_PREFIX "%s]: Invalid value: \"%s\": %s", key,
			s ? s : "", why);
}

/* One mode ("enforce") of the labels into *out. */
static int mode_policy(const json_t *labels, const char *mode, const struct psa_policy *dflt,
		       struct psa_policy *out, struct err **e)
{
	char key[64], vkey[64];
	snprintf(key, sizeof(key), PSA_LABEL_PREFIX "%s", mode);
	snprintf(vkey, sizeof(vkey), PSA_LABEL_PREFIX "%s-version", mode);
	*out = *dflt;
	const json_t *lv = json_object_get(labels, key), *vv = json_object_get(labels, vkey);
	if (lv && parse_level(json_string_value(lv), &out->level) < 0)
		return bad_label(e, key + strlen(PSA_LABEL_PREFIX), lv,
				 "must be one of privileged, baseline, restricted");
	if (vv && parse_version(json_string_value(vv), &out->minor) < 0)
		return bad_label(e, vkey + strlen(PSA_LABEL_PREFIX), vv,
				 "must be \"latest\" or of the form \"v1.x\"");
	return 0;
}

int psa_ns_policy(const json_t *labels, const struct psa_policy *dflt, struct psa_ns *out,
		  struct err **e)
{
	static const struct psa_policy base = {PSA_BASELINE, PSA_LATEST};
	if (!dflt)
		dflt = &base;
	int r = mode_policy(labels, "enforce", dflt, &out->enforce, e);
	if (r == 0)
		r = mode_policy(labels, "warn", dflt, &out->warn, e);
	if (r == 0)
		r = mode_policy(labels, "audit", dflt, &out->audit, e);
	return r;
}

bool psa_pod_of(const json_t *obj, const struct kind_info *k, const json_t **meta,
		const json_t **spec)
{
	const json_t *o = NULL;
	if (k == KIND_POD)
		o = obj;
	else if (k == KIND_DEPLOYMENT || k == KIND_REPLICASET)
		o = json_object_get(json_object_get(obj, "spec"), "template");
	*meta = json_object_get(o, "metadata");
	*spec = json_object_get(o, "spec");
	return json_is_object(*spec);
}

/* True when the restricted check that replaces id applies at minor. */
static bool replaced(const char *id, int minor)
{
	for (size_t i = 0; i < psa_nchecks; i++)
		if (psa_checks[i].replaces && !strcmp(psa_checks[i].replaces, id) &&
		    minor >= psa_checks[i].min_minor)
			return true;
	return false;
}

char *psa_evaluate(const json_t *meta, const json_t *spec, const struct psa_policy *p)
{
	if (p->level == PSA_PRIVILEGED || !json_is_object(spec))
		return NULL;
	int minor = p->minor == PSA_LATEST || p->minor > PSA_MINOR_MAX ? PSA_MINOR_MAX : p->minor;
	struct psa_pod pod = {json_is_object(meta) ? meta : NULL, spec, minor};
	struct buf b = {0};
	for (size_t i = 0; i < psa_nchecks; i++) {
		const struct psa_check *c = &psa_checks[i];
		if (c->level > p->level || minor < c->min_minor)
			continue;
		if (c->overlap && p->level == PSA_RESTRICTED && replaced(c->id, minor))
			continue;
		char *r = c->fn(&pod);
		if (r)
			buf_printf(&b, "%s%s", b.len ? ", " : "", r);
		free(r);
	}
	return b.s;
}

static const char *ann(const json_t *pod, const char *key)
{
	const char *s = json_string_value(
	    json_object_get(json_object_get(json_object_get(pod, "metadata"), "annotations"), key));
	return s ? s : "";
}

/* True when the containers of list differ in number, image or seccomp
 * annotation between the two pods. */
static bool containers_differ(const json_t *old_pod, const json_t *new_pod, const char *list)
{
	const json_t *o = json_object_get(json_object_get(old_pod, "spec"), list);
	const json_t *n = json_object_get(json_object_get(new_pod, "spec"), list);
	if (json_array_size(o) != json_array_size(n))
		return true;
	for (size_t i = 0; i < json_array_size(n); i++) {
		const json_t *oc = json_array_get(o, i), *nc = json_array_get(n, i);
		const char *oi = json_string_value(json_object_get(oc, "image"));
		const char *ni = json_string_value(json_object_get(nc, "image"));
		const char *name = json_string_value(json_object_get(nc, "name"));
		if (strcmp(oi ? oi : "", ni ? ni : ""))
			return true;
		char key[320];
		snprintf(key, sizeof(key), "container.seccomp.security.alpha.kubernetes.io/%s",
			 name ? name : "");
		if (strcmp(ann(old_pod, key), ann(new_pod, key)))
			return true;
	}
	return false;
}

bool psa_significant_update(const json_t *old_pod, const json_t *new_pod)
{
	static const char pod_key[] = "seccomp.security.alpha.kubernetes.io/pod";
	if (strcmp(ann(old_pod, pod_key), ann(new_pod, pod_key)))
		return true;
	if (containers_differ(old_pod, new_pod, "containers") ||
	    containers_differ(old_pod, new_pod, "initContainers"))
		return true;
	return !json_equal(json_object_get(json_object_get(old_pod, "spec"), "ephemeralContainers")
			       ?: json_null(),
			   json_object_get(json_object_get(new_pod, "spec"), "ephemeralContainers")
			       ?: json_null());
}
