/*
 * test_userns.c - user namespaces for hostUsers: false pods (root
 * required): the id ranges (multiples of 65536, the lowest free one,
 * recorded and kept), idmapped read-only layers (a file of host 0 is the
 * base's, a file of 5 is base + 5, nothing writable through them), an
 * overlay of them written by the container's root, and what it costs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "engine/mem.h"
#include "runtime/kubelet/oci.h"
#include "runtime/kubelet/userns.h"
#include "runtime/sys.h"
#include "tests/unit/unit.h"

static char tmp[64];

static int64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void test_alloc(void)
{
	_cleanup_free_ char *pods = xasprintf("%s/pods", tmp);
	char *dirs[3];
	uint32_t b[3] = {0};
	mkdir(pods, 0700);
	for (int i = 0; i < 3; i++) {
		dirs[i] = xasprintf("%s/pod%d", pods, i);
		mkdir(dirs[i], 0755);
	}
	CHECK(userns_alloc(pods, dirs[0], &b[0], NULL) == 0 && b[0] == 65536);
	CHECK(userns_alloc(pods, dirs[1], &b[1], NULL) == 0 && b[1] == 131072);
	CHECK(userns_read(dirs[0]) == 65536 && userns_read(dirs[1]) == 131072);
	CHECK(userns_read(dirs[2]) == 0); /* none: the host's users */
	/* a pod gone frees its range; the next pod takes the lowest free */
	_cleanup_free_ char *rec = xasprintf("%s/userns", dirs[0]);
	unlink(rec);
	CHECK(userns_alloc(pods, dirs[2], &b[2], NULL) == 0 && b[2] == 65536);
	/* a record that is not a range is ignored */
	CHECK(write_atomic(rec, "12345\n", NULL) == 0 && userns_read(dirs[0]) == 0);
	for (int i = 0; i < 3; i++)
		free(dirs[i]);
}

static void test_idmapped_layers(void)
{
	const uint32_t base = 196608;
	struct image_info info = {0};
	char *layers[3];
	for (int i = 0; i < 3; i++) {
		layers[i] = xasprintf("%s/layer%d", tmp, i);
		mkdir(layers[i], 0755);
		_cleanup_free_ char *f = xasprintf("%s/f%d", layers[i], i);
		CHECK(write_atomic(f, "x\n", NULL) == 0 && chown(f, i == 1 ? 5 : 0, 0) == 0);
	}
	info.layers = layers;
	info.n_layers = 3;
	_cleanup_free_ char *dir = xasprintf("%s/lower", tmp);
	char *lower = NULL;
	int64_t t0 = now_us();
	CHECK(userns_mount_layers(&info, base, dir, &lower, NULL) == 0 && lower);
	int64_t took = now_us() - t0;
	printf("  3 idmapped layers in %lld us\n", (long long)took);
	/* top-most first, as image_info_lowerdir */
	_cleanup_free_ char *want = xasprintf("%s/0:%s/1:%s/2", dir, dir, dir);
	CHECK(lower && !strcmp(lower, want));
	struct stat st;
	_cleanup_free_ char *f0 = xasprintf("%s/2/f0", dir), *f1 = xasprintf("%s/1/f1", dir);
	CHECK(stat(f0, &st) == 0 && st.st_uid == base && st.st_gid == base);
	CHECK(stat(f1, &st) == 0 && st.st_uid == base + 5);
	_cleanup_free_ char *nf = xasprintf("%s/0/new", dir);
	CHECK(open(nf, O_CREAT | O_WRONLY, 0644) < 0 && errno == EROFS);

	/* an overlay on them: a copy-up keeps the mapped owner */
	_cleanup_free_ char *up = xasprintf("%s/upper", tmp), *wk = xasprintf("%s/work", tmp);
	_cleanup_free_ char *mnt = xasprintf("%s/merged", tmp);
	mkdir(up, 0755), mkdir(wk, 0755), mkdir(mnt, 0755);
	_cleanup_free_ char *opts = xasprintf("lowerdir=%s,upperdir=%s,workdir=%s", lower, up, wk);
	CHECK(mount("overlay", mnt, "overlay", MS_NODEV | MS_NOSUID, opts) == 0);
	_cleanup_free_ char *m0 = xasprintf("%s/f0", mnt);
	CHECK(stat(m0, &st) == 0 && st.st_uid == base);
	int fd = open(m0, O_WRONLY | O_APPEND);
	CHECK(fd >= 0 && write(fd, "y\n", 2) == 2);
	if (fd >= 0)
		close(fd);
	_cleanup_free_ char *u0 = xasprintf("%s/f0", up);
	CHECK(stat(u0, &st) == 0 && st.st_uid == base); /* copied up as the base's */
	umount2(mnt, MNT_DETACH);
	for (int i = 0; i < 3; i++) {
		_cleanup_free_ char *t = xasprintf("%s/%d", dir, i);
		CHECK(umount2(t, 0) == 0);
		free(layers[i]);
	}
	free(lower);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("# skipped: needs root\n");
		return 0;
	}
	snprintf(tmp, sizeof(tmp), "/tmp/test_userns.XXXXXX");
	if (!mkdtemp(tmp))
		return 1;
	RUN(test_alloc);
	RUN(test_idmapped_layers);
	rm_rf(tmp, NULL);
	return unit_done();
}
