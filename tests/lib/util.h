/* SPDX-License-Identifier: GPL-2.0 */
/*
 * util.h - small helpers of the test programs (tracer_test and
 * tracer_workload): time, files, errno names.  libc only, no test state.
 */
#ifndef TESTS_UTIL_H
#define TESTS_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

double now(void);		/* CLOCK_MONOTONIC, in seconds */
void msleep(int ms);

/* Everything fd gives until EOF, NUL-terminated; NULL with errno set. */
char *read_all_fd(int fd, size_t *lenp);

/* Up to len - 1 bytes of path, NUL-terminated: their count, or -1. */
ssize_t read_file(const char *path, char *buf, size_t len);

long read_long(const char *path);	/* a number in a file; -1 if none */
int write_str(const char *path, const char *s);	/* 0 or -1 */

/* "ESRCH" for ESRCH (the errnos the module answers), "errno N" else. */
const char *errname(int e);

/* read(2) with any pointer, bad ones included (no fortified checks). */
ssize_t sys_read(int fd, void *buf, size_t len);

uint64_t rnd(uint64_t *state);	/* xorshift64 */

#endif /* TESTS_UTIL_H */
