// SPDX-License-Identifier: GPL-2.0
/*
 * tracer_test_helper.c - test-only companion module of tracer-dkms
 *
 * /dev/tracer_helper makes the calling process perform an exact number of
 * the operations tracer.ko counts (kmalloc, kfree, schedule, up,
 * down_interruptible, mutex_lock, mutex_unlock), in its own task context,
 * or in hard/soft interrupt context while it waits.  The ABI is in
 * tracer_test_helper.h.  Nothing in an operation loop allocates or takes a
 * sleeping lock except the operation itself (and, since 6.18, the slab
 * allocator inside it: with slab_calls=1 the module counts those calls,
 * see TTH_IOC_SLAB_CALLS).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/compiler.h>
#include <linux/completion.h>
#include <linux/errno.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/interrupt.h>
#include <linux/irq_work.h>
#include <linux/kernel.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/numa.h>
#include <linux/overflow.h>
#include <linux/preempt.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/semaphore.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/topology.h>
#include <linux/tracepoint.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <linux/vmalloc.h>
#include <trace/events/kmem.h>

#include "tracer_test_helper.h"

/* Source of kmemdup()/kstrndup(): TTH_SRC_MAX bytes, none of them NUL. */
static char tth_src[TTH_SRC_MAX];

/* Blocks kept by TTH_OP_KEEP until TTH_OP_RELEASE*; owned by whoever
 * holds tth_keep_busy (no lock: a mutex would be counted).
 */
static void **tth_kept;	/* TTH_KEEP_MAX, vmalloc()ed at load */
static unsigned int tth_nkept;
static atomic_t tth_keep_busy = ATOMIC_INIT(0);

static bool tth_keep_get(void)
{
	return atomic_cmpxchg(&tth_keep_busy, 0, 1) == 0;
}

static void tth_keep_put(void)
{
	atomic_set_release(&tth_keep_busy, 0);
}

static unsigned int tth_free_kept(void)
{
	unsigned int i, n = tth_nkept;

	for (i = 0; i < n; i++) {
		kfree(tth_kept[i]);
		WRITE_ONCE(tth_kept[i], NULL);
	}
	tth_nkept = 0;
	return n;
}

/* One allocation of the kind r->op names; NULL on failure. */
static void *tth_alloc_one(const struct tth_req *r)
{
	size_t size = r->size;
	size_t count = r->count;

	/* The compiler must not see these values. */
	OPTIMIZER_HIDE_VAR(size);
	OPTIMIZER_HIDE_VAR(count);

	switch (r->op) {
	case TTH_OP_KMALLOC_CONST:
		return kmalloc(TTH_CONST_SIZE, GFP_KERNEL);
	case TTH_OP_KMALLOC_VAR:
	case TTH_OP_KMALLOC_LARGE_VAR:
	case TTH_OP_KFREE_SENSITIVE:
	case TTH_OP_KEEP:
		return kmalloc(size, GFP_KERNEL);
	case TTH_OP_KMALLOC_LARGE_CONST:
		return kmalloc(TTH_LARGE_CONST_SIZE, GFP_KERNEL);
	case TTH_OP_KZALLOC_CONST:
		return kzalloc(TTH_CONST_SIZE, GFP_KERNEL);
	case TTH_OP_KZALLOC_VAR:
		return kzalloc(size, GFP_KERNEL);
	case TTH_OP_KCALLOC_CONST:
		return kcalloc(TTH_ARRAY_CONST_N, TTH_ARRAY_CONST_SIZE,
			       GFP_KERNEL);
	case TTH_OP_KCALLOC_VAR:
		return kcalloc(count, size, GFP_KERNEL);
	case TTH_OP_KMALLOC_ARRAY_VAR:
		return kmalloc_array(count, size, GFP_KERNEL);
	case TTH_OP_KMALLOC_NODE_CONST:
		return kmalloc_node(TTH_CONST_SIZE, GFP_KERNEL, NUMA_NO_NODE);
	case TTH_OP_KMALLOC_NODE_VAR:
		return kmalloc_node(size, GFP_KERNEL, numa_node_id());
	case TTH_OP_KMEMDUP:
		return kmemdup(tth_src, size, GFP_KERNEL);
	case TTH_OP_KSTRNDUP:
		return kstrndup(tth_src, size - 1, GFP_KERNEL);
	case TTH_OP_KSTRDUP_CONST:
		return kstrdup(TTH_STR, GFP_KERNEL);
	default:
		return NULL;
	}
}

/* n allocations then n kfree(), TTH_BATCH live blocks at a time. */
static int tth_alloc_free(const struct tth_req *r)
{
	void *blk[TTH_BATCH];
	u64 left = r->n;
	unsigned int i, k;
	int ret = 0;

	while (left && !ret) {
		k = min_t(u64, left, TTH_BATCH);
		for (i = 0; i < k; i++) {
			blk[i] = tth_alloc_one(r);
			barrier_data(blk[i]);
			if (!blk[i]) {
				ret = -ENOMEM;
				k = i;
				break;
			}
		}
		for (i = 0; i < k; i++) {
			if (r->op == TTH_OP_KFREE_SENSITIVE)
				kfree_sensitive(blk[i]);
			else
				kfree(blk[i]);
		}
		left -= k;
	}
	return ret;
}

/* A block freed with kfree_rcu(): the kernel frees it later, its way. */
struct tth_rcu_blk {
	struct rcu_head rcu;
};

static int tth_kfree_rcu(const struct tth_req *r)
{
	struct tth_rcu_blk *b;
	size_t size = r->size;
	u64 i;

	OPTIMIZER_HIDE_VAR(size);
	for (i = 0; i < r->n; i++) {
		b = kmalloc(size, GFP_KERNEL);
		if (!b)
			return -ENOMEM;
		kfree_rcu(b, rcu);
	}
	return 0;
}

static void tth_kfree_rcu_barrier(void)
{
#if KERNEL_VERSION(6, 12, 0) <= LINUX_VERSION_CODE
	kvfree_rcu_barrier();
#else
	rcu_barrier();
#endif
}

static void tth_kfree_const(u64 n, const void *p)
{
	u64 i;

	for (i = 0; i < n; i++) {
		barrier_data(p);
		kfree(p);
	}
}

static void tth_schedule(u64 n)
{
	u64 i;

	for (i = 0; i < n; i++)
		schedule();
}

/* n kmalloc() calls that fail: each one a call, no byte allocated. */
static int tth_kmalloc_fail(u64 n)
{
	size_t size = TTH_FAIL_SIZE;
	void *p;
	u64 i;

	OPTIMIZER_HIDE_VAR(size);
	for (i = 0; i < n; i++) {
		p = kmalloc(size, GFP_KERNEL | __GFP_NOWARN);
		kfree(p);	/* of NULL, as it must be: not counted */
		if (p)
			return -EEXIST;
	}
	return 0;
}

static int tth_sema(u64 n)
{
	struct semaphore sem;
	u64 i;

	sema_init(&sem, 1);
	for (i = 0; i < n; i++) {
		if (down_interruptible(&sem))
			return -EINTR;
		up(&sem);
	}
	return 0;
}

static int tth_mutex(u64 n)
{
	struct mutex m;		/* private: only the calls are of interest */
	u64 i;

	mutex_init(&m);
	for (i = 0; i < n; i++) {
		mutex_lock(&m);
		mutex_unlock(&m);
	}
	mutex_destroy(&m);
	return 0;
}

static int tth_keep(const struct tth_req *r)
{
	int ret = 0;
	u64 i;

	if (!tth_keep_get())
		return -EBUSY;
	if (r->n > TTH_KEEP_MAX - tth_nkept) {
		ret = -ENOSPC;
		goto out;
	}
	for (i = 0; i < r->n; i++) {
		void *p = tth_alloc_one(r);

		if (!p) {
			ret = -ENOMEM;
			break;
		}
		WRITE_ONCE(tth_kept[tth_nkept], p);
		tth_nkept++;
	}
out:
	tth_keep_put();
	return ret;
}

/* Work done in interrupt context on behalf of the caller. */
struct tth_ctx_work {
	struct irq_work iw;
	struct tasklet_struct tl;
	struct completion done;
	struct semaphore sem;		/* target of the up() calls */
	struct task_struct *caller;
	u32 op;
	u32 flags;
	u64 n;
	size_t size;
	u64 freed;
	int ret;
};

static void tth_ctx_run(struct tth_ctx_work *w, bool hard)
{
	bool ctx = hard ? hardirq_count() : in_serving_softirq();
	bool alloc = !(w->flags & TTH_F_NO_ALLOC);
	u64 i;

	if (ctx && !in_task())
		w->flags |= TTH_F_CTX_OK;
	if (current == w->caller)
		w->flags |= TTH_F_IN_CALLER;

	if (w->op == TTH_OP_RELEASE_SOFTIRQ) {
		/* The caller owns tth_keep_busy and waits for us. */
		w->freed = tth_free_kept();
		return;
	}
	for (i = 0; i < w->n; i++) {
		if (alloc) {
			void *p = kmalloc(w->size, GFP_ATOMIC);

			barrier_data(p);
			if (!p)
				w->ret = -ENOMEM;
			kfree(p);
		}
		up(&w->sem);
	}
}

static void tth_irq_work_fn(struct irq_work *iw)
{
	struct tth_ctx_work *w = container_of(iw, struct tth_ctx_work, iw);

	tth_ctx_run(w, true);
}

static void tth_tasklet_fn(struct tasklet_struct *t)
{
	struct tth_ctx_work *w = from_tasklet(w, t, tl);

	tth_ctx_run(w, false);
	complete(&w->done);
}

static int tth_in_ctx(struct tth_req *r)
{
	struct tth_ctx_work w = {
		.caller = current,
		.op = r->op,
		.n = r->n,
		.size = r->size,
	};

	/* Only up() is called on it (allowed in any context). */
	sema_init(&w.sem, 1);
	if (r->op == TTH_OP_HARDIRQ) {
		/* PREEMPT_RT: no allocation at all in hard irq context. */
		if (IS_ENABLED(CONFIG_PREEMPT_RT))
			w.flags |= TTH_F_NO_ALLOC;
#ifdef IRQ_WORK_INIT_HARD
		w.iw = IRQ_WORK_INIT_HARD(tth_irq_work_fn);
#else
		init_irq_work(&w.iw, tth_irq_work_fn);
#endif
		/* Queued on this CPU: the self-IPI interrupts the caller. */
		irq_work_queue(&w.iw);
		irq_work_sync(&w.iw);
	} else {
		if (r->op == TTH_OP_RELEASE_SOFTIRQ && !tth_keep_get())
			return -EBUSY;
		init_completion(&w.done);
		tasklet_setup(&w.tl, tth_tasklet_fn);
		/* Raised with BHs off: it runs at local_bh_enable(), here. */
		local_bh_disable();
		tasklet_schedule(&w.tl);
		local_bh_enable();
		wait_for_completion(&w.done);
		tasklet_kill(&w.tl);
		if (r->op == TTH_OP_RELEASE_SOFTIRQ)
			tth_keep_put();
	}
	r->flags = w.flags;
	if (r->op == TTH_OP_RELEASE_SOFTIRQ)
		r->n = w.freed;
	return w.ret;
}

/* --- the slab allocator's own calls (slab_calls=1) -------------------- */

/*
 * Tasks inside a request, while slab_calls is on: the tracepoint probes
 * count only their calls.  A slot is claimed with cmpxchg (no lock: the
 * probes run inside kmalloc and kfree).
 */
#define TTH_WATCH_MAX	16

static struct task_struct *tth_watched[TTH_WATCH_MAX];
static atomic_t tth_nwatched = ATOMIC_INIT(0);
static bool tth_sc_on;		/* under the module's parameter lock */

static atomic_t tth_sc_unwatched = ATOMIC_INIT(0);
static atomic64_t tth_sc_own_kmalloc = ATOMIC64_INIT(0);
static atomic64_t tth_sc_own_kfree = ATOMIC64_INIT(0);
static atomic64_t tth_sc_kmalloc = ATOMIC64_INIT(0);
static atomic64_t tth_sc_kmalloc_bytes = ATOMIC64_INIT(0);
static atomic64_t tth_sc_kmalloc_odd = ATOMIC64_INIT(0);
static atomic64_t tth_sc_kfree = ATOMIC64_INIT(0);

/* The slot current watches itself in, or -1 (slab_calls off, or full). */
static int tth_watch(void)
{
	int i;

	if (!READ_ONCE(tth_sc_on))
		return -1;
	for (i = 0; i < TTH_WATCH_MAX; i++) {
		if (!READ_ONCE(tth_watched[i]) &&
		    !cmpxchg(&tth_watched[i], NULL, current)) {
			atomic_inc(&tth_nwatched);
			return i;
		}
	}
	atomic_inc(&tth_sc_unwatched);
	return -1;
}

static void tth_unwatch(int slot)
{
	if (slot < 0)
		return;
	atomic_dec(&tth_nwatched);
	WRITE_ONCE(tth_watched[slot], NULL);
}

/* Is this a call of a watched task, in its task context (not an irq)? */
static bool tth_watching_current(void)
{
	int i;

	if (likely(!atomic_read(&tth_nwatched)) || !in_task())
		return false;
	for (i = 0; i < TTH_WATCH_MAX; i++)
		if (READ_ONCE(tth_watched[i]) == current)
			return true;
	return false;
}

/*
 * The allocator's blocks kmalloc'ed in watched requests, until whoever frees
 * them (any task, any context) or their address is handed out again (a free
 * no hook saw): a test learns how many of them went, hence how many of
 * their records in tracer.ko's map can have gone.
 */
static unsigned long tth_blocks[TTH_SC_BLOCKS_MAX];
static atomic_t tth_nblocks = ATOMIC_INIT(0);
static atomic64_t tth_sc_blocks_gone = ATOMIC64_INIT(0);
static atomic64_t tth_sc_blocks_untracked = ATOMIC64_INIT(0);

static void tth_block_add(const void *ptr)
{
	int i;

	for (i = 0; i < TTH_SC_BLOCKS_MAX; i++) {
		if (!READ_ONCE(tth_blocks[i]) &&
		    !cmpxchg(&tth_blocks[i], 0UL, (unsigned long)ptr)) {
			atomic_inc(&tth_nblocks);
			return;
		}
	}
	atomic64_inc(&tth_sc_blocks_untracked);
}

static void tth_block_gone(const void *ptr)
{
	unsigned long addr = (unsigned long)ptr;
	int i;

	if (likely(!atomic_read(&tth_nblocks)) || ZERO_OR_NULL_PTR(ptr))
		return;
	for (i = 0; i < TTH_SC_BLOCKS_MAX; i++) {
		if (READ_ONCE(tth_blocks[i]) == addr &&
		    cmpxchg(&tth_blocks[i], addr, 0UL) == addr) {
			atomic_dec(&tth_nblocks);
			atomic64_inc(&tth_sc_blocks_gone);
			return;
		}
	}
}

static void tth_sc_count_kmalloc(unsigned long call_site, const void *ptr,
				 size_t size)
{
	tth_block_gone(ptr);	/* its address again: it went unseen */
	if (!tth_watching_current())
		return;
	if (within_module(call_site, THIS_MODULE)) {
		atomic64_inc(&tth_sc_own_kmalloc);
		return;
	}
	atomic64_inc(&tth_sc_kmalloc);
	atomic64_add(size, &tth_sc_kmalloc_bytes);
	if (size % 8)
		atomic64_inc(&tth_sc_kmalloc_odd);
	if (!ZERO_OR_NULL_PTR(ptr))
		tth_block_add(ptr);
}

static void tth_tp_kmalloc(void *data, unsigned long call_site,
			   const void *ptr, size_t bytes_req,
			   size_t bytes_alloc, gfp_t gfp_flags)
{
	tth_sc_count_kmalloc(call_site, ptr, bytes_req);
}

static void tth_tp_kmalloc_node(void *data, unsigned long call_site,
				const void *ptr, size_t bytes_req,
				size_t bytes_alloc, gfp_t gfp_flags, int node)
{
	tth_sc_count_kmalloc(call_site, ptr, bytes_req);
}

static void tth_tp_kfree(void *data, unsigned long call_site,
			 const void *ptr)
{
	tth_block_gone(ptr);
	if (ZERO_OR_NULL_PTR(ptr) || !tth_watching_current())
		return;
	if (within_module(call_site, THIS_MODULE))
		atomic64_inc(&tth_sc_own_kfree);
	else
		atomic64_inc(&tth_sc_kfree);
}

/* Does tracepoint @tp take probes of the type of function @fn? */
#define TTH_TP_PROTO_IS(tp, fn)						\
	__builtin_types_compatible_p(typeof(register_trace_##tp) *,	\
				     int (*)(typeof(fn) *, void *))

/* 6.1 folded the kmalloc_node tracepoint into kmalloc (node argument). */
#define TTH_KMALLOC_TP_HAS_NODE \
	(KERNEL_VERSION(6, 1, 0) <= LINUX_VERSION_CODE)

static struct {
	const char *name;
	void *probe;
	struct tracepoint *tp;
} tth_tps[] = {
	{ "kmalloc", TTH_KMALLOC_TP_HAS_NODE ?
		(void *)tth_tp_kmalloc_node : (void *)tth_tp_kmalloc },
	{ "kfree", tth_tp_kfree },
#if !TTH_KMALLOC_TP_HAS_NODE
	{ "kmalloc_node", tth_tp_kmalloc_node },
#endif
};

static void tth_tp_match(struct tracepoint *tp, void *priv)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(tth_tps); i++)
		if (!strcmp(tp->name, tth_tps[i].name))
			tth_tps[i].tp = tp;
}

static void tth_sc_unregister(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(tth_tps); i++)
		if (tth_tps[i].tp)
			tracepoint_probe_unregister(tth_tps[i].tp,
						    tth_tps[i].probe, NULL);
	tracepoint_synchronize_unregister();
	for (i = 0; i < ARRAY_SIZE(tth_tps); i++)
		tth_tps[i].tp = NULL;
}

static int tth_sc_register(void)
{
	struct tracepoint *tp[ARRAY_SIZE(tth_tps)];
	unsigned int i;
	int ret;

	BUILD_BUG_ON(!TTH_TP_PROTO_IS(kfree, tth_tp_kfree));
#if TTH_KMALLOC_TP_HAS_NODE
	BUILD_BUG_ON(!TTH_TP_PROTO_IS(kmalloc, tth_tp_kmalloc_node));
#else
	BUILD_BUG_ON(!TTH_TP_PROTO_IS(kmalloc, tth_tp_kmalloc));
	BUILD_BUG_ON(!TTH_TP_PROTO_IS(kmalloc_node, tth_tp_kmalloc_node));
#endif
	/* Blocks followed before: they may have gone unseen since. */
	for (i = 0; i < TTH_SC_BLOCKS_MAX; i++)
		WRITE_ONCE(tth_blocks[i], 0UL);
	atomic_set(&tth_nblocks, 0);
	for_each_kernel_tracepoint(tth_tp_match, NULL);
	for (i = 0; i < ARRAY_SIZE(tth_tps); i++) {
		tp[i] = tth_tps[i].tp;
		tth_tps[i].tp = NULL;
		if (!tp[i]) {
			pr_err("no tracepoint kmem:%s\n", tth_tps[i].name);
			return -ENOENT;
		}
	}
	for (i = 0; i < ARRAY_SIZE(tth_tps); i++) {
		ret = tracepoint_probe_register(tp[i], tth_tps[i].probe, NULL);
		if (ret) {
			pr_err("cannot hook kmem:%s: %d\n", tth_tps[i].name,
			       ret);
			tth_sc_unregister();
			return ret;
		}
		tth_tps[i].tp = tp[i];
	}
	return 0;
}

/* slab_calls: 1 hooks the tracepoints, 0 unhooks them. */
static int tth_sc_set(const char *val, const struct kernel_param *kp)
{
	bool on;
	int ret = kstrtobool(val, &on);

	if (ret || on == tth_sc_on)
		return ret;
	if (on) {
		ret = tth_sc_register();
		if (ret)
			return ret;
		WRITE_ONCE(tth_sc_on, true);
	} else {
		WRITE_ONCE(tth_sc_on, false);
		tth_sc_unregister();
	}
	return 0;
}

static int tth_sc_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", tth_sc_on);
}

static const struct kernel_param_ops tth_sc_ops = {
	.set = tth_sc_set,
	.get = tth_sc_get,
};

module_param_cb(slab_calls, &tth_sc_ops, NULL, 0644);
MODULE_PARM_DESC(slab_calls,
		 "1: count the slab allocator's own kmalloc/kfree calls inside requests (TTH_IOC_SLAB_CALLS)");

static void tth_slab_calls(struct tth_slab_calls *c)
{
	memset(c, 0, sizeof(*c));
	c->flags = READ_ONCE(tth_sc_on) ? TTH_SC_ON : 0;
	c->unwatched = atomic_read(&tth_sc_unwatched);
	c->own_kmalloc = atomic64_read(&tth_sc_own_kmalloc);
	c->own_kfree = atomic64_read(&tth_sc_own_kfree);
	c->kmalloc = atomic64_read(&tth_sc_kmalloc);
	c->kmalloc_bytes = atomic64_read(&tth_sc_kmalloc_bytes);
	c->kmalloc_odd = atomic64_read(&tth_sc_kmalloc_odd);
	c->kfree = atomic64_read(&tth_sc_kfree);
	c->blocks_gone = atomic64_read(&tth_sc_blocks_gone);
	c->blocks_untracked = atomic64_read(&tth_sc_blocks_untracked);
}

static int tth_check(const struct tth_req *r)
{
	size_t bytes;

	if (r->op >= TTH_OP_COUNT || r->n > TTH_N_MAX)
		return -EINVAL;
	switch (r->op) {
	case TTH_OP_KMALLOC_VAR:
	case TTH_OP_KZALLOC_VAR:
	case TTH_OP_KMALLOC_NODE_VAR:
	case TTH_OP_KFREE_SENSITIVE:
	case TTH_OP_KEEP:
	case TTH_OP_HARDIRQ:
	case TTH_OP_SOFTIRQ:
		return r->size <= TTH_SIZE_MAX ? 0 : -EINVAL;
	case TTH_OP_KMALLOC_LARGE_VAR:
		return r->size > KMALLOC_MAX_CACHE_SIZE &&
		       r->size <= TTH_SIZE_MAX ? 0 : -EINVAL;
	case TTH_OP_KCALLOC_VAR:
	case TTH_OP_KMALLOC_ARRAY_VAR:
		if (r->size > TTH_SIZE_MAX || r->count > TTH_SIZE_MAX ||
		    check_mul_overflow((size_t)r->size, (size_t)r->count,
				       &bytes) || bytes > TTH_SIZE_MAX)
			return -EINVAL;
		return 0;
	case TTH_OP_KMEMDUP:
	case TTH_OP_KSTRNDUP:
		return r->size >= 1 && r->size <= TTH_SRC_MAX ? 0 : -EINVAL;
	default:
		return 0;
	}
}

static int tth_run(struct tth_req *r)
{
	int ret = tth_check(r);

	if (ret)
		return ret;
	r->flags = 0;
	switch (r->op) {
	case TTH_OP_NOP:
		return 0;
	case TTH_OP_KFREE_NULL:
		tth_kfree_const(r->n, NULL);
		return 0;
	case TTH_OP_KFREE_ZERO_PTR:
		tth_kfree_const(r->n, ZERO_SIZE_PTR);
		return 0;
	case TTH_OP_SCHEDULE:
		tth_schedule(r->n);
		return 0;
	case TTH_OP_SEMA:
		return tth_sema(r->n);
	case TTH_OP_KMALLOC_FAIL:
		return tth_kmalloc_fail(r->n);
	case TTH_OP_MUTEX:
		return tth_mutex(r->n);
	case TTH_OP_KEEP:
		return tth_keep(r);
	case TTH_OP_RELEASE:
		if (!tth_keep_get())
			return -EBUSY;
		r->n = tth_free_kept();
		tth_keep_put();
		return 0;
	case TTH_OP_RELEASE_SOFTIRQ:
	case TTH_OP_HARDIRQ:
	case TTH_OP_SOFTIRQ:
		return tth_in_ctx(r);
	default:
		return tth_alloc_free(r);
	}
}

static long tth_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	struct tth_req r;
	int ret, slot;

	if (cmd == TTH_IOC_KFREE_RCU_BARRIER) {
		tth_kfree_rcu_barrier();
		return 0;
	}
	if (cmd == TTH_IOC_SLAB_CALLS) {
		struct tth_slab_calls c;

		tth_slab_calls(&c);
		return copy_to_user(uarg, &c, sizeof(c)) ? -EFAULT : 0;
	}
	if (cmd != TTH_IOC_RUN && cmd != TTH_IOC_KFREE_RCU)
		return -ENOTTY;
	if (copy_from_user(&r, uarg, sizeof(r)))
		return -EFAULT;
	slot = tth_watch();
	if (cmd == TTH_IOC_KFREE_RCU)
		ret = r.n <= TTH_N_MAX && r.size >= sizeof(struct tth_rcu_blk) &&
		      r.size <= TTH_SIZE_MAX ? tth_kfree_rcu(&r) : -EINVAL;
	else
		ret = tth_run(&r);
	tth_unwatch(slot);
	if (ret)
		return ret;
	if (copy_to_user(uarg, &r, sizeof(r)))
		return -EFAULT;
	return 0;
}

static const struct file_operations tth_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = tth_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static struct miscdevice tth_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = TTH_DEV_NAME,
	.fops = &tth_fops,
	.mode = 0666,
};

static int __init tth_init(void)
{
	int ret;

	BUILD_BUG_ON(TTH_LARGE_CONST_SIZE <= KMALLOC_MAX_CACHE_SIZE);
	BUILD_BUG_ON(TTH_CONST_SIZE > KMALLOC_MAX_CACHE_SIZE);

	memset(tth_src, 'x', sizeof(tth_src));
	tth_kept = vzalloc(array_size(TTH_KEEP_MAX, sizeof(*tth_kept)));
	if (!tth_kept)
		return -ENOMEM;
	ret = misc_register(&tth_dev);
	if (ret)
		vfree(tth_kept);
	return ret;
}

static void __exit tth_exit(void)
{
	misc_deregister(&tth_dev);
	if (tth_sc_on)
		tth_sc_unregister();
	tth_free_kept();
	vfree(tth_kept);
}

module_init(tth_init);
module_exit(tth_exit);

MODULE_DESCRIPTION("Test-only helper of the tracer module (never shipped)");
MODULE_AUTHOR("tracer-dkms");
MODULE_LICENSE("GPL");
