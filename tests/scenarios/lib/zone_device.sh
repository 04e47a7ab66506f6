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

# zd_mark TAG: writes "zdrs-mark: TAG" into the kernel log, so that zd_log_since TAG shows what the
# kernel logged after it (a point's own lines, not an earlier one's).
zd_mark() {
	echo "zdrs-mark: $1" > /dev/kmsg
}

# zd_log_since TAG: the kernel log after the last zd_mark TAG.
zd_log_since() {
	dmesg | awk -v mark="zdrs-mark: $1" 'index($0, mark) { out = ""; next } { out = out $0 "\n" }
		END { printf "%s", out }'
}

# zd_bind_refused DEV ERROR LINE...: binding DEV through sysfs (one write(2), as a user would) must
# fail with the errno whose text is ERROR, and the kernel must log each LINE (a fixed string)
# during that attempt; DEV stays unbound and the driver's state (zd_state) does not change.
zd_bind_refused() {
	_zd_dev=$1 _zd_err=$2
	shift 2
	_zd_before=$(zd_state)
	zd_mark "bind $_zd_dev"
	if nswrite "$ZD_DRIVER/bind" "$_zd_dev" > /tmp/zd_bind.out 2>&1; then
		echo "binding $_zd_dev succeeded"
		return 1
	fi
	cat /tmp/zd_bind.out
	grep -q ": $_zd_err\$" /tmp/zd_bind.out || { echo "$_zd_dev: expected the error '$_zd_err'"; return 1; }
	_zd_log=$(zd_log_since "bind $_zd_dev")
	echo "$_zd_log" | sed 's/^/  /'
	for _zd_line; do
		echo "$_zd_log" | grep -qF -e "$_zd_line" ||
			{ echo "$_zd_dev: no '$_zd_line' in the kernel log of this bind"; return 1; }
	done
	! zd_bound "$_zd_dev" || { echo "$_zd_dev is bound"; return 1; }
	expect_eq "state after binding $_zd_dev" "$(zd_state)" "$_zd_before"
}
