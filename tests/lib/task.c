// SPDX-License-Identifier: GPL-2.0
/*
 * task.c - processes and what /proc/PID says of them (see suite.h)
 */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "suite.h"

/* /proc/PID/task/TID/name into buf (len bytes): its length, or -1. */
static ssize_t task_file(pid_t pid, pid_t tid, const char *name, char *buf,
			 size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/%s", pid, tid, name);
	return read_file(path, buf, len);
}

char task_state(pid_t pid, pid_t tid)
{
	char buf[512], *p;

	if (task_file(pid, tid, "stat", buf, sizeof(buf)) < 0)
		return 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

long task_nvcsw(pid_t pid, pid_t tid)
{
	char buf[4096], *p;

	if (task_file(pid, tid, "status", buf, sizeof(buf)) < 0)
		return -1;
	p = strstr(buf, "\nvoluntary_ctxt_switches:");
	return p ? strtol(p + 26, NULL, 10) : -1;
}

int wait_thread_exit(pid_t pid, pid_t tid)
{
	double end = now() + 30;
	char s;

	while ((s = task_state(pid, tid)) && s != 'Z' && s != 'X') {
		CHECK(now() < end, "thread %d of %d did not exit", tid, pid);
		msleep(5);
	}
	return 0;
}

int wait_task_state(pid_t pid, char state)
{
	double end = now() + 30;

	while (task_state(pid, pid) != state) {
		CHECK(now() < end, "PID %d not in state %c after 30 s", pid,
		      state);
		msleep(2);
	}
	return 0;
}

int wait_zombie(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	CHECK(!waitid(P_PID, pid, &si, WEXITED | WNOWAIT),
	      "waitid(%d): %s", pid, strerror(errno));
	return 0;
}

int reap(pid_t pid)
{
	int st;

	CHECK(waitpid(pid, &st, 0) == pid, "waitpid(%d): %s", pid,
	      strerror(errno));
	return 0;
}

/* Keep all threads of pid on one CPU: warmed per-CPU caches stay in use. */
int pin(pid_t pid, int cpu)
{
	char path[64];
	cpu_set_t set;
	DIR *d;
	struct dirent *e;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	d = opendir(path);
	CHECK(d, "opendir %s: %s", path, strerror(errno));
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			sched_setaffinity(atoi(e->d_name), sizeof(set), &set);
	closedir(d);
	return 0;
}

pid_t dead_pid(void)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return pid;
}

pid_t make_zombie(void)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(0);
	if (pid > 0 && wait_zombie(pid))
		return -1;
	return pid;
}

int set_next_pid(pid_t pid)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%d", pid - 1);
	CHECK(!write_str("/proc/sys/kernel/ns_last_pid", buf),
	      "cannot write ns_last_pid: %s", strerror(errno));
	return 0;
}

pid_t host_pid_of(pid_t ppid, pid_t nspid)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	pid_t found = 0;

	if (!d)
		return 0;
	while (!found && (de = readdir(d))) {
		char path[300], buf[2048], *p, *q;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/status", de->d_name);
		if (read_file(path, buf, sizeof(buf)) < 0)
			continue;
		p = strstr(buf, "\nPPid:\t");
		q = strstr(buf, "\nNSpid:\t");
		if (!p || !q || atoi(p + 7) != ppid)
			continue;
		q = strchr(q + 1, '\n');
		if (!q)
			continue;
		*q = 0;
		p = strrchr(buf, '\t');
		if (p && atoi(p + 1) == nspid)
			found = atoi(de->d_name);
	}
	closedir(d);
	return found;
}
