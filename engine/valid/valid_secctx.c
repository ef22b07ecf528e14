/*
 * valid_secctx.c - a container's securityContext rules (see valid_int.h).
 */
#include <string.h>

#include "engine/valid/valid_int.h"

/* A container's securityContext (sc may be NULL), with Kubernetes' rules
 * tying procMount to hostUsers and allowPrivilegeEscalation to
 * privileged and CAP_SYS_ADMIN. */
int vpod_sec_ctx(struct vc *c, bool host_users, const json_t *sc)
{
	static const char *const proc_mounts[] = {"Default", "Unmasked", NULL};
	const char *pm = NULL;
	if (!sc)
		return 0;
	size_t mark = vc_push(c, "securityContext");
	TRY(vc_enum(c, sc, "procMount", false, proc_mounts, &pm));
	if (pm && !strcmp(pm, "Unmasked") && host_users)
		return vc_invalid(c, "procMount", vget(sc, "procMount"),
				  "`hostUsers` must be false to use `Unmasked`");
	vc_pop(c, mark);
	if (!json_is_false(vget(sc, "allowPrivilegeEscalation")))
		return 0;
	if (json_is_true(vget(sc, "privileged")))
		return vc_invalid(c, "securityContext", sc,
				  "cannot set `allowPrivilegeEscalation` to false and `privileged` "
				  "to true");
	size_t i;
	json_t *cap;
	json_array_foreach(json_object_get(vget(sc, "capabilities"), "add"), i, cap)
	{
		if (json_is_string(cap) && !strcmp(json_string_value(cap), "CAP_SYS_ADMIN"))
			return vc_invalid(c, "securityContext", sc,
					  "cannot set `allowPrivilegeEscalation` to false and "
					  "`capabilities.Add` CAP_SYS_ADMIN");
	}
	return 0;
}
