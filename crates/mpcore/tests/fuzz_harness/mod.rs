//! The checks behind the `cargo fuzz` targets (`fuzz/`), shared with the stable test suite.
//!
//! Each `check` takes the fuzzer's raw bytes, builds a scenario from them, runs `mpcore` on it
//! and asserts what must hold against a plain reference model; a panic is a finding. The fuzz
//! crate includes this directory by path (it builds only on nightly and outside the
//! workspace), and `tests/fuzz_regressions.rs` replays every input kept in
//! `tests/fuzz_regressions/` through the same checks with `cargo test`.

#![allow(dead_code)] // each fuzz target uses one check

pub mod auth_messages;
pub mod frame_header;
pub mod handshake;
pub mod recv_stream;
pub mod reference;

/// Reads a scenario off the fuzzer's bytes, front to back; past the end, every read gives
/// zeros or nothing, so any input is a valid scenario.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Input { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn byte(&mut self) -> u8 {
        self.bytes(1).first().copied().unwrap_or(0)
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }

    pub fn u64(&mut self) -> u64 {
        let mut value = 0u64;
        for _ in 0..8 {
            value = value << 8 | u64::from(self.byte());
        }
        value
    }

    /// Up to `n` bytes.
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (taken, rest) = self.data.split_at(n.min(self.data.len()));
        self.data = rest;
        taken
    }

    /// A length byte, then up to that many bytes.
    pub fn chunk(&mut self) -> &'a [u8] {
        let n = usize::from(self.byte());
        self.bytes(n)
    }

    /// Whatever is left.
    pub fn rest(&mut self) -> &'a [u8] {
        self.bytes(self.data.len())
    }
}
