// SPDX-License-Identifier: GPL-2.0
/*
 * procs.c - the table of monitored processes
 *
 * Readers (the probes, /proc/tracer) look processes up under RCU; writers
 * (ioctl, process exit) serialise on a raw spinlock, which is legal in every
 * context the exit hook runs in, PREEMPT_RT included.  A process is keyed by
 * the struct pid of its thread group: the entry holds a reference on it, so
 * a new process that is given the same PID number never matches an old row.
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "tracer.h"
#include "compat.h"

#define TRACER_PROCS_BITS 14

static DEFINE_HASHTABLE(tracer_procs, TRACER_PROCS_BITS);
static DEFINE_RAW_SPINLOCK(tracer_procs_lock);
atomic_t tracer_nr_procs = ATOMIC_INIT(0);

static struct tracepoint *tracer_exit_tp;

struct tracer_proc *tracer_proc_find(struct pid *tgid)
{
	struct tracer_proc *p;

	hash_for_each_possible_rcu(tracer_procs, p, node, (unsigned long)tgid)
		if (p->pid == tgid)
			return p;
	return NULL;
}

static void tracer_proc_free_rcu(struct rcu_head *head)
{
	struct tracer_proc *p = container_of(head, struct tracer_proc, rcu);

	put_pid(p->pid);
	kfree(p);
}

/* Unlink @p; tracer_procs_lock held.  Freed after a grace period. */
static void tracer_proc_unlink(struct tracer_proc *p)
{
	hash_del_rcu(&p->node);
	atomic_dec(&tracer_nr_procs);
	call_rcu(&p->rcu, tracer_proc_free_rcu);
}

/*
 * Who may monitor @task: CAP_SYS_ADMIN, or the owner of the target (all of
 * its user and group IDs are the caller's, as ptrace's basic check demands).
 */
static bool tracer_may_monitor(struct task_struct *task)
{
	const struct cred *cred = current_cred(), *tcred;
	bool ok;

	if (capable(CAP_SYS_ADMIN))
		return true;
	rcu_read_lock();
	tcred = __task_cred(task);
	ok = uid_eq(cred->uid, tcred->euid) && uid_eq(cred->uid, tcred->suid) &&
	     uid_eq(cred->uid, tcred->uid) && gid_eq(cred->gid, tcred->egid) &&
	     gid_eq(cred->gid, tcred->sgid) && gid_eq(cred->gid, tcred->gid);
	rcu_read_unlock();
	return ok;
}

/*
 * Resolve a PID number of the caller's namespace to a referenced task.
 * A thread ID resolves to its thread; callers use its thread group.
 */
static int tracer_get_task(pid_t nr, struct task_struct **task)
{
	if (nr <= 0)
		return -EINVAL;
	rcu_read_lock();
	*task = pid_task(find_vpid(nr), PIDTYPE_PID);
	if (*task)
		get_task_struct(*task);
	rcu_read_unlock();
	if (!*task)
		return -ESRCH;
	if (!tracer_may_monitor(*task)) {
		put_task_struct(*task);
		return -EPERM;
	}
	return 0;
}

int tracer_procs_add(pid_t nr)
{
	struct task_struct *task;
	struct tracer_proc *p;
	struct pid *tgid;
	int ret;

	ret = tracer_get_task(nr, &task);
	if (ret)
		return ret;

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p) {
		put_task_struct(task);
		return -ENOMEM;
	}
	tgid = task_tgid(task);

	raw_spin_lock(&tracer_procs_lock);
	if (tracer_proc_find(tgid)) {
		ret = -EEXIST;
	} else if (!atomic_read(&task->signal->live)) {
		/*
		 * Every thread has passed the exit hook's test already: a row
		 * added now would never leave.  The lock orders us after it.
		 */
		ret = -ESRCH;
	} else {
		p->pid = get_pid(tgid);
		hash_add_rcu(tracer_procs, &p->node, (unsigned long)tgid);
		atomic_inc(&tracer_nr_procs);
		p = NULL;
	}
	raw_spin_unlock(&tracer_procs_lock);

	kfree(p);
	put_task_struct(task);
	return ret;
}

int tracer_procs_remove(pid_t nr)
{
	struct task_struct *task;
	struct tracer_proc *p;
	int ret;

	ret = tracer_get_task(nr, &task);
	if (ret)
		return ret;

	raw_spin_lock(&tracer_procs_lock);
	p = tracer_proc_find(task_tgid(task));
	if (p)
		tracer_proc_unlink(p);
	raw_spin_unlock(&tracer_procs_lock);

	put_task_struct(task);
	return p ? 0 : -ENOENT;
}

/* Walk every row; caller holds rcu_read_lock(). */
void tracer_procs_for_each(void (*fn)(struct tracer_proc *p, void *arg),
			   void *arg)
{
	struct tracer_proc *p;
	int bkt;

	hash_for_each_rcu(tracer_procs, bkt, p, node)
		fn(p, arg);
}

/*
 * sched_process_exit runs for every exiting thread after it has dropped
 * signal->live; the thread that finds it zero ends its thread group.
 */
static void tracer_exit_probe(TRACER_SCHED_EXIT_PROTO)
{
	struct tracer_proc *p;

	if (!tracer_active() || atomic_read(&task->signal->live))
		return;

	raw_spin_lock(&tracer_procs_lock);
	p = tracer_proc_find(task_tgid(task));
	if (p)
		tracer_proc_unlink(p);
	raw_spin_unlock(&tracer_procs_lock);
}

int tracer_procs_init(void)
{
	int ret;

	tracer_exit_tp = tracer_find_tracepoint("sched_process_exit");
	if (!tracer_exit_tp) {
		pr_err("tracer: tracepoint sched_process_exit not found\n");
		return -ENOENT;
	}
	ret = tracepoint_probe_register(tracer_exit_tp, tracer_exit_probe,
					NULL);
	if (ret)
		pr_err("tracer: cannot hook sched_process_exit: %d\n", ret);
	return ret;
}

void tracer_procs_exit(void)
{
	struct tracer_proc *p;
	struct hlist_node *tmp;
	int bkt;

	tracepoint_probe_unregister(tracer_exit_tp, tracer_exit_probe, NULL);
	tracepoint_synchronize_unregister();

	raw_spin_lock(&tracer_procs_lock);
	hash_for_each_safe(tracer_procs, bkt, tmp, p, node)
		tracer_proc_unlink(p);
	raw_spin_unlock(&tracer_procs_lock);

	/* The RCU callbacks are this module's code: wait for them. */
	rcu_barrier();
}
