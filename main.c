/*
 * main.c - the clusterfs command line: parses arguments and wires the
 * modules together.  Nothing else lives here.
 *
 *     clusterfs server [--mount DIR] [--data-dir DIR] [--no-agent] ...
 *     clusterfs agent --server URL --token TOKEN [--node-name N] [--node-ip IP] ...
 *     clusterfs reset [--data-dir DIR]
 *     clusterfs image import [--data-dir DIR] SOURCE NAME[:TAG]
 *     clusterfs image pull|rm|ls [--data-dir DIR] ...  (runtime/image/image_cli.h)
 *     clusterfs token rotate|issue USER [GROUP...]|revoke NAME [--data-dir DIR]
 *     clusterfs pause HOSTNAME    (a pod's sandbox; started by the agent)
 *     clusterfs logrelay LOG      (a container's log relay; started by the agent)
 *     clusterfs version
 *     clusterfs help
 *
 * `pause` is not for people: the agent runs it, one per pod, to hold the
 * pod's namespaces (runtime/kubelet/pause.h).  `clusterfs help` (or -h,
 * --help) prints every command and option.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/api/api.h"
#include "engine/client/apic.h"
#include "engine/client/join.h"
#include "engine/client/kubelet_client.h"
#include "engine/controllers/leading.h"
#include "engine/log.h"
#include "engine/mem.h"
#include "engine/controllers/nodeipam.h"
#include "engine/sched/sched.h"
#include "engine/store/store.h"
#include "engine/store/store_opts.h"
#include "engine/api/svc.h"
#include "fs/fs.h"
#include "http/auth.h"
#include "http/tokens.h"
#include "http/http.h"
#include "runtime/kubelet/agent.h"
#include "runtime/kubelet/kserver.h"
#include "runtime/hollow/hollow.h"
#include "runtime/kubelet/logrelay.h"
#include "runtime/kubelet/pause.h"
#include "runtime/net/routes.h"
#include "runtime/net/svcnet.h"
#include "runtime/image/image_cli.h"
#include "runtime/image/image_gc.h"
#include "runtime/sys.h"

#define CLUSTERFS_VERSION "0.1.0"
#define DEFAULT_MOUNT	  "/cluster"
#define DEFAULT_DATA_DIR  "/var/lib/clusterfs"

static const char usage_text[] =
    "usage: clusterfs COMMAND [OPTIONS]\n"
    "\n"
    "Commands:\n"
    "  server    run the store, API, controllers, the node agent and the\n"
    "            filesystem in the foreground; unmounts on SIGINT/SIGTERM\n"
    "  agent --server https://HOST:PORT --token TOKEN\n"
    "            join the server's cluster as a node (TOKEN: the server's\n"
    "            DATA_DIR/node-token) and run the node roles (pods, Services,\n"
    "            DNS, routes) through its HTTP API, in the foreground\n"
    "  reset     remove everything clusterfs made for a data dir\n"
    "  image import [--data-dir DIR] SOURCE NAME[:TAG]\n"
    "            import an OCI image layout directory or OCI archive\n"
    "  image pull [--data-dir DIR] [--creds USER:PASS | --auth-file FILE] REF\n"
    "            pull an image from its registry (and the registry flags below)\n"
    "  image rm [--data-dir DIR] [--force] REF\n"
    "            remove an image (not one a pod uses, without --force), and its\n"
    "            layers that no other image uses\n"
    "  image ls [--data-dir DIR]\n"
    "            list the images in the local store, with the pods using them\n"
    "  image gc [--data-dir DIR] [--image-gc-*-threshold PERCENT]\n"
    "            remove unused images now if the image disk is past the threshold\n"
    "  token rotate [--data-dir DIR]\n"
    "            a new join token in DATA_DIR/node-token; the old one is refused\n"
    "  token issue [--data-dir DIR] USER [GROUP...]\n"
    "            a bearer token for the Unix user USER (and GROUPs), for kubectl:\n"
    "            its requests may do what USER may do in /cluster (replaces USER's)\n"
    "  token revoke [--data-dir DIR] NODE|USER\n"
    "            refuse a node's credential (the node must join again) or a user's\n"
    "            tokens (DATA_DIR/tokens)\n"
    "  version   print the version\n"
    "\n"
    "Options:\n"
    "  --mount DIR      mount point (default " DEFAULT_MOUNT ")\n"
    "  --data-dir DIR   state, images, logs (default " DEFAULT_DATA_DIR ")\n"
    "  --no-agent       run the control plane only, no node agent\n"
    "  --node-name NAME the local node's name (default: the host name)\n"
    "  --hollow-nodes N register N simulated nodes hollow-1..N (like kubemark)\n"
    "  --hollow-prefix P  name them P-1..N (default: hollow; on etcd with --server-name\n"
    "                   NAME, hollow-NAME, so that each server's have names of their own)\n"
    "  --node-grace S   seconds without a heartbeat before a node is NotReady (40)\n"
    "  --cluster-cidr CIDR\n"
    "                   the pods' addresses, cut into one subnet per node (" NODEIPAM_DEFAULT_CIDR
    ")\n"
    "  --node-cidr-mask-size N\n"
    "                   the prefix length of each node's subnet (24)\n"
    "  --pod-cidr CIDR  the local node's pod network (default: given by the server)\n"
    "  --service-cidr CIDR\n"
    "                   the range of Services' cluster IPs (" SVC_DEFAULT_CIDR ")\n"
    "  --default-toleration-seconds S\n"
    "                   how long pods stay on a not-ready node before eviction (300)\n"
    "  --pod-security-default LEVEL[:VERSION]\n"
    "                   Pod Security of namespaces without labels (baseline:latest)\n"
    "  --listen ADDR:PORT\n"
    "                   serve the Kubernetes API over HTTPS there (" HTTP_DEFAULT_LISTEN ");\n"
    "                   port 0 picks a free port; \"none\" serves no HTTPS\n"
    "  --tls-san NAME   one more name or IP in the serving certificate (repeatable)\n"
    "  --store-quota BYTES  refuse writes (not deletes) past this database size\n"
    "  --encryption-key-file FILE  encrypt Secrets in the store (a base64 32-byte key)\n"
    "  --server-name NAME  this server's name, shown as the leader (default: host name)\n"
    "  --leader-elect-lease-duration S\n"
    "                   etcd: a leader that cannot renew its lease for S s is replaced (15)\n"
    "  --route-mode host-gw|vxlan\n"
    "                   routes to the other nodes' pods: via their addresses on a\n"
    "                   shared link (host-gw, the default) or a VXLAN overlay\n"
    "  --server URL[,URL...]  agent: the server's API (https://HOST:PORT); several:\n"
    "                   servers of one cluster, tried in turn when one does not answer\n"
    "  --token TOKEN    agent: the join token (the server's DATA_DIR/node-token:\n"
    "                   it pins the server's CA; the node's credential is kept in\n"
    "                   DATA_DIR/join), or else a bearer token (with --ca)\n"
    "  --ca FILE        agent: verify the server with this CA instead\n"
    "  --node-ip IP     agent: the node's address (default: the first one up)\n"
    "  --node-grace S   agent: the server's --node-grace (heartbeats every S/4 s)\n"
    "  --cluster-cidr CIDR\n"
    "                   agent: the server's --cluster-cidr (kube-proxy's pod range)\n"
    "  --kubelet-port N agent: where it serves its pods' logs (default 10250)\n"
    "  --pod-pids-limit N\n"
    "                   processes and threads per pod on this node (4096; -1: "
    "none)\n" REGISTRY_USAGE IMAGE_GC_USAGE STORE_USAGE HPACTL_USAGE
    "  -v, --verbose    debug logging;  --fuse-debug  trace every FUSE request\n"
    "  --fuse-wake-here on|off  set the kernel's FUSE wake_here where it has it (on)\n"
    "  -h, --help       this text\n";

struct opts {
	struct hpactl_opts hpa; /* --horizontal-pod-autoscaler-* */
	const char *mount;
	const char *data_dir;
	bool no_agent;
	int kubelet_port; /* agent: its endpoint's port (0: 10250) */
	const char *node_name;
	bool fuse_debug;
	const char *fuse_wake; /* --fuse-wake-here on|off */
	int hollow_nodes;
	int node_grace_s;
	int default_toleration_s;
	const char *service_cidr;
	const char *pod_cidr;
	const char *cluster_cidr;
	const char *pod_security; /* --pod-security-default */
	int node_cidr_mask;
	const char *listen, *store_quota, *enc_key;
	const char *tls_sans[16];
	size_t ntls_sans;
	enum routes_mode route_mode;
	long pod_pids_limit;	   /* 0: the agent's default */
	const char *server_name;   /* --server-name (default: the host name) */
	const char *hollow_prefix; /* --hollow-prefix */
	int lease_s;		   /* --leader-elect-lease-duration (0: 15) */
	/* agent */
	const char *server, *token, *ca, *node_ip;
	struct registry_opts reg; /* server and agent: pulling images */
	struct image_gc_conf gc;  /* and image garbage collection */
	struct store_opts store;  /* server: etcd or SQLite */
};

/* Parses options; positional arguments are left from *first on (NULL: none allowed). */
/* What the options say together; -1 with a message. */
static int check_opts(struct opts *o)
{
	if (o->fuse_wake && strcmp(o->fuse_wake, "on") && strcmp(o->fuse_wake, "off")) {
		fprintf(stderr, "clusterfs: --fuse-wake-here: want on or off\n");
		return -1;
	}
	struct err *ge = NULL;
	if (image_gc_conf_check(&o->gc, &ge) < 0) {
		fprintf(stderr, "clusterfs: %s\n", ge->msg);
		err_free(ge);
		return -1;
	}
	return 0;
}

static int parse_opts_pos(int argc, char **argv, struct opts *o, int *first);

static int parse_opts(int argc, char **argv, struct opts *o)
{
	return parse_opts_pos(argc, argv, o, NULL);
}

/* The options that take a string as it is: true if c is one (set). */
static bool string_opt(struct opts *o, int c, const char *arg)
{
	const char **to = NULL;
	switch (c) {
	case 'm':
		to = &o->mount;
		break;
	case 'd':
		to = &o->data_dir;
		break;
	case 'N':
		to = &o->node_name;
		break;
	case 'S':
		to = &o->service_cidr;
		break;
	case 'P':
		to = &o->pod_cidr;
		break;
	case 'L':
		to = &o->listen;
		break;
	case 'U':
		to = &o->server;
		break;
	case 'K':
		to = &o->token;
		break;
	case 'C':
		to = &o->ca;
		break;
	case 'I':
		to = &o->node_ip;
		break;
	case 'R':
		to = &o->cluster_cidr;
		break;
	case 'O':
		to = &o->store_quota;
		break;
	case 'Y':
		to = &o->pod_security;
		break;
	case 'E':
		to = &o->enc_key;
		break;
	case 0x120:
		to = &o->server_name;
		break;
	case 0x122:
		to = &o->hollow_prefix;
		break;
	case 0x123:
		to = &o->fuse_wake;
		break;
	default:
		return false;
	}
	*to = arg;
	return true;
}

/* The whole-number option c (H, G, M, T or Q) into o; -1 with a message. */
static int parse_number(int c, const char *arg, struct opts *o)
{
	char *end;
	long v = strtol(arg, &end, 10);
	if (c == 'Q' && (*end || end == arg || v < -1 || !v || v > 4194304)) {
		fprintf(stderr, "clusterfs: --pod-pids-limit: 1 to 4194304, or -1\n");
		return -1;
	}
	if (c == 'Q')
		return o->pod_pids_limit = v, 0;
	if (*end || v < 0 || v > 100000) {
		fprintf(stderr, "clusterfs: --%s: want a whole number, got \"%s\"\n",
			c == 'H'   ? "hollow-nodes"
			: c == 'G' ? "node-grace"
			: c == 'M' ? "node-cidr-mask-size"
				   : "default-toleration-seconds",
			arg);
		return -1;
	}
	if (c == 'H')
		o->hollow_nodes = (int)v;
	else if (c == 'G')
		o->node_grace_s = (int)v;
	else if (c == 'M')
		o->node_cidr_mask = (int)v;
	else
		o->default_toleration_s = (int)v;
	return 0;
}

/* The options of every command (getopt_long). */
static const struct option longopts[] = {
    {"mount", required_argument, NULL, 'm'},
    {"data-dir", required_argument, NULL, 'd'},
    {"no-agent", no_argument, NULL, 'n'},
    {"node-name", required_argument, NULL, 'N'},
    {"verbose", no_argument, NULL, 'v'},
    {"fuse-debug", no_argument, NULL, 'F'},
    {"hollow-nodes", required_argument, NULL, 'H'},
    {"node-grace", required_argument, NULL, 'G'},
    {"default-toleration-seconds", required_argument, NULL, 'T'},
    {"service-cidr", required_argument, NULL, 'S'},
    {"pod-cidr", required_argument, NULL, 'P'},
    {"cluster-cidr", required_argument, NULL, 'R'},
    {"node-cidr-mask-size", required_argument, NULL, 'M'},
    {"listen", required_argument, NULL, 'L'},
    {"tls-san", required_argument, NULL, 'A'},
    {"server", required_argument, NULL, 'U'},
    {"token", required_argument, NULL, 'K'},
    {"ca", required_argument, NULL, 'C'},
    {"node-ip", required_argument, NULL, 'I'},
    {"route-mode", required_argument, NULL, 'W'},
    {"kubelet-port", required_argument, NULL, 'B'},
    {"pod-pids-limit", required_argument, NULL, 'Q'},
    {"store-quota", required_argument, NULL, 'O'},
    {"encryption-key-file", required_argument, NULL, 'E'},
    {"pod-security-default", required_argument, NULL, 'Y'},
    {"server-name", required_argument, NULL, 0x120},
    {"leader-elect-lease-duration", required_argument, NULL, 0x121},
    {"hollow-prefix", required_argument, NULL, 0x122},
    {"fuse-wake-here", required_argument, NULL, 0x123},
    {"help", no_argument, NULL, 'h'},
    REGISTRY_LONGOPTS,
    IMAGE_GC_LONGOPTS,
    STORE_LONGOPTS,
    HPACTL_LONGOPTS,
    {NULL, 0, NULL, 0},
};

static int parse_opts_pos(int argc, char **argv, struct opts *o, int *first)
{
	o->mount = DEFAULT_MOUNT;
	o->data_dir = DEFAULT_DATA_DIR;
	o->node_grace_s = 40;
	o->default_toleration_s = 300;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "m:d:vh", longopts, NULL)) != -1) {
		if (string_opt(o, c, optarg) || store_opts_add(&o->store, c, optarg))
			continue;
		int rg = registry_opts_add(&o->reg, c, optarg);
		if (rg == 0)
			rg = image_gc_opts_add(&o->gc, c, optarg);
		if (rg == 0)
			rg = hpactl_opts_add(&o->hpa, c, optarg);
		if (rg != 0) {
			if (rg < 0)
				return -1;
			continue;
		}
		switch (c) {
		case 'n':
			o->no_agent = true;
			break;
		case 'B': {
			char *end;
			long port = strtol(optarg, &end, 10);
			if (*end || end == optarg || port < 1 || port > 65535) {
				fprintf(stderr,
					"clusterfs: --kubelet-port: want a port, 1 to 65535, got "
					"\"%s\"\n",
					optarg);
				return -1;
			}
			o->kubelet_port = (int)port;
			break;
		}
		case 'v':
			log_level = LOG_DEBUG;
			break;
		case 'F':
			o->fuse_debug = true;
			break;
		case 'A':
			if (o->ntls_sans == sizeof(o->tls_sans) / sizeof(o->tls_sans[0])) {
				fprintf(stderr, "clusterfs: too many --tls-san\n");
				return -1;
			}
			o->tls_sans[o->ntls_sans++] = optarg;
			break;
		case 'W':
			if (routes_mode_parse(optarg, &o->route_mode) < 0) {
				fprintf(stderr,
					"clusterfs: --route-mode: host-gw or vxlan, not \"%s\"\n",
					optarg);
				return -1;
			}
			break;
		case 'H':
		case 'G':
		case 'M':
		case 'T':
		case 'Q':
			if (parse_number(c, optarg, o) < 0)
				return -1;
			break;
		case 0x121:
			o->lease_s = atoi(optarg);
			if (o->lease_s < 2 || o->lease_s > 3600) {
				fprintf(stderr, "clusterfs: --leader-elect-lease-duration: 2 to "
						"3600 seconds\n");
				return -1;
			}
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		default:
			fputs(usage_text, stderr);
			return -1;
		}
	}
	if (check_opts(o) < 0)
		return -1;
	if (first) {
		*first = optind;
		return 0;
	}
	if (optind < argc) {
		fprintf(stderr, "clusterfs: unexpected argument \"%s\"\n", argv[optind]);
		return -1;
	}
	return 0;
}

/* Takes the data dir's lock: one server per data dir.  Returns the fd or -1. */
static int lock_data_dir(const char *dir, bool quiet)
{
	char *path = xasprintf("%s/lock", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	free(path);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (!quiet)
			fprintf(stderr, "clusterfs: %s is in use by a running server\n", dir);
		close(fd);
		return -1;
	}
	return fd;
}

/* Serves the Kubernetes API over HTTPS unless --listen none.  Started
 * before the mount: once the mount is there, so is the kubeconfig. */
static int start_http(const struct opts *o, struct api *api, struct http **out, struct err **e)
{
	*out = NULL;
	if (o->listen && !strcmp(o->listen, "none"))
		return 0;
	struct http_opts ho = {.api = api,
			       .data_dir = o->data_dir,
			       .listen = o->listen,
			       .sans = o->tls_sans,
			       .nsans = o->ntls_sans};
	if (http_start(&ho, out, e) < 0)
		return -1;
	log_info("server", "Kubernetes API on https://%s (port %d); KUBECONFIG=%s",
		 o->listen ? o->listen : HTTP_DEFAULT_LISTEN, http_port(*out),
		 http_kubeconfig(*out));
	return 0;
}

/* Everything a server runs; NULL where not started.  Stopped in the
 * reverse order of starting (server_stop). */
struct server {
	struct store *st;
	struct api *api;
	struct apic *apic; /* the in-process client of the node roles */
	struct fs *fs;
	struct leading *lead; /* the controllers, scheduler, node lifecycle, GC */
	struct hollow *hollow;
	struct agent *agent;
	struct svcnet *svcnet;
	struct http *http;
	struct kubelet_client *kc; /* remote nodes' logs through their agents */
};

/* Heartbeats well inside the node grace period, or nodes would flap. */
static int heartbeat_s(const struct opts *o)
{
	int hb = o->node_grace_s >= 40 ? 10 : o->node_grace_s / 4;
	return hb > 0 ? hb : 1;
}

/* The scheduler, as leading.h's extra loop. */
static int sched_loop_start(struct api *a, void **h, struct err **e)
{
	struct sched *s = NULL;
	int r = sched_start(a, &s, e);
	*h = s;
	return r;
}

static void sched_loop_stop(void *h)
{
	sched_stop(h);
}

/* The store, the API, hollow nodes and the controllers. */
static int start_control_plane(const struct opts *o, struct server *s, struct err **e)
{
	int r = o->enc_key ? store_crypt_key_file(o->enc_key, e) : 0;
	if (r == 0)
		r = store_opts_open(&o->store, o->data_dir, &s->st, e);
	if (r < 0 || (o->store_quota && store_set_quota(s->st, o->store_quota, e) < 0) ||
	    api_new(s->st, &s->api, e) < 0)
		return -1;
	s->apic = apic_local_new(s->api);
	api_set_default_toleration(s->api, o->default_toleration_s);
	if (o->service_cidr && api_set_service_cidr(s->api, o->service_cidr, e) < 0)
		return -1;
	if (o->pod_security && api_set_pod_security_default(s->api, o->pod_security, e) < 0)
		return -1;
	if (o->hollow_nodes > 0) {
		/* On etcd, several servers: each names its own (--server-name). */
		char *prefix =
		    hollow_prefix_for(o->hollow_prefix, o->store.etcd ? o->server_name : NULL);
		struct hollow_opts ho = {heartbeat_s(o), 0, prefix};
		r = hollow_start(s->apic, o->hollow_nodes, &ho, &s->hollow, e);
		if (r == 0)
			log_info("server", "%d hollow nodes registered (%s-1..%d)", o->hollow_nodes,
				 prefix, o->hollow_nodes);
		free(prefix);
		if (r < 0)
			return -1;
	}
	struct leading_opts lo = {
	    .api = s->api,
	    .nodelife = {o->node_grace_s > 0 ? o->node_grace_s : 1, 1000, NULL},
	    .nodeipam = {o->cluster_cidr, o->node_cidr_mask},
	    .hpa = o->hpa,
	    .extra_start = sched_loop_start,
	    .extra_stop = sched_loop_stop};
	static char host[256];
	if (!o->server_name && gethostname(host, sizeof(host) - 1) == 0)
		host[sizeof(host) - 1] = 0;
	const char *name = o->server_name ? o->server_name : host;
	char *key =
	    xasprintf("%s/leader/controllers", o->store.prefix ? o->store.prefix : "/clusterfs");
	r = leading_new(&lo, &s->lead, e) < 0 ||
	    leading_elect(s->lead, name, key, o->lease_s, e) < 0;
	free(key);
	return r ? -1 : 0;
}

/* kube-proxy's pod range: the cluster CIDR, which holds the pods of every
 * node, when the node's own range lies inside it; else the node's. */
static const char *proxy_pod_cidr(const struct opts *o, const char *node_pods)
{
	const char *cluster = o->cluster_cidr ? o->cluster_cidr : NODEIPAM_DEFAULT_CIDR;
	return nodeipam_cidr_within(node_pods, cluster) ? cluster : node_pods;
}

/* The local node: the agent, then Services on it (proxy and DNS). */
static int start_node(const struct opts *o, struct server *s, struct err **e)
{
	if (o->no_agent) {
		log_info("server", "control plane only (--no-agent)");
		return 0;
	}
	struct agent_opts ao = {.node_name = o->node_name,
				.data_dir = o->data_dir,
				.heartbeat_s = heartbeat_s(o),
				.pod_cidr = o->pod_cidr,
				.node_ip = o->node_ip,
				.route_mode = o->route_mode,
				.pod_pids_limit = o->pod_pids_limit,
				.gc = o->gc};
	registry_opts_conf(&o->reg, &ao.reg);
	const char *cluster = o->cluster_cidr ? o->cluster_cidr : NODEIPAM_DEFAULT_CIDR;
	if (o->pod_cidr && !nodeipam_cidr_within(o->pod_cidr, cluster))
		log_warn("server", "--pod-cidr %s is not inside the cluster CIDR %s", o->pod_cidr,
			 cluster);
	if (agent_start(s->apic, &ao, &s->agent, e) < 0)
		return -1;
	char svc_cidr[20];
	api_service_cidr(s->api, svc_cidr);
	struct svcnet_opts so = {.data_dir = o->data_dir,
				 .pod_cidr = proxy_pod_cidr(o, agent_pod_cidr(s->agent)),
				 .service_cidr = svc_cidr,
				 .dns_ip = agent_dns_ip(s->agent)};
	return svcnet_start(s->apic, &so, &s->svcnet, e);
}

static void server_stop(struct server *s)
{
	http_stop(s->http);
	fs_free(s->fs);
	kubelet_client_stop(s->kc);
	if (s->st)
		store_wake_watchers(s->st);
	svcnet_stop(s->svcnet);
	agent_stop(s->agent);
	leading_free(s->lead);
	hollow_stop(s->hollow);
	apic_free(s->apic);
	api_free(s->api);
	store_close(s->st);
}

static int cmd_server(int argc, char **argv)
{
	struct opts o = {0};
	if (parse_opts(argc, argv, &o) < 0)
		return 2;
	mem_server_policy();
	/* root's alone: image layers, pod filesystems, keys (issue 13) */
	int mk = mkdir_p(o.data_dir, 0700, NULL);
	if (mk == 0 && chmod(o.data_dir, 0700) < 0)
		mk = -errno;
	if (mk < 0) {
		fprintf(stderr, "clusterfs: %s: %s\n", o.data_dir, strerror(-mk));
		return 1;
	}
	int lockfd = lock_data_dir(o.data_dir, false);
	if (lockfd < 0)
		return 1;
	struct err *e = NULL;
	struct server s = {0};
	int rc = 1;
	struct fs_opts fo = {.mountpoint = o.mount,
			     .api = NULL,
			     .debug = o.fuse_debug,
			     .data_dir = o.data_dir,
			     .wake_here = !o.fuse_wake || !strcmp(o.fuse_wake, "on")};
	if (start_control_plane(&o, &s, &e) < 0 || start_node(&o, &s, &e) < 0 ||
	    start_http(&o, s.api, &s.http, &e) < 0)
		goto fail;
	/* Remote nodes' logs, through their agents: only with the HTTP API
	 * (and its CA), which agents join through */
	if (s.http) {
		char *cakey = xasprintf("%s/pki/ca.key", o.data_dir);
		int kr = kubelet_client_start(s.api, cakey, &s.kc, &e);
		free(cakey);
		if (kr < 0)
			goto fail;
	}
	fo.api = s.api;
	if (fs_mount(&fo, &s.fs, &e) < 0)
		goto fail;
	log_info("server", "clusterfs %s serving %s from %s (revision %lld)", CLUSTERFS_VERSION,
		 o.mount, o.data_dir, (long long)store_rev(s.st));
	rc = fs_serve(s.fs) < 0 ? 1 : 0;
	log_info("server", "shutting down");
	goto out;
fail:
	fprintf(stderr, "clusterfs: %s\n", e ? e->msg : "failed");
out:
	server_stop(&s);
	err_free(e);
	close(lockfd);
	return rc;
}

/* ---- clusterfs agent ---- */

static volatile sig_atomic_t agent_stop_sig;
static volatile bool agent_stopping; /* join_retry's stop flag */

static void on_stop_signal(int sig)
{
	agent_stop_sig = sig;
	agent_stopping = true;
}

/* Sleeps ms unless a stop signal came; false when one did. */
static bool agent_nap(int ms)
{
	for (int t = 0; t < ms && !agent_stop_sig; t += 100)
		sleep_ms(100);
	return !agent_stop_sig;
}

static bool is_join_token(const char *t)
{
	return !strncmp(t, JOIN_TOKEN_PREFIX, strlen(JOIN_TOKEN_PREFIX));
}

/* The API client of the agent: with a join token, the node's credential
 * (joining, with back-off while the server cannot be reached, unless one
 * is saved in the data dir) and the CA the token pins; with any other
 * token, that token and --ca.  0, or -1 with *e (or on a stop signal). */
static int agent_connect(const struct opts *o, struct apic **c, struct err **e)
{
	if (!is_join_token(o->token)) {
		struct apic_http_opts ho = {
		    .server = o->server, .ca_file = o->ca, .token = o->token};
		return apic_http_new(&ho, c, e) < 0 ? -1 : 0;
	}
	struct join_result jr = {0};
	int r = join_retry(o->server, o->token, o->node_name, o->data_dir, 30000, -1,
			   &agent_stopping, &jr, e);
	if (r < 0) {
		if (r == -EAGAIN && agent_stop_sig)
			err_free(STEAL_POINTER(e));
		return -1;
	}
	struct apic_http_opts ho = {
	    .server = o->server, .ca_file = o->ca ? o->ca : jr.ca_path, .token = jr.token};
	r = apic_http_new(&ho, c, e);
	join_result_free(&jr);
	return r < 0 ? -1 : 0;
}

/* Starts the node roles over c, retrying (with back-off) while the server
 * cannot be reached.  0, or -1 with *e (or on a stop signal, e NULL);
 * -2 with *e when the server refuses the credential (401). */
static int agent_up(const struct opts *o, struct apic *c, struct agent **ag, struct svcnet **sn,
		    struct err **e)
{
	struct agent_opts ao = {.node_name = o->node_name,
				.data_dir = o->data_dir,
				.heartbeat_s = heartbeat_s(o),
				.pod_cidr = o->pod_cidr,
				.node_ip = o->node_ip,
				.route_mode = o->route_mode,
				.pod_pids_limit = o->pod_pids_limit,
				.gc = o->gc};
	registry_opts_conf(&o->reg, &ao.reg);
	int delay = 250;
	for (;;) {
		int r = agent_start(c, &ao, ag, e);
		if (r == 0)
			break;
		if (r == -EACCES && is_join_token(o->token))
			return -2;
		if (r == -EACCES)
			err_wrap(e, "the server refused the token");
		if (r != -ENOTCONN && r != -EAGAIN)
			return -1;
		if (delay == 250)
			log_info("agent", "waiting for the server: %s", (*e)->msg);
		err_free(STEAL_POINTER(e));
		if (!agent_nap(delay))
			return -1;
		delay = delay * 2 > 8000 ? 8000 : delay * 2;
	}
	struct svcnet_opts so = {.data_dir = o->data_dir,
				 .pod_cidr = proxy_pod_cidr(o, agent_pod_cidr(*ag)),
				 .service_cidr =
				     o->service_cidr ? o->service_cidr : SVC_DEFAULT_CIDR,
				 .dns_ip = agent_dns_ip(*ag)};
	return svcnet_start(c, &so, sn, e) < 0 ? -1 : 0;
}

/* True when the server refuses the node's credential (401: revoked). */
static bool agent_refused(struct apic *c, const char *node)
{
	struct sobj *o = NULL;
	struct err *e = NULL;
	int r = apic_get(c, KIND_NODE, NULL, node, &o, &e);
	sobj_unref(o);
	err_free(e);
	return r == -EACCES;
}

/* Runs the node until a stop signal: 0; or until the server refuses its
 * credential: 1 (join again); -1 with *e on an error. */
static int agent_run(const struct opts *o, struct err **e)
{
	struct apic *c = NULL;
	struct agent *ag = NULL;
	struct svcnet *sn = NULL;
	int rc = -1;
	if (agent_connect(o, &c, e) < 0)
		goto out;
	int r = agent_up(o, c, &ag, &sn, e);
	if (r == -2) {
		rc = 1;
		goto out;
	}
	if (r < 0)
		goto out;
	log_info("agent", "clusterfs %s agent: node %s of %s (data in %s)", CLUSTERFS_VERSION,
		 o->node_name, o->server, o->data_dir);
	for (int t = 1; agent_nap(1000); t++) {
		if (t % 5 == 0 && is_join_token(o->token) && agent_refused(c, o->node_name)) {
			rc = 1;
			goto out;
		}
	}
	log_info("agent", "shutting down (containers keep running)");
	rc = 0;
out:
	if (rc == 1) {
		log_warn("agent",
			 "the server refuses node %s's credential (revoked?): joining "
			 "again with the join token",
			 o->node_name);
		err_free(STEAL_POINTER(e));
	}
	svcnet_stop(sn);
	agent_stop(ag);
	apic_free(c);
	if (rc == 1)
		join_forget(o->data_dir);
	if (rc < 0 && !*e && agent_stop_sig)
		rc = 0;
	return rc;
}

/* The node's name: --node-name, else the host name in lower case. */
static void agent_node_name(struct opts *o)
{
	static char host[256];
	if (o->node_name)
		return;
	gethostname(host, sizeof(host) - 1);
	for (char *p = host; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	o->node_name = host;
}

static int cmd_agent(int argc, char **argv)
{
	struct opts o = {0};
	if (parse_opts(argc, argv, &o) < 0)
		return 2;
	if (!o.server || !o.token) {
		fprintf(stderr, "clusterfs agent: --server URL and --token TOKEN are required\n");
		return 2;
	}
	agent_node_name(&o);
	/* root's alone: image layers, pod filesystems, keys (issue 13) */
	int mk = mkdir_p(o.data_dir, 0700, NULL);
	if (mk == 0 && chmod(o.data_dir, 0700) < 0)
		mk = -errno;
	if (mk < 0) {
		fprintf(stderr, "clusterfs: %s: %s\n", o.data_dir, strerror(-mk));
		return 1;
	}
	int lockfd = lock_data_dir(o.data_dir, false);
	if (lockfd < 0)
		return 1;
	struct sigaction sa = {.sa_handler = on_stop_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	struct err *e = NULL;
	int r;
	kserver_configure(o.kubelet_port, o.ca);
	while ((r = agent_run(&o, &e)) == 1 && agent_nap(1000))
		;
	if (e)
		fprintf(stderr, "clusterfs: %s\n", e->msg);
	err_free(e);
	close(lockfd);
	return r < 0 ? 1 : 0;
}

static int cmd_reset(int argc, char **argv)
{
	struct opts o = {0};
	if (parse_opts(argc, argv, &o) < 0)
		return 2;
	struct stat sb;
	if (stat(o.data_dir, &sb) < 0) {
		printf("clusterfs: %s: nothing to reset\n", o.data_dir);
		return 0;
	}
	int lockfd = lock_data_dir(o.data_dir, false);
	if (lockfd < 0)
		return 1;
	static const char *const files[] = {"state.db", "state.db-wal", "state.db-shm",
					    "state.db.reserve"};
	int rc = 0;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char *p = xasprintf("%s/%s", o.data_dir, files[i]);
		if (unlink(p) < 0 && errno != ENOENT) {
			fprintf(stderr, "clusterfs: %s: %s\n", p, strerror(errno));
			rc = 1;
		}
		free(p);
	}
	struct err *e = NULL;
	if (svcnet_reset(o.data_dir, &e) < 0) {
		fprintf(stderr, "clusterfs: reset: %s\n", e ? e->msg : "failed");
		err_free(e);
		e = NULL;
		rc = 1;
	}
	if (routes_reset(NULL, &e) < 0) {
		fprintf(stderr, "clusterfs: reset: %s\n", e ? e->msg : "failed");
		err_free(STEAL_POINTER(&e));
		rc = 1;
	}
	if (agent_reset(o.data_dir, &e) < 0) {
		fprintf(stderr, "clusterfs: reset: %s\n", e ? e->msg : "failed");
		err_free(STEAL_POINTER(&e));
		rc = 1;
	}
	char *images = xasprintf("%s/images", o.data_dir);
	if (rm_rf(images, &e) < 0)
		fprintf(stderr, "clusterfs: %s\n", e->msg);
	err_free(STEAL_POINTER(&e));
	free(images);
	char *p = xasprintf("%s/lock", o.data_dir);
	unlink(p);
	free(p);
	close(lockfd);
	if (rc == 0 && rmdir(o.data_dir) < 0 && errno != ENOTEMPTY && errno != EEXIST)
		fprintf(stderr, "clusterfs: %s: %s\n", o.data_dir, strerror(errno));
	printf("clusterfs: reset %s\n", o.data_dir);
	return rc;
}

/* clusterfs token rotate | revoke NODE: the server notices at once. */
static int cmd_token(int argc, char **argv)
{
	struct opts o = {0};
	int first = 0;
	if (argc < 2 || parse_opts_pos(argc - 1, argv + 1, &o, &first) < 0)
		goto usage;
	int npos = argc - 1 - first;
	char **pos = argv + 1 + first;
	struct err *e = NULL;
	int r;
	if (!strcmp(argv[1], "rotate") && npos == 0) {
		char *tok = NULL;
		r = auth_token_rotate(o.data_dir, &tok, &e);
		if (r == 0)
			printf("%s\n", tok);
		free(tok);
	} else if (!strcmp(argv[1], "issue") && npos >= 1) {
		char *tok = NULL;
		r = tokens_issue(o.data_dir, pos[0], pos + 1, npos - 1, &tok, &e);
		if (r == 0)
			printf("%s\n", tok);
		free(tok);
	} else if (!strcmp(argv[1], "revoke") && npos == 1) {
		r = auth_node_revoke(o.data_dir, pos[0], &e);
		const char *what = "node %s's credential revoked";
		if (r == -ENOENT) {
			err_free(e);
			e = NULL;
			r = tokens_revoke(o.data_dir, pos[0], &e);
			what = "user %s's tokens revoked";
		}
		if (r == 0) {
			printf("clusterfs: ");
			printf(what, pos[0]);
			putchar('\n');
		}
	} else {
		goto usage;
	}
	if (r < 0)
		fprintf(stderr, "clusterfs: token %s: %s\n", argv[1], e ? e->msg : strerror(-r));
	err_free(e);
	return r < 0 ? 1 : 0;
usage:
	fputs("usage: clusterfs token rotate [--data-dir DIR]\n"
	      "       clusterfs token issue [--data-dir DIR] USER [GROUP...]\n"
	      "       clusterfs token revoke [--data-dir DIR] NODE|USER\n",
	      stderr);
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage_text, stderr);
		return 2;
	}
	const char *cmd = argv[1];
	logrelay_use_self();
	if (!strcmp(cmd, "logrelay"))
		return logrelay_main(argc, argv);
	if (!strcmp(cmd, "server"))
		return cmd_server(argc - 1, argv + 1);
	if (!strcmp(cmd, "agent"))
		return cmd_agent(argc - 1, argv + 1);
	if (!strcmp(cmd, "image"))
		return image_cli_main(argc - 1, argv + 1, DEFAULT_DATA_DIR);
	if (!strcmp(cmd, "pause"))
		return pause_main(argc, argv);
	if (!strcmp(cmd, "reset"))
		return cmd_reset(argc - 1, argv + 1);
	if (!strcmp(cmd, "token"))
		return cmd_token(argc - 1, argv + 1);
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("clusterfs %s\n", CLUSTERFS_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	fprintf(stderr, "clusterfs: unknown command \"%s\"\n\n%s", cmd, usage_text);
	return 2;
}
