/*
 * test_fs_bounds.c - the filesystem's per-caller bounds (fs/fs_bounds.c):
 * counts and bytes per uid and for all uids, EMFILE / ENOSPC with a
 * reason past them, and what is given back makes room again.  The FUSE
 * side (a line in /cluster/errors) is t_bounds.sh's.
 */
#include <errno.h>
#include <string.h>

#include "fs/fs_int.h"
#include "tests/unit/unit.h"

static void test_files_per_uid(void)
{
	struct fs_bounds *b = fs_bounds_new();
	struct err *e = NULL;
	size_t h, f, n;

	for (int i = 0; i < FS_MAX_SCRATCH_FILES; i++)
		CHECK(fs_bounds_charge(b, 1000, FB_FILES, 1, NULL) == 0);
	CHECK(fs_bounds_charge(b, 1000, FB_FILES, 1, &e) == -EMFILE);
	CHECK(e && strstr(e->msg, "uid 1000 holds 64 scratch files"));
	/* another uid has its own */
	CHECK(fs_bounds_charge(b, 1001, FB_FILES, 1, NULL) == 0);
	fs_bounds_release(b, 1000, FB_FILES, 1);
	CHECK(fs_bounds_charge(b, 1000, FB_FILES, 1, NULL) == 0);
	CHECK(fs_bounds_usage(b, 1000, &h, &f, &n) && f == FS_MAX_SCRATCH_FILES && h == 0);
	fs_bounds_release(b, 1001, FB_FILES, 1);
	CHECK(!fs_bounds_usage(b, 1001, &h, &f, &n)); /* nothing held: forgotten */
	err_free(e);
	fs_bounds_free(b);
}

static void test_total(void)
{
	struct fs_bounds *b = fs_bounds_new();
	struct err *e = NULL;
	uid_t uid = 0;
	int ok = 0;

	/* handles: 1,024 a uid, 4,096 in all */
	for (uid = 0; uid < 4; uid++)
		for (int i = 0; i < FS_MAX_WRITE_HANDLES; i++)
			ok += fs_bounds_charge(b, uid, FB_HANDLES, 1, NULL) == 0;
	CHECK(ok == FS_MAX_WRITE_HANDLES_TOTAL);
	CHECK(fs_bounds_charge(b, 99, FB_HANDLES, 1, &e) == -EMFILE);
	CHECK(e && strstr(e->msg, "all users together"));
	fs_bounds_release(b, 2, FB_HANDLES, 1);
	CHECK(fs_bounds_charge(b, 99, FB_HANDLES, 1, NULL) == 0);
	err_free(e);
	fs_bounds_free(b);
}

static void test_bytes(void)
{
	struct fs_bounds *b = fs_bounds_new();
	struct err *e = NULL;
	size_t a = 0, c = 0, h, f, n;

	CHECK(fs_bounds_resize(b, 7, &a, 48 << 20, NULL) == 0 && a == 48 << 20);
	CHECK(fs_bounds_resize(b, 7, &c, 16 << 20, NULL) == 0);
	/* one byte past 64 MiB: refused, nothing changed */
	CHECK(fs_bounds_resize(b, 7, &c, (16 << 20) + 1, &e) == -ENOSPC && c == 16 << 20);
	CHECK(e && strstr(e->msg, "bytes held in scratch files"));
	/* shrinking gives back */
	CHECK(fs_bounds_resize(b, 7, &a, 0, NULL) == 0 && a == 0);
	CHECK(fs_bounds_usage(b, 7, &h, &f, &n) && n == 16 << 20);
	CHECK(fs_bounds_resize(b, 7, &c, 0, NULL) == 0);
	CHECK(!fs_bounds_usage(b, 7, &h, &f, &n));
	err_free(e);
	fs_bounds_free(b);
}

int main(void)
{
	RUN(test_files_per_uid);
	RUN(test_total);
	RUN(test_bytes);
	return unit_done();
}
