// SPDX-License-Identifier: GPL-2.0
/*
 * perm.c - who may do what: the device node's mode, the owner rule (a
 * user without privileges monitors its own processes only, whatever their
 * other IDs), CAP_SYS_ADMIN (not the user ID; not in a user namespace of
 * one's own), /proc/tracer readable by all
 */
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "suite.h"

#define NOBODY 65534

struct ids {
	uid_t r, e, s;
	gid_t rg, eg, sg;
};

static const struct ids ids_nobody = { NOBODY, NOBODY, NOBODY, NOBODY,
	NOBODY, NOBODY };
static const struct ids ids_root = { 0, 0, 0, 0, 0, 0 };

static int set_ids(const struct ids *id)
{
	return setgroups(0, NULL) || setresgid(id->rg, id->eg, id->sg) ||
	       setresuid(id->r, id->e, id->s) ? -1 : 0;
}

#define CAPS_KEEP_ADMIN	1
#define CAPS_DROP_ADMIN	2

static int caps_admin(int how)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];
	uint32_t bit = 1U << (CAP_SYS_ADMIN % 32);
	int w = CAP_SYS_ADMIN / 32;

	if (syscall(SYS_capget, &h, d))
		return -1;
	if (how == CAPS_KEEP_ADMIN) {
		memset(d, 0, sizeof(d));
		d[w].effective = d[w].permitted = bit;
	} else {
		d[w].effective &= ~bit;
		d[w].permitted &= ~bit;
		d[w].inheritable &= ~bit;
	}
	return syscall(SYS_capset, &h, d) ? -1 : 0;
}

/* A process with these IDs that sleeps until killed. */
static pid_t sleeper(const struct ids *id)
{
	int pfd[2];
	pid_t pid;
	char c = 0;

	if (pipe(pfd))
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(pfd[0]);
		c = set_ids(id) ? 'e' : 'r';
		if (write(pfd[1], &c, 1) != 1 || c == 'e')
			_exit(1);
		for (;;)
			pause();
	}
	close(pfd[1]);
	if (pid > 0 && (read(pfd[0], &c, 1) != 1 || c != 'r')) {
		kill(pid, SIGKILL);
		pid = -1;
	}
	close(pfd[0]);
	return pid;
}

/*
 * Run fn in a child with these IDs (and capability change); its result:
 * 0, -1 or TT_SKIP.  fn reports with failf (shared).
 */
static int as_ids(const struct ids *id, int caps, int (*fn)(void *), void *arg)
{
	pid_t pid;
	int st;

	fflush(stdout);
	pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		if (caps == CAPS_KEEP_ADMIN && prctl(PR_SET_KEEPCAPS, 1))
			_exit(5);
		if (set_ids(id)) {
			failf("cannot take IDs %d/%d: %s", id->r, id->rg,
			      strerror(errno));
			_exit(1);
		}
		if (caps && caps_admin(caps)) {
			failf("capset: %s", strerror(errno));
			_exit(1);
		}
		st = fn(arg);
		_exit(st == TT_SKIP ? TT_SKIP : st ? 1 : 0);
	}
	CHECK(waitpid(pid, &st, 0) == pid, "waitpid");
	CHECK(WIFEXITED(st), "child killed by signal %d", WTERMSIG(st));
	return WEXITSTATUS(st) == TT_SKIP ? TT_SKIP : WEXITSTATUS(st) ? -1 : 0;
}

/* A non-root process (with a /dev/tracer fd opened by root) may monitor
 * only its own processes.
 */
static int nonroot_fd(void *arg)
{
	pid_t root = *(pid_t *)arg;

	CHECK_ERR(tr_add(root), EPERM, "non-root add of a root process");
	CHECK_ERR(tr_remove(root), EPERM, "non-root remove of a root process");
	CHECK_ERR(tr_add(getpid()), 0, "non-root add of itself");
	CHECK_ERR(tr_remove(getpid()), 0, "non-root remove of itself");
	return 0;
}

TEST(eperm_non_root, 30)
{
	struct worker w;

	if (worker_start(&w, 1))
		return -1;
	CHECK_ERR(tr_add(w.pid), 0, "add root worker");
	if (as_ids(&ids_nobody, 0, nonroot_fd, &w.pid) || row_need(w.pid, NULL))
		return -1;
	worker_kill(&w);
	return 0;
}


struct perm_ctx {
	char node[64];		/* a 0666 node of /dev/tracer */
	char dir[48];
	pid_t root;		/* a root process, monitored by root */
	pid_t same;		/* all IDs NOBODY */
	pid_t saved0;		/* NOBODY, but saved UID 0 */
	pid_t ruid0;		/* real UID 0, effective and saved NOBODY */
	pid_t gid0;		/* UIDs NOBODY, GIDs 0 */
	pid_t egid0;		/* UIDs NOBODY, effective GID 0 */
	pid_t dead;
	struct worker rw;
};

static int perm_setup(struct perm_ctx *c)
{
	static const struct ids saved0 = { NOBODY, NOBODY, 0, NOBODY, NOBODY,
		NOBODY };
	static const struct ids ruid0 = { 0, NOBODY, NOBODY, NOBODY, NOBODY,
		NOBODY };
	static const struct ids gid0 = { NOBODY, NOBODY, NOBODY, 0, 0, 0 };
	static const struct ids egid0 = { NOBODY, NOBODY, NOBODY, NOBODY, 0,
		NOBODY };

	memset(c, 0, sizeof(*c));
	snprintf(c->dir, sizeof(c->dir), "/tmp/tracer-perm.%d", getpid());
	snprintf(c->node, sizeof(c->node), "%s/tracer", c->dir);
	CHECK(!mkdir(c->dir, 0755) || errno == EEXIST, "mkdir %s: %s", c->dir,
	      strerror(errno));
	CHECK(!chmod(c->dir, 0755), "chmod");
	unlink(c->node);
	CHECK(!mknod(c->node, S_IFCHR | 0666, makedev(10, TRACER_DEV_MINOR)),
	      "mknod %s: %s", c->node, strerror(errno));
	CHECK(!chmod(c->node, 0666), "chmod %s", c->node);
	if (worker_start(&c->rw, 1))
		return -1;
	c->root = c->rw.pid;
	CHECK_ERR(tr_add(c->root), 0, "add of the root worker");
	c->same = sleeper(&ids_nobody);
	c->saved0 = sleeper(&saved0);
	c->ruid0 = sleeper(&ruid0);
	c->gid0 = sleeper(&gid0);
	c->egid0 = sleeper(&egid0);
	c->dead = dead_pid();
	CHECK(c->same > 0 && c->saved0 > 0 && c->ruid0 > 0 && c->gid0 > 0 &&
	      c->egid0 > 0 && c->dead > 0, "cannot start the processes");
	return 0;
}

static void perm_cleanup(struct perm_ctx *c)
{
	unlink(c->node);
	rmdir(c->dir);
}

/*
 * Each step runs in a child with its IDs, with the same processes around;
 * after them, root's row is there, nobody else's, and none is left once
 * root's is removed.
 */
struct perm_step {
	const struct ids *id;
	int caps;
	int (*fn)(void *c);
};

static int perm_steps(const struct perm_step *s, int n, const char *what)
{
	struct perm_ctx c;
	int i, ret = 0;

	if (perm_setup(&c))
		return -1;
	for (i = 0; i < n && !ret; i++)
		ret = as_ids(s[i].id, s[i].caps, s[i].fn, &c);
	perm_cleanup(&c);
	if (ret)
		return ret;
	if (row_need(c.root, NULL) || row_absent(c.same) || row_absent(c.saved0))
		return -1;
	CHECK_ERR(tr_remove(c.root), 0, "remove of the root worker");
	return table_none(what);
}

#define PERM_ERR(fd, req, pid, want, what)				\
	CHECK_ERR(dev_ioctl(fd, req, (unsigned int)(pid)), want,	\
		  "uid %d: " what, getuid())

/* /dev/tracer is root's, mode 0600: anybody else gets EACCES. */
static int perm_eacces(void *arg)
{
	static const int modes[] = { O_RDWR, O_RDONLY, O_WRONLY };
	size_t i;
	int fd;

	(void)arg;
	for (i = 0; i < ARRAY_SIZE(modes); i++) {
		errno = 0;
		fd = open(DEV_PATH, modes[i] | O_CLOEXEC);
		if (fd >= 0 || errno != EACCES) {
			failf("non-root open of %s (flags %d): %s, expected EACCES",
			      DEV_PATH, modes[i], fd >= 0 ? "opened" : strerror(errno));
			return -1;
		}
	}
	return 0;
}

TEST_ONCE(perm_dev_node_0600, 30)
{
	struct stat st;

	CHECK(!stat(DEV_PATH, &st), "stat: %s", strerror(errno));
	CHECK(S_ISCHR(st.st_mode) && (st.st_mode & 07777) == 0600 &&
	      st.st_uid == 0 && st.st_gid == 0,
	      "%s: mode %o uid %d gid %d, expected char device 0600 root:root",
	      DEV_PATH, st.st_mode, st.st_uid, st.st_gid);
	return as_ids(&ids_nobody, 0, perm_eacces, NULL);
}

/* A user without privileges, with the device open: its own processes only. */
static int perm_owner(void *arg)
{
	struct perm_ctx *c = arg;
	int fd = dev_open(c->node);

	if (fd < 0)
		return -1;
	PERM_ERR(fd, TRACER_ADD_PROCESS, getpid(), 0, "add of itself");
	PERM_ERR(fd, TRACER_ADD_PROCESS, getpid(), EEXIST, "add of itself again");
	PERM_ERR(fd, TRACER_REMOVE_PROCESS, getpid(), 0, "remove of itself");
	PERM_ERR(fd, TRACER_REMOVE_PROCESS, getpid(), ENOENT, "remove of itself again");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->same, 0, "add of a process of its own");
	PERM_ERR(fd, TRACER_REMOVE_PROCESS, c->same, 0, "remove of a process of its own");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->root, EPERM, "add of a root process");
	PERM_ERR(fd, TRACER_REMOVE_PROCESS, c->root, EPERM,
		 "remove of a root process monitored by root");
	PERM_ERR(fd, TRACER_ADD_PROCESS, 1, EPERM, "add of init");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->saved0, EPERM,
		 "add of a process with saved UID 0");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->ruid0, EPERM,
		 "add of a process with real UID 0");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->gid0, EPERM,
		 "add of a process with GID 0");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->egid0, EPERM,
		 "add of a process with effective GID 0");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->dead, ESRCH, "add of a dead PID");
	PERM_ERR(fd, TRACER_ADD_PROCESS, 0, EINVAL, "add of PID 0");
	CHECK_ERR(ex_add(fd, getpid(), TRACER_ADD_FLAGS), 0, "EX add of itself");
	PERM_ERR(fd, TRACER_REMOVE_PROCESS, getpid(), 0, "remove after EX");
	CHECK_ERR(ex_add(fd, c->root, TRACER_ADD_FLAGS), EPERM,
		  "EX add of a root process");
	close(fd);
	return 0;
}

TEST_ONCE(perm_owner_only, 60)
{
	static const struct perm_step s[] = { { &ids_nobody, 0, perm_owner } };

	return perm_steps(s, ARRAY_SIZE(s), "after the permission test");
}

/* CAP_SYS_ADMIN, not the user ID, lets one monitor anybody. */
static int perm_admin(void *arg)
{
	struct perm_ctx *c = arg;
	int fd = dev_open(c->node);

	if (fd < 0)
		return -1;
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->saved0, 0,
		 "add of a saved-UID-0 process with CAP_SYS_ADMIN");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->root, EEXIST,
		 "add of the monitored root process with CAP_SYS_ADMIN");
	PERM_ERR(fd, TRACER_REMOVE_PROCESS, c->root, 0,
		 "remove of a root process with CAP_SYS_ADMIN");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->root, 0,
		 "add of a root process with CAP_SYS_ADMIN");
	PERM_ERR(fd, TRACER_REMOVE_PROCESS, c->saved0, 0, "remove");
	close(fd);
	return 0;
}

static int perm_root_no_admin(void *arg)
{
	struct perm_ctx *c = arg;
	int fd = dev_open(DEV_PATH);

	if (fd < 0)
		return -1;
	PERM_ERR(fd, TRACER_REMOVE_PROCESS, c->root, 0,
		 "root without CAP_SYS_ADMIN: remove of a root process");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->root, 0,
		 "root without CAP_SYS_ADMIN: add of a root process");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->same, EPERM,
		 "root without CAP_SYS_ADMIN: add of a nobody process");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->ruid0, EPERM,
		 "root without CAP_SYS_ADMIN: add of a process with effective UID nobody");
	close(fd);
	return 0;
}

TEST_ONCE(perm_cap_sys_admin, 60)
{
	static const struct perm_step s[] = {
		{ &ids_nobody, CAPS_KEEP_ADMIN, perm_admin },
		{ &ids_root, CAPS_DROP_ADMIN, perm_root_no_admin },
	};

	return perm_steps(s, ARRAY_SIZE(s), "after the capability test");
}

/* CAP_SYS_ADMIN in a user namespace of one's own is not enough. */
static int perm_userns(void *arg)
{
	struct perm_ctx *c = arg;
	int fd;

	if (unshare(CLONE_NEWUSER)) {
		if (errno == EPERM || errno == EINVAL || errno == ENOSPC ||
		    errno == EUSERS)
			SKIP("unprivileged user namespaces are not available here");
		failf("unshare(CLONE_NEWUSER): %s", strerror(errno));
		return -1;
	}
	fd = dev_open(c->node);
	if (fd < 0)
		return -1;
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->root, EPERM,
		 "add of a root process from a user namespace");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->saved0, EPERM,
		 "add of a saved-UID-0 process from a user namespace");
	PERM_ERR(fd, TRACER_ADD_PROCESS, getpid(), 0,
		 "add of itself from a user namespace");
	PERM_ERR(fd, TRACER_REMOVE_PROCESS, getpid(), 0,
		 "remove of itself from a user namespace");
	close(fd);
	return 0;
}

TEST_ONCE(perm_user_namespace, 60)
{
	static const struct perm_step s[] = { { &ids_nobody, 0, perm_userns } };

	return perm_steps(s, ARRAY_SIZE(s), "after the user namespace test");
}

/* Everybody may read /proc/tracer, and sees every row. */
static int perm_read(void *arg)
{
	struct perm_ctx *c = arg;

	return row_need(c->root, NULL);
}

TEST_ONCE(perm_proc_readable_by_all, 60)
{
	static const struct perm_step s[] = { { &ids_nobody, 0, perm_read } };

	return perm_steps(s, ARRAY_SIZE(s), "after the read test");
}
