// SPDX-License-Identifier: GPL-2.0
/*
 * allocmap.c - address -> requested size of the blocks monitored processes
 * kmalloc, so that a kfree can be charged the bytes it releases
 *
 * The probes use it on every kmalloc return of a monitored process and on
 * every kfree, in any context, PREEMPT_RT included: it takes no lock and
 * never allocates.  It is a fixed array of buckets (one cache line, four
 * slots each), allocated once at load time; an address may live in either
 * of two buckets picked by two hashes, so a lookup reads at most two cache
 * lines and a full table (many live blocks) is the only way to lose a
 * record, which is then counted in map_overflow instead of hidden.
 *
 * Most kfree calls free blocks nobody recorded.  A count of records per
 * bucket, in a dense array of its own, lets them leave after reading two
 * integers instead of the eight slots of two buckets.
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
#include <linux/kprobes.h>
#include <linux/vmalloc.h>

#include "internal.h"

#define TRACER_MAP_WAYS		4
#define TRACER_SLOT_EMPTY	0UL
#define TRACER_SLOT_BUSY	1UL

struct tracer_map_slot {
	unsigned long addr;
	unsigned long size;
};

struct tracer_map_bucket {
	struct tracer_map_slot slot[TRACER_MAP_WAYS];
} ____cacheline_aligned;

static struct tracer_map_bucket *tracer_map;
static atomic_t *tracer_map_used;	/* records in each bucket */
static unsigned int tracer_map_bits;
atomic_long_t tracer_map_nr = ATOMIC_LONG_INIT(0);
static atomic_long_t tracer_map_nr_overflow = ATOMIC_LONG_INIT(0);

/* The two buckets where @addr may live, as indices. */
static void tracer_map_buckets(unsigned long addr, unsigned long h[2])
{
	h[0] = hash_long(addr, tracer_map_bits);
	h[1] = hash_long(ror64(addr, 29) ^ addr, tracer_map_bits);
	if (h[1] == h[0])
		h[1] ^= 1;
}

NOKPROBE_SYMBOL(tracer_map_buckets);

void tracer_map_insert(const void *ptr, size_t size)
{
	unsigned long addr = (unsigned long)ptr;
	struct tracer_map_bucket *b[2];
	struct tracer_map_slot *s;
	int empty[2] = { 0, 0 };
	unsigned long h[2];
	int i, j, k;

	tracer_map_buckets(addr, h);
	b[0] = &tracer_map[h[0]];
	b[1] = &tracer_map[h[1]];
	for (i = 0; i < 2; i++) {
		for (j = 0; j < TRACER_MAP_WAYS; j++) {
			unsigned long a = READ_ONCE(b[i]->slot[j].addr);

			if (a == addr) {
				/* Left by a free the probes did not see. */
				WRITE_ONCE(b[i]->slot[j].size, size);
				return;
			}
			empty[i] += a == TRACER_SLOT_EMPTY;
		}
	}

	/* The emptier bucket first: it keeps both lightly loaded. */
	for (k = 0; k < 2; k++) {
		i = (empty[1] > empty[0]) ^ k;
		for (j = 0; j < TRACER_MAP_WAYS; j++) {
			s = &b[i]->slot[j];
			if (READ_ONCE(s->addr) != TRACER_SLOT_EMPTY ||
			    cmpxchg(&s->addr, TRACER_SLOT_EMPTY,
				    TRACER_SLOT_BUSY) != TRACER_SLOT_EMPTY)
				continue;
			WRITE_ONCE(s->size, size);
			atomic_inc(&tracer_map_used[h[i]]);
			/* Publish the address after the size (pairs with remove). */
			smp_store_release(&s->addr, addr);
			atomic_long_inc(&tracer_map_nr);
			return;
		}
	}
	atomic_long_inc(&tracer_map_nr_overflow);
}

NOKPROBE_SYMBOL(tracer_map_insert);

/*
 * Take the record of @ptr out of the map: the size it recorded, or 0 if
 * there is none (a record is never of size 0).  A record published before
 * the block was handed out is seen: the bucket's count was raised before
 * the address was published.
 */
size_t tracer_map_remove(const void *ptr)
{
	unsigned long addr = (unsigned long)ptr;
	struct tracer_map_slot *s;
	unsigned long h[2];
	size_t size;
	int i, j;

	tracer_map_buckets(addr, h);
	if (!atomic_read(&tracer_map_used[h[0]]) &&
	    !atomic_read(&tracer_map_used[h[1]]))
		return 0;
	for (i = 0; i < 2; i++) {
		for (j = 0; j < TRACER_MAP_WAYS; j++) {
			s = &tracer_map[h[i]].slot[j];
			/* Read the size only after the address (see insert). */
			if (smp_load_acquire(&s->addr) != addr)
				continue;
			size = READ_ONCE(s->size);
			if (cmpxchg(&s->addr, addr, TRACER_SLOT_EMPTY) != addr)
				return 0;
			atomic_dec(&tracer_map_used[h[i]]);
			atomic_long_dec(&tracer_map_nr);
			return size;
		}
	}
	return 0;
}

NOKPROBE_SYMBOL(tracer_map_remove);

unsigned long tracer_map_overflow(void)
{
	return atomic_long_read(&tracer_map_nr_overflow);
}

unsigned long tracer_map_capacity(void)
{
	return (1UL << tracer_map_bits) * TRACER_MAP_WAYS;
}

int tracer_map_init(unsigned int bits)
{
	tracer_map_bits = bits;
	tracer_map = vzalloc(array_size(1UL << bits, sizeof(*tracer_map)));
	tracer_map_used = vzalloc(array_size(1UL << bits,
					     sizeof(*tracer_map_used)));
	if (tracer_map && tracer_map_used)
		return 0;
	tracer_map_exit();
	return -ENOMEM;
}

void tracer_map_exit(void)
{
	vfree(tracer_map);
	vfree(tracer_map_used);
	tracer_map = NULL;
	tracer_map_used = NULL;
}

#ifdef TRACER_DEBUG
#include "selftest/allocmap.c"
#endif
