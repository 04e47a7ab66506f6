#!/bin/sh
# Issue 19: a process that migrated transparent huge pages to a device-private test_hmm device
# dies while, or before, another process closes the device, which makes test_hmm evict every page
# of the device (dmirror_fops_release() -> migrate_device_range()). hmm_kill
# (tests/vm/guest/hmm_kill.c):
#   kill   kills the owner during its migrations, and evicts afterwards;
#   race   lets the owner exit while the eviction of its pages runs;
#   exit   kills an owner whose exit takes long, and evicts while it exits: the eviction turns its
#          huge device pages into PMD migration entries, which exit_mmap() zapped as device-private
#          entries and freed under the eviction before patch 0010 (an oops in
#          dmirror_device_evict_chunk(), on the Rust path in 3 of 3 boots; the C path passed
#          once, an earlier variant oopsed there too).
# The kernel's HMM selftests, unchanged, replay the reported sequence: their harness kills
# benchmark_thp_migration at its 120 s timeout (under TCG and KASAN, midway) and the next test's
# close evicts the device's pages while the killed process still exits; without patch 0009, KASAN
# reported the use-after-free of its anon_vma in rmap_walk_anon(). On both pagemap paths
# (memremap.pagemap_rust=Y and N); each point fails on a kernel report during it (KASAN, BUG,
# WARNING), on data that did not survive a round trip, or when test_hmm does not unload with
# ZONE_DEVICE back to where it was.
#vm: --mem 6G --append "memmap=512M\$5G" --timeout 1500
. /lib/zdrs/ktap.sh

ROUNDS=$(ktap_cycles 10)
ktap_plan 8

memmap_at_boot=$(memmap_pages)

# with_test_hmm CMD...: CMD with test_hmm loaded; then test_hmm unloads and leaves nothing behind.
with_test_hmm() {
	modprobe test_hmm spm_addr_dev0=0x140000000 spm_addr_dev1=0x150000000 || return 1
	"$@"
	rc=$?
	rmmod test_hmm || return 1
	expect_eq "Device zone spanned" "$(zone_pages Device spanned)" 0 || return 1
	expect_eq "memmap pages" "$(memmap_pages)" "$memmap_at_boot" || return 1
	return $rc
}

# thp_kill MODE: ROUNDS rounds of hmm_kill MODE on test_hmm's first device-private device.
thp_kill() {
	grep -qE '\[(always|madvise)\]' /sys/kernel/mm/transparent_hugepage/enabled ||
		{ echo "THP is off: $(cat /sys/kernel/mm/transparent_hugepage/enabled)"; return 1; }
	ktap_show hmm_kill "$1" /dev/hmm_dmirror0 "$ROUNDS"
}

# benchmark_killed: hmm-tests runs benchmark_thp_migration, which its harness kills at its
# timeout, and then userfaultfd_read, whose close evicts the device's pages; the first must have
# been killed midway and the second must pass. Returns once the killed process is gone.
benchmark_killed() {
	out=$(hmm-tests -r hmm.hmm_device_private.benchmark_thp_migration \
		-r hmm.hmm_device_private.userfaultfd_read 2>&1)
	ret=0
	echo "$out" | grep -q 'benchmark_thp_migration: Test terminated by timeout' ||
		{ echo "benchmark_thp_migration was not killed midway"; ret=1; }
	echo "$out" | grep -q '^ok [0-9]* hmm.hmm_device_private.userfaultfd_read' ||
		{ echo "userfaultfd_read did not pass"; ret=1; }
	[ $ret = 0 ] || echo "$out"
	i=0
	while grep -qx hmm-tests /proc/[0-9]*/comm 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 300 ] || { echo "the killed benchmark still runs after 300 s"; return 1; }
		sleep 1
	done
	return $ret
}

# on_path Y|N MODE: thp_kill MODE with that pagemap path; fails on a kernel report during it.
on_path() {
	before=$(dmesg | wc -l)
	if [ "$2" = benchmark ]; then
		with_pagemap_rust "$1" with_test_hmm benchmark_killed
	else
		with_pagemap_rust "$1" with_test_hmm thp_kill "$2"
	fi
	rc=$?
	if dmesg | tail -n +"$((before + 1))" | grep -E 'BUG:|KASAN|WARNING:|Oops'; then
		echo "the kernel reported the above"
		return 1
	fi
	return $rc
}

ktap_test thp_owner_killed_mid_migration_then_device_closed_rust on_path Y kill
ktap_test thp_owner_killed_mid_migration_then_device_closed_c on_path N kill
ktap_test thp_owner_exits_during_eviction_rust on_path Y race
ktap_test thp_owner_exits_during_eviction_c on_path N race
ktap_test thp_owner_dies_while_device_evicted_rust on_path Y exit
ktap_test thp_owner_dies_while_device_evicted_c on_path N exit
ktap_test benchmark_killed_midway_then_next_test_closes_device_rust on_path Y benchmark
ktap_test benchmark_killed_midway_then_next_test_closes_device_c on_path N benchmark
