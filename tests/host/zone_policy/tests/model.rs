// SPDX-License-Identifier: GPL-2.0

//! The zone decision against an independent model of its rules, on explicit and on generated
//! snapshots. The model states the rules of `mm/memory_hotplug.c` from scratch: 64-bit C
//! arithmetic as u128 reduced modulo 2^64, sums over filtered lists, and the walk of a dynamic
//! group's unit as a range of section indices.

use proptest::prelude::*;
use std::collections::BTreeMap;
use zone_policy_host::decision::*;
use zone_policy_host::Snapshot;

const M64: u128 = 1 << 64;

/// x86-64: DMA, DMA32, NORMAL, MOVABLE, DEVICE; 128 MiB sections of 4 KiB pages.
const LAYOUT: ZoneLayout = ZoneLayout {
    normal: 2,
    movable: 3,
    device: 4,
    nr_zones: 5,
    pages_per_section: 32768,
};

fn add(a: u64, b: u64) -> u64 {
    ((a as u128 + b as u128) % M64) as u64
}

fn sub(a: u64, b: u64) -> u64 {
    ((a as u128 + M64 - b as u128) % M64) as u64
}

fn mul(a: u64, b: u64) -> u64 {
    ((a as u128 * b as u128) % M64) as u64
}

fn intersects(z: &ZoneState, start: u64, nr: u64) -> bool {
    z.spanned_pages != 0
        && start < add(z.start_pfn, z.spanned_pages)
        && add(start, nr) > z.start_pfn
}

fn model_kernel_zone(s: &Snapshot, nid: i32, start: u64, nr: u64) -> usize {
    let below_normal: Vec<usize> = (0..LAYOUT.normal).collect();
    for zid in below_normal {
        if intersects(&s.zone(nid, zid), start, nr) {
            return zid;
        }
    }
    LAYOUT.normal
}

/// Whether `extra` more MOVABLE pages keep the ratio over one node, or over all (`None`).
fn model_ratio_ok(
    s: &Snapshot,
    p: &Policy,
    node: Option<i32>,
    group: Option<&MemoryGroup>,
    extra: u64,
) -> bool {
    let nodes: Vec<i32> = node.map_or_else(|| s.nodes.keys().copied().collect(), |n| vec![n]);
    let zones: Vec<(usize, ZoneState)> = nodes
        .iter()
        .flat_map(|&n| (0..LAYOUT.nr_zones).map(move |zid| (zid, s.zone(n, zid))))
        .filter(|(_, z)| z.present_pages > 0)
        .collect();
    let sum = |v: Vec<u64>| v.into_iter().fold(0u64, add);
    let movable_zone_pages = sum(zones
        .iter()
        .filter(|(zid, _)| *zid == LAYOUT.movable)
        .map(|(_, z)| z.present_pages)
        .collect());
    let kernel_zones: Vec<&ZoneState> = zones
        .iter()
        .filter(|(zid, _)| *zid != LAYOUT.movable)
        .map(|(_, z)| z)
        .collect();
    let early = sum(kernel_zones.iter().map(|z| z.present_early_pages).collect());
    let cma = if p.cma {
        sum(kernel_zones.iter().map(|z| z.cma_pages).collect())
    } else {
        0
    };
    let kernel_early = sub(early, cma);
    let movable = add(movable_zone_pages, cma);

    let single_node = node.filter(|_| p.numa);
    let others: Vec<&MemoryGroup> = s
        .dynamic_groups
        .iter()
        .filter(|g| group.map_or(true, |cur| cur.id != g.id))
        .filter(|g| single_node.map_or(true, |n| g.nid == n))
        .collect();
    // The ratio as C's `int`, sign-extended to 64 bits for the division.
    let divisor = (p.auto_movable_ratio as i32 as i64) as u64;
    let (mut required, mut grouped_movable) = (0u64, 0u64);
    if divisor != 0 {
        for g in &others {
            let need = sub(
                mul(g.present_movable_pages, 100) / divisor,
                g.present_kernel_pages,
            );
            if need != 0 && need < 1 << 63 {
                required = add(required, need);
            }
            grouped_movable = add(grouped_movable, g.present_movable_pages);
        }
    }
    if kernel_early <= required {
        return false;
    }
    let mut kernel_early = kernel_early - required;
    if let Some(g) = group.filter(|g| matches!(g.kind, GroupKind::Dynamic { .. })) {
        kernel_early = add(kernel_early, g.present_kernel_pages);
    }
    let movable = add(sub(movable, grouped_movable), extra);
    movable <= mul(p.auto_movable_ratio as u64, kernel_early) / 100
}

fn model_auto_movable(s: &Snapshot, p: &Policy, r: &Request<'_>) -> usize {
    let fallback = |pfn: u64, nr: u64| model_kernel_zone(s, r.nid, pfn, nr);
    if p.auto_movable_ratio == 0 {
        return fallback(r.start_pfn, r.nr_pages);
    }
    // (pages wanted in total, pages already online MOVABLE, the pfn C's label would see)
    let (max_pages, online, pfn) = match r.group.map(|g| g.kind) {
        Some(GroupKind::Static { max_pages }) => {
            let g = r.group.unwrap();
            if g.present_kernel_pages > 0 {
                return fallback(r.start_pfn, r.nr_pages);
            }
            (max_pages, g.present_movable_pages, r.start_pfn)
        }
        Some(GroupKind::Dynamic { unit_pages }) if unit_pages != r.nr_pages => {
            let pps = LAYOUT.pages_per_section;
            let first = r.start_pfn & !sub(unit_pages, 1);
            let end = add(first, unit_pages);
            let steps = if first < end {
                (end - first).div_ceil(pps)
            } else {
                0
            };
            let mut online = 0u64;
            for i in 0..steps {
                let section = first + i * pps;
                match s.online_page_zone(section) {
                    SectionState::OnlineKernel => return fallback(section, r.nr_pages),
                    SectionState::OnlineMovable => online = add(online, pps),
                    SectionState::NotOnline => {}
                }
            }
            (unit_pages, online, first + steps * pps)
        }
        _ => (r.nr_pages, 0, r.start_pfn),
    };
    let remaining = sub(max_pages, online);
    if !model_ratio_ok(s, p, None, r.group, remaining) {
        return fallback(pfn, remaining);
    }
    if p.numa && p.auto_movable_numa_aware && !model_ratio_ok(s, p, Some(r.nid), r.group, remaining)
    {
        return fallback(pfn, remaining);
    }
    LAYOUT.movable
}

fn model(s: &Snapshot, p: &Policy, r: &Request<'_>) -> usize {
    if r.for_device {
        return LAYOUT.device;
    }
    match (r.online_type, p.online_policy) {
        (OnlineType::OnlineKernel, _) => model_kernel_zone(s, r.nid, r.start_pfn, r.nr_pages),
        (OnlineType::OnlineMovable, _) => LAYOUT.movable,
        (_, OnlinePolicy::AutoMovable) => model_auto_movable(s, p, r),
        _ => {
            let kernel = model_kernel_zone(s, r.nid, r.start_pfn, r.nr_pages);
            let in_kernel = intersects(&s.zone(r.nid, kernel), r.start_pfn, r.nr_pages);
            let in_movable = intersects(&s.zone(r.nid, LAYOUT.movable), r.start_pfn, r.nr_pages);
            match (in_kernel, in_movable) {
                (true, false) => kernel,
                (false, true) => LAYOUT.movable,
                _ if p.movable_node_enabled => LAYOUT.movable,
                _ => kernel,
            }
        }
    }
}

fn decide(s: &Snapshot, p: &Policy, r: &Request<'_>) -> usize {
    zone_for_pfn_range(s, &LAYOUT, p, r)
}

// --- Concrete snapshots -------------------------------------------------------------------------

const GIB: u64 = 1 << 18; // pages

fn zone(start_pfn: u64, pages: u64) -> ZoneState {
    ZoneState {
        start_pfn,
        spanned_pages: pages,
        present_pages: pages,
        present_early_pages: pages,
        cma_pages: 0,
    }
}

fn memory_group(
    id: u64,
    present_kernel_pages: u64,
    present_movable_pages: u64,
    kind: GroupKind,
) -> MemoryGroup {
    MemoryGroup {
        id,
        nid: 0,
        present_kernel_pages,
        present_movable_pages,
        kind,
    }
}

/// One node like the test VM: DMA, DMA32 below 4 GiB, NORMAL 4-6 GiB, nothing MOVABLE yet.
fn vm() -> Snapshot {
    let mut nodes = BTreeMap::new();
    nodes.insert(
        0,
        vec![
            zone(1, 4095),
            zone(4096, 4 * GIB - 4096),
            zone(4 * GIB, 2 * GIB),
            ZoneState::default(),
            ZoneState::default(),
        ],
    );
    Snapshot {
        nodes,
        pages_per_section: LAYOUT.pages_per_section,
        ..Default::default()
    }
}

const CONTIG: Policy = Policy {
    online_policy: OnlinePolicy::ContigZones,
    auto_movable_ratio: 301,
    auto_movable_numa_aware: true,
    movable_node_enabled: false,
    numa: true,
    cma: false,
};

const AUTO: Policy = Policy {
    online_policy: OnlinePolicy::AutoMovable,
    ..CONTIG
};

fn online(online_type: OnlineType, start_pfn: u64, nr_pages: u64) -> Request<'static> {
    Request {
        online_type,
        nid: 0,
        group: None,
        start_pfn,
        nr_pages,
        for_device: false,
    }
}

#[test]
fn contig_zones_extend_normal_unless_movable_node() {
    let s = vm();
    let r = online(OnlineType::Online, 6 * GIB, 32768);
    assert_eq!(decide(&s, &CONTIG, &r), LAYOUT.normal);
    let p = Policy {
        movable_node_enabled: true,
        ..CONTIG
    };
    assert_eq!(decide(&s, &p, &r), LAYOUT.movable);
}

#[test]
fn device_memory_goes_to_zone_device_whatever_the_policy() {
    let s = vm();
    for p in [CONTIG, AUTO] {
        for online_type in [OnlineType::Online, OnlineType::OnlineKernel] {
            let r = Request {
                for_device: true,
                ..online(online_type, 5 * GIB, GIB)
            };
            assert_eq!(decide(&s, &p, &r), LAYOUT.device);
        }
    }
}

#[test]
fn explicit_online_types_win_over_the_policy() {
    let s = vm();
    assert_eq!(
        decide(&s, &AUTO, &online(OnlineType::OnlineKernel, 6 * GIB, 32768)),
        LAYOUT.normal
    );
    assert_eq!(
        decide(
            &s,
            &CONTIG,
            &online(OnlineType::OnlineMovable, 6 * GIB, 32768)
        ),
        LAYOUT.movable
    );
    // A range inside DMA32 onlined as kernel memory stays in DMA32.
    assert_eq!(
        decide(&s, &CONTIG, &online(OnlineType::OnlineKernel, GIB, 32768)),
        1
    );
}

#[test]
fn auto_movable_follows_the_ratio() {
    let s = vm();
    // 6 GiB of early kernel memory allow 301% of it MOVABLE: 1 GiB fits, 19 GiB does not.
    assert_eq!(
        decide(&s, &AUTO, &online(OnlineType::Online, 6 * GIB, GIB)),
        LAYOUT.movable
    );
    assert_eq!(
        decide(&s, &AUTO, &online(OnlineType::Online, 6 * GIB, 19 * GIB)),
        LAYOUT.normal
    );
    let zero = Policy {
        auto_movable_ratio: 0,
        ..AUTO
    };
    assert_eq!(
        decide(&s, &zero, &online(OnlineType::Online, 6 * GIB, GIB)),
        LAYOUT.normal
    );
}

#[test]
fn static_group_with_kernel_memory_stays_kernel() {
    let s = vm();
    let g = memory_group(7, 32768, 0, GroupKind::Static { max_pages: GIB });
    let r = Request {
        group: Some(&g),
        ..online(OnlineType::Online, 6 * GIB, 32768)
    };
    assert_eq!(decide(&s, &AUTO, &r), LAYOUT.normal);
}

/// The quirk: after walking a dynamic group's unit, C falls back to the kernel zone for the pfn
/// of the section it stopped at, not for the range asked about.
#[test]
fn dynamic_unit_fallback_uses_the_section_where_the_walk_stopped() {
    let mut s = vm();
    // An 8 GiB unit starts at pfn 0, and its first section is online in a kernel zone.
    s.sections.insert(0, SectionState::OnlineKernel);
    let g = memory_group(
        1,
        32768,
        0,
        GroupKind::Dynamic {
            unit_pages: 8 * GIB,
        },
    );
    s.dynamic_groups.push(g);
    // The range asked about lies in NORMAL, but the walk stopped at pfn 0, which DMA spans.
    let r = Request {
        group: Some(&g),
        ..online(OnlineType::Online, 4 * GIB + 3 * 32768, 32768)
    };
    assert_eq!(decide(&s, &AUTO, &r), 0);
    assert_eq!(model(&s, &AUTO, &r), 0);
    // Without that section online, the ratio decides: MOVABLE.
    s.sections.clear();
    assert_eq!(decide(&s, &AUTO, &r), LAYOUT.movable);
}

/// The quirk: after the ratio checks fail, C falls back with `pfn` at the end of the unit it
/// walked: a unit that ends where NORMAL starts leaves DMA32 for NORMAL.
#[test]
fn ratio_fallback_uses_the_pfn_after_the_walk() {
    let mut s = vm();
    let g = memory_group(1, 0, 0, GroupKind::Dynamic { unit_pages: GIB });
    s.dynamic_groups.push(g);
    // The ratio forbids any MOVABLE: the range is in DMA32, but the walk ends at 4 GiB (NORMAL).
    let p = Policy {
        auto_movable_ratio: 1,
        ..AUTO
    };
    let r = Request {
        group: Some(&g),
        ..online(OnlineType::Online, 3 * GIB, 32768)
    };
    assert_eq!(decide(&s, &p, &r), LAYOUT.normal);
    assert_eq!(model(&s, &p, &r), LAYOUT.normal);
    // Without the group, the same range falls back to its own zone.
    assert_eq!(
        decide(&s, &p, &online(OnlineType::Online, 3 * GIB, 32768)),
        1
    );
}

/// C's `int` ratio: an `unsigned int` above INT_MAX divides as a huge (sign-extended) number, so
/// other dynamic groups require no early kernel memory at all, where an unsigned reading of the
/// ratio would require more than there is.
#[test]
fn ratio_above_int_max_divides_as_c_does() {
    let mut s = vm();
    let m = 40_000_000_000_000;
    // That much is MOVABLE, all of it in another dynamic group.
    s.nodes.get_mut(&0).unwrap()[LAYOUT.movable] = zone(64 * GIB, m);
    let g = memory_group(1, 0, m, GroupKind::Dynamic { unit_pages: GIB });
    s.dynamic_groups.push(g);
    let p = Policy {
        auto_movable_ratio: 0x8000_0000,
        ..AUTO
    };
    let r = online(OnlineType::Online, 6 * GIB, GIB);
    assert_eq!(decide(&s, &p, &r), LAYOUT.movable);
    assert_eq!(model(&s, &p, &r), LAYOUT.movable);
}

// --- Generated snapshots ------------------------------------------------------------------------

fn pages() -> impl Strategy<Value = u64> {
    prop_oneof![
        8 => 0u64..(64 * GIB),
        1 => Just(0u64),
        1 => (1u64 << 40)..(1u64 << 50),
        1 => any::<u64>()
    ]
}

fn zone_state() -> impl Strategy<Value = ZoneState> {
    (0u64..(64 * GIB), pages(), pages(), pages(), pages()).prop_map(
        |(start_pfn, spanned_pages, present_pages, present_early_pages, cma_pages)| ZoneState {
            start_pfn,
            spanned_pages,
            present_pages,
            present_early_pages,
            cma_pages,
        },
    )
}

fn unit_pages() -> impl Strategy<Value = u64> {
    prop_oneof![(0u32..6).prop_map(|k| 32768u64 << k), 1u64..(4 * 32768)]
}

fn group(id: u64) -> impl Strategy<Value = MemoryGroup> {
    (
        0i32..3,
        pages(),
        pages(),
        any::<bool>(),
        unit_pages(),
        pages(),
    )
        .prop_map(move |(nid, k, m, dynamic, unit, max)| MemoryGroup {
            id,
            nid,
            present_kernel_pages: k,
            present_movable_pages: m,
            kind: if dynamic {
                GroupKind::Dynamic { unit_pages: unit }
            } else {
                GroupKind::Static { max_pages: max }
            },
        })
}

/// A static group, as a request may name one (static groups are never walked as dynamic ones).
fn static_group(id: u64) -> impl Strategy<Value = MemoryGroup> {
    (0i32..3, pages(), pages(), pages()).prop_map(move |(nid, k, m, max_pages)| MemoryGroup {
        id,
        nid,
        present_kernel_pages: k,
        present_movable_pages: m,
        kind: GroupKind::Static { max_pages },
    })
}

fn snapshot() -> impl Strategy<Value = Snapshot> {
    (
        prop::collection::btree_map(0i32..3, prop::collection::vec(zone_state(), 5), 1..=3),
        prop::collection::vec(any::<u64>(), 0..4),
        prop::collection::btree_map(
            (0u64..2048).prop_map(|i| i * 32768),
            prop_oneof![
                Just(SectionState::OnlineMovable),
                Just(SectionState::OnlineKernel)
            ],
            0..64,
        ),
    )
        .prop_flat_map(|(nodes, ids, sections)| {
            let groups: Vec<_> = ids
                .iter()
                .enumerate()
                .map(|(i, _)| group(i as u64))
                .collect();
            (Just(nodes), groups, Just(sections))
        })
        .prop_map(|(nodes, groups, sections)| Snapshot {
            nodes,
            dynamic_groups: groups
                .into_iter()
                .filter(|g| matches!(g.kind, GroupKind::Dynamic { .. }))
                .collect(),
            sections,
            pages_per_section: LAYOUT.pages_per_section,
        })
}

fn policy() -> impl Strategy<Value = Policy> {
    (
        any::<bool>(),
        prop_oneof![
            Just(0u32),
            Just(1),
            Just(100),
            Just(301),
            Just(3000),
            Just(0x8000_0000),
            any::<u32>()
        ],
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(auto, ratio, numa_aware, movable_node, numa, cma)| Policy {
                online_policy: if auto {
                    OnlinePolicy::AutoMovable
                } else {
                    OnlinePolicy::ContigZones
                },
                auto_movable_ratio: ratio,
                auto_movable_numa_aware: numa_aware,
                movable_node_enabled: movable_node,
                numa,
                cma,
            },
        )
}

/// Which group the request names: none, one of the snapshot's dynamic groups, or a static one.
#[derive(Clone, Debug)]
enum RequestGroup {
    None,
    Dynamic(usize),
    Static(MemoryGroup),
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 100_000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn decision_matches_the_model(
        s in snapshot(),
        p in policy(),
        online_type in prop_oneof![Just(OnlineType::Offline), Just(OnlineType::Online), Just(OnlineType::OnlineKernel), Just(OnlineType::OnlineMovable)],
        nid in 0i32..3,
        block in 0u64..2048,
        for_device in proptest::bool::weighted(0.05),
        blocks in prop_oneof![Just(1u64), 1u64..9],
        which in prop_oneof![Just(0usize), 1usize..4, Just(9usize)],
        static_group in static_group(99),
    ) {
        let request_group = match which {
            0 => RequestGroup::None,
            9 => RequestGroup::Static(static_group),
            i => s.dynamic_groups.get(i - 1).map_or(RequestGroup::None, |_| RequestGroup::Dynamic(i - 1)),
        };
        let group = match &request_group {
            RequestGroup::None => None,
            RequestGroup::Dynamic(i) => Some(&s.dynamic_groups[*i]),
            RequestGroup::Static(g) => Some(g),
        };
        let nid = *s.nodes.keys().nth(nid as usize % s.nodes.len()).unwrap();
        let r = Request { online_type, nid, group, start_pfn: block * 32768, nr_pages: blocks * 32768, for_device };
        prop_assert_eq!(decide(&s, &p, &r), model(&s, &p, &r));
    }
}
