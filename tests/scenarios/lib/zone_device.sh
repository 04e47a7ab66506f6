# Helpers of the scenarios of samples/rust/rust_zone_device.rs (sourced after ktap.sh). The VM
# boots with memmap=512M$6G and tests/vm/acpi/zone_device.dsl: ZDRS0001:00 and :01 are two good
# 128 MiB ranges at 6 GiB, :02 to :04 are bad ones (see the table).
# shellcheck shell=sh

ZD_DRIVER=/sys/bus/platform/drivers/rust_zone_device
ZD_RANGE_PAGES=$((128 << 20 >> 12))

# zd_bound DEV: whether the platform device DEV is bound to our driver.
zd_bound() {
	[ -e "$ZD_DRIVER/$1" ]
}

# zd_bind DEV / zd_unbind DEV: through the driver's sysfs files, as a user would.
zd_bind() {
	echo "$1" > "$ZD_DRIVER/bind"
}

zd_unbind() {
	echo "$1" > "$ZD_DRIVER/unbind"
}

# zd_misc DEV: the /dev node the driver registered for DEV's (first) range, from its dmesg line.
zd_misc() {
	dmesg | sed -n "s|.*$1: .* ZONE_DEVICE of node [0-9]*, \\(/dev/zone_device[0-9]*\\)\$|\\1|p" | tail -n 1
}

# zd_wait_ready PID FILE OUTPUT: waits until the background zdmap PID has created FILE; if it
# exits first, prints its OUTPUT file and fails.
zd_wait_ready() {
	while [ ! -e "$2" ]; do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	[ -e "$2" ] || { cat "$3"; return 1; }
}

# iomem_owned START: whether /proc/iomem shows a range starting at START (hex, no 0x) claimed by
# rust_zone_device.
iomem_owned() {
	grep -q "^ *0*$1-[0-9a-f]* : rust_zone_device\$" /proc/iomem
}

# zd_state: one line of the state the driver changes, to compare before and after.
zd_state() {
	echo "memmap $(memmap_pages) device_spanned $(zone_pages Device spanned)" \
		"iomem $(grep -c rust_zone_device /proc/iomem)" \
		"misc $(ls /dev | grep -c '^zone_device')" "memtotal $(meminfo_kb MemTotal)"
}
