// SPDX-License-Identifier: GPL-2.0
/*
 * benchw - the workloads and tools of `make bench` (runs in the guest)
 *
 *   benchw kmalloc|mutex|sema N [-m]  N kmalloc+kfree / mutex lock+unlock /
 *                                     down+up pairs in the kernel, through
 *                                     the test helper (/dev/tracer_helper);
 *                                     the best of 3 timed runs
 *   benchw file N [-m]                N x (create, writev, close, open,
 *                                     fstat, readv, close, unlink) of a small
 *                                     tmpfs file, 16 iovecs of 32 bytes
 *   benchw pipe N [-m]                N round trips of one byte between two
 *                                     processes over two pipes
 *   benchw futex N [-m]               4 threads pass a token round a ring
 *                                     N times (FUTEX_WAKE + FUTEX_WAIT)
 *   benchw sleepers N FILE            fork N children that pause(); write
 *                                     their PIDs to FILE, then pause()
 *   benchw add FILE FROM TO           TRACER_ADD_PROCESS the PIDs of lines
 *                                     FROM..TO-1 of FILE
 *   benchw procread R                 read /proc/tracer R times
 *
 * A workload runs SCHED_FIFO, a warm-up (N/8), then the timed N operations,
 * and prints
 *   ns_op=<CLOCK_MONOTONIC ns per operation> n=N [ev_<col>=<delta> ...]
 * With -m it first adds itself (and a pipe partner) to /dev/tracer and
 * reports the change of its /proc/tracer row(s) over the timed part; -M
 * adds without reading /proc/tracer (which takes long with many rows).
 *
 * Static, libc only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tracer.h"
#include "tracer_test_helper.h"

#define NCOL TRACER_NR_COLUMNS
#define NTHREADS 4
#define KERN_REPEAT 3
/* More iovecs than UIO_FASTIOV (8): the kernel kmallocs its copy of them. */
#define FILE_IOV 16
#define FILE_IOV_LEN 32

static const char *const col_names[NCOL] = {
	"kmalloc", "kfree", "kmalloc_mem", "kfree_mem", "sched",
	"up", "down", "lock", "unlock",
};

static void die(const char *what)
{
	fprintf(stderr, "benchw: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* --- /dev/tracer and /proc/tracer ------------------------------------------ */

static int tracer_fd = -1;

static int tracer_add(pid_t pid)
{
	if (tracer_fd < 0) {
		tracer_fd = open("/dev/tracer", O_RDONLY | O_CLOEXEC);
		if (tracer_fd < 0)
			die("open /dev/tracer");
	}
	return ioctl(tracer_fd, TRACER_ADD_PROCESS, pid) ? -errno : 0;
}

/* Read all of /proc/tracer into buf (grown as needed); returns its length. */
static size_t proc_read(char **buf, size_t *cap)
{
	size_t len = 0;
	ssize_t r;
	int fd = open("/proc/tracer", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die("open /proc/tracer");
	for (;;) {
		if (*cap - len < 65536) {
			*cap = *cap ? *cap * 2 : 1 << 20;
			*buf = realloc(*buf, *cap);
			if (!*buf)
				die("realloc");
		}
		r = read(fd, *buf + len, *cap - len - 1);
		if (r < 0)
			die("read /proc/tracer");
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	(*buf)[len] = '\0';
	return len;
}

/* Add the counters of the rows of pids[0..n-1] to sum. */
static void proc_rows(const pid_t *pids, int n, uint64_t sum[NCOL])
{
	static char *buf;
	static size_t cap;
	char *line, *save = NULL;
	int i, j;

	memset(sum, 0, NCOL * sizeof(sum[0]));
	proc_read(&buf, &cap);
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		unsigned long long v[NCOL];
		int pid;

		if (sscanf(line, "%d %llu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &pid, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
			   &v[6], &v[7], &v[8]) != NCOL + 1)
			continue;
		for (i = 0; i < n; i++) {
			if (pids[i] != pid)
				continue;
			for (j = 0; j < NCOL; j++)
				sum[j] += v[j];
		}
	}
}

/* --- reporting --------------------------------------------------------------- */

struct run {
	int monitor;		/* 0, 1 (-m) or 2 (-M: no /proc/tracer rows) */
	pid_t pids[2];		/* monitored processes of the workload */
	int npids;
	uint64_t ev0[NCOL], ev1[NCOL];
	uint64_t t0, t1;
};

static void run_start(struct run *r)
{
	if (r->monitor == 1)
		proc_rows(r->pids, r->npids, r->ev0);
	r->t0 = now_ns();
}

static void run_stop(struct run *r)
{
	r->t1 = now_ns();
	if (r->monitor == 1)
		proc_rows(r->pids, r->npids, r->ev1);
}

static void run_report(const struct run *r, unsigned long n)
{
	int j;

	printf("ns_op=%.2f n=%lu", (double)(r->t1 - r->t0) / (double)n, n);
	if (r->monitor == 1)
		for (j = 0; j < NCOL; j++)
			printf(" ev_%s=%llu", col_names[j],
			       (unsigned long long)(r->ev1[j] - r->ev0[j]));
	printf("\n");
	fflush(stdout);
}

static void monitor_self(struct run *r)
{
	int e;

	r->pids[r->npids++] = getpid();
	if (!r->monitor)
		return;
	e = tracer_add(getpid());
	if (e) {
		errno = -e;
		die("TRACER_ADD_PROCESS self");
	}
}

/* --- kernel-side loops (test helper) ------------------------------------------- */

static void helper_run(int fd, unsigned int op, unsigned long n)
{
	struct tth_req req = { .op = op, .n = n, .size = TTH_CONST_SIZE };

	if (ioctl(fd, TTH_IOC_RUN, &req))
		die("TTH_IOC_RUN");
}

static int wl_kern(unsigned int op, unsigned long n, int monitor)
{
	struct run r = { .monitor = monitor }, best;
	int i;
	int fd = open("/dev/" TTH_DEV_NAME, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die("open /dev/" TTH_DEV_NAME);
	monitor_self(&r);
	helper_run(fd, op, n / 8 + 1);
	/*
	 * Best of KERN_REPEAT: the slab allocator's per-CPU state puts a
	 * whole run of kmalloc+kfree batches in one of a few modes (up to
	 * +20%), whatever is hooked; the fastest run is the one to compare.
	 */
	for (i = 0; i < KERN_REPEAT; i++) {
		run_start(&r);
		helper_run(fd, op, n);
		run_stop(&r);
		if (!i || r.t1 - r.t0 < best.t1 - best.t0)
			best = r;
	}
	run_report(&best, n);
	close(fd);
	return 0;
}

/* --- small files on tmpfs ------------------------------------------------------- */

static void file_loop(const char *dir, unsigned long n)
{
	char path[256], data[FILE_IOV][FILE_IOV_LEN];
	struct iovec iov[FILE_IOV];
	struct stat st;
	unsigned long i;
	int fd, j;

	memset(data, 'x', sizeof(data));
	for (j = 0; j < FILE_IOV; j++) {
		iov[j].iov_base = data[j];
		iov[j].iov_len = FILE_IOV_LEN;
	}
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/f%lu", dir, i & 63);
		fd = open(path, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0)
			die("create");
		if (writev(fd, iov, FILE_IOV) != (ssize_t)sizeof(data))
			die("writev");
		close(fd);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			die("open");
		if (fstat(fd, &st))
			die("fstat");
		if (readv(fd, iov, FILE_IOV) != (ssize_t)sizeof(data))
			die("readv");
		close(fd);
		if (unlink(path))
			die("unlink");
	}
}

static int wl_file(unsigned long n, int monitor)
{
	struct run r = { .monitor = monitor };
	char dir[64];

	snprintf(dir, sizeof(dir), "/tmp/benchw.%d", (int)getpid());
	if (mkdir(dir, 0700))
		die("mkdir");
	monitor_self(&r);
	file_loop(dir, n / 8 + 1);
	run_start(&r);
	file_loop(dir, n);
	run_stop(&r);
	rmdir(dir);
	run_report(&r, n);
	return 0;
}

/* --- pipe ping-pong ---------------------------------------------------------------- */

static void xwrite(int fd, char c)
{
	if (write(fd, &c, 1) != 1)
		die("pipe write");
}

static char xread(int fd)
{
	char c;

	if (read(fd, &c, 1) != 1)
		die("pipe read");
	return c;
}

static int wl_pipe(unsigned long n, int monitor)
{
	struct run r = { .monitor = monitor };
	int ab[2], ba[2], status;
	unsigned long i, warm = n / 8 + 1;
	pid_t child;

	if (pipe(ab) || pipe(ba))
		die("pipe");
	monitor_self(&r);
	child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		close(ab[1]);
		close(ba[0]);
		/* echo every byte back until 'q' */
		for (;;) {
			char c = xread(ab[0]);

			xwrite(ba[1], c);
			if (c == 'q')
				_exit(0);
		}
	}
	close(ab[0]);
	close(ba[1]);
	r.pids[r.npids++] = child;
	if (monitor && tracer_add(child))
		die("TRACER_ADD_PROCESS child");
	for (i = 0; i < warm; i++) {
		xwrite(ab[1], 'w');
		xread(ba[0]);
	}
	run_start(&r);
	for (i = 0; i < n; i++) {
		xwrite(ab[1], 'p');
		xread(ba[0]);
	}
	run_stop(&r);
	xwrite(ab[1], 'q');
	xread(ba[0]);
	waitpid(child, &status, 0);
	run_report(&r, n);
	return 0;
}

/* --- futex token ring ------------------------------------------------------------------ */

/*
 * NTHREADS threads pass a token round a ring: thread i waits (FUTEX_WAIT) on
 * its own word until it holds the token, then hands it to thread i + 1
 * (FUTEX_WAKE).  One operation = one hand-over: a wake, a wait, a switch.
 */
static unsigned int futex_word[NTHREADS] __attribute__((aligned(64)));
static unsigned long futex_passes;

static long sys_futex(unsigned int *uaddr, int op, unsigned int val)
{
	return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

static void *futex_thread(void *arg)
{
	int i = (int)(long)arg, next = (i + 1) % NTHREADS;
	unsigned long k;

	for (k = 0; k < futex_passes; k++) {
		while (!__atomic_load_n(&futex_word[i], __ATOMIC_ACQUIRE))
			sys_futex(&futex_word[i], FUTEX_WAIT_PRIVATE, 0);
		__atomic_store_n(&futex_word[i], 0, __ATOMIC_RELAXED);
		__atomic_store_n(&futex_word[next], 1, __ATOMIC_RELEASE);
		sys_futex(&futex_word[next], FUTEX_WAKE_PRIVATE, 1);
	}
	return NULL;
}

/* n hand-overs in all; timed (r != NULL) from the first to the last */
static void futex_ring(unsigned long n, struct run *r)
{
	pthread_t th[NTHREADS];
	int i;

	futex_passes = n / NTHREADS;
	memset(futex_word, 0, sizeof(futex_word));
	for (i = 0; i < NTHREADS; i++)
		if (pthread_create(&th[i], NULL, futex_thread, (void *)(long)i))
			die("pthread_create");
	usleep(10000);	/* all threads waiting on their word */
	if (r)
		run_start(r);
	__atomic_store_n(&futex_word[0], 1, __ATOMIC_RELEASE);
	sys_futex(&futex_word[0], FUTEX_WAKE_PRIVATE, 1);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(th[i], NULL);
	if (r)
		run_stop(r);
}

static int wl_futex(unsigned long n, int monitor)
{
	struct run r = { .monitor = monitor };

	n -= n % NTHREADS;
	monitor_self(&r);
	futex_ring(n / 8 + NTHREADS, NULL);
	futex_ring(n, &r);
	run_report(&r, n);
	return 0;
}

/* --- sleepers, adding, /proc/tracer reads ------------------------------------------------ */

static __attribute__((noreturn)) void sleepers(unsigned long n,
					       const char *file)
{
	char tmp[256];
	unsigned long i;
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", file);
	f = fopen(tmp, "w");
	if (!f)
		die("fopen");
	for (i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			for (;;)
				pause();
		}
		fprintf(f, "%d\n", (int)pid);
	}
	if (fclose(f) || rename(tmp, file))
		die("write pid file");
	for (;;)
		pause();
}

static int add_range(const char *file, long from, long to)
{
	long line = 0, added = 0, failed = 0;
	uint64_t t0;
	FILE *f = fopen(file, "r");
	int pid, e;

	if (!f)
		die("fopen pid file");
	t0 = now_ns();
	while (line < to && fscanf(f, "%d", &pid) == 1) {
		if (line++ < from)
			continue;
		e = tracer_add(pid);
		if (e) {
			if (!failed)
				fprintf(stderr, "benchw: add %d: %s\n", pid,
					strerror(-e));
			failed++;
		} else {
			added++;
		}
	}
	fclose(f);
	printf("added=%ld failed=%ld ns_add=%.0f\n", added, failed,
	       added ? (double)(now_ns() - t0) / (double)added : 0.0);
	return failed ? 1 : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int procread(int reps)
{
	uint64_t *t = calloc((size_t)reps, sizeof(*t));
	char *buf = NULL;
	size_t cap = 0, len = 0;
	long rows = 0;
	int i;

	if (!t || reps < 1)
		die("procread");
	proc_read(&buf, &cap);	/* warm-up, and the buffer */
	for (i = 0; i < reps; i++) {
		uint64_t t0 = now_ns();

		len = proc_read(&buf, &cap);
		t[i] = now_ns() - t0;
	}
	for (i = 0; i < (int)len; i++)
		rows += buf[i] == '\n';
	qsort(t, (size_t)reps, sizeof(*t), cmp_u64);
	printf("rows=%ld bytes=%zu ns_min=%llu ns_med=%llu ns_max=%llu\n",
	       rows - 1, len, (unsigned long long)t[0],
	       (unsigned long long)t[reps / 2],
	       (unsigned long long)t[reps - 1]);
	return 0;
}

/*
 * The workloads run SCHED_FIFO (threads and children inherit it): a woken
 * task never preempts its waker, so a ping-pong always takes the same path
 * (on one CPU, CFS's wake-up preemption flips with tiny timing changes and
 * with it the number of context switches and lock round trips per
 * operation), and nothing else runs inside a timed loop.
 */
static void fifo(void)
{
	struct sched_param sp = { .sched_priority = 1 };

	if (sched_setscheduler(0, SCHED_FIFO, &sp))
		die("sched_setscheduler SCHED_FIFO");
}

static void usage(void)
{
	fprintf(stderr,
		"usage: benchw kmalloc|mutex|sema|file|pipe|futex N [-m|-M]\n"
		"       benchw sleepers N FILE | add FILE FROM TO | procread R\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *cmd;
	unsigned long n;
	int monitor;

	if (argc < 3)
		usage();
	cmd = argv[1];
	n = strtoul(argv[2], NULL, 0);
	monitor = argc > 3 && !strcmp(argv[3], "-m") ? 1 :
		  argc > 3 && !strcmp(argv[3], "-M") ? 2 : 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 3 && !monitor && strcmp(cmd, "sleepers") &&
	    strcmp(cmd, "add"))
		usage();
	if (strcmp(cmd, "sleepers") && strcmp(cmd, "add") &&
	    strcmp(cmd, "procread"))
		fifo();

	if (!strcmp(cmd, "kmalloc"))
		return wl_kern(TTH_OP_KMALLOC_CONST, n, monitor);
	if (!strcmp(cmd, "mutex"))
		return wl_kern(TTH_OP_MUTEX, n, monitor);
	if (!strcmp(cmd, "sema"))
		return wl_kern(TTH_OP_SEMA, n, monitor);
	if (!strcmp(cmd, "file"))
		return wl_file(n, monitor);
	if (!strcmp(cmd, "pipe"))
		return wl_pipe(n, monitor);
	if (!strcmp(cmd, "futex"))
		return wl_futex(n, monitor);
	if (!strcmp(cmd, "sleepers") && argc == 4)
		sleepers(n, argv[3]);
	if (!strcmp(cmd, "add") && argc == 5)
		return add_range(argv[2], strtol(argv[3], NULL, 0),
				 strtol(argv[4], NULL, 0));
	if (!strcmp(cmd, "procread"))
		return procread((int)n);
	usage();
	return 2;
}
