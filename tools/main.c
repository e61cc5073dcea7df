// SPDX-License-Identifier: GPL-2.0
/*
 * tracerctl - user-space companion of the tracer kernel module
 *
 * main.c: command dispatch, help, shared helpers, add, remove, status.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "tracerctl.h"

const char *progname = "tracerctl";

static const char usage_text[] =
"Usage: tracerctl COMMAND [OPTIONS] [ARGUMENTS]\n"
"\n"
"Control the tracer kernel module and read its per-process counts of kmalloc,\n"
"kfree, schedule, up, down_interruptible, mutex_lock and mutex_unlock calls.\n"
"\n"
"Commands:\n"
"  add [-f] PID...             start monitoring processes (-f: and the processes\n"
"                              they fork from now on)\n"
"  remove PID...               stop monitoring processes\n"
"  show [OPTIONS] [PID...]     print the counts of monitored processes\n"
"  run [OPTIONS] [--] COMMAND [ARG...]\n"
"                              run COMMAND monitored from its first instruction\n"
"                              and print its counts when it ends\n"
"  watch [OPTIONS] [PID...]    refresh the counts periodically (rates per second)\n"
"  status [--json]             state of the module\n"
"  help [COMMAND]              this help, or a command's\n"
"\n"
"Options: --help, --version.  'tracerctl COMMAND --help' describes a command.\n"
"\n"
"Exit status: 0 success, 1 an operation failed, 2 usage error, 3 the tracer\n"
"module is not loaded, 4 permission denied on /dev/tracer.  run exits with\n"
"COMMAND's status (128+N if signal N killed it), or 125, 126, 127 when\n"
"COMMAND did not run.  See tracerctl(8) and tracer(4).\n";

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

static const char status_help[] =
"Usage: tracerctl status [--json]\n"
"\n"
"Print whether the tracer module is loaded, its version, the kernel release,\n"
"the number of monitored processes, missed events, the allocation map and the\n"
"hooked kernel functions.  Exit status 3 if the module is not loaded.\n";

/* ---- helpers ------------------------------------------------------------ */

void warnx_(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q) {
		warnx_("out of memory");
		exit(EXIT_FAILED);
	}
	return q;
}

int parse_pid(const char *s, pid_t *pid)
{
	long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (*s - '0');
		if (v > INT_MAX)
			return -1;
	}
	if (v <= 0)
		return -1;
	*pid = (pid_t)v;
	return 0;
}

int parse_seconds(const char *s, double *sec)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v <= 0 || v > 86400)
		return -1;
	*sec = v;
	return 0;
}

int parse_count(const char *s, unsigned long *n)
{
	char *end;
	unsigned long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end)
		return -1;
	*n = v;
	return 0;
}

/* Read a small file into buf (NUL-terminated, trailing newline removed). */
int read_file(const char *path, char *buf, size_t size)
{
	ssize_t len;
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (n + 1 < size) {
		len = read(fd, buf + n, size - 1 - n);
		if (len < 0) {
			if (errno == EINTR)
				continue;
			len = -errno;
			close(fd);
			return (int)len;
		}
		if (len == 0)
			break;
		n += (size_t)len;
	}
	close(fd);
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return (int)n;
}

/* Length of the valid UTF-8 sequence at s (2..4), or 0. */
static int utf8_seq(const unsigned char *s)
{
	int n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* Make a command name printable on one line of a table: control
 * characters and bytes that are not UTF-8 become '?'.
 */
void sanitize_comm(char *s)
{
	unsigned char *p = (unsigned char *)s;

	while (*p) {
		int n = *p >= 0x80 ? utf8_seq(p) : 1;

		if (n == 0 || *p < 0x20 || *p == 0x7f) {
			*p++ = '?';
			continue;
		}
		p += n;
	}
}

/* Columns a sanitized string takes: its UTF-8 characters. */
int text_width(const char *s)
{
	int w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

void read_comm(pid_t pid, char *buf, size_t size)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if (read_file(path, buf, size) <= 0)
		snprintf(buf, size, "?");
}

/* The process a thread ID belongs to (itself if unknown). */
pid_t tid_to_tgid(pid_t tid)
{
	char path[64], buf[4096], *p;
	pid_t tgid;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return tid;
	p = strstr(buf, "\nTgid:");
	if (!p)
		return tid;
	tgid = (pid_t)strtol(p + 6, NULL, 10);
	return tgid > 0 ? tgid : tid;
}

int module_loaded(void)
{
	struct stat st;

	return stat(TRACER_SYS_PATH, &st) == 0 || stat(TRACER_PROC_PATH, &st) == 0;
}

/* Open /dev/tracer for ioctl and read; -1 and *err = errno on failure. */
int open_device(int *err)
{
	int fd = open(TRACER_DEV_PATH, O_RDWR | O_CLOEXEC);

	if (fd < 0 && (errno == EACCES || errno == EPERM || errno == EROFS))
		fd = open(TRACER_DEV_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		*err = errno;
	return fd;
}

/* Explain why /dev/tracer could not be opened; -> exit status. */
int device_error(int err)
{
	switch (err) {
	case ENOENT:
	case ENXIO:
	case ENODEV:
		if (err == ENOENT && module_loaded()) {
			warnx_("%s does not exist though the tracer module is loaded;"
			       " create it: sudo mknod -m 600 %s c 10 %d",
			       TRACER_DEV_PATH, TRACER_DEV_PATH, TRACER_DEV_MINOR);
			return EXIT_NOMODULE;
		}
		warnx_("cannot open %s: %s: is the tracer module loaded? try: sudo modprobe tracer",
		       TRACER_DEV_PATH, strerror(err));
		return EXIT_NOMODULE;
	case EACCES:
	case EPERM:
		warnx_("cannot open %s: permission denied (root only, unless a udev rule"
		       " grants a group access: see tracer(4))", TRACER_DEV_PATH);
		return EXIT_NOACCESS;
	default:
		warnx_("cannot open %s: %s", TRACER_DEV_PATH, strerror(err));
		return EXIT_FAILED;
	}
}

/* ---- add, remove ---------------------------------------------------------- */

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
	pids = xrealloc(NULL, sizeof(*pids) * (size_t)n);
	for (i = 0; i < n; i++) {
		if (parse_pid(argv[optind + i], &pids[i])) {
			warnx_("%s: '%s' is not a PID (a number > 0)", verb, argv[optind + i]);
			free(pids);
			return EXIT_USAGE;
		}
	}
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

/* ---- status --------------------------------------------------------------- */

static int sys_param(const char *name, char *buf, size_t size)
{
	char path[128];

	snprintf(path, sizeof(path), TRACER_SYS_PATH "/parameters/%s", name);
	return read_file(path, buf, size);
}

/* "key=val key=val": the value of key, or NULL. */
static const char *kv_get(const char *s, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);
	const char *p = s;

	while (*p) {
		while (*p == ' ' || *p == '\t' || *p == '\n')
			p++;
		if (!strncmp(p, key, klen) && p[klen] == '=') {
			size_t n = strcspn(p + klen + 1, " \t\n");

			if (n >= size)
				n = size - 1;
			memcpy(out, p + klen + 1, n);
			out[n] = '\0';
			return out;
		}
		p += strcspn(p, " \t\n");
	}
	return NULL;
}

static void json_num_or_null(FILE *f, const char *s)
{
	const char *p = s;

	if (!*p) {
		fputs("null", f);
		return;
	}
	for (; *p; p++)
		if (!isdigit((unsigned char)*p)) {
			json_string(f, s);
			return;
		}
	fputs(s, f);
}

int cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	char version[64] = "", monitored[32] = "", missed[32] = "", map[256] = "";
	char hooked[4096] = "", maxactive[32] = "", map_bits[32] = "";
	char nested[32] = "", source[32] = "";
	char records[32] = "", capacity[32] = "", overflow[32] = "";
	struct utsname uts;
	struct stat st;
	bool json = false, loaded, dev_exists, dev_ok = false;
	int c, fd, err = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'H':
			fputs(status_help, stdout);
			return EXIT_OK;
		default:
			fputs(status_help, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		warnx_("status: unexpected argument '%s'", argv[optind]);
		fputs(status_help, stderr);
		return EXIT_USAGE;
	}
	if (uname(&uts))
		snprintf(uts.release, sizeof(uts.release), "?");
	loaded = module_loaded();
	dev_exists = stat(TRACER_DEV_PATH, &st) == 0;
	if (loaded) {
		read_file(TRACER_SYS_PATH "/version", version, sizeof(version));
		sys_param("monitored", monitored, sizeof(monitored));
		sys_param("missed", missed, sizeof(missed));
		sys_param("map", map, sizeof(map));
		sys_param("hooked", hooked, sizeof(hooked));
		sys_param("maxactive", maxactive, sizeof(maxactive));
		sys_param("map_bits", map_bits, sizeof(map_bits));
		sys_param("nested", nested, sizeof(nested));
		sys_param("source", source, sizeof(source));
		kv_get(map, "records", records, sizeof(records));
		kv_get(map, "capacity", capacity, sizeof(capacity));
		kv_get(map, "overflow", overflow, sizeof(overflow));
		if (dev_exists) {
			fd = open_device(&err);
			dev_ok = fd >= 0;
			if (fd >= 0)
				close(fd);
		}
	}

	if (json) {
		printf("{\"loaded\": %s, \"version\": ", loaded ? "true" : "false");
		if (loaded && *version)
			json_string(stdout, version);
		else
			fputs("null", stdout);
		printf(", \"tracerctl_version\": ");
		json_string(stdout, TRACER_VERSION);
		printf(", \"kernel\": ");
		json_string(stdout, uts.release);
		printf(",\n \"device\": {\"path\": \"%s\", \"exists\": %s, \"accessible\": %s},\n",
		       TRACER_DEV_PATH, dev_exists ? "true" : "false",
		       dev_ok ? "true" : "false");
		if (loaded) {
			printf(" \"monitored\": ");
			json_num_or_null(stdout, monitored);
			printf(", \"missed\": ");
			json_num_or_null(stdout, missed);
			printf(", \"nested\": ");
			json_num_or_null(stdout, nested);
			printf(",\n \"map\": {\"records\": ");
			json_num_or_null(stdout, records);
			printf(", \"capacity\": ");
			json_num_or_null(stdout, capacity);
			printf(", \"overflow\": ");
			json_num_or_null(stdout, overflow);
			printf("},\n \"parameters\": {\"source\": ");
			json_num_or_null(stdout, source);
			printf(", \"maxactive\": ");
			json_num_or_null(stdout, maxactive);
			printf(", \"map_bits\": ");
			json_num_or_null(stdout, map_bits);
			printf("},\n \"hooked\": {");
			/* kmalloc=a,b kfree=c ... -> "kmalloc": ["a", "b"], ... */
			{
				char *save = NULL, *tok, *eq, *sym, *save2 = NULL;
				bool first = true;

				for (tok = strtok_r(hooked, " \t\n", &save); tok;
				     tok = strtok_r(NULL, " \t\n", &save)) {
					bool firstsym = true;

					eq = strchr(tok, '=');
					if (!eq)
						continue;
					*eq = '\0';
					printf("%s", first ? "" : ", ");
					first = false;
					json_string(stdout, tok);
					printf(": [");
					for (sym = strtok_r(eq + 1, ",", &save2); sym;
					     sym = strtok_r(NULL, ",", &save2)) {
						printf("%s", firstsym ? "" : ", ");
						firstsym = false;
						json_string(stdout, sym);
					}
					printf("]");
				}
			}
			printf("}\n");
		} else {
			printf(" \"monitored\": null, \"missed\": null, \"nested\": null, \"map\": null,"
			       " \"parameters\": null, \"hooked\": null\n");
		}
		printf("}\n");
		return loaded ? EXIT_OK : EXIT_NOMODULE;
	}

	if (!loaded) {
		printf("module:     not loaded (try: sudo modprobe tracer)\n");
		printf("kernel:     %s\n", uts.release);
		printf("tracerctl:  %s\n", TRACER_VERSION);
		return EXIT_NOMODULE;
	}
	printf("module:     loaded, version %s", *version ? version : "unknown");
	if (*version && strcmp(version, TRACER_VERSION))
		printf(" (tracerctl is %s)", TRACER_VERSION);
	printf("\nkernel:     %s\n", uts.release);
	if (dev_exists)
		printf("device:     %s (%u:%u, mode %04o, uid %u, gid %u): %s\n",
		       TRACER_DEV_PATH, major(st.st_rdev), minor(st.st_rdev),
		       (unsigned int)(st.st_mode & 07777), (unsigned int)st.st_uid,
		       (unsigned int)st.st_gid,
		       dev_ok ? "you may open it" :
		       (err == EACCES || err == EPERM) ? "permission denied to you" :
		       strerror(err));
	else
		printf("device:     %s missing (create it: mknod -m 600 %s c 10 %d)\n",
		       TRACER_DEV_PATH, TRACER_DEV_PATH, TRACER_DEV_MINOR);
	printf("monitored:  %s process%s\n", *monitored ? monitored : "?",
	       strcmp(monitored, "1") ? "es" : "");
	printf("missed:     %s event%s%s\n", *missed ? missed : "?",
	       strcmp(missed, "1") ? "s" : "",
	       *missed && strcmp(missed, "0") ?
	       " lost (counts are low: see tracer(4), maxactive)" : "");
	if (*nested)
		printf("nested:     %s probe hit%s in interrupts skipped (never counted anyway)\n",
		       nested, strcmp(nested, "1") ? "s" : "");
	if (*records && *capacity && *overflow)
		printf("map:        %s live allocation record%s, capacity %s, %s lost%s\n",
		       records, strcmp(records, "1") ? "s" : "", capacity, overflow,
		       strcmp(overflow, "0") ? " (map was full: kfree_mem is low)" : "");
	else
		printf("map:        %s\n", *map ? map : "?");
	printf("parameters:");
	if (*source)
		printf(" source=%s", source);
	printf(" maxactive=%s map_bits=%s\n", *maxactive ? maxactive : "?",
	       *map_bits ? map_bits : "?");
	{
		char *save = NULL, *tok, *eq;
		const char *label = "hooked:     ";

		for (tok = strtok_r(hooked, " \t\n", &save); tok;
		     tok = strtok_r(NULL, " \t\n", &save)) {
			eq = strchr(tok, '=');
			if (eq) {
				*eq = '\0';
				printf("%s%-8s %s\n", label, tok, eq + 1);
			} else {
				printf("%s%s\n", label, tok);
			}
			label = "            ";
		}
		if (*label == 'h')
			printf("hooked:     ?\n");
	}
	return EXIT_OK;
}

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
