#!/bin/sh
# Zone selection, Rust against C, under the default online policy (contig-zones). With 6 GiB of
# RAM, ZONE_NORMAL spans the pmem at 5 GiB, so onlined pmem joins Normal. Also KUnit's Rust-vs-C
# suite with the blocks in Normal and Movable at once.
#vm: --mem 6G
#vm: --file tests/scenarios/lib/zone_policy.sh:/lib/zdrs/zone_policy.sh
POLICY_ZONE=Normal
OVERLAP_ZONE=Normal
DIFFERENTIAL=1
. /lib/zdrs/zone_policy.sh
zone_policy_scenario
