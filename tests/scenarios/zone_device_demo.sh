#!/bin/sh
# The Rust platform driver's demo (make vm SCRIPT=tests/scenarios/zone_device_demo.sh; make run
# is nd_e820_demo.sh): samples/rust/rust_zone_device.rs binds to two ACPI devices of device
# memory, hot-adds each range into ZONE_DEVICE (the Device zone grows by the ranges), a process
# maps the memory, unbinding removes it (the Device zone shrinks back), binding brings it back,
# and unloading the module removes it all.
#vm: --mem 6G --append "memmap=1G!5G memmap=512M\$6G" --acpi-table tests/vm/acpi/zone_device.dsl
#vm: --file tests/scenarios/lib/zone_device.sh:/lib/zdrs/zone_device.sh
. /lib/zdrs/ktap.sh
. /lib/zdrs/zone_device.sh

ktap_plan 5

ktap_note "before: $(zd_state)"

bind() {
	ktap_show modprobe rust_zone_device || return 1
	dmesg | grep 'rust_zone_device ZDRS0001:0[01]'
	zones_summary
	grep -B1 ' : rust_zone_device$' /proc/iomem
	ls -l /dev/zone_device*
	for attr in range pages node type folio_order; do
		echo "/sys/class/misc/zone_device0/$attr: $(cat /sys/class/misc/zone_device0/$attr)"
	done
	expect_eq "Device zone spanned" "$(zone_pages Device spanned)" $((2 * ZD_RANGE_PAGES))
}

map() {
	ktap_show zdmap pattern /dev/zone_device0 $((16 << 20))
}

unbind() {
	memmap_before=$(memmap_pages)
	zd_unbind ZDRS0001:00 || return 1
	dmesg | tail -n 1
	echo "after unbind: $(zd_state)"
	grep -B1 ' : rust_zone_device$' /proc/iomem
	! iomem_owned 180000000 || { echo "still claimed"; return 1; }
	[ ! -e /dev/zone_device0 ] || return 1
	# The struct pages of the range are freed.
	[ "$(memmap_pages)" -lt "$memmap_before" ] || { echo "memmap not freed"; return 1; }
	# The Device zone shrinks to what is still mapped: ZDRS0001:01's range.
	expect_eq "Device zone spanned" "$(zone_pages Device spanned)" $ZD_RANGE_PAGES
}

bind_again() {
	zd_bind ZDRS0001:00 || return 1
	dmesg | tail -n 1
	iomem_owned 180000000
}

unload() {
	ktap_show rmmod rust_zone_device || return 1
	echo "after rmmod: $(zd_state)"
	! grep -q rust_zone_device /proc/iomem || { echo "a range is still claimed"; return 1; }
	expect_eq "Device zone spanned" "$(zone_pages Device spanned)" 0
}

ktap_test driver_binds_device_memory_appears_in_zone_device bind
ktap_test process_maps_the_device_memory map
ktap_test unbind_removes_it unbind
ktap_test bind_brings_it_back bind_again
ktap_test module_unload_removes_all unload
