/*
 * exec.h - the node agent's exec and port-forward provider
 * (engine/api/api_exec.h): `runc exec` in a pod's container, with pipes
 * or a terminal, and TCP connections made inside the pod's network
 * namespace.
 */
#ifndef CFS_KUBELET_EXEC_H
#define CFS_KUBELET_EXEC_H

struct agent;

/* Registers ag's provider for its node (agent_start), and drops it
 * (agent_stop, before the agent is freed). */
void agent_exec_register(struct agent *ag);
void agent_exec_unregister(struct agent *ag);

#endif
