// SPDX-License-Identifier: GPL-2.0
/*
 * kfree_mem.c - who a kfree()'s bytes are charged to: blocks kept by the
 * helper (TTH_OP_KEEP) and freed later, by the same process, another one,
 * in softirq context, by kfree_rcu(); no size may outlive its block
 */

#include "suite.h"

#define KEEP_N 500

TEST(kfree_mem_same_process, 60)
{
	struct worker p;

	if (keep_workers(&p, NULL) || keep_warm(&p, KEEP_N, 100))
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
TEST(kfree_mem_other_process, 60)
{
	struct worker p, q;
	struct proc_row a;
	struct expect e;

	if (keep_workers(&p, &q, NULL))
		return -1;
	if (keep(&p, 300, 100) || keep(&p, 200, 5000) || keep(&p, 50, 30000) ||
	    release(&q, 550, 0))
		return -1;
	CHECK_ERR(tr_add(p.pid), 0, "add P");
	CHECK_ERR(tr_add(q.pid), 0, "add Q");
	if (keep_measured(&p, 300, 100) || keep_measured(&p, 200, 5000) ||
	    keep_measured(&p, 50, 30000))
		return -1;
	expect_zero(&e);
	if (row_need(p.pid, &a) ||
	    release_measured(&q, 550, 550, 300 * 100LL + 200 * 5000LL +
			     50 * 30000LL, "release of P's blocks by Q") ||
	    check_since(p.pid, &a, &e, "P while Q frees its blocks"))
		return -1;
	worker_kill(&p);
	worker_kill(&q);
	return 0;
}

/* kmalloc(0) kept by P: counted, 0 bytes; Q's kfree(ZERO_SIZE_PTR): not. */
TEST(kmalloc_zero_kept_freed_by_other, 60)
{
	struct worker p, q;

	if (keep_workers(&p, &q, NULL))
		return -1;
	CHECK_ERR(tr_add(p.pid), 0, "add P");
	CHECK_ERR(tr_add(q.pid), 0, "add Q");
	if (keep_measured(&p, 10, 0))
		return -1;
	return release_measured(&q, 10, 0, 0,
				"Q frees P's ZERO_SIZE_PTR blocks");
}

/* Blocks of an unmonitored process: kfree counted, 0 bytes. */
TEST(kfree_mem_unmonitored_alloc, 60)
{
	struct worker u, q;

	if (keep_workers(&u, &q, NULL))
		return -1;
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
TEST(kfree_mem_alloc_before_add, 60)
{
	struct worker p;

	if (keep_workers(&p, NULL) || keep_warm(&p, KEEP_N, 100))
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
	struct worker p, u, q;
	struct proc_row a;
	struct expect e;

	if (keep_workers(&p, &u, &q, NULL))
		return -1;
	if (keep_warm(&p, KEEP_N, 96) || keep(&u, KEEP_N, 96) ||
	    release(&q, KEEP_N, 0))
		return -1;
	CHECK_ERR(tr_add(p.pid), 0, "add P");
	CHECK_ERR(tr_add(q.pid), 0, "add Q");
	if (keep_measured(&p, KEEP_N, 96))
		return -1;
	if (softirq) {
		expect_zero(&e);
		if (row_need(p.pid, &a) || release(&p, KEEP_N, 1) ||
		    check_since(p.pid, &a, &e, "P's kfree in softirq context"))
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

TEST(kfree_mem_stale_after_unmonitored_free, 60)
{
	return stale_record(0);
}

TEST(kfree_mem_stale_after_softirq_free, 60)
{
	return stale_record(1);
}

#define RCU_N	64
#define RCU_SZ	96

/*
 * Blocks a monitored process frees with kfree_rcu(): the kernel frees them
 * later (attributed to nobody), and their records must go with them, or a
 * block an unmonitored process gets at the same address would be charged
 * their size when a monitored process frees it.
 */
TEST(kfree_mem_stale_after_kfree_rcu, 60)
{
	struct worker p, u, q;
	struct mapstat m0, m1, m;
	struct proc_row a;
	struct expect e;
	double end;
	int ret = 0;

	if (keep_workers(&p, &u, &q, NULL))
		return -1;
	/* Warm-up, not monitored. */
	if (kfree_rcu_op(&p, RCU_N, RCU_SZ) || keep(&u, RCU_N, RCU_SZ) ||
	    release(&q, RCU_N, 0))
		return -1;
	CHECK_ERR(tr_add(p.pid), 0, "add P");
	CHECK_ERR(tr_add(q.pid), 0, "add Q");
	expect_zero(&e);
	e.v[C_KMALLOC] = RCU_N;
	e.v[C_KMALLOC_MEM] = RCU_N * RCU_SZ;
	if (map_get(&m0) || row_need(p.pid, &a) ||
	    kfree_rcu_op(&p, RCU_N, RCU_SZ) ||
	    check_since(p.pid, &a, &e, "P: kmalloc + kfree_rcu") ||
	    map_get(&m1))
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
