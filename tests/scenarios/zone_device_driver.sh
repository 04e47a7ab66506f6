#!/bin/sh
# samples/rust/rust_zone_device.rs, the Rust platform driver over the safe ZONE_DEVICE API
# (kernel::mm::memremap): ACPI devices with their range in _CRS, bind/unbind round trips, mmap of
# the device memory, O_DIRECT into it, unbind while mapped and while pinned, bad ranges, binding
# twice, many cycles with nothing leaked, module unload while bound, and e820_pmem bound through
# driver_override. Each point checks kernel state: /proc/iomem, zoneinfo, vmstat, /dev, dmesg.
#vm: --mem 6G --append "memmap=1G!5G memmap=512M\$6G" --acpi-table tests/vm/acpi/zone_device.dsl
#vm: --file tests/scenarios/lib/zone_device.sh:/lib/zdrs/zone_device.sh
. /lib/zdrs/ktap.sh
. /lib/zdrs/zone_device.sh

ktap_plan 16

state_at_boot=$(zd_state)
memmap_at_boot=$(memmap_pages)
memtotal_at_boot=$(meminfo_kb MemTotal)
ktap_note "at boot: $state_at_boot"

binds_both_devices() {
	modprobe rust_zone_device || return 1
	dmesg | grep 'rust_zone_device' | grep -v 'ZDRS0001:0[234]'
	zd_bound ZDRS0001:00 && zd_bound ZDRS0001:01 || { echo "ZDRS0001:00/01 not bound"; return 1; }
	zones_summary
	# Both ranges, adjacent, from an empty Device zone.
	expect_eq "Device zone spanned" "$(zone_pages Device spanned)" $((2 * ZD_RANGE_PAGES)) || return 1
	iomem_owned 180000000 && iomem_owned 188000000 || { grep -B2 -A2 ZDRS /proc/iomem; return 1; }
	grep -A1 'ZDRS0001:0[01]' /proc/iomem
	[ -c /dev/zone_device0 ] && [ -c /dev/zone_device1 ] || { ls /dev; return 1; }
	# Each range's attributes, on its misc device.
	for attr in range pages node type folio_order; do
		echo "zone_device1/$attr: $(cat /sys/class/misc/zone_device1/$attr)"
	done
	expect_eq "zone_device0 range" "$(cat /sys/class/misc/zone_device0/range)" 0x180000000-0x187ffffff &&
		expect_eq "zone_device1 range" "$(cat /sys/class/misc/zone_device1/range)" 0x188000000-0x18fffffff &&
		expect_eq "pages" "$(cat /sys/class/misc/zone_device0/pages)" "$ZD_RANGE_PAGES" &&
		expect_eq "node" "$(cat /sys/class/misc/zone_device0/node)" 0 &&
		expect_eq "type" "$(cat /sys/class/misc/zone_device0/type)" generic &&
		expect_eq "folio_order" "$(cat /sys/class/misc/zone_device0/folio_order)" 0 || return 1
	# Device memory is not System RAM.
	expect_eq "MemTotal" "$(meminfo_kb MemTotal)" "$memtotal_at_boot"
}

# The three bad ranges of tests/vm/acpi/zone_device.dsl, each refused with its errno and its own
# line in the kernel log: when modprobe bound the driver (the driver core logs the errno of a
# failed probe, except ENODEV's, which it only debug-logs), and again when bound through sysfs,
# where the write(2) returns the probe's errno.
bad_ranges_refused() {
	dmesg | grep 'ZDRS0001:0[234]'
	for dev in ZDRS0001:02 ZDRS0001:03 ZDRS0001:04; do
		! zd_bound $dev || { echo "$dev is bound"; return 1; }
	done
	# When modprobe bound the driver (binds_both_acpi_devices).
	for line in \
		'ZDRS0001:02: memremap: [mem 0x190100000-0x1901fffff] is not aligned to 0x200000 bytes' \
		'ZDRS0001:02: probe with driver rust_zone_device failed with error -22' \
		'ZDRS0001:03: [mem 0x1a0000000-0x1a7ffffff]: cannot claim it, in use (see /proc/iomem)' \
		'ZDRS0001:03: probe with driver rust_zone_device failed with error -16' \
		'ZDRS0001:04: no memory range to hot-add'; do
		dmesg | grep -qF -e "$line" || { echo "no '$line' in the kernel log of modprobe"; return 1; }
	done
	# Bound again through sysfs: the errno, and the lines of this attempt.
	# :02, 1 MiB: memremap_pages() needs 2 MiB alignment (memremap::Pagemap refuses it): EINVAL.
	zd_bind_refused ZDRS0001:02 'Invalid argument' \
		'ZDRS0001:02: memremap: [mem 0x190100000-0x1901fffff] is not aligned to 0x200000 bytes' \
		'ZDRS0001:02: probe with driver rust_zone_device failed with error -22' || return 1
	# :03, inside System RAM: memremap::request_mem_region() cannot claim it: EBUSY.
	zd_bind_refused ZDRS0001:03 'Device or resource busy' \
		'ZDRS0001:03: [mem 0x1a0000000-0x1a7ffffff]: cannot claim it, in use (see /proc/iomem)' \
		'ZDRS0001:03: probe with driver rust_zone_device failed with error -16' || return 1
	# :04, no _CRS: no memory range: ENODEV (also what the driver core returns for a device that
	# does not match; the driver's line proves that its probe ran and refused).
	zd_bind_refused ZDRS0001:04 'No such device' 'ZDRS0001:04: no memory range to hot-add' || return 1
	# Nothing of theirs stays claimed.
	! grep -q '19010.*rust_zone_device\|1a0000000-.*rust_zone_device' /proc/iomem
}

mmap_pattern() {
	ktap_show zdmap pattern /dev/zone_device0 $((32 << 20))
}

mmap_beyond_range_refused() {
	ktap_show zdmap toolong /dev/zone_device0 $((256 << 20))
}

odirect_into_mapping() {
	# A block device to read from with O_DIRECT: the legacy pmem as a raw namespace.
	modprobe -a nd_e820 nd_pmem || return 1
	[ -b /dev/pmem0 ] || { echo "no /dev/pmem0"; return 1; }
	dd if=/dev/urandom of=/dev/pmem0 bs=1M count=4 2>/dev/null || return 1
	ktap_show zdmap odirect /dev/zone_device1 /dev/pmem0 $((4 << 20))
}

bind_twice_refused() {
	before=$(zd_state)
	if zd_bind ZDRS0001:01 2>/tmp/err; then
		echo "binding a bound device succeeded"
		return 1
	fi
	cat /tmp/err
	zd_bound ZDRS0001:01 || { echo "ZDRS0001:01 lost its driver"; return 1; }
	expect_eq "state" "$(zd_state)" "$before"
}

unbind_while_mapped() {
	rm -f /tmp/ready /tmp/go
	zdmap hold /dev/zone_device0 $((8 << 20)) /tmp/ready /tmp/go > /tmp/hold.out 2>&1 &
	pid=$!
	zd_wait_ready $pid /tmp/ready /tmp/hold.out || return 1
	zd_unbind ZDRS0001:00 || return 1
	! zd_bound ZDRS0001:00 || { echo "still bound"; return 1; }
	! iomem_owned 180000000 || { echo "range still claimed"; return 1; }
	[ ! -e /dev/zone_device0 ] || { echo "/dev/zone_device0 still there"; return 1; }
	touch /tmp/go
	wait $pid
	rc=$?
	cat /tmp/hold.out
	[ $rc -eq 0 ]
}

# Unbinding while O_DIRECT reads into the mapping run. It proves that the unbind ran while the
# I/O had pages of the range pinned: the driver logged "N page(s) still in use" during that
# unbind (after its mark, before its "removed" line), so it waited for them; that the read in
# flight completed and the next one failed because the mapping was revoked (zdmap pin: EFAULT or
# a short read, after at least one read went through; anything else fails it); and that the range
# was then removed and released. zdmap pin creates its ready file after a first read went
# through. Each 1 MiB read is one bio whose 256 pages stay pinned for nearly all of it (measured
# under TCG with KASAN: 6 unbinds of 6 found them pinned; with 16 MiB reads, 2 of 6), but an
# unbind that lands between two reads finds nothing pinned and proves nothing: then the device is
# bound again and the unbind tried again, up to 5 times.
unbind_during_odirect() {
	attempt=1
	while [ $attempt -le 5 ]; do
		zd_bind ZDRS0001:00 || return 1
		misc=$(zd_misc ZDRS0001:00)
		echo "attempt $attempt: ZDRS0001:00 bound again: $misc"
		iomem_owned 180000000 || { echo "not claimed after bind"; return 1; }
		rm -f /tmp/ready
		zdmap pin "$misc" /dev/pmem0 $((1 << 20)) /tmp/ready > /tmp/pin.out 2>&1 &
		pid=$!
		zd_wait_ready $pid /tmp/ready /tmp/pin.out || return 1
		sleep 1
		zd_mark "unbind during O_DIRECT $attempt"
		zd_unbind ZDRS0001:00 || return 1
		wait $pid
		rc=$?
		cat /tmp/pin.out
		log=$(zd_log_since "unbind during O_DIRECT $attempt" | grep 'ZDRS0001:00: ')
		echo "$log"
		[ $rc -eq 0 ] || { echo "zdmap pin did not see the mapping revoked"; return 1; }
		! iomem_owned 180000000 || { echo "range still claimed"; return 1; }
		echo "$log" | tail -n 1 |
			grep -qF 'ZDRS0001:00: [mem 0x180000000-0x187ffffff]: removed from ZONE_DEVICE, released' ||
			{ echo "no 'removed' line at the end of the unbind's log"; return 1; }
		if echo "$log" | grep -q 'ZDRS0001:00: \[mem 0x180000000-0x187ffffff\]: [1-9][0-9]* page(s) still in use'; then
			echo "the unbind waited for pages that the O_DIRECT reads had pinned"
			return 0
		fi
		echo "attempt $attempt: no page was pinned when the unbind came (between two reads)"
		attempt=$((attempt + 1))
	done
	echo "no unbind came while O_DIRECT had pages pinned: not shown"
	return 1
}

unbind_while_pages_referenced() {
	zd_bind ZDRS0001:00 || return 1
	misc=$(zd_misc ZDRS0001:00)
	rm -f /tmp/ready /tmp/go /tmp/unbound
	zdmap splice "$misc" $((1 << 20)) /tmp/ready /tmp/go > /tmp/splice.out 2>&1 &
	pid=$!
	zd_wait_ready $pid /tmp/ready /tmp/splice.out || return 1
	(zd_unbind ZDRS0001:00 && touch /tmp/unbound) &
	unbinder=$!
	sleep 3
	dmesg | tail -n 2
	[ ! -e /tmp/unbound ] || { echo "unbind returned while a pipe held the pages"; return 1; }
	dmesg | tail -n 5 | grep -q 'ZDRS0001:00: .*: 256 page(s) still in use (pinned for I/O?): unbind waits for them' ||
		{ echo "no log line about the pages in use"; return 1; }
	touch /tmp/go
	wait $pid || { cat /tmp/splice.out; return 1; }
	wait $unbinder
	cat /tmp/splice.out
	[ -e /tmp/unbound ] || { echo "unbind did not finish"; return 1; }
	! iomem_owned 180000000 || { echo "range still claimed"; return 1; }
	dmesg | tail -n 1
}

mmap_after_rebind() {
	zd_bind ZDRS0001:00 || return 1
	misc=$(zd_misc ZDRS0001:00)
	ktap_show zdmap pattern "$misc" $((8 << 20))
}

cycles() {
	n=$(ktap_cycles 200)
	zd_unbind ZDRS0001:00 || return 1
	kmemleak_reset
	before=$(zd_state)
	i=0
	while [ $i -lt "$n" ]; do
		zd_bind ZDRS0001:00 || { echo "bind $i failed"; return 1; }
		iomem_owned 180000000 || { echo "cycle $i: not claimed"; return 1; }
		zd_unbind ZDRS0001:00 || { echo "unbind $i failed"; return 1; }
		i=$((i + 1))
	done
	after=$(zd_state)
	echo "$n bind/unbind cycles; before: $before"
	echo "after: $after"
	expect_eq "state after $n cycles" "$after" "$before" || return 1
	expect_no_leaks
}

module_unload_refused_while_mapped() {
	zd_bind ZDRS0001:00 || return 1
	misc=$(zd_misc ZDRS0001:00)
	rm -f /tmp/ready /tmp/go
	zdmap keep "$misc" $((4 << 20)) /tmp/ready /tmp/go > /tmp/keep.out 2>&1 &
	pid=$!
	zd_wait_ready $pid /tmp/ready /tmp/keep.out || return 1
	before=$(zd_state)
	if rmmod rust_zone_device 2>/tmp/err; then
		echo "rmmod succeeded while a process maps the device memory"
		return 1
	fi
	cat /tmp/err
	expect_eq "state" "$(zd_state)" "$before" || return 1
	touch /tmp/go
	wait $pid || { cat /tmp/keep.out; return 1; }
	cat /tmp/keep.out
}

module_unload_while_bound() {
	zd_bound ZDRS0001:00 && zd_bound ZDRS0001:01 || { echo "ZDRS0001:01 not bound"; return 1; }
	before=$(memmap_pages)
	rmmod rust_zone_device || return 1
	! grep -q rust_zone_device /proc/iomem || { echo "ranges still claimed"; return 1; }
	! ls /dev | grep -q '^zone_device' || { echo "misc devices left"; return 1; }
	# Both ranges' struct pages are freed (the raw pmem namespace keeps its own).
	expect_eq "memmap pages freed" $((before - $(memmap_pages))) $((2 * ZD_RANGE_PAGES * 64 / 4096))
}

e820_pmem_driver_override() {
	# Take e820_pmem from the C nd_e820 (its namespace and pagemap go with it).
	echo e820_pmem > /sys/bus/platform/drivers/e820_pmem/unbind || return 1
	[ ! -e /sys/bus/platform/devices/e820_pmem/driver ] || { echo "e820_pmem still bound"; return 1; }
	expect_eq "memmap pages without pmem" "$(memmap_pages)" "$memmap_at_boot" ||
		return 1
	# Loading the driver binds the ACPI devices again.
	modprobe rust_zone_device || return 1
	before=$(memmap_pages)
	echo rust_zone_device > /sys/bus/platform/devices/e820_pmem/driver_override
	echo e820_pmem > /sys/bus/platform/drivers_probe
	zd_bound e820_pmem || { dmesg | tail -n 5; echo "e820_pmem not bound"; return 1; }
	iomem_owned 140000000 || { grep -A2 'Persistent' /proc/iomem; return 1; }
	grep -A1 'Persistent Memory (legacy)' /proc/iomem
	dmesg | grep 'rust_zone_device e820_pmem' | tail -n 1
	# 1 GiB: 262144 pages, whose struct pages take 4096 pages.
	expect_eq "memmap pages added" $(($(memmap_pages) - before)) 4096 || return 1
	misc=$(zd_misc e820_pmem)
	ktap_show zdmap pattern "$misc" $((8 << 20)) || return 1
	zd_unbind e820_pmem || return 1
	! iomem_owned 140000000 || { echo "legacy pmem still claimed"; return 1; }
	expect_eq "memmap pages after unbind" "$(memmap_pages)" "$before" || return 1
	echo > /sys/bus/platform/devices/e820_pmem/driver_override
}

compound_struct_pages() {
	rmmod rust_zone_device || return 1
	# An order beyond the largest folio is refused on every device, with one line each.
	modprobe rust_zone_device vmemmap_shift=40 || return 1
	! zd_bound ZDRS0001:00 || { echo "bound with vmemmap_shift=40"; return 1; }
	dmesg | grep -q 'ZDRS0001:00: memremap: vmemmap_shift 40 exceeds the largest folio order' ||
		{ echo "no refusal in dmesg"; return 1; }
	rmmod rust_zone_device || return 1
	# 2 MiB folios: 512 struct pages each, mapped page by page.
	modprobe rust_zone_device vmemmap_shift=9 || return 1
	zd_bound ZDRS0001:00 || { echo "not bound with vmemmap_shift=9"; return 1; }
	dmesg | grep 'ZDRS0001:00: .*order-9 folios' | tail -n 1
	misc=$(zd_misc ZDRS0001:00)
	expect_eq "folio_order" "$(cat /sys/class/misc/${misc#/dev/}/folio_order)" 9 || return 1
	ktap_show zdmap pattern "$misc" $((8 << 20)) || return 1
	rm -f /tmp/ready /tmp/go
	zdmap hold "$misc" $((4 << 20)) /tmp/ready /tmp/go > /tmp/hold.out 2>&1 &
	pid=$!
	zd_wait_ready $pid /tmp/ready /tmp/hold.out || return 1
	zd_unbind ZDRS0001:00 || return 1
	touch /tmp/go
	wait $pid || { cat /tmp/hold.out; return 1; }
	cat /tmp/hold.out
	! iomem_owned 180000000 || { echo "range still claimed"; return 1; }
}

nothing_leaked() {
	rmmod rust_zone_device || return 1
	expect_no_leaks
	expect_eq "memmap pages" "$(memmap_pages)" "$memmap_at_boot"
}

ktap_test binds_both_acpi_devices binds_both_devices
ktap_test bad_ranges_refused_with_errno_and_dmesg bad_ranges_refused
ktap_test mmap_write_read_pattern mmap_pattern
ktap_test mmap_beyond_the_range_refused mmap_beyond_range_refused
ktap_test odirect_read_into_the_mapping odirect_into_mapping
ktap_test bind_twice_refused bind_twice_refused
ktap_test unbind_while_mapped_revokes_with_sigbus unbind_while_mapped
ktap_test unbind_during_odirect_io_completes unbind_during_odirect
ktap_test unbind_waits_while_pages_are_referenced unbind_while_pages_referenced
ktap_test mmap_after_rebind mmap_after_rebind
ktap_test bind_unbind_cycles_leave_no_trace cycles
ktap_test module_unload_refused_while_mapped module_unload_refused_while_mapped
ktap_test module_unload_while_bound module_unload_while_bound
ktap_test e820_pmem_through_driver_override e820_pmem_driver_override
ktap_test compound_struct_pages compound_struct_pages
ktap_test nothing_leaked nothing_leaked
