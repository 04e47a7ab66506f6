/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The Rust port of the per-range steps of memremap_pages() and
 * memunmap_pages() (mm/memremap_rust.rs), and the small C functions of
 * mm/memremap.c it calls where C uses something static to that file or a
 * macro.
 */
#ifndef _LINUX_MEMREMAP_RUST_H_
#define _LINUX_MEMREMAP_RUST_H_

#include <linux/memory_hotplug.h>
#include <linux/memremap.h>
#include <linux/mmzone.h>

/* The steps of pagemap_range() that can fail, for fault injection. */
enum pagemap_range_step {
	PAGEMAP_RANGE_XA_STORE,
	PAGEMAP_RANGE_PFNMAP_TRACK,
	PAGEMAP_RANGE_RANGE_ALLOWED,
	PAGEMAP_RANGE_KASAN,
	PAGEMAP_RANGE_ADD_MEMORY,
	NR_PAGEMAP_RANGE_STEPS,
};

#ifdef CONFIG_MEMREMAP_RUST
/* mm/memremap.c: the pagemap xarray and KASAN's shadow of a range. */
int pgmap_array_store(struct dev_pagemap *pgmap, struct range *range);
void pgmap_array_delete(struct range *range);
struct dev_pagemap *pgmap_array_find(unsigned long *pfn, unsigned long max);
struct dev_pagemap *pgmap_array_find_after(unsigned long *pfn,
					   unsigned long max);
int pgmap_kasan_add(struct range *range);
void pgmap_kasan_remove(struct range *range);

#ifdef CONFIG_FAIL_PAGEMAP_RANGE
/* mm/memremap.c: whether the step fails (/sys/kernel/debug/fail_pagemap_range/). */
bool should_fail_pagemap_range(enum pagemap_range_step step);
#endif

/* mm/memremap_rust.rs */
int pagemap_range_rust(struct dev_pagemap *pgmap, struct mhp_params *params,
		       int range_id, int nid);
void pageunmap_range_rust(struct dev_pagemap *pgmap, int range_id);
#endif /* CONFIG_MEMREMAP_RUST */

/*
 * mm/memremap_rust.rs, called by remove_pfn_range_from_zone(): shrinks
 * ZONE_DEVICE's span to the device memory still mapped.
 */
#ifdef CONFIG_MEMREMAP_RUST
void shrink_zone_device_span_rust(struct zone *zone, unsigned long start_pfn,
				  unsigned long end_pfn);
#else
static inline void shrink_zone_device_span_rust(struct zone *zone,
						unsigned long start_pfn,
						unsigned long end_pfn)
{
}
#endif

#endif /* _LINUX_MEMREMAP_RUST_H_ */
