//! `cargo fuzz run frame_header`: see `crates/mpcore/tests/fuzz_harness/frame_header.rs`.

#![no_main]

#[path = "../../crates/mpcore/tests/fuzz_harness/mod.rs"]
mod fuzz_harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_harness::frame_header::check(data));
