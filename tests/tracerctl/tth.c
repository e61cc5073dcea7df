// SPDX-License-Identifier: GPL-2.0
/*
 * tth - make this process perform an exact number of operations through the
 * test helper module (/dev/tracer_helper), for the tracerctl tests.
 *
 *   tth [-w FIFO] [-d FILE] OP N [SIZE [COUNT]]
 *
 * OP is a number or a name (kmalloc_var, kmalloc_const, ...: enum tth_op
 * without TTH_OP_, lower case).  -w: read a line from FIFO before the
 * request; -d: after it, write "done" to FILE and sleep until killed.
 * Exit status 0, or 1 with a message.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tracer_test_helper.h"

static const char *const ops[TTH_OP_COUNT] = {
	"nop", "kmalloc_const", "kmalloc_var", "kmalloc_large_const",
	"kmalloc_large_var", "kzalloc_const", "kzalloc_var", "kcalloc_const",
	"kcalloc_var", "kmalloc_array_var", "kmalloc_node_const",
	"kmalloc_node_var", "kmemdup", "kstrndup", "kstrdup_const",
	"kfree_sensitive", "kfree_null", "kfree_zero_ptr", "schedule", "sema",
	"mutex", "keep", "release", "release_softirq", "hardirq", "softirq",
	"kmalloc_fail",
};

int main(int argc, char **argv)
{
	const char *wait_fifo = NULL, *done_file = NULL;
	struct tth_req req;
	int c, fd, i;

	while ((c = getopt(argc, argv, "w:d:")) != -1) {
		switch (c) {
		case 'w':
			wait_fifo = optarg;
			break;
		case 'd':
			done_file = optarg;
			break;
		default:
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2 || argc > 4) {
		fprintf(stderr, "usage: tth [-w FIFO] [-d FILE] OP N [SIZE [COUNT]]\n");
		return 2;
	}
	memset(&req, 0, sizeof(req));
	req.op = TTH_OP_COUNT;
	if (isdigit((unsigned char)argv[0][0])) {
		req.op = (__u32)strtoul(argv[0], NULL, 0);
	} else {
		for (i = 0; i < TTH_OP_COUNT; i++)
			if (!strcasecmp(argv[0], ops[i]))
				req.op = (__u32)i;
	}
	if (req.op >= TTH_OP_COUNT) {
		fprintf(stderr, "tth: unknown op '%s'\n", argv[0]);
		return 2;
	}
	req.n = strtoull(argv[1], NULL, 0);
	if (argc > 2)
		req.size = strtoull(argv[2], NULL, 0);
	if (argc > 3)
		req.count = strtoull(argv[3], NULL, 0);

	fd = open("/dev/" TTH_DEV_NAME, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "tth: /dev/%s: %s\n", TTH_DEV_NAME, strerror(errno));
		return 1;
	}
	if (wait_fifo) {
		char buf[64];
		int w = open(wait_fifo, O_RDONLY);

		if (w < 0 || read(w, buf, sizeof(buf)) < 0) {
			fprintf(stderr, "tth: %s: %s\n", wait_fifo, strerror(errno));
			return 1;
		}
		close(w);
	}
	if (ioctl(fd, TTH_IOC_RUN, &req)) {
		fprintf(stderr, "tth: TTH_IOC_RUN %s n=%llu: %s\n", ops[req.op],
			(unsigned long long)req.n, strerror(errno));
		return 1;
	}
	close(fd);
	if (done_file) {
		FILE *f = fopen(done_file, "w");

		if (!f || fputs("done\n", f) < 0 || fclose(f)) {
			fprintf(stderr, "tth: %s: %s\n", done_file, strerror(errno));
			return 1;
		}
		for (;;)
			pause();
	}
	return 0;
}
