// SPDX-License-Identifier: GPL-2.0
/*
 * counts.c - every counted call, exactly: one test per helper operation
 * (kmalloc and its variants of every size class, kmalloc calls that fail,
 * kfree of NULL and
 * ZERO_SIZE_PTR, schedule, semaphores, mutexes, calls in interrupt context
 * that must not count), each a variant of the same test
 *
 * Warm-up, not measured: the allocator may itself kmalloc() when it has to
 * make new slabs (per-slab vectors, sheaves on recent kernels); real calls,
 * counted, but not the ones under test.  The other tests that count
 * allocations warm up the same way, on a worker pinned to one CPU (warmed
 * per-CPU caches stay in use).
 */

#include "suite.h"

enum kind { K_ALLOC, K_ALLOC_ZERO, K_NONE, K_SCHED, K_SEMA, K_MUTEX,
	K_IRQ };

/* A variant: one helper operation, and what it must count. */
struct opcase {
	const char *name;
	uint32_t op;
	enum kind kind;
	uint64_t n;
	uint64_t size;
	uint64_t count;
	long long bytes;	/* requested bytes per allocation */
};

#define N_OPS 1000

static const struct opcase opcases[] = {
	{ "kmalloc_const", TTH_OP_KMALLOC_CONST, K_ALLOC, N_OPS, 0, 0,
	  TTH_CONST_SIZE },
	{ "kmalloc_var_100", TTH_OP_KMALLOC_VAR, K_ALLOC, N_OPS, 100, 0, 100 },
	{ "kmalloc_var_1", TTH_OP_KMALLOC_VAR, K_ALLOC, N_OPS, 1, 0, 1 },
	{ "kmalloc_var_4097", TTH_OP_KMALLOC_VAR, K_ALLOC, N_OPS, 4097, 0,
	  4097 },
	{ "kmalloc_var_8192", TTH_OP_KMALLOC_VAR, K_ALLOC, N_OPS, 8192, 0,
	  8192 },
	{ "kmalloc_zero", TTH_OP_KMALLOC_VAR, K_ALLOC_ZERO, N_OPS, 0, 0, 0 },
	{ "kmalloc_large_const", TTH_OP_KMALLOC_LARGE_CONST, K_ALLOC, 500, 0, 0,
	  TTH_LARGE_CONST_SIZE },
	{ "kmalloc_large_var_12293", TTH_OP_KMALLOC_LARGE_VAR, K_ALLOC, 500,
	  12293, 0, 12293 },
	{ "kmalloc_large_var_65539", TTH_OP_KMALLOC_LARGE_VAR, K_ALLOC, 200,
	  65539, 0, 65539 },
	{ "kzalloc_const", TTH_OP_KZALLOC_CONST, K_ALLOC, N_OPS, 0, 0,
	  TTH_CONST_SIZE },
	{ "kzalloc_var_200", TTH_OP_KZALLOC_VAR, K_ALLOC, N_OPS, 200, 0, 200 },
	{ "kcalloc_const", TTH_OP_KCALLOC_CONST, K_ALLOC, N_OPS, 0, 0,
	  TTH_ARRAY_CONST_N * TTH_ARRAY_CONST_SIZE },
	{ "kcalloc_var_5x40", TTH_OP_KCALLOC_VAR, K_ALLOC, N_OPS, 40, 5, 200 },
	{ "kmalloc_array_var_3x1000", TTH_OP_KMALLOC_ARRAY_VAR, K_ALLOC, N_OPS,
	  1000, 3, 3000 },
	{ "kmalloc_node_const", TTH_OP_KMALLOC_NODE_CONST, K_ALLOC, N_OPS, 0, 0,
	  TTH_CONST_SIZE },
	{ "kmalloc_node_var_333", TTH_OP_KMALLOC_NODE_VAR, K_ALLOC, N_OPS, 333,
	  0, 333 },
	{ "kmemdup_123", TTH_OP_KMEMDUP, K_ALLOC, N_OPS, 123, 0, 123 },
	{ "kstrndup_50", TTH_OP_KSTRNDUP, K_ALLOC, N_OPS, 50, 0, 50 },
	{ "kstrdup_const", TTH_OP_KSTRDUP_CONST, K_ALLOC, N_OPS, 0, 0,
	  sizeof(TTH_STR) },
	{ "kfree_sensitive_77", TTH_OP_KFREE_SENSITIVE, K_ALLOC, N_OPS, 77, 0,
	  77 },
	/* A failed kmalloc is a call, but allocated nothing: no bytes. */
	{ "kmalloc_failed_no_bytes", TTH_OP_KMALLOC_FAIL, K_ALLOC_ZERO, N_OPS,
	  0, 0, 0 },
	{ "kfree_null", TTH_OP_KFREE_NULL, K_NONE, N_OPS, 0, 0, 0 },
	{ "kfree_zero_size_ptr", TTH_OP_KFREE_ZERO_PTR, K_NONE, N_OPS, 0, 0, 0 },
	{ "schedule", TTH_OP_SCHEDULE, K_SCHED, N_OPS, 0, 0, 0 },
	{ "down_interruptible_up", TTH_OP_SEMA, K_SEMA, N_OPS, 0, 0, 0 },
	{ "mutex_lock_unlock", TTH_OP_MUTEX, K_MUTEX, N_OPS, 0, 0, 0 },
	{ "hardirq_not_counted", TTH_OP_HARDIRQ, K_IRQ, N_OPS, 64, 0, 0 },
	{ "softirq_not_counted", TTH_OP_SOFTIRQ, K_IRQ, N_OPS, 64, 0, 0 },
};

static void opcase_expect(const struct opcase *c, struct expect *e)
{
	long long n = c->n;

	expect_zero(e);
	switch (c->kind) {
	case K_ALLOC:
		expect_alloc(e, n, c->bytes);
		break;
	case K_ALLOC_ZERO:
		e->v[C_KMALLOC] = n;
		break;
	case K_SEMA:
		e->v[C_UP] = n;
		e->v[C_DOWN] = n;
		break;
	case K_MUTEX:
		e->v[C_LOCK] = n;
		e->v[C_UNLOCK] = n;
		break;
	default:
		break;
	}
}

static int op_case(const void *arg)
{
	const struct opcase *c = arg;
	struct proc_row d0, d1, diff;
	struct expect e;
	struct worker w;
	char buf[256], what[64];
	int i, ret = 0;

	/* Warm-up, not measured (see above). */
	if (worker_start(&w, 1) || pin(w.pid, 0) ||
	    slot_op(w.sl[0], c->op, c->n, c->size, c->count))
		return -1;
	CHECK_ERR(tr_add(w.pid), 0, "add worker %d", w.pid);
	if (measure(w.pid, w.sl[0], c->op, 0, c->size, c->count, &d0))
		return -1;
	for (i = 1; i < NCOL; i++)
		if (i != C_SCHED && d0.v[i]) {
			diag("%s: baseline (n=0) delta not zero: %s", c->name,
			     row_str(&d0, buf, sizeof(buf)));
			break;
		}
	opcase_expect(c, &e);
	/* Twice: the second run must count exactly the same. */
	for (i = 0; i < 2; i++) {
		if (measure(w.pid, w.sl[0], c->op, c->n, c->size, c->count,
			    &d1))
			return -1;
		row_sub(&diff, &d1, &d0);
		snprintf(what, sizeof(what), "%s n=%llu run %d", c->name,
			 (unsigned long long)c->n, i + 1);
		if (check_delta(what, &diff, &e))
			ret = -1;
		if (c->kind == K_SCHED) {
			if (d1.v[C_SCHED] < (long long)c->n) {
				failf("%s: sched delta %lld < n=%llu", what,
				      d1.v[C_SCHED], (unsigned long long)c->n);
				ret = -1;
			} else if (d1.v[C_SCHED] >= 2 * (long long)c->n) {
				failf("%s: sched delta %lld >= 2n: counted twice?",
				      what, d1.v[C_SCHED]);
				ret = -1;
			}
		}
		if (c->kind == K_IRQ) {
			uint32_t f = w.sl[0]->req.flags;

			if (!(f & TTH_F_CTX_OK)) {
				failf("%s: helper did not run in %s context",
				      what, op_name(c->op));
				ret = -1;
			}
			if (i == 0)
				diag("%s: ran %s the caller's context%s",
				     c->name,
				     f & TTH_F_IN_CALLER ? "in" : "outside",
				     f & TTH_F_NO_ALLOC ?
				     " (PREEMPT_RT: up() only, no kmalloc)" :
				     "");
		}
	}
	worker_kill(&w);
	return ret;
}

TEST_VARIANTS(op_case, opcases, 60, 0)
