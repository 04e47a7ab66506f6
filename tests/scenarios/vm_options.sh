#!/bin/sh
# tests/vm/run's options, given here as '#vm:' lines: memory size, extra kernel arguments next to
# the default legacy pmem, a data file at a chosen path, and a host executable that brings its
# shared libraries (GNU sha256sum from coreutils, which busybox does not provide).
#vm: --mem 3G --append "zdrs.scenario=vm_options"
#vm: --file /usr/bin/sha256sum:/usr/local/bin/gnu-sha256sum
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
	ldd_libs=$(ls /lib/x86_64-linux-gnu/libc.so.6 /lib64/ld-linux-x86-64.so.2) || return 1
	echo "$ldd_libs"
	gnu=$(/usr/local/bin/gnu-sha256sum /scenario | cut -d' ' -f1) || return 1
	bb=$(busybox sha256sum /scenario | cut -d' ' -f1)
	/usr/local/bin/gnu-sha256sum --version | head -n 1
	expect_eq "sha256 of /scenario" "$gnu" "$bb"
}

ktap_test memory_size_from_vm_line memory_size
ktap_test kernel_arguments_from_vm_line kernel_arguments
ktap_test data_file_at_guest_path data_file
ktap_test executable_brings_its_libraries executable_with_libraries
