// SPDX-License-Identifier: GPL-2.0
/*
 * Harness self-test (tests/harness/kmemleak.sh): leaks 16 objects of 16 KiB that nothing
 * references. Above KMALLOC_MAX_CACHE_SIZE, kmalloc() takes them from the page allocator: small
 * objects leaked from a kmalloc cache stay referenced by stale pointers (in a stack slot, in the
 * slab's per-CPU arrays of free objects), and kmemleak then reports few of them or none, as with
 * the kernel's kmemleak-test sample. The runner's final kmemleak scan must report these, and
 * tests/vm/run must fail the run.
 */
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/sizes.h>

#define ZDRS_LEAKS 16

static int __init zdrs_kmemleak_init(void)
{
	int i;

	for (i = 0; i < ZDRS_LEAKS; i++) {
		void *leak = kmalloc(SZ_16K, GFP_KERNEL);

		if (!leak)
			return -ENOMEM;
		/* Written, so that it is an object in use, then forgotten. */
		memset(leak, 0x5a, SZ_16K);
	}
	pr_info("zdrs_kmemleak: leaked %d objects of 16 KiB\n", ZDRS_LEAKS);
	return 0;
}
module_init(zdrs_kmemleak_init);

MODULE_DESCRIPTION("zone-device-rs harness self-test: leaks memory for kmemleak to find");
MODULE_LICENSE("GPL");
