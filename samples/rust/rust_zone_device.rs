// SPDX-License-Identifier: GPL-2.0

//! A platform driver that hot-adds its device's memory into `ZONE_DEVICE` on bind and removes it
//! on unbind, and lets processes map that memory.
//!
//! It binds to device memory as firmware describes it, an ACPI device with the `_HID`
//! `ZDRS0001` whose `_CRS` names the range:
//!
//! ```asl
//! Device (ZDM0) {
//!     Name (_HID, "ZDRS0001")
//!     Name (_UID, 0)
//!     Name (_CRS, ResourceTemplate () {
//!         QWordMemory (ResourceConsumer, PosDecode, MinFixed, MaxFixed, Cacheable, ReadWrite,
//!                      0, 0x180000000, 0x187ffffff, 0, 0x8000000)
//!     })
//! }
//! ```
//!
//! and, through `driver_override`, to the legacy-pmem platform device `e820_pmem` (every
//! `memmap=SIZE!ADDR` range):
//!
//! ```sh
//! echo rust_zone_device > /sys/bus/platform/devices/e820_pmem/driver_override
//! echo e820_pmem > /sys/bus/platform/drivers_probe
//! ```
//!
//! For each range it claims the range in /proc/iomem (`rust_zone_device`), hot-adds it as
//! generic device memory (with compound struct pages of the order the `vmemmap_shift` parameter
//! gives) (the node's `Device` zone in /proc/zoneinfo grows) and registers a misc
//! device `/dev/zone_deviceN` whose `mmap` maps the range's pages into the process. Those are real
//! `ZONE_DEVICE` pages: `O_DIRECT` I/O into the mapping pins them like any page. The misc device's
//! sysfs attributes (`/sys/class/misc/zone_deviceN/{range,pages,node,type,folio_order}`) show the
//! range.
//!
//! Unbinding revokes every user mapping (a later access gets `SIGBUS`), waits for pages pinned
//! by I/O to be released (logging while it waits), removes the memory and releases the range.

use core::sync::atomic::{
    AtomicU32,
    Ordering, //
};

use kernel::{
    acpi,
    bindings,
    device::Core,
    error::to_result,
    fs::File,
    miscdevice::{
        MiscDevice,
        MiscDeviceOptions,
        MiscDeviceRegistration, //
    },
    mm::{
        memremap::{
            self,
            Config,
            Pagemap,
            PhysRange, //
        },
        virt::VmaNew,
    },
    page::{
        PAGE_SHIFT,
        PAGE_SIZE, //
    },
    platform,
    prelude::*,
    str::CString,
    sync::{
        aref::ARef,
        new_mutex,
        Arc,
        Mutex, //
    }, //
};

/// The names of the misc devices, one per range; a range takes the first free one.
const MISC_NAMES: [&CStr; 8] = [
    c"zone_device0",
    c"zone_device1",
    c"zone_device2",
    c"zone_device3",
    c"zone_device4",
    c"zone_device5",
    c"zone_device6",
    c"zone_device7",
];

/// Which entries of [`MISC_NAMES`] are taken, one bit each.
static MISC_NAMES_TAKEN: AtomicU32 = AtomicU32::new(0);

/// An index into [`MISC_NAMES`], given back when dropped.
struct MiscName(usize);

impl MiscName {
    /// Takes the first free name; [`ENOSPC`] when all are taken.
    fn take() -> Result<Self> {
        let mut taken = MISC_NAMES_TAKEN.load(Ordering::Relaxed);
        loop {
            let index = taken.trailing_ones() as usize;
            if index >= MISC_NAMES.len() {
                return Err(ENOSPC);
            }
            match MISC_NAMES_TAKEN.compare_exchange(
                taken,
                taken | (1 << index),
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(Self(index)),
                Err(now) => taken = now,
            }
        }
    }

    fn name(&self) -> &'static CStr {
        MISC_NAMES[self.0]
    }
}

impl Drop for MiscName {
    fn drop(&mut self) {
        MISC_NAMES_TAKEN.fetch_and(!(1 << self.0), Ordering::AcqRel);
    }
}

/// What a range's open files share with the driver.
struct RangeState {
    /// The memory (and its claim, which the pagemap keeps); [`None`] once the device unbound.
    pagemap: Option<Pagemap>,
    /// The address spaces (`struct address_space`) of the open files, with the file they belong
    /// to, so that unbinding can zap every user mapping.
    mappings: KVec<(usize, usize)>,
}

/// What the sysfs attributes of a range show; fixed while the range is bound.
struct RangeInfo {
    pages: usize,
    node: u32,
    memory_type: &'static str,
    folio_order: u32,
}

#[pin_data]
struct RangeShared {
    range: PhysRange,
    info: RangeInfo,
    #[pin]
    state: Mutex<RangeState>,
}

/// A read-only `struct device_attribute` of `/sys/class/misc/zone_deviceN`, in a static.
#[repr(transparent)]
struct StaticAttr(bindings::device_attribute);

// SAFETY: The attributes are never written after their constant initialization; C only reads
// them.
unsafe impl Sync for StaticAttr {}

impl StaticAttr {
    const fn new(name: &'static CStr) -> Self {
        let mut attr: bindings::device_attribute = pin_init::zeroed();
        attr.attr.name = kernel::str::as_char_ptr_in_const_context(name);
        attr.attr.mode = 0o444;
        attr.__bindgen_anon_1.show = Some(attr_show);
        Self(attr)
    }
}

/// The attributes of each range, in the order [`attr_text`] knows them.
static ATTRS: [StaticAttr; 5] = [
    StaticAttr::new(c"range"),
    StaticAttr::new(c"pages"),
    StaticAttr::new(c"node"),
    StaticAttr::new(c"type"),
    StaticAttr::new(c"folio_order"),
];

/// The text of attribute `index` of [`ATTRS`] for `shared`.
fn attr_text(shared: &RangeShared, index: usize) -> Result<CString> {
    let info = &shared.info;
    let start = shared.range.start();
    let end = shared.range.end().ok_or(EINVAL)?;
    match index {
        0 => CString::try_from_fmt(fmt!("{start:#x}-{end:#x}\n")),
        1 => CString::try_from_fmt(fmt!("{}\n", info.pages)),
        2 => CString::try_from_fmt(fmt!("{}\n", info.node)),
        3 => CString::try_from_fmt(fmt!("{}\n", info.memory_type)),
        4 => CString::try_from_fmt(fmt!("{}\n", info.folio_order)),
        _ => Err(EINVAL),
    }
}

/// `show` of every attribute in [`ATTRS`].
///
/// # Safety
///
/// C calls it with `dev`, the device of a misc device this driver registered, one of [`ATTRS`]
/// as `attr` and a buffer of `PAGE_SIZE` bytes.
unsafe extern "C" fn attr_show(
    dev: *mut bindings::device,
    attr: *mut bindings::device_attribute,
    buf: *mut kernel::ffi::c_char,
) -> isize {
    // SAFETY: `misc_register()` sets the driver data of the misc device's `struct device` to its
    // `struct miscdevice`.
    let misc =
        unsafe { bindings::dev_get_drvdata(dev) }.cast::<MiscDeviceRegistration<RangeFile>>();
    // SAFETY: The misc device is one of ours and exists while `show` runs: sysfs drains every
    // `show` before the device goes.
    let shared = unsafe { shared_of(misc) };
    let Some(index) = ATTRS.iter().position(|a| core::ptr::eq(&a.0, attr)) else {
        return EINVAL.to_errno() as isize;
    };
    match attr_text(shared, index) {
        Ok(text) => {
            let bytes = text.to_bytes();
            let len = bytes.len().min(PAGE_SIZE - 1);
            // SAFETY: `buf` has room for `PAGE_SIZE` bytes and does not overlap `text`.
            unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), buf.cast::<u8>(), len) };
            len as isize
        }
        Err(e) => e.to_errno() as isize,
    }
}

impl RangeShared {
    /// Revokes the range: zaps every user mapping, waits until no page is pinned any more, then
    /// removes the memory and releases the range.
    fn revoke(&self, dev: &kernel::device::Device) {
        const LOG_EVERY: u32 = 500;
        let Some(pagemap) = self.state.lock().pagemap.take() else {
            return;
        };
        let mut rounds = 0u32;
        loop {
            // Zap again each round: a process may have been inside `mmap` (its mapping not yet
            // visible to the zap) while the range was revoked.
            // The lock is held across the zaps: it keeps the files, and so their address spaces,
            // open (their `release` takes it to leave the list).
            let state = self.state.lock();
            for &(_, mapping) in state.mappings.iter() {
                // SAFETY: `mapping` belongs to a file that is open (see above), so the address
                // space lives.
                unsafe { bindings::unmap_mapping_range(mapping as *mut _, 0, 0, 1) };
            }
            drop(state);
            let busy = pagemap.busy_pages();
            if busy == 0 {
                break;
            }
            if rounds % LOG_EVERY == 0 {
                dev_warn!(
                    dev,
                    "{}: {busy} page(s) still in use (pinned for I/O?): unbind waits for them\n",
                    self.range
                );
            }
            rounds = rounds.wrapping_add(1);
            // SAFETY: Unbinding runs in process context and may sleep.
            unsafe { bindings::msleep(20) };
        }
        drop(pagemap);
        dev_info!(dev, "{}: removed from ZONE_DEVICE, released\n", self.range);
    }
}

/// Returns the `shared` of the [`RangeDevice`] whose misc device is `misc`.
///
/// # Safety
///
/// `misc` is a registered misc device of this driver, and stays registered for `'a`.
unsafe fn shared_of<'a>(misc: *mut MiscDeviceRegistration<RangeFile>) -> &'a Arc<RangeShared> {
    // SAFETY: Every registration of `RangeFile` is the `misc` field of a `RangeDevice`, so the
    // containing object is computed within it.
    let device = unsafe { kernel::container_of!(misc, RangeDevice, misc) };
    // SAFETY: The `RangeDevice` lives while its misc device is registered (it deregisters before
    // it goes), and its `shared` is initialized before the misc device is registered (see
    // `add_range`). Only that field is read: the rest may be borrowed mutably meanwhile.
    unsafe { &*core::ptr::addr_of!((*device).shared) }
}

/// One range of a bound device: its misc device and its state.
#[pin_data(PinnedDrop)]
struct RangeDevice {
    #[pin]
    misc: MiscDeviceRegistration<RangeFile>,
    shared: Arc<RangeShared>,
    pdev: ARef<platform::Device>,
    _name: MiscName,
}

#[pinned_drop]
impl PinnedDrop for RangeDevice {
    fn drop(self: Pin<&mut Self>) {
        self.shared.revoke(self.pdev.as_ref());
    }
}

/// An open `/dev/zone_deviceN`.
struct RangeFile {
    shared: Arc<RangeShared>,
    file: usize,
}

#[vtable]
impl MiscDevice for RangeFile {
    type Ptr = KBox<Self>;

    fn open(file: &File, misc: &MiscDeviceRegistration<Self>) -> Result<KBox<Self>> {
        // SAFETY: The misc device is being opened, so it is registered.
        let shared = unsafe { shared_of(core::ptr::from_ref(misc).cast_mut()) }.clone();
        let file_key = file.as_ptr() as usize;
        // SAFETY: `file` is being opened; its `f_mapping` is set and lives while it is open.
        let mapping = unsafe { (*file.as_ptr()).f_mapping } as usize;
        shared
            .state
            .lock()
            .mappings
            .push((file_key, mapping), GFP_KERNEL)?;
        Ok(KBox::new(
            Self {
                shared,
                file: file_key,
            },
            GFP_KERNEL,
        )?)
    }

    fn release(this: KBox<Self>, _file: &File) {
        let mut state = this.shared.state.lock();
        state.mappings.retain(|&mut (file, _)| file != this.file);
    }

    fn mmap(this: &RangeFile, _file: &File, vma: &VmaNew) -> Result {
        let state = this.shared.state.lock();
        let pagemap = state.pagemap.as_ref().ok_or(ENODEV)?;
        // SAFETY: The vma is being set up by this `mmap` call; its page offset is set.
        let pgoff = unsafe { (*vma.as_ptr()).vm_pgoff };
        let pages = (vma.end() - vma.start()) >> PAGE_SHIFT;
        let range = this.shared.range;
        if pgoff
            .checked_add(pages)
            .is_none_or(|end| end > range.nr_pages())
        {
            return Err(EINVAL);
        }
        vma.set_dontcopy();
        vma.set_dontexpand();
        let vma = vma.set_mixedmap();
        for i in 0..pages {
            let page = pagemap.page(range.start_pfn() + pgoff + i).ok_or(EINVAL)?;
            vma.vm_insert_page(vma.start() + i * PAGE_SIZE, &page)?;
        }
        Ok(())
    }
}

/// The driver's data of a bound device: its ranges.
struct ZoneDeviceDriver {
    _ranges: KVec<Pin<KBox<RangeDevice>>>,
}

kernel::acpi_device_table!(
    ACPI_TABLE,
    <ZoneDeviceDriver as platform::Driver>::IdInfo,
    [(acpi::DeviceId::new(c"ZDRS0001"), ())]
);

impl ZoneDeviceDriver {
    /// The ranges of `pdev`: its memory resources, or for `e820_pmem` the legacy-pmem ranges.
    fn ranges_of(pdev: &platform::Device<Core<'_>>, acpi: bool) -> Result<KVec<PhysRange>> {
        let dev = pdev.as_ref();
        let mut ranges = KVec::new();
        let mut index = 0;
        while let Some(res) = pdev.resource_by_index(index) {
            if res
                .flags()
                .contains(kernel::io::resource::Flags::IORESOURCE_MEM)
            {
                ranges.push(PhysRange::new(res.start(), res.size()), GFP_KERNEL)?;
            }
            index += 1;
        }
        if !acpi {
            // Bound through `driver_override` to `e820_pmem`, which has no resources of its own:
            // walk the legacy-pmem ranges, as nd_e820 does.
            ranges = memremap::legacy_pmem_ranges()?;
        }
        if ranges.is_empty() {
            dev_err!(dev, "no memory range to hot-add\n");
            return Err(ENODEV);
        }
        Ok(ranges)
    }

    /// Claims `range`, hot-adds it and registers its misc device.
    fn add_range(
        pdev: &platform::Device<Core<'_>>,
        range: PhysRange,
    ) -> Result<Pin<KBox<RangeDevice>>> {
        let dev = pdev.as_ref();
        let region =
            memremap::request_mem_region(range, CString::try_from_fmt(fmt!("rust_zone_device"))?)
                .inspect_err(|_| {
                dev_err!(dev, "{range}: cannot claim it, in use (see /proc/iomem)\n");
            })?;
        let shift = module_parameters::vmemmap_shift.value();
        let config = Config::generic().region(region)?.vmemmap_shift(shift);
        let pagemap = Pagemap::for_device(dev, config)?;
        let name = MiscName::take().inspect_err(|_| {
            dev_err!(dev, "{range}: no free misc device name\n");
        })?;
        dev_info!(
            dev,
            "{range}: {} pages (order-{} folios) of {} memory in ZONE_DEVICE of node {}, /dev/{}\n",
            pagemap.nr_pages(),
            pagemap.vmemmap_shift(),
            pagemap.memory_type().name(),
            pagemap.node(),
            name.name().to_str().unwrap_or("?")
        );
        let info = RangeInfo {
            pages: pagemap.nr_pages(),
            node: pagemap.node(),
            memory_type: pagemap.memory_type().name(),
            folio_order: pagemap.vmemmap_shift(),
        };
        let shared = Arc::pin_init(
            pin_init!(RangeShared {
                range,
                info,
                state <- new_mutex!(RangeState {
                    pagemap: Some(pagemap),
                    mappings: KVec::new(),
                }),
            }),
            GFP_KERNEL,
        )?;
        let options = MiscDeviceOptions { name: name.name() };
        let device = KBox::pin_init(
            // The misc device last: once registered, it can be opened, which reads `shared`.
            try_pin_init!(RangeDevice {
                shared,
                pdev: pdev.into(),
                _name: name,
                misc <- MiscDeviceRegistration::register(options),
            }),
            GFP_KERNEL,
        )?;
        // SAFETY: The misc device is registered, so its `this_device` is set.
        let this_device = unsafe { (*device.misc.as_raw()).this_device };
        for attr in ATTRS.iter() {
            // SAFETY: `this_device` is live; the attribute is a static whose `show` reads only the
            // `RangeDevice` around the misc device. Its file goes with the device.
            to_result(unsafe { bindings::device_create_file(this_device, &attr.0) })?;
        }
        Ok(device)
    }
}

impl platform::Driver for ZoneDeviceDriver {
    type IdInfo = ();
    type Data<'bound> = Self;
    const ACPI_ID_TABLE: Option<acpi::IdTable<Self::IdInfo>> = Some(&ACPI_TABLE);

    fn probe<'bound>(
        pdev: &'bound platform::Device<Core<'_>>,
        info: Option<&'bound Self::IdInfo>,
    ) -> impl PinInit<Self, Error> + 'bound {
        let mut ranges = KVec::new();
        for range in Self::ranges_of(pdev, info.is_some())? {
            // On an error, the ranges added so far are removed as `ranges` drops.
            ranges.push(Self::add_range(pdev, range)?, GFP_KERNEL)?;
        }
        Ok(Self { _ranges: ranges })
    }
}

kernel::module_platform_driver! {
    type: ZoneDeviceDriver,
    name: "rust_zone_device",
    authors: ["zone-device-rs developers"],
    description: "Hot-adds device memory into ZONE_DEVICE on bind, removes it on unbind",
    license: "GPL",
    params: {
        vmemmap_shift: u32 {
            default: 0,
            description: "Order of the compound struct pages of each range (0: base pages, 9: 2 MiB)",
        },
    },
}
