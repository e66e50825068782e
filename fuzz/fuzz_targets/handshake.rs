//! `cargo fuzz run handshake`: see `crates/mpcore/tests/fuzz_harness/handshake.rs`.

#![no_main]

#[path = "../../crates/mpcore/tests/fuzz_harness/mod.rs"]
mod fuzz_harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_harness::handshake::check(data));
