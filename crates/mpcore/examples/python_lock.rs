//! Takes and releases a `multiprocessing.Lock` that a Python process created.
//!
//! In Python (a spawn-context lock is a named POSIX semaphore that stays open by name):
//!
//! ```text
//! >>> import multiprocessing as mp
//! >>> lock = mp.get_context("spawn").Lock()
//! >>> lock._semlock.name
//! '/mp-k2n1q8xz'
//! ```
//!
//! then `cargo run --example python_lock -- /mp-k2n1q8xz --hold 5`: while the Rust process holds
//! the lock, `lock.acquire(False)` in Python returns `False`.
//!
//! Usage: `python_lock NAME [--timeout SECS] [--hold SECS]`: waits for the lock (at most
//! `--timeout`), holds it `--hold` seconds (default 0), releases it.
//!
//! Exit status: 0 after releasing, 2 if the lock could not be had in time, 1 on an error.

use std::process::ExitCode;
use std::time::Duration;

use mpcore::{Kind, SemLock};

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(2),
        Err(err) => {
            println!("error: {err}");
            ExitCode::from(1)
        }
    }
}

fn run() -> Result<bool, Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let name = args.next().ok_or(USAGE)?;
    let (mut timeout, mut hold) = (None, Duration::ZERO);
    while let Some(flag) = args.next() {
        let seconds: f64 = args.next().ok_or(USAGE)?.parse()?;
        match flag.as_str() {
            "--timeout" => timeout = Some(Duration::try_from_secs_f64(seconds)?),
            "--hold" => hold = Duration::try_from_secs_f64(seconds)?,
            _ => return Err(USAGE.into()),
        }
    }

    // A Python `Lock` is a SemLock of kind SEMAPHORE with maxvalue 1.
    let lock = SemLock::open(&name, Kind::Semaphore, 1)?;
    println!("opened {name} (value {})", lock.value()?);
    let acquired = match timeout {
        Some(timeout) => lock.acquire_timeout(timeout)?,
        None => {
            lock.acquire()?;
            true
        }
    };
    if !acquired {
        println!("timed out waiting for {name}");
        return Ok(false);
    }
    println!("acquired {name}");
    std::thread::sleep(hold);
    lock.release()?;
    println!("released {name}");
    Ok(true)
}

const USAGE: &str = "usage: python_lock NAME [--timeout SECS] [--hold SECS]";
