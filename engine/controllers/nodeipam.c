/*
 * nodeipam.c - the node IPAM controller (see nodeipam.h).
 *
 * The allocator is an array of counters, one per subnet of the cluster
 * CIDR: how many nodes' podCIDRs cover that subnet (two only when nodes
 * registered with overlapping ones).  A subnet is free at 0.  Each node's
 * share is remembered (claims: name -> which subnets), so that a deletion
 * gives back exactly what the node held.  Nodes that found no free subnet
 * wait in a set and are synced again when a counter drops to 0.
 *
 * Keys are "/NODE" (Nodes are cluster-scoped).  Everything but the ctrl
 * pointer and the rebuild flag, which the informer thread sets, belongs to
 * the single worker.
 */
#include "engine/controllers/nodeipam.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/controllers/ctrl.h"
#include "engine/hmap.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"

#define MARK	  ((void *)1)
#define MAX_BITS  16 /* at most 2^16 subnets */
#define CIDR_SIZE 20 /* "255.255.255.255/32" */

/* The subnets [first, first + count) a node's podCIDR covers (count 0:
 * none of the range). */
struct claim {
	uint32_t first, count;
	char cidr[CIDR_SIZE];
};

struct nodeipam {
	struct api *api;
	struct ctrl *ctrl; /* atomic: set by the informer thread before any key */
	bool rebuild;	   /* atomic: rebuild the allocator before the next sync */
	uint32_t net;	   /* the cluster CIDR, host order */
	int prefix, mask;  /* its prefix length; the nodes' */
	uint32_t nsub;	   /* 1 << (mask - prefix) */
	char range[CIDR_SIZE];
	uint32_t *used;	     /* per subnet: how many nodes' podCIDRs cover it */
	struct hmap claims;  /* node -> struct claim * */
	struct hmap waiting; /* nodes that found no free subnet -> MARK */
	struct hmap warned;  /* node -> the podCIDR (char *) a Warning was given for */
};

/* CIDR arithmetic */

static uint32_t mask_of(int len)
{
	return len ? ~UINT32_C(0) << (32 - len) : 0;
}

/* Parses IPv4 "A.B.C.D/N" into *net (host order, host bits cleared) and *len. */
static bool parse_cidr(const char *s, uint32_t *net, int *len)
{
	char addr[INET_ADDRSTRLEN];
	const char *slash = s ? strchr(s, '/') : NULL;
	if (!slash || (size_t)(slash - s) >= sizeof(addr) || slash[1] < '0' || slash[1] > '9')
		return false;
	char *end;
	long n = strtol(slash + 1, &end, 10);
	if (*end || n < 0 || n > 32)
		return false;
	memcpy(addr, s, (size_t)(slash - s));
	addr[slash - s] = '\0';
	struct in_addr a;
	if (inet_pton(AF_INET, addr, &a) != 1)
		return false;
	*len = (int)n;
	*net = ntohl(a.s_addr) & mask_of(*len);
	return true;
}

static void format_cidr(uint32_t net, int len, char out[CIDR_SIZE])
{
	snprintf(out, CIDR_SIZE, "%u.%u.%u.%u/%d", net >> 24, (net >> 16) & 255, (net >> 8) & 255,
		 net & 255, len);
}

bool nodeipam_cidr_within(const char *inner, const char *outer)
{
	uint32_t in, out;
	int il, ol;
	return parse_cidr(inner, &in, &il) && parse_cidr(outer, &out, &ol) && il >= ol &&
	       (in & mask_of(ol)) == out;
}

int nodeipam_check_opts(const struct nodeipam_opts *o, struct err **e)
{
	const char *cidr = o && o->cluster_cidr ? o->cluster_cidr : NODEIPAM_DEFAULT_CIDR;
	int mask = o && o->mask_size > 0 ? o->mask_size : NODEIPAM_DEFAULT_MASK;
	uint32_t net;
	int len;
	if (!parse_cidr(cidr, &net, &len) || len < 8 || len > 30)
		return err_make(e, EINVAL,
				"--cluster-cidr \"%s\": want an IPv4 A.B.C.D/N, N in 8..30", cidr);
	if (mask <= len || mask > 30)
		return err_make(e, EINVAL,
				"--node-cidr-mask-size %d: must be longer than the cluster CIDR's "
				"prefix (/%d) and at most 30",
				mask, len);
	if (mask - len > MAX_BITS)
		return err_make(e, EINVAL,
				"--node-cidr-mask-size %d: at most %d with --cluster-cidr %s "
				"(65536 nodes)",
				mask, len + MAX_BITS, cidr);
	return 0;
}

/* Which subnets cidr covers: 1 (some or all of the range, *cl set), 0
 * (outside it, or unparsable: *cl empty). */
static int cover(const struct nodeipam *n, const char *cidr, struct claim *cl)
{
	uint32_t net;
	int len;
	memset(cl, 0, sizeof(*cl));
	snprintf(cl->cidr, sizeof(cl->cidr), "%s", cidr);
	if (!parse_cidr(cidr, &net, &len))
		return 0;
	if (len < n->prefix) { /* holds the whole range, or none of it */
		if ((n->net & mask_of(len)) != net)
			return 0;
		cl->count = n->nsub;
		return 1;
	}
	if ((net & mask_of(n->prefix)) != n->net)
		return 0;
	cl->first = (net - n->net) >> (32 - n->mask);
	cl->count = len >= n->mask ? 1 : UINT32_C(1) << (n->mask - len);
	return 1;
}

/* Claims */

static struct ctrl *ctl_of(struct nodeipam *n)
{
	return __atomic_load_n(&n->ctrl, __ATOMIC_ACQUIRE);
}

/* Syncs again every node waiting for a subnet. */
static void wake_waiting(struct nodeipam *n)
{
	struct ctrl *ctl = ctl_of(n);
	struct hmap_iter it = {0};
	struct hmap_ent *ent;
	while (ctl && (ent = hmap_next(&n->waiting, &it))) {
		char key[300];
		snprintf(key, sizeof(key), "/%s", ent->key);
		ctrl_enqueue(ctl, key);
	}
}

static void claim_add(struct nodeipam *n, const char *node, const struct claim *cl)
{
	struct claim *c = xmalloc(sizeof(*c));
	*c = *cl;
	for (uint32_t i = 0; i < c->count; i++)
		n->used[c->first + i]++;
	free(hmap_set(&n->claims, node, c));
}

/* Gives back what node holds; wakes the waiting nodes when a subnet got free. */
static void claim_release(struct nodeipam *n, const char *node)
{
	struct claim *c = hmap_del(&n->claims, node);
	bool freed = false;
	for (uint32_t i = 0; c && i < c->count; i++)
		freed |= --n->used[c->first + i] == 0;
	free(c);
	if (freed)
		wake_waiting(n);
}

/* A Warning event on node about cidr, once per node and podCIDR. */
static void warn_once(struct nodeipam *n, const char *node, const char *cidr, const char *reason,
		      const char *msg)
{
	const char *was = hmap_get(&n->warned, node);
	if (was && !strcmp(was, cidr))
		return;
	free(hmap_set(&n->warned, node, xstrdup(cidr)));
	log_warn("nodeipam", "node %s: %s", node, msg);
	api_event(n->api, "Warning", reason, "Node", "", node, "%s", msg);
}

/* The name of another node whose claim shares a subnet with cl, or NULL. */
static const char *overlapping(struct nodeipam *n, const char *node, const struct claim *cl)
{
	struct hmap_iter it = {0};
	struct hmap_ent *ent;
	while ((ent = hmap_next(&n->claims, &it))) {
		const struct claim *o = ent->val;
		if (strcmp(ent->key, node) && o->count && o->first < cl->first + cl->count &&
		    cl->first < o->first + o->count)
			return ent->key;
	}
	return NULL;
}

/* A node with a podCIDR: marks what it covers used, warning when that is
 * outside the range or shared with another node. */
static void keep(struct nodeipam *n, const char *node, const char *cidr)
{
	const struct claim *have = hmap_get(&n->claims, node);
	if (have && !strcmp(have->cidr, cidr))
		return;
	claim_release(n, node);
	hmap_del(&n->waiting, node);
	struct claim cl;
	char *msg = NULL;
	const char *other;
	if (!cover(n, cidr, &cl)) {
		msg = xasprintf("podCIDR %s is outside the cluster CIDR %s: kept, as podCIDR "
				"cannot change",
				cidr, n->range);
		warn_once(n, node, cidr, "PodCIDROutOfRange", msg);
	} else if ((other = overlapping(n, node, &cl))) {
		msg = xasprintf("podCIDR %s overlaps node %s's (%s): no other node gets any of it",
				cidr, other,
				((const struct claim *)hmap_get(&n->claims, other))->cidr);
		warn_once(n, node, cidr, "PodCIDROverlap", msg);
	}
	free(msg);
	claim_add(n, node, &cl);
}

/* A node's podCIDR: spec.podCIDR, else the first of spec.podCIDRs (what
 * Kubernetes' own types keep), else NULL. */
static const char *node_cidr(const json_t *node)
{
	const char *c = obj_str(node, "spec.podCIDR");
	if (!c || !*c)
		c = json_string_value(json_array_get(obj_at(node, "spec.podCIDRs"), 0));
	return c && *c ? c : NULL;
}

/* Allocation */

struct set_arg {
	const char *cidr;
};

/* An api_mutate_fn: sets spec.podCIDR(s) unless the node has a podCIDR
 * (-EEXIST then). */
static int set_cidr(json_t *node, void *arg, struct err **e)
{
	const struct set_arg *s = arg;
	json_t *spec = json_object_get(node, "spec");
	const char *cur = node_cidr(node);
	if (cur)
		return err_make(e, EEXIST, "node has podCIDR %s already", cur);
	if (!json_is_object(spec)) {
		spec = json_object();
		json_object_set_new(node, "spec", spec);
	}
	json_object_set_new(spec, "podCIDR", json_string(s->cidr));
	json_object_set_new(spec, "podCIDRs", json_pack("[s]", s->cidr));
	return 0;
}

/* The lowest free subnet, or -1. */
static int64_t lowest_free(const struct nodeipam *n)
{
	for (uint32_t i = 0; i < n->nsub; i++)
		if (!n->used[i])
			return i;
	return -1;
}

/* A node without a podCIDR: gives it the lowest free subnet. */
static int allocate(struct nodeipam *n, const char *node)
{
	claim_release(n, node); /* an earlier Node of that name's */
	int64_t i = lowest_free(n);
	if (i < 0) {
		if (!hmap_get(&n->waiting, node)) {
			hmap_set(&n->waiting, node, MARK);
			log_warn("nodeipam", "node %s: no free /%d left in %s", node, n->mask,
				 n->range);
		}
		api_event(n->api, "Warning", "CIDRNotAvailable", "Node", "", node,
			  "Node %s status is now: CIDRNotAvailable", node);
		return 0;
	}
	struct claim cl = {(uint32_t)i, 1, ""};
	format_cidr(n->net + ((uint32_t)i << (32 - n->mask)), n->mask, cl.cidr);
	claim_add(n, node, &cl);
	hmap_del(&n->waiting, node);
	struct set_arg s = {cl.cidr};
	struct err *e = NULL;
	int r = api_patch(n->api, KIND_NODE, NULL, node, set_cidr, &s, &e);
	if (r < 0) {
		claim_release(n, node);
		if (e && e->code != ENOENT && e->code != EEXIST)
			log_warn("nodeipam", "node %s: setting podCIDR %s: %s", node, cl.cidr,
				 e->msg);
		r = e && e->code == ENOENT ? 0 : -1; /* EEXIST: kept at the next sync */
	} else {
		log_info("nodeipam", "node %s: podCIDR %s", node, cl.cidr);
		r = 0;
	}
	err_free(e);
	return r;
}

static bool is_hollow(const json_t *node)
{
	const char *t = obj_str(node, "metadata.labels.type");
	return t && !strcmp(t, "hollow");
}

/* Marks what every Node's podCIDR covers, from a fresh list. */
static void rebuild(struct nodeipam *n)
{
	memset(n->used, 0, n->nsub * sizeof(*n->used));
	hmap_clear(&n->claims, free);
	hmap_clear(&n->waiting, NULL);
	struct sobj **v;
	int cnt = api_list(n->api, KIND_NODE, NULL, NULL, &v, NULL);
	for (int i = 0; i < cnt; i++) {
		const char *cidr = node_cidr(v[i]->obj);
		if (cidr && !is_hollow(v[i]->obj))
			keep(n, v[i]->name, cidr);
	}
	if (cnt > 0)
		sobj_list_free(v, (size_t)cnt);
	log_debug("nodeipam", "%zu nodes hold subnets of %s", hmap_len(&n->claims), n->range);
}

/* The controller */

static int ipam_sync(void *arg, const char *key)
{
	struct nodeipam *n = arg;
	char ns[256], name[256];
	if (!ctrl_split_key(key, ns, name))
		return 0;
	if (__atomic_exchange_n(&n->rebuild, false, __ATOMIC_ACQ_REL))
		rebuild(n);
	struct sobj *o = api_get(n->api, KIND_NODE, NULL, name);
	int r = 0;
	if (!o || is_hollow(o->obj)) {
		claim_release(n, name);
		hmap_del(&n->waiting, name);
		free(hmap_del(&n->warned, name));
	} else {
		const char *cidr = node_cidr(o->obj);
		if (cidr)
			keep(n, name, cidr);
		else
			r = allocate(n, name);
	}
	sobj_unref(o);
	return r;
}

static void ipam_resync(void *arg, struct ctrl *ctl)
{
	struct nodeipam *n = arg;
	__atomic_store_n(&n->ctrl, ctl, __ATOMIC_RELEASE);
	__atomic_store_n(&n->rebuild, true, __ATOMIC_RELEASE);
	struct sobj **v;
	int cnt = api_list(n->api, KIND_NODE, NULL, NULL, &v, NULL);
	for (int i = 0; i < cnt; i++)
		if (!is_hollow(v[i]->obj))
			ctrl_enqueue_obj(ctl, v[i]);
	if (cnt > 0)
		sobj_list_free(v, (size_t)cnt);
}

static void ipam_event(void *arg, struct ctrl *ctl, const struct store_event *ev)
{
	struct nodeipam *n = arg;
	if (strcmp(ev->obj->kind, "Node") || is_hollow(ev->obj->obj))
		return;
	__atomic_store_n(&n->ctrl, ctl, __ATOMIC_RELEASE);
	ctrl_enqueue_obj(ctl, ev->obj);
}

int nodeipam_start(struct api *a, const struct nodeipam_opts *o, struct nodeipam **out,
		   struct err **e)
{
	int r = nodeipam_check_opts(o, e);
	if (r < 0)
		return r;
	struct nodeipam *n = xcalloc(1, sizeof(*n));
	n->api = a;
	n->mask = o && o->mask_size > 0 ? o->mask_size : NODEIPAM_DEFAULT_MASK;
	parse_cidr(o && o->cluster_cidr ? o->cluster_cidr : NODEIPAM_DEFAULT_CIDR, &n->net,
		   &n->prefix);
	format_cidr(n->net, n->prefix, n->range);
	n->nsub = UINT32_C(1) << (n->mask - n->prefix);
	n->used = xcalloc(n->nsub, sizeof(*n->used));
	n->rebuild = true;
	static const struct ctrl_ops ops = {"nodeipam", 1, ipam_sync, ipam_resync, ipam_event};
	struct ctrl *c;
	if ((r = ctrl_start(a, &ops, n, &c, e)) < 0) {
		nodeipam_stop(n);
		return r;
	}
	__atomic_store_n(&n->ctrl, c, __ATOMIC_RELEASE);
	log_info("nodeipam", "node pod CIDRs: /%d subnets of %s (%u)", n->mask, n->range, n->nsub);
	*out = n;
	return 0;
}

void nodeipam_stop(struct nodeipam *n)
{
	if (!n)
		return;
	ctrl_stop(ctl_of(n));
	hmap_clear(&n->claims, free);
	hmap_clear(&n->waiting, NULL);
	hmap_clear(&n->warned, free);
	free(n->used);
	free(n);
}
