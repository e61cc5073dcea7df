// SPDX-License-Identifier: GPL-2.0
/*
 * selftest/allocmap.c - the allocation map's own test, compiled into
 * allocmap.c in the debug build (it sees the map's internals) and run at
 * load, before any probe can use the map
 *
 * Records of made-up addresses go in and come out with their sizes; an
 * address never recorded gives 0; recording an address again replaces its
 * size; an address whose two buckets are full finds no room; and the map
 * ends as it began.  (Growing is the test suite's: it needs a worker.)
 */

bool __init tracer_map_selftest(void)
{
	struct tracer_map_table *t = &tracer_map[0];
	unsigned long base = 0xffff888000000000UL, h[2];
	long nr = atomic_long_read(&tracer_map_nr);
	long over = atomic_long_read(&tracer_map_nr_overflow);
	bool ok = true;
	int i, j;

#define TRACER_ST_CHECK(cond) do {					\
		if (!(cond)) {						\
			pr_err("selftest: allocmap: %s failed\n", #cond); \
			ok = false;					\
		}							\
	} while (0)

	TRACER_ST_CHECK(!tracer_map_remove((void *)base));
	tracer_map_insert((void *)base, 100);
	tracer_map_insert((void *)base, 72);	/* a free that went unseen */
	TRACER_ST_CHECK(atomic_long_read(&tracer_map_nr) == nr + 1);
	TRACER_ST_CHECK(tracer_map_remove((void *)(base + 8)) == 0);
	TRACER_ST_CHECK(tracer_map_remove((void *)base) == 72);
	TRACER_ST_CHECK(tracer_map_remove((void *)base) == 0);

	/* Many records, each comes back once with its own size. */
	for (i = 1; i <= 1000; i++)
		if (!tracer_map_insert_in(t, base + 64 * i, i))
			atomic_long_inc(&tracer_map_nr_overflow);
	TRACER_ST_CHECK(atomic_long_read(&tracer_map_nr) +
			atomic_long_read(&tracer_map_nr_overflow) ==
			nr + over + 1000);
	for (i = 1000, j = 0; i >= 1; i--)
		j += tracer_map_remove((void *)(base + 64 * i)) == i;
	TRACER_ST_CHECK(j + atomic_long_read(&tracer_map_nr_overflow) - over ==
			1000);
	TRACER_ST_CHECK(atomic_long_read(&tracer_map_nr) == nr);

	/* Both buckets of an address taken: no room for its record. */
	atomic_long_set(&tracer_map_nr_overflow, over);
	tracer_map_buckets(t, base, &h[0], &h[1]);
	for (i = 0; i < 2; i++)
		for (j = 0; j < TRACER_MAP_WAYS; j++)
			t->bucket[h[i]].slot[j].addr = TRACER_SLOT_BUSY;
	TRACER_ST_CHECK(!tracer_map_insert_in(t, base, 100));
	TRACER_ST_CHECK(tracer_map_remove((void *)base) == 0);
	for (i = 0; i < 2; i++)
		for (j = 0; j < TRACER_MAP_WAYS; j++)
			t->bucket[h[i]].slot[j].addr = TRACER_SLOT_EMPTY;
	TRACER_ST_CHECK(atomic_long_read(&tracer_map_nr) == nr);
#undef TRACER_ST_CHECK

	atomic_long_set(&tracer_map_nr_overflow, over);
	return ok;
}
