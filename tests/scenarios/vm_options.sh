#!/bin/sh
# tests/vm/run's options, given here as '#vm:' lines: memory size, extra kernel arguments next to
# the default legacy pmem, a data file at a chosen path, and a host executable that brings its
# shared libraries (GNU bc: libreadline and libtinfo are in no other file of the initramfs).
#vm: --mem 3G --append "zdrs.scenario=vm_options"
#vm: --file /usr/bin/bc:/usr/local/bin/bc
#vm: --file tests/scenarios/vm_options.sh:/root/data/copy.sh
. /lib/zdrs/ktap.sh

ktap_plan 4

memory_size() {
	total=$(meminfo_kb MemTotal)
	echo "MemTotal $total kB"
	# 3 GiB of RAM less what the kernel keeps; the 1 GiB of pmem at 5 GiB is above it and unused.
	[ "$total" -gt $((2 * 1024 * 1024)) ] && [ "$total" -le $((3 * 1024 * 1024)) ]
}

kernel_arguments() {
	cat /proc/cmdline
	grep -qw 'zdrs.scenario=vm_options' /proc/cmdline || { echo "no --append argument"; return 1; }
	grep -qw 'memmap=1G!5G' /proc/cmdline || { echo "no default memmap"; return 1; }
	grep -qw 'kunit.autorun=0' /proc/cmdline
}

data_file() {
	cmp /scenario /root/data/copy.sh
}

executable_with_libraries() {
	ls -l /lib/x86_64-linux-gnu/libreadline.so.8 /lib/x86_64-linux-gnu/libtinfo.so.6 || return 1
	expect_eq "2^20 by bc" "$(echo '2^20' | /usr/local/bin/bc)" 1048576
}

ktap_test memory_size_from_vm_line memory_size
ktap_test kernel_arguments_from_vm_line kernel_arguments
ktap_test data_file_at_guest_path data_file
ktap_test executable_brings_its_libraries executable_with_libraries
