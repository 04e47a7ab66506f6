#!/bin/sh
# device-dax on legacy pmem (memmap=1G!5G) with the kernel's defaults (the Rust paths), the ndctl/daxctl
# round trip devdax -> system-ram -> devdax -> disabled -> destroyed. Each point checks the
# kernel's state (zoneinfo, meminfo, memory blocks, iomem), not only the tool's exit status.
#vm: --mem 6G
. /lib/zdrs/ktap.sh

ktap_plan 7

kmemleak_reset
block_bytes=$((0x$(cat /sys/devices/system/memory/block_size_bytes)))
memtotal_before=$(meminfo_kb MemTotal)
ktap_note "zones at boot:"
zones_summary | sed 's/^/# /'

legacy_pmem_region() {
	modprobe nd_e820 || return 1
	grep -q 'Persistent Memory (legacy)' /proc/iomem || { echo "no legacy pmem in /proc/iomem"; return 1; }
	grep 'Persistent Memory' /proc/iomem
	ktap_show ndctl list -R || return 1
	size=$(cat /sys/bus/nd/devices/region0/size)
	expect_eq "region0 size" "$size" $((1 << 30)) || return 1
	# Nothing maps the range yet: nd_pmem (which would map a raw namespace) is not loaded.
	expect_eq "Device zone spanned" "$(zone_pages Device spanned)" 0
}

devdax_namespace() {
	modprobe -a dax_pmem device_dax kmem || return 1
	ktap_show ndctl create-namespace --mode=devdax --align=2M --region=region0 || return 1
	[ -c /dev/dax0.0 ] || { echo "no /dev/dax0.0"; return 1; }
	dax_size=$(cat /sys/bus/dax/devices/dax0.0/size)
	spanned=$(zone_pages Device spanned)
	echo "dax0.0: $dax_size bytes; Device zone spans $spanned pages"
	zones_summary
	# The pagemap covers the namespace, so ZONE_DEVICE spans at least its pages.
	[ "$spanned" -ge $((dax_size / 4096)) ] || { echo "Device zone spans too little"; return 1; }
	grep -A2 'Persistent Memory (legacy)' /proc/iomem
	grep -q ' : dax0.0$' /proc/iomem || { echo "/proc/iomem has no dax0.0"; return 1; }
	expect_eq "MemTotal" "$(meminfo_kb MemTotal)" "$memtotal_before"
}

system_ram() {
	blocks_before=$(online_blocks)
	ktap_show daxctl reconfigure-device --mode=system-ram dax0.0 || return 1
	added=$(( $(online_blocks) - blocks_before ))
	grown=$(( $(meminfo_kb MemTotal) - memtotal_before ))
	echo "$added memory blocks online, MemTotal grew by $grown kB"
	zones_summary
	[ "$added" -gt 0 ] || { echo "no memory block came online"; return 1; }
	expect_eq "MemTotal growth (kB)" "$grown" $((added * block_bytes / 1024)) || return 1
	[ "$(zone_pages Movable present)" -ge $((added * block_bytes / 4096)) ] ||
		{ echo "the blocks are not in ZONE_MOVABLE"; return 1; }
}

back_to_devdax() {
	ktap_show daxctl reconfigure-device --mode=devdax --force dax0.0 || return 1
	zones_summary
	expect_eq "MemTotal" "$(meminfo_kb MemTotal)" "$memtotal_before" || return 1
	expect_eq "Movable zone present pages" "$(zone_pages Movable present)" 0 || return 1
	[ -c /dev/dax0.0 ] || { echo "no /dev/dax0.0 after going back to devdax"; return 1; }
}

disable_namespace() {
	ktap_show ndctl disable-namespace namespace0.0 || return 1
	[ ! -e /dev/dax0.0 ] || { echo "/dev/dax0.0 still exists"; return 1; }
	if grep -q 'dax0.0' /proc/iomem; then
		echo "/proc/iomem still has dax0.0"
		return 1
	fi
	grep 'Persistent Memory' /proc/iomem
}

destroy_namespace() {
	ktap_show ndctl destroy-namespace --force namespace0.0 || return 1
	ktap_show ndctl list -N
	ndctl list -N | grep -q devdax && { echo "a devdax namespace is left"; return 1; }
	zones_summary
	# Upstream C never shrinks ZONE_DEVICE on removal; with CONFIG_MEMREMAP_RUST (patch 0006)
	# it spans the device memory still mapped: none.
	expect_eq "Device zone spanned" "$(zone_pages Device spanned)" 0 || return 1
	expect_eq "MemTotal" "$(meminfo_kb MemTotal)" "$memtotal_before"
}

ktap_test legacy_pmem_region_is_registered legacy_pmem_region
ktap_test devdax_namespace_adds_device_zone devdax_namespace
ktap_test system_ram_onlines_blocks_into_movable system_ram
ktap_test devdax_again_restores_memtotal back_to_devdax
ktap_test disable_namespace_removes_dax_device disable_namespace
ktap_test destroy_namespace_keeps_device_zone_span destroy_namespace
ktap_test round_trip_leaks_nothing expect_no_leaks
