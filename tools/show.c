// SPDX-License-Identifier: GPL-2.0
/*
 * show.c - the show command: the counts of monitored processes, once.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracerctl.h"

/* ---- show ----------------------------------------------------------------- */

static const char show_help[] =
"Usage: tracerctl show [OPTIONS] [PID...]\n"
"       tracerctl show --by cgroup [OPTIONS]\n"
"\n"
"Print the counts of the monitored processes (all, or PID...), with their\n"
"command names; or, --by cgroup, the totals of the monitored cgroups\n"
"(/proc/tracer_cgroups: processes now, counts of all that were there).\n"
"Columns: see tracer(4).\n"
"\n"
"      --by WHAT        process (default) or cgroup\n"
"  -h, --human          byte columns in K, M, G (powers of 1024)\n"
"  -s, --sort COLUMN    sort by COLUMN (pid, comm, kmalloc, ..., unlock);\n"
"                       counters sort largest first; default pid\n"
"  -r, --reverse        reverse the order\n"
"      --json           JSON: {\"processes\": [{\"pid\": ..., \"comm\": ..., ...}]}\n"
"      --csv            CSV with a header line\n"
"      --no-header      no header line (table, CSV)\n"
"      --help           this help\n";

/*
 * A table was printed: warn if kfree_mem is low (the allocation map
 * overflowed), and fail on a write error; -> ret or EXIT_FAILED.
 */
static int shown(int ret)
{
	map_warning();
	return stdout_done(ret);
}

int cmd_show(int argc, char **argv)
{
	static const struct option longopts[] = {
		TABLE_LONGOPTS,
		{ "no-header", no_argument, NULL, OPT_NOHEADER },
		{ "by", required_argument, NULL, OPT_BY },
		{ NULL, 0, NULL, 0 },
	};
	struct show_opts o = {
		.fmt = FMT_TABLE, .header = true, .sort = SORT_PID, .highlight = SORT_NONE,
	};
	struct table t = { 0 }, sel = { 0 };
	int c, err, ret = EXIT_OK, i;
	bool by_cgroup = false;
	pid_t *pids;

	optind = 1;
	while ((c = getopt_long(argc, argv, "hs:r", longopts, NULL)) != -1) {
		switch (table_opt(c, optarg, &o, "show", false)) {
		case 1:
			continue;
		case -1:
			return EXIT_USAGE;
		}
		if (c == OPT_BY && (!strcmp(optarg, "cgroup") ||
				    !strcmp(optarg, "process"))) {
			by_cgroup = !strcmp(optarg, "cgroup");
			continue;
		}
		if (c == OPT_BY)
			warnx_("show: --by takes process or cgroup, not '%s'", optarg);
		if (c == OPT_HELP) {
			fputs(show_help, stdout);
			return EXIT_OK;
		}
		fputs(show_help, stderr);
		return EXIT_USAGE;
	}
	if (by_cgroup) {
		if (optind < argc) {
			warnx_("show --by cgroup: takes no PID");
			return EXIT_USAGE;
		}
		ret = show_cgroups(&o);
		return ret == EXIT_OK ? shown(ret) : ret;
	}
	pids = parse_pids(argc - optind, argv + optind, "show");
	if (!pids)
		return EXIT_USAGE;
	if (proc_read(&t, &err)) {
		free(pids);
		return proc_error(err);
	}
	if (optind < argc) {
		for (i = 0; i < argc - optind; i++) {
			pid_t pid = pids[i], tgid;
			struct row *r;
			char path[64];

			tgid = tid_to_tgid(pid);
			r = table_find(&t, tgid);
			if (r) {
				if (!table_find(&sel, tgid))
					table_add(&sel, r);
				continue;
			}
			snprintf(path, sizeof(path), "/proc/%d", (int)pid);
			if (access(path, F_OK))
				warnx_("show %d: no such process", (int)pid);
			else
				warnx_("show %d: not monitored", (int)pid);
			ret = EXIT_FAILED;
		}
		table_free(&t);
		t = sel;
	}
	for (size_t j = 0; j < t.n; j++)
		read_comm(t.rows[j].pid, t.rows[j].comm, sizeof(t.rows[j].comm));
	table_print(stdout, &t, &o);
	table_free(&t);
	free(pids);
	return shown(ret);
}
