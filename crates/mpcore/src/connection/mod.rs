//! `multiprocessing.connection` for Rust: framed byte messages over a file descriptor.

pub mod frame;
