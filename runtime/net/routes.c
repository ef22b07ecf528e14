/*
 * routes.c - see routes.h.  Each sync reads the kernel's state as JSON
 * (`ip -j`, `bridge -j`), turns the peers into the wanted state, and
 * writes the difference as batches (`bridge -batch -`, `ip -force -batch
 * -`), whose failing lines are named in the error.
 */
#include "runtime/net/routes.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <net/if.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "runtime/proc.h"
#include "runtime/sys.h"

#define TOOL_TIMEOUT 10000 /* ms, per `ip` / `bridge` run */
#define STR(x)	     #x
#define XSTR(x)	     STR(x)
#define PROTO	     XSTR(ROUTES_PROTO)

struct routes {
	pthread_mutex_t lock; /* serialises the callers; guards nothing else */
	enum routes_mode mode;
	char node_ip[INET_ADDRSTRLEN];
	char pod_cidr[INET_ADDRSTRLEN + 3]; /* canonical */
	char pod_addr[INET_ADDRSTRLEN];	    /* its network address (the VXLAN device's) */
	char dev[IF_NAMESIZE];		    /* the VXLAN device */
	char mac[18];			    /* its MAC */
	char under[IF_NAMESIZE];	    /* the device holding node_ip, "" when none */
	int under_mtu;			    /* its MTU; 1500 when unknown */
	int vni, port;
};

/* What one peer calls for. */
struct want {
	const char *name;
	char dst[INET_ADDRSTRLEN + 3]; /* its pod CIDR, canonical */
	char net[INET_ADDRSTRLEN];     /* its pod network address (vxlan gateway) */
	char node_ip[INET_ADDRSTRLEN];
	char mac[18]; /* its VXLAN device's MAC */
	bool done;    /* found in the kernel as wanted */
};

/* ---- the tools ---- */

/*
 * Runs `argv[0] argv[1..]` (ip or bridge, from the usual sbin dirs) with
 * stdin text in (NULL: none).  0 with its stdout in *out (when not NULL);
 * -ENOENT when the tool is missing; -EIO when it failed, with its stderr
 * in *msg (when not NULL, else in *e).
 */
static int tool(char *const argv[], const char *in, char **out, char **msg, struct err **e)
{
	static const char *const dirs[] = {"/usr/sbin", "/sbin", "/usr/bin", "/bin"};
	_cleanup_free_ char *path = NULL;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && !path; i++) {
		path = xasprintf("%s/%s", dirs[i], argv[0]);
		if (access(path, X_OK) != 0)
			free(STEAL_POINTER(&path));
	}
	if (!path)
		return err_make(e, ENOENT, "routes: %s not found (install iproute2)", argv[0]);
	struct proc p = {.path = path,
			 .argv = argv,
			 .in = in,
			 .timeout_ms = TOOL_TIMEOUT,
			 .io = {[1] = PROC_CAPTURE, [2] = PROC_CAPTURE}};
	int rc = proc_run(&p, e);
	if (rc == 0 && !(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0)) {
		if (msg)
			*msg = xstrdup(*p.out[2] ? p.out[2] : "failed");
		else
			err_make(e, EIO, "routes: %s %s: %s", argv[0], argv[1],
				 *p.out[2] ? p.out[2] : "failed");
		rc = -EIO;
	}
	if (rc == 0 && out)
		*out = STEAL_POINTER(&p.out[1]);
	proc_free(&p);
	return rc;
}

/* The JSON array a `-j` listing printed (an empty one for no output). */
static int tool_json(char *const argv[], json_t **out, struct err **e)
{
	_cleanup_free_ char *text = NULL;
	int rc = tool(argv, NULL, &text, NULL, e);
	*out = NULL;
	if (rc < 0)
		return rc;
	*out = *text ? json_loads(text, 0, NULL) : json_array();
	if (!json_is_array(*out)) {
		json_decref(*out);
		*out = NULL;
		return err_make(e, EIO, "routes: %s %s printed no JSON list", argv[0], argv[1]);
	}
	return 0;
}

/* A batch of commands for one tool, each with a label for messages. */
struct batch {
	struct buf text;
	char **labels;
	size_t n;
};

static void batch_add(struct batch *b, const char *label, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void batch_add(struct batch *b, const char *label, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *line = xvasprintf(fmt, ap);
	va_end(ap);
	buf_printf(&b->text, "%s\n", line);
	b->labels = xrealloc(b->labels, (b->n + 1) * sizeof(*b->labels));
	b->labels[b->n++] = xasprintf("%s (%s)", line, label);
}

static void batch_free(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		free(b->labels[i]);
	free(b->labels);
	buf_free(&b->text);
	*b = (struct batch){0};
}

/* The error of a failed batch: each "Command failed -:N" names line N. */
static int batch_fail(const struct batch *b, const char *tool_name, const char *msg, struct err **e)
{
	struct buf m = {0};
	const char *p = msg, *hit;
	while ((hit = strstr(p, "Command failed -:"))) {
		size_t line = strtoul(hit + 17, NULL, 10);
		/* the error text is the line before "Command failed" */
		const char *start = hit;
		while (start > msg && start[-1] == '\n')
			start--;
		const char *ls = start;
		while (ls > msg && ls[-1] != '\n')
			ls--;
		buf_printf(&m, "%s%s: %.*s", m.len ? "; " : "",
			   line >= 1 && line <= b->n ? b->labels[line - 1] : "?", (int)(start - ls),
			   ls);
		p = hit + 17;
	}
	int rc = err_make(e, EIO, "routes: %s: %s", tool_name, m.len ? m.s : msg);
	buf_free(&m);
	return rc;
}

/* Runs b (nothing when empty) with `TOOL [-force] -batch -`. */
static int batch_run(struct batch *b, const char *tool_name, struct err **e)
{
	if (!b->n)
		return 0;
	_cleanup_free_ char *msg = NULL;
	int rc = tool((char *[]){(char *)tool_name, "-force", "-batch", "-", NULL}, b->text.s, NULL,
		      &msg, e);
	if (rc == -EIO)
		return batch_fail(b, tool_name, msg, e);
	return rc;
}

/* ---- addresses ---- */

/* "A.B.C.D/N" into its canonical form (host bits cleared) and network
 * address; false when bad. */
static bool cidr_parse(const char *in, char out[INET_ADDRSTRLEN + 3], char net[INET_ADDRSTRLEN])
{
	char ip[INET_ADDRSTRLEN];
	const char *slash = in ? strchr(in, '/') : NULL;
	char *end;
	struct in_addr a;
	if (!slash || (size_t)(slash - in) >= sizeof(ip))
		return false;
	memcpy(ip, in, (size_t)(slash - in));
	ip[slash - in] = '\0';
	long n = strtol(slash + 1, &end, 10);
	if (*end || end == slash + 1 || n < 1 || n > 32 || inet_pton(AF_INET, ip, &a) != 1)
		return false;
	a.s_addr &= htonl(~0U << (32 - n));
	inet_ntop(AF_INET, &a, net, INET_ADDRSTRLEN);
	snprintf(out, INET_ADDRSTRLEN + 3, "%s/%ld", net, n);
	return true;
}

/* The VXLAN MAC of a node: 0a:cf and its IPv4 address's bytes (a locally
 * administered unicast address). */
static void mac_of(const char *ip, char mac[18])
{
	struct in_addr a;
	inet_pton(AF_INET, ip, &a);
	const unsigned char *b = (const unsigned char *)&a.s_addr;
	snprintf(mac, 18, "0a:cf:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3]);
}

static bool dev_name_ok(const char *s)
{
	static const char ok[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";
	size_t n = strlen(s);
	return n >= 1 && n < IF_NAMESIZE && !s[strspn(s, ok)];
}

/* The device holding r->node_ip and its MTU into r: 0, or -ENOENT. */
static int find_under(struct routes *r, struct err **e)
{
	_cleanup_json_ json_t *links = NULL;
	size_t i, j;
	json_t *l, *a;
	int rc = tool_json((char *[]){"ip", "-j", "-4", "addr", "show", NULL}, &links, e);
	if (rc < 0)
		return rc;
	json_array_foreach(links, i, l)
	{
		json_array_foreach(json_object_get(l, "addr_info"), j, a)
		{
			const char *local = obj_str(a, "local"), *name = obj_str(l, "ifname");
			if (local && name && !strcmp(local, r->node_ip) && dev_name_ok(name)) {
				snprintf(r->under, sizeof(r->under), "%s", name);
				r->under_mtu = (int)obj_int(l, "mtu", 1500);
				return 0;
			}
		}
	}
	return err_make(e, ENOENT, "routes: no device has the node IP %s", r->node_ip);
}

/* ---- the VXLAN device ---- */

/* Whether the device's JSON (`ip -j -d link show`) is our VXLAN as r wants
 * it (kind, VNI, port, local address, underlying device). */
static bool dev_matches(const struct routes *r, const json_t *l)
{
	const json_t *d = json_object_get(json_object_get(l, "linkinfo"), "info_data");
	const char *kind = obj_str(json_object_get(l, "linkinfo"), "info_kind");
	const char *local = obj_str(d, "local"), *link = obj_str(d, "link");
	return kind && !strcmp(kind, "vxlan") && obj_int(d, "id", -1) == r->vni &&
	       obj_int(d, "port", -1) == r->port && local && !strcmp(local, r->node_ip) && link &&
	       !strcmp(link, r->under);
}

/* The device's JSON, or NULL when it does not exist. */
static int dev_get(const char *dev, json_t **out, struct err **e)
{
	_cleanup_json_ json_t *l = NULL;
	*out = NULL;
	if (if_nametoindex(dev) == 0)
		return 0;
	int rc = tool_json((char *[]){"ip", "-j", "-d", "link", "show", "dev", (char *)dev, NULL},
			   &l, e);
	if (rc == -EIO && if_nametoindex(dev) == 0)
		return 0; /* gone meanwhile */
	if (rc < 0)
		return rc;
	*out = json_incref(json_array_get(l, 0));
	return 0;
}

static bool has_flag(const json_t *l, const char *flag)
{
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(l, "flags"), i, f)
	{
		if (json_is_string(f) && !strcmp(json_string_value(f), flag))
			return true;
	}
	return false;
}

/* The device's addresses: ours kept (or added), others removed. */
static void dev_addrs(const struct routes *r, struct batch *b, struct err **e)
{
	_cleanup_json_ json_t *links = NULL;
	size_t i;
	json_t *a;
	bool have = false;
	if (tool_json((char *[]){"ip", "-j", "-4", "addr", "show", "dev", (char *)r->dev, NULL},
		      &links, e) < 0)
		return;
	json_array_foreach(json_object_get(json_array_get(links, 0), "addr_info"), i, a)
	{
		const char *local = obj_str(a, "local");
		if (local && !strcmp(local, r->pod_addr) && obj_int(a, "prefixlen", 0) == 32)
			have = true;
		else if (local)
			batch_add(b, r->dev, "addr del %s/%lld dev %s", local,
				  (long long)obj_int(a, "prefixlen", 32), r->dev);
	}
	if (!have)
		batch_add(b, r->dev, "addr replace %s/32 dev %s", r->pod_addr, r->dev);
}

/* Makes the VXLAN device be as r wants it: created or remade, its MAC,
 * MTU, address and state set where they differ. */
static int dev_ensure(struct routes *r, struct err **e)
{
	_cleanup_json_ json_t *l = NULL;
	char vni[16], port[16];
	struct batch b = {0};
	int rc;

	if ((rc = find_under(r, e)) < 0 || (rc = dev_get(r->dev, &l, e)) < 0)
		return rc; /* the node's device, read again: its MTU may change */
	if (l && !dev_matches(r, l)) {
		log_info("routes", "%s: not the VXLAN device wanted: remade", r->dev);
		if ((rc = tool((char *[]){"ip", "link", "del", r->dev, NULL}, NULL, NULL, NULL,
			       e)) < 0)
			return rc;
		json_decref(STEAL_POINTER(&l));
	}
	if (!l) {
		snprintf(vni, sizeof(vni), "%d", r->vni);
		snprintf(port, sizeof(port), "%d", r->port);
		if ((rc = tool((char *[]){"ip", "link", "add", r->dev, "type", "vxlan", "id", vni,
					  "local", r->node_ip, "dev", r->under, "dstport", port,
					  "nolearning", NULL},
			       NULL, NULL, NULL, e)) < 0)
			return rc;
		log_info("routes", "%s: VXLAN %s on %s (%s), port %s", r->dev, vni, r->under,
			 r->node_ip, port);
	}
	const char *mac = obj_str(l, "address");
	int mtu = r->under_mtu - ROUTES_VXLAN_EXTRA;
	if (!l || !mac || strcmp(mac, r->mac) || obj_int(l, "mtu", 0) != mtu || !has_flag(l, "UP"))
		batch_add(&b, r->dev, "link set dev %s address %s mtu %d up", r->dev, r->mac, mtu);
	dev_addrs(r, &b, NULL);
	rc = batch_run(&b, "ip", e);
	batch_free(&b);
	return rc;
}

/* ---- open, close, reset ---- */

int routes_mode_parse(const char *s, enum routes_mode *m)
{
	if (s && !strcmp(s, "host-gw"))
		*m = ROUTES_HOST_GW;
	else if (s && !strcmp(s, "vxlan"))
		*m = ROUTES_VXLAN;
	else
		return -EINVAL;
	return 0;
}

const char *routes_mode_name(enum routes_mode m)
{
	return m == ROUTES_VXLAN ? "vxlan" : "host-gw";
}

/* Fills r from o: -EINVAL for a bad option. */
static int opts_check(struct routes *r, const struct routes_opts *o, struct err **e)
{
	const char *dev = o->vxlan_dev ? o->vxlan_dev : ROUTES_VXLAN_DEV;
	r->mode = o->mode;
	r->vni = o->vxlan_vni ? o->vxlan_vni : ROUTES_VXLAN_VNI;
	r->port = o->vxlan_port ? o->vxlan_port : ROUTES_VXLAN_PORT;
	r->under_mtu = 1500;
	if (o->mode != ROUTES_HOST_GW && o->mode != ROUTES_VXLAN)
		return err_make(e, EINVAL, "routes: bad mode %d", (int)o->mode);
	if (!ipv4_canon(o->node_ip, r->node_ip))
		return err_make(e, EINVAL, "routes: bad node IP \"%s\"",
				o->node_ip ? o->node_ip : "");
	if (!cidr_parse(o->pod_cidr, r->pod_cidr, r->pod_addr))
		return err_make(e, EINVAL, "routes: bad pod CIDR \"%s\"",
				o->pod_cidr ? o->pod_cidr : "");
	if (!dev_name_ok(dev))
		return err_make(e, EINVAL, "routes: bad device name \"%s\"", dev);
	if (r->vni < 1 || r->vni > 0xffffff || r->port < 1 || r->port > 65535)
		return err_make(e, EINVAL, "routes: bad VXLAN id %d or port %d", r->vni, r->port);
	snprintf(r->dev, sizeof(r->dev), "%s", dev);
	mac_of(r->node_ip, r->mac);
	return 0;
}

static int ip_forward_on(struct err **e)
{
	int fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "1\n", 2) != 2) {
		int err = errno;
		if (fd >= 0)
			close(fd);
		return err_make(e, err, "routes: net.ipv4.ip_forward = 1: %s", strerror(err));
	}
	close(fd);
	return 0;
}

/* Deletes dev when it is a VXLAN device (ours by its name). */
static int dev_delete(const char *dev, struct err **e)
{
	_cleanup_json_ json_t *l = NULL;
	int rc = dev_get(dev, &l, e);
	const char *kind = obj_str(json_object_get(l, "linkinfo"), "info_kind");
	if (rc < 0 || !l)
		return rc;
	if (!kind || strcmp(kind, "vxlan"))
		return err_make(e, EEXIST, "routes: %s is no VXLAN device: left alone", dev);
	return tool((char *[]){"ip", "link", "del", (char *)dev, NULL}, NULL, NULL, NULL, e);
}

int routes_open(const struct routes_opts *o, struct routes **out, struct err **e)
{
	struct routes *r = xcalloc(1, sizeof(*r));
	int rc;

	*out = NULL;
	pthread_mutex_init(&r->lock, NULL);
	if ((rc = opts_check(r, o, e)) < 0 || (rc = ip_forward_on(e)) < 0)
		goto fail;
	if ((rc = find_under(r, NULL)) < 0 && r->mode == ROUTES_VXLAN) {
		rc = err_make(e, ENOENT, "routes: vxlan: no device has the node IP %s", r->node_ip);
		goto fail;
	}
	if (r->mode == ROUTES_VXLAN)
		rc = dev_ensure(r, e);
	else
		rc = dev_delete(r->dev, e);
	if (rc < 0)
		goto fail;
	log_info("routes", "%s: node %s, pods %s, device %s", routes_mode_name(r->mode), r->node_ip,
		 r->pod_cidr, r->under[0] ? r->under : "?");
	*out = r;
	return 0;
fail:
	routes_close(r);
	return rc;
}

void routes_close(struct routes *r)
{
	if (!r)
		return;
	pthread_mutex_destroy(&r->lock);
	free(r);
}

int routes_pod_mtu(const struct routes *r)
{
	return r->under_mtu - (r->mode == ROUTES_VXLAN ? ROUTES_VXLAN_EXTRA : 0);
}

int routes_reset(const char *vxlan_dev, struct err **e)
{
	const char *dev = vxlan_dev ? vxlan_dev : ROUTES_VXLAN_DEV;
	_cleanup_json_ json_t *routes = NULL;
	struct batch b = {0};
	size_t i;
	json_t *x;
	int rc;

	if (!dev_name_ok(dev))
		return err_make(e, EINVAL, "routes: bad device name \"%s\"", dev);
	if ((rc = tool_json((char *[]){"ip", "-j", "-4", "route", "show", "proto", PROTO, NULL},
			    &routes, e)) < 0)
		return rc;
	json_array_foreach(routes, i, x)
	{
		if (obj_str(x, "dst"))
			batch_add(&b, "reset", "route del %s proto " PROTO, obj_str(x, "dst"));
	}
	rc = batch_run(&b, "ip", e);
	batch_free(&b);
	if (rc < 0)
		return rc;
	return dev_delete(dev, e);
}

/* ---- peers ---- */

int routes_peer_from_node(const json_t *node, struct routes_peer *p)
{
	const json_t *a;
	size_t i;
	*p = (struct routes_peer){.name = obj_str(node, "metadata.name"),
				  .pod_cidr = obj_str(node, "spec.podCIDR")};
	json_array_foreach(obj_at(node, "status.addresses"), i, a)
	{
		const char *type = obj_str(a, "type");
		if (type && !strcmp(type, "InternalIP") && obj_str(a, "address")) {
			p->node_ip = obj_str(a, "address");
			break;
		}
	}
	return p->name && p->pod_cidr && p->node_ip ? 0 : -ENOENT;
}

/* ---- sync ---- */

/* The peers into w (one per pod CIDR, not this node); *nw their count.
 * -EINVAL naming the first bad peer (the others are still in w). */
static int wants_of(const struct routes *r, const struct routes_peer *peers, size_t n,
		    struct want *w, size_t *nw, struct err **e)
{
	int rc = 0;
	*nw = 0;
	for (size_t i = 0; i < n; i++) {
		const struct routes_peer *p = &peers[i];
		struct want x = {.name = p->name ? p->name : "?"};
		bool dup = false;
		if (!ipv4_canon(p->node_ip, x.node_ip) || !cidr_parse(p->pod_cidr, x.dst, x.net)) {
			if (!rc)
				rc = err_make(e, EINVAL,
					      "routes: node %s: bad node IP \"%s\" or "
					      "pod CIDR \"%s\"",
					      x.name, p->node_ip ? p->node_ip : "",
					      p->pod_cidr ? p->pod_cidr : "");
			continue;
		}
		if (!strcmp(x.node_ip, r->node_ip) || !strcmp(x.dst, r->pod_cidr))
			continue; /* this node */
		for (size_t j = 0; j < *nw && !dup; j++)
			dup = !strcmp(w[j].dst, x.dst);
		if (dup) {
			log_warn("routes", "node %s: pod CIDR %s given twice: skipped", x.name,
				 x.dst);
			continue;
		}
		mac_of(x.node_ip, x.mac);
		w[(*nw)++] = x;
	}
	return rc;
}

static struct want *want_by(struct want *w, size_t nw, const char *field, const char *val)
{
	for (size_t i = 0; val && i < nw; i++) {
		const char *v = !strcmp(field, "dst")	? w[i].dst
				: !strcmp(field, "net") ? w[i].net
							: w[i].mac;
		if (!strcmp(v, val))
			return &w[i];
	}
	return NULL;
}

/* Route commands into b: the routes of gone peers deleted, the wanted
 * ones replaced where missing or different. */
static int plan_routes(const struct routes *r, struct want *w, size_t nw, struct batch *b,
		       struct err **e)
{
	_cleanup_json_ json_t *cur = NULL;
	size_t i;
	json_t *x;
	bool vx = r->mode == ROUTES_VXLAN;
	int rc =
	    tool_json((char *[]){"ip", "-j", "-4", "route", "show", "proto", PROTO, NULL}, &cur, e);
	if (rc < 0)
		return rc;
	for (i = 0; i < nw; i++)
		w[i].done = false;
	json_array_foreach(cur, i, x)
	{
		const char *dst = obj_str(x, "dst"), *gw = obj_str(x, "gateway");
		const char *dev = obj_str(x, "dev");
		struct want *p = want_by(w, nw, "dst", dst);
		if (!dst)
			continue;
		if (!p) {
			batch_add(b, "gone", "route del %s proto " PROTO, dst);
			continue;
		}
		p->done = gw && !strcmp(gw, vx ? p->net : p->node_ip) && dev &&
			  (vx ? !strcmp(dev, r->dev) : strcmp(dev, r->dev) != 0);
	}
	for (i = 0; i < nw; i++) {
		if (w[i].done)
			continue;
		if (vx)
			batch_add(b, w[i].name,
				  "route replace %s via %s dev %s onlink proto " PROTO, w[i].dst,
				  w[i].net, r->dev);
		else
			batch_add(b, w[i].name, "route replace %s via %s proto " PROTO, w[i].dst,
				  w[i].node_ip);
	}
	return 0;
}

/* Neighbour commands into b (vxlan): a permanent entry per peer. */
static int plan_neigh(const struct routes *r, struct want *w, size_t nw, struct batch *b,
		      struct err **e)
{
	_cleanup_json_ json_t *cur = NULL;
	size_t i;
	json_t *x;
	int rc = tool_json(
	    (char *[]){"ip", "-j", "-4", "neigh", "show", "dev", (char *)r->dev, NULL}, &cur, e);
	if (rc < 0)
		return rc;
	for (i = 0; i < nw; i++)
		w[i].done = false;
	json_array_foreach(cur, i, x)
	{
		const char *dst = obj_str(x, "dst"), *mac = obj_str(x, "lladdr");
		struct want *p = want_by(w, nw, "net", dst);
		if (!dst)
			continue;
		if (!p)
			batch_add(b, "gone", "neigh del %s dev %s", dst, r->dev);
		else
			p->done = mac && !strcasecmp(mac, p->mac);
	}
	for (i = 0; i < nw; i++)
		if (!w[i].done)
			batch_add(b, w[i].name, "neigh replace %s lladdr %s dev %s nud permanent",
				  w[i].net, w[i].mac, r->dev);
	return 0;
}

/* FDB commands into b (vxlan): a permanent entry per peer's MAC. */
static int plan_fdb(const struct routes *r, struct want *w, size_t nw, struct batch *b,
		    struct err **e)
{
	_cleanup_json_ json_t *cur = NULL;
	size_t i;
	json_t *x;
	int rc = tool_json((char *[]){"bridge", "-j", "fdb", "show", "dev", (char *)r->dev, NULL},
			   &cur, e);
	if (rc < 0)
		return rc;
	for (i = 0; i < nw; i++)
		w[i].done = false;
	json_array_foreach(cur, i, x)
	{
		const char *mac = obj_str(x, "mac"), *dst = obj_str(x, "dst");
		struct want *p = want_by(w, nw, "mac", mac);
		if (!mac || !dst)
			continue;
		if (!p || strcmp(dst, p->node_ip))
			batch_add(b, p ? p->name : "gone", "fdb del %s dev %s dst %s self", mac,
				  r->dev, dst);
		else
			p->done = true;
	}
	for (i = 0; i < nw; i++)
		if (!w[i].done)
			batch_add(b, w[i].name, "fdb append %s dev %s dst %s self permanent",
				  w[i].mac, r->dev, w[i].node_ip);
	return 0;
}

/* One pass: the VXLAN side (vxlan), then the routes.  Errors of one step
 * do not stop the next; the first is returned. */
static int sync_locked(struct routes *r, struct want *w, size_t nw, struct err **e)
{
	struct batch fdb = {0}, ip = {0};
	int rc = 0, r2;

	if (r->mode == ROUTES_VXLAN) {
		if ((rc = dev_ensure(r, e)) < 0)
			return rc;
		if ((rc = plan_fdb(r, w, nw, &fdb, e)) < 0 ||
		    (rc = plan_neigh(r, w, nw, &ip, e)) < 0)
			goto out;
	}
	if ((rc = plan_routes(r, w, nw, &ip, e)) < 0)
		goto out;
	rc = batch_run(&fdb, "bridge", e);
	r2 = batch_run(&ip, "ip", rc ? NULL : e);
	rc = rc ? rc : r2;
	if (fdb.n + ip.n)
		log_info("routes", "%zu peers: %zu changes%s", nw, fdb.n + ip.n,
			 rc ? " (some failed)" : "");
out:
	batch_free(&fdb);
	batch_free(&ip);
	return rc;
}

int routes_sync(struct routes *r, const struct routes_peer *peers, size_t n, struct err **e)
{
	_cleanup_free_ struct want *w = xcalloc(n + 1, sizeof(*w));
	_cleanup_err_ struct err *bad = NULL;
	size_t nw;

	pthread_mutex_lock(&r->lock);
	int invalid = wants_of(r, peers, n, w, &nw, &bad);
	int rc = sync_locked(r, w, nw, e);
	pthread_mutex_unlock(&r->lock);
	if (rc == 0 && invalid < 0)
		rc = err_make(e, EINVAL, "%s", bad->msg);
	return rc;
}
