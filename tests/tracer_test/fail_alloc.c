// SPDX-License-Identifier: GPL-2.0
/*
 * fail_alloc.c - the module's allocations made to fail (fail_alloc, in the
 * debug build only): every request fails cleanly with ENOMEM, a failed
 * follow of a fork is counted as missed, and nothing leaks
 */
#include "suite.h"

#define NEED_FAIL_ALLOC() do {						\
		if (access(FAIL_ALLOC_PATH, F_OK))			\
			SKIP("no %s: not the debug build", FAIL_ALLOC_PATH); \
	} while (0)

/* With the module's allocation failing, add fails cleanly (ENOMEM). */
TEST(add_enomem_fail_alloc, 30)
{
	struct worker w;

	NEED_FAIL_ALLOC();
	if (worker_start(&w, 1) || fail_set(1))
		return -1;
	CHECK_ERR(tr_add(w.pid), ENOMEM, "add with a failing allocation");
	CHECK(read_long(FAIL_ALLOC_PATH) == 0, "fail_alloc not consumed");
	if (row_absent(w.pid))
		return -1;
	CHECK_ERR(tr_add(w.pid), 0, "add after the failure");
	if (row_need(w.pid, NULL))
		return -1;
	worker_kill(&w);
	return 0;
}

/* open(2) whose session cannot be allocated: ENOMEM, N times for N. */
TEST_ONCE(fail_alloc_open, 30)
{
	int fd, i;

	NEED_FAIL_ALLOC();
	if (fail_set(1))
		return -1;
	errno = 0;
	fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	CHECK(fd < 0 && errno == ENOMEM, "open with a failing allocation: %s",
	      fd < 0 ? strerror(errno) : "succeeded");
	CHECK(read_long(FAIL_ALLOC_PATH) == 0, "fail_alloc not consumed");
	if (fail_set(3))
		return -1;
	for (i = 0; i < 3; i++) {
		fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
		CHECK(fd < 0 && errno == ENOMEM, "open %d of 3 failing: %s", i + 1,
		      fd < 0 ? strerror(errno) : "succeeded");
	}
	fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open after the failures: %s", strerror(errno));
	close(fd);
	return 0;
}

/* TRACER_ADD_PROCESS_EX whose entry cannot be allocated: ENOMEM. */
TEST_ONCE(fail_alloc_ex_add, 30)
{
	struct worker w;
	long mon;
	int fd;

	NEED_FAIL_ALLOC();
	if (worker_start(&w, 1) || (fd = dev_open(DEV_PATH)) < 0)
		return -1;
	mon = param_long("monitored");
	if (fail_set(1))
		return -1;
	CHECK_ERR(ex_add(fd, w.pid, TRACER_ADD_FLAGS), ENOMEM,
		  "EX add with a failing allocation");
	CHECK(read_long(FAIL_ALLOC_PATH) == 0, "fail_alloc not consumed");
	if (row_absent(w.pid))
		return -1;
	CHECK(param_long("monitored") == mon, "monitored %ld -> %ld", mon,
	      param_long("monitored"));
	/* Errors found before the allocation do not consume it. */
	if (fail_set(1))
		return -1;
	CHECK_ERR(ex_add(fd, 0, 0), EINVAL, "EX of PID 0 with fail_alloc set");
	CHECK_ERR(ex_add(fd, w.pid, 4), EINVAL, "EX with a bad flag, fail_alloc set");
	CHECK_ERR(ex_add(fd, dead_pid(), 0), ESRCH, "EX of a dead PID, fail_alloc set");
	CHECK(read_long(FAIL_ALLOC_PATH) == 1, "fail_alloc consumed by a request that failed earlier");
	CHECK_ERR(tr_add(w.pid), ENOMEM, "add with fail_alloc still set");
	CHECK_ERR(ex_add(fd, w.pid, TRACER_ADD_FLAGS), 0, "EX add after the failure");
	if (row_need(w.pid, NULL))
		return -1;
	close(fd);
	worker_kill(&w);
	return 0;
}

/*
 * A followed process forks while the module's allocations fail: the child
 * gets no row, missed counts it, and the next fork is followed again.
 * Explicit: it makes missed non-zero (run.sh checks it is exactly 1).
 */
TEST_EXPLICIT(fail_alloc_follow_missed, 30)
{
	struct wslot *cs = slot_alloc(), *ds = slot_alloc();
	struct worker w;
	long missed0;
	pid_t c, d;

	NEED_FAIL_ALLOC();
	if (!cs || !ds || worker_start(&w, 1))
		return -1;
	CHECK_ERR(ex_add(g_tfd, w.pid, TRACER_FOLLOW_FORKS), 0, "EX follow");
	missed0 = read_long(MISSED_PATH);
	if (fail_set(1))
		return -1;
	if (slot_fork(w.sl[0], cs, &c) || row_absent(c))
		return -1;
	CHECK(read_long(FAIL_ALLOC_PATH) == 0, "fail_alloc not consumed by the fork");
	CHECK(read_long(MISSED_PATH) == missed0 + 1, "missed %ld -> %ld, expected +1",
	      missed0, read_long(MISSED_PATH));
	if (row_need(w.pid, NULL))
		return -1;
	if (slot_fork(w.sl[0], ds, &d) || row_need(d, NULL))
		return -1;
	CHECK(read_long(MISSED_PATH) == missed0 + 1, "missed %ld -> %ld after a followed fork",
	      missed0, read_long(MISSED_PATH));
	kill(c, SIGKILL);
	kill(d, SIGKILL);
	worker_kill(&w);
	return 0;
}

/*
 * In-use objects of the module's entry cache: shrunk first, or SLUB counts
 * the free objects of the slabs parked on per-CPU lists as in use (5.10
 * parks hundreds there).
 */
static long cache_objects(void)
{
	write_str("/sys/kernel/slab/tracer_proc/shrink", "1");
	return read_long("/sys/kernel/slab/tracer_proc/objects");
}

/* Entries are freed after a grace period: wait until the count is at most
 * below (below < 0: until it stops changing).
 */
static long cache_settle(long below)
{
	long n = cache_objects(), last = -1;
	int i;

	for (i = 0; i < 50; i++) {
		if (below >= 0 ? n <= below : n == last)
			break;
		msleep(100);
		last = n;
		n = cache_objects();
	}
	return n;
}

#define LEAK_N 1000

/* LEAK_N rounds of every failing path and of add/remove (see below). */
static int leak_rounds(int fd, struct worker *w, pid_t z)
{
	int i;

	for (i = 0; i < LEAK_N; i++) {
		CHECK_ERR(tr_add(w[0].pid), EEXIST, "add of a monitored process");
		CHECK_ERR(tr_add(z), ESRCH, "add of a zombie");
		CHECK_ERR(ex_add(fd, z, TRACER_REPORT_EXIT), ESRCH,
			  "EX add of a zombie");
		if (fail_set(1))
			return -1;
		CHECK_ERR(tr_add(w[1].pid), ENOMEM, "add, failing");
		CHECK_ERR(tr_add(w[1].pid), 0, "add");
		CHECK_ERR(tr_remove(w[1].pid), 0, "remove");
		CHECK_ERR(ex_add(fd, w[1].pid, TRACER_ADD_FLAGS), 0, "EX add");
		CHECK_ERR(tr_remove(w[1].pid), 0, "remove after EX");
	}
	return 0;
}

/*
 * Every failing path and every add/remove, LEAK_N times, twice: the entry
 * cache has exactly as many objects in use after as before (entries are
 * freed after an RCU grace period: wait for it).  If other caches were
 * merged into it, their objects are noise: LEAK_N / 10 then.
 */
TEST_ONCE(fail_alloc_no_leak, 120)
{
	struct worker w[2];
	long before, mid, after, mon, slack;
	pid_t z;
	int fd;

	NEED_FAIL_ALLOC();
	if (cache_objects() < 0)
		SKIP("no /sys/kernel/slab/tracer_proc/objects here");
	if (worker_start(&w[0], 1) || worker_start(&w[1], 1))
		return -1;
	z = make_zombie();
	CHECK(z > 0, "fork");
	fd = dev_open(DEV_PATH);
	if (fd < 0)
		return -1;
	CHECK_ERR(tr_add(w[0].pid), 0, "add");
	/* The file's spare entries (charged to its opener) exist from now. */
	CHECK_ERR(ex_add(fd, w[1].pid, TRACER_ADD_FLAGS), 0, "EX add");
	CHECK_ERR(tr_remove(w[1].pid), 0, "remove after EX");
	mon = param_long("monitored");
	slack = read_long("/sys/kernel/slab/tracer_proc/aliases") ? LEAK_N / 10 : 0;
	before = cache_settle(-1);
	if (leak_rounds(fd, w, z))
		return -1;
	mid = cache_settle(before + slack);
	if (leak_rounds(fd, w, z))
		return -1;
	after = cache_settle(before + slack);
	diag("tracer_proc cache%s: %ld objects in use before, %ld after %d times 8 requests, %ld after %d more",
	     slack ? " (shared)" : "", before, mid, LEAK_N, after, LEAK_N);
	CHECK(mid <= before + slack && after <= before + slack,
	      "entries in use: %ld, then %ld, then %ld: leaked", before, mid,
	      after);
	CHECK(param_long("monitored") == mon, "monitored %ld -> %ld", mon,
	      param_long("monitored"));
	close(fd);
	if (reap(z))
		return -1;
	worker_kill(&w[0]);
	worker_kill(&w[1]);
	return 0;
}
