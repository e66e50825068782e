//! Shared by the tests that run stock CPython peers (the `cpython_*.rs` files): finding the pyenv
//! interpreters, running a peer script (`tests/python/`) with a bounded wait for each line it
//! prints, the payloads both sides check.

#![allow(dead_code)] // each test binary uses its own part

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

/// The sizes every interop test sends both ways: empty, one byte, the largest payload that
/// shares a write with its header, the smallest that does not, and several MiB.
pub const SIZES: [usize; 5] = [0, 1, 16384, 16385, 5 * 1024 * 1024 + 7];

/// `SIZES` as the peer scripts take them.
pub fn sizes_arg() -> String {
    SIZES.map(|n| n.to_string()).join(",")
}

/// The payload of `size` bytes the peers generate and check: byte `i` is `(i + size) % 251`.
pub fn pattern(size: usize) -> Vec<u8> {
    (0..size).map(|i| ((i + size) % 251) as u8).collect()
}

/// The authkey of the tests, and a wrong one.
pub const KEY: &[u8] = b"mpcore interop key \x00\xff";
pub const WRONG_KEY: &[u8] = b"not the key";

/// The stock interpreter of CPython `version` ("3.11") from pyenv. Fails the test, never skips
/// it, when the interpreter is missing.
pub fn python(version: &str) -> PathBuf {
    let root = Command::new("pyenv")
        .arg("root")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".pyenv")))
        .expect("neither `pyenv root` nor $HOME is available");
    let mut found: Vec<PathBuf> = std::fs::read_dir(root.join("versions"))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| {
            entry
                .file_name()
                .to_string_lossy()
                .starts_with(&format!("{version}."))
        })
        .map(|entry| entry.path().join("bin").join(format!("python{version}")))
        .filter(|path| path.exists())
        .collect();
    found.sort();
    found.pop().unwrap_or_else(|| {
        panic!(
            "stock CPython {version} is required for this test and was not found under {}/versions \
             (install it with `pyenv install {version}`)",
            root.display()
        )
    })
}

/// The peer scripts of these tests.
pub fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(name)
}

/// A child process whose stdout lines arrive with a deadline. Killed (by its pid) and reaped
/// when dropped, so a failing test leaves nothing running.
pub struct Peer {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    name: String,
}

impl Peer {
    pub fn spawn(command: &mut Command) -> Self {
        let name = format!("{command:?}");
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        Peer {
            child,
            stdin,
            lines,
            name,
        }
    }

    /// A stock interpreter running `script` with `args`, in isolation from the environment
    /// (`-E`), so it is the stock `multiprocessing` whatever PYTHONPATH says.
    pub fn python(version: &str, script_name: &str, args: &[&str]) -> Self {
        let mut command = Command::new(python(version));
        command.arg("-E").arg(script(script_name)).args(args);
        Self::spawn(&mut command)
    }

    /// The next line the peer prints, waiting at most 30 s.
    pub fn line(&mut self) -> String {
        self.lines
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no output from {}", self.name))
    }

    pub fn send_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// Waits for the peer to exit on its own (at most 30 s) and returns its exit code.
    pub fn wait(mut self) -> Option<i32> {
        drop(self.stdin.take());
        for _ in 0..3000 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        panic!("{} did not exit", self.name);
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}
