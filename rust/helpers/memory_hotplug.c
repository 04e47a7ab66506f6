// SPDX-License-Identifier: GPL-2.0

#include <linux/mmzone.h>

__rust_helper bool rust_helper_is_zone_movable_page(const struct page *page)
{
	return is_zone_movable_page(page);
}
