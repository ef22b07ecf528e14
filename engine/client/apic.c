/*
 * apic.c - the API client's calls, dispatched to the implementation
 * (apic_int.h), and what both implementations share.
 */
#include "engine/client/apic.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/client/apic_int.h"
#include "engine/mem.h"
#include "engine/obj.h"

void apic_free(struct apic *c)
{
	if (c)
		c->ops->free(c);
}

const char *apic_name(const struct apic *c)
{
	return c->ops->name(c);
}

int apic_get(struct apic *c, const struct kind_info *k, const char *ns, const char *name,
	     struct sobj **out, struct err **e)
{
	*out = NULL;
	return c->ops->get(c, k, ns, name, out, e);
}

int apic_list(struct apic *c, const struct kind_info *k, const struct apic_sel *sel,
	      struct sobj ***out, struct err **e)
{
	static const struct apic_sel none = {0};
	*out = NULL;
	return c->ops->list(c, k, sel ? sel : &none, out, e);
}

int apic_create_many(struct apic *c, json_t *const *objs, size_t n, int *results)
{
	return c->ops->create_many(c, objs, n, results);
}

int apic_patch(struct apic *c, const struct kind_info *k, const char *ns, const char *name,
	       api_mutate_fn mutate, void *arg, struct err **e)
{
	return c->ops->patch(c, k, ns, name, mutate, arg, e);
}

int apic_update_status(struct apic *c, const struct kind_info *k, const char *ns, const char *name,
		       const json_t *status, struct err **e)
{
	return c->ops->update_status(c, k, ns, name, status, e);
}

int apic_status_many(struct apic *c, const struct api_status *s, size_t n, int *results)
{
	return c->ops->status_many(c, s, n, results);
}

int apic_delete_many(struct apic *c, const struct api_ref *r, size_t n, int grace, int *results)
{
	return c->ops->delete_many(c, r, n, grace, results);
}

void apic_event(struct apic *c, const char *type, const char *reason, const char *kind,
		const char *ns, const char *name, const char *fmt, ...)
{
	char *msg;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	c->ops->event(c, type, reason, kind, ns, name, msg ? msg : fmt);
	free(msg);
}

int apic_watch_open(struct apic *c, const struct apic_watch_spec *sp, struct apic_watch **out,
		    struct err **e)
{
	static const struct apic_watch_spec all = {0};
	*out = NULL;
	return c->ops->watch_open(c, sp ? sp : &all, out, e);
}

int apic_watch_next(struct apic_watch *w, struct store_event *evs, size_t max, int timeout_ms)
{
	return w->ops->next(w, evs, max, timeout_ms);
}

void apic_watch_close(struct apic_watch *w)
{
	if (w)
		w->ops->close(w);
}

int apic_exec_register(struct apic *c, const char *node, const struct api_exec_provider *p,
		       void *arg, struct err **e)
{
	return c->ops->exec_register(c, node, p, arg, e);
}

void apic_exec_unregister(struct apic *c, const char *node)
{
	c->ops->exec_unregister(c, node);
}

bool apic_spec_wants(const struct apic_watch_spec *sp, const char *kind)
{
	if (!sp->nkinds)
		return true;
	for (size_t i = 0; i < sp->nkinds; i++)
		if (!strcmp(sp->kinds[i]->kind, kind))
			return true;
	return false;
}

/* One term "path=value", "path==value" or "path!=value" of [s, end). */
static bool term_matches(const json_t *obj, const char *s, const char *end)
{
	const char *eq = memchr(s, '=', (size_t)(end - s));
	if (!eq)
		return false;
	bool neg = eq > s && eq[-1] == '!';
	char path[256];
	snprintf(path, sizeof(path), "%.*s", (int)(eq - s - (neg ? 1 : 0)), s);
	const char *v = eq + 1;
	if (v < end && *v == '=')
		v++;
	size_t vlen = (size_t)(end - v);
	const char *have = obj_str(obj, path);
	if (!have)
		have = "";
	bool same = strlen(have) == vlen && !strncmp(have, v, vlen);
	return neg ? !same : same;
}

bool apic_fields_match(const json_t *obj, const char *fields)
{
	const char *s = fields;
	while (s && *s) {
		const char *end = strchr(s, ',');
		if (!end)
			end = s + strlen(s);
		if (end > s && !term_matches(obj, s, end))
			return false;
		s = *end ? end + 1 : end;
	}
	return true;
}

int apic_metrics_report(struct apic *c, const char *node, const json_t *report, struct err **e)
{
	return c->ops->metrics_report(c, node, report, e);
}
