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
#include <linux/vmalloc.h>

#include "tracer.h"

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
static unsigned int tracer_map_bits;
static atomic_long_t tracer_map_nr = ATOMIC_LONG_INIT(0);
static atomic_long_t tracer_map_nr_overflow = ATOMIC_LONG_INIT(0);

static void tracer_map_buckets(unsigned long addr,
			       struct tracer_map_bucket *b[2])
{
	unsigned long h1 = hash_long(addr, tracer_map_bits);
	unsigned long h2 = hash_long(ror64(addr, 29) ^ addr, tracer_map_bits);

	if (h2 == h1)
		h2 ^= 1;
	b[0] = &tracer_map[h1];
	b[1] = &tracer_map[h2];
}

void tracer_map_insert(const void *ptr, size_t size)
{
	unsigned long addr = (unsigned long)ptr;
	struct tracer_map_bucket *b[2];
	struct tracer_map_slot *s;
	int empty[2] = { 0, 0 };
	int i, j, k;

	tracer_map_buckets(addr, b);
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
			/* Publish the address after the size (pairs with remove). */
			smp_store_release(&s->addr, addr);
			atomic_long_inc(&tracer_map_nr);
			return;
		}
	}
	atomic_long_inc(&tracer_map_nr_overflow);
}

/* Take the record of @ptr out of the map; false if there is none. */
bool tracer_map_remove(const void *ptr, size_t *size)
{
	unsigned long addr = (unsigned long)ptr;
	struct tracer_map_bucket *b[2];
	struct tracer_map_slot *s;
	int i, j;

	tracer_map_buckets(addr, b);
	for (i = 0; i < 2; i++) {
		for (j = 0; j < TRACER_MAP_WAYS; j++) {
			s = &b[i]->slot[j];
			/* Read the size only after the address (see insert). */
			if (smp_load_acquire(&s->addr) != addr)
				continue;
			*size = READ_ONCE(s->size);
			if (cmpxchg(&s->addr, addr, TRACER_SLOT_EMPTY) != addr)
				return false;
			atomic_long_dec(&tracer_map_nr);
			return true;
		}
	}
	return false;
}

unsigned long tracer_map_live(void)
{
	return atomic_long_read(&tracer_map_nr);
}

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
	return tracer_map ? 0 : -ENOMEM;
}

void tracer_map_exit(void)
{
	vfree(tracer_map);
	tracer_map = NULL;
}
