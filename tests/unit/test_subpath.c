/*
 * test_subpath.c - runtime/kubelet/subpath.c: subPathExpr expansion, and
 * subpath_mount on a folder of its own (root: bind mounts): a file and a
 * made folder mounted, a symlink inside the volume followed, a symlink
 * out of it (absolute, or climbing with ..) refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "engine/mem.h"
#include "runtime/kubelet/subpath.h"
#include "runtime/sys.h"
#include "tests/unit/unit.h"

static void test_expand(void)
{
	json_t *ctr =
	    json_pack("{s:[{s:s,s:s},{s:s}]}", "env", "name", "A", "value", "one", "name", "B");
	const char *extra[] = {"B=two", "C=three", "B=four", NULL};
	struct {
		const char *in, *want;
	} t[] = {
	    {"logs/$(A)", "logs/one"},
	    {"$(B)/$(C)", "four/three"},
	    {"x/$(NOPE)", "x/$(NOPE)"},
	    {"$$(A)", "$(A)"},
	    {"$(A", "$(A"},
	    {"", ""},
	    {"a$(A)b$(C)c", "aonebthreec"},
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char *got = subpath_expand(t[i].in, ctr, extra);
		if (strcmp(got, t[i].want))
			fprintf(stderr, "  %s -> %s, want %s\n", t[i].in, got, t[i].want);
		CHECK(!strcmp(got, t[i].want));
		free(got);
	}
	json_decref(ctr);
}

static char *read_all(const char *path)
{
	char buf[64] = "";
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	return xstrdup(buf);
}

/* t/vol/name -> to */
static int link_in(const char *t, const char *name, const char *to)
{
	char *p = xasprintf("%s/vol/%s", t, name);
	int r = symlink(to, p);
	free(p);
	return r;
}

static void test_mount(void)
{
	if (geteuid() != 0) {
		unit_skip("not root: no bind mounts");
		return;
	}
	char tmpl[] = "/tmp/cfs-test-subpath.XXXXXX";
	char *t = mkdtemp(tmpl);
	CHECK(t != NULL);
	if (!t)
		return;
	char *vol = xasprintf("%s/vol", t), *stage = xasprintf("%s/stage/a/0", t);
	char *f = xasprintf("%s/vol/..d1/key", t), *p;
	struct err *e = NULL;
	mkdir(vol, 0755);
	p = xasprintf("%s/vol/..d1", t), mkdir(p, 0755), free(p);
	int fd = open(f, O_WRONLY | O_CREAT, 0644);
	CHECK(fd >= 0 && write(fd, "v1", 2) == 2);
	close(fd);
	CHECK(link_in(t, "..data", "..d1") == 0);
	CHECK(link_in(t, "key", "..data/key") == 0);
	CHECK(link_in(t, "out", "/etc") == 0);
	CHECK(link_in(t, "up", "../..") == 0);

	/* a key through its two links: the file itself */
	CHECK(subpath_mount(vol, "key", false, stage, &e) == 0);
	p = read_all(stage);
	CHECK(!strcmp(p, "v1"));
	free(p);
	CHECK(umount2(stage, MNT_DETACH) == 0);
	/* links out of the volume */
	CHECK(subpath_mount(vol, "out", true, stage, &e) == -EXDEV);
	CHECK(e && strstr(e->msg, "outside the volume"));
	err_free(e), e = NULL;
	CHECK(subpath_mount(vol, "up/etc", false, stage, &e) == -EXDEV);
	err_free(e), e = NULL;
	CHECK(subpath_mount(vol, "nosuch", false, stage, &e) == -ENOENT);
	err_free(e), e = NULL;
	/* an emptyDir's missing folders are made */
	char *dstage = xasprintf("%s/stage/a/1", t);
	CHECK(subpath_mount(vol, "x/y", true, dstage, &e) == 0);
	p = xasprintf("%s/vol/x/y", t);
	struct stat st;
	CHECK(stat(p, &st) == 0 && S_ISDIR(st.st_mode));
	free(p);
	CHECK(umount2(dstage, MNT_DETACH) == 0);
	err_free(e);
	rm_rf(t, NULL);
	free(dstage), free(vol), free(stage), free(f);
}

int main(void)
{
	RUN(test_expand);
	RUN(test_mount);
	return unit_done();
}
