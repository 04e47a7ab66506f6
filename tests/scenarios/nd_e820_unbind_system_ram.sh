#!/bin/sh
# Unbinding the legacy-pmem bus provider while its memory is online as System RAM (a devdax
# namespace given to kmem with daxctl), with the C nd_e820 and then with its Rust port, each on a
# range of its own (memmap=512M!5G and 512M!6G: the first stays online for good). Memory that is
# online cannot be removed without offlining it, and an unbind cannot fail: kmem leaves the
# memory online ("Hotplug regions stuck online until reboot") and the unbind completes, with the
# provider's bus gone. Both providers must do exactly that: no hang, no splat, the memory still
# online and counted in MemTotal, the rest of the bus gone.
#vm: --mem 7G --append "memmap=512M!5G memmap=512M!6G"
#vm: --file tests/scenarios/lib/nd_e820.sh:/lib/zdrs/nd_e820.sh
. /lib/zdrs/ktap.sh
. /lib/zdrs/nd_e820.sh

ktap_plan 2

memtotal_at_boot=$(meminfo_kb MemTotal)

# stuck_online PROVIDER REGION DAX: REGION's namespace as system-ram, then the provider unbound.
stuck_online() {
	nd_bind "$1" || return 1
	expect_eq "regions" "$(ls -d /sys/bus/nd/devices/region* | wc -l)" 2 || return 1
	ktap_show ndctl create-namespace --force --reconfig="namespace${2#region}.0" --mode=devdax \
		--align=2M || return 1
	nd_wait_dev "/dev/$3" || return 1
	ktap_show daxctl reconfigure-device --mode=system-ram "$3" || return 1
	online=$(meminfo_kb MemTotal)
	[ "$online" -gt "$memtotal_before" ] || { echo "MemTotal did not grow"; return 1; }
	dmesg -c > /dev/null
	nd_unbind || return 1
	dmesg | grep "$3" || true
	dmesg | grep -q "Hotplug regions stuck online until reboot" ||
		{ echo "no word from kmem that the memory stays online"; return 1; }
	expect_eq "MemTotal (the memory stays online)" "$(meminfo_kb MemTotal)" "$online" || return 1
	nd_iomem | grep 'System RAM (kmem)' || { echo "/proc/iomem lost the online memory"; return 1; }
	memtotal_before=$online
}

memtotal_before=$memtotal_at_boot
modprobe -a nd_pmem dax_pmem device_dax kmem
ktap_test c_unbind_while_system_ram_completes stuck_online c region0 dax0.0
ktap_test rust_unbind_while_system_ram_completes stuck_online rust region1 dax1.0
