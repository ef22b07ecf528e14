/*
 * etcd_member.h - an etcd member for the unit tests that need one: on
 * loopback ports nothing else uses, its data and log in a folder of the
 * test's own, killed by PID (and with the test, by PR_SET_PDEATHSIG).
 *
 *     struct etcd_member m = {0};
 *     etcd_member_init(&m, tmpdir, "e1");
 *     etcd_member_start(&m, NULL);          // alone; or "a=URL,b=URL,..."
 *     CHECK(etcd_member_ready(&m, 15000));  // a linearizable read answered
 *     ... etcd_open(m.url) ...
 *     etcd_member_kill(&m);
 *
 * With m.tls, clients talk https with the certificates ca.crt, cert.crt and
 * cert.key of the parent folder and must present one (--client-cert-auth).
 */
#ifndef CFS_UNIT_ETCD_MEMBER_H
#define CFS_UNIT_ETCD_MEMBER_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/clock.h"
#include "engine/mem.h"
#include "engine/store/etcd.h"

#define ETCD_BIN "/usr/bin/etcd"

struct etcd_member {
	pid_t pid;
	int cport, pport;
	bool tls;
	const char *extra; /* one more flag, or NULL */
	char *name, *parent, *dir, *url;
};

/* A TCP port on 127.0.0.1 that nothing listens on now. */
static inline int unit_free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t n = sizeof(a);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &n) < 0) {
		perror("unit_free_port");
		exit(1);
	}
	close(fd);
	return ntohs(a.sin_port);
}

/* Names m, its ports and its data folder parent/name (set m->tls first). */
static inline void etcd_member_init(struct etcd_member *m, const char *parent, const char *name)
{
	m->name = xstrdup(name);
	m->parent = xstrdup(parent);
	m->dir = xasprintf("%s/%s", parent, name);
	m->cport = unit_free_port();
	m->pport = unit_free_port();
	m->url = xasprintf("%s://127.0.0.1:%d", m->tls ? "https" : "http", m->cport);
}

/* Starts m (again, on the same ports and data, after a kill); its log goes
 * to DIR.log.  initial_cluster NULL: a cluster of m alone. */
static inline void etcd_member_start(struct etcd_member *m, const char *initial_cluster)
{
	char purl[64];
	snprintf(purl, sizeof(purl), "http://127.0.0.1:%d", m->pport);
	char *logf = xasprintf("%s.log", m->dir), *alone = xasprintf("%s=%s", m->name, purl);
	char *caf = xasprintf("%s/ca.crt", m->parent), *certf = xasprintf("%s/cert.crt", m->parent),
	     *keyf = xasprintf("%s/cert.key", m->parent);
	const char *ic = initial_cluster ? initial_cluster : alone;
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlives the test */
		FILE *f = freopen(logf, "a", stderr);
		if (!f || dup2(2, 1) < 0)
			_exit(127);
		const char *args[40] = {"etcd",	    "--name",
					m->name,    "--data-dir",
					m->dir,	    "--listen-client-urls",
					m->url,	    "--advertise-client-urls",
					m->url,	    "--listen-peer-urls",
					purl,	    "--initial-advertise-peer-urls",
					purl,	    "--initial-cluster",
					ic,	    "--initial-cluster-token",
					"cfs-test", "--heartbeat-interval",
					"20",	    "--election-timeout",
					"200",	    "--experimental-watch-progress-notify-interval",
					"300ms",    "--log-level",
					"warn"};
		int n = 25;
		const char *tls[] = {"--cert-file",	  certf, "--key-file",	      keyf,
				     "--trusted-ca-file", caf,	 "--client-cert-auth"};
		for (size_t i = 0; m->tls && i < sizeof(tls) / sizeof(*tls); i++)
			args[n++] = tls[i];
		if (m->extra)
			args[n++] = m->extra;
		execv(ETCD_BIN, (char **)args);
		_exit(127);
	}
	free(logf);
	free(alone);
	free(caf);
	free(certf);
	free(keyf);
	m->pid = pid;
}

static inline void etcd_member_kill(struct etcd_member *m)
{
	if (m->pid <= 0)
		return;
	kill(m->pid, SIGKILL);
	waitpid(m->pid, NULL, 0);
	m->pid = 0;
}

/* Waits up to ms until m answers a linearizable read (its cluster has a
 * leader); a member on TLS is asked with the parent folder's certificates. */
static inline bool etcd_member_ready(struct etcd_member *m, int ms)
{
	char *caf = xasprintf("%s/ca.crt", m->parent), *certf = xasprintf("%s/cert.crt", m->parent),
	     *keyf = xasprintf("%s/cert.key", m->parent);
	struct etcd_opts o = {.endpoints = m->url, .timeout_ms = 500};
	if (m->tls) {
		o.ca_file = caf;
		o.cert_file = certf;
		o.key_file = keyf;
	}
	struct etcd *x = NULL;
	bool ok = false;
	if (etcd_open(&o, &x, NULL) == 0) {
		for (int64_t until = mono_ms() + ms; !ok && mono_ms() < until;) {
			struct etcd_kv *kvs;
			size_t n;
			ok = etcd_get(x, &(struct etcd_range){.key = "/", .key_len = 1}, &kvs, &n,
				      NULL, NULL, NULL) == 0;
			if (ok)
				etcd_kvs_free(kvs, n);
			else
				usleep(50 * 1000);
		}
		etcd_close(x);
	}
	free(caf);
	free(certf);
	free(keyf);
	return ok;
}

/* Frees what init gave m (after a kill). */
static inline void etcd_member_free(struct etcd_member *m)
{
	free(m->name);
	free(m->parent);
	free(m->dir);
	free(m->url);
	*m = (struct etcd_member){0};
}

#endif
