// SPDX-License-Identifier: GPL-2.0
/*
 * races.c - adding a process while its last thread exits: the row either
 * never appears (ESRCH) or leaves with the process, never stays behind
 *
 * The window is widened with the debug build's race_delay: the add waits
 * at "add_link" (the group seen alive, the table's lock held) while the
 * process exits on the other CPU.
 */
#include <sched.h>

#include "suite.h"

#define RACE_ROUNDS	3
#define RACE_MS		300

struct killer {
	pid_t pid;
	int after_ms;
	volatile int ready;
};

/*
 * Kill the target from the other CPU while the add waits: on CPU 1 before
 * the add starts (the add holds CPU 0 with preemption off).
 */
static void *killer(void *arg)
{
	struct killer *k = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(1, &set);
	sched_setaffinity(0, sizeof(set), &set);
	while (sched_getcpu() != 1)
		sched_yield();
	k->ready = 1;
	msleep(k->after_ms);
	kill(k->pid, SIGKILL);
	return NULL;
}

static int add_racing_exit_once(int round)
{
	struct killer k = { .after_ms = 50 };
	pthread_t t;
	pid_t pid;
	int err;

	fflush(stdout);
	pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
	if (pin(pid, 1))
		return -1;
	k.pid = pid;
	CHECK(!pthread_create(&t, NULL, killer, &k), "pthread_create");
	while (!k.ready)
		sched_yield();
	err = tr_add(pid);
	pthread_join(t, NULL);
	if (reap(pid))
		return -1;
	CHECK(err == 0 || err == ESRCH, "round %d: add racing the exit: %s",
	      round, errname(err));
	if (row_absent(pid))
		return -1;
	CHECK(param_long("monitored") == 0,
	      "round %d: add %s, process reaped, but monitored is %ld (a row that never leaves)",
	      round, errname(err), param_long("monitored"));
	return 0;
}

/*
 * Nothing monitored: the exit hook of the last thread may not take the
 * lock at all.  The add must publish itself before it looks whether the
 * group lives, or its row outlives the process.
 */
TEST(add_racing_last_exit, 60)
{
	cpu_set_t set;
	int i, ret = 0;

	if (access(RACE_DELAY_PATH, F_OK))
		SKIP("no %s: not the debug build", RACE_DELAY_PATH);
	CHECK(param_long("monitored") == 0, "%ld processes monitored already",
	      param_long("monitored"));
	CHECK(sysconf(_SC_NPROCESSORS_ONLN) >= 2, "needs 2 CPUs online");
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	CHECK(!sched_setaffinity(0, sizeof(set), &set), "sched_setaffinity");
	if (race_delay("add_link", RACE_MS))
		return -1;
	for (i = 0; i < RACE_ROUNDS && !ret; i++)
		ret = add_racing_exit_once(i + 1);
	if (race_delay("add_link", 0))
		return -1;
	return ret;
}
