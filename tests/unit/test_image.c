/*
 * test_image.c - the image store against real images in a temporary dir:
 * reference normalisation; import of the busybox image that
 * scripts/busybox-image.sh builds, as a layout and as an archive; resolve
 * (config, layers); a layer shared by two references unpacked once, also
 * when imported by four threads at once; a corrupt blob; missing
 * references; hostile layers (../, absolute names, symlink escapes);
 * whiteouts turned into overlayfs ones, checked through a real overlay
 * mount and a chroot into it; a multi-arch (nested) index.
 *
 * Needs root, python3 (to craft layers) and the packages in
 * scripts/deps-runtime.sh; a missing tool makes the tests fail.  Run from
 * the top of the tree.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <dirent.h>

#include "engine/mem.h"
#include "runtime/image/image.h"
#include "tests/unit/unit.h"

static char *tmp;	 /* everything the tests make is below it */
static char *bb_layout;	 /* the busybox image as an OCI layout */
static char *bb_archive; /* and as an OCI archive */

/* Builds an OCI layout from a JSON spec of layers (lists of [kind, name,
 * arg] entries; kinds f d l h; or {"blob": PATH} for an existing gzip'ed
 * layer), or of a nested index of such images ({"nested": [...]}).
 * Prints the digest of what index.json points at. */
static const char mk_py[] =
    "import sys, json, hashlib, tarfile, io, gzip, os\n"
    "out, spec = sys.argv[1], json.load(open(sys.argv[2]))\n"
    "os.makedirs(out + '/blobs/sha256', exist_ok=True)\n"
    "OCI = 'application/vnd.oci.image.'\n"
    "def put(data, mt):\n"
    "    h = hashlib.sha256(data).hexdigest()\n"
    "    open(out + '/blobs/sha256/' + h, 'wb').write(data)\n"
    "    return {'mediaType': mt, 'digest': 'sha256:' + h, 'size': len(data)}\n"
    "def layer(l):\n"
    "    if 'blob' in l:\n"
    "        data = open(l['blob'], 'rb').read()\n"
    "        return put(data, OCI + 'layer.v1.tar+gzip'), gzip.decompress(data)\n"
    "    buf = io.BytesIO()\n"
    "    with tarfile.open(fileobj=buf, mode='w', format=tarfile.PAX_FORMAT) as t:\n"
    "        for e in l['entries']:\n"
    "            ti = tarfile.TarInfo(e[1]); ti.mtime = 1700000000; data = None\n"
    "            if e[0] == 'f': data = e[2].encode(); ti.size = len(data); ti.mode = 0o644\n"
    "            if e[0] == 'd': ti.type = tarfile.DIRTYPE; ti.mode = 0o755\n"
    "            if e[0] == 'l': ti.type = tarfile.SYMTYPE; ti.linkname = e[2]\n"
    "            if e[0] == 'h': ti.type = tarfile.LNKTYPE; ti.linkname = e[2]\n"
    "            if e[0] == 'x': ti.type = tarfile.DIRTYPE; ti.mode = 0o755; ti.pax_headers = {\n"
    "                'SCHILY.xattr.trusted.overlay.opaque': 'y', 'SCHILY.xattr.user.k': e[2]}\n"
    "            t.addfile(ti, io.BytesIO(data) if data is not None else None)\n"
    "    raw = buf.getvalue()\n"
    "    if l.get('gzip', True):\n"
    "        return put(gzip.compress(raw, mtime=0), OCI + 'layer.v1.tar+gzip'), raw\n"
    "    return put(raw, OCI + 'layer.v1.tar'), raw\n"
    "def image(layers, arch):\n"
    "    ls = [layer(l) for l in layers]\n"
    "    conf = {'architecture': arch, 'os': 'linux',\n"
    "            'config': {'Entrypoint': ['/bin/busybox'], 'Cmd': ['echo', arch],\n"
    "                       'Env': ['PATH=/bin', 'A=1'], 'WorkingDir': '/w', 'User': '65534'},\n"
    "            'rootfs': {'type': 'layers',\n"
    "                       'diff_ids': ['sha256:' + hashlib.sha256(r).hexdigest() for d, r in "
    "ls]}}\n"
    "    c = put(json.dumps(conf).encode(), OCI + 'config.v1+json')\n"
    "    m = {'schemaVersion': 2, 'mediaType': OCI + 'manifest.v1+json', 'config': c,\n"
    "         'layers': [d for d, r in ls]}\n"
    "    return put(json.dumps(m).encode(), OCI + 'manifest.v1+json')\n"
    "if 'nested' in spec:\n"
    "    ms = []\n"
    "    for sub in spec['nested']:\n"
    "        m = image(sub['layers'], sub['arch'])\n"
    "        m['platform'] = {'os': 'linux', 'architecture': sub['arch']}\n"
    "        ms.append(m)\n"
    "    idx = {'schemaVersion': 2, 'mediaType': OCI + 'index.v1+json', 'manifests': ms}\n"
    "    top = put(json.dumps(idx).encode(), OCI + 'index.v1+json')\n"
    "else:\n"
    "    top = image(spec['layers'], 'amd64')\n"
    "top['annotations'] = {'org.opencontainers.image.ref.name': 'latest'}\n"
    "json.dump({'schemaVersion': 2, 'manifests': [top]}, open(out + '/index.json', 'w'))\n"
    "json.dump({'imageLayoutVersion': '1.0.0'}, open(out + '/oci-layout', 'w'))\n"
    "print(top['digest'])\n";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* Runs a shell command; its first output line (newline dropped) into out
 * when out is not NULL.  Returns the exit status, -1 if it did not run. */
static int run(const char *cmd, char *out, size_t n)
{
	FILE *p = popen(cmd, "r");
	if (!p)
		return -1;
	char line[512] = "";
	if (!fgets(line, sizeof(line), p))
		line[0] = '\0';
	char sink[512];
	while (fgets(sink, sizeof(sink), p))
		;
	int st = pclose(p);
	line[strcspn(line, "\n")] = '\0';
	if (out)
		snprintf(out, n, "%s", line);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Makes the layout tmp/NAME from spec; gives its path (caller frees) and
 * the digest index.json points at in digest (may be NULL), or NULL. */
static char *mk_image(const char *name, const char *spec, char digest[IMAGE_DIGEST_MAX])
{
	char *dir = xasprintf("%s/%s", tmp, name);
	char *sp = xasprintf("%s/%s.json", tmp, name);
	char *cmd = xasprintf("python3 %s/mk.py %s %s", tmp, dir, sp);
	char d[IMAGE_DIGEST_MAX];
	write_file(sp, spec);
	int rc = run(cmd, d, sizeof(d));
	if (digest)
		memcpy(digest, d, sizeof(d));
	free(sp);
	free(cmd);
	if (rc != 0) {
		fprintf(stderr, "  mk.py %s failed\n", name);
		free(dir);
		return NULL;
	}
	return dir;
}

static struct image_store *open_store(const char *name)
{
	char *dd = xasprintf("%s/%s", tmp, name);
	struct image_store *s = NULL;
	struct err *e = NULL;
	if (image_store_open(dd, &s, &e) < 0) {
		fprintf(stderr, "  open %s: %s\n", dd, e->msg);
		err_free(e);
	}
	free(dd);
	return s;
}

/* Entries in dir (. and .. aside); those with ".tmp." in *tmps. */
static int count_dir(const char *dir, int *tmps)
{
	DIR *d = opendir(dir);
	int n = 0;
	*tmps = 0;
	for (struct dirent *de; d && (de = readdir(d));) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		n++;
		*tmps += strstr(de->d_name, ".tmp.") != NULL;
	}
	if (d)
		closedir(d);
	return d ? n : -1;
}

static bool exists(const char *fmt, const char *a, const char *b)
{
	char path[4096];
	struct stat st;
	snprintf(path, sizeof(path), fmt, a, b);
	return lstat(path, &st) == 0;
}

static void test_normalize(void)
{
	static const char *ok[][2] = {
	    {"busybox", "docker.io/library/busybox:latest"},
	    {"busybox:1.36", "docker.io/library/busybox:1.36"},
	    {"registry.k8s.io/busybox:1.27.2", "registry.k8s.io/busybox:1.27.2"},
	    {"localhost:5000/x", "localhost:5000/x:latest"},
	    {"localhost/x:v1", "localhost/x:v1"},
	    {"user/app", "docker.io/user/app:latest"},
	    {"docker.io/busybox", "docker.io/library/busybox:latest"},
	    {"index.docker.io/library/busybox:1", "docker.io/library/busybox:1"},
	    {"quay.io/a/b/c:V1.0_x-y", "quay.io/a/b/c:V1.0_x-y"},
	    {"my-registry.example.com:443/team/app-x__y.z:t",
	     "my-registry.example.com:443/team/app-x__y.z:t"},
	    {"busybox@sha256:"
	     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	     "docker.io/library/busybox@sha256:"
	     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	    {"gcr.io/x/y:tag@sha256:"
	     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	     "gcr.io/x/y@sha256:"
	     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
	};
	static const char *bad[] = {
	    "",
	    "Busybox",
	    "busybox:",
	    "busybox:-x",
	    "a//b",
	    "/busybox",
	    "busybox/",
	    "busybox@sha256:1234",
	    "busybox@md5:0123456789abcdef0123456789abcdef",
	    "-x/y",
	    "a_/b",
	    "exa mple",
	    "reg.io:port/x",
	    "x:a/b",
	};
	char out[IMAGE_REF_MAX];
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct err *e = NULL;
		int r = image_normalize(ok[i][0], out, sizeof(out), &e);
		if (r != 0 || strcmp(out, ok[i][1]))
			fprintf(stderr, "  %s -> %s (want %s): %s\n", ok[i][0], r ? "error" : out,
				ok[i][1], e ? e->msg : "");
		CHECK(r == 0 && !strcmp(out, ok[i][1]));
		err_free(e);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct err *e = NULL;
		int r = image_normalize(bad[i], out, sizeof(out), &e);
		if (r != -EINVAL)
			fprintf(stderr, "  '%s' accepted as %s\n", bad[i], out);
		CHECK(r == -EINVAL && e && strstr(e->msg, bad[i]));
		err_free(e);
	}
	char small[16];
	CHECK(image_normalize("busybox", small, sizeof(small), NULL) == -ENAMETOOLONG);
	printf("  %zu references normalised, %zu refused\n", sizeof(ok) / sizeof(ok[0]),
	       sizeof(bad) / sizeof(bad[0]));
}

static void test_script(void)
{
	char *cmd = xasprintf("sh scripts/busybox-image.sh %s/bb >/dev/null", tmp);
	int rc = system(cmd);
	CHECK(rc == 0);
	/* A second run is fine and gives the same image. */
	char d1[128] = "", d2[128] = "";
	char *idx = xasprintf("python3 -c 'import json; print(json.load(open(\"%s/bb/busybox/"
			      "index.json\"))[\"manifests\"][0][\"digest\"])'",
			      tmp);
	run(idx, d1, sizeof(d1));
	CHECK(system(cmd) == 0);
	run(idx, d2, sizeof(d2));
	CHECK(d1[0] && !strcmp(d1, d2));
	free(idx);
	free(cmd);
	bb_layout = xasprintf("%s/bb/busybox", tmp);
	bb_archive = xasprintf("%s/bb/busybox.tar", tmp);
	CHECK(exists("%s/oci-layout%s", bb_layout, "") && exists("%s%s", bb_archive, ""));
	printf("  busybox image %s\n", d1);
}

static void test_import_layout(void)
{
	struct image_store *s = open_store("d1");
	struct err *e = NULL;
	CHECK(s);
	if (!s)
		return;
	CHECK(image_import(s, bb_layout, "busybox:1.36", &e) == 0);
	if (e)
		fprintf(stderr, "  %s\n", e->msg);
	struct image_info *info = NULL;
	CHECK(image_resolve(s, "busybox:1.36", &info, &e) == 0);
	if (info) {
		CHECK(!strcmp(info->ref, "docker.io/library/busybox:1.36"));
		CHECK(!strncmp(info->digest, "sha256:", 7) && strlen(info->digest) == 71);
		CHECK(info->n_layers == 1);
		CHECK(info->cmd && !strcmp(info->cmd[0], "sh") && !info->cmd[1]);
		CHECK(info->env && !strcmp(info->env[0], "PATH=/usr/sbin:/usr/bin:/sbin:/bin"));
		CHECK(!info->entrypoint && !info->working_dir && !info->user);
		CHECK(info->architecture && !strcmp(info->architecture, "amd64"));
		CHECK(info->size > 1000000);
		const char *l = info->layers[0];
		struct stat st;
		char p[4096], link[64] = "";
		snprintf(p, sizeof(p), "%s/bin/busybox", l);
		CHECK(stat(p, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) &&
		      st.st_uid == 0);
		snprintf(p, sizeof(p), "%s/bin/sh", l);
		CHECK(readlink(p, link, sizeof(link) - 1) > 0 && !strcmp(link, "busybox"));
		snprintf(p, sizeof(p), "%s/tmp", l);
		CHECK(stat(p, &st) == 0 && (st.st_mode & 07777) == 01777);
		CHECK(exists("%s/etc/passwd%s", l, "") && exists("%s/bin/httpd%s", l, ""));
		char *low = image_info_lowerdir(info);
		CHECK(!strcmp(low, l));
		free(low);
	}
	image_info_free(info);

	/* PATH:TAG picks by annotation; a missing tag is ENOENT. */
	char *tagged = xasprintf("%s:latest", bb_layout);
	char *wrong = xasprintf("%s:nope", bb_layout);
	CHECK(image_import(s, tagged, "tagged", &e) == 0);
	CHECK(image_import(s, wrong, "wrong", &e) == -ENOENT && strstr(e->msg, "nope"));
	/* No reference, and only "latest" annotated: nothing to name it. */
	CHECK(image_import(s, bb_layout, NULL, &e) == -EINVAL);
	free(tagged);
	free(wrong);

	struct image_entry *list = NULL;
	size_t n = 0;
	CHECK(image_list(s, &list, &n, &e) == 0 && n == 2);
	if (n == 2) {
		CHECK(!strcmp(list[0].ref, "docker.io/library/busybox:1.36"));
		CHECK(!strcmp(list[1].ref, "docker.io/library/tagged:latest"));
		CHECK(strlen(list[0].short_digest) == 12 &&
		      !strncmp(list[0].short_digest, list[0].digest + 7, 12));
		CHECK(list[0].size > 1000000 && list[0].size == list[1].size);
		CHECK(list[0].rec.origin == IMAGE_IMPORTED && list[0].rec.added > 0 &&
		      !list[0].n_used_by);
		printf("  %s %s %lld bytes\n", list[0].ref, list[0].short_digest,
		       (long long)list[0].size);
	}
	image_list_free(list, n);
	err_free(e);
	image_store_close(s);
}

static void test_import_archive_shares_layer(void)
{
	struct image_store *s = open_store("d1");
	struct err *e = NULL;
	CHECK(s);
	if (!s)
		return;
	struct image_info *a = NULL, *b = NULL;
	struct stat before = {0}, after = {0};
	CHECK(image_resolve(s, "busybox:1.36", &a, &e) == 0);
	if (a)
		CHECK(stat(a->layers[0], &before) == 0);
	CHECK(image_import(s, bb_archive, "registry.k8s.io/busybox:1.27.2", &e) == 0);
	if (e)
		fprintf(stderr, "  %s\n", e->msg);
	CHECK(image_resolve(s, "registry.k8s.io/busybox:1.27.2", &b, &e) == 0);
	if (a && b) {
		CHECK(!strcmp(a->digest, b->digest));
		CHECK(b->n_layers == 1 && !strcmp(a->layers[0], b->layers[0]));
		CHECK(stat(b->layers[0], &after) == 0 && after.st_ino == before.st_ino &&
		      after.st_mtime == before.st_mtime);
		/* By digest: any tag of the repository with that manifest. */
		char *bydig = xasprintf("busybox@%s", a->digest);
		struct image_info *c = NULL;
		CHECK(image_resolve(s, bydig, &c, &e) == 0 && c && !strcmp(c->digest, a->digest));
		image_info_free(c);
		free(bydig);
	}
	int tmps;
	char *layers = xasprintf("%s/d1/images/layers", tmp);
	CHECK(count_dir(layers, &tmps) == 1 && tmps == 0);
	free(layers);
	image_info_free(a);
	image_info_free(b);
	err_free(e);
	image_store_close(s);
}

static void test_missing(void)
{
	struct image_store *s = open_store("d1");
	struct err *e = NULL;
	struct image_info *info = NULL;
	CHECK(s);
	if (!s)
		return;
	CHECK(image_resolve(s, "nothere:1", &info, &e) == -ENOENT && !info);
	CHECK(e && strstr(e->msg, "docker.io/library/nothere:1"));
	CHECK(image_resolve(s, "Bad Ref", &info, &e) == -EINVAL);
	CHECK(image_import(s, "/nonexistent/dir", "x", &e) == -ENOENT);
	CHECK(image_import(s, tmp, "x", &e) == -ENOENT && strstr(e->msg, "docker.io/library/x"));
	err_free(e);
	image_store_close(s);
}

static void test_corrupt_blob(void)
{
	char *copy = xasprintf("%s/corrupt", tmp);
	char *cmd = xasprintf("cp -a %s %s", bb_layout, copy);
	CHECK(system(cmd) == 0);
	/* Flip a byte in the middle of the largest blob, the layer. */
	char *big = xasprintf("ls -S %s/blobs/sha256 | head -1", copy);
	char name[128] = "";
	run(big, name, sizeof(name));
	char *path = xasprintf("%s/blobs/sha256/%s", copy, name);
	int fd = open(path, O_RDWR);
	unsigned char c;
	CHECK(fd >= 0 && pread(fd, &c, 1, 4096) == 1);
	c ^= 0x20;
	CHECK(pwrite(fd, &c, 1, 4096) == 1);
	close(fd);

	struct image_store *s = open_store("d2");
	struct err *e = NULL;
	CHECK(s && image_import(s, copy, "busybox", &e) == -EINVAL);
	CHECK(e && strstr(e->msg, "corrupt") && strstr(e->msg, "docker.io/library/busybox:latest"));
	if (e)
		printf("  %s\n", e->msg);
	struct image_info *info = NULL;
	CHECK(image_resolve(s, "busybox", &info, &e) == -ENOENT);
	struct image_entry *list = NULL;
	size_t n = 1;
	CHECK(image_list(s, &list, &n, &e) == 0 && n == 0);
	image_list_free(list, n);
	int tmps;
	char *layers = xasprintf("%s/d2/images/layers", tmp);
	char *blobs = xasprintf("%s/d2/images/blobs/sha256", tmp);
	CHECK(count_dir(layers, &tmps) == 0);
	CHECK(count_dir(blobs, &tmps) >= 0 && tmps == 0 && !exists("%s/%s", blobs, name));
	free(layers);
	free(blobs);
	err_free(e);
	image_store_close(s);
	free(path);
	free(big);
	free(cmd);
	free(copy);
}

struct imp {
	struct image_store *s;
	char ref[32];
	int rc;
};

static void *import_thread(void *arg)
{
	struct imp *t = arg;
	t->rc = image_import(t->s, t->ref[0] == 'a' ? bb_archive : bb_layout, t->ref, NULL);
	return NULL;
}

static void test_concurrent_imports(void)
{
	struct image_store *s = open_store("d3");
	CHECK(s);
	if (!s)
		return;
	struct imp t[4];
	pthread_t th[4];
	for (int i = 0; i < 4; i++) {
		t[i] = (struct imp){.s = s};
		snprintf(t[i].ref, sizeof(t[i].ref), "%s%d", i % 2 ? "a" : "l", i);
		pthread_create(&th[i], NULL, import_thread, &t[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CHECK(t[i].rc == 0);
	}
	struct image_entry *list = NULL;
	size_t n = 0;
	CHECK(image_list(s, &list, &n, NULL) == 0 && n == 4);
	image_list_free(list, n);
	int tmps;
	char *layers = xasprintf("%s/d3/images/layers", tmp);
	char *blobs = xasprintf("%s/d3/images/blobs/sha256", tmp);
	char *staging = xasprintf("%s/d3/images/tmp", tmp);
	CHECK(count_dir(layers, &tmps) == 1 && tmps == 0);
	CHECK(count_dir(blobs, &tmps) == 3 && tmps == 0);
	CHECK(count_dir(staging, &tmps) == 0);
	free(layers);
	free(blobs);
	free(staging);
	image_store_close(s);
}

static void test_stale_tmp_swept(void)
{
	/* A pid that is not running. */
	int pid = 999999;
	while (kill(pid, 0) == 0 || errno != ESRCH)
		pid--;
	char *dead = xasprintf("%s/d3/images/layers/abc.tmp.%d.7", tmp, pid);
	char *live = xasprintf("%s/d3/images/layers/abc.tmp.%d.8", tmp, (int)getpid());
	CHECK(mkdir(dead, 0755) == 0 && mkdir(live, 0755) == 0);
	struct image_store *s = open_store("d3");
	CHECK(s && !exists("%s%s", dead, "") && exists("%s%s", live, ""));
	rmdir(live);
	image_store_close(s);
	free(dead);
	free(live);
}

static void test_hostile_layers(void)
{
	/* Each would write below tmp/outside if it escaped the layer. */
	char *out = xasprintf("%s/outside", tmp);
	CHECK(mkdir(out, 0755) == 0);
	char *ups = xstrdup("../../../../../../../../../../../../../../..");
	const char *fmt[] = {
	    "{\"layers\": [{\"entries\": [[\"f\", \"ok\", \"1\"], [\"f\", \"%s%s/evil1\", "
	    "\"x\"]]}]}",
	    "{\"layers\": [{\"entries\": [[\"f\", \"%.0s%s/evil2\", \"x\"]]}]}",
	    "{\"layers\": [{\"entries\": [[\"l\", \"lnk\", \"%.0s%s\"], [\"f\", \"lnk/evil3\", "
	    "\"x\"]]}]}",
	    "{\"layers\": [{\"entries\": [[\"l\", \"lnk\", \"%.0s%s\"], [\"f\", "
	    "\"lnk/.wh.evil4\", \"\"]]}]}",
	    "{\"layers\": [{\"entries\": [[\"l\", \"lnk\", \"%.0s%s\"], [\"f\", "
	    "\"lnk/.wh..wh..opq\", \"\"]]}]}",
	    "{\"layers\": [{\"entries\": [[\"h\", \"hl\", \"%s%s/../etc/passwd\"]]}]}",
	    "{\"layers\": [{\"entries\": [[\"f\", \"%.0s%.0sa/.wh..\", \"\"]]}]}",
	    "{\"layers\": [{\"entries\": [[\"l\", \"lnk\", \"%.0s%s/..\"], [\"h\", \"hl\", "
	    "\"lnk/mk.py\"]]}]}",
	};
	struct image_store *s = open_store("d4");
	CHECK(s);
	for (size_t i = 0; s && i < sizeof(fmt) / sizeof(fmt[0]); i++) {
		char spec[1024], name[16], ref[16];
		snprintf(spec, sizeof(spec), fmt[i], ups, out);
		snprintf(name, sizeof(name), "evil%zu", i + 1);
		snprintf(ref, sizeof(ref), "evil:%zu", i + 1);
		char *dir = mk_image(name, spec, NULL);
		struct err *e = NULL;
		CHECK(dir);
		int r = dir ? image_import(s, dir, ref, &e) : 0;
		if (r != -EINVAL)
			fprintf(stderr, "  %s: %d %s\n", name, r, e ? e->msg : "");
		CHECK(r == -EINVAL);
		if (e)
			printf("  refused: %s\n", e->msg);
		err_free(e);
		free(dir);
	}
	int tmps;
	struct stat st;
	char *py = xasprintf("%s/mk.py", tmp);
	CHECK(stat(py, &st) == 0 && st.st_nlink == 1);
	free(py);
	CHECK(count_dir(out, &tmps) == 0);
	CHECK(getxattr(out, "trusted.overlay.opaque", NULL, 0) < 0);
	char *layers = xasprintf("%s/d4/images/layers", tmp);
	CHECK(count_dir(layers, &tmps) == 0);
	struct image_entry *list = NULL;
	size_t n = 1;
	CHECK(s && image_list(s, &list, &n, NULL) == 0 && n == 0);
	image_list_free(list, n);
	image_store_close(s);
	free(layers);
	free(ups);
	free(out);
}

static void test_whiteouts_overlay(void)
{
	struct image_store *s = open_store("d5");
	struct image_info *bb = NULL, *info = NULL;
	struct err *e = NULL;
	CHECK(s);
	if (!s)
		return;
	/* The busybox layer at the bottom, so that the result can run. */
	CHECK(image_import(s, bb_layout, "busybox", &e) == 0 &&
	      image_resolve(s, "busybox", &bb, &e) == 0);
	if (!bb) {
		image_store_close(s);
		return;
	}
	const char *hex = strrchr(bb->layers[0], '/') + 1;
	char spec[2048];
	snprintf(spec, sizeof(spec),
		 "{\"layers\": [{\"blob\": \"%s/blobs/sha256/%s\"},"
		 " {\"entries\": [[\"d\", \"a\"], [\"f\", \"a/x\", \"x\"], [\"f\", \"a/y\", \"y\"],"
		 "  [\"h\", \"a/hard\", \"a/y\"], [\"l\", \"a/abs\", \"/etc/passwd\"],"
		 "  [\"d\", \"b\"], [\"f\", \"b/z\", \"z\"], [\"x\", \"c\", \"v\"]]},"
		 " {\"gzip\": false, \"entries\": [[\"f\", \"a/.wh.x\", \"\"],"
		 "  [\"f\", \"./b/.wh..wh..opq\", \"\"], [\"f\", \"b/new\", \"n\"]]}]}",
		 bb_layout, hex);
	char *dir = mk_image("wh", spec, NULL);
	CHECK(dir && image_import(s, dir, "wh:1", &e) == 0);
	if (e)
		fprintf(stderr, "  %s\n", e->msg);
	CHECK(image_resolve(s, "wh:1", &info, &e) == 0 && info && info->n_layers == 3);
	if (!info || info->n_layers != 3)
		goto out;
	CHECK(!strcmp(info->layers[0], bb->layers[0]));
	CHECK(info->entrypoint && !strcmp(info->entrypoint[0], "/bin/busybox"));
	CHECK(info->env && info->env[1] && !strcmp(info->env[1], "A=1") && !info->env[2]);
	CHECK(info->working_dir && !strcmp(info->working_dir, "/w"));
	CHECK(info->user && !strcmp(info->user, "65534"));

	/* In the layers themselves. */
	const char *lower = info->layers[1], *upper = info->layers[2];
	struct stat st, y;
	char p[4096], v[8] = "", link[64] = "";
	snprintf(p, sizeof(p), "%s/a/x", upper);
	CHECK(lstat(p, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
	CHECK(!exists("%s/a/.wh.x%s", upper, "") && !exists("%s/b/.wh..wh..opq%s", upper, ""));
	snprintf(p, sizeof(p), "%s/b", upper);
	CHECK(getxattr(p, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y');
	snprintf(p, sizeof(p), "%s/b", lower);
	CHECK(getxattr(p, "trusted.overlay.opaque", v, sizeof(v)) < 0);
	/* A layer's own trusted.overlay.* xattrs are dropped, others kept. */
	snprintf(p, sizeof(p), "%s/c", lower);
	CHECK(getxattr(p, "trusted.overlay.opaque", v, sizeof(v)) < 0 && errno == ENODATA);
	CHECK(getxattr(p, "user.k", v, sizeof(v)) == 1 && v[0] == 'v');
	snprintf(p, sizeof(p), "%s/a/hard", lower);
	CHECK(stat(p, &st) == 0);
	snprintf(p, sizeof(p), "%s/a/y", lower);
	CHECK(stat(p, &y) == 0 && st.st_ino == y.st_ino && y.st_nlink == 2);
	snprintf(p, sizeof(p), "%s/a/abs", lower);
	CHECK(readlink(p, link, sizeof(link) - 1) > 0 && !strcmp(link, "/etc/passwd"));

	/* Through overlayfs. */
	char *ov = xasprintf("%s/ov", tmp);
	char *merged = xasprintf("%s/merged", ov);
	char *up = xasprintf("%s/upper", ov);
	char *work = xasprintf("%s/work", ov);
	char *low = image_info_lowerdir(info);
	char *opts = xasprintf("lowerdir=%s,upperdir=%s,workdir=%s", low, up, work);
	CHECK(mkdir(ov, 0755) == 0 && mkdir(merged, 0755) == 0 && mkdir(up, 0755) == 0 &&
	      mkdir(work, 0755) == 0);
	int mr = mount("overlay", merged, "overlay", 0, opts);
	if (mr < 0)
		fprintf(stderr, "  mount overlay: %s\n", strerror(errno));
	CHECK(mr == 0);
	if (mr == 0) {
		CHECK(!exists("%s/a/x%s", merged, "") && exists("%s/a/y%s", merged, ""));
		CHECK(!exists("%s/b/z%s", merged, "") && exists("%s/b/new%s", merged, ""));
		CHECK(exists("%s/bin/busybox%s", merged, ""));
		char *cmd = xasprintf("chroot %s /bin/busybox echo hi", merged);
		char line[64] = "";
		CHECK(run(cmd, line, sizeof(line)) == 0 && !strcmp(line, "hi"));
		free(cmd);
		cmd = xasprintf("chroot %s /bin/sh -c 'ls /a; cat /b/new'", merged);
		CHECK(run(cmd, line, sizeof(line)) == 0 && !strcmp(line, "abs"));
		free(cmd);
		CHECK(umount2(merged, 0) == 0);
		printf("  overlay: a/x whited out, b opaque, chroot busybox echo hi ran\n");
	}
	free(opts);
	free(low);
	free(work);
	free(up);
	free(merged);
	free(ov);
out:
	free(dir);
	err_free(e);
	image_info_free(bb);
	image_info_free(info);
	image_store_close(s);
}

static void test_nested_index(void)
{
	char idx[IMAGE_DIGEST_MAX];
	char *dir = mk_image("multi",
			     "{\"nested\": ["
			     " {\"arch\": \"arm64\", \"layers\": [{\"entries\": [[\"f\", \"arch\", "
			     "\"arm64\"]]}]},"
			     " {\"arch\": \"amd64\", \"layers\": [{\"gzip\": false, \"entries\": "
			     "[[\"f\", \"arch\", \"amd64\"]]}]}]}",
			     idx);
	struct image_store *s = open_store("d6");
	struct err *e = NULL;
	struct image_info *info = NULL;
	CHECK(dir && s);
	if (!dir || !s)
		goto out;
	CHECK(image_import(s, dir, "multi", &e) == 0);
	if (e)
		fprintf(stderr, "  %s\n", e->msg);
	CHECK(image_resolve(s, "multi", &info, &e) == 0 && info);
	if (info) {
		CHECK(!strcmp(info->architecture, "amd64") && info->n_layers == 1);
		CHECK(strcmp(info->digest, idx) != 0);
		char p[4096], buf[16] = "";
		snprintf(p, sizeof(p), "%s/arch", info->layers[0]);
		int fd = open(p, O_RDONLY);
		CHECK(fd >= 0 && read(fd, buf, sizeof(buf) - 1) == 5 && !strcmp(buf, "amd64"));
		if (fd >= 0)
			close(fd);
	}
	/* A digest reference must be the index's or the manifest's. */
	char *good = xasprintf("multi@%s", idx);
	CHECK(image_import(s, dir, good, &e) == 0);
	struct image_info *g = NULL;
	CHECK(image_resolve(s, good, &g, &e) == 0 && g && info && !strcmp(g->digest, info->digest));
	image_info_free(g);
	CHECK(image_import(s, dir,
			   "multi@sha256:"
			   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			   &e) == -EINVAL);
	free(good);
out:
	image_info_free(info);
	err_free(e);
	image_store_close(s);
	free(dir);
}

int main(void)
{
	char tmpl[] = "/tmp/cfs-test-image.XXXXXX";
	tmp = xstrdup(mkdtemp(tmpl));
	char *py = xasprintf("%s/mk.py", tmp);
	write_file(py, mk_py);
	free(py);

	RUN(test_normalize);
	RUN(test_script);
	RUN(test_import_layout);
	RUN(test_import_archive_shares_layer);
	RUN(test_missing);
	RUN(test_corrupt_blob);
	RUN(test_concurrent_imports);
	RUN(test_stale_tmp_swept);
	RUN(test_hostile_layers);
	RUN(test_whiteouts_overlay);
	RUN(test_nested_index);

	char *merged = xasprintf("%s/ov/merged", tmp);
	umount2(merged, MNT_DETACH); /* in case a failed check left it */
	char *cmd = xasprintf("rm -rf %s", tmp);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", tmp);
	free(cmd);
	free(merged);
	free(tmp);
	free(bb_layout);
	free(bb_archive);
	return unit_done();
}
