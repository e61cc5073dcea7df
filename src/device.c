// SPDX-License-Identifier: GPL-2.0
/*
 * device.c - /dev/tracer, misc device 10:42, and its ioctl requests
 *
 * The argument of a request is the PID itself, passed by value.  Like every
 * int passed by value through ioctl(2), only its low 32 bits are meaningful:
 * the upper half of the register is not defined by the calling convention.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>

#include "tracer.h"
#include "uapi/tracer.h"

static long tracer_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	pid_t pid = (pid_t)arg;

	switch (cmd) {
	case TRACER_ADD_PROCESS:
		return tracer_procs_add(pid);
	case TRACER_REMOVE_PROCESS:
		return tracer_procs_remove(pid);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations tracer_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = tracer_ioctl,
	/* The argument is a value, not a pointer: no conversion needed. */
	.compat_ioctl = tracer_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice tracer_miscdev = {
	.minor = TRACER_DEV_MINOR,
	.name = TRACER_DEV_NAME,
	.fops = &tracer_fops,
	.mode = 0600,
};

int tracer_device_init(void)
{
	int ret = misc_register(&tracer_miscdev);

	if (ret)
		pr_err("tracer: cannot register /dev/%s (10:%d): %d\n",
		       TRACER_DEV_NAME, TRACER_DEV_MINOR, ret);
	return ret;
}

void tracer_device_exit(void)
{
	misc_deregister(&tracer_miscdev);
}
