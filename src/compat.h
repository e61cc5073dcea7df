/* SPDX-License-Identifier: GPL-2.0 */
/*
 * compat.h - what differs between the kernels the module supports
 *
 * Every difference is a small named shim here, keyed on LINUX_VERSION_CODE
 * or on kernel configuration (the architecture among it); the rest of the
 * module is version- and architecture-free.  Supported: 5.10 (Debian
 * bullseye) to 7.x (Debian sid), on x86-64 and arm64.
 */
#ifndef _TRACER_COMPAT_H
#define _TRACER_COMPAT_H

#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/kprobes.h>
#include <linux/ptrace.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/tracepoint.h>
#include <linux/version.h>
#include <trace/events/kmem.h>
#include <trace/events/sched.h>

/* The one place that reads the version: is this kernel @a.@b or newer? */
#define TRACER_KERNEL_AT_LEAST(a, b) \
	(KERNEL_VERSION(a, b, 0) <= LINUX_VERSION_CODE)

#if !TRACER_KERNEL_AT_LEAST(5, 10)
#error "tracer needs Linux 5.10 or newer"
#endif

/*
 * The exported entry points behind kmalloc() and its flavours (kzalloc,
 * kcalloc, kmalloc_array, kmalloc_node, kmalloc_track_caller: kmemdup,
 * kstrdup, ...), with the position of the requested size among their
 * arguments.  A name a running kernel lacks is skipped at load time.
 *
 * 5.10-6.0: constant sizes go to kmem_cache_alloc{,_node}_trace(), large
 *	constant sizes to kmalloc_order_trace(), which __kmalloc() also
 *	calls (tail-calls) for large variable sizes.
 * 6.1-6.9: kmalloc_trace(), kmalloc_large(), their _node twins; large
 *	variable sizes stay inside __kmalloc().
 * 6.10: the same, with the allocation-profiling _noprof suffix.
 * 6.11+: __kmalloc_cache{,_node}_noprof(), __kmalloc_large{,_node}_noprof();
 *	__kmalloc{,_node}_noprof() call __kmalloc_large_node_noprof() for
 *	large variable sizes.
 * One kmalloc() is counted once: a hooked entry point called from inside
 * another one (or tail-called by it) is not counted again (probes.c).
 * kmalloc(0) returns ZERO_SIZE_PTR from an any-size entry point before
 * the kmem:kmalloc tracepoint fires: the tracepoint source watches those
 * entry points for size 0 with plain kprobes.
 */
struct tracer_kmalloc_sym {
	const char *name;
	unsigned int size_arg;
	bool any_size;	/* takes any size, 0 too (not a cache or large one) */
};

#if TRACER_KERNEL_AT_LEAST(6, 11)
#define TRACER_KMALLOC_SYMS {					\
	{ "__kmalloc_noprof", 0, true },			\
	{ "__kmalloc_node_noprof", 0, true },			\
	{ "__kmalloc_cache_noprof", 2, false },			\
	{ "__kmalloc_cache_node_noprof", 3, false },		\
	{ "__kmalloc_large_noprof", 0, false },			\
	{ "__kmalloc_large_node_noprof", 0, false },		\
	{ "__kmalloc_node_track_caller_noprof", 0, true },	\
}
#elif TRACER_KERNEL_AT_LEAST(6, 10)
#define TRACER_KMALLOC_SYMS {					\
	{ "__kmalloc_noprof", 0, true },			\
	{ "__kmalloc_node_noprof", 0, true },			\
	{ "kmalloc_trace_noprof", 2, false },			\
	{ "kmalloc_node_trace_noprof", 3, false },		\
	{ "kmalloc_large_noprof", 0, false },			\
	{ "kmalloc_large_node_noprof", 0, false },		\
	{ "__kmalloc_node_track_caller_noprof", 0, true },	\
}
#elif TRACER_KERNEL_AT_LEAST(6, 1)
#define TRACER_KMALLOC_SYMS {					\
	{ "__kmalloc", 0, true },				\
	{ "__kmalloc_node", 0, true },				\
	{ "kmalloc_trace", 2, false },				\
	{ "kmalloc_node_trace", 3, false },			\
	{ "kmalloc_large", 0, false },				\
	{ "kmalloc_large_node", 0, false },			\
	{ "__kmalloc_node_track_caller", 0, true },		\
}
#else
#define TRACER_KMALLOC_SYMS {					\
	{ "__kmalloc", 0, true },				\
	{ "__kmalloc_node", 0, true },				\
	{ "kmem_cache_alloc_trace", 2, false },			\
	{ "kmem_cache_alloc_node_trace", 3, false },		\
	{ "kmalloc_order_trace", 0, false },			\
	{ "__kmalloc_track_caller", 0, true },			\
	{ "__kmalloc_node_track_caller", 0, true },		\
}
#endif

/* With lockdep, mutex_lock() is a macro around mutex_lock_nested(). */
#ifdef CONFIG_DEBUG_LOCK_ALLOC
#define TRACER_MUTEX_LOCK_SYM "mutex_lock_nested"
#else
#define TRACER_MUTEX_LOCK_SYM "mutex_lock"
#endif

/*
 * Does tracepoint @tp take probes of function type @type (or of the type of
 * function @fn)?  Asks the tracepoint header, at compile time.
 */
#define TRACER_TP_PROBE_IS(tp, type)					\
	__builtin_types_compatible_p(typeof(register_trace_##tp) *,	\
				     int (*)(type *, void *))
#define TRACER_TP_PROTO_IS(tp, fn) TRACER_TP_PROBE_IS(tp, typeof(fn))

/* 6.1 folded the kmalloc_node tracepoint into kmalloc (node argument). */
#define TRACER_KMALLOC_TP_HAS_NODE \
	TRACER_KERNEL_AT_LEAST(6, 1)

/*
 * sched_process_exit gained a group_dead argument in 6.16 (and moved before
 * exit_mm()); both versions run after signal->live is dropped.
 */
typedef void tracer_exit_gd_probe_t(void *data, struct task_struct *task,
				    bool group_dead);
#define TRACER_EXIT_HAS_GROUP_DEAD \
	TRACER_TP_PROBE_IS(sched_process_exit, tracer_exit_gd_probe_t)

/*
 * Since 6.18 kfree_rcu() can free kmalloc blocks through slab sheaves,
 * past every kfree hook: allocation records must be voided when their
 * address is handed out again.
 */
#define TRACER_SLAB_FREES_UNSEEN \
	TRACER_KERNEL_AT_LEAST(6, 18)

/* The kretprobe an instance belongs to (5.11 moved it behind a helper). */
#if !TRACER_KERNEL_AT_LEAST(5, 11)
#define tracer_get_kretprobe(ri) ((ri)->rp)
#else
#define tracer_get_kretprobe(ri) get_kretprobe(ri)
#endif

/*
 * What a probe handler reads of the probed function's registers.  The
 * module runs on x86-64 and arm64 (dkms.conf refuses other architectures);
 * this is the one place that knows how they differ.
 *
 * Argument @n of the function, at its entry: the kernel's accessor, for
 * arguments in registers on both (x86-64 passes six there, arm64 eight;
 * the module reads arguments 0 to 3).  Bounding @n first lets the
 * compiler drop the accessor's stack-argument branch, whose fault-handling
 * copy would cost every caller a stack canary.  The return value, in a
 * return handler, is regs_return_value() everywhere.
 */
static __always_inline unsigned long tracer_arg(struct pt_regs *regs,
						unsigned int n)
{
	return n < 4 ? regs_get_kernel_argument(regs, n) : 0;
}

/*
 * Where the function returns to, read by a kprobe on its first
 * instruction, before the function has touched its stack or registers:
 * the call pushed it on x86-64, it is in the link register on arm64.
 * (A kretprobe's entry handler has no better source: the kernel saves the
 * return address in the instance only after the entry handler ran.)
 */
static __always_inline unsigned long
tracer_entry_return_address(struct pt_regs *regs)
{
#if defined(CONFIG_X86_64)
	/*
	 * The top of the live kernel stack: a plain load.  (The kernel's
	 * regs_get_kernel_stack_nth() copies it with fault handling, a call
	 * that cost the monitored kmalloc path about 100 instructions.)
	 */
	return *(unsigned long *)kernel_stack_pointer(regs);
#elif defined(CONFIG_ARM64)
	return procedure_link_pointer(regs);
#else
#error "tracer supports x86-64 and arm64 only"
#endif
}

/*
 * Where the function of kretprobe instance @ri returns to: the return
 * address the kernel saved when it armed the return probe, on every
 * architecture (5.18 moved it into the rethook node, behind a helper).
 * Valid in the return handler, not yet in the entry handler.  When one
 * probed function tail-called another, kernels before 5.18 give both
 * instances the outer call's return address by then.
 */
#if TRACER_KERNEL_AT_LEAST(5, 18)
#define tracer_kretprobe_return_address(ri) get_kretprobe_retaddr(ri)
#else
#define tracer_kretprobe_return_address(ri) ((unsigned long)(ri)->ret_addr)
#endif

/*
 * Charge the current task's __GFP_ACCOUNT allocations to @memcg (process
 * context).  5.10 does not export the per-CPU scope that set_active_memcg()
 * also names for interrupts: there the task's own is set directly.
 */
#if defined(CONFIG_MEMCG) && !TRACER_KERNEL_AT_LEAST(5, 11)
static inline struct mem_cgroup *
tracer_set_active_memcg(struct mem_cgroup *memcg)
{
	struct mem_cgroup *old = current->active_memcg;

	current->active_memcg = memcg;
	return old;
}
#else
#define tracer_set_active_memcg(memcg) set_active_memcg(memcg)
#endif

/* A pointer argument of ioctl, from a 64-bit or a 32-bit caller. */
static inline void __user *tracer_compat_ptr(unsigned long arg)
{
#ifdef CONFIG_COMPAT
	if (in_compat_syscall())
		return compat_ptr(arg);
#endif
	return (void __user *)arg;
}

/*
 * Is @task's program dumpable by its owner?  If not, *@ns is the user
 * namespace in which ptrace asks for CAP_SYS_PTRACE.  Until 7.x both live
 * in the mm (under task_lock()); 7.x moved them to task->exec_state (RCU).
 * Call between tracer_exec_lock() and tracer_exec_unlock().
 */
#ifdef TRACER_HAS_EXEC_STATE	/* src/Kbuild: the headers have it */
#include <linux/sched/exec_state.h>
static inline void tracer_exec_lock(struct task_struct *task) __acquires(RCU)
{
	rcu_read_lock();
}

static inline void tracer_exec_unlock(struct task_struct *task)
	__releases(RCU)
{
	rcu_read_unlock();
}

static inline bool tracer_exec_dumpable(struct task_struct *task,
					struct user_namespace **ns)
{
	struct task_exec_state *es = rcu_dereference(task->exec_state);

	*ns = es ? es->user_ns : NULL;
	return !es || es->dumpable == TASK_DUMPABLE_OWNER;
}
#else
#include <linux/sched/coredump.h>
#include <linux/sched/task.h>
static inline void tracer_exec_lock(struct task_struct *task)
	__acquires(&task->alloc_lock)
{
	task_lock(task);
}

static inline void tracer_exec_unlock(struct task_struct *task)
	__releases(&task->alloc_lock)
{
	task_unlock(task);
}

static inline bool tracer_exec_dumpable(struct task_struct *task,
					struct user_namespace **ns)
{
	struct mm_struct *mm = task->mm;

	*ns = mm ? mm->user_ns : NULL;
	return !mm || get_dumpable(mm) == SUID_DUMP_USER;
}
#endif

struct tracepoint *tracer_find_tracepoint(const char *name);

/* A probe on a built-in tracepoint, named: tracer_tp_hook() finds it. */
struct tracer_tp_hook {
	const char *name;
	void *fn;
	struct tracepoint *tp;
};

int tracer_tp_hook(struct tracer_tp_hook *h, unsigned int n);
void tracer_tp_unhook(struct tracer_tp_hook *h, unsigned int n);

/* Start and size of the kernel function that contains @addr. */
bool tracer_symbol_range(unsigned long addr, unsigned long *start,
			 unsigned long *size);

#endif /* _TRACER_COMPAT_H */
