#!/bin/sh
# Zone selection, Rust against C, under memory_hotplug.online_policy=auto-movable: 1 GiB of pmem
# is within the default ratio (301% of the boot memory), so it goes to ZONE_MOVABLE. Also KUnit's
# Rust-vs-C suite with the blocks in Normal and Movable at once.
#vm: --mem 6G --append "memory_hotplug.online_policy=auto-movable"
#vm: --file tests/scenarios/lib/zone_policy.sh:/lib/zdrs/zone_policy.sh
POLICY_ZONE=Movable
OVERLAP_ZONE=Movable
DIFFERENTIAL=1
. /lib/zdrs/zone_policy.sh
zone_policy_scenario
