/* SPDX-License-Identifier: GPL-2.0 */
/*
 * probes.h - what the handlers (probes.c) and their registration
 * (register.c) share
 */
#ifndef TRACER_PROBES_H
#define TRACER_PROBES_H

#include <linux/kprobes.h>
#include <linux/tracepoint.h>

#include "compat.h"

enum tracer_source { TRACER_SRC_AUTO, TRACER_SRC_KPROBE, TRACER_SRC_TP };

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

/* The kmem tracepoints. */
struct tracer_tp {
	const char *name;
	void *probe;
	struct tracepoint *tp;
	void *data;			/* as registered */
};

/* The kmalloc entry points of this kernel (compat.h), and their probes. */
extern const struct tracer_kmalloc_sym tracer_kmalloc_syms[];
extern struct tracer_kmalloc_probe tracer_kmalloc[];
extern const unsigned int tracer_nr_kmalloc;

/*
 * Where a kretprobed function returns to while its probe is armed (the
 * kretprobe trampoline); 0 if tracer_calibrate() could not tell.
 */
extern unsigned long tracer_trampoline;

/* The span of text from the first kmalloc entry point to the last one. */
extern unsigned long tracer_kmalloc_lo, tracer_kmalloc_hi;

/* source=kprobe: monitored kmalloc calls that found no free instance. */
extern atomic_long_t tracer_kmalloc_missed;

/* The handlers (probes.c). */
int tracer_count_pre(struct kprobe *kp, struct pt_regs *regs);
int tracer_kfree_pre(struct kprobe *kp, struct pt_regs *regs);
int tracer_kfree_bulk_pre(struct kprobe *kp, struct pt_regs *regs);
int tracer_kmalloc_entry(struct kretprobe_instance *ri, struct pt_regs *regs);
int tracer_kmalloc_ret(struct kretprobe_instance *ri, struct pt_regs *regs);
int tracer_kmalloc_witness(struct kprobe *kp, struct pt_regs *regs);
int tracer_kmalloc_zero_pre(struct kprobe *kp, struct pt_regs *regs);
void tracer_tp_kmalloc(void *data, unsigned long call_site, const void *ptr,
		       size_t bytes_req, size_t bytes_alloc, gfp_t gfp_flags);
void tracer_tp_kmalloc_node(void *data, unsigned long call_site,
			    const void *ptr, size_t bytes_req,
			    size_t bytes_alloc, gfp_t gfp_flags, int node);
void tracer_tp_kfree(void *data, unsigned long call_site, const void *ptr);

#endif /* TRACER_PROBES_H */
