// SPDX-License-Identifier: GPL-2.0

//! KUnit: the Rust zone selection against the C one on the live zones, and what each costs.
//!
//! Both implementations are called with the same arguments, one after the other, while
//! [`HotplugLock`] keeps the zones from changing, under every online policy of
//! [`POLICIES`]; any difference in the returned zone is a mismatch. The scenarios run the suites
//! again after onlining memory into different zones, so the live state varies between runs.

use core::ptr;

use kernel::{
    bindings,
    ffi::{
        c_int,
        c_ulong,
        c_void, //
    },
    prelude::*,
    time::{
        Instant,
        Monotonic, //
    },
};

use super::{
    decision::{
        MemoryState,
        ZoneView, //
    },
    node_data,
    node_zone,
    online_node_ids,
    LiveMemory, //
};

/// `struct mhp_online_policy` in a `const`.
const fn knobs(
    auto_movable: bool,
    auto_movable_ratio: u32,
    auto_movable_numa_aware: bool,
    movable_node: bool,
) -> bindings::mhp_online_policy {
    bindings::mhp_online_policy {
        auto_movable,
        auto_movable_ratio,
        auto_movable_numa_aware,
        movable_node,
    }
}

/// The online policies every range is decided under: contig-zones with and without
/// `movable_node`, auto-movable with the ratio off, tiny, 1:1, the default 301% and huge, each
/// with `auto_movable_numa_aware` off and on.
const POLICIES: [bindings::mhp_online_policy; 12] = [
    knobs(false, 301, true, false),
    knobs(false, 301, true, true),
    knobs(true, 0, false, false),
    knobs(true, 0, true, false),
    knobs(true, 1, false, false),
    knobs(true, 1, true, false),
    knobs(true, 100, false, false),
    knobs(true, 100, true, false),
    knobs(true, 301, false, false),
    knobs(true, 301, true, false),
    knobs(true, 100_000, false, false),
    knobs(true, 100_000, true, false),
];

/// The online types that the online policy decides (`MMOP_ONLINE`, and `MMOP_OFFLINE`, which
/// C lets through to the policy too).
const POLICY_ONLINE_TYPES: [bindings::mmop; 2] =
    [bindings::mmop_MMOP_OFFLINE, bindings::mmop_MMOP_ONLINE];

/// The online types that name their zone whatever the policy.
const FIXED_ONLINE_TYPES: [bindings::mmop; 2] = [
    bindings::mmop_MMOP_ONLINE_KERNEL,
    bindings::mmop_MMOP_ONLINE_MOVABLE,
];

/// The online policy, set for a test and put back as it was when dropped.
struct PolicyOverride {
    saved: bindings::mhp_online_policy,
}

impl PolicyOverride {
    fn new() -> Self {
        let mut saved = bindings::mhp_online_policy::default();
        // SAFETY: `saved` is a valid `struct mhp_online_policy` to fill in.
        unsafe { bindings::mhp_get_online_policy(&mut saved) };
        Self { saved }
    }

    fn set(&self, policy: &bindings::mhp_online_policy) {
        // SAFETY: `policy` is a valid `struct mhp_online_policy`.
        unsafe { bindings::mhp_set_online_policy(policy) };
    }
}

impl Drop for PolicyOverride {
    fn drop(&mut self) {
        self.set(&self.saved);
    }
}

/// `lock_device_hotplug()` and `get_online_mems()` until dropped: no memory block is onlined or
/// offlined, no memory is added or removed meanwhile. Onlining picks its zone under the device
/// hotplug lock but before it takes `mem_hotplug_lock`, so the tests, which change the online
/// policy for a while, need both.
struct HotplugLock;

impl HotplugLock {
    fn get() -> Self {
        // SAFETY: Called in process context; the locks are taken in the kernel's order (device
        // hotplug, then memory hotplug) and released in reverse when dropped.
        unsafe {
            bindings::lock_device_hotplug();
            bindings::get_online_mems();
        }
        Self
    }
}

impl Drop for HotplugLock {
    fn drop(&mut self) {
        // SAFETY: `get()` took both locks.
        unsafe {
            bindings::put_online_mems();
            bindings::unlock_device_hotplug();
        }
    }
}

/// One decision: `zone_for_pfn_range()`'s arguments.
#[derive(Clone, Copy)]
struct Decision {
    online_type: bindings::mmop,
    nid: c_int,
    group: *mut bindings::memory_group,
    start_pfn: c_ulong,
    nr_pages: c_ulong,
}

impl Decision {
    /// `zone_for_pfn_range_c()`.
    ///
    /// # Safety
    ///
    /// `NODE_DATA(self.nid)` exists and `self.group` is `NULL` or a registered memory group.
    unsafe fn c(&self) -> *mut bindings::zone {
        // SAFETY: by the function's contract.
        unsafe {
            bindings::zone_for_pfn_range_c(
                self.online_type,
                self.nid,
                self.group,
                self.start_pfn,
                self.nr_pages,
            )
        }
    }

    /// `zone_for_pfn_range_rust()`, under `policy`.
    ///
    /// # Safety
    ///
    /// As for [`Decision::c`].
    unsafe fn rust(&self, policy: &bindings::mhp_online_policy) -> *mut bindings::zone {
        // SAFETY: by the function's contract. The call goes through the C declaration, as C's
        // callers make it, so that neither implementation is inlined into the tests.
        unsafe {
            bindings::zone_for_pfn_range_rust(
                policy,
                self.online_type,
                self.nid,
                self.group,
                self.start_pfn,
                self.nr_pages,
            )
        }
    }

    /// `zone_for_pfn_range()`, as the kernel calls it: Rust or C as the parameter selects.
    ///
    /// # Safety
    ///
    /// As for [`Decision::c`].
    unsafe fn kernel(&self) -> *mut bindings::zone {
        // SAFETY: by the function's contract.
        unsafe {
            bindings::zone_for_pfn_range(
                self.online_type,
                self.nid,
                self.group,
                self.start_pfn,
                self.nr_pages,
            )
        }
    }
}

/// The index of `zone` among node `nid`'s zones, for messages; out of range if `zone` is not one
/// of them (which a mismatch may be about), so no pointer arithmetic assumes it is.
fn zone_index(nid: c_int, zone: *mut bindings::zone) -> isize {
    // SAFETY: `nid` is the node of a decision, whose `NODE_DATA()` exists.
    let first = unsafe { node_zone(node_data(nid), 0) };
    ((zone as usize).wrapping_sub(first as usize) / core::mem::size_of::<bindings::zone>()) as isize
}

/// The comparisons made so far.
#[derive(Default)]
struct Tally {
    comparisons: u64,
    mismatches: u64,
}

impl Tally {
    /// Decides `d` with both implementations and counts a mismatch if they differ. C reads the
    /// policy that is set, Rust is given `policy`: the two must be the same.
    ///
    /// # Safety
    ///
    /// As for [`Decision::c`].
    unsafe fn compare(&mut self, policy: &bindings::mhp_online_policy, d: Decision) {
        // SAFETY: by the function's contract.
        let (c, rust) = unsafe { (d.c(), d.rust(policy)) };
        self.comparisons += 1;
        if c != rust {
            self.mismatches += 1;
            if self.mismatches <= 10 {
                pr_err!(
                    "mismatch: online_type {} nid {} group {:p} pfn {:#x} pages {:#x} \
                     (auto_movable {} ratio {} numa_aware {} movable_node {}): c zone {}, rust zone {}\n",
                    d.online_type,
                    d.nid,
                    d.group,
                    d.start_pfn,
                    d.nr_pages,
                    policy.auto_movable,
                    policy.auto_movable_ratio,
                    policy.auto_movable_numa_aware,
                    policy.movable_node,
                    zone_index(d.nid, c),
                    zone_index(d.nid, rust),
                );
            }
        }
    }

    /// Compares every online type of `d`'s range, group and node under every policy.
    ///
    /// # Safety
    ///
    /// As for [`Decision::c`].
    unsafe fn compare_all(&mut self, policies: &PolicyOverride, d: Decision) {
        for (i, policy) in POLICIES.iter().enumerate() {
            policies.set(policy);
            if i == 0 {
                for online_type in FIXED_ONLINE_TYPES {
                    // SAFETY: by the function's contract.
                    unsafe { self.compare(policy, Decision { online_type, ..d }) };
                }
            }
            for online_type in POLICY_ONLINE_TYPES {
                // SAFETY: by the function's contract.
                unsafe { self.compare(policy, Decision { online_type, ..d }) };
            }
        }
    }

    fn report(&self, what: &str) {
        pr_info!(
            "rust vs c, {}: {} comparisons, {} mismatches\n",
            what,
            self.comparisons,
            self.mismatches
        );
    }
}

/// Pages per memory block.
fn block_pages() -> c_ulong {
    // SAFETY: `memory_block_size_bytes()` has no precondition.
    unsafe { bindings::memory_block_size_bytes() >> bindings::PAGE_SHIFT }
}

/// The block-aligned pfn range `[start, end)` of the pluggable physical address space.
fn pluggable_pfns() -> (c_ulong, c_ulong) {
    // SAFETY: `mhp_get_pluggable_range()` has no precondition.
    let range = unsafe { bindings::mhp_get_pluggable_range(true) };
    let block = block_pages();
    let start = (range.start >> bindings::PAGE_SHIFT) as c_ulong;
    let end = (range.end.saturating_add(1) >> bindings::PAGE_SHIFT) as c_ulong;
    (start.div_ceil(block) * block, end / block * block)
}

/// The end of the highest zone span of any online node, in pfns.
fn spanned_end() -> c_ulong {
    let mut end = 0;
    for nid in online_node_ids() {
        // SAFETY: `nid` is online, so `NODE_DATA(nid)` exists.
        let memory = unsafe { LiveMemory::new(nid) };
        for zid in 0..bindings::zone_type___MAX_NR_ZONES as usize {
            let zone = memory.zone(nid, zid);
            let spanned_pages = zone.spanned_pages();
            if spanned_pages != 0 {
                end = end.max(zone.start_pfn() + spanned_pages);
            }
        }
    }
    end as c_ulong
}

#[kunit_tests(zone_policy_rust_vs_c)]
mod tests {
    use super::*;

    /// Every memory-block-aligned range of the pluggable space, one block long, on every online
    /// node, without a memory group: every online type under every policy.
    #[test]
    fn every_block_of_the_pluggable_space() {
        // KUnit ends a test at its first failed assertion without unwinding: assert only after
        // the guards are dropped.
        let (start, end) = pluggable_pfns();
        let block = block_pages();
        let mut tally = Tally::default();
        let lock = HotplugLock::get();
        let policies = PolicyOverride::new();
        for nid in online_node_ids() {
            for start_pfn in (start..end).step_by(block) {
                let d = Decision {
                    online_type: bindings::mmop_MMOP_ONLINE,
                    nid,
                    group: ptr::null_mut(),
                    start_pfn,
                    nr_pages: block,
                };
                // SAFETY: `nid` is online; no group.
                unsafe { tally.compare_all(&policies, d) };
            }
        }
        drop((policies, lock));
        tally.report("every block of the pluggable space");
        assert!(end > start);
        assert!(tally.comparisons > 0);
        assert_eq!(tally.mismatches, 0);
    }

    /// Every memory block the kernel has, with its node and memory group, as `valid_zones` and
    /// onlining ask: every online type under every policy.
    #[test]
    fn every_memory_block_with_its_group() {
        /// Compares the decisions of one memory block.
        ///
        /// # Safety
        ///
        /// `mem` is a memory block and `arg` the `(PolicyOverride, Tally)` of the walk.
        unsafe extern "C" fn compare_block(
            mem: *mut bindings::memory_block,
            arg: *mut c_void,
        ) -> c_int {
            // SAFETY: by the function's contract. The block is read field by field through the
            // pointer: other CPUs write other fields of it (its device's reference count).
            let ((policies, tally), nid, group, start_section_nr) = unsafe {
                (
                    &mut *arg.cast::<(PolicyOverride, Tally)>(),
                    (*mem).nid,
                    (*mem).group,
                    (*mem).start_section_nr,
                )
            };
            let d = Decision {
                online_type: bindings::mmop_MMOP_ONLINE,
                nid,
                group,
                start_pfn: (start_section_nr << bindings::PFN_SECTION_SHIFT) as c_ulong,
                nr_pages: block_pages(),
            };
            // SAFETY: the node of a memory block exists; its group (if any) stays registered while
            // the block does, and the walk holds a reference to the block.
            unsafe { tally.compare_all(policies, d) };
            0
        }

        let lock = HotplugLock::get();
        let mut walk = (PolicyOverride::new(), Tally::default());
        // SAFETY: `compare_block` matches `walk_memory_blocks_func_t` and gets `walk` as `arg`.
        let ret =
            unsafe { bindings::for_each_memory_block((&raw mut walk).cast(), Some(compare_block)) };
        let (policies, tally) = walk;
        drop((policies, lock));
        tally.report("every memory block with its group");
        assert_eq!(ret, 0);
        assert!(tally.comparisons > 0);
        assert_eq!(tally.mismatches, 0);
    }

    /// Dynamic memory groups (as virtio-mem registers them), one with a unit of one memory block
    /// and one of eight: every block up to the end of the highest zone and 16 blocks beyond, as
    /// a request of each group, with both groups registered.
    #[test]
    fn dynamic_memory_groups() -> Result {
        let block = block_pages();
        let nid = online_node_ids().next().ok_or(ENODEV)?;
        let mut tally = Tally::default();
        {
            let groups = [
                DynamicGroup::register(nid, block)?,
                DynamicGroup::register(nid, 8 * block)?,
            ];
            let _lock = HotplugLock::get();
            let policies = PolicyOverride::new();
            let end = (spanned_end() / block + 16) * block;
            for dynamic in &groups {
                let group = dynamic.group();
                for start_pfn in (0..end).step_by(block) {
                    let d = Decision {
                        online_type: bindings::mmop_MMOP_ONLINE,
                        nid,
                        group,
                        start_pfn,
                        nr_pages: block,
                    };
                    // SAFETY: `nid` is online; `group` stays registered while `groups` lives.
                    unsafe { tally.compare_all(&policies, d) };
                }
            }
        }
        tally.report("dynamic memory groups");
        assert!(tally.comparisons > 0);
        assert_eq!(tally.mismatches, 0);
        Ok(())
    }
}

/// A dynamic memory group without memory blocks, unregistered when dropped.
struct DynamicGroup {
    id: c_int,
}

impl DynamicGroup {
    /// `memory_group_register_dynamic(nid, unit_pages)`.
    fn register(nid: c_int, unit_pages: c_ulong) -> Result<Self> {
        // SAFETY: The function checks its arguments.
        let id = unsafe { bindings::memory_group_register_dynamic(nid, unit_pages) };
        if id < 0 {
            return Err(Error::from_errno(id));
        }
        Ok(Self { id })
    }

    /// The group, which stays registered as long as `self`.
    fn group(&self) -> *mut bindings::memory_group {
        // SAFETY: `self.id` is registered.
        unsafe { bindings::memory_group_find_by_id(self.id) }
    }
}

impl Drop for DynamicGroup {
    fn drop(&mut self) {
        // SAFETY: `self.id` is registered and, as nothing adds memory to it, has no memory blocks.
        unsafe { bindings::memory_group_unregister(self.id) };
    }
}

/// The median of `samples`, which it sorts.
fn median(samples: &mut [i64]) -> i64 {
    samples.sort_unstable();
    samples.get(samples.len() / 2).copied().unwrap_or(0)
}

/// How many times a benchmark round decides its whole list.
const REPEAT: usize = 16;

/// The implementation `zone_for_pfn_range()` calls, set for a benchmark and put back when dropped.
struct ImplementationOverride {
    saved: bool,
}

impl ImplementationOverride {
    fn new() -> Self {
        // SAFETY: No precondition; the value read back is put back when dropped.
        let saved = unsafe { bindings::mhp_set_zone_policy_rust(true) };
        Self { saved }
    }

    fn set(&self, rust: bool) {
        // SAFETY: No precondition.
        unsafe { bindings::mhp_set_zone_policy_rust(rust) };
    }
}

impl Drop for ImplementationOverride {
    fn drop(&mut self) {
        self.set(self.saved);
    }
}

/// Times [`REPEAT`] passes over `decisions` with `zone_for_pfn_range()`, the implementation
/// `rust` selects, and returns the nanoseconds taken and a checksum of the zones returned.
///
/// # Safety
///
/// Each decision satisfies [`Decision::c`]'s contract.
unsafe fn time_decisions(
    implementation: &ImplementationOverride,
    rust: bool,
    decisions: &[Decision],
) -> (i64, usize) {
    implementation.set(rust);
    let mut sum = 0usize;
    let start = Instant::<Monotonic>::now();
    for _ in 0..REPEAT {
        for d in decisions {
            // SAFETY: by the function's contract.
            sum = sum.wrapping_add(unsafe { d.kernel() } as usize);
        }
    }
    (start.elapsed().as_nanos(), sum)
}

#[kunit_tests(zone_policy_bench)]
mod bench {
    use super::*;

    /// Rounds of the benchmark; each times both implementations, in alternating order.
    const ROUNDS: usize = 21;

    /// Nanoseconds per `zone_for_pfn_range()` with `zone_policy_rust` off (C) and on (Rust),
    /// median of [`ROUNDS`], printed with their ratio for each policy; the two must agree on
    /// every decision they time.
    #[test]
    fn ns_per_decision_rust_vs_c() -> Result {
        let block = block_pages();
        let nid = online_node_ids().next().ok_or(ENODEV)?;
        // Every block up to 16 beyond the highest zone, every online type.
        let end = (spanned_end() / block + 16) * block;
        let mut decisions = KVec::new();
        for start_pfn in (0..end).step_by(block) {
            for online_type in Iterator::chain(FIXED_ONLINE_TYPES.into_iter(), POLICY_ONLINE_TYPES)
            {
                decisions.push(
                    Decision {
                        online_type,
                        nid,
                        group: ptr::null_mut(),
                        start_pfn,
                        nr_pages: block,
                    },
                    GFP_KERNEL,
                )?;
            }
        }

        let mut agree = true;
        let mut timed = true;
        let mut c_ns = KVec::with_capacity(ROUNDS, GFP_KERNEL)?;
        let mut rust_ns = KVec::with_capacity(ROUNDS, GFP_KERNEL)?;
        let lock = HotplugLock::get();
        let policies = PolicyOverride::new();
        let implementation = ImplementationOverride::new();
        for (name, policy) in [
            ("contig-zones", &POLICIES[0]),
            ("auto-movable", &POLICIES[9]),
        ] {
            policies.set(policy);
            c_ns.clear();
            rust_ns.clear();
            for round in 0..ROUNDS {
                // SAFETY: every decision is on an online node without a group.
                let (c, rust) = unsafe {
                    if round % 2 == 0 {
                        let c = time_decisions(&implementation, false, &decisions);
                        (c, time_decisions(&implementation, true, &decisions))
                    } else {
                        let rust = time_decisions(&implementation, true, &decisions);
                        (time_decisions(&implementation, false, &decisions), rust)
                    }
                };
                agree &= c.1 == rust.1;
                c_ns.push(c.0, GFP_KERNEL)?;
                rust_ns.push(rust.0, GFP_KERNEL)?;
            }
            let n = (decisions.len() * REPEAT) as i64;
            let (c, rust) = (median(&mut c_ns), median(&mut rust_ns));
            pr_info!(
                "bench: {}: {} decisions x {} rounds: c {}.{:03} ns, rust {}.{:03} ns \
                 per decision (median), rust/c {}.{:03}\n",
                name,
                n,
                ROUNDS,
                c / n,
                c % n * 1000 / n,
                rust / n,
                rust % n * 1000 / n,
                rust / c.max(1),
                rust % c.max(1) * 1000 / c.max(1),
            );
            timed &= c > 0 && rust > 0;
        }
        drop((implementation, policies, lock));
        assert!(agree);
        assert!(timed);
        Ok(())
    }
}
