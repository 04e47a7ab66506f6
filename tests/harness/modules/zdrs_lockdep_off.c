// SPDX-License-Identifier: GPL-2.0
/*
 * Harness self-test (tests/harness/lockdep_off.sh): takes a spinlock that was never initialised,
 * which makes lockdep print "INFO: trying to register non-static key" and switch itself off,
 * without a WARNING or BUG line. tests/vm/run must fail the run on that message.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

static int __init zdrs_lockdep_off_init(void)
{
	spinlock_t *lock = kmalloc(sizeof(*lock), GFP_KERNEL);

	if (!lock)
		return -ENOMEM;
	/*
	 * An unlocked spinlock as a static initialiser makes it (so no "bad magic" BUG from the
	 * spinlock debugging), but in allocated memory and without spin_lock_init(): no lockdep
	 * class key.
	 */
	*lock = (spinlock_t)__SPIN_LOCK_UNLOCKED(zdrs_lockdep_off);
	spin_lock(lock);
	spin_unlock(lock);
	kfree(lock);
	return 0;
}
module_init(zdrs_lockdep_off_init);

MODULE_DESCRIPTION("zone-device-rs harness self-test: makes lockdep switch itself off");
MODULE_LICENSE("GPL");
