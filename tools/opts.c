// SPDX-License-Identifier: GPL-2.0
/*
 * opts.c - what the commands that print tables (show, run, watch) parse
 * alike: their shared options, lists of PIDs, and why /proc/tracer could
 * not be read.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tracerctl.h"

int table_opt(int c, const char *arg, struct show_opts *o, const char *cmd,
	      bool ppid)
{
	switch (c) {
	case 'h':
		o->human = true;
		return 1;
	case 's':
		o->sort = sort_key_parse(arg);
		if (o->sort == SORT_NONE || (o->sort == SORT_PPID && !ppid)) {
			warnx_("%s: unknown column '%s'", cmd, arg);
			return -1;
		}
		return 1;
	case 'r':
		o->reverse = true;
		return 1;
	case OPT_JSON:
		o->fmt = FMT_JSON;
		return 1;
	case OPT_CSV:
		o->fmt = FMT_CSV;
		return 1;
	case OPT_NOHEADER:
		o->header = false;
		return 1;
	default:
		return 0;
	}
}

pid_t *parse_pids(int n, char **args, const char *cmd)
{
	pid_t *pids = xrealloc(NULL, (n > 0 ? (size_t)n : 1) * sizeof(*pids));
	int i;

	for (i = 0; i < n; i++) {
		if (parse_pid(args[i], &pids[i])) {
			warnx_("%s: '%s' is not a PID (a number > 0)", cmd, args[i]);
			free(pids);
			return NULL;
		}
	}
	return pids;
}

int proc_error(int err)
{
	if (err == ENOENT) {
		warnx_("cannot read %s: is the tracer module loaded? try: sudo modprobe tracer",
		       TRACER_PROC_PATH);
		return EXIT_NOMODULE;
	}
	if (err == EPROTO) {
		warnx_("%s: unexpected format", TRACER_PROC_PATH);
		return EXIT_FAILED;
	}
	warnx_("cannot read %s: %s", TRACER_PROC_PATH, strerror(err));
	return err == EACCES ? EXIT_NOACCESS : EXIT_FAILED;
}
