#!/bin/sh
# Zone selection, Rust against C, with movable_node. The pmem lies inside ZONE_NORMAL's span, which
# a plain 'online' inherits; where Normal and Movable overlap, movable_node makes contig-zones pick
# ZONE_MOVABLE.
#vm: --mem 6G --append "movable_node"
#vm: --file tests/scenarios/lib/zone_policy.sh:/lib/zdrs/zone_policy.sh
POLICY_ZONE=Normal
OVERLAP_ZONE=Movable
. /lib/zdrs/zone_policy.sh
zone_policy_scenario
