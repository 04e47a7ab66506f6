# Shared settings of the scripts in this directory; sourced, never run.
# shellcheck shell=bash

ZDRS_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ZDRS_CACHE=${ZDRS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/zone-device-rs}
ZDRS_LOGS=$ZDRS_TOP/build/logs

# pin_get KEY: a value from kernel/source.pin.
pin_get() {
  sed -n "s/^$1=//p" "$ZDRS_TOP/kernel/source.pin"
}

die() {
  echo "error: $*" >&2
  exit 1
}

# step MESSAGE: one progress line, so long steps never leave a silent terminal. It goes to
# standard error, which callers do not capture: standard output carries results (paths).
step() {
  printf '==> %s\n' "$*" >&2
}

# Top-level directories of this repository that mirror kernel paths: their files land at the same
# path in the kernel tree.
ZDRS_OVERLAY_DIRS=(Documentation include mm rust samples)

# kernel_key: names the pristine kernel source (the pinned package, or the tree in KERNEL_SRC).
kernel_key() {
  if [[ -n ${KERNEL_SRC:-} ]]; then
    echo "custom-$(realpath "$KERNEL_SRC" | sha256sum | cut -c1-12)"
  else
    echo "$(pin_get package)_$(pin_get version)" | tr '~:' '__'
  fi
}

# The prepared source tree (pristine + overlay + patches) and its git directory, kept outside the
# tree so that the kernel's setlocalversion does not see a repository.
ZDRS_SRC=$ZDRS_CACHE/src/$(kernel_key)
ZDRS_SRC_GIT=$ZDRS_SRC.git

src_git() {
  git --git-dir="$ZDRS_SRC_GIT" --work-tree="$ZDRS_SRC" -c core.autocrlf=false -c gc.auto=0 "$@"
}

# find_cargo: the cargo to use: the one on PATH, else rustup's in CARGO_HOME, else Debian's
# (/usr/bin/cargo, package cargo-web, which scripts/deps installs when there is no other).
find_cargo() {
  local cargo
  cargo=$(command -v cargo || true)
  [[ -n $cargo ]] || cargo=${CARGO_HOME:-$HOME/.cargo}/bin/cargo
  [[ -x $cargo ]] || cargo=/usr/bin/cargo
  echo "$cargo"
}

# The toolchain the kernel is built with (see scripts/deps). Clippy runs in every build (CLIPPY=1)
# so that its lints are checked without a second build; CONFIG_WERROR makes them errors.
ZDRS_KMAKE=(make LLVM=-19 RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc RUSTFMT=/usr/bin/rustfmt
  CLIPPY=1 CLIPPY_DRIVER=/usr/bin/clippy-driver
  BINDGEN="${CARGO_HOME:-$HOME/.cargo}/bin/bindgen" "-j$(nproc)")

# check_flavor FLAVOR: dies unless FLAVOR is a kernel flavor: test (the debug kernel with KUnit)
# or bench (no checkers).
check_flavor() {
  [[ $1 == test || $1 == bench ]] || die "unknown kernel flavor '$1' (test or bench)"
}

# build_dir FLAVOR: the kernel's output directory for a flavor.
build_dir() {
  check_flavor "$1"
  echo "$ZDRS_CACHE/build/$(kernel_key)-$1"
}

# modules_dir FLAVOR: where our out-of-tree modules are built for a flavor (make MO=).
modules_dir() {
  check_flavor "$1"
  echo "$ZDRS_CACHE/modules/$(kernel_key)-$1"
}

# base_cpio FLAVOR: the test VM's base initramfs for a flavor (tests/vm/mkinitramfs).
base_cpio() {
  check_flavor "$1"
  echo "$ZDRS_CACHE/vm/base-$(kernel_key)-$1.cpio"
}

# config_fragments FLAVOR: the Kconfig fragments of a flavor, in merge order.
config_fragments() {
  case $1 in
    test) echo "$ZDRS_TOP/kernel/config/base.config $ZDRS_TOP/kernel/config/debug.config" ;;
    bench) echo "$ZDRS_TOP/kernel/config/base.config $ZDRS_TOP/kernel/config/bench.config" ;;
    *) check_flavor "$1" ;;
  esac
}
