/* SPDX-License-Identifier: GPL-2.0 */
/*
 * suite.h - what the test files of tracer_test share (tests/lib/)
 *
 * Method: the suite never measures itself.  A "worker" is a forked process
 * (optionally with threads) that sleeps in futex_wait() on a shared-memory
 * slot until it is told to do something, such as one helper request.  The
 * test process (not monitored) reads the worker's /proc/tracer row before and
 * after the request: futex waits and wakes neither allocate nor lock, so the
 * difference of the rows is the request alone.  Every count is compared
 * exactly, as the difference between a request with n = N and the same
 * request with n = 0.
 *
 * Helpers report a failure with failf() and return -1 (or NULL, 0 where
 * said): a test just returns -1 when one fails.
 *
 * harness.h says how to write a test; tests/lib/ holds these helpers, by
 * concern: rows.c (rows, expected deltas), worker.c (workers), task.c
 * (/proc/PID, processes), helper.c (the helper module), suite.c (the
 * devices, module parameters, kernel log), bg.c (threads for the stress
 * tests).
 */
#ifndef TESTS_SUITE_H
#define TESTS_SUITE_H

/* What most test files use. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "table.h"
#include "tracer.h"
#include "tracer_test_helper.h"
#include "util.h"

#define DEV_PATH	"/dev/tracer"
#define HELPER_PATH	"/dev/" TTH_DEV_NAME
#define PARAM_DIR	"/sys/module/tracer/parameters/"
#define MISSED_PATH	PARAM_DIR "missed"
#define FAIL_ALLOC_PATH	PARAM_DIR "fail_alloc"
#define REC_SIZE	sizeof(struct tracer_record)

/* ------------------------------------------------------------------ */
/* suite.c: devices, module parameters, kernel log                    */

extern int g_tfd;		/* /dev/tracer */
extern int g_hfd;		/* /dev/tracer_helper */

/* Shared with every process of a test: CMD_READ and CMD_READPROC output. */
#define SHBUF_SIZE	(1 << 20)
extern char *g_shbuf;

/* Opens path (a /dev/tracer node) read-write: its fd, or -1. */
int dev_open(const char *path);

/* /dev/tracer requests on g_tfd (dev_ioctl, ex_add: on fd): 0 or errno. */
int dev_ioctl(int fd, unsigned long req, unsigned long arg);
int tr_ioctl(unsigned long req, unsigned long arg);
int tr_add(pid_t pid);
int tr_remove(pid_t pid);
int ex_add(int fd, pid_t pid, uint32_t flags);

#define CHECK_ERR(expr, want, what, ...) do {				\
		int _e = (expr);					\
		if (_e != (want)) {					\
			failf(what ": expected %s, got %s", ##__VA_ARGS__, \
			      errname(want), errname(_e));		\
			return -1;					\
		}							\
	} while (0)

long param_long(const char *name);	/* PARAM_DIR/name; -1 if none */

struct mapstat {
	long records, capacity, overflow;
};

int map_get(struct mapstat *m);		/* PARAM_DIR/map */
int fail_set(int n);			/* fail_alloc = n */
int kernel_at_least(int maj, int min);	/* running kernel >= maj.min */

/* The kernel log from now on: /dev/kmsg, positioned at its end. */
int kmsg_open(void);
/* Fails if the kernel logged a warning since kmsg_open(); closes fd. */
int kmsg_check(int fd, const char *what);
/* 1 if a record logged since kmsg_open() (or the last call) has needle. */
int kmsg_find(int fd, const char *needle);

/* Debug build: every pass through place where waits ms (0: no more). */
#define RACE_DELAY_PATH	PARAM_DIR "race_delay"
int race_delay(const char *where, int ms);
/* 1 once a task waits in @where's delay (within @timeout_ms), 0 if none
 * did, -1 on error.
 */
int race_waiting(const char *where, int timeout_ms);

/* ------------------------------------------------------------------ */
/* rows.c: rows of /proc/tracer, expected deltas                      */

int table_read(struct proc_table *t);
/* 1: row found (copied to *r), 0: no row, -1: error. */
int row_get(pid_t pid, struct proc_row *r);
int row_need(pid_t pid, struct proc_row *r);	/* there must be a row */
int row_absent(pid_t pid);			/* there must be none */
/* Hooks act as a process moves or execs: its row there (want 1) or gone
 * (0) within 2 s.
 */
int row_wait(pid_t pid, int want, const char *what);
int row_zero(pid_t pid, const char *what);	/* a row of zeros */
int table_none(const char *what);		/* no row at all */
/* The PIDs of t are exactly want[0..n) (table_is: of /proc/tracer now). */
int table_pids(struct proc_table *t, const pid_t *want, int n,
	       const char *who);
int table_is(const pid_t *want, int n, const char *who);
void row_sub(struct proc_row *d, const struct proc_row *b,
	     const struct proc_row *a);
char *row_str(const struct proc_row *r, char *buf, size_t len);

#define ANY LLONG_MIN

struct expect {
	long long v[NCOL];
};

void expect_zero(struct expect *e);	/* all 0 but sched: ANY */
void expect_alloc(struct expect *e, long long n, long long bytes);
/* What helper operation op with n and size adds to a row (not KEEP). */
void expect_op(struct expect *e, uint32_t op, long long n, long long size);
int check_delta(const char *what, const struct proc_row *d,
		const struct expect *e);
/* The row of pid now, less a, against e. */
int check_since(pid_t pid, const struct proc_row *a, const struct expect *e,
		const char *what);

/* ------------------------------------------------------------------ */
/* worker.c: workers                                                  */

enum { CMD_NONE, CMD_RUN, CMD_TRACER, CMD_EXIT, CMD_THREAD_EXIT, CMD_FORK,
	CMD_OPEN, CMD_READ, CMD_READPROC, CMD_CALL };

struct wslot {
	uint32_t seq;		/* futex: command counter (runner -> worker) */
	uint32_t ack;		/* futex: done counter (worker -> runner) */
	uint32_t ready;		/* futex: thread started */
	uint32_t nparked;	/* times the thread went to wait */
	long nvcsw;		/* its voluntary switches before that */
	int cmd;
	int ret;
	int err;
	int tid;
	unsigned long arg;	/* CMD_TRACER: pid; CMD_FORK: slot index;
				 * CMD_READ: length; CMD_CALL: argument
				 */
	unsigned long req_nr;	/* CMD_TRACER: request */
	unsigned long hreq;	/* CMD_RUN: helper request (0: TTH_IOC_RUN) */
	int fd;			/* CMD_TRACER, CMD_READ: file (0: g_tfd) */
	int (*call)(void *arg);	/* CMD_CALL: ret = call(arg) */
	struct tracer_add add;	/* CMD_TRACER: TRACER_ADD_PROCESS_EX's */
	struct tth_req req;
	char pad[64];
};

#define MAXT		8

struct worker {
	pid_t pid;
	int n;
	struct wslot *sl[MAXT];
};

long futex(uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts);
uint32_t ld(uint32_t *p);		/* atomic load, acquire */

struct wslot *slot_alloc(void);		/* NULL after failf() */
int worker_start(struct worker *w, int nthreads);
/* A worker whose threads use the given (already allocated) slots. */
int worker_start_slots(struct worker *w, struct wslot **sl, int nthreads);
/* One try at a one-thread worker with PID want (ns_last_pid). */
int worker_start_at(struct worker *w, pid_t want);
/* A one-thread worker with PID want (a few tries), or -1. */
int worker_start_pid(struct worker *w, pid_t want);
void worker_kill(struct worker *w);
int worker_exit(struct worker *w);	/* it exits; reaped */

void slot_post(struct wslot *sl, int cmd);
int slot_wait(struct wslot *sl);
/* Thread sl started (pid: its process if a child of ours, else 0). */
int slot_wait_ready(struct wslot *sl, pid_t pid);
void slot_set_op(struct wslot *sl, uint32_t op, uint64_t n, uint64_t size,
		 uint64_t count);
int slot_check_ret(struct wslot *sl);
/* The thread of slot sl does one helper request, synchronously. */
int slot_op(struct wslot *sl, uint32_t op, uint64_t n, uint64_t size,
	    uint64_t count);
/* The thread of slot sl does a bit of everything: kmalloc, mutex, sema. */
int slot_work(struct wslot *sl);
/* The thread of slot sl issues a /dev/tracer request; errno in *err. */
int slot_tracer(struct wslot *sl, unsigned long req, pid_t pid, int *err);
/* The thread of slot sl forks a worker on slot child: its PID (as sl sees
 * it) in *pid.
 */
int slot_fork(struct wslot *sl, struct wslot *child, pid_t *pid);

/* Row delta of pid around one request made by the thread of slot sl. */
int measure(pid_t pid, struct wslot *sl, uint32_t op, uint64_t n,
	    uint64_t size, uint64_t count, struct proc_row *d);
/* measure(), checked against expect_op(). */
int measure_op(pid_t pid, struct wslot *sl, uint32_t op, uint64_t n,
	       uint64_t size, const char *what);
/* Monitored w still counts exactly (its first slot; pinned first). */
int counts_exactly(struct worker *w, const char *what);

/* Wait until the thread of slot sl sleeps in futex_wait(), past its call
 * to schedule(): from then on it does nothing at all.
 */
int slot_asleep_tid(struct wslot *sl, pid_t pid, pid_t tid);
int slot_asleep(struct wslot *sl, pid_t pid);
int worker_asleep(struct worker *w);

void *slot_thread_idle(void *p);	/* a thread that only sleeps */

/* ------------------------------------------------------------------ */
/* task.c: processes, /proc/PID                                       */

/* Thread state letter from /proc/PID/task/TID/stat, 0 when gone. */
char task_state(pid_t pid, pid_t tid);
long task_nvcsw(pid_t pid, pid_t tid);	/* voluntary switches, -1 */
int wait_thread_exit(pid_t pid, pid_t tid);	/* gone or a zombie */
int wait_task_state(pid_t pid, char state);	/* state, within 30 s */
int wait_zombie(pid_t pid);		/* our child exited, not reaped */
int reap(pid_t pid);
int pin(pid_t pid, int cpu);		/* all threads of pid on cpu */
pid_t dead_pid(void);			/* a reaped child's PID */
pid_t make_zombie(void);		/* a zombie child */
int set_next_pid(pid_t pid);		/* ns_last_pid = pid - 1 */
/* The host PID of the process whose PID in its own namespace is nspid
 * and whose parent is ppid (host PID), or 0.
 */
pid_t host_pid_of(pid_t ppid, pid_t nspid);

/* ------------------------------------------------------------------ */
/* helper.c: the helper module                                        */

const char *op_name(uint32_t op);
/* Worker w keeps n blocks of size (TTH_OP_KEEP), releases them all. */
int keep(struct worker *w, uint64_t n, uint64_t size);
int release(struct worker *w, uint64_t want, int softirq);
int keep_reset(void);			/* release what a test left */
int keep_warm(struct worker *w, uint64_t n, uint64_t s);
/* One-thread workers for a keep test (a NULL-terminated list), all on
 * CPU 0 (see counts.c), with nothing kept.
 */
int keep_workers(struct worker *w, ...);
int keep_measured(struct worker *p, uint64_t n, uint64_t s);
int release_measured(struct worker *q, uint64_t n, long long nfree,
		     long long bytes, const char *what);
int kfree_rcu_op(struct worker *w, uint64_t n, uint64_t sz);
int slab_calls_get(struct tth_slab_calls *c);

/* ------------------------------------------------------------------ */
/* bg.c: threads of the stress tests                                  */

struct bg {
	pthread_mutex_t lock;
	volatile int stop;
	long reads;		/* bg_reader: tables read */
	int reader_pause_ms;	/* bg_reader: between two reads */
	char err[768];		/* the first error */
};

void bg_init(struct bg *b);
/* Records the first error, and stops everybody. */
void bg_fail(struct bg *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Thread: reads and strictly parses /proc/tracer until b->stop. */
void *bg_reader(void *b);

#endif /* TESTS_SUITE_H */
