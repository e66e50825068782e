#!/usr/bin/env bash
# Type-checks both crates, mpcore and the _multiprocessing binding, for the platforms we cannot
# run here: Windows (x86_64-pc-windows-msvc) and macOS (x86_64-apple-darwin,
# aarch64-apple-darwin). Linux is built and run-tested by `make test`; these targets are
# compile-checked only, so a Windows- or macOS-only line that does not type-check fails here.
#
# How: Debian's rustc-web / cargo-web / rust-web-src (a second Rust toolchain in /usr/bin,
# with the standard library's source) can rebuild std for any target with -Zbuild-std, which
# `cargo check` needs and which no rustup target download is required for. Installed when
# missing. Nothing is linked, so no Windows or macOS SDK is needed; PyO3 is told the Python
# version it would link against (abi3, 3.10).
#
# Usage: scripts/cross-check.sh [TARGET...]    (default: the three targets above)
# Runtime: about 80 s for the three targets on a fresh target dir (std is rebuilt once per
# target and cached in target/cross), under a second when nothing changed; plus about 20 s
# the first time, to install the Debian packages.
set -euo pipefail

cd "$(dirname "$0")/.."

TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
    TARGETS=(x86_64-pc-windows-msvc x86_64-apple-darwin aarch64-apple-darwin)
fi
PACKAGES=(rustc-web cargo-web rust-web-src)
CARGO=/usr/bin/cargo
RUSTC=/usr/bin/rustc

die() {
    echo "cross-check: $*" >&2
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
    have="$("$RUSTC" --version 2>/dev/null | awk '{print $2}')" || return 1
    [ -n "$have" ] && [ "$(printf '%s\n%s\n' "$MIN_RUST" "$have" | sort -V | head -n 1)" = "$MIN_RUST" ]
}

if ! installed "${PACKAGES[@]}" || [ ! -x "$CARGO" ] || ! recent_enough; then
    echo "cross-check: installing ${PACKAGES[*]} (rustc >= $MIN_RUST)" >&2
    SUDO=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null || die "need root or sudo to install ${PACKAGES[*]}"
        SUDO=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    install=("${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}")
    # A stale package list may not know the packages, or only a version that is too old:
    # then update it once and install again.
    if ! "${install[@]}" >/tmp/cross-check-apt.log 2>&1 || ! recent_enough; then
        "${SUDO[@]}" apt-get update -qq >>/tmp/cross-check-apt.log 2>&1 || true
        "${install[@]}" >>/tmp/cross-check-apt.log 2>&1 ||
            { cat /tmp/cross-check-apt.log >&2; die "could not install ${PACKAGES[*]}"; }
    fi
    recent_enough || die "Debian's rustc-web is $("$RUSTC" --version), older than $MIN_RUST"
fi

SYSROOT_SRC="$("$RUSTC" --print sysroot)/lib/rustlib/src/rust/library"
[ -d "$SYSROOT_SRC" ] || die "no standard library source at $SYSROOT_SRC (rust-web-src)"

# The Debian toolchain, not rustup's: -Zbuild-std needs the std source that matches rustc.
export RUSTC RUSTDOC=/usr/bin/rustdoc
export RUSTC_BOOTSTRAP=1
export PYO3_CROSS_PYTHON_VERSION=3.10
# Warnings in our crates fail the check, as clippy's -D warnings does on Linux (the standard
# library and registry crates are built with their lints capped, so this only reaches ours).
export CARGO_TARGET_DIR="$PWD/target/cross"
unset RUSTC_WRAPPER

echo "cross-check: $("$RUSTC" --version)" >&2
failed=()
for target in "${TARGETS[@]}"; do
    start=$SECONDS
    # --all-targets: mpcore's unit tests must be valid code there too (the binding has none).
    if RUSTFLAGS="-D warnings" "$CARGO" check --quiet -Zbuild-std=std,panic_abort,test \
        --target "$target" -p mpcore -p mpcore-python --all-targets; then
        echo "cross-check: $target ok ($((SECONDS - start)) s)"
    else
        echo "cross-check: $target FAILED" >&2
        failed+=("$target")
    fi
done

if [ ${#failed[@]} -ne 0 ]; then
    die "type-check failed for: ${failed[*]}"
fi
echo "cross-check: ${#TARGETS[@]} targets type-check (mpcore, mpcore-python)"
