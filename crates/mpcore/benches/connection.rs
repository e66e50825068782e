//! `Connection` send and receive over a socketpair (`mpcore::pipe(true)`, CPython's duplex
//! `Pipe()`), with a second thread as the peer.
//!
//! * `send`: this thread sends, the peer receives and drops each message (one-way throughput,
//!   limited by the slower side once the socket buffer is full).
//! * `recv`: the peer sends, this thread receives (`recv_bytes`, a fresh `Vec` per message,
//!   dropped at once: returned to divan, a whole sample's worth of messages would stay alive,
//!   and every 1 MiB `Vec` would be fresh memory to fault in).
//! * `recv_into`: as `recv`, but into one reused buffer (`RecvState::recv_header` +
//!   `recv_payload_into`, what the Python binding does), so no allocation per message.
//! * `round_trip_64`: send 64 bytes, wait for the peer's 64-byte echo.
//!
//! Each sample is 32 messages (or round trips), measured after a few unmeasured ones have got
//! the peer thread running: left to size its samples from the first, cold call, divan would
//! time single messages.
//!
//! Run with `cargo bench -p mpcore --features bench --bench connection` (or `make rust-bench`).

#[cfg(unix)]
fn main() {
    divan::main();
}

/// `Connection` is POSIX-only.
#[cfg(not(unix))]
fn main() {}

#[cfg(unix)]
mod unix {
    use std::mem::MaybeUninit;
    use std::thread::{self, JoinHandle};

    use divan::counter::BytesCount;
    use divan::Bencher;
    use mpcore::{pipe, Connection, Error, RecvState};

    /// 64 B, 4 KiB, 1 MiB payloads.
    const SIZES: [usize; 3] = [64, 4 * 1024, 1024 * 1024];

    /// Messages per sample.
    const SAMPLE_SIZE: u32 = 32;

    /// Unmeasured messages first.
    const WARM_UP: usize = 64;

    /// Runs `op` [`WARM_UP`] times, then hands it to divan.
    fn warmed_up<O>(mut op: impl FnMut() -> O) -> impl FnMut() -> O {
        for _ in 0..WARM_UP {
            divan::black_box(op());
        }
        op
    }

    /// Runs `peer` on the other end of a fresh socketpair; returns this end and the thread.
    fn with_peer(peer: impl FnOnce(Connection) + Send + 'static) -> (Connection, JoinHandle<()>) {
        let (here, there) = pipe(true).expect("socketpair");
        (here, thread::spawn(move || peer(there)))
    }

    /// A peer that sends `message` until this end goes away (`BrokenPipe` or a reset).
    fn sender(message: Vec<u8>) -> impl FnOnce(Connection) + Send + 'static {
        move |conn| while conn.send_bytes(&message).is_ok() {}
    }

    #[divan::bench(args = SIZES, sample_size = SAMPLE_SIZE)]
    fn send(bencher: Bencher, len: usize) {
        let (conn, peer) = with_peer(|conn| while conn.recv_bytes(None).is_ok() {});
        let message = vec![0x5a; len];
        bencher
            .counter(BytesCount::new(len))
            .bench_local(warmed_up(|| conn.send_bytes(&message).expect("send_bytes")));
        drop(conn); // the peer's next receive is end of file
        peer.join().expect("peer thread");
    }

    #[divan::bench(args = SIZES, sample_size = SAMPLE_SIZE)]
    fn recv(bencher: Bencher, len: usize) {
        let (conn, peer) = with_peer(sender(vec![0x5a; len]));
        bencher
            .counter(BytesCount::new(len))
            .bench_local(warmed_up(|| {
                conn.recv_bytes(None).expect("recv_bytes").len()
            }));
        drop(conn); // the peer's next send fails
        peer.join().expect("peer thread");
    }

    #[divan::bench(args = SIZES, sample_size = SAMPLE_SIZE)]
    fn recv_into(bencher: Bencher, len: usize) {
        let (conn, peer) = with_peer(sender(vec![0x5a; len]));
        let fd = conn.as_fd().expect("open");
        let mut state = RecvState::new();
        let mut buf = vec![MaybeUninit::<u8>::uninit(); len];
        bencher
            .counter(BytesCount::new(len))
            .bench_local(warmed_up(|| {
                let n = state.recv_header(fd, None).expect("recv_header");
                assert_eq!(n, len);
                state
                    .recv_payload_into(fd, &mut buf[..n])
                    .expect("recv_payload_into");
            }));
        drop(conn);
        peer.join().expect("peer thread");
    }

    /// 64 bytes there and back: two sends, two receives, two thread wake-ups.
    #[divan::bench(sample_size = SAMPLE_SIZE)]
    fn round_trip_64(bencher: Bencher) {
        let (conn, peer) = with_peer(|conn| loop {
            match conn.recv_bytes(None) {
                Ok(message) => conn.send_bytes(&message).expect("echo"),
                Err(Error::Eof) => break,
                Err(err) => panic!("peer: {err}"),
            }
        });
        let message = [0x5a; 64];
        bencher.bench_local(warmed_up(|| {
            conn.send_bytes(&message).expect("send_bytes");
            conn.recv_bytes(None).expect("recv_bytes").len()
        }));
        drop(conn);
        peer.join().expect("peer thread");
    }
}
