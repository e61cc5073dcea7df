// SPDX-License-Identifier: GPL-2.0
/*
 * device.c - the module as tracerctl meets it: /dev/tracer, its errors, the
 * module's parameters
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tracerctl.h"

int module_loaded(void)
{
	struct stat st;

	return stat(TRACER_SYS_PATH, &st) == 0 || stat(TRACER_PROC_PATH, &st) == 0;
}

/* Open /dev/tracer for ioctl and read; -1 and *err = errno on failure. */
int open_device(int *err)
{
	int fd = open(TRACER_DEV_PATH, O_RDWR | O_CLOEXEC);

	if (fd < 0 && (errno == EACCES || errno == EPERM || errno == EROFS))
		fd = open(TRACER_DEV_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		*err = errno;
	return fd;
}

/* Explain why /dev/tracer could not be opened; -> exit status. */
int device_error(int err)
{
	switch (err) {
	case ENOENT:
	case ENXIO:
	case ENODEV:
		if (err == ENOENT && module_loaded()) {
			warnx_("%s does not exist though the tracer module is loaded;"
			       " create it: sudo mknod -m 600 %s c 10 %d",
			       TRACER_DEV_PATH, TRACER_DEV_PATH, TRACER_DEV_MINOR);
			return EXIT_NOMODULE;
		}
		warnx_("cannot open %s: %s: is the tracer module loaded? try: sudo modprobe tracer",
		       TRACER_DEV_PATH, strerror(err));
		return EXIT_NOMODULE;
	case EACCES:
	case EPERM:
		warnx_("cannot open %s: permission denied (root only, unless a udev rule"
		       " grants a group access: see tracer(4))", TRACER_DEV_PATH);
		return EXIT_NOACCESS;
	default:
		warnx_("cannot open %s: %s", TRACER_DEV_PATH, strerror(err));
		return EXIT_FAILED;
	}
}

int sys_param(const char *name, char *buf, size_t size)
{
	char path[128];

	snprintf(path, sizeof(path), TRACER_SYS_PATH "/parameters/%s", name);
	return read_file(path, buf, size);
}

/* "key=val key=val": the value of key, or NULL. */
const char *kv_get(const char *s, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);
	const char *p = s;

	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			size_t n = strcspn(p + klen + 1, " \t\n");

			if (n >= size)
				n = size - 1;
			memcpy(out, p + klen + 1, n);
			out[n] = '\0';
			return out;
		}
		p += strcspn(p, " \t\n");
	}
	return NULL;
}

/*
 * The allocation map overflowed: kfree_mem misses the bytes of the blocks
 * it could not record.  Say so, and the fix, on stderr (show, status).
 */
void map_warning(void)
{
	char map[256], overflow[32], capacity[32];

	if (sys_param("map", map, sizeof(map)) <= 0 ||
	    !kv_get(map, "overflow", overflow, sizeof(overflow)) ||
	    !strcmp(overflow, "0"))
		return;
	if (!kv_get(map, "capacity", capacity, sizeof(capacity)))
		snprintf(capacity, sizeof(capacity), "?");
	warnx_("warning: the allocation map was full %s time%s (capacity %s"
	       " records): kfree_mem is low; reload the module with a larger"
	       " map_max_bits (see tracer(4))", overflow,
	       strcmp(overflow, "1") ? "s" : "", capacity);
}

