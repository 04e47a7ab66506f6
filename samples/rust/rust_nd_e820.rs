// SPDX-License-Identifier: GPL-2.0

//! Rust port of `nd_e820` (`drivers/nvdimm/e820.c`): the libnvdimm provider of legacy
//! persistent memory.
//!
//! On x86, every `memmap=SIZE!ADDR` range on the kernel command line is legacy pmem (e820 type
//! 12, `IORES_DESC_PERSISTENT_MEMORY_LEGACY` in /proc/iomem), and the platform device
//! `e820_pmem` stands for all of them. Bound to that device, this driver registers an nvdimm
//! bus of the provider `e820` and one pmem region per range, exactly as the C driver does, so
//! `ndctl` and `daxctl` drive it unchanged: creating an fsdax or devdax namespace on a region
//! hot-adds its range into `ZONE_DEVICE`, disabling it removes the range.
//!
//! The C driver binds by name; this one is selected with `driver_override` (with `nd_e820`, a
//! module, not loaded or unbound first):
//!
//! ```sh
//! echo rust_nd_e820 > /sys/bus/platform/devices/e820_pmem/driver_override
//! echo e820_pmem > /sys/bus/platform/drivers_probe
//! ```
//!
//! Unbinding (`echo e820_pmem > /sys/bus/platform/drivers/rust_nd_e820/unbind`) unregisters the
//! bus: libnvdimm disables every namespace and region of it before the unbind returns.

use kernel::{
    device::{
        Bound,
        Core,
        Device, //
    },
    devres::Devres,
    module::this_module,
    nvdimm::{
        self,
        Bus,
        BusDescriptor,
        PhysRange,
        RegionDesc, //
    },
    platform,
    prelude::*, //
};

/// The provider of the bus: tools look it up by its name (`ndctl list --bus=e820`), and
/// libnvdimm pins this module while a region of it is enabled.
static ND_DESC: BusDescriptor = BusDescriptor::new(c"e820", this_module::<LocalModule>());

/// The driver's data of the bound `e820_pmem`: its bus, unregistered on unbind.
struct NdE820 {
    _bus: Devres<Bus>,
}

/// Creates the pmem region of the legacy-pmem range `range` on `bus`, on the node firmware
/// assigns to the range (as C's `e820_register_one()`).
fn e820_register_one(bus: &Bus, range: PhysRange) -> Result {
    let nid = nvdimm::phys_to_target_node(range.start());
    // SAFETY: Firmware describes `range` as persistent memory for libnvdimm alone (a legacy-pmem
    // range of `legacy_pmem_ranges()`); nothing else claims it.
    let desc = unsafe { RegionDesc::new(range) }
        .numa_node(nvdimm::numa_map_to_online_node(nid))
        .target_node(nid)
        .pagemap();
    bus.pmem_region_create(&desc)
}

/// Registers the bus of `dev` and a region per legacy-pmem range (as C's `e820_pmem_probe()`);
/// on an error the bus is unregistered with the regions created so far.
fn e820_pmem_probe(dev: &Device<Bound>) -> Result<Devres<Bus>> {
    let register = || {
        let bus = Bus::register(dev, &ND_DESC)?;
        let ranges = nvdimm::legacy_pmem_ranges()?;
        // C's walk of the ranges fails with `EINVAL` when it finds none.
        if ranges.is_empty() {
            return Err(EINVAL);
        }
        let registered = bus.access(dev)?;
        for &range in ranges.iter() {
            e820_register_one(registered, range)?;
        }
        Ok(bus)
    };
    register().inspect_err(|_| {
        dev_err!(dev, "failed to register legacy persistent memory ranges\n");
    })
}

impl platform::Driver for NdE820 {
    type IdInfo = ();
    type Data<'bound> = Self;

    fn probe<'bound>(
        pdev: &'bound platform::Device<Core<'_>>,
        _info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self, Error> + 'bound {
        Ok(Self {
            _bus: e820_pmem_probe(pdev.as_ref())?,
        })
    }
}

kernel::module_platform_driver! {
    type: NdE820,
    name: "rust_nd_e820",
    authors: ["zone-device-rs developers"],
    description: "NVDIMM support for e820 type-12 memory (Rust port of nd_e820)",
    license: "GPL",
}
