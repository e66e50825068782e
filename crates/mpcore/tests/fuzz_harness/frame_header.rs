//! `HeaderDecoder` fed arbitrary bytes, split at arbitrary points, against the reference model;
//! and `Header::for_payload` decoded back.

use mpcore::frame::{Header, HeaderDecoder, MAX_HEADER_LEN};

use super::Input;

pub fn check(data: &[u8]) {
    let mut input = Input::new(data);
    let announced = input.u64();
    round_trip(announced);

    let mut decoder = HeaderDecoder::new();
    let mut consumed = Vec::new();
    while !input.is_empty() {
        let piece = input.chunk();
        let together = [&consumed[..], piece].concat();
        let to_header_end = header_len(&together).saturating_sub(consumed.len());
        let taken = decoder.feed(piece);
        assert_eq!(
            taken,
            to_header_end.min(piece.len()),
            "takes the header, never the payload"
        );
        consumed.extend_from_slice(&piece[..taken]);
        assert_eq!(decoder.received(), consumed.len());
        assert!(consumed.len() <= MAX_HEADER_LEN);
        if decoder.payload_len().is_some() {
            assert_eq!(decoder.wanted(), 0);
            assert_eq!(
                decoder.feed(piece),
                0,
                "a complete header takes nothing more"
            );
        }
    }
    let escaped = is_escaped(&consumed);
    match decoder.payload_len() {
        None => assert!(consumed.len() < header_len(&consumed)),
        Some(len) => {
            assert_eq!(consumed.len(), header_len(&consumed));
            let expected = if escaped {
                u64::from_be_bytes(consumed[4..12].try_into().unwrap())
            } else {
                u64::try_from(i32::from_be_bytes(consumed[..4].try_into().unwrap())).unwrap_or(0)
            };
            assert_eq!(len, expected);
        }
    }
    // A clean end of file only between CPython's reads: before the header, or after the escape.
    let boundary = consumed.is_empty() || (escaped && consumed.len() == 4);
    assert_eq!(decoder.at_read_boundary(), boundary);
}

fn is_escaped(bytes: &[u8]) -> bool {
    bytes.len() >= 4 && bytes[..4] == [0xff; 4]
}

/// The length of the header that starts `bytes`, as far as they tell.
fn header_len(bytes: &[u8]) -> usize {
    if is_escaped(bytes) {
        MAX_HEADER_LEN
    } else {
        4
    }
}

fn round_trip(len: u64) {
    let header = Header::for_payload(len);
    let bytes = header.as_bytes();
    assert_eq!(
        bytes.len(),
        if len <= 0x7fff_ffff {
            4
        } else {
            MAX_HEADER_LEN
        }
    );
    let mut decoder = HeaderDecoder::new();
    assert_eq!(decoder.feed(bytes), bytes.len());
    assert_eq!(decoder.payload_len(), Some(len));
}
