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

#define TRACER_RESERVE		256

DEFINE_HASHTABLE(tracer_procs, TRACER_PROCS_BITS);
DEFINE_RAW_SPINLOCK(tracer_procs_lock);
atomic_t tracer_nr_procs = ATOMIC_INIT(0);
u16 tracer_filter[1 << TRACER_FILTER_BITS];

struct kmem_cache *tracer_proc_cache;
struct workqueue_struct *tracer_wq;
static LLIST_HEAD(tracer_reserve);
static atomic_t tracer_reserve_nr = ATOMIC_INIT(0);
atomic_long_t tracer_follow_missed = ATOMIC_LONG_INIT(0);

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
	queue_work(tracer_wq, &tracer_reserve_work);
	return p;
}

/* Count @tgid in or out of the probes' filter; tracer_procs_lock held. */
static void tracer_filter_add(struct pid *tgid, int d)
{
	u16 *f = &tracer_filter[pid_nr(tgid) & (BIT(TRACER_FILTER_BITS) - 1)];

	WRITE_ONCE(*f, *f + d);
}

/* Link a new entry, its filter slot counted already; lock held. */
static void __tracer_proc_link(struct tracer_proc *p, struct pid *tgid,
			       u32 flags, struct tracer_session *s, pid_t ppid)
{
	p->pid = get_pid(tgid);
	p->flags = flags;
	p->ppid = ppid;
	if (s && (flags & TRACER_REPORT_EXIT)) {
		refcount_inc(&s->ref);
		p->session = s;
	}
	if (p->cg)
		atomic_inc(&p->cg->nr_procs);
	hash_add_rcu(tracer_procs, &p->node, (unsigned long)tgid);
	atomic_inc(&tracer_nr_procs);
}

/* Link a new entry; tracer_procs_lock held. */
void tracer_proc_link(struct tracer_proc *p, struct pid *tgid, u32 flags,
		      struct tracer_session *s, pid_t ppid)
{
	tracer_filter_add(tgid, 1);
	__tracer_proc_link(p, tgid, flags, s, ppid);
}

/*
 * Nothing is monitored any more: the records of blocks monitored processes
 * never freed would keep every kfree in the probes' slow path.  Empty the
 * allocation map, unless a process was added meanwhile.
 */
static void tracer_procs_drain(struct work_struct *work)
{
	mutex_lock(&tracer_map_mutex);
	if (!atomic_read(&tracer_nr_procs) && !atomic_read(&tracer_nr_cgroups)) {
		tracer_race_delay(TRACER_RACE_DRAIN);
		tracer_map_drain();
	}
	mutex_unlock(&tracer_map_mutex);
}

static DECLARE_WORK(tracer_drain_work, tracer_procs_drain);

/*
 * Maybe nothing is monitored any more: drain the map, later, if so.  Rows
 * come only through tracer_procs_add() and the cgroup hooks; both are
 * excluded while it drains (the map mutex; a monitored cgroup keeps it
 * from draining).
 */
void tracer_procs_idle(void)
{
	queue_work(tracer_wq, &tracer_drain_work);
}

/* Take @p out of the table; tracer_procs_lock held. */
void tracer_proc_unhash(struct tracer_proc *p)
{
	tracer_filter_add(p->pid, -1);
	if (p->cg)
		atomic_dec(&p->cg->nr_procs);
	hash_del_rcu(&p->node);
	if (atomic_dec_and_test(&tracer_nr_procs))
		tracer_procs_idle();
}

/* Unlink @p; tracer_procs_lock held.  Freed after a grace period. */
void tracer_proc_unlink(struct tracer_proc *p)
{
	tracer_proc_unhash(p);
	call_rcu(&p->rcu, tracer_proc_free_rcu);
}

/*
 * Resolve a PID number of the caller's namespace to a referenced task.  A
 * thread ID resolves to its thread; callers use its thread group.
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
	return *task ? 0 : -ESRCH;
}

/*
 * Link @p for @task's thread group unless it is monitored already or has
 * ended; tracer_procs_lock held.  The filter slot is published before the
 * group's liveness is read, with a full barrier: the exit hook of its last
 * thread reads them the other way round (hooks.c), so either this sees the
 * group dead, or the hook sees the slot taken and waits for the lock.
 */
int tracer_proc_link_live(struct tracer_proc *p, struct task_struct *task,
			  u32 flags, struct tracer_session *s, pid_t ppid)
{
	struct pid *tgid = task_tgid(task);

	if (tracer_proc_find(tgid))
		return -EEXIST;
	tracer_filter_add(tgid, 1);
	smp_mb();	/* the slot, then live; the exit hook: live, then slot */
	if (!atomic_read(&task->signal->live)) {
		tracer_filter_add(tgid, -1);
		return -ESRCH;
	}
	tracer_race_delay(TRACER_RACE_ADD_LINK);
	__tracer_proc_link(p, tgid, flags, s, ppid);
	return 0;
}

/* A new entry for a process added through @s (NULL: none). */
static struct tracer_proc *tracer_proc_alloc(struct tracer_session *s,
					     u32 flags)
{
	if (tracer_alloc_fails())
		return NULL;
	if (s && (flags & TRACER_REPORT_EXIT))
		return tracer_session_entry(s, false);
	return kmem_cache_zalloc(tracer_proc_cache, GFP_KERNEL);
}

int tracer_procs_add(pid_t nr, u32 flags, struct tracer_session *s)
{
	struct task_struct *task;
	struct tracer_proc *p;
	pid_t ppid = 0;
	int ret;

	if (flags & ~TRACER_ADD_FLAGS)
		return -EINVAL;
	ret = tracer_get_task(nr, &task);
	if (ret)
		return ret;
	ret = tracer_may_monitor(task);
	if (ret < 0)
		goto out_task;
	if (ret)
		flags |= TRACER_PRIVILEGED;

	p = tracer_proc_alloc(s, flags);
	if (!p) {
		ret = -ENOMEM;
		goto out_task;
	}
	if (s) {
		rcu_read_lock();
		ppid = pid_nr_ns(task_tgid(rcu_dereference(task->real_parent)),
				 s->ns);
		rcu_read_unlock();
	}

	/* No process is added while the allocation map drains. */
	mutex_lock(&tracer_map_mutex);
	/*
	 * As ptrace_attach(): the check and the link under the target's
	 * exec lock.  An exec that raises its privileges is then wholly
	 * before them (the check sees its credentials) or after them (its
	 * hook sees the row and takes it out, unless root added it).
	 */
	ret = mutex_lock_interruptible(&task->signal->cred_guard_mutex);
	if (ret)
		goto out_map;
	if (!(flags & TRACER_PRIVILEGED) && !tracer_ptrace_allows(task, false)) {
		ret = -EPERM;
		goto out_cred;
	}
	tracer_race_delay(TRACER_RACE_ADD_CHECKED);
	raw_spin_lock(&tracer_procs_lock);
	ret = tracer_proc_link_live(p, task, flags, s, ppid);
	raw_spin_unlock(&tracer_procs_lock);
	if (!ret)
		p = NULL;
out_cred:
	mutex_unlock(&task->signal->cred_guard_mutex);
out_map:
	mutex_unlock(&tracer_map_mutex);
	if (p)
		kmem_cache_free(tracer_proc_cache, p);
out_task:
	put_task_struct(task);
	return ret;
}

int tracer_procs_remove(pid_t nr)
{
	struct task_struct *task;
	struct tracer_proc *p;
	u32 flags;
	int ret;

	ret = tracer_get_task(nr, &task);
	if (ret)
		return ret;
	rcu_read_lock();
	p = tracer_proc_find(task_tgid(task));
	flags = p ? p->flags : 0;
	rcu_read_unlock();
	ret = p ? tracer_may_remove(flags, task) : tracer_may_monitor(task);
	if (ret < 0)
		goto out;

	raw_spin_lock(&tracer_procs_lock);
	p = tracer_proc_find(task_tgid(task));
	if (p)
		tracer_proc_unlink(p);
	raw_spin_unlock(&tracer_procs_lock);
	ret = p ? 0 : -ENOENT;
out:
	put_task_struct(task);
	return ret;
}

/*
 * A monitored cgroup goes: the rows it brought leave, the others count
 * toward no cgroup any more.  tracer_procs_lock held.
 */
void tracer_procs_drop_cgroup(struct tracer_cgroup *cg)
{
	struct tracer_proc *p;
	struct hlist_node *tmp;
	int bkt;

	hash_for_each_safe(tracer_procs, bkt, tmp, p, node) {
		if (p->cg != cg)
			continue;
		if (p->flags & TRACER_VIA_CGROUP)
			tracer_proc_unlink(p);
		else
			tracer_proc_set_cgroup(p, NULL);
	}
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
	tracer_wq = alloc_workqueue("tracer", WQ_UNBOUND, 0);
	if (!tracer_wq)
		return -ENOMEM;
	tracer_proc_cache = KMEM_CACHE(tracer_proc, 0);
	if (!tracer_proc_cache) {
		destroy_workqueue(tracer_wq);
		return -ENOMEM;
	}
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

	/*
	 * The RCU callbacks are this module's code and use the cache; so do
	 * the work items (spare entries, the map's drain), which may hold
	 * the last reference of a session.
	 */
	rcu_barrier();
	destroy_workqueue(tracer_wq);
	tracer_procs_free_cache();
}
