#!/bin/sh
# Harness self-test: every KTAP point passes, then the guest kernel crashes (sysrq c). tests/vm/run
# must fail on the kernel log, not trust the KTAP.
# kmemleak off and 2 GiB: its scans (about 80 s of a boot under TCG) check nothing here.
#vm: --mem 2G --append kmemleak=off
. /lib/zdrs/ktap.sh

ktap_plan 1
ktap_test sysrq_is_available test -w /proc/sysrq-trigger
echo 1 > /proc/sys/kernel/sysrq
echo c > /proc/sysrq-trigger
