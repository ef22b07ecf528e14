/* kserver_int.h - between kserver.c and kserver_exec.c. */
#ifndef CFS_KUBELET_KSERVER_INT_H
#define CFS_KUBELET_KSERVER_INT_H

#include <microhttpd.h>

#include "engine/api/api_exec.h"
#include "engine/mem.h"
#include "runtime/kubelet/kserver.h"

struct kserver {
	struct MHD_Daemon *d;
	char *node, *logs_dir, *ca_pem, *cert, *key, *pin;
	int port;
	const struct api_exec_provider *p; /* exec and port-forward; NULL: none */
	void *parg;
};

/* Queues a plain answer with body (taken; NULL: none). */
enum MHD_Result kserver_answer(struct MHD_Connection *c, unsigned code, struct buf *body);
/* /exec/... and /portforward/...: kserver_exec.c. */
enum MHD_Result kserver_stream(struct kserver *k, struct MHD_Connection *c, const char *url);

#endif
