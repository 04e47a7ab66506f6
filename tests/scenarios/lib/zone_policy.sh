#!/bin/sh
# Memory hotplug's zone selection, Rust (memory_hotplug.zone_policy_rust=Y, the default) against C
# (=N) in one boot, end to end: valid_zones of every memory block, onlining through sysfs and
# through daxctl, with the online policy and boot options of the scenario that sources this. The
# memory comes from device-dax on the legacy pmem (memmap=1G!5G), hot-added offline as system-ram.
#
# The sourcing scenario sets:
#   POLICY_ZONE     the zone a plain 'online' puts the offline pmem blocks in (the policy's answer)
#   AUTO_ZONE       the zone the kernel onlines hot-added memory to itself (memhp_default_state),
#                   if it does
#   DIFFERENTIAL    1 to run the KUnit Rust-vs-C suite with the blocks in mixed zones
#   OVERLAP_ZONE    the zone a plain 'online' picks where Normal and Movable overlap (the pmem
#                   blocks in between two blocks onlined movable)
# and calls zone_policy_scenario.
. /lib/zdrs/ktap.sh

param=/sys/module/memory_hotplug/parameters/zone_policy_rust
memory=/sys/devices/system/memory

# use_impl Y|N: the implementation the kernel selects zones with from now on.
use_impl() {
	echo "$1" > "$param" && [ "$(cat "$param")" = "$1" ]
}

# pmem_blocks: the memory blocks of dax0.0 once it is system-ram: those that start in the legacy
# pmem, [5 GiB, 6 GiB). It must lie inside the VM's RAM (6 GiB: RAM up to 7 GiB): pmem above the
# RAM gets no NUMA node, and kmem refuses it.
pmem_blocks() {
	block_bytes=$((0x$(cat $memory/block_size_bytes)))
	first=$(((5 << 30) / block_bytes))
	last=$(((6 << 30) / block_bytes - 1))
	for id in $(seq "$first" "$last"); do
		[ -d "$memory/memory$id" ] && echo "memory$id"
	done
}

# block_zones BLOCK...: 'BLOCK STATE VALID_ZONES' for each block.
block_zones() {
	for b in "$@"; do
		echo "$b $(cat $memory/$b/state) $(cat $memory/$b/valid_zones)"
	done
}

# set_state STATE BLOCK...: writes STATE to each block's state, retrying an offline that the
# kernel refuses for a moment (pages in use that it must migrate first).
set_state() {
	state=$1
	shift
	for b in "$@"; do
		tries=0
		until echo "$state" > "$memory/$b/state" 2>/dev/null; do
			[ "$(cat $memory/$b/state)" = "${state%%_*}" ] && break
			tries=$((tries + 1))
			[ $tries -lt 5 ] || { echo "$b: cannot write '$state'"; return 1; }
			sleep 1
		done
	done
}

parameter() {
	[ -f "$param" ] || { echo "no $param"; return 1; }
	expect_eq "zone_policy_rust at boot" "$(cat "$param")" Y || return 1
	ls -l "$param"
	case "$(ls -l "$param")" in
	-rw-r--r--*) ;;
	*) echo "zone_policy_rust is not root-writable, world-readable"; return 1 ;;
	esac
	use_impl N && use_impl Y
}

devdax_offline_system_ram() {
	modprobe -a nd_e820 dax_pmem device_dax kmem || return 1
	ktap_show ndctl create-namespace --mode=devdax --align=2M --region=region0 || return 1
	if [ -n "${AUTO_ZONE:-}" ]; then
		# daxctl refuses to reconfigure when the kernel onlines hot-added memory itself: hand
		# dax0.0 to kmem through sysfs, as daxctl would.
		echo dax0.0 > /sys/bus/dax/drivers/device_dax/unbind || return 1
		echo dax0.0 > /sys/bus/dax/drivers/kmem/new_id || return 1
	else
		ktap_show daxctl reconfigure-device --mode=system-ram --no-online dax0.0 || return 1
	fi
	blocks=$(pmem_blocks)
	[ -n "$blocks" ] || { echo "no memory blocks for the pmem"; return 1; }
	if [ -n "${AUTO_ZONE:-}" ]; then
		# The kernel onlined them as it added them: check where, then offline them for the
		# comparisons below.
		block_zones $blocks
		for b in $blocks; do
			expect_eq "$b zone (auto-online)" "$(cat $memory/$b/valid_zones)" "$AUTO_ZONE" ||
				return 1
		done
		set_state offline $blocks || return 1
	fi
	echo "$(echo $blocks | wc -w) pmem memory blocks, offline"
	block_zones $blocks
}

# block_zones_rust_equals_c NAME BLOCK...: block_zones of the blocks under C, then under Rust
# (left selected), into /tmp/NAME.c and /tmp/NAME.rust, which must be identical.
block_zones_rust_equals_c() {
	name=$1
	shift
	use_impl N && block_zones "$@" > "/tmp/$name.c" || return 1
	use_impl Y && block_zones "$@" > "/tmp/$name.rust" || return 1
	diff "/tmp/$name.c" "/tmp/$name.rust"
}

# expect_default_zone ZONE BLOCK...: valid_zones of each block names ZONE first.
expect_default_zone() {
	zone=$1
	shift
	for b in "$@"; do
		valid=$(cat $memory/$b/valid_zones)
		expect_eq "$b default zone" "${valid%% *}" "$zone" || return 1
	done
}

valid_zones_rust_equals_c() {
	block_zones_rust_equals_c zones $(ls $memory | grep '^memory[0-9]') || return 1
	offline=$(grep -c ' offline ' /tmp/zones.rust)
	echo "$(wc -l < /tmp/zones.rust) memory blocks, $offline offline: valid_zones identical"
	[ "$offline" -gt 0 ] || { echo "no offline block to decide about"; return 1; }
	expect_default_zone "$POLICY_ZONE" $blocks
}

# online_with IMPL HOW: onlines the pmem blocks with HOW ('sysfs STATE' or 'daxctl ARGS...') under
# IMPL, prints where they went, and offlines them again.
online_with() {
	impl=$1
	how=$2
	shift 2
	[ -n "$blocks" ] || { echo "no pmem memory blocks"; return 1; }
	use_impl "$impl" || return 1
	case $how in
	sysfs) set_state "$1" $blocks || return 1 ;;
	daxctl) daxctl online-memory "$@" dax0.0 >/dev/null 2>&1 || { echo "daxctl online-memory $* failed"; return 1; } ;;
	esac
	block_zones $blocks
	set_state offline $blocks
}

# onlining_rust_equals_c HOW ARGS: the same onlining under Rust and under C lands in the same zones.
onlining_rust_equals_c() {
	online_with Y "$@" > /tmp/online.rust || { cat /tmp/online.rust; return 1; }
	online_with N "$@" > /tmp/online.c || { cat /tmp/online.c; return 1; }
	use_impl Y
	sed 's/^/rust: /' /tmp/online.rust
	diff /tmp/online.c /tmp/online.rust
}

sysfs_online() {
	onlining_rust_equals_c sysfs online || return 1
	for b in $blocks; do
		grep -q "^$b online $POLICY_ZONE\$" /tmp/online.rust ||
			{ echo "$b: not online in $POLICY_ZONE"; return 1; }
	done
}

sysfs_online_kernel_and_movable() {
	onlining_rust_equals_c sysfs online_kernel || return 1
	grep -q " online Normal\$" /tmp/online.rust || { echo "online_kernel: not Normal"; return 1; }
	onlining_rust_equals_c sysfs online_movable || return 1
	! grep -qv " online Movable\$" /tmp/online.rust || { echo "online_movable: not Movable"; return 1; }
}

daxctl_online() {
	# daxctl onlines as online_movable unless told --no-movable, which leaves it to the policy.
	onlining_rust_equals_c daxctl || return 1
	! grep -qv " online Movable\$" /tmp/online.rust || { echo "daxctl default: not Movable"; return 1; }
	onlining_rust_equals_c daxctl --no-movable || return 1
	! grep -qv " online $POLICY_ZONE\$" /tmp/online.rust ||
		{ echo "daxctl --no-movable: not $POLICY_ZONE"; return 1; }
}

# Two blocks onlined movable, one at each end, make Movable span the blocks in between, which
# Normal spans too: where zones overlap, contig-zones picks Movable only under movable_node.
zones_overlap() {
	# shellcheck disable=SC2086
	set -- $blocks
	[ $# -ge 3 ] || { echo "only $# pmem blocks"; return 1; }
	first=$1
	shift
	middle=
	while [ $# -gt 1 ]; do
		middle="$middle $1"
		shift
	done
	last=$1
	set_state online_movable "$first" "$last" || return 1
	status=0
	block_zones_rust_equals_c overlap $middle || status=1
	sed 's/^/rust: /' /tmp/overlap.rust
	expect_default_zone "$OVERLAP_ZONE" $middle || status=1
	set_state offline "$first" "$last" || return 1
	return $status
}

# The blocks in three zones at once: the lowest two as kernel memory, the next three movable, the
# rest as the policy says. KUnit's Rust-vs-C suite then runs on that state.
mixed_zones() {
	# shellcheck disable=SC2086
	set -- $blocks
	[ $# -ge 6 ] || { echo "only $# pmem blocks"; return 1; }
	set_state online_kernel "$1" "$2" || return 1
	set_state online_movable "$3" "$4" "$5" || return 1
	shift 5
	set_state online "$@" || return 1
	block_zones $blocks
	zones_summary
	[ "$(zone_pages Movable present)" -gt 0 ] || { echo "nothing in Movable"; return 1; }
}

# The suite's own count of what it compared, from the kernel log; then the blocks go offline.
comparisons_reported() {
	dmesg | grep 'zone_policy: rust vs c' > /tmp/compared || { echo "no counts in dmesg"; return 1; }
	tail -n 3 /tmp/compared
	! tail -n 3 /tmp/compared | grep -qv ' 0 mismatches$' || return 1
	set_state offline $blocks
}

back_to_devdax() {
	memtotal=$(meminfo_kb MemTotal)
	ktap_show daxctl reconfigure-device --mode=devdax --force dax0.0 || return 1
	ktap_show ndctl destroy-namespace --force namespace0.0 || return 1
	expect_eq "MemTotal" "$(meminfo_kb MemTotal)" "$memtotal"
}

zone_policy_scenario() {
	if [ "${DIFFERENTIAL:-0}" = 1 ]; then ktap_plan 12; else ktap_plan 9; fi
	ktap_test "zone_policy_rust parameter" parameter
	ktap_test "pmem hot-added as offline system-ram" devdax_offline_system_ram
	ktap_test "valid_zones identical under Rust and C" valid_zones_rust_equals_c
	ktap_test "sysfs online: same zones under Rust and C" sysfs_online
	ktap_test "sysfs online_kernel, online_movable: same zones" sysfs_online_kernel_and_movable
	ktap_test "daxctl online-memory: same zones under Rust and C" daxctl_online
	ktap_test "Normal and Movable overlapping: same valid_zones" zones_overlap
	ktap_test "valid_zones identical again after the onlining" valid_zones_rust_equals_c
	if [ "${DIFFERENTIAL:-0}" = 1 ]; then
		ktap_test "pmem blocks online in Normal and Movable at once" mixed_zones
		ktap_kunit zone_policy_rust_vs_c
		ktap_test "the suite reported its comparisons; blocks offline" comparisons_reported
	fi
	ktap_test "back to devdax, namespace destroyed" back_to_devdax
}
