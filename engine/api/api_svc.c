/*
 * api_svc.c - admission of Services: cluster IPs from the service range
 * and node ports from 30000-32767, given out in the same transaction as
 * the write, so two Services can never get one IP or one port.
 *
 *     $ cp web.yaml /cluster/services/ && cat /cluster/services/web/clusterip
 *     10.96.183.27                            # random, above the static band
 *     $ cp other.yaml /cluster/services/      # spec.clusterIP: 10.96.183.27
 *     cp: closing '/cluster/services/other.yaml': File exists
 *     $ tail -1 /cluster/errors
 *     ... spec.clusterIP: Invalid value: "10.96.183.27": provided IP is already allocated
 *
 * There is no allocation table: what is taken is read from the Services
 * themselves (every namespace) inside the transaction, so the allocator
 * is rebuilt from the store by construction, a deleted Service frees its
 * IP and ports at once, and a refused write takes nothing.
 *
 * Which free value is given, as Kubernetes does (KEP-3070, KEP-3668): the
 * range is split into a low "static" band that dynamic allocation uses
 * only when the rest is full, so that addresses and ports users ask for by
 * number (a DNS service at 10.96.0.10) are seldom taken.  Within a band
 * an IP is picked at random (as Kubernetes' allocator does: an IP freed a
 * moment ago is seldom given again at once, so connections still tracked
 * to the old Service's pods do not meet the new one); node ports go to the
 * lowest free one.  The network address and, for IPv4,
 * the broadcast address are never valid; .1 is kept for the `kubernetes`
 * Service and never given out dynamically.
 */
#include "engine/api/api.h"
#include "engine/api/api_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "engine/mem.h"
#include "engine/obj.h"
#include "engine/api/svc.h"

/* Size of the low band that dynamic allocation takes last. */
static uint32_t ip_static_band(uint32_t size)
{
	uint32_t b = size / 16;
	if (b < 16)
		b = 16;
	return b > 256 ? 256 : b;
}

static uint32_t port_static_band(uint32_t size)
{
	uint32_t b = size / 32;
	if (b < 16)
		b = 16;
	return b > 128 ? 128 : b;
}

/* What the other Services hold: IP offsets in the range and node ports. */
struct taken {
	uint8_t *ips;	/* bitmap by offset from the network address */
	uint8_t *ports; /* bitmap by port - SVC_NODEPORT_MIN */
};

#define BIT_SET(m, i) ((m)[(i) >> 3] |= (uint8_t)(1u << ((i)&7)))
#define BIT_GET(m, i) (((m)[(i) >> 3] >> ((i)&7)) & 1u)

static void taken_read(struct store_txn *tx, const struct svc_cidr *c, const char *ns,
		       const char *name, struct taken *t)
{
	uint32_t size = 1u << (32 - c->prefix);
	t->ips = xcalloc(size / 8 + 1, 1);
	t->ports = xcalloc((SVC_NODEPORT_MAX - SVC_NODEPORT_MIN + 1) / 8 + 1, 1);
	struct sobj **v;
	size_t n = store_txn_list(tx, "Service", NULL, &v);
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(v[i]->ns, ns) && !strcmp(v[i]->name, name))
			continue;
		uint32_t ip;
		if (svc_ip_parse(obj_str(v[i]->obj, "spec.clusterIP"), &ip) &&
		    (ip & ~(size - 1)) == c->net)
			BIT_SET(t->ips, ip - c->net);
		size_t j;
		json_t *p;
		json_array_foreach(obj_at(v[i]->obj, "spec.ports"), j, p)
		{
			int64_t np = obj_int(p, "nodePort", 0);
			if (np >= SVC_NODEPORT_MIN && np <= SVC_NODEPORT_MAX)
				BIT_SET(t->ports, np - SVC_NODEPORT_MIN);
		}
	}
	sobj_list_free(v, n);
}

/* A free offset in [lo, hi) of bits, found from a random start and
 * wrapping; hi when there is none. */
static uint32_t free_from(const uint8_t *bits, uint32_t lo, uint32_t hi)
{
	if (lo >= hi)
		return hi;
	uint32_t r = 0;
	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (uint32_t)time(NULL);
	uint32_t n = hi - lo, start = r % n;
	for (uint32_t i = 0; i < n; i++) {
		uint32_t off = lo + (start + i) % n;
		if (!BIT_GET(bits, off))
			return off;
	}
	return hi;
}

static void taken_free(struct taken *t)
{
	free(t->ips);
	free(t->ports);
}

/* The cluster IP of a new Service: requested (must be in range and free)
 * or the next free one. */
static int admit_cluster_ip(const struct api *a, struct taken *t, const char *name, json_t *spec,
			    const char *want, struct err **e)
{
	const struct svc_cidr *c = &a->svc_cidr;
	uint32_t size = 1u << (32 - c->prefix), off;
	char range[20];
	svc_cidr_format(c, range);
	if (want && *want) {
		uint32_t ip;
		if (!svc_ip_parse(want, &ip) || (ip & ~(size - 1)) != c->net || ip == c->net ||
		    ip == c->net + size - 1)
			return err_make(
			    e, EINVAL,
			    "Service \"%s\": spec.clusterIP: Invalid value: \"%s\": provided IP is "
			    "not in the valid range. The range of valid IPs is %s",
			    name, want, range);
		if (BIT_GET(t->ips, ip - c->net))
			return err_make(e, EEXIST,
					"Service \"%s\": spec.clusterIP: Invalid value: \"%s\": "
					"provided IP is already allocated",
					name, want);
		off = ip - c->net;
	} else {
		uint32_t band = ip_static_band(size);
		off = free_from(t->ips, band, size - 1);
		if (off >= size - 1) {
			uint32_t end = band < size - 1 ? band : size - 1;
			off = free_from(t->ips, 2, end);
			if (off >= end)
				return err_make(
				    e, ENOSPC,
				    "Service \"%s\": spec.clusterIP: Internal error: failed to "
				    "allocate a serviceIP: range is full (%s)",
				    name, range);
		}
	}
	BIT_SET(t->ips, off);
	char ip[16];
	svc_ip_format(c->net + off, ip);
	json_object_set_new(spec, "clusterIP", json_string(ip));
	json_object_set_new(spec, "clusterIPs", json_pack("[s]", ip));
	return 0;
}

/* The old port that a new port without a nodePort keeps its nodePort from. */
static int64_t old_node_port(const json_t *old, const json_t *p)
{
	size_t i;
	json_t *q;
	const char *proto = obj_str(p, "protocol");
	json_array_foreach(obj_at(old, "spec.ports"), i, q)
	{
		const char *qp = obj_str(q, "protocol");
		if (obj_int(q, "port", 0) == obj_int(p, "port", -1) &&
		    !strcmp(qp ? qp : "TCP", proto ? proto : "TCP"))
			return obj_int(q, "nodePort", 0);
	}
	return 0;
}

static bool wants_node_ports(const json_t *spec)
{
	const char *type = obj_str(spec, "type");
	if (!type)
		return false;
	if (!strcmp(type, "NodePort"))
		return true;
	/* No cloud provider: a LoadBalancer gets node ports (and a pending
	 * status.loadBalancer), as on a bare-metal Kubernetes. */
	return !strcmp(type, "LoadBalancer") &&
	       !json_is_false(json_object_get(spec, "allocateLoadBalancerNodePorts"));
}

static int admit_node_ports(struct taken *t, const char *name, json_t *spec, const json_t *old,
			    struct err **e)
{
	size_t i;
	json_t *p;
	json_t *ports = json_object_get(spec, "ports");
	/* Requested first, so that an unset port never takes one asked for
	 * later in the same list. */
	for (int pass = 0; pass < 2; pass++) {
		json_array_foreach(ports, i, p)
		{
			int64_t np = obj_int(p, "nodePort", 0);
			if (pass == 0 && !np && old) {
				int64_t keep = old_node_port(old, p);
				if (keep >= SVC_NODEPORT_MIN && keep <= SVC_NODEPORT_MAX &&
				    !BIT_GET(t->ports, keep - SVC_NODEPORT_MIN)) {
					json_object_set_new(p, "nodePort", json_integer(keep));
					np = keep;
				}
			}
			if (pass == 0 && np) {
				if (np < SVC_NODEPORT_MIN || np > SVC_NODEPORT_MAX)
					return err_make(
					    e, EINVAL,
					    "Service \"%s\": spec.ports[%zu].nodePort: Invalid "
					    "value: %lld: provided port is not in the valid range. "
					    "The range of valid ports is %d-%d",
					    name, i, (long long)np, SVC_NODEPORT_MIN,
					    SVC_NODEPORT_MAX);
				if (BIT_GET(t->ports, np - SVC_NODEPORT_MIN))
					return err_make(
					    e, EEXIST,
					    "Service \"%s\": spec.ports[%zu].nodePort: Invalid "
					    "value: %lld: provided port is already allocated",
					    name, i, (long long)np);
				BIT_SET(t->ports, np - SVC_NODEPORT_MIN);
			} else if (pass == 1 && !np) {
				uint32_t size = SVC_NODEPORT_MAX - SVC_NODEPORT_MIN + 1;
				uint32_t band = port_static_band(size), off = band;
				while (off < size && BIT_GET(t->ports, off))
					off++;
				if (off >= size) {
					off = 0;
					while (off < band && BIT_GET(t->ports, off))
						off++;
					if (off >= band)
						return err_make(
						    e, ENOSPC,
						    "Service \"%s\": spec.ports[%zu].nodePort: "
						    "Internal error: failed to allocate a "
						    "nodePort: range is full",
						    name, i);
				}
				BIT_SET(t->ports, off);
				json_object_set_new(p, "nodePort",
						    json_integer(SVC_NODEPORT_MIN + (int)off));
			}
		}
	}
	return 0;
}

int api_admit_service(struct store_txn *tx, const struct api *a, const struct sobj *old,
		      json_t *obj, struct err **e)
{
	static const struct api def = {.svc_cidr = {0x0a600000, 16}}; /* 10.96.0.0/16 */
	if (!a)
		a = &def;
	json_t *spec = json_object_get(obj, "spec");
	if (!json_is_object(spec))
		return 0;
	const char *name = api_obj_name(obj), *ns = api_obj_ns(obj);
	const char *oip = old ? obj_str(old->obj, "spec.clusterIP") : NULL;
	const char *want = obj_str(spec, "clusterIP");
	json_t *ips = json_object_get(spec, "clusterIPs");
	if ((!want || !*want) && json_is_string(json_array_get(ips, 0)))
		want = json_string_value(json_array_get(ips, 0));

	struct taken t = {0};
	taken_read(tx, &a->svc_cidr, ns ? ns : "", name ? name : "", &t);
	int r = 0;
	if (oip && *oip) {
		/* Immutable (valid_update said so); keep the allocated one. */
		json_object_set_new(spec, "clusterIP", json_string(oip));
		json_object_set_new(spec, "clusterIPs", json_pack("[s]", oip));
	} else if (want && !strcmp(want, "None")) {
		json_object_set_new(spec, "clusterIP", json_string("None"));
		json_object_set_new(spec, "clusterIPs", json_pack("[s]", "None"));
	} else {
		r = admit_cluster_ip(a, &t, name, spec, want, e);
	}
	if (r >= 0 && wants_node_ports(spec))
		r = admit_node_ports(&t, name, spec, old ? old->obj : NULL, e);
	taken_free(&t);
	return r;
}

int api_set_service_cidr(struct api *a, const char *cidr, struct err **e)
{
	struct svc_cidr c;
	int r = svc_cidr_parse(cidr, &c, e);
	if (r < 0)
		return r;
	a->svc_cidr = c;
	return 0;
}

void api_service_cidr(struct api *a, char out[20])
{
	svc_cidr_format(&a->svc_cidr, out);
}
