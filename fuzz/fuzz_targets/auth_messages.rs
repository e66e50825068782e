//! `cargo fuzz run auth_messages`: see `crates/mpcore/tests/fuzz_harness/auth_messages.rs`.

#![no_main]

#[path = "../../crates/mpcore/tests/fuzz_harness/mod.rs"]
mod fuzz_harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_harness::auth_messages::check(data));
