/*
 * driver.c - replays files through a fuzz harness without libFuzzer.
 *
 *     build/fuzz/regress_codec tests/fuzz/corpus/codec tests/fuzz/regress/codec
 *
 * Every regular file of every DIR (or a FILE named directly) is read whole
 * and passed to LLVMFuzzerTestOneInput(), in name order.  A missing DIR is
 * skipped (a harness that never crashed has no regress/ folder).  A crash
 * is the harness's abort() or a sanitizer's report: the file being replayed
 * is named on SIGABRT and SIGSEGV, and before each call with FUZZ_VERBOSE=1.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"

static const char *current;

static void on_crash(int sig)
{
	static const char what[] = "fuzz driver: crashed on ";
	if (current) {
		write(2, what, sizeof(what) - 1);
		write(2, current, strlen(current));
		write(2, "\n", 1);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static int replay(const char *path, int verbose)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	size_t cap = 4096, n = 0, r;
	uint8_t *buf = malloc(cap);
	while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap)
			buf = realloc(buf, cap *= 2);
	}
	fclose(f);
	if (!buf)
		abort();
	if (verbose)
		fprintf(stderr, "  %s\n", path);
	/* An exact-size copy, so that ASan sees a read past the input. */
	uint8_t *in = malloc(n ? n : 1);
	memcpy(in, buf, n);
	free(buf);
	current = path;
	LLVMFuzzerTestOneInput(in, n);
	current = NULL;
	free(in);
	return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int main(int argc, char **argv)
{
	int verbose = getenv("FUZZ_VERBOSE") != NULL, files = 0, failed = 0;
	signal(SIGABRT, on_crash);
	signal(SIGSEGV, on_crash);
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) < 0)
			continue;
		if (!S_ISDIR(st.st_mode)) {
			failed |= replay(argv[i], verbose) < 0;
			files++;
			continue;
		}
		struct dirent **ents;
		int n = scandir(argv[i], &ents, NULL, by_name);
		for (int j = 0; j < n; j++) {
			char path[4096];
			snprintf(path, sizeof(path), "%s/%s", argv[i], ents[j]->d_name);
			if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
				failed |= replay(path, verbose) < 0;
				files++;
			}
			free(ents[j]);
		}
		free(ents);
	}
	printf("%s: %d inputs replayed%s\n", argv[0], files, failed ? ", some unreadable" : "");
	return failed;
}
