/*
 * image_cli.h - `clusterfs image ...` and the registry flags that
 * `clusterfs server` and `clusterfs agent` share with it.
 */
#ifndef CFS_IMAGE_CLI_H
#define CFS_IMAGE_CLI_H

#include <stddef.h>

#include "runtime/image/registry.h"

/* getopt_long values of the registry flags (above any character). */
#define REGISTRY_OPT_CERTS_DIR 0x100 /* --registry-certs-dir DIR */
#define REGISTRY_OPT_INSECURE  0x101 /* --insecure-registry HOST:PORT */
#define REGISTRY_OPT_MIRROR    0x102 /* --registry-mirror docker.io=URL */
#define REGISTRY_OPTS_MAX      16    /* of each repeatable flag */

#define REGISTRY_LONGOPTS                                                                          \
	{"registry-certs-dir", required_argument, NULL, REGISTRY_OPT_CERTS_DIR},                   \
	    {"insecure-registry", required_argument, NULL, REGISTRY_OPT_INSECURE},                 \
	{                                                                                          \
		"registry-mirror", required_argument, NULL, REGISTRY_OPT_MIRROR                    \
	}

#define REGISTRY_USAGE                                                                             \
	"  --registry-certs-dir DIR\n"                                                             \
	"                   registries' CAs and client certs, DIR/HOST:PORT/{ca.crt,\n"            \
	"                   client.cert,client.key} (default " REGISTRY_CERTS_DIR ")\n"            \
	"  --insecure-registry HOST:PORT\n"                                                        \
	"                   a registry reached over plain HTTP (repeatable)\n"                     \
	"  --registry-mirror docker.io=URL\n"                                                      \
	"                   a mirror tried before Docker Hub (repeatable)\n"

/* The flags' values, borrowed from argv. */
struct registry_opts {
	const char *certs_dir;
	const char *insecure[REGISTRY_OPTS_MAX];
	size_t n_insecure;
	const char *mirrors[REGISTRY_OPTS_MAX];
	size_t n_mirrors;
};

/* Takes getopt's c and optarg: 1 when c is a registry flag (recorded), 0
 * when it is not, -1 (a message printed) when its value is bad. */
int registry_opts_add(struct registry_opts *o, int c, const char *arg);

/* The registry_conf the flags make (borrowing from o). */
void registry_opts_conf(const struct registry_opts *o, struct registry_conf *out);

/* `clusterfs image import|pull|rm|ls ...`: argv[0] is "image".  Returns
 * the exit status. */
int image_cli_main(int argc, char **argv, const char *default_data_dir);

#endif
