#!/bin/sh
# The legacy-pmem bus provider driven by ndctl and daxctl, the same steps with the C nd_e820 and
# then with its Rust port (samples/rust/rust_nd_e820.rs), both on the Rust hot-add/remove and zone
# selection (the kernel's defaults): bind; fsdax namespaces (--map=mem, --map=dev) disabled and
# enabled; devdax with 4K and 2M alignment, mapped by a process; a devdax page poisoned (memory
# failure); system-ram and back, offlined and onlined; a region disabled and enabled; a namespace
# destroyed; an ext4 filesystem whose files survive unbinding and binding the provider; unbinding while a namespace is enabled, while the
# filesystem is mounted and while a process maps a devdax device; the module pinned while bound;
# bind/create/enable/disable/destroy/unbind cycles. Each step checks the kernel's state (zoneinfo,
# memmap, MemTotal, /proc/iomem, sysfs), and appends it to the provider's transcript: the Rust
# transcript must equal the C one. Then binding with an fsdax namespace on the range, C and Rust in
# turn, each bind timed: the times are a note, not a point (a debug kernel; make bench measures
# them). Ends with a kmemleak scan.
#vm: --mem 6G --append "memmap=512M!5G"
#vm: --file tests/scenarios/lib/nd_e820.sh:/lib/zdrs/nd_e820.sh
# About 3.5 s a cycle under TCG: make soak's 100 cycles per provider need more than the default.
#vm: --timeout 2400
. /lib/zdrs/ktap.sh
. /lib/zdrs/nd_e820.sh

CYCLES=$(ktap_cycles 5)
RANGE_PAGES=$((512 << 20 >> 12))

ktap_plan 32

memmap_at_boot=$(memmap_pages)
memtotal_at_boot=$(meminfo_kb MemTotal)
block_bytes=$((0x$(cat /sys/devices/system/memory/block_size_bytes)))
mkdir -p /mnt
ktap_note "zones at boot:"
zones_summary | sed 's/^/# /'

# no_pagemap: nothing of the range is in ZONE_DEVICE: memmap, Device zone and MemTotal as at boot.
no_pagemap() {
	expect_eq "memmap pages" "$(memmap_pages)" "$memmap_at_boot" &&
		expect_eq "Device zone spanned" "$(zone_pages Device spanned)" 0 &&
		expect_eq "MemTotal" "$(meminfo_kb MemTotal)" "$memtotal_at_boot"
}

# in_zone_device MIN_PAGES: the Device zone spans at least MIN_PAGES, MemTotal as at boot.
in_zone_device() {
	_spanned=$(zone_pages Device spanned)
	echo "Device zone spans $_spanned pages, memmap +$(($(memmap_pages) - memmap_at_boot)) pages"
	[ "$_spanned" -ge "$1" ] || { echo "Device zone spans fewer than $1 pages"; return 1; }
	expect_eq "MemTotal" "$(meminfo_kb MemTotal)" "$memtotal_at_boot"
}

# claimed_by NAME: /proc/iomem shows NAME claiming part of the legacy pmem.
claimed_by() {
	nd_iomem | grep -q " : $1\$" || { echo "/proc/iomem: nothing of the pmem claimed by $1"; nd_iomem; return 1; }
}

# --- The points, for one provider ($p) -----------------------------------------------------------

binds() {
	modprobe -a nd_pmem dax_pmem device_dax kmem || return 1
	expect_eq "memremap.pagemap_rust" "$(cat /sys/module/memremap/parameters/pagemap_rust)" Y &&
		expect_eq "memory_hotplug.zone_policy_rust" \
			"$(cat /sys/module/memory_hotplug/parameters/zone_policy_rust)" Y || return 1
	nd_bind "$p" || return 1
	dmesg | grep 'e820_pmem' | tail -n 2
	ktap_show ndctl list -BR || return 1
	expect_eq "bus provider" "$(cat /sys/bus/nd/devices/ndbus0/provider)" e820 &&
		expect_eq "region0 size" "$(cat /sys/bus/nd/devices/region0/size)" $((512 << 20)) &&
		expect_eq "region0 start" "$(cat /sys/bus/nd/devices/region0/resource)" 0x140000000 || return 1
	# The label-less region's one namespace is raw; nd_pmem maps it with struct pages in RAM
	# (the region is ND_REGION_PAGEMAP), so it is in ZONE_DEVICE from the start.
	nd_wait_dev /dev/pmem0 && claimed_by namespace0.0 && in_zone_device $((RANGE_PAGES * 9 / 10)) ||
		return 1
	nd_snapshot "$p" bound
}

# fsdax MAP: an fsdax namespace with its memmap in RAM (mem) or on the device (dev), disabled
# (its pagemap removed) and enabled again.
fsdax() {
	ktap_show ndctl create-namespace --force --reconfig=namespace0.0 --mode=fsdax --map="$1" || return 1
	nd_wait_dev /dev/pmem0 && in_zone_device $((RANGE_PAGES * 9 / 10)) && claimed_by namespace0.0 || return 1
	# nr_memmap_pages counts the struct pages wherever they are; the namespace's size tells
	# where: with --map=dev they take room on the device.
	_size=$(cat /sys/block/pmem0/size)
	_size=$((_size * 512))
	ndctl list -n namespace0.0 | grep -q "\"map\":\"$1\"" || { echo "not --map=$1"; return 1; }
	if [ "$1" = mem ]; then
		size_map_mem=$_size
	elif [ $((size_map_mem - _size)) -lt $((RANGE_PAGES * 64 * 9 / 10)) ]; then
		echo "--map=dev: $_size bytes, --map=mem: $size_map_mem: the struct pages are not on the device"
		return 1
	fi
	echo "/dev/pmem0: $_size bytes"
	nd_snapshot "$p" "fsdax $1 enabled"
	ktap_show ndctl disable-namespace namespace0.0 || return 1
	[ ! -e /dev/pmem0 ] || { echo "/dev/pmem0 still there"; return 1; }
	no_pagemap || return 1
	nd_snapshot "$p" "fsdax $1 disabled"
	ktap_show ndctl enable-namespace namespace0.0 && nd_wait_dev /dev/pmem0 &&
		in_zone_device $((RANGE_PAGES * 9 / 10)) || return 1
	nd_snapshot "$p" "fsdax $1 enabled again"
}

# devdax ALIGN BYTES: a devdax namespace of alignment ALIGN; a process maps it and writes and
# reads back a pattern.
devdax() {
	ktap_show ndctl create-namespace --force --reconfig=namespace0.0 --mode=devdax --align="$1" || return 1
	nd_wait_dev /dev/dax0.0 && in_zone_device $((RANGE_PAGES * 9 / 10)) && claimed_by dax0.0 || return 1
	expect_eq "dax0.0 align" "$(cat /sys/bus/dax/devices/dax0.0/align)" "$2" || return 1
	ktap_show zdmap pattern /dev/dax0.0 $((4 << 20)) || return 1
	nd_snapshot "$p" "devdax $1"
}

# A devdax page poisoned (madvise(MADV_HWPOISON): memory failure of a ZONE_DEVICE page): the
# process that maps it gets SIGBUS, the kernel counts the page as corrupted; disabling and
# enabling the namespace gives it back.
memory_failure() {
	ktap_show ndctl create-namespace --force --reconfig=namespace0.0 --mode=devdax --align=4K &&
		nd_wait_dev /dev/dax0.0 || return 1
	_hw=$(meminfo_kb HardwareCorrupted)
	_recovered=$(dmesg | grep -c 'recovery action for dax page: Recovered')
	ktap_show zdmap poison /dev/dax0.0 $((4 << 20)) || return 1
	dmesg | grep 'Memory failure' | tail -n 2
	expect_eq "HardwareCorrupted (kB)" "$(meminfo_kb HardwareCorrupted)" $((_hw + 4)) &&
		expect_eq "dax pages recovered" \
			"$(dmesg | grep -c 'recovery action for dax page: Recovered')" $((_recovered + 1)) ||
		return 1
	ktap_show ndctl disable-namespace namespace0.0 && ktap_show ndctl enable-namespace namespace0.0 &&
		nd_wait_dev /dev/dax0.0 && ktap_show zdmap pattern /dev/dax0.0 $((4 << 20))
}

system_ram() {
	ktap_show daxctl reconfigure-device --mode=system-ram dax0.0 || return 1
	_grown=$(($(meminfo_kb MemTotal) - memtotal_at_boot))
	_movable=$(zone_pages Movable present)
	echo "system-ram: MemTotal +$_grown kB, Movable zone present $_movable pages"
	[ "$_grown" -gt 0 ] && [ $((_grown % (block_bytes / 1024))) -eq 0 ] ||
		{ echo "MemTotal did not grow by whole memory blocks"; return 1; }
	expect_eq "Movable present (kB)" $((_movable * 4)) "$_grown" && claimed_by 'dax0.0' || return 1
	nd_iomem | grep -q 'System RAM (kmem)' || { echo "no System RAM (kmem) in /proc/iomem"; return 1; }
	nd_snapshot "$p" "system-ram"
	ktap_show daxctl offline-memory dax0.0 || return 1
	expect_eq "MemTotal offline" "$(meminfo_kb MemTotal)" "$memtotal_at_boot" || return 1
	ktap_show daxctl online-memory dax0.0 || return 1
	expect_eq "MemTotal online again" "$(meminfo_kb MemTotal)" $((memtotal_at_boot + _grown)) || return 1
	ktap_show daxctl reconfigure-device --mode=devdax --force dax0.0 || return 1
	expect_eq "MemTotal back" "$(meminfo_kb MemTotal)" "$memtotal_at_boot" &&
		expect_eq "Movable present back" "$(zone_pages Movable present)" 0 &&
		nd_wait_dev /dev/dax0.0 && in_zone_device $((RANGE_PAGES * 9 / 10)) || return 1
	nd_snapshot "$p" "devdax again"
}

region_cycle() {
	ktap_show ndctl disable-region region0 || return 1
	[ ! -e /dev/dax0.0 ] || { echo "/dev/dax0.0 still there"; return 1; }
	no_pagemap || return 1
	nd_snapshot "$p" "region disabled"
	ktap_show ndctl enable-region region0 && nd_settle || return 1
	# The namespace's info block brings it back as devdax.
	nd_wait_dev /dev/dax0.0 && in_zone_device $((RANGE_PAGES * 9 / 10)) || return 1
	nd_snapshot "$p" "region enabled"
}

destroy() {
	ktap_show ndctl destroy-namespace --force namespace0.0 || return 1
	nd_settle
	ktap_show ndctl list -N
	ndctl list -N | grep -qE 'devdax|fsdax' && { echo "a namespace is left in a dax mode"; return 1; }
	[ ! -e /dev/dax0.0 ] || { echo "/dev/dax0.0 still there"; return 1; }
	no_pagemap || return 1
	nd_snapshot "$p" "destroyed"
}

# fill_and_sum: files of random data on /mnt, their checksums in /tmp/sums.
fill_and_sum() {
	dd if=/dev/urandom of=/mnt/a bs=1M count=3 2>/dev/null &&
		dd if=/dev/urandom of=/mnt/b bs=4k count=77 2>/dev/null || return 1
	(cd /mnt && md5sum a b) > /tmp/sums
}

# mount_dax: mounts the fsdax namespace's ext4 on /mnt with -o dax; fails unless DAX is on.
mount_dax() {
	mount -t ext4 -o dax /dev/pmem0 /mnt || return 1
	grep ' /mnt ' /proc/mounts | grep -q dax || { echo "mounted without dax"; return 1; }
}

# files_intact: /mnt holds the files of fill_and_sum, unchanged.
files_intact() {
	(cd /mnt && md5sum -c /tmp/sums)
}

# rebind: the provider bound again; the fsdax namespace comes back (its info block says so).
rebind() {
	nd_bind "$p" && nd_wait_dev /dev/pmem0 || return 1
	ndctl list -N | grep -q '"mode":"fsdax"' || { ndctl list -N; echo "not fsdax after rebinding"; return 1; }
	in_zone_device $((RANGE_PAGES * 9 / 10))
}

data_survives_rebind() {
	ktap_show ndctl create-namespace --force --reconfig=namespace0.0 --mode=fsdax --map=dev &&
		nd_wait_dev /dev/pmem0 || return 1
	ktap_show mkfs.ext4 -q -F -b 4096 /dev/pmem0 || return 1
	mount_dax && fill_and_sum && umount /mnt || return 1
	nd_unbind && no_pagemap || return 1
	[ ! -e /dev/pmem0 ] || { echo "/dev/pmem0 still there"; return 1; }
	nd_snapshot "$p" "unbound"
	rebind && mount_dax && files_intact && umount /mnt || return 1
	nd_snapshot "$p" "bound again, files intact"
}

unbind_while_enabled() {
	nd_unbind && no_pagemap || return 1
	rebind
}

unbind_while_mounted() {
	mount_dax || return 1
	nd_unbind || return 1
	dmesg | tail -n 5
	no_pagemap || return 1
	umount /mnt || return 1
	rebind && mount_dax && files_intact && umount /mnt
}

# A process maps the devdax device; unbinding revokes the mapping (its next access gets SIGBUS)
# and completes.
unbind_while_mapped() {
	ktap_show ndctl create-namespace --force --reconfig=namespace0.0 --mode=devdax --align=2M &&
		nd_wait_dev /dev/dax0.0 || return 1
	rm -f /tmp/ready /tmp/go
	zdmap hold /dev/dax0.0 $((4 << 20)) /tmp/ready /tmp/go > /tmp/hold.out 2>&1 &
	_pid=$!
	while [ ! -e /tmp/ready ]; do kill -0 $_pid 2>/dev/null || break; sleep 0.1; done
	[ -e /tmp/ready ] || { cat /tmp/hold.out; return 1; }
	nd_unbind || return 1
	touch /tmp/go
	wait $_pid
	_rc=$?
	cat /tmp/hold.out
	[ $_rc -eq 0 ] || { echo "the process did not get SIGBUS on the revoked mapping"; return 1; }
	no_pagemap || return 1
	nd_bind "$p" && nd_wait_dev /dev/dax0.0 && in_zone_device $((RANGE_PAGES * 9 / 10)) || return 1
	ktap_show ndctl destroy-namespace --force namespace0.0 && nd_settle && no_pagemap
}

# While a region is enabled, libnvdimm holds the provider's module.
module_pinned() {
	_mod=$(nd_module "$p")
	if rmmod "$_mod" 2>/tmp/rmmod.err; then
		echo "rmmod $_mod succeeded while bound"
		return 1
	fi
	cat /tmp/rmmod.err
	expect_eq "driver of e820_pmem" "$(nd_bound)" "$(nd_driver "$p")"
}

# CYCLES rounds of bind, create, disable, enable, destroy, unbind: the state at the end is the
# state before.
cycles() {
	nd_unbind || return 1
	_before=$(nd_state)
	_i=0
	while [ $_i -lt "$CYCLES" ]; do
		nd_bind "$p" &&
			ndctl create-namespace --force --reconfig=namespace0.0 --mode=fsdax --map=mem >/dev/null &&
			ndctl disable-namespace namespace0.0 >/dev/null 2>&1 &&
			ndctl enable-namespace namespace0.0 >/dev/null 2>&1 &&
			ndctl destroy-namespace --force namespace0.0 >/dev/null 2>&1 &&
			nd_unbind || { echo "cycle $_i failed"; return 1; }
		_i=$((_i + 1))
	done
	echo "$CYCLES cycles"
	_after=$(nd_state)
	[ "$_before" = "$_after" ] || { echo "state before:"; echo "$_before"; echo "after:"; echo "$_after"; return 1; }
	no_pagemap
}

suite() {
	p=$1
	ktap_test "${p}_binds_bus_and_region" binds
	ktap_test "${p}_fsdax_map_mem" fsdax mem
	ktap_test "${p}_fsdax_map_dev" fsdax dev
	ktap_test "${p}_devdax_align_4k" devdax 4K 4096
	ktap_test "${p}_devdax_page_memory_failure" memory_failure
	ktap_test "${p}_devdax_align_2m" devdax 2M 2097152
	ktap_test "${p}_system_ram_offline_online_and_back" system_ram
	ktap_test "${p}_region_disable_enable" region_cycle
	ktap_test "${p}_destroy_namespace" destroy
	ktap_test "${p}_fsdax_files_survive_unbind_and_bind" data_survives_rebind
	ktap_test "${p}_unbind_while_namespace_enabled" unbind_while_enabled
	ktap_test "${p}_unbind_while_mounted" unbind_while_mounted
	ktap_test "${p}_unbind_while_devdax_mapped" unbind_while_mapped
	ktap_test "${p}_module_pinned_while_bound" module_pinned
	ktap_test "${p}_${CYCLES}_bind_create_destroy_unbind_cycles" cycles
}

# --- C, then Rust, then the comparison -----------------------------------------------------------

suite c
suite rust

same_transcripts() {
	if ! diff -u /tmp/nd_state.c /tmp/nd_state.rust; then
		echo "the Rust provider left another state than the C one (above)"
		return 1
	fi
	echo "$(grep -c '^== ' /tmp/nd_state.rust) steps, the same state after each"
	sed -n '/== fsdax dev enabled$/,/== fsdax dev disabled$/p' /tmp/nd_state.rust
}
ktap_test rust_state_matches_c same_transcripts

# Binding with an fsdax namespace on the range (its info block found on bind), C and Rust in turn
# (ktap_alternate), 5 times each: every bind must bring /dev/pmem0 and the namespace's pagemap
# in the Device zone, and every unbind leave nothing. Each bind is timed too, but the times are a
# note, not a verdict: this is the debug kernel (KASAN, lockdep, kmemleak); make bench measures
# them without the checkers.
ready_timed() {
	expect_eq "$1: Device zone spanned before the bind" "$(zone_pages Device spanned)" 0 || return 1
	_ns=$(nd_bind_to_ready "$1") && nd_settle || return 1
	[ "$(zone_pages Device spanned)" -gt 0 ] || { echo "$1: /dev/pmem0 but no pagemap in the Device zone"; return 1; }
	nd_unbind || return 1
	echo "$_ns" >> "/tmp/ready.$1"
}

fsdax_ready_on_bind() {
	nd_bind rust && ndctl create-namespace --force --reconfig=namespace0.0 --mode=fsdax --map=dev >/dev/null &&
		nd_unbind || return 1
	: > /tmp/ready.c
	: > /tmp/ready.rust
	ktap_alternate 5 ready_timed c rust || return 1
	echo "5 binds each brought /dev/pmem0 (fsdax) and its pagemap, 5 unbinds removed them"
	no_pagemap
}
ktap_test fsdax_namespace_ready_on_each_bind_c_and_rust fsdax_ready_on_bind
if [ "$(wc -l < /tmp/ready.c)" -eq 5 ] && [ "$(wc -l < /tmp/ready.rust)" -eq 5 ]; then
	_c=$(sort -n /tmp/ready.c | sed -n 3p)
	_rust=$(sort -n /tmp/ready.rust | sed -n 3p)
	ktap_note "bind to /dev/pmem0 on the debug kernel (a note, not a verdict), median of 5:" \
		"c $_c ns, rust $_rust ns, rust/c $(awk -v r="$_rust" -v c="$_c" 'BEGIN { printf "%.2f", r / c }')"
fi

# The pages of a namespace are freed by an RCU callback; leave kmemleak time to see them go.
sleep 2
