/*
 * valid_int.h - private to engine/valid*.c: the walk context that builds
 * Kubernetes field paths, the helpers that word errors the way the API
 * server does, typed getters for manifest fields and the value rules.
 * Nothing else includes this file; the module's interface is valid.h.
 * valid_rules.c implements it, valid_pod.c the vpod_* functions.
 *
 * A walk keeps the path of the mapping it is in ("spec.template.spec");
 * a helper that finds a problem with a field of that mapping names the
 * field, and the message reads
 *
 *     Deployment "web": spec.template.spec.containers[0].image: Required value
 *
 * Every checker returns 0 or -EINVAL with *c->e set; the first problem
 * stops the walk.  A checker that succeeds leaves the path as it found it.  A JSON null counts as
 * absent, as it does when the API server decodes a manifest.
 */
#ifndef CFS_VALID_INT_H
#define CFS_VALID_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine/err.h"
#include "engine/kind.h"
#include "engine/obj.h"

#define VC_PATH_MAX 512

/* Returns from the calling checker when x fails.  The path is left as it
 * was at the failure: a failed walk reports once and is never resumed. */
#define TRY(x)                                                                                     \
	do {                                                                                       \
		int try_r_ = (x);                                                                  \
		if (try_r_ < 0)                                                                    \
			return try_r_;                                                             \
	} while (0)

/* One walk over one object. */
struct vc {
	const char *kind; /* "Deployment" */
	const char *name; /* metadata.name, or NULL when there is none */
	struct err **e;	  /* the caller's, may be NULL */
	size_t len;	  /* strlen(path) */
	char path[VC_PATH_MAX];
};

void vc_init(struct vc *c, const json_t *obj, const struct kind_info *k, struct err **e);

/* Extend the path by ".field", "[i]" or "[key]"; each returns a mark that
 * vc_pop() goes back to.  A path too long to hold is cut, never overrun. */
size_t vc_push(struct vc *c, const char *field);
size_t vc_pushi(struct vc *c, size_t i);
size_t vc_pushk(struct vc *c, const char *key);
void vc_pop(struct vc *c, size_t mark);

/*
 * Errors about `field` of the current mapping (NULL: the current path
 * itself; "[3]" style fields attach without a dot).  All return -EINVAL.
 *   vc_fail         PATH: free text
 *   vc_invalid      PATH: Invalid value: V: detail
 *   vc_required     PATH: Required value[: detail]
 *   vc_unsupported  PATH: Unsupported value: V: supported values: "A", "B"
 *   vc_notsup       PATH: Unsupported value: detail (clusterfs lacks it)
 *   vc_forbidden    PATH: Forbidden: detail
 *   vc_duplicate    PATH: Duplicate value: V
 *   vc_notfound     PATH: Not found: V
 */
int vc_fail(struct vc *c, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int vc_invalid(struct vc *c, const char *field, const json_t *v, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
int vc_required(struct vc *c, const char *field, const char *detail);
int vc_unsupported(struct vc *c, const char *field, const json_t *v, const char *const *allowed);
int vc_notsup(struct vc *c, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int vc_forbidden(struct vc *c, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int vc_duplicate(struct vc *c, const char *field, const json_t *v);
int vc_notfound(struct vc *c, const char *field, const json_t *v);

/*
 * Typed getters for parent[key].  Absent (or null) gives 0 and *out NULL
 * (or untouched for numbers), unless req, which makes it "Required value".
 * A value of the wrong type is "Invalid value: V: must be a ...".
 * vc_str with req also refuses "".  vc_int checks min <= n <= max and
 * returns 1 when the field is present.  vc_enum checks the value is one of
 * allowed (NULL-terminated).
 */
int vc_map(struct vc *c, const json_t *parent, const char *key, bool req, json_t **out);
int vc_list(struct vc *c, const json_t *parent, const char *key, bool req, json_t **out);
int vc_str(struct vc *c, const json_t *parent, const char *key, bool req, const char **out);
int vc_int(struct vc *c, const json_t *parent, const char *key, bool req, int64_t min, int64_t max,
	   int64_t *out);
int vc_bool(struct vc *c, const json_t *parent, const char *key, bool *out);
int vc_enum(struct vc *c, const json_t *parent, const char *key, bool req,
	    const char *const *allowed, const char **out);

/* "must be between 1 and 65535, inclusive" and friends, for a value v = n. */
int vc_range(struct vc *c, const char *field, const json_t *v, int64_t n, int64_t min, int64_t max);

/* Same as json_object_get but NULL for a JSON null. */
json_t *vget(const json_t *m, const char *key);

/*
 * Value rules.  Each returns NULL when s is fine, else a static phrase
 * saying what is wrong ("must be no more than 63 characters").
 */
const char *vrule_name(const char *s, enum kind_name_rule rule);
const char *vrule_label_key(const char *s);
const char *vrule_label_value(const char *s);
const char *vrule_svc_name(const char *s);   /* IANA_SVC_NAME: port names */
const char *vrule_config_key(const char *s); /* ConfigMap keys */
const char *vrule_env_name(const char *s);   /* environment variable names */
const char *vrule_ipv4(const char *s);
const char *vrule_cidr(const char *s);	       /* IPv4 CIDR: 10.244.0.0/24 */
const char *vrule_path_segment(const char *s); /* not ".", "..", no '/' */
const char *vrule_quantity(const json_t *q, int64_t *milli);
/* An int >= 0 or "N%" scaled to total; *raw is the number as written and
 * *pct whether it was a percent. */
const char *vrule_intorpercent(const json_t *v, int64_t total, bool round_up, int64_t *out,
			       int64_t *raw, bool *pct);

/* parent[key] (optional) is a DNS name per rule; *out gets it or NULL. */
int vc_dns(struct vc *c, const json_t *parent, const char *key, bool req, enum kind_name_rule rule,
	   const char **out);
/* parent[key] (optional) is a mapping of label keys to label values. */
int vc_labels(struct vc *c, const json_t *parent, const char *key);
/* parent[key] (optional) is a mapping of strings to strings. */
int vc_strmap(struct vc *c, const json_t *parent, const char *key);
/* parent[key] (optional) is a list of strings. */
int vc_strlist(struct vc *c, const json_t *parent, const char *key);
/* parent[key] (optional) is an int 1-65535 or an IANA_SVC_NAME string. */
int vc_port_or_name(struct vc *c, const json_t *parent, const char *key, bool req);

/* The Secret kind (valid_secret.c): defaults (stringData merged into data,
 * type Opaque), checks, and an update's rules (type and, once immutable,
 * data). */
void vsecret_default(json_t *obj);
int vsecret_check(struct vc *c, const json_t *obj);
int vsecret_update(struct vc *c, const json_t *old, const json_t *new);

/* The HorizontalPodAutoscaler kind (valid_hpa.c): autoscaling/v2 defaults
 * (an autoscaling/v1 object is converted first: hpa.h) and checks. */
void vhpa_default(json_t *obj);
int vhpa_check(struct vc *c, const json_t *obj);

/* Sets m[key] = v when m has no key (or a null); else drops v. Steals v. */
void vdefault(json_t *m, const char *key, json_t *v);

/*
 * Pods and pod templates (valid_pod.c).  vpod_default fills in a pod
 * spec's defaults; a Pod's (is_pod) also copy limits into missing
 * requests.  vpod_spec checks a pod spec, c being at it ("spec" or
 * "spec.template.spec"); a template (in_template) must restart Always.
 * vpod_update checks that new_spec differs from old_spec only where a
 * running pod may change.  Neither keeps any reference to its arguments.
 */
void vpod_default(json_t *spec, bool is_pod);
int vpod_spec(struct vc *c, const json_t *spec, bool in_template);
int vpod_update(struct vc *c, const json_t *old_spec, const json_t *new_spec);
/* A container's securityContext (c at the container; sc may be NULL):
 * procMount Default or Unmasked (Unmasked only without host_users);
 * allowPrivilegeEscalation false refused with privileged or an added
 * CAP_SYS_ADMIN, in Kubernetes' words (valid_secctx.c). */
int vpod_sec_ctx(struct vc *c, bool host_users, const json_t *sc);

/* Pod specs (valid_pod.c, valid_pod_defaults.c) */

/* Both strings set and equal. */
static inline bool streq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* livenessProbe, readinessProbe, startupProbe; NULL-ended. */
extern const char *const vpod_probe_names[];
/* The volume sources of core/v1, so that an unsupported one is named. */
extern const char *const vpod_volume_sources[];
/* One of spec.volumes (c at it): a name unique in vols (a mapping it is
 * added to) and one supported source, checked (valid_volume.c). */
int vpod_volume(struct vc *c, json_t *vols, const json_t *vol);
/* NULL when s is a relative path without a '..' element, else why not. */
const char *vpod_relpath_rule(const char *s);

#endif
