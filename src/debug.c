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
#include <linux/moduleparam.h>

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

/* Run at load, before the probes: 0 or -EINVAL (the load fails). */
int __init tracer_selftests(void)
{
	bool ok = tracer_map_selftest();

	pr_info("selftests: %s\n", ok ? "pass" : "FAIL");
	return ok ? 0 : -EINVAL;
}
