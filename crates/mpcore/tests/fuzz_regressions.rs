//! Every input kept in `tests/fuzz_regressions/<target>/` (crashes the fuzzers found, and a few
//! seeds that reach deep into each check) replayed through the checks the `cargo fuzz`
//! targets run (`tests/fuzz_harness/`). Keeps both the findings fixed and the checks compiling
//! and passing on stable, where the fuzz crate is not built.

#![cfg(unix)]

mod fuzz_harness;

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_regressions")
        .join(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "no inputs in {}", dir.display());
    for path in inputs {
        let data = std::fs::read(&path).unwrap();
        let result = std::panic::catch_unwind(|| check(&data));
        assert!(result.is_ok(), "{} fails its check", path.display());
    }
}

/// One test per fuzz target, named after it: replays `tests/fuzz_regressions/<target>/` through
/// `fuzz_harness::<target>::check`.
macro_rules! replay_tests {
    ($($target:ident),* $(,)?) => {$(
        #[test]
        fn $target() {
            replay(stringify!($target), fuzz_harness::$target::check);
        }
    )*};
}

replay_tests!(frame_header, recv_stream, handshake, auth_messages);
