/*
 * kubelet_client.h - the control plane's side of the node agents'
 * endpoints (runtime/kubelet/kserver.h): for every Node that publishes
 * one (its annotations KUBELET_PIN_ANNOTATION and KUBELET_PORT_ANNOTATION,
 * its InternalIP) and has no provider in this process, registers a
 * provider (engine/api/api_exec.h) whose log_open/log_stat read the
 * pod's logs from the agent over HTTPS (libcurl, the agent's key pinned,
 * a token the CA signs: engine/client/kubelet_auth.h).  So `kubectl logs`
 * and /cluster/pods/P/logs read a remote pod's logs through its agent,
 * and local pods from their files as before.
 *
 * A watcher thread looks at the Nodes every second.  exec and
 * port-forward through the agent: not yet (-ENOTSUP).
 */
#ifndef CFS_KUBELET_CLIENT_H
#define CFS_KUBELET_CLIENT_H

#include "engine/api/api.h"
#include "engine/err.h"

struct kubelet_client;

/* Starts the watcher; ca_key_file: DATA_DIR/pki/ca.key (signs tokens). */
int kubelet_client_start(struct api *a, const char *ca_key_file, struct kubelet_client **out,
			 struct err **e);
/* Stops it and unregisters its providers.  NULL ok. */
void kubelet_client_stop(struct kubelet_client *kc);

#endif
