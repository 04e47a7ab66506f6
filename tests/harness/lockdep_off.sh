#!/bin/sh
# Harness self-test: every KTAP point passes, but lockdep switches itself off ("INFO: trying to
# register non-static key", tests/harness/modules/zdrs_lockdep_off.c) without a WARNING or BUG
# line. tests/vm/run must fail on the kernel log.
# kmemleak off and 2 GiB: its scans (about 80 s of a boot under TCG) check nothing here.
#vm: --mem 2G --append kmemleak=off
. /lib/zdrs/ktap.sh

ktap_plan 1
ktap_test lockdep_is_on grep -q 'debug_locks:.*1' /proc/lockdep_stats
modprobe zdrs_lockdep_off
