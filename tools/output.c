// SPDX-License-Identifier: GPL-2.0
/*
 * output.c - printing tables: aligned text, JSON, CSV, human-readable
 * numbers; the escapes of JSON strings and CSV fields.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tracerctl.h"

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
	table_sort_by(t, o->sort, o->reverse, o->rates);
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
