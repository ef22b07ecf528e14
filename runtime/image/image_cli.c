/*
 * image_cli.c - `clusterfs image import|pull|rm|ls`.  See image_cli.h.
 */
#include "runtime/image/image_cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/mem.h"
#include "runtime/image/image.h"
#include "runtime/sys.h"

#define AUTH_FILE_MAX (1 << 20)

int registry_opts_add(struct registry_opts *o, int c, const char *arg)
{
	switch (c) {
	case REGISTRY_OPT_CERTS_DIR:
		o->certs_dir = arg;
		return 1;
	case REGISTRY_OPT_INSECURE:
		if (o->n_insecure == REGISTRY_OPTS_MAX || !*arg || strchr(arg, '/')) {
			fprintf(stderr, "clusterfs: --insecure-registry: HOST[:PORT], at most %d\n",
				REGISTRY_OPTS_MAX);
			return -1;
		}
		o->insecure[o->n_insecure++] = arg;
		return 1;
	case REGISTRY_OPT_MIRROR:
		if (o->n_mirrors == REGISTRY_OPTS_MAX || strncmp(arg, "docker.io=", 10) ||
		    (strncmp(arg + 10, "https://", 8) && strncmp(arg + 10, "http://", 7))) {
			fprintf(stderr,
				"clusterfs: --registry-mirror: docker.io=http[s]://HOST[:PORT], at "
				"most %d\n",
				REGISTRY_OPTS_MAX);
			return -1;
		}
		o->mirrors[o->n_mirrors++] = arg;
		return 1;
	default:
		return 0;
	}
}

void registry_opts_conf(const struct registry_opts *o, struct registry_conf *out)
{
	memset(out, 0, sizeof(*out));
	out->certs_dir = o->certs_dir;
	out->insecure = o->insecure;
	out->n_insecure = o->n_insecure;
	out->mirrors = o->mirrors;
	out->n_mirrors = o->n_mirrors;
}

struct cli {
	const char *data_dir, *creds, *auth_file;
	struct registry_opts reg;
	int first; /* of the positional arguments */
};

static int cli_parse(int argc, char **argv, struct cli *o)
{
	static const struct option longopts[] = {
	    {"data-dir", required_argument, NULL, 'd'},
	    {"creds", required_argument, NULL, 'c'},
	    {"auth-file", required_argument, NULL, 'a'},
	    REGISTRY_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:", longopts, NULL)) != -1) {
		int r = registry_opts_add(&o->reg, c, optarg);
		if (r < 0)
			return -1;
		if (r > 0)
			continue;
		if (c == 'd')
			o->data_dir = optarg;
		else if (c == 'c')
			o->creds = optarg;
		else if (c == 'a')
			o->auth_file = optarg;
		else
			return -1;
	}
	o->first = optind;
	return 0;
}

/* The credentials --creds or --auth-file give, or NULL. */
static int cli_creds(const struct cli *o, struct registry_creds **out, struct err **e)
{
	*out = NULL;
	if (o->creds)
		return registry_creds_basic(o->creds, out, e);
	if (!o->auth_file)
		return 0;
	FILE *f = fopen(o->auth_file, "r");
	if (!f)
		return err_make(e, errno, "%s: %s", o->auth_file, strerror(errno));
	_cleanup_free_ char *buf = xmalloc(AUTH_FILE_MAX);
	size_t n = fread(buf, 1, AUTH_FILE_MAX, f);
	fclose(f);
	int r = registry_creds_parse(buf, n, out, e);
	return r < 0 ? err_wrap(e, "%s", o->auth_file) : 0;
}

static int do_pull(struct image_store *is, const struct cli *o, const char *ref, struct err **e)
{
	struct registry_creds *creds = NULL;
	struct registry_conf conf;
	struct pull_info info;
	char name[IMAGE_REF_MAX];
	registry_opts_conf(&o->reg, &conf);
	int r = cli_creds(o, &creds, e);
	if (r == 0)
		r = registry_pull(is, ref, creds, &conf, &info, e);
	registry_creds_free(creds);
	if (r < 0 || image_normalize(ref, name, sizeof(name), e) < 0)
		return -1;
	printf("pulled %s %s %lld bytes in %.3fs (%lld downloaded)\n", name, info.digest,
	       (long long)info.size, info.seconds, (long long)info.downloaded);
	return 0;
}

static int do_ls(struct image_store *is, struct err **e)
{
	struct image_entry *list = NULL;
	size_t n = 0;
	if (image_list(is, &list, &n, e) < 0)
		return -1;
	printf("%-50s %-14s %s\n", "IMAGE", "DIGEST", "SIZE");
	for (size_t i = 0; i < n; i++)
		printf("%-50s %-14s %llu\n", list[i].ref, list[i].short_digest,
		       (unsigned long long)list[i].size);
	image_list_free(list, n);
	return 0;
}

static const char usage[] =
    "usage: clusterfs image import [--data-dir DIR] SOURCE NAME[:TAG]\n"
    "       clusterfs image pull [--data-dir DIR] [--creds USER:PASS | --auth-file FILE]\n"
    "                            [registry flags] REF\n"
    "       clusterfs image rm [--data-dir DIR] REF\n"
    "       clusterfs image ls [--data-dir DIR]\n"
    "registry flags:\n" REGISTRY_USAGE;

int image_cli_main(int argc, char **argv, const char *default_data_dir)
{
	struct cli o = {.data_dir = default_data_dir};
	if (argc < 2 || cli_parse(argc - 1, argv + 1, &o) < 0) {
		fputs(usage, stderr);
		return 2;
	}
	const char *sub = argv[1];
	int npos = argc - 1 - o.first;
	char **pos = argv + 1 + o.first;
	int want = !strcmp(sub, "import") ? 2 : !strcmp(sub, "ls") ? 0 : 1;
	if (npos != want || (strcmp(sub, "import") && strcmp(sub, "ls") && strcmp(sub, "pull") &&
			     strcmp(sub, "rm"))) {
		fputs(usage, stderr);
		return 2;
	}
	/* root's alone: image layers, pod filesystems, keys (issue 13) */
	int mk = mkdir_p(o.data_dir, 0700, NULL);
	if (mk == 0 && chmod(o.data_dir, 0700) < 0)
		mk = -errno;
	if (mk < 0) {
		fprintf(stderr, "clusterfs: %s: %s\n", o.data_dir, strerror(-mk));
		return 1;
	}
	struct err *e = NULL;
	struct image_store *is = NULL;
	int r = image_store_open(o.data_dir, &is, &e);
	char name[IMAGE_REF_MAX];
	int64_t freed = 0;
	if (r < 0) {
	} else if (!strcmp(sub, "import")) {
		r = image_import(is, pos[0], pos[1], &e);
		if (r == 0 && (r = image_normalize(pos[1], name, sizeof(name), &e)) == 0)
			printf("imported %s\n", name);
	} else if (!strcmp(sub, "pull")) {
		r = do_pull(is, &o, pos[0], &e);
	} else if (!strcmp(sub, "rm")) {
		r = image_remove(is, pos[0], &freed, &e);
		if (r == 0 && (r = image_normalize(pos[0], name, sizeof(name), &e)) == 0)
			printf("removed %s (%lld bytes freed)\n", name, (long long)freed);
	} else {
		r = do_ls(is, &e);
	}
	if (e)
		fprintf(stderr, "clusterfs: %s\n", e->msg);
	err_free(e);
	image_store_close(is);
	return r < 0 ? 1 : 0;
}
