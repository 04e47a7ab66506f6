# KTAP helpers for guest scenarios (sourced: . /lib/zdrs/ktap.sh). A scenario declares its plan,
# then runs test points; each prints one KTAP result line, and the output of a failing point is
# printed as diagnostics under it. Nothing here decides the verdict: the host parses the KTAP
# with the kernel's tools/testing/kunit/kunit.py.
# shellcheck shell=sh

ktap_n=0

# ktap_cycles DEFAULT: how many cycles a many-cycle test runs: zdrs.cycles=N on the kernel command
# line (make soak sets it), else DEFAULT.
ktap_cycles() {
	_ktap_c=$(sed -n 's/.*zdrs\.cycles=\([0-9]*\).*/\1/p' /proc/cmdline)
	echo "${_ktap_c:-$1}"
}

# ktap_plan N: the KTAP header and the number of test points this scenario runs.
ktap_plan() {
	echo "KTAP version 1"
	echo "1..$1"
}

# ktap_note TEXT...: a diagnostic line, shown with the results (for what a person wants to see).
ktap_note() {
	echo "# $*"
}

# ktap_show CMD...: inside a test point, runs CMD and shows the command and its output (which
# ktap_test turns into diagnostics); returns CMD's status.
ktap_show() {
	_ktap_show_out=/tmp/.ktap-show.$$
	"$@" > "$_ktap_show_out" 2>&1
	_ktap_show_rc=$?
	echo "\$ $*"
	sed 's/^/  /' "$_ktap_show_out"
	rm -f "$_ktap_show_out"
	return $_ktap_show_rc
}

# ktap_test NAME CMD...: one test point. CMD (usually a shell function that checks kernel state)
# passes when it returns 0. What it prints is shown as diagnostics above the result line.
ktap_test() {
	_ktap_name=$1
	shift
	ktap_n=$((ktap_n + 1))
	_ktap_out=/tmp/.ktap-test.$$
	"$@" > "$_ktap_out" 2>&1
	_ktap_rc=$?
	sed 's/^/# /' "$_ktap_out"
	rm -f "$_ktap_out"
	if [ $_ktap_rc -eq 0 ]; then
		echo "ok $ktap_n $_ktap_name"
	else
		echo "# $_ktap_name: failed with status $_ktap_rc"
		echo "not ok $ktap_n $_ktap_name"
	fi
}

# ktap_kunit SUITE: runs a KUnit suite through debugfs (the VM boots with kunit.autorun=0) and
# nests its results as one subtest of this scenario.
ktap_kunit() {
	_ktap_dir=/sys/kernel/debug/kunit/$1
	ktap_n=$((ktap_n + 1))
	if [ -d "$_ktap_dir" ] && [ ! -e "$_ktap_dir/run" ]; then
		# Suites in the init section can only run at boot, which kunit.autorun=0 turns off.
		echo "ok $ktap_n $1 # SKIP init-section suite: runs only at boot"
		return 0
	fi
	if [ ! -w "$_ktap_dir/run" ]; then
		echo "# no KUnit suite '$1' in /sys/kernel/debug/kunit"
		echo "not ok $ktap_n $1"
		return 1
	fi
	echo run > "$_ktap_dir/run"
	# The results file is a KTAP document with one test, the suite: drop its header and
	# renumber the suite as this scenario's next test.
	tail -n +3 "$_ktap_dir/results" | sed "\$s/^\\(ok\\|not ok\\) 1 /\\1 $ktap_n /"
}

# ktap_kselftest_skip TEST REASON: the next ktap_kselftest reports TEST (FIXTURE.VARIANT.TEST, as
# the program names it), which the caller excluded from the run (-T), as skipped with REASON.
ktap_kselftest_skip() {
	echo "$1 # SKIP $2" >> /tmp/.ktap-kselftest-skips.$$
}

# ktap_kselftest NAME CMD...: runs a kselftest-harness program (TAP 13: "ok N FIXTURE.VARIANT.TEST",
# "# SKIP" on skipped ones) and nests its results as one subtest NAME of this scenario, each of
# its tests counted, and after them the tests excluded with ktap_kselftest_skip. NAME fails if the
# program fails or reports a test as not ok.
ktap_kselftest() {
	_ktap_name=$1
	shift
	ktap_n=$((ktap_n + 1))
	_ktap_out=/tmp/.ktap-kselftest.$$
	_ktap_skips=/tmp/.ktap-kselftest-skips.$$
	touch $_ktap_skips
	"$@" > "$_ktap_out" 2>&1
	_ktap_rc=$?
	echo "    KTAP version 1"
	echo "    # Subtest: $_ktap_name"
	# The program's plan grows by the excluded tests, which follow its own results.
	_ktap_ran=$(sed -n 's/^1\.\.\([0-9]*\)$/\1/p' "$_ktap_out" | head -n 1)
	_ktap_nskip=$(wc -l < $_ktap_skips)
	grep -v '^TAP version' "$_ktap_out" |
		sed "s/^1\.\.${_ktap_ran:-0}\$/1..$((${_ktap_ran:-0} + _ktap_nskip))/; s/^/    /"
	awk -v n="${_ktap_ran:-0}" '{ printf "    ok %d %s\n", n + NR, $0 }' $_ktap_skips
	if [ $_ktap_rc -eq 0 ] && ! grep -q '^not ok' "$_ktap_out"; then
		echo "ok $ktap_n $_ktap_name"
	else
		echo "# $_ktap_name: exit status $_ktap_rc"
		echo "not ok $ktap_n $_ktap_name"
	fi
	rm -f "$_ktap_out" $_ktap_skips
}

# ktap_alternate RUNS CMD A B: RUNS rounds of 'CMD A' and 'CMD B' (a benchmark's two
# implementations), A first in odd rounds and B first in even ones, so that neither always runs
# first; fails at the first that does.
ktap_alternate() {
	_ktap_runs=$1 _ktap_cmd=$2 _ktap_a=$3 _ktap_b=$4
	_ktap_run=1
	while [ $_ktap_run -le "$_ktap_runs" ]; do
		if [ $((_ktap_run % 2)) -eq 1 ]; then
			"$_ktap_cmd" "$_ktap_a" && "$_ktap_cmd" "$_ktap_b" || return 1
		else
			"$_ktap_cmd" "$_ktap_b" && "$_ktap_cmd" "$_ktap_a" || return 1
		fi
		_ktap_run=$((_ktap_run + 1))
	done
}

# expect_eq WHAT ACTUAL EXPECTED: fails (with a message naming WHAT) unless ACTUAL = EXPECTED.
expect_eq() {
	if [ "$2" != "$3" ]; then
		echo "$1: expected '$3', got '$2'"
		return 1
	fi
}

# kmemleak_reset: scans and forgets every object kmemleak suspects so far (a baseline). The
# guest's /init does it before the scenario starts (and scans once more after it ends): call it
# only to leave out what the scenario did so far.
kmemleak_reset() {
	echo scan > /sys/kernel/debug/kmemleak
	echo clear > /sys/kernel/debug/kmemleak
}

# kmemleak_count: scans and prints how many leaks kmemleak suspects since the last baseline.
# Objects younger than five seconds are not reported yet: wait before counting.
kmemleak_count() {
	# Twice: a scan does not report an object written since the scan before it.
	echo scan > /sys/kernel/debug/kmemleak
	echo scan > /sys/kernel/debug/kmemleak
	grep -c '^unreferenced object' /sys/kernel/debug/kmemleak
}

# expect_no_leaks: fails unless kmemleak suspects nothing since the last baseline, showing the first
# suspects if it does (it reports objects older than 5 s only, hence the wait).
expect_no_leaks() {
	sleep 6
	_ktap_leaks=$(kmemleak_count)
	expect_eq "kmemleak suspects" "$_ktap_leaks" 0 || { head -n 40 /sys/kernel/debug/kmemleak; return 1; }
}

# zone_pages ZONE FIELD: FIELD (spanned, present, managed) of ZONE (Normal, Movable, Device, ...)
# in /proc/zoneinfo, summed over the nodes.
zone_pages() {
	awk -v zone="$1" -v field="$2" '
		/^Node/ { in_zone = ($NF == zone) }
		in_zone && $1 == field { sum += $2 }
		END { print sum + 0 }' /proc/zoneinfo
}

# zones_summary: one line per zone that spans pages: node, zone, spanned, present, managed.
zones_summary() {
	awk '
		/^Node/ { node = $2; sub(",", "", node); zone = $NF }
		$1 == "spanned" { spanned = $2 }
		$1 == "present" { present = $2 }
		$1 == "managed" && spanned > 0 {
			printf "node %s zone %-8s spanned %8d present %8d managed %8d\n", node, zone, spanned, present, $2
		}' /proc/zoneinfo
}

# memmap_pages: the pages holding struct pages (vmstat nr_memmap_pages): device memory added
# allocates its memmap, removal frees it.
memmap_pages() {
	awk '$1 == "nr_memmap_pages" { print $2 }' /proc/vmstat
}

# zone_lines ZONE: the spanned, present, managed (and start_pfn) lines of ZONE in /proc/zoneinfo,
# on one line, to compare a zone's state before and after.
zone_lines() {
	awk -v zone="$1" '/^Node/ { on = ($NF == zone) }
		on && /spanned|present|managed|start_pfn/ { printf "%s ", $0 }' /proc/zoneinfo | tr -s ' '
}

# with_pagemap_rust Y|N CMD...: runs CMD with memremap.pagemap_rust set to Y or N, then sets it
# back to Y (the default); returns CMD's status.
with_pagemap_rust() {
	_ktap_param=/sys/module/memremap/parameters/pagemap_rust
	echo "$1" > $_ktap_param || return 1
	shift
	"$@"
	_ktap_rc=$?
	echo Y > $_ktap_param
	return $_ktap_rc
}

# meminfo_kb FIELD: a /proc/meminfo value in kB (MemTotal, MemFree, ...).
meminfo_kb() {
	awk -v f="$1:" '$1 == f { print $2 }' /proc/meminfo
}

# online_blocks: how many memory blocks are online.
online_blocks() {
	grep -lx online /sys/devices/system/memory/memory*/state 2>/dev/null | wc -l
}
