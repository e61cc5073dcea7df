// SPDX-License-Identifier: GPL-2.0
/*
 * rows.c - rows of /proc/tracer and expected deltas (see suite.h)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"

int table_read(struct proc_table *t)
{
	char err[256];
	size_t len;
	char *buf = read_proc(&len);

	if (!buf) {
		failf("cannot read %s: %s", PROC_PATH, strerror(errno));
		return -1;
	}
	if (parse_table(buf, len, t, err, sizeof(err))) {
		failf("%s: %s", PROC_PATH, err);
		free(buf);
		return -1;
	}
	free(buf);
	return 0;
}

int row_get(pid_t pid, struct proc_row *r)
{
	struct proc_table t;
	struct proc_row *x;

	if (table_read(&t))
		return -1;
	x = proc_table_find(&t, pid);
	if (x && r)
		*r = *x;
	free(t.rows);
	return x ? 1 : 0;
}

int row_need(pid_t pid, struct proc_row *r)
{
	int ret = row_get(pid, r);

	if (ret < 0)
		return -1;
	CHECK(ret == 1, "no row for monitored PID %d", pid);
	return 0;
}

int row_absent(pid_t pid)
{
	int ret = row_get(pid, NULL);

	if (ret < 0)
		return -1;
	CHECK(ret == 0, "unexpected row for PID %d", pid);
	return 0;
}

int row_wait(pid_t pid, int want, const char *what)
{
	int i, ret = -1;

	for (i = 0; i < 200; i++) {
		ret = row_get(pid, NULL);
		if (ret < 0 || ret == want)
			break;
		msleep(10);
	}
	CHECK(ret == want, "%s: %d %s", what, pid,
	      want ? "has no row" : "still has a row");
	return 0;
}

int row_zero(pid_t pid, const char *what)
{
	struct proc_row r;
	int i;

	if (row_need(pid, &r))
		return -1;
	for (i = 1; i < NCOL; i++)
		CHECK(r.v[i] == 0, "%s: %s = %lld, expected 0", what,
		      col_name[i], r.v[i]);
	return 0;
}

int table_none(const char *what)
{
	struct proc_table t;
	char buf[256];
	int i, n;

	if (table_read(&t))
		return -1;
	for (i = 0; i < t.n && i < 5; i++)
		failf("%s: row left: PID %lld %s", what, t.rows[i].v[C_PID],
		      row_str(&t.rows[i], buf, sizeof(buf)));
	n = t.n;
	free(t.rows);
	return n ? -1 : 0;
}

/* The PIDs of t are exactly want[0..n). */
int table_pids(struct proc_table *t, const pid_t *want, int n,
	       const char *who)
{
	char buf[256];
	size_t o = 0;
	int i, ok = t->n == n;

	for (i = 0; i < n && ok; i++)
		ok = proc_table_find(t, want[i]) != NULL;
	if (ok)
		return 0;
	for (i = 0; i < t->n && o < sizeof(buf); i++)
		o += snprintf(buf + o, sizeof(buf) - o, " %lld",
			      t->rows[i].v[C_PID]);
	failf("%s sees PIDs {%s }, expected %d of them", who, buf, n);
	for (i = 0; i < n; i++)
		failf("%d", want[i]);
	return -1;
}

int table_is(const pid_t *want, int n, const char *who)
{
	struct proc_table t;
	int ret;

	if (table_read(&t))
		return -1;
	ret = table_pids(&t, want, n, who);
	free(t.rows);
	return ret;
}

void row_sub(struct proc_row *d, const struct proc_row *b,
	     const struct proc_row *a)
{
	int i;

	d->v[0] = b->v[0];
	for (i = 1; i < NCOL; i++)
		d->v[i] = b->v[i] - a->v[i];
}

char *row_str(const struct proc_row *r, char *buf, size_t len)
{
	size_t o = 0;
	int i;

	buf[0] = 0;
	for (i = 1; i < NCOL && o < len; i++)
		o += snprintf(buf + o, len - o, "%s%s=%lld", i > 1 ? " " : "",
			      col_name[i], r->v[i]);
	return buf;
}

void expect_zero(struct expect *e)
{
	int i;

	for (i = 0; i < NCOL; i++)
		e->v[i] = 0;
	e->v[C_PID] = ANY;
	e->v[C_SCHED] = ANY;
}

void expect_alloc(struct expect *e, long long n, long long bytes)
{
	expect_zero(e);
	e->v[C_KMALLOC] = n;
	e->v[C_KFREE] = n;
	e->v[C_KMALLOC_MEM] = n * bytes;
	e->v[C_KFREE_MEM] = n * bytes;
}

void expect_op(struct expect *e, uint32_t op, long long n, long long size)
{
	expect_zero(e);
	switch (op) {
	case TTH_OP_KMALLOC_CONST:
		expect_alloc(e, n, TTH_CONST_SIZE);
		break;
	case TTH_OP_KMALLOC_VAR:
		expect_alloc(e, n, size);
		break;
	case TTH_OP_SEMA:
		e->v[C_UP] = e->v[C_DOWN] = n;
		break;
	case TTH_OP_MUTEX:
		e->v[C_LOCK] = e->v[C_UNLOCK] = n;
		break;
	default:
		break;
	}
}

int check_delta(const char *what, const struct proc_row *d,
		const struct expect *e)
{
	char buf[256];
	int i, bad = 0;

	for (i = 1; i < NCOL; i++) {
		if (e->v[i] == ANY || d->v[i] == e->v[i])
			continue;
		failf("%s: %s expected %+lld, got %+lld", what, col_name[i],
		      e->v[i], d->v[i]);
		bad = 1;
	}
	if (bad)
		failf("(%s delta: %s)", what, row_str(d, buf, sizeof(buf)));
	return bad ? -1 : 0;
}

int check_since(pid_t pid, const struct proc_row *a, const struct expect *e,
		const char *what)
{
	struct proc_row b, d;

	if (row_need(pid, &b))
		return -1;
	row_sub(&d, &b, a);
	return check_delta(what, &d, e);
}
