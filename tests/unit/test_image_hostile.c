/*
 * test_image_hostile.c - a hostile image corpus against the image store:
 * each image is an OCI layout whose layer this test writes with
 * libarchive, and each is refused or neutralised, with nothing written
 * outside the store's layer dir:
 *
 *   setuid/setgid files       kept, as Docker keeps them (docs/security.md)
 *   device nodes              not made
 *   file capabilities         security.* and trusted.* xattrs dropped
 *   hard link escapes         refused: "..", absolute, through a symlink
 *   writes through a symlink  refused
 *   a gzip bomb               refused (EFBIG) at its header, quickly
 *   too many entries          refused (EFBIG)
 *   a wrong diff_id           refused, for a new layer and a known one
 *   no diff_ids               refused
 */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <nettle/base16.h>
#include <nettle/sha2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "engine/mem.h"
#include "runtime/image/image.h"
#include "tests/unit/unit.h"

static char *tmp;     /* everything of this test */
static char *outside; /* a dir the layers aim at: must stay as it is */

/* One entry of a layer: type f (file), d (dir), l (symlink), h (hard
 * link), c or b (device); arg is the data, the link target or "MAJ:MIN". */
struct ent {
	char type;
	const char *path;
	const char *arg;
	int mode;
	const char *xattr; /* "NAME=VALUE" or NULL */
};

static void sha256_hex(const void *data, size_t n, char hex[65])
{
	struct sha256_ctx c;
	uint8_t md[SHA256_DIGEST_SIZE];

	sha256_init(&c);
	sha256_update(&c, n, data);
	sha256_digest(&c, sizeof(md), md);
	base16_encode_update(hex, sizeof(md), md);
	hex[64] = '\0';
}

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	struct buf b = {0};
	char chunk[65536];
	size_t k;

	while (f && (k = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, k);
	if (f)
		fclose(f);
	return buf_steal(&b, n);
}

/* Writes one entry to the tar a. */
static void tar_entry(struct archive *a, const struct ent *x)
{
	struct archive_entry *e = archive_entry_new();
	size_t n = x->type == 'f' && x->arg ? strlen(x->arg) : 0;

	archive_entry_set_pathname(e, x->path);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, 1700000000, 0);
	archive_entry_set_perm(e, x->mode ? x->mode : 0644);
	switch (x->type) {
	case 'd':
		archive_entry_set_filetype(e, AE_IFDIR);
		archive_entry_set_perm(e, x->mode ? x->mode : 0755);
		break;
	case 'l':
		archive_entry_set_filetype(e, AE_IFLNK);
		archive_entry_set_symlink(e, x->arg);
		break;
	case 'h':
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_hardlink(e, x->arg);
		break;
	case 'c':
	case 'b':
		archive_entry_set_filetype(e, x->type == 'c' ? AE_IFCHR : AE_IFBLK);
		archive_entry_set_rdevmajor(e, atoi(x->arg));
		archive_entry_set_rdevminor(e, atoi(strchr(x->arg, ':') + 1));
		break;
	default:
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_size(e, (la_int64_t)n);
	}
	if (x->xattr) {
		const char *eq = strchr(x->xattr, '=');
		char *name = xstrndup(x->xattr, eq - x->xattr);
		archive_entry_xattr_add_entry(e, name, eq + 1, strlen(eq + 1));
		free(name);
	}
	archive_write_header(a, e);
	if (n)
		archive_write_data(a, x->arg, n);
	archive_entry_free(e);
}

/* Writes a big file of zeros (bytes) to the tar a: the bomb's payload. */
static void tar_zeros(struct archive *a, const char *path, int64_t bytes)
{
	struct archive_entry *e = archive_entry_new();
	char *z = xcalloc(1, 1 << 20);

	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, bytes);
	archive_write_header(a, e);
	for (int64_t left = bytes; left > 0; left -= 1 << 20)
		archive_write_data(a, z, left < (1 << 20) ? (size_t)left : 1 << 20);
	archive_entry_free(e);
	free(z);
}

/* Puts data into the layout's blobs; the descriptor's digest into hex. */
static json_t *put_blob(const char *dir, const void *data, size_t n, const char *mt)
{
	char hex[65];
	sha256_hex(data, n, hex);
	char *path = xasprintf("%s/blobs/sha256/%s", dir, hex);
	FILE *f = fopen(path, "wb");
	if (f) {
		fwrite(data, 1, n, f);
		fclose(f);
	}
	free(path);
	char *digest = xasprintf("sha256:%s", hex);
	json_t *d =
	    json_pack("{s:s, s:s, s:I}", "mediaType", mt, "digest", digest, "size", (json_int_t)n);
	free(digest);
	return d;
}

static json_t *put_json(const char *dir, json_t *v, const char *mt)
{
	char *s = json_dumps(v, JSON_COMPACT);
	json_t *d = put_blob(dir, s, strlen(s), mt);
	free(s);
	json_decref(v);
	return d;
}

struct layer_opts {
	bool gzip;
	int64_t zeros;	     /* a file of this many zero bytes, first */
	int files;	     /* this many small files, first */
	const char *diff_id; /* instead of the right one ("" for none) */
};

/* Makes the OCI layout tmp/NAME of one layer holding ents; its path. */
static char *mk_layout(const char *name, const struct ent *ents, const struct layer_opts *o)
{
	char *dir = xasprintf("%s/%s", tmp, name);
	char *blobs = xasprintf("%s/blobs/sha256", dir);
	char *cmd = xasprintf("mkdir -p %s", blobs);
	if (system(cmd) != 0)
		fprintf(stderr, "  %s failed\n", cmd);
	char *tarpath = xasprintf("%s/layer.tar", tmp);
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	archive_write_open_filename(a, tarpath);
	if (o->zeros)
		tar_zeros(a, "bomb", o->zeros);
	for (int i = 0; i < o->files; i++) {
		char p[32];
		snprintf(p, sizeof(p), "f%d", i);
		tar_entry(a, &(struct ent){'f', p, "x", 0, NULL});
	}
	for (const struct ent *x = ents; x && x->type; x++)
		tar_entry(a, x);
	archive_write_close(a);
	archive_write_free(a);

	size_t n;
	char *tar = slurp(tarpath, &n), diff[65];
	sha256_hex(tar, n, diff);
	json_t *ldesc;
	if (o->gzip) {
		char *gzpath = xasprintf("%s/layer.tar.gz", tmp);
		gzFile gz = gzopen(gzpath, "wb1");
		for (size_t off = 0; off < n; off += 1 << 20)
			gzwrite(gz, tar + off, n - off < (1 << 20) ? (unsigned)(n - off) : 1 << 20);
		gzclose(gz);
		size_t gn;
		char *g = slurp(gzpath, &gn);
		ldesc = put_blob(dir, g, gn, "application/vnd.oci.image.layer.v1.tar+gzip");
		free(g);
		unlink(gzpath);
		free(gzpath);
	} else {
		ldesc = put_blob(dir, tar, n, "application/vnd.oci.image.layer.v1.tar");
	}
	free(tar);
	unlink(tarpath);
	char *did = xasprintf("sha256:%s", o->diff_id ? o->diff_id : diff);
	json_t *rootfs = json_pack("{s:s}", "type", "layers");
	if (!o->diff_id || o->diff_id[0])
		json_object_set_new(rootfs, "diff_ids", json_pack("[s]", did));
	free(did);
	json_t *conf = put_json(
	    dir,
	    json_pack("{s:s, s:s, s:o}", "architecture", "amd64", "os", "linux", "rootfs", rootfs),
	    "application/vnd.oci.image.config.v1+json");
	json_t *man = put_json(dir,
			       json_pack("{s:i, s:s, s:o, s:[o]}", "schemaVersion", 2, "mediaType",
					 "application/vnd.oci.image.manifest.v1+json", "config",
					 conf, "layers", ldesc),
			       "application/vnd.oci.image.manifest.v1+json");
	json_t *index = json_pack("{s:i, s:[o]}", "schemaVersion", 2, "manifests", man);
	char *ipath = xasprintf("%s/index.json", dir), *opath = xasprintf("%s/oci-layout", dir);
	json_dump_file(index, ipath, 0);
	json_t *ol = json_pack("{s:s}", "imageLayoutVersion", "1.0.0");
	json_dump_file(ol, opath, 0);
	json_decref(ol);
	json_decref(index);
	free(ipath);
	free(opath);
	free(cmd);
	free(blobs);
	return dir;
}

static struct image_store *store;

/* The one layer dir of image ref (caller frees), or NULL. */
static char *layer_of(const char *ref)
{
	struct image_info *info = NULL;
	char *dir = NULL;

	if (image_resolve(store, ref, &info, NULL) == 0 && info->n_layers == 1)
		dir = xstrdup(info->layers[0]);
	image_info_free(info);
	return dir;
}

/* Entries in dir (not . and ..), or -1. */
static int count(const char *dir)
{
	char *cmd = xasprintf("ls -A %s | wc -l", dir);
	FILE *p = popen(cmd, "r");
	int n = -1;

	if (p && fscanf(p, "%d", &n) != 1)
		n = -1;
	if (p)
		pclose(p);
	free(cmd);
	return n;
}

/* Imports layout as ref: 0 or -errno, the message printed. */
static int import(const char *layout, const char *ref)
{
	struct err *e = NULL;
	int r = image_import(store, layout, ref, &e);

	printf("  %s: %s\n", ref, r == 0 ? "imported" : e->msg);
	err_free(e);
	return r;
}

/* No temporary left in the layer store, nothing added outside. */
static void nothing_left(void)
{
	char *layers = xasprintf("%s/data/images/layers", tmp);
	char *cmd = xasprintf("ls -A %s | grep -c tmp", layers);
	FILE *p = popen(cmd, "r");
	int n = -1;
	if (p && fscanf(p, "%d", &n) != 1)
		n = -1;
	if (p)
		pclose(p);
	CHECK(n == 0);
	CHECK(count(outside) == 1);
	free(cmd);
	free(layers);
}

static void test_setuid_kept(void)
{
	static const struct ent ents[] = {
	    {'d', "bin", NULL, 0, NULL},
	    {'f', "bin/su", "#!/bin/sh\n", 04755, NULL},
	    {'f', "bin/wall", "#!/bin/sh\n", 02755, NULL},
	    {0},
	};
	char *l = mk_layout("setuid", ents, &(struct layer_opts){.gzip = true});
	CHECK(import(l, "hostile:setuid") == 0);
	char *dir = layer_of("hostile:setuid");
	struct stat st;
	char *p = dir ? xasprintf("%s/bin/su", dir) : NULL;
	CHECK(p && stat(p, &st) == 0 && (st.st_mode & 07777) == 04755);
	free(p);
	p = dir ? xasprintf("%s/bin/wall", dir) : NULL;
	CHECK(p && stat(p, &st) == 0 && (st.st_mode & 07777) == 02755);
	free(p);
	free(dir);
	free(l);
	nothing_left();
}

static void test_devices_not_made(void)
{
	static const struct ent ents[] = {
	    {'d', "dev", NULL, 0, NULL},	 {'c', "dev/mem", "1:1", 0600, NULL},
	    {'b', "dev/sda", "8:0", 0660, NULL}, {'c', "fake-whiteout", "0:0", 0, NULL},
	    {'f', "etc-ok", "fine\n", 0, NULL},	 {0},
	};
	char *l = mk_layout("devices", ents, &(struct layer_opts){.gzip = false});
	CHECK(import(l, "hostile:devices") == 0);
	char *dir = layer_of("hostile:devices");
	struct stat st;
	char *p = dir ? xasprintf("%s/dev/mem", dir) : NULL;
	CHECK(p && lstat(p, &st) < 0 && errno == ENOENT);
	free(p);
	p = dir ? xasprintf("%s/dev/sda", dir) : NULL;
	CHECK(p && lstat(p, &st) < 0 && errno == ENOENT);
	free(p);
	p = dir ? xasprintf("%s/fake-whiteout", dir) : NULL;
	CHECK(p && lstat(p, &st) < 0 && errno == ENOENT);
	free(p);
	p = dir ? xasprintf("%s/etc-ok", dir) : NULL;
	CHECK(p && lstat(p, &st) == 0 && S_ISREG(st.st_mode));
	free(p);
	free(dir);
	free(l);
	nothing_left();
}

static void test_capabilities_dropped(void)
{
	static const struct ent ents[] = {
	    {'f', "ping", "elf\n", 0755, "security.capability=\x01\x00\x00\x02\x00\x20"},
	    {'f', "t", "x\n", 0644, "trusted.evil=1"},
	    {'f', "u", "x\n", 0644, "user.keep=yes"},
	    {0},
	};
	char *l = mk_layout("caps", ents, &(struct layer_opts){.gzip = true});
	CHECK(import(l, "hostile:caps") == 0);
	char *dir = layer_of("hostile:caps");
	char v[64];
	char *p = dir ? xasprintf("%s/ping", dir) : NULL;
	CHECK(p && lgetxattr(p, "security.capability", v, sizeof(v)) < 0 && errno == ENODATA);
	free(p);
	p = dir ? xasprintf("%s/t", dir) : NULL;
	CHECK(p && lgetxattr(p, "trusted.evil", v, sizeof(v)) < 0 && errno == ENODATA);
	free(p);
	p = dir ? xasprintf("%s/u", dir) : NULL;
	ssize_t n = p ? lgetxattr(p, "user.keep", v, sizeof(v)) : -1;
	CHECK(n == 3 && !memcmp(v, "yes", 3));
	free(p);
	free(dir);
	free(l);
	nothing_left();
}

static void test_link_escapes(void)
{
	char *up = xasprintf("../../../../../../../../..%s/secret", outside);
	char *abs = xasprintf("%s/secret", outside);
	const struct ent dotdot[] = {{'h', "hl", up, 0, NULL}, {0}};
	const struct ent absolute[] = {{'h', "hl", abs, 0, NULL}, {0}};
	const struct ent via_symlink[] = {
	    {'l', "lnk", outside, 0, NULL}, {'h', "hl", "lnk/secret", 0, NULL}, {0}};
	const struct ent write_through[] = {
	    {'l', "lnk", outside, 0, NULL}, {'f', "lnk/planted", "x\n", 0, NULL}, {0}};
	const struct ent to_dir[] = {{'d', "d", NULL, 0, NULL}, {'h', "hl", "d", 0, NULL}, {0}};
	const struct {
		const char *name;
		const struct ent *ents;
	} cases[] = {
	    {"dotdot", dotdot},		  {"absolute", absolute},
	    {"via-symlink", via_symlink}, {"write-through", write_through},
	    {"to-dir", to_dir},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *ref = xasprintf("hostile:%s", cases[i].name);
		char *l =
		    mk_layout(cases[i].name, cases[i].ents, &(struct layer_opts){.gzip = true});
		CHECK(import(l, ref) == -EINVAL);
		CHECK(layer_of(ref) == NULL);
		free(ref);
		free(l);
		nothing_left();
	}
	/* the secret is as it was: not linked (its link count), not changed */
	struct stat st;
	CHECK(stat(abs, &st) == 0 && st.st_nlink == 1 && st.st_size == 7);
	free(up);
	free(abs);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_bombs(void)
{
	/* 256 MiB of zeros, about 250 KiB gzip'ed, against a 32 MiB limit */
	image_store_set_limits(store, 32 << 20, 1000);
	char *l =
	    mk_layout("gzip-bomb", NULL, &(struct layer_opts){.gzip = true, .zeros = 256LL << 20});
	double t0 = now_s();
	CHECK(import(l, "hostile:gzip-bomb") == -EFBIG);
	double dt = now_s() - t0;
	printf("  gzip bomb refused in %.2f s\n", dt);
	CHECK(dt < 5);
	CHECK(layer_of("hostile:gzip-bomb") == NULL);
	free(l);
	nothing_left();
	l = mk_layout("entries-bomb", NULL, &(struct layer_opts){.gzip = true, .files = 1500});
	CHECK(import(l, "hostile:entries-bomb") == -EFBIG);
	free(l);
	nothing_left();
	image_store_set_limits(store, IMAGE_MAX_UNPACKED, IMAGE_MAX_ENTRIES);
}

static void test_diff_ids(void)
{
	static const struct ent ents[] = {{'f', "a", "right\n", 0, NULL}, {0}};
	static const char wrong[] =
	    "0000000000000000000000000000000000000000000000000000000000000000";
	char *l =
	    mk_layout("wrong-diff", ents, &(struct layer_opts){.gzip = true, .diff_id = wrong});
	CHECK(import(l, "hostile:wrong-diff") == -EINVAL);
	CHECK(layer_of("hostile:wrong-diff") == NULL);
	free(l);
	nothing_left();
	l = mk_layout("no-diff", ents, &(struct layer_opts){.gzip = true, .diff_id = ""});
	CHECK(import(l, "hostile:no-diff") == -EINVAL);
	free(l);
	/* the right one goes in; then the same layer with a wrong diff_id
	 * in another config is refused, though the layer is in the store */
	l = mk_layout("right-diff", ents, &(struct layer_opts){.gzip = true});
	CHECK(import(l, "hostile:right-diff") == 0);
	free(l);
	l = mk_layout("wrong-diff-2", ents, &(struct layer_opts){.gzip = true, .diff_id = wrong});
	CHECK(import(l, "hostile:wrong-diff-2") == -EINVAL);
	free(l);
	nothing_left();
}

int main(void)
{
	tmp = xstrdup("/tmp/cfs-test-hostile.XXXXXX");
	if (!mkdtemp(tmp)) {
		perror("mkdtemp");
		return 1;
	}
	outside = xasprintf("%s/outside", tmp);
	mkdir(outside, 0755);
	char *secret = xasprintf("%s/secret", outside);
	FILE *f = fopen(secret, "w");
	if (f) {
		fputs("secret\n", f);
		fclose(f);
	}
	free(secret);
	char *data = xasprintf("%s/data", tmp);
	struct err *e = NULL;
	if (image_store_open(data, &store, &e) < 0) {
		fprintf(stderr, "image_store_open: %s\n", e->msg);
		return 1;
	}
	free(data);
	RUN(test_setuid_kept);
	RUN(test_devices_not_made);
	RUN(test_capabilities_dropped);
	RUN(test_link_escapes);
	RUN(test_bombs);
	RUN(test_diff_ids);
	image_store_close(store);
	char *cmd = xasprintf("rm -rf %s", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", tmp);
	free(cmd);
	free(outside);
	free(tmp);
	return unit_done();
}
