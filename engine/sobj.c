/*
 * sobj.c - object snapshots and change events.  See sobj.h.
 */
#include "engine/sobj.h"

#include <stdlib.h>
#include <string.h>

#include "engine/mem.h"

struct sobj *sobj_new(const char *kind, const char *ns, const char *name, json_t *obj, int64_t rv,
		      int64_t user_rv, int64_t mtime_ns)
{
	size_t lk = strlen(kind) + 1, ln = strlen(ns) + 1, lname = strlen(name) + 1;
	struct sobj *o = xmalloc(sizeof(*o) + lk + ln + lname);
	char *p = (char *)(o + 1);
	o->refs = 1;
	o->kind = memcpy(p, kind, lk);
	o->ns = memcpy(p + lk, ns, ln);
	o->name = memcpy(p + lk + ln, name, lname);
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
