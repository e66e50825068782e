//! The two examples, run as built binaries against stock CPython peers: `python_client`
//! against a Python `Listener`, `python_lock` against a Python `multiprocessing.Lock`.
//!
//! Cargo offers no `CARGO_BIN_EXE_*` for examples, so the test asks cargo to build them (a
//! no-op when `cargo test` already has) and reads the binaries' paths from its JSON messages:
//! the example that runs is exactly the one a user runs, argument parsing included.
//!
//! Needs stock CPython 3.11 and 3.13 from pyenv (fails, never skips, without them), as every
//! `cpython_*.rs` test does.

#![cfg(unix)]

mod support;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use support::{pattern, Peer, KEY, SIZES, WRONG_KEY};

/// The path of the built example `name`.
fn example(name: &str) -> PathBuf {
    static BUILT: OnceLock<String> = OnceLock::new();
    let messages = BUILT.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
        let output = Command::new(cargo)
            .args(["build", "--quiet", "-p", "mpcore", "--examples"])
            .arg("--message-format=json")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("cannot run cargo to build the examples");
        assert!(
            output.status.success(),
            "building the examples failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    });
    let target = format!("\"name\":\"{name}\"");
    messages
        .lines()
        .filter(|line| line.contains("\"compiler-artifact\"") && line.contains(&target))
        .find_map(|line| {
            let start = line.find("\"executable\":\"")? + "\"executable\":\"".len();
            let end = start + line[start..].find('"')?;
            Some(PathBuf::from(&line[start..end]))
        })
        .unwrap_or_else(|| panic!("cargo did not report an executable for example {name}"))
}

fn run(command: &mut Command) -> (Output, String) {
    let output = command.output().expect("cannot run the example");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    (output, stdout)
}

fn python_client_echoes_through_a_stock_listener(version: &str) {
    let mut listener = Peer::python(version, "peer.py", &["listen", "inet", &hex::encode(KEY)]);
    let line = listener.line();
    let address = line
        .strip_prefix("address inet ")
        .unwrap_or_else(|| panic!("{line}"))
        .replace(' ', ":");
    let sizes = SIZES.map(|n| n.to_string()).join(",");
    let (output, stdout) = run(Command::new(example("python_client"))
        .args([&address, "--sizes", &sizes])
        .env("MPCORE_AUTHKEY_HEX", hex::encode(KEY)));
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!("connecting to {address} (with authkey)")),
        "{stdout}"
    );
    for size in SIZES {
        assert!(
            stdout.contains(&format!("sent {size} bytes, received {size} bytes: intact")),
            "{stdout}"
        );
    }
    let expected = format!("received {}", SIZES.map(|n| n.to_string()).join(" "));
    assert_eq!(
        listener.line(),
        expected,
        "the Python side checked every payload"
    );
    assert_eq!(pattern(3), [3, 4, 5], "the payloads the example generates");
}

fn python_client_reports_a_wrong_key(version: &str) {
    let mut listener = Peer::python(version, "peer.py", &["listen", "inet", &hex::encode(KEY)]);
    let line = listener.line();
    let address = line
        .strip_prefix("address inet ")
        .unwrap()
        .replace(' ', ":");
    let start = Instant::now();
    let (output, stdout) = run(Command::new(example("python_client"))
        .arg(&address)
        .env("MPCORE_AUTHKEY_HEX", hex::encode(WRONG_KEY)));
    assert_eq!(output.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains("authentication failed: the peer rejected our answer"),
        "{stdout}"
    );
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(listener.line().ends_with("digest received was wrong"));
}

#[test]
fn python_client_with_stock_3_11() {
    python_client_echoes_through_a_stock_listener("3.11");
    python_client_reports_a_wrong_key("3.11");
}

#[test]
fn python_client_with_stock_3_13() {
    python_client_echoes_through_a_stock_listener("3.13");
    python_client_reports_a_wrong_key("3.13");
}

#[test]
fn python_lock_excludes_and_is_excluded_by_a_stock_3_13_lock() {
    let mut python = Peer::python("3.13", "lock_holder.py", &[]);
    let line = python.line();
    let name = line
        .strip_prefix("name ")
        .unwrap_or_else(|| panic!("{line}"))
        .to_owned();
    assert!(name.starts_with("/mp-"), "{name}");
    let lock_example = || {
        let mut command = Command::new(example("python_lock"));
        command.arg(&name);
        command
    };

    // Python holds the lock: Rust times out.
    python.send_line("acquire");
    assert_eq!(python.line(), "ok");
    let start = Instant::now();
    let (output, stdout) = run(lock_example().args(["--timeout", "0.3"]));
    assert_eq!(output.status.code(), Some(2), "{stdout}");
    assert!(
        stdout.contains(&format!("timed out waiting for {name}")),
        "{stdout}"
    );
    assert!(start.elapsed() >= Duration::from_millis(300));

    // Python releases it: Rust takes and releases it.
    python.send_line("release");
    assert_eq!(python.line(), "ok");
    let (output, stdout) = run(lock_example().args(["--timeout", "5"]));
    assert!(output.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!("acquired {name}"))
            && stdout.contains(&format!("released {name}"))
    );

    // Rust holds it: Python cannot take it until Rust lets go.
    let mut holder = Peer::spawn(lock_example().args(["--hold", "1.5"]));
    assert!(holder.line().starts_with("opened"));
    assert_eq!(holder.line(), format!("acquired {name}"));
    python.send_line("try");
    assert_eq!(python.line(), "False");
    assert_eq!(holder.line(), format!("released {name}"));
    assert_eq!(holder.wait(), Some(0));
    python.send_line("try");
    assert_eq!(python.line(), "True");
    assert_eq!(python.wait(), Some(0));
}
