// SPDX-License-Identifier: GPL-2.0
/*
 * map.c - the allocation map: it grows with the blocks monitored processes
 * hold and keeps kfree_mem exact below its cap; it empties (and shrinks)
 * when nothing is monitored any more; when it is full at its cap
 * (tracer.ko loaded with map_bits=4 map_max_bits=4 by run.sh, which names
 * those tests explicitly) blocks it cannot record are counted as overflow,
 * the kernel log says so, and kfree_mem stays exact for the others
 */
#include "suite.h"

/* One process keeps many more blocks than the map may hold. */
TEST_EXPLICIT(map_pressure, 60)
{
	const uint64_t n = 1000, sz = 100;
	struct mapstat m0, m1, m2;
	struct worker p;
	struct proc_row b;
	long rec;

	int kmsg = kmsg_open();

	if (map_get(&m0))
		return -1;
	CHECK(m0.capacity <= 256, "map capacity %ld: load tracer.ko with map_bits=4 for this test",
	      m0.capacity);
	CHECK(m0.records == 0, "map has %ld records before the test", m0.records);
	if (keep_workers(&p, NULL) || keep_warm(&p, n, sz))
		return -1;
	CHECK_ERR(tr_add(p.pid), 0, "add");
	if (keep_measured(&p, n, sz) || map_get(&m1))
		return -1;
	/* The grow worker finds the cap and says so, naming the fix. */
	msleep(200);
	CHECK(kmsg_find(kmsg, "allocation map full") == 1 &&
	      m1.capacity == m0.capacity,
	      "no \"allocation map full ... map_max_bits\" in the kernel log, or the map grew (capacity %ld -> %ld) past map_max_bits",
	      m0.capacity, m1.capacity);
	close(kmsg);
	rec = m1.records - m0.records;
	diag("map: capacity %ld; %ld of %llu kept blocks recorded, %ld overflowed",
	     m1.capacity, rec, (unsigned long long)n, m1.overflow - m0.overflow);
	CHECK(m1.records <= m1.capacity, "%ld records, capacity %ld",
	      m1.records, m1.capacity);
	CHECK(m1.overflow > m0.overflow, "no overflow counted");
	CHECK(rec + m1.overflow - m0.overflow == (long)n,
	      "%ld recorded + %ld overflowed != %llu kept", rec,
	      m1.overflow - m0.overflow, (unsigned long long)n);
	/* Freed: kfree_mem is the recorded sizes only, the map empties. */
	if (release_measured(&p, n, n, rec * sz, "release with a full map") ||
	    map_get(&m2) || row_need(p.pid, &b))
		return -1;
	CHECK(m2.records == 0, "%ld records left after everything was freed",
	      m2.records);
	CHECK(m2.overflow == m1.overflow, "overflow %ld -> %ld on frees",
	      m1.overflow, m2.overflow);
	CHECK(b.v[C_KFREE_MEM] <= b.v[C_KMALLOC_MEM], "kfree_mem %lld > kmalloc_mem %lld",
	      b.v[C_KFREE_MEM], b.v[C_KMALLOC_MEM]);
	worker_kill(&p);
	return 0;
}

/* Printed when records of the allocator's own blocks stay; run.sh reads it. */
#define SLAB_RECORDS_LEFT "map records left of the slab allocator's own blocks:"

/*
 * Several processes allocate and free at once while one keeps the map
 * full: every block is either recorded or counted as overflow, and every
 * recorded byte comes back exactly once.
 *
 * The slab allocator's own calls.  Since 6.18 the allocator kmallocs (and
 * sometimes kfrees) blocks of its own (per-CPU sheaves, per-slab vectors)
 * in the caller's context, from inside the helper's kmalloc() and kfree(),
 * whenever its caches run dry: real calls of the worker, counted, at
 * moments no test controls (10001 kmalloc for 10000 on 7.2, the extra one
 * 512 B).  The helper counts them itself (slab_calls=1, set by run.sh: its
 * probes on the kmem tracepoints count every kmalloc/kfree a watched
 * request makes in task context, by call site: the helper's own, and the
 * others).  So the counts stay exact on every kernel:
 *	kmalloc     = N + S_kmalloc,  kmalloc_mem = N * sz + S_bytes,
 *	kfree       = N + S_kfree,
 * N the test's own calls (the helper must also have seen itself make
 * exactly N of each), S_* the allocator's as the helper saw them; a lost or
 * doubled event of the test's own breaks an equality.  Before 6.18, S_* must
 * be 0: the old exact assertions.
 *
 * kfree_mem and the map: the allocator's blocks share the map with the
 * test's.  Of the O overflowed records, j are of the allocator's blocks,
 * and the workers may free recorded allocator blocks (F bytes; 0 if they
 * made no kfree of the allocator's), so
 *	kfree_mem = (N - O + j) * sz + F.
 * Every block of the test's is freed, its record with it, so the records
 * left are the allocator's: R1 = R0 + (S_kmalloc - j) - X, X those of its
 * blocks that went meanwhile (freed by anybody: at most the G blocks the
 * helper saw go).  So R0 + S_kmalloc - R1 - G <= j <= R0 + S_kmalloc - R1:
 * exact when none went (usual: the allocator keeps its sheaves), and then
 * kfree_mem is exact too.  The allocator's blocks are arrays of pointers
 * (a multiple of 8 B: the helper checks) and sz is odd, so F = 0 (mod 8)
 * also fixes j modulo 8 from kfree_mem: a test block's bytes lost or
 * counted twice (an odd step) can hide only in the slack G leaves.  With
 * no call of the allocator's (always before 6.18), j = F = 0: the old
 * exact assertions kfree_mem == (kmalloc - O) * sz and an empty map.
 * Records that stay are of blocks the allocator still holds (they go when
 * it frees them): the line SLAB_RECORDS_LEFT tells run.sh's "map empty"
 * check.
 */
TEST_EXPLICIT(map_pressure_concurrent, 120)
{
	const uint64_t keep_n = 1000, n = 3000, sz = 101;	/* sz odd */
	const long long N = keep_n + 3 * n;
	struct worker w[4];
	struct proc_row a[4], b[4];
	struct mapstat m0, m1, m;
	struct tth_slab_calls s0, s1;
	long long km = 0, kf = 0, kmm = 0, kfm = 0;
	long long sk, sb, sf, so, g, un, d, f, o, r, j, jlo, jhi;
	long polls = 0, maxrec = 0;
	int i, busy, on;

	if (map_get(&m0))
		return -1;
	CHECK(m0.capacity <= 256, "map capacity %ld: load tracer.ko with map_bits=4 for this test",
	      m0.capacity);
	if (slab_calls_get(&s0))
		return -1;
	on = !!(s0.flags & TTH_SC_ON);
	CHECK(on || !kernel_at_least(6, 18),
	      "6.18+: the helper must count the slab allocator's own calls (echo 1 >/sys/module/tracer_test_helper/parameters/slab_calls)");
	if (keep_workers(&w[0], NULL) || keep_warm(&w[0], keep_n, sz))
		return -1;
	for (i = 1; i < 4; i++)
		if (worker_start(&w[i], 1) || pin(w[i].pid, i % 2) ||
		    slot_op(w[i].sl[0], TTH_OP_KMALLOC_VAR, n, sz, 0))
			return -1;
	for (i = 0; i < 4; i++)
		CHECK_ERR(tr_add(w[i].pid), 0, "add %d", i);
	if (map_get(&m0) || slab_calls_get(&s0))
		return -1;
	for (i = 0; i < 4; i++)
		if (row_need(w[i].pid, &a[i]))
			return -1;
	slot_set_op(w[0].sl[0], TTH_OP_KEEP, keep_n, sz, 0);
	for (i = 1; i < 4; i++)
		slot_set_op(w[i].sl[0], TTH_OP_KMALLOC_VAR, n, sz, 0);
	for (i = 0; i < 4; i++)
		slot_post(w[i].sl[0], CMD_RUN);
	do {
		if (map_get(&m))
			return -1;
		polls++;
		if (m.records > maxrec)
			maxrec = m.records;
		CHECK(m.records <= m.capacity, "%ld records, capacity %ld",
		      m.records, m.capacity);
		busy = 0;
		for (i = 0; i < 4; i++)
			busy |= ld(&w[i].sl[0]->ack) != ld(&w[i].sl[0]->seq);
	} while (busy);
	for (i = 0; i < 4; i++)
		if (slot_wait(w[i].sl[0]) || slot_check_ret(w[i].sl[0]))
			return -1;
	if (release(&w[0], keep_n, 0) || map_get(&m1))
		return -1;
	for (i = 0; i < 4; i++) {
		if (row_need(w[i].pid, &b[i]))
			return -1;
		km += b[i].v[C_KMALLOC] - a[i].v[C_KMALLOC];
		kf += b[i].v[C_KFREE] - a[i].v[C_KFREE];
		kmm += b[i].v[C_KMALLOC_MEM] - a[i].v[C_KMALLOC_MEM];
		kfm += b[i].v[C_KFREE_MEM] - a[i].v[C_KFREE_MEM];
	}
	if (slab_calls_get(&s1))
		return -1;
	sk = s1.kmalloc - s0.kmalloc;
	sb = s1.kmalloc_bytes - s0.kmalloc_bytes;
	sf = s1.kfree - s0.kfree;
	so = s1.kmalloc_odd - s0.kmalloc_odd;
	g = s1.blocks_gone - s0.blocks_gone;
	un = s1.blocks_untracked - s0.blocks_untracked;
	o = m1.overflow - m0.overflow;
	diag("map, 4 processes: %lld kmalloc, %lld overflowed, up to %ld records (%ld polls), kfree_mem %lld of kmalloc_mem %lld",
	     km, o, maxrec, polls, kfm, kmm);
	if (on)
		diag("the slab allocator's own calls, as the helper saw them: %lld kmalloc (%lld B), %lld kfree",
		     sk, sb, sf);
	for (i = 1; i < 4; i++)
		CHECK(b[i].v[C_KFREE_MEM] - a[i].v[C_KFREE_MEM] <=
		      b[i].v[C_KMALLOC_MEM] - a[i].v[C_KMALLOC_MEM] + sb,
		      "worker %d freed more bytes than it allocated", i);
	if (on) {
		CHECK(s1.unwatched == s0.unwatched, "%u requests ran unwatched by the helper",
		      s1.unwatched - s0.unwatched);
		CHECK(s1.own_kmalloc - s0.own_kmalloc == (uint64_t)N &&
		      s1.own_kfree - s0.own_kfree == (uint64_t)N,
		      "the helper saw itself make %llu kmalloc and %llu kfree calls, expected %lld",
		      (unsigned long long)(s1.own_kmalloc - s0.own_kmalloc),
		      (unsigned long long)(s1.own_kfree - s0.own_kfree), N);
	}
	CHECK(kernel_at_least(6, 18) || (!sk && !sf),
	      "before 6.18 the slab allocator makes no call of its own here, but the helper saw %lld kmalloc (%lld B) and %lld kfree",
	      sk, sb, sf);
	CHECK(km == N + sk, "kmalloc %lld, expected %lld (%lld of the test + %lld of the slab allocator)",
	      km, N + sk, N, sk);
	CHECK(kmm == N * (long long)sz + sb,
	      "kmalloc_mem %lld, expected %lld (%lld * %llu of the test + %lld of the slab allocator)",
	      kmm, N * (long long)sz + sb, N, (unsigned long long)sz, sb);
	CHECK(kf == N + sf, "kfree %lld, expected %lld (%lld of the test + %lld of the slab allocator)",
	      kf, N + sf, N, sf);
	CHECK(o > 0, "no overflow");
	CHECK(!so, "%lld of the slab allocator's kmalloc sizes are not a multiple of 8", so);
	/* r = j + X: the records the allocator's blocks did not leave. */
	r = m0.records + sk - m1.records;
	CHECK(r >= 0, "%ld records left (%ld before), more than the %lld blocks of the slab allocator",
	      m1.records, m0.records, sk);
	jhi = r < sk ? r : sk;
	jhi = jhi < o ? jhi : o;
	jlo = un ? 0 : r - g > 0 ? r - g : 0;
	d = kfm - (N - o) * (long long)sz;
	for (j = jlo; j <= jhi; j++) {
		f = d - j * (long long)sz;
		if (f >= 0 && f % 8 == 0 && (sf ? m0.records || f <= sb : !f))
			break;
	}
	CHECK(j <= jhi,
	      "kfree_mem %lld, expected (%lld - %lld overflowed + j) * %llu + F, j in [%lld, %lld] of the slab allocator's blocks overflowed (%ld -> %ld records, %lld of its blocks gone), F = 0 (mod 8) <= %lld B of its blocks freed by the workers",
	      kfm, N, o, (unsigned long long)sz, jlo, jhi, m0.records,
	      m1.records, g, sf ? sb : 0);
	if (sk || sf || m1.records)
		diag("kfree_mem: %lld of the slab allocator's blocks overflowed (%s), %lld B of its recorded blocks freed by the workers; %lld of its blocks gone",
		     j, jlo == jhi ? "exact" : "in a range", f, g);
	if (m1.records)
		diag(SLAB_RECORDS_LEFT " %ld", m1.records);
	for (i = 0; i < 4; i++)
		worker_kill(&w[i]);
	return 0;
}

/* The map's records now, and wait up to 10 s for records == want. */
static int map_wait_records(long want, struct mapstat *m)
{
	int i;

	for (i = 0; i < 100; i++) {
		if (map_get(m))
			return -1;
		if (m->records == want)
			return 0;
		msleep(100);
	}
	failf("map: %ld records, expected %ld", m->records, want);
	return -1;
}

/*
 * Records of blocks monitored processes never freed outlive them: when
 * nothing is monitored any more, the map empties (else every kfree on the
 * machine would look it up for good).
 */
TEST(map_emptied_when_unmonitored, 60)
{
	const uint64_t n = 100, sz = 64;
	struct mapstat m;
	struct worker p;

	CHECK(param_long("monitored") == 0, "%ld processes monitored already",
	      param_long("monitored"));
	if (keep_workers(&p, NULL))
		return -1;
	CHECK_ERR(tr_add(p.pid), 0, "add");
	if (keep(&p, n, sz) || map_get(&m))
		return -1;
	CHECK(m.records >= (long)n, "map: %ld records for %llu kept blocks",
	      m.records, (unsigned long long)n);
	CHECK_ERR(tr_remove(p.pid), 0, "remove");
	if (map_wait_records(0, &m))
		return -1;
	worker_kill(&p);
	return keep_reset();
}

#define GROW_N		200000
#define GROW_STEP	10000
#define GROW_SZ		97	/* odd: the allocator's own blocks are not */

/*
 * One process holds 200,000 blocks, three times the map's first table:
 * the map grows (a worker adds tables) and loses none, and freeing them
 * gives back every byte in kfree_mem; with nothing monitored it shrinks
 * back.  Since 6.18 the allocator's own calls in the worker's context add
 * blocks of theirs (multiples of 8 B): exact modulo those.
 */
TEST(map_grows_exact, 240)
{
	struct proc_row a, b, c;
	struct mapstat m0, m1, m;
	long long kf, kfm;
	struct worker p;
	uint64_t i;

	CHECK(param_long("monitored") == 0, "%ld processes monitored already",
	      param_long("monitored"));
	if (map_get(&m0))
		return -1;
	CHECK(m0.capacity < GROW_N, "map capacity %ld: this test needs the default map",
	      m0.capacity);
	if (keep_workers(&p, NULL) || keep_warm(&p, GROW_N, GROW_SZ))
		return -1;
	CHECK_ERR(tr_add(p.pid), 0, "add");
	if (row_need(p.pid, &a))
		return -1;
	for (i = 0; i < GROW_N; i += GROW_STEP) {
		if (keep(&p, GROW_STEP, GROW_SZ))
			return -1;
		msleep(20);	/* the grow worker's turn */
	}
	if (row_need(p.pid, &b) || map_get(&m1))
		return -1;
	diag("map: capacity %ld -> %ld, %ld records for %d kept blocks",
	     m0.capacity, m1.capacity, m1.records, GROW_N);
	CHECK(m1.overflow == m0.overflow, "map overflowed (%ld -> %ld) below its cap",
	      m0.overflow, m1.overflow);
	CHECK(m1.capacity > m0.capacity && m1.records >= GROW_N,
	      "map: capacity %ld, %ld records for %d kept blocks", m1.capacity,
	      m1.records, GROW_N);
	if (release(&p, GROW_N, 0) || row_need(p.pid, &c))
		return -1;
	kf = c.v[C_KFREE] - b.v[C_KFREE];
	kfm = c.v[C_KFREE_MEM] - b.v[C_KFREE_MEM];
	if (!kernel_at_least(6, 18)) {
		CHECK(b.v[C_KMALLOC] - a.v[C_KMALLOC] == GROW_N &&
		      b.v[C_KMALLOC_MEM] - a.v[C_KMALLOC_MEM] ==
		      (long long)GROW_N * GROW_SZ,
		      "keep: kmalloc %+lld, kmalloc_mem %+lld", b.v[C_KMALLOC] - a.v[C_KMALLOC],
		      b.v[C_KMALLOC_MEM] - a.v[C_KMALLOC_MEM]);
		CHECK(kf == GROW_N && kfm == (long long)GROW_N * GROW_SZ,
		      "release: kfree %+lld, kfree_mem %+lld, expected %d, %lld",
		      kf, kfm, GROW_N, (long long)GROW_N * GROW_SZ);
	} else {
		CHECK(kf >= GROW_N && kfm >= (long long)GROW_N * GROW_SZ &&
		      (kfm - (long long)GROW_N * GROW_SZ) % 8 == 0,
		      "release: kfree %+lld, kfree_mem %+lld, expected %d, %lld and the allocator's (8 B multiples)",
		      kf, kfm, GROW_N, (long long)GROW_N * GROW_SZ);
	}
	CHECK_ERR(tr_remove(p.pid), 0, "remove");
	if (map_wait_records(0, &m))
		return -1;
	for (i = 0; i < 100 && m.capacity != m0.capacity; i++) {
		msleep(100);
		if (map_get(&m))
			return -1;
	}
	CHECK(m.capacity == m0.capacity, "map capacity %ld after the drain, %ld at first",
	      m.capacity, m0.capacity);
	worker_kill(&p);
	return 0;
}
