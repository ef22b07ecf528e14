/*
 * container.c - a pod's containers: names, status entries, and the text
 * of containers/C/status and containers/C/restarts.  See container.h.
 */
#include "fs/container.h"

#include <inttypes.h>
#include <string.h>

#include "engine/obj.h"

const char *container_name_at(const json_t *pod, size_t i)
{
	const json_t *init = obj_at(pod, "spec.initContainers");
	const json_t *main = obj_at(pod, "spec.containers");
	size_t ni = json_is_array(init) ? json_array_size(init) : 0;
	const json_t *c = i < ni ? json_array_get(init, i) : json_array_get(main, i - ni);
	return json_string_value(json_object_get(c, "name"));
}

const char *container_first(const json_t *pod)
{
	return json_string_value(
	    json_object_get(json_array_get(obj_at(pod, "spec.containers"), 0), "name"));
}

/* name's entry of the array at path (entries named by "name"), or NULL. */
static const json_t *find_named(const json_t *pod, const char *path, const char *name)
{
	size_t i;
	const json_t *c;
	json_array_foreach(obj_at(pod, path), i, c)
	{
		const char *n = json_string_value(json_object_get(c, "name"));
		if (n && !strcmp(n, name))
			return c;
	}
	return NULL;
}

static const json_t *container_spec(const json_t *pod, const char *name)
{
	const json_t *c = find_named(pod, "spec.initContainers", name);
	return c ? c : find_named(pod, "spec.containers", name);
}

bool container_exists(const json_t *pod, const char *name)
{
	return container_spec(pod, name) != NULL;
}

const json_t *container_status(const json_t *pod, const char *name)
{
	const json_t *s = find_named(pod, "status.initContainerStatuses", name);
	return s ? s : find_named(pod, "status.containerStatuses", name);
}

/* Appends ": TEXT" with TEXT made one line, if s is a non-empty string. */
static void put_part(struct buf *out, const json_t *s)
{
	const char *t = json_string_value(s);
	if (!t || !*t)
		return;
	buf_puts(out, ": ");
	size_t start = out->len;
	buf_puts(out, t);
	for (size_t i = start; i < out->len; i++)
		if (out->s[i] == '\n' || out->s[i] == '\r' || out->s[i] == '\t')
			out->s[i] = ' ';
	while (out->len > start && out->s[out->len - 1] == ' ')
		out->s[--out->len] = '\0';
}

/* Appends a ContainerState ({running|waiting|terminated: {...}}) in the
 * form of container.h; returns false (appending nothing) if it is empty. */
static bool put_state(struct buf *out, const json_t *state)
{
	const json_t *s;
	if ((s = json_object_get(state, "running")) && json_is_object(s)) {
		buf_puts(out, "running");
		const char *t = json_string_value(json_object_get(s, "startedAt"));
		if (t && *t)
			buf_printf(out, " since %s", t);
		return true;
	}
	if ((s = json_object_get(state, "waiting")) && json_is_object(s)) {
		buf_puts(out, "waiting");
		put_part(out, json_object_get(s, "reason"));
		put_part(out, json_object_get(s, "message"));
		return true;
	}
	if ((s = json_object_get(state, "terminated")) && json_is_object(s)) {
		buf_puts(out, "terminated");
		put_part(out, json_object_get(s, "reason"));
		buf_printf(out, " (exit code %" JSON_INTEGER_FORMAT ")",
			   json_integer_value(json_object_get(s, "exitCode")));
		put_part(out, json_object_get(s, "message"));
		return true;
	}
	return false;
}

void container_render_status(const json_t *pod, const char *name, struct buf *out)
{
	const json_t *st = container_status(pod, name);
	buf_puts(out, "state: ");
	if (!put_state(out, json_object_get(st, "state")))
		buf_puts(out, "unknown");
	buf_printf(out, "\nready: %s\n",
		   json_is_true(json_object_get(st, "ready")) ? "true" : "false");
	buf_printf(out, "restarts: %" JSON_INTEGER_FORMAT "\n",
		   json_integer_value(json_object_get(st, "restartCount")));
	buf_puts(out, "last: ");
	if (!put_state(out, json_object_get(st, "lastState")))
		buf_puts(out, "none");
	const char *image = json_string_value(json_object_get(st, "image"));
	if (!image || !*image)
		image = json_string_value(json_object_get(container_spec(pod, name), "image"));
	buf_printf(out, "\nimage: %s\n", image ? image : "");
}

void container_render_restarts(const json_t *pod, const char *name, struct buf *out)
{
	const json_t *st = container_status(pod, name);
	buf_printf(out, "%" JSON_INTEGER_FORMAT "\n",
		   json_integer_value(json_object_get(st, "restartCount")));
}
