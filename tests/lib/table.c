// SPDX-License-Identifier: GPL-2.0
/*
 * table.c - /proc/tracer: read and strictly parse it (see table.h)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "table.h"
#include "util.h"

const char *const col_name[NCOL] = {
	"PID", "kmalloc", "kfree", "kmalloc_mem", "kfree_mem", "sched",
	"up", "down", "lock", "unlock",
};

char *read_proc(size_t *lenp)
{
	int fd = open(PROC_PATH, O_RDONLY | O_CLOEXEC);
	char *buf;
	int e;

	if (fd < 0)
		return NULL;
	buf = read_all_fd(fd, lenp);
	e = errno;
	close(fd);
	errno = e;
	return buf;
}

static int parse_u64(const char *s, size_t len, long long *out)
{
	long long v = 0;
	size_t i;

	if (!len || len > 18)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* The strict parser: see table.h. */
int parse_table(const char *buf, size_t len, struct proc_table *t,
		char *err, size_t errlen)
{
	const char *p = buf, *end = buf + len;
	int line = 0, cap = 0;

	t->n = 0;
	t->rows = NULL;
	if (!len) {
		snprintf(err, errlen, "empty file");
		return -1;
	}
	if (buf[len - 1] != '\n') {
		snprintf(err, errlen, "last line not terminated");
		return -1;
	}
	while (p < end) {
		const char *eol = memchr(p, '\n', end - p);
		const char *q = p;
		long long v[NCOL];
		int ntok = 0;

		if (memchr(p, 0, eol - p)) {
			snprintf(err, errlen, "NUL byte in line %d", line + 1);
			goto bad;
		}
		while (q < eol) {
			const char *tok;

			while (q < eol && (*q == ' ' || *q == '\t'))
				q++;
			if (q == eol)
				break;
			tok = q;
			while (q < eol && *q != ' ' && *q != '\t')
				q++;
			if (ntok >= NCOL) {
				snprintf(err, errlen, "line %d: more than %d fields",
					 line + 1, NCOL);
				goto bad;
			}
			if (line == 0) {
				if ((size_t)(q - tok) != strlen(col_name[ntok]) ||
				    memcmp(tok, col_name[ntok], q - tok)) {
					snprintf(err, errlen,
						 "header field %d is '%.*s', expected '%s'",
						 ntok + 1, (int)(q - tok), tok,
						 col_name[ntok]);
					goto bad;
				}
			} else if (parse_u64(tok, q - tok, &v[ntok])) {
				snprintf(err, errlen, "line %d: bad number '%.*s'",
					 line + 1, (int)(q - tok), tok);
				goto bad;
			}
			ntok++;
		}
		if (ntok != NCOL) {
			snprintf(err, errlen, "line %d has %d fields, expected %d",
				 line + 1, ntok, NCOL);
			goto bad;
		}
		if (line > 0) {
			int i;

			if (v[C_PID] <= 0 || v[C_PID] > INT_MAX) {
				snprintf(err, errlen, "line %d: bad PID %lld",
					 line + 1, v[C_PID]);
				goto bad;
			}
			for (i = 0; i < t->n; i++)
				if (t->rows[i].v[C_PID] == v[C_PID]) {
					snprintf(err, errlen, "PID %lld listed twice",
						 v[C_PID]);
					goto bad;
				}
			if (t->n == cap) {
				struct proc_row *nr;

				cap = cap ? 2 * cap : 16;
				nr = realloc(t->rows, cap * sizeof(*nr));
				if (!nr) {
					snprintf(err, errlen, "out of memory");
					goto bad;
				}
				t->rows = nr;
			}
			memcpy(t->rows[t->n].v, v, sizeof(v));
			t->n++;
		}
		line++;
		p = eol + 1;
	}
	return 0;
bad:
	free(t->rows);
	t->rows = NULL;
	t->n = 0;
	return -1;
}

struct proc_row *proc_table_find(struct proc_table *t, pid_t pid)
{
	int i;

	for (i = 0; i < t->n; i++)
		if (t->rows[i].v[C_PID] == pid)
			return &t->rows[i];
	return NULL;
}
