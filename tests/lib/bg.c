// SPDX-License-Identifier: GPL-2.0
/*
 * bg.c - what the threads of the stress tests share: the first error, and
 * a /proc/tracer reader (see suite.h)
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suite.h"

void bg_init(struct bg *b)
{
	memset(b, 0, sizeof(*b));
	pthread_mutex_init(&b->lock, NULL);
}

void bg_fail(struct bg *b, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&b->lock);
	if (!b->err[0]) {
		va_start(ap, fmt);
		vsnprintf(b->err, sizeof(b->err), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&b->lock);
	b->stop = 1;
}

void *bg_reader(void *p)
{
	struct bg *b = p;
	char err[256];

	while (!b->stop) {
		struct proc_table t;
		size_t len;
		char *buf = read_proc(&len);

		if (!buf) {
			bg_fail(b, "read %s: %s", PROC_PATH, strerror(errno));
			break;
		}
		if (parse_table(buf, len, &t, err, sizeof(err))) {
			bg_fail(b, "%s during stress: %s", PROC_PATH, err);
			free(buf);
			break;
		}
		free(t.rows);
		free(buf);
		__atomic_add_fetch(&b->reads, 1, __ATOMIC_RELAXED);
		if (b->reader_pause_ms)
			msleep(b->reader_pause_ms);
	}
	return NULL;
}
