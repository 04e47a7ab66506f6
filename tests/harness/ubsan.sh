#!/bin/sh
# Harness self-test: every KTAP point passes, but UBSAN reports an array index out of bounds
# (LKDTM's ARRAY_BOUNDS). tests/vm/run must fail on the kernel log.
. /lib/zdrs/ktap.sh

ktap_plan 1
ktap_test lkdtm_loads modprobe lkdtm
echo ARRAY_BOUNDS > /sys/kernel/debug/provoke-crash/DIRECT
