/* SPDX-License-Identifier: GPL-2.0 */
/*
 * internal.h - internal interfaces of the tracer module
 *
 * The module is split by concern:
 *   main.c      module init/exit and parameters
 *   device.c    /dev/tracer (misc device, ioctl)
 *   procfs.c    /proc/tracer
 *   procs.c     table of monitored processes (RCU hash table), its filter,
 *               adding and removing, who may monitor whom
 *   perm.c      who may monitor and see which process (ptrace's rule)
 *   session.c   open /dev/tracer files and their exit reports
 *   hooks.c     the fork, exec and exit hooks (sched_process_* tracepoints)
 *   cgroup.c    monitored cgroups: membership, totals (/proc/tracer_cgroups)
 *   allocmap.c  address -> size map used to account kfree'd bytes
 *   probes.c    kprobe/kretprobe/tracepoint handlers (the hot path)
 *   register.c  their registration (probes.h: what the two share)
 *   compat.c    what differs between kernel versions
 *   debug.c     debug build only (TRACER_DEBUG=1): fault injection, selftests
 * The user-space ABI is uapi/linux/tracer.h.
 */
#ifndef _TRACER_INTERNAL_H
#define _TRACER_INTERNAL_H

#include <linux/atomic.h>
#include <linux/hashtable.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/percpu.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/sched/signal.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>

#define TRACER_NAME "tracer"

/* The counters of one process, in /proc/tracer column order. */
enum tracer_counter {
	TRACER_KMALLOC,
	TRACER_KFREE,
	TRACER_KMALLOC_MEM,
	TRACER_KFREE_MEM,
	TRACER_SCHED,
	TRACER_UP,
	TRACER_DOWN,
	TRACER_LOCK,
	TRACER_UNLOCK,
	TRACER_NR_COUNTERS
};

/*
 * A session is an open /dev/tracer file.  Processes added through it with
 * TRACER_REPORT_EXIT wait on its exited list after their exit until read(2)
 * takes them.
 */
struct tracer_session {
	refcount_t ref;			/* the file, each entry using it, refill */
	bool closed;			/* under tracer_procs_lock */
	raw_spinlock_t lock;		/* protects exited, queued */
	struct list_head exited;
	unsigned int queued;
	struct pid_namespace *ns;	/* the opener's; dropped at close */
	struct mem_cgroup *memcg;	/* the opener's: its entries' charge */
	struct llist_head spare;	/* entries for its processes */
	atomic_t nr_spare;
	struct work_struct refill;	/* fills spare, charged to memcg */
};

/* Counters of a monitored cgroup, one set per CPU. */
struct tracer_counts {
	u64 v[TRACER_NR_COUNTERS];
};

/* A monitored cgroup (cgroup.c): its processes count toward its totals. */
struct tracer_cgroup {
	struct list_head node;		/* on the list; tracer_procs_lock */
	struct cgroup *cgrp;		/* referenced; the new one at restart */
	atomic_t nr_procs;		/* rows counting toward it */
	struct tracer_counts __percpu *counts;
	struct rcu_head rcu;
	char path[];			/* from the cgroup2 root */
};

/* One monitored process (thread group), keyed by its TGID struct pid. */
struct tracer_proc {
	struct hlist_node node;
	struct pid *pid;		/* referenced; never reused while held */
	atomic64_t count[TRACER_NR_COUNTERS];
	u32 flags;			/* TRACER_FOLLOW_FORKS, TRACER_REPORT_EXIT */
	struct tracer_session *session;	/* where its exit is reported */
	struct tracer_cgroup *cg;	/* the monitored cgroup it is in */
	pid_t ppid, exit_pid;		/* in the session's PID namespace */
	char comm[TASK_COMM_LEN];	/* at exit */
	struct list_head exited;	/* on session->exited after exit */
	struct llist_node reserve;	/* in the spare-entry reserve */
	struct rcu_head rcu;
};

/* procs.c */
extern atomic_t tracer_nr_procs;
extern raw_spinlock_t tracer_procs_lock;
extern struct kmem_cache *tracer_proc_cache;
extern struct workqueue_struct *tracer_wq;
int tracer_procs_init(void);
void tracer_procs_exit(void);
int tracer_procs_add(pid_t nr, u32 flags, struct tracer_session *s);
int tracer_procs_remove(pid_t nr);
unsigned long tracer_procs_missed(void);
/* May sleep; takes RCU itself. */
void tracer_procs_for_each(void (*fn)(struct tracer_proc *p, void *arg),
			   void *arg);
/* For session.c and hooks.c; tracer_procs_lock held where it says. */
struct tracer_proc *tracer_proc_alloc_atomic(void);
void tracer_proc_link(struct tracer_proc *p, struct pid *tgid, u32 flags,
		      struct tracer_session *s, pid_t ppid);
void tracer_proc_unhash(struct tracer_proc *p);
void tracer_proc_unlink(struct tracer_proc *p);
void tracer_proc_free_rcu(struct rcu_head *head);
int tracer_proc_link_live(struct tracer_proc *p, struct task_struct *task,
			  u32 flags, struct tracer_session *s, pid_t ppid);
void tracer_procs_drop_cgroup(struct tracer_cgroup *cg);
void tracer_procs_idle(void);
extern atomic_long_t tracer_follow_missed;

/* Internal flag: added by CAP_SYS_ADMIN (or followed from such a process). */
#define TRACER_PRIVILEGED	BIT(31)
/* Internal flag: monitored because it is in a monitored cgroup. */
#define TRACER_VIA_CGROUP	BIT(30)

/* cgroup.c */
extern atomic_t tracer_nr_cgroups;
int tracer_cgroups_init(void);
void tracer_cgroups_unhook(void);
void tracer_cgroups_exit(void);
int tracer_cgroup_add(int fd);
int tracer_cgroup_remove(int fd);
void tracer_cgroup_fork(struct task_struct *child);
void tracer_proc_set_cgroup(struct tracer_proc *p, struct tracer_cgroup *cg);
struct seq_file;
void tracer_cgroups_show(struct seq_file *m);

/* perm.c */
bool tracer_ptrace_allows(struct task_struct *task, bool read);
int tracer_may_monitor(struct task_struct *task);
int tracer_may_remove(u32 flags, struct task_struct *task);
bool tracer_sees_all(void);

/* session.c */
struct tracer_session *tracer_session_open(void);
struct tracer_proc *tracer_session_entry(struct tracer_session *s,
					 bool atomic);
void tracer_session_close(struct tracer_session *s);
void tracer_session_put(struct tracer_session *s);
ssize_t tracer_session_read(struct tracer_session *s, char __user *buf,
			    size_t len);
/* The exit of @p's process, to be reported on @p->session: lock held. */
void tracer_session_report_exit(struct tracer_proc *p,
				struct task_struct *task);
unsigned long tracer_session_dropped(void);

/* hooks.c */
int tracer_hooks_init(void);
void tracer_hooks_exit(void);

/*
 * The first test of every probe: a counting filter over global TGID
 * numbers.  tracer_filter[tgid % size] is how many monitored processes
 * have a TGID there (changed under the table's lock, with the table).
 * Zero, the common case, means current is not monitored, and the probe
 * leaves after a handful of instructions: no RCU, no hash walk.  Else the
 * table decides.
 */
#define TRACER_FILTER_BITS	15
extern u16 tracer_filter[1 << TRACER_FILTER_BITS];

static __always_inline bool tracer_maybe_tgid(pid_t tgid)
{
	return READ_ONCE(tracer_filter[tgid & (BIT(TRACER_FILTER_BITS) - 1)]);
}

static __always_inline bool tracer_maybe_current(void)
{
	return tracer_maybe_tgid(current->tgid);
}

/* The table of monitored processes (procs.c), keyed by TGID struct pid. */
#define TRACER_PROCS_BITS	14
extern struct hlist_head tracer_procs[1 << TRACER_PROCS_BITS];

/*
 * The row of thread group @tgid, or NULL.  Caller holds RCU.  Inline: the
 * probes look a row up for every event of a monitored process.
 */
static __always_inline struct tracer_proc *tracer_proc_find(struct pid *tgid)
{
	struct tracer_proc *p;

	hash_for_each_possible_rcu(tracer_procs, p, node, (unsigned long)tgid)
		if (p->pid == tgid)
			return p;
	return NULL;
}

/* The monitored process current belongs to, or NULL.  Caller holds RCU. */
static inline struct tracer_proc *tracer_proc_current(void)
{
	return tracer_proc_find(task_tgid(current));
}

/* Count @v on @p's row and on its cgroup's totals, if it counts toward one. */
static inline void tracer_count(struct tracer_proc *p, enum tracer_counter c,
				s64 v)
{
	struct tracer_cgroup *cg = READ_ONCE(p->cg);

	atomic64_add(v, &p->count[c]);
	if (cg)
		this_cpu_add(cg->counts->v[c], v);
}

/* Count a call @c that moved @bytes (counter @mem), as tracer_count(). */
static inline void tracer_count_mem(struct tracer_proc *p,
				    enum tracer_counter c,
				    enum tracer_counter mem, s64 bytes)
{
	struct tracer_cgroup *cg = READ_ONCE(p->cg);

	atomic64_inc(&p->count[c]);
	atomic64_add(bytes, &p->count[mem]);
	if (cg) {
		this_cpu_inc(cg->counts->v[c]);
		this_cpu_add(cg->counts->v[mem], bytes);
	}
}

/* allocmap.c */
int tracer_map_init(unsigned int bits, unsigned int max_bits);
void tracer_map_exit(void);
void tracer_map_drain(void);
extern struct mutex tracer_map_mutex;
void tracer_map_insert(const void *ptr, size_t size);
size_t tracer_map_remove(const void *ptr);
extern atomic_long_t tracer_map_nr;

/* How many records the map holds. */
static inline unsigned long tracer_map_live(void)
{
	return atomic_long_read(&tracer_map_nr);
}

unsigned long tracer_map_overflow(void);
unsigned long tracer_map_capacity(void);

/* register.c */
int tracer_probes_init(void);
void tracer_probes_exit(void);
unsigned long tracer_probes_missed(void);
unsigned long tracer_probes_instances_missed(void);
unsigned long tracer_probes_nested(void);
int tracer_probes_hooked(char *buf, size_t len);

/* device.c */
int tracer_device_init(void);
void tracer_device_exit(void);

/* procfs.c */
int tracer_procfs_init(void);
void tracer_procfs_exit(void);

/* main.c: module parameters the other files read */
extern unsigned int tracer_maxactive;

/* Places where a test may widen a race window (debug build: race_delay). */
enum tracer_race {
	TRACER_RACE_ADD_CHECKED,	/* add: permission checked, may sleep */
	TRACER_RACE_ADD_LINK,		/* add: group seen alive, lock held */
	TRACER_RACE_DRAIN,		/* map drain decided, map mutex held */
	TRACER_NR_RACES
};

/* debug.c: only in the debug build (TRACER_DEBUG=1) */
#ifdef TRACER_DEBUG
#define TRACER_FLAVOUR " (debug build)"
void tracer_race_delay(enum tracer_race where);
bool tracer_alloc_fails(void);
int tracer_selftests(void);
bool tracer_map_selftest(void);
#else
#define TRACER_FLAVOUR ""
/* The release build has no fault injection and no delays. */
static inline void tracer_race_delay(enum tracer_race where)
{
}

static inline bool tracer_alloc_fails(void)
{
	return false;
}

static inline int tracer_selftests(void)
{
	return 0;
}
#endif

#endif /* _TRACER_INTERNAL_H */
