#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for FUZZ_SECONDS seconds each (default 30), or only
# the targets named as arguments, and prints what each did: executions, seconds, corpus size.
#
# Usage: scripts/fuzz.sh [TARGET...]        (what `make fuzz` runs)
# Needs rustup's nightly toolchain and cargo-fuzz; installs either when missing. Each target
# starts from its corpus (fuzz/corpus/TARGET, kept between runs, not committed) and from the
# inputs kept as regression tests (crates/mpcore/tests/fuzz_regressions/TARGET). A crash stops
# the run: its input is in fuzz/artifacts/TARGET; copy it to the regression directory (so
# `cargo test` replays it) and fix the cause.
set -euo pipefail

cd "$(dirname "$0")/../fuzz"
seconds="${FUZZ_SECONDS:-30}"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(frame_header recv_stream handshake auth_messages)

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked

summary=()
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    log="$(mktemp)"
    if ! cargo +nightly fuzz run "$target" "corpus/$target" "../crates/mpcore/tests/fuzz_regressions/$target" \
        -- -max_total_time="$seconds" -print_final_stats=1 2>&1 | tee "$log" | grep -E '^(#[0-9]+.*(INITED|DONE)|Done )'; then
        grep -v '^#' "$log" | tail -40 >&2
        echo "fuzz: $target found a crash; its input is in fuzz/artifacts/$target/" >&2
        rm -f "$log"
        exit 1
    fi
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")"
    corpus="$(find "corpus/$target" -type f | wc -l)"
    summary+=("$(printf '| %-14s | %12s | %7s | %6s |' "$target" "$runs" "$seconds" "$corpus")")
    rm -f "$log"
done
printf '| %-14s | %12s | %7s | %6s |\n' target executions seconds corpus
printf '|%s|%s|%s|%s|\n' "----------------" "--------------" "---------" "--------"
printf '%s\n' "${summary[@]}"
