// SPDX-License-Identifier: GPL-2.0
/*
 * table.c - the table of monitored processes: column and sort-key names,
 * reading /proc/tracer, finding, sorting and summing rows.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracerctl.h"

const char *const col_name[NCOL] = {
	"kmalloc", "kfree", "kmalloc_mem", "kfree_mem", "sched",
	"up", "down", "lock", "unlock",
};

const bool col_bytes[NCOL] = {
	false, false, true, true, false, false, false, false, false,
};

int sort_key_parse(const char *name)
{
	int i;

	if (!strcmp(name, "pid"))
		return SORT_PID;
	if (!strcmp(name, "comm"))
		return SORT_COMM;
	if (!strcmp(name, "ppid"))
		return SORT_PPID;
	for (i = 0; i < NCOL; i++)
		if (!strcmp(name, col_name[i]))
			return i;
	return SORT_NONE;
}

const char *sort_key_name(int key)
{
	switch (key) {
	case SORT_PID:
		return "pid";
	case SORT_COMM:
		return "comm";
	case SORT_PPID:
		return "ppid";
	case SORT_NONE:
		return "none";
	default:
		return col_name[key];
	}
}

void table_add(struct table *t, const struct row *r)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->rows = xrealloc(t->rows, t->cap * sizeof(*t->rows));
	}
	t->rows[t->n++] = *r;
}

void table_free(struct table *t)
{
	free(t->rows);
	t->rows = NULL;
	t->n = t->cap = 0;
}

struct row *table_find(struct table *t, pid_t pid)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->rows[i].pid == pid)
			return &t->rows[i];
	return NULL;
}

/* Parse /proc/tracer into t (appending).  -1 with *err = errno on failure;
 * *err = EPROTO if the header is not the expected one.
 */
int proc_read(struct table *t, int *err)
{
	size_t len = 0, cap = 65536;
	char *buf = xrealloc(NULL, cap), *line, *save = NULL;
	int map[64], ncols = 0, fd;
	ssize_t r;

	fd = open(TRACER_PROC_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*err = errno;
		free(buf);
		return -1;
	}
	for (;;) {
		if (len + 1 >= cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		r = read(fd, buf + len, cap - 1 - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			*err = errno;
			close(fd);
			free(buf);
			return -1;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';

	/* Header: PID then column names; map positions to our columns. */
	line = strtok_r(buf, "\n", &save);
	if (!line)
		goto bad;
	{
		char *s2 = NULL, *tok = strtok_r(line, " \t", &s2);

		if (!tok || strcmp(tok, "PID"))
			goto bad;
		while ((tok = strtok_r(NULL, " \t", &s2)) && ncols < 64) {
			int k = sort_key_parse(tok);

			map[ncols++] = k >= 0 ? k : -1;
		}
	}
	while ((line = strtok_r(NULL, "\n", &save))) {
		struct row row;
		char *s2 = NULL, *tok = strtok_r(line, " \t", &s2), *end;
		int i;

		memset(&row, 0, sizeof(row));
		if (!tok)
			continue;
		row.pid = (pid_t)strtol(tok, &end, 10);
		if (*end || row.pid <= 0)
			goto bad;
		for (i = 0; i < ncols && (tok = strtok_r(NULL, " \t", &s2)); i++) {
			uint64_t v = strtoull(tok, &end, 10);

			if (*end)
				goto bad;
			if (map[i] >= 0)
				row.c[map[i]] = v;
		}
		table_add(t, &row);
	}
	free(buf);
	return 0;
bad:
	free(buf);
	*err = EPROTO;
	return -1;
}

static int sort_key_g;
static bool sort_rates_g;

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int k = sort_key_g;

	if (k >= 0) {
		if (sort_rates_g) {
			if (x->rate[k] != y->rate[k])
				return x->rate[k] < y->rate[k] ? 1 : -1;
		} else if (x->c[k] != y->c[k]) {
			return x->c[k] < y->c[k] ? 1 : -1;
		}
	} else if (k == SORT_COMM) {
		int r = strcmp(x->comm, y->comm);

		if (r)
			return r;
	} else if (k == SORT_PPID && x->ppid != y->ppid) {
		return x->ppid < y->ppid ? -1 : 1;
	}
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* Counters sort descending, pid/comm/ppid ascending; reverse flips. */
void table_sort_by(struct table *t, int key, bool reverse, bool rates)
{
	size_t i;

	if (key == SORT_NONE || t->n < 2)
		return;
	sort_key_g = key;
	sort_rates_g = rates;
	qsort(t->rows, t->n, sizeof(*t->rows), row_cmp);
	if (reverse) {
		for (i = 0; i < t->n / 2; i++) {
			struct row tmp = t->rows[i];

			t->rows[i] = t->rows[t->n - 1 - i];
			t->rows[t->n - 1 - i] = tmp;
		}
	}
}

void row_sum(const struct table *t, struct row *total)
{
	size_t i;
	int k;

	memset(total, 0, sizeof(*total));
	for (i = 0; i < t->n; i++) {
		for (k = 0; k < NCOL; k++) {
			total->c[k] += t->rows[i].c[k];
			total->rate[k] += t->rows[i].rate[k];
		}
	}
	total->has_rate = true;
}
