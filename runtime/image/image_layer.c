/*
 * image_layer.c - the image store's archives and layers (see image.c for
 * how an import goes): an archive staged into images/tmp/, a layer blob
 * unpacked by libarchive into layers/HEX with its entry names checked and
 * OCI whiteouts made overlayfs ones.
 */
#include "runtime/image/image.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <nettle/base16.h>
#include <nettle/sha2.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "engine/log.h"
#include "engine/mem.h"
#include "engine/obj.h"
#include "runtime/image/image_int.h"
#include "runtime/sys.h"

#define OVERLAY_OPAQUE_XATTR "trusted.overlay.opaque"
#define WHITEOUT_PREFIX	     ".wh."
#define WHITEOUT_OPAQUE	     ".wh..wh..opq"
#define COPY_BUF	     (128 * 1024)

/* ---- Archives ---- */

/* The name of an archive entry, or of a layer entry, without leading "./"
 * and "//" noise. */
static const char *skip_dot_slash(const char *p)
{
	while (p[0] == '.' && p[1] == '/')
		for (p += 2; *p == '/'; p++)
			;
	return p;
}

static int archive_fail(struct archive *a, const char *what, struct err **e)
{
	int code = archive_errno(a) > 0 ? archive_errno(a) : EINVAL;
	return err_make(e, code, "%s: %s", what, archive_error_string(a));
}

/* Writes the entry just read from a, and its data, with the disk writer
 * w; errors name the entry relative to root.  Unlike
 * archive_read_extract2(), a refused header is an error. */
static int entry_write(struct archive *a, struct archive *w, struct archive_entry *ent,
		       const char *root, struct err **e)
{
	const char *p = archive_entry_pathname(ent);
	size_t rl = strlen(root);
	_cleanup_free_ char *what = xstrdup(!strncmp(p, root, rl) && p[rl] == '/' ? p + rl + 1 : p);
	const void *data;
	size_t len;
	la_int64_t off;
	int ar = archive_write_header(w, ent);
	if (ar < ARCHIVE_WARN)
		return archive_fail(w, what, e);
	if (ar == ARCHIVE_WARN)
		log_warn("image", "%s: %s", what, archive_error_string(w));
	while ((ar = archive_read_data_block(a, &data, &len, &off)) == ARCHIVE_OK)
		if (archive_write_data_block(w, data, len, off) < ARCHIVE_WARN)
			return archive_fail(w, what, e);
	if (ar < ARCHIVE_WARN)
		return archive_fail(a, what, e);
	return archive_write_finish_entry(w) < ARCHIVE_WARN ? archive_fail(w, what, e) : 0;
}

/*
 * Unpacks the OCI archive at file into a new dir under images/tmp/ and
 * gives its path in *dir.  Only what a layout holds is taken (oci-layout,
 * index.json, blobs/sha256/HEX, all regular files, each once); names are
 * matched exactly, so nothing lands outside the dir.
 */
int image_archive_stage(struct image_store *s, const char *file, char **dir, struct err **e)
{
	_cleanup_free_ char *base = xasprintf("%s/oci", s->tmp);
	_cleanup_free_ char *d = image_tmp_name(base);
	if (mkdir(d, 0700) < 0)
		return err_make(e, errno, "%s: %s", d, strerror(errno));
	struct archive *a = archive_read_new(), *w = archive_write_disk_new();
	archive_read_support_format_tar(a);
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_none(a);
	archive_write_disk_set_options(w, ARCHIVE_EXTRACT_NO_OVERWRITE |
					      ARCHIVE_EXTRACT_SECURE_SYMLINKS |
					      ARCHIVE_EXTRACT_SECURE_NODOTDOT);
	struct archive_entry *ent;
	int r = 0, ar = archive_read_open_filename(a, file, COPY_BUF);
	while (!r && ar == ARCHIVE_OK && (ar = archive_read_next_header(a, &ent)) >= ARCHIVE_WARN) {
		const char *name = archive_entry_pathname(ent);
		name = name ? skip_dot_slash(name) : "";
		if (archive_entry_filetype(ent) != AE_IFREG ||
		    (strcmp(name, "oci-layout") && strcmp(name, "index.json") &&
		     (strncmp(name, "blobs/sha256/", 13) || !is_hex64(name + 13))))
			continue;
		_cleanup_free_ char *path = xasprintf("%s/%s", d, name);
		archive_entry_set_pathname(ent, path);
		archive_entry_set_perm(ent, 0600);
		r = entry_write(a, w, ent, d, e);
		ar = ARCHIVE_OK;
	}
	if (!r && ar != ARCHIVE_EOF)
		r = err_make(e, EINVAL, "archive %s: %s", file, archive_error_string(a));
	if (r < 0) {
		err_wrap(e, "archive %s", file);
		image_rm_logged(d);
	} else {
		*dir = STEAL_POINTER(&d);
	}
	archive_read_free(a);
	archive_write_free(w);
	return r;
}

/* ---- Layers ---- */

/* The compression a layer media type says: OCI's layer.v1.tar[+gzip|+zstd]
 * (also "nondistributable"), Docker's rootfs.diff.tar.gzip (also
 * "foreign"); COMP_UNKNOWN for anything else. */
enum comp image_layer_comp(const char *mt)
{
	static const char oci[] = "application/vnd.oci.image.layer.";
	static const char docker[] = "application/vnd.docker.image.rootfs.";
	const char *t = mt ? strstr(mt, ".tar") : NULL;
	if (!t || (strncmp(mt, oci, sizeof(oci) - 1) && strncmp(mt, docker, sizeof(docker) - 1)))
		return COMP_UNKNOWN;
	if (!strncmp(mt, oci, sizeof(oci) - 1))
		return !strcmp(t, ".tar")	 ? COMP_NONE
		       : !strcmp(t, ".tar+gzip") ? COMP_GZIP
		       : !strcmp(t, ".tar+zstd") ? COMP_ZSTD
						 : COMP_UNKNOWN;
	return !strcmp(t, ".tar.gzip") ? COMP_GZIP : COMP_UNKNOWN;
}

/*
 * The name of a layer entry as a path relative to the layer root, in *out
 * (the caller frees it): "./" and empty parts dropped, "" for the root
 * itself ("/", "./").  An absolute name or a ".." part is refused.
 */
static int layer_path(const char *name, char **out, struct err **e)
{
	if (!strcmp(name, "/") || !strcmp(name, "//")) {
		*out = xstrdup("");
		return 0;
	}
	if (name[0] == '/')
		return err_make(e, EINVAL, "layer entry '%s': absolute path refused", name);
	struct buf b = {0};
	buf_puts(&b, "");
	for (const char *p = name; *p;) {
		const char *end = strchrnul(p, '/');
		size_t n = end - p;
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			buf_free(&b);
			return err_make(e, EINVAL, "layer entry '%s': '..' refused", name);
		}
		if (n && !(n == 1 && p[0] == '.')) {
			if (b.len)
				buf_puts(&b, "/");
			buf_add(&b, p, n);
		}
		p = *end ? end + 1 : end;
	}
	*out = buf_steal(&b, NULL);
	return 0;
}

/* Opens the existing dir rel below rootfd, following no symlink on the
 * way.  Returns the fd or a negative errno. */
static int open_beneath_existing(int rootfd, const char *rel)
{
	int fd = dup(rootfd);
	_cleanup_free_ char *copy = xstrdup(rel);
	char *save = NULL;
	for (char *c = strtok_r(copy, "/", &save); c && fd >= 0; c = strtok_r(NULL, "/", &save)) {
		int next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int err = errno;
		close(fd);
		fd = next < 0 ? -err : next;
	}
	return fd;
}

/* Opens the dir rel below rootfd, making missing parts (0755), following
 * no symlink on the way.  Returns the fd or a negative errno. */
static int open_beneath(int rootfd, const char *rel)
{
	int fd = dup(rootfd);
	_cleanup_free_ char *copy = xstrdup(rel);
	char *save = NULL;
	for (char *c = strtok_r(copy, "/", &save); c && fd >= 0; c = strtok_r(NULL, "/", &save)) {
		int next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && mkdirat(fd, c, 0755) == 0)
			next = openat(fd, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int err = errno;
		close(fd);
		fd = next < 0 ? -err : next;
	}
	return fd;
}

/* Drops the entry's trusted.* xattrs (overlayfs metadata in a layer comes
 * from its whiteouts only, never from the tar as it is) and security.*
 * ones (file capabilities, security labels: a container gets its
 * privileges from its spec, never from its image's files). */
static void drop_overlay_xattrs(struct archive_entry *ent)
{
	int n = archive_entry_xattr_reset(ent), k = 0;
	struct xa {
		char *name;
		void *value;
		size_t size;
	} *keep = n ? xcalloc(n, sizeof(*keep)) : NULL;
	const char *name;
	const void *value;
	size_t size;
	while (archive_entry_xattr_next(ent, &name, &value, &size) == ARCHIVE_OK)
		if (strncmp(name, "trusted.", 8) && strncmp(name, "security.", 9)) {
			keep[k].name = xstrdup(name);
			keep[k].value = xmalloc(size + 1);
			memcpy(keep[k].value, value, size);
			keep[k++].size = size;
		}
	archive_entry_xattr_clear(ent);
	for (int i = 0; i < k; i++) {
		archive_entry_xattr_add_entry(ent, keep[i].name, keep[i].value, keep[i].size);
		free(keep[i].name);
		free(keep[i].value);
	}
	free(keep);
}

/* Checks that the hard link target rel (a clean relative path) is below
 * dir without going through a symlink, and is not a directory: link(2)
 * would follow a symlink on the way, out of the layer. */
static int link_target_ok(const char *dir, const char *rel, const char *name, struct err **e)
{
	_cleanup_free_ char *copy = xstrdup(rel);
	char *slash = strrchr(copy, '/');
	const char *last = copy;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;

	if (slash) {
		*slash = '\0';
		last = slash + 1;
		int sub = fd < 0 ? -EBADF : open_beneath_existing(fd, copy);
		if (fd >= 0)
			close(fd);
		fd = sub;
	}
	int ok =
	    fd >= 0 && fstatat(fd, last, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(st.st_mode);
	if (fd >= 0)
		close(fd);
	return ok ? 0
		  : err_make(
			e, EINVAL,
			"layer entry '%s': hard link to '%s', which is not a file of the layer "
			"(missing, a directory, or through a symlink)",
			name, rel);
}

/*
 * Points a layer entry at where it goes below dir.  Returns 1 when it is
 * to be written, 0 for one to skip (the root; ".wh..wh..opq", whose dir is
 * added to opaque as a NUL-terminated string; a device node, never made
 * from an image), or -EINVAL.  ".wh.NAME" is turned into a 0/0 char
 * device NAME.
 */
static int entry_prepare(struct archive_entry *ent, const char *dir, struct buf *opaque,
			 struct err **e)
{
	const char *name = archive_entry_pathname(ent);
	_cleanup_free_ char *rel = NULL, *full = NULL, *link = NULL, *abs = NULL;
	int r;
	if (!name)
		return err_make(e, EINVAL, "layer entry with an unreadable name");
	if ((r = layer_path(name, &rel, e)) < 0 || !*rel)
		return r; /* "/" is the layer dir itself */
	mode_t type = archive_entry_filetype(ent);
	if (type == AE_IFCHR || type == AE_IFBLK) {
		log_warn("image", "layer entry '%s': a device node, not made", name);
		return 0;
	}
	char *slash = strrchr(rel, '/');
	const char *base = slash ? slash + 1 : rel;
	int dlen = slash ? (int)(slash - rel) : 0;
	if (!strcmp(base, WHITEOUT_OPAQUE)) {
		buf_add(opaque, rel, dlen);
		buf_add(opaque, "", 1);
		return 0;
	}
	if (!strncmp(base, WHITEOUT_PREFIX, 4)) {
		const char *victim = base + 4;
		if (!*victim || !strcmp(victim, ".") || !strcmp(victim, ".."))
			return err_make(e, EINVAL, "layer entry '%s': bad whiteout", name);
		full = xasprintf("%s/%.*s%s%s", dir, dlen, rel, slash ? "/" : "", victim);
		archive_entry_set_hardlink(ent, NULL);
		archive_entry_set_symlink(ent, NULL);
		archive_entry_xattr_clear(ent);
		archive_entry_set_mode(ent, AE_IFCHR | 0);
		archive_entry_set_rdev(ent, makedev(0, 0));
		archive_entry_set_size(ent, 0);
		archive_entry_set_uid(ent, 0);
		archive_entry_set_gid(ent, 0);
	} else if (archive_entry_hardlink(ent)) {
		if ((r = layer_path(archive_entry_hardlink(ent), &link, e)) < 0 ||
		    (r = link_target_ok(dir, link, name, e)) < 0)
			return r;
		abs = xasprintf("%s/%s", dir, link);
		archive_entry_set_hardlink(ent, abs);
	}
	if (!full)
		full = xasprintf("%s/%s", dir, rel);
	drop_overlay_xattrs(ent);
	archive_entry_set_pathname(ent, full);
	return 1;
}

/* Marks each dir named in opaque (NUL-separated, relative to dir) as an
 * overlayfs opaque dir, refusing to follow symlinks on the way. */
static int mark_opaque(const char *dir, const struct buf *opaque, struct err **e)
{
	_cleanup_fd_ int rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return err_make(e, errno, "%s: %s", dir, strerror(errno));
	for (const char *p = opaque->s; p && p < opaque->s + opaque->len; p += strlen(p) + 1) {
		_cleanup_fd_ int fd = open_beneath(rootfd, p);
		int err = fd < 0 ? -fd : 0;
		if (fd >= 0 && fsetxattr(fd, OVERLAY_OPAQUE_XATTR, "y", 1, 0) < 0)
			err = errno;
		if (err == ENOTDIR || err == ELOOP)
			return err_make(e, EINVAL, "opaque dir '/%s': through a symlink", p);
		if (err)
			return err_make(e, err, "opaque dir '/%s': %s", p, strerror(err));
	}
	return 0;
}

/* ---- Reading a layer: the uncompressed stream, hashed as it goes ---- */

/*
 * A layer blob read through libarchive's raw format (which only
 * decompresses), so that the sha256 of the uncompressed tar, the diff_id,
 * comes out of the same single read that feeds the tar reader.
 */
struct layer_stream {
	struct archive *raw;
	struct sha256_ctx sha;
	int64_t bytes, max; /* uncompressed bytes read, and the most allowed */
	bool too_big;
};

static int stream_open(struct layer_stream *ls, const char *blob, enum comp comp, int64_t max,
		       struct err **e)
{
	struct archive_entry *ent;

	ls->raw = archive_read_new();
	ls->bytes = 0;
	ls->max = max;
	ls->too_big = false;
	sha256_init(&ls->sha);
	archive_read_support_format_raw(ls->raw);
	if (comp == COMP_GZIP)
		archive_read_support_filter_gzip(ls->raw);
	else if (comp == COMP_ZSTD)
		archive_read_support_filter_zstd(ls->raw);
	else
		archive_read_support_filter_none(ls->raw);
	if (archive_read_open_filename(ls->raw, blob, COPY_BUF) != ARCHIVE_OK ||
	    archive_read_next_header(ls->raw, &ent) != ARCHIVE_OK)
		return archive_fail(ls->raw, "layer", e);
	return 0;
}

/* The next block of the uncompressed stream: its length, 0 at the end, -1
 * on failure (too_big set when past max). */
static la_ssize_t stream_next(struct layer_stream *ls, const void **buf)
{
	size_t len;
	la_int64_t off;
	int ar = archive_read_data_block(ls->raw, buf, &len, &off);

	if (ar == ARCHIVE_EOF)
		return 0;
	if (ar < ARCHIVE_WARN)
		return -1;
	sha256_update(&ls->sha, len, *buf);
	ls->bytes += (int64_t)len;
	if (ls->bytes > ls->max) {
		ls->too_big = true;
		return -1;
	}
	return (la_ssize_t)len;
}

static la_ssize_t tar_read(struct archive *a, void *data, const void **buf)
{
	struct layer_stream *ls = data;
	la_ssize_t n = stream_next(ls, buf);

	if (n < 0)
		archive_set_error(a, ls->too_big ? EFBIG : EINVAL, "%s",
				  ls->too_big ? "the uncompressed layer is too large"
					      : archive_error_string(ls->raw));
	return n;
}

/* Reads the rest of the stream (what follows the tar's end) and checks
 * the sha256 of all of it against diff_id. */
static int stream_finish(struct layer_stream *ls, const char *diff_id, struct err **e)
{
	const void *buf;
	la_ssize_t n;
	uint8_t md[SHA256_DIGEST_SIZE];
	char hex[65];

	while ((n = stream_next(ls, &buf)) > 0)
		;
	if (n < 0 && ls->too_big)
		return err_make(e, EFBIG, "layer: more than %" PRId64 " bytes uncompressed",
				ls->max);
	if (n < 0)
		return archive_fail(ls->raw, "layer", e);
	sha256_digest(&ls->sha, sizeof(md), md);
	base16_encode_update(hex, sizeof(md), md);
	hex[64] = '\0';
	if (strcmp(hex, diff_id))
		return err_make(e, EINVAL,
				"layer: uncompressed digest sha256:%s is not the config's diff_id "
				"sha256:%s",
				hex, diff_id);
	return 0;
}

/* Charges a layer entry to b: -EFBIG past the entries or the bytes. */
static int budget_charge(struct unpack_budget *b, struct archive_entry *ent, struct err **e)
{
	int64_t size = archive_entry_filetype(ent) == AE_IFREG && !archive_entry_hardlink(ent)
			   ? archive_entry_size(ent)
			   : 0;

	if (--b->entries < 0)
		return err_make(e, EFBIG, "layer: more entries than the limit of an image");
	if (size < 0 || (b->bytes -= size) < 0)
		return err_make(e, EFBIG,
				"layer entry '%s': the image unpacks to more than its limit of "
				"bytes",
				archive_entry_pathname(ent));
	return 0;
}

/*
 * Unpacks the layer tar at blob into the existing empty dir `dir` (a real
 * path), turning OCI whiteouts into overlayfs ones and checking the
 * uncompressed stream against diff_id.  Opaque markers are applied at the
 * end, once the dir's own entry, wherever it was in the tar, has been
 * written.
 */
static int layer_extract(const char *blob, const char *dir, enum comp comp, const char *diff_id,
			 struct unpack_budget *b, struct err **e)
{
	struct layer_stream ls;
	/* the tar's own headers and padding on top of the files' bytes */
	int64_t max = b->bytes + (b->entries + 16) * 1536;
	int r = stream_open(&ls, blob, comp, max, e);
	struct archive *a = archive_read_new(), *w = archive_write_disk_new();
	archive_read_support_format_tar(a);
	archive_read_support_filter_none(a);
	archive_write_disk_set_options(w, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM |
					      ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR |
					      ARCHIVE_EXTRACT_SECURE_SYMLINKS |
					      ARCHIVE_EXTRACT_SECURE_NODOTDOT);
	struct buf opaque = {0};
	struct archive_entry *ent;
	if (r == 0 && archive_read_open(a, &ls, NULL, tar_read, NULL) != ARCHIVE_OK)
		r = archive_fail(a, "layer", e);
	int ar;
	while (r == 0 && (ar = archive_read_next_header(a, &ent)) != ARCHIVE_EOF) {
		if (ar < ARCHIVE_WARN)
			r = archive_fail(a, "layer", e);
		else if ((r = budget_charge(b, ent, e)) == 0 &&
			 (r = entry_prepare(ent, dir, &opaque, e)) > 0)
			r = entry_write(a, w, ent, dir, e);
	}
	if (r == 0 && archive_write_close(w) < ARCHIVE_WARN)
		r = archive_fail(w, "layer", e);
	if (r == 0)
		r = mark_opaque(dir, &opaque, e);
	if (r == 0)
		r = stream_finish(&ls, diff_id, e);
	buf_free(&opaque);
	archive_read_free(a);
	archive_write_free(w);
	archive_read_free(ls.raw);
	return r;
}

/* The diff_id of a layer already unpacked: diff_ids/HEX, written
 * once it was checked; else the blob is read again (a store older than
 * the check).  0 when it is diff_id. */
static int layer_check_known(struct image_store *s, const char *hex, enum comp comp,
			     const char *diff_id, struct err **e)
{
	_cleanup_free_ char *path = xasprintf("%s/diff_ids/%s", s->root, hex);
	_cleanup_free_ char *known = file_slurp(path);
	if (known)
		return strcmp(known, diff_id) == 0
			   ? 0
			   : err_make(e, EINVAL,
				      "layer: its uncompressed digest is sha256:%.64s, not the "
				      "config's diff_id sha256:%s",
				      known, diff_id);
	_cleanup_free_ char *blob = xasprintf("%s/%s", s->blobs, hex);
	struct layer_stream ls;
	int r = stream_open(&ls, blob, comp, s->max_bytes + (s->max_entries + 16) * 1536, e);
	if (r == 0)
		r = stream_finish(&ls, diff_id, e);
	archive_read_free(ls.raw);
	return r;
}

/* Writes diff_ids/HEX (synced, renamed into place). */
static void layer_note_diff_id(struct image_store *s, const char *hex, const char *diff_id)
{
	_cleanup_free_ char *path = xasprintf("%s/diff_ids/%s", s->root, hex);
	_cleanup_free_ char *tmp = image_tmp_name(path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	bool ok = fd >= 0 && write(fd, diff_id, 64) == 64 && fsync(fd) == 0;
	if (fd >= 0)
		close(fd);
	if (!ok || rename(tmp, path) < 0) {
		log_warn("image", "%s: %s", path, strerror(errno));
		unlink(tmp);
	}
}

/* Flushes everything under dir (one syncfs for its files and dirs), then
 * the dir's parent: a layer is trusted only once it is on disk. */
static int sync_tree(const char *dir, struct err **e)
{
	_cleanup_fd_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || syncfs(fd) < 0)
		return err_make(e, errno, "%s: sync: %s", dir, strerror(errno));
	return 0;
}

/* Makes layers/HEX from the layer blob HEX, unless it is there already. */
int image_layer_unpack(struct image_store *s, const char *hex, enum comp comp, const char *diff_id,
		       struct unpack_budget *b, struct err **e)
{
	_cleanup_free_ char *dst = xasprintf("%s/%s", s->layers, hex);
	int r;
	if (access(dst, F_OK) == 0) {
		if ((r = layer_check_known(s, hex, comp, diff_id, e)) == 0)
			layer_note_diff_id(s, hex, diff_id);
		return r < 0 ? err_wrap(e, "layer sha256:%s", hex) : 0;
	}
	_cleanup_free_ char *blob = xasprintf("%s/%s", s->blobs, hex);
	_cleanup_free_ char *tmp = image_tmp_name(dst);
	if (mkdir(tmp, 0755) < 0)
		return err_make(e, errno, "%s: %s", tmp, strerror(errno));
	r = layer_extract(blob, tmp, comp, diff_id, b, e);
	if (r == 0)
		r = sync_tree(tmp, e);
	if (r == 0 && rename(tmp, dst) < 0) {
		/* Another importer renamed the same layer into place first. */
		if (errno != EEXIST && errno != ENOTEMPTY)
			r = err_make(e, errno, "%s: %s", dst, strerror(errno));
		image_rm_logged(tmp);
	} else if (r < 0) {
		image_rm_logged(tmp);
		err_wrap(e, "layer sha256:%s", hex);
	} else {
		_cleanup_fd_ int pfd = open(s->layers, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (pfd < 0 || fsync(pfd) < 0)
			log_warn("image", "%s: fsync: %s", s->layers, strerror(errno));
		log_debug("image", "layer %s: unpacked", hex);
	}
	if (r == 0)
		layer_note_diff_id(s, hex, diff_id);
	return r;
}
