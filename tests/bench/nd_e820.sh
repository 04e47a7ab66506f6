#!/bin/sh
# make bench, in the bench kernel (no debug checkers): time from binding the legacy-pmem bus
# provider to a ready fsdax namespace (/dev/pmem0), for the C nd_e820 and its Rust port
# (samples/rust/rust_nd_e820.rs) in turn, RUNS times each in alternating order. The bind is a
# write to drivers_probe with driver_override naming the provider; the time runs until
# /dev/pmem0 exists (tests/vm/guest/nswrite.c): bus and region registration, the region's probe,
# the namespace's info block found, its pagemap hot-added. scripts/bench prints the ratio of
# the medians. The point fails if a bind or an unbind does.
#vm: --mem 6G --append "memmap=1G!5G"
#vm: --file tests/scenarios/lib/nd_e820.sh:/lib/zdrs/nd_e820.sh
. /lib/zdrs/ktap.sh
. /lib/zdrs/nd_e820.sh

RUNS=$(ktap_cycles 15)

ktap_plan 1

# timed PROVIDER: one bind to ready and one unbind with PROVIDER; prints the bench line.
timed() {
	_ns=$(nd_bind_to_ready "$1") && nd_settle && nd_unbind || return 1
	echo "nd_e820 bench: impl=$1 bind_to_ready_ns=$_ns"
}

bench() {
	modprobe -a nd_pmem nd_e820 rust_nd_e820 || return 1
	nd_bind c &&
		ndctl create-namespace --force --reconfig=namespace0.0 --mode=fsdax --map=dev >/dev/null &&
		nd_unbind || return 1
	ktap_alternate "$RUNS" timed rust c
}

ktap_test bind_to_ready_fsdax bench
