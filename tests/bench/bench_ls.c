/*
 * bench_ls.c - time to list a kind folder of 10,000 objects.
 *
 *     $ build/bench/bench_ls /cluster
 *     created 10000 ConfigMaps in 20 writes of up to 500 to apply: 0.58 s (17159 objects/s)
 *     configmaps: 20000 names (0 before), 10000 of them ls-*.yaml; ls prints 20000 lines
 *     ls configmaps > /dev/null: n=10 p50 34.8 ms min 30.4 ms max 43.0 ms
 *     result ls_p50 34.77 ms
 *
 * It fills the folder through /cluster/apply, many ConfigMaps per write
 * (multi-document YAML, the fast path), checks that the folder lists
 * exactly those objects, then times:
 *   - `ls FOLDER > /dev/null` run as a subprocess (fork, exec, the
 *     listing, exit), the figure users see;
 *   - opendir + readdir to the end + closedir in this process, which is
 *     the filesystem's share of it;
 *   - `ls -l FOLDER > /dev/null` (a stat of every name; issue 16's target),
 *     its first run (nothing cached) printed apart: the filesystem answers
 *     readdirplus, names with their attributes, which the kernel keeps
 *     (fs/fs_cache.c), so the stats that follow ask nothing.
 * Each object appears twice in its folder (NAME/ and NAME.yaml), so a
 * folder of 10,000 objects holds 20,000 names.
 *
 * With -P DIR it makes the same names in a plain directory instead (a file
 * NAME.yaml and a folder NAME each) and times the same listings: the
 * floor set by ls itself and the kernel, for comparison.
 */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <spawn.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "tests/bench/bench.h"

#define PROG "bench_ls"

extern char **environ;

struct config {
	const char *plain; /* -P: a plain directory instead of a mount */
	const char *mnt;
	const char *folder; /* relative to mnt: "configmaps", "namespaces/NS/configmaps" */
	char ns[256];	    /* namespace of folder */
	long count;	    /* objects to create */
	long batch;	    /* documents per write to apply */
	int runs, lsl_runs;
};

/* Appends ConfigMap number i to the multi-document buffer at b. */
static size_t add_doc(const struct config *c, long i, char *b, size_t cap)
{
	int n = snprintf(b, cap,
			 "---\n"
			 "apiVersion: v1\n"
			 "kind: ConfigMap\n"
			 "metadata:\n"
			 "  name: ls-%05ld\n"
			 "  namespace: %s\n"
			 "data:\n"
			 "  index: \"%ld\"\n"
			 "  note: one of many objects listed by bench_ls\n",
			 i, c->ns, i);
	if (n < 0 || (size_t)n >= cap)
		bench_die(PROG, "document buffer too small");
	return (size_t)n;
}

/* Writes one batch of documents [from, to) to mnt/apply; exits on refusal. */
static void apply_batch(const struct config *c, long from, long to)
{
	size_t cap = (size_t)(to - from) * 256 + 1;
	char *buf = bench_alloc(cap), path[4096];
	size_t len = 0;
	for (long i = from; i < to; i++)
		len += add_doc(c, i, buf + len, cap - len);
	snprintf(path, sizeof(path), "%s/apply", c->mnt);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		bench_die(PROG, "%s: %s", path, strerror(errno));
	if (bench_write_all(fd, buf, len) < 0)
		bench_die(PROG, "writing %s: %s", path, strerror(errno));
	if (close(fd) < 0)
		bench_die(PROG, "applying documents %ld-%ld: %s (cat %s/errors)", from, to - 1,
			  strerror(errno), c->mnt);
	free(buf);
}

/* -P: makes ls-N.yaml (a small file) and ls-N/ for each object in dir. */
static void make_plain(const struct config *c, const char *dir)
{
	char path[4200], doc[512];
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		bench_die(PROG, "mkdir %s: %s", dir, strerror(errno));
	for (long i = 0; i < c->count; i++) {
		size_t len = add_doc(c, i, doc, sizeof(doc));
		snprintf(path, sizeof(path), "%s/ls-%05ld.yaml", dir, i);
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd < 0 || bench_write_all(fd, doc, len) < 0)
			bench_die(PROG, "%s: %s", path, strerror(errno));
		close(fd);
		snprintf(path, sizeof(path), "%s/ls-%05ld", dir, i);
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			bench_die(PROG, "mkdir %s: %s", path, strerror(errno));
	}
}

/* Creates the folder's namespace if it is not "default". */
static void ensure_namespace(const struct config *c)
{
	if (!strcmp(c->ns, "default"))
		return;
	char path[4096];
	snprintf(path, sizeof(path), "%s/namespaces/%s", c->mnt, c->ns);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		bench_die(PROG, "mkdir %s: %s", path, strerror(errno));
}

/*
 * Lists dir with readdir.  Returns the number of names (without "." and
 * ".."); *ours gets those of this benchmark's objects ("ls-*.yaml").
 */
static long list_dir(const char *dir, long *ours)
{
	DIR *d = opendir(dir);
	if (!d)
		bench_die(PROG, "opendir %s: %s", dir, strerror(errno));
	long n = 0, mine = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		const char *s = de->d_name;
		if (!strcmp(s, ".") || !strcmp(s, ".."))
			continue;
		n++;
		size_t l = strlen(s);
		if (!strncmp(s, "ls-", 3) && l > 5 && !strcmp(s + l - 5, ".yaml"))
			mine++;
	}
	if (errno)
		bench_die(PROG, "readdir %s: %s", dir, strerror(errno));
	closedir(d);
	if (ours)
		*ours = mine;
	return n;
}

/*
 * Runs `ls [-l] dir` with stdout on out_fd (-1: /dev/null); returns its
 * wall time in ms.  Exits if ls fails.
 */
static double run_ls(const char *dir, bool long_format, int out_fd)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	if (out_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
	else
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	char *argv[] = {"ls", long_format ? "-l" : (char *)dir, long_format ? (char *)dir : NULL,
			NULL};
	pid_t pid;
	int64_t t0 = bench_ns();
	int r = posix_spawnp(&pid, "ls", &fa, NULL, argv, environ);
	if (r != 0)
		bench_die(PROG, "spawning ls: %s", strerror(r));
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			bench_die(PROG, "waitpid: %s", strerror(errno));
	int64_t t1 = bench_ns();
	posix_spawn_file_actions_destroy(&fa);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		bench_die(PROG, "ls %s%s failed (status %d)", long_format ? "-l " : "", dir,
			  status);
	return (double)(t1 - t0) / 1e6;
}

/* Counts the lines `ls dir` prints: the check that ls sees every name. */
static long ls_lines(const char *dir)
{
	char tmpl[] = "/tmp/bench_ls.XXXXXX";
	int fd = mkstemp(tmpl);
	if (fd < 0)
		bench_die(PROG, "mkstemp: %s", strerror(errno));
	unlink(tmpl);
	run_ls(dir, false, fd);
	lseek(fd, 0, SEEK_SET);
	char buf[65536];
	long lines = 0;
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			lines += buf[i] == '\n';
	close(fd);
	return lines;
}

/* Prints one timing series and its result lines (KEY_p50, KEY_min) in ms. */
static void report(const char *key, const char *what, struct samples *ms)
{
	samples_sort(ms);
	printf("%s: n=%zu p50 %.1f ms min %.1f ms max %.1f ms\n", what, ms->n, samples_pct(ms, 50),
	       ms->v[0], ms->v[ms->n - 1]);
	char k[256];
	snprintf(k, sizeof(k), "%s_p50", key);
	bench_result(k, samples_pct(ms, 50), "ms");
	snprintf(k, sizeof(k), "%s_min", key);
	bench_result(k, ms->v[0], "ms");
}

/* Prints the usage on stderr and exits 2. */
static void usage(void)
{
	fputs("usage: " PROG
	      " [-n OBJECTS] [-b BATCH] [-r RUNS] [-L LS_L_RUNS] MOUNTPOINT [FOLDER]\n"
	      "       " PROG " [-n OBJECTS] [-r RUNS] [-L LS_L_RUNS] -P DIR\n"
	      "  FOLDER  kind folder below the mount (default configmaps; or\n"
	      "          namespaces/NS/configmaps, NS made if missing)\n"
	      "  -n      objects to create (default 10000)   -b  documents per write (500)\n"
	      "  -r      timed runs of ls and readdir (10)    -L  runs of ls -l (3)\n",
	      stderr);
	exit(2);
}

int main(int argc, char **argv)
{
	struct config c = {
	    .folder = "configmaps", .count = 10000, .batch = 500, .runs = 10, .lsl_runs = 3};
	int opt;
	while ((opt = getopt(argc, argv, "n:b:r:L:P:h")) != -1) {
		switch (opt) {
		case 'P':
			c.plain = optarg;
			break;
		case 'n':
			c.count = atol(optarg);
			break;
		case 'b':
			c.batch = atol(optarg);
			break;
		case 'r':
			c.runs = atoi(optarg);
			break;
		case 'L':
			c.lsl_runs = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (c.count < 1 || c.batch < 1 || c.runs < 1 ||
	    (c.plain ? optind != argc : optind >= argc || argc - optind > 2))
		usage();
	snprintf(c.ns, sizeof(c.ns), "default");
	char dir[4096];
	const char *key = c.plain ? "peer_" : "";
	if (c.plain) {
		snprintf(dir, sizeof(dir), "%s", c.plain);
		c.folder = c.plain;
		make_plain(&c, dir);
	} else {
		c.mnt = argv[optind];
		if (optind + 1 < argc)
			c.folder = argv[optind + 1];
		if (!strncmp(c.folder, "namespaces/", 11)) {
			const char *s = c.folder + 11, *slash = strchr(s, '/');
			if (!slash || (size_t)(slash - s) >= sizeof(c.ns))
				usage();
			snprintf(c.ns, sizeof(c.ns), "%.*s", (int)(slash - s), s);
		}
		snprintf(dir, sizeof(dir), "%s/%s", c.mnt, c.folder);
		ensure_namespace(&c);
	}

	long before = c.plain ? 0 : list_dir(dir, NULL);
	int64_t t0 = bench_ns();
	long writes = 0;
	for (long i = 0; !c.plain && i < c.count; i += c.batch, writes++)
		apply_batch(&c, i, i + c.batch < c.count ? i + c.batch : c.count);
	double secs = (double)(bench_ns() - t0) / 1e9;
	if (!c.plain) {
		printf("created %ld ConfigMaps in %ld writes of up to %ld to apply: %.2f s "
		       "(%.0f objects/s)\n",
		       c.count, writes, c.batch, secs, (double)c.count / secs);
		bench_result("ls_create_batched", (double)c.count / secs, "objects/s");
	}

	long ours, names = list_dir(dir, &ours);
	long lines = ls_lines(dir);
	printf("%s: %ld names (%ld before), %ld of them ls-*.yaml; ls prints %ld lines\n", c.folder,
	       names, before, ours, lines);
	if (ours != c.count || lines != names)
		bench_die(PROG, "%s: want %ld ls-*.yaml and ls to print every name", dir, c.count);
	if (names != 2 * c.count)
		printf("note: the folder held other objects too; figures are for %ld names\n",
		       names);

	struct samples ls = {0}, rd = {0}, lsl = {0};
	for (int r = 0; r < c.runs; r++) {
		samples_add(&ls, run_ls(dir, false, -1));
		int64_t t = bench_ns();
		list_dir(dir, NULL);
		samples_add(&rd, (double)(bench_ns() - t) / 1e6);
	}
	for (int r = 0; r < c.lsl_runs; r++)
		samples_add(&lsl, run_ls(dir, true, -1));
	char what[4200], k[64];
	snprintf(what, sizeof(what), "ls %s > /dev/null", c.folder);
	snprintf(k, sizeof(k), "%sls", key);
	report(k, what, &ls);
	snprintf(what, sizeof(what), "opendir+readdir+closedir %s", c.folder);
	snprintf(k, sizeof(k), "%sreaddir", key);
	report(k, what, &rd);
	if (lsl.n) {
		/* the first: nothing of the folder in the kernel's cache yet */
		printf("ls -l %s > /dev/null, first run: %.1f ms\n", c.folder, lsl.v[0]);
		snprintf(k, sizeof(k), "%sls_l_first", key);
		bench_result(k, lsl.v[0], "ms");
		snprintf(what, sizeof(what), "ls -l %s > /dev/null", c.folder);
		snprintf(k, sizeof(k), "%sls_l", key);
		report(k, what, &lsl);
	}
	samples_free(&ls);
	samples_free(&rd);
	samples_free(&lsl);
	return 0;
}
