//! File-backed semaphores (Linux): for hosts where `sem_open` cannot work (no `/dev/shm`, or a
//! read-only or full one), the same semaphore as a small file in the private directory
//! (`private_dir.rs`), mapped `MAP_SHARED` by every process that opens it.
//!
//! # The shared word
//!
//! The file holds a header (a magic number that says what it is) and one 64-bit state word:
//! the value in the low 32 bits, the number of registered waiters in the high 32. Every change
//! is one atomic read-modify-write of that word, so a process killed at any instruction leaves
//! it consistent for the others:
//!
//! * `try_wait`: compare-and-swap `value - 1` while `value > 0`. No system call.
//! * `post`: compare-and-swap `value + 1` (refused at `SEM_VALUE_MAX`, `EOVERFLOW`, as glibc);
//!   then `FUTEX_WAKE` one waiter if the word counted any. No system call without waiters.
//! * `wait`: register (`waiters + 1`), then loop: if `value > 0`, take a unit *and* deregister
//!   in one compare-and-swap; else `FUTEX_WAIT` on the value half while it is 0. A timeout or a
//!   signal deregisters and returns.
//!
//! A waiter killed while registered leaves the waiter count one too high: posts then make a
//! wake-up call nobody needs (a system call each), but never lose or invent a unit. A process
//! killed while holding a unit takes it with it, exactly as with POSIX semaphores. This is
//! glibc's own design for `sem_t` (`nptl/sem_waitcommon.c`, 64-bit variant); the futexes are not
//! private because the word lives in a file mapping shared between processes.
//!
//! # Names and files
//!
//! A semaphore `/NAME` is the file `sem.NAME` in the private directory, as it would be
//! `/dev/shm/sem.NAME`. Creation writes the file under a temporary name, maps it, and only then
//! links it under its real name (`EEXIST` if taken): no process can open a half-made
//! semaphore. Unlinking removes the name; the mappings stay valid until each process drops its
//! own.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use super::backend::Waited;
use super::deadline::Deadline;
use super::file_sys::{futex_wait_low, futex_wake_low, FutexWake, SharedMapping, SharedWord};
use super::private_dir::{file_name, PrivateDir};
use crate::error::{Error, Result};

/// The first 8 bytes of every semaphore file: what it is and the layout version.
const MAGIC: u64 = u64::from_le_bytes(*b"MPRSsem1");
/// Where the state word is.
const STATE_OFFSET: usize = 8;
/// The size of a semaphore file.
const FILE_LEN: usize = 16;

const VALUE_MASK: u64 = 0xffff_ffff;
const ONE_WAITER: u64 = 1 << 32;

/// The largest value, as for POSIX semaphores on Linux (`SEM_VALUE_MAX`, `INT_MAX`).
const SEM_VALUE_MAX: u64 = i32::MAX as u64;

/// The file name prefix of semaphores, as in `/dev/shm`.
const PREFIX: &str = "sem.";

/// One open file-backed semaphore: this process's mapping of its file.
#[derive(Debug)]
pub(crate) struct FileSemaphore {
    state: SharedWord,
}

fn value_of(state: u64) -> u64 {
    state & VALUE_MASK
}

fn waiters_of(state: u64) -> u64 {
    state >> 32
}

impl FileSemaphore {
    /// A new semaphore `name` holding `value` units: `EEXIST` if the name is taken, `EINVAL` if
    /// `value` is above `SEM_VALUE_MAX` (as `sem_open`).
    pub(crate) fn create(name: &str, value: u32) -> Result<Self> {
        if u64::from(value) > SEM_VALUE_MAX {
            return Err(Error::Os(io::Error::from_raw_os_error(libc::EINVAL)));
        }
        let final_name = file_name(PREFIX, name)?;
        let dir = PrivateDir::open(true)?;
        let (temp_name, file) = create_temporary(&dir)?;
        let made = (|| {
            let mut content = [0u8; FILE_LEN];
            content[..8].copy_from_slice(&MAGIC.to_ne_bytes());
            content[STATE_OFFSET..].copy_from_slice(&u64::from(value).to_ne_bytes());
            file.write_all_at(&content, 0)?;
            let map = SharedMapping::map(&file, FILE_LEN)?;
            dir.link(&temp_name, &final_name)?;
            Ok::<_, io::Error>(map)
        })();
        // The temporary name goes whatever happened; the file lives on under its real name and
        // in our mapping.
        let _ = dir.unlink(&temp_name);
        Ok(FileSemaphore {
            state: made?.into_word(STATE_OFFSET),
        })
    }

    /// The existing semaphore `name`: `ENOENT` if there is none, `EINVAL` if the file is not a
    /// semaphore of this layout.
    pub(crate) fn open(name: &str) -> Result<Self> {
        let file_name = file_name(PREFIX, name)?;
        let file = PrivateDir::open(false)?.open_file(&file_name, libc::O_RDWR, 0)?;
        let mut header = [0u8; 8];
        if file.metadata()?.len() < FILE_LEN as u64
            || file.read_exact_at(&mut header, 0).is_err()
            || u64::from_ne_bytes(header) != MAGIC
        {
            return Err(Error::Os(io::Error::from_raw_os_error(libc::EINVAL)));
        }
        Ok(FileSemaphore {
            state: SharedMapping::map(&file, FILE_LEN)?.into_word(STATE_OFFSET),
        })
    }

    /// Removes the name `name`: `ENOENT` if there is none, and for a name that cannot exist (as
    /// glibc's `sem_unlink` answers those).
    pub(crate) fn unlink(name: &str) -> Result<()> {
        let file_name =
            file_name(PREFIX, name).map_err(|_| io::Error::from_raw_os_error(libc::ENOENT))?;
        Ok(PrivateDir::open(false)?.unlink(&file_name)?)
    }

    /// The address of this process's mapping: the semaphore's handle.
    pub(crate) fn handle(&self) -> usize {
        self.state.mapping_addr()
    }

    #[inline]
    fn state(&self) -> &AtomicU64 {
        self.state.get()
    }

    /// Takes a unit if there is one, without a system call.
    #[inline]
    pub(crate) fn try_wait(&self) -> bool {
        let state = self.state();
        let mut current = state.load(Ordering::Relaxed);
        while value_of(current) > 0 {
            match state.compare_exchange_weak(
                current,
                current - 1,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(seen) => current = seen,
            }
        }
        false
    }

    /// Waits for a unit until `deadline` (`None`: no limit). `TimedOut` once the deadline has
    /// passed without one, `Err(Interrupted)` on a signal, as `sem_timedwait`.
    pub(crate) fn wait(&self, deadline: Option<Deadline>) -> Result<Waited> {
        if self.try_wait() {
            return Ok(Waited::Acquired);
        }
        let state = self.state();
        let mut current = state.fetch_add(ONE_WAITER, Ordering::Relaxed) + ONE_WAITER;
        loop {
            if value_of(current) > 0 {
                // Take the unit and stop being a waiter in one step.
                let next = if waiters_of(current) > 0 {
                    current - 1 - ONE_WAITER
                } else {
                    current - 1 // our registration was lost: nothing to take back
                };
                match state.compare_exchange_weak(
                    current,
                    next,
                    Ordering::Acquire,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return Ok(Waited::Acquired),
                    Err(seen) => {
                        current = seen;
                        continue;
                    }
                }
            }
            let woke = futex_wait_low(state, 0, deadline);
            match woke {
                Ok(FutexWake::Woken) | Ok(FutexWake::Changed) => {}
                Ok(FutexWake::TimedOut) => {
                    self.stop_waiting();
                    return Ok(Waited::TimedOut);
                }
                Err(err) => {
                    self.stop_waiting();
                    return Err(Error::from_os(err));
                }
            }
            current = state.load(Ordering::Relaxed);
        }
    }

    /// Deregisters a waiter that leaves without a unit. Never takes the count below zero (it
    /// cannot be, unless another process wrote the word by other means).
    fn stop_waiting(&self) {
        let state = self.state();
        let mut current = state.load(Ordering::Relaxed);
        while waiters_of(current) > 0 {
            match state.compare_exchange_weak(
                current,
                current - ONE_WAITER,
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => return,
                Err(seen) => current = seen,
            }
        }
    }

    /// Adds a unit and wakes one waiter if there is any. `EOVERFLOW` at `SEM_VALUE_MAX`, as
    /// glibc's `sem_post`.
    #[inline]
    pub(crate) fn post(&self) -> Result<()> {
        let state = self.state();
        let mut current = state.load(Ordering::Relaxed);
        loop {
            if value_of(current) >= SEM_VALUE_MAX {
                return Err(overflow());
            }
            match state.compare_exchange_weak(
                current,
                current + 1,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(seen) => current = seen,
            }
        }
        if waiters_of(current) > 0 {
            wake_one(state);
        }
        Ok(())
    }

    /// The current value.
    #[inline]
    pub(crate) fn value(&self) -> i32 {
        value_of(self.state().load(Ordering::Relaxed)) as i32
    }
}

/// `EOVERFLOW`, out of line: the fast path of `post` stays small enough to inline.
#[cold]
#[inline(never)]
fn overflow() -> Error {
    Error::Os(io::Error::from_raw_os_error(libc::EOVERFLOW))
}

/// Wakes one waiter, out of line: only posts that find waiters get here.
#[cold]
#[inline(never)]
fn wake_one(state: &AtomicU64) {
    // The unit is posted whatever the wake says: FUTEX_WAKE fails only for an address that is
    // not ours, which a live mapping's is.
    let _ = futex_wake_low(state, 1);
}

/// A new, empty file under a temporary name of this process (`.tmp-sem-PID-N`, which no name
/// of a semaphore can clash with: those begin `sem.`).
fn create_temporary(dir: &PrivateDir) -> io::Result<(CString, File)> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = CString::new(format!(".tmp-sem-{}-{n}", std::process::id()))
            .expect("no NUL in a formatted number");
        match dir.open_file(&name, libc::O_RDWR | libc::O_CREAT | libc::O_EXCL, 0o600) {
            // Left by a process that had our pid before and died mid-creation.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
            Ok(file) => return Ok((name, file)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_value_and_waiter_halves_are_separate() {
        let state = 5 * ONE_WAITER + 7;
        assert_eq!(value_of(state), 7);
        assert_eq!(waiters_of(state), 5);
        assert_eq!(value_of(SEM_VALUE_MAX + 3 * ONE_WAITER), SEM_VALUE_MAX);
    }

    #[test]
    fn header_is_the_magic_then_the_state() {
        assert_eq!(&MAGIC.to_le_bytes(), b"MPRSsem1");
        assert_eq!(STATE_OFFSET + 8, FILE_LEN);
    }
}
