#!/usr/bin/env bash
# Runs mpcore's Windows build: builds every mpcore test binary for x86_64-pc-windows-gnu and
# runs each under Wine, failing on any failure; then links the _multiprocessing extension for
# Windows and, when maturin is there, packs it into a Windows wheel. The extension cannot be
# imported here (there is no Windows CPython): it is linked, not run.
#
# What it needs, installed when missing: Debian's wine64 (Wine 8), the mingw-w64 C compiler
# and binutils (the linker, and dlltool for PyO3's raw-dylib imports of python3.dll), and
# Debian's second Rust toolchain, which rebuilds std for the target (scripts/debian-toolchain.sh).
#
# Wine 8 has no bcryptprimitives.dll, whose ProcessPrng Rust's std imports: every Rust binary
# fails to load (status c0000135) without it. scripts/wine/bcryptprimitives.c is a stand-in,
# built here with mingw into the Wine prefix's system32.
#
# Everything lives under target/wine: cargo's output, the DLL, the Wine prefix (prefix/, made
# once with wineboot) and the wheel (wheels/). The prefix is this checkout's own, and its
# wineserver is stopped on exit, so no Wine process outlives the run.
#
# Usage: scripts/wine-test.sh [-- TEST-ARGS...]   (TEST-ARGS go to every test binary)
# Environment: MATURIN=path/to/maturin builds the wheel (default .venv/bin/maturin, if there).
# Runtime on a 2-core machine: about 6 minutes cold (packages installed: about a minute more),
# 10 to 15 s when nothing changed (most of it the tests themselves, under Wine).
set -euo pipefail

cd "$(dirname "$0")/.."
TOOL=wine-test
# shellcheck source=scripts/debian-toolchain.sh
. scripts/debian-toolchain.sh

TEST_ARGS=()
if [ "${1:-}" = "--" ]; then
    shift
    TEST_ARGS=("$@")
fi

TARGET=x86_64-pc-windows-gnu
OUT="$PWD/target/wine"
WINE=/usr/lib/wine/wine64
WINESERVER=/usr/lib/wine/wineserver64
MINGW_GCC=x86_64-w64-mingw32-gcc
MATURIN="${MATURIN:-$PWD/.venv/bin/maturin}"

use_debian_toolchain wine64 gcc-mingw-w64-x86-64-win32 binutils-mingw-w64-x86-64
[ -x "$WINE" ] || die "no $WINE (Debian's wine64)"

export CARGO_TARGET_DIR="$OUT"
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER="$MINGW_GCC"
# Each test binary bounds its own waits and takes seconds; the timeout is for a binary (or Wine)
# that hangs all the same: it fails that binary, and the others still run.
export CARGO_TARGET_X86_64_PC_WINDOWS_GNU_RUNNER="timeout --kill-after=10 120 $WINE"
# Line tables keep panic backtraces readable at a fraction of full debug info's size.
export CARGO_PROFILE_DEV_DEBUG=line-tables-only
# For the extension: the abi3 floor it links against (python3.dll, by raw-dylib).
export PYO3_CROSS_PYTHON_VERSION=3.10
export WINEPREFIX="$OUT/prefix" WINEARCH=win64 WINEDEBUG=-all
# -Zbuild-std for every cargo run here, maturin's included: std rebuilt for the target.
export CARGO_UNSTABLE_BUILD_STD=std,panic_abort
mkdir -p "$OUT"

# No Wine process of this prefix outlives the run (wineserver lingers a few seconds
# otherwise, and would keep the prefix's helper processes with it).
stop_wine() {
    if [ -d "$WINEPREFIX" ]; then
        "$WINESERVER" -k 2>/dev/null || true
    fi
}
trap stop_wine EXIT

# The prefix, once: wineboot makes its registry and system32. A prefix whose making was cut
# short has no stamp and is made again.
if [ ! -f "$WINEPREFIX/.made-by-wine-test" ]; then
    start=$SECONDS
    rm -rf "$WINEPREFIX"
    "$WINE" wineboot --init >"$OUT/wineboot.log" 2>&1 ||
        { cat "$OUT/wineboot.log" >&2; die "wineboot failed"; }
    "$WINESERVER" -w
    touch "$WINEPREFIX/.made-by-wine-test"
    echo "wine-test: made the Wine prefix ($((SECONDS - start)) s)"
fi

# ProcessPrng's stand-in, rebuilt when its source changes, in the prefix's system32.
DLL="$OUT/bcryptprimitives.dll"
if [ ! -f "$DLL" ] || [ scripts/wine/bcryptprimitives.c -nt "$DLL" ]; then
    "$MINGW_GCC" -O2 -Wall -Werror -shared -s -o "$DLL" scripts/wine/bcryptprimitives.c -ladvapi32
fi
SYSTEM32="$WINEPREFIX/drive_c/windows/system32"
cmp -s "$DLL" "$SYSTEM32/bcryptprimitives.dll" || cp "$DLL" "$SYSTEM32/bcryptprimitives.dll"

echo "wine-test: $("$DEBIAN_RUSTC" --version), $("$WINE" --version)" >&2

# mpcore's tests: --tests takes the unit and integration tests and leaves the doctests out (they
# open semaphores by name, which Windows does not do).
start=$SECONDS
"$DEBIAN_CARGO" test --quiet --no-run --target "$TARGET" -p mpcore --tests
echo "wine-test: built mpcore's tests for $TARGET ($((SECONDS - start)) s)"
start=$SECONDS
if ! "$DEBIAN_CARGO" test --quiet --target "$TARGET" -p mpcore --tests \
        --no-fail-fast -- "${TEST_ARGS[@]}"; then
    die "mpcore's tests failed under Wine"
fi
echo "wine-test: mpcore's tests pass under Wine ($((SECONDS - start)) s)"

# The extension, linked: a wheel when maturin is there, else the DLL alone.
start=$SECONDS
if [ -x "$MATURIN" ]; then
    rm -rf "$OUT/wheels"
    "$MATURIN" build --quiet --profile dev --target "$TARGET" --out "$OUT/wheels" >"$OUT/maturin.log" 2>&1 ||
        { cat "$OUT/maturin.log" >&2; die "maturin could not build the Windows wheel"; }
    wheel="$(ls "$OUT"/wheels/*.whl)"
    python3 -m zipfile -e "$wheel" "$OUT/wheels/unpacked"
    module="$OUT/wheels/unpacked/multiprocessing_rs/_native.pyd"
else
    "$DEBIAN_CARGO" build --quiet --target "$TARGET" -p mpcore-python
    module="$OUT/$TARGET/debug/mpcore_python.dll"
    wheel="no wheel: no maturin at $MATURIN"
fi
# A Windows DLL that imports the stable ABI's python3.dll and exports the module's init.
exports="$(x86_64-w64-mingw32-objdump -p "$module")"
grep -q 'DLL Name: python3.dll' <<<"$exports" || die "$module does not import python3.dll"
grep -qw 'PyInit__native' <<<"$exports" || die "$module does not export PyInit__native"
echo "wine-test: linked the extension for $TARGET, not importable here ($((SECONDS - start)) s): ${wheel#"$PWD/"}"
