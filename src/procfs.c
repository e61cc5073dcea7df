// SPDX-License-Identifier: GPL-2.0
/*
 * procfs.c - /proc/tracer: one row per monitored process
 *
 * The whole table is formatted in one pass into the seq_file buffer, so a
 * reader gets the same text however it reads it (1-byte reads, seeks); the
 * pass reads the table under RCU, a short stretch at a time, so neither
 * the probes nor the writers are ever held up.  Rows show PIDs as
 * the reader's PID namespace sees them; processes it cannot see, or may
 * not watch by ptrace's rule (read mode), are left out.  The buffer is
 * sized for every row at open, so the table is formatted once, not again
 * each time seq_file finds its buffer too small, and rows are written
 * without vsnprintf(): the read time grows linearly with the rows, at a
 * few microseconds each.
 */
#include <linux/pid_namespace.h>
#include <linux/proc_fs.h>
#include <linux/sched.h>
#include <linux/seq_file.h>

#include "internal.h"
#include "uapi/tracer.h"

#define TRACER_ROW_FMT "%-8s %-8s %-8s %-12s %-12s %-10s %-8s %-8s %-8s %s\n"
#define TRACER_ROW_MAX	128	/* bytes: a row of 20-digit counters is 111 */

/* The columns after the PID, in order, and their TRACER_ROW_FMT widths. */
static const struct {
	u8 counter, width;
} tracer_columns[] = {
	{ TRACER_KMALLOC, 8 }, { TRACER_KFREE, 8 }, { TRACER_KMALLOC_MEM, 12 },
	{ TRACER_KFREE_MEM, 12 }, { TRACER_SCHED, 10 }, { TRACER_UP, 8 },
	{ TRACER_DOWN, 8 }, { TRACER_LOCK, 8 }, { TRACER_UNLOCK, 0 },
};

struct tracer_show {
	struct seq_file *m;
	struct pid_namespace *ns;
	bool all;		/* the reader may see every row */
};

/*
 * Does the reader see @p's row?  Per-process allocation and lock counts
 * are a side channel, like /proc/PID/io: a reader without CAP_SYS_ADMIN
 * or CAP_SYS_PTRACE sees only the processes ptrace would let it read
 * (perm.c).  Caller holds RCU.
 */
static bool tracer_show_allowed(struct tracer_proc *p, struct tracer_show *s)
{
	struct task_struct *task;

	if (s->all)
		return true;
	task = pid_task(p->pid, PIDTYPE_TGID);
	return task && tracer_ptrace_allows(task, true);
}

static void tracer_show_row(struct tracer_proc *p, void *arg)
{
	struct tracer_show *s = arg;
	pid_t nr = pid_nr_ns(p->pid, s->ns);
	int i;

	BUILD_BUG_ON(ARRAY_SIZE(tracer_columns) != TRACER_NR_COUNTERS);
	if (!nr || !tracer_show_allowed(p, s))
		return;
	/* The bytes of "%-8d %-8llu ... %llu\n": each field padded, a space. */
	seq_setwidth(s->m, 8);
	seq_put_decimal_ll(s->m, "", nr);
	seq_pad(s->m, ' ');
	for (i = 0; i < ARRAY_SIZE(tracer_columns); i++) {
		seq_setwidth(s->m, tracer_columns[i].width);
		seq_put_decimal_ull(s->m, "",
				    atomic64_read(&p->count[tracer_columns[i].counter]));
		seq_pad(s->m, tracer_columns[i].width ? ' ' : '\n');
	}
}

static int tracer_proc_show(struct seq_file *m, void *v)
{
	struct tracer_show s = {
		.m = m,
		.ns = task_active_pid_ns(current),
		.all = tracer_sees_all(),
	};

	seq_printf(m, TRACER_ROW_FMT, "PID", "kmalloc", "kfree", "kmalloc_mem",
		   "kfree_mem", "sched", "up", "down", "lock", "unlock");
	tracer_procs_for_each(tracer_show_row, &s);
	return 0;
}

static int tracer_proc_open(struct inode *inode, struct file *file)
{
	size_t rows = atomic_read(&tracer_nr_procs) + 2;	/* +header, +1 */

	return single_open_size(file, tracer_proc_show, NULL,
				rows * TRACER_ROW_MAX);
}

static const struct proc_ops tracer_proc_ops = {
	.proc_open = tracer_proc_open,
	.proc_read = seq_read,
	.proc_lseek = seq_lseek,
	.proc_release = single_release,
};

/*
 * /proc/tracer_cgroups: the totals of the monitored cgroups.  A cgroup's
 * totals sum many processes' counts; only readers who may see every row of
 * /proc/tracer see them.
 */
static int tracer_cgroups_proc_show(struct seq_file *m, void *v)
{
	seq_puts(m, TRACER_CGROUPS_COLUMNS "\n");
	if (tracer_sees_all())
		tracer_cgroups_show(m);
	return 0;
}

static int tracer_cgroups_proc_open(struct inode *inode, struct file *file)
{
	return single_open(file, tracer_cgroups_proc_show, NULL);
}

static const struct proc_ops tracer_cgroups_proc_ops = {
	.proc_open = tracer_cgroups_proc_open,
	.proc_read = seq_read,
	.proc_lseek = seq_lseek,
	.proc_release = single_release,
};

int tracer_procfs_init(void)
{
	if (!proc_create(TRACER_PROC_NAME, 0444, NULL, &tracer_proc_ops))
		goto err;
	if (!proc_create(TRACER_CGROUPS_PROC_NAME, 0444, NULL,
			 &tracer_cgroups_proc_ops)) {
		remove_proc_entry(TRACER_PROC_NAME, NULL);
		goto err;
	}
	return 0;
err:
	pr_err("cannot create /proc/%s and /proc/%s\n", TRACER_PROC_NAME,
	       TRACER_CGROUPS_PROC_NAME);
	return -ENOMEM;
}

void tracer_procfs_exit(void)
{
	remove_proc_entry(TRACER_CGROUPS_PROC_NAME, NULL);
	remove_proc_entry(TRACER_PROC_NAME, NULL);
}
