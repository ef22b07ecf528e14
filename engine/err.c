/* err.c - see err.h. */
#include "engine/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/mem.h"

int err_make(struct err **e, int code, const char *fmt, ...)
{
	if (!e)
		return -code;
	err_free(*e);
	struct err *n = xmalloc(sizeof(*n));
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&n->msg, fmt, ap) < 0)
		n->msg = xstrdup(fmt);
	va_end(ap);
	n->code = code;
	*e = n;
	return -code;
}

int err_wrap(struct err **e, const char *fmt, ...)
{
	if (!e || !*e)
		return -EIO;
	char *ctx;
	va_list ap;
	va_start(ap, fmt);
	if (vasprintf(&ctx, fmt, ap) < 0)
		ctx = xstrdup(fmt);
	va_end(ap);
	char *msg = xasprintf("%s: %s", ctx, (*e)->msg);
	free(ctx);
	free((*e)->msg);
	(*e)->msg = msg;
	return -(*e)->code;
}

void err_free(struct err *e)
{
	if (!e)
		return;
	free(e->msg);
	free(e);
}
