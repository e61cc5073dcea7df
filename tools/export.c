// SPDX-License-Identifier: GPL-2.0
/*
 * export.c - the export command (the counts in Prometheus' text format, for
 * node_exporter's textfile collector) and the apply command (the cgroups and
 * units of /etc/tracer/monitor.d/ monitored).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tracerctl.h"

static const char export_help[] =
"Usage: tracerctl export [--pids] [-o FILE]\n"
"\n"
"Print the counts in the Prometheus text exposition format: one counter per\n"
"column (tracer_kmalloc_calls_total, tracer_kmalloc_bytes_total, ...), a series\n"
"per monitored cgroup labelled cgroup and unit, and the module's health\n"
"(tracer_module_loaded, tracer_monitored_processes, tracer_missed_events_total,\n"
"tracer_map_overflow_total, ...).  Per-process series (tracer_process_*, labels\n"
"pid and comm) only with --pids: PIDs come and go, and a fleet's time series\n"
"with them.\n"
"\n"
"  -o, --output FILE   write FILE atomically (a temporary file renamed over it),\n"
"                      e.g. into node_exporter's textfile collector directory\n"
"      --pids          per-process series too\n"
"      --help          this help\n";

static const char apply_help[] =
"Usage: tracerctl apply [DIR]\n"
"\n"
"Monitor the cgroups and units that the *.conf files of DIR (default\n"
"/etc/tracer/monitor.d) name, one per line: 'unit NAME' or 'cgroup PATH'\n"
"('#' starts a comment).  Ones monitored already are left as they are.  Run\n"
"at boot by tracer-monitor.service (systemctl reload it after a change).\n";

/* Metric names of the counters, in /proc/tracer column order. */
static const char *const metric[NCOL] = {
	"kmalloc_calls", "kfree_calls", "kmalloc_bytes", "kfree_bytes",
	"schedule_calls", "up_calls", "down_interruptible_calls",
	"mutex_lock_calls", "mutex_unlock_calls",
};

static const char *const metric_help[NCOL] = {
	"kmalloc() calls (successful or not)",
	"kfree() calls that freed a block",
	"bytes requested by successful kmalloc() calls",
	"bytes of the blocks kfree() freed (those the module saw allocated)",
	"schedule() calls",
	"up() calls",
	"down_interruptible() calls",
	"mutex_lock() calls",
	"mutex_unlock() calls",
};

/* A label value: backslash, double quote and newline escaped. */
static void label(FILE *f, const char *name, const char *v, bool first)
{
	fprintf(f, "%s%s=\"", first ? "" : ",", name);
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			fprintf(f, "\\%c", *v);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
	fputc('"', f);
}

static void family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void cgroup_labels(FILE *f, const char *path)
{
	const char *unit = cgroup_unit(path);

	fputc('{', f);
	label(f, "cgroup", path, true);
	if (unit)
		label(f, "unit", unit, false);
	fputc('}', f);
}

/* A module parameter as a number; -1 if there is none. */
static long long param_num(const char *name, const char *key)
{
	char buf[256], v[32];
	const char *s = buf;

	if (sys_param(name, buf, sizeof(buf)) <= 0)
		return -1;
	if (key && !(s = kv_get(buf, key, v, sizeof(v))))
		return -1;
	return strtoll(s, NULL, 10);
}

static void health(FILE *f, bool loaded, const struct cgtable *cg)
{
	static const struct {
		const char *name, *type, *help, *param, *key;
	} h[] = {
		{ "tracer_monitored_processes", "gauge",
		  "Processes monitored now.", "monitored", NULL },
		{ "tracer_missed_events_total", "counter",
		  "Events the module could not count (tracer(4): missed).", "missed", NULL },
		{ "tracer_kretprobe_instances_missed_total", "counter",
		  "kmalloc calls of any process that found no kretprobe instance (source=kprobe; tracer(4): instances_missed).",
		  "instances_missed", NULL },
		{ "tracer_map_overflow_total", "counter",
		  "Allocations not recorded because the allocation map was full: kfree_bytes misses their bytes.",
		  "map", "overflow" },
		{ "tracer_map_records", "gauge",
		  "Live allocation records of monitored processes.", "map", "records" },
		{ "tracer_map_capacity", "gauge",
		  "Records the allocation map holds now.", "map", "capacity" },
	};
	size_t i;

	family(f, "tracer_module_loaded", "gauge",
	       "Whether the tracer module is loaded (1) or not (0).");
	fprintf(f, "tracer_module_loaded %d\n", loaded);
	if (!loaded)
		return;
	for (i = 0; i < sizeof(h) / sizeof(h[0]); i++) {
		long long v = param_num(h[i].param, h[i].key);

		if (v < 0)
			continue;
		family(f, h[i].name, h[i].type, h[i].help);
		fprintf(f, "%s %lld\n", h[i].name, v);
	}
	family(f, "tracer_monitored_cgroups", "gauge", "Cgroups monitored now.");
	fprintf(f, "tracer_monitored_cgroups %zu\n", cg->n);
}

static int export(FILE *f, bool pids)
{
	struct cgtable cg = { 0 };
	struct table t = { 0 };
	bool loaded = module_loaded();
	char name[128];
	size_t i;
	int k, err;

	/* No /proc/tracer_cgroups (a module before 0.2): no cgroup series. */
	if (loaded && cgroups_read(&cg, &err) && err != ENOENT)
		return cgroups_error(err);
	if (loaded && pids && proc_read(&t, &err)) {
		free(cg.rows);
		return proc_error(err);
	}
	health(f, loaded, &cg);
	if (cg.n) {
		family(f, "tracer_cgroup_processes", "gauge",
		       "Monitored processes in the cgroup now.");
		for (i = 0; i < cg.n; i++) {
			fputs("tracer_cgroup_processes", f);
			cgroup_labels(f, cg.rows[i].path);
			fprintf(f, " %llu\n", cg.rows[i].procs);
		}
		for (k = 0; k < NCOL; k++) {
			snprintf(name, sizeof(name), "tracer_%s_total", metric[k]);
			family(f, name, "counter", metric_help[k]);
			for (i = 0; i < cg.n; i++) {
				fputs(name, f);
				cgroup_labels(f, cg.rows[i].path);
				fprintf(f, " %llu\n", cg.rows[i].c[k]);
			}
		}
	}
	for (i = 0; i < t.n; i++) {
		read_comm(t.rows[i].pid, t.rows[i].comm, sizeof(t.rows[i].comm));
		sanitize_comm(t.rows[i].comm);	/* label values are UTF-8 */
	}
	for (k = 0; t.n && k < NCOL; k++) {
		snprintf(name, sizeof(name), "tracer_process_%s_total", metric[k]);
		family(f, name, "counter", metric_help[k]);
		for (i = 0; i < t.n; i++) {
			char pid[16];

			snprintf(pid, sizeof(pid), "%d", (int)t.rows[i].pid);
			fputs(name, f);
			fputc('{', f);
			label(f, "pid", pid, true);
			label(f, "comm", t.rows[i].comm, false);
			fprintf(f, "} %llu\n", (unsigned long long)t.rows[i].c[k]);
		}
	}
	free(cg.rows);
	table_free(&t);
	return EXIT_OK;
}

int cmd_export(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "pids", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	const char *output = NULL;
	char tmp[PATH_MAX];
	bool pids = false;
	int c, fd, ret;
	FILE *f;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			output = optarg;
			break;
		case 'p':
			pids = true;
			break;
		case OPT_HELP:
			fputs(export_help, stdout);
			return EXIT_OK;
		default:
			fputs(export_help, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		warnx_("export: unexpected argument '%s'", argv[optind]);
		fputs(export_help, stderr);
		return EXIT_USAGE;
	}
	if (!output || !strcmp(output, "-")) {
		return stdout_done(export(stdout, pids));
	}
	/* A reader never sees half a file: write beside it, then rename. */
	if (snprintf(tmp, sizeof(tmp), "%s.%d.tmp", output, (int)getpid()) >= (int)sizeof(tmp)) {
		warnx_("export: '%s': name too long", output);
		return EXIT_USAGE;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		warnx_("export: cannot create '%s': %s", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		return EXIT_FAILED;
	}
	ret = export(f, pids);
	if (fflush(f) || ferror(f) || fsync(fileno(f))) {
		warnx_("export: cannot write '%s': %s", tmp, strerror(errno));
		ret = EXIT_FAILED;
	}
	if (fclose(f) && ret == EXIT_OK) {
		warnx_("export: cannot write '%s': %s", tmp, strerror(errno));
		ret = EXIT_FAILED;
	}
	if (ret == EXIT_OK && rename(tmp, output)) {
		warnx_("export: cannot rename '%s' to '%s': %s", tmp, output, strerror(errno));
		ret = EXIT_FAILED;
	}
	if (ret != EXIT_OK)
		unlink(tmp);
	return ret;
}

/* One line of a monitor.d file: 0 done (or nothing to do), 1 failed. */
static int apply_line(int fd, const char *file, int lineno, char *line)
{
	char *kind, *arg, *save = NULL, path[PATH_MAX];
	bool unit;
	int err;

	line[strcspn(line, "#\n")] = '\0';
	kind = strtok_r(line, " \t", &save);
	if (!kind)
		return 0;
	arg = strtok_r(NULL, " \t", &save);
	unit = !strcmp(kind, "unit");
	if ((!unit && strcmp(kind, "cgroup")) || !arg || strtok_r(NULL, " \t", &save)) {
		warnx_("%s:%d: expected 'unit NAME' or 'cgroup PATH'", file, lineno);
		return 1;
	}
	if (unit ? unit_cgroup(arg, path, sizeof(path)) :
	    cgroup_path_of(arg, path, sizeof(path))) {
		warnx_("%s:%d: %s: %s", file, lineno, arg,
		       unit ? "systemd knows no such unit" : "path too long");
		return 1;
	}
	err = cgroup_request(fd, path, true);
	if (err && err != EEXIST) {
		warnx_("%s:%d: %s %s: %s", file, lineno, kind, arg, strerror(err));
		return 1;
	}
	printf("%s %s: %s (%s)\n", kind, arg, err ? "monitored already" : "monitored", path);
	return 0;
}

static int conf_file(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 5 && !strcmp(d->d_name + n - 5, ".conf");
}

int cmd_apply(int argc, char **argv)
{
	const char *dir = "/etc/tracer/monitor.d";
	struct dirent **names;
	int i, n, fd, err, ret = EXIT_OK;

	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		bool help = argc == 2 && !strcmp(argv[1], "--help");

		fputs(apply_help, help ? stdout : stderr);
		return help ? EXIT_OK : EXIT_USAGE;
	}
	if (argc == 2)
		dir = argv[1];
	n = scandir(dir, &names, conf_file, alphasort);
	if (n < 0) {
		if (errno == ENOENT)
			return EXIT_OK;	/* nothing configured */
		warnx_("apply: %s: %s", dir, strerror(errno));
		return EXIT_FAILED;
	}
	fd = n ? open_device(&err) : -1;
	if (n && fd < 0) {
		ret = device_error(err);
		goto out;
	}
	for (i = 0; i < n; i++) {
		char file[PATH_MAX], line[PATH_MAX + 64];
		int lineno = 0;
		FILE *f;

		snprintf(file, sizeof(file), "%s/%s", dir, names[i]->d_name);
		f = fopen(file, "re");
		if (!f) {
			warnx_("apply: %s: %s", file, strerror(errno));
			ret = EXIT_FAILED;
			continue;
		}
		while (fgets(line, sizeof(line), f))
			if (apply_line(fd, file, ++lineno, line))
				ret = EXIT_FAILED;
		fclose(f);
	}
	if (fd >= 0)
		close(fd);
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ret;
}
