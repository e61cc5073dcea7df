// SPDX-License-Identifier: GPL-2.0
/*
 * exit_report.c - TRACER_ADD_PROCESS_EX: its errors, FOLLOW_FORKS
 * (children and grandchildren get rows of their own), REPORT_EXIT (the
 * final row of an exited process, read(2) from the file it was added on,
 * with buffers of every size and validity); the caps on queued reports
 * and their memory charged to the opener's cgroup
 */
#include <sys/mount.h>
#include <sys/stat.h>

#include "suite.h"

TEST(ex_errors, 30)
{
	struct worker w;

	if (worker_start(&w, 1))
		return -1;
	CHECK_ERR(ex_add(g_tfd, w.pid, 1U << 2), EINVAL, "EX with unknown flag");
	CHECK_ERR(ex_add(g_tfd, w.pid, 0x80000000U), EINVAL,
		  "EX with unknown flag");
	if (row_absent(w.pid))
		return -1;
	CHECK_ERR(tr_ioctl(TRACER_ADD_PROCESS_EX, 0), EFAULT, "EX with NULL");
	CHECK_ERR(tr_ioctl(TRACER_ADD_PROCESS_EX, 8), EFAULT,
		  "EX with a bad pointer");
	CHECK_ERR(ex_add(g_tfd, 0, 0), EINVAL, "EX of PID 0");
	CHECK_ERR(ex_add(g_tfd, -5, 0), EINVAL, "EX of PID -5");
	CHECK_ERR(ex_add(g_tfd, INT_MAX, 0), ESRCH, "EX of PID INT_MAX");
	CHECK_ERR(ex_add(g_tfd, w.pid, 0), 0, "EX without flags");
	if (row_need(w.pid, NULL))
		return -1;
	CHECK_ERR(ex_add(g_tfd, w.pid, TRACER_ADD_FLAGS), EEXIST, "EX twice");
	CHECK_ERR(tr_add(w.pid), EEXIST, "add after EX");
	CHECK_ERR(tr_remove(w.pid), 0, "remove after EX");
	if (row_absent(w.pid))
		return -1;
	worker_kill(&w);
	return 0;
}

/* FOLLOW_FORKS: children and grandchildren get rows with exact counts. */
TEST(ex_follow_forks, 30)
{
	struct worker w;
	struct wslot *cs = slot_alloc(), *ds = slot_alloc();
	pid_t c, g;

	if (!cs || !ds || worker_start(&w, 2))
		return -1;
	CHECK_ERR(ex_add(g_tfd, w.pid, TRACER_FOLLOW_FORKS), 0, "EX follow");
	if (slot_fork(w.sl[0], cs, &c) || row_need(c, NULL) ||
	    slot_fork(cs, ds, &g) || row_need(g, NULL))
		return -1;
	/* Each row counts its own process only. */
	if (measure_op(c, cs, TTH_OP_KMALLOC_VAR, 300, 24, "followed child") ||
	    measure_op(g, ds, TTH_OP_MUTEX, 200, 0, "followed grandchild") ||
	    measure_op(w.pid, w.sl[1], TTH_OP_SEMA, 100, 0,
		       "the followed process"))
		return -1;
	kill(g, SIGKILL);
	kill(c, SIGKILL);
	worker_kill(&w);
	return 0;
}

/* REPORT_EXIT: the final row of an exited process is read from the fd. */
TEST(ex_report_exit, 30)
{
	struct tracer_record rec[4];
	struct worker w;
	struct proc_row last;
	char comm[16] = "";
	int fd, i, fd2;
	ssize_t r;

	fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open %s: %s", DEV_PATH, strerror(errno));
	r = read(fd, rec, sizeof(rec));
	CHECK(r == 0, "read with nothing queued returned %zd (%s)", r,
	      r < 0 ? strerror(errno) : "data");
	if (worker_start(&w, 1))
		return -1;
	CHECK_ERR(ex_add(fd, w.pid, TRACER_REPORT_EXIT), 0, "EX report");
	if (slot_op(w.sl[0], TTH_OP_KMALLOC_VAR, 400, 50, 0) ||
	    slot_op(w.sl[0], TTH_OP_SEMA, 40, 0, 0) ||
	    row_need(w.pid, &last))
		return -1;
	slot_post(w.sl[0], CMD_EXIT);
	if (wait_zombie(w.pid) || row_absent(w.pid))
		return -1;
	r = read(fd, rec, sizeof(rec[0]) - 1);
	CHECK(r <= 0, "read of less than a record returned %zd bytes", r);
	r = read(fd, rec, sizeof(rec));
	CHECK(r == (ssize_t)sizeof(rec[0]), "read returned %zd, expected one record (%zu)",
	      r, sizeof(rec[0]));
	CHECK(rec[0].pid == w.pid, "record pid %d, expected %d", rec[0].pid,
	      w.pid);
	CHECK(rec[0].ppid == getpid(), "record ppid %d, expected %d",
	      rec[0].ppid, getpid());
	prctl(PR_GET_NAME, comm);
	CHECK(!strncmp(rec[0].comm, comm, sizeof(rec[0].comm)),
	      "record comm '%.16s', expected '%s'", rec[0].comm, comm);
	for (i = 1; i < NCOL; i++)
		CHECK((long long)rec[0].count[i - 1] >= last.v[i] &&
		      (long long)rec[0].count[i - 1] < last.v[i] + 100000,
		      "record %s = %llu, last row had %lld", col_name[i],
		      (unsigned long long)rec[0].count[i - 1], last.v[i]);
	CHECK(rec[0].count[C_KMALLOC - 1] >= 400 && rec[0].count[C_UP - 1] >= 40,
	      "record counts too low");
	r = read(fd, rec, sizeof(rec));
	CHECK(r == 0, "second read returned %zd", r);
	if (reap(w.pid))
		return -1;

	/* A process reported on a file closed before it exits. */
	fd2 = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	CHECK(fd2 >= 0, "open: %s", strerror(errno));
	if (worker_start(&w, 2))
		return -1;
	CHECK_ERR(ex_add(fd2, w.pid, TRACER_ADD_FLAGS), 0, "EX report+follow");
	close(fd2);
	if (row_need(w.pid, NULL) ||
	    slot_op(w.sl[1], TTH_OP_KMALLOC_VAR, 10, 10, 0))
		return -1;
	if (worker_exit(&w) || row_absent(w.pid))
		return -1;
	/* Nothing of it on the first file. */
	r = read(fd, rec, sizeof(rec));
	CHECK(r == 0, "read on another file returned %zd", r);
	close(fd);
	return 0;
}

/* Queue the exit records of n workers on fd, in order; their PIDs. */
static int queue_records(int fd, pid_t *pids, int n)
{
	struct worker w;
	int i;

	for (i = 0; i < n; i++) {
		if (worker_start(&w, 1))
			return -1;
		CHECK_ERR(ex_add(fd, w.pid, TRACER_REPORT_EXIT), 0, "EX report");
		slot_post(w.sl[0], CMD_EXIT);
		if (wait_zombie(w.pid) || row_absent(w.pid))
			return -1;
		pids[i] = w.pid;
	}
	return 0;
}

/* read(fd, buf, len) must fail with errno want. */
static int read_fails(int fd, void *buf, size_t len, int want,
		      const char *what)
{
	ssize_t r = sys_read(fd, buf, len);

	CHECK(r < 0 && errno == want, "%s: read of %zu bytes returned %zd (%s), expected %s",
	      what, len, r, r < 0 ? strerror(errno) : "data", errname(want));
	return 0;
}

/* Exactly one record, of pid, from read(fd, buf, len). */
static int read_one(int fd, char *buf, size_t len, pid_t pid, const char *what)
{
	struct tracer_record rec;
	ssize_t r = read(fd, buf, len);

	CHECK(r == (ssize_t)REC_SIZE, "%s: read of %zu bytes returned %zd (%s), expected one record",
	      what, len, r, r < 0 ? strerror(errno) : "bytes");
	memcpy(&rec, buf, sizeof(rec));
	CHECK(rec.pid == pid, "%s: record of PID %d, expected %d", what,
	      rec.pid, pid);
	CHECK(rec.ppid == getpid(), "%s: record ppid %d, expected %d", what,
	      rec.ppid, getpid());
	return 0;
}

TEST_ONCE(dev_read_odd_sizes, 60)
{
	static const size_t small[] = { 0, 1, REC_SIZE / 2, REC_SIZE - 1 };
	long pg = sysconf(_SC_PAGESIZE);
	char buf[8 * REC_SIZE], *m;
	pid_t pids[3];
	size_t i;
	int fd;

	fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open: %s", strerror(errno));
	for (i = 0; i < ARRAY_SIZE(small); i++)
		if (read_fails(fd, buf, small[i], EINVAL, "nothing queued"))
			return -1;
	CHECK(read(fd, buf, REC_SIZE) == 0, "read with nothing queued: not 0");
	CHECK(read(fd, buf, REC_SIZE + 1) == 0, "read with nothing queued: not 0");
	/* Nothing to copy: not even a bad buffer is looked at. */
	CHECK(sys_read(fd, NULL, REC_SIZE) == 0, "read(NULL) with nothing queued: not 0");
	if (queue_records(fd, pids, 3))
		return -1;
	/* Too small, or a bad buffer: an error, and nothing is lost. */
	for (i = 0; i < ARRAY_SIZE(small); i++)
		if (read_fails(fd, buf, small[i], EINVAL, "3 records queued"))
			return -1;
	if (read_fails(fd, NULL, REC_SIZE, EFAULT, "NULL buffer") ||
	    read_fails(fd, (void *)8, 2 * REC_SIZE, EFAULT, "bad buffer"))
		return -1;
	/* Room for one record and a half, the rest PROT_NONE: one record,
	 * the second stays queued.
	 */
	m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED, "mmap");
	CHECK(!mprotect(m + pg, pg, PROT_NONE), "mprotect");
	if (read_one(fd, m + pg - REC_SIZE - REC_SIZE / 2, 3 * REC_SIZE,
		     pids[0], "buffer ending in a PROT_NONE page"))
		return -1;
	/* Less than two records of room: one. */
	if (read_one(fd, buf, 2 * REC_SIZE - 1, pids[1], "room for 1.99 records") ||
	    read_one(fd, buf, sizeof(buf), pids[2], "room for 8 records"))
		return -1;
	CHECK(read(fd, buf, sizeof(buf)) == 0, "a fourth record");
	for (i = 0; i < 3; i++)
		if (reap(pids[i]))
			return -1;
	/* Two records in one read, then none. */
	if (queue_records(fd, pids, 2))
		return -1;
	CHECK(read(fd, buf, 2 * REC_SIZE + REC_SIZE / 2) == 2 * (ssize_t)REC_SIZE,
	      "two queued records in one read of 2.5 records");
	CHECK(((struct tracer_record *)buf)[0].pid == pids[0] &&
	      ((struct tracer_record *)buf)[1].pid == pids[1],
	      "records out of order");
	CHECK(read(fd, buf, sizeof(buf)) == 0, "a third record");
	munmap(m, 2 * pg);
	close(fd);
	return reap(pids[0]) || reap(pids[1]) ? -1 : 0;
}

/*
 * Exit reports wait in kernel memory until read: max_reports caps one
 * file, max_reports_total all of them together (more are dropped and
 * counted in missed).
 */
#define CAP_TOTAL	10
#define CAP_FILES	3
#define CAP_EACH	5

static int reports_total_cap(int *fds)
{
	struct tracer_record rec[CAP_FILES * CAP_EACH];
	pid_t pids[CAP_EACH];
	long missed = param_long("missed");
	int i, got = 0;
	ssize_t r;

	for (i = 0; i < CAP_FILES; i++)
		if (queue_records(fds[i], pids, CAP_EACH))
			return -1;
	for (i = 0; i < CAP_FILES; i++) {
		r = read(fds[i], rec, sizeof(rec));
		CHECK(r >= 0 && r % REC_SIZE == 0, "read: %zd (%s)", r,
		      r < 0 ? strerror(errno) : "a part of a record");
		got += r / REC_SIZE;
	}
	CHECK(got == CAP_TOTAL, "%d records queued on %d files with max_reports_total=%d",
	      got, CAP_FILES, CAP_TOTAL);
	CHECK(param_long("missed") - missed == CAP_FILES * CAP_EACH - CAP_TOTAL,
	      "missed %+ld, expected %+d", param_long("missed") - missed,
	      CAP_FILES * CAP_EACH - CAP_TOTAL);
	return 0;
}

/* Run by run.sh, which then checks that missed grew by exactly those. */
TEST_EXPLICIT(reports_capped_in_all, 60)
{
	long old = param_long("max_reports_total");
	int fds[CAP_FILES], i, ret;
	char buf[32];

	CHECK(old > 0, "no max_reports_total parameter");
	snprintf(buf, sizeof(buf), "%d", CAP_TOTAL);
	CHECK(!write_str(PARAM_DIR "max_reports_total", buf), "set max_reports_total: %s",
	      strerror(errno));
	for (i = 0; i < CAP_FILES; i++)
		fds[i] = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ret = fds[0] < 0 || fds[1] < 0 || fds[2] < 0 ? -1 : reports_total_cap(fds);
	for (i = 0; i < CAP_FILES; i++)
		close(fds[i]);
	snprintf(buf, sizeof(buf), "%ld", old);
	CHECK(!write_str(PARAM_DIR "max_reports_total", buf), "restore max_reports_total");
	return ret;
}

/*
 * The entries of processes added with REPORT_EXIT are charged to the
 * memory cgroup of the file's opener: a process in a cgroup of its own
 * adds many, its cgroup's memory.current grows by at least their size.
 */
#define MEMCG_DIR	"/sys/fs/cgroup"
#define MEMCG_N		300
#define MEMCG_MIN	150	/* bytes an entry takes at least */

/*
 * memory.current, with the charge the CPUs hold in advance for the cgroup
 * (up to 64 pages each) given back first: lowering memory.high drains
 * those stocks (and never OOM-kills), which would otherwise hide up to
 * 256 KiB per CPU of new charges.  The drain of other CPUs is queued, so
 * give it a moment.
 */
static long memcg_current(const char *dir)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/memory.high", dir);
	if (write_str(path, "0") || write_str(path, "max"))
		return -1;
	msleep(100);
	snprintf(path, sizeof(path), "%s/memory.current", dir);
	return read_long(path);
}

static int memcg_opener(const char *dir, pid_t *pids, long *delta)
{
	char path[128], buf[16];
	long before;
	int fd, i;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	snprintf(buf, sizeof(buf), "%d", getpid());
	CHECK(!write_str(path, buf), "move to %s: %s", dir, strerror(errno));
	fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open: %s", strerror(errno));
	before = memcg_current(dir);
	for (i = 0; i < MEMCG_N; i++)
		CHECK_ERR(ex_add(fd, pids[i], TRACER_REPORT_EXIT), 0, "EX report");
	*delta = memcg_current(dir) - before;
	for (i = 0; i < MEMCG_N; i++)
		CHECK_ERR(tr_remove(pids[i]), 0, "remove");
	close(fd);
	return 0;
}

TEST_ONCE(reports_charged_to_opener, 120)
{
	char dir[64], ctl[256], cmdline[2048];
	pid_t pids[MEMCG_N], opener;
	long *delta;
	int i, st;

	if (access(MEMCG_DIR "/cgroup.controllers", F_OK) &&
	    mount("none", MEMCG_DIR, "cgroup2", 0, NULL))
		SKIP("no cgroup2 here: %s", strerror(errno));
	CHECK(read_file(MEMCG_DIR "/cgroup.controllers", ctl, sizeof(ctl)) > 0,
	      "read cgroup.controllers");
	if (!strstr(ctl, "memory"))
		SKIP("no memory controller");
	/* check-debug's suite boots so; it runs this test in a boot of its own. */
	if (read_file("/proc/cmdline", cmdline, sizeof(cmdline)) > 0 &&
	    strstr(cmdline, "cgroup.memory=nokmem"))
		SKIP("kernel memory accounting off (cgroup.memory=nokmem)");
	CHECK(!write_str(MEMCG_DIR "/cgroup.subtree_control", "+memory"),
	      "enable the memory controller: %s", strerror(errno));
	snprintf(dir, sizeof(dir), MEMCG_DIR "/tracer-test.%d", getpid());
	CHECK(!mkdir(dir, 0755), "mkdir %s: %s", dir, strerror(errno));
	delta = mmap(NULL, sizeof(*delta), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(delta != MAP_FAILED, "mmap");
	for (i = 0; i < MEMCG_N; i++) {
		pids[i] = fork();
		CHECK(pids[i] >= 0, "fork: %s", strerror(errno));
		if (!pids[i]) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
	}
	fflush(stdout);
	opener = fork();
	CHECK(opener >= 0, "fork");
	if (!opener)
		_exit(memcg_opener(dir, pids, delta) ? 1 : 0);
	CHECK(waitpid(opener, &st, 0) == opener && WIFEXITED(st) &&
	      !WEXITSTATUS(st), "the opener failed");
	for (i = 0; i < MEMCG_N; i++)
		kill(pids[i], SIGKILL);
	for (i = 0; i < MEMCG_N; i++)
		waitpid(pids[i], NULL, 0);
	rmdir(dir);
	diag("memory.current of the opener's cgroup: %+ld bytes for %d entries",
	     *delta, MEMCG_N);
	CHECK(*delta >= (long)MEMCG_N * MEMCG_MIN,
	      "the opener's cgroup was charged %ld bytes for %d entries (at least %d each expected)",
	      *delta, MEMCG_N, MEMCG_MIN);
	return 0;
}
