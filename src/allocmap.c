// SPDX-License-Identifier: GPL-2.0
/*
 * allocmap.c - address -> requested size of the blocks monitored processes
 * kmalloc, so that a kfree can be charged the bytes it releases
 *
 * The probes use it on every kmalloc return of a monitored process and on
 * every kfree, in any context, PREEMPT_RT included: it takes no lock and
 * never allocates.  It is a chain of fixed tables of buckets (one cache
 * line, four slots each); an address may live in either of two buckets of
 * a table, picked by two hashes, so a lookup reads at most two cache lines
 * per table.
 *
 * The map grows: when it is a quarter full, a worker (never a probe) adds
 * a table twice the size of the newest, up to map_max_bits.  (Two choices
 * of four slots start to lose records past about half full: the new table
 * must be there before.)  New records go to the newest table with room.
 * Tables are only
 * added while anything is monitored and go when nothing is any more: the
 * drain worker, which first waits for every probe that may still use them
 * (an RCU grace period: probes run with preemption off), empties the map
 * and frees every table but the first.  A record is lost only when every
 * table is full at the cap; it is counted in map_overflow, and the worker
 * says so in the kernel log, naming the fix.
 *
 * Most kfree calls free blocks nobody recorded.  A count of records per
 * bucket, in a dense array of its own, lets them leave after reading two
 * integers per table instead of the eight slots of two buckets.
 *
 * A slot's address word is its state: 0 (empty), 1 (being filled by an
 * inserter that owns it), or the block's address (a kmalloc address is never
 * 0 or 1).  Inserting claims an empty slot with cmpxchg, writes the size and
 * then publishes the address with release semantics; removing takes the slot
 * back with cmpxchg.  The same address is never inserted and removed at the
 * same time: kmalloc hands a block out only after its kfree has begun.
 */
#include <linux/atomic.h>
#include <linux/bitops.h>
#include <linux/cache.h>
#include <linux/hash.h>
#include <linux/kernel.h>
#include <linux/kprobes.h>
#include <linux/mutex.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/vmalloc.h>
#include <linux/workqueue.h>

#include "internal.h"

#define TRACER_MAP_WAYS		4
#define TRACER_MAP_TABLES	12
#define TRACER_SLOT_EMPTY	0UL
#define TRACER_SLOT_BUSY	1UL

struct tracer_map_slot {
	unsigned long addr;
	unsigned long size;
};

struct tracer_map_bucket {
	struct tracer_map_slot slot[TRACER_MAP_WAYS];
} ____cacheline_aligned;

struct tracer_map_table {
	struct tracer_map_bucket *bucket;
	atomic_t *used;			/* records in each bucket */
	unsigned int bits;
};

/* tracer_map[0 .. tracer_map_tables - 1] are in use; the newest is last. */
static struct tracer_map_table tracer_map[TRACER_MAP_TABLES];
static unsigned int tracer_map_tables;
static unsigned int tracer_map_max_bits;
atomic_long_t tracer_map_nr = ATOMIC_LONG_INIT(0);
/* Records at which to grow: a quarter of the capacity (none at the cap). */
static unsigned long tracer_map_grow_at;
static atomic_long_t tracer_map_nr_overflow = ATOMIC_LONG_INIT(0);

static unsigned long tracer_map_state;
#define TRACER_MAP_GROWING	0	/* the grow work is queued */
#define TRACER_MAP_LOST		1	/* no table had room for a record */
#define TRACER_MAP_FULL		2	/* said so in the kernel log */

/* Serialises growing, draining and adding a first process (procs.c). */
DEFINE_MUTEX(tracer_map_mutex);

static void tracer_map_grow(struct work_struct *work);
static DECLARE_WORK(tracer_map_grow_work, tracer_map_grow);

/* The two buckets of @t where @addr may live, as indices. */
static __always_inline void
tracer_map_buckets(const struct tracer_map_table *t, unsigned long addr,
		   unsigned long *h0, unsigned long *h1)
{
	*h0 = hash_long(addr, t->bits);
	*h1 = hash_long(ror64(addr, 29) ^ addr, t->bits);
	if (*h1 == *h0)
		*h1 ^= 1;
}

/* How many tables the probes may use now (pairs with tracer_map_grow()). */
static __always_inline unsigned int tracer_map_nr_tables(void)
{
	/* Pairs with the release in tracer_map_grow(): tables come zeroed. */
	return smp_load_acquire(&tracer_map_tables);
}

/*
 * The empty slots of bucket @b, or -1 if it holds a record of @addr, left
 * by a free the probes did not see: that record takes @size.  (Nobody else
 * removes it meanwhile: the block is the caller's now.)
 */
static __always_inline int tracer_map_scan(struct tracer_map_bucket *b,
					   unsigned long addr, size_t size)
{
	unsigned long a;
	int j, empty = 0;

	for (j = 0; j < TRACER_MAP_WAYS; j++) {
		a = READ_ONCE(b->slot[j].addr);
		if (a == addr) {
			WRITE_ONCE(b->slot[j].size, size);
			return -1;
		}
		empty += a == TRACER_SLOT_EMPTY;
	}
	return empty;
}

/* Record @addr in bucket @h of @t if it has room. */
static __always_inline bool tracer_map_claim(struct tracer_map_table *t,
					     unsigned long h,
					     unsigned long addr, size_t size)
{
	struct tracer_map_slot *s;
	int j;

	for (j = 0; j < TRACER_MAP_WAYS; j++) {
		s = &t->bucket[h].slot[j];
		if (READ_ONCE(s->addr) != TRACER_SLOT_EMPTY ||
		    cmpxchg(&s->addr, TRACER_SLOT_EMPTY,
			    TRACER_SLOT_BUSY) != TRACER_SLOT_EMPTY)
			continue;
		WRITE_ONCE(s->size, size);
		atomic_inc(&t->used[h]);
		/* Publish the address after the size (pairs with remove). */
		smp_store_release(&s->addr, addr);
		atomic_long_inc(&tracer_map_nr);
		return true;
	}
	return false;
}

/*
 * Record @addr in table @t if one of its two buckets has room, or find
 * its stale record there (tracer_map_scan()): true, or false if neither.
 */
static __always_inline bool
tracer_map_insert_in(struct tracer_map_table *t, unsigned long addr, size_t size)
{
	unsigned long h0, h1;
	int e0, e1;

	tracer_map_buckets(t, addr, &h0, &h1);
	e0 = tracer_map_scan(&t->bucket[h0], addr, size);
	if (e0 < 0)
		return true;
	e1 = tracer_map_scan(&t->bucket[h1], addr, size);
	if (e1 < 0)
		return true;
	/* The emptier bucket first: it keeps both lightly loaded. */
	if (e1 > e0)
		swap(h0, h1);
	return tracer_map_claim(t, h0, addr, size) ||
	       tracer_map_claim(t, h1, addr, size);
}

/* Take @addr's record out of bucket @h of @t: its size, or 0. */
static __always_inline size_t tracer_map_take(struct tracer_map_table *t,
					      unsigned long h,
					      unsigned long addr)
{
	struct tracer_map_slot *s;
	size_t size;
	int j;

	for (j = 0; j < TRACER_MAP_WAYS; j++) {
		s = &t->bucket[h].slot[j];
		/* Read the size only after the address (see claim). */
		if (smp_load_acquire(&s->addr) != addr)
			continue;
		size = READ_ONCE(s->size);
		if (cmpxchg(&s->addr, addr, TRACER_SLOT_EMPTY) != addr)
			return 0;
		atomic_dec(&t->used[h]);
		atomic_long_dec(&tracer_map_nr);
		return size;
	}
	return 0;
}

/* Take @addr's record out of table @t: its size, or 0. */
static __always_inline size_t
tracer_map_remove_in(struct tracer_map_table *t, unsigned long addr)
{
	unsigned long h0, h1;
	size_t size = 0;

	tracer_map_buckets(t, addr, &h0, &h1);
	if (atomic_read(&t->used[h0]))
		size = tracer_map_take(t, h0, addr);
	if (!size && atomic_read(&t->used[h1]))
		size = tracer_map_take(t, h1, addr);
	return size;
}

/*
 * Take the record of @ptr out of the map: the size it recorded, or 0 if
 * there is none (a record is never of size 0).  A record published before
 * the block was handed out is seen: the bucket's count was raised before
 * the address was published.
 */
size_t tracer_map_remove(const void *ptr)
{
	unsigned int i, n = tracer_map_nr_tables();
	size_t size;

	for (i = n; i-- > 0;) {
		size = tracer_map_remove_in(&tracer_map[i], (unsigned long)ptr);
		if (size)
			return size;
	}
	return 0;
}

NOKPROBE_SYMBOL(tracer_map_remove);

void tracer_map_insert(const void *ptr, size_t size)
{
	unsigned long addr = (unsigned long)ptr;
	unsigned int i;
	bool done = false;

	/*
	 * The newest table with room, which also finds a record of @addr
	 * left there or in a newer table by a free the probes did not see.
	 */
	for (i = tracer_map_nr_tables(); i > 0 && !done; i--)
		done = tracer_map_insert_in(&tracer_map[i - 1], addr, size);
	/* Such a record in an older table goes. */
	while (i > 0)
		tracer_map_remove_in(&tracer_map[--i], addr);
	if (unlikely(!done)) {
		atomic_long_inc(&tracer_map_nr_overflow);
		set_bit(TRACER_MAP_LOST, &tracer_map_state);
	}
	/* A quarter full, or no table had room: grow. */
	if (unlikely(!done || atomic_long_read(&tracer_map_nr) >=
			      READ_ONCE(tracer_map_grow_at)) &&
	    !test_and_set_bit(TRACER_MAP_GROWING, &tracer_map_state))
		queue_work(system_unbound_wq, &tracer_map_grow_work);
}

NOKPROBE_SYMBOL(tracer_map_insert);

static int tracer_map_table_alloc(struct tracer_map_table *t,
				  unsigned int bits)
{
	t->bucket = vzalloc(array_size(1UL << bits, sizeof(*t->bucket)));
	t->used = vzalloc(array_size(1UL << bits, sizeof(*t->used)));
	if (!t->bucket || !t->used) {
		vfree(t->bucket);
		vfree(t->used);
		t->bucket = NULL;
		t->used = NULL;
		return -ENOMEM;
	}
	t->bits = bits;
	return 0;
}

static void tracer_map_table_free(struct tracer_map_table *t)
{
	vfree(t->bucket);
	vfree(t->used);
	t->bucket = NULL;
	t->used = NULL;
}

/* Grow at a quarter of the capacity the probes see now (map mutex held). */
static void tracer_map_set_grow_at(void)
{
	WRITE_ONCE(tracer_map_grow_at, tracer_map_capacity() / 4);
}

/* Add a table twice the size of the newest, unless that one is the cap. */
static void tracer_map_grow(struct work_struct *work)
{
	struct tracer_map_table *last;
	unsigned int n;
	bool lost;

	mutex_lock(&tracer_map_mutex);
	clear_bit(TRACER_MAP_GROWING, &tracer_map_state);
	lost = test_and_clear_bit(TRACER_MAP_LOST, &tracer_map_state);
	n = tracer_map_tables;
	last = &tracer_map[n - 1];
	if (atomic_long_read(&tracer_map_nr) < tracer_map_grow_at && !lost)
		goto out;
	if (last->bits >= tracer_map_max_bits ||
	    tracer_map_table_alloc(&tracer_map[n], last->bits + 1)) {
		/* Only a lost record brings the worker back now. */
		WRITE_ONCE(tracer_map_grow_at, ULONG_MAX);
		if (lost && !test_and_set_bit(TRACER_MAP_FULL, &tracer_map_state))
			pr_warn("allocation map full at %lu records (map_max_bits=%u): kfree_mem undercounts; load the module with a larger map_max_bits\n",
				tracer_map_capacity(), tracer_map_max_bits);
		goto out;
	}
	/* The probes see the new table only once it is all zeroes. */
	smp_store_release(&tracer_map_tables, n + 1);
	tracer_map_set_grow_at();
	pr_debug("allocation map grown to %lu records\n",
		 tracer_map_capacity());
out:
	mutex_unlock(&tracer_map_mutex);
}

/* Take every record out of @t. */
static void tracer_map_table_empty(struct tracer_map_table *t)
{
	unsigned long a;
	unsigned int b, j;

	for (b = 0; b < (1U << t->bits) && tracer_map_live(); b++) {
		for (j = 0; j < TRACER_MAP_WAYS; j++) {
			/* Published addresses only (see insert). */
			a = smp_load_acquire(&t->bucket[b].slot[j].addr);
			if (a > TRACER_SLOT_BUSY)
				tracer_map_remove_in(t, a);
		}
		if (!(b % 4096))
			cond_resched();
	}
}

/*
 * Nothing is monitored any more (procs.c, tracer_map_mutex held, no
 * process can be added meanwhile): no probe records anything now, so the
 * records left are of blocks that monitored processes never freed, and
 * they would keep every kfree on the machine in the slow path.  Empty the
 * map and shrink it to its first table.  May sleep.
 */
void tracer_map_drain(void)
{
	unsigned int i, n;

	lockdep_assert_held(&tracer_map_mutex);
	/* No probe still holds a process it found before the last left. */
	synchronize_rcu();
	n = tracer_map_tables;
	if (n > 1) {
		/* Pairs with tracer_map_nr_tables(). */
		smp_store_release(&tracer_map_tables, 1);
		/* Every probe that read the old count is done with the tables. */
		synchronize_rcu();
	}
	/* The first table's records may still leave by a kfree meanwhile. */
	for (i = 0; i < n; i++)
		tracer_map_table_empty(&tracer_map[i]);
	for (i = 1; i < n; i++)
		tracer_map_table_free(&tracer_map[i]);
	tracer_map_set_grow_at();
	clear_bit(TRACER_MAP_FULL, &tracer_map_state);
}

unsigned long tracer_map_overflow(void)
{
	return atomic_long_read(&tracer_map_nr_overflow);
}

unsigned long tracer_map_capacity(void)
{
	unsigned long cap = 0;
	unsigned int i, n = tracer_map_nr_tables();

	for (i = 0; i < n; i++)
		cap += TRACER_MAP_WAYS << tracer_map[i].bits;
	return cap;
}

int tracer_map_init(unsigned int bits, unsigned int max_bits)
{
	int ret;

	if (max_bits < bits)
		max_bits = bits;
	/* The chain holds the first table and each doubling up to the cap. */
	if (max_bits - bits >= TRACER_MAP_TABLES)
		max_bits = bits + TRACER_MAP_TABLES - 1;
	tracer_map_max_bits = max_bits;
	ret = tracer_map_table_alloc(&tracer_map[0], bits);
	if (ret)
		return ret;
	tracer_map_tables = 1;
	tracer_map_set_grow_at();
	return 0;
}

void tracer_map_exit(void)
{
	unsigned int i;

	cancel_work_sync(&tracer_map_grow_work);
	for (i = 0; i < tracer_map_tables; i++)
		tracer_map_table_free(&tracer_map[i]);
	tracer_map_tables = 0;
}

#ifdef TRACER_DEBUG
#include "selftest/allocmap.c"
#endif
