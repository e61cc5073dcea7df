// SPDX-License-Identifier: GPL-2.0
/*
 * table.c - reading /proc/tracer, sorting and printing tables (aligned text,
 * JSON, CSV); the show command.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracerctl.h"

const char *const col_name[NCOL] = {
	"kmalloc", "kfree", "kmalloc_mem", "kfree_mem", "sched",
	"up", "down", "lock", "unlock",
};

const bool col_bytes[NCOL] = {
	false, false, true, true, false, false, false, false, false,
};

int sort_key_parse(const char *name)
{
	int i;

	if (!strcmp(name, "pid"))
		return SORT_PID;
	if (!strcmp(name, "comm"))
		return SORT_COMM;
	if (!strcmp(name, "ppid"))
		return SORT_PPID;
	for (i = 0; i < NCOL; i++)
		if (!strcmp(name, col_name[i]))
			return i;
	return SORT_NONE;
}

const char *sort_key_name(int key)
{
	switch (key) {
	case SORT_PID:
		return "pid";
	case SORT_COMM:
		return "comm";
	case SORT_PPID:
		return "ppid";
	case SORT_NONE:
		return "none";
	default:
		return col_name[key];
	}
}

void table_add(struct table *t, const struct row *r)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->rows = xrealloc(t->rows, t->cap * sizeof(*t->rows));
	}
	t->rows[t->n++] = *r;
}

void table_free(struct table *t)
{
	free(t->rows);
	t->rows = NULL;
	t->n = t->cap = 0;
}

struct row *table_find(struct table *t, pid_t pid)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->rows[i].pid == pid)
			return &t->rows[i];
	return NULL;
}

/* Parse /proc/tracer into t (appending).  -1 with *err = errno on failure;
 * *err = EPROTO if the header is not the expected one.
 */
int proc_read(struct table *t, int *err)
{
	size_t len = 0, cap = 65536;
	char *buf = xrealloc(NULL, cap), *line, *save = NULL;
	int map[64], ncols = 0, fd;
	ssize_t r;

	fd = open(TRACER_PROC_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*err = errno;
		free(buf);
		return -1;
	}
	for (;;) {
		if (len + 1 >= cap) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		r = read(fd, buf + len, cap - 1 - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			*err = errno;
			close(fd);
			free(buf);
			return -1;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';

	/* Header: PID then column names; map positions to our columns. */
	line = strtok_r(buf, "\n", &save);
	if (!line)
		goto bad;
	{
		char *s2 = NULL, *tok = strtok_r(line, " \t", &s2);

		if (!tok || strcmp(tok, "PID"))
			goto bad;
		while ((tok = strtok_r(NULL, " \t", &s2)) && ncols < 64) {
			int k = sort_key_parse(tok);

			map[ncols++] = k >= 0 ? k : -1;
		}
	}
	while ((line = strtok_r(NULL, "\n", &save))) {
		struct row row;
		char *s2 = NULL, *tok = strtok_r(line, " \t", &s2), *end;
		int i;

		memset(&row, 0, sizeof(row));
		if (!tok)
			continue;
		row.pid = (pid_t)strtol(tok, &end, 10);
		if (*end || row.pid <= 0)
			goto bad;
		for (i = 0; i < ncols && (tok = strtok_r(NULL, " \t", &s2)); i++) {
			uint64_t v = strtoull(tok, &end, 10);

			if (*end)
				goto bad;
			if (map[i] >= 0)
				row.c[map[i]] = v;
		}
		table_add(t, &row);
	}
	free(buf);
	return 0;
bad:
	free(buf);
	*err = EPROTO;
	return -1;
}

static int sort_key_g;
static bool sort_rates_g;

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	int k = sort_key_g;

	if (k >= 0) {
		if (sort_rates_g) {
			if (x->rate[k] != y->rate[k])
				return x->rate[k] < y->rate[k] ? 1 : -1;
		} else if (x->c[k] != y->c[k]) {
			return x->c[k] < y->c[k] ? 1 : -1;
		}
	} else if (k == SORT_COMM) {
		int r = strcmp(x->comm, y->comm);

		if (r)
			return r;
	} else if (k == SORT_PPID && x->ppid != y->ppid) {
		return x->ppid < y->ppid ? -1 : 1;
	}
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* Counters sort descending, pid/comm/ppid ascending; reverse flips. */
static void table_sort_(struct table *t, int key, bool reverse, bool rates)
{
	size_t i;

	if (key == SORT_NONE || t->n < 2)
		return;
	sort_key_g = key;
	sort_rates_g = rates;
	qsort(t->rows, t->n, sizeof(*t->rows), row_cmp);
	if (reverse) {
		for (i = 0; i < t->n / 2; i++) {
			struct row tmp = t->rows[i];

			t->rows[i] = t->rows[t->n - 1 - i];
			t->rows[t->n - 1 - i] = tmp;
		}
	}
}

void table_sort_by(struct table *t, int key, bool reverse, bool rates)
{
	table_sort_(t, key, reverse, rates);
}

void row_sum(const struct table *t, struct row *total)
{
	size_t i;
	int k;

	memset(total, 0, sizeof(*total));
	for (i = 0; i < t->n; i++) {
		for (k = 0; k < NCOL; k++) {
			total->c[k] += t->rows[i].c[k];
			total->rate[k] += t->rows[i].rate[k];
		}
	}
	total->has_rate = true;
}

/* 1536 -> "1.5K": powers of 1024, like ls -h; below 1024 the plain number. */
void format_human(char *buf, size_t size, uint64_t v)
{
	static const char units[] = "KMGTPE";
	double d = (double)v;
	int u = -1;

	if (v < 1024) {
		snprintf(buf, size, "%" PRIu64, v);
		return;
	}
	while (d >= 1024 && u < 5) {
		d /= 1024;
		u++;
	}
	if (d < 9.95)
		snprintf(buf, size, "%.1f%c", d, units[u]);
	else if (d < 1023.5 || u == 5)
		snprintf(buf, size, "%.0f%c", d, units[u]);
	else
		snprintf(buf, size, "1.0%c", units[u + 1]);
}

void format_rate(char *buf, size_t size, double v, bool bytes, bool human)
{
	if (bytes && human && v >= 1024) {
		format_human(buf, size, (uint64_t)(v + 0.5));
		return;
	}
	if (v == 0)
		snprintf(buf, size, "0");
	else if (v < 9.95)
		snprintf(buf, size, "%.1f", v);
	else
		snprintf(buf, size, "%.0f", v);
}

void json_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	while (*p) {
		unsigned char ch = *p;
		int n = 0, i;

		if (ch == '"' || ch == '\\') {
			fprintf(f, "\\%c", ch);
			p++;
			continue;
		}
		if (ch < 0x20 || ch == 0x7f) {
			fprintf(f, "\\u%04x", ch);
			p++;
			continue;
		}
		if (ch < 0x80) {
			fputc(ch, f);
			p++;
			continue;
		}
		/* Valid UTF-8 passes; any other byte is taken as Latin-1. */
		if (ch >= 0xc2 && ch <= 0xdf)
			n = 1;
		else if (ch >= 0xe0 && ch <= 0xef)
			n = 2;
		else if (ch >= 0xf0 && ch <= 0xf4)
			n = 3;
		for (i = 1; i <= n; i++)
			if ((p[i] & 0xc0) != 0x80)
				break;
		if (n && i > n) {
			fwrite(p, 1, (size_t)n + 1, f);
			p += n + 1;
		} else {
			fprintf(f, "\\u%04x", ch);
			p++;
		}
	}
	fputc('"', f);
}

void csv_field(FILE *f, const char *s)
{
	if (!s[strcspn(s, ",\"\r\n")] && s[0] != ' ' && (!*s || s[strlen(s) - 1] != ' ')) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static void value_str(char *buf, size_t size, const struct row *r, int k,
		      const struct show_opts *o, bool machine)
{
	if (o->rates) {
		if (!r->has_rate)
			snprintf(buf, size, machine ? "null" : "-");
		else if (machine)
			snprintf(buf, size, "%.3f", r->rate[k]);
		else
			format_rate(buf, size, r->rate[k], col_bytes[k], o->human);
	} else if (!machine && o->human && col_bytes[k]) {
		format_human(buf, size, r->c[k]);
	} else {
		snprintf(buf, size, "%" PRIu64, r->c[k]);
	}
}

/* ---- aligned text --------------------------------------------------------- */

#define MAXCOLS (NCOL + 3)
#define CELL 32

struct cells {
	char (*s)[MAXCOLS][CELL];
	size_t nlines;
	int ncols;
	int width[MAXCOLS];
	bool left[MAXCOLS];
};

static void print_line(FILE *f, struct cells *c, size_t l, int hl_col, int maxw)
{
	char line[MAXCOLS * (CELL + 4) + 8];
	int pos = 0, i, hl_start = -1, hl_end = -1;

	for (i = 0; i < c->ncols; i++) {
		const char *s = c->s[l][i];
		int pad = c->width[i] - text_width(s);

		if (i)
			pos += sprintf(line + pos, "  ");
		if (i == hl_col)
			hl_start = pos;
		if (c->left[i])
			pos += sprintf(line + pos, "%s%*s", s, i == c->ncols - 1 ? 0 : pad, "");
		else
			pos += sprintf(line + pos, "%*s%s", pad, "", s);
		if (i == hl_col)
			hl_end = pos;
	}
	while (pos && line[pos - 1] == ' ')
		line[--pos] = '\0';
	if (maxw > 0 && text_width(line) > maxw) {	/* cut at a character */
		int cols = 0, i;

		for (i = 0; i < pos; i++) {
			if (((unsigned char)line[i] & 0xc0) != 0x80 && cols++ == maxw)
				break;
		}
		pos = i;
		line[pos] = '\0';
	}
	if (hl_start >= 0 && hl_start < pos) {
		if (hl_end > pos)
			hl_end = pos;
		fprintf(f, "%.*s\033[1;4m%.*s\033[22;24m%s", hl_start, line,
			hl_end - hl_start, line + hl_start, line + hl_end);
	} else {
		fputs(line, f);
	}
}

static void table_print_text(FILE *f, const struct table *t, const struct show_opts *o)
{
	size_t nrows = t->n, l, i;
	struct cells c = { 0 };
	struct row total;
	int k, col, hl = -1;

	if (o->max_rows && nrows > o->max_rows)
		nrows = o->max_rows;
	c.nlines = 1 + nrows + (o->total ? 1 : 0);
	c.s = xrealloc(NULL, c.nlines * sizeof(*c.s));
	col = 0;
	snprintf(c.s[0][col++], CELL, "PID");
	if (o->ppid)
		snprintf(c.s[0][col++], CELL, "PPID");
	c.left[col] = true;
	snprintf(c.s[0][col++], CELL, "COMM");
	for (k = 0; k < NCOL; k++) {
		if (o->highlight == k)
			hl = col;
		snprintf(c.s[0][col++], CELL, "%s", col_name[k]);
	}
	if (o->highlight == SORT_PID)
		hl = 0;
	else if (o->highlight == SORT_PPID && o->ppid)
		hl = 1;
	else if (o->highlight == SORT_COMM)
		hl = o->ppid ? 2 : 1;
	c.ncols = col;

	for (i = 0; i < nrows + (o->total ? 1 : 0); i++) {
		const struct row *r;
		char comm[CELL];

		l = i + 1;
		col = 0;
		if (i < nrows) {
			r = &t->rows[i];
			snprintf(c.s[l][col++], CELL, "%d", (int)r->pid);
			if (o->ppid)
				snprintf(c.s[l][col++], CELL, "%d", (int)r->ppid);
			snprintf(comm, sizeof(comm), "%.31s", r->comm);
			sanitize_comm(comm);
			snprintf(c.s[l][col++], CELL, "%s", comm);
		} else {
			row_sum(t, &total);
			r = &total;
			c.s[l][col++][0] = '\0';
			if (o->ppid)
				c.s[l][col++][0] = '\0';
			snprintf(c.s[l][col++], CELL, "total");
		}
		for (k = 0; k < NCOL; k++)
			value_str(c.s[l][col++], CELL, r, k, o, false);
	}
	for (col = 0; col < c.ncols; col++)
		for (l = 0; l < c.nlines; l++)
			if (text_width(c.s[l][col]) > c.width[col])
				c.width[col] = text_width(c.s[l][col]);
	if (c.width[0] < 7)
		c.width[0] = 7;	/* room for any PID: stable columns */
	if (o->ppid && c.width[1] < 7)
		c.width[1] = 7;
	for (l = o->header ? 0 : 1; l < c.nlines; l++) {
		print_line(f, &c, l, l == 0 ? hl : -1, o->width);
		fputs(o->width > 0 ? "\033[K\n" : "\n", f);
	}
	free(c.s);
}

/* ---- JSON, CSV ------------------------------------------------------------ */

static void json_row(FILE *f, const struct row *r, const struct show_opts *o, bool is_total)
{
	char v[64];
	int k;

	fputc('{', f);
	if (!is_total) {
		fprintf(f, "\"pid\": %d, ", (int)r->pid);
		if (o->ppid)
			fprintf(f, "\"ppid\": %d, ", (int)r->ppid);
		fputs("\"comm\": ", f);
		json_string(f, r->comm);
		fputs(", ", f);
	}
	for (k = 0; k < NCOL; k++) {
		value_str(v, sizeof(v), r, k, o, true);
		fprintf(f, "\"%s\": %s%s", col_name[k], v, k < NCOL - 1 ? ", " : "");
	}
	fputc('}', f);
}

/* The rows as a JSON array: a row per line, indented by 2, the closing
 * bracket by indent; all on one line if indent < 0.
 */
void json_rows(FILE *f, const struct table *t, const struct show_opts *o, int indent)
{
	size_t i;

	fputc('[', f);
	for (i = 0; i < t->n; i++) {
		if (indent >= 0)
			fputs("\n  ", f);
		json_row(f, &t->rows[i], o, false);
		if (i + 1 < t->n)
			fputc(',', f);
		else if (indent >= 0)
			fprintf(f, "\n%*s", indent, "");
	}
	fputc(']', f);
}

void json_total(FILE *f, const struct table *t, const struct show_opts *o)
{
	struct row total;

	row_sum(t, &total);
	json_row(f, &total, o, true);
}

void csv_header(FILE *f, const struct show_opts *o, bool time_col)
{
	int k;

	if (time_col)
		fputs("time,", f);
	fputs(o->ppid ? "pid,ppid,comm" : "pid,comm", f);
	for (k = 0; k < NCOL; k++)
		fprintf(f, ",%s", col_name[k]);
	fputc('\n', f);
}

void csv_rows(FILE *f, const struct table *t, const struct show_opts *o, const char *time)
{
	struct row total;
	char v[64];
	size_t i;
	int k;

	for (i = 0; i < t->n + (o->total ? 1 : 0); i++) {
		const struct row *r;

		if (time)
			fprintf(f, "%s,", time);
		if (i < t->n) {
			r = &t->rows[i];
			fprintf(f, "%d,", (int)r->pid);
			if (o->ppid)
				fprintf(f, "%d,", (int)r->ppid);
			csv_field(f, r->comm);
		} else {
			row_sum(t, &total);
			r = &total;
			fputs(o->ppid ? "total,," : "total,", f);
		}
		for (k = 0; k < NCOL; k++) {
			value_str(v, sizeof(v), r, k, o, true);
			fprintf(f, ",%s", strcmp(v, "null") ? v : "");
		}
		fputc('\n', f);
	}
}

void table_print(FILE *f, struct table *t, const struct show_opts *o)
{
	table_sort_(t, o->sort, o->reverse, o->rates);
	switch (o->fmt) {
	case FMT_TABLE:
		table_print_text(f, t, o);
		break;
	case FMT_JSON:
		fputs("{\"processes\": ", f);
		json_rows(f, t, o, 0);
		if (o->total) {
			fputs(",\n \"total\": ", f);
			json_total(f, t, o);
		}
		fputs("}\n", f);
		break;
	case FMT_CSV:
		if (o->header)
			csv_header(f, o, false);
		csv_rows(f, t, o, NULL);
		break;
	}
}

/* ---- show ----------------------------------------------------------------- */

static const char show_help[] =
"Usage: tracerctl show [OPTIONS] [PID...]\n"
"\n"
"Print the counts of the monitored processes (all, or PID...), with their\n"
"command names.  Columns: see tracer(4).\n"
"\n"
"  -h, --human          byte columns in K, M, G (powers of 1024)\n"
"  -s, --sort COLUMN    sort by COLUMN (pid, comm, kmalloc, ..., unlock);\n"
"                       counters sort largest first; default pid\n"
"  -r, --reverse        reverse the order\n"
"      --json           JSON: {\"processes\": [{\"pid\": ..., \"comm\": ..., ...}]}\n"
"      --csv            CSV with a header line\n"
"      --no-header      no header line (table, CSV)\n"
"      --help           this help\n";

enum { OPT_JSON = 256, OPT_CSV, OPT_NOHEADER, OPT_HELP };

int cmd_show(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "human", no_argument, NULL, 'h' },
		{ "sort", required_argument, NULL, 's' },
		{ "reverse", no_argument, NULL, 'r' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "csv", no_argument, NULL, OPT_CSV },
		{ "no-header", no_argument, NULL, OPT_NOHEADER },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct show_opts o = {
		.fmt = FMT_TABLE, .header = true, .sort = SORT_PID, .highlight = SORT_NONE,
	};
	struct table t = { 0 }, sel = { 0 };
	int c, err, ret = EXIT_OK, i;

	optind = 1;
	while ((c = getopt_long(argc, argv, "hs:r", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			o.human = true;
			break;
		case 's':
			o.sort = sort_key_parse(optarg);
			if (o.sort == SORT_NONE || o.sort == SORT_PPID) {
				warnx_("show: unknown column '%s'", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'r':
			o.reverse = true;
			break;
		case OPT_JSON:
			o.fmt = FMT_JSON;
			break;
		case OPT_CSV:
			o.fmt = FMT_CSV;
			break;
		case OPT_NOHEADER:
			o.header = false;
			break;
		case OPT_HELP:
			fputs(show_help, stdout);
			return EXIT_OK;
		default:
			fputs(show_help, stderr);
			return EXIT_USAGE;
		}
	}
	for (i = optind; i < argc; i++) {
		pid_t pid;

		if (parse_pid(argv[i], &pid)) {
			warnx_("show: '%s' is not a PID (a number > 0)", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (proc_read(&t, &err)) {
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
	if (optind < argc) {
		for (i = optind; i < argc; i++) {
			pid_t pid, tgid;
			struct row *r;
			char path[64];

			parse_pid(argv[i], &pid);
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
	if (fflush(stdout) || ferror(stdout)) {
		warnx_("write error: %s", strerror(errno));
		return EXIT_FAILED;
	}
	return ret;
}
