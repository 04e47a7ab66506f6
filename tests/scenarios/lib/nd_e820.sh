# Helpers of the scenarios of the legacy-pmem bus provider (sourced after ktap.sh): the C nd_e820
# (drivers/nvdimm/e820.c, platform driver e820_pmem) or its Rust port
# (samples/rust/rust_nd_e820.rs, platform driver rust_nd_e820), selected with driver_override on
# the platform device e820_pmem. A provider is named c or rust.
# shellcheck shell=sh

ND_PDEV=/sys/bus/platform/devices/e820_pmem

# nd_driver PROVIDER: the platform driver of PROVIDER.
nd_driver() {
	case $1 in
	c) echo e820_pmem ;;
	rust) echo rust_nd_e820 ;;
	*) echo "unknown provider $1" >&2; return 1 ;;
	esac
}

# nd_module PROVIDER: the module of PROVIDER.
nd_module() {
	case $1 in
	c) echo nd_e820 ;;
	rust) echo rust_nd_e820 ;;
	*) echo "unknown provider $1" >&2; return 1 ;;
	esac
}

# nd_bound: the platform driver bound to e820_pmem, or none.
nd_bound() {
	if [ -e $ND_PDEV/driver ]; then
		basename "$(readlink $ND_PDEV/driver)"
	else
		echo none
	fi
}

# nd_settle: waits until libnvdimm has registered and probed every device of the bus (reading
# the bus's wait_probe does that, as ndctl does).
nd_settle() {
	for _nd_bus in /sys/bus/nd/devices/ndbus*; do
		[ -e "$_nd_bus/wait_probe" ] && cat "$_nd_bus/wait_probe" > /dev/null
	done
	return 0
}

# nd_bind PROVIDER: binds PROVIDER's driver to e820_pmem (loading its module the first time)
# and waits for its regions and namespaces; fails unless that driver is bound.
nd_bind() {
	_nd_drv=$(nd_driver "$1") || return 1
	echo "$_nd_drv" > $ND_PDEV/driver_override || return 1
	if [ -d "/sys/bus/platform/drivers/$_nd_drv" ]; then
		echo e820_pmem > /sys/bus/platform/drivers_probe
	else
		modprobe "$(nd_module "$1")" || return 1
	fi
	expect_eq "driver of e820_pmem" "$(nd_bound)" "$_nd_drv" || return 1
	nd_settle
}

# nd_bind_to_ready PROVIDER: binds PROVIDER's driver (its module loaded) to e820_pmem and prints
# how many nanoseconds it took until /dev/pmem0 exists (an fsdax or raw namespace ready).
nd_bind_to_ready() {
	nd_driver "$1" > $ND_PDEV/driver_override &&
		nswrite /sys/bus/platform/drivers_probe e820_pmem /dev/pmem0
}

# nd_unbind: unbinds whichever provider is bound (as a user would, through sysfs); fails if
# anything of its bus is left.
nd_unbind() {
	[ -e $ND_PDEV/driver ] || { echo "e820_pmem is not bound"; return 1; }
	echo e820_pmem > $ND_PDEV/driver/unbind || return 1
	expect_eq "driver of e820_pmem" "$(nd_bound)" none || return 1
	if ls /sys/bus/nd/devices | grep -q .; then
		echo "left on the nd bus:"
		ls /sys/bus/nd/devices
		return 1
	fi
}

# nd_iomem: the legacy-pmem ranges of /proc/iomem with what claims them (the lines under each).
nd_iomem() {
	awk '/Persistent Memory \(legacy\)/ { print; depth = match($0, /[^ ]/); under = 1; next }
		under && match($0, /[^ ]/) > depth { print; next }
		{ under = 0 }' /proc/iomem
}

# nd_state: the state a provider and ndctl change, to compare one provider with the other:
# ndctl's listing of buses, regions, namespaces and dax devices (with capabilities), the Device
# zone, the memmap, MemTotal, /proc/iomem and the device nodes.
nd_state() {
	# A namespace's uuid is made anew each time it is created.
	ndctl list -BRNXCv 2>&1 | sed 's/"\(raw_\)\{0,1\}uuid":"[^"]*"/"\1uuid":"(random)"/g'
	echo "Device zone: $(zone_lines Device)"
	echo "Movable present: $(zone_pages Movable present)"
	echo "memmap pages: $(memmap_pages)"
	echo "MemTotal: $(meminfo_kb MemTotal) kB"
	nd_iomem
	echo "devices: $(ls /dev | grep -E '^(pmem|dax)' | tr '\n' ' ')"
}

# nd_snapshot PROVIDER STEP: appends nd_state under the heading STEP to PROVIDER's transcript.
nd_snapshot() {
	{
		echo "== $2"
		nd_state
	} >> "/tmp/nd_state.$1"
}

# nd_wait_dev PATH: waits (at most 30 s) until PATH exists.
nd_wait_dev() {
	_nd_i=0
	while [ ! -e "$1" ] && [ $_nd_i -lt 300 ]; do
		sleep 0.1
		_nd_i=$((_nd_i + 1))
	done
	[ -e "$1" ] || { echo "$1 did not appear"; return 1; }
}
