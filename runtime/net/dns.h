/*
 * dns.h - cluster DNS: Debian's dnsmasq answering for Services, and the
 * files and variables a pod is given to find them.
 *
 *     $ cat /run/clusterfs/dns-fe01-1a2b/hosts          (dns_update)
 *     10.96.0.10	web.default.svc.cluster.local
 *     10.88.0.7	db.default.svc.cluster.local       (headless: one line
 *     10.88.0.9	db.default.svc.cluster.local        per ready pod)
 *     $ cat PODS/UID/resolv.conf                        (dns_resolv_conf)
 *     nameserver 10.88.0.1
 *     search default.svc.cluster.local svc.cluster.local cluster.local
 *     options ndots:5
 *
 * One `dnsmasq` child process (package dnsmasq-base) serves on the pod
 * network's gateway address, port 53, and on nothing else (--bind-dynamic
 * with --listen-address: the host's own resolvers and port 53 elsewhere
 * are left alone; the address may appear after the start, as the bridge
 * does at the first pod's CNI ADD).  It answers:
 *
 *   - SVC.NS.svc.cluster.local from its hosts file (the ClusterIP, or the
 *     pod IPs of a headless Service); a pod's search list makes SVC,
 *     SVC.NS and SVC.NS.svc work too, so only full names are stored;
 *   - other names under cluster.local: NXDOMAIN, never forwarded;
 *   - every other name by forwarding to the host's resolvers (the
 *     nameservers of /etc/resolv.conf, or those in the options).
 *
 * dnsmasq binds as root and then runs as nobody:nogroup (keeping only
 * CAP_NET_BIND_SERVICE, for the address that appears later); as the data
 * dir is root's alone, the hosts file it re-reads is /run/clusterfs/
 * dns-DEV-INO/hosts (DEV and INO: of DATA/dns; DATA/dns/hosts is a
 * symbolic link to it), a dir removed at stop.
 *
 * dns_update() writes the hosts file (via .tmp and rename) and sends
 * SIGHUP, on which dnsmasq clears its cache and re-reads the file: a
 * change is answered within milliseconds.
 *
 * Threads: dns_update and dns_stop must not run concurrently on one
 * struct dns (the caller serialises them, e.g. one controller thread);
 * the pure functions may be called from any thread.  The dnsmasq process
 * is waited for by pid only.  It runs in a session of its own (a Ctrl-C at
 * the server's terminal does not reach it): the server stops it.  A
 * dnsmasq left by a crashed server is found through its pid file and
 * killed by the next dns_start.
 */
#ifndef CFS_DNS_H
#define CFS_DNS_H

#include <jansson.h>
#include <stddef.h>
#include <sys/types.h>

#include "engine/err.h"

#define DNS_DOMAIN "cluster.local"

struct dns;

struct dns_opts {
	const char *listen_ip;	     /* IPv4, e.g. the bridge's gateway "10.88.0.1" */
	int port;		     /* 0: 53 */
	const char *data_dir;	     /* hosts file, pid file and log in DATA/dns */
	const char *const *upstream; /* NULL-ended server addresses ("IP" or
					"IP#PORT"); NULL: the nameservers of the
					host's /etc/resolv.conf; {NULL}: none */
	const char *dnsmasq;	     /* NULL: /usr/sbin/dnsmasq */
};

/* An A record: name (a full name, no trailing dot) to ip (IPv4).  Several
 * records of one name give several addresses. */
struct dns_record {
	const char *fqdn;
	const char *ip;
};

/*
 * Starts dnsmasq with an empty hosts file and waits (at most 5 s) until it
 * runs (its pid file names it).  Returns 0 and *out (stop with dns_stop),
 * -EINVAL for bad options, -ENOENT without dnsmasq, or -EIO with the last
 * lines dnsmasq logged (DATA/dns/dnsmasq.log).
 */
int dns_start(const struct dns_opts *o, struct dns **out, struct err **e);

/*
 * Makes the records (n of them; the caller's order is kept) what dnsmasq
 * answers: rewrites the hosts file and sends SIGHUP.  Records with a name
 * or address that is not valid are refused (-EINVAL) before anything is
 * written.  -ESRCH when dnsmasq is not running.
 */
int dns_update(struct dns *d, const struct dns_record *r, size_t n, struct err **e);

/* The dnsmasq process's pid (0 once stopped). */
pid_t dns_pid(const struct dns *d);

/* Stops dnsmasq (SIGTERM, SIGKILL after 2 s), reaps it and frees d.
 * NULL is a no-op.  Can't fail. */
void dns_stop(struct dns *d);

/* ---- what a pod is given (pure functions; the caller frees the result) ---- */

/* The full name of Service svc in namespace ns: "svc.ns.svc.cluster.local". */
char *dns_service_fqdn(const char *svc, const char *ns);

/* A pod's /etc/resolv.conf: nameserver dns_ip, the Kubernetes search list
 * of namespace ns (NS.svc.cluster.local svc.cluster.local cluster.local)
 * and options ndots:5. */
char *dns_resolv_conf(const char *ns, const char *dns_ip);

/* A pod's /etc/hosts as the kubelet writes it: localhost lines, then
 * "POD_IP\tHOSTNAME" (the pod's own name; left out when pod_ip is NULL or
 * empty). */
char *dns_hosts_file(const char *pod_ip, const char *hostname);

/*
 * The Kubernetes service environment variables of services (n Service
 * objects, those of the pod's namespace; their order is kept), as a
 * NULL-ended vector of "NAME=VALUE" (free with svc_env_free).  For a
 * Service "redis-primary" with ClusterIP 10.0.0.11 and port 6379/TCP:
 *
 *     REDIS_PRIMARY_SERVICE_HOST=10.0.0.11
 *     REDIS_PRIMARY_SERVICE_PORT=6379
 *     REDIS_PRIMARY_PORT=tcp://10.0.0.11:6379
 *     REDIS_PRIMARY_PORT_6379_TCP=tcp://10.0.0.11:6379
 *     REDIS_PRIMARY_PORT_6379_TCP_PROTO=tcp
 *     REDIS_PRIMARY_PORT_6379_TCP_PORT=6379
 *     REDIS_PRIMARY_PORT_6379_TCP_ADDR=10.0.0.11
 *
 * plus REDIS_PRIMARY_SERVICE_PORT_<NAME>=port for each named port.  Names
 * are upper-cased with '-' made '_'.  Services without a ClusterIP
 * (headless "None", or none yet) or without ports are skipped.  Can't fail.
 */
char **svc_env(const json_t *const *services, size_t n);
void svc_env_free(char **env);

/* `clusterfs reset`: stops a dnsmasq an earlier server of data_dir left
 * and removes DATA/dns and its dir in /run/clusterfs.  0, or a negative errno (DATA/dns not empty).
 */
int dns_reset(const char *data_dir);

#endif
