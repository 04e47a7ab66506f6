#!/bin/sh
# Zone selection, Rust against C, with movable_node. With 4 GiB of RAM the pmem at 5 GiB lies above
# every zone, and contig-zones puts memory that no zone spans into ZONE_MOVABLE under movable_node.
#vm: --mem 4G --append "movable_node"
#vm: --file tests/scenarios/lib/zone_policy.sh:/lib/zdrs/zone_policy.sh
POLICY_ZONE=Movable
. /lib/zdrs/zone_policy.sh
zone_policy_scenario
