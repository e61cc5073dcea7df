// SPDX-License-Identifier: GPL-2.0
/*
 * hooks.c - the process lifecycle hooks: fork, exec and exit
 *
 * Probes on the sched_process_fork, sched_process_exec and
 * sched_process_exit tracepoints keep the table true as processes come and
 * go: a followed process's children join it, a process that gains
 * privileges at exec leaves it unless root added it, and a process whose
 * last thread exits leaves it (its final row reported to its session, if
 * it asked).  They run for every process on the machine and leave at once
 * while nothing is monitored.
 */
#include <linux/binfmts.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/tracepoint.h>

#include "internal.h"
#include "compat.h"
#include "uapi/tracer.h"

/*
 * sched_process_exit runs for every exiting thread after it has dropped
 * signal->live; the thread that finds it zero ends its thread group.  The
 * filter comes next, read after that atomic_dec_and_test() (a full
 * barrier): an add that found the group alive had published the filter
 * slot before it looked (tracer_procs_add()), so either the add sees the
 * group dead, or this sees the slot taken and waits for the lock.
 */
static void tracer_task_exit(struct task_struct *task)
{
	struct tracer_proc *p;

	if (atomic_read(&task->signal->live) || !tracer_maybe_tgid(task->tgid))
		return;

	raw_spin_lock(&tracer_procs_lock);
	p = tracer_proc_find(task_tgid(task));
	if (p)
		tracer_session_report_exit(p, task);
	raw_spin_unlock(&tracer_procs_lock);
}

static void tracer_exit_probe(void *data, struct task_struct *task)
{
	tracer_task_exit(task);
}

static void tracer_exit_probe_gd(void *data, struct task_struct *task,
				 bool group_dead)
{
	tracer_task_exit(task);
}

/*
 * A monitored process execs a program that raises its privileges (setuid,
 * setgid, file capabilities): unless CAP_SYS_ADMIN added it, the owner who
 * did may no longer watch it, so it leaves the table (with no report).
 */
static void tracer_exec_probe(void *data, struct task_struct *task,
			      pid_t old_pid, struct linux_binprm *bprm)
{
	struct tracer_proc *p;

	if (!bprm->secureexec || !tracer_maybe_tgid(task->tgid))
		return;
	raw_spin_lock(&tracer_procs_lock);
	p = tracer_proc_find(task_tgid(task));
	if (p && !(p->flags & TRACER_PRIVILEGED))
		tracer_proc_unlink(p);
	raw_spin_unlock(&tracer_procs_lock);
}

/* A followed process forked: add the child process. */
static void tracer_fork_follow(struct task_struct *parent,
			       struct task_struct *child)
{
	struct tracer_proc *p, *c;
	struct pid *tgid;

	rcu_read_lock();
	p = tracer_proc_find(task_tgid(parent));
	if (!p || !(p->flags & TRACER_FOLLOW_FORKS)) {
		rcu_read_unlock();
		return;
	}
	rcu_read_unlock();

	tgid = task_tgid(child);
	raw_spin_lock(&tracer_procs_lock);
	/* Look again under the lock: the parent may have been removed. */
	p = tracer_proc_find(task_tgid(parent));
	if (p && !tracer_proc_find(tgid)) {
		c = p->session ? tracer_session_entry(p->session, true) :
				 tracer_proc_alloc_atomic();
		if (c)
			tracer_proc_link(c, tgid, p->flags, p->session,
					 p->session && !p->session->closed ?
					 pid_nr_ns(p->pid, p->session->ns) : 0);
		else
			atomic_long_inc(&tracer_follow_missed);
	}
	raw_spin_unlock(&tracer_procs_lock);
}

/*
 * A process forked (not a new thread): its child joins the table if the
 * parent is followed, or if it was born in a monitored cgroup.
 */
static void tracer_fork_probe(void *data, struct task_struct *parent,
			      struct task_struct *child)
{
	if (!thread_group_leader(child))
		return;
	if (tracer_maybe_tgid(parent->tgid))
		tracer_fork_follow(parent, child);
	tracer_cgroup_fork(child);
}

static struct tracer_tp_hook tracer_hooks[] = {
	{ .name = "sched_process_exit" },	/* fn: by the kernel's prototype */
	{ .name = "sched_process_fork", .fn = tracer_fork_probe },
	{ .name = "sched_process_exec", .fn = tracer_exec_probe },
};

int tracer_hooks_init(void)
{
	int ret;

	BUILD_BUG_ON(!TRACER_TP_PROTO_IS(sched_process_fork, tracer_fork_probe));
	BUILD_BUG_ON(!TRACER_TP_PROTO_IS(sched_process_exec, tracer_exec_probe));
	BUILD_BUG_ON(!TRACER_EXIT_HAS_GROUP_DEAD &&
		     !TRACER_TP_PROTO_IS(sched_process_exit, tracer_exit_probe));
	BUILD_BUG_ON(TRACER_EXIT_HAS_GROUP_DEAD &&
		     !TRACER_TP_PROTO_IS(sched_process_exit,
					 tracer_exit_probe_gd));

	tracer_hooks[0].fn = TRACER_EXIT_HAS_GROUP_DEAD ?
		(void *)tracer_exit_probe_gd : (void *)tracer_exit_probe;
	ret = tracer_tp_hook(tracer_hooks, ARRAY_SIZE(tracer_hooks));
	if (ret)
		pr_err("cannot hook process fork/exec/exit (sched_process_* tracepoints): %d\n",
		       ret);
	return ret;
}

/* After this, no hook runs any more. */
void tracer_hooks_exit(void)
{
	tracer_tp_unhook(tracer_hooks, ARRAY_SIZE(tracer_hooks));
}
