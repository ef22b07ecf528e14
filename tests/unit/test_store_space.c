/*
 * test_store_space.c - the store on a full disk and under a quota: puts
 * are refused with ENOSPC and a message that says why, deletes always
 * work, and puts resume once there is room again (store_space.c).
 */
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/mem.h"
#include "engine/store/store.h"
#include "tests/unit/unit.h"

static char *dir;

struct op {
	const char *name;
	size_t size; /* put: bytes of data; 0: delete */
};

static int op_fn(struct store_txn *tx, void *arg, struct err **e)
{
	struct op *a = arg;

	if (!a->size)
		return store_txn_delete(tx, "ConfigMap", "default", a->name, e) < 0 ? -1 : 0;
	char *data = xmalloc(a->size + 1);
	memset(data, 'd', a->size);
	data[a->size] = '\0';
	json_t *obj = json_pack("{s:s, s:s, s:{s:s}, s:{s:s}}", "apiVersion", "v1", "kind",
				"ConfigMap", "metadata", "name", a->name, "data", "d", data);
	free(data);
	int64_t rv = store_txn_put(tx, "ConfigMap", "default", a->name, obj, true, e);
	return rv < 0 ? (int)rv : 0;
}

/* Puts (size > 0) or deletes configmap NAME; 0 or -errno, *msg the reason. */
static int op(struct store *st, const char *name, size_t size, char **msg)
{
	struct op a = {name, size};
	struct err *e = NULL;
	int r = store_update(st, op_fn, &a, &e);

	if (msg)
		*msg = e ? xstrdup(e->msg) : NULL;
	err_free(e);
	return r;
}

static struct store *open_store(void)
{
	struct store *st = NULL;
	struct err *e = NULL;
	char *path = xasprintf("%s/state.db", dir);

	if (store_open(path, &st, &e) < 0)
		fprintf(stderr, "  store_open: %s\n", e->msg);
	err_free(e);
	free(path);
	return st;
}

static off_t reserve_size(void)
{
	struct stat sb;
	char *path = xasprintf("%s/state.db.reserve", dir);
	off_t n = stat(path, &sb) == 0 ? sb.st_size : -1;

	free(path);
	return n;
}

static void test_quota_parse(void)
{
	struct store *st = open_store();
	struct err *e = NULL;

	CHECK(st != NULL);
	if (!st)
		return;
	CHECK(store_set_quota(st, "abc", &e) == -EINVAL && strstr(e->msg, "--store-quota"));
	CHECK(store_set_quota(st, "4096", &e) == -EINVAL); /* under the minimum */
	CHECK(store_set_quota(st, "1X", &e) == -EINVAL);
	CHECK(store_set_quota(st, "99999999999G", &e) == -EINVAL);
	CHECK(store_set_quota(st, "64Mi", NULL) == 0);
	CHECK(store_set_quota(st, "2G", NULL) == 0);
	CHECK(store_set_quota(st, "1048576", NULL) == 0);
	CHECK(store_set_quota(st, "0", NULL) == 0);
	err_free(e);
	store_close(st);
}

static void test_quota(void)
{
	struct store *st = open_store();
	char name[32], *msg = NULL;
	int n = 0, r = 0;

	CHECK(st != NULL);
	if (!st)
		return;
	CHECK(store_set_quota(st, "2M", NULL) == 0);
	/* 20 KiB each: about 40 KiB of pages per put (the row and its log row) */
	for (n = 0; n < 200; n++) {
		snprintf(name, sizeof(name), "cm%d", n);
		if ((r = op(st, name, 20 * 1024, &msg)) < 0)
			break;
	}
	printf("  %d puts of 20 KiB, then: %s\n", n, msg ? msg : "(none)");
	CHECK(r == -ENOSPC);
	CHECK(n > 20 && n < 60);
	CHECK(msg && strstr(msg, "database space exceeded") && strstr(msg, "--store-quota"));
	free(msg);
	/* refused, not half-done: the object is not there */
	CHECK(store_get(st, "ConfigMap", "default", name) == NULL);
	/* deletes work; a delete alone is room for nothing new yet */
	int ndel = 0;
	for (int i = 0; i < n; i += 2, ndel++) {
		snprintf(name, sizeof(name), "cm%d", i);
		CHECK(op(st, name, 0, NULL) == 0);
	}
	/* the log was compacted down to the newest revisions: room again */
	CHECK((r = op(st, "again", 20 * 1024, &msg)) == 0);
	if (r < 0)
		printf("  after %d deletes: %s\n", ndel, msg);
	free(msg);
	/* without a quota nothing is refused */
	CHECK(store_set_quota(st, "0", NULL) == 0);
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "more%d", i);
		CHECK(op(st, name, 20 * 1024, NULL) == 0);
	}
	store_close(st);
}

static void test_disk_full(void)
{
	struct store *st = open_store();
	char *msg = NULL;

	CHECK(st != NULL);
	if (!st)
		return;
	CHECK(reserve_size() == STORE_DISK_RESERVE);
	CHECK(op(st, "a", 100, NULL) == 0);
	CHECK(op(st, "b", 100, NULL) == 0);
	/* short of room: puts refused, the reserve still held */
	store_disk_free_for_test = STORE_DISK_LOW - 1;
	CHECK(op(st, "c", 100, &msg) == -ENOSPC);
	CHECK(msg && strstr(msg, "the disk is full") && strstr(msg, "delete objects"));
	free(msg);
	CHECK(reserve_size() == STORE_DISK_RESERVE);
	CHECK(op(st, "a", 0, NULL) == 0);
	/* nearly nothing left: the reserve is given back, deletes go on */
	store_disk_free_for_test = 4096;
	CHECK(op(st, "b", 0, NULL) == 0);
	CHECK(reserve_size() == -1);
	/* there is room, but the reserve is not back yet: still refused */
	store_disk_free_for_test = STORE_DISK_LOW + 1;
	CHECK(op(st, "c", 100, NULL) == -ENOSPC);
	/* room for the reserve and for writes: both back */
	store_disk_free_for_test = -1;
	CHECK(op(st, "c", 100, NULL) == 0);
	CHECK(reserve_size() == STORE_DISK_RESERVE);
	store_close(st);
	/* the reserve survives a restart */
	st = open_store();
	CHECK(st && reserve_size() == STORE_DISK_RESERVE);
	CHECK(st && op(st, "d", 100, NULL) == 0);
	store_close(st);
}

int main(void)
{
	dir = xstrdup("/tmp/cfs-test-space.XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_quota_parse);
	RUN(test_quota);
	RUN(test_disk_full);
	char *cmd = xasprintf("rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cleanup of %s failed\n", dir);
	free(cmd);
	free(dir);
	return unit_done();
}
