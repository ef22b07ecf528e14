/*
 * env.h - a fresh store and API in a temporary dir, for the unit tests of
 * the components that sit on the API (controllers, node agents).
 *
 *     env_up("hollow");  ... api ... st ...  env_down();
 */
#ifndef CFS_TEST_ENV_H
#define CFS_TEST_ENV_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/api/api.h"
#include "engine/client/apic.h"
#include "engine/store/store.h"
#include "engine/mem.h"
#include "engine/valid/codec.h"
#include "tests/unit/apply.h"

static char *dir;
static struct store *st;
static struct api *api;
static struct apic *apic; /* the in-process client on api, for node roles */

/* Opens a store and an API under /tmp/cfs-test-NAME.XXXXXX; exits on failure. */
static inline void env_up(const char *name)
{
	char *tmpl = xasprintf("/tmp/cfs-test-%s.XXXXXX", name);
	if (!mkdtemp(tmpl)) {
		perror("mkdtemp");
		exit(1);
	}
	dir = tmpl;
	char *db = xasprintf("%s/state.db", dir);
	struct err *e = NULL;
	if (store_open(db, &st, &e) < 0 || api_new(st, &api, &e) < 0) {
		fprintf(stderr, "setup: %s\n", e ? e->msg : "?");
		exit(1);
	}
	apic = apic_local_new(api);
	free(db);
}

/* Closes both and removes the dir. */
static inline void env_down(void)
{
	apic_free(apic);
	api_free(api);
	store_close(st);
	char *cmd = xasprintf("rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", dir);
	free(cmd);
	free(dir);
}

/* Applies a YAML document stream through the API, as `kubectl apply -f`;
 * api_apply's result, the reason on stderr when refused. */
static inline int env_apply(const char *yaml)
{
	return apply_yaml(api, yaml);
}

/* Polls cond every 10 ms for up to ms; true once it holds. */
#define WAIT_FOR(cond, ms)                                                                         \
	({                                                                                         \
		bool ok_ = false;                                                                  \
		for (int t_ = 0; t_ <= (ms) / 10; t_++) {                                          \
			if (cond) {                                                                \
				ok_ = true;                                                        \
				break;                                                             \
			}                                                                          \
			usleep(10000);                                                             \
		}                                                                                  \
		ok_;                                                                               \
	})

static inline const struct kind_info *K(const char *kind)
{
	return kind_by_kind(kind);
}

#endif
