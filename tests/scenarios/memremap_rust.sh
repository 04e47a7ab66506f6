#!/bin/sh
# The Rust port of memremap_pages()' per-range steps (mm/memremap_rust.rs) against the C ones:
# memremap.pagemap_rust switches between them at run time. Device memory added by one and removed
# by the other leaves the same state as either alone: zoneinfo, /proc/iomem, the memmap pages,
# the driver's view, kmemleak. The consumers are the Rust driver (generic pagemaps) and device-dax
# on legacy pmem (the C dax driver, through memremap_pages()).
#vm: --mem 6G --append "memmap=1G!5G memmap=512M\$6G" --acpi-table tests/vm/acpi/zone_device.dsl
#vm: --file tests/scenarios/lib/zone_device.sh:/lib/zdrs/zone_device.sh
. /lib/zdrs/ktap.sh
. /lib/zdrs/zone_device.sh

ktap_plan 6

PARAM=/sys/module/memremap/parameters/pagemap_rust
state_at_boot=$(zd_state)

# device_state: what adding ZDRS0001:00 changes, beyond zd_state: the Device zone's lines.
device_state() {
	echo "$(zd_state) $(zone_lines Device)"
}

# cycle ADD REMOVE: binds ZDRS0001:00 with the implementation ADD (Y or N) and unbinds it with
# REMOVE; prints the state while bound; fails unless the state after equals the state before.
cycle() {
	before=$(device_state)
	echo "$1" > $PARAM || return 1
	zd_bind ZDRS0001:00 || return 1
	bound=$(device_state)
	misc=$(zd_misc ZDRS0001:00)
	zdmap pattern "$misc" $((4 << 20)) > /tmp/pattern.out || { cat /tmp/pattern.out; return 1; }
	echo "$2" > $PARAM || return 1
	zd_unbind ZDRS0001:00 || return 1
	after=$(device_state)
	echo "bound with $1: $bound"
	expect_eq "state after adding with $1 and removing with $2" "$after" "$before"
}

parameter() {
	expect_eq "memremap.pagemap_rust" "$(cat $PARAM)" Y || return 1
	modprobe rust_zone_device || return 1
	zd_bound ZDRS0001:00 || return 1
	zd_unbind ZDRS0001:00
}

same_state() {
	echo Y > $PARAM && zd_bind ZDRS0001:00 || return 1
	with_rust=$(device_state)
	zd_unbind ZDRS0001:00 && echo N > $PARAM && zd_bind ZDRS0001:00 || return 1
	with_c=$(device_state)
	zd_unbind ZDRS0001:00 || return 1
	echo "bound by Rust: $with_rust"
	echo "bound by C:    $with_c"
	expect_eq "state bound by C" "$with_c" "$with_rust"
}

# cycles ADD REMOVE: zdrs.cycles (default 20) cycles of cycle ADD REMOVE.
cycles() {
	n=$(ktap_cycles 20)
	i=0
	while [ $i -lt "$n" ]; do
		cycle "$1" "$2" > /tmp/cycle.out || { cat /tmp/cycle.out; return 1; }
		i=$((i + 1))
	done
	tail -n 1 /tmp/cycle.out
	echo "$n cycles"
}

devdax_on_the_rust_path() {
	echo Y > $PARAM || return 1
	memmap_before=$(memmap_pages)
	modprobe -a nd_e820 dax_pmem device_dax || return 1
	ktap_show ndctl create-namespace --mode=devdax --align=2M --region=region0 || return 1
	[ -c /dev/dax0.0 ] || { echo "no /dev/dax0.0"; return 1; }
	grep -q ' : dax0.0$' /proc/iomem || { echo "/proc/iomem has no dax0.0"; return 1; }
	added=$(( $(memmap_pages) - memmap_before ))
	echo "devdax namespace: $added memmap pages"
	[ "$added" -gt 0 ] || { echo "no struct pages were added"; return 1; }
	# Removed by C.
	with_pagemap_rust N ktap_show ndctl disable-namespace namespace0.0 || return 1
	expect_eq "memmap pages after disable" "$(memmap_pages)" "$memmap_before" || return 1
	ktap_show ndctl enable-namespace namespace0.0 || return 1
	ktap_show ndctl destroy-namespace --force namespace0.0 || return 1
	expect_eq "memmap pages after destroy" "$(memmap_pages)" "$memmap_before"
}

nothing_leaked() {
	echo Y > $PARAM
	rmmod rust_zone_device || return 1
	expect_no_leaks
}

ktap_test parameter_defaults_to_rust parameter
ktap_test rust_and_c_leave_the_same_state same_state
ktap_test rust_adds_c_removes cycles Y N
ktap_test c_adds_rust_removes cycles N Y
ktap_test devdax_on_the_rust_path devdax_on_the_rust_path
ktap_test nothing_leaked nothing_leaked
