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

#endif /* _UAPI_LINUX_TRACER_H */
