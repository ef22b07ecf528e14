/*
 * svc.h - Services as their consumers see them: the service IP range,
 * and a read of a Service joined with its Endpoints (cluster IP, ports,
 * node ports, and the backends of each port).
 *
 *     $ cat /cluster/services/web/clusterip
 *     10.96.143.27
 *     $ cat /cluster/services/web/endpoints
 *     10.88.0.2:8080
 *     10.88.0.3:8080
 *
 * Who uses it: the filesystem (services/NAME/{clusterip,endpoints,status})
 * reads through svc_info_get()/svc_info_list(); the endpoints controller
 * (epctl.c) and the API's admission (api_svc.c) use the address helpers.
 * The kube-proxy role and the cluster DNS (runtime/net/proxy.c, dns.c,
 * fed by runtime/net/svcnet.c) do not go through svc_info: svcnet watches
 * Services and Endpoints with an informer, reads each changed one with
 * api_get() and turns it into nftables rules and DNS records
 * (proxy_service_from_json).  No one reads the store.
 *
 * Where the values come from: the API's admission gives each Service its
 * cluster IP (one picked at random above the range's low static band,
 * 10.96.1.0 and up in the default /16, unless spec.clusterIP asks for
 * one) and node ports (api_svc.c); the endpoints controller
 * (epctl.h) keeps the Endpoints of every Service with a selector; users
 * may write the Endpoints of a Service without one.
 *
 * Thread-safe: no state.
 */
#ifndef CFS_SVC_H
#define CFS_SVC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/api/api.h"

/* The service IP range */

#define SVC_DEFAULT_CIDR "10.96.0.0/16"
#define SVC_NODEPORT_MIN 30000
#define SVC_NODEPORT_MAX 32767

/* An IPv4 range: net is the network address in host byte order. */
struct svc_cidr {
	uint32_t net;
	int prefix; /* 12 ... 28: at most 2^20 addresses, as Kubernetes allows */
};

/* Parses "10.96.0.0/16" (host bits must be zero).  0 or -EINVAL with *e. */
int svc_cidr_parse(const char *s, struct svc_cidr *out, struct err **e);
/* "10.96.0.0/16" into out.  Can't fail. */
void svc_cidr_format(const struct svc_cidr *c, char out[20]);
/* Dotted quad to host order; false if s is not one. */
bool svc_ip_parse(const char *s, uint32_t *out);
void svc_ip_format(uint32_t ip, char out[16]);

/* A Service and its backends */

struct svc_port {
	char *name;	   /* "" for an unnamed port */
	char protocol[8];  /* "TCP", "UDP", "SCTP" */
	int port;	   /* the service port */
	int node_port;	   /* 0 unless type NodePort or LoadBalancer */
	char *target_port; /* as written: "8080" or a name */
};

/* One backend of one service port, from the Endpoints. */
struct svc_backend {
	size_t port; /* index into ports[] */
	char ip[16];
	int target; /* the pod's port */
	bool ready; /* from addresses (true) or notReadyAddresses (false) */
	char *node; /* nodeName, or NULL */
	char *pod;  /* targetRef name when it is a Pod, or NULL */
};

struct svc_info {
	char *ns, *name;
	char *type;	     /* "ClusterIP", "NodePort", "LoadBalancer" */
	char cluster_ip[16]; /* "" when not allocated, "None" when headless */
	bool headless;
	bool has_selector;  /* the endpoints controller keeps its Endpoints */
	bool has_endpoints; /* an Endpoints object exists */
	struct svc_port *ports;
	size_t nports;
	/* Sorted by port index, then IP (numerically), then target port.
	 * Endpoint ports are matched to service ports by name, as kube-proxy
	 * does; endpoint ports no service port names are left out. */
	struct svc_backend *backends;
	size_t nbackends;
};

/*
 * Reads Service ns/name and its Endpoints (same name).  Returns 0 and *out
 * (free with svc_info_free), or -ENOENT when there is no such Service.
 */
int svc_info_get(struct api *a, const char *ns, const char *name, struct svc_info **out);

/* Every Service in ns (NULL: all namespaces), sorted by namespace and name.
 * Returns the count; free with svc_info_list_free.  Can't fail. */
size_t svc_info_list(struct api *a, const char *ns, struct svc_info ***out);

void svc_info_free(struct svc_info *s); /* NULL is fine */
void svc_info_list_free(struct svc_info **v, size_t n);

/* The ready backends as "IP:PORT" lines, sorted by IP then port, no
 * duplicates (what services/NAME/endpoints shows).  Caller frees. */
char *svc_ready_lines(const struct svc_info *s);

/* Counts of backends (address and port pairs) by readiness. */
void svc_backend_counts(const struct svc_info *s, size_t *ready, size_t *not_ready);

#endif
