#!/bin/sh
# A PCI_P2PDMA pagemap on the Rust hot-add path: QEMU's NVMe controller with a 64 MiB controller
# memory buffer (CMB), which the nvme driver registers as peer-to-peer memory
# (pci_p2pdma_add_resource(): devm_memremap_pages() of type MEMORY_DEVICE_PCI_P2PDMA). The CMB is
# in ZONE_DEVICE, a process maps it through sysfs (p2pmem/allocate), unbinding the driver removes
# it (the Device zone back to empty, its memmap freed), binding brings it back; with the Rust and
# the C pagemap_range().
# acpi=noirq: under TCG with KASAN, the PCI root bridge's _PRT (an AML loop over 128 routing
# entries) runs into ACPICA's 30 s loop timeout on each NVMe probe (three per boot: about 90 s), and
# fails anyway; the controller uses MSI, and INTx routing comes from the BIOS's PIRQ table.
#vm: --append acpi=noirq
#vm: --qemu "-blockdev driver=null-co,node-name=nvm0,size=67108864 -device nvme,serial=zdrs0,drive=nvm0,cmb_size_mb=64"
. /lib/zdrs/ktap.sh

ktap_plan 4

CMB_PAGES=$((64 << 20 >> 12))

# wait_p2pmem: waits (up to 20 s) for the controller's p2pmem to be published.
wait_p2pmem() {
	i=0
	while [ ! -e "$dev/p2pmem/published" ] && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
	[ -e "$dev/p2pmem/published" ] || { echo "no p2pmem on $bdf"; return 1; }
}

cmb_is_p2pmem() {
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/class")" = 0x010802 ] && dev=$d
	done
	[ -n "${dev:-}" ] || { echo "no NVMe controller"; return 1; }
	bdf=$(basename "$dev")
	wait_p2pmem || return 1
	echo "$bdf: p2pmem size $(cat "$dev/p2pmem/size"), published $(cat "$dev/p2pmem/published")"
	dmesg | grep -i -e 'nvme' -e p2p | head -n 10
	zones_summary
	expect_eq "p2pmem size" "$(cat "$dev/p2pmem/size")" $((64 << 20)) &&
		expect_eq "published" "$(cat "$dev/p2pmem/published")" 1 &&
		expect_eq "Device zone spanned" "$(zone_pages Device spanned)" $CMB_PAGES
}

cmb_mapped() {
	ktap_show zdmap pattern "$dev/p2pmem/allocate" $((4 << 20))
}

# unbind_and_bind: unbinding nvme removes the CMB's pagemap (its 256 memmap pages, the Device
# zone's span); binding adds it back.
unbind_and_bind() {
	bound=$(memmap_pages)
	echo "$bdf" > /sys/bus/pci/drivers/nvme/unbind || return 1
	[ ! -e "$dev/p2pmem" ] || { echo "p2pmem still there"; return 1; }
	expect_eq "Device zone spanned after unbind" "$(zone_pages Device spanned)" 0 &&
		expect_eq "memmap pages freed" $((bound - $(memmap_pages))) $((CMB_PAGES * 64 / 4096)) ||
		return 1
	echo "$bdf" > /sys/bus/pci/drivers/nvme/bind || return 1
	wait_p2pmem || return 1
	expect_eq "Device zone spanned after bind" "$(zone_pages Device spanned)" $CMB_PAGES &&
		expect_eq "memmap pages" "$(memmap_pages)" "$bound" || return 1
	zdmap pattern "$dev/p2pmem/allocate" $((4 << 20))
}

ktap_test cmb_is_p2pmem_in_zone_device cmb_is_p2pmem
ktap_test process_maps_p2pmem cmb_mapped
ktap_test unbind_and_bind_rust with_pagemap_rust Y unbind_and_bind
ktap_test unbind_and_bind_c with_pagemap_rust N unbind_and_bind
