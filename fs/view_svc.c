/*
 * view_svc.c - services/NAME/{clusterip,endpoints,status}.  See view_svc.h.
 */
#include "fs/view_svc.h"

#include <stdio.h>
#include <string.h>

#include "engine/valid/codec.h"
#include "engine/obj.h"
#include "engine/api/svc.h"

void view_svc_clusterip(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	const char *ip = obj_str(o->obj, "spec.clusterIP");
	if (ip && *ip)
		buf_printf(out, "%s\n", ip);
}

void view_svc_endpoints(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	struct svc_info *s;
	if (svc_info_get(view_api(v), o->ns, o->name, &s) < 0)
		return;
	char *lines = svc_ready_lines(s);
	buf_puts(out, lines);
	free(lines);
	svc_info_free(s);
}

void view_svc_status(struct view *v, const struct sobj *o, const char *key, struct buf *out)
{
	struct svc_info *s;
	if (svc_info_get(view_api(v), o->ns, o->name, &s) < 0)
		return;
	json_t *st = json_object();
	json_object_set_new(st, "type", json_string(s->type));
	json_object_set_new(st, "clusterIP", json_string(s->cluster_ip));
	json_t *ports = json_array();
	for (size_t i = 0; i < s->nports; i++) {
		const struct svc_port *p = &s->ports[i];
		json_t *jp = json_object();
		if (*p->name)
			json_object_set_new(jp, "name", json_string(p->name));
		json_object_set_new(jp, "port", json_integer(p->port));
		json_object_set_new(jp, "protocol", json_string(p->protocol));
		json_object_set_new(jp, "targetPort", json_string(p->target_port));
		if (p->node_port)
			json_object_set_new(jp, "nodePort", json_integer(p->node_port));
		json_array_append_new(ports, jp);
	}
	json_object_set_new(st, "ports", ports);
	size_t ready, not_ready;
	svc_backend_counts(s, &ready, &not_ready);
	json_object_set_new(
	    st, "endpoints",
	    json_pack("{s:I, s:I}", "ready", (json_int_t)ready, "notReady", (json_int_t)not_ready));
	const char *k;
	json_t *val;
	json_object_foreach(json_object_get(o->obj, "status"), k, val)
	{
		json_object_set(st, k, val);
	}
	if (!json_object_get(st, "loadBalancer"))
		json_object_set_new(st, "loadBalancer", json_object());
	char *y = codec_yaml(st, NULL);
	buf_puts(out, y);
	free(y);
	json_decref(st);
	svc_info_free(s);
}
