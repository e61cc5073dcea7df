// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl.c - the table's format, TRACER_ADD_PROCESS and
 * TRACER_REMOVE_PROCESS: what they do, and every errno they answer
 */
#include <sys/stat.h>
#include <termios.h>

#include "suite.h"

TEST(proc_format, 30)
{
	struct stat st;
	struct proc_table t;
	char *buf, *nl;
	size_t len;

	CHECK(!stat(PROC_PATH, &st), "stat %s: %s", PROC_PATH, strerror(errno));
	CHECK(S_ISREG(st.st_mode), "%s is not a regular file", PROC_PATH);
	CHECK(!(st.st_mode & 0222), "%s is writable (mode %o)", PROC_PATH,
	      st.st_mode & 07777);
	buf = read_proc(&len);
	CHECK(buf, "read %s: %s", PROC_PATH, strerror(errno));
	nl = memchr(buf, '\n', len);
	CHECK(nl, "no header line");
	*nl = 0;
	{
		/* Header: the UAPI column names, in order, blank-separated. */
		char want[] = TRACER_PROC_COLUMNS, *a, *b, *sa, *sb;

		a = strtok_r(buf, " \t", &sa);
		b = strtok_r(want, " ", &sb);
		while (a && b) {
			CHECK(!strcmp(a, b), "header: '%s' where '%s' expected",
			      a, b);
			a = strtok_r(NULL, " \t", &sa);
			b = strtok_r(NULL, " ", &sb);
		}
		CHECK(!a && !b, "header has %s columns",
		      a ? "extra" : "missing");
	}
	free(buf);
	if (table_read(&t))
		return -1;
	free(t.rows);
	return 0;
}

TEST(add_remove, 30)
{
	struct worker w;

	if (worker_start(&w, 1) || row_absent(w.pid) || worker_asleep(&w))
		return -1;
	CHECK_ERR(tr_add(w.pid), 0, "add %d", w.pid);
	/* The worker sleeps in futex_wait: a new row is all zeros. */
	if (row_zero(w.pid, "new row"))
		return -1;
	CHECK_ERR(tr_remove(w.pid), 0, "remove %d", w.pid);
	if (row_absent(w.pid))
		return -1;
	CHECK_ERR(tr_remove(w.pid), ENOENT, "remove %d again", w.pid);
	CHECK_ERR(tr_add(w.pid), 0, "add %d again", w.pid);
	if (row_need(w.pid, NULL))
		return -1;
	worker_kill(&w);
	return 0;
}

TEST(err_esrch_nonexistent, 30)
{
	long pid_max = read_long("/proc/sys/kernel/pid_max");
	pid_t dead = dead_pid();

	CHECK(dead > 0, "fork: %s", strerror(errno));
	CHECK_ERR(tr_add(dead), ESRCH, "add of exited and reaped PID %d", dead);
	if (row_absent(dead))
		return -1;
	CHECK_ERR(tr_remove(dead), ESRCH, "remove of exited and reaped PID %d",
		  dead);
	CHECK_ERR(tr_add(INT_MAX), ESRCH, "add of PID INT_MAX");
	CHECK_ERR(tr_remove(INT_MAX), ESRCH, "remove of PID INT_MAX");
	if (pid_max > 0 && pid_max < INT_MAX) {
		CHECK_ERR(tr_add(pid_max), ESRCH, "add of PID pid_max=%ld",
			  pid_max);
		CHECK_ERR(tr_add(pid_max + 1), ESRCH, "add of PID pid_max+1");
	}
	return 0;
}

TEST(err_eexist_twice, 30)
{
	struct worker w;

	if (worker_start(&w, 2))
		return -1;
	CHECK_ERR(tr_add(w.pid), 0, "add %d", w.pid);
	CHECK_ERR(tr_add(w.pid), EEXIST, "second add of %d", w.pid);
	CHECK_ERR(tr_add(w.sl[1]->tid), EEXIST,
		  "add of thread %d of monitored %d", w.sl[1]->tid, w.pid);
	if (row_need(w.pid, NULL))
		return -1;
	worker_kill(&w);
	return 0;
}

TEST(err_enoent_not_monitored, 30)
{
	struct worker w;

	if (worker_start(&w, 1))
		return -1;
	CHECK_ERR(tr_remove(w.pid), ENOENT, "remove of unmonitored %d", w.pid);
	CHECK_ERR(tr_remove(getpid()), ENOENT, "remove of unmonitored self");
	CHECK_ERR(tr_remove(1), ENOENT, "remove of unmonitored PID 1");
	if (row_absent(w.pid))
		return -1;
	worker_kill(&w);
	return 0;
}

TEST(err_einval_pid, 30)
{
	static const struct {
		unsigned long v;
		const char *what;
	} bad[] = {
		{ 0, "0" },
		{ 0xffffffffUL, "(pid_t)-1 (32-bit)" },
		{ (unsigned long)-1L, "-1 (sign-extended)" },
		{ 0x80000000UL, "INT_MIN (32-bit)" },
		{ (unsigned long)(long)INT_MIN, "INT_MIN (sign-extended)" },
		{ 0xfffffc18UL, "-1000" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		CHECK_ERR(tr_ioctl(TRACER_ADD_PROCESS, bad[i].v), EINVAL,
			  "add of PID %s", bad[i].what);
		CHECK_ERR(tr_ioctl(TRACER_REMOVE_PROCESS, bad[i].v), EINVAL,
			  "remove of PID %s", bad[i].what);
	}
	return 0;
}

TEST(err_enotty_request, 30)
{
	static const struct {
		unsigned long req;
		const char *what;
	} bad[] = {
		{ _IOW(_IOC_WRITE, 44, __kernel_pid_t), "nr 44" },
		{ _IOW(_IOC_WRITE, 41, __kernel_pid_t), "nr 41" },
		{ _IO(_IOC_WRITE, 42), "ADD without size" },
		{ _IOR(_IOC_WRITE, 42, __kernel_pid_t), "ADD as _IOR" },
		{ _IOW('t', 42, __kernel_pid_t), "ADD with type 't'" },
		{ _IOW(_IOC_WRITE, 42, long long), "ADD with 8-byte size" },
		{ 0, "request 0" },
		{ TCGETS, "TCGETS" },
	};
	struct worker w;
	size_t i;

	if (worker_start(&w, 1))
		return -1;
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		CHECK_ERR(tr_ioctl(bad[i].req, w.pid), ENOTTY,
			  "request %s (0x%lx)", bad[i].what, bad[i].req);
	if (row_absent(w.pid))
		return -1;
	worker_kill(&w);
	return 0;
}

TEST(thread_id_is_process, 30)
{
	struct worker w;
	pid_t t1, t2;

	if (worker_start(&w, 3))
		return -1;
	t1 = w.sl[1]->tid;
	t2 = w.sl[2]->tid;
	CHECK(t1 != w.pid && t2 != w.pid && t1 != t2, "bad thread ids");
	CHECK_ERR(tr_add(t2), 0, "add of thread %d of %d", t2, w.pid);
	if (row_need(w.pid, NULL) || row_absent(t2) || row_absent(t1))
		return -1;
	CHECK_ERR(tr_add(w.pid), EEXIST, "add of %d after add of its thread",
		  w.pid);
	CHECK_ERR(tr_remove(t1), 0, "remove of thread %d of %d", t1, w.pid);
	if (row_absent(w.pid))
		return -1;
	CHECK_ERR(tr_remove(w.pid), ENOENT, "remove of %d after remove by thread",
		  w.pid);
	CHECK_ERR(tr_remove(t2), ENOENT, "remove of thread %d again", t2);
	worker_kill(&w);
	return 0;
}

/* A process adds and removes itself. */
TEST(add_remove_self, 30)
{
	struct worker w;
	int err;

	if (worker_start(&w, 2))
		return -1;
	if (slot_tracer(w.sl[0], TRACER_ADD_PROCESS, w.pid, &err))
		return -1;
	CHECK(!err, "self add: %s", errname(err));
	if (row_need(w.pid, NULL))
		return -1;
	if (slot_tracer(w.sl[1], TRACER_ADD_PROCESS, w.sl[1]->tid, &err))
		return -1;
	CHECK(err == EEXIST, "self add again by its thread id: expected EEXIST, got %s",
	      errname(err));
	if (slot_tracer(w.sl[1], TRACER_REMOVE_PROCESS, w.pid, &err))
		return -1;
	CHECK(!err, "self remove: %s", errname(err));
	if (row_absent(w.pid))
		return -1;
	worker_kill(&w);
	return 0;
}
