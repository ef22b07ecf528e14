/*
 * kserver.h - the node agent's own HTTPS endpoint, as a kubelet serves
 * port 10250: how the control plane reads the logs of this node's pods
 * when the agent runs on another machine (engine/client/kubelet_client.h
 * is the other end; engine/client/kubelet_auth.h how each trusts the
 * other).
 *
 *     GET /podlog/UID/CTR?role=current|previous&op=stat
 *         200, X-Size, X-Attempt (-1: no such log), X-Mtime (ns)
 *     GET ...&op=read&off=N&n=M        the bytes at N (at most M, 1 MiB)
 *     GET ...&op=times&off=N&n=M       "OFF NS STREAM\n" for the line at N
 *                                      and each line starting in N..N+M
 *     GET ...&op=since&ns=T            X-Since: podlog_since
 *     GET /exec/UID/CTR?ns=&pod=&tty=&in=&out=&err=&cmd=A&cmd=B...
 *         Upgrade: cfs-exec -> 101, then frames (engine/client/kstream.h)
 *     GET /portforward/UID?ns=&pod=&port=P
 *         Upgrade: cfs-portforward -> 101, then the connection's bytes
 *
 * Every answer has X-Size and X-Attempt.  A request without a valid
 * token: 401.  Files: DATA_DIR/kubelet/serving.{crt,key} (made at first
 * start, self-signed, kept).
 */
#ifndef CFS_KUBELET_KSERVER_H
#define CFS_KUBELET_KSERVER_H

#include "engine/err.h"

struct api_exec_provider;

struct kserver_opts {
	const char *node, *ip; /* this node's name and address */
	int port;	       /* 0: 10250 */
	const char *data_dir;
	const char *logs_dir;
	const char *ca_file; /* the cluster CA (PEM) the server's tokens are checked with */
	/* exec and port-forward (engine/api/api_exec.h; NULL: none) */
	const struct api_exec_provider *provider;
	void *provider_arg;
};

struct kserver;

int kserver_start(const struct kserver_opts *o, struct kserver **out, struct err **e);
/* The "sha256//BASE64" pin of its key (for the Node's annotation). */
const char *kserver_pin(const struct kserver *k);
int kserver_port(const struct kserver *k);
void kserver_stop(struct kserver *k); /* NULL ok */

/* The agent's settings from the command line (main.c), before
 * agent_start: its port (0: 10250) and the CA file (PEM) it trusts.
 * Without a CA no endpoint is served. */
void kserver_configure(int port, const char *ca_file);
void kserver_config(int *port, const char **ca_file);

#endif
