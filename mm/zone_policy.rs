// SPDX-License-Identifier: GPL-2.0

//! Memory hotplug's zone selection in Rust: `zone_for_pfn_range()` of `mm/memory_hotplug.c`.
//!
//! With `CONFIG_ZONE_POLICY_RUST`, C's `zone_for_pfn_range()` calls [`zone_for_pfn_range_rust`]
//! while the parameter `memory_hotplug.zone_policy_rust` is set, and the C original, renamed
//! `zone_for_pfn_range_c()`, otherwise; it passes the online policy's knobs, which are static to
//! `mm/memory_hotplug.c`. The decision itself is [`decision`], a pure function of the memory
//! state it reads; this file reads that state from the live zones, nodes, memory groups and memory
//! map, as the C functions do.
//!
//! C header: [`include/linux/memory_hotplug.h`](srctree/include/linux/memory_hotplug.h)

use core::ptr::{
    self,
    NonNull, //
};

use kernel::{
    bindings,
    ffi::{
        c_int,
        c_ulong,
        c_void, //
    },
    prelude::*, //
};

#[path = "zone_policy/decision.rs"]
pub mod decision;

#[cfg(CONFIG_ZONE_POLICY_RUST_KUNIT_TEST)]
#[path = "zone_policy/kunit.rs"]
mod kunit;

use decision::{
    GroupKind,
    MemoryGroup,
    MemoryState,
    OnlinePolicy,
    OnlineType,
    Policy,
    Request,
    SectionState,
    ZoneLayout,
    ZoneView, //
};

/// The zone indices of this kernel.
const LAYOUT: ZoneLayout = ZoneLayout {
    normal: bindings::zone_type_ZONE_NORMAL as usize,
    movable: bindings::zone_type_ZONE_MOVABLE as usize,
    #[cfg(CONFIG_ZONE_DEVICE)]
    device: bindings::zone_type_ZONE_DEVICE as usize,
    #[cfg(not(CONFIG_ZONE_DEVICE))]
    device: bindings::zone_type___MAX_NR_ZONES as usize,
    nr_zones: bindings::zone_type___MAX_NR_ZONES as usize,
    pages_per_section: bindings::PAGES_PER_SECTION as u64,
};

// Log lines start with the crate's name, as a module's would. Only the tests print.
#[cfg(CONFIG_ZONE_POLICY_RUST_KUNIT_TEST)]
const __LOG_PREFIX: &[u8] = b"zone_policy\0";

/// Reads the `unsigned long` at `place` once, as C's `READ_ONCE()` does.
///
/// The zone and group counters are written under `mem_hotplug_lock` and read without it, by C as
/// by Rust: the read may be stale, but it is never torn.
///
/// # Safety
///
/// `place` must be valid for reads and aligned.
unsafe fn read_once(place: *const c_ulong) -> u64 {
    // SAFETY: `place` is valid and aligned, by the function's contract.
    unsafe { ptr::read_volatile(place) as u64 }
}

/// `node_states[N_ONLINE]`, read once.
fn online_nodes() -> bindings::nodemask_t {
    // SAFETY: `node_states` is a static array that lives forever; its words are read as
    // `test_bit()` reads them.
    unsafe {
        ptr::read_volatile(
            &raw const bindings::node_states[bindings::node_states_N_ONLINE as usize],
        )
    }
}

/// `NODE_DATA(nid)`.
///
/// # Safety
///
/// `nid` must be a node whose `pg_data_t` exists: an online node, or the node a caller of
/// `zone_for_pfn_range()` names.
unsafe fn node_data(nid: i32) -> *mut bindings::pglist_data {
    #[cfg(CONFIG_NUMA)]
    {
        // SAFETY: `node_data[]` has `MAX_NUMNODES` entries and `nid` is a node, so it is below
        // that; the entry of a node that exists is set before the node comes online.
        unsafe {
            (&raw const bindings::node_data)
                .cast::<*mut bindings::pglist_data>()
                .add(nid as usize)
                .read()
        }
    }
    #[cfg(not(CONFIG_NUMA))]
    {
        let _ = nid;
        &raw mut bindings::contig_page_data
    }
}

/// `&pgdat->node_zones[zid]`.
///
/// # Safety
///
/// `pgdat` must be a node's `pg_data_t` and `zid` below `MAX_NR_ZONES`.
unsafe fn node_zone(pgdat: *mut bindings::pglist_data, zid: usize) -> *mut bindings::zone {
    // SAFETY: `pgdat` is valid and `zid` indexes its `node_zones`, by the function's contract.
    unsafe {
        (&raw mut (*pgdat).node_zones)
            .cast::<bindings::zone>()
            .add(zid)
    }
}

/// Whether `nid` is set in `node_states[N_ONLINE]` (`node_online()`).
fn node_online(nid: i32) -> bool {
    let Ok(nid) = usize::try_from(nid) else {
        return false;
    };
    let bits = c_ulong::BITS as usize;
    online_nodes()
        .bits
        .get(nid / bits)
        .is_some_and(|word| word & (1 << (nid % bits)) != 0)
}

/// The online nodes, lowest first (`for_each_online_node()`), from one read of
/// `node_states[N_ONLINE]`.
fn online_node_ids() -> impl Iterator<Item = i32> {
    let bits = c_ulong::BITS as usize;
    online_nodes()
        .bits
        .into_iter()
        .enumerate()
        .flat_map(move |(i, mut word)| {
            core::iter::from_fn(move || {
                (word != 0).then(|| {
                    let bit = word.trailing_zeros() as usize;
                    word &= word - 1;
                    (i * bits + bit) as i32
                })
            })
        })
}

/// A zone of the running kernel, or none (which reads as the empty zone).
///
/// # Invariants
///
/// The pointer is a zone of a node, which lives as long as the kernel.
struct LiveZone(Option<NonNull<bindings::zone>>);

impl LiveZone {
    /// Reads the field of the zone that `field` projects to, or 0 without a zone.
    #[inline]
    fn read(&self, field: impl FnOnce(*const bindings::zone) -> *const c_ulong) -> u64 {
        self.0.map_or(0, |zone| {
            // SAFETY: `zone` is a zone (type invariant), and `field` projects to one of its
            // `unsigned long` fields.
            unsafe { read_once(field(zone.as_ptr())) }
        })
    }
}

impl ZoneView for LiveZone {
    #[inline]
    fn start_pfn(&self) -> u64 {
        // SAFETY: `read()` passes a zone; this only takes the address of its field.
        self.read(|zone| unsafe { &raw const (*zone).zone_start_pfn })
    }

    #[inline]
    fn spanned_pages(&self) -> u64 {
        // SAFETY: As in `start_pfn()`.
        self.read(|zone| unsafe { &raw const (*zone).spanned_pages })
    }

    #[inline]
    fn present_pages(&self) -> u64 {
        // SAFETY: As in `start_pfn()`.
        self.read(|zone| unsafe { &raw const (*zone).present_pages })
    }

    #[inline]
    fn present_early_pages(&self) -> u64 {
        // SAFETY: As in `start_pfn()`.
        self.read(|zone| unsafe { &raw const (*zone).present_early_pages })
    }

    #[cfg(CONFIG_CMA)]
    fn cma_pages(&self) -> u64 {
        // SAFETY: As in `start_pfn()`.
        self.read(|zone| unsafe { &raw const (*zone).cma_pages })
    }

    #[cfg(not(CONFIG_CMA))]
    fn cma_pages(&self) -> u64 {
        0
    }
}

/// The live memory state of this kernel, read as [`decision`] needs it.
///
/// # Invariants
///
/// `pgdat` is `NODE_DATA(nid)`, which exists.
struct LiveMemory {
    nid: i32,
    pgdat: *mut bindings::pglist_data,
}

impl LiveMemory {
    /// The live memory state, for a decision about node `nid`.
    ///
    /// # Safety
    ///
    /// `NODE_DATA(nid)` must exist, as `zone_for_pfn_range()` requires of its `nid`.
    unsafe fn new(nid: i32) -> Self {
        // INVARIANT: `NODE_DATA(nid)` exists, by the function's contract.
        Self {
            nid,
            // SAFETY: As above.
            pgdat: unsafe { node_data(nid) },
        }
    }
}

impl MemoryState for LiveMemory {
    type Zone = LiveZone;

    #[inline]
    fn zone(&self, nid: i32, zid: usize) -> LiveZone {
        let pgdat = if nid == self.nid {
            self.pgdat
        } else if node_online(nid) {
            // SAFETY: `nid` is online, so `NODE_DATA(nid)` exists.
            unsafe { node_data(nid) }
        } else {
            return LiveZone(None);
        };
        if zid >= LAYOUT.nr_zones {
            return LiveZone(None);
        }
        // SAFETY: `pgdat` is a node's `pg_data_t` (type invariant, or online above) and `zid` is
        // below `MAX_NR_ZONES`.
        let zone = unsafe { node_zone(pgdat, zid) };
        // INVARIANT: `zone` is a zone of a node, and nodes are never freed.
        LiveZone(NonNull::new(zone))
    }

    fn for_each_online_node(&self, f: impl FnMut(i32)) {
        online_node_ids().for_each(f);
    }

    fn for_each_dynamic_group(&self, f: impl FnMut(&MemoryGroup)) {
        walk_dynamic_memory_groups(f);
    }

    fn online_page_zone(&self, pfn: u64) -> SectionState {
        // SAFETY: `pfn_to_online_page()` takes any pfn.
        let page = unsafe { bindings::pfn_to_online_page(pfn as c_ulong) };
        if page.is_null() {
            return SectionState::NotOnline;
        }
        // SAFETY: `page` is the `struct page` of an online section, which stays until the section
        // is removed; C reads its zone the same way, under the same (lack of) locks.
        if unsafe { bindings::is_zone_movable_page(page) } {
            SectionState::OnlineMovable
        } else {
            SectionState::OnlineKernel
        }
    }
}

/// Calls `f` with each dynamic memory group (`walk_dynamic_memory_groups()`). No group is
/// excluded and `NUMA_NO_NODE` walks the groups of all nodes: [`decision`] filters them as C's
/// walk would.
fn walk_dynamic_memory_groups<F: FnMut(&MemoryGroup)>(mut f: F) {
    /// Calls the closure `arg` points to with `group` read as a [`MemoryGroup`].
    ///
    /// # Safety
    ///
    /// `group` points to a registered memory group and `arg` to an `F`.
    unsafe extern "C" fn visit<F: FnMut(&MemoryGroup)>(
        group: *mut bindings::memory_group,
        arg: *mut c_void,
    ) -> c_int {
        // SAFETY: by the function's contract.
        let (group, f) = unsafe { (memory_group(group), &mut *arg.cast::<F>()) };
        f(&group);
        0
    }

    // SAFETY: `visit::<F>` matches `walk_memory_groups_func_t` and gets `&mut f` as `arg`, an `F`
    // that outlives the walk; the walk passes registered groups only.
    unsafe {
        bindings::walk_dynamic_memory_groups(
            bindings::NUMA_NO_NODE,
            Some(visit::<F>),
            ptr::null_mut(),
            (&raw mut f).cast(),
        )
    };
}

/// `*group`, as [`decision`] reads it.
///
/// # Safety
///
/// `group` must point to a registered `struct memory_group`.
unsafe fn memory_group(group: *const bindings::memory_group) -> MemoryGroup {
    // SAFETY: `group` is valid by the function's contract; the counters are aligned
    // `unsigned long`s, the rest is set at registration and never changes.
    unsafe {
        let is_dynamic = (*group).is_dynamic;
        MemoryGroup {
            id: group as u64,
            nid: (*group).nid,
            present_kernel_pages: read_once(&raw const (*group).present_kernel_pages),
            present_movable_pages: read_once(&raw const (*group).present_movable_pages),
            kind: if is_dynamic {
                GroupKind::Dynamic {
                    unit_pages: (*group).__bindgen_anon_1.d.unit_pages as u64,
                }
            } else {
                GroupKind::Static {
                    max_pages: (*group).__bindgen_anon_1.s.max_pages as u64,
                }
            },
        }
    }
}

/// The online policy's knobs, as C passes them, with this kernel's configuration.
fn policy(knobs: &bindings::mhp_online_policy) -> Policy {
    Policy {
        online_policy: if knobs.auto_movable {
            OnlinePolicy::AutoMovable
        } else {
            OnlinePolicy::ContigZones
        },
        auto_movable_ratio: knobs.auto_movable_ratio,
        auto_movable_numa_aware: knobs.auto_movable_numa_aware,
        movable_node_enabled: knobs.movable_node,
        numa: cfg!(CONFIG_NUMA),
        cma: cfg!(CONFIG_CMA),
    }
}

/// `enum mmop` as [`OnlineType`]; values C does not define decide as `MMOP_OFFLINE` does, by the
/// online policy.
fn online_type(online_type: bindings::mmop) -> OnlineType {
    match online_type {
        bindings::mmop_MMOP_ONLINE => OnlineType::Online,
        bindings::mmop_MMOP_ONLINE_KERNEL => OnlineType::OnlineKernel,
        bindings::mmop_MMOP_ONLINE_MOVABLE => OnlineType::OnlineMovable,
        _ => OnlineType::Offline,
    }
}

/// `zone_for_pfn_range()` in Rust: the zone of node `nid` that `nr_pages` pages from `start_pfn`
/// go to when they are onlined as `online_type`, for memory group `group` (or none), under the
/// online policy `policy`.
///
/// # Safety
///
/// `policy` points to a valid `struct mhp_online_policy`. As for the C function: `NODE_DATA(nid)`
/// exists, `group` is `NULL` or points to a registered memory group, and neither that group, nor
/// the other dynamic groups, nor the memory sections of `group`'s unit are removed during the
/// call. C assumes the same of its callers (`valid_zones_show()` holds no hotplug lock; memory
/// and groups go away only once no memory block refers to them).
#[export]
pub unsafe extern "C" fn zone_for_pfn_range_rust(
    policy: *const bindings::mhp_online_policy,
    online_type: bindings::mmop,
    nid: c_int,
    group: *mut bindings::memory_group,
    start_pfn: c_ulong,
    nr_pages: c_ulong,
) -> *mut bindings::zone {
    let group = if group.is_null() {
        None
    } else {
        // SAFETY: `group` is a registered memory group, by the function's contract.
        Some(unsafe { memory_group(group) })
    };
    // SAFETY: `NODE_DATA(nid)` exists, by the function's contract.
    let memory = unsafe { LiveMemory::new(nid) };
    let request = Request {
        online_type: self::online_type(online_type),
        nid,
        group: group.as_ref(),
        start_pfn: start_pfn as u64,
        nr_pages: nr_pages as u64,
        for_device: false,
    };
    // SAFETY: `policy` is valid, by the function's contract.
    let policy = self::policy(unsafe { &*policy });
    let zid = decision::zone_for_pfn_range(&memory, &LAYOUT, &policy, &request);
    // SAFETY: `memory.pgdat` is `NODE_DATA(nid)`; the decision returns an index below
    // `MAX_NR_ZONES`, as `for_device` is false (only that returns `LAYOUT.device`).
    unsafe { node_zone(memory.pgdat, zid) }
}
