// SPDX-License-Identifier: GPL-2.0
/*
 * ptyrun - run a command on a new pseudo-terminal, type keys into it, and
 * check that it leaves the terminal as it found it (tracerctl watch tests).
 *
 *   ptyrun [-d SECONDS] [-k KEYS]... [-t TIMEOUT] [-s ROWSxCOLS] OUTFILE -- COMMAND [ARG...]
 *
 * Each -k sends KEYS (\ooo octal escapes allowed, e.g. \003 for Ctrl-C)
 * after waiting -d SECONDS (default 1) since the previous one.  Everything
 * the command writes goes to OUTFILE.  When it ends, prints to stderr
 * "ptyrun: termios restored" or "ptyrun: termios changed" and exits with
 * the command's status (128+N for signal N), 124 after TIMEOUT (default 20)
 * seconds, or 120 if the terminal attributes were not restored.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t unescape(const char *s, char *out)
{
	size_t n = 0;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7') {
			int v = 0, i;

			for (i = 1; i <= 3 && s[i] >= '0' && s[i] <= '7'; i++)
				v = v * 8 + (s[i] - '0');
			out[n++] = (char)v;
			s += i;
		} else {
			out[n++] = *s++;
		}
	}
	return n;
}

int main(int argc, char **argv)
{
	double delay = 1, timeout = 20, start, next;
	const char *keys[16];
	int nkeys = 0, ki = 0, c, master, slave, st, out, rows = 24, cols = 100;
	struct termios before, after;
	struct winsize ws;
	pid_t pid;
	char *sname;

	while ((c = getopt(argc, argv, "+d:k:t:s:")) != -1) {
		switch (c) {
		case 'd':
			delay = atof(optarg);
			break;
		case 'k':
			if (nkeys < 16)
				keys[nkeys++] = optarg;
			break;
		case 't':
			timeout = atof(optarg);
			break;
		case 's':
			if (sscanf(optarg, "%dx%d", &rows, &cols) != 2)
				return 2;
			break;
		default:
			return 2;
		}
	}
	if (argc - optind < 2) {
		fprintf(stderr, "usage: ptyrun [-d S] [-k KEYS]... [-t S] [-s RxC] OUT -- CMD...\n");
		return 2;
	}
	out = open(argv[optind], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (out < 0) {
		perror(argv[optind]);
		return 2;
	}
	optind++;
	if (!strcmp(argv[optind], "--"))
		optind++;

	master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) || unlockpt(master) || !(sname = ptsname(master))) {
		perror("ptyrun: pty");
		return 2;
	}
	slave = open(sname, O_RDWR | O_NOCTTY);
	if (slave < 0) {
		perror(sname);
		return 2;
	}
	memset(&ws, 0, sizeof(ws));
	ws.ws_row = (unsigned short)rows;
	ws.ws_col = (unsigned short)cols;
	ioctl(slave, TIOCSWINSZ, &ws);
	tcgetattr(slave, &before);

	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 2;
	}
	if (pid == 0) {
		setsid();
		ioctl(slave, TIOCSCTTY, 0);
		dup2(slave, 0);
		dup2(slave, 1);
		dup2(slave, 2);
		close(master);
		if (slave > 2)
			close(slave);
		setenv("TERM", "xterm", 1);
		execvp(argv[optind], argv + optind);
		_exit(127);
	}
	start = mono();
	next = start + delay;
	for (;;) {
		struct pollfd pfd = { .fd = master, .events = POLLIN };
		char buf[4096];
		double now = mono();
		ssize_t n;
		pid_t w;

		if (ki < nkeys && now >= next) {
			char k[256];
			size_t len = unescape(keys[ki++], k);

			if (write(master, k, len) != (ssize_t)len)
				perror("ptyrun: write");
			next = now + delay;
		}
		if (now - start > timeout) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			fprintf(stderr, "ptyrun: timeout\n");
			return 124;
		}
		if (poll(&pfd, 1, 50) > 0) {
			n = read(master, buf, sizeof(buf));
			if (n > 0 && write(out, buf, (size_t)n) != n)
				perror("ptyrun: output");
		}
		w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
	}
	/* what is left in the pty */
	for (;;) {
		struct pollfd pfd = { .fd = master, .events = POLLIN };
		char buf[4096];
		ssize_t n;

		if (poll(&pfd, 1, 100) <= 0)
			break;
		n = read(master, buf, sizeof(buf));
		if (n <= 0 || write(out, buf, (size_t)n) != n)
			break;
	}
	close(out);
	tcgetattr(slave, &after);
	if (before.c_lflag != after.c_lflag || before.c_iflag != after.c_iflag ||
	    before.c_oflag != after.c_oflag ||
	    memcmp(before.c_cc, after.c_cc, sizeof(before.c_cc))) {
		fprintf(stderr, "ptyrun: termios changed (lflag %o -> %o)\n",
			(unsigned int)before.c_lflag, (unsigned int)after.c_lflag);
		return 120;
	}
	fprintf(stderr, "ptyrun: termios restored\n");
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}
