// SPDX-License-Identifier: GPL-2.0

//! Smallest out-of-tree module of zone-device-rs: proves the chain from this repository's `Kbuild`
//! to a module that loads in the test VM and whose KUnit suite reaches the host's KTAP parser.
//!
//! Load it with `insmod rust_zdrs_hello.ko greeting_repeat=2`; the VM scenario
//! `tests/scenarios/module_chain.sh` checks what it prints and that it unloads cleanly.

use kernel::prelude::*;

module! {
    type: RustZdrsHello,
    name: "rust_zdrs_hello",
    authors: ["zone-device-rs developers"],
    description: "Smoke test of the zone-device-rs out-of-tree Rust module chain",
    license: "GPL",
    params: {
        greeting_repeat: u32 {
            default: 1,
            description: "How many greeting lines to print on load (1 to 8)",
        },
    },
}

/// The greetings a load prints, kept until the module unloads.
struct RustZdrsHello {
    greetings: KVec<u32>,
}

/// Largest accepted value of the `greeting_repeat` parameter.
const MAX_REPEAT: u32 = 8;

/// Returns the greeting numbers for `repeat` greetings, or `EINVAL` outside `1..=MAX_REPEAT`.
fn greetings(repeat: u32) -> Result<KVec<u32>> {
    if !(1..=MAX_REPEAT).contains(&repeat) {
        return Err(EINVAL);
    }
    let mut v = KVec::with_capacity(repeat as usize, GFP_KERNEL)?;
    for i in 1..=repeat {
        v.push(i, GFP_KERNEL)?;
    }
    Ok(v)
}

impl kernel::Module for RustZdrsHello {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let repeat = module_parameters::greeting_repeat.value();
        let greetings = greetings(repeat).inspect_err(|_| {
            pr_err!("greeting_repeat={repeat} is outside 1..={MAX_REPEAT}\n");
        })?;
        for i in greetings.iter() {
            pr_info!("hello {i}/{repeat} from an out-of-tree Rust module\n");
        }
        Ok(RustZdrsHello { greetings })
    }
}

impl Drop for RustZdrsHello {
    fn drop(&mut self) {
        pr_info!("goodbye after {} greeting(s)\n", self.greetings.len());
    }
}

#[kunit_tests(rust_zdrs_hello)]
mod tests {
    use super::*;

    #[test]
    fn greetings_counts_up_to_repeat() -> Result {
        let v = greetings(3)?;
        assert_eq!(&v[..], &[1, 2, 3]);
        Ok(())
    }

    #[test]
    fn greetings_rejects_out_of_range() {
        assert_eq!(greetings(0).err(), Some(EINVAL));
        assert_eq!(greetings(MAX_REPEAT + 1).err(), Some(EINVAL));
        assert!(greetings(MAX_REPEAT).is_ok());
    }
}
