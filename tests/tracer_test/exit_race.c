// SPDX-License-Identifier: GPL-2.0
/*
 * exit_race.c - add and remove racing with the exit of the same process:
 * every result must fit the process's state as the requests saw it, a
 * record comes for every process that exited while added with
 * REPORT_EXIT, and nothing is left
 */
#include "suite.h"

struct race_stats {
	long iters, adds[4], removes[4], records_expected;
};

static int race_idx(int e)
{
	return e == 0 ? 0 : e == ESRCH ? 1 : e == EEXIST ? 2 : 3;
}

TEST(exit_race_add_remove, TT_STRESS_TIME)
{
	struct race_stats rs = { 0 };
	uint64_t seed = 0x1234567 ^ (uint64_t)getpid();
	struct tracer_record rec[64];
	double end;
	long nrec = 0, maxit = 3000, secs;
	int fd, kfd;
	ssize_t r;

	if (table_none("before the race"))
		return -1;
	kfd = kmsg_open();
	fd = dev_open(DEV_PATH);
	if (fd < 0)
		return -1;
	secs = tt_stress_secs / 2 > 2 ? tt_stress_secs / 2 : 2;
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
