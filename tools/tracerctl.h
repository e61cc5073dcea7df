/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tracerctl.h - shared declarations of tracerctl, the user-space companion
 * of the tracer kernel module (tracer-dkms).
 */
#ifndef TRACERCTL_H
#define TRACERCTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <tracer.h>	/* the UAPI header: src/uapi/tracer.h, /usr/include/tracer.h */

#ifndef TRACER_VERSION
#define TRACER_VERSION "unknown"
#endif

/* Exit statuses (documented in tracerctl(8)). */
#define EXIT_OK		0	/* success */
#define EXIT_FAILED	1	/* an operation failed (some PID, a write) */
#define EXIT_USAGE	2	/* bad command line */
#define EXIT_NOMODULE	3	/* the tracer module is not loaded */
#define EXIT_NOACCESS	4	/* permission denied opening /dev/tracer */
/* tracerctl run: the command's status, or these when it did not run. */
#define EXIT_RUN_FAILED	125	/* tracerctl failed before running it */
#define EXIT_NOEXEC	126	/* found but could not be executed */
#define EXIT_NOTFOUND	127	/* not found */

#define TRACER_DEV_PATH		"/dev/" TRACER_DEV_NAME
#define TRACER_PROC_PATH	"/proc/" TRACER_PROC_NAME
#define TRACER_SYS_PATH		"/sys/module/tracer"
#define TRACER_CGROUPS_PATH	"/proc/" TRACER_CGROUPS_PROC_NAME

/* Counter columns, in /proc/tracer order. */
#define NCOL TRACER_NR_COLUMNS
extern const char *const col_name[NCOL];
extern const bool col_bytes[NCOL];	/* kmalloc_mem, kfree_mem */

/* Sort keys: a counter column (0..NCOL-1) or one of these. */
#define SORT_PID	(-1)
#define SORT_COMM	(-2)
#define SORT_PPID	(-3)
#define SORT_NONE	(-4)
int sort_key_parse(const char *name);	/* -> key, or SORT_NONE if unknown */
const char *sort_key_name(int key);

struct row {
	pid_t pid;
	pid_t ppid;		/* 0 if unknown */
	char comm[64];
	uint64_t c[NCOL];
	double rate[NCOL];	/* watch: per second over the last interval */
	bool has_rate;		/* watch: there is a previous sample */
};

struct table {
	struct row *rows;
	size_t n, cap;
};

enum fmt { FMT_TABLE, FMT_JSON, FMT_CSV };

struct show_opts {
	enum fmt fmt;
	bool human;		/* -h: K/M/G byte columns */
	bool ppid;		/* a PPID column (run) */
	bool total;		/* a total row (run -f) */
	bool rates;		/* values are rate[] (watch) */
	bool header;		/* print the header line (table, CSV) */
	int sort;		/* sort key, SORT_NONE: keep the order */
	bool reverse;
	int width;		/* truncate table lines to this width if > 0 */
	size_t max_rows;	/* table: at most this many rows if > 0 */
	int highlight;		/* table: column header in reverse video */
};

/* util.c */
extern const char *progname;	/* "tracerctl": what messages start with */
void warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *xrealloc(void *p, size_t n);
int parse_pid(const char *s, pid_t *pid);
int parse_seconds(const char *s, double *sec);
int parse_count(const char *s, unsigned long *n);
int read_file(const char *path, char *buf, size_t size);	/* -> len or -errno */
int stdout_done(int ret);	/* flush stdout: ret, or EXIT_FAILED on a write error */
void sanitize_comm(char *s);
int text_width(const char *s);
void read_comm(pid_t pid, char *buf, size_t size);
pid_t tid_to_tgid(pid_t tid);

/* device.c */
int open_device(int *err);		/* -> fd, or -1 with *err = errno */
int device_error(int err);		/* prints why; -> exit status */
int module_loaded(void);
/* /sys/module/tracer/parameters/NAME -> len or -errno */
int sys_param(const char *name, char *buf, size_t size);
/* "key=val key=val": the value of key (copied to out), or NULL. */
const char *kv_get(const char *s, const char *key, char *out, size_t size);
/* Warn on stderr if the allocation map overflowed (kfree_mem is low). */
void map_warning(void);

/* opts.c: the options of show, run and watch (long options >= 256) */
enum { OPT_JSON = 256, OPT_CSV, OPT_NOHEADER, OPT_PLAIN, OPT_HELP, OPT_BY };
#define TABLE_LONGOPTS						\
	{ "human", no_argument, NULL, 'h' },			\
	{ "sort", required_argument, NULL, 's' },		\
	{ "reverse", no_argument, NULL, 'r' },			\
	{ "json", no_argument, NULL, OPT_JSON },		\
	{ "csv", no_argument, NULL, OPT_CSV },			\
	{ "help", no_argument, NULL, OPT_HELP }
/* Option c (-h -s -r --json --csv --no-header) into o: 1 taken, 0 not
 * one of these, -1 bad argument (said why).  ppid: may sort by ppid.
 */
int table_opt(int c, const char *arg, struct show_opts *o, const char *cmd,
	      bool ppid);
/* The n PIDs of args (malloc'ed), or NULL after saying which is not one. */
pid_t *parse_pids(int n, char **args, const char *cmd);
/* Say why /proc/tracer could not be read (proc_read's err); -> exit status. */
int proc_error(int err);

/* table.c, output.c */
void table_add(struct table *t, const struct row *r);
void table_free(struct table *t);
struct row *table_find(struct table *t, pid_t pid);
int proc_read(struct table *t, int *err);	/* /proc/tracer -> 0 or -1 */
void row_sum(const struct table *t, struct row *total);
void table_sort_by(struct table *t, int key, bool reverse, bool rates);
void table_print(FILE *f, struct table *t, const struct show_opts *o);
void json_rows(FILE *f, const struct table *t, const struct show_opts *o, int indent);
void json_total(FILE *f, const struct table *t, const struct show_opts *o);
void csv_header(FILE *f, const struct show_opts *o, bool time_col);
void csv_rows(FILE *f, const struct table *t, const struct show_opts *o, const char *time);
void json_string(FILE *f, const char *s);
void csv_field(FILE *f, const char *s);
void format_human(char *buf, size_t size, uint64_t v);
void format_rate(char *buf, size_t size, double v, bool bytes, bool human);

/* cgroup.c: cgroups, systemd units, /proc/tracer_cgroups */
struct cgrow {
	char path[4096];	/* from the cgroup2 root */
	unsigned long long procs;
	unsigned long long c[NCOL];
};

struct cgtable {
	struct cgrow *rows;
	size_t n, cap;
};

const char *cgroup_root(void);		/* the cgroup2 mount point */
/* A cgroup directory or path -> its path from the root: 0, or -1. */
int cgroup_path_of(const char *arg, char *path, size_t size);
/* A systemd unit's cgroup path (where it will be, if not started): 0, -1. */
int unit_cgroup(const char *unit, char *path, size_t size);
const char *cgroup_unit(const char *path);	/* its unit's name, or NULL */
/* TRACER_ADD_CGROUP / TRACER_REMOVE_CGROUP on fd for path: 0 or errno. */
int cgroup_request(int fd, const char *path, bool add);
int cgroups_read(struct cgtable *t, int *err);	/* 0, or -1 and *err */
/* Say why /proc/tracer_cgroups could not be read; -> exit status. */
int cgroups_error(int err);
int show_cgroups(const struct show_opts *o);	/* show --by cgroup */

/* export.c */
int cmd_export(int argc, char **argv);
int cmd_apply(int argc, char **argv);

/* commands */
int cmd_add(int argc, char **argv);
int cmd_remove(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_status(int argc, char **argv);

#endif /* TRACERCTL_H */
