/*
 * unit.h - the smallest test harness: each test is a function; CHECK
 * records a failure and goes on; main prints "N passed, N failed" and
 * exits non-zero if any failed.
 *
 *     static void test_x(void) { CHECK(1 + 1 == 2); }
 *     int main(void) { RUN(test_x); return unit_done(); }
 *
 * Every program has a ceiling: an alarm set before main (300 s, or
 * CFS_UNIT_TIME_LIMIT seconds) ends a hung program with a failure instead
 * of hanging the run.  A test that cannot run here (no root, a tool
 * missing) calls unit_skip(WHY): a failure, unless CFS_ALLOW_SKIP=1.
 */
#ifndef CFS_UNIT_H
#define CFS_UNIT_H

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int unit_passed, unit_failed, unit_cur_failed, unit_in_run;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);          \
			unit_cur_failed = 1;                                                       \
		}                                                                                  \
	} while (0)

#define RUN(fn)                                                                                    \
	do {                                                                                       \
		unit_cur_failed = 0;                                                               \
		unit_in_run = 1;                                                                   \
		fn();                                                                              \
		unit_in_run = 0;                                                                   \
		if (unit_cur_failed)                                                               \
			unit_failed++;                                                             \
		else                                                                               \
			unit_passed++;                                                             \
		printf("%s %s\n", unit_cur_failed ? "FAIL" : "ok  ", #fn);                         \
	} while (0)

static void unit_on_alarm(int sig)
{
	static const char msg[] =
	    "FAIL: the unit program passed its time limit (CFS_UNIT_TIME_LIMIT)\n";
	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0) {
	}
	_exit(124);
}

/* Runs before main.  glibc passes argc and argv to constructors: a test
 * binary re-executed as a helper ("pause NAME") gets no alarm. */
__attribute__((constructor)) static void unit_arm_alarm(int argc, char **argv)
{
	if (argc >= 2 && argv && !strcmp(argv[1], "pause"))
		return;
	const char *v = getenv("CFS_UNIT_TIME_LIMIT");
	int secs = v && atoi(v) > 0 ? atoi(v) : 300;
	signal(SIGALRM, unit_on_alarm);
	alarm((unsigned)secs);
}

/* unit_skip WHY: this test (in a RUN) or the rest of the program (in
 * main) cannot run here.  A failure unless CFS_ALLOW_SKIP=1: the machines
 * that run `make test` have everything the tests need. */
static inline void unit_skip(const char *why)
{
	const char *allow = getenv("CFS_ALLOW_SKIP");
	if (allow && !strcmp(allow, "1")) {
		printf("skipped (CFS_ALLOW_SKIP=1): %s\n", why);
		return;
	}
	printf("FAIL skipped: %s (set CFS_ALLOW_SKIP=1 to allow)\n", why);
	if (unit_in_run)
		unit_cur_failed = 1;
	else
		unit_failed++;
}

static inline int unit_done(void)
{
	printf("%d passed, %d failed\n", unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif
