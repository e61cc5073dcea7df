// SPDX-License-Identifier: GPL-2.0
/*
 * suite.c - tracer_test's setup, /dev/tracer requests, module parameters
 * and the kernel log (see suite.h)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "suite.h"

const char tt_program[] = "tracer_test";

int g_tfd = -1;
int g_hfd = -1;
char *g_shbuf;

static long g_missed;

void tt_setup(void)
{
	g_shbuf = mmap(NULL, SHBUF_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (g_shbuf == MAP_FAILED) {
		perror("tracer_test: mmap");
		_exit(2);
	}
	g_tfd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	if (g_tfd < 0)
		diag("cannot open %s: %s", DEV_PATH, strerror(errno));
	g_hfd = open(HELPER_PATH, O_RDWR);
	if (g_hfd < 0)
		diag("cannot open %s: %s", HELPER_PATH, strerror(errno));
}

void tt_before(const struct tt_test *t)
{
	(void)t;
	g_missed = read_long(MISSED_PATH);
}

void tt_after(const struct tt_test *t)
{
	long m = read_long(MISSED_PATH);

	if (m != g_missed)
		diag("%s: tracer missed events %ld -> %ld", t->name, g_missed,
		     m);
}

int dev_open(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		failf("open %s as uid %d: %s", path, getuid(), strerror(errno));
	return fd;
}

int dev_ioctl(int fd, unsigned long req, unsigned long arg)
{
	return ioctl(fd, req, arg) ? errno : 0;
}

int tr_ioctl(unsigned long req, unsigned long arg)
{
	return dev_ioctl(g_tfd, req, arg);
}

int tr_add(pid_t pid)
{
	return tr_ioctl(TRACER_ADD_PROCESS, (unsigned int)pid);
}

int tr_remove(pid_t pid)
{
	return tr_ioctl(TRACER_REMOVE_PROCESS, (unsigned int)pid);
}

int ex_add(int fd, pid_t pid, uint32_t flags)
{
	struct tracer_add a = { .pid = pid, .flags = flags };

	return ioctl(fd, TRACER_ADD_PROCESS_EX, &a) ? errno : 0;
}

long param_long(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
	return read_long(path);
}

int map_get(struct mapstat *m)
{
	char buf[128];

	CHECK(read_file(PARAM_DIR "map", buf, sizeof(buf)) > 0,
	      "read %smap: %s", PARAM_DIR, strerror(errno));
	CHECK(sscanf(buf, "records=%ld capacity=%ld overflow=%ld", &m->records,
		     &m->capacity, &m->overflow) == 3,
	      "%smap: '%s'", PARAM_DIR, buf);
	return 0;
}

int fail_set(int n)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%d", n);
	CHECK(!write_str(FAIL_ALLOC_PATH, buf), "write %s: %s", FAIL_ALLOC_PATH,
	      strerror(errno));
	return 0;
}

int kernel_at_least(int maj, int min)
{
	struct utsname u;
	int a = 0, b = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &a, &b) != 2)
		return 0;
	return a > maj || (a == maj && b >= min);
}

int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/* The next record of the kernel log into rec (NUL-terminated): its length, 0 at the end. */
static ssize_t kmsg_next(int fd, char *rec, size_t size)
{
	ssize_t r;

	do		/* EPIPE: records overwritten meanwhile; go on */
		r = read(fd, rec, size - 1);
	while (r < 0 && errno == EPIPE);
	if (r <= 0)
		return 0;
	rec[r] = 0;
	return r;
}

int kmsg_check(int fd, const char *what)
{
	static const char *const bad[] = {
		"BUG", "WARNING", "Oops", "list_add corruption",
		"list_del corruption", "refcount_t", "general protection",
		"nable to handle", "Call Trace", "UBSAN", "KASAN",
	};
	char rec[2048];
	size_t i;
	int found = 0;

	if (fd < 0)
		return 0;
	while (kmsg_next(fd, rec, sizeof(rec)) > 0) {
		for (i = 0; i < ARRAY_SIZE(bad) && !found; i++)
			if (strstr(rec, bad[i])) {
				failf("%s: kernel log: %.300s", what, rec);
				found = 1;
			}
	}
	close(fd);
	return found ? -1 : 0;
}

int kmsg_find(int fd, const char *needle)
{
	char rec[2048];
	int found = 0;

	if (fd < 0)
		return -1;
	while (kmsg_next(fd, rec, sizeof(rec)) > 0)
		found |= !!strstr(rec, needle);
	return found;
}

int race_delay(const char *where, int ms)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s %d", where, ms);
	CHECK(!write_str(RACE_DELAY_PATH, buf), "race_delay %s: %s",
	      buf, strerror(errno));
	return 0;
}

int race_waiting(const char *where, int timeout_ms)
{
	char buf[256], *p;
	size_t len = strlen(where);
	int t, ms, n;

	for (t = 0; t <= timeout_ms; t += 2) {
		if (read_file(RACE_DELAY_PATH, buf, sizeof(buf)) <= 0)
			return -1;
		for (p = buf; (p = strstr(p, where)); p += len)
			if ((p == buf || p[-1] == ' ') && p[len] == ' ' &&
			    sscanf(p + len, "%d %d", &ms, &n) == 2 && n > 0)
				return 1;
		msleep(2);
	}
	return 0;
}
