/*
 * view_hpa.c - horizontalpodautoscalers/NAME/{min,max,current,desired,
 * target,metrics,status}.  See view_hpa.h.
 */
#include "fs/view_hpa.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "engine/obj.h"
#include "engine/valid/hpa.h"

/* A whole number at path, as a line; nothing when absent. */
static void put_int(struct buf *out, const json_t *obj, const char *path)
{
	const json_t *v = obj_at(obj, path);
	if (json_is_integer(v))
		buf_printf(out, "%" JSON_INTEGER_FORMAT "\n", json_integer_value(v));
}

static void r_min(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	put_int(out, o->obj, "spec.minReplicas");
}

static void r_max(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	put_int(out, o->obj, "spec.maxReplicas");
}

static void r_current(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	put_int(out, o->obj, "status.currentReplicas");
}

static void r_desired(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	put_int(out, o->obj, "status.desiredReplicas");
}

static void r_target(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	const char *kind = obj_str(o->obj, "spec.scaleTargetRef.kind");
	const char *name = obj_str(o->obj, "spec.scaleTargetRef.name");
	buf_printf(out, "%s/%s\n", kind ? kind : "", name ? name : "");
}

static void r_metrics(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	char *t = hpa_targets(o->obj);
	buf_printf(out, "%s\n", t);
	free(t);
}

/* "1 current / 4 desired", "<unknown>" for what the controller has not set. */
static void put_replicas(struct buf *out, const json_t *obj)
{
	const json_t *cur = obj_at(obj, "status.currentReplicas");
	const json_t *want = obj_at(obj, "status.desiredReplicas");
	buf_puts(out, "Replicas:      ");
	if (json_is_integer(cur))
		buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(cur));
	else
		buf_puts(out, "<unknown>");
	buf_puts(out, " current / ");
	if (json_is_integer(want))
		buf_printf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(want));
	else
		buf_puts(out, "<unknown>");
	buf_puts(out, " desired\n");
}

/* Conditions, one a line: TYPE STATUS REASON MESSAGE. */
static void put_conditions(struct buf *out, const json_t *obj)
{
	const json_t *conds = obj_at(obj, "status.conditions");
	const json_t *c;
	size_t i;
	if (!json_array_size(conds)) {
		buf_puts(out, "Conditions:    <none>\n");
		return;
	}
	buf_puts(out, "Conditions:\n");
	json_array_foreach(conds, i, c)
	{
		const char *type = obj_str(c, "type"), *st = obj_str(c, "status");
		const char *reason = obj_str(c, "reason"), *msg = obj_str(c, "message");
		buf_printf(out, "  %-15s %-7s %s  %s\n", type ? type : "", st ? st : "",
			   reason ? reason : "", msg ? msg : "");
	}
}

static void r_status(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	char *t = hpa_targets(o->obj);
	const char *kind = obj_str(o->obj, "spec.scaleTargetRef.kind");
	const char *name = obj_str(o->obj, "spec.scaleTargetRef.name");
	buf_printf(out, "Reference:     %s/%s\n", kind ? kind : "", name ? name : "");
	buf_printf(out, "Targets:       %s\n", t);
	free(t);
	buf_printf(out, "Min replicas:  %" PRId64 "\n", obj_int(o->obj, "spec.minReplicas", 1));
	buf_printf(out, "Max replicas:  %" PRId64 "\n", obj_int(o->obj, "spec.maxReplicas", 0));
	put_replicas(out, o->obj);
	const char *last = obj_str(o->obj, "status.lastScaleTime");
	if (last)
		buf_printf(out, "Last scale:    %s\n", last);
	put_conditions(out, o->obj);
}

static int w_min(struct view *v, const struct vpath *p, const char *data, size_t len,
		 struct err **e)
{
	return vf_write_int(v, p, "spec.minReplicas", 0, data, len, e);
}

static int w_max(struct view *v, const struct vpath *p, const char *data, size_t len,
		 struct err **e)
{
	return vf_write_int(v, p, "spec.maxReplicas", 0, data, len, e);
}

const struct vfield view_hpa_fields[] = {
    {.name = "min", .mode = RW, .render = r_min, .own = true, .write = w_min},
    {.name = "max", .mode = RW, .render = r_max, .own = true, .write = w_max},
    {.name = "current", .mode = RO, .render = r_current, .own = true},
    {.name = "desired", .mode = RO, .render = r_desired, .own = true},
    {.name = "target", .mode = RO, .render = r_target, .own = true},
    {.name = "metrics", .mode = RO, .render = r_metrics, .own = true},
    {.name = "status", .mode = RO, .render = r_status, .own = true},
    {.name = "events", .mode = RO, .render = vf_render_events},
    {.name = NULL},
};
