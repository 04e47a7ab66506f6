#!/bin/sh
# The kernel's HMM selftests (tools/testing/selftests/mm/hmm-tests.c, built by
# tests/vm/mkinitramfs) against lib/test_hmm.ko, with device memory added and removed by the Rust
# port (memremap.pagemap_rust=Y): device-private pagemaps (add_pages(), no linear mapping, from
# request_free_mem_region()) and device-coherent ones (arch_add_memory()) on reserved memory at
# 5 GiB (memmap=512M$5G: test_hmm's spm_addr_dev0/1, 256 MiB each). Each selftest is a KTAP point;
# 67 of its 78 run in make test and the other 11 are reported as skipped with their reason, 68 run
# in make soak (see private_selftests and coherent_selftests).
#vm: --mem 6G --append "memmap=512M\$5G"
. /lib/zdrs/ktap.sh

ktap_plan 5

PARAM=/sys/module/memremap/parameters/pagemap_rust
memmap_at_boot=$(memmap_pages)

load_test_hmm() {
	expect_eq "memremap.pagemap_rust" "$(cat $PARAM)" Y || return 1
	ktap_show modprobe test_hmm spm_addr_dev0=0x140000000 spm_addr_dev1=0x150000000 || return 1
	ls -l /dev/hmm_dmirror*
	for i in 0 1 2 3; do
		[ -c /dev/hmm_dmirror$i ] || { echo "no /dev/hmm_dmirror$i"; return 1; }
	done
	grep hmm_dmirror /proc/iomem
	zones_summary
	[ "$(zone_pages Device spanned)" -gt 0 ] || { echo "nothing in ZONE_DEVICE"; return 1; }
	# For the hugetlb tests.
	echo 4 > /proc/sys/vm/nr_hugepages
	expect_eq "huge pages" "$(cat /proc/sys/vm/nr_hugepages)" 4
}

# The selftests on the device-private devices. benchmark_thp_migration, a timing loop that asserts
# nothing about the kernel's state and needs far more than its 120 s under TCG and KASAN, runs in
# make soak only, built with its timeout scaled (hmm-tests-slow, tests/vm/guest/kselftest_slow.h).
# (The harness takes the first filter that matches: exclusions go first.)
private_selftests() {
	if [ "$(ktap_cycles 0)" -gt 0 ]; then
		hmm-tests-slow -v hmm_device_private -v hmm2_device_private
	else
		ktap_kselftest_skip hmm.hmm_device_private.benchmark_thp_migration \
			"a timing loop that needs far more than its 120 s under TCG and KASAN: make soak runs it"
		hmm-tests-tcg -T benchmark_thp_migration -v hmm_device_private -v hmm2_device_private
	fi
}

# The selftests on the device-coherent devices, with transparent huge pages off and without the
# tests of huge device pages: test_hmm gives a coherent device one fixed 256 MiB range at
# spm_addr_devN, and when it wants huge pages it maps that range a second time (the pagemap
# conflict WARN, later an oops in dmirror_migrate_to_device()), with memremap.pagemap_rust=N too.
coherent_selftests() {
	thp=/sys/kernel/mm/transparent_hugepage/enabled
	was=$(sed 's/.*\[\(.*\)\].*/\1/' $thp)
	echo never > $thp || return 1
	huge=''
	for t in anon_write_huge migrate_anon_huge_empty migrate_anon_huge_zero migrate_anon_huge_free \
		migrate_anon_huge_fault migrate_partial_unmap_fault migrate_remap_fault \
		migrate_anon_huge_err migrate_anon_huge_zero_err benchmark_thp_migration; do
		huge="$huge -T $t"
		ktap_kselftest_skip "hmm.hmm_device_coherent.$t" \
			"huge pages on a coherent device: test_hmm maps its fixed range a second time"
	done
	# shellcheck disable=SC2086
	hmm-tests-tcg $huge -v hmm_device_coherent -v hmm2_device_coherent
	rc=$?
	echo "$was" > $thp
	return $rc
}

unload_test_hmm() {
	rmmod test_hmm || return 1
	zones_summary
	expect_eq "Device zone spanned" "$(zone_pages Device spanned)" 0 || return 1
	expect_eq "memmap pages" "$(memmap_pages)" "$memmap_at_boot" || return 1
	! grep hmm_dmirror /proc/iomem || { echo "a test_hmm range is still claimed"; return 1; }
}

nothing_leaked() {
	echo 0 > /proc/sys/vm/nr_hugepages
	expect_no_leaks
}

ktap_test test_hmm_loads_on_the_rust_path load_test_hmm
ktap_kselftest hmm_selftests_device_private private_selftests
ktap_kselftest hmm_selftests_device_coherent coherent_selftests
ktap_test test_hmm_unloads unload_test_hmm
ktap_test nothing_leaked nothing_leaked
