/*
 * proxy_json.c - see proxy.h: a Service and its Endpoints as the proxy
 * sees them.  Pure functions over jansson values.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "engine/mem.h"
#include "engine/obj.h"
#include "runtime/net/proxy.h"
#include "runtime/sys.h"

#define DEFAULT_AFFINITY_S 10800 /* Kubernetes' sessionAffinityConfig default */

static void copy_str(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src ? src : "");
}

int proxy_service_from_json(const json_t *service, const json_t *endpoints,
			    struct proxy_service *out)
{
	const json_t *spec = json_object_get(service, "spec");
	const char *type = obj_str(spec, "type"), *name = obj_str(service, "metadata.name");
	const char *ns = obj_str(service, "metadata.namespace");
	bool node_ports = type && (!strcmp(type, "NodePort") || !strcmp(type, "LoadBalancer"));
	const json_t *ports = json_object_get(spec, "ports"), *sp;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!name || !*name)
		return -EINVAL;
	copy_str(out->ns, sizeof(out->ns), ns && *ns ? ns : "default");
	copy_str(out->name, sizeof(out->name), name);
	if (type && !strcmp(type, "ExternalName"))
		return 0;
	copy_str(out->cluster_ip, sizeof(out->cluster_ip), obj_str(spec, "clusterIP"));
	const char *aff = obj_str(spec, "sessionAffinity");
	out->affinity_client_ip = aff && !strcmp(aff, "ClientIP");
	out->affinity_timeout_s =
	    (int)obj_int(spec, "sessionAffinityConfig.clientIP.timeoutSeconds", DEFAULT_AFFINITY_S);

	out->ports = xcalloc(json_array_size(ports) + 1, sizeof(*out->ports));
	json_array_foreach(ports, i, sp)
	{
		struct proxy_port *pt = &out->ports[out->nports++];
		const char *pname = obj_str(sp, "name"), *proto = obj_str(sp, "protocol");
		copy_str(pt->name, sizeof(pt->name), pname);
		copy_str(pt->proto, sizeof(pt->proto), proto ? proto : "TCP");
		for (char *c = pt->proto; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		pt->port = (int)obj_int(sp, "port", 0);
		pt->node_port = node_ports ? (int)obj_int(sp, "nodePort", 0) : 0;
		if (pt->port < 1 || pt->port > 65535 || pt->node_port < 0 ||
		    pt->node_port > 65535) {
			proxy_service_free(out);
			return -EINVAL;
		}

		size_t j, k, a;
		const json_t *sub, *ep, *addr;
		json_array_foreach(json_object_get(endpoints, "subsets"), j, sub)
		{
			json_array_foreach(json_object_get(sub, "ports"), k, ep)
			{
				const char *en = obj_str(ep, "name"),
					   *eproto = obj_str(ep, "protocol");
				int eport = (int)obj_int(ep, "port", 0);
				if (strcmp(en ? en : "", pt->name) ||
				    strcasecmp(eproto ? eproto : "TCP", pt->proto) || eport < 1 ||
				    eport > 65535)
					continue;
				const json_t *addrs = json_object_get(sub, "addresses");
				pt->eps =
				    xrealloc(pt->eps, (pt->neps + json_array_size(addrs) + 1) *
							  sizeof(*pt->eps));
				json_array_foreach(addrs, a, addr)
				{
					char ip[INET_ADDRSTRLEN];
					const char *s = obj_str(addr, "ip");
					if (!s || !ipv4_canon(s, ip))
						continue;
					copy_str(pt->eps[pt->neps].ip, sizeof(pt->eps[0].ip), ip);
					pt->eps[pt->neps++].port = eport;
				}
			}
		}
	}
	return 0;
}

void proxy_service_free(struct proxy_service *s)
{
	for (size_t i = 0; i < s->nports; i++)
		free(s->ports[i].eps);
	free(s->ports);
	s->ports = NULL;
	s->nports = 0;
}
