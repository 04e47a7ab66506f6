#!/bin/sh
# Zone selection, Rust against C, with memhp_default_state=online_movable: the kernel onlines
# hot-added memory into ZONE_MOVABLE itself. Offlined and onlined again by hand, the policy
# (contig-zones) puts it back into Normal, which spans it with 6 GiB of RAM.
#vm: --mem 6G --append "memhp_default_state=online_movable"
#vm: --file tests/scenarios/lib/zone_policy.sh:/lib/zdrs/zone_policy.sh
POLICY_ZONE=Normal
OVERLAP_ZONE=Normal
AUTO_ZONE=Movable
. /lib/zdrs/zone_policy.sh
zone_policy_scenario
