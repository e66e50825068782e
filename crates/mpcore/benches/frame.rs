//! Frame headers: encoding and decoding the length prefix of `multiprocessing.connection`.
//!
//! Pure functions, no I/O: these rows are the floor under every send and receive. The lengths
//! are a small message, the largest one coalesced with its header (16 KiB), and one over
//! 2 GiB, which needs the 12-byte escaped header.
//!
//! Run with `cargo bench -p mpcore --features bench --bench frame` (or `make rust-bench`).

use divan::{black_box, Bencher};
use mpcore::frame::{Header, HeaderDecoder};

fn main() {
    divan::main();
}

/// 64 B, 16 KiB (4-byte header), 3 GiB (over `i32::MAX`: the `-1` escape and an 8-byte length).
const LENGTHS: [u64; 3] = [64, 16 * 1024, 3 << 30];

#[divan::bench(args = LENGTHS)]
fn encode(len: u64) -> Header {
    Header::for_payload(black_box(len))
}

/// Feeds a whole header at once, as when it arrives in one read.
#[divan::bench(args = LENGTHS)]
fn decode(bencher: Bencher, len: u64) {
    let header = Header::for_payload(len);
    bencher.bench_local(|| {
        let mut decoder = HeaderDecoder::new();
        decoder.feed(black_box(header.as_bytes()));
        decoder.payload_len()
    });
}

/// What the receive path does: the 4-byte read, then (escaped only) the 8-byte read.
#[divan::bench(args = LENGTHS)]
fn decode_in_reads(bencher: Bencher, len: u64) {
    let header = Header::for_payload(len);
    let bytes = header.as_bytes();
    bencher.bench_local(|| {
        let mut decoder = HeaderDecoder::new();
        let mut offset = 0;
        while decoder.wanted() > 0 {
            let wanted = decoder.wanted();
            offset += decoder.feed(black_box(&bytes[offset..offset + wanted]));
        }
        decoder.payload_len()
    });
}

/// Encode then decode: one header's round trip through the wire format.
#[divan::bench(args = LENGTHS)]
fn round_trip(len: u64) -> Option<u64> {
    let header = Header::for_payload(black_box(len));
    let mut decoder = HeaderDecoder::new();
    decoder.feed(header.as_bytes());
    decoder.payload_len()
}
