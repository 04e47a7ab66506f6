// SPDX-License-Identifier: GPL-2.0

//! The kernel's zone-selection decision (`mm/zone_policy/decision.rs`, the same file the kernel
//! builds) as a host crate, with [`Snapshot`]: an explicit memory state for tests.

#[path = "../../../mm/zone_policy/decision.rs"]
pub mod decision;

use decision::{MemoryGroup, MemoryState, SectionState, ZoneState};
use std::collections::BTreeMap;

/// An explicit memory state: the zones of each online node, the dynamic memory groups and the
/// sections that are online.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// The zones of each online node, indexed by zone index.
    pub nodes: BTreeMap<i32, Vec<ZoneState>>,
    /// The dynamic memory groups, in index order.
    pub dynamic_groups: Vec<MemoryGroup>,
    /// Online sections by their first pfn; absent ones are not online.
    pub sections: BTreeMap<u64, SectionState>,
    /// `PAGES_PER_SECTION`.
    pub pages_per_section: u64,
}

impl MemoryState for Snapshot {
    type Zone = ZoneState;

    fn zone(&self, nid: i32, zid: usize) -> ZoneState {
        self.nodes
            .get(&nid)
            .and_then(|zones| zones.get(zid))
            .copied()
            .unwrap_or_default()
    }

    fn for_each_online_node(&self, mut f: impl FnMut(i32)) {
        self.nodes.keys().for_each(|&nid| f(nid));
    }

    fn for_each_dynamic_group(&self, mut f: impl FnMut(&MemoryGroup)) {
        self.dynamic_groups.iter().for_each(|g| f(g));
    }

    /// Online state is kept per section here: every pfn of a section answers alike.
    fn online_page_zone(&self, pfn: u64) -> SectionState {
        let first = pfn - pfn % self.pages_per_section;
        self.sections
            .get(&first)
            .copied()
            .unwrap_or(SectionState::NotOnline)
    }
}
