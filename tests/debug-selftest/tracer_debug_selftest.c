// SPDX-License-Identifier: GPL-2.0
/* tracer_debug_selftest: bugs on purpose, for `TRACER_DEBUG_SELFTEST=1 make check-debug` */
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>

/* Run-time indexes: the compiler cannot see the bugs. */
static int oob = 13;
module_param(oob, int, 0444);
static int idx = 4;
module_param(idx, int, 0444);

static DEFINE_MUTEX(tds_a);
static DEFINE_MUTEX(tds_b);
static int __rcu *tds_rcu;
static int tds_arr[4];
static LIST_HEAD(tds_list);
static struct list_head tds_entry;

static int __init tds_init(void)
{
	char *p, *q[2];
	int i;

	/* PROVE_RCU: rcu_dereference() outside a read-side section */
	pr_info("rcu: %p\n", rcu_dereference(tds_rcu));
	/*
	 * lockdep: A then B, B then A.  Early: lockdep turns itself off after
	 * its first report, and after a KASAN report (a taint that makes it
	 * unreliable).
	 */
	mutex_lock(&tds_a);
	mutex_lock(&tds_b);
	mutex_unlock(&tds_b);
	mutex_unlock(&tds_a);
	mutex_lock(&tds_b);
	mutex_lock(&tds_a);
	mutex_unlock(&tds_a);
	mutex_unlock(&tds_b);
	/* DEBUG_ATOMIC_SLEEP */
	preempt_disable();
	might_sleep();
	preempt_enable();
	/* DEBUG_LIST: the same entry added twice */
	list_add(&tds_entry, &tds_list);
	list_add(&tds_entry, &tds_list);
	list_del(&tds_entry);
	/* UBSAN (and KASAN: a global's redzone): index out of bounds */
	pr_info("arr: %d\n", tds_arr[idx]);
	/*
	 * KASAN: out of bounds, then use after free.  Two blocks allocated
	 * back to back: KFENCE may take one (it samples an allocation now and
	 * then, and does not see small overruns), not both.
	 */
	q[0] = kmalloc(oob, GFP_KERNEL);
	q[1] = kmalloc(oob, GFP_KERNEL);
	for (i = 0; i < 2; i++) {
		if (!q[i])
			continue;
		pr_info("oob: %d\n", READ_ONCE(q[i][oob]));
		kfree(q[i]);
		pr_info("uaf: %d\n", READ_ONCE(q[i][0]));
	}
	/* kmemleak: blocks nobody points to */
	for (i = 0; i < 8; i++) {
		p = kmalloc(64 + 32 * i, GFP_KERNEL);
		if (p)
			memset(p, 0x5a, 64);
	}
	/* a plain warning */
	WARN(1, "tracer_debug_selftest: a warning on purpose\n");
	return 0;
}

static void __exit tds_exit(void)
{
}

module_init(tds_init);
module_exit(tds_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("check-debug self-test: bugs on purpose");
