// SPDX-License-Identifier: GPL-2.0
/*
 * lifecycle.c - a monitored process's row from add to exit: threads, the
 * leader exiting first, remove, several processes and threads at once,
 * unmonitored processes and children, PIDs and thread IDs used again, the
 * probes' filter slots shared by two PIDs; and the table empty at the end
 */

#include "suite.h"

TEST(exit_removes_row_zombie, 30)
{
	struct worker w;

	if (worker_start(&w, 1))
		return -1;
	CHECK_ERR(tr_add(w.pid), 0, "add");
	if (measure_op(w.pid, w.sl[0], TTH_OP_KMALLOC_VAR, 10, 10, "before exit"))
		return -1;
	slot_post(w.sl[0], CMD_EXIT);
	if (wait_zombie(w.pid))
		return -1;
	CHECK(task_state(w.pid, w.pid) == 'Z', "worker %d is not a zombie",
	      w.pid);
	/* Exited, not reaped: its row must already be gone. */
	if (row_absent(w.pid))
		return -1;
	CHECK_ERR(tr_remove(w.pid), ENOENT, "remove of zombie %d", w.pid);
	CHECK_ERR(tr_add(w.pid), ESRCH, "add of zombie %d", w.pid);
	return row_absent(w.pid) || reap(w.pid) || row_absent(w.pid) ? -1 : 0;
}

/*
 * Threads: a thread that exits leaves the row; the leader exiting first
 * leaves it too (the process lives on); the row goes with the last thread.
 */
TEST(exit_threads_leader_first, 30)
{
	struct worker w;

	if (worker_start(&w, 3) || pin(w.pid, 0) ||
	    slot_op(w.sl[1], TTH_OP_KMALLOC_VAR, 100, 40, 0) ||
	    slot_op(w.sl[1], TTH_OP_KMALLOC_CONST, 55, 0, 0))
		return -1;
	CHECK_ERR(tr_add(w.pid), 0, "add");
	slot_post(w.sl[2], CMD_THREAD_EXIT);
	if (slot_wait(w.sl[2]) || wait_thread_exit(w.pid, w.sl[2]->tid) ||
	    measure_op(w.pid, w.sl[1], TTH_OP_KMALLOC_VAR, 100, 40,
		       "thread 1 after thread 2 exited"))
		return -1;
	/* The leader exits; thread 1 goes on. */
	slot_post(w.sl[0], CMD_THREAD_EXIT);
	if (slot_wait(w.sl[0]) || wait_thread_exit(w.pid, w.pid) ||
	    row_need(w.pid, NULL) ||
	    measure_op(w.pid, w.sl[1], TTH_OP_MUTEX, 77, 0,
		       "thread 1 after the leader exited") ||
	    measure_op(w.pid, w.sl[1], TTH_OP_KMALLOC_CONST, 55, 0,
		       "thread 1 after the leader exited"))
		return -1;
	slot_post(w.sl[1], CMD_THREAD_EXIT);
	return wait_zombie(w.pid) || row_absent(w.pid) ? -1 : reap(w.pid);
}

/* After TRACER_REMOVE_PROCESS nothing is counted; re-adding starts at 0. */
TEST(remove_stops_counting, 30)
{
	struct worker w;

	if (worker_start(&w, 1) || pin(w.pid, 0) ||
	    slot_op(w.sl[0], TTH_OP_KMALLOC_VAR, 300, 64, 0))
		return -1;
	CHECK_ERR(tr_add(w.pid), 0, "add");
	if (measure_op(w.pid, w.sl[0], TTH_OP_KMALLOC_VAR, 300, 64, "monitored"))
		return -1;
	CHECK_ERR(tr_remove(w.pid), 0, "remove");
	if (slot_op(w.sl[0], TTH_OP_KMALLOC_VAR, 300, 64, 0) ||
	    slot_op(w.sl[0], TTH_OP_MUTEX, 300, 0, 0) || row_absent(w.pid) ||
	    worker_asleep(&w))
		return -1;
	CHECK_ERR(tr_add(w.pid), 0, "add again");
	if (row_zero(w.pid, "re-added row") ||
	    measure_op(w.pid, w.sl[0], TTH_OP_SEMA, 123, 0, "re-added"))
		return -1;
	worker_kill(&w);
	return 0;
}

/* Several threads, different operations at the same time: one row. */
TEST(threads_sum_into_process, 60)
{
	struct worker w;
	struct proc_row a;
	struct expect e;
	int i;

	if (worker_start(&w, 4))
		return -1;
	/* Warm-up, not measured (see counts.c). */
	if (slot_op(w.sl[0], TTH_OP_KMALLOC_VAR, 1000, 100, 0) ||
	    slot_op(w.sl[3], TTH_OP_KMALLOC_CONST, 4000, 0, 0))
		return -1;
	CHECK_ERR(tr_add(w.pid), 0, "add");
	for (i = 1; i < 4; i++)
		if (row_absent(w.sl[i]->tid))
			return -1;
	if (row_need(w.pid, &a))
		return -1;
	slot_set_op(w.sl[0], TTH_OP_KMALLOC_VAR, 1000, 100, 0);
	slot_set_op(w.sl[1], TTH_OP_MUTEX, 2000, 0, 0);
	slot_set_op(w.sl[2], TTH_OP_SEMA, 3000, 0, 0);
	slot_set_op(w.sl[3], TTH_OP_KMALLOC_CONST, 4000, 0, 0);
	for (i = 0; i < 4; i++)
		slot_post(w.sl[i], CMD_RUN);
	for (i = 0; i < 4; i++)
		if (slot_wait(w.sl[i]) || slot_check_ret(w.sl[i]))
			return -1;
	expect_zero(&e);
	e.v[C_KMALLOC] = e.v[C_KFREE] = 5000;
	e.v[C_KMALLOC_MEM] = e.v[C_KFREE_MEM] = 1000 * 100 + 4000 * TTH_CONST_SIZE;
	e.v[C_LOCK] = e.v[C_UNLOCK] = 2000;
	e.v[C_UP] = e.v[C_DOWN] = 3000;
	if (check_since(w.pid, &a, &e, "4 threads"))
		return -1;
	worker_kill(&w);
	return 0;
}

/* Several monitored processes at once, each with its own exact counts. */
TEST(several_processes, 60)
{
	struct worker w[4];
	struct proc_row a[4];
	struct expect e;
	char what[32];
	int i;

	for (i = 0; i < 4; i++) {
		if (worker_start(&w[i], 2) ||
		    slot_op(w[i].sl[0], TTH_OP_KMALLOC_VAR, 100 * (i + 1),
			    16 + 8 * i, 0))	/* warm-up (see counts.c) */
			return -1;
		CHECK_ERR(tr_add(w[i].pid), 0, "add %d", i);
	}
	for (i = 0; i < 4; i++)
		if (row_need(w[i].pid, &a[i]))
			return -1;
	for (i = 0; i < 4; i++) {
		slot_set_op(w[i].sl[0], TTH_OP_KMALLOC_VAR, 100 * (i + 1),
			    16 + 8 * i, 0);
		slot_set_op(w[i].sl[1], TTH_OP_MUTEX, 50 * (i + 1), 0, 0);
	}
	for (i = 0; i < 8; i++)
		slot_post(w[i / 2].sl[i % 2], CMD_RUN);
	for (i = 0; i < 8; i++)
		if (slot_wait(w[i / 2].sl[i % 2]) ||
		    slot_check_ret(w[i / 2].sl[i % 2]))
			return -1;
	for (i = 0; i < 4; i++) {
		expect_alloc(&e, 100 * (i + 1), 16 + 8 * i);
		e.v[C_LOCK] = e.v[C_UNLOCK] = 50 * (i + 1);
		snprintf(what, sizeof(what), "process %d", i);
		if (check_since(w[i].pid, &a[i], &e, what))
			return -1;
	}
	for (i = 0; i < 4; i++)
		worker_kill(&w[i]);
	return 0;
}

/* An unmonitored process's activity shows nowhere. */
TEST(untraced_process, 60)
{
	struct worker u, m;
	struct proc_row a;
	struct expect e;

	if (worker_start(&u, 1) || worker_start(&m, 1))
		return -1;
	CHECK_ERR(tr_add(m.pid), 0, "add M");
	expect_zero(&e);
	if (row_need(m.pid, &a) || slot_work(u.sl[0]) ||
	    slot_op(u.sl[0], TTH_OP_SCHEDULE, 100, 0, 0) ||
	    row_absent(u.pid) ||
	    check_since(m.pid, &a, &e,
			"idle monitored M while unmonitored U works"))
		return -1;
	worker_kill(&u);
	worker_kill(&m);
	return 0;
}

/* A child forked by a monitored process is not monitored. */
TEST(forked_child_not_monitored, 30)
{
	struct worker w;
	struct wslot *cs = slot_alloc();
	struct proc_row a;
	struct expect e;
	pid_t c;

	if (!cs || worker_start(&w, 1))
		return -1;
	CHECK_ERR(tr_add(w.pid), 0, "add");
	expect_zero(&e);
	if (slot_fork(w.sl[0], cs, &c) || row_absent(c) ||
	    row_need(w.pid, &a) ||
	    slot_op(cs, TTH_OP_KMALLOC_VAR, 500, 100, 0) ||
	    slot_op(cs, TTH_OP_MUTEX, 500, 0, 0) || row_absent(c) ||
	    check_since(w.pid, &a, &e, "monitored parent while its child works"))
		return -1;
	kill(c, SIGKILL);
	worker_kill(&w);
	return 0;
}

/* A process that gets the PID of an exited monitored one starts clean. */
TEST(pid_reuse, 60)
{
	struct worker w, n = { 0 };
	struct proc_row d;
	pid_t old;
	int try;

	for (try = 0; try < 5; try++) {
		if (worker_start(&w, 1))
			return -1;
		old = w.pid;
		CHECK_ERR(tr_add(old), 0, "add");
		if (measure(old, w.sl[0], TTH_OP_KMALLOC_VAR, 100, 100, 0, &d) ||
		    worker_exit(&w) || row_absent(old) ||
		    worker_start_at(&n, old))
			return -1;
		if (n.pid == old)
			break;
		diag("pid_reuse: got PID %d instead of %d, retrying", n.pid,
		     old);
		worker_kill(&n);
	}
	CHECK(n.pid == old, "could not get PID %d again", old);
	if (row_absent(n.pid) ||
	    slot_op(n.sl[0], TTH_OP_KMALLOC_VAR, 100, 100, 0) ||
	    row_absent(n.pid) || worker_asleep(&n))
		return -1;
	CHECK_ERR(tr_add(n.pid), 0, "add of the new process");
	if (row_zero(n.pid, "new process with reused PID") ||
	    measure_op(n.pid, n.sl[0], TTH_OP_KMALLOC_VAR, 7, 9,
		       "new process with reused PID"))
		return -1;
	worker_kill(&n);
	return 0;
}

/*
 * The probes' first test is a counting filter indexed by TGID modulo 2^15
 * (src/tracer.h, TRACER_FILTER_BITS; any smaller power of two collides
 * too): processes whose PIDs differ by 32768 share a slot.  An unmonitored
 * process in a monitored one's slot is not counted (the table decides),
 * and the slot counts: removing one of two monitored processes that share
 * it keeps the other one counted.
 */
static int filter_collision(struct worker *m, struct worker *u)
{
	struct proc_row a;
	struct expect e;

	if (worker_start(m, 1) || worker_start_pid(u, m->pid + 32768))
		return -1;
	CHECK_ERR(tr_add(m->pid), 0, "add M");
	/* U works in M's filter slot: M's row does not move, U has none. */
	expect_zero(&e);
	if (row_need(m->pid, &a) || slot_work(u->sl[0]) ||
	    row_absent(u->pid) ||
	    check_since(m->pid, &a, &e,
			"monitored M while unmonitored U (same filter slot) works"))
		return -1;
	/* Both monitored, then U removed: M still counts, exactly. */
	CHECK_ERR(tr_add(u->pid), 0, "add U");
	if (measure_op(u->pid, u->sl[0], TTH_OP_KMALLOC_VAR, 300, 40,
		       "U monitored in M's filter slot"))
		return -1;
	CHECK_ERR(tr_remove(u->pid), 0, "remove U");
	return measure_op(m->pid, m->sl[0], TTH_OP_KMALLOC_VAR, 500, 72,
			  "M after U, in its filter slot, was removed");
}

TEST(filter_slot_collision, 60)
{
	long pid_max = read_long("/proc/sys/kernel/pid_max");
	struct worker m = { 0 }, u = { 0 };
	char buf[32];
	int ret;

	CHECK(pid_max > 0, "cannot read pid_max");
	/* Room for PIDs 32768 above the next ones. */
	snprintf(buf, sizeof(buf), "%ld", pid_max + 2 * 32768);
	CHECK(!write_str("/proc/sys/kernel/pid_max", buf),
	      "cannot raise pid_max: %s", strerror(errno));
	ret = filter_collision(&m, &u);
	worker_kill(&u);
	worker_kill(&m);
	snprintf(buf, sizeof(buf), "%ld", pid_max);
	CHECK(!write_str("/proc/sys/kernel/pid_max", buf),
	      "cannot restore pid_max: %s", strerror(errno));
	return ret;
}

/* A new process given the TID of a monitored process's exited thread is
 * not monitored, and the process keeps its row.
 */
TEST(pid_reuse_thread_id, 60)
{
	struct worker w, n = { 0 };
	struct proc_row r0;
	struct expect e;
	pid_t old = 0;
	int try;

	for (try = 0; try < 5; try++) {
		if (worker_start(&w, 2))
			return -1;
		CHECK_ERR(tr_add(w.pid), 0, "add");
		old = w.sl[1]->tid;
		slot_post(w.sl[1], CMD_THREAD_EXIT);
		if (slot_wait(w.sl[1]) || wait_thread_exit(w.pid, old))
			return -1;
		/* Gone from the process (not a zombie thread). */
		while (task_state(w.pid, old))
			msleep(5);
		if (worker_asleep(&(struct worker){ .pid = w.pid, .n = 1,
						    .sl = { w.sl[0] } }) ||
		    row_need(w.pid, &r0) || worker_start_at(&n, old))
			return -1;
		if (n.pid == old)
			break;
		diag("pid_reuse_thread_id: got PID %d instead of %d, retrying",
		     n.pid, old);
		worker_kill(&n);
		worker_kill(&w);
	}
	CHECK(n.pid == old, "could not get PID %d again", old);
	/* The old thread's process does nothing meanwhile, not even sched. */
	expect_zero(&e);
	e.v[C_SCHED] = 0;
	if (row_absent(n.pid) ||
	    slot_op(n.sl[0], TTH_OP_KMALLOC_VAR, 50, 10, 0) ||
	    row_absent(n.pid) || worker_asleep(&n) ||
	    check_since(w.pid, &r0, &e,
			"the process of the old thread while the new process worked"))
		return -1;
	CHECK_ERR(tr_add(n.pid), 0, "add of the new process");
	if (row_zero(n.pid, "new process with a reused TID"))
		return -1;
	CHECK_ERR(tr_remove(n.pid), 0, "remove of the new process");
	if (row_need(w.pid, NULL))
		return -1;
	worker_kill(&n);
	worker_kill(&w);
	return 0;
}

/* Run last: every process the suite monitored has exited. */
TEST_FLAGS(table_empty_at_end, 30, TT_LAST)
{
	return table_none("at the end");
}
