#!/bin/sh
# Rollback of a failed hot-add on the Rust path (mm/memremap_rust.rs): each step of
# pagemap_range() is made to fail through /sys/kernel/debug/fail_pagemap_range (CONFIG_FAIL_PAGEMAP_RANGE).
# For every step the caller gets the step's errno, and /proc/zoneinfo, /proc/iomem, the pagemap
# xarray, MemTotal and the memmap pages are exactly as before; the next hot-add succeeds. The
# consumers: the Rust driver (a generic pagemap: arch_add_memory) and lib/test_hmm (device-private
# pagemaps: add_pages).
#vm: --mem 6G --append "memmap=512M\$6G" --acpi-table tests/vm/acpi/zone_device.dsl
#vm: --file tests/scenarios/lib/zone_device.sh:/lib/zdrs/zone_device.sh
. /lib/zdrs/ktap.sh
. /lib/zdrs/zone_device.sh

ktap_plan 9

FAIL=/sys/kernel/debug/fail_pagemap_range

# rollback_state: everything a failed hot-add must leave as it was.
rollback_state() {
	echo "pagemap xarray:"
	cat $FAIL/pgmap_array
	echo "Device zone: $(zone_lines Device)"
	echo "MemTotal $(meminfo_kb MemTotal) kB, $(memmap_pages) memmap pages"
	echo "/proc/iomem:"
	cat /proc/iomem
}

# arm STEP [TIMES]: the next hot-add (or TIMES of them) fails at STEP.
arm() {
	echo "$1" > $FAIL/step && echo 100 > $FAIL/probability && echo "${2:-1}" > $FAIL/times &&
		echo 1 > $FAIL/verbose
}

disarm() {
	echo none > $FAIL/step && echo 0 > $FAIL/probability
}

# expect_rollback BEFORE: the state equals BEFORE; prints the difference if not.
expect_rollback() {
	rollback_state > /tmp/after
	echo "$1" > /tmp/before
	cmp -s /tmp/before /tmp/after && return 0
	echo "the state changed:"
	diff /tmp/before /tmp/after
	return 1
}

fault_injection_knob() {
	echo "steps: $(cat $FAIL/step)"
	expect_eq "steps" "$(cat $FAIL/step)" "xa_store pfnmap_track range_allowed kasan add_memory [none]" ||
		return 1
	if echo no_such_step > $FAIL/step 2>/tmp/err; then
		echo "an unknown step was taken"
		return 1
	fi
	cat /tmp/err
	grep -q 'Invalid argument' /tmp/err || { echo "not EINVAL"; return 1; }
	echo kasan > $FAIL/step && expect_eq "selected" "$(cat $FAIL/step)" \
		"xa_store pfnmap_track range_allowed [kasan] add_memory none" || return 1
	disarm
	# The driver binds both ranges; :01 stays bound through this scenario, so that a rollback
	# that took the wrong xarray entries or zone span would show.
	modprobe rust_zone_device || return 1
	zd_bound ZDRS0001:00 && zd_bound ZDRS0001:01 || return 1
	zd_unbind ZDRS0001:00
}

# step_rolls_back STEP ERRNO_TEXT: binding ZDRS0001:00 fails at STEP with ERRNO_TEXT and leaves
# the state as it was; then it binds, maps, unbinds.
step_rolls_back() {
	before=$(rollback_state)
	dmesg -c > /dev/null
	arm "$1" || return 1
	if zd_bind ZDRS0001:00 2>/tmp/err; then
		disarm
		echo "binding succeeded with $1 failing"
		return 1
	fi
	disarm
	cat /tmp/err
	dmesg | grep -e FAULT_INJECTION -e ZDRS0001:00
	expect_eq "fault injected" "$(cat $FAIL/times)" 0 || return 1
	grep -q "$2" /tmp/err || { echo "the write did not fail with: $2"; return 1; }
	dmesg | grep -q 'ZDRS0001:00: memremap: memremap_pages() failed' ||
		{ echo "the driver did not report the failure"; return 1; }
	! zd_bound ZDRS0001:00 || { echo "ZDRS0001:00 is bound"; return 1; }
	expect_rollback "$before" || return 1
	# A hot-add after it succeeds.
	zd_bind ZDRS0001:00 || return 1
	zdmap pattern "$(zd_misc ZDRS0001:00)" $((4 << 20)) || return 1
	zd_unbind ZDRS0001:00 || return 1
	expect_rollback "$before"
}

# private_rolls_back: lib/test_hmm's device-private pagemaps (add_pages, no linear mapping) fail
# to load at add_memory and leave the state as it was; loading after it succeeds.
private_rolls_back() {
	before=$(rollback_state)
	# Twice: when finit_module() fails, busybox's modprobe tries init_module().
	arm add_memory 2 || return 1
	if modprobe test_hmm 2>/tmp/err; then
		disarm
		echo "test_hmm loaded with add_memory failing"
		return 1
	fi
	disarm
	cat /tmp/err
	expect_eq "fault injected" "$(cat $FAIL/times)" 0 || return 1
	grep -q 'Cannot allocate memory' /tmp/err || { echo "not ENOMEM"; return 1; }
	expect_rollback "$before" || return 1
	modprobe test_hmm || return 1
	[ -c /dev/hmm_dmirror0 ] || { echo "no /dev/hmm_dmirror0"; return 1; }
	grep -c . $FAIL/pgmap_array | sed 's/$/ pagemap xarray entries with test_hmm loaded/'
	rmmod test_hmm || return 1
	expect_rollback "$before"
}

# c_path_ignores: the injection points are the Rust port's: with memremap.pagemap_rust=N the
# same bind succeeds and the fault is not used up.
c_path_ignores() {
	arm xa_store || return 1
	with_pagemap_rust N zd_bind ZDRS0001:00
	rc=$?
	expect_eq "fault attribute times" "$(cat $FAIL/times)" 1
	rc2=$?
	disarm
	[ $rc -eq 0 ] && [ $rc2 -eq 0 ] || return 1
	zd_unbind ZDRS0001:00
}

nothing_leaked() {
	rmmod rust_zone_device || return 1
	expect_no_leaks
}

ktap_test fault_injection_knob fault_injection_knob
ktap_test xa_store_rolls_back step_rolls_back xa_store 'Cannot allocate memory'
ktap_test pfnmap_track_rolls_back step_rolls_back pfnmap_track 'Invalid argument'
ktap_test range_allowed_rolls_back step_rolls_back range_allowed 'Invalid argument'
ktap_test kasan_rolls_back step_rolls_back kasan 'Cannot allocate memory'
ktap_test add_memory_rolls_back step_rolls_back add_memory 'Cannot allocate memory'
ktap_test private_add_pages_rolls_back private_rolls_back
ktap_test c_path_unchanged_by_fault_injection c_path_ignores
ktap_test nothing_leaked nothing_leaked
