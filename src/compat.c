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
