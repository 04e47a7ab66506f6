// SPDX-License-Identifier: GPL-2.0

//! Device memory in `ZONE_DEVICE`.
//!
//! Since Linux 4.3 a driver can hot-add memory that its device owns (pmem, CXL memory, GPU memory,
//! a PCI BAR) with `struct page` coverage, in a zone of its own, `ZONE_DEVICE`, kept apart from
//! the page allocator. The driver owns the physical range; unbinding the driver removes the
//! memory.
//!
//! [`Pagemap`] owns such a mapping: a `struct dev_pagemap` given to `memremap_pages()` when it is
//! created and to `memunmap_pages()` when it is dropped. [`Pagemap::register`] ties a mapping to
//! a bound device through [`Devres`], so that unbinding the driver removes the memory, as
//! `devm_memremap_pages()` does in C. [`get_dev_pagemap`] looks a mapping up by page frame number
//! and returns a reference-counted guard.
//!
//! Bad input is refused before C sees it, with an error code and one line in the kernel log, so
//! that it never reaches the `WARN`s of `memremap_pages()`: see [`Pagemap::new`].
//!
//! C header: [`include/linux/memremap.h`](srctree/include/linux/memremap.h)

use core::{
    fmt,
    marker::PhantomData,
    ptr::NonNull, //
};

use crate::{
    bindings,
    device::{
        Bound,
        Device, //
    },
    devres::Devres,
    error::from_err_ptr,
    ffi::{
        c_int,
        c_ulong,
        c_void, //
    },
    io::{
        resource::{
            Flags,
            Region,
            Resource, //
        },
        PhysAddr,
        ResourceSize, //
    },
    page::{
        BorrowedPage,
        PAGE_SHIFT,
        PAGE_SIZE, //
    },
    prelude::*,
    str::CString,
    types::Opaque, //
};

/// A range of physical addresses: `size` bytes from `start`.
///
/// # Examples
///
/// ```
/// use kernel::mm::memremap::PhysRange;
///
/// let range = PhysRange::new(0x1_4000_0000, 0x800_0000);
/// assert_eq!(range.end(), Some(0x1_47ff_ffff));
/// assert_eq!(range.nr_pages(), 0x800_0000 >> kernel::page::PAGE_SHIFT);
/// assert!(range.contains_pfn(range.start_pfn()));
/// assert!(!range.contains_pfn(range.start_pfn() + range.nr_pages()));
/// assert_eq!(PhysRange::new(0x1000, 0).end(), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhysRange {
    start: PhysAddr,
    size: ResourceSize,
}

impl PhysRange {
    /// Creates the range of `size` bytes from `start`.
    pub const fn new(start: PhysAddr, size: ResourceSize) -> Self {
        Self { start, size }
    }

    /// Returns the first address of the range.
    pub const fn start(&self) -> PhysAddr {
        self.start
    }

    /// Returns the size of the range in bytes.
    pub const fn size(&self) -> ResourceSize {
        self.size
    }

    /// Returns the last address of the range, or [`None`] if it is empty or wraps around.
    pub fn end(&self) -> Option<PhysAddr> {
        self.size.checked_sub(1)?.checked_add(self.start)
    }

    /// Returns the page frame number of the first page.
    pub fn start_pfn(&self) -> usize {
        (self.start >> PAGE_SHIFT) as usize
    }

    /// Returns the number of pages the range covers.
    pub fn nr_pages(&self) -> usize {
        (self.size >> PAGE_SHIFT) as usize
    }

    /// Returns whether the page frame `pfn` lies in the range.
    pub fn contains_pfn(&self, pfn: usize) -> bool {
        pfn >= self.start_pfn() && pfn - self.start_pfn() < self.nr_pages()
    }

    /// Returns whether the two ranges have an address in common.
    fn overlaps(&self, other: &PhysRange) -> bool {
        match (self.end(), other.end()) {
            (Some(end), Some(other_end)) => self.start <= other_end && other.start <= end,
            _ => false,
        }
    }

    /// Returns C's inclusive `struct range`.
    fn as_raw(&self) -> bindings::range {
        bindings::range {
            start: self.start,
            end: self.start.wrapping_add(self.size).wrapping_sub(1),
        }
    }

    /// Converts C's inclusive `struct range`.
    fn from_raw(range: &bindings::range) -> Self {
        Self::new(
            range.start,
            range.end.wrapping_sub(range.start).wrapping_add(1),
        )
    }
}

impl fmt::Display for PhysRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The kernel's `%pra` style.
        write!(f, "[mem {:#010x}-{:#010x}]", self.start, self.as_raw().end)
    }
}

impl crate::fmt::Display for PhysRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The kind of device memory a pagemap describes (C's `enum memory_type`).
///
/// [`Config`] creates [`MemoryType::Generic`] and [`MemoryType::Private`] mappings; the other
/// kinds are created by C drivers (fsdax namespaces, PCI peer-to-peer DMA, coherent device
/// memory) and show up through [`get_dev_pagemap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemoryType {
    /// Device memory the CPU cannot address (`MEMORY_DEVICE_PRIVATE`): HMM migrates pages to and
    /// from it.
    Private,
    /// Cache-coherent device memory (`MEMORY_DEVICE_COHERENT`).
    Coherent,
    /// Persistent memory under a DAX file system (`MEMORY_DEVICE_FS_DAX`).
    FsDax,
    /// Host memory the CPU addresses like System RAM (`MEMORY_DEVICE_GENERIC`): device-dax and
    /// drivers that map their memory to userspace.
    Generic,
    /// A PCI BAR for peer-to-peer DMA (`MEMORY_DEVICE_PCI_P2PDMA`).
    PciP2pDma,
}

impl MemoryType {
    /// Returns the type's name as the kernel documents it, for example `generic`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Private => "private",
            Self::Coherent => "coherent",
            Self::FsDax => "fsdax",
            Self::Generic => "generic",
            Self::PciP2pDma => "p2pdma",
        }
    }

    fn as_raw(self) -> bindings::memory_type {
        match self {
            Self::Private => bindings::memory_type_MEMORY_DEVICE_PRIVATE,
            Self::Coherent => bindings::memory_type_MEMORY_DEVICE_COHERENT,
            Self::FsDax => bindings::memory_type_MEMORY_DEVICE_FS_DAX,
            Self::Generic => bindings::memory_type_MEMORY_DEVICE_GENERIC,
            Self::PciP2pDma => bindings::memory_type_MEMORY_DEVICE_PCI_P2PDMA,
        }
    }

    fn from_raw(raw: bindings::memory_type) -> Option<Self> {
        [
            Self::Private,
            Self::Coherent,
            Self::FsDax,
            Self::Generic,
            Self::PciP2pDma,
        ]
        .into_iter()
        .find(|t| t.as_raw() == raw)
    }
}

/// A page of device memory, borrowed for the duration of a callback or of a [`Pagemap`] borrow.
///
/// # Invariants
///
/// `page` points to an initialized `struct page` in `ZONE_DEVICE` for the lifetime `'a`.
pub struct DevicePage<'a> {
    page: NonNull<bindings::page>,
    _lifetime: PhantomData<&'a bindings::page>,
}

impl DevicePage<'_> {
    /// Returns the page's frame number.
    pub fn pfn(&self) -> usize {
        // SAFETY: By the type invariant, `self.page` points to a valid `struct page`.
        unsafe { bindings::page_to_pfn(self.page.as_ptr()) }
    }

    /// Returns the page's reference count.
    pub fn ref_count(&self) -> i32 {
        // SAFETY: By the type invariant, `self.page` points to a valid `struct page`.
        unsafe { bindings::page_ref_count(self.page.as_ptr()) }
    }
}

/// A CPU fault on a device-private page, given to [`PrivateOps::migrate_to_ram`].
///
/// # Invariants
///
/// `vmf` points to the `struct vm_fault` of a fault on a device-private page that is being
/// handled for the lifetime `'a`.
pub struct PrivateFault<'a> {
    vmf: NonNull<bindings::vm_fault>,
    _lifetime: PhantomData<&'a bindings::vm_fault>,
}

impl PrivateFault<'_> {
    /// Returns the device-private page the CPU faulted on.
    pub fn page(&self) -> DevicePage<'_> {
        // SAFETY: By the type invariant, `self.vmf` is valid; `do_swap_page()` sets its `page`
        // to the device-private page (which it holds a reference on) before calling
        // `migrate_to_ram()`.
        let page = unsafe { (*self.vmf.as_ptr()).page };
        // INVARIANT: The page is a `ZONE_DEVICE` page, referenced while the fault is handled.
        DevicePage {
            // SAFETY: See above: the page pointer of such a fault is not null.
            page: unsafe { NonNull::new_unchecked(page) },
            _lifetime: PhantomData,
        }
    }
}

/// Operations of device-private memory ([`MemoryType::Private`]).
///
/// The CPU cannot address device-private memory: when a process touches a page that was migrated
/// there, the kernel asks the driver to migrate it back ([`PrivateOps::migrate_to_ram`]); when the
/// last reference to a page is dropped, the driver gets the page back
/// ([`PrivateOps::folio_free`]). The address of the operations table is the pagemap's `owner`,
/// which HMM's migration helpers compare.
///
/// # Context
///
/// `folio_free` runs where the last reference is dropped, which may be atomic context: it must
/// not sleep. `migrate_to_ram` runs in the fault, with the page locked and the process's
/// `mmap_lock` held; returning `Ok` without migrating the page makes the CPU fault again.
#[vtable]
pub trait PrivateOps: 'static {
    /// Called when the last reference to a device-private page is dropped: the device may reuse
    /// its memory.
    fn folio_free(page: &DevicePage<'_>);

    /// Called when the CPU faults on a device-private page: the driver migrates the page's
    /// contents back to system memory. An error makes the fault fail: [`ENOMEM`] as out of
    /// memory, any other error as `SIGBUS`.
    fn migrate_to_ram(fault: &PrivateFault<'_>) -> Result;
}

/// The C operations table of a [`PrivateOps`] implementation.
struct PrivateOpsTable<T: PrivateOps>(PhantomData<T>);

impl<T: PrivateOps> PrivateOpsTable<T> {
    const VTABLE: bindings::dev_pagemap_ops = bindings::dev_pagemap_ops {
        folio_free: Some(Self::folio_free),
        migrate_to_ram: Some(Self::migrate_to_ram),
        memory_failure: None,
        folio_split: None,
    };

    /// # Safety
    ///
    /// `folio` is a device-private folio whose reference count has dropped to zero; C calls this
    /// from `free_zone_device_folio()`.
    unsafe extern "C" fn folio_free(folio: *mut bindings::folio) {
        // INVARIANT: A folio starts with its head page, a `ZONE_DEVICE` page that stays
        // initialized while its pagemap lives, which it does until this callback returns.
        let page = DevicePage {
            // SAFETY: C never passes a null folio.
            page: unsafe { NonNull::new_unchecked(folio.cast()) },
            _lifetime: PhantomData,
        };
        T::folio_free(&page);
    }

    /// # Safety
    ///
    /// `vmf` is the fault on a device-private page that `do_swap_page()` is handling.
    unsafe extern "C" fn migrate_to_ram(vmf: *mut bindings::vm_fault) -> bindings::vm_fault_t {
        // INVARIANT: The safety requirements of this function.
        let fault = PrivateFault {
            // SAFETY: C never passes a null fault.
            vmf: unsafe { NonNull::new_unchecked(vmf) },
            _lifetime: PhantomData,
        };
        match T::migrate_to_ram(&fault) {
            Ok(()) => 0,
            Err(e) if e == ENOMEM => bindings::vm_fault_reason_VM_FAULT_OOM,
            Err(_) => bindings::vm_fault_reason_VM_FAULT_SIGBUS,
        }
    }
}

/// A claim on a physical range that a [`Pagemap`] keeps until its memory is gone.
enum Claim {
    /// A range claimed with [`request_mem_region`].
    Region(#[expect(dead_code, reason = "held until the pagemap is gone")] Region),
    /// Free address space for device-private memory.
    #[cfg(CONFIG_GET_FREE_REGION)]
    Free(#[expect(dead_code, reason = "held until the pagemap is gone")] FreeMemRegion),
}

/// What a [`Pagemap`] maps: its memory type, its ranges, its struct-page layout and node.
///
/// Ranges come with their claim ([`Config::region`], `Config::free_region`), which the
/// [`Pagemap`] keeps until it has removed the memory: safe code cannot hot-add a range that it
/// does not own. [`Config::range`] adds a bare range, for callers that own it otherwise.
///
/// # Examples
///
/// ```
/// use kernel::mm::memremap::{Config, MemoryType, PhysRange};
///
/// // SAFETY: The configuration is only inspected, never mapped.
/// let config = unsafe {
///     Config::generic()
///         .range(PhysRange::new(0x1_4000_0000, 0x800_0000))?
///         .range(PhysRange::new(0x1_5000_0000, 0x800_0000))?
/// }
/// .vmemmap_shift(9)
/// .node(0);
/// assert_eq!(config.memory_type(), MemoryType::Generic);
/// assert_eq!(config.ranges().len(), 2);
/// # Ok::<(), Error>(())
/// ```
pub struct Config {
    memory_type: MemoryType,
    ops: Option<&'static bindings::dev_pagemap_ops>,
    ranges: KVec<PhysRange>,
    claims: KVec<Claim>,
    vmemmap_shift: u32,
    node: Option<u32>,
}

impl Config {
    fn with_type(memory_type: MemoryType, ops: Option<&'static bindings::dev_pagemap_ops>) -> Self {
        Self {
            memory_type,
            ops,
            ranges: KVec::new(),
            claims: KVec::new(),
            vmemmap_shift: 0,
            node: None,
        }
    }

    /// Memory the CPU addresses like System RAM ([`MemoryType::Generic`]).
    pub fn generic() -> Self {
        Self::with_type(MemoryType::Generic, None)
    }

    /// Device memory the CPU cannot address ([`MemoryType::Private`]), with the operations `T`.
    /// Such a range needs no memory behind it: `free_mem_region()` finds one.
    pub fn private<T: PrivateOps>() -> Self {
        Self::with_type(MemoryType::Private, Some(&PrivateOpsTable::<T>::VTABLE))
    }

    /// Adds the range of `region`, claimed with [`request_mem_region`]; the [`Pagemap`] releases
    /// it after removing the memory.
    pub fn region(mut self, region: Region) -> Result<Self> {
        let range = PhysRange::new(region.start(), region.size());
        self.claims.push(Claim::Region(region), GFP_KERNEL)?;
        self.ranges.push(range, GFP_KERNEL)?;
        Ok(self)
    }

    /// Adds the range of `region`, free address space for device-private memory; the [`Pagemap`]
    /// releases it after removing the memory.
    #[cfg(CONFIG_GET_FREE_REGION)]
    pub fn free_region(mut self, region: FreeMemRegion) -> Result<Self> {
        let range = region.range();
        self.claims.push(Claim::Free(region), GFP_KERNEL)?;
        self.ranges.push(range, GFP_KERNEL)?;
        Ok(self)
    }

    /// Adds a bare physical range.
    ///
    /// # Safety
    ///
    /// Nothing else uses `range` while a [`Pagemap`] made from this configuration maps it: the
    /// caller owns it (as with [`Config::region`]) until the [`Pagemap`] is dropped.
    pub unsafe fn range(mut self, range: PhysRange) -> Result<Self> {
        self.ranges.push(range, GFP_KERNEL)?;
        Ok(self)
    }

    /// Sets up compound struct pages of order `shift` (C's `vmemmap_shift`), for example 9 for
    /// 2 MiB folios on x86-64. The default, 0, gives base pages.
    pub fn vmemmap_shift(mut self, shift: u32) -> Self {
        self.vmemmap_shift = shift;
        self
    }

    /// Sets the NUMA node of the memory. Without it, [`Pagemap::new`] uses the node of the CPU
    /// it runs on (as C does for `NUMA_NO_NODE`) and [`Pagemap::register`] the device's node.
    pub fn node(mut self, node: u32) -> Self {
        self.node = Some(node);
        self
    }

    /// Returns the memory type.
    pub fn memory_type(&self) -> MemoryType {
        self.memory_type
    }

    /// Returns the ranges added so far.
    pub fn ranges(&self) -> &[PhysRange] {
        &self.ranges
    }
}

/// Logs one error line for a refused mapping, on the device if there is one, and returns `err`.
fn refuse(dev: Option<&Device>, err: Error, args: fmt::Arguments<'_>) -> Error {
    match dev {
        Some(dev) => dev_err!(dev, "memremap: {}\n", args),
        None => pr_err!("memremap: {}\n", args),
    }
    err
}

/// Checks `config` as `memremap_pages()` would, without its `WARN`s: every refusal comes back as
/// an error code with one line in the kernel log.
fn validate(dev: Option<&Device>, config: &Config, node: c_int) -> Result {
    let private = config.memory_type == MemoryType::Private;
    if private && !cfg!(CONFIG_DEVICE_PRIVATE) {
        return Err(refuse(
            dev,
            EOPNOTSUPP,
            format_args!("device-private memory needs CONFIG_DEVICE_PRIVATE"),
        ));
    }
    if config.ranges.is_empty() {
        return Err(refuse(dev, EINVAL, format_args!("no range to map")));
    }
    if private && config.vmemmap_shift != 0 {
        // Device-private pages are handed out one by one (`zone_device_page_init()` of order 0),
        // which would break compound struct pages.
        return Err(refuse(
            dev,
            EINVAL,
            format_args!("device-private memory takes no vmemmap_shift"),
        ));
    }
    // SAFETY: `max_folio_order()` returns a constant.
    let max_folio_order = unsafe { bindings::max_folio_order() };
    if config.vmemmap_shift > max_folio_order {
        return Err(refuse(
            dev,
            EINVAL,
            format_args!(
                "vmemmap_shift {} exceeds the largest folio order, {max_folio_order}",
                config.vmemmap_shift,
            ),
        ));
    }
    // SAFETY: `memremap_compat_align()` has no preconditions.
    let compat_align = unsafe { bindings::memremap_compat_align() } as u64;
    let align = compat_align.max((PAGE_SIZE as u64) << config.vmemmap_shift);
    // SAFETY: `mhp_get_pluggable_range()` has no preconditions.
    let pluggable = unsafe { bindings::mhp_get_pluggable_range(!private) };
    for (i, range) in config.ranges.iter().enumerate() {
        let Some(end) = range.end() else {
            return Err(refuse(
                dev,
                EINVAL,
                format_args!("{range}: empty or wraps around"),
            ));
        };
        if range.start % align != 0 || range.size % align != 0 {
            return Err(refuse(
                dev,
                EINVAL,
                format_args!("{range} is not aligned to {align:#x} bytes"),
            ));
        }
        if let Some(other) = config.ranges[..i].iter().find(|r| r.overlaps(range)) {
            return Err(refuse(
                dev,
                EINVAL,
                format_args!("{range} overlaps {other}"),
            ));
        }
        if range.start < pluggable.start || end > pluggable.end {
            return Err(refuse(
                dev,
                ERANGE,
                format_args!(
                    "{range} is outside the hot-pluggable range {}",
                    PhysRange::from_raw(&pluggable)
                ),
            ));
        }
        // SAFETY: `region_intersects()` only reads the resource tree, under its lock.
        let ram = unsafe {
            bindings::region_intersects(
                range.start,
                range.size as usize,
                (bindings::IORESOURCE_MEM | bindings::IORESOURCE_SYSRAM) as c_ulong,
                bindings::IORES_DESC_NONE as c_ulong,
            )
        };
        if ram != bindings::REGION_DISJOINT as c_int {
            return Err(refuse(
                dev,
                ENXIO,
                format_args!("{range} overlaps System RAM"),
            ));
        }
        // Pagemaps are aligned to subsections (the arch code refuses less), so looking at the
        // first page of every subsection finds any pagemap that overlaps the range.
        let first = range.start_pfn();
        let step = bindings::PAGES_PER_SUBSECTION as usize;
        for pfn in (first..first + range.nr_pages()).step_by(step) {
            if let Some(other) = get_dev_pagemap(pfn) {
                return Err(refuse(
                    dev,
                    EBUSY,
                    format_args!(
                        "{range} overlaps the {} pagemap at pfn {pfn:#x}",
                        other.memory_type().map_or("unknown", MemoryType::name)
                    ),
                ));
            }
        }
    }
    // `NUMA_NO_NODE` lets C pick the node of the CPU; any other node must be online, since
    // `pagemap_range()` adds the memory to `NODE_DATA(node)`.
    if node != bindings::NUMA_NO_NODE
        && (node < 0
            || node >= bindings::MAX_NUMNODES as c_int
            // SAFETY: `node_online()` reads the node state bitmap; `node` is in its bounds.
            || !unsafe { bindings::node_online(node) })
    {
        return Err(refuse(
            dev,
            EINVAL,
            format_args!("node {node} is not online"),
        ));
    }
    Ok(())
}

/// Device memory mapped into `ZONE_DEVICE` (C's `struct dev_pagemap` after `memremap_pages()`).
///
/// Creating a [`Pagemap`] hot-adds its ranges: struct pages, in the node's `Device` zone, and for
/// CPU-addressable memory a linear mapping. Dropping it removes them again (`memunmap_pages()`)
/// and then releases the claims on the ranges that came with the [`Config`].
///
/// # Blocking on drop
///
/// Dropping a [`Pagemap`] waits until nobody uses its pages, since their struct pages go away:
/// for [`MemoryType::Generic`], until no page has more than the one reference the mapping holds
/// (a process that maps a page or pins it for I/O holds one more); for [`MemoryType::Private`],
/// until every page handed out ([`Pagemap::alloc_private_page`]) is freed. It also waits for every
/// [`PagemapRef`] to be dropped. While it waits it logs, every ten seconds, how many pages are
/// still in use. Zap the user mappings of the memory (`unmap_mapping_range()`) before dropping it.
/// A long-term pin (`FOLL_LONGTERM`: io_uring fixed buffers, RDMA) keeps it waiting until the pin
/// goes; a [`PrivatePage`] that is leaked (`core::mem::forget`) keeps it waiting for ever.
///
/// # Invariants
///
/// - `storage` holds a `struct dev_pagemap` with `ranges.len()` ranges, accepted by
///   `memremap_pages()` and not yet given to `memunmap_pages()`.
/// - `storage` is never resized, so the `struct dev_pagemap` never moves.
///
/// # Examples
///
/// Device-private memory needs no memory behind its range, only free physical address space:
///
/// ```
/// use core::sync::atomic::{AtomicUsize, Ordering};
/// use kernel::mm::memremap::{
///     self, Config, DevicePage, MemoryType, Pagemap, PrivateFault, PrivateOps,
/// };
///
/// static FREED: AtomicUsize = AtomicUsize::new(0);
///
/// struct Gpu;
///
/// #[vtable]
/// impl PrivateOps for Gpu {
///     fn folio_free(_page: &DevicePage<'_>) {
///         FREED.fetch_add(1, Ordering::Relaxed);
///     }
///
///     fn migrate_to_ram(_fault: &PrivateFault<'_>) -> Result {
///         Err(EIO)
///     }
/// }
///
/// let region = memremap::free_mem_region(0x400_0000, c"doctest private memory")?;
/// // The region is rounded up to whole memory sections.
/// let range = region.range();
/// assert!(range.size() >= 0x400_0000);
/// let mut pagemap = Pagemap::new(Config::private::<Gpu>().free_region(region)?)?;
/// assert_eq!(pagemap.memory_type(), MemoryType::Private);
/// assert_eq!(pagemap.nr_pages(), range.nr_pages());
///
/// // The pages are in ZONE_DEVICE and can be looked up by frame number.
/// let pfn = range.start_pfn();
/// let found = memremap::get_dev_pagemap(pfn).ok_or(ENOENT)?;
/// assert!(found.is(&pagemap));
/// assert_eq!(found.range(0), Some(range));
/// drop(found);
///
/// // A page handed out and freed comes back through `folio_free`, and can be handed out again.
/// let page = pagemap.alloc_private_page(pfn + 1)?;
/// assert_eq!(page.pfn(), pfn + 1);
/// drop(page);
/// assert_eq!(FREED.load(Ordering::Relaxed), 1);
/// drop(pagemap.alloc_private_page(pfn + 1)?);
/// assert_eq!(FREED.load(Ordering::Relaxed), 2);
///
/// // Dropping the mapping removes the pages and releases the region.
/// drop(pagemap);
/// assert!(memremap::get_dev_pagemap(pfn).is_none());
///
/// // One pagemap over two ranges.
/// let (a, b) = (
///     memremap::free_mem_region(0x200_0000, c"doctest range a")?,
///     memremap::free_mem_region(0x200_0000, c"doctest range b")?,
/// );
/// let (range_a, range_b) = (a.range(), b.range());
/// let pagemap = Pagemap::new(Config::private::<Gpu>().free_region(a)?.free_region(b)?)?;
/// assert_eq!(pagemap.ranges(), [range_a, range_b]);
/// assert_eq!(pagemap.nr_pages(), range_a.nr_pages() + range_b.nr_pages());
/// let found = memremap::get_dev_pagemap(range_b.start_pfn()).ok_or(ENOENT)?;
/// assert!(found.is(&pagemap));
/// assert_eq!((found.nr_ranges(), found.range(1)), (2, Some(range_b)));
/// drop(found);
/// drop(pagemap);
/// assert!(memremap::get_dev_pagemap(range_a.start_pfn()).is_none());
/// assert!(memremap::get_dev_pagemap(range_b.start_pfn()).is_none());
/// # Ok::<(), Error>(())
/// ```
pub struct Pagemap {
    storage: KVec<Opaque<bindings::dev_pagemap>>,
    // Dropped after `memunmap_pages()` (in `Drop::drop`), so the ranges stay claimed while mapped.
    _claims: KVec<Claim>,
    ranges: KVec<PhysRange>,
    memory_type: MemoryType,
    vmemmap_shift: u32,
    node: u32,
}

// SAFETY: A `Pagemap` only owns a `struct dev_pagemap`, which `memunmap_pages()` may be given on
// any thread.
unsafe impl Send for Pagemap {}

// SAFETY: The `&self` methods only read the ranges, which no one changes while the mapping lives,
// and the reference counts of struct pages (atomic reads); handing out pages, which changes
// struct pages, takes `&mut self`.
unsafe impl Sync for Pagemap {}

impl Pagemap {
    /// Hot-adds the ranges of `config` into `ZONE_DEVICE` (C's `memremap_pages()`).
    ///
    /// Refuses, with one line in the kernel log: no range, an empty range or one that wraps
    /// ([`EINVAL`]); a range not aligned to `memremap_compat_align()` or to the folio size of
    /// the `vmemmap_shift` ([`EINVAL`]), or overlapping another range of `config` ([`EINVAL`]);
    /// a `vmemmap_shift` above the largest folio order ([`EINVAL`]); a range outside
    /// `mhp_get_pluggable_range()` ([`ERANGE`]), overlapping System RAM ([`ENXIO`]) or another
    /// pagemap ([`EBUSY`]); a node that is not online ([`EINVAL`]). Otherwise the error of
    /// `memremap_pages()`, which unwinds what it did.
    ///
    /// The check for other pagemaps cannot see one that another thread adds at the same time:
    /// callers that own their range (as they should: see [`Pagemap`]) never race.
    ///
    /// # Examples
    ///
    /// Each refusal, on free physical address space and on System RAM:
    ///
    /// ```
    /// use kernel::{
    ///     bindings,
    ///     mm::memremap::{self, Config, DevicePage, Pagemap, PhysRange, PrivateFault, PrivateOps},
    ///     page::{Page, PAGE_SHIFT},
    /// };
    ///
    /// struct Dev;
    ///
    /// #[vtable]
    /// impl PrivateOps for Dev {
    ///     fn folio_free(_page: &DevicePage<'_>) {}
    ///     fn migrate_to_ram(_fault: &PrivateFault<'_>) -> Result {
    ///         Err(EIO)
    ///     }
    /// }
    ///
    /// const SZ_2M: u64 = 0x20_0000;
    /// let region = memremap::free_mem_region(2 * SZ_2M, c"doctest refusals")?;
    /// let r = region.range();
    /// let at = |start, size| {
    ///     // SAFETY: Every range either lies in `region`, which this test holds to its end, or is
    ///     // refused before anything is mapped.
    ///     unsafe { Config::private::<Dev>().range(PhysRange::new(start, size)) }
    /// };
    ///
    /// assert_eq!(Pagemap::new(Config::private::<Dev>()).err(), Some(EINVAL)); // No range.
    /// assert_eq!(Pagemap::new(at(r.start(), 0)?).err(), Some(EINVAL)); // Empty.
    /// assert_eq!(Pagemap::new(at(r.start() + 0x1000, SZ_2M)?).err(), Some(EINVAL)); // Unaligned.
    /// // SAFETY: Refused before anything is mapped.
    /// let twice = unsafe { at(r.start(), SZ_2M)?.range(PhysRange::new(r.start(), SZ_2M))? };
    /// assert_eq!(Pagemap::new(twice).err(), Some(EINVAL)); // Overlapping itself.
    /// assert_eq!(Pagemap::new(at(r.start(), SZ_2M)?.vmemmap_shift(40)).err(), Some(EINVAL));
    /// let no_node = at(r.start(), SZ_2M)?.node(bindings::MAX_NUMNODES);
    /// assert_eq!(Pagemap::new(no_node).err(), Some(EINVAL)); // No such node.
    /// assert_eq!(Pagemap::new(at(1 << 60, SZ_2M)?).err(), Some(ERANGE)); // Not pluggable.
    ///
    /// // A range of System RAM: the one holding a page the kernel just allocated.
    /// let page = Page::alloc_page(GFP_KERNEL)?;
    /// // SAFETY: `page` is a valid page.
    /// let pfn = unsafe { bindings::page_to_pfn(page.as_ptr()) } as u64;
    /// let ram = ((pfn << PAGE_SHIFT) & !(SZ_2M - 1), SZ_2M);
    /// assert_eq!(Pagemap::new(at(ram.0, ram.1)?).err(), Some(ENXIO));
    ///
    /// // Another pagemap's range.
    /// let first = Pagemap::new(at(r.start(), 2 * SZ_2M)?)?;
    /// assert_eq!(Pagemap::new(at(r.start() + SZ_2M, SZ_2M)?).err(), Some(EBUSY));
    /// drop(first);
    /// // Nothing was left behind: the whole range maps now.
    /// let whole = Pagemap::new(at(r.start(), 2 * SZ_2M)?)?;
    /// assert_eq!(whole.nr_pages(), ((2 * SZ_2M) >> PAGE_SHIFT) as usize);
    /// # Ok::<(), Error>(())
    /// ```
    pub fn new(config: Config) -> Result<Self> {
        Self::create(None, config, bindings::NUMA_NO_NODE)
    }

    /// Hot-adds the ranges of `config` for the device `dev`, as [`Pagemap::new`] does, but
    /// refusals are logged on `dev`, and without [`Config::node`] the memory goes to the device's
    /// NUMA node. The caller drops the mapping (see [`Pagemap::register`] for one that goes when
    /// the driver unbinds).
    pub fn for_device(dev: &Device, config: Config) -> Result<Self> {
        // SAFETY: `dev` is a valid device.
        let node = unsafe { bindings::dev_to_node(dev.as_raw()) };
        Self::create(Some(dev), config, node)
    }

    /// Hot-adds the ranges of `config` for the bound device `dev`, and removes them when the
    /// driver unbinds (C's `devm_memremap_pages()`). Without [`Config::node`], the memory goes
    /// to the device's NUMA node. Errors as [`Pagemap::new`], logged on the device.
    ///
    /// # Examples
    ///
    /// ```
    /// use kernel::{
    ///     device::{Bound, Device},
    ///     faux,
    ///     mm::memremap::{self, Config, DevicePage, Pagemap, PrivateFault, PrivateOps},
    /// };
    ///
    /// struct Accel;
    ///
    /// #[vtable]
    /// impl PrivateOps for Accel {
    ///     fn folio_free(_page: &DevicePage<'_>) {}
    ///     fn migrate_to_ram(_fault: &PrivateFault<'_>) -> Result {
    ///         Err(EIO)
    ///     }
    /// }
    ///
    /// let region = memremap::free_mem_region(0x200_0000, c"doctest devres memory")?;
    /// let range = region.range();
    /// let device = faux::Registration::new(c"zone-device-doctest", None)?;
    /// let dev: &Device<Bound> = device.as_ref().as_ref();
    /// let pagemap = Pagemap::register(dev, Config::private::<Accel>().free_region(region)?)?;
    /// assert!(pagemap.access(dev)?.ranges() == [range]);
    /// let pfn = range.start_pfn();
    /// assert!(memremap::get_dev_pagemap(pfn).is_some());
    ///
    /// // Unbinding (here: removing the device) removes the memory.
    /// drop(device);
    /// assert!(memremap::get_dev_pagemap(pfn).is_none());
    /// drop(pagemap);
    /// # Ok::<(), Error>(())
    /// ```
    pub fn register(dev: &Device<Bound>, config: Config) -> Result<Devres<Self>> {
        let pagemap = Self::for_device(dev, config)?;
        Devres::new(dev, pagemap)
    }

    fn create(dev: Option<&Device>, config: Config, default_node: c_int) -> Result<Self> {
        let node = config
            .node
            .map_or(default_node, |n| c_int::try_from(n).unwrap_or(c_int::MAX));
        validate(dev, &config, node)?;

        // `struct dev_pagemap` ends with its first range; the others follow it.
        let extra = (config.ranges.len() - 1) * size_of::<bindings::range>();
        let units = 1 + extra.div_ceil(size_of::<bindings::dev_pagemap>());
        let mut storage = KVec::with_capacity(units, GFP_KERNEL)?;
        for _ in 0..units {
            storage.push(Opaque::<bindings::dev_pagemap>::zeroed(), GFP_KERNEL)?;
        }
        let pgmap = Opaque::cast_into(storage.as_ptr());
        // SAFETY: `pgmap` points to zeroed memory that `storage` owns, with room for every range
        // after the `struct dev_pagemap` (see above); no one else knows it yet.
        unsafe {
            (*pgmap).type_ = config.memory_type.as_raw();
            (*pgmap).vmemmap_shift = config.vmemmap_shift as c_ulong;
            if let Some(ops) = config.ops {
                (*pgmap).ops = ops;
                (*pgmap).owner = core::ptr::from_ref(ops).cast_mut().cast::<c_void>();
            }
            (*pgmap).nr_range = config.ranges.len() as c_int;
            let ranges = Self::raw_ranges(pgmap);
            for (i, range) in config.ranges.iter().enumerate() {
                ranges.add(i).write(range.as_raw());
            }
        }
        // SAFETY: `pgmap` is set up as `memremap_pages()` requires: type, ranges, and for
        // private memory the operations and owner; it lives at a fixed address until
        // `memunmap_pages()` (see the invariants).
        from_err_ptr(unsafe { bindings::memremap_pages(pgmap, node) })
            .map_err(|e| refuse(dev, e, format_args!("memremap_pages() failed: {e:?}")))?;

        // SAFETY: The first page of the first range has an initialized struct page now.
        let node =
            unsafe { bindings::page_to_nid(bindings::pfn_to_page(config.ranges[0].start_pfn())) };
        // INVARIANT: `memremap_pages()` accepted `storage`, which is not resized from here on.
        Ok(Self {
            storage,
            _claims: config.claims,
            ranges: config.ranges,
            memory_type: config.memory_type,
            vmemmap_shift: config.vmemmap_shift,
            node: node as u32,
        })
    }

    /// Returns the ranges C's `struct dev_pagemap` at `pgmap` holds.
    ///
    /// # Safety
    ///
    /// `pgmap` points to a `struct dev_pagemap`.
    unsafe fn raw_ranges(pgmap: *mut bindings::dev_pagemap) -> *mut bindings::range {
        // SAFETY: The union at the end of `struct dev_pagemap` starts with the first range, and
        // the others follow it.
        unsafe { core::ptr::addr_of_mut!((*pgmap).__bindgen_anon_1).cast() }
    }

    /// Returns the C `struct dev_pagemap`.
    pub fn as_raw(&self) -> *mut bindings::dev_pagemap {
        Opaque::cast_into(self.storage.as_ptr())
    }

    /// Returns the memory type.
    pub fn memory_type(&self) -> MemoryType {
        self.memory_type
    }

    /// Returns the mapped ranges.
    pub fn ranges(&self) -> &[PhysRange] {
        &self.ranges
    }

    /// Returns the order of the compound struct pages (C's `vmemmap_shift`).
    pub fn vmemmap_shift(&self) -> u32 {
        self.vmemmap_shift
    }

    /// Returns the NUMA node the memory was added to.
    pub fn node(&self) -> u32 {
        self.node
    }

    /// Returns the number of pages of all ranges.
    pub fn nr_pages(&self) -> usize {
        self.ranges.iter().map(PhysRange::nr_pages).sum()
    }

    /// Returns whether the page frame `pfn` belongs to this mapping.
    pub fn contains_pfn(&self, pfn: usize) -> bool {
        self.ranges.iter().any(|r| r.contains_pfn(pfn))
    }

    /// Returns the page at frame `pfn` of CPU-addressable memory, for example to map it to a
    /// process (`vm_insert_page()`) or to read and write it; [`None`] if `pfn` is not in this
    /// mapping or the memory is device-private. With compound struct pages
    /// ([`Config::vmemmap_shift`]) it may be a tail page: C's page functions act on its folio.
    pub fn page(&self, pfn: usize) -> Option<BorrowedPage<'_>> {
        if self.memory_type == MemoryType::Private || !self.contains_pfn(pfn) {
            return None;
        }
        // SAFETY: `pfn` is in a range of this mapping, whose struct pages stay initialized until
        // `self` is dropped.
        let page = NonNull::new(unsafe { bindings::pfn_to_page(pfn) })?;
        // SAFETY: The page stays valid while `self` is borrowed (see above).
        Some(unsafe { BorrowedPage::from_raw(page) })
    }

    /// Returns how many pages (compound pages count once) are in use beyond the mapping itself:
    /// for CPU-addressable memory, those with a reference besides the one the mapping holds (a
    /// process maps it, or I/O pins it); for device-private memory, those handed out.
    pub fn busy_pages(&self) -> usize {
        let idle = if self.memory_type == MemoryType::Private {
            0
        } else {
            1
        };
        let step = 1usize << self.vmemmap_shift;
        let mut busy = 0;
        for range in self.ranges.iter() {
            let first = range.start_pfn();
            for pfn in (first..first + range.nr_pages()).step_by(step) {
                // SAFETY: `pfn` has an initialized struct page while `self` lives; the head of a
                // compound page holds its reference count.
                if unsafe { bindings::page_ref_count(bindings::pfn_to_page(pfn)) } > idle {
                    busy += 1;
                }
            }
        }
        busy
    }

    /// Hands out the free device-private page at `pfn` (C's `zone_device_page_init()`): its
    /// reference count becomes one, and dropping the returned page frees it through
    /// [`PrivateOps::folio_free`] before the drop returns. [`EINVAL`] for memory that is not
    /// device-private or a `pfn` outside the mapping, [`EBUSY`] for a page in use.
    ///
    /// It borrows the pagemap mutably, so one page is out at a time: the reference count tells
    /// whether a page is free only while nobody else hands out or frees pages of the mapping.
    /// (A driver that hands out many pages at once keeps track of its free pages itself, which
    /// this API does not offer yet.)
    pub fn alloc_private_page(&mut self, pfn: usize) -> Result<PrivatePage<'_>> {
        if self.memory_type != MemoryType::Private || !self.contains_pfn(pfn) {
            return Err(EINVAL);
        }
        // SAFETY: `pfn` is in this mapping, so its struct page is initialized.
        let page = unsafe { bindings::pfn_to_page(pfn) };
        // SAFETY: As above.
        if unsafe { bindings::page_ref_count(page) } != 0 {
            return Err(EBUSY);
        }
        // SAFETY: The page is a free page of this live device-private pagemap.
        // `zone_device_page_init()` takes a reference on the pagemap for it and locks it.
        unsafe {
            bindings::zone_device_page_init(page, self.as_raw(), 0);
            bindings::unlock_page(page);
        }
        // INVARIANT: The page was just handed out with one reference, which `PrivatePage` owns.
        Ok(PrivatePage {
            // SAFETY: `pfn_to_page()` of a mapped frame is not null.
            page: unsafe { NonNull::new_unchecked(page) },
            _pagemap: PhantomData,
        })
    }

    /// Waits until no page is in use (see [`Pagemap`]), logging every ten seconds while some are.
    fn wait_idle(&self) {
        const LOG_EVERY_MS: u32 = 10_000;
        const POLL_MS: u32 = 20;
        let mut waited = 0u32;
        loop {
            let busy = self.busy_pages();
            if busy == 0 {
                return;
            }
            if waited % LOG_EVERY_MS == 0 {
                pr_warn!(
                    "memremap: {} {}: waiting for {busy} page(s) still in use to be released\n",
                    self.memory_type.name(),
                    self.ranges[0]
                );
            }
            // SAFETY: `msleep()` may sleep, as dropping a `Pagemap` may (see there).
            unsafe { bindings::msleep(POLL_MS) };
            waited = waited.wrapping_add(POLL_MS);
        }
    }
}

impl Drop for Pagemap {
    fn drop(&mut self) {
        if self.memory_type != MemoryType::Private {
            // Device-private pages hold a reference on the pagemap, which `memunmap_pages()`
            // waits for; other pages do not, and their struct pages must not go while in use.
            self.wait_idle();
        }
        // SAFETY: By the type invariants, `memremap_pages()` accepted this pagemap and
        // `memunmap_pages()` was not called yet; after it, `storage` is only freed.
        unsafe { bindings::memunmap_pages(self.as_raw()) };
    }
}

/// A device-private page handed out by [`Pagemap::alloc_private_page`].
///
/// # Invariants
///
/// `page` is a device-private page of a live pagemap, and this object owns one reference to it.
pub struct PrivatePage<'a> {
    page: NonNull<bindings::page>,
    _pagemap: PhantomData<&'a Pagemap>,
}

impl PrivatePage<'_> {
    /// Returns the page's frame number.
    pub fn pfn(&self) -> usize {
        // SAFETY: By the type invariant, `self.page` is a valid page.
        unsafe { bindings::page_to_pfn(self.page.as_ptr()) }
    }
}

impl Drop for PrivatePage<'_> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant, we own one reference to the page. The last one frees
        // it through the pagemap's `folio_free`.
        unsafe { bindings::put_page(self.page.as_ptr()) };
    }
}

/// A reference to a live pagemap, found by [`get_dev_pagemap`]; it keeps the pagemap from being
/// removed (`memunmap_pages()` waits for it) until dropped.
///
/// # Invariants
///
/// `pgmap` is a live `struct dev_pagemap` and this object owns one reference to it, taken by
/// `get_dev_pagemap()`.
pub struct PagemapRef {
    pgmap: NonNull<bindings::dev_pagemap>,
}

// SAFETY: The reference may be dropped (`put_dev_pagemap()`) on any thread.
unsafe impl Send for PagemapRef {}

// SAFETY: The `&self` methods only read fields that do not change while the pagemap lives.
unsafe impl Sync for PagemapRef {}

impl PagemapRef {
    /// Returns the memory type, or [`None`] for a type this module does not know.
    pub fn memory_type(&self) -> Option<MemoryType> {
        // SAFETY: By the type invariant, the pagemap is live; its type does not change.
        MemoryType::from_raw(unsafe { (*self.pgmap.as_ptr()).type_ })
    }

    /// Returns the number of ranges mapped so far: `memremap_pages()` publishes a pagemap before
    /// it has mapped every range, so this can grow while the pagemap is being set up.
    pub fn nr_ranges(&self) -> usize {
        // SAFETY: By the type invariant, the pagemap is live. C may be increasing `nr_range`
        // while it maps the ranges, hence a volatile read of the `int`, which is never torn.
        let nr = unsafe { core::ptr::addr_of!((*self.pgmap.as_ptr()).nr_range).read_volatile() };
        nr.max(0) as usize
    }

    /// Returns range `index`, or [`None`] past the last one.
    pub fn range(&self, index: usize) -> Option<PhysRange> {
        if index >= self.nr_ranges() {
            return None;
        }
        // SAFETY: By the type invariant, the pagemap is live and has more than `index` ranges.
        let range = unsafe { &*Pagemap::raw_ranges(self.pgmap.as_ptr()).add(index) };
        Some(PhysRange::from_raw(range))
    }

    /// Returns whether this is the mapping `pagemap` owns.
    pub fn is(&self, pagemap: &Pagemap) -> bool {
        self.pgmap.as_ptr() == pagemap.as_raw()
    }
}

impl Drop for PagemapRef {
    fn drop(&mut self) {
        // SAFETY: By the type invariant, we own one reference to the pagemap.
        unsafe { bindings::put_dev_pagemap(self.pgmap.as_ptr()) };
    }
}

/// Returns a reference to the live pagemap that maps the page frame `pfn`, if any (C's
/// `get_dev_pagemap()`).
pub fn get_dev_pagemap(pfn: usize) -> Option<PagemapRef> {
    // SAFETY: `get_dev_pagemap()` accepts any frame number and returns a referenced pagemap or
    // null.
    let pgmap = NonNull::new(unsafe { bindings::get_dev_pagemap(pfn as c_ulong) })?;
    // INVARIANT: `get_dev_pagemap()` took a reference to the live pagemap for us.
    Some(PagemapRef { pgmap })
}

/// A range of physical address space with nothing behind it, reserved in the iomem tree (C's
/// `request_free_mem_region()`), for device-private memory ([`Config::private`]). Dropping it
/// releases the range.
///
/// # Invariants
///
/// `range` is the range of a busy resource that `request_free_mem_region()` returned, not yet
/// released.
#[cfg(CONFIG_GET_FREE_REGION)]
pub struct FreeMemRegion {
    range: PhysRange,
}

#[cfg(CONFIG_GET_FREE_REGION)]
// SAFETY: The region may be released on any thread.
unsafe impl Send for FreeMemRegion {}

#[cfg(CONFIG_GET_FREE_REGION)]
// SAFETY: `&self` methods only read the copied range.
unsafe impl Sync for FreeMemRegion {}

#[cfg(CONFIG_GET_FREE_REGION)]
impl FreeMemRegion {
    /// Returns the reserved range.
    pub fn range(&self) -> PhysRange {
        self.range
    }
}

#[cfg(CONFIG_GET_FREE_REGION)]
impl Drop for FreeMemRegion {
    fn drop(&mut self) {
        // SAFETY: By the type invariant, the region is requested; releasing it frees `res`.
        unsafe {
            bindings::__release_region(
                core::ptr::addr_of_mut!(bindings::iomem_resource),
                self.range.start,
                self.range.size,
            )
        };
    }
}

/// Reserves at least `size` bytes of free physical address space, named `name` in /proc/iomem,
/// for device-private memory (C's `request_free_mem_region()`, which rounds the size up to whole
/// memory sections, 128 MiB on x86-64); [`ERANGE`] when there is none.
#[cfg(CONFIG_GET_FREE_REGION)]
pub fn free_mem_region(size: ResourceSize, name: &'static CStr) -> Result<FreeMemRegion> {
    // SAFETY: `iomem_resource` is the root of the iomem tree; `name` lives forever.
    let res = from_err_ptr(unsafe {
        bindings::request_free_mem_region(
            core::ptr::addr_of_mut!(bindings::iomem_resource),
            size as c_ulong,
            name.as_char_ptr(),
        )
    })?;
    // SAFETY: `res` is the resource just requested; it stays until we release it.
    let range = unsafe { PhysRange::new((*res).start, bindings::resource_size(res)) };
    // INVARIANT: `range` is the range of the resource just requested.
    Ok(FreeMemRegion { range })
}

/// Claims `range` of the physical address space for `name` (C's `request_mem_region()`): it shows
/// in /proc/iomem under that name until the returned region is dropped. [`EBUSY`] when part of it
/// is claimed already (by a driver, or as System RAM).
///
/// A driver claims its range before it creates a [`Pagemap`] over it, and releases it after: the
/// pagemap never owns the physical range (see [`Pagemap`]).
pub fn request_mem_region(range: PhysRange, name: CString) -> Result<Region> {
    // SAFETY: `iomem_resource` is the root of the iomem tree and lives forever; the tree is only
    // changed under its lock, which `__request_region()` takes.
    let root = unsafe { Resource::from_raw(core::ptr::addr_of_mut!(bindings::iomem_resource)) };
    root.request_region(range.start, range.size, name, Flags::IORESOURCE_MEM)
        .ok_or(EBUSY)
}

/// Returns the ranges of legacy persistent memory (`memmap=SIZE!ADDR` on x86, C's
/// `IORES_DESC_PERSISTENT_MEMORY_LEGACY`), as `nd_e820` finds them.
pub fn legacy_pmem_ranges() -> Result<KVec<PhysRange>> {
    /// Collects one resource into the `KVec` at `arg`.
    ///
    /// # Safety
    ///
    /// `res` is a valid resource and `arg` points to a `KVec<PhysRange>` that nothing else
    /// accesses during the call.
    unsafe extern "C" fn collect(res: *mut bindings::resource, arg: *mut c_void) -> c_int {
        // SAFETY: `walk_iomem_res_desc()` passes the `arg` given below, a `KVec` that outlives
        // the walk and that nothing else touches meanwhile.
        let ranges = unsafe { &mut *arg.cast::<KVec<PhysRange>>() };
        // SAFETY: `res` is a valid resource for the duration of the callback.
        let range = unsafe { PhysRange::new((*res).start, bindings::resource_size(res)) };
        match ranges.push(range, GFP_KERNEL) {
            Ok(()) => 0,
            Err(_) => ENOMEM.to_errno(),
        }
    }
    let mut ranges = KVec::new();
    // SAFETY: `collect` matches the callback type; `ranges` outlives the walk.
    let ret = unsafe {
        bindings::walk_iomem_res_desc(
            bindings::IORES_DESC_PERSISTENT_MEMORY_LEGACY as c_ulong,
            bindings::IORESOURCE_MEM as c_ulong,
            0,
            u64::MAX,
            core::ptr::from_mut(&mut ranges).cast(),
            Some(collect),
        )
    };
    // The walk returns -EINVAL when it found nothing.
    if ret < 0 && ret != EINVAL.to_errno() {
        return Err(Error::from_errno(ret));
    }
    Ok(ranges)
}
