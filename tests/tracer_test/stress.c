// SPDX-License-Identifier: GPL-2.0
/*
 * stress.c - processes forked, added (plain and EX), removed and exiting
 * at random while readers parse /proc/tracer, an adder adds and removes
 * them and a drain reads their exit records and replaces its file; a
 * control process must still count exactly
 */
#include "suite.h"

#define RING 64

struct stress {
	struct bg bg;		/* stop, the first error, table reads */
	int pids[RING];		/* the last processes forked */
	unsigned int head;
	long adds, removes, spawned, records, reopens;
	int exfd;		/* EX adds (follow + report) go to this file */
};

static void *stress_adder(void *p)
{
	struct stress *s = p;
	unsigned int seed = 12345;

	while (!s->bg.stop) {
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
			bg_fail(&s->bg, "%s of %d during stress: %s",
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

	while (!s->bg.stop) {
		r = read(s->exfd, rec, sizeof(rec));
		if (r < 0 || r % sizeof(rec[0])) {
			bg_fail(&s->bg, "read of exit records returned %zd (%s)", r,
				   r < 0 ? strerror(errno) : "partial record");
			break;
		}
		for (i = 0; i < r / sizeof(rec[0]); i++)
			if (rec[i].pid <= 0) {
				bg_fail(&s->bg, "exit record with pid %d",
					   rec[i].pid);
				break;
			}
		__atomic_add_fetch(&s->records, r / sizeof(rec[0]),
				   __ATOMIC_RELAXED);
		if (++loops % 200 == 0) {
			/* Drops the old file, with whatever it has queued. */
			int nfd = open(DEV_PATH, O_RDWR | O_CLOEXEC);

			if (nfd < 0 || dup2(nfd, s->exfd) < 0) {
				bg_fail(&s->bg, "reopen %s: %s", DEV_PATH,
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

TEST(stress, TT_STRESS_TIME)
{
	struct stress *s = calloc(1, sizeof(*s));
	pthread_t rd[2], ad, dr;
	struct worker ctl;
	double end;
	unsigned int seed = 777;
	int live = 0, i, st, secs;
	pid_t *all;
	long nall = 0, cap = 4096;

	CHECK(s, "calloc");
	all = malloc(cap * sizeof(*all));
	CHECK(all, "malloc");
	bg_init(&s->bg);
	if (worker_start(&ctl, 2))
		return -1;
	CHECK_ERR(tr_add(ctl.pid), 0, "add control");
	for (i = 0; i < 2; i++)
		CHECK(!pthread_create(&rd[i], NULL, bg_reader, &s->bg),
		      "pthread_create");
	CHECK(!pthread_create(&ad, NULL, stress_adder, s), "pthread_create");
	s->exfd = dev_open(DEV_PATH);
	if (s->exfd < 0)
		return -1;
	CHECK(!pthread_create(&dr, NULL, stress_drain, s), "pthread_create");
	/* The fork storm churns processes too: this one is shorter. */
	secs = (2 * tt_stress_secs + 2) / 3;
	end = now() + secs;
	while (!s->bg.stop && now() < end) {
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
			bg_fail(&s->bg, "fork: %s", strerror(errno));
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
				bg_fail(&s->bg, "add of child %d: %s", pid,
					errname(err));
				break;
			}
		}
		/* The control process keeps working in the middle of it. */
		if (s->spawned % 16 == 0)
			slot_op(ctl.sl[1], TTH_OP_KMALLOC_VAR, 10, 10, 0);
	}
	s->bg.stop = 1;
	for (i = 0; i < 2; i++)
		pthread_join(rd[i], NULL);
	pthread_join(ad, NULL);
	pthread_join(dr, NULL);
	for (i = 0; i < nall; i++)
		while (waitpid(all[i], &st, 0) < 0 && errno == EINTR)
			;
	diag("stress: %ld processes, %ld table reads, %ld adds, %ld removes, %ld exit records, %ld reopens in %d s",
	     s->spawned, s->bg.reads, s->adds, s->removes, s->records, s->reopens,
	     secs);
	CHECK(!s->bg.err[0], "%s", s->bg.err);
	/* Proof that it ran at all; how much depends on the machine (TCG, shared cores). */
	CHECK(s->spawned >= 5 && s->bg.reads >= 5, "stress did too little");
	/* The control worker was reaped above only if it died. */
	CHECK(task_state(ctl.pid, ctl.pid) != 0, "control worker died");
	/* Every stress process, child or grandchild, has exited. */
	if (table_is(&ctl.pid, 1, "after the stress"))
		return -1;
	close(s->exfd);
	if (counts_exactly(&ctl, "control process after stress"))
		return -1;
	worker_kill(&ctl);
	free(all);
	return 0;
}
