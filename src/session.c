// SPDX-License-Identifier: GPL-2.0
/*
 * session.c - open /dev/tracer files and the exit reports queued on them
 *
 * A session is an open /dev/tracer file.  Processes added through it with
 * TRACER_REPORT_EXIT leave the table at exit like any other, but their
 * entry then waits on the session's exited list until read(2) takes it.
 * A session holds a reference for the file and one for each entry that
 * names it; it is freed when the last goes.
 *
 * The entries of a session's processes, which may wait unread after their
 * exit, are charged to the memory cgroup of the file's opener: a work item
 * allocates them in advance, in that cgroup's charging scope (never in a
 * monitored process's context, where the allocator's own bookkeeping
 * could be counted as its kmalloc calls), and keeps a few spare.  A
 * followed process forked faster than the spares are made takes an
 * uncharged entry of the module's common reserve.  Unread reports are
 * capped per file (max_reports) and in all (max_reports_total).
 */
#include <linux/memcontrol.h>
#include <linux/moduleparam.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "internal.h"
#include "compat.h"
#include "uapi/tracer.h"

#define TRACER_SESSION_SPARE	64

static atomic_long_t tracer_reports_dropped = ATOMIC_LONG_INIT(0);
static atomic_t tracer_reports_queued = ATOMIC_INIT(0);

static unsigned int tracer_max_reports = 16384;
module_param_named(max_reports, tracer_max_reports, uint, 0644);
MODULE_PARM_DESC(max_reports,
		 "exit reports queued on one open /dev/tracer at most; more are dropped and counted in missed (default 16384)");

static unsigned int tracer_max_reports_total = 65536;
module_param_named(max_reports_total, tracer_max_reports_total, uint, 0644);
MODULE_PARM_DESC(max_reports_total,
		 "exit reports queued on all open /dev/tracer files together at most; more are dropped and counted in missed (default 65536)");

/* Exit reports dropped because their file had max_reports unread. */
unsigned long tracer_session_dropped(void)
{
	return atomic_long_read(&tracer_reports_dropped);
}

/* Any context: the last reference may go in an RCU callback. */
void tracer_session_put(struct tracer_session *s)
{
	struct tracer_proc *p, *tmp;

	if (!s || !refcount_dec_and_test(&s->ref))
		return;
	llist_for_each_entry_safe(p, tmp, llist_del_all(&s->spare), reserve)
		kmem_cache_free(tracer_proc_cache, p);
	mem_cgroup_put(s->memcg);
	kfree(s);
}

/* Make spare entries, charged to the opener's memory cgroup. */
static void tracer_session_refill(struct work_struct *work)
{
	struct tracer_session *s = container_of(work, struct tracer_session,
						refill);
	struct mem_cgroup *old = tracer_set_active_memcg(s->memcg);
	struct tracer_proc *p;

	while (!READ_ONCE(s->closed) &&
	       atomic_read(&s->nr_spare) < TRACER_SESSION_SPARE) {
		p = kmem_cache_zalloc(tracer_proc_cache, GFP_KERNEL_ACCOUNT);
		if (!p)
			break;
		llist_add(&p->reserve, &s->spare);
		atomic_inc(&s->nr_spare);
	}
	tracer_set_active_memcg(old);
	tracer_session_put(s);		/* taken when queued */
}

static void tracer_session_queue_refill(struct tracer_session *s)
{
	refcount_inc(&s->ref);
	if (!queue_work(tracer_wq, &s->refill))
		tracer_session_put(s);	/* queued already */
}

/*
 * An entry for a process of @s: a spare one, or with @atomic (the fork
 * hook, tracer_procs_lock held) one of the common reserve when there is
 * none; else the caller may sleep until the refill made some.
 */
struct tracer_proc *tracer_session_entry(struct tracer_session *s,
					 bool atomic)
{
	struct llist_node *n;
	int tries;

	for (tries = 0; tries < 2; tries++) {
		raw_spin_lock(&s->lock);
		n = llist_del_first(&s->spare);
		raw_spin_unlock(&s->lock);
		if (n || atomic_read(&s->nr_spare) <= TRACER_SESSION_SPARE / 2)
			tracer_session_queue_refill(s);
		if (n) {
			atomic_dec(&s->nr_spare);
			return memset(llist_entry(n, struct tracer_proc,
						  reserve),
				      0, sizeof(struct tracer_proc));
		}
		if (atomic)
			return tracer_proc_alloc_atomic();
		flush_work(&s->refill);
	}
	return NULL;
}

struct tracer_session *tracer_session_open(void)
{
	struct tracer_session *s;

	s = tracer_alloc_fails() ? NULL : kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return NULL;
	refcount_set(&s->ref, 1);
	raw_spin_lock_init(&s->lock);
	INIT_LIST_HEAD(&s->exited);
	init_llist_head(&s->spare);
	INIT_WORK(&s->refill, tracer_session_refill);
	s->ns = get_pid_ns(task_active_pid_ns(current));
	s->memcg = get_mem_cgroup_from_mm(current->mm);
	return s;
}

/*
 * @p's process has exited (@task is its last thread): take @p out of the
 * table and queue its final row on its session, or free it when nobody
 * will read it.  tracer_procs_lock held.
 */
void tracer_session_report_exit(struct tracer_proc *p,
				struct task_struct *task)
{
	struct tracer_session *s = p->session;

	if (!s || s->closed) {
		tracer_proc_unlink(p);
		return;
	}
	raw_spin_lock(&s->lock);
	if (s->queued >= READ_ONCE(tracer_max_reports) ||
	    atomic_inc_return(&tracer_reports_queued) >
	    READ_ONCE(tracer_max_reports_total)) {
		if (s->queued < READ_ONCE(tracer_max_reports))
			atomic_dec(&tracer_reports_queued);
		raw_spin_unlock(&s->lock);
		atomic_long_inc(&tracer_reports_dropped);
		tracer_proc_unlink(p);
		return;
	}
	tracer_proc_unhash(p);
	p->exit_pid = pid_nr_ns(p->pid, s->ns);
	strscpy(p->comm, task->comm, sizeof(p->comm));
	list_add_tail(&p->exited, &s->exited);
	s->queued++;
	raw_spin_unlock(&s->lock);
}

static struct tracer_proc *tracer_session_pop(struct tracer_session *s)
{
	struct tracer_proc *p;

	raw_spin_lock(&s->lock);
	p = list_first_entry_or_null(&s->exited, struct tracer_proc, exited);
	if (p) {
		list_del(&p->exited);
		s->queued--;
		atomic_dec(&tracer_reports_queued);
	}
	raw_spin_unlock(&s->lock);
	return p;
}

void tracer_session_close(struct tracer_session *s)
{
	struct tracer_proc *p;

	raw_spin_lock(&tracer_procs_lock);
	s->closed = true;
	raw_spin_unlock(&tracer_procs_lock);
	while ((p = tracer_session_pop(s)))
		call_rcu(&p->rcu, tracer_proc_free_rcu);
	put_pid_ns(s->ns);
	tracer_session_put(s);
}

/* Hand out the final rows of exited processes; never blocks. */
ssize_t tracer_session_read(struct tracer_session *s, char __user *buf,
			    size_t len)
{
	struct tracer_record rec;
	struct tracer_proc *p;
	ssize_t done = 0;
	int i;

	if (len < sizeof(rec))
		return -EINVAL;
	while (len - done >= sizeof(rec) && (p = tracer_session_pop(s))) {
		memset(&rec, 0, sizeof(rec));
		rec.pid = p->exit_pid;
		rec.ppid = p->ppid;
		memcpy(rec.comm, p->comm, min(sizeof(rec.comm), sizeof(p->comm)));
		for (i = 0; i < TRACER_NR_COUNTERS; i++)
			rec.count[i] = atomic64_read(&p->count[i]);
		if (copy_to_user(buf + done, &rec, sizeof(rec))) {
			raw_spin_lock(&s->lock);
			list_add(&p->exited, &s->exited);
			s->queued++;
			atomic_inc(&tracer_reports_queued);
			raw_spin_unlock(&s->lock);
			return done ? done : -EFAULT;
		}
		call_rcu(&p->rcu, tracer_proc_free_rcu);
		done += sizeof(rec);
	}
	return done;
}
