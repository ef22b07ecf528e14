/*
 * image_cli.c - `clusterfs image import|pull|rm|ls`.  See image_cli.h.
 */
#include "runtime/image/image_cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine/mem.h"
#include "runtime/image/image.h"
#include "runtime/image/image_gc.h"
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
	bool force; /* rm: even an image a pod uses */
	struct image_gc_conf gc;
	struct registry_opts reg;
	int first; /* of the positional arguments */
};

static int cli_parse(int argc, char **argv, struct cli *o)
{
	static const struct option longopts[] = {
	    {"data-dir", required_argument, NULL, 'd'},
	    {"creds", required_argument, NULL, 'c'},
	    {"auth-file", required_argument, NULL, 'a'},
	    {"force", no_argument, NULL, 'f'},
	    REGISTRY_LONGOPTS,
	    IMAGE_GC_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "d:f", longopts, NULL)) != -1) {
		int r = registry_opts_add(&o->reg, c, optarg);
		if (r == 0)
			r = image_gc_opts_add(&o->gc, c, optarg);
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
		else if (c == 'f')
			o->force = true;
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

/* "ns/a,ns/b" (the first few, then "+N"), or "-" for none. */
static void users_col(const struct image_entry *it, char *out, size_t n)
{
	size_t off = 0;
	snprintf(out, n, "-");
	for (size_t j = 0; j < it->n_used_by; j++) {
		size_t len = strlen(it->used_by[j]);
		if (off + len + 8 > n || (j == 3 && it->n_used_by > 4)) {
			snprintf(out + off, n - off, "%s+%zu", off ? "," : "", it->n_used_by - j);
			return;
		}
		off += snprintf(out + off, n - off, "%s%s", off ? "," : "", it->used_by[j]);
	}
}

static int do_ls(struct image_store *is, struct err **e)
{
	struct image_entry *list = NULL;
	size_t n = 0;
	if (image_list(is, &list, &n, e) < 0)
		return -1;
	printf("%-50s %-14s %-10s %-8s %s\n", "IMAGE", "DIGEST", "SIZE", "ORIGIN", "USED BY");
	for (size_t i = 0; i < n; i++) {
		char users[160];
		users_col(&list[i], users, sizeof(users));
		printf("%-50s %-14s %-10llu %-8s %s\n", list[i].ref, list[i].short_digest,
		       (unsigned long long)list[i].size,
		       list[i].rec.origin == IMAGE_PULLED ? "pulled" : "imported", users);
	}
	image_list_free(list, n);
	return 0;
}

/* rm: refused (-EBUSY, the pods named) while a pod on the node uses ref,
 * unless --force. */
static int do_rm(struct image_store *is, const struct cli *o, const char *ref, struct err **e)
{
	char name[IMAGE_REF_MAX], **pods = NULL;
	size_t np = 0;
	int64_t freed = 0;
	int r = image_normalize(ref, name, sizeof(name), e);
	if (r == 0 && (r = image_users_of(is, name, &pods, &np, e)) == 0 && np && !o->force) {
		struct buf b = {0};
		for (size_t i = 0; i < np; i++)
			buf_printf(&b, "%s%s", i ? ", " : "", pods[i]);
		_cleanup_free_ char *list = buf_steal(&b, NULL);
		r = err_make(e, EBUSY,
			     "image %s is in use by %s %s on this node (remove %s first, or use "
			     "--force)",
			     name, np == 1 ? "pod" : "pods", list, np == 1 ? "it" : "them");
	}
	for (size_t i = 0; i < np; i++)
		free(pods[i]);
	free(pods);
	if (r < 0 || (r = image_remove(is, name, &freed, e)) < 0)
		return r;
	printf("removed %s (%lld bytes freed)%s\n", name, (long long)freed,
	       np ? " though pods use it (--force): their layers stay until they end" : "");
	return 0;
}

/* One garbage collection pass, now (no minimum age: asked for). */
static int do_gc(struct image_store *is, const struct cli *o, struct err **e)
{
	struct image_gc_conf c = o->gc;
	struct image_gc_result r;
	c.min_age_s = -1;
	if (image_gc_conf_check(&c, e) < 0)
		return -1;
	int rc = image_gc(is, &c, &r, e);
	printf("disk %d%% used; %zu images removed, %lld bytes freed\n", r.usage, r.removed,
	       (long long)r.freed);
	return rc < 0 ? -1 : 0;
}

static const char usage[] =
    "usage: clusterfs image import [--data-dir DIR] SOURCE NAME[:TAG]\n"
    "       clusterfs image pull [--data-dir DIR] [--creds USER:PASS | --auth-file FILE]\n"
    "                            [registry flags] REF\n"
    "       clusterfs image rm [--data-dir DIR] [--force] REF\n"
    "       clusterfs image ls [--data-dir DIR]\n"
    "       clusterfs image gc [--data-dir DIR] [--image-gc-high-threshold PERCENT]\n"
    "                          [--image-gc-low-threshold PERCENT]\n"
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
	int want = !strcmp(sub, "import") ? 2 : !strcmp(sub, "ls") || !strcmp(sub, "gc") ? 0 : 1;
	if (npos != want || (strcmp(sub, "import") && strcmp(sub, "ls") && strcmp(sub, "pull") &&
			     strcmp(sub, "rm") && strcmp(sub, "gc"))) {
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
	if (r < 0) {
	} else if (!strcmp(sub, "import")) {
		r = image_import(is, pos[0], pos[1], &e);
		if (r == 0 && (r = image_normalize(pos[1], name, sizeof(name), &e)) == 0)
			printf("imported %s\n", name);
	} else if (!strcmp(sub, "pull")) {
		r = do_pull(is, &o, pos[0], &e);
	} else if (!strcmp(sub, "rm")) {
		r = do_rm(is, &o, pos[0], &e);
	} else if (!strcmp(sub, "gc")) {
		r = do_gc(is, &o, &e);
	} else {
		r = do_ls(is, &e);
	}
	if (e)
		fprintf(stderr, "clusterfs: %s\n", e->msg);
	err_free(e);
	image_store_close(is);
	return r < 0 ? 1 : 0;
}
