// SPDX-License-Identifier: GPL-2.0
/*
 * bare_probes - the floor of the tracer's probe mechanism (benchmark only)
 *
 * Hooks what tracer.ko hooks per operation, with handlers that do nothing,
 * so that `make bench` can tell the cost of the mechanism from the cost of
 * the tracer's own work.  What to hook is given as comma-separated lists
 * (bench/guest/run.sh derives them from tracer.ko's "hooked" parameter, so
 * the floor follows the tracer as it changes):
 *
 *   kprobes=sym,...      kprobes with an empty pre-handler
 *   kretprobes=sym,...   kretprobes whose entry handler declines the return
 *                        probe (returns 1): what the tracer does for a task
 *                        it does not monitor; with armed=1 it accepts it and
 *                        an empty return handler runs (the floor of a
 *                        monitored kmalloc)
 *   tracepoints=tp,...   empty probes on kmem:kmalloc, kmem:kmalloc_node,
 *                        kmem:kfree
 *
 * At least one list is required: the module knows nothing of the tracer's
 * sources and reads none of them.  Read-only parameters: missed (return
 * probes without an instance), nested (hits inside another probe), hooked.
 * Never shipped.
 */
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <linux/version.h>
#include <trace/events/kmem.h>

#define BARE_MAX 24

static char *kprobes;
module_param(kprobes, charp, 0444);
MODULE_PARM_DESC(kprobes, "symbols to kprobe, comma-separated");

static char *kretprobes;
module_param(kretprobes, charp, 0444);
MODULE_PARM_DESC(kretprobes, "symbols to kretprobe, comma-separated");

static char *tracepoints;
module_param(tracepoints, charp, 0444);
MODULE_PARM_DESC(tracepoints, "kmem tracepoints: kmalloc, kmalloc_node, kfree");

static bool armed;
module_param(armed, bool, 0444);
MODULE_PARM_DESC(armed, "kretprobes: arm the return probe too (empty return handler)");

static int bare_pre(struct kprobe *kp, struct pt_regs *regs)
{
	return 0;
}

static int bare_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	return !armed;	/* 1: no return probe */
}

static int bare_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	return 0;
}

static void bare_tp_kmalloc(void *data, unsigned long call_site,
			    const void *ptr, size_t bytes_req,
			    size_t bytes_alloc, gfp_t gfp_flags)
{
}

static void bare_tp_kmalloc_node(void *data, unsigned long call_site,
				 const void *ptr, size_t bytes_req,
				 size_t bytes_alloc, gfp_t gfp_flags, int node)
{
}

static void bare_tp_kfree(void *data, unsigned long call_site,
			  const void *ptr)
{
}

/* 6.1 folded the kmalloc_node tracepoint into kmalloc (node argument). */
#define BARE_KMALLOC_TP_HAS_NODE \
	(LINUX_VERSION_CODE >= KERNEL_VERSION(6, 1, 0))

/* Does tracepoint @tp take probes of the type of function @fn? */
#define BARE_TP_PROTO_IS(tp, fn)					\
	__builtin_types_compatible_p(typeof(register_trace_##tp) *,	\
				     int (*)(typeof(fn) *, void *))

struct bare_tp {
	const char *name;
	void *probe;
	struct tracepoint *tp;
};

static struct bare_tp bare_tps[] = {
	{ "kmalloc", BARE_KMALLOC_TP_HAS_NODE ?
		(void *)bare_tp_kmalloc_node : (void *)bare_tp_kmalloc },
	{ "kfree", bare_tp_kfree },
#if !BARE_KMALLOC_TP_HAS_NODE
	{ "kmalloc_node", bare_tp_kmalloc_node },
#endif
};

static struct kprobe bare_kp[BARE_MAX];
static struct kretprobe bare_rp[BARE_MAX];
static int bare_nkp, bare_nrp;
static char *bare_names[3];	/* copies of the lists, for the probes */

struct bare_tp_lookup {
	const char *name;
	struct tracepoint *tp;
};

static void bare_tp_match(struct tracepoint *tp, void *priv)
{
	struct bare_tp_lookup *l = priv;

	if (!strcmp(tp->name, l->name))
		l->tp = tp;
}

static struct tracepoint *bare_find_tp(const char *name)
{
	struct bare_tp_lookup l = { .name = name };

	for_each_kernel_tracepoint(bare_tp_match, &l);
	return l.tp;
}

/* Return probes lost for want of a free instance (the tracer's "missed"). */
static unsigned long bare_missed(void)
{
	unsigned long n = 0;
	int i;

	for (i = 0; i < bare_nrp; i++)
		n += bare_rp[i].nmissed;
	return n;
}

/* Hits skipped because another probe ran on the CPU (the tracer's "nested"). */
static unsigned long bare_nested(void)
{
	unsigned long n = 0;
	int i;

	for (i = 0; i < bare_nkp; i++)
		n += bare_kp[i].nmissed;
	for (i = 0; i < bare_nrp; i++)
		n += bare_rp[i].kp.nmissed;
	return n;
}

static int bare_get_count(char *buf, const struct kernel_param *kp)
{
	unsigned long (*fn)(void) = kp->arg;

	return sysfs_emit(buf, "%lu\n", fn());
}

static const struct kernel_param_ops bare_count_ops = {
	.get = bare_get_count,
};

module_param_cb(missed, &bare_count_ops, bare_missed, 0444);
MODULE_PARM_DESC(missed, "return probes lost for want of an instance (read-only)");
module_param_cb(nested, &bare_count_ops, bare_nested, 0444);
MODULE_PARM_DESC(nested, "hits skipped inside another probe (read-only)");

static int bare_get_hooked(char *buf, const struct kernel_param *kp)
{
	int i, n = 0;

	for (i = 0; i < bare_nrp; i++)
		n += scnprintf(buf + n, PAGE_SIZE - n, "kretprobe:%s ",
			       bare_rp[i].kp.symbol_name);
	for (i = 0; i < ARRAY_SIZE(bare_tps); i++)
		if (bare_tps[i].tp)
			n += scnprintf(buf + n, PAGE_SIZE - n,
				       "tracepoint:%s ", bare_tps[i].name);
	for (i = 0; i < bare_nkp; i++)
		n += scnprintf(buf + n, PAGE_SIZE - n, "kprobe:%s ",
			       bare_kp[i].symbol_name);
	n += scnprintf(buf + n, PAGE_SIZE - n, "\n");
	return n;
}

static const struct kernel_param_ops bare_hooked_ops = {
	.get = bare_get_hooked,
};

module_param_cb(hooked, &bare_hooked_ops, NULL, 0444);
MODULE_PARM_DESC(hooked, "what is hooked (read-only)");

static void bare_unregister(void)
{
	int i;

	for (i = 0; i < bare_nkp; i++)
		unregister_kprobe(&bare_kp[i]);
	bare_nkp = 0;
	for (i = 0; i < bare_nrp; i++)
		unregister_kretprobe(&bare_rp[i]);
	bare_nrp = 0;
	for (i = 0; i < ARRAY_SIZE(bare_tps); i++)
		if (bare_tps[i].tp)
			tracepoint_probe_unregister(bare_tps[i].tp,
						    bare_tps[i].probe, NULL);
	tracepoint_synchronize_unregister();
	for (i = 0; i < ARRAY_SIZE(bare_tps); i++)
		bare_tps[i].tp = NULL;
}

static int bare_add_tp(const char *name)
{
	int i, ret;

	for (i = 0; i < ARRAY_SIZE(bare_tps); i++) {
		struct tracepoint *tp;

		if (strcmp(bare_tps[i].name, name))
			continue;
		if (bare_tps[i].tp)
			return 0;
		tp = bare_find_tp(name);
		if (!tp)
			return -ENOENT;
		ret = tracepoint_probe_register(tp, bare_tps[i].probe, NULL);
		if (!ret)
			bare_tps[i].tp = tp;
		return ret;
	}
	return -EINVAL;
}

static int bare_add_kprobe(const char *sym)
{
	struct kprobe *kp = &bare_kp[bare_nkp];
	int ret;

	if (bare_nkp == BARE_MAX)
		return -E2BIG;
	kp->symbol_name = sym;
	kp->pre_handler = bare_pre;
	ret = register_kprobe(kp);
	if (!ret)
		bare_nkp++;
	return ret;
}

static int bare_add_kretprobe(const char *sym)
{
	struct kretprobe *rp = &bare_rp[bare_nrp];
	int ret;

	if (bare_nrp == BARE_MAX)
		return -E2BIG;
	rp->kp.symbol_name = sym;
	rp->entry_handler = bare_entry;
	rp->handler = bare_ret;
	rp->maxactive = 512;	/* the tracer's default */
	ret = register_kretprobe(rp);
	if (!ret)
		bare_nrp++;
	return ret;
}

/* Register every name of the comma-separated @list (in bare_names) with @add. */
static int bare_add_list(char *list, int (*add)(const char *))
{
	char *name;
	int ret;

	while ((name = strsep(&list, ",")) != NULL) {
		if (!*name)
			continue;
		ret = add(name);
		if (ret) {
			pr_err("bare_probes: cannot hook %s: %d\n", name, ret);
			return ret;
		}
	}
	return 0;
}

static int __init bare_init(void)
{
	static int (* const add[])(const char *) = {
		bare_add_kretprobe, bare_add_tp, bare_add_kprobe,
	};
	const char *lists[3];
	int i, ret = 0;

	lists[0] = kretprobes;
	lists[1] = tracepoints;
	lists[2] = kprobes;

	/* The probes' prototypes are the ones this kernel's header declares. */
	BUILD_BUG_ON(!BARE_TP_PROTO_IS(kfree, bare_tp_kfree));
#if BARE_KMALLOC_TP_HAS_NODE
	BUILD_BUG_ON(!BARE_TP_PROTO_IS(kmalloc, bare_tp_kmalloc_node));
#else
	BUILD_BUG_ON(!BARE_TP_PROTO_IS(kmalloc, bare_tp_kmalloc));
	BUILD_BUG_ON(!BARE_TP_PROTO_IS(kmalloc_node, bare_tp_kmalloc_node));
#endif

	if (!kprobes && !kretprobes && !tracepoints) {
		pr_err("bare_probes: give kprobes=, kretprobes= or tracepoints=\n");
		return -EINVAL;
	}
	for (i = 0; i < ARRAY_SIZE(lists) && !ret; i++) {
		if (!lists[i])
			continue;
		/* The probes keep pointers into this copy. */
		bare_names[i] = kstrdup(lists[i], GFP_KERNEL);
		ret = bare_names[i] ? bare_add_list(bare_names[i], add[i]) :
				      -ENOMEM;
	}
	if (ret) {
		bare_unregister();
		for (i = 0; i < ARRAY_SIZE(bare_names); i++)
			kfree(bare_names[i]);
	}
	return ret;
}

static void __exit bare_exit(void)
{
	int i;

	bare_unregister();
	for (i = 0; i < ARRAY_SIZE(bare_names); i++)
		kfree(bare_names[i]);
}

module_init(bare_init);
module_exit(bare_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Empty probes on the tracer's hooks: the floor of the mechanism (benchmark only)");
