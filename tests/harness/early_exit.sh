#!/bin/sh
# Harness self-test: the scenario plans three points, passes one and exits 0. tests/vm/run must
# fail: a guest that ends before its plan is complete has not run what it promised.
. /lib/zdrs/ktap.sh

ktap_plan 3
ktap_test the_only_point_that_runs true
exit 0
