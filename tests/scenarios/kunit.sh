#!/bin/sh
# Every KUnit suite built into the kernel (the Rust doctests among them), run through debugfs,
# each a point, against a fixed list of what must be there: our suites by name (one that is gone
# fails its point, which names it), our Rust doctests among the cases of rust_doctests_kernel (the
# suite scripts/rustdoc_test_gen.rs makes of the kernel crate's doctests, each case named
# rust_doctest_kernel_FILE_N), and at least OTHERS_MIN of the kernel's other suites (which are
# run too, every one that exists).
# zone_policy_bench times the Rust zone selection against the C: on this debug kernel (KASAN,
# lockdep, kmemleak) its times are a note, not a verdict (make bench measures them without the
# checkers); its point is what it asserts beyond them, that Rust and C returned the same zones for
# every decision it timed.
. /lib/zdrs/ktap.sh

KUNIT=/sys/kernel/debug/kunit
# Ours (mm/zone_policy/kunit.rs, and the doctests of rust/kernel/), zone_policy_bench apart.
OURS="rust_doctests_kernel zone_policy_rust_vs_c"
BENCH=zone_policy_bench
# Our doctests, FILE:N: at least N cases rust_doctest_kernel_FILE_* (one per example).
OUR_DOCTESTS="mm_memremap_rs:5 nvdimm_rs:3"
# The kernel's other suites in the test kernel (kernel/config/), counted in a run of this
# scenario: 7.3.4 with base.config and debug.config has 3 (rust_kernel_fmt, rust_netlink,
# rust_spinlock_irq_condvar).
OTHERS_MIN=3

others=
for dir in "$KUNIT"/*; do
	[ -d "$dir" ] || continue
	suite=${dir##*/}
	case " $OURS $BENCH " in
	*" $suite "*) ;;
	*) others="$others $suite" ;;
	esac
done
n_others=$(echo "$others" | wc -w)
n_ours=$(echo "$OURS" | wc -w)
# Ours, our doctests, the bench, the count of the others, and the others.
ktap_plan $((n_ours + 3 + n_others))

for suite in $OURS; do
	ktap_kunit "$suite"
done

our_doctests() {
	_results=$KUNIT/rust_doctests_kernel/results
	[ -r $_results ] || { echo "no KUnit suite 'rust_doctests_kernel' in $KUNIT"; return 1; }
	_rc=0
	for _d in $OUR_DOCTESTS; do
		_file=${_d%:*} _min=${_d#*:}
		_n=$(grep -cE "^ *(not )?ok [0-9]+ rust_doctest_kernel_${_file}_[0-9]+( #.*)?\$" $_results)
		echo "rust_doctest_kernel_${_file}_*: $_n cases"
		if [ "$_n" -lt "$_min" ]; then
			echo "rust_doctests_kernel has $_n cases rust_doctest_kernel_${_file}_* (at least $_min expected): doctests of ours are gone"
			_rc=1
		fi
	done
	return $_rc
}
ktap_test our_rust_doctests_present our_doctests

bench_agrees() {
	[ -w $KUNIT/$BENCH/run ] || { echo "no KUnit suite '$BENCH' in $KUNIT"; return 1; }
	echo run > $KUNIT/$BENCH/run
	cat $KUNIT/$BENCH/results
	tail -n 1 $KUNIT/$BENCH/results | grep -q "^ok 1 $BENCH\$"
}
ktap_test zone_policy_bench_rust_and_c_agree bench_agrees
dmesg | grep -oE 'bench: (contig-zones|auto-movable): .*' | while IFS= read -r line; do
	ktap_note "zone_policy_bench (debug kernel, a note only): $line"
done

others_present() {
	echo "the kernel's other KUnit suites: $n_others:$others"
	[ "$n_others" -ge "$OTHERS_MIN" ] ||
		{ echo "only $n_others of the kernel's other KUnit suites (at least $OTHERS_MIN expected)"; return 1; }
}
ktap_test "kernel_suites_at_least_$OTHERS_MIN" others_present

for suite in $others; do
	ktap_kunit "$suite"
done
