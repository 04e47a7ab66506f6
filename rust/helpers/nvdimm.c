// SPDX-License-Identifier: GPL-2.0

#include <linux/numa.h>

__rust_helper int rust_helper_numa_map_to_online_node(int node)
{
	return numa_map_to_online_node(node);
}
