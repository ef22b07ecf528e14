/*
 * obj.c - see obj.h.
 */
#include "engine/obj.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

json_t *obj_at(const json_t *o, const char *path)
{
	char part[128];
	while (o && *path) {
		const char *dot = strchr(path, '.');
		size_t n = dot ? (size_t)(dot - path) : strlen(path);
		if (n >= sizeof(part))
			return NULL;
		memcpy(part, path, n);
		part[n] = '\0';
		o = json_object_get(o, part);
		path += n + (dot ? 1 : 0);
	}
	return (json_t *)o;
}

const char *obj_str(const json_t *o, const char *path)
{
	return json_string_value(obj_at(o, path));
}

int64_t obj_int(const json_t *o, const char *path, int64_t dflt)
{
	json_t *v = obj_at(o, path);
	return json_is_integer(v) ? json_integer_value(v) : dflt;
}

json_t *obj_controller_ref(const json_t *o)
{
	size_t i;
	json_t *r;
	json_array_foreach(obj_at(o, "metadata.ownerReferences"), i, r)
	{
		if (json_is_true(json_object_get(r, "controller")))
			return r;
	}
	return NULL;
}

bool obj_controlled_by(const json_t *o, const char *uid)
{
	json_t *r = obj_controller_ref(o);
	const char *u = json_string_value(json_object_get(r, "uid"));
	return u && uid && !strcmp(u, uid);
}

json_t *obj_owner_ref(const json_t *owner)
{
	return json_pack("{s:s?, s:s?, s:s?, s:s?, s:b, s:b}", "apiVersion",
			 obj_str(owner, "apiVersion"), "kind", obj_str(owner, "kind"), "name",
			 obj_str(owner, "metadata.name"), "uid", obj_str(owner, "metadata.uid"),
			 "controller", 1, "blockOwnerDeletion", 1);
}

json_t *obj_condition(const json_t *o, const char *type)
{
	size_t i;
	json_t *c;
	json_array_foreach(obj_at(o, "status.conditions"), i, c)
	{
		const char *t = json_string_value(json_object_get(c, "type"));
		if (t && !strcmp(t, type))
			return c;
	}
	return NULL;
}

bool obj_condition_true(const json_t *o, const char *type)
{
	const char *s = json_string_value(json_object_get(obj_condition(o, type), "status"));
	return s && !strcmp(s, "True");
}

bool obj_set_condition(json_t *status, const char *type, const char *value, const char *reason,
		       const char *message, const char *now)
{
	json_t *conds = json_object_get(status, "conditions");
	if (!json_is_array(conds)) {
		conds = json_array();
		json_object_set_new(status, "conditions", conds);
	}
	json_t *c = NULL;
	size_t i;
	json_t *x;
	json_array_foreach(conds, i, x)
	{
		const char *t = json_string_value(json_object_get(x, "type"));
		if (t && !strcmp(t, type))
			c = x;
	}
	if (!c) {
		c = json_object();
		json_object_set_new(c, "type", json_string(type));
		json_array_append_new(conds, c);
	}
	const char *old = json_string_value(json_object_get(c, "status"));
	const char *oreason = json_string_value(json_object_get(c, "reason"));
	const char *omsg = json_string_value(json_object_get(c, "message"));
	bool same_status = old && !strcmp(old, value);
	if (same_status && oreason && reason && !strcmp(oreason, reason) && omsg && message &&
	    !strcmp(omsg, message))
		return false;
	json_object_set_new(c, "status", json_string(value));
	if (!same_status || !json_object_get(c, "lastTransitionTime"))
		json_object_set_new(c, "lastTransitionTime", json_string(now));
	json_object_set_new(c, "lastUpdateTime", json_string(now));
	if (reason)
		json_object_set_new(c, "reason", json_string(reason));
	if (message)
		json_object_set_new(c, "message", json_string(message));
	return true;
}

time_t obj_time(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	if (!s)
		return -1;
	const char *end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (!end)
		return -1;
	if (*end == '.')
		while (*++end >= '0' && *end <= '9')
			;
	long off = 0;
	if (*end == '+' || *end == '-') {
		int hh = 0, mm = 0;
		if (sscanf(end + 1, "%2d:%2d", &hh, &mm) != 2)
			return -1;
		off = (hh * 3600 + mm * 60) * (*end == '-' ? -1 : 1);
	} else if (*end != 'Z') {
		return -1;
	}
	return timegm(&tm) - off;
}

void obj_format_time(time_t t, char out[32])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

bool pod_is_terminating(const json_t *pod)
{
	return obj_at(pod, "metadata.deletionTimestamp") != NULL;
}

bool pod_is_finished(const json_t *pod)
{
	const char *ph = obj_str(pod, "status.phase");
	return ph && (!strcmp(ph, "Succeeded") || !strcmp(ph, "Failed"));
}

bool pod_is_ready(const json_t *pod)
{
	return obj_condition_true(pod, "Ready");
}

static int pod_class(const json_t *pod)
{
	static const char *const phases[] = {"Pending", "Running", "Succeeded", "Failed"};
	const char *ph = obj_str(pod, "status.phase");
	if (!ph)
		return 0;
	int j = 0;
	while (j < 4 && strcmp(ph, phases[j]))
		j++;
	return j;
}

int obj_class(const char *kind, const json_t *o)
{
	if (!strcmp(kind, "Pod"))
		return pod_class(o);
	if (!strcmp(kind, "Node")) {
		const char *s =
		    json_string_value(json_object_get(obj_condition(o, "Ready"), "status"));
		return s && !strcmp(s, "True");
	}
	if (!strcmp(kind, "Deployment"))
		return json_integer_value(obj_at(o, "status.availableReplicas")) >=
		       json_integer_value(obj_at(o, "spec.replicas"));
	return 0;
}
