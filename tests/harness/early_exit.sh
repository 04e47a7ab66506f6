#!/bin/sh
# Harness self-test: the scenario plans three points, passes one and exits 0. tests/vm/run must
# fail: a guest that ends before its plan is complete has not run what it promised.
# kmemleak off and 2 GiB: its scans (about 80 s of a boot under TCG) check nothing here.
#vm: --mem 2G --append kmemleak=off
. /lib/zdrs/ktap.sh

ktap_plan 3
ktap_test the_only_point_that_runs true
exit 0
