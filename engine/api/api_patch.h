/*
 * api_patch.h - read-modify-write of one object with the result handed
 * back: what a face's PATCH needs (the HTTP API's; the filesystem may use
 * it too).  Like api_patch(), the mutate callback runs inside the store
 * transaction on a deep copy of the current object, so nothing can change
 * the object between the read and the write.
 */
#ifndef CFS_API_PATCH_H
#define CFS_API_PATCH_H

#include "engine/api/api.h"

enum api_patch_flags {
	/* Write only the status the callback made (as api_update_status():
	 * not a user change, no validation of the spec); the rest of its
	 * changes are dropped. */
	API_PATCH_STATUS = 1,
};

/*
 * As api_patch(), but with flags, and *out (if non-NULL) gets the object
 * as stored after the call (written or unchanged).  The callback sees the
 * current object, metadata.resourceVersion included, so it can check a
 * precondition itself (returning -EBUSY).  Returns 1 if written, 0 if
 * nothing changed, or a negative errno (-ENOENT: absent).
 */
int api_patch_ex(struct api *a, const struct kind_info *k, const char *ns, const char *name,
		 api_mutate_fn mutate, void *arg, int flags, struct sobj **out, struct err **e);

#endif
