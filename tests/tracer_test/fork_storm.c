// SPDX-License-Identifier: GPL-2.0
/*
 * fork_storm.c - thousands of short-lived followed processes, each of
 * which must come back as exactly one exit record with exact counts
 *
 * A followed, reported process P forks thousands of short-lived children;
 * each runs 0-2 extra threads, every thread does k down_interruptible()+up()
 * pairs (k from its PID), some fork a grandchild that does the same.  Every
 * one of them must come back as exactly one exit record with exactly those
 * up/down counts, while readers parse /proc/tracer in a loop and a control
 * process makes known requests whose sum its row must show exactly.
 */
#include "suite.h"

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

/* The spawner P (a worker, CMD_CALL): the storm of children. */
static int storm_run(void *arg)
{
	struct storm_params *sp = arg;
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

/* Reads every exit record into rec. */
struct storm_drain {
	struct bg *bg;
	int fd;
	struct tracer_record *rec;
	long n, cap;
};

static void *storm_drain(void *p)
{
	struct storm_drain *d = p;
	ssize_t r;

	while (!d->bg->stop) {
		if (d->n + 64 > d->cap) {
			struct tracer_record *nr = realloc(d->rec, 2 * d->cap *
							   sizeof(*nr));

			if (!nr) {
				bg_fail(d->bg, "out of memory for records");
				break;
			}
			d->rec = nr;
			d->cap *= 2;
		}
		r = read(d->fd, d->rec + d->n, 64 * REC_SIZE);
		if (r < 0 || r % REC_SIZE) {
			bg_fail(d->bg, "read of exit records returned %zd (%s)",
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

/*
 * Exactly one record per process, with exactly its counts (p: the
 * spawner); the events of the records (but bytes) added to *events.
 */
static int storm_records(struct storm_drain *dr, struct storm_params *sp,
			 pid_t p, long long *events)
{
	long long up = 0;
	char comm[16] = "";
	long i, bad = 0;
	int k;

	prctl(PR_GET_NAME, comm);
	qsort(dr->rec, dr->n, REC_SIZE, cmp_rec_pid);
	for (i = 0; i < dr->n; i++) {
		struct tracer_record *r = &dr->rec[i];
		long want = r->ppid == p ?
			    storm_k(r->pid) * (1 + storm_nthreads(r->pid)) :
			    storm_k(r->pid);

		CHECK(r->pid > 0 && (!i || r->pid != dr->rec[i - 1].pid),
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
				*events += r->count[k];
		up += r->count[C_UP - 1];
	}
	CHECK(!bad, "%ld records with wrong counts", bad);
	CHECK(up == sp->expect_up, "up in all records: %lld, the processes made %ld",
	      up, sp->expect_up);
	return 0;
}

TEST(fork_storm_follow, TT_STRESS_TIME)
{
	struct bg *s = calloc(1, sizeof(*s));
	struct storm_params *sp;
	struct storm_drain dr = { 0 };
	struct worker ctl, p;
	pthread_t rd, drt;
	struct proc_row a, b, dlt;
	struct expect e;
	long missed0, missed1, created, i, sem = 0, mtx = 0, km = 0;
	long long events = 0;
	double t0, end, secs;
	int kfd, j, nops = 0;
	pid_t left[2];

	CHECK(s, "calloc");
	bg_init(s);
	sp = mmap(NULL, sizeof(*sp), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(sp != MAP_FAILED, "mmap");
	kfd = kmsg_open();
	dr.bg = s;
	dr.cap = 4096;
	dr.rec = malloc(dr.cap * REC_SIZE);
	CHECK(dr.rec, "malloc");
	dr.fd = dev_open(DEV_PATH);
	if (dr.fd < 0)
		return -1;
	/* The control: warmed up and pinned (see counts.c). */
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
	CHECK(!pthread_create(&rd, NULL, bg_reader, s), "pthread_create");
	CHECK(!pthread_create(&drt, NULL, storm_drain, &dr), "pthread_create");
	if (row_need(ctl.pid, &a))
		return -1;
	secs = tt_stress_secs;
	t0 = now();
	sp->max_procs = 2000;
	sp->end = t0 + secs;
	sp->max_live = 8;
	p.sl[0]->call = storm_run;
	p.sl[0]->arg = (unsigned long)sp;
	slot_post(p.sl[0], CMD_CALL);
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
	if (storm_records(&dr, sp, p.pid, &events))
		return -1;
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
	left[0] = ctl.pid;
	left[1] = p.pid;
	if (table_is(left, 2, "the table after the storm"))
		return -1;
	worker_kill(&p);
	worker_kill(&ctl);
	close(dr.fd);
	free(dr.rec);
	return kmsg_check(kfd, "fork storm");
}
