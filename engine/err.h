/*
 * err.h - the project's one error type.
 *
 * A failing function returns a negative errno and, when the caller passed
 * a non-NULL `struct err **`, fills *e with the errno and a message that
 * names the object.  Callers add context on the way up with err_wrap().
 * The FUSE edge turns an error into the errno it replies and a line in
 * /cluster/errors.
 *
 *     int f(..., struct err **e)
 *     {
 *             if (bad)
 *                     return err_make(e, EINVAL, "deployment %s: replicas must be >= 0", name);
 *     }
 */
#ifndef CFS_ERR_H
#define CFS_ERR_H

struct err {
	int code;  /* a positive errno: EINVAL, ENOENT, EBUSY, ... */
	char *msg; /* human readable, one line, no trailing newline */
};

/* Sets *e (freeing any earlier error there) and returns -code.
 * With e == NULL only returns -code.  Can't fail. */
int err_make(struct err **e, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prefixes "CONTEXT: " to the message in *e; returns -(*e)->code, or -EIO
 * when there is no error to wrap. */
int err_wrap(struct err **e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void err_free(struct err *e);

static inline void cleanup_errp(struct err **e)
{
	err_free(*e);
}
#define _cleanup_err_ __attribute__((cleanup(cleanup_errp)))

#endif
