// SPDX-License-Identifier: GPL-2.0
/*
 * tracer_test.c - in-guest test suite of tracer.ko (tracer-dkms)
 *
 * Static, libc only.  Needs /dev/tracer, /proc/tracer and the test-only
 * helper device /dev/tracer_helper (tests/helper).
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
 * Each test runs in its own forked process, with a time limit, and prints
 * "ok N - name" or "not ok N - name # reason".
 *
 * Usage: tracer_test [-s first_number] [-t stress_seconds] [-l] [name...]
 *        tracer_test -H nthreads	(monitor itself, work until killed)
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tracer.h"
#include "tracer_test_helper.h"

#define PROC_PATH	"/proc/tracer"
#define DEV_PATH	"/dev/tracer"
#define HELPER_PATH	"/dev/" TTH_DEV_NAME
#define MISSED_PATH	"/sys/module/tracer/parameters/missed"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ */
/* Columns of /proc/tracer                                            */

enum { C_PID, C_KMALLOC, C_KFREE, C_KMALLOC_MEM, C_KFREE_MEM, C_SCHED,
	C_UP, C_DOWN, C_LOCK, C_UNLOCK, NCOL };

static const char *const col_name[NCOL] = {
	"PID", "kmalloc", "kfree", "kmalloc_mem", "kfree_mem", "sched",
	"up", "down", "lock", "unlock",
};

struct row {
	long long v[NCOL];
};

struct table {
	int n;
	struct row *rows;
};

/* ------------------------------------------------------------------ */
/* Reporting                                                          */

#define MSG_MAX 4096
static char *g_msg;		/* shared with the runner: failure text */
static int g_tfd = -1;		/* /dev/tracer */
static int g_hfd = -1;		/* /dev/tracer_helper */
static int g_stress_secs = 12;

static void failf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static void failf(const char *fmt, ...)
{
	size_t len = strlen(g_msg);
	va_list ap;

	if (len >= MSG_MAX - 8)
		return;
	if (len) {
		strcpy(g_msg + len, "; ");
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(g_msg + len, MSG_MAX - len, fmt, ap);
	va_end(ap);
}

static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void diag(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printf("# %s\n", buf);
	fflush(stdout);
}

#define CHECK(cond, ...) do {						\
		if (!(cond)) {						\
			failf(__VA_ARGS__);				\
			return -1;					\
		}							\
	} while (0)

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ------------------------------------------------------------------ */
/* /proc/tracer                                                       */

static char *read_all_fd(int fd, size_t *lenp)
{
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap + 1);
	ssize_t r;

	if (!buf)
		return NULL;
	for (;;) {
		if (len == cap) {
			char *nb = realloc(buf, 2 * cap + 1);

			if (!nb) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		len += r;
	}
	buf[len] = 0;
	*lenp = len;
	return buf;
}

static char *read_proc(size_t *lenp)
{
	int fd = open(PROC_PATH, O_RDONLY | O_CLOEXEC);
	char *buf;
	int e;

	if (fd < 0)
		return NULL;
	buf = read_all_fd(fd, lenp);
	e = errno;
	close(fd);
	errno = e;
	return buf;
}

static int parse_u64(const char *s, size_t len, long long *out)
{
	long long v = 0;
	size_t i;

	if (!len || len > 18)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/*
 * Strict parser: header = exactly the column names separated by blanks,
 * then rows of NCOL decimal numbers, PID first, PIDs > 0 and distinct,
 * every line ending with '\n'.
 */
static int parse_table(const char *buf, size_t len, struct table *t,
		       char *err, size_t errlen)
{
	const char *p = buf, *end = buf + len;
	int line = 0, cap = 0;

	t->n = 0;
	t->rows = NULL;
	if (!len) {
		snprintf(err, errlen, "empty file");
		return -1;
	}
	if (buf[len - 1] != '\n') {
		snprintf(err, errlen, "last line not terminated");
		return -1;
	}
	while (p < end) {
		const char *eol = memchr(p, '\n', end - p);
		const char *q = p;
		long long v[NCOL];
		int ntok = 0;

		if (memchr(p, 0, eol - p)) {
			snprintf(err, errlen, "NUL byte in line %d", line + 1);
			goto bad;
		}
		while (q < eol) {
			const char *tok;

			while (q < eol && (*q == ' ' || *q == '\t'))
				q++;
			if (q == eol)
				break;
			tok = q;
			while (q < eol && *q != ' ' && *q != '\t')
				q++;
			if (ntok >= NCOL) {
				snprintf(err, errlen, "line %d: more than %d fields",
					 line + 1, NCOL);
				goto bad;
			}
			if (line == 0) {
				if ((size_t)(q - tok) != strlen(col_name[ntok]) ||
				    memcmp(tok, col_name[ntok], q - tok)) {
					snprintf(err, errlen,
						 "header field %d is '%.*s', expected '%s'",
						 ntok + 1, (int)(q - tok), tok,
						 col_name[ntok]);
					goto bad;
				}
			} else if (parse_u64(tok, q - tok, &v[ntok])) {
				snprintf(err, errlen, "line %d: bad number '%.*s'",
					 line + 1, (int)(q - tok), tok);
				goto bad;
			}
			ntok++;
		}
		if (ntok != NCOL) {
			snprintf(err, errlen, "line %d has %d fields, expected %d",
				 line + 1, ntok, NCOL);
			goto bad;
		}
		if (line > 0) {
			int i;

			if (v[C_PID] <= 0 || v[C_PID] > INT_MAX) {
				snprintf(err, errlen, "line %d: bad PID %lld",
					 line + 1, v[C_PID]);
				goto bad;
			}
			for (i = 0; i < t->n; i++)
				if (t->rows[i].v[C_PID] == v[C_PID]) {
					snprintf(err, errlen, "PID %lld listed twice",
						 v[C_PID]);
					goto bad;
				}
			if (t->n == cap) {
				struct row *nr;

				cap = cap ? 2 * cap : 16;
				nr = realloc(t->rows, cap * sizeof(*nr));
				if (!nr) {
					snprintf(err, errlen, "out of memory");
					goto bad;
				}
				t->rows = nr;
			}
			memcpy(t->rows[t->n].v, v, sizeof(v));
			t->n++;
		}
		line++;
		p = eol + 1;
	}
	return 0;
bad:
	free(t->rows);
	t->rows = NULL;
	t->n = 0;
	return -1;
}

static int table_read(struct table *t)
{
	char err[256];
	size_t len;
	char *buf = read_proc(&len);

	if (!buf) {
		failf("cannot read %s: %s", PROC_PATH, strerror(errno));
		return -1;
	}
	if (parse_table(buf, len, t, err, sizeof(err))) {
		failf("%s: %s", PROC_PATH, err);
		free(buf);
		return -1;
	}
	free(buf);
	return 0;
}

static struct row *table_find(struct table *t, pid_t pid)
{
	int i;

	for (i = 0; i < t->n; i++)
		if (t->rows[i].v[C_PID] == pid)
			return &t->rows[i];
	return NULL;
}

/* 1: row found (copied to *r), 0: no row, -1: error. */
static int row_get(pid_t pid, struct row *r)
{
	struct table t;
	struct row *x;

	if (table_read(&t))
		return -1;
	x = table_find(&t, pid);
	if (x && r)
		*r = *x;
	free(t.rows);
	return x ? 1 : 0;
}

static int row_need(pid_t pid, struct row *r)
{
	int ret = row_get(pid, r);

	if (ret < 0)
		return -1;
	CHECK(ret == 1, "no row for monitored PID %d", pid);
	return 0;
}

static int row_absent(pid_t pid)
{
	int ret = row_get(pid, NULL);

	if (ret < 0)
		return -1;
	CHECK(ret == 0, "unexpected row for PID %d", pid);
	return 0;
}

static void row_sub(struct row *d, const struct row *b, const struct row *a)
{
	int i;

	d->v[0] = b->v[0];
	for (i = 1; i < NCOL; i++)
		d->v[i] = b->v[i] - a->v[i];
}

static char *row_str(const struct row *r, char *buf, size_t len)
{
	size_t o = 0;
	int i;

	buf[0] = 0;
	for (i = 1; i < NCOL && o < len; i++)
		o += snprintf(buf + o, len - o, "%s%s=%lld", i > 1 ? " " : "",
			      col_name[i], r->v[i]);
	return buf;
}

/* ------------------------------------------------------------------ */
/* /dev/tracer                                                        */

/* Returns 0 or the errno of the request. */
static int tr_ioctl(unsigned long req, unsigned long arg)
{
	return ioctl(g_tfd, req, arg) ? errno : 0;
}

static int tr_add(pid_t pid)
{
	return tr_ioctl(TRACER_ADD_PROCESS, (unsigned int)pid);
}

static int tr_remove(pid_t pid)
{
	return tr_ioctl(TRACER_REMOVE_PROCESS, (unsigned int)pid);
}

static const char *errname(int e)
{
	static char buf[32];

	switch (e) {
	case 0: return "success";
	case ESRCH: return "ESRCH";
	case EEXIST: return "EEXIST";
	case ENOENT: return "ENOENT";
	case ENOTTY: return "ENOTTY";
	case EINVAL: return "EINVAL";
	case EPERM: return "EPERM";
	case ENOMEM: return "ENOMEM";
	case EFAULT: return "EFAULT";
	case EBADF: return "EBADF";
	case EBUSY: return "EBUSY";
	default:
		snprintf(buf, sizeof(buf), "errno %d", e);
		return buf;
	}
}

#define CHECK_ERR(expr, want, what, ...) do {				\
		int _e = (expr);					\
		if (_e != (want)) {					\
			failf(what ": expected %s, got %s", ##__VA_ARGS__, \
			      errname(want), errname(_e));		\
			return -1;					\
		}							\
	} while (0)

/* ------------------------------------------------------------------ */
/* Workers                                                            */

enum { CMD_NONE, CMD_RUN, CMD_TRACER, CMD_EXIT, CMD_THREAD_EXIT, CMD_FORK };

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
	unsigned long arg;	/* CMD_TRACER: pid; CMD_FORK: slot index */
	unsigned long req_nr;	/* CMD_TRACER: request */
	struct tth_req req;
	char pad[64];
};

#define POOL_SLOTS	256
#define MAXT		8

static struct wslot *g_pool;
static int g_pool_next;

struct worker {
	pid_t pid;
	int n;
	struct wslot *sl[MAXT];
};

static long futex(uint32_t *uaddr, int op, uint32_t val,
		  const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

static uint32_t ld(uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static struct wslot *slot_alloc(void)
{
	struct wslot *sl;

	if (!g_pool) {
		g_pool = mmap(NULL, POOL_SLOTS * sizeof(*g_pool),
			      PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (g_pool == MAP_FAILED) {
			g_pool = NULL;
			return NULL;
		}
	}
	if (g_pool_next >= POOL_SLOTS)
		return NULL;
	sl = &g_pool[g_pool_next++];
	memset(sl, 0, sizeof(*sl));
	return sl;
}

static void worker_main(struct wslot **sl, int n);

static void slot_exec(struct wslot *sl)
{
	long r;

	switch (sl->cmd) {
	case CMD_RUN:
		r = ioctl(g_hfd, TTH_IOC_RUN, &sl->req);
		sl->ret = r;
		sl->err = r ? errno : 0;
		break;
	case CMD_TRACER:
		r = ioctl(g_tfd, sl->req_nr, sl->arg);
		sl->ret = r;
		sl->err = r ? errno : 0;
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

static void worker_main(struct wslot **sl, int n)
{
	pthread_t t;
	int i;

	for (i = 1; i < n; i++)
		if (pthread_create(&t, NULL, slot_thread, sl[i]))
			_exit(3);
	slot_loop(sl[0]);
}

static int slot_wait_ready(struct wslot *sl, pid_t pid)
{
	double end = now() + 30;
	struct timespec ts = { 0, 100000000 };

	while (!ld(&sl->ready)) {
		siginfo_t si = { 0 };

		if (now() > end) {
			failf("worker %d did not start", pid);
			return -1;
		}
		if (!waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) &&
		    si.si_pid == pid) {
			failf("worker %d died at start", pid);
			return -1;
		}
		futex(&sl->ready, FUTEX_WAIT, 0, &ts);
	}
	return 0;
}

static int worker_start(struct worker *w, int nthreads)
{
	int i;

	memset(w, 0, sizeof(*w));
	if (nthreads < 1 || nthreads > MAXT)
		return -1;
	w->n = nthreads;
	for (i = 0; i < nthreads; i++) {
		w->sl[i] = slot_alloc();
		CHECK(w->sl[i], "out of worker slots");
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

static void slot_post(struct wslot *sl, int cmd)
{
	sl->cmd = cmd;
	__atomic_add_fetch(&sl->seq, 1, __ATOMIC_RELEASE);
	futex(&sl->seq, FUTEX_WAKE, INT_MAX, NULL);
}

static int slot_wait(struct wslot *sl)
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

static const char *op_name(uint32_t op);

static void slot_set_op(struct wslot *sl, uint32_t op, uint64_t n,
			uint64_t size, uint64_t count)
{
	memset(&sl->req, 0, sizeof(sl->req));
	sl->req.op = op;
	sl->req.n = n;
	sl->req.size = size;
	sl->req.count = count;
}

static int slot_check_ret(struct wslot *sl)
{
	CHECK(!sl->ret, "helper %s n=%llu size=%llu failed: %s",
	      op_name(sl->req.op), (unsigned long long)sl->req.n,
	      (unsigned long long)sl->req.size, strerror(sl->err));
	return 0;
}

/* Make the thread of slot sl do one helper request, synchronously. */
static int slot_op(struct wslot *sl, uint32_t op, uint64_t n, uint64_t size,
		   uint64_t count)
{
	slot_set_op(sl, op, n, size, count);
	slot_post(sl, CMD_RUN);
	if (slot_wait(sl))
		return -1;
	return slot_check_ret(sl);
}

/* The thread of slot sl issues a /dev/tracer request; returns errno. */
static int slot_tracer(struct wslot *sl, unsigned long req, pid_t pid,
		       int *err)
{
	sl->req_nr = req;
	sl->arg = (unsigned int)pid;
	slot_post(sl, CMD_TRACER);
	if (slot_wait(sl))
		return -1;
	*err = sl->err;
	return 0;
}

/* Row delta of pid around one request made by the thread of slot sl. */
static int measure(pid_t pid, struct wslot *sl, uint32_t op, uint64_t n,
		   uint64_t size, uint64_t count, struct row *d)
{
	struct row a, b;

	if (row_need(pid, &a))
		return -1;
	if (slot_op(sl, op, n, size, count))
		return -1;
	if (row_need(pid, &b))
		return -1;
	row_sub(d, &b, &a);
	return 0;
}

/* Wait until pid is a zombie (not reaped). */
static int wait_zombie(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	CHECK(!waitid(P_PID, pid, &si, WEXITED | WNOWAIT),
	      "waitid(%d): %s", pid, strerror(errno));
	return 0;
}

static int reap(pid_t pid)
{
	int st;

	CHECK(waitpid(pid, &st, 0) == pid, "waitpid(%d): %s", pid,
	      strerror(errno));
	return 0;
}

/* Thread state letter from /proc/PID/task/TID/stat, 0 when gone. */
static char task_state(pid_t pid, pid_t tid)
{
	char path[64], buf[512], *p;
	int fd;
	ssize_t r;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return 0;
	buf[r] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/* Wait until a thread has exited (gone, or a zombie leader). */
static int wait_thread_exit(pid_t pid, pid_t tid)
{
	double end = now() + 30;
	char s;

	while ((s = task_state(pid, tid)) && s != 'Z' && s != 'X') {
		CHECK(now() < end, "thread %d of %d did not exit", tid, pid);
		msleep(5);
	}
	return 0;
}

static long task_nvcsw(pid_t pid, pid_t tid)
{
	char path[64], buf[4096], *p;
	int fd;
	ssize_t r;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", pid, tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return -1;
	buf[r] = 0;
	p = strstr(buf, "\nvoluntary_ctxt_switches:");
	return p ? strtol(p + 26, NULL, 10) : -1;
}

/*
 * Wait until the thread of slot sl sleeps in futex_wait(), past its call
 * to schedule(): from then on it does nothing at all, not even schedule().
 */
static int slot_asleep(struct wslot *sl, pid_t pid)
{
	double end = now() + 30;

	while (ld(&sl->nparked) != ld(&sl->seq) + 1 ||
	       task_nvcsw(pid, sl->tid) <= sl->nvcsw ||
	       task_state(pid, sl->tid) != 'S') {
		CHECK(now() < end, "thread %d of %d does not go to sleep",
		      sl->tid, pid);
		msleep(1);
	}
	return 0;
}

static int worker_asleep(struct worker *w)
{
	int i;

	for (i = 0; i < w->n; i++)
		if (slot_asleep(w->sl[i], w->pid))
			return -1;
	return 0;
}

/* Keep all threads of pid on one CPU: warmed per-CPU caches stay in use. */
static int pin(pid_t pid, int cpu)
{
	char path[64];
	cpu_set_t set;
	DIR *d;
	struct dirent *e;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	CHECK(d, "opendir %s: %s", path, strerror(errno));
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			sched_setaffinity(atoi(e->d_name), sizeof(set), &set);
	closedir(d);
	return 0;
}

static void worker_kill(struct worker *w)
{
	if (w->pid > 0) {
		kill(w->pid, SIGKILL);
		waitpid(w->pid, NULL, 0);
		w->pid = 0;
	}
}

/* Make a worker exit and reap it. */
static int worker_exit(struct worker *w)
{
	slot_post(w->sl[0], CMD_EXIT);
	if (reap(w->pid))
		return -1;
	w->pid = 0;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Expected deltas                                                    */

#define ANY LLONG_MIN

struct expect {
	long long v[NCOL];
};

static void expect_zero(struct expect *e)
{
	int i;

	for (i = 0; i < NCOL; i++)
		e->v[i] = 0;
	e->v[C_PID] = ANY;
	e->v[C_SCHED] = ANY;
}

static void expect_alloc(struct expect *e, long long n, long long bytes)
{
	expect_zero(e);
	e->v[C_KMALLOC] = n;
	e->v[C_KFREE] = n;
	e->v[C_KMALLOC_MEM] = n * bytes;
	e->v[C_KFREE_MEM] = n * bytes;
}

static int check_delta(const char *what, const struct row *d,
		       const struct expect *e)
{
	char buf[256];
	int i, bad = 0;

	for (i = 1; i < NCOL; i++) {
		if (e->v[i] == ANY || d->v[i] == e->v[i])
			continue;
		failf("%s: %s expected %+lld, got %+lld", what, col_name[i],
		      e->v[i], d->v[i]);
		bad = 1;
	}
	if (bad)
		failf("(%s delta: %s)", what, row_str(d, buf, sizeof(buf)));
	return bad ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Helper operations                                                  */

static const char *op_name(uint32_t op)
{
	static const char *const names[TTH_OP_COUNT] = {
		[TTH_OP_NOP] = "nop",
		[TTH_OP_KMALLOC_CONST] = "kmalloc_const",
		[TTH_OP_KMALLOC_VAR] = "kmalloc_var",
		[TTH_OP_KMALLOC_LARGE_CONST] = "kmalloc_large_const",
		[TTH_OP_KMALLOC_LARGE_VAR] = "kmalloc_large_var",
		[TTH_OP_KZALLOC_CONST] = "kzalloc_const",
		[TTH_OP_KZALLOC_VAR] = "kzalloc_var",
		[TTH_OP_KCALLOC_CONST] = "kcalloc_const",
		[TTH_OP_KCALLOC_VAR] = "kcalloc_var",
		[TTH_OP_KMALLOC_ARRAY_VAR] = "kmalloc_array_var",
		[TTH_OP_KMALLOC_NODE_CONST] = "kmalloc_node_const",
		[TTH_OP_KMALLOC_NODE_VAR] = "kmalloc_node_var",
		[TTH_OP_KMEMDUP] = "kmemdup",
		[TTH_OP_KSTRNDUP] = "kstrndup",
		[TTH_OP_KSTRDUP_CONST] = "kstrdup_const",
		[TTH_OP_KFREE_SENSITIVE] = "kfree_sensitive",
		[TTH_OP_KFREE_NULL] = "kfree_null",
		[TTH_OP_KFREE_ZERO_PTR] = "kfree_zero_size_ptr",
		[TTH_OP_SCHEDULE] = "schedule",
		[TTH_OP_SEMA] = "down_interruptible_up",
		[TTH_OP_MUTEX] = "mutex_lock_unlock",
		[TTH_OP_KEEP] = "keep",
		[TTH_OP_RELEASE] = "release",
		[TTH_OP_RELEASE_SOFTIRQ] = "release_softirq",
		[TTH_OP_HARDIRQ] = "hardirq",
		[TTH_OP_SOFTIRQ] = "softirq",
	};

	return op < TTH_OP_COUNT && names[op] ? names[op] : "?";
}

enum kind { K_ALLOC, K_ALLOC_ZERO, K_NONE, K_SCHED, K_SEMA, K_MUTEX,
	K_IRQ };

struct opcase {
	const char *name;
	uint32_t op;
	enum kind kind;
	uint64_t n;
	uint64_t size;
	uint64_t count;
	long long bytes;	/* requested bytes per allocation */
};

#define N_OPS 1000

static const struct opcase opcases[] = {
	{ "kmalloc_const", TTH_OP_KMALLOC_CONST, K_ALLOC, N_OPS, 0, 0,
	  TTH_CONST_SIZE },
	{ "kmalloc_var_100", TTH_OP_KMALLOC_VAR, K_ALLOC, N_OPS, 100, 0, 100 },
	{ "kmalloc_var_1", TTH_OP_KMALLOC_VAR, K_ALLOC, N_OPS, 1, 0, 1 },
	{ "kmalloc_var_4097", TTH_OP_KMALLOC_VAR, K_ALLOC, N_OPS, 4097, 0,
	  4097 },
	{ "kmalloc_var_8192", TTH_OP_KMALLOC_VAR, K_ALLOC, N_OPS, 8192, 0,
	  8192 },
	{ "kmalloc_zero", TTH_OP_KMALLOC_VAR, K_ALLOC_ZERO, N_OPS, 0, 0, 0 },
	{ "kmalloc_large_const", TTH_OP_KMALLOC_LARGE_CONST, K_ALLOC, 500, 0, 0,
	  TTH_LARGE_CONST_SIZE },
	{ "kmalloc_large_var_12293", TTH_OP_KMALLOC_LARGE_VAR, K_ALLOC, 500,
	  12293, 0, 12293 },
	{ "kmalloc_large_var_65539", TTH_OP_KMALLOC_LARGE_VAR, K_ALLOC, 200,
	  65539, 0, 65539 },
	{ "kzalloc_const", TTH_OP_KZALLOC_CONST, K_ALLOC, N_OPS, 0, 0,
	  TTH_CONST_SIZE },
	{ "kzalloc_var_200", TTH_OP_KZALLOC_VAR, K_ALLOC, N_OPS, 200, 0, 200 },
	{ "kcalloc_const", TTH_OP_KCALLOC_CONST, K_ALLOC, N_OPS, 0, 0,
	  TTH_ARRAY_CONST_N * TTH_ARRAY_CONST_SIZE },
	{ "kcalloc_var_5x40", TTH_OP_KCALLOC_VAR, K_ALLOC, N_OPS, 40, 5, 200 },
	{ "kmalloc_array_var_3x1000", TTH_OP_KMALLOC_ARRAY_VAR, K_ALLOC, N_OPS,
	  1000, 3, 3000 },
	{ "kmalloc_node_const", TTH_OP_KMALLOC_NODE_CONST, K_ALLOC, N_OPS, 0, 0,
	  TTH_CONST_SIZE },
	{ "kmalloc_node_var_333", TTH_OP_KMALLOC_NODE_VAR, K_ALLOC, N_OPS, 333,
	  0, 333 },
	{ "kmemdup_123", TTH_OP_KMEMDUP, K_ALLOC, N_OPS, 123, 0, 123 },
	{ "kstrndup_50", TTH_OP_KSTRNDUP, K_ALLOC, N_OPS, 50, 0, 50 },
	{ "kstrdup_const", TTH_OP_KSTRDUP_CONST, K_ALLOC, N_OPS, 0, 0,
	  sizeof(TTH_STR) },
	{ "kfree_sensitive_77", TTH_OP_KFREE_SENSITIVE, K_ALLOC, N_OPS, 77, 0,
	  77 },
	{ "kfree_null", TTH_OP_KFREE_NULL, K_NONE, N_OPS, 0, 0, 0 },
	{ "kfree_zero_size_ptr", TTH_OP_KFREE_ZERO_PTR, K_NONE, N_OPS, 0, 0, 0 },
	{ "schedule", TTH_OP_SCHEDULE, K_SCHED, N_OPS, 0, 0, 0 },
	{ "down_interruptible_up", TTH_OP_SEMA, K_SEMA, N_OPS, 0, 0, 0 },
	{ "mutex_lock_unlock", TTH_OP_MUTEX, K_MUTEX, N_OPS, 0, 0, 0 },
	{ "hardirq_not_counted", TTH_OP_HARDIRQ, K_IRQ, N_OPS, 64, 0, 0 },
	{ "softirq_not_counted", TTH_OP_SOFTIRQ, K_IRQ, N_OPS, 64, 0, 0 },
};

static void opcase_expect(const struct opcase *c, struct expect *e)
{
	long long n = c->n;

	expect_zero(e);
	switch (c->kind) {
	case K_ALLOC:
		expect_alloc(e, n, c->bytes);
		break;
	case K_ALLOC_ZERO:
		e->v[C_KMALLOC] = n;
		break;
	case K_SEMA:
		e->v[C_UP] = n;
		e->v[C_DOWN] = n;
		break;
	case K_MUTEX:
		e->v[C_LOCK] = n;
		e->v[C_UNLOCK] = n;
		break;
	default:
		break;
	}
}

static int t_op(const void *arg)
{
	const struct opcase *c = arg;
	struct row d0, d1, diff;
	struct expect e;
	struct worker w;
	char buf[256], what[64];
	int i, ret = 0;

	if (worker_start(&w, 1) || pin(w.pid, 0))
		return -1;
	/*
	 * Warm-up, not measured: the allocator may itself kmalloc() when it
	 * has to make new slabs (per-slab vectors, sheaves on recent
	 * kernels); real calls, counted, but not the ones under test.
	 */
	if (slot_op(w.sl[0], c->op, c->n, c->size, c->count))
		return -1;
	CHECK_ERR(tr_add(w.pid), 0, "add worker %d", w.pid);
	if (measure(w.pid, w.sl[0], c->op, 0, c->size, c->count, &d0))
		return -1;
	for (i = 1; i < NCOL; i++)
		if (i != C_SCHED && d0.v[i]) {
			diag("%s: baseline (n=0) delta not zero: %s", c->name,
			     row_str(&d0, buf, sizeof(buf)));
			break;
		}
	opcase_expect(c, &e);
	/* Twice: the second run must count exactly the same. */
	for (i = 0; i < 2; i++) {
		if (measure(w.pid, w.sl[0], c->op, c->n, c->size, c->count,
			    &d1))
			return -1;
		row_sub(&diff, &d1, &d0);
		snprintf(what, sizeof(what), "%s n=%llu run %d", c->name,
			 (unsigned long long)c->n, i + 1);
		if (check_delta(what, &diff, &e))
			ret = -1;
		if (c->kind == K_SCHED) {
			if (d1.v[C_SCHED] < (long long)c->n) {
				failf("%s: sched delta %lld < n=%llu", what,
				      d1.v[C_SCHED], (unsigned long long)c->n);
				ret = -1;
			} else if (d1.v[C_SCHED] >= 2 * (long long)c->n) {
				failf("%s: sched delta %lld >= 2n: counted twice?",
				      what, d1.v[C_SCHED]);
				ret = -1;
			}
		}
		if (c->kind == K_IRQ) {
			uint32_t f = w.sl[0]->req.flags;

			if (!(f & TTH_F_CTX_OK)) {
				failf("%s: helper did not run in %s context",
				      what, op_name(c->op));
				ret = -1;
			}
			if (i == 0)
				diag("%s: ran %s the caller's context%s",
				     c->name,
				     f & TTH_F_IN_CALLER ? "in" : "outside",
				     f & TTH_F_NO_ALLOC ?
				     " (PREEMPT_RT: up() only, no kmalloc)" :
				     "");
		}
	}
	worker_kill(&w);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Tests: format and ioctl errors                                     */

static int t_proc_format(const void *arg)
{
	struct stat st;
	struct table t;
	char *buf, *nl;
	size_t len;

	(void)arg;
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

static int t_add_remove(const void *arg)
{
	struct worker w;
	struct row r;
	int i;

	(void)arg;
	if (worker_start(&w, 1))
		return -1;
	if (row_absent(w.pid))
		return -1;
	if (worker_asleep(&w))
		return -1;
	CHECK_ERR(tr_add(w.pid), 0, "add %d", w.pid);
	if (row_need(w.pid, &r))
		return -1;
	/* The worker sleeps in futex_wait: a new row is all zeros. */
	for (i = 1; i < NCOL; i++)
		CHECK(r.v[i] == 0, "new row: %s = %lld, expected 0",
		      col_name[i], r.v[i]);
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

/* A PID that exists nowhere: a reaped child's. */
static pid_t dead_pid(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return pid;
}

static long read_long(const char *path)
{
	char buf[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -1;
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (r <= 0)
		return -1;
	buf[r] = 0;
	return strtol(buf, NULL, 10);
}

static int t_err_esrch(const void *arg)
{
	long pid_max = read_long("/proc/sys/kernel/pid_max");
	pid_t dead = dead_pid();

	(void)arg;
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

static int t_err_eexist(const void *arg)
{
	struct worker w;

	(void)arg;
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

static int t_err_enoent(const void *arg)
{
	struct worker w;

	(void)arg;
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

static int t_err_einval(const void *arg)
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

	(void)arg;
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		CHECK_ERR(tr_ioctl(TRACER_ADD_PROCESS, bad[i].v), EINVAL,
			  "add of PID %s", bad[i].what);
		CHECK_ERR(tr_ioctl(TRACER_REMOVE_PROCESS, bad[i].v), EINVAL,
			  "remove of PID %s", bad[i].what);
	}
	return 0;
}

static int t_err_enotty(const void *arg)
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

	(void)arg;
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

static int t_thread_id(const void *arg)
{
	struct worker w;
	pid_t t1, t2;

	(void)arg;
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
static int t_add_self(const void *arg)
{
	struct worker w;
	int err;

	(void)arg;
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

/* ------------------------------------------------------------------ */
/* Tests: kfree_mem attribution                                       */

#define KEEP_N 500

static int keep(struct worker *w, uint64_t n, uint64_t size)
{
	return slot_op(w->sl[0], TTH_OP_KEEP, n, size, 0);
}

static int release(struct worker *w, uint64_t want, int softirq)
{
	if (slot_op(w->sl[0], softirq ? TTH_OP_RELEASE_SOFTIRQ : TTH_OP_RELEASE,
		    0, 0, 0))
		return -1;
	CHECK(w->sl[0]->req.n == want, "helper released %llu blocks, expected %llu",
	      (unsigned long long)w->sl[0]->req.n, (unsigned long long)want);
	return 0;
}

/* Free whatever an earlier (failed) test left kept in the helper. */
static int keep_reset(void)
{
	struct tth_req r = { .op = TTH_OP_RELEASE };

	CHECK(!ioctl(g_hfd, TTH_IOC_RUN, &r), "helper release: %s",
	      strerror(errno));
	return 0;
}

/* Unmeasured warm-up (see t_op): keep and free n blocks of size s. */
static int keep_warm(struct worker *w, uint64_t n, uint64_t s)
{
	return keep(w, n, s) || release(w, n, 0) ? -1 : 0;
}

/* Start n workers for a keep test, all on CPU 0 (see t_op). */
static int keep_workers(struct worker *w, int n)
{
	int i;

	if (keep_reset())
		return -1;
	for (i = 0; i < n; i++)
		if (worker_start(&w[i], 1) || pin(w[i].pid, 0))
			return -1;
	return 0;
}

/* Rows of p (monitored) around "p keeps n blocks of size s". */
static int keep_measured(struct worker *p, uint64_t n, uint64_t s)
{
	struct row a, b, d;
	struct expect e;

	if (row_need(p->pid, &a) || keep(p, n, s) || row_need(p->pid, &b))
		return -1;
	row_sub(&d, &b, &a);
	expect_zero(&e);
	e.v[C_KMALLOC] = n;
	e.v[C_KMALLOC_MEM] = n * s;
	return check_delta("keep", &d, &e);
}

/* q frees the n kept blocks: nfree kfree() counted, bytes kfree_mem. */
static int release_measured(struct worker *q, uint64_t n, long long nfree,
			    long long bytes, const char *what)
{
	struct row a, b, d;
	struct expect e;

	if (row_need(q->pid, &a) || release(q, n, 0) || row_need(q->pid, &b))
		return -1;
	row_sub(&d, &b, &a);
	expect_zero(&e);
	e.v[C_KFREE] = nfree;
	e.v[C_KFREE_MEM] = bytes;
	return check_delta(what, &d, &e);
}

static int t_keep_same(const void *arg)
{
	struct worker p;

	(void)arg;
	if (keep_workers(&p, 1) || keep_warm(&p, KEEP_N, 100))
		return -1;
	CHECK_ERR(tr_add(p.pid), 0, "add");
	if (keep_measured(&p, KEEP_N, 100))
		return -1;
	if (release_measured(&p, KEEP_N, KEEP_N, KEEP_N * 100LL,
			     "release by allocator"))
		return -1;
	worker_kill(&p);
	return 0;
}

/* P allocates, Q frees: Q's kfree_mem gets the sizes P requested. */
static int t_keep_other(const void *arg)
{
	struct worker w[2], p, q;
	struct row a, b, d;
	struct expect e;

	(void)arg;
	if (keep_workers(w, 2))
		return -1;
	p = w[0];
	q = w[1];
	if (keep(&p, 300, 100) || keep(&p, 200, 5000) || keep(&p, 50, 30000) ||
	    release(&q, 550, 0))
		return -1;
	CHECK_ERR(tr_add(p.pid), 0, "add P");
	CHECK_ERR(tr_add(q.pid), 0, "add Q");
	if (keep_measured(&p, 300, 100) || keep_measured(&p, 200, 5000) ||
	    keep_measured(&p, 50, 30000))
		return -1;
	if (row_need(p.pid, &a))
		return -1;
	if (release_measured(&q, 550, 550, 300 * 100LL + 200 * 5000LL +
			     50 * 30000LL, "release of P's blocks by Q"))
		return -1;
	if (row_need(p.pid, &b))
		return -1;
	row_sub(&d, &b, &a);
	expect_zero(&e);
	if (check_delta("P while Q frees its blocks", &d, &e))
		return -1;
	worker_kill(&p);
	worker_kill(&q);
	return 0;
}

/* kmalloc(0) kept by P: counted, 0 bytes; Q's kfree(ZERO_SIZE_PTR): not. */
static int t_keep_zero(const void *arg)
{
	struct worker w[2], p, q;

	(void)arg;
	if (keep_workers(w, 2))
		return -1;
	p = w[0];
	q = w[1];
	CHECK_ERR(tr_add(p.pid), 0, "add P");
	CHECK_ERR(tr_add(q.pid), 0, "add Q");
	if (keep_measured(&p, 10, 0))
		return -1;
	return release_measured(&q, 10, 0, 0,
				"Q frees P's ZERO_SIZE_PTR blocks");
}

/* Blocks of an unmonitored process: kfree counted, 0 bytes. */
static int t_keep_unmonitored(const void *arg)
{
	struct worker w[2], u, q;

	(void)arg;
	if (keep_workers(w, 2))
		return -1;
	u = w[0];
	q = w[1];
	if (keep(&u, KEEP_N, 100) || release(&q, KEEP_N, 0))
		return -1;
	CHECK_ERR(tr_add(q.pid), 0, "add Q");
	if (keep(&u, KEEP_N, 100) || row_absent(u.pid))
		return -1;
	if (release_measured(&q, KEEP_N, KEEP_N, 0,
			     "release of unmonitored U's blocks by Q"))
		return -1;
	worker_kill(&u);
	worker_kill(&q);
	return 0;
}

/* Blocks allocated before monitoring started: kfree counted, 0 bytes. */
static int t_keep_before_add(const void *arg)
{
	struct worker p;

	(void)arg;
	if (keep_workers(&p, 1) || keep_warm(&p, KEEP_N, 100))
		return -1;
	if (keep(&p, KEEP_N, 100))
		return -1;
	CHECK_ERR(tr_add(p.pid), 0, "add");
	if (release_measured(&p, KEEP_N, KEEP_N, 0,
			     "release of blocks allocated before monitoring"))
		return -1;
	worker_kill(&p);
	return 0;
}

/*
 * A block of monitored P freed where it is not counted (by unmonitored U, or
 * in softirq context) must not leave a size behind: the same addresses,
 * reallocated by unmonitored U, then freed by monitored Q, give 0 bytes.
 */
static int stale_record(int softirq)
{
	struct worker w[3], p, u, q;
	struct row a, b, d;
	struct expect e;

	if (keep_workers(w, 3))
		return -1;
	p = w[0];
	u = w[1];
	q = w[2];
	if (keep_warm(&p, KEEP_N, 96) || keep(&u, KEEP_N, 96) ||
	    release(&q, KEEP_N, 0))
		return -1;
	CHECK_ERR(tr_add(p.pid), 0, "add P");
	CHECK_ERR(tr_add(q.pid), 0, "add Q");
	if (keep_measured(&p, KEEP_N, 96))
		return -1;
	if (softirq) {
		if (row_need(p.pid, &a) || release(&p, KEEP_N, 1) ||
		    row_need(p.pid, &b))
			return -1;
		row_sub(&d, &b, &a);
		expect_zero(&e);
		if (check_delta("P's kfree in softirq context", &d, &e))
			return -1;
	} else {
		if (release(&u, KEEP_N, 0))
			return -1;
	}
	if (keep(&u, KEEP_N, 96))
		return -1;
	return release_measured(&q, KEEP_N, KEEP_N, 0,
				"Q frees U's blocks at addresses P's blocks had");
}

static int t_stale_unmonitored_free(const void *arg)
{
	(void)arg;
	return stale_record(0);
}

static int t_stale_softirq_free(const void *arg)
{
	(void)arg;
	return stale_record(1);
}

/* ------------------------------------------------------------------ */
/* Tests: life cycle                                                  */

static int t_exit_zombie(const void *arg)
{
	struct worker w;
	struct row d;
	struct expect e;

	(void)arg;
	if (worker_start(&w, 1))
		return -1;
	CHECK_ERR(tr_add(w.pid), 0, "add");
	if (measure(w.pid, w.sl[0], TTH_OP_KMALLOC_VAR, 10, 10, 0, &d))
		return -1;
	expect_alloc(&e, 10, 10);
	if (check_delta("before exit", &d, &e))
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
	if (row_absent(w.pid))
		return -1;
	if (reap(w.pid))
		return -1;
	if (row_absent(w.pid))
		return -1;
	return 0;
}

/*
 * Threads: a thread that exits leaves the row; the leader exiting first
 * leaves it too (the process lives on); the row goes with the last thread.
 */
static int t_exit_threads(const void *arg)
{
	struct worker w;
	struct row d;
	struct expect e;

	(void)arg;
	if (worker_start(&w, 3) || pin(w.pid, 0) ||
	    slot_op(w.sl[1], TTH_OP_KMALLOC_VAR, 100, 40, 0) ||
	    slot_op(w.sl[1], TTH_OP_KMALLOC_CONST, 55, 0, 0))
		return -1;
	CHECK_ERR(tr_add(w.pid), 0, "add");
	slot_post(w.sl[2], CMD_THREAD_EXIT);
	if (slot_wait(w.sl[2]) || wait_thread_exit(w.pid, w.sl[2]->tid))
		return -1;
	if (measure(w.pid, w.sl[1], TTH_OP_KMALLOC_VAR, 100, 40, 0, &d))
		return -1;
	expect_alloc(&e, 100, 40);
	if (check_delta("thread 1 after thread 2 exited", &d, &e))
		return -1;
	/* The leader exits; thread 1 goes on. */
	slot_post(w.sl[0], CMD_THREAD_EXIT);
	if (slot_wait(w.sl[0]) || wait_thread_exit(w.pid, w.pid))
		return -1;
	if (row_need(w.pid, NULL))
		return -1;
	if (measure(w.pid, w.sl[1], TTH_OP_MUTEX, 77, 0, 0, &d))
		return -1;
	expect_zero(&e);
	e.v[C_LOCK] = e.v[C_UNLOCK] = 77;
	if (check_delta("thread 1 after the leader exited", &d, &e))
		return -1;
	if (measure(w.pid, w.sl[1], TTH_OP_KMALLOC_CONST, 55, 0, 0, &d))
		return -1;
	expect_alloc(&e, 55, TTH_CONST_SIZE);
	if (check_delta("thread 1 after the leader exited", &d, &e))
		return -1;
	slot_post(w.sl[1], CMD_THREAD_EXIT);
	if (wait_zombie(w.pid))
		return -1;
	if (row_absent(w.pid))
		return -1;
	return reap(w.pid);
}

/* After TRACER_REMOVE_PROCESS nothing is counted; re-adding starts at 0. */
static int t_remove_stops(const void *arg)
{
	struct worker w;
	struct row d, r;
	struct expect e;
	int i;

	(void)arg;
	if (worker_start(&w, 1) || pin(w.pid, 0) ||
	    slot_op(w.sl[0], TTH_OP_KMALLOC_VAR, 300, 64, 0))
		return -1;
	CHECK_ERR(tr_add(w.pid), 0, "add");
	if (measure(w.pid, w.sl[0], TTH_OP_KMALLOC_VAR, 300, 64, 0, &d))
		return -1;
	expect_alloc(&e, 300, 64);
	if (check_delta("monitored", &d, &e))
		return -1;
	CHECK_ERR(tr_remove(w.pid), 0, "remove");
	if (slot_op(w.sl[0], TTH_OP_KMALLOC_VAR, 300, 64, 0) ||
	    slot_op(w.sl[0], TTH_OP_MUTEX, 300, 0, 0) || row_absent(w.pid))
		return -1;
	if (worker_asleep(&w))
		return -1;
	CHECK_ERR(tr_add(w.pid), 0, "add again");
	if (row_need(w.pid, &r))
		return -1;
	for (i = 1; i < NCOL; i++)
		CHECK(r.v[i] == 0, "re-added row: %s = %lld, expected 0",
		      col_name[i], r.v[i]);
	if (measure(w.pid, w.sl[0], TTH_OP_SEMA, 123, 0, 0, &d))
		return -1;
	expect_zero(&e);
	e.v[C_UP] = e.v[C_DOWN] = 123;
	if (check_delta("re-added", &d, &e))
		return -1;
	worker_kill(&w);
	return 0;
}

/* Several threads, different operations at the same time: one row. */
static int t_threads_sum(const void *arg)
{
	struct worker w;
	struct row a, b, d;
	struct expect e;
	int i;

	(void)arg;
	if (worker_start(&w, 4))
		return -1;
	/* Warm-up, not measured (see t_op). */
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
	if (row_need(w.pid, &b))
		return -1;
	row_sub(&d, &b, &a);
	expect_zero(&e);
	e.v[C_KMALLOC] = e.v[C_KFREE] = 5000;
	e.v[C_KMALLOC_MEM] = e.v[C_KFREE_MEM] = 1000 * 100 + 4000 * TTH_CONST_SIZE;
	e.v[C_LOCK] = e.v[C_UNLOCK] = 2000;
	e.v[C_UP] = e.v[C_DOWN] = 3000;
	if (check_delta("4 threads", &d, &e))
		return -1;
	worker_kill(&w);
	return 0;
}

/* Several monitored processes at once, each with its own exact counts. */
static int t_multi_process(const void *arg)
{
	struct worker w[4];
	struct row a[4], b[4], d;
	struct expect e;
	char what[32];
	int i;

	(void)arg;
	for (i = 0; i < 4; i++) {
		if (worker_start(&w[i], 2) ||
		    slot_op(w[i].sl[0], TTH_OP_KMALLOC_VAR, 100 * (i + 1),
			    16 + 8 * i, 0))	/* warm-up (see t_op) */
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
	for (i = 0; i < 4; i++)
		if (row_need(w[i].pid, &b[i]))
			return -1;
	for (i = 0; i < 4; i++) {
		row_sub(&d, &b[i], &a[i]);
		expect_alloc(&e, 100 * (i + 1), 16 + 8 * i);
		e.v[C_LOCK] = e.v[C_UNLOCK] = 50 * (i + 1);
		snprintf(what, sizeof(what), "process %d", i);
		if (check_delta(what, &d, &e))
			return -1;
	}
	for (i = 0; i < 4; i++)
		worker_kill(&w[i]);
	return 0;
}

/* An unmonitored process's activity shows nowhere. */
static int t_untraced(const void *arg)
{
	struct worker u, m;
	struct row a, b, d;
	struct expect e;

	(void)arg;
	if (worker_start(&u, 1) || worker_start(&m, 1))
		return -1;
	CHECK_ERR(tr_add(m.pid), 0, "add M");
	if (row_need(m.pid, &a))
		return -1;
	if (slot_op(u.sl[0], TTH_OP_KMALLOC_VAR, 1000, 100, 0) ||
	    slot_op(u.sl[0], TTH_OP_MUTEX, 1000, 0, 0) ||
	    slot_op(u.sl[0], TTH_OP_SEMA, 1000, 0, 0) ||
	    slot_op(u.sl[0], TTH_OP_SCHEDULE, 100, 0, 0))
		return -1;
	if (row_absent(u.pid) || row_need(m.pid, &b))
		return -1;
	row_sub(&d, &b, &a);
	expect_zero(&e);
	if (check_delta("idle monitored M while unmonitored U works", &d, &e))
		return -1;
	worker_kill(&u);
	worker_kill(&m);
	return 0;
}

/* A child forked by a monitored process is not monitored. */
static int t_fork_child(const void *arg)
{
	struct worker w;
	struct wslot *cs = slot_alloc();
	struct row a, b, d;
	struct expect e;
	pid_t c;

	(void)arg;
	CHECK(cs, "out of slots");
	if (worker_start(&w, 1))
		return -1;
	CHECK_ERR(tr_add(w.pid), 0, "add");
	w.sl[0]->arg = cs - g_pool;
	slot_post(w.sl[0], CMD_FORK);
	if (slot_wait(w.sl[0]))
		return -1;
	c = w.sl[0]->ret;
	CHECK(c > 0, "worker fork: %s", strerror(w.sl[0]->err));
	if (slot_wait_ready(cs, c))
		return -1;
	if (row_absent(c) || row_need(w.pid, &a))
		return -1;
	if (slot_op(cs, TTH_OP_KMALLOC_VAR, 500, 100, 0) ||
	    slot_op(cs, TTH_OP_MUTEX, 500, 0, 0))
		return -1;
	if (row_absent(c) || row_need(w.pid, &b))
		return -1;
	row_sub(&d, &b, &a);
	expect_zero(&e);
	if (check_delta("monitored parent while its child works", &d, &e))
		return -1;
	kill(c, SIGKILL);
	worker_kill(&w);
	return 0;
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0)
		return -1;
	r = write(fd, s, strlen(s));
	close(fd);
	return r == (ssize_t)strlen(s) ? 0 : -1;
}

/* A process that gets the PID of an exited monitored one starts clean. */
static int t_pid_reuse(const void *arg)
{
	struct worker w, n = { 0 };
	struct row d, r;
	struct expect e;
	char buf[32];
	pid_t old;
	int i, try;

	(void)arg;
	for (try = 0; try < 5; try++) {
		if (worker_start(&w, 1))
			return -1;
		old = w.pid;
		CHECK_ERR(tr_add(old), 0, "add");
		if (measure(old, w.sl[0], TTH_OP_KMALLOC_VAR, 100, 100, 0, &d))
			return -1;
		if (worker_exit(&w) || row_absent(old))
			return -1;
		snprintf(buf, sizeof(buf), "%d", old - 1);
		CHECK(!write_str("/proc/sys/kernel/ns_last_pid", buf),
		      "cannot write ns_last_pid: %s", strerror(errno));
		if (worker_start(&n, 1))
			return -1;
		if (n.pid == old)
			break;
		diag("pid_reuse: got PID %d instead of %d, retrying", n.pid,
		     old);
		worker_kill(&n);
	}
	CHECK(n.pid == old, "could not get PID %d again", old);
	if (row_absent(n.pid))
		return -1;
	if (slot_op(n.sl[0], TTH_OP_KMALLOC_VAR, 100, 100, 0) ||
	    row_absent(n.pid))
		return -1;
	if (worker_asleep(&n))
		return -1;
	CHECK_ERR(tr_add(n.pid), 0, "add of the new process");
	if (row_need(n.pid, &r))
		return -1;
	for (i = 1; i < NCOL; i++)
		CHECK(r.v[i] == 0, "new process with reused PID: %s = %lld",
		      col_name[i], r.v[i]);
	if (measure(n.pid, n.sl[0], TTH_OP_KMALLOC_VAR, 7, 9, 0, &d))
		return -1;
	expect_alloc(&e, 7, 9);
	if (check_delta("new process with reused PID", &d, &e))
		return -1;
	worker_kill(&n);
	return 0;
}

/* Byte-by-byte reads, seeks and preads give the same text as one read. */
static int t_proc_read(const void *arg)
{
	struct worker w[3];
	char *big, *small, *part;
	size_t len, slen, plen, k;
	int fd, i;
	ssize_t r;

	(void)arg;
	for (i = 0; i < 3; i++) {
		if (worker_start(&w[i], 1))
			return -1;
		CHECK_ERR(tr_add(w[i].pid), 0, "add");
		if (slot_op(w[i].sl[0], TTH_OP_KMALLOC_VAR, 1000 * (i + 1), 1234,
			    0) ||
		    slot_op(w[i].sl[0], TTH_OP_SEMA, 10 + i, 0, 0))
			return -1;
	}
	/* Rows must not change: every worker sleeps, past schedule(). */
	for (i = 0; i < 3; i++)
		if (worker_asleep(&w[i]))
			return -1;
	big = read_proc(&len);
	CHECK(big, "read: %s", strerror(errno));
	CHECK(len > strlen(TRACER_PROC_COLUMNS), "short table");

	fd = open(PROC_PATH, O_RDONLY);
	CHECK(fd >= 0, "open: %s", strerror(errno));
	small = malloc(len + 64);
	CHECK(small, "malloc");
	slen = 0;
	while ((r = read(fd, small + slen, 1)) == 1)
		CHECK(++slen <= len + 32, "1-byte reads give more than %zu bytes",
		      len);
	CHECK(r == 0, "1-byte read: %s", strerror(errno));
	CHECK(slen == len && !memcmp(big, small, len),
	      "1-byte reads (%zu bytes) differ from one read (%zu bytes)",
	      slen, len);

	/* 7-byte reads. */
	CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek 0: %s", strerror(errno));
	slen = 0;
	while ((r = read(fd, small + slen, 7)) > 0)
		CHECK((slen += r) <= len + 32, "7-byte reads too long");
	CHECK(slen == len && !memcmp(big, small, len),
	      "7-byte reads (%zu bytes) differ from one read", slen);

	/* Seek to k, read the rest. */
	for (k = 0; k <= len; k += (len / 13) + 1) {
		off_t o = lseek(fd, k, SEEK_SET);

		CHECK(o == (off_t)k, "lseek %zu: %s", k, strerror(errno));
		part = read_all_fd(fd, &plen);
		CHECK(part, "read after lseek %zu: %s", k, strerror(errno));
		CHECK(plen == len - k && !memcmp(part, big + k, plen),
		      "read after lseek to %zu gives %zu bytes, expected the last %zu: '%.*s' vs '%.*s'",
		      k, plen, len - k, (int)plen, part, (int)(len - k), big + k);
		free(part);
	}
	/* pread at a few offsets. */
	for (k = 0; k < len; k += (len / 7) + 1) {
		char tmp[16];

		r = pread(fd, tmp, sizeof(tmp), k);
		CHECK(r == (ssize_t)(len - k < sizeof(tmp) ? len - k : sizeof(tmp)) &&
		      !memcmp(tmp, big + k, r),
		      "pread(%zu bytes at %zu) returned %zd bytes or wrong text",
		      sizeof(tmp), k, r);
	}
	close(fd);
	free(small);
	free(big);
	for (i = 0; i < 3; i++)
		worker_kill(&w[i]);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Tests: permissions, allocation failure                             */

/* A non-root process (with a /dev/tracer fd opened by root) may monitor
 * only its own processes.
 */
static int t_eperm(const void *arg)
{
	struct worker w;
	pid_t c;
	int st, pfd[2];
	char res[256] = "";
	ssize_t r;

	(void)arg;
	if (worker_start(&w, 1))
		return -1;
	CHECK_ERR(tr_add(w.pid), 0, "add root worker");
	CHECK(!pipe(pfd), "pipe");
	c = fork();
	CHECK(c >= 0, "fork");
	if (c == 0) {
		int e;

		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534)) {
			dprintf(pfd[1], "cannot drop privileges: %s",
				strerror(errno));
			_exit(1);
		}
		e = tr_add(w.pid);
		if (e != EPERM) {
			dprintf(pfd[1], "non-root add of a root process: expected EPERM, got %s",
				errname(e));
			_exit(1);
		}
		e = tr_remove(w.pid);
		if (e != EPERM) {
			dprintf(pfd[1], "non-root remove of a root process: expected EPERM, got %s",
				errname(e));
			_exit(1);
		}
		e = tr_add(getpid());
		if (e) {
			dprintf(pfd[1], "non-root add of itself: %s", errname(e));
			_exit(1);
		}
		e = tr_remove(getpid());
		if (e) {
			dprintf(pfd[1], "non-root remove of itself: %s",
				errname(e));
			_exit(1);
		}
		_exit(0);
	}
	close(pfd[1]);
	r = read(pfd[0], res, sizeof(res) - 1);
	res[r > 0 ? r : 0] = 0;
	CHECK(waitpid(c, &st, 0) == c, "waitpid");
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s",
	      res[0] ? res : "child failed");
	if (row_need(w.pid, NULL))
		return -1;
	worker_kill(&w);
	return 0;
}

#define FAIL_ALLOC_PATH "/sys/module/tracer/parameters/fail_alloc"

/* With the module's allocation failing, add fails cleanly (ENOMEM). */
static int t_add_enomem(const void *arg)
{
	struct worker w;

	(void)arg;
	if (access(FAIL_ALLOC_PATH, F_OK))
		return 2;	/* no test switch in this module */
	if (worker_start(&w, 1))
		return -1;
	CHECK(!write_str(FAIL_ALLOC_PATH, "1"), "write %s: %s",
	      FAIL_ALLOC_PATH, strerror(errno));
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

/* ------------------------------------------------------------------ */
/* Tests: TRACER_ADD_PROCESS_EX                                       */

static int ex_add(int fd, pid_t pid, uint32_t flags)
{
	struct tracer_add a = { .pid = pid, .flags = flags };

	return ioctl(fd, TRACER_ADD_PROCESS_EX, &a) ? errno : 0;
}

static int t_ex_errors(const void *arg)
{
	struct worker w;

	(void)arg;
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
static int t_ex_follow(const void *arg)
{
	struct worker w;
	struct wslot *cs = slot_alloc(), *ds = slot_alloc();
	struct row d;
	struct expect e;
	pid_t c, g;

	(void)arg;
	CHECK(cs && ds, "out of slots");
	if (worker_start(&w, 2))
		return -1;
	CHECK_ERR(ex_add(g_tfd, w.pid, TRACER_FOLLOW_FORKS), 0, "EX follow");
	w.sl[0]->arg = cs - g_pool;
	slot_post(w.sl[0], CMD_FORK);
	if (slot_wait(w.sl[0]))
		return -1;
	c = w.sl[0]->ret;
	CHECK(c > 0, "worker fork: %s", strerror(w.sl[0]->err));
	if (slot_wait_ready(cs, c))
		return -1;
	if (row_need(c, NULL))
		return -1;
	cs->arg = ds - g_pool;
	slot_post(cs, CMD_FORK);
	if (slot_wait(cs))
		return -1;
	g = cs->ret;
	CHECK(g > 0, "child fork: %s", strerror(cs->err));
	if (slot_wait_ready(ds, g))
		return -1;
	if (row_need(g, NULL))
		return -1;
	/* Each row counts its own process only. */
	if (measure(c, cs, TTH_OP_KMALLOC_VAR, 300, 24, 0, &d))
		return -1;
	expect_alloc(&e, 300, 24);
	if (check_delta("followed child", &d, &e))
		return -1;
	if (measure(g, ds, TTH_OP_MUTEX, 200, 0, 0, &d))
		return -1;
	expect_zero(&e);
	e.v[C_LOCK] = e.v[C_UNLOCK] = 200;
	if (check_delta("followed grandchild", &d, &e))
		return -1;
	if (measure(w.pid, w.sl[1], TTH_OP_SEMA, 100, 0, 0, &d))
		return -1;
	expect_zero(&e);
	e.v[C_UP] = e.v[C_DOWN] = 100;
	if (check_delta("the followed process", &d, &e))
		return -1;
	kill(g, SIGKILL);
	kill(c, SIGKILL);
	worker_kill(&w);
	return 0;
}

/* REPORT_EXIT: the final row of an exited process is read from the fd. */
static int t_ex_report(const void *arg)
{
	struct tracer_record rec[4];
	struct worker w;
	struct row last;
	char comm[16] = "";
	int fd, i, fd2;
	ssize_t r;

	(void)arg;
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
	{
		char path[64];
		int cfd;

		snprintf(path, sizeof(path), "/proc/%d/comm", getpid());
		cfd = open(path, O_RDONLY);
		if (cfd >= 0) {
			r = read(cfd, comm, sizeof(comm) - 1);
			comm[r > 0 ? r - 1 : 0] = 0;
			close(cfd);
		}
	}
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

/* ------------------------------------------------------------------ */
/* Stress                                                             */

#define RING 64

struct stress {
	volatile int stop;
	int pids[RING];
	unsigned int head;
	long reads, adds, removes, spawned, records, reopens;
	int exfd;		/* EX adds (follow + report) go to this file */
	char err[512];
	pthread_mutex_t lock;
};

static void stress_err(struct stress *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void stress_err(struct stress *s, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&s->lock);
	if (!s->err[0]) {
		va_start(ap, fmt);
		vsnprintf(s->err, sizeof(s->err), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&s->lock);
	s->stop = 1;
}

static void *stress_reader(void *p)
{
	struct stress *s = p;
	char err[256];

	while (!s->stop) {
		struct table t;
		size_t len;
		char *buf = read_proc(&len);

		if (!buf) {
			stress_err(s, "read %s: %s", PROC_PATH, strerror(errno));
			break;
		}
		if (parse_table(buf, len, &t, err, sizeof(err))) {
			stress_err(s, "%s during stress: %s", PROC_PATH, err);
			free(buf);
			break;
		}
		free(t.rows);
		free(buf);
		__atomic_add_fetch(&s->reads, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void *stress_adder(void *p)
{
	struct stress *s = p;
	unsigned int seed = 12345;

	while (!s->stop) {
		unsigned int h = __atomic_load_n(&s->head, __ATOMIC_ACQUIRE);
		pid_t pid;
		int e, add;

		if (!h) {
			sched_yield();
			continue;
		}
		pid = s->pids[rand_r(&seed) % (h < RING ? h : RING)];
		/* Sometimes a thread ID of it, or a PID just freed. */
		pid += rand_r(&seed) % 4 == 0 ? rand_r(&seed) % 3 : 0;
		add = rand_r(&seed) % 2;
		e = add ? tr_add(pid) : tr_remove(pid);
		__atomic_add_fetch(add ? &s->adds : &s->removes, 1,
				   __ATOMIC_RELAXED);
		if (e && e != ESRCH && e != EEXIST && e != ENOENT) {
			stress_err(s, "%s of %d during stress: %s",
				   add ? "add" : "remove", pid, errname(e));
			break;
		}
	}
	return NULL;
}

/* Reads the exit records, and now and then replaces the file (session). */
static void *stress_drain(void *p)
{
	struct stress *s = p;
	struct tracer_record rec[16];
	long loops = 0;
	ssize_t r;
	size_t i;

	while (!s->stop) {
		r = read(s->exfd, rec, sizeof(rec));
		if (r < 0 || r % sizeof(rec[0])) {
			stress_err(s, "read of exit records returned %zd (%s)", r,
				   r < 0 ? strerror(errno) : "partial record");
			break;
		}
		for (i = 0; i < r / sizeof(rec[0]); i++)
			if (rec[i].pid <= 0) {
				stress_err(s, "exit record with pid %d",
					   rec[i].pid);
				break;
			}
		__atomic_add_fetch(&s->records, r / sizeof(rec[0]),
				   __ATOMIC_RELAXED);
		if (++loops % 200 == 0) {
			/* Drops the old file, with whatever it has queued. */
			int nfd = open(DEV_PATH, O_RDWR | O_CLOEXEC);

			if (nfd < 0 || dup2(nfd, s->exfd) < 0) {
				stress_err(s, "reopen %s: %s", DEV_PATH,
					   strerror(errno));
				break;
			}
			close(nfd);
			s->reopens++;
		}
		if (!r)
			msleep(2);
	}
	return NULL;
}

static void *stress_child_thread(void *p)
{
	struct tth_req r = { .op = TTH_OP_KMALLOC_VAR, .n = 20, .size = 48 };

	(void)p;
	ioctl(g_hfd, TTH_IOC_RUN, &r);
	r.op = TTH_OP_MUTEX;
	ioctl(g_hfd, TTH_IOC_RUN, &r);
	return NULL;
}

static void stress_child(unsigned int seed)
{
	static const uint32_t ops[] = {
		TTH_OP_KMALLOC_VAR, TTH_OP_KMALLOC_LARGE_VAR, TTH_OP_MUTEX,
		TTH_OP_SEMA, TTH_OP_SCHEDULE, TTH_OP_SOFTIRQ, TTH_OP_HARDIRQ,
		TTH_OP_KFREE_NULL,
	};
	struct tth_req r = { 0 };
	pthread_t t[3];
	int i, nt;

	if (rand_r(&seed) % 2)
		ioctl(g_tfd, TRACER_ADD_PROCESS, (unsigned long)getpid());
	nt = rand_r(&seed) % 4;
	for (i = 0; i < nt; i++)
		if (pthread_create(&t[i], NULL, stress_child_thread, NULL))
			nt = i;
	for (i = 0; i < 3; i++) {
		r.op = ops[rand_r(&seed) % ARRAY_SIZE(ops)];
		r.n = 1 + rand_r(&seed) % 50;
		r.size = r.op == TTH_OP_KMALLOC_LARGE_VAR ? 9000 : 1 + rand_r(&seed) % 300;
		ioctl(g_hfd, TTH_IOC_RUN, &r);
	}
	if (rand_r(&seed) % 4 == 0) {
		/* A grandchild: followed when its parent was added with EX. */
		pid_t g = fork();

		if (g == 0) {
			r.op = TTH_OP_KMALLOC_VAR;
			r.n = 10;
			r.size = 10;
			ioctl(g_hfd, TTH_IOC_RUN, &r);
			_exit(0);
		}
		if (g > 0)
			waitpid(g, NULL, 0);
	}
	if (rand_r(&seed) % 3 == 0)
		ioctl(g_tfd, TRACER_REMOVE_PROCESS, (unsigned long)getpid());
	/* Half exit with their threads still running. */
	if (rand_r(&seed) % 2)
		for (i = 0; i < nt; i++)
			pthread_join(t[i], NULL);
	_exit(0);
}

static int t_stress(const void *arg)
{
	struct stress *s = calloc(1, sizeof(*s));
	pthread_t rd[2], ad, dr;
	struct worker ctl;
	struct row d;
	struct expect e;
	double end;
	unsigned int seed = 777;
	int live = 0, i, st;
	pid_t *all;
	long nall = 0, cap = 4096;
	struct table t;

	(void)arg;
	CHECK(s, "calloc");
	all = malloc(cap * sizeof(*all));
	CHECK(all, "malloc");
	pthread_mutex_init(&s->lock, NULL);
	if (worker_start(&ctl, 2))
		return -1;
	CHECK_ERR(tr_add(ctl.pid), 0, "add control");
	for (i = 0; i < 2; i++)
		CHECK(!pthread_create(&rd[i], NULL, stress_reader, s),
		      "pthread_create");
	CHECK(!pthread_create(&ad, NULL, stress_adder, s), "pthread_create");
	s->exfd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	CHECK(s->exfd >= 0, "open %s: %s", DEV_PATH, strerror(errno));
	CHECK(!pthread_create(&dr, NULL, stress_drain, s), "pthread_create");
	end = now() + g_stress_secs;
	while (!s->stop && now() < end) {
		pid_t pid;

		while (live >= 12 || (live && rand_r(&seed) % 4 == 0)) {
			pid = waitpid(-1, &st, 0);
			if (pid > 0)
				live--;
			else
				break;
		}
		while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
			live--;
		fflush(stdout);
		pid = fork();
		if (pid < 0) {
			stress_err(s, "fork: %s", strerror(errno));
			break;
		}
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			stress_child(seed ^ (unsigned int)getpid());
		}
		live++;
		s->spawned++;
		if (nall == cap) {
			pid_t *na = realloc(all, 2 * cap * sizeof(*all));

			if (!na)
				break;
			all = na;
			cap *= 2;
		}
		all[nall++] = pid;
		s->pids[s->head % RING] = pid;
		__atomic_add_fetch(&s->head, 1, __ATOMIC_RELEASE);
		if (rand_r(&seed) % 2) {
			int err = rand_r(&seed) % 2 ?
				  ex_add(s->exfd, pid, TRACER_ADD_FLAGS) :
				  tr_add(pid);

			if (err && err != EEXIST && err != ESRCH) {
				stress_err(s, "add of child %d: %s", pid,
					   errname(err));
				break;
			}
		}
		/* The control process keeps working in the middle of it. */
		if (s->spawned % 16 == 0)
			slot_op(ctl.sl[1], TTH_OP_KMALLOC_VAR, 10, 10, 0);
	}
	s->stop = 1;
	for (i = 0; i < 2; i++)
		pthread_join(rd[i], NULL);
	pthread_join(ad, NULL);
	pthread_join(dr, NULL);
	for (i = 0; i < nall; i++)
		while (waitpid(all[i], &st, 0) < 0 && errno == EINTR)
			;
	diag("stress: %ld processes, %ld table reads, %ld adds, %ld removes, %ld exit records, %ld reopens in %d s",
	     s->spawned, s->reads, s->adds, s->removes, s->records, s->reopens,
	     g_stress_secs);
	CHECK(!s->err[0], "%s", s->err);
	CHECK(s->spawned >= 20 && s->reads >= 10, "stress did too little");
	/* The control worker was reaped above only if it died. */
	CHECK(task_state(ctl.pid, ctl.pid) != 0, "control worker died");
	if (table_read(&t))
		return -1;
	/* Every stress process, child or grandchild, has exited. */
	for (i = 0; i < t.n; i++)
		CHECK(t.rows[i].v[C_PID] == ctl.pid,
		      "row left for PID %lld after the stress", t.rows[i].v[C_PID]);
	free(t.rows);
	close(s->exfd);
	if (pin(ctl.pid, 0) ||
	    slot_op(ctl.sl[0], TTH_OP_KMALLOC_VAR, 1000, 128, 0) ||
	    measure(ctl.pid, ctl.sl[0], TTH_OP_KMALLOC_VAR, 1000, 128, 0, &d))
		return -1;
	expect_alloc(&e, 1000, 128);
	if (check_delta("control process after stress", &d, &e))
		return -1;
	if (measure(ctl.pid, ctl.sl[1], TTH_OP_MUTEX, 500, 0, 0, &d))
		return -1;
	expect_zero(&e);
	e.v[C_LOCK] = e.v[C_UNLOCK] = 500;
	if (check_delta("control process after stress", &d, &e))
		return -1;
	worker_kill(&ctl);
	free(all);
	return 0;
}

/* Run last: every process the suite monitored has exited. */
static int t_table_empty(const void *arg)
{
	struct table t;
	char buf[256];
	int i;

	(void)arg;
	if (table_read(&t))
		return -1;
	for (i = 0; i < t.n; i++)
		failf("row left: PID %lld %s", t.rows[i].v[C_PID],
		      row_str(&t.rows[i], buf, sizeof(buf)));
	i = t.n;
	free(t.rows);
	return i ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* Runner                                                             */

struct test {
	const char *name;
	int (*fn)(const void *arg);
	const void *arg;
	int timeout;
};

static struct test tests[128];
static int ntests;

static void add_test(const char *name, int (*fn)(const void *),
		     const void *arg, int timeout)
{
	if (ntests < (int)ARRAY_SIZE(tests))
		tests[ntests++] = (struct test){ name, fn, arg, timeout };
}

static void build_tests(void)
{
	size_t i;

	add_test("proc_format", t_proc_format, NULL, 30);
	add_test("add_remove", t_add_remove, NULL, 30);
	add_test("err_esrch_nonexistent", t_err_esrch, NULL, 30);
	add_test("err_eexist_twice", t_err_eexist, NULL, 30);
	add_test("err_enoent_not_monitored", t_err_enoent, NULL, 30);
	add_test("err_einval_pid", t_err_einval, NULL, 30);
	add_test("err_enotty_request", t_err_enotty, NULL, 30);
	add_test("thread_id_is_process", t_thread_id, NULL, 30);
	add_test("add_remove_self", t_add_self, NULL, 30);
	for (i = 0; i < ARRAY_SIZE(opcases); i++)
		add_test(opcases[i].name, t_op, &opcases[i], 60);
	add_test("kfree_mem_same_process", t_keep_same, NULL, 60);
	add_test("kfree_mem_other_process", t_keep_other, NULL, 60);
	add_test("kmalloc_zero_kept_freed_by_other", t_keep_zero, NULL, 60);
	add_test("kfree_mem_unmonitored_alloc", t_keep_unmonitored, NULL, 60);
	add_test("kfree_mem_alloc_before_add", t_keep_before_add, NULL, 60);
	add_test("kfree_mem_stale_after_unmonitored_free",
		 t_stale_unmonitored_free, NULL, 60);
	add_test("kfree_mem_stale_after_softirq_free", t_stale_softirq_free,
		 NULL, 60);
	add_test("exit_removes_row_zombie", t_exit_zombie, NULL, 30);
	add_test("exit_threads_leader_first", t_exit_threads, NULL, 30);
	add_test("remove_stops_counting", t_remove_stops, NULL, 30);
	add_test("threads_sum_into_process", t_threads_sum, NULL, 60);
	add_test("several_processes", t_multi_process, NULL, 60);
	add_test("untraced_process", t_untraced, NULL, 60);
	add_test("forked_child_not_monitored", t_fork_child, NULL, 30);
	add_test("pid_reuse", t_pid_reuse, NULL, 60);
	add_test("proc_read_bytewise_seek", t_proc_read, NULL, 60);
	add_test("eperm_non_root", t_eperm, NULL, 30);
	add_test("add_enomem_fail_alloc", t_add_enomem, NULL, 30);
	add_test("ex_errors", t_ex_errors, NULL, 30);
	add_test("ex_follow_forks", t_ex_follow, NULL, 30);
	add_test("ex_report_exit", t_ex_report, NULL, 30);
	add_test("stress", t_stress, NULL, -1);
	add_test("table_empty_at_end", t_table_empty, NULL, 30);
}

static int run_one(const struct test *t)
{
	int timeout = t->timeout < 0 ? g_stress_secs + 120 : t->timeout;
	double end = now() + timeout;
	pid_t pid, r;
	int st = 0, code;

	memset(g_msg, 0, MSG_MAX);
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		snprintf(g_msg, MSG_MAX, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		setpgid(0, 0);
		prctl(PR_SET_CHILD_SUBREAPER, 1);
		code = t->fn(t->arg);
		if (code == 2)		/* skipped: not applicable */
			_exit(2);
		if (code && !g_msg[0])
			failf("failed");
		fflush(stdout);
		_exit(code ? 1 : 0);
	}
	setpgid(pid, pid);
	for (;;) {
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			break;
		if (now() > end) {
			kill(-pid, SIGKILL);
			waitpid(pid, &st, 0);
			failf("timed out after %d s", timeout);
			st = -1;
			break;
		}
		msleep(10);
	}
	/* Whatever the test left behind goes now, before the next test. */
	kill(-pid, SIGKILL);
	while (waitpid(-1, NULL, __WALL) > 0 || errno == EINTR)
		;
	if (st == -1)
		return -1;
	if (WIFSIGNALED(st)) {
		failf("test process killed by signal %d", WTERMSIG(st));
		return -1;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 2)
		return 2;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/*
 * -H: "hog" for run.sh: monitor itself (then close /dev/tracer, which would
 * pin the module), and make helper requests in nthreads threads until
 * killed.
 */
static void *hog_loop(void *p)
{
	static const uint32_t ops[] = {
		TTH_OP_KMALLOC_VAR, TTH_OP_MUTEX, TTH_OP_SEMA, TTH_OP_SCHEDULE,
		TTH_OP_KMALLOC_LARGE_VAR, TTH_OP_SOFTIRQ, TTH_OP_KFREE_NULL,
	};
	struct tth_req r;
	unsigned int i;

	(void)p;
	for (i = 0;; i++) {
		memset(&r, 0, sizeof(r));
		r.op = ops[i % ARRAY_SIZE(ops)];
		r.n = 20;
		r.size = r.op == TTH_OP_KMALLOC_LARGE_VAR ? 9000 : 100;
		if (ioctl(g_hfd, TTH_IOC_RUN, &r) && errno != EINTR) {
			fprintf(stderr, "hog: helper: %s\n", strerror(errno));
			exit(1);
		}
	}
	return NULL;
}

static int hog(int nthreads)
{
	pthread_t t;
	int fd, i;

	g_hfd = open(HELPER_PATH, O_RDWR | O_CLOEXEC);
	fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	if (g_hfd < 0 || fd < 0) {
		fprintf(stderr, "hog: cannot open %s or %s: %s\n", HELPER_PATH,
			DEV_PATH, strerror(errno));
		return 1;
	}
	if (ioctl(fd, TRACER_ADD_PROCESS, (unsigned long)getpid())) {
		fprintf(stderr, "hog: add: %s\n", strerror(errno));
		return 1;
	}
	close(fd);
	for (i = 1; i < nthreads; i++)
		if (pthread_create(&t, NULL, hog_loop, NULL))
			return 1;
	printf("hog ready\n");
	fflush(stdout);
	hog_loop(NULL);
	return 0;
}

static int selected(const char *name, int argc, char **argv, int first)
{
	int i;

	if (first >= argc)
		return 1;
	for (i = first; i < argc; i++)
		if (strstr(name, argv[i]))
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	int start = 1, list = 0, opt, i, num, pass = 0, fail = 0, hogs = 0;
	long missed, m;
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "s:t:lH:")) != -1) {
		switch (opt) {
		case 'H':
			hogs = atoi(optarg);
			break;
		case 's':
			start = atoi(optarg);
			break;
		case 't':
			g_stress_secs = atoi(optarg);
			break;
		case 'l':
			list = 1;
			break;
		default:
			fprintf(stderr,
				"usage: %s [-s first] [-t stress_secs] [-l] [name...]\n"
				"       %s -H nthreads\n",
				argv[0], argv[0]);
			return 2;
		}
	}
	if (hogs > 0)
		return hog(hogs);
	build_tests();
	if (list) {
		for (i = 0; i < ntests; i++)
			if (selected(tests[i].name, argc, argv, optind))
				printf("%s\n", tests[i].name);
		return 0;
	}
	g_msg = mmap(NULL, MSG_MAX, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (g_msg == MAP_FAILED)
		return 2;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	g_tfd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	if (g_tfd < 0)
		diag("cannot open %s: %s", DEV_PATH, strerror(errno));
	g_hfd = open(HELPER_PATH, O_RDWR);
	if (g_hfd < 0)
		diag("cannot open %s: %s", HELPER_PATH, strerror(errno));
	num = start;
	for (i = 0; i < ntests; i++) {
		const struct test *t = &tests[i];
		double t0;

		if (!selected(t->name, argc, argv, optind))
			continue;
		t0 = now();
		missed = read_long(MISSED_PATH);
		r = run_one(t);
		if (r == 0 || r == 2) {
			printf("ok %d - %s%s\n", num, t->name,
			       r == 2 ? " # SKIP not applicable here" : "");
			pass++;
		} else {
			printf("not ok %d - %s # %s\n", num, t->name, g_msg);
			fail++;
		}
		m = read_long(MISSED_PATH);
		if (m != missed)
			diag("%s: tracer missed events %ld -> %ld", t->name,
			     missed, m);
		if (now() - t0 > 10)
			diag("%s took %.1f s", t->name, now() - t0);
		num++;
	}
	printf("# tracer_test: %d passed, %d failed\n", pass, fail);
	return fail ? 1 : 0;
}
