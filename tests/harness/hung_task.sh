#!/bin/sh
# Harness self-test: every KTAP point passes, but a task blocks for good (LKDTM's HUNG_TASK, with
# the hung-task timeout lowered to 5 s for the test). tests/vm/run must fail on the kernel log's
# "blocked for more than" report, long before the run's own timeout.
# kmemleak off and 2 GiB: its scans (about 80 s of a boot under TCG) check nothing here.
#vm: --mem 2G --append kmemleak=off
. /lib/zdrs/ktap.sh

ktap_plan 1
ktap_test lkdtm_loads modprobe lkdtm
echo 5 > /proc/sys/kernel/hung_task_timeout_secs
echo HUNG_TASK > /sys/kernel/debug/provoke-crash/DIRECT &
# The detector runs every 5 s now: wait for its report (at most a minute), then end the run.
i=0
while [ $i -lt 60 ] && ! dmesg | grep -q 'blocked for more than'; do
	sleep 1
	i=$((i + 1))
done
