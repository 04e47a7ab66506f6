// SPDX-License-Identifier: GPL-2.0

//! libnvdimm bus providers.
//!
//! A provider is a platform driver that describes persistent memory to libnvdimm: it registers
//! an nvdimm bus ([`Bus`]) under its provider name ([`BusDescriptor`]) and creates one region
//! per range of pmem ([`Bus::pmem_region_create`]). libnvdimm does the rest: the region's
//! namespaces, their modes (fsdax, devdax, sector), `/dev/pmemN` and `/dev/daxN.M`, and the
//! `ndctl` interface. Every namespace that is enabled in fsdax or devdax mode hot-adds its range
//! into `ZONE_DEVICE`.
//!
//! The bus belongs to the device that provides it: [`Bus::register`] returns it in a
//! [`Devres`], so that unbinding the provider unregisters the bus (and with it every region,
//! namespace and the memory they mapped) before the unbind completes.
//!
//! The legacy-pmem ranges that `nd_e820` describes (`memmap=SIZE!ADDR` on x86) are found with
//! [`legacy_pmem_ranges`].
//!
//! C header: [`include/linux/libnvdimm.h`](srctree/include/linux/libnvdimm.h)

use core::ptr::NonNull;

use crate::{
    bindings,
    device::{
        Bound,
        Device, //
    },
    devres::Devres,
    ffi::{
        c_int,
        c_ulong, //
    },
    io::PhysAddr,
    prelude::*,
    str::as_char_ptr_in_const_context,
    types::Opaque,
    ThisModule, //
};

pub use crate::mm::memremap::{
    legacy_pmem_ranges,
    PhysRange, //
};

/// Converts an optional node to C's `int` node, [`None`] being `NUMA_NO_NODE`; [`EINVAL`] for a
/// node number the kernel cannot have.
fn node_to_raw(node: Option<u32>) -> Result<c_int> {
    match node {
        None => Ok(bindings::NUMA_NO_NODE),
        Some(n) if n < bindings::MAX_NUMNODES => Ok(n as c_int),
        Some(_) => Err(EINVAL),
    }
}

/// Converts C's `int` node, `NUMA_NO_NODE` (or any negative value) being [`None`].
fn node_from_raw(node: c_int) -> Option<u32> {
    u32::try_from(node).ok()
}

/// Returns the NUMA node that firmware assigns to the physical address `addr`, online or not
/// (C's `phys_to_target_node()`): persistent memory often sits on a node of its own, without
/// CPUs or memory online. [`None`] when firmware assigns none.
///
/// # Examples
///
/// ```
/// use kernel::nvdimm;
///
/// if cfg!(CONFIG_X86) {
///     // On x86 the memory at 1 MiB is System RAM, which belongs to an online node.
///     let node = nvdimm::phys_to_target_node(0x10_0000);
///     assert!(node.is_some());
///     assert_eq!(nvdimm::numa_map_to_online_node(node), node);
/// }
/// assert_eq!(nvdimm::numa_map_to_online_node(None), None);
/// ```
#[cfg(CONFIG_NUMA)]
pub fn phys_to_target_node(addr: PhysAddr) -> Option<u32> {
    // SAFETY: `phys_to_target_node()` only reads the firmware's NUMA description, which
    // `CONFIG_NUMA_KEEP_MEMINFO` (selected by the memory hotplug this module needs) keeps after
    // boot.
    node_from_raw(unsafe { bindings::phys_to_target_node(addr) })
}

/// Returns the NUMA node that firmware assigns to the physical address `addr`: without
/// `CONFIG_NUMA`, node 0, as in C.
#[cfg(not(CONFIG_NUMA))]
pub fn phys_to_target_node(_addr: PhysAddr) -> Option<u32> {
    Some(0)
}

/// Returns `node` if it is online, else the online node nearest to it (C's
/// `numa_map_to_online_node()`); [`None`] stays [`None`], and so does a node number the kernel
/// cannot have.
pub fn numa_map_to_online_node(node: Option<u32>) -> Option<u32> {
    let node = node_to_raw(node).ok()?;
    // SAFETY: `node` is `NUMA_NO_NODE` or below `MAX_NUMNODES`, as `numa_nearest_node()` needs;
    // it only reads the node states and distances.
    node_from_raw(unsafe { bindings::numa_map_to_online_node(node) })
}

/// What a provider tells libnvdimm about its buses (C's `struct nvdimm_bus_descriptor`): its
/// provider name, which tools look buses up by (`ndctl list --bus=e820`), and its module, which
/// libnvdimm pins while a region of the provider's bus is enabled.
///
/// libnvdimm keeps a pointer to the descriptor for as long as anything of a bus lives, so a
/// provider keeps it in a `static`, as C providers do.
///
/// # Invariants
///
/// `raw` names `provider_name` and `module`, both `'static`, and nothing else.
pub struct BusDescriptor {
    raw: Opaque<bindings::nvdimm_bus_descriptor>,
    provider_name: &'static CStr,
}

// SAFETY: The descriptor is never written after its constant initialization; C only reads it,
// from any thread.
unsafe impl Sync for BusDescriptor {}

impl BusDescriptor {
    /// The descriptor of the provider `provider_name`, whose module is `module`.
    pub const fn new(provider_name: &'static CStr, module: &'static ThisModule) -> Self {
        // INVARIANT: Only the provider name and the module are set.
        Self {
            raw: Opaque::new(bindings::nvdimm_bus_descriptor {
                module: module.as_ptr(),
                // C never writes through `provider_name`: it only shows it.
                provider_name: as_char_ptr_in_const_context(provider_name).cast_mut(),
                ..pin_init::zeroed()
            }),
            provider_name,
        }
    }

    /// Returns the provider name.
    pub fn provider_name(&self) -> &'static CStr {
        self.provider_name
    }
}

/// What a persistent-memory region describes (C's `struct nd_region_desc` for
/// `nvdimm_pmem_region_create()`): one physical range, its nodes and whether its namespaces
/// map their memory by default.
///
/// # Examples
///
/// ```
/// use kernel::nvdimm::{
///     PhysRange,
///     RegionDesc, //
/// };
///
/// let range = PhysRange::new(0x1_4000_0000, 0x4000_0000);
/// // SAFETY: The description is only inspected, never given to libnvdimm.
/// let desc = unsafe { RegionDesc::new(range) }
///     .numa_node(Some(0))
///     .target_node(Some(1))
///     .pagemap();
/// assert_eq!(desc.range(), range);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct RegionDesc {
    range: PhysRange,
    numa_node: Option<u32>,
    target_node: Option<u32>,
    pagemap: bool,
}

impl RegionDesc {
    /// A region over `range`, on no particular node, without [`RegionDesc::pagemap`].
    ///
    /// # Safety
    ///
    /// `range` is persistent memory that the caller provides and that nothing but libnvdimm
    /// uses while the region exists (such as a range of [`legacy_pmem_ranges`]): the region's
    /// namespaces read, write and map it.
    pub unsafe fn new(range: PhysRange) -> Self {
        Self {
            range,
            numa_node: None,
            target_node: None,
            pagemap: false,
        }
    }

    /// The online node the region's I/O is done from (its lanes, its block device); [`None`]
    /// for the bus's.
    pub fn numa_node(mut self, node: Option<u32>) -> Self {
        self.numa_node = node;
        self
    }

    /// The node the memory belongs to when it becomes System RAM (through device-dax and kmem),
    /// which need not be online.
    pub fn target_node(mut self, node: Option<u32>) -> Self {
        self.target_node = node;
        self
    }

    /// Namespaces of the region map their memory by default (C's `ND_REGION_PAGEMAP`): the
    /// memory can be direct-mapped, so fsdax and devdax namespaces hot-add it into
    /// `ZONE_DEVICE`.
    pub fn pagemap(mut self) -> Self {
        self.pagemap = true;
        self
    }

    /// Returns the region's range.
    pub fn range(&self) -> PhysRange {
        self.range
    }
}

/// A registered nvdimm bus (C's `struct nvdimm_bus`).
///
/// Dropping it unregisters the bus: libnvdimm removes its regions and their namespaces first,
/// disabling each (which removes the memory an fsdax or devdax namespace hot-added), and
/// returns when they are gone.
///
/// While a region of the bus is enabled, libnvdimm holds a reference on the provider's module
/// (see [`BusDescriptor`]), so the provider cannot be unloaded under it.
///
/// # Examples
///
/// ```
/// use kernel::{
///     device::{
///         Bound,
///         Device, //
///     },
///     faux,
///     nvdimm::{
///         Bus,
///         BusDescriptor, //
///     },
/// };
///
/// static DESC: BusDescriptor =
///     BusDescriptor::new(c"doctest", kernel::module::this_module::<crate::LocalModule>());
///
/// let faux = faux::Registration::new(c"nvdimm-doctest", None)?;
/// let dev: &Device<Bound> = faux.as_ref().as_ref();
/// let bus = Bus::register(dev, &DESC)?;
/// assert!(bus.access(dev)?.name().to_str()?.starts_with("ndbus"));
/// assert_eq!(bus.access(dev)?.provider_name(), c"doctest");
///
/// // Unbinding the provider (here: removing its device) unregisters the bus.
/// drop(faux);
/// assert!(bus.try_access().is_none());
/// # Ok::<(), Error>(())
/// ```
///
/// # Invariants
///
/// `bus` is a bus that `nvdimm_bus_register()` returned for `desc`; it stays registered until
/// `Bus` is dropped.
pub struct Bus {
    bus: NonNull<bindings::nvdimm_bus>,
    desc: &'static BusDescriptor,
}

// SAFETY: The bus may be unregistered from any thread that may sleep: `nvdimm_bus_unregister()`
// depends on no state of the thread that registered it.
unsafe impl Send for Bus {}

// SAFETY: The methods of `&Bus` only read the bus or create regions on it, which C allows from
// several threads at once (each region is a device of its own, registered asynchronously).
unsafe impl Sync for Bus {}

impl Bus {
    /// Registers an nvdimm bus of the provider `desc` under `dev` (C's `nvdimm_bus_register()`);
    /// it is unregistered when `dev` unbinds.
    ///
    /// [`ENXIO`] when libnvdimm cannot register it (it gives no reason).
    pub fn register(dev: &Device<Bound>, desc: &'static BusDescriptor) -> Result<Devres<Self>> {
        // SAFETY: `dev` is a bound device; `desc` is a valid descriptor that lives forever.
        let bus = unsafe { bindings::nvdimm_bus_register(dev.as_raw(), desc.raw.get()) };
        let bus = NonNull::new(bus).ok_or(ENXIO)?;
        // INVARIANT: `bus` was registered with `desc`, and is unregistered when `Self` drops.
        Devres::new(dev, Self { bus, desc })
    }

    /// Returns the C `struct nvdimm_bus`.
    pub fn as_raw(&self) -> *mut bindings::nvdimm_bus {
        self.bus.as_ptr()
    }

    /// Returns the bus's device (`/sys/bus/nd/devices/ndbusN`).
    pub fn device(&self) -> &Device {
        // SAFETY: By the type invariant, the bus is registered, so its device lives while `self`
        // does.
        unsafe { Device::from_raw(bindings::to_nvdimm_bus_dev(self.as_raw())) }
    }

    /// Returns the bus's name, `ndbusN`.
    pub fn name(&self) -> &CStr {
        self.device().name()
    }

    /// Returns the provider name the bus was registered with.
    pub fn provider_name(&self) -> &'static CStr {
        self.desc.provider_name()
    }

    /// Creates a persistent-memory region of the bus over `desc`'s range (C's
    /// `nvdimm_pmem_region_create()`). The region is registered asynchronously: it and its
    /// namespaces appear once libnvdimm has probed them (reading the bus's `wait_probe` in
    /// sysfs waits for that). It belongs to the bus and goes with it.
    ///
    /// [`EINVAL`] for an empty or wrapping range, a NUMA node that is not online or a target
    /// node the kernel cannot have; [`ENXIO`] when libnvdimm refuses the region.
    pub fn pmem_region_create(&self, desc: &RegionDesc) -> Result {
        let range = desc.range();
        let end = range.end().ok_or(EINVAL)?;
        let numa_node = node_to_raw(desc.numa_node)?;
        // SAFETY: `node_online()` reads the online-node mask; `numa_node` is below
        // `MAX_NUMNODES`.
        if numa_node != bindings::NUMA_NO_NODE && !unsafe { bindings::node_online(numa_node) } {
            return Err(EINVAL);
        }
        // libnvdimm copies the start and size of the resource: it may live on the stack.
        let mut res = bindings::resource {
            start: range.start(),
            end,
            flags: bindings::IORESOURCE_MEM as c_ulong,
            ..pin_init::zeroed()
        };
        let mut raw = bindings::nd_region_desc {
            res: &mut res,
            numa_node,
            target_node: node_to_raw(desc.target_node)?,
            flags: if desc.pagemap {
                1 << bindings::ND_REGION_PAGEMAP
            } else {
                0
            },
            ..pin_init::zeroed()
        };
        // SAFETY: By the type invariant, the bus is registered; `raw` is a valid region
        // descriptor with no mappings, whose resource outlives the call, over a range that
        // the caller of `RegionDesc::new()` vouched for.
        let region = unsafe { bindings::nvdimm_pmem_region_create(self.as_raw(), &mut raw) };
        // The region may be gone as soon as it is created (its asynchronous registration can
        // fail and free it): it is not handed out.
        if region.is_null() {
            return Err(ENXIO);
        }
        Ok(())
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        // SAFETY: By the type invariant, the bus is registered; it is unregistered once, here.
        // `nd_bus_remove()` unregisters its regions and namespaces before this returns.
        unsafe { bindings::nvdimm_bus_unregister(self.as_raw()) };
    }
}
