/*
 * agent_secctx.c - the node agent's pod-level refusals, as the kubelet
 * makes them: a pod with a sysctl outside the safe set is rejected at
 * admission (phase Failed, reason SysctlForbidden), and a pod whose
 * emptyDir holds more than its sizeLimit is evicted (phase Failed, reason
 * Evicted).  agent_sync.c stops what runs; this file decides.
 */
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "engine/valid/valid.h"
#include "runtime/kubelet/agent_int.h"

static void fail(struct agent *ag, struct apod *ap, const char *reason, const char *event_msg,
		 const char *status_msg)
{
	free(ap->fail_reason);
	free(ap->fail_msg);
	ap->fail_reason = xstrdup(reason);
	ap->fail_msg = xstrdup(status_msg);
	log_warn("agent", "%s/%s: %s: %s", ap->ns, ap->name, reason, event_msg);
	apic_event(ag->c, "Warning", reason, "Pod", ap->ns, ap->name, "%s", event_msg);
}

bool agent_pod_admit(struct agent *ag, struct apod *ap, const json_t *pod)
{
	struct err *e = NULL;
	if (ap->fail_reason)
		return false;
	if (oci_check_sysctls(pod, &e) == 0)
		return true;
	_cleanup_free_ char *msg = xasprintf("Pod was rejected: %s", e->msg);
	fail(ag, ap, "SysctlForbidden", e->msg, msg);
	err_free(e);
	return false;
}

/* du of a directory: the blocks its files hold, on its own filesystem. */
static __thread int64_t du_total;

static int du_entry(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)path, (void)type, (void)f;
	du_total += (int64_t)st->st_blocks * 512;
	return 0;
}

static int64_t du(const char *dir)
{
	du_total = 0;
	if (nftw(dir, du_entry, 16, FTW_PHYS | FTW_MOUNT) < 0)
		return -1;
	return du_total;
}

bool agent_pod_evict_check(struct agent *ag, struct apod *ap, const json_t *pod, int64_t *next)
{
	size_t i;
	json_t *v;
	bool any = false;

	if (ap->fail_reason || !ap->sb)
		return ap->fail_reason != NULL;
	json_array_foreach(obj_at(pod, "spec.volumes"), i, v)
	{
		const json_t *lim = obj_at(v, "emptyDir.sizeLimit");
		const char *medium = obj_str(v, "emptyDir.medium"), *name = obj_str(v, "name");
		int64_t milli = 0;
		/* a Memory one is a tmpfs of that size: it cannot hold more */
		if (!lim || !name || (medium && !strcmp(medium, "Memory")) ||
		    quantity_parse(lim, &milli, NULL) < 0 || milli <= 0)
			continue;
		any = true;
		_cleanup_free_ char *dir = xasprintf("%s/volumes/%s", ap->sb->dir, name);
		int64_t used = du(dir);
		if (used * 1000 <= milli)
			continue;
		_cleanup_free_ char *shown =
		    json_is_string(lim) ? xstrdup(json_string_value(lim))
					: xasprintf("%lld", (long long)json_integer_value(lim));
		_cleanup_free_ char *msg = xasprintf(
		    "Usage of EmptyDir volume \"%s\" exceeds the limit \"%s\". ", name, shown);
		fail(ag, ap, "Evicted", msg, msg);
		return true;
	}
	if (any && next && (*next == 0 || *next > AGENT_EVICT_CHECK_MS))
		*next = AGENT_EVICT_CHECK_MS;
	return false;
}
