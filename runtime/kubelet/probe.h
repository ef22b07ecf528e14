/*
 * probe.h - Kubernetes container probes (liveness, readiness, startup) for
 * the node agent: one attempt at a time, and prober workers that run them
 * on a schedule and report thresholded results, as the kubelet's do.
 *
 *     livenessProbe:  {httpGet: {path: /healthz, port: http}, periodSeconds: 5}
 *
 *     agent: prober_start(probe, container, PROBE_LIVENESS, &target, cb, ...)
 *     cb(arg, PROBE_LIVENESS, true,  "")                    first success
 *     cb(arg, PROBE_LIVENESS, false, "HTTP probe failed with statuscode: 500")
 *                                                          3rd failure in a row
 *
 * Handlers (the probe is a livenessProbe/readinessProbe/startupProbe object
 * as validation leaves it; defaults are applied again here when missing):
 *
 *   exec       oci_exec() of exec.command in the running container, killed
 *              after timeoutSeconds.  Exit 0 succeeds; any other exit, a
 *              timeout ("command \"sleep 5\" timed out") or a runc error
 *              (its message) fails.
 *   tcpSocket  a TCP connect() to host:port within timeoutSeconds; success
 *              when it connects (the socket is closed at once).
 *   httpGet    an HTTP/1.1 GET of path (default "/") with Host, Accept,
 *              "User-Agent: kube-probe/1.30", the probe's httpHeaders (a
 *              header of the same name replaces Host, Accept or
 *              User-Agent) and "Connection: close".  Only the status line
 *              is read: 200 <= code < 400 succeeds.  Redirects are not
 *              followed (a 3xx is a success).  The whole exchange is
 *              bounded by timeoutSeconds.  Scheme HTTPS is not supported
 *              (validation refuses it; here it fails).  grpc fails.
 *
 * host is httpGet.host / tcpSocket.host, else the target's pod IP, else
 * 127.0.0.1; a name is resolved with getaddrinfo() (not bounded by the
 * timeout).  port is a number, or the name of one of container.ports[]
 * (a string of digits that names no port is taken as a number).
 *
 * Network namespace: with netns_pid > 0, httpGet and tcpSocket run inside
 * /proc/NETNS_PID/ns/net.  A prober's thread enters it once for itself
 * (setns() moves only the calling thread); probe_once() runs such a probe
 * in a short-lived helper thread, so the caller's thread never changes
 * namespace.  Both need CAP_SYS_ADMIN.  exec probes ignore netns_pid (the
 * container is in its pod's namespaces already).
 *
 * Threads: probe_once() may be called from any thread.  Each prober has
 * one thread (256 KiB stack) and one mutex (struct prober, probe.c) that
 * guards only its stop flag; the callback is called from that thread
 * without the mutex held, one call at a time per prober.  A callback must
 * not call prober_stop() on its own prober (it would wait for itself).
 */
#ifndef CFS_PROBE_H
#define CFS_PROBE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "engine/err.h"
#include "runtime/kubelet/oci.h"

enum probe_kind { PROBE_LIVENESS, PROBE_READINESS, PROBE_STARTUP };

/* What one attempt gave. */
enum probe_result { PROBE_FAIL = 0, PROBE_OK = 1 };

/* Where a probe runs.  Borrowed by probe_once for the call; prober_start
 * copies the strings (the caller may free its own afterwards), and rt must
 * outlive the prober. */
struct probe_target {
	struct oci_runtime *rt;	  /* for exec probes; NULL: exec fails */
	const char *container_id; /* runc id of the running container (exec) */
	pid_t netns_pid;	  /* a process in the pod's network namespace;
				     0: this process's namespace */
	const char *pod_ip;	  /* default host of httpGet / tcpSocket;
				     NULL or "": 127.0.0.1 */
};

/* Short for log lines and events: "Liveness", "Readiness", "Startup". */
const char *probe_kind_name(enum probe_kind kind);

/* ---- One attempt ---- */

/*
 * Runs probe (a livenessProbe/readinessProbe/startupProbe object) once
 * against t, synchronously, within the probe's timeoutSeconds (plus the
 * time to resolve a host name, and to set up a namespace helper thread).
 * container is the container's spec, for named ports (may be NULL when
 * ports are numbers).  Returns PROBE_OK, or PROBE_FAIL with a one-line
 * reason in msg, worded as the kubelet's ("dial tcp 127.0.0.1:8080:
 * connect: connection refused", "HTTP probe failed with statuscode:
 * 500").  msg is "" on success; it is truncated to msglen and may be NULL
 * when msglen is 0.  Can't fail otherwise: a malformed probe, a missing
 * runtime or a namespace that cannot be entered is a PROBE_FAIL with its
 * reason.
 */
enum probe_result probe_once(const json_t *probe, const json_t *container,
			     const struct probe_target *t, char *msg, size_t msglen);

/* ---- Prober workers ---- */

struct prober;

/*
 * Called with each new thresholded result of a prober: ok, and the reason
 * of the attempt that decided it ("" on success).  msg is lent for the
 * call.  See prober_start for when it is called.
 */
typedef void (*probe_cb)(void *arg, enum probe_kind kind, bool ok, const char *msg);

/*
 * Starts a worker for one probe of one container attempt, as the
 * kubelet's prober workers do.  probe and container are copied (the
 * caller keeps its own), so are t's strings.  As the kubelet, the agent
 * starts the liveness and readiness workers of a container that has a
 * startupProbe only once that probe has succeeded, and a new set of
 * workers for each restart.  The worker:
 *
 *   - waits initialDelaySeconds, then runs probe_once at once and every
 *     periodSeconds after (an attempt that overruns the period makes the
 *     next start at the following tick);
 *   - counts consecutive equal results: the thresholded result becomes a
 *     success after successThreshold successes in a row, a failure after
 *     failureThreshold failures in a row.  Before that it is the initial
 *     one: success for liveness, failure for readiness and startup;
 *   - calls cb when the thresholded result is first decided (even when
 *     it equals the initial one) and whenever it changes after that;
 *   - stops probing (and waits for prober_stop) after a liveness or
 *     startup failure (the container is to be restarted: a new attempt
 *     gets a new prober) and after a startup success.
 *
 * Returns 0 and *out, or a negative errno with *e and *out NULL: -EINVAL
 * for a probe without a handler, -ESRCH (or the errno of open) when
 * /proc/NETNS_PID/ns/net cannot be opened, the errno of setns() (EPERM
 * without CAP_SYS_ADMIN) when the worker cannot enter it, the errno of
 * pthread_create.  No callback has been made then.
 */
int prober_start(const json_t *probe, const json_t *container, enum probe_kind kind,
		 const struct probe_target *t, probe_cb cb, void *arg, struct prober **out,
		 struct err **e);

/*
 * Stops p's worker and frees p.  The worker is woken at once, in its wait
 * as well as in an httpGet or tcpSocket attempt; an exec attempt in
 * progress is waited for (timeoutSeconds at most).  No callback runs once
 * this returns.  NULL is fine.  Not from p's own callback.
 */
void prober_stop(struct prober *p);

#endif
