#!/bin/sh
# make bench, in the bench kernel (no debug checkers): hot-add and hot-remove of the legacy pmem
# range (e820_pmem, bound to samples/rust/rust_zone_device.rs through driver_override), timed
# around the sysfs bind and unbind writes (tests/vm/guest/nswrite.c), with the Rust
# (memremap.pagemap_rust=Y) and the C (N) pagemap_range() in turn in each run, for plain struct
# pages and for 2 MiB compound ones (vmemmap_shift=9). scripts/bench boots this once per range
# size (memmap=1G!5G, memmap=8G!4G) and takes the medians. Each layout is a KTAP point: it fails
# if a bind or unbind does.
. /lib/zdrs/ktap.sh

RUNS=$(ktap_cycles 15)
PARAM=/sys/module/memremap/parameters/pagemap_rust
DRIVER=/sys/bus/platform/drivers/rust_zone_device
size=$(sed -n 's/.*memmap=\([0-9]*G\)!.*/\1/p' /proc/cmdline)

ktap_plan 2

# timed IMPL: one hot-add and one hot-remove with IMPL (Y or N); prints the bench line.
timed() {
	echo "$1" > $PARAM || return 1
	add=$(nswrite $DRIVER/bind e820_pmem) || return 1
	remove=$(nswrite $DRIVER/unbind e820_pmem) || return 1
	impl=rust
	[ "$1" = Y ] || impl=c
	echo "memremap bench: size=$size shift=$vshift impl=$impl add_ns=$add remove_ns=$remove"
}

# layout SHIFT: RUNS runs of Rust and C with vmemmap_shift=SHIFT, in alternating order.
layout() {
	vshift=$1
	echo rust_zone_device > /sys/bus/platform/devices/e820_pmem/driver_override || return 1
	modprobe rust_zone_device vmemmap_shift="$vshift" || return 1
	[ -e $DRIVER/e820_pmem ] || { echo "e820_pmem did not bind"; return 1; }
	dmesg | grep 'rust_zone_device e820_pmem' | tail -n 1
	echo e820_pmem > $DRIVER/unbind || return 1
	ktap_alternate "$RUNS" timed Y N || return 1
	echo Y > $PARAM
	rmmod rust_zone_device
}

ktap_test plain_struct_pages layout 0
ktap_test compound_2m_struct_pages layout 9
