// SPDX-License-Identifier: GPL-2.0
/*
 * session.c - open /dev/tracer files and the exit reports queued on them
 *
 * A session is an open /dev/tracer file.  Processes added through it with
 * TRACER_REPORT_EXIT leave the table at exit like any other, but their
 * entry then waits on the session's exited list until read(2) takes it.
 * A session holds a reference for the file and one for each entry that
 * names it; it is freed when the last goes.
 */
#include <linux/moduleparam.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "internal.h"
#include "uapi/tracer.h"

static atomic_long_t tracer_reports_dropped = ATOMIC_LONG_INIT(0);

static unsigned int tracer_max_reports = 16384;
module_param_named(max_reports, tracer_max_reports, uint, 0644);
MODULE_PARM_DESC(max_reports,
		 "exit reports queued on one open /dev/tracer at most; more are dropped and counted in missed (default 16384)");

/* Exit reports dropped because their file had max_reports unread. */
unsigned long tracer_session_dropped(void)
{
	return atomic_long_read(&tracer_reports_dropped);
}

void tracer_session_put(struct tracer_session *s)
{
	if (s && refcount_dec_and_test(&s->ref))
		kfree(s);
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
	s->ns = get_pid_ns(task_active_pid_ns(current));
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
	if (s->queued >= READ_ONCE(tracer_max_reports)) {
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
			raw_spin_unlock(&s->lock);
			return done ? done : -EFAULT;
		}
		call_rcu(&p->rcu, tracer_proc_free_rcu);
		done += sizeof(rec);
	}
	return done;
}
