// SPDX-License-Identifier: GPL-2.0
/*
 * probes.c - the hot path: probe handlers and their registration
 *
 * Every handler runs for every task on the machine, with preemption off.
 * Each leaves at once when nothing is monitored, when it runs in interrupt
 * context (hardirq, softirq, NMI) or when the current task is not in a
 * monitored thread group.  Handlers take no lock and never allocate.
 *
 * Count-only functions (schedule, up, down_interruptible, mutex_lock,
 * mutex_unlock) use plain kprobes.  kfree uses a kprobe too (its argument
 * is all it needs).  The kmalloc entry points use kretprobes, whose entry
 * handler declines the return probe for everything but a monitored call.
 */
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/preempt.h>
#include <linux/ptrace.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "tracer.h"
#include "compat.h"

struct tracer_kprobe {
	struct kprobe kp;
	enum tracer_counter counter;
	bool registered;
};

struct tracer_kmalloc_probe {
	struct kretprobe rp;
	unsigned int size_arg;
	unsigned long start, len;	/* the function's text */
	bool registered;
};

/* What a kmalloc entry handler hands to its return handler. */
struct tracer_kmalloc_data {
	size_t size;
};

static int tracer_count_pre(struct kprobe *kp, struct pt_regs *regs);
static int tracer_kfree_pre(struct kprobe *kp, struct pt_regs *regs);

#define TRACER_COUNTED(sym, ctr) \
	{ .kp = { .symbol_name = sym, .pre_handler = tracer_count_pre }, \
	  .counter = ctr }

static struct tracer_kprobe tracer_kprobes[] = {
	{ .kp = { .symbol_name = "kfree", .pre_handler = tracer_kfree_pre },
	  .counter = TRACER_KFREE },
	TRACER_COUNTED("schedule", TRACER_SCHED),
	TRACER_COUNTED("up", TRACER_UP),
	TRACER_COUNTED("down_interruptible", TRACER_DOWN),
	TRACER_COUNTED(TRACER_MUTEX_LOCK_SYM, TRACER_LOCK),
	TRACER_COUNTED("mutex_unlock", TRACER_UNLOCK),
};

static const struct tracer_kmalloc_sym tracer_kmalloc_syms[] =
	TRACER_KMALLOC_SYMS;
static struct tracer_kmalloc_probe tracer_kmalloc[ARRAY_SIZE(tracer_kmalloc_syms)];

/* Where a kretprobed function returns to while its probe is armed. */
static unsigned long tracer_trampoline;

static int tracer_count_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct tracer_kprobe *tp = container_of(kp, struct tracer_kprobe, kp);
	struct tracer_proc *p;

	if (!tracer_active() || !in_task())
		return 0;
	rcu_read_lock();
	p = tracer_proc_current();
	if (p)
		tracer_count(p, tp->counter, 1);
	rcu_read_unlock();
	return 0;
}

static int tracer_kfree_pre(struct kprobe *kp, struct pt_regs *regs)
{
	const void *ptr = (const void *)regs_get_kernel_argument(regs, 0);
	bool active = tracer_active();
	struct tracer_proc *p;
	size_t size = 0;

	/* kfree(NULL) and kfree(ZERO_SIZE_PTR) free nothing. */
	if (ZERO_OR_NULL_PTR(ptr))
		return 0;
	/* Whoever frees a recorded block, its record goes. */
	if (active || tracer_map_live())
		tracer_map_remove(ptr, &size);
	if (!active || !in_task())
		return 0;
	rcu_read_lock();
	p = tracer_proc_current();
	if (p) {
		tracer_count(p, TRACER_KFREE, 1);
		tracer_count(p, TRACER_KFREE_MEM, size);
	}
	rcu_read_unlock();
	return 0;
}

/*
 * A kmalloc entry point called by another one (on 5.10 __kmalloc() calls
 * kmalloc_order_trace() for large sizes, on 6.11+ __kmalloc_noprof() calls
 * __kmalloc_large_node_noprof()) is the same kmalloc: only the outer call
 * counts.  The return address tells: it lies in a hooked function, or it
 * is the kretprobe trampoline when the outer function tail-called us.
 */
static bool tracer_kmalloc_nested(unsigned long ret)
{
	int i;

	if (ret == tracer_trampoline)
		return true;
	for (i = 0; i < ARRAY_SIZE(tracer_kmalloc); i++)
		if (ret - tracer_kmalloc[i].start < tracer_kmalloc[i].len)
			return true;
	return false;
}

static int tracer_kmalloc_entry(struct kretprobe_instance *ri,
				struct pt_regs *regs)
{
	struct tracer_kmalloc_probe *kp =
		container_of(tracer_get_kretprobe(ri),
			     struct tracer_kmalloc_probe, rp);
	struct tracer_kmalloc_data *d = (void *)ri->data;
	bool monitored;

	if (!tracer_active() || !in_task())
		return 1;
	rcu_read_lock();
	monitored = tracer_proc_current();
	rcu_read_unlock();
	/* At entry, the stack pointer points to the return address. */
	if (!monitored ||
	    tracer_kmalloc_nested(*(unsigned long *)kernel_stack_pointer(regs)))
		return 1;
	d->size = regs_get_kernel_argument(regs, kp->size_arg);
	return 0;
}

static int tracer_kmalloc_ret(struct kretprobe_instance *ri,
			      struct pt_regs *regs)
{
	struct tracer_kmalloc_data *d = (void *)ri->data;
	void *ptr = (void *)regs_return_value(regs);
	struct tracer_proc *p;

	rcu_read_lock();
	p = tracer_proc_current();
	if (p) {
		tracer_count(p, TRACER_KMALLOC, 1);
		tracer_count(p, TRACER_KMALLOC_MEM, d->size);
		if (!ZERO_OR_NULL_PTR(ptr))
			tracer_map_insert(ptr, d->size);
	}
	rcu_read_unlock();
	return 0;
}

/*
 * Learn the trampoline address: kretprobe a function of our own and look
 * where its return handler says the function returned to.
 */
static int tracer_calibration_sink;

static noinline void tracer_calibration_target(void)
{
	WRITE_ONCE(tracer_calibration_sink, 1);
	barrier();
}

static int tracer_calibration_ret(struct kretprobe_instance *ri,
				  struct pt_regs *regs)
{
	tracer_trampoline = instruction_pointer(regs);
	return 0;
}

static void tracer_calibrate(void)
{
	struct kretprobe rp = {
		.kp.addr = (kprobe_opcode_t *)tracer_calibration_target,
		.handler = tracer_calibration_ret,
		.maxactive = 1,
	};

	if (register_kretprobe(&rp))
		return;
	tracer_calibration_target();
	unregister_kretprobe(&rp);
}

static int tracer_register_kmalloc(void)
{
	int i, ret, hooked = 0;

	for (i = 0; i < ARRAY_SIZE(tracer_kmalloc); i++) {
		struct tracer_kmalloc_probe *kp = &tracer_kmalloc[i];

		kp->rp.kp.symbol_name = tracer_kmalloc_syms[i].name;
		kp->rp.entry_handler = tracer_kmalloc_entry;
		kp->rp.handler = tracer_kmalloc_ret;
		kp->rp.data_size = sizeof(struct tracer_kmalloc_data);
		kp->rp.maxactive = tracer_maxactive;
		kp->size_arg = tracer_kmalloc_syms[i].size_arg;
		ret = register_kretprobe(&kp->rp);
		if (ret == -ENOENT)	/* not on this kernel */
			continue;
		if (ret) {
			pr_err("tracer: cannot probe %s: %d\n",
			       kp->rp.kp.symbol_name, ret);
			return ret;
		}
		kp->registered = true;
		hooked++;
		if (!tracer_symbol_range((unsigned long)kp->rp.kp.addr,
					 &kp->start, &kp->len))
			pr_warn("tracer: no size for %s: a large kmalloc may count twice\n",
				kp->rp.kp.symbol_name);
	}
	if (!hooked) {
		pr_err("tracer: no kmalloc entry point found on this kernel\n");
		return -ENOENT;
	}
	return 0;
}

void tracer_probes_exit(void)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(tracer_kprobes); i++) {
		if (tracer_kprobes[i].registered)
			unregister_kprobe(&tracer_kprobes[i].kp);
		tracer_kprobes[i].registered = false;
	}
	for (i = 0; i < ARRAY_SIZE(tracer_kmalloc); i++) {
		if (tracer_kmalloc[i].registered)
			unregister_kretprobe(&tracer_kmalloc[i].rp);
		tracer_kmalloc[i].registered = false;
	}
}

int tracer_probes_init(void)
{
	int i, ret;

	tracer_calibrate();
	ret = tracer_register_kmalloc();
	if (ret)
		goto fail;
	for (i = 0; i < ARRAY_SIZE(tracer_kprobes); i++) {
		ret = register_kprobe(&tracer_kprobes[i].kp);
		if (ret) {
			pr_err("tracer: cannot probe %s: %d\n",
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

/* Events the probes could not see: recursion, or no kretprobe instance. */
unsigned long tracer_probes_missed(void)
{
	unsigned long missed = 0;
	int i;

	for (i = 0; i < ARRAY_SIZE(tracer_kprobes); i++)
		missed += tracer_kprobes[i].kp.nmissed;
	for (i = 0; i < ARRAY_SIZE(tracer_kmalloc); i++)
		missed += tracer_kmalloc[i].rp.nmissed +
			  tracer_kmalloc[i].rp.kp.nmissed;
	return missed;
}

/* "kmalloc=__kmalloc,kmalloc_trace kfree=kfree sched=schedule ..." */
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
	for (i = 0; i < ARRAY_SIZE(tracer_kprobes); i++)
		if (tracer_kprobes[i].registered)
			n += scnprintf(buf + n, len - n, " %s=%s",
				       names[tracer_kprobes[i].counter],
				       tracer_kprobes[i].kp.symbol_name);
	n += scnprintf(buf + n, len - n, "\n");
	return n;
}
