// SPDX-License-Identifier: GPL-2.0
/*
 * perm.c - who may monitor, and see, which process
 *
 * The rule is ptrace's, the kernel's own answer to "may this caller watch
 * that process": __ptrace_may_access() in kernel/ptrace.c with the
 * capability check of security/commoncap.c (cap_ptrace_access_check()),
 * less the other LSM hooks (Yama, SELinux, ...), which a module cannot
 * call.  A caller may watch a process when
 *   - it is the caller's own process, or
 *   - every user and group ID of the target (real, effective, saved) is the
 *     caller's, and the target's permitted capabilities are a subset of
 *     the caller's (in the same user namespace), and the target is
 *     dumpable (not a set-user-ID program's image, no
 *     prctl(PR_SET_DUMPABLE, 0)),
 * where a caller with CAP_SYS_PTRACE in the target's user namespace passes
 * each test but the first.  Monitoring (add, remove) is ptrace's attach
 * mode: the caller's real IDs and permitted capabilities, an audited
 * capability check.  Seeing a row of /proc/tracer is its read mode, as for
 * /proc/PID/io: file-system IDs and effective capabilities, no audit
 * record (a reader looks at many rows).
 *
 * CAP_SYS_ADMIN (in the initial user namespace) may do anything; it is
 * tested only when the rule says no, or to tag a row as root's.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/user_namespace.h>

#include "internal.h"
#include "compat.h"

static bool tracer_has_ptrace_cap(struct user_namespace *ns, bool read)
{
	return read ? ns_capable_noaudit(ns, CAP_SYS_PTRACE) :
		      ns_capable(ns, CAP_SYS_PTRACE);
}

/* ptrace's answer for @task, in attach mode or, with @read, read mode. */
bool tracer_ptrace_allows(struct task_struct *task, bool read)
{
	const struct cred *cred = current_cred(), *tcred;
	const kernel_cap_t *caps;
	struct user_namespace *ns;
	kuid_t uid;
	kgid_t gid;
	bool ok;

	if (same_thread_group(task, current))
		return true;
	uid = read ? cred->fsuid : cred->uid;
	gid = read ? cred->fsgid : cred->gid;
	caps = read ? &cred->cap_effective : &cred->cap_permitted;

	rcu_read_lock();
	tcred = __task_cred(task);
	ok = (uid_eq(uid, tcred->euid) && uid_eq(uid, tcred->suid) &&
	      uid_eq(uid, tcred->uid) && gid_eq(gid, tcred->egid) &&
	      gid_eq(gid, tcred->sgid) && gid_eq(gid, tcred->gid)) ||
	     tracer_has_ptrace_cap(tcred->user_ns, read);
	/* commoncap: no capability the caller does not hold itself */
	if (ok && !(cred->user_ns == tcred->user_ns &&
		    cap_issubset(tcred->cap_permitted, *caps)))
		ok = tracer_has_ptrace_cap(tcred->user_ns, read);
	rcu_read_unlock();
	if (!ok)
		return false;

	tracer_exec_lock(task);
	ok = tracer_exec_dumpable(task, &ns) ||
	     tracer_has_ptrace_cap(ns, read);
	tracer_exec_unlock(task);
	return ok;
}

/*
 * May the caller monitor @task?  1: yes, as CAP_SYS_ADMIN (the row is
 * root's); 0: yes, by ptrace's rule; -EPERM: no.  The rule goes first, so
 * that an unprivileged caller who may leaves no audit record of a denied
 * capability.
 */
int tracer_may_monitor(struct task_struct *task)
{
	if (tracer_ptrace_allows(task, false))
		return ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN);
	return capable(CAP_SYS_ADMIN) ? 1 : -EPERM;
}

/* May the caller remove the row of @task, whose flags are @flags? */
int tracer_may_remove(u32 flags, struct task_struct *task)
{
	if (!(flags & TRACER_PRIVILEGED) &&
	    tracer_ptrace_allows(task, false))
		return 0;
	/* A row root added is root's to remove. */
	return capable(CAP_SYS_ADMIN) ? 0 : -EPERM;
}

/* Sees the reader every row of /proc/tracer? */
bool tracer_sees_all(void)
{
	return ns_capable_noaudit(&init_user_ns, CAP_SYS_ADMIN) ||
	       ns_capable_noaudit(&init_user_ns, CAP_SYS_PTRACE);
}
