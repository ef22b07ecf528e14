/*
 * hpa.c - see hpa.h: autoscaling/v1 <-> v2 conversion of the
 * HorizontalPodAutoscaler, and its TARGETS cell.
 */
#include "engine/valid/hpa.h"

#include <stdio.h>
#include <string.h>

#include "engine/mem.h"

bool hpa_alt_version(const struct kind_info *k, const char *api_version)
{
	return k == KIND_HPA && api_version && !strcmp(api_version, HPA_V1);
}

/* m[key] as an object (made when missing or not one). */
static json_t *child(json_t *m, const char *key)
{
	json_t *c = json_object_get(m, key);
	if (!json_is_object(c)) {
		c = json_object();
		json_object_set_new(m, key, c);
	}
	return c;
}

/* Whether m is the CPU metric v1 has: Resource cpu at a Utilization. */
static bool is_cpu_utilization(const json_t *m, const char *what)
{
	const json_t *r = json_object_get(m, "resource");
	const char *type = json_string_value(json_object_get(m, "type"));
	const char *name = json_string_value(json_object_get(r, "name"));
	const json_t *t = json_object_get(r, what);
	if (!type || strcmp(type, "Resource") || !name || strcmp(name, "cpu"))
		return false;
	if (!strcmp(what, "current"))
		return json_is_integer(json_object_get(t, "averageUtilization"));
	const char *tt = json_string_value(json_object_get(t, "type"));
	return tt && !strcmp(tt, "Utilization") &&
	       json_is_integer(json_object_get(t, "averageUtilization"));
}

/* --- v1 -> v2 ------------------------------------------------------------- */

/* Takes annotation key out of ann: its JSON value (new), or NULL. */
static json_t *take_annotation(json_t *ann, const char *key)
{
	const char *s = json_string_value(json_object_get(ann, key));
	json_t *v = s ? json_loads(s, JSON_DECODE_ANY, NULL) : NULL;
	json_object_del(ann, key);
	return v;
}

/* Appends the elements of extra (an array, stolen; anything else dropped). */
static void append_all(json_t *arr, json_t *extra)
{
	if (json_is_array(extra))
		json_array_extend(arr, extra);
	json_decref(extra);
}

static void spec_to_v2(json_t *spec, json_t *ann)
{
	json_t *metrics = json_array();
	json_t *cpu = json_object_get(spec, "targetCPUUtilizationPercentage");
	if (cpu)
		json_array_append_new(metrics,
				      json_pack("{s:s, s:{s:s, s:{s:s, s:O}}}", "type", "Resource",
						"resource", "name", "cpu", "target", "type",
						"Utilization", "averageUtilization", cpu));
	json_object_del(spec, "targetCPUUtilizationPercentage");
	append_all(metrics, take_annotation(ann, HPA_ANN_METRICS));
	if (json_array_size(metrics))
		json_object_set(spec, "metrics", metrics);
	json_decref(metrics);
	json_t *b = take_annotation(ann, HPA_ANN_BEHAVIOR);
	if (json_is_object(b))
		json_object_set(spec, "behavior", b);
	json_decref(b);
}

/* The annotation, when there is one, holds every current metric (the CPU
 * one's raw value too): it wins over currentCPUUtilizationPercentage. */
static void status_to_v2(json_t *status, json_t *ann)
{
	json_t *cur = json_array();
	json_t *cpu = json_object_get(status, "currentCPUUtilizationPercentage");
	json_t *all = take_annotation(ann, HPA_ANN_CURRENT);
	if (cpu && !json_is_array(all))
		json_array_append_new(cur, json_pack("{s:s, s:{s:s, s:{s:O}}}", "type", "Resource",
						     "resource", "name", "cpu", "current",
						     "averageUtilization", cpu));
	json_object_del(status, "currentCPUUtilizationPercentage");
	append_all(cur, all);
	if (json_array_size(cur))
		json_object_set(status, "currentMetrics", cur);
	json_decref(cur);
	json_t *conds = take_annotation(ann, HPA_ANN_CONDITIONS);
	if (json_is_array(conds))
		json_object_set(status, "conditions", conds);
	json_decref(conds);
}

void hpa_to_v2(json_t *obj)
{
	const char *av = json_string_value(json_object_get(obj, "apiVersion"));
	if (!json_is_object(obj) || !av || strcmp(av, HPA_V1))
		return;
	json_object_set_new(obj, "apiVersion", json_string(HPA_V2));
	json_t *md = json_object_get(obj, "metadata");
	json_t *ann = json_object_get(md, "annotations");
	json_t *none = json_object(); /* stands for missing annotations */
	json_t *a = json_is_object(ann) ? ann : none;
	json_t *spec = json_object_get(obj, "spec");
	if (json_is_object(spec))
		spec_to_v2(spec, a);
	json_t *status = json_object_get(obj, "status");
	if (json_is_object(status))
		status_to_v2(status, a);
	else if (json_object_get(a, HPA_ANN_CURRENT) || json_object_get(a, HPA_ANN_CONDITIONS))
		status_to_v2(child(obj, "status"), a);
	json_decref(none);
	if (json_is_object(ann) && !json_object_size(ann))
		json_object_del(md, "annotations");
}

/* --- v2 -> v1 ------------------------------------------------------------- */

/* Sets annotation key of obj to v as compact JSON (v stolen). */
static void put_annotation(json_t *obj, const char *key, json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(v);
	if (!s)
		return;
	json_object_set_new(child(child(obj, "metadata"), "annotations"), key, json_string(s));
	free(s);
}

/* Splits list into the v1 CPU value (*cpu, borrowed from list) and the
 * rest (a new array). */
static json_t *split_cpu(const json_t *list, const char *what, json_t **cpu)
{
	json_t *rest = json_array(), *m;
	size_t i;
	*cpu = NULL;
	json_array_foreach(list, i, m)
	{
		if (!*cpu && is_cpu_utilization(m, what))
			*cpu =
			    json_object_get(json_object_get(json_object_get(m, "resource"), what),
					    "averageUtilization");
		else
			json_array_append(rest, m);
	}
	return rest;
}

static void spec_to_v1(json_t *obj, json_t *spec)
{
	json_t *cpu;
	json_t *rest = split_cpu(json_object_get(spec, "metrics"), "target", &cpu);
	if (cpu)
		json_object_set(spec, "targetCPUUtilizationPercentage", cpu);
	if (json_array_size(rest))
		put_annotation(obj, HPA_ANN_METRICS, json_incref(rest));
	json_decref(rest);
	json_object_del(spec, "metrics");
	json_t *b = json_object_get(spec, "behavior");
	if (json_is_object(b))
		put_annotation(obj, HPA_ANN_BEHAVIOR, json_incref(b));
	json_object_del(spec, "behavior");
}

/* As Kubernetes: every current metric goes to the annotation, the CPU one
 * too (its raw averageValue has no v1 field). */
static void status_to_v1(json_t *obj, json_t *status)
{
	json_t *cpu;
	json_t *all = json_object_get(status, "currentMetrics");
	json_t *rest = split_cpu(all, "current", &cpu);
	if (cpu)
		json_object_set(status, "currentCPUUtilizationPercentage", cpu);
	if (json_array_size(all))
		put_annotation(obj, HPA_ANN_CURRENT, json_incref(all));
	json_decref(rest);
	json_object_del(status, "currentMetrics");
	json_t *conds = json_object_get(status, "conditions");
	if (json_array_size(conds))
		put_annotation(obj, HPA_ANN_CONDITIONS, json_incref(conds));
	json_object_del(status, "conditions");
}

json_t *hpa_to_v1(const json_t *v2)
{
	json_t *obj = json_deep_copy(v2);
	if (!json_is_object(obj))
		return obj;
	json_object_set_new(obj, "apiVersion", json_string(HPA_V1));
	json_t *spec = json_object_get(obj, "spec");
	if (json_is_object(spec))
		spec_to_v1(obj, spec);
	json_t *status = json_object_get(obj, "status");
	if (json_is_object(status))
		status_to_v1(obj, status);
	return obj;
}

/* --- TARGETS -------------------------------------------------------------- */

/* A quantity as written ("250m", 3), into out. */
static void quantity(const json_t *q, char *out, size_t n)
{
	if (json_is_string(q))
		snprintf(out, n, "%s", json_string_value(q));
	else if (json_is_integer(q))
		snprintf(out, n, "%lld", (long long)json_integer_value(q));
	else if (json_is_real(q))
		snprintf(out, n, "%g", json_real_value(q));
	else
		snprintf(out, n, "<unknown>");
}

/* The source object of a metric (spec or status) of its type:
 * "Resource" -> m.resource. */
static const json_t *source(const json_t *m)
{
	static const char *const map[][2] = {
	    {"Resource", "resource"}, {"ContainerResource", "containerResource"},
	    {"Pods", "pods"},	      {"Object", "object"},
	    {"External", "external"},
	};
	const char *type = json_string_value(json_object_get(m, "type"));
	for (size_t i = 0; type && i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(type, map[i][0]))
			return json_object_get(m, map[i][1]);
	return NULL;
}

/* The current value of spec metric i: the status's metric at the same
 * place, when it is of the same type (as kubectl's printer pairs them). */
static const json_t *current_of(const json_t *hpa, const json_t *m, size_t i)
{
	const json_t *cur = json_object_get(json_object_get(hpa, "status"), "currentMetrics");
	const json_t *c = json_array_get(cur, i);
	const char *type = json_string_value(json_object_get(m, "type"));
	const char *ct = json_string_value(json_object_get(c, "type"));
	if (!type || !ct || strcmp(type, ct))
		return NULL;
	return json_object_get(source(c), "current");
}

/* One metric's cell, as Kubernetes' printer writes it: "cpu: 250%/50%"
 * (resources are named), "10/20" (pods), "3/5 (avg)" (an object's or an
 * external metric's average value). */
static void one_target(const json_t *hpa, const json_t *m, size_t i, struct buf *b)
{
	const json_t *t = json_object_get(source(m), "target");
	const json_t *c = current_of(hpa, m, i);
	const char *type = json_string_value(json_object_get(m, "type"));
	bool resource = type && (!strcmp(type, "Resource") || !strcmp(type, "ContainerResource"));
	char cur[64] = "<unknown>", want[64] = "<auto>";
	if (!source(m)) {
		buf_puts(b, "<unknown type>");
		return;
	}
	const char *name = json_string_value(json_object_get(source(m), "name"));
	if (resource)
		buf_printf(b, "%s: ", name ? name : "");
	if (resource && !json_object_get(t, "averageValue")) {
		json_t *cu = json_object_get(c, "averageUtilization");
		json_t *tu = json_object_get(t, "averageUtilization");
		if (json_is_integer(cu))
			snprintf(cur, sizeof(cur), "%lld%%", (long long)json_integer_value(cu));
		if (json_is_integer(tu))
			snprintf(want, sizeof(want), "%lld%%", (long long)json_integer_value(tu));
		buf_printf(b, "%s/%s", cur, want);
		return;
	}
	bool avg = resource || !strcmp(type, "Pods") || json_object_get(t, "averageValue");
	const char *key = avg ? "averageValue" : "value";
	if (json_object_get(c, key))
		quantity(json_object_get(c, key), cur, sizeof(cur));
	quantity(json_object_get(t, key), want, sizeof(want));
	buf_printf(b, "%s/%s%s", cur, want,
		   avg && !resource && strcmp(type, "Pods") ? " (avg)" : "");
}

char *hpa_targets(const json_t *hpa)
{
	const json_t *metrics = json_object_get(json_object_get(hpa, "spec"), "metrics");
	size_t n = json_array_size(metrics);
	if (!n)
		return xstrdup("<none>");
	struct buf b = {0};
	for (size_t i = 0; i < n && i < 2; i++) {
		if (i)
			buf_puts(&b, ", ");
		one_target(hpa, json_array_get(metrics, i), i, &b);
	}
	if (n > 2)
		buf_printf(&b, " + %zu more...", n - 2);
	return buf_steal(&b, NULL);
}
