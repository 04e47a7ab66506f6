# Shared by the VM harness scripts; sourced, never run.
# shellcheck shell=bash
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib.sh"

ZDRS_VM=$ZDRS_TOP/tests/vm

# copy_exe ROOT HOST_PATH [GUEST_PATH]: copies an executable into the guest root with the shared
# libraries ldd lists for it (at their host paths), so that it runs in the guest.
copy_exe() {
  local root=$1 exe=$2 dest=${3:-$2} lib
  install -D -m 0755 "$exe" "$root/$dest"
  # ldd fails for a static executable: it then needs nothing more.
  if ldd "$exe" >/dev/null 2>&1; then
    ldd "$exe" | grep -o '/[^ ]*' | while read -r lib; do
      [[ -e $root$lib ]] || install -D -m 0755 "$(realpath "$lib")" "$root$lib"
    done
  fi
}

# mkcpio DIR: writes DIR as a newc cpio archive (owned by root) to standard output.
mkcpio() {
  (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0)
}
