/*
 * apply.h - a YAML document stream applied through an API, as `kubectl
 * apply -f` does, for the unit tests that set up their own store and API
 * (env.h's env_apply() is this on env.h's API).
 */
#ifndef CFS_TEST_APPLY_H
#define CFS_TEST_APPLY_H

#include <stdio.h>
#include <string.h>

#include "engine/api/api.h"
#include "engine/err.h"
#include "engine/valid/codec.h"

/* api_apply's result; the reason on stderr when refused. */
static inline int apply_yaml(struct api *a, const char *yaml)
{
	json_t **docs;
	size_t n;
	struct err *e = NULL;
	int r = codec_decode(yaml, strlen(yaml), &docs, &n, &e);
	if (r >= 0)
		r = api_apply(a, docs, n, NULL, &e);
	if (r < 0)
		fprintf(stderr, "  apply: %s\n", e ? e->msg : "?");
	codec_docs_free(docs, n);
	err_free(e);
	return r;
}

#endif
