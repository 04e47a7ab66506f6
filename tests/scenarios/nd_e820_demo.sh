#!/bin/sh
# The demo (make run): the Rust legacy-pmem bus provider (samples/rust/rust_nd_e820.rs) binds to
# e820_pmem (memmap=1G!5G), ndctl creates a devdax namespace on its region (the range is hot-added
# into ZONE_DEVICE by the Rust pagemap_range()), daxctl gives it to the kernel as System RAM (the
# Movable zone grows, the Device zone empties) and takes it back, and unbinding the provider
# removes it all.
#vm: --mem 6G --append "memmap=1G!5G"
#vm: --file tests/scenarios/lib/nd_e820.sh:/lib/zdrs/nd_e820.sh
. /lib/zdrs/ktap.sh
. /lib/zdrs/nd_e820.sh

ktap_plan 5

memtotal_at_boot=$(meminfo_kb MemTotal)
ktap_note "zones at boot:"
zones_summary | sed 's/^/# /'

bind() {
	modprobe -a nd_pmem dax_pmem device_dax kmem || return 1
	nd_bind rust || return 1
	dmesg | grep 'e820_pmem' | tail -n 1
	ktap_show ndctl list -BR || return 1
	expect_eq "bus provider" "$(cat /sys/bus/nd/devices/ndbus0/provider)" e820
}

devdax() {
	ktap_show ndctl create-namespace --force --reconfig=namespace0.0 --mode=devdax --align=2M ||
		return 1
	nd_wait_dev /dev/dax0.0 || return 1
	zones_summary
	nd_iomem
	[ "$(zone_pages Device spanned)" -gt 0 ] || { echo "the Device zone is empty"; return 1; }
}

system_ram() {
	ktap_show daxctl reconfigure-device --mode=system-ram dax0.0 || return 1
	zones_summary
	echo "MemTotal grew by $(($(meminfo_kb MemTotal) - memtotal_at_boot)) kB"
	[ "$(zone_pages Movable present)" -gt 0 ] || { echo "the Movable zone did not grow"; return 1; }
	expect_eq "Device zone spanned" "$(zone_pages Device spanned)" 0
}

back_to_devdax() {
	ktap_show daxctl reconfigure-device --mode=devdax --force dax0.0 || return 1
	zones_summary
	expect_eq "MemTotal" "$(meminfo_kb MemTotal)" "$memtotal_at_boot" &&
		expect_eq "Movable present" "$(zone_pages Movable present)" 0 || return 1
	[ "$(zone_pages Device spanned)" -gt 0 ] || { echo "the Device zone is empty"; return 1; }
}

unbind() {
	nd_unbind || return 1
	zones_summary
	nd_iomem
	ls /dev | grep -E '^(pmem|dax)' && { echo "a pmem or dax device is left"; return 1; }
	expect_eq "Device zone spanned" "$(zone_pages Device spanned)" 0 &&
		expect_eq "MemTotal" "$(meminfo_kb MemTotal)" "$memtotal_at_boot"
}

ktap_test rust_provider_binds_e820_pmem bind
ktap_test devdax_namespace_in_zone_device devdax
ktap_test system_ram_grows_movable system_ram
ktap_test back_to_devdax back_to_devdax
ktap_test unbind_removes_it_all unbind
