#!/bin/sh
# fsdax namespaces on legacy pmem (memmap=1G!5G) with the kernel's defaults (the Rust hot-add and
# hot-remove path): created with their memmap in RAM (--map=mem) and on the device (--map=dev),
# an ext4 and an xfs filesystem mounted with -o dax, files written and mapped (the mapping is
# the pmem's ZONE_DEVICE pages), the namespace disabled (its pagemap removed: memmap pages and
# the Device zone's span back to boot) and enabled again with every checksum intact, destroyed,
# the region disabled (nothing of it left in ZONE_DEVICE) and enabled.
#vm: --mem 6G --append "memmap=1G!5G"
. /lib/zdrs/ktap.sh

ktap_plan 4

memmap_at_boot=$(memmap_pages)
memtotal_at_boot=$(meminfo_kb MemTotal)
mkdir -p /mnt

# pagemap_gone: the namespace's pagemap is removed: memmap and the Device zone as at boot.
pagemap_gone() {
	expect_eq "memmap pages" "$(memmap_pages)" "$memmap_at_boot" &&
		expect_eq "Device zone spanned" "$(zone_pages Device spanned)" 0 &&
		expect_eq "MemTotal" "$(meminfo_kb MemTotal)" "$memtotal_at_boot"
}

# fill_and_sum: files of random data, one of them mapped and patterned through its DAX mapping;
# their checksums in /tmp/sums.
fill_and_sum() {
	dd if=/dev/urandom of=/mnt/a bs=1M count=3 2>/dev/null &&
		dd if=/dev/urandom of=/mnt/b bs=4k count=77 2>/dev/null &&
		dd if=/dev/zero of=/mnt/mapped bs=1M count=8 2>/dev/null || return 1
	ktap_show zdmap pattern /mnt/mapped $((8 << 20)) || return 1
	(cd /mnt && md5sum a b mapped) > /tmp/sums
	cat /tmp/sums
}

# mount_dax FS: mounts /dev/pmem0 on /mnt with -o dax; fails unless DAX is on.
mount_dax() {
	mount -t "$1" -o dax /dev/pmem0 /mnt || return 1
	grep ' /mnt ' /proc/mounts
	grep ' /mnt ' /proc/mounts | grep -q dax || { echo "mounted without dax"; return 1; }
}

# round_trip FS MAP MKFS...: a fsdax namespace with --map=MAP, MKFS on it, files written;
# disabled, enabled, files checked; destroyed.
round_trip() {
	fs=$1 map=$2
	shift 2
	# The label-less region has one namespace, raw and enabled by nd_pmem: reconfigure it.
	ktap_show ndctl create-namespace --force --reconfig=namespace0.0 --mode=fsdax --map="$map" || return 1
	[ -b /dev/pmem0 ] || { echo "no /dev/pmem0"; return 1; }
	echo "fsdax --map=$map: $(($(memmap_pages) - memmap_at_boot)) memmap pages in RAM," \
		"Device zone spans $(zone_pages Device spanned) pages"
	[ "$(zone_pages Device spanned)" -ge $((900 << 20 >> 12)) ] ||
		{ echo "the namespace is not in ZONE_DEVICE"; return 1; }
	grep -A1 'Persistent Memory (legacy)' /proc/iomem
	ktap_show "$@" /dev/pmem0 || return 1
	mount_dax "$fs" && fill_and_sum && umount /mnt || return 1
	ktap_show ndctl disable-namespace namespace0.0 || return 1
	[ ! -b /dev/pmem0 ] || { echo "/dev/pmem0 still there"; return 1; }
	pagemap_gone || return 1
	ktap_show ndctl enable-namespace namespace0.0 || return 1
	mount_dax "$fs" || return 1
	(cd /mnt && md5sum -c /tmp/sums) || return 1
	umount /mnt && ktap_show ndctl destroy-namespace --force namespace0.0 || return 1
	# What is left is the label-less region's raw namespace (nd_pmem maps it too): disabling
	# the region removes every pagemap of it.
	ktap_show ndctl disable-region region0 && pagemap_gone && ktap_show ndctl enable-region region0
}

modules() {
	ktap_show modprobe -a nd_e820 nd_pmem || return 1
	expect_eq "memremap.pagemap_rust" "$(cat /sys/module/memremap/parameters/pagemap_rust)" Y &&
		expect_eq "region0 size" "$(cat /sys/bus/nd/devices/region0/size)" $((1 << 30))
}

ktap_test legacy_pmem_region modules
ktap_test fsdax_map_mem_ext4 round_trip ext4 mem mkfs.ext4 -q -F -b 4096
ktap_test fsdax_map_dev_xfs round_trip xfs dev mkfs.xfs -q -f
ktap_test fsdax_map_dev_ext4 round_trip ext4 dev mkfs.ext4 -q -F -b 4096
