/*
 * apic_local.c - the API client in-process (apic.h): each call is the
 * engine/api call of the same name, objects are the store's snapshots as
 * they are (no copy), and a watch filters the API's one stream of changes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "engine/api/api_metrics.h"
#include "engine/client/apic_int.h"
#include "engine/mem.h"

struct apic_local {
	struct apic base;
	struct api *api;
};

struct local_watch {
	struct apic_watch base;
	struct api *api;
	struct apic_watch_spec sp;
	const struct kind_info **kinds;
	char *pod_fields;
	int64_t rev;
};

static struct api *api_of(struct apic *c)
{
	return ((struct apic_local *)c)->api;
}

static const char *l_name(const struct apic *c)
{
	return "local";
}

static void l_free(struct apic *c)
{
	free(c);
}

static int l_get(struct apic *c, const struct kind_info *k, const char *ns, const char *name,
		 struct sobj **out, struct err **e)
{
	*out = api_get(api_of(c), k, ns, name);
	if (!*out)
		return err_make(e, ENOENT, "%s \"%s\" not found", k->kind, name);
	return 0;
}

static int l_list(struct apic *c, const struct kind_info *k, const struct apic_sel *sel,
		  struct sobj ***out, struct err **e)
{
	int n = api_list(api_of(c), k, sel->ns, sel->labels, out, e);
	if (n <= 0 || !sel->fields || !*sel->fields)
		return n;
	struct sobj **v = *out;
	int m = 0;
	for (int i = 0; i < n; i++) {
		if (apic_fields_match(v[i]->obj, sel->fields))
			v[m++] = v[i];
		else
			sobj_unref(v[i]);
	}
	return m;
}

static int l_create_many(struct apic *c, json_t *const *objs, size_t n, int *results)
{
	return api_create_many(api_of(c), objs, n, results);
}

static int l_patch(struct apic *c, const struct kind_info *k, const char *ns, const char *name,
		   api_mutate_fn mutate, void *arg, struct err **e)
{
	return api_patch(api_of(c), k, ns, name, mutate, arg, e);
}

static int l_update_status(struct apic *c, const struct kind_info *k, const char *ns,
			   const char *name, const json_t *status, struct err **e)
{
	return api_update_status(api_of(c), k, ns, name, status, e);
}

static int l_status_many(struct apic *c, const struct api_status *s, size_t n, int *results)
{
	return api_status_many(api_of(c), s, n, results);
}

static int l_delete_many(struct apic *c, const struct api_ref *r, size_t n, int grace, int *results)
{
	return api_delete_many(api_of(c), r, n, grace, results);
}

static void l_event(struct apic *c, const char *type, const char *reason, const char *kind,
		    const char *ns, const char *name, const char *msg)
{
	api_event(api_of(c), type, reason, kind, ns, name, "%s", msg);
}

static bool wanted(const struct local_watch *w, const struct store_event *ev)
{
	if (!apic_spec_wants(&w->sp, ev->obj->kind))
		return false;
	if (w->pod_fields && !strcmp(ev->obj->kind, "Pod"))
		return apic_fields_match(ev->obj->obj, w->pod_fields);
	return true;
}

static int lw_next(struct apic_watch *aw, struct store_event *evs, size_t max, int timeout_ms)
{
	struct local_watch *w = (struct local_watch *)aw;
	int n = api_watch(w->api, w->rev, evs, max, timeout_ms, NULL);
	if (n == -ERANGE) {
		w->rev = api_rev(w->api);
		return -ERANGE;
	}
	if (n <= 0)
		return n;
	w->rev = evs[n - 1].rv;
	int m = 0;
	for (int i = 0; i < n; i++) {
		if (wanted(w, &evs[i]))
			evs[m++] = evs[i];
		else
			sobj_unref(evs[i].obj);
	}
	return m;
}

static void lw_close(struct apic_watch *aw)
{
	struct local_watch *w = (struct local_watch *)aw;
	free(w->kinds);
	free(w->pod_fields);
	free(w);
}

static const struct apic_watch_ops local_watch_ops = {.next = lw_next, .close = lw_close};

static int l_watch_open(struct apic *c, const struct apic_watch_spec *sp, struct apic_watch **out,
			struct err **e)
{
	struct local_watch *w = xcalloc(1, sizeof(*w));
	w->base.ops = &local_watch_ops;
	w->api = api_of(c);
	w->rev = api_rev(w->api);
	if (sp->nkinds) {
		w->kinds = xcalloc(sp->nkinds, sizeof(*w->kinds));
		memcpy(w->kinds, sp->kinds, sp->nkinds * sizeof(*w->kinds));
	}
	w->sp = (struct apic_watch_spec){w->kinds, sp->nkinds, NULL};
	w->pod_fields = sp->pod_fields && *sp->pod_fields ? xstrdup(sp->pod_fields) : NULL;
	*out = &w->base;
	return 0;
}

static int l_exec_register(struct apic *c, const char *node, const struct api_exec_provider *p,
			   void *arg, struct err **e)
{
	api_exec_register(api_of(c), node, p, arg);
	return 0;
}

static void l_exec_unregister(struct apic *c, const char *node)
{
	api_exec_unregister(api_of(c), node);
}

static int l_metrics_report(struct apic *c, const char *node, const json_t *report, struct err **e)
{
	return api_metrics_report(api_of(c), node, report, e);
}

static const struct apic_ops local_ops = {
    .name = l_name,
    .free = l_free,
    .get = l_get,
    .list = l_list,
    .create_many = l_create_many,
    .patch = l_patch,
    .update_status = l_update_status,
    .status_many = l_status_many,
    .delete_many = l_delete_many,
    .event = l_event,
    .watch_open = l_watch_open,
    .exec_register = l_exec_register,
    .exec_unregister = l_exec_unregister,
    .metrics_report = l_metrics_report,
};

struct apic *apic_local_new(struct api *a)
{
	struct apic_local *c = xcalloc(1, sizeof(*c));
	c->base.ops = &local_ops;
	c->api = a;
	return &c->base;
}
