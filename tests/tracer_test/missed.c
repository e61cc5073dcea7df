// SPDX-License-Identifier: GPL-2.0
/*
 * missed.c - the missed counter counts monitored processes' events only
 *
 * With source=kprobe a kmalloc call needs a free kretprobe instance for its
 * return to be seen.  The kprobe core counts every call that found none,
 * whoever made it; tracer.ko's missed parameter must count only those of
 * monitored processes (and still count such a call as a call).
 */
#include <sched.h>

#include "suite.h"

#define MISS_N		20000	/* kmalloc calls per measured request */
#define MISS_SIZE	128
#define MISS_OTHER_SIZE	2048	/* the other kmalloc cache: no shared slabs */
#define MISS_ROUNDS	20

struct hammer {
	volatile int stop;
	long requests;
	int err;
};

/*
 * An unmonitored thread of the test process on CPU 1: kmalloc + kfree
 * through the same entry point as the worker's requests, without a pause.
 */
static void *hammer_run(void *arg)
{
	struct hammer *h = arg;
	struct tth_req r = {
		.op = TTH_OP_KMALLOC_VAR, .n = 2000, .size = MISS_OTHER_SIZE,
	};
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(1, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		h->err = errno;
		return NULL;
	}
	while (!h->stop) {
		if (ioctl(g_hfd, TTH_IOC_RUN, &r)) {
			h->err = errno;
			break;
		}
		h->requests++;
	}
	return NULL;
}

static int source_is_kprobe(void)
{
	char buf[32] = "";
	int fd = open(PARAM_DIR "source", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	close(fd);
	return !strcmp(buf, "kprobe\n");
}

static int missed_round(struct worker *w, long long *missed,
			long long *instances)
{
	long m0 = param_long("missed"), i0 = param_long("instances_missed");
	long m1, i1;
	struct proc_row d;
	struct expect e;

	CHECK(m0 >= 0 && i0 >= 0, "no missed or instances_missed parameter");
	if (measure(w->pid, w->sl[0], TTH_OP_KMALLOC_VAR, MISS_N, MISS_SIZE, 0,
		    &d))
		return -1;
	m1 = param_long("missed");
	i1 = param_long("instances_missed");
	*missed = m1 - m0;
	*instances = i1 - i0;
	diag("%d calls: missed +%lld, instances_missed +%lld", MISS_N, *missed,
	     *instances);
	/* Every call counts; the bytes of the calls that missed cannot. */
	expect_zero(&e);
	e.v[C_KMALLOC] = MISS_N;
	e.v[C_KFREE] = MISS_N;
	e.v[C_KMALLOC_MEM] = (MISS_N - *missed) * MISS_SIZE;
	e.v[C_KFREE_MEM] = (MISS_N - *missed) * MISS_SIZE;
	if (check_delta("calls while the instance was contended", &d, &e))
		return -1;
	CHECK(*missed <= *instances,
	      "missed +%lld, but only %lld calls found no instance", *missed,
	      *instances);
	return 0;
}

/*
 * run.sh loads the module with source=kprobe maxactive=1: one instance per
 * entry point.  A monitored worker on CPU 0 and an unmonitored thread on
 * CPU 1 allocate through the same entry point; now and then each finds the
 * instance taken by the other.  Rounds go on until both kinds of misses
 * were seen: instances_missed grew by more than missed, and missed by some.
 */
TEST_EXPLICIT(kretprobe_missed_monitored_only, 300)
{
	struct hammer h = { 0 };
	long long missed = 0, instances = 0, m, i;
	struct worker w;
	pthread_t t;
	int round, ret = -1;

	if (!source_is_kprobe() || param_long("maxactive") != 1)
		SKIP("needs the module loaded with source=kprobe maxactive=1");
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP("one CPU online");
	if (worker_start(&w, 1))
		return -1;
	if (pin(w.pid, 0) || tr_add(w.pid) ||
	    slot_op(w.sl[0], TTH_OP_KMALLOC_VAR, 1000, MISS_SIZE, 0))
		goto out;
	if (pthread_create(&t, NULL, hammer_run, &h)) {
		failf("pthread_create failed");
		goto out;
	}
	for (round = 0; round < MISS_ROUNDS; round++) {
		if (missed_round(&w, &m, &i))
			break;
		missed += m;
		instances += i;
		if (missed > 0 && instances > missed + 100) {
			ret = 0;
			break;
		}
	}
	h.stop = 1;
	pthread_join(t, NULL);
	if (h.err) {
		failf("unmonitored thread: %s", strerror(h.err));
		ret = -1;
	} else if (round == MISS_ROUNDS) {
		failf("%d rounds: missed +%lld, instances_missed +%lld (%ld unmonitored requests): both kinds of misses never seen",
		      MISS_ROUNDS, missed, instances, h.requests);
	}
	diag("in all: missed +%lld of the monitored calls, %lld calls found no instance",
	     missed, instances);
out:
	worker_kill(&w);
	return ret;
}
