/*
 * svcnet.h - Services on the node: the kube-proxy role (proxy.h) and the
 * cluster DNS (dns.h), fed from the API.
 *
 *     $ nft list table ip clusterfs_1f2e3d4c | head -3
 *     table ip clusterfs_1f2e3d4c {
 *             map service-ips { ...
 *     $ cat DATA/dns/hosts
 *     10.96.1.0	web.default.svc.cluster.local
 *
 * An informer notes every Service and Endpoints change by "NS/NAME"; one
 * worker gathers them for a millisecond and, for each, rewrites that
 * Service's rules in one nftables transaction (or deletes them), then, if
 * any name or address changed, rewrites the DNS records (a Service's name
 * to its ClusterIP; a headless Service's to its ready pods' IPs) and has
 * dnsmasq re-read them.  At start (and after a watch gap) every Service
 * is synced and the rules of Services that are gone are deleted.
 *
 * The nftables table is named per data dir (svcnet_table_name), so that
 * several servers on one machine keep apart; its rules stay when the
 * server stops, as kube-proxy's do, and `clusterfs reset` deletes them.
 * dnsmasq is the server's child: it stops with the server.
 */
#ifndef CFS_SVCNET_H
#define CFS_SVCNET_H

#include "engine/client/apic.h"
#include "engine/err.h"

struct svcnet_opts {
	const char *data_dir;
	const char *pod_cidr;	  /* "10.88.0.0/16" */
	const char *service_cidr; /* "10.96.0.0/16" */
	const char *dns_ip;	  /* where dnsmasq listens: the pod network's gateway */
	int dns_port;		  /* 0: 53 */
};

struct svcnet;

/* Opens the table, starts dnsmasq and the informer.  0 and *out, or a
 * negative errno with *e (nothing left running). */
int svcnet_start(struct apic *c, const struct svcnet_opts *o, struct svcnet **out, struct err **e);

/* Stops the threads and dnsmasq; the rules stay.  NULL is fine. */
void svcnet_stop(struct svcnet *s);

/* "clusterfs_" and the 8 hex digits of agent_bridge_name(data_dir). */
void svcnet_table_name(const char *data_dir, char out[32]);

/* `clusterfs reset`: deletes the table, stops a left-over dnsmasq. */
int svcnet_reset(const char *data_dir, struct err **e);

#endif
