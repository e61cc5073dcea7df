// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz.c - an ioctl and read(2) fuzzer of /dev/tracer with an errno oracle
 *
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
#include "suite.h"

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
	pthread_barrier_t start;
	pid_t unctl[FZ_UNCTL_MAX];	/* uncontrolled PIDs added */
	int nunctl;
	struct bg bg;		/* lock, stop, the first error */
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

	pthread_mutex_lock(&sh->bg.lock);
	if (sh->nunctl < FZ_UNCTL_MAX)
		sh->unctl[sh->nunctl++] = (pid_t)(unsigned int)v;
	pthread_mutex_unlock(&sh->bg.lock);
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
			bg_fail(&ft->sh->bg, "read(%p, %zu) of a kernel address: %zd (%s), expected EFAULT",
				(void *)buf, len, r, r < 0 ? strerror(errno) : "data");
		return;
	}
	if (len < REC_SIZE) {
		if (!(r < 0 && errno == EINVAL))
			bg_fail(&ft->sh->bg, "read(%p, %zu): %zd (%s), expected EINVAL",
				(void *)buf, len, r, r < 0 ? strerror(errno) : "data");
		return;
	}
	if (r < 0 ? errno != EFAULT : r % REC_SIZE != 0)
		bg_fail(&ft->sh->bg, "read(%p, %zu): %zd (%s), expected 0, whole records or EFAULT",
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
				44, 41, 47, 0, 255 };

			nr = nrs[(x >> 2) % ARRAY_SIZE(nrs)];
			type = (x >> 8) % 3 == 0 ? (x >> 16) & 0xff : 1;
			dir = (x >> 24) & 3;
			size = (x >> 26) % 3 == 0 ? (x >> 32) & 0x3fff :
			       (unsigned int[]){ 0, 4, 8, 2, 16 }[(x >> 28) % 5];
			cmd = _IOC(dir, type, nr, size);
		}
	} while (fz_vfs_cmd(cmd) || cmd == TRACER_ADD_PROCESS ||
		 cmd == TRACER_REMOVE_PROCESS || cmd == TRACER_ADD_PROCESS_EX ||
		 cmd == TRACER_ADD_CGROUP || cmd == TRACER_REMOVE_CGROUP);
	/* Sometimes garbage in the upper half: the kernel drops it. */
	return (x >> 60) == 0 ? cmd | (x & 0xffffffff00000000ULL) : cmd;
}

static void *fz_main(void *arg)
{
	struct fz_thread *ft = arg;
	struct fz_shared *sh = ft->sh;

	/* Its TID is the test process's: thread 0 controls that. */
	pthread_mutex_lock(&sh->bg.lock);
	sh->ctl[sh->nctl++] = gettid();
	sh->self->ids[sh->self->nids++] = gettid();
	pthread_mutex_unlock(&sh->bg.lock);
	pthread_barrier_wait(&sh->start);
	while (!sh->bg.stop) {
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
				bg_fail(&ft->sh->bg, "%s(0x%lx) (%s PID): %s", what, v,
					fz_kind_name(k), errname(e));
			if (add && !e)
				fz_note_unctl(ft, (unsigned int)req ==
					      TRACER_ADD_PROCESS ? v :
					      (unsigned int)((struct tracer_add *)v)->pid);
			continue;
		}
		if (e != want) {
			bg_fail(&ft->sh->bg, "request 0x%lx (%s) arg 0x%lx (%s PID): expected %s, got %s",
				req, what, v, fz_kind_name(k), errname(want),
				errname(e));
			break;
		}
		if (!e && t)
			t->monitored = (unsigned int)req != TRACER_REMOVE_PROCESS;
	}
	return NULL;
}

/*
 * The fuzzer's world: its pages (one read-only of struct tracer_add, an
 * unmapped one, per thread a read-write one followed by a PROT_NONE one),
 * a zombie and dead PIDs, and per thread a file and FZ_WORKERS workers of
 * 2 threads each (thread 0 also controls the test process itself).
 */
static int fz_setup(struct fz_shared *sh, struct fz_thread *ft,
		    struct worker *w)
{
	long pg = sysconf(_SC_PAGESIZE), i, j;
	char *m;

	bg_init(&sh->bg);
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
	sh->ctl[sh->nctl++] = getpid();
	for (i = 0; i < FZ_THREADS; i++) {
		memset(&ft[i], 0, sizeof(ft[i]));
		ft[i].sh = sh;
		ft[i].seed = 0x9e3779b97f4a7c15ULL * (i + 1) ^ (uint64_t)getpid();
		ft[i].rw = m + (1 + 2 * i) * pg;
		ft[i].none = ft[i].rw + pg;
		CHECK(!mprotect(ft[i].none, pg, PROT_NONE), "mprotect");
		ft[i].fd = dev_open(DEV_PATH);
		if (ft[i].fd < 0)
			return -1;
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
	return 0;
}

/* Remove what it added: exactly the monitored controlled ones. */
static int fz_cleanup(struct fz_shared *sh, struct fz_thread *ft)
{
	int i, j, e;

	for (i = 0; i < FZ_THREADS; i++)
		for (j = 0; j < ft[i].nt; j++) {
			struct fz_target *t = &ft[i].t[j];

			CHECK_ERR(tr_remove(t->tgid), t->monitored ? 0 : ENOENT,
				  "cleanup remove of %s %d",
				  t->monitored ? "monitored" : "unmonitored",
				  t->tgid);
		}
	for (i = 0; i < sh->nunctl; i++) {
		e = tr_remove(sh->unctl[i]);
		CHECK(!e || e == ENOENT || e == ESRCH,
		      "cleanup remove of %d: %s", sh->unctl[i], errname(e));
	}
	for (i = 0; i < FZ_THREADS; i++)
		close(ft[i].fd);
	return table_none("after the fuzzer removed what it added");
}

TEST_ONCE(ioctl_fuzz, TT_STRESS_TIME)
{
	struct fz_shared *sh = calloc(1, sizeof(*sh));
	struct fz_thread ft[FZ_THREADS];
	struct worker w[FZ_THREADS * FZ_WORKERS], cw;
	long calls = 0, reads = 0, records = 0;
	long hist[FZ_NERR] = { 0 }, secs, i, j;
	char hbuf[512];
	size_t o = 0;
	int kfd;
	double t0;

	CHECK(sh, "calloc");
	if (table_none("before the fuzzer"))
		return -1;
	kfd = kmsg_open();
	if (fz_setup(sh, ft, w))
		return -1;
	for (i = 0; i < FZ_THREADS; i++)
		CHECK(!pthread_create(&ft[i].th, NULL, fz_main, &ft[i]),
		      "pthread_create");
	secs = tt_stress_secs / 2 > 2 ? tt_stress_secs / 2 : 2;
	t0 = now();
	pthread_barrier_wait(&sh->start);
	while (!sh->bg.stop && now() < t0 + secs)
		msleep(50);
	sh->bg.stop = 1;
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
	CHECK(!sh->bg.err[0], "%s", sh->bg.err);
	CHECK(calls >= 1000, "only %ld calls", calls);
	if (fz_cleanup(sh, ft))
		return -1;
	CHECK(param_long("monitored") == 0, "monitored = %ld after the fuzz",
	      param_long("monitored"));
	if (reap(sh->zombie) || kmsg_check(kfd, "fuzz"))
		return -1;
	/* The module still counts exactly. */
	if (worker_start(&cw, 1))
		return -1;
	CHECK_ERR(tr_add(cw.pid), 0, "add after the fuzz");
	if (counts_exactly(&cw, "after the fuzz"))
		return -1;
	worker_kill(&cw);
	return 0;
}
