// SPDX-License-Identifier: GPL-2.0
/*
 * probes.c - the hot path: the probe handlers
 *
 * Every handler runs for every task on the machine, with preemption off.
 * Each leaves at once when the current task is not in a monitored thread
 * group (tracer_maybe_current(): a few instructions, no lock, no RCU) or
 * when it runs in interrupt context (hardirq, softirq, NMI).  Handlers take
 * no lock and never allocate.  Only kfree looks further for every task,
 * and only while the allocation map holds records: whoever frees a
 * recorded block, its record goes.
 *
 * Count-only functions (schedule, up, down_interruptible, mutex_lock,
 * mutex_unlock) use plain kprobes.  kmalloc and kfree have two sources,
 * chosen with the "source" parameter:
 *   kprobe      kretprobes on the kmalloc entry points (the size is an
 *               argument, the address the return value) and a kprobe on
 *               kfree; the entry handler declines the return probe for all
 *               but a monitored call.  A kprobe on each entry point, run
 *               after the kretprobe's, counts the monitored calls that found
 *               no free kretprobe instance.  Works on every kernel.
 *   tracepoint  the kmem:kmalloc and kmem:kfree tracepoints, which carry
 *               pointer and requested size without a return probe: cheaper.
 *   auto        tracepoint where the kernel has both, else kprobe.
 *
 * register.c hooks them up.
 */
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/moduleparam.h>
#include <linux/preempt.h>
#include <linux/ptrace.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "internal.h"
#include "probes.h"

const struct tracer_kmalloc_sym tracer_kmalloc_syms[] = TRACER_KMALLOC_SYMS;
struct tracer_kmalloc_probe tracer_kmalloc[ARRAY_SIZE(tracer_kmalloc_syms)];
const unsigned int tracer_nr_kmalloc = ARRAY_SIZE(tracer_kmalloc);

unsigned long tracer_trampoline;
unsigned long tracer_kmalloc_lo = ULONG_MAX, tracer_kmalloc_hi;
atomic_long_t tracer_kmalloc_missed = ATOMIC_LONG_INIT(0);

/*
 * source=kprobe: set by the kretprobe's entry handler, which runs only when
 * the call found a free instance; tested and cleared by the entry point's
 * other kprobe, which the kprobe core runs right after it on the same CPU.
 */
static DEFINE_PER_CPU(bool, tracer_kretprobe_entered);

/* --- the handlers ------------------------------------------------------ */

/*
 * Handlers, and everything they call, are NOKPROBE_SYMBOL: a kprobe placed
 * on them would recurse.  Each handler is a test of tracer_maybe_current()
 * and a call of its slow half, noinline: the common exit then saves no register and sets up no
 * stack frame.  The slow halves read the process table as RCU-sched
 * readers (preemption off, as it is already in every probe handler): since
 * the RCU flavours were consolidated (4.20) call_rcu() waits for them too,
 * and they cost two per-CPU increments where rcu_read_lock() is a call on
 * PREEMPT_RCU kernels.
 */
static noinline int tracer_count_slow(struct kprobe *kp)
{
	struct tracer_proc *p;

	if (!in_task())
		return 0;
	rcu_read_lock_sched_notrace();
	p = tracer_proc_current();
	if (p)
		tracer_count(p, container_of(kp, struct tracer_kprobe, kp)->counter,
			     1);
	rcu_read_unlock_sched_notrace();
	return 0;
}

NOKPROBE_SYMBOL(tracer_count_slow);

int tracer_count_pre(struct kprobe *kp, struct pt_regs *regs)
{
	if (likely(!tracer_maybe_current()))
		return 0;
	return tracer_count_slow(kp);
}

NOKPROBE_SYMBOL(tracer_count_pre);

/*
 * A kmalloc entry point called by another one (on 5.10 __kmalloc() calls
 * kmalloc_order_trace() for large sizes, on 6.11+ __kmalloc_noprof() calls
 * __kmalloc_large_node_noprof()) is the same kmalloc: only the outer call
 * counts.  Its caller tells: the return address lies in a kmalloc entry
 * point.
 */
static bool tracer_kmalloc_nested(unsigned long caller)
{
	int i;

	/* Most callers lie outside every entry point: one test. */
	if (caller - tracer_kmalloc_lo >= tracer_kmalloc_hi - tracer_kmalloc_lo)
		return false;
	for (i = 0; i < ARRAY_SIZE(tracer_kmalloc); i++)
		if (caller - tracer_kmalloc[i].start < tracer_kmalloc[i].len)
			return true;
	return false;
}

NOKPROBE_SYMBOL(tracer_kmalloc_nested);

/*
 * With the kprobe source, an entry point that another one tail-called
 * (5.10's __kmalloc() jumps to kmalloc_order_trace()) returns where the
 * outer one would: to the kretprobe trampoline, which stands in for the
 * outer call's return address while its return probe is armed.  Only the
 * outer call counts.  Without a calibrated trampoline address, a return
 * address at the very start of a function (which no call leaves behind)
 * is the trampoline: slower, as exact.
 */
static noinline bool tracer_at_function_start(unsigned long caller)
{
	unsigned long start, len;

	return tracer_symbol_range(caller, &start, &len) && start == caller;
}

NOKPROBE_SYMBOL(tracer_at_function_start);

static bool tracer_kmalloc_tail_called(unsigned long caller)
{
	if (likely(tracer_trampoline))
		return caller == tracer_trampoline;
	return tracer_at_function_start(caller);
}

NOKPROBE_SYMBOL(tracer_kmalloc_tail_called);

/*
 * A kmalloc of @size returned @ptr to current; count it if monitored.
 * Inline in each of its handlers: one call less on every monitored kmalloc.
 */
static __always_inline bool tracer_account_kmalloc(const void *ptr,
						   size_t size)
{
	struct tracer_proc *p;

	rcu_read_lock_sched_notrace();
	p = tracer_proc_current();
	if (p) {
		/* A failed kmalloc is a call, but allocated nothing. */
		tracer_count_mem(p, TRACER_KMALLOC, TRACER_KMALLOC_MEM,
				 ptr ? size : 0);
		if (!ZERO_OR_NULL_PTR(ptr))
			tracer_map_insert(ptr, size);
	}
	rcu_read_unlock_sched_notrace();
	return p;
}

static noinline void tracer_kfree_slow(const void *ptr)
{
	struct tracer_proc *p;
	size_t size = 0;

	/* Whoever frees a recorded block, in any context, its record goes. */
	if (tracer_map_live())
		size = tracer_map_remove(ptr);
	if (!tracer_maybe_current() || !in_task())
		return;
	rcu_read_lock_sched_notrace();
	p = tracer_proc_current();
	if (p)
		tracer_count_mem(p, TRACER_KFREE, TRACER_KFREE_MEM, size);
	rcu_read_unlock_sched_notrace();
}

NOKPROBE_SYMBOL(tracer_kfree_slow);

static __always_inline void tracer_account_kfree(const void *ptr)
{
	/* kfree(NULL) and kfree(ZERO_SIZE_PTR) free nothing. */
	if (ZERO_OR_NULL_PTR(ptr) ||
	    (!tracer_map_live() && likely(!tracer_maybe_current())))
		return;
	tracer_kfree_slow(ptr);
}

/*
 * kfree_bulk() is kmem_cache_free_bulk(NULL, n, p): kfree_rcu() frees its
 * batches that way, without kfree().  Their records leave the map here.
 */
int tracer_kfree_bulk_pre(struct kprobe *kp, struct pt_regs *regs)
{
	void **objs = (void **)tracer_arg(regs, 2);
	size_t n = tracer_arg(regs, 1), i;

	if (tracer_arg(regs, 0) || !tracer_map_live())
		return 0;
	for (i = 0; i < n; i++)
		if (!ZERO_OR_NULL_PTR(objs[i]))
			tracer_map_remove(objs[i]);
	return 0;
}

NOKPROBE_SYMBOL(tracer_kfree_bulk_pre);

int tracer_kfree_pre(struct kprobe *kp, struct pt_regs *regs)
{
	tracer_account_kfree((const void *)tracer_arg(regs, 0));
	return 0;
}

NOKPROBE_SYMBOL(tracer_kfree_pre);

static noinline int tracer_kmalloc_entry_slow(struct kretprobe_instance *ri,
					      struct pt_regs *regs)
{
	struct tracer_kmalloc_data *d = (void *)ri->data;
	struct tracer_kmalloc_probe *kp;
	unsigned long caller;
	bool monitored;

	if (!in_task())
		return 1;
	kp = container_of(tracer_get_kretprobe(ri), struct tracer_kmalloc_probe,
			  rp);
	rcu_read_lock_sched_notrace();
	monitored = tracer_proc_current();
	rcu_read_unlock_sched_notrace();
	if (!monitored)
		return 1;
	/*
	 * Called by another entry point: no return probe.  (The return
	 * handler could not tell a tail call: before 5.18 the kernel gives
	 * every instance of the chain the outer call's return address.)
	 */
	caller = tracer_entry_return_address(regs);
	if (tracer_kmalloc_nested(caller) || tracer_kmalloc_tail_called(caller))
		return 1;
	d->size = tracer_arg(regs, kp->size_arg);
	return 0;
}

NOKPROBE_SYMBOL(tracer_kmalloc_entry_slow);

int tracer_kmalloc_entry(struct kretprobe_instance *ri,
			 struct pt_regs *regs)
{
	__this_cpu_write(tracer_kretprobe_entered, true);
	if (likely(!tracer_maybe_current()))
		return 1;	/* no return probe */
	return tracer_kmalloc_entry_slow(ri, regs);
}

NOKPROBE_SYMBOL(tracer_kmalloc_entry);

/*
 * A monitored kmalloc call that found no free kretprobe instance: the
 * kprobe core counted it in the kretprobe's nmissed, as it does for any
 * task's call, and called no handler of ours.  The call counts (it was
 * made), its bytes cannot (nobody sees what it returns), and so does a
 * missed event.  The same tests as tracer_kmalloc_entry_slow().
 */
static noinline int tracer_kmalloc_missed_slow(struct pt_regs *regs)
{
	struct tracer_proc *p;
	unsigned long caller;

	if (!in_task())
		return 0;
	caller = tracer_entry_return_address(regs);
	if (tracer_kmalloc_nested(caller) || tracer_kmalloc_tail_called(caller))
		return 0;
	rcu_read_lock_sched_notrace();
	p = tracer_proc_current();
	if (p) {
		tracer_count(p, TRACER_KMALLOC, 1);
		atomic_long_inc(&tracer_kmalloc_missed);
	}
	rcu_read_unlock_sched_notrace();
	return 0;
}

NOKPROBE_SYMBOL(tracer_kmalloc_missed_slow);

/*
 * source=kprobe: the entry point's kprobe, run right after its kretprobe's
 * (registered before it: the kprobe core runs the probes of an address
 * newest first, and none of it can be preempted).  The kretprobe's entry
 * handler ran, or the call found no free instance.
 */
int tracer_kmalloc_witness(struct kprobe *kp, struct pt_regs *regs)
{
	if (likely(__this_cpu_read(tracer_kretprobe_entered))) {
		__this_cpu_write(tracer_kretprobe_entered, false);
		return 0;
	}
	if (likely(!tracer_maybe_current()))
		return 0;
	return tracer_kmalloc_missed_slow(regs);
}

NOKPROBE_SYMBOL(tracer_kmalloc_witness);

int tracer_kmalloc_ret(struct kretprobe_instance *ri,
		       struct pt_regs *regs)
{
	struct tracer_kmalloc_data *d = (void *)ri->data;

	tracer_account_kmalloc((void *)regs_return_value(regs), d->size);
	return 0;
}

NOKPROBE_SYMBOL(tracer_kmalloc_ret);

/*
 * kmalloc(0) leaves before the kmem:kmalloc tracepoint: with that source,
 * a kprobe on each any-size entry point counts the calls asking for 0.
 */
static noinline int tracer_kmalloc_zero_slow(struct pt_regs *regs)
{
	if (tracer_arg(regs, 0) || !in_task() ||
	    tracer_kmalloc_nested(tracer_entry_return_address(regs)))
		return 0;
	tracer_account_kmalloc(ZERO_SIZE_PTR, 0);
	return 0;
}

NOKPROBE_SYMBOL(tracer_kmalloc_zero_slow);

int tracer_kmalloc_zero_pre(struct kprobe *kp, struct pt_regs *regs)
{
	if (likely(!tracer_maybe_current()))
		return 0;
	return tracer_kmalloc_zero_slow(regs);
}

NOKPROBE_SYMBOL(tracer_kmalloc_zero_pre);

/*
 * The kmem:kmalloc tracepoint.  With source=tracepoint it counts; with
 * source=kprobe (@data set) it only keeps the allocation map true.
 */
void tracer_tp_kmalloc(void *data, unsigned long call_site,
		       const void *ptr, size_t bytes_req,
		       size_t bytes_alloc, gfp_t gfp_flags)
{
	/* Size 0 is counted by tracer_kmalloc_zero_pre(), never twice. */
	if (unlikely(tracer_maybe_current()) && !data && bytes_req &&
	    in_task() && !tracer_kmalloc_nested(call_site) &&
	    tracer_account_kmalloc(ptr, bytes_req))
		return;
	/*
	 * A block nobody counts reuses the address of a recorded one that
	 * was freed unseen: the record is void, or a later kfree of this
	 * block would be charged its size.  Frees go unseen when the kfree
	 * kprobe is hit inside another handler (source=kprobe) and, since
	 * 6.18, when kfree_rcu() frees through slab sheaves.
	 */
	if ((data || TRACER_SLAB_FREES_UNSEEN) && !ZERO_OR_NULL_PTR(ptr) &&
	    tracer_map_live())
		tracer_map_remove(ptr);
}

NOKPROBE_SYMBOL(tracer_tp_kmalloc);

void tracer_tp_kmalloc_node(void *data, unsigned long call_site,
			    const void *ptr, size_t bytes_req,
			    size_t bytes_alloc, gfp_t gfp_flags,
			    int node)
{
	tracer_tp_kmalloc(data, call_site, ptr, bytes_req, bytes_alloc,
			  gfp_flags);
}

NOKPROBE_SYMBOL(tracer_tp_kmalloc_node);

void tracer_tp_kfree(void *data, unsigned long call_site,
		     const void *ptr)
{
	tracer_account_kfree(ptr);
}

NOKPROBE_SYMBOL(tracer_tp_kfree);
