//! The message framing of `multiprocessing.connection`, as pure functions: no I/O here.
//!
//! Every message is a 4-byte big-endian *signed* length followed by the payload. A payload longer
//! than `0x7fffffff` bytes is announced with the length `-1` followed by its real length as an
//! 8-byte big-endian unsigned integer (CPython 3.8+). Receivers accept that escape for any length,
//! and treat any other negative length as an empty message.

/// The largest payload announced with the plain 4-byte header (`i32::MAX`).
pub const MAX_SHORT_PAYLOAD: u64 = 0x7fff_ffff;

/// The largest payload sent in the same write as its header. Above this the payload goes out in
/// a write of its own (it is big enough that Nagle's algorithm does not delay it, and copying it
/// next to the header would cost more than a second system call). CPython bpo-20540.
pub const MAX_COALESCED_PAYLOAD: usize = 16384;

/// The longest header: the `-1` escape plus an 8-byte length.
pub const MAX_HEADER_LEN: usize = 12;

/// The 4-byte length that announces an 8-byte length to follow.
const ESCAPE: [u8; 4] = (-1i32).to_be_bytes();

/// An encoded header: 4 bytes, or 12 for payloads over [`MAX_SHORT_PAYLOAD`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    bytes: [u8; MAX_HEADER_LEN],
    len: usize,
}

impl Header {
    /// The header for a payload of `payload_len` bytes.
    pub fn for_payload(payload_len: u64) -> Self {
        let mut bytes = [0; MAX_HEADER_LEN];
        if payload_len <= MAX_SHORT_PAYLOAD {
            // The range check above makes the conversion lossless.
            bytes[..4].copy_from_slice(&(payload_len as u32).to_be_bytes());
            Header { bytes, len: 4 }
        } else {
            bytes[..4].copy_from_slice(&ESCAPE);
            bytes[4..].copy_from_slice(&payload_len.to_be_bytes());
            Header {
                bytes,
                len: MAX_HEADER_LEN,
            }
        }
    }

    /// The bytes to put on the wire.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Whether a payload of `payload_len` bytes goes out in one write together with its header
/// (see [`MAX_COALESCED_PAYLOAD`]). This also keeps an empty message from becoming a lone
/// header write that could race a peer's close into `EPIPE`.
pub fn coalesce_with_header(payload_len: usize) -> bool {
    payload_len <= MAX_COALESCED_PAYLOAD
}

/// Decodes a header as its bytes arrive, one read at a time.
///
/// Feed it exactly [`wanted`](Self::wanted) bytes at most; it never needs to look past the
/// header, so the reader never consumes payload bytes early.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeaderDecoder {
    bytes: [u8; MAX_HEADER_LEN],
    filled: usize,
}

impl HeaderDecoder {
    /// A decoder that has seen nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many header bytes have arrived so far.
    pub fn received(&self) -> usize {
        self.filled
    }

    /// How many more bytes the header needs: 0 once it is complete.
    pub fn wanted(&self) -> usize {
        self.target_len() - self.filled
    }

    /// Takes from the front of `input` the bytes the header still needs and returns how many it
    /// took: up to [`wanted`](Self::wanted), and when those complete the escape, up to the 8
    /// bytes of the long length too. Never a byte past the header.
    pub fn feed(&mut self, input: &[u8]) -> usize {
        let mut taken = 0;
        // Two rounds at most: the 4-byte length, then the 8-byte one if it was the escape.
        while taken < input.len() && self.wanted() > 0 {
            let n = self.wanted().min(input.len() - taken);
            self.bytes[self.filled..self.filled + n].copy_from_slice(&input[taken..taken + n]);
            self.filled += n;
            taken += n;
        }
        taken
    }

    /// The announced payload length once the header is complete. Negative lengths other than
    /// the escape announce an empty payload, as in CPython.
    pub fn payload_len(&self) -> Option<u64> {
        if self.wanted() > 0 {
            return None;
        }
        if self.is_escaped() {
            let mut long = [0; 8];
            long.copy_from_slice(&self.bytes[4..MAX_HEADER_LEN]);
            return Some(u64::from_be_bytes(long));
        }
        let short =
            i32::from_be_bytes([self.bytes[0], self.bytes[1], self.bytes[2], self.bytes[3]]);
        Some(u64::try_from(short).unwrap_or(0))
    }

    /// Whether an end of file right now is a clean one, by CPython's rule: each read (the
    /// 4-byte length, then the 8-byte length) that gets no byte at all raises `EOFError`; one
    /// that ends part-way raises "got end of file during message".
    pub fn at_read_boundary(&self) -> bool {
        self.filled == 0 || (self.filled == 4 && self.is_escaped())
    }

    fn is_escaped(&self) -> bool {
        self.filled >= 4 && self.bytes[..4] == ESCAPE
    }

    fn target_len(&self) -> usize {
        if self.is_escaped() {
            MAX_HEADER_LEN
        } else {
            4
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> (Option<u64>, usize) {
        let mut decoder = HeaderDecoder::new();
        let taken = decoder.feed(bytes);
        (decoder.payload_len(), taken)
    }

    #[test]
    fn byte_examples_from_the_spec() {
        assert_eq!(Header::for_payload(3).as_bytes(), [0, 0, 0, 3]);
        assert_eq!(Header::for_payload(0).as_bytes(), [0, 0, 0, 0]);
        assert_eq!(
            Header::for_payload(0x7fff_ffff).as_bytes(),
            [0x7f, 0xff, 0xff, 0xff]
        );
        assert_eq!(
            Header::for_payload(0x8000_0001).as_bytes(),
            [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0x80, 0, 0, 1]
        );
    }

    #[test]
    fn the_escape_is_accepted_for_small_payloads() {
        let wire = [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 5, b'h', b'e'];
        assert_eq!(
            decode(&wire),
            (Some(5), 12),
            "stops at the end of the header"
        );
    }

    #[test]
    fn negative_lengths_other_than_the_escape_announce_an_empty_payload() {
        for wire in [[0xff, 0xff, 0xff, 0xfe], [0x80, 0, 0, 0]] {
            assert_eq!(decode(&[&wire[..], b"abc"].concat()), (Some(0), 4));
        }
    }

    #[test]
    fn a_header_may_arrive_one_byte_at_a_time() {
        let wire = Header::for_payload(1 << 40);
        let mut decoder = HeaderDecoder::new();
        for (i, byte) in wire.as_bytes().iter().enumerate() {
            assert_eq!(decoder.payload_len(), None, "incomplete after {i} bytes");
            assert_eq!(decoder.wanted(), if i < 4 { 4 - i } else { 12 - i });
            assert_eq!(decoder.feed(std::slice::from_ref(byte)), 1);
        }
        assert_eq!(decoder.payload_len(), Some(1 << 40));
        assert_eq!(
            decoder.feed(b"more"),
            0,
            "a complete header takes nothing more"
        );
    }

    #[test]
    fn clean_end_of_file_only_between_reads() {
        let mut decoder = HeaderDecoder::new();
        assert!(decoder.at_read_boundary());
        decoder.feed(&[0xff, 0xff]);
        assert!(!decoder.at_read_boundary());
        decoder.feed(&[0xff, 0xff]);
        assert!(
            decoder.at_read_boundary(),
            "the 8-byte length is a read of its own"
        );
        decoder.feed(&[0]);
        assert!(!decoder.at_read_boundary());

        let mut short = HeaderDecoder::new();
        short.feed(&[0, 0, 0]);
        assert!(!short.at_read_boundary());
    }

    #[test]
    fn coalescing_stops_above_16384() {
        assert!(coalesce_with_header(0));
        assert!(coalesce_with_header(16384));
        assert!(!coalesce_with_header(16385));
    }
}
