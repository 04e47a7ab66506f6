#!/bin/sh
# Every KUnit suite built into the kernel (the Rust doctests among them), run through debugfs.
. /lib/zdrs/ktap.sh

suites=$(ls /sys/kernel/debug/kunit)
ktap_plan "$(echo "$suites" | wc -w)"
for suite in $suites; do
	ktap_kunit "$suite"
done
