// SPDX-License-Identifier: GPL-2.0
/*
 * helper.c - requests of the helper module, /dev/tracer_helper (see
 * suite.h and tests/helper/tracer_test_helper.h)
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>

#include "suite.h"

const char *op_name(uint32_t op)
{
	static const char *const names[TTH_OP_COUNT] = {
		[TTH_OP_NOP] = "nop",
		[TTH_OP_KMALLOC_CONST] = "kmalloc_const",
		[TTH_OP_KMALLOC_VAR] = "kmalloc_var",
		[TTH_OP_KMALLOC_LARGE_CONST] = "kmalloc_large_const",
		[TTH_OP_KMALLOC_LARGE_VAR] = "kmalloc_large_var",
		[TTH_OP_KZALLOC_CONST] = "kzalloc_const",
		[TTH_OP_KZALLOC_VAR] = "kzalloc_var",
		[TTH_OP_KCALLOC_CONST] = "kcalloc_const",
		[TTH_OP_KCALLOC_VAR] = "kcalloc_var",
		[TTH_OP_KMALLOC_ARRAY_VAR] = "kmalloc_array_var",
		[TTH_OP_KMALLOC_NODE_CONST] = "kmalloc_node_const",
		[TTH_OP_KMALLOC_NODE_VAR] = "kmalloc_node_var",
		[TTH_OP_KMEMDUP] = "kmemdup",
		[TTH_OP_KSTRNDUP] = "kstrndup",
		[TTH_OP_KSTRDUP_CONST] = "kstrdup_const",
		[TTH_OP_KFREE_SENSITIVE] = "kfree_sensitive",
		[TTH_OP_KFREE_NULL] = "kfree_null",
		[TTH_OP_KFREE_ZERO_PTR] = "kfree_zero_size_ptr",
		[TTH_OP_SCHEDULE] = "schedule",
		[TTH_OP_SEMA] = "down_interruptible_up",
		[TTH_OP_MUTEX] = "mutex_lock_unlock",
		[TTH_OP_KEEP] = "keep",
		[TTH_OP_RELEASE] = "release",
		[TTH_OP_RELEASE_SOFTIRQ] = "release_softirq",
		[TTH_OP_HARDIRQ] = "hardirq",
		[TTH_OP_SOFTIRQ] = "softirq",
		[TTH_OP_KMALLOC_FAIL] = "kmalloc_fail",
	};

	return op < TTH_OP_COUNT && names[op] ? names[op] : "?";
}

int keep(struct worker *w, uint64_t n, uint64_t size)
{
	return slot_op(w->sl[0], TTH_OP_KEEP, n, size, 0);
}

int release(struct worker *w, uint64_t want, int softirq)
{
	if (slot_op(w->sl[0], softirq ? TTH_OP_RELEASE_SOFTIRQ : TTH_OP_RELEASE,
		    0, 0, 0))
		return -1;
	CHECK(w->sl[0]->req.n == want, "helper released %llu blocks, expected %llu",
	      (unsigned long long)w->sl[0]->req.n, (unsigned long long)want);
	return 0;
}

/* Free whatever an earlier (failed) test left kept in the helper. */
int keep_reset(void)
{
	struct tth_req r = { .op = TTH_OP_RELEASE };

	CHECK(!ioctl(g_hfd, TTH_IOC_RUN, &r), "helper release: %s",
	      strerror(errno));
	return 0;
}

/* Unmeasured warm-up (see counts.c): keep and free n blocks of size s. */
int keep_warm(struct worker *w, uint64_t n, uint64_t s)
{
	return keep(w, n, s) || release(w, n, 0) ? -1 : 0;
}

int keep_workers(struct worker *w, ...)
{
	va_list ap;
	int ret;

	if (keep_reset())
		return -1;
	va_start(ap, w);
	for (ret = 0; w && !ret; w = va_arg(ap, struct worker *))
		ret = worker_start(w, 1) || pin(w->pid, 0) ? -1 : 0;
	va_end(ap);
	return ret;
}

/* Rows of p (monitored) around "p keeps n blocks of size s". */
int keep_measured(struct worker *p, uint64_t n, uint64_t s)
{
	struct proc_row a;
	struct expect e;

	if (row_need(p->pid, &a) || keep(p, n, s))
		return -1;
	expect_zero(&e);
	e.v[C_KMALLOC] = n;
	e.v[C_KMALLOC_MEM] = n * s;
	return check_since(p->pid, &a, &e, "keep");
}

/* q frees the n kept blocks: nfree kfree() counted, bytes kfree_mem. */
int release_measured(struct worker *q, uint64_t n, long long nfree,
		     long long bytes, const char *what)
{
	struct proc_row a;
	struct expect e;

	if (row_need(q->pid, &a) || release(q, n, 0))
		return -1;
	expect_zero(&e);
	e.v[C_KFREE] = nfree;
	e.v[C_KFREE_MEM] = bytes;
	return check_since(q->pid, &a, &e, what);
}

/* n kmalloc(sz) + kfree_rcu() by the worker (TTH_IOC_KFREE_RCU). */
int kfree_rcu_op(struct worker *w, uint64_t n, uint64_t sz)
{
	int r;

	w->sl[0]->hreq = TTH_IOC_KFREE_RCU;
	r = slot_op(w->sl[0], TTH_OP_NOP, n, sz, 0);
	w->sl[0]->hreq = 0;
	return r;
}

/* The helper's totals of the slab allocator's own calls (tracer_test_helper.h). */
int slab_calls_get(struct tth_slab_calls *c)
{
	memset(c, 0, sizeof(*c));
	CHECK(!ioctl(g_hfd, TTH_IOC_SLAB_CALLS, c), "helper TTH_IOC_SLAB_CALLS: %s",
	      strerror(errno));
	return 0;
}
