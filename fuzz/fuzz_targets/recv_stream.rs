//! `cargo fuzz run recv_stream`: see `crates/mpcore/tests/fuzz_harness/recv_stream.rs`.

#![no_main]

#[path = "../../crates/mpcore/tests/fuzz_harness/mod.rs"]
mod fuzz_harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_harness::recv_stream::check(data));
