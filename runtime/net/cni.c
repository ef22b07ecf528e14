/*
 * cni.c - see cni.h.  The host tools and plugins run through proc_run
 * (runtime/proc.h); then the conflist execution as the CNI spec orders it,
 * the result cache, and reset.
 */
#include "runtime/net/cni.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "engine/clock.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "runtime/net/veth.h"
#include "runtime/proc.h"
#include "runtime/sys.h"

#define CNI_VERSION    "1.0.0"
#define PLUGIN_DIR     "/usr/lib/cni"
#define PLUGIN_TIMEOUT 10000 /* ms, per plugin call */
#define TOOL_TIMEOUT   10000 /* ms, per `ip` / `iptables` call */

extern char **environ;

struct cni {
	char *dir;	   /* DATA/cni */
	char *conf_path;   /* DATA/cni/net.conflist */
	char *results_dir; /* DATA/cni/results */
	char *plugin_dir;
	char *bridge; /* also the network's name */
	char gateway[INET_ADDRSTRLEN];
	json_t *conflist; /* as written to conf_path */
	bool lo_up;	  /* cni_opts.lo_up */
	bool native;	  /* cni_opts.native: ADD's bridge step by veth_add */
	char bridge_mac[18];
	char *ipam_dir;
	struct veth_conf vc; /* for veth_add (strings lent from above) */
};

/* ---- running a program ---- */

static bool exited_ok(const struct proc *p)
{
	return WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0;
}

/* Runs a host tool (`ip`, `iptables`) by absolute path or from
 * /usr/sbin, /sbin; returns 0, or -EIO with its stderr in *e.  *out (when
 * not NULL) gets its stdout. */
static int tool_run(char *const argv[], char **out, struct err **e)
{
	static const char *const dirs[] = {"/usr/sbin", "/sbin", "/usr/bin", "/bin"};
	_cleanup_free_ char *path = NULL;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && !path; i++) {
		path = xasprintf("%s/%s", dirs[i], argv[0]);
		if (access(path, X_OK) != 0)
			free(STEAL_POINTER(&path));
	}
	if (!path)
		return err_make(e, ENOENT, "%s: not found in /usr/sbin, /sbin, /usr/bin, /bin",
				argv[0]);
	struct proc p = {.path = path,
			 .argv = argv,
			 .timeout_ms = TOOL_TIMEOUT,
			 .io = {[1] = PROC_CAPTURE, [2] = PROC_CAPTURE}};
	int rc = proc_run(&p, e);
	if (rc == 0 && !exited_ok(&p))
		rc = err_make(e, EIO, "%s %s: %s", argv[0], argv[1] ? argv[1] : "",
			      *p.out[2] ? p.out[2] : "failed");
	if (rc == 0 && out)
		*out = STEAL_POINTER(&p.out[1]);
	proc_free(&p);
	return rc;
}

/* ---- invoking one plugin ---- */

/* What every plugin call of one pod shares. */
struct call {
	struct cni *c;
	const char *command; /* ADD, CHECK, DEL */
	const char *pod_id;
	const char *netns; /* "" when none */
	const char *ifname;
	const char *args; /* CNI_ARGS */
};

/* The plugin's error: its JSON {code, msg, details} on stdout, else its
 * stderr or exit status.  CNI error codes: 3 unknown container, 11 try
 * again later; the rest are failures (-EIO). */
static int plugin_fail(const struct call *k, const char *type, const struct proc *p, struct err **e)
{
	_cleanup_json_ json_t *j = json_loads(p->out[1], 0, NULL);
	json_t *code = json_object_get(j, "code");
	const char *msg = obj_str(j, "msg"), *details = obj_str(j, "details");
	int err = EIO;

	if (json_integer_value(code) == 3)
		err = ENOENT;
	else if (json_integer_value(code) == 11)
		err = EAGAIN;
	if (msg)
		return err_make(e, err, "pod %s: cni %s %s: %s%s%s (code %lld)", k->pod_id, type,
				k->command, msg, details && *details ? ": " : "",
				details ? details : "", (long long)json_integer_value(code));
	if (WIFSIGNALED(p->status))
		return err_make(e, err, "pod %s: cni %s %s: killed by signal %d", k->pod_id, type,
				k->command, WTERMSIG(p->status));
	return err_make(e, err, "pod %s: cni %s %s: exit status %d%s%s", k->pod_id, type,
			k->command, WEXITSTATUS(p->status), *p->out[2] ? ": " : "", p->out[2]);
}

/*
 * Runs the plugin of conf (one plugin's config, with cniVersion and name
 * already in it) for k.  For ADD, *result gets the plugin's result (a new
 * reference).  Returns 0 or the error.
 */
static int plugin_run(const struct call *k, const json_t *conf, json_t **result, struct err **e)
{
	const char *type = obj_str(conf, "type");
	_cleanup_free_ char *path = xasprintf("%s/%s", k->c->plugin_dir, type ? type : "");
	_cleanup_free_ char *in = json_dumps(conf, JSON_COMPACT);
	_cleanup_free_ char *v_cmd = xasprintf("CNI_COMMAND=%s", k->command);
	_cleanup_free_ char *v_id = xasprintf("CNI_CONTAINERID=%s", k->pod_id);
	_cleanup_free_ char *v_ns = xasprintf("CNI_NETNS=%s", k->netns);
	_cleanup_free_ char *v_if = xasprintf("CNI_IFNAME=%s", k->ifname);
	_cleanup_free_ char *v_args = xasprintf("CNI_ARGS=%s", k->args);
	_cleanup_free_ char *v_path = xasprintf("CNI_PATH=%s", k->c->plugin_dir);
	/* the plugins run iptables, found on PATH */
	const char *host_path = getenv("PATH");
	_cleanup_free_ char *v_p = xasprintf("PATH=%s", host_path ? host_path : DEFAULT_PATH);
	char *envp[] = {v_cmd, v_id, v_ns, v_if, v_args, v_path, v_p, NULL};
	char *argv[] = {path, NULL};
	struct proc p = {.path = path,
			 .argv = argv,
			 .envp = envp,
			 .in = in,
			 .timeout_ms = PLUGIN_TIMEOUT,
			 .io = {[1] = PROC_CAPTURE, [2] = PROC_CAPTURE}};
	int rc;

	log_debug("cni", "pod %s: %s %s netns=%s", k->pod_id, type, k->command, k->netns);
	if ((rc = proc_run(&p, e)) < 0) {
		proc_free(&p);
		err_wrap(e, "pod %s: cni %s %s", k->pod_id, type, k->command);
		return rc;
	}
	if (!exited_ok(&p))
		rc = plugin_fail(k, type, &p, e);
	else if (result && !(*result = json_loads(p.out[1], 0, NULL)))
		rc = err_make(e, EIO, "pod %s: cni %s %s: result is not JSON: %.200s", k->pod_id,
			      type, k->command, p.out[1]);
	proc_free(&p);
	return rc;
}

/* One plugin's config of the conflist for a call: the plugin's object with
 * the list's cniVersion and name, prevResult and runtimeConfig. */
static json_t *plugin_conf(const struct cni *c, const json_t *plugin, const json_t *prev,
			   const json_t *port_mappings)
{
	json_t *conf = json_deep_copy(plugin);
	json_object_set(conf, "cniVersion", json_object_get(c->conflist, "cniVersion"));
	json_object_set(conf, "name", json_object_get(c->conflist, "name"));
	if (prev)
		json_object_set(conf, "prevResult", (json_t *)prev);
	if (obj_at(plugin, "capabilities.portMappings") == json_true() && port_mappings)
		json_object_set_new(conf, "runtimeConfig",
				    json_pack("{s:O}", "portMappings", port_mappings));
	return conf;
}

/* ---- the result cache ---- */

static char *cache_path(const struct cni *c, const char *pod_id)
{
	return xasprintf("%s/%s.json", c->results_dir, pod_id);
}

/* The cached entry of pod_id, or NULL. */
static json_t *cache_load(const struct cni *c, const char *pod_id)
{
	_cleanup_free_ char *path = cache_path(c, pod_id);
	return json_load_file(path, 0, NULL);
}

static int cache_store(const struct cni *c, const char *pod_id, const json_t *entry, struct err **e)
{
	_cleanup_free_ char *path = cache_path(c, pod_id);
	_cleanup_free_ char *tmp = xasprintf("%s.tmp", path);
	if (json_dump_file(entry, tmp, JSON_INDENT(1)) < 0 || rename(tmp, path) < 0) {
		int err = errno ? errno : EIO;
		unlink(tmp);
		return err_make(e, err, "pod %s: cni result %s: %s", pod_id, path, strerror(err));
	}
	return 0;
}

/* ---- masquerade and hostPort rules (for a gone namespace, and reset) ---- */

/*
 * Deletes the rules of chain (table nat) whose comment names network name
 * (and container id, when id is not NULL), then the per-container chains
 * they jumped to.  The comments are the plugins': `name: "N" id: "ID"`
 * (bridge's masquerade) and `dnat name: "N" id: "ID"` (portmap).  A
 * missing chain or iptables is nothing to do.
 */
static int rules_delete(const char *chain, const char *name, const char *id, struct err **e)
{
	_cleanup_free_ char *listing = NULL;
	_cleanup_free_ char *needle = id ? xasprintf("name: \\\"%s\\\" id: \\\"%s\\\"", name, id)
					 : xasprintf("name: \\\"%s\\\" id: ", name);
	_cleanup_free_ char *prefix = xasprintf("-A %s ", chain);
	char *targets[256];
	int nums[256], n = 0, num = 0, rc = 0;

	if (tool_run((char *[]){"iptables", "-w", "5", "-t", "nat", "-S", (char *)chain, NULL},
		     &listing, NULL) < 0)
		return 0; /* no such chain, or no iptables: no rules */
	for (char *line = strtok(listing, "\n"); line; line = strtok(NULL, "\n")) {
		if (strncmp(line, prefix, strlen(prefix)))
			continue;
		num++;
		char *j = strstr(line, " -j ");
		if (!strstr(line, needle) || !j || n == 256)
			continue;
		nums[n] = num;
		targets[n++] = xstrndup(j + 4, strcspn(j + 4, " "));
	}
	for (int i = n - 1; i >= 0; i--) { /* the highest number first */
		char no[16];
		snprintf(no, sizeof(no), "%d", nums[i]);
		if (tool_run((char *[]){"iptables", "-w", "5", "-t", "nat", "-D", (char *)chain, no,
					NULL},
			     NULL, rc ? NULL : e) < 0)
			rc = rc ? rc : -EIO;
	}
	for (int i = 0; i < n; i++) {
		if (!strncmp(targets[i], "CNI-", 4) && strcmp(targets[i], "CNI-HOSTPORT-SETMARK")) {
			tool_run(
			    (char *[]){"iptables", "-w", "5", "-t", "nat", "-F", targets[i], NULL},
			    NULL, NULL);
			tool_run(
			    (char *[]){"iptables", "-w", "5", "-t", "nat", "-X", targets[i], NULL},
			    NULL, NULL);
		}
		free(targets[i]);
	}
	return rc;
}

/* ---- the API ---- */

static int check_name(const char *what, const char *s, size_t max, struct err **e)
{
	static const char ok[] =
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-";
	size_t n = s ? strlen(s) : 0;
	if (!n || n > max || s[0] == '.' || s[0] == '-' || s[strspn(s, ok)])
		return err_make(e, EINVAL,
				"%s \"%s\": 1-%zu of [A-Za-z0-9_.-], not starting with . or -",
				what, s ? s : "", max);
	return 0;
}

/* Parses "A.B.C.D/N" into the network and the prefix length. */
static int parse_cidr(const char *cidr, struct in_addr *net, int *len, struct err **e)
{
	char addr[INET_ADDRSTRLEN];
	const char *slash = cidr ? strchr(cidr, '/') : NULL;
	char *end;
	long n = slash ? strtol(slash + 1, &end, 10) : -1;

	if (!slash || (size_t)(slash - cidr) >= sizeof(addr) || *end || slash[1] == '\0' || n < 8 ||
	    n > 30)
		return err_make(e, EINVAL, "pod CIDR \"%s\": want IPv4 A.B.C.D/N, N in 8..30",
				cidr ? cidr : "");
	memcpy(addr, cidr, (size_t)(slash - cidr));
	addr[slash - cidr] = '\0';
	if (inet_pton(AF_INET, addr, net) != 1)
		return err_make(e, EINVAL, "pod CIDR \"%s\": bad address", cidr);
	uint32_t mask = n ? ~UINT32_C(0) << (32 - n) : 0;
	net->s_addr = htonl(ntohl(net->s_addr) & mask);
	*len = (int)n;
	return 0;
}

/*
 * The bridge, up, with the gateway address: what the bridge plugin makes
 * at the first ADD, made at once so that node services (the cluster DNS)
 * can bind to the gateway before any pod exists.  The plugin takes an
 * existing bridge and address as they are.
 */
static int ensure_bridge(struct cni *c, int prefix, struct err **e)
{
	char addr[INET_ADDRSTRLEN + 4];
	snprintf(addr, sizeof(addr), "%s/%d", c->gateway, prefix);
	/* A bridge's address follows its ports unless set: set one (locally
	 * administered, from the name) so that it stays what ADD results
	 * record and CHECK compares. */
	uint32_t h = 2166136261u;
	for (const char *p = c->bridge; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	char *mac = c->bridge_mac;
	snprintf(mac, sizeof(c->bridge_mac), "02:42:%02x:%02x:%02x:%02x", h >> 24, (h >> 16) & 255,
		 (h >> 8) & 255, h & 255);
	int r = tool_run((char *[]){"ip", "link", "show", c->bridge, NULL}, NULL, NULL);
	if (r < 0 &&
	    ((r = tool_run((char *[]){"ip", "link", "add", c->bridge, "type", "bridge", NULL}, NULL,
			   e)) < 0 ||
	     (r = tool_run((char *[]){"ip", "link", "set", c->bridge, "address", mac, NULL}, NULL,
			   e)) < 0))
		return r;
	if ((r = tool_run((char *[]){"ip", "addr", "replace", addr, "dev", c->bridge, NULL}, NULL,
			  e)) < 0 ||
	    (r = tool_run((char *[]){"ip", "link", "set", c->bridge, "up", NULL}, NULL, e)) < 0)
		return r;
	return 0;
}

/* Fills c (dirs, conflist, sysctl) for o; cni_open frees c on failure. */
static int cni_setup(struct cni *c, const struct cni_opts *o, struct err **e)
{
	static const char *const plugins[] = {"bridge", "host-local", "loopback", "portmap"};
	struct in_addr net = {0}, gw;
	char subnet[INET_ADDRSTRLEN + 4], netaddr[INET_ADDRSTRLEN];
	int len = 0, rc;

	if (!o->data_dir || !*o->data_dir)
		return err_make(e, EINVAL, "cni: no data dir");
	if ((rc = check_name("bridge", o->bridge, 15, e)) < 0 ||
	    (rc = parse_cidr(o->pod_cidr, &net, &len, e)) < 0)
		return rc;
	gw.s_addr = htonl(ntohl(net.s_addr) + 1);
	inet_ntop(AF_INET, &net, netaddr, sizeof(netaddr));
	snprintf(subnet, sizeof(subnet), "%s/%d", netaddr, len);

	c->dir = xasprintf("%s/cni", o->data_dir);
	c->conf_path = xasprintf("%s/net.conflist", c->dir);
	c->results_dir = xasprintf("%s/results", c->dir);
	c->plugin_dir = xstrdup(o->plugin_dir ? o->plugin_dir : PLUGIN_DIR);
	c->bridge = xstrdup(o->bridge);
	c->lo_up = o->lo_up;
	inet_ntop(AF_INET, &gw, c->gateway, sizeof(c->gateway));

	for (size_t i = 0; i < sizeof(plugins) / sizeof(plugins[0]); i++) {
		_cleanup_free_ char *p = xasprintf("%s/%s", c->plugin_dir, plugins[i]);
		if (access(p, X_OK) != 0)
			return err_make(e, ENOENT,
					"cni plugin %s: %s (install containernetworking-plugins)",
					p, strerror(errno));
	}
	c->ipam_dir = xasprintf("%s/ipam", c->dir);
	const char *ipam_dir = c->ipam_dir;
	if ((rc = mkdir_p(c->results_dir, 0700, e)) < 0 || (rc = mkdir_p(ipam_dir, 0700, e)) < 0 ||
	    (rc = ensure_bridge(c, len, e)) < 0)
		return rc;
	c->native = o->native;
	c->vc = (struct veth_conf){.bridge = c->bridge,
				   .bridge_mac = c->bridge_mac,
				   .ipam_dir = c->ipam_dir,
				   .net = c->bridge,
				   .cni_version = CNI_VERSION,
				   .subnet = net,
				   .prefix = len,
				   .gateway = gw,
				   .mtu = o->mtu};

	c->conflist = json_pack(
	    "{s:s, s:s, s:[{s:s, s:s, s:b, s:b, s:b, s:{s:s, s:[[{s:s, s:s}]], s:[{s:s}], s:s}},"
	    " {s:s, s:{s:b}}]}",
	    "cniVersion", CNI_VERSION, "name", c->bridge, "plugins",
	    /* bridge */
	    "type", "bridge", "bridge", c->bridge, "isGateway", 1, "ipMasq", 0, "hairpinMode", 1,
	    "ipam", "type", "host-local", "ranges", "subnet", subnet, "gateway", c->gateway,
	    "routes", "dst", "0.0.0.0/0", "dataDir", ipam_dir,
	    /* portmap */
	    "type", "portmap", "capabilities", "portMappings", 1);
	if (o->mtu > 0)
		json_object_set_new(json_array_get(json_object_get(c->conflist, "plugins"), 0),
				    "mtu", json_integer(o->mtu));
	_cleanup_free_ char *text = json_dumps(c->conflist, JSON_INDENT(2));
	if ((rc = write_atomic(c->conf_path, text, e)) < 0)
		return rc;
	/* pods of a version whose bridge masqueraded (ipMasq) lose those
	 * rules: the proxy's table masquerades what leaves the cluster */
	if (rules_delete("POSTROUTING", c->bridge, NULL, NULL) < 0)
		log_warn("cni", "%s: old masquerade rules could not be removed", c->bridge);

	/* pods reach beyond the node through the host's routing */
	int fd = open("/proc/sys/net/ipv4/ip_forward", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "1\n", 2) != 2) {
		rc = err_make(e, errno, "cni: net.ipv4.ip_forward = 1: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return rc;
	}
	close(fd);
	return 0;
}

int cni_open(const struct cni_opts *o, struct cni **out, struct err **e)
{
	struct cni *c = xcalloc(1, sizeof(*c));
	int rc = cni_setup(c, o, e);
	if (rc < 0) {
		cni_close(c);
		c = NULL;
	}
	*out = c;
	return rc;
}

void cni_close(struct cni *c)
{
	if (!c)
		return;
	free(c->dir);
	free(c->conf_path);
	free(c->results_dir);
	free(c->plugin_dir);
	free(c->ipam_dir);
	free(c->bridge);
	json_decref(c->conflist);
	free(c);
}

const char *cni_gateway(const struct cni *c)
{
	return c->gateway;
}

const char *cni_bridge(const struct cni *c)
{
	return c->bridge;
}

/* The first address of a result ("10.88.0.7", no prefix length) into ip;
 * false when it has none. */
static bool result_ip(const json_t *result, char ip[64])
{
	const char *a = obj_str(json_array_get(json_object_get(result, "ips"), 0), "address");
	if (!a || strcspn(a, "/") >= 64)
		return false;
	snprintf(ip, 64, "%.*s", (int)strcspn(a, "/"), a);
	return true;
}

/* Runs the conflist's plugins for k: in order for ADD (each fed the
 * previous result; *result gets the last) and CHECK (each fed prev), in
 * reverse order for DEL (each fed prev, which may be NULL).  DEL goes on
 * past a failure and returns the first error. */
static int list_run(const struct call *k, const json_t *prev, const json_t *port_mappings,
		    json_t **result, struct err **e)
{
	const json_t *plugins = json_object_get(k->c->conflist, "plugins");
	size_t n = json_array_size(plugins);
	bool del = !strcmp(k->command, "DEL"), add = !strcmp(k->command, "ADD");
	_cleanup_json_ json_t *cur = prev ? json_incref((json_t *)prev) : NULL;
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		const json_t *plugin = json_array_get(plugins, del ? n - 1 - i : i);
		/* portmap with nothing to map hands prevResult back: skip it */
		if (add && obj_at(plugin, "capabilities.portMappings") == json_true() &&
		    !json_array_size(port_mappings))
			continue;
		json_t *res = NULL;
		int r;
		if (add && k->c->native && !strcmp(obj_str(plugin, "type"), "bridge")) {
			/* the same, in this process (veth.h) */
			r = veth_add(&k->c->vc, k->pod_id, k->netns, &res, e);
			if (r < 0)
				return r;
			json_decref(cur);
			cur = res;
			continue;
		}
		_cleanup_json_ json_t *conf = plugin_conf(k->c, plugin, cur, port_mappings);
		r = plugin_run(k, conf, add ? &res : NULL, rc ? NULL : e);
		if (r < 0 && !del)
			return r;
		rc = rc ? rc : r;
		if (add) {
			json_decref(cur);
			cur = res;
		}
	}
	if (result)
		*result = STEAL_POINTER(&cur);
	return rc;
}

static char *cni_args(const char *pod_id, const char *k8s_ns, const char *k8s_name)
{
	return xasprintf("IgnoreUnknown=1;K8S_POD_NAMESPACE=%s;K8S_POD_NAME=%s;"
			 "K8S_POD_INFRA_CONTAINER_ID=%s",
			 k8s_ns ? k8s_ns : "", k8s_name ? k8s_name : "", pod_id);
}

int cni_add_ports(struct cni *c, const char *pod_id, const char *netns_path, const char *k8s_ns,
		  const char *k8s_name, const struct cni_port *ports, size_t n_ports, char ip[64],
		  struct err **e)
{
	_cleanup_free_ char *args = cni_args(pod_id, k8s_ns, k8s_name);
	_cleanup_json_ json_t *cached = NULL, *lo_result = NULL, *result = NULL;
	_cleanup_json_ json_t *mappings = json_array(), *entry = NULL;
	int rc;

	ip[0] = '\0';
	if ((rc = check_name("pod id", pod_id, 250, e)) < 0)
		return rc;
	if (!netns_path || !*netns_path)
		return err_make(e, EINVAL, "pod %s: cni ADD: no network namespace", pod_id);
	if ((cached = cache_load(c, pod_id)))
		return err_make(e, EEXIST, "pod %s: cni ADD: already added (cached result)",
				pod_id);
	for (size_t i = 0; i < n_ports; i++) {
		const struct cni_port *p = &ports[i];
		json_t *m =
		    json_pack("{s:i, s:i, s:s}", "hostPort", p->host_port, "containerPort",
			      p->container_port, "protocol", p->protocol ? p->protocol : "tcp");
		if (p->host_ip && *p->host_ip)
			json_object_set_new(m, "hostIP", json_string(p->host_ip));
		json_array_append_new(mappings, m);
	}

	/* loopback: a network of its own, as the kubelet runs it */
	struct call lo = {c, "ADD", pod_id, netns_path, "lo", args};
	_cleanup_json_ json_t *lo_conf = json_pack("{s:s, s:s, s:s}", "cniVersion", CNI_VERSION,
						   "name", "cni-loopback", "type", "loopback");
	if (!c->lo_up && (rc = plugin_run(&lo, lo_conf, &lo_result, e)) < 0)
		return rc;

	struct call k = {c, "ADD", pod_id, netns_path, "eth0", args};
	if ((rc = list_run(&k, NULL, mappings, &result, e)) < 0) {
		/* undo what the plugins before the failing one did */
		struct call d = k;
		d.command = "DEL";
		list_run(&d, NULL, mappings, NULL, NULL);
		return rc;
	}
	if (!result_ip(result, ip)) {
		rc = err_make(e, EIO, "pod %s: cni ADD: no address in the result", pod_id);
		goto undo;
	}
	entry = json_pack("{s:s, s:s, s:s, s:s, s:O, s:O}", "kind", "cniCacheV1", "containerId",
			  pod_id, "ifName", "eth0", "cniArgs", args, "portMappings", mappings,
			  "result", result);
	if ((rc = cache_store(c, pod_id, entry, e)) < 0)
		goto undo;
	log_info("cni", "pod %s: %s/%s added, %s on %s", pod_id, k8s_ns ? k8s_ns : "",
		 k8s_name ? k8s_name : "", ip, c->bridge);
	return 0;
undo:
	k.command = "DEL";
	list_run(&k, result, mappings, NULL, NULL);
	ip[0] = '\0';
	return rc;
}

int cni_add(struct cni *c, const char *pod_id, const char *netns_path, const char *k8s_ns,
	    const char *k8s_name, char ip[64], struct err **e)
{
	return cni_add_ports(c, pod_id, netns_path, k8s_ns, k8s_name, NULL, 0, ip, e);
}

int cni_check(struct cni *c, const char *pod_id, const char *netns_path, struct err **e)
{
	_cleanup_json_ json_t *entry = NULL;
	int rc;

	if ((rc = check_name("pod id", pod_id, 250, e)) < 0)
		return rc;
	if (!(entry = cache_load(c, pod_id)))
		return err_make(e, ENOENT, "pod %s: cni CHECK: no cached result (never added?)",
				pod_id);
	struct call k = {c,	 "CHECK",
			 pod_id, netns_path ? netns_path : "",
			 "eth0", obj_str(entry, "cniArgs") ? obj_str(entry, "cniArgs") : ""};
	return list_run(&k, json_object_get(entry, "result"),
			json_object_get(entry, "portMappings"), NULL, e);
}

int cni_del(struct cni *c, const char *pod_id, const char *netns_path, struct err **e)
{
	_cleanup_json_ json_t *entry = NULL;
	_cleanup_free_ char *args = NULL;
	int rc;

	if ((rc = check_name("pod id", pod_id, 250, e)) < 0)
		return rc;
	entry = cache_load(c, pod_id);
	if (!netns_path || access(netns_path, F_OK) != 0)
		netns_path = ""; /* gone: the plugins free what is outside it */
	args = obj_str(entry, "cniArgs") ? xstrdup(obj_str(entry, "cniArgs"))
					 : cni_args(pod_id, NULL, NULL);
	struct call k = {c, "DEL", pod_id, netns_path, "eth0", args};
	if ((rc = list_run(&k, json_object_get(entry, "result"),
			   json_object_get(entry, "portMappings"), NULL, e)) < 0)
		return rc;
	if (!*netns_path) {
		/* bridge 1.1.1 tears the masquerade down only while it can
		 * read the address from the namespace */
		if ((rc = rules_delete("POSTROUTING", c->bridge, pod_id, e)) < 0)
			return rc;
	}
	_cleanup_free_ char *path = cache_path(c, pod_id);
	if (unlink(path) < 0 && errno != ENOENT)
		return err_make(e, errno, "pod %s: cni result %s: %s", pod_id, path,
				strerror(errno));
	if (entry)
		log_info("cni", "pod %s: deleted from %s", pod_id, c->bridge);
	return 0;
}

int cni_get_ip(struct cni *c, const char *pod_id, char ip[64])
{
	ip[0] = '\0';
	if (check_name("pod id", pod_id, 250, NULL) < 0)
		return -EINVAL;
	_cleanup_json_ json_t *entry = cache_load(c, pod_id);
	return result_ip(json_object_get(entry, "result"), ip) ? 0 : -ENOENT;
}

int cni_reset(const char *data_dir, const char *bridge, struct err **e)
{
	int rc = 0, r;
	_cleanup_free_ char *ipam = xasprintf("%s/cni/ipam", data_dir);
	_cleanup_free_ char *results = xasprintf("%s/cni/results", data_dir);
	_cleanup_free_ char *conf = xasprintf("%s/cni/net.conflist", data_dir);

	if ((r = check_name("bridge", bridge, 15, e)) < 0)
		return r;
	if (if_nametoindex(bridge) != 0 &&
	    (r = tool_run((char *[]){"ip", "link", "del", (char *)bridge, NULL}, NULL, e)) < 0)
		rc = r;
	if ((r = rules_delete("POSTROUTING", bridge, NULL, rc ? NULL : e)) < 0)
		rc = rc ? rc : r;
	if ((r = rules_delete("CNI-HOSTPORT-DNAT", bridge, NULL, rc ? NULL : e)) < 0)
		rc = rc ? rc : r;
	if ((r = rm_rf(ipam, rc ? NULL : e)) < 0)
		rc = rc ? rc : r;
	if ((r = rm_rf(results, rc ? NULL : e)) < 0)
		rc = rc ? rc : r;
	if (unlink(conf) < 0 && errno != ENOENT && !rc)
		rc = err_make(e, errno, "%s: %s", conf, strerror(errno));
	return rc;
}
