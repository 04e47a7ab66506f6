// SPDX-License-Identifier: GPL-2.0

#include <linux/device.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/nodemask.h>

__rust_helper void rust_helper_put_dev_pagemap(struct dev_pagemap *pgmap)
{
	put_dev_pagemap(pgmap);
}

__rust_helper struct page *rust_helper_pfn_to_page(unsigned long pfn)
{
	return pfn_to_page(pfn);
}

__rust_helper unsigned long rust_helper_page_to_pfn(const struct page *page)
{
	return page_to_pfn(page);
}

__rust_helper int rust_helper_page_ref_count(const struct page *page)
{
	return page_ref_count(page);
}

__rust_helper bool rust_helper_node_online(int nid)
{
	return node_online(nid);
}

__rust_helper int rust_helper_dev_to_node(struct device *dev)
{
	return dev_to_node(dev);
}

__rust_helper void rust_helper_put_page(struct page *page)
{
	put_page(page);
}

__rust_helper struct zone *rust_helper_page_zone(const struct page *page)
{
	return page_zone(page);
}

__rust_helper int rust_helper_numa_mem_id(void)
{
	return numa_mem_id();
}

__rust_helper void rust_helper_percpu_ref_get_many(struct percpu_ref *ref,
						   unsigned long nr)
{
	percpu_ref_get_many(ref, nr);
}

__rust_helper bool rust_helper_pfn_valid(unsigned long pfn)
{
	return pfn_valid(pfn);
}

/* MAX_FOLIO_ORDER is not a plain constant for bindgen with CONFIG_HUGETLB_PAGE (ilog2()). */
__rust_helper unsigned int rust_helper_max_folio_order(void)
{
	return MAX_FOLIO_ORDER;
}
