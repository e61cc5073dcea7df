// SPDX-License-Identifier: GPL-2.0
/*
 * compat.c - helpers whose implementation is the same on every supported
 * kernel but that exist only because the kernel does not export them.
 */
#include <linux/kallsyms.h>
#include <linux/kernel.h>
#include <linux/string.h>

#include "compat.h"

struct tracer_tp_lookup {
	const char *name;
	struct tracepoint *tp;
};

static void tracer_tp_match(struct tracepoint *tp, void *priv)
{
	struct tracer_tp_lookup *l = priv;

	if (!strcmp(tp->name, l->name))
		l->tp = tp;
}

/* Built-in tracepoints are not all exported; find one by its name. */
struct tracepoint *tracer_find_tracepoint(const char *name)
{
	struct tracer_tp_lookup l = { .name = name };

	for_each_kernel_tracepoint(tracer_tp_match, &l);
	return l.tp;
}

/*
 * Hook the tracepoints of @h[0..n) (found by name): all, or none and the
 * error (-ENOENT if one is missing).
 */
int tracer_tp_hook(struct tracer_tp_hook *h, unsigned int n)
{
	unsigned int i;
	int ret = 0;

	for (i = 0; i < n; i++) {
		h[i].tp = tracer_find_tracepoint(h[i].name);
		ret = h[i].tp ? tracepoint_probe_register(h[i].tp, h[i].fn, NULL) :
				-ENOENT;
		if (ret)
			break;
	}
	if (!ret)
		return 0;
	tracer_tp_unhook(h, i);
	return ret;
}

/* Unhook @h[0..n); when this returns, none of their probes runs. */
void tracer_tp_unhook(struct tracer_tp_hook *h, unsigned int n)
{
	while (n--)
		tracepoint_probe_unregister(h[n].tp, h[n].fn, NULL);
	tracepoint_synchronize_unregister();
}

/* kallsyms prints "name+0x4/0x1a0": offset of @addr, then function size. */
bool tracer_symbol_range(unsigned long addr, unsigned long *start,
			 unsigned long *size)
{
	char buf[KSYM_SYMBOL_LEN];
	unsigned long off;
	char *plus;

	sprint_symbol(buf, addr);
	plus = strrchr(buf, '+');
	if (!plus || sscanf(plus + 1, "%lx/%lx", &off, size) != 2)
		return false;
	*start = addr - off;
	return true;
}

/* Called by a kprobe handler (tracer_kmalloc_tail_called()). */
NOKPROBE_SYMBOL(tracer_symbol_range);
