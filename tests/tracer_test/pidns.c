// SPDX-License-Identifier: GPL-2.0
/*
 * pidns.c - PID namespaces: requests name processes in the caller's
 * namespace, /proc/tracer shows a reader its namespace's PIDs, exit records
 * give PIDs as the namespace of the file's opener sees them
 */
#include <linux/futex.h>
#include <sched.h>

#include "suite.h"

/*
 * A child PID namespace: C0 (in the test's namespace) unshares and forks
 * A (PID 1 there, its init), B (2) and E (3), all workers.  The test knows
 * their PIDs in its own namespace ("host" PIDs).
 */
struct nsinfo {
	uint32_t state;	/* 1 ready, 2 unshare failed, 3 worker failed */
	int err;
	pid_t a, b, e;
};

struct nsctx {
	struct worker a, b, e;
	pid_t c0;
	int host_fd;	/* opened here, inherited by B */
};

/* 0, -1, or TT_SKIP when there are no PID namespaces. */
static int ns_setup(struct nsctx *n)
{
	struct wslot *sl[3];
	struct nsinfo *info;
	double end = now() + 60;
	int i;

	memset(n, 0, sizeof(*n));
	for (i = 0; i < 3; i++)
		if (!(sl[i] = slot_alloc()))
			return -1;
	info = mmap(NULL, sizeof(*info), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(info != MAP_FAILED, "mmap");
	n->host_fd = open(DEV_PATH, O_RDWR);	/* inherited */
	CHECK(n->host_fd >= 0, "open: %s", strerror(errno));
	fflush(stdout);
	n->c0 = fork();
	CHECK(n->c0 >= 0, "fork: %s", strerror(errno));
	if (n->c0 == 0) {
		struct worker w[3];
		uint32_t st = 1;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (unshare(CLONE_NEWPID)) {
			info->err = errno;
			st = 2;
		} else {
			for (i = 0; i < 3 && st == 1; i++)
				if (worker_start_slots(&w[i], &sl[i], 1))
					st = 3;
			if (st == 1) {
				info->a = w[0].pid;
				info->b = w[1].pid;
				info->e = w[2].pid;
			}
		}
		__atomic_store_n(&info->state, st, __ATOMIC_RELEASE);
		futex(&info->state, FUTEX_WAKE, INT_MAX, NULL);
		for (;;)
			pause();
	}
	while (!ld(&info->state)) {
		struct timespec ts = { 0, 100000000 };

		CHECK(now() < end, "the namespace was not set up");
		futex(&info->state, FUTEX_WAIT, 0, &ts);
	}
	if (info->state == 2) {
		CHECK(info->err == EINVAL || info->err == EPERM ||
		      info->err == ENOSYS, "unshare(CLONE_NEWPID): %s",
		      strerror(info->err));
		SKIP("no PID namespaces here: %s", strerror(info->err));
	}
	CHECK(info->state == 1, "workers in the namespace did not start");
	n->a = (struct worker){ .pid = info->a, .n = 1, .sl = { sl[0] } };
	n->b = (struct worker){ .pid = info->b, .n = 1, .sl = { sl[1] } };
	n->e = (struct worker){ .pid = info->e, .n = 1, .sl = { sl[2] } };
	/* Numbered in their namespace as they were forked. */
	CHECK(sl[0]->tid == 1 && sl[1]->tid == 2 && sl[2]->tid == 3,
	      "PIDs in the namespace: %d %d %d, expected 1 2 3", sl[0]->tid,
	      sl[1]->tid, sl[2]->tid);
	CHECK(n->a.pid > 3 && n->b.pid > 3 && n->e.pid > 3,
	      "host PIDs %d %d %d", n->a.pid, n->b.pid, n->e.pid);
	return 0;
}

/* Worker w makes request req of pid on file fd (0: the suite's); errno. */
static int ns_req(struct worker *w, int fd, unsigned long req, pid_t pid,
		  uint32_t flags, int *err)
{
	w->sl[0]->fd = fd;
	w->sl[0]->add.flags = flags;
	return slot_tracer(w->sl[0], req, pid, err);
}

#define NS_EXPECT(w, fd, req, pid, flags, want, what) do {		\
		int _err;						\
		if (ns_req(w, fd, req, pid, flags, &_err))		\
			return -1;					\
		CHECK(_err == (want), "%s: expected %s, got %s", what,	\
		      errname(want), errname(_err));			\
	} while (0)

/* The table as the thread of slot sl sees it (in its namespace). */
static int ns_table(struct wslot *sl, struct proc_table *t, const char *who)
{
	char err[256];

	slot_post(sl, CMD_READPROC);
	if (slot_wait(sl))
		return -1;
	CHECK(sl->ret > 0, "%s: read %s: %s", who, PROC_PATH,
	      strerror(sl->err));
	CHECK(!parse_table(g_shbuf, sl->ret, t, err, sizeof(err)),
	      "%s: %s: %s", who, PROC_PATH, err);
	return 0;
}

/* In a child PID namespace, PID 1 is its init, and only its PIDs exist. */
TEST_ONCE(pidns_add_pid1_is_ns_init, 60)
{
	struct nsctx n;
	struct worker h;
	int r;

	r = ns_setup(&n);
	if (r)
		return r;
	if (worker_start(&h, 1))
		return -1;
	NS_EXPECT(&n.b, 0, TRACER_ADD_PROCESS, 1, 0, 0, "add of PID 1 in the namespace");
	if (row_need(n.a.pid, NULL) || row_absent(1))
		return -1;
	NS_EXPECT(&n.b, 0, TRACER_ADD_PROCESS, 1, 0, EEXIST, "second add of PID 1 in the namespace");
	CHECK_ERR(tr_add(n.a.pid), EEXIST, "add of the namespace's init by its host PID");
	NS_EXPECT(&n.b, 0, TRACER_REMOVE_PROCESS, 1, 0, 0, "remove of PID 1 in the namespace");
	if (row_absent(n.a.pid))
		return -1;
	/* Added from outside, removed from inside, and the other way. */
	CHECK_ERR(tr_add(n.a.pid), 0, "add of the namespace's init by its host PID");
	NS_EXPECT(&n.b, 0, TRACER_REMOVE_PROCESS, 1, 0, 0, "remove of PID 1 added from outside");
	if (row_absent(n.a.pid))
		return -1;
	NS_EXPECT(&n.b, 0, TRACER_ADD_PROCESS, 3, 0, 0, "add of PID 3 in the namespace");
	if (row_need(n.e.pid, NULL))
		return -1;
	CHECK_ERR(tr_remove(n.e.pid), 0, "remove by host PID of a process added inside");
	/* The host's PIDs do not exist in the namespace. */
	NS_EXPECT(&n.b, 0, TRACER_ADD_PROCESS, h.pid, 0, ESRCH, "add of a host PID from inside");
	NS_EXPECT(&n.b, 0, TRACER_ADD_PROCESS, n.a.pid, 0, ESRCH,
		  "add of the init's host PID from inside");
	CHECK_ERR(tr_add(h.pid), 0, "add of a host process");
	NS_EXPECT(&n.b, 0, TRACER_REMOVE_PROCESS, h.pid, 0, ESRCH,
		  "remove of a host PID from inside");
	if (row_need(h.pid, NULL))
		return -1;
	NS_EXPECT(&n.b, 0, TRACER_ADD_PROCESS_EX, 2, 0, 0, "EX add of itself (PID 2) inside");
	if (row_need(n.b.pid, NULL))
		return -1;
	NS_EXPECT(&n.b, 0, TRACER_ADD_PROCESS_EX, h.pid, 0, ESRCH,
		  "EX add of a host PID from inside");
	NS_EXPECT(&n.b, 0, TRACER_REMOVE_PROCESS, 2, 0, 0, "remove of itself inside");
	CHECK_ERR(tr_remove(h.pid), 0, "remove of the host process");
	worker_kill(&h);
	kill(n.c0, SIGKILL);
	return table_none("after the namespace test");
}

/* /proc/tracer shows a reader its namespace's PIDs, and only those. */
TEST_ONCE(pidns_proc_view, 60)
{
	struct nsctx n;
	struct worker h;
	struct proc_table th, tb, ta, te;
	struct proc_row *ra, *rb;
	pid_t host3[3], ns2[2], ns3[3] = { 1, 2, 3 };
	int i, r;

	r = ns_setup(&n);
	if (r)
		return r;
	if (worker_start(&h, 1))
		return -1;
	CHECK_ERR(tr_add(h.pid), 0, "add of a host process");
	NS_EXPECT(&n.b, 0, TRACER_ADD_PROCESS, 1, 0, 0, "add of PID 1 inside");
	NS_EXPECT(&n.b, 0, TRACER_ADD_PROCESS, 2, 0, 0, "add of PID 2 inside");
	/* Its TID in our namespace is its PID: it has one thread. */
	if (slot_asleep_tid(n.a.sl[0], n.a.pid, n.a.pid) || table_read(&th) ||
	    ns_table(n.b.sl[0], &tb, "B (PID 2)"))
		return -1;
	host3[0] = n.a.pid;
	host3[1] = n.b.pid;
	host3[2] = h.pid;
	ns2[0] = 1;
	ns2[1] = 2;
	if (table_pids(&th, host3, 3, "the host") ||
	    table_pids(&tb, ns2, 2, "a reader in the namespace"))
		return -1;
	/* The same row, under two PIDs: A sleeps, its counts are the same. */
	ra = proc_table_find(&th, n.a.pid);
	rb = proc_table_find(&tb, 1);
	for (i = 1; i < NCOL; i++)
		CHECK(ra->v[i] == rb->v[i], "the namespace's init: %s %lld on the host, %lld inside",
		      col_name[i], ra->v[i], rb->v[i]);
	if (ns_table(n.a.sl[0], &ta, "A (PID 1)") ||
	    table_pids(&ta, ns2, 2, "the namespace's init") ||
	    ns_table(n.e.sl[0], &te, "E (PID 3)") ||
	    table_pids(&te, ns2, 2, "E (PID 3, parent outside)"))
		return -1;
	free(ta.rows);
	free(te.rows);
	/* A process added from outside shows inside with its inner PID. */
	CHECK_ERR(tr_add(n.e.pid), 0, "add of E by its host PID");
	if (ns_table(n.b.sl[0], &te, "B") ||
	    table_pids(&te, ns3, 3, "a reader in the namespace, E added"))
		return -1;
	free(te.rows);
	free(th.rows);
	free(tb.rows);
	worker_kill(&h);
	kill(n.c0, SIGKILL);
	msleep(1);
	return 0;
}

/* A forks a worker (slot s): its PID inside and outside. */
static int ns_fork(struct nsctx *n, struct wslot *s, pid_t *in, pid_t *out)
{
	if (slot_fork(n->a.sl[0], s, in))
		return -1;
	CHECK(s->tid == *in, "forked worker's TID %d, fork returned %d",
	      s->tid, *in);
	*out = host_pid_of(n->a.pid, *in);
	CHECK(*out > 3, "no host PID for PID %d of the namespace", *in);
	return 0;
}

static int ns_exit(struct wslot *s, pid_t hostpid)
{
	slot_post(s, CMD_EXIT);
	return wait_task_state(hostpid, 'Z') || row_absent(hostpid) ? -1 : 0;
}

/* Exit records give PIDs as the namespace of the file's opener sees them. */
TEST_ONCE(pidns_exit_records, 60)
{
	struct wslot *sc = slot_alloc(), *sd = slot_alloc();
	struct tracer_record rec[4];
	struct nsctx n;
	pid_t c_in, c_out, d_in, d_out;
	int fd_ns, r;
	ssize_t got;

	if (!sc || !sd)
		return -1;
	r = ns_setup(&n);
	if (r)
		return r;
	/* B opens /dev/tracer inside: records in the namespace's PIDs. */
	slot_post(n.b.sl[0], CMD_OPEN);
	if (slot_wait(n.b.sl[0]))
		return -1;
	fd_ns = n.b.sl[0]->ret;
	CHECK(fd_ns > 0, "open in the namespace: %s", strerror(n.b.sl[0]->err));
	if (ns_fork(&n, sc, &c_in, &c_out) || ns_fork(&n, sd, &d_in, &d_out))
		return -1;
	/* E (parent outside the namespace) and C (parent A, PID 1) on B's
	 * file; D on the file the host opened.
	 */
	NS_EXPECT(&n.b, fd_ns, TRACER_ADD_PROCESS_EX, 3, TRACER_REPORT_EXIT, 0,
		  "EX report of E (PID 3) on a file opened inside");
	NS_EXPECT(&n.b, fd_ns, TRACER_ADD_PROCESS_EX, c_in, TRACER_REPORT_EXIT, 0,
		  "EX report of C on a file opened inside");
	NS_EXPECT(&n.b, n.host_fd, TRACER_ADD_PROCESS_EX, d_in, TRACER_REPORT_EXIT, 0,
		  "EX report of D on a file opened outside");
	if (row_need(n.e.pid, NULL) || row_need(c_out, NULL) ||
	    row_need(d_out, NULL))
		return -1;
	if (ns_exit(n.e.sl[0], n.e.pid) || ns_exit(sc, c_out) ||
	    ns_exit(sd, d_out))
		return -1;
	n.b.sl[0]->fd = fd_ns;
	n.b.sl[0]->arg = sizeof(rec);
	slot_post(n.b.sl[0], CMD_READ);
	if (slot_wait(n.b.sl[0]))
		return -1;
	got = n.b.sl[0]->ret;
	CHECK(got == 2 * (ssize_t)REC_SIZE, "read inside: %zd bytes (%s), expected 2 records",
	      got, got < 0 ? strerror(n.b.sl[0]->err) : "");
	memcpy(rec, g_shbuf, 2 * REC_SIZE);
	CHECK(rec[0].pid == 3 && rec[0].ppid == 0,
	      "E's record inside: pid %d ppid %d, expected 3 and 0 (parent outside)",
	      rec[0].pid, rec[0].ppid);
	CHECK(rec[1].pid == c_in && rec[1].ppid == 1,
	      "C's record inside: pid %d ppid %d, expected %d and 1",
	      rec[1].pid, rec[1].ppid, c_in);
	got = read(n.host_fd, rec, sizeof(rec));
	CHECK(got == (ssize_t)REC_SIZE, "read outside: %zd bytes, expected 1 record", got);
	CHECK(rec[0].pid == d_out && rec[0].ppid == n.a.pid,
	      "D's record outside: pid %d ppid %d, expected %d and %d",
	      rec[0].pid, rec[0].ppid, d_out, n.a.pid);
	kill(n.c0, SIGKILL);
	return table_none("after the namespace records test");
}
