#!/usr/bin/env bash
# Lints both crates, mpcore and the _multiprocessing binding, for the platforms this machine
# does not build for: Windows (x86_64-pc-windows-msvc) and macOS (x86_64-apple-darwin,
# aarch64-apple-darwin). `cargo clippy -D warnings`, as `make lint` runs it for Linux, so a
# Windows- or macOS-only line that does not type-check, or that clippy flags (an unsafe block
# without its SAFETY comment, say), fails here. Nothing is linked, so no Windows or macOS SDK
# is needed; PyO3 is told the Python version it would link against (abi3, 3.10). Windows code
# is also built and run under Wine (scripts/wine-test.sh); macOS code is only linted.
#
# How: Debian's second Rust toolchain and its clippy (scripts/debian-toolchain.sh, installed
# when missing), which rebuild std for each target with -Zbuild-std.
#
# Usage: scripts/cross-check.sh [TARGET...]    (default: the three targets above)
# Runtime: about 4 minutes for the three targets on a fresh target dir on a 2-core machine
# (std is rebuilt once per target and cached in target/cross), a second or two when nothing
# changed; plus about 20 s the first time, to install the Debian packages.
set -euo pipefail

cd "$(dirname "$0")/.."
TOOL=cross-check
# shellcheck source=scripts/debian-toolchain.sh
. scripts/debian-toolchain.sh

TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
    TARGETS=(x86_64-pc-windows-msvc x86_64-apple-darwin aarch64-apple-darwin)
fi

# shellcheck disable=SC2119 # no extra packages
use_debian_toolchain
export PYO3_CROSS_PYTHON_VERSION=3.10
export CARGO_TARGET_DIR="$PWD/target/cross"

echo "cross-check: $("$DEBIAN_RUSTC" --version), $(/usr/bin/cargo-clippy --version)" >&2
failed=()
for target in "${TARGETS[@]}"; do
    start=$SECONDS
    # --all-targets: mpcore's tests must be valid code there too (the binding has none).
    # -D warnings reaches our crates only: std and registry crates are built with lints capped.
    if /usr/bin/cargo-clippy clippy --quiet -Zbuild-std=std,panic_abort,test \
        --target "$target" -p mpcore -p mpcore-python --all-targets -- -D warnings; then
        echo "cross-check: $target ok ($((SECONDS - start)) s)"
    else
        echo "cross-check: $target FAILED" >&2
        failed+=("$target")
    fi
done

if [ ${#failed[@]} -ne 0 ]; then
    die "clippy failed for: ${failed[*]}"
fi
echo "cross-check: ${#TARGETS[@]} targets lint clean (mpcore, mpcore-python)"
