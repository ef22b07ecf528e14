/*
 * api_exec.c - see api_exec.h.  The providers are in a small table of
 * (api, node) keys under a read-write lock: calls hold it for reading, so
 * that unregistering (writing) waits for them.
 */
#include "engine/api/api_exec.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "engine/kind.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "engine/sobj.h"

#define PROVIDERS_MAX 256

static struct {
	struct api *api;
	char node[254];
	const struct api_exec_provider *p;
	void *arg;
} providers[PROVIDERS_MAX];
static pthread_rwlock_t providers_lock = PTHREAD_RWLOCK_INITIALIZER;
static const struct podlog_remote remote_logs;

/* The slot of (a, node), or -1.  Lock held. */
static int find_slot(struct api *a, const char *node)
{
	for (int i = 0; i < PROVIDERS_MAX; i++)
		if (providers[i].p && providers[i].api == a && !strcmp(providers[i].node, node))
			return i;
	return -1;
}

void api_exec_register(struct api *a, const char *node, const struct api_exec_provider *p,
		       void *arg)
{
	pthread_rwlock_wrlock(&providers_lock);
	int i = find_slot(a, node);
	for (int j = 0; i < 0 && j < PROVIDERS_MAX; j++)
		if (!providers[j].p)
			i = j;
	if (i >= 0) {
		providers[i].api = a;
		snprintf(providers[i].node, sizeof(providers[i].node), "%s", node);
		providers[i].p = p;
		providers[i].arg = arg;
	}
	pthread_rwlock_unlock(&providers_lock);
	if (p->log_open)
		podlog_set_remote(&remote_logs);
}

const struct api_exec_provider *api_exec_provider_of(struct api *a, const char *node)
{
	pthread_rwlock_rdlock(&providers_lock);
	int i = find_slot(a, node);
	const struct api_exec_provider *p = i >= 0 ? providers[i].p : NULL;
	pthread_rwlock_unlock(&providers_lock);
	return p;
}

void api_exec_unregister(struct api *a, const char *node)
{
	pthread_rwlock_wrlock(&providers_lock);
	int i = find_slot(a, node);
	if (i >= 0)
		memset(&providers[i], 0, sizeof(providers[i]));
	pthread_rwlock_unlock(&providers_lock);
}

/* Checks that pod can be reached on a node: 0 and its node, or the
 * apiserver's refusals. */
static int check_pod(const json_t *pod, const char *name, const char **node, struct err **e)
{
	const json_t *st = json_object_get(pod, "status");
	const char *phase = obj_str(st, "phase");
	*node = obj_str(json_object_get(pod, "spec"), "nodeName");
	if (phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed")))
		return err_make(
		    e, EINVAL,
		    "cannot exec into a container in a completed pod; current phase is %s", phase);
	if (!*node || !**node)
		return err_make(e, EAGAIN, "pod %s does not have a host assigned", name);
	return 0;
}

static bool has_container(const json_t *spec, const char *name)
{
	static const char *const lists[] = {"containers", "initContainers"};
	for (size_t l = 0; l < 2; l++) {
		size_t i;
		json_t *c;
		json_array_foreach(json_object_get(spec, lists[l]), i, c)
		{
			const char *n = obj_str(c, "name");
			if (n && !strcmp(n, name))
				return true;
		}
	}
	return false;
}

int api_pod_container(const json_t *pod, const char *name, const char *want, const char **ctr,
		      struct err **e)
{
	const json_t *spec = json_object_get(pod, "spec");
	if (want && *want) {
		if (!has_container(spec, want))
			return err_make(e, EINVAL, "container %s is not valid for pod %s", want,
					name);
		*ctr = want;
		return 0;
	}
	const json_t *cs = json_object_get(spec, "containers");
	if (json_array_size(cs) == 1) {
		*ctr = obj_str(json_array_get(cs, 0), "name");
		return *ctr ? 0 : err_make(e, EINVAL, "pod %s has no container", name);
	}
	struct buf names = {0};
	size_t i;
	json_t *c;
	json_array_foreach(cs, i, c)
	{
		const char *n = obj_str(c, "name");
		if (n)
			buf_printf(&names, "%s%s", names.len ? " " : "", n);
	}
	int r = err_make(e, EINVAL,
			 "a container name must be specified for pod %s, choose one of: [%s]", name,
			 names.s ? names.s : "");
	buf_free(&names);
	return r;
}

/* Finds pod ns/name and its node's provider; on 0 the read lock is held. */
static int locate(struct api *a, const char *ns, const char *name, struct sobj **pod, int *slot,
		  struct err **e)
{
	*pod = api_get(a, KIND_POD, ns, name);
	if (!*pod)
		return err_make(e, ENOENT, "pods \"%s\" not found", name);
	const char *node;
	int r = check_pod((*pod)->obj, name, &node, e);
	if (r < 0)
		goto fail;
	pthread_rwlock_rdlock(&providers_lock);
	*slot = find_slot(a, node);
	if (*slot >= 0)
		return 0;
	pthread_rwlock_unlock(&providers_lock);
	r = err_make(e, EHOSTUNREACH,
		     "error dialing backend: no node agent serves node %s (of pod %s)", node, name);
fail:
	sobj_unref(*pod);
	*pod = NULL;
	return r;
}

int api_exec_start(struct api *a, const struct api_exec_opts *o, struct api_exec_sess **s,
		   struct err **e)
{
	if (!o->argv || !o->argv[0])
		return err_make(e, EINVAL, "you must specify at least 1 command");
	struct sobj *pod;
	struct api_request rq = {"create", KIND_POD, o->ns, o->pod, "exec"};
	int slot, r = api_authorize(a, &rq, e);
	if (r == 0)
		r = locate(a, o->ns, o->pod, &pod, &slot, e);
	if (r < 0)
		return r;
	struct api_exec_opts oo = *o;
	oo.uid = obj_str(json_object_get(pod->obj, "metadata"), "uid");
	r = api_pod_container(pod->obj, o->pod, o->container, &oo.container, e);
	if (r == 0)
		r = providers[slot].p->exec(providers[slot].arg, &oo, s, e);
	pthread_rwlock_unlock(&providers_lock);
	sobj_unref(pod);
	return r;
}

int api_portforward(struct api *a, const char *ns, const char *pod, int port, int *fd,
		    struct err **e)
{
	if (port < 1 || port > 65535)
		return err_make(e, EINVAL, "invalid port %d", port);
	struct sobj *p;
	struct api_request rq = {"create", KIND_POD, ns, pod, "portforward"};
	int slot, r = api_authorize(a, &rq, e);
	if (r == 0)
		r = locate(a, ns, pod, &p, &slot, e);
	if (r < 0)
		return r;
	const char *uid = obj_str(json_object_get(p->obj, "metadata"), "uid");
	r = providers[slot].p->portforward(providers[slot].arg, ns, pod, uid ? uid : "", port, fd,
					   e);
	pthread_rwlock_unlock(&providers_lock);
	sobj_unref(p);
	return r;
}

/* Remote logs: "kubelet://NODE/UID/CTR" */

char *api_podlog_dir(struct api *a, const char *logs_dir, const json_t *pod, const char *ctr)
{
	const char *uid = obj_str(json_object_get(pod, "metadata"), "uid");
	char *dir = podlog_dir_new(logs_dir ? logs_dir : "/", uid, ctr);
	const char *node = obj_str(json_object_get(pod, "spec"), "nodeName");
	if (!dir || !node || !*node || strchr(node, '/'))
		goto local;
	pthread_rwlock_rdlock(&providers_lock);
	int i = find_slot(a, node);
	bool remote = i >= 0 && providers[i].p->log_open;
	pthread_rwlock_unlock(&providers_lock);
	if (remote) {
		free(dir);
		return xasprintf("%s%s/%s/%s", PODLOG_REMOTE_PREFIX, node, uid, ctr);
	}
local:
	if (!logs_dir) {
		free(dir);
		return NULL;
	}
	return dir;
}

/* Splits "NODE/UID/CTR" into its three parts (in buf); false when it is
 * not one. */
static bool split_where(const char *where, char *buf, size_t size, char **node, char **uid,
			char **ctr)
{
	snprintf(buf, size, "%s", where);
	*node = buf;
	*uid = strchr(buf, '/');
	if (!*uid)
		return false;
	*(*uid)++ = 0;
	*ctr = strchr(*uid, '/');
	if (!*ctr)
		return false;
	*(*ctr)++ = 0;
	return **node && **uid && **ctr && !strchr(*ctr, '/');
}

/* The slot of node for any api with a log provider; read lock held on
 * >= 0. */
static int log_slot(const char *node)
{
	pthread_rwlock_rdlock(&providers_lock);
	for (int i = 0; i < PROVIDERS_MAX; i++)
		if (providers[i].p && providers[i].p->log_open && !strcmp(providers[i].node, node))
			return i;
	pthread_rwlock_unlock(&providers_lock);
	return -1;
}

static struct podlog *remote_open(const char *where, enum podlog_role role)
{
	char buf[1024], *node, *uid, *ctr;
	if (!split_where(where, buf, sizeof(buf), &node, &uid, &ctr))
		return NULL;
	int i = log_slot(node);
	if (i < 0)
		return NULL;
	struct podlog *l = providers[i].p->log_open(providers[i].arg, uid, ctr, role);
	pthread_rwlock_unlock(&providers_lock);
	return l;
}

static int remote_stat(const char *where, enum podlog_role role, struct stat *st)
{
	char buf[1024], *node, *uid, *ctr;
	if (!split_where(where, buf, sizeof(buf), &node, &uid, &ctr))
		return -ENOENT;
	int i = log_slot(node);
	if (i < 0)
		return -ENOENT;
	int r = providers[i].p->log_stat(providers[i].arg, uid, ctr, role, st);
	pthread_rwlock_unlock(&providers_lock);
	return r;
}

static const struct podlog_remote remote_logs = {.open = remote_open, .stat = remote_stat};
