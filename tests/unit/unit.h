/*
 * unit.h - the smallest test harness: each test is a function; CHECK
 * records a failure and goes on; main prints "N passed, N failed" and
 * exits non-zero if any failed.
 *
 *     static void test_x(void) { CHECK(1 + 1 == 2); }
 *     int main(void) { RUN(test_x); return unit_done(); }
 */
#ifndef CFS_UNIT_H
#define CFS_UNIT_H

#include <stdio.h>

static int unit_passed, unit_failed, unit_cur_failed;

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "  FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			unit_cur_failed = 1;                                         \
		}                                                                    \
	} while (0)

#define RUN(fn)                                                  \
	do {                                                     \
		unit_cur_failed = 0;                             \
		fn();                                            \
		if (unit_cur_failed)                             \
			unit_failed++;                           \
		else                                             \
			unit_passed++;                           \
		printf("%s %s\n", unit_cur_failed ? "FAIL" : "ok  ", #fn); \
	} while (0)

static inline int unit_done(void)
{
	printf("%d passed, %d failed\n", unit_passed, unit_failed);
	return unit_failed ? 1 : 0;
}

#endif
