/*
 * test_image_gc.c - where images came from, which pods use them, and
 * image garbage collection (runtime/image/image_gc.h), on small images
 * made here: each has a base layer that all share and a layer of its own.
 * The disk the GC sees is the testing knob's.
 */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/mem.h"
#include "runtime/image/image.h"
#include "runtime/image/image_gc.h"
#include "tests/unit/unit.h"

static char *tmp;

/* out, name, size: an OCI layout whose second layer holds size random bytes */
static const char mk_py[] =
    "import sys, json, hashlib, tarfile, io, gzip, os\n"
    "out, name, size = sys.argv[1], sys.argv[2], int(sys.argv[3])\n"
    "os.makedirs(out + '/blobs/sha256', exist_ok=True)\n"
    "M = 'application/vnd.oci.image.'\n"
    "def put(data, mt):\n"
    "    h = hashlib.sha256(data).hexdigest()\n"
    "    open(out + '/blobs/sha256/' + h, 'wb').write(data)\n"
    "    return {'mediaType': mt, 'digest': 'sha256:' + h, 'size': len(data)}\n"
    "def layer(fname, data):\n"
    "    b = io.BytesIO()\n"
    "    with tarfile.open(fileobj=b, mode='w') as t:\n"
    "        ti = tarfile.TarInfo(fname); ti.size = len(data); ti.mtime = 1700000000\n"
    "        t.addfile(ti, io.BytesIO(data))\n"
    "    raw = b.getvalue()\n"
    "    return put(gzip.compress(raw, mtime=0), M + 'layer.v1.tar+gzip'), raw\n"
    "ls = [layer('base', b'shared by all\\n'), layer(name, os.urandom(size))]\n"
    "conf = {'architecture': 'amd64', 'os': 'linux', 'config': {'Cmd': ['sh']},\n"
    "        'rootfs': {'type': 'layers', 'diff_ids':\n"
    "                   ['sha256:' + hashlib.sha256(r).hexdigest() for d, r in ls]}}\n"
    "c = put(json.dumps(conf).encode(), M + 'config.v1+json')\n"
    "m = put(json.dumps({'schemaVersion': 2, 'mediaType': M + 'manifest.v1+json',\n"
    "                    'config': c, 'layers': [d for d, r in ls]}).encode(),\n"
    "        M + 'manifest.v1+json')\n"
    "json.dump({'schemaVersion': 2, 'manifests': [m]}, open(out + '/index.json', 'w'))\n"
    "json.dump({'imageLayoutVersion': '1.0.0'}, open(out + '/oci-layout', 'w'))\n";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* Imports a new image NAME (own layer of size bytes) as NAME:1 into s. */
static int add_image(struct image_store *s, const char *name, int size)
{
	char *dir = xasprintf("%s/src-%s", tmp, name);
	char *cmd = xasprintf("python3 %s/mk.py %s %s %d", tmp, dir, name, size);
	char *ref = xasprintf("%s:1", name);
	struct err *e = NULL;
	int r = system(cmd) == 0 ? image_import(s, dir, ref, &e) : -1;
	if (e)
		fprintf(stderr, "  %s: %s\n", name, e->msg);
	err_free(e);
	free(dir);
	free(cmd);
	free(ref);
	return r;
}

/* The unpacked layer dir (i: 0 base, 1 own) of ref, or NULL. */
static char *layer_of(struct image_store *s, const char *ref, int i)
{
	struct image_info *info = NULL;
	char *l = NULL;
	if (image_resolve(s, ref, &info, NULL) == 0 && info->n_layers == 2)
		l = xstrdup(info->layers[i]);
	image_info_free(info);
	return l;
}

static bool has(struct image_store *s, const char *ref)
{
	struct image_record rec;
	return image_lookup(s, ref, &rec, NULL) == 0;
}

/* A pod's directory under DATA_DIR/pods and its record of images. */
static int pod_uses(struct image_store *s, const char *dd, const char *uid, const char *pod,
		    const char *ref, const char *digest)
{
	char *pods = xasprintf("%s/pods", dd), *d = xasprintf("%s/%s", pods, uid);
	mkdir(pods, 0700);
	mkdir(d, 0700);
	const char *refs[] = {ref}, *digests[] = {digest};
	int r = image_uses_record(s, uid, pod, refs, digests, 1, NULL);
	free(pods);
	free(d);
	return r;
}

static void test_origin_old_format(void)
{
	char *dd = xasprintf("%s/old", tmp);
	struct image_store *s = NULL;
	CHECK(image_store_open(dd, &s, NULL) == 0);
	CHECK(add_image(s, "old", 1000) == 0);
	struct image_record rec;
	CHECK(image_lookup(s, "old:1", &rec, NULL) == 0 && rec.origin == IMAGE_IMPORTED &&
	      rec.added > 0 && rec.last_used == 0);
	/* refs.json as the first format wrote it */
	char *refs = xasprintf("%s/images/refs.json", dd);
	char *text = xasprintf("{\"docker.io/library/old:1\": \"%s\"}\n", rec.digest);
	write_file(refs, text);
	struct image_record r2;
	CHECK(image_lookup(s, "docker.io/library/old:1", &r2, NULL) == 0 &&
	      r2.origin == IMAGE_IMPORTED && r2.added == 0 && !strcmp(r2.digest, rec.digest));
	struct image_info *info = NULL;
	CHECK(image_resolve(s, "old:1", &info, NULL) == 0);
	image_info_free(info);
	struct image_entry *list = NULL;
	size_t n = 0;
	CHECK(image_list(s, &list, &n, NULL) == 0 && n == 1 && list[0].size > 1000);
	image_list_free(list, n);
	/* a touch writes it in the new form */
	const char *one[] = {"old:1"};
	CHECK(image_touch(s, one, 1, 4242, NULL) == 0);
	CHECK(image_lookup(s, "old:1", &r2, NULL) == 0 && r2.last_used == 4242);
	CHECK(image_touch(s, one, 1, 100, NULL) == 0); /* never back in time */
	CHECK(image_lookup(s, "old:1", &r2, NULL) == 0 && r2.last_used == 4242);
	CHECK(image_lookup(s, "nope:1", &r2, NULL) == -ENOENT);
	image_store_close(s);
	free(refs);
	free(text);
	free(dd);
}

static void test_uses(void)
{
	char *dd = xasprintf("%s/uses", tmp);
	struct image_store *s = NULL;
	CHECK(image_store_open(dd, &s, NULL) == 0);
	CHECK(add_image(s, "u", 1000) == 0 && add_image(s, "v", 1000) == 0);
	struct image_record rec;
	CHECK(image_lookup(s, "u:1", &rec, NULL) == 0);
	/* no pod directory: no record that would outlive the pod */
	const char *refs[] = {"u:1"};
	CHECK(image_uses_record(s, "nopod", "ns/x", refs, NULL, 1, NULL) == -ENOENT);
	CHECK(pod_uses(s, dd, "uid1", "ns/web", "u:1", NULL) == 0);
	CHECK(pod_uses(s, dd, "uid2", "ns/db", "docker.io/library/u@sha256:0000", NULL) == 0);
	/* a pod naming it by digest */
	char *bydig = xasprintf("u@%s", rec.digest);
	CHECK(pod_uses(s, dd, "uid3", "ns/pinned", bydig, NULL) == 0);
	char **pods = NULL;
	size_t np = 0;
	CHECK(image_users_of(s, "u:1", &pods, &np, NULL) == 0 && np == 2);
	if (np == 2) /* in the order of the pods' directories */
		CHECK((!strcmp(pods[0], "ns/web") && !strcmp(pods[1], "ns/pinned")) ||
		      (!strcmp(pods[1], "ns/web") && !strcmp(pods[0], "ns/pinned")));
	for (size_t i = 0; i < np; i++)
		free(pods[i]);
	free(pods);
	CHECK(image_users_of(s, "v:1", &pods, &np, NULL) == 0 && np == 0);
	free(pods);
	CHECK(image_lookup(s, "u:1", &rec, NULL) == 0 && rec.last_used > 0);
	struct image_entry *list = NULL;
	size_t n = 0;
	CHECK(image_list(s, &list, &n, NULL) == 0 && n == 2);
	if (n == 2)
		CHECK(list[0].n_used_by == 2 && list[1].n_used_by == 0);
	image_list_free(list, n);

	/* removed though used (rm --force): the layers a pod runs stay */
	char *own = layer_of(s, "u:1", 1);
	CHECK(pod_uses(s, dd, "uid1", "ns/web", "u:1", rec.digest) == 0);
	int64_t freed = -1;
	CHECK(own && image_remove(s, "u:1", &freed, NULL) == 0 && freed == 0);
	CHECK(own && access(own, F_OK) == 0);
	free(own);
	free(bydig);
	image_store_close(s);
	free(dd);
}

/* Four images, d used by a pod; LRU a, c, b. */
static void test_gc_lru(void)
{
	char *dd = xasprintf("%s/gc", tmp);
	struct image_store *s = NULL;
	CHECK(image_store_open(dd, &s, NULL) == 0);
	const char *names[] = {"a", "b", "c", "d"};
	char *own[4], *base = NULL;
	for (int i = 0; i < 4; i++) {
		CHECK(add_image(s, names[i], 200000) == 0);
		char ref[8];
		snprintf(ref, sizeof(ref), "%s:1", names[i]);
		own[i] = layer_of(s, ref, 1);
		CHECK(own[i] != NULL);
	}
	base = layer_of(s, "a:1", 0);
	const char *ta[] = {"a:1"}, *tb[] = {"b:1"}, *tc[] = {"c:1"};
	CHECK(image_touch(s, ta, 1, 1000, NULL) == 0 && image_touch(s, tb, 1, 3000, NULL) == 0 &&
	      image_touch(s, tc, 1, 2000, NULL) == 0);
	CHECK(pod_uses(s, dd, "uid-d", "ns/d", "d:1", NULL) == 0);

	struct image_gc_conf c = {.high = 85, .low = 80, .min_age_s = -1, .orphan_age_s = -1};
	struct image_gc_result r;
	struct err *e = NULL;
	/* 50 % used: nothing */
	image_gc_capacity_for_test = 1000000;
	image_gc_available_for_test = 500000;
	CHECK(image_gc(s, &c, &r, &e) == 0 && r.usage == 50 && r.wanted == 0 && !r.removed);
	/* 90 %: 100000 bytes to free; a goes, the least recently used */
	image_gc_available_for_test = 100000;
	CHECK(image_gc(s, &c, &r, &e) == 0 && r.usage == 90 && r.wanted == 100000);
	CHECK(r.removed == 1 && r.freed >= 200000);
	CHECK(!has(s, "a:1") && has(s, "b:1") && has(s, "c:1") && has(s, "d:1"));
	CHECK(access(own[0], F_OK) < 0 && access(own[2], F_OK) == 0 && access(base, F_OK) == 0);
	/* 95 %: c next (last used before b) */
	image_gc_available_for_test = 50000;
	CHECK(image_gc(s, &c, &r, &e) == 0 && r.removed == 1);
	CHECK(!has(s, "c:1") && has(s, "b:1") && access(own[2], F_OK) < 0);
	/* all but d would be needed: b goes, d stays (in use), not enough */
	image_gc_available_for_test = 0;
	c.low = 10;
	CHECK(image_gc(s, &c, &r, &e) == -ENOSPC && r.removed == 1);
	CHECK(e && strstr(e->msg, "Failed to garbage collect required amount of images"));
	CHECK(!has(s, "b:1") && has(s, "d:1"));
	CHECK(access(own[3], F_OK) == 0 && access(base, F_OK) == 0); /* shared, kept */
	/* d in use was marked used now */
	struct image_record rec;
	CHECK(image_lookup(s, "d:1", &rec, NULL) == 0 && rec.last_used > 3000);
	/* the minimum age (2 min by default) keeps a new image */
	CHECK(add_image(s, "fresh", 1000) == 0);
	c.min_age_s = 0;
	image_gc_available_for_test = 0; /* the GC added what it freed */
	CHECK(image_gc(s, &c, &r, &e) == -ENOSPC && r.removed == 0 && has(s, "fresh:1"));
	image_gc_capacity_for_test = -1;
	err_free(e);
	for (int i = 0; i < 4; i++)
		free(own[i]);
	free(base);
	image_store_close(s);
	free(dd);
}

/* A tag moved by a pull leaves the old manifest's blobs and layers: the
 * GC removes those first, and keeps what a running container uses. */
static void test_gc_orphans(void)
{
	char *dd = xasprintf("%s/orph", tmp);
	struct image_store *s = NULL;
	CHECK(image_store_open(dd, &s, NULL) == 0);
	CHECK(add_image(s, "keep", 1000) == 0 && add_image(s, "moved", 200000) == 0 &&
	      add_image(s, "running", 200000) == 0);
	char *base = layer_of(s, "keep:1", 0), *moved = layer_of(s, "moved:1", 1);
	char *running = layer_of(s, "running:1", 1);
	struct image_record rec;
	CHECK(image_lookup(s, "running:1", &rec, NULL) == 0);
	CHECK(pod_uses(s, dd, "uid-r", "ns/r", "running:1", rec.digest) == 0);
	/* both references gone from refs.json, as if their tags had moved */
	char *path = xasprintf("%s/images/refs.json", dd);
	json_t *refs = json_load_file(path, 0, NULL);
	CHECK(refs && json_object_del(refs, "docker.io/library/moved:1") == 0 &&
	      json_object_del(refs, "docker.io/library/running:1") == 0 &&
	      json_dump_file(refs, path, 0) == 0);
	json_decref(refs);

	struct image_gc_conf c = {.high = 85, .low = 80, .min_age_s = -1};
	struct image_gc_result r;
	struct err *e = NULL;
	image_gc_capacity_for_test = 1000000;
	image_gc_available_for_test = 100000;
	/* the orphans are new: the minimum age keeps them; keep:1 is not enough */
	CHECK(image_gc(s, &c, &r, &e) == -ENOSPC && r.freed < 100000 && r.removed == 1);
	CHECK(access(moved, F_OK) == 0 && !has(s, "keep:1"));
	c.orphan_age_s = -1;
	image_gc_available_for_test = 100000;
	CHECK(image_gc(s, &c, &r, &e) == 0 && r.freed >= 200000 && r.removed == 0);
	CHECK(access(moved, F_OK) < 0);
	CHECK(access(running, F_OK) == 0 && access(base, F_OK) == 0);
	image_gc_capacity_for_test = -1;
	err_free(e);
	free(path);
	free(base);
	free(moved);
	free(running);
	image_store_close(s);
	free(dd);
}

static void test_conf(void)
{
	struct image_gc_conf c = {0};
	struct err *e = NULL;
	CHECK(image_gc_conf_check(&c, &e) == 0);
	CHECK(image_gc_opts_add(&c, IMAGE_GC_OPT_HIGH, "90") == 1 && c.high == 90);
	CHECK(image_gc_opts_add(&c, IMAGE_GC_OPT_LOW, "95") == 1);
	CHECK(image_gc_conf_check(&c, &e) == -EINVAL && strstr(e->msg, "less than"));
	CHECK(image_gc_opts_add(&c, IMAGE_GC_OPT_LOW, "x") == -1);
	CHECK(image_gc_opts_add(&c, IMAGE_GC_OPT_LOW, "101") == -1);
	CHECK(image_gc_opts_add(&c, 'd', "1") == 0);
	CHECK(image_gc_opts_add(&c, IMAGE_GC_OPT_LOW, "0") == 1 &&
	      image_gc_conf_check(&c, &e) == 0);
	err_free(e);
}

int main(void)
{
	char tmpl[] = "/tmp/cfs-test-image-gc.XXXXXX";
	tmp = xstrdup(mkdtemp(tmpl));
	char *py = xasprintf("%s/mk.py", tmp);
	write_file(py, mk_py);
	free(py);

	RUN(test_conf);
	RUN(test_origin_old_format);
	RUN(test_uses);
	RUN(test_gc_lru);
	RUN(test_gc_orphans);

	char *cmd = xasprintf("rm -rf %s", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", tmp);
	free(cmd);
	free(tmp);
	return unit_done();
}
