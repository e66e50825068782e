//! Property tests of the header encoding: every length, including those over 2 GiB (headers
//! only, no payload is ever allocated), survives encode then decode, in any split.

#![cfg(unix)]

use mpcore::frame::{Header, HeaderDecoder, MAX_SHORT_PAYLOAD};
use proptest::prelude::*;

fn decode_in_pieces(wire: &[u8], split: usize) -> (Option<u64>, usize) {
    let mut decoder = HeaderDecoder::new();
    let split = split.min(wire.len());
    let mut taken = decoder.feed(&wire[..split]);
    taken += decoder.feed(&wire[split..]);
    (decoder.payload_len(), taken)
}

fn any_length() -> impl Strategy<Value = u64> {
    prop_oneof![
        0..=MAX_SHORT_PAYLOAD,
        (MAX_SHORT_PAYLOAD - 2)..=(MAX_SHORT_PAYLOAD + 2),
        (MAX_SHORT_PAYLOAD + 1)..=u64::MAX,
        Just(u64::MAX),
    ]
}

proptest! {
    #[test]
    fn every_length_round_trips(len in any_length(), split in 0usize..16, trailing in any::<Vec<u8>>()) {
        let header = Header::for_payload(len);
        let expected_len = if len <= MAX_SHORT_PAYLOAD { 4 } else { 12 };
        prop_assert_eq!(header.as_bytes().len(), expected_len);
        // Whatever follows the header (the payload) is never taken by the decoder.
        let wire = [header.as_bytes(), &trailing].concat();
        prop_assert_eq!(decode_in_pieces(&wire, split), (Some(len), expected_len));
    }

    #[test]
    fn short_headers_are_the_big_endian_signed_length(len in 0..=MAX_SHORT_PAYLOAD) {
        let header = Header::for_payload(len);
        prop_assert_eq!(header.as_bytes(), (len as i32).to_be_bytes());
    }

    #[test]
    fn the_escape_decodes_for_any_length(len in any::<u64>()) {
        let wire = [&(-1i32).to_be_bytes()[..], &len.to_be_bytes()].concat();
        prop_assert_eq!(decode_in_pieces(&wire, 5), (Some(len), 12));
    }

    #[test]
    fn other_negative_lengths_decode_as_empty(n in i32::MIN..-1) {
        prop_assert_eq!(decode_in_pieces(&n.to_be_bytes(), 2), (Some(0), 4));
    }
}
