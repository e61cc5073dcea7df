// SPDX-License-Identifier: GPL-2.0
/*
 * request.c - add and remove: the ioctl requests on /dev/tracer
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tracerctl.h"

static const char add_help[] =
"Usage: tracerctl add [-f] PID...\n"
"\n"
"Start monitoring the processes (thread groups) PID...; a thread ID names its\n"
"process.  Every PID is tried; the exit status is 1 if any failed.\n"
"\n"
"  -f, --follow-forks   also monitor every process they fork from now on\n"
"      --help           this help\n";

static const char remove_help[] =
"Usage: tracerctl remove PID...\n"
"\n"
"Stop monitoring the processes PID...; their rows leave /proc/tracer.  Every\n"
"PID is tried; the exit status is 1 if any failed.\n";


static const struct option pid_longopts[] = {
	{ "follow-forks", no_argument, NULL, 'f' },
	{ "help", no_argument, NULL, 'H' },
	{ NULL, 0, NULL, 0 },
};

static int pid_request(int argc, char **argv, bool add)
{
	const char *help = add ? add_help : remove_help;
	const char *verb = add ? "add" : "remove";
	bool follow = false;
	pid_t *pids;
	int i, c, fd, err, n, ret = EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, add ? "f" : "", pid_longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (!add)
				goto usage;
			follow = true;
			break;
		case 'H':
			fputs(help, stdout);
			return EXIT_OK;
		default:
			goto usage;
		}
	}
	n = argc - optind;
	if (n <= 0) {
		warnx_("%s: no PID given", verb);
		goto usage;
	}
	pids = parse_pids(n, argv + optind, verb);
	if (!pids)
		return EXIT_USAGE;
	fd = open_device(&err);
	if (fd < 0) {
		free(pids);
		return device_error(err);
	}
	for (i = 0; i < n; i++) {
		long r;

		if (follow) {
			struct tracer_add req = {
				.pid = pids[i],
				.flags = TRACER_FOLLOW_FORKS,
			};

			r = ioctl(fd, TRACER_ADD_PROCESS_EX, &req);
		} else {
			r = ioctl(fd, add ? TRACER_ADD_PROCESS : TRACER_REMOVE_PROCESS,
				  (unsigned long)pids[i]);
		}
		if (r == 0)
			continue;
		err = errno;
		ret = EXIT_FAILED;
		switch (err) {
		case ESRCH:
			warnx_("%s %d: no such process", verb, pids[i]);
			break;
		case EEXIST:
			warnx_("%s %d: already monitored", verb, pids[i]);
			break;
		case ENOENT:
			warnx_("%s %d: not monitored", verb, pids[i]);
			break;
		case EPERM:
		case EACCES:
			warnx_("%s %d: permission denied (only root may %s processes of"
			       " other users)", verb, pids[i], add ? "monitor" : "stop monitoring");
			break;
		case EINVAL:
			if (follow)
				warnx_("%s %d: this tracer module does not support -f"
				       " (follow forks)", verb, pids[i]);
			else
				warnx_("%s %d: invalid PID", verb, pids[i]);
			break;
		case ENOTTY:
			warnx_("%s %d: the tracer module does not know this request"
			       " (is it older than tracerctl %s?)", verb, pids[i],
			       TRACER_VERSION);
			break;
		case ENODEV:
		case ENXIO:
			warnx_("%s %d: %s: is the tracer module loaded? try: sudo modprobe tracer",
			       verb, pids[i], strerror(err));
			break;
		default:
			warnx_("%s %d: %s", verb, pids[i], strerror(err));
			break;
		}
	}
	close(fd);
	free(pids);
	return ret;
usage:
	fprintf(stderr, "%s", help);
	return EXIT_USAGE;
}

int cmd_add(int argc, char **argv)
{
	return pid_request(argc, argv, true);
}

int cmd_remove(int argc, char **argv)
{
	return pid_request(argc, argv, false);
}
