/*
 * sobj.c - object snapshots and change events.  See sobj.h.
 */
#include "engine/sobj.h"

#include <stdlib.h>

#include "engine/mem.h"

struct sobj *sobj_new(const char *kind, const char *ns, const char *name, json_t *obj, int64_t rv,
		      int64_t user_rv, int64_t mtime_ns)
{
	struct sobj *o = xmalloc(sizeof(*o));
	o->refs = 1;
	o->kind = xstrdup(kind);
	o->ns = xstrdup(ns);
	o->name = xstrdup(name);
	o->rv = rv;
	o->user_rv = user_rv;
	o->mtime_ns = mtime_ns;
	o->obj = obj;
	o->size = 0;
	return o;
}

struct sobj *sobj_ref(struct sobj *o)
{
	if (o)
		__atomic_add_fetch(&o->refs, 1, __ATOMIC_RELAXED);
	return o;
}

void sobj_unref(struct sobj *o)
{
	if (!o || __atomic_sub_fetch(&o->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	free(o->kind);
	free(o->ns);
	free(o->name);
	json_decref(o->obj);
	free(o);
}

void sobj_list_free(struct sobj **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sobj_unref(v[i]);
	free(v);
}

void store_events_free(struct store_event *evs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		sobj_unref(evs[i].obj);
		evs[i].obj = NULL;
	}
}
