// SPDX-License-Identifier: GPL-2.0
/*
 * watch.c - tracerctl watch: the counts refreshed periodically, with rates
 * per second; a full-screen view like top(1) on a terminal, one table per
 * interval otherwise.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "tracerctl.h"

static const char watch_help[] =
"Usage: tracerctl watch [OPTIONS] [PID...]\n"
"\n"
"Refresh the counts of the monitored processes (all, or PID...) every\n"
"interval.  On a terminal: a full-screen view like top(1), rates per second,\n"
"keys q quit, < > sort column, r reverse, t totals/rates, h human sizes,\n"
"+ - interval, space refresh.  Otherwise: one table per interval.\n"
"\n"
"  -n, --interval SECONDS  time between refreshes (default 2, at least 0.1)\n"
"  -c, --count COUNT       stop after COUNT tables (default: until interrupted)\n"
"  -t, --totals            the counts since monitoring started, not rates\n"
"  -s, --sort COLUMN       sort by COLUMN (default kmalloc, largest first)\n"
"  -r, --reverse           reverse the order\n"
"  -h, --human             byte columns in K, M, G (powers of 1024)\n"
"      --plain             one table per interval even on a terminal\n"
"      --json              one JSON object per interval and line:\n"
"                          {\"time\": ..., \"interval\": ..., \"processes\": [...]}\n"
"      --csv               CSV, a time column (seconds since the epoch) first\n"
"      --help              this help\n";


static volatile sig_atomic_t got_quit, got_term, got_winch, got_tstp;

static void on_signal(int sig)
{
	switch (sig) {
	case SIGINT:
		got_quit = 1;
		break;
	case SIGWINCH:
		got_winch = 1;
		break;
	case SIGTSTP:
		got_tstp = 1;
		break;
	default:
		got_term = sig;
		break;
	}
}

struct watch {
	struct show_opts o;
	double interval;
	unsigned long count;	/* 0: unlimited */
	pid_t *pids;
	size_t npids;
	struct table prev;
	double prev_time;	/* monotonic time of prev, 0 if none */
	double dt;		/* the interval the rates are over */
	bool have_prev;
};

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int row_pid_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* A new sample in t (sorted by PID), rates against the previous one.
 * -> 0, or an exit status.
 */
static int sample(struct watch *w, struct table *t)
{
	struct table all = { 0 };
	double tnow;
	size_t i;
	int err, k;

	if (proc_read(&all, &err)) {
		if (err == ENOENT)
			warnx_("watch: %s is gone: the tracer module was unloaded",
			       TRACER_PROC_PATH);
		else
			warnx_("watch: cannot read %s: %s", TRACER_PROC_PATH,
			       err == EPROTO ? "unexpected format" : strerror(err));
		table_free(&all);
		return err == ENOENT ? EXIT_NOMODULE : EXIT_FAILED;
	}
	tnow = mono();
	memset(t, 0, sizeof(*t));
	for (i = 0; i < all.n; i++) {
		struct row *r = &all.rows[i];

		if (w->npids) {
			size_t j;

			for (j = 0; j < w->npids; j++)
				if (w->pids[j] == r->pid)
					break;
			if (j == w->npids)
				continue;
		}
		read_comm(r->pid, r->comm, sizeof(r->comm));
		table_add(t, r);
	}
	table_free(&all);
	if (t->n > 1)
		qsort(t->rows, t->n, sizeof(*t->rows), row_pid_cmp);

	w->dt = w->have_prev ? tnow - w->prev_time : 0;
	for (i = 0; i < t->n; i++) {
		struct row *r = &t->rows[i], *p = NULL;

		if (w->have_prev && w->prev.n)
			p = bsearch(r, w->prev.rows, w->prev.n, sizeof(*r), row_pid_cmp);
		r->has_rate = w->have_prev && w->dt > 0;
		if (!r->has_rate)
			continue;
		for (k = 0; k < NCOL; k++) {
			uint64_t base = p && p->c[k] <= r->c[k] ? p->c[k] : 0;

			r->rate[k] = (double)(r->c[k] - base) / w->dt;
		}
	}
	table_free(&w->prev);
	w->prev = *t;
	w->prev.rows = xrealloc(NULL, (t->n ? t->n : 1) * sizeof(*t->rows));
	if (t->n)
		memcpy(w->prev.rows, t->rows, t->n * sizeof(*t->rows));
	w->prev.cap = t->n;
	w->prev_time = tnow;
	w->have_prev = true;
	return 0;
}

static void sleep_until(double when)
{
	struct timespec ts;
	double d = when - mono();

	if (d <= 0)
		return;
	ts.tv_sec = (time_t)d;
	ts.tv_nsec = (long)((d - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);	/* a signal cuts it short: checked by the caller */
}

/* ---- plain output ------------------------------------------------------- */

static int watch_plain(struct watch *w)
{
	struct show_opts o = w->o;
	unsigned long printed = 0;
	bool csv_header_done = false;
	double next;
	int ret;

	next = mono();
	for (;;) {
		struct table t;
		struct timespec real;
		char tbuf[64], when[32];
		struct tm tm;

		ret = sample(w, &t);
		if (ret)
			return ret;
		next += w->interval;
		if (!o.rates || w->dt > 0) {	/* rates: the first sample is the base */
			clock_gettime(CLOCK_REALTIME, &real);
			localtime_r(&real.tv_sec, &tm);
			strftime(when, sizeof(when), "%H:%M:%S", &tm);
			snprintf(tbuf, sizeof(tbuf), "%lld.%03ld", (long long)real.tv_sec,
				 real.tv_nsec / 1000000);
			switch (o.fmt) {
			case FMT_TABLE:
				if (printed)
					putchar('\n');
				printf("# %s  %zu process%s  ", when, t.n, t.n == 1 ? "" : "es");
				if (o.rates)
					printf("per second over %.2f s\n", w->dt);
				else
					printf("counts since monitoring started\n");
				table_print(stdout, &t, &o);
				break;
			case FMT_JSON:
				printf("{\"time\": %s, \"interval\": %.3f, \"rates\": %s,"
				       " \"processes\": ", tbuf, w->dt, o.rates ? "true" : "false");
				table_sort_by(&t, o.sort, o.reverse, o.rates);
				json_rows(stdout, &t, &o, -1);
				printf("}\n");
				break;
			case FMT_CSV:
				if (!csv_header_done && o.header)
					csv_header(stdout, &o, true);
				csv_header_done = true;
				table_sort_by(&t, o.sort, o.reverse, o.rates);
				csv_rows(stdout, &t, &o, tbuf);
				break;
			}
			printed++;
			if (fflush(stdout) || ferror(stdout)) {
				warnx_("watch: write error: %s", strerror(errno));
				table_free(&t);
				return EXIT_FAILED;
			}
		}
		table_free(&t);
		if (w->count && printed >= w->count)
			return EXIT_OK;
		sleep_until(next);
		if (got_quit)
			return EXIT_OK;
		if (got_term)
			return 128 + got_term;
	}
}

/* ---- full screen ---------------------------------------------------------- */

static struct termios saved_tio;
static bool tio_saved, screen_on;

static void screen_leave(void)
{
	if (screen_on) {
		fputs("\033[?25h\033[?1049l", stdout);
		fflush(stdout);
		screen_on = false;
	}
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
}

static void screen_enter(void)
{
	if (tio_saved) {
		struct termios raw = saved_tio;

		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw);
	}
	fputs("\033[?1049h\033[?25l\033[H\033[2J", stdout);
	fflush(stdout);
	screen_on = true;
}

static void term_size(int *rows, int *cols)
{
	struct winsize ws;

	*rows = 24;
	*cols = 80;
	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_row && ws.ws_col) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	}
}

static const int sort_cycle[] = {
	SORT_PID, SORT_COMM, 0, 1, 2, 3, 4, 5, 6, 7, 8,
};
#define NSORT ((int)(sizeof(sort_cycle) / sizeof(sort_cycle[0])))

static void draw(struct watch *w, struct table *t)
{
	char param[256], *buf = NULL, line[512], when[32], map[256];
	char missed[32], monitored[32], rec[32], cap[32], over[32];
	struct show_opts o = w->o;
	size_t len = 0;
	int rows, cols;
	struct tm tm;
	time_t tt;
	FILE *f;

	term_size(&rows, &cols);
	f = open_memstream(&buf, &len);
	if (!f)
		return;
	tt = time(NULL);
	localtime_r(&tt, &tm);
	strftime(when, sizeof(when), "%H:%M:%S", &tm);
	if (sys_param("missed", missed, sizeof(missed)) <= 0)
		snprintf(missed, sizeof(missed), "?");
	if (sys_param("monitored", monitored, sizeof(monitored)) <= 0)
		snprintf(monitored, sizeof(monitored), "?");
	/*
	 * "records=N capacity=N overflow=N" -> "N/N" (", N lost"), by key: a
	 * later module may add fields.
	 */
	snprintf(map, sizeof(map), "?");
	if (sys_param("map", param, sizeof(param)) > 0 &&
	    kv_get(param, "records", rec, sizeof(rec)) &&
	    kv_get(param, "capacity", cap, sizeof(cap)) &&
	    kv_get(param, "overflow", over, sizeof(over)))
		snprintf(map, sizeof(map), strcmp(over, "0") ? "%s/%s, %s lost" : "%s/%s",
			 rec, cap, over);

	fputs("\033[H", f);
	snprintf(line, sizeof(line),
		 "tracerctl watch  %s  every %gs  monitored %s  missed %s  map %s",
		 when, w->interval, monitored, missed, map);
	fprintf(f, "%.*s\033[K\n", cols, line);
	if (o.rates)
		snprintf(line, sizeof(line), "%s, sorted by %s%s   q quit  </> sort  r reverse"
			 "  t totals  h human  +/- interval",
			 t->n && t->rows[0].has_rate ? "per second" : "per second (measuring)",
			 sort_key_name(o.sort), o.reverse ? " (reversed)" : "");
	else
		snprintf(line, sizeof(line), "counts since monitoring started, sorted by %s%s"
			 "   q quit  </> sort  r reverse  t rates  h human  +/- interval",
			 sort_key_name(o.sort), o.reverse ? " (reversed)" : "");
	fprintf(f, "%.*s\033[K\n", cols, line);

	o.width = cols;
	o.highlight = o.sort;
	o.max_rows = rows > 4 ? (size_t)(rows - 4) : 1;
	fputs("\033[7m", f);	/* the header line in reverse video */
	table_sort_by(t, o.sort, o.reverse, o.rates);
	o.sort = SORT_NONE;
	{
		/* The header line, then the rows (table_print prints both). */
		char *tb = NULL, *nl;
		size_t tl = 0;
		FILE *tf = open_memstream(&tb, &tl);

		if (tf) {
			table_print(tf, t, &o);
			fclose(tf);
			nl = strchr(tb, '\n');
			if (nl) {
				fwrite(tb, 1, (size_t)(nl - tb), f);
				fputs("\033[0m\n", f);
				fputs(nl + 1, f);
			}
			free(tb);
		}
	}
	if (t->n > o.max_rows)
		fprintf(f, "... %zu more\033[K\n", t->n - o.max_rows);
	else if (!t->n)
		fprintf(f, "no monitored process%s\033[K\n", w->npids ? " among the PIDs given" : "");
	fputs("\033[J", f);
	fclose(f);
	if (buf) {
		size_t off = 0;

		while (off < len) {
			ssize_t n = write(STDOUT_FILENO, buf + off, len - off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			off += (size_t)n;
		}
	}
	free(buf);
}

static int sort_index(int key)
{
	int i;

	for (i = 0; i < NSORT; i++)
		if (sort_cycle[i] == key)
			return i;
	return 0;
}

static int watch_screen(struct watch *w)
{
	struct table cur = { 0 };
	unsigned long shown = 0;
	double next;
	int ret = EXIT_OK;
	bool redraw = true;

	tio_saved = isatty(STDIN_FILENO) && !tcgetattr(STDIN_FILENO, &saved_tio);
	screen_enter();
	ret = sample(w, &cur);
	if (ret)
		goto out;
	next = mono() + w->interval;
	for (;;) {
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		double left;
		int n, ms;

		if (redraw) {
			draw(w, &cur);
			redraw = false;
			if (w->count && ++shown >= w->count)
				break;
		}
		if (got_quit)
			break;
		if (got_term) {
			ret = 128 + got_term;
			break;
		}
		if (got_tstp) {
			got_tstp = 0;
			screen_leave();
			signal(SIGTSTP, SIG_DFL);
			raise(SIGTSTP);
			/* continued */
			signal(SIGTSTP, on_signal);
			if (tio_saved)
				tcgetattr(STDIN_FILENO, &saved_tio);
			screen_enter();
			redraw = true;
			continue;
		}
		if (got_winch) {
			got_winch = 0;
			fputs("\033[2J", stdout);
			fflush(stdout);
			redraw = true;
			continue;
		}
		left = next - mono();
		if (left <= 0) {
			table_free(&cur);
			ret = sample(w, &cur);
			if (ret)
				goto out;
			next += w->interval;
			if (next < mono())
				next = mono() + w->interval;
			redraw = true;
			continue;
		}
		ms = (int)(left * 1000) + 1;
		n = poll(&pfd, tio_saved ? 1 : 0, ms);
		if (n > 0 && (pfd.revents & POLLIN)) {
			char keys[32];
			ssize_t k = read(STDIN_FILENO, keys, sizeof(keys));
			ssize_t i;

			if (k <= 0) {
				tio_saved = false;	/* stdin closed: no keys any more */
				continue;
			}
			for (i = 0; i < k; i++) {
				char ch = keys[i];

				/* Arrow keys: ESC [ C (right), ESC [ D (left). */
				if (ch == '\033' && i + 2 < k && keys[i + 1] == '[') {
					ch = keys[i + 2] == 'C' ? '>' : keys[i + 2] == 'D' ? '<' : 0;
					i += 2;
				}
				switch (ch) {
				case 'q':
				case 'Q':
					got_quit = 1;
					break;
				case '<':
				case ',':
					w->o.sort = sort_cycle[(sort_index(w->o.sort) + NSORT - 1) % NSORT];
					break;
				case '>':
				case '.':
					w->o.sort = sort_cycle[(sort_index(w->o.sort) + 1) % NSORT];
					break;
				case 'r':
					w->o.reverse = !w->o.reverse;
					break;
				case 't':
					w->o.rates = !w->o.rates;
					break;
				case 'h':
					w->o.human = !w->o.human;
					break;
				case '+':
					w->interval = w->interval < 3600 ? w->interval * 2 : w->interval;
					next = w->prev_time + w->interval;
					break;
				case '-':
					w->interval = w->interval > 0.2 ? w->interval / 2 : 0.1;
					next = w->prev_time + w->interval;
					break;
				case ' ':
					next = mono();
					break;
				default:
					continue;
				}
				redraw = true;
			}
		} else if (n > 0 && (pfd.revents & (POLLHUP | POLLERR | POLLNVAL))) {
			tio_saved = false;
		}
	}
out:
	table_free(&cur);
	screen_leave();
	return ret;
}

int cmd_watch(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, 'n' },
		{ "count", required_argument, NULL, 'c' },
		{ "totals", no_argument, NULL, 't' },
		{ "plain", no_argument, NULL, OPT_PLAIN },
		TABLE_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct watch w = {
		.o = {
			.fmt = FMT_TABLE, .header = true, .sort = 0, .rates = true,
			.highlight = SORT_NONE,
		},
		.interval = 2,
	};
	struct sigaction sa;
	const char *term = getenv("TERM");
	bool plain = false, screen;
	struct table t = { 0 };
	int c, i, err, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "n:c:ts:rh", longopts, NULL)) != -1) {
		switch (table_opt(c, optarg, &w.o, "watch", false)) {
		case 1:
			continue;
		case -1:
			return EXIT_USAGE;
		}
		switch (c) {
		case 'n':
			if (parse_seconds(optarg, &w.interval) || w.interval < 0.1) {
				warnx_("watch: bad interval '%s' (seconds, at least 0.1)", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'c':
			if (parse_count(optarg, &w.count) || !w.count) {
				warnx_("watch: bad count '%s' (a number > 0)", optarg);
				return EXIT_USAGE;
			}
			break;
		case 't':
			w.o.rates = false;
			break;
		case OPT_PLAIN:
			plain = true;
			break;
		case OPT_HELP:
			fputs(watch_help, stdout);
			return EXIT_OK;
		default:
			fputs(watch_help, stderr);
			return EXIT_USAGE;
		}
	}
	w.npids = (size_t)(argc - optind);
	w.pids = parse_pids(argc - optind, argv + optind, "watch");
	if (!w.pids)
		return EXIT_USAGE;
	for (i = 0; i < (int)w.npids; i++)
		w.pids[i] = tid_to_tgid(w.pids[i]);
	if (proc_read(&t, &err)) {
		free(w.pids);
		return proc_error(err);
	}
	for (i = 0; i < (int)w.npids; i++)
		if (!table_find(&t, w.pids[i]))
			warnx_("watch %d: not monitored (yet)", (int)w.pids[i]);
	table_free(&t);

	screen = !plain && w.o.fmt == FMT_TABLE && isatty(STDOUT_FILENO) &&
		 term && *term && strcmp(term, "dumb");

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (screen) {
		sigaction(SIGWINCH, &sa, NULL);
		sigaction(SIGTSTP, &sa, NULL);
		ret = watch_screen(&w);
	} else {
		ret = watch_plain(&w);
	}
	table_free(&w.prev);
	free(w.pids);
	return ret;
}
