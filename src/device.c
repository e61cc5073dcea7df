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
#include <linux/uaccess.h>

#include "internal.h"
#include "uapi/tracer.h"
#include "compat.h"

static long tracer_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	struct tracer_add add;
	pid_t pid = (pid_t)arg;

	switch (cmd) {
	case TRACER_ADD_PROCESS:
		return tracer_procs_add(pid, 0, NULL);
	case TRACER_REMOVE_PROCESS:
		return tracer_procs_remove(pid);
	case TRACER_ADD_CGROUP:
		return tracer_cgroup_add((int)arg);
	case TRACER_REMOVE_CGROUP:
		return tracer_cgroup_remove((int)arg);
	case TRACER_ADD_PROCESS_EX:
		if (copy_from_user(&add, tracer_compat_ptr(arg), sizeof(add)))
			return -EFAULT;
		return tracer_procs_add(add.pid, add.flags,
					file->private_data);
	default:
		return -ENOTTY;
	}
}

static int tracer_open(struct inode *inode, struct file *file)
{
	file->private_data = tracer_session_open();
	return file->private_data ? 0 : -ENOMEM;
}

static int tracer_release(struct inode *inode, struct file *file)
{
	tracer_session_close(file->private_data);
	return 0;
}

/* The final rows of exited TRACER_REPORT_EXIT processes, if any. */
static ssize_t tracer_read(struct file *file, char __user *buf, size_t len,
			   loff_t *ppos)
{
	return tracer_session_read(file->private_data, buf, len);
}

static const struct file_operations tracer_fops = {
	.owner = THIS_MODULE,
	.open = tracer_open,
	.release = tracer_release,
	.read = tracer_read,
	.unlocked_ioctl = tracer_ioctl,
	/* Values need no conversion; the one pointer is converted above. */
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
		pr_err("cannot register /dev/%s (10:%d): %d\n",
		       TRACER_DEV_NAME, TRACER_DEV_MINOR, ret);
	return ret;
}

void tracer_device_exit(void)
{
	misc_deregister(&tracer_miscdev);
}
