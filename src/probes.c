// SPDX-License-Identifier: GPL-2.0
/*
 * probes.c - the hot path: probe handlers and their registration
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
 */
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/moduleparam.h>
#include <linux/preempt.h>
#include <linux/ptrace.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "internal.h"
#include "compat.h"

enum tracer_source { TRACER_SRC_AUTO, TRACER_SRC_KPROBE, TRACER_SRC_TP };

static const char * const tracer_source_names[] = {
	[TRACER_SRC_AUTO] = "auto",
	[TRACER_SRC_KPROBE] = "kprobe",
	[TRACER_SRC_TP] = "tracepoint",
};

static enum tracer_source tracer_source = TRACER_SRC_AUTO;

static int tracer_source_set(const char *val, const struct kernel_param *kp)
{
	int i = sysfs_match_string(tracer_source_names, val);

	if (i < 0)
		return -EINVAL;
	tracer_source = i;
	return 0;
}

static int tracer_source_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", tracer_source_names[tracer_source]);
}

static const struct kernel_param_ops tracer_source_ops = {
	.set = tracer_source_set,
	.get = tracer_source_get,
};

module_param_cb(source, &tracer_source_ops, NULL, 0444);
MODULE_PARM_DESC(source,
		 "where kmalloc/kfree events come from: auto (default), kprobe or tracepoint; reads back the one in use");

struct tracer_kprobe {
	struct kprobe kp;
	enum tracer_counter counter;
	bool registered;
};

struct tracer_kmalloc_probe {
	struct kretprobe rp;		/* source=kprobe */
	/*
	 * A kprobe on the same entry point.  source=tracepoint: it counts the
	 * calls asking for 0 bytes; source=kprobe: the calls the kretprobe
	 * missed (tracer_kmalloc_witness()).
	 */
	struct kprobe entry;
	unsigned int size_arg;
	unsigned long start, len;	/* the function's text */
	bool registered, entry_registered;
};

/* What a kmalloc entry handler hands to its return handler. */
struct tracer_kmalloc_data {
	size_t size;
};

static int tracer_count_pre(struct kprobe *kp, struct pt_regs *regs);
static int tracer_kfree_pre(struct kprobe *kp, struct pt_regs *regs);
static int tracer_kfree_bulk_pre(struct kprobe *kp, struct pt_regs *regs);

#define TRACER_COUNTED(sym, ctr) \
	{ .kp = { .symbol_name = sym, .pre_handler = tracer_count_pre }, \
	  .counter = ctr }

static struct tracer_kprobe tracer_kprobes[] = {
	TRACER_COUNTED("schedule", TRACER_SCHED),
	TRACER_COUNTED("up", TRACER_UP),
	TRACER_COUNTED("down_interruptible", TRACER_DOWN),
	TRACER_COUNTED(TRACER_MUTEX_LOCK_SYM, TRACER_LOCK),
	TRACER_COUNTED("mutex_unlock", TRACER_UNLOCK),
	/* Keeps the allocation map true; counts nothing (not a kfree call). */
	{ .kp = { .symbol_name = "kmem_cache_free_bulk",
		  .pre_handler = tracer_kfree_bulk_pre },
	  .counter = TRACER_NR_COUNTERS },
	/* Last: registered with the kprobe source only. */
	{ .kp = { .symbol_name = "kfree", .pre_handler = tracer_kfree_pre },
	  .counter = TRACER_KFREE },
};

#define TRACER_KFREE_KPROBE (ARRAY_SIZE(tracer_kprobes) - 1)

static const struct tracer_kmalloc_sym tracer_kmalloc_syms[] =
	TRACER_KMALLOC_SYMS;
static struct tracer_kmalloc_probe tracer_kmalloc[ARRAY_SIZE(tracer_kmalloc_syms)];

/*
 * Where a kretprobed function returns to while its probe is armed (the
 * kretprobe trampoline); 0 if tracer_calibrate() could not tell.
 */
static unsigned long tracer_trampoline;

/* The span of text from the first kmalloc entry point to the last one. */
static unsigned long tracer_kmalloc_lo = ULONG_MAX, tracer_kmalloc_hi;

/*
 * source=kprobe: set by the kretprobe's entry handler, which runs only when
 * the call found a free instance; tested and cleared by the entry point's
 * other kprobe, which the kprobe core runs right after it on the same CPU.
 */
static DEFINE_PER_CPU(bool, tracer_kretprobe_entered);

/* source=kprobe: monitored kmalloc calls that found no free instance. */
static atomic_long_t tracer_kmalloc_missed = ATOMIC_LONG_INIT(0);

/* The kmem tracepoints, when they are the source. */
struct tracer_tp {
	const char *name;
	void *probe;
	struct tracepoint *tp;
	void *data;			/* as registered */
};

static void tracer_tp_kmalloc(void *data, unsigned long call_site,
			      const void *ptr, size_t bytes_req,
			      size_t bytes_alloc, gfp_t gfp_flags);
static void tracer_tp_kmalloc_node(void *data, unsigned long call_site,
				   const void *ptr, size_t bytes_req,
				   size_t bytes_alloc, gfp_t gfp_flags,
				   int node);
static void tracer_tp_kfree(void *data, unsigned long call_site,
			    const void *ptr);

static struct tracer_tp tracer_tps[] = {
	/* 6.1 folded kmalloc_node into kmalloc, with a node argument. */
	{ "kmalloc", TRACER_KMALLOC_TP_HAS_NODE ?
		(void *)tracer_tp_kmalloc_node : (void *)tracer_tp_kmalloc },
	{ "kfree", tracer_tp_kfree },
#if !TRACER_KMALLOC_TP_HAS_NODE
	{ "kmalloc_node", tracer_tp_kmalloc_node },
#endif
};

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

static int tracer_count_pre(struct kprobe *kp, struct pt_regs *regs)
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
static bool tracer_kmalloc_tail_called(unsigned long caller)
{
	unsigned long start, len;

	if (likely(tracer_trampoline))
		return caller == tracer_trampoline;
	return tracer_symbol_range(caller, &start, &len) && start == caller;
}

NOKPROBE_SYMBOL(tracer_kmalloc_tail_called);

/* A kmalloc of @size returned @ptr to current; count it if monitored. */
static bool tracer_account_kmalloc(const void *ptr, size_t size)
{
	struct tracer_proc *p;

	rcu_read_lock_sched_notrace();
	p = tracer_proc_current();
	if (p) {
		/* A failed kmalloc is a call, but allocated nothing. */
		tracer_count(p, TRACER_KMALLOC, 1);
		if (ptr)
			tracer_count(p, TRACER_KMALLOC_MEM, size);
		if (!ZERO_OR_NULL_PTR(ptr))
			tracer_map_insert(ptr, size);
	}
	rcu_read_unlock_sched_notrace();
	return p;
}

NOKPROBE_SYMBOL(tracer_account_kmalloc);

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
	if (p) {
		tracer_count(p, TRACER_KFREE, 1);
		tracer_count(p, TRACER_KFREE_MEM, size);
	}
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
static int tracer_kfree_bulk_pre(struct kprobe *kp, struct pt_regs *regs)
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

static int tracer_kfree_pre(struct kprobe *kp, struct pt_regs *regs)
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

static int tracer_kmalloc_entry(struct kretprobe_instance *ri,
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
static int tracer_kmalloc_witness(struct kprobe *kp, struct pt_regs *regs)
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

static int tracer_kmalloc_ret(struct kretprobe_instance *ri,
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

static int tracer_kmalloc_zero_pre(struct kprobe *kp, struct pt_regs *regs)
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
static void tracer_tp_kmalloc(void *data, unsigned long call_site,
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

static void tracer_tp_kmalloc_node(void *data, unsigned long call_site,
				   const void *ptr, size_t bytes_req,
				   size_t bytes_alloc, gfp_t gfp_flags,
				   int node)
{
	tracer_tp_kmalloc(data, call_site, ptr, bytes_req, bytes_alloc,
			  gfp_flags);
}

NOKPROBE_SYMBOL(tracer_tp_kmalloc_node);

static void tracer_tp_kfree(void *data, unsigned long call_site,
			    const void *ptr)
{
	tracer_account_kfree(ptr);
}

NOKPROBE_SYMBOL(tracer_tp_kfree);

/* --- registration ------------------------------------------------------ */

/*
 * Learn the trampoline address: kretprobe a function of our own, which
 * reads its own return address while the return probe is armed.  (The
 * return handler cannot tell: since 5.15 the kernel sets the instruction
 * pointer to the real return address before return handlers run.)  The
 * address is right if the return probe fired and it is not where the
 * function really returned to, the address the kernel saved; otherwise
 * tracer_kmalloc_tail_called() looks callers up.
 */
static unsigned long tracer_calibration_seen, tracer_calibration_caller;

static noinline void tracer_calibration_target(void)
{
	WRITE_ONCE(tracer_calibration_seen,
		   (unsigned long)__builtin_return_address(0));
	barrier();
}

static int tracer_calibration_ret(struct kretprobe_instance *ri,
				  struct pt_regs *regs)
{
	tracer_calibration_caller = tracer_kretprobe_return_address(ri);
	return 0;
}

NOKPROBE_SYMBOL(tracer_calibration_ret);

static void tracer_calibrate(void)
{
	struct kretprobe rp = {
		.kp.addr = (kprobe_opcode_t *)tracer_calibration_target,
		.handler = tracer_calibration_ret,
		.maxactive = 1,
	};
	int ret;

	tracer_trampoline = 0;
	tracer_calibration_seen = 0;
	tracer_calibration_caller = 0;
	ret = register_kretprobe(&rp);
	if (!ret) {
		tracer_calibration_target();
		unregister_kretprobe(&rp);
	}
	if (!ret && tracer_calibration_caller && tracer_calibration_seen &&
	    tracer_calibration_seen != tracer_calibration_caller)
		tracer_trampoline = tracer_calibration_seen;
	else
		pr_warn("kretprobe trampoline not found (%d): tail-called kmalloc entry points are told apart by a symbol look-up\n",
			ret);
}

static void tracer_kmalloc_range(struct tracer_kmalloc_probe *kp,
				 unsigned long addr)
{
	if (tracer_symbol_range(addr, &kp->start, &kp->len)) {
		tracer_kmalloc_lo = min(tracer_kmalloc_lo, kp->start);
		tracer_kmalloc_hi = max(tracer_kmalloc_hi, kp->start + kp->len);
	} else {
		pr_warn("no size for %s: a large kmalloc may count twice\n",
			tracer_kmalloc_syms[kp - tracer_kmalloc].name);
	}
}

/*
 * Where the kmalloc entry points are, for tracer_kmalloc_nested(), when
 * the tracepoints are the source: a disabled kprobe resolves a symbol
 * without arming anything.
 */
static void tracer_locate_kmalloc(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(tracer_kmalloc); i++) {
		struct kprobe kp = {
			.symbol_name = tracer_kmalloc_syms[i].name,
			.flags = KPROBE_FLAG_DISABLED,
		};

		if (register_kprobe(&kp))
			continue;
		tracer_kmalloc_range(&tracer_kmalloc[i], (unsigned long)kp.addr);
		unregister_kprobe(&kp);
	}
}

/* The kprobe on kmalloc entry point @kp besides its kretprobe, if any. */
static int tracer_register_entry(struct tracer_kmalloc_probe *kp,
				 kprobe_pre_handler_t handler)
{
	int ret;

	kp->entry.symbol_name = tracer_kmalloc_syms[kp - tracer_kmalloc].name;
	kp->entry.pre_handler = handler;
	ret = register_kprobe(&kp->entry);
	if (ret && ret != -ENOENT)	/* -ENOENT: not on this kernel */
		pr_err("cannot probe %s: %d\n", kp->entry.symbol_name, ret);
	kp->entry_registered = !ret;
	return ret;
}

static void tracer_unregister_entries(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(tracer_kmalloc); i++) {
		struct tracer_kmalloc_probe *kp = &tracer_kmalloc[i];

		if (!kp->entry_registered)
			continue;
		unregister_kprobe(&kp->entry);
		kp->entry_registered = false;
		/* Beside a kretprobe, its misses are the kretprobe's. */
		if (kp->entry.nmissed && tracer_source != TRACER_SRC_KPROBE)
			pr_warn("%s: %lu hits inside another probe handler\n",
				kp->entry.symbol_name, kp->entry.nmissed);
	}
}

static int tracer_register_kmalloc(void)
{
	int i, ret, hooked = 0;

	tracer_calibrate();
	for (i = 0; i < ARRAY_SIZE(tracer_kmalloc); i++) {
		struct tracer_kmalloc_probe *kp = &tracer_kmalloc[i];

		/* First: the kretprobe's handlers then run before its own. */
		ret = tracer_register_entry(kp, tracer_kmalloc_witness);
		if (ret == -ENOENT)
			continue;
		if (ret)
			return ret;
		kp->rp.kp.symbol_name = tracer_kmalloc_syms[i].name;
		kp->rp.entry_handler = tracer_kmalloc_entry;
		kp->rp.handler = tracer_kmalloc_ret;
		kp->rp.data_size = sizeof(struct tracer_kmalloc_data);
		kp->rp.maxactive = tracer_maxactive;
		kp->size_arg = tracer_kmalloc_syms[i].size_arg;
		ret = register_kretprobe(&kp->rp);
		if (ret) {
			pr_err("cannot probe %s: %d\n",
			       kp->rp.kp.symbol_name, ret);
			return ret;
		}
		kp->registered = true;
		hooked++;
		tracer_kmalloc_range(kp, (unsigned long)kp->rp.kp.addr);
	}
	if (!hooked) {
		pr_err("no kmalloc entry point found on this kernel\n");
		return -ENOENT;
	}
	return 0;
}

static void tracer_unregister_tps(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(tracer_tps); i++) {
		if (tracer_tps[i].tp)
			tracepoint_probe_unregister(tracer_tps[i].tp,
						    tracer_tps[i].probe,
						    tracer_tps[i].data);
	}
	tracepoint_synchronize_unregister();
	for (i = 0; i < ARRAY_SIZE(tracer_tps); i++)
		tracer_tps[i].tp = NULL;
}

/*
 * Hook the kmem tracepoints: all of them to count (source=tracepoint), or
 * with @map_only (source=kprobe) the kmalloc ones, to void stale records.
 */
static int tracer_register_tps(bool map_only)
{
	struct tracepoint *tp[ARRAY_SIZE(tracer_tps)];
	int i, ret;

	/* The probes' prototypes are the ones this kernel's header declares. */
	BUILD_BUG_ON(!TRACER_TP_PROTO_IS(kfree, tracer_tp_kfree));
#if TRACER_KMALLOC_TP_HAS_NODE
	BUILD_BUG_ON(!TRACER_TP_PROTO_IS(kmalloc, tracer_tp_kmalloc_node));
#else
	BUILD_BUG_ON(!TRACER_TP_PROTO_IS(kmalloc, tracer_tp_kmalloc));
	BUILD_BUG_ON(!TRACER_TP_PROTO_IS(kmalloc_node, tracer_tp_kmalloc_node));
#endif

	for (i = 0; i < ARRAY_SIZE(tracer_tps); i++) {
		tp[i] = tracer_find_tracepoint(tracer_tps[i].name);
		if (!tp[i])
			return -ENOENT;
	}
	if (!map_only)
		tracer_locate_kmalloc();
	for (i = 0; i < ARRAY_SIZE(tracer_tps); i++) {
		if (map_only && tracer_tps[i].probe == tracer_tp_kfree)
			continue;
		ret = tracepoint_probe_register(tp[i], tracer_tps[i].probe,
						map_only ? &tracer_tps[i] : NULL);
		if (ret) {
			pr_err("cannot hook tracepoint %s: %d\n",
			       tracer_tps[i].name, ret);
			tracer_unregister_tps();
			return ret;
		}
		tracer_tps[i].tp = tp[i];
		tracer_tps[i].data = map_only ? &tracer_tps[i] : NULL;
	}
	for (i = 0; i < ARRAY_SIZE(tracer_kmalloc) && !map_only; i++) {
		if (!tracer_kmalloc_syms[i].any_size)
			continue;
		ret = tracer_register_entry(&tracer_kmalloc[i],
					    tracer_kmalloc_zero_pre);
		if (ret && ret != -ENOENT) {
			tracer_unregister_entries();
			tracer_unregister_tps();
			return ret;
		}
	}
	return 0;
}

/* Say which probe missed what: the totals alone do not tell why. */
static void tracer_report_missed(const char *sym, unsigned long nested,
				 unsigned long no_instance)
{
	if (nested || no_instance)
		pr_warn("%s: %lu hits inside another probe handler, %lu without a free kretprobe instance\n",
			sym, nested, no_instance);
}

void tracer_probes_exit(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(tracer_kprobes); i++) {
		struct kprobe *kp = &tracer_kprobes[i].kp;

		if (!tracer_kprobes[i].registered)
			continue;
		unregister_kprobe(kp);
		tracer_kprobes[i].registered = false;
		tracer_report_missed(kp->symbol_name, kp->nmissed, 0);
	}
	for (i = 0; i < ARRAY_SIZE(tracer_kmalloc); i++) {
		struct kretprobe *rp = &tracer_kmalloc[i].rp;

		if (!tracer_kmalloc[i].registered)
			continue;
		unregister_kretprobe(rp);
		tracer_kmalloc[i].registered = false;
		tracer_report_missed(rp->kp.symbol_name, rp->kp.nmissed,
				     rp->nmissed);
	}
	tracer_unregister_entries();
	tracer_unregister_tps();
}

int tracer_probes_init(void)
{
	int i, ret = -ENOENT;

	if (tracer_source != TRACER_SRC_KPROBE) {
		ret = tracer_register_tps(false);
		if (!ret)
			tracer_source = TRACER_SRC_TP;
		else if (tracer_source == TRACER_SRC_TP)
			pr_err("kmem tracepoints unavailable: %d\n", ret);
	}
	if (ret && tracer_source != TRACER_SRC_TP) {
		tracer_source = TRACER_SRC_KPROBE;
		ret = tracer_register_kmalloc();
		/* Without the tracepoints, records of kfree_bulk()ed blocks can go stale. */
		if (!ret && tracer_register_tps(true))
			pr_info("no kmem:kmalloc tracepoint: records of blocks freed by kfree_rcu() may go stale\n");
	}
	if (ret)
		goto fail;
	for (i = 0; i < ARRAY_SIZE(tracer_kprobes); i++) {
		if (i == TRACER_KFREE_KPROBE && tracer_source != TRACER_SRC_KPROBE)
			continue;
		ret = register_kprobe(&tracer_kprobes[i].kp);
		if (ret) {
			pr_err("cannot probe %s: %d\n",
			       tracer_kprobes[i].kp.symbol_name, ret);
			goto fail;
		}
		tracer_kprobes[i].registered = true;
	}
	return 0;
fail:
	tracer_probes_exit();
	return ret;
}

/*
 * Events lost for monitored tasks: their kmalloc calls that found no free
 * kretprobe instance.  (A task cannot hit a probe while a probe handler
 * runs on its CPU: handlers run with preemption off and call nothing that
 * is probed.)
 */
unsigned long tracer_probes_missed(void)
{
	return atomic_long_read(&tracer_kmalloc_missed);
}

/* kmalloc calls of any task that found no free kretprobe instance. */
unsigned long tracer_probes_instances_missed(void)
{
	unsigned long missed = 0;
	int i;

	for (i = 0; i < ARRAY_SIZE(tracer_kmalloc); i++)
		missed += tracer_kmalloc[i].rp.nmissed;
	return missed;
}

/*
 * Probe hits skipped because they came while another probe handler ran on
 * the same CPU: interrupts (never counted anyway) arriving during a
 * handler.  A kfree among them leaves a stale record in the allocation map
 * until the address is allocated again.
 */
unsigned long tracer_probes_nested(void)
{
	unsigned long nested = 0;
	int i;

	for (i = 0; i < ARRAY_SIZE(tracer_kprobes); i++)
		nested += tracer_kprobes[i].kp.nmissed;
	/*
	 * Beside a kretprobe, a nested hit counts in both probes (the kprobe
	 * core counts it in every probe of the address): the entry kprobe's
	 * count, which tracepoint-sourced ones have too.
	 */
	for (i = 0; i < ARRAY_SIZE(tracer_kmalloc); i++)
		nested += tracer_kmalloc[i].entry.nmissed;
	return nested;
}

/*
 * "kmalloc=__kmalloc,kmalloc_trace kfree=kfree sched=schedule ...
 * map=kmem_cache_free_bulk,tracepoint:kmalloc": every hook, "map" the ones
 * that only keep the allocation map true.
 */
int tracer_probes_hooked(char *buf, size_t len)
{
	static const char * const names[TRACER_NR_COUNTERS] = {
		[TRACER_KFREE] = "kfree", [TRACER_SCHED] = "sched",
		[TRACER_UP] = "up", [TRACER_DOWN] = "down",
		[TRACER_LOCK] = "lock", [TRACER_UNLOCK] = "unlock",
	};
	const char *sep = "kmalloc=";
	int i, n = 0;

	for (i = 0; i < ARRAY_SIZE(tracer_kmalloc); i++) {
		if (!tracer_kmalloc[i].registered)
			continue;
		n += scnprintf(buf + n, len - n, "%s%s", sep,
			       tracer_kmalloc[i].rp.kp.symbol_name);
		sep = ",";
	}
	if (tracer_source == TRACER_SRC_TP) {
		n += scnprintf(buf + n, len - n, "kmalloc=tracepoint:kmalloc%s",
			       TRACER_KMALLOC_TP_HAS_NODE ?
			       "" : ",tracepoint:kmalloc_node");
		for (i = 0; i < ARRAY_SIZE(tracer_kmalloc); i++)
			if (tracer_kmalloc[i].entry_registered)
				n += scnprintf(buf + n, len - n, ",%s(0)",
					       tracer_kmalloc[i].entry.symbol_name);
		n += scnprintf(buf + n, len - n, " kfree=tracepoint:kfree");
	}
	for (i = 0; i < ARRAY_SIZE(tracer_kprobes); i++)
		if (tracer_kprobes[i].registered &&
		    tracer_kprobes[i].counter < TRACER_NR_COUNTERS)
			n += scnprintf(buf + n, len - n, " %s=%s",
				       names[tracer_kprobes[i].counter],
				       tracer_kprobes[i].kp.symbol_name);
	sep = " map=";
	for (i = 0; i < ARRAY_SIZE(tracer_kprobes); i++)
		if (tracer_kprobes[i].registered &&
		    tracer_kprobes[i].counter == TRACER_NR_COUNTERS) {
			n += scnprintf(buf + n, len - n, "%s%s", sep,
				       tracer_kprobes[i].kp.symbol_name);
			sep = ",";
		}
	for (i = 0; i < ARRAY_SIZE(tracer_tps); i++)
		if (tracer_tps[i].tp && tracer_tps[i].data) {
			n += scnprintf(buf + n, len - n, "%stracepoint:%s", sep,
				       tracer_tps[i].name);
			sep = ",";
		}
	n += scnprintf(buf + n, len - n, "\n");
	return n;
}
