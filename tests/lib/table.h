/* SPDX-License-Identifier: GPL-2.0 */
/*
 * table.h - /proc/tracer as the tests see it: read it, parse it strictly.
 *
 * The types are the tests' own (proc_row, proc_table), not tracerctl's.
 */
#ifndef TESTS_TABLE_H
#define TESTS_TABLE_H

#include <stddef.h>
#include <sys/types.h>

#define PROC_PATH	"/proc/tracer"

/* Columns of /proc/tracer. */
enum { C_PID, C_KMALLOC, C_KFREE, C_KMALLOC_MEM, C_KFREE_MEM, C_SCHED,
	C_UP, C_DOWN, C_LOCK, C_UNLOCK, NCOL };

extern const char *const col_name[NCOL];

struct proc_row {
	long long v[NCOL];
};

struct proc_table {
	int n;
	struct proc_row *rows;
};

/* The whole of /proc/tracer (NUL-terminated), or NULL with errno set. */
char *read_proc(size_t *lenp);

/*
 * Strict parser: header = exactly the column names separated by blanks,
 * then rows of NCOL decimal numbers, PID first, PIDs > 0 and distinct,
 * every line ending with '\n'.  0, or -1 with a message in err.
 */
int parse_table(const char *buf, size_t len, struct proc_table *t,
		char *err, size_t errlen);

struct proc_row *proc_table_find(struct proc_table *t, pid_t pid);

#endif /* TESTS_TABLE_H */
