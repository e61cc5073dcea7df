// SPDX-License-Identifier: GPL-2.0
/*
 * tracer - per-process counts of kmalloc, kfree, schedule, up,
 * down_interruptible, mutex_lock and mutex_unlock calls
 *
 * Processes are added and removed through /dev/tracer (misc 10:42); the
 * counts are read from /proc/tracer.  See tracer(4).
 */
#include <linux/kernel.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>

#include "tracer.h"
#include "uapi/tracer.h"

unsigned int tracer_maxactive = 512;
module_param_named(maxactive, tracer_maxactive, uint, 0444);
MODULE_PARM_DESC(maxactive,
		 "kmalloc calls of monitored tasks in flight at once, per entry point (default 512)");

static unsigned int tracer_map_bits = 14;
module_param_named(map_bits, tracer_map_bits, uint, 0444);
MODULE_PARM_DESC(map_bits,
		 "allocation map of 4 << map_bits records (default 14: 65536 records, 1 MiB)");

/* Events of monitored processes that were lost. */
static unsigned long tracer_missed(void)
{
	return tracer_probes_missed() + tracer_procs_missed();
}

static int tracer_param_get_missed(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%lu\n", tracer_missed());
}

static int tracer_param_get_nested(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%lu\n", tracer_probes_nested());
}

static int tracer_param_get_map(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "records=%lu capacity=%lu overflow=%lu\n",
			  tracer_map_live(), tracer_map_capacity(),
			  tracer_map_overflow());
}

static int tracer_param_get_hooked(char *buf, const struct kernel_param *kp)
{
	return tracer_probes_hooked(buf, PAGE_SIZE);
}

static int tracer_param_get_monitored(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%d\n", atomic_read(&tracer_nr_procs));
}

#define TRACER_RO_PARAM(name, getter, desc)				\
	static const struct kernel_param_ops tracer_##name##_ops = {	\
		.get = getter,						\
	};								\
	module_param_cb(name, &tracer_##name##_ops, NULL, 0444);	\
	MODULE_PARM_DESC(name, desc)

TRACER_RO_PARAM(missed, tracer_param_get_missed,
		"events of monitored processes that were lost: kmalloc calls without a free kretprobe instance, forks of followed processes that could not be added (read-only)");
TRACER_RO_PARAM(nested, tracer_param_get_nested,
		"probe hits skipped because an interrupt came while a probe handler ran; never counted anyway (read-only)");
TRACER_RO_PARAM(map, tracer_param_get_map,
		"allocation map: live records, capacity, records lost because it was full (read-only)");
TRACER_RO_PARAM(hooked, tracer_param_get_hooked,
		"kernel functions probed on this kernel (read-only)");
TRACER_RO_PARAM(monitored, tracer_param_get_monitored,
		"number of monitored processes (read-only)");

static int __init tracer_init(void)
{
	int ret;

	if (tracer_map_bits < 4 || tracer_map_bits > 24) {
		pr_err("tracer: map_bits must be 4..24\n");
		return -EINVAL;
	}
	if (!tracer_maxactive)
		tracer_maxactive = 1;

	ret = tracer_map_init(tracer_map_bits);
	if (ret)
		return ret;
	ret = tracer_procs_init();
	if (ret)
		goto err_map;
	ret = tracer_probes_init();
	if (ret)
		goto err_procs;
	ret = tracer_procfs_init();
	if (ret)
		goto err_probes;
	ret = tracer_device_init();
	if (ret)
		goto err_procfs;
	pr_info("tracer: version %s loaded\n", TRACER_VERSION);
	return 0;

err_procfs:
	tracer_procfs_exit();
err_probes:
	tracer_probes_exit();
err_procs:
	tracer_procs_exit();
err_map:
	tracer_map_exit();
	return ret;
}

static void __exit tracer_exit(void)
{
	unsigned long missed, nested;

	tracer_device_exit();
	tracer_procfs_exit();
	tracer_probes_exit();
	missed = tracer_missed();
	nested = tracer_probes_nested();
	tracer_procs_exit();
	pr_info("tracer: unloaded; %lu events missed, %lu probe hits in interrupts skipped, %lu allocation records lost\n",
		missed, nested, tracer_map_overflow());
	tracer_map_exit();
}

module_init(tracer_init);
module_exit(tracer_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("tracer-dkms developers");
MODULE_DESCRIPTION("Per-process counts of kmalloc, kfree, schedule, up, down_interruptible, mutex_lock and mutex_unlock");
MODULE_VERSION(TRACER_VERSION);
MODULE_ALIAS_MISCDEV(TRACER_DEV_MINOR);
MODULE_ALIAS("devname:" TRACER_DEV_NAME);
