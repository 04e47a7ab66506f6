// SPDX-License-Identifier: GPL-2.0

//! The zone a range of memory goes to when it is onlined: the decision of `zone_for_pfn_range()`
//! and its helpers in `mm/memory_hotplug.c`, as a pure function of the memory state it reads.
//!
//! No kernel type appears here: the kernel implements [`MemoryState`] over its live zones and
//! memory groups, and the host crate in `tests/host/zone_policy` over explicit snapshots, which
//! its tests check against an independent model. Each function is the C function of the same
//! name, step by step. The arithmetic is C's: `unsigned long` of a 64-bit kernel is `u64` and
//! wraps where C wraps, `long` is `i64`, and the conversions between them are C's.
//!
//! C: [`mm/memory_hotplug.c`](srctree/mm/memory_hotplug.c)

/// `NUMA_NO_NODE`: no particular node.
pub const NUMA_NO_NODE: i32 = -1;

/// How a memory block is onlined (`enum mmop`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnlineType {
    /// `MMOP_OFFLINE`.
    Offline,
    /// `MMOP_ONLINE`: the online policy picks the zone.
    Online,
    /// `MMOP_ONLINE_KERNEL`.
    OnlineKernel,
    /// `MMOP_ONLINE_MOVABLE`.
    OnlineMovable,
}

/// The online policy (`memory_hotplug.online_policy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnlinePolicy {
    /// `"contig-zones"`: keep zones contiguous.
    ContigZones,
    /// `"auto-movable"`: ZONE_MOVABLE while the MOVABLE:KERNEL ratio allows.
    AutoMovable,
}

/// The policy knobs and the configuration the decision depends on.
///
/// C reads `auto_movable_ratio` up to four times in one decision and some callers hold no lock, so
/// a concurrent write can mix two values there; the port reads each knob once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// `online_policy`.
    pub online_policy: OnlinePolicy,
    /// `auto_movable_ratio`, in percent (an `unsigned int` module parameter).
    pub auto_movable_ratio: u32,
    /// `auto_movable_numa_aware`.
    pub auto_movable_numa_aware: bool,
    /// `movable_node_enabled`.
    pub movable_node_enabled: bool,
    /// `CONFIG_NUMA`.
    pub numa: bool,
    /// `CONFIG_CMA`.
    pub cma: bool,
}

/// The zone indices of the kernel's configuration (`enum zone_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ZoneLayout {
    /// `ZONE_NORMAL`.
    pub normal: usize,
    /// `ZONE_MOVABLE`.
    pub movable: usize,
    /// `ZONE_DEVICE`, or `MAX_NR_ZONES` in a kernel without it.
    pub device: usize,
    /// `MAX_NR_ZONES`.
    pub nr_zones: usize,
    /// `PAGES_PER_SECTION`.
    pub pages_per_section: u64,
}

/// What the decision reads of one zone (`struct zone`), read when the decision reads it, as C
/// reads the fields of a zone one at a time.
pub trait ZoneView {
    /// `zone_start_pfn`.
    fn start_pfn(&self) -> u64;
    /// `spanned_pages`.
    fn spanned_pages(&self) -> u64;
    /// `present_pages`.
    fn present_pages(&self) -> u64;
    /// `present_early_pages`.
    fn present_early_pages(&self) -> u64;
    /// `cma_pages` (read only with `CONFIG_CMA`).
    fn cma_pages(&self) -> u64;
}

/// A zone's fields as values: an explicit zone for tests, or the empty zone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ZoneState {
    /// `zone_start_pfn`.
    pub start_pfn: u64,
    /// `spanned_pages`.
    pub spanned_pages: u64,
    /// `present_pages`.
    pub present_pages: u64,
    /// `present_early_pages`.
    pub present_early_pages: u64,
    /// `cma_pages` (read only with `CONFIG_CMA`).
    pub cma_pages: u64,
}

impl ZoneView for ZoneState {
    fn start_pfn(&self) -> u64 {
        self.start_pfn
    }

    fn spanned_pages(&self) -> u64 {
        self.spanned_pages
    }

    fn present_pages(&self) -> u64 {
        self.present_pages
    }

    fn present_early_pages(&self) -> u64 {
        self.present_early_pages
    }

    fn cma_pages(&self) -> u64 {
        self.cma_pages
    }
}

/// The part of a memory group that differs between static and dynamic groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupKind {
    /// A static group (`s.max_pages`).
    Static {
        /// `s.max_pages`.
        max_pages: u64,
    },
    /// A dynamic group (`d.unit_pages`).
    Dynamic {
        /// `d.unit_pages`.
        unit_pages: u64,
    },
}

/// A memory group (`struct memory_group`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryGroup {
    /// The group's identity: C tells groups apart by their address (`group == excluded`), so
    /// the kernel passes the address of its `struct memory_group`. Two groups never share an id.
    pub id: u64,
    /// `nid`.
    pub nid: i32,
    /// `present_kernel_pages`.
    pub present_kernel_pages: u64,
    /// `present_movable_pages`.
    pub present_movable_pages: u64,
    /// `is_dynamic` and the union.
    pub kind: GroupKind,
}

impl MemoryGroup {
    fn is_dynamic(&self) -> bool {
        matches!(self.kind, GroupKind::Dynamic { .. })
    }
}

/// What `pfn_to_online_page()` and `is_zone_movable_page()` say of one pfn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SectionState {
    /// `pfn_to_online_page()` returns `NULL`.
    NotOnline,
    /// Online, in ZONE_MOVABLE.
    OnlineMovable,
    /// Online, in another zone.
    OnlineKernel,
}

/// The memory state the decision reads.
pub trait MemoryState {
    /// A zone, as the decision reads it.
    type Zone: ZoneView;

    /// Zone `zid` of node `nid` (`NODE_DATA(nid)->node_zones[zid]`).
    fn zone(&self, nid: i32, zid: usize) -> Self::Zone;

    /// Calls `f` with each online node, in order (what `for_each_populated_zone()` walks).
    fn for_each_online_node(&self, f: impl FnMut(i32));

    /// Calls `f` with each dynamic memory group, in index order (`walk_dynamic_memory_groups()`).
    fn for_each_dynamic_group(&self, f: impl FnMut(&MemoryGroup));

    /// `pfn_to_online_page(pfn)`, then `is_zone_movable_page()` of the page, evaluated at exactly
    /// this pfn: not only whether its section is online, but also `pfn_valid()`, the subsection
    /// and the absence of a ZONE_DEVICE pagemap, as `pfn_to_online_page()` checks them.
    fn online_page_zone(&self, pfn: u64) -> SectionState;
}

/// What is being onlined: the arguments of `zone_for_pfn_range()`.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// `online_type`.
    pub online_type: OnlineType,
    /// `nid`.
    pub nid: i32,
    /// `group`.
    pub group: Option<&'a MemoryGroup>,
    /// `start_pfn`.
    pub start_pfn: u64,
    /// `nr_pages`.
    pub nr_pages: u64,
    /// Whether the range is device memory being added for a `struct dev_pagemap`: the
    /// `for_device` argument of 4.3's `zone_for_memory()`. In 7.3 `pagemap_range()` picks
    /// ZONE_DEVICE itself and C's `zone_for_pfn_range()` is never asked about device memory, so
    /// its callers pass `false`.
    pub for_device: bool,
}

/// `zone_intersects()`: whether the zone spans any page of the range. Empty zones never do.
#[inline(always)]
pub fn zone_intersects(zone: &impl ZoneView, start_pfn: u64, nr_pages: u64) -> bool {
    // zone_is_empty()
    let spanned_pages = zone.spanned_pages();
    if spanned_pages == 0 {
        return false;
    }
    let zone_start_pfn = zone.start_pfn();
    !(start_pfn >= zone_start_pfn.wrapping_add(spanned_pages)
        || start_pfn.wrapping_add(nr_pages) <= zone_start_pfn)
}

/// `struct auto_movable_stats`.
#[derive(Default)]
struct AutoMovableStats {
    kernel_early_pages: u64,
    movable_pages: u64,
}

/// `auto_movable_stats_account_zone()`.
fn auto_movable_stats_account_zone(
    stats: &mut AutoMovableStats,
    layout: &ZoneLayout,
    policy: &Policy,
    zid: usize,
    zone: &impl ZoneView,
) {
    if zid == layout.movable {
        stats.movable_pages = stats.movable_pages.wrapping_add(zone.present_pages());
    } else {
        stats.kernel_early_pages = stats
            .kernel_early_pages
            .wrapping_add(zone.present_early_pages());
        if policy.cma {
            // CMA pages (never on hotplugged memory) behave like ZONE_MOVABLE.
            let cma_pages = zone.cma_pages();
            stats.movable_pages = stats.movable_pages.wrapping_add(cma_pages);
            stats.kernel_early_pages = stats.kernel_early_pages.wrapping_sub(cma_pages);
        }
    }
}

/// `struct auto_movable_group_stats`.
#[derive(Default)]
struct AutoMovableGroupStats {
    movable_pages: u64,
    req_kernel_early_pages: u64,
}

/// `auto_movable_stats_account_group()`.
fn auto_movable_stats_account_group(
    stats: &mut AutoMovableGroupStats,
    policy: &Policy,
    group: &MemoryGroup,
) {
    // C: `const int ratio = READ_ONCE(auto_movable_ratio)`, an `unsigned int` made `int`.
    let ratio = policy.auto_movable_ratio as i32;

    // C avoids the division by zero when the ratio changed under an enabled policy.
    if ratio == 0 {
        return;
    }

    // C: `long pages = present_movable_pages * 100 / ratio; pages -= present_kernel_pages;` with
    // the `int` ratio made `unsigned long` for the division, then `long` arithmetic done unsigned.
    let pages = (group.present_movable_pages.wrapping_mul(100) / (i64::from(ratio) as u64))
        .wrapping_sub(group.present_kernel_pages) as i64;

    if pages > 0 {
        stats.req_kernel_early_pages = stats.req_kernel_early_pages.wrapping_add(pages as u64);
    }
    stats.movable_pages = stats
        .movable_pages
        .wrapping_add(group.present_movable_pages);
}

/// `auto_movable_can_online_movable()`: whether `nr_pages` more in ZONE_MOVABLE keep the ratio, over
/// all nodes (`nid == NUMA_NO_NODE`) or over node `nid`.
fn auto_movable_can_online_movable(
    state: &impl MemoryState,
    layout: &ZoneLayout,
    policy: &Policy,
    nid: i32,
    group: Option<&MemoryGroup>,
    nr_pages: u64,
) -> bool {
    let mut stats = AutoMovableStats::default();
    let mut group_stats = AutoMovableGroupStats::default();

    // Walk all relevant zones and collect MOVABLE vs. KERNEL stats.
    let mut account_node = |node: i32| {
        for zid in 0..layout.nr_zones {
            let zone = state.zone(node, zid);
            // populated_zone()
            if zone.present_pages() != 0 {
                auto_movable_stats_account_zone(&mut stats, layout, policy, zid, &zone);
            }
        }
    };
    if nid == NUMA_NO_NODE {
        state.for_each_online_node(&mut account_node);
    } else {
        account_node(nid);
    }

    let mut kernel_early_pages = stats.kernel_early_pages;
    let mut movable_pages = stats.movable_pages;

    // Kernel memory inside dynamic memory group allows for more MOVABLE memory within the same
    // group. Remove the effect of all but the current group from the stats.
    state.for_each_dynamic_group(|g| {
        if group.is_some_and(|excluded| excluded.id == g.id) {
            return;
        }
        if policy.numa && nid != NUMA_NO_NODE && g.nid != nid {
            return;
        }
        auto_movable_stats_account_group(&mut group_stats, policy, g);
    });
    if kernel_early_pages <= group_stats.req_kernel_early_pages {
        return false;
    }
    kernel_early_pages -= group_stats.req_kernel_early_pages;
    movable_pages = movable_pages.wrapping_sub(group_stats.movable_pages);

    if let Some(g) = group.filter(|g| g.is_dynamic()) {
        kernel_early_pages = kernel_early_pages.wrapping_add(g.present_kernel_pages);
    }

    // Test if we could online the given number of pages to ZONE_MOVABLE and still stay in the
    // configured ratio. C: `unsigned int * unsigned long`.
    movable_pages = movable_pages.wrapping_add(nr_pages);
    movable_pages <= u64::from(policy.auto_movable_ratio).wrapping_mul(kernel_early_pages) / 100
}

/// `default_kernel_zone_for_pfn()`: the first zone below ZONE_NORMAL that intersects the range,
/// else ZONE_NORMAL.
#[inline(always)]
pub fn default_kernel_zone_for_pfn(
    state: &impl MemoryState,
    layout: &ZoneLayout,
    nid: i32,
    start_pfn: u64,
    nr_pages: u64,
) -> usize {
    (0..layout.normal)
        .find(|&zid| zone_intersects(&state.zone(nid, zid), start_pfn, nr_pages))
        .unwrap_or(layout.normal)
}

/// `auto_movable_zone_for_pfn()`: ZONE_MOVABLE while the MOVABLE:KERNEL ratio allows it, else the
/// default kernel zone.
// Out of line, as the other online types need none of its state: their path stays short.
#[inline(never)]
fn auto_movable_zone_for_pfn(
    state: &impl MemoryState,
    layout: &ZoneLayout,
    policy: &Policy,
    nid: i32,
    group: Option<&MemoryGroup>,
    mut pfn: u64,
    mut nr_pages: u64,
) -> usize {
    // C jumps to `kernel_zone:` from several places, each time with `pfn` and `nr_pages` as they
    // are then: the loop below may have moved `pfn`, and `nr_pages` is reassigned before the
    // ratio checks. This closure is that label, and the callers pass what C would use.
    let kernel_zone =
        |pfn: u64, nr_pages: u64| default_kernel_zone_for_pfn(state, layout, nid, pfn, nr_pages);

    if policy.auto_movable_ratio == 0 {
        return kernel_zone(pfn, nr_pages);
    }

    let mut online_pages = 0u64;
    let max_pages;
    match group.map(|g| (g, g.kind)) {
        Some((g, GroupKind::Static { max_pages: max })) => {
            max_pages = max;
            online_pages = g.present_movable_pages;

            // If anything is !MOVABLE online the rest !MOVABLE.
            if g.present_kernel_pages != 0 {
                return kernel_zone(pfn, nr_pages);
            }
        }
        None => max_pages = nr_pages,
        Some((_, GroupKind::Dynamic { unit_pages })) if unit_pages == nr_pages => {
            max_pages = nr_pages;
        }
        Some((_, GroupKind::Dynamic { unit_pages })) => {
            max_pages = unit_pages;
            // Take a look at all online sections in the current unit. All pages within a section
            // belong to the same zone: dynamic memory groups only deal with hotplugged memory.
            // C: `ALIGN_DOWN(pfn, unit_pages)`, which is `pfn & ~(unit_pages - 1)`.
            pfn &= !unit_pages.wrapping_sub(1);
            let end_pfn = pfn.wrapping_add(unit_pages);
            while pfn < end_pfn {
                match state.online_page_zone(pfn) {
                    SectionState::NotOnline => {}
                    // If anything is !MOVABLE online the rest !MOVABLE.
                    SectionState::OnlineKernel => return kernel_zone(pfn, nr_pages),
                    SectionState::OnlineMovable => {
                        online_pages = online_pages.wrapping_add(layout.pages_per_section);
                    }
                }
                pfn = pfn.wrapping_add(layout.pages_per_section);
            }
        }
    }

    // Online MOVABLE if we could *currently* online all remaining parts MOVABLE. We expect to
    // (add+) online them immediately next, so if nobody interferes, all will be MOVABLE if
    // possible.
    nr_pages = max_pages.wrapping_sub(online_pages);
    if !auto_movable_can_online_movable(state, layout, policy, NUMA_NO_NODE, group, nr_pages) {
        return kernel_zone(pfn, nr_pages);
    }

    if policy.numa
        && policy.auto_movable_numa_aware
        && !auto_movable_can_online_movable(state, layout, policy, nid, group, nr_pages)
    {
        return kernel_zone(pfn, nr_pages);
    }

    layout.movable
}

/// `default_zone_for_pfn()`: the zone the range already belongs to, if exactly one of the default
/// kernel zone and ZONE_MOVABLE spans it; else ZONE_MOVABLE with `movable_node`, else the kernel
/// zone.
#[inline(always)]
fn default_zone_for_pfn(
    state: &impl MemoryState,
    layout: &ZoneLayout,
    policy: &Policy,
    nid: i32,
    start_pfn: u64,
    nr_pages: u64,
) -> usize {
    let kernel_zone = default_kernel_zone_for_pfn(state, layout, nid, start_pfn, nr_pages);
    let in_kernel = zone_intersects(&state.zone(nid, kernel_zone), start_pfn, nr_pages);
    let in_movable = zone_intersects(&state.zone(nid, layout.movable), start_pfn, nr_pages);

    // We inherit the existing zone in a simple case where zones do not overlap in the range.
    if in_kernel ^ in_movable {
        return if in_kernel {
            kernel_zone
        } else {
            layout.movable
        };
    }

    // If the range doesn't belong to any zone or two zones overlap in the range, we use the
    // movable zone only if movable_node is enabled: we online to a kernel zone by default.
    if policy.movable_node_enabled {
        layout.movable
    } else {
        kernel_zone
    }
}

/// `zone_for_pfn_range()`: the index of the zone of node `request.nid` that the range goes to;
/// ZONE_DEVICE for device memory.
///
/// # Examples
///
/// A node whose ZONE_NORMAL spans 4 GiB to 7 GiB, with a hole at 5 GiB: a block onlined there
/// joins Normal under contig-zones, and Movable under auto-movable, which the ratio allows.
/// (This example runs on the host, in `tests/host/zone_policy`, with its explicit memory state.)
///
/// ```
/// use zone_policy_host::decision::*;
/// use zone_policy_host::Snapshot;
///
/// const GIB: u64 = 1 << 18; // in 4 KiB pages
/// let layout = ZoneLayout { normal: 2, movable: 3, device: 4, nr_zones: 5, pages_per_section: 32768 };
/// let mut state = Snapshot { pages_per_section: 32768, ..Snapshot::default() };
/// let zone = |start_pfn, spanned_pages, present_pages| ZoneState {
///     start_pfn,
///     spanned_pages,
///     present_pages,
///     present_early_pages: present_pages,
///     cma_pages: 0,
/// };
/// state.nodes.insert(
///     0,
///     vec![zone(1, 4095, 3998), zone(4096, 3 * GIB, 3 * GIB), zone(4 * GIB, 3 * GIB, 2 * GIB),
///          ZoneState::default(), ZoneState::default()],
/// );
/// let policy = Policy {
///     online_policy: OnlinePolicy::ContigZones,
///     auto_movable_ratio: 301,
///     auto_movable_numa_aware: true,
///     movable_node_enabled: false,
///     numa: true,
///     cma: false,
/// };
/// let request = Request {
///     online_type: OnlineType::Online,
///     nid: 0,
///     group: None,
///     start_pfn: 5 * GIB,
///     nr_pages: 32768,
///     for_device: false,
/// };
/// assert_eq!(zone_for_pfn_range(&state, &layout, &policy, &request), layout.normal);
///
/// let auto_movable = Policy { online_policy: OnlinePolicy::AutoMovable, ..policy };
/// assert_eq!(zone_for_pfn_range(&state, &layout, &auto_movable, &request), layout.movable);
///
/// let device = Request { for_device: true, ..request };
/// assert_eq!(zone_for_pfn_range(&state, &layout, &policy, &device), layout.device);
/// ```
#[inline(always)]
pub fn zone_for_pfn_range(
    state: &impl MemoryState,
    layout: &ZoneLayout,
    policy: &Policy,
    request: &Request<'_>,
) -> usize {
    let Request {
        online_type,
        nid,
        group,
        start_pfn,
        nr_pages,
        for_device,
    } = *request;

    // Device memory always goes to ZONE_DEVICE, whatever the online type and the policy.
    if for_device {
        return layout.device;
    }

    match online_type {
        OnlineType::OnlineKernel => {
            default_kernel_zone_for_pfn(state, layout, nid, start_pfn, nr_pages)
        }
        OnlineType::OnlineMovable => layout.movable,
        _ if policy.online_policy == OnlinePolicy::AutoMovable => {
            auto_movable_zone_for_pfn(state, layout, policy, nid, group, start_pfn, nr_pages)
        }
        _ => default_zone_for_pfn(state, layout, policy, nid, start_pfn, nr_pages),
    }
}
