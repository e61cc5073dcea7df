/* SPDX-License-Identifier: GPL-2.0 */
/*
 * harness.h - the test harness of tracer_test, after the kernel's
 * tools/testing/selftests/kselftest_harness.h (much smaller; libc only)
 *
 * A test is a function registered by a macro (a constructor adds it to the
 * list: no table to edit, no limit on the number of tests):
 *
 *	#include "suite.h"
 *
 *	TEST(add_remove_twice, 30)		name, time limit in seconds
 *	{
 *		struct worker w;
 *
 *		if (worker_start(&w, 1))
 *			return -1;		failed; the helper said why
 *		CHECK(x == 1, "x is %d", x);	failf() and return -1
 *		if (!feature_present)
 *			SKIP("no such feature");
 *		return 0;			passed
 *	}
 *
 * TEST_ONCE: the test does not depend on the event source (-q leaves it
 * out); TEST_EXPLICIT: it runs only when named exactly (run.sh prepares
 * its setting first); TEST_FLAGS(name, secs, flags) for any mix, TT_LAST
 * to run after every other test.  TEST_VARIANTS(fn, table, secs, flags):
 * one test per element of an array, named by its .name member, run as
 * fn(&table[i]) (tracer_test/counts.c).  A time limit of TT_STRESS_TIME
 * is -t seconds + 120.  Names are unique (the runner refuses a name used
 * twice) and stable: run.sh and people select tests by name.
 *
 * Each test runs in a forked process (its own process group, a subreaper:
 * whatever it starts is killed after it), with its time limit, and prints
 * "ok N - name", "ok N - name # SKIP reason" or "not ok N - name # reason",
 * then "# tracer_test: P passed, F failed" at the end (skips pass).
 *
 * A new feature file: tests/tracer_test/FEATURE.c with its TEST()s,
 * listed in tracer_test_SRCS of tests/Makefile.  Tests run in the order of
 * that list, and in each file in the order they are written.  Shared
 * helpers belong in tests/lib/ (declared in suite.h), not in a test file.
 * The options (-l, -q, -s, -t, names) are in harness.c.
 */
#ifndef TESTS_HARNESS_H
#define TESTS_HARNESS_H

#include <sys/types.h>

#define TT_ONCE		0x1	/* not with -q: independent of the source */
#define TT_EXPLICIT	0x2	/* only when named exactly */
#define TT_LAST		0x4	/* after every other test */

#define TT_STRESS_TIME	(-1)	/* time limit: -t seconds + 120 */

#define TT_SKIP		4	/* return value and exit status: skipped */

struct tt_test {
	const char *name;
	int (*fn)(const void *arg);
	const void *arg;
	int timeout;		/* seconds, or TT_STRESS_TIME */
	unsigned int flags;	/* TT_* */
	const char *file;	/* where it is defined: the order */
	int line, sub;
};

/* Copies *t into the list of tests (called by the macros below). */
void tt_register(const struct tt_test *t);

/*
 * fn(pid) runs in the runner after every test, pid the test's process
 * (gone by then): a test file's clean-up of what a failed test may leave
 * in the kernel (register it from a constructor; at most 8).
 */
void tt_at_end(void (*fn)(pid_t pid));

#define TEST_FLAGS(name, secs, flags)					\
	static int test_##name(void);					\
	static int tt_run_##name(const void *arg)			\
	{								\
		(void)arg;						\
		return test_##name();					\
	}								\
	static void __attribute__((constructor)) tt_add_##name(void)	\
	{								\
		tt_register(&(struct tt_test){ #name, tt_run_##name,	\
			    NULL, (secs), (flags), __FILE__, __LINE__, 0 }); \
	}								\
	static int test_##name(void)

#define TEST(name, secs)		TEST_FLAGS(name, secs, 0)
#define TEST_ONCE(name, secs)		TEST_FLAGS(name, secs, TT_ONCE)
#define TEST_EXPLICIT(name, secs)	TEST_FLAGS(name, secs, TT_EXPLICIT)

#define TEST_VARIANTS(fn, table, secs, flags)				\
	static void __attribute__((constructor)) tt_add_##fn(void)	\
	{								\
		unsigned int _i;					\
									\
		for (_i = 0; _i < sizeof(table) / sizeof((table)[0]); _i++) \
			tt_register(&(struct tt_test){ (table)[_i].name, fn, \
				    &(table)[_i], (secs), (flags), __FILE__, \
				    __LINE__, (int)_i });		\
	}

/* -t: how long the stress tests run (seconds); the others scale on it. */
extern int tt_stress_secs;

/* Why the test failed: appended to the "not ok" line ("; " between). */
void failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A "# ..." line of its own. */
void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The reason shown after "# SKIP" (default: "not applicable here"). */
void skipf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define CHECK(cond, ...) do {						\
		if (!(cond)) {						\
			failf(__VA_ARGS__);				\
			return -1;					\
		}							\
	} while (0)

#define SKIP(...) do {							\
		skipf(__VA_ARGS__);					\
		return TT_SKIP;						\
	} while (0)

/*
 * Provided by the program (tests/lib/suite.c for tracer_test): set up
 * once before the first test runs; called in the runner before and after
 * each test.
 */
extern const char tt_program[];
void tt_setup(void);
void tt_before(const struct tt_test *t);
void tt_after(const struct tt_test *t);

#endif /* TESTS_HARNESS_H */
