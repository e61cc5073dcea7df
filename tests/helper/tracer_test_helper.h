/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * tracer_test_helper.h - ABI of the test-only helper module of tracer-dkms
 *
 * /dev/tracer_helper is a misc device (dynamic minor).  One request,
 * TTH_IOC_RUN, makes the calling thread perform exactly req.n iterations of
 * one operation (req.op) in its own task context, and nothing else that
 * allocates or locks in the loop.  The test suite measures the caller's row
 * of /proc/tracer around the request.
 *
 * Allocation operations do n allocations then n kfree() of them (in batches
 * of TTH_BATCH live blocks), so they add n to kmalloc and kfree, and
 * n * requested size to kmalloc_mem and kfree_mem.
 *
 * Never shipped: this module exists for the tests only.
 */
#ifndef _TRACER_TEST_HELPER_H
#define _TRACER_TEST_HELPER_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define TTH_DEV_NAME		"tracer_helper"

/* Sizes the module uses as compile-time constants. */
#define TTH_CONST_SIZE		72	/* small kmalloc, not a power of 2 */
#define TTH_LARGE_CONST_SIZE	20000	/* > KMALLOC_MAX_CACHE_SIZE */
#define TTH_ARRAY_CONST_N	7	/* kcalloc(7, 24) */
#define TTH_ARRAY_CONST_SIZE	24
#define TTH_STR			"tracer_test_helper"	/* kstrdup() of it */

/* Limits. */
#define TTH_BATCH		32	/* live blocks per batch */
#define TTH_N_MAX		0x1000000U	/* max iterations (2^24) */
#define TTH_SIZE_MAX		0x100000U	/* max bytes per block (1 MiB) */
#define TTH_SRC_MAX		4096	/* max size for kmemdup/kstrndup */
#define TTH_KEEP_MAX		8192	/* max blocks kept at once */

enum tth_op {
	TTH_OP_NOP = 0,			/* nothing: baseline */
	TTH_OP_KMALLOC_CONST,		/* kmalloc(TTH_CONST_SIZE) */
	TTH_OP_KMALLOC_VAR,		/* kmalloc(size); size 0 allowed */
	TTH_OP_KMALLOC_LARGE_CONST,	/* kmalloc(TTH_LARGE_CONST_SIZE) */
	TTH_OP_KMALLOC_LARGE_VAR,	/* kmalloc(size), size > 8 KiB */
	TTH_OP_KZALLOC_CONST,		/* kzalloc(TTH_CONST_SIZE) */
	TTH_OP_KZALLOC_VAR,		/* kzalloc(size) */
	TTH_OP_KCALLOC_CONST,		/* kcalloc(ARRAY_CONST_N, _SIZE) */
	TTH_OP_KCALLOC_VAR,		/* kcalloc(count, size) */
	TTH_OP_KMALLOC_ARRAY_VAR,	/* kmalloc_array(count, size) */
	TTH_OP_KMALLOC_NODE_CONST,	/* kmalloc_node(CONST_SIZE, NO_NODE) */
	TTH_OP_KMALLOC_NODE_VAR,	/* kmalloc_node(size, this node) */
	TTH_OP_KMEMDUP,			/* kmemdup(src, size), size >= 1 */
	TTH_OP_KSTRNDUP,		/* kstrndup(src, size - 1): size B */
	TTH_OP_KSTRDUP_CONST,		/* kstrdup(TTH_STR) */
	TTH_OP_KFREE_SENSITIVE,		/* kmalloc(size) + kfree_sensitive */
	TTH_OP_KFREE_NULL,		/* kfree(NULL) */
	TTH_OP_KFREE_ZERO_PTR,		/* kfree(ZERO_SIZE_PTR) */
	TTH_OP_SCHEDULE,		/* schedule() */
	TTH_OP_SEMA,			/* down_interruptible() + up() */
	TTH_OP_MUTEX,			/* mutex_lock() + mutex_unlock() */
	TTH_OP_KEEP,			/* n * kmalloc(size), kept */
	TTH_OP_RELEASE,			/* kfree() every kept block */
	TTH_OP_RELEASE_SOFTIRQ,		/* same, from a tasklet */
	TTH_OP_HARDIRQ,			/* n * (kmalloc+kfree, up) in irq */
	TTH_OP_SOFTIRQ,			/* n * (kmalloc+kfree, up) in BH */
	TTH_OP_COUNT
};

struct tth_req {
	__u32 op;	/* in: enum tth_op */
	__u32 flags;	/* out: TTH_F_* */
	__u64 n;	/* in: iterations; out (RELEASE*): blocks freed */
	__u64 size;	/* in: bytes per block (element size for arrays) */
	__u64 count;	/* in: element count of the _VAR array ops */
};

/* Output flags. */
#define TTH_F_NO_ALLOC		0x1U	/* PREEMPT_RT: no kmalloc in irq */
#define TTH_F_CTX_OK		0x2U	/* ran in the intended context */
#define TTH_F_IN_CALLER		0x4U	/* with current == the caller */

#define TTH_IOC_RUN		_IOWR('T', 0x71, struct tth_req)

/*
 * n * kmalloc(size) then kfree_rcu() of each block (size >= 16): the
 * kernel frees them later, in its own way (kfree() or kfree_bulk()).  A
 * request of its own, not a TTH_OP_* (tools size tables by TTH_OP_COUNT).
 */
#define TTH_IOC_KFREE_RCU	_IOWR('T', 0x72, struct tth_req)

/*
 * Wait until the blocks given to kfree_rcu() so far are freed, where the
 * kernel can (kvfree_rcu_barrier(), 6.12 and later); rcu_barrier() before.
 * The fields of the request are ignored.
 */
#define TTH_IOC_KFREE_RCU_BARRIER _IOWR('T', 0x73, struct tth_req)

#endif /* _TRACER_TEST_HELPER_H */
