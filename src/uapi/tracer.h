/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * tracer.h - user-space ABI of the tracer kernel module (tracer-dkms)
 *
 * /dev/tracer is a misc character device, major 10, minor 42.
 * Requests are ioctl(2) calls whose argument is the PID itself, passed by
 * value (not a pointer):
 *
 *	ioctl(fd, TRACER_ADD_PROCESS, (pid_t)1337);
 *
 * The PID names a process (thread group) in the caller's PID namespace; a
 * thread ID names the process that thread belongs to.
 *
 * /proc/tracer is a read-only table: a header line, then one row per
 * monitored process, PID first:
 *
 *	PID kmalloc kfree kmalloc_mem kfree_mem sched up down lock unlock
 *
 * The request type is _IOC_WRITE: that is the established ABI and must not
 * change.
 */
#ifndef _UAPI_LINUX_TRACER_H
#define _UAPI_LINUX_TRACER_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define TRACER_DEV_NAME		"tracer"
#define TRACER_DEV_MINOR	42
#define TRACER_PROC_NAME	"tracer"

/* __kernel_pid_t is pid_t: same type, same size, no libc header needed. */

/* Start monitoring a process.  Errors: ESRCH no such process, EEXIST
 * already monitored, EINVAL PID <= 0, EPERM not permitted, ENOMEM.
 */
#define TRACER_ADD_PROCESS	_IOW(_IOC_WRITE, 42, __kernel_pid_t)

/* Stop monitoring a process.  Errors: ENOENT not monitored, ESRCH no such
 * process, EINVAL PID <= 0, EPERM not permitted.
 */
#define TRACER_REMOVE_PROCESS	_IOW(_IOC_WRITE, 43, __kernel_pid_t)

/* Header line of /proc/tracer, column names in order. */
#define TRACER_PROC_COLUMNS \
	"PID kmalloc kfree kmalloc_mem kfree_mem sched up down lock unlock"

/* The counters of a row, in /proc/tracer column order (after PID). */
#define TRACER_NR_COLUMNS	9

/*
 * Extended add, for tools that run a command under the tracer (tracerctl
 * run).  The argument is a pointer to struct tracer_add.
 *
 * TRACER_FOLLOW_FORKS: every process the monitored process forks from now
 *	on (at any depth) is added too, with the same flags.
 * TRACER_REPORT_EXIT: when the process (or a follower) exits, its row
 *	leaves /proc/tracer as usual and its final counts are queued as a
 *	struct tracer_record on the open file the request was made on;
 *	read(2) on that file returns them (whole records only; 0 when none is
 *	queued: it never blocks).  Closing the file drops what is queued.
 *
 * Errors as TRACER_ADD_PROCESS, plus EINVAL for unknown flags and EFAULT.
 */
struct tracer_add {
	__s32 pid;
	__u32 flags;
};

#define TRACER_FOLLOW_FORKS	(1U << 0)
#define TRACER_REPORT_EXIT	(1U << 1)
#define TRACER_ADD_FLAGS	(TRACER_FOLLOW_FORKS | TRACER_REPORT_EXIT)

#define TRACER_ADD_PROCESS_EX	_IOW(_IOC_WRITE, 44, struct tracer_add)

/*
 * Monitor a cgroup (v2).  The argument is an open file descriptor of a
 * cgroup2 directory (O_RDONLY | O_DIRECTORY), passed by value like a PID.
 * Every process in that cgroup or below it is monitored: those there now,
 * those forked there, those that migrate in; one that moves out leaves
 * /proc/tracer (unless it was also added by PID).  A process belongs to the
 * cgroup of its thread group leader.  The cgroup's totals, which include
 * the counts of its processes that exited, are in /proc/tracer_cgroups:
 *
 *	CGROUP procs kmalloc kfree kmalloc_mem kfree_mem sched up down lock unlock
 *
 * one row per monitored cgroup: its path from the cgroup2 root (space,
 * tab, newline and backslash written as \ooo octal escapes), the number of
 * its monitored processes now, then the counters.  When a cgroup of the
 * same path is created again (a systemd unit restarted), monitoring and
 * totals carry over to it.  Needs CAP_SYS_ADMIN.
 *
 * Errors: EBADF not a cgroup2 directory, EEXIST monitored already, EBUSY
 * inside (or above) a monitored cgroup, ENOSPC 256 monitored already,
 * EPERM no CAP_SYS_ADMIN, ENOMEM, EOPNOTSUPP the kernel lacks the cgroup
 * tracepoints.
 */
#define TRACER_ADD_CGROUP	_IOW(_IOC_WRITE, 45, int)

/*
 * Stop monitoring the cgroup of the open directory (or the cgroup monitored
 * at its path); its totals go.  Errors: ENOENT not monitored, EBADF, EPERM.
 */
#define TRACER_REMOVE_CGROUP	_IOW(_IOC_WRITE, 46, int)

#define TRACER_CGROUPS_PROC_NAME	"tracer_cgroups"
#define TRACER_CGROUPS_COLUMNS \
	"CGROUP procs kmalloc kfree kmalloc_mem kfree_mem sched up down lock unlock"

/* What read(2) on /dev/tracer returns: the final row of an exited process. */
struct tracer_record {
	__s32 pid;		/* in the PID namespace of the file's opener */
	__s32 ppid;		/* its parent when it was added; 0 if unknown */
	char comm[16];		/* its command name at exit */
	__u64 count[TRACER_NR_COLUMNS];
};

#endif /* _UAPI_LINUX_TRACER_H */
