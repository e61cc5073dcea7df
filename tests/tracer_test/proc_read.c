// SPDX-License-Identifier: GPL-2.0
/*
 * proc_read.c - read(2) of /proc/tracer in pieces of every size, at every
 * offset, by lseek, pread and readv: always the bytes of one big read
 */
#include <sys/uio.h>

#include "suite.h"

#define BIG_ROWS 150

/* Reads of sz bytes from offset 0 give the len bytes of big. */
static int read_chunks_equal(int fd, const char *big, size_t len, size_t sz,
			     const char *what)
{
	char *b = malloc(len + sz + 1);
	size_t got = 0;
	ssize_t r;

	CHECK(b, "malloc");
	CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek: %s", strerror(errno));
	while ((r = read(fd, b + got, sz)) > 0) {
		got += r;
		CHECK(got <= len, "%s: %zu-byte reads give more than %zu bytes",
		      what, sz, len);
	}
	CHECK(r == 0, "%s: %zu-byte read: %s", what, sz, strerror(errno));
	CHECK(got == len && !memcmp(b, big, len),
	      "%s: %zu-byte reads (%zu bytes) differ from one read (%zu bytes)",
	      what, sz, got, len);
	free(b);
	return 0;
}

/*
 * From offset k (past the end too): lseek and read the rest, and pread of
 * a few bytes, give the bytes of big from k on.
 */
static int read_at_equal(int fd, const char *big, size_t len, size_t k)
{
	size_t want = k < len ? len - k : 0, plen;
	char *part, tmp[64];
	ssize_t r;

	CHECK(lseek(fd, k, SEEK_SET) == (off_t)k, "lseek %zu: %s", k,
	      strerror(errno));
	part = read_all_fd(fd, &plen);
	CHECK(part, "read after lseek %zu: %s", k, strerror(errno));
	CHECK(plen == want && !memcmp(part, big + k, plen),
	      "read after lseek to %zu gives %zu bytes, expected the last %zu: '%.*s' vs '%.*s'",
	      k, plen, want, (int)plen, part, (int)want, big + k);
	free(part);
	r = pread(fd, tmp, sizeof(tmp), k);
	want = want < sizeof(tmp) ? want : sizeof(tmp);
	CHECK(r == (ssize_t)want && !memcmp(tmp, big + k, want),
	      "pread(%zu at %zu) returned %zd bytes or other text",
	      sizeof(tmp), k, r);
	return 0;
}

/* Byte-by-byte reads, seeks and preads give the same text as one read. */
TEST(proc_read_bytewise_seek, 60)
{
	struct worker w[3];
	size_t len, k;
	char *big;
	int fd, i;

	for (i = 0; i < 3; i++) {
		if (worker_start(&w[i], 1))
			return -1;
		CHECK_ERR(tr_add(w[i].pid), 0, "add");
		if (slot_op(w[i].sl[0], TTH_OP_KMALLOC_VAR, 1000 * (i + 1), 1234,
			    0) ||
		    slot_op(w[i].sl[0], TTH_OP_SEMA, 10 + i, 0, 0))
			return -1;
	}
	/* Rows must not change: every worker sleeps, past schedule(). */
	for (i = 0; i < 3; i++)
		if (worker_asleep(&w[i]))
			return -1;
	big = read_proc(&len);
	CHECK(big, "read: %s", strerror(errno));
	CHECK(len > strlen(TRACER_PROC_COLUMNS), "short table");

	fd = open(PROC_PATH, O_RDONLY);
	CHECK(fd >= 0, "open: %s", strerror(errno));
	if (read_chunks_equal(fd, big, len, 1, "small table") ||
	    read_chunks_equal(fd, big, len, 7, "small table"))
		return -1;
	/* Seek to k, read the rest; pread at k. */
	for (k = 0; k <= len; k += (len / 13) + 1)
		if (read_at_equal(fd, big, len, k))
			return -1;
	close(fd);
	free(big);
	for (i = 0; i < 3; i++)
		worker_kill(&w[i]);
	return 0;
}

/*
 * A table of several pages (seq_file grows its buffer, every read formats it
 * again): reads of every size, seeks around page boundaries, readv and pread
 * give exactly the bytes of one big read.
 */
TEST_ONCE(proc_read_large_table, 120)
{
	static const size_t sizes[] = { 1, 3, 100, 4095, 4096, 4097, 65536 };
	pid_t kids[BIG_ROWS];
	char *big = NULL, *again, *part, tmp[64];
	size_t len = 0, alen, plen, k, offs[16];
	struct proc_table t;
	struct iovec iov[5];
	ssize_t r;
	int i, fd, n, stable = 0;

	for (i = 0; i < BIG_ROWS; i++) {
		fflush(stdout);
		kids[i] = fork();
		CHECK(kids[i] >= 0, "fork: %s", strerror(errno));
		if (kids[i] == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (;;)
				pause();
		}
	}
	for (i = 0; i < BIG_ROWS; i++) {
		if (wait_task_state(kids[i], 'S'))
			return -1;
		CHECK_ERR(tr_add(kids[i]), 0, "add %d", kids[i]);
	}
	/* Sleeping in pause(): the table stops changing. */
	for (i = 0; i < 100 && !stable; i++) {
		msleep(50);
		again = read_proc(&alen);
		CHECK(again, "read: %s", strerror(errno));
		stable = big && alen == len && !memcmp(big, again, len);
		free(big);
		big = again;
		len = alen;
	}
	CHECK(stable, "the table keeps changing");
	CHECK(!parse_table(big, len, &t, tmp, sizeof(tmp)), "bad table: %s", tmp);
	n = t.n;
	free(t.rows);
	CHECK(n == BIG_ROWS, "%d rows, expected %d", n, BIG_ROWS);
	CHECK(len > 2 * 4096, "table of %zu bytes only", len);
	fd = open(PROC_PATH, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0, "open: %s", strerror(errno));
	for (k = 0; k < ARRAY_SIZE(sizes); k++)
		if (read_chunks_equal(fd, big, len, sizes[k], "large table"))
			return -1;
	/* readv with odd pieces. */
	part = malloc(len + 100000);
	CHECK(part, "malloc");
	CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek");
	iov[0] = (struct iovec){ part, 1 };
	iov[1] = (struct iovec){ part + 1, 4094 };
	iov[2] = (struct iovec){ part + 4095, 3 };
	iov[3] = (struct iovec){ part + 4098, 5000 };
	iov[4] = (struct iovec){ part + 9098, len + 90000 - 9098 };
	plen = 0;
	while ((r = readv(fd, iov, 5)) > 0) {
		plen += r;
		break;	/* one readv: seq_read may stop at a buffer end */
	}
	CHECK(r >= 0, "readv: %s", strerror(errno));
	CHECK(plen > 0 && !memcmp(part, big, plen), "readv differs from one read");
	free(part);
	/* Seek to offsets around page boundaries, read the rest. */
	n = 0;
	offs[n++] = 0;
	offs[n++] = 1;
	offs[n++] = 4095;
	offs[n++] = 4096;
	offs[n++] = 4097;
	offs[n++] = 8191;
	offs[n++] = 8192;
	offs[n++] = 8193;
	offs[n++] = len / 2;
	offs[n++] = len - 1;
	offs[n++] = len;
	offs[n++] = len + 1;
	offs[n++] = len + 10000;
	for (i = 0; i < n; i++)
		if (read_at_equal(fd, big, len, offs[i]))
			return -1;
	/* SEEK_CUR, and a negative offset. */
	CHECK(lseek(fd, 0, SEEK_SET) == 0, "lseek");
	CHECK(read(fd, tmp, 10) == 10, "read 10");
	CHECK(lseek(fd, 4090, SEEK_CUR) == 4100, "lseek SEEK_CUR: %s",
	      strerror(errno));
	part = read_all_fd(fd, &plen);
	CHECK(part && plen == len - 4100 && !memcmp(part, big + 4100, plen),
	      "read after SEEK_CUR to 4100 differs");
	free(part);
	errno = 0;
	CHECK(lseek(fd, -1, SEEK_SET) < 0 && errno == EINVAL,
	      "lseek to -1: %s", strerror(errno));
	close(fd);
	for (i = 0; i < BIG_ROWS; i++)
		kill(kids[i], SIGKILL);
	for (i = 0; i < BIG_ROWS; i++)
		if (reap(kids[i]))
			return -1;
	free(big);
	return table_none("after the children were killed");
}
