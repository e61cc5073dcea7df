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

#include "internal.h"
#include "uapi/tracer.h"

unsigned int tracer_maxactive = 512;
module_param_named(maxactive, tracer_maxactive, uint, 0444);
MODULE_PARM_DESC(maxactive,
		 "kmalloc calls of monitored tasks in flight at once, per entry point (default 512)");

static unsigned int tracer_map_bits = 14;
module_param_named(map_bits, tracer_map_bits, uint, 0444);
MODULE_PARM_DESC(map_bits,
		 "allocation map of 4 << map_bits records at first (default 14: 65536 records, 1 MiB)");

static unsigned int tracer_map_max_bits = 18;
module_param_named(map_max_bits, tracer_map_max_bits, uint, 0444);
MODULE_PARM_DESC(map_max_bits,
		 "the allocation map grows by tables twice as big up to one of 4 << map_max_bits records (default 18: 2 million records in all, 32 MiB)");

/* Events of monitored processes that were lost. */
static unsigned long tracer_missed(void)
{
	return tracer_probes_missed() + tracer_procs_missed();
}

/* The read-only parameters that report a number: kp->arg is its source. */
typedef unsigned long (*tracer_stat_fn)(void);

static int tracer_param_get_stat(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%lu\n", ((tracer_stat_fn)kp->arg)());
}

static const struct kernel_param_ops tracer_stat_ops = {
	.get = tracer_param_get_stat,
};

static unsigned long tracer_monitored(void)
{
	return atomic_read(&tracer_nr_procs);
}

module_param_cb(missed, &tracer_stat_ops, tracer_missed, 0444);
MODULE_PARM_DESC(missed,
		 "events of monitored processes that were lost: the bytes of their kmalloc calls without a free kretprobe instance, forks of followed processes that could not be added, exit records dropped (read-only)");
module_param_cb(instances_missed, &tracer_stat_ops,
		tracer_probes_instances_missed, 0444);
MODULE_PARM_DESC(instances_missed,
		 "source=kprobe: kmalloc calls of all processes, monitored or not, that found no free kretprobe instance; raise maxactive if it grows (read-only)");
module_param_cb(nested, &tracer_stat_ops, tracer_probes_nested, 0444);
MODULE_PARM_DESC(nested,
		 "probe hits skipped because an interrupt came while a probe handler ran; never counted anyway (read-only)");
module_param_cb(monitored, &tracer_stat_ops, tracer_monitored, 0444);
MODULE_PARM_DESC(monitored, "number of monitored processes (read-only)");

static int tracer_param_get_map(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "records=%lu capacity=%lu overflow=%lu\n",
			  tracer_map_live(), tracer_map_capacity(),
			  tracer_map_overflow());
}

static const struct kernel_param_ops tracer_map_ops = {
	.get = tracer_param_get_map,
};

module_param_cb(map, &tracer_map_ops, NULL, 0444);
MODULE_PARM_DESC(map,
		 "allocation map: live records, capacity, records lost because it was full (read-only)");

static int tracer_param_get_hooked(char *buf, const struct kernel_param *kp)
{
	return tracer_probes_hooked(buf, PAGE_SIZE);
}

static const struct kernel_param_ops tracer_hooked_ops = {
	.get = tracer_param_get_hooked,
};

module_param_cb(hooked, &tracer_hooked_ops, NULL, 0444);
MODULE_PARM_DESC(hooked, "kernel functions and tracepoints hooked on this kernel (read-only)");

static int __init tracer_init(void)
{
	int ret;

	if (tracer_map_bits < 4 || tracer_map_bits > 24 ||
	    tracer_map_max_bits > 26) {
		pr_err("map_bits must be 4..24, map_max_bits at most 26\n");
		return -EINVAL;
	}
	if (!tracer_maxactive)
		tracer_maxactive = 1;

	ret = tracer_map_init(tracer_map_bits, tracer_map_max_bits);
	if (ret)
		return ret;
	ret = tracer_selftests();
	if (ret)
		goto err_map;
	ret = tracer_procs_init();
	if (ret)
		goto err_map;
	ret = tracer_hooks_init();
	if (ret)
		goto err_procs;
	ret = tracer_cgroups_init();
	if (ret)
		goto err_hooks;
	ret = tracer_probes_init();
	if (ret)
		goto err_cgroups;
	ret = tracer_procfs_init();
	if (ret)
		goto err_probes;
	ret = tracer_device_init();
	if (ret)
		goto err_procfs;
	pr_info("version %s loaded%s\n", TRACER_VERSION, TRACER_FLAVOUR);
	return 0;

err_procfs:
	tracer_procfs_exit();
err_probes:
	tracer_probes_exit();
err_cgroups:
	tracer_cgroups_unhook();
err_hooks:
	tracer_hooks_exit();
err_procs:
	tracer_procs_exit();
	tracer_cgroups_exit();
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
	tracer_cgroups_unhook();
	tracer_hooks_exit();
	missed = tracer_missed();
	nested = tracer_probes_nested();
	tracer_procs_exit();
	tracer_cgroups_exit();
	pr_info("unloaded; %lu events missed, %lu probe hits in interrupts skipped, %lu allocation records lost\n",
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
