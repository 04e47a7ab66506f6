#!/bin/sh
# Harness self-test: every KTAP point passes, but a module leaks memory
# (tests/harness/modules/zdrs_kmemleak.c) and the scenario never scans for leaks. The runner's own
# scan at the end of the run (tests/vm/guest/init) must find the leaks, and tests/vm/run must fail
# on them.
. /lib/zdrs/ktap.sh

ktap_plan 1
ktap_test leaking_module_loads modprobe zdrs_kmemleak
