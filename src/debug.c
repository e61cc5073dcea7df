// SPDX-License-Identifier: GPL-2.0
/*
 * debug.c - the debug build only (make debug, TRACER_DEBUG=1): fault
 * injection for the test suite and selftests run at load
 *
 * The module DKMS builds and users load has none of this.  The test suite
 * loads the debug build where it injects faults; its selftests check the
 * module's own data structures before any probe is armed, and a failure
 * refuses the load.
 */
#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/moduleparam.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "internal.h"

/*
 * The next fail_alloc allocations of the module fail, so that tests can
 * see every error path give a clean errno and leak nothing.
 */
static int tracer_fail_alloc;
module_param_named(fail_alloc, tracer_fail_alloc, int, 0600);
MODULE_PARM_DESC(fail_alloc,
		 "debug build: make the module's next N allocations fail (default 0)");

bool tracer_alloc_fails(void)
{
	int n = READ_ONCE(tracer_fail_alloc), old;

	while (n > 0) {
		old = cmpxchg(&tracer_fail_alloc, n, n - 1);
		if (old == n)
			return true;
		n = old;
	}
	return false;
}

/*
 * race_delay: "<place> <ms>" makes every pass through that place wait
 * (tracer_race_delay()), "<place> 0" stops it; reads back every place.
 * Tests widen a race window with it, so that a fix can be shown to matter.
 */
static const char * const tracer_race_names[TRACER_NR_RACES] = {
	[TRACER_RACE_ADD_CHECKED] = "add_checked",
	[TRACER_RACE_ADD_LINK] = "add_link",
	[TRACER_RACE_DRAIN] = "drain",
};

static unsigned int tracer_race_ms[TRACER_NR_RACES];
/* Tasks in the delay now: a test starts the other side of a race then. */
static atomic_t tracer_race_waiting[TRACER_NR_RACES];

void tracer_race_delay(enum tracer_race where)
{
	unsigned int ms = READ_ONCE(tracer_race_ms[where]);

	if (!ms)
		return;
	atomic_inc(&tracer_race_waiting[where]);
	if (where == TRACER_RACE_ADD_LINK)
		mdelay(ms);		/* a spinlock is held */
	else
		msleep(ms);
	atomic_dec(&tracer_race_waiting[where]);
}

static int tracer_race_set(const char *val, const struct kernel_param *kp)
{
	char name[16];
	unsigned int ms;
	int i;

	if (sscanf(val, "%15s %u", name, &ms) != 2 || ms > 1000)
		return -EINVAL;
	i = match_string(tracer_race_names, TRACER_NR_RACES, name);
	if (i < 0)
		return -EINVAL;
	WRITE_ONCE(tracer_race_ms[i], ms);
	return 0;
}

static int tracer_race_get(char *buf, const struct kernel_param *kp)
{
	int i, n = 0;

	for (i = 0; i < TRACER_NR_RACES; i++)
		n += sysfs_emit_at(buf, n, "%s%s %u %d", i ? ", " : "",
				   tracer_race_names[i], tracer_race_ms[i],
				   atomic_read(&tracer_race_waiting[i]));
	return n + sysfs_emit_at(buf, n, "\n");
}

static const struct kernel_param_ops tracer_race_ops = {
	.set = tracer_race_set,
	.get = tracer_race_get,
};

module_param_cb(race_delay, &tracer_race_ops, NULL, 0600);
MODULE_PARM_DESC(race_delay,
		 "debug build: \"<place> <ms>\" delays every pass through a place (add_checked, add_link, drain), to widen race windows in tests; reads \"<place> <ms> <tasks waiting there now>\" for each");

/* Run at load, before the probes: 0 or -EINVAL (the load fails). */
int __init tracer_selftests(void)
{
	bool ok = tracer_map_selftest();

	pr_info("selftests: %s\n", ok ? "pass" : "FAIL");
	return ok ? 0 : -EINVAL;
}
