# zone-device-rs: two commands, see README.md.
#   make run    build what is needed, boot the test VM and show the demo
#   make test   every test; ends with 'N passed, N failed, N skipped'
#   make soak   every scenario booted ROUNDS times, loops at CYCLES (before resolving an issue)
#   make bench  the bench kernel (no debug checkers): Rust/C time ratios measured in one boot
SHELL := /bin/bash
FLAVOR ?= test

ROUNDS ?= 5
CYCLES ?= 100

.PHONY: run test soak bench deps kernel modules initramfs vm clean distclean help

run: initramfs
	tests/vm/run --flavor $(FLAVOR) tests/scenarios/nd_e820_demo.sh

test: deps
	tests/run-all

soak: initramfs
	tests/soak $(ROUNDS) $(CYCLES)

bench: deps
	scripts/bench

deps:
	@scripts/deps

kernel: deps
	scripts/build-kernel $(FLAVOR)

modules: kernel
	scripts/build-modules $(FLAVOR)

initramfs: modules
	@tests/vm/mkinitramfs $(FLAVOR)

# One scenario: make vm SCRIPT=tests/scenarios/kunit.sh
vm: initramfs
	tests/vm/run --flavor $(FLAVOR) $(SCRIPT)

clean:
	rm -rf build

# Also the cached kernel tree, builds and downloads (outside the clone).
distclean: clean
	source scripts/lib.sh && rm -rf "$$ZDRS_CACHE"

help:
	@sed -n 's/^#   //p' Makefile
