// SPDX-License-Identifier: GPL-2.0
/*
 * worker.c - workers: forked processes whose threads wait on shared-memory
 * slots for a command, such as one helper request (see suite.h)
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "suite.h"

#define POOL_SLOTS	256

static struct wslot *g_pool;	/* a test's slots (each test its own) */
static int g_pool_next;

long futex(uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

uint32_t ld(uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

struct wslot *slot_alloc(void)
{
	struct wslot *sl;

	if (!g_pool) {
		g_pool = mmap(NULL, POOL_SLOTS * sizeof(*g_pool),
			      PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (g_pool == MAP_FAILED) {
			g_pool = NULL;
			failf("mmap of the worker slots: %s", strerror(errno));
			return NULL;
		}
	}
	if (g_pool_next >= POOL_SLOTS) {
		failf("out of worker slots");
		return NULL;
	}
	sl = &g_pool[g_pool_next++];
	memset(sl, 0, sizeof(*sl));
	return sl;
}

static void worker_main(struct wslot **sl, int n);

/* /proc/tracer into buf (len bytes at most); its length or -1. */
static int read_proc_into(char *buf, size_t len)
{
	size_t n;
	char *t = read_proc(&n);

	if (!t)
		return -1;
	if (n > len)
		n = len;
	memcpy(buf, t, n);
	free(t);
	return n;
}

static void slot_exec(struct wslot *sl)
{
	long r;

	switch (sl->cmd) {
	case CMD_RUN:
		r = ioctl(g_hfd, sl->hreq ? sl->hreq : TTH_IOC_RUN, &sl->req);
		sl->ret = r;
		sl->err = r ? errno : 0;
		break;
	case CMD_TRACER:
		r = ioctl(sl->fd ? sl->fd : g_tfd, sl->req_nr, sl->arg);
		sl->ret = r;
		sl->err = r ? errno : 0;
		break;
	case CMD_OPEN:
		r = open(DEV_PATH, O_RDWR | O_CLOEXEC);
		sl->ret = r;
		sl->err = r < 0 ? errno : 0;
		break;
	case CMD_READ:
		r = read(sl->fd ? sl->fd : g_tfd, g_shbuf,
			 sl->arg < SHBUF_SIZE ? sl->arg : SHBUF_SIZE);
		sl->ret = r;
		sl->err = r < 0 ? errno : 0;
		break;
	case CMD_READPROC:
		sl->ret = read_proc_into(g_shbuf, SHBUF_SIZE);
		sl->err = sl->ret < 0 ? errno : 0;
		break;
	case CMD_CALL:
		sl->ret = sl->call((void *)sl->arg);
		sl->err = 0;
		break;
	case CMD_FORK: {
		struct wslot *child = &g_pool[sl->arg];
		pid_t pid = fork();

		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			worker_main(&child, 1);
			_exit(0);
		}
		sl->ret = pid;
		sl->err = pid < 0 ? errno : 0;
		break;
	}
	default:
		break;
	}
}

static void slot_loop(struct wslot *sl)
{
	uint32_t last = 0, s;
	struct tth_req warm = { .op = TTH_OP_NOP };

	sl->tid = gettid();
	/* Fault in the request path once, before any measurement. */
	if (ioctl(g_hfd, TTH_IOC_RUN, &warm))
		sl->err = errno;
	__atomic_store_n(&sl->ready, 1, __ATOMIC_RELEASE);
	futex(&sl->ready, FUTEX_WAKE, INT_MAX, NULL);
	for (;;) {
		struct rusage ru;

		/* For slot_asleep(): switches so far, then "parked". */
		getrusage(RUSAGE_THREAD, &ru);
		sl->nvcsw = ru.ru_nvcsw;
		__atomic_add_fetch(&sl->nparked, 1, __ATOMIC_RELEASE);
		while ((s = ld(&sl->seq)) == last)
			futex(&sl->seq, FUTEX_WAIT, last, NULL);
		last = s;
		if (sl->cmd == CMD_EXIT)
			_exit(0);
		if (sl->cmd == CMD_THREAD_EXIT) {
			__atomic_store_n(&sl->ack, s, __ATOMIC_RELEASE);
			futex(&sl->ack, FUTEX_WAKE, INT_MAX, NULL);
			syscall(SYS_exit, 0);
		}
		slot_exec(sl);
		__atomic_store_n(&sl->ack, s, __ATOMIC_RELEASE);
		futex(&sl->ack, FUTEX_WAKE, INT_MAX, NULL);
	}
}

static void *slot_thread(void *p)
{
	slot_loop(p);
	return NULL;
}

void *slot_thread_idle(void *p)
{
	(void)p;
	for (;;)
		pause();
	return NULL;
}

static void worker_main(struct wslot **sl, int n)
{
	pthread_t t;
	int i;

	for (i = 1; i < n; i++)
		if (pthread_create(&t, NULL, slot_thread, sl[i]))
			_exit(3);
	slot_loop(sl[0]);
}

int slot_wait_ready(struct wslot *sl, pid_t pid)
{
	double end = now() + 30;
	struct timespec ts = { 0, 100000000 };

	while (!ld(&sl->ready)) {
		siginfo_t si = { 0 };

		if (now() > end) {
			failf("worker %d did not start", pid);
			return -1;
		}
		if (pid > 0 &&
		    !waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) &&
		    si.si_pid == pid) {
			failf("worker %d died at start", pid);
			return -1;
		}
		futex(&sl->ready, FUTEX_WAIT, 0, &ts);
	}
	return 0;
}

int worker_start_slots(struct worker *w, struct wslot **sl, int nthreads)
{
	int i;

	memset(w, 0, sizeof(*w));
	if (nthreads < 1 || nthreads > MAXT)
		return -1;
	w->n = nthreads;
	for (i = 0; i < nthreads; i++) {
		w->sl[i] = sl[i];
		memset(sl[i], 0, sizeof(*sl[i]));
	}
	fflush(stdout);
	w->pid = fork();
	CHECK(w->pid >= 0, "fork: %s", strerror(errno));
	if (w->pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		worker_main(w->sl, nthreads);
		_exit(0);
	}
	for (i = 0; i < nthreads; i++)
		if (slot_wait_ready(w->sl[i], w->pid))
			return -1;
	CHECK(!w->sl[0]->err, "worker %d: helper request failed: %s",
	      w->pid, strerror(w->sl[0]->err));
	return 0;
}

int worker_start(struct worker *w, int nthreads)
{
	struct wslot *sl[MAXT];
	int i;

	if (nthreads < 1 || nthreads > MAXT)
		return -1;
	for (i = 0; i < nthreads; i++) {
		sl[i] = slot_alloc();
		if (!sl[i])
			return -1;
	}
	return worker_start_slots(w, sl, nthreads);
}

int worker_start_at(struct worker *w, pid_t want)
{
	return set_next_pid(want) || worker_start(w, 1) ? -1 : 0;
}

int worker_start_pid(struct worker *w, pid_t want)
{
	int try;

	for (try = 0; try < 5; try++) {
		if (worker_start_at(w, want))
			return -1;
		if (w->pid == want)
			return 0;
		diag("got PID %d instead of %d, retrying", w->pid, want);
		worker_kill(w);
	}
	failf("could not get PID %d", want);
	return -1;
}

void slot_post(struct wslot *sl, int cmd)
{
	sl->cmd = cmd;
	__atomic_add_fetch(&sl->seq, 1, __ATOMIC_RELEASE);
	futex(&sl->seq, FUTEX_WAKE, INT_MAX, NULL);
}

int slot_wait(struct wslot *sl)
{
	uint32_t want = ld(&sl->seq), a;
	double end = now() + 60;
	struct timespec ts = { 0, 100000000 };

	while ((a = ld(&sl->ack)) != want) {
		if (now() > end) {
			failf("worker thread %d did not answer", sl->tid);
			return -1;
		}
		futex(&sl->ack, FUTEX_WAIT, a, &ts);
	}
	return 0;
}

void slot_set_op(struct wslot *sl, uint32_t op, uint64_t n, uint64_t size,
		 uint64_t count)
{
	memset(&sl->req, 0, sizeof(sl->req));
	sl->req.op = op;
	sl->req.n = n;
	sl->req.size = size;
	sl->req.count = count;
}

int slot_check_ret(struct wslot *sl)
{
	CHECK(!sl->ret, "helper %s n=%llu size=%llu failed: %s",
	      op_name(sl->req.op), (unsigned long long)sl->req.n,
	      (unsigned long long)sl->req.size, strerror(sl->err));
	return 0;
}

int slot_op(struct wslot *sl, uint32_t op, uint64_t n, uint64_t size,
	    uint64_t count)
{
	slot_set_op(sl, op, n, size, count);
	slot_post(sl, CMD_RUN);
	if (slot_wait(sl))
		return -1;
	return slot_check_ret(sl);
}

int slot_tracer(struct wslot *sl, unsigned long req, pid_t pid, int *err)
{
	sl->req_nr = req;
	sl->arg = (unsigned int)pid;
	if (req == TRACER_ADD_PROCESS_EX) {
		sl->add.pid = pid;
		sl->arg = (unsigned long)&sl->add;
	}
	slot_post(sl, CMD_TRACER);
	if (slot_wait(sl))
		return -1;
	*err = sl->err;
	return 0;
}

int slot_work(struct wslot *sl)
{
	return slot_op(sl, TTH_OP_KMALLOC_VAR, 1000, 100, 0) ||
	       slot_op(sl, TTH_OP_MUTEX, 1000, 0, 0) ||
	       slot_op(sl, TTH_OP_SEMA, 1000, 0, 0) ? -1 : 0;
}

int measure(pid_t pid, struct wslot *sl, uint32_t op, uint64_t n,
	    uint64_t size, uint64_t count, struct proc_row *d)
{
	struct proc_row a, b;

	if (row_need(pid, &a))
		return -1;
	if (slot_op(sl, op, n, size, count))
		return -1;
	if (row_need(pid, &b))
		return -1;
	row_sub(d, &b, &a);
	return 0;
}

int measure_op(pid_t pid, struct wslot *sl, uint32_t op, uint64_t n,
	       uint64_t size, const char *what)
{
	struct proc_row d;
	struct expect e;

	if (measure(pid, sl, op, n, size, 0, &d))
		return -1;
	expect_op(&e, op, n, size);
	return check_delta(what, &d, &e);
}

int counts_exactly(struct worker *w, const char *what)
{
	/* Warm-up, not measured (see counts.c). */
	if (pin(w->pid, 0) ||
	    slot_op(w->sl[0], TTH_OP_KMALLOC_VAR, 1000, 128, 0) ||
	    measure_op(w->pid, w->sl[0], TTH_OP_KMALLOC_VAR, 1000, 128, what))
		return -1;
	return measure_op(w->pid, w->sl[w->n - 1], TTH_OP_MUTEX, 500, 0, what);
}

int slot_fork(struct wslot *sl, struct wslot *child, pid_t *pid)
{
	CHECK(child >= g_pool && child < g_pool + POOL_SLOTS,
	      "slot_fork: not a slot of the pool");
	sl->arg = child - g_pool;
	slot_post(sl, CMD_FORK);
	if (slot_wait(sl))
		return -1;
	*pid = sl->ret;
	CHECK(*pid > 0, "fork by worker thread %d: %s", sl->tid,
	      strerror(sl->err));
	/* Not a child of ours: whether it died, waitid() cannot tell. */
	return slot_wait_ready(child, 0);
}

/*
 * Wait until the thread of slot sl sleeps in futex_wait(), past its call
 * to schedule(): from then on it does nothing at all, not even schedule().
 */
int slot_asleep_tid(struct wslot *sl, pid_t pid, pid_t tid)
{
	double end = now() + 30;

	while (ld(&sl->nparked) != ld(&sl->seq) + 1 ||
	       task_nvcsw(pid, tid) <= sl->nvcsw ||
	       task_state(pid, tid) != 'S') {
		CHECK(now() < end, "thread %d of %d does not go to sleep",
		      tid, pid);
		msleep(1);
	}
	return 0;
}

int slot_asleep(struct wslot *sl, pid_t pid)
{
	return slot_asleep_tid(sl, pid, sl->tid);
}

int worker_asleep(struct worker *w)
{
	int i;

	for (i = 0; i < w->n; i++)
		if (slot_asleep(w->sl[i], w->pid))
			return -1;
	return 0;
}

void worker_kill(struct worker *w)
{
	if (w->pid > 0) {
		kill(w->pid, SIGKILL);
		waitpid(w->pid, NULL, 0);
		w->pid = 0;
	}
}

/* Make a worker exit and reap it. */
int worker_exit(struct worker *w)
{
	slot_post(w->sl[0], CMD_EXIT);
	if (reap(w->pid))
		return -1;
	w->pid = 0;
	return 0;
}

