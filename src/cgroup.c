// SPDX-License-Identifier: GPL-2.0
/*
 * cgroup.c - monitoring a cgroup (v2): a service, a container, a pod
 *
 * TRACER_ADD_CGROUP takes an open file of a cgroup2 directory.  Every
 * process in it or below it is monitored: those there at the time (a scan),
 * those forked there (the fork hook) and those that migrate in (the
 * cgroup_attach_task tracepoint); one that migrates out leaves the table.
 * A process counts toward a cgroup while it is in it: the probes add each
 * event to the process's row and to the cgroup's per-CPU totals, which
 * therefore keep the counts of processes that exited (a service's
 * short-lived workers).  /proc/tracer_cgroups shows the totals.
 *
 * A monitored cgroup is remembered by its path too: when a directory of
 * that path is created again (a unit restarted: systemd removes and
 * recreates its cgroup), the cgroup_mkdir tracepoint binds the monitoring
 * and its totals to the new one.
 *
 * A process belongs to the cgroup of its thread group leader.  Monitored
 * cgroups do not nest (EBUSY), so each process counts toward one at most.
 * The list changes, and membership is decided, under tracer_procs_lock,
 * which orders the scan, the hooks and the migrations; the fork hook looks
 * at the list under RCU first, and takes the lock only for a member.
 */
#include <linux/cgroup.h>
#include <linux/slab.h>
#include <linux/tracepoint.h>
#include <trace/events/cgroup.h>

#include "internal.h"
#include "compat.h"

#define TRACER_MAX_CGROUPS	256

static LIST_HEAD(tracer_cgroups);		/* tracer_procs_lock; RCU: fork */
static DEFINE_MUTEX(tracer_cgroup_mutex);	/* serialises add, remove */
atomic_t tracer_nr_cgroups = ATOMIC_INIT(0);
static bool tracer_cgroups_hooked;		/* its tracepoints are */

/* The monitored cgroup @cgrp is in or below; tracer_procs_lock held. */
static struct tracer_cgroup *tracer_cgroup_find(struct cgroup *cgrp)
{
	struct tracer_cgroup *cg;

	list_for_each_entry(cg, &tracer_cgroups, node)
		if (cgroup_is_descendant(cgrp, cg->cgrp))
			return cg;
	return NULL;
}

/* @p now counts toward @cg (or none); tracer_procs_lock held. */
void tracer_proc_set_cgroup(struct tracer_proc *p, struct tracer_cgroup *cg)
{
	if (p->cg)
		atomic_dec(&p->cg->nr_procs);
	if (cg)
		atomic_inc(&cg->nr_procs);
	WRITE_ONCE(p->cg, cg);
}

/*
 * Bring @task's process in line with the monitored cgroups: add it where
 * it is in one, take it out where it left the one that brought it (a row
 * added by PID stays, counting toward no cgroup).  @spare: an entry to use,
 * or NULL for the reserve.  tracer_procs_lock and RCU held.
 */
static void tracer_cgroup_sync(struct task_struct *task,
			       struct tracer_proc **spare)
{
	struct task_struct *leader = READ_ONCE(task->group_leader);
	struct tracer_cgroup *cg;
	struct tracer_proc *p;

	/* Kernel threads are nobody's service (the root cgroup has them). */
	cg = leader->flags & PF_KTHREAD ? NULL :
	     tracer_cgroup_find(task_dfl_cgroup(leader));
	p = tracer_proc_find(task_tgid(leader));
	if (p) {
		if (p->cg == cg)
			return;
		if (!cg && (p->flags & TRACER_VIA_CGROUP))
			tracer_proc_unlink(p);
		else
			tracer_proc_set_cgroup(p, cg);
		return;
	}
	if (!cg)
		return;
	if (spare && *spare) {
		p = *spare;
		*spare = NULL;
	} else {
		p = tracer_proc_alloc_atomic();
	}
	if (!p) {
		atomic_long_inc(&tracer_follow_missed);
		return;
	}
	p->cg = cg;
	if (tracer_proc_link_live(p, leader,
				  TRACER_PRIVILEGED | TRACER_VIA_CGROUP,
				  NULL, 0)) {
		/* Ended meanwhile: give the entry back. */
		p->cg = NULL;
		if (spare)
			*spare = p;
		else
			kmem_cache_free(tracer_proc_cache, p);
	}
}

/* From the fork hook: a new process may have been born in one. */
void tracer_cgroup_fork(struct task_struct *child)
{
	struct tracer_cgroup *cg;

	if (!atomic_read(&tracer_nr_cgroups) || (child->flags & PF_KTHREAD))
		return;
	/*
	 * Most forks on the machine are not in a monitored cgroup: tell so
	 * without the table's lock.  A cgroup listed after this look scans
	 * the processes, this child among them.
	 */
	rcu_read_lock();
	list_for_each_entry_rcu(cg, &tracer_cgroups, node) {
		if (cgroup_is_descendant(task_dfl_cgroup(child),
					 READ_ONCE(cg->cgrp))) {
			raw_spin_lock(&tracer_procs_lock);
			tracer_cgroup_sync(child, NULL);
			raw_spin_unlock(&tracer_procs_lock);
			break;
		}
	}
	rcu_read_unlock();
}

/* A process (or, in a threaded cgroup, a thread) moved to @dst. */
static void tracer_attach_probe(void *data, struct cgroup *dst,
				const char *path, struct task_struct *task,
				bool threadgroup)
{
	if (!atomic_read(&tracer_nr_cgroups))
		return;
	rcu_read_lock();
	raw_spin_lock(&tracer_procs_lock);
	tracer_cgroup_sync(task, NULL);
	raw_spin_unlock(&tracer_procs_lock);
	rcu_read_unlock();
}

/* A cgroup was created: a monitored one's path again (a restart)? */
static void tracer_mkdir_probe(void *data, struct cgroup *cgrp,
			       const char *path)
{
	struct cgroup *old = NULL;
	struct tracer_cgroup *cg;

	if (!atomic_read(&tracer_nr_cgroups))
		return;
	raw_spin_lock(&tracer_procs_lock);
	list_for_each_entry(cg, &tracer_cgroups, node) {
		if (cg->cgrp->root == cgrp->root && !strcmp(cg->path, path)) {
			old = cg->cgrp;
			cgroup_get(cgrp);
			WRITE_ONCE(cg->cgrp, cgrp);
			break;
		}
	}
	raw_spin_unlock(&tracer_procs_lock);
	if (old)
		cgroup_put(old);
}

static void tracer_cgroup_free(struct tracer_cgroup *cg)
{
	cgroup_put(cg->cgrp);
	free_percpu(cg->counts);
	kfree(cg);
}

static void tracer_cgroup_free_rcu(struct rcu_head *head)
{
	tracer_cgroup_free(container_of(head, struct tracer_cgroup, rcu));
}

/* Is @task a process (not a kernel thread) in @cg's cgroup?  RCU held. */
static bool tracer_task_in(struct task_struct *task, struct tracer_cgroup *cg)
{
	return !(task->flags & PF_KTHREAD) &&
	       cgroup_is_descendant(task_dfl_cgroup(task), READ_ONCE(cg->cgrp));
}

/*
 * Bring the processes already in @cg's cgroup in: count those without a
 * row, make entries for them (GFP_KERNEL), then, under RCU, sync every
 * member (rows added by PID start counting toward @cg too).  Processes
 * forked meanwhile are the fork hook's (@cg is listed already); a pass
 * that ran short of entries is followed by another.
 */
static int tracer_cgroup_scan(struct tracer_cgroup *cg)
{
	struct tracer_proc *p, *tmp;
	struct task_struct *task;
	unsigned int want, pass;
	LLIST_HEAD(entries);

	for (pass = 0; pass < 4; pass++) {
		want = 0;
		rcu_read_lock();
		for_each_process(task)
			if (tracer_task_in(task, cg) &&
			    !tracer_proc_find(task_tgid(task)))
				want++;
		rcu_read_unlock();
		if (!want && pass)
			return 0;
		while (want--) {
			p = kmem_cache_zalloc(tracer_proc_cache, GFP_KERNEL);
			if (!p)
				goto nomem;
			llist_add(&p->reserve, &entries);
		}

		rcu_read_lock();
		for_each_process(task) {
			struct llist_node *n;
			struct tracer_proc *spare = NULL;

			if (!tracer_task_in(task, cg))
				continue;
			n = llist_del_first(&entries);
			if (n)
				spare = llist_entry(n, struct tracer_proc,
						    reserve);
			raw_spin_lock(&tracer_procs_lock);
			tracer_cgroup_sync(task, &spare);
			raw_spin_unlock(&tracer_procs_lock);
			if (spare)
				llist_add(&spare->reserve, &entries);
		}
		rcu_read_unlock();
		llist_for_each_entry_safe(p, tmp, llist_del_all(&entries),
					  reserve)
			kmem_cache_free(tracer_proc_cache, p);
	}
	return 0;
nomem:
	llist_for_each_entry_safe(p, tmp, llist_del_all(&entries), reserve)
		kmem_cache_free(tracer_proc_cache, p);
	return -ENOMEM;
}

/* Unlist @cg and let go of its processes; tracer_procs_lock held. */
static void tracer_cgroup_unlist(struct tracer_cgroup *cg)
{
	list_del_rcu(&cg->node);
	atomic_dec(&tracer_nr_cgroups);
	tracer_procs_drop_cgroup(cg);
}

/* The cgroup of an open cgroup2 directory: EBADF if @fd is none. */
static struct cgroup *tracer_cgroup_from_fd(int fd)
{
	struct cgroup *cgrp = cgroup_get_from_fd(fd);

	return IS_ERR(cgrp) ? ERR_PTR(-EBADF) : cgrp;
}

/* A new entry for @cgrp, its path read; ERR_PTR on failure. */
static struct tracer_cgroup *tracer_cgroup_new(struct cgroup *cgrp)
{
	struct tracer_cgroup *cg = ERR_PTR(-ENOMEM);
	char *path;
	int len;

	path = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!path)
		return cg;
	len = cgroup_path(cgrp, path, PATH_MAX);
	if (len < 0 || len >= PATH_MAX) {
		cg = ERR_PTR(-ENAMETOOLONG);
		goto out;
	}
	cg = kzalloc(struct_size(cg, path, strlen(path) + 1), GFP_KERNEL);
	if (!cg) {
		cg = ERR_PTR(-ENOMEM);
		goto out;
	}
	cg->counts = alloc_percpu(struct tracer_counts);
	if (!cg->counts) {
		kfree(cg);
		cg = ERR_PTR(-ENOMEM);
		goto out;
	}
	strscpy(cg->path, path, strlen(path) + 1);
	cg->cgrp = cgrp;
out:
	kfree(path);
	return cg;
}

/* List @cg unless it clashes with a monitored cgroup; lock held. */
static int tracer_cgroup_list(struct tracer_cgroup *cg)
{
	struct tracer_cgroup *other;

	list_for_each_entry(other, &tracer_cgroups, node) {
		if (other->cgrp->root != cg->cgrp->root)
			continue;
		if (other->cgrp == cg->cgrp || !strcmp(other->path, cg->path))
			return -EEXIST;
		if (cgroup_is_descendant(cg->cgrp, other->cgrp) ||
		    cgroup_is_descendant(other->cgrp, cg->cgrp))
			return -EBUSY;
	}
	if (atomic_read(&tracer_nr_cgroups) >= TRACER_MAX_CGROUPS)
		return -ENOSPC;
	list_add_tail_rcu(&cg->node, &tracer_cgroups);
	atomic_inc(&tracer_nr_cgroups);
	return 0;
}

int tracer_cgroup_add(int fd)
{
	struct tracer_cgroup *cg;
	struct cgroup *cgrp;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (!tracer_cgroups_hooked)
		return -EOPNOTSUPP;
	cgrp = tracer_cgroup_from_fd(fd);
	if (IS_ERR(cgrp))
		return PTR_ERR(cgrp);
	cg = tracer_cgroup_new(cgrp);
	if (IS_ERR(cg)) {
		cgroup_put(cgrp);
		return PTR_ERR(cg);
	}

	mutex_lock(&tracer_cgroup_mutex);
	/* Not while the allocation map drains: it would lose our records. */
	mutex_lock(&tracer_map_mutex);
	raw_spin_lock(&tracer_procs_lock);
	ret = tracer_cgroup_list(cg);
	raw_spin_unlock(&tracer_procs_lock);
	mutex_unlock(&tracer_map_mutex);
	if (ret) {
		mutex_unlock(&tracer_cgroup_mutex);
		tracer_cgroup_free(cg);
		return ret;
	}
	ret = tracer_cgroup_scan(cg);
	if (ret) {
		raw_spin_lock(&tracer_procs_lock);
		tracer_cgroup_unlist(cg);
		raw_spin_unlock(&tracer_procs_lock);
		call_rcu(&cg->rcu, tracer_cgroup_free_rcu);
		tracer_procs_idle();
	}
	mutex_unlock(&tracer_cgroup_mutex);
	return ret;
}

/*
 * Stop monitoring the cgroup of @fd (or the one monitored at its path):
 * its processes added through it leave the table, its totals go.
 */
int tracer_cgroup_remove(int fd)
{
	struct tracer_cgroup *cg, *found = NULL;
	struct cgroup *cgrp;
	char *path;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	cgrp = tracer_cgroup_from_fd(fd);
	if (IS_ERR(cgrp))
		return PTR_ERR(cgrp);
	path = kmalloc(PATH_MAX, GFP_KERNEL);
	if (!path) {
		cgroup_put(cgrp);
		return -ENOMEM;
	}
	ret = cgroup_path(cgrp, path, PATH_MAX);
	mutex_lock(&tracer_cgroup_mutex);
	raw_spin_lock(&tracer_procs_lock);
	list_for_each_entry(cg, &tracer_cgroups, node) {
		if (cg->cgrp == cgrp ||
		    (ret >= 0 && cg->cgrp->root == cgrp->root &&
		     !strcmp(cg->path, path))) {
			found = cg;
			tracer_cgroup_unlist(cg);
			break;
		}
	}
	raw_spin_unlock(&tracer_procs_lock);
	mutex_unlock(&tracer_cgroup_mutex);
	kfree(path);
	cgroup_put(cgrp);
	if (!found)
		return -ENOENT;
	/* The probes may still be adding to its counts. */
	call_rcu(&found->rcu, tracer_cgroup_free_rcu);
	tracer_procs_idle();	/* it drains if nothing else is monitored */
	return 0;
}

/* One line of /proc/tracer_cgroups per monitored cgroup. */
void tracer_cgroups_show(struct seq_file *m)
{
	struct tracer_cgroup *cg;
	u64 sum[TRACER_NR_COUNTERS];
	int cpu, i;

	mutex_lock(&tracer_cgroup_mutex);
	list_for_each_entry(cg, &tracer_cgroups, node) {
		memset(sum, 0, sizeof(sum));
		for_each_possible_cpu(cpu)
			for (i = 0; i < TRACER_NR_COUNTERS; i++)
				sum[i] += per_cpu_ptr(cg->counts, cpu)->v[i];
		seq_escape(m, cg->path, " \t\n\\");
		seq_put_decimal_ull(m, " ", atomic_read(&cg->nr_procs));
		for (i = 0; i < TRACER_NR_COUNTERS; i++)
			seq_put_decimal_ull(m, " ", sum[i]);
		seq_putc(m, '\n');
	}
	mutex_unlock(&tracer_cgroup_mutex);
}

static struct tracer_tp_hook tracer_cgroup_hooks[] = {
	{ .name = "cgroup_attach_task", .fn = tracer_attach_probe },
	{ .name = "cgroup_mkdir", .fn = tracer_mkdir_probe },
};

int tracer_cgroups_init(void)
{
	BUILD_BUG_ON(!TRACER_TP_PROTO_IS(cgroup_attach_task,
					 tracer_attach_probe));
	BUILD_BUG_ON(!TRACER_TP_PROTO_IS(cgroup_mkdir, tracer_mkdir_probe));
	if (tracer_tp_hook(tracer_cgroup_hooks, ARRAY_SIZE(tracer_cgroup_hooks))) {
		/* Not fatal: processes are still monitored; cgroups are not. */
		pr_warn("cgroup tracepoints not available: cgroup monitoring disabled\n");
		return 0;
	}
	tracer_cgroups_hooked = true;
	return 0;
}

/* Unhook; the table is empty and no probe runs any more. */
void tracer_cgroups_unhook(void)
{
	if (tracer_cgroups_hooked)
		tracer_tp_unhook(tracer_cgroup_hooks,
				 ARRAY_SIZE(tracer_cgroup_hooks));
	tracer_cgroups_hooked = false;
}

/* Forget every cgroup; the table is empty, RCU callbacks done. */
void tracer_cgroups_exit(void)
{
	struct tracer_cgroup *cg, *tmp;

	list_for_each_entry_safe(cg, tmp, &tracer_cgroups, node) {
		list_del(&cg->node);
		tracer_cgroup_free(cg);
	}
	atomic_set(&tracer_nr_cgroups, 0);
}
