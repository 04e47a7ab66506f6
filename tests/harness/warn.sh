#!/bin/sh
# Harness self-test: every KTAP point passes, but the kernel WARNs (LKDTM's WARNING). tests/vm/run
# must fail on the kernel log.
# kmemleak off and 2 GiB: its scans (about 80 s of a boot under TCG) check nothing here.
#vm: --mem 2G --append kmemleak=off
. /lib/zdrs/ktap.sh

ktap_plan 1
ktap_test lkdtm_loads modprobe lkdtm
echo WARNING > /sys/kernel/debug/provoke-crash/DIRECT
