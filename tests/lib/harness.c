// SPDX-License-Identifier: GPL-2.0
/*
 * harness.c - the list of tests and the runner (see harness.h)
 *
 * Usage: PROGRAM [-s first_number] [-t stress_seconds] [-l] [-q] [name...]
 *
 * Names select the tests whose name contains one of them (TEST_EXPLICIT
 * ones: whose name is one of them); none: every test but the explicit
 * ones.  -l lists the selected tests instead of running them; -q leaves out
 * the TEST_ONCE ones; -s numbers the results from first_number on.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "util.h"

#define MSG_MAX		4096
#define SKIP_MAX	256

int tt_stress_secs = 10;

/* Shared with the test processes: why a test failed, why it skipped. */
static char *g_msg, *g_skip;

struct entry {
	struct tt_test t;
	int rank;		/* of its file, in registration order */
};

static struct entry *g_tests;
static int g_ntests;

#define AT_END_MAX	8
static void (*g_at_end[AT_END_MAX])(pid_t pid);
static int g_nat_end;

void tt_at_end(void (*fn)(pid_t pid))
{
	if (g_nat_end == AT_END_MAX) {
		fprintf(stderr, "tt_at_end: more than %d\n", AT_END_MAX);
		exit(2);
	}
	g_at_end[g_nat_end++] = fn;
}

void tt_register(const struct tt_test *t)
{
	static int cap;

	if (g_ntests == cap) {
		cap = cap ? 2 * cap : 64;
		g_tests = realloc(g_tests, cap * sizeof(*g_tests));
		if (!g_tests) {
			perror("tt_register");
			exit(2);
		}
	}
	g_tests[g_ntests].t = *t;
	g_tests[g_ntests++].rank = 0;
}

void failf(const char *fmt, ...)
{
	size_t len = strlen(g_msg);
	va_list ap;

	if (len >= MSG_MAX - 8)
		return;
	if (len) {
		strcpy(g_msg + len, "; ");
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(g_msg + len, MSG_MAX - len, fmt, ap);
	va_end(ap);
}

void skipf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(g_skip, SKIP_MAX, fmt, ap);
	va_end(ap);
}

void diag(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	printf("# %s\n", buf);
	fflush(stdout);
}

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int lx = !!(x->t.flags & TT_LAST), ly = !!(y->t.flags & TT_LAST);

	if (lx != ly)
		return lx - ly;
	if (x->rank != y->rank)
		return x->rank - y->rank;
	if (x->t.line != y->t.line)
		return x->t.line - y->t.line;
	return x->t.sub - y->t.sub;
}

/*
 * Order: by file, the files in the order they registered (the link order
 * of the constructors), then by place in the file, whatever order the
 * constructors of one file ran in.  A name used twice is an error.
 */
static int sort_tests(void)
{
	int i, j, nfiles = 0;

	for (i = 0; i < g_ntests; i++) {
		for (j = 0; j < i; j++)
			if (!strcmp(g_tests[j].t.file, g_tests[i].t.file))
				break;
		g_tests[i].rank = j < i ? g_tests[j].rank : nfiles++;
	}
	qsort(g_tests, g_ntests, sizeof(*g_tests), cmp_entry);
	for (i = 0; i < g_ntests; i++)
		for (j = 0; j < i; j++)
			if (!strcmp(g_tests[j].t.name, g_tests[i].t.name)) {
				fprintf(stderr, "%s: test %s defined twice (%s:%d, %s:%d)\n",
					tt_program, g_tests[i].t.name,
					g_tests[j].t.file, g_tests[j].t.line,
					g_tests[i].t.file, g_tests[i].t.line);
				return -1;
			}
	return 0;
}

static int selected(const struct tt_test *t, int quick, int argc, char **argv,
		    int first)
{
	int i;

	if (quick && (t->flags & TT_ONCE))
		return 0;
	for (i = first; i < argc; i++)
		if (t->flags & TT_EXPLICIT ? !strcmp(t->name, argv[i]) :
		    !!strstr(t->name, argv[i]))
			return 1;
	return first >= argc && !(t->flags & TT_EXPLICIT);
}

/* 0 passed, TT_SKIP skipped, -1 failed (g_msg says why). */
static int run_one(const struct tt_test *t)
{
	int timeout = t->timeout < 0 ? tt_stress_secs + 120 : t->timeout;
	double end = now() + timeout;
	pid_t pid, r;
	int st = 0, code, i;

	memset(g_msg, 0, MSG_MAX);
	memset(g_skip, 0, SKIP_MAX);
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		snprintf(g_msg, MSG_MAX, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		setpgid(0, 0);
		prctl(PR_SET_CHILD_SUBREAPER, 1);
		code = t->fn(t->arg);
		if (code && code != TT_SKIP && !g_msg[0])
			failf("failed");
		fflush(stdout);
		_exit(code == TT_SKIP ? TT_SKIP : code ? 1 : 0);
	}
	setpgid(pid, pid);
	for (;;) {
		r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			break;
		if (now() > end) {
			kill(-pid, SIGKILL);
			waitpid(pid, &st, 0);
			failf("timed out after %d s", timeout);
			st = -1;
			break;
		}
		msleep(10);
	}
	/* Whatever the test left behind goes now, before the next test. */
	kill(-pid, SIGKILL);
	while (waitpid(-1, NULL, __WALL) > 0 || errno == EINTR)
		;
	for (i = 0; i < g_nat_end; i++)
		g_at_end[i](pid);
	if (st == -1)
		return -1;
	if (WIFSIGNALED(st)) {
		failf("test process killed by signal %d", WTERMSIG(st));
		return -1;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == TT_SKIP)
		return TT_SKIP;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
	int start = 1, list = 0, quick = 0, opt, i, num, pass = 0, fail = 0, r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "s:t:lq")) != -1) {
		switch (opt) {
		case 's':
			start = atoi(optarg);
			break;
		case 't':
			tt_stress_secs = atoi(optarg);
			break;
		case 'l':
			list = 1;
			break;
		case 'q':
			quick = 1;
			break;
		default:
			fprintf(stderr, "usage: %s [-s first] [-t stress_secs] [-l] [-q] [name...]\n",
				argv[0]);
			return 2;
		}
	}
	if (sort_tests())
		return 2;
	if (list) {
		for (i = 0; i < g_ntests; i++)
			if (selected(&g_tests[i].t, quick, argc, argv, optind))
				printf("%s\n", g_tests[i].t.name);
		return 0;
	}
	g_msg = mmap(NULL, MSG_MAX + SKIP_MAX, PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (g_msg == MAP_FAILED)
		return 2;
	g_skip = g_msg + MSG_MAX;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	tt_setup();
	num = start;
	for (i = 0; i < g_ntests; i++) {
		const struct tt_test *t = &g_tests[i].t;
		double t0;

		if (!selected(t, quick, argc, argv, optind))
			continue;
		t0 = now();
		tt_before(t);
		r = run_one(t);
		if (r == 0 || r == TT_SKIP) {
			printf("ok %d - %s%s%s\n", num, t->name,
			       r == TT_SKIP ? " # SKIP " : "",
			       r != TT_SKIP ? "" :
			       g_skip[0] ? g_skip : "not applicable here");
			pass++;
		} else {
			printf("not ok %d - %s # %s\n", num, t->name, g_msg);
			fail++;
		}
		tt_after(t);
		if (now() - t0 > 4)
			diag("%s took %.1f s", t->name, now() - t0);
		num++;
	}
	printf("# %s: %d passed, %d failed\n", tt_program, pass, fail);
	return fail ? 1 : 0;
}
