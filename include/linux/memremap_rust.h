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

#ifdef CONFIG_MEMREMAP_RUST
/* mm/memremap.c: the pagemap xarray and KASAN's shadow of a range. */
int pgmap_array_store(struct dev_pagemap *pgmap, struct range *range);
void pgmap_array_delete(struct range *range);
int pgmap_kasan_add(struct range *range);
void pgmap_kasan_remove(struct range *range);

/* mm/memremap_rust.rs */
int pagemap_range_rust(struct dev_pagemap *pgmap, struct mhp_params *params,
		       int range_id, int nid);
void pageunmap_range_rust(struct dev_pagemap *pgmap, int range_id);
#endif /* CONFIG_MEMREMAP_RUST */

#endif /* _LINUX_MEMREMAP_RUST_H_ */
