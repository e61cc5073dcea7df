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
 * Beyond the exact counts: an ioctl fuzzer with an errno oracle, read(2) of
 * /dev/tracer and /proc/tracer with odd sizes and offsets, PID namespaces,
 * permissions (modes, owner rule, CAP_SYS_ADMIN, user namespaces), injected
 * allocation failures (fail_alloc) and an exact leak count of the entry
 * cache, add/remove racing with exit, a fork storm of followed processes
 * whose exit records must all come back with exact counts, kfree_rcu() and
 * stale allocation records; run.sh adds the tiny-map tests (named
 * explicitly: map_pressure, map_pressure_concurrent,
 * fail_alloc_follow_missed) and repeated unload/reload under load.
 *
 * Usage: tracer_test [-s first_number] [-t stress_seconds] [-l] [-q] [name...]
 *        tracer_test [-n] -H nthreads [-f]	(monitor itself, work until
 *					 killed; -f: fork children too)
 *        tracer_test -a PID...		(add with TRACER_FOLLOW_FORKS)
 *        tracer_test [-n] -R seconds	(parse /proc/tracer in a loop)
 * -q leaves out the tests that do not depend on the event source; -n runs
 * at the lowest priority.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
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
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/utsname.h>
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
static int g_stress_secs = 10;	/* -t: the fork storm's; others scale */

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

enum { CMD_NONE, CMD_RUN, CMD_TRACER, CMD_EXIT, CMD_THREAD_EXIT, CMD_FORK,
	CMD_OPEN, CMD_READ, CMD_READPROC, CMD_STORM };

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
				 * CMD_READ: length; CMD_STORM: parameters
				 */
	unsigned long req_nr;	/* CMD_TRACER: request */
	unsigned long hreq;	/* CMD_RUN: helper request (0: TTH_IOC_RUN) */
	int fd;			/* CMD_TRACER, CMD_READ: file (0: g_tfd) */
	struct tracer_add add;	/* CMD_TRACER: TRACER_ADD_PROCESS_EX's */
	struct tth_req req;
	char pad[64];
};

#define POOL_SLOTS	256
#define MAXT		8

static struct wslot *g_pool;
static int g_pool_next;

/* Shared with every process of a test: CMD_READ and CMD_READPROC output. */
#define SHBUF_SIZE	(1 << 20)
static char *g_shbuf;

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
struct storm_params;
static int storm_run(struct storm_params *sp);

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
	case CMD_STORM:
		sl->ret = storm_run((struct storm_params *)sl->arg);
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

static void *slot_thread_idle(void *p)
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

/* A worker whose threads use the given (already allocated) slots. */
static int worker_start_slots(struct worker *w, struct wslot **sl,
			      int nthreads)
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

static int worker_start(struct worker *w, int nthreads)
{
	struct wslot *sl[MAXT];
	int i;

	if (nthreads < 1 || nthreads > MAXT)
		return -1;
	for (i = 0; i < nthreads; i++) {
		sl[i] = slot_alloc();
		CHECK(sl[i], "out of worker slots");
	}
	return worker_start_slots(w, sl, nthreads);
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
static int slot_asleep_tid(struct wslot *sl, pid_t pid, pid_t tid)
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

static int slot_asleep(struct wslot *sl, pid_t pid)
{
	return slot_asleep_tid(sl, pid, sl->tid);
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

/*
 * Start a one-thread worker with PID @want (ns_last_pid; a few tries: other
 * tasks may take PIDs meanwhile).  0 with the worker running, else -1.
 */
static int worker_start_pid(struct worker *w, pid_t want)
{
	char buf[32];
	int try;

	for (try = 0; try < 5; try++) {
		snprintf(buf, sizeof(buf), "%d", want - 1);
		CHECK(!write_str("/proc/sys/kernel/ns_last_pid", buf),
		      "cannot write ns_last_pid: %s", strerror(errno));
		if (worker_start(w, 1))
			return -1;
		if (w->pid == want)
			return 0;
		diag("got PID %d instead of %d, retrying", w->pid, want);
		worker_kill(w);
	}
	failf("could not get PID %d", want);
	return -1;
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
	struct row a, b, d;
	struct expect e;

	if (worker_start(m, 1) || worker_start_pid(u, m->pid + 32768))
		return -1;
	CHECK_ERR(tr_add(m->pid), 0, "add M");
	/* U works in M's filter slot: M's row does not move, U has none. */
	if (row_need(m->pid, &a) ||
	    slot_op(u->sl[0], TTH_OP_KMALLOC_VAR, 1000, 100, 0) ||
	    slot_op(u->sl[0], TTH_OP_MUTEX, 1000, 0, 0) ||
	    slot_op(u->sl[0], TTH_OP_SEMA, 1000, 0, 0) ||
	    row_absent(u->pid) || row_need(m->pid, &b))
		return -1;
	row_sub(&d, &b, &a);
	expect_zero(&e);
	if (check_delta("monitored M while unmonitored U (same filter slot) works",
			&d, &e))
		return -1;
	/* Both monitored, then U removed: M still counts, exactly. */
	CHECK_ERR(tr_add(u->pid), 0, "add U");
	if (measure(u->pid, u->sl[0], TTH_OP_KMALLOC_VAR, 300, 40, 0, &d))
		return -1;
	expect_alloc(&e, 300, 40);
	if (check_delta("U monitored in M's filter slot", &d, &e))
		return -1;
	CHECK_ERR(tr_remove(u->pid), 0, "remove U");
	if (measure(m->pid, m->sl[0], TTH_OP_KMALLOC_VAR, 500, 72, 0, &d))
		return -1;
	expect_alloc(&e, 500, 72);
	return check_delta("M after U, in its filter slot, was removed", &d, &e);
}

static int t_filter_collision(const void *arg)
{
	long pid_max = read_long("/proc/sys/kernel/pid_max");
	struct worker m = { 0 }, u = { 0 };
	char buf[32];
	int ret;

	(void)arg;
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
	int reader_pause_ms;	/* stress_reader: between two reads */
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
		if (s->reader_pause_ms)
			msleep(s->reader_pause_ms);
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
	int live = 0, i, st, secs;
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
	/* The fork storm churns processes too: this one is shorter. */
	secs = (2 * g_stress_secs + 2) / 3;
	end = now() + secs;
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
	     secs);
	CHECK(!s->err[0], "%s", s->err);
	/* Proof that it ran at all; how much depends on the machine (TCG, shared cores). */
	CHECK(s->spawned >= 5 && s->reads >= 5, "stress did too little");
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

/* ------------------------------------------------------------------ */
/* Hardening: shared helpers                                          */

#define PARAM_DIR	"/sys/module/tracer/parameters/"
#define REC_SIZE	sizeof(struct tracer_record)

static uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

/* read(2) with any pointer, bad ones included. */
static ssize_t sys_read(int fd, void *buf, size_t len)
{
	return syscall(SYS_read, fd, buf, len);
}

static long param_long(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	return read_long(path);
}

struct mapstat {
	long records, capacity, overflow;
};

static int map_get(struct mapstat *m)
{
	char buf[128];
	int fd = open(PARAM_DIR "map", O_RDONLY | O_CLOEXEC);
	ssize_t r;

	CHECK(fd >= 0, "open %smap: %s", PARAM_DIR, strerror(errno));
	r = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	CHECK(r > 0, "read %smap", PARAM_DIR);
	buf[r] = 0;
	CHECK(sscanf(buf, "records=%ld capacity=%ld overflow=%ld", &m->records,
		     &m->capacity, &m->overflow) == 3,
	      "%smap: '%s'", PARAM_DIR, buf);
	return 0;
}

/* The kernel log from now on: /dev/kmsg, positioned at its end. */
static int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/* Fails if the kernel logged a warning since kmsg_open(); closes fd. */
static int kmsg_check(int fd, const char *what)
{
	static const char *const bad[] = {
		"BUG", "WARNING", "Oops", "list_add corruption",
		"list_del corruption", "refcount_t", "general protection",
		"nable to handle", "Call Trace", "UBSAN", "KASAN",
	};
	char rec[2048];
	ssize_t r;
	size_t i;
	int found = 0;

	if (fd < 0)
		return 0;
	for (;;) {
		r = read(fd, rec, sizeof(rec) - 1);
		if (r < 0 && errno == EPIPE)	/* overwritten: go on */
			continue;
		if (r <= 0)
			break;
		rec[r] = 0;
		for (i = 0; i < ARRAY_SIZE(bad) && !found; i++)
			if (strstr(rec, bad[i])) {
				failf("%s: kernel log: %.300s", what, rec);
				found = 1;
			}
	}
	close(fd);
	return found ? -1 : 0;
}

/* The table must have no row at all. */
static int table_none(const char *what)
{
	struct table t;
	char buf[256];
	int i, n;

	if (table_read(&t))
		return -1;
	for (i = 0; i < t.n && i < 5; i++)
		failf("%s: row left: PID %lld %s", what, t.rows[i].v[C_PID],
		      row_str(&t.rows[i], buf, sizeof(buf)));
	n = t.n;
	free(t.rows);
	return n ? -1 : 0;
}

/* A zombie child (exited, not reaped). */
static pid_t make_zombie(void)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(0);
	if (pid > 0 && wait_zombie(pid))
		return -1;
	return pid;
}

/* ------------------------------------------------------------------ */
/* Tests: kfree_rcu()                                                 */

/* n kmalloc(sz) + kfree_rcu() by the worker (TTH_IOC_KFREE_RCU). */
static int kfree_rcu_op(struct worker *w, uint64_t n, uint64_t sz)
{
	int r;

	w->sl[0]->hreq = TTH_IOC_KFREE_RCU;
	r = slot_op(w->sl[0], TTH_OP_NOP, n, sz, 0);
	w->sl[0]->hreq = 0;
	return r;
}

#define RCU_N	64
#define RCU_SZ	96

/*
 * Blocks a monitored process frees with kfree_rcu(): the kernel frees them
 * later (attributed to nobody), and their records must go with them, or a
 * block an unmonitored process gets at the same address would be charged
 * their size when a monitored process frees it.
 */
/* Is the running kernel @maj.@min or newer? */
static int kernel_at_least(int maj, int min)
{
	struct utsname u;
	int a = 0, b = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &a, &b) != 2)
		return 0;
	return a > maj || (a == maj && b >= min);
}

static int t_stale_kfree_rcu(const void *arg)
{
	struct worker w[3], p, u, q;
	struct mapstat m0, m1, m;
	struct row a, b, d;
	struct expect e;
	double end;
	int ret = 0;

	(void)arg;
	if (keep_workers(w, 3))
		return -1;
	p = w[0];
	u = w[1];
	q = w[2];
	/* Warm-up, not monitored. */
	if (kfree_rcu_op(&p, RCU_N, RCU_SZ) || keep(&u, RCU_N, RCU_SZ) ||
	    release(&q, RCU_N, 0))
		return -1;
	CHECK_ERR(tr_add(p.pid), 0, "add P");
	CHECK_ERR(tr_add(q.pid), 0, "add Q");
	if (map_get(&m0) || row_need(p.pid, &a) ||
	    kfree_rcu_op(&p, RCU_N, RCU_SZ) || row_need(p.pid, &b) ||
	    map_get(&m1))
		return -1;
	row_sub(&d, &b, &a);
	expect_zero(&e);
	e.v[C_KMALLOC] = RCU_N;
	e.v[C_KMALLOC_MEM] = RCU_N * RCU_SZ;
	if (check_delta("P: kmalloc + kfree_rcu", &d, &e))
		return -1;
	CHECK(m1.records == m0.records + RCU_N, "map records %ld -> %ld, expected +%d",
	      m0.records, m1.records, RCU_N);
	/* The kernel frees them: now with kvfree_rcu_barrier() (6.12+),
	 * within seconds otherwise (drop_caches makes the kfree_rcu shrinker
	 * hurry).
	 */
	CHECK(!ioctl(g_hfd, TTH_IOC_KFREE_RCU_BARRIER, &(struct tth_req){ 0 }),
	      "helper kfree_rcu barrier: %s", strerror(errno));
	end = now() + 6;
	do {
		write_str("/proc/sys/vm/drop_caches", "2");
		msleep(200);
		if (map_get(&m))
			return -1;
	} while (m.records > m0.records && now() < end);
	if (m.records != m0.records && kernel_at_least(6, 18)) {
		/*
		 * Since 6.18 kfree_rcu() returns kmalloc blocks to the slab
		 * through sheaves, past both kfree() and kfree_bulk(): their
		 * records stay until the address is allocated again, which
		 * voids them (the attribution check below proves it).
		 */
		diag("%ld records of P's kfree_rcu() blocks stay in the map until reuse (slab sheaves)",
		     m.records - m0.records);
	} else if (m.records != m0.records) {
		failf("%ld records of P's kfree_rcu() blocks still in the map %.0f s after, kvfree_rcu_barrier() (6.12+) included (records %ld -> %ld -> %ld)",
		      m.records - m0.records, now() - end + 6, m0.records,
		      m1.records, m.records);
		ret = -1;
	}
	/* Unmonitored U gets blocks of that size (those addresses, likely);
	 * monitored Q frees them: 0 bytes, they were never recorded.
	 */
	if (keep(&u, RCU_N, RCU_SZ))
		return -1;
	if (release_measured(&q, RCU_N, RCU_N, 0,
			     "Q frees U's blocks, at addresses P's kfree_rcu() blocks had"))
		ret = -1;
	worker_kill(&p);
	worker_kill(&u);
	worker_kill(&q);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Tests: ioctl fuzzer                                                */

/*
 * Random requests (real ones, near misses of nr 42/43/44 with other types,
 * sizes and directions, random numbers, real ones with garbage in the upper
 * half of the register) with random arguments (PIDs of every kind, NULL,
 * bad, read-only, straddling and kernel pointers, huge values) from two
 * threads, and random read(2)s.  Every result is checked against an
 * oracle: exactly the errno the request must give where the answer is
 * known (every PID the fuzzer controls), one of the documented errnos
 * otherwise.  Rows the fuzzer added are removed at the end; the table must
 * then be empty and the module must count exactly.
 */

#define FZ_THREADS	2
#define FZ_WORKERS	2	/* per thread, 2 threads each */
#define FZ_UNCTL_MAX	4096
#define FZ_NERR		160

enum { V_BAD, V_CTL, V_ZOMBIE, V_DEAD, V_BIG, V_UNCTL, V_FOREIGN };

struct fz_target {
	pid_t tgid;
	pid_t ids[MAXT + 1];
	int nids;
	int monitored;
};

struct fz_shared {
	pid_t ctl[64];		/* every PID/TID some thread controls */
	int nctl;
	pid_t zombie, dead[2];
	long pid_max;
	struct fz_target *self;	/* thread 0's: the test process */
	char *ro;		/* a read-only page of struct tracer_add */
	char *unmapped;
	pthread_mutex_t lock;
	pthread_barrier_t start;
	pid_t unctl[FZ_UNCTL_MAX];	/* uncontrolled PIDs added */
	int nunctl;
	volatile int stop;
	char err[768];
};

struct fz_thread {
	struct fz_shared *sh;
	pthread_t th;
	int fd;
	uint64_t seed;
	char *rw;		/* a read-write page, PROT_NONE after it */
	char *none;
	struct fz_target t[FZ_WORKERS + 1];
	int nt;
	long calls, hist[FZ_NERR], reads, records;
};

static void fz_fail(struct fz_thread *ft, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void fz_fail(struct fz_thread *ft, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&ft->sh->lock);
	if (!ft->sh->err[0]) {
		va_start(ap, fmt);
		vsnprintf(ft->sh->err, sizeof(ft->sh->err), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&ft->sh->lock);
	ft->sh->stop = 1;
}

/* What a PID value (the low 32 bits of v) is to thread ft. */
static int fz_classify(struct fz_thread *ft, unsigned long v,
		       struct fz_target **tp)
{
	struct fz_shared *sh = ft->sh;
	pid_t p = (pid_t)(unsigned int)v;
	int i, j;

	*tp = NULL;
	if (p <= 0)
		return V_BAD;
	for (i = 0; i < ft->nt; i++)
		for (j = 0; j < ft->t[i].nids; j++)
			if (ft->t[i].ids[j] == p) {
				*tp = &ft->t[i];
				return V_CTL;
			}
	for (i = 0; i < sh->nctl; i++)
		if (sh->ctl[i] == p)
			return V_FOREIGN;
	if (p == sh->zombie)
		return V_ZOMBIE;
	if (p == sh->dead[0] || p == sh->dead[1])
		return V_DEAD;
	if (p >= sh->pid_max)
		return V_BIG;
	return V_UNCTL;
}

/* A PID argument: every kind, weighted towards the interesting ones. */
static unsigned long fz_pid_value(struct fz_thread *ft)
{
	struct fz_shared *sh = ft->sh;
	uint64_t r = rnd(&ft->seed) % 100, x = rnd(&ft->seed);
	struct fz_target *t = &ft->t[x % ft->nt];

	if (r < 30)
		return (unsigned int)t->ids[(x >> 8) % t->nids];
	if (r < 35)
		return sh->zombie;
	if (r < 40)
		return sh->dead[x % 2];
	if (r < 45)
		return x & 0xffffffff00000000ULL;	/* 0 in the low half */
	if (r < 50)
		return (unsigned int)-(int)(1 + x % 1000);
	if (r < 53)
		return x % 2 ? 0x80000000UL : (unsigned long)(long)INT_MIN;
	if (r < 56)
		return INT_MAX;
	if (r < 59)
		return sh->pid_max + x % 2;
	if (r < 65)	/* a controlled PID, garbage in the upper half */
		return (x << 32) | (unsigned int)t->ids[(x >> 40) % t->nids];
	if (r < 70)	/* kernel addresses */
		return x % 2 ? 0xffffffff81000000UL + (x >> 40) :
		       0xffff888000000000UL + (x >> 34);
	if (r < 75)
		return 1 + x % 400;
	return x;
}

/* Expected result of an add of class k; ret 0 means "see *any". */
static int fz_expect_add(int k, struct fz_target *t, int *any)
{
	*any = 0;
	switch (k) {
	case V_BAD:
		return EINVAL;
	case V_CTL:
		return t->monitored ? EEXIST : 0;
	case V_ZOMBIE:
	case V_DEAD:
	case V_BIG:
		return ESRCH;
	default:
		*any = 1;
		return 0;
	}
}

static int fz_expect_remove(int k, struct fz_target *t, int *any)
{
	*any = 0;
	switch (k) {
	case V_BAD:
		return EINVAL;
	case V_CTL:
		return t->monitored ? 0 : ENOENT;
	case V_ZOMBIE:
		return ENOENT;
	case V_DEAD:
	case V_BIG:
		return ESRCH;
	default:
		*any = 1;
		return 0;
	}
}

static void fz_note_unctl(struct fz_thread *ft, unsigned long v)
{
	struct fz_shared *sh = ft->sh;

	pthread_mutex_lock(&sh->lock);
	if (sh->nunctl < FZ_UNCTL_MAX)
		sh->unctl[sh->nunctl++] = (pid_t)(unsigned int)v;
	pthread_mutex_unlock(&sh->lock);
}

/* Excluded from random requests: what the VFS handles itself. */
static int fz_vfs_cmd(unsigned int cmd)
{
	unsigned int type = _IOC_TYPE(cmd);

	return type == 'X' || type == 'f' || type == 0x94 || type == 0x15 ||
	       cmd == 1 || cmd == 2 || cmd == 0x5451 || cmd == 0x5450 ||
	       cmd == 0x5421 || cmd == 0x5452 || cmd == 0x5460 ||
	       cmd == 0x541B;
}

static const char *fz_kind_name(int k)
{
	static const char *const n[] = { "bad", "controlled", "zombie", "dead",
		"too big", "uncontrolled", "foreign" };

	return n[k];
}

/* One random read(2) of the thread's file. */
static void fz_read(struct fz_thread *ft)
{
	static const size_t lens[] = { 0, 1, REC_SIZE / 2, REC_SIZE - 1,
		REC_SIZE, REC_SIZE + 1, 2 * REC_SIZE - 1, 4096, 1UL << 40 };
	uint64_t x = rnd(&ft->seed);
	size_t len = lens[x % ARRAY_SIZE(lens)];
	char *buf;
	int user = 1;
	ssize_t r;
	long pg = sysconf(_SC_PAGESIZE);

	switch ((x >> 8) % 5) {
	case 0:
		buf = ft->rw;
		if (len > (size_t)pg)
			len = pg;
		break;
	case 1:
		buf = NULL;
		break;
	case 2:
		buf = ft->none;
		break;
	case 3:
		buf = ft->rw + pg - REC_SIZE / 2;	/* into PROT_NONE */
		break;
	default:
		buf = (char *)(0xffffffff81000000UL + (x >> 40));
		user = 0;
		break;
	}
	r = sys_read(ft->fd, buf, len);
	ft->reads++;
	ft->calls++;
	ft->hist[r < 0 && errno < FZ_NERR ? errno : 0]++;
	if (!user) {
		if (!(r < 0 && errno == EFAULT) && !(len == 0 && r < 0 && errno == EINVAL))
			fz_fail(ft, "read(%p, %zu) of a kernel address: %zd (%s), expected EFAULT",
				(void *)buf, len, r, r < 0 ? strerror(errno) : "data");
		return;
	}
	if (len < REC_SIZE) {
		if (!(r < 0 && errno == EINVAL))
			fz_fail(ft, "read(%p, %zu): %zd (%s), expected EINVAL",
				(void *)buf, len, r, r < 0 ? strerror(errno) : "data");
		return;
	}
	if (r < 0 ? errno != EFAULT : r % REC_SIZE != 0)
		fz_fail(ft, "read(%p, %zu): %zd (%s), expected 0, whole records or EFAULT",
			(void *)buf, len, r, r < 0 ? strerror(errno) : "data");
	if (r > 0)
		ft->records += r / REC_SIZE;
}

/* The argument of TRACER_ADD_PROCESS_EX: *bad = 1 when it is no valid
 * pointer to a struct tracer_add.
 */
static unsigned long fz_ex_arg(struct fz_thread *ft, int *bad)
{
	struct fz_shared *sh = ft->sh;
	uint64_t r = rnd(&ft->seed) % 100, x = rnd(&ft->seed);
	long pg = sysconf(_SC_PAGESIZE);
	struct tracer_add a;
	struct fz_target *t;
	char *p;
	int k;

	*bad = 1;
	if (r < 45) {
		a.pid = (int)fz_pid_value(ft);
		k = fz_classify(ft, (unsigned int)a.pid, &t);
		switch ((x >> 8) % 10) {
		case 0: case 1: case 2:
			a.flags = 0;
			break;
		case 3: case 4: case 5: case 6:
			/* FOLLOW_FORKS only on the fuzzer's own processes:
			 * anything else may fork rows we do not know of.
			 */
			a.flags = (x >> 16) % 3 + 1;
			if (k != V_CTL)
				a.flags &= ~TRACER_FOLLOW_FORKS;
			break;
		default:
			a.flags = (uint32_t)(x >> 32) | 4U << (x >> 16) % 30;
			break;
		}
		p = ft->rw + (x >> 20) % (pg - sizeof(a));
		memcpy(p, &a, sizeof(a));
		*bad = 0;
		return (unsigned long)p;
	}
	if (r < 50) {	/* read-only page: pid/flags written at setup */
		*bad = 0;
		return (unsigned long)(sh->ro + (x % (pg / sizeof(a))) * sizeof(a));
	}
	if (r < 55)
		return (unsigned long)(ft->rw + pg - 1 - x % (sizeof(a) - 1));
	if (r < 60)
		return (unsigned long)(ft->none + x % pg);
	if (r < 65)
		return x % 4096;
	if (r < 75)
		return x % 2 ? 0xffffffff81000000UL + (x >> 40) :
		       0xffff888000000000UL + (x >> 34);
	if (r < 80)
		return 0x0000800000000000UL + (x >> 24);
	if (r < 85)
		return 0x8000000000000000UL | x;
	if (r < 90)
		return (unsigned long)-1L - x % 64;
	return (unsigned long)(sh->unmapped + x % (pg - sizeof(struct tracer_add)));
}

/* A near miss of a real request, or a random one; never a VFS one. */
static unsigned long fz_other_cmd(struct fz_thread *ft)
{
	uint64_t x;
	unsigned int cmd, nr, type, dir, size;

	do {
		x = rnd(&ft->seed);
		if (x % 4 == 0) {
			cmd = (unsigned int)(x >> 32);
		} else {
			static const unsigned int nrs[] = { 42, 43, 44, 42, 43,
				44, 41, 45, 0, 255 };

			nr = nrs[(x >> 2) % ARRAY_SIZE(nrs)];
			type = (x >> 8) % 3 == 0 ? (x >> 16) & 0xff : 1;
			dir = (x >> 24) & 3;
			size = (x >> 26) % 3 == 0 ? (x >> 32) & 0x3fff :
			       (unsigned int[]){ 0, 4, 8, 2, 16 }[(x >> 28) % 5];
			cmd = _IOC(dir, type, nr, size);
		}
	} while (fz_vfs_cmd(cmd) || cmd == TRACER_ADD_PROCESS ||
		 cmd == TRACER_REMOVE_PROCESS || cmd == TRACER_ADD_PROCESS_EX);
	/* Sometimes garbage in the upper half: the kernel drops it. */
	return (x >> 60) == 0 ? cmd | (x & 0xffffffff00000000ULL) : cmd;
}

static void *fz_main(void *arg)
{
	struct fz_thread *ft = arg;
	struct fz_shared *sh = ft->sh;

	/* Its TID is the test process's: thread 0 controls that. */
	pthread_mutex_lock(&sh->lock);
	sh->ctl[sh->nctl++] = gettid();
	sh->self->ids[sh->self->nids++] = gettid();
	pthread_mutex_unlock(&sh->lock);
	pthread_barrier_wait(&sh->start);
	while (!sh->stop) {
		uint64_t r = rnd(&ft->seed) % 100, x = rnd(&ft->seed);
		unsigned long req, v = 0;
		struct fz_target *t = NULL;
		int k = V_BAD, want = 0, any = 0, bad = 0, e;
		const char *what;

		if (r < 5) {
			fz_read(ft);
			continue;
		}
		if (r < 30) {
			req = TRACER_ADD_PROCESS;
			what = "add";
		} else if (r < 50) {
			req = TRACER_REMOVE_PROCESS;
			what = "remove";
		} else if (r < 65) {
			req = TRACER_ADD_PROCESS_EX;
			what = "add_ex";
		} else {
			req = fz_other_cmd(ft);
			what = "unknown";
		}
		/* Real requests with garbage above bit 31 are still them. */
		if (r < 65 && x % 8 == 0)
			req |= x & 0xffffffff00000000ULL;
		if ((unsigned int)req == TRACER_ADD_PROCESS_EX) {
			v = fz_ex_arg(ft, &bad);
			if (bad) {
				want = EFAULT;
			} else {
				struct tracer_add a;

				memcpy(&a, (void *)v, sizeof(a));
				k = fz_classify(ft, (unsigned int)a.pid, &t);
				if (k == V_FOREIGN)
					continue;
				if (a.flags & ~TRACER_ADD_FLAGS)
					want = EINVAL;
				else
					want = fz_expect_add(k, t, &any);
			}
		} else if ((unsigned int)req == TRACER_ADD_PROCESS ||
			   (unsigned int)req == TRACER_REMOVE_PROCESS) {
			v = fz_pid_value(ft);
			k = fz_classify(ft, v, &t);
			if (k == V_FOREIGN)
				continue;
			want = (unsigned int)req == TRACER_ADD_PROCESS ?
			       fz_expect_add(k, t, &any) :
			       fz_expect_remove(k, t, &any);
		} else {
			v = x % 3 == 0 ? 0 : x % 3 == 1 ? fz_pid_value(ft) :
			    (unsigned long)ft->rw;
			want = ENOTTY;
		}
		e = ioctl(ft->fd, req, v) ? errno : 0;
		ft->calls++;
		ft->hist[e < FZ_NERR ? e : 0]++;
		if (any) {
			int add = (unsigned int)req != TRACER_REMOVE_PROCESS;

			if (add ? e && e != ESRCH && e != EEXIST :
			    e && e != ESRCH && e != ENOENT)
				fz_fail(ft, "%s(0x%lx) (%s PID): %s", what, v,
					fz_kind_name(k), errname(e));
			if (add && !e)
				fz_note_unctl(ft, (unsigned int)req ==
					      TRACER_ADD_PROCESS ? v :
					      (unsigned int)((struct tracer_add *)v)->pid);
			continue;
		}
		if (e != want) {
			fz_fail(ft, "request 0x%lx (%s) arg 0x%lx (%s PID): expected %s, got %s",
				req, what, v, fz_kind_name(k), errname(want),
				errname(e));
			break;
		}
		if (!e && t)
			t->monitored = (unsigned int)req != TRACER_REMOVE_PROCESS;
	}
	return NULL;
}

static int t_fuzz(const void *arg)
{
	struct fz_shared *sh = calloc(1, sizeof(*sh));
	struct fz_thread ft[FZ_THREADS];
	struct worker w[FZ_THREADS * FZ_WORKERS], cw;
	long pg = sysconf(_SC_PAGESIZE), calls = 0, reads = 0, records = 0;
	long hist[FZ_NERR] = { 0 }, secs, i, j;
	struct row d;
	struct expect e;
	char *m, hbuf[512];
	size_t o = 0;
	int kfd, n;
	double t0;

	(void)arg;
	CHECK(sh, "calloc");
	if (table_none("before the fuzzer"))
		return -1;
	kfd = kmsg_open();
	pthread_mutex_init(&sh->lock, NULL);
	pthread_barrier_init(&sh->start, NULL, FZ_THREADS + 1);
	sh->pid_max = read_long("/proc/sys/kernel/pid_max");
	CHECK(sh->pid_max > 0, "cannot read pid_max");
	m = mmap(NULL, (1 + 2 * FZ_THREADS) * pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED, "mmap");
	sh->ro = m;
	/* A one-page hole between two PROT_NONE pages: nothing else fits
	 * there, it stays unmapped.
	 */
	sh->unmapped = mmap(NULL, 3 * pg, PROT_NONE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(sh->unmapped != MAP_FAILED, "mmap");
	sh->unmapped += pg;
	CHECK(!munmap(sh->unmapped, pg), "munmap");
	sh->zombie = make_zombie();
	sh->dead[0] = dead_pid();
	sh->dead[1] = dead_pid();
	CHECK(sh->zombie > 0 && sh->dead[0] > 0 && sh->dead[1] > 0, "fork");
	/* Thread i controls FZ_WORKERS workers (2 threads each); thread 0
	 * also the test process itself.
	 */
	sh->ctl[sh->nctl++] = getpid();
	for (i = 0; i < FZ_THREADS; i++) {
		memset(&ft[i], 0, sizeof(ft[i]));
		ft[i].sh = sh;
		ft[i].seed = 0x9e3779b97f4a7c15ULL * (i + 1) ^ (uint64_t)getpid();
		ft[i].rw = m + (1 + 2 * i) * pg;
		ft[i].none = ft[i].rw + pg;
		CHECK(!mprotect(ft[i].none, pg, PROT_NONE), "mprotect");
		ft[i].fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
		CHECK(ft[i].fd >= 0, "open %s: %s", DEV_PATH, strerror(errno));
		for (j = 0; j < FZ_WORKERS; j++) {
			struct worker *wk = &w[i * FZ_WORKERS + j];
			struct fz_target *t = &ft[i].t[ft[i].nt++];

			if (worker_start(wk, 2))
				return -1;
			t->tgid = wk->pid;
			t->ids[t->nids++] = wk->pid;
			t->ids[t->nids++] = wk->sl[1]->tid;
			sh->ctl[sh->nctl++] = wk->pid;
			sh->ctl[sh->nctl++] = wk->sl[1]->tid;
		}
		if (i == 0) {
			struct fz_target *t = &ft[0].t[ft[0].nt++];

			t->tgid = getpid();
			t->ids[t->nids++] = getpid();
			sh->self = t;
		}
	}
	/* The read-only page: struct tracer_add of every kind, no FOLLOW. */
	for (i = 0; i < (long)(pg / sizeof(struct tracer_add)); i++) {
		struct tracer_add a = { .pid = (int)fz_pid_value(&ft[0]) };

		if (i % 4 == 1)
			a.flags = TRACER_REPORT_EXIT;
		else if (i % 4 == 2)
			a.flags = 1U << (2 + i % 30);
		/* Never one of thread 1's PIDs: for it, a foreign one. */
		memcpy(sh->ro + i * sizeof(a), &a, sizeof(a));
	}
	CHECK(!mprotect(sh->ro, pg, PROT_READ), "mprotect");
	for (i = 0; i < FZ_THREADS; i++)
		CHECK(!pthread_create(&ft[i].th, NULL, fz_main, &ft[i]),
		      "pthread_create");
	secs = g_stress_secs / 2 > 2 ? g_stress_secs / 2 : 2;
	t0 = now();
	pthread_barrier_wait(&sh->start);
	while (!sh->stop && now() < t0 + secs)
		msleep(50);
	sh->stop = 1;
	for (i = 0; i < FZ_THREADS; i++) {
		pthread_join(ft[i].th, NULL);
		calls += ft[i].calls;
		reads += ft[i].reads;
		records += ft[i].records;
		for (j = 0; j < FZ_NERR; j++)
			hist[j] += ft[i].hist[j];
	}
	for (j = 0; j < FZ_NERR; j++)
		if (hist[j] && o < sizeof(hbuf))
			o += snprintf(hbuf + o, sizeof(hbuf) - o, " %s %ld",
				      errname(j), hist[j]);
	diag("fuzz: %ld calls in %.1f s (%ld reads, %ld records read), %d threads;%s",
	     calls, now() - t0, reads, records, FZ_THREADS, hbuf);
	diag("fuzz: %d uncontrolled PIDs added", sh->nunctl);
	CHECK(!sh->err[0], "%s", sh->err);
	CHECK(calls >= 1000, "only %ld calls", calls);
	/* Remove what it added: exactly the monitored controlled ones. */
	for (i = 0; i < FZ_THREADS; i++)
		for (j = 0; j < ft[i].nt; j++) {
			struct fz_target *t = &ft[i].t[j];

			CHECK_ERR(tr_remove(t->tgid), t->monitored ? 0 : ENOENT,
				  "cleanup remove of %s %d",
				  t->monitored ? "monitored" : "unmonitored",
				  t->tgid);
		}
	for (i = 0; i < sh->nunctl; i++) {
		n = tr_remove(sh->unctl[i]);
		CHECK(!n || n == ENOENT || n == ESRCH,
		      "cleanup remove of %d: %s", sh->unctl[i], errname(n));
	}
	for (i = 0; i < FZ_THREADS; i++)
		close(ft[i].fd);
	if (table_none("after the fuzzer removed what it added"))
		return -1;
	CHECK(param_long("monitored") == 0, "monitored = %ld after the fuzz",
	      param_long("monitored"));
	if (reap(sh->zombie) || kmsg_check(kfd, "fuzz"))
		return -1;
	/* The module still counts exactly. */
	if (worker_start(&cw, 1) || pin(cw.pid, 0) ||
	    slot_op(cw.sl[0], TTH_OP_KMALLOC_VAR, 100, 100, 0))
		return -1;
	CHECK_ERR(tr_add(cw.pid), 0, "add after the fuzz");
	if (measure(cw.pid, cw.sl[0], TTH_OP_KMALLOC_VAR, 100, 100, 0, &d))
		return -1;
	expect_alloc(&e, 100, 100);
	if (check_delta("after the fuzz", &d, &e))
		return -1;
	if (measure(cw.pid, cw.sl[0], TTH_OP_MUTEX, 100, 0, 0, &d))
		return -1;
	expect_zero(&e);
	e.v[C_LOCK] = e.v[C_UNLOCK] = 100;
	if (check_delta("after the fuzz", &d, &e))
		return -1;
	worker_kill(&cw);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Tests: read(2) of /dev/tracer, large /proc/tracer                  */

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

static int t_dev_read(const void *arg)
{
	static const size_t small[] = { 0, 1, REC_SIZE / 2, REC_SIZE - 1 };
	long pg = sysconf(_SC_PAGESIZE);
	char buf[8 * REC_SIZE], *m;
	pid_t pids[3];
	size_t i;
	int fd;

	(void)arg;
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

#define BIG_ROWS 150

/* Compare what fd gives from offset k with reads of sz bytes. */
static int read_chunks_equal(int fd, const char *big, size_t len, size_t sz,
			     const char *what)
{
	char *b = malloc(len + sz + 1);
	size_t got = 0;
	ssize_t r;

	CHECK(b, "malloc");
	CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek: %s", strerror(errno));
	while ((r = read(fd, b + got, sz)) > 0) {
		got += r;
		CHECK(got <= len, "%s: %zu-byte reads give more than %zu bytes",
		      what, sz, len);
	}
	CHECK(r == 0, "%s: %zu-byte read: %s", what, sz, strerror(errno));
	CHECK(got == len && !memcmp(b, big, len),
	      "%s: %zu-byte reads (%zu bytes) differ from one read (%zu bytes)",
	      what, sz, got, len);
	free(b);
	return 0;
}

/*
 * A table of several pages (seq_file grows its buffer, every read formats it
 * again): reads of every size, seeks around page boundaries, readv and pread
 * give exactly the bytes of one big read.
 */
static int t_proc_large(const void *arg)
{
	static const size_t sizes[] = { 1, 3, 100, 4095, 4096, 4097, 65536 };
	pid_t kids[BIG_ROWS];
	char *big = NULL, *again, *part, tmp[64];
	size_t len = 0, alen, plen, k, offs[16];
	struct table t;
	struct iovec iov[5];
	ssize_t r;
	int i, fd, n, stable = 0;

	(void)arg;
	for (i = 0; i < BIG_ROWS; i++) {
		fflush(stdout);
		kids[i] = fork();
		CHECK(kids[i] >= 0, "fork: %s", strerror(errno));
		if (kids[i] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
	}
	for (i = 0; i < BIG_ROWS; i++) {
		double end = now() + 30;

		while (task_state(kids[i], kids[i]) != 'S') {
			CHECK(now() < end, "child %d does not sleep", kids[i]);
			msleep(2);
		}
		CHECK_ERR(tr_add(kids[i]), 0, "add %d", kids[i]);
	}
	/* Sleeping in pause(): the table stops changing. */
	for (i = 0; i < 100 && !stable; i++) {
		msleep(50);
		again = read_proc(&alen);
		CHECK(again, "read: %s", strerror(errno));
		stable = big && alen == len && !memcmp(big, again, len);
		free(big);
		big = again;
		len = alen;
	}
	CHECK(stable, "the table keeps changing");
	CHECK(!parse_table(big, len, &t, tmp, sizeof(tmp)), "bad table: %s", tmp);
	n = t.n;
	free(t.rows);
	CHECK(n == BIG_ROWS, "%d rows, expected %d", n, BIG_ROWS);
	CHECK(len > 2 * 4096, "table of %zu bytes only", len);
	fd = open(PROC_PATH, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0, "open: %s", strerror(errno));
	for (k = 0; k < ARRAY_SIZE(sizes); k++)
		if (read_chunks_equal(fd, big, len, sizes[k], "large table"))
			return -1;
	/* readv with odd pieces. */
	part = malloc(len + 100000);
	CHECK(part, "malloc");
	CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek");
	iov[0] = (struct iovec){ part, 1 };
	iov[1] = (struct iovec){ part + 1, 4094 };
	iov[2] = (struct iovec){ part + 4095, 3 };
	iov[3] = (struct iovec){ part + 4098, 5000 };
	iov[4] = (struct iovec){ part + 9098, len + 90000 - 9098 };
	plen = 0;
	while ((r = readv(fd, iov, 5)) > 0) {
		plen += r;
		break;	/* one readv: seq_read may stop at a buffer end */
	}
	CHECK(r >= 0, "readv: %s", strerror(errno));
	CHECK(plen > 0 && !memcmp(part, big, plen), "readv differs from one read");
	free(part);
	/* Seek to offsets around page boundaries, read the rest. */
	n = 0;
	offs[n++] = 0;
	offs[n++] = 1;
	offs[n++] = 4095;
	offs[n++] = 4096;
	offs[n++] = 4097;
	offs[n++] = 8191;
	offs[n++] = 8192;
	offs[n++] = 8193;
	offs[n++] = len / 2;
	offs[n++] = len - 1;
	offs[n++] = len;
	offs[n++] = len + 1;
	offs[n++] = len + 10000;
	for (i = 0; i < n; i++) {
		size_t want = offs[i] < len ? len - offs[i] : 0;

		k = offs[i];
		CHECK(lseek(fd, k, SEEK_SET) == (off_t)k, "lseek %zu: %s", k,
		      strerror(errno));
		part = read_all_fd(fd, &plen);
		CHECK(part, "read after lseek %zu: %s", k, strerror(errno));
		CHECK(plen == want && !memcmp(part, big + k, plen),
		      "read after lseek to %zu gives %zu bytes, expected the last %zu",
		      k, plen, want);
		free(part);
		r = pread(fd, tmp, sizeof(tmp), k);
		want = want < sizeof(tmp) ? want : sizeof(tmp);
		CHECK(r == (ssize_t)want && !memcmp(tmp, big + k, want),
		      "pread(%zu at %zu) returned %zd bytes or other text",
		      sizeof(tmp), k, r);
	}
	/* SEEK_CUR, and a negative offset. */
	CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek");
	CHECK(read(fd, tmp, 10) == 10, "read 10");
	CHECK(lseek(fd, 4090, SEEK_CUR) == 4100, "lseek SEEK_CUR: %s",
	      strerror(errno));
	part = read_all_fd(fd, &plen);
	CHECK(part && plen == len - 4100 && !memcmp(part, big + 4100, plen),
	      "read after SEEK_CUR to 4100 differs");
	free(part);
	errno = 0;
	CHECK(lseek(fd, -1, SEEK_SET) < 0 && errno == EINVAL,
	      "lseek to -1: %s", strerror(errno));
	close(fd);
	for (i = 0; i < BIG_ROWS; i++)
		kill(kids[i], SIGKILL);
	for (i = 0; i < BIG_ROWS; i++)
		if (reap(kids[i]))
			return -1;
	free(big);
	return table_none("after the children were killed");
}

/* ------------------------------------------------------------------ */
/* Tests: PID reuse by a thread ID                                    */

/* A new process given the TID of a monitored process's exited thread is
 * not monitored, and the process keeps its row.
 */
static int t_pid_reuse_tid(const void *arg)
{
	struct worker w, n = { 0 };
	struct row r0, r1, r;
	char buf[32];
	pid_t old = 0;
	int i, try;

	(void)arg;
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
		    row_need(w.pid, &r0))
			return -1;
		snprintf(buf, sizeof(buf), "%d", old - 1);
		CHECK(!write_str("/proc/sys/kernel/ns_last_pid", buf),
		      "cannot write ns_last_pid: %s", strerror(errno));
		if (worker_start(&n, 1))
			return -1;
		if (n.pid == old)
			break;
		diag("pid_reuse_thread_id: got PID %d instead of %d, retrying",
		     n.pid, old);
		worker_kill(&n);
		worker_kill(&w);
	}
	CHECK(n.pid == old, "could not get PID %d again", old);
	if (row_absent(n.pid))
		return -1;
	if (slot_op(n.sl[0], TTH_OP_KMALLOC_VAR, 50, 10, 0) || row_absent(n.pid))
		return -1;
	if (worker_asleep(&n) || row_need(w.pid, &r1))
		return -1;
	for (i = 1; i < NCOL; i++)
		CHECK(r1.v[i] == r0.v[i],
		      "the process of the old thread: %s %lld -> %lld while the new process worked",
		      col_name[i], r0.v[i], r1.v[i]);
	CHECK_ERR(tr_add(n.pid), 0, "add of the new process");
	if (row_need(n.pid, &r))
		return -1;
	for (i = 1; i < NCOL; i++)
		CHECK(r.v[i] == 0, "new process with a reused TID: %s = %lld",
		      col_name[i], r.v[i]);
	CHECK_ERR(tr_remove(n.pid), 0, "remove of the new process");
	if (row_need(w.pid, NULL))
		return -1;
	worker_kill(&n);
	worker_kill(&w);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Tests: PID namespaces                                              */

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

static int ns_setup(struct nsctx *n)
{
	struct wslot *sl[3];
	struct nsinfo *info;
	double end = now() + 60;
	int i;

	memset(n, 0, sizeof(*n));
	for (i = 0; i < 3; i++) {
		sl[i] = slot_alloc();
		CHECK(sl[i], "out of slots");
	}
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
		diag("no PID namespaces here: %s", strerror(info->err));
		return 2;
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
static int ns_table(struct wslot *sl, struct table *t, const char *who)
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

/* The PIDs of t are exactly want[0..n). */
static int table_pids(struct table *t, const pid_t *want, int n,
		      const char *who)
{
	char buf[256];
	size_t o = 0;
	int i, ok = t->n == n;

	for (i = 0; i < n && ok; i++)
		ok = table_find(t, want[i]) != NULL;
	if (ok)
		return 0;
	for (i = 0; i < t->n && o < sizeof(buf); i++)
		o += snprintf(buf + o, sizeof(buf) - o, " %lld",
			      t->rows[i].v[C_PID]);
	failf("%s sees PIDs {%s }, expected %d of them", who, buf, n);
	for (i = 0; i < n; i++)
		failf("%d", want[i]);
	return -1;
}

/* In a child PID namespace, PID 1 is its init, and only its PIDs exist. */
static int t_pidns_add(const void *arg)
{
	struct nsctx n;
	struct worker h;
	int r;

	(void)arg;
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
static int t_pidns_view(const void *arg)
{
	struct nsctx n;
	struct worker h;
	struct table th, tb, ta, te;
	struct row *ra, *rb;
	pid_t host3[3], ns2[2], ns3[3] = { 1, 2, 3 };
	int i, r;

	(void)arg;
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
	ra = table_find(&th, n.a.pid);
	rb = table_find(&tb, 1);
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

/* The host PID of the process whose PID in its own namespace is nspid and
 * whose parent is ppid (host PID): from NSpid in /proc/PID/status.
 */
static pid_t host_pid_of(pid_t ppid, pid_t nspid)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	pid_t found = 0;

	if (!d)
		return 0;
	while (!found && (de = readdir(d))) {
		char path[300], buf[2048], *p, *q;
		int fd;
		ssize_t r;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/status", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		r = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (r <= 0)
			continue;
		buf[r] = 0;
		p = strstr(buf, "\nPPid:\t");
		q = strstr(buf, "\nNSpid:\t");
		if (!p || !q || atoi(p + 7) != ppid)
			continue;
		q = strchr(q + 1, '\n');
		if (!q)
			continue;
		*q = 0;
		p = strrchr(buf, '\t');
		if (p && atoi(p + 1) == nspid)
			found = atoi(de->d_name);
	}
	closedir(d);
	return found;
}

/* A forks a worker (slot s): its PID inside and outside. */
static int ns_fork(struct nsctx *n, struct wslot *s, pid_t *in, pid_t *out)
{
	n->a.sl[0]->arg = s - g_pool;
	slot_post(n->a.sl[0], CMD_FORK);
	if (slot_wait(n->a.sl[0]))
		return -1;
	*in = n->a.sl[0]->ret;
	CHECK(*in > 0, "fork in the namespace: %s", strerror(n->a.sl[0]->err));
	if (slot_wait_ready(s, 0))
		return -1;
	CHECK(s->tid == *in, "forked worker's TID %d, fork returned %d",
	      s->tid, *in);
	*out = host_pid_of(n->a.pid, *in);
	CHECK(*out > 3, "no host PID for PID %d of the namespace", *in);
	return 0;
}

static int ns_exit(struct wslot *s, pid_t hostpid)
{
	double end = now() + 30;

	slot_post(s, CMD_EXIT);
	while (task_state(hostpid, hostpid) != 'Z') {
		CHECK(now() < end, "%d does not exit", hostpid);
		msleep(2);
	}
	return row_absent(hostpid);
}

/* Exit records give PIDs as the namespace of the file's opener sees them. */
static int t_pidns_records(const void *arg)
{
	struct wslot *sc = slot_alloc(), *sd = slot_alloc();
	struct tracer_record rec[4];
	struct nsctx n;
	pid_t c_in, c_out, d_in, d_out;
	int fd_ns, r;
	ssize_t got;

	(void)arg;
	CHECK(sc && sd, "out of slots");
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

/* ------------------------------------------------------------------ */
/* Tests: fork storm, add/remove racing with exit                     */

/*
 * A followed, reported process P forks thousands of short-lived children;
 * each runs 0-2 extra threads, every thread does k down_interruptible()+up()
 * pairs (k from its PID), some fork a grandchild that does the same.  Every
 * one of them must come back as exactly one exit record with exactly those
 * up/down counts, while readers parse /proc/tracer in a loop and a control
 * process makes known requests whose sum its row must show exactly.
 */
struct storm_params {
	long max_procs;		/* in */
	double end;		/* in: CLOCK_MONOTONIC deadline */
	int max_live;		/* in */
	long children, grandchildren, threads, expect_up;	/* out */
	long fork_fail, bad_exit;
};

static int storm_nthreads(pid_t p)
{
	return p % 3;
}

static int storm_k(pid_t p)
{
	return 1 + p % 5;
}

static int storm_has_grandchild(pid_t p)
{
	return p % 4 == 0;
}

static int storm_sema(int k)
{
	struct tth_req r = { .op = TTH_OP_SEMA, .n = k };

	return ioctl(g_hfd, TTH_IOC_RUN, &r) ? -1 : 0;
}

static void *storm_thread(void *arg)
{
	return (void *)(long)storm_sema((int)(long)arg);
}

static void storm_child(struct storm_params *sp)
{
	pid_t me = getpid();
	int nt = storm_nthreads(me), k = storm_k(me), i, bad = 0;
	pthread_attr_t at;
	pthread_t t[2];
	void *ret;

	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 64 * 1024);
	for (i = 0; i < nt; i++)
		if (pthread_create(&t[i], &at, storm_thread, (void *)(long)k))
			_exit(3);
	bad |= storm_sema(k);
	if (storm_has_grandchild(me)) {
		pid_t g = fork();

		if (g == 0)
			_exit(storm_sema(storm_k(getpid())) ? 3 : 0);
		if (g < 0) {
			__atomic_add_fetch(&sp->fork_fail, 1, __ATOMIC_RELAXED);
		} else {
			int st;

			__atomic_add_fetch(&sp->grandchildren, 1, __ATOMIC_RELAXED);
			__atomic_add_fetch(&sp->expect_up, storm_k(g),
					   __ATOMIC_RELAXED);
			if (waitpid(g, &st, 0) != g || !WIFEXITED(st) ||
			    WEXITSTATUS(st))
				bad = 1;
		}
	}
	for (i = 0; i < nt; i++)
		if (pthread_join(t[i], &ret) || ret)
			bad = 1;
	_exit(bad ? 3 : 0);
}

static int storm_run(struct storm_params *sp)
{
	int live = 0, st;
	pid_t pid;

	while (sp->children < sp->max_procs && now() < sp->end) {
		if (live >= sp->max_live) {
			if (waitpid(-1, &st, 0) > 0) {
				live--;
				if (!WIFEXITED(st) || WEXITSTATUS(st))
					sp->bad_exit++;
			}
			continue;
		}
		pid = fork();
		if (pid == 0)
			storm_child(sp);
		if (pid < 0) {
			sp->fork_fail++;
			msleep(1);
			continue;
		}
		live++;
		__atomic_add_fetch(&sp->children, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&sp->threads, storm_nthreads(pid),
				   __ATOMIC_RELAXED);
		__atomic_add_fetch(&sp->expect_up,
				   storm_k(pid) * (1 + storm_nthreads(pid)),
				   __ATOMIC_RELAXED);
	}
	while (live > 0 && waitpid(-1, &st, 0) > 0) {
		live--;
		if (!WIFEXITED(st) || WEXITSTATUS(st))
			sp->bad_exit++;
	}
	return 0;
}

struct storm_drain {
	struct stress *s;
	int fd;
	struct tracer_record *rec;
	long n, cap;
};

static void *storm_drain(void *p)
{
	struct storm_drain *d = p;
	ssize_t r;

	while (!d->s->stop) {
		if (d->n + 64 > d->cap) {
			struct tracer_record *nr = realloc(d->rec, 2 * d->cap *
							   sizeof(*nr));

			if (!nr) {
				stress_err(d->s, "out of memory for records");
				break;
			}
			d->rec = nr;
			d->cap *= 2;
		}
		r = read(d->fd, d->rec + d->n, 64 * REC_SIZE);
		if (r < 0 || r % REC_SIZE) {
			stress_err(d->s, "read of exit records returned %zd (%s)",
				   r, r < 0 ? strerror(errno) : "partial record");
			break;
		}
		d->n += r / REC_SIZE;
		if (!r)
			msleep(5);
	}
	return NULL;
}

static int cmp_rec_pid(const void *a, const void *b)
{
	const struct tracer_record *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

static int t_fork_storm(const void *arg)
{
	struct stress *s = calloc(1, sizeof(*s));
	struct storm_params *sp;
	struct storm_drain dr = { 0 };
	struct worker ctl, p;
	pthread_t rd, drt;
	struct row a, b, dlt;
	struct expect e;
	long missed0, missed1, created, i, bad = 0, sem = 0, mtx = 0, km = 0;
	long long events = 0;
	char comm[16] = "";
	double t0, end, secs;
	int kfd, j, nops = 0;

	(void)arg;
	CHECK(s, "calloc");
	pthread_mutex_init(&s->lock, NULL);
	sp = mmap(NULL, sizeof(*sp), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(sp != MAP_FAILED, "mmap");
	prctl(PR_GET_NAME, comm);
	kfd = kmsg_open();
	dr.s = s;
	dr.cap = 4096;
	dr.rec = malloc(dr.cap * REC_SIZE);
	CHECK(dr.rec, "malloc");
	dr.fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	CHECK(dr.fd >= 0, "open: %s", strerror(errno));
	/* The control: warmed up and pinned (see t_op). */
	if (worker_start(&ctl, 2) || pin(ctl.pid, 0) ||
	    slot_op(ctl.sl[0], TTH_OP_KMALLOC_VAR, 200, 64, 0))
		return -1;
	CHECK_ERR(tr_add(ctl.pid), 0, "add control");
	if (worker_start(&p, 1))
		return -1;
	CHECK_ERR(ex_add(dr.fd, p.pid, TRACER_ADD_FLAGS), 0, "EX add of the spawner");
	missed0 = read_long(MISSED_PATH);
	/* One reader, pausing 2 ms between reads: the CPUs are for forks. */
	s->reader_pause_ms = 2;
	CHECK(!pthread_create(&rd, NULL, stress_reader, s), "pthread_create");
	CHECK(!pthread_create(&drt, NULL, storm_drain, &dr), "pthread_create");
	if (row_need(ctl.pid, &a))
		return -1;
	secs = g_stress_secs;
	t0 = now();
	sp->max_procs = 2000;
	sp->end = t0 + secs;
	sp->max_live = 8;
	p.sl[0]->arg = (unsigned long)sp;
	slot_post(p.sl[0], CMD_STORM);
	end = sp->end + 120;
	/* The control works while the storm goes on. */
	while (ld(&p.sl[0]->ack) != ld(&p.sl[0]->seq)) {
		CHECK(now() < end, "the storm did not end");
		if (slot_op(ctl.sl[0], TTH_OP_SEMA, 50, 0, 0) ||
		    slot_op(ctl.sl[1], TTH_OP_MUTEX, 30, 0, 0))
			return -1;
		sem += 50;
		mtx += 30;
		if (nops++ % 4 == 0) {
			if (slot_op(ctl.sl[0], TTH_OP_KMALLOC_VAR, 20, 64, 0))
				return -1;
			km += 20;
		}
		msleep(20);
	}
	if (row_need(ctl.pid, &b))
		return -1;
	created = sp->children + sp->grandchildren;
	/* Every record is queued before its parent can reap it: all are
	 * there, the drain only has to read them.
	 */
	for (i = 0; i < 200 && __atomic_load_n(&dr.n, __ATOMIC_RELAXED) < created &&
	     !s->stop; i++)
		msleep(50);
	msleep(100);
	s->stop = 1;
	pthread_join(rd, NULL);
	pthread_join(drt, NULL);
	missed1 = read_long(MISSED_PATH);
	diag("fork storm: %ld processes (%ld children, %ld grandchildren), %ld extra threads, %ld records, %ld table reads in %.1f s",
	     created, sp->children, sp->grandchildren, sp->threads, dr.n,
	     s->reads, now() - t0);
	CHECK(!s->err[0], "%s", s->err);
	CHECK(!sp->fork_fail && !sp->bad_exit, "%ld forks failed, %ld processes failed",
	      sp->fork_fail, sp->bad_exit);
	CHECK(missed1 == missed0, "missed events %ld -> %ld", missed0, missed1);
	/* Proof that it ran; how much depends on the machine. */
	CHECK(sp->children >= 10, "only %ld processes", sp->children);
	CHECK(dr.n == created, "%ld exit records for %ld processes", dr.n, created);
	/* Exactly one record per process, with exactly its counts. */
	qsort(dr.rec, dr.n, REC_SIZE, cmp_rec_pid);
	for (i = 0; i < dr.n; i++) {
		struct tracer_record *r = &dr.rec[i];
		long want = r->ppid == p.pid ?
			    storm_k(r->pid) * (1 + storm_nthreads(r->pid)) :
			    storm_k(r->pid);
		int k;

		CHECK(r->pid > 0 && (!i || r->pid != dr.rec[i - 1].pid),
		      "record of PID %d twice (or PID <= 0)", r->pid);
		if ((long)r->count[C_UP - 1] != want ||
		    (long)r->count[C_DOWN - 1] != want ||
		    strncmp(r->comm, comm, sizeof(r->comm))) {
			if (!bad++)
				failf("record of PID %d (parent %d): up %llu down %llu comm '%.16s', expected %ld, %ld, '%s'",
				      r->pid, r->ppid,
				      (unsigned long long)r->count[C_UP - 1],
				      (unsigned long long)r->count[C_DOWN - 1],
				      r->comm, want, want, comm);
		}
		for (k = 0; k < TRACER_NR_COLUMNS; k++)
			if (k != C_KMALLOC_MEM - 1 && k != C_KFREE_MEM - 1)
				events += r->count[k];
	}
	CHECK(!bad, "%ld records with wrong counts", bad);
	{
		long long up = 0;

		for (i = 0; i < dr.n; i++)
			up += dr.rec[i].count[C_UP - 1];
		CHECK(up == sp->expect_up, "up in all records: %lld, the processes made %ld",
		      up, sp->expect_up);
	}
	/* The control: exactly what it did. */
	row_sub(&dlt, &b, &a);
	expect_zero(&e);
	e.v[C_UP] = e.v[C_DOWN] = sem;
	e.v[C_LOCK] = e.v[C_UNLOCK] = mtx;
	e.v[C_KMALLOC] = e.v[C_KFREE] = km;
	e.v[C_KMALLOC_MEM] = e.v[C_KFREE_MEM] = km * 64;
	if (check_delta("control process during the storm", &dlt, &e))
		return -1;
	for (j = 1; j < NCOL; j++)
		if (j != C_KMALLOC_MEM && j != C_KFREE_MEM)
			events += dlt.v[j];
	diag("fork storm: %lld events in the records and the control's row",
	     events);
	/* Only the control and the spawner are left. */
	{
		struct table t;
		int rows;

		if (table_read(&t))
			return -1;
		rows = t.n;
		free(t.rows);
		CHECK(rows == 2, "%d rows after the storm, expected 2 (control, spawner)",
		      rows);
	}
	worker_kill(&p);
	worker_kill(&ctl);
	close(dr.fd);
	free(dr.rec);
	return kmsg_check(kfd, "fork storm");
}

/*
 * Add and remove race with the exit of the same process: every result must
 * fit the process's state as the requests saw it, a record comes for every
 * process that exited while added with REPORT_EXIT, and nothing is left.
 */
struct race_stats {
	long iters, adds[4], removes[4], records_expected;
};

static int race_idx(int e)
{
	return e == 0 ? 0 : e == ESRCH ? 1 : e == EEXIST ? 2 : 3;
}

static int t_exit_race(const void *arg)
{
	struct race_stats rs = { 0 };
	uint64_t seed = 0x1234567 ^ (uint64_t)getpid();
	struct tracer_record rec[64];
	double end;
	long nrec = 0, maxit = 3000, secs;
	int fd, kfd;
	ssize_t r;

	(void)arg;
	if (table_none("before the race"))
		return -1;
	kfd = kmsg_open();
	fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open: %s", strerror(errno));
	secs = g_stress_secs / 2 > 2 ? g_stress_secs / 2 : 2;
	end = now() + secs;
	while (rs.iters < maxit && now() < end) {
		uint64_t x = rnd(&seed);
		int mode = x % 3, mon = 0, rep = 0, dead = 0, i, e, st;
		unsigned int spin = (x >> 8) % (x % 2 ? 3000 : 200000);
		pid_t pid;

		fflush(stdout);
		pid = fork();
		CHECK(pid >= 0, "fork: %s", strerror(errno));
		if (pid == 0) {
			pthread_t t;
			volatile unsigned int k;

			if (mode == 1)
				pthread_create(&t, NULL, slot_thread_idle, NULL);
			for (k = 0; k < spin; k++)
				;
			_exit(0);
		}
		rs.iters++;
		/* Requests until one sees it gone: many of them at the
		 * moment it exits, with the table (but for it) empty.
		 */
		for (i = 0; i < 200 && !dead; i++) {
			uint64_t y = rnd(&seed);
			int op = y % 3;

			if (op == 2) {	/* remove */
				e = tr_remove(pid);
				rs.removes[race_idx(e)]++;
				if (dead ? e != ENOENT :
				    mon ? e && e != ENOENT : e != ENOENT) {
					failf("iteration %ld: remove (%s%s): %s",
					      rs.iters, dead ? "exited" : "alive",
					      mon ? ", added" : "", errname(e));
					return -1;
				}
				if (mon && e == ENOENT) {	/* it exited */
					rs.records_expected += rep;
					dead = 1;
				}
				mon = 0;
			} else {	/* add, plain or EX with REPORT_EXIT */
				e = op ? ex_add(fd, pid, TRACER_REPORT_EXIT) :
				    tr_add(pid);
				rs.adds[race_idx(e)]++;
				if (dead ? e != ESRCH :
				    mon ? e != EEXIST && e != ESRCH :
				    e && e != ESRCH) {
					failf("iteration %ld: add (%s%s): %s",
					      rs.iters, dead ? "exited" : "alive",
					      mon ? ", added" : "", errname(e));
					return -1;
				}
				if (e == ESRCH) {
					if (mon)
						rs.records_expected += rep;
					dead = 1;
					mon = 0;
				} else if (!e) {
					mon = 1;
					rep = op != 0;
				}
			}
		}
		CHECK(waitpid(pid, &st, 0) == pid, "waitpid: %s", strerror(errno));
		if (mon)	/* exited with its row */
			rs.records_expected += rep;
		if (row_get(pid, NULL)) {
			failf("iteration %ld: a row for PID %d after it exited and was reaped (%s, last add %s)",
			      rs.iters, pid, mon ? "added" : "not added",
			      rep ? "with REPORT_EXIT" : "plain");
			return -1;
		}
		CHECK_ERR(tr_add(pid), ESRCH, "add of reaped %d", pid);
		CHECK_ERR(tr_remove(pid), ESRCH, "remove of reaped %d", pid);
	}
	while ((r = read(fd, rec, sizeof(rec))) > 0)
		nrec += r / REC_SIZE;
	CHECK(r == 0, "read of records: %s", strerror(errno));
	diag("exit race: %ld processes; adds: %ld ok, %ld ESRCH, %ld EEXIST; removes: %ld ok, %ld ENOENT; %ld records",
	     rs.iters, rs.adds[0], rs.adds[1], rs.adds[2], rs.removes[0],
	     rs.removes[3], nrec);
	CHECK(nrec == rs.records_expected, "%ld exit records, expected %ld",
	      nrec, rs.records_expected);
	CHECK(rs.iters >= 10, "only %ld iterations", rs.iters);
	close(fd);
	if (table_none("after the race"))
		return -1;
	return kmsg_check(kfd, "exit race");
}

/* ------------------------------------------------------------------ */
/* Tests: injected allocation failures                                */

static int fail_set(int n)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%d", n);
	CHECK(!write_str(FAIL_ALLOC_PATH, buf), "write %s: %s", FAIL_ALLOC_PATH,
	      strerror(errno));
	return 0;
}

/* open(2) whose session cannot be allocated: ENOMEM, N times for N. */
static int t_fail_open(const void *arg)
{
	int fd, i;

	(void)arg;
	if (access(FAIL_ALLOC_PATH, F_OK))
		return 2;
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
static int t_fail_ex(const void *arg)
{
	struct worker w;
	long mon;
	int fd;

	(void)arg;
	if (access(FAIL_ALLOC_PATH, F_OK))
		return 2;
	if (worker_start(&w, 1))
		return -1;
	fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open: %s", strerror(errno));
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
static int t_fail_follow(const void *arg)
{
	struct wslot *cs = slot_alloc(), *ds = slot_alloc();
	struct worker w;
	long missed0;
	pid_t c, d;

	(void)arg;
	CHECK(cs && ds, "out of slots");
	if (access(FAIL_ALLOC_PATH, F_OK))
		return 2;
	if (worker_start(&w, 1))
		return -1;
	CHECK_ERR(ex_add(g_tfd, w.pid, TRACER_FOLLOW_FORKS), 0, "EX follow");
	missed0 = read_long(MISSED_PATH);
	if (fail_set(1))
		return -1;
	w.sl[0]->arg = cs - g_pool;
	slot_post(w.sl[0], CMD_FORK);
	if (slot_wait(w.sl[0]))
		return -1;
	c = w.sl[0]->ret;
	CHECK(c > 0, "fork: %s", strerror(w.sl[0]->err));
	if (slot_wait_ready(cs, c) || row_absent(c))
		return -1;
	CHECK(read_long(FAIL_ALLOC_PATH) == 0, "fail_alloc not consumed by the fork");
	CHECK(read_long(MISSED_PATH) == missed0 + 1, "missed %ld -> %ld, expected +1",
	      missed0, read_long(MISSED_PATH));
	if (row_need(w.pid, NULL))
		return -1;
	w.sl[0]->arg = ds - g_pool;
	slot_post(w.sl[0], CMD_FORK);
	if (slot_wait(w.sl[0]))
		return -1;
	d = w.sl[0]->ret;
	CHECK(d > 0, "fork: %s", strerror(w.sl[0]->err));
	if (slot_wait_ready(ds, d) || row_need(d, NULL))
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
static int t_fail_no_leak(const void *arg)
{
	struct worker w[2];
	long before, mid, after, mon, slack;
	pid_t z;
	int fd;

	(void)arg;
	if (access(FAIL_ALLOC_PATH, F_OK))
		return 2;
	if (cache_objects() < 0) {
		diag("no /sys/kernel/slab/tracer_proc/objects here");
		return 2;
	}
	if (worker_start(&w[0], 1) || worker_start(&w[1], 1))
		return -1;
	z = make_zombie();
	CHECK(z > 0, "fork");
	fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	CHECK(fd >= 0, "open: %s", strerror(errno));
	CHECK_ERR(tr_add(w[0].pid), 0, "add");
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

/* ------------------------------------------------------------------ */
/* Tests: permissions                                                 */

#define NOBODY 65534

struct ids {
	uid_t r, e, s;
	gid_t rg, eg, sg;
};

static const struct ids ids_nobody = { NOBODY, NOBODY, NOBODY, NOBODY,
	NOBODY, NOBODY };

static int set_ids(const struct ids *id)
{
	return setgroups(0, NULL) || setresgid(id->rg, id->eg, id->sg) ||
	       setresuid(id->r, id->e, id->s) ? -1 : 0;
}

#define CAPS_KEEP_ADMIN	1
#define CAPS_DROP_ADMIN	2

static int caps_admin(int how)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];
	uint32_t bit = 1U << (CAP_SYS_ADMIN % 32);
	int w = CAP_SYS_ADMIN / 32;

	if (syscall(SYS_capget, &h, d))
		return -1;
	if (how == CAPS_KEEP_ADMIN) {
		memset(d, 0, sizeof(d));
		d[w].effective = d[w].permitted = bit;
	} else {
		d[w].effective &= ~bit;
		d[w].permitted &= ~bit;
		d[w].inheritable &= ~bit;
	}
	return syscall(SYS_capset, &h, d) ? -1 : 0;
}

/* A process with these IDs that sleeps until killed. */
static pid_t sleeper(const struct ids *id)
{
	int pfd[2];
	pid_t pid;
	char c = 0;

	if (pipe(pfd))
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(pfd[0]);
		c = set_ids(id) ? 'e' : 'r';
		if (write(pfd[1], &c, 1) != 1 || c == 'e')
			_exit(1);
		for (;;)
			pause();
	}
	close(pfd[1]);
	if (pid > 0 && (read(pfd[0], &c, 1) != 1 || c != 'r')) {
		kill(pid, SIGKILL);
		pid = -1;
	}
	close(pfd[0]);
	return pid;
}

/* Run fn in a child with these IDs (and capability change); its result.
 * fn reports with failf (shared).
 */
static int as_ids(const struct ids *id, int caps, int (*fn)(void *), void *arg)
{
	pid_t pid;
	int st;

	fflush(stdout);
	pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		if (caps == CAPS_KEEP_ADMIN && prctl(PR_SET_KEEPCAPS, 1))
			_exit(5);
		if (set_ids(id)) {
			failf("cannot take IDs %d/%d: %s", id->r, id->rg,
			      strerror(errno));
			_exit(1);
		}
		if (caps && caps_admin(caps)) {
			failf("capset: %s", strerror(errno));
			_exit(1);
		}
		_exit(fn(arg) ? 1 : 0);
	}
	CHECK(waitpid(pid, &st, 0) == pid, "waitpid");
	CHECK(WIFEXITED(st), "child killed by signal %d", WTERMSIG(st));
	return WEXITSTATUS(st) ? -1 : 0;
}

struct perm_ctx {
	char node[64];		/* a 0666 node of /dev/tracer */
	char dir[48];
	pid_t root;		/* a root process, monitored by root */
	pid_t same;		/* all IDs NOBODY */
	pid_t saved0;		/* NOBODY, but saved UID 0 */
	pid_t ruid0;		/* real UID 0, effective and saved NOBODY */
	pid_t gid0;		/* UIDs NOBODY, GIDs 0 */
	pid_t egid0;		/* UIDs NOBODY, effective GID 0 */
	pid_t dead;
	struct worker rw;
};

static int perm_setup(struct perm_ctx *c)
{
	static const struct ids saved0 = { NOBODY, NOBODY, 0, NOBODY, NOBODY,
		NOBODY };
	static const struct ids ruid0 = { 0, NOBODY, NOBODY, NOBODY, NOBODY,
		NOBODY };
	static const struct ids gid0 = { NOBODY, NOBODY, NOBODY, 0, 0, 0 };
	static const struct ids egid0 = { NOBODY, NOBODY, NOBODY, NOBODY, 0,
		NOBODY };

	memset(c, 0, sizeof(*c));
	snprintf(c->dir, sizeof(c->dir), "/tmp/tracer-perm.%d", getpid());
	snprintf(c->node, sizeof(c->node), "%s/tracer", c->dir);
	CHECK(!mkdir(c->dir, 0755) || errno == EEXIST, "mkdir %s: %s", c->dir,
	      strerror(errno));
	CHECK(!chmod(c->dir, 0755), "chmod");
	unlink(c->node);
	CHECK(!mknod(c->node, S_IFCHR | 0666, makedev(10, TRACER_DEV_MINOR)),
	      "mknod %s: %s", c->node, strerror(errno));
	CHECK(!chmod(c->node, 0666), "chmod %s", c->node);
	if (worker_start(&c->rw, 1))
		return -1;
	c->root = c->rw.pid;
	CHECK_ERR(tr_add(c->root), 0, "add of the root worker");
	c->same = sleeper(&ids_nobody);
	c->saved0 = sleeper(&saved0);
	c->ruid0 = sleeper(&ruid0);
	c->gid0 = sleeper(&gid0);
	c->egid0 = sleeper(&egid0);
	c->dead = dead_pid();
	CHECK(c->same > 0 && c->saved0 > 0 && c->ruid0 > 0 && c->gid0 > 0 &&
	      c->egid0 > 0 && c->dead > 0, "cannot start the processes");
	return 0;
}

static void perm_cleanup(struct perm_ctx *c)
{
	unlink(c->node);
	rmdir(c->dir);
}

/* Open the 0666 node (as whoever runs this). */
static int perm_open(struct perm_ctx *c)
{
	int fd = open(c->node, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		failf("open %s as uid %d: %s", c->node, getuid(), strerror(errno));
	return fd;
}

#define PERM_ERR(fd, req, pid, want, what) do {				\
		int _e = ioctl(fd, req, (unsigned long)(unsigned int)(pid)) ? \
			 errno : 0;					\
		if (_e != (want)) {					\
			failf("uid %d: %s: expected %s, got %s", getuid(), \
			      what, errname(want), errname(_e));	\
			return -1;					\
		}							\
	} while (0)

/* /dev/tracer is root's, mode 0600: anybody else gets EACCES. */
static int perm_eacces(void *arg)
{
	static const int modes[] = { O_RDWR, O_RDONLY, O_WRONLY };
	size_t i;
	int fd;

	(void)arg;
	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		errno = 0;
		fd = open(DEV_PATH, modes[i] | O_CLOEXEC);
		if (fd >= 0 || errno != EACCES) {
			failf("non-root open of %s (flags %d): %s, expected EACCES",
			      DEV_PATH, modes[i], fd >= 0 ? "opened" : strerror(errno));
			return -1;
		}
	}
	return 0;
}

static int t_perm_dev_mode(const void *arg)
{
	struct stat st;

	(void)arg;
	CHECK(!stat(DEV_PATH, &st), "stat: %s", strerror(errno));
	CHECK(S_ISCHR(st.st_mode) && (st.st_mode & 07777) == 0600 &&
	      st.st_uid == 0 && st.st_gid == 0,
	      "%s: mode %o uid %d gid %d, expected char device 0600 root:root",
	      DEV_PATH, st.st_mode, st.st_uid, st.st_gid);
	return as_ids(&ids_nobody, 0, perm_eacces, NULL);
}

/* A user without privileges, with the device open: its own processes only. */
static int perm_owner(void *arg)
{
	struct perm_ctx *c = arg;
	struct tracer_add a = { .pid = getpid(), .flags = TRACER_ADD_FLAGS };
	int fd = perm_open(c);

	if (fd < 0)
		return -1;
	PERM_ERR(fd, TRACER_ADD_PROCESS, getpid(), 0, "add of itself");
	PERM_ERR(fd, TRACER_ADD_PROCESS, getpid(), EEXIST, "add of itself again");
	PERM_ERR(fd, TRACER_REMOVE_PROCESS, getpid(), 0, "remove of itself");
	PERM_ERR(fd, TRACER_REMOVE_PROCESS, getpid(), ENOENT, "remove of itself again");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->same, 0, "add of a process of its own");
	PERM_ERR(fd, TRACER_REMOVE_PROCESS, c->same, 0, "remove of a process of its own");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->root, EPERM, "add of a root process");
	PERM_ERR(fd, TRACER_REMOVE_PROCESS, c->root, EPERM,
		 "remove of a root process monitored by root");
	PERM_ERR(fd, TRACER_ADD_PROCESS, 1, EPERM, "add of init");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->saved0, EPERM,
		 "add of a process with saved UID 0");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->ruid0, EPERM,
		 "add of a process with real UID 0");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->gid0, EPERM,
		 "add of a process with GID 0");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->egid0, EPERM,
		 "add of a process with effective GID 0");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->dead, ESRCH, "add of a dead PID");
	PERM_ERR(fd, TRACER_ADD_PROCESS, 0, EINVAL, "add of PID 0");
	if (ioctl(fd, TRACER_ADD_PROCESS_EX, &a)) {
		failf("EX add of itself: %s", strerror(errno));
		return -1;
	}
	PERM_ERR(fd, TRACER_REMOVE_PROCESS, getpid(), 0, "remove after EX");
	a.pid = c->root;
	if (!ioctl(fd, TRACER_ADD_PROCESS_EX, &a) || errno != EPERM) {
		failf("EX add of a root process: expected EPERM, got %s",
		      errname(errno));
		return -1;
	}
	close(fd);
	return 0;
}

static int t_perm_owner(const void *arg)
{
	struct perm_ctx c;
	int ret;

	(void)arg;
	if (perm_setup(&c))
		return -1;
	ret = as_ids(&ids_nobody, 0, perm_owner, &c);
	perm_cleanup(&c);
	if (ret)
		return -1;
	/* Root's row untouched, nobody else's left. */
	if (row_need(c.root, NULL) || row_absent(c.same) || row_absent(c.saved0))
		return -1;
	CHECK_ERR(tr_remove(c.root), 0, "remove of the root worker");
	return table_none("after the permission test");
}

/* CAP_SYS_ADMIN, not the user ID, lets one monitor anybody. */
static int perm_admin(void *arg)
{
	struct perm_ctx *c = arg;
	int fd = perm_open(c);

	if (fd < 0)
		return -1;
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->saved0, 0,
		 "add of a saved-UID-0 process with CAP_SYS_ADMIN");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->root, EEXIST,
		 "add of the monitored root process with CAP_SYS_ADMIN");
	PERM_ERR(fd, TRACER_REMOVE_PROCESS, c->root, 0,
		 "remove of a root process with CAP_SYS_ADMIN");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->root, 0,
		 "add of a root process with CAP_SYS_ADMIN");
	PERM_ERR(fd, TRACER_REMOVE_PROCESS, c->saved0, 0, "remove");
	close(fd);
	return 0;
}

static int perm_root_no_admin(void *arg)
{
	struct perm_ctx *c = arg;
	int fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		failf("open %s as root without CAP_SYS_ADMIN: %s", DEV_PATH,
		      strerror(errno));
		return -1;
	}
	PERM_ERR(fd, TRACER_REMOVE_PROCESS, c->root, 0,
		 "root without CAP_SYS_ADMIN: remove of a root process");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->root, 0,
		 "root without CAP_SYS_ADMIN: add of a root process");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->same, EPERM,
		 "root without CAP_SYS_ADMIN: add of a nobody process");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->ruid0, EPERM,
		 "root without CAP_SYS_ADMIN: add of a process with effective UID nobody");
	close(fd);
	return 0;
}

static int t_perm_cap(const void *arg)
{
	static const struct ids root = { 0, 0, 0, 0, 0, 0 };
	struct perm_ctx c;
	int ret;

	(void)arg;
	if (perm_setup(&c))
		return -1;
	ret = as_ids(&ids_nobody, CAPS_KEEP_ADMIN, perm_admin, &c);
	if (!ret)
		ret = as_ids(&root, CAPS_DROP_ADMIN, perm_root_no_admin, &c);
	perm_cleanup(&c);
	if (ret || row_need(c.root, NULL) || row_absent(c.same) ||
	    row_absent(c.saved0))
		return -1;
	CHECK_ERR(tr_remove(c.root), 0, "remove of the root worker");
	return table_none("after the capability test");
}

/* CAP_SYS_ADMIN in a user namespace of one's own is not enough. */
static int perm_userns(void *arg)
{
	struct perm_ctx *c = arg;
	int fd;

	if (unshare(CLONE_NEWUSER)) {
		if (errno == EPERM || errno == EINVAL || errno == ENOSPC ||
		    errno == EUSERS)
			return 2;
		failf("unshare(CLONE_NEWUSER): %s", strerror(errno));
		return -1;
	}
	fd = perm_open(c);
	if (fd < 0)
		return -1;
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->root, EPERM,
		 "add of a root process from a user namespace");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->saved0, EPERM,
		 "add of a saved-UID-0 process from a user namespace");
	PERM_ERR(fd, TRACER_ADD_PROCESS, getpid(), 0,
		 "add of itself from a user namespace");
	PERM_ERR(fd, TRACER_REMOVE_PROCESS, getpid(), 0,
		 "remove of itself from a user namespace");
	close(fd);
	return 0;
}

static int t_perm_userns(const void *arg)
{
	struct perm_ctx c;
	pid_t pid;
	int st;

	(void)arg;
	if (perm_setup(&c))
		return -1;
	/* as_ids, but exit status 2 (no user namespaces) is a skip. */
	fflush(stdout);
	pid = fork();
	CHECK(pid >= 0, "fork");
	if (pid == 0) {
		int r;

		if (set_ids(&ids_nobody))
			_exit(1);
		r = perm_userns(&c);
		_exit(r == 2 ? 2 : r ? 1 : 0);
	}
	CHECK(waitpid(pid, &st, 0) == pid && WIFEXITED(st), "child failed");
	perm_cleanup(&c);
	if (WEXITSTATUS(st) == 2) {
		diag("unprivileged user namespaces are not available here");
		return 2;
	}
	CHECK(WEXITSTATUS(st) == 0, "failed");
	CHECK_ERR(tr_remove(c.root), 0, "remove of the root worker");
	return table_none("after the user namespace test");
}

/* Everybody may read /proc/tracer, and sees every row. */
static int perm_read(void *arg)
{
	struct perm_ctx *c = arg;

	return row_need(c->root, NULL);
}

static int t_perm_proc(const void *arg)
{
	struct perm_ctx c;
	int ret;

	(void)arg;
	if (perm_setup(&c))
		return -1;
	ret = as_ids(&ids_nobody, 0, perm_read, &c);
	perm_cleanup(&c);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Tests: the allocation map when it is full (tracer.ko map_bits=4)   */

/* One process keeps many more blocks than the map holds. */
static int t_map_pressure(const void *arg)
{
	const uint64_t n = 1000, sz = 100;
	struct mapstat m0, m1, m2;
	struct worker p;
	struct row a, b, d;
	struct expect e;
	long rec;

	(void)arg;
	if (map_get(&m0))
		return -1;
	CHECK(m0.capacity <= 256, "map capacity %ld: load tracer.ko with map_bits=4 for this test",
	      m0.capacity);
	CHECK(m0.records == 0, "map has %ld records before the test", m0.records);
	if (keep_workers(&p, 1) || keep_warm(&p, n, sz))
		return -1;
	CHECK_ERR(tr_add(p.pid), 0, "add");
	if (row_need(p.pid, &a) || keep(&p, n, sz) || row_need(p.pid, &b) ||
	    map_get(&m1))
		return -1;
	row_sub(&d, &b, &a);
	expect_zero(&e);
	e.v[C_KMALLOC] = n;
	e.v[C_KMALLOC_MEM] = n * sz;
	if (check_delta("keep with a full map", &d, &e))
		return -1;
	rec = m1.records - m0.records;
	diag("map: capacity %ld; %ld of %llu kept blocks recorded, %ld overflowed",
	     m1.capacity, rec, (unsigned long long)n, m1.overflow - m0.overflow);
	CHECK(m1.records <= m1.capacity, "%ld records, capacity %ld",
	      m1.records, m1.capacity);
	CHECK(m1.overflow > m0.overflow, "no overflow counted");
	CHECK(rec + m1.overflow - m0.overflow == (long)n,
	      "%ld recorded + %ld overflowed != %llu kept", rec,
	      m1.overflow - m0.overflow, (unsigned long long)n);
	/* Freed: kfree_mem is the recorded sizes only, the map empties. */
	if (row_need(p.pid, &a) || release(&p, n, 0) || row_need(p.pid, &b) ||
	    map_get(&m2))
		return -1;
	row_sub(&d, &b, &a);
	expect_zero(&e);
	e.v[C_KFREE] = n;
	e.v[C_KFREE_MEM] = rec * sz;
	if (check_delta("release with a full map", &d, &e))
		return -1;
	CHECK(m2.records == 0, "%ld records left after everything was freed",
	      m2.records);
	CHECK(m2.overflow == m1.overflow, "overflow %ld -> %ld on frees",
	      m1.overflow, m2.overflow);
	CHECK(b.v[C_KFREE_MEM] <= b.v[C_KMALLOC_MEM], "kfree_mem %lld > kmalloc_mem %lld",
	      b.v[C_KFREE_MEM], b.v[C_KMALLOC_MEM]);
	worker_kill(&p);
	return 0;
}

/* The helper's totals of the slab allocator's own calls (tracer_test_helper.h). */
static int slab_calls_get(struct tth_slab_calls *c)
{
	memset(c, 0, sizeof(*c));
	CHECK(!ioctl(g_hfd, TTH_IOC_SLAB_CALLS, c), "helper TTH_IOC_SLAB_CALLS: %s",
	      strerror(errno));
	return 0;
}

/* Printed when records of the allocator's own blocks stay; run.sh reads it. */
#define SLAB_RECORDS_LEFT "map records left of the slab allocator's own blocks:"

/*
 * Several processes allocate and free at once while one keeps the map
 * full: every block is either recorded or counted as overflow, and every
 * recorded byte comes back exactly once.
 *
 * The slab allocator's own calls.  Since 6.18 the allocator kmallocs (and
 * sometimes kfrees) blocks of its own (per-CPU sheaves, per-slab vectors)
 * in the caller's context, from inside the helper's kmalloc() and kfree(),
 * whenever its caches run dry: real calls of the worker, counted, at
 * moments no test controls (10001 kmalloc for 10000 on 7.2, the extra one
 * 512 B).  The helper counts them itself (slab_calls=1, set by run.sh: its
 * probes on the kmem tracepoints count every kmalloc/kfree a watched
 * request makes in task context, by call site: the helper's own, and the
 * others).  So the counts stay exact on every kernel:
 *	kmalloc     = N + S_kmalloc,  kmalloc_mem = N * sz + S_bytes,
 *	kfree       = N + S_kfree,
 * N the test's own calls (the helper must also have seen itself make
 * exactly N of each), S_* the allocator's as the helper saw them; a lost or
 * doubled event of the test's own breaks an equality.  Before 6.18, S_* must
 * be 0: the old exact assertions.
 *
 * kfree_mem and the map: the allocator's blocks share the map with the
 * test's.  Of the O overflowed records, j are of the allocator's blocks,
 * and the workers may free recorded allocator blocks (F bytes; 0 if they
 * made no kfree of the allocator's), so
 *	kfree_mem = (N - O + j) * sz + F.
 * Every block of the test's is freed, its record with it, so the records
 * left are the allocator's: R1 = R0 + (S_kmalloc - j) - X, X those of its
 * blocks that went meanwhile (freed by anybody: at most the G blocks the
 * helper saw go).  So R0 + S_kmalloc - R1 - G <= j <= R0 + S_kmalloc - R1:
 * exact when none went (usual: the allocator keeps its sheaves), and then
 * kfree_mem is exact too.  The allocator's blocks are arrays of pointers
 * (a multiple of 8 B: the helper checks) and sz is odd, so F = 0 (mod 8)
 * also fixes j modulo 8 from kfree_mem: a test block's bytes lost or
 * counted twice (an odd step) can hide only in the slack G leaves.  With
 * no call of the allocator's (always before 6.18), j = F = 0: the old
 * exact assertions kfree_mem == (kmalloc - O) * sz and an empty map.
 * Records that stay are of blocks the allocator still holds (they go when
 * it frees them): the line SLAB_RECORDS_LEFT tells run.sh's "map empty"
 * check.
 */
static int t_map_concurrent(const void *arg)
{
	const uint64_t keep_n = 1000, n = 3000, sz = 101;	/* sz odd */
	const long long N = keep_n + 3 * n;
	struct worker w[4];
	struct row a[4], b[4];
	struct mapstat m0, m1, m;
	struct tth_slab_calls s0, s1;
	long long km = 0, kf = 0, kmm = 0, kfm = 0;
	long long sk, sb, sf, so, g, un, d, f, o, r, j, jlo, jhi;
	long polls = 0, maxrec = 0;
	int i, busy, on;

	(void)arg;
	if (map_get(&m0))
		return -1;
	CHECK(m0.capacity <= 256, "map capacity %ld: load tracer.ko with map_bits=4 for this test",
	      m0.capacity);
	if (slab_calls_get(&s0))
		return -1;
	on = !!(s0.flags & TTH_SC_ON);
	CHECK(on || !kernel_at_least(6, 18),
	      "6.18+: the helper must count the slab allocator's own calls (echo 1 >/sys/module/tracer_test_helper/parameters/slab_calls)");
	if (keep_workers(w, 1) || keep_warm(&w[0], keep_n, sz))
		return -1;
	for (i = 1; i < 4; i++)
		if (worker_start(&w[i], 1) || pin(w[i].pid, i % 2) ||
		    slot_op(w[i].sl[0], TTH_OP_KMALLOC_VAR, n, sz, 0))
			return -1;
	for (i = 0; i < 4; i++)
		CHECK_ERR(tr_add(w[i].pid), 0, "add %d", i);
	if (map_get(&m0) || slab_calls_get(&s0))
		return -1;
	for (i = 0; i < 4; i++)
		if (row_need(w[i].pid, &a[i]))
			return -1;
	slot_set_op(w[0].sl[0], TTH_OP_KEEP, keep_n, sz, 0);
	for (i = 1; i < 4; i++)
		slot_set_op(w[i].sl[0], TTH_OP_KMALLOC_VAR, n, sz, 0);
	for (i = 0; i < 4; i++)
		slot_post(w[i].sl[0], CMD_RUN);
	do {
		if (map_get(&m))
			return -1;
		polls++;
		if (m.records > maxrec)
			maxrec = m.records;
		CHECK(m.records <= m.capacity, "%ld records, capacity %ld",
		      m.records, m.capacity);
		busy = 0;
		for (i = 0; i < 4; i++)
			busy |= ld(&w[i].sl[0]->ack) != ld(&w[i].sl[0]->seq);
	} while (busy);
	for (i = 0; i < 4; i++)
		if (slot_wait(w[i].sl[0]) || slot_check_ret(w[i].sl[0]))
			return -1;
	if (release(&w[0], keep_n, 0) || map_get(&m1))
		return -1;
	for (i = 0; i < 4; i++) {
		if (row_need(w[i].pid, &b[i]))
			return -1;
		km += b[i].v[C_KMALLOC] - a[i].v[C_KMALLOC];
		kf += b[i].v[C_KFREE] - a[i].v[C_KFREE];
		kmm += b[i].v[C_KMALLOC_MEM] - a[i].v[C_KMALLOC_MEM];
		kfm += b[i].v[C_KFREE_MEM] - a[i].v[C_KFREE_MEM];
	}
	if (slab_calls_get(&s1))
		return -1;
	sk = s1.kmalloc - s0.kmalloc;
	sb = s1.kmalloc_bytes - s0.kmalloc_bytes;
	sf = s1.kfree - s0.kfree;
	so = s1.kmalloc_odd - s0.kmalloc_odd;
	g = s1.blocks_gone - s0.blocks_gone;
	un = s1.blocks_untracked - s0.blocks_untracked;
	o = m1.overflow - m0.overflow;
	diag("map, 4 processes: %lld kmalloc, %lld overflowed, up to %ld records (%ld polls), kfree_mem %lld of kmalloc_mem %lld",
	     km, o, maxrec, polls, kfm, kmm);
	if (on)
		diag("the slab allocator's own calls, as the helper saw them: %lld kmalloc (%lld B), %lld kfree",
		     sk, sb, sf);
	for (i = 1; i < 4; i++)
		CHECK(b[i].v[C_KFREE_MEM] - a[i].v[C_KFREE_MEM] <=
		      b[i].v[C_KMALLOC_MEM] - a[i].v[C_KMALLOC_MEM] + sb,
		      "worker %d freed more bytes than it allocated", i);
	if (on) {
		CHECK(s1.unwatched == s0.unwatched, "%u requests ran unwatched by the helper",
		      s1.unwatched - s0.unwatched);
		CHECK(s1.own_kmalloc - s0.own_kmalloc == (uint64_t)N &&
		      s1.own_kfree - s0.own_kfree == (uint64_t)N,
		      "the helper saw itself make %llu kmalloc and %llu kfree calls, expected %lld",
		      (unsigned long long)(s1.own_kmalloc - s0.own_kmalloc),
		      (unsigned long long)(s1.own_kfree - s0.own_kfree), N);
	}
	CHECK(kernel_at_least(6, 18) || (!sk && !sf),
	      "before 6.18 the slab allocator makes no call of its own here, but the helper saw %lld kmalloc (%lld B) and %lld kfree",
	      sk, sb, sf);
	CHECK(km == N + sk, "kmalloc %lld, expected %lld (%lld of the test + %lld of the slab allocator)",
	      km, N + sk, N, sk);
	CHECK(kmm == N * (long long)sz + sb,
	      "kmalloc_mem %lld, expected %lld (%lld * %llu of the test + %lld of the slab allocator)",
	      kmm, N * (long long)sz + sb, N, (unsigned long long)sz, sb);
	CHECK(kf == N + sf, "kfree %lld, expected %lld (%lld of the test + %lld of the slab allocator)",
	      kf, N + sf, N, sf);
	CHECK(o > 0, "no overflow");
	CHECK(!so, "%lld of the slab allocator's kmalloc sizes are not a multiple of 8", so);
	/* r = j + X: the records the allocator's blocks did not leave. */
	r = m0.records + sk - m1.records;
	CHECK(r >= 0, "%ld records left (%ld before), more than the %lld blocks of the slab allocator",
	      m1.records, m0.records, sk);
	jhi = r < sk ? r : sk;
	jhi = jhi < o ? jhi : o;
	jlo = un ? 0 : r - g > 0 ? r - g : 0;
	d = kfm - (N - o) * (long long)sz;
	for (j = jlo; j <= jhi; j++) {
		f = d - j * (long long)sz;
		if (f >= 0 && f % 8 == 0 && (sf ? m0.records || f <= sb : !f))
			break;
	}
	CHECK(j <= jhi,
	      "kfree_mem %lld, expected (%lld - %lld overflowed + j) * %llu + F, j in [%lld, %lld] of the slab allocator's blocks overflowed (%ld -> %ld records, %lld of its blocks gone), F = 0 (mod 8) <= %lld B of its blocks freed by the workers",
	      kfm, N, o, (unsigned long long)sz, jlo, jhi, m0.records,
	      m1.records, g, sf ? sb : 0);
	if (sk || sf || m1.records)
		diag("kfree_mem: %lld of the slab allocator's blocks overflowed (%s), %lld B of its recorded blocks freed by the workers; %lld of its blocks gone",
		     j, jlo == jhi ? "exact" : "in a range", f, g);
	if (m1.records)
		diag(SLAB_RECORDS_LEFT " %ld", m1.records);
	for (i = 0; i < 4; i++)
		worker_kill(&w[i]);
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
	int explicit;	/* runs only when named exactly (needs a setup) */
	int once;	/* does not depend on the event source: not with -q */
};

static struct test tests[128];
static int ntests;

static void add_test(const char *name, int (*fn)(const void *),
		     const void *arg, int timeout)
{
	if (ntests < (int)ARRAY_SIZE(tests))
		tests[ntests++] = (struct test){ name, fn, arg, timeout, 0, 0 };
}

/* A test of the ioctl/procfs/permission paths only: -q leaves it out. */
static void add_once(const char *name, int (*fn)(const void *),
		     const void *arg, int timeout)
{
	add_test(name, fn, arg, timeout);
	tests[ntests - 1].once = 1;
}

/* A test that runs only when named exactly: run.sh sets its stage first. */
static void add_explicit(const char *name, int (*fn)(const void *),
			 const void *arg, int timeout)
{
	add_test(name, fn, arg, timeout);
	tests[ntests - 1].explicit = 1;
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
	add_test("kfree_mem_stale_after_kfree_rcu", t_stale_kfree_rcu, NULL, 60);
	add_test("exit_removes_row_zombie", t_exit_zombie, NULL, 30);
	add_test("exit_threads_leader_first", t_exit_threads, NULL, 30);
	add_test("remove_stops_counting", t_remove_stops, NULL, 30);
	add_test("threads_sum_into_process", t_threads_sum, NULL, 60);
	add_test("several_processes", t_multi_process, NULL, 60);
	add_test("untraced_process", t_untraced, NULL, 60);
	add_test("forked_child_not_monitored", t_fork_child, NULL, 30);
	add_test("pid_reuse", t_pid_reuse, NULL, 60);
	add_test("filter_slot_collision", t_filter_collision, NULL, 60);
	add_test("proc_read_bytewise_seek", t_proc_read, NULL, 60);
	add_test("eperm_non_root", t_eperm, NULL, 30);
	add_test("add_enomem_fail_alloc", t_add_enomem, NULL, 30);
	add_test("ex_errors", t_ex_errors, NULL, 30);
	add_test("ex_follow_forks", t_ex_follow, NULL, 30);
	add_test("ex_report_exit", t_ex_report, NULL, 30);
	add_once("dev_read_odd_sizes", t_dev_read, NULL, 60);
	add_once("proc_read_large_table", t_proc_large, NULL, 120);
	add_test("pid_reuse_thread_id", t_pid_reuse_tid, NULL, 60);
	add_once("pidns_add_pid1_is_ns_init", t_pidns_add, NULL, 60);
	add_once("pidns_proc_view", t_pidns_view, NULL, 60);
	add_once("pidns_exit_records", t_pidns_records, NULL, 60);
	add_once("perm_dev_node_0600", t_perm_dev_mode, NULL, 30);
	add_once("perm_owner_only", t_perm_owner, NULL, 60);
	add_once("perm_cap_sys_admin", t_perm_cap, NULL, 60);
	add_once("perm_user_namespace", t_perm_userns, NULL, 60);
	add_once("perm_proc_readable_by_all", t_perm_proc, NULL, 60);
	add_once("fail_alloc_open", t_fail_open, NULL, 30);
	add_once("fail_alloc_ex_add", t_fail_ex, NULL, 30);
	add_once("fail_alloc_no_leak", t_fail_no_leak, NULL, 120);
	add_once("ioctl_fuzz", t_fuzz, NULL, -1);
	add_test("exit_race_add_remove", t_exit_race, NULL, -1);
	add_test("fork_storm_follow", t_fork_storm, NULL, -1);
	add_test("stress", t_stress, NULL, -1);
	add_test("table_empty_at_end", t_table_empty, NULL, 30);
	/* Run by run.sh with tracer.ko loaded with map_bits=4. */
	add_explicit("map_pressure", t_map_pressure, NULL, 60);
	add_explicit("map_pressure_concurrent", t_map_concurrent, NULL, 120);
	add_explicit("fail_alloc_follow_missed", t_fail_follow, NULL, 30);
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

/* With -f: a thread of the hog forks short-lived children (followed when
 * the hog was added with TRACER_FOLLOW_FORKS) until killed.
 */
static void *hog_churn(void *p)
{
	struct tth_req r = { .op = TTH_OP_KMALLOC_VAR, .n = 10, .size = 32 };

	(void)p;
	for (;;) {
		pid_t c = fork();

		if (c == 0) {
			ioctl(g_hfd, TTH_IOC_RUN, &r);
			_exit(0);
		}
		if (c > 0)
			waitpid(c, NULL, 0);
		else
			msleep(10);
	}
	return NULL;
}

static int hog(int nthreads, int churn)
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
	if (churn && pthread_create(&t, NULL, hog_churn, NULL))
		return 1;
	printf("hog ready\n");
	fflush(stdout);
	hog_loop(NULL);
	return 0;
}

/*
 * -a PID...: add these processes (with TRACER_FOLLOW_FORKS), for run.sh.
 * Exit status 0 if every add succeeded.
 */
static int add_pids(int argc, char **argv, int first)
{
	int fd = open(DEV_PATH, O_RDWR | O_CLOEXEC), i, ret = 0;

	if (fd < 0) {
		fprintf(stderr, "tracer_test: open %s: %s\n", DEV_PATH,
			strerror(errno));
		return 1;
	}
	for (i = first; i < argc; i++) {
		int e = ex_add(fd, atoi(argv[i]), TRACER_FOLLOW_FORKS);

		if (e) {
			fprintf(stderr, "tracer_test: add of %s: %s\n", argv[i],
				errname(e));
			ret = 1;
		}
	}
	close(fd);
	return ret;
}

/*
 * -R secs: read and strictly parse /proc/tracer in a loop for secs seconds
 * or until SIGTERM, while run.sh unloads and reloads the module: a missing
 * file (ENOENT) or a read cut by the unload (EIO) is fine, a malformed or
 * short table is not.  Prints the counts; exit status 1 on a bad table.
 */
static volatile sig_atomic_t g_reader_stop;

static void reader_stop(int sig)
{
	(void)sig;
	g_reader_stop = 1;
}

static int proc_reader(int secs)
{
	long ok = 0, missing = 0, cut = 0, rows = 0;
	double end = now() + secs;
	char err[256];

	signal(SIGTERM, reader_stop);
	while (!g_reader_stop && now() < end) {
		struct table t;
		size_t len;
		char *buf;
		int fd = open(PROC_PATH, O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			if (errno != ENOENT) {
				printf("# reader: open %s: %s\n", PROC_PATH,
				       strerror(errno));
				return 1;
			}
			missing++;
			msleep(1);
			continue;
		}
		buf = read_all_fd(fd, &len);
		if (!buf) {
			int e = errno;

			close(fd);
			if (e != EIO) {
				printf("# reader: read %s: %s\n", PROC_PATH,
				       strerror(e));
				return 1;
			}
			cut++;
			continue;
		}
		close(fd);
		if (parse_table(buf, len, &t, err, sizeof(err))) {
			printf("# reader: bad table: %s\n", err);
			return 1;
		}
		rows += t.n;
		free(t.rows);
		free(buf);
		ok++;
	}
	printf("# reader: %ld tables read (%ld rows), %ld times no file, %ld reads cut by an unload\n",
	       ok, rows, missing, cut);
	return ok ? 0 : 1;
}

static int g_quick;	/* -q: leave out the tests added with add_once() */

static int selected(const struct test *t, int argc, char **argv, int first)
{
	int i;

	if (g_quick && t->once)
		return 0;
	for (i = first; i < argc; i++)
		if (t->explicit ? !strcmp(t->name, argv[i]) :
		    !!strstr(t->name, argv[i]))
			return 1;
	return first >= argc && !t->explicit;
}

int main(int argc, char **argv)
{
	int start = 1, list = 0, opt, i, num, pass = 0, fail = 0, hogs = 0;
	int churn = 0, add = 0, reader = 0, nice19 = 0;
	long missed, m;
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "s:t:lqH:faR:n")) != -1) {
		switch (opt) {
		case 'H':
			hogs = atoi(optarg);
			break;
		case 'f':
			churn = 1;
			break;
		case 'n':
			nice19 = 1;
			break;
		case 'a':
			add = 1;
			break;
		case 'R':
			reader = atoi(optarg);
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
		case 'q':
			g_quick = 1;
			break;
		default:
			fprintf(stderr,
				"usage: %s [-s first] [-t stress_secs] [-l] [-q] [name...]\n"
				"       %s [-n] -H nthreads [-f]\n"
				"       %s -a PID...\n"
				"       %s [-n] -R secs\n",
				argv[0], argv[0], argv[0], argv[0]);
			return 2;
		}
	}
	/* -n: lowest priority (inherited by threads and children), so that
	 * load does not starve insmod/rmmod with one CPU left online.
	 */
	if (nice19 && setpriority(PRIO_PROCESS, 0, 19))
		perror("tracer_test: setpriority");
	if (hogs > 0)
		return hog(hogs, churn);
	if (add)
		return add_pids(argc, argv, optind);
	if (reader > 0)
		return proc_reader(reader);
	build_tests();
	if (list) {
		for (i = 0; i < ntests; i++)
			if (selected(&tests[i], argc, argv, optind))
				printf("%s\n", tests[i].name);
		return 0;
	}
	g_msg = mmap(NULL, MSG_MAX, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	g_shbuf = mmap(NULL, SHBUF_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (g_msg == MAP_FAILED || g_shbuf == MAP_FAILED)
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

		if (!selected(t, argc, argv, optind))
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
		if (now() - t0 > 4)
			diag("%s took %.1f s", t->name, now() - t0);
		num++;
	}
	printf("# tracer_test: %d passed, %d failed\n", pass, fail);
	return fail ? 1 : 0;
}
