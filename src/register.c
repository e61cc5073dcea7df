// SPDX-License-Identifier: GPL-2.0
/*
 * register.c - hooking the handlers of probes.c up: kprobes, kretprobes and
 * tracepoints, by the "source" parameter, and what they report (missed,
 * nested, hooked)
 */
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "internal.h"
#include "probes.h"

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

/* The count-only kprobes, and those that keep the allocation map true. */
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

/* The kmem tracepoints: all count with source=tracepoint. */
static struct tracer_tp tracer_tps[] = {
	/* 6.1 folded kmalloc_node into kmalloc, with a node argument. */
	{ "kmalloc", TRACER_KMALLOC_TP_HAS_NODE ?
		(void *)tracer_tp_kmalloc_node : (void *)tracer_tp_kmalloc },
	{ "kfree", tracer_tp_kfree },
#if !TRACER_KMALLOC_TP_HAS_NODE
	{ "kmalloc_node", tracer_tp_kmalloc_node },
#endif
};

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

	for (i = 0; i < tracer_nr_kmalloc; i++) {
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

	for (i = 0; i < tracer_nr_kmalloc; i++) {
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
	for (i = 0; i < tracer_nr_kmalloc; i++) {
		struct tracer_kmalloc_probe *kp = &tracer_kmalloc[i];

		/*
		 * First: the kretprobe's handlers then run before its own.
		 * (Alone for a moment, it sees no monitored process: the
		 * table is empty until the device exists.)
		 */
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
	for (i = 0; i < tracer_nr_kmalloc && !map_only; i++) {
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
	/*
	 * The witnesses before their kretprobes: alone, a witness would take
	 * every monitored call for one that found no instance.
	 */
	tracer_unregister_entries();
	for (i = 0; i < tracer_nr_kmalloc; i++) {
		struct kretprobe *rp = &tracer_kmalloc[i].rp;

		if (!tracer_kmalloc[i].registered)
			continue;
		unregister_kretprobe(rp);
		tracer_kmalloc[i].registered = false;
		tracer_report_missed(rp->kp.symbol_name, rp->kp.nmissed,
				     rp->nmissed);
	}
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

	for (i = 0; i < tracer_nr_kmalloc; i++)
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
	for (i = 0; i < tracer_nr_kmalloc; i++)
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

	for (i = 0; i < tracer_nr_kmalloc; i++) {
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
		for (i = 0; i < tracer_nr_kmalloc; i++)
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
