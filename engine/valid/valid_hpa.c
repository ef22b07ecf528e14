/*
 * valid_hpa.c - the HorizontalPodAutoscaler's defaults and checks, as
 * Kubernetes' autoscaling/v2 defaulting and validation have them.
 *
 * Defaults: an autoscaling/v1 object is converted first (hpa.h);
 * minReplicas 1; no metrics means CPU at 80% of the pods' requests; a
 * behavior, when there is one, gets Kubernetes' rules where it says
 * nothing: scaling up with no stabilization, 4 pods or 100% each 15 s
 * (Max), down with a 300 s window and 100% each 15 s (Max).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "engine/valid/hpa.h"
#include "engine/valid/valid.h"
#include "engine/valid/valid_int.h"

static const char *const e_source[] = {"ContainerResource", "External", "Object", "Pods",
				       "Resource",	    NULL};
static const char *const e_target[] = {"AverageValue", "Utilization", "Value", NULL};
static const char *const e_values[] = {"AverageValue", "Value", NULL};
static const char *const e_average[] = {"AverageValue", NULL};
static const char *const e_select[] = {"Disabled", "Max", "Min", NULL};
static const char *const e_policy[] = {"Percent", "Pods", NULL};

/* --- defaults ------------------------------------------------------------- */

static json_t *policy(const char *type, int value, int period)
{
	return json_pack("{s:s, s:i, s:i}", "type", type, "value", value, "periodSeconds", period);
}

/* Fills in rules[key] as Kubernetes' GenerateHPAScale{Up,Down}Rules do. */
static void default_rules(json_t *behavior, const char *key, bool up)
{
	vdefault(behavior, key, json_object());
	json_t *r = vget(behavior, key);
	if (!json_is_object(r))
		return;
	vdefault(r, "stabilizationWindowSeconds", json_integer(up ? 0 : 300));
	vdefault(r, "selectPolicy", json_string("Max"));
	if (vget(r, "policies"))
		return;
	json_t *ps = json_array();
	if (up)
		json_array_append_new(ps, policy("Pods", 4, 15));
	json_array_append_new(ps, policy("Percent", 100, 15));
	json_object_set_new(r, "policies", ps);
}

void vhpa_default(json_t *obj)
{
	hpa_to_v2(obj);
	json_t *spec = vget(obj, "spec");
	if (!json_is_object(spec))
		return;
	vdefault(spec, "minReplicas", json_integer(1));
	json_t *m = vget(spec, "metrics");
	if (!m || (json_is_array(m) && !json_array_size(m)))
		json_object_set_new(spec, "metrics",
				    json_pack("[{s:s, s:{s:s, s:{s:s, s:i}}}]", "type", "Resource",
					      "resource", "name", "cpu", "target", "type",
					      "Utilization", "averageUtilization", 80));
	json_t *b = vget(spec, "behavior");
	if (!json_is_object(b))
		return;
	default_rules(b, "scaleUp", true);
	default_rules(b, "scaleDown", false);
}

/* --- checks --------------------------------------------------------------- */

/* parent[key], a quantity, must be positive when present. */
static int positive_quantity(struct vc *c, const json_t *parent, const char *key)
{
	json_t *q = vget(parent, key);
	int64_t milli;
	if (!q)
		return 0;
	const char *why = vrule_quantity(q, &milli);
	if (why)
		return vc_invalid(c, key, q, "%s", why);
	if (milli <= 0)
		return vc_invalid(c, key, q, "must be positive");
	return 0;
}

/* A MetricTarget (c at the source); allowed: its types for this source. */
static int check_target(struct vc *c, const json_t *src, const char *const *allowed)
{
	json_t *t;
	const char *type;
	TRY(vc_map(c, src, "target", true, &t));
	size_t mark = vc_push(c, "target");
	if (!vget(t, "type"))
		return vc_required(c, "type", "must specify a metric target type");
	TRY(vc_enum(c, t, "type", true, e_target, &type));
	TRY(vc_enum(c, t, "type", true, allowed, NULL));
	TRY(positive_quantity(c, t, "value"));
	TRY(positive_quantity(c, t, "averageValue"));
	json_t *u = vget(t, "averageUtilization");
	if (u && (!json_is_integer(u) || json_integer_value(u) < 1))
		return vc_invalid(c, "averageUtilization", u, "must be greater than 0");
	if (!strcmp(type, "Utilization") && !u)
		return vc_required(c, "averageUtilization",
				   "must set either a target raw value or a target utilization");
	if (!strcmp(type, "AverageValue") && !vget(t, "averageValue"))
		return vc_required(c, "averageValue",
				   "must specify a positive target averageValue");
	if (!strcmp(type, "Value") && !vget(t, "value"))
		return vc_required(c, "value", "must specify a positive target value");
	if (u && vget(t, "averageValue"))
		return vc_forbidden(c, "averageValue",
				    "may not set both a target raw value and a target utilization");
	vc_pop(c, mark);
	return 0;
}

/* A MetricIdentifier at src.metric. */
static int check_metric_id(struct vc *c, const json_t *src)
{
	json_t *id;
	TRY(vc_map(c, src, "metric", true, &id));
	size_t mark = vc_push(c, "metric");
	TRY(vc_str(c, id, "name", true, NULL));
	json_t *sel;
	TRY(vc_map(c, id, "selector", false, &sel));
	vc_pop(c, mark);
	return 0;
}

/* A CrossVersionObjectReference at parent[key]. */
static int check_ref(struct vc *c, const json_t *parent, const char *key)
{
	json_t *ref;
	const char *s;
	TRY(vc_map(c, parent, key, true, &ref));
	size_t mark = vc_push(c, key);
	TRY(vc_str(c, ref, "kind", true, &s));
	const char *why = vrule_path_segment(s);
	if (why)
		return vc_invalid(c, "kind", vget(ref, "kind"), "%s", why);
	TRY(vc_str(c, ref, "name", true, &s));
	why = vrule_path_segment(s);
	if (why)
		return vc_invalid(c, "name", vget(ref, "name"), "%s", why);
	TRY(vc_str(c, ref, "apiVersion", false, NULL));
	vc_pop(c, mark);
	return 0;
}

/* The source of a metric of type type, c at it (src its value). */
static int check_source(struct vc *c, const char *type, const json_t *src)
{
	static const char *const utilization[] = {"AverageValue", "Utilization", NULL};
	if (!strcmp(type, "Resource") || !strcmp(type, "ContainerResource")) {
		TRY(vc_str(c, src, "name", true, NULL));
		if (!strcmp(type, "ContainerResource"))
			TRY(vc_dns(c, src, "container", true, NAME_DNS1123_LABEL, NULL));
		return check_target(c, src, utilization);
	}
	if (!strcmp(type, "Object"))
		TRY(check_ref(c, src, "describedObject"));
	TRY(check_metric_id(c, src));
	return check_target(c, src, !strcmp(type, "Pods") ? e_average : e_values);
}

/* The field of each source type: "Resource" -> "resource". */
static const char *source_key(const char *type)
{
	static const char *const keys[] = {"containerResource", "external", "object", "pods",
					   "resource"};
	for (size_t i = 0; e_source[i]; i++)
		if (!strcmp(e_source[i], type))
			return keys[i];
	return NULL;
}

static int check_metric(struct vc *c, const json_t *m)
{
	const char *type;
	if (!json_is_object(m))
		return vc_invalid(c, NULL, m, "must be a mapping");
	if (!vget(m, "type"))
		return vc_required(c, "type", "must specify a metric source type");
	TRY(vc_enum(c, m, "type", true, e_source, &type));
	const char *key = source_key(type);
	for (size_t i = 0; e_source[i]; i++) {
		const char *other = source_key(e_source[i]);
		if (strcmp(other, key) && vget(m, other))
			return vc_forbidden(c, other, "must populate the given metric source only");
	}
	json_t *src;
	TRY(vc_map(c, m, key, false, &src));
	if (!src)
		return vc_required(c, key, "must populate information for the given metric source");
	size_t mark = vc_push(c, key);
	TRY(check_source(c, type, src));
	vc_pop(c, mark);
	return 0;
}

static int check_policy(struct vc *c, const json_t *p)
{
	int64_t n;
	if (!json_is_object(p))
		return vc_invalid(c, NULL, p, "must be a mapping");
	TRY(vc_enum(c, p, "type", true, e_policy, NULL));
	TRY(vc_int(c, p, "value", true, INT32_MIN, INT32_MAX, &n));
	if (n <= 0)
		return vc_invalid(c, "value", vget(p, "value"), "must be greater than zero");
	TRY(vc_int(c, p, "periodSeconds", true, INT32_MIN, INT32_MAX, &n));
	if (n <= 0)
		return vc_invalid(c, "periodSeconds", vget(p, "periodSeconds"),
				  "must be greater than zero");
	if (n > 1800)
		return vc_invalid(c, "periodSeconds", vget(p, "periodSeconds"),
				  "must be less than or equal to 1800");
	return 0;
}

static int check_rules(struct vc *c, const json_t *b, const char *key)
{
	json_t *r, *ps, *p;
	int64_t w = 0;
	size_t i;
	TRY(vc_map(c, b, key, false, &r));
	if (!r)
		return 0;
	size_t mark = vc_push(c, key);
	if (vc_int(c, r, "stabilizationWindowSeconds", false, INT32_MIN, INT32_MAX, &w) < 0)
		return -EINVAL;
	json_t *wv = vget(r, "stabilizationWindowSeconds");
	if (w < 0)
		return vc_invalid(c, "stabilizationWindowSeconds", wv,
				  "must be greater than or equal to zero");
	if (w > 3600)
		return vc_invalid(c, "stabilizationWindowSeconds", wv,
				  "must be less than or equal to 3600");
	TRY(vc_enum(c, r, "selectPolicy", false, e_select, NULL));
	TRY(vc_list(c, r, "policies", false, &ps));
	if (!json_array_size(ps))
		return vc_required(c, "policies", "must specify at least one Policy");
	size_t pm = vc_push(c, "policies");
	json_array_foreach(ps, i, p)
	{
		size_t im = vc_pushi(c, i);
		TRY(check_policy(c, p));
		vc_pop(c, im);
	}
	vc_pop(c, pm);
	vc_pop(c, mark);
	return 0;
}

/* minReplicas, maxReplicas, scaleTargetRef (c at spec). */
static int check_bounds(struct vc *c, const json_t *spec)
{
	int64_t min = 1, max = 0;
	int has_min = vc_int(c, spec, "minReplicas", false, INT32_MIN, INT32_MAX, &min);
	if (has_min < 0)
		return -EINVAL;
	if (min < 1)
		return vc_invalid(c, "minReplicas", vget(spec, "minReplicas"),
				  "must be greater than or equal to 1");
	TRY(vc_int(c, spec, "maxReplicas", true, INT32_MIN, INT32_MAX, &max));
	if (max < 1)
		return vc_invalid(c, "maxReplicas", vget(spec, "maxReplicas"),
				  "must be greater than 0");
	if (has_min && max < min)
		return vc_invalid(c, "maxReplicas", vget(spec, "maxReplicas"),
				  "must be greater than or equal to `minReplicas`");
	return check_ref(c, spec, "scaleTargetRef");
}

/* What the controller writes, by type only. */
static int check_status(struct vc *c, const json_t *obj)
{
	json_t *st, *l;
	TRY(vc_map(c, obj, "status", false, &st));
	if (!st)
		return 0;
	size_t mark = vc_push(c, "status");
	TRY(vc_int(c, st, "observedGeneration", false, 0, INT64_MAX, NULL));
	TRY(vc_str(c, st, "lastScaleTime", false, NULL));
	TRY(vc_int(c, st, "currentReplicas", false, 0, INT32_MAX, NULL));
	TRY(vc_int(c, st, "desiredReplicas", false, 0, INT32_MAX, NULL));
	TRY(vc_list(c, st, "currentMetrics", false, &l));
	TRY(vc_list(c, st, "conditions", false, &l));
	vc_pop(c, mark);
	return 0;
}

int vhpa_check(struct vc *c, const json_t *obj)
{
	json_t *spec, *ms, *m, *b;
	size_t i;
	TRY(vc_map(c, obj, "spec", true, &spec));
	size_t root = vc_push(c, "spec");
	TRY(check_bounds(c, spec));
	TRY(vc_list(c, spec, "metrics", false, &ms));
	size_t mm = vc_push(c, "metrics");
	json_array_foreach(ms, i, m)
	{
		size_t im = vc_pushi(c, i);
		TRY(check_metric(c, m));
		vc_pop(c, im);
	}
	vc_pop(c, mm);
	TRY(vc_map(c, spec, "behavior", false, &b));
	if (b) {
		size_t bm = vc_push(c, "behavior");
		TRY(check_rules(c, b, "scaleUp"));
		TRY(check_rules(c, b, "scaleDown"));
		vc_pop(c, bm);
	}
	vc_pop(c, root);
	return check_status(c, obj);
}
