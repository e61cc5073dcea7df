// SPDX-License-Identifier: GPL-2.0
/*
 * run.c - tracerctl run: run a command monitored from its first instruction
 * and print its counts when it ends (like perf stat).
 *
 * The child is forked, waits on a pipe until the parent has added it with
 * TRACER_ADD_PROCESS_EX (TRACER_REPORT_EXIT, and TRACER_FOLLOW_FORKS with
 * -f), then execs the command.  The module queues the final row of every
 * monitored process on our open file when it exits; we read them back.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tracerctl.h"

static const char run_help[] =
"Usage: tracerctl run [OPTIONS] [--] COMMAND [ARG...]\n"
"\n"
"Run COMMAND monitored from its first instruction and print its counts when\n"
"it ends, to standard error (or FILE).  The exit status is COMMAND's (128+N if\n"
"signal N killed it); 125 if tracerctl failed before running it, 126 if it\n"
"could not be executed, 127 if it was not found.  Run by a user other than\n"
"root, COMMAND cannot gain privileges (no_new_privs: no set-user-ID).\n"
"\n"
"  -f, --follow-forks   also monitor the processes it forks, at any depth: a row\n"
"                       per process and a total; wait until all have ended\n"
"  -o, --output FILE    write the counts to FILE ('-': standard output)\n"
"  -h, --human          byte columns in K, M, G (powers of 1024)\n"
"  -s, --sort COLUMN    sort the rows by COLUMN (default pid)\n"
"  -r, --reverse        reverse the order\n"
"      --json           JSON: {\"command\": [...], \"pid\": ..., \"exit_status\": ...,\n"
"                       \"processes\": [...], \"total\": {...}}\n"
"      --csv            CSV with a header line (a total line with -f)\n"
"      --help           this help\n";


static void print_command(FILE *f, char **argv)
{
	for (; *argv; argv++) {
		const char *a = *argv;

		if (*a && !a[strcspn(a, " \t\n'\"\\$`*?[]{}()<>|&;#~!")]) {
			fputs(a, f);
		} else {
			fputc('\'', f);
			for (; *a; a++) {
				if (*a == '\'')
					fputs("'\\''", f);
				else
					fputc(*a, f);
			}
			fputc('\'', f);
		}
		if (argv[1])
			fputc(' ', f);
	}
}

/* Read every queued record of an exited process into t. */
static void drain(int fd, struct table *t, bool *warned)
{
	struct tracer_record rec[64];
	ssize_t n;
	size_t i;
	int k;

	for (;;) {
		n = read(fd, rec, sizeof(rec));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0 && !*warned) {
				warnx_("run: reading %s: %s", TRACER_DEV_PATH, strerror(errno));
				*warned = true;
			}
			return;
		}
		if (n % sizeof(rec[0]) && !*warned) {
			warnx_("run: %s returned %zd bytes, not whole records",
			       TRACER_DEV_PATH, n);
			*warned = true;
		}
		for (i = 0; i < (size_t)n / sizeof(rec[0]); i++) {
			struct row r;

			memset(&r, 0, sizeof(r));
			r.pid = rec[i].pid;
			r.ppid = rec[i].ppid;
			memcpy(r.comm, rec[i].comm, sizeof(rec[i].comm));
			r.comm[sizeof(rec[i].comm)] = '\0';
			for (k = 0; k < NCOL; k++)
				r.c[k] = rec[i].count[k];
			table_add(t, &r);
		}
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void write_all(int fd, const void *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		buf = (const char *)buf + n;
		len -= (size_t)n;
	}
}

int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "follow-forks", no_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		TABLE_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct show_opts o = {
		.fmt = FMT_TABLE, .header = true, .sort = SORT_PID, .highlight = SORT_NONE,
	};
	const char *output = NULL;
	bool follow = false, warned = false, main_done = false, all_done = false;
	struct tracer_add req;
	struct table t = { 0 };
	sigset_t waitset, oldmask;
	int go[2], ex[2], fd, c, err, status = 0, exec_err = 0, ret;
	double start = 0, elapsed = 0;
	FILE *out = stderr;
	pid_t child, w;
	size_t i;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+fo:hs:r", longopts, NULL)) != -1) {
		switch (table_opt(c, optarg, &o, "run", true)) {
		case 1:
			continue;
		case -1:
			return EXIT_RUN_FAILED;
		}
		switch (c) {
		case 'f':
			follow = true;
			break;
		case 'o':
			output = optarg;
			break;
		case OPT_HELP:
			fputs(run_help, stdout);
			return EXIT_OK;
		default:
			fputs(run_help, stderr);
			return EXIT_RUN_FAILED;
		}
	}
	if (optind >= argc) {
		warnx_("run: no command given");
		fputs(run_help, stderr);
		return EXIT_RUN_FAILED;
	}
	argv += optind;
	o.total = follow;
	o.ppid = follow || o.fmt != FMT_TABLE;

	fd = open_device(&err);
	if (fd < 0) {
		device_error(err);
		return EXIT_RUN_FAILED;
	}
	/* The output file is created before the command runs, not after. */
	if (output && strcmp(output, "-")) {
		int ofd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);

		if (ofd < 0 || !(out = fdopen(ofd, "w"))) {
			warnx_("run: cannot open '%s': %s", output, strerror(errno));
			return EXIT_RUN_FAILED;
		}
	} else if (output) {
		out = stdout;
	}
	if (pipe2(go, O_CLOEXEC) || pipe2(ex, O_CLOEXEC)) {
		warnx_("run: pipe: %s", strerror(errno));
		return EXIT_RUN_FAILED;
	}
	if (follow && prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) {
		warnx_("run: cannot become a child subreaper: %s", strerror(errno));
		return EXIT_RUN_FAILED;
	}

	/*
	 * Until the command ends, the signals we handle are blocked and taken
	 * with sigtimedwait(): SIGCHLD; SIGTERM and SIGHUP, passed on to the
	 * command; SIGINT and SIGQUIT, which a terminal sends to the command
	 * too, are left to it (we print the counts when it ends).
	 */
	sigemptyset(&waitset);
	sigaddset(&waitset, SIGCHLD);
	sigaddset(&waitset, SIGTERM);
	sigaddset(&waitset, SIGHUP);
	sigaddset(&waitset, SIGINT);
	sigaddset(&waitset, SIGQUIT);
	sigprocmask(SIG_BLOCK, &waitset, &oldmask);

	fflush(NULL);
	child = fork();
	if (child < 0) {
		warnx_("run: fork: %s", strerror(errno));
		return EXIT_RUN_FAILED;
	}
	if (child == 0) {
		char b;
		ssize_t n;

		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		close(go[1]);
		close(ex[0]);
		do {
			n = read(go[0], &b, 1);
		} while (n < 0 && errno == EINTR);
		if (n != 1)
			_exit(EXIT_RUN_FAILED);	/* the parent could not add us */
		/*
		 * A user's own process stays monitored across execve(): were
		 * it a set-user-ID program, that user would see the counts of
		 * a privileged process.  Like ptrace, do not let it gain
		 * privileges, unless root runs it.
		 */
		if (geteuid() != 0 && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
			err = errno;
			write_all(ex[1], &err, sizeof(err));
			_exit(EXIT_RUN_FAILED);
		}
		execvp(argv[0], argv);
		err = errno;
		write_all(ex[1], &err, sizeof(err));
		_exit(err == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC);
	}
	close(go[0]);
	close(ex[1]);

	req.pid = child;
	req.flags = TRACER_REPORT_EXIT | (follow ? TRACER_FOLLOW_FORKS : 0);
	if (ioctl(fd, TRACER_ADD_PROCESS_EX, &req)) {
		err = errno;
		close(go[1]);	/* the child exits without running the command */
		while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
			;
		if (err == ENOTTY || err == EINVAL)
			warnx_("run: this tracer module does not support run"
			       " (TRACER_ADD_PROCESS_EX): is it older than tracerctl %s?",
			       TRACER_VERSION);
		else if (err == EPERM || err == EACCES)
			warnx_("run: cannot monitor the command: permission denied");
		else if (err == ENODEV || err == ENXIO)
			warnx_("run: %s: is the tracer module loaded? try: sudo modprobe tracer",
			       strerror(err));
		else
			warnx_("run: cannot monitor the command: %s", strerror(err));
		return EXIT_RUN_FAILED;
	}
	start = now();
	write_all(go[1], "x", 1);
	close(go[1]);

	while (!all_done) {
		struct timespec tmo = { 0, 200 * 1000 * 1000 };
		siginfo_t si;
		int st, sig;

		/* Reap: the command, and with -f the orphans of its tree. */
		while ((w = waitpid(follow ? -1 : child, &st, WNOHANG)) > 0) {
			if (w == child) {
				status = st;
				main_done = true;
			}
		}
		if (w < 0 && errno == ECHILD)
			all_done = true;
		else if (main_done && !follow)
			all_done = true;
		drain(fd, &t, &warned);
		if (all_done) {
			elapsed = now() - start;	/* with -f: until the last one ended */
			break;
		}
		sig = sigtimedwait(&waitset, &si, &tmo);
		if ((sig == SIGTERM || sig == SIGHUP) && !main_done)
			kill(child, sig);
	}
	if (!main_done) {	/* cannot happen: the command is our child */
		warnx_("run: lost the command");
		return EXIT_RUN_FAILED;
	}
	if (read(ex[0], &exec_err, sizeof(exec_err)) == sizeof(exec_err)) {
		warnx_("run: cannot execute '%s': %s", argv[0], strerror(exec_err));
		return exec_err == ENOENT ? EXIT_NOTFOUND : EXIT_NOEXEC;
	}
	close(ex[0]);

	/* The row of an exited process is queued before its parent can reap
	 * it; allow for a slow module all the same.
	 */
	for (i = 0; i < 100 && !table_find(&t, child); i++) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		nanosleep(&ts, NULL);
		drain(fd, &t, &warned);
	}
	close(fd);
	if (!table_find(&t, child))
		warnx_("run: the tracer module reported no counts for pid %d", (int)child);

	if (WIFEXITED(status))
		ret = WEXITSTATUS(status);
	else if (WIFSIGNALED(status))
		ret = 128 + WTERMSIG(status);
	else
		ret = EXIT_RUN_FAILED;

	table_sort_by(&t, o.sort, o.reverse, false);
	o.sort = SORT_NONE;
	switch (o.fmt) {
	case FMT_TABLE:
		fprintf(out, "%s run: pid %d, ", progname, (int)child);
		if (WIFSIGNALED(status))
			fprintf(out, "killed by signal %d (%s)", WTERMSIG(status),
				strsignal(WTERMSIG(status)));
		else
			fprintf(out, "exit status %d", ret);
		fprintf(out, ", %.3f s", elapsed);
		if (follow)
			fprintf(out, ", %zu process%s", t.n, t.n == 1 ? "" : "es");
		fputs(": ", out);
		print_command(out, argv);
		fputc('\n', out);
		table_print(out, &t, &o);
		break;
	case FMT_JSON:
		fputs("{\"command\": [", out);
		for (i = 0; argv[i]; i++) {
			if (i)
				fputs(", ", out);
			json_string(out, argv[i]);
		}
		fprintf(out, "], \"pid\": %d, \"exit_status\": %d, \"signal\": ", (int)child, ret);
		if (WIFSIGNALED(status))
			fprintf(out, "%d", WTERMSIG(status));
		else
			fputs("null", out);
		fprintf(out, ", \"elapsed\": %.6f,\n \"processes\": ", elapsed);
		json_rows(out, &t, &o, 1);
		fputs(",\n \"total\": ", out);
		json_total(out, &t, &o);
		fputs("}\n", out);
		break;
	case FMT_CSV:
		table_print(out, &t, &o);
		break;
	}
	table_free(&t);
	if (fflush(out) || ferror(out))
		warnx_("run: writing the counts: %s", strerror(errno));
	if (out != stderr && out != stdout)
		fclose(out);
	return ret;
}
