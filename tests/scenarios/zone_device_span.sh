#!/bin/sh
# ZONE_DEVICE's span shrinks on removal (patch 0006, mm/memremap_rust.rs): upstream C leaves it
# as it was; here it is the hull of the device memory still mapped, 0 when none. Pagemaps:
# ZDRS0001:00 and :01 (128 MiB each, adjacent at 6 GiB), the legacy pmem e820_pmem (1 GiB at
# 5 GiB, below them), all bound to the Rust driver, and lib/test_hmm's device-private memory
# (far above everything). Removals at the low edge, the high edge and in the middle, in several
# orders, with the Rust and the C pageunmap_range().
#vm: --mem 6G --append "memmap=1G!5G memmap=512M\$6G" --acpi-table tests/vm/acpi/zone_device.dsl
#vm: --file tests/scenarios/lib/zone_device.sh:/lib/zdrs/zone_device.sh
. /lib/zdrs/ktap.sh
. /lib/zdrs/zone_device.sh

ktap_plan 7

PMEM_PAGES=$((1 << 30 >> 12))

# expect_span PAGES WHAT: the Device zone spans PAGES pages after WHAT.
expect_span() {
	expect_eq "Device zone spanned after $2" "$(zone_pages Device spanned)" "$1"
}

empty_at_boot() {
	expect_span 0 boot
}

# adjacent: :00 and :01 back to back; either one removed leaves exactly the other.
adjacent() {
	zd_bound ZDRS0001:00 || zd_bind ZDRS0001:00 || return 1
	zd_bound ZDRS0001:01 || zd_bind ZDRS0001:01 || return 1
	expect_span $((2 * ZD_RANGE_PAGES)) "binding :00 and :01" || return 1
	zd_unbind ZDRS0001:00 && expect_span $ZD_RANGE_PAGES "removing :00 (low edge)" || return 1
	zd_bind ZDRS0001:00 && expect_span $((2 * ZD_RANGE_PAGES)) "binding :00 again" || return 1
	zd_unbind ZDRS0001:01 && expect_span $ZD_RANGE_PAGES "removing :01 (high edge)" || return 1
	zd_unbind ZDRS0001:00 && expect_span 0 "removing :00 (the last)" || return 1
	# From empty, adding the higher range first: the zone starts there and grows down.
	zd_bind ZDRS0001:01 && expect_span $ZD_RANGE_PAGES "binding :01" || return 1
	zd_bind ZDRS0001:00 && expect_span $((2 * ZD_RANGE_PAGES)) "binding :00 below it"
}

with_rust() {
	modprobe rust_zone_device || return 1
	adjacent
}

# adjacent_from_empty: both removed (the span goes to 0), then adjacent.
adjacent_from_empty() {
	zd_unbind ZDRS0001:00 && zd_unbind ZDRS0001:01 && expect_span 0 "removing both" && adjacent
}

# interleaved: pmem below, :00 in the middle, :01 on top, removed middle first.
interleaved() {
	echo rust_zone_device > /sys/bus/platform/devices/e820_pmem/driver_override
	echo e820_pmem > /sys/bus/platform/drivers_probe
	zd_bound e820_pmem || { echo "e820_pmem not bound"; return 1; }
	# 5 GiB to 6 GiB + 256 MiB.
	expect_span $((PMEM_PAGES + 2 * ZD_RANGE_PAGES)) "binding e820_pmem" || return 1
	zd_unbind ZDRS0001:00 &&
		expect_span $((PMEM_PAGES + 2 * ZD_RANGE_PAGES)) "removing :00 (in the middle)" || return 1
	zd_unbind e820_pmem && expect_span $ZD_RANGE_PAGES "removing e820_pmem (low edge, a hole above it)" ||
		return 1
	zd_bind e820_pmem && expect_span $((PMEM_PAGES + 2 * ZD_RANGE_PAGES)) "binding e820_pmem again" ||
		return 1
	zd_unbind ZDRS0001:01 && expect_span $PMEM_PAGES "removing :01 (high edge, a hole below it)" ||
		return 1
	zd_bind ZDRS0001:00 && expect_span $((PMEM_PAGES + ZD_RANGE_PAGES)) "binding :00" || return 1
	zd_unbind e820_pmem && expect_span $ZD_RANGE_PAGES "removing e820_pmem" || return 1
	echo > /sys/bus/platform/devices/e820_pmem/driver_override
	zd_bind ZDRS0001:01 && expect_span $((2 * ZD_RANGE_PAGES)) "binding :01"
}

# hull_pages NAME...: the pages from the lowest start to the highest end of the /proc/iomem
# resources named NAME.
hull_pages() {
	for name in "$@"; do grep " : $name\$" /proc/iomem; done | sed 's/^ *//; s/ .*//' > /tmp/ranges
	lo='' hi=0
	while IFS=- read -r s e; do
		s=$((0x$s)) e=$((0x$e + 1))
		if [ -z "$lo" ] || [ $s -lt $lo ]; then lo=$s; fi
		if [ $e -gt $hi ]; then hi=$e; fi
	done < /tmp/ranges
	echo $(((hi - ${lo:-0}) / 4096))
}

# cycles: zdrs.cycles (default 20) times both ranges removed (the span goes to 0) and added back
# in the other order.
cycles() {
	n=$(ktap_cycles 20)
	i=0
	while [ $i -lt "$n" ]; do
		zd_unbind ZDRS0001:00 && zd_unbind ZDRS0001:01 && expect_span 0 "cycle $i" > /tmp/cycle.out &&
			zd_bind ZDRS0001:01 && zd_bind ZDRS0001:00 &&
			expect_span $((2 * ZD_RANGE_PAGES)) "cycle $i" > /tmp/cycle.out ||
			{ cat /tmp/cycle.out; return 1; }
		i=$((i + 1))
	done
	echo "$n cycles"
}

device_private_far_away() {
	modprobe test_hmm || return 1
	grep -e hmm_dmirror -e rust_zone_device /proc/iomem
	expected=$(hull_pages rust_zone_device hmm_dmirror)
	echo "hull of :00, :01 and test_hmm's ranges: $expected pages"
	[ "$expected" -gt $((2 * ZD_RANGE_PAGES)) ] || { echo "no test_hmm range"; return 1; }
	expect_span "$expected" "loading test_hmm" || return 1
	rmmod test_hmm && expect_span $((2 * ZD_RANGE_PAGES)) "unloading test_hmm" || return 1
	# Removed by C this time.
	modprobe test_hmm && with_pagemap_rust N rmmod test_hmm &&
		expect_span $((2 * ZD_RANGE_PAGES)) "unloading test_hmm with C"
}

all_gone() {
	rmmod rust_zone_device || return 1
	expect_span 0 "unloading the driver" || return 1
	expect_no_leaks
}

ktap_test device_zone_empty_at_boot empty_at_boot
ktap_test adjacent_ranges_rust with_rust
ktap_test adjacent_ranges_c with_pagemap_rust N adjacent_from_empty
ktap_test interleaved_ranges interleaved
ktap_test device_private_far_away device_private_far_away
ktap_test cycles_keep_the_span cycles
ktap_test all_gone_span_zero all_gone
