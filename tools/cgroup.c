// SPDX-License-Identifier: GPL-2.0
/*
 * cgroup.c - services and containers: cgroups named by path or by systemd
 * unit, the TRACER_ADD_CGROUP and TRACER_REMOVE_CGROUP requests, and the
 * totals of /proc/tracer_cgroups.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tracerctl.h"

/* Where the cgroup2 hierarchy is mounted: TRACER_CGROUP_ROOT, mountinfo. */
const char *cgroup_root(void)
{
	static char root[PATH_MAX];
	char line[4096];
	const char *env = getenv("TRACER_CGROUP_ROOT");
	FILE *f;

	if (env && *env)
		return env;
	if (*root)
		return root;
	snprintf(root, sizeof(root), "/sys/fs/cgroup");
	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return root;
	while (fgets(line, sizeof(line), f)) {
		char mnt[PATH_MAX], *dash = strstr(line, " - cgroup2 ");

		if (dash && sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1) {
			snprintf(root, sizeof(root), "%s", mnt);
			break;
		}
	}
	fclose(f);
	return root;
}

/*
 * The cgroup path (from the cgroup2 root, "/" first) of @arg: a directory
 * under the cgroup2 mount, or a path from its root.
 */
int cgroup_path_of(const char *arg, char *path, size_t size)
{
	const char *root = cgroup_root();
	size_t rl = strlen(root);

	if (!strncmp(arg, root, rl) && (arg[rl] == '/' || !arg[rl]))
		arg += rl;
	while (arg[0] == '/' && arg[1] == '/')
		arg++;
	if (snprintf(path, size, "%s%s", *arg == '/' ? "" : "/", arg) >= (int)size)
		return -1;
	/* No trailing slash but for the root itself. */
	rl = strlen(path);
	while (rl > 1 && path[rl - 1] == '/')
		path[--rl] = '\0';
	return 0;
}

/* Run systemctl show -P PROP UNIT: its one line of output, or "" */
static void systemctl_show(const char *unit, const char *prop, char *out, size_t size)
{
	int pfd[2], st;
	ssize_t n, len = 0;
	pid_t pid;

	*out = '\0';
	if (pipe(pfd))
		return;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);

		dup2(pfd[1], 1);
		if (nul >= 0)
			dup2(nul, 2);
		close(pfd[0]);
		execlp("systemctl", "systemctl", "show", "-P", prop, "--", unit, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	while (len < (ssize_t)size - 1 &&
	       (n = read(pfd[0], out + len, size - 1 - (size_t)len)) > 0)
		len += n;
	close(pfd[0]);
	out[len] = '\0';
	out[strcspn(out, "\n")] = '\0';
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st))
		*out = '\0';
}

/*
 * The cgroup of systemd unit @unit: its ControlGroup when it runs, else
 * where systemd will make it (its slice's path, then the unit).  -1 if
 * systemd does not know it.
 */
int unit_cgroup(const char *unit, char *path, size_t size)
{
	char cg[PATH_MAX], slice[256], *dash;
	size_t len = 0;

	systemctl_show(unit, "ControlGroup", cg, sizeof(cg));
	if (*cg)
		return cgroup_path_of(cg, path, size);
	systemctl_show(unit, "Slice", slice, sizeof(slice));
	if (!*slice)
		return -1;
	/* a-b.slice lives in a.slice: /a.slice/a-b.slice; -.slice is the root. */
	path[0] = '\0';
	if (strcmp(slice, "-.slice")) {
		for (dash = slice; (dash = strchr(dash, '-')); dash++) {
			len += (size_t)snprintf(path + len, size - len, "/%.*s.slice",
						(int)(dash - slice), slice);
			if (len >= size)
				return -1;
		}
		len += (size_t)snprintf(path + len, size - len, "/%s", slice);
	}
	if (len >= size || (size_t)snprintf(path + len, size - len, "/%s", unit) >= size - len)
		return -1;
	return 0;
}

/* The unit a cgroup path ends in (nginx.service, a .scope), or NULL. */
const char *cgroup_unit(const char *path)
{
	static const char *const types[] = {
		".service", ".scope", ".slice", ".socket", ".mount", ".swap",
	};
	const char *base = strrchr(path, '/');
	size_t i, bl, tl;

	base = base ? base + 1 : path;
	bl = strlen(base);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		tl = strlen(types[i]);
		if (bl > tl && !strcmp(base + bl - tl, types[i]))
			return base;
	}
	return NULL;
}

/*
 * TRACER_ADD_CGROUP (add) or TRACER_REMOVE_CGROUP on the cgroup at @path;
 * a missing directory is made first (a unit that has not started: systemd
 * then uses it), and for a remove made and taken away again.  0 or errno.
 */
int cgroup_request(int fd, const char *path, bool add)
{
	char dir[PATH_MAX];
	bool made = false;
	int dfd, err = 0;

	if (snprintf(dir, sizeof(dir), "%s%s", cgroup_root(),
		     strcmp(path, "/") ? path : "") >= (int)sizeof(dir))
		return ENAMETOOLONG;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 && errno == ENOENT) {
		if (mkdir(dir, 0755) && errno != EEXIST)
			return errno;
		made = true;
		dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (dfd < 0)
		return errno;
	if (ioctl(fd, add ? TRACER_ADD_CGROUP : TRACER_REMOVE_CGROUP,
		  (unsigned long)dfd))
		err = errno;
	close(dfd);
	if (made && !add)
		rmdir(dir);
	return err;
}

/* Parse the escapes of a /proc/tracer_cgroups path (\ooo) in place. */
static void unescape(char *s)
{
	char *d = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + s[3] - '0');
			s += 3;
		} else {
			*d++ = *s;
		}
	}
	*d = '\0';
}

int cgroups_read(struct cgtable *t, int *err)
{
	char line[PATH_MAX + 512];
	bool header = false;
	FILE *f = fopen(TRACER_CGROUPS_PATH, "re");

	t->n = 0;
	if (!f) {
		*err = errno;
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		struct cgrow r = { 0 };
		char *p = line, *end;
		int k;

		line[strcspn(line, "\n")] = '\0';
		if (!header) {
			header = true;
			if (strcmp(line, TRACER_CGROUPS_COLUMNS))
				goto proto;
			continue;
		}
		end = strchr(p, ' ');
		if (!end || (size_t)(end - p) >= sizeof(r.path))
			goto proto;
		memcpy(r.path, p, (size_t)(end - p));
		unescape(r.path);
		p = end;
		for (k = -1; k < NCOL; k++) {
			unsigned long long v;

			errno = 0;
			v = strtoull(p, &end, 10);
			if (end == p || *p != ' ' || errno)
				goto proto;
			if (k < 0)
				r.procs = v;
			else
				r.c[k] = v;
			p = end;
		}
		if (*p)
			goto proto;
		if (t->n == t->cap) {
			t->cap = t->cap ? t->cap * 2 : 16;
			t->rows = xrealloc(t->rows, t->cap * sizeof(*t->rows));
		}
		t->rows[t->n++] = r;
	}
	fclose(f);
	if (!header)
		goto proto_nofile;
	return 0;
proto:
	fclose(f);
proto_nofile:
	*err = EPROTO;
	return -1;
}

int cgroups_error(int err)
{
	if (err == ENOENT) {
		warnx_("cannot read %s: is the tracer module loaded (0.2 or later)?",
		       TRACER_CGROUPS_PATH);
		return EXIT_NOMODULE;
	}
	warnx_("cannot read %s: %s", TRACER_CGROUPS_PATH,
	       err == EPROTO ? "unexpected format" : strerror(err));
	return EXIT_FAILED;
}

/* show --by cgroup: the totals of the monitored cgroups. */
int show_cgroups(const struct show_opts *o)
{
	struct cgtable t = { 0 };
	size_t i;
	int err, k;

	if (cgroups_read(&t, &err))
		return cgroups_error(err);
	switch (o->fmt) {
	case FMT_JSON:
		fputs("{\"cgroups\": [", stdout);
		for (i = 0; i < t.n; i++) {
			const char *unit = cgroup_unit(t.rows[i].path);

			fputs(i ? ",\n  {\"cgroup\": " : "\n  {\"cgroup\": ", stdout);
			json_string(stdout, t.rows[i].path);
			fputs(", \"unit\": ", stdout);
			if (unit)
				json_string(stdout, unit);
			else
				fputs("null", stdout);
			printf(", \"procs\": %llu", t.rows[i].procs);
			for (k = 0; k < NCOL; k++)
				printf(", \"%s\": %llu", col_name[k], t.rows[i].c[k]);
			fputc('}', stdout);
		}
		fputs(t.n ? "\n]}\n" : "]}\n", stdout);
		break;
	case FMT_CSV:
		if (o->header) {
			fputs("cgroup,procs", stdout);
			for (k = 0; k < NCOL; k++)
				printf(",%s", col_name[k]);
			fputc('\n', stdout);
		}
		for (i = 0; i < t.n; i++) {
			csv_field(stdout, t.rows[i].path);
			printf(",%llu", t.rows[i].procs);
			for (k = 0; k < NCOL; k++)
				printf(",%llu", t.rows[i].c[k]);
			fputc('\n', stdout);
		}
		break;
	case FMT_TABLE:
		if (o->header) {
			printf("%-40s %5s", "CGROUP", "PROCS");
			for (k = 0; k < NCOL; k++)
				printf(" %12s", col_name[k]);
			fputc('\n', stdout);
		}
		for (i = 0; i < t.n; i++) {
			char buf[32];
			char path[sizeof(t.rows[i].path)];

			snprintf(path, sizeof(path), "%s", t.rows[i].path);
			sanitize_comm(path);
			printf("%-40s %5llu", path, t.rows[i].procs);
			for (k = 0; k < NCOL; k++) {
				if (o->human && col_bytes[k])
					format_human(buf, sizeof(buf), t.rows[i].c[k]);
				else
					snprintf(buf, sizeof(buf), "%llu", t.rows[i].c[k]);
				printf(" %12s", buf);
			}
			fputc('\n', stdout);
		}
		break;
	}
	free(t.rows);
	return EXIT_OK;
}
