/*
 * svc.c - the service IP range and the joined read of a Service with its
 * Endpoints.  See svc.h.
 */
#include "engine/api/svc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/mem.h"
#include "engine/obj.h"

/* Addresses */

bool svc_ip_parse(const char *s, uint32_t *out)
{
	uint32_t ip = 0;
	const char *p = s;
	if (!s)
		return false;
	for (int part = 0; part < 4; part++) {
		if (part && *p++ != '.')
			return false;
		int v = 0, digits = 0;
		for (; *p >= '0' && *p <= '9'; p++, digits++) {
			if (digits == 1 && v == 0)
				return false; /* no leading zeros */
			v = v * 10 + (*p - '0');
			if (v > 255)
				return false;
		}
		if (!digits)
			return false;
		ip = ip << 8 | (uint32_t)v;
	}
	if (*p)
		return false;
	*out = ip;
	return true;
}

void svc_ip_format(uint32_t ip, char out[16])
{
	snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

int svc_cidr_parse(const char *s, struct svc_cidr *out, struct err **e)
{
	const char *slash = s ? strchr(s, '/') : NULL;
	char ipbuf[16];
	uint32_t ip;
	if (!slash || (size_t)(slash - s) >= sizeof(ipbuf))
		goto bad;
	memcpy(ipbuf, s, (size_t)(slash - s));
	ipbuf[slash - s] = '\0';
	char *end;
	long prefix = strtol(slash + 1, &end, 10);
	if (!svc_ip_parse(ipbuf, &ip) || !slash[1] || *end || prefix < 0 || prefix > 32)
		goto bad;
	if (prefix < 12 || prefix > 28)
		return err_make(e, EINVAL,
				"service CIDR %s: the prefix must be between /12 and /28 (at most "
				"2^20 addresses, at least 16)",
				s);
	uint32_t mask = prefix ? ~0u << (32 - prefix) : 0;
	if (ip & ~mask)
		return err_make(e, EINVAL, "service CIDR %s: the host bits must be zero", s);
	out->net = ip;
	out->prefix = (int)prefix;
	return 0;
bad:
	return err_make(e, EINVAL, "service CIDR \"%s\": want an IPv4 CIDR such as %s", s ? s : "",
			SVC_DEFAULT_CIDR);
}

void svc_cidr_format(const struct svc_cidr *c, char out[20])
{
	char ip[16];
	svc_ip_format(c->net, ip);
	snprintf(out, 20, "%s/%d", ip, c->prefix);
}

/* The joined read */

static int cmp_backend(const void *a, const void *b)
{
	const struct svc_backend *x = a, *y = b;
	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	uint32_t ix = 0, iy = 0;
	svc_ip_parse(x->ip, &ix);
	svc_ip_parse(y->ip, &iy);
	if (ix != iy)
		return ix < iy ? -1 : 1;
	if (x->target != y->target)
		return x->target < y->target ? -1 : 1;
	return (int)y->ready - (int)x->ready;
}

/* Adds the backends of one Endpoints subset. */
static void add_subset(struct svc_info *s, const json_t *ss, size_t *cap)
{
	static const char *const lists[] = {"addresses", "notReadyAddresses"};
	size_t j;
	json_t *ep;
	json_array_foreach(json_object_get(ss, "ports"), j, ep)
	{
		const char *pname = obj_str(ep, "name");
		const char *proto = obj_str(ep, "protocol");
		size_t sp;
		for (sp = 0; sp < s->nports; sp++)
			if (!strcmp(s->ports[sp].name, pname ? pname : "") &&
			    !strcmp(s->ports[sp].protocol, proto ? proto : "TCP"))
				break;
		if (sp == s->nports)
			continue;
		int target = (int)obj_int(ep, "port", 0);
		for (int l = 0; l < 2; l++) {
			size_t k;
			json_t *addr;
			json_array_foreach(json_object_get(ss, lists[l]), k, addr)
			{
				const char *ip = obj_str(addr, "ip");
				if (!ip || strlen(ip) >= 16)
					continue;
				if (s->nbackends == *cap) {
					*cap = *cap ? *cap * 2 : 8;
					s->backends =
					    xrealloc(s->backends, *cap * sizeof(*s->backends));
				}
				struct svc_backend *b = &s->backends[s->nbackends++];
				memset(b, 0, sizeof(*b));
				b->port = sp;
				snprintf(b->ip, sizeof(b->ip), "%s", ip);
				b->target = target;
				b->ready = l == 0;
				const char *node = obj_str(addr, "nodeName");
				const char *rk = obj_str(addr, "targetRef.kind");
				const char *rn = obj_str(addr, "targetRef.name");
				b->node = node ? xstrdup(node) : NULL;
				b->pod = rk && rn && !strcmp(rk, "Pod") ? xstrdup(rn) : NULL;
			}
		}
	}
}

static struct svc_info *info_of(const struct sobj *svc, const struct sobj *ep)
{
	struct svc_info *s = xcalloc(1, sizeof(*s));
	const json_t *o = svc->obj;
	s->ns = xstrdup(svc->ns);
	s->name = xstrdup(svc->name);
	const char *type = obj_str(o, "spec.type");
	s->type = xstrdup(type ? type : "ClusterIP");
	const char *ip = obj_str(o, "spec.clusterIP");
	snprintf(s->cluster_ip, sizeof(s->cluster_ip), "%s", ip && strlen(ip) < 16 ? ip : "");
	s->headless = !strcmp(s->cluster_ip, "None");
	const json_t *sel = obj_at(o, "spec.selector");
	s->has_selector = json_is_object(sel) && json_object_size(sel) > 0;
	json_t *ports = obj_at(o, "spec.ports");
	s->nports = json_array_size(ports);
	s->ports = xcalloc(s->nports ? s->nports : 1, sizeof(*s->ports));
	for (size_t i = 0; i < s->nports; i++) {
		json_t *p = json_array_get(ports, i);
		struct svc_port *sp = &s->ports[i];
		const char *name = obj_str(p, "name"), *proto = obj_str(p, "protocol");
		sp->name = xstrdup(name ? name : "");
		snprintf(sp->protocol, sizeof(sp->protocol), "%s", proto ? proto : "TCP");
		sp->port = (int)obj_int(p, "port", 0);
		sp->node_port = (int)obj_int(p, "nodePort", 0);
		json_t *tp = json_object_get(p, "targetPort");
		if (json_is_string(tp))
			sp->target_port = xstrdup(json_string_value(tp));
		else
			sp->target_port = xasprintf(
			    "%d", json_is_integer(tp) ? (int)json_integer_value(tp) : sp->port);
	}
	if (ep) {
		s->has_endpoints = true;
		size_t cap = 0, i;
		json_t *ss;
		json_array_foreach(json_object_get(ep->obj, "subsets"), i, ss)
		    add_subset(s, ss, &cap);
		if (s->nbackends)
			qsort(s->backends, s->nbackends, sizeof(*s->backends), cmp_backend);
	}
	return s;
}

int svc_info_get(struct api *a, const char *ns, const char *name, struct svc_info **out)
{
	struct sobj *svc = api_get(a, KIND_SERVICE, ns, name);
	if (!svc)
		return -ENOENT;
	struct sobj *ep = api_get(a, KIND_ENDPOINTS, ns, name);
	*out = info_of(svc, ep);
	sobj_unref(ep);
	sobj_unref(svc);
	return 0;
}

size_t svc_info_list(struct api *a, const char *ns, struct svc_info ***out)
{
	struct sobj **v;
	int n = api_list(a, KIND_SERVICE, ns, NULL, &v, NULL);
	*out = xcalloc(n > 0 ? (size_t)n : 1, sizeof(**out));
	for (int i = 0; i < n; i++) {
		struct sobj *ep = api_get(a, KIND_ENDPOINTS, v[i]->ns, v[i]->name);
		(*out)[i] = info_of(v[i], ep);
		sobj_unref(ep);
	}
	if (n > 0)
		sobj_list_free(v, (size_t)n);
	return n > 0 ? (size_t)n : 0;
}

void svc_info_free(struct svc_info *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->nports; i++) {
		free(s->ports[i].name);
		free(s->ports[i].target_port);
	}
	for (size_t i = 0; i < s->nbackends; i++) {
		free(s->backends[i].node);
		free(s->backends[i].pod);
	}
	free(s->ports);
	free(s->backends);
	free(s->ns);
	free(s->name);
	free(s->type);
	free(s);
}

void svc_info_list_free(struct svc_info **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		svc_info_free(v[i]);
	free(v);
}

struct ipport {
	uint32_t ip;
	int port;
};

static int cmp_ipport(const void *a, const void *b)
{
	const struct ipport *x = a, *y = b;
	if (x->ip != y->ip)
		return x->ip < y->ip ? -1 : 1;
	return (x->port > y->port) - (x->port < y->port);
}

char *svc_ready_lines(const struct svc_info *s)
{
	struct ipport *v = xcalloc(s->nbackends ? s->nbackends : 1, sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; i < s->nbackends; i++) {
		const struct svc_backend *b = &s->backends[i];
		if (b->ready && svc_ip_parse(b->ip, &v[n].ip)) {
			v[n].port = b->target;
			n++;
		}
	}
	qsort(v, n, sizeof(*v), cmp_ipport);
	struct buf out = {0};
	buf_puts(&out, "");
	for (size_t i = 0; i < n; i++) {
		if (i && !cmp_ipport(&v[i], &v[i - 1]))
			continue;
		char ip[16];
		svc_ip_format(v[i].ip, ip);
		buf_printf(&out, "%s:%d\n", ip, v[i].port);
	}
	free(v);
	return buf_steal(&out, NULL);
}

void svc_backend_counts(const struct svc_info *s, size_t *ready, size_t *not_ready)
{
	*ready = *not_ready = 0;
	for (size_t i = 0; i < s->nbackends; i++)
		(*(s->backends[i].ready ? ready : not_ready))++;
}
