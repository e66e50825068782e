//! CPython's framing as a plain model: what a receiver must get from a byte stream.

/// How reading a stream ends, by CPython's rules (`Connection._recv_bytes` and `_recv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The bytes so far end between or inside frames, and more may come.
    NeedMore,
    /// End of file where a read got no byte at all: `EOFError`.
    Eof,
    /// End of file inside a read: "got end of file during message".
    EofInMessage,
    /// A frame announced more than `maxlength`: "bad message length" (payload left unread).
    BadMessageLength,
}

/// The messages in `stream`, each checked against `maxlength`, and how the stream ends
/// (`eof`: nothing follows these bytes).
pub fn parse(stream: &[u8], maxlength: Option<usize>, eof: bool) -> (Vec<Vec<u8>>, End) {
    let mut messages = Vec::new();
    let mut rest = stream;
    let at_end = |rest: &[u8], wanted: usize| -> Option<End> {
        match (rest.len(), eof) {
            (n, _) if n >= wanted => None,
            (_, false) => Some(End::NeedMore),
            // Each read (the 4-byte length, the 8-byte length, the payload) that gets no
            // byte raises EOFError; one cut short, the in-message error.
            (0, true) => Some(End::Eof),
            (_, true) => Some(End::EofInMessage),
        }
    };
    loop {
        if let Some(end) = at_end(rest, 4) {
            return (messages, end);
        }
        let short = i32::from_be_bytes(rest[..4].try_into().unwrap());
        rest = &rest[4..];
        let size = if short == -1 {
            if let Some(end) = at_end(rest, 8) {
                return (messages, end);
            }
            let long = u64::from_be_bytes(rest[..8].try_into().unwrap());
            rest = &rest[8..];
            long
        } else {
            u64::try_from(short).unwrap_or(0)
        };
        if maxlength.is_some_and(|max| size > max as u64) {
            return (messages, End::BadMessageLength);
        }
        if size == 0 {
            messages.push(Vec::new());
            continue;
        }
        let size = usize::try_from(size).unwrap_or(usize::MAX);
        if let Some(end) = at_end(rest, size) {
            return (messages, end);
        }
        messages.push(rest[..size].to_vec());
        rest = &rest[size..];
    }
}

/// `payload` framed as CPython frames it.
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut wire = if payload.len() <= 0x7fff_ffff {
        (payload.len() as u32).to_be_bytes().to_vec()
    } else {
        let mut escaped = (-1i32).to_be_bytes().to_vec();
        escaped.extend_from_slice(&(payload.len() as u64).to_be_bytes());
        escaped
    };
    wire.extend_from_slice(payload);
    wire
}
