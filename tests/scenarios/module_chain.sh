#!/bin/sh
# Our out-of-tree Rust module and the kernel's in-tree Rust sample load, run and unload.
. /lib/zdrs/ktap.sh

ktap_plan 5

loads_with_parameter() {
	modprobe rust_zdrs_hello greeting_repeat=2 || return 1
	dmesg | grep 'rust_zdrs_hello' | tail -n 2
	dmesg | grep -q 'hello 2/2 from an out-of-tree Rust module' || { echo "no greeting 2/2 in dmesg"; return 1; }
	[ -d /sys/module/rust_zdrs_hello ] || { echo "not in /sys/module"; return 1; }
}

unloads() {
	rmmod rust_zdrs_hello || return 1
	dmesg | grep -q 'goodbye after 2 greeting(s)' || { echo "no goodbye in dmesg"; return 1; }
	[ ! -d /sys/module/rust_zdrs_hello ] || { echo "still in /sys/module"; return 1; }
}

rejects_bad_parameter() {
	if modprobe rust_zdrs_hello greeting_repeat=0 2>/tmp/err; then
		echo "loaded with greeting_repeat=0"
		return 1
	fi
	cat /tmp/err
	grep -q 'Invalid argument' /tmp/err || { echo "not EINVAL"; return 1; }
	dmesg | grep -q 'greeting_repeat=0 is outside 1..=8' || { echo "no dmesg line"; return 1; }
	[ ! -d /sys/module/rust_zdrs_hello ] || { echo "left loaded"; return 1; }
}

in_tree_sample() {
	modprobe rust_minimal || return 1
	dmesg | grep -q 'Rust minimal sample (init)' || return 1
	rmmod rust_minimal && dmesg | grep -q 'Rust minimal sample (exit)'
}

ktap_test out_of_tree_module_loads_with_parameter loads_with_parameter
ktap_kunit rust_zdrs_hello
ktap_test out_of_tree_module_unloads unloads
ktap_test out_of_tree_module_rejects_bad_parameter rejects_bad_parameter
ktap_test in_tree_rust_sample_loads_and_unloads in_tree_sample
