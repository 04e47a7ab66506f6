#!/bin/sh
# Harness self-test: one point passes, one expects the wrong MemTotal. tests/vm/run must fail and
# name the failing point.
# kmemleak off and 2 GiB: its scans (about 80 s of a boot under TCG) check nothing here.
#vm: --mem 2G --append kmemleak=off
. /lib/zdrs/ktap.sh

ktap_plan 2

memtotal_is_read() {
	[ "$(meminfo_kb MemTotal)" -gt 0 ]
}

memtotal_is_wrong_on_purpose() {
	expect_eq "MemTotal" "$(meminfo_kb MemTotal)" 1
}

ktap_test memtotal_is_read memtotal_is_read
ktap_test memtotal_is_wrong_on_purpose memtotal_is_wrong_on_purpose
