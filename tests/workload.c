// SPDX-License-Identifier: GPL-2.0
/*
 * workload.c - tracer_workload: the load run.sh keeps going while it
 * unloads and reloads tracer.ko (static, libc only; no test of its own)
 *
 * Usage: tracer_workload [-n] -H nthreads [-f]
 *		monitor itself (then close /dev/tracer, which would pin the
 *		module) and make helper requests in nthreads threads until
 *		killed; -f: a thread forks short-lived children too (followed
 *		when added with TRACER_FOLLOW_FORKS); prints "hog ready"
 *        tracer_workload -a PID...
 *		add these processes with TRACER_FOLLOW_FORKS; exit status 0
 *		if every add succeeded
 *        tracer_workload [-n] -R seconds
 *		read and strictly parse /proc/tracer in a loop for that long
 *		or until SIGTERM: a missing file (ENOENT) or a read cut by an
 *		unload (EIO) is fine, a malformed or short table is not;
 *		prints the counts; exit status 1 on a bad table
 *        tracer_workload -P
 *		sleep until killed (the suite runs a set-user-ID copy of this
 *		program: perm.c)
 * -n runs at the lowest priority (inherited by threads and children), so
 * that the load does not starve insmod/rmmod with one CPU left online.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "table.h"
#include "tracer.h"
#include "tracer_test_helper.h"
#include "util.h"

#define DEV_PATH	"/dev/tracer"
#define HELPER_PATH	"/dev/" TTH_DEV_NAME

static int g_hfd = -1;		/* /dev/tracer_helper */

/* -H: a "hog" (see above): helper requests until killed. */
static void *hog_loop(void *p)
{
	static const uint32_t ops[] = {
		TTH_OP_KMALLOC_VAR, TTH_OP_MUTEX, TTH_OP_SEMA, TTH_OP_SCHEDULE,
		TTH_OP_KMALLOC_LARGE_VAR, TTH_OP_SOFTIRQ, TTH_OP_KFREE_NULL,
	};
	struct tth_req r;
	unsigned int i;

	(void)p;
	for (i = 0;; i++) {
		memset(&r, 0, sizeof(r));
		r.op = ops[i % ARRAY_SIZE(ops)];
		r.n = 20;
		r.size = r.op == TTH_OP_KMALLOC_LARGE_VAR ? 9000 : 100;
		if (ioctl(g_hfd, TTH_IOC_RUN, &r) && errno != EINTR) {
			fprintf(stderr, "hog: helper: %s\n", strerror(errno));
			exit(1);
		}
	}
	return NULL;
}

/* With -f: a thread of the hog forks short-lived children (followed when
 * the hog was added with TRACER_FOLLOW_FORKS) until killed.
 */
static void *hog_churn(void *p)
{
	struct tth_req r = { .op = TTH_OP_KMALLOC_VAR, .n = 10, .size = 32 };

	(void)p;
	for (;;) {
		pid_t c = fork();

		if (c == 0) {
			ioctl(g_hfd, TTH_IOC_RUN, &r);
			_exit(0);
		}
		if (c > 0)
			waitpid(c, NULL, 0);
		else
			msleep(10);
	}
	return NULL;
}

static int hog(int nthreads, int churn)
{
	pthread_t t;
	int fd, i;

	g_hfd = open(HELPER_PATH, O_RDWR | O_CLOEXEC);
	fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	if (g_hfd < 0 || fd < 0) {
		fprintf(stderr, "hog: cannot open %s or %s: %s\n", HELPER_PATH,
			DEV_PATH, strerror(errno));
		return 1;
	}
	if (ioctl(fd, TRACER_ADD_PROCESS, (unsigned long)getpid())) {
		fprintf(stderr, "hog: add: %s\n", strerror(errno));
		return 1;
	}
	close(fd);
	for (i = 1; i < nthreads; i++)
		if (pthread_create(&t, NULL, hog_loop, NULL))
			return 1;
	if (churn && pthread_create(&t, NULL, hog_churn, NULL))
		return 1;
	printf("hog ready\n");
	fflush(stdout);
	hog_loop(NULL);
	return 0;
}

/* -a PID...: add these processes with TRACER_FOLLOW_FORKS. */
static int add_pids(int argc, char **argv, int first)
{
	int fd = open(DEV_PATH, O_RDWR | O_CLOEXEC), i, ret = 0;

	if (fd < 0) {
		fprintf(stderr, "tracer_workload: open %s: %s\n", DEV_PATH,
			strerror(errno));
		return 1;
	}
	for (i = first; i < argc; i++) {
		struct tracer_add a = { .pid = atoi(argv[i]),
					.flags = TRACER_FOLLOW_FORKS };

		if (ioctl(fd, TRACER_ADD_PROCESS_EX, &a)) {
			fprintf(stderr, "tracer_workload: add of %s: %s\n",
				argv[i], errname(errno));
			ret = 1;
		}
	}
	close(fd);
	return ret;
}

/* -R secs: the /proc/tracer reader (see above). */
static volatile sig_atomic_t g_reader_stop;

static void reader_stop(int sig)
{
	(void)sig;
	g_reader_stop = 1;
}

static int proc_reader(int secs)
{
	long ok = 0, missing = 0, cut = 0, rows = 0;
	double end = now() + secs;
	char err[256];

	signal(SIGTERM, reader_stop);
	while (!g_reader_stop && now() < end) {
		struct proc_table t;
		size_t len;
		char *buf;
		int fd = open(PROC_PATH, O_RDONLY | O_CLOEXEC);

		if (fd < 0) {
			if (errno != ENOENT) {
				printf("# reader: open %s: %s\n", PROC_PATH,
				       strerror(errno));
				return 1;
			}
			missing++;
			msleep(1);
			continue;
		}
		buf = read_all_fd(fd, &len);
		if (!buf) {
			int e = errno;

			close(fd);
			if (e != EIO) {
				printf("# reader: read %s: %s\n", PROC_PATH,
				       strerror(e));
				return 1;
			}
			cut++;
			continue;
		}
		close(fd);
		if (parse_table(buf, len, &t, err, sizeof(err))) {
			printf("# reader: bad table: %s\n", err);
			return 1;
		}
		rows += t.n;
		free(t.rows);
		free(buf);
		ok++;
	}
	printf("# reader: %ld tables read (%ld rows), %ld times no file, %ld reads cut by an unload\n",
	       ok, rows, missing, cut);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	int opt, hogs = 0, churn = 0, add = 0, reader = 0, nice19 = 0;
	int sleep_only = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((opt = getopt(argc, argv, "H:faR:nP")) != -1) {
		switch (opt) {
		case 'P':
			sleep_only = 1;
			break;
		case 'H':
			hogs = atoi(optarg);
			break;
		case 'f':
			churn = 1;
			break;
		case 'n':
			nice19 = 1;
			break;
		case 'a':
			add = 1;
			break;
		case 'R':
			reader = atoi(optarg);
			break;
		default:
			goto usage;
		}
	}
	while (sleep_only)
		pause();
	if (nice19 && setpriority(PRIO_PROCESS, 0, 19))
		perror("tracer_workload: setpriority");
	if (hogs > 0)
		return hog(hogs, churn);
	if (add)
		return add_pids(argc, argv, optind);
	if (reader > 0)
		return proc_reader(reader);
usage:
	fprintf(stderr,
		"usage: %s [-n] -H nthreads [-f]\n"
		"       %s -a PID...\n"
		"       %s [-n] -R secs\n"
		"       %s -P\n",
		argv[0], argv[0], argv[0], argv[0]);
	return 2;
}
