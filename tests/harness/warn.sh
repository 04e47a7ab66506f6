#!/bin/sh
# Harness self-test: every KTAP point passes, but the kernel WARNs (LKDTM's WARNING). tests/vm/run
# must fail on the kernel log.
. /lib/zdrs/ktap.sh

ktap_plan 1
ktap_test lkdtm_loads modprobe lkdtm
echo WARNING > /sys/kernel/debug/provoke-crash/DIRECT
