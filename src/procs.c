// SPDX-License-Identifier: GPL-2.0
/*
 * procs.c - the table of monitored processes
 *
 * Readers (the probes, /proc/tracer) look processes up under RCU; writers
 * (ioctl, fork and exit hooks) serialise on a raw spinlock, which is legal
 * in every context the hooks run in, PREEMPT_RT included.  A process is
 * keyed by the struct pid of its thread group: the entry holds a reference
 * on it, so a new process that is given the same PID number never matches
 * an old row.
 *
 * Entries come from a kmem_cache of their own, never from kmalloc: adding
 * a process charges nothing to anybody's kmalloc count.  The fork hook,
 * which runs with preemption off, takes spare entries from a reserve that
 * a work item refills (on PREEMPT_RT it may not allocate at all).
 */
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/kprobes.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

#include "internal.h"
#include "uapi/tracer.h"

#define TRACER_PROCS_BITS	14
#define TRACER_RESERVE		256

static DEFINE_HASHTABLE(tracer_procs, TRACER_PROCS_BITS);
DEFINE_RAW_SPINLOCK(tracer_procs_lock);
atomic_t tracer_nr_procs = ATOMIC_INIT(0);
u16 tracer_filter[1 << TRACER_FILTER_BITS];

static struct kmem_cache *tracer_proc_cache;
static LLIST_HEAD(tracer_reserve);
static atomic_t tracer_reserve_nr = ATOMIC_INIT(0);
atomic_long_t tracer_follow_missed = ATOMIC_LONG_INIT(0);

struct tracer_proc *tracer_proc_find(struct pid *tgid)
{
	struct tracer_proc *p;

	hash_for_each_possible_rcu(tracer_procs, p, node, (unsigned long)tgid)
		if (p->pid == tgid)
			return p;
	return NULL;
}

NOKPROBE_SYMBOL(tracer_proc_find);

void tracer_proc_free_rcu(struct rcu_head *head)
{
	struct tracer_proc *p = container_of(head, struct tracer_proc, rcu);

	put_pid(p->pid);
	tracer_session_put(p->session);
	kmem_cache_free(tracer_proc_cache, p);
}

static void tracer_reserve_fill(struct work_struct *work)
{
	struct tracer_proc *p;

	while (atomic_read(&tracer_reserve_nr) < TRACER_RESERVE) {
		p = kmem_cache_zalloc(tracer_proc_cache, GFP_KERNEL);
		if (!p)
			return;
		llist_add(&p->reserve, &tracer_reserve);
		atomic_inc(&tracer_reserve_nr);
	}
}

static DECLARE_WORK(tracer_reserve_work, tracer_reserve_fill);

/* An entry for the fork hook; tracer_procs_lock held, preemption off. */
struct tracer_proc *tracer_proc_alloc_atomic(void)
{
	struct llist_node *n;
	struct tracer_proc *p = NULL;

	if (tracer_alloc_fails())
		return NULL;
	n = llist_del_first(&tracer_reserve);
	if (n) {
		atomic_dec(&tracer_reserve_nr);
		p = llist_entry(n, struct tracer_proc, reserve);
		memset(p, 0, sizeof(*p));
	} else if (!IS_ENABLED(CONFIG_PREEMPT_RT)) {
		p = kmem_cache_zalloc(tracer_proc_cache,
				      GFP_NOWAIT | __GFP_NOWARN);
	}
	schedule_work(&tracer_reserve_work);
	return p;
}

/* Count @tgid in or out of the probes' filter; tracer_procs_lock held. */
static void tracer_filter_add(struct pid *tgid, int d)
{
	u16 *f = &tracer_filter[pid_nr(tgid) & (BIT(TRACER_FILTER_BITS) - 1)];

	WRITE_ONCE(*f, *f + d);
}

/* Link a new entry; tracer_procs_lock held. */
void tracer_proc_link(struct tracer_proc *p, struct pid *tgid, u32 flags,
		      struct tracer_session *s, pid_t ppid)
{
	p->pid = get_pid(tgid);
	p->flags = flags;
	p->ppid = ppid;
	if (s && (flags & TRACER_REPORT_EXIT)) {
		refcount_inc(&s->ref);
		p->session = s;
	}
	hash_add_rcu(tracer_procs, &p->node, (unsigned long)tgid);
	tracer_filter_add(tgid, 1);
	atomic_inc(&tracer_nr_procs);
}

/* Take @p out of the table; tracer_procs_lock held. */
void tracer_proc_unhash(struct tracer_proc *p)
{
	tracer_filter_add(p->pid, -1);
	hash_del_rcu(&p->node);
	atomic_dec(&tracer_nr_procs);
}

/* Unlink @p; tracer_procs_lock held.  Freed after a grace period. */
void tracer_proc_unlink(struct tracer_proc *p)
{
	tracer_proc_unhash(p);
	call_rcu(&p->rcu, tracer_proc_free_rcu);
}

/*
 * Who may monitor @task: CAP_SYS_ADMIN (returns 1), or the owner of the
 * target (all of its user and group IDs are the caller's, as ptrace's basic
 * check demands; returns 0).  Else -EPERM.
 */
static int tracer_may_monitor(struct task_struct *task)
{
	const struct cred *cred = current_cred(), *tcred;
	bool ok;

	if (capable(CAP_SYS_ADMIN))
		return 1;
	rcu_read_lock();
	tcred = __task_cred(task);
	ok = uid_eq(cred->uid, tcred->euid) && uid_eq(cred->uid, tcred->suid) &&
	     uid_eq(cred->uid, tcred->uid) && gid_eq(cred->gid, tcred->egid) &&
	     gid_eq(cred->gid, tcred->sgid) && gid_eq(cred->gid, tcred->gid);
	rcu_read_unlock();
	return ok ? 0 : -EPERM;
}

/*
 * Resolve a PID number of the caller's namespace to a referenced task the
 * caller may monitor; returns tracer_may_monitor()'s verdict.  A thread ID
 * resolves to its thread; callers use its thread group.
 */
static int tracer_get_task(pid_t nr, struct task_struct **task)
{
	int ret;

	if (nr <= 0)
		return -EINVAL;
	rcu_read_lock();
	*task = pid_task(find_vpid(nr), PIDTYPE_PID);
	if (*task)
		get_task_struct(*task);
	rcu_read_unlock();
	if (!*task)
		return -ESRCH;
	ret = tracer_may_monitor(*task);
	if (ret < 0)
		put_task_struct(*task);
	return ret;
}

int tracer_procs_add(pid_t nr, u32 flags, struct tracer_session *s)
{
	struct task_struct *task;
	struct tracer_proc *p;
	struct pid *tgid;
	pid_t ppid = 0;
	int ret;

	if (flags & ~TRACER_ADD_FLAGS)
		return -EINVAL;
	ret = tracer_get_task(nr, &task);
	if (ret < 0)
		return ret;
	if (ret)
		flags |= TRACER_PRIVILEGED;
	ret = 0;

	p = tracer_alloc_fails() ? NULL :
		kmem_cache_zalloc(tracer_proc_cache, GFP_KERNEL);
	if (!p) {
		put_task_struct(task);
		return -ENOMEM;
	}
	tgid = task_tgid(task);
	if (s) {
		rcu_read_lock();
		ppid = pid_nr_ns(task_tgid(rcu_dereference(task->real_parent)),
				 s->ns);
		rcu_read_unlock();
	}

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
		tracer_proc_link(p, tgid, flags, s, ppid);
		p = NULL;
	}
	raw_spin_unlock(&tracer_procs_lock);

	if (p)
		kmem_cache_free(tracer_proc_cache, p);
	put_task_struct(task);
	return ret;
}

int tracer_procs_remove(pid_t nr)
{
	struct task_struct *task;
	struct tracer_proc *p;
	int ret;

	ret = tracer_get_task(nr, &task);
	if (ret < 0)
		return ret;

	raw_spin_lock(&tracer_procs_lock);
	p = tracer_proc_find(task_tgid(task));
	if (p)
		tracer_proc_unlink(p);
	raw_spin_unlock(&tracer_procs_lock);

	put_task_struct(task);
	return p ? 0 : -ENOENT;
}

/*
 * Walk every row, in RCU read-side sections of one stretch of buckets each
 * (at most 64 rows or 1024 buckets): a table of 10,000 rows never holds a
 * CPU or a grace period for long, and the walk may sleep in between.  The
 * probes and the writers never wait for it.  A row added or removed during
 * the walk may or may not be seen; none is seen twice.  May sleep.
 */
void tracer_procs_for_each(void (*fn)(struct tracer_proc *p, void *arg),
			   void *arg)
{
	unsigned int bkt, rows = 0;
	struct tracer_proc *p;

	rcu_read_lock();
	for (bkt = 0; bkt < HASH_SIZE(tracer_procs); bkt++) {
		hlist_for_each_entry_rcu(p, &tracer_procs[bkt], node) {
			fn(p, arg);
			rows++;
		}
		if (rows >= 64 || !((bkt + 1) % 1024)) {
			rcu_read_unlock();
			cond_resched();
			rcu_read_lock();
			rows = 0;
		}
	}
	rcu_read_unlock();
}

/*
 * Processes a followed process forked that could not be added, and exit
 * reports dropped because their file had max_reports unread.
 */
unsigned long tracer_procs_missed(void)
{
	return atomic_long_read(&tracer_follow_missed) +
	       tracer_session_dropped();
}

/* Empty the reserve and destroy the cache; nothing else uses them. */
static void tracer_procs_free_cache(void)
{
	struct tracer_proc *p, *tmp;
	struct llist_node *n;

	cancel_work_sync(&tracer_reserve_work);
	n = llist_del_all(&tracer_reserve);
	llist_for_each_entry_safe(p, tmp, n, reserve)
		kmem_cache_free(tracer_proc_cache, p);
	atomic_set(&tracer_reserve_nr, 0);
	kmem_cache_destroy(tracer_proc_cache);
}

int tracer_procs_init(void)
{
	BUILD_BUG_ON(TRACER_NR_COUNTERS != TRACER_NR_COLUMNS);
	tracer_proc_cache = KMEM_CACHE(tracer_proc, 0);
	if (!tracer_proc_cache)
		return -ENOMEM;
	tracer_reserve_fill(NULL);
	return 0;
}

/* Empty the table; the hooks are gone already. */
void tracer_procs_exit(void)
{
	struct tracer_proc *p;
	struct hlist_node *tmp;
	int bkt;

	raw_spin_lock(&tracer_procs_lock);
	hash_for_each_safe(tracer_procs, bkt, tmp, p, node)
		tracer_proc_unlink(p);
	raw_spin_unlock(&tracer_procs_lock);

	/* The RCU callbacks are this module's code and use the cache. */
	rcu_barrier();
	tracer_procs_free_cache();
}
