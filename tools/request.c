// SPDX-License-Identifier: GPL-2.0
/*
 * request.c - add and remove: the ioctl requests on /dev/tracer
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tracerctl.h"

static const char add_help[] =
"Usage: tracerctl add [-f] PID...\n"
"       tracerctl add --cgroup PATH...\n"
"       tracerctl add --unit UNIT...\n"
"\n"
"Start monitoring the processes (thread groups) PID...; a thread ID names its\n"
"process.  Or every process of the cgroups (v2) PATH... (a directory under the\n"
"cgroup2 mount, or a path from its root) or of the systemd units UNIT...: those\n"
"there now, forked there, moving in; their totals are in /proc/tracer_cgroups\n"
"(tracerctl show --by cgroup).  A unit that has not started yet is monitored\n"
"from its start.  Cgroups need root.  Every argument is tried; the exit status\n"
"is 1 if any failed.\n"
"\n"
"  -f, --follow-forks   also monitor every process they fork from now on\n"
"      --cgroup         the arguments are cgroups\n"
"      --unit           the arguments are systemd units\n"
"      --help           this help\n";

static const char remove_help[] =
"Usage: tracerctl remove PID...\n"
"       tracerctl remove --cgroup PATH...\n"
"       tracerctl remove --unit UNIT...\n"
"\n"
"Stop monitoring the processes PID... (their rows leave /proc/tracer), or the\n"
"cgroups PATH... or units UNIT... (their processes' rows and their totals go).\n"
"Every argument is tried; the exit status is 1 if any failed.\n";

/* Why a cgroup request failed, for UNIT (or the cgroup PATH). */
static void cgroup_error(const char *verb, const char *what, int err)
{
	switch (err) {
	case EEXIST:
		warnx_("%s %s: already monitored", verb, what);
		break;
	case ENOENT:
		warnx_("%s %s: not monitored", verb, what);
		break;
	case EBUSY:
		warnx_("%s %s: inside or above a monitored cgroup", verb, what);
		break;
	case ENOSPC:
		warnx_("%s %s: 256 cgroups are monitored already", verb, what);
		break;
	case EBADF:
	case ENOTDIR:
		warnx_("%s %s: not a cgroup (v2)", verb, what);
		break;
	case EPERM:
	case EACCES:
		warnx_("%s %s: permission denied (cgroups need root)", verb, what);
		break;
	case EOPNOTSUPP:
		warnx_("%s %s: this kernel has no cgroup tracepoints", verb, what);
		break;
	case ENOTTY:
		warnx_("%s %s: the tracer module does not know cgroups"
		       " (is it older than tracerctl %s?)", verb, what, TRACER_VERSION);
		break;
	default:
		warnx_("%s %s: %s", verb, what, strerror(err));
		break;
	}
}

/* add/remove --cgroup or --unit: one request per argument. */
static int cgroup_requests(int n, char **args, bool add, bool unit)
{
	const char *verb = add ? "add" : "remove";
	char path[PATH_MAX];
	int i, fd, err, ret = EXIT_OK;

	fd = open_device(&err);
	if (fd < 0)
		return device_error(err);
	for (i = 0; i < n; i++) {
		if (unit ? unit_cgroup(args[i], path, sizeof(path)) :
		    cgroup_path_of(args[i], path, sizeof(path))) {
			warnx_("%s %s: %s", verb, args[i], unit ?
			       "systemd knows no such unit" : "path too long");
			ret = EXIT_FAILED;
			continue;
		}
		err = cgroup_request(fd, path, add);
		if (err) {
			cgroup_error(verb, args[i], err);
			ret = EXIT_FAILED;
		}
	}
	close(fd);
	return ret;
}


enum { OPT_CGROUP = 300, OPT_UNIT };

static const struct option pid_longopts[] = {
	{ "follow-forks", no_argument, NULL, 'f' },
	{ "cgroup", no_argument, NULL, OPT_CGROUP },
	{ "unit", no_argument, NULL, OPT_UNIT },
	{ "help", no_argument, NULL, 'H' },
	{ NULL, 0, NULL, 0 },
};

static int pid_request(int argc, char **argv, bool add)
{
	const char *help = add ? add_help : remove_help;
	const char *verb = add ? "add" : "remove";
	bool follow = false, cgroup = false, unit = false;
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
		case OPT_CGROUP:
			cgroup = true;
			break;
		case OPT_UNIT:
			unit = true;
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
		warnx_("%s: no %s given", verb, unit ? "unit" : cgroup ? "cgroup" : "PID");
		goto usage;
	}
	if (cgroup || unit) {
		if ((cgroup && unit) || follow) {
			warnx_("%s: --cgroup, --unit and -f do not go together", verb);
			goto usage;
		}
		return cgroup_requests(n, argv + optind, add, unit);
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
