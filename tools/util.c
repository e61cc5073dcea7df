// SPDX-License-Identifier: GPL-2.0
/*
 * util.c - helpers every command uses: messages, memory, parsing numbers,
 * reading files, command names
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracerctl.h"

/* The name messages start with. */
const char *progname = "tracerctl";

void warnx_(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q) {
		warnx_("out of memory");
		exit(EXIT_FAILED);
	}
	return q;
}

int parse_pid(const char *s, pid_t *pid)
{
	long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (*s - '0');
		if (v > INT_MAX)
			return -1;
	}
	if (v <= 0)
		return -1;
	*pid = (pid_t)v;
	return 0;
}

int parse_seconds(const char *s, double *sec)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > 86400)
		return -1;
	*sec = v;
	return 0;
}

int parse_count(const char *s, unsigned long *n)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end)
		return -1;
	*n = v;
	return 0;
}

/* Output is complete: flush it; a write error (full disk, closed pipe) fails. */
int stdout_done(int ret)
{
	if (fflush(stdout) || ferror(stdout)) {
		warnx_("write error: %s", strerror(errno));
		return EXIT_FAILED;
	}
	return ret;
}

/* Read a small file into buf (NUL-terminated, trailing newline removed). */
int read_file(const char *path, char *buf, size_t size)
{
	ssize_t len;
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (n + 1 < size) {
		len = read(fd, buf + n, size - 1 - n);
		if (len < 0) {
			if (errno == EINTR)
				continue;
			len = -errno;
			close(fd);
			return (int)len;
		}
		if (len == 0)
			break;
		n += (size_t)len;
	}
	close(fd);
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return (int)n;
}

/* Length of the valid UTF-8 sequence at s (2..4), or 0. */
static int utf8_seq(const unsigned char *s)
{
	int n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* Make a command name printable on one line of a table: control
 * characters and bytes that are not UTF-8 become '?'.
 */
void sanitize_comm(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		int n = *p >= 0x80 ? utf8_seq(p) : 1;

		if (n == 0 || *p < 0x20 || *p == 0x7f) {
			*p++ = '?';
			continue;
		}
		p += n;
	}
}

/* Columns a sanitized string takes: its UTF-8 characters. */
int text_width(const char *s)
{
	int w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

void read_comm(pid_t pid, char *buf, size_t size)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (read_file(path, buf, size) <= 0)
		snprintf(buf, size, "?");
}

/* The process a thread ID belongs to (itself if unknown). */
pid_t tid_to_tgid(pid_t tid)
{
	char path[64], buf[4096], *p;
	pid_t tgid;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return tid;
	p = strstr(buf, "\nTgid:");
	if (!p)
		return tid;
	tgid = (pid_t)strtol(p + 6, NULL, 10);
	return tgid > 0 ? tgid : tid;
}
