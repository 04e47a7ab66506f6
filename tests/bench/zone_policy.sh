#!/bin/sh
# make bench, in the bench kernel (no debug checkers): the zone_policy_bench KUnit suite times the
# C and the Rust zone_for_pfn_range() on the live zones of this boot, RUNS times, and prints
# nanoseconds per decision and the Rust/C ratio. Each run is a KTAP point: the suite fails if the
# two implementations disagree on a decision they time.
. /lib/zdrs/ktap.sh

RUNS=5
ktap_plan $((RUNS + 1))
for run in $(seq $RUNS); do
	ktap_kunit zone_policy_bench
done

bench_lines() {
	dmesg | grep -o 'zone_policy: bench: .*'
	[ "$(dmesg | grep -c 'zone_policy: bench: ')" -eq $((RUNS * 2)) ]
}
ktap_test "each run printed both policies" bench_lines
