/*
 * spawn.h - the attributes every helper process clusterfs starts gets
 * (runc, the CNI plugins, dnsmasq, a pod's pause process): no signal
 * blocked, every handler back to its default, and optionally a session of
 * its own, so that a Ctrl-C at the server's terminal does not reach it.
 */
#ifndef CFS_SPAWN_H
#define CFS_SPAWN_H

#include <signal.h>
#include <spawn.h>
#include <stdbool.h>

/* posix_spawnattr_init on attr, then the clean signal state above (and
 * POSIX_SPAWN_SETSID when setsid).  The caller destroys attr. */
static inline void spawn_attr_clean(posix_spawnattr_t *attr, bool setsid)
{
	sigset_t none, all;
	posix_spawnattr_init(attr);
	sigemptyset(&none);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	posix_spawnattr_setsigmask(attr, &none);
	posix_spawnattr_setsigdefault(attr, &all);
	posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					   (setsid ? POSIX_SPAWN_SETSID : 0));
}

#endif
