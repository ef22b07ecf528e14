/*
 * proxy.c - see proxy.h.  A service is turned into a desired state (its
 * chains with their rules, its sets, its map elements); the transaction is
 * the difference between that and the state kept from the last update
 * (or read back from the kernel by proxy_open).
 */
#include "runtime/net/proxy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <nftables/libnftables.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/hmap.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "runtime/sys.h"

#define MASQ_MARK	   "0x4000"
#define DEFAULT_AFFINITY_S 10800 /* Kubernetes' sessionAffinityConfig default */
#define NAME_MAX_NFT	   255	 /* chain and set names */

/* One element of a map (val: "goto CHAIN") or a set (val NULL). */
struct elem {
	char *map, *key, *val;
};

/* A chain of a service; rules NULL when unknown (read back from the kernel). */
struct chain {
	char *name, *rules;
};

/* What the table holds for one service. */
struct sstate {
	struct chain *chains; /* service- and external- chains before endpoint- ones */
	size_t nchains;
	char **sets;
	size_t nsets;
	int set_timeout; /* seconds; -1: unknown */
	struct elem *elems;
	size_t nelems;
};

struct proxy {
	pthread_mutex_t lock; /* guards everything below */
	struct nft_ctx *nft;
	char *table;
	char *pod_cidr, *cluster_cidr; /* canonical, or NULL */
	struct hmap svcs;	       /* "ns/name" -> struct sstate */
};

/* ---- small helpers ---- */

static void sstate_free(void *v)
{
	struct sstate *s = v;
	if (!s)
		return;
	for (size_t i = 0; i < s->nchains; i++)
		free(s->chains[i].name), free(s->chains[i].rules);
	for (size_t i = 0; i < s->nsets; i++)
		free(s->sets[i]);
	for (size_t i = 0; i < s->nelems; i++)
		free(s->elems[i].map), free(s->elems[i].key), free(s->elems[i].val);
	free(s->chains);
	free(s->sets);
	free(s->elems);
	free(s);
}

static void add_chain(struct sstate *s, char *name, char *rules)
{
	s->chains = xrealloc(s->chains, (s->nchains + 1) * sizeof(*s->chains));
	s->chains[s->nchains++] = (struct chain){name, rules};
}

static void add_set(struct sstate *s, char *name)
{
	s->sets = xrealloc(s->sets, (s->nsets + 1) * sizeof(*s->sets));
	s->sets[s->nsets++] = name;
}

static void add_elem(struct sstate *s, const char *map, char *key, char *val)
{
	s->elems = xrealloc(s->elems, (s->nelems + 1) * sizeof(*s->elems));
	s->elems[s->nelems++] = (struct elem){xstrdup(map), key, val};
}

static const struct chain *find_chain(const struct sstate *s, const char *name)
{
	for (size_t i = 0; s && i < s->nchains; i++)
		if (!strcmp(s->chains[i].name, name))
			return &s->chains[i];
	return NULL;
}

static bool has_set(const struct sstate *s, const char *name)
{
	for (size_t i = 0; s && i < s->nsets; i++)
		if (!strcmp(s->sets[i], name))
			return true;
	return false;
}

static bool streq0(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* The same element (map, key and value) in s. */
static bool has_elem(const struct sstate *s, const struct elem *x)
{
	for (size_t i = 0; s && i < s->nelems; i++)
		if (!strcmp(s->elems[i].map, x->map) && !strcmp(s->elems[i].key, x->key) &&
		    streq0(s->elems[i].val, x->val))
			return true;
	return false;
}

/* The 8-character tag of a service: base32 of 40 bits of FNV-1a 64 of
 * "ns/name". */
static void svc_tag(const char *key, char out[9])
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	uint64_t h = 1469598103934665603ULL;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	for (int i = 0; i < 8; i++, h >>= 5)
		out[i] = b32[h & 31];
	out[8] = '\0';
}

/* Letters, digits, '.', '_' and '-' only: what may go into an nft name. */
static bool name_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			return false;
	return true;
}

/* "A.B.C.D/N" checked and with host bits cleared; NULL when bad. */
static char *cidr_canon(const char *in)
{
	char ip[INET_ADDRSTRLEN], out[INET_ADDRSTRLEN];
	const char *slash = strchr(in, '/');
	char *end;
	struct in_addr a;
	if (!slash || (size_t)(slash - in) >= sizeof(ip))
		return NULL;
	memcpy(ip, in, (size_t)(slash - in));
	ip[slash - in] = '\0';
	long n = strtol(slash + 1, &end, 10);
	if (*end || end == slash + 1 || n < 0 || n > 32 || inet_pton(AF_INET, ip, &a) != 1)
		return NULL;
	a.s_addr &= n ? htonl(~0U << (32 - n)) : 0;
	inet_ntop(AF_INET, &a, out, sizeof(out));
	return xasprintf("%s/%ld", out, n);
}

static const char *proto_name(const char *p)
{
	if (!strcasecmp(p, "tcp"))
		return "tcp";
	if (!strcasecmp(p, "udp"))
		return "udp";
	if (!strcasecmp(p, "sctp"))
		return "sctp";
	return NULL;
}

/* ---- libnftables ---- */

/* Runs cmds as one transaction.  0, or -EIO (-ENOENT when nft says
 * something is missing) with nft's first error line in *e. */
static int nft_run(struct nft_ctx *nft, const char *what, const char *cmds, struct err **e)
{
	if (nft_run_cmd_from_buffer(nft, cmds) == 0) {
		nft_ctx_get_error_buffer(nft); /* warnings: dropped */
		return 0;
	}
	const char *msg = nft_ctx_get_error_buffer(nft);
	int code = msg && strstr(msg, "No such file or directory") ? ENOENT : EIO;
	size_t n = msg ? strcspn(msg, "\n") : 0;
	log_debug("proxy", "%s: transaction failed:\n%s%s", what, msg ? msg : "", cmds);
	return err_make(e, code, "%s: nft: %.*s", what, (int)n, n ? msg : "failed");
}

static struct nft_ctx *nft_new(void)
{
	struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (!nft)
		return NULL;
	nft_ctx_buffer_output(nft);
	nft_ctx_buffer_error(nft);
	return nft;
}

/* ---- the fixed part of the table ---- */

static int ensure_base(struct proxy *p, struct err **e)
{
	struct buf b = {0};
	const char *t = p->table;

	buf_printf(&b, "add table ip %s\n", t);
	buf_printf(&b,
		   "add map ip %s service-ips { type ipv4_addr . inet_proto . inet_service : "
		   "verdict ; }\n",
		   t);
	buf_printf(
	    &b, "add map ip %s service-nodeports { type inet_proto . inet_service : verdict ; }\n",
	    t);
	buf_printf(&b,
		   "add map ip %s no-endpoint-services { type ipv4_addr . inet_proto . "
		   "inet_service : verdict ; }\n",
		   t);
	buf_printf(
	    &b,
	    "add map ip %s no-endpoint-nodeports { type inet_proto . inet_service : verdict ; }\n",
	    t);
	buf_printf(
	    &b, "add set ip %s service-keys { type ipv4_addr . inet_proto . inet_service ; }\n", t);

	/* helper chains first: the base chains jump to them */
	static const char *const fixed[] = {"mark-for-masquerade", "masquerading", "services",
					    "endpoints-check"};
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		buf_printf(&b, "add chain ip %s %s\nflush chain ip %s %s\n", t, fixed[i], t,
			   fixed[i]);
	buf_printf(
	    &b, "add rule ip %s mark-for-masquerade meta mark set meta mark | " MASQ_MARK "\n", t);
	if (p->pod_cidr) /* pods' packets leaving the cluster's pod range */
		buf_printf(
		    &b,
		    "add rule ip %s masquerading ip saddr %s ip daddr != { %s, 224.0.0.0/4 } "
		    "masquerade fully-random\n",
		    t, p->pod_cidr, p->pod_cidr);
	buf_printf(&b, "add rule ip %s masquerading meta mark & " MASQ_MARK " == 0 return\n", t);
	buf_printf(&b, "add rule ip %s masquerading meta mark set meta mark ^ " MASQ_MARK "\n", t);
	buf_printf(&b, "add rule ip %s masquerading masquerade fully-random\n", t);
	buf_printf(&b,
		   "add rule ip %s services ip daddr . meta l4proto . th dport vmap @service-ips\n",
		   t);
	buf_printf(&b,
		   "add rule ip %s services fib daddr type local ip daddr != 127.0.0.0/8 "
		   "meta l4proto . th dport vmap @service-nodeports\n",
		   t);
	buf_printf(&b,
		   "add rule ip %s endpoints-check ip daddr . meta l4proto . th dport "
		   "vmap @no-endpoint-services\n",
		   t);
	buf_printf(&b,
		   "add rule ip %s endpoints-check fib daddr type local ip daddr != 127.0.0.0/8 "
		   "meta l4proto . th dport vmap @no-endpoint-nodeports\n",
		   t);
	if (p->cluster_cidr) {
		buf_printf(&b,
			   "add rule ip %s endpoints-check ip daddr . meta l4proto . th dport "
			   "@service-keys return\n",
			   t);
		buf_printf(&b,
			   "add rule ip %s endpoints-check ip daddr %s meta l4proto tcp "
			   "reject with tcp reset\n",
			   t, p->cluster_cidr);
		buf_printf(&b, "add rule ip %s endpoints-check ip daddr %s reject\n", t,
			   p->cluster_cidr);
	}

	/* nft 1.0.6 knows "dstnat" only at prerouting: output spells it -100 */
	static const struct {
		const char *name, *type, *hook, *prio, *target;
		bool new_only;
	} base[] = {
	    {"nat-prerouting", "nat", "prerouting", "dstnat", "services", false},
	    {"nat-output", "nat", "output", "-100", "services", false},
	    {"nat-postrouting", "nat", "postrouting", "srcnat", "masquerading", false},
	    {"filter-prerouting", "filter", "prerouting", "dstnat - 10", "endpoints-check", true},
	    {"filter-output", "filter", "output", "-110", "endpoints-check", true},
	};
	for (size_t i = 0; i < sizeof(base) / sizeof(base[0]); i++) {
		buf_printf(&b,
			   "add chain ip %s %s { type %s hook %s priority %s ; policy accept ; }\n",
			   t, base[i].name, base[i].type, base[i].hook, base[i].prio);
		buf_printf(&b, "flush chain ip %s %s\n", t, base[i].name);
		buf_printf(&b, "add rule ip %s %s %sjump %s\n", t, base[i].name,
			   base[i].new_only ? "ct state new " : "", base[i].target);
	}
	int rc = nft_run(p->nft, t, b.s, e);
	buf_free(&b);
	return rc;
}

/* ---- reading the table back ---- */

/* The tag of a chain or set name "PREFIX-TAG-...", or NULL. */
static const char *name_tag(const char *name, char tag[9])
{
	static const char *const prefixes[] = {"service-", "external-", "endpoint-", "affinity-"};
	for (size_t i = 0; i < 4; i++) {
		size_t n = strlen(prefixes[i]);
		if (!strncmp(name, prefixes[i], n) && strlen(name) > n + 9 && name[n + 8] == '-') {
			memcpy(tag, name + n, 8);
			tag[8] = '\0';
			return tag;
		}
	}
	return NULL;
}

/* An element key as this module writes it: the parts of a concatenation
 * joined by " . ". */
static char *key_text(const json_t *k)
{
	const json_t *parts = json_object_get(k, "concat");
	struct buf b = {0};
	size_t i;
	json_t *x;

	if (!parts)
		parts = k;
	if (!json_is_array(parts)) {
		if (json_is_string(parts))
			buf_puts(&b, json_string_value(parts));
		else
			buf_printf(&b, "%lld", (long long)json_integer_value(parts));
		return buf_steal(&b, NULL);
	}
	json_array_foreach(parts, i, x)
	{
		if (i)
			buf_puts(&b, " . ");
		if (json_is_string(x))
			buf_puts(&b, json_string_value(x));
		else
			buf_printf(&b, "%lld", (long long)json_integer_value(x));
	}
	return buf_steal(&b, NULL);
}

/* Per tag, the state of one service; NULL tag groups are dropped. */
static struct sstate *by_tag(struct hmap *tags, const char *tag)
{
	struct sstate *s = hmap_get(tags, tag);
	if (!s) {
		s = xcalloc(1, sizeof(*s));
		s->set_timeout = -1;
		hmap_set(tags, tag, s);
	}
	return s;
}

/* A chain of the table: into its tag's state; a service chain
 * (service-TAG-NS/NAME/PROTO/PORT) also names the tag's service in keys. */
static void note_chain(struct hmap *tags, struct hmap *keys, const char *name)
{
	char tag[9];
	if (!name_tag(name, tag))
		return;
	add_chain(by_tag(tags, tag), xstrdup(name), NULL);
	if (!strncmp(name, "service-", 8) && !hmap_get(keys, tag)) {
		const char *k = name + 17, *s1 = strchr(k, '/');
		const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
		if (s2)
			hmap_set(keys, tag, xstrndup(k, (size_t)(s2 - k)));
	}
}

/* The elements of the shared set st or map m called name: a map's go with
 * the tag of their target chain; a set's (service-keys) go to the orphan
 * state "--------" until adopt_keys finds their service. */
static void note_elems(struct hmap *tags, const char *name, const json_t *st, const json_t *m)
{
	char tag[9];
	size_t j;
	json_t *el;
	json_array_foreach(json_object_get(st ? st : m, "elem"), j, el)
	{
		const json_t *k = m ? json_array_get(el, 0) : el;
		const json_t *v = m ? json_array_get(el, 1) : NULL;
		const char *target = obj_str(v, "goto.target");
		if (json_object_get(k, "elem")) /* an element with options */
			k = json_object_get(json_object_get(k, "elem"), "val");
		if (m && (!target || !name_tag(target, tag)))
			continue;
		if (st)
			add_elem(by_tag(tags, "--------"), name, key_text(k), NULL);
		else
			add_elem(by_tag(tags, tag), name, key_text(k),
				 xasprintf("goto %s", target));
	}
}

/* Every object of the table's JSON listing root into tags and keys. */
static void scan_table(const json_t *root, struct hmap *tags, struct hmap *keys)
{
	char tag[9];
	size_t i;
	json_t *x;
	json_array_foreach(json_object_get(root, "nftables"), i, x)
	{
		const json_t *c = json_object_get(x, "chain"), *st = json_object_get(x, "set");
		const json_t *m = json_object_get(x, "map");
		const char *name = obj_str(c ? c : st ? st : m, "name");
		if (!name)
			continue;
		if (c) {
			note_chain(tags, keys, name);
		} else if (st && name_tag(name, tag)) {
			struct sstate *s = by_tag(tags, tag);
			add_set(s, xstrdup(name));
			s->set_timeout = (int)obj_int(st, "timeout", -1);
		} else {
			note_elems(tags, name, st, m);
		}
	}
}

/* service-keys elements go with the service that maps the same key. */
static void adopt_keys(struct hmap *tags)
{
	struct sstate *loose = hmap_del(tags, "--------");
	for (size_t k = 0; loose && k < loose->nelems; k++) {
		struct hmap_iter it = {0};
		struct hmap_ent *ent;
		while ((ent = hmap_next(tags, &it))) {
			struct sstate *s = ent->val;
			bool mine = false;
			for (size_t j = 0; j < s->nelems && !mine; j++)
				mine = s->elems[j].val &&
				       !strcmp(s->elems[j].key, loose->elems[k].key);
			if (mine) {
				add_elem(s, loose->elems[k].map, xstrdup(loose->elems[k].key),
					 NULL);
				break;
			}
		}
	}
	sstate_free(loose);
}

/* service-/external- chains before endpoint- ones, for deletion. */
static void chains_service_first(struct sstate *s)
{
	for (size_t a = 0, z = 0; a < s->nchains; a++)
		if (strncmp(s->chains[a].name, "endpoint-", 9)) {
			struct chain tmp = s->chains[a];
			memmove(&s->chains[z + 1], &s->chains[z], (a - z) * sizeof(tmp));
			s->chains[z++] = tmp;
		}
}

/* Replaces p->svcs with what the kernel's table holds. */
static int load_state(struct proxy *p, struct err **e)
{
	_cleanup_free_ char *cmd = xasprintf("list table ip %s", p->table);
	struct hmap tags = {0}, keys = {0}; /* tag -> sstate; tag -> "ns/name" */
	struct hmap_iter it = {0};
	struct hmap_ent *ent;

	nft_ctx_output_set_flags(p->nft, NFT_CTX_OUTPUT_JSON);
	int rc = nft_run(p->nft, p->table, cmd, e);
	nft_ctx_output_set_flags(p->nft, 0);
	if (rc < 0)
		return rc;
	json_t *root = json_loads(nft_ctx_get_output_buffer(p->nft), 0, NULL);
	if (!root)
		return err_make(e, EIO, "%s: nft printed no JSON", p->table);
	scan_table(root, &tags, &keys);
	json_decref(root);
	adopt_keys(&tags);

	hmap_clear(&p->svcs, sstate_free);
	while ((ent = hmap_next(&tags, &it))) {
		char *key = hmap_get(&keys, ent->key);
		if (!key) { /* no service chain: cannot be named, cannot be synced */
			log_warn("proxy", "%s: objects of tag %s without a service chain", p->table,
				 ent->key);
			sstate_free(ent->val);
			continue;
		}
		chains_service_first(ent->val);
		sstate_free(hmap_set(&p->svcs, key, ent->val));
	}
	hmap_clear(&tags, NULL);
	hmap_clear(&keys, free);
	return 0;
}

/* ---- open, close, reset ---- */

int proxy_open(const struct proxy_opts *o, struct proxy **out, struct err **e)
{
	struct proxy *p;
	int rc;

	*out = NULL;
	if (!o->table || !name_ok(o->table) || strlen(o->table) > 200)
		return err_make(e, EINVAL, "proxy: bad table name \"%s\"",
				o->table ? o->table : "");
	p = xcalloc(1, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	p->table = xstrdup(o->table);
	if ((o->pod_cidr && !(p->pod_cidr = cidr_canon(o->pod_cidr))) ||
	    (o->cluster_cidr && !(p->cluster_cidr = cidr_canon(o->cluster_cidr)))) {
		rc = err_make(e, EINVAL, "%s: bad CIDR \"%s\"", o->table,
			      p->pod_cidr || !o->pod_cidr ? o->cluster_cidr : o->pod_cidr);
		goto fail;
	}
	if (!(p->nft = nft_new())) {
		rc = err_make(e, ENOMEM, "%s: nft_ctx_new failed", o->table);
		goto fail;
	}
	if ((rc = ensure_base(p, e)) < 0 || (rc = load_state(p, e)) < 0)
		goto fail;

	FILE *f = fopen("/proc/sys/net/bridge/bridge-nf-call-iptables", "re");
	int on = 0;
	if (!f || fscanf(f, "%d", &on) != 1 || !on)
		log_warn("proxy",
			 "%s: br_netfilter is off (net.bridge.bridge-nf-call-iptables): "
			 "pod to service to pod on one bridge will not work",
			 p->table);
	if (f)
		fclose(f);
	log_info("proxy", "%s: opened with %zu services", p->table, hmap_len(&p->svcs));
	*out = p;
	return 0;
fail:
	proxy_close(p);
	return rc;
}

void proxy_close(struct proxy *p)
{
	if (!p)
		return;
	hmap_clear(&p->svcs, sstate_free);
	if (p->nft)
		nft_ctx_free(p->nft);
	pthread_mutex_destroy(&p->lock);
	free(p->table);
	free(p->pod_cidr);
	free(p->cluster_cidr);
	free(p);
}

int proxy_reset(const char *table, struct err **e)
{
	if (!table || !name_ok(table) || strlen(table) > 200)
		return err_make(e, EINVAL, "proxy: bad table name \"%s\"", table ? table : "");
	struct nft_ctx *nft = nft_new();
	if (!nft)
		return err_make(e, ENOMEM, "%s: nft_ctx_new failed", table);
	/* add first: delete alone fails on a missing table */
	_cleanup_free_ char *cmds =
	    xasprintf("add table ip %s\ndelete table ip %s\n", table, table);
	int rc = nft_run(nft, table, cmds, e);
	nft_ctx_free(nft);
	return rc;
}

/* ---- one service ---- */

/* Moves the chain added last to index at: a service chain goes before its
 * endpoint chains, an external chain before its service chain. */
static void chain_to(struct sstate *d, size_t at)
{
	struct chain c = d->chains[d->nchains - 1];
	memmove(&d->chains[at + 1], &d->chains[at], (d->nchains - 1 - at) * sizeof(c));
	d->chains[at] = c;
}

/* Checks what build writes into the table: names, the clusterIP (its
 * canonical form into cip, "" when none), each port and the endpoints of
 * each port that gets chains.  -EINVAL for the first that is bad. */
static int check_service(const struct proxy_service *s, const char *key, char cip[INET_ADDRSTRLEN],
			 struct err **e)
{
	if (!name_ok(s->ns) || !name_ok(s->name) || strlen(key) > 200)
		return err_make(e, EINVAL, "service %s: bad namespace or name", key);
	if (*s->cluster_ip && strcmp(s->cluster_ip, "None") && !ipv4_canon(s->cluster_ip, cip))
		return err_make(e, EINVAL, "service %s: bad clusterIP \"%s\"", key, s->cluster_ip);
	for (size_t i = 0; i < s->nports; i++) {
		const struct proxy_port *pt = &s->ports[i];
		if (!proto_name(pt->proto) || pt->port < 1 || pt->port > 65535 ||
		    pt->node_port < 0 || pt->node_port > 65535)
			return err_make(e, EINVAL, "service %s: bad port %s/%d (nodePort %d)", key,
					pt->proto, pt->port, pt->node_port);
		if (!*cip && !pt->node_port)
			continue; /* no chains: its endpoints are not written */
		for (size_t j = 0; j < pt->neps; j++) {
			const struct proxy_endpoint *ep = &pt->eps[j];
			char ip[INET_ADDRSTRLEN];
			if (!ipv4_canon(ep->ip, ip) || ep->port < 1 || ep->port > 65535)
				return err_make(e, EINVAL, "service %s: bad endpoint %s:%d", key,
						ep->ip, ep->port);
		}
	}
	return 0;
}

/* What the chains of one port of one service are named by. */
struct port_ctx {
	const struct proxy *p;
	const struct proxy_service *s;
	const struct proxy_port *pt;
	const char *key, *tag, *proto, *svc; /* svc: the service chain's name */
};

/* The endpoint chains of one port, each once, into d; their names (d's)
 * into eps; the affinity rules into the service chain's r.  Returns how
 * many. */
static size_t endpoint_chains(const struct port_ctx *c, struct sstate *d, struct buf *r, char **eps)
{
	const char *t = c->p->table;
	size_t n = 0;
	for (size_t j = 0; j < c->pt->neps; j++) {
		const struct proxy_endpoint *ep = &c->pt->eps[j];
		char ip[INET_ADDRSTRLEN];
		ipv4_canon(ep->ip, ip); /* checked by check_service */
		_cleanup_free_ char *suffix =
		    xasprintf("%s-%s/%d__%s/%d", c->tag, c->proto, c->pt->port, ip, ep->port);
		char *name = xasprintf("endpoint-%s", suffix);
		if (find_chain(d, name)) {
			free(name);
			continue;
		}
		struct buf er = {0};
		buf_printf(&er, "add rule ip %s %s ip saddr %s jump mark-for-masquerade\n", t, name,
			   ip);
		if (c->s->affinity_client_ip) {
			char *set = xasprintf("affinity-%s", suffix);
			buf_printf(&er, "add rule ip %s %s update @%s { ip saddr }\n", t, name,
				   set);
			buf_printf(r, "add rule ip %s %s ip saddr @%s goto %s\n", t, c->svc, set,
				   name);
			add_set(d, set);
		}
		buf_printf(&er, "add rule ip %s %s meta l4proto %s dnat to %s:%d\n", t, name,
			   c->proto, ip, ep->port);
		add_chain(d, name, buf_steal(&er, NULL));
		eps[n++] = name;
	}
	return n;
}

/* The service chain's rules after the affinity ones: masquerade and a
 * jump to one of the n endpoint chains, or a reject when there are none. */
static void service_rules(const struct port_ctx *c, char *const *eps, size_t n, struct buf *r)
{
	const char *t = c->p->table, *svc = c->svc;
	if (!n) {
		buf_printf(r, "add rule ip %s %s meta l4proto tcp reject with tcp reset\n", t, svc);
		buf_printf(r, "add rule ip %s %s reject\n", t, svc);
		return;
	}
	if (c->p->pod_cidr)
		buf_printf(r, "add rule ip %s %s ip saddr != %s jump mark-for-masquerade\n", t, svc,
			   c->p->pod_cidr);
	else
		buf_printf(r, "add rule ip %s %s jump mark-for-masquerade\n", t, svc);
	if (n == 1) {
		buf_printf(r, "add rule ip %s %s goto %s\n", t, svc, eps[0]);
		return;
	}
	buf_printf(r, "add rule ip %s %s numgen random mod %zu vmap { ", t, svc, n);
	for (size_t k = 0; k < n; k++)
		buf_printf(r, "%s%zu : goto %s", k ? ", " : "", k, eps[k]);
	buf_puts(r, " }\n");
}

/* The map elements that lead to the service chain (n: its endpoints),
 * and for a nodePort with endpoints the external chain, placed at
 * first_ep. */
static void port_entries(const struct port_ctx *c, const char *cip, size_t n, size_t first_ep,
			 struct sstate *d)
{
	const struct proxy_port *pt = c->pt;
	const char *t = c->p->table, *proto = c->proto;
	if (*cip) {
		add_elem(d, n ? "service-ips" : "no-endpoint-services",
			 xasprintf("%s . %s . %d", cip, proto, pt->port),
			 xasprintf("goto %s", c->svc));
		add_elem(d, "service-keys", xasprintf("%s . %s . %d", cip, proto, pt->port), NULL);
	}
	if (pt->node_port && n) {
		char *ext = xasprintf("external-%s-%s/%s/%d", c->tag, c->key, proto, pt->port);
		char *er = xasprintf("add rule ip %s %s jump mark-for-masquerade\n"
				     "add rule ip %s %s goto %s\n",
				     t, ext, t, ext, c->svc);
		add_elem(d, "service-nodeports", xasprintf("%s . %d", proto, pt->node_port),
			 xasprintf("goto %s", ext));
		add_chain(d, ext, er);
		chain_to(d, first_ep); /* before the service chain */
	} else if (pt->node_port) {
		add_elem(d, "no-endpoint-nodeports", xasprintf("%s . %d", proto, pt->node_port),
			 xasprintf("goto %s", c->svc));
	}
}

/* The chains, sets and elements of one port (already checked) into d. */
static void port_state(struct port_ctx *c, const char *cip, struct sstate *d)
{
	struct buf r = {0}; /* the service chain's rules */
	size_t first_ep = d->nchains;
	char *svc = xasprintf("service-%s-%s/%s/%d", c->tag, c->key, c->proto, c->pt->port);
	_cleanup_free_ char **eps = xcalloc(c->pt->neps + 1, sizeof(*eps)); /* names: d's */

	c->svc = svc;
	size_t n = endpoint_chains(c, d, &r, eps);
	service_rules(c, eps, n, &r);
	add_chain(d, svc, buf_steal(&r, NULL));
	chain_to(d, first_ep); /* before its endpoint chains */
	port_entries(c, cip, n, first_ep, d);
}

/* The desired state of s: its chains with their rules, sets and elements.
 * -EINVAL for anything that cannot be written into the table. */
static int build(const struct proxy *p, const struct proxy_service *s, struct sstate **out,
		 struct err **e)
{
	_cleanup_free_ char *key = xasprintf("%s/%s", s->ns, s->name);
	char tag[9], cip[INET_ADDRSTRLEN] = "";
	int timeout = s->affinity_timeout_s > 0 ? s->affinity_timeout_s : DEFAULT_AFFINITY_S;
	int rc;

	*out = NULL;
	if ((rc = check_service(s, key, cip, e)) < 0)
		return rc;
	svc_tag(key, tag);
	struct sstate *d = xcalloc(1, sizeof(*d));
	d->set_timeout = s->affinity_client_ip ? timeout : -1;
	for (size_t i = 0; i < s->nports; i++) {
		struct port_ctx c = {.p = p, .s = s, .pt = &s->ports[i], .key = key, .tag = tag};
		c.proto = proto_name(c.pt->proto);
		if (*cip || c.pt->node_port)
			port_state(&c, cip, d);
	}
	for (size_t i = 0; i < d->nchains; i++)
		if (strlen(d->chains[i].name) > NAME_MAX_NFT) {
			sstate_free(d);
			return err_make(e, EINVAL, "service %s: chain name too long", key);
		}
	*out = d;
	return 0;
}

/* Appends the transaction that turns old (NULL: nothing) into new (NULL:
 * nothing) to b. */
static void diff(const struct proxy *p, const struct sstate *old, const struct sstate *new,
		 struct buf *b)
{
	const char *t = p->table;
	bool sets_changed = old && new && old->set_timeout != new->set_timeout;

	/* 1. elements that go or change; each added first, so that one gone
	 * already (an outside `nft flush map`) does not fail the transaction */
	for (size_t i = 0; old && i < old->nelems; i++) {
		const struct elem *x = &old->elems[i];
		if (has_elem(new, x))
			continue;
		buf_printf(b, "add element ip %s %s { %s%s%s }\n", t, x->map, x->key,
			   x->val ? " : " : "", x->val ? x->val : "");
		buf_printf(b, "delete element ip %s %s { %s }\n", t, x->map, x->key);
	}
	/* 2. chains that stay but change lose their rules; new ones appear */
	for (size_t i = 0; new &&i < new->nchains; i++) {
		const struct chain *c = &new->chains[i], *oc = find_chain(old, c->name);
		if (!oc)
			buf_printf(b, "add chain ip %s %s\n", t, c->name);
		else if (!oc->rules || strcmp(oc->rules, c->rules) || sets_changed)
			buf_printf(b, "flush chain ip %s %s\n", t, c->name);
	}
	/* 3. chains that go (service and external ones first, as listed) */
	for (size_t i = 0; old && i < old->nchains; i++)
		if (!find_chain(new, old->chains[i].name))
			buf_printf(b, "add chain ip %s %s\ndelete chain ip %s %s\n", t,
				   old->chains[i].name, t, old->chains[i].name);
	/* 4. sets: those that go, or whose timeout changed, then the new ones */
	for (size_t i = 0; old && i < old->nsets; i++)
		if (!has_set(new, old->sets[i]) || sets_changed)
			buf_printf(b, "delete set ip %s %s\n", t, old->sets[i]);
	for (size_t i = 0; new &&i < new->nsets; i++)
		if (!has_set(old, new->sets[i]) || sets_changed)
			buf_printf(b,
				   "add set ip %s %s { type ipv4_addr ; flags dynamic,timeout ; "
				   "timeout %ds ; }\n",
				   t, new->sets[i], new->set_timeout);
	/* 5. rules of the chains new or flushed, endpoints first */
	for (size_t pass = 0; pass < 2; pass++)
		for (size_t i = 0; new &&i < new->nchains; i++) {
			const struct chain *c = &new->chains[i], *oc = find_chain(old, c->name);
			bool ep = !strncmp(c->name, "endpoint-", 9);
			if (ep == (pass == 0) &&
			    (!oc || !oc->rules || strcmp(oc->rules, c->rules) || sets_changed))
				buf_puts(b, c->rules);
		}
	/* 6. elements, all of them: adding one that is there is a no-op, and
	 * one lost to an outside `nft flush map` comes back */
	for (size_t i = 0; new &&i < new->nelems; i++) {
		if (new->elems[i].val)
			buf_printf(b, "add element ip %s %s { %s : %s }\n", t, new->elems[i].map,
				   new->elems[i].key, new->elems[i].val);
		else
			buf_printf(b, "add element ip %s %s { %s }\n", t, new->elems[i].map,
				   new->elems[i].key);
	}
}

/* Runs the transaction from the state held for key to new (NULL: none);
 * on success new (or nothing) becomes the state held.  A failure may mean
 * the table changed behind our back: the state is then read again from
 * the kernel, the fixed chains remade, and the transaction retried once. */
static int apply(struct proxy *p, const char *key, struct sstate *new, struct err **e)
{
	struct buf b = {0};
	int rc = 0;

	for (int attempt = 0;; attempt++) {
		_cleanup_err_ struct err *le = NULL;
		buf_free(&b);
		diff(p, hmap_get(&p->svcs, key), new, &b);
		if (!b.len)
			break;
		rc = nft_run(p->nft, key, b.s, &le);
		if (rc == 0)
			break;
		if (attempt == 1 || ensure_base(p, NULL) < 0 || load_state(p, NULL) < 0) {
			rc = err_make(e, le->code, "%s", le->msg);
			break;
		}
		log_warn("proxy", "%s; read the table again, retrying", le->msg);
	}
	buf_free(&b);
	if (rc < 0) {
		sstate_free(new);
		return rc;
	}
	if (new)
		sstate_free(hmap_set(&p->svcs, key, new));
	else
		sstate_free(hmap_del(&p->svcs, key));
	return 0;
}

int proxy_sync_service(struct proxy *p, const struct proxy_service *s, struct err **e)
{
	_cleanup_free_ char *key = xasprintf("%s/%s", s->ns, s->name);
	struct sstate *new;
	int rc;

	pthread_mutex_lock(&p->lock);
	if ((rc = build(p, s, &new, e)) == 0)
		rc = apply(p, key, new->nchains || new->nelems ? new : (sstate_free(new), NULL), e);
	pthread_mutex_unlock(&p->lock);
	return rc;
}

int proxy_delete_service(struct proxy *p, const char *ns, const char *name, struct err **e)
{
	_cleanup_free_ char *key = xasprintf("%s/%s", ns, name);
	pthread_mutex_lock(&p->lock);
	int rc = hmap_get(&p->svcs, key) ? apply(p, key, NULL, e) : 0;
	pthread_mutex_unlock(&p->lock);
	return rc;
}

int proxy_list_services(struct proxy *p, char ***keys, size_t *n)
{
	struct hmap_iter it = {0};
	struct hmap_ent *ent;

	pthread_mutex_lock(&p->lock);
	*n = 0;
	*keys = xcalloc(hmap_len(&p->svcs) + 1, sizeof(**keys));
	while ((ent = hmap_next(&p->svcs, &it)))
		(*keys)[(*n)++] = xstrdup(ent->key);
	pthread_mutex_unlock(&p->lock);
	qsort(*keys, *n, sizeof(**keys), cmp_strp);
	return 0;
}
