// SPDX-License-Identifier: GPL-2.0

//! Device memory hot-add and hot-remove in Rust: `pagemap_range()` and `pageunmap_range()` of
//! `mm/memremap.c`, the steps of `memremap_pages()` and `memunmap_pages()` that add and remove
//! each range of a `struct dev_pagemap`.
//!
//! With `CONFIG_MEMREMAP_RUST`, `memremap_pages()` calls [`pagemap_range_rust`] and
//! `memunmap_pages()` calls [`pageunmap_range_rust`] while the parameter `memremap.pagemap_rust`
//! is set (the default), and the C functions when it is not. Both leave the same state behind, so a
//! range added by one can be removed by the other. Each function below is the C function of the
//! same name, step for step; where C reaches something static to `mm/memremap.c` (the pagemap
//! xarray) or a macro (`__va()` for KASAN's shadow), `include/linux/memremap_rust.h` names a small
//! C function that does it.
//!
//! Beyond C, [`shrink_zone_device_span_rust`] shrinks `ZONE_DEVICE`'s span when a range is
//! removed, which C's `remove_pfn_range_from_zone()` skips; it calls it for both implementations.
//! With `CONFIG_FAIL_PAGEMAP_RANGE` each step of [`pagemap_range_rust`] can be made to fail
//! (`/sys/kernel/debug/fail_pagemap_range/`), to test the rollback.
//!
//! C header: [`include/linux/memremap_rust.h`](srctree/include/linux/memremap_rust.h)

use core::ptr;

use kernel::{
    bindings,
    error::to_result,
    ffi::{
        c_int,
        c_ulong, //
    },
    prelude::*,
    sync::rcu,
    warn_on, //
};

// Log lines start with the C file's module name (C's own warnings in this file have no prefix).
const __LOG_PREFIX: &[u8] = b"memremap\0";

/// `&pgmap->ranges[range_id]`.
///
/// # Safety
///
/// `pgmap` is a `struct dev_pagemap` with more than `range_id` ranges.
unsafe fn range_of(pgmap: *mut bindings::dev_pagemap, range_id: c_int) -> *mut bindings::range {
    // SAFETY: The ranges start at the union that ends `struct dev_pagemap`; `range_id` is in
    // bounds, by the function's contract.
    unsafe {
        ptr::addr_of_mut!((*pgmap).__bindgen_anon_1)
            .cast::<bindings::range>()
            .add(range_id as usize)
    }
}

/// C's `range_len()`. This and the other arithmetic below wraps as C's unsigned arithmetic does,
/// rather than panicking on a range a buggy caller got wrong.
fn range_len(range: &bindings::range) -> u64 {
    range.end.wrapping_sub(range.start).wrapping_add(1)
}

/// C's `PHYS_PFN()`.
fn phys_pfn(addr: u64) -> c_ulong {
    (addr >> bindings::PAGE_SHIFT) as c_ulong
}

/// Whether fault injection makes `step` of [`pagemap_range_rust`] fail
/// (`/sys/kernel/debug/fail_pagemap_range/`, with `CONFIG_FAIL_PAGEMAP_RANGE`).
#[cfg(CONFIG_FAIL_PAGEMAP_RANGE)]
fn should_fail(step: bindings::pagemap_range_step) -> bool {
    // SAFETY: `should_fail_pagemap_range()` only reads and counts the fault attributes.
    unsafe { bindings::should_fail_pagemap_range(step) }
}

/// Without `CONFIG_FAIL_PAGEMAP_RANGE`, no step fails on purpose.
#[cfg(not(CONFIG_FAIL_PAGEMAP_RANGE))]
fn should_fail(_step: bindings::pagemap_range_step) -> bool {
    false
}

/// C's `pgmap_altmap()`.
///
/// # Safety
///
/// `pgmap` is a valid `struct dev_pagemap`.
unsafe fn pgmap_altmap(pgmap: *mut bindings::dev_pagemap) -> *mut bindings::vmem_altmap {
    // SAFETY: `pgmap` is valid, by the function's contract.
    if unsafe { (*pgmap).flags } & bindings::PGMAP_ALTMAP_VALID != 0 {
        // SAFETY: As above.
        unsafe { ptr::addr_of_mut!((*pgmap).altmap) }
    } else {
        ptr::null_mut()
    }
}

/// C's `vmem_altmap_offset()`.
///
/// # Safety
///
/// `altmap` is null or a valid `struct vmem_altmap`.
unsafe fn vmem_altmap_offset(altmap: *const bindings::vmem_altmap) -> c_ulong {
    if altmap.is_null() {
        return 0;
    }
    // SAFETY: `altmap` is valid, by the function's contract.
    unsafe { (*altmap).reserve.wrapping_add((*altmap).free) }
}

/// C's `pfn_first()`: the first page of range `range_id` whose memmap is initialized.
///
/// # Safety
///
/// `pgmap` is a `struct dev_pagemap` with more than `range_id` ranges.
unsafe fn pfn_first(pgmap: *mut bindings::dev_pagemap, range_id: c_int) -> c_ulong {
    // SAFETY: By the function's contract.
    let pfn = phys_pfn(unsafe { (*range_of(pgmap, range_id)).start });
    if range_id != 0 {
        return pfn;
    }
    // SAFETY: By the function's contract; its altmap is null or valid.
    pfn.wrapping_add(unsafe { vmem_altmap_offset(pgmap_altmap(pgmap)) })
}

/// C's `pfn_end()`.
///
/// # Safety
///
/// `pgmap` is a `struct dev_pagemap` with more than `range_id` ranges.
unsafe fn pfn_end(pgmap: *mut bindings::dev_pagemap, range_id: c_int) -> c_ulong {
    // SAFETY: By the function's contract.
    let range = unsafe { &*range_of(pgmap, range_id) };
    phys_pfn(range.start.wrapping_add(range_len(range)))
}

/// C's `pfn_len()`: the number of folios of range `range_id`.
///
/// # Safety
///
/// `pgmap` is a `struct dev_pagemap` with more than `range_id` ranges.
unsafe fn pfn_len(pgmap: *mut bindings::dev_pagemap, range_id: c_int) -> c_ulong {
    // SAFETY: By the function's contract.
    unsafe {
        pfn_end(pgmap, range_id).wrapping_sub(pfn_first(pgmap, range_id)) >> (*pgmap).vmemmap_shift
    }
}

/// `&NODE_DATA(nid)->node_zones[ZONE_DEVICE]`.
///
/// # Safety
///
/// `nid` is a possible node whose `pg_data_t` exists, as C assumes of `memremap_pages()`' node.
unsafe fn zone_device_of(nid: c_int) -> *mut bindings::zone {
    #[cfg(CONFIG_NUMA)]
    // SAFETY: `node_data[]` has `MAX_NUMNODES` entries and the node's is set (see above).
    let pgdat = unsafe {
        (&raw const bindings::node_data)
            .cast::<*mut bindings::pglist_data>()
            .add(nid as usize)
            .read()
    };
    #[cfg(not(CONFIG_NUMA))]
    let pgdat = {
        let _ = nid;
        &raw mut bindings::contig_page_data
    };
    // SAFETY: `pgdat` is the node's `pg_data_t`; `ZONE_DEVICE` indexes its zones.
    unsafe {
        (&raw mut (*pgdat).node_zones)
            .cast::<bindings::zone>()
            .add(bindings::zone_type_ZONE_DEVICE as usize)
    }
}

/// C's `pageunmap_range()`: removes range `range_id` of `pgmap` from `ZONE_DEVICE`.
///
/// # Safety
///
/// As C's: called from `memunmap_pages()` for a range that [`pagemap_range_rust`] or C's
/// `pagemap_range()` added, once no page of it is in use.
#[export]
pub unsafe extern "C" fn pageunmap_range_rust(pgmap: *mut bindings::dev_pagemap, range_id: c_int) {
    // SAFETY: The range exists, by the function's contract.
    let range = unsafe { range_of(pgmap, range_id) };
    // SAFETY: As above; the range's pages were added.
    let (start, len) = unsafe { ((*range).start, range_len(&*range)) };

    // Make sure to access a memmap that was actually initialized.
    // SAFETY: The range's memmap from `pfn_first()` on is initialized.
    let first_page = unsafe { bindings::pfn_to_page(pfn_first(pgmap, range_id)) };

    // SAFETY: The pages are dead and unused; undoing the arch mapping under the hotplug lock is
    // what C does here, with the same arguments.
    unsafe {
        bindings::mem_hotplug_begin();
        bindings::remove_pfn_range_from_zone(
            bindings::page_zone(first_page),
            phys_pfn(start),
            phys_pfn(len),
        );
        if (*pgmap).type_ == bindings::memory_type_MEMORY_DEVICE_PRIVATE {
            bindings::__remove_pages(phys_pfn(start), phys_pfn(len), ptr::null_mut(), pgmap);
        } else {
            bindings::arch_remove_memory(start, len, pgmap_altmap(pgmap), pgmap);
            bindings::pgmap_kasan_remove(range);
        }
        bindings::mem_hotplug_done();

        bindings::pfnmap_untrack(phys_pfn(start), len as c_ulong);
        bindings::pgmap_array_delete(range);
    }
}

/// Shrinks the span of `zone`, a `ZONE_DEVICE`, once the pages `start_pfn..end_pfn` are removed
/// from it: to the ranges of the pagemaps still in it, or to nothing. C's `shrink_zone_span()`
/// cannot do this (it looks for online pages, and device pages are never online), so C leaves
/// `ZONE_DEVICE`'s span as it is; `remove_pfn_range_from_zone()` calls this instead and then
/// updates the node's span.
///
/// The pagemaps still mapped are found in the pagemap xarray, by range rather than by page (a
/// `DEVICE_PRIVATE` range far above the rest would make a walk by page take long). The new span
/// is never smaller than what is in the zone, and may be larger: see [`range_in_zone`].
///
/// # Safety
///
/// Called from `remove_pfn_range_from_zone()`, under `mem_hotplug_begin()`, for `zone` a
/// `ZONE_DEVICE` that spans `start_pfn..end_pfn`, whose pages are no longer in use.
#[export]
pub unsafe extern "C" fn shrink_zone_device_span_rust(
    zone: *mut bindings::zone,
    start_pfn: c_ulong,
    end_pfn: c_ulong,
) {
    // SAFETY: `zone` is valid, by the function's contract; its span changes only under the
    // hotplug lock, which the caller holds.
    let (zone_start, zone_end) = unsafe {
        let start = (*zone).zone_start_pfn;
        (start, start.wrapping_add((*zone).spanned_pages))
    };
    if zone_start >= zone_end {
        return;
    }

    let mut span: Option<(c_ulong, c_ulong)> = None;
    let mut adding = false;
    {
        // A pagemap found in the xarray stays valid until the end of the walk: removing one
        // deletes its entries and then waits for an RCU grace period (`pgmap_array_delete()`).
        let _rcu = rcu::read_lock();
        let mut pfn = zone_start;
        // SAFETY: `pfn` is a valid place for the index found.
        let mut pgmap = unsafe { bindings::pgmap_array_find(&mut pfn, zone_end - 1) };
        while !pgmap.is_null() {
            // SAFETY: `pgmap` is in the xarray at `pfn`, so it is a pagemap with a range that
            // holds `pfn`, valid while `_rcu` is held; the caller holds the hotplug lock.
            let range = unsafe { range_in_zone(zone_start, zone_end, pgmap, pfn) };
            if let Some(range) = range {
                let removed = range.first < end_pfn && start_pfn < range.end;
                if range.keep && !removed {
                    span = Some(span.map_or((range.first, range.end), |(s, e)| {
                        (s.min(range.first), e.max(range.end))
                    }));
                    adding |= range.adding;
                }
                // On after this range (a range can take many entries).
                pfn = pfn.max(range.end.wrapping_sub(1));
            }
            // SAFETY: As above.
            pgmap = unsafe { bindings::pgmap_array_find_after(&mut pfn, zone_end - 1) };
        }
    }

    let (mut start, end) = match span {
        Some((start, end)) => (start.max(zone_start), end.min(zone_end)),
        None => (0, 0),
    };
    // A range being added initializes its memmap after the hotplug lock, checking that the zone
    // spans each page (`zone_spans_pfn()`, no lock). Raising the start now could make it see the
    // old start with the new size, a span that ends below the range: only lower the end then.
    if adding {
        start = zone_start;
    }
    // SAFETY: Under the hotplug lock, as C's `shrink_zone_span()` writes a zone's span; the start
    // first, so that a reader never sees a span end lower than both the old and the new one.
    unsafe {
        ptr::addr_of_mut!((*zone).zone_start_pfn).write_volatile(start);
        ptr::addr_of_mut!((*zone).spanned_pages).write_volatile(end - start);
    }
}

/// A range of a pagemap found in the pagemap xarray, by [`range_in_zone`].
struct RangeInZone {
    /// The first page frame of the range.
    first: c_ulong,
    /// The page frame after the range.
    end: c_ulong,
    /// Whether the span must keep the range.
    keep: bool,
    /// Whether `memremap_pages()` is adding the range.
    adding: bool,
}

/// The range of `pgmap` that holds `pfn`, and whether a `ZONE_DEVICE` spanning
/// `zone_start..zone_end` must keep it in its span.
///
/// It must when the range's sections are present (added and not yet removed: both happen under
/// the hotplug lock, with the move into or out of the zone) and it lies in the span. The memmap is
/// not read: a range being added is not initialized yet, one being removed may be poisoned, and
/// `memremap_pages()` counts a range without ordering it after the range's initialization. So a
/// range of another node that lies in the span is kept too: the span may stay larger than
/// needed, never smaller.
///
/// # Safety
///
/// `pgmap` is a pagemap with a range that holds `pfn`, valid for the call; the caller holds the
/// hotplug lock.
unsafe fn range_in_zone(
    zone_start: c_ulong,
    zone_end: c_ulong,
    pgmap: *mut bindings::dev_pagemap,
    pfn: c_ulong,
) -> Option<RangeInZone> {
    let holds = |range_id: c_int| {
        // SAFETY: Called for ranges that exist, below.
        let range = unsafe { &*range_of(pgmap, range_id) };
        (phys_pfn(range.start)..=phys_pfn(range.end)).contains(&pfn)
    };
    // `memremap_pages()` counts each range once it is added, without the hotplug lock.
    // SAFETY: `pgmap` is valid.
    let nr_range = unsafe { ptr::addr_of!((*pgmap).nr_range).read_volatile() };
    // A range in the xarray that is not counted is the one `memremap_pages()` is adding, range
    // `nr_range`: it stores a range's entries only after counting the ranges before it, and
    // `nr_range` is then below the pagemap's number of ranges.
    let (range_id, adding) = match (0..nr_range).find(|&i| holds(i)) {
        Some(i) => (i, false),
        None => (nr_range, true),
    };
    if !holds(range_id) {
        return None;
    }

    // SAFETY: `range_id` is a range of `pgmap` (above).
    let (first, end) = unsafe {
        (
            phys_pfn((*range_of(pgmap, range_id)).start),
            pfn_end(pgmap, range_id),
        )
    };
    // SAFETY: `pfn_valid()` takes any frame number.
    let present = unsafe { bindings::pfn_valid(first) };
    let keep = present && zone_start <= first && first < zone_end;
    Some(RangeInZone {
        first,
        end,
        keep,
        adding,
    })
}

/// C's `pagemap_range()`: adds range `range_id` of `pgmap` to `ZONE_DEVICE` of node `nid`;
/// returns 0 or a negative errno, having undone what it did.
///
/// # Safety
///
/// As C's: called from `memremap_pages()`, with `pgmap` set up and its reference live, `params`
/// its hotplug parameters, and `range_id` below its `nr_range` as given.
#[export]
pub unsafe extern "C" fn pagemap_range_rust(
    pgmap: *mut bindings::dev_pagemap,
    params: *mut bindings::mhp_params,
    range_id: c_int,
    nid: c_int,
) -> c_int {
    // SAFETY: The function's contract is `pagemap_range()`'s.
    match unsafe { pagemap_range(pgmap, params, range_id, nid) } {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// The body of [`pagemap_range_rust`], with C's error labels as [`Undo`] steps.
///
/// # Safety
///
/// See [`pagemap_range_rust`].
unsafe fn pagemap_range(
    pgmap: *mut bindings::dev_pagemap,
    params: *mut bindings::mhp_params,
    range_id: c_int,
    nid: c_int,
) -> Result {
    // SAFETY: `pgmap` is set up, by the function's contract.
    let is_private = unsafe { (*pgmap).type_ } == bindings::memory_type_MEMORY_DEVICE_PRIVATE;
    // SAFETY: The range exists, by the function's contract.
    let range = unsafe { range_of(pgmap, range_id) };
    // SAFETY: As above.
    let (start, end, len) = unsafe { ((*range).start, (*range).end, range_len(&*range)) };

    // SAFETY: `pgmap` is valid.
    let has_altmap = unsafe { !pgmap_altmap(pgmap).is_null() };
    if has_altmap && range_id > 0 {
        // C's `WARN_ONCE()`.
        kernel::do_once_lite! {
            pr_warn!("altmap not supported for multiple ranges\n");
            warn_on!(true);
        }
        return Err(EINVAL);
    }

    for pfn in [phys_pfn(start), phys_pfn(end)] {
        // SAFETY: `get_dev_pagemap()` takes any frame number.
        let conflict = unsafe { bindings::get_dev_pagemap(pfn) };
        if warn_on!(!conflict.is_null()) {
            pr_warn!("Conflicting mapping in same section\n");
            // SAFETY: `get_dev_pagemap()` took this reference.
            unsafe { bindings::put_dev_pagemap(conflict) };
            return Err(ENOMEM);
        }
    }

    // SAFETY: `region_intersects()` only reads the resource tree, under its lock.
    let is_ram = unsafe {
        bindings::region_intersects(
            start,
            len as usize,
            (bindings::IORESOURCE_MEM | bindings::IORESOURCE_SYSRAM) as c_ulong,
            bindings::IORES_DESC_NONE as c_ulong,
        )
    };
    if is_ram != bindings::REGION_DISJOINT as c_int {
        let what = if is_ram == bindings::REGION_MIXED as c_int {
            "mixed"
        } else {
            "ram"
        };
        // C's `WARN_ONCE()`.
        kernel::do_once_lite! {
            pr_warn!("attempted on {what} region {start:#x}-{end:#x}\n");
            warn_on!(true);
        }
        return Err(ENXIO);
    }

    if should_fail(bindings::pagemap_range_step_PAGEMAP_RANGE_XA_STORE) {
        return Err(ENOMEM);
    }
    // SAFETY: The range is valid; the store overwrites what the xarray holds for it, as in C.
    // It returns 0 or a negative errno, as `to_result()` expects.
    to_result(unsafe { bindings::pgmap_array_store(pgmap, range) })?;
    let undo = Undo { range, is_private };

    let nid = if nid < 0 {
        // SAFETY: `numa_mem_id()` has no preconditions.
        unsafe { bindings::numa_mem_id() }
    } else {
        nid
    };

    let error = if should_fail(bindings::pagemap_range_step_PAGEMAP_RANGE_PFNMAP_TRACK) {
        EINVAL.to_errno()
    } else {
        // SAFETY: `params` is the pagemap's hotplug parameters, by the function's contract.
        unsafe {
            bindings::pfnmap_track(phys_pfn(start), len as c_ulong, &raw mut (*params).pgprot)
        }
    };
    if error != 0 {
        return Err(undo.pfn_remap(error));
    }

    if should_fail(bindings::pagemap_range_step_PAGEMAP_RANGE_RANGE_ALLOWED)
        // SAFETY: `mhp_range_allowed()` only checks the range.
        || !unsafe { bindings::mhp_range_allowed(start, len, !is_private) }
    {
        return Err(undo.kasan(EINVAL.to_errno()));
    }

    // SAFETY: Taken here and released below on every path, as in C.
    unsafe { bindings::mem_hotplug_begin() };

    // For device private memory only struct pages are needed (add_pages()): the memory is not
    // addressable, so it gets no linear mapping. Every other type gets one (arch_add_memory()).
    let error = if is_private {
        if should_fail(bindings::pagemap_range_step_PAGEMAP_RANGE_ADD_MEMORY) {
            ENOMEM.to_errno()
        } else {
            // SAFETY: The range is free for the pagemap (checked above), under the hotplug lock.
            unsafe { bindings::add_pages(nid, phys_pfn(start), phys_pfn(len), params) }
        }
    } else {
        let error = if should_fail(bindings::pagemap_range_step_PAGEMAP_RANGE_KASAN) {
            ENOMEM.to_errno()
        } else {
            // SAFETY: The range gets a linear mapping below; its shadow is added first, as in C.
            unsafe { bindings::pgmap_kasan_add(range) }
        };
        if error != 0 {
            // SAFETY: Taken above.
            unsafe { bindings::mem_hotplug_done() };
            return Err(undo.kasan(error));
        }
        if should_fail(bindings::pagemap_range_step_PAGEMAP_RANGE_ADD_MEMORY) {
            ENOMEM.to_errno()
        } else {
            // SAFETY: As above, under the hotplug lock.
            unsafe { bindings::arch_add_memory(nid, start, len, params) }
        }
    };

    let mut zone = ptr::null_mut();
    if error == 0 {
        // SAFETY: The node's memory was just added, so its `pg_data_t` exists.
        zone = unsafe { zone_device_of(nid) };
        // SAFETY: The pages were just added, under the hotplug lock.
        unsafe {
            bindings::move_pfn_range_to_zone(
                zone,
                phys_pfn(start),
                phys_pfn(len),
                (*params).altmap,
                bindings::migratetype_MIGRATE_MOVABLE as c_int,
                false,
            )
        };
    }

    // SAFETY: Taken above.
    unsafe { bindings::mem_hotplug_done() };
    if error != 0 {
        return Err(undo.add_memory(error));
    }

    // Initialization of the pages has been deferred until now in order to allow us to do the
    // work while not holding the hotplug lock.
    // SAFETY: The pages are in the zone; the pagemap is set up.
    unsafe { bindings::memmap_init_zone_device(zone, phys_pfn(start), phys_pfn(len), pgmap) };
    // SAFETY: `pgmap` is valid.
    let memory_type = unsafe { (*pgmap).type_ };
    if memory_type != bindings::memory_type_MEMORY_DEVICE_PRIVATE
        && memory_type != bindings::memory_type_MEMORY_DEVICE_COHERENT
    {
        // SAFETY: The pagemap's reference is live; C takes one per folio here, which
        // `memunmap_pages()` drops.
        unsafe {
            bindings::percpu_ref_get_many(
                ptr::addr_of_mut!((*pgmap).ref_),
                pfn_len(pgmap, range_id),
            )
        };
    }
    Ok(())
}

/// What C's error labels in `pagemap_range()` undo, from the latest step back.
struct Undo {
    range: *mut bindings::range,
    is_private: bool,
}

impl Undo {
    /// `err_add_memory:` the KASAN shadow, then on.
    fn add_memory(self, error: c_int) -> Error {
        if !self.is_private {
            // SAFETY: The shadow was added for the range.
            unsafe { bindings::pgmap_kasan_remove(self.range) };
        }
        self.kasan(error)
    }

    /// `err_kasan:` the PAT tracking, then on.
    fn kasan(self, error: c_int) -> Error {
        // SAFETY: The range is valid, and was tracked.
        unsafe {
            let (start, len) = ((*self.range).start, range_len(&*self.range));
            bindings::pfnmap_untrack(phys_pfn(start), len as c_ulong);
        }
        self.pfn_remap(error)
    }

    /// `err_pfn_remap:` the xarray entries. `error` is the negative errno a step returned (none
    /// of them returns a positive value).
    fn pfn_remap(self, error: c_int) -> Error {
        // SAFETY: The range was stored in the xarray.
        unsafe { bindings::pgmap_array_delete(self.range) };
        Error::from_errno(error)
    }
}
