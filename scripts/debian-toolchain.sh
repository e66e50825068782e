# shellcheck shell=bash
# Sourced by the scripts that build for platforms other than this one (cross-check.sh,
# wine-test.sh): installs Debian packages they need when missing, and points cargo at Debian's
# second Rust toolchain.
#
# Debian's rustc-web / cargo-web / rust-web-src (in /usr/bin, with the standard library's
# source) can rebuild std for any target with -Zbuild-std, which no rustup target download is
# needed for; rust-web-clippy lints with it. The callers' messages are prefixed with $TOOL.

DEBIAN_RUST_PACKAGES=(rustc-web cargo-web rust-web-src rust-web-clippy)
DEBIAN_CARGO=/usr/bin/cargo
DEBIAN_RUSTC=/usr/bin/rustc

die() {
    echo "$TOOL: $*" >&2
    exit 1
}

installed() {
    local package
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -qx 'install ok installed' ||
            return 1
    done
}

# The oldest Debian rustc that builds the workspace: its `rust-version`, which the dependencies
# set (Debian bookworm's first rustc-web, 1.85, is too old; bookworm-security carries newer).
MIN_RUST="$(sed -n 's/^rust-version *= *"\([0-9.]*\)"/\1/p' Cargo.toml | head -n 1)"

# Whether the Debian rustc is at least MIN_RUST.
recent_enough() {
    local have
    have="$("$DEBIAN_RUSTC" --version 2>/dev/null | awk '{print $2}')" || return 1
    [ -n "$have" ] && [ "$(printf '%s\n%s\n' "$MIN_RUST" "$have" | sort -V | head -n 1)" = "$MIN_RUST" ]
}

# Installs PACKAGES (apt-get, as root or through sudo) unless all are installed and `CHECK`
# (a command) succeeds. A stale package list may not know a package, or only a version that
# fails CHECK: then it is updated once and the install tried again.
#   ensure_packages CHECK PACKAGE...
ensure_packages() {
    local check=$1
    shift
    installed "$@" && "$check" && return 0
    echo "$TOOL: installing $*" >&2
    local sudo=() log="/tmp/$TOOL-apt.log"
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || die "need root or sudo to install $*"
        sudo=(sudo)
    fi
    local install=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq --no-install-recommends "$@")
    if ! "${install[@]}" >"$log" 2>&1 || ! "$check"; then
        "${sudo[@]}" apt-get update -qq >>"$log" 2>&1 || true
        "${install[@]}" >>"$log" 2>&1 || { cat "$log" >&2; die "could not install $*"; }
    fi
    "$check" || die "the packages installed, but \`$check\` fails"
}

# Installs the Debian toolchain (and EXTRA packages) when missing or older than MIN_RUST, and
# exports what makes cargo use it: -Zbuild-std needs the std source that matches rustc.
#   use_debian_toolchain [EXTRA...]
use_debian_toolchain() {
    ensure_packages recent_enough "${DEBIAN_RUST_PACKAGES[@]}" "$@"
    local sysroot_src
    sysroot_src="$("$DEBIAN_RUSTC" --print sysroot)/lib/rustlib/src/rust/library"
    [ -d "$sysroot_src" ] || die "no standard library source at $sysroot_src (rust-web-src)"
    export RUSTC="$DEBIAN_RUSTC" RUSTDOC=/usr/bin/rustdoc
    # cargo-clippy runs the cargo named here, and clippy-driver from its own directory.
    export CARGO="$DEBIAN_CARGO"
    export RUSTC_BOOTSTRAP=1
    unset RUSTC_WRAPPER
}
