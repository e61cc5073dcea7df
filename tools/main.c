// SPDX-License-Identifier: GPL-2.0
/*
 * tracerctl - user-space companion of the tracer kernel module
 *
 * main.c: the usage text and the command dispatch; each command lives in
 * a file of its own (tracerctl.h lists them) and nothing calls back here.
 */
#include <stdio.h>
#include <string.h>

#include "tracerctl.h"

static const char usage_text[] =
"Usage: tracerctl COMMAND [OPTIONS] [ARGUMENTS]\n"
"\n"
"Control the tracer kernel module and read its per-process counts of kmalloc,\n"
"kfree, schedule, up, down_interruptible, mutex_lock and mutex_unlock calls.\n"
"\n"
"Commands:\n"
"  add [-f] PID...             start monitoring processes (-f: and the processes\n"
"                              they fork from now on)\n"
"  add --cgroup PATH... | --unit UNIT...\n"
"                              monitor every process of cgroups or systemd units\n"
"  remove [--cgroup|--unit] ARG...\n"
"                              stop monitoring processes, cgroups or units\n"
"  show [OPTIONS] [PID...]     print the counts of monitored processes\n"
"  show --by cgroup            print the totals of monitored cgroups\n"
"  run [OPTIONS] [--] COMMAND [ARG...]\n"
"                              run COMMAND monitored from its first instruction\n"
"                              and print its counts when it ends\n"
"  watch [OPTIONS] [PID...]    refresh the counts periodically (rates per second)\n"
"  status [--json]             state of the module\n"
"  export [--pids] [-o FILE]   the counts in Prometheus' text format\n"
"  apply [DIR]                 monitor what /etc/tracer/monitor.d/*.conf names\n"
"  help [COMMAND]              this help, or a command's\n"
"\n"
"Options: --help, --version.  'tracerctl COMMAND --help' describes a command.\n"
"\n"
"Exit status: 0 success, 1 an operation failed, 2 usage error, 3 the tracer\n"
"module is not loaded, 4 permission denied on /dev/tracer.  run exits with\n"
"COMMAND's status (128+N if signal N killed it), or 125, 126, 127 when\n"
"COMMAND did not run.  See tracerctl(8) and tracer(4).\n";


/* ---- dispatch ------------------------------------------------------------- */

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} commands[] = {
	{ "add", cmd_add },
	{ "remove", cmd_remove },
	{ "show", cmd_show },
	{ "run", cmd_run },
	{ "watch", cmd_watch },
	{ "status", cmd_status },
	{ "export", cmd_export },
	{ "apply", cmd_apply },
};

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		fputs(usage_text, stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("tracerctl %s\n", TRACER_VERSION);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "help")) {
		if (argc == 2) {
			fputs(usage_text, stdout);
			return EXIT_OK;
		}
		for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
			if (!strcmp(argv[2], commands[i].name)) {
				char *av[] = { argv[2], (char *)"--help", NULL };

				return commands[i].fn(2, av);
			}
		}
		warnx_("help: unknown command '%s'", argv[2]);
		return EXIT_USAGE;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(argv[1], commands[i].name)) {
			/* getopt's messages start with argv[0]: "tracerctl add: ..." */
			static char name[32];

			snprintf(name, sizeof(name), "tracerctl %s", commands[i].name);
			argv[1] = name;
			return commands[i].fn(argc - 1, argv + 1);
		}
	}
	if (argv[1][0] == '-')
		warnx_("unknown option '%s'", argv[1]);
	else
		warnx_("unknown command '%s'", argv[1]);
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}
