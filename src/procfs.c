// SPDX-License-Identifier: GPL-2.0
/*
 * procfs.c - /proc/tracer: one row per monitored process
 *
 * The whole table is formatted in one pass under RCU into the seq_file
 * buffer, so a reader gets a consistent snapshot however it reads it
 * (1-byte reads, seeks) and writers are never held up.  Rows show PIDs as
 * the reader's PID namespace sees them; processes it cannot see are left
 * out.
 */
#include <linux/pid_namespace.h>
#include <linux/proc_fs.h>
#include <linux/sched.h>
#include <linux/seq_file.h>

#include "tracer.h"
#include "uapi/tracer.h"

#define TRACER_ROW_FMT "%-8s %-8s %-8s %-12s %-12s %-10s %-8s %-8s %-8s %s\n"

struct tracer_show {
	struct seq_file *m;
	struct pid_namespace *ns;
};

static void tracer_show_row(struct tracer_proc *p, void *arg)
{
	struct tracer_show *s = arg;
	pid_t nr = pid_nr_ns(p->pid, s->ns);
	u64 c[TRACER_NR_COUNTERS];
	int i;

	if (!nr)
		return;
	for (i = 0; i < TRACER_NR_COUNTERS; i++)
		c[i] = atomic64_read(&p->count[i]);
	seq_printf(s->m,
		   "%-8d %-8llu %-8llu %-12llu %-12llu %-10llu %-8llu %-8llu %-8llu %llu\n",
		   nr, c[TRACER_KMALLOC], c[TRACER_KFREE],
		   c[TRACER_KMALLOC_MEM], c[TRACER_KFREE_MEM], c[TRACER_SCHED],
		   c[TRACER_UP], c[TRACER_DOWN], c[TRACER_LOCK],
		   c[TRACER_UNLOCK]);
}

static int tracer_proc_show(struct seq_file *m, void *v)
{
	struct tracer_show s = { .m = m, .ns = task_active_pid_ns(current) };

	seq_printf(m, TRACER_ROW_FMT, "PID", "kmalloc", "kfree", "kmalloc_mem",
		   "kfree_mem", "sched", "up", "down", "lock", "unlock");
	rcu_read_lock();
	tracer_procs_for_each(tracer_show_row, &s);
	rcu_read_unlock();
	return 0;
}

static int tracer_proc_open(struct inode *inode, struct file *file)
{
	return single_open(file, tracer_proc_show, NULL);
}

static const struct proc_ops tracer_proc_ops = {
	.proc_open = tracer_proc_open,
	.proc_read = seq_read,
	.proc_lseek = seq_lseek,
	.proc_release = single_release,
};

int tracer_procfs_init(void)
{
	if (!proc_create(TRACER_PROC_NAME, 0444, NULL, &tracer_proc_ops)) {
		pr_err("tracer: cannot create /proc/%s\n", TRACER_PROC_NAME);
		return -ENOMEM;
	}
	return 0;
}

void tracer_procfs_exit(void)
{
	remove_proc_entry(TRACER_PROC_NAME, NULL);
}
