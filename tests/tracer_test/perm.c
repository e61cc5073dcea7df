// SPDX-License-Identifier: GPL-2.0
/*
 * perm.c - who may do what: the device node's mode; ptrace's rule for a
 * caller without CAP_SYS_ADMIN (its own user and group IDs, no capability
 * it lacks, a dumpable target); CAP_SYS_ADMIN (not the user ID; not in a
 * user namespace of one's own); rows root added are root's; /proc/tracer
 * shows a reader the rows it could monitor (ptrace's read mode)
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

/* Capability changes of as_ids() and sleeper(): CAPS_ONLY keeps exactly
 * these (across the change of IDs), CAPS_WITHOUT all but these.
 */
#define CAPS_ONLY	1
#define CAPS_WITHOUT	2
#define CAP(c)		(1ULL << (c))

struct caps {
	int how;
	uint64_t bits;
	int undumpable;		/* sleeper(): prctl(PR_SET_DUMPABLE, 0) */
};

static int caps_change(const struct caps *c)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];
	int w;

	if (syscall(SYS_capget, &h, d))
		return -1;
	for (w = 0; w < 2; w++) {
		uint32_t bits = (uint32_t)(c->bits >> (32 * w));

		if (c->how == CAPS_ONLY) {
			d[w].effective = d[w].permitted = bits;
			d[w].inheritable = 0;
		} else {
			d[w].effective &= ~bits;
			d[w].permitted &= ~bits;
			d[w].inheritable &= ~bits;
		}
	}
	return syscall(SYS_capset, &h, d) ? -1 : 0;
}

/* Take IDs id and capabilities c (NULL: those a change of IDs leaves). */
static int take_ids(const struct ids *id, const struct caps *c)
{
	if (c && c->how == CAPS_ONLY && prctl(PR_SET_KEEPCAPS, 1))
		return -1;
	return set_ids(id) || (c && c->how && caps_change(c)) ? -1 : 0;
}

/*
 * A process with these IDs (and capabilities, c may be NULL) that sleeps
 * until killed.  Dumpable, as a process that started with those IDs would
 * be, unless c says otherwise: a change of IDs makes it undumpable.
 */
static pid_t sleeper_caps(const struct ids *id, const struct caps *c)
{
	int pfd[2];
	pid_t pid;
	char ch = 0;

	if (pipe(pfd))
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(pfd[0]);
		ch = take_ids(id, c) ||
		     prctl(PR_SET_DUMPABLE, c && c->undumpable ? 0 : 1) ?
		     'e' : 'r';
		if (write(pfd[1], &ch, 1) != 1 || ch == 'e')
			_exit(1);
		for (;;)
			pause();
	}
	close(pfd[1]);
	if (pid > 0 && (read(pfd[0], &ch, 1) != 1 || ch != 'r')) {
		kill(pid, SIGKILL);
		pid = -1;
	}
	close(pfd[0]);
	return pid;
}

static pid_t sleeper(const struct ids *id)
{
	return sleeper_caps(id, NULL);
}

/*
 * Run fn in a child with these IDs (and capability change); its result:
 * 0, -1 or TT_SKIP.  fn reports with failf (shared).
 */
static int as_ids(const struct ids *id, const struct caps *c,
		  int (*fn)(void *), void *arg)
{
	pid_t pid;
	int st;

	fflush(stdout);
	pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		if (take_ids(id, c)) {
			failf("cannot take IDs %d/%d (and capabilities): %s",
			      id->r, id->rg, strerror(errno));
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
	if (as_ids(&ids_nobody, NULL, nonroot_fd, &w.pid) ||
	    row_need(w.pid, NULL))
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
	pid_t undump;		/* all IDs NOBODY, not dumpable */
	pid_t capped;		/* all IDs NOBODY, CAP_NET_RAW permitted */
	pid_t rootfull;		/* all IDs 0, every capability */
	pid_t rootnone;		/* all IDs 0, no capability */
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
	static const struct caps undump = { .undumpable = 1 };
	static const struct caps netraw = { .how = CAPS_ONLY, .bits = CAP(CAP_NET_RAW) };
	static const struct caps none = { .how = CAPS_ONLY, .bits = 0 };

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
	c->undump = sleeper_caps(&ids_nobody, &undump);
	c->capped = sleeper_caps(&ids_nobody, &netraw);
	c->rootfull = sleeper(&ids_root);
	c->rootnone = sleeper_caps(&ids_root, &none);
	c->dead = dead_pid();
	CHECK(c->same > 0 && c->saved0 > 0 && c->ruid0 > 0 && c->gid0 > 0 &&
	      c->egid0 > 0 && c->undump > 0 && c->capped > 0 &&
	      c->rootfull > 0 && c->rootnone > 0 && c->dead > 0,
	      "cannot start the processes");
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
	const struct caps *caps;
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
	return as_ids(&ids_nobody, NULL, perm_eacces, NULL);
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
	/* ptrace's rule beyond the IDs */
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->undump, EPERM,
		 "add of a process of its own that is not dumpable");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->capped, EPERM,
		 "add of a process of its own with a capability it lacks");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->rootnone, EPERM,
		 "add of a root process without capabilities");
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
	static const struct perm_step s[] = { { &ids_nobody, NULL, perm_owner } };

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

/* Root without CAP_SYS_ADMIN or CAP_SYS_PTRACE: ptrace's rule, as anybody. */
static int perm_root_no_caps(void *arg)
{
	struct perm_ctx *c = arg;
	int fd = dev_open(DEV_PATH);

	if (fd < 0)
		return -1;
	PERM_ERR(fd, TRACER_REMOVE_PROCESS, c->root, EPERM,
		 "root without CAP_SYS_ADMIN: remove of a row root added");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->rootfull, EPERM,
		 "root without CAP_SYS_ADMIN, CAP_SYS_PTRACE: add of a root process with capabilities it lacks");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->rootnone, 0,
		 "root without CAP_SYS_ADMIN: add of a root process without capabilities");
	PERM_ERR(fd, TRACER_REMOVE_PROCESS, c->rootnone, 0,
		 "root without CAP_SYS_ADMIN: remove of the row it added");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->same, EPERM,
		 "root without CAP_SYS_ADMIN, CAP_SYS_PTRACE: add of a nobody process");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->ruid0, EPERM,
		 "root without CAP_SYS_ADMIN, CAP_SYS_PTRACE: add of a process with effective UID nobody");
	close(fd);
	return 0;
}

/* CAP_SYS_PTRACE passes ptrace's tests but the ownership of root's rows. */
static int perm_root_ptrace(void *arg)
{
	struct perm_ctx *c = arg;
	int fd = dev_open(DEV_PATH);

	if (fd < 0)
		return -1;
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->same, 0,
		 "CAP_SYS_PTRACE: add of a nobody process");
	PERM_ERR(fd, TRACER_REMOVE_PROCESS, c->same, 0,
		 "CAP_SYS_PTRACE: remove of it");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->undump, 0,
		 "CAP_SYS_PTRACE: add of a process that is not dumpable");
	PERM_ERR(fd, TRACER_REMOVE_PROCESS, c->undump, 0,
		 "CAP_SYS_PTRACE: remove of it");
	PERM_ERR(fd, TRACER_REMOVE_PROCESS, c->root, EPERM,
		 "CAP_SYS_PTRACE: remove of a row root added");
	close(fd);
	return 0;
}

TEST_ONCE(perm_cap_sys_admin, 60)
{
	static const struct caps admin = { .how = CAPS_ONLY, .bits = CAP(CAP_SYS_ADMIN) };
	static const struct caps nocaps = {
		.how = CAPS_WITHOUT,
		.bits = CAP(CAP_SYS_ADMIN) | CAP(CAP_SYS_PTRACE),
	};
	static const struct caps ptrace = { .how = CAPS_WITHOUT, .bits = CAP(CAP_SYS_ADMIN) };
	static const struct perm_step s[] = {
		{ &ids_nobody, &admin, perm_admin },
		{ &ids_root, &nocaps, perm_root_no_caps },
		{ &ids_root, &ptrace, perm_root_ptrace },
	};

	return perm_steps(s, ARRAY_SIZE(s), "after the capability test");
}

/* Its own process, but a row root added: root's to remove. */
static int perm_root_row(void *arg)
{
	struct perm_ctx *c = arg;
	int fd = dev_open(c->node);

	if (fd < 0)
		return -1;
	PERM_ERR(fd, TRACER_REMOVE_PROCESS, c->same, EPERM,
		 "remove of its own process that root added");
	PERM_ERR(fd, TRACER_ADD_PROCESS, c->same, EEXIST,
		 "add of its own process that root added");
	close(fd);
	return 0;
}

TEST_ONCE(perm_root_rows, 60)
{
	struct perm_ctx c;
	int ret;

	if (perm_setup(&c))
		return -1;
	CHECK_ERR(tr_add(c.same), 0, "root: add of a nobody process");
	ret = as_ids(&ids_nobody, NULL, perm_root_row, &c);
	perm_cleanup(&c);
	if (ret || row_need(c.same, NULL))
		return -1;
	CHECK_ERR(tr_remove(c.same), 0, "root: remove of the nobody process");
	CHECK_ERR(tr_remove(c.root), 0, "remove of the root worker");
	return table_none("after the root rows test");
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
	static const struct perm_step s[] = { { &ids_nobody, NULL, perm_userns } };

	return perm_steps(s, ARRAY_SIZE(s), "after the user namespace test");
}

/*
 * /proc/tracer by ptrace's read mode: a reader sees the rows of the
 * processes it could monitor; CAP_SYS_PTRACE (or CAP_SYS_ADMIN) all.
 */
static int perm_read_own(void *arg)
{
	struct perm_ctx *c = arg;

	return row_need(c->same, NULL) || row_absent(c->root) ||
	       row_absent(c->undump) ? -1 : 0;
}

static int perm_read_all(void *arg)
{
	struct perm_ctx *c = arg;

	return row_need(c->same, NULL) || row_need(c->root, NULL) ||
	       row_need(c->undump, NULL) ? -1 : 0;
}

TEST_ONCE(perm_proc_rows_by_ptrace, 60)
{
	static const struct caps ptrace = { .how = CAPS_ONLY, .bits = CAP(CAP_SYS_PTRACE) };
	static const struct caps admin = { .how = CAPS_ONLY, .bits = CAP(CAP_SYS_ADMIN) };
	struct perm_ctx c;
	int ret;

	if (perm_setup(&c))
		return -1;
	perm_cleanup(&c);
	CHECK_ERR(tr_add(c.same), 0, "add of a nobody process");
	CHECK_ERR(tr_add(c.undump), 0, "add of an undumpable nobody process");
	ret = as_ids(&ids_nobody, NULL, perm_read_own, &c) ||
	      as_ids(&ids_nobody, &ptrace, perm_read_all, &c) ||
	      as_ids(&ids_nobody, &admin, perm_read_all, &c) ||
	      perm_read_all(&c);
	if (ret)
		return -1;
	CHECK_ERR(tr_remove(c.same), 0, "remove");
	CHECK_ERR(tr_remove(c.undump), 0, "remove");
	CHECK_ERR(tr_remove(c.root), 0, "remove of the root worker");
	return table_none("after the read test");
}

/*
 * The set-user-ID exec window: a process of the caller's executes a
 * set-user-ID-root program while the add has checked it and not yet made
 * its row (race_delay widens that window).  The add checks and links under
 * the target's exec lock: it is refused, or the exec takes the row out.
 * Never a row of a privileged process that an unprivileged caller added.
 */
#define SUID_PROG	"/tmp/tracer-suid-sleep"

struct suid_race {
	char node[64];
	pid_t target;
};

static int suid_add(void *arg)
{
	struct suid_race *r = arg;
	int fd = dev_open(r->node), err;

	if (fd < 0)
		return -1;
	err = dev_ioctl(fd, TRACER_ADD_PROCESS, (unsigned int)r->target);
	close(fd);
	CHECK(err == 0 || err == EPERM, "add racing a set-user-ID exec: %s",
	      errname(err));
	return 0;
}

/* Its effective UID is 0: the exec happened. */
static int euid_root(pid_t pid)
{
	char path[64], buf[1024], *p;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	for (i = 0; i < 500; i++) {
		if (read_file(path, buf, sizeof(buf)) > 0 &&
		    (p = strstr(buf, "\nUid:")) &&
		    strtol(strchr(p + 5, '\t') + 1, &p, 10) == NOBODY &&
		    strtol(p, NULL, 10) == 0)
			return 1;
		msleep(10);
	}
	return 0;
}

TEST_ONCE(perm_setuid_exec_race, 60)
{
	char self[256], prog[512], *slash, ch;
	struct suid_race r;
	struct perm_ctx c;
	int pfd[2], ready[2], ret, st;
	pid_t starter;
	ssize_t n;

	if (access(RACE_DELAY_PATH, F_OK))
		SKIP("no %s: not the debug build", RACE_DELAY_PATH);
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	CHECK(n > 0, "readlink: %s", strerror(errno));
	self[n] = 0;
	slash = strrchr(self, '/');
	*slash = 0;
	snprintf(prog, sizeof(prog), "cp %s/tracer_workload %s && chown 0:0 %s && chmod 4755 %s",
		 self, SUID_PROG, SUID_PROG, SUID_PROG);
	CHECK(!system(prog), "cannot make %s", SUID_PROG);
	if (perm_setup(&c))
		return -1;
	memcpy(r.node, c.node, sizeof(r.node));
	CHECK(!pipe(pfd) && !pipe(ready), "pipe");
	fflush(stdout);
	r.target = fork();
	CHECK(r.target >= 0, "fork");
	if (r.target == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(pfd[1]);
		close(ready[0]);
		if (take_ids(&ids_nobody, NULL) || prctl(PR_SET_DUMPABLE, 1) ||
		    write(ready[1], "x", 1) != 1)
			_exit(1);
		if (read(pfd[0], &ch, 1) != 1)
			_exit(1);
		execl(SUID_PROG, SUID_PROG, "-P", (char *)NULL);
		_exit(1);
	}
	close(pfd[0]);
	close(ready[1]);
	/* The add must find the target already nobody's, or it is refused. */
	n = read(ready[0], &ch, 1);
	close(ready[0]);
	CHECK(n == 1, "the target could not take the IDs of nobody");
	if (race_delay("add_checked", 1000))
		return -1;
	/*
	 * The exec starts once the add has checked the target and waits
	 * (1 s) before linking: without the exec lock it ends in that window
	 * whatever the load; with it, it waits for the link.
	 */
	fflush(stdout);
	starter = fork();
	CHECK(starter >= 0, "fork");
	if (starter == 0)
		_exit(race_waiting("add_checked", 10000) != 1 ||
		      write(pfd[1], "x", 1) != 1);
	close(pfd[1]);
	ret = as_ids(&ids_nobody, NULL, suid_add, &r);
	race_delay("add_checked", 0);
	st = -1;
	waitpid(starter, &st, 0);
	perm_cleanup(&c);
	if (!ret && st) {
		failf("the add never waited in add_checked (starter status %#x)",
		      st);
		ret = -1;
	}
	if (ret) {
		unlink(SUID_PROG);
		return ret;
	}
	/* The exec opens the program only once it has the exec lock. */
	ret = euid_root(r.target);
	unlink(SUID_PROG);
	CHECK(ret, "the target never ran set-user-ID root");
	/* Its credentials show before the exec hook has run: give it time. */
	if (row_wait(r.target, 0, "set-user-ID exec"))
		return -1;
	kill(r.target, SIGKILL);
	if (reap(r.target))
		return -1;
	CHECK_ERR(tr_remove(c.root), 0, "remove of the root worker");
	return table_none("after the exec race");
}
