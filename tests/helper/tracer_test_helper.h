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
#define TTH_KEEP_MAX		262144	/* max blocks kept at once */
#define TTH_FAIL_SIZE		0x40000000ULL	/* no kmalloc gives 1 GiB */

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
	TTH_OP_KMALLOC_FAIL,		/* n * kmalloc(TTH_FAIL_SIZE): NULL */
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

/*
 * The slab allocator's own kmalloc() and kfree() calls in the caller's
 * context.  Since 6.18 the allocator itself kmallocs and kfrees blocks
 * (per-CPU sheaves, per-slab vectors) at moments no test controls, from
 * inside an operation's kmalloc() or kfree(): real calls of the caller, which
 * tracer.ko counts, but not the operation's.  With the module parameter
 * slab_calls=1, probes on the kmem:kmalloc and kmem:kfree tracepoints count,
 * in every TTH_IOC_RUN and TTH_IOC_KFREE_RCU request while it runs, the
 * calls made in the caller's task context (not in interrupts; kfree(NULL)
 * and kfree(ZERO_SIZE_PTR) left out, as tracer.ko does): those whose call
 * site is in this module (the operation's own) and the others (the
 * allocator's; also the operations that go through a wrapper, such as
 * kfree_sensitive() or kstrdup_const(): tests of the allocator's calls use
 * plain kmalloc() and kfree()).
 * The blocks of the allocator's kmalloc calls are followed until anybody
 * frees them (in any context), or their address is handed out again (a free
 * no hook saw): blocks_gone counts them (TTH_SC_BLOCKS_MAX followed at
 * once, blocks_untracked counts the others).  TTH_IOC_SLAB_CALLS reads the
 * totals since the module was loaded; a test takes the difference around
 * what it measures, and must be the helper's only user meanwhile (its own
 * calls tell: they must add up).
 */
struct tth_slab_calls {
	__u32 flags;		/* out: TTH_SC_* */
	__u32 unwatched;	/* out: requests run unwatched (too many at once) */
	__u64 own_kmalloc;	/* out: kmalloc calls made by the helper itself */
	__u64 own_kfree;	/* out: kfree calls made by the helper itself */
	__u64 kmalloc;		/* out: other kmalloc calls (the allocator's) */
	__u64 kmalloc_bytes;	/* out: their requested bytes */
	__u64 kmalloc_odd;	/* out: how many of them not a multiple of 8 B */
	__u64 kfree;		/* out: other kfree calls */
	__u64 blocks_gone;	/* out: blocks of those kmalloc calls freed */
	__u64 blocks_untracked;	/* out: blocks of theirs not followed */
};

#define TTH_SC_ON		0x1U	/* the tracepoint probes are in place */
#define TTH_SC_BLOCKS_MAX	64	/* allocator blocks followed at once */

#define TTH_IOC_SLAB_CALLS	_IOR('T', 0x74, struct tth_slab_calls)

#endif /* _TRACER_TEST_HELPER_H */
