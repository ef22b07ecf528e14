/* kubelet_client_int.h - between kubelet_client.c and kubelet_stream.c. */
#ifndef CFS_KUBELET_CLIENT_INT_H
#define CFS_KUBELET_CLIENT_INT_H

#include <pthread.h>

#include "engine/api/api_exec.h"
#include "engine/client/kubelet_client.h"

/* The argument of a registered provider: where node's agent is. */
struct rnode {
	struct kubelet_client *kc;
	char node[254];
	char base[128];	      /* https://IP:PORT */
	char pin[128];	      /* sha256//BASE64 of its key */
	pthread_mutex_t lock; /* stat_c */
	void *stat_c;	      /* a curl handle kept for log_stat (its connection reused) */
};

/* The Authorization header value for a request to rn's agent (caller
 * frees), or NULL. */
char *kubelet_client_auth(struct rnode *rn);

/* The provider's exec and port-forward through rn's agent
 * (kubelet_stream.c). */
int kubelet_remote_exec(void *rn, const struct api_exec_opts *o, struct api_exec_sess **out,
			struct err **e);
int kubelet_remote_portforward(void *rn, const char *ns, const char *pod, const char *uid, int port,
			       int *fd, struct err **e);

#endif
