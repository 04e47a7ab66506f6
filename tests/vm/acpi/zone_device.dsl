/*
 * Device memory for samples/rust/rust_zone_device.rs, described the way firmware does: ACPI
 * devices with the _HID ZDRS0001 whose _CRS names the range. The scenarios keep the ranges from
 * the kernel with memmap=512M$6G in a 6 GiB guest (RAM at 4-7 GiB; legacy pmem at 5-6 GiB).
 *
 * ZDM0, ZDM1: two good 128 MiB ranges, two instances of the driver.
 * ZDM2: 1 MiB, not aligned to what memremap_pages() needs (2 MiB): probe fails with EINVAL.
 * ZDM3: inside System RAM (6.5-7 GiB): the claim fails with EBUSY.
 * ZDM4: an empty range: no memory range, probe fails with ENODEV.
 */
DefinitionBlock ("", "SSDT", 2, "ZDRS", "ZONEDEV", 0x00000001)
{
    Scope (\_SB)
    {
        Device (ZDM0)
        {
            Name (_HID, "ZDRS0001")
            Name (_UID, 0)
            Name (_STA, 0x0F)
            Name (_CRS, ResourceTemplate ()
            {
                QWordMemory (ResourceConsumer, PosDecode, MinFixed, MaxFixed, Cacheable, ReadWrite,
                    0x0, 0x180000000, 0x187FFFFFF, 0x0, 0x8000000)
            })
        }

        Device (ZDM1)
        {
            Name (_HID, "ZDRS0001")
            Name (_UID, 1)
            Name (_STA, 0x0F)
            Name (_CRS, ResourceTemplate ()
            {
                QWordMemory (ResourceConsumer, PosDecode, MinFixed, MaxFixed, Cacheable, ReadWrite,
                    0x0, 0x188000000, 0x18FFFFFFF, 0x0, 0x8000000)
            })
        }

        Device (ZDM2)
        {
            Name (_HID, "ZDRS0001")
            Name (_UID, 2)
            Name (_STA, 0x0F)
            Name (_CRS, ResourceTemplate ()
            {
                QWordMemory (ResourceConsumer, PosDecode, MinFixed, MaxFixed, Cacheable, ReadWrite,
                    0x0, 0x190100000, 0x1901FFFFF, 0x0, 0x100000)
            })
        }

        Device (ZDM3)
        {
            Name (_HID, "ZDRS0001")
            Name (_UID, 3)
            Name (_STA, 0x0F)
            Name (_CRS, ResourceTemplate ()
            {
                QWordMemory (ResourceConsumer, PosDecode, MinFixed, MaxFixed, Cacheable, ReadWrite,
                    0x0, 0x1A0000000, 0x1A7FFFFFF, 0x0, 0x8000000)
            })
        }

        Device (ZDM4)
        {
            Name (_HID, "ZDRS0001")
            Name (_UID, 4)
            Name (_STA, 0x0F)
        }
    }
}
